"""Images cut into patches and put back, channels last as in the course: A of shape
(m, n_H, n_W, n_C).

`Unfold` is im2col as an op (PyTorch's F.unfold): every f_h x f_w window of the padded image,
windows ``stride`` pixels apart, their pixels ``dilation`` apart, as one row of f_h f_w n_C
values, the window's pixels row by row, each pixel's channels together:

    Y = unfold(A): (m, n_H_prev, n_W_prev, n_C) -> (m, L, f_h f_w n_C), L = n_H n_W,
    n_H = floor((n_H_prev + 2 p_h - d_h (f_h - 1) - 1) / s_h) + 1 (n_W likewise),
    Y[i, h n_W + w, (a f_w + b) n_C + c] = A_padded[i, h s_h + a d_h, w s_w + b d_w, c].

So a convolution is one product, ``unfold(A, f) @ W.reshape(-1, n_C)`` reshaped to
(m, n_H, n_W, n_C), with the course's W (f, f, n_C_prev, n_C). PyTorch's F.unfold of the
NCHW image, (N, C f_h f_w, L), orders each column channel first: it is
``Y.reshape(m, L, f_h, f_w, n_C).transpose(0, 4, 2, 3, 1).reshape(m, n_C * f_h * f_w, L)``.
`Fold` is col2im (F.fold), its adjoint: each row added back at the pixels its window covers,
overlaps adding up, the padding dropped. Each is the other's backward, so second derivatives
work, and ``fold(unfold(A))`` is A times how many windows cover each pixel.

`pixel_shuffle` (ESPCN's sub-pixel convolution, PyTorch's F.pixel_shuffle) turns n_C r^2
channels into an image r times larger, and `pixel_unshuffle` back; both are a reshape and a
transpose, in PyTorch's channel order once NCHW is transposed to NHWC. Depends on
`function`, `ops.shape`, `ops.windows`, `tensor`, `errors`.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from graphgrad.errors import (
    ShapeError,
    array_of_numbers,
    describe,
    whole_number,
)
from graphgrad.function import Function
from graphgrad.ops.shape import Reshape, Transpose
from graphgrad.ops.windows import Pair, _check_images, _padded, pair_setting
from graphgrad.tensor import Tensor


def _blocks(size: Pair, kernel_size: Pair, stride: Pair, pad: Pair, dilation: Pair) -> Pair:
    """(n_H, n_W), the windows along each axis: floor((n + 2p - d (f - 1) - 1) / s) + 1."""
    return tuple((n + 2 * p - d * (f - 1) - 1) // s + 1  # type: ignore[return-value]
                 for n, f, s, p, d in zip(size, kernel_size, stride, pad, dilation))


def _check_blocks(size: Pair, kernel_size: Pair, stride: Pair, pad: Pair, dilation: Pair,
                  images: str) -> Pair:
    """The windows along each axis, or an error if a window does not fit."""
    n_h, n_w = _blocks(size, kernel_size, stride, pad, dilation)
    if n_h < 1 or n_w < 1:
        span = tuple(d * (f - 1) + 1 for f, d in zip(kernel_size, dilation))
        raise ValueError(
            f"a {kernel_size[0]} x {kernel_size[1]} window (dilation {dilation}: it spans "
            f"{span[0]} x {span[1]} pixels) does not fit in {images} of {size[0]} x {size[1]} "
            f"pixels with padding {pad}: n_H = floor((n_H_prev + 2 p - d (f - 1) - 1) / s) + 1 "
            f"= {n_h} and n_W = {n_w}; pad more or use a smaller window")
    return n_h, n_w


class Unfold(Function):
    """Y = every window of A as a row (im2col): Y[i, h n_W + w] = the f_h x f_w window (h, w)
    of the padded A[i], its pixels ``dilation`` apart, flattened (f_h, f_w, n_C);
    dA = Fold(dY), each row added back at its window's pixels"""

    @staticmethod
    def forward(ctx, x, kernel_size, stride=(1, 1), pad=(0, 0), dilation=(1, 1)):
        _check_images(x, "unfold")
        n_h, n_w = _check_blocks(x.shape[1:3], kernel_size, stride, pad, dilation, "images")
        ctx.settings = {"output_size": x.shape[1:3], "kernel_size": kernel_size,
                        "stride": stride, "pad": pad, "dilation": dilation}
        padded = _padded(x, pad)
        m, _, _, channels = x.shape
        f_h, f_w = kernel_size
        s_m, s_h, s_w, s_c = padded.strides
        windows = as_strided(padded, (m, n_h, n_w, f_h, f_w, channels),
                             (s_m, s_h * stride[0], s_w * stride[1], s_h * dilation[0],
                              s_w * dilation[1], s_c), writeable=False)
        return windows.reshape(m, n_h * n_w, f_h * f_w * channels)  # a copy: windows overlap

    @staticmethod
    def backward(ctx, grad):
        return Fold.call(grad, **ctx.settings)


class Fold(Function):
    """A = each row of Y added back at the pixels of its window (col2im), in images of
    ``output_size`` (n_H_prev, n_W_prev), overlaps adding up and the padding dropped: the
    adjoint of `Unfold`.  dY = Unfold(dA)"""

    @staticmethod
    def forward(ctx, y, output_size, kernel_size, stride=(1, 1), pad=(0, 0), dilation=(1, 1)):
        f_h, f_w = kernel_size
        if y.ndim != 3:
            tip = (" (one image's columns? add the batch axis: Y[None])" if y.ndim == 2 else "")
            raise ValueError(f"fold takes columns Y of shape (m, L, f_h f_w n_C), as unfold "
                             f"gives them; got shape {y.shape}{tip}")
        n_h, n_w = _check_blocks(output_size, kernel_size, stride, pad, dilation,
                                 "the output images")
        m, blocks, width = y.shape
        if blocks != n_h * n_w or width % (f_h * f_w) or not width:
            raise ValueError(
                f"fold of {f_h} x {f_w} windows into {output_size[0]} x {output_size[1]} images "
                f"(stride {stride}, padding {pad}, dilation {dilation}) takes Y of shape "
                f"(m, L = {n_h} * {n_w} = {n_h * n_w}, f_h f_w n_C = {f_h * f_w} n_C); got "
                f"{y.shape}: give the settings unfold was given")
        channels = width // (f_h * f_w)
        ctx.settings = {"kernel_size": kernel_size, "stride": stride, "pad": pad,
                        "dilation": dilation}
        pieces = y.reshape(m, n_h, n_w, f_h, f_w, channels)
        p_h, p_w = pad
        height, breadth = output_size[0] + 2 * p_h, output_size[1] + 2 * p_w
        out = np.zeros((m, height, breadth, channels), dtype=y.dtype)
        # One strided add per window position (f_h f_w of them), each over every window.
        s_h, s_w = stride
        d_h, d_w = dilation
        for a in range(f_h):
            rows = slice(a * d_h, a * d_h + s_h * (n_h - 1) + 1, s_h)
            for b in range(f_w):
                out[:, rows, b * d_w:b * d_w + s_w * (n_w - 1) + 1:s_w] += pieces[:, :, :, a, b]
        return out[:, p_h:height - p_h, p_w:breadth - p_w]

    @staticmethod
    def backward(ctx, grad):
        return Unfold.call(grad, **ctx.settings)


def _attrs(kernel_size: Any, stride: Any, padding: Any, dilation: Any, caller: str) -> dict:
    return {"kernel_size": pair_setting(kernel_size, "kernel_size", caller, 1),
            "stride": pair_setting(stride, "stride", caller, 1),
            "pad": pair_setting(padding, "padding", caller, 0),
            "dilation": pair_setting(dilation, "dilation", caller, 1)}


def unfold(A: Any, kernel_size: int | tuple[int, int], *, stride: int | tuple[int, int] = 1,
           padding: int | tuple[int, int] = 0, dilation: int | tuple[int, int] = 1) -> Tensor:
    """im2col: every window of the images as one row (PyTorch's F.unfold, channels last).

    ``stride``, ``padding`` and ``dilation`` are keywords only: PyTorch's F.unfold takes them
    in the order (dilation, padding, stride), graphgrad's pooling and convolutions (stride,
    padding, ..., dilation), so a setting given by position could be read as another.

    Args:
        A: images (m, n_H_prev, n_W_prev, n_C), channels last.
        kernel_size: (f_h, f_w), or f for f x f windows.
        stride: s, the step between windows (or a pair (s_h, s_w)).
        padding: p, the zeros around each image (or a pair (p_h, p_w)).
        dilation: d, the step between a window's pixels (or a pair); 1 for adjacent pixels.

    Returns:
        Y of shape (m, L, f_h f_w n_C), L = n_H n_W windows row by row, n_H =
        floor((n_H_prev + 2 p_h - d_h (f_h - 1) - 1) / s_h) + 1; each row a window's pixels
        row by row, each pixel's n_C channels together, so ``unfold(A, f) @ W.reshape(-1,
        n_C)`` is the course's convolution by W (f, f, n_C_prev, n_C). PyTorch's F.unfold of
        ``A.transpose(0, 3, 1, 2)`` is ``Y.reshape(m, L, f_h, f_w, n_C).transpose(0, 4, 2, 3,
        1).reshape(m, n_C * f_h * f_w, L)``.
    """
    return Unfold.apply(A, **_attrs(kernel_size, stride, padding, dilation, "unfold"))


def fold(Y: Any, output_size: int | tuple[int, int], kernel_size: int | tuple[int, int], *,
         stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
         dilation: int | tuple[int, int] = 1) -> Tensor:
    """col2im: each row of Y added back at the pixels of its window (PyTorch's F.fold,
    channels last), the adjoint of `unfold`; where windows overlap their values add up.
    ``stride``, ``padding`` and ``dilation`` are keywords only, as for `unfold`.

    Args:
        Y: columns (m, L, f_h f_w n_C), laid out as `unfold` gives them.
        output_size: (n_H_prev, n_W_prev), the images' size, or one number for both.
        kernel_size, stride, padding, dilation: the windows, as for `unfold`.

    Returns:
        images (m, n_H_prev, n_W_prev, n_C). ``fold(unfold(A, ...), A.shape[1:3], ...)`` is A
        times the number of windows that cover each pixel (A itself for windows side by side,
        stride = kernel_size). PyTorch's columns (N, C f_h f_w, L) are Y =
        ``cols.reshape(m, n_C, f_h, f_w, L).transpose(0, 4, 2, 3, 1).reshape(m, L, -1)``.
    """
    attrs = _attrs(kernel_size, stride, padding, dilation, "fold")
    return Fold.apply(Y, output_size=pair_setting(output_size, "output_size", "fold", 1),
                      **attrs)


def _images_shape(A: Any, caller: str) -> tuple[int, ...]:
    shape = A.shape if isinstance(A, Tensor) else array_of_numbers(A, "A", caller).shape
    if len(shape) != 4:
        tip = " (one image? add the batch axis: A[None])" if len(shape) == 3 else ""
        shown = describe(A) if isinstance(A, Tensor) else f"shape {shape}"
        raise ShapeError(f"{caller} takes images A of shape (m, n_H, n_W, n_C), channels last, "
                         f"got {shown}{tip}")
    return shape


def pixel_shuffle(A: Any, upscale_factor: int) -> Tensor:
    """ESPCN's sub-pixel convolution (PyTorch's F.pixel_shuffle, channels last): each pixel's
    n_C r^2 channels spread over an r x r block of an image r times larger.

    A: (m, n_H, n_W, n_C r^2) -> (m, r n_H, r n_W, n_C), r = ``upscale_factor``:
    out[i, h r + a, w r + b, c] = A[i, h, w, c r^2 + a r + b], PyTorch's channel order (its
    NCHW output transposed to NHWC). A reshape and a transpose; `pixel_unshuffle` undoes it.
    """
    r = whole_number(upscale_factor, "upscale_factor", "pixel_shuffle", 1)
    m, n_h, n_w, channels = _images_shape(A, "pixel_shuffle")
    if channels % (r * r):
        raise ShapeError(
            f"pixel_shuffle by {r} takes n_C r^2 channels, a multiple of {r * r}; A has "
            f"{channels}: the convolution before it needs n_C * {r * r} filters")
    n_c = channels // (r * r)
    blocks = Reshape.apply(A, shape=(m, n_h, n_w, n_c, r, r))
    rows = Transpose.apply(blocks, axes=(0, 1, 4, 2, 5, 3))  # (m, n_H, r, n_W, r, n_C)
    return Reshape.apply(rows, shape=(m, n_h * r, n_w * r, n_c))


def pixel_unshuffle(A: Any, downscale_factor: int) -> Tensor:
    """The inverse of `pixel_shuffle` (PyTorch's F.pixel_unshuffle, channels last): each
    r x r block of pixels becomes one pixel of r^2 times the channels.

    A: (m, r n_H, r n_W, n_C) -> (m, n_H, n_W, n_C r^2), r = ``downscale_factor``:
    out[i, h, w, c r^2 + a r + b] = A[i, h r + a, w r + b, c].
    """
    r = whole_number(downscale_factor, "downscale_factor", "pixel_unshuffle", 1)
    m, height, width, n_c = _images_shape(A, "pixel_unshuffle")
    if height % r or width % r:
        raise ShapeError(
            f"pixel_unshuffle by {r} takes images whose height and width are multiples of {r}; "
            f"A's are {height} x {width}: crop or pad them to a multiple of {r}")
    n_h, n_w = height // r, width // r
    blocks = Reshape.apply(A, shape=(m, n_h, r, n_w, r, n_c))
    channels = Transpose.apply(blocks, axes=(0, 1, 3, 5, 2, 4))  # (m, n_H, n_W, n_C, r, r)
    return Reshape.apply(channels, shape=(m, n_h, n_w, n_c * r * r))
