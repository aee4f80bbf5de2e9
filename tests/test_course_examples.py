"""The course's worked examples, checked against the values it derives by hand."""
import numpy as np

import graphgrad as gg


def test_course_computation_graph_gives_dvar_for_every_node():
    a = gg.Tensor(5.0, name="a", requires_grad=True)
    b = gg.Tensor(3.0, name="b", requires_grad=True)
    c = gg.Tensor(2.0, name="c", requires_grad=True)
    u = b * c
    v = a + u
    J = 3 * v
    J.backward()
    assert (u.item(), v.item(), J.item()) == (6.0, 11.0, 33.0)
    assert (J.grad, v.grad, u.grad) == (1.0, 3.0, 3.0)
    assert (a.grad, b.grad, c.grad) == (3.0, 6.0, 9.0)


def test_logistic_regression_gradients_match_the_hand_derived_formulas():
    rng = np.random.default_rng(1)
    n_x, m = 3, 7
    X = rng.standard_normal((n_x, m))
    Y = (rng.random((1, m)) > 0.5).astype(np.float64)
    w = gg.Tensor(rng.standard_normal((n_x, 1)), requires_grad=True)
    b = gg.Tensor(0.3, requires_grad=True)

    Z = w.T @ X + b
    A = gg.sigmoid(Z)
    J = -(Y * gg.log(A) + (1 - Y) * gg.log(1 - A)).mean()
    J.backward()

    A_np = 1 / (1 + np.exp(-(w.data.T @ X + 0.3)))
    dZ = A_np - Y
    np.testing.assert_allclose(Z.grad, dZ / m, rtol=1e-10)
    np.testing.assert_allclose(w.grad, X @ dZ.T / m, rtol=1e-10)
    np.testing.assert_allclose(b.grad, np.sum(dZ) / m, rtol=1e-10)
