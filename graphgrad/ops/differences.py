"""numpy's finite differences and sums of samples: gradient (central differences inside, one-
sided at the ends), trapezoid (the trapezoidal rule) and ediff1d (the differences of the
flattened array, with ends joined). Each is linear in the samples, so its backward is its
adjoint: gradient's is one op, `GradientAdjoint`, numpy's stencil transposed; trapezoid and
ediff1d are composed of slices, sums and concatenates, whose backwards are theirs.
Depends on `function`, `ops.cumulative`, `ops.shape`, `ops.reductions`, `ops.rearrange`,
`errors`.
"""
from __future__ import annotations

import functools
from typing import Any

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    GraphgradTypeError,
    array_of_numbers,
    describe,
    numbers_and_shown,
    setting_text,
)
from graphgrad.function import Function
from graphgrad.ops.cumulative import Diff
from graphgrad.ops.rearrange import _one_axis
from graphgrad.ops.reductions import Sum, normalize_axis
from graphgrad.ops.shape import Cast, Concatenate, Reshape
from graphgrad.tensor import Tensor


def _as_float_tensor(value: Any, data: np.ndarray) -> Tensor:
    """``value`` as a tensor of floats: integers are differenced in float64, as numpy's."""
    if data.dtype.kind != "f":
        return Cast.apply(value, dtype=np.float64)
    return value if isinstance(value, Tensor) else Tensor(data)


def _slicer(f: Tensor, axis: int) -> Any:
    return lambda start, stop: f[(slice(None),) * axis + (slice(start, stop),)]


def _along(values: np.ndarray, axis: int, ndim: int, dtype: Any) -> np.ndarray:
    """1-D coefficients laid along ``axis`` of an array of ``ndim`` dimensions."""
    shape = [1] * ndim
    shape[axis] = -1
    return np.asarray(values, dtype).reshape(shape)


def _spacing(value: Any, n: int, axis: int, op: str) -> Any:
    """One of gradient's varargs, as numpy takes it: a number (a uniform step) or the n
    coordinates along the axis (as a float64 array); tensors that require grad are refused
    (the coordinates are constants here)."""
    if isinstance(value, Tensor) and value.requires_grad:
        raise GraphgradTypeError(f"{op}: the spacing {describe(value)} requires grad, but "
                                 "spacings and coordinates are constants here; give .data")
    array = np.asarray(array_of_numbers(value, "the spacing", op), dtype=np.float64)
    if array.ndim == 0:
        return float(array)
    if array.ndim != 1 or array.size != n:
        raise ArgumentError(f"{op}: the spacing along axis {axis} is {setting_text(value)}; "
                            f"give a number, or the {n} coordinates of the samples along it")
    return array


def _steps(spacing: Any) -> Any:
    """The stencil's steps of a spacing (`_spacing`): the number, or the n - 1 steps between
    the coordinates, a number when they are all equal (numpy's uniform test)."""
    if isinstance(spacing, float):
        return spacing
    steps = np.diff(spacing)
    return float(steps[0]) if (steps == steps[0]).all() else steps


def _stencil(step: Any, edge_order: int) -> tuple[tuple[Any, Any, Any], list, list]:
    """numpy's weights of np.gradient along an axis: (a, b, c) of the points inside, y[i] =
    a f[i - 1] + b f[i] + c f[i + 1] (numbers for a uniform ``step``, else arrays of n - 2),
    and those of the first and last points on f's first and last 2 (edge_order 1) or 3."""
    if isinstance(step, float):
        inner = (-0.5 / step, 0.0, 0.5 / step)
        if edge_order == 1:
            return inner, [-1.0 / step, 1.0 / step], [-1.0 / step, 1.0 / step]
        return inner, [-1.5 / step, 2.0 / step, -0.5 / step], [0.5 / step, -2.0 / step,
                                                               1.5 / step]
    dx1, dx2 = step[:-1], step[1:]
    inner = (-dx2 / (dx1 * (dx1 + dx2)), (dx2 - dx1) / (dx1 * dx2), dx1 / (dx2 * (dx1 + dx2)))
    if edge_order == 1:
        return inner, [-1.0 / step[0], 1.0 / step[0]], [-1.0 / step[-1], 1.0 / step[-1]]
    d1, d2 = step[0], step[1]
    first = [-(2.0 * d1 + d2) / (d1 * (d1 + d2)), (d1 + d2) / (d1 * d2), -d1 / (d2 * (d1 + d2))]
    d1, d2 = step[-2], step[-1]
    last = [d2 / (d1 * (d1 + d2)), -(d2 + d1) / (d1 * d2), (2.0 * d2 + d1) / (d2 * (d1 + d2))]
    return inner, first, last


class Gradient(Function):
    """y = np.gradient(f) along ``axis``: y = L f, L numpy's stencil (central differences
    inside, one-sided ones of ``edge_order`` at the ends, see `_stencil`);  df = L^T dy,
    `GradientAdjoint`. ``spacing`` is numpy's (a number or the coordinates)."""

    @staticmethod
    def forward(ctx, f, axis, spacing, edge_order):
        ctx.settings = dict(axis=axis, spacing=spacing, edge_order=edge_order)
        return np.asarray(np.gradient(f, spacing, axis=axis, edge_order=edge_order))

    @staticmethod
    def backward(ctx, grad):
        return GradientAdjoint.call(grad, **ctx.settings)


class GradientAdjoint(Function):
    """y = L^T x, x sent back through `Gradient`'s stencil L: each row of L scatters x[i] to
    the points it was made of, in one array;  dx = L dy, `Gradient` again"""

    @staticmethod
    def forward(ctx, x, axis, spacing, edge_order):
        ctx.settings = dict(axis=axis, spacing=spacing, edge_order=edge_order)
        (a, b, c), first, last = _stencil(_steps(spacing), edge_order)
        n, ndim = x.shape[axis], x.ndim
        at = functools.partial(_span, axis)
        inside = x[at(1, n - 1)]
        y = np.zeros_like(x)
        for weight, start in ((a, 0), (b, 1), (c, 2)):
            if np.ndim(weight) or weight:  # a uniform step has no b
                weight = _along(weight, axis, ndim, x.dtype) if np.ndim(weight) else weight
                y[at(start, start + n - 2)] += weight * inside
        k = len(first)
        y[at(0, k)] += _along(first, axis, ndim, x.dtype) * x[at(0, 1)]
        y[at(n - k, n)] += _along(last, axis, ndim, x.dtype) * x[at(n - 1, n)]
        return y

    @staticmethod
    def backward(ctx, grad):
        return Gradient.call(grad, **ctx.settings)


def _span(axis: int, start: int, stop: int) -> tuple[slice, ...]:
    """The index of positions start..stop - 1 along ``axis``."""
    return (slice(None),) * axis + (slice(start, stop),)


def gradient(f: Any, *varargs: Any, axis: Any = None, edge_order: int = 1) -> Any:
    """The derivative of samples f along each axis (``axis``: an int, a tuple of them, in the
    order of the results, or None for all), as np.gradient: (f[i + 1] - f[i - 1]) / 2h
    inside, one-sided differences of ``edge_order`` (1 or 2) at the ends. ``varargs`` are the
    spacings: none (1), one for every axis, or one per axis, each a number or the coordinates
    of the samples along it (constants). One axis gives a tensor, several a tuple, one per
    axis. Linear in f: its gradient is the stencil's transpose (`GradientAdjoint`)."""
    op = "gradient"
    data, shown = numbers_and_shown(f, "f", op)
    if isinstance(edge_order, (bool, np.bool_)) or edge_order not in (1, 2):
        raise ArgumentError(f"{op}: edge_order must be 1 or 2, got {setting_text(edge_order)}")
    try:
        axes = normalize_axis(axis, data.ndim)
    except (TypeError, ValueError):
        raise ArgumentError(f"{op} of {describe(shown)}: axis {setting_text(axis)} is not one "
                            f"of its {data.ndim} axes; give ints from {-data.ndim} to "
                            f"{data.ndim - 1}, or None for all of them") from None
    if len(set(axes)) != len(axes):
        raise ArgumentError(f"{op}: axis={setting_text(axis)} names an axis twice")
    if isinstance(axis, (tuple, list)):  # numpy's order, each with its spacing: not sorted
        axes = tuple(int(a) % data.ndim for a in axis)
    if not axes:
        raise ArgumentError(f"{op} of {describe(shown)}: a number has no axis to take "
                            "differences along; give a tensor with at least one axis")
    if len(varargs) not in (0, 1, len(axes)):
        raise ArgumentError(f"{op}: {len(varargs)} spacings for {len(axes)} axes; give none "
                            "(1), one for all axes, or one per axis")
    spacings = list(varargs) if len(varargs) == len(axes) else [
        varargs[0] if varargs else 1.0] * len(axes)
    f = _as_float_tensor(f, data)
    out = []
    for a, spacing in zip(axes, spacings):
        n = data.shape[a]
        if n < edge_order + 1:
            raise ArgumentError(f"{op} of {describe(shown)}: axis {a} has {n} element"
                                f"{'s' * (n != 1)}, and differences of edge_order {edge_order} "
                                f"need {edge_order + 1} or more (numpy refuses it too)")
        out.append(Gradient.apply(f, axis=a, spacing=_spacing(spacing, n, a, op),
                                  edge_order=edge_order))
    return out[0] if len(out) == 1 else tuple(out)


def trapezoid(y: Any, x: Any = None, dx: Any = 1.0, axis: int = -1) -> Tensor:
    """The integral of samples y along ``axis`` by the trapezoidal rule, as np.trapezoid:
    sum((y[i] + y[i + 1]) / 2 * (x[i + 1] - x[i])), at coordinates ``x`` (1-D along the
    axis, or y's shape; a tensor gets its gradient too) or spaced ``dx`` apart. An axis of
    one sample gives 0."""
    op = "trapezoid"
    data, shown = numbers_and_shown(y, "y", op)
    if data.ndim == 0:
        raise ArgumentError(f"{op} of {describe(shown)}: a number has no axis to integrate "
                            "along; give samples along at least one axis")
    axis = _one_axis(axis, data.ndim, shown, op)
    y = _as_float_tensor(y, data)
    if x is None:
        step: Any = dx
    else:
        coordinates = array_of_numbers(x, "x", op)
        if coordinates.dtype.kind != "f":
            x = Cast.apply(x, dtype=np.float64)
        if coordinates.ndim == 1:
            if coordinates.size != data.shape[axis]:
                raise ArgumentError(f"{op} of {describe(shown)}: x has {coordinates.size} "
                                    f"coordinates for the {data.shape[axis]} samples along "
                                    f"axis {axis}; give one per sample")
            shape = [1] * data.ndim
            shape[axis] = -1
            step = Reshape.apply(Diff.apply(x, axis=0), shape=tuple(shape))
        elif coordinates.shape == data.shape:
            step = Diff.apply(x, axis=axis)
        else:
            raise ArgumentError(f"{op} of {describe(shown)}: x of shape {coordinates.shape} "
                                "gives the coordinates of the samples: 1-D along the axis, or "
                                "y's shape")
    part = _slicer(y, axis)
    return Sum.apply((part(1, None) + part(None, -1)) * step * 0.5, axis=axis)


def ediff1d(ary: Any, to_end: Any = None, to_begin: Any = None) -> Tensor:
    """The differences of neighbours in the flattened ``ary``, as np.ediff1d, with
    ``to_begin`` and ``to_end`` (numbers or arrays, flattened; tensors get their gradient
    too) joined before and after."""
    op = "ediff1d"
    data, _ = numbers_and_shown(ary, "ary", op)
    flat = Reshape.apply(ary, shape=(-1,))
    pieces = [Diff.apply(flat, axis=0)]
    for which, end in (("to_begin", to_begin), ("to_end", to_end)):
        if end is None:
            continue
        values = array_of_numbers(end, which, op)
        if values.dtype.kind == "f" and data.dtype.kind in "iub":
            raise GraphgradTypeError(f"{op}: {which} holds floats, which the differences of "
                                     f"{data.dtype} values cannot hold (numpy refuses it too)")
        end = Reshape.apply(end, shape=(-1,)) if isinstance(end, Tensor) else (
            values.reshape(-1).astype(data.dtype))
        pieces.insert(0 if which == "to_begin" else len(pieces), end)
    return pieces[0] if len(pieces) == 1 else Concatenate.apply(*pieces, axis=0)
