"""Gradient checkpointing: ``gg.checkpoint(fn, *args)`` trades compute for memory.

``y = gg.checkpoint(block, X)`` computes ``block(X)`` without recording its graph (as under
`no_grad`), so none of the block's intermediate values (its Z, its A) is kept between forward
and backward: the graph holds one node, `Checkpoint`, whose inputs are the tensors given and
the parameters ``block`` holds. Its backward runs ``block`` again, with grad enabled, on
copies of those tensors cut from the graph, and differentiates that (`engine.grad`): each
input and parameter gets exactly the gradient it would have had without the checkpoint.

The node's inputs are known when it is made, so the parameters ``fn`` uses must be found
then (`_reached`): those of a `Module` ``fn`` is, or whose method it is, and of the modules
and leaf tensors ``fn`` reaches through its closure, its default values, the globals its
code names, a `functools.partial`'s arguments, or the arguments given. A tensor that
requires grad and is none of those (a class attribute, a tensor deep inside other objects)
is found when backward runs ``fn`` again, and refused by name: pass it as an argument. When
none of the tensors found requires grad, ``fn`` runs as it is, its graph recorded as usual.

Running ``fn`` again must compute what it computed the first time. With
``preserve_rng_state=True`` the random generators it may draw from are set back to their
state of the first run, and then put forward again to where they are: graphgrad's default
generator (`nn.init.generator`, which `Dropout` uses without one of its own), numpy's global
one (``np.random.rand``), and every ``np.random.Generator`` held by a module or reached as
above (``Dropout(rng=0)``'s ``self.rng``). Every module reached runs in the mode
(``training``) it had in forward, and the buffers of each (BatchNorm's running statistics)
are put back after the second run, so they are updated once per forward, as without the
checkpoint. Depends on `function`, `engine`, `modes`, `tensor`, `errors`, `nn.module`,
`nn.init`.
"""
from __future__ import annotations

import contextlib
import functools
import types
from collections.abc import Callable, Iterator
from types import MappingProxyType
from typing import Any

import numpy as np

from graphgrad import engine
from graphgrad.errors import BackwardError, GraphgradTypeError, describe
from graphgrad.function import Function, _next_sequence
from graphgrad.modes import _state, enable_grad, no_grad
from graphgrad.nn import init as initializers
from graphgrad.nn.module import Module
from graphgrad.tensor import Tensor

__all__ = ["checkpoint"]

_NO_ATTRS = MappingProxyType({})
# How far `_reached` follows plain functions from fn: fn's own closure and globals, and the
# helpers those name, not the whole program; plain objects (a ``self`` in a closure) only
# near fn; lists, tuples and dicts of at most so many entries (layers, not data).
_FUNCTION_DEPTH = 3
_OBJECT_DEPTH = 1
_MOST_ENTRIES = 1000
# What `_reached` never looks into: values that hold no parameter and no generator.
_NOTHING_INSIDE = (str, bytes, int, float, complex, np.ndarray, np.generic, type,
                   types.ModuleType, types.BuiltinFunctionType, type(None))


def checkpoint(fn: Callable[..., Any], *args: Any, preserve_rng_state: bool = True,
               **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, without keeping fn's intermediate values for backward:
    backward runs fn again to differentiate it (PyTorch's
    ``torch.utils.checkpoint.checkpoint``).

    Args:
        fn: what to compute: a `Module` (a block of layers), a method of one, or a function.
            It must return a Tensor or a tuple of Tensors, and compute the same from the same
            inputs when run again.
        args: fn's positional arguments; the Tensors among them (and among ``kwargs``) are
            the node's inputs. Other values (numbers, arrays, modules) are passed as they are.
        preserve_rng_state: run fn again with the random generators it draws from as they
            were the first time (graphgrad's default generator, numpy's global one, and those
            of the modules it holds), so dropout drops the same units. False skips saving
            their states, for an fn that draws nothing.
        kwargs: fn's keyword arguments.

    Returns:
        what fn returns, a Tensor or a tuple of Tensors: one node of the graph, drawn as
        ``Checkpoint(name of fn)``.

    The gradients of the inputs and of the parameters fn uses (a module's W, b) are those
    without the checkpoint. Parameters must be reachable from fn when it is called (see the
    docstring of graphgrad.checkpointing); one fn uses in another way is refused in
    backward, by name. Under `no_grad`, or when no input or parameter requires grad, this is
    ``fn(*args, **kwargs)``. ``gg.grad`` works through a checkpoint; ``create_graph=True`` (a
    second derivative through it) is refused, as PyTorch's reentrant checkpoint refuses it.
    Memory: a network of L blocks, each checkpointed, keeps the blocks' outputs only, and one
    block's values at a time in backward. Run again, fn also sets again what it sets on its
    modules (``Dropout.D``, to the same mask), but leaves their buffers as the first run did.
    """
    if not callable(fn):
        raise GraphgradTypeError(
            f"gg.checkpoint: fn must be the function (or module) to run, got "
            f"{type(fn).__name__}; call it as gg.checkpoint(block, X)")
    if not isinstance(preserve_rng_state, bool):
        raise GraphgradTypeError(
            f"gg.checkpoint: preserve_rng_state must be True or False, got {preserve_rng_state!r}")
    if not _state.grad_enabled:
        return fn(*args, **kwargs)
    call = _Call(fn, args, kwargs, preserve_rng_state)
    if not any(t.requires_grad for t in call.inputs):
        # Nothing checkpoint knows of needs a gradient: fn as it is, recording what it records
        # (a tensor it reaches in a way `_reached` does not see still gets its gradient).
        return fn(*args, **kwargs)
    return Checkpoint.apply(*call.inputs, call=call)


class Checkpoint(Function):
    """outputs = fn(*inputs), none of fn's intermediate values kept;
    d(inputs) = backward of fn run again on the inputs.

    inputs: the tensors given to `checkpoint` (in order), then the parameters that fn holds
    and that require grad. Drawn as ``Checkpoint(fn's name)``.
    """

    # The call (fn and its arguments) is no setting to draw or to print: the node's name says
    # what ran. `apply` stores its keyword arguments as attrs; here they are not kept.
    attrs = property(lambda self: _NO_ATTRS, lambda self, value: None)

    @property
    def name(self) -> str:
        """``Checkpoint(fn's name)``: the block's name in pictures and error messages."""
        call = self.__dict__.get("_call")
        return f"Checkpoint({call.label})" if call is not None else "Checkpoint"

    @staticmethod
    def forward(ctx, *inputs, call):
        ctx._call = call
        ctx.save_for_backward(*inputs)  # keeps the leaves' arrays unchanged until backward
        call.remember_state()
        with no_grad():
            outputs = call.fn(*call.args, **call.kwargs)
        return call.arrays_of(outputs)

    @staticmethod
    def backward(ctx, *grads):
        call = ctx._call
        if any(isinstance(g, Tensor) for g in grads):
            raise _second_order_refused(ctx)
        inputs, needs = ctx.inputs, ctx.needs_input_grad
        _check_data_kept(ctx)
        given = call.given
        # Copies of the given tensors cut from the graph: the run below records a graph of
        # its own, which ends at them and at the parameters, and no further.
        standins = []
        for t, needed in zip(inputs[:given], needs):
            copy = Tensor(t.data)
            copy._name = t._name
            copy.requires_grad = needed
            standins.append(copy)
        known = {id(t) for t in standins} | {id(t) for t in inputs[given:]}
        start = _next_sequence()
        args, kwargs = call.with_inputs(standins)
        with call.replayed(), enable_grad():
            outputs = call.fn(*args, **kwargs)
        outputs = call.tensors_of(outputs, again=True)
        _refuse_unknown(ctx, outputs, known, start)
        wanted = [t for t, needed in zip((*standins, *inputs[given:]), needs) if needed]
        pairs = [(out, g) for out, g in zip(outputs, grads) if out.requires_grad]
        if not wanted or not pairs:
            return (None,) * len(inputs)
        found = engine.grad([out for out, _ in pairs], wanted,
                            grad_outputs=[g for _, g in pairs], allow_unused=True)
        found = iter(found)
        return tuple(next(found) if needed else None for needed in needs)


class _Call:
    """One call of `checkpoint`: fn, its arguments, the tensors that are the node's inputs,
    and what running fn again needs (the modules and generators it reaches)."""

    def __init__(self, fn: Callable, args: tuple, kwargs: dict, preserve_rng_state: bool):
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.label = _label(fn)
        given = [a for a in args if isinstance(a, Tensor)]
        given += [v for v in kwargs.values() if isinstance(v, Tensor)]
        self.given = len(given)
        others = [a for a in args if not isinstance(a, Tensor)]
        others += [v for v in kwargs.values() if not isinstance(v, Tensor)]
        modules, params, generators = _reached(fn, others)
        self.inputs = (*given, *params)
        self.modules = modules
        self.generators = generators if preserve_rng_state else None
        self.preserve_rng_state = preserve_rng_state
        self.single, self.count = True, 1  # what fn returned: set by forward
        self.training: list[bool] = []
        self.rng_states: list[Any] = []

    def remember_state(self) -> None:
        """Keep what fn's first run starts from: the modules' modes and the generators'
        states (and which generator is graphgrad's default)."""
        self.training = [m.training for m in self.modules]
        if not self.preserve_rng_state:
            return
        self.default_rng = initializers.generator()
        self.numpy_state = np.random.get_state()
        self.attribute_rngs = [(m, name, getattr(m, name)) for m in self.modules
                               for name, value in vars(m).items()
                               if isinstance(value, np.random.Generator)]
        generators = {id(g): g for g in (self.default_rng, *self.generators,
                                         *(g for _, _, g in self.attribute_rngs))}
        self.rng_states = [(g, g.bit_generator.state) for g in generators.values()]

    @contextlib.contextmanager
    def replayed(self) -> Iterator[None]:
        """Run fn again as it ran the first time: the modules in their modes of then, the
        generators in their states of then; afterwards everything is as it was before (the
        generators where they are now, BatchNorm's running statistics updated once)."""
        modules = self.modules
        modes = [m.training for m in modules]
        buffers = [(m, name, getattr(m, name)) for m in modules for name in m._buffers]
        values = [None if a is None else a.copy() for _, _, a in buffers]
        if self.preserve_rng_state:
            default = initializers._default["rng"]
            numpy_state = np.random.get_state()
            attributes = [(m, name, getattr(m, name)) for m, name, _ in self.attribute_rngs]
            states = [(g, g.bit_generator.state) for g, _ in self.rng_states]
        try:
            for m, mode in zip(modules, self.training):
                object.__setattr__(m, "training", mode)
            if self.preserve_rng_state:
                initializers._default["rng"] = self.default_rng
                np.random.set_state(self.numpy_state)
                for m, name, g in self.attribute_rngs:
                    object.__setattr__(m, name, g)
                for g, state in self.rng_states:
                    g.bit_generator.state = state
            yield
        finally:
            for m, mode in zip(modules, modes):
                object.__setattr__(m, "training", mode)
            for (m, name, array), kept in zip(buffers, values):
                setattr(m, name, array)  # BatchNorm assigns new statistics
                if array is not None and array.flags.writeable:
                    array[...] = kept  # a module of one's own may change its buffer in place
            if self.preserve_rng_state:
                initializers._default["rng"] = default
                np.random.set_state(numpy_state)
                for m, name, g in attributes:
                    object.__setattr__(m, name, g)
                for g, state in states:
                    g.bit_generator.state = state

    def with_inputs(self, tensors: list[Tensor]) -> tuple[tuple, dict]:
        """fn's args and kwargs with ``tensors`` in place of the given ones, in order."""
        replaced = iter(tensors)
        args = tuple(next(replaced) if isinstance(a, Tensor) else a for a in self.args)
        kwargs = {k: next(replaced) if isinstance(v, Tensor) else v
                  for k, v in self.kwargs.items()}
        return args, kwargs

    def arrays_of(self, outputs: Any) -> Any:
        """The arrays of what fn returned (forward's result), fn's result checked."""
        tensors = self.tensors_of(outputs)
        self.single = isinstance(outputs, Tensor)
        self.count = len(tensors)
        return tensors[0].data if self.single else tuple(t.data for t in tensors)

    def tensors_of(self, outputs: Any, again: bool = False) -> tuple[Tensor, ...]:
        """fn's result as a tuple of Tensors; anything else is refused by name, and so is a
        second run (``again``) that returns other outputs than the first."""
        if isinstance(outputs, Tensor):
            result: tuple = (outputs,)
        elif isinstance(outputs, tuple) and outputs and all(isinstance(t, Tensor)
                                                            for t in outputs):
            result = outputs
        else:
            raise GraphgradTypeError(
                f"gg.checkpoint: {self.label} returned {_kind_of(outputs)}; it must return a "
                "Tensor or a tuple of Tensors (the outputs of the checkpoint's node). Return "
                "other values from a function around the checkpoint, or make them tensors.")
        if again and (isinstance(outputs, Tensor) != self.single or len(result) != self.count):
            then = "a Tensor" if self.single else f"a tuple of {self.count} tensors"
            raise BackwardError(
                f"Checkpoint({self.label}): run again in backward, it returned "
                f"{_kind_of(outputs)} where it returned {then} the first time; fn must "
                "compute the same from the same inputs.")
        return result


def _kind_of(outputs: Any) -> str:
    """What fn returned, in words: ``a Tensor``, ``a tuple of 2 tensors``, ``list``, ..."""
    if isinstance(outputs, Tensor):
        return "a Tensor"
    if isinstance(outputs, tuple):
        if all(isinstance(t, Tensor) for t in outputs):
            return f"a tuple of {len(outputs)} tensors"
        return f"a tuple holding {', '.join(type(t).__name__ for t in outputs)}"
    return type(outputs).__name__


def _label(fn: Callable) -> str:
    """fn's name, as a picture shows it: a module's class, a function's or method's name."""
    if isinstance(fn, functools.partial):
        return _label(fn.func)
    if isinstance(fn, Module):
        return type(fn).__name__
    name = getattr(fn, "__qualname__", None) or type(fn).__name__
    return name.rpartition("<locals>.")[2]


def _reached(fn: Callable, others: list) -> tuple[list[Module], list[Tensor], list]:
    """The modules, the leaf tensors that require grad (their parameters first, each once, in
    the order met) and the np.random.Generators that fn and the other arguments reach: a
    module's own, and through a bound method's object, a partial's function and arguments, a
    function's closure, defaults and the globals its code names (functions they name too, to
    `_FUNCTION_DEPTH`), lists, tuples and dicts, and the attributes of a plain object met near
    fn (a ``self`` in fn's closure, fn itself when it is an object with ``__call__``)."""
    modules: dict[int, Module] = {}
    tensors: dict[int, Tensor] = {}
    generators: dict[int, Any] = {}
    seen: set[int] = set()
    waiting: list[tuple[Any, int]] = [(o, 0) for o in reversed([fn, *others])]
    while waiting:
        obj, depth = waiting.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        found: list = []
        if isinstance(obj, Tensor):
            if obj.creator is None and obj.requires_grad:
                tensors.setdefault(id(obj), obj)
        elif isinstance(obj, Module):
            for m in obj.modules():
                modules.setdefault(id(m), m)
            for p in obj.parameters():
                if p.requires_grad:
                    tensors.setdefault(id(p), p)
        elif isinstance(obj, np.random.Generator):
            generators.setdefault(id(obj), obj)
        elif isinstance(obj, (list, tuple, dict)):
            if len(obj) <= _MOST_ENTRIES:
                found = list(obj.values() if isinstance(obj, dict) else obj)
        elif isinstance(obj, types.MethodType):
            found = [obj.__self__, obj.__func__]
        elif isinstance(obj, functools.partial):
            found = [obj.func, *obj.args, *obj.keywords.values()]
        elif isinstance(obj, types.FunctionType):
            if depth < _FUNCTION_DEPTH:
                found = [cell.cell_contents for cell in obj.__closure__ or ()
                         if _filled(cell)]
                found += list(obj.__defaults__ or ()) + list((obj.__kwdefaults__ or {}).values())
                names = obj.__globals__
                found += [names[n] for n in obj.__code__.co_names if n in names]
                depth += 1
        elif depth <= _OBJECT_DEPTH and isinstance(getattr(obj, "__dict__", None), dict):
            found = list(vars(obj).values())
            depth += 1
        waiting.extend((o, depth) for o in reversed(found) if not isinstance(o, _NOTHING_INSIDE))
    return list(modules.values()), list(tensors.values()), list(generators.values())


def _filled(cell: types.CellType) -> bool:
    try:
        cell.cell_contents  # noqa: B018 (an empty cell raises)
    except ValueError:
        return False
    return True


def _check_data_kept(ctx: Checkpoint) -> None:
    """Each input must still hold the array forward ran on: running fn on other values would
    give the gradient of another computation."""
    for t, array in zip(ctx.inputs, ctx.saved):
        if t.data is not array and t.data is not array.base:
            raise BackwardError(
                f"{ctx.name}: the data of {describe(t)} was replaced (t.data = ...) after the "
                "checkpoint ran on it, so running it again would differentiate other values. "
                "Replace a tensor's data only once the graphs that use it are done with.")


def _refuse_unknown(ctx: Checkpoint, outputs: tuple, known: set[int], start: int) -> None:
    """Refuse a tensor requiring grad that fn's second run reached (its nodes are those
    created after ``start``) but that is none of the node's inputs: its gradient would be
    lost (a parameter fn reaches through a helper)."""
    waiting, seen = list(outputs), set()
    while waiting:
        t = waiting.pop()
        if not t.requires_grad:
            continue
        node = t.creator
        if node is not None and node.sequence > start:
            if node not in seen:
                seen.add(node)
                waiting.extend(node.inputs)
        elif id(t) not in known:
            raise BackwardError(
                f"{ctx.name}: fn used {describe(t)}, which requires grad, but it is neither "
                "an argument of gg.checkpoint nor a parameter of a module fn holds, so its "
                "gradient would be lost. Pass it as an argument: gg.checkpoint(fn, X, W) with "
                "fn(X, W).")


def _second_order_refused(ctx: Checkpoint) -> BackwardError:
    return BackwardError(
        f"{ctx.name}: create_graph=True (a second derivative) cannot go through "
        "gg.checkpoint, which differentiates its block once, to arrays, as PyTorch's "
        "reentrant checkpoint does. Compute the block without gg.checkpoint for this.")
