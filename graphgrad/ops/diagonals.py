"""Diagonals and triangles of matrices, as numpy's functions of the same names: diagonal, diag,
trace, triu, tril. `Diagonal` takes a diagonal out and `DiagEmbed` puts one into zeros, each
the other's backward; trace sums a diagonal, and `Triu` and `Tril` keep a triangle, each its
own backward.
Depends on `function`, `ops.broadcasting`, `ops.reductions`, `ops.rearrange`, `errors`.
"""
from __future__ import annotations

import functools
from typing import Any

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    GraphgradTypeError,
    describe,
    numbers_and_shown,
    setting_text,
)
from graphgrad.function import Function
from graphgrad.ops.broadcasting import unbroadcast
from graphgrad.ops.rearrange import _one_axis
from graphgrad.ops.reductions import Sum
from graphgrad.tensor import Tensor


@functools.lru_cache(maxsize=256)
def _places(n1: int, n2: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows and columns of the diagonal ``offset`` of an n1 x n2 matrix (above the main
    one for offset > 0, below it for offset < 0), as np.diagonal walks it."""
    row, col = max(-offset, 0), max(offset, 0)
    length = max(0, min(n1 - row, n2 - col))
    return np.arange(row, row + length), np.arange(col, col + length)


def _diagonal_of(x: np.ndarray, offset: int, axis1: int, axis2: int) -> np.ndarray:
    """np.diagonal of x (axes from 0, checked) as a new array: the other axes in order, then
    the diagonal. numpy's own view, copied: a fifth of the time of indexing the moved axes."""
    return np.diagonal(x, offset, axis1, axis2).copy()


class Diagonal(Function):
    """y = the diagonal ``offset`` of x's matrices over axes axis1 and axis2 (np.diagonal: the
    other axes, then the diagonal); dx = zeros with dy on that diagonal"""

    @staticmethod
    def forward(ctx, x, offset, axis1, axis2):
        ctx.in_shape = x.shape
        ctx.offset, ctx.axis1, ctx.axis2 = offset, axis1, axis2
        return _diagonal_of(x, offset, axis1, axis2)

    @staticmethod
    def backward(ctx, grad):
        return DiagEmbed.call(grad, shape=ctx.in_shape, offset=ctx.offset, axis1=ctx.axis1,
                              axis2=ctx.axis2)


class DiagEmbed(Function):
    """y = zeros(shape) with x on the diagonal ``offset`` over axes axis1 and axis2 (x: the
    other axes, then the diagonal, as Diagonal gives it); dx = that diagonal of dy"""

    @staticmethod
    def forward(ctx, x, shape, offset, axis1, axis2):
        ctx.offset, ctx.axis1, ctx.axis2 = offset, axis1, axis2
        y = np.zeros(shape, dtype=x.dtype)
        rows, cols = _places(shape[axis1], shape[axis2], offset)
        np.moveaxis(y, (axis1, axis2), (-2, -1))[..., rows, cols] = x  # writes through to y
        return y

    @staticmethod
    def backward(ctx, grad):
        return Diagonal.call(grad, offset=ctx.offset, axis1=ctx.axis1, axis2=ctx.axis2)


class _Triangle(Function):
    """y = x with one triangle of its matrices (the last two axes) set to 0, as ``_keep``
    (np.triu or np.tril) leaves it with k its diagonal; a 1-D x is laid out as the rows of a
    square matrix. dx = dy with the same elements set to 0 (summed over those rows for a
    1-D x). Subclasses set ``_keep``."""

    _keep: Any

    @staticmethod
    def forward(ctx, x, k):
        ctx.in_shape, ctx.k = x.shape, k
        return ctx._keep(x, k)

    @staticmethod
    def backward(ctx, grad):
        return unbroadcast(type(ctx).call(grad, k=ctx.k), ctx.in_shape)


class Triu(_Triangle):
    """y = x with the elements below its diagonal k set to 0 (np.triu); dx likewise of dy"""

    _keep = staticmethod(np.triu)


class Tril(_Triangle):
    """y = x with the elements above its diagonal k set to 0 (np.tril); dx likewise of dy"""

    _keep = staticmethod(np.tril)


def _int(value: Any, what: str, op: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise GraphgradTypeError(f"{op}: {what} must be an int, got {setting_text(value)}")
    return int(value)


def _two_axes(x: Any, offset: Any, axis1: Any, axis2: Any, op: str) -> tuple[int, int, int]:
    """offset, axis1 and axis2 checked against x: ints, two different axes of x."""
    data, shown = numbers_and_shown(x, "x", op)
    ndim = data.ndim
    offset = _int(offset, "offset", op)
    if ndim < 2:
        raise ArgumentError(f"{op} of {describe(shown)}: a diagonal needs two axes, x has "
                            f"{ndim}" + (" (gg.diag(v) makes the matrix with v on its "
                                         "diagonal)" if ndim == 1 else ""))
    axes = [_one_axis(axis, ndim, shown, op, what)
            for what, axis in (("axis1", axis1), ("axis2", axis2))]
    if axes[0] == axes[1]:
        raise ArgumentError(f"{op} of {describe(shown)}: axis1 and axis2 are both axis "
                            f"{axes[0]}; a diagonal runs over two different axes")
    return offset, axes[0], axes[1]


def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The diagonal ``offset`` of x over axes ``axis1`` and ``axis2`` (above the main one for
    offset > 0, below it for offset < 0), as np.diagonal: of x (n, n), the n elements x[i, i];
    of a stack (m, n, n) with axis1=1, axis2=2, shape (m, n), the diagonal last. A new tensor
    (numpy gives a read-only view). The gradient is zeros with dy on the diagonal."""
    offset, axis1, axis2 = _two_axes(x, offset, axis1, axis2, "diagonal")
    return Diagonal.apply(x, offset=offset, axis1=axis1, axis2=axis2)


def diag(v: Any, k: int = 0) -> Tensor:
    """As np.diag: of a 1-D v of n elements, the (n + |k|, n + |k|) matrix with v on its
    diagonal k and zeros elsewhere; of a matrix, its diagonal k (`diagonal`)."""
    data, shown = numbers_and_shown(v, "v", "diag")
    ndim = data.ndim
    k = _int(k, "k", "diag")
    if ndim == 2:
        return diagonal(v, k)
    if ndim != 1:
        raise ArgumentError(f"diag of {describe(shown)}: v must be 1-D (to make a matrix) "
                            f"or 2-D (to take its diagonal), it has {ndim} axes; "
                            "gg.diagonal(x, offset, axis1, axis2) takes the diagonals of a stack")
    n = data.shape[0] + abs(k)
    return DiagEmbed.apply(v, shape=(n, n), offset=k, axis1=0, axis2=1)


def trace(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The sum of the diagonal ``offset`` of x over axes ``axis1`` and ``axis2``, as np.trace:
    a number for a matrix, one per matrix for a stack. Its gradient is the identity matrix
    (shifted by offset), once per matrix."""
    offset, axis1, axis2 = _two_axes(x, offset, axis1, axis2, "trace")
    return Sum.apply(Diagonal.apply(x, offset=offset, axis1=axis1, axis2=axis2), axis=-1,
                     keepdims=False)


def _triangle(x: Any, k: Any, op: str, lower: bool) -> Tensor:
    data, shown = numbers_and_shown(x, "x", op)  # named as triu's or tril's
    k = _int(k, "k", op)
    if data.ndim == 0:
        raise ArgumentError(f"{op} of {describe(shown)}: a number has no triangle; give a "
                            "matrix (or a stack of them, the matrices in the last two axes)")
    return Tril.apply(x, k=k) if lower else Triu.apply(x, k=k)


def triu(x: Any, k: int = 0) -> Tensor:
    """x with the elements below its diagonal k set to 0 (the upper triangle kept), of the
    matrices in the last two axes, as np.triu (k > 0 starts above the main diagonal, k < 0
    below it); PyTorch's t.triu(k). The gradient passes where x is kept, 0 elsewhere."""
    return _triangle(x, k, "triu", lower=False)


def tril(x: Any, k: int = 0) -> Tensor:
    """x with the elements above its diagonal k set to 0 (the lower triangle kept), of the
    matrices in the last two axes, as np.tril: a causal attention mask's pattern. The
    gradient passes where x is kept, 0 elsewhere."""
    return _triangle(x, k, "tril", lower=True)
