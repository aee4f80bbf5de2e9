"""Every op of the table: forward against numpy, backward against finite differences
(gradcheck, float64), second order (gradgradcheck) where second derivatives are meaningful."""
import math
import warnings
from fractions import Fraction

import numpy as np
import pytest
from graph_walks import graph_nodes
from op_table import OPS, draw, leaves

import graphgrad as gg

RNG_JOIN = np.random.default_rng(11)


def _outputs(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


@pytest.mark.parametrize("op", OPS, ids=str)
def test_forward_matches_numpy(op):
    arrays = draw(op, np.random.default_rng(0))
    got = _outputs(op.fn(*leaves(arrays)))
    want = _outputs(op.ref(*[a.copy() for a in arrays]))
    assert len(got) == len(want)
    for out, expected in zip(got, want):
        assert isinstance(out, gg.Tensor)
        assert out.shape == np.shape(expected)
        assert out.dtype == np.float64
        assert out.requires_grad
        np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("op", OPS, ids=str)
def test_gradcheck(op):
    arrays = draw(op, np.random.default_rng(1))
    result = gg.gradcheck(op.fn, leaves(arrays), **op.check)
    assert result
    assert len(result.pairs) == len(_outputs(op.ref(*arrays))) * len(arrays)
    assert all(pair.relative_difference < 1e-6 for pair in result.pairs), str(result)
    assert not any(pair.kinks for pair in result.pairs), str(result)  # domains avoid kinks


@pytest.mark.parametrize("op", [op for op in OPS if op.second_order], ids=str)
def test_gradgradcheck(op):
    arrays = draw(op, np.random.default_rng(2))
    assert gg.gradgradcheck(op.fn, leaves(arrays), **op.check)


@pytest.mark.parametrize("op", OPS, ids=str)
def test_backward_without_grad_records_nothing(op):
    """Inputs that need no grad give outputs that need none, with no graph to walk."""
    arrays = draw(op, np.random.default_rng(3))
    for out in _outputs(op.fn(*[gg.Tensor(a) for a in arrays])):
        assert not out.requires_grad
        assert out.creator is None


def test_pow_gradient_wrt_the_exponent_at_a_zero_base():
    """0 ** p is 0 for every p > 0, so d/dp is 0 there, not 0 * log(0) = NaN."""
    base = gg.Tensor(np.array([0.0, 1.0, 2.0]), requires_grad=True)
    p = gg.Tensor(2.0, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no log(0) warning either
        (dbase, dp) = gg.grad((base**p).sum(), [base, p], create_graph=True)
        (d2p,) = gg.grad(dp, p)
    np.testing.assert_allclose(dbase.data, [0.0, 2.0, 4.0])
    assert float(dp.data) == pytest.approx(4 * np.log(2.0), rel=1e-12)
    assert float(d2p) == pytest.approx(4 * np.log(2.0) ** 2, rel=1e-12)


@pytest.mark.parametrize("fn, x, value, grad", [
    (gg.sigmoid, [-800.0, 0.0, 800.0], [0.0, 0.5, 1.0], [0.0, 0.25, 0.0]),
    (gg.tanh, [-800.0, 0.0, 800.0], [-1.0, 0.0, 1.0], [0.0, 1.0, 0.0]),
    (gg.softmax, [1000.0, 1000.0, -1000.0], [0.5, 0.5, 0.0], [0.0, 0.0, 0.0]),
    (gg.log_softmax, [1000.0, 0.0], [0.0, -1000.0], [-1.0, 1.0]),
    (gg.logsumexp, [1000.0, 1000.0], 1000.0 + np.log(2.0), [0.5, 0.5]),
    (gg.softmax, [0.0, -np.inf, np.log(3.0)], [0.25, 0.0, 0.75], [0.0, 0.0, 0.0]),
], ids=["sigmoid", "tanh", "softmax", "log_softmax", "logsumexp", "softmax-masked"])
def test_stable_at_extreme_values(fn, x, value, grad):
    """The upstream gradient is ones for a vjp, so softmax's is 0 and log_softmax's is
    1 - n * softmax."""
    t = gg.Tensor(np.array(x), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = fn(t)
        y.backward(np.ones(y.shape))
    np.testing.assert_allclose(y.data, value, atol=1e-12)
    np.testing.assert_allclose(t.grad, grad, atol=1e-12)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-15), (np.float32, 1e-6)])
def test_sigmoid_keeps_its_relative_precision_in_the_negative_tail(dtype, rtol):
    """sigmoid(x) = e**x / (1 + e**x) for x < 0: (tanh(x/2) + 1) / 2 loses the tail to
    cancellation (2.6e-2 relative error at -15 in float32) and is 0 below -37 in float64,
    so log(sigmoid(-40)) was -inf with a NaN gradient."""
    x = np.array([-80.0, -40.0, -15.0, -8.0, -1.0, 0.0, 1.0, 8.0, 40.0], dtype)
    expected = np.exp(x.astype(np.float64)) / (1 + np.exp(x.astype(np.float64)))
    np.testing.assert_allclose(gg.sigmoid(x).data, expected, rtol=rtol)
    assert gg.sigmoid(x).dtype == dtype
    z = gg.Tensor([-40.0], requires_grad=True)
    J = gg.log(gg.sigmoid(z))
    J.backward()
    assert J.item() == pytest.approx(-40.0, rel=1e-15)
    assert z.grad[0] == pytest.approx(1.0, rel=1e-15)  # d/dz log sigmoid(z) = 1 - sigmoid(z)


def test_pow_gradient_wrt_a_negative_exponent_at_a_zero_base_is_minus_infinity():
    """0 ** p is inf for p < 0 and grows without bound as p falls: d/dp = inf * log(0) = -inf
    (as in PyTorch); for p = 0 and p > 0 it is 0."""
    base = gg.Tensor(np.zeros(3))
    p = gg.Tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)
    with np.errstate(divide="ignore"):  # 0 ** -1, as numpy warns of it
        (base**p).sum().backward()
    np.testing.assert_array_equal(p.grad, [-np.inf, 0.0, 0.0])


def test_pow_second_derivative_in_the_exponent_at_a_zero_exponent():
    """d/dp (dz/dx) of z = x**p is x**(p-1) (1 + p log x): 1/x at p = 0, as the mixed
    partial d/dx (dz/dp) = d/dx (x**p log x) is. The guard for 0**0 had cut it to 0."""
    x = gg.Tensor([2.0, 0.5], requires_grad=True)
    p = gg.Tensor([0.0, 0.0], requires_grad=True)
    dx, dp = gg.grad((x ** p).sum(), [x, p], create_graph=True)
    (d_p_of_dx,) = gg.grad(dx.sum(), p)
    (d_x_of_dp,) = gg.grad(dp.sum(), x)
    np.testing.assert_allclose(d_p_of_dx, [0.5, 2.0], rtol=1e-15)
    np.testing.assert_allclose(d_x_of_dp, [0.5, 2.0], rtol=1e-15)
    assert gg.gradgradcheck(lambda a, b: a ** b, [np.array([2.0, 0.5]), np.array([0.0, 0.0])])


@pytest.mark.parametrize("dtype, x, y", [
    (np.float32, [1e-23, 0.0, 3e-25], [1e-23, 1e-23, 1e-23]),
    (np.float64, [1e-300, 0.0, 3e-200], [1e-300, 1e-200, 1e-200]),
])
def test_division_gradient_in_the_divisor_is_finite_where_y_squared_is_not(dtype, x, y):
    """d(x/y)/dy = -x/y**2 = -(x/y)/y: y*y over- or underflows first (1e-23**2 is 0 in
    float32, so x/y**2 was -inf for x = y = 1e-23, and 0/y**2 NaN), while -(x/y)/y is finite."""
    xs = gg.Tensor(np.array(x, dtype), requires_grad=True)
    ys = gg.Tensor(np.array(y, dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow or 0/0 on the way
        (xs / ys).sum().backward()
    exact = [-float(Fraction(float(a)) / Fraction(float(b)) ** 2) for a, b in zip(xs.data, ys.data)]
    assert ys.grad.dtype == dtype and xs.grad.dtype == dtype
    np.testing.assert_allclose(ys.grad, exact, rtol=1e-6 if dtype == np.float32 else 1e-15)
    np.testing.assert_allclose(xs.grad, 1 / ys.data.astype(np.float64), rtol=1e-7)


def test_division_second_derivatives_in_the_divisor():
    """d2(x/y)/dy2 = 2x/y**3 and d2(x/y)/dxdy = -1/y**2, through the quotient saved by
    forward."""
    x = gg.Tensor([3.0, -2.0], requires_grad=True)
    y = gg.Tensor([2.0, 0.5], requires_grad=True)
    (dy,) = gg.grad((x / y).sum(), [y], create_graph=True)
    d2y, d2x = gg.grad(dy.sum(), [y, x])
    np.testing.assert_allclose(d2y, [2 * 3.0 / 8.0, 2 * -2.0 / 0.125], rtol=1e-15)
    np.testing.assert_allclose(d2x, [-1 / 4.0, -1 / 0.25], rtol=1e-15)
    assert gg.gradgradcheck(lambda a, b: a / b, [np.array([3.0, -2.0]),
                                                 np.array([[2.0, 0.5], [-1.5, 4.0]])])


def test_an_empty_index_list_selects_nothing_as_in_numpy():
    t = gg.Tensor(np.ones((3, 4)), requires_grad=True)
    assert t[[]].shape == (0, 4) and t[[], 1].shape == (0,)
    t[[]].sum().backward()
    np.testing.assert_array_equal(t.grad, np.zeros((3, 4)))


@pytest.mark.parametrize("fn", [gg.softmax, gg.log_softmax], ids=["softmax", "log_softmax"])
def test_softmax_over_an_axis_of_length_zero_is_empty(fn):
    x = gg.Tensor(np.zeros((2, 0)), requires_grad=True)
    y = fn(x, axis=1)
    assert y.shape == (2, 0)
    y.sum().backward()
    assert x.grad.shape == (2, 0)


@pytest.mark.parametrize("join", [lambda xs: gg.stack(xs, axis=1),
                                  lambda xs: gg.concatenate(xs, axis=-1),
                                  lambda xs: gg.concatenate(xs, axis=None)],
                         ids=["stack", "concatenate", "concatenate-flat"])
def test_second_derivatives_through_a_join_split_its_gradient_once(join):
    """Under create_graph, a slice per input made a node whose backward built an array of
    the whole gradient's size: memory grew as T**2 for T time steps stacked (an RNN's
    second derivatives)."""
    xs = [gg.Tensor(RNG_JOIN.standard_normal((2, 3)), requires_grad=True) for _ in range(50)]
    y = join(xs)
    grads = gg.grad((y * y * y).sum(), xs, create_graph=True)
    nodes = {id(n): n for g in grads for n in graph_nodes(g)}.values()
    kinds = [type(n).__name__ for n in nodes]
    assert kinds.count("Split") == 1 and "GetItem" not in kinds
    for x, g in zip(xs, grads):  # d/dx sum(x**3) = 3 x**2
        np.testing.assert_allclose(g.data, 3 * x.data ** 2, rtol=1e-15)
    assert gg.gradgradcheck(lambda a, b, c: join([a, b, c]) ** 3,
                            [x.data for x in xs[:3]])


# -- corner cases found beyond the table --------------------------------------------------------
@pytest.mark.parametrize("fn", [gg.exp, gg.sqrt, gg.tanh, gg.sigmoid, lambda x: 2.0 ** x,
                                lambda x: x ** 3, lambda x: gg.logsumexp(x)],
                         ids=["exp", "sqrt", "tanh", "sigmoid", "2**x", "x**3", "logsumexp"])
def test_second_derivatives_of_0d_tensors(fn):
    # numpy gives 0-d results as scalars; the op must still save its output, not a copy
    x = gg.Tensor(0.7, requires_grad=True)
    (g,) = gg.grad(fn(x), x, create_graph=True)
    assert g.requires_grad
    assert gg.gradgradcheck(fn, [gg.Tensor(0.7, requires_grad=True)])


@pytest.mark.parametrize("fn, value, slope", [
    (gg.softmax, 1.0, 0.0), (gg.log_softmax, 0.0, 0.0),
    (lambda x: gg.logsumexp(x, axis=-1), 0.7, 1.0), (lambda x: x.sum(axis=0), 0.7, 1.0),
    (lambda x: x.mean(axis=-1), 0.7, 1.0), (lambda x: x.max(axis=0), 0.7, 1.0),
], ids=["softmax", "log_softmax", "logsumexp_axis", "sum_axis", "mean_axis", "max_axis"])
def test_axis_0_or_minus_1_of_a_0d_tensor_reduces_nothing_as_in_numpy(fn, value, slope):
    """softmax's default axis=-1 on a scalar: forward, backward and second order."""
    x = gg.Tensor(0.7, requires_grad=True)
    y = fn(x)
    y.backward()
    assert y.shape == () and y.item() == pytest.approx(value) and x.grad == slope
    assert gg.gradgradcheck(fn, [gg.Tensor(0.7, requires_grad=True)])
    with pytest.raises(gg.OpError, match="axis 0 is out of range"):
        x.sum(axis=(0,))  # numpy refuses a tuple here too


def test_the_slope_of_x_to_the_zero_is_zero_even_at_zero():
    x = gg.Tensor([0.0, 2.0], requires_grad=True)
    (x ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])
    # d/dx (1 + 2x + 3x^2) = 2 + 6x = 2 at x = 0
    x = gg.Tensor(0.0, requires_grad=True)
    (np.array([1.0, 2.0, 3.0]) * x ** np.arange(3.0)).sum().backward()
    assert x.grad == 2.0


def test_a_cast_to_integers_or_bools_is_a_constant_without_gradient():
    x = gg.Tensor([1.7, 2.2], requires_grad=True)
    for dtype in (np.int64, bool):
        y = x.astype(dtype)
        assert y.dtype == dtype and not y.requires_grad and y.creator is None
    np.testing.assert_array_equal(gg.astype(x, np.int64).data, [1, 2])
    with pytest.raises(gg.GraphgradError, match="not understood") as info:
        x.astype("nope")
    assert isinstance(info.value, TypeError)


def test_an_index_tensor_with_fractions_is_refused():
    x = gg.Tensor(np.arange(4.0) * 10, requires_grad=True)
    np.testing.assert_array_equal(x[gg.Tensor([3, 1])].data, [30.0, 10.0])
    with pytest.raises(gg.GraphgradError, match="whole numbers") as info:
        x[gg.Tensor([0.9, 2.7])]
    assert isinstance(info.value, TypeError)


def test_clip_with_float64_bounds_keeps_float32():
    x = gg.Tensor(np.array([0.0, 0.5, 1.0], np.float32), requires_grad=True)
    y = gg.clip(x, np.float64(1e-7), 1 - np.float64(1e-7))
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 0.0])


@pytest.mark.parametrize("bound", ["3", 1j, True, ["0", "1"]])
@pytest.mark.parametrize("which", ["low", "high"])
def test_clip_refuses_a_bound_that_is_no_real_number(which, bound):
    """numpy read '3' as 3 and True as 1 (clipping [1, 5] to [1, 1] for high=True), and
    failed on float() for 1j."""
    with pytest.raises(gg.GraphgradTypeError, match=rf"^clip: {which} must be a real number or "
                                                    r"an array of them, got "):
        gg.clip(gg.Tensor([1.0, 5.0]), **{which: bound})


def test_clip_takes_numbers_and_arrays_of_them():
    x = gg.Tensor([1.0, 5.0])
    np.testing.assert_array_equal(gg.clip(x, 2, np.int64(4)).data, [2.0, 4.0])
    np.testing.assert_array_equal(gg.clip(x, [0, 6]).data, [1.0, 6.0])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_mean_over_an_empty_axis_is_nan_without_numpy_warnings_and_an_empty_gradient(dtype):
    """0/0, as PyTorch gives: numpy's mean warned twice from inside numpy (Mean of empty
    slice, invalid value encountered) about a value graphgrad documents."""
    x = gg.Tensor(np.ones((0, 3), dtype), requires_grad=True, name="X")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        down = gg.mean(x, axis=0)
        everything = gg.mean(x)
        across = gg.mean(x, axis=1, keepdims=True)  # m means of 3 numbers each: none
        (down.sum() + everything).backward()
    assert down.shape == (3,) and down.dtype == dtype and np.isnan(down.data).all()
    assert everything.shape == () and np.isnan(everything.item())
    assert across.shape == (0, 1) and across.dtype == dtype
    assert x.grad.shape == (0, 3) and x.grad.dtype == dtype
    assert gg.mean(np.zeros((2, 0), np.int64), axis=1).data.dtype == np.float64  # as numpy


@pytest.mark.parametrize("fn, word", [(gg.max, "max"), (gg.min, "min")])
@pytest.mark.parametrize("shape, axis, empty", [((0, 3), None, 0), ((0, 3), 0, 0),
                                                ((3, 0), -1, 1), ((2, 0, 4), (0, 1), 1)])
def test_max_and_min_over_an_axis_of_length_zero_are_refused_by_name(fn, word, shape, axis,
                                                                     empty):
    """numpy's own words (zero-size array to reduction operation maximum which has no
    identity) named no axis; PyTorch refuses it too."""
    x = gg.Tensor(np.ones(shape), requires_grad=True, name="A")
    with pytest.raises(gg.OpError) as info:
        fn(x, axis=axis)
    assert str(info.value) == (
        f"{word.title()}('A' {shape} float64, axis={axis}, keepdims=False) failed: axis "
        f"{empty} has length 0, and the {word} of no numbers has no value (PyTorch refuses it "
        f"too): check that the batch is not empty (m = 0), or take the {word} over axes of "
        "non-zero length")


def test_max_over_a_full_axis_of_an_empty_tensor_is_empty():
    x = gg.Tensor(np.ones((0, 3)), requires_grad=True)
    y = gg.max(x, axis=1, keepdims=True)
    assert y.shape == (0, 1)
    y.sum().backward()
    assert x.grad.shape == (0, 3)


def test_a_float32_mean_down_a_long_axis_is_correctly_rounded():
    """numpy adds a float32 column one row at a time in float32, so the mean of 100000 values
    near 1 was off by 1e-5 (some 80 units in the last place); added up in float64 it is
    the exact mean rounded once, and stays float32."""
    x = (1 + 0.01 * np.random.default_rng(3).standard_normal((100_000, 3))).astype(np.float32)
    exact = [math.fsum(column.tolist()) / len(column) for column in x.T]
    mean = gg.mean(x, axis=0)
    assert mean.dtype == np.float32
    np.testing.assert_array_equal(mean.data, np.array(exact, np.float32))
    assert gg.mean(np.full((7, 2), 1e4 + 0.1, np.float32)).item() == np.float32(1e4 + 0.1)


def test_a_float32_or_float16_sum_down_a_long_axis_is_correctly_rounded():
    """numpy adds a column one row at a time in the column's dtype: the float32 sum of 100000
    values near 1 was some 100 units off, and the float16 one of 6e4, 6e4, -6e4 was inf
    (PyTorch gives 6e4). Added up in float64 and rounded once, each is the exact sum."""
    x = (1 + 0.01 * np.random.default_rng(3).standard_normal((100_000, 3))).astype(np.float32)
    exact = [math.fsum(column.tolist()) for column in x.T]
    total = gg.sum(x, axis=0)
    assert total.dtype == np.float32
    np.testing.assert_array_equal(total.data, np.array(exact, np.float32))
    h = gg.Tensor(np.array([[6e4, 0.5], [6e4, 0.25], [-6e4, 0.25]], np.float16),
                  requires_grad=True)
    y = h.sum(axis=0)
    assert y.dtype == np.float16
    np.testing.assert_array_equal(y.data, [6e4, 1.0])
    y.sum().backward()
    assert h.grad.dtype == np.float16
    np.testing.assert_array_equal(h.grad, np.ones((3, 2)))


def test_a_float32_sum_over_trailing_axes_is_numpys_pairwise_sum():
    """Over the trailing axes of a contiguous float32 array (a loss's sum) numpy adds pairwise,
    within a few units of the exact sum: the sum is numpy's, at half the cost of adding up
    in float64 (7 us for (512, 64), where float64 took 16)."""
    rng = np.random.default_rng(2)
    for shape, axis in (((1000, 1000), None), ((10, 300, 400), (1, 2)), ((2000, 500), -1)):
        x = (1 + 0.01 * rng.standard_normal(shape)).astype(np.float32)
        total = gg.sum(x, axis=axis)
        assert total.dtype == np.float32
        np.testing.assert_array_equal(total.data, x.sum(axis=axis))
        exact = np.sum(x.astype(np.float64), axis=axis)
        assert np.all(np.abs(total.data - exact) <= 4 * np.spacing(exact.astype(np.float32)))


def test_logsumexp_of_huge_ties_has_a_gradient_that_sums_to_one():
    for dtype, big in ((np.float64, 1e16), (np.float32, 3e6)):
        x = gg.Tensor(np.array([big, big], dtype), requires_grad=True)
        gg.logsumexp(x).backward()
        np.testing.assert_allclose(x.grad, [0.5, 0.5])


@pytest.mark.parametrize("fn, ref", [
    (lambda x: gg.log_softmax(x, axis=0),
     lambda x: x - np.log(np.exp(x).sum(0, keepdims=True))),
    (lambda x: gg.softmax(x, axis=0), lambda x: np.exp(x) / np.exp(x).sum(0, keepdims=True)),
    (lambda x: gg.logsumexp(x, axis=0), lambda x: np.log(np.exp(x).sum(0)))],
    ids=["log_softmax", "softmax", "logsumexp"])
def test_float16_softmaxes_are_the_float64_values_rounded(fn, ref):
    """Taken in float32 and rounded once: in float16 the sum of e**(x - max) rounded 1.0003
    to 1, and the log-probability of a logit 8 above the others, -1.012e-3, was -9.76e-4
    (37 units off), and numpy adds a column of 3000 terms one by one; over drawn logits,
    every value is within a unit of float64's."""
    x = np.array([[8.0], [0.0], [-1.0], [0.5]], np.float16)
    assert gg.log_softmax(x, axis=0).data[0, 0] == np.float16(-1.012e-3)
    x = (np.random.default_rng(5).standard_normal((3000, 3)) * 4).astype(np.float16)
    y = fn(gg.Tensor(x))
    want = ref(x.astype(np.float64))
    assert y.dtype == np.float16
    unit = np.spacing(np.abs(want).astype(np.float16)).astype(np.float64)
    assert np.all(np.abs(y.data - want) <= unit)


def test_logsumexp_over_nothing_is_minus_infinity():
    y = gg.logsumexp(gg.Tensor(np.ones((2, 0))), axis=1)
    np.testing.assert_array_equal(y.data, [-np.inf, -np.inf])


def test_split_indices_that_go_back_are_refused():
    x = gg.Tensor(np.arange(4.0), requires_grad=True)
    with pytest.raises(gg.GraphgradError, match="go back"):
        gg.split(x, [3, 1])
    pieces = gg.split(x, [-1])  # negative indices count from the end, as in numpy
    assert [p.shape for p in pieces] == [(3,), (1,)]


@pytest.mark.parametrize("activation, at_zero", [
    (gg.relu, 0.0), (gg.leaky_relu, 0.01), (lambda x: gg.leaky_relu(x, alpha=0.2), 0.2),
])
def test_relus_take_the_left_slope_at_their_kink_as_pytorch_does(activation, at_zero):
    x = gg.Tensor(np.array([-1.0, 0.0, 1.0]), requires_grad=True)
    activation(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [at_zero, at_zero, 1.0])


@pytest.mark.parametrize("cuts", [[0, 2], [0], [-6, 3], [2, 2, 6], [-2]])
def test_split_at_indices_cuts_where_numpy_does(cuts):
    x = gg.Tensor(np.arange(6.0), requires_grad=True)
    pieces = gg.split(x, cuts)
    expected = np.split(np.arange(6.0), cuts)
    assert [p.data.tolist() for p in pieces] == [e.tolist() for e in expected]
    sum(((k + 1) * p).sum() for k, p in enumerate(pieces)).backward()
    # each element's gradient is the number of its piece
    np.testing.assert_array_equal(x.grad, np.concatenate(
        [np.full(len(e), k + 1.0) for k, e in enumerate(expected)]))


def test_split_takes_a_numpy_int_and_refuses_a_fraction():
    x = gg.Tensor(np.arange(6.0), requires_grad=True)
    assert [p.shape for p in gg.split(x, np.int64(3))] == [(2,), (2,), (2,)]
    with pytest.raises(gg.ArgumentError, match=r"split: indices_or_sections must be a number "
                       r"of equal sections or a sequence of indices to cut at, got 2\.5"):
        gg.split(x, 2.5)


def test_pad_of_a_0d_tensor_is_the_tensor_as_in_numpy():
    x = gg.Tensor(2.5, requires_grad=True)
    y = gg.pad(x, 3, constant_values=1.0)
    assert y.shape == () and y.item() == np.pad(np.array(2.5), 3, constant_values=1.0)
    y.backward()
    assert x.grad == 1.0


@pytest.mark.parametrize("reduce, expected, grad", [
    (lambda t: t.sum(axis=[0, 1]), 15.0, np.ones((2, 3))),
    (lambda t: t.mean(axis=[1, 0]), 2.5, np.full((2, 3), 1 / 6)),
    (lambda t: t.max(axis=[0, 1]), 5.0, [[0, 0, 0], [0, 0, 1]]),
    (lambda t: t.min(axis=[-1, 0]), 0.0, [[1, 0, 0], [0, 0, 0]]),
], ids=["sum", "mean", "max", "min"])
def test_reductions_take_a_list_of_axes_as_a_tuple(reduce, expected, grad):
    t = gg.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = reduce(t)
    assert y.item() == expected
    y.backward()
    np.testing.assert_allclose(t.grad, grad)


@pytest.mark.parametrize("call, message", [
    (lambda W: gg.stack(5), "takes a list of tensors"),
    (lambda W: gg.concatenate(W), "takes a list of tensors"),
    # numpy's "need at least one array to concatenate" came after "Concatenate(, axis=0)"
    (lambda W: gg.concatenate([]), r"^concatenate got an empty list: give at least one tensor "
                                   r"to join \(concatenate\(\[a, b\], axis=0\)\)$"),
    (lambda W: gg.stack(()), r"^stack got an empty list: give at least one tensor to join"),
    (lambda W: gg.split(W, 2, axis=2), "axis 2 is out of range"),
    (lambda W: W.sum(axis="0"), "axis must be an int"),
    (lambda W: gg.pad(W, ((1, 1),) * 3), r"one \(before, after\) pair per axis"),
    (lambda W: gg.pad(W, 1.7), r"pad_width must hold whole numbers \(ints\), got 1.7"),
    (lambda W: gg.where(np.ones((3, 4), bool), W, np.ones((2, 5))),
     r"the condition \(3, 4\), x \(3, 4\) and y \(2, 5\) do not broadcast"),
    (lambda W: gg.leaky_relu(W, alpha=np.full((2, 1, 4), 0.1)),
     r"leaky_relu: alpha of shape \(2, 1, 4\) must broadcast to the shape of x, 'W' \(3, 4\)"),
    (lambda W: gg.clip(W, np.zeros((2, 3, 4)), 1.0),
     r"clip: low of shape \(2, 3, 4\) must broadcast to the shape of x, 'W' \(3, 4\)"),
    (lambda W: gg.clip(W, None, np.ones((4, 1))),
     r"clip: high of shape \(4, 1\) must broadcast to the shape of x, 'W' \(3, 4\)"),
])
def test_bad_arguments_to_ops_get_graphgrad_errors_that_explain(call, message):
    W = gg.Tensor(np.ones((3, 4)), name="W")
    with pytest.raises(gg.GraphgradError, match=message) as info:
        call(W)
    assert "array([[" not in str(info.value)  # settings are named by shape, not printed
    assert gg.broadcast_to(gg.Tensor(1.0), 4).shape == (4,)  # an int shape, as in numpy


def test_np_dot_on_tensors_is_matmul_or_scaling_and_refuses_stacks():
    a = gg.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    b = np.arange(3.0)
    np.testing.assert_allclose(np.dot(a, b).data, a.data @ b)
    np.testing.assert_allclose(np.dot(2.0, a).data, 2.0 * a.data)
    with pytest.raises(gg.GraphgradError, match="stacks of matrices") as info:
        np.dot(gg.Tensor(np.ones((2, 3, 4))), gg.Tensor(np.ones((2, 4, 5))))
    assert isinstance(info.value, TypeError)
    with pytest.raises(gg.GraphgradError, match="reflect_type=..."):
        np.pad(a, 1, mode="reflect", reflect_type="odd")


# -- var, std and norm ---------------------------------------------------------------------------
SPREADS_AND_NORMS = [
    ("var", gg.var, np.var, {}),
    ("var_axis1_ddof1", gg.var, np.var, {"axis": 1, "ddof": 1}),
    ("std_axes_keepdims", gg.std, np.std, {"axis": (0, 2), "keepdims": True}),
    ("std_axis0_ddof1", gg.std, np.std, {"axis": 0, "ddof": 1}),
    ("norm", gg.norm, np.linalg.norm, {}),
    ("norm_axis_keepdims", gg.norm, np.linalg.norm, {"axis": -1, "keepdims": True}),
    ("norm_two_axes", gg.norm, np.linalg.norm, {"axis": (2, 1)}),
]


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-13), (np.float32, 1e-6)])
@pytest.mark.parametrize("fn, ref, settings", [c[1:] for c in SPREADS_AND_NORMS],
                         ids=[c[0] for c in SPREADS_AND_NORMS])
def test_var_std_and_norm_give_numpys_values_and_float32_stays_float32(fn, ref, settings,
                                                                       dtype, rtol):
    data = (1.0 + np.random.default_rng(4).standard_normal((2, 3, 4))).astype(dtype)
    x = gg.Tensor(data, requires_grad=True)
    y = fn(x, **settings)
    want = ref(data, **settings)
    assert y.dtype == dtype and y.shape == want.shape
    np.testing.assert_allclose(y.data, want, rtol=rtol)
    y.sum().backward()
    assert x.grad.dtype == dtype


def test_var_and_std_gradients_are_the_course_formulas():
    """x = [1, 2, 3, 6]: mean 3, sum of squares 14; dvar/dx = 2 (x - 3) / (n - ddof) and
    dstd/dx = (x - 3) / ((n - ddof) std)."""
    for ddof, n in ((0, 4), (1, 3)):
        x = gg.Tensor([1.0, 2.0, 3.0, 6.0], requires_grad=True)
        var = gg.var(x, ddof=ddof)
        assert var.item() == pytest.approx(14 / n, rel=1e-15)
        var.backward()
        np.testing.assert_allclose(x.grad, 2 * np.array([-2.0, -1.0, 0.0, 3.0]) / n, rtol=1e-15)
        x.grad = None
        x.std(ddof=ddof).backward()
        np.testing.assert_allclose(x.grad, np.array([-2.0, -1.0, 0.0, 3.0]) / (n * np.sqrt(14 / n)),
                                   rtol=1e-15)


def test_float64_std_and_norm_gradients_round_as_one_scaling_of_x():
    """In float64 the gradients are grad / ((n - ddof) y) * (x - mean(x)) and grad / y * x:
    a scale of the output's shape, then one product of the input's, as they were before
    float16 took (x - mean(x)) / y first (two products of the input's shape, 15% slower on
    (512, 64), and values a unit apart in the last place)."""
    data = np.random.default_rng(5).standard_normal((3, 4))
    g = np.random.default_rng(6).standard_normal(4)
    x = gg.Tensor(data, requires_grad=True)
    gg.std(x, axis=0).backward(g)
    y = data.std(axis=0)
    np.testing.assert_array_equal(x.grad, g / (y * 3) * (data - data.mean(axis=0)))
    x.grad = None
    gg.norm(x, axis=0).backward(g)
    np.testing.assert_array_equal(x.grad, g / np.sqrt((data * data).sum(axis=0)) * data)


def test_a_float32_std_is_taken_in_float64_where_numpy_overflows():
    """numpy squares float32 deviations in float32: 1e20**2 overflows to inf. graphgrad squares
    and adds them in float64, as its mean adds, and rounds the result once."""
    big = np.array([1e20, 2e20, 4e20], np.float32)
    with np.errstate(over="ignore"):
        assert np.isinf(np.std(big))
    x = gg.Tensor(big, requires_grad=True)
    y = gg.std(x)
    assert y.dtype == np.float32
    assert y.item() == np.float32(np.std(big.astype(np.float64)))
    y.backward()
    deviations = big.astype(np.float64) - big.astype(np.float64).mean()
    np.testing.assert_allclose(x.grad, deviations / (3 * np.std(big.astype(np.float64))),
                               rtol=1e-6)


def test_a_float32_norm_is_taken_in_float64_where_numpy_overflows():
    """numpy squares float32 values in float32: 4e20**2 overflows to inf. graphgrad squares
    and adds them in float64, as its mean adds, and rounds the result once."""
    big = np.array([3e20, 4e20], np.float32)
    with np.errstate(over="ignore"):
        assert np.isinf(np.linalg.norm(big))
    x = gg.Tensor(big, requires_grad=True)
    y = gg.norm(x)
    assert y.dtype == np.float32 and y.item() == np.float32(5e20)
    y.backward()
    np.testing.assert_allclose(x.grad, [0.6, 0.8], rtol=1e-6)


@pytest.mark.parametrize("fn, dtype, scale", [
    (gg.std, np.float16, 1e4), (gg.norm, np.float16, 1e-6), (gg.std, np.float32, 3e37),
    (gg.var, np.float32, 3e37)], ids=["std-float16-large", "norm-float16-subnormal",
                                      "std-float32-large", "var-float32-large"])
def test_spread_gradients_are_rounded_at_the_ends_of_a_dtypes_range(fn, dtype, scale):
    """The gradients (x - mean(x)) / (n y) and x / y, of at most sqrt(n) and 1: n y overflowed
    float16 for y of 3000 (the gradient of the std of values near 1e4 was 0), 1 / y did
    for y below 2e-5 (the norm's of subnormal values was inf), and the mean(x) they take
    again, numpy's, was inf for float32 values of 3e37 (var's gradient too, finite where
    var itself overflows). Each is the float64 one rounded, within a few units of the
    largest (a subnormal y holds fewer digits, which x / y carries)."""
    x = (np.random.default_rng(4).uniform(0.5, 1.5, 24) * scale).astype(dtype)
    t = gg.Tensor(x, requires_grad=True)
    with np.errstate(over="ignore"):  # var of values of 3e37 is beyond float32: inf
        (fn(t) * 1.5).backward()
    wide = x.astype(np.float64)
    y = fn(wide).item()
    centred = wide - wide.mean()
    want = 1.5 * {gg.std: centred / (24 * y), gg.var: centred / 12, gg.norm: wide / y}[fn]
    assert t.grad.dtype == dtype
    # units of the largest: x - mean(x) takes the rounding of the mean, a unit of x
    unit = np.spacing(np.abs(want).max().astype(dtype)).astype(np.float64)
    tolerance = 4 if scale > 1e-6 else 24  # subnormal x holds 4 digits: x / y carries them
    assert np.all(np.abs(t.grad - want) <= tolerance * unit)


def test_norm_gradient_at_a_zero_vector_is_zero_where_sqrt_of_a_sum_gives_nan():
    """x / ||x|| is 0/0 at x = 0: the gradient there is 0, a subgradient of the kink (as
    PyTorch's linalg.vector_norm gives); sqrt(sum(x**2)) gives 0 * inf = NaN. The rows that
    are not zero get x / ||x||, in first and second order."""
    data = np.array([[0.0, 0.0, 0.0], [3.0, 0.0, 4.0]])
    z = gg.Tensor(data, requires_grad=True)
    with np.errstate(all="ignore"):
        gg.sqrt((z * z).sum(axis=1)).sum().backward()
    assert np.isnan(z.grad[0]).all()
    x = gg.Tensor(data, requires_grad=True, name="enc")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division by zero either
        y = gg.norm(x, axis=1)
        y.sum().backward()
        (dx,) = gg.grad(gg.norm(x, axis=1).sum(), [x], create_graph=True)
        (d2x,) = gg.grad((dx * dx).sum(), [x])  # |x / ||x|| |**2 = 1 per row: no change
    np.testing.assert_array_equal(y.data, [0.0, 5.0])
    np.testing.assert_allclose(x.grad, [[0.0, 0.0, 0.0], [0.6, 0.0, 0.8]], rtol=1e-15)
    assert x.grad[0].tolist() == [0.0, 0.0, 0.0]
    np.testing.assert_array_equal(dx.data, x.grad)
    np.testing.assert_allclose(d2x, np.zeros((2, 3)), atol=1e-15)


def test_std_gradient_where_all_values_are_equal_is_zero_not_nan():
    x = gg.Tensor(np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 6.0]]), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = gg.std(x, axis=1, ddof=1)
        y.sum().backward()
    np.testing.assert_allclose(y.data, [0.0, np.sqrt(7.0)], rtol=1e-15)
    np.testing.assert_allclose(x.grad, [[0.0, 0.0, 0.0],
                                        np.array([-2.0, -1.0, 3.0]) / (2 * np.sqrt(7.0))],
                               rtol=1e-15)


def test_std_of_equal_values_whose_mean_rounds_has_the_zero_gradient_too():
    # mean([0.1, 0.1, 0.1]) is 1 ulp above 0.1, so the std is 1.4e-17, as numpy's, not 0;
    # (x - mean) / (n std) would give each value -1/3, a gradient that does not sum to 0.
    x = gg.Tensor(np.array([[0.1, 0.1, 0.1], [0.1, 0.2, 0.3]]), requires_grad=True)
    y = gg.std(x, axis=1)
    np.testing.assert_array_equal(y.data, np.std(x.data, axis=1))
    assert 0 < y.data[0] < 1e-16
    y.sum().backward()
    np.testing.assert_array_equal(x.grad[0], [0.0, 0.0, 0.0])
    centred = x.data[1] - x.data[1].mean()
    np.testing.assert_allclose(x.grad[1], centred / (3 * y.data[1]), rtol=1e-12)


def test_gradcheck_at_a_zero_vector_names_the_kinks_of_norm_and_passes():
    z = gg.Tensor(np.zeros(3), requires_grad=True, name="z")
    result = gg.gradcheck(gg.norm, [z])
    assert result
    (pair,) = result.pairs
    assert [kink[0] for kink in pair.kinks] == [(0,), (1,), (2,)]
    for _, left, right, analytic in pair.kinks:  # |h|: slopes of opposite signs, 0 between
        assert left == pytest.approx(-right) and left < 0 and analytic == 0.0
    assert "element (0,) sits at a kink" in str(result)
    assert "the analytic 0 is a valid subgradient" in str(result)


@pytest.mark.parametrize("fn", [gg.var, gg.std], ids=["var", "std"])
@pytest.mark.parametrize("ddof", [0, 1])
def test_var_and_std_of_no_numbers_are_nan_without_warnings_and_an_empty_gradient(fn, ddof):
    """0/0, as gg.mean of no numbers (an empty batch, m = 0) is."""
    x = gg.Tensor(np.ones((0, 3), np.float32), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = fn(x, axis=0, ddof=ddof)
        y.sum().backward()
        across = fn(x, axis=1, keepdims=True, ddof=ddof)
    assert y.shape == (3,) and y.dtype == np.float32 and np.isnan(y.data).all()
    assert across.shape == (0, 1)
    assert x.grad.shape == (0, 3) and x.grad.dtype == np.float32


@pytest.mark.parametrize("call, message", [
    (lambda X: gg.var(X, axis=2),
     r"^Var\('X' \(3, 4\) float64, axis=2, keepdims=False, ddof=0\) failed: axis 2 is out of "
     r"range for an array of 2 dimensions\n  'X' \(3, 4\) float64 has 2 axes: give an axis "
     r"from -2 to 1 or a tuple of them, or axis=None for all of its elements$"),
    (lambda X: X.std(axis=(1, -1)),
     r"^Std\('X' .* failed: duplicate value in 'axis'\n  axis=\(1, -1\) names axis 1 of 'X' "
     r"\(3, 4\) float64 twice: give each axis once$"),
    (lambda X: gg.norm(X, axis=(2,)),
     r"^Norm\('X' \(3, 4\) float64, axis=\(2,\), keepdims=False\) failed: axis 2 is out of "
     r"range for an array of 2 dimensions\n  'X' \(3, 4\) float64 has 2 axes: give an axis "
     r"from -2 to 1 or a tuple of them, or axis=None for all of its elements$"),
    (lambda X: X.norm(axis=(1, -1)),
     r"^Norm\('X' .* failed: duplicate value in 'axis'\n  axis=\(1, -1\) names axis 1 of 'X' "
     r"\(3, 4\) float64 twice: give each axis once$"),
    (lambda X: gg.std(X, ddof=-1),
     r"^Std\('X' \(3, 4\) float64, axis=None, keepdims=False, ddof=-1\) failed: ddof must be "
     r"a number of at least 0, got -1: 0 divides by n \(the population variance, numpy's "
     r"default, the course's batch norm\), 1 by n - 1 \(the unbiased sample variance, "
     r"PyTorch's default\)$"),
    (lambda X: X.var(ddof="1"), r"^Var\('X' .*ddof='1'\) failed: ddof must be a number"),
    (lambda X: X.var(ddof=True), r"^Var\('X' .*ddof=True\) failed: ddof must be a number"),
    (lambda X: X.std(ddof=np.nan), r"^Std\('X' .*ddof=nan\) failed: ddof must be a number"),
    (lambda X: gg.var(X, axis=0, ddof=3),
     r"^Var\('X' \(3, 4\) float64, axis=0, keepdims=False, ddof=3\) failed: the variance of 3 "
     r"numbers with ddof=3 divides by n - ddof = 0 \(numpy gives inf or NaN with a warning, "
     r"PyTorch NaN\): take it over more than 3 numbers, or with ddof=0, which divides by n$"),
    (lambda X: gg.std(X[0, 0], ddof=1),
     r"^Std\(.* failed: the standard deviation of 1 number with ddof=1 divides by n - ddof = "
     "0"),
    (lambda X: gg.var(X, keepdims=1), r"^var: keepdims must be True or False, got 1$"),
    (lambda X: gg.norm(X, keepdims=1), r"^norm: keepdims must be True or False, got 1$"),
], ids=["axis", "axis-twice", "norm-axis", "norm-axis-twice", "ddof-negative", "ddof-text",
        "ddof-bool", "ddof-nan", "ddof-n", "ddof-one-number", "keepdims", "norm-keepdims"])
def test_bad_settings_of_var_std_and_norm_name_the_op_the_tensor_and_what_to_do(call, message):
    X = gg.Tensor(np.ones((3, 4)), requires_grad=True, name="X")
    with pytest.raises(gg.GraphgradError, match=message):
        call(X)


@pytest.mark.parametrize("call, message", [
    (lambda X: gg.sum(X, axis=2),
     r"^Sum\('X' \(3, 4\) float64, axis=2, keepdims=False\) failed: axis 2 is out of range for "
     r"an array of 2 dimensions\n  'X' \(3, 4\) float64 has 2 axes: give an axis from -2 to 1 "
     r"or a tuple of them, or axis=None for all of its elements$"),
    (lambda X: X.mean(axis="rows"), r"^Mean\(.* failed: axis must be an int .*\n  'X' \(3, 4\) "
     r"float64 has 2 axes"),
    (lambda X: X.max(axis=(0, 0)),
     r"^Max\(.* failed: duplicate value in 'axis'\n  axis=\(0, 0\) names axis 0 of 'X' "
     r"\(3, 4\) float64 twice: give each axis once$"),
    (lambda X: gg.min(X, axis=-3), r"^Min\(.* failed: axis -3 is out of range.*\n  'X' \(3, 4\) "
     r"float64 has 2 axes"),
], ids=["sum", "mean", "max", "min"])
def test_a_bad_axis_of_every_reduction_says_the_axes_the_tensor_has(call, message):
    X = gg.Tensor(np.ones((3, 4)), requires_grad=True, name="X")
    with pytest.raises(gg.OpError, match=message):
        call(X)
