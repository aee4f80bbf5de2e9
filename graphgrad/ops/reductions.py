"""Reductions over axes: sum, mean, max, min (``axis`` an int, a tuple or None; ``keepdims``)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from graphgrad.errors import flag
from graphgrad.function import Function
from graphgrad.tensor import Tensor

Axis = int | Sequence[int] | None


def normalize_axis(axis: Axis, ndim: int) -> tuple[int, ...]:
    """``axis`` as a sorted tuple of non-negative ints (None means every axis)."""
    if axis is None:
        return tuple(range(ndim))
    if ndim == 0 and isinstance(axis, (int, np.integer)) and axis in (0, -1):
        return ()  # numpy's rule for a 0-d array: axis 0 or -1 reduces nothing
    try:
        axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    except TypeError:
        raise TypeError(f"axis must be an int or a tuple of ints, got {axis!r}") from None
    normalized = []
    for a in axes:
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"axis must be an int or a tuple of ints, got {a!r}")
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} is out of range for an array of {ndim} dimensions")
        normalized.append(int(a) % ndim)
    return tuple(sorted(normalized))


def expand_reduced(grad: Any, axes: tuple[int, ...], keepdims: bool) -> Any:
    """Put back the reduced axes (as size 1) so ``grad`` broadcasts against the input."""
    if keepdims or not axes:
        return grad
    shape = list(grad.shape)
    for a in axes:
        shape.insert(a, 1)
    return grad.reshape(tuple(shape))


class Sum(Function):
    """y = sum of x over axes;  dy/dx = 1 for every summed element"""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        if type(keepdims) is not bool:
            keepdims = flag(keepdims, "keepdims", "sum")
        ctx.axes = normalize_axis(axis, x.ndim)
        ctx.keepdims = keepdims
        ctx.in_shape = x.shape
        return x.sum(axis=None if axis is None else ctx.axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        return np.broadcast_to(expand_reduced(grad, ctx.axes, ctx.keepdims), ctx.in_shape)


class Mean(Function):
    """y = mean of x over axes;  dy/dx = 1/n for each of the n averaged elements (over an
    axis of length 0, y = 0/0 = NaN, as in PyTorch, and x's gradient is empty)"""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        if type(keepdims) is not bool:
            keepdims = flag(keepdims, "keepdims", "mean")
        ctx.axes = axes = normalize_axis(axis, x.ndim)
        ctx.keepdims = keepdims
        ctx.in_shape = x.shape
        if not x.size:
            # The mean of no numbers is 0/0: NaN, as in PyTorch, where numpy's mean also
            # warns twice (Mean of empty slice, invalid value) from inside numpy.
            total = np.add.reduce(x, axis=axes, keepdims=keepdims)
            kind = x.dtype if x.dtype.kind == "f" else np.float64
            return np.full(total.shape, np.nan, kind) if total.size else total.astype(kind)
        if x.dtype.kind == "f" and x.itemsize < 8:
            # A float32 mean adds up in float64: numpy adds rows one by one along a leading
            # axis (a batch's), so in float32 the error grows with m (1e-5 for 100000
            # values near 1), and a batch of equal values had a mean unequal to them.
            total = np.add.reduce(x, axis=axes, dtype=np.float64, keepdims=keepdims)
            return (total / (x.size // total.size)).astype(x.dtype)
        return x.mean(axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        count = 1
        for a in ctx.axes:
            count *= ctx.in_shape[a]
        grad = expand_reduced(grad, ctx.axes, ctx.keepdims)
        if count == 0:  # the mean of nothing: an empty input gets an empty gradient
            return np.broadcast_to(grad * 0.0, ctx.in_shape)
        return np.broadcast_to(grad * (1.0 / count), ctx.in_shape)


class _Extreme(Function):
    """Shared by max and min: the gradient goes to the extreme element, and tied elements
    share it evenly, so the gradient still sums to the upstream gradient. Over an axis of
    length 0 there is no extreme element: an `OpError` says so."""

    reduce: Any = None

    @classmethod
    def forward(cls, ctx, x, axis=None, keepdims=False):
        if type(keepdims) is not bool:
            keepdims = flag(keepdims, "keepdims", cls.__name__.lower())
        ctx.axes = normalize_axis(axis, x.ndim)
        ctx.keepdims = keepdims
        axes = None if axis is None else ctx.axes  # numpy takes no lists
        try:
            y = np.asarray(cls.reduce(x, axis=axes, keepdims=True))
        except ValueError:  # numpy's "zero-size array to reduction operation maximum ..."
            empty = [a for a in ctx.axes if x.shape[a] == 0]
            if not empty:
                raise
            word = cls.__name__.lower()
            raise ValueError(
                f"axis {empty[0]} has length 0, and the {word} of no numbers has no value "
                f"(PyTorch refuses it too): check that the batch is not empty (m = 0), or "
                f"take the {word} over axes of non-zero length"
            ) from None
        chosen = x == y
        share = (chosen / chosen.sum(axis=axes, keepdims=True)).astype(x.dtype, copy=False)
        ctx.save_for_backward(share)
        return y if keepdims else y.reshape([n for i, n in enumerate(y.shape) if i not in ctx.axes])

    @staticmethod
    def backward(ctx, grad):
        (share,) = ctx.saved
        return share * expand_reduced(grad, ctx.axes, ctx.keepdims)


class Max(_Extreme):
    """y = max of x over axes;  dy/dx = 1 at the maximum (1/k each for k tied maxima)"""

    reduce = staticmethod(np.max)


class Min(_Extreme):
    """y = min of x over axes;  dy/dx = 1 at the minimum (1/k each for k tied minima)"""

    reduce = staticmethod(np.min)


def sum(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Sum over ``axis`` (all axes when None)."""
    return Sum.apply(x, axis=axis, keepdims=keepdims)


def mean(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis`` (all axes when None). Over an axis of length 0 (an empty batch) it
    is NaN, 0/0, as in PyTorch; `gg.detect_anomaly` names the Mean that made it."""
    return Mean.apply(x, axis=axis, keepdims=keepdims)


def max(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Maximum over ``axis``; tied maxima share the gradient evenly."""
    return Max.apply(x, axis=axis, keepdims=keepdims)


def min(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Minimum over ``axis``; tied minima share the gradient evenly."""
    return Min.apply(x, axis=axis, keepdims=keepdims)
