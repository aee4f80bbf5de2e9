"""nn.Bilinear and nn.bilinear, Y = X1^T W X2 + b: values from a numpy loop over random sizes
(hypothesis), gradients and second derivatives by finite differences, PyTorch's
initialisation, the layer against the function, and the errors."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import graphgrad as gg
from graphgrad import nn


def _reference(x1, x2, w, b=None):
    """Y[e, k] = sum_ij x1[e, i] w[k, i, j] x2[e, j] + b[k], example by example."""
    y = np.zeros((x1.shape[0], w.shape[0]))
    for e in range(x1.shape[0]):
        for k in range(w.shape[0]):
            y[e, k] = x1[e] @ w[k] @ x2[e] + (0.0 if b is None else b[k])
    return y


@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.integers(1, 4),
       st.booleans(), st.integers(0, 2**32 - 1))
def test_values_follow_a_loop_and_gradients_pass_gradcheck(m, n1, n2, n_out, bias, seed):
    rng = np.random.default_rng(seed)
    x1, x2 = rng.standard_normal((m, n1)), rng.standard_normal((m, n2))
    w = rng.standard_normal((n_out, n1, n2))
    b = rng.standard_normal(n_out) if bias else None
    np.testing.assert_allclose(nn.bilinear(x1, x2, w, b).data, _reference(x1, x2, w, b),
                               atol=1e-12)
    leaves = [gg.Tensor(v, requires_grad=True, name=name)
              for v, name in ((x1, "X1"), (x2, "X2"), (w, "W"), (b, "b")) if v is not None]
    assert gg.gradcheck(lambda *t: nn.bilinear(*t) if bias else nn.bilinear(*t, None), leaves)


def test_second_derivatives_pass_gradgradcheck():
    rng = np.random.default_rng(1)
    leaves = [gg.Tensor(rng.standard_normal(s), requires_grad=True)
              for s in ((3, 2), (3, 4), (2, 2, 4), (2,))]
    assert gg.gradgradcheck(lambda *t: gg.tanh(nn.bilinear(*t)), leaves)


def test_gradients_by_hand():
    """dY/dX1 = W X2, dY/dX2 = X1^T W, dY/dW = X1 X2^T for one unit and one example."""
    x1 = gg.Tensor(np.array([[1.0, 2.0]]), requires_grad=True)
    x2 = gg.Tensor(np.array([[3.0, -1.0, 0.5]]), requires_grad=True)
    w = gg.Tensor(np.arange(6.0).reshape(1, 2, 3), requires_grad=True)
    nn.bilinear(x1, x2, w).sum().backward()
    np.testing.assert_allclose(x1.grad, (w.data[0] @ x2.data[0])[None])
    np.testing.assert_allclose(x2.grad, (x1.data[0] @ w.data[0])[None])
    np.testing.assert_allclose(w.grad, np.outer(x1.data[0], x2.data[0])[None])


def test_leading_axes_are_examples_as_pytorchs():
    rng = np.random.default_rng(2)
    x1, x2 = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 5))
    w, b = rng.standard_normal((6, 4, 5)), rng.standard_normal(6)
    out = nn.bilinear(x1, x2, w, b)
    assert out.shape == (2, 3, 6)
    np.testing.assert_allclose(out.data[1], _reference(x1[1], x2[1], w, b), atol=1e-12)


def test_the_layer_starts_as_pytorchs_uniform_in_one_over_sqrt_n1():
    layer = nn.Bilinear(16, 5, 200, rng=0)
    bound = 1 / np.sqrt(16)
    assert layer.W.shape == (200, 16, 5) and layer.b.shape == (200,)
    assert np.abs(layer.W.data).max() <= bound and np.abs(layer.b.data).max() <= bound
    # a uniform's variance is bound^2 / 3
    np.testing.assert_allclose(layer.W.data.var(), bound ** 2 / 3, rtol=0.05)
    np.testing.assert_array_equal(nn.Bilinear(16, 5, 200, rng=0).W.data, layer.W.data)
    assert nn.Bilinear(2, 3, 4, bias=False).b is None


def test_the_layer_is_the_function_and_keeps_its_dtype():
    layer = nn.Bilinear(3, 4, 2, rng=1)
    rng = np.random.default_rng(3)
    x1, x2 = rng.standard_normal((5, 3)), rng.standard_normal((5, 4))
    np.testing.assert_array_equal(layer(x1, x2).data, nn.bilinear(x1, x2, layer.W, layer.b).data)
    layer32 = nn.Bilinear(3, 4, 2, rng=1, dtype=np.float32)
    assert layer32(x1, x2).dtype == np.float32
    out = layer(x1, x2)
    out.sum().backward()
    np.testing.assert_allclose(layer.b.grad, [5.0, 5.0])
    np.testing.assert_allclose(layer.W.grad, np.broadcast_to(np.einsum("mi,mj->ij", x1, x2),
                                                             (2, 3, 4)))


def test_the_layer_shows_its_sizes():
    assert repr(nn.Bilinear(3, 4, 5)).startswith("Bilinear((3, 4) -> 5)")
    assert "bias=False" in repr(nn.Bilinear(3, 4, 5, bias=False))


# -- errors ---------------------------------------------------------------------------------------
def test_swapped_inputs_are_refused_with_the_layer_named():
    layer = nn.Bilinear(3, 4, 5)
    with pytest.raises(gg.ShapeError, match=r"Bilinear\(\(3, 4\) -> 5\) with W of shape "
                                            r"\(5, 3, 4\) takes X1 of shape \(m, 3\) and X2 of "
                                            r"shape \(m, 4\).*\(X1 and X2 swapped\?\)"):
        layer(np.zeros((2, 4)), np.zeros((2, 3)))


@pytest.mark.parametrize("args, message", [
    (((2, 3), (3, 4), (5, 3, 4)), r"the same examples in each.*got X1 \(2, 3\) and X2 \(3, 4\)"),
    (((2, 3), (2, 4), (5, 3)), r"bilinear takes W of shape \(n_out, n1, n2\), got \(5, 3\)"),
    (((2, 3), (2, 4), (5, 3, 4), (4,)), r"takes b of shape \(5,\), got \(4,\)"),
])
def test_shapes_that_do_not_fit_are_refused_with_the_shapes_taken(args, message):
    arrays = [np.zeros(s) for s in args]
    with pytest.raises(gg.ShapeError, match=message):
        nn.bilinear(*arrays)


@pytest.mark.parametrize("make, error", [
    (lambda: nn.Bilinear(0, 2, 3), gg.ArgumentError),
    (lambda: nn.Bilinear(2, 2.5, 3), gg.ArgumentError),
    (lambda: nn.Bilinear(2, 2, 3, bias=1), gg.ArgumentError),
    (lambda: nn.Bilinear(2, 2, 3, dtype=np.int64), gg.GraphgradTypeError),
])
def test_bad_settings_are_refused_by_name(make, error):
    with pytest.raises(error, match="Bilinear"):
        make()


def test_scaled_initialisers_read_the_weight_as_pytorch_does():
    """nn.init's scaled initialisers on Bilinear's W (n_out, n1, n2) take PyTorch's fans,
    fan_in = n1 * n2 and fan_out = n_out * n2: they read it as Conv1d filters (f, n_C_prev,
    n_C), fan_in = n_out * n1 and fan_out = n_out * n2. A plain parameter of 3 axes stays a
    Conv1d's filters, and orthogonal_ makes W's n_out units (rows of n1 * n2) orthonormal."""
    n1, n2, n_out = 4, 5, 3
    layer = nn.Bilinear(n1, n2, n_out)
    nn.init.xavier_uniform_(layer.W, generator=0)
    bound = np.sqrt(6 / (n1 * n2 + n_out * n2))
    np.testing.assert_array_equal(layer.W.data, np.random.default_rng(0).uniform(
        -bound, bound, (n_out, n1, n2)))
    # kaiming_uniform_(a=sqrt(5)) is PyTorch's Linear default: uniform(+-1 / sqrt(fan_in))
    nn.init.kaiming_uniform_(layer.W, a=np.sqrt(5), generator=1)
    bound = 1 / np.sqrt(n1 * n2)
    np.testing.assert_allclose(layer.W.data, np.random.default_rng(1).uniform(
        -bound, bound, (n_out, n1, n2)), rtol=1e-15)
    filters = nn.Parameter(np.zeros((n_out, n1, n2)))  # Conv1d's (f, n_C_prev, n_C)
    nn.init.kaiming_normal_(filters, generator=2)
    np.testing.assert_allclose(filters.data, np.random.default_rng(2).normal(
        0, np.sqrt(2) / np.sqrt(n_out * n1), (n_out, n1, n2)), rtol=1e-15)
    nn.init.orthogonal_(layer.W, gain=2.0, generator=3)
    rows = layer.W.data.reshape(n_out, n1 * n2)
    np.testing.assert_allclose(rows @ rows.T, 4 * np.eye(n_out), atol=1e-12)
    X1, X2 = np.ones((2, n1)), np.ones((2, n2))
    np.testing.assert_allclose(layer(X1, X2).data, np.tile(rows.sum(axis=1) + layer.b.data,
                                                           (2, 1)), rtol=1e-12)
