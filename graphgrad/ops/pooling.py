"""Pooling, channels last as in the course: A of shape (m, n_H, n_W, n_C), and sequences
A of shape (m, n_L, n_C) as `conv1d` takes them.

`MaxPool2d` passes each window's gradient to its largest element (the first one on a tie, so
a max creates no gradient); `AvgPool2d` shares it equally. Pooling is unpadded by default, as
in the course. With padding p (at most f / 2, as in PyTorch, so that half of a border
window's rows and columns at least are real) max pooling pads with -inf, which never wins,
and average pooling divides by f * f (``count_include_pad=True``, PyTorch's default) or by
the real pixels of each window (False, Keras's 'same'). `MaxPool1d` and `AvgPool1d` pool
sequences as images one pixel high, with (1, f) windows, on the same helpers. Depends on
`function`, `ops.windows`, `tensor`, `errors`.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from graphgrad.errors import ArgumentError, whole_number
from graphgrad.function import Function
from graphgrad.ops.windows import (
    _check_fits,
    _check_images,
    _col2im,
    _output_size,
    _padded,
    _windows,
    padding_setting,
)
from graphgrad.tensor import Tensor


def pool_settings(f: Any, stride: Any, padding: Any, caller: str,
                  dilation: int = 1) -> tuple[int, int, int]:
    """A pooling layer's (f, stride, p), checked; the stride defaults to f (windows side by
    side). Shared by the functions here and the `nn` pooling layers."""
    f = whole_number(f, "the window size f", caller)
    stride = f if stride is None else whole_number(stride, "the stride", caller)
    pad = padding_setting(padding, f, stride, caller, "window size", dilation)
    if isinstance(padding, str) and 2 * pad > f:  # "same" of a dilated window: d (f - 1) / 2
        raise ArgumentError(
            f"{caller}: padding='same' of a window of f={f} dilated by {dilation} would pad "
            f"d (f - 1) / 2 = {pad}, more than the f / 2 = {f // 2} pooling pads (PyTorch's "
            "rule: half a border window at least is real); give the padding as a number "
            f"<= {f // 2}, or use dilation=1")
    _check_pool_padding(f, pad, caller)
    return f, stride, pad


def pool_attrs(f: int, stride: int, pad: int, count_include_pad: bool = True,
               dilation: int = 1) -> dict:
    """A pooling node's settings: f and the stride, and the padding and dilation only where
    there are some (the picture of an unpadded pool shows f and stride alone, as the course's
    do)."""
    attrs: dict[str, Any] = {"f": f, "stride": stride}
    if pad:
        attrs["pad"] = pad
        if not count_include_pad:
            attrs["count_include_pad"] = False
    if dilation != 1:
        attrs["dilation"] = dilation
    return attrs


def include_pad_setting(value: Any, caller: str) -> bool:
    """Average pooling's ``count_include_pad``, which must be True or False."""
    if not isinstance(value, (bool, np.bool_)):
        raise ArgumentError(f"{caller}: count_include_pad must be True (divide by f * f) or "
                            f"False (divide by the real pixels of each window), got {value!r}")
    return bool(value)


def _check_pool_padding(f: int, pad: int, caller: str) -> None:
    if 2 * pad > f:
        raise ArgumentError(
            f"{caller}: padding {pad} is more than half the window size f={f}; pooling pads "
            "at most f / 2, as in PyTorch, so that half of a border window's rows and "
            f"columns at least are real: use padding <= {f // 2}"
        )


def _check_pool(x: np.ndarray, f: Any, stride: Any, pad: Any, op: str,
                dilation: int = 1) -> None:
    whole_number(f, "the window size f", op, 1)
    whole_number(stride, "the stride", op, 1)
    whole_number(pad, "the padding", op, 0)
    whole_number(dilation, "dilation", op, 1)
    _check_pool_padding(f, pad, op)
    _check_images(x, "pooling")
    _check_fits(x.shape, f, f, stride, (pad, pad), pooling=True, dilation=dilation)
    for size in x.shape[1:3]:
        _check_real_taps(size, f, stride, pad, dilation)


def _check_real_taps(size: int, f: int, stride: int, pad: int, dilation: int) -> None:
    """Refuse a dilated window whose pixels along an axis of ``size`` all fall on the padding
    (its pixels d apart may step over the image): its max would be -inf, with no pixel to
    take the gradient. Undilated windows always hold a real pixel (p <= f / 2)."""
    if dilation == 1 or not pad:
        return
    n_out = _output_size(size, f, stride, pad, dilation)
    taps = np.arange(n_out)[:, None] * stride - pad + np.arange(f) * dilation
    real = ((taps >= 0) & (taps < size)).any(axis=1)
    if not real.all():
        k = int(np.argmin(real))
        raise ValueError(
            f"window {k} of f={f} dilated by {dilation}, with padding {pad}, reads positions "
            f"{taps[k].tolist()} of an axis of {size} (0 to {size - 1} are real): only padding; "
            "pad less, or use a smaller dilation")


class MaxPool2d(Function):
    """y = the largest element of each f x f window (its pixels ``dilation`` apart), per
    channel;  dx = dy at that element, 0 elsewhere (on a tie, the first in the window gets it
    all; padding never gets any)"""

    @staticmethod
    def forward(ctx, x, f, stride, pad=0, dilation=1):
        _check_pool(x, f, stride, pad, "MaxPool2d", dilation)
        best, ctx.index = _max_pool(x, (f, f), stride, (pad, pad), dilation)
        ctx.in_shape = x.shape
        return best

    @staticmethod
    def backward(ctx, grad):
        return MaxPool2dGrad.call(grad, index=ctx.index, shape=ctx.in_shape)


def _max_pool(x: np.ndarray, window: tuple[int, int], stride: int, pads: tuple[int, int],
              dilation: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(y, index): the largest element of each f_h x f_w window of x (m, H, W, C) padded by
    (p_h, p_w) cells of -inf, its pixels ``dilation`` apart, and where each sits in x as one
    flat index (for the scatter-add of `MaxPool2dGrad`). Max pooling's forward, of images
    and of sequences (images one pixel high, windows (1, f))."""
    f_h, f_w = window
    p_h, p_w = pads
    # Padded with -inf, which never beats a real pixel (every window has one: p <= f / 2,
    # and `_check_real_taps` for dilated windows).
    windows = _windows(_padded(x, pads, -np.inf), f_h, f_w, stride, dilation)
    m, n_h, n_w, _, _, channels = windows.shape
    height, width = x.shape[1:3]
    best = windows[:, :, :, 0, 0].copy()
    for k in range(1, f_h * f_w):  # f * f maxima over every window at once: quicker than max
        np.maximum(best, windows[:, :, :, k // f_w, k % f_w], out=best)
    if np.isnan(best).any():  # NaN wins; argmax finds the first, as a comparison cannot
        first = windows.transpose(0, 1, 2, 5, 3, 4).reshape(best.shape + (f_h * f_w,))
        first = first.argmax(axis=-1)
    else:
        first = _first_position(windows, best)
    # Where each window's largest element sits in x, as one flat index: the gradient goes
    # back there, in a 1-D scatter-add several times quicker than one through four index
    # arrays. Window (h, w) of example i starts at pixel (h s - p_h, w s - p_w) of x.
    top = np.arange(n_h)[:, None, None] * stride - p_h
    left = np.arange(n_w)[:, None] * stride - p_w
    if p_h or p_w:
        i, j = np.divmod(first, f_w)
        rows, cols = top + i * dilation, left + j * dilation
        # A window whose real pixels are all -inf ties with its padding, and the first
        # largest may be a padded cell: its gradient goes to the window's first real pixel,
        # the first of its rows and of its columns at or after 0.
        padding = (rows < 0) | (rows >= height) | (cols < 0) | (cols >= width)
        if padding.any():
            rows = np.where(padding, top + np.maximum(0, -(top // dilation)) * dilation, rows)
            cols = np.where(padding, left + np.maximum(0, -(left // dilation)) * dilation,
                            cols)
        index = (rows * width + cols) * channels
    else:  # the offset of each position in its window, looked up
        positions = np.arange(f_h * f_w)
        offsets = (positions // f_w * width + positions % f_w) * (channels * dilation)
        index = offsets.take(first)
        index += (top * width + left) * channels
    index += (np.arange(m)[:, None, None, None] * (height * width * channels)
              + np.arange(channels))
    return best, index


def _first_position(windows: np.ndarray, best: np.ndarray) -> np.ndarray:
    """Where in each window (m, n_H, n_W, f, f, C), counted row by row, its largest value
    ``best`` (m, n_H, n_W, C) first occurs: the count of the positions, all but the last, at or
    after the first largest, taken from the last. A comparison per position over every window
    at once: numpy's argmax along an axis of f * f values is several times slower."""
    f_h, f_w = windows.shape[3:5]
    last = f_h * f_w - 1
    found = np.zeros(best.shape, dtype=bool)
    after = np.zeros(best.shape, dtype=np.intp)
    for k in range(last):
        found |= windows[:, :, :, k // f_w, k % f_w] == best
        after += found
    np.subtract(last, after, out=after)
    return after


class MaxPool2dGrad(Function):
    """x = zeros(shape) with each dy added at its flat ``index`` (where its window's largest
    element sits): the gradient of max pooling.  d(dy) = dx at those elements"""

    @staticmethod
    def forward(ctx, g, index, shape):
        ctx.index = index
        dx = np.zeros(math.prod(shape), dtype=g.dtype)
        np.add.at(dx, index.reshape(-1), g.reshape(-1))  # overlapping windows add up
        return dx.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape((math.prod(grad.shape),))[ctx.index]  # no -1: m may be 0


def _window_sizes(shape: tuple, window: tuple[int, int], stride: int, pads: tuple[int, int],
                  count_include_pad: bool, dtype: Any) -> Any:
    """What average pooling divides each window's sum by: f_h * f_w, or, with
    count_include_pad False, the real pixels of each window, (1, n_H, n_W, 1) (fewer near a
    padded border)."""
    f_h, f_w = window
    if count_include_pad or not any(pads):
        return f_h * f_w
    ones = np.ones((1, shape[1], shape[2], 1), dtype=dtype)
    return _windows(_padded(ones, pads), f_h, f_w, stride).sum(axis=(3, 4))


def _avg_pool(x: np.ndarray, window: tuple[int, int], stride: int, pads: tuple[int, int],
              count_include_pad: bool) -> np.ndarray:
    """The mean of each f_h x f_w window of x (m, H, W, C) padded by (p_h, p_w) zeros:
    average pooling's forward, of images and of sequences (windows (1, f))."""
    sums = _windows(_padded(x, pads), *window, stride).sum(axis=(3, 4))
    return sums / _window_sizes(x.shape, window, stride, pads, count_include_pad, x.dtype)


def _avg_pool_grad(g: np.ndarray, shape: tuple, window: tuple[int, int], stride: int,
                   pads: tuple[int, int], count_include_pad: bool) -> np.ndarray:
    """Each g (m, n_H, n_W, C) divided as `_avg_pool` divides and spread over its window, in
    an array of ``shape`` (the padding dropped): the adjoint of `_avg_pool`."""
    m, n_h, n_w, channels = g.shape
    sizes = _window_sizes(shape, window, stride, pads, count_include_pad, g.dtype)
    share = (g / sizes).astype(g.dtype, copy=False)
    pieces = np.broadcast_to(share[:, :, :, None, None, :], (m, n_h, n_w, *window, channels))
    return _col2im(pieces, tuple(shape), stride, pads)


class AvgPool2d(Function):
    """y = the mean of each f x f window, per channel (padding counts as zeros, or, with
    count_include_pad False, not at all);  dx = dy / (f * f, or the window's real pixels) at
    every real element of the window (overlapping windows add up)"""

    @staticmethod
    def forward(ctx, x, f, stride, pad=0, count_include_pad=True):
        _check_pool(x, f, stride, pad, "AvgPool2d")
        ctx.f, ctx.stride, ctx.pad, ctx.in_shape = f, stride, pad, x.shape
        ctx.count_include_pad = count_include_pad
        return _avg_pool(x, (f, f), stride, (pad, pad), count_include_pad)

    @staticmethod
    def backward(ctx, grad):
        return AvgPool2dGrad.call(grad, shape=ctx.in_shape, f=ctx.f, stride=ctx.stride,
                                  pad=ctx.pad, count_include_pad=ctx.count_include_pad)


class AvgPool2dGrad(Function):
    """x = each dy divided as in average pooling and spread over its window, of shape
    ``shape`` (padding dropped): the gradient of average pooling.  d(dy) = avg_pool(dx)"""

    @staticmethod
    def forward(ctx, g, shape, f, stride, pad=0, count_include_pad=True):
        ctx.f, ctx.stride, ctx.pad = f, stride, pad
        ctx.count_include_pad = count_include_pad
        return _avg_pool_grad(g, shape, (f, f), stride, (pad, pad), count_include_pad)

    @staticmethod
    def backward(ctx, grad):
        return AvgPool2d.call(grad, f=ctx.f, stride=ctx.stride, pad=ctx.pad,
                              count_include_pad=ctx.count_include_pad)


def _check_pool1d(x: np.ndarray, f: Any, stride: Any, pad: Any, op: str,
                  dilation: int = 1) -> None:
    """1-D pooling's settings, and sequences A (m, n_L, n_C) that a window of f steps fits."""
    whole_number(f, "the window size f", op, 1)
    whole_number(stride, "the stride", op, 1)
    whole_number(pad, "the padding", op, 0)
    whole_number(dilation, "dilation", op, 1)
    _check_pool_padding(f, pad, op)
    if x.ndim != 3:
        tip = {2: " (one sequence? add the batch axis: A[None]; sequences of one channel? add "
                  "the channel axis: A[..., None])",
               4: f" (images? use {op[:3].lower()}_pool2d)"}.get(x.ndim, "")
        raise ValueError(f"1-D pooling takes sequences A of shape (m, n_L, n_C), channels "
                         f"last; got shape {x.shape}{tip}")
    n_l = _output_size(x.shape[1], f, stride, pad, dilation)
    if n_l < 1:
        where = f" with pad={pad}" if pad else ""
        span = (f" dilated by {dilation} (spanning {dilation * (f - 1) + 1} steps)"
                if dilation != 1 else "")
        formula = "2 pad - d (f - 1) - 1" if dilation != 1 else "2 pad - f"
        raise ValueError(
            f"a window of f={f}{span} does not fit in sequences of n_L_prev = {x.shape[1]} "
            f"steps{where}: n_L = floor((n_L_prev + {formula}) / stride) + 1 = {n_l}; use a "
            "smaller window")
    _check_real_taps(x.shape[1], f, stride, pad, dilation)


class MaxPool1d(Function):
    """y = the largest element of each window of f steps (``dilation`` apart), per channel, as
    `MaxPool2d` of the sequences as images one pixel high with (1, f) windows;  dx = dy at
    that element, 0 elsewhere (the first on a tie; padding never gets any)"""

    @staticmethod
    def forward(ctx, x, f, stride, pad=0, dilation=1):
        _check_pool1d(x, f, stride, pad, "MaxPool1d", dilation)
        best, index = _max_pool(x[:, None], (1, f), stride, (0, pad), dilation)
        ctx.index, ctx.in_shape = index[:, 0], x.shape  # flat indices into x itself
        return best[:, 0]

    @staticmethod
    def backward(ctx, grad):
        return MaxPool2dGrad.call(grad, index=ctx.index, shape=ctx.in_shape)


class AvgPool1d(Function):
    """y = the mean of each window of f steps, per channel (padding counts as zeros, or, with
    count_include_pad False, not at all), as `AvgPool2d` of the sequences as images one pixel
    high;  dx = dy / (f, or the window's real steps) at every real step of the window"""

    @staticmethod
    def forward(ctx, x, f, stride, pad=0, count_include_pad=True):
        _check_pool1d(x, f, stride, pad, "AvgPool1d")
        ctx.f, ctx.stride, ctx.pad, ctx.in_shape = f, stride, pad, x.shape
        ctx.count_include_pad = count_include_pad
        return _avg_pool(x[:, None], (1, f), stride, (0, pad), count_include_pad)[:, 0]

    @staticmethod
    def backward(ctx, grad):
        return AvgPool1dGrad.call(grad, shape=ctx.in_shape, f=ctx.f, stride=ctx.stride,
                                  pad=ctx.pad, count_include_pad=ctx.count_include_pad)


class AvgPool1dGrad(Function):
    """x = each dy divided as in 1-D average pooling and spread over its window, of shape
    ``shape`` (m, n_L_prev, n_C) (padding dropped): the gradient of 1-D average pooling.
    d(dy) = avg_pool1d(dx)"""

    @staticmethod
    def forward(ctx, g, shape, f, stride, pad=0, count_include_pad=True):
        ctx.f, ctx.stride, ctx.pad = f, stride, pad
        ctx.count_include_pad = count_include_pad
        m, length, channels = shape
        return _avg_pool_grad(g[:, None], (m, 1, length, channels), (1, f), stride, (0, pad),
                              count_include_pad)[:, 0]

    @staticmethod
    def backward(ctx, grad):
        return AvgPool1d.call(grad, f=ctx.f, stride=ctx.stride, pad=ctx.pad,
                              count_include_pad=ctx.count_include_pad)


def max_pool2d(A: Any, f: int, stride: int | None = None, padding: int | str = 0,
               dilation: int = 1) -> Tensor:
    """The course's max pooling: the largest value of each f x f window, channel by channel.

    A: (m, n_H_prev, n_W_prev, n_C) -> (m, n_H, n_W, n_C), n_H = floor((n_H_prev + 2p - f) / s)
    + 1. ``stride`` defaults to f (windows side by side). ``padding``: p <= f / 2, "valid" (0)
    or "same" (stride 1, odd f: the size is kept); padded cells are -inf and never chosen.
    ``dilation``: d, the step between a window's pixels (PyTorch's): n_H = floor((n_H_prev +
    2p - d (f - 1) - 1) / s) + 1; a window that would read only padding is refused.
    """
    dilation = whole_number(dilation, "dilation", "max_pool2d", 1)
    f, stride, pad = pool_settings(f, stride, padding, "max_pool2d", dilation)
    return MaxPool2d.apply(A, **pool_attrs(f, stride, pad, dilation=dilation))


def avg_pool2d(A: Any, f: int, stride: int | None = None, padding: int | str = 0, *,
               count_include_pad: bool = True) -> Tensor:
    """The course's average pooling: the mean of each f x f window, channel by channel.

    A: (m, n_H_prev, n_W_prev, n_C) -> (m, n_H, n_W, n_C), n_H = floor((n_H_prev + 2p - f) / s)
    + 1. ``stride`` defaults to f (windows side by side). ``padding``: p <= f / 2, "valid" (0)
    or "same" (stride 1, odd f: the size is kept). Padded cells are zeros that count
    (``count_include_pad=True``: each sum is divided by f * f, as in PyTorch) or that do not
    (False: divided by the real pixels of the window, as Keras's padding='same'), a keyword
    only: PyTorch's fifth argument there is ceil_mode.
    """
    f, stride, pad = pool_settings(f, stride, padding, "avg_pool2d")
    include = include_pad_setting(count_include_pad, "avg_pool2d")
    return AvgPool2d.apply(A, **pool_attrs(f, stride, pad, include))


def max_pool1d(A: Any, f: int, stride: int | None = None, padding: int | str = 0,
               dilation: int = 1) -> Tensor:
    """Max pooling along sequences: the largest value of each window of f steps, channel by
    channel (PyTorch's F.max_pool1d on (m, n_C, n_L) transposed).

    A: (m, n_L_prev, n_C), channels last as `conv1d` takes it -> (m, n_L, n_C),
    n_L = floor((n_L_prev + 2p - f) / s) + 1. ``stride`` defaults to f (windows side by
    side). ``padding``: p <= f / 2, "valid" (0) or "same" (stride 1, odd f: the length is
    kept); padded steps are -inf and never chosen. ``dilation``: d, the step between a
    window's steps: n_L = floor((n_L_prev + 2p - d (f - 1) - 1) / s) + 1.
    """
    dilation = whole_number(dilation, "dilation", "max_pool1d", 1)
    f, stride, pad = pool_settings(f, stride, padding, "max_pool1d", dilation)
    return MaxPool1d.apply(A, **pool_attrs(f, stride, pad, dilation=dilation))


def avg_pool1d(A: Any, f: int, stride: int | None = None, padding: int | str = 0, *,
               count_include_pad: bool = True) -> Tensor:
    """Average pooling along sequences: the mean of each window of f steps, channel by channel
    (PyTorch's F.avg_pool1d on (m, n_C, n_L) transposed).

    A: (m, n_L_prev, n_C), channels last as `conv1d` takes it -> (m, n_L, n_C),
    n_L = floor((n_L_prev + 2p - f) / s) + 1. ``stride`` defaults to f. ``padding``:
    p <= f / 2, "valid" (0) or "same" (stride 1, odd f). Padded steps are zeros that count
    (``count_include_pad=True``: each sum divided by f, as in PyTorch) or that do not
    (False: divided by the real steps of the window), a keyword only: PyTorch's fifth
    argument there is ceil_mode.
    """
    f, stride, pad = pool_settings(f, stride, padding, "avg_pool1d")
    include = include_pad_setting(count_include_pad, "avg_pool1d")
    return AvgPool1d.apply(A, **pool_attrs(f, stride, pad, include))
