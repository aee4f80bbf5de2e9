"""Resampling images to another size, channels last as in the course: A of shape
(m, n_H, n_W, n_C).

`UpsampleBilinear2d` interpolates each output pixel from its four nearest input pixels,
with PyTorch's source index (align_corners=False: the pixels' centres line up,
src = (dst + 0.5) scale - 0.5, clamped at 0, scale = 1 / scale_factor or n_H_prev / n_H;
align_corners=True: the corner pixels line up, src = dst (n_H_prev - 1) / (n_H - 1); an
axis whose size stays is copied, as PyTorch does whatever the scale factor). Its
backward is its adjoint, `UpsampleBilinear2dGrad`, which spreads each output's gradient back
over the four pixels it was made of, by the same weights; each is the other's backward, so
second derivatives work. `AdaptiveMaxPool2d` takes the largest value of each of n_H x n_W
bins, PyTorch's: bin i spans rows floor(i H / n_H) to ceil((i + 1) H / n_H) (exclusive),
neighbours overlapping when n_H does not divide H; its backward is max pooling's,
`MaxPool2dGrad`. `AdaptiveMaxPool2dWithIndices` also gives where each value sat, as
`max_unpool2d` takes it. Depends on `function`, `ops.pooling`.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from graphgrad.function import Function
from graphgrad.ops.pooling import MaxPool2dGrad, with_image_indices


def bin_edges(size_in: int, size_out: int) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends) of the ``size_out`` bins adaptive pooling splits ``size_in`` pixels
    into, PyTorch's: start = floor(i size_in / size_out), end = ceil((i + 1) size_in /
    size_out) (exclusive). Each bin holds one pixel at least; neighbours overlap by one when
    size_out does not divide size_in."""
    i = np.arange(size_out)
    return (i * size_in) // size_out, -((-(i + 1) * size_in) // size_out)


def _taps(size_in: int, size_out: int, scale_factor: float | None, align_corners: bool,
          dtype: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(i0, i1, w0, w1) along one axis of bilinear interpolation: output pixel d is
    w0[d] x[i0[d]] + w1[d] x[i1[d]], PyTorch's source index and weights. i0 and i1 never
    decrease with d, which the adjoint's sums rely on. An axis that keeps its size is
    copied, as PyTorch does whatever the factor (1.2 keeps 4 rows: floor(4.8))."""
    dst = np.arange(size_out, dtype=np.float64)
    if size_out == size_in:
        index = np.arange(size_out)
        return index, index, np.ones(size_out, dtype), np.zeros(size_out, dtype)
    if align_corners:
        scale = (size_in - 1) / (size_out - 1) if size_out > 1 else 0.0
        src = dst * scale
    else:
        scale = 1.0 / scale_factor if scale_factor else size_in / size_out
        src = np.maximum((dst + 0.5) * scale - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.intp), size_in - 1)
    i1 = np.minimum(i0 + 1, size_in - 1)
    w1 = src - i0
    return i0, i1, (1.0 - w1).astype(dtype), w1.astype(dtype)


def _along(axis: int, ndim: int, values: np.ndarray) -> np.ndarray:
    """``values`` (one per pixel along ``axis``) shaped to broadcast along that axis."""
    shape = [1] * ndim
    shape[axis] = values.size
    return values.reshape(shape)


def _interpolate(x: np.ndarray, axis: int, taps: tuple) -> np.ndarray:
    """x interpolated along ``axis`` by ``taps`` (i0, i1, w0, w1)."""
    i0, i1, w0, w1 = taps
    out = x.take(i0, axis) * _along(axis, x.ndim, w0)
    out += x.take(i1, axis) * _along(axis, x.ndim, w1)
    return out


def _spread(g: np.ndarray, axis: int, size_in: int, taps: tuple) -> np.ndarray:
    """The adjoint of `_interpolate`: each g along ``axis`` added back, times its weight, at
    its two taps, into an array of ``size_in`` pixels along that axis. The taps never
    decrease, so the outputs sharing a tap are a run: one reduceat sums every run at once
    (several times quicker than a scatter-add)."""
    i0, i1, w0, w1 = taps
    shape = list(g.shape)
    shape[axis] = size_in
    out = np.zeros(shape, dtype=g.dtype)
    where: list[Any] = [slice(None)] * g.ndim
    for index, weight in ((i0, w0), (i1, w1)):
        starts = np.flatnonzero(np.r_[True, index[1:] != index[:-1]])
        sums = np.add.reduceat(g * _along(axis, g.ndim, weight), starts, axis=axis)
        where[axis] = index[starts]  # distinct: one += per input pixel
        out[tuple(where)] += sums
    return out


def _both_taps(in_size: tuple, out_size: tuple, scale_factor: Any, align_corners: bool,
               dtype: Any) -> tuple[tuple, tuple]:
    factors = (None, None) if scale_factor is None else scale_factor
    return tuple(_taps(n_in, n_out, factor, align_corners, dtype)  # type: ignore[return-value]
                 for n_in, n_out, factor in zip(in_size, out_size, factors))


class UpsampleBilinear2d(Function):
    """y = x interpolated bilinearly to ``size`` (n_H, n_W): each output pixel a weighted
    mean of its four nearest input pixels, weights (1 - a)(1 - b), (1 - a) b, a (1 - b), a b;
    dx = each dy spread back over those four pixels by the same weights (the adjoint)"""

    @staticmethod
    def forward(ctx, x, size, scale_factor=None, align_corners=False):
        rows, cols = _both_taps(x.shape[1:3], size, scale_factor, align_corners, x.dtype)
        ctx.settings = {"size": x.shape[1:3], "scale_factor": scale_factor,
                        "align_corners": align_corners}
        return _interpolate(_interpolate(x, 1, rows), 2, cols)

    @staticmethod
    def backward(ctx, grad):
        return UpsampleBilinear2dGrad.call(grad, **ctx.settings)


class UpsampleBilinear2dGrad(Function):
    """x = each g spread back over the four input pixels (of an image of ``size``) it was
    interpolated from, by their weights: the gradient of bilinear upsampling.
    d(g) = dx interpolated bilinearly again"""

    @staticmethod
    def forward(ctx, g, size, scale_factor=None, align_corners=False):
        rows, cols = _both_taps(size, g.shape[1:3], scale_factor, align_corners, g.dtype)
        ctx.settings = {"size": g.shape[1:3], "scale_factor": scale_factor,
                        "align_corners": align_corners}
        return _spread(_spread(g, 2, size[1], cols), 1, size[0], rows)

    @staticmethod
    def backward(ctx, grad):
        return UpsampleBilinear2d.call(grad, **ctx.settings)


class AdaptiveMaxPool2d(Function):
    """y = the largest element of each of the ``size`` (n_H, n_W) bins, per channel (PyTorch's
    bins, see `bin_edges`);  dx = dy at that element, 0 elsewhere (on a tie, the first in the
    bin, row by row, gets it all; a NaN is the largest, the last of several as in PyTorch)"""

    @staticmethod
    def forward(ctx, x, size):
        m, height, width, channels = x.shape
        n_h, n_w = size
        top, bottom = bin_edges(height, n_h)
        left, right = bin_edges(width, n_w)
        out = np.empty((m, n_h, n_w, channels), dtype=x.dtype)
        index = np.empty((m, n_h, n_w, channels), dtype=np.intp)
        for i in range(n_h):
            for j in range(n_w):
                span = int(right[j] - left[j])
                window = x[:, top[i]:bottom[i], left[j]:right[j]]
                flat = window.reshape(m, (bottom[i] - top[i]) * span, channels)
                first = flat.argmax(axis=1)  # the first largest, or the first NaN
                best = np.take_along_axis(flat, first[:, None], axis=1)[:, 0]
                nans = np.isnan(best)
                if nans.any():  # the last NaN, as PyTorch's (val > max or val is NaN)
                    last = flat.shape[1] - 1 - flat[:, ::-1].argmax(axis=1)
                    first = np.where(nans, last, first)
                out[:, i, j] = best
                index[:, i, j] = ((top[i] + first // span) * width + left[j]
                                  + first % span) * channels
        # flat indices into x, for max pooling's scatter-add backward
        index += (np.arange(m)[:, None, None, None] * (height * width * channels)
                  + np.arange(channels))
        ctx.index, ctx.in_shape = index, x.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        return MaxPool2dGrad.call(grad, index=ctx.index, shape=ctx.in_shape)


class AdaptiveMaxPool2dWithIndices(Function):
    """(y, indices): `AdaptiveMaxPool2d`'s y, and where each largest element sits in its image
    and channel as PyTorch's flat index h W + w (an integer output, no gradient, that
    `max_unpool2d` takes);  dx = dy at that element, 0 elsewhere"""

    @staticmethod
    def forward(ctx, x, size):
        return with_image_indices(ctx, x, AdaptiveMaxPool2d.forward(ctx, x, size))

    @staticmethod
    def backward(ctx, grad, _indices_grad):
        return MaxPool2dGrad.call(grad, index=ctx.index, shape=ctx.in_shape)

