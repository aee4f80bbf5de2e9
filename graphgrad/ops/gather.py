"""Picking elements along an axis by index arrays: take_along_axis, numpy's (PyTorch's gather,
``Q.gather(1, actions)``), and sort, which takes x along its axis in the order np.argsort
finds. The indices are constants (ints, no gradient). Backward scatters the gradient back to
where each element came from, through the elements' places in x raveled (`FlatAdd`); an index
given twice adds its gradients up. Depends on `function`, `ops.rearrange` (its axis check),
`errors`.
"""
from __future__ import annotations

import functools
from typing import Any

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    GraphgradTypeError,
    describe,
    numbers_and_shown,
    setting_text,
)
from graphgrad.function import Function
from graphgrad.ops.rearrange import _one_axis
from graphgrad.tensor import Tensor


class TakeAlongAxis(Function):
    """y = x[..., indices, ...] with indices along ``axis`` and the other axes running
    alongside (np.take_along_axis): y[i, j] = x[i, indices[i, j]] for axis 1;
    dx = zeros with dy added where each element came from (repeated indices add up).

    ``indices`` count from 0 (our own copy: the caller's were copied when checked); ``axis``
    None takes from x raveled. Both ways go through the elements' places in x raveled:
    numpy's add.at is several times faster with one flat index than with a tuple of arrays.
    Its settings are the indices and the axis (from 0), what take_along_axis was given, so a
    picture reads ``indices=<int64 array (m, 1)>, axis=1``; the tuple of index arrays they
    make is built in forward."""

    @staticmethod
    def forward(ctx, x, indices, axis):
        ctx.in_shape = x.shape
        ctx.flat = flat = indices if axis is None else _flat(
            _along(x.shape, indices, axis), x.shape)
        return x.reshape(-1)[flat]

    @staticmethod
    def backward(ctx, grad):
        return FlatAdd.call(grad, flat=ctx.flat, shape=ctx.in_shape, once=False)


class Sort(TakeAlongAxis):
    """y = x sorted along ``axis`` (x raveled when None), x taken in the order np.argsort
    finds (a stable sort); dx = dy sent back to where each element came from, ties each to
    its own element.

    The order is a permutation: each element is taken once, so backward puts the gradient in
    place rather than adding it up."""

    @staticmethod
    def forward(ctx, x, axis):
        ctx.in_shape = x.shape
        if axis is None:
            ctx.flat = flat = np.argsort(x.reshape(-1), kind="stable")
        else:
            order = np.argsort(x, axis=axis, kind="stable")
            ctx.flat = flat = _flat(_along(x.shape, order, axis), x.shape)
        return x.reshape(-1)[flat]

    @staticmethod
    def backward(ctx, grad):
        return FlatAdd.call(grad, flat=ctx.flat, shape=ctx.in_shape, once=True)


class FlatAdd(Function):
    """y = zeros(shape) with x added at the places ``flat`` of y raveled (a place given twice
    adds up); dx = dy raveled, at flat. ``once``: flat holds every place exactly once (a
    permutation), so x is put there, no zeros and no adding up."""

    @staticmethod
    def forward(ctx, x, flat, shape, once):
        ctx.flat = flat
        size = int(np.prod(shape))
        if once:
            y = np.empty(size, dtype=x.dtype)
            y[flat.reshape(-1)] = x.reshape(-1)
        else:
            y = np.zeros(size, dtype=x.dtype)
            np.add.at(y, flat.reshape(-1), x.reshape(-1))
        return y.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(-1)[ctx.flat]


def _flat(index: tuple[np.ndarray, ...], shape: tuple[int, ...]) -> np.ndarray:
    """The places in x raveled (x of ``shape``, C order) of the elements x[index] takes;
    ``index``: one array of indices from 0 per axis, broadcast together."""
    flat, stride = None, 1
    for i, n in zip(reversed(index), reversed(shape)):
        step = i if stride == 1 else i * stride  # small but for one axis: the aranges
        flat = step if flat is None else flat + step
        stride *= n
    return np.asarray(flat, dtype=np.intp)


_FLATTENED = ", or None for the flattened x"  # what axis=None does, in messages


@functools.lru_cache(maxsize=256)
def _aranges(shape: tuple[int, ...], axis: int) -> tuple[Any, ...]:
    """For each axis of an array of ``shape`` but ``axis``, the counts 0, 1, ... laid along
    that axis (size-1 axes elsewhere), to broadcast against the indices; None at ``axis``."""
    ndim = len(shape)
    return tuple(None if d == axis else
                 np.arange(n).reshape((1,) * d + (n,) + (1,) * (ndim - d - 1))
                 for d, n in enumerate(shape))


def _along(shape: tuple[int, ...], indices: np.ndarray, axis: int) -> tuple[np.ndarray, ...]:
    """The integer-array index of x (``shape``) that np.take_along_axis(x, indices, axis)
    takes: ``indices`` at ``axis``, counts along the others (broadcast against indices)."""
    return tuple(indices if a is None else a for a in _aranges(shape, axis))


def take_along_axis(x: Any, indices: Any, axis: int | None = -1) -> Tensor:
    """The elements of x at ``indices`` along ``axis``, the other axes running alongside, as
    np.take_along_axis: for axis 1, y[i, j] = x[i, indices[i, j]]. PyTorch's
    ``q.gather(1, actions)`` (the Q-values of the actions taken, q (m, n_a), actions (m, 1)
    ints) is ``gg.take_along_axis(q, actions, 1)``.

    ``indices`` are ints (an array, a list or a constant tensor) with as many axes as x; along
    the other axes their sizes equal x's or one of them is 1 (numpy broadcasts it). Negative
    indices count from the end. ``axis`` None takes from the flattened x, with 1-D indices.
    Each element's gradient is the sum of the gradients of the places that took it."""
    data, shown = numbers_and_shown(x, "x", "take_along_axis")
    shape = data.shape
    index = _checked_indices(shape, indices, axis, shown, "take_along_axis")
    if axis is None:  # from the flattened x
        n = int(np.prod(shape))
    else:
        axis = int(axis) % len(shape)
        n = shape[axis]
    index[index < 0] += n  # from the end: from 0, as the places in x need
    return TakeAlongAxis.apply(x, indices=index, axis=axis)


def _checked_indices(shape: tuple[int, ...], indices: Any, axis: Any, shown: Any,
                     op: str) -> np.ndarray:
    """``indices`` as an integer array that fits x (``shape``) along ``axis`` as
    np.take_along_axis needs, negative ones counted from the end, or an error naming op,
    x's and the indices' shapes and what to do."""
    given = indices
    if isinstance(indices, Tensor):
        indices = indices.data
        # Tensors made from ints hold float64, as for t[index]: whole numbers are indices
        if indices.dtype.kind == "f" and np.isfinite(indices).all() and np.array_equal(
                indices, np.trunc(indices)):
            indices = indices.astype(np.intp)
    try:
        indices = np.asarray(indices)
    except (TypeError, ValueError):
        indices = np.asarray(None)
    if indices.size == 0 and indices.dtype.kind == "f" and not isinstance(given, np.ndarray):
        indices = indices.astype(np.intp)  # an empty list: no indices at all
    if indices.dtype.kind not in "iu":
        raise GraphgradTypeError(
            f"{op} of {describe(shown)}: indices must be integers (an int array, a list of "
            f"ints or a tensor of them), got {setting_text(given)}"
            + (" of " + str(indices.dtype) if indices.ndim == 0 and indices.dtype != object
               else ""))
    ndim = len(shape)
    if axis is None:
        if indices.ndim != 1:
            raise ArgumentError(
                f"{op} of {describe(shown)} with axis=None takes from the flattened x, so it "
                f"takes 1-D indices; got indices of shape {indices.shape}. Give an axis, or "
                "flatten the indices (indices.reshape(-1))")
        shape, ndim, axis = (int(np.prod(shape)),), 1, 0
    else:
        axis = _one_axis(axis, ndim, shown, op, tail=_FLATTENED)
    if indices.ndim != ndim:
        raise ArgumentError(
            f"{op} of {describe(shown)} along axis {axis}: indices of shape {indices.shape} "
            f"and x differ in their number of axes ({indices.ndim} and {ndim}); give indices "
            "with x's number of axes "
            f"(size 1 along the axes they run alongside: actions[:, None] makes (m,) into "
            "(m, 1))")
    for d, (n, k) in enumerate(zip(shape, indices.shape)):
        if d != axis and n != k and 1 not in (n, k):
            raise ArgumentError(
                f"{op} of {describe(shown)} along axis {axis}: indices of shape "
                f"{indices.shape} do not fit x along axis {d} ({k} against {n}); along the "
                "axes other than the one taken from, the indices' sizes must equal x's or be 1")
    n = shape[axis]
    if indices.size and (indices.min() < -n or indices.max() >= n):
        bad = indices[(indices < -n) | (indices >= n)].flat[0]
        raise ArgumentError(
            f"{op} of {describe(shown)} along axis {axis}: index {int(bad)} in the indices "
            f"{indices.shape} is out of range for {n} elements; give indices from {-n} to "
            f"{n - 1}" if n else f"{op} of {describe(shown)} along axis {axis}: there are no "
            "elements to take from (x has size 0 there)")
    return indices.astype(np.intp, copy=True)  # our own: the caller may change theirs


def sort(x: Any, axis: int | None = -1) -> Tensor:
    """x sorted in increasing order along ``axis`` (the last by default; the flattened x
    when None), as np.sort. The gradient goes back to where each element came from; equal
    elements keep their order (a stable sort) and each gets its own gradient, as PyTorch's.
    NaNs sort to the end."""
    data, shown = numbers_and_shown(x, "x", "sort")
    if axis is not None:
        axis = _one_axis(axis, data.ndim, shown, "sort", tail=_FLATTENED)
    return Sort.apply(x, axis=axis)
