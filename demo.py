"""graphgrad in three minutes: the course's computation graph, a model trained on it, a
custom op checked against finite differences, and pictures of it all in demo_output/.

Run it with ``scripts/demo`` (which sets everything up first).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

import graphgrad as gg
import viz
from graphgrad import nn, optim
from graphgrad.data import planar_dataset

OUTPUT = Path(__file__).resolve().parent / "demo_output"


def course_graph() -> gg.Tensor:
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
    return J


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


def logistic_regression(seed: int = 0) -> dict:
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
    costs = []
    for i in range(301):
        A = gg.sigmoid(w.T @ X + b)                                  # (1, m)
        cost = -(Y * gg.log(A) + (1 - Y) * gg.log(1 - A)).mean()
        cost.backward()
        with gg.no_grad():
            w.data = w.data - learning_rate * w.grad
            b.data = b.data - learning_rate * b.grad
        w.grad = b.grad = None
        costs.append(cost.item())
        if i % 50 == 0:
            print(f"   iteration {i:3d}: cost {cost.item():.4f}")
    accuracy = np.mean((A.data > 0.5) == Y)
    print(f"   training accuracy: {accuracy:.1%}")
    return {"w": w, "b": b, "X": X, "Y": Y, "costs": costs}


def check_custom_op() -> None:
    """A custom op's forward and backward side by side, checked by finite differences."""
    print("\n3. Gradient check of a custom op (Softplus), then of a broken one")
    x = gg.Tensor(np.linspace(-3, 3, 7), requires_grad=True, name="x")
    print(gg.gradcheck(Softplus, [x]))
    print(gg.gradcheck(BrokenSoftplus, [x], raise_exception=False))


def logistic_regression_graph(
    w: gg.Tensor, b: gg.Tensor, X: np.ndarray, Y: np.ndarray
) -> gg.Tensor:
    """One more pass of the trained model on a few examples, with names and scopes to draw."""
    X = gg.Tensor(X[:, :4], name="X")
    Y = gg.Tensor(Y[:, :4], name="Y")
    with gg.name_scope("forward"):
        Z = w.T @ X + b
        Z.name = "Z"
        A = gg.sigmoid(Z)
        A.name = "A"
    with gg.name_scope("cost"):
        J = -(Y * gg.log(A) + (1 - Y) * gg.log(1 - A)).mean()
    J.name = "J"
    J.backward()
    return J


def pictures(J: gg.Tensor, model: dict) -> None:
    """The graphs, the backprop animation and the training plots, written to demo_output/."""
    print(f"\n4. Pictures, in {OUTPUT}")
    OUTPUT.mkdir(exist_ok=True)
    graph = logistic_regression_graph(model["w"], model["b"], model["X"], model["Y"])
    w, b = model["w"].data, model["b"].data

    def predict(points: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-(w.T @ points + b)))

    written = []
    try:
        written.append(viz.render(J, OUTPUT / "course_graph.png"))
        written.append(viz.render(graph, OUTPUT / "logistic_regression_graph.png"))
        written.append(viz.render(graph, OUTPUT / "logistic_regression_collapsed.png",
                                  collapse=True))
        written.append(viz.animate(J, OUTPUT / "backprop.gif"))
    except viz.DotNotFoundError as missing:
        print(f"   {missing}")
        written.append(viz.render(J, OUTPUT / "course_graph.dot"))
    written.append(OUTPUT / "costs.png")
    viz.plot_costs(model["costs"], title="Logistic regression: cost", path=written[-1])
    written.append(OUTPUT / "decision_boundary.png")
    viz.plot_decision_boundary(predict, model["X"], model["Y"], path=written[-1],
                               title="Logistic regression: decision boundary")
    for path in written:
        print(f"   wrote {path}")


def shallow_network() -> gg.Tensor:
    """The course's week-3 model: one tanh hidden layer of 4 units on the flower data."""
    print("\n5. A shallow network (2 -> 4 tanh -> 1) on the course's flower data, with nn and Adam")
    X, Y = planar_dataset()  # X (400, 2), Y (400, 1): examples are rows
    model = nn.Sequential(nn.Linear(2, 4, init="xavier", rng=1), nn.Tanh(),
                          nn.Linear(4, 1, init="xavier", rng=2))
    history = gg.fit(model, nn.binary_cross_entropy_with_logits,
                     optim.Adam(model.parameters(), lr=0.05), (X, Y), epochs=300,
                     batch_size=400, progress=False)
    print(f"   cost {history['cost'][0]:.3f} -> {history['cost'][-1]:.3f}, training accuracy "
          f"{history['accuracy'][-1]:.1%}")
    # fit leaves the last batch's gradients in .grad: without zero_grad they would add up
    # with this pass's, and every parameter's box would say so.
    model.zero_grad()
    J = nn.binary_cross_entropy_with_logits(model(X[:5]), Y[:5])
    J.name = "J"
    J.backward()
    path = viz.render(J, OUTPUT / "shallow_network_graph.png")
    print(f"   wrote {path} (one cluster per layer)")
    return J


def main() -> None:
    J = course_graph()
    model = logistic_regression()
    check_custom_op()
    pictures(J, model)
    shallow_network()


if __name__ == "__main__":
    main()
