"""log1p, expm1, softplus, elu, silu, gelu (both forms), erf, erfc, prod and cumsum at the
values the op table does not draw: prod's gradient and second derivatives where a slice holds
zeros, the activations at +-1000, the small x that log1p and expm1 exist for, float32, and
the methods and numpy calls that record each op."""
import itertools
import math
import warnings

import numpy as np
import pytest
from op_table import erfc_by_math, gelu_tanh

import graphgrad as gg
from graphgrad import nn


def _gelu_tanh(x):
    return gg.gelu(x, approximate="tanh")


# -- prod with zeros ---------------------------------------------------------------------------
def _others(x: np.ndarray) -> np.ndarray:
    """By hand: the product of the other elements, one by one."""
    return np.array([np.prod(np.delete(x, i)) for i in range(x.size)])


@pytest.mark.parametrize("values, expected", [
    ([2.0, 3.0, -0.5, 4.0], [-6.0, -4.0, 24.0, -3.0]),    # y / x_i
    ([2.0, 0.0, -0.5, 4.0], [0.0, -4.0, 0.0, 0.0]),       # the zero gets 2 * -0.5 * 4
    ([2.0, 0.0, -0.5, 0.0], [0.0, 0.0, 0.0, 0.0]),        # two zeros: 0 for all
    ([0.0, 0.0, 0.0, 3.0], [0.0, 0.0, 0.0, 0.0]),
], ids=["no zero", "one zero", "two zeros", "three zeros"])
def test_prod_gradient_with_zeros_is_the_product_of_the_others(values, expected):
    x = gg.Tensor(values, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 0/0 on the way
        y = gg.prod(x)
        y.backward()
    assert y.item() == np.prod(values)
    np.testing.assert_array_equal(x.grad, expected)
    np.testing.assert_array_equal(x.grad, _others(np.array(values)))


def test_prod_gradient_per_slice_along_an_axis_with_zeros_in_some():
    X = np.array([[1.5, 2.0, -1.0], [0.0, 2.0, 3.0], [0.0, 5.0, 0.0]])
    x = gg.Tensor(X, requires_grad=True)
    upstream = np.array([[2.0], [-1.0], [3.0]])
    gg.prod(x, axis=1, keepdims=True).backward(upstream)
    expected = np.stack([_others(row) for row in X]) * upstream
    np.testing.assert_array_equal(x.grad, expected)
    assert not np.isnan(x.grad).any()


@pytest.mark.parametrize("zeros", [(), (1,), (1, 3), (0, 1, 3)], ids=["0", "1", "2", "3"])
def test_prod_second_derivatives_with_zeros_are_the_products_of_all_but_two(zeros):
    """d2 prod / dx_i dx_j = the product of all but x_i and x_j (0 for i = j): with one zero
    at k, the pairs (k, j) get the product of the rest; with two, the pair of zeros alone."""
    values = np.array([1.5, -2.0, 0.5, 3.0])
    values[list(zeros)] = 0.0
    x = gg.Tensor(values, requires_grad=True)
    (g,) = gg.grad(gg.prod(x), x, create_graph=True)
    np.testing.assert_array_equal(g.data, _others(values))
    hessian = np.stack([gg.grad(g[i], x, retain_graph=True)[0] for i in range(4)])
    expected = np.zeros((4, 4))
    for i, j in itertools.permutations(range(4), 2):
        expected[i, j] = np.prod(np.delete(values, [i, j]))
    np.testing.assert_allclose(hessian, expected, rtol=1e-15, atol=0)
    assert gg.gradgradcheck(gg.prod, [values])


@pytest.mark.parametrize("zeros", [(), (1,), (1, 3), (0, 1, 3), (0, 1, 2, 3)],
                         ids=["0", "1", "2", "3", "4"])
def test_prod_third_derivatives_with_zeros_are_the_products_of_all_but_three(zeros):
    """d3 prod / dx_i dx_j dx_k = the product of all but x_i, x_j and x_k (0 where two of
    them are one): with two zeros, the triples (zero, zero, j) get the product of the rest;
    with three, the triple of zeros gets the fourth value."""
    values = np.array([1.5, -2.0, 0.5, 3.0])
    values[list(zeros)] = 0.0
    x = gg.Tensor(values, requires_grad=True)
    (g,) = gg.grad(gg.prod(x), x, create_graph=True)
    third = np.zeros((4, 4, 4))
    for i in range(4):
        (h,) = gg.grad(g[i], x, create_graph=True, retain_graph=True)
        for j in range(4):
            if h.requires_grad:
                third[i, j] = gg.grad(h[j], x, retain_graph=True)[0]
    expected = np.zeros((4, 4, 4))
    for i, j, k in itertools.permutations(range(4), 3):
        expected[i, j, k] = np.prod(np.delete(values, [i, j, k]))
    np.testing.assert_allclose(third, expected, rtol=1e-15, atol=0)


def test_prod_takes_the_products_of_the_others_where_a_product_is_zero_or_nan():
    """A zero beside an inf makes a NaN product, not 0: that slice's gradient is still the
    product of the others (inf, 0, and 0 * inf = NaN), not y / x (NaN for all); a product that
    underflows to 0 with no zero in x gets them too, where y / x gave 0 for each."""
    X = np.array([[0.0, np.inf, 2.0], [2.0, 3.0, -0.5]])
    x = gg.Tensor(X, requires_grad=True)
    with np.errstate(invalid="ignore"):
        y = gg.prod(x, axis=1)
        np.testing.assert_array_equal(y.data, [np.nan, -3.0])
        y.backward(np.array([2.0, -1.0]))
    np.testing.assert_array_equal(x.grad, [[np.inf, 0.0, np.nan], [1.5, 1.0, -6.0]])
    tiny = gg.Tensor([1e-200, 1e-200, 3.0], requires_grad=True)
    y = gg.prod(tiny)
    assert y.item() == 0.0
    y.backward()
    np.testing.assert_allclose(tiny.grad, [3e-200, 3e-200, 0.0], rtol=1e-15, atol=0)


@pytest.mark.parametrize("dtype, values", [(np.float16, [1e-4, 1e-4, 0.5]),
                                           (np.float32, [1e-25, 1e-25, 0.5])],
                         ids=["float16", "float32"])
def test_prod_of_small_factors_that_underflows_still_has_their_gradients(dtype, values):
    """Two probabilities of 1e-4 in float16 multiply to 1e-8, below its smallest number: the
    product is 0, but its slope along each factor is the other's 1e-4 times 0.5 (PyTorch's
    y / x gives 0), in the dtype; second derivatives are the products of the third."""
    x = gg.Tensor(np.array(values, dtype), requires_grad=True)
    y = gg.prod(x)
    assert y.item() == 0.0
    (g,) = gg.grad(y, x, create_graph=True)
    assert g.dtype == dtype
    data = x.data.astype(np.float64)
    np.testing.assert_allclose(g.data, [data[1] * data[2], data[0] * data[2], 0.0], rtol=2e-3)
    (h,) = gg.grad(g[0], x)  # d2 y / dx0 dx_j: 0, x2, x1
    np.testing.assert_allclose(h, [0.0, data[2], data[1]], rtol=2e-3)
    y.backward()
    np.testing.assert_array_equal(x.grad, g.data)


def test_prod_of_an_empty_axis_is_one_with_an_empty_gradient():
    x = gg.Tensor(np.zeros((2, 0)), requires_grad=True)
    y = gg.prod(x, axis=1)
    np.testing.assert_array_equal(y.data, [1.0, 1.0])
    y.sum().backward()
    assert x.grad.shape == (2, 0)


# -- the activations at the extremes ------------------------------------------------------------
@pytest.mark.parametrize("fn, value, grad", [
    (gg.softplus, [0.0, math.log(2.0), 1000.0], [0.0, 0.5, 1.0]),
    (gg.silu, [-0.0, 0.0, 1000.0], [0.0, 0.5, 1.0]),
    (gg.gelu, [-0.0, 0.0, 1000.0], [0.0, 0.5, 1.0]),
    (_gelu_tanh, [-0.0, 0.0, 1000.0], [0.0, 0.5, 1.0]),
    (gg.erf, [-1.0, 0.0, 1.0], [0.0, 2 / math.sqrt(math.pi), 0.0]),
    (gg.erfc, [2.0, 1.0, 0.0], [0.0, -2 / math.sqrt(math.pi), 0.0]),
    (gg.elu, [-1.0, 0.0, 1000.0], [0.0, 1.0, 1.0]),
    (lambda x: gg.elu(x, alpha=0.5), [-0.5, 0.0, 1000.0], [0.0, 0.5, 1.0]),
    (gg.log_sigmoid, [-1000.0, -math.log(2.0), 0.0], [1.0, 0.5, 0.0]),
], ids=["softplus", "silu", "gelu", "gelu-tanh", "erf", "erfc", "elu", "elu-alpha",
        "log_sigmoid"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_activations_are_finite_with_the_right_limits_at_plus_minus_1000(fn, value, grad,
                                                                          dtype):
    """At -1000, 0 and 1000 (elu's slope at 0 is its left-hand alpha, as PyTorch's)."""
    x = gg.Tensor(np.array([-1000.0, 0.0, 1000.0], dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow in exp, no inf * 0
        y = fn(x)
        y.sum().backward()
    assert y.dtype == dtype and x.grad.dtype == dtype
    np.testing.assert_allclose(y.data, value, rtol=1e-6, atol=0)
    np.testing.assert_allclose(x.grad, grad, rtol=1e-6, atol=0)


@pytest.mark.parametrize("fn, tail", [
    (gg.softplus, lambda x: np.exp(x)),                 # ln(1 + e**x) ~ e**x
    (gg.silu, lambda x: x * np.exp(x)),                 # x sigmoid(x) ~ x e**x
    (gg.elu, lambda x: np.expm1(x)),
    (lambda x: gg.log_sigmoid(-x), lambda x: -np.exp(x)),  # ln sigmoid(-x) ~ -e**x
], ids=["softplus", "silu", "elu", "log_sigmoid"])
def test_activations_keep_their_negative_tail_to_full_precision(fn, tail):
    x = np.array([-40.0, -100.0, -700.0])
    np.testing.assert_allclose(fn(x).data, tail(x), rtol=1e-13)


def test_gelu_tanh_is_its_tanh_formula_and_its_derivative():
    """0.5 x (1 + tanh(u)) and its derivative by hand where 1 + tanh(u) does not cancel
    (x >= -5); below, x e**2u / (1 + e**2u), the same value, which the formula rounds to
    0 from x = -8."""
    c = math.sqrt(2 / math.pi)
    x = np.linspace(-5.0, 12.0, 171)
    x_t = gg.Tensor(x, requires_grad=True)
    y = _gelu_tanh(x_t)
    np.testing.assert_allclose(y.data, gelu_tanh(x), rtol=1e-13, atol=1e-15)
    t = np.tanh(c * (x + 0.044715 * x**3))
    slope = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x**2)
    y.sum().backward()
    np.testing.assert_allclose(x_t.grad, slope, rtol=1e-12, atol=1e-14)
    tail = np.linspace(-25.0, -5.0, 81)
    e = np.exp(2 * c * (tail + 0.044715 * tail**3))
    np.testing.assert_allclose(_gelu_tanh(tail).data, tail * e / (1 + e), rtol=1e-12)
    lost = tail[(tail >= -20) & (tail <= -8)]  # e**2u above float64's smallest, 5e-324
    assert (gelu_tanh(lost) == 0).all() and (_gelu_tanh(lost).data < 0).all()


def _assert_float16_within_one_unit(op, x16):
    """op of float16 x16, value and slope, within one unit of the last place of float64's
    rounded to float16."""
    x = gg.Tensor(x16, requires_grad=True)
    y = op(x)
    y.sum().backward()
    assert y.dtype == np.float16 and x.grad.dtype == np.float16
    exact = gg.Tensor(x16.astype(np.float64), requires_grad=True)
    op(exact).sum().backward()
    for got, want in ((y.data, op(exact).data), (x.grad, exact.grad)):
        rounded = want.astype(np.float16)
        units = np.abs(got.astype(np.float64) - rounded) / np.spacing(np.abs(rounded))
        assert units.max() <= 1, (x16[units.argmax()], units.max())


def test_gelu_tanh_of_float16_is_within_one_unit_of_the_rounded_value_and_slope():
    """float16 holds 2u = 2 sqrt(2/pi) (x + 0.044715 x**3) to 3 digits, and its gate
    sigmoid(2u) in the tail takes that error relatively: the op computes in float32, as
    PyTorch does, and rounds once."""
    _assert_float16_within_one_unit(_gelu_tanh,
                                    np.arange(-6.0, 6.0, 1 / 64).astype(np.float16))


def test_gelu_of_float16_is_within_one_unit_of_the_rounded_value_and_slope():
    """The exact form computes x Phi(x) in float64 and its slope in float32, rounding
    once: -x / sqrt(2) taken in float16 would carry its 3 digits into the tail."""
    _assert_float16_within_one_unit(gg.gelu, np.arange(-8.0, 8.0, 1 / 64).astype(np.float16))


def test_silu_of_float16_is_within_one_unit_of_the_rounded_value_and_slope():
    """silu's slope s (1 + x (1 - s)) crosses 0 at its minimum, x = -1.28, where 1 + x (1 - s)
    cancels: taken in float16 it was 0 where the slope is 3e-5, and 760 units of the last
    place off beside it (its value 6 units off in the tail, x = -12). The op computes in
    float32, as PyTorch does, and rounds once."""
    _assert_float16_within_one_unit(gg.silu, np.arange(-12.0, 12.0, 1 / 256).astype(np.float16))


@pytest.mark.parametrize("approximate", ["tanh", "none"])
def test_gelu_beyond_the_clipped_cubic_is_x_or_zero_with_slope_one_or_zero(approximate):
    x = gg.Tensor(np.array([-1e30, -31.0, 31.0, 1e30], np.float32), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # float32's x**3 would overflow beyond 7e12
        y = gg.gelu(x, approximate=approximate)
        y.sum().backward()
    np.testing.assert_array_equal(y.data, np.array([0.0, 0.0, 31.0, 1e30], np.float32))
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 1.0, 1.0])


@pytest.mark.parametrize("call", [lambda a: gg.gelu(gg.Tensor([1.0]), approximate=a),
                                  lambda a: gg.Tensor([1.0]).gelu(a), lambda a: nn.GELU(a)],
                         ids=["gg.gelu", "method", "nn.GELU"])
def test_gelu_refuses_a_form_that_is_neither_none_nor_tanh_naming_both(call):
    for wrong, shown in (("foo", "'foo'"), ("exact", "'exact'"), (None, "None"),
                         ("Tanh", "'Tanh'")):
        with pytest.raises(gg.ArgumentError, match=r"(gelu|GELU): approximate must be 'none' "
                           r"\(the exact form x Phi\(x\), PyTorch's default\) or 'tanh' "
                           rf"\(its tanh form\), got {shown}"):
            call(wrong)


@pytest.mark.parametrize("alpha", ["a", float("nan"), float("inf"), None, True])
def test_elu_refuses_an_alpha_that_is_no_finite_number(alpha):
    with pytest.raises(gg.ArgumentError, match=r"elu: alpha must be a finite number"):
        gg.elu(gg.Tensor([1.0]), alpha=alpha)
    with pytest.raises(gg.ArgumentError, match=r"ELU: alpha must be a finite number"):
        nn.ELU(alpha)


def test_elu_refuses_an_alpha_that_requires_grad_saying_how_to_learn_it():
    with pytest.raises(gg.GraphgradTypeError, match=r"elu: alpha is .*requires grad.*"
                       r"gg\.where\(x > 0, x, alpha \* gg\.expm1"):
        gg.elu(gg.Tensor([1.0]), alpha=gg.Tensor(0.5, requires_grad=True))


# -- log1p and expm1 -----------------------------------------------------------------------------
def test_log1p_and_expm1_are_exact_for_small_x_and_expm1_keeps_its_tail_slope():
    tiny = gg.Tensor([1e-20, -3e-17], requires_grad=True)
    np.testing.assert_array_equal(gg.log1p(tiny).data, [1e-20, -3e-17])
    np.testing.assert_array_equal(gg.expm1(tiny).data, [1e-20, -3e-17])
    x = gg.Tensor([-40.0, 0.0, 2.0], requires_grad=True)
    gg.expm1(x).sum().backward()
    np.testing.assert_allclose(x.grad, np.exp([-40.0, 0.0, 2.0]), rtol=1e-15)
    z = gg.Tensor([-0.5, 0.0, 3.0], requires_grad=True)
    gg.log1p(z).sum().backward()
    np.testing.assert_allclose(z.grad, [2.0, 1.0, 0.25], rtol=1e-15)


# -- cumsum --------------------------------------------------------------------------------------
def test_cumsum_backward_is_the_running_sum_of_the_gradient_from_the_end():
    x = gg.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = gg.cumsum(x, axis=1)
    np.testing.assert_array_equal(y.data, [[0.0, 1.0, 3.0], [3.0, 7.0, 12.0]])
    y.backward(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
    np.testing.assert_array_equal(x.grad, [[6.0, 5.0, 3.0], [15.0, 11.0, 6.0]])


def test_cumsum_with_axis_none_flattens_as_numpy_does():
    x = gg.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = gg.cumsum(x)
    np.testing.assert_array_equal(y.data, np.cumsum(np.arange(6.0)))
    y.backward(np.arange(1.0, 7.0))
    np.testing.assert_array_equal(x.grad, [[21.0, 20.0, 18.0], [15.0, 11.0, 6.0]])
    scalar = gg.Tensor(3.0, requires_grad=True)
    assert gg.cumsum(scalar, axis=0).shape == (1,) == np.cumsum(np.array(3.0), axis=0).shape


def test_cumsum_of_float32_adds_up_in_float64():
    x = np.full(100_000, 0.1, np.float32)
    y = gg.cumsum(x)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.data, np.cumsum(x, dtype=np.float64).astype(np.float32))
    assert abs(y.data[-1] - 10_000.0) < 1e-3  # numpy's float32 cumsum ends near 9998.6


def test_cumsum_of_float16_adds_up_in_float64_as_its_docstring_says():
    # 6e4 + 6e4 passes float16's largest number, 65504, but 6e4 + 6e4 - 6e4 does not
    with np.errstate(over="ignore"):  # the inf is the true running sum, rounded
        y = gg.cumsum(np.array([6e4, 6e4, -6e4], np.float16))
    assert y.dtype == np.float16
    np.testing.assert_array_equal(y.data, np.array([6e4, np.inf, 6e4], np.float16))


def test_cumsum_backward_on_arrays_runs_in_numpy_and_recorded_stays_differentiable(
        monkeypatch):
    """cumsum's backward on arrays takes the running sum from the end in numpy, not through
    Cumsum.call and its axis checks, float32 in float64 as the forward; recorded
    (create_graph) it is Cumsum again, so the gradient has its own gradient."""
    from graphgrad.ops.cumulative import Cumsum
    X = np.arange(6.0).reshape(2, 3)
    G = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    monkeypatch.setattr(Cumsum, "call", None)  # calling it fails
    for axis, dx in [(1, [[6, 5, 3], [15, 11, 6]]), (-2, [[5, 7, 9], [4, 5, 6]]),
                     (None, [[21, 20, 18], [15, 11, 6]])]:
        x = gg.Tensor(X, requires_grad=True)
        gg.cumsum(x, axis=axis).backward(G if axis is not None else G.reshape(-1))
        np.testing.assert_array_equal(x.grad, dx)
    x32 = gg.Tensor(np.zeros(100_000, np.float32), requires_grad=True)
    gg.cumsum(x32).backward(np.full(100_000, 0.1, np.float32))
    assert x32.grad.dtype == np.float32 and abs(x32.grad[0] - 10_000.0) < 1e-3
    monkeypatch.undo()
    w = gg.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    (dw,) = gg.grad((gg.cumsum(w, axis=0) ** 2).sum(), [w], create_graph=True)
    np.testing.assert_array_equal(dw.data, [2 * (1 + 3 + 6), 2 * (3 + 6), 2 * 6])
    # dw = 2 L^T L w, L the lower triangle of ones: sum(dw)'s gradient is 2 L^T L 1,
    # L 1 = [1, 2, 3] and L^T of that the sums from the end
    (d2w,) = gg.grad(dw.sum(), [w])
    np.testing.assert_array_equal(d2w, [2 * (1 + 2 + 3), 2 * (2 + 3), 2 * 3])


@pytest.mark.parametrize("axis, match", [
    (2, r"axis 2 is out of range.*give an int from -2 to 1, or axis=None"),
    ((0, 1), r"axis must be an int or None.*cumsum runs along one axis"),
])
def test_cumsum_refuses_an_axis_it_cannot_run_along(axis, match):
    with pytest.raises(gg.OpError, match=r"(?s)Cumsum\('x' \(2, 3\).*" + match):
        gg.cumsum(gg.Tensor(np.ones((2, 3)), name="x"), axis=axis)


# -- float32, methods and numpy calls ----------------------------------------------------------
CALLS = {
    "log1p": (lambda x: gg.log1p(x), lambda x: x.log1p(), np.log1p, "Log1p"),
    "expm1": (lambda x: gg.expm1(x), lambda x: x.expm1(), np.expm1, "Expm1"),
    "softplus": (gg.softplus, lambda x: x.softplus(), None, "Softplus"),
    "elu": (gg.elu, lambda x: x.elu(), None, "ELU"),
    "silu": (gg.silu, lambda x: x.silu(), None, "SiLU"),
    "gelu": (gg.gelu, lambda x: x.gelu(), None, "GELU"),
    "gelu-tanh": (_gelu_tanh, lambda x: x.gelu("tanh"), None, "GELUTanh"),
    "erf": (gg.erf, lambda x: x.erf(), None, "Erf"),
    "erfc": (gg.erfc, lambda x: x.erfc(), None, "Erfc"),
    "prod": (lambda x: gg.prod(x, axis=0), lambda x: x.prod(0), lambda x: np.prod(x, axis=0),
             "Prod"),
    "cumsum": (lambda x: gg.cumsum(x, axis=1), lambda x: x.cumsum(1),
               lambda x: np.cumsum(x, axis=1), "Cumsum"),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_each_new_op_keeps_float32_float32(name):
    fn, _, _, _ = CALLS[name]
    x = gg.Tensor(np.linspace(-0.9, 2.0, 12, dtype=np.float32).reshape(3, 4),
                  requires_grad=True)
    y = fn(x)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("name", sorted(CALLS))
def test_the_method_and_the_numpy_call_record_the_op_and_its_gradient(name):
    fn, method, numpy_call, op = CALLS[name]
    data = np.linspace(-0.9, 2.0, 12).reshape(3, 4)
    for call in (fn, method, numpy_call):
        if call is None:
            continue
        x = gg.Tensor(data, requires_grad=True)
        y = call(x)
        assert type(y.creator).__name__ == op
        np.testing.assert_allclose(y.data, fn(gg.Tensor(data)).data, rtol=1e-15)
        assert gg.gradcheck(call, [data])  # the gradient equals finite differences


def test_numpy_calls_in_a_float_dtype_run_the_op_and_in_an_integer_one_give_a_count():
    x = gg.Tensor([[1.5, 2.0], [3.0, 4.0]], requires_grad=True)
    y = np.cumsum(x, axis=0, dtype=np.float32)
    assert y.dtype == np.float32 and y.requires_grad
    counts = np.prod(x, axis=1, dtype=np.int64)
    assert counts.dtype == np.int64 and not counts.requires_grad
    np.testing.assert_array_equal(counts.data, [2, 12])
    with pytest.raises(gg.GraphgradTypeError, match=r"numpy\.prod\(\.\.\., initial=\.\.\.\)"):
        np.prod(x, initial=2.0)


@pytest.mark.parametrize("alpha", [1.0, 0.5])
def test_elu_keeps_only_x_for_its_backward(alpha):
    """No mask of x > 0 of x's size is kept on the node (backward finds where x > 0 when it
    needs to, and not at all for alpha = 1, where e**min(x, 0) is already 1 there); the
    gradient is 1 where x > 0 and alpha e**x elsewhere, 0 itself included."""
    x_data = np.array([[-2.0, -0.5, 0.0], [0.25, 3.0, -40.0]])
    x = gg.Tensor(x_data, requires_grad=True)
    y = gg.elu(x, alpha=alpha)
    kept = [v for v in vars(y.creator).values() if isinstance(v, np.ndarray)]
    assert kept == [] and len(y.creator.saved) == 1 and y.creator.saved[0] is x_data
    G = np.arange(1.0, 7.0).reshape(2, 3)
    y.backward(G)
    np.testing.assert_allclose(y.data, np.where(x_data > 0, x_data, alpha * np.expm1(x_data)),
                               rtol=1e-15)
    np.testing.assert_allclose(x.grad, G * np.where(x_data > 0, 1.0, alpha * np.exp(x_data)),
                               rtol=1e-15)


@pytest.mark.parametrize("fn, slope", [
    (gg.softplus, lambda x: 1 / (1 + np.exp(-x))),
    (_gelu_tanh, lambda x: _gelu_slope(x)),
    (gg.gelu, lambda x: _gelu_exact_slope(x)),
    (gg.erf, lambda x: 2 / math.sqrt(math.pi) * np.exp(-x * x)),
], ids=["softplus", "gelu-tanh", "gelu", "erf"])
def test_softplus_gelu_and_erf_backward_on_arrays_run_no_other_op(monkeypatch, fn, slope):
    """Outside create_graph their gradients are numpy in place: no Sigmoid, Clip or Erfc op
    is run (each made a node object and temporaries of its own; the exact gelu keeps Phi
    from forward); the values are the slope's."""
    x_data = np.array([-6.0, -1.5, -0.25, 0.0, 0.5, 2.0, 7.0])
    refused = staticmethod(lambda *args, **kwargs: pytest.fail("an op ran"))
    monkeypatch.setattr(gg.ops.elementwise.Sigmoid, "forward", refused)
    monkeypatch.setattr(gg.ops.elementwise.Clip, "forward", refused)
    monkeypatch.setattr(gg.ops.special.Erfc, "forward", refused)
    x = gg.Tensor(x_data, requires_grad=True)
    G = np.linspace(-1.0, 2.0, 7)
    fn(x).backward(G)
    np.testing.assert_allclose(x.grad, G * slope(x_data), rtol=1e-14, atol=1e-300)


def _gelu_exact_slope(x):
    """d/dx of x Phi(x): Phi(x) + x phi(x), by the standard library's erfc."""
    phi = np.exp(-x * x / 2) / math.sqrt(2 * math.pi)
    return 0.5 * erfc_by_math(-x / math.sqrt(2)) + x * phi


def _gelu_slope(x):
    """d/dx of x sigmoid(2u), 2u = c (x + 0.044715 x**3), c = 2 sqrt(2/pi)."""
    c = 2 * math.sqrt(2 / math.pi)
    s = 1 / (1 + np.exp(-c * (x + 0.044715 * x**3)))
    return s + x * s * (1 - s) * c * (1 + 3 * 0.044715 * x**2)


@pytest.mark.parametrize("fn, value, slope", [
    (gg.softplus, math.log1p(math.exp(-0.7)), 1 / (1 + math.exp(0.7))),
    (gg.elu, math.expm1(-0.7), math.exp(-0.7)),
    (lambda x: gg.elu(x, alpha=0.5), 0.5 * math.expm1(-0.7), 0.5 * math.exp(-0.7)),
    (_gelu_tanh,
     -0.7 / (1 + math.exp(2 * math.sqrt(2 / math.pi) * (0.7 + 0.044715 * 0.7**3))),
     float(_gelu_slope(np.array(-0.7)))),
    (gg.gelu, -0.7 * 0.5 * math.erfc(0.7 / math.sqrt(2)), float(_gelu_exact_slope(-0.7))),
    (gg.erf, math.erf(-0.7), 2 / math.sqrt(math.pi) * math.exp(-0.49)),
    (gg.erfc, math.erfc(-0.7), -2 / math.sqrt(math.pi) * math.exp(-0.49)),
], ids=["softplus", "elu", "elu-alpha", "gelu-tanh", "gelu", "erf", "erfc"])
def test_activations_of_one_number(fn, value, slope):
    """A 0-d x: numpy gives operations on it as scalars, which the in-place forms must not
    try to write into."""
    x = gg.Tensor(np.array(-0.7), requires_grad=True)
    y = fn(x)
    y.backward()
    assert y.shape == () and y.item() == pytest.approx(value, rel=1e-14)
    assert x.grad.shape == () and float(x.grad) == pytest.approx(slope, rel=1e-13)
