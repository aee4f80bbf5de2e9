"""`Function`: the base class of every op, built-in or a user's own.

An op is one class with two static methods side by side::

    class Mul(Function):
        '''z = x * y;  dz/dx = y,  dz/dy = x'''
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x * y

        @staticmethod
        def backward(ctx, grad):
            x, y = ctx.saved
            return grad * y, grad * x

``forward`` receives numpy arrays and returns an array (or a tuple of arrays for several
outputs); ``backward`` receives dJ/d(output) and returns dJ/d(input), one per input (``None``
where there is none). ``Mul.apply(a, b)`` runs the op on Tensors and, when grad is enabled and
an input requires grad, records a node of the graph. The node *is* the ``ctx`` object: its
``inputs`` (a tuple of Tensors) and ``attrs`` (the keyword arguments, such as ``axis``) are the
public graph that `viz` draws; ``type(node).__name__`` is the op's label.

Backward bodies are written with numpy operators, methods and functions only. Under
``gg.grad(..., create_graph=True)`` the same body runs on Tensors (numpy dispatches to them),
which records the graph of the gradient itself: that is how second derivatives work. For this
to be right, a value the backward differentiates through must be an input or the output,
passed through ``save_for_backward``; other saved values (masks, indices) are constants.

Arrays an op saves are protected: an input leaf's array that a node saved, or that its output
is a view of, is made read-only while the node is alive and not yet backpropagated, and op
outputs are read-only for good, so an in-place write can never silently change a gradient.
Depends on `tensor`, `modes`, `debug`, `errors`.
"""
from __future__ import annotations

import itertools
import threading
import weakref
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from graphgrad import debug
from graphgrad.errors import GraphgradError, OpError, describe, setting_text
from graphgrad.modes import CHECKED, OFF, _state
from graphgrad.tensor import _CONSTANTS, _TENSOR_TYPES, Tensor, _lift, _op_output

_new = object.__new__
_ndarray = np.ndarray
_HALF = np.dtype(np.float16)
_ref = weakref.ref
_next_sequence = itertools.count(1).__next__  # atomic: graphs may be built on several threads
_NEEDS_ONE = (True,)
_NEEDS_NONE = ()  # grad mode is off: nothing is recorded
# needs_input_grad of two- and three-input ops, indexed by the inputs' requires_grad: shared
# tuples, so recording a node allocates less (and gives the garbage collector less to count).
_NEEDS_TWO = tuple(tuple((a, b) for b in (False, True)) for a in (False, True))
_NEEDS_THREE = tuple(tuple(tuple((a, b, c) for c in (False, True)) for b in (False, True))
                     for a in (False, True))


class Function:
    """Base class of every op. Subclass it, define static ``forward`` and ``backward``.

    Inside ``forward``/``backward`` the first argument ``ctx`` is the node itself:
    ``ctx.save_for_backward(*arrays)`` / ``ctx.saved``, any attribute you assign
    (``ctx.axis = axis``), and ``ctx.needs_input_grad`` (a tuple of bools, one per input:
    does backward need to compute that input's gradient? In ``gg.grad`` also False, during
    its walk, for an input that leads to none of the inputs asked for).

    The engine and the pictures own these names on ``ctx``; give your own attributes other
    ones: ``saved`` (set it through ``save_for_backward``), ``inputs``, ``needs_input_grad``,
    ``attrs``, ``sequence``, ``scope``, ``created_at``, ``outputs``, ``output_meta``,
    ``backward_order``, ``input_grads``, ``backward_pass``, ``name``, ``released``, and
    anything starting with an underscore.
    """

    # Class-level defaults keep node creation cheap: only what differs is set per node.
    #: The node's creation number: a node is always created after those whose outputs it
    #: consumes, so backward runs nodes from the highest number down.
    sequence: int = 0
    saved: tuple = ()
    attrs: ClassVar[Mapping[str, Any]] = MappingProxyType({})  # shared default: read-only
    scope: str | None = None
    created_at: str | None = None
    backward_order: int | None = None
    input_grads: tuple | None = None
    #: Which backward pass recorded ``backward_order`` and ``input_grads``: a graph
    #: backpropagated from two roots holds each node's latest pass only (a pass that raised
    #: records none: `engine._forget_pass`).
    backward_pass: int | None = None
    _pinned: list | None = None
    # The arrays forward got, when they are not the inputs' own: see `_views_for_repeats`.
    _forward_arrays: tuple | None = None
    # An op with several outputs keeps weak references to them (to gather their gradients).
    # A single-output node keeps none: its output holds it (output -> node -> inputs, never
    # back), so a dropped loss frees its graph without the garbage collector, and the graph
    # walk finds the output as the tensor it came through.
    _outputs: tuple | None = None
    # Of such an op, the (saved index, output index) of each output it saved for backward.
    _saved_outputs: tuple = ()
    inputs: tuple = ()
    needs_input_grad: tuple[bool, ...] = ()
    # The gradient hooks of its outputs (`Tensor.register_hook`), by output index, then by
    # handle id: kept here, which the output holds, so they live and die with it.
    _hooks: dict[int, dict[int, Any]] | None = None

    forward: ClassVar[Any]
    backward: ClassVar[Any]

    # -- what forward/backward use -------------------------------------------------------
    def save_for_backward(self, *arrays: Any) -> None:
        """Keep arrays for backward (read back as ``ctx.saved``); freed after backward."""
        self.saved = arrays

    # -- the public graph -----------------------------------------------------------------
    @property
    def outputs(self) -> tuple[Tensor | None, ...]:
        """For an op with several outputs (``gg.split``), its outputs in order (``None`` for
        one no longer alive). A single-output node does not reference its output, which holds
        it: that output is the tensor whose ``creator`` is this node, and this is empty."""
        refs = self._outputs
        return () if refs is None else tuple([ref() for ref in refs])

    @property
    def name(self) -> str:
        """The op's label: its class name (``Mul``, ``MatMul``, a custom op's own name)."""
        return type(self).__name__

    @property
    def released(self) -> bool:
        """True once backward has freed this node's saved values (no second backward)."""
        return self.saved is None

    def __repr__(self) -> str:
        ins = ", ".join(describe(t) for t in self.inputs)
        attrs = "".join(f", {k}={v!r}" for k, v in self.attrs.items())
        return f"<{self.name}({ins}{attrs})>"

    # -- running an op ----------------------------------------------------------------------
    @classmethod
    def apply(cls, /, *inputs: Any, **attrs: Any) -> Any:
        """Run the op on Tensors (numbers and arrays become constants); record it if needed.

        ``inputs`` go to ``forward`` as arrays, in order, after ``ctx``; ``attrs``, the op's
        settings (``axis=0``), go to it as they are, as keywords, and are kept as the node's
        ``attrs``. Returns one Tensor, or a tuple of Tensors when ``forward`` returns a tuple.
        """
        # Every op goes through here, so it is written for speed: no helper calls on the
        # common path, and the 1-, 2- and 3-input cases spelled out.
        for x in inputs:
            if type(x) not in _TENSOR_TYPES:
                inputs = _lift_inputs(cls, inputs)
                break
        ctx = _new(cls)
        ctx.inputs = inputs
        mode = _state.mode
        n = len(inputs)
        if n == 1:
            x = inputs[0]
            needs = _NEEDS_ONE if mode and x.requires_grad else _NEEDS_NONE
            arrays = (x.data,)
        elif n == 2:
            x, y = inputs
            needs = _NEEDS_TWO[x.requires_grad][y.requires_grad] if mode else _NEEDS_NONE
            arrays = (x.data, y.data)
        elif n == 3:
            x, y, z = inputs
            needs = (_NEEDS_THREE[x.requires_grad][y.requires_grad][z.requires_grad] if mode
                     else _NEEDS_NONE)
            arrays = (x.data, y.data, z.data)
        else:
            needs = tuple([x.requires_grad for x in inputs]) if mode else _NEEDS_NONE
            arrays = tuple([x.data for x in inputs])
        record = True in needs
        ctx.needs_input_grad = needs if record else (False,) * n
        # Two inputs holding one array (x.detach() / x): a second derivative must tell apart
        # what forward saved of each, so the later ones get views of their own.
        if record and n > 1 and (
                arrays[0] is arrays[1] if n == 2
                else arrays[0] is arrays[1] or arrays[2] is arrays[0] or arrays[2] is arrays[1]
                if n == 3 else len({id(a) for a in arrays}) < n):
            arrays = ctx._forward_arrays = _views_for_repeats(inputs, arrays)
        try:
            if attrs:
                out = cls.forward(ctx, *arrays, **attrs)
            elif n == 1:
                out = cls.forward(ctx, arrays[0])
            elif n == 2:
                out = cls.forward(ctx, arrays[0], arrays[1])
            else:
                out = cls.forward(ctx, *arrays)
        except GraphgradError:
            raise
        except Exception as exc:
            raise _op_failed(cls, inputs, attrs, exc) from exc

        if type(out) is tuple:
            return _finish_multi(ctx, out, attrs, record, mode)
        if type(out) is not np.ndarray:
            raw, out = out, _as_output_array(cls, out)
            if ctx.saved:  # a 0-d result numpy gave as a scalar: save the output itself
                ctx.saved = tuple(out if s is raw else s for s in ctx.saved)
        result = _new(Tensor)
        result.grad = None
        result._name = None
        # An integer or bool result (indices, a rounding) is a constant, as in PyTorch: as a
        # node it would be sent gradients cast to its dtype, 0.5 becoming 0.
        if not record or out.dtype.kind != "f":
            if out.dtype is _HALF and any(a.dtype == bool for a in arrays) and not any(
                    a.dtype is _HALF for a in arrays):
                # numpy does float math on bools in float16: again, on float64
                return cls.apply(*[x.astype(np.float64) if x.data.dtype == bool else x
                                   for x in inputs], **attrs)
            result.data = out
            result.requires_grad = False
            result.creator = None
            if mode == CHECKED or (mode == OFF and _state.checks):
                debug.after_forward(ctx, (out,))
            return result
        for a in arrays:
            if out is a:  # an identity forward: give the output its own view to lock
                out = out.view()
                break
        if ctx.saved or out.base is not None:
            for x in inputs:
                if x.creator is None and x not in _CONSTANTS:
                    _pin_leaves(ctx, inputs, out)
                    break
        out.setflags(False)  # write=False; the positional form is twice as fast
        if attrs:
            ctx.attrs = attrs
        ctx.sequence = _next_sequence()
        result.data = out
        result.requires_grad = True
        result.creator = ctx
        if mode == CHECKED:
            debug.after_forward(ctx, (out,))
        return result

    @classmethod
    def call(cls, /, *args: Any, **attrs: Any) -> Any:
        """Run the op inside a backward body: recorded on Tensors, plain numpy on arrays.
        ``args`` and ``attrs`` are the op's inputs and settings, as for `apply`.

        This is what lets a backward that needs another op (a scatter-add, say) stay
        differentiable under ``create_graph=True`` while costing nothing extra otherwise.
        """
        for a in args:
            if isinstance(a, Tensor):
                return cls.apply(*args, **attrs)
        ctx = _new(cls)
        ctx.needs_input_grad = (False,) * len(args)
        return cls.forward(ctx, *args, **attrs)


def _finish_multi(ctx: Function, outs: tuple, attrs: dict, record: bool, mode: int) -> tuple:
    arrays = tuple(o if type(o) is np.ndarray else _as_output_array(type(ctx), o) for o in outs)
    if ctx.saved:  # 0-d results numpy gave as scalars: save the outputs themselves
        converted = {id(o): a for o, a in zip(outs, arrays) if a is not o}
        if converted:
            ctx.saved = tuple(converted.get(id(s), s) for s in ctx.saved)
    # Integer and bool outputs (indices) are constants, as in PyTorch; backward gets zeros
    # for them. With no float output there is nothing to differentiate.
    floats = tuple(a.dtype.kind == "f" for a in arrays)
    if not record or True not in floats:
        if mode == CHECKED or (mode == OFF and _state.checks):
            debug.after_forward(ctx, arrays)
        return tuple(_op_output(a, None, i) for i, a in enumerate(arrays))
    input_arrays = ctx._forward_arrays or [x.data for x in ctx.inputs]
    arrays = tuple(a.view() if any(a is x for x in input_arrays) else a for a in arrays)
    if ctx.saved or any(a.base is not None for a in arrays):
        _pin_leaves(ctx, ctx.inputs, *arrays)
    for a in arrays:
        a.setflags(write=False)
    if ctx.saved:
        # Which saved values are outputs: a second derivative goes through them even when
        # the caller dropped them (see engine._revive_saved_outputs).
        kept = tuple((j, i) for j, s in enumerate(ctx.saved) for i, a in enumerate(arrays)
                     if s is a and floats[i])
        if kept:
            ctx._saved_outputs = kept
    if attrs:
        ctx.attrs = attrs
    ctx.output_meta = tuple((a.shape, a.dtype) for a in arrays)
    ctx.sequence = _next_sequence()
    results = tuple(_op_output(a, ctx if is_float else None, i)
                    for i, (a, is_float) in enumerate(zip(arrays, floats)))
    ctx._outputs = tuple(_ref(r) for r in results)
    if mode == CHECKED:
        debug.after_forward(ctx, arrays)
    return results


def _views_for_repeats(inputs: tuple, arrays: tuple) -> tuple:
    """The arrays with a view in place of each that a different, earlier input also holds.
    The same tensor twice (x * x) keeps its array: it is one input to differentiate."""
    seen: dict[int, Tensor] = {}
    out = []
    for x, array in zip(inputs, arrays):
        first = seen.setdefault(id(array), x)
        out.append(array if first is x else array.view())
    return tuple(out)


def _lift_inputs(cls: type, inputs: tuple) -> tuple:
    """The inputs with numbers and arrays made constant Tensors (a float array as it is)."""
    lifted = []
    for i, x in enumerate(inputs):
        kind = type(x)
        if kind in _TENSOR_TYPES:
            lifted.append(x)
        elif kind is np.ndarray and x.dtype.kind == "f" and x.ndim:  # a batch: the common case
            lifted.append(_op_output(x, None, 0))
        else:
            like = next((t for t in inputs if isinstance(t, Tensor)), None)
            try:
                lifted.append(_lift(x, like))
            except GraphgradError as exc:
                raise OpError(
                    f"{cls.__name__}: input {i} cannot be used as a tensor: {exc}"
                ) from exc
    return tuple(lifted)


def _as_output_array(cls: type, value: Any) -> np.ndarray:
    if isinstance(value, list):  # numpy would stack several outputs into one array
        raise OpError(
            f"{cls.__name__}.forward returned a list; return several outputs as a tuple "
            "(return a, b), or one array."
        )
    if isinstance(value, Tensor):
        raise OpError(
            f"{cls.__name__}.forward returned a Tensor; forward works on numpy arrays and "
            "must return arrays. Use the .data of tensors inside forward, or build the op "
            "from graphgrad functions instead of a Function."
        )
    array = np.asarray(value)
    if array.dtype == object:
        raise OpError(f"{cls.__name__}.forward returned {type(value).__name__}, not an array")
    return array


def _op_failed(cls: type, inputs: tuple, attrs: dict, exc: Exception) -> OpError:
    operands = ", ".join(describe(x) for x in inputs)
    settings = "".join(f", {k}={setting_text(v)}" for k, v in attrs.items())
    hint = getattr(cls, "hint", None)
    advice = hint(*inputs, **attrs) if hint else None
    if advice is None and any(x.data.dtype == bool for x in inputs if isinstance(x, Tensor)):
        advice = "a mask (bool) takes part as numbers once converted: mask.astype(np.float64)"
    message = f"{cls.__name__}({operands}{settings}) failed: {exc}"
    if advice:
        message += f"\n  {advice}"
    return OpError(message)


# -- protecting saved arrays from in-place writes ---------------------------------------------
# A node pins the leaf arrays it saved: the first pin of a writeable array makes it read-only,
# and the last release makes it writeable again. Most arrays are pinned by one node at a time
# (a parameter by its one use per step) and need no table: being read-only is the record.
# An array pinned again while read-only (by a second node, or the user's own read-only array)
# gets a count here, id(array) -> pins beyond the first: a release that finds a count takes
# one off and leaves the array locked. Nodes' pin lists hold the arrays, so an id cannot be
# reused while it is here.
_SHARED_PINS: dict[int, int] = {}
# A view's last pin can be released while an array it looks into is still pinned by another
# node, and numpy refuses to make a view writeable above a read-only base. Such a view waits
# here (weakly held), under id() of the array that owns its memory, and is made writeable by
# the release that unlocks what is above it: a release looks only at the views under the
# arrays it unlocked, so n views waiting on one base cost O(n) in all, not O(n) per release.
# A node that pins the view meanwhile pins its bases too, so it cannot be unlocked under that
# node. (A waiting view keeps its base alive, so the id cannot be reused while it waits.)
_WAITING_VIEWS: dict[int, list[weakref.ref]] = {}
# Graphs built on several threads may share a leaf. Reentrant: any allocation can start a
# garbage collection, even while the lock is held, and one that frees a pinned graph releases
# its pins on this thread (each release runs whole, between the holder's steps).
_PINS_LOCK = threading.RLock()


class _Pins(list):
    """The arrays one node pinned. Released by backward, or when the node is dropped."""

    __slots__ = ()

    def __del__(self) -> None:
        if self:
            _unpin_all((self,))


def _pin_leaves(ctx: Function, inputs: tuple, *outputs: np.ndarray) -> None:
    """Make read-only, while ``ctx`` needs them, the arrays of its leaf inputs (and what they
    are views of) that it saved for backward, or that a saved array or an output is a view
    of. Arrays it neither saved nor looks into cannot change its gradient."""
    pins = []
    for kept in ctx.saved:
        for x in inputs:
            if x.data is kept:
                if x.creator is None and x not in _CONSTANTS:  # constants: read-only from birth
                    pins.append(kept)
                    base = kept.base
                    while type(base) is _ndarray:  # and what it is a view of, after it
                        pins.append(base)
                        base = base.base
                break
        if type(kept) is _ndarray and kept.base is not None:
            _add_viewed_leaves(pins, kept, inputs)  # a saved view of a leaf protects it too
    for out in outputs:  # so does an output that is a view of it
        if out.base is not None:
            _add_viewed_leaves(pins, out, inputs)
    if not pins:
        return
    # Each array joins the node's list as it is pinned, with no call in between: an
    # interrupt (Ctrl-C, delivered as a call returns) partway leaves a list that holds
    # exactly the pins made, so releasing it cannot unlock an array that another node holds.
    ctx._pinned = pinned = _Pins()
    # `with`, not acquire() and a try: an interrupt as acquire() returned would leave the
    # lock held, and every other thread waiting on it for good.
    with _PINS_LOCK:
        for array in pins:
            if array.flags.writeable:
                pinned += (array,)
                array.setflags(False)  # write=False; the positional form is twice as fast
            else:
                key = id(array)
                _SHARED_PINS[key] = _SHARED_PINS.get(key, 0) + 1
                pinned += (array,)


def _add_viewed_leaves(pins: list, view: np.ndarray, inputs: tuple) -> None:
    """Add the arrays of the non-constant leaves whose memory ``view`` looks into, and the
    arrays they are views of."""
    root = _root(view)
    for x in inputs:
        array = x.data
        if (x.creator is None and x not in _CONSTANTS and _root(array) is root
                and all(a is not array for a in pins)):
            pins.append(array)
            base = array.base
            while type(base) is _ndarray:  # and what it is a view of, after it
                pins.append(base)
                base = base.base


def _root(array: np.ndarray) -> np.ndarray:
    while type(array.base) is np.ndarray:
        array = array.base
    return array


def _unpin_all(pin_lists: Sequence[list]) -> None:
    """Release the pins of each list, and empty it."""
    shared, waiting = _SHARED_PINS, _WAITING_VIEWS
    unlocked = []  # while views wait: the arrays this release made writeable
    with _PINS_LOCK:  # not acquire() and a try: see _pin_leaves
        for pins in pin_lists:
            # Bases were pinned after their views; a view can only be made writeable again
            # once its base is, so release in reverse. Each array leaves the list before it
            # is released: after an interrupt (Ctrl-C) partway, releasing the list again
            # must not release an array twice (unlocking it under another node's pin).
            while pins:
                array = pins[-1]
                if shared:
                    key = id(array)
                    count = shared.get(key)
                    if count is not None:  # another pin holds it, or it was never ours
                        del pins[-1]
                        if count == 1:
                            del shared[key]
                        else:
                            shared[key] = count - 1
                        continue
                del pins[-1]
                try:
                    array.setflags(True)  # write=True
                except ValueError:  # an array it looks into is still locked
                    waiting.setdefault(id(_root(array)), []).append(_ref(array))
                else:
                    if waiting:
                        unlocked.append(array)
        if unlocked and waiting:
            _release_waiting_views({id(_root(array)) for array in unlocked})


def _release_waiting_views(roots: set[int]) -> None:
    """Make writeable the views waiting under ``roots`` whose bases are no longer locked."""
    for key in roots:
        # Taken out while it is gone through: a collection in this loop can run a release
        # that adds views under the same array, and what it adds must stay.
        views = _WAITING_VIEWS.pop(key, None)
        if views is None:
            continue
        still = []
        for ref in views:
            view = ref()
            if view is not None:
                try:
                    view.setflags(True)  # write=True
                except ValueError:
                    still.append(ref)
        if still:
            _WAITING_VIEWS.setdefault(key, []).extend(still)
