"""numpy's math beyond the course's ops (tan and the inverse and hyperbolic functions, arctan2,
hypot, exp2, log2, log10, logaddexp, reciprocal, cbrt, fmax, fmin) at the values the op table
does not draw: first and second derivatives against their formulas, the far tails where
x * x overflows, NaN in fmax and fmin, ties, the origin of hypot and arctan2, float16; and
the numpy functions that give constants on tensors that require grad (np.floor, np.round,
np.heaviside) or plain answers (np.allclose, np.array_equal)."""
import math
import warnings

import numpy as np
import pytest

import graphgrad as gg

LN2, LN10 = math.log(2), math.log(10)

# name: (x, f'(x), f''(x)), inside the domain
DERIVATIVES = {
    "tan": (np.array([-1.2, 0.3, 1.0]), lambda x: 1 + np.tan(x) ** 2,
            lambda x: 2 * np.tan(x) * (1 + np.tan(x) ** 2)),
    "arcsin": (np.array([-0.9, 0.2, 0.7]), lambda x: (1 - x * x) ** -0.5,
               lambda x: x * (1 - x * x) ** -1.5),
    "arccos": (np.array([-0.9, 0.2, 0.7]), lambda x: -(1 - x * x) ** -0.5,
               lambda x: -x * (1 - x * x) ** -1.5),
    "arctan": (np.array([-3.0, 0.2, 5.0]), lambda x: 1 / (1 + x * x),
               lambda x: -2 * x / (1 + x * x) ** 2),
    "sinh": (np.array([-2.0, 0.5, 3.0]), np.cosh, np.sinh),
    "cosh": (np.array([-2.0, 0.5, 3.0]), np.sinh, np.cosh),
    "arcsinh": (np.array([-4.0, 0.5, 30.0]), lambda x: (1 + x * x) ** -0.5,
                lambda x: -x * (1 + x * x) ** -1.5),
    "arccosh": (np.array([1.1, 2.0, 30.0]), lambda x: (x * x - 1) ** -0.5,
                lambda x: -x * (x * x - 1) ** -1.5),
    "arctanh": (np.array([-0.9, 0.2, 0.7]), lambda x: 1 / (1 - x * x),
                lambda x: 2 * x / (1 - x * x) ** 2),
    "exp2": (np.array([-3.0, 0.5, 4.0]), lambda x: 2**x * LN2, lambda x: 2**x * LN2**2),
    "log2": (np.array([0.1, 1.0, 8.0]), lambda x: 1 / (x * LN2), lambda x: -1 / (x * x * LN2)),
    "log10": (np.array([0.1, 1.0, 8.0]), lambda x: 1 / (x * LN10),
              lambda x: -1 / (x * x * LN10)),
    "reciprocal": (np.array([-2.0, 0.5, 4.0]), lambda x: -1 / x**2, lambda x: 2 / x**3),
    "cbrt": (np.array([-8.0, 0.125, 27.0]), lambda x: 1 / (3 * np.cbrt(x) ** 2),
             lambda x: -2 / (9 * np.cbrt(x) ** 5)),
}


@pytest.mark.parametrize("name", sorted(DERIVATIVES))
def test_first_and_second_derivatives_are_the_formulas(name):
    values, first, second = DERIVATIVES[name]
    x = gg.Tensor(values, requires_grad=True)
    (g,) = gg.grad(getattr(gg, name)(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.data, first(values), rtol=1e-12)
    (h,) = gg.grad(g.sum(), x)
    np.testing.assert_allclose(h, second(values), rtol=1e-12)


def test_the_binary_ones_second_derivatives_are_the_formulas():
    y = gg.Tensor([1.0, -2.0, 0.5], requires_grad=True)
    x = gg.Tensor([2.0, 1.0, -3.0], requires_grad=True)
    r2 = x.data**2 + y.data**2
    dy, dx = gg.grad(gg.arctan2(y, x).sum(), [y, x], create_graph=True)
    np.testing.assert_allclose(dy.data, x.data / r2, rtol=1e-12)
    np.testing.assert_allclose(dx.data, -y.data / r2, rtol=1e-12)
    # d/dy (x / r2) = -2xy / r2**2, and d/dx (-y / r2) = 2xy / r2**2
    (dyy,) = gg.grad(dy.sum(), y, retain_graph=True)
    np.testing.assert_allclose(dyy, -2 * x.data * y.data / r2**2, rtol=1e-12)
    np.testing.assert_allclose(gg.grad(dx.sum(), x)[0], 2 * x.data * y.data / r2**2,
                               rtol=1e-12)
    (dx,) = gg.grad(gg.hypot(x, y).sum(), x, create_graph=True)  # x / r, then y**2 / r**3
    np.testing.assert_allclose(gg.grad(dx.sum(), x)[0], y.data**2 / r2**1.5, rtol=1e-12)
    (dx,) = gg.grad(gg.logaddexp(x, y).sum(), x, create_graph=True)  # s = sigmoid(x - y)
    s = 1 / (1 + np.exp(y.data - x.data))
    np.testing.assert_allclose(dx.data, s, rtol=1e-12)
    np.testing.assert_allclose(gg.grad(dx.sum(), x)[0], s * (1 - s), rtol=1e-12)


def test_the_far_tails_where_x_squared_overflows_keep_their_gradients():
    """1 / sqrt(x*x + 1) was 0 where x*x overflows: 1e200 in float64, 1e20 in float32, 300 in
    float16; arcsinh, arctan, arctan2 and hypot take hypot instead, arccosh two roots."""
    for big, dtype in ((1e200, np.float64), (1e30, np.float32), (300.0, np.float16)):
        x = gg.Tensor(np.array([big, -big], dtype=dtype), requires_grad=True)
        gg.arcsinh(x).sum().backward()
        np.testing.assert_allclose(x.grad, [1 / big, 1 / big], rtol=1e-3)
        x.grad = None
        gg.arccosh(x[:1]).sum().backward()
        np.testing.assert_allclose(x.grad, [1 / big, 0.0], rtol=1e-3)
        x.grad = None
        gg.arctan(x).sum().backward()  # 1 / big**2: a subnormal in float16 (0 in the others)
        want = np.array([big**-2.0] * 2).astype(dtype)
        assert want.any() == (dtype == np.float16)
        np.testing.assert_allclose(x.grad, want, rtol=0.02)
        y = gg.Tensor(np.array([big, big], dtype=dtype), requires_grad=True)
        x.grad = None
        gg.arctan2(y, x).sum().backward()  # dz/dy = x / r**2 with r = sqrt(2) big
        np.testing.assert_allclose(y.grad, [0.5 / big, -0.5 / big], rtol=1e-3)
        np.testing.assert_allclose(x.grad, [-0.5 / big, -0.5 / big], rtol=1e-3)
        assert gg.hypot(x, y).dtype == dtype
        np.testing.assert_allclose(gg.hypot(x, y).data.astype(float), math.sqrt(2) * big,
                                   rtol=1e-3)



@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_squares_and_hypot_give_one_gradient_where_both_hold(dtype):
    """Where x*x + y*y neither overflows nor underflows, arctan, arcsinh and arctan2 take it
    (a quarter of hypot's time); one element out of range sends the whole array through
    hypot. Both give the formulas' values (float64 by hand) on the elements in range, and
    second derivatives that match finite differences."""
    rng = np.random.default_rng(4)
    X = rng.standard_normal(6) * 3
    Y = rng.standard_normal(6) * 3
    far = {np.float64: (1e200, 1e-170), np.float32: (1e30, 1e-25)}[dtype]
    tolerance = {np.float64: 1e-14, np.float32: 1e-6}[dtype]
    for extra in ((), (far[0],), (far[1],)):  # in range: squares; out of range: hypot
        x = gg.Tensor(np.array([*X, *extra], dtype=dtype), requires_grad=True)
        y = gg.Tensor(np.array([*Y, *extra], dtype=dtype), requires_grad=True)
        for op, want in ((gg.arctan, 1 / (1 + X * X)), (gg.arcsinh, 1 / np.sqrt(X * X + 1))):
            x.grad = None
            op(x).sum().backward()
            np.testing.assert_allclose(x.grad[:6], want, rtol=tolerance)
        x.grad = None
        gg.arctan2(y, x).sum().backward()
        np.testing.assert_allclose(y.grad[:6], X / (X * X + Y * Y), rtol=tolerance)
        np.testing.assert_allclose(x.grad[:6], -Y / (X * X + Y * Y), rtol=tolerance)
        if extra:
            np.testing.assert_allclose(y.grad[6], 0.5 / extra[0], rtol=tolerance)
    for fn in (gg.arctan, gg.arcsinh, lambda x: gg.arctan2(x[:3], x[3:])):
        assert gg.gradgradcheck(fn, [X])

def test_hypot_at_the_origin_has_the_gradient_of_norm_and_arctan2_nan_as_pytorch():
    x = gg.Tensor([0.0, 3.0], requires_grad=True)
    y = gg.Tensor([0.0, 4.0], requires_grad=True)
    (dx, dy) = gg.grad(gg.hypot(x, y).sum(), [x, y], create_graph=True)
    np.testing.assert_array_equal(dx.data, [0.0, 0.6])
    np.testing.assert_array_equal(dy.data, [0.0, 0.8])
    (h,) = gg.grad(dx.sum(), x)  # y**2 / r**3 = 16 / 125, and 0 at the kink, not NaN
    np.testing.assert_allclose(h, [0.0, 16 / 125], rtol=1e-12)
    with np.errstate(invalid="ignore", divide="ignore"):
        gg.arctan2(y, x).sum().backward()
    assert np.isnan(y.grad[0]) and y.grad[1] == pytest.approx(3 / 25)


def test_logaddexp_is_stable_far_out_and_its_gradient_the_pairs_softmax():
    x = gg.Tensor([1000.0, -1000.0, 1000.0, 0.0], requires_grad=True)
    y = gg.Tensor([1000.0, -1000.0, -1000.0, -700.0], requires_grad=True)
    z = gg.logaddexp(x, y)
    np.testing.assert_allclose(z.data, [1000 + LN2, -1000 + LN2, 1000.0, math.exp(-700.0)],
                               rtol=1e-15)
    z.sum().backward()
    np.testing.assert_array_equal(x.grad, [0.5, 0.5, 1.0, 1.0])
    # the tail keeps its value: e**-700, not 1 - 1
    np.testing.assert_allclose(y.grad, [0.5, 0.5, 0.0, math.exp(-700.0)], rtol=1e-13)
    half = gg.Tensor(np.array([40.0, 3.0], dtype=np.float16), requires_grad=True)
    other = gg.Tensor(np.array([37.5, 3.0], dtype=np.float16), requires_grad=True)
    gg.logaddexp(half, other).sum().backward()
    assert half.grad.dtype == np.float16  # within one unit of the float64 sigmoid(2.5)
    np.testing.assert_allclose(half.grad, [1 / (1 + math.exp(-2.5)), 0.5], rtol=5e-4)


@pytest.mark.parametrize("name, pick", [("fmax", np.fmax), ("fmin", np.fmin)])
def test_fmax_and_fmin_ignore_nan_and_ties_share_the_gradient(name, pick):
    nan = np.nan
    xs = np.array([nan, 2.0, nan, 1.0, 5.0, -5.0])
    ys = np.array([3.0, nan, nan, 1.0, -5.0, 5.0])
    x, y = gg.Tensor(xs, requires_grad=True), gg.Tensor(ys, requires_grad=True)
    z = getattr(gg, name)(x, y)
    np.testing.assert_array_equal(z.data, pick(xs, ys))
    np.testing.assert_array_equal(np.fmax(x, y).data if name == "fmax" else np.fmin(x, y).data,
                                  pick(xs, ys))
    z.sum().backward()
    # the value that is not NaN takes it; both NaN: x, as PyTorch; a tie: half each, which
    # sum to the upstream gradient, never two whole ones
    chosen_x = [0.0, 1.0, 1.0, 0.5, 1.0 if name == "fmax" else 0.0,
                0.0 if name == "fmax" else 1.0]
    np.testing.assert_array_equal(x.grad, chosen_x)
    np.testing.assert_array_equal(y.grad, 1 - np.array(chosen_x))


def test_shapes_that_do_not_broadcast_are_named_in_arctan2s_order_y_then_x():
    """arctan2(y, x) takes y first: its unnamed inputs were called x and y, in that order."""
    with pytest.raises(gg.OpError, match=r"Arctan2\(.*\n  y \(3,\) and x \(2,\) do not "
                       r"broadcast"):
        gg.arctan2(gg.Tensor(np.ones(3)), np.ones(2))
    with pytest.raises(gg.OpError, match=r"  h \(3,\) and x \(2,\) do not broadcast"):
        gg.arctan2(gg.Tensor(np.ones(3), name="h"), np.ones(2))
    with pytest.raises(gg.OpError, match=r"\n  x \(3,\) and y \(2,\) do not broadcast"):
        gg.hypot(gg.Tensor(np.ones(3)), np.ones(2))


def test_reciprocal_of_an_integer_tensor_divides_as_floats_and_cbrt_takes_negatives():
    assert gg.reciprocal(gg.Tensor(np.array([2, 4]), dtype=np.int64)).data.tolist() == [
        0.5, 0.25]
    x = gg.Tensor([-8.0, 27.0], requires_grad=True)
    y = gg.cbrt(x)
    np.testing.assert_allclose(y.data, [-2.0, 3.0], rtol=1e-15)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [1 / 12, 1 / 27], rtol=1e-14)


@pytest.mark.parametrize("name", ["tan", "arcsin", "arctan", "sinh", "arcsinh", "arctanh",
                                  "exp2", "log2", "log10", "reciprocal", "cbrt"])
def test_float32_and_float16_stay_themselves_and_pytorchs_names_are_the_same(name):
    for dtype in (np.float32, np.float16):
        x = gg.Tensor(np.array([0.25, 0.5], dtype=dtype), requires_grad=True)
        y = getattr(x, name)()
        assert y.dtype == dtype
        y.sum().backward()
        assert x.grad.dtype == dtype
    assert (gg.asin, gg.acos, gg.atan, gg.atan2, gg.asinh, gg.acosh, gg.atanh) == (
        gg.arcsin, gg.arccos, gg.arctan, gg.arctan2, gg.arcsinh, gg.arccosh, gg.arctanh)
    assert gg.Tensor.atan is gg.Tensor.arctan and gg.Tensor.acosh is gg.Tensor.arccosh


# -- constants: piecewise-constant functions and comparisons of values --------------------------
DATA = np.array([[-1.5, -0.5, 0.0], [0.5, 1.25, 2.5]])


def _fix(t):
    """np.fix, which numpy 2.5 deprecates for np.trunc (its warning is numpy's to give)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "numpy.fix is deprecated", DeprecationWarning)
        return np.fix(t)


PIECEWISE = [
    ("floor", np.floor), ("ceil", np.ceil), ("trunc", np.trunc), ("rint", np.rint),
    ("fix", _fix), ("round", np.round), ("round_2", lambda t: np.round(t, 1)),
    ("around", lambda t: np.around(t, decimals=1)),
    ("heaviside", lambda t: np.heaviside(t, 0.5)), ("sign", np.sign),
]


@pytest.mark.parametrize("name, call", PIECEWISE, ids=[p[0] for p in PIECEWISE])
def test_piecewise_constant_functions_give_constants_on_tensors_that_require_grad(name, call):
    """They were refused as having no graphgrad op; their derivative is 0 wherever it exists,
    so they give constants, as np.sign (PyTorch gives requires_grad and a zero gradient)."""
    x = gg.Tensor(DATA, requires_grad=True, name="x")
    out = call(x)
    assert type(out) is gg.Tensor and not out.requires_grad and out.creator is None
    np.testing.assert_array_equal(out.data, call(DATA.copy()))
    assert out.dtype == DATA.dtype
    J = (x * out).sum()  # a constant takes part in ops: dJ/dx is the rounded values
    J.backward()
    np.testing.assert_array_equal(x.grad, call(DATA.copy()))


def test_rounding_into_a_tensor_is_still_refused():
    x = gg.Tensor(DATA, requires_grad=True, name="x")
    with pytest.raises(gg.GraphgradTypeError, match=r"numpy\.floor\(\.\.\., out=\.\.\.\)"):
        np.floor(x, out=np.empty((2, 3)))


def test_comparisons_of_values_work_on_tensors_that_require_grad():
    """A learner's np.allclose(W, W_expected) in a test was refused as having no op."""
    W = gg.Tensor(DATA, requires_grad=True, name="W")
    J = (W * W).sum()
    assert np.allclose(W, DATA + 1e-10) is True
    assert np.allclose(W, DATA + 1e-3) is False
    assert np.allclose(W, DATA + 1e-3, atol=1e-2) is True
    assert np.allclose(DATA, W) is True
    assert np.array_equal(W, DATA) is True and np.array_equal(W, W * 2.0) is False
    assert np.array_equiv(W, np.broadcast_to(DATA, (1, 2, 3))) is True
    close = np.isclose(W, DATA + np.array([0.0, 0.0, 1.0]), rtol=0.0)
    assert type(close) is gg.Tensor and close.dtype == bool and not close.requires_grad
    np.testing.assert_array_equal(close.data, [[True, True, False]] * 2)
    J.backward()  # the graph is the graph: they took nothing from it
    np.testing.assert_array_equal(W.grad, 2 * DATA)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_and_minimum_send_a_nans_gradient_to_the_input_it_came_from(name):
    """numpy's maximum and minimum give the NaN of either input (x's when both are NaN): the
    gradient goes to that input, as fmax's goes to the input its value came from. It went
    to y wherever x was NaN, y having made nothing of z."""
    nan = np.nan
    xs, ys = np.array([nan, 2.0, nan, 1.0]), np.array([3.0, nan, nan, 1.0])
    x, y = gg.Tensor(xs, requires_grad=True), gg.Tensor(ys, requires_grad=True)
    z = getattr(gg, name)(x, y)
    np.testing.assert_array_equal(z.data, getattr(np, name)(xs, ys))
    z.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 0.0, 1.0, 0.5])
    np.testing.assert_array_equal(y.grad, [0.0, 1.0, 0.0, 0.5])
