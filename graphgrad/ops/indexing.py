"""Indexing: ``t[index]`` with ints, slices, None, Ellipsis, boolean masks and integer arrays.

Its backward scatters the gradient back into an array of zeros; with integer arrays an index
may repeat, and a repeated index accumulates (``np.add.at``), as the chain rule requires.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from graphgrad.function import Function


def _has_integer_array(index: Any) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, np.ndarray) and p.dtype.kind in "iu" for p in parts)


def _own(index: Any) -> Any:
    """The index with its arrays copied: the caller may change theirs before backward."""
    if isinstance(index, tuple):
        return tuple(_own(part) for part in index)
    if isinstance(index, np.ndarray):
        return index.copy()
    return index


class GetItem(Function):
    """y = x[index];  dx = zeros with dy added at index (repeated indices add up)"""

    @staticmethod
    def forward(ctx, x, index):
        ctx.in_shape = x.shape
        ctx.index = index = _own(index)
        return x[index]

    @staticmethod
    def backward(ctx, grad):
        return IndexAdd.call(grad, index=ctx.index, shape=ctx.in_shape)


class IndexAdd(Function):
    """y = zeros(shape) with x added at index;  dx = dy[index]"""

    @staticmethod
    def forward(ctx, x, index, shape):
        ctx.index = index
        y = np.zeros(shape, dtype=x.dtype)
        if _has_integer_array(index):
            np.add.at(y, index, x)
        else:  # ints, slices and masks never select an element twice
            y[index] = x
        return y

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.index]
