"""Forward and backward of the newer ops (softplus, elu, gelu, prod, cumsum, flip, roll, moveaxis,
repeat, tile, einsum, outer; then take_along_axis, sort, quantile, median, the diagonals and
triangles, numpy's structural compositions, tensordot, inner, kron, cross, diff, gradient,
average, the elementwise maths of trigonometric and powers, and gg.linalg's inv, solve, det,
slogdet and cholesky) on a 64 x 64 input, against the same maths written by hand in numpy: the
output and the input's gradient for an upstream gradient G (J = sum(G * op(X))). Before timing,
both give the same output and gradients to 1e-10. Both run in this process, interleaved, best
of N; BLAS on one thread (see bench_nn_mlp). The ops whose algorithm sets their time (`LARGE`)
are timed again at 256 x 256, where each new 512 KB array costs its page faults when glibc has
given the memory back to the system (its trim threshold): graphgrad, holding a few more arrays
at a time (the upstream gradient's copy, the leaves' .grad), pays that more often than numpy by
hand; run with MALLOC_TRIM_THRESHOLD_=268435456 MALLOC_MMAP_THRESHOLD_=268435456 to see the ops
alone.

Run: ``.venv/bin/python -m benchmarks.bench_ops``.
"""
from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")  # before numpy loads BLAS

import argparse  # noqa: E402
import functools  # noqa: E402
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


# The ops after those: gathering and sorting, order statistics, diagonals, numpy's structural
# compositions, contractions, differences, a weighted mean, and elementwise maths.
def _rows(n: int) -> np.ndarray:
    return np.arange(n)[:, None]


@functools.cache
def _indices(n: int) -> np.ndarray:
    """(n, n) column indices with repeats (a fixed draw, made once): take_along_axis's
    gradient adds up."""
    return np.random.default_rng(1).integers(0, n, (n, n))


def take_along_axis(X, G):
    index = _indices(X.shape[1])
    dX = np.bincount((index + X.shape[1] * _rows(X.shape[0])).ravel(), G.ravel(),
                     minlength=X.size).reshape(X.shape)
    return [np.take_along_axis(X, index, 1), dX]


def sort(X, G):
    order = np.argsort(X, axis=1, kind="stable")
    dX = np.empty_like(X)
    np.put_along_axis(dX, order, G, 1)
    return [np.take_along_axis(X, order, 1), dX]


def quantile(X, G, q):
    """numpy's linear method along axis 1: the sorted row's two values around q (n - 1)."""
    n = X.shape[1]
    order = np.argsort(X, axis=1, kind="stable")
    place = q * (n - 1)
    low = int(np.floor(place))
    high, weight = min(low + 1, n - 1), place - low
    below, above = np.take_along_axis(X, order[:, [low, high]], 1).T
    dX = np.zeros_like(X)
    rows = np.arange(X.shape[0])
    dX[rows, order[:, low]] = G * (1 - weight)
    dX[rows, order[:, high]] += G * weight
    return [below + (above - below) * weight, dX]


def _on_diagonal(values: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    grad = np.zeros(shape)
    np.fill_diagonal(grad, values)
    return grad


def _kron_side(n: int) -> int:
    return max(1, math.isqrt(n))


def kron(X, Y, G):
    k = _kron_side(X.shape[0])
    A, B = X[:k, :k], Y[:k, :k]
    blocks = G.reshape(k, k, k, k)  # (i, p, j, q): G[i k + p, j k + q]
    dX, dY = np.zeros_like(X), np.zeros_like(Y)
    dX[:k, :k] = np.einsum("ipjq,pq->ij", blocks, B)
    dY[:k, :k] = np.einsum("ipjq,ij->pq", blocks, A)
    return [np.kron(A, B), dX, dY]


def _triples(t):
    """The first rows of a matrix whose elements make whole 3-vectors, as 3-vectors."""
    return t[:3 * (t.shape[0] // 3)].reshape(-1, 3)


def cross(X, Y, G):
    a, b = _triples(X), _triples(Y)
    dX, dY = np.zeros_like(X), np.zeros_like(Y)
    rows = 3 * (X.shape[0] // 3)
    dX[:rows] = np.cross(b, G).reshape(rows, -1)
    dY[:rows] = np.cross(G, a).reshape(rows, -1)
    return [np.cross(a, b), dX, dY]


def diff(X, G):
    dX = np.zeros_like(X)
    dX[:, 1:] = G
    dX[:, :-1] -= G
    return [np.diff(X, axis=1), dX]


def gradient(X, G):
    """np.gradient along axis 1 (h = 1), and its transpose: each row of the stencil sends G
    back to the points it took."""
    dX = np.zeros_like(X)
    dX[:, 2:] += 0.5 * G[:, 1:-1]
    dX[:, :-2] -= 0.5 * G[:, 1:-1]
    dX[:, :2] += np.array([-1.0, 1.0]) * G[:, :1]
    dX[:, -2:] += np.array([-1.0, 1.0]) * G[:, -1:]
    return [np.gradient(X, axis=1), dX]


@functools.cache
def _weights(n: int) -> np.ndarray:
    return np.linspace(0.5, 1.5, n)


def average(X, G):
    w = _weights(X.shape[1])
    return [X @ w / w.sum(), G[:, None] * (w / w.sum())]


_LN2, _LN10 = math.log(2), math.log(10)


def _elementwise(f: Callable, df: Callable) -> Callable:
    """numpy's output f(X) and gradient G * f'(X) (df of X and the output)."""
    def by_hand(X, Y, G):
        y = f(X)
        return [y, G * df(X, y)]
    return by_hand


def arctan2(X, Y, G):
    scaled = G / (X * X + Y * Y)
    return [np.arctan2(X, Y), scaled * Y, -scaled * X]


def hypot(X, Y, G):
    h = np.hypot(X, Y)
    scaled = G / h
    return [h, scaled * X, scaled * Y]


NEW_CASES: list[tuple[str, Callable, Callable, bool]] = [
    ("take_along_axis(axis=1)", lambda x: gg.take_along_axis(x, _indices(x.shape[1]), 1),
     lambda X, Y, G: take_along_axis(X, G), False),
    ("sort(axis=1)", lambda x: gg.sort(x, 1), lambda X, Y, G: sort(X, G), False),
    ("quantile(0.3, axis=1)", lambda x: gg.quantile(x, 0.3, axis=1),
     lambda X, Y, G: quantile(X, G, 0.3), False),
    ("median(axis=1)", lambda x: gg.median(x, axis=1), lambda X, Y, G: quantile(X, G, 0.5),
     False),
    ("diagonal", gg.diagonal,
     lambda X, Y, G: [np.diagonal(X).copy(), _on_diagonal(G, X.shape)], False),
    ("diag of a row", lambda x: gg.diag(x[0]),
     lambda X, Y, G: [np.diag(X[0]), _first_row(np.diagonal(G), X.shape)], False),
    ("trace", gg.trace, lambda X, Y, G: [np.trace(X), G * np.eye(*X.shape)], False),
    ("triu", gg.triu, lambda X, Y, G: [np.triu(X), np.triu(G)], False),
    ("tril(-1)", lambda x: gg.tril(x, -1), lambda X, Y, G: [np.tril(X, -1), np.tril(G, -1)],
     False),
    ("copy", gg.copy, lambda X, Y, G: [X.copy(), G.copy()], False),
    ("atleast_3d", gg.atleast_3d, lambda X, Y, G: [X[:, :, None], G[:, :, 0]], False),
    ("column_stack", lambda x, y: gg.column_stack([x, y]),
     lambda X, Y, G: [np.column_stack([X, Y]), G[:, :X.shape[1]], G[:, X.shape[1]:]], True),
    ("dstack", lambda x, y: gg.dstack([x, y]),
     lambda X, Y, G: [np.dstack([X, Y]), G[..., 0], G[..., 1]], True),
    ("fliplr", gg.fliplr, lambda X, Y, G: [np.fliplr(X), np.fliplr(G)], False),
    ("flipud", gg.flipud, lambda X, Y, G: [np.flipud(X), np.flipud(G)], False),
    ("rot90", gg.rot90, lambda X, Y, G: [np.rot90(X), np.rot90(G, -1)], False),
    ("tensordot(axes=1)", lambda x, y: gg.tensordot(x, y, 1),
     lambda X, Y, G: [X @ Y, G @ Y.T, X.T @ G], True),
    ("inner", gg.inner, lambda X, Y, G: [X @ Y.T, G @ Y, G.T @ X], True),
    ("kron of corners", lambda x, y: gg.kron(x[:_kron_side(x.shape[0]), :_kron_side(x.shape[0])],
                                             y[:_kron_side(x.shape[0]), :_kron_side(x.shape[0])]),
     kron, True),
    ("cross of 3-vectors", lambda x, y: gg.cross(_triples(x), _triples(y)), cross, True),
    ("diff(axis=1)", lambda x: gg.diff(x, axis=1), lambda X, Y, G: diff(X, G), False),
    ("gradient(axis=1)", lambda x: gg.gradient(x, axis=1), lambda X, Y, G: gradient(X, G),
     False),
    ("average(axis=1, weights)", lambda x: gg.average(x, 1, _weights(x.shape[1])),
     lambda X, Y, G: average(X, G), False),
    ("tan", gg.tan, _elementwise(np.tan, lambda X, y: 1 + y * y), False),
    ("arcsin(x / 2)", lambda x: gg.arcsin(x / 2),
     _elementwise(lambda X: np.arcsin(X / 2), lambda X, y: 0.5 / np.sqrt(1 - (X / 2) ** 2)),
     False),
    ("arctan", gg.arctan, _elementwise(np.arctan, lambda X, y: 1 / (1 + X * X)), False),
    ("arctan2", gg.arctan2, lambda X, Y, G: arctan2(X, Y, G), True),
    ("hypot", gg.hypot, lambda X, Y, G: hypot(X, Y, G), True),
    ("sinh", gg.sinh, _elementwise(np.sinh, lambda X, y: np.cosh(X)), False),
    ("arcsinh", gg.arcsinh, _elementwise(np.arcsinh, lambda X, y: 1 / np.sqrt(X * X + 1)),
     False),
    ("arctanh(x / 2)", lambda x: gg.arctanh(x / 2),
     _elementwise(lambda X: np.arctanh(X / 2), lambda X, y: 0.5 / (1 - (X / 2) ** 2)), False),
    ("exp2", gg.exp2, _elementwise(np.exp2, lambda X, y: y * _LN2), False),
    ("log2(abs)", lambda x: gg.log2(gg.abs(x)),
     _elementwise(lambda X: np.log2(np.abs(X)), lambda X, y: 1 / (X * _LN2)), False),
    ("logaddexp", gg.logaddexp,
     lambda X, Y, G: [np.logaddexp(X, Y), G * _sigmoid(X - Y), G * _sigmoid(Y - X)], True),
    ("reciprocal", gg.reciprocal, _elementwise(np.reciprocal, lambda X, y: -y * y), False),
    ("cbrt", gg.cbrt, _elementwise(np.cbrt, lambda X, y: 1 / (3 * y * y)), False),
]


# gg.linalg's: X (a random matrix, invertible) and Y as the right-hand side
def inv(X, G):
    Yt = np.linalg.inv(X).T
    return [Yt.T, -(Yt @ G @ Yt)]


def solve(X, Y, G):
    x = np.linalg.solve(X, Y)
    dY = np.linalg.solve(X.T, G)
    return [x, -(dY @ x.T), dY]


def det(X, G):
    y = np.linalg.det(X)
    return [y, (G * y) * np.linalg.inv(X).T]


def logabsdet(X, G):
    return [np.linalg.slogdet(X)[1], G * np.linalg.inv(X).T]


def _gram(x):
    """A positive-definite X X^T / n + I, of an array or a tensor, for cholesky."""
    return x @ x.T / x.shape[0] + np.eye(x.shape[0])


def cholesky(X, G):
    """L of A = X X^T / n + I; dA = Phi(S + S^T), S = L^-T Phi(L^T G) L^-1, then through A."""
    L = np.linalg.cholesky(_gram(X))
    phi = np.tril(np.ones_like(L)) - np.eye(len(L)) / 2
    L_inv = np.linalg.inv(L)
    S = L_inv.T @ ((L.T @ G) * phi) @ L_inv
    dA = (S + S.T) * phi
    return [L, (dA + dA.T) @ X / X.shape[0]]


LINALG_CASES: list[tuple[str, Callable, Callable, bool]] = [
    ("linalg.inv", gg.linalg.inv, lambda X, Y, G: inv(X, G), False),
    ("linalg.solve", gg.linalg.solve, solve, True),
    ("linalg.det", gg.linalg.det, lambda X, Y, G: det(X, G), False),
    ("linalg.slogdet", lambda x: gg.linalg.slogdet(x).logabsdet,
     lambda X, Y, G: logabsdet(X, G), False),
    ("linalg.cholesky of X X^T / n + I", lambda x: gg.linalg.cholesky(_gram(x)),
     lambda X, Y, G: cholesky(X, G), False),
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


# where the algorithm, not the per-op overhead, sets the time: timed again at a larger size
LARGE = ("take_along_axis(axis=1)", "sort(axis=1)", "quantile(0.3, axis=1)", "median(axis=1)",
         "triu", "diff(axis=1)", "gradient(axis=1)", "cross of 3-vectors", "kron of corners",
         *[case[0] for case in LINALG_CASES])


def rows(n: int, number: int, repeat: int, labels: tuple[str, ...] | None = None
         ) -> list[tuple[str, ...]]:
    return [_case(label, op, by_hand, two, n, number, repeat)
            for label, op, by_hand, two in CASES + NEW_CASES + LINALG_CASES
            if labels is None or label in labels]


def check_ops(n: int = 64) -> None:
    """Every op's output and gradients in graphgrad are the numpy maths', at n x n; nothing
    is timed."""
    rows(n, number=0, repeat=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--number", type=int, default=100)
    parser.add_argument("--large", type=int, default=256, help="the size of the second table")
    parser.add_argument("--only", nargs="*", help="time only the ops of these labels")
    args = parser.parse_args()
    only = tuple(args.only) if args.only else None
    header = ("op", "numpy by hand", "graphgrad", "ratio")
    print_table(f"Forward and backward of one op on {args.n} x {args.n} (float64), ratio to "
                "the same maths by hand in numpy", rows(args.n, args.number, args.repeat, only),
                header)
    large = tuple(label for label in LARGE if only is None or label in only)
    if args.large and large:
        print_table(f"The same on {args.large} x {args.large}",
                    rows(args.large, max(1, args.number // 10), args.repeat, large), header)


if __name__ == "__main__":
    main()
