"""Every op of the table: forward against numpy, backward against finite differences
(gradcheck, float64), second order (gradgradcheck) where second derivatives are meaningful."""
import warnings

import numpy as np
import pytest
from op_table import OPS, draw, leaves

import graphgrad as gg


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
