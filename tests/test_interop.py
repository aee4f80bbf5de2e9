"""numpy called on Tensors runs graphgrad ops: np.exp(t), ndarray @ t, np.sum(t, axis=0) give
Tensors on the graph, with the gradients numpy's math implies; functions without an op are
refused by name on a tensor that requires grad, and run on the values of one that needs none;
np.asarray(t) gives the data."""
import contextlib
import inspect
import math
import re

import numpy as np
import pytest

import graphgrad as gg
from graphgrad import interop

DATA = np.array([[0.5, 1.5, 2.0], [1.2, 0.7, 3.0]])
CONSTANT = np.array([[2.0, -1.0, 0.5], [1.0, 3.0, -2.0]])

# (name, the call on a Tensor or an ndarray); each is checked against numpy on the data.
CALLS = [
    ("exp", np.exp), ("log", np.log), ("sqrt", np.sqrt), ("abs", np.abs), ("sin", np.sin),
    ("cos", np.cos), ("tanh", np.tanh), ("negative", np.negative), ("positive", np.positive),
    ("square", np.square), ("power", lambda t: np.power(t, 3)),
    ("add_left", lambda t: np.add(CONSTANT, t)), ("subtract", lambda t: np.subtract(t, CONSTANT)),
    ("multiply_left", lambda t: CONSTANT * t), ("divide_left", lambda t: CONSTANT / t),
    ("matmul_left", lambda t: CONSTANT.T @ t), ("matmul", lambda t: np.matmul(t, CONSTANT.T)),
    ("dot", lambda t: np.dot(t, CONSTANT.T)),
    ("maximum", lambda t: np.maximum(t, 1.0)), ("minimum", lambda t: np.minimum(t, 1.0)),
    ("sum", np.sum), ("sum_axis", lambda t: np.sum(t, axis=0)),
    ("sum_keepdims", lambda t: np.sum(t, axis=1, keepdims=True)),
    ("mean", lambda t: np.mean(t, axis=1)), ("max", lambda t: np.max(t, axis=0)),
    ("min", np.min), ("amax", np.amax), ("amin", lambda t: np.amin(t, axis=1)),
    ("reshape", lambda t: np.reshape(t, (3, 2))), ("transpose", np.transpose),
    ("swapaxes", lambda t: np.swapaxes(t, 0, 1)), ("expand_dims", lambda t: np.expand_dims(t, 0)),
    ("squeeze", lambda t: np.squeeze(np.expand_dims(t, 0))),
    ("broadcast_to", lambda t: np.broadcast_to(t, (2, 2, 3))),
    ("concatenate", lambda t: np.concatenate([t, t * 2], axis=1)),
    ("stack", lambda t: np.stack([t, t])), ("pad", lambda t: np.pad(t, 1)),
    ("pad_reflect", lambda t: np.pad(t, 1, "reflect")),
    ("pad_edge", lambda t: np.pad(t, ((1, 1), (2, 0)), mode="edge")),
    ("clip", lambda t: np.clip(t, 1.0, 2.5)), ("where", lambda t: np.where(DATA > 1, t, 0.0)),
    ("split", lambda t: np.split(t, 3, axis=1)[1]), ("ravel", np.ravel),
    ("var", np.var), ("var_axis_ddof", lambda t: np.var(t, axis=1, ddof=1)),
    ("var_correction", lambda t: np.var(t, 0, correction=1)),
    ("std_keepdims", lambda t: np.std(t, axis=0, keepdims=True)),
    ("norm", np.linalg.norm), ("norm_axis", lambda t: np.linalg.norm(t, axis=1)),
    ("norm_fro", lambda t: np.linalg.norm(t, "fro")),
    ("norm_ord2_axis", lambda t: np.linalg.norm(t, 2, 0, True)),
    ("norm_ord2_vector", lambda t: np.linalg.norm(t[1], ord=2)),
    ("norm_matrix_axes", lambda t: np.linalg.norm(t[None], axis=(2, 1))),
    ("norm_ord1", lambda t: np.linalg.norm(t, 1)),
    ("norm_spectral", lambda t: np.linalg.norm(t, 2)),
    ("norm_nuclear", lambda t: np.linalg.norm(t, "nuc")),
    ("norm_inf_axis", lambda t: np.linalg.norm(t, np.inf, axis=1)),
    ("norm_p3_axis_keepdims", lambda t: np.linalg.norm(t, 3, 0, True)),
    ("norm_columns_rows_keepdims", lambda t: np.linalg.norm(t[None], -1, (2, 1), True)),
    ("flip", lambda t: np.flip(t, 1)), ("roll", lambda t: np.roll(t, 1, axis=1)),
    ("moveaxis", lambda t: np.moveaxis(t[None], 0, -1)),
    ("repeat", lambda t: np.repeat(t, [2, 1, 0], axis=1)), ("tile", lambda t: np.tile(t, (1, 2))),
    ("vstack", lambda t: np.vstack([t[0], t, t[1]])), ("hstack", lambda t: np.hstack([t, t])),
    ("outer", lambda t: np.outer(t[0], t[1])),
    ("einsum", lambda t: np.einsum("ij,kj->ik", t, CONSTANT)),
    ("einsum_trace", lambda t: np.einsum("ij,ji", t, CONSTANT.T)),
    # t @ t.T is symmetric positive definite
    ("linalg_inv", lambda t: np.linalg.inv(t @ t.T)),
    ("linalg_solve", lambda t: np.linalg.solve(t @ t.T, t)),
    ("linalg_solve_array_and_tensor", lambda t: np.linalg.solve(CONSTANT[:, :2], t)),
    ("linalg_det", lambda t: np.linalg.det(t @ t.T)),
    ("linalg_slogdet", lambda t: np.linalg.slogdet(t @ t.T).logabsdet),
    ("linalg_cholesky_upper", lambda t: np.linalg.cholesky(t @ t.T, upper=True)),
]


@pytest.mark.parametrize("name, call", CALLS, ids=[c[0] for c in CALLS])
def test_numpy_calls_on_tensors_are_graphgrad_ops(name, call):
    x = gg.Tensor(DATA, requires_grad=True)
    out = call(x)
    assert type(out) is gg.Tensor
    assert out.requires_grad
    assert out.creator is not None or (name == "positive" and out is x)  # +x is x
    np.testing.assert_allclose(out.data, call(DATA.copy()), rtol=1e-12)
    assert gg.gradcheck(call, [x])


CONSTANT_CALLS = [
    ("sign", np.sign), ("greater", lambda t: np.greater(t, 1.0)), ("less", lambda t: t.data < t),
    ("isfinite", np.isfinite), ("logical_not", lambda t: np.logical_not(t > 1)),
    ("zeros_like", np.zeros_like), ("ones_like", lambda t: np.ones_like(t, dtype=np.float32)),
    ("argmax", lambda t: np.argmax(t, axis=-1)), ("argmin", np.argmin),
    ("argmax_keepdims", lambda t: np.argmax(t, 0, keepdims=True)),
    ("argsort", lambda t: np.argsort(-t, axis=0)), ("any", lambda t: np.any(t > 2.5)),
    ("all", lambda t: np.all(t > 1, axis=1)),
    ("count_nonzero", lambda t: np.count_nonzero(t > 1, axis=0)),
]


@pytest.mark.parametrize("name, call", CONSTANT_CALLS, ids=[c[0] for c in CONSTANT_CALLS])
def test_numpy_calls_without_a_derivative_give_constant_tensors(name, call):
    x = gg.Tensor(DATA, requires_grad=True)
    out = call(x)
    assert type(out) is gg.Tensor
    assert not out.requires_grad and out.creator is None
    np.testing.assert_array_equal(out.data, call(DATA.copy()))


def test_indices_found_by_numpy_or_the_tensor_need_no_grad():
    """YOLO's box filtering takes the class of each box with argmax next to graded ops: numpy's
    argmax, argsort and nonzero on a tensor were refused as having no op to differentiate,
    though an index has no derivative to take."""
    scores = gg.Tensor([[0.1, 0.7, 0.2], [0.6, 0.3, 0.9]], requires_grad=True, name="scores")
    for classes in (np.argmax(scores, axis=-1), scores.argmax(axis=-1), scores.argmax(-1)):
        assert type(classes) is gg.Tensor and not classes.requires_grad
        np.testing.assert_array_equal(classes.data, [1, 2])
    np.testing.assert_array_equal(scores.argmin(axis=0, keepdims=True).data, [[0, 1, 0]])
    assert scores.argmax().item() == 5 and scores.argmin().item() == 0  # of the flattened tensor
    rows, columns = np.nonzero(scores > 0.5)
    np.testing.assert_array_equal(rows.data, [0, 1, 1])
    np.testing.assert_array_equal(columns.data, [1, 0, 2])
    kept = scores[rows, columns]  # the indices pick graded values
    kept.sum().backward()
    np.testing.assert_array_equal(scores.grad, [[0, 1, 0], [1, 0, 1]])
    with pytest.raises(gg.ArgumentError, match=r"^argmax of 'scores' \(2, 3\) float64: axis "
                       r"must be None \(the flattened tensor\) or one axis from -2 to 1, "
                       r"got \(0, 1\)$"):
        scores.argmax(axis=(0, 1))
    with pytest.raises(gg.ArgumentError, match=r"^argmin of 'scores' .*: axis .* got 2$"):
        scores.argmin(2)
    with pytest.raises(gg.ArgumentError, match=r"keepdims must be True or False, got 1$"):
        scores.argmax(0, keepdims=1)


def test_shape_queries_give_plain_values():
    x = gg.Tensor(DATA)
    assert (np.shape(x), np.ndim(x), np.size(x), np.size(x, 1)) == ((2, 3), 2, 6, 3)


def test_asarray_gives_the_data_and_array_copies():
    x = gg.Tensor(DATA.copy())
    assert np.asarray(x) is x.data
    copy = np.array(x)
    assert copy is not x.data
    np.testing.assert_array_equal(copy, DATA)
    assert np.asarray(x, dtype=np.float32).dtype == np.float32
    W = gg.Tensor(DATA.copy(), requires_grad=True)
    with gg.no_grad():
        assert np.asarray(W) is W.data  # values taken on purpose


@pytest.mark.parametrize("cut", [
    lambda X, W: X.dot(W),  # ndarray.dot does not dispatch: numpy reads W's values
    lambda X, W: np.sum([(W * W).sum(), W.sum()]),  # a list of tensors
    lambda X, W: np.array([W[0, 0], W[1, 0]]),
    lambda X, W: gg.Tensor(X[:, :2]) * [W[0, 0], 3.0],
    lambda X, W: np.asarray(W),
], ids=["ndarray.dot", "np.sum(list)", "np.array(list)", "list operand", "asarray"])
def test_numpy_reading_the_values_of_a_tensor_that_requires_grad_is_refused(cut):
    """Each gave an array or a constant: backward later left W.grad None or short, with no
    word of why (PyTorch refuses these too)."""
    X = np.ones((4, 3))
    W = gg.Tensor(np.ones((3, 1)), requires_grad=True, name="W")
    with pytest.raises(gg.GraphgradTypeError, match=r"numpy asked for the values of .*requires "
                       r"grad: what it computes from them would have no gradient.*X @ W rather "
                       r"than X.dot\(W\).*t.data, t.numpy\(\), or under gg.no_grad\(\)"):
        cut(X, W)
    assert (X @ W).creator is not None  # the graph's way: ndarray @ Tensor dispatches


def test_storing_a_tensor_that_requires_grad_in_an_array_element_is_refused():
    """The course's conv_forward fills Z[i, h, w, c] = conv_single_step(...) one number at a
    time: numpy read each through float(), W got no gradient and the optimizer stepped
    without it, with no word of why."""
    W = gg.Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True, name="W")
    Z = np.zeros((2, 2))
    with pytest.raises(ValueError) as info:  # numpy's own, caused by graphgrad's refusal
        Z[0, 0] = gg.sum(W[0] * W[1])
    cause = info.value.__cause__
    assert isinstance(cause, gg.GraphgradTypeError)
    assert re.search(r"^float\(\) of output of Sum \(\) float64, which requires grad, would "
                     r"keep its value only.*Z\[i, j\] = t.*gg\.stack.*t\.item\(\)", str(cause))
    assert Z[0, 0] == 0.0
    with pytest.raises(gg.GraphgradTypeError, match=r"^int\(\) of output of Sum \(\)"):
        np.zeros(2, dtype=int)[0] = gg.sum(W[0])  # an integer array reads it through int()
    with pytest.raises(gg.GraphgradTypeError, match=r"^float\(\) of"):
        float(W[1, 1])
    assert W[1, 1].item() == 4.0  # the value on purpose
    with gg.no_grad():
        Z[0, 1] = W[1, 1]
        assert float(W[0, 1]) == 2.0 and int(W[1, 0]) == 3
    assert Z[0, 1] == 4.0
    assert float(W.detach()[1, 1]) == 4.0  # a constant: nothing to lose
    cost = gg.sum(W * W)  # the course's print goes through float() too, and says how
    with pytest.raises(gg.GraphgradTypeError, match=r"To print a cost.*cost\.item\(\).*"
                                                    r"f\"\{cost:\.6f\}\""):
        _ = "Cost after iteration %i: %f" % (0, cost)  # noqa: UP031 (the course's form)
    assert "%f" % cost.item() == "30.000000"  # noqa: UP031
    assert f"{cost:.6f}" == "30.000000"
    with pytest.raises(gg.GraphgradTypeError, match=r"math\.exp\(t\): take np\.exp\(t\)"):
        math.exp(cost)  # the course's basic_sigmoid, on a tensor
    np.testing.assert_allclose(np.exp(W).data, np.exp(W.data))  # the op it points to


def test_numpy_backward_bodies_are_differentiable_through_interop():
    """A custom op whose backward is written with numpy functions gets second derivatives."""

    class Softplus(gg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.logaddexp(0.0, x)

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved
            return grad * 0.5 * (1 + np.tanh(0.5 * x))

    x = gg.Tensor(np.linspace(-2, 2, 5), requires_grad=True)
    (g,) = gg.grad(Softplus.apply(x).sum(), x, create_graph=True)
    (h,) = gg.grad(g.sum(), x)
    s = 1 / (1 + np.exp(-x.data))
    np.testing.assert_allclose(h, s * (1 - s), rtol=1e-12)
    assert gg.gradgradcheck(Softplus, [x])


@pytest.mark.parametrize("call, name", [
    (np.linalg.eigvals, r"numpy\.linalg\.eigvals"),
    (lambda t: np.logaddexp2(t, 1.0), r"numpy\.logaddexp2"),
    (lambda t: np.add.reduce(t), r"numpy\.add\.reduce"),
    (np.fft.fft, r"numpy\.fft\.fft"),
], ids=["linalg.eigvals", "logaddexp2", "ufunc-method", "fft"])
def test_numpy_calls_without_an_op_are_refused_by_name(call, name):
    x = gg.Tensor(np.eye(2), requires_grad=True, name="x")
    with pytest.raises(gg.GraphgradTypeError,
                       match=name + r".*cannot run on 'x' \(2, 2\) float64, which requires grad"
                       r".*t\.data.*gg\.Function"):
        call(x)


def test_an_op_writing_a_tensor_into_an_array_is_refused_with_a_equals_a_plus_t():
    x = gg.Tensor(np.eye(2), requires_grad=True, name="x")
    a = np.zeros((2, 2))
    for call in (lambda: np.multiply(x, 2.0, out=a), lambda: np.add(a, x, out=a)):
        with pytest.raises(gg.GraphgradTypeError,
                           match=r"numpy\.(multiply|add)\(\.\.\., out=\.\.\.\) writes the "
                           r"values of 'x' \(2, 2\) float64, which requires grad, into a numpy "
                           r"array.*Write a = a \+ t"):
            call()
    np.testing.assert_array_equal(a, np.zeros((2, 2)))  # nothing was written


@pytest.mark.parametrize("call", [
    np.linalg.eigvals, lambda t: np.logaddexp2(t, 1.0), lambda t: np.add.reduce(t), np.fft.fft,
    lambda t: np.multiply(t, 2.0, dtype=np.float32),
    lambda t: np.sum(t, initial=1.0), lambda t: np.var(t, where=t > 1.5),
], ids=["linalg.eigvals", "logaddexp2", "ufunc-method", "fft", "ufunc-dtype",
        "sum-initial", "var-where"])
def test_numpy_calls_without_an_op_run_on_values_that_need_no_gradient(call):
    # As on a PyTorch tensor (np.linalg.pinv(t)): nothing to differentiate, nothing is cut.
    data = np.array([[2.0, 1.0], [1.0, 3.0]])
    expected = call(data.copy())
    for x in (gg.Tensor(data), gg.Tensor(data, requires_grad=True)):
        with gg.no_grad() if x.requires_grad else contextlib.nullcontext():
            got = call(x)
        assert isinstance(got, gg.Tensor) and not got.requires_grad and got.creator is None
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got.data, expected)


def test_numpy_results_that_are_no_arrays_come_back_as_numpy_gives_them():
    a = gg.Tensor([[3.0, 0.0], [0.0, 4.0]])
    assert np.allclose(a, np.diag([3.0, 4.0])) is True
    assert np.array_equal(a, a.data) is True
    U, S, Vt = svd = np.linalg.svd(a)  # a named tuple keeps its names, its arrays constants
    assert svd.S is S and isinstance(S, gg.Tensor)
    np.testing.assert_allclose(S.data, [4.0, 3.0])
    np.testing.assert_allclose((U.data * S.data) @ Vt.data, a.data, atol=1e-12)
    # a constant made so takes part in ops like any other: dJ/dw = norm(a) = 5
    w = gg.Tensor(2.0, requires_grad=True)
    (w * np.linalg.norm(a)).backward()
    assert w.grad == 5.0


def test_a_numpy_call_that_would_write_into_a_tensor_is_refused():
    t = gg.Tensor([1.0, 2.0])
    with pytest.raises(gg.GraphgradTypeError, match=r"numpy\.log1p\(\.\.\., out=\.\.\.\) would "
                       r"write into a Tensor's data.*y = np\.log1p\(x\)"):
        np.log1p(t, out=t)
    with pytest.raises(gg.GraphgradTypeError, match=r"numpy\.add\.at would write"):
        np.add.at(t, [0], 1.0)
    np.testing.assert_array_equal(t.data, [1.0, 2.0])
    out = np.empty(2)  # into an array of one's own: numpy's, as asked
    assert np.log1p(t, out=out).data is not t.data
    np.testing.assert_allclose(out, np.log1p([1.0, 2.0]))


WRITERS = [
    ("copyto", lambda t: np.copyto(t, np.zeros((2, 2)))),
    ("put", lambda t: np.put(t, [0], [5.0])),
    ("place", lambda t: np.place(t, np.ones((2, 2), bool), [7.0])),
    ("putmask", lambda t: np.putmask(t, np.ones((2, 2), bool), 7.0)),
    ("fill_diagonal", lambda t: np.fill_diagonal(t, 0.0)),
    ("put_along_axis", lambda t: np.put_along_axis(t, np.zeros((2, 1), int), 5.0, axis=1)),
    ("nan_to_num", lambda t: np.nan_to_num(t, copy=False)),
    ("negative.at", lambda t: np.negative.at(t, [0])),
]


@pytest.mark.parametrize("name, write", WRITERS, ids=[name for name, _ in WRITERS])
def test_a_numpy_function_that_writes_into_its_argument_leaves_a_tensor_as_it_was(name, write):
    """np.copyto, np.put, np.fill_diagonal and the like ran on a tensor's own array and
    changed it, where graphgrad never changes a tensor: here a tanh's output under no_grad,
    which the graph saved for backward, and dJ/dW came out wrong without a word."""
    W = gg.Tensor(np.array([[0.5, -1.0], [np.nan, 0.3]]), requires_grad=True)
    h = gg.tanh(W)  # saved by Tanh for its backward, 1 - h**2
    J = (h * 3.0).sum()
    with gg.no_grad(), pytest.raises(gg.GraphgradTypeError, match=r"^numpy\.\w+(\.at)? would "
                                     r"write into a Tensor's data, which graphgrad never "
                                     r"changes in place.*t\.data = new_array"):
        write(h)
    np.testing.assert_array_equal(h.data, np.tanh(W.data))
    J.backward()
    np.testing.assert_array_equal(W.grad, 3.0 * (1.0 - np.tanh(W.data) ** 2))
    constant = gg.Tensor([[1.0, 2.0], [3.0, np.nan]])  # a tensor that needs no grad, as well
    with pytest.raises(gg.GraphgradTypeError, match=r"would write into a Tensor's data"):
        write(constant)
    np.testing.assert_array_equal(constant.data, [[1.0, 2.0], [3.0, np.nan]])


def test_a_numpy_call_writes_into_an_array_of_ones_own_and_its_views_of_a_tensor_stay_views():
    t = gg.Tensor([1.0, 2.0])
    total = np.zeros(3)
    np.add.at(total, [0, 0, 2], t[0])  # the values of a tensor into an array: as numpy does
    np.testing.assert_array_equal(total, [2.0, 0.0, 1.0])
    # a view of the tensor's array from a function without a graphgrad op, through which it
    # cannot change (np.atleast_2d and np.matrix_transpose, once such functions, are ops now)
    row = np.trim_zeros(t)
    np.testing.assert_array_equal(row.data, [1.0, 2.0])
    with pytest.raises(ValueError, match="read-only"):
        row.data[0] = 5.0
    np.testing.assert_array_equal(t.data, [1.0, 2.0])
    frozen = np.zeros(2)
    frozen.setflags(write=False)  # an array of one's own given read-only: numpy's own error
    with pytest.raises(ValueError, match="output array is read-only"):
        np.log1p(t, out=frozen)


# numpy's reductions take dtype (np.sum, np.mean) or out (np.max, np.min) third: a setting
# given by position must be read as numpy reads it, never as keepdims.
# (name, call, dJ/dx of J = call(x).sum(), from the math)
POSITIONAL_REDUCTIONS = [
    ("sum-dtype", lambda t: np.sum(t, 0, np.float32), np.ones_like(DATA)),
    ("sum-keepdims", lambda t: np.sum(t, 1, None, None, True), np.ones_like(DATA)),
    ("mean-dtype-keepdims", lambda t: np.mean(t, 0, np.float32, None, True),
     np.full_like(DATA, 0.5)),
    ("max-keepdims", lambda t: np.max(t, 0, None, True), DATA == DATA.max(axis=0)),
    ("amin-keepdims", lambda t: np.amin(t, 1, None, True),
     DATA == DATA.min(axis=1, keepdims=True)),
    # var's fourth is out, its fifth ddof: 2 rows, n - 1 = 1, so dJ/dx = 2 (x - mean)
    ("var-ddof", lambda t: np.var(t, 0, None, None, 1), 2 * (DATA - DATA.mean(axis=0))),
    ("std-dtype-ddof-keepdims", lambda t: np.std(t, 1, np.float64, None, 0, True),
     1 / (DATA.std(axis=1, keepdims=True) * 3) * (DATA - DATA.mean(axis=1, keepdims=True))),
]


@pytest.mark.parametrize("call, expected_grad", [c[1:] for c in POSITIONAL_REDUCTIONS],
                         ids=[c[0] for c in POSITIONAL_REDUCTIONS])
def test_reduction_settings_given_by_position_are_read_as_numpy_reads_them(call, expected_grad):
    x = gg.Tensor(DATA, requires_grad=True)
    out = call(x)
    expected = call(DATA.copy())
    assert out.shape == expected.shape and out.dtype == expected.dtype
    np.testing.assert_allclose(out.data, expected, rtol=1e-6)
    out.sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad, expected_grad)


@pytest.mark.parametrize("call, name", [
    (lambda t: np.sum(t, 0, None, np.empty(3)), r"numpy\.sum\(\.\.\., out=\.\.\.\)"),
    (lambda t: np.max(t, 0, np.empty(3)), r"numpy\.max\(\.\.\., out=\.\.\.\)"),
    (lambda t: np.sum(t, 0, None, None, False, 1.0),
     r"numpy\.sum\(\.\.\., initial=\.\.\.\)"),
    (lambda t: np.min(t, initial=0.0, where=DATA > 1),
     r"numpy\.min\(\.\.\., initial=\.\.\., where=\.\.\.\)"),
    (lambda t: np.var(t, where=DATA > 1), r"numpy\.var\(\.\.\., where=\.\.\.\)"),
    (lambda t: np.std(t, 0, mean=DATA.mean(0, keepdims=True), keepdims=True),
     r"numpy\.std\(\.\.\., mean=\.\.\.\)"),
    (lambda t: np.var(t, dtype=np.int64), r"numpy\.var\(\.\.\., dtype=int64\)"),
], ids=["sum-out", "max-out", "sum-initial", "min-initial-where", "var-where", "std-mean",
        "var-int-dtype"])
def test_reduction_settings_without_a_graphgrad_form_are_refused_by_name(call, name):
    x = gg.Tensor(DATA, requires_grad=True)
    with pytest.raises(gg.GraphgradTypeError, match=name + r".*t\.data"):
        call(x)


# numpy's own names (a=, array=, a_min=) and its defaults given by position (out=None) read
# as numpy reads them.
NUMPY_FORMS = [
    ("transpose-a", lambda t: np.transpose(a=t)),
    ("expand_dims-a", lambda t: np.expand_dims(a=t, axis=0)),
    ("squeeze-a", lambda t: np.squeeze(a=np.expand_dims(t, 0))),
    ("swapaxes-a", lambda t: np.swapaxes(a=t, axis1=0, axis2=1)),
    ("broadcast_to-array", lambda t: np.broadcast_to(array=t, shape=(2, 2, 3), subok=False)),
    ("split-ary", lambda t: np.split(ary=t, indices_or_sections=3, axis=1)[2]),
    ("pad-array", lambda t: np.pad(array=t, pad_width=1, constant_values=0.5)),
    ("clip-a_min-a_max", lambda t: np.clip(a=t, a_min=1.0, a_max=2.5)),
    ("clip-min-max", lambda t: np.clip(t, min=1.0, max=2.5)),
    ("clip-out-None", lambda t: np.clip(t, 1.0, 2.5, None)),
    ("stack-arrays", lambda t: np.stack(arrays=[t, t * 2], axis=1, out=None)),
    ("concatenate-out-None", lambda t: np.concatenate([t, t], 0, None)),
    ("reshape-order-C", lambda t: np.reshape(t, (3, 2), order="C")),
]


@pytest.mark.parametrize("call", [c for _, c in NUMPY_FORMS], ids=[n for n, _ in NUMPY_FORMS])
def test_numpy_names_and_defaults_are_read_as_numpy_reads_them(call):
    x = gg.Tensor(DATA, requires_grad=True)
    out = call(x)
    np.testing.assert_array_equal(out.data, call(DATA.copy()))
    assert gg.gradcheck(call, [x])


@pytest.mark.parametrize("call", [
    lambda a: np.mean(a, dtype=int), lambda a: np.mean(a, 1, np.int32),
    lambda a: np.mean(a, dtype=bool), lambda a: np.sum(a, dtype=bool),
    lambda a: np.sum(a, 0, np.int16),
], ids=["mean-int", "mean-int32-axis", "mean-bool", "sum-bool", "sum-int16-axis"])
def test_a_reduction_to_integers_or_truths_is_numpys_constant(call):
    x = gg.Tensor(np.array([[1.0, 2.0, 4.0], [0.0, 3.0, 4.0]]), requires_grad=True)
    out = call(x)
    expected = call(x.data.copy())
    assert out.dtype == expected.dtype
    np.testing.assert_array_equal(out.data, expected)
    assert not out.requires_grad


@pytest.fixture
def numpy_before_2_4(monkeypatch):
    """inspect as numpy before 2.4 leaves it: no signature of concatenate, where and dot."""
    signature = inspect.signature

    def without_c_signatures(func, *args, **kwargs):
        if func in (np.concatenate, np.where, np.dot):
            raise ValueError(f"no signature found for builtin {func!r}")
        return signature(func, *args, **kwargs)

    interop._forms.cache_clear()
    monkeypatch.setattr(inspect, "signature", without_c_signatures)
    yield
    interop._forms.cache_clear()


def test_numpy_functions_written_in_c_are_read_without_their_signature(numpy_before_2_4):
    x = gg.Tensor(DATA, name="x", requires_grad=True)
    joined = np.concatenate([x, x * 2], 1, None)
    picked = np.where(DATA > 1, x, 0.0)
    product = np.dot(x, CONSTANT.T)
    np.testing.assert_array_equal(joined.data, np.concatenate([DATA, DATA * 2], axis=1))
    gg.sum(joined).backward()
    np.testing.assert_array_equal(x.grad, np.full((2, 3), 3.0))  # 1 + 2 from each copy
    x.grad = None
    gg.sum(picked).backward()
    np.testing.assert_array_equal(x.grad, (DATA > 1) * 1.0)
    x.grad = None
    gg.sum(product).backward()
    np.testing.assert_allclose(x.grad, np.ones((2, 2)) @ CONSTANT)
    # Split's backward joins the pieces' gradients with np.concatenate: d2/dx2 sum(x_mid^2) = 2
    (dx,) = gg.grad(gg.sum(gg.split(x, 3, axis=1)[1] ** 2), [x], create_graph=True)
    np.testing.assert_array_equal(dx.data, [[0.0, 3.0, 0.0], [0.0, 1.4, 0.0]])
    (ddx,) = gg.grad(gg.sum(dx), [x])
    np.testing.assert_array_equal(ddx, [[0.0, 2.0, 0.0], [0.0, 2.0, 0.0]])


@pytest.mark.parametrize("func", [np.concatenate, np.where, np.dot], ids=lambda f: f.__name__)
def test_the_forms_kept_for_numpys_c_functions_are_numpys_own(func):
    try:
        numpys = inspect.signature(func)
    except ValueError:
        pytest.skip(f"numpy {np.__version__} gives no signature of {func.__name__}")
    assert inspect.signature(interop._C_FORMS[func]) == numpys


def test_a_setting_given_under_both_of_numpys_names_is_refused():
    with pytest.raises(gg.GraphgradTypeError, match=r"numpy\.clip: low is given twice"):
        np.clip(gg.Tensor(DATA), a_min=0.0, min=1.0)
    with pytest.raises(gg.GraphgradTypeError, match=r"numpy\.reshape\(\.\.\., order=\.\.\.\)"):
        np.reshape(gg.Tensor(DATA, requires_grad=True), (3, 2), order="F")
    # on values that need no gradient, numpy's own form runs
    fortran = np.reshape(gg.Tensor(DATA), (3, 2), order="F")
    np.testing.assert_array_equal(fortran.data, DATA.reshape((3, 2), order="F"))


def test_a_numpy_call_on_data_is_a_constant():
    x = gg.Tensor(np.eye(2) * 2.0, requires_grad=True)
    J = (x * np.linalg.inv(x.data)).sum()  # inv(x.data) is a constant: dJ/dx = inv(x)
    J.backward()
    np.testing.assert_allclose(x.grad, np.eye(2) * 0.5)


def test_np_linalg_norm_orders_numpy_refuses_are_refused_naming_the_tensor():
    """numpy's refusals (ord='fro' of a vector, an ord over 3 axes), not "no graphgrad op"."""
    x = gg.Tensor(DATA, requires_grad=True, name="enc")
    with pytest.raises(gg.ArgumentError, match=r"^numpy\.linalg\.norm of 'enc' \(2, 3\) "
                       r"float64, ord='fro', axis=0: Invalid norm order 'fro' for vectors$"):
        np.linalg.norm(x, "fro", axis=0)
    with pytest.raises(gg.ArgumentError, match=r"ord=None, axis=\(0, 1, 0\): Improper number "
                       "of dimensions to norm"):
        np.linalg.norm(x, axis=(0, 1, 0))


def test_np_linalg_norm_checks_numpys_refusals_without_computing_numpys_norm(monkeypatch):
    """The nuclear and spectral norms are an SVD: checking numpy's refusals must not compute
    numpy's one besides graphgrad's (which took 2-3 times numpy's time)."""
    module = np.linalg._linalg if hasattr(np.linalg, "_linalg") else np.linalg.linalg
    calls = []
    real = module.svd
    monkeypatch.setattr(module, "svd", lambda a, *rest, **k: calls.append(np.shape(a))
                        or real(a, *rest, **k))
    a = np.random.default_rng(0).standard_normal((4, 3))
    for ord_ in ("nuc", 2, -2):
        y = np.linalg.norm(gg.Tensor(a, requires_grad=True), ord_)
        np.testing.assert_allclose(y.data, np.linalg.norm(a, ord_), rtol=1e-12)
    assert calls.count((4, 3)) == 3  # numpy's own, here, once each


def test_np_var_and_np_std_keep_numpys_population_default_and_the_course_uses_it():
    """The course's batch norm: sigma**2 = np.var(Z, axis=1, keepdims=True), over the m
    examples with ddof=0; its gradient 2 (z - mu) / m, from the math."""
    Z = gg.Tensor(np.array([[1.0, 2.0, 3.0, 6.0]]), requires_grad=True)
    var = np.var(Z, axis=1, keepdims=True)
    assert var.shape == (1, 1) and var.item() == 3.5  # (4 + 1 + 0 + 9) / 4
    var.backward()
    np.testing.assert_array_equal(Z.grad, [[-1.0, -0.5, 0.0, 1.5]])  # 2 (z - 3) / 4
    assert np.std(Z, ddof=1).item() == pytest.approx(np.sqrt(14 / 3), rel=1e-15)


def test_np_take_reads_a_tensor_of_indices_as_t_index_does_and_names_itself_for_a_bad_axis():
    """A tensor of indices, made from ints (float64), failed as floats used as indices, where
    t[index] and gg.take_along_axis take its whole numbers; an axis out of range raised numpy's
    own AxisError, naming no graphgrad op."""
    flat = np.arange(6.0).reshape(2, 3)
    x = gg.Tensor(flat, requires_grad=True, name="x")
    y = np.take(x, gg.Tensor([2, 0]), axis=1)
    np.testing.assert_array_equal(y.data, flat[:, [2, 0]])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [[1, 0, 1], [1, 0, 1]])
    np.testing.assert_array_equal(np.take(x, gg.Tensor([True, False]), axis=0).data,
                                  flat[[1, 0]])  # numpy's take reads bools as 1 and 0
    with pytest.raises(gg.ArgumentError) as info:
        np.take(x, [0], axis=2)
    assert str(info.value) == ("take: axis 2 is out of range for 'x' (2, 3) float64: give an "
                               "axis from -2 to 1, or None for the flattened a")
