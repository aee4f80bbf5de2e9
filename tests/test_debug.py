"""Debugging aids: detect_anomaly names the op, its inputs and the line of this file that
created a NaN/Inf, in forward and in backward; strict_shapes turns the course's advice
against rank-1 arrays and accidental broadcasts into errors with the reshape that fixes it."""
import inspect
import threading

import numpy as np
import pytest

import graphgrad as gg


def here(offset=1):
    """``file:line`` of the caller's line plus ``offset``."""
    frame = inspect.currentframe().f_back
    return f"{frame.f_code.co_filename}:{frame.f_lineno + offset}"


@pytest.fixture(autouse=True)
def quiet_numpy():
    with np.errstate(all="ignore"):
        yield


# -- detect_anomaly -------------------------------------------------------------------------------
def test_log_of_zero_times_zero_is_caught_at_the_log():
    x = gg.Tensor(np.array([0.0, 1.0]), requires_grad=True, name="x")
    with gg.detect_anomaly(), pytest.raises(gg.AnomalyError) as info:
        line = here()
        gg.log(x) * 0
    message = str(info.value)
    assert "Log produced Inf in forward" in message
    assert "'x' (2,) float64" in message and "min 0, max 1" in message
    assert f"created at {line}" in message
    assert "gg.log(x) * 0" in message  # the source text of that line
    assert "first at index (0,)" in message


def test_log_of_a_negative_number_names_the_op_that_made_its_input():
    x = gg.Tensor(np.array([0.5, 1.0]), requires_grad=True, name="x")
    with gg.detect_anomaly(), pytest.raises(gg.AnomalyError) as info:
        line = here()
        gg.log(x - 2)
    message = str(info.value)
    assert "Log produced NaN in forward" in message and "2 of 2 elements" in message
    assert "output of Sub (2,) float64" in message
    assert f"created at {line}" in message


def test_sqrt_at_zero_in_backward_gives_inf_and_is_caught():
    x = gg.Tensor(np.array([0.0, 4.0]), requires_grad=True, name="x")
    with gg.detect_anomaly():
        line = here()
        y = gg.sqrt(x)
        J = y.sum()
        with pytest.raises(gg.AnomalyError) as info:
            J.backward()
    message = str(info.value)
    assert "Sqrt produced Inf in backward" in message
    assert "gradient of input 0 ('x' (2,) float64)" in message
    assert f"created at {line}" in message
    assert "this op's backward made it" in message


def test_the_nan_mean_of_an_empty_batch_is_caught_and_explained():
    """The NaN is a documented value (0/0, as in PyTorch); the general causes (log of 0, a
    learning rate) did not name the empty axis."""
    X = gg.Tensor(np.ones((0, 3)), requires_grad=True, name="X")
    with gg.detect_anomaly(), pytest.raises(gg.AnomalyError) as info:
        gg.mean(X * 2.0, axis=0)
    lines = str(info.value).splitlines()
    assert lines[0] == ("detect_anomaly: Mean produced NaN in forward, in output 0 (3 of 3 "
                        "elements, first at index (0,)).")
    assert lines[-1] == ("  Cause: a mean over an axis of length 0 is 0/0, NaN; was the batch "
                         "empty (m = 0)?")
    infinities = gg.Tensor([np.inf, -np.inf], requires_grad=True)
    with gg.detect_anomaly(), pytest.raises(gg.AnomalyError, match="Common causes: log"):
        gg.mean(infinities * 1.0)  # a NaN mean of some numbers: the usual causes


def test_a_non_finite_gradient_from_upstream_is_reported_as_such():
    class InfGrad(gg.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0

        @staticmethod
        def backward(ctx, grad):
            return grad * np.inf

    x = gg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    with gg.detect_anomaly():
        J = gg.exp(InfGrad.apply(x)).sum()
        with pytest.raises(gg.AnomalyError, match="InfGrad produced Inf in backward"):
            J.backward()
    with gg.detect_anomaly():
        J = (InfGrad.apply(x) * 2.0).sum()
        with pytest.raises(gg.AnomalyError, match="InfGrad"):
            J.backward()


def test_anomaly_mode_stays_quiet_on_finite_values_and_gives_the_same_gradients():
    x = gg.Tensor(np.array([0.5, 2.0]), requires_grad=True)
    with gg.detect_anomaly():
        (gg.log(x) * gg.sqrt(x)).sum().backward()
    expected = np.sqrt([0.5, 2.0]) / [0.5, 2.0] + np.log([0.5, 2.0]) / (2 * np.sqrt([0.5, 2.0]))
    np.testing.assert_allclose(x.grad, expected, rtol=1e-12)


def test_nan_without_detect_anomaly_passes_silently():
    x = gg.Tensor(np.array([0.0]), requires_grad=True)
    y = gg.log(x) * 0
    assert np.isnan(y.data).all()


def test_detect_anomaly_is_restored_after_the_block():
    x = gg.Tensor(np.array([-1.0]), requires_grad=True)
    with pytest.raises(gg.AnomalyError):
        with gg.detect_anomaly():
            gg.sqrt(x)
    assert np.isnan(gg.sqrt(x).data).all()


# -- strict_shapes --------------------------------------------------------------------------------
def T(shape, name):
    return gg.Tensor(np.ones(shape), requires_grad=True, name=name)


@pytest.mark.parametrize("left, right", [((5,), (5, 1)), ((5, 1), (5,))])
@pytest.mark.parametrize("op", [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a - b,
                                lambda a, b: a / b, gg.maximum],
                         ids=["add", "mul", "sub", "div", "maximum"])
def test_rank1_with_a_column_is_an_error_with_the_reshape(op, left, right):
    with gg.strict_shapes(), pytest.raises(gg.ShapeError) as info:
        op(T(left, "a"), T(right, "b"))
    message = str(info.value)
    assert f"'a' {left} float64" in message and f"'b' {right} float64" in message
    assert "(5, 5)" in message
    assert ".reshape(5, 1)" in message and ".reshape(1, 5)" in message


def test_column_times_row_is_an_error_naming_both_shapes():
    with gg.strict_shapes(), pytest.raises(gg.ShapeError) as info:
        T((3, 1), "col") * T((1, 4), "row")
    message = str(info.value)
    assert "Mul broadcasts 'col' (3, 1) float64 with 'row' (1, 4) float64 into a (3, 4)" in message
    assert "gg.broadcast_to" in message


def test_column_with_a_row_of_the_same_length_suggests_the_reshape():
    with gg.strict_shapes(), pytest.raises(gg.ShapeError) as info:
        T((3, 1), "y_hat") - T((1, 3), "y")
    message = str(info.value)
    assert "(3, 3)" in message and ".reshape(3, 1)" in message


@pytest.mark.parametrize("left, right", [((5,), (5, 1)), ((3, 5), (5,)), ((5,), (5,)),
                                         ((5,), (5, 2))])
def test_rank1_meeting_matmul_is_an_error_with_the_reshape(left, right):
    with gg.strict_shapes(), pytest.raises(gg.ShapeError) as info:
        T(left, "W") @ T(right, "x")
    message = str(info.value)
    assert "MatMul got a rank-1 array" in message
    assert ".reshape(5, 1)" in message and ".reshape(1, 5)" in message


@pytest.mark.parametrize("left, right", [((4, 3), (3,)), ((4, 3), (4, 1)), ((4, 3), (1, 3)),
                                         ((4, 3), ()), ((), (4, 3)), ((4, 3), (4, 3)),
                                         ((2, 4, 3), (4, 3))])
def test_bias_and_scalar_broadcasting_is_allowed(left, right):
    with gg.strict_shapes():
        out = T(left, "Z") + T(right, "b")
        out = out * 2.0
        out = 1.0 - out
    assert out.shape == np.broadcast_shapes(left, right)


def test_allowed_ops_under_strict_shapes_give_the_usual_results():
    rng = np.random.default_rng(0)
    W = gg.Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    b = gg.Tensor(rng.standard_normal((4, 1)), requires_grad=True)
    X = rng.standard_normal((3, 5))
    with gg.strict_shapes():
        Z = W @ X + b
        J = (gg.tanh(Z) ** 2).mean()
        J.backward()
    np.testing.assert_allclose(Z.data, W.data @ X + b.data, rtol=1e-12)
    assert W.grad.shape == (4, 3) and b.grad.shape == (4, 1)


def test_explicit_broadcast_to_is_allowed():
    with gg.strict_shapes():
        out = gg.broadcast_to(T((3, 1), "col"), (3, 4)) * T((1, 4), "row")
    assert out.shape == (3, 4)


def test_strict_shapes_is_off_outside_the_block():
    with gg.strict_shapes():
        pass
    assert (T((5,), "a") + T((5, 1), "b")).shape == (5, 5)
    assert (T((5,), "a") @ T((5,), "b")).shape == ()


def test_debug_modes_are_thread_local():
    inside, done = threading.Event(), threading.Event()
    seen = {}

    def strict_thread():
        with gg.strict_shapes(), gg.detect_anomaly():
            inside.set()
            done.wait(5)
            try:
                T((5,), "a") + T((5, 1), "b")
            except gg.ShapeError:
                seen["strict thread"] = "refused"

    def other_thread():
        inside.wait(5)
        seen["other thread"] = (T((5,), "a") + T((5, 1), "b")).shape
        with np.errstate(invalid="ignore"):  # numpy's error state is per thread too
            seen["other thread sqrt"] = bool(np.isnan(gg.sqrt(T((1,), "c") * -1.0).data).all())
        done.set()

    threads = [threading.Thread(target=strict_thread), threading.Thread(target=other_thread)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == {"strict thread": "refused", "other thread": (5, 5),
                    "other thread sqrt": True}


def test_the_debugging_modes_also_check_ops_run_without_grad():
    x = gg.Tensor([0.5, 1.0])
    with gg.detect_anomaly(), gg.no_grad():
        with pytest.raises(gg.AnomalyError, match="Log produced NaN in forward"):
            gg.log(x - 2)
    with gg.strict_shapes(), gg.no_grad():
        with pytest.raises(gg.ShapeError, match=r"into a \(5, 5\) array"):
            gg.Tensor(np.ones(5)) + gg.Tensor(np.ones((5, 1)))
    with gg.no_grad():  # and nothing is checked once they are off
        assert np.isnan(gg.log(x - 2).data).all()


def test_strict_shapes_checks_comparisons_the_classic_wrong_accuracy():
    A = gg.Tensor([[0.9], [0.2], [0.7]], name="A")
    Y = np.array([1.0, 0.0, 0.0])
    assert ((A > 0.5) == Y).shape == (3, 3)  # what it silently computes without the check
    with gg.strict_shapes():
        with pytest.raises(gg.ShapeError, match=r"the comparison == broadcasts .* \(3,\) "
                                                r"float64 into a \(3, 3\) array") as info:
            _ = (A > 0.5) == Y
        assert "memoryview" not in str(info.value)
        assert "reshape(3, 1)" in str(info.value)
        np.testing.assert_array_equal(((A > 0.5) == Y.reshape(3, 1)).data.ravel(),
                                      [True, True, False])


def test_strict_shapes_names_the_condition_of_where():
    with gg.strict_shapes(), pytest.raises(gg.ShapeError, match=r"the condition \(5, 1\)"):
        gg.where(np.ones((5, 1), bool), gg.Tensor(np.ones((1, 5)), name="a"), 0.0)


def test_one_no_grad_object_can_be_entered_again_and_nested():
    no_grad = gg.no_grad()
    x = gg.Tensor(1.0, requires_grad=True)
    for _ in range(2):
        with no_grad:
            with no_grad:
                assert not (x * 2).requires_grad
            assert not gg.is_grad_enabled()
        assert gg.is_grad_enabled() and (x * 2).requires_grad


def test_strict_shapes_refuses_a_rank_1_batch_given_to_a_linear_layer():
    layer = gg.nn.Linear(3, 2)
    x = gg.Tensor(np.ones(3), name="x")
    with gg.strict_shapes(), pytest.raises(gg.ShapeError) as info:
        layer(x)
    message = str(info.value)
    assert "rank-1" in message and "'x' (3,)" in message and ".reshape(1, 3)" in message
    with gg.strict_shapes():  # a batch of one example, (m, n_x) = (1, 3), and b (n_out,)
        assert layer(x.reshape(1, 3)).shape == (1, 2)
