"""numpy calls on Tensors: ``np.exp(t)``, ``ndarray * t``, ``np.sum(t, axis=0)`` run graphgrad ops.

Tensors implement numpy's dispatch protocols (``__array_ufunc__``, ``__array_function__``), so
a numpy function given a Tensor returns a Tensor on the graph. This is also what lets the
numpy-written backward bodies of the ops run on Tensors for second derivatives. Functions
without a graphgrad counterpart raise a `GraphgradTypeError` (a TypeError) naming the function.
What does not dispatch (``ndarray.dot``, a list of tensors) reads ``__array__``, which refuses
a tensor that requires grad while ops are recorded, rather than cut its gradient silently.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from graphgrad import ops as _ops  # noqa: F401  (the submodules below register the ops)
from graphgrad.errors import GraphgradTypeError
from graphgrad.ops import arithmetic as A
from graphgrad.ops import elementwise as E
from graphgrad.ops import reductions as R
from graphgrad.ops import shape as S
from graphgrad.ops import softmax as SM
from graphgrad.tensor import Tensor, _constant, _data


def _constant_of(ufunc: np.ufunc) -> Callable[..., Tensor]:
    """A ufunc with no derivative (comparisons, sign): computed on the data, no graph."""
    return lambda *args: _constant(ufunc(*[_data(a) for a in args]))


_UFUNCS: dict[np.ufunc, Callable[..., Tensor]] = {
    np.add: A.add,
    np.subtract: A.sub,
    np.multiply: A.mul,
    np.true_divide: A.div,
    np.negative: A.neg,
    np.power: A.pow,
    np.matmul: A.matmul,
    np.exp: E.exp,
    np.log: E.log,
    np.sqrt: E.sqrt,
    np.absolute: E.abs,
    np.sin: E.sin,
    np.cos: E.cos,
    np.tanh: E.tanh,
    np.maximum: E.maximum,
    np.minimum: E.minimum,
    np.positive: lambda x: x,
    np.square: lambda x: A.mul(x, x),
}
for _ufunc in (np.sign, np.greater, np.greater_equal, np.less, np.less_equal, np.equal,
               np.not_equal, np.isfinite, np.isnan, np.isinf, np.logical_not, np.logical_and,
               np.logical_or):
    _UFUNCS[_ufunc] = _constant_of(_ufunc)


def _like(fill: Callable[..., np.ndarray]) -> Callable[..., Tensor]:
    return lambda a, dtype=None, **kwargs: _constant(fill(_data(a), dtype=dtype, **kwargs))


def _numpy_reduction(reduce: Callable[..., Tensor], name: str, takes_dtype: bool
                     ) -> Callable[..., Tensor]:
    """A reduction read in numpy's own argument order: np.sum(a, axis, dtype, out, keepdims,
    initial, where) and np.mean alike, np.max(a, axis, out, keepdims, initial, where) and
    np.min alike. graphgrad's take (x, axis, keepdims), so numpy's third argument must not
    reach keepdims. (numpy has already checked the arguments against its signature.)"""
    positions = ("dtype", "out", "keepdims", "initial", "where")[0 if takes_dtype else 1:]

    def call(a: Any, axis: Any = None, *settings: Any, **named: Any) -> Tensor:
        given = dict(zip(positions, settings), **named)
        keepdims = bool(given.pop("keepdims", False))
        dtype = given.pop("dtype", None)
        unsupported = [key for key, value in given.items() if value is not None]
        if unsupported:
            raise _unsupported(f"numpy.{name}(..., {'=..., '.join(unsupported)}=...)")
        if dtype is not None:  # numpy sums in that dtype, and returns it
            a = S.astype(a, dtype)
        return reduce(a, axis=axis, keepdims=keepdims)

    return call


_FUNCTIONS: dict[Callable, Callable[..., Any]] = {
    np.sum: _numpy_reduction(R.sum, "sum", takes_dtype=True),
    np.mean: _numpy_reduction(R.mean, "mean", takes_dtype=True),
    np.max: _numpy_reduction(R.max, "max", takes_dtype=False),
    np.min: _numpy_reduction(R.min, "min", takes_dtype=False),
    np.amax: _numpy_reduction(R.max, "amax", takes_dtype=False),
    np.amin: _numpy_reduction(R.min, "amin", takes_dtype=False),
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
    np.clip: E.clip,
    np.where: E.where,
    np.zeros_like: _like(np.zeros_like),
    np.ones_like: _like(np.ones_like),
    np.shape: lambda a: np.shape(_data(a)),
    np.ndim: lambda a: np.ndim(_data(a)),
    np.size: lambda a, axis=None: np.size(_data(a), axis),
}
_FUNCTIONS[SM.logsumexp] = SM.logsumexp


def _dot(a: Any, b: Any) -> Tensor:
    """np.dot where it agrees with matmul (operands of 1 or 2 dimensions) or scales by a
    number; its sum-product over stacks of matrices has no graphgrad op."""
    ndims = (np.ndim(_data(a)), np.ndim(_data(b)))
    if 0 in ndims:
        return A.mul(a, b)
    if max(ndims) > 2:
        raise _unsupported(f"numpy.dot of arrays of {ndims[0]} and {ndims[1]} dimensions "
                           "(use @ or gg.matmul for stacks of matrices)")
    return A.matmul(a, b)


_FUNCTIONS[np.dot] = _dot


def _unsupported(what: str) -> GraphgradTypeError:
    return GraphgradTypeError(
        f"{what} has no graphgrad op, so it cannot run on a Tensor and be differentiated. "
        "Call it on t.data for a constant (no gradient flows through it), or write it as a "
        "gg.Function with its forward and backward."
    )


def array_ufunc(ufunc: np.ufunc, method: str, inputs: tuple, kwargs: dict) -> Any:
    handler = _UFUNCS.get(ufunc)
    if method != "__call__" or handler is None or kwargs:
        what = f"numpy.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
        if kwargs:
            what += "(..., " + ", ".join(f"{k}=..." for k in kwargs) + ")"
        raise _unsupported(what)
    return handler(*inputs)


def array_function(func: Callable, args: tuple, kwargs: dict) -> Any:
    handler = _FUNCTIONS.get(func)
    if handler is None:
        raise _unsupported(f"{func.__module__}.{func.__name__}")
    try:
        return handler(*args, **kwargs)
    except TypeError as exc:
        if isinstance(exc, GraphgradTypeError):
            raise
        # A keyword or form of the numpy function that graphgrad's counterpart lacks.
        keywords = "".join(f", {k}=..." for k in kwargs)
        raise _unsupported(f"numpy.{func.__name__}(...{keywords}) in this form ({exc})") from None
