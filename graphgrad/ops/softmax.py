"""Softmax, log-softmax and logsumexp along an axis, computed stably (max subtracted first), and
softmin, softmax of -x."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from graphgrad.errors import takes_axis
from graphgrad.function import Function
from graphgrad.ops.activations import input_tensor
from graphgrad.ops.reductions import expand_reduced, settle_reduction
from graphgrad.tensor import Tensor


def _shifted(x: np.ndarray, axis: Any) -> np.ndarray:
    """x minus its max along axis; an all -inf slice stays -inf instead of becoming NaN."""
    peak = x.max(axis=axis, keepdims=True, initial=-np.inf)  # -inf over an axis of length 0
    peak = np.where(np.isfinite(peak), peak, 0)
    return x - peak


def _wider(x: np.ndarray) -> np.ndarray:
    """float16 x as float32, else x: computed in float32 and rounded once, as in PyTorch, a
    log-probability near 0 keeps its digits, where in float16 the sum of e**(x - max)
    rounded 1.0003 to 1 and log_softmax gave 0 for -3e-4."""
    return x.astype(np.float32) if x.dtype == np.float16 else x


class Softmax(Function):
    """y_i = e**x_i / sum_j e**x_j;  dx = y * (dy - sum(dy * y))"""

    @staticmethod
    def forward(ctx, x, axis=-1):
        ctx.axis = axis
        wide = _wider(x)
        y = np.exp(_shifted(wide, axis))
        y /= y.sum(axis=axis, keepdims=True)
        if wide is not x:
            y = y.astype(x.dtype)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return y * (grad - (grad * y).sum(axis=ctx.axis, keepdims=True))


class LogSoftmax(Function):
    """y_i = x_i - log sum_j e**x_j;  dx = dy - softmax(x) * sum(dy)"""

    @staticmethod
    def forward(ctx, x, axis=-1):
        ctx.axis = axis
        wide = _wider(x)
        y = _shifted(wide, axis)  # a new array
        if y.size:  # an empty one has nothing to normalise, and log of its sum would warn
            y -= np.log(np.exp(y).sum(axis=axis, keepdims=True))
        if wide is not x:
            y = y.astype(x.dtype)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return grad - np.exp(y) * grad.sum(axis=ctx.axis, keepdims=True)


class LogSumExp(Function):
    """y = log sum_i e**x_i over axes;  dy/dx_i = softmax(x)_i"""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        axes, keepdims = settle_reduction(ctx, x, axis, keepdims, "logsumexp")
        ctx.save_for_backward(x)
        if x.size == 0:  # a sum of no terms is 0, and log 0 is -inf (as scipy's logsumexp)
            return np.full(np.sum(x, axis=axes, keepdims=keepdims).shape, -np.inf, x.dtype)
        wide = _wider(x)
        peak = wide.max(axis=axes, keepdims=True)
        peak = np.where(np.isfinite(peak), peak, 0)
        y = np.log(np.exp(wide - peak).sum(axis=axes, keepdims=True)) + peak
        if wide is not x:
            y = y.astype(x.dtype)
        if not keepdims:
            y = y.reshape([n for i, n in enumerate(y.shape) if i not in axes])
        return y

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        if x.size == 0:
            return x * 0.0
        # softmax(x), not e**(x - y): where y rounds to the largest x (log n below one unit
        # in the last place of x), e**(x - y) would give each of n tied maxima 1, not 1/n.
        return expand_reduced(grad, ctx.axes, ctx.keepdims) * Softmax.call(x, axis=ctx.axes)


@takes_axis
def softmax(x: Any, axis: int = -1) -> Tensor:
    """Softmax along ``axis``: for logits Z of shape (m, n_classes), softmax(Z, axis=1)."""
    return Softmax.apply(x, axis=axis)


@takes_axis
def softmin(x: Any, axis: int = -1) -> Tensor:
    """softmax(-x) along ``axis`` (PyTorch's F.softmin): weights that favour the smallest
    values. Composed of ops (neg, softmax)."""
    return Softmax.apply(-input_tensor(x, "softmin"), axis=axis)


@takes_axis
def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """log(softmax(x)) along ``axis``, without the overflow/underflow of computing it so."""
    return LogSoftmax.apply(x, axis=axis)


def logsumexp(x: Any, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
    """log(sum(exp(x))) over ``axis`` (all axes when None), stable for large x;
    ``keepdims``: the reduced axes stay, of size 1, so the result broadcasts against x."""
    return LogSumExp.apply(x, axis=axis, keepdims=keepdims)
