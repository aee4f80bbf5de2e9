"""graphgrad in three minutes: the course's computation graph, a model trained on it, and a
custom op checked against finite differences.

Run it with ``scripts/demo`` (which sets everything up first).
"""
from __future__ import annotations

import numpy as np

import graphgrad as gg


def course_graph() -> None:
    """J = 3(a + bc), the course's first computation graph, with dvar for every node."""
    print("1. The course's computation graph: u = bc, v = a + u, J = 3v")
    a = gg.Tensor(5.0, name="a", requires_grad=True)
    b = gg.Tensor(3.0, name="b", requires_grad=True)
    c = gg.Tensor(2.0, name="c", requires_grad=True)
    u = b * c
    u.name = "u"
    v = a + u
    v.name = "v"
    J = 3 * v
    J.name = "J"
    J.backward()
    for node in (a, b, c, u, v, J):
        print(f"   {node.name} = {node.item():g}    d{node.name} = dJ/d{node.name} = "
              f"{node.grad.item():g}")


class Softplus(gg.Function):
    """y = log(1 + e**x);  dy/dx = sigmoid(x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(0.0, x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad * 0.5 * (1 + np.tanh(0.5 * x))


class BrokenSoftplus(Softplus):
    """The same op with a classic bug: the derivative of log(1 + e**x) taken as e**x."""

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad * np.exp(x)


def logistic_regression(seed: int = 0) -> None:
    """The course's vectorized logistic regression: X (n_x, m), w (n_x, 1), b scalar."""
    print("\n2. Logistic regression, vectorized, on generated data (two blobs)")
    rng = np.random.default_rng(seed)
    m = 400
    labels = rng.integers(0, 2, size=m)
    X = rng.standard_normal((2, m)) + np.where(labels == 1, 1.5, -1.5)
    Y = labels.reshape(1, m).astype(np.float64)

    w = gg.Tensor(np.zeros((2, 1)), requires_grad=True, name="w")
    b = gg.Tensor(0.0, requires_grad=True, name="b")
    learning_rate = 0.5
    for i in range(301):
        A = gg.sigmoid(w.T @ X + b)                                  # (1, m)
        cost = -(Y * gg.log(A) + (1 - Y) * gg.log(1 - A)).mean()
        cost.backward()
        with gg.no_grad():
            w.data = w.data - learning_rate * w.grad
            b.data = b.data - learning_rate * b.grad
        w.grad = b.grad = None
        if i % 50 == 0:
            print(f"   iteration {i:3d}: cost {cost.item():.4f}")
    accuracy = np.mean((A.data > 0.5) == Y)
    print(f"   training accuracy: {accuracy:.1%}")


def check_custom_op() -> None:
    """A custom op's forward and backward side by side, checked by finite differences."""
    print("\n3. Gradient check of a custom op (Softplus), then of a broken one")
    x = gg.Tensor(np.linspace(-3, 3, 7), requires_grad=True, name="x")
    print(gg.gradcheck(Softplus, [x]))
    print(gg.gradcheck(BrokenSoftplus, [x], raise_exception=False))


def main() -> None:
    course_graph()
    logistic_regression()
    check_custom_op()


if __name__ == "__main__":
    main()
