"""Elementwise math and activations: each output element depends on one input element
(or, for maximum/minimum/fmax/fmin/where, on the matching elements of two inputs)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from graphgrad.errors import (
    GraphgradTypeError,
    ShapeError,
    array_of,
    describe,
    real_number,
    real_values,
    shape_of,
)
from graphgrad.function import Function
from graphgrad.ops.arithmetic import _broadcast_hint, _same_float
from graphgrad.ops.broadcasting import unbroadcast
from graphgrad.tensor import Tensor, setting_value


class Exp(Function):
    """y = e**x;  dy/dx = y"""

    @staticmethod
    def forward(ctx, x):
        y = np.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return grad * y


class Log(Function):
    """y = ln x;  dy/dx = 1/x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad / x


class Log1p(Function):
    """y = ln(1 + x), exact for small x (log(1 + x) rounds 1 + x first);  dy/dx = 1/(1 + x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log1p(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad / (1 + x)


class Expm1(Function):
    """y = e**x - 1, exact for small x;  dy/dx = e**x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.expm1(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        # e**x, not y + 1: that rounds to 0 where e**x is below 1e-16 (x < -37)
        return grad * np.exp(x)


class Sqrt(Function):
    """y = sqrt(x);  dy/dx = 1 / (2y)"""

    @staticmethod
    def forward(ctx, x):
        y = np.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return grad / (2 * y)


class Abs(Function):
    """y = |x|;  dy/dx = sign(x) (0 at the kink x = 0)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(np.sign(x))
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad):
        (sign,) = ctx.saved
        return grad * sign


class Sin(Function):
    """y = sin x;  dy/dx = cos x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad * np.cos(x)


class Cos(Function):
    """y = cos x;  dy/dx = -sin x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return -grad * np.sin(x)


class Tanh(Function):
    """y = tanh x;  dy/dx = 1 - y**2"""

    @staticmethod
    def forward(ctx, x):
        y = np.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return grad * (1 - y * y)


def sigmoid_values(x: np.ndarray) -> np.ndarray:
    """sigmoid(x) of an array, recording nothing: a new array, e**min(x, 0) / (1 + e**-|x|),
    that is 1 / (1 + e**-x) for x >= 0 and e**x / (1 + e**x) for x < 0, where neither
    exponential overflows and the tail keeps its relative precision ((tanh(x/2) + 1) / 2
    loses it to cancellation, and is 0 below x = -37). What `Sigmoid`, softplus's slope and
    gelu's gate compute."""
    denominator = np.exp(-np.abs(x))
    denominator += 1
    y = np.exp(np.minimum(x, 0))
    y /= denominator
    return y


class Sigmoid(Function):
    """y = 1 / (1 + e**-x);  dy/dx = y (1 - y)"""

    @staticmethod
    def forward(ctx, x):
        y = sigmoid_values(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return grad * (y * (1 - y))


class ReLU(Function):
    """y = max(x, 0);  dy/dx = 1 where x > 0, else 0 (0 at the kink)"""

    @staticmethod
    def forward(ctx, x):
        positive = x > 0
        ctx.save_for_backward(positive)
        return np.maximum(x, 0)

    @staticmethod
    def backward(ctx, grad):
        (positive,) = ctx.saved
        return grad * positive


class LeakyReLU(Function):
    """y = x if x > 0 else alpha x;  dy/dx = 1 or alpha"""

    @staticmethod
    def forward(ctx, x, alpha=0.01):
        slope = np.where(x > 0, 1, alpha).astype(x.dtype, copy=False)
        ctx.save_for_backward(slope)
        return x * slope

    @staticmethod
    def backward(ctx, grad):
        (slope,) = ctx.saved
        return grad * slope


class _Choice(Function):
    """z = x or y elementwise, whichever ``_choose`` (a ufunc) takes;  the gradient goes to
    the input z is, split evenly on ties. Subclasses set ``_choose`` and ``_takes_x(x, y)``,
    where z is x and not y."""

    broadcasts = True
    hint = staticmethod(_broadcast_hint)
    _choose: np.ufunc

    @staticmethod
    def _takes_x(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def forward(ctx, x, y):
        if x.dtype is not y.dtype:
            x, y = _same_float(x, y)
        z = ctx._choose(x, y)
        share_x = (ctx._takes_x(x, y) + 0.5 * (x == y)).astype(z.dtype, copy=False)
        ctx.save_for_backward(share_x)
        ctx.shapes = (x.shape, y.shape)
        return z

    @staticmethod
    def backward(ctx, grad):
        (share_x,) = ctx.saved
        x_shape, y_shape = ctx.shapes
        return unbroadcast(grad * share_x, x_shape), unbroadcast(grad * (1 - share_x), y_shape)


class Maximum(_Choice):
    """z = max(x, y) elementwise;  the gradient goes to the larger input, split evenly on ties,
    and to the NaN where one is (numpy's maximum gives it)"""

    _choose = np.maximum

    @staticmethod
    def _takes_x(x, y):
        # a NaN is z wherever x holds one (x's where both do), as numpy's maximum gives it
        return (x > y) | np.isnan(x)


class Minimum(_Choice):
    """z = min(x, y) elementwise;  the gradient goes to the smaller input, split evenly on ties,
    and to the NaN where one is (numpy's minimum gives it)"""

    _choose = np.minimum

    @staticmethod
    def _takes_x(x, y):
        return (x < y) | np.isnan(x)


class Fmax(_Choice):
    """z = max(x, y) elementwise, ignoring NaN (numpy's fmax: the other input where one is
    NaN);  the gradient goes to the input z is, split evenly on ties as `Maximum`'s"""

    _choose = np.fmax

    @staticmethod
    def _takes_x(x, y):
        # where y is NaN, z is x (NaN too where both are: x's, as in PyTorch)
        return (x > y) | np.isnan(y)


class Fmin(_Choice):
    """z = min(x, y) elementwise, ignoring NaN (numpy's fmin: the other input where one is
    NaN);  the gradient goes to the input z is, split evenly on ties as `Minimum`'s"""

    _choose = np.fmin

    @staticmethod
    def _takes_x(x, y):
        return (x < y) | np.isnan(y)


class Clip(Function):
    """y = min(max(x, low), high);  dy/dx = 1 where low <= x <= high, else 0"""

    @staticmethod
    def forward(ctx, x, low=None, high=None):
        # Bounds take x's dtype, as a number in any op does: float64 ones must not upcast float32.
        if low is not None:
            low = np.asarray(low, dtype=x.dtype)
        if high is not None:
            high = np.asarray(high, dtype=x.dtype)
        inside = np.ones(x.shape, dtype=bool)
        if low is not None:
            inside &= x >= low
        if high is not None:
            inside &= x <= high
        ctx.save_for_backward(inside)
        return np.clip(x, low, high)

    @staticmethod
    def backward(ctx, grad):
        (inside,) = ctx.saved
        return grad * inside


class Where(Function):
    """z = x where condition else y;  the gradient goes to the input that was chosen"""

    broadcasts = True

    @staticmethod
    def hint(x, y, condition):
        """Shown when forward fails: the three shapes that must broadcast together."""
        try:
            np.broadcast_shapes(x.shape, y.shape, condition.shape)
        except ValueError:
            return (f"the condition {condition.shape}, x {x.shape} and y {y.shape} do not "
                    "broadcast together: aligned from the right, each dimension must be "
                    "equal or 1")
        return None

    @staticmethod
    def forward(ctx, x, y, condition):
        if x.dtype is not y.dtype:
            x, y = _same_float(x, y)
        ctx.condition = condition
        ctx.shapes = (x.shape, y.shape)
        return np.where(condition, x, y)

    @staticmethod
    def backward(ctx, grad):
        condition = ctx.condition
        x_shape, y_shape = ctx.shapes
        # a constant side (triu's and tril's zeros, a mask's fill) costs no where and no sum
        need_x, need_y = ctx.needs_input_grad
        return (
            unbroadcast(np.where(condition, grad, 0), x_shape) if need_x else None,
            unbroadcast(np.where(condition, 0, grad), y_shape) if need_y else None,
        )


def exp(x: Any) -> Tensor:
    """e ** x, elementwise."""
    return Exp.apply(x)


def log(x: Any) -> Tensor:
    """Natural logarithm, elementwise."""
    return Log.apply(x)


def log1p(x: Any) -> Tensor:
    """ln(1 + x), elementwise, exact where x is small (1e-20 gives 1e-20, where log(1 + x)
    gives 0); x > -1."""
    return Log1p.apply(x)


def expm1(x: Any) -> Tensor:
    """e ** x - 1, elementwise, exact where x is small (1e-20 gives 1e-20, where exp(x) - 1
    gives 0)."""
    return Expm1.apply(x)


def sqrt(x: Any) -> Tensor:
    """Square root, elementwise."""
    return Sqrt.apply(x)


def abs(x: Any) -> Tensor:  # noqa: A001 - mirrors numpy
    """|x|, elementwise."""
    return Abs.apply(x)


def sin(x: Any) -> Tensor:
    """sin x, elementwise."""
    return Sin.apply(x)


def cos(x: Any) -> Tensor:
    """cos x, elementwise."""
    return Cos.apply(x)


def tanh(x: Any) -> Tensor:
    """tanh x, elementwise: the course's hidden-layer activation g(z)."""
    return Tanh.apply(x)


def sigmoid(x: Any) -> Tensor:
    """1 / (1 + e**-x), elementwise, stable for any x: the course's sigma(z)."""
    return Sigmoid.apply(x)


def relu(x: Any) -> Tensor:
    """max(x, 0), elementwise."""
    return ReLU.apply(x)


def leaky_relu(x: Any, alpha: float = 0.01) -> Tensor:
    """x where x > 0, else alpha * x. ``alpha`` is a setting, a number or an array that
    broadcasts to x's shape (a slope per channel): for a slope to learn, write
    ``gg.where(x > 0, x, alpha * x)``."""
    alpha = setting_value(alpha, "alpha", "leaky_relu", "gg.where(x > 0, x, alpha * x)")
    if not isinstance(alpha, np.ndarray):
        alpha = real_number(alpha, "alpha", "leaky_relu", math.isfinite, "a finite number")
    elif alpha.ndim:
        _setting_fits(x, alpha, "alpha", "leaky_relu")
    return LeakyReLU.apply(x, alpha=alpha)


def _setting_fits(x: Any, setting: np.ndarray, what: str, op: str) -> None:
    """An elementwise op's array setting (a slope per channel) must broadcast to x's shape:
    one that stretched x would give an output of another shape than x, and x a gradient of
    that shape."""
    shape = shape_of(x)
    try:
        fits = np.broadcast_shapes(shape, setting.shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(
            f"{op}: {what} of shape {setting.shape} must broadcast to the shape of x, "
            f"{describe(x) if isinstance(x, Tensor) else shape}: one {what} per element, per "
            f"channel (shape ({shape[-1] if shape else 1},)) or a number"
        )


def maximum(x: Any, y: Any) -> Tensor:
    """Elementwise max of two tensors (broadcasting); ties share the gradient evenly."""
    return Maximum.apply(x, y)


def minimum(x: Any, y: Any) -> Tensor:
    """Elementwise min of two tensors (broadcasting); ties share the gradient evenly."""
    return Minimum.apply(x, y)


def fmax(x: Any, y: Any) -> Tensor:
    """Elementwise max of two tensors (broadcasting) that ignores NaN, as np.fmax: where one
    is NaN, the other (and its gradient); ties share the gradient evenly."""
    return Fmax.apply(x, y)


def fmin(x: Any, y: Any) -> Tensor:
    """Elementwise min of two tensors (broadcasting) that ignores NaN, as np.fmin: where one
    is NaN, the other (and its gradient); ties share the gradient evenly."""
    return Fmin.apply(x, y)


def clip(x: Any, low: float | None = None, high: float | None = None) -> Tensor:
    """x limited to [low, high] (either may be None): numbers, or arrays that broadcast to
    x's shape. The bounds are settings: for bounds to learn, write
    ``gg.minimum(gg.maximum(x, low), high)``."""
    instead = "gg.minimum(gg.maximum(x, low), high)"
    low = setting_value(low, "low", "clip", instead)
    high = setting_value(high, "high", "clip", instead)
    for what, bound in (("low", low), ("high", high)):
        if bound is not None:
            real_values(bound, what, "clip")
        if isinstance(bound, np.ndarray) and bound.ndim:
            _setting_fits(x, bound, what, "clip")
    return Clip.apply(x, low=low, high=high)


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """x where condition is true, else y (all three broadcast together).

    ``condition`` is a boolean array or tensor (``x > 0``), or numbers that are all 0 or 1; it
    gets no gradient. The op keeps its own copy, so changing the caller's array later cannot
    change the gradient.
    """
    return Where.apply(x, y, condition=_condition(condition))


def as_booleans(array: np.ndarray) -> np.ndarray | None:
    """A mask as booleans: ``array`` itself if it is boolean, numbers that are all 0 or 1 as
    ``array != 0``, None for anything else (read as nonzero, a probability of 0.2 would be
    true). `where`'s condition and attention's masks follow this rule."""
    kind = array.dtype.kind
    if kind == "b":
        return array
    if kind in "iuf" and np.isin(array, (0, 1)).all():
        return array != 0
    return None


def _condition(condition: Any) -> np.ndarray:
    """A copy of ``condition`` as booleans (`as_booleans`), or an error naming a value that
    is no 0 or 1."""
    array = array_of(condition, "the condition", "where")
    mask = as_booleans(array)
    if mask is None:
        others = array[~np.isin(array, (0, 1))] if array.dtype.kind in "iuf" else array.ravel()
        what = describe(condition) if isinstance(condition, Tensor) else f"{array.dtype} values"
        if others.size:  # an object array holds Python objects, which have no .item()
            first = others.flat[0]
            what += f" holding {getattr(first, 'item', lambda: first)()!r} too"
        raise GraphgradTypeError(
            f"where: the condition must be booleans, or numbers that are all 0 or 1; got "
            f"{what}. Write the test itself, such as gg.where(A > 0.5, 1.0, 0.0)"
        )
    return mask.copy() if mask is array else mask
