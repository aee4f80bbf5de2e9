"""The piecewise-linear activations: hardsigmoid and hardswish (MobileNetV3's cheap sigmoid and
swish), and hardshrink, softshrink and threshold, which zero (or replace) the small values.

Each has PyTorch's gradient at its kinks, where a one-sided choice must be made: hardsigmoid's
slope is 0 at x = +-3 (1/6 strictly between), hardswish's 0 at x = -3 and 1 at x = 3,
hardshrink's and softshrink's 0 at x = +-lambd, threshold's 0 at x = threshold. hardsigmoid and
hardswish are ops of their own (one node, no temporaries kept but x); the other three are
`Where` and `Clip`, whose gradients are already those. Depends on `elementwise`, `tensor`,
`errors`.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from graphgrad.errors import real_number
from graphgrad.function import Function
from graphgrad.ops.activations import _new_like, input_tensor
from graphgrad.ops.elementwise import Clip, Where
from graphgrad.tensor import Tensor, setting_value


class Hardsigmoid(Function):
    """y = min(max(x + 3, 0), 6) / 6;  dy/dx = 1/6 where -3 < x < 3, else 0 (0 at +-3, as
    PyTorch's)"""

    @staticmethod
    def forward(ctx, x):
        inside = (x > -3) & (x < 3)
        ctx.save_for_backward(inside)
        # PyTorch's order of operations, so its values bit for bit; in a new array (a 0-d
        # x's sum would be a numpy scalar, which cannot be written to)
        y = np.add(x, 3, out=_new_like(x))
        np.clip(y, 0, 6, out=y)
        y /= 6
        return y

    @staticmethod
    def backward(ctx, grad):
        (inside,) = ctx.saved
        return grad * inside * (1 / 6)  # a constant slope: the second derivative is 0


class Hardswish(Function):
    """y = x min(max(x + 3, 0), 6) / 6;  dy/dx = 0 where x <= -3, x / 3 + 1/2 where
    -3 < x < 3, 1 where x >= 3 (PyTorch's one-sided choices at the kinks)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        y = np.add(x, 3, out=_new_like(x))
        np.clip(y, 0, 6, out=y)
        y *= x
        y /= 6
        return y

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        data = x.data if isinstance(x, Tensor) else x
        inside = (data > -3) & (data < 3)
        # x / 3 + 1/2 inside (recorded on Tensors, so the second derivative is 1/3 there), and
        # outside the constant 0 or 1
        above = (data >= 3).astype(data.dtype)
        return grad * np.where(inside, x / 3 + 0.5, above)


def hardsigmoid(x: Any) -> Tensor:
    """min(max(x + 3, 0), 6) / 6, elementwise: a piecewise-linear sigmoid, 0 below -3 and 1
    above 3 (MobileNetV3's; PyTorch's F.hardsigmoid). Its gradient is 1/6 strictly between -3
    and 3 and 0 elsewhere, at +-3 too, as PyTorch's."""
    return Hardsigmoid.apply(x)


def hardswish(x: Any) -> Tensor:
    """x hardsigmoid(x) = x min(max(x + 3, 0), 6) / 6, elementwise: MobileNetV3's cheap swish
    (PyTorch's F.hardswish). Its gradient is 0 up to x = -3, x / 3 + 1/2 between, 1 from
    x = 3, PyTorch's choices at the two kinks."""
    return Hardswish.apply(x)


LAMBD_RULE = "a finite number >= 0 (0.5 is PyTorch's default)"


def shrink_lambd(lambd: Any, caller: str) -> float:
    """hardshrink's and softshrink's ``lambd``, a finite number >= 0, or an `ArgumentError`
    in ``caller``'s name."""
    return real_number(lambd, "lambd", caller, lambda v: 0.0 <= v < math.inf, LAMBD_RULE)


def threshold_settings(threshold: Any, value: Any, caller: str) -> tuple[float, float]:
    """threshold's ``threshold`` and ``value``, numbers (not NaN; infinities pass), or an
    `ArgumentError` in ``caller``'s name."""
    return (real_number(threshold, "threshold", caller, lambda v: v == v, "a number"),
            real_number(value, "value", caller, lambda v: v == v, "a number"))


def hardshrink_of(x: Tensor, lambd: float) -> Tensor:
    """`hardshrink` of a Tensor with a checked ``lambd``: x where |x| > lambd, else 0. The
    mask is PyTorch's test, -lambd <= x <= lambd gives 0, so NaN stays NaN and the gradient
    at +-lambd is 0."""
    data = x.data
    small = (data >= -lambd) & (data <= lambd)
    return Where.apply(x, 0.0, condition=~small)


def softshrink_of(x: Tensor, lambd: float) -> Tensor:
    """`softshrink` of a Tensor with a checked ``lambd``: x - clip(x, -lambd, lambd). Clip's
    gradient is 1 on [-lambd, lambd], bounds included, so the difference's is 0 there, at
    +-lambd too, as PyTorch's, and 1 outside; the values are PyTorch's x -+ lambd, and 0
    exactly inside."""
    return x - Clip.apply(x, low=-lambd, high=lambd)


def threshold_of(x: Tensor, threshold: float, value: float) -> Tensor:
    """`threshold` of a Tensor with checked settings: x where x > threshold, else value (NaN
    stays NaN: PyTorch's test is x <= threshold)."""
    return Where.apply(x, value, condition=~(x.data <= threshold))


def hardshrink(x: Any, lambd: float = 0.5) -> Tensor:
    """x where |x| > lambd, else 0, elementwise (PyTorch's F.hardshrink). ``lambd`` is a
    finite number >= 0, a setting; the gradient is 1 where |x| > lambd and 0 elsewhere, at
    +-lambd too, as PyTorch's."""
    lambd = setting_value(lambd, "lambd", "hardshrink",
                          "gg.where(gg.abs(x) > lambd, x, 0.0) with a constant mask")
    return hardshrink_of(input_tensor(x, "hardshrink"), shrink_lambd(lambd, "hardshrink"))


def softshrink(x: Any, lambd: float = 0.5) -> Tensor:
    """x - lambd where x > lambd, x + lambd where x < -lambd, else 0, elementwise (PyTorch's
    F.softshrink, the proximal step of an L1 penalty). ``lambd`` is a finite number >= 0, a
    setting; the gradient is 1 where |x| > lambd and 0 elsewhere, at +-lambd too, as
    PyTorch's."""
    lambd = setting_value(lambd, "lambd", "softshrink", "x - gg.clip(x, -lambd, lambd)")
    return softshrink_of(input_tensor(x, "softshrink"), shrink_lambd(lambd, "softshrink"))


def threshold(x: Any, threshold: float, value: float) -> Tensor:
    """x where x > threshold, else value, elementwise (PyTorch's F.threshold; both settings
    required, as there). The gradient is 1 where x > threshold and 0 elsewhere, at x =
    threshold too, as PyTorch's."""
    threshold = setting_value(threshold, "threshold", "threshold",
                              "gg.where(x > threshold, x, value)")
    value = setting_value(value, "value", "threshold", "gg.where(x > threshold, x, value)")
    return threshold_of(input_tensor(x, "threshold"),
                        *threshold_settings(threshold, value, "threshold"))
