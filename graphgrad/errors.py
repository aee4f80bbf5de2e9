"""The errors graphgrad raises, and how they name tensors.

Every graphgrad error subclasses :class:`GraphgradError` and, where it fits, the matching
built-in (``ValueError`` for shapes, ``TypeError`` for dtypes), so ``except ValueError`` keeps
working. Messages name the op, the operands (name, shape, dtype) and say what to do.
Depends on numpy only.
"""
from __future__ import annotations

import functools
import numbers
import operator
from collections.abc import Callable
from typing import Any

import numpy as np


class GraphgradError(Exception):
    """Base class of every error graphgrad raises."""


class ArgumentError(GraphgradError, ValueError):
    """An argument graphgrad cannot use (an empty name scope, an unknown option)."""


class OpError(GraphgradError, ValueError):
    """An op could not run on its inputs (shapes that don't fit, bad arguments)."""


class ShapeError(OpError):
    """A shape is wrong: a gradient of the wrong shape, or a broadcast `strict_shapes` forbids."""


class LinAlgError(OpError, np.linalg.LinAlgError):
    """A matrix a linear-algebra op cannot take: not square, singular (inv, solve), not
    positive definite (cholesky); or a gradient it has not: of eigenvectors (singular vectors)
    of a repeated value. Also numpy's ``np.linalg.LinAlgError``, as numpy raises."""


class GraphgradTypeError(GraphgradError, TypeError):
    """A value of the wrong type or dtype was given to graphgrad."""


class BackwardError(GraphgradError, RuntimeError):
    """Backpropagation cannot run: a freed graph, a non-scalar root without `grad`, ..."""


class AnomalyError(GraphgradError, FloatingPointError):
    """`detect_anomaly` found a NaN or Inf made by an op, in forward or in backward; or
    `optim.LBFGS` met a cost or gradient of NaN or Inf, which its steps cannot go on from."""


class InplaceError(GraphgradError, RuntimeError):
    """An array saved for backward was about to be modified in place."""


class ConventionWarning(UserWarning):
    """A setting read in the course's convention holds a value that reads as PyTorch's, which
    means the opposite (Dropout(0.2): PyTorch drops 20%, the course keeps 20%). Once the value
    is meant: ``warnings.filterwarnings("ignore", category=gg.ConventionWarning)``."""


def renamed(why: str, **new_names: str) -> Callable[[Callable], Callable]:
    """Refuse the former spelling of a keyword argument (``@renamed("...", pad="padding")``)
    with a `GraphgradTypeError`, a ``TypeError`` as Python's own for an unknown keyword, that
    names the spelling to write and ``why``; the signature (help, inspect) shows the new one.
    On a layer's ``__init__`` the error names the layer's class (MaxPool2d). Stacked on a
    function another `renamed` guards, it adds its spellings to that guard's, so a call is
    checked once."""
    def decorate(func: Callable) -> Callable:
        added = {old: (new, why) for old, new in new_names.items()}
        guarded = getattr(func, "_renamed_spellings", None)
        if guarded is not None:
            guarded.update(added)
            return func
        spellings = added

        @functools.wraps(func)
        def call(*args: Any, **kwargs: Any) -> Any:
            if kwargs and not spellings.keys().isdisjoint(kwargs):
                old = next(name for name in kwargs if name in spellings)
                new, reason = spellings[old]
                caller = type(args[0]).__name__ if func.__name__ == "__init__" else func.__name__
                raise GraphgradTypeError(
                    f"{caller}: the keyword is {new}=, not {old}= ({reason}): "
                    f"write {caller}(..., {new}={setting_text(kwargs[old])})")
            return func(*args, **kwargs)
        call._renamed_spellings = spellings  # type: ignore[attr-defined]
        return call
    return decorate


# PyTorch's spellings of numpy's axis and keepdims, refused naming graphgrad's
takes_axis = renamed("PyTorch's dim is numpy's axis, graphgrad's word", dim="axis")
takes_keepdims = renamed("numpy's spelling, graphgrad's", keepdim="keepdims")


def on_tensors(error: GraphgradError, reason: str) -> GraphgradError:
    """``error``, marked with ``reason``: what it means when a backward body that
    ``gg.grad(..., create_graph=True)`` runs on Tensors raised it. The engine then names the
    op and says ``reason`` in place of the error's own advice, which may be to take a
    tensor's values (``t.data``): the gradient's graph would go without them."""
    error.on_tensors = reason  # type: ignore[attr-defined]
    return error


def whole_number(value: Any, what: str, caller: str, least: int = 1) -> int:
    """A count or size setting (a layer size, a stride, a batch size) as an int, or an
    `ArgumentError` saying what it must be: ints and numpy ints pass, 2.5, 64.0, True and
    "64" do not."""
    try:
        number = operator.index(value)
    except TypeError:
        number = None
    if number is None or isinstance(value, (bool, np.bool_)) or number < least:
        raise ArgumentError(f"{caller}: {what} must be a whole number of at least {least}, "
                            f"got {setting_text(value)}")
    return number


def integer(value: Any, what: str, caller: str) -> int:
    """An int setting that may be negative (a token index, a padding value), or an
    `ArgumentError`: ints and numpy ints pass, 2.0, True, None and "0" do not."""
    try:
        if not isinstance(value, (bool, np.bool_)):
            return operator.index(value)
    except TypeError:
        pass
    raise ArgumentError(f"{caller}: {what} must be an integer, got {setting_text(value)}")


def real_number(value: Any, what: str, caller: str, test: Any, rule: str) -> float:
    """A real-valued setting (a rate, a probability) as a float, or an `ArgumentError` saying
    it must be ``rule``, the words for ``test``. NaN fails every test; strings and bools are
    refused rather than read as numbers."""
    try:
        number = None if isinstance(value, (str, bytes, bool, np.bool_)) else float(value)
    except (TypeError, ValueError):
        number = None
    if number is None or not test(number):
        raise ArgumentError(f"{caller}: {what} must be {rule}, got {setting_text(value)}")
    return number


def flag(value: Any, what: str, caller: str) -> bool:
    """An on/off setting (``bias``, ``shuffle``, ``keepdims``) as a bool, or an `ArgumentError`
    naming it: True, False and numpy's bools pass; 0, 1, "yes", None and NaN do not, as
    PyTorch refuses them for such flags, since Python would read any of them as one of the
    two (a seed given in ``shuffle``'s place would turn shuffling on)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ArgumentError(f"{caller}: {what} must be True or False, got {setting_text(value)}")


def refuse_inplace(inplace: Any, caller: str) -> None:
    """PyTorch's ``inplace`` flag of a function (``F.relu(x, inplace=True)``): False passes;
    True is an `ArgumentError`, as graphgrad's tensors never change: x would keep its values
    where PyTorch's changes, silently wrong for code that goes on using x. A layer's flag
    (``nn.ReLU(inplace=True)``) is taken, as its output is what flows on."""
    if inplace is not False and flag(inplace, "inplace", caller):
        raise ArgumentError(
            f"{caller}(x, inplace=True): graphgrad's tensors never change in place, so x would "
            f"keep its values where PyTorch's changes; write x = {caller}(x), which gives the "
            "values and gradients PyTorch's does")


def real_values(value: Any, what: str, caller: str, bools: bool = False) -> Any:
    """A setting of real numbers (a bound, a fill value): a number or an array of numbers,
    returned as given, or a `GraphgradTypeError` naming it. Text, None, complex numbers and
    (unless ``bools``, for a mask's fill) True and False are refused, where numpy would read
    "3" as 3, None as NaN, drop an imaginary part, or take True as 1."""
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        return value
    try:
        kind = np.asarray(value).dtype.kind
    except (TypeError, ValueError):  # a ragged list
        kind = None
    if kind is not None and kind in ("biuf" if bools else "iuf"):
        return value
    mask = " (or True/False for a bool tensor)" if bools else ""
    raise GraphgradTypeError(f"{caller}: {what} must be a real number or an array of them"
                             f"{mask}, got {setting_text(value)}")


def seed_value(value: Any, caller: str, what: str = "seed", numpy_seeds: bool = True) -> Any:
    """A seed setting as ``np.random.default_rng`` takes it: None (fresh randomness), a whole
    number >= 0, or (with ``numpy_seeds``) numbers such as ``(seed, epoch)`` or numpy's own
    SeedSequence, BitGenerator or Generator; anything else (2.5, True, -1, "0") is an
    `ArgumentError` naming ``caller``, where numpy would fail deep inside it."""
    if value is None or numpy_seeds and isinstance(
            value, (np.random.SeedSequence, np.random.BitGenerator, np.random.Generator)):
        return value
    several = numpy_seeds and isinstance(value, (tuple, list)) and len(value) > 0
    try:
        if several:
            return tuple(whole_number(v, what, caller, least=0) for v in value)
        return whole_number(value, what, caller, least=0)
    except ArgumentError:
        kinds = ", a whole number >= 0 or a tuple of them" if numpy_seeds else (
            " or a whole number >= 0")
        raise ArgumentError(f"{caller}: {what} must be None{kinds}, got "
                            f"{setting_text(value)}") from None


def float_dtype(dtype: Any, what: str) -> np.dtype:
    """``dtype`` if it is float64 or float32, else a `GraphgradTypeError` naming ``what`` (a
    layer): parameters learn by small float steps, which integers would round away."""
    try:
        kind = np.dtype(dtype)
    except TypeError:
        kind = None
    if kind not in (np.float64, np.float32):
        given = getattr(dtype, "__name__", dtype)
        raise GraphgradTypeError(f"{what}: dtype must be np.float64 or np.float32, got {given!r}")
    return kind


def not_a_state_error(caller: str, state: Any, owner: str) -> GraphgradTypeError:
    """The error of a ``load_state_dict`` given something other than a dict of arrays: a
    path, the ``owner`` (a model, an optimizer) itself, or anything else."""
    if isinstance(state, (str, bytes)) or hasattr(state, "__fspath__"):
        hint = "read the file with gg.load(path) first"
    elif hasattr(state, "state_dict"):
        hint = f"pass other_{owner}.state_dict()"
    else:
        hint = "pass a dict of arrays, as state_dict() or gg.load(path) give"
    return GraphgradTypeError(f"{caller} takes a dict of arrays by name, got "
                              f"{type(state).__name__}: {hint}.")


def listed(value: Any, caller: str, what: str = "a list of tensors (model.parameters())") -> list:
    """``value`` (any iterable) as a list, or a `GraphgradTypeError` saying ``caller`` takes
    ``what`` when it is no iterable at all (None, a number)."""
    try:
        return list(value)
    except TypeError:
        raise GraphgradTypeError(f"{caller} takes {what}, got {setting_text(value)}") from None


def shape_of(value: Any) -> tuple[int, ...]:
    """The shape of a Tensor, an array, a number or a nested list."""
    data = value if isinstance(value, np.ndarray) else getattr(value, "data", value)
    return np.shape(data)


def array_of(value: Any, what: str, caller: str) -> np.ndarray:
    """``value`` (a Tensor's data, an array, a number, nested lists) as an array, or a
    `GraphgradTypeError` naming ``what`` when numpy cannot make one: a ragged list, as
    sentences of different lengths give."""
    data = value if isinstance(value, np.ndarray) else getattr(value, "data", value)
    try:
        return np.asarray(data)
    except (TypeError, ValueError) as exc:
        raise GraphgradTypeError(
            f"{caller}: {what} cannot be made into an array ({str(exc).rstrip('.')}). Give a "
            "numpy array, or nested lists with the same length at each level (pad the "
            "sentences of a batch to one length)."
        ) from None


def array_of_numbers(value: Any, what: str, caller: str) -> np.ndarray:
    """`array_of` ``value``, refusing with a `GraphgradTypeError` an array that holds no numbers
    (strings, complex numbers, Python objects such as None), which numpy would fail on later
    with no name: an array is named by its dtype and shape, anything else by its value."""
    array = array_of(value, what, caller)
    if array.dtype.kind in "biuf":
        return array
    held = (f"{array.dtype} values of shape {array.shape}" if array.ndim and array.dtype.kind != "O"
            else setting_text(value))
    raise GraphgradTypeError(f"{caller}: {what} must hold numbers, got {held}")


def numbers_and_shown(value: Any, what: str, caller: str) -> tuple[np.ndarray, Any]:
    """`array_of_numbers` of ``value``, and what messages `describe` it by: a tensor or an
    array as itself (a tensor by its name), a list or a number by its array."""
    array = array_of_numbers(value, what, caller)
    own = value is array or getattr(value, "data", None) is array
    return array, value if own else array


def require_shape(caller: str, name: str, value: Any, expected: tuple[int | str, ...],
                  tip: str = "") -> None:
    """Raise a `ShapeError` unless ``value`` has shape ``expected``, whose strings (``"m"``,
    ``"T_x"``) match any size: ``require_shape("RNN", "X", X, ("m", "T_x", 3))``."""
    shape = np.shape(array_of(value, name, caller))
    if len(shape) == len(expected) and all(
            isinstance(e, str) or e == s for e, s in zip(expected, shape)):
        return
    wanted = "(" + ", ".join(str(e) for e in expected) + ("," if len(expected) == 1 else "") + ")"
    if not tip and isinstance(expected[0], str) and len(shape) == len(expected) - 1 and all(
            isinstance(e, str) or e == s for e, s in zip(expected[1:], shape)):
        # one example without the batch axis, which the layer needs even for a batch of one
        tip = f" ({name}[None], if {name} is one example of shape {shape})"
    raise ShapeError(f"{caller} takes {name} of shape {wanted}; got {describe(value)}{tip}")


def setting_text(value: Any) -> str:
    """A setting's value in an error message: an array by its dtype and shape, a tensor by
    `describe`, not their values; anything else by its repr, or its type if that is long."""
    if isinstance(value, np.ndarray) and value.ndim > 0:
        return f"<{value.dtype} array {value.shape}>"
    if hasattr(value, "requires_grad") and hasattr(value, "data"):  # a Tensor
        return describe(value)
    text = repr(value)
    return text if len(text) <= 60 else f"a {type(value).__name__}"


def describe(tensor: Any) -> str:
    """One phrase naming a tensor for error messages: ``'W1' (4, 3) float64``."""
    # An ndarray's own .data is its memory buffer: only a Tensor's .data is the array.
    data = tensor if isinstance(tensor, np.ndarray) else getattr(tensor, "data", tensor)
    shape = getattr(data, "shape", ())
    dtype = getattr(data, "dtype", type(data).__name__)
    name = getattr(tensor, "name", None)
    creator = getattr(tensor, "creator", None)
    if name:
        label = repr(name)
    elif creator is not None:
        label = f"output of {type(creator).__name__}"
    elif hasattr(tensor, "requires_grad"):
        label = "unnamed tensor"
    else:
        label = type(tensor).__name__
    return f"{label} {tuple(shape)} {dtype}"


def pytorch_order_error(caller: str, problem: str, pytorch: str, course: str | None,
                        call: str, advice: str = "write", note: str = "") -> ArgumentError:
    """The `ArgumentError` for a layer called in PyTorch's positional order where the course's
    differs, so that one of PyTorch's settings landed in another parameter: ``problem``, what
    went wrong in the course's reading ("init must be an initialiser, got 0"); ``pytorch``
    and ``course``, the two orders (the arguments inside the parentheses; ``course`` None when
    the orders agree up to the misplaced one); ``call``, the call that does what was meant,
    introduced by ``advice``; ``note``, a last word in parentheses. One wording for every
    layer: ``Conv1d: init must be an initialiser, got 2: PyTorch's order is Conv1d(...), the
    course's Conv1d(...); write Conv1d(4, 8, 3, 1, 1, dilation=2)``."""
    orders = f"PyTorch's order is {caller}({pytorch})"
    if course is not None:
        orders += f", the course's {caller}({course})"
    tail = f" ({note})" if note else ""
    return ArgumentError(f"{caller}: {problem}: {orders}; {advice} {call}{tail}")
