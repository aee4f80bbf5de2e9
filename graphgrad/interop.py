"""numpy calls on Tensors: ``np.exp(t)``, ``ndarray * t``, ``np.sum(t, axis=0)`` run graphgrad ops.

Tensors implement numpy's dispatch protocols (``__array_ufunc__``, ``__array_function__``), so
a numpy function given a Tensor returns a Tensor on the graph. This is also what lets the
numpy-written backward bodies of the ops run on Tensors for second derivatives. Arguments are
read as numpy reads them, by position or by numpy's names. Functions that find indices, counts or
truths (np.argmax, np.nonzero, np.any), piecewise-constant ones (np.floor, np.round, np.sign)
and comparisons of values (np.isclose) give constant tensors, on tensors that require grad too;
np.allclose and np.array_equal give numpy's bool. Functions without a graphgrad
counterpart, and settings it has no form of (``out=``), run on the values of tensors that
need no grad (``np.linalg.eigvals(t)``, as on a PyTorch tensor), giving constants; given a tensor
that requires grad while ops are recorded, they raise a `GraphgradTypeError` (a TypeError)
naming them, where the gradient would be cut without a word.
What does not dispatch (``ndarray.dot``, a list of tensors) reads ``__array__``, which refuses
a tensor that requires grad while ops are recorded, rather than cut its gradient silently; so
does ``float(t)``, through which numpy stores a tensor in one element of an array (``Z[i] = t``).

This module is the protocol: how a call is read and dispatched, and what happens to a call
without a graphgrad op. Which graphgrad function each numpy function and ufunc runs is
`numpy_functions`, which fills the tables here (`_UFUNCS`, `_FUNCTIONS`, `_RENAMED`, and
`_FOREIGN_UFUNCS`: scipy.special's erf, erfc and erfinv run gg's) when it is imported,
as `tensor` does. Depends on `tensor`, `modes`, `errors`.
"""
from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from graphgrad.errors import GraphgradError, GraphgradTypeError, describe, on_tensors
from graphgrad.modes import _state
from graphgrad.tensor import Tensor, _constant

# What runs for each numpy ufunc and function called on a Tensor, and numpy's names for the
# settings that graphgrad's counterpart calls otherwise: filled by `numpy_functions`.
_UFUNCS: dict[np.ufunc, Callable[..., Any]] = {}
_FUNCTIONS: dict[Callable, Callable[..., Any]] = {}
_RENAMED: dict[Callable, dict[str, str]] = {}
# Other libraries' ufuncs graphgrad has an op for (scipy.special.erf: numpy has no erf), by
# module and name: looked up on a call numpy's table misses, in the module only if the caller
# imported it (graphgrad never imports scipy), then kept in `_UFUNCS`.
_FOREIGN_UFUNCS: dict[tuple[str, str], Callable[..., Any]] = {}




class _NoForm(Exception):
    """A numpy call graphgrad has no op or setting for: ``what`` names it."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def _unsupported(what: str, tensor: Tensor) -> GraphgradError:
    return on_tensors(GraphgradTypeError(
        f"{what} has no graphgrad op, so it cannot run on {describe(tensor)}, which requires "
        "grad, and be differentiated. Call it on t.data for a constant (no gradient flows "
        "through it), or write it as a gg.Function with its forward and backward."
    ), f"{what} has no graphgrad op")


def _values(value: Any) -> Any:
    """``value`` with each Tensor in it (or in a list or tuple of it) replaced by a read-only
    view of its data: a numpy function that writes into an argument (np.copyto, np.put,
    np.fill_diagonal, ufunc.at) fails on it rather than change values a graph may have saved,
    and a view it returns (np.atleast_2d) cannot change the tensor either."""
    if isinstance(value, Tensor):
        view = value.data.view()
        view.setflags(False)  # write=False
        return view
    if isinstance(value, (list, tuple)):
        return type(value)(_values(v) for v in value)
    return value


def _read_only_array(value: Any) -> bool:
    """Whether ``value`` is (or a list or tuple of it holds) an ndarray of the caller's own
    that is read-only: numpy's refusal to write into it is then numpy's to give."""
    if isinstance(value, np.ndarray):
        return not value.flags.writeable
    if isinstance(value, (list, tuple)):
        return any(map(_read_only_array, value))
    return False


def _write_refused(what: str) -> GraphgradError:
    return on_tensors(GraphgradTypeError(
        f"{what} would write into a Tensor's data, which graphgrad never changes in place (a "
        "graph may have saved it for backward): take the result instead (y = np.log1p(x), not "
        "np.log1p(x, out=x)), build a new tensor (gg.where(mask, value, t)), or give a leaf "
        "new values with t.data = new_array"
    ), f"{what} writes into a Tensor, and a Tensor never changes")


def _needing_grad(value: Any) -> Tensor | None:
    """The first Tensor in ``value`` (or in a list or tuple of it) that requires grad."""
    if isinstance(value, Tensor):
        return value if value.requires_grad else None
    if isinstance(value, (list, tuple)):
        return next((t for t in map(_needing_grad, value) if t is not None), None)
    return None


def _on_values(call: Callable, what: str, args: tuple, kwargs: dict) -> Any:
    """A numpy call without a graphgrad form, run on the tensors' values when none of them
    requires grad while ops are recorded (a gradient through it would be cut without a word):
    arrays and numpy numbers come back as constant tensors, anything else (np.allclose's
    bool) as numpy gives it. Never writes into a tensor (``out=``, np.copyto, ufunc.at)."""
    if _state.grad_enabled:
        needing = _needing_grad((*args, *kwargs.values()))
        if needing is not None:
            raise _unsupported(what, needing)
    out = kwargs.get("out")
    if any(isinstance(o, Tensor) for o in (out if isinstance(out, tuple) else (out,))) or (
            # ufunc.at writes into a 1-D read-only array all the same (numpy 2.4)
            what.endswith(".at") and isinstance(args[0], Tensor)):
        raise _write_refused(what)
    try:
        result = call(*_values(args), **{k: _values(v) for k, v in kwargs.items()})
    except ValueError as exc:  # numpy's words for a write into a read-only array
        if "read-only" not in str(exc) or _read_only_array((*args, *kwargs.values())):
            raise
        raise _write_refused(what) from None
    return _constants(result)


def _constants(result: Any) -> Any:
    if isinstance(result, (np.ndarray, np.generic)) and result.dtype.kind in "biufc":
        return _constant(np.asarray(result))
    if isinstance(result, tuple):  # a named tuple (np.linalg.svd's) keeps its names
        parts = [_constants(r) for r in result]
        return type(result)(*parts) if hasattr(result, "_fields") else tuple(parts)
    return result


def _written_into_array(what: str, tensor: Tensor) -> GraphgradError:
    return on_tensors(GraphgradTypeError(
        f"{what} writes the values of {describe(tensor)}, which requires grad, into a numpy "
        "array (a += t with a an array): the array keeps numbers, not their gradient. Write "
        "a = a + t, which makes a new tensor (a may start as 0 or np.zeros(...)), or take "
        "the values on purpose: t.data, or under gg.no_grad()."
    ), f"{what} writes a Tensor's values into an array")


def _foreign_ufunc(ufunc: np.ufunc) -> Callable[..., Any] | None:
    """The graphgrad op of another library's ufunc (`_FOREIGN_UFUNCS`), or None."""
    for (module, name), handler in _FOREIGN_UFUNCS.items():
        if name == ufunc.__name__ and getattr(sys.modules.get(module), name, None) is ufunc:
            _UFUNCS[ufunc] = handler
            return handler
    return None


def array_ufunc(ufunc: np.ufunc, method: str, inputs: tuple, kwargs: dict) -> Any:
    handler = _UFUNCS.get(ufunc)
    if handler is None:
        handler = _foreign_ufunc(ufunc)
    if method != "__call__" or handler is None or kwargs:
        # numpy's by its name; another library's (scipy.special's) by its own
        name = (f"numpy.{ufunc.__name__}" if getattr(np, ufunc.__name__, None) is ufunc
                else f"the ufunc {ufunc.__name__}")
        what = name + ("" if method == "__call__" else f".{method}")
        if kwargs:
            what += "(..., " + ", ".join(f"{k}=..." for k in kwargs) + ")"
        # avg += t with avg an array (Emojify's sentence_to_avg): an op graphgrad has, whose
        # result numpy would write into the array, where no gradient can follow it.
        out = kwargs.get("out")
        if (handler is not None and method == "__call__" and _state.grad_enabled
                and isinstance(out, tuple) and all(isinstance(o, np.ndarray) for o in out)):
            needing = _needing_grad(inputs)
            if needing is not None:
                raise _written_into_array(what, needing)
        return _on_values(getattr(ufunc, method), what, inputs, kwargs)
    return handler(*inputs)



# numpy's signatures of its functions written in C, which numpy before 2.4 does not give
# inspect (it raises "no signature found for builtin").
def _concatenate(arrays, /, axis=0, out=None, *, dtype=None, casting="same_kind"): ...
def _where(condition, x=None, y=None, /): ...
def _dot(a, b, out=None): ...


_C_FORMS: dict[Callable, Callable] = {np.concatenate: _concatenate, np.where: _where,
                                      np.dot: _dot}
_C_FORMS[np.vdot] = lambda a, b, /: None


def _numpy_signature(func: Callable) -> inspect.Signature:
    try:
        return inspect.signature(func)
    except ValueError:
        if func not in _C_FORMS:
            raise
        return inspect.signature(_C_FORMS[func])


@functools.cache
def _forms(func: Callable, handler: Callable) -> tuple[inspect.Signature, frozenset | None, int]:
    """numpy's signature of ``func``; the keywords graphgrad's ``handler`` takes (None: any);
    and how many leading positions the two read alike (the array, then the same names)."""
    numpy_form = _numpy_signature(func)
    parameters = list(inspect.signature(handler).parameters.values())
    renamed = _RENAMED.get(func, {})
    aligned = 1
    for ours, theirs in zip(parameters[1:], list(numpy_form.parameters)[1:]):
        if ours.kind is ours.VAR_POSITIONAL or ours.name != renamed.get(theirs, theirs):
            break
        aligned += 1
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return numpy_form, None, aligned
    return numpy_form, frozenset(p.name for p in parameters[1:]), aligned


def _graphgrad_call(func: Callable, handler: Callable, args: tuple, kwargs: dict
                    ) -> tuple[tuple | list, dict]:
    """The arguments of a numpy call as numpy reads them (by position or by its names),
    given to graphgrad's counterpart: the array and positional-only ones by position, the
    settings by graphgrad's names. A setting given as numpy's default is left out; one that
    graphgrad has no form of is refused by name."""
    numpy_form, accepted, aligned = _forms(func, handler)
    if len(args) <= aligned and (not kwargs or accepted is not None and kwargs.keys() <= accepted
                                 and func not in _RENAMED):
        return args, kwargs  # read alike: the common np.sum(t, axis=0)
    renamed = _RENAMED.get(func, {})
    positional: list = []
    named: dict = {}
    refused = []
    for i, (name, value) in enumerate(numpy_form.bind(*args, **kwargs).arguments.items()):
        parameter = numpy_form.parameters[name]
        if parameter.kind is parameter.VAR_POSITIONAL:  # np.einsum(subscripts, *operands)
            positional.extend(value)
            continue
        if i == 0 or parameter.kind is parameter.POSITIONAL_ONLY:
            positional.append(value)
            continue
        settings = value if parameter.kind is parameter.VAR_KEYWORD else {name: value}
        for key, setting in settings.items():
            if setting is parameter.default:
                continue
            key = renamed.get(key, key)
            if key in named:  # np.clip(t, a_min=0, min=0): numpy refuses it too
                raise GraphgradTypeError(f"numpy.{func.__name__}: {key} is given twice")
            if accepted is None or key in accepted:
                named[key] = setting
            else:
                refused.append(key)
    if refused:
        raise _NoForm(f"numpy.{func.__name__}(..., {'=..., '.join(refused)}=...)")
    return positional, named


def array_function(func: Callable, args: tuple, kwargs: dict) -> Any:
    handler = _FUNCTIONS.get(func)
    if handler is None:
        return _on_values(func, f"{func.__module__}.{func.__name__}", args, kwargs)
    try:
        positional, named = _graphgrad_call(func, handler, args, kwargs)
        return handler(*positional, **named)
    except _NoForm as missing:
        return _on_values(func, missing.what, args, kwargs)
    except TypeError as exc:
        if isinstance(exc, GraphgradTypeError):
            raise
        # A form of the numpy function that graphgrad's counterpart lacks (np.where(c)).
        keywords = "".join(f", {k}=..." for k in kwargs)
        return _on_values(func, f"numpy.{func.__name__}(...{keywords}) in this form ({exc})",
                          args, kwargs)
