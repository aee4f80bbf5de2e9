"""Forward and backward of the newer ops (softplus, elu, gelu exact and in its tanh form, erf,
erfc, prod, cumsum, flip, roll, moveaxis, repeat, tile, einsum, outer; then take_along_axis,
sort, quantile, median, the diagonals and triangles, numpy's structural compositions,
tensordot, inner, kron, cross, diff, gradient, average, the elementwise maths of trigonometric
and powers, gg.linalg's inv, solve, det, slogdet, cholesky, eigh, eigvalsh, svd, svdvals, qr,
pinv, lstsq, the norms and multi_dot; cumprod, the nan-statistics (of an X with NaNs), cov,
corrcoef, sinc, ptp, trapezoid, ediff1d, unstack, meshgrid, and the losses' class weights,
label smoothing and pos_weight) on a 64 x 64 input, against the same maths written by hand in
numpy: the output and the input's gradient for an upstream gradient G (J = sum(G * op(X)); an
op of several outputs is timed in a loss of them all, V diag(w) of eigh's). numpy has no erf:
the baselines of erf, erfc and gelu take graphgrad's of arrays (`erf_values`, `erfc_values`).
Before timing, both give the same output and gradients to 1e-10. Both run in this process,
interleaved, best of N; BLAS on one thread (see bench_nn_mlp). The ops whose algorithm sets
their time (`LARGE`) are timed again at 256 x 256, where each new 512 KB array costs its page
faults when glibc has given the memory back to the system (its trim threshold): graphgrad,
holding a few more arrays at a time (the upstream gradient's copy, the leaves' .grad), pays
that more often than numpy by hand; run with MALLOC_TRIM_THRESHOLD_=268435456
MALLOC_MMAP_THRESHOLD_=268435456 to see the ops alone.

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
from graphgrad.ops.special import erf_values, erfc_values  # noqa: E402

_GELU_SCALE = 2 * math.sqrt(2 / math.pi)
_RSQRT2, _RSQRT_2PI = 1 / math.sqrt(2), 1 / math.sqrt(2 * math.pi)
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1, e) / (1 + e)


def softplus(X, G):
    return [np.maximum(X, 0) + np.log1p(np.exp(-np.abs(X))), G * _sigmoid(X)]


def elu(X, G):
    e = np.exp(np.minimum(X, 0))
    return [np.where(X > 0, X, e - 1), G * e]


def gelu_tanh(X, G):
    s = _sigmoid(_GELU_SCALE * (X + 0.044715 * (X * X * X)))
    slope = _GELU_SCALE * (1 + 3 * 0.044715 * (X * X))
    return [X * s, G * (s + X * s * (1 - s) * slope)]


# numpy has no erf: the baselines take graphgrad's, of arrays (``erf_values``), so that the
# ratios are of the graph's work alone
def gelu(X, G):
    """x Phi(x), Phi(x) = erfc(-x / sqrt(2)) / 2;  Phi(x) + x phi(x)."""
    Phi = 0.5 * erfc_values(X * -_RSQRT2)
    return [X * Phi, G * (Phi + X * (_RSQRT_2PI * np.exp(-0.5 * (X * X))))]


def erf(X, G):
    return [erf_values(X), G * (_TWO_OVER_SQRT_PI * np.exp(-(X * X)))]


def erfc(X, G):
    return [erfc_values(X), G * (-_TWO_OVER_SQRT_PI * np.exp(-(X * X)))]


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
    ("gelu(approximate='tanh')", lambda x: gg.gelu(x, approximate="tanh"),
     lambda X, Y, G: gelu_tanh(X, G), False),
    ("erf", gg.erf, lambda X, Y, G: erf(X, G), False),
    ("erfc", gg.erfc, lambda X, Y, G: erfc(X, G), False),
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


# gg.linalg's decompositions, norms and products: eigh reads X's lower triangle, as numpy's
def _phi(n: int) -> np.ndarray:
    """1 below the diagonal, 1/2 on it, 0 above: a triangle read's share of a symmetric
    gradient."""
    return np.tril(np.ones((n, n))) - np.eye(n) / 2


def _eigh_grad(w, V, dw, dV):
    """dA of (w, V) = eigh(A) on its lower triangle: G = V (diag(dw) + F * (V^T dV)) V^T,
    F_ij = 1 / (w_j - w_i) off the diagonal, dA = (G + G^T) Phi."""
    inner = np.diag(dw)
    if dV is not None:
        gaps = w[None, :] - w[:, None]
        np.fill_diagonal(gaps, np.inf)
        inner = inner + (V.T @ dV) / gaps
    g = V @ inner @ V.T
    return (g + g.T) * _phi(len(w))


def eigh(X, G):
    """V diag(w), a loss of both outputs."""
    w, V = np.linalg.eigh(X)
    return [V * w, _eigh_grad(w, V, (G * V).sum(axis=0), G * w)]


def eigvalsh(X, G):
    w, V = np.linalg.eigh(X)
    return [w, _eigh_grad(w, V, G, None)]


def _svd_grad(U, S, Vh, dU, dS, dVh):
    """dA of a square A = U diag(S) Vh: U (diag(dS) + (F * (J - J^T)) S + S (F * (K - K^T))) Vh,
    J = U^T dU, K = Vh dVh^T, F_jk = 1 / (s_k^2 - s_j^2) off the diagonal."""
    inner = np.diag(dS)
    if dU is not None:
        gaps = S[None, :] ** 2 - S[:, None] ** 2
        np.fill_diagonal(gaps, np.inf)
        J, K = U.T @ dU, Vh @ dVh.T
        inner = inner + ((J - J.T) / gaps) * S[None, :] + S[:, None] * ((K - K.T) / gaps)
    return U @ inner @ Vh


def svd(X, G):
    """U diag(S) + Vh, a loss of the three outputs."""
    U, S, Vh = np.linalg.svd(X)
    return [U * S + Vh, _svd_grad(U, S, Vh, G * S, (G * U).sum(axis=0), G)]


def svdvals(X, G):
    U, S, Vh = np.linalg.svd(X)
    return [S, (U * G) @ Vh]


def qr(X, G):
    """Q + R: dA = (dQ + Q copyltu(M)) R^-T, M = R dR^T - dQ^T Q (dQ = dR = G)."""
    Q, R = np.linalg.qr(X)
    M = R @ G.T - G.T @ Q
    sym = np.tril(M) + np.tril(M, -1).T
    return [Q + R, np.linalg.solve(R, (G + Q @ sym).T).T]


def _pinv_grad(A, P, dP):
    """Golub and Pereyra's: -P^T dP P^T + (I - A P) dP^T P P^T + P^T P dP^T (I - P A)."""
    outside = dP.T @ (P @ P.T)
    beside = P.T @ (P @ dP.T)
    return -(P.T @ dP @ P.T) + (outside - A @ (P @ outside)) + (beside - (beside @ P) @ A)


def pinv(X, G):
    P = np.linalg.pinv(X)
    return [P, _pinv_grad(X, P, G)]


def lstsq(X, Y, G):
    """x = pinv(X) Y, numpy's lstsq of a square X: the smallest x of the least squared
    error."""
    P = np.linalg.pinv(X, rtol=max(X.shape) * np.finfo(X.dtype).eps)
    return [P @ Y, _pinv_grad(X, P, G @ Y.T), P.T @ G]


def nuclear_norm(X, G):
    U, S, Vh = np.linalg.svd(X)
    return [S.sum(), G * (U @ Vh)]


def spectral_norm(X, G):
    U, S, Vh = np.linalg.svd(X)
    return [S[0], G * np.outer(U[:, 0], Vh[0])]


def frobenius_norm(X, G):
    y = np.sqrt((X * X).sum())
    return [y, G * X / y]


def _at_extreme(X, G, extreme: Callable) -> np.ndarray:
    """The gradient of an extreme along axis 1: G at its place in each row."""
    dX = np.zeros_like(X)
    dX[np.arange(len(X)), extreme(X, axis=1)] = G
    return dX


def multi_dot(X, Y, G):
    """X Y X: dX = G (Y X)^T + (X Y)^T G, dY = X^T G X^T."""
    YX = Y @ X
    return [X @ YX, G @ YX.T + (X @ Y).T @ G, X.T @ G @ X.T]


DECOMPOSITION_CASES: list[tuple[str, Callable, Callable, bool]] = [
    ("linalg.eigh (V diag(w))", lambda x: (lambda w, v: v * w)(*gg.linalg.eigh(x)),
     lambda X, Y, G: eigh(X, G), False),
    ("linalg.eigvalsh", gg.linalg.eigvalsh, lambda X, Y, G: eigvalsh(X, G), False),
    ("linalg.svd (U diag(S) + Vh)", lambda x: (lambda u, s, vh: u * s + vh)(*gg.linalg.svd(x)),
     lambda X, Y, G: svd(X, G), False),
    ("linalg.svdvals", gg.linalg.svdvals, lambda X, Y, G: svdvals(X, G), False),
    ("linalg.qr (Q + R)", lambda x: (lambda q, r: q + r)(*gg.linalg.qr(x)),
     lambda X, Y, G: qr(X, G), False),
    ("linalg.pinv", gg.linalg.pinv, lambda X, Y, G: pinv(X, G), False),
    ("linalg.lstsq's x", lambda x, y: gg.linalg.lstsq(x, y)[0], lstsq, True),
    ("linalg.matrix_norm('fro')", gg.linalg.matrix_norm,
     lambda X, Y, G: frobenius_norm(X, G), False),
    ("linalg.matrix_norm('nuc')", lambda x: gg.linalg.matrix_norm(x, ord="nuc"),
     lambda X, Y, G: nuclear_norm(X, G), False),
    ("linalg.matrix_norm(2)", lambda x: gg.linalg.matrix_norm(x, ord=2),
     lambda X, Y, G: spectral_norm(X, G), False),
    ("linalg.vector_norm(axis=1)", lambda x: gg.linalg.vector_norm(x, axis=1),
     lambda X, Y, G: [np.sqrt((X * X).sum(axis=1)),
                      G[:, None] * X / np.sqrt((X * X).sum(axis=1))[:, None]], False),
    ("linalg.vector_norm(axis=1, ord=1)", lambda x: gg.linalg.vector_norm(x, axis=1, ord=1),
     lambda X, Y, G: [np.abs(X).sum(axis=1), G[:, None] * np.sign(X)], False),
    ("linalg.vector_norm(axis=1, ord=inf)",
     lambda x: gg.linalg.vector_norm(x, axis=1, ord=np.inf),
     lambda X, Y, G: [np.abs(X).max(axis=1),
                      _at_extreme(np.abs(X), G, np.argmax) * np.sign(X)], False),
    ("linalg.multi_dot([x, y, x])", lambda x, y: gg.linalg.multi_dot([x, y, x]), multi_dot,
     True),
]


# numpy's statistics of data with NaNs (a row of these labels gets NaNs in X, `_with_nans`),
# cumprod and the differences and integrals
NANS = "nan"


@functools.cache
def _nan_places(n: int) -> np.ndarray:
    """A fixed draw of about 1 element in 8 to be NaN, none in the first two columns (every
    row keeps numbers)."""
    places = np.random.default_rng(2).random((n, n)) < 0.125
    places[:, :2] = False
    return places


def _with_nans(X: np.ndarray) -> np.ndarray:
    X = X.copy()
    X[_nan_places(X.shape[0])] = np.nan
    return X


def _numbers(X):
    """The mask of numbers, their count along axis 1, and X with 0 at the NaNs."""
    numbers = ~np.isnan(X)
    return numbers, numbers.sum(axis=1), np.where(numbers, X, 0.0)


def nanmean(X, G):
    numbers, count, X0 = _numbers(X)
    return [X0.sum(axis=1) / count, numbers * (G / count)[:, None]]


def nanvar(X, G, root: bool):
    numbers, count, X0 = _numbers(X)
    centred = numbers * (X0 - (X0.sum(axis=1) / count)[:, None])
    var = (centred * centred).sum(axis=1) / count
    if root:
        std = np.sqrt(var)
        return [std, centred * (G / (count * std))[:, None]]
    return [var, centred * (2 * G / count)[:, None]]


def nanprod(X, G):
    numbers, _, _ = _numbers(X)
    y = np.where(numbers, X, 1.0).prod(axis=1)
    return [y, numbers * (G[:, None] * y[:, None] / np.where(numbers, X, 1.0))]


def nanquantile(X, G, q):
    """numpy's linear method along axis 1 over each row's numbers: NaNs sort last."""
    numbers, count, _ = _numbers(X)
    order = np.argsort(X, axis=1, kind="stable")
    place = q * (count - 1)
    low = np.floor(place).astype(int)
    high, weight = np.minimum(low + 1, count - 1), place - low
    rows = np.arange(len(X))
    below, above = X[rows, order[rows, low]], X[rows, order[rows, high]]
    dX = np.zeros_like(X)
    dX[rows, order[rows, low]] = G * (1 - weight)
    dX[rows, order[rows, high]] += G * weight
    return [below + (above - below) * weight, dX]


def nancumsum(X, G):
    numbers, _, X0 = _numbers(X)
    return [np.cumsum(X0, axis=1), numbers * np.cumsum(G[:, ::-1], axis=1)[:, ::-1]]


def cumprod(X, G):
    """No zeros in X: dx_k = sum over i >= k of dy_i y_i, over x_k."""
    y = np.cumprod(X, axis=1)
    return [y, np.cumsum((G * y)[:, ::-1], axis=1)[:, ::-1] / X]


def cov(X, G):
    """Rows are variables: C = Xc Xc^T / (N - 1), dX = (G + G^T) Xc / (N - 1) (the centring's
    own gradient is 0: Xc's rows sum to 0)."""
    centred = X - X.mean(axis=1, keepdims=True)
    scale = 1 / (X.shape[1] - 1)
    return [centred @ centred.T * scale, (G + G.T) @ centred * scale]


def corrcoef(X, G):
    """R = C / (d d^T), d = sqrt(diag C): dC = G / (d d^T), plus on its diagonal
    -(row and column sums of G * R) / (2 d^2); then through cov."""
    centred = X - X.mean(axis=1, keepdims=True)
    scale = 1 / (X.shape[1] - 1)
    C = centred @ centred.T * scale
    d = np.sqrt(np.diagonal(C))
    R = C / np.outer(d, d)
    dC = G / np.outer(d, d)
    GR = G * R
    dC[np.diag_indices_from(dC)] -= (GR.sum(axis=0) + GR.sum(axis=1)) / (2 * d * d)
    return [R, (dC + dC.T) @ centred * scale]


def sinc(X, G):
    """sin(pi x) / (pi x), X without zeros: d/dx = (cos(pi x) - sinc(x)) / x."""
    y = np.sinc(X)
    return [y, G * (np.cos(np.pi * X) - y) / X]


def ptp(X, G):
    return [np.ptp(X, axis=1),
            _at_extreme(X, G, np.argmax) - _at_extreme(X, G, np.argmin)]


@functools.cache
def _trapezoid_weights(n: int) -> np.ndarray:
    w = np.ones(n)
    w[[0, -1]] = 0.5
    return w


def ediff1d(X, G):
    flat = np.zeros(X.size)
    flat[1:] += G
    flat[:-1] -= G
    return [np.ediff1d(X), flat.reshape(X.shape)]


def unstack(X, G):
    """The first row times the last, of X's rows unstacked."""
    rows = np.unstack(X)
    dX = np.zeros_like(X)
    dX[0] = G * rows[-1]
    dX[-1] += G * rows[0]
    return [rows[0] * rows[-1], dX]


def meshgrid(X, Y, G):
    """The grid of X's first row times that of Y's ('xy': A[i, j] = x_j, B[i, j] = y_i)."""
    A, B = np.meshgrid(X[0], Y[0])
    return [A * B, _first_row((G * B).sum(axis=0), X.shape),
            _first_row((G * A).sum(axis=1), Y.shape)]


def _unstacked_ends(x):
    rows = gg.unstack(x)
    return rows[0] * rows[-1]


def _meshgrid_product(x, y):
    a, b = gg.meshgrid(x[0], y[0])
    return a * b


STATISTICS_CASES: list[tuple[str, Callable, Callable, bool]] = [
    ("cumprod(axis=1)", lambda x: gg.cumprod(x, axis=1), lambda X, Y, G: cumprod(X, G), False),
    ("nansum(axis=1)", lambda x: gg.nansum(x, axis=1),
     lambda X, Y, G: [_numbers(X)[2].sum(axis=1), _numbers(X)[0] * G[:, None]], False),
    ("nanmean(axis=1)", lambda x: gg.nanmean(x, axis=1), lambda X, Y, G: nanmean(X, G),
     False),
    ("nanmax(axis=1)", lambda x: gg.nanmax(x, axis=1),
     lambda X, Y, G: [np.nanmax(X, axis=1), _at_extreme(X, G, np.nanargmax)], False),
    ("nanmin(axis=1)", lambda x: gg.nanmin(x, axis=1),
     lambda X, Y, G: [np.nanmin(X, axis=1), _at_extreme(X, G, np.nanargmin)], False),
    ("nanvar(axis=1)", lambda x: gg.nanvar(x, axis=1), lambda X, Y, G: nanvar(X, G, False),
     False),
    ("nanstd(axis=1)", lambda x: gg.nanstd(x, axis=1), lambda X, Y, G: nanvar(X, G, True),
     False),
    ("nanprod(axis=1)", lambda x: gg.nanprod(x, axis=1), lambda X, Y, G: nanprod(X, G), False),
    ("nancumsum(axis=1)", lambda x: gg.nancumsum(x, axis=1), lambda X, Y, G: nancumsum(X, G),
     False),
    ("nanmedian(axis=1)", lambda x: gg.nanmedian(x, axis=1),
     lambda X, Y, G: nanquantile(X, G, 0.5), False),
    ("nanquantile(0.3, axis=1)", lambda x: gg.nanquantile(x, 0.3, axis=1),
     lambda X, Y, G: nanquantile(X, G, 0.3), False),
    ("cov", gg.cov, lambda X, Y, G: cov(X, G), False),
    ("corrcoef", gg.corrcoef, lambda X, Y, G: corrcoef(X, G), False),
    ("sinc", gg.sinc, lambda X, Y, G: sinc(X, G), False),
    ("ptp(axis=1)", lambda x: gg.ptp(x, axis=1), lambda X, Y, G: ptp(X, G), False),
    ("trapezoid(axis=1)", lambda x: gg.trapezoid(x, axis=1),
     lambda X, Y, G: [np.trapezoid(X, axis=1), G[:, None] * _trapezoid_weights(X.shape[1])],
     False),
    ("ediff1d", gg.ediff1d, lambda X, Y, G: ediff1d(X, G), False),
    ("unstack (first row * last)", _unstacked_ends, lambda X, Y, G: unstack(X, G), False),
    ("meshgrid (of first rows, product)", _meshgrid_product, meshgrid, True),
]


# the losses' options: logits X (m, C), fixed labels and weights
@functools.cache
def _labels(m: int, classes: int) -> np.ndarray:
    return np.random.default_rng(3).integers(0, classes, m)


@functools.cache
def _yes_no(shape: tuple[int, ...]) -> np.ndarray:
    return (np.random.default_rng(4).random(shape) < 0.3).astype(np.float64)


def _log_softmax(Z: np.ndarray) -> np.ndarray:
    shifted = Z - Z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def cross_entropy(X, G, smoothing: float):
    """Targets T = w ((1 - eps) Y + eps / C), J = -sum(T log softmax(Z)) / sum(w_y):
    dZ = (softmax(Z) sum_k T_k - T) / sum(w_y)."""
    m, classes = X.shape
    w, labels = _weights(classes), _labels(m, classes)
    T = np.full(X.shape, smoothing / classes)
    T[np.arange(m), labels] += 1 - smoothing
    T *= w
    total = w[labels].sum()
    log_p = _log_softmax(X)
    return [-(T * log_p).sum() / total,
            G * (np.exp(log_p) * T.sum(axis=1, keepdims=True) - T) / total]


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def bce_with_logits(X, G):
    """L = w [p y softplus(-z) + (1 - y) softplus(z)], their mean; dZ = w [(1 - y + p y)
    sigmoid(z) - p y] / N, w one per row and p one per column."""
    y = _yes_no(X.shape)
    w, p = _weights(X.shape[0])[:, None], _weights(X.shape[1])[::-1]
    loss = w * (p * y * _softplus(-X) + (1 - y) * _softplus(X))
    return [loss.mean(), G * w * ((1 - y + p * y) * _sigmoid(X) - p * y) / X.size]


LOSS_CASES: list[tuple[str, Callable, Callable, bool]] = [
    ("cross_entropy(weight=)",
     lambda x: gg.nn.cross_entropy(x, _labels(*x.shape), weight=_weights(x.shape[1])),
     lambda X, Y, G: cross_entropy(X, G, 0.0), False),
    ("cross_entropy(weight=, label_smoothing=0.1)",
     lambda x: gg.nn.cross_entropy(x, _labels(*x.shape), weight=_weights(x.shape[1]),
                                   label_smoothing=0.1),
     lambda X, Y, G: cross_entropy(X, G, 0.1), False),
    ("binary_cross_entropy_with_logits(weight=, pos_weight=)",
     lambda x: gg.nn.binary_cross_entropy_with_logits(
         x, _yes_no(x.shape), weight=_weights(x.shape[0])[:, None],
         pos_weight=_weights(x.shape[1])[::-1]),
     lambda X, Y, G: bce_with_logits(X, G), False),
]


def _case(label: str, op: Callable, by_hand: Callable, two: bool, n: int, number: int,
          repeat: int) -> tuple[str, ...]:
    """Check that graphgrad's output and gradients are numpy's, then time both (``number``
    0: check only)."""
    rng = np.random.default_rng(0)
    X = rng.uniform(0.5, 1.5, (n, n)) * rng.choice([-1.0, 1.0], (n, n))  # no zeros (prod)
    if label.startswith(NANS):
        X = _with_nans(X)
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
LARGE = ("gelu", "gelu(approximate='tanh')", "erf",
         "take_along_axis(axis=1)", "sort(axis=1)", "quantile(0.3, axis=1)", "median(axis=1)",
         "triu", "diff(axis=1)", "gradient(axis=1)", "cross of 3-vectors", "kron of corners",
         *[case[0] for case in LINALG_CASES], *[case[0] for case in DECOMPOSITION_CASES],
         "cumprod(axis=1)", "nanmedian(axis=1)",
         "nanquantile(0.3, axis=1)", "nanvar(axis=1)", "cov", "corrcoef", "ediff1d",
         *[case[0] for case in LOSS_CASES])


def rows(n: int, number: int, repeat: int, labels: tuple[str, ...] | None = None
         ) -> list[tuple[str, ...]]:
    return [_case(label, op, by_hand, two, n, number, repeat)
            for label, op, by_hand, two in (CASES + NEW_CASES + LINALG_CASES
                                            + DECOMPOSITION_CASES + STATISTICS_CASES
                                            + LOSS_CASES)
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
