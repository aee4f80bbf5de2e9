"""Convolutions and pooling over images, channels last as in the course.

A batch of images is A of shape (m, n_H, n_W, n_C): m examples, height, width, channels (the
course's A_prev of shape (m, n_H_prev, n_W_prev, n_C_prev)). A bank of filters is W of shape
(f, f, n_C_prev, n_C), its bias b of shape (n_C,) (the course's (1, 1, 1, n_C) works too).
With padding p and stride s, an input n_H_prev high gives

    n_H = floor((n_H_prev + 2p - f) / s) + 1

rows of output, and the same for the width.

`Conv2d` is one node: it pads, lays the f x f windows side by side (im2col) and does one
matrix product. Its backward is two ops of its own, `Conv2dInputGrad` (the transposed
convolution) and `Conv2dWeightGrad`; the three are one bilinear map seen from each side, so
each one's backward is made of the other two, and second derivatives of convolutions work.
`MaxPool2d` passes each window's gradient to its largest element (the first one on a tie, so
a max creates no gradient); `AvgPool2d` shares it equally. Pooling windows are not padded,
as in the course. Depends on `function`, `ops.indexing`, `tensor`, `errors`.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from graphgrad.errors import whole_number
from graphgrad.function import Function
from graphgrad.ops.indexing import IndexAdd
from graphgrad.tensor import Tensor


# -- windows: the views every op here is built on ------------------------------------------
def _output_size(size: int, f: int, stride: int, pad: int) -> int:
    return (size + 2 * pad - f) // stride + 1


def _windows(x: np.ndarray, f_h: int, f_w: int, stride: int) -> np.ndarray:
    """The f_h x f_w windows of x (m, H, W, C), every ``stride`` pixels, as a read-only view
    of shape (m, n_H, n_W, f_h, f_w, C): window (h, w) starts at pixel (h s, w s)."""
    m, height, width, channels = x.shape
    n_h, n_w = _output_size(height, f_h, stride, 0), _output_size(width, f_w, stride, 0)
    s_m, s_h, s_w, s_c = x.strides
    return as_strided(x, (m, n_h, n_w, f_h, f_w, channels),
                      (s_m, s_h * stride, s_w * stride, s_h, s_w, s_c), writeable=False)


def _padded(x: np.ndarray, pad: int) -> np.ndarray:
    """The course's zero_pad: p rows and columns of zeros around each image."""
    if not pad:
        return x
    return np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))


def _im2col(x: np.ndarray, f_h: int, f_w: int, stride: int, pad: int) -> np.ndarray:
    """Every window of the padded x as one row: (m * n_H * n_W, f_h * f_w * n_C_prev)."""
    windows = _windows(_padded(x, pad), f_h, f_w, stride)
    return windows.reshape(-1, f_h * f_w * x.shape[-1])  # a copy: the windows overlap


def _col2im(pieces: np.ndarray, x_shape: tuple, stride: int, pad: int) -> np.ndarray:
    """The adjoint of `_windows`: add each window's piece (m, n_H, n_W, f_h, f_w, C) back at
    the pixels it came from, in an array of shape ``x_shape`` (overlaps add up)."""
    m, n_h, n_w, f_h, f_w, channels = pieces.shape
    height, width = x_shape[1] + 2 * pad, x_shape[2] + 2 * pad
    out = np.zeros((m, height, width, channels), dtype=pieces.dtype)
    # One strided add per filter position (f * f of them), each over every window at once.
    for i in range(f_h):
        rows = slice(i, i + stride * (n_h - 1) + 1, stride)
        for j in range(f_w):
            out[:, rows, j:j + stride * (n_w - 1) + 1:stride] += pieces[:, :, :, i, j]
    if pad:
        return out[:, pad:height - pad, pad:width - pad]
    return out


def _check_pool(x: np.ndarray, f: Any, stride: Any, op: str) -> None:
    whole_number(f, "the window size f", op, 1)
    whole_number(stride, "the stride", op, 1)
    _check_images(x, "pooling")
    _check_fits(x.shape, f, f, stride, None)


def _check_images(x: np.ndarray, what: str) -> None:
    if x.ndim != 4:
        tip = " (one image? add the batch axis: A[None])" if x.ndim == 3 else ""
        raise ValueError(f"{what} takes images A of shape (m, n_H, n_W, n_C), channels last; "
                         f"got shape {x.shape}{tip}")


def _check_fits(x_shape: tuple, f_h: int, f_w: int, stride: int,
                pad: int | None) -> tuple[int, int]:
    """The output's (n_H, n_W), or an error if a window does not fit. ``pad`` is None for
    pooling, whose windows are never padded."""
    n_h = _output_size(x_shape[1], f_h, stride, pad or 0)
    n_w = _output_size(x_shape[2], f_w, stride, pad or 0)
    if n_h < 1 or n_w < 1:
        if pad is None:
            formula, advice = "floor((n_H_prev - f) / stride) + 1", "use a smaller window"
        else:
            formula = "floor((n_H_prev + 2 pad - f) / stride) + 1"
            advice = "pad more or use a smaller window"
        where = "" if pad is None else f" with pad={pad}"
        raise ValueError(
            f"a {f_h} x {f_w} window does not fit in {x_shape[1]} x {x_shape[2]} images"
            f"{where}: n_H = {formula} = {n_h} and n_W = {n_w}; {advice}"
        )
    return n_h, n_w


# -- convolution ---------------------------------------------------------------------------------
class Conv2d(Function):
    """Z = conv(A, W) + b: Z[i, h, w, c] = sum(window (h, w) of A[i] * W[..., c]) + b[c];
    dA = Conv2dInputGrad(dZ, W),  dW = Conv2dWeightGrad(A, dZ),  db = dZ summed over i, h, w"""

    @staticmethod
    def forward(ctx, x, w, b=None, stride=1, pad=0):
        whole_number(stride, "the stride", "Conv2d", 1)
        whole_number(pad, "the padding", "Conv2d", 0)
        _check_images(x, "a convolution")
        if w.ndim != 4:
            raise ValueError(f"the filters W must have shape (f, f, n_C_prev, n_C), got {w.shape}")
        f_h, f_w, channels, n_c = w.shape
        if x.shape[-1] != channels:
            tip = (" (channels first? graphgrad's images are channels last: A.transpose(0, 2, "
                   "3, 1))") if x.shape[1] == channels else ""
            raise ValueError(f"A has {x.shape[-1]} channels, but the filters W of shape "
                             f"{w.shape} take n_C_prev = {channels}{tip}")
        if b is not None and b.shape not in ((n_c,), (1, 1, 1, n_c)):
            raise ValueError(f"the bias must have shape ({n_c},), got {b.shape}")
        n_h, n_w = _check_fits(x.shape, f_h, f_w, stride, pad)
        ctx.stride, ctx.pad = stride, pad
        ctx.bias_shape = None if b is None else b.shape
        ctx.save_for_backward(x, w)
        z = _im2col(x, f_h, f_w, stride, pad) @ w.reshape(-1, n_c)
        z = z.reshape(x.shape[0], n_h, n_w, n_c)
        if b is not None:
            z += b.reshape(n_c)
        return z

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved
        needs = ctx.needs_input_grad
        settings = {"stride": ctx.stride, "pad": ctx.pad}
        dx = Conv2dInputGrad.call(grad, w, x_shape=x.shape, **settings) if needs[0] else None
        dw = (Conv2dWeightGrad.call(x, grad, f_shape=w.shape[:2], **settings) if needs[1]
              else None)
        if len(needs) == 2:
            return dx, dw
        db = None
        if needs[2]:
            db = grad.sum(axis=(0, 1, 2))
            if ctx.bias_shape != db.shape:  # the course's (1, 1, 1, n_C)
                db = db.reshape(ctx.bias_shape)
        return dx, dw, db


class Conv2dInputGrad(Function):
    """A = the transposed convolution of G (m, n_H, n_W, n_C) by W, of shape ``x_shape``: the
    gradient of conv(A, W) with respect to A.  dG = conv(dA, W),  dW = Conv2dWeightGrad(dA, G)"""

    @staticmethod
    def forward(ctx, g, w, x_shape, stride=1, pad=0):
        ctx.stride, ctx.pad = stride, pad
        ctx.save_for_backward(g, w)
        m, n_h, n_w, n_c = g.shape
        f_h, f_w, channels, _ = w.shape
        pieces = g.reshape(-1, n_c) @ w.reshape(-1, n_c).T
        return _col2im(pieces.reshape(m, n_h, n_w, f_h, f_w, channels), tuple(x_shape),
                       stride, pad)

    @staticmethod
    def backward(ctx, grad):
        g, w = ctx.saved
        needs = ctx.needs_input_grad
        settings = {"stride": ctx.stride, "pad": ctx.pad}
        dg = Conv2d.call(grad, w, **settings) if needs[0] else None
        dw = (Conv2dWeightGrad.call(grad, g, f_shape=w.shape[:2], **settings) if needs[1]
              else None)
        return dg, dw


class Conv2dWeightGrad(Function):
    """dW = the gradient of conv(A, W) with respect to W for upstream G: the sum over every
    window of window * G, of shape (f, f, n_C_prev, n_C).
    dA = Conv2dInputGrad(G, dW),  dG = conv(A, dW)"""

    @staticmethod
    def forward(ctx, x, g, f_shape, stride=1, pad=0):
        ctx.stride, ctx.pad = stride, pad
        ctx.save_for_backward(x, g)
        f_h, f_w = f_shape
        n_c = g.shape[-1]
        dw = _im2col(x, f_h, f_w, stride, pad).T @ g.reshape(-1, n_c)
        return dw.reshape(f_h, f_w, x.shape[-1], n_c)

    @staticmethod
    def backward(ctx, grad):
        x, g = ctx.saved
        needs = ctx.needs_input_grad
        settings = {"stride": ctx.stride, "pad": ctx.pad}
        dx = Conv2dInputGrad.call(g, grad, x_shape=x.shape, **settings) if needs[0] else None
        dg = Conv2d.call(x, grad, **settings) if needs[1] else None
        return dx, dg


# -- pooling ---------------------------------------------------------------------------------------
class MaxPool2d(Function):
    """y = the largest element of each f x f window, per channel;  dx = dy at that element,
    0 elsewhere (on a tie, the first in the window gets it all)"""

    @staticmethod
    def forward(ctx, x, f, stride):
        _check_pool(x, f, stride, "MaxPool2d")
        windows = _windows(x, f, f, stride)
        m, n_h, n_w, _, _, channels = windows.shape
        flat = windows.transpose(0, 1, 2, 5, 3, 4).reshape(m, n_h, n_w, channels, f * f)
        best = flat.argmax(axis=-1)
        # Where each window's largest element sits in x: the index the gradient goes back to.
        i, j = np.divmod(best, f)
        rows = np.arange(n_h)[:, None, None] * stride + i
        cols = np.arange(n_w)[:, None] * stride + j
        ctx.index = (np.arange(m)[:, None, None, None], rows, cols, np.arange(channels))
        ctx.in_shape = x.shape
        return np.take_along_axis(flat, best[..., None], axis=-1)[..., 0]

    @staticmethod
    def backward(ctx, grad):
        index = np.broadcast_arrays(*ctx.index)
        return IndexAdd.call(grad, index=tuple(index), shape=ctx.in_shape)


class AvgPool2d(Function):
    """y = the mean of each f x f window, per channel;  dx = dy / f**2 at every element of the
    window (overlapping windows add up)"""

    @staticmethod
    def forward(ctx, x, f, stride):
        _check_pool(x, f, stride, "AvgPool2d")
        ctx.f, ctx.stride, ctx.in_shape = f, stride, x.shape
        return _windows(x, f, f, stride).mean(axis=(3, 4))

    @staticmethod
    def backward(ctx, grad):
        return AvgPool2dGrad.call(grad, shape=ctx.in_shape, f=ctx.f, stride=ctx.stride)


class AvgPool2dGrad(Function):
    """x = dy / f**2 spread over each window, of shape ``shape``: the gradient of average
    pooling.  d(dy) = avg_pool(dx)"""

    @staticmethod
    def forward(ctx, g, shape, f, stride):
        ctx.f, ctx.stride = f, stride
        m, n_h, n_w, channels = g.shape
        share = (g * (1.0 / (f * f))).astype(g.dtype, copy=False)
        pieces = np.broadcast_to(share[:, :, :, None, None, :], (m, n_h, n_w, f, f, channels))
        return _col2im(pieces, tuple(shape), stride, 0)

    @staticmethod
    def backward(ctx, grad):
        return AvgPool2d.call(grad, f=ctx.f, stride=ctx.stride)


# -- the functions a user calls -----------------------------------------------------------------
def conv2d(A: Any, W: Any, b: Any = None, stride: int = 1, pad: int = 0) -> Tensor:
    """The course's conv_forward as one node: Z = conv(A, W) + b.

    Args:
        A: images (m, n_H_prev, n_W_prev, n_C_prev), channels last.
        W: filters (f, f, n_C_prev, n_C) (f_h x f_w filters work too).
        b: bias (n_C,) or the course's (1, 1, 1, n_C); None for no bias.
        stride: s, the step between windows.
        pad: p, the zeros added around each image ((f - 1) / 2 keeps the size: "same").

    Returns:
        Z of shape (m, n_H, n_W, n_C), n_H = floor((n_H_prev + 2p - f) / s) + 1.
    """
    stride = whole_number(stride, "the stride", "conv2d", 1)
    pad = whole_number(pad, "the padding", "conv2d", 0)
    if b is None:
        return Conv2d.apply(A, W, stride=stride, pad=pad)
    return Conv2d.apply(A, W, b, stride=stride, pad=pad)


def max_pool2d(A: Any, f: int, stride: int | None = None) -> Tensor:
    """The course's max pooling: the largest value of each f x f window, channel by channel.

    A: (m, n_H_prev, n_W_prev, n_C) -> (m, n_H, n_W, n_C), n_H = floor((n_H_prev - f) / s) + 1.
    ``stride`` defaults to f (windows side by side).
    """
    return _pool(MaxPool2d, "max_pool2d", A, f, stride)


def avg_pool2d(A: Any, f: int, stride: int | None = None) -> Tensor:
    """The course's average pooling: the mean of each f x f window, channel by channel.

    A: (m, n_H_prev, n_W_prev, n_C) -> (m, n_H, n_W, n_C), n_H = floor((n_H_prev - f) / s) + 1.
    ``stride`` defaults to f (windows side by side).
    """
    return _pool(AvgPool2d, "avg_pool2d", A, f, stride)


def pool_settings(f: Any, stride: Any, caller: str) -> tuple[int, int]:
    """A pooling layer's (f, stride), checked; the stride defaults to f (windows side by
    side). Shared by the functions here and the `nn` pooling layers."""
    f = whole_number(f, "the window size f", caller)
    return f, f if stride is None else whole_number(stride, "the stride", caller)


def _pool(op: type[Function], caller: str, A: Any, f: Any, stride: Any) -> Tensor:
    f, stride = pool_settings(f, stride, caller)
    return op.apply(A, f=f, stride=stride)
