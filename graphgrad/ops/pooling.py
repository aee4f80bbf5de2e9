"""Pooling, channels last as in the course: A of shape (m, n_H, n_W, n_C), and sequences
A of shape (m, n_L, n_C) as `conv1d` takes them.

`MaxPool2d` passes each window's gradient to its largest element (the first one on a tie, so
a max creates no gradient); `AvgPool2d` shares it equally. Pooling is unpadded by default, as
in the course. With padding p (at most f / 2, as in PyTorch, so that half of a border
window's rows and columns at least are real) max pooling pads with -inf, which never wins,
and average pooling divides by f * f (``count_include_pad=True``, PyTorch's default) or by
the real pixels of each window (False, Keras's 'same'). The window, stride, padding and
dilation are each one number or a pair (along n_H, along n_W), as PyTorch's. With
``ceil_mode`` (PyTorch's), n_H = ceil((n_H_prev + 2p - d (f - 1) - 1) / s) + 1, less one if
the last window would start past the input and its left padding: the last window may hang
over the bottom and right, padded further there (with -inf, or with zeros that average
pooling never counts). `MaxPool1d` and `AvgPool1d` pool sequences as images one pixel high,
with (1, f) windows, on the same helpers. Depends on `function`, `ops.windows`, `tensor`,
`errors`.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    ShapeError,
    array_of_numbers,
    flag,
    setting_text,
    whole_number,
)
from graphgrad.function import Function
from graphgrad.ops.windows import (
    _check_fits,
    _check_images,
    _col2im,
    _output_size,
    _padded,
    _pair,
    _sequence_misfit,
    _sides,
    _windows,
    compact,
    number_or_pair,
    padding_setting,
    pair_setting,
    takes_f,
)
from graphgrad.tensor import Tensor, _constant


def pool_settings(f: Any, stride: Any, padding: Any, caller: str,
                  dilation: Any = 1) -> tuple[Any, Any, Any]:
    """A pooling layer's (f, stride, p), checked, each a number or a pair (along n_H, along
    n_W); the stride defaults to f (windows side by side). Shared by the functions here and
    the `nn` pooling layers."""
    f = number_or_pair(f, "the window size f", caller, 1)
    stride = f if stride is None else number_or_pair(stride, "the stride", caller, 1)
    pad = padding_setting(padding, f, stride, caller, "window size", dilation)
    if isinstance(padding, str):
        for k, p, d in zip(_pair(f), _pair(pad), _pair(dilation)):
            if 2 * p > k:  # "same" of a dilated window: d (f - 1) / 2
                raise ArgumentError(
                    f"{caller}: padding='same' of a window of f={k} dilated by {d} would pad "
                    f"d (f - 1) / 2 = {p}, more than the f / 2 = {k // 2} pooling pads "
                    "(PyTorch's rule: half a border window at least is real); give the padding "
                    f"as a number <= {k // 2}, or use dilation=1")
    _check_pool_padding(f, pad, caller)
    return f, stride, pad


def pool_attrs(f: Any, stride: Any, pad: Any, count_include_pad: bool = True,
               dilation: Any = 1, ceil_mode: bool = False, divisor_override: Any = None) -> dict:
    """A pooling node's settings: f and the stride, and the padding, dilation, ceil_mode and
    divisor_override only where there are some (the picture of an unpadded pool shows f and
    stride alone, as the course's do)."""
    attrs: dict[str, Any] = {"f": f, "stride": stride}
    if pad:
        attrs["pad"] = pad
        if not count_include_pad:
            attrs["count_include_pad"] = False
    if dilation != 1:
        attrs["dilation"] = dilation
    if ceil_mode:
        attrs["ceil_mode"] = True
    if divisor_override is not None:
        attrs["divisor_override"] = divisor_override
    return attrs


def include_pad_setting(value: Any, caller: str) -> bool:
    """Average pooling's ``count_include_pad``, which must be True or False."""
    if not isinstance(value, (bool, np.bool_)):
        raise ArgumentError(f"{caller}: count_include_pad must be True (divide by f * f) or "
                            f"False (divide by the real pixels of each window), got {value!r}")
    return bool(value)


def divisor_setting(value: Any, caller: str) -> int | None:
    """Average pooling's ``divisor_override``: None (divide as count_include_pad says), or
    the whole number >= 1 every window's sum is divided by."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):  # a count_include_pad given one place too far?
        raise ArgumentError(f"{caller}: divisor_override is the number every window's sum is "
                            f"divided by (or None), got {value!r}; count_include_pad comes "
                            "before it")
    return whole_number(value, "divisor_override", caller, 1)


def ceil_mode_setting(value: Any, caller: str) -> bool:
    """A pool's ``ceil_mode``, which must be True or False."""
    return flag(value, "ceil_mode", caller)


MAX_POOL_ORDER = {
    "function": ("F.{name}(input, kernel_size, stride, padding, dilation, ceil_mode, "
                 "return_indices)", "ceil_mode"),
    "layer": ("nn.{name}(kernel_size, stride, padding, dilation, return_indices, ceil_mode)",
              "return_indices"),
}


def refuse_flags(caller: str, kind: str, **numbers: Any) -> None:
    """An `ArgumentError` for True or False given as a max pool's f, stride, padding or
    dilation (alone or in a pair), which would otherwise read as 1 or 0: likely a flag in the
    wrong place, since PyTorch's layers take return_indices fifth and its functions
    ceil_mode sixth. ``kind``: "layer" or "function", whose order the message gives."""
    for name, value in numbers.items():
        parts = value if isinstance(value, (tuple, list)) else (value,)
        if any(isinstance(v, (bool, np.bool_)) for v in parts):
            order, example = MAX_POOL_ORDER[kind]
            raise ArgumentError(
                f"{caller}: {name} must be a whole number, got {setting_text(value)}: "
                f"PyTorch's order is {order.format(name=caller)}; give a flag by name, "
                f"{caller}(..., {example}=True)")


def _check_pool_padding(f: Any, pad: Any, caller: str) -> None:
    for k, p in zip(_pair(f), _pair(pad)):
        if 2 * p > k:
            raise ArgumentError(
                f"{caller}: padding {compact(_pair(pad))} is more than half the window size "
                f"f={compact(_pair(f))}; pooling pads at most f / 2, as in PyTorch, so that "
                "half of a border window's rows and columns at least are real: use padding "
                f"<= {k // 2}"
            )


def _ceil_sides(size: int, f: int, stride: int, pad: int, dilation: int,
                ceil_mode: bool) -> tuple[int, Any]:
    """(n, the axis's padding): n windows along an axis of ``size`` padded by p on each side,
    and p, or with ``ceil_mode`` PyTorch's count, n = ceil((size + 2p - d (f - 1) - 1) / s) +
    1, less one if the last window would start at or past size + p (past the input and its
    left padding), and (p, p + the cells the last window hangs over the padding)."""
    if not ceil_mode:
        return _output_size(size, f, stride, pad, dilation), pad
    span = dilation * (f - 1) + 1
    n = -(-(size + 2 * pad - span) // stride) + 1
    if (n - 1) * stride >= size + pad:
        n -= 1
    extra = (n - 1) * stride + span - (size + 2 * pad)
    return n, ((pad, pad + extra) if extra > 0 else pad)


def _check_pool(x: np.ndarray, f: Any, stride: Any, pad: Any, op: str, dilation: Any = 1,
                ceil_mode: bool = False) -> tuple:
    """Pooling's settings and images, checked: (window (f_h, f_w), strides (s_h, s_w), the
    padding of each axis (p, or (before, after) with ceil_mode), dilations (d_h, d_w))."""
    window = _pair(number_or_pair(f, "the window size f", op, 1))
    strides = _pair(number_or_pair(stride, "the stride", op, 1))
    pads = _pair(number_or_pair(pad, "the padding", op, 0))
    dilations = _pair(number_or_pair(dilation, "dilation", op, 1))
    ceil_mode = ceil_mode_setting(ceil_mode, op)
    _check_pool_padding(window, pads, op)
    _check_images(x, "pooling")
    sides = []
    for size, k, s, p, d in zip(x.shape[1:3], window, strides, pads, dilations):
        n, side = _ceil_sides(size, k, s, p, d, ceil_mode)
        if n < 1:
            _check_fits(x.shape, *window, strides, pads, pooling=True, dilation=dilations)
        _check_real_taps(size, k, s, p, d, n)
        sides.append(side)
    return window, strides, tuple(sides), dilations


def _check_real_taps(size: int, f: int, stride: int, pad: int, dilation: int,
                     n_out: int) -> None:
    """Refuse a dilated window whose pixels along an axis of ``size`` all fall on the padding
    (its pixels d apart may step over the image): its max would be -inf, with no pixel to
    take the gradient. Undilated windows always hold a real pixel (p <= f / 2, and with
    ceil_mode the last window starts inside the input or its left padding)."""
    if dilation == 1:
        return
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
    all, and of several NaNs the last, as in PyTorch; padding never gets any)"""

    @staticmethod
    def forward(ctx, x, f, stride, pad=0, dilation=1, ceil_mode=False):
        window, strides, pads, dilations = _check_pool(x, f, stride, pad, "MaxPool2d", dilation,
                                                       ceil_mode)
        best, ctx.index = _max_pool(x, window, strides, pads, dilations)
        ctx.in_shape = x.shape
        return best

    @staticmethod
    def backward(ctx, grad):
        return MaxPool2dGrad.call(grad, index=ctx.index, shape=ctx.in_shape)


def _max_pool(x: np.ndarray, window: tuple[int, int], stride: Any, pads: tuple,
              dilation: Any = 1) -> tuple[np.ndarray, np.ndarray]:
    """(y, index): the largest element of each f_h x f_w window of x (m, H, W, C) padded by
    (p_h, p_w) cells of -inf (each p, or (before, after)), its pixels ``dilation`` apart, and
    where each sits in x as one flat index (for the scatter-add of `MaxPool2dGrad`). Max
    pooling's forward, of images and of sequences (images one pixel high, windows (1, f))."""
    f_h, f_w = window
    s_h, s_w = _pair(stride)
    d_h, d_w = _pair(dilation)
    # Padded with -inf, which never beats a real pixel (every window has one: p <= f / 2,
    # and `_check_real_taps` for dilated windows).
    windows = _windows(_padded(x, pads, -np.inf), f_h, f_w, (s_h, s_w), (d_h, d_w))
    m, n_h, n_w, _, _, channels = windows.shape
    height, width = x.shape[1:3]
    best = windows[:, :, :, 0, 0].copy()
    for k in range(1, f_h * f_w):  # f * f maxima over every window at once: quicker than max
        np.maximum(best, windows[:, :, :, k // f_w, k % f_w], out=best)
    nans = np.isnan(best)
    if nans.any():  # NaN wins, the last of a window's as PyTorch's (val > max or val is NaN)
        values = windows.transpose(0, 1, 2, 5, 3, 4).reshape(best.shape + (f_h * f_w,))
        last = f_h * f_w - 1 - values[..., ::-1].argmax(axis=-1)  # argmax finds a NaN first
        first = np.where(nans, last, values.argmax(axis=-1))
    else:
        first = _first_position(windows, best)
    # Where each window's largest element sits in x, as one flat index: the gradient goes
    # back there, in a 1-D scatter-add several times quicker than one through four index
    # arrays. Window (h, w) of example i starts at pixel (h s - p_h, w s - p_w) of x.
    (top_pad, bottom_pad), (left_pad, right_pad) = _sides(pads[0]), _sides(pads[1])
    top = np.arange(n_h)[:, None, None] * s_h - top_pad
    left = np.arange(n_w)[:, None] * s_w - left_pad
    if top_pad or bottom_pad or left_pad or right_pad:
        i, j = np.divmod(first, f_w)
        rows, cols = top + i * d_h, left + j * d_w
        # A window whose real pixels are all -inf ties with its padding, and the first
        # largest may be a padded cell: its gradient goes to the window's first real pixel,
        # the first of its rows and of its columns at or after 0.
        padding = (rows < 0) | (rows >= height) | (cols < 0) | (cols >= width)
        if padding.any():
            rows = np.where(padding, top + np.maximum(0, -(top // d_h)) * d_h, rows)
            cols = np.where(padding, left + np.maximum(0, -(left // d_w)) * d_w, cols)
        index = (rows * width + cols) * channels
    else:  # the offset of each position in its window, looked up
        positions = np.arange(f_h * f_w)
        offsets = (positions // f_w * (width * d_h) + positions % f_w * d_w) * channels
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


def with_image_indices(ctx: Any, x: np.ndarray, best: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
    """(best, indices): a max pool's output and, from the flat index into x (m, H, W, C) that
    its forward left in ctx.index, PyTorch's index h W + w of each largest element within its
    image and channel."""
    m, height, width, channels = x.shape
    # index = ((i H + h) W + w) C + c: (h W + w) is the index // C within its image
    indices = (ctx.index // channels) % (height * width) if channels and m else ctx.index
    return best, indices.astype(np.int64, copy=False)


class MaxPool2dWithIndices(Function):
    """(y, indices): `MaxPool2d`'s y, and where each largest element sits in its image and
    channel as PyTorch's flat index h n_W_prev + w (an integer output, no gradient);
    dx = dy at that element, 0 elsewhere"""

    @staticmethod
    def forward(ctx, x, f, stride, pad=0, dilation=1, ceil_mode=False):
        return with_image_indices(ctx, x, MaxPool2d.forward(ctx, x, f, stride, pad, dilation,
                                                            ceil_mode))

    @staticmethod
    def backward(ctx, grad, _indices_grad):
        return MaxPool2dGrad.call(grad, index=ctx.index, shape=ctx.in_shape)


class MaxUnpool2d(Function):
    """y = zeros of ``shape`` (m, n_H, n_W, n_C) with each x[i, h, w, c] put at pixel
    ``indices[i, h, w, c]`` (a flat index h' n_W + w') of image i, channel c: the inverse of
    max pooling where it took its values (PyTorch's MaxUnpool2d);  dx = dy at those pixels"""

    @staticmethod
    def forward(ctx, x, indices, shape):
        m, height, width, channels = shape
        indices = indices.astype(np.intp, copy=False)
        ctx.place = ((np.arange(m)[:, None, None, None] * (height * width) + indices) * channels
                     + np.arange(channels)).reshape(-1)
        ctx.x_shape = x.shape
        out = np.zeros(math.prod(shape), dtype=x.dtype)
        # Where overlapping windows took the same pixel, its value is put there twice (the
        # same value); each x gets that pixel's gradient, as in PyTorch.
        out[ctx.place] = x.reshape(-1)
        return out.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return MaxUnpool2dGrad.call(grad, place=ctx.place, shape=ctx.x_shape), None


class MaxUnpool2dGrad(Function):
    """x = g at the flat positions ``place``, in ``shape``: the gradient of max unpooling.
    d(g) = those values added back at their positions"""

    @staticmethod
    def forward(ctx, g, place, shape):
        ctx.place, ctx.g_shape = place, g.shape
        return g.reshape(-1)[place].reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return MaxPool2dGrad.call(grad, index=ctx.place.reshape(grad.shape), shape=ctx.g_shape)


def _window_sizes(shape: tuple, window: tuple[int, int], stride: Any, pads: tuple,
                  count_include_pad: bool, dtype: Any, divisor: Any = None) -> Any:
    """What average pooling divides each window's sum by: ``divisor`` when given (PyTorch's
    divisor_override), else f_h * f_w, or, with count_include_pad False, the real pixels of
    each window, (1, n_H, n_W, 1) (fewer near a padded border). Cells a ceil_mode window
    hangs over the padding never count (PyTorch's rule): with count_include_pad, a border
    window there counts the pixels and the padding p it covers."""
    if divisor is not None:
        return divisor
    f_h, f_w = window
    sides = (_sides(pads[0]), _sides(pads[1]))
    if count_include_pad:
        if sides[0][0] == sides[0][1] and sides[1][0] == sides[1][1]:
            return f_h * f_w
        # ones over the image and its padding p, zeros over what ceil_mode adds after it
        inner = np.ones((1, shape[1] + 2 * sides[0][0], shape[2] + 2 * sides[1][0], 1),
                        dtype=dtype)
        counted = _padded(inner, ((0, sides[0][1] - sides[0][0]),
                                  (0, sides[1][1] - sides[1][0])))
    else:
        if not any(sides[0] + sides[1]):
            return f_h * f_w
        counted = _padded(np.ones((1, shape[1], shape[2], 1), dtype=dtype), pads)
    return _windows(counted, f_h, f_w, stride).sum(axis=(3, 4))


def _avg_pool(x: np.ndarray, window: tuple[int, int], stride: Any, pads: tuple,
              count_include_pad: bool, divisor: Any = None) -> np.ndarray:
    """The mean of each f_h x f_w window of x (m, H, W, C) padded by (p_h, p_w) zeros (each
    p, or (p, p + what ceil_mode adds)), or its sum over ``divisor``: average pooling's
    forward, of images and of sequences (windows (1, f))."""
    sums = _windows(_padded(x, pads), *window, stride).sum(axis=(3, 4))
    return sums / _window_sizes(x.shape, window, stride, pads, count_include_pad, x.dtype,
                                divisor)


def _avg_pool_grad(g: np.ndarray, shape: tuple, window: tuple[int, int], stride: Any,
                   pads: tuple, count_include_pad: bool, divisor: Any = None) -> np.ndarray:
    """Each g (m, n_H, n_W, C) divided as `_avg_pool` divides and spread over its window, in
    an array of ``shape`` (the padding dropped): the adjoint of `_avg_pool`."""
    m, n_h, n_w, channels = g.shape
    sizes = _window_sizes(shape, window, stride, pads, count_include_pad, g.dtype, divisor)
    share = (g / sizes).astype(g.dtype, copy=False)
    pieces = np.broadcast_to(share[:, :, :, None, None, :], (m, n_h, n_w, *window, channels))
    return _col2im(pieces, tuple(shape), stride, pads)


def _keep_avg_settings(ctx: Function, f: Any, stride: Any, pad: Any, count_include_pad: bool,
                       ceil_mode: bool, divisor_override: Any = None) -> None:
    """Keep on an average pooling node the settings its gradient op takes (and back)."""
    ctx.settings = pool_attrs(f, stride, pad, count_include_pad, ceil_mode=ceil_mode,
                              divisor_override=divisor_override)
    ctx.settings.setdefault("pad", 0)


class AvgPool2d(Function):
    """y = the mean of each f x f window, per channel (padding counts as zeros, or, with
    count_include_pad False, not at all), or its sum over ``divisor_override``;  dx = dy /
    (f * f, the window's real pixels, or the divisor) at every real element of the window
    (overlapping windows add up)"""

    @staticmethod
    def forward(ctx, x, f, stride, pad=0, count_include_pad=True, ceil_mode=False,
                divisor_override=None):
        window, strides, pads, _ = _check_pool(x, f, stride, pad, "AvgPool2d",
                                               ceil_mode=ceil_mode)
        _keep_avg_settings(ctx, f, stride, pad, count_include_pad, ceil_mode, divisor_override)
        ctx.in_shape = x.shape
        return _avg_pool(x, window, strides, pads, count_include_pad, divisor_override)

    @staticmethod
    def backward(ctx, grad):
        return AvgPool2dGrad.call(grad, shape=ctx.in_shape, **ctx.settings)


class AvgPool2dGrad(Function):
    """x = each dy divided as in average pooling and spread over its window, of shape
    ``shape`` (padding dropped): the gradient of average pooling.  d(dy) = avg_pool(dx)"""

    @staticmethod
    def forward(ctx, g, shape, f, stride, pad=0, count_include_pad=True, ceil_mode=False,
                divisor_override=None):
        window, strides = _pair(f), _pair(stride)
        pads = tuple(_ceil_sides(size, k, s, p, 1, ceil_mode)[1]  # as the forward padded
                     for size, k, s, p in zip(shape[1:3], window, strides, _pair(pad)))
        _keep_avg_settings(ctx, f, stride, pad, count_include_pad, ceil_mode, divisor_override)
        return _avg_pool_grad(g, shape, window, strides, pads, count_include_pad,
                              divisor_override)

    @staticmethod
    def backward(ctx, grad):
        return AvgPool2d.call(grad, **ctx.settings)


def _check_pool1d(x: np.ndarray, f: Any, stride: Any, pad: Any, op: str,
                  dilation: int = 1, ceil_mode: bool = False) -> tuple[int, Any]:
    """1-D pooling's settings, and sequences A (m, n_L, n_C) that a window of f steps fits:
    (n_L, the padding p, or (before, after) with ceil_mode)."""
    whole_number(f, "the window size f", op, 1)
    whole_number(stride, "the stride", op, 1)
    whole_number(pad, "the padding", op, 0)
    whole_number(dilation, "dilation", op, 1)
    ceil_mode = ceil_mode_setting(ceil_mode, op)
    _check_pool_padding(f, pad, op)
    if x.ndim != 3:
        tip = {2: " (one sequence? add the batch axis: A[None]; sequences of one channel? add "
                  "the channel axis: A[..., None])",
               4: f" (images? use {op[:3].lower()}_pool2d)"}.get(x.ndim, "")
        raise ValueError(f"1-D pooling takes sequences A of shape (m, n_L, n_C), channels "
                         f"last; got shape {x.shape}{tip}")
    n_l, side = _ceil_sides(x.shape[1], f, stride, pad, dilation, ceil_mode)
    if n_l < 1:
        raise _sequence_misfit(x.shape[1], f, stride, pad, dilation, pooling=True)
    _check_real_taps(x.shape[1], f, stride, pad, dilation, n_l)
    return n_l, side


class MaxPool1d(Function):
    """y = the largest element of each window of f steps (``dilation`` apart), per channel, as
    `MaxPool2d` of the sequences as images one pixel high with (1, f) windows;  dx = dy at
    that element, 0 elsewhere (the first on a tie; padding never gets any)"""

    @staticmethod
    def forward(ctx, x, f, stride, pad=0, dilation=1, ceil_mode=False):
        _, side = _check_pool1d(x, f, stride, pad, "MaxPool1d", dilation, ceil_mode)
        best, index = _max_pool(x[:, None], (1, f), (1, stride), (0, side), (1, dilation))
        ctx.index, ctx.in_shape = index[:, 0], x.shape  # flat indices into x itself
        return best[:, 0]

    @staticmethod
    def backward(ctx, grad):
        return MaxPool2dGrad.call(grad, index=ctx.index, shape=ctx.in_shape)


class MaxPool1dWithIndices(Function):
    """(y, indices): `MaxPool1d`'s y, and the step of its sequence and channel where each
    largest element sits, PyTorch's index l (an integer output, no gradient);  dx = dy at
    that element, 0 elsewhere"""

    @staticmethod
    def forward(ctx, x, f, stride, pad=0, dilation=1, ceil_mode=False):
        best = MaxPool1d.forward(ctx, x, f, stride, pad, dilation, ceil_mode)
        m, length, channels = x.shape
        # index = (i L + l) C + c: l is the index // C within its sequence
        indices = (ctx.index // channels) % length if channels and m else ctx.index
        return best, indices.astype(np.int64, copy=False)

    @staticmethod
    def backward(ctx, grad, _indices_grad):
        return MaxPool2dGrad.call(grad, index=ctx.index, shape=ctx.in_shape)


class MaxUnpool1d(Function):
    """y = zeros of ``shape`` (m, n_L, n_C) with each x[i, l, c] put at step
    ``indices[i, l, c]`` of sequence i, channel c: the inverse of 1-D max pooling where it
    took its values (PyTorch's MaxUnpool1d), `MaxUnpool2d` of sequences as images one pixel
    high;  dx = dy at those steps"""

    @staticmethod
    def forward(ctx, x, indices, shape):
        m, length, channels = shape
        y = MaxUnpool2d.forward(ctx, x[:, None], indices[:, None], (m, 1, length, channels))
        ctx.x_shape = x.shape
        return y[:, 0]

    @staticmethod
    def backward(ctx, grad):
        return MaxUnpool2dGrad.call(grad, place=ctx.place, shape=ctx.x_shape), None


class AvgPool1d(Function):
    """y = the mean of each window of f steps, per channel (padding counts as zeros, or, with
    count_include_pad False, not at all), as `AvgPool2d` of the sequences as images one pixel
    high;  dx = dy / (f, or the window's real steps) at every real step of the window"""

    @staticmethod
    def forward(ctx, x, f, stride, pad=0, count_include_pad=True, ceil_mode=False):
        _, side = _check_pool1d(x, f, stride, pad, "AvgPool1d", ceil_mode=ceil_mode)
        _keep_avg_settings(ctx, f, stride, pad, count_include_pad, ceil_mode)
        ctx.in_shape = x.shape
        return _avg_pool(x[:, None], (1, f), (1, stride), (0, side), count_include_pad)[:, 0]

    @staticmethod
    def backward(ctx, grad):
        return AvgPool1dGrad.call(grad, shape=ctx.in_shape, **ctx.settings)


class AvgPool1dGrad(Function):
    """x = each dy divided as in 1-D average pooling and spread over its window, of shape
    ``shape`` (m, n_L_prev, n_C) (padding dropped): the gradient of 1-D average pooling.
    d(dy) = avg_pool1d(dx)"""

    @staticmethod
    def forward(ctx, g, shape, f, stride, pad=0, count_include_pad=True, ceil_mode=False):
        side = _ceil_sides(shape[1], f, stride, pad, 1, ceil_mode)[1]  # as the forward padded
        _keep_avg_settings(ctx, f, stride, pad, count_include_pad, ceil_mode)
        m, length, channels = shape
        return _avg_pool_grad(g[:, None], (m, 1, length, channels), (1, f), (1, stride),
                              (0, side), count_include_pad)[:, 0]

    @staticmethod
    def backward(ctx, grad):
        return AvgPool1d.call(grad, **ctx.settings)


@takes_f
def max_pool2d(A: Any, f: int | tuple[int, int], stride: int | tuple[int, int] | None = None,
               padding: int | tuple[int, int] | str = 0, dilation: int | tuple[int, int] = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """The course's max pooling: the largest value of each f x f window, channel by channel.

    A: (m, n_H_prev, n_W_prev, n_C) -> (m, n_H, n_W, n_C), n_H = floor((n_H_prev + 2p - f) / s)
    + 1. ``f``, ``stride``, ``padding`` and ``dilation`` are each a number or a pair (along
    n_H, along n_W), as PyTorch's kernel_size=(2, 3); n_W takes f_w, s_w, p_w and d_w.
    ``stride`` defaults to f (windows side by side). ``padding``: p <= f / 2, "valid" (0)
    or "same" (stride 1, odd f: the size is kept); padded cells are -inf and never chosen.
    ``dilation``: d, the step between a window's pixels (PyTorch's): n_H = floor((n_H_prev +
    2p - d (f - 1) - 1) / s) + 1; a window that would read only padding is refused.
    ``ceil_mode``: PyTorch's, ceil for floor in n_H, less one if the last window would start
    past the input and its left padding; that window hangs over the bottom or right edge, and
    takes the largest of the pixels it covers. ``return_indices``: also give where each
    largest value sits, for `max_unpool2d`: an integer tensor (m, n_H, n_W, n_C) of
    PyTorch's flat indices into each image's channel, h n_W_prev + w (row h, column w of
    A[i, :, :, c]; PyTorch's indices of the NCHW images, transposed to NHWC).
    """
    refuse_flags("max_pool2d", "function", f=f, stride=stride, padding=padding,
                 dilation=dilation)
    dilation = number_or_pair(dilation, "dilation", "max_pool2d", 1)
    f, stride, pad = pool_settings(f, stride, padding, "max_pool2d", dilation)
    ceil_mode = ceil_mode_setting(ceil_mode, "max_pool2d")
    attrs = pool_attrs(f, stride, pad, dilation=dilation, ceil_mode=ceil_mode)
    if flag(return_indices, "return_indices", "max_pool2d"):
        return MaxPool2dWithIndices.apply(A, **attrs)
    return MaxPool2d.apply(A, **attrs)


@takes_f
def max_unpool2d(A: Any, indices: Any, f: int | tuple[int, int],
                 stride: int | tuple[int, int] | None = None,
                 padding: int | tuple[int, int] = 0, output_size: Any = None) -> Tensor:
    """The inverse of max pooling where it took its values (PyTorch's F.max_unpool2d,
    channels last): zeros, with each A[i, h, w, c] put back at the pixel ``indices[i, h, w,
    c]`` (h' n_W + w', as `max_pool2d` gives them with return_indices=True) of image i,
    channel c. SegNet's decoder upsamples this way.

    A: (m, n_H_prev, n_W_prev, n_C) -> (m, n_H, n_W, n_C), n_H = (n_H_prev - 1) s - 2p + f
    (the size the pooling came from, or the one below it where pooling dropped rows), or
    ``output_size`` (n_H, n_W) (or a whole shape (m, n_H, n_W, n_C)) for the others. f,
    stride (f by default) and padding are the pooling's, each a number or a pair. Where
    overlapping windows took the same pixel it holds their (equal) value; the gradient of
    each A is that pixel's, as in PyTorch.
    """
    caller = "max_unpool2d"
    f, stride, pad = pool_settings(f, stride, padding, caller)
    values, index = _unpool_inputs(A, indices, caller, 4, "pooled images A of shape "
                                   "(m, n_H, n_W, n_C)", "max_pool2d")
    m, n_h, n_w, channels = values.shape
    if output_size is None:
        size = tuple((n - 1) * s - 2 * p + k
                     for n, k, s, p in zip((n_h, n_w), _pair(f), _pair(stride), _pair(pad)))
    else:
        given = tuple(output_size) if isinstance(output_size, (tuple, list)) else output_size
        if isinstance(given, tuple) and len(given) == 4:
            given = given[1:3]
        size = pair_setting(given, "output_size", caller, 1)
    _check_unpool_indices(index, size[0] * size[1],
                          f"{size[0]} x {size[1]} = {size[0] * size[1]} pixels", caller)
    if not isinstance(indices, Tensor):  # integers as they are, not lifted to A's float dtype
        indices = _constant(index)
    return MaxUnpool2d.apply(A, indices, shape=(m, *size, channels))


@takes_f
def avg_pool2d(A: Any, f: int | tuple[int, int], stride: int | tuple[int, int] | None = None,
               padding: int | tuple[int, int] | str = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """The course's average pooling: the mean of each f x f window, channel by channel.

    A: (m, n_H_prev, n_W_prev, n_C) -> (m, n_H, n_W, n_C), n_H = floor((n_H_prev + 2p - f) / s)
    + 1. ``f``, ``stride`` and ``padding`` are each a number or a pair (along n_H, along
    n_W). ``stride`` defaults to f (windows side by side). ``padding``: p <= f / 2, "valid"
    (0) or "same" (stride 1, odd f: the size is kept). Padded cells are zeros that count
    (``count_include_pad=True``: each sum is divided by f * f, as in PyTorch) or that do not
    (False: divided by the real pixels of the window, as Keras's padding='same'). ``ceil_mode``:
    PyTorch's, as for `max_pool2d`: a last window hanging over the bottom or right edge
    divides by the pixels and the padding p it covers (by its pixels with
    count_include_pad=False), never by the cells beyond the padding. ``divisor_override``:
    PyTorch's, a whole number every window's sum is divided by instead (count_include_pad
    then changes nothing). The arguments come in PyTorch's order (F.avg_pool2d's).
    """
    f, stride, pad = pool_settings(f, stride, padding, "avg_pool2d")
    include = include_pad_setting(count_include_pad, "avg_pool2d")
    ceil_mode = ceil_mode_setting(ceil_mode, "avg_pool2d")
    divisor = divisor_setting(divisor_override, "avg_pool2d")
    return AvgPool2d.apply(A, **pool_attrs(f, stride, pad, include, ceil_mode=ceil_mode,
                                           divisor_override=divisor))


@takes_f
def max_pool1d(A: Any, f: int, stride: int | None = None, padding: int | str = 0,
               dilation: int = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Max pooling along sequences: the largest value of each window of f steps, channel by
    channel (PyTorch's F.max_pool1d on (m, n_C, n_L) transposed).

    A: (m, n_L_prev, n_C), channels last as `conv1d` takes it -> (m, n_L, n_C),
    n_L = floor((n_L_prev + 2p - f) / s) + 1. ``stride`` defaults to f (windows side by
    side). ``padding``: p <= f / 2, "valid" (0) or "same" (stride 1, odd f: the length is
    kept); padded steps are -inf and never chosen. ``dilation``: d, the step between a
    window's steps: n_L = floor((n_L_prev + 2p - d (f - 1) - 1) / s) + 1. ``ceil_mode``:
    PyTorch's, ceil for floor, as for `max_pool2d`. ``return_indices``: also give the step l
    of A[i, :, c] where each largest value sits, for `max_unpool1d`: an integer tensor
    (m, n_L, n_C) (PyTorch's indices of the (m, n_C, n_L) sequences, transposed).
    """
    refuse_flags("max_pool1d", "function", f=f, stride=stride, padding=padding,
                 dilation=dilation)
    dilation = whole_number(dilation, "dilation", "max_pool1d", 1)
    f, stride, pad = _pool1d_settings(f, stride, padding, "max_pool1d", dilation)
    ceil_mode = ceil_mode_setting(ceil_mode, "max_pool1d")
    attrs = pool_attrs(f, stride, pad, dilation=dilation, ceil_mode=ceil_mode)
    if flag(return_indices, "return_indices", "max_pool1d"):
        return MaxPool1dWithIndices.apply(A, **attrs)
    return MaxPool1d.apply(A, **attrs)


@takes_f
def max_unpool1d(A: Any, indices: Any, f: int, stride: int | None = None, padding: int = 0,
                 output_size: Any = None) -> Tensor:
    """The inverse of 1-D max pooling where it took its values (PyTorch's F.max_unpool1d,
    channels last): zeros, with each A[i, l, c] put back at the step ``indices[i, l, c]`` of
    sequence i, channel c (as `max_pool1d` gives them with return_indices=True).

    A: (m, n_L_prev, n_C) -> (m, n_L, n_C), n_L = (n_L_prev - 1) s - 2p + f (the length the
    pooling came from, or the one below it where pooling dropped steps), or ``output_size``
    n_L (or (n_L,), or a whole shape (m, n_L, n_C)) for the others. f, stride (f by
    default) and padding are the pooling's, whole numbers. Where overlapping windows took the
    same step it holds their (equal) value; the gradient of each A is that step's.
    """
    caller = "max_unpool1d"
    f, stride, pad = _pool1d_settings(f, stride, padding, caller)
    values, index = _unpool_inputs(A, indices, caller, 3, "pooled sequences A of shape "
                                   "(m, n_L, n_C)", "max_pool1d")
    m, n_l, channels = values.shape
    if output_size is None:
        length = (n_l - 1) * stride - 2 * pad + f
    else:
        given = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,)
        if len(given) == 3:
            given = given[1:2]
        if len(given) != 1:
            raise ArgumentError(f"{caller}: output_size is the length n_L (or (m, n_L, n_C)), "
                                f"got {output_size!r}")
        length = whole_number(given[0], "output_size", caller, 1)
    _check_unpool_indices(index, length, f"{length} steps", caller)
    if not isinstance(indices, Tensor):  # integers as they are, not lifted to A's float dtype
        indices = _constant(index)
    return MaxUnpool1d.apply(A, indices, shape=(m, length, channels))


def _unpool_inputs(A: Any, indices: Any, caller: str, ndim: int, what: str,
                   pool: str) -> tuple[np.ndarray, np.ndarray]:
    """A's values and the indices of max unpooling, checked: A of ``ndim`` axes, the
    indices integers of its shape."""
    values = A.data if isinstance(A, Tensor) else array_of_numbers(A, "A", caller)
    index = (indices.data if isinstance(indices, Tensor)
             else array_of_numbers(indices, "indices", caller))
    if values.ndim != ndim:
        raise ShapeError(f"{caller} takes {what}, channels last; got shape {values.shape}")
    if index.shape != values.shape or index.dtype.kind not in "iu":
        raise ArgumentError(
            f"{caller}: indices must be integers of A's shape {values.shape}, as {pool}(..., "
            f"return_indices=True) gives them; got {index.dtype} of shape {index.shape}")
    return values, index


def _check_unpool_indices(index: np.ndarray, count: int, size: str, caller: str) -> None:
    """Refuse indices outside the ``count`` positions (``size``) of the output."""
    if index.size and (index.min() < 0 or index.max() >= count):
        raise ArgumentError(
            f"{caller}: indices run from {index.min()} to {index.max()}, outside the "
            f"{size} of the output; give the pooling's f, stride and padding, or its input's "
            "size as output_size")


@takes_f
def avg_pool1d(A: Any, f: int, stride: int | None = None, padding: int | str = 0,
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    """Average pooling along sequences: the mean of each window of f steps, channel by channel
    (PyTorch's F.avg_pool1d on (m, n_C, n_L) transposed).

    A: (m, n_L_prev, n_C), channels last as `conv1d` takes it -> (m, n_L, n_C),
    n_L = floor((n_L_prev + 2p - f) / s) + 1. ``stride`` defaults to f. ``padding``:
    p <= f / 2, "valid" (0) or "same" (stride 1, odd f). Padded steps are zeros that count
    (``count_include_pad=True``: each sum divided by f, as in PyTorch) or that do not
    (False: divided by the real steps of the window). ``ceil_mode``: PyTorch's, as for
    `avg_pool2d`. The arguments come in PyTorch's order (F.avg_pool1d's).
    """
    f, stride, pad = _pool1d_settings(f, stride, padding, "avg_pool1d")
    include = include_pad_setting(count_include_pad, "avg_pool1d")
    ceil_mode = ceil_mode_setting(ceil_mode, "avg_pool1d")
    return AvgPool1d.apply(A, **pool_attrs(f, stride, pad, include, ceil_mode=ceil_mode))


def _pool1d_settings(f: Any, stride: Any, padding: Any, caller: str,
                     dilation: int = 1) -> tuple[int, int, int]:
    """A 1-D pool's (f, stride, p): whole numbers, as `pool_settings` checks them (a pair
    would be read as two axes)."""
    for value, what in ((f, "the window size f"), (stride, "the stride"),
                        (padding, "the padding")):
        if isinstance(value, (tuple, list)):
            raise ArgumentError(f"{caller}: {what} of a 1-D pool must be a whole number, got "
                                f"{value!r}")
    return pool_settings(f, stride, padding, caller, dilation)
