"""Which graphgrad function runs when a numpy function or ufunc is called on a Tensor.

``np.exp(t)`` runs gg.exp, ``np.sum(t, axis=0)`` gg.sum, ``np.linalg.solve(A, b)``
gg.linalg.solve: the tables of `interop` (`_UFUNCS`, `_FUNCTIONS`, and `_RENAMED`, numpy's
names for settings graphgrad calls otherwise) are filled here, when this module is imported,
with graphgrad's functions and the adapters that read numpy's settings (a dtype, numpy's
forms of a call). Functions that find indices, counts or truths (np.argmax, np.nonzero,
np.any), piecewise-constant ones (np.floor, np.round, np.sign) and comparisons of values
(np.isclose) give constant tensors, on tensors that require grad too; np.allclose and
np.array_equal give numpy's bool. Depends on `interop`, `ops`, `linalg`, `tensor`, `modes`,
`errors`.
"""
from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from graphgrad import linalg
from graphgrad import ops as _ops  # noqa: F401  (the submodules below register the ops)
from graphgrad.errors import (
    ArgumentError,
    GraphgradTypeError,
    describe,
)
from graphgrad.interop import (
    _FOREIGN_UFUNCS,
    _FUNCTIONS,
    _RENAMED,
    _UFUNCS,
    _constants,
    _needing_grad,
    _NoForm,
    _unsupported,
    _values,
    _write_refused,
)
from graphgrad.modes import _state
from graphgrad.ops import arithmetic as A
from graphgrad.ops import compositions as CO
from graphgrad.ops import contraction as CT
from graphgrad.ops import cumulative as C
from graphgrad.ops import diagonals as D
from graphgrad.ops import differences as DF
from graphgrad.ops import elementwise as E
from graphgrad.ops import gather as G
from graphgrad.ops import powers as P
from graphgrad.ops import quantiles as Q
from graphgrad.ops import rearrange as RA
from graphgrad.ops import reductions as R
from graphgrad.ops import shape as S
from graphgrad.ops import softmax as SM
from graphgrad.ops import special as SP
from graphgrad.ops import statistics as ST
from graphgrad.ops import trigonometric as T
from graphgrad.ops.rearrange import _one_axis
from graphgrad.tensor import Tensor, _bitwise, _constant, _data, normalize_index


def _constant_of(ufunc: np.ufunc) -> Callable[..., Tensor]:
    """A ufunc with no derivative (comparisons, sign): computed on the data, no graph."""
    return lambda *args: _constant(ufunc(*[_data(a) for a in args]))


_UFUNCS.update({
    np.add: A.add,
    np.subtract: A.sub,
    np.multiply: A.mul,
    np.true_divide: A.div,
    np.negative: A.neg,
    np.power: A.pow,
    np.matmul: A.matmul,
    np.exp: E.exp,
    np.log: E.log,
    np.log1p: E.log1p,
    np.expm1: E.expm1,
    np.sqrt: E.sqrt,
    np.absolute: E.abs,
    np.sin: E.sin,
    np.cos: E.cos,
    np.tanh: E.tanh,
    np.maximum: E.maximum,
    np.minimum: E.minimum,
    np.positive: lambda x: x,
    np.square: lambda x: A.mul(x, x),
})
_UFUNCS.update({
    np.fmax: E.fmax,
    np.fmin: E.fmin,
    np.tan: T.tan,
    np.arcsin: T.arcsin,
    np.arccos: T.arccos,
    np.arctan: T.arctan,
    np.arctan2: T.arctan2,
    np.hypot: T.hypot,
    np.sinh: T.sinh,
    np.cosh: T.cosh,
    np.arcsinh: T.arcsinh,
    np.arccosh: T.arccosh,
    np.arctanh: T.arctanh,
    np.exp2: P.exp2,
    np.log2: P.log2,
    np.log10: P.log10,
    np.logaddexp: P.logaddexp,
    np.reciprocal: P.reciprocal,
    np.cbrt: P.cbrt,
})
for _ufunc in (np.sign, np.greater, np.greater_equal, np.less, np.less_equal, np.equal,
               np.not_equal, np.isfinite, np.isnan, np.isinf, np.logical_not, np.logical_and,
               np.logical_or, np.logical_xor):
    _UFUNCS[_ufunc] = _constant_of(_ufunc)
# Piecewise constant: their derivative is 0 wherever it exists, so, as np.sign, they give
# constants (PyTorch gives a result that requires grad, with a zero gradient).
for _ufunc in (np.floor, np.ceil, np.trunc, np.rint, np.heaviside):
    _UFUNCS[_ufunc] = _constant_of(_ufunc)
for _ufunc, _symbol in ((np.invert, "~"), (np.bitwise_and, "&"), (np.bitwise_or, "|"),
                        (np.bitwise_xor, "^")):
    _UFUNCS[_ufunc] = functools.partial(_bitwise, _ufunc, _symbol)


def _like(fill: Callable[..., np.ndarray]) -> Callable[..., Tensor]:
    return lambda a, dtype=None, **kwargs: _constant(fill(_data(a), dtype=dtype, **kwargs))


def _numpy_reduction(reduce: Callable[..., Tensor], numpy_reduce: Callable[..., Any]
                     ) -> Callable[..., Tensor]:
    """np.sum, np.mean, np.max or np.min on a Tensor: graphgrad's reduction, which takes
    numpy's dtype too (numpy reduces in that dtype and returns it)."""
    def call(a: Any, axis: Any = None, keepdims: bool = False, dtype: Any = None) -> Tensor:
        if dtype is None:
            return reduce(a, axis=axis, keepdims=keepdims)
        if np.dtype(dtype).kind != "f":  # a count or a truth: numpy's value, no gradient
            return _constant(numpy_reduce(_data(a), axis=axis, dtype=dtype, keepdims=keepdims))
        return reduce(S.astype(a, dtype), axis=axis, keepdims=keepdims)

    return call


def _numpy_cumsum(a: Any, axis: Any = None, dtype: Any = None) -> Tensor:
    """np.cumsum on a Tensor: gg.cumsum, in numpy's dtype when one is given (a count, in an
    integer dtype, is numpy's value, with no gradient, as for `_numpy_reduction`)."""
    if dtype is None:
        return C.cumsum(a, axis=axis)
    if np.dtype(dtype).kind != "f":
        return _constant(np.cumsum(_data(a), axis=axis, dtype=dtype))
    return C.cumsum(S.astype(a, dtype), axis=axis)


def _numpy_spread(spread: Callable[..., Tensor], word: str) -> Callable[..., Tensor]:
    """np.var or np.std on a Tensor: gg.var or gg.std, with numpy's names (and its ddof=0
    default; numpy's correction= is ddof's other name) and a float dtype to compute in."""
    def call(a: Any, axis: Any = None, dtype: Any = None, ddof: Any = 0,
             keepdims: bool = False) -> Tensor:
        if dtype is not None:
            if np.dtype(dtype).kind != "f":
                raise _NoForm(f"numpy.{word}(..., dtype={np.dtype(dtype)})")
            a = S.astype(a, dtype)
        return spread(a, axis=axis, keepdims=keepdims, ddof=ddof)

    return call


def linalg_norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Tensor:
    """np.linalg.norm on a Tensor, as numpy reads its settings: the norm of x flattened (ord
    None, axis None: gg.norm), of vectors (x 1-D, or one axis: `linalg.vector_norm`) or of
    matrices (x 2-D, or two axes, rows then columns: `linalg.matrix_norm`)."""
    shape = np.shape(_data(x))
    ndim = len(shape)
    vector = isinstance(axis, (int, np.integer)) or (
        isinstance(axis, tuple) and len(axis) == 1) or axis is None and ndim == 1
    if ord is None and (axis is None or vector or isinstance(axis, tuple) and len(axis) == 2):
        return R.norm(x, axis=axis, keepdims=keepdims)
    try:  # numpy's own refusals first (ord="fro" of a vector, any ord of 3 axes), which
        # depend on the number of axes alone: checked on ones, not a second SVD of x's values
        np.linalg.norm(np.ones((1,) * ndim), ord, axis)
    except ValueError as exc:
        raise ArgumentError(f"numpy.linalg.norm of {describe(x)}, ord={ord!r}, axis={axis!r}: "
                            f"{exc}") from None
    if vector:
        return linalg.vector_norm(x, axis=axis, keepdims=keepdims, ord=ord)
    rows, columns = (0, 1) if axis is None else (a % ndim for a in axis)
    matrices = x if (rows, columns) == (ndim - 2, ndim - 1) else RA.moveaxis(
        x, (rows, columns), (-2, -1))
    norm = linalg.matrix_norm(matrices, ord=ord)
    if keepdims:  # the two axes kept where they were, as 1
        norm = S.reshape(norm, tuple(1 if a in (rows, columns) else n
                                     for a, n in enumerate(shape)))
    return norm


def take(a: Any, indices: Any, axis: Any = None) -> Tensor:
    """np.take on a Tensor, numpy's tf.gather (YOLO's boxes kept by non-max suppression): the
    indexing a[indices] along ``axis``, of the flattened a when axis is None. numpy's out= and
    mode= (wrap, clip) have no graphgrad form."""
    # a tensor of indices as t[index] reads it (made from ints, it holds float64)
    index = np.asarray(normalize_index(indices) if isinstance(indices, Tensor) else indices)
    if index.dtype.kind == "b" or index.size == 0:  # numpy reads them as integers
        index = index.astype(np.intp)
    if axis is None:
        return S.reshape(a, -1)[index]  # numpy dispatches on ``a`` alone: a is a Tensor
    axis = _one_axis(axis, a.ndim, a, "take", tail=", or None for the flattened a")
    return a[(slice(None),) * axis + (index,)]


_FUNCTIONS.update({
    np.sum: _numpy_reduction(R.sum, np.sum),
    np.mean: _numpy_reduction(R.mean, np.mean),
    np.max: _numpy_reduction(R.max, np.max),
    np.min: _numpy_reduction(R.min, np.min),
    np.amax: _numpy_reduction(R.max, np.amax),
    np.amin: _numpy_reduction(R.min, np.amin),
    np.prod: _numpy_reduction(R.prod, np.prod),
    np.cumsum: _numpy_cumsum,
    np.var: _numpy_spread(R.var, "var"),
    np.std: _numpy_spread(R.std, "std"),
    np.linalg.norm: linalg_norm,
    np.reshape: S.reshape,
    np.transpose: S.transpose,
    np.swapaxes: S.swapaxes,
    np.expand_dims: S.expand_dims,
    np.squeeze: S.squeeze,
    np.broadcast_to: S.broadcast_to,
    np.concatenate: S.concatenate,
    np.stack: S.stack,
    np.split: S.split,
    np.pad: S.pad,
    np.flip: RA.flip,
    np.roll: RA.roll,
    np.moveaxis: RA.moveaxis,
    np.repeat: RA.repeat,
    np.tile: RA.tile,
    np.vstack: RA.vstack,
    np.hstack: RA.hstack,
    np.outer: CT.outer,
    np.clip: E.clip,
    np.take: take,
    np.zeros_like: _like(np.zeros_like),
    np.ones_like: _like(np.ones_like),
    np.shape: lambda a: np.shape(_data(a)),
    np.ndim: lambda a: np.ndim(_data(a)),
    np.size: lambda a, axis=None: np.size(_data(a), axis),
})
_FUNCTIONS[SM.logsumexp] = SM.logsumexp
_FUNCTIONS[np.take_along_axis] = G.take_along_axis


def _numpy_sort(a: Any, axis: Any = -1, kind: Any = None, order: Any = None, *,
                stable: Any = None) -> Tensor:
    """np.sort on a Tensor: gg.sort, a stable sort, whatever ``kind`` asks for (the sorted
    values are the same; only the order of ties differs, and ties have equal values).
    ``order`` names the fields of structured arrays, which tensors are not."""
    if order is not None:
        raise _NoForm("numpy.sort(..., order=...)")
    return G.sort(a, axis=axis)


_FUNCTIONS[np.sort] = _numpy_sort
_FUNCTIONS.update({np.diagonal: D.diagonal, np.diag: D.diag, np.trace: D.trace, np.triu: D.triu,
                   np.tril: D.tril})
_FUNCTIONS.update({np.quantile: Q.quantile, np.percentile: Q.percentile, np.median: Q.median})
_FUNCTIONS.update({np.copy: CO.copy, np.atleast_1d: CO.atleast_1d, np.atleast_2d: CO.atleast_2d,
                   np.atleast_3d: CO.atleast_3d, np.column_stack: CO.column_stack,
                   np.dstack: CO.dstack, np.fliplr: CO.fliplr, np.flipud: CO.flipud,
                   np.rot90: CO.rot90})
_FUNCTIONS.update({np.tensordot: CT.tensordot, np.inner: CT.inner, np.kron: CT.kron,
                   np.diff: C.diff, np.average: R.average, np.cross: CT.cross})
_FUNCTIONS.update({getattr(np.linalg, name): getattr(linalg, name) for name in linalg.__all__
                   if hasattr(np.linalg, name) and callable(getattr(linalg, name))
                   and not isinstance(getattr(linalg, name), type)})
_FUNCTIONS[np.ravel] = lambda a: S.reshape(a, -1)  # the course's p=y.ravel() of np.random.choice


def _numpy_cumprod(a: Any, axis: Any = None, dtype: Any = None) -> Tensor:
    """np.cumprod on a Tensor: gg.cumprod, in numpy's dtype when one is given (an integer
    product is numpy's value, with no gradient, as for `_numpy_cumsum`)."""
    if dtype is None:
        return C.cumprod(a, axis=axis)
    if np.dtype(dtype).kind != "f":
        return _constant(np.cumprod(_data(a), axis=axis, dtype=dtype))
    return C.cumprod(S.astype(a, dtype), axis=axis)


def _numpy_nan_to_num(x: Any, copy: Any = True, nan: Any = 0.0, posinf: Any = None,
                      neginf: Any = None) -> Tensor:
    """np.nan_to_num on a Tensor: gg.nan_to_num; numpy's copy=False, which writes into x, is
    refused, as a Tensor never changes."""
    if not copy:
        raise _write_refused("numpy.nan_to_num")
    return ST.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)


# Running products, the NaN functions, ranges, covariances, angles, sinc and vdot.
_FUNCTIONS.update({np.cumprod: _numpy_cumprod, np.nansum: _numpy_reduction(ST.nansum, np.nansum),
                   np.nanmean: _numpy_reduction(ST.nanmean, np.nanmean),
                   np.nan_to_num: _numpy_nan_to_num, np.ptp: ST.ptp, np.cov: ST.cov,
                   np.corrcoef: ST.corrcoef, np.sinc: T.sinc, np.vdot: CT.vdot})
_UFUNCS.update({np.deg2rad: T.deg2rad, np.radians: T.deg2rad, np.rad2deg: T.rad2deg,
                np.degrees: T.rad2deg})


def _numpy_running(run: Callable[..., Tensor], numpy_run: Callable[..., Any]
                   ) -> Callable[..., Tensor]:
    """np.nancumsum or np.nancumprod on a Tensor: ``run`` (gg.nancumsum, gg.nancumprod), in
    numpy's dtype when one is given, as `_numpy_cumsum`."""
    def call(a: Any, axis: Any = None, dtype: Any = None) -> Tensor:
        if dtype is None:
            return run(a, axis=axis)
        if np.dtype(dtype).kind != "f":
            return _constant(numpy_run(_data(a), axis=axis, dtype=dtype))
        return run(S.astype(a, dtype), axis=axis)

    return call


def _numpy_cumulative(run: Callable[..., Tensor], numpy_run: Callable[..., Any]
                      ) -> Callable[..., Tensor]:
    """numpy 2's np.cumulative_sum or np.cumulative_prod on a Tensor, dtype as np.cumsum's."""
    def call(x: Any, *, axis: Any = None, dtype: Any = None, include_initial: Any = False
             ) -> Tensor:
        if dtype is not None and np.dtype(dtype).kind != "f":
            return _constant(numpy_run(_data(x), axis=axis, dtype=dtype,
                                       include_initial=include_initial))
        if dtype is not None:
            x = S.astype(x, dtype)
        return run(x, axis=axis, include_initial=include_initial)

    return call


# The other NaN functions, numpy 2's running ops and rearrangements, differences and sums of
# samples, grids; the real part and conjugate of real tensors (tensors hold no complex numbers).
_FUNCTIONS.update({
    np.nanmax: ST.nanmax, np.nanmin: ST.nanmin,
    np.nanprod: _numpy_reduction(ST.nanprod, np.nanprod),
    np.nanvar: _numpy_spread(ST.nanvar, "nanvar"), np.nanstd: _numpy_spread(ST.nanstd, "nanstd"),
    np.nancumsum: _numpy_running(ST.nancumsum, np.nancumsum),
    np.nancumprod: _numpy_running(ST.nancumprod, np.nancumprod),
    np.nanmedian: Q.nanmedian, np.nanquantile: Q.nanquantile, np.nanpercentile: Q.nanpercentile,
    np.cumulative_sum: _numpy_cumulative(C.cumulative_sum, np.cumulative_sum),
    np.cumulative_prod: _numpy_cumulative(C.cumulative_prod, np.cumulative_prod),
    np.matrix_transpose: CO.matrix_transpose, np.unstack: CO.unstack, np.block: CO.block,
    np.broadcast_arrays: CO.broadcast_arrays, np.meshgrid: CO.meshgrid,
    np.trapezoid: DF.trapezoid, np.gradient: DF.gradient, np.ediff1d: DF.ediff1d,
    np.real: lambda val: val, np.imag: lambda val: _constant(np.zeros_like(_data(val))),
})
_UFUNCS.update({np.fabs: E.abs, np.conjugate: lambda x: x, np.signbit: _constant_of(np.signbit)})
# numpy has no erf: scipy's, when the caller uses scipy
_FOREIGN_UFUNCS.update({("scipy.special", "erf"): SP.erf, ("scipy.special", "erfc"): SP.erfc,
                        ("scipy.special", "erfinv"): SP.erfinv})


def _indices_of(func: Callable) -> Callable[..., Any]:
    """A numpy function whose result is indices, a count or a truth (np.argmax, np.any):
    computed on the data, it has no derivative, as a comparison has none. np.nonzero's tuple
    of index arrays stays a tuple."""
    def call(a: Any, *args: Any, **kwargs: Any) -> Any:
        result = func(_data(a), *args, **kwargs)
        return tuple(map(_constant, result)) if isinstance(result, tuple) else _constant(result)

    return call


for _func in (np.argmax, np.argmin, np.argsort, np.nonzero, np.count_nonzero, np.any, np.all):
    _FUNCTIONS[_func] = _indices_of(_func)


def _rounded(func: Callable) -> Callable[..., Tensor]:
    """np.round or np.around: piecewise constant, a constant as np.floor gives (``out=`` is
    refused by name, as for any function)."""
    return lambda a, decimals=0: _constant(func(_data(a), decimals))


_FUNCTIONS[np.round] = _rounded(np.round)
_FUNCTIONS[np.around] = _rounded(np.around)
_FUNCTIONS[np.fix] = lambda x: _constant(np.fix(_data(x)))


def _on_data(func: Callable) -> Callable[..., Any]:
    """A numpy query of values (np.allclose, np.isclose, np.array_equal): computed on the
    data of tensors that require grad too, as it has no derivative; a bool comes back as
    numpy gives it, an array of them as a constant tensor."""
    def call(a: Any, *args: Any, **kwargs: Any) -> Any:
        return _constants(func(*_values((a, *args)), **{k: _values(v) for k, v in
                                                          kwargs.items()}))

    return call


for _func in (np.allclose, np.isclose, np.array_equal, np.array_equiv):
    _FUNCTIONS[_func] = _on_data(_func)


# Indices, counts and truths of values (np.argwhere, np.unique, np.histogram): constants.
for _func in (np.argwhere, np.flatnonzero, np.lexsort, np.nanargmax, np.nanargmin, np.isreal,
              np.iscomplex, np.isneginf, np.isposinf, np.unique, np.unique_values,
              np.unique_counts, np.unique_inverse, np.unique_all, np.histogram_bin_edges):
    _FUNCTIONS[_func] = _on_data(_func)


def _counts(func: Callable) -> Callable[..., Any]:
    """np.bincount or np.histogram: counts, constants; their ``weights`` would make sums of
    them, whose gradient graphgrad has no op for: weights that require grad are refused."""
    def call(a: Any, *args: Any, **kwargs: Any) -> Any:
        weights = inspect.signature(func).bind(a, *args, **kwargs).arguments.get("weights")
        needing = _needing_grad(weights)
        if needing is not None and _state.grad_enabled:
            raise _unsupported(f"numpy.{func.__name__}(..., weights=...)", needing)
        if func is np.bincount and isinstance(a, Tensor) and a.dtype.kind == "f":
            a = normalize_index(a)  # a tensor of counts' indices, made from ints, holds floats
        return _on_data(func)(a, *args, **kwargs)

    return call


_FUNCTIONS[np.bincount] = _counts(np.bincount)
_FUNCTIONS[np.histogram] = _counts(np.histogram)


def _numpy_where(condition: Any, x: Any = None, y: Any = None) -> Any:
    """np.where(condition, x, y) as gg.where; np.where(condition) alone is np.nonzero's
    indices, constants."""
    if x is None and y is None:
        return _indices_of(np.nonzero)(condition)
    if x is None or y is None:
        raise ArgumentError("numpy.where takes a condition alone, or a condition, x and y; "
                            "give both x and y (numpy refuses one of them too)")
    return E.where(condition, x, y)


_FUNCTIONS[np.where] = _numpy_where


def dot(a: Any, b: Any) -> Tensor:
    """np.dot where it agrees with matmul (operands of 1 or 2 dimensions) or scales by a
    number; its sum-product over stacks of matrices has no graphgrad op."""
    ndims = (np.ndim(_data(a)), np.ndim(_data(b)))
    if 0 in ndims:
        return A.mul(a, b)
    if max(ndims) > 2:
        raise GraphgradTypeError(
            f"numpy.dot of arrays of {ndims[0]} and {ndims[1]} dimensions has no graphgrad "
            "op: use @ or gg.matmul for stacks of matrices (or np.dot on t.data for a constant)")
    return A.matmul(a, b)


_FUNCTIONS[np.dot] = dot


def einsum(*operands: Any, optimize: Any = False) -> Tensor:
    """np.einsum on Tensors: gg.einsum, which chooses its own order of contraction
    (``optimize`` is numpy's setting for it, and changes no value)."""
    return CT.einsum(*operands)


_FUNCTIONS[np.einsum] = einsum


# numpy's names for settings that graphgrad's counterpart calls otherwise.
_RENAMED.update({
    np.clip: {"a_min": "low", "a_max": "high", "min": "low", "max": "high"},
    np.var: {"correction": "ddof"},
    np.std: {"correction": "ddof"},
})
_RENAMED.update({np.nanvar: {"correction": "ddof"}, np.nanstd: {"correction": "ddof"}})
