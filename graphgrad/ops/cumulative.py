"""Running sums along an axis: cumsum, as numpy's (the output has the input's shape, or the
flattened input's when ``axis`` is None); and its inverse, diff, the differences of
neighbours (`Diff`, whose backward `DiffAdjoint` runs the other way). Running products,
cumprod, as numpy's, with a gradient made of products alone (right where x holds zeros);
numpy 2's cumulative_sum and cumulative_prod (axis needed past one dimension, include_initial)."""
from __future__ import annotations

import functools
from typing import Any

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    array_of_numbers,
    describe,
    flag,
    numbers_and_shown,
    whole_number,
)
from graphgrad.function import Function
from graphgrad.ops.rearrange import _one_axis
from graphgrad.ops.reductions import normalize_axis
from graphgrad.ops.shape import BroadcastTo, Concatenate, Reshape
from graphgrad.tensor import Tensor


def _axis_hint(x: Tensor, axis: Any = None, op: str = "cumsum") -> str | None:
    """Shown when cumsum (or ``op``) fails: the axes the tensor has, if ``axis`` is not one
    of them."""
    n = max(x.ndim, 1)
    if axis is None or (isinstance(axis, (int, np.integer)) and not isinstance(axis, bool)
                        and -n <= axis < n):
        return None
    return (f"{op} runs along one axis: give an int from {-n} to {n - 1}, or axis=None for "
            "the flattened tensor")


def _along(ctx: Any, x: np.ndarray, axis: Any) -> np.ndarray:
    """A running op's x, flattened when ``axis`` is None (numpy reads a 0-d array as of one
    element too), its axis checked and set on ``ctx`` (``ctx.axis``, ``ctx.flat``,
    ``ctx.in_shape``)."""
    ctx.in_shape = x.shape
    if type(axis) is not int and axis is not None and (
            isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer))):
        raise TypeError(f"axis must be an int or None, got {axis!r}")
    ctx.flat = axis is None or x.ndim == 0
    if ctx.flat:
        x = x.reshape(-1)
    (ctx.axis,) = normalize_axis(0 if axis is None else axis, x.ndim)
    return x


class Cumsum(Function):
    """y_i = x_1 + ... + x_i along axis;  dx_i = dy_i + ... + dy_n, the running sum of dy
    taken from the end"""

    hint = staticmethod(_axis_hint)

    @staticmethod
    def forward(ctx, x, axis=None):
        return _running_sum(_along(ctx, x, axis), ctx.axis)

    @staticmethod
    def backward(ctx, grad):
        backwards = _backwards(ctx.axis)
        if type(grad) is np.ndarray:  # arrays: no graph to record, and no axis to check
            dx = _running_sum(grad[backwards], ctx.axis)[backwards]
        else:
            dx = Cumsum.call(grad[backwards], axis=ctx.axis)[backwards]
        return dx.reshape(ctx.in_shape) if ctx.flat else dx


class Cumprod(Function):
    """y_i = x_1 * ... * x_i along axis;  dx_k = y_(k-1) s_k, with s_k = dy_k + dy_(k+1) x_(k+1)
    + dy_(k+2) x_(k+1) x_(k+2) + ... (y_0 = 1): the sum over i >= k of dy_i times the
    product of x_1 .. x_i but x_k, made of products alone. Never y / x, so one zero or more
    in a slice, at any place, get the derivative's own value (the element before the first
    zero the product of the others, those after it 0), as PyTorch's"""

    hint = staticmethod(functools.partial(_axis_hint, op="cumprod"))

    @staticmethod
    def forward(ctx, x, axis=None):
        y = np.cumprod(_along(ctx, x, axis), axis=ctx.axis)
        ctx.save_for_backward(x, y)  # the input itself, which second derivatives go through
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved
        if ctx.flat:
            x = x.reshape(-1)
        axis = ctx.axis
        n = x.shape[axis]
        before = (slice(None),) * axis
        if n == 0:
            dx = grad * x  # empty
        else:
            edge = x[before + (slice(0, 1),)]
            one, zero = np.ones_like(edge), np.zeros_like(edge)
            # s_k = dy_k + x_(k+1) s_(k+1), s_n = 0: a recurrence run from the end by doubling,
            # s_k = a_k s_(k+step) + b_k, log2(n) steps of products and sums
            a = np.concatenate([x[before + (slice(1, None),)], zero], axis=axis)
            arrays = type(grad) is np.ndarray
            b = grad.astype(a.dtype) if arrays else grad  # arrays: a copy, written in place
            step = 1
            while step < n:
                head, tail = before + (slice(None, -step),), before + (slice(step, None),)
                if arrays:  # numpy reads an overlapping input before it writes the output
                    b[head] += a[head] * b[tail]
                    np.multiply(a[head], a[tail], out=a[head])
                else:
                    rest = before + (slice(-step, None),)
                    b = np.concatenate([b[head] + a[head] * b[tail], b[rest]], axis=axis)
                    a = np.concatenate([a[head] * a[tail], a[rest]], axis=axis)
                step *= 2
            shifted = np.concatenate([one, y[before + (slice(None, -1),)]], axis=axis)
            dx = shifted * b
        return dx.reshape(ctx.in_shape) if ctx.flat else dx


class Diff(Function):
    """y = x[1:] - x[:-1] along ``axis`` (one shorter there);  dx = `DiffAdjoint` of dy:
    dx[i] = dy[i - 1] - dy[i], with dy[-1] and dy[n - 1] taken as 0"""

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis, ctx.length = axis, x.shape[axis]
        before = (slice(None),) * axis
        return x[before + (slice(1, None),)] - x[before + (slice(None, -1),)]

    @staticmethod
    def backward(ctx, grad):
        return DiffAdjoint.call(grad, axis=ctx.axis, length=ctx.length)


class DiffAdjoint(Function):
    """y = x sent back through Diff: ``length`` along ``axis`` (one longer, but 0 for 0),
    y[i] = x[i - 1] - x[i] (x[-1] and x[n] taken as 0);  dx = Diff of dy. One array written
    twice, where slicing x twice and subtracting would build two arrays of zeros and add
    them."""

    @staticmethod
    def forward(ctx, x, axis, length):
        ctx.axis = axis
        shape = list(x.shape)
        shape[axis] = length
        y = np.zeros(shape, dtype=x.dtype)
        before = (slice(None),) * axis
        y[before + (slice(1, None),)] = x
        y[before + (slice(None, -1),)] -= x
        return y

    @staticmethod
    def backward(ctx, grad):
        return Diff.call(grad, axis=ctx.axis)


def _running_sum(x: np.ndarray, axis: int) -> np.ndarray:
    """np.cumsum of x along ``axis`` (an int from 0, checked); float32 and float16 sums add
    up in float64 and are rounded once, as `Sum`'s: numpy adds one by one, and the error of
    the last of n sums grows with n. Floats go to np.add.accumulate, np.cumsum's own loop,
    without its wrapper (~2 us); ints to np.cumsum, which widens the small ones as np.sum."""
    if x.dtype.kind == "f":
        if x.itemsize < 8:
            return np.add.accumulate(x, axis=axis, dtype=np.float64).astype(x.dtype)
        return np.add.accumulate(x, axis=axis)
    return np.cumsum(x, axis=axis)


@functools.lru_cache(maxsize=64)
def _backwards(axis: int) -> tuple[slice, ...]:
    """The index reversing ``axis`` (from 0), found once per axis."""
    return (slice(None),) * axis + (slice(None, None, -1),)


def cumsum(x: Any, axis: int | None = None) -> Tensor:
    """The running sum along ``axis``, one int, as np.cumsum: the output has x's shape, its
    element i along the axis the sum of elements 0 to i; with axis=None (numpy's default),
    of the flattened x, shape (x.size,). float32 and float16 sums are taken in float64 and
    rounded once."""
    return Cumsum.apply(x, axis=axis)


def cumprod(x: Any, axis: int | None = None) -> Tensor:
    """The running product along ``axis``, one int, as np.cumprod: the output has x's shape,
    its element i along the axis the product of elements 0 to i; with axis=None (numpy's
    default), of the flattened x, shape (x.size,). Its gradient is right where x holds
    zeros, one or more (no division by x)."""
    return Cumprod.apply(x, axis=axis)


def diff(x: Any, n: int = 1, axis: int = -1, prepend: Any = None, append: Any = None
         ) -> Tensor:
    """The differences of neighbours along ``axis``, out[i] = x[i + 1] - x[i], taken ``n``
    times, as np.diff (the axis gets n shorter); ``prepend`` and ``append`` (numbers, or
    tensors with x's shape but along the axis) are joined to x's ends first. The gradient is
    cumsum's inverse, running the other way."""
    data, shown = numbers_and_shown(x, "x", "diff")
    n = whole_number(n, "n (the number of times to take differences)", "diff", least=0)
    if data.ndim == 0:
        raise ArgumentError(f"diff of {describe(shown)}: a number has no neighbours; give a "
                            "tensor with at least one axis")
    axis = _one_axis(axis, data.ndim, shown, "diff")
    if n == 0:
        return x if isinstance(x, Tensor) else Tensor(data)
    if prepend is not None or append is not None:
        pieces = [_end(prepend, "prepend", data, axis, shown), x,
                  _end(append, "append", data, axis, shown)]
        x = Concatenate.apply(*(p for p in pieces if p is not None), axis=axis)
    for _ in range(n):
        x = Diff.apply(x, axis=axis)
    return x


def _end(end: Any, which: str, data: np.ndarray, axis: int, shown: Any) -> Any:
    """diff's ``prepend`` or ``append`` (``which``) as a piece to join to x (``data``) along
    ``axis``: a number spread over x's other axes, else checked to have their sizes."""
    if end is None:
        return None
    shape = array_of_numbers(end, which, "diff").shape
    edge = data.shape[:axis] + (1,) + data.shape[axis + 1:]
    if not shape:
        if isinstance(end, Tensor):
            return BroadcastTo.apply(end, shape=edge)
        # a number, in x's float dtype: float32 stays float32
        return np.full(edge, end, data.dtype if data.dtype.kind == "f" else None)
    if len(shape) != data.ndim or any(k != n for d, (k, n) in enumerate(zip(shape, data.shape))
                                      if d != axis):
        wanted = ", ".join("k" if d == axis else str(n) for d, n in enumerate(data.shape))
        raise ArgumentError(
            f"diff of {describe(shown)} along axis {axis}: {which} of shape {shape} is joined to "
            f"x's end, so it needs x's shape but along axis {axis}, ({wanted}"
            f"{',' if data.ndim == 1 else ''}), or one number")
    return end


def _cumulative(x: Any, axis: Any, include_initial: Any, op: str, run: type[Function],
                start: float) -> Tensor:
    """numpy 2's cumulative_sum and cumulative_prod: the running op along ``axis``, which a
    tensor of 2 dimensions or more must name (a number is read as one element), with
    ``include_initial`` the op's start (0 or 1) in front."""
    data, shown = numbers_and_shown(x, "x", op)
    include_initial = flag(include_initial, "include_initial", op)
    if axis is None and data.ndim > 1:
        raise ArgumentError(f"{op} of {describe(shown)}: axis=None is for a vector only (numpy "
                            f"2's rule, where cumsum flattens); give the axis to run along, from "
                            f"{-data.ndim} to {data.ndim - 1}")
    if data.ndim == 0:
        x, data = Reshape.apply(x, shape=(1,)), data.reshape(1)
    axis = _one_axis(0 if axis is None else axis, data.ndim, shown, op)
    y = run.apply(x, axis=axis)
    if not include_initial:
        return y
    edge = data.shape[:axis] + (1,) + data.shape[axis + 1:]
    return Concatenate.apply(np.full(edge, start, y.dtype), y, axis=axis)


def cumulative_sum(x: Any, *, axis: int | None = None, include_initial: bool = False
                   ) -> Tensor:
    """The running sum along ``axis``, as numpy 2's np.cumulative_sum (the array API's): as
    `cumsum`, but axis=None is for a vector only, and ``include_initial`` puts 0 in front
    (the axis one longer: the sums of the first 0, 1, .., n elements)."""
    return _cumulative(x, axis, include_initial, "cumulative_sum", Cumsum, 0.0)


def cumulative_prod(x: Any, *, axis: int | None = None, include_initial: bool = False
                    ) -> Tensor:
    """The running product along ``axis``, as numpy 2's np.cumulative_prod: as `cumprod`, but
    axis=None is for a vector only, and ``include_initial`` puts 1 in front."""
    return _cumulative(x, axis, include_initial, "cumulative_prod", Cumprod, 1.0)
