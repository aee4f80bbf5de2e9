"""A Tensor as a Python object: in-place operators, pickling and formatting, each as a
PyTorch user expects them."""
import pickle

import numpy as np
import pytest

import graphgrad as gg
from graphgrad import nn

RNG = np.random.default_rng(0)
X = RNG.standard_normal((8, 2))
Y = X @ np.array([[1.0], [2.0]])


def _cost(model):
    return ((model(X) - Y) ** 2).mean()


# -- in-place operators -------------------------------------------------------------------------
def test_the_pytorch_update_loop_changes_the_parameters_in_place():
    """``with no_grad(): p -= lr * p.grad`` over model.parameters(): each step is
    W := W - alpha dW on the model's own tensors (p -= ... had rebound the loop variable to
    a new constant, and the model never trained)."""
    model = nn.Linear(2, 1, rng=0)
    W, b = model.W, model.b
    for _ in range(3):
        J = _cost(model)
        model.zero_grad()
        J.backward()
        expected_W, expected_b = W.data - 0.1 * W.grad, b.data - 0.1 * b.grad
        with gg.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
        assert model.W is W and model.b is b and W.requires_grad and W.is_leaf
        np.testing.assert_allclose(W.data, expected_W, rtol=1e-15)
        np.testing.assert_allclose(b.data, expected_b, rtol=1e-15)
    assert [name for name, _ in model.named_parameters()] == ["W", "b"]


@pytest.mark.parametrize("update, expected", [
    (lambda p: p.__iadd__(2.0), [3.0, 4.0]),
    (lambda p: p.__isub__(np.array([1.0, 1.0])), [0.0, 1.0]),
    (lambda p: p.__imul__(gg.Tensor(3.0)), [3.0, 6.0]),
    (lambda p: p.__itruediv__(2), [0.5, 1.0]),
    (lambda p: p.__ipow__(2), [1.0, 4.0]),
], ids=["+=", "-=", "*=", "/=", "**="])
def test_each_in_place_operator_under_no_grad(update, expected):
    p = gg.Tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    array = p.data
    with gg.no_grad():
        assert update(p) is p
    assert p.data is array and p.dtype == np.float32  # float64 operands cast in place
    np.testing.assert_allclose(p.data, expected)


def test_an_in_place_update_of_a_parameter_while_recording_is_refused():
    model = nn.Linear(2, 1, rng=0)
    before = model.W.data.copy()
    with pytest.raises(gg.InplaceError, match=r"'W' \(1, 2\) float64 -= \.\.\.: a leaf that "
                       r"requires grad cannot change in place while ops are recorded.*"
                       r"gg.no_grad\(\): W -= .*W.data -= lr \* W.grad"):
        model.W -= 0.1
    np.testing.assert_array_equal(model.W.data, before)
    assert [name for name, _ in model.named_parameters()] == ["W", "b"]  # still registered


def test_a_power_in_place_is_an_update_like_the_others():
    """``p **= 2`` squares a parameter in place under no_grad and is refused while recording,
    as in PyTorch; it had rebound the name to a new tensor, leaving the model unchanged."""
    model = nn.Linear(2, 1, rng=0)
    W = model.W
    expected = W.data ** 2
    with gg.no_grad():
        for p in model.parameters():
            p **= 2
    assert model.W is W and W.is_leaf and W.requires_grad
    np.testing.assert_array_equal(W.data, expected)
    with pytest.raises(gg.InplaceError, match=r"'W' \(1, 2\) float64 \*\*= \.\.\.: a leaf"):
        model.W **= 2
    np.testing.assert_array_equal(model.W.data, expected)
    x = gg.Tensor(3.0, requires_grad=True)
    y = x * 1.0
    y **= 2  # an op's output: a new tensor, recorded
    y.backward()
    assert y.item() == 9.0 and x.grad == 6.0


def test_an_in_place_update_before_backward_is_refused_and_the_gradient_kept_right():
    model = nn.Linear(2, 1, rng=0)
    W0 = model.W.data.copy()
    J = _cost(model)
    with gg.no_grad(), pytest.raises(gg.InplaceError, match=r"read-only .*run backward"):
        model.W -= 0.1
    J.backward()
    reference = nn.Linear(2, 1, rng=0)
    _cost(reference).backward()
    np.testing.assert_array_equal(model.W.data, W0)
    np.testing.assert_allclose(model.W.grad, reference.W.grad, rtol=1e-15)
    with gg.no_grad():
        model.W -= 0.1  # the graph has run: the array is writeable again
    np.testing.assert_allclose(model.W.data, W0 - 0.1)


def test_a_leaf_detached_from_an_op_output_is_told_how_to_update_in_place():
    """x = y.detach().requires_grad_() shares the op's output array, read-only for good: the
    refusal had said to run backward first, which changes nothing."""
    y = gg.Tensor(np.array([1.0, 2.0]), requires_grad=True) * 3
    x = y.detach().requires_grad_()
    (x * x).sum().backward()
    with gg.no_grad(), pytest.raises(gg.InplaceError, match=r"an op's output, which never "
                                     r"changes, .*t\.detach\(\).*t\.data = t\.data\.copy\(\)"):
        x -= 0.1 * x.grad
    x.data = x.data.copy()  # the advice works
    with gg.no_grad():
        x -= 0.1 * x.grad
    np.testing.assert_allclose(x.data, [3.0 - 0.6, 6.0 - 1.2])
    np.testing.assert_array_equal(y.data, [3.0, 6.0])


def test_bad_in_place_operands_are_refused_by_name():
    W = gg.Tensor(np.ones((1, 2)), requires_grad=True, name="W")
    with gg.no_grad():
        with pytest.raises(gg.ShapeError, match=r"'W' \(1, 2\) float64 -= ndarray \(3, 3\)"):
            W -= np.ones((3, 3))
        with pytest.raises(gg.GraphgradTypeError, match=r"'W' \(1, 2\) float64 \*= 1j: the "
                           r"update must be real numbers, which float64 holds"):
            W *= 1j
    np.testing.assert_array_equal(W.data, np.ones((1, 2)))


def test_other_tensors_get_a_new_tensor_as_for_any_op():
    """Ops never change their inputs: a constant or an op's output is rebound."""
    c = gg.Tensor(1.0)
    alias = c
    c += 1
    assert c.item() == 2.0 and alias.item() == 1.0
    x = gg.Tensor(2.0, requires_grad=True)
    y = x * 3
    kept = y
    y *= y  # (3x)^2: recorded, with the gradient through both factors
    y.backward()
    assert kept.item() == 6.0 and y.item() == 36.0 and x.grad == 2 * 9 * 2.0


# -- pickling and formatting --------------------------------------------------------------------
def test_pickling_keeps_a_leaf_and_leaves_out_the_graph():
    data = gg.Tensor(np.ones((1000, 3)))
    W = gg.Tensor(np.ones(3), requires_grad=True, name="W")
    cost = ((data @ W) ** 2).mean()
    cost.backward(retain_graph=True)
    copy = pickle.loads(pickle.dumps(cost))
    assert len(pickle.dumps(cost)) < 1000  # the 24 kB of data stayed behind
    assert copy.is_leaf and copy.item() == 9.0 and copy.requires_grad and copy.grad == 1.0
    piece = gg.split(W * 2, 3)[0]  # a multi-output op's graph had no pickle
    assert pickle.loads(pickle.dumps(piece)).is_leaf
    W.grad = np.array([1.0, 2.0, 3.0])
    back = pickle.loads(pickle.dumps(W))
    assert back.name == "W" and back.requires_grad
    np.testing.assert_array_equal(back.grad, [1.0, 2.0, 3.0])


def test_a_pickled_model_keeps_its_parameters():
    model = nn.Sequential(nn.Linear(2, 3, rng=0), nn.ReLU(), nn.Linear(3, 1, rng=1))
    copy = pickle.loads(pickle.dumps(model))
    assert all(type(p) is nn.Parameter for p in copy.parameters())
    assert [n for n, _ in copy.named_parameters()] == [n for n, _ in model.named_parameters()]
    np.testing.assert_array_equal(copy(X).data, model(X).data)


@pytest.mark.parametrize("protocol", range(2, pickle.HIGHEST_PROTOCOL + 1))
def test_a_model_pickled_while_a_graph_pins_it_unpickles_writeable(protocol):
    """A graph waiting for its backward keeps the model's arrays read-only; protocol 5 gave
    them back read-only, and nothing would ever release them: ``W -= ...`` was refused."""
    model = nn.Linear(2, 1, rng=0)
    J = _cost(model)  # pins W until J.backward()
    model.W.grad = np.full(model.W.shape, 0.5)
    model.W.grad.setflags(write=False)
    twin = pickle.loads(pickle.dumps(model, protocol=protocol))
    W = twin.W
    assert W.data.flags.writeable and W.grad.flags.writeable
    before = W.data.copy()
    with gg.no_grad():
        W -= 0.1 * W.grad
    W.grad *= 2.0
    np.testing.assert_array_equal(W.data, before - 0.05)
    np.testing.assert_array_equal(W.grad, np.ones(W.shape))
    assert not model.W.data.flags.writeable  # the original stays protected until backward
    J.backward()
    np.testing.assert_array_equal(model.W.data, before)


def test_an_op_output_pickled_at_protocol_5_is_a_leaf_with_an_array_of_its_own():
    x = gg.Tensor([1.0, 2.0], requires_grad=True)
    y = pickle.loads(pickle.dumps(x * 3, protocol=5))
    assert y.is_leaf and y.requires_grad and y.data.flags.writeable
    with gg.no_grad():
        y += 1.0
    np.testing.assert_array_equal(y.data, [4.0, 7.0])


def test_a_one_element_tensor_formats_as_its_number():
    J = gg.Tensor(0.123456, requires_grad=True) * 2
    assert f"{J:.4f}" == "0.2469" and f"{J:.2e}" == "2.47e-01"
    assert f"{J}" == str(J)
    with pytest.raises(gg.ShapeError, match=r"item\(\) needs a one-element tensor"):
        f"{gg.Tensor([1.0, 2.0]):.3f}"


def test_in_asks_whether_any_element_equals_the_value():
    t = gg.Tensor([[1.0, 5.0], [2.0, 3.0]], requires_grad=True)
    assert 5 in t and 3.0 in t and gg.Tensor(2.0) in t
    assert 4 not in t and np.nan not in t
    assert (5 in gg.Tensor([1.0, 5.0])) and 7 not in gg.Tensor(np.zeros((2, 3, 4)))


# -- logical operators, indices, lists, numpy habits ---------------------------------------------
def test_logical_operators_combine_masks_as_numpy_does_into_constants():
    A = gg.Tensor([0.9, 0.2, 0.7, 0.4], requires_grad=True)
    Y = np.array([1.0, 1.0, 0.0, 0.0])
    predicted, positive = A > 0.5, gg.Tensor(Y) == 1
    cases = {
        "and": (predicted & positive, [True, False, False, False]),
        "or": (predicted | positive, [True, True, True, False]),
        "xor": (predicted ^ positive, [False, True, True, False]),
        "not": (~predicted, [False, True, False, True]),
        "with an array on the left": (np.array([True, True, False, False]) & predicted,
                                      [True, False, False, False]),
        "with a bool on the right": (predicted | False, [True, False, True, False]),
        "numpy's ufunc": (np.logical_xor(predicted, positive), [False, True, True, False]),
    }
    for label, (result, expected) in cases.items():
        assert isinstance(result, gg.Tensor), label
        assert result.dtype == np.bool_ and not result.requires_grad, label
        assert result.creator is None, label
        np.testing.assert_array_equal(result.data, expected, err_msg=label)
    # The course's true positives, counted from the masks.
    assert (predicted & positive).data.sum() == 1
    ints = gg.Tensor(np.array([6, 3]), dtype=np.int64)
    np.testing.assert_array_equal((ints & 5).data, [4, 1])  # bit by bit, as numpy
    np.testing.assert_array_equal((~ints).data, [-7, -4])


@pytest.mark.parametrize("combine, named", [
    (lambda a, m: a & m, "'A' (2,) float64"),
    (lambda a, m: m | a, "'A' (2,) float64"),
    (lambda a, m: ~a, "'A' (2,) float64"),
    (lambda a, m: np.bitwise_xor(m, a), "'A' (2,) float64"),
    (lambda a, m: m & 0.5, "float"),
])
def test_logical_operators_refuse_floats_by_name(combine, named):
    A = gg.Tensor([0.9, 0.2], name="A")
    with pytest.raises(gg.GraphgradTypeError, match="takes bool tensors") as info:
        combine(A, A > 0.5)
    assert f"got {named}" in str(info.value) and "compare first" in str(info.value)


@pytest.mark.parametrize("combine", [
    lambda a, b: a & b, lambda a, b: a | b, lambda a, b: b ^ a, lambda a, b: a.data & b])
def test_logical_operators_refuse_masks_that_do_not_broadcast_by_name_and_shape(combine):
    predicted = gg.Tensor([0.9, 0.2, 0.7], name="A") > 0.5
    predicted.name = "predicted"
    positive = gg.Tensor([[1.0, 0.0, 1.0, 0.0]]) == 1  # (1, 4): another set's labels
    with pytest.raises(gg.ShapeError, match="do not broadcast") as info:
        combine(predicted, positive)
    assert "(3,)" in str(info.value) and "(1, 4)" in str(info.value)
    np.testing.assert_array_equal((predicted & positive[:, :3]).data, [[True, False, True]])


def test_an_integer_tensor_of_one_element_is_an_index():
    t = gg.Tensor(2, dtype=np.int64)
    assert list(range(t)) == [0, 1]
    assert ["a", "b", "c"][t] == "c"
    with pytest.raises(gg.GraphgradTypeError, match="cannot be used as an index") as info:
        range(gg.Tensor(2.0))
    assert "made with dtype=int; int(t) cuts a float one toward zero" in str(info.value)
    assert list(range(gg.Tensor(2.0, dtype=int))) == [0, 1]
    assert (int(gg.Tensor(-1.5)), int(gg.Tensor(1.5))) == (-1, 1)  # toward zero, not down
    with pytest.raises(gg.GraphgradError, match="one-element"):
        ["a", "b"][gg.Tensor(np.array([0, 1]), dtype=np.int64)]


def test_tolist_gives_python_numbers_as_numpy_does():
    assert gg.Tensor([[1.0, 2.0], [3.0, 4.0]]).tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert gg.Tensor(3.5).tolist() == 3.5
    assert type(gg.Tensor(3.5, dtype=np.float32).tolist()) is float


def test_dot_is_the_courses_np_dot_and_differentiable():
    W = gg.Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    X = np.array([[1.0, 0.0], [2.0, 1.0], [0.0, 3.0]])
    Z = W.dot(X)
    np.testing.assert_array_equal(Z.data, [[5.0, 11.0], [14.0, 23.0]])
    Z.sum().backward()
    np.testing.assert_array_equal(W.grad, np.ones((2, 2)) @ X.T)  # dW = dZ X^T
    v = gg.Tensor([1.0, 2.0])
    assert v.dot(v).item() == 5.0
    with pytest.raises(gg.GraphgradTypeError, match="use @ or gg.matmul"):
        gg.Tensor(np.ones((2, 2, 2))).dot(np.ones((2, 2)))


def test_no_grad_and_enable_grad_decorate_without_parentheses_too():
    x = gg.Tensor([1.0, 2.0], requires_grad=True)

    @gg.no_grad
    def scaled(t):
        return t * 2

    @gg.enable_grad
    def recorded(t):
        return t * 2

    assert not scaled(x).requires_grad
    np.testing.assert_array_equal(scaled(x).data, [2.0, 4.0])
    with gg.no_grad():
        assert recorded(x).requires_grad
    assert gg.is_grad_enabled()
    with pytest.raises(gg.ArgumentError, match=r"no_grad\(\) takes no arguments"):
        gg.no_grad(5)


# -- truths and orders as methods ---------------------------------------------------------------
def test_all_any_and_argsort_are_numpys_as_constant_tensors():
    A = gg.Tensor([[1.0, -2.0, 0.0], [3.0, 4.0, 5.0]], requires_grad=True)
    a = A.data
    cases = [((A >= 0).all(), np.all(a >= 0)), ((A >= 0).all(axis=1), np.all(a >= 0, axis=1)),
             (A.any(axis=(0, 1), keepdims=True), np.any(a, axis=(0, 1), keepdims=True)),
             ((A == 0).any(axis=-1), np.any(a == 0, axis=-1)), (A.all(), np.all(a)),
             (A.argsort(), np.argsort(a)), (A.argsort(0), np.argsort(a, axis=0)),
             (A.argsort(None), np.argsort(a, axis=None)),
             (gg.Tensor(2.0).all(axis=0), np.all(np.array(2.0), axis=0))]
    for got, expected in cases:
        assert not got.requires_grad and got.creator is None
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got.data, expected)
    with pytest.raises(gg.ShapeError, match=r"ambiguous: use t.any\(\) or t.all\(\)"):
        bool(A > 0)
    assert bool((A > -3).all()) and not bool((A > 10).any())


@pytest.mark.parametrize("call, message", [
    (lambda A: A.all(axis=2), r"all of .*: axis must be None .* from -2 to 1, a tuple of "
                              r"distinct ones, got 2"),
    (lambda A: A.any(axis=(0, -2)), r"any of .* got \(0, -2\)"),
    (lambda A: A.any(keepdims="yes"), r"any of .*: keepdims must be True or False"),
    (lambda A: A.argsort(axis=1.5), r"argsort of .*: axis must be None .* got 1.5"),
    (lambda A: A.argsort(axis=(0, 1)), r"argsort of .* got \(0, 1\)"),
    (lambda A: A.argmax(axis=True), r"argmax of .* got True"),
])
def test_all_any_and_argsort_refuse_bad_settings_by_name(call, message):
    with pytest.raises(gg.ArgumentError, match=message):
        call(gg.Tensor(np.ones((2, 3)), name="A"))


def test_all_and_any_of_a_0d_tensor_take_axis_0_as_numpy_does_but_no_tuple():
    t = gg.Tensor(2.0, name="t")
    assert t.all(axis=0).item() and t.any(axis=-1).item() and t.all(axis=()).item()
    for axis in [(0,), (-1,)]:
        with pytest.raises(np.exceptions.AxisError):  # numpy refuses the tuple too
            np.all(np.array(2.0), axis=axis)
        with pytest.raises(gg.ArgumentError, match=r"^all of 't' \(\) float64: a tuple of axes "
                           r"of a tensor of no axes"):
            t.all(axis=axis)
