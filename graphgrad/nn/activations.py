"""Activation layers: the course's g(z) as modules, to put between layers in a `Sequential`.

Each is a thin module over the engine's op of the same name (`gg.sigmoid`, `gg.tanh`,
`gg.relu`, `gg.leaky_relu`, `gg.softmax`, and the later networks' `gg.softplus`, `gg.elu`,
`gg.silu`, `gg.gelu`), so its node in a picture is that op, inside the layer's cluster.
Shapes are unchanged: (m, n) -> (m, n). Depends on `ops`, `nn.module`.
"""
from __future__ import annotations

import math
import operator
from typing import Any

from graphgrad.errors import ArgumentError, real_number
from graphgrad.nn.module import Module
from graphgrad.ops.activations import ELU as _ELU
from graphgrad.ops.activations import ELU_ALPHA_RULE, gelu_form, gelu_op
from graphgrad.ops.activations import SiLU as _SiLU
from graphgrad.ops.activations import Softplus as _Softplus
from graphgrad.ops.elementwise import LeakyReLU as _LeakyReLU
from graphgrad.ops.elementwise import ReLU as _ReLU
from graphgrad.ops.elementwise import Sigmoid as _Sigmoid
from graphgrad.ops.elementwise import Tanh as _Tanh
from graphgrad.ops.softmax import Softmax as _Softmax
from graphgrad.tensor import Tensor


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
    """A = max(Z, 0): the course's default hidden activation."""

    single_node = True

    def forward(self, Z: Any) -> Tensor:
        """A = max(Z, 0), elementwise: `gg.relu`.  Z (m, n) -> A (m, n)."""
        return _ReLU.apply(Z)


class LeakyReLU(Module):
    """A = Z where Z > 0, else alpha * Z."""

    single_node = True

    def __init__(self, alpha: float = 0.01) -> None:
        super().__init__()
        self.alpha = real_number(alpha, "alpha", "LeakyReLU", math.isfinite, "a finite number")

    def forward(self, Z: Any) -> Tensor:
        """A = Z where Z > 0, else alpha * Z: `gg.leaky_relu`.  Z (m, n) -> A (m, n)."""
        return _LeakyReLU.apply(Z, alpha=self.alpha)

    def extra_repr(self) -> str:
        """``alpha=0.01``, for the repr."""
        return f"alpha={self.alpha:g}"


class Softplus(Module):
    """A = ln(1 + e**Z), a smooth ReLU, stable for any Z."""

    single_node = True

    def forward(self, Z: Any) -> Tensor:
        """A = softplus(Z), elementwise: `gg.softplus`.  Z (m, n) -> A (m, n)."""
        return _Softplus.apply(Z)


class ELU(Module):
    """A = Z where Z > 0, else alpha (e**Z - 1): the exponential linear unit (PyTorch's
    nn.ELU, alpha=1.0 by default)."""

    single_node = True

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = real_number(alpha, "alpha", "ELU", math.isfinite, ELU_ALPHA_RULE)

    def forward(self, Z: Any) -> Tensor:
        """A = Z where Z > 0, else alpha (e**Z - 1): `gg.elu`.  Z (m, n) -> A (m, n)."""
        return _ELU.apply(Z, alpha=self.alpha)

    def extra_repr(self) -> str:
        """``alpha=1``, for the repr."""
        return f"alpha={self.alpha:g}"


class SiLU(Module):
    """A = Z sigmoid(Z): the sigmoid-weighted linear unit (swish), stable for any Z."""

    single_node = True

    def forward(self, Z: Any) -> Tensor:
        """A = silu(Z), elementwise: `gg.silu`.  Z (m, n) -> A (m, n)."""
        return _SiLU.apply(Z)


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


class Softmax(Module):
    """A = e**Z / sum(e**Z) along ``axis`` (the classes; 1 for Z of shape (m, n_classes)).

    For training, give the logits Z to `cross_entropy` instead: it fuses softmax and the
    log, which is stabler and faster. Use this layer for probabilities at prediction time.
    """

    single_node = True

    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        try:
            if isinstance(axis, bool):
                raise TypeError
            self.axis = operator.index(axis)
        except TypeError:
            raise ArgumentError(f"Softmax: axis must be a whole number (the axis of the "
                                f"classes), got {axis!r}") from None

    def forward(self, Z: Any) -> Tensor:
        """A = softmax(Z) along ``axis``: `gg.softmax`.  Z (m, n_classes) -> A (m, n_classes)."""
        return _Softmax.apply(Z, axis=self.axis)

    def extra_repr(self) -> str:
        """``axis=-1``, for the repr."""
        return f"axis={self.axis}"
