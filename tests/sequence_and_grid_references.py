"""References by hand for ctc_loss and grid_sample, written unlike the ops they check.

CTC by brute force: every path of classes over an example's frames, those that collapse
(repeats merged, blanks dropped) to its target summed; the gradient wrt log_probs from the
same enumeration, minus each frame's class occupancy under the paths' posterior weights.
Small cases only (C**T paths).

grid_sample pixel by pixel with Python loops: each coordinate unnormalised, reflected by
folding (x mod the period), clamped, then the four taps (or the nearest pixel) read, and the
gradients (dA, dgrid) of <dY, Y> from the same taps.
"""
from __future__ import annotations

import itertools
import math

import numpy as np


# -- CTC -------------------------------------------------------------------------------------------
def collapse(path: tuple[int, ...], blank: int) -> list[int]:
    """A path's labels: repeats merged, then blanks dropped."""
    labels, previous = [], None
    for c in path:
        if c != previous and c != blank:
            labels.append(c)
        previous = c
    return labels


def ctc_by_paths(log_probs: np.ndarray, target: list[int], blank: int = 0
                 ) -> tuple[float, np.ndarray]:
    """(-log p(target | x), its gradient wrt log_probs (T, C)) over every path of T frames."""
    n_frames, n_classes = log_probs.shape
    paths = [p for p in itertools.product(range(n_classes), repeat=n_frames)
             if collapse(p, blank) == list(target)]
    grad = np.zeros_like(log_probs)
    if not paths:
        return math.inf, grad
    scores = np.array([sum(log_probs[t, c] for t, c in enumerate(p)) for p in paths])
    top = scores.max()
    total = top + math.log(np.exp(scores - top).sum())
    weights = np.exp(scores - total)
    for p, w in zip(paths, weights):
        for t, c in enumerate(p):
            grad[t, c] -= w
    return -total, grad


def ctc_batch_by_paths(log_probs: np.ndarray, targets: np.ndarray, input_lengths: np.ndarray,
                       target_lengths: np.ndarray, blank: int = 0
                       ) -> tuple[np.ndarray, np.ndarray]:
    """The (m,) losses and their gradients (m, T, C) of a padded batch, batch first."""
    losses = np.zeros(len(log_probs))
    grads = np.zeros_like(log_probs)
    for i, (lp, row, n_in, n_out) in enumerate(zip(log_probs, targets, input_lengths,
                                                   target_lengths)):
        losses[i], grads[i, :n_in] = ctc_by_paths(lp[:n_in], list(row[:n_out]), blank)
    return losses, grads


# -- grid_sample -----------------------------------------------------------------------------------
def _pixel(coord: float, size: int, padding: str, align_corners: bool) -> tuple[float, float]:
    """(pixel coordinate, its derivative wrt the grid coordinate)."""
    scale = (size - 1) / 2 if align_corners else size / 2
    x = (coord + 1) * scale if align_corners else (coord + 1) * scale - 0.5
    slope = scale
    if padding == "reflection":
        if align_corners and size == 1:
            return 0.0, 0.0
        low, period = (0.0, 2 * (size - 1)) if align_corners else (-0.5, 2 * size)
        u = x - low
        folds = math.floor(u / (period / 2))
        u = u % period
        if u > period / 2:
            u = period - u
        x = u + low
        slope *= 1 if folds % 2 == 0 else -1
    if padding in ("border", "reflection"):
        if not 0 < x < size - 1:
            slope = 0.0
        x = min(max(x, 0.0), size - 1.0)
    return x, slope


def grid_sample_by_pixels(a: np.ndarray, grid: np.ndarray, mode: str = "bilinear",
                          padding: str = "zeros", align_corners: bool = False,
                          upstream: np.ndarray | None = None):
    """Y (m, H_out, W_out, C); with ``upstream`` dY, also (dA, dgrid) of <dY, Y>."""
    m, height, width, channels = a.shape
    _, h_out, w_out, _ = grid.shape
    y = np.zeros((m, h_out, w_out, channels))
    da, dgrid = np.zeros_like(a), np.zeros_like(grid)

    def read(i: int, r: int, c: int) -> np.ndarray:
        if 0 <= r < height and 0 <= c < width:
            return a[i, r, c]
        return np.zeros(channels)

    for i in range(m):
        for h in range(h_out):
            for w in range(w_out):
                px, sx = _pixel(grid[i, h, w, 0], width, padding, align_corners)
                py, sy = _pixel(grid[i, h, w, 1], height, padding, align_corners)
                g = None if upstream is None else upstream[i, h, w]
                if mode == "nearest":
                    r, c = int(np.rint(py)), int(np.rint(px))
                    y[i, h, w] = read(i, r, c)
                    if g is not None and 0 <= r < height and 0 <= c < width:
                        da[i, r, c] += g
                    continue
                c0, r0 = math.floor(px), math.floor(py)
                fx, fy = px - c0, py - r0
                for r, c, wgt, dwx, dwy in ((r0, c0, (1 - fy) * (1 - fx), -(1 - fy), -(1 - fx)),
                                            (r0, c0 + 1, (1 - fy) * fx, 1 - fy, -fx),
                                            (r0 + 1, c0, fy * (1 - fx), -fy, 1 - fx),
                                            (r0 + 1, c0 + 1, fy * fx, fy, fx)):
                    value = read(i, r, c)
                    y[i, h, w] += wgt * value
                    if g is not None and 0 <= r < height and 0 <= c < width:
                        da[i, r, c] += wgt * g
                        dgrid[i, h, w, 0] += float(g @ value) * dwx * sx
                        dgrid[i, h, w, 1] += float(g @ value) * dwy * sy
    if upstream is None:
        return y
    return y, da, dgrid


def affine_grid_by_pixels(theta: np.ndarray, height: int, width: int,
                          align_corners: bool = False) -> np.ndarray:
    """(m, height, width, 2): theta @ (x, y, 1) at each output pixel's centre."""
    def centre(k: int, n: int) -> float:
        if n == 1:
            return 0.0
        return -1 + 2 * k / (n - 1) if align_corners else (2 * k + 1) / n - 1

    grid = np.zeros((len(theta), height, width, 2))
    for i, t in enumerate(theta):
        for h in range(height):
            for w in range(width):
                grid[i, h, w] = t @ np.array([centre(w, width), centre(h, height), 1.0])
    return grid
