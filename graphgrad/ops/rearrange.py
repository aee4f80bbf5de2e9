"""Ops that reorder or copy elements along axes, as numpy's functions of the same names: flip,
roll, moveaxis, repeat, tile, vstack, hstack. Each backward moves the gradient back to where
the elements came from, adding up the gradients of an element's copies (repeat, tile).
moveaxis, vstack and hstack are built on `shape`'s Transpose, Reshape, Concatenate and Stack.
Depends on `function`, `ops.shape`, `errors`.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    GraphgradTypeError,
    OpError,
    array_of,
    array_of_numbers,
    describe,
    numbers_and_shown,
    setting_text,
)
from graphgrad.function import Function
from graphgrad.ops.shape import (
    Concatenate,
    Reshape,
    Stack,
    Transpose,
    _name,
    _refuse_bool_axes,
    _slice_along,
    _tensors,
)
from graphgrad.tensor import Tensor


class Flip(Function):
    """y = x with its elements in reverse order along ``axis`` (every axis when None);
    dx = dy reversed back"""

    index = None  # the slices that reverse axis, when it is one int (see `_reversing`)

    @staticmethod
    def forward(ctx, x, axis=None):
        ctx.axis = axis
        if type(axis) is int or axis is None:
            index = _reversing(x.ndim, axis)
            if index is not None:
                ctx.index = index
                return x[index]
        _refuse_bool_axes(axis)
        return np.flip(x, axis)

    @staticmethod
    def backward(ctx, grad):
        if ctx.index is not None and type(grad) is np.ndarray:
            return grad[ctx.index]  # a view, as np.flip's, without its checks
        return np.flip(grad, ctx.axis)


_REVERSE = slice(None, None, -1)


@functools.lru_cache(maxsize=256)
def _reversing(ndim: int, axis: int | None) -> tuple[slice, ...] | None:
    """The index that flips ``axis`` (an int or None, never a bool) of an array of ``ndim``
    axes, a slice with step -1 there, or None when axis is out of range (np.flip then says
    so): found once per ndim and axis, where np.flip builds it anew, checking axis, on
    every call."""
    if axis is None:
        return (_REVERSE,) * ndim
    if -ndim <= axis < ndim:
        return (slice(None),) * (axis % ndim) + (_REVERSE,)
    return None


class Roll(Function):
    """y = x shifted ``shift`` places along ``axis`` (along the flattened x when None), the
    elements pushed off one end coming back at the other; dx = dy shifted back"""

    @staticmethod
    def forward(ctx, x, shift, axis=None):
        ctx.axis = axis
        if type(shift) is int and type(axis) is int and -x.ndim <= axis < x.ndim:
            ctx.back = -shift
            return _rolled(x, _rolls(x.ndim, axis % x.ndim, x.shape[axis], shift))
        _refuse_bool_axes(axis)
        ctx.back = (-shift if isinstance(shift, (int, np.integer))
                    else tuple(-s for s in shift))
        return np.roll(x, shift, axis)

    @staticmethod
    def backward(ctx, grad):
        axis = ctx.axis
        if type(axis) is int and type(grad) is np.ndarray and type(ctx.back) is int:
            axis %= grad.ndim
            return _rolled(grad, _rolls(grad.ndim, axis, grad.shape[axis], ctx.back))
        return np.roll(grad, ctx.back, axis)

    @staticmethod
    def hint(x, shift, axis=None):
        """Shown when forward fails: the forms shift and axis take."""
        return ("shift and axis are one int each, or sequences of one length (a shift per "
                f"axis); {_name(x)} {x.shape} has axes from {-x.ndim} to {x.ndim - 1}")


@functools.lru_cache(maxsize=256)
def _rolls(ndim: int, axis: int, n: int, shift: int) -> tuple[tuple[tuple, tuple], ...]:
    """How np.roll shifts an axis of n elements, ``axis`` (from 0) of ``ndim``, by one int:
    the (where to, where from) indexes of its two blocks, found once per ndim, axis, n and
    shift, where np.roll checks the axis and builds them on every call."""
    k = shift % n if n else 0
    before = (slice(None),) * axis
    if not k:
        return ((before, before),)
    return ((before + (slice(k, None),), before + (slice(None, n - k),)),
            (before + (slice(None, k),), before + (slice(n - k, None),)))


def _rolled(x: np.ndarray, blocks: tuple[tuple[tuple, tuple], ...]) -> np.ndarray:
    """x rolled as `_rolls` says: a new array, as np.roll's."""
    y = np.empty_like(x)
    for to, source in blocks:
        y[to] = x[source]
    return y


class Repeat(Function):
    """y = each element of x repeated ``repeats`` times (one count for all, or one per element)
    along ``axis`` (of the flattened x when None), as np.repeat; dx = the sum of the
    gradients of each element's copies"""

    @staticmethod
    def forward(ctx, x, repeats, axis=None):
        if axis is not None and type(axis) is not int:
            _refuse_bool_axes(axis)
        ctx.in_shape = x.shape
        ctx.repeats, ctx.axis = repeats, axis
        return np.repeat(x, repeats, axis)

    @staticmethod
    def backward(ctx, grad):
        shape = ctx.in_shape
        if ctx.axis is None:  # x was flattened first
            axis, size = 0, math.prod(shape)
        else:
            axis = ctx.axis % len(shape)
            size = shape[axis]
        if type(grad) is np.ndarray:  # arrays: no graph to record, and no node to make
            g = _runs_summed(grad, ctx.repeats, axis, size)
        else:
            g = RepeatGrad.call(grad, repeats=ctx.repeats, axis=axis, size=size)
        return g.reshape(shape) if ctx.axis is None else g


class RepeatGrad(Function):
    """Repeat's backward: y = x (``size`` elements along ``axis``, each repeated ``repeats``
    times) with each element's run of copies summed into one; dx = dy repeated again"""

    @staticmethod
    def forward(ctx, g, repeats, axis, size):
        ctx.repeats, ctx.axis = repeats, axis
        return _runs_summed(g, repeats, axis, size)

    @staticmethod
    def backward(ctx, grad):
        if type(grad) is np.ndarray:
            return np.repeat(grad, ctx.repeats, ctx.axis)  # axis is an int from 0, checked
        return Repeat.call(grad, repeats=ctx.repeats, axis=ctx.axis)


def _runs_summed(g: np.ndarray, repeats: int | tuple[int, ...], axis: int, size: int
                 ) -> np.ndarray:
    """g (``size`` elements along ``axis``, each repeated ``repeats`` times) with each
    element's run of copies summed into one: `RepeatGrad`'s forward."""
    if type(repeats) is int:  # one count for all: runs of equal length
        if repeats == 0:
            return np.zeros(g.shape[:axis] + (size,) + g.shape[axis + 1:], g.dtype)
        # each element's run of copies on an axis of its own, summed
        return g.reshape(g.shape[:axis] + (size, repeats) + g.shape[axis + 1:]).sum(axis=axis + 1)
    shape = g.shape[:axis] + (size,) + g.shape[axis + 1:]
    counts = np.asarray(repeats)
    starts = np.cumsum(counts) - counts
    kept = counts > 0  # np.add.reduceat would give an element, not 0, for an empty run
    if kept.all():
        return np.add.reduceat(g, starts, axis=axis)
    out = np.zeros(shape, g.dtype)
    if kept.any():
        out[_slice_along(axis, g.ndim, kept)] = np.add.reduceat(g, starts[kept], axis=axis)
    return out


class Tile(Function):
    """y = x laid out ``reps[i]`` times along axis i, as np.tile (reps shorter than x's axes
    counts from the last one; longer, x gets leading axes of size 1);
    dx = the sum of the gradients of x's tiles"""

    @staticmethod
    def forward(ctx, x, reps):
        ctx.in_shape = x.shape
        ctx.reps = reps
        return np.tile(x, reps)

    @staticmethod
    def backward(ctx, grad):
        shape = ctx.in_shape
        split, tiled = _tiles(shape, ctx.reps)
        g = grad.reshape(split)
        if tiled:
            g = g.sum(axis=tiled)
        return g.reshape(shape)


@functools.lru_cache(maxsize=256)
def _tiles(shape: tuple[int, ...], reps: tuple[int, ...]
           ) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """How Tile's backward sums x's tiles: the shape splitting each axis i of y in two,
    reps[i] tiles of x's size there, and the axes of the tiles (the repeated ones), found
    once per shape and reps."""
    d = max(len(shape), len(reps))
    sizes = (1,) * (d - len(shape)) + shape
    reps = (1,) * (d - len(reps)) + reps
    return (tuple(n for pair in zip(reps, sizes) for n in pair),
            tuple(2 * i for i, r in enumerate(reps) if r != 1))


def _ndim_and_shown(x: Any, op: str) -> tuple[int, Any]:
    """x's number of axes, and what messages describe it by (`describe`, called only when
    one is raised: it costs more than the op)."""
    if type(x) is Tensor:
        return x.data.ndim, x
    data, shown = numbers_and_shown(x, "x", op)
    return data.ndim, shown


def _one_axis(axis: Any, ndim: int, shown: Any, op: str, what: str = "axis",
              tail: str = "") -> int:
    """``axis`` as an int from 0 to ndim - 1, or an error naming ``op``, x and the range."""
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)):
        raise GraphgradTypeError(f"{op}: {what} must be an int{tail}; got {setting_text(axis)}")
    if not -ndim <= axis < ndim:
        if ndim == 0:  # no axis to give: only the tail's other choice (", or None to ...")
            other = (f": give {what}=None{tail[len(', or None'):]}" if
                     tail.startswith(", or None") else "")
            raise ArgumentError(f"{op}: {what} {axis} is out of range for {describe(shown)}, "
                                f"which has no axes{other}")
        raise ArgumentError(f"{op}: {what} {axis} is out of range for {describe(shown)}: give an "
                            f"axis from {-ndim} to {ndim - 1}{tail}")
    return int(axis) % ndim


def _axes(axis: Any, ndim: int, shown: Any, op: str, what: str = "axis",
          tail: str = "") -> tuple[int, ...]:
    """One int or a sequence of ints as a tuple of axes from 0 to ndim - 1."""
    if isinstance(axis, (int, np.integer)) and not isinstance(axis, (bool, np.bool_)):
        return (_one_axis(axis, ndim, shown, op, what, tail),)
    if not isinstance(axis, Sequence) or isinstance(axis, str):
        raise GraphgradTypeError(f"{op}: {what} must be an int or a sequence of ints{tail}; "
                                 f"got {setting_text(axis)}")
    return tuple(_one_axis(a, ndim, shown, op, what, tail) for a in axis)


def _whole_numbers(value: Any, what: str, op: str, rule: str) -> np.ndarray:
    """``value`` as an array of non-negative ints of at most one axis, or an error."""
    data = value.data if isinstance(value, Tensor) else value
    try:
        array = np.asarray(data)
    except (TypeError, ValueError):
        array = np.asarray(None)
    if array.size == 0 and array.dtype.kind == "f":  # an empty sequence: no counts at all
        array = array.astype(np.intp)
    if array.dtype.kind not in "iu" or array.ndim > 1:
        raise GraphgradTypeError(f"{op}: {what} must be {rule}, got {setting_text(value)}")
    if (array < 0).any():
        raise ArgumentError(f"{op}: {what} must not be negative, got {setting_text(value)}")
    return array


def flip(x: Any, axis: int | Sequence[int] | None = None) -> Tensor:
    """x with its elements in reverse order along ``axis`` (an int or a sequence of them;
    every axis when None), as np.flip: flip([1, 2, 3]) is [3, 2, 1]."""
    if axis is not None:
        ndim, shown = _ndim_and_shown(x, "flip")
        if type(axis) is not int or not -ndim <= axis < ndim:  # else nothing to check
            axes = _axes(axis, ndim, shown, "flip", tail=", or None to flip every axis")
            if len(set(axes)) < len(axes):  # numpy's "repeated axis", as the op's failure
                raise ArgumentError(f"flip of {describe(shown)}: axis {tuple(axis)} names an "
                                    "axis twice; give each axis to flip once")
            axis = axis if isinstance(axis, (int, np.integer)) else axes
    return Flip.apply(x, axis=axis)


def roll(x: Any, shift: int | Sequence[int], axis: int | Sequence[int] | None = None
         ) -> Tensor:
    """x shifted ``shift`` places along ``axis``, as np.roll: the elements pushed off the end
    come back at the start (roll([1, 2, 3], 1) is [3, 1, 2]; a negative shift goes the other
    way). ``axis`` None rolls the flattened x and gives back its shape; a sequence of shifts
    and one of axes (of one length) shift each axis by its own."""
    if type(shift) is int and type(axis) is int and (type(x) is Tensor
                                                    or type(x) is np.ndarray):
        ndim = x.data.ndim if type(x) is Tensor else x.ndim
        if -ndim <= axis < ndim:  # the common case: nothing more to check
            return Roll.apply(x, shift=shift, axis=axis)
    if type(shift) is np.ndarray and shift.dtype.kind in "iu" and shift.ndim <= 1:
        shift = shift.tolist()  # np.roll takes an array of shifts too
    ints = isinstance(shift, (int, np.integer)) and not isinstance(shift, (bool, np.bool_))
    if not ints:
        if not isinstance(shift, Sequence) or isinstance(shift, str) or not all(
                isinstance(s, (int, np.integer)) and not isinstance(s, (bool, np.bool_))
                for s in shift):
            raise GraphgradTypeError(f"roll: shift must be an int or a sequence of ints, got "
                                     f"{setting_text(shift)}")
        shift = tuple(int(s) for s in shift)
    else:
        shift = int(shift)
    if axis is not None:
        ndim, shown = _ndim_and_shown(x, "roll")
        axes = _axes(axis, ndim, shown, "roll", tail=", or None to roll the flattened x")
        if not isinstance(axis, (int, np.integer)):
            axis = axes
            if not ints and len(shift) != len(axes):
                raise ArgumentError(
                    f"roll of {describe(shown)}: {len(shift)} shifts {shift} for {len(axes)} axes "
                    f"{axes}: give one shift per axis, or one shift for all")
    elif not ints:
        shift = sum(shift)  # np.roll rolls the flattened x by each in turn
    return Roll.apply(x, shift=shift, axis=axis)


def moveaxis(x: Any, source: int | Sequence[int], destination: int | Sequence[int]
             ) -> Tensor:
    """x with its axes ``source`` moved to positions ``destination`` (an int each, or
    sequences of one length), the other axes keeping their order, as np.moveaxis:
    moveaxis(X, -1, 0) of X (m, n_H, n_W, n_C) is (n_C, m, n_H, n_W). A transpose."""
    ndim, shown = _ndim_and_shown(x, "moveaxis")
    one = type(source) is int and type(destination) is int
    if one:
        order = _MOVES.get((ndim, source, destination))
        if order is not None:
            return Transpose.apply(x, axes=order)
    sources = _axes(source, ndim, shown, "moveaxis", "source")
    destinations = _axes(destination, ndim, shown, "moveaxis", "destination")
    if len(sources) != len(destinations):
        raise ArgumentError(f"moveaxis of {describe(shown)}: {len(sources)} source axes "
                            f"{sources} for {len(destinations)} destinations {destinations}: "
                            "give one destination per axis moved")
    for what, axes in (("source", sources), ("destination", destinations)):
        if len(set(axes)) != len(axes):
            given = source if what == "source" else destination
            raise ArgumentError(f"moveaxis of {describe(shown)}: {what} names an axis twice, "
                                f"{axes} (from {setting_text(given)}): each axis moves once, "
                                "to one place")
    order = [n for n in range(ndim) if n not in sources]
    for to, axis in sorted(zip(destinations, sources)):
        order.insert(to, axis)
    if one and len(_MOVES) < 256:
        _MOVES[(ndim, source, destination)] = tuple(order)
    return Transpose.apply(x, axes=tuple(order))


# (ndim, source, destination) -> the order of the axes, for moveaxis of one int axis to an
# int place: checked and found once, where a model calls it on every batch
_MOVES: dict[tuple[int, int, int], tuple[int, ...]] = {}


def repeat(x: Any, repeats: int | Sequence[int], axis: int | None = None) -> Tensor:
    """Each element of x repeated ``repeats`` times along ``axis`` (of the flattened x when
    None), as np.repeat: repeat([1, 2], 2) is [1, 1, 2, 2]. ``repeats`` is one count for all
    elements or one per element along the axis (repeat([1, 2], [3, 0]) is [1, 1, 1]); each
    element's gradient is the sum of its copies'. (PyTorch's ``x.repeat(2, 3)`` lays x out
    as tiles: that is `tile`.)"""
    if type(repeats) is int and repeats >= 0 and (type(x) is Tensor or type(x) is np.ndarray):
        ndim = x.data.ndim if type(x) is Tensor else x.ndim
        if axis is None or type(axis) is int and -ndim <= axis < ndim:
            return Repeat.apply(x, repeats=repeats, axis=axis)  # nothing more to check
    ndim, shown = _ndim_and_shown(x, "repeat")
    counts = _whole_numbers(repeats, "repeats", "repeat",
                            "a whole number or a sequence of them, one per element")
    if axis is None:
        n, where = int(np.prod(array_of(x, "x", "repeat").shape)), "of the flattened x"
    else:
        axis = _one_axis(axis, ndim, shown, "repeat",
                         tail=", or None to repeat the elements of the flattened x")
        n, where = array_of(x, "x", "repeat").shape[axis], f"along axis {axis} of x"
    if counts.ndim == 0 or counts.size == 1:
        repeats = int(counts.reshape(()))
    elif counts.size != n:
        raise ArgumentError(f"repeat of {describe(shown)}: {counts.size} counts in repeats for {n} "
                            f"elements {where}: give one count per element, or one "
                            "count for all")
    elif n == 0:  # no elements, no counts
        repeats = 0
    else:
        repeats = tuple(int(c) for c in counts)
    return Repeat.apply(x, repeats=repeats, axis=axis)


def tile(x: Any, reps: int | Sequence[int]) -> Tensor:
    """x laid out ``reps`` times along each axis, as np.tile: tile([1, 2], 2) is
    [1, 2, 1, 2], and tile(x, (m, 1)) of x (n,) is m rows of x. ``reps`` shorter than x's
    axes counts from the last; longer, x gets leading axes of size 1. PyTorch's
    ``x.repeat(...)`` and ``x.tile(...)``. Each element's gradient is the sum of its tiles'."""
    if type(reps) is int and reps >= 0:
        return Tile.apply(x, reps=(reps,))
    if type(reps) is tuple and all(type(r) is int and r >= 0 for r in reps):
        return Tile.apply(x, reps=reps)  # as checked below, without an array of them
    counts = _whole_numbers(reps, "reps", "tile", "a whole number or a sequence of them, "
                            "one per axis")
    return Tile.apply(x, reps=tuple(int(c) for c in counts.reshape(-1)))


def vstack(tensors: Sequence[Any]) -> Tensor:
    """The tensors one below the other, as np.vstack: 1-D tensors of n elements are rows,
    k of them give (k, n); the others are joined along their first axis."""
    xs = _tensors("vstack", tensors, "[a, b]")
    ndims = [array_of_numbers(x, f"input {i}", "vstack").ndim for i, x in enumerate(xs)]
    if all(d == 1 for d in ndims):
        _same_shapes("vstack", xs, "as rows, every 1-D tensor must have the same length")
        return Stack.apply(*xs, axis=0)
    rows = tuple(Reshape.apply(x, shape=(1, -1)) if d < 2 else x for x, d in zip(xs, ndims))
    _join_shapes("vstack", xs, rows, 0)
    return Concatenate.apply(*rows, axis=0)


def hstack(tensors: Sequence[Any]) -> Tensor:
    """The tensors side by side, as np.hstack: 1-D tensors one after the other, the others
    joined along their second axis (the columns of matrices)."""
    xs = _tensors("hstack", tensors, "[a, b]")
    ndims = [array_of_numbers(x, f"input {i}", "hstack").ndim for i, x in enumerate(xs)]
    pieces = tuple(Reshape.apply(x, shape=(1,)) if d == 0 else x for x, d in zip(xs, ndims))
    axis = 0 if max(ndims[0], 1) == 1 else 1
    _join_shapes("hstack", xs, pieces, axis)
    return Concatenate.apply(*pieces, axis=axis)


def _same_shapes(op: str, xs: tuple, rule: str) -> None:
    shapes = {np.shape(x.data if isinstance(x, Tensor) else x) for x in xs}
    if len(shapes) > 1:
        raise OpError(f"{op} of {_texts(xs)}: {rule}")


def _join_shapes(op: str, xs: tuple, pieces: tuple, axis: int) -> None:
    """An `OpError` naming ``op`` and the tensors as given, unless their pieces join."""
    shapes = [np.shape(p.data if isinstance(p, Tensor) else p) for p in pieces]
    ndim = len(shapes[0])
    if all(len(s) == ndim and s[:axis] + s[axis + 1:] == shapes[0][:axis] + shapes[0][axis + 1:]
           for s in shapes):
        return
    kind = ("rows (a 1-D tensor is one row)" if op == "vstack"
            else "columns" if axis == 1 else "depth slices" if axis == 2
            else "1-D pieces")
    # hstack puts a row beside nothing: a 1-D tensor joins 2-D ones as a column
    advice = ("t.reshape(1, -1) makes a row" if op == "vstack"
              else "t.reshape(rows, columns, -1) gives a tensor the others' first two sizes"
              if op == "dstack" else "t.reshape(-1, 1) makes a column")
    raise OpError(f"{op} of {_texts(xs)}: it joins them as {kind} along axis {axis}, so they "
                  f"need one number of axes and equal sizes along the others; as joined "
                  f"their shapes are {', '.join(map(str, shapes))}. Reshape the ones that "
                  f"differ first ({advice})")


def _texts(xs: tuple) -> str:
    return ", ".join(describe(x) for x in xs)
