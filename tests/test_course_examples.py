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


def test_two_layer_network_gradients_match_the_courses_backprop_equations():
    """Course 1, week 3: a tanh hidden layer and a sigmoid output, X: (n_x, m)."""
    rng = np.random.default_rng(2)
    n_x, n_h, m = 3, 4, 6
    X = rng.standard_normal((n_x, m))
    Y = (rng.random((1, m)) > 0.5).astype(np.float64)
    W1 = gg.Tensor(rng.standard_normal((n_h, n_x)) * 0.5, requires_grad=True)
    b1 = gg.Tensor(rng.standard_normal((n_h, 1)) * 0.1, requires_grad=True)
    W2 = gg.Tensor(rng.standard_normal((1, n_h)) * 0.5, requires_grad=True)
    b2 = gg.Tensor(rng.standard_normal((1, 1)) * 0.1, requires_grad=True)

    Z1 = W1 @ X + b1
    A1 = gg.tanh(Z1)
    Z2 = W2 @ A1 + b2
    A2 = gg.sigmoid(Z2)
    J = -(Y * gg.log(A2) + (1 - Y) * gg.log(1 - A2)).mean()
    J.backward()

    a1, a2 = A1.data, A2.data
    dZ2 = a2 - Y
    dW2 = dZ2 @ a1.T / m
    db2 = np.sum(dZ2, axis=1, keepdims=True) / m
    dZ1 = W2.data.T @ dZ2 * (1 - a1**2)
    dW1 = dZ1 @ X.T / m
    db1 = np.sum(dZ1, axis=1, keepdims=True) / m
    for got, want in ((Z2.grad, dZ2 / m), (W2.grad, dW2), (b2.grad, db2),
                      (Z1.grad, dZ1 / m), (W1.grad, dW1), (b1.grad, db1)):
        np.testing.assert_allclose(got, want, rtol=1e-10)


def test_softmax_cross_entropy_gives_dz_equal_to_a_minus_y():
    """Course 2, week 3: with A = softmax(Z) over classes (axis 0) and J the mean
    cross-entropy, dZ = (A - Y) / m."""
    rng = np.random.default_rng(3)
    n_classes, m = 4, 5
    Z = gg.Tensor(rng.standard_normal((n_classes, m)), requires_grad=True)
    Y = np.eye(n_classes)[:, rng.integers(0, n_classes, m)]
    A = gg.softmax(Z, axis=0)
    J = -(Y * gg.log(A)).sum() / m
    J.backward()
    np.testing.assert_allclose(Z.grad, (A.data - Y) / m, rtol=1e-10, atol=1e-15)
