"""Backpropagation: the graph walk behind ``Tensor.backward`` and ``gg.grad``.

The walk is iterative (no recursion limit), deterministic, and needs no pass over the graph
before it starts. Every node carries its creation number (``node.sequence``), and a node is
always created after the nodes whose outputs it consumes. So the walk keeps the nodes it has
reached in a heap and always runs the most recently created one: by then everything that
consumes its outputs has run (all of it was created later) and its gradient is complete.
Every node runs exactly once, after everything that depends on it. Gradients waiting to be
used live in a dict and are dropped as soon as they are consumed. ``gg.grad`` alone makes one
pass first (`_prune`), to run only the nodes that lead to the inputs it was asked for, and
only the gradients that do (dx of a critic without its dW). Depends on `function`,
`tensor`, `modes`, `debug`, `errors`.
"""
from __future__ import annotations

import gc
import itertools
import threading
import weakref
from collections.abc import Callable, Sequence
from heapq import heapify, heappop, heappush
from typing import Any

import numpy as np

try:
    from numpy.lib.array_utils import byte_bounds
except ImportError:  # numpy < 2
    from numpy import byte_bounds

from graphgrad import debug
from graphgrad.errors import (
    ArgumentError,
    BackwardError,
    GraphgradError,
    GraphgradTypeError,
    ShapeError,
    describe,
    setting_text,
)
from graphgrad.function import Function, _unpin_all
from graphgrad.hooks import _HOOKED, retains_grad, run_tensor_hooks
from graphgrad.modes import _setting, _state
from graphgrad.tensor import Tensor, _constant, _op_output

_next_pass = itertools.count(1).__next__  # atomic: numbers the walks (`walk_number`)
# Held while a pass adds its gradients to the leaves' .grad (end of `_walk`). Reentrant: a
# finalizer run by an allocation in there may itself backpropagate.
_LEAF_GRADS_LOCK = threading.RLock()
# One walk at a time, process-wide: gg.grad's walk changes the needs_input_grad of the nodes
# it prunes until it ends (`_pruned_walk`), and a walk on another thread through the same
# graph would read those. Reentrant: a backward body may itself call gg.grad.
_WALK_LOCK = threading.RLock()


class _Walking(threading.local):
    # Of the innermost walk on this thread: whether it is backward()'s, which fills .grad,
    # rather than gg.grad's, which fills none (asked by `fills_grads`), and its number, from
    # `_next_pass` (`walk_number`). One attribute: set and put back once per walk.
    current = (False, 0)


_walking = _Walking()


def fills_grads() -> bool:
    """Whether the walk running an op's backward is ``J.backward()``'s, which fills .grad (not
    gg.grad's): for an op whose backward runs a walk of its own (gg.checkpoint's, through fn
    run again), to fill the .grad of the tensors of fn's first run its caller holds."""
    return _walking.current[0]


def walk_number() -> int:
    """The number of the walk running an op's backward, a new one for each pass (0 outside
    any): for the two nodes of a module's backward hooks (`module_hooks`), whose input side
    takes the grad_output its output side kept only when both ran in the same pass."""
    return _walking.current[1]


def backward(
    root: Tensor,
    grad: Any = None,
    retain_graph: bool = False,
    keep_intermediate_grads: bool = True,
) -> None:
    """Fill ``.grad`` with dJ/d(node) for every node of J's graph that requires grad.

    See `Tensor.backward`, which calls this.
    """
    seed = _seed(root, grad, "backward")
    _backprop(_walk, (root,), (seed,), retain_graph, keep_intermediate_grads, False, None)


def create_graph_refused(root: Tensor) -> ArgumentError:
    """The error for ``J.backward(create_graph=True)``: .grad holds arrays, never a graph."""
    name = root.name if root.name and root.name.isidentifier() else "J"
    return ArgumentError(
        f"backward of {describe(root)}: create_graph=True is not taken, as .grad holds numpy "
        "arrays, never a graph to differentiate again. Take the gradient as Tensors on a "
        f"graph with gg.grad: (dW,) = gg.grad({name}, [W], create_graph=True) for each W "
        "you need it of (a gradient penalty built from dW is added to the cost, then "
        "backward() as usual; a second gg.grad of it gives second derivatives)."
    )


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    create_graph: bool = False,
    retain_graph: bool | None = None,
    allow_unused: bool = False,
) -> tuple[Any, ...]:
    """Gradients of ``outputs`` with respect to ``inputs``, without touching any ``.grad``.

    Args:
        outputs: a tensor or a sequence of tensors (their gradients are summed).
        inputs: a tensor or a sequence of tensors that the outputs depend on.
        grad_outputs: dJ/d(output) for each output; defaults to 1 for one-element outputs.
        create_graph: return Tensors on a new graph, so the gradient can itself be
            differentiated (second derivatives, Hessian-vector products).
        retain_graph: keep the graph for another backward (defaults to ``create_graph``).
        allow_unused: return None for an input the outputs do not depend on, instead of
            raising.

    Returns:
        a tuple with one gradient per input: an ndarray, or a Tensor with ``create_graph``.
    """
    outputs = (outputs,) if isinstance(outputs, Tensor) else _as_tuple(outputs)
    inputs = (inputs,) if isinstance(inputs, Tensor) else _as_tuple(inputs)
    for t in (*outputs, *inputs):
        if not isinstance(t, Tensor):
            raise GraphgradTypeError(f"gg.grad takes Tensors, got {type(t).__name__}")
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    elif isinstance(grad_outputs, (Tensor, np.ndarray)) or np.isscalar(grad_outputs):
        grad_outputs = (grad_outputs,)
    if len(grad_outputs) != len(outputs):
        raise ArgumentError(
            f"gg.grad got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs: give one "
            "per output (None for a scalar output's 1)"
        )
    seeds = tuple(_seed(out, g, "gg.grad", keep_tensor=create_graph)
                  for out, g in zip(outputs, grad_outputs))
    wanted: dict[Tensor, Any] = {t: None for t in inputs}
    keep = create_graph if retain_graph is None else retain_graph
    if create_graph:
        with _setting("grad_enabled", True):
            _backprop(_pruned_walk, outputs, seeds, keep, True, wanted)
    else:
        _backprop(_pruned_walk, outputs, seeds, keep, False, wanted)
    results = []
    given: set[int] = set()
    for t in inputs:
        g = wanted[t]
        if g is None and not allow_unused:
            raise BackwardError(
                f"gg.grad: the outputs do not depend on input {describe(t)} (is it part of "
                "their graph, with requires_grad=True?). Pass allow_unused=True to get None."
            )
        if create_graph and g is not None:
            g = _as_tensor(g)
        elif not create_graph and g is not None:
            if type(g) is not np.ndarray:
                g = np.asarray(g)  # a 0-d sum comes back from numpy as a scalar
            elif id(g) in given and g.flags.writeable:
                g = g.copy()  # an input asked for twice: a change to one changes no other
            given.add(id(g))
        results.append(g)
    return tuple(results)


def _as_tuple(value: Any) -> tuple:
    """A sequence of tensors as a tuple; anything else as a one-element tuple (to be refused)."""
    try:
        return tuple(value)
    except TypeError:
        return (value,)


def _seed(root: Tensor, grad: Any, caller: str, keep_tensor: bool = False) -> Any:
    if not isinstance(root, Tensor):
        raise GraphgradTypeError(f"{caller} needs a Tensor, got {type(root).__name__}")
    if not root.requires_grad:
        if root.creator is not None:
            raise BackwardError(
                f"{caller}: {describe(root)} had its requires_grad set to False after it was "
                "made, which cuts it off from its graph. Set it back to True; for a constant "
                "copy of a result, take t.detach() instead."
            )
        raise BackwardError(
            f"{caller}: {describe(root)} does not require grad, so it has no graph to "
            "backpropagate through. Give its parameters requires_grad=True, and don't compute "
            "it inside gg.no_grad()."
        )
    data = root.data
    if grad is None:
        if data.size != 1:
            raise BackwardError(
                f"{caller}: {describe(root)} is not a single number, so its gradient must be "
                "given: pass grad=np.ones(shape) to backpropagate its sum, or reduce it first "
                "(J = loss.mean(); J.backward())."
            )
        return _ones(data.shape, data.dtype)
    if isinstance(grad, Tensor):
        if keep_tensor:
            seed_shape = grad.shape
            if seed_shape != data.shape:
                raise ShapeError(f"{caller}: grad has shape {seed_shape}, but "
                                 f"{describe(root)} has shape {data.shape}")
            return grad
        grad = grad.data
    try:
        given = np.asarray(grad)
        if given.dtype.kind not in "biuf":  # None in a list would become NaN, text an error
            raise TypeError
        seed = np.array(given, dtype=data.dtype)  # a copy: the caller's array stays theirs
    except (TypeError, ValueError):  # text, None in a list, a ragged list
        raise GraphgradTypeError(
            f"{caller}: grad must be numbers of the shape of {describe(root)}, "
            f"dJ/d(each of its elements), got {setting_text(grad)}"
        ) from None
    if seed.shape != data.shape:
        raise ShapeError(
            f"{caller}: grad has shape {seed.shape}, but {describe(root)} has shape "
            f"{data.shape}; they must match."
        )
    return seed


_ONES: dict[tuple, np.ndarray] = {}


def _ones(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A read-only array of ones, shared per shape and dtype: dJ/dJ = 1 as backward's seed,
    and the vector `nn.Linear` sums a batch's rows with."""
    key = (shape, dtype)
    ones = _ONES.get(key)
    if ones is None:
        if len(_ONES) >= 32:  # shapes are few; stay bounded if every call brings a new one
            _ONES.clear()
        ones = _ONES[key] = np.ones(shape, dtype=dtype)
        ones.setflags(False)  # write=False; the positional form is twice as fast
    return ones


def _freed_error(node: Function, roots: Sequence[Tensor],
                 through: Tensor | None = None) -> BackwardError:
    """The error of a walk that reached ``node`` after a backward freed it. When ``node``
    made none of ``roots``, this graph was built on a tensor an earlier pass ran through
    (``through``, when known): two costs on one body, a cost made from one already
    backpropagated, or the course's update W = W - lr * dW made outside no_grad, which puts
    each step's update on the next step's graph (`_looks_like_an_update`: its message says
    how to update instead)."""
    where = f" (created at {node.created_at})" if node.created_at else ""
    retain = (
        "retain_graph=True to the first backward() or gg.grad() (gg.grad keeps the graph by "
        "default only with create_graph=True: a Hessian-vector product per v, or a Hessian "
        "row by row, needs it in each call but the last)"
    )
    if all(root.creator is not node for root in roots):
        output = describe(through) if through is not None else "its output"
        if not _looks_like_an_update(node):
            return BackwardError(
                f"cannot backpropagate through {node.name}{where} a second time: an earlier "
                f"backward freed the values it saved (or failed after running through it), "
                f"and {output}, computed before that backward, is used again in this graph: "
                "two costs on one graph (two heads on one body), a cost computed from one "
                "already backpropagated, or a gradient backpropagated twice. Add the costs "
                "and backpropagate once, (J1 + J2).backward(), or pass "
                f"{retain}. A value carried over from an earlier step on purpose (a hidden "
                "state) needs .detach()."
            )
        return BackwardError(
            f"cannot backpropagate through {node.name}{where} a second time: an earlier "
            f"backward freed the values it saved (or failed after running through it), and "
            f"{output}, computed before that backward, is used again in this graph. A "
            "parameter updated as W = W - learning_rate * dW keeps the update on the graph, "
            "and the next step's cost leads back through it: update the array instead, "
            "W.data = W.data - learning_rate * dW, or in place under `with gg.no_grad():`. "
            "A value carried over from an earlier step on purpose (a hidden state) needs "
            f".detach(). To backpropagate twice through one graph, pass {retain}."
        )
    return BackwardError(
        f"cannot backpropagate through {node.name}{where} a second time: the first backward "
        f"freed the values it saved (or failed after running through it). To backpropagate "
        f"twice, pass {retain}, or run the forward pass again."
    )


def _looks_like_an_update(node: Function) -> bool:
    """Whether ``node`` may be the course's W = W - learning_rate * dW, made outside no_grad:
    a Sub or an Add of a tensor that requires grad and one that does not (dW is an array)."""
    inputs = node.inputs
    return (node.name in ("Sub", "Add") and len(inputs) == 2
            and inputs[0].requires_grad != inputs[1].requires_grad)


def _prune(roots: Sequence[Tensor], wanted: dict[Tensor, Any],
           pruned: list[tuple[Function, tuple[bool, ...]]]) -> dict[Function, None]:
    """Make gg.grad's walk run only the nodes from which an input in ``wanted`` is reached.

    Returns the nodes reached from ``roots`` that lead to none of them, for the walk to skip
    (for a critic's dx: each layer's W.T, which leads to W alone). A node that runs gets a
    ``needs_input_grad`` that is False for each input leading to no wanted one, so its
    backward skips that gradient (a layer's dW = dZ.T @ X, with nn.Linear); its own tuple
    is appended to ``pruned`` first, for `_pruned_walk` to put back. A node already released
    raises the error the walk would have raised on it.

    Two passes, iterative: the nodes reached, then each of them once, in the order they were
    created, so that the creators of a node's inputs are done before it.
    """
    # The nodes reached, latest created first, as the walk would run them: a node is
    # created after the creators of its inputs, so these come after it.
    order: list[Function] = []
    seen = {root.creator for root in roots} - {None}
    waiting = [(-node.sequence, node) for node in seen]
    heapify(waiting)
    while waiting:
        node = heappop(waiting)[1]
        if node.saved is None:  # the walk would have stopped here: it says so now
            raise _freed_error(node, roots)
        order.append(node)
        for t in node.inputs:
            parent = t.creator
            if parent is not None and parent not in seen:
                seen.add(parent)
                heappush(waiting, (-parent.sequence, parent))
    leading: set[Function] = set()  # the nodes from which an input in `wanted` is reached
    skipped: dict[Function, None] = {}
    for node in reversed(order):  # the creators of a node's inputs before it
        inputs, needs = node.inputs, node.needs_input_grad
        lead = cut = False
        for t, needed in zip(inputs, needs):
            if t.requires_grad and (t.creator in leading or t in wanted):
                lead = True
            elif needed:
                cut = True
        if not lead:
            skipped[node] = None
            continue
        leading.add(node)
        if cut:
            pruned.append((node, needs))
            node.needs_input_grad = tuple(
                needed and t.requires_grad and (t.creator in leading or t in wanted)
                for t, needed in zip(inputs, needs))
    return skipped


def _pruned_walk(roots: Sequence[Tensor], seeds: Sequence[Any], retain_graph: bool,
                 create_graph: bool, wanted: dict[Tensor, Any]) -> None:
    """gg.grad's walk: `_walk` of the nodes `_prune` keeps, each asked only for the
    gradients that lead to ``wanted``; every node has its own ``needs_input_grad`` back
    after, also when the walk fails or is interrupted (a later backward() needs them all)."""
    pruned: list[tuple[Function, tuple[bool, ...]]] = []
    try:
        skipped = _prune(roots, wanted, pruned)
        _walk(roots, seeds, retain_graph, False, create_graph, wanted, skipped)
    finally:
        for node, needs in pruned:
            node.needs_input_grad = needs


def _backprop(walk: Callable[..., None], *walk_args: Any) -> None:
    """``walk(*walk_args)`` (`_walk` or `_pruned_walk`), with Python's cyclic garbage
    collector paused while it runs.

    The walk makes no reference cycles, and every collection it would trigger (it allocates
    about one object per node when intermediate grads are kept) rescans the whole live graph
    for nothing: on a 100,000-node graph that was a third of backward's time. If another
    thread is also walking, the collector restarts when the first walk ends. Walks on
    several threads run one after the other (`_WALK_LOCK`).
    """
    with _WALK_LOCK:  # not acquire() and a try: see function._pin_leaves
        outer = _walking.current
        try:
            _walking.current = (walk is _walk, _next_pass())
            if not gc.isenabled():
                walk(*walk_args)
                return
            try:
                # In the try: an interrupt (Ctrl-C) is delivered as the call returns, and one
                # caught between the pause and the try would leave the collector off for good.
                gc.disable()
                walk(*walk_args)
            finally:
                gc.enable()
        finally:
            _walking.current = outer


def _walk(
    roots: Sequence[Tensor],
    seeds: Sequence[Any],
    retain_graph: bool,
    keep_intermediate_grads: bool,
    create_graph: bool,
    wanted: dict[Tensor, Any] | None,
    skipped: dict[Function, None] | None = None,
) -> None:
    # Gradients not yet used, by tensor. An intermediate's entry is popped when its node runs;
    # what is left at the end are the leaves' gradients.
    pending: dict[Tensor, Any] = {}
    for root, seed in zip(roots, seeds):
        previous = pending.get(root)
        pending[root] = seed if previous is None else _add(previous, seed)

    # The nodes reached, each with the tensor it was reached through (a single-output node's
    # output), and the heap of those waiting to run, latest created first. The nodes gg.grad
    # skips (`_prune`) are in it from the start, as None: never reached, never run.
    output_of: dict[Function, Tensor | None] = {} if skipped is None else dict(skipped)
    waiting: list[tuple[int, Function]] = []
    for root in roots:
        node = root.creator
        if node is not None and node not in output_of:
            output_of[node] = root
            heappush(waiting, (-node.sequence, node))

    record_steps = keep_intermediate_grads and wanted is None
    this_pass = _walking.current[1] if record_steps else None  # the number `_backprop` drew
    check = _state.anomaly
    # The tensors holding hooks (`Tensor.register_hook`), by id: with none, hooks cost one
    # test of this dict per node.
    hooked = _HOOKED
    step = 0
    pinned = []  # released together at the end: one lock for the whole pass
    # Of the nodes whose gradients were converted (a scalar made an array, a dtype cast), the
    # gradients as they flowed: set as their input_grads when the pass ends (`_set_conformed`).
    conformed: dict[Function, list] = {}
    # Bound once: this loop runs once per node and its inner loop once per edge.
    pending_get, pending_pop = pending.get, pending.pop
    ndarray = np.ndarray
    try:
        while waiting:
            node = heappop(waiting)[1]
            if node.saved is None:
                raise _freed_error(node, roots, output_of[node])
            inputs = node.inputs
            if node._outputs is None:
                out = output_of[node]
                upstream = pending_pop(out, None)
                if upstream is not None:
                    if type(upstream) is not ndarray and not create_graph:
                        upstream = np.asarray(upstream)  # numpy gives 0-d sums as scalars
                    if type(upstream) is ndarray:
                        # Shared with other nodes' gradients (x + y hands both one array):
                        # read-only, so a backward that writes into it cannot change theirs.
                        upstream.setflags(False)  # write=False; the positional form is faster
                    if hooked and id(out) in hooked:  # dJ/d(out) is complete: its hooks now
                        upstream = run_tensor_hooks(out, upstream, create_graph)
                    if wanted is None:
                        if keep_intermediate_grads or (
                                hooked and id(out) in hooked and retains_grad(out)):
                            out.grad = upstream  # (the second: out.retain_grad())
                        elif out.grad is not None:  # an earlier pass's, no longer dJ/d(out)
                            out.grad = None
                    elif out in wanted:
                        wanted[out] = upstream
                multi = False
            else:
                upstream = _gather_outputs(node, pending, wanted, keep_intermediate_grads,
                                           create_graph)
                multi = True

            if upstream is None:  # nothing flowed into this node: its inputs get nothing from it
                grads = (None,) * len(inputs)
            elif create_graph:
                grads = _run_backward_on_graph(node, upstream, node.outputs if multi else (out,))
            else:
                try:
                    grads = (node.backward(node, *upstream) if multi
                             else node.backward(node, upstream))
                except GraphgradError:
                    raise
                except Exception as exc:
                    raise _backward_failed(node, exc) from exc
                if type(grads) is not tuple:
                    grads = (grads,)
                if len(grads) != len(inputs):
                    raise _grad_count_error(node, grads)
            if check and upstream is not None:
                debug.check_gradients(node, grads, upstream)
            if record_steps and upstream is not None:
                node.backward_order = step
                node.input_grads = grads
                node.backward_pass = this_pass
                step += 1
            elif wanted is None and node.input_grads is not None:
                # This pass records no steps: an earlier pass's would be drawn as this one's.
                node.backward_order = node.input_grads = node.backward_pass = None
            if not retain_graph:  # free the saved values; None marks the node as released
                node.saved = None
                if node._pinned:
                    pinned.append(node._pinned)

            for t, g in zip(inputs, grads):
                parent = t.creator
                if g is not None and t.requires_grad:
                    data = t.data
                    if type(g) is not ndarray:
                        returned, g = g, _as_gradient(node, t, g, create_graph)
                        if record_steps:
                            _record_conformed(conformed, node, t, returned, g)
                    if g.shape != data.shape:
                        raise _shape_error(node, t, g, grads)
                    if g.dtype is not data.dtype and g.dtype != data.dtype:
                        if data.dtype.kind != "f":  # rounding would make it silently wrong
                            raise _integer_gradient_error(node, t, g)
                        returned, g = g, g.astype(data.dtype)
                        if record_steps:
                            _record_conformed(conformed, node, t, returned, g)
                    previous = pending_get(t)
                    # Never in place: gradient arrays are shared. (0-d sums come back as numpy
                    # scalars; they become arrays where they are stored.)
                    pending[t] = g if previous is None else previous + g
                if parent is not None and parent not in output_of:
                    output_of[parent] = t
                    heappush(waiting, (-parent.sequence, parent))
        if skipped and not retain_graph:
            # Released as the walk would have released them, had it run them: the graph is
            # freed as a whole, and a leaf array a skipped node saved becomes writeable.
            for node in skipped:
                node.saved = None
                if node._pinned:
                    pinned.append(node._pinned)
        if hooked:
            # What is left are the leaves' gradients (and those of inputs gg.grad asked for
            # whose ops it skipped), complete: their hooks, before they are handed out. A
            # hook that fails leaves every leaf's .grad as it was.
            for leaf, g in pending.items():
                if id(leaf) in hooked and (wanted is None or leaf in wanted):
                    pending[leaf] = run_tensor_hooks(leaf, g, create_graph)

    except BaseException:
        # A failed pass releases the arrays of the nodes it ran through, as a finished one
        # does (they would stay read-only while the graph lives), and lets go of its
        # gradients: a kept exception's traceback holds this frame.
        if pinned:
            _unpin_all(pinned)
        if this_pass is not None:
            _forget_pass(output_of, this_pass)
        output_of.clear()
        waiting.clear()
        pending.clear()
        raise
    if conformed:
        _set_conformed(conformed)
    # The leaves' gradients are handed out before the leaf arrays the nodes saved are
    # released: still read-only, one that a backward returned as a gradient (dJ/dx = y, y's
    # own array) is copied, and x's gradient does not change with y (or y with it).
    try:
        if wanted is None:
            # Graphs backpropagated on several threads may share leaves: a pass adds to a
            # leaf's .grad by reading it and storing the sum, so another pass's sum stored
            # in between would be lost.
            with _LEAF_GRADS_LOCK:
                try:
                    _add_to_leaves(pending, retain_graph, record_steps)
                except BaseException:
                    if this_pass is not None:
                        _forget_pass(output_of, this_pass)
                    raise
        else:
            for leaf, g in pending.items():
                if leaf in wanted:
                    if pinned and type(g) is ndarray and any(g is a for pins in pinned
                                                             for a in pins):
                        g = g.copy()  # a leaf's array, writeable again below
                    wanted[leaf] = g
    finally:
        if pinned:
            _unpin_all(pinned)


def _forget_pass(reached: dict[Function, Tensor], this_pass: int) -> None:
    """Drop the steps a failed pass recorded on the nodes it ran (``reached``: those it got
    to): it added no gradient to the leaves, and a picture would show its red edges as those
    of a finished pass. A node it never ran keeps an earlier pass's steps; .grad of the
    tensors it got through stays, as PyTorch leaves it."""
    for node in reached:
        if node.backward_pass == this_pass:
            node.backward_order = node.input_grads = node.backward_pass = None


def _add_to_leaves(pending: dict[Tensor, Any], retain_graph: bool, recorded: bool) -> None:
    """Add each leaf's gradient of this pass to its .grad, an array of the leaf's own, which
    the user may change in place, as in PyTorch (the course's np.clip(dW, -5, 5, out=dW),
    W.grad /= n_batches). Whether the pass kept its graph (``retain_graph``) says what a
    refused .grad's error advises, and that a gradient is copied (a node kept may return it
    again); ``recorded``, whether it recorded its steps, whose edges hold the gradients that
    flowed."""
    holding = False
    for leaf in pending:
        # A .grad set by hand: numpy would broadcast the sum into a gradient of another
        # shape. Checked before any leaf's grad changes, so none is half updated.
        held = leaf.grad
        if held is not None and leaf.requires_grad:
            if np.shape(held) != leaf.data.shape:
                raise _held_grad_error(leaf, held, retain_graph)
            holding = True
    shared = _sharing_grads(pending) if holding else ()
    given: set[int] = set()
    for leaf, g in pending.items():
        if leaf.requires_grad:
            held = leaf.grad
            if held is not None:
                # Into the array held, as PyTorch does: a reference to W.grad taken between
                # passes sees the sum. One that cannot take it (read-only, a narrower dtype,
                # not an array) is replaced by the sum, and so is one sharing memory with a
                # leaf's data or another leaf's .grad (W.grad = W.data, a.grad = b.grad set
                # by hand): the sum would change a parameter, or be another leaf's too.
                if (type(held) is np.ndarray and held.flags.writeable
                        and held.dtype == np.result_type(held, g) and id(leaf) not in shared):
                    g = np.add(held, g, out=held)
                else:
                    g = held + g
            elif (recorded or retain_graph or not g.flags.writeable or g is leaf.data
                  or id(g) in given
                  or g.base is not None and (g.base is leaf.data or id(g.base) in given)):
                # Shared, so a change to .grad would change something else: with other
                # nodes' gradients (x + y hands both one array, read-only since, and so are
                # views of it), with another leaf's .grad (or what it is a view of), with
                # the steps recorded for pictures, with the leaf's own data (a backward
                # returning x as dJ/dx: W.data -= lr * W.grad would change .grad too), or
                # with another tensor's (dJ/dx = y: an array a node saved, read-only until
                # `_walk` releases it), or with a graph kept for another pass, whose node may
                # return the same array again (a dx it computed in forward), to be added
                # into .grad. PyTorch copies too. A gradient a backward made for this leaf
                # alone (dW = dZ.T @ X, db = dZ summed and reshaped, a view of that sum) is
                # taken as it is.
                g = g.copy()
            if type(g) is not np.ndarray:
                g = np.asarray(g)
            given.add(id(g))
            if g.base is not None:
                given.add(id(g.base))
            leaf.grad = g


def zero_grads(tensors: Sequence[Tensor], set_to_none: bool) -> None:
    """Forget the gradients of ``tensors`` (the parameters of an optimizer or a model): each
    ``.grad`` set to None, or with ``set_to_none=False`` filled with zeros in place, as
    PyTorch's ``zero_grad(set_to_none=False)``, so that a reference taken to it (a buffer
    handed to other code) sees the zeros and the next backward adds into the same array. A
    .grad that is not the tensor's own array (read-only, shared with a parameter's data or
    another's .grad, as ``W.grad = W.data`` set by hand, of another shape, or no array) gets a
    new array of zeros of the tensor's shape instead: filled in place, it would have zeroed
    what it shares. A frozen tensor's .grad (a layer frozen after some steps) is zeroed alike,
    in place when it is its own. A tensor without a gradient keeps None."""
    if set_to_none:
        for t in tensors:
            t.grad = None
        return
    held = [t for t in tensors if t.grad is not None]
    shared = _sharing_grads(dict.fromkeys(held), frozen_too=True)
    for t in held:
        g = t.grad
        if (type(g) is np.ndarray and g.flags.writeable and g.shape == t.data.shape
                and id(t) not in shared):
            g.fill(0)
        else:
            dtype = g.dtype if isinstance(g, np.ndarray) and g.dtype.kind == "f" else t.dtype
            t.grad = np.zeros(t.data.shape, dtype)


def _sharing_grads(pending: dict[Tensor, Any], frozen_too: bool = False) -> set[int]:
    """The ids of the leaves whose .grad, an array, shares memory with a leaf's data (its
    own or another's) or with another leaf's .grad, among the leaves of ``pending`` that
    require grad (``frozen_too``: among all of them, for `zero_grads`).

    The arrays are grouped by the object owning their memory, and only a group of several
    is looked at: there, by the arrays' byte bounds (np.may_share_memory's test), sorted so
    that disjoint slices of one flat buffer cost n log n rather than n**2."""
    groups: dict[int, list[tuple[np.ndarray, Tensor | None]]] = {}
    for leaf in pending:
        held = leaf.grad
        if type(held) is np.ndarray and held.size and (leaf.requires_grad or frozen_too):
            key = id(held) if held.base is None else _memory_owner(held)
            groups.setdefault(key, []).append((held, leaf))
    for leaf in pending:
        data = leaf.data
        group = groups.get(id(data) if data.base is None else _memory_owner(data))
        if group is not None and data.size:
            group.append((data, None))
    shared: set[int] = set()
    for group in groups.values():
        if len(group) < 2:
            continue
        spans = sorted((*byte_bounds(array), i) for i, (array, _) in enumerate(group))
        reach = spans[0][0]  # the highest end among the spans before
        for k, (low, high, i) in enumerate(spans):
            leaf = group[i][1]
            if leaf is not None and (reach > low or k + 1 < len(spans) and spans[k + 1][0] < high):
                shared.add(id(leaf))
            reach = max(reach, high)
    return shared


def _memory_owner(array: np.ndarray) -> int:
    """The id of the object whose memory a view's elements are in: an array, or another
    object holding a buffer (np.frombuffer's)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return id(array if array.base is None else array.base)


def _backward_failed(node: Function, exc: Exception, on_tensors: bool = False) -> BackwardError:
    where = f" (created at {node.created_at})" if node.created_at else ""
    reason = getattr(exc, "on_tensors", None) if on_tensors else None
    if reason is not None:  # numpy code a Tensor cannot run: its own advice would not fit
        return BackwardError(
            f"{node.name}.backward{where} failed on Tensors: {reason}."
            "\n  create_graph=True runs backward on Tensors, to record the graph of the "
            "gradient itself (second derivatives, gradgradcheck). Write the body with numpy "
            "operators and the numpy functions graphgrad has ops for (np.where(x > 0, grad, 0) "
            "rather than a copy of grad and a write into it; a Tensor never changes, so it "
            "needs no copy), and run an op it needs with Op.call(...), which records it on "
            "Tensors (a scatter-add such as np.add.at(dx, index, grad) is "
            "graphgrad.ops.indexing.IndexAdd.call(grad, index=index, shape=x.shape))."
        )
    message = f"{node.name}.backward{where} failed: {exc}"
    if on_tensors and isinstance(exc, AttributeError) and "'Tensor'" in str(exc):
        message += (
            "\n  create_graph=True runs backward on Tensors, to record the graph of the "
            "gradient itself (second derivatives, gradgradcheck), and a Tensor has no such "
            "method. Write the body with numpy operators and functions (np.where(x > 0, grad, 0) "
            "rather than grad.copy() and a write into it); a Tensor never changes, so it needs "
            "no copy."
        )
    if isinstance(exc, ValueError) and "read-only" in str(exc):  # numpy's words for it
        message += (
            "\n  backward must not change the arrays it is given in place: its upstream "
            "gradient is shared with other nodes' gradients, and its saved arrays with the "
            "graph. Compute new arrays instead (grad = grad * 2, not grad *= 2; "
            "grad = grad.copy() before writing into elements)."
        )
    return BackwardError(message)


def _grad_count_error(node: Function, grads: tuple) -> BackwardError:
    if len(grads) == 1 and type(grads[0]) is list:
        return BackwardError(
            f"{node.name}.backward returned a list; return the gradients of its "
            f"{len(node.inputs)} inputs as a tuple (return dx, dy), one per input of forward "
            "(None where there is none)."
        )
    return BackwardError(
        f"{node.name}.backward returned {len(grads)} gradients for {len(node.inputs)} "
        "inputs; return one per input of forward (None where there is none)."
    )


def _as_gradient(node: Function, t: Tensor, g: Any, create_graph: bool) -> Any:
    if isinstance(g, Tensor):
        if create_graph:
            return g
        raise BackwardError(
            f"{node.name}.backward returned a Tensor for input {describe(t)}; backward works on "
            "numpy arrays and must return arrays (or None)."
        )
    array = np.asarray(g)  # numpy turns 0-d results into scalars; grads are arrays
    if array.dtype.kind not in "fc":
        raise BackwardError(
            f"{node.name}.backward returned {type(g).__name__} for input {describe(t)}; return "
            "a float array of the input's shape, or None."
        )
    return array


def _record_conformed(conformed: dict[Function, list], node: Function, t: Tensor,
                      returned: Any, g: Any) -> None:
    """Keep ``input_grads`` as the arrays that really flowed (after a scalar became an array
    or a gradient took its input's dtype): ``g`` replaces ``returned`` in the first slot of
    ``t`` that still holds it. The slots are converted in order, so the search goes on from
    the last one replaced: a node with n inputs costs O(n) in all, not O(n) per input."""
    entry = conformed.get(node)
    if entry is None:
        entry = conformed[node] = [list(node.input_grads), 0]
    recorded, start = entry
    inputs = node.inputs
    for i in range(start, len(recorded)):
        if inputs[i] is t and recorded[i] is returned:
            recorded[i] = g
            entry[1] = i  # the same slot may be converted twice (to an array, then its dtype)
            return


def _set_conformed(conformed: dict[Function, list]) -> None:
    for node, (recorded, _) in conformed.items():
        node.input_grads = tuple(recorded)


def _add(a: Any, b: Any) -> Any:
    """a + b for gradients: never in place (they are shared), and 0-d stays an array."""
    total = a + b
    return total if isinstance(total, (np.ndarray, Tensor)) else np.asarray(total)


def _gather_outputs(node: Function, pending: dict, wanted: dict | None, keep: bool,
                    create_graph: bool) -> tuple | None:
    """The upstream gradients of a node with several outputs (zeros for unused outputs),
    each after its output's hooks (an output no gradient reached calls none)."""
    grads = []
    any_grad = False
    for ref, (shape, dtype) in zip(node._outputs, node.output_meta):
        out = ref()
        g = pending.pop(out, None) if out is not None else None
        if g is None:
            g = np.zeros(shape, dtype=dtype)
            # Nothing flowed into it in this pass: a .grad an earlier pass left would read as
            # this one's, as its node ran in it.
            if wanted is None and out is not None and out.grad is not None:
                out.grad = None
        else:
            any_grad = True
            if not isinstance(g, (np.ndarray, Tensor)):  # a 0-d sum: numpy gives a scalar
                g = np.asarray(g)
            if type(g) is np.ndarray:
                g.setflags(False)  # shared with other nodes' grads: read-only
            if _HOOKED and id(out) in _HOOKED:
                g = run_tensor_hooks(out, g, create_graph)
            if wanted is None:
                if keep or (_HOOKED and id(out) in _HOOKED and retains_grad(out)):
                    out.grad = g
                elif out.grad is not None:  # an earlier pass's, no longer dJ/d(out)
                    out.grad = None
            elif out in wanted:
                wanted[out] = g
        grads.append(g)
    return tuple(grads) if any_grad else None


def _run_backward_on_graph(node: Function, upstream: Any, outputs: tuple) -> tuple:
    """Run a backward body on Tensors, so its own graph is recorded (``create_graph``)."""
    multi = type(upstream) is tuple
    if node._saved_outputs:
        outputs = _revive_saved_outputs(node, outputs)
    forward_arrays = node._forward_arrays  # views, when two inputs held one array
    if forward_arrays is None:
        by_identity = {id(t.data): t for t in node.inputs}
    else:
        _check_leaf_data_kept_under_views(node, forward_arrays)
        by_identity = {id(a): t for a, t in zip(forward_arrays, node.inputs)}
    for out in outputs:
        if out is not None:
            by_identity[id(out.data)] = out
    saved = node.saved
    if node._pinned:
        _check_leaf_data_kept(node, by_identity)
    node.saved = tuple(by_identity.get(id(a), a) if isinstance(a, np.ndarray) else a
                       for a in saved)
    try:
        if multi:
            grads = node.backward(node, *[_as_tensor(u) for u in upstream])
        else:
            grads = node.backward(node, _as_tensor(upstream))
    except GraphgradError as exc:
        if getattr(exc, "on_tensors", None) is None:  # not about the body's numpy
            raise
        raise _backward_failed(node, exc, on_tensors=True) from exc
    except Exception as exc:
        raise _backward_failed(node, exc, on_tensors=True) from exc
    finally:
        node.saved = saved
    if type(grads) is not tuple:
        grads = (grads,)
    if len(grads) != len(node.inputs):
        raise _grad_count_error(node, grads)
    return tuple(g if g is None else _as_tensor(g) for g in grads)


def _revive_saved_outputs(node: Function, outputs: tuple) -> tuple:
    """The node's outputs, with a Tensor again for each one the caller dropped but forward
    saved: the graph of the gradient goes through it (d/dx of cos x's use in sin's backward),
    and the node then gathers its gradient through it. That graph holds it."""
    outputs = list(outputs)
    refs = list(node._outputs)
    for j, i in node._saved_outputs:
        if outputs[i] is None:
            outputs[i] = _op_output(node.saved[j], node, i)
            refs[i] = weakref.ref(outputs[i])
    node._outputs = tuple(refs)
    return tuple(outputs)


def _check_leaf_data_kept(node: Function, by_identity: dict[int, Tensor]) -> None:
    """Differentiating a backward body needs each saved leaf array to still be its tensor's
    data: a leaf whose data was replaced since (``t.data = new``) leaves nothing to
    differentiate the saved values through."""
    pinned = node._pinned
    for array in node.saved:
        if id(array) not in by_identity and any(array is p for p in pinned):
            replaced = dict.fromkeys(t for t in node.inputs if t.creator is None
                                     and t.requires_grad
                                     and all(t.data is not a for a in node.saved))
            raise _replaced_data_error(node, ", ".join(describe(t) for t in replaced)
                                       or "an input leaf")


def _check_leaf_data_kept_under_views(node: Function, forward_arrays: tuple) -> None:
    """`_check_leaf_data_kept` for a node whose inputs shared an array: each leaf must still
    hold the array forward got (or the one its view looks into)."""
    for t, array in zip(node.inputs, forward_arrays):
        if t.creator is None and t.data is not array and t.data is not array.base:
            raise _replaced_data_error(node, describe(t))


def _replaced_data_error(node: Function, which: str) -> BackwardError:
    return BackwardError(
        f"{node.name}: the data of {which} was replaced (t.data = ...) after the op recorded "
        "it, so no tensor holds the values the op saved and create_graph=True cannot "
        "differentiate its backward with respect to them. Replace a leaf's data only once its "
        "graphs are done with, or run the forward pass again."
    )


def _as_tensor(value: Any) -> Tensor:
    # As it is: _lift would give a 0-d float32 array the dtype of a Python number.
    return value if isinstance(value, Tensor) else _constant(value)


def _held_grad_error(leaf: Tensor, held: Any, retain_graph: bool) -> ShapeError:
    # Found once the walk is done, when the leaves' gradients are added: by then, a pass
    # without retain_graph has released every node it ran through, so backward on the same
    # graph would only say it was freed.
    then = ("call backward again: no .grad was changed, and the graph was kept "
            "(retain_graph=True)." if retain_graph else
            "run the forward pass again, then backward: no .grad was changed, but this "
            "backward released the graph as it ran through it.")
    return ShapeError(
        f"backward: {describe(leaf)} holds a .grad of shape {np.shape(held)}, to which its new "
        f"gradient would be added; a tensor's .grad must have its shape. Set it to None (or "
        f"to an array of shape {leaf.data.shape}) and {then}"
    )


def _integer_gradient_error(node: Function, t: Tensor, g: Any) -> BackwardError:
    # The constructor and requires_grad_() refuse this; assigning .data or .requires_grad
    # directly does not.
    return BackwardError(
        f"{node.name}.backward: {describe(t)} requires grad but holds {t.data.dtype} values, "
        f"so its {g.dtype} gradient would be rounded to them; only float tensors can require "
        "grad. Give it a float array (t.data = t.data.astype(np.float64)), or turn its "
        "requires_grad off."
    )


def _shape_error(node: Function, t: Tensor, g: Any, grads: tuple) -> ShapeError:
    # The input whose gradient has the wrong shape: a tensor given twice (f(x, x)) fills two.
    index = next((i for i, (x, returned) in enumerate(zip(node.inputs, grads))
                  if x is t and np.shape(returned) == np.shape(g)),
                 next(i for i, x in enumerate(node.inputs) if x is t))
    return ShapeError(
        f"{node.name}.backward returned a gradient of shape {tuple(g.shape)} for input {index}, "
        f"{describe(t)}; a gradient must have its input's shape. If forward broadcast this "
        "input, sum the gradient over the broadcast axes (graphgrad.ops.broadcasting."
        "unbroadcast)."
    )
