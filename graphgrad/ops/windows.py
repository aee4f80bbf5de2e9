"""The windows every convolution and pooling op is built on: strided read-only views of
the f x f windows of a batch of images (m, n_H, n_W, n_C), padding, im2col and its adjoint
col2im, the rule that turns a layer's ``padding`` into p, and the checks that a window fits:

    n_H = floor((n_H_prev + 2p - f) / s) + 1

A dilated window (dilation d > 1, its pixels d apart, spanning d (f - 1) + 1 of them) is the
same view with other strides: n_H = floor((n_H_prev + 2p - d (f - 1) - 1) / s) + 1.

Every setting is one number for both axes, as in the course, or a pair (along n_H, along
n_W), as PyTorch's kernel_size=(1, 3), stride=(2, 1): an f_h x f_w window, strides s_h and
s_w, dilations d_h and d_w. A padding p along an axis is p cells on each side, or a pair
(before, after) where the two sides differ (PyTorch's padding="same" of an even filter pads
the extra one at the bottom and right; ceil_mode pools pad the bottom and right further):

    n_H = floor((n_H_prev + p_top + p_bottom - d_h (f_h - 1) - 1) / s_h) + 1

Depends on `errors`.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from graphgrad.errors import ArgumentError, renamed, setting_text, whole_number

Pair = tuple[int, int]

# PyTorch's keyword for the window, refused with the course's f to write, on every function and
# layer of convolution and pooling (the layers name their class).
takes_f = renamed("PyTorch's kernel_size is the window or filter size f", kernel_size="f")


def _pair(value: Any) -> tuple:
    """A setting as (along n_H, along n_W): a number n is (n, n)."""
    return value if isinstance(value, tuple) else (value, value)


def _sides(pad: Any) -> Pair:
    """An axis's padding as (before, after): p is (p, p)."""
    return pad if isinstance(pad, tuple) else (pad, pad)


def compact(pair: tuple) -> Any:
    """A pair of equal numbers as one, as a node records a square setting (the course's
    f=3, stride=2); anything else as the pair."""
    first, second = pair
    if first == second and not isinstance(first, tuple):
        return first
    return pair


def pair_setting(value: Any, what: str, caller: str, least: int) -> Pair:
    """A window setting (kernel_size, stride, padding, dilation, output_size): one whole
    number >= ``least`` for both axes, or a pair (along n_H, along n_W), as PyTorch's."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(values) == 2:
        try:
            return (whole_number(values[0], what, caller, least),
                    whole_number(values[1], what, caller, least))
        except ArgumentError:
            pass
    raise ArgumentError(f"{caller}: {what} must be a whole number >= {least} or a pair of them "
                        f"(along n_H, along n_W), got {setting_text(value)}")


def number_or_pair(value: Any, what: str, caller: str, least: int) -> Any:
    """A setting of an image op as a node records it: one whole number as it is (the
    course's calls), a pair (along n_H, along n_W) as one number when both are equal."""
    if type(value) is int and value >= least:  # the course's calls, on every op's forward
        return value
    if isinstance(value, (tuple, list)):
        return compact(pair_setting(value, what, caller, least))
    return whole_number(value, what, caller, least)


def _output_size(size: int, f: int, stride: int, pad: Any, dilation: int = 1) -> int:
    """The windows along an axis of ``size``, padded by ``pad`` (p, or (before, after))."""
    total = pad[0] + pad[1] if isinstance(pad, tuple) else 2 * pad
    return (size + total - dilation * (f - 1) - 1) // stride + 1


def _windows(x: np.ndarray, f_h: int, f_w: int, stride: Any, dilation: Any = 1) -> np.ndarray:
    """The f_h x f_w windows of x (m, H, W, C), every ``stride`` pixels, their pixels
    ``dilation`` apart (each a number or a pair (along n_H, along n_W)), as a read-only view
    of shape (m, n_H, n_W, f_h, f_w, C): window (h, w) starts at pixel (h s_h, w s_w)."""
    m, height, width, channels = x.shape
    s_h, s_w = _pair(stride)
    d_h, d_w = _pair(dilation)
    n_h = _output_size(height, f_h, s_h, 0, d_h)
    n_w = _output_size(width, f_w, s_w, 0, d_w)
    t_m, t_h, t_w, t_c = x.strides
    return as_strided(x, (m, n_h, n_w, f_h, f_w, channels),
                      (t_m, t_h * s_h, t_w * s_w, t_h * d_h, t_w * d_w, t_c), writeable=False)


def _padded(x: np.ndarray, pads: tuple, value: float = 0.0) -> np.ndarray:
    """The course's zero_pad: p_h rows and p_w columns of ``value`` on each side of each
    image (zeros, or -inf around what max pooling reads); a pair (before, after) along an
    axis pads its two sides apart."""
    p_h, p_w = pads
    if not (p_h or p_w):
        return x
    return np.pad(x, ((0, 0), _sides(p_h), _sides(p_w), (0, 0)), constant_values=value)


def _im2col(x: np.ndarray, f_h: int, f_w: int, stride: Any, pads: tuple,
            dilation: Any = 1) -> np.ndarray:
    """Every window of the padded x as one row: (m * n_H * n_W, f_h * f_w * n_C_prev)."""
    windows = _windows(_padded(x, pads), f_h, f_w, stride, dilation)
    return windows.reshape(-1, f_h * f_w * x.shape[-1])  # a copy: the windows overlap


def _col2im(pieces: np.ndarray, x_shape: tuple, stride: Any, pads: tuple,
            dilation: Any = 1) -> np.ndarray:
    """The adjoint of `_windows` of the padded x: add each window's piece (m, n_H, n_W, f_h,
    f_w, C) back at the pixels it came from, in an array of shape ``x_shape`` (overlaps add
    up; what lands on the padding is dropped)."""
    m, n_h, n_w, f_h, f_w, channels = pieces.shape
    (top, bottom), (left, right) = _sides(pads[0]), _sides(pads[1])
    s_h, s_w = _pair(stride)
    d_h, d_w = _pair(dilation)
    height, width = x_shape[1] + top + bottom, x_shape[2] + left + right
    out = np.zeros((m, height, width, channels), dtype=pieces.dtype)
    # One strided add per filter position (f * f of them), each over every window at once.
    for i in range(f_h):
        first = i * d_h
        rows = slice(first, first + s_h * (n_h - 1) + 1, s_h)
        for j in range(f_w):
            start = j * d_w
            out[:, rows, start:start + s_w * (n_w - 1) + 1:s_w] += pieces[:, :, :, i, j]
    if top or bottom or left or right:
        return out[:, top:height - bottom, left:width - right]
    return out


def same_padding(f: int, dilation: int = 1) -> Any:
    """An axis's padding="same" as PyTorch pads it for stride 1: d (f - 1) cells in all, half
    on each side, the odd one after (at the bottom or right): p, or (before, after)."""
    total = dilation * (f - 1)
    return total // 2 if total % 2 == 0 else (total // 2, total - total // 2)


def padding_setting(padding: Any, f: Any, stride: Any, caller: str,
                    window: str = "filter size", dilation: Any = 1,
                    uneven: bool = False) -> Any:
    """p from a layer's ``padding``: a whole number, a pair (p_h, p_w), "valid" (0) or "same"
    (p = (f - 1) / 2, which keeps n_H and n_W with stride 1 and odd f; p = d (f - 1) / 2 for
    a window dilated by d, which needs d (f - 1) even). f, stride and dilation are numbers
    or pairs (along n_H, along n_W); p is one number where both axes take the same. With
    ``uneven`` (convolutions, as PyTorch's), "same" takes even spans d (f - 1) too, padding
    the extra cell after (see `same_padding`). The one rule of convolution and pooling layers,
    and of the pooling functions."""
    if isinstance(padding, str):
        if padding == "valid":
            return 0
        if padding == "same":
            sizes, strides, dilations = _pair(f), _pair(stride), _pair(dilation)
            spans = [d * (k - 1) for k, d in zip(sizes, dilations)]
            if strides != (1, 1) or (not uneven and any(span % 2 for span in spans)):
                shown = [compact(sizes), compact(strides), compact(dilations)]
                if uneven:
                    raise ArgumentError(
                        f"{caller}: padding='same' needs stride 1 (as PyTorch's), got "
                        f"stride={shown[1]}; pass stride=1, or give the padding as a number")
                span = (f" (dilated by {shown[2]}: an odd span d (f - 1) + 1)"
                        if dilations != (1, 1) else "")
                raise ArgumentError(
                    f"{caller}: padding='same' needs stride 1 and an odd {window}{span}, got "
                    f"f={shown[0]}, stride={shown[1]}; pass stride=1 with an odd f, or give "
                    "the padding as a number instead"
                )
            return compact(tuple(same_padding(k, d) for k, d in zip(sizes, dilations)))
        raise ArgumentError(f"{caller}: padding must be a number, 'valid' or 'same', got "
                            f"{padding!r}")
    return number_or_pair(padding, "the padding", caller, 0)


def transposed_padding_setting(padding: Any, f: Any, stride: Any, output_padding: Any,
                                caller: str, dilation: Any = 1) -> tuple[Any, Any]:
    """p and output_padding of a transposed convolution from its ``padding``: a whole number
    or a pair (with ``output_padding`` as given), "valid" (0), or "same", which makes the
    output exactly s times the input (Keras's padding='same': p = ceil((f - s) / 2),
    output_padding = 2p - f + s; an ``output_padding`` given with it must be that one or 0).
    f and stride are numbers or pairs (along n_H, along n_W); each result is one number where
    both axes take the same. The one rule of `gg.conv_transpose2d` and `nn.ConvTranspose2d`."""
    strides, dilations = _pair(stride), _pair(dilation)
    if not (isinstance(padding, str) and padding == "same"):
        pad = padding_setting(padding, f, stride, caller)
        extra = number_or_pair(output_padding, "output_padding", caller, 0)
    else:
        if dilations != (1, 1):
            raise ArgumentError(
                f"{caller}: padding='same' is for undilated filters, got dilation="
                f"{compact(dilations)}; give the padding as a number")
        pads, extras = [], []
        for k, s in zip(_pair(f), strides):
            if k < s:
                raise ArgumentError(
                    f"{caller}: padding='same' (an output stride times the input) needs f >= "
                    f"stride, got f={k}, stride={s}: the windows would leave gaps; use "
                    "f >= stride")
            if s == 1 and k % 2 == 0:
                raise ArgumentError(
                    f"{caller}: padding='same' with stride 1 needs an odd f, as for Conv2d (an "
                    f"even f would need more rows cropped on one side than the other), got f={k}")
            pads.append(-(-(k - s) // 2))  # ceil((f - s) / 2)
            extras.append(2 * pads[-1] - k + s)
        pad, extra = compact(tuple(pads)), compact(tuple(extras))
        given = number_or_pair(output_padding, "output_padding", caller, 0)
        if given not in (0, (0, 0), extra):
            raise ArgumentError(
                f"{caller}: padding='same' sets output_padding itself (to {extra} for "
                f"f={compact(_pair(f))}, stride={compact(strides)}), got output_padding={given}: "
                "leave it out, or give the padding as a number")
    limits = [max(s, d) for s, d in zip(strides, dilations)]
    for e, limit, axis in zip(_pair(extra), limits, ("n_H", "n_W")):
        if e >= limit:
            fitting = compact(tuple(min(e, top - 1) for e, top in zip(_pair(extra), limits)))
            dilated = (f" or the dilation {setting_text(compact(dilations))}"
                       if dilations != (1, 1) else "")
            raise ArgumentError(
                f"{caller}: output_padding {setting_text(extra)} must be smaller than the stride "
                f"{setting_text(compact(strides))}{dilated} along each axis, got {e} >= {limit} "
                f"along {axis}: the sizes a convolution of stride s maps to one n_H_prev differ "
                f"by s - 1 at most; use output_padding={setting_text(fitting)}")
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


def _sequence_misfit(n_prev: int, f: int, stride: int, pad: Any, dilation: int,
                     pooling: bool = False) -> ValueError:
    """The error for a window of f steps that does not fit in sequences of ``n_prev`` steps:
    `_check_fits`'s message for 1-D convolution and pooling."""
    n_l = _output_size(n_prev, f, stride, pad, dilation)
    span = (f" dilated by {dilation} (spanning {dilation * (f - 1) + 1} steps)"
            if dilation != 1 else "")
    formula = "2 pad - d (f - 1) - 1" if dilation != 1 else "2 pad - f"
    where = f" with pad={pad}" if pad or not pooling else ""
    advice = "use a smaller window" if pooling else "pad more or use a smaller window"
    return ValueError(
        f"a window of f={f}{span} does not fit in sequences of n_L_prev = {n_prev} steps"
        f"{where}: n_L = floor((n_L_prev + {formula}) / stride) + 1 = {n_l}; {advice}")


def _check_fits(x_shape: tuple, f_h: int, f_w: int, stride: Any, pads: tuple,
                pooling: bool = False, dilation: Any = 1) -> tuple[int, int]:
    """The output's (n_H, n_W), or an error if a window does not fit."""
    p_h, p_w = pads
    s_h, s_w = _pair(stride)
    d_h, d_w = _pair(dilation)
    n_h = _output_size(x_shape[1], f_h, s_h, p_h, d_h)
    n_w = _output_size(x_shape[2], f_w, s_w, p_w, d_w)
    if n_h >= 1 and n_w >= 1:
        return n_h, n_w
    pad = compact(pads)
    advice = "use a smaller window" if pooling else "pad more or use a smaller window"
    if (d_h, d_w) != (1, 1):
        raise ValueError(
            f"a {f_h} x {f_w} window dilated by {compact((d_h, d_w))} (spanning "
            f"{d_h * (f_h - 1) + 1} x {d_w * (f_w - 1) + 1} pixels) does not fit in "
            f"{x_shape[1]} x {x_shape[2]} images with pad={pad}: n_H = "
            f"floor((n_H_prev + 2 pad - d (f - 1) - 1) / stride) + 1 = {n_h} and n_W = {n_w}; "
            f"{advice}")
    padded = p_h or p_w or not pooling
    if padded:
        formula = "floor((n_H_prev + 2 pad - f) / stride) + 1"
        where = f" with pad={pad}"
    else:
        formula, where = "floor((n_H_prev - f) / stride) + 1", ""
    raise ValueError(
        f"a {f_h} x {f_w} window does not fit in {x_shape[1]} x {x_shape[2]} images"
        f"{where}: n_H = {formula} = {n_h} and n_W = {n_w}; {advice}"
    )
