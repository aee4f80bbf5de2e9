"""PyTorch's other activations (mish, hardswish, hardsigmoid, selu, celu, softsign, tanhshrink,
softshrink, hardshrink, threshold, glu, softmin, and the LogSigmoid layer): values from their
formulas, the gradients at the kinks (PyTorch's one-sided choices), inputs of +-1000 finite in
value, gradient and second derivative (hypothesis over random shapes), float32 kept, each layer
equal to its function, and settings refused naming the function. Gradient checks over the op
table (tests/op_table.py) and the layers' table (test_nn_layers) are elsewhere."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import graphgrad as gg
from graphgrad import nn

SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
E = math.e


def _slope(fn, x):
    t = gg.Tensor(np.asarray(x, float), requires_grad=True)
    fn(t).sum().backward()
    return t.grad


# name -> (function, x, its values by hand, its slopes by hand, PyTorch's at the kinks)
POINTS = {
    "hardsigmoid": (gg.hardsigmoid, [-4.0, -3.0, 0.0, 1.5, 3.0, 4.0],
                    [0.0, 0.0, 0.5, 0.75, 1.0, 1.0], [0, 0, 1 / 6, 1 / 6, 0, 0]),
    "hardswish": (gg.hardswish, [-4.0, -3.0, -1.5, 0.0, 1.5, 3.0, 4.0],
                  [0.0, 0.0, -0.375, 0.0, 1.125, 3.0, 4.0], [0, 0, 0, 0.5, 1, 1, 1]),
    "hardshrink": (lambda x: gg.hardshrink(x, 0.5), [-1.0, -0.5, 0.2, 0.5, 0.7],
                   [-1.0, 0.0, 0.0, 0.0, 0.7], [1, 0, 0, 0, 1]),
    "softshrink": (lambda x: gg.softshrink(x, 0.5), [-1.0, -0.5, 0.2, 0.5, 0.75],
                   [-0.5, 0.0, 0.0, 0.0, 0.25], [1, 0, 0, 0, 1]),
    "softshrink, lambd 0": (lambda x: gg.softshrink(x, 0.0), [-1.0, 0.0, 2.0],
                            [-1.0, 0.0, 2.0], [1, 0, 1]),
    "threshold": (lambda x: gg.threshold(x, 1.0, -2.0), [0.0, 1.0, 1.5],
                  [-2.0, -2.0, 1.5], [0, 0, 1]),
    "selu": (gg.selu, [-1.0, 0.0, 2.0],
             [SELU_SCALE * SELU_ALPHA * (1 / E - 1), 0.0, 2 * SELU_SCALE],
             [SELU_SCALE * SELU_ALPHA / E, SELU_SCALE * SELU_ALPHA, SELU_SCALE]),
    "celu": (lambda x: gg.celu(x, 0.5), [-1.0, 0.0, 2.0],
             [0.5 * (E ** -2 - 1), 0.0, 2.0], [E ** -2, 1.0, 1.0]),
    "mish": (gg.mish, [0.0, 1.0],
             [0.0, math.tanh(math.log1p(E))],
             [math.tanh(math.log(2)), math.tanh(math.log1p(E)) + (1 - math.tanh(math.log1p(E))
                                                                  ** 2) / (1 + 1 / E)]),
    "softsign": (gg.softsign, [-3.0, 0.0, 1.0], [-0.75, 0.0, 0.5], [1 / 16, 1.0, 0.25]),
    "tanhshrink": (gg.tanhshrink, [0.0, 1.0], [0.0, 1 - math.tanh(1.0)],
                   [0.0, math.tanh(1.0) ** 2]),
}


@pytest.mark.parametrize("name", list(POINTS))
def test_values_and_slopes_are_the_formulas_with_pytorchs_choices_at_the_kinks(name):
    fn, x, values, slopes = POINTS[name]
    np.testing.assert_allclose(fn(gg.Tensor(x)).data, values, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(_slope(fn, x), slopes, rtol=1e-14, atol=1e-15)


def test_the_second_derivatives_of_the_piecewise_ones_are_their_pieces():
    """hardswish is a parabola between -3 and 3 (second derivative 1/3), and flat outside;
    hardsigmoid, the shrinks and threshold are linear pieces (none)."""
    x = gg.Tensor([-4.0, -3.0, 0.5, 3.0, 4.0], requires_grad=True)
    (dx,) = gg.grad(gg.hardswish(x).sum(), [x], create_graph=True)
    (d2x,) = gg.grad(dx.sum(), [x])
    np.testing.assert_allclose(d2x, [0, 0, 1 / 3, 0, 0], rtol=1e-15)
    for fn in (gg.hardsigmoid, gg.hardshrink, gg.softshrink, lambda t: gg.threshold(t, 0, 1)):
        (dx,) = gg.grad(fn(x).sum(), [x], create_graph=True)
        if dx.requires_grad:  # else the slope is a constant already
            (d2x,) = gg.grad(dx.sum(), [x])
            np.testing.assert_array_equal(d2x, 0.0)


def test_hardswish_is_x_hardsigmoid_x_and_celu_of_alpha_1_is_elu():
    x = np.linspace(-5, 5, 41)
    np.testing.assert_allclose(gg.hardswish(x).data, x * gg.hardsigmoid(x).data, rtol=1e-15,
                               atol=1e-16)
    np.testing.assert_array_equal(gg.celu(x, 1.0).data, gg.elu(x).data)
    np.testing.assert_array_equal(_slope(lambda t: gg.celu(t, 1.0), x), _slope(gg.elu, x))


def test_glu_and_softmin_are_their_formulas():
    x = np.arange(12.0).reshape(3, 4) / 6 - 1
    a, b = x[:, :2], x[:, 2:]
    np.testing.assert_allclose(gg.glu(x).data, a / (1 + np.exp(-b)), rtol=1e-15)
    np.testing.assert_allclose(gg.glu(x.T, axis=0).data, (a / (1 + np.exp(-b))).T, rtol=1e-15)
    e = np.exp(-x)
    np.testing.assert_allclose(gg.softmin(x).data, e / e.sum(-1, keepdims=True), rtol=1e-15)
    np.testing.assert_allclose(gg.softmin(x, axis=0).data, e / e.sum(0), rtol=1e-15)


# -- extreme inputs ------------------------------------------------------------------------------
ALL = {
    "mish": gg.mish, "hardswish": gg.hardswish, "hardsigmoid": gg.hardsigmoid, "selu": gg.selu,
    "celu": lambda x: gg.celu(x, 0.3), "softsign": gg.softsign, "tanhshrink": gg.tanhshrink,
    "softshrink": gg.softshrink, "hardshrink": gg.hardshrink,
    "threshold": lambda x: gg.threshold(x, 0.1, 20.0), "glu": gg.glu, "softmin": gg.softmin,
    "LogSigmoid": nn.LogSigmoid(),
}


def test_at_plus_and_minus_1000_each_is_its_limit_with_its_limits_slope():
    x = np.array([-1000.0, 1000.0])
    expected = {  # values, slopes
        "mish": ([0.0, 1000.0], [0.0, 1.0]), "hardswish": ([0.0, 1000.0], [0.0, 1.0]),
        "hardsigmoid": ([0.0, 1.0], [0.0, 0.0]),
        "selu": ([-SELU_SCALE * SELU_ALPHA, 1000 * SELU_SCALE], [0.0, SELU_SCALE]),
        "celu": ([-0.3, 1000.0], [0.0, 1.0]),
        "softsign": ([-1000 / 1001, 1000 / 1001], [1 / 1001 ** 2] * 2),
        "tanhshrink": ([-999.0, 999.0], [1.0, 1.0]),
        "softshrink": ([-999.5, 999.5], [1.0, 1.0]), "hardshrink": ([-1000.0, 1000.0], [1, 1]),
        "threshold": ([20.0, 1000.0], [0.0, 1.0]),
        "LogSigmoid": ([-1000.0, 0.0], [1.0, 0.0]),
    }
    for name, (values, slopes) in expected.items():
        np.testing.assert_allclose(ALL[name](gg.Tensor(x)).data, values, rtol=1e-15,
                                   err_msg=name)
        # softsign's slope is 1 / (1 + |x|) - |x| / (1 + |x|)**2 as composed (PyTorch's too),
        # which cancels to 1e-13 of its value at 1000
        np.testing.assert_allclose(_slope(ALL[name], x), slopes, rtol=1e-13, err_msg=name)


@given(name=st.sampled_from(list(ALL)),
       x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4).map(
           lambda s: s[:-1] + (2 * s[-1],)),
           elements=st.floats(-1000, 1000) | st.sampled_from([-1000.0, 1000.0, -3.0, 3.0])),
       dtype=st.sampled_from([np.float64, np.float32]))
def test_values_gradients_and_second_derivatives_are_finite_over_random_shapes(name, x, dtype):
    """No NaN or Inf anywhere in [-1000, 1000] (PyTorch's mish has a NaN second derivative at
    1000), in float64 and float32, whose dtype is kept."""
    t = gg.Tensor(x.astype(dtype), requires_grad=True)
    y = ALL[name](t)
    assert y.dtype == dtype and np.all(np.isfinite(y.data))
    (dx,) = gg.grad((y * y).sum(), [t], create_graph=True)
    assert dx.dtype == dtype and np.all(np.isfinite(dx.data))
    if dx.requires_grad:
        (d2x,) = gg.grad(dx.sum(), [t])
        assert np.all(np.isfinite(d2x))


# -- the layers ----------------------------------------------------------------------------------
LAYERS = [
    (nn.Mish(), gg.mish, "Mish()"), (nn.Hardswish(), gg.hardswish, "Hardswish()"),
    (nn.Hardsigmoid(), gg.hardsigmoid, "Hardsigmoid()"), (nn.SELU(), gg.selu, "SELU()"),
    (nn.CELU(0.5), lambda x: gg.celu(x, 0.5), "CELU(alpha=0.5)"),
    (nn.Softsign(), gg.softsign, "Softsign()"), (nn.Tanhshrink(), gg.tanhshrink, "Tanhshrink()"),
    (nn.Softshrink(), gg.softshrink, "Softshrink(lambd=0.5)"),
    (nn.Hardshrink(0.25), lambda x: gg.hardshrink(x, 0.25), "Hardshrink(lambd=0.25)"),
    (nn.Threshold(0.1, 20), lambda x: gg.threshold(x, 0.1, 20.0),
     "Threshold(threshold=0.1, value=20)"),
    (nn.GLU(), gg.glu, "GLU(axis=-1)"), (nn.GLU(0), lambda x: gg.glu(x, 0), "GLU(axis=0)"),
    (nn.Softmin(), gg.softmin, "Softmin(axis=-1)"),
    (nn.LogSigmoid(), gg.log_sigmoid, "LogSigmoid()"),
]


@pytest.mark.parametrize("layer, fn, shown", LAYERS, ids=[s for _, _, s in LAYERS])
def test_each_layer_is_its_function_with_its_settings(layer, fn, shown):
    Z = np.random.default_rng(0).standard_normal((4, 6)) * 3
    a, b = gg.Tensor(Z, requires_grad=True), gg.Tensor(Z, requires_grad=True)
    A, expected = layer(a), fn(b)
    np.testing.assert_array_equal(A.data, expected.data)
    A.sum().backward()
    expected.sum().backward()
    np.testing.assert_array_equal(a.grad, b.grad)
    assert repr(layer) == shown
    assert not list(layer.parameters())


def test_layers_work_in_a_sequential_and_keep_float32():
    model = nn.Sequential(nn.Linear(4, 6, rng=0, dtype=np.float32), nn.Hardswish(), nn.GLU(),
                          nn.Mish(), nn.Linear(3, 2, rng=1, dtype=np.float32), nn.Softmin())
    X = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32)
    A = model(X)
    assert A.shape == (5, 2) and A.dtype == np.float32
    np.testing.assert_allclose(A.data.sum(axis=1), 1.0, rtol=1e-6)


# -- settings refused ----------------------------------------------------------------------------
@pytest.mark.parametrize("call, error, message", [
    (lambda: gg.celu(np.ones(2), 0.0), gg.ArgumentError,
     r"celu: alpha must be a finite number other than 0 .*, got 0\.0"),
    (lambda: nn.CELU(float("inf")), gg.ArgumentError, r"CELU: alpha must be a finite number "
     r"other than 0"),
    (lambda: gg.celu(np.ones(2), gg.Tensor(0.5, requires_grad=True)), gg.GraphgradTypeError,
     r"celu: alpha is .*requires grad.*gg\.where\(x > 0"),
    (lambda: gg.hardshrink(np.ones(2), -0.5), gg.ArgumentError,
     r"hardshrink: lambd must be a finite number >= 0 \(0\.5 is PyTorch's default\), got -0\.5"),
    (lambda: gg.softshrink(np.ones(2), "a"), gg.ArgumentError,
     r"softshrink: lambd must be a finite number >= 0"),
    (lambda: nn.Softshrink(-1), gg.ArgumentError, r"Softshrink: lambd must be a finite number"),
    (lambda: nn.Hardshrink(float("nan")), gg.ArgumentError, r"Hardshrink: lambd must be"),
    (lambda: gg.threshold(np.ones(2), float("nan"), 0.0), gg.ArgumentError,
     r"threshold: threshold must be a number, got nan"),
    (lambda: nn.Threshold(0.0, None), gg.ArgumentError, r"Threshold: value must be a number, "
     r"got None"),
    (lambda: gg.glu(np.ones((2, 5))), gg.ShapeError,
     r"glu: x .*\(2, 5\).* has length 5 along axis -1, which must be even"),
    (lambda: gg.glu(np.ones((2, 4)), axis=2), gg.ShapeError,
     r"glu: axis=2 is no axis of x .*\(2, 4\)"),
    (lambda: nn.GLU(1.0), gg.ArgumentError, r"GLU: axis must be an integer, got 1\.0"),
    (lambda: nn.Softmin("x"), gg.ArgumentError, r"Softmin: axis must be a whole number"),
], ids=["celu 0", "CELU inf", "celu learned", "hardshrink negative", "softshrink text",
        "Softshrink negative", "Hardshrink nan", "threshold nan", "Threshold None", "glu odd",
        "glu axis", "GLU axis", "Softmin axis"])
def test_settings_out_of_their_range_are_refused_naming_the_function(call, error, message):
    with pytest.raises(error, match=message):
        call()


# -- PyTorch's inplace flag ----------------------------------------------------------------------
# PyTorch's DCGAN writes nn.ReLU(True) and nn.LeakyReLU(0.2, inplace=True): the flag is taken
# (positionally where PyTorch takes it), kept as layer.inplace and shown in the repr when True,
# and the output is a new tensor of the same values.
INPLACE = [
    (lambda f: nn.ReLU(f), gg.relu),
    (lambda f: nn.LeakyReLU(0.2, f), lambda z: gg.leaky_relu(z, 0.2)),
    (lambda f: nn.ELU(0.5, f), lambda z: gg.elu(z, 0.5)),
    (lambda f: nn.CELU(2.0, f), lambda z: gg.celu(z, 2.0)),
    (lambda f: nn.SELU(f), gg.selu),
    (lambda f: nn.SiLU(f), gg.silu),
    (lambda f: nn.Mish(f), gg.mish),
    (lambda f: nn.Hardsigmoid(f), gg.hardsigmoid),
    (lambda f: nn.Hardswish(f), gg.hardswish),
    (lambda f: nn.Hardtanh(-2.0, 2.0, f), lambda z: gg.clip(z, -2.0, 2.0)),
    (lambda f: nn.ReLU6(f), lambda z: gg.clip(z, 0.0, 6.0)),
    (lambda f: nn.Threshold(0.5, -1.0, f), lambda z: gg.threshold(z, 0.5, -1.0)),
]


@pytest.mark.parametrize("make, fn", INPLACE, ids=["ReLU", "LeakyReLU", "ELU", "CELU", "SELU",
                                                   "SiLU", "Mish", "Hardsigmoid", "Hardswish",
                                                   "Hardtanh", "ReLU6", "Threshold"])
def test_pytorchs_inplace_flag_is_taken_and_gives_the_functions_values(make, fn):
    Z = np.random.default_rng(0).standard_normal((3, 4)) * 3
    for flag in (True, False):
        a, b = gg.Tensor(Z, requires_grad=True), gg.Tensor(Z, requires_grad=True)
        layer = make(flag)
        A, expected = layer(a), fn(b)
        np.testing.assert_array_equal(A.data, expected.data)
        np.testing.assert_array_equal(a.data, Z)  # the input is left as it was
        (A * Z).sum().backward()
        (expected * Z).sum().backward()
        np.testing.assert_array_equal(a.grad, b.grad)
        assert layer.inplace is flag  # kept, and shown as PyTorch's repr shows it
        assert ("inplace=True" in repr(layer)) is flag
    with pytest.raises(gg.ArgumentError, match=r"inplace must be True or False, got 1"):
        make(1)


@pytest.mark.parametrize("layer, shown", [
    (nn.ReLU(True), "ReLU(inplace=True)"), (nn.ReLU(), "ReLU()"),
    (nn.LeakyReLU(0.2, inplace=True), "LeakyReLU(alpha=0.2, inplace=True)"),
    (nn.LeakyReLU(0.2), "LeakyReLU(alpha=0.2)"), (nn.ReLU6(True), "ReLU6(inplace=True)"),
    (nn.Hardtanh(-2.0, 2.0, True), "Hardtanh(min_val=-2, max_val=2, inplace=True)"),
    (nn.Threshold(0.5, -1.0, True), "Threshold(threshold=0.5, value=-1, inplace=True)"),
    (nn.SiLU(inplace=True), "SiLU(inplace=True)"),
])
def test_the_repr_shows_inplace_when_it_is_true_as_pytorchs(layer, shown):
    assert repr(layer) == shown
