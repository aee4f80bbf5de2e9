"""Order statistics as numpy computes them by default: quantile, percentile and median, the
values ranked along the reduced axes (np.argsort, as `gather.sort`) and the two around each
quantile's place mixed linearly (numpy's method="linear"); a slice holding a NaN gives NaN.
nanquantile, nanpercentile and nanmedian leave the NaNs out, each slice ranking its numbers.
Compositions of take_along_axis, indexing and arithmetic, so the gradient goes to the one or
two elements each quantile is made of, by the mixing weights.
Depends on `ops.gather`, `ops.shape`, `ops.reductions`, `ops.elementwise`, `errors`.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    GraphgradTypeError,
    describe,
    numbers_and_shown,
    setting_text,
)
from graphgrad.ops.elementwise import where
from graphgrad.ops.gather import TakeAlongAxis
from graphgrad.ops.reductions import normalize_axis
from graphgrad.ops.shape import Reshape, Transpose
from graphgrad.tensor import Tensor


def _fractions(q: Any, op: str, scale: float) -> np.ndarray:
    """``q`` (a number or an array of them, from 0 to ``scale``) as float64 fractions."""
    data = q.data if isinstance(q, Tensor) else q
    try:
        array = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError):
        raise GraphgradTypeError(f"{op}: q must be a number or an array of them, got "
                                 f"{setting_text(q)}") from None
    if isinstance(q, Tensor) and q.requires_grad:
        raise GraphgradTypeError(f"{op}: q, {describe(q)}, requires grad, but the quantiles "
                                 "asked for are constants here; give q.data")
    if not ((array >= 0) & (array <= scale)).all():
        raise ArgumentError(f"{op}: q must be from 0 to {scale:g}, got {setting_text(q)}")
    return array / scale


def quantile(x: Any, q: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The ``q``-th quantiles of x along ``axis`` (an int, a tuple of them, or None for all
    axes), as np.quantile's default (method="linear"): the values sorted, and the two around
    place q (n - 1) mixed linearly. ``q`` is a number from 0 to 1 or an array of them (the
    output then has q's axes first). The gradient goes to the one or two elements each
    quantile is made of, weighted as they are mixed. Values holding a NaN give NaN (numpy's;
    its gradient goes to the NaN, as PyTorch's). ``keepdims`` keeps the reduced axes, of
    size 1."""
    return _quantiles(x, q, axis, keepdims, "quantile", 1.0)


def percentile(x: Any, q: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """`quantile` with ``q`` in percent (from 0 to 100), as np.percentile; ``axis`` and
    ``keepdims`` as there."""
    return _quantiles(x, q, axis, keepdims, "percentile", 100.0)


def median(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The median of x along ``axis`` (an int, a tuple of them, or None for all axes), as
    np.median: the middle value, or the mean of the two middle ones for an even count. Its
    gradient goes to the middle element, or half to each of the two (PyTorch's median takes
    the lower of the two instead). ``keepdims`` keeps the reduced axes, of size 1."""
    return _quantiles(x, 0.5, axis, keepdims, "median", 1.0)


def nanquantile(x: Any, q: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """`quantile` of x's numbers that are not NaN, as np.nanquantile: each slice's numbers
    sorted, and the two around place q (count - 1) mixed linearly (``q``, ``axis`` and
    ``keepdims`` as in `quantile`). A slice of NaNs only gives NaN, as numpy's (without its
    warning), and no gradient; the NaNs' gradient is 0."""
    return _quantiles(x, q, axis, keepdims, "nanquantile", 1.0, skip_nan=True)


def nanpercentile(x: Any, q: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """`nanquantile` with ``q`` in percent (from 0 to 100), as np.nanpercentile; ``axis``
    and ``keepdims`` as there."""
    return _quantiles(x, q, axis, keepdims, "nanpercentile", 100.0, skip_nan=True)


def nanmedian(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """`median` of x's numbers that are not NaN over ``axis``, as np.nanmedian (``keepdims``
    as there; a slice of NaNs only: NaN, with no gradient)."""
    return _quantiles(x, 0.5, axis, keepdims, "nanmedian", 1.0, skip_nan=True)


def _quantiles(x: Any, q: Any, axis: Any, keepdims: bool, op: str, scale: float,
               skip_nan: bool = False) -> Tensor:
    data, shown = numbers_and_shown(x, "x", op)
    fractions = _fractions(q, op, scale)
    if not isinstance(keepdims, (bool, np.bool_)):
        raise GraphgradTypeError(f"{op}: keepdims must be True or False, got "
                                 f"{setting_text(keepdims)}")
    try:
        axes = normalize_axis(axis, data.ndim)
    except (TypeError, ValueError) as exc:
        raise ArgumentError(f"{op} of {describe(shown)}: {exc}; give axes from {-data.ndim} to "
                            f"{data.ndim - 1}, or None for all of them") from None
    if len(set(axes)) != len(axes):
        raise ArgumentError(f"{op}: axis names an axis twice, {setting_text(axis)}")
    kept = [d for d in range(data.ndim) if d not in axes]
    n = int(np.prod([data.shape[d] for d in axes]))
    if n == 0:
        raise ArgumentError(f"{op} of {describe(shown)} over axes {axes}: there are no values "
                            "to take a quantile of (numpy gives nan)")
    # the reduced axes last, as one, and sorted along it
    # (no node for a move or a reshape that changes nothing: the last axis of a matrix)
    moving = tuple(kept + list(axes))
    moved = Transpose.apply(x, axes=moving) if moving != tuple(range(data.ndim)) else x
    target = tuple(data.shape[d] for d in kept) + (n,)
    rows = (moved if type(moved) is Tensor and moved.shape == target
            else Reshape.apply(moved, shape=target))
    shape = rows.data.shape
    order = np.argsort(rows.data, axis=-1, kind="stable")
    if skip_nan:  # NaN sorts last: each slice's count of numbers sets its places
        count = np.sum(~np.isnan(rows.data), axis=-1, keepdims=True)
        last = np.maximum(count - 1, 0)
        place = last * fractions.reshape(-1)  # kept axes, then q's, flattened
        low = np.floor(place).astype(np.intp)
        high = np.minimum(low + 1, last)
        weight = place - low
    else:
        place = fractions * (n - 1)
        low = np.floor(place).astype(np.intp).reshape(-1)
        high = np.minimum(low + 1, n - 1)
        weight = (place - low.reshape(place.shape)).reshape(-1)  # numpy's linear method
    if rows.dtype.kind == "f":  # float32 stays float32, as numpy's
        weight = weight.astype(rows.dtype)
    # Only the ranks each quantile is made of are taken, in one node: sorting all of x as a
    # node would gather every element forward and scatter every one back.
    k = low.shape[-1]
    ranks = np.concatenate([low, high], axis=-1)
    taken = np.take_along_axis(order, ranks, axis=-1) if skip_nan else order[..., ranks]
    picked = TakeAlongAxis.apply(rows, indices=taken, axis=len(shape) - 1)
    below, above = picked[..., :k], picked[..., k:]
    mixed = below + (above - below) * weight  # weight of the upper value
    # numpy's quantile of a slice holding a NaN is NaN. NaN sorts last, where the mix above
    # passes it by: PyTorch's takes that element, and so gives it the gradient.
    if skip_nan:  # no numbers: NaN, as numpy's, and no gradient
        if not count.all():
            mixed = where(count > 0, mixed, np.asarray(np.nan, mixed.dtype))
        last = nan = None
    else:
        last = order[..., -1:]
        nan = np.isnan(np.take_along_axis(rows.data, last, axis=-1))
    if nan is not None and nan.any():
        mixed = where(nan, TakeAlongAxis.apply(rows, indices=last, axis=len(shape) - 1),
                      mixed)
    out_kept = tuple(1 if d in axes else data.shape[d] for d in range(data.ndim)) if keepdims \
        else tuple(data.shape[d] for d in kept)
    # q's axes first, as numpy puts them
    k = len(kept)
    # (one q: its axis, of size 1, moves no element, and a shape already right needs no node)
    front = Transpose.apply(mixed, axes=(k,) + tuple(range(k))) if k and fractions.size > 1 \
        else mixed
    shape = fractions.shape + out_kept
    return front if front.shape == shape else Reshape.apply(front, shape=shape)
