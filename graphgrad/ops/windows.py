"""The windows every convolution and pooling op is built on: strided read-only views of
the f x f windows of a batch of images (m, n_H, n_W, n_C), padding, im2col and its adjoint
col2im, the rule that turns a layer's ``padding`` into p, and the checks that a window fits:

    n_H = floor((n_H_prev + 2p - f) / s) + 1

A dilated window (dilation d > 1, its pixels d apart, spanning d (f - 1) + 1 of them) is the
same view with other strides: n_H = floor((n_H_prev + 2p - d (f - 1) - 1) / s) + 1.

Depends on `errors`.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from graphgrad.errors import ArgumentError, whole_number


def _output_size(size: int, f: int, stride: int, pad: int, dilation: int = 1) -> int:
    return (size + 2 * pad - dilation * (f - 1) - 1) // stride + 1


def _windows(x: np.ndarray, f_h: int, f_w: int, stride: int, dilation: int = 1) -> np.ndarray:
    """The f_h x f_w windows of x (m, H, W, C), every ``stride`` pixels, their pixels
    ``dilation`` apart, as a read-only view of shape (m, n_H, n_W, f_h, f_w, C): window
    (h, w) starts at pixel (h s, w s)."""
    m, height, width, channels = x.shape
    n_h = _output_size(height, f_h, stride, 0, dilation)
    n_w = _output_size(width, f_w, stride, 0, dilation)
    s_m, s_h, s_w, s_c = x.strides
    return as_strided(x, (m, n_h, n_w, f_h, f_w, channels),
                      (s_m, s_h * stride, s_w * stride, s_h * dilation, s_w * dilation, s_c),
                      writeable=False)


def _padded(x: np.ndarray, pads: tuple[int, int], value: float = 0.0) -> np.ndarray:
    """The course's zero_pad: p_h rows and p_w columns of ``value`` on each side of each
    image (zeros, or -inf around what max pooling reads)."""
    p_h, p_w = pads
    if not (p_h or p_w):
        return x
    return np.pad(x, ((0, 0), (p_h, p_h), (p_w, p_w), (0, 0)), constant_values=value)


def _im2col(x: np.ndarray, f_h: int, f_w: int, stride: int, pads: tuple[int, int],
            dilation: int = 1) -> np.ndarray:
    """Every window of the padded x as one row: (m * n_H * n_W, f_h * f_w * n_C_prev)."""
    windows = _windows(_padded(x, pads), f_h, f_w, stride, dilation)
    return windows.reshape(-1, f_h * f_w * x.shape[-1])  # a copy: the windows overlap


def _col2im(pieces: np.ndarray, x_shape: tuple, stride: int, pads: tuple[int, int],
            dilation: int = 1) -> np.ndarray:
    """The adjoint of `_windows` of the padded x: add each window's piece (m, n_H, n_W, f_h,
    f_w, C) back at the pixels it came from, in an array of shape ``x_shape`` (overlaps add
    up; what lands on the padding is dropped)."""
    m, n_h, n_w, f_h, f_w, channels = pieces.shape
    p_h, p_w = pads
    height, width = x_shape[1] + 2 * p_h, x_shape[2] + 2 * p_w
    out = np.zeros((m, height, width, channels), dtype=pieces.dtype)
    # One strided add per filter position (f * f of them), each over every window at once.
    for i in range(f_h):
        top = i * dilation
        rows = slice(top, top + stride * (n_h - 1) + 1, stride)
        for j in range(f_w):
            left = j * dilation
            out[:, rows, left:left + stride * (n_w - 1) + 1:stride] += pieces[:, :, :, i, j]
    if p_h or p_w:
        return out[:, p_h:height - p_h, p_w:width - p_w]
    return out


def padding_setting(padding: int | str, f: int, stride: int, caller: str,
                    window: str = "filter size", dilation: int = 1) -> int:
    """p from a layer's ``padding``: a whole number, "valid" (0) or "same" (p = (f - 1) / 2,
    which keeps n_H and n_W with stride 1 and odd f; p = d (f - 1) / 2 for a window dilated
    by d, which needs d (f - 1) even). The one rule of convolution and pooling layers, and
    of the pooling functions."""
    if isinstance(padding, str):
        if padding == "valid":
            return 0
        if padding == "same":
            if dilation != 1 and stride == 1 and dilation * (f - 1) % 2 == 0:
                return dilation * (f - 1) // 2
            if stride != 1 or f % 2 == 0:
                span = (f" (dilated by {dilation}: an odd span d (f - 1) + 1)" if dilation != 1
                        else "")
                raise ArgumentError(
                    f"{caller}: padding='same' needs stride 1 and an odd {window}{span}, got "
                    f"f={f}, stride={stride}; pass stride=1 with an odd f, or give the padding "
                    "as a number instead"
                )
            return dilation * (f - 1) // 2
        raise ArgumentError(f"{caller}: padding must be a number, 'valid' or 'same', got "
                            f"{padding!r}")
    return whole_number(padding, "the padding", caller, 0)


def transposed_padding_setting(padding: int | str, f: int, stride: int, output_padding: Any,
                                caller: str) -> tuple[int, int]:
    """p and output_padding of a transposed convolution from its ``padding``: a whole number
    (with ``output_padding`` as given), "valid" (0), or "same", which makes the output exactly
    s times the input (Keras's padding='same': p = ceil((f - s) / 2), output_padding =
    2p - f + s; an ``output_padding`` given with it must be that one or 0). The one rule of
    `gg.conv_transpose2d` and `nn.ConvTranspose2d`."""
    if padding != "same":
        pad = padding_setting(padding, f, stride, caller)
        extra = whole_number(output_padding, "output_padding", caller, 0)
    else:
        if f < stride:
            raise ArgumentError(
                f"{caller}: padding='same' (an output stride times the input) needs f >= "
                f"stride, got f={f}, stride={stride}: the windows would leave gaps; use "
                "f >= stride")
        if stride == 1 and f % 2 == 0:
            raise ArgumentError(
                f"{caller}: padding='same' with stride 1 needs an odd f, as for Conv2d (an even "
                f"f would need more rows cropped on one side than the other), got f={f}")
        pad = -(-(f - stride) // 2)  # ceil((f - s) / 2)
        extra = 2 * pad - f + stride
        given = whole_number(output_padding, "output_padding", caller, 0)
        if given not in (0, extra):
            raise ArgumentError(
                f"{caller}: padding='same' sets output_padding itself (to {extra} for f={f}, "
                f"stride={stride}), got output_padding={given}: leave it out, or give the "
                "padding as a number")
    if extra >= stride:
        raise ArgumentError(
            f"{caller}: output_padding ({extra}) must be smaller than the stride ({stride})")
    return pad, extra


def _check_images(x: np.ndarray, what: str, channels: int | None = None) -> None:
    """Refuse A that is no batch of images (m, n_H, n_W, n_C), with the axis it probably
    lacks: the batch's, or, for filters of ``channels`` = 1 (or pooling, which has none),
    the channel's of grayscale images, as (m, n_H, n_W) data often comes."""
    if x.ndim != 4:
        tip = ""
        if x.ndim == 3:
            batch = "one image? add the batch axis: A[None]"
            gray = "images of one channel? add the channel axis: A[..., None]"
            if channels is None:
                tip = f" ({batch}; {gray})"
            elif channels == 1 and x.shape[-1] != 1:
                tip = f" ({gray})"
            else:
                tip = f" ({batch})"
        elif x.ndim == 2 and channels in (None, 1):
            tip = " (one image of one channel? add both axes: A[None, :, :, None])"
        raise ValueError(f"{what} takes images A of shape (m, n_H, n_W, n_C), channels last; "
                         f"got shape {x.shape}{tip}")


def _check_fits(x_shape: tuple, f_h: int, f_w: int, stride: int, pads: tuple[int, int],
                pooling: bool = False, dilation: int = 1) -> tuple[int, int]:
    """The output's (n_H, n_W), or an error if a window does not fit."""
    p_h, p_w = pads
    n_h = _output_size(x_shape[1], f_h, stride, p_h, dilation)
    n_w = _output_size(x_shape[2], f_w, stride, p_w, dilation)
    if (n_h < 1 or n_w < 1) and dilation != 1:
        raise ValueError(
            f"a {f_h} x {f_w} window dilated by {dilation} (spanning "
            f"{dilation * (f_h - 1) + 1} x {dilation * (f_w - 1) + 1} pixels) does not fit in "
            f"{x_shape[1]} x {x_shape[2]} images with pad={p_h if p_h == p_w else pads}: n_H = "
            f"floor((n_H_prev + 2 pad - d (f - 1) - 1) / stride) + 1 = {n_h} and n_W = {n_w}; "
            f"{'use a smaller window' if pooling else 'pad more or use a smaller window'}")
    if n_h < 1 or n_w < 1:
        padded = p_h or p_w or not pooling
        if padded:
            formula = "floor((n_H_prev + 2 pad - f) / stride) + 1"
            where = f" with pad={p_h if p_h == p_w else pads}"
        else:
            formula, where = "floor((n_H_prev - f) / stride) + 1", ""
        advice = "use a smaller window" if pooling else "pad more or use a smaller window"
        raise ValueError(
            f"a {f_h} x {f_w} window does not fit in {x_shape[1]} x {x_shape[2]} images"
            f"{where}: n_H = {formula} = {n_h} and n_W = {n_w}; {advice}"
        )
    return n_h, n_w
