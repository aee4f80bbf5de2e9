"""The spatial transformer's sampling (Jaderberg et al. 2015), PyTorch's ``F.affine_grid`` and
``F.grid_sample``, with images channels last as in the course: A of shape (m, n_H, n_W, n_C).

A grid (m, H_out, W_out, 2) holds, for each output pixel, the point of the input image to
read, as PyTorch's: (x, y) with x across the width and y down the height, -1 and +1 the
image's edges (align_corners=False: the outer edges of the corner pixels) or the corner
pixels' centres (align_corners=True). Only the images' layout differs: PyTorch's input
(N, C, H, W) and size (N, C, H, W) are (m, n_H, n_W, n_C) here, the output likewise; theta
and the grid are PyTorch's as they are.

`affine_grid` is linear in theta: the constant base grid of (x, y, 1) times theta^T, the
engine's matmul. `GridSample` reads the input at each grid point, from its four nearest
pixels (bilinear: weights (1 - a)(1 - b), a (1 - b), (1 - a) b, a b) or its nearest one
(rounding half to even, as PyTorch's nearbyint); points outside the image read zeros, or are
clamped to the border, or reflected back in (padding_mode). Its backward, `GridSampleGrad`,
spreads each output's gradient back over the pixels it read (dA) and, for bilinear, gives
the derivative of the weights wrt the point (dgrid; 0 for nearest, and where a coordinate was
clamped, as PyTorch's). Second derivatives through grid_sample are refused. Depends on
`function`, `ops.arithmetic`, `tensor`, `errors`.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    BackwardError,
    GraphgradTypeError,
    ShapeError,
    array_of_numbers,
    describe,
    flag,
    setting_text,
)
from graphgrad.function import Function
from graphgrad.ops.arithmetic import MatMul
from graphgrad.ops.shape import Reshape
from graphgrad.tensor import Tensor

_MODES = ("bilinear", "nearest")
_PADDING_MODES = ("zeros", "border", "reflection")


class GridSample(Function):
    """Y[i, h, w] = A[i] read at grid[i, h, w] = (x, y): bilinear, sum_k w_k A[i, y_k, x_k]
    over the four nearest pixels (0 outside the image with padding "zeros"), or the nearest
    pixel;  dA = each dY spread back over those pixels by the same weights,
    dgrid = dY . sum_k A[i, y_k, x_k] dw_k/d(x, y) (0 for nearest)"""

    @staticmethod
    def forward(ctx, a, grid, mode="bilinear", padding_mode="zeros", align_corners=False):
        taps, _ = _taps(a.shape, grid, mode, padding_mode, align_corners)
        ctx.settings = {"mode": mode, "padding_mode": padding_mode,
                        "align_corners": align_corners}
        ctx.save_for_backward(a, grid)
        pixels = a.reshape(-1, a.shape[3])
        out = np.zeros(grid.shape[:3] + (a.shape[3],), a.dtype)
        for index, weight in taps:
            out += pixels[index] * weight[..., None]
        return out

    @staticmethod
    def backward(ctx, grad):
        a, grid = ctx.saved
        # Training a network through a fixed grid wants dA only: dgrid's pass over the taps
        # costs as much as dA's, so it is made only when asked for.
        da, dgrid = GridSampleGrad.call(a, grid, grad, with_dgrid=ctx.needs_input_grad[1],
                                        **ctx.settings)
        return da, dgrid if ctx.needs_input_grad[1] else None


class GridSampleGrad(Function):
    """(dA, dgrid) of `GridSample` for the upstream gradient dY: dA[i, y_k, x_k] += w_k dY,
    dgrid[..., 0] = dY . sum_k A[i, y_k, x_k] dw_k/dx (dgrid[..., 1] likewise, with y),
    each times d(pixel coordinate)/d(grid coordinate). Linear in dY: d(dY) = ddA sampled at
    the grid + sum_k A[i, y_k, x_k] (dw_k/dx ddgrid_x + dw_k/dy ddgrid_y); its derivatives
    wrt A and the grid (second derivatives of grid_sample) are refused."""

    @staticmethod
    def forward(ctx, a, grid, grad, mode="bilinear", padding_mode="zeros",
                align_corners=False, with_dgrid=True):
        taps, slopes = _taps(a.shape, grid, mode, padding_mode, align_corners)
        ctx.settings = {"mode": mode, "padding_mode": padding_mode,
                        "align_corners": align_corners}
        ctx.save_for_backward(a, grid)
        channels = a.shape[3]
        index = np.concatenate([idx.reshape(-1) for idx, _ in taps])
        weight = np.concatenate([w.reshape(-1) for _, w in taps])
        # One bincount over (pixel, channel) pairs: a scatter-add several times quicker than
        # np.add.at, and overlapping reads add up.
        cells = (index[:, None] * channels + np.arange(channels)).reshape(-1)
        spread = np.tile(grad.reshape(-1, channels), (len(taps), 1)) * weight[:, None]
        da = np.bincount(cells, spread.reshape(-1), minlength=a.size).astype(a.dtype)
        dgrid = np.zeros(grid.shape, grid.dtype)
        if mode == "bilinear" and with_dgrid:
            pixels = a.reshape(-1, channels)
            (dx_of, dy_of), (x_slope, y_slope) = slopes
            for (idx, _), wx, wy in zip(taps, dx_of, dy_of):
                along = (pixels[idx] * grad).sum(axis=-1)  # dY . A at this tap
                dgrid[..., 0] += along * wx
                dgrid[..., 1] += along * wy
            dgrid[..., 0] *= x_slope
            dgrid[..., 1] *= y_slope
        return da.reshape(a.shape), dgrid

    @staticmethod
    def backward(ctx, dda, ddgrid):
        a, grid = (x.data if isinstance(x, Tensor) else x for x in ctx.saved)  # constants
        if ctx.needs_input_grad[0] or ctx.needs_input_grad[1]:
            raise BackwardError(
                f"grid_sample: second derivatives wrt the input {describe(ctx.inputs[0])} and "
                f"the grid {describe(ctx.inputs[1])} are not available (PyTorch has those "
                "wrt the grid only). Take the gradient penalty or the Hessian through another "
                "path, or detach the image and the grid in this term.")
        if not ctx.needs_input_grad[2]:
            return None, None, None
        ddy = None
        if dda is not None:  # dA is the adjoint of sampling: its derivative samples ddA
            ddy = GridSample.call(dda, grid, **ctx.settings)
        if ddgrid is not None and ctx.settings["mode"] == "bilinear":
            taps, ((dx_of, dy_of), (x_slope, y_slope)) = _taps(
                a.shape, grid, ctx.settings["mode"], ctx.settings["padding_mode"],
                ctx.settings["align_corners"])
            pixels = a.reshape(-1, a.shape[3])
            for (idx, _), wx, wy in zip(taps, dx_of, dy_of):
                step = (ddgrid[..., 0] * (wx * x_slope) + ddgrid[..., 1] * (wy * y_slope))
                term = pixels[idx] * step[..., None]
                ddy = term if ddy is None else ddy + term
        return None, None, ddy


def _source(coord: np.ndarray, size: int, padding_mode: str, align_corners: bool
            ) -> tuple[np.ndarray, np.ndarray]:
    """(pixel coordinates, d(pixel coordinate)/d(grid coordinate)) along one axis of ``size``
    pixels, PyTorch's: unnormalised, then clamped or reflected by ``padding_mode``. Where a
    coordinate was clamped (on the border too, as PyTorch's), its slope is 0."""
    if align_corners:
        pixel = (coord + 1) * ((size - 1) / 2)
        slope = np.full(coord.shape, (size - 1) / 2, coord.dtype)
    else:
        pixel = ((coord + 1) * size - 1) / 2
        slope = np.full(coord.shape, size / 2, coord.dtype)
    if padding_mode == "reflection":
        low, high = (0, 2 * (size - 1)) if align_corners else (-1, 2 * size - 1)
        if low == high:  # one pixel, corners aligned: every point reads it
            return np.zeros_like(pixel), np.zeros_like(slope)
        start, span = low / 2, (high - low) / 2
        shifted = pixel - start
        sign = np.where(shifted < 0, -1.0, 1.0)
        shifted = np.abs(shifted)
        extra = np.fmod(shifted, span)
        even = np.floor(shifted / span) % 2 == 0
        pixel = np.where(even, extra + start, span - extra + start)
        slope = slope * np.where(even, sign, -sign)
    if padding_mode != "zeros":
        inside = (pixel > 0) & (pixel < size - 1)
        pixel = np.clip(pixel, 0, size - 1)
        slope = slope * inside
    else:  # a point at or past -1 or size reads only zeros, wherever it is: past int64's
        # range (a diverging grid's 1e20) its pixel indices would overflow in the cast
        pixel = np.clip(pixel, -2, size + 1)
    return pixel, slope


def _taps(shape: tuple[int, ...], grid: np.ndarray, mode: str, padding_mode: str,
          align_corners: bool) -> tuple[list, Any]:
    """The pixels each grid point reads: a list of (flat pixel index, weight) pairs, each
    (m, H_out, W_out), a tap outside the image reading pixel 0 with weight 0; and, for
    bilinear, ((dw_k/dx per tap), (dw_k/dy per tap)), 0 outside the image too, and the two
    axes' slopes d(pixel coordinate)/d(grid coordinate) (see `_source`)."""
    m, height, width, _ = shape
    x, x_slope = _source(grid[..., 0], width, padding_mode, align_corners)
    y, y_slope = _source(grid[..., 1], height, padding_mode, align_corners)
    base = (np.arange(m) * (height * width))[:, None, None]

    def inside(row: np.ndarray, col: np.ndarray) -> np.ndarray:
        return (row >= 0) & (row < height) & (col >= 0) & (col < width)

    def index(row: np.ndarray, col: np.ndarray, where: np.ndarray) -> np.ndarray:
        return base + np.where(where, row * width + col, 0)

    if mode == "nearest":
        row, col = np.rint(y).astype(np.intp), np.rint(x).astype(np.intp)
        where = inside(row, col)
        return [(index(row, col, where), where.astype(grid.dtype))], None
    left, top = np.floor(x), np.floor(y)
    right_w, bottom_w = x - left, y - top  # the weights of the right column and bottom row
    left_w, top_w = 1 - right_w, 1 - bottom_w
    left, top = left.astype(np.intp), top.astype(np.intp)
    corners = ((top, left, top_w * left_w, -top_w, -left_w),
               (top, left + 1, top_w * right_w, top_w, -right_w),
               (top + 1, left, bottom_w * left_w, -bottom_w, left_w),
               (top + 1, left + 1, bottom_w * right_w, bottom_w, right_w))
    taps, dx_of, dy_of = [], [], []
    for row, col, weight, dx, dy in corners:  # dx, dy: the weight's derivatives
        where = inside(row, col)
        taps.append((index(row, col, where), np.where(where, weight, 0.0)))
        dx_of.append(np.where(where, dx, 0.0))
        dy_of.append(np.where(where, dy, 0.0))
    return taps, ((dx_of, dy_of), (x_slope, y_slope))


# -- the functions a user calls -----------------------------------------------------------------
def _floats(value: Any, what: str, caller: str) -> Tensor:
    """``value`` as a Tensor of floats (a Tensor as it is, other numbers as float64)."""
    if isinstance(value, Tensor):
        if value.dtype.kind != "f":
            raise GraphgradTypeError(f"{caller}: {what} {describe(value)} must hold floats: "
                                     f"cast it ({what}.astype(np.float64))")
        return value
    array = array_of_numbers(value, what, caller)
    return Tensor(array if array.dtype.kind == "f" else array.astype(np.float64))


def _corners(align_corners: Any, caller: str) -> bool:
    if align_corners is None:  # PyTorch's default, which means False there
        return False
    return flag(align_corners, "align_corners", caller)


def _base_grid(size: int, align_corners: bool) -> np.ndarray:
    """The pixels' centres along one axis of ``size`` pixels in [-1, 1] coordinates."""
    if size == 1:
        return np.zeros(1)
    points = np.linspace(-1.0, 1.0, size)
    return points if align_corners else points * ((size - 1) / size)


def affine_grid(theta: Any, size: Any, align_corners: bool = False) -> Tensor:
    """PyTorch's F.affine_grid for images channels last: the grid (m, n_H, n_W, 2) of the
    points (x, y) = theta @ (x_out, y_out, 1) that `grid_sample` reads for each pixel of an
    output of ``size``.

    Args:
        theta: (m, 2, 3) affine maps, PyTorch's as they are (the identity is
            [[1, 0, 0], [0, 1, 0]]); differentiable.
        size: the output's shape (m, n_H, n_W, n_C), channels last: PyTorch's (N, C, H, W)
            is (N, H, W, C) here.
        align_corners: -1 and +1 are the corner pixels' centres (True) or the image's outer
            edges (False, PyTorch's default).
    """
    caller = "affine_grid"
    corners = _corners(align_corners, caller)
    theta = _floats(theta, "theta", caller)
    try:
        dims = tuple(int(d) for d in size)
        ok = all(int(d) == d for d in size)
    except (TypeError, ValueError):
        dims, ok = (), False
    if not ok or len(dims) != 4 or min(dims) < 1:
        tip = " (volumes (m, D, H, W, C) are not supported)" if len(dims) == 5 else ""
        raise ArgumentError(f"{caller}: size must be the output's shape (m, n_H, n_W, n_C), "
                            f"four whole numbers >= 1, channels last, got "
                            f"{setting_text(size)}{tip}")
    m, height, width, _ = dims
    if theta.shape != (m, 2, 3):
        tip = ""
        if theta.shape == (2, 3):
            tip = " (one map for the batch? theta[None] gives it a batch axis of 1)"
        elif theta.ndim == 3 and theta.shape[1:] == (2, 3):
            tip = f" (size's m is {m}: give as many maps as images)"
        raise ShapeError(f"{caller} takes theta of shape (m, 2, 3) = ({m}, 2, 3) for size "
                         f"{dims}, got {describe(theta)}{tip}")
    xs = _base_grid(width, corners)
    ys = _base_grid(height, corners)
    base = np.empty((height, width, 3), theta.dtype)  # (x, y, 1) of each output pixel
    base[..., 0] = xs
    base[..., 1] = ys[:, None]
    base[..., 2] = 1.0
    flat = MatMul.apply(base.reshape(1, height * width, 3), theta.transpose(0, 2, 1))
    return Reshape.apply(flat, shape=(m, height, width, 2))


def grid_sample(input: Any, grid: Any, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners: bool = False) -> Tensor:
    """PyTorch's F.grid_sample for images channels last: each image of ``input`` read at the
    points of its grid (bilinear or nearest), the spatial transformer's sampler.

    Args:
        input: images A (m, n_H, n_W, n_C), channels last (PyTorch's (N, C, H, W) is
            ``x.transpose(0, 2, 3, 1)`` here).
        grid: (m, H_out, W_out, 2) points (x, y) in [-1, 1], x across the width, y down the
            height, PyTorch's (`affine_grid` makes them); differentiable for bilinear.
        mode: ``"bilinear"`` (from the four nearest pixels) or ``"nearest"``.
        padding_mode: what points outside the image read: ``"zeros"``, ``"border"`` (the
            nearest border pixel) or ``"reflection"`` (the point reflected back in).
        align_corners: -1 and +1 are the corner pixels' centres (True) or the image's outer
            edges (False, PyTorch's default).

    Returns: (m, H_out, W_out, n_C), of input's dtype.
    """
    caller = "grid_sample"
    corners = _corners(align_corners, caller)
    if mode not in _MODES:
        tip = " (bicubic is not implemented)" if mode == "bicubic" else ""
        raise ArgumentError(f"{caller}: mode must be \"bilinear\" or \"nearest\", got "
                            f"{setting_text(mode)}{tip}")
    if padding_mode not in _PADDING_MODES:
        raise ArgumentError(f"{caller}: padding_mode must be \"zeros\", \"border\" or "
                            f"\"reflection\", got {setting_text(padding_mode)}")
    a = _floats(input, "input", caller)
    g = _floats(grid, "grid", caller)
    if a.ndim != 4 or not all(a.shape[1:3]):
        tip = " (one image? add the batch axis: A[None])" if a.ndim == 3 else ""
        raise ShapeError(f"{caller} takes input images A of shape (m, n_H, n_W, n_C), "
                         f"channels last, of one pixel or more, got {describe(a)}{tip}")
    if g.ndim != 4 or g.shape[3] != 2 or g.shape[0] != a.shape[0]:
        tip = ""
        if g.ndim == 5:
            tip = " (volumes are not supported)"
        elif g.ndim == 4 and g.shape[3] == 2:
            tip = f" (one grid per image: m = {a.shape[0]})"
        raise ShapeError(f"{caller} takes a grid of shape (m, H_out, W_out, 2) of points "
                         f"(x, y), m = {a.shape[0]} as input {describe(a)}, got "
                         f"{describe(g)}{tip}")
    finite = np.isfinite(g.data)
    if not finite.all():
        at = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise ArgumentError(f"{caller}: grid {describe(g)} holds {g.data[at].item()!r} at "
                            f"{at}: its points must be finite numbers (was the affine map NaN?)")
    return GridSample.apply(a, g, mode=mode, padding_mode=padding_mode, align_corners=corners)
