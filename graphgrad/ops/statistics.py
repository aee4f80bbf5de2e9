"""numpy's functions of data with missing or spread values: nansum and nanmean (the NaNs left
out), nan_to_num (the NaNs and infinities replaced), ptp (max - min), cov and corrcoef (the
covariances and correlations of variables, a row each). The NaN functions and ptp are built on
the reductions, cov on mean and Gram (the products of the rows), corrcoef on cov and
Correlation, so their gradients are theirs; nan_to_num, nanvar and nanstd (NanVar, NanStd) are
ops of their own. Depends on `function`, `ops.reductions`, `ops.arithmetic`, `ops.shape`,
`ops.elementwise`, `ops.cumulative`, `errors`.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    GraphgradTypeError,
    describe,
    flag,
    float_dtype,
    numbers_and_shown,
    real_number,
    setting_text,
)
from graphgrad.function import Function
from graphgrad.ops.arithmetic import Div, Sub
from graphgrad.ops.cumulative import Cumprod, Cumsum
from graphgrad.ops.elementwise import Where
from graphgrad.ops.rearrange import _one_axis
from graphgrad.ops.reductions import (
    Axis,
    Max,
    Mean,
    Min,
    Prod,
    Sum,
    _Extreme,
    expand_reduced,
    normalize_axis,
    settle_reduction,
)
from graphgrad.ops.shape import Cast, Concatenate, Reshape, Transpose
from graphgrad.tensor import Tensor


def _axes(axis: Axis, keepdims: Any, data: np.ndarray, shown: Any, op: str
          ) -> tuple[int, ...]:
    """``axis`` of x (``data``) as `normalize_axis` reads it, refused in ``op``'s name (not
    the name of the reduction inside) when x has no such axis or it is named twice, as is a
    ``keepdims`` that is no bool."""
    flag(keepdims, "keepdims", op)
    try:
        axes = normalize_axis(axis, data.ndim)
    except TypeError:
        raise GraphgradTypeError(f"{op}: axis must be an int, a tuple of ints or None, got "
                                 f"{setting_text(axis)}") from None
    except ValueError:
        n = data.ndim
        raise ArgumentError(f"{op} of {describe(shown)}: axis {setting_text(axis)} is not one "
                            f"of its {n} axes; give axes from {-n} to {n - 1}, or axis=None "
                            "for all of them") from None
    if len(set(axes)) != len(axes):
        raise ArgumentError(f"{op} of {describe(shown)}: axis={setting_text(axis)} names an "
                            "axis twice; give each axis once")
    return axes


def _numbers(x: Any, op: str, axis: Axis, keepdims: Any) -> tuple[np.ndarray, np.ndarray,
                                                                   tuple[int, ...]]:
    """x's values, where they are numbers (not NaN), and ``axis`` read in ``op``'s name."""
    data, shown = numbers_and_shown(x, "x", op)
    axes = _axes(axis, keepdims, data, shown, op)
    return data, ~np.isnan(data), axes


def _filled(x: Any, data: np.ndarray, numbers: np.ndarray, value: float) -> Any:
    """x with its NaNs replaced by ``value`` (their gradient 0); x itself where it has none."""
    if numbers.all():
        return x
    return Where.apply(x, np.asarray(value, data.dtype if data.dtype.kind == "f" else None),
                       condition=numbers)


def _reduced(mask: np.ndarray, axes: tuple[int, ...], keepdims: Any) -> np.ndarray:
    """How many of ``mask``'s elements are true over ``axes``, shaped as the reduction."""
    return np.sum(mask, axis=axes, keepdims=bool(keepdims))


def nansum(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """The sum over ``axis`` (all axes when None) of x's numbers that are not NaN, as
    np.nansum: NaNs count as 0 (a slice of NaNs only sums to 0); ``keepdims`` as `gg.sum`.
    The NaNs' gradient is 0, the others' that of the sum."""
    data, numbers, _ = _numbers(x, "nansum", axis, keepdims)
    return Sum.apply(_filled(x, data, numbers, 0.0), axis=axis, keepdims=keepdims)


def nanmean(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """The mean over ``axis`` (all axes when None) of x's numbers that are not NaN, as
    np.nanmean: their sum divided by their count, NaN for a slice of NaNs only (numpy warns
    there); ``keepdims`` as `gg.mean`, and float16 added up in float32 as there (numpy's
    sum of 70,000 float16 values is inf). The NaNs' gradient is 0, each other's 1 / count."""
    data, numbers, axes = _numbers(x, "nanmean", axis, keepdims)
    if numbers.all():
        return Mean.apply(x, axis=axis, keepdims=keepdims)
    filled = _filled(x, data, numbers, 0.0)
    half = data.dtype == np.float16
    if half:  # its sum (and count) pass 65504 long before its mean: divided in float32
        filled = Cast.apply(filled, dtype=np.float32)
    total = Sum.apply(filled, axis=axis, keepdims=keepdims)
    count = _reduced(numbers, axes, keepdims)
    # NaN for no numbers: total / NaN is the NaN numpy gives, without its division by 0
    # (whose gradient, inf, would meet the Where's 0 as 0 * inf = NaN)
    mean = Div.apply(total, np.where(count == 0, np.nan, count).astype(total.dtype))
    return Cast.apply(mean, dtype=np.float16) if half else mean


class NanToNum(Function):
    """y = x where x is finite, else ``nan``, ``posinf`` or ``neginf`` (numpy's defaults: 0
    and the dtype's largest and smallest numbers);  dy/dx = 1 where x is finite, 0 where it
    was replaced"""

    @staticmethod
    def forward(ctx, x, nan=0.0, posinf=None, neginf=None):
        finite = np.isfinite(x)
        ctx.finite = None if finite.all() else finite
        return np.nan_to_num(x, copy=True, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, grad):
        if ctx.finite is None:
            return grad
        return np.where(ctx.finite, grad, 0)


def nan_to_num(x: Any, *, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """x with NaN replaced by ``nan`` and +-inf by ``posinf`` and ``neginf``, as
    np.nan_to_num (its defaults: 0.0, and x's dtype's largest and smallest numbers, 3.4e38
    for float32; always a new tensor, numpy's copy=True). The gradient is 1 where x is finite
    and 0 where a value was replaced (PyTorch's torch.nan_to_num's)."""
    numbers_and_shown(x, "x", "nan_to_num")
    settings = {}
    for what, value in (("nan", nan), ("posinf", posinf), ("neginf", neginf)):
        if value is not None:
            settings[what] = real_number(value, what, "nan_to_num", lambda v: True,
                                         "a real number")
    return NanToNum.apply(x, **settings)


def ptp(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """The range max - min over ``axis`` (all axes when None), "peak to peak", as np.ptp;
    ``keepdims`` as `gg.max`. Its gradient is max's minus min's: tied maxima (or minima)
    share theirs evenly, and a slice of equal values gets 0."""
    data, shown = numbers_and_shown(x, "x", "ptp")
    _refuse_empty(data, shown, _axes(axis, keepdims, data, shown, "ptp"), "ptp", "range")
    return Sub.apply(Max.apply(x, axis=axis, keepdims=keepdims),
                     Min.apply(x, axis=axis, keepdims=keepdims))


def _variables(value: Any, what: str, rowvar: bool, dtype: Any, caller: str, first: bool
               ) -> Any:
    """cov's ``m`` or ``y`` (``what``) as variables (k, n), a row each, in ``dtype`` if one
    is given: 0-d and 1-D values are one variable, of their n values, as numpy's ndmin=2
    reads them; a matrix of columns (rowvar=False) is transposed (numpy's rule for y: unless
    it is one row)."""
    data, shown = numbers_and_shown(value, what, caller)
    if data.ndim > 2:
        raise ArgumentError(
            f"{caller} of {describe(shown)}: {what} has {data.ndim} dimensions, where it "
            "holds variables: give one variable (n,), or several (k, n), a row each "
            "(rowvar=True, numpy's default) or a column each (rowvar=False)")
    if dtype is not None or data.dtype.kind != "f":  # numpy averages ints in float64
        value = Cast.apply(value, dtype=np.float64 if dtype is None else dtype)
    if data.ndim < 2:
        return Reshape.apply(value, shape=(1, -1)), shown
    if not rowvar and (data.ndim != 1 if first else data.shape[0] != 1):
        return Transpose.apply(value), shown
    return value, shown


class Gram(Function):
    """C = X X^T scale, the scaled sums of products of the rows of X (k, n), (k, k);
    dX = (dC + dC^T) X scale: one product, where a matmul of X and its transpose computes
    dC X and (X^T dC)^T apart and adds them"""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        return (x @ x.T) * scale  # numpy's product of an array and its own transpose: syrk

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return ((grad + grad.T) @ x) * ctx.attrs["scale"]


def _cov(m: Any, y: Any, rowvar: Any, bias: Any, ddof: Any, dtype: Any, caller: str
         ) -> tuple[Tensor, bool]:
    """cov's body, its messages naming ``caller`` (cov, or corrcoef, which is built on it),
    and whether the variables were float16, which it computes in float32 for the caller to
    round its result back."""
    rowvar = flag(rowvar, "rowvar", caller)
    dtype = dtype if dtype is None else float_dtype(dtype, caller)
    first = "m" if caller == "cov" else "x"
    X, shown = _variables(m, first, rowvar, dtype, caller, True)
    if y is not None:
        Y, shown_y = _variables(y, "y", rowvar, dtype, caller, False)
        if Y.shape[1] != X.shape[1]:
            raise ArgumentError(
                f"{caller} of {describe(shown)} and {describe(shown_y)}: {first}'s variables have "
                f"{X.shape[1]} observations each and y's {Y.shape[1]}; y's variables are "
                f"joined to m's, so give them as many observations (rowvar={rowvar})")
        X = Concatenate.apply(X, Y, axis=0)
    if ddof is None:
        ddof = 0 if flag(bias, "bias", caller) else 1
    else:
        ddof = int(real_number(ddof, "ddof", caller, lambda v: v >= 0 and v.is_integer(),
                               "a whole number of at least 0, or None"))
    k, n = X.shape
    fact = n - ddof
    if fact <= 0 and k:
        what = ("give more observations than ddof, or ddof=0 (bias=True), which divides by n"
                if caller == "cov" else "a correlation needs 2 observations or more")
        raise ArgumentError(
            f"{caller} of {describe(shown)}: each variable has {n} observation{'s' * (n != 1)}, "
            f"and with ddof={ddof} the sums of products are divided by n - ddof = {fact} "
            f"(numpy gives inf or NaN with a warning): {what}")
    half = X.dtype == np.float16
    if half:  # its sums of n products pass 65504 long before C does: float32, rounded after
        X = Cast.apply(X, dtype=np.float32)
    centred = Sub.apply(X, Mean.apply(X, axis=1, keepdims=True))
    c = Gram.apply(centred, scale=1.0 / max(fact, 1))
    c = Reshape.apply(c, shape=()) if c.shape == (1, 1) else c  # numpy's squeeze
    return c, half


def cov(m: Any, y: Any = None, rowvar: bool = True, bias: bool = False, ddof: int | None = None,
        *, dtype: Any = None) -> Tensor:
    """The covariance matrix of variables, as np.cov: m (k, n) holds k variables, a row each
    of n observations (rowvar=False: a column each, m (n, k)), and ``y`` more of them;
    C[i, j] = sum((x_i - mean x_i)(x_j - mean x_j)) / (n - ddof), with numpy's default ddof=1
    (the unbiased estimate; bias=True: 0, dividing by n). One variable gives a number. float32
    stays float32 (numpy computes in float64), and float16 float16, computed in float32 (its
    sums of n products overflow); ``dtype`` (np.float32 or np.float64) converts first.
    numpy's fweights and aweights have no graphgrad form."""
    c, half = _cov(m, y, rowvar, bias, ddof, dtype, "cov")
    return Cast.apply(c, dtype=np.float16) if half else c


def corrcoef(x: Any, y: Any = None, rowvar: bool = True, *, dtype: Any = None) -> Tensor:
    """The correlation coefficients of variables, as np.corrcoef: `gg.cov` (x, y, rowvar and
    dtype as there) divided by the standard deviations of each pair, R[i, j] = C[i, j] /
    sqrt(C[i, i] C[j, j]), clipped to [-1, 1] as numpy's (the gradient of a value clipped
    there, rounded past +-1, is 0). One variable gives 1, C / C; a variable of equal values
    gives NaN, as in numpy."""
    c, half = _cov(x, y, rowvar, False, None, dtype, "corrcoef")
    if not c.ndim:
        r = Div.apply(c, c)
    else:
        r = Correlation.apply(c)
    return Cast.apply(r, dtype=np.float16) if half else r


class Correlation(Function):
    """R = C / (d d^T) of covariances C (k, k), d = sqrt(diag C), clipped to [-1, 1] as
    numpy's; with G 0 where R was clipped: dC = G / (d d^T), less (the sums of row i and of
    column i of G * R) / (2 C_ii) on the diagonal (through d_i). One node, where the standard
    deviations, two divisions and the clip made six, each division's backward three arrays
    the size of C"""

    @staticmethod
    def forward(ctx, c):
        d = np.sqrt(np.diagonal(c))
        q = (c / d[:, None]) / d[None, :]
        low, high = np.asarray(-1.0, q.dtype), np.asarray(1.0, q.dtype)
        inside = (q >= low) & (q <= high)  # NaN (a variable of equal values) is not
        ctx.inside = None if inside.all() else inside
        r = np.clip(q, low, high)
        ctx.save_for_backward(c, r)
        return r

    @staticmethod
    def backward(ctx, grad):
        c, r = ctx.saved
        variances = np.diagonal(c)
        d = np.sqrt(variances)
        g = grad if ctx.inside is None else grad * ctx.inside
        gr = g * r
        return (g / d[:, None]) / d[None, :] - np.diag(
            (gr.sum(axis=1) + gr.sum(axis=0)) / (2 * variances))


# -- the other NaN functions: extremes, products, spreads and running sums and products ------
class _NanExtreme(_Extreme):
    """Shared by nanmax and nanmin: max's and min's rule over the numbers, the NaNs passed
    by (their gradient 0, even where the numbers are all -inf, which a NaN replaced by -inf
    would tie with), NaN over NaNs only, without numpy's warning, and no gradient there."""

    fill = 0.0

    @classmethod
    def forward(cls, ctx, x, axis=None, keepdims=False):
        _, keepdims = settle_reduction(ctx, x, axis, keepdims, cls.__name__.lower())
        axes = None if axis is None else ctx.axes
        filled = np.where(np.isnan(x), cls.fill, x) if x.dtype.kind == "f" else x
        y = np.asarray(cls.reduce(filled, axis=axes, keepdims=True))
        chosen = x == y  # never at a NaN
        count = chosen.sum(axis=axes, keepdims=True)  # 0: no numbers
        share = (chosen / np.maximum(count, 1)).astype(x.dtype, copy=False)
        ctx.save_for_backward(share)
        if not count.all():
            y = np.where(count > 0, y, np.nan).astype(x.dtype, copy=False)
        return y if keepdims else y.reshape([n for i, n in enumerate(y.shape) if i not in ctx.axes])


class NanMax(_NanExtreme):
    """y = max of x's numbers (not NaN) over axes;  dy/dx = 1 at the maximum (1/k each for k
    tied maxima), 0 at the NaNs"""

    reduce = staticmethod(np.max)
    fill = -np.inf


class NanMin(_NanExtreme):
    """y = min of x's numbers (not NaN) over axes;  dy/dx = 1 at the minimum (1/k each for k
    tied minima), 0 at the NaNs"""

    reduce = staticmethod(np.min)
    fill = np.inf


def _nan_extreme(x: Any, axis: Axis, keepdims: Any, op: str, extreme: type[Function]
                 ) -> Tensor:
    data, _, axes = _numbers(x, op, axis, keepdims)
    _refuse_empty(data, numbers_and_shown(x, "x", op)[1], axes, op, op[3:])
    return extreme.apply(x, axis=axis, keepdims=keepdims)


def _refuse_empty(data: np.ndarray, shown: Any, axes: tuple[int, ...], op: str, what: str
                  ) -> None:
    """Refuse in ``op``'s name a reduction over an axis of length 0: the ``what`` (max, min,
    range) of no numbers has no value."""
    empty = [a for a in axes if data.shape[a] == 0]
    if empty:
        raise ArgumentError(f"{op} of {describe(shown)}: axis {empty[0]} has length 0, and the "
                            f"{what} of no numbers has no value (numpy refuses it too); take "
                            "it over axes of non-zero length")


def nanmax(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """The maximum over ``axis`` (all axes when None) of x's numbers that are not NaN, as
    np.nanmax; ``keepdims`` as `gg.max`. Tied maxima share the gradient evenly, as max's; the
    NaNs' gradient is 0. A slice of NaNs only gives NaN, as numpy's (without its warning),
    and no gradient."""
    return _nan_extreme(x, axis, keepdims, "nanmax", NanMax)


def nanmin(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """The minimum over ``axis`` (all axes when None) of x's numbers that are not NaN, as
    np.nanmin; ``keepdims``, ties, NaNs and slices of NaNs only as in `nanmax`."""
    return _nan_extreme(x, axis, keepdims, "nanmin", NanMin)


def nanprod(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """The product over ``axis`` (all axes when None) of x's numbers that are not NaN, as
    np.nanprod: NaNs count as 1 (a slice of NaNs only gives 1); ``keepdims`` as `gg.prod`,
    whose gradient (right where x holds zeros) the numbers get, the NaNs 0."""
    data, numbers, _ = _numbers(x, "nanprod", axis, keepdims)
    return Prod.apply(_filled(x, data, numbers, 1.0), axis=axis, keepdims=keepdims)


def _nan_centred(x: Any, numbers: np.ndarray | None, axes: tuple[int, ...],
                 count: np.ndarray) -> Any:
    """x minus the mean of its numbers over ``axes`` (``count`` of them, at least 1), 0 at the
    NaNs (``numbers`` None: x has none): an array, or in a backward recorded, so that second
    derivatives see it."""
    zero = np.zeros((), count.dtype)
    filled = x if numbers is None else Where.call(x, zero, condition=numbers)
    centred = filled - Div.call(Sum.call(filled, axis=axes, keepdims=True), count)
    return centred if numbers is None else Where.call(centred, zero, condition=numbers)


class _NanSpread(Function):
    """The squares of the numbers' distances to their mean over ``axis`` (a tuple), summed and
    divided by count - ddof, NaN where that is 0 or less (with no gradient); the NaNs'
    gradient is 0. One node, where the mean, the distances and their squares made eight, each
    an array the size of x in forward and in backward."""

    @staticmethod
    def _spread(ctx, x, axis, keepdims, ddof):
        axis = normalize_axis(axis, x.ndim)  # the node keeps the axis as written
        numbers = ~np.isnan(x)
        ctx.numbers = None if numbers.all() else numbers
        ctx.axes, ctx.keepdims = axis, keepdims
        # in x's float dtype; a mask's or integers' count is a float64 number, not True
        counts = np.sum(numbers, axis=axis, keepdims=True)
        ctx.count = np.maximum(counts, 1).astype(x.dtype if x.dtype.kind == "f" else np.float64)
        centred = _nan_centred(x, ctx.numbers, axis, ctx.count)
        squares = Sum.call(centred * centred, axis=axis, keepdims=keepdims)
        dof = (counts if keepdims else np.squeeze(counts, axis)) - ddof
        valid = dof > 0  # numpy's NaN (with a warning) for count <= ddof
        spread = squares / np.where(valid, dof, 1).astype(squares.dtype)
        ctx.valid = valid
        ctx.dof = expand_reduced(np.where(valid, dof, 1).astype(squares.dtype), axis, keepdims)
        # where the gradient flows (None: everywhere); not through an infinite dof, whose
        # 0 * inf in a second derivative is NaN and a warning, even where masked after
        ctx.live = None if valid.all() else expand_reduced(valid, axis, keepdims)
        ctx.save_for_backward(x)
        return spread

    @staticmethod
    def _masked(ctx, scale):
        """``scale``, 0 where the slice has no gradient (``ctx.live``)."""
        if ctx.live is None:
            return scale
        return Where.call(scale, np.zeros((), ctx.dof.dtype), condition=ctx.live)

    @staticmethod
    def _centred(ctx):
        return _nan_centred(ctx.saved[0], ctx.numbers, ctx.axes, ctx.count)


class NanVar(_NanSpread):
    """y = sum over the numbers of (x - their mean)**2 / (count - ddof);  dy/dx = 2 (x -
    mean) / (count - ddof) at the numbers, 0 at the NaNs"""

    @staticmethod
    def forward(ctx, x, axis, keepdims, ddof):
        spread = _NanSpread._spread(ctx, x, axis, keepdims, ddof)
        return spread if ctx.valid.all() else np.where(ctx.valid, spread, np.nan)

    @staticmethod
    def backward(ctx, grad):
        scale = expand_reduced(grad, ctx.axes, ctx.keepdims) * (2 / ctx.dof)
        return _NanSpread._centred(ctx) * _NanSpread._masked(ctx, scale)


class NanStd(_NanSpread):
    """y = sqrt(nanvar(x));  dy/dx = (x - mean) / ((count - ddof) y) at the numbers, and 0
    where a slice's numbers are all equal (sqrt's kink, as `gg.std`'s) and at the NaNs"""

    @staticmethod
    def forward(ctx, x, axis, keepdims, ddof):
        spread = _NanSpread._spread(ctx, x, axis, keepdims, ddof)
        y = np.sqrt(spread) if ctx.valid.all() else np.where(
            ctx.valid, np.sqrt(np.where(ctx.valid, spread, 0)), np.nan)
        # initial=: an empty slice (no numbers, NaN) has no largest number to compare
        axes = ctx.axes
        high = np.max(np.where(ctx.numbers, x, -np.inf) if ctx.numbers is not None else x,
                      axis=axes, keepdims=True, initial=-np.inf)
        low = np.min(np.where(ctx.numbers, x, np.inf) if ctx.numbers is not None else x,
                     axis=axes, keepdims=True, initial=np.inf)
        smooth = expand_reduced(ctx.valid, axes, keepdims) & (high != low)
        ctx.live = None if smooth.all() else smooth
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y = expand_reduced(ctx.saved[1], ctx.axes, ctx.keepdims)
        if ctx.live is not None:  # 1 at the kink and where y is NaN, masked after
            y = Where.call(y, np.ones((), ctx.dof.dtype), condition=ctx.live)
        scale = expand_reduced(grad, ctx.axes, ctx.keepdims) / (ctx.dof * y)
        return _NanSpread._centred(ctx) * _NanSpread._masked(ctx, scale)


def _nan_spread(x: Any, axis: Axis, keepdims: Any, ddof: Any, op: str, root: bool) -> Tensor:
    """nanvar's (and with ``root`` nanstd's) body: its checks, then one node."""
    data, shown = numbers_and_shown(x, "x", op)
    _axes(axis, keepdims, data, shown, op)
    checked = real_number(ddof, "ddof", op, lambda v: v >= 0, "a number of at least 0")
    # the node keeps the settings as written (axis=-1, ddof=1), as Var's, for graph pictures
    ddof = ddof if type(ddof) in (int, float) else checked
    return (NanStd if root else NanVar).apply(x, axis=axis, keepdims=bool(keepdims), ddof=ddof)


def nanvar(x: Any, axis: Axis = None, keepdims: bool = False, ddof: float = 0) -> Tensor:
    """The variance over ``axis`` (all axes when None) of x's numbers that are not NaN, as
    np.nanvar: sum((x - mean)**2) / (count - ddof) over the numbers of each slice (``ddof``
    and ``keepdims`` as `gg.var`). Where count <= ddof (a slice of NaNs only) it is NaN, as
    numpy's (without its warning), and has no gradient; the NaNs' gradient is 0."""
    return _nan_spread(x, axis, keepdims, ddof, "nanvar", False)


def nanstd(x: Any, axis: Axis = None, keepdims: bool = False, ddof: float = 0) -> Tensor:
    """sqrt(`nanvar`) over ``axis`` (``ddof`` and ``keepdims`` as there), as np.nanstd; where
    a slice's numbers are all equal the gradient is 0 (the kink), as `gg.std`'s."""
    return _nan_spread(x, axis, keepdims, ddof, "nanstd", True)


def _running(x: Any, axis: Any, op: str, fill: float, run: type[Function]) -> Tensor:
    data, shown = numbers_and_shown(x, "x", op)
    if axis is not None:
        _one_axis(axis, max(data.ndim, 1), shown, op)
    return run.apply(_filled(x, data, ~np.isnan(data), fill), axis=axis)


def nancumsum(x: Any, axis: int | None = None) -> Tensor:
    """The running sum along ``axis`` of x, its NaNs counted as 0, as np.nancumsum (axis
    None: of the flattened x); the NaNs' gradient is 0."""
    return _running(x, axis, "nancumsum", 0.0, Cumsum)


def nancumprod(x: Any, axis: int | None = None) -> Tensor:
    """The running product along ``axis`` of x, its NaNs counted as 1, as np.nancumprod
    (axis None: of the flattened x); the NaNs' gradient is 0, the numbers' `gg.cumprod`'s."""
    return _running(x, axis, "nancumprod", 1.0, Cumprod)
