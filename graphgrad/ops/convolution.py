"""Convolutions, channels last as in the course: images, and sequences for 1-D convolutions.

A batch of images is A of shape (m, n_H, n_W, n_C): m examples, height, width, channels (the
course's A_prev of shape (m, n_H_prev, n_W_prev, n_C_prev)). A bank of filters is W of shape
(f, f, n_C_prev, n_C), its bias b of shape (n_C,) (the course's (1, 1, 1, n_C) works too).
With padding p and stride s, an input n_H_prev high gives

    n_H = floor((n_H_prev + 2p - f) / s) + 1

rows of output, and the same for the width.

`Conv2d` is one node: it pads, lays the f x f windows side by side (im2col) and does one
matrix product; with ``groups`` G, one per group of n_C_prev / G channels and n_C / G filters
(a batched product; G = n_C_prev is MobileNet's depthwise convolution). Its backward is two
ops of its own, `Conv2dInputGrad` (the transposed convolution) and `Conv2dWeightGrad`; the
three are one bilinear map seen from each side, so
each one's backward is made of the other two, and second derivatives of convolutions work.
Inside, the three take the padding as one number or as a pair (p_h, p_w), and a
``dilation`` d (a filter's pixels d apart: the windows' view with other strides, n_H =
floor((n_H_prev + 2p - d (f - 1) - 1) / s) + 1). `ConvTranspose2d`,
the transposed convolution as a layer's op (U-Net's up-convolution), is `Conv2dInputGrad`
with a bias and the output size given by the stride, the padding and output_padding; its
backward is made of the same ops.

A batch of sequences is A of shape (m, n_L, n_C): time steps and channels, as the course's
RNN input (m, T_x, n_x) and Keras's Conv1D (course 5's trigger-word model convolves a
spectrogram this way). `Conv1d` is one node too: a sequence is an image one pixel high,
A[:, None] of shape (m, 1, n_L, n_C), convolved by (1, f) filters W[None] with padding
(0, p), so it shares the windows, the matrix product and both gradient ops of `Conv2d`.

The windows, padding and fit checks are `ops.windows`'s; pooling is `ops.pooling`.
Depends on `function`, `ops.windows`, `tensor`, `errors`.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    GraphgradTypeError,
    describe,
    renamed,
    setting_text,
    whole_number,
)
from graphgrad.function import Function
from graphgrad.ops.windows import (
    _check_fits,
    _check_images,
    _col2im,
    _im2col,
    _output_size,
    _padded,
    _pair,
    _sequence_misfit,
    _sides,
    _windows,
    compact,
    number_or_pair,
    padding_setting,
    transposed_padding_setting,
)
from graphgrad.tensor import Tensor


def _pads(pad: Any, caller: str) -> tuple:
    """(p_h, p_w): the rows of zeros above and below each image, the columns left and right.
    A number p is (p, p); a pair pads the axes apart, as a sequence (an image one pixel high)
    is padded along its length only; each of p_h and p_w may be a pair (before, after) too,
    as padding="same" pads an even filter (one more after)."""
    if isinstance(pad, tuple) and len(pad) == 2:
        return (_axis_pad(pad[0], "the vertical padding", caller),
                _axis_pad(pad[1], "the horizontal padding", caller))
    pad = whole_number(pad, "the padding", caller, 0)
    return pad, pad


def _axis_pad(pad: Any, what: str, caller: str) -> Any:
    """One axis's padding: p on each side, or a pair (before, after)."""
    if isinstance(pad, tuple) and len(pad) == 2:
        return (whole_number(pad[0], f"{what} before", caller, 0),
                whole_number(pad[1], f"{what} after", caller, 0))
    return whole_number(pad, what, caller, 0)


def _convolve(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: Any,
              pads: tuple, groups: int = 1, dilation: Any = 1) -> np.ndarray:
    """conv(x, w) + b for images x (m, H, W, C) and filters w (f_h, f_w, C / groups, n_C)
    that fit: the windows of the padded x (their pixels ``dilation`` apart) as rows (im2col)
    times the filters as columns, one product per group of channels."""
    m, height, width, _ = x.shape
    f_h, f_w, _, n_c = w.shape
    s_h, s_w = _pair(stride)
    d_h, d_w = _pair(dilation)
    n_h = _output_size(height, f_h, s_h, pads[0], d_h)
    n_w = _output_size(width, f_w, s_w, pads[1], d_w)
    if groups == 1:
        z = _im2col(x, f_h, f_w, stride, pads, dilation) @ w.reshape(-1, n_c)
    elif w.shape[2] == 1:  # depthwise: a weighted sum over each window, channel by channel
        windows = _windows(_padded(x, pads), f_h, f_w, stride, dilation)
        z = np.einsum("mhwijc,ijcq->mhwcq", windows, _depthwise_filters(w, groups))
    else:  # (G, windows, f_h f_w C/G) @ (G, f_h f_w C/G, n_C/G), then the groups side by side
        z = (_grouped_im2col(x, f_h, f_w, stride, pads, groups, dilation)
             @ _grouped_filters(w, groups))
        z = z.transpose(1, 0, 2)
    z = z.reshape(m, n_h, n_w, n_c)
    if b is not None:
        z += b.reshape(n_c)
    return z


def _transposed(g: np.ndarray, w: np.ndarray, x_shape: tuple, stride: Any,
                pads: tuple, groups: int = 1, dilation: Any = 1) -> np.ndarray:
    """The transposed convolution of g (m, n_H, n_W, n_C) by w (f_h, f_w, C / groups, n_C),
    of shape ``x_shape`` (m, H, W, C): each pixel of g adds g[i, h, w] @ w^T into its window,
    then the padding is cropped. The adjoint of `_convolve` (without bias) for inputs of
    x_shape."""
    m, n_h, n_w, n_c = g.shape
    f_h, f_w, per_group, _ = w.shape
    if groups == 1:
        pieces = g.reshape(-1, n_c) @ w.reshape(-1, n_c).T
    elif per_group == 1:  # depthwise: each channel's outputs spread back over that channel
        filters = _depthwise_filters(w, groups)
        pieces = np.einsum("mhwcq,ijcq->mhwijc", g.reshape(m, n_h, n_w, *filters.shape[2:]),
                           filters)
    else:  # group k's outputs spread back over group k's channels only
        g_groups = g.reshape(-1, groups, n_c // groups).transpose(1, 0, 2)
        pieces = g_groups @ _grouped_filters(w, groups).transpose(0, 2, 1)
        pieces = pieces.reshape(groups, -1, f_h, f_w, per_group).transpose(1, 2, 3, 0, 4)
    return _col2im(pieces.reshape(m, n_h, n_w, f_h, f_w, per_group * groups), tuple(x_shape),
                   stride, pads, dilation)


def _filter_gradient(x: np.ndarray, g: np.ndarray, f_h: int, f_w: int, stride: Any,
                     pads: tuple, groups: int = 1, dilation: Any = 1) -> np.ndarray:
    """dW (f_h, f_w, C / groups, n_C) of conv(x, W) for upstream g (m, n_H, n_W, n_C): the
    sum over every window of window^T @ g, each group of filters on its group of channels."""
    n_c = g.shape[-1]
    # x may hold rows past the last window g has, which a transposed convolution's
    # output_padding (up to the dilation) adds: the windows of g's (n_H, n_W) only
    windows = _windows(_padded(x, pads), f_h, f_w, stride, dilation)[:, :g.shape[1], :g.shape[2]]
    if groups == 1:
        dw = windows.reshape(-1, f_h * f_w * x.shape[-1]).T @ g.reshape(-1, n_c)
        return dw.reshape(f_h, f_w, x.shape[-1], n_c)
    if x.shape[-1] == groups:  # depthwise: each channel's windows times its outputs' gradient
        dw = np.einsum("mhwijc,mhwcq->ijcq", windows,
                       g.reshape(*g.shape[:3], groups, n_c // groups))  # no -1: m may be 0
        return dw.reshape(f_h, f_w, 1, n_c)
    g_groups = g.reshape(-1, groups, n_c // groups).transpose(1, 0, 2)
    per_group = x.shape[-1] // groups  # (G, f_h f_w C/G, n_C/G) -> (f_h, f_w, C/G, G, n_C/G)
    split = windows.reshape(*windows.shape[:5], groups, per_group).transpose(5, 0, 1, 2, 3, 4, 6)
    dw = split.reshape(groups, -1, f_h * f_w * per_group).transpose(0, 2, 1) @ g_groups
    dw = dw.reshape(groups, f_h, f_w, per_group, n_c // groups).transpose(1, 2, 3, 0, 4)
    return dw.reshape(f_h, f_w, per_group, n_c)


def _grouped_im2col(x: np.ndarray, f_h: int, f_w: int, stride: Any, pads: tuple,
                    groups: int, dilation: Any = 1) -> np.ndarray:
    """Every window of the padded x as one row per group of channels:
    (groups, m * n_H * n_W, f_h * f_w * C / groups)."""
    windows = _windows(_padded(x, pads), f_h, f_w, stride, dilation)
    m, n_h, n_w = windows.shape[:3]
    per_group = x.shape[-1] // groups
    split = windows.reshape(m, n_h, n_w, f_h, f_w, groups, per_group)
    return split.transpose(5, 0, 1, 2, 3, 4, 6).reshape(groups, -1, f_h * f_w * per_group)


def _depthwise_filters(w: np.ndarray, groups: int) -> np.ndarray:
    """Depthwise filters (f_h, f_w, 1, C * q), groups = C, as (f_h, f_w, C, q): channel c's q
    filters are the output channels c * q onwards. Each output is a weighted sum over one
    channel's window, which one einsum does faster than C products of a single column."""
    f_h, f_w, _, n_c = w.shape
    return w.reshape(f_h, f_w, groups, n_c // groups)


def _grouped_filters(w: np.ndarray, groups: int) -> np.ndarray:
    """Filters (f_h, f_w, C / groups, n_C) as (groups, f_h * f_w * C / groups, n_C / groups):
    group k's filters are the output channels k * n_C / groups onwards."""
    n_c = w.shape[-1]
    return w.reshape(-1, groups, n_c // groups).transpose(1, 0, 2)


def _check_sequences(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: int,
                     pad: Any, groups: int = 1, dilation: int = 1) -> None:
    """Conv1d's inputs: sequences (m, n_L, n_C_prev), filters (f, n_C_prev / groups, n_C),
    bias (n_C,), and a window that fits."""
    if x.ndim != 3:
        tip = {2: " (one sequence? add the batch axis: A[None])",
               4: " (images? use conv2d)"}.get(x.ndim, "")
        if x.ndim == 2 and w.ndim == 3 and w.shape[1] * groups == 1 != x.shape[-1]:
            tip = " (sequences of one channel? add the channel axis: A[..., None])"
        raise ValueError(f"a 1-D convolution takes sequences A of shape (m, n_L, n_C), "
                         f"channels last; got shape {x.shape}{tip}")
    if w.ndim != 3:
        tip = " (f x f filters are conv2d's)" if w.ndim == 4 else ""
        layout = "(f, n_C_prev, n_C)" if groups == 1 else "(f, n_C_prev / groups, n_C)"
        raise ValueError(f"the filters W must have shape {layout}, got {w.shape}{tip}")
    f, _, n_c = w.shape
    _check_channels(x.shape, w.shape, groups, "(f, n_C_prev / groups, n_C)",
                    "graphgrad's sequences are channels last, (m, n_L, n_C): A.transpose(0, 2, 1)")
    if b is not None and b.shape != (n_c,):
        raise ValueError(f"the bias must have shape ({n_c},), got {b.shape}")
    n_l = _output_size(x.shape[1], f, stride, pad, dilation)
    if n_l < 1:
        raise _sequence_misfit(x.shape[1], f, stride, pad, dilation)


class Conv2d(Function):
    """Z = conv(A, W) + b: Z[i, h, w, c] = sum(window (h, w) of A[i] * W[..., c]) + b[c], each
    filter over its group's channels of A when ``groups`` > 1, a window's pixels ``dilation``
    apart;
    dA = Conv2dInputGrad(dZ, W),  dW = Conv2dWeightGrad(A, dZ),  db = dZ summed over i, h, w"""

    @staticmethod
    def forward(ctx, x, w, b=None, stride=1, pad=0, groups=1, dilation=1):
        number_or_pair(stride, "the stride", "Conv2d", 1)
        pads = _pads(pad, "Conv2d")
        groups = whole_number(groups, "groups", "Conv2d", 1)
        number_or_pair(dilation, "dilation", "Conv2d", 1)
        _check_images(x, "a convolution", w.shape[-2] * groups if w.ndim == 4 else None)
        if w.ndim != 4:
            layout = "(f, f, n_C_prev, n_C)" if groups == 1 else "(f, f, n_C_prev / groups, n_C)"
            raise ValueError(f"the filters W must have shape {layout}, got {w.shape}")
        f_h, f_w, _, n_c = w.shape
        _check_channels(x.shape, w.shape, groups, "(f, f, n_C_prev / groups, n_C)",
                        _IMAGES_CHANNELS_LAST)
        _check_image_bias(b, n_c)
        _check_fits(x.shape, f_h, f_w, stride, pads, dilation=dilation)
        _keep_settings(ctx, stride, pad, groups, dilation)
        ctx.bias_shape = None if b is None else b.shape
        ctx.save_for_backward(x, w)
        return _convolve(x, w, b, stride, pads, groups, dilation)

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved
        needs = ctx.needs_input_grad
        settings = _settings(ctx)
        dx = Conv2dInputGrad.call(grad, w, x_shape=x.shape, **settings) if needs[0] else None
        dw = (Conv2dWeightGrad.call(x, grad, f_shape=w.shape[:2], **settings) if needs[1]
              else None)
        if len(needs) == 2:
            return dx, dw
        return dx, dw, _bias_grad(ctx, grad) if needs[2] else None


def _keep_settings(ctx: Function, stride: Any, pad: Any, groups: int,
                   dilation: Any = 1) -> None:
    """Keep on the node the settings its backward hands to the gradient ops (see `_settings`)."""
    ctx.stride, ctx.pad, ctx.groups, ctx.dilation = stride, pad, groups, dilation


def _settings(ctx: Function) -> dict:
    """The settings a convolution's gradient ops take, those its node recorded."""
    return conv_settings(ctx.stride, ctx.pad, ctx.groups, ctx.dilation)


def conv_settings(stride: Any, pad: Any, groups: int = 1, dilation: Any = 1) -> dict:
    """A convolution's settings as its nodes record them and a layer's repr shows them: the
    stride, the padding, and the groups when there are several and the dilation when there
    is one (so an ordinary convolution's nodes show what they always did)."""
    settings = {"stride": stride, "pad": pad}
    if groups != 1:
        settings["groups"] = groups
    if dilation != 1:
        settings["dilation"] = dilation
    return settings


# What a channel error of an image op says when A looks channels first.
_IMAGES_CHANNELS_LAST = "graphgrad's images are channels last: A.transpose(0, 2, 3, 1)"


def _check_channels(x_shape: tuple, w_shape: tuple, groups: int, layout: str,
                    channels_last: str) -> None:
    """A's channels against the filters', whose last two axes are (n_C_prev / groups, n_C),
    and both channel counts against ``groups``."""
    _check_filter_sizes(w_shape)
    channels = x_shape[-1]
    per_group, n_c = w_shape[-2:]
    if channels == per_group * groups and n_c % groups == 0:
        return
    tip = ""
    if channels != per_group * groups == x_shape[1]:
        tip = (f" (A's axis 1 has the {x_shape[1]} channels the filters take: channels first? "
               f"{channels_last})")
    if groups == 1:
        raise ValueError(f"A has {channels} channels, but the filters W of shape {w_shape} "
                         f"take n_C_prev = {per_group}{tip}")
    if channels % groups:
        raise ValueError(f"A has {channels} channels, which groups={groups} cannot split "
                         f"evenly: groups must divide n_C_prev (the input's channels){tip}")
    if n_c % groups:
        raise ValueError(f"the filters W of shape {w_shape} make n_C = {n_c} channels, which "
                         f"groups={groups} cannot split evenly: groups must divide n_C too")
    raise ValueError(
        f"A has {channels} channels, but the filters W of shape {w_shape} with groups={groups} "
        f"take n_C_prev = groups * {per_group} = {groups * per_group}: with groups, W is "
        f"{layout}: A's channels need W.shape[-2] = {channels // groups} (depthwise, groups = "
        f"n_C_prev, has W.shape[-2] = 1){tip}")


def _check_filter_sizes(w_shape: tuple) -> None:
    """Filters with an axis of size 0 hold no weights: no output could come of them."""
    if 0 in w_shape:
        raise ValueError(f"the filters W of shape {w_shape} hold no weights: every axis needs "
                         "a size of at least 1")


def _check_image_bias(b: np.ndarray | None, n_c: int) -> None:
    """An image op's per-channel bias: (n_C,), or the course's (1, 1, 1, n_C)."""
    if b is not None and b.shape not in ((n_c,), (1, 1, 1, n_c)):
        raise ValueError(f"the bias must have shape ({n_c},), got {b.shape}")


def _bias_grad(ctx: Function, grad: Any) -> Any:
    """db of an image op's per-channel bias: dZ summed over i, h, w, in the bias's shape
    (n_C,) or the course's (1, 1, 1, n_C)."""
    db = grad.sum(axis=(0, 1, 2))
    return db if ctx.bias_shape == db.shape else db.reshape(ctx.bias_shape)


class Conv2dInputGrad(Function):
    """A = the transposed convolution of G (m, n_H, n_W, n_C) by W, of shape ``x_shape``: the
    gradient of conv(A, W) with respect to A.  dG = conv(dA, W),  dW = Conv2dWeightGrad(dA, G)"""

    @staticmethod
    def forward(ctx, g, w, x_shape, stride=1, pad=0, groups=1, dilation=1):
        _keep_settings(ctx, stride, pad, groups, dilation)
        ctx.save_for_backward(g, w)
        return _transposed(g, w, x_shape, stride, _pads(pad, "Conv2dInputGrad"), groups,
                           dilation)

    @staticmethod
    def backward(ctx, grad):
        g, w = ctx.saved
        needs = ctx.needs_input_grad
        settings = _settings(ctx)
        dg = _cropped(Conv2d.call(grad, w, **settings), g.shape) if needs[0] else None
        dw = (Conv2dWeightGrad.call(grad, g, f_shape=w.shape[:2], **settings) if needs[1]
              else None)
        return dg, dw


class Conv2dWeightGrad(Function):
    """dW = the gradient of conv(A, W) with respect to W for upstream G: the sum over every
    window of window * G, of shape (f, f, n_C_prev / groups, n_C).
    dA = Conv2dInputGrad(G, dW),  dG = conv(A, dW)"""

    @staticmethod
    def forward(ctx, x, g, f_shape, stride=1, pad=0, groups=1, dilation=1):
        _keep_settings(ctx, stride, pad, groups, dilation)
        ctx.save_for_backward(x, g)
        f_h, f_w = f_shape
        return _filter_gradient(x, g, f_h, f_w, stride, _pads(pad, "Conv2dWeightGrad"), groups,
                                dilation)

    @staticmethod
    def backward(ctx, grad):
        x, g = ctx.saved
        needs = ctx.needs_input_grad
        settings = _settings(ctx)
        dx = Conv2dInputGrad.call(g, grad, x_shape=x.shape, **settings) if needs[0] else None
        dg = _cropped(Conv2d.call(x, grad, **settings), g.shape) if needs[1] else None
        return dx, dg


def _cropped(z: Any, shape: tuple) -> Any:
    """z (m, n_H', n_W', n_C) to the (n_H, n_W) of ``shape``: the convolution of a transposed
    convolution's output, whose output_padding (less than the dilation, but at least the
    stride) makes windows past those of its input, which no gradient reaches."""
    if z.shape[1:3] == tuple(shape[1:3]):
        return z
    return z[:, :shape[1], :shape[2]]


class ConvTranspose2d(Function):
    """Z = the transposed convolution of A by W, plus b: each pixel of A adds A[i, h, w] W^T
    into its f x f window of Z, windows ``stride`` pixels apart, then ``pad`` rows and columns
    are cropped from each side. It is the gradient of conv(X, W) with respect to X, for X of
    Z's shape (with ``groups``, group k of A's channels makes group k of Z's).
    dA = conv(dZ, W),  dW = Conv2dWeightGrad(dZ, A),  db = dZ summed over i, h, w"""

    @staticmethod
    def forward(ctx, a, w, b=None, stride=1, pad=0, output_padding=0, groups=1, dilation=1):
        s_h, s_w = _pair(number_or_pair(stride, "the stride", "ConvTranspose2d", 1))
        pads = _pads(pad, "ConvTranspose2d")
        extra = _pair(number_or_pair(output_padding, "output_padding", "ConvTranspose2d", 0))
        groups = whole_number(groups, "groups", "ConvTranspose2d", 1)
        d_h, d_w = _pair(number_or_pair(dilation, "dilation", "ConvTranspose2d", 1))
        _check_images(a, "a transposed convolution", w.shape[-1] if w.ndim == 4 else None)
        if w.ndim != 4:
            layout = "(f, f, n_C, n_C_prev)" if groups == 1 else "(f, f, n_C / groups, n_C_prev)"
            raise ValueError(f"the filters W of a transposed convolution must have shape "
                             f"{layout}, got {w.shape}")
        _check_filter_sizes(w.shape)
        f_h, f_w, per_group, channels = w.shape
        if a.shape[-1] != channels:
            tip = (f" Channels first? {_IMAGES_CHANNELS_LAST}." if a.shape[1] == channels
                   else "")
            raise ValueError(
                f"A has {a.shape[-1]} channels, but the filters W of shape {w.shape} take "
                f"n_C_prev = {channels} (a transposed convolution's W is (f, f, n_C / groups, "
                f"n_C_prev): output channels, then input channels, as Keras's "
                f"Conv2DTranspose).{tip}")
        if channels % groups:
            raise ValueError(f"A has {channels} channels, which groups={groups} cannot split "
                             "evenly: groups must divide n_C_prev (the input's channels)")
        n_c = per_group * groups
        _check_image_bias(b, n_c)
        if extra[0] >= max(s_h, d_h) or extra[1] >= max(s_w, d_w):
            dilated = f" or the dilation ({dilation})" if (d_h, d_w) != (1, 1) else ""
            raise ValueError(f"output_padding ({output_padding}) must be smaller than the "
                             f"stride ({stride}){dilated}: it adds rows a window of the next "
                             "stride would cover")
        m, n_h, n_w, _ = a.shape
        # n_H = (n_H_prev - 1) s - 2p + d (f - 1) + 1 + output_padding, the size a convolution
        # with these settings maps back to n_H_prev
        height = (n_h - 1) * s_h - sum(_sides(pads[0])) + d_h * (f_h - 1) + 1 + extra[0]
        width = (n_w - 1) * s_w - sum(_sides(pads[1])) + d_w * (f_w - 1) + 1 + extra[1]
        if height < 1 or width < 1:
            raise ValueError(
                f"the output would be {height} x {width}: n_H = (n_H_prev - 1) stride - 2 pad "
                f"+ d (f - 1) + 1 + output_padding = ({n_h} - 1) {s_h} - 2 * {pads[0]} + "
                f"{d_h} ({f_h} - 1) + 1 + {extra[0]}; pad less")
        _keep_settings(ctx, stride, pad, groups, dilation)
        ctx.bias_shape = None if b is None else b.shape
        ctx.save_for_backward(a, w)
        z = _transposed(a, w, (m, height, width, n_c), stride, pads, groups, dilation)
        if b is not None:
            z += b.reshape(n_c)
        return z

    @staticmethod
    def backward(ctx, grad):
        # dA and dW are Conv2dInputGrad's: the same map of (A, W), saved and set alike.
        da, dw = Conv2dInputGrad.backward(ctx, grad)
        if len(ctx.needs_input_grad) == 2:
            return da, dw
        return da, dw, _bias_grad(ctx, grad) if ctx.needs_input_grad[2] else None


class Conv1d(Function):
    """Z = conv(A, W) + b along a sequence: Z[i, l, c] = sum(window l of A[i] * W[..., c]) + b[c],
    the convolution of one-pixel-high images A[:, None] by (1, f) filters W[None], padded along
    the length only;  dA, dW = those of that convolution (Conv2dInputGrad, Conv2dWeightGrad),
    db = dZ summed over i, l"""

    @staticmethod
    def forward(ctx, x, w, b=None, stride=1, pad=0, groups=1, dilation=1):
        whole_number(stride, "the stride", "Conv1d", 1)
        _axis_pad(pad, "the padding", "Conv1d")  # p, or (before, after): "same" of an even f
        groups = whole_number(groups, "groups", "Conv1d", 1)
        dilation = whole_number(dilation, "dilation", "Conv1d", 1)
        _check_sequences(x, w, b, stride, pad, groups, dilation)
        _keep_settings(ctx, stride, pad, groups, dilation)
        ctx.save_for_backward(x, w)
        # the images are one pixel high: a dilation of the rows of (1, f) filters changes nothing
        return _convolve(x[:, None], w[None], b, stride, (0, pad), groups, dilation)[:, 0]

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved
        needs = ctx.needs_input_grad
        m, n_l, n_c = grad.shape
        g = grad.reshape(m, 1, n_l, n_c)  # dZ as one-pixel-high images
        settings = _settings(ctx)
        settings["pad"] = (0, ctx.pad)
        dx = dw = db = None
        if needs[0]:
            dx = Conv2dInputGrad.call(g, w.reshape((1, *w.shape)), x_shape=(m, 1, *x.shape[1:]),
                                      **settings).reshape(x.shape)
        if needs[1]:
            dw = Conv2dWeightGrad.call(x.reshape((m, 1, *x.shape[1:])), g,
                                       f_shape=(1, w.shape[0]), **settings).reshape(w.shape)
        if len(needs) == 2:
            return dx, dw
        if needs[2]:
            db = grad.sum(axis=(0, 1))
        return dx, dw, db


def _size_from_w(layout: str, layer: str) -> Callable[[Callable], Callable]:
    """Refuse a filter size (PyTorch's kernel_size=, or f=) given to a convolution function,
    which takes the filters W, whose ``layout`` gives the size, as PyTorch's F.conv2d takes
    none either; ``layer``: the layer, which takes f. A ``TypeError``, as Python's own."""
    def decorate(func: Callable) -> Callable:
        @functools.wraps(func)
        def checked(*args: Any, **kwargs: Any) -> Any:
            for name in ("kernel_size", "f"):
                if name in kwargs:
                    W = args[1] if len(args) > 1 else kwargs.get("W")
                    caller = func.__name__
                    raise GraphgradTypeError(
                        f"{caller}: takes no {name}=: the filter size f is W's, W "
                        f"{describe(W).split(' ', 1)[1]} of shape {layout}, as PyTorch's "
                        f"F.{caller}, which takes none either; leave out "
                        f"{name}={setting_text(kwargs[name])} (the layer nn.{layer}(n_C_prev, "
                        "n_C, f) takes f)")
            return func(*args, **kwargs)
        return checked
    return decorate


# The one spelling of the zeros around the input, the pooling functions' and the layers' too
# (``pad`` names a padding token: nn.padding_mask, beam_search).
_SPELLING = "as in max_pool2d, avg_pool2d and the layers, nn.Conv2d(..., padding=1)"


@_size_from_w("(f, f, n_C_prev / groups, n_C)", "Conv2d")
@renamed(_SPELLING, pad="padding")
def conv2d(A: Any, W: Any, b: Any = None, stride: int | tuple[int, int] = 1,
           padding: int | tuple[int, int] | str = 0, *, groups: int = 1,
           dilation: int | tuple[int, int] = 1) -> Tensor:
    """The course's conv_forward as one node: Z = conv(A, W) + b.

    Args:
        A: images (m, n_H_prev, n_W_prev, n_C_prev), channels last.
        W: filters (f, f, n_C_prev / groups, n_C), or f_h x f_w ones (f_h, f_w, ..., n_C):
            PyTorch's kernel_size=(1, 3) is W of shape (1, 3, n_C_prev, n_C).
        b: bias (n_C,) or the course's (1, 1, 1, n_C); None for no bias.
        stride: s, the step between windows, or a pair (s_h, s_w).
        padding: p, the zeros added around each image: a whole number, a pair (p_h, p_w),
            "valid" (0) or "same" (stride 1: p = d (f - 1) / 2 on each side, which keeps n_H
            and n_W; as PyTorch, an even span d (f - 1) puts its odd cell at the bottom and
            right).
        groups: G, which must divide n_C_prev and n_C: the channels are split into G groups,
            and the filters too; group k's n_C / G filters see group k's n_C_prev / G input
            channels only (PyTorch's groups). groups = n_C_prev is MobileNet's depthwise
            convolution: W (f, f, 1, n_C), one f x f filter per channel (n_C = n_C_prev, or a
            multiple of it: several filters per channel).
        dilation: d, the step between the pixels a filter sees (PyTorch's dilation; atrous
            convolution), or a pair (d_h, d_w): an f x f filter spans d (f - 1) + 1 pixels,
            with the weights of a dense one. "same" padding is then p = d (f - 1) / 2.
        groups and dilation are keywords only, as for nn.Conv2d: PyTorch's F.conv2d takes them
            in the other order, (dilation, groups).

    Returns:
        Z of shape (m, n_H, n_W, n_C), n_H = floor((n_H_prev + 2p - f) / s) + 1, or
        floor((n_H_prev + 2p - d (f - 1) - 1) / s) + 1 dilated (with f_h, s_h, p_h, d_h;
        n_W with the others).
    """
    return _convolution(Conv2d, "conv2d", A, W, b, stride, padding, groups, dilation)


@_size_from_w("(f, n_C_prev / groups, n_C)", "Conv1d")
@renamed(_SPELLING, pad="padding")
def conv1d(A: Any, W: Any, b: Any = None, stride: int = 1, padding: int | str = 0, *,
           groups: int = 1, dilation: int = 1) -> Tensor:
    """A convolution along sequences as one node, as Keras's Conv1D: Z = conv(A, W) + b.

    Args:
        A: sequences (m, n_L_prev, n_C_prev), channels last: m examples of n_L_prev time
            steps (the course's (m, T_x, n_x); a spectrogram's frequencies are its channels).
        W: filters (f, n_C_prev / groups, n_C): each looks at f consecutive steps.
        b: bias (n_C,); None for no bias.
        stride: s, the step between windows.
        padding: p, the zeros added at both ends of each sequence: a whole number, "valid"
            (0) or "same" (stride 1: p = d (f - 1) / 2, which keeps the length; as PyTorch,
            an even span d (f - 1) puts its odd step at the end).
        groups: as for `conv2d`: group k's filters see group k's channels only.
        dilation: d, the step between the time steps a filter sees (WaveNet's dilated
            convolutions): a filter spans d (f - 1) + 1 steps.
        groups and dilation are keywords only (PyTorch's F.conv1d orders them dilation,
            groups).

    Returns:
        Z of shape (m, n_L, n_C), n_L = floor((n_L_prev + 2p - d (f - 1) - 1) / s) + 1 (d = 1:
        floor((n_L_prev + 2p - f) / s) + 1).
    """
    return _convolution(Conv1d, "conv1d", A, W, b, stride, padding, groups, dilation)


@_size_from_w("(f, f, n_C / groups, n_C_prev)", "ConvTranspose2d")
@renamed(_SPELLING, pad="padding")
def conv_transpose2d(A: Any, W: Any, b: Any = None, stride: int | tuple[int, int] = 1,
                     padding: int | tuple[int, int] | str = 0,
                     output_padding: int | tuple[int, int] = 0, groups: int = 1,
                     dilation: int | tuple[int, int] = 1) -> Tensor:
    """The transposed convolution as one node (U-Net's up-convolution; Keras's
    Conv2DTranspose, PyTorch's conv_transpose2d): each pixel of A, times the filters, is added
    into an f x f window of the output, windows ``stride`` pixels apart, so a stride of 2
    roughly doubles the height and width. It is the gradient of ``conv2d(X, W, stride=stride,
    padding=padding, dilation=dilation)`` with respect to X.

    Args:
        A: images (m, n_H_prev, n_W_prev, n_C_prev), channels last.
        W: filters (f, f, n_C / groups, n_C_prev), or (f_h, f_w, ...): output channels, then
            input channels (Keras's layout; PyTorch's weight (n_C_prev, n_C / groups, f, f) is
            ``W.transpose(3, 2, 0, 1)``, and W is its ``.transpose(2, 3, 1, 0)``).
        b: bias (n_C,); None for no bias.
        stride: s, the step between the windows in the output, or a pair (s_h, s_w).
        padding: p, the rows and columns cropped from each side of the output: a whole
            number, a pair (p_h, p_w), "valid" (0) or "same", which makes the output exactly
            s times the input (n_H = s n_H_prev, Keras's padding='same'; needs f >= s, and an
            odd f with s = 1).
        output_padding: rows and columns added at the bottom and right (or a pair), less than
            s (or than d): the sizes a stride-s convolution maps to the same n_H_prev differ
            by up to s - 1. "same" padding sets its own.
        groups: G, which must divide n_C_prev and n_C: group k of A's channels makes group k
            of Z's only, as in the grouped convolution this one transposes.
        dilation: d, the step between the output pixels one filter's weights reach (PyTorch's
            dilation), or a pair (d_h, d_w).

    Returns:
        Z of shape (m, n_H, n_W, n_C), n_H = (n_H_prev - 1) s - 2p + d (f - 1) + 1 +
        output_padding ((n_H_prev - 1) s - 2p + f + output_padding undilated).
    """
    stride = number_or_pair(stride, "the stride", "conv_transpose2d", 1)
    dilation = number_or_pair(dilation, "dilation", "conv_transpose2d", 1)
    f = _filter_size(W, 2, padding, "conv_transpose2d")
    pad, extra = transposed_padding_setting(padding, f, stride, output_padding,
                                            "conv_transpose2d", dilation)
    groups = whole_number(groups, "groups", "conv_transpose2d", 1)
    attrs: dict[str, Any] = {"stride": stride, "pad": pad}
    if groups != 1:  # in the order the layer records them
        attrs["groups"] = groups
    if extra:
        attrs["output_padding"] = extra
    if dilation != 1:
        attrs["dilation"] = dilation
    if b is None:
        return ConvTranspose2d.apply(A, W, **attrs)
    return ConvTranspose2d.apply(A, W, b, **attrs)


def _filter_size(W: Any, dims: int, padding: Any, caller: str) -> Any:
    """f, the filter size of W's first ``dims`` axes, which "same" padding is worked out from:
    f_h x f_w filters as (f_h, f_w), square ones as f (0 for any other padding: it is not
    needed)."""
    if not (isinstance(padding, str) and padding == "same"):
        return 0
    shape = np.shape(W.data if isinstance(W, Tensor) else W)
    if len(shape) != dims + 2:
        raise ArgumentError(
            f"{caller}: padding={padding!r} needs filters of {dims + 2} axes with "
            f"{' x '.join(['f'] * dims)} windows, got W of shape {shape}; give the padding "
            "as a number for other filters")
    return compact(shape[:2]) if dims == 2 else shape[0]


def _convolution(op: type[Function], caller: str, A: Any, W: Any, b: Any, stride: Any,
                 pad: Any, groups: Any, dilation: Any = 1) -> Tensor:
    """``op`` (Conv2d or Conv1d) on A and W, and b unless it is None, with checked settings
    (groups and dilation recorded only when they are not 1, as the layers do)."""
    if op is Conv2d:
        stride = number_or_pair(stride, "the stride", caller, 1)
        dilation = number_or_pair(dilation, "dilation", caller, 1)
        pad = padding_setting(pad, _filter_size(W, 2, pad, caller), stride, caller,
                              dilation=dilation, uneven=True)
    else:
        stride = whole_number(stride, "the stride", caller, 1)
        dilation = whole_number(dilation, "dilation", caller, 1)
        if isinstance(pad, (tuple, list)):  # a pair would be read as (p_h, p_w)
            raise ArgumentError(f"{caller}: padding must be a number, 'valid' or 'same', "
                                f"got {pad!r}")
        pad = padding_setting(pad, _filter_size(W, 1, pad, caller), stride, caller,
                              dilation=dilation, uneven=True)
        if isinstance(pad, tuple):  # "same" of an even span: the 2-D rule's (before, after)
            pad = pad[0]
    attrs = {"stride": stride, "pad": pad}
    groups = whole_number(groups, "groups", caller, 1)
    if groups != 1:
        attrs["groups"] = groups
    if dilation != 1:
        attrs["dilation"] = dilation
    if b is None:
        return op.apply(A, W, **attrs)
    return op.apply(A, W, b, **attrs)
