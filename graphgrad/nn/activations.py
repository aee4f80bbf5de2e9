"""Activation layers: the course's g(z) as modules, to put between layers in a `Sequential`.

Each is a thin module over the engine's op of the same name (`gg.sigmoid`, `gg.tanh`,
`gg.relu`, `gg.leaky_relu`, `gg.softmax`, and the later networks' `gg.softplus`, `gg.elu`,
`gg.selu`, `gg.celu`, `gg.silu`, `gg.mish`, `gg.gelu`, `gg.log_sigmoid`, `gg.hardsigmoid`,
`gg.hardswish`), so its node in a picture is that op, inside the layer's cluster; `Hardshrink`
and `Threshold` are one `gg.where`, and `Softshrink`, `Softsign`, `Tanhshrink`, `GLU` and
`Softmin` the few ops of their functions.
`PReLU` learns LeakyReLU's slope (`gg.where` of Z and alpha Z), `Hardtanh` and `ReLU6` are
`gg.clip`, `LogSoftmax` is `gg.log_softmax`. Shapes are unchanged, (m, n) -> (m, n), but
`GLU`'s, which halves an axis: (m, 2n) -> (m, n). Depends
on `ops`, `nn.module`.
"""
from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    ShapeError,
    array_of_numbers,
    describe,
    flag,
    float_dtype,
    integer,
    real_number,
    takes_axis,
    whole_number,
)
from graphgrad.nn.module import Module, Parameter, as_data_of
from graphgrad.ops.activations import CELU as _CELU
from graphgrad.ops.activations import ELU as _ELU
from graphgrad.ops.activations import (
    ELU_ALPHA_RULE,
    celu_alpha,
    gelu_form,
    gelu_op,
    glu,
    input_tensor,
    softsign,
    tanhshrink,
)
from graphgrad.ops.activations import SELU as _SELU
from graphgrad.ops.activations import LogSigmoid as _LogSigmoid
from graphgrad.ops.activations import Mish as _Mish
from graphgrad.ops.activations import SiLU as _SiLU
from graphgrad.ops.activations import Softplus as _Softplus
from graphgrad.ops.arithmetic import Mul
from graphgrad.ops.elementwise import Clip, Where
from graphgrad.ops.elementwise import LeakyReLU as _LeakyReLU
from graphgrad.ops.elementwise import ReLU as _ReLU
from graphgrad.ops.elementwise import Sigmoid as _Sigmoid
from graphgrad.ops.elementwise import Tanh as _Tanh
from graphgrad.ops.piecewise import Hardsigmoid as _Hardsigmoid
from graphgrad.ops.piecewise import Hardswish as _Hardswish
from graphgrad.ops.piecewise import (
    hardshrink_of,
    shrink_lambd,
    softshrink_of,
    threshold_of,
    threshold_settings,
)
from graphgrad.ops.softmax import LogSoftmax as _LogSoftmax
from graphgrad.ops.softmax import Softmax as _Softmax
from graphgrad.ops.softmax import softmin
from graphgrad.tensor import Tensor


def _inplace(inplace: Any, layer: str) -> bool:
    """PyTorch's ``inplace`` flag of an activation layer (``nn.ReLU(True)``,
    ``nn.LeakyReLU(0.2, inplace=True)``), checked, which graphgrad keeps (``layer.inplace``,
    shown in the repr as PyTorch's ``ReLU(inplace=True)``) and does not follow: the output is
    always a new tensor, with the values the flag would have written over the input. The
    recorded graph keeps the input, so overwriting it would gain no memory here."""
    return flag(inplace, "inplace", layer)


def _shown(settings: str, inplace: bool) -> str:
    """A layer's ``settings`` for its repr, followed by ``inplace=True`` when it was given, as
    PyTorch's repr shows it."""
    if not inplace:
        return settings
    return f"{settings}, inplace=True" if settings else "inplace=True"


class Sigmoid(Module):
    """A = 1 / (1 + e**-Z): the course's output activation for a binary label."""

    single_node = True

    def forward(self, Z: Any) -> Tensor:
        """A = sigmoid(Z), elementwise: `gg.sigmoid`.  Z (m, n) -> A (m, n)."""
        return _Sigmoid.apply(Z)


class Tanh(Module):
    """A = tanh(Z): the course's hidden activation for shallow networks."""

    single_node = True

    def forward(self, Z: Any) -> Tensor:
        """A = tanh(Z), elementwise: `gg.tanh`.  Z (m, n) -> A (m, n)."""
        return _Tanh.apply(Z)


class ReLU(Module):
    """A = max(Z, 0): the course's default hidden activation.
    ``inplace``: PyTorch's flag, kept and shown; the output is a new tensor all the same."""

    single_node = True

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = _inplace(inplace, "ReLU")

    def forward(self, Z: Any) -> Tensor:
        """A = max(Z, 0), elementwise: `gg.relu`.  Z (m, n) -> A (m, n)."""
        return _ReLU.apply(Z)

    def extra_repr(self) -> str:
        """Nothing, or ``inplace=True`` as PyTorch's repr shows it."""
        return _shown("", self.inplace)


class LeakyReLU(Module):
    """A = Z where Z > 0, else alpha * Z.
    ``inplace``: PyTorch's flag, kept and shown; the output is a new tensor all the same."""

    single_node = True

    def __init__(self, alpha: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = _inplace(inplace, "LeakyReLU")
        self.alpha = real_number(alpha, "alpha", "LeakyReLU", math.isfinite, "a finite number")

    def forward(self, Z: Any) -> Tensor:
        """A = Z where Z > 0, else alpha * Z: `gg.leaky_relu`.  Z (m, n) -> A (m, n)."""
        return _LeakyReLU.apply(Z, alpha=self.alpha)

    def extra_repr(self) -> str:
        """``alpha=0.01``, for the repr."""
        return _shown(f"alpha={self.alpha:g}", self.inplace)


class Softplus(Module):
    """A = ln(1 + e**Z), a smooth ReLU, stable for any Z."""

    single_node = True

    def forward(self, Z: Any) -> Tensor:
        """A = softplus(Z), elementwise: `gg.softplus`.  Z (m, n) -> A (m, n)."""
        return _Softplus.apply(Z)


class ELU(Module):
    """A = Z where Z > 0, else alpha (e**Z - 1): the exponential linear unit (PyTorch's
    nn.ELU, alpha=1.0 by default).
    ``inplace``: PyTorch's flag, kept and shown; the output is a new tensor all the same."""

    single_node = True

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = _inplace(inplace, "ELU")
        self.alpha = real_number(alpha, "alpha", "ELU", math.isfinite, ELU_ALPHA_RULE)

    def forward(self, Z: Any) -> Tensor:
        """A = Z where Z > 0, else alpha (e**Z - 1): `gg.elu`.  Z (m, n) -> A (m, n)."""
        return _ELU.apply(Z, alpha=self.alpha)

    def extra_repr(self) -> str:
        """``alpha=1``, for the repr."""
        return _shown(f"alpha={self.alpha:g}", self.inplace)


class SiLU(Module):
    """A = Z sigmoid(Z): the sigmoid-weighted linear unit (swish), stable for any Z.
    ``inplace``: PyTorch's flag, kept and shown; the output is a new tensor all the same."""

    single_node = True

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = _inplace(inplace, "SiLU")

    def forward(self, Z: Any) -> Tensor:
        """A = silu(Z), elementwise: `gg.silu`.  Z (m, n) -> A (m, n)."""
        return _SiLU.apply(Z)

    def extra_repr(self) -> str:
        """Nothing, or ``inplace=True`` as PyTorch's repr shows it."""
        return _shown("", self.inplace)


class GELU(Module):
    """A = Z Phi(Z) = 0.5 Z erfc(-Z / sqrt(2)): the Transformer's GELU, exact, as PyTorch's
    nn.GELU(); with approximate="tanh", its tanh form
    0.5 Z (1 + tanh(sqrt(2/pi) (Z + 0.044715 Z**3))), within 4.7e-4 of it (see `gg.gelu`)."""

    single_node = True

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = gelu_form(approximate, "GELU")

    def forward(self, Z: Any) -> Tensor:
        """A = gelu(Z), elementwise: `gg.gelu`.  Z (m, n) -> A (m, n)."""
        return gelu_op(self.approximate).apply(Z)

    def extra_repr(self) -> str:
        """``approximate='none'``, for the repr."""
        return f"approximate={self.approximate!r}"


class SELU(Module):
    """A = scale Z where Z > 0, else scale alpha (e**Z - 1): the self-normalising linear unit
    (PyTorch's nn.SELU, its constants alpha = 1.6733 and scale = 1.0507), for deep
    fully-connected networks initialised with variance 1 / n_in.
    ``inplace``: PyTorch's flag, kept and shown; the output is a new tensor all the same."""

    single_node = True

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = _inplace(inplace, "SELU")

    def forward(self, Z: Any) -> Tensor:
        """A = selu(Z), elementwise: `gg.selu`.  Z (m, n) -> A (m, n)."""
        return _SELU.apply(Z)

    def extra_repr(self) -> str:
        """Nothing, or ``inplace=True`` as PyTorch's repr shows it."""
        return _shown("", self.inplace)


class CELU(Module):
    """A = Z where Z > 0, else alpha (e**(Z / alpha) - 1): the continuously differentiable ELU
    (PyTorch's nn.CELU, alpha=1.0 by default, a finite number other than 0).
    ``inplace``: PyTorch's flag, kept and shown; the output is a new tensor all the same."""

    single_node = True

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = _inplace(inplace, "CELU")
        self.alpha = celu_alpha(alpha, "CELU")

    def forward(self, Z: Any) -> Tensor:
        """A = celu(Z, alpha): `gg.celu`.  Z (m, n) -> A (m, n)."""
        return _CELU.apply(Z, alpha=self.alpha)

    def extra_repr(self) -> str:
        """``alpha=1``, for the repr."""
        return _shown(f"alpha={self.alpha:g}", self.inplace)


class Mish(Module):
    """A = Z tanh(softplus(Z)): Mish (YOLOv4's; PyTorch's nn.Mish), stable for any Z.
    ``inplace``: PyTorch's flag, kept and shown; the output is a new tensor all the same."""

    single_node = True

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = _inplace(inplace, "Mish")

    def forward(self, Z: Any) -> Tensor:
        """A = mish(Z), elementwise: `gg.mish`.  Z (m, n) -> A (m, n)."""
        return _Mish.apply(Z)

    def extra_repr(self) -> str:
        """Nothing, or ``inplace=True`` as PyTorch's repr shows it."""
        return _shown("", self.inplace)


class Hardsigmoid(Module):
    """A = min(max(Z + 3, 0), 6) / 6: MobileNetV3's piecewise-linear sigmoid (PyTorch's
    nn.Hardsigmoid), with PyTorch's gradient, 0 at Z = +-3.
    ``inplace``: PyTorch's flag, kept and shown; the output is a new tensor all the same."""

    single_node = True

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = _inplace(inplace, "Hardsigmoid")

    def forward(self, Z: Any) -> Tensor:
        """A = hardsigmoid(Z), elementwise: `gg.hardsigmoid`.  Z (m, n) -> A (m, n)."""
        return _Hardsigmoid.apply(Z)

    def extra_repr(self) -> str:
        """Nothing, or ``inplace=True`` as PyTorch's repr shows it."""
        return _shown("", self.inplace)


class Hardswish(Module):
    """A = Z min(max(Z + 3, 0), 6) / 6: MobileNetV3's cheap swish (PyTorch's nn.Hardswish),
    with PyTorch's gradient, 0 at Z = -3 and 1 at Z = 3.
    ``inplace``: PyTorch's flag, kept and shown; the output is a new tensor all the same."""

    single_node = True

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = _inplace(inplace, "Hardswish")

    def forward(self, Z: Any) -> Tensor:
        """A = hardswish(Z), elementwise: `gg.hardswish`.  Z (m, n) -> A (m, n)."""
        return _Hardswish.apply(Z)

    def extra_repr(self) -> str:
        """Nothing, or ``inplace=True`` as PyTorch's repr shows it."""
        return _shown("", self.inplace)


class LogSigmoid(Module):
    """A = ln sigmoid(Z): a logit's log-probability (PyTorch's nn.LogSigmoid), stable for any
    Z (-1000 gives -1000, where log(sigmoid(Z)) gives -inf)."""

    single_node = True

    def forward(self, Z: Any) -> Tensor:
        """A = log_sigmoid(Z), elementwise: `gg.log_sigmoid`.  Z (m, n) -> A (m, n)."""
        return _LogSigmoid.apply(Z)


class Softsign(Module):
    """A = Z / (1 + |Z|) (PyTorch's nn.Softsign), composed of ops, as `gg.softsign`."""

    def forward(self, Z: Any) -> Tensor:
        """A = softsign(Z), elementwise: `gg.softsign`.  Z (m, n) -> A (m, n)."""
        return softsign(Z)


class Tanhshrink(Module):
    """A = Z - tanh(Z) (PyTorch's nn.Tanhshrink), composed of ops, as `gg.tanhshrink`."""

    def forward(self, Z: Any) -> Tensor:
        """A = tanhshrink(Z), elementwise: `gg.tanhshrink`.  Z (m, n) -> A (m, n)."""
        return tanhshrink(Z)


class Hardshrink(Module):
    """A = Z where |Z| > lambd, else 0 (PyTorch's nn.Hardshrink, lambd=0.5 by default, a
    finite number >= 0); the gradient is 0 at Z = +-lambd, as PyTorch's."""

    single_node = True

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = shrink_lambd(lambd, "Hardshrink")

    def forward(self, Z: Any) -> Tensor:
        """A = hardshrink(Z, lambd): `gg.hardshrink`.  Z (m, n) -> A (m, n)."""
        return hardshrink_of(input_tensor(Z, self._label()), self.lambd)

    def extra_repr(self) -> str:
        """``lambd=0.5``, for the repr."""
        return f"lambd={self.lambd:g}"


class Softshrink(Module):
    """A = Z - lambd where Z > lambd, Z + lambd where Z < -lambd, else 0 (PyTorch's
    nn.Softshrink, lambd=0.5 by default, a finite number >= 0); the gradient is 0 at
    Z = +-lambd, as PyTorch's."""

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = shrink_lambd(lambd, "Softshrink")

    def forward(self, Z: Any) -> Tensor:
        """A = softshrink(Z, lambd): `gg.softshrink`.  Z (m, n) -> A (m, n)."""
        return softshrink_of(input_tensor(Z, self._label()), self.lambd)

    def extra_repr(self) -> str:
        """``lambd=0.5``, for the repr."""
        return f"lambd={self.lambd:g}"


class Threshold(Module):
    """A = Z where Z > threshold, else value (PyTorch's nn.Threshold(threshold, value), both
    required numbers); the gradient is 0 at Z = threshold, as PyTorch's.
    ``inplace``: PyTorch's flag, kept and shown; the output is a new tensor all the same."""

    single_node = True

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = _inplace(inplace, "Threshold")
        self.threshold, self.value = threshold_settings(threshold, value, "Threshold")

    def forward(self, Z: Any) -> Tensor:
        """A = threshold(Z, threshold, value): `gg.threshold`.  Z (m, n) -> A (m, n)."""
        return threshold_of(input_tensor(Z, self._label()), self.threshold, self.value)

    def extra_repr(self) -> str:
        """``threshold=0.1, value=20``, for the repr."""
        return _shown(f"threshold={self.threshold:g}, value={self.value:g}", self.inplace)


class GLU(Module):
    """A = a sigmoid(b), a and b the halves of Z along ``axis`` (the gated linear unit,
    PyTorch's nn.GLU, dim=-1 by default as here): Z (m, 2n) -> A (m, n)."""

    @takes_axis
    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = integer(axis, "axis", type(self).__name__)

    def forward(self, Z: Any) -> Tensor:
        """A = glu(Z, axis): `gg.glu`.  Z (m, 2n) -> A (m, n)."""
        return glu(Z, self.axis)

    def extra_repr(self) -> str:
        """``axis=-1``, for the repr."""
        return f"axis={self.axis}"


class Softmax(Module):
    """A = e**Z / sum(e**Z) along ``axis`` (the classes; 1 for Z of shape (m, n_classes)).

    For training, give the logits Z to `cross_entropy` instead: it fuses softmax and the
    log, which is stabler and faster. Use this layer for probabilities at prediction time.
    """

    single_node = True

    @takes_axis
    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = _axis(axis, type(self).__name__)

    def forward(self, Z: Any) -> Tensor:
        """A = softmax(Z) along ``axis``: `gg.softmax`.  Z (m, n_classes) -> A (m, n_classes)."""
        return _Softmax.apply(Z, axis=self.axis)

    def extra_repr(self) -> str:
        """``axis=-1``, for the repr."""
        return f"axis={self.axis}"


def _axis(axis: Any, caller: str) -> int:
    """The axis of the classes, a whole number (negative ones count from the end)."""
    try:
        if isinstance(axis, bool):
            raise TypeError
        return operator.index(axis)
    except TypeError:
        raise ArgumentError(f"{caller}: axis must be a whole number (the axis of the "
                            f"classes), got {axis!r}") from None


class LogSoftmax(Module):
    """A = Z - log sum(e**Z) along ``axis``: log-probabilities, stable where log(softmax(Z))
    gives -inf (PyTorch's nn.LogSoftmax, dim=-1 here by default).

    For training on class labels, give the logits Z to `cross_entropy` (the same log-softmax
    inside, fused with the loss); this layer is for a model that outputs log-probabilities,
    as PyTorch's LogSoftmax + NLLLoss, or for beam search's scores.
    """

    single_node = True

    @takes_axis
    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = _axis(axis, type(self).__name__)

    def forward(self, Z: Any) -> Tensor:
        """A = log_softmax(Z) along ``axis``: `gg.log_softmax`.  Z (m, n_classes) ->
        A (m, n_classes)."""
        return _LogSoftmax.apply(Z, axis=self.axis)

    def extra_repr(self) -> str:
        """``axis=-1``, for the repr."""
        return f"axis={self.axis}"


def _bounds(min_val: Any, max_val: Any, caller: str) -> tuple[float, float]:
    """(min_val, max_val), finite numbers with min_val < max_val, or an `ArgumentError`."""
    low = real_number(min_val, "min_val", caller, math.isfinite, "a finite number")
    high = real_number(max_val, "max_val", caller, math.isfinite, "a finite number")
    if high <= low:
        raise ArgumentError(f"{caller}: max_val must be greater than min_val, got "
                            f"min_val={low:g} and max_val={high:g}")
    return low, high


def hardtanh(x: Any, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """x limited to [min_val, max_val], the function of `Hardtanh` (`gg.clip`, whose gradient
    is 1 at the bounds themselves; PyTorch's is 0 there).  x: any shape, kept."""
    low, high = _bounds(min_val, max_val, "hardtanh")
    return Clip.apply(x, low=low, high=high)


def relu6(x: Any) -> Tensor:
    """min(max(x, 0), 6), the function of `ReLU6` (its gradient is 1 at 0 and 6, as
    `hardtanh`'s).  x: any shape, kept."""
    return Clip.apply(x, low=0.0, high=6.0)


def _prelu(Z: Any, alpha: Any) -> Tensor:
    """Z where Z > 0, else alpha Z (`gg.where`): PReLU's one computation."""
    data = Z.data if isinstance(Z, Tensor) else Z
    if np.ndim(data) == 0 and np.ndim(alpha) == 1:  # a number's one slope: no axis added
        alpha = alpha.reshape(())
    return Where.apply(Z, Mul.apply(alpha, Z), condition=data > 0)


def prelu(x: Any, weight: Any) -> Tensor:
    """x where x > 0, else weight x: the function of `PReLU` (PyTorch's F.prelu, channels
    last). x (m, ..., n_C); weight (1,) (one slope) or (n_C,) (one per channel, the last
    axis), or a number; dweight is the sum of dA x where x <= 0."""
    x = x if isinstance(x, Tensor) else Tensor(array_of_numbers(x, "x", "prelu"))
    w = weight if isinstance(weight, Tensor) else array_of_numbers(weight, "weight", "prelu")
    if w.ndim > 1 or w.size != 1 and (x.ndim == 0 or x.shape[-1] != w.size):
        tip = ""
        if x.ndim > 2 and w.ndim == 1 and x.shape[1] == w.size:
            tip = (" (channels first? graphgrad's images are channels last: "
                   "x.transpose(0, 2, 3, 1))")
        raise ShapeError(f"prelu takes weight of shape (1,) or (n_C,), one slope per channel "
                         f"of x's last axis; got x {describe(x)} and weight {describe(w)}{tip}")
    return _prelu(x, w)
class Softmin(Module):
    """A = softmax(-Z) along ``axis`` (PyTorch's nn.Softmin; dim there, the last axis by
    default here): weights that favour the smallest values, as `gg.softmin`."""

    @takes_axis
    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = _axis(axis, type(self).__name__)

    def forward(self, Z: Any) -> Tensor:
        """A = softmin(Z) along ``axis``: `gg.softmin`.  Z (m, n) -> A (m, n)."""
        return softmin(Z, axis=self.axis)

    def extra_repr(self) -> str:
        """``axis=-1``, for the repr."""
        return f"axis={self.axis}"


class Hardtanh(Module):
    """A = Z limited to [min_val, max_val] (PyTorch's nn.Hardtanh, -1 and 1 by default): a
    piecewise-linear tanh. `gg.clip`, whose gradient is 1 from min_val to max_val, the bounds
    included (PyTorch's is 0 at the bounds themselves), and 0 outside.
    ``inplace``: PyTorch's flag, kept and shown; the output is a new tensor all the same."""

    single_node = True

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0,
                 inplace: bool = False) -> None:
        super().__init__()
        self.inplace = _inplace(inplace, type(self).__name__)
        self.min_val, self.max_val = _bounds(min_val, max_val, type(self).__name__)

    def forward(self, Z: Any) -> Tensor:
        """A = clip(Z, min_val, max_val): `gg.clip`.  Z (m, n) -> A (m, n)."""
        return Clip.apply(Z, low=self.min_val, high=self.max_val)

    def extra_repr(self) -> str:
        """``min_val=-1, max_val=1``, for the repr."""
        return _shown(f"min_val={self.min_val:g}, max_val={self.max_val:g}", self.inplace)


class ReLU6(Hardtanh):
    """A = min(max(Z, 0), 6): MobileNetV2's activation (PyTorch's nn.ReLU6, Keras's
    ReLU(max_value=6)), a ReLU that stays small enough for low-precision arithmetic. Its
    gradient is `Hardtanh`'s: 1 at 0 and 6 themselves (PyTorch's, and `gg.relu`'s at 0, is 0
    there). ``inplace``: PyTorch's flag, kept and shown; the output is a new tensor all the same."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        """Nothing, or ``inplace=True``: ReLU6 has no other settings."""
        return _shown("", self.inplace)


class PReLU(Module):
    """A = Z where Z > 0, else alpha Z, with alpha learned (PyTorch's nn.PReLU, Keras's PReLU):
    one slope for every unit (num_parameters=1) or one per channel, the last axis, as the
    channels of images (m, n_H, n_W, n_C) are.

    Args:
        num_parameters: 1, or the size of the input's last axis (n_C, n).
        init: alpha's starting value, 0.25 as in PyTorch.
        dtype: np.float64 (default) or np.float32.

    alpha is a parameter of shape (num_parameters,), in ``state_dict()`` as ``alpha``; its
    gradient is the sum of dA Z where Z <= 0. Weight decay pulls it toward 0, a ReLU: leave
    it out of the decayed parameters (a parameter group), as PyTorch's documentation says.
    Shapes: Z (m, ..., num_parameters) (any shape with 1) -> the same shape.
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25,
                 dtype: Any = np.float64) -> None:
        super().__init__()
        caller = type(self).__name__
        self.num_parameters = whole_number(num_parameters, "num_parameters", caller)
        init = real_number(init, "init", caller, math.isfinite, "a finite number")
        dtype = float_dtype(dtype, caller)
        self.alpha = Parameter(np.full(self.num_parameters, init, dtype=dtype))

    def forward(self, Z: Any) -> Tensor:
        """A = Z where Z > 0, else alpha Z (`gg.where`).  Z (m, ..., n_C) -> the same shape."""
        Z = as_data_of(Z, self.alpha.data.dtype, self)
        data = Z.data if isinstance(Z, Tensor) else Z
        n = self.num_parameters
        if n != 1 and (data.ndim == 0 or data.shape[-1] != n):
            shown = describe(Z) if isinstance(Z, Tensor) else f"shape {data.shape}"
            tip = ""
            if data.ndim > 2 and data.shape[1] == n:
                tip = (" (channels first? graphgrad's images are channels last: "
                       "Z.transpose(0, 2, 3, 1))")
            raise ShapeError(f"{self._label()} has one slope per channel, the last axis, "
                             f"and takes Z of shape (..., {n}), got {shown}{tip}")
        return _prelu(Z, self.alpha)

    def extra_repr(self) -> str:
        """``num_parameters=1``, for the repr."""
        return f"num_parameters={self.num_parameters}"
