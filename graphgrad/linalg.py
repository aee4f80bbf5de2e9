"""gg.linalg: linear algebra on tensors, as numpy's np.linalg and PyTorch's torch.linalg.

Of a matrix (n, n) or a stack of them (..., n, n): ``inv``, ``solve``, ``det``, ``slogdet``,
``cholesky`` and ``eigh``/``eigvalsh``; of any matrix (m, n) or stack: ``svd``/``svdvals``,
``qr``, ``pinv``; ``lstsq`` of one matrix. All differentiable to any order (the decompositions
where their values are distinct, see each); numpy's own calls on tensors
(``np.linalg.solve(A, b)``) run them. A matrix they cannot take raises `LinAlgError`, which is
numpy's ``np.linalg.LinAlgError`` too. The ops are in `ops.linalg` and `ops.decompositions`.

numpy 2's names that are compositions of other ops are here: ``vector_norm`` and
``matrix_norm`` (their ords), ``multi_dot`` (a chain of matmuls in the cheapest order), and
``matrix_transpose``, ``diagonal``, ``trace``, ``outer``, ``vecdot``, ``cross``,
``tensordot`` and ``matmul``, graphgrad's ops over the last axes as numpy 2's np.linalg
takes them. ``gg.norm`` is the 2-norm (``np.linalg.norm`` on a tensor runs it).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from graphgrad.errors import ArgumentError, LinAlgError, ShapeError, describe, flag, listed
from graphgrad.ops.arithmetic import matmul as _matmul
from graphgrad.ops.arithmetic import mul as _mul
from graphgrad.ops.contraction import cross as _cross
from graphgrad.ops.contraction import outer as _outer
from graphgrad.ops.contraction import tensordot as _tensordot
from graphgrad.ops.decompositions import (
    EighResult,
    QRResult,
    SVDResult,
    eigh,
    eigvalsh,
    lstsq,
    qr,
    svd,
    svdvals,
)
from graphgrad.ops.diagonals import diagonal as _diagonal
from graphgrad.ops.diagonals import trace as _trace
from graphgrad.ops.elementwise import abs as _abs
from graphgrad.ops.linalg import (
    SlogdetResult,
    _numbers,
    cholesky,
    det,
    inv,
    pinv,
    slogdet,
    solve,
)
from graphgrad.ops.reductions import max as _max
from graphgrad.ops.reductions import min as _min
from graphgrad.ops.reductions import norm as _norm
from graphgrad.ops.reductions import normalize_axis
from graphgrad.ops.reductions import sum as _sum
from graphgrad.ops.shape import swapaxes as _swapaxes
from graphgrad.tensor import Tensor, _constant

__all__ = [
    "EighResult", "LinAlgError", "QRResult", "SVDResult", "SlogdetResult", "cholesky", "cross",
    "det", "diagonal", "eigh", "eigvalsh", "inv", "lstsq", "matmul", "matrix_norm",
    "matrix_transpose", "multi_dot", "outer", "pinv", "qr", "slogdet", "solve", "svd",
    "svdvals", "tensordot", "trace", "vecdot", "vector_norm",
]


def _checked(x: Any, what: str, op: str, least: int = 0) -> Any:
    """x as given once it holds numbers (a Tensor stays one), with at least ``least`` axes."""
    data, shown = _numbers(x, what, op)
    if data.ndim < least:
        raise ShapeError(f"{op} of {describe(shown)}: {what} must have at least {least} axes "
                         f"(matrices in its last two), not {data.ndim}.")
    return x if isinstance(x, Tensor) else data


def vector_norm(x: Any, axis: Any = None, keepdims: bool = False, ord: Any = 2) -> Tensor:
    """The norm of x's vectors along ``axis`` (None: all of x as one vector), as numpy 2's
    np.linalg.vector_norm: ord 2 (gg.norm), 1 (the sum of |x|), inf (the largest |x|), -inf
    (the smallest), any other p (sum(|x|**p)**(1/p), whose gradient is infinite at 0 for
    p < 1, as PyTorch's), or 0 (the count of nonzero elements, a constant)."""
    x = _checked(x, "x", "linalg.vector_norm")
    keepdims = flag(keepdims, "keepdims", "linalg.vector_norm")
    if axis is None and keepdims:  # numpy keeps every axis as 1
        return np.reshape(vector_norm(x, None, False, ord), (1,) * np.ndim(x))
    if isinstance(ord, (int, float, np.number)) and not isinstance(ord, bool) and ord == ord:
        if ord == 2:
            return _norm(x, axis=axis, keepdims=keepdims)
        if ord == 1:
            return _sum(_abs(x), axis=axis, keepdims=keepdims)
        if ord in (np.inf, -np.inf):
            return (_largest if ord > 0 else _min)(_abs(x), axis=axis, keepdims=keepdims)
        data = x.data if isinstance(x, Tensor) else x
        if ord == 0:
            count = np.sum(data != 0, axis=axis, keepdims=keepdims)
            return _constant(count.astype(data.dtype if data.dtype.kind == "f" else np.float64))
        return _sum(_abs(x) ** float(ord), axis=axis, keepdims=keepdims) ** (1.0 / ord)
    raise ArgumentError(f"linalg.vector_norm of {describe(x)}: ord must be a number (2, 1, "
                        f"inf, -inf, 0, or any p), got {ord!r}")


def _largest(x: Any, axis: Any, keepdims: bool = False) -> Tensor:
    """The max of x >= 0 (|x|, sums of |x|, singular values) over ``axis``, and 0 over no
    numbers, numpy's norm there (the max of none has no value): the sum, on the graph."""
    shape = np.shape(x)
    if 0 in (shape[a] for a in normalize_axis(axis, len(shape))):
        return _sum(x, axis=axis, keepdims=keepdims)
    return _max(x, axis=axis, keepdims=keepdims)


def matrix_norm(x: Any, keepdims: bool = False, ord: Any = "fro") -> Tensor:
    """The norm of each matrix of x (..., m, n), as numpy 2's np.linalg.matrix_norm: "fro"
    (the 2-norm of its entries), "nuc" (the sum of its singular values), 2 and -2 (the
    largest and smallest), 1 and -1 (the largest and smallest sum of |x| of a column), inf
    and -inf (of a row). The singular-value norms' gradient needs distinct singular values
    only in their second derivative."""
    x = _checked(x, "x", "linalg.matrix_norm", least=2)
    keepdims = flag(keepdims, "keepdims", "linalg.matrix_norm")
    if isinstance(ord, str) and ord in ("fro", "nuc"):
        y = _norm(x, axis=(-2, -1)) if ord == "fro" else _sum(svdvals(x), axis=-1)
    elif isinstance(ord, (int, float, np.number)) and not isinstance(ord, bool) and ord in (
            2, -2, 1, -1, np.inf, -np.inf):
        if abs(ord) == 2:
            s = svdvals(x)  # descending
            y = s[..., 0 if ord > 0 else -1] if s.shape[-1] else _largest(s, axis=-1)
        else:
            sums = _sum(_abs(x), axis=-2 if abs(ord) == 1 else -1)
            y = (_largest if ord > 0 else _min)(sums, axis=-1)
    else:
        raise ArgumentError(f"linalg.matrix_norm of {describe(x)}: ord must be 'fro', 'nuc', "
                            f"2, -2, 1, -1, inf or -inf, got {ord!r}")
    return y[..., None, None] if keepdims else y


def multi_dot(arrays: Any) -> Tensor:
    """The product of the matrices of ``arrays`` (2-D, the first and last may be vectors), as
    np.linalg.multi_dot: the matmuls in the order of fewest multiplications (numpy's), which
    changes only the rounding."""
    items = listed(arrays, "linalg.multi_dot", "a list of two or more matrices")
    if len(items) < 2:
        raise ArgumentError(f"linalg.multi_dot: arrays must hold two or more matrices, got "
                            f"{len(items)}")
    items = [_checked(a, f"arrays[{i}]", "linalg.multi_dot") for i, a in enumerate(items)]
    given = ", ".join(str(np.shape(a)) for a in items)  # ``arrays`` may be read once only
    first, last = np.ndim(items[0]) == 1, np.ndim(items[-1]) == 1
    if first:
        items[0] = items[0][None, :]
    if last:
        items[-1] = items[-1][:, None]
    shapes = [np.shape(a) for a in items]
    if any(len(s) != 2 for s in shapes) or any(
            a[1] != b[0] for a, b in zip(shapes, shapes[1:])):
        raise ShapeError(
            f"linalg.multi_dot of matrices of shapes {given}: each must be 2-D (the first and "
            "last may be vectors), each one's columns as many as the next one's rows.")
    result = _chain(items, _order([shapes[0][0]] + [s[1] for s in shapes]), 0, len(items) - 1)
    if first:
        result = result[0]
    return result[..., 0] if last else result


def _order(sizes: list[int]) -> list[list[int]]:
    """Where to split each chain i..j of matrices (sizes[i], sizes[i + 1]) for the fewest
    multiplications: the textbook dynamic programme, numpy's."""
    n = len(sizes) - 1
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j], split[i][j] = min(
                (cost[i][k] + cost[k + 1][j] + sizes[i] * sizes[k + 1] * sizes[j + 1], k)
                for k in range(i, j))
    return split


def _chain(items: list, split: list[list[int]], i: int, j: int) -> Any:
    if i == j:
        return items[i]
    k = split[i][j]
    return _matmul(_chain(items, split, i, k), _chain(items, split, k + 1, j))


def matrix_transpose(x: Any) -> Tensor:
    """Each matrix of x (..., m, n) transposed, (..., n, m), as numpy 2's
    np.linalg.matrix_transpose (x.mT of PyTorch)."""
    return _swapaxes(_checked(x, "x", "linalg.matrix_transpose", least=2), -1, -2)


def diagonal(x: Any, offset: int = 0) -> Tensor:
    """The diagonal of each matrix of x (..., m, n), as np.linalg.diagonal: gg.diagonal over
    the last two axes (numpy's np.diagonal takes the first two)."""
    return _diagonal(_checked(x, "x", "linalg.diagonal", least=2), offset, -2, -1)


def trace(x: Any, offset: int = 0, dtype: Any = None) -> Tensor:
    """The trace of each matrix of x (..., m, n), as np.linalg.trace: gg.trace over the last
    two axes (numpy's np.trace takes the first two). dtype casts x first."""
    x = _checked(x, "x", "linalg.trace", least=2)
    return _trace(x if dtype is None else x.astype(dtype) if isinstance(x, Tensor)
                  else x.astype(dtype), offset, -2, -1)


def outer(x1: Any, x2: Any) -> Tensor:
    """The outer product (m, n) of two vectors (m,) and (n,), as np.linalg.outer, which takes
    vectors only (gg.outer flattens its inputs, as np.outer)."""
    x1, x2 = _checked(x1, "x1", "linalg.outer"), _checked(x2, "x2", "linalg.outer")
    if np.ndim(x1) != 1 or np.ndim(x2) != 1:
        raise ShapeError(f"linalg.outer of {describe(x1)} and {describe(x2)}: both must be "
                         "vectors, as numpy 2's np.linalg.outer takes (gg.outer flattens).")
    return _outer(x1, x2)


def vecdot(x1: Any, x2: Any, axis: int = -1) -> Tensor:
    """The dot products of x1's and x2's vectors along ``axis``, the rest broadcast, as
    np.linalg.vecdot: sum(x1 * x2, axis) of real numbers."""
    x1, x2 = _checked(x1, "x1", "linalg.vecdot"), _checked(x2, "x2", "linalg.vecdot")
    return _sum(_mul(x1, x2), axis=axis)


def cross(x1: Any, x2: Any, axis: int = -1) -> Tensor:
    """The cross products of x1's and x2's 3-vectors along ``axis``, as np.linalg.cross, which
    takes 3-vectors only (gg.cross, as np.cross, takes 2-vectors too)."""
    x1, x2 = _checked(x1, "x1", "linalg.cross"), _checked(x2, "x2", "linalg.cross")
    for x in (x1, x2):
        if np.ndim(x) == 0 or np.shape(x)[axis] != 3:
            raise ShapeError(f"linalg.cross of {describe(x1)} and {describe(x2)}: both must hold "
                             f"3-vectors along axis {axis}, as np.linalg.cross takes (gg.cross "
                             "takes 2-vectors too).")
    return _cross(x1, x2, axis=axis)


def tensordot(x1: Any, x2: Any, axes: Any = 2) -> Tensor:
    """gg.tensordot, as np.linalg.tensordot: the last ``axes`` axes of x1 against the first of
    x2 (or the pairs of axes given)."""
    x1, x2 = _checked(x1, "x1", "linalg.tensordot"), _checked(x2, "x2", "linalg.tensordot")
    return _tensordot(x1, x2, axes)


def matmul(x1: Any, x2: Any) -> Tensor:
    """x1 @ x2, as np.linalg.matmul."""
    x1, x2 = _checked(x1, "x1", "linalg.matmul"), _checked(x2, "x2", "linalg.matmul")
    return _matmul(x1, x2)
