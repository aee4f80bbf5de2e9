"""Reductions over axes: sum, mean, prod, max, min, var, std and norm (``axis`` an int, a
tuple or None; ``keepdims``); and average, numpy's weighted mean, built on sum."""
from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    array_of_numbers,
    describe,
    flag,
    numbers_and_shown,
    setting_text,
)
from graphgrad.function import Function
from graphgrad.ops.arithmetic import Div, Mul
from graphgrad.ops.broadcasting import broadcast_gradient
from graphgrad.ops.shape import Reshape
from graphgrad.tensor import Tensor

Axis = int | Sequence[int] | None
_FLOAT32 = np.dtype(np.float32)


def normalize_axis(axis: Axis, ndim: int) -> tuple[int, ...]:
    """``axis`` as a sorted tuple of non-negative ints (None means every axis)."""
    if type(axis) is int and -ndim <= axis < ndim:  # the common case, checked at once
        return (axis % ndim,)
    if axis is None:
        return tuple(range(ndim))
    if ndim == 0 and isinstance(axis, (int, np.integer)) and axis in (0, -1):
        return ()  # numpy's rule for a 0-d array: axis 0 or -1 reduces nothing
    try:
        axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    except TypeError:
        raise TypeError(f"axis must be an int or a tuple of ints, got {axis!r}") from None
    normalized = []
    for a in axes:
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"axis must be an int or a tuple of ints, got {a!r}")
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} is out of range for an array of {ndim} dimensions")
        normalized.append(int(a) % ndim)
    return tuple(sorted(normalized))


def settle_reduction(ctx: Any, x: np.ndarray, axis: Axis, keepdims: Any, caller: str
                     ) -> tuple[tuple[int, ...], bool]:
    """A reduction's ``ctx.axes`` (`normalize_axis`) and ``ctx.keepdims`` (True or False only,
    refused in ``caller``'s name otherwise), set and returned."""
    if type(keepdims) is not bool:
        keepdims = flag(keepdims, "keepdims", caller)
    ctx.axes = axes = normalize_axis(axis, x.ndim)
    ctx.keepdims = keepdims
    return axes, keepdims


def expand_reduced(grad: Any, axes: tuple[int, ...], keepdims: bool) -> Any:
    """Put back the reduced axes (as size 1) so ``grad`` broadcasts against the input."""
    if keepdims or not axes:
        return grad
    shape = list(grad.shape)
    for a in axes:
        shape.insert(a, 1)
    return grad.reshape(tuple(shape))


def _axis_hint(x: Tensor, axis: Axis = None, **settings: Any) -> str | None:
    """Shown when a reduction fails: the axes the tensor has, if ``axis`` is not one."""
    try:
        axes = normalize_axis(axis, x.ndim)
    except (TypeError, ValueError):
        n = x.ndim
        which = f"an axis from {-n} to {n - 1} or a tuple of them, or " if n else ""
        return (f"{describe(x)} has {n} axes: give {which}axis=None for all of its "
                "elements")
    twice = next((a for a, b in zip(axes, axes[1:]) if a == b), None)
    if twice is not None:
        return f"axis={axis!r} names axis {twice} of {describe(x)} twice: give each axis once"
    return None


class Sum(Function):
    """y = sum of x over axes;  dy/dx = 1 for every summed element"""

    hint = staticmethod(_axis_hint)

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        _, keepdims = settle_reduction(ctx, x, axis, keepdims, "sum")
        ctx.in_shape = x.shape
        if x.dtype.kind == "f" and x.itemsize < 8:
            axes = ctx.axes
            if (x.dtype == _FLOAT32 and x.flags.c_contiguous
                    and axes == tuple(range(x.ndim - len(axes), x.ndim))):
                # the trailing axes of a contiguous float32 array, a loss's sum: numpy adds
                # them pairwise, within a few units of the exact sum, at half the cost
                return x.sum(axis=axes, keepdims=keepdims)
            # float32 and float16 sums add up in float64 and are rounded once, as `Mean`'s:
            # numpy adds rows one by one along a leading axis, so the float32 sum of 100000
            # values near 1 was 100 units off, and float16's of 6e4, 6e4, -6e4 was inf.
            total = np.add.reduce(x, axis=ctx.axes, dtype=np.float64, keepdims=keepdims)
            return total.astype(x.dtype)
        return x.sum(axis=None if axis is None else ctx.axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        return broadcast_gradient(expand_reduced(grad, ctx.axes, ctx.keepdims), ctx.in_shape)


class Mean(Function):
    """y = mean of x over axes;  dy/dx = 1/n for each of the n averaged elements (over an
    axis of length 0, y = 0/0 = NaN, as in PyTorch, and x's gradient is empty)"""

    hint = staticmethod(_axis_hint)

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        axes, keepdims = settle_reduction(ctx, x, axis, keepdims, "mean")
        ctx.in_shape = x.shape
        if not x.size:
            # The mean of no numbers is 0/0: NaN, as in PyTorch, where numpy's mean also
            # warns twice (Mean of empty slice, invalid value) from inside numpy.
            total = np.add.reduce(x, axis=axes, keepdims=keepdims)
            kind = x.dtype if x.dtype.kind == "f" else np.float64
            return np.full(total.shape, np.nan, kind) if total.size else total.astype(kind)
        if x.dtype.kind == "f" and x.itemsize < 8:
            # A float32 mean adds up in float64: numpy adds rows one by one along a leading
            # axis (a batch's), so in float32 the error grows with m (1e-5 for 100000
            # values near 1), and a batch of equal values had a mean unequal to them.
            total = np.add.reduce(x, axis=axes, dtype=np.float64, keepdims=keepdims)
            return (total / (x.size // total.size)).astype(x.dtype)
        return x.mean(axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        count = 1
        for a in ctx.axes:
            count *= ctx.in_shape[a]
        grad = expand_reduced(grad, ctx.axes, ctx.keepdims)
        if count == 0:  # the mean of nothing: an empty input gets an empty gradient
            return broadcast_gradient(grad * 0.0, ctx.in_shape)
        return broadcast_gradient(grad * (1.0 / count), ctx.in_shape)


class Prod(Function):
    """y = product of x over axes;  dy/dx_i = the product of the other elements of x_i's
    slice: y / x_i where no product is 0, else the products of those before and after x_i
    (never y / 0, nor 0 / x_i for a product that underflowed)"""

    hint = staticmethod(_axis_hint)

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        axes, keepdims = settle_reduction(ctx, x, axis, keepdims, "prod")
        y = x.prod(axis=None if axis is None else axes, keepdims=keepdims)
        # Whether y / x is the gradient, found once here: it is for the common x. A product
        # of 0 comes of a zero in its slice, or of factors whose product underflows (1e-4 *
        # 1e-4 in float16), where y / x is 0 but the products of the others are not: either
        # way those are taken. A NaN product takes them beside a zero (0 * inf), so x itself
        # is searched only then: y is the smaller.
        ctx.zeros = (np.count_nonzero(y) != y.size
                     or bool(np.count_nonzero(np.isnan(y))) and bool((x == 0).any()))
        # y's shape with the reduced axes kept, of size 1: the shape in which it and the
        # upstream gradient broadcast against x
        ctx.kept_shape = (y.shape if keepdims or not axes else
                          tuple([1 if a in axes else n for a, n in enumerate(x.shape)]))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved
        shape = ctx.kept_shape
        if not ctx.zeros:
            if type(grad) is np.ndarray and grad.dtype is x.dtype and x.ndim:
                slope = np.divide(y.reshape(shape), x)  # arrays: multiplied in place
                return np.multiply(slope, grad.reshape(shape), out=slope)
            return grad.reshape(shape) * (y.reshape(shape) / x)
        return grad.reshape(shape) * _others(x, ctx.axes)


def _others(x: Any, axes: tuple[int, ...]) -> Any:
    """The product of the other elements of each element's slice along ``axes``, for slices
    holding zeros (or whose product underflowed to 0), without dividing by one: the product
    of those before it times the product of those after it. Made of products alone, so that
    its derivatives of every order are right too (Prod's second and third derivatives): each
    zero of x enters as itself, where its value 0 makes the product, never as a constant 0.
    On a Tensor (``create_graph``) the same lines record the graph."""
    kept = tuple(a for a in range(x.ndim) if a not in axes)
    order = kept + axes
    moved = np.transpose(x, order)  # the reduced axes last, as one of n elements
    outer = moved.shape[:len(kept)]
    lined = moved.reshape(outer + (-1,))
    n = lined.shape[-1]
    one = np.ones(outer + (1,), x.dtype)
    # the running products of a shifted copy, by doubling: log2(n) products of slices
    before = np.concatenate([one, lined[..., :-1]], axis=-1)
    after = np.concatenate([lined[..., 1:], one], axis=-1)
    step = 1
    while step < n:
        before = np.concatenate([before[..., :step], before[..., step:] * before[..., :-step]],
                                axis=-1)
        after = np.concatenate([after[..., :-step] * after[..., step:], after[..., -step:]],
                               axis=-1)
        step *= 2
    others = (before * after).reshape(moved.shape)
    return np.transpose(others, tuple(np.argsort(order)))


class _Extreme(Function):
    """Shared by max and min: the gradient goes to the extreme element, and tied elements
    share it evenly, so the gradient still sums to the upstream gradient. Over an axis of
    length 0 there is no extreme element: an `OpError` says so."""

    reduce: Any = None
    hint = staticmethod(_axis_hint)

    @classmethod
    def forward(cls, ctx, x, axis=None, keepdims=False):
        _, keepdims = settle_reduction(ctx, x, axis, keepdims, cls.__name__.lower())
        axes = None if axis is None else ctx.axes  # numpy takes no lists
        try:
            y = np.asarray(cls.reduce(x, axis=axes, keepdims=True))
        except ValueError:  # numpy's "zero-size array to reduction operation maximum ..."
            empty = [a for a in ctx.axes if x.shape[a] == 0]
            if not empty:
                raise
            word = cls.__name__.lower()
            raise ValueError(
                f"axis {empty[0]} has length 0, and the {word} of no numbers has no value "
                f"(PyTorch refuses it too): check that the batch is not empty (m = 0), or "
                f"take the {word} over axes of non-zero length"
            ) from None
        chosen = x == y
        share = (chosen / chosen.sum(axis=axes, keepdims=True)).astype(x.dtype, copy=False)
        ctx.save_for_backward(share)
        return y if keepdims else y.reshape([n for i, n in enumerate(y.shape) if i not in ctx.axes])

    @staticmethod
    def backward(ctx, grad):
        (share,) = ctx.saved
        return share * expand_reduced(grad, ctx.axes, ctx.keepdims)


class Max(_Extreme):
    """y = max of x over axes;  dy/dx = 1 at the maximum (1/k each for k tied maxima)"""

    reduce = staticmethod(np.max)


class Min(_Extreme):
    """y = min of x over axes;  dy/dx = 1 at the minimum (1/k each for k tied minima)"""

    reduce = staticmethod(np.min)


def _wide(x: np.ndarray) -> np.ndarray:
    """``x`` in float64 when it is a narrower float or no float: squares and sums of float32
    values are taken in float64 (and rounded once), as `Mean` does, where float32 squares of
    values near 1e20 overflowed."""
    return x if x.dtype.kind == "f" and x.itemsize >= 8 else x.astype(np.float64)


def _narrow(y: Any, x: np.ndarray) -> Any:
    """A result computed by `_wide`, back in the dtype of a float ``x``."""
    return y.astype(x.dtype, copy=False) if x.dtype.kind == "f" else y


def _spread(ctx: Any, x: np.ndarray, axis: Axis, keepdims: Any, ddof: Any, word: str) -> Any:
    """What var and std share: reads the settings onto ``ctx`` (axes, keepdims, divisor
    n - ddof) and returns the variance, in float64 for float32 values (`_wide`; NaN over no
    elements, 0/0, as `Mean`'s)."""
    axes, keepdims = settle_reduction(ctx, x, axis, keepdims, word)
    if isinstance(ddof, (bool, np.bool_)) or not isinstance(ddof, numbers.Real) or not (
            ddof >= 0):  # NaN fails this too
        raise ValueError(
            f"ddof must be a number of at least 0, got {setting_text(ddof)}: 0 divides by n "
            "(the population variance, numpy's default, the course's batch norm), 1 by n - 1 "
            "(the unbiased sample variance, PyTorch's default)")
    n = 1
    for a in axes:
        n *= x.shape[a]
    if n and n <= ddof:
        name = "variance" if word == "var" else "standard deviation"
        raise ValueError(
            f"the {name} of {n} number{'s' * (n != 1)} with ddof={ddof} divides by n - ddof = "
            f"{n - ddof:g} (numpy gives inf or NaN with a warning, PyTorch NaN): take it over "
            f"more than {ddof:g} numbers, or with ddof=0, which divides by n")
    ctx.divisor = n - ddof if n else 0  # 0: the backward of no numbers is empty
    wide = _wide(x)
    if not n:  # no numbers: 0/0, as the mean of none is
        shape = np.add.reduce(wide, axis=axes, keepdims=keepdims).shape
        return np.full(shape, np.nan)
    centred = wide - wide.mean(axis=axes, keepdims=True)
    return np.add.reduce(centred * centred, axis=axes, keepdims=keepdims) / ctx.divisor


def _centred(x: Any, axes: tuple[int, ...]) -> Any:
    """x - mean(x) over ``axes``, an array or, in a backward, recorded; the mean of float32
    and float16 values added up in float64, as `Mean`'s (numpy's float32 sum of 24 values
    of 3e37 is inf)."""
    if x.dtype == np.float64:
        return x - x.mean(axis=axes, keepdims=True)
    return x - Mean.call(x, axis=axes, keepdims=True)


class Var(Function):
    """y = sum((x - mean(x))**2) / (n - ddof) over axes, n elements each (ddof=0: numpy's
    np.var; ddof=1: PyTorch's t.var());  dy/dx = 2 (x - mean(x)) / (n - ddof)"""

    hint = staticmethod(_axis_hint)

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False, ddof=0):
        ctx.save_for_backward(x)
        return _narrow(_spread(ctx, x, axis, keepdims, ddof, "var"), x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        if not ctx.divisor:  # no numbers were reduced: x is empty, and so is its gradient
            return np.zeros_like(x)
        # x - mean(x) is computed again from the input, so that second derivatives see it
        centred = _centred(x, ctx.axes)
        return expand_reduced(grad * (2.0 / ctx.divisor), ctx.axes, ctx.keepdims) * centred


class Std(Function):
    """y = sqrt(var(x, ddof)) over axes;  dy/dx = (x - mean(x)) / ((n - ddof) y), and 0 where
    the n values are all equal (y = 0 but for rounding: the kink of y, where x / y is 0/0;
    PyTorch's std gives 0 there only where y is exactly 0)"""

    hint = staticmethod(_axis_hint)

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False, ddof=0):
        y = _narrow(np.sqrt(_spread(ctx, x, axis, keepdims, ddof, "std")), x)
        # The kink is where the values are all equal, whatever y rounds to: [0.1, 0.1, 0.1]
        # has a mean 1 ulp off 0.1, so y is 1.4e-17 (numpy's value) and x - mean(x) divided
        # by it would give each value a gradient of -1/3, which do not sum to 0.
        equal = None
        if x.size:
            equal = (np.maximum.reduce(x, axis=ctx.axes, keepdims=True)
                     == np.minimum.reduce(x, axis=ctx.axes, keepdims=True))
        ctx.zero = equal if equal is not None and equal.any() else None
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved
        if not ctx.divisor:
            return np.zeros_like(x)
        y = expand_reduced(y, ctx.axes, ctx.keepdims)
        centred = _centred(x, ctx.axes)
        if ctx.zero is not None:  # 0 / 1 where the values are all equal: the subgradient 0
            y = np.where(ctx.zero, 1, y)
            centred = np.where(ctx.zero, 0, centred)
        grad = expand_reduced(grad, ctx.axes, ctx.keepdims)
        if x.dtype == np.float64:  # as before: one product of the input's size, not two
            return grad / (y * ctx.divisor) * centred
        # (x - mean(x)) / y first, at most sqrt(n): y * (n - ddof) overflowed float16 for a
        # y of 3000 and more, and the gradient was 0
        return grad * (1.0 / ctx.divisor) * (centred / y)


class Norm(Function):
    """y = ||x|| = sqrt(sum(x**2)) over axes (the 2-norm; the Frobenius norm of a matrix);
    dy/dx = x / y, and 0 where y = 0 (the zero vector, the kink of ||x||, where x / y is 0/0:
    the subgradient PyTorch's linalg.vector_norm gives)"""

    hint = staticmethod(_axis_hint)

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        axes, keepdims = settle_reduction(ctx, x, axis, keepdims, "norm")
        wide = _wide(x)
        y = _narrow(np.sqrt(np.add.reduce(wide * wide, axis=axes, keepdims=keepdims)), x)
        ctx.zero = None if np.all(y) else expand_reduced(y == 0, axes, keepdims)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved
        y = expand_reduced(y, ctx.axes, ctx.keepdims)
        if ctx.zero is not None:  # x / 1 there, and x is 0
            y = np.where(ctx.zero, 1, y)
        grad = expand_reduced(grad, ctx.axes, ctx.keepdims)
        if x.dtype == np.float64:  # as before: grad / y of the output's size, then one product
            return grad / y * x
        # x / y first, at most 1: grad / y overflowed float16 for a y below 2e-5 (inf where
        # the gradient is x / y)
        return grad * (x / y)


def sum(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Sum over ``axis`` (all axes when None); ``keepdims``: the reduced axes stay, of size 1,
    so the result broadcasts against x."""
    return Sum.apply(x, axis=axis, keepdims=keepdims)


def mean(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis`` (all axes when None); ``keepdims``: the reduced axes stay, of size 1,
    so the result broadcasts against x. Over an axis of length 0 (an empty batch) it is NaN,
    0/0, as in PyTorch; `gg.detect_anomaly` names the Mean that made it."""
    return Mean.apply(x, axis=axis, keepdims=keepdims)


def prod(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Product over ``axis`` (all axes when None); ``keepdims``: the reduced axes stay, of
    size 1, so the result broadcasts against x. Its gradient is right where x holds zeros:
    with one zero in a slice, that element's is the product of the others and the others'
    is 0; with two or more, all are 0 (no y / x = 0 / 0)."""
    return Prod.apply(x, axis=axis, keepdims=keepdims)


def max(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Maximum over ``axis`` (all axes when None); ``keepdims``: the reduced axes stay, of
    size 1, so the result broadcasts against x. Tied maxima share the gradient evenly."""
    return Max.apply(x, axis=axis, keepdims=keepdims)


def min(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Minimum over ``axis`` (all axes when None); ``keepdims``: the reduced axes stay, of
    size 1, so the result broadcasts against x. Tied minima share the gradient evenly."""
    return Min.apply(x, axis=axis, keepdims=keepdims)


def var(x: Any, axis: Axis = None, keepdims: bool = False, ddof: float = 0) -> Tensor:
    """Variance over ``axis`` (all axes when None; ``keepdims`` as `gg.mean`): the mean of
    (x - mean(x))**2 over n elements, times n / (n - ddof). ``ddof=0`` is numpy's default
    and the course's (batch norm's sigma**2 = np.var(Z, axis=1)); PyTorch's ``t.var()``
    defaults to the unbiased ``ddof=1`` (its ``correction``): pass ``ddof=1`` for its values.
    Over no elements it is NaN, as `gg.mean` is; ddof >= n, which numpy turns into inf or
    NaN, is refused."""
    return Var.apply(x, axis=axis, keepdims=keepdims, ddof=ddof)


def std(x: Any, axis: Axis = None, keepdims: bool = False, ddof: float = 0) -> Tensor:
    """Standard deviation, sqrt(var(x, axis, keepdims, ddof)): numpy's default ``ddof=0``,
    where PyTorch's ``t.std()`` is unbiased (``ddof=1``). Its gradient where all the values
    are equal (y = 0, a kink) is 0, not NaN."""
    return Std.apply(x, axis=axis, keepdims=keepdims, ddof=ddof)


def norm(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """The 2-norm sqrt(sum(x**2)) over ``axis`` (``keepdims`` as `gg.mean`): of all elements
    when None (a matrix's
    Frobenius norm, np.linalg.norm(W)), of each vector along an axis (the course's
    face-verification distance ||enc - db|| = gg.norm(enc - db, axis=-1)) or over a tuple of
    axes, as PyTorch's torch.linalg.vector_norm. Its gradient x / ||x|| is 0 at a zero vector
    (a subgradient), not 0/0 = NaN."""
    return Norm.apply(x, axis=axis, keepdims=keepdims)


def average(x: Any, axis: Axis = None, weights: Any = None, returned: bool = False,
            keepdims: bool = False) -> Any:
    """The weighted mean over ``axis``, sum(x * weights) / sum(weights), as np.average:
    ``weights`` None is `mean`; weights of x's shape, or 1-D along one int ``axis``, weigh
    each element (a tensor of weights gets its gradient too). ``returned`` gives the pair
    (average, sum of the weights), the sum spread to the average's shape; ``keepdims`` as
    `mean`."""
    flag(returned, "returned", "average")
    flag(keepdims, "keepdims", "average")
    data, shown = numbers_and_shown(x, "x", "average")  # not the Mean inside
    if weights is None:
        avg = Mean.apply(x, axis=axis, keepdims=keepdims)
        if not returned:
            return avg
        count = data.size // (avg.data.size or 1)
        return avg, Tensor(np.full(avg.shape, float(count), dtype=avg.dtype))
    w_shape = np.shape(array_of_numbers(weights, "weights", "average"))
    if w_shape != data.shape:
        if axis is None:
            raise ArgumentError(
                f"average of {describe(shown)}: weights {w_shape} are not of x's shape, so "
                "give the one axis they run along (axis=...)")
        if (len(w_shape) != 1 or isinstance(axis, (bool, np.bool_))
                or not isinstance(axis, (int, np.integer)) or not -data.ndim <= axis < data.ndim
                or w_shape[0] != data.shape[axis]):
            raise ArgumentError(
                f"average of {describe(shown)} along axis {setting_text(axis)}: weights "
                f"{w_shape} must have x's shape, or be 1-D with one weight per element "
                "along that axis")
        spread = [1] * data.ndim
        spread[int(axis) % data.ndim] = w_shape[0]
        weights = Reshape.apply(weights, shape=tuple(spread))
    total = Sum.apply(Mul.apply(weights, x), axis=axis, keepdims=keepdims)
    if isinstance(weights, Tensor) and weights.requires_grad:
        if w_shape != data.shape:  # the weights spread along the other axes, as x's elements
            weights = Mul.apply(weights, np.ones(data.shape, dtype=total.dtype))
        scale = Sum.apply(weights, axis=axis, keepdims=keepdims)
    else:  # constant weights have a constant sum: the same ops, run without nodes
        w = (weights if isinstance(weights, Tensor) else Tensor(weights)).data
        if w_shape != data.shape:
            w = Mul.call(w, np.ones(data.shape, dtype=total.dtype))
        scale = Tensor(Sum.call(w, axis=axis, keepdims=keepdims))
    if (scale.data == 0).any():
        raise ArgumentError(f"average of {describe(shown)}: the weights sum to 0 along the "
                            "axes averaged over, so the average is 0 / 0; give weights with a "
                            "nonzero sum")
    avg = Div.apply(total, scale)
    return (avg, scale) if returned else avg
