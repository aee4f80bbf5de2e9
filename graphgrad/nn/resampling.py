"""Layers that bring images to a given size: `AdaptiveAvgPool2d` and `AdaptiveMaxPool2d`
(pooling to an output size rather than with a window size) and `Upsample` (U-Net's
UpSampling2D), channels last as the course's images: A of shape (m, n_H, n_W, n_C).

Adaptive pooling splits each image into n_H x n_W bins, PyTorch's (bin i spans rows
floor(i H / n_H) to ceil((i + 1) H / n_H), exclusive: neighbours overlap by a row when n_H
does not divide H). Output size 1 is global pooling, the head of ResNet and MobileNet
(Keras's GlobalAveragePooling2D, with keepdims): a mean over the two spatial axes, one node.
Average pooling is linear, so it is composed from the engine's ops: a reshape and a mean when
the bins tile the image, otherwise two products with the constant matrices of the bins'
weights (rows, then columns). Max pooling and bilinear upsampling are fused ops
(`graphgrad.ops.resampling`); bicubic upsampling, linear too, is two such products;
nearest upsampling is `gg.repeat` for whole scale factors,
otherwise an index of rows and columns. Depends on `nn.module`, `ops`, `tensor`, `errors`.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    ShapeError,
    array_of_numbers,
    describe,
    flag,
    pytorch_order_error,
    setting_text,
    whole_number,
)
from graphgrad.nn.module import Module, numbers_of
from graphgrad.ops.arithmetic import MatMul
from graphgrad.ops.rearrange import Repeat
from graphgrad.ops.reductions import Mean
from graphgrad.ops.resampling import AdaptiveMaxPool2d as _AdaptiveMaxPool2d
from graphgrad.ops.resampling import AdaptiveMaxPool2dWithIndices as _AdaptiveMaxWithIndices
from graphgrad.ops.resampling import UpsampleBilinear2d, bin_edges
from graphgrad.ops.shape import Reshape
from graphgrad.tensor import Tensor


def images_of(A: Any, layer: Module) -> tuple[Any, tuple[int, ...]]:
    """(A, its shape): a Tensor as it is, other data as an array of floats; an error naming
    ``layer`` for anything but a batch of images (m, n_H, n_W, n_C) of one pixel or more."""
    if not isinstance(A, Tensor):
        A = numbers_of(A, layer)
        if A.dtype.kind != "f":  # numbers (bools too) become float64; floats keep theirs
            A = A.astype(np.float64)
    return A, _checked_images(A, layer._label())


def _images(x: Any, caller: str) -> tuple[Any, tuple[int, ...]]:
    """`images_of` for the functional forms: an error names ``caller``, the function."""
    if not isinstance(x, Tensor):
        x = array_of_numbers(x, "x", caller)
        if x.dtype.kind != "f":
            x = x.astype(np.float64)
    return x, _checked_images(x, caller)


def _checked_images(A: Any, label: str) -> tuple[int, ...]:
    """A's shape, or a `ShapeError` naming ``label`` unless A is a batch of images
    (m, n_H, n_W, n_C) of one pixel or more."""
    shape = A.shape
    if len(shape) != 4:
        tip = ""
        if len(shape) == 3:
            tip = (" (one image? add the batch axis: A[None]; images of one channel? add the "
                   "channel axis: A[..., None])")
        raise ShapeError(f"{label} takes images A of shape (m, n_H, n_W, n_C), "
                         f"channels last, got {_shown(A)}{tip}")
    if not (shape[1] and shape[2]):
        raise ShapeError(f"{label} takes images of one pixel or more, got {_shown(A)}")
    return shape


def _shown(A: Any) -> str:
    return describe(A) if isinstance(A, Tensor) else f"shape {A.shape}"


def _pair(value: Any, what: str, caller: str, none: bool = False) -> tuple[Any, Any]:
    """A size setting (one whole number >= 1 for both axes, or a pair (n_H, n_W), whose
    entries may be None with ``none``) as a pair, or an `ArgumentError` naming it."""
    values = value if isinstance(value, (tuple, list)) else (value, value)
    rule = "a whole number >= 1 or a pair of them" + (" (None keeps the input's)" if none
                                                       else "")
    if len(values) != 2:
        raise ArgumentError(f"{caller}: {what} must be {rule}, got {setting_text(value)}")
    pair = []
    for v in values:
        if v is None and none:
            pair.append(None)
            continue
        try:
            pair.append(whole_number(v, what, caller, 1))
        except ArgumentError:  # said of the setting as given, a number or a pair
            raise ArgumentError(
                f"{caller}: {what} must be {rule}, got {setting_text(value)}") from None
    return pair[0], pair[1]


def _shown_pair(pair: tuple) -> str:
    return str(pair[0]) if pair[0] == pair[1] else f"({pair[0]}, {pair[1]})"


def _kept(output_size: tuple[Any, Any], shape: tuple[int, ...]) -> tuple[int, int]:
    """The output's (n_H, n_W) for images of ``shape``: a None in output_size keeps the
    input's."""
    return tuple(n if n is not None else shape[k + 1]  # type: ignore[return-value]
                 for k, n in enumerate(output_size))


def _bin_weights(size_in: int, size_out: int, dtype: Any) -> np.ndarray:
    """(size_out, size_in): row i averages bin i's pixels, 1 / its length each."""
    starts, ends = bin_edges(size_in, size_out)
    pixels = np.arange(size_in)
    inside = (pixels >= starts[:, None]) & (pixels < ends[:, None])
    return (inside / (ends - starts)[:, None]).astype(dtype)


def _adaptive_avg_pool(A: Any, size: tuple[int, int]) -> Tensor:
    """Each of size's n_H x n_W bins' mean, channel by channel: `AdaptiveAvgPool2d`'s and
    `adaptive_avg_pool2d`'s computation.  A (m, H, W, n_C) -> (m, n_H, n_W, n_C)."""
    m, height, width, channels = A.shape
    n_h, n_w = size
    if (n_h, n_w) == (1, 1):  # global pooling: one mean over both spatial axes
        return Mean.apply(A, axis=(1, 2), keepdims=True)
    if height % n_h == 0 and width % n_w == 0:  # the bins tile the image
        tiles = Reshape.apply(A, shape=(m, n_h, height // n_h, n_w, width // n_w,
                                        channels))
        return Mean.apply(tiles, axis=(2, 4))
    dtype = A.dtype
    return _rows_and_columns(A, _bin_weights(height, n_h, dtype) if n_h != height else None,
                             _bin_weights(width, n_w, dtype) if n_w != width else None)


def _rows_and_columns(A: Any, rows: np.ndarray | None, columns: np.ndarray | None) -> Tensor:
    """Each channel of A times the constant ``rows`` (n_H, H) on the left and ``columns``
    (n_W, W) transposed on the right, a linear resampling in two products (None: the axis
    stays).  A (m, H, W, n_C) -> (m, n_H, n_W, n_C)."""
    m, height, width, channels = A.shape
    n_h = height if rows is None else rows.shape[0]
    n_w = width if columns is None else columns.shape[0]
    out = A
    if rows is not None:  # (n_H, H) @ (m, H, W n_C)
        out = MatMul.apply(rows, Reshape.apply(out, shape=(m, height, width * channels)))
    if columns is not None:  # (n_W, W) @ (m n_H, W, n_C)
        out = MatMul.apply(columns, Reshape.apply(out, shape=(m * n_h, width, channels)))
    return Reshape.apply(out, shape=(m, n_h, n_w, channels))


def _cubic_weights(size_in: int, size_out: int, scale_factor: float | None,
                   align_corners: bool, dtype: Any) -> np.ndarray:
    """(size_out, size_in): row d weighs the four input pixels around d's source by Keys'
    cubic convolution with A = -0.75, PyTorch's 'bicubic'. The source is PyTorch's:
    (d + 0.5) / scale_factor - 0.5 (n_in / n_out for a size), not clamped at 0, or
    d (n_in - 1) / (n_out - 1) with align_corners; a tap past an edge reads the edge pixel,
    so its weight is added there. Each row sums to 1."""
    dst = np.arange(size_out, dtype=np.float64)
    if align_corners:
        src = dst * ((size_in - 1) / (size_out - 1) if size_out > 1 else 0.0)
    else:
        src = (dst + 0.5) * (1.0 / scale_factor if scale_factor else size_in / size_out) - 0.5
    low = np.floor(src)
    t = src - low
    a = -0.75
    near = lambda x: ((a + 2) * x - (a + 3)) * x * x + 1  # noqa: E731  |x| <= 1
    far = lambda x: ((a * x - 5 * a) * x + 8 * a) * x - 4 * a  # noqa: E731  1 < |x| < 2
    weights = np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], axis=1)
    taps = np.clip(low.astype(np.intp)[:, None] + np.arange(-1, 3), 0, size_in - 1)
    matrix = np.zeros((size_out, size_in))
    np.add.at(matrix, (np.repeat(np.arange(size_out), 4), taps.ravel()), weights.ravel())
    return matrix.astype(dtype)


class _AdaptivePool(Module):
    """What the two adaptive pooling layers share: the output size and its checks."""

    single_node = False

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = _pair(output_size, "output_size", type(self).__name__, none=True)

    def _size(self, shape: tuple[int, ...]) -> tuple[int, int]:
        """The output's (n_H, n_W) for images of ``shape``: None keeps the input's."""
        return _kept(self.output_size, shape)

    def extra_repr(self) -> str:
        """``output_size=1`` or ``output_size=(2, 3)``, for the repr."""
        return f"output_size={_shown_pair(self.output_size)}"


class AdaptiveAvgPool2d(_AdaptivePool):
    """Average pooling to an output size (PyTorch's nn.AdaptiveAvgPool2d): each image split
    into n_H x n_W bins, each bin's mean, channel by channel. ``AdaptiveAvgPool2d(1)`` is
    global average pooling, ResNet's and MobileNet's head (Keras's GlobalAveragePooling2D,
    keeping the axes: follow it with `Flatten`).

    Args:
        output_size: (n_H, n_W), or one number for both; None in the pair keeps the input's.

    Bin i spans rows floor(i H / n_H) to ceil((i + 1) H / n_H) (exclusive), and columns
    likewise: when n_H does not divide H, neighbouring bins share a row. No parameters.
    Shapes: A (m, H, W, n_C) -> (m, n_H, n_W, n_C).
    """

    def forward(self, A: Any) -> Tensor:
        """Each bin's mean, channel by channel.  A (m, H, W, n_C) -> (m, n_H, n_W, n_C)."""
        A, shape = images_of(A, self)
        return _adaptive_avg_pool(A, self._size(shape))


class AdaptiveMaxPool2d(_AdaptivePool):
    """Max pooling to an output size (PyTorch's nn.AdaptiveMaxPool2d): each image split into
    n_H x n_W bins as by `AdaptiveAvgPool2d`, each bin's largest value, channel by channel;
    its gradient goes to that value (the first in the bin, row by row, on a tie).
    ``AdaptiveMaxPool2d(1)`` is global max pooling (Keras's GlobalMaxPooling2D, keeping the
    axes).

    Args:
        output_size: (n_H, n_W), or one number for both; None in the pair keeps the input's.
        return_indices: True makes it give (the pooled images, where each value came from),
            PyTorch's flat indices h W + w into each image's channel, which `MaxUnpool2d`
            takes with ``output_size=(H, W)``.

    No parameters. Shapes: A (m, H, W, n_C) -> (m, n_H, n_W, n_C).
    """

    single_node = True

    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__(output_size)
        self.return_indices = flag(return_indices, "return_indices", type(self).__name__)

    def forward(self, A: Any) -> Any:
        """Each bin's largest value, channel by channel.  A (m, H, W, n_C) ->
        (m, n_H, n_W, n_C), and with return_indices its indices, integers of that shape."""
        A, shape = images_of(A, self)
        op = _AdaptiveMaxWithIndices if self.return_indices else _AdaptiveMaxPool2d
        return op.apply(A, size=self._size(shape))

    def extra_repr(self) -> str:
        """``output_size=1`` (and ``return_indices=True``), for the repr."""
        return super().extra_repr() + (", return_indices=True" if self.return_indices else "")


_MODES = ("nearest", "bilinear", "bicubic")


def _resample_settings(scale_factor: Any, size: Any, mode: Any, align_corners: Any,
                       caller: str) -> tuple[Any, Any, str, bool | None]:
    """`Upsample`'s and `interpolate`'s settings checked, naming ``caller`` in a refusal:
    (scale_factor, size, mode, align_corners), a size and a scale factor as pairs."""
    if (size is None) == (scale_factor is None):
        raise ArgumentError(f"{caller} takes one of size and scale_factor, got "
                            f"{'neither' if size is None else 'both'}")
    if mode not in _MODES:
        raise ArgumentError(f"{caller}: mode must be 'nearest', 'bilinear' or 'bicubic', "
                            f"got {setting_text(mode)}")
    if align_corners is not None:
        align_corners = flag(align_corners, "align_corners", caller)
        if mode == "nearest":
            raise ArgumentError(f"{caller}: align_corners is a setting of mode='bilinear' "
                                "and 'bicubic' only; leave it out (None) for 'nearest'")
    size = None if size is None else _pair(size, "size", caller)
    if scale_factor is not None:
        factors = scale_factor if isinstance(scale_factor, (tuple, list)) else (
            scale_factor, scale_factor)
        try:
            ok = len(factors) == 2 and all(
                not isinstance(f, (bool, np.bool_, str)) and math.isfinite(float(f))
                and float(f) > 0 for f in factors)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ArgumentError(f"{caller}: scale_factor must be a positive number or a "
                                f"pair of them, got {setting_text(scale_factor)}")
        scale_factor = (float(factors[0]), float(factors[1]))
    return scale_factor, size, mode, align_corners


def _recompute_setting(recompute_scale_factor: Any, size: Any, caller: str) -> bool:
    """PyTorch's recompute_scale_factor checked: True reads the source rows by the output
    size (as ``size=`` does) rather than by the factor; it has no meaning with a size."""
    if recompute_scale_factor is None:
        return False
    recompute = flag(recompute_scale_factor, "recompute_scale_factor", caller)
    if recompute and size is not None:
        raise ArgumentError(f"{caller}: recompute_scale_factor=True is not meaningful with an "
                            "explicit size, as in PyTorch; leave it out, or pass scale_factor")
    return recompute


def _resample(A: Any, shape: tuple[int, ...], size: Any, scale_factor: Any, mode: str,
              align_corners: bool | None, label: str, recompute: bool = False) -> Tensor:
    """Images A of ``shape`` brought to ``size`` or scaled by ``scale_factor`` (pairs, one
    None), as `Upsample` and `interpolate` do; with ``recompute`` the factor gives only the
    size; an error names ``label``."""
    if size is None:
        size = tuple(int(math.floor(n * f)) for n, f in zip(shape[1:3], scale_factor))
        if min(size) < 1:
            raise ShapeError(f"{label}: images of {shape[1]} x {shape[2]} pixels "
                             f"scaled by {_shown_pair(scale_factor)} have no pixel left")
        if recompute:
            scale_factor = None
    if mode == "bilinear":
        return UpsampleBilinear2d.apply(A, size=size, scale_factor=scale_factor,
                                        align_corners=bool(align_corners))
    if mode == "bicubic":  # linear in A: two products with constant matrices
        factors = (None, None) if scale_factor is None else scale_factor
        rows, columns = (_cubic_weights(shape[axis], size[axis - 1], factors[axis - 1],
                                        bool(align_corners), A.dtype) for axis in (1, 2))
        return _rows_and_columns(A, rows, columns)
    out = A
    for axis in (1, 2):
        n_in, n_out = shape[axis], size[axis - 1]
        if n_out == n_in:
            continue
        factor = None if scale_factor is None else scale_factor[axis - 1]
        if n_out % n_in == 0 and (factor is None or factor == n_out // n_in
                                  or n_out == 2 * n_in):
            # each pixel copied a whole number of times: floor(dst / k) is dst // k.
            # PyTorch takes dst // 2 for twice the size whatever the factor (2.1 too),
            # as it keeps the size for a factor that leaves it (1.2 of 3 rows) above.
            out = Repeat.apply(out, repeats=n_out // n_in, axis=axis)
            continue
        # PyTorch's source pixel, in float32 as it computes it: floor(dst * scale)
        scale = np.float32(1.0 / factor if factor else n_in / n_out)
        rows = np.minimum(np.floor(np.arange(n_out, dtype=np.float32) * scale)
                          .astype(np.intp), n_in - 1)
        out = out[(slice(None),) * axis + (rows,)]
    return out


def _refuses_size_first(init: Callable) -> Callable:
    """Refuse ``Upsample(None, s, ...)``, PyTorch's Upsample(size=None, scale_factor=s), which
    the course's order reads as a size s: a None first and a setting second, by position, can
    only mean PyTorch's order; ``Upsample(size=s)`` by name is taken."""
    @functools.wraps(init)
    def checked(self: Any, *args: Any, **kwargs: Any) -> None:
        if len(args) > 1 and args[0] is None and args[1] is not None:
            settings = "".join(f", {name}={value!r}" for name, value in
                               zip(("mode", "align_corners"), args[2:]))
            settings += "".join(f", {name}={value!r}" for name, value in kwargs.items())
            caller = type(self).__name__
            raise pytorch_order_error(
                caller, "scale_factor must not be None when size follows by position, got "
                f"None, {setting_text(args[1])}", "size, scale_factor, mode, align_corners",
                "scale_factor, size, mode, align_corners",
                f"{caller}(scale_factor={args[1]!r}{settings})",
                note=f"or {caller}(size={args[1]!r}{settings}) for an output of that size")
        init(self, *args, **kwargs)
    return checked


class Upsample(Module):
    """Images made larger (or smaller) by ``scale_factor`` or to ``size`` (PyTorch's
    nn.Upsample; Keras's UpSampling2D in the course's U-Net is ``Upsample(scale_factor=2)``).

    Args:
        scale_factor: how many times larger, one number for both axes or a pair; the output
            has floor(H scale_factor) rows, as in PyTorch. It comes first, as Keras's
            UpSampling2D's size does (``Upsample(2)`` doubles); PyTorch's first argument is
            ``size``: pass both by name.
        size: the output's (n_H, n_W), or one number for both, instead of a scale factor.
        mode: "nearest" (each output pixel copies its nearest input pixel, row
            floor(dst / scale_factor), or floor(dst H / n_H) for a size, as PyTorch's
            'nearest', which also takes row dst // 2 whenever n_H = 2 H and row dst when
            n_H = H, whatever the factor) or "bilinear" (a weighted mean of the four
            nearest, PyTorch's: with align_corners False the pixels' centres line up, source
            row (dst + 0.5) / scale_factor - 0.5, clamped at 0, and an axis that keeps its
            size is copied; Keras's UpSampling2D(interpolation='bilinear')) or "bicubic"
            (the 4 x 4 nearest weighed by Keys' cubic convolution, A = -0.75, PyTorch's:
            source row (dst + 0.5) / scale_factor - 0.5, not clamped, and taps past an edge
            read the edge pixel; values can overshoot the input's range, as PyTorch's).
        align_corners: for "bilinear" and "bicubic" only, True lines up the corner pixels
            (source row dst (H - 1) / (n_H - 1)); None (the default) is False, as in PyTorch.
        recompute_scale_factor: True (PyTorch's) reads the source rows by the output size
            floor(H scale_factor), as ``size=`` does, rather than by the factor; None (the
            default) is False. It has no meaning with a size, and is refused with one.

    No parameters. Shapes: A (m, H, W, n_C) -> (m, n_H, n_W, n_C).
    """

    @_refuses_size_first
    def __init__(self, scale_factor: Any = None, size: Any = None, mode: str = "nearest",
                 align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        self.scale_factor, self.size, self.mode, self.align_corners = _resample_settings(
            scale_factor, size, mode, align_corners, "Upsample")
        self.recompute_scale_factor = (
            None if recompute_scale_factor is None
            else _recompute_setting(recompute_scale_factor, size, "Upsample"))

    @property
    def single_node(self) -> bool:  # type: ignore[override]
        """One node (the fused op) for "bilinear"; "nearest" may make two."""
        return self.mode == "bilinear"

    def forward(self, A: Any) -> Tensor:
        """A resampled to the output size.  A (m, H, W, n_C) -> (m, n_H, n_W, n_C)."""
        A, shape = images_of(A, self)
        return _resample(A, shape, self.size, self.scale_factor, self.mode,
                         self.align_corners, self._label(),
                         bool(getattr(self, "recompute_scale_factor", None)))

    def extra_repr(self) -> str:
        """``scale_factor=2, mode='nearest'``, for the repr."""
        if self.size is not None:
            head = f"size={_shown_pair(self.size)}"
        else:
            head = f"scale_factor={_shown_pair(tuple(f'{f:g}' for f in self.scale_factor))}"
        corners = "" if self.align_corners is None else f", align_corners={self.align_corners}"
        recompute = getattr(self, "recompute_scale_factor", None)
        if recompute is not None:
            corners += f", recompute_scale_factor={recompute}"
        return f"{head}, mode={self.mode!r}{corners}"


# -- the functional forms -------------------------------------------------------------------------
def adaptive_avg_pool2d(x: Any, output_size: Any) -> Tensor:
    """Average pooling to an output size, the function of `AdaptiveAvgPool2d` (PyTorch's
    F.adaptive_avg_pool2d, channels last): each image split into n_H x n_W bins, each bin's
    mean. output_size: (n_H, n_W) or one number for both (None in the pair keeps the input's).
    x (m, H, W, n_C) -> (m, n_H, n_W, n_C)."""
    caller = "adaptive_avg_pool2d"
    size = _pair(output_size, "output_size", caller, none=True)
    x, shape = _images(x, caller)
    return _adaptive_avg_pool(x, _kept(size, shape))


def adaptive_max_pool2d(x: Any, output_size: Any, return_indices: bool = False) -> Any:
    """Max pooling to an output size, the function of `AdaptiveMaxPool2d` (PyTorch's
    F.adaptive_max_pool2d, channels last): each bin's largest value.
    x (m, H, W, n_C) -> (m, n_H, n_W, n_C); with ``return_indices`` also where each value
    sat, PyTorch's flat index h W + w into its image's channel (integers of the same shape),
    for `max_unpool2d`."""
    caller = "adaptive_max_pool2d"
    size = _pair(output_size, "output_size", caller, none=True)
    op = (_AdaptiveMaxWithIndices if flag(return_indices, "return_indices", caller)
          else _AdaptiveMaxPool2d)
    x, shape = _images(x, caller)
    return op.apply(x, size=_kept(size, shape))


def interpolate(x: Any, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Images resized to ``size`` or by ``scale_factor``, the function of `Upsample`
    (PyTorch's F.interpolate on 4-d input, channels last), with its modes "nearest",
    "bilinear" and "bicubic" and their rules (see `Upsample`). recompute_scale_factor=True
    (PyTorch's) reads the source rows by the output size floor(H scale_factor), as
    ``size=`` does, rather than by the factor; antialias=True is refused.
    x (m, H, W, n_C) -> (m, n_H, n_W, n_C)."""
    scale_factor, size, mode, align_corners = _resample_settings(
        scale_factor, size, mode, align_corners, "interpolate")
    recompute = _recompute_setting(recompute_scale_factor, size, "interpolate")
    if flag(antialias, "antialias", "interpolate"):
        raise ArgumentError("interpolate: antialias=True (PyTorch's wider filter when "
                            "shrinking) is not implemented; pass antialias=False, or shrink "
                            "with F.adaptive_avg_pool2d or F.avg_pool2d")
    x, shape = _images(x, "interpolate")
    return _resample(x, shape, size, scale_factor, mode, align_corners, "interpolate",
                     recompute)
