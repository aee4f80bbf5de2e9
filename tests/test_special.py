"""erf and erfc against the standard library's (and, where the two differ, a 60-digit series)
over the whole real line, in units of the last place; their gradients and second derivatives
in the tails; float32 and float16 rounded once; and the exact gelu built on erfc: its value and
slope by hand, its tail, its distance to the tanh form, and its layer. erfinv: erf of it gives
x back, against scipy's and a bisection on the standard library's erf, at +-1 and beyond, its
derivatives."""
import math
import tracemalloc
import warnings
from decimal import Decimal, localcontext

import numpy as np
import pytest
from op_table import erf_by_math, erfc_by_math, erfinv_by_math, gelu_tanh

import graphgrad as gg
from graphgrad import nn
from graphgrad.ops.special import erf_values, erfc_values


def _points() -> np.ndarray:
    """Every interval of fdlibm's and its edges, both signs, the tails up to erfc's underflow
    (27.3) and beyond, tiny and subnormal x."""
    rng = np.random.default_rng(0)
    edges = np.array([0.84375, 1.25, 1 / 0.35, 6.0, 28.0])
    near_edges = (edges[:, None] * (1 + np.array([-1e-16, 0.0, 2.3e-16]))).ravel()
    special = [0.0, 0.25, 5.0, 10.0, 26.0, 26.5, 27.0, 27.2, 27.3, 30.0, 1e3, 1e300,
               2.0**-28, 1e-20, 1e-300, 2.0**-1022, 5e-324]
    positive = np.concatenate([near_edges, special, rng.uniform(0, 1, 3000),
                               rng.uniform(0, 6, 10000), rng.uniform(6, 28, 3000),
                               np.exp(rng.uniform(-700, 0, 1000)), np.linspace(0, 30, 30001)])
    return np.concatenate([positive, -positive])


def _units(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    """|got - want| in units of the last place of want (of the smallest subnormal at 0)."""
    return np.abs(got - want) / np.spacing(np.abs(want))


@pytest.mark.parametrize("fn, values, reference, most", [
    (gg.erf, erf_values, erf_by_math, 1),
    (gg.erfc, erfc_values, erfc_by_math, 4),
], ids=["erf", "erfc"])
def test_erf_and_erfc_are_the_standard_librarys_within_a_few_units(fn, values, reference,
                                                                    most):
    """Within 1 unit of math.erf and 4 of math.erfc (glibc's, itself 3.7 units off at
    x = 1.2382, see below) at 92,000 points over the whole line."""
    x = _points()
    want = reference(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow in x*x, no inf - inf
        got = values(x)
        assert np.array_equal(fn(gg.Tensor(x)).data, got)
    units = _units(got, want)
    assert units.max() <= most, (x[units.argmax()], units.max())
    assert np.mean(units == 0) > 0.95  # the same number almost everywhere


def _erfc_by_series(x: float) -> float:
    """erfc(x) = 1 - 2/sqrt(pi) sum (-1)**n x**(2n+1) / (n! (2n+1)), in 60 digits."""
    with localcontext() as context:
        context.prec = 60
        d, term, total, n = Decimal(x), Decimal(x), Decimal(0), 0
        while abs(term) > Decimal(10) ** -70:
            total += term / (2 * n + 1)
            n += 1
            term = -term * d * d / n
        pi = Decimal("3.14159265358979323846264338327950288419716939937510582097494459")
        return float(1 - 2 * total / pi.sqrt())


@pytest.mark.parametrize("x", [1.238219939225539, 0.3, 0.8, 1.0, 1.6, 2.5, 3.1, -0.7, -2.2])
def test_erfc_is_within_one_unit_of_the_60_digit_series(x):
    """Where math.erfc is 3.7 units off (1.2382...), erfc is 0.3 units off."""
    got = float(erfc_values(np.array([x]))[0])
    assert _units(np.array(got), np.array(_erfc_by_series(x))) <= 1


def test_erf_and_erfc_at_the_ends_zero_and_nan():
    x = np.array([-np.inf, -30.0, -6.0, -0.0, 0.0, 6.0, 30.0, np.inf, np.nan])
    np.testing.assert_array_equal(erf_values(x), [-1, -1, -1, 0, 0, 1, 1, 1, np.nan])
    np.testing.assert_array_equal(erfc_values(x), [2, 2, 2, 1, 1, math.erfc(6.0), 0, 0, np.nan])
    assert np.signbit(erf_values(np.array([-0.0])))[0]  # erf is odd, -0.0 included
    assert erfc_values(np.array([26.0]))[0] == pytest.approx(5.663192408856143e-296, rel=1e-14)
    assert erf_values(np.array(0.5)).shape == () and erf_values(np.zeros((2, 0))).shape == (2, 0)


@pytest.mark.parametrize("fn, reference", [(erf_values, math.erf), (erfc_values, math.erfc)],
                         ids=["erf", "erfc"])
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_erf_and_erfc_of_float32_and_float16_are_float64s_rounded_once(fn, reference, dtype):
    x = np.concatenate([np.linspace(-8, 8, 801), [9.0, 10.0]]).astype(dtype)
    got = fn(x)
    assert got.dtype == dtype
    want = np.array([reference(float(v)) for v in x]).astype(dtype)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("fn, sign", [(gg.erf, 1.0), (gg.erfc, -1.0)], ids=["erf", "erfc"])
def test_erf_and_erfc_gradients_and_second_derivatives_over_the_line(fn, sign):
    """d/dx = +-2/sqrt(pi) e**-x**2 and d2/dx2 = -+4x/sqrt(pi) e**-x**2, by hand, in every
    interval and the tails, 0 far out (no overflow in x*x), by gradcheck in between."""
    x_data = np.array([-1e200, -30.0, -5.0, -2.0, -1.0, -0.5, 0.0, 0.3, 0.9, 1.3, 3.0, 6.0,
                       26.0, 1e200])
    x = gg.Tensor(x_data, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (g,) = gg.grad(fn(x).sum(), x, create_graph=True)
        (h,) = gg.grad(g.sum(), x)
    inside = np.clip(x_data, -30, 30)
    e = np.exp(-inside * inside)
    np.testing.assert_allclose(g.data, sign * 2 / math.sqrt(math.pi) * e, rtol=1e-14, atol=0)
    np.testing.assert_allclose(h, sign * -4 / math.sqrt(math.pi) * inside * e, rtol=1e-13,
                               atol=0)
    wide = np.linspace(-4.5, 4.5, 19).reshape(1, -1) + 0.01
    assert gg.gradcheck(fn, [wide]) and gg.gradgradcheck(fn, [wide])


def _gelu_by_hand(x: float) -> float:
    return x * 0.5 * (1 + math.erf(x / math.sqrt(2)))


def test_gelu_is_x_phi_by_hand_with_its_slope_and_second_derivative():
    """x 0.5 (1 + erf(x / sqrt(2))) by hand; the slope's Phi by erfc, which does not cancel
    in the tail."""
    x_data = np.linspace(-6.0, 6.0, 241)
    x = gg.Tensor(x_data, requires_grad=True)
    y = gg.gelu(x)
    assert type(y.creator).__name__ == "GELU"
    want = np.array([_gelu_by_hand(v) for v in x_data])
    # 1 + erf cancels in the tail (relatively 1e-8 at x = -6): absolutely there
    np.testing.assert_allclose(y.data, want, rtol=1e-13, atol=1e-15)
    (g,) = gg.grad(y.sum(), x, create_graph=True)
    phi = np.exp(-x_data**2 / 2) / math.sqrt(2 * math.pi)
    Phi = 0.5 * erfc_by_math(-x_data / math.sqrt(2))
    # Phi + x phi cancels in the tail (each ~1e-9 at x = -6): absolutely
    np.testing.assert_allclose(g.data, Phi + x_data * phi, rtol=1e-13, atol=1e-15)
    (h,) = gg.grad(g.sum(), x)  # d/dx (Phi + x phi) = (2 - x**2) phi
    np.testing.assert_allclose(h, (2 - x_data**2) * phi, rtol=1e-12, atol=1e-15)
    assert gg.gradgradcheck(gg.gelu, [np.linspace(-7.0, 7.0, 15) + 0.05])


def test_gelu_keeps_its_negative_tail_where_one_plus_erf_is_zero():
    """x Phi(x) by erfc: 1 + erf(x / sqrt(2)) is 0 below x = -8.3, and gelu(-30) is -1.5e-196."""
    x = np.array([-10.0, -20.0, -30.0, -38.0])
    want = 0.5 * x * erfc_by_math(-x / math.sqrt(2))
    assert (want < 0).all() and all(_gelu_by_hand(v) == 0 for v in x)
    np.testing.assert_allclose(gg.gelu(x).data, want, rtol=1e-13)


def test_gelu_is_within_4_7e_4_of_its_tanh_form():
    x = np.linspace(-10.0, 10.0, 20001)
    gap = np.abs(gg.gelu(x).data - gelu_tanh(x))
    assert gap.max() == pytest.approx(4.73e-4, abs=1e-6)
    assert x[gap.argmax()] == pytest.approx(-2.7, abs=0.1)
    np.testing.assert_allclose(gg.gelu(x, approximate="tanh").data, gelu_tanh(x), rtol=1e-12,
                               atol=1e-15)


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 2 * 2.0**-24), (np.float64, 1e-13)])
def test_gelu_of_float32_is_float64s_rounded_once(dtype, rtol):
    """float32 within rounding of float64's value; float64 within what rounding -x / sqrt(2)
    makes of erfc's tail (relatively x**2 units: 3e-14 at x = -12), as in any erfc of it."""
    x = np.linspace(-12.0, 6.0, 721).astype(dtype)
    y = gg.gelu(gg.Tensor(x))
    assert y.dtype == dtype
    want = np.array([0.5 * float(v) * math.erfc(-float(v) / math.sqrt(2)) for v in x])
    np.testing.assert_allclose(y.data, want.astype(dtype), rtol=rtol, atol=0)


def test_the_defaults_are_the_exact_form_as_pytorchs():
    x = gg.Tensor(np.array([-1.5, 0.5, 2.0]), requires_grad=True)
    exact = 0.5 * x.data * erfc_by_math(-x.data / math.sqrt(2))
    for y in (gg.gelu(x), x.gelu(), nn.GELU()(x), nn.GELU("none")(x)):
        assert type(y.creator).__name__ == "GELU"
        np.testing.assert_allclose(y.data, exact, rtol=1e-15)
    for y in (gg.gelu(x, "tanh"), x.gelu("tanh"), nn.GELU("tanh")(x)):
        assert type(y.creator).__name__ == "GELUTanh"
        np.testing.assert_allclose(y.data, gelu_tanh(x.data), rtol=1e-14)
    assert repr(nn.GELU()) == "GELU(approximate='none')"
    assert repr(nn.GELU(approximate="tanh")) == "GELU(approximate='tanh')"


def test_scipy_special_erf_and_erfc_on_a_tensor_run_gg_erf_and_gg_erfc():
    # numpy has no erf: scipy's ufuncs are the numpy-world spelling, and dispatch as np.exp does
    special = pytest.importorskip("scipy.special")
    x = gg.Tensor(np.array([-1.5, 0.25, 2.0]), requires_grad=True, name="x")
    y = special.erf(x) + 3 * special.erfc(x)
    assert isinstance(y, gg.Tensor)
    y.sum().backward()
    slope = 2 / math.sqrt(math.pi) * np.exp(-x.data**2)
    np.testing.assert_allclose(x.grad, slope - 3 * slope, rtol=1e-15)
    np.testing.assert_array_equal(y.data, gg.erf(x).data + 3 * gg.erfc(x).data)
    # a scipy ufunc graphgrad has no op for is named as scipy's, not as numpy's
    with pytest.raises(gg.GraphgradTypeError, match=r"^the ufunc gammaln has no graphgrad op, "
                       r"so it cannot run on 'x' \(3,\) float64"):
        special.gammaln(x)


@pytest.mark.parametrize("fn", [gg.erf, gg.erfc, gg.gelu, gg.erfinv])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_forward_of_a_large_array_takes_a_few_times_its_size(fn, dtype):
    # erf's four intervals, each with its index array, its gathered elements and the
    # temporaries of its polynomials, in float64: taken of the whole array they cost 7 times
    # its size in float64 and 17 times in float32; taken by blocks, the result (gelu: and
    # the Phi it keeps) and a block's worth
    x = np.random.default_rng(0).normal(0, 2, 400_000).astype(dtype)
    t = gg.Tensor(x, requires_grad=True)
    tracemalloc.start()
    try:
        y = fn(t)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    kept = 2 if fn is gg.gelu else 1  # y, and gelu's Phi
    assert peak < (kept + 1) * x.nbytes, f"{peak / x.nbytes:.1f} times x's size"
    values = {gg.erf: erf_values, gg.erfc: erfc_values}.get(fn)
    if values is not None:  # each element's value is that of its interval's formula
        np.testing.assert_array_equal(y.data, np.concatenate(
            [values(part) for part in np.split(x, 400)]))


@pytest.mark.parametrize("fn, sign", [(gg.erf, 1.0), (gg.erfc, -1.0)], ids=["erf", "erfc"])
def test_float16_slope_is_the_same_recorded_for_second_derivatives(fn, sign):
    # e**-x**2 with x**2 in float16 takes its 3 digits into the exponential (7 units of the
    # last place near x = 4): the slope is computed in float32 on Tensors too, as on arrays
    x = np.linspace(-4, 4, 801).astype(np.float16)
    want = (sign * 2 / math.sqrt(math.pi) * np.exp(-x.astype(np.float64)**2)).astype(np.float16)
    t = gg.Tensor(x, requires_grad=True)
    (plain,) = gg.grad(fn(t).sum(), [t])
    (recorded,) = gg.grad(fn(t).sum(), [t], create_graph=True)
    assert recorded.dtype == np.float16
    np.testing.assert_array_equal(plain, want)
    np.testing.assert_array_equal(recorded.data, want)


# -- erfinv ---------------------------------------------------------------------------------------
def _inside_points() -> np.ndarray:
    """(-1, 1): a grid, random points, the last floats below 1 (1 - 2**-k up to k = 53) and
    tiny and subnormal ones, both signs."""
    rng = np.random.default_rng(3)
    positive = np.concatenate([np.linspace(0, 1, 20001)[:-1], rng.uniform(0, 1, 5000),
                               1 - 2.0 ** -np.arange(1, 54), 1 - rng.uniform(0, 1e-6, 500),
                               10.0 ** -np.arange(1, 320, 7.0), [2.0**-1022, 5e-324]])
    return np.concatenate([positive, -positive])


def test_erf_of_erfinv_gives_x_back():
    x = _inside_points()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = gg.erfinv(x).data
    # (a subnormal x has fewer digits: to its last place)
    np.testing.assert_allclose(gg.erf(y).data, x, rtol=1e-15, atol=5e-324)
    # near +-1, where erf(y) rounds to x whatever the last digits of y: erfc's 1 - |x|, exact
    near = np.abs(x) > 0.5
    np.testing.assert_allclose(gg.erfc(np.abs(y[near])).data, 1 - np.abs(x[near]), rtol=1e-14)
    np.testing.assert_array_equal(np.signbit(y), np.signbit(x))


def test_erfinv_is_the_root_of_the_standard_librarys_erf_and_scipys_erfinv():
    x = _inside_points()
    y = gg.erfinv(x).data
    # the bisection's root is as good as math.erf: the rounding of x over erf's slope
    np.testing.assert_allclose(y, erfinv_by_math(x), rtol=1e-15, atol=5e-324)
    special = pytest.importorskip("scipy.special")
    want = special.erfinv(x)
    units = np.abs(y - want) / np.spacing(np.abs(want))
    assert units.max() <= 4


def test_erfinv_at_and_beyond_one_and_its_edges():
    x = np.array([1.0, -1.0, 1.5, -2.0, np.inf, -np.inf, np.nan, 0.0, -0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no log of a negative number, no 0 / 0
        y = gg.erfinv(x).data
    np.testing.assert_array_equal(y[:2], [np.inf, -np.inf])
    assert np.isnan(y[2:7]).all()
    np.testing.assert_array_equal(y[7:], [0.0, -0.0])
    assert not np.signbit(y[7]) and np.signbit(y[8])
    t = gg.Tensor(np.array([1.0, -1.0, 0.0]), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gg.erfinv(t).backward(np.ones(3))  # (a sum would be inf - inf)
    np.testing.assert_array_equal(t.grad, [np.inf, np.inf, math.sqrt(math.pi) / 2])


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_erfinv_of_narrow_floats_is_float64s_rounded_once(dtype):
    x = np.concatenate([np.linspace(-1, 1, 2001), [0.9999]]).astype(dtype)
    t = gg.Tensor(x, requires_grad=True)
    y = gg.erfinv(t)
    assert y.dtype == dtype
    np.testing.assert_array_equal(y.data, gg.erfinv(x.astype(np.float64)).data.astype(dtype))
    y.backward(np.ones(x.shape, dtype))
    assert t.grad.dtype == dtype
    inside = np.abs(x) < 1
    slope = math.sqrt(math.pi) / 2 * np.exp(y.data[inside].astype(np.float64) ** 2)
    np.testing.assert_allclose(t.grad[inside], slope, rtol=4 * np.finfo(dtype).eps)


def test_erfinv_derivatives_are_those_of_the_inverse_function():
    """dy/dx = 1 / erf'(y) = sqrt(pi)/2 e**(y**2); d2y/dx2 = 2 y (dy/dx)**2; the third,
    (2 + 8 y**2) (dy/dx)**3; checked to any order by gradcheck and gradgradcheck."""
    x = gg.Tensor(np.array([-0.999, -0.6, -0.1, 0.0, 0.3, 0.75, 0.9999]), requires_grad=True)
    y = gg.erfinv(x)
    (d1,) = gg.grad(y.sum(), [x], create_graph=True)
    (d2,) = gg.grad(d1.sum(), [x], create_graph=True)
    (d3,) = gg.grad(d2.sum(), [x])
    slope = math.sqrt(math.pi) / 2 * np.exp(y.data**2)
    np.testing.assert_allclose(d1.data, slope, rtol=1e-14)
    np.testing.assert_allclose(d2.data, 2 * y.data * slope**2, rtol=1e-13)
    np.testing.assert_allclose(d3.data, (2 + 8 * y.data**2) * slope**3, rtol=1e-13)
    inner = gg.Tensor(np.array([-0.9, -0.3, 0.2, 0.8]), requires_grad=True)
    assert gg.gradcheck(gg.erfinv, (inner,))
    assert gg.gradgradcheck(gg.erfinv, (inner,))


def test_scipy_special_erfinv_on_a_tensor_runs_gg_erfinv():
    special = pytest.importorskip("scipy.special")
    x = gg.Tensor(np.array([-0.5, 0.1, 0.9]), requires_grad=True)
    y = special.erfinv(x)
    assert isinstance(y, gg.Tensor) and type(y.creator).__name__ == "Erfinv"
    np.testing.assert_array_equal(y.data, gg.erfinv(x).data)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, math.sqrt(math.pi) / 2 * np.exp(y.data**2), rtol=1e-15)
    assert type(x.erfinv().creator).__name__ == "Erfinv"
