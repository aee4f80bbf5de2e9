"""The MLP training step written with graphgrad.nn, against the same step by hand in numpy.

graphgrad: ``J = nn.cross_entropy(model(X), Y); optimizer.zero_grad(); J.backward();
optimizer.step()`` with ``nn.Linear`` / ``nn.ReLU`` layers and ``optim.SGD``. The baseline is
the course's numpy code for the same work (Z[l] = W[l] A[l-1] + b[l], ReLU, softmax
cross-entropy, dZ, dW, db, W -= alpha dW), with examples in columns as in the course; a
batch-first numpy version is timed too. Before timing, every step gives the course's step's cost,
gradients and updated parameters to 1e-10 (`check_steps`). Both run in this process,
interleaved, best of N.
Also reported: the cost of the layers' name scopes, the same step with the ops applied
directly (the engine's share without the modules), and Adam's step.

BLAS runs on one thread unless OPENBLAS_NUM_THREADS / OMP_NUM_THREADS say otherwise: on a
machine shared with other work, BLAS threads waiting for each other make timings erratic, and
both sides use the same BLAS.

Run: ``.venv/bin/python -m benchmarks.bench_nn_mlp`` (``--quick`` skips the big MLP).
"""
from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")  # before numpy loads BLAS

import argparse  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402

import graphgrad as gg  # noqa: E402
from benchmarks.common import (  # noqa: E402
    check_same,
    course_numpy_step,
    gradients_of_step,
    interleaved,
    print_table,
)
from graphgrad import nn, optim  # noqa: E402
from graphgrad.nn.layers import Affine  # noqa: E402
from graphgrad.nn.loss_ops import SoftmaxCrossEntropy  # noqa: E402
from graphgrad.ops.elementwise import ReLU  # noqa: E402

LR = 0.01


def tight_numpy_step(params: list[np.ndarray], X: np.ndarray, Y: np.ndarray) -> float:
    """The course's code with the update done without temporaries, as graphgrad's optimizers
    do it: the strictest baseline."""
    return course_numpy_step(params, X, Y, LR, in_place=True)


def rows_numpy_step(params: list[np.ndarray], X: np.ndarray, Y: np.ndarray) -> float:
    """The same step batch-first, as graphgrad lays it out: X (m, n_x), Z = X W.T + b."""
    m = X.shape[0]
    L = len(params) // 2
    caches, A = [], X
    for l in range(L):
        Z = A @ params[2 * l].T + params[2 * l + 1]
        caches.append((A, Z))
        A = np.maximum(Z, 0) if l < L - 1 else Z
    shifted = A - A.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    cost = -np.sum(Y * log_probs) / m
    dZ = (np.exp(log_probs) - Y) / m
    for l in reversed(range(L)):
        A_prev, _ = caches[l]
        W = params[2 * l]
        dW = dZ.T @ A_prev
        db = dZ.sum(axis=0)
        if l > 0:
            dZ = (dZ @ W) * (caches[l - 1][1] > 0)
        params[2 * l] -= LR * dW
        params[2 * l + 1] -= LR * db
    return cost


def build(sizes: tuple[int, ...]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(n_in, n_out, init="he", rng=0), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def numpy_parameters(model: nn.Sequential) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Copies of the model's W[l], b[l] for the numpy steps: in the course's layout (b[l] of
    shape (n[l], 1)) and batch-first (b[l] of shape (n[l],))."""
    course = [a for layer in model if isinstance(layer, nn.Linear)
              for a in (layer.W.data.copy(), layer.b.data.reshape(-1, 1).copy())]
    rows = [a.copy() if a.shape[1] > 1 else a.ravel().copy() for a in course]
    return course, rows


def graphgrad_step(model: nn.Module, optimizer: optim.Optimizer, X: np.ndarray,
                   Y: np.ndarray, keep_intermediate_grads: bool = False) -> gg.Tensor:
    """One training step. By default backward keeps dW, db only: all training needs, as by
    hand."""
    J = nn.cross_entropy(model(X), Y)
    optimizer.zero_grad()
    J.backward(keep_intermediate_grads=keep_intermediate_grads)
    optimizer.step()
    return J


def ops_step(layers: list[nn.Linear], optimizer: optim.Optimizer, X: np.ndarray,
             Y: np.ndarray) -> gg.Tensor:
    """The same step with the layers' ops applied directly: no Module calls, no loss wrapper.
    What is left over the numpy step is the engine's own cost."""
    A = X
    for layer in layers[:-1]:
        A = ReLU.apply(Affine.apply(A, layer.W, layer.b))
    last = layers[-1]
    J = SoftmaxCrossEntropy.apply(Affine.apply(A, last.W, last.b), Y)
    optimizer.zero_grad()
    J.backward(keep_intermediate_grads=False)
    optimizer.step()
    return J


Step = tuple[Callable[[], object], Callable[[], list], Callable[[], list] | None]


def _steps(sizes: tuple[int, ...], batch: int) -> dict[str, Step]:
    """The timed steps, from the same parameters: name -> (one step, returning the cost; the
    parameters it updates, in the course's shapes W[l] (n[l], n[l-1]), b[l] (n[l], 1); for
    graphgrad, the gradients it leaves in .grad, in the same shapes). The three graphgrad SGD
    steps train one model, the numpy steps copies of it, Adam its own."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((batch, sizes[0]))
    Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], batch)]
    model = build(sizes)
    sgd = optim.SGD(model.parameters(), lr=LR)
    adam_model = build(sizes)
    adam = optim.Adam(adam_model.parameters(), lr=1e-4)
    course, rows = numpy_parameters(model)
    tight = [a.copy() for a in course]
    X_course, Y_course = np.ascontiguousarray(X.T), np.ascontiguousarray(Y.T)

    def unscoped() -> gg.Tensor:
        nn.use_name_scopes(False)
        try:
            return graphgrad_step(model, sgd, X, Y)
        finally:
            nn.use_name_scopes(True)

    def course_shapes(arrays: list) -> Callable[[], list]:
        return lambda: [a.reshape(c.shape) for a, c in zip(arrays, course)]

    def shapes_of(network: nn.Module, what: str = "data") -> Callable[[], list]:
        return lambda: [getattr(p, what).reshape(c.shape)
                        for p, c in zip(network.parameters(), course)]

    linears = [layer for layer in model if isinstance(layer, nn.Linear)]
    grads, adam_grads = shapes_of(model, "grad"), shapes_of(adam_model, "grad")
    return {
        "course": (lambda: course_numpy_step(course, X_course, Y_course, LR), lambda: course,
                   None),
        "rows": (lambda: rows_numpy_step(rows, X, Y), course_shapes(rows), None),
        "tight": (lambda: tight_numpy_step(tight, X_course, Y_course), lambda: tight, None),
        "nn": (lambda: graphgrad_step(model, sgd, X, Y), shapes_of(model), grads),
        "nn, no scopes": (unscoped, shapes_of(model), grads),
        "ops": (lambda: ops_step(linears, sgd, X, Y), shapes_of(model), grads),
        "adam": (lambda: graphgrad_step(adam_model, adam, X, Y), shapes_of(adam_model),
                 adam_grads),
    }


def check_steps(sizes: tuple[int, ...], batch: int, tolerance: float = 1e-10) -> None:
    """Every timed step, once from the same parameters, gives the course's numpy step's cost,
    dW[l], db[l] and updated W[l], b[l]; Adam's step the same cost and gradients, and the
    course's first Adam update, W - alpha dW / (sqrt(dW**2) + eps). The graphgrad steps'
    gradients are checked twice: as they left them in .grad, and as the update used them."""
    label = "MLP " + "-".join(map(str, sizes)) + f", batch {batch}"
    names = [f"{w}[{l + 1}]" for l in range(len(sizes) - 1) for w in ("W", "b")]
    expected: dict[str, np.ndarray] = {}
    for how in _steps(sizes, batch):
        step, parameters, gradients = _steps(sizes, batch)[how]  # fresh copies for each
        before = [a.copy() for a in parameters()]
        cost = step()
        after = [a.copy() for a in parameters()]
        figures = {"cost": np.asarray(cost.data if isinstance(cost, gg.Tensor) else cost),
                   **dict(zip(names, after))}
        if gradients is not None:
            held = {"d" + n: g for n, g in zip(names, gradients())}
            check_same(f"{label}: {how}'s .grad against the course's numpy step",
                       held, {n: expected[n] for n in held}, tolerance)
        if how == "adam":
            grads = [expected["d" + n] for n in names]
            eps, lr = 1e-8, 1e-4  # Adam's, as _steps makes it; t = 1
            check_same(f"{label}: Adam's first step against the course's formula", figures,
                       {"cost": expected["cost"], **{n: w - lr * g / (np.sqrt(g * g) + eps)
                                                     for n, w, g in zip(names, before, grads)}},
                       tolerance)
            continue
        figures |= {"d" + n: g for n, g in zip(names, gradients_of_step(before, after, LR))}
        if not expected:
            expected = figures
        else:
            check_same(f"{label}: {how} against the course's numpy step", figures, expected,
                       tolerance)


def mlp(sizes: tuple[int, ...], batch: int, number: int, repeat: int) -> list[tuple[str, ...]]:
    check_steps(sizes, batch)
    times = interleaved({how: step for how, (step, _, _) in _steps(sizes, batch).items()},
                        number, repeat)
    label = "-".join(map(str, sizes)) + f", batch {batch}"
    base = times["course"]
    return [
        (label, "numpy by hand, course layout (n_x, m)", f"{base * 1e6:.0f} us", "1.00x"),
        (label, "numpy by hand, batch-first (m, n_x)", f"{times['rows'] * 1e6:.0f} us",
         f"{times['rows'] / base:.2f}x"),
        (label, "numpy by hand, course layout, update without temporaries",
         f"{times['tight'] * 1e6:.0f} us", f"{times['tight'] / base:.2f}x"),
        (label, "graphgrad nn + SGD", f"{times['nn'] * 1e6:.0f} us",
         f"{times['nn'] / base:.2f}x ({times['nn'] / times['tight']:.2f}x the one without "
         "temporaries)"),
        (label, "graphgrad nn + SGD, name scopes off",
         f"{times['nn, no scopes'] * 1e6:.0f} us", f"{times['nn, no scopes'] / base:.2f}x"),
        (label, "graphgrad ops alone (no modules, no loss wrapper) + SGD",
         f"{times['ops'] * 1e6:.0f} us", f"{times['ops'] / base:.2f}x"),
        (label, "graphgrad nn + Adam", f"{times['adam'] * 1e6:.0f} us",
         f"{times['adam'] / base:.2f}x"),
    ]


def optimizer_steps(sizes: tuple[int, ...], number: int, repeat: int) -> list[tuple[str, ...]]:
    """``optimizer.step()`` alone, on the gradients of one backward."""
    model = build(sizes)
    rng = np.random.default_rng(1)
    for p in model.parameters():
        p.grad = rng.standard_normal(p.shape) * 1e-3
    params = model.parameters()
    made = {"SGD": optim.SGD(params, lr=1e-6), "SGD, momentum 0.9": optim.SGD(
        params, lr=1e-6, momentum=0.9), "RMSprop": optim.RMSprop(params, lr=1e-6),
        "Adam": optim.Adam(params, lr=1e-6)}
    times = interleaved({name: opt.step for name, opt in made.items()}, number, repeat)
    label = "-".join(map(str, sizes))
    return [(label, name, f"{t * 1e6:.1f} us") for name, t in times.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="skip the big MLP")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    rows = mlp((64, 32, 10), 32, number=300, repeat=args.repeat)
    steps = optimizer_steps((64, 32, 10), number=2000, repeat=args.repeat)
    if not args.quick:
        rows = mlp((784, 256, 128, 10), 64, number=30, repeat=args.repeat) + rows
        steps = optimizer_steps((784, 256, 128, 10), number=100, repeat=args.repeat) + steps
    print_table("One training step of an MLP (ReLU, softmax cross-entropy, float64), "
                "ratio to the course's numpy step", rows, ("model", "how", "time", "ratio"))
    print_table("optimizer.step() alone", steps, ("model", "optimizer", "time"))


if __name__ == "__main__":
    main()
