"""Layers that cut images (m, n_H, n_W, n_C) into patches and put them back, channels last:
`Unfold` and `Fold` (im2col and col2im, PyTorch's nn.Unfold and nn.Fold) and `PixelShuffle`
and `PixelUnshuffle` (ESPCN's sub-pixel convolution and its inverse), on the ops of
`graphgrad.ops.patches`, where the layouts are described. Depends on `nn.module`,
`ops.patches`, `tensor`, `errors`.
"""
from __future__ import annotations

from typing import Any

from graphgrad.errors import whole_number
from graphgrad.nn.module import Module
from graphgrad.ops.patches import Fold as _Fold
from graphgrad.ops.patches import Unfold as _Unfold
from graphgrad.ops.patches import pair_setting, pixel_shuffle, pixel_unshuffle
from graphgrad.tensor import Tensor

__all__ = ["Fold", "PixelShuffle", "PixelUnshuffle", "Unfold"]


def _shown(pair: tuple[int, int]) -> Any:
    return pair[0] if pair[0] == pair[1] else pair


class _Windows(Module):
    """What `Unfold` and `Fold` share: the windows' settings, checked, and the repr."""

    single_node = True

    def __init__(self, kernel_size: Any, *, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1) -> None:
        super().__init__()
        caller = type(self).__name__
        self.kernel_size = pair_setting(kernel_size, "kernel_size", caller, 1)
        self.stride = pair_setting(stride, "stride", caller, 1)
        self.padding = pair_setting(padding, "padding", caller, 0)
        self.dilation = pair_setting(dilation, "dilation", caller, 1)

    def _attrs(self) -> dict:
        return {"kernel_size": self.kernel_size, "stride": self.stride, "pad": self.padding,
                "dilation": self.dilation}

    def extra_repr(self) -> str:
        """``kernel_size=3, stride=1, padding=0, dilation=1`` (a pair where the axes differ),
        for the repr."""
        return (f"kernel_size={_shown(self.kernel_size)}, stride={_shown(self.stride)}, "
                f"padding={_shown(self.padding)}, dilation={_shown(self.dilation)}")


class Unfold(_Windows):
    """im2col as a layer (PyTorch's nn.Unfold, channels last): every window of the images as
    one row, its pixels row by row, each pixel's channels together (see `gg.unfold`).

    Args:
        kernel_size: (f_h, f_w), or f for f x f windows.
        stride: s, the step between windows (or a pair).
        padding: p, the zeros around each image (or a pair).
        dilation: d, the step between a window's pixels (or a pair).

    stride, padding and dilation are keywords only (PyTorch's nn.Unfold orders them dilation,
    padding, stride; a setting given by position could be read as another).
    No parameters. Shapes: A (m, n_H_prev, n_W_prev, n_C) -> (m, L, f_h f_w n_C), L = n_H n_W,
    n_H = floor((n_H_prev + 2 p_h - d_h (f_h - 1) - 1) / s_h) + 1.
    """

    def forward(self, A: Any) -> Tensor:
        """Every window of A as a row.  A (m, n_H_prev, n_W_prev, n_C) -> (m, L, f_h f_w n_C)."""
        return _Unfold.apply(A, **self._attrs())


class Fold(_Windows):
    """col2im as a layer (PyTorch's nn.Fold, channels last): each row added back at the
    pixels of its window, overlaps adding up (see `gg.fold`); `Unfold`'s adjoint.

    Args:
        output_size: (n_H_prev, n_W_prev), the images' size, or one number for both.
        kernel_size, stride, padding, dilation: the windows, as for `Unfold` (the last three
            keywords only).

    No parameters. Shapes: Y (m, L, f_h f_w n_C) -> (m, n_H_prev, n_W_prev, n_C).
    """

    def __init__(self, output_size: Any, kernel_size: Any, *, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1) -> None:
        super().__init__(kernel_size, stride=stride, padding=padding, dilation=dilation)
        self.output_size = pair_setting(output_size, "output_size", "Fold", 1)

    def forward(self, Y: Any) -> Tensor:
        """Each row of Y added back at its window.  Y (m, L, f_h f_w n_C) ->
        (m, n_H_prev, n_W_prev, n_C)."""
        return _Fold.apply(Y, output_size=self.output_size, **self._attrs())

    def extra_repr(self) -> str:
        """``output_size=(4, 5), kernel_size=2, ...``, for the repr."""
        return f"output_size={_shown(self.output_size)}, {super().extra_repr()}"


class PixelShuffle(Module):
    """ESPCN's sub-pixel convolution (PyTorch's nn.PixelShuffle, channels last): each
    pixel's n_C r^2 channels spread over an r x r block, in PyTorch's channel order (see
    `gg.pixel_shuffle`).

    Args:
        upscale_factor: r, how many times larger the images become.

    No parameters. Shapes: A (m, n_H, n_W, n_C r^2) -> (m, r n_H, r n_W, n_C).
    """

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = whole_number(upscale_factor, "upscale_factor", "PixelShuffle", 1)

    def forward(self, A: Any) -> Tensor:
        """A (m, n_H, n_W, n_C r^2) -> (m, r n_H, r n_W, n_C)."""
        return pixel_shuffle(A, self.upscale_factor)

    def extra_repr(self) -> str:
        """``upscale_factor=2``, for the repr."""
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """The inverse of `PixelShuffle` (PyTorch's nn.PixelUnshuffle, channels last): each
    r x r block of pixels becomes one pixel of r^2 times the channels.

    Args:
        downscale_factor: r, how many times smaller the images become.

    No parameters. Shapes: A (m, r n_H, r n_W, n_C) -> (m, n_H, n_W, n_C r^2).
    """

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = whole_number(downscale_factor, "downscale_factor",
                                             "PixelUnshuffle", 1)

    def forward(self, A: Any) -> Tensor:
        """A (m, r n_H, r n_W, n_C) -> (m, n_H, n_W, n_C r^2)."""
        return pixel_unshuffle(A, self.downscale_factor)

    def extra_repr(self) -> str:
        """``downscale_factor=2``, for the repr."""
        return f"downscale_factor={self.downscale_factor}"
