"""`gg.grad`: gradients returned, not stored; several inputs and outputs; grad_outputs;
allow_unused; and create_graph=True for second derivatives and Hessian-vector products,
checked against hand formulas and against finite differences of the gradient."""
import numpy as np

import graphgrad as gg


def test_second_derivative_through_transpose():
    """d/dx of grad(sum((x.T @ w)**2)) runs Transpose's backward on Tensors (create_graph)."""
    rng = np.random.default_rng(0)
    x = gg.Tensor(rng.standard_normal((3, 2)), requires_grad=True)
    w = rng.standard_normal((3, 1))
    for transpose in (lambda t: t.T, gg.transpose, lambda t: t.transpose(None)):
        (g,) = gg.grad(((transpose(x) @ w) ** 2).sum(), x, create_graph=True)
        np.testing.assert_allclose(g.data, 2 * w @ (x.data.T @ w).T, rtol=1e-12)
        (h,) = gg.grad(g.sum(), x)
        # d/dx of sum(2 w (x^T w)^T) = 2 w (sum of w), the same for every column.
        np.testing.assert_allclose(h, np.tile(2 * w * w.sum(), (1, 2)), rtol=1e-12)


def test_transpose_none_reverses_the_axes_as_numpy_does():
    data = np.arange(24.0).reshape(2, 3, 4)
    t = gg.Tensor(data)
    np.testing.assert_array_equal(t.transpose(None).data, data.transpose(None))
    np.testing.assert_array_equal(t.transpose().data, data.transpose())
