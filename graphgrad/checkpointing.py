"""Gradient checkpointing: ``gg.checkpoint(fn, *args)`` trades compute for memory.

``y = gg.checkpoint(block, X)`` computes ``block(X)`` and keeps none of the block's
intermediate values (its Z, its A) between forward and backward: the graph holds one node,
`Checkpoint`, whose inputs are the tensors given and the tensors requiring grad that the block
used. Its backward runs ``block`` again, with grad enabled, and differentiates that
(`engine.grad`): each input and parameter gets exactly the gradient it would have had
without the checkpoint.

What fn used is read from its first run, not guessed. fn runs with grad enabled, recording
its graph, and the walk of that graph from fn's outputs (`_used`) finds every tensor requiring
grad that fn used but did not make: the leaves (parameters, wherever fn found them: a module,
a closure, a global, a class attribute) and the tensors of an outer graph (a closed-over
``h = layer(x)``), whose gradient flows on into that graph. Then that graph is dropped, its
arrays with it, and the node hands out the outputs' arrays. So forward's peak memory is one
block's graph, as backward's is, and between the two the graph holds the block's outputs.

Running fn again must compute what it computed the first time. With
``preserve_rng_state=True`` the random generators it may draw from are set back to their
state of the first run, and then put forward again to where they are: graphgrad's default
generator (`nn.init.generator`, which `Dropout` uses without one of its own), numpy's global
one (``np.random.rand``), and the ``np.random.Generator``s found by `_replayed`, with the
modules whose mode and buffers are replayed. Those are found in: fn itself, a bound method's
object (``block.forward``), a `functools.partial`'s function and arguments, the other
arguments of `checkpoint`, and the values in fn's closure cells; each value as it is, or the
items of a list, tuple or dict it is (one level: not what a plain object or a global holds). A
module found counts with its submodules and the generators in their attributes
(``Dropout(rng=0)``'s ``self.rng``). Each module found runs in the mode (``training``) it had
in forward, holding the parameters and buffers it held then (those `nn.functional_call` gave
it, whose call has put the model's own back by backward), and its buffers (BatchNorm's running
statistics) are put back after the second run, so they are updated once per forward.

What the replay misses cannot give a wrong gradient silently: each output's fingerprint (its
shape, dtype and the crc32 of its bytes; no copy) is kept from the first run, and a second run
that computes other values is refused in backward, naming the block and the output (a
Dropout whose generator was not found, an fn that makes a generator each call). A module not
found keeps the mode it has in backward, and its buffers are updated twice.
Depends on `function`, `engine`, `modes`, `tensor`, `errors`, `nn.module`, `nn.init`.
"""
from __future__ import annotations

import contextlib
import functools
import types
import weakref
import zlib
from collections.abc import Callable, Iterator
from types import MappingProxyType
from typing import Any

import numpy as np

from graphgrad import engine, hooks
from graphgrad.errors import BackwardError, GraphgradTypeError, describe
from graphgrad.function import Function, _next_sequence
from graphgrad.modes import _state, enable_grad
from graphgrad.nn import init as initializers
from graphgrad.nn.module import Module, call_scope, hold
from graphgrad.tensor import Tensor

__all__ = ["checkpoint"]

_NO_ATTRS = MappingProxyType({})


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
            the node's first inputs. Other values (numbers, arrays, modules) are passed as
            they are.
        preserve_rng_state: run fn again with the random generators it draws from as they
            were the first time (graphgrad's default generator, numpy's global one, and those
            of the modules found: see the docstring of graphgrad.checkpointing), so dropout
            drops the same units. False skips saving their states, for an fn that draws
            nothing.
        kwargs: fn's keyword arguments.

    Returns:
        what fn returns, a Tensor or a tuple of Tensors: one node of the graph, drawn as
        ``Checkpoint(name of fn)``, in the module's frame when fn is a module (where its
        ops are drawn without the checkpoint).

    Every tensor requiring grad that fn uses gets the gradient it gets without the
    checkpoint, wherever fn found it: the given ones, the parameters, a tensor of the graph
    around (its gradient flows on into that graph). A second run that computes other values
    than the first (a generator not replayed) is refused in backward, by name. Under
    `no_grad`, or when fn uses nothing that requires grad, this is ``fn(*args, **kwargs)``.
    ``gg.grad`` works through a checkpoint; ``create_graph=True`` (a second derivative
    through it) is refused, as PyTorch's reentrant checkpoint refuses it. Memory: a network
    of L blocks, each checkpointed, keeps the blocks' outputs only, and one block's values at
    a time in forward and in backward. Run again, fn also sets again what it sets on its
    modules (``Dropout.D``, to the same mask), but leaves the buffers of the modules found as
    the first run did, and a gradient hook it registers on a tensor it did not make (its
    input, say) as the first run did: registered once, it runs once. A tensor fn makes and
    marks with ``retain_grad()`` gets its ``.grad`` in ``J.backward()`` as without the
    checkpoint: the first run's, which the caller may hold, and the second run's, which a
    module keeping it in an attribute holds after backward.
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
    call.remember_state()
    start = _next_sequence()
    result = fn(*args, **kwargs)  # recorded: its graph says what fn used
    outputs = call.tensors_of(result)
    used = _used(outputs, start, call.given)
    if not used and not any(t.requires_grad for t in call.given):
        return result  # nothing to differentiate: no graph was recorded
    call.inputs = (*call.given, *used)
    if hooks._HOOKED:  # fn's tensors its retain_grad() marked: they get the second run's .grad
        call.retained = {key: weakref.ref(t) for key, t in _retained(outputs, start).items()}
    call.keep(outputs)
    del result, outputs  # and with them fn's graph: its arrays are freed here
    result = Checkpoint.apply(*call.inputs, call=call)
    if isinstance(fn, Module) and (scope := call_scope(fn)) is not None:
        # The node stands for the module's ops: a picture draws it in the module's frame
        # (blocks/0), where they are drawn without the checkpoint.
        (result if isinstance(result, Tensor) else result[0]).creator.scope = scope
    return result


class Checkpoint(Function):
    """outputs = fn(*inputs), none of fn's intermediate values kept;
    d(inputs) = backward of fn run again on the inputs.

    inputs: the tensors given to `checkpoint` (in order), then those requiring grad that fn's
    first run used, in the order it first used them. Drawn as ``Checkpoint(fn's name)``.
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
        return call.hand_out()  # fn ran already: the arrays it computed

    @staticmethod
    def backward(ctx, *grads):
        call = ctx._call
        if any(isinstance(g, Tensor) for g in grads):
            raise _second_order_refused(ctx)
        inputs, needs = ctx.inputs, ctx.needs_input_grad
        _check_data_kept(ctx)
        # One stand-in per input, cut from the graph: the run below records a graph of its
        # own, which `_cut_off` makes end at them, and no further. A tensor given in several
        # places (self-attention's x, x, x) has one: its gradients are summed in fn's graph,
        # in the order fn sums them, as without the checkpoint (summed here, one per place,
        # they came out in another order, and so a unit in the last place off).
        standins, first = [], {}
        for i, (t, needed) in enumerate(zip(inputs, needs)):
            j = first.setdefault(id(t), i)
            if j != i:
                standins.append(standins[j])
                standins[j].requires_grad |= needed
                continue
            copy = Tensor(t.data)
            copy._name = t._name
            copy.requires_grad = needed
            standins.append(copy)
        start = _next_sequence()
        args, kwargs = call.with_inputs(standins[:len(call.given)])
        mark = hooks._next_id()  # hooks registered from here on are the second run's
        with call.replayed(), enable_grad():
            outputs = call.fn(*args, **kwargs)
        if hooks._HOOKED:
            _drop_hooks_since(mark, (*standins, *call.inputs))
        outputs = call.tensors_of(outputs, again=True)
        call.check_same(ctx, outputs)
        # The tensors fn's retain_grad() marked, with the first run's its caller may hold (a
        # module keeping its activation in an attribute holds the second run's).
        marked: list[tuple[Tensor, Tensor | None]] = []
        if hooks._HOOKED and engine.fills_grads():
            for key, t in _retained(outputs, start).items():
                ref = call.retained.get(key)
                marked.append((t, None if ref is None else ref()))
        outputs = _cut_off(ctx, outputs, start, standins)
        # Each tensor's gradient goes to its first place among the inputs (None to the others).
        own = [first[id(t)] == i and s.requires_grad
               for i, (t, s) in enumerate(zip(inputs, standins))]
        wanted = [s for s, mine in zip(standins, own) if mine]
        pairs = [(out, g) for out, g in zip(outputs, grads) if out.requires_grad]
        if not wanted or not pairs:
            return (None,) * len(inputs)
        found = engine.grad([out for out, _ in pairs], wanted + [t for t, _ in marked],
                            grad_outputs=[g for _, g in pairs], allow_unused=True)
        for (t, then), g in zip(marked, found[len(wanted):]):
            t.grad = g
            if then is not None:
                then.grad = g
        found = iter(found)
        return tuple(next(found) if mine else None for mine in own)


class _Call:
    """One call of `checkpoint`: fn and its arguments, what its first run computed (the
    outputs' arrays until the node takes them, their fingerprints) and what running fn again
    needs (the modules and generators found by `_replayed`)."""

    def __init__(self, fn: Callable, args: tuple, kwargs: dict, preserve_rng_state: bool):
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.label = _label(fn)
        self.given = [a for a in args if isinstance(a, Tensor)]
        self.given += [v for v in kwargs.values() if isinstance(v, Tensor)]
        others = [a for a in args if not isinstance(a, Tensor)]
        others += [v for v in kwargs.values() if not isinstance(v, Tensor)]
        self.modules, generators = _replayed(fn, others)
        self.generators = generators if preserve_rng_state else None
        self.preserve_rng_state = preserve_rng_state
        self.single, self.count = True, 1  # what fn returned: set by tensors_of
        self.inputs: tuple[Tensor, ...] = ()  # the node's, as `checkpoint` found them
        self.arrays: tuple | None = None
        self.fingerprints: list[tuple] = []
        self.training: list[bool] = []
        self.members: list[tuple[Module, str, Any]] = []  # parameters and buffers
        self.rng_states: list[Any] = []
        # fn's tensors marked by retain_grad, weakly, by op and output (`_retained`)
        self.retained: dict[tuple[int, int], weakref.ref] = {}

    def keep(self, outputs: tuple[Tensor, ...]) -> None:
        """Keep the arrays of fn's first run for the node, and their fingerprints."""
        # An array fn did not make (an input returned as it is) is handed out as a view: the
        # node makes its outputs read-only, and the tensor's own array is not the node's.
        self.arrays = tuple(t.data if not t.data.flags.writeable else t.data.view()
                            for t in outputs)
        self.fingerprints = [_fingerprint(a) for a in self.arrays]

    def hand_out(self) -> Any:
        """The arrays `keep` kept, as forward returns them; the call keeps them no longer."""
        arrays, self.arrays = self.arrays, None
        return arrays[0] if self.single else arrays

    def check_same(self, ctx: Checkpoint, outputs: tuple[Tensor, ...]) -> None:
        """Refuse a second run whose outputs are not the first run's, bit for bit: their
        gradient would be that of another computation."""
        for i, (t, then) in enumerate(zip(outputs, self.fingerprints)):
            now = _fingerprint(t.data)
            if now == then:
                continue
            which = "its output" if self.single else f"output {i} of {self.count}"
            shape, dtype, _ = then
            what = (f"{shape} {dtype}, other values" if now[:2] == then[:2]
                    else f"{now[0]} {now[1]} where it was {shape} {dtype}")
            none = "" if self.preserve_rng_state else " (preserve_rng_state=False puts back none)"
            raise BackwardError(
                f"{ctx.name}: run again in backward, fn computed {which} differently: "
                f"{what}, so the gradient would be that of another computation. What fn "
                f"draws from was not put back as it was{none}: a random generator checkpoint "
                "did not find (it finds a module's as fn, fn's object, an argument or a value "
                "in fn's closure: pass the module holding the generator as fn or as an "
                "argument), or fn is not deterministic (a generator made at each call, a "
                "counter): make it deterministic, or compute this block without gg.checkpoint.")

    def remember_state(self) -> None:
        """Keep what fn's first run starts from: the modules' modes, parameters and
        buffers (what they hold: nn.functional_call puts the model's own back before
        backward), the generators' states (and which generator is graphgrad's default)."""
        self.training = [m.training for m in self.modules]
        self.members = [(m, name, value) for m in self.modules
                        for name, value in m._members.items()
                        if isinstance(value, Tensor) or name in m._buffers]
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
        """Run fn again as it ran the first time: the modules in their modes of then,
        holding the parameters and buffers they held then (those nn.functional_call gave),
        the generators in their states of then; afterwards everything is as it was before
        (the generators where they are now, BatchNorm's running statistics updated once)."""
        modules = self.modules
        modes = [m.training for m in modules]
        # Set by `hold`, as nn.functional_call sets them: Module.__setattr__ refuses a
        # computed tensor.
        swapped = [(m, name, m._members[name], then) for m, name, then in self.members
                   if name in m._members and m._members[name] is not then]
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
            for m, name, _, then in swapped:
                hold(m, name, then)
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
            for m, name, now, _ in swapped:
                hold(m, name, now)
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
        if not again:
            self.single, self.count = isinstance(outputs, Tensor), len(result)
        elif isinstance(outputs, Tensor) != self.single or len(result) != self.count:
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


def _replayed(fn: Callable, others: list) -> tuple[list[Module], list[np.random.Generator]]:
    """The modules (each with its submodules) and the np.random.Generators among: fn; the
    object of a bound method; a partial's function and arguments; the other arguments; the
    values in the closure cells of fn (or of the partial's or method's function). Each value
    counts as it is, or by the items of a list, tuple or dict it is; nothing further."""
    values = [fn, *others]
    function = fn
    if isinstance(function, functools.partial):
        values += [function.func, *function.args, *function.keywords.values()]
        function = function.func
    if isinstance(function, types.MethodType):
        values.append(function.__self__)
        function = function.__func__
    if isinstance(function, types.FunctionType):
        values += [cell.cell_contents for cell in function.__closure__ or () if _filled(cell)]
    modules: dict[int, Module] = {}
    generators: dict[int, np.random.Generator] = {}
    for value in values:
        items = (value.values() if isinstance(value, dict)
                 else value if isinstance(value, (list, tuple)) else (value,))
        for item in items:
            if isinstance(item, Module):
                for m in item.modules():
                    modules.setdefault(id(m), m)
            elif isinstance(item, np.random.Generator):
                generators.setdefault(id(item), item)
    return list(modules.values()), list(generators.values())


def _filled(cell: types.CellType) -> bool:
    try:
        cell.cell_contents  # noqa: B018 (an empty cell raises)
    except ValueError:
        return False
    return True


def _run_nodes(outputs: tuple[Tensor, ...], start: int) -> list[Function]:
    """The nodes of a run of fn that ``outputs`` come from (those created after ``start``),
    in the order they were created."""
    nodes: dict[Function, None] = {}
    waiting = [t.creator for t in outputs]
    while waiting:
        node = waiting.pop()
        if node is not None and node.sequence > start and node not in nodes:
            nodes[node] = None
            waiting.extend(t.creator for t in node.inputs)
    return sorted(nodes, key=lambda node: node.sequence)


def _retained(outputs: tuple[Tensor, ...], start: int) -> dict[tuple[int, int], Tensor]:
    """The tensors made by a run of fn (begun at ``start``, ending at ``outputs``) that its
    `Tensor.retain_grad` marked, by (the place of the op that made it among the run's ops,
    its output index): the same key in the second run names the tensor the same op made."""
    places = {node: k for k, node in enumerate(_run_nodes(outputs, start))}
    found = {}
    for ref in list(hooks._HOOKED.values()):
        t = ref()
        if t is None or t.creator not in places or not hooks.retains_grad(t):
            continue
        node = t.creator
        index = 0 if node._outputs is None else next(
            i for i, out in enumerate(node._outputs) if out() is t)
        found[(places[node], index)] = t
    return found


def _made_before(t: Tensor, start: int) -> bool:
    """Whether ``t`` requires grad and was not made by the run that began at ``start``: a
    leaf, or a tensor of an outer graph."""
    return t.requires_grad and (t.creator is None or t.creator.sequence <= start)


def _used(outputs: tuple[Tensor, ...], start: int, given: list[Tensor]) -> list[Tensor]:
    """The tensors requiring grad that fn's first run (begun at ``start``) used and did not
    make, each once, in the order it first used them, but for the ``given`` ones."""
    skipped = {id(t) for t in given}
    found: dict[int, Tensor] = {}
    for node in _run_nodes(outputs, start):
        for t in node.inputs:
            if _made_before(t, start) and id(t) not in skipped:
                found.setdefault(id(t), t)
    for t in outputs:  # an output fn did not make (a tensor returned as it is)
        if _made_before(t, start) and id(t) not in skipped:
            found.setdefault(id(t), t)
    return list(found.values())


def _cut_off(ctx: Checkpoint, outputs: tuple[Tensor, ...], start: int,
             standins: list[Tensor]) -> tuple[Tensor, ...]:
    """Make the graph of fn's second run (begun at ``start``) end at the stand-ins: each
    tensor requiring grad that it used and did not make becomes its stand-in, so gg.grad
    neither walks into an outer graph (it would add to it what the node's backward gives it
    again) nor frees it. One the first run did not use is refused: its gradient would be
    lost. Returns the outputs, an output fn did not make replaced too.

    The tensors are told by the call's inputs, not by ctx.inputs: a checkpoint inside the
    fn of another finds its node's inputs replaced by that one's stand-ins."""
    standin_of: dict[int, Tensor] = {}
    for t, s in zip(ctx._call.inputs, standins):
        standin_of.setdefault(id(t), s)
        standin_of[id(s)] = s  # a given tensor's stand-in, which fn got as an argument

    def cut(t: Tensor) -> Tensor:
        if not _made_before(t, start):
            return t
        s = standin_of.get(id(t))
        if s is None:
            raise BackwardError(
                f"{ctx.name}: run again in backward, fn used {describe(t)}, which requires "
                "grad, and which its first run did not use, so its gradient would be lost. "
                "fn must compute the same from the same inputs.")
        return s

    for node in _run_nodes(outputs, start):
        if any(_made_before(t, start) for t in node.inputs):
            node.inputs = tuple(cut(t) for t in node.inputs)
    return tuple(cut(t) for t in outputs)


def _drop_hooks_since(mark: int, tensors: tuple[Tensor, ...]) -> None:
    """Take away the gradient hooks fn's second run registered (numbered after ``mark``) on
    tensors it did not make: on a stand-in, or on a tensor of the graph around it again.
    The first run's registration is the one a run without the checkpoint makes; with the
    second one too, the outer walk would run the hook twice (a gradient reversal layer's
    -g twice, which is g). The hooks of the tensors the second run makes stay: they run
    in its own backward, as the first run's would have."""
    for t in tensors:
        held = hooks._hooks_of(t)
        for hook_id in [i for i in held or () if i > mark]:
            hooks._remove_tensor_hook(t, hook_id)


def _fingerprint(array: np.ndarray) -> tuple:
    """(shape, dtype, crc32 of the bytes): the same values give the same, without a copy
    kept (of a contiguous array, none made)."""
    return array.shape, array.dtype, zlib.crc32(np.ascontiguousarray(array))


def _check_data_kept(ctx: Checkpoint) -> None:
    """Each input must still hold the array forward ran on: running fn on other values would
    give the gradient of another computation."""
    for t, array in zip(ctx.inputs, ctx.saved):
        if t.data is not array and t.data is not array.base:
            raise BackwardError(
                f"{ctx.name}: the data of {describe(t)} was replaced (t.data = ...) after the "
                "checkpoint ran on it, so running it again would differentiate other values. "
                "Replace a tensor's data only once the graphs that use it are done with.")


def _second_order_refused(ctx: Checkpoint) -> BackwardError:
    return BackwardError(
        f"{ctx.name}: create_graph=True (a second derivative) cannot go through "
        "gg.checkpoint, which differentiates its block once, to arrays, as PyTorch's "
        "reentrant checkpoint does. Compute the block without gg.checkpoint for this.")
