"""Padding layers, PyTorch's, on images (m, n_H, n_W, n_C) and sequences (m, n_L, n_C),
channels last as the course's: `ZeroPad2d` (the course's zero_pad as a layer), `ConstantPad2d`,
`ReflectionPad2d`, `ReplicationPad2d` and `CircularPad2d`, and their 1-D forms.

Each is one `gg.pad` node (`ops.shape.Pad`) in one of its modes: zeros or a constant
("constant"), the image mirrored about its edge pixels ("reflect"), the edge pixels repeated
("edge", PyTorch's "replicate"), or the other side continued ("wrap", PyTorch's "circular");
a border pixel's gradient goes to the pixel it copies. ``padding`` is one whole number for
every side or PyTorch's tuple, the last axis first: (left, right) for sequences, (left, right,
top, bottom) for images, where left and right pad the width (n_W) and top and bottom the
height (n_H). Depends on `nn.module`, `ops.shape`, `tensor`, `errors`.
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from graphgrad.errors import ArgumentError, ShapeError, setting_text, whole_number
from graphgrad.nn.module import Module, numbers_of
from graphgrad.ops.shape import Pad
from graphgrad.tensor import Tensor

__all__ = ["CircularPad1d", "CircularPad2d", "ConstantPad1d", "ConstantPad2d", "ReflectionPad1d",
           "ReflectionPad2d", "ReplicationPad1d", "ReplicationPad2d", "ZeroPad1d", "ZeroPad2d"]

_SIDES = {1: "(left, right)", 2: "(left, right, top, bottom)"}
_LAYOUTS = {1: "sequences A of shape (m, n_L, n_C)", 2: "images A of shape (m, n_H, n_W, n_C)"}


def padding_sides(padding: Any, dims: int, caller: str) -> tuple[int, ...]:
    """``padding`` as PyTorch's tuple of 2 ``dims`` whole numbers >= 0, the last axis first:
    (left, right) or (left, right, top, bottom); one number pads every side alike."""
    sides = 2 * dims
    values = tuple(padding) if isinstance(padding, (tuple, list)) else (padding,) * sides
    rule = f"a whole number >= 0 or {sides} of them, {_SIDES[dims]}"
    if len(values) != sides:
        raise ArgumentError(f"{caller}: padding must be {rule}, got {setting_text(padding)}")
    checked = []
    for value in values:
        try:
            checked.append(whole_number(value, "padding", caller, 0))
        except ArgumentError:
            crop = (" (PyTorch's negative padding crops: slice A instead)"
                    if isinstance(value, numbers.Integral) and value < 0 else "")
            raise ArgumentError(f"{caller}: padding must be {rule}, got "
                                f"{setting_text(padding)}{crop}") from None
    return tuple(checked)


class _Pad(Module):
    """What the padding layers share: the sides, the input's check and the one Pad node."""

    single_node = True
    dims: int  # 1 (sequences) or 2 (images)
    mode: str  # gg.pad's (numpy's) name of the mode

    def __init__(self, padding: Any) -> None:
        super().__init__()
        self.padding = padding_sides(padding, self.dims, type(self).__name__)

    def _fill(self) -> dict:
        return {}

    def forward(self, A: Any) -> Tensor:
        """A with its border: (m, n_L_prev, n_C) -> (m, left + n_L_prev + right, n_C), or
        (m, n_H_prev, n_W_prev, n_C) -> (m, top + n_H_prev + bottom, left + n_W_prev + right,
        n_C)."""
        if not isinstance(A, Tensor):
            A = numbers_of(A, self)
            if A.dtype.kind != "f":  # numbers (bools too) become float64; floats keep theirs
                A = A.astype(np.float64)
        shape = A.shape
        if len(shape) != self.dims + 2:
            raise ShapeError(f"{self._label()} takes {_LAYOUTS[self.dims]}, channels last, got "
                             f"shape {shape}{self._tip(len(shape))}")
        left, right = self.padding[:2]
        widths = ((left, right), (0, 0))  # the last axis first, as PyTorch's tuple
        if self.dims == 2:
            widths = (self.padding[2:], *widths)
        return Pad.apply(A, pad_width=((0, 0), *widths), mode=self.mode, **self._fill())

    def _tip(self, ndim: int) -> str:
        """What an input of ``ndim`` axes probably lacks, or is instead."""
        other = type(self).__name__[:-2] + ("2d" if self.dims == 1 else "1d")
        if self.dims == 1:
            return {2: " (one sequence? add the batch axis: A[None]; sequences of one channel? "
                       "add the channel axis: A[..., None])",
                    4: f" (images? use {other})"}.get(ndim, "")
        return {3: " (one image? add the batch axis: A[None]; images of one channel? add the "
                   f"channel axis: A[..., None]; sequences? use {other})",
                2: " (one image of one channel? add both axes: A[None, :, :, None])"
                }.get(ndim, "")

    def extra_repr(self) -> str:
        """``padding=1`` or ``padding=(1, 2, 0, 0)`` (and ``value``), for the repr."""
        same = len(set(self.padding)) == 1
        return f"padding={self.padding[0] if same else self.padding}"


class _ConstantPad(_Pad):
    mode = "constant"
    show_value = True  # in the repr: a ZeroPad's is 0

    def __init__(self, padding: Any, value: float) -> None:
        super().__init__(padding)
        caller = type(self).__name__
        if not isinstance(value, numbers.Real) or isinstance(value, (bool, np.bool_)):
            raise ArgumentError(f"{caller}: value must be a real number, the border's value, "
                                f"got {setting_text(value)}")
        self.value = value

    def _fill(self) -> dict:
        return {"constant_values": self.value}

    def extra_repr(self) -> str:
        """``padding=1, value=0.5`` (a ZeroPad's without the value), for the repr."""
        # str of a numpy number: its repr (numpy 2) is np.float32(0.5)
        shown = str(self.value) if isinstance(self.value, np.generic) else repr(self.value)
        value = f", value={shown}" if self.show_value else ""
        return super().extra_repr() + value


class ConstantPad2d(_ConstantPad):
    """Images with a border of ``value`` (PyTorch's nn.ConstantPad2d).

    Args:
        padding: one whole number for every side, or (left, right, top, bottom): columns
            added left and right (n_W), rows on top and at the bottom (n_H).
        value: the border's value.

    No parameters. Shapes: A (m, n_H_prev, n_W_prev, n_C) ->
    (m, top + n_H_prev + bottom, left + n_W_prev + right, n_C).
    """

    dims = 2


class ConstantPad1d(_ConstantPad):
    """Sequences with ``value`` at both ends (PyTorch's nn.ConstantPad1d).

    Args:
        padding: one whole number for both ends, or (left, right): steps added before the
            first and after the last.
        value: the border's value.

    No parameters. Shapes: A (m, n_L_prev, n_C) -> (m, left + n_L_prev + right, n_C).
    """

    dims = 1


class ZeroPad2d(ConstantPad2d):
    """Images with a border of zeros: the course's zero_pad as a layer (PyTorch's
    nn.ZeroPad2d, Keras's ZeroPadding2D). ``ZeroPad2d(p)`` is the course's
    ``zero_pad(X, p)``, ``np.pad(X, ((0, 0), (p, p), (p, p), (0, 0)))``.

    Args:
        padding: one whole number p for every side, or (left, right, top, bottom).

    No parameters. Shapes: A (m, n_H_prev, n_W_prev, n_C) -> (m, n_H_prev + 2p,
    n_W_prev + 2p, n_C), or (m, top + n_H_prev + bottom, left + n_W_prev + right, n_C).
    """

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    show_value = False


class ZeroPad1d(ConstantPad1d):
    """Sequences with zeros at both ends (PyTorch's nn.ZeroPad1d, Keras's ZeroPadding1D).

    Args:
        padding: one whole number for both ends, or (left, right).

    No parameters. Shapes: A (m, n_L_prev, n_C) -> (m, left + n_L_prev + right, n_C).
    """

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    show_value = False


class ReflectionPad2d(_Pad):
    """Images mirrored about their edge pixels (PyTorch's nn.ReflectionPad2d, gg.pad's
    "reflect"): a row [1 2 3] padded by 2 on the left is 3 2 | 1 2 3.

    Args:
        padding: one whole number for every side, or (left, right, top, bottom).

    No parameters. Shapes: A (m, n_H_prev, n_W_prev, n_C) ->
    (m, top + n_H_prev + bottom, left + n_W_prev + right, n_C).
    A border wider than the axis goes on copying, as `gg.pad`'s does (PyTorch refuses one
    for "reflect" and "circular"). Each copy's gradient goes to the element it copies.
    """

    dims = 2
    mode = "reflect"


class ReflectionPad1d(_Pad):
    """Sequences mirrored about their first and last steps (PyTorch's nn.ReflectionPad1d):
    [1 2 3] padded (2, 1) is 3 2 | 1 2 3 | 2.

    Args:
        padding: one whole number for both ends, or (left, right).

    No parameters. Shapes: A (m, n_L_prev, n_C) -> (m, left + n_L_prev + right, n_C).
    A border wider than the axis goes on copying, as `gg.pad`'s does (PyTorch refuses one
    for "reflect" and "circular"). Each copy's gradient goes to the element it copies.
    """

    dims = 1
    mode = "reflect"


class ReplicationPad2d(_Pad):
    """Images with their edge pixels repeated (PyTorch's nn.ReplicationPad2d, gg.pad's
    "edge"): a row [1 2 3] padded by 2 on the left is 1 1 | 1 2 3.

    Args:
        padding: one whole number for every side, or (left, right, top, bottom).

    No parameters. Shapes: A (m, n_H_prev, n_W_prev, n_C) ->
    (m, top + n_H_prev + bottom, left + n_W_prev + right, n_C). An edge pixel's gradient is
    its own plus its copies'.
    """

    dims = 2
    mode = "edge"


class ReplicationPad1d(_Pad):
    """Sequences with their first and last steps repeated (PyTorch's nn.ReplicationPad1d):
    [1 2 3] padded (2, 1) is 1 1 | 1 2 3 | 3.

    Args:
        padding: one whole number for both ends, or (left, right).

    No parameters. Shapes: A (m, n_L_prev, n_C) -> (m, left + n_L_prev + right, n_C).
    """

    dims = 1
    mode = "edge"


class CircularPad2d(_Pad):
    """Images continued periodically, each side by the other (PyTorch's nn.CircularPad2d,
    gg.pad's "wrap"): a row [1 2 3] padded by 2 on the left is 2 3 | 1 2 3.

    Args:
        padding: one whole number for every side, or (left, right, top, bottom).

    No parameters. Shapes: A (m, n_H_prev, n_W_prev, n_C) ->
    (m, top + n_H_prev + bottom, left + n_W_prev + right, n_C).
    A border wider than the axis goes on copying, as `gg.pad`'s does (PyTorch refuses one
    for "reflect" and "circular"). Each copy's gradient goes to the element it copies.
    """

    dims = 2
    mode = "wrap"


class CircularPad1d(_Pad):
    """Sequences continued periodically, each end by the other (PyTorch's nn.CircularPad1d):
    [1 2 3] padded (2, 1) is 2 3 | 1 2 3 | 1.

    Args:
        padding: one whole number for both ends, or (left, right).

    No parameters. Shapes: A (m, n_L_prev, n_C) -> (m, left + n_L_prev + right, n_C).
    A border wider than the axis goes on copying, as `gg.pad`'s does (PyTorch refuses one
    for "reflect" and "circular"). Each copy's gradient goes to the element it copies.
    """

    dims = 1
    mode = "wrap"
