"""Powers and logarithms beyond e and sqrt (which are in `elementwise`): exp2 and the
logarithms in base 2 and 10, logaddexp (ln(e**x + e**y) without overflow, binary and
broadcasting), and the powers numpy names, reciprocal (1 / x) and cbrt (the cube root, of
negative x too). Each output element depends on the matching element of each input.

Backward bodies are numpy expressions of the saved inputs and output, so that under
``create_graph`` they record their own graph (second derivatives).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from graphgrad.function import Function
from graphgrad.ops.arithmetic import _broadcast_hint, _same_float
from graphgrad.ops.broadcasting import unbroadcast
from graphgrad.ops.elementwise import Sigmoid, sigmoid_values
from graphgrad.tensor import Tensor

_LN2 = math.log(2)
_LN10 = math.log(10)


class Exp2(Function):
    """y = 2**x;  dy/dx = y ln 2"""

    @staticmethod
    def forward(ctx, x):
        y = np.exp2(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return grad * (y * _LN2)


class Log2(Function):
    """y = log2 x;  dy/dx = 1 / (x ln 2)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log2(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad / (x * _LN2)


class Log10(Function):
    """y = log10 x;  dy/dx = 1 / (x ln 10)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log10(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad / (x * _LN10)


class LogAddExp(Function):
    """z = ln(e**x + e**y);  dz/dx = sigmoid(x - y),  dz/dy = sigmoid(y - x) (softmax of the
    pair: each at most 1, their sum 1)"""

    broadcasts = True
    hint = staticmethod(_broadcast_hint)

    @staticmethod
    def forward(ctx, x, y):
        if x.dtype is not y.dtype:
            x, y = _same_float(x, y)
        ctx.save_for_backward(x, y)
        ctx.shapes = (x.shape, y.shape)
        # numpy's: max(x, y) + ln(1 + e**-|x - y|), where e**x overflows beyond x = 709
        return np.logaddexp(x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved
        x_shape, y_shape = ctx.shapes
        if type(x) is not np.ndarray:  # on Tensors (create_graph): recorded
            d = x - y
            return (unbroadcast(grad * Sigmoid.call(d), x_shape),
                    unbroadcast(grad * Sigmoid.call(-d), y_shape))
        # From x - y, not e**(x - z): z rounded to float16 is off by up to 0.02 at z = 50,
        # which e**(x - z) takes as a relative error (30 units of the last place). float16
        # is computed in float32 and rounded once.
        d = x.astype(np.float32) - y if x.dtype == np.float16 else x - y
        dx = sigmoid_values(d)
        dx *= grad
        dy = sigmoid_values(-d)
        dy *= grad
        return (unbroadcast(dx.astype(x.dtype, copy=False), x_shape),
                unbroadcast(dy.astype(y.dtype, copy=False), y_shape))


class Reciprocal(Function):
    """y = 1 / x;  dy/dx = -y**2"""

    @staticmethod
    def forward(ctx, x):
        # 1 / x, not np.reciprocal, which divides integers as integers (1 / 2 = 0)
        y = 1 / x
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return -grad * y * y


class Cbrt(Function):
    """y = x**(1/3), real for negative x too;  dy/dx = 1 / (3 y**2) (inf at x = 0)"""

    @staticmethod
    def forward(ctx, x):
        y = np.cbrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return grad / (3 * y * y)


def exp2(x: Any) -> Tensor:
    """2 ** x, elementwise."""
    return Exp2.apply(x)


def log2(x: Any) -> Tensor:
    """Logarithm in base 2, elementwise; x > 0."""
    return Log2.apply(x)


def log10(x: Any) -> Tensor:
    """Logarithm in base 10, elementwise; x > 0."""
    return Log10.apply(x)


def logaddexp(x: Any, y: Any) -> Tensor:
    """ln(e**x + e**y), elementwise (broadcasting), stable for any x and y (1000 and 1000
    give 1000 + ln 2, where e**1000 overflows): adds probabilities given as logs."""
    return LogAddExp.apply(x, y)


def reciprocal(x: Any) -> Tensor:
    """1 / x, elementwise (of an integer tensor too, where numpy's np.reciprocal divides as
    integers)."""
    return Reciprocal.apply(x)


def cbrt(x: Any) -> Tensor:
    """The cube root, elementwise, real for negative x (-8 gives -2, where (-8) ** (1/3) is
    NaN); its gradient at 0 is inf, as sqrt's."""
    return Cbrt.apply(x)
