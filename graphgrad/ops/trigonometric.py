"""The trigonometric and hyperbolic functions beyond sin, cos and tanh (which are in
`elementwise`), their inverses, and the two of a point (y, x): arctan2, its angle, and hypot,
its distance from the origin. Each output element depends on the matching element of each
input; the binary ones broadcast. PyTorch's names of the inverses (asin, acos, atan, atan2,
asinh, acosh, atanh) are the same functions. Angles: deg2rad and rad2deg (numpy's radians and
degrees), products by a constant; and sinc, sin(pi x) / (pi x), 1 at 0.

Backward bodies are numpy expressions of the saved input or output, so that under
``create_graph`` they record their own graph (second derivatives). Derivatives that are
1 / sqrt(1 - x**2) and the like take (1 - x)(1 + x), which keeps its digits near |x| = 1
where 1 - x*x rounds x*x first.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from graphgrad.errors import numbers_and_shown
from graphgrad.function import Function
from graphgrad.ops.arithmetic import Mul, _broadcast_hint, _same_float
from graphgrad.ops.broadcasting import unbroadcast
from graphgrad.tensor import Tensor


def _in_range(s: Any, low: float = 0.0) -> bool:
    """Whether every element of s (an array, or under create_graph a tensor) is finite and at
    least ``low``: where x*x + y*y neither overflowed nor underflowed, it is a quarter of the
    time of np.hypot (libm's, 27 us for 64 x 64 float64), which is kept for the rest."""
    values = s.data if isinstance(s, Tensor) else s
    return bool(np.isfinite(values).all() and (values >= low).all())


def _squares_fit(x: Any) -> bool:
    """float32 and float64, whose squares overflow only from 1.8e19 and 1.3e154: float16's do
    from 256, so it always takes hypot."""
    return x.dtype.kind == "f" and x.dtype.itemsize >= 4


class Tan(Function):
    """y = tan x;  dy/dx = 1 + y**2"""

    @staticmethod
    def forward(ctx, x):
        y = np.tan(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return grad * (1 + y * y)


class Arcsin(Function):
    """y = arcsin x, for -1 <= x <= 1;  dy/dx = 1 / sqrt((1 - x)(1 + x))"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arcsin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad / np.sqrt((1 - x) * (1 + x))


class Arccos(Function):
    """y = arccos x, for -1 <= x <= 1;  dy/dx = -1 / sqrt((1 - x)(1 + x))"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arccos(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return -grad / np.sqrt((1 - x) * (1 + x))


class Arctan(Function):
    """y = arctan x;  dy/dx = 1 / (1 + x**2) = 1 / hypot(x, 1)**2"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arctan(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        if _squares_fit(x):
            with np.errstate(over="ignore"):  # an overflow takes hypot, below
                square = 1 + x * x
            if _in_range(square):
                return grad / square
        # 1 / hypot(x, 1)**2, not 1 / (1 + x*x): x*x overflows (float16 from |x| = 256),
        # making it 0
        r = np.hypot(x, 1)
        return grad / r / r


class Arctan2(Function):
    """z = arctan2(y, x), the angle of the point (x, y), in (-pi, pi];
    dz/dy = x / r**2,  dz/dx = -y / r**2  with r = hypot(x, y) (NaN at the origin, as in
    PyTorch: the angle has no limit there)"""

    broadcasts = True

    @staticmethod
    def hint(y, x, **_):
        """Shown when forward fails: y's and x's shapes, named in that order."""
        return _broadcast_hint(y, x, ("y", "x"))

    @staticmethod
    def forward(ctx, y, x):
        if x.dtype is not y.dtype:
            y, x = _same_float(y, x)
        ctx.save_for_backward(y, x)
        ctx.shapes = (y.shape, x.shape)
        return np.arctan2(y, x)

    @staticmethod
    def backward(ctx, grad):
        y, x = ctx.saved
        y_shape, x_shape = ctx.shapes
        if _squares_fit(x):
            with np.errstate(over="ignore", under="ignore"):  # either takes hypot, below
                square = x * x + y * y
            # neither overflowed nor underflowed (the origin, 0, takes hypot's NaN too)
            if _in_range(square, np.finfo(square.dtype).tiny):
                return (unbroadcast(grad * (x / square), y_shape),
                        unbroadcast(-grad * (y / square), x_shape))
        # x / r / r, not x / (x*x + y*y): x*x overflows float16 from |x| = 256 and float64
        # from 1e154, which made the gradient 0 (and x / r, at most 1, before the second
        # division, which 1 / r**2 would underflow)
        r = np.hypot(x, y)
        return unbroadcast(grad * (x / r / r), y_shape), unbroadcast(-grad * (y / r / r), x_shape)


class Hypot(Function):
    """z = sqrt(x**2 + y**2), without overflow;  dz/dx = x / z,  dz/dy = y / z, and 0 at
    x = y = 0 (the kink, where x / z is 0/0: the subgradient `gg.norm` gives too)"""

    broadcasts = True
    hint = staticmethod(_broadcast_hint)

    @staticmethod
    def forward(ctx, x, y):
        if x.dtype is not y.dtype:
            x, y = _same_float(x, y)
        z = np.hypot(x, y)
        ctx.zero = None if np.all(z) else z == 0
        ctx.save_for_backward(x, y, z)
        ctx.shapes = (x.shape, y.shape)
        return z

    @staticmethod
    def backward(ctx, grad):
        x, y, z = ctx.saved
        x_shape, y_shape = ctx.shapes
        # x / z first, at most 1: grad / z overflows float16 where z is below 2e-5
        if ctx.zero is None:
            return unbroadcast(grad * (x / z), x_shape), unbroadcast(grad * (y / z), y_shape)
        # 0 at the origin, through a where (x / 1 there, x being 0, would have the second
        # derivative 1 under create_graph; PyTorch's norm has 0)
        z = np.where(ctx.zero, 1, z)
        return (unbroadcast(grad * np.where(ctx.zero, 0, x / z), x_shape),
                unbroadcast(grad * np.where(ctx.zero, 0, y / z), y_shape))


class Sinh(Function):
    """y = sinh x;  dy/dx = cosh x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sinh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad * np.cosh(x)


class Cosh(Function):
    """y = cosh x;  dy/dx = sinh x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cosh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad * np.sinh(x)


class Arcsinh(Function):
    """y = arcsinh x;  dy/dx = 1 / sqrt(x**2 + 1) = 1 / hypot(x, 1)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arcsinh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        if _squares_fit(x):
            with np.errstate(over="ignore"):  # an overflow takes hypot, below
                square = x * x + 1
            if _in_range(square):
                return grad / np.sqrt(square)
        # hypot, not sqrt(x*x + 1): x*x overflows (float16 from |x| = 256), making it 0
        return grad / np.hypot(x, 1)


class Arccosh(Function):
    """y = arccosh x, for x >= 1;  dy/dx = 1 / (sqrt(x - 1) sqrt(x + 1))"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arccosh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        # two roots, not one of the product, which overflows (float16 from x = 256)
        return grad / (np.sqrt(x - 1) * np.sqrt(x + 1))


class Arctanh(Function):
    """y = arctanh x, for -1 < x < 1;  dy/dx = 1 / ((1 - x)(1 + x))"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arctanh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad / ((1 - x) * (1 + x))


class Sinc(Function):
    """y = sin(pi x) / (pi x), 1 at x = 0;  dy/dx = (cos(pi x) - y) / x, 0 at x = 0, and near
    it pi (-t/3 + t**3/30 - t**5/840 + t**7/45360) with t = pi x, its Taylor series, where
    the difference of cos and y loses its digits"""

    @staticmethod
    def forward(ctx, x):
        y = np.sinc(x)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved
        # which formula each x takes: a constant mask, of the values also under create_graph
        near = np.abs(x.data if isinstance(x, Tensor) else x) < _SINC_SERIES / np.pi
        if not near.any():
            return grad * ((np.cos(np.pi * x) - y) / x)
        # Each formula is given only the x it is used at (x = 1, y = 1 elsewhere for the
        # quotient, x = 0 for the series), so neither makes a NaN or inf, even in the
        # derivatives of this one.
        far = np.where(near, 1, x)
        t = np.pi * np.where(near, x, 0)
        tt = t * t
        series = np.pi * t * (-1 / 3 + tt * (1 / 30 + tt * (-1 / 840 + tt * (1 / 45360))))
        quotient = (np.cos(np.pi * far) - np.where(near, 1, y)) / far
        return grad * np.where(near, series, quotient)


# Below |pi x| = 0.1 sinc's derivative is its series: there the next term, t**9 / 4e6, is
# below 1e-14 of the sum, and beyond it the quotient's cancellation loses less than 1e-13.
_SINC_SERIES = 0.1


def tan(x: Any) -> Tensor:
    """tan x, elementwise (x in radians)."""
    return Tan.apply(x)


def arcsin(x: Any) -> Tensor:
    """arcsin x, elementwise, in [-pi/2, pi/2]; x in [-1, 1] (NaN outside, as numpy's).
    PyTorch's name, `gg.asin`, is the same function."""
    return Arcsin.apply(x)


def arccos(x: Any) -> Tensor:
    """arccos x, elementwise, in [0, pi]; x in [-1, 1] (NaN outside, as numpy's). PyTorch's
    name, `gg.acos`, is the same function."""
    return Arccos.apply(x)


def arctan(x: Any) -> Tensor:
    """arctan x, elementwise, in (-pi/2, pi/2). PyTorch's name, `gg.atan`, is the same
    function."""
    return Arctan.apply(x)


def arctan2(y: Any, x: Any) -> Tensor:
    """The angle of the point (x, y) from the x axis, elementwise (broadcasting), in
    (-pi, pi]: arctan(y / x) in the right quadrant, as numpy's np.arctan2(y, x) (y first).
    Its gradient is NaN at the origin. PyTorch's name, `gg.atan2`, is the same function."""
    return Arctan2.apply(y, x)


def hypot(x: Any, y: Any) -> Tensor:
    """sqrt(x**2 + y**2), elementwise (broadcasting), without overflow where x**2 would; its
    gradient at x = y = 0 is 0."""
    return Hypot.apply(x, y)


def sinh(x: Any) -> Tensor:
    """sinh x, elementwise."""
    return Sinh.apply(x)


def cosh(x: Any) -> Tensor:
    """cosh x, elementwise."""
    return Cosh.apply(x)


def arcsinh(x: Any) -> Tensor:
    """arcsinh x, elementwise. PyTorch's name, `gg.asinh`, is the same function."""
    return Arcsinh.apply(x)


def arccosh(x: Any) -> Tensor:
    """arccosh x, elementwise, x >= 1 (NaN below, as numpy's). PyTorch's name, `gg.acosh`, is
    the same function."""
    return Arccosh.apply(x)


def arctanh(x: Any) -> Tensor:
    """arctanh x, elementwise, -1 < x < 1 (+-inf at +-1, NaN beyond, as numpy's). PyTorch's
    name, `gg.atanh`, is the same function."""
    return Arctanh.apply(x)


# PyTorch's names: the same functions.
asin, acos, atan, atan2 = arcsin, arccos, arctan, arctan2
asinh, acosh, atanh = arcsinh, arccosh, arctanh


def sinc(x: Any) -> Tensor:
    """The normalised sinc, sin(pi x) / (pi x), elementwise, 1 at x = 0, as np.sinc (and
    PyTorch's torch.sinc); its gradient is 0 at 0 and continuous there."""
    return Sinc.apply(x)


_DEG2RAD = np.pi / 180  # numpy's constants: deg2rad and rad2deg are products by them
_RAD2DEG = 180 / np.pi


def deg2rad(x: Any) -> Tensor:
    """x degrees in radians, x * (pi / 180), elementwise, as np.deg2rad (np.radians, and
    `gg.radians`, are the same)."""
    numbers_and_shown(x, "x", "deg2rad")  # refused in its own name, not Mul's
    return Mul.apply(x, _DEG2RAD)


def rad2deg(x: Any) -> Tensor:
    """x radians in degrees, x * (180 / pi), elementwise, as np.rad2deg (np.degrees, and
    `gg.degrees`, are the same)."""
    numbers_and_shown(x, "x", "rad2deg")
    return Mul.apply(x, _RAD2DEG)


# numpy's other names: the same functions.
radians, degrees = deg2rad, rad2deg
