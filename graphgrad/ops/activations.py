"""The smooth activations of later networks, elementwise and stable for any x: softplus, elu
(and its variants selu, with PyTorch's constants, and celu, one op with PyTorch's scales),
silu (swish), mish and gelu (the Transformer's, exact or in its tanh form), and log_sigmoid, a
logit's log-probability; softsign, tanhshrink and the gated linear unit glu, composed of ops.
The course's own (sigmoid, tanh, relu, leaky_relu) are in `elementwise`, whose stable sigmoid
silu, mish, gelu's tanh form and log_sigmoid's slope are built on (`Function.call`); gelu's
exact form is built on erfc, from `special`. The piecewise-linear ones (hardsigmoid,
hardswish, the shrinks, threshold) are in `piecewise`."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    ShapeError,
    array_of_numbers,
    describe,
    integer,
    real_number,
    setting_text,
    takes_axis,
)
from graphgrad.function import Function
from graphgrad.ops.elementwise import Clip, Sigmoid, Tanh, sigmoid_values
from graphgrad.ops.elementwise import abs as _abs
from graphgrad.ops.shape import split
from graphgrad.ops.special import BLOCK, Erfc, erfc_values
from graphgrad.tensor import Tensor, _lift, float_type_of, setting_value


class Softplus(Function):
    """y = ln(1 + e**x), a smooth relu;  dy/dx = sigmoid(x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        # max(x, 0) + ln(1 + e**-|x|): e**x overflows beyond x = 709 (89 in float32), and
        # ln(1 + e**x) loses the tail e**x to rounding where x is very negative.
        y = _exp_minus_abs(x)
        np.log1p(y, out=y)
        y += np.maximum(x, 0)
        return y

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        if type(x) is not np.ndarray:  # on Tensors (create_graph): recorded
            return grad * Sigmoid.call(x)
        # x alone is kept, not the exponential of forward, which would be a second array of
        # x's size
        s = sigmoid_values(x)
        s *= grad
        return s


def _new_like(x: np.ndarray) -> np.ndarray:
    """An empty float array of x's shape, to compute in (``out=``): numpy gives the result
    of an operation on a 0-d array as a scalar, which cannot be written to."""
    return np.empty(x.shape, x.dtype if x.dtype.kind == "f" else np.float64)


def _exp_minus_abs(x: np.ndarray) -> np.ndarray:
    """e**-|x|, a new array, computed in place."""
    e = np.abs(x, out=_new_like(x))
    np.negative(e, out=e)
    np.exp(e, out=e)
    return e


class LogSigmoid(Function):
    """y = ln sigmoid(x) = -softplus(-x), the log-probability of a logit;
    dy/dx = 1 - sigmoid(x) = sigmoid(-x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        # min(x, 0) - ln(1 + e**-|x|): ln(sigmoid(x)) is ln(0) = -inf below x = -745, with
        # a gradient of NaN, where this is x
        y = np.minimum(x, 0)
        y -= np.log1p(_exp_minus_abs(x))
        return y

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad * Sigmoid.call(-x)


class ELU(Function):
    """y = x if x > 0 else alpha (e**x - 1);  dy/dx = 1 if x > 0 else alpha e**x.
    `SELU` and `CELU` are this op with PyTorch's ``scale`` and ``input_scale`` too:
    y = scale x if x > 0 else scale alpha (e**(input_scale x) - 1)."""

    @staticmethod
    def forward(ctx, x, alpha=1.0, scale=1.0, input_scale=1.0):
        ctx.alpha, ctx.scale, ctx.input_scale = alpha, scale, input_scale
        ctx.save_for_backward(x)
        # e**x of min(x, 0): e**1000 would overflow, with a warning. Where x > 0 the first
        # term is alpha (e**0 - 1) = 0, and where x <= 0 the second is 0, so the sum is
        # either one exactly
        y = np.minimum(x, 0, out=_new_like(x))
        if input_scale != 1:
            y *= input_scale
        np.expm1(y, out=y)
        if alpha * scale != 1:
            y *= alpha * scale  # PyTorch's negcoef, so its values
        y += np.maximum(x, 0) if scale == 1 else np.maximum(x, 0) * scale
        return y

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        alpha, scale, input_scale = ctx.alpha, ctx.scale, ctx.input_scale
        slope_below = alpha * scale * input_scale  # the slope's factor where x <= 0
        if type(x) is np.ndarray:  # plain numpy: the slope alpha e**min(x, 0), 1 where x > 0
            slope = np.minimum(x, 0, out=_new_like(x))
            if input_scale != 1:
                slope *= input_scale
            np.exp(slope, out=slope)  # 1 where x > 0 already when alpha is 1
            if slope_below != 1 or scale != 1:
                slope *= slope_below
                slope = np.where(x > 0, scale, slope)
            slope *= grad
            return slope
        # on Tensors (create_graph), the slope's own derivative at x = 0 is the left-hand
        # alpha, the branch the slope itself takes there (PyTorch's is 0, the right-hand
        # one): through the mask x <= 0, not min(x, 0), which would share it
        positive = x.data > 0
        below = np.where(positive, 0, x)
        if input_scale != 1:
            below = below * input_scale
        return np.where(positive, grad * scale if scale != 1 else grad,
                        grad * (slope_below * np.exp(below)))


# SELU's constants, PyTorch's (Klambauer et al. 2017): the fixed point of mean 0 and
# variance 1 for weights of variance 1 / n_in
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


class SELU(ELU):
    """y = scale x if x > 0 else scale alpha (e**x - 1), alpha and scale PyTorch's constants;
    dy/dx = scale if x > 0 else scale alpha e**x (scale alpha at 0, as PyTorch's)"""

    @staticmethod
    def forward(ctx, x):
        return ELU.forward(ctx, x, alpha=SELU_ALPHA, scale=SELU_SCALE)


class CELU(ELU):
    """y = x if x > 0 else alpha (e**(x / alpha) - 1);  dy/dx = 1 if x > 0 else e**(x / alpha)
    (1 at 0 from both sides, for any alpha)"""

    @staticmethod
    def forward(ctx, x, alpha=1.0):
        return ELU.forward(ctx, x, alpha=alpha, input_scale=1 / alpha)


class Mish(Function):
    """y = x tanh(softplus(x));  dy/dx = t + x (1 - t**2) sigmoid(x), t = tanh(softplus(x))"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        # the stable softplus: tanh(ln(1 + e**x)) of e**x would overflow beyond x = 709
        wide = _wider(x)
        y = Softplus.call(wide)  # a new array, of x's shape even 0-d: written in place
        np.tanh(y, out=y)
        y *= wide
        return y if wide is x else y.astype(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        # recomputed from x (on Tensors, recorded): keeping t would be one more array of x's
        # size on every node. 1 - t**2 is 0 where t rounds to 1 (x > 19), where the true
        # x (1 - t**2) sigmoid(x) is below 1e-15 and the slope is 1.
        wide = _wider(x)
        t = Tanh.call(Softplus.call(wide))
        dx = grad * (t + wide * (1 - t * t) * Sigmoid.call(wide))
        return dx if wide is x else dx.astype(x.dtype)


class SiLU(Function):
    """y = x sigmoid(x) (swish);  dy/dx = s (1 + x (1 - s)), s = sigmoid(x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        wide = _wider(x)  # float16 in float32, rounded once: see the slope's cancellation
        y = wide * Sigmoid.call(wide)
        return y if wide is x else y.astype(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        # 1 + x (1 - s) cancels near silu's minimum (x = -1.28, where the slope crosses 0):
        # in float16 it was hundreds of units of the last place off there, 0 for 3e-5
        wide = _wider(x)
        s = Sigmoid.call(wide)
        dx = grad * (s * (1 + wide * (1 - s)))
        return dx if wide is x else dx.astype(x.dtype)


# GELU's tanh form: 0.5 x (1 + tanh(u)) = x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x**3).
_GELU_SCALE = 2 * math.sqrt(2 / math.pi)  # 2u = _GELU_SCALE (x + _GELU_CUBIC x**3)
_GELU_CUBIC = 0.044715
# Beyond |x| = 30, sigmoid(2u) is exactly 1 or 0 in float64 (2u < -1900 below -30; it is 1
# from x = 8): the cubic is taken of x clipped there, so that it cannot overflow (float32's
# x**3 does beyond 7e12), and gives the same values.
_GELU_EDGE = 30.0


def _gelu_gate(x: Any) -> Any:
    """sigmoid(2u) and x clipped to +-_GELU_EDGE, on arrays or, in a backward, recorded."""
    if type(x) is np.ndarray:
        return _gelu_gate_of_array(x)
    inside = Clip.call(x, low=-_GELU_EDGE, high=_GELU_EDGE)
    return Sigmoid.call(_GELU_SCALE * (inside + _GELU_CUBIC * (inside * inside * inside))), inside


def _gelu_gate_of_array(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`_gelu_gate` of an array: the same operations in the same order, so the same values,
    on new arrays written in place (no Clip or Sigmoid node, no mask of the clip)."""
    inside = np.clip(x, -_GELU_EDGE, _GELU_EDGE, out=_new_like(x))
    z = np.multiply(inside, inside, out=_new_like(x))
    z *= inside
    z *= _GELU_CUBIC
    z += inside
    z *= _GELU_SCALE
    return sigmoid_values(z), inside


class GELUTanh(Function):
    """y = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x**3))) = x sigmoid(2u), the tanh form;
    dy/dx = s + x s (1 - s) 2 sqrt(2/pi) (1 + 3 * 0.044715 x**2), s = sigmoid(2u)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        # x sigmoid(2u), not 0.5 x (1 + tanh(u)): 1 + tanh(u) cancels to 0 below x = -6,
        # where the stable sigmoid keeps the tail's relative precision
        wide = _wider(x)
        s, _ = _gelu_gate(wide)
        s *= wide
        return s if wide is x else s.astype(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        wide = _wider(x)
        s, inside = _gelu_gate(wide)
        # the clipped x in the second term: s (1 - s) is 0 beyond the edge, and inf * 0 NaN
        if type(x) is not np.ndarray:  # on Tensors (create_graph): recorded
            slope = _GELU_SCALE * (1 + (3 * _GELU_CUBIC) * (inside * inside))
            dx = grad * (s + inside * (s * (1 - s)) * slope)
            return dx if wide is x else dx.astype(x.dtype)
        # the same operations in place; gate and slope are recomputed from x, not kept from
        # forward, where they would be two more arrays of x's size on every node
        slope = inside * inside
        slope *= 3 * _GELU_CUBIC
        slope += 1
        slope *= _GELU_SCALE
        dx = 1 - s
        dx *= s
        dx *= inside
        dx *= slope
        dx += s
        dx *= grad
        return dx if wide is x else dx.astype(x.dtype)


_MINUS_RSQRT2 = -1 / math.sqrt(2)  # Phi(x) = erfc(-x / sqrt(2)) / 2
_RSQRT_2PI = 1 / math.sqrt(2 * math.pi)  # phi(x) = e**(-x**2 / 2) / sqrt(2 pi)
# phi(x) is 0 in float64 beyond |x| = 38.6 (e**-745): x phi(x) is taken of x clipped to
# +-40, so that x*x cannot overflow (beyond 1.3e154, float32's beyond 1.8e19) nor inf * 0
# give NaN, with the same values
_PHI_EDGE = 40.0


class GELU(Function):
    """y = x Phi(x) = 0.5 x erfc(-x / sqrt(2)), the exact form;  dy/dx = Phi(x) + x phi(x),
    phi(x) = e**(-x**2 / 2) / sqrt(2 pi), the normal density"""

    @staticmethod
    def forward(ctx, x):
        # erfc, not 1 + erf(x / sqrt(2)): that cancels to 0 below x = -8.3, where erfc keeps
        # the tail's relative precision (gelu(-30) is -1.5e-196). In float64, the argument
        # too, and rounded once: -x / sqrt(2) rounded to float32 would take its error into
        # the tail's exponential.
        # Phi is kept for backward (x's size, float32 for float16): it is a dozen times the
        # cost of the tanh form's sigmoid, which that form recomputes instead. Block by
        # block, so that the float64 temporaries are a block's worth, not x's size each.
        flat = x.reshape(-1)
        y = np.empty(flat.shape, float_type_of(x))
        kept = np.empty(flat.shape, np.float32 if x.dtype == np.float16 else float_type_of(x))
        for start in range(0, flat.size, BLOCK):
            wide = flat[start:start + BLOCK].astype(np.float64)
            gate = erfc_values(wide * _MINUS_RSQRT2)
            gate *= 0.5
            kept[start:start + BLOCK] = gate
            gate *= wide
            y[start:start + BLOCK] = gate
        ctx.save_for_backward(x, kept.reshape(x.shape))
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        x, gate = ctx.saved
        wide = _wider(x)
        if type(x) is not np.ndarray:  # on Tensors (create_graph): recorded, Phi too
            gate = 0.5 * Erfc.call(wide * _MINUS_RSQRT2)
            inside = Clip.call(wide, low=-_PHI_EDGE, high=_PHI_EDGE)
            dx = grad * (gate + inside * (_RSQRT_2PI * np.exp(-0.5 * (inside * inside))))
            return dx if wide is x else dx.astype(x.dtype)
        # Phi + x phi(x), in place
        inside = np.clip(wide, -_PHI_EDGE, _PHI_EDGE, out=_new_like(wide))
        dx = np.multiply(inside, inside, out=_new_like(wide))
        dx *= -0.5
        np.exp(dx, out=dx)
        dx *= _RSQRT_2PI
        dx *= inside
        dx += gate
        dx *= grad
        return dx if wide is x else dx.astype(x.dtype)


def input_tensor(x: Any, caller: str) -> Tensor:
    """x as a Tensor (a constant for an array, a list or a number), for the functions made of
    several ops: one that holds no numbers is refused in ``caller``'s name, not an inner op's."""
    return x if isinstance(x, Tensor) else _lift(array_of_numbers(x, "x", caller))


def _wider(x: Any) -> Any:
    """float16 x as float32 (an array, or recorded on a Tensor), else x: float16 holds 2u to
    3 digits, and sigmoid(2u) in its tail takes that error relatively (15 units of the last
    place of gelu near x = -3.8; silu's slope cancels near its minimum); computed in float32
    and rounded once, as in PyTorch, each is within one."""
    return x.astype(np.float32) if x.dtype == np.float16 else x


ELU_ALPHA_RULE = "a finite number (1.0 is the usual one, PyTorch's default)"
CELU_ALPHA_RULE = "a finite number other than 0 (1.0 is PyTorch's default)"


def celu_alpha(alpha: Any, caller: str) -> float:
    """CELU's ``alpha``, finite and not 0 (x / alpha), or an `ArgumentError` in ``caller``'s
    name."""
    return real_number(alpha, "alpha", caller, lambda a: math.isfinite(a) and a != 0,
                       CELU_ALPHA_RULE)


GELU_FORMS = "'none' (the exact form x Phi(x), PyTorch's default) or 'tanh' (its tanh form)"


def gelu_form(approximate: Any, caller: str) -> str:
    """GELU's ``approximate`` setting, "none" or "tanh", or an `ArgumentError` in
    ``caller``'s name that names both."""
    if not (isinstance(approximate, str) and approximate in ("none", "tanh")):
        raise ArgumentError(f"{caller}: approximate must be {GELU_FORMS}, got "
                            f"{setting_text(approximate)}")
    return approximate


def gelu_op(approximate: str) -> type[Function]:
    """The op of a form `gelu_form` accepted: `GELU`, exact, or `GELUTanh`."""
    return GELU if approximate == "none" else GELUTanh


def softplus(x: Any) -> Tensor:
    """ln(1 + e**x), elementwise, a smooth relu whose derivative is sigmoid(x): stable for
    any x (softplus(1000) is 1000, softplus(-1000) is 0, with no overflow warning)."""
    return Softplus.apply(x)


def log_sigmoid(x: Any) -> Tensor:
    """ln sigmoid(x), elementwise: the log-probability of a logit, as PyTorch's
    F.logsigmoid; stable for any x (log_sigmoid(-1000) is -1000 with slope 1, where
    gg.log(gg.sigmoid(x)) is -inf with a NaN gradient). ln(1 - sigmoid(x)) is
    log_sigmoid(-x)."""
    return LogSigmoid.apply(x)


def elu(x: Any, alpha: float = 1.0) -> Tensor:
    """x where x > 0, else alpha (e**x - 1), elementwise: the exponential linear unit, as
    PyTorch's F.elu. ``alpha``, a finite number, is the value it tends to, negated, as x
    goes to -inf (-alpha); with alpha = 1 its slope is continuous at 0. ``alpha`` is a
    setting: for one to learn, write ``gg.where(x > 0, x, alpha * gg.expm1(gg.minimum(x,
    0)))``."""
    alpha = setting_value(alpha, "alpha", "elu",
                          "gg.where(x > 0, x, alpha * gg.expm1(gg.minimum(x, 0)))")
    alpha = real_number(alpha, "alpha", "elu", math.isfinite, ELU_ALPHA_RULE)
    return ELU.apply(x, alpha=alpha)


def silu(x: Any) -> Tensor:
    """x sigmoid(x), elementwise: the sigmoid-weighted linear unit (swish), as PyTorch's
    F.silu; stable for any x (silu(-1000) is 0, silu(1000) is 1000)."""
    return SiLU.apply(x)


def gelu(x: Any, approximate: str = "none") -> Tensor:
    """The Gaussian error linear unit of BERT and GPT, elementwise, as PyTorch's F.gelu:
    exact by default, x Phi(x) = 0.5 x erfc(-x / sqrt(2)) (Phi the standard normal's
    cumulative distribution), or with approximate="tanh" in its tanh form
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x**3))), which differs from it by at most
    4.7e-4 (near x = -2.7) and costs less (the exact form's erfc is about 1.5x the tanh
    form's time, forward and backward, at 64 x 64). Both are stable for any x."""
    return gelu_op(gelu_form(approximate, "gelu")).apply(x)


def selu(x: Any) -> Tensor:
    """scale x where x > 0, else scale alpha (e**x - 1), elementwise: the self-normalising
    linear unit (PyTorch's F.selu), with PyTorch's constants alpha = 1.6732632423543772 and
    scale = 1.0507009873554805 (`SELU_ALPHA`, `SELU_SCALE`). Its slope at 0 is the left-hand
    scale alpha, as PyTorch's; stable for any x."""
    return SELU.apply(x)


def celu(x: Any, alpha: float = 1.0) -> Tensor:
    """x where x > 0, else alpha (e**(x / alpha) - 1), elementwise: the continuously
    differentiable ELU (PyTorch's F.celu), whose slope is 1 at 0 for any ``alpha`` (a finite
    number other than 0, a setting). celu(x, 1) is elu(x)."""
    alpha = setting_value(alpha, "alpha", "celu",
                          "gg.where(x > 0, x, alpha * gg.expm1(gg.minimum(x, 0) / alpha))")
    return CELU.apply(x, alpha=celu_alpha(alpha, "celu"))


def mish(x: Any) -> Tensor:
    """x tanh(softplus(x)), elementwise: Mish (YOLOv4's; PyTorch's F.mish), a smooth
    non-monotonic activation like silu; stable for any x (mish(-1000) is 0, mish(1000) is
    1000), with finite derivatives of every order there."""
    return Mish.apply(x)


def softsign(x: Any) -> Tensor:
    """x / (1 + |x|), elementwise (PyTorch's F.softsign): a tanh-like curve whose tails are
    polynomial, not exponential. Composed of ops (abs, add, div), as PyTorch's; its slope at
    0 is 1."""
    x = input_tensor(x, "softsign")
    return x / (1 + _abs(x))


def tanhshrink(x: Any) -> Tensor:
    """x - tanh(x), elementwise (PyTorch's F.tanhshrink). Composed of ops, as PyTorch's
    (near 0 it is x**3 / 3, computed as a difference, so to absolute, not relative,
    precision)."""
    x = input_tensor(x, "tanhshrink")
    return x - Tanh.apply(x)


@takes_axis
def glu(x: Any, axis: int = -1) -> Tensor:
    """The gated linear unit (PyTorch's F.glu): x cut in two halves a and b along ``axis``,
    then a sigmoid(b). The axis must have an even length 2n; the output has n there:
    (m, 2n) -> (m, n). Composed of ops (split, sigmoid, mul)."""
    x = input_tensor(x, "glu")
    axis = integer(axis, "axis", "glu")
    if not -x.ndim <= axis < x.ndim:
        raise ShapeError(f"glu: axis={axis} is no axis of x {describe(x)}: glu halves x along "
                         "an axis of even length")
    if x.shape[axis] % 2:
        raise ShapeError(f"glu: x {describe(x)} has length {x.shape[axis]} along axis {axis}, "
                         "which must be even: glu cuts it into halves a and b, a sigmoid(b) "
                         "(the layer before gives twice the units it means to output)")
    a, b = split(x, 2, axis=axis)
    return a * Sigmoid.apply(b)
