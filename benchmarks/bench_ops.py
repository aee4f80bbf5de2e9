"""Forward and backward of the newer ops (softplus, elu, gelu, prod, cumsum, flip, roll,
moveaxis, repeat, tile, einsum, outer) on a 64 x 64 input, against the same maths written by
hand in numpy: the output and the input's gradient for an upstream gradient G (J = sum(G *
op(X))). Before timing, both give the same output and gradients to 1e-10. Both run in this
process, interleaved, best of N; BLAS on one thread (see bench_nn_mlp).

Run: ``.venv/bin/python -m benchmarks.bench_ops``.
"""
from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")  # before numpy loads BLAS

import argparse  # noqa: E402
import math  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402

import graphgrad as gg  # noqa: E402
from benchmarks.bench_layers import _duration  # noqa: E402
from benchmarks.common import check_same, interleaved, print_table  # noqa: E402

_GELU_SCALE = 2 * math.sqrt(2 / math.pi)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1, e) / (1 + e)


def softplus(X, G):
    return [np.maximum(X, 0) + np.log1p(np.exp(-np.abs(X))), G * _sigmoid(X)]


def elu(X, G):
    e = np.exp(np.minimum(X, 0))
    return [np.where(X > 0, X, e - 1), G * e]


def gelu(X, G):
    s = _sigmoid(_GELU_SCALE * (X + 0.044715 * (X * X * X)))
    slope = _GELU_SCALE * (1 + 3 * 0.044715 * (X * X))
    return [X * s, G * (s + X * s * (1 - s) * slope)]


def prod(X, G):
    y = X.prod(axis=1)
    return [y, G[:, None] * (y[:, None] / X)]


def cumsum(X, G):
    return [np.cumsum(X, axis=1), np.cumsum(G[:, ::-1], axis=1)[:, ::-1]]


def repeat(X, G):
    return [np.repeat(X, 2, axis=0), G.reshape(X.shape[0], 2, -1).sum(axis=1)]


def tile(X, G):
    return [np.tile(X, (2, 1)), G.reshape(2, *X.shape).sum(axis=0)]


def _first_row(row: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The gradient of a matrix whose first row alone was used: ``row``, then zeros."""
    grad = np.zeros(shape)
    grad[0] = row
    return grad


# label, graphgrad's op of X (and Y), numpy's output and gradients from (X, Y, G)
CASES: list[tuple[str, Callable, Callable, bool]] = [
    ("softplus", gg.softplus, lambda X, Y, G: softplus(X, G), False),
    ("elu", gg.elu, lambda X, Y, G: elu(X, G), False),
    ("gelu", gg.gelu, lambda X, Y, G: gelu(X, G), False),
    ("prod(axis=1)", lambda x: gg.prod(x, axis=1), lambda X, Y, G: prod(X, G), False),
    ("cumsum(axis=1)", lambda x: gg.cumsum(x, axis=1), lambda X, Y, G: cumsum(X, G), False),
    ("flip(axis=1)", lambda x: gg.flip(x, 1), lambda X, Y, G: [np.flip(X, 1), np.flip(G, 1)],
     False),
    ("roll(3, axis=1)", lambda x: gg.roll(x, 3, 1),
     lambda X, Y, G: [np.roll(X, 3, 1), np.roll(G, -3, 1)], False),
    ("moveaxis(0, 1)", lambda x: gg.moveaxis(x, 0, 1), lambda X, Y, G: [X.T, G.T], False),
    ("repeat(2, axis=0)", lambda x: gg.repeat(x, 2, 0), lambda X, Y, G: repeat(X, G), False),
    ("tile((2, 1))", lambda x: gg.tile(x, (2, 1)), lambda X, Y, G: tile(X, G), False),
    ("einsum('ij,jk->ik')", lambda x, y: gg.einsum("ij,jk->ik", x, y),
     lambda X, Y, G: [X @ Y, G @ Y.T, X.T @ G], True),
    ("outer (64,) (64,)", lambda x, y: gg.outer(x[0], y[0]),
     lambda X, Y, G: [np.outer(X[0], Y[0]), _first_row(G @ Y[0], X.shape),
                      _first_row(X[0] @ G, Y.shape)], True),
]


def _case(label: str, op: Callable, by_hand: Callable, two: bool, n: int, number: int,
          repeat: int) -> tuple[str, ...]:
    """Check that graphgrad's output and gradients are numpy's, then time both (``number``
    0: check only)."""
    rng = np.random.default_rng(0)
    X = rng.uniform(0.5, 1.5, (n, n)) * rng.choice([-1.0, 1.0], (n, n))  # no zeros (prod)
    Y = rng.standard_normal((n, n))
    leaves = [gg.Tensor(X, requires_grad=True)] + ([gg.Tensor(Y, requires_grad=True)]
                                                   if two else [])
    G = rng.standard_normal(op(*leaves).shape)

    def graphgrad_step() -> gg.Tensor:
        for leaf in leaves:
            leaf.grad = None
        out = op(*leaves)
        out.backward(G)
        return out

    names = ["out", "dX", "dY"][:len(leaves) + 1]
    check_same(label, dict(zip(names, [graphgrad_step().data, *(t.grad for t in leaves)])),
               dict(zip(names, by_hand(X, Y, G))))
    if not number:
        return (label,)
    times = interleaved({"numpy": lambda: by_hand(X, Y, G), "graphgrad": graphgrad_step},
                        number, repeat)
    return (label, _duration(times["numpy"]), _duration(times["graphgrad"]),
            f"{times['graphgrad'] / times['numpy']:.2f}x")


def rows(n: int, number: int, repeat: int) -> list[tuple[str, ...]]:
    return [_case(label, op, by_hand, two, n, number, repeat)
            for label, op, by_hand, two in CASES]


def check_ops(n: int = 64) -> None:
    """Every op's output and gradients in graphgrad are the numpy maths', at n x n; nothing
    is timed."""
    rows(n, number=0, repeat=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--number", type=int, default=100)
    args = parser.parse_args()
    print_table(f"Forward and backward of one op on {args.n} x {args.n} (float64), ratio to "
                "the same maths by hand in numpy", rows(args.n, args.number, args.repeat),
                ("op", "numpy by hand", "graphgrad", "ratio"))


if __name__ == "__main__":
    main()
