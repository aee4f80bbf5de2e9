"""Hooks: functions the user attaches to a tensor's gradient, and the handles of every hook.

``t.register_hook(fn)`` calls ``fn(grad)`` in every backward pass (``J.backward()``,
``gg.grad``) once dJ/dt is complete, before it is sent on to the inputs of the op that made
``t`` (or, for a leaf, added to its ``.grad``); a value it returns replaces the gradient.
Each registration returns a `RemovableHandle`, as a module's hooks' do (`nn.module_hooks`:
around its forward, and in its backward). ``t.retain_grad()`` is kept among ``t``'s hooks
too, as a mark the walk looks for to keep ``t.grad`` in a backward that keeps only the
leaves'.

Where none are registered, hooks cost (almost) nothing: a tensor holding hooks is listed,
weakly, in `_HOOKED`, which the graph walk looks at once per node only while it is not empty
(`engine._walk`); an op's output keeps its hooks on its node, an `nn.Parameter` in a slot
of its own, a plain leaf Tensor in a table here (a Tensor has no field for them: one more
would slow every op of a long graph by a few percent). Hooks live and die with what they
are registered on: nothing here holds a tensor (but a plain leaf's hook that refers to it),
so a dropped loss still frees its graph at once. Depends on `tensor`, `errors`.
"""
from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from graphgrad.errors import (
    AnomalyError,
    BackwardError,
    GraphgradError,
    GraphgradTypeError,
    describe,
)
from graphgrad.modes import _state
from graphgrad.tensor import Tensor, _constant

_next_id = itertools.count(1).__next__  # atomic: numbers every hook registered, in order
# The tensors that hold hooks, by id(): a weak reference to each, whose callback takes it out
# when the tensor dies (before its id can be reused). The hooks themselves are kept with the
# tensor (`_hooks_of`). Empty, the graph walk skips hooks.
_HOOKED: dict[int, weakref.ref] = {}
# The hooks of the leaves that have no slot for them (plain Tensors; an nn.Parameter keeps
# its own), by id(), until they are removed or the leaf dies.
_PLAIN_LEAF_HOOKS: dict[int, dict[int, Callable]] = {}


class RemovableHandle:
    """What a ``register_*hook`` method returns: ``handle.remove()`` takes the hook away
    (again: nothing happens). ``with t.register_hook(fn):`` keeps it for the block only.

    The handle holds what the hook is on weakly: keeping a handle keeps no graph alive.
    """

    __slots__ = ("_owner", "_remove", "id")

    def __init__(self, owner: Any, remove: Callable[[Any, int], None], hook_id: int) -> None:
        self._owner = weakref.ref(owner)
        self._remove = remove  # a function of (owner, id), never bound to the owner
        self.id = hook_id

    def remove(self) -> None:
        """Take the hook away from what it was registered on (if that still exists)."""
        owner = self._owner()
        if owner is not None:
            self._remove(owner, self.id)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.remove()

    def __repr__(self) -> str:
        return f"<RemovableHandle {self.id}>"


def _checked_hook(hook: Any, caller: str) -> Callable:
    if not callable(hook):
        raise GraphgradTypeError(f"{caller} takes a function, got {type(hook).__name__}")
    return hook


def hook_name(hook: Callable) -> str:
    """``double`` or ``<lambda> (train.py:12)``: the hook as an error message names it."""
    name = getattr(hook, "__qualname__", None) or type(hook).__name__
    name = name.rsplit("<locals>.", 1)[-1]  # a function defined in a function: its own name
    code = getattr(hook, "__code__", None)
    if code is None:
        return name
    filename = code.co_filename.replace("\\", "/").rsplit("/", 1)[-1]
    return f"{name} ({filename}:{code.co_firstlineno})"


# -- tensor hooks --------------------------------------------------------------------------------
def register_tensor_hook(t: Tensor, hook: Callable[[Any], Any]) -> RemovableHandle:
    """`Tensor.register_hook`: keep ``hook`` on ``t``, after those it already holds."""
    hook = _checked_hook(hook, f"register_hook of {describe(t)}")
    if not t.requires_grad:
        raise BackwardError(
            f"register_hook: {describe(t)} does not require grad, so no gradient will ever "
            "reach it to call the hook with. Hook a tensor that requires grad (a parameter, "
            "or a result computed from one outside gg.no_grad())."
        )
    handle = RemovableHandle(t, _remove_tensor_hook, _next_id())
    _hooks_of(t, create=True)[handle.id] = hook
    return handle


def _hooks_of(t: Tensor, create: bool = False) -> dict[int, Callable] | None:
    """The dict of ``t``'s hooks, by handle id (None when it has none and not ``create``).

    An op's output keeps them on its node, under its output index (``node._hooks``), an
    `nn.Parameter` in a slot of its own: each lives as long as its tensor, and a hook that
    refers to the tensor (``p.register_hook(lambda g, p=p: ...)``) makes a reference cycle
    the collector frees, as in PyTorch, where a table here would keep it, and its graph or
    model, alive for good. A plain leaf Tensor has no such slot (one on every tensor slowed a
    100,000-op chain by 4-10%): its hooks are kept in `_PLAIN_LEAF_HOOKS`, and one that
    refers to the leaf keeps it alive until the hook is removed.
    """
    key = id(t)
    entry = _HOOKED.get(key)
    if entry is not None and entry() is not t:
        entry = None  # cannot happen (an entry leaves with its tensor): never trust an id
    if entry is None and not create:
        return None
    node = t.creator
    if node is None:
        own = hasattr(type(t), "_leaf_hooks")  # an nn.Parameter's slot
        if entry is not None:
            return t._leaf_hooks if own else _PLAIN_LEAF_HOOKS[key]
        hooks = {}
        if own:
            t._leaf_hooks = hooks
        else:
            _PLAIN_LEAF_HOOKS[key] = hooks
        _HOOKED[key] = weakref.ref(t, _forget(key))
        return hooks
    index = 0 if node._outputs is None else next(
        i for i, ref in enumerate(node._outputs) if ref() is t)
    table = node._hooks
    # Without an entry, what the table holds under this index was a dead output's, whose
    # node brought it back as a new tensor (`engine._revive_saved_outputs`): not this one's.
    hooks = None if table is None or entry is None else table.get(index)
    if hooks is None and create:
        if table is None:
            table = node._hooks = {}
        hooks = table[index] = {}
        _HOOKED[key] = weakref.ref(t, _forget(key))
    return hooks


def _forget(key: int) -> Callable[[weakref.ref], None]:
    """The callback taking a dead tensor out of `_HOOKED` (it holds the id, not the tensor)."""
    def forget(ref: weakref.ref) -> None:
        entry = _HOOKED.get(key)
        if entry is ref:
            del _HOOKED[key]
            _PLAIN_LEAF_HOOKS.pop(key, None)
    return forget


def _remove_tensor_hook(t: Tensor, hook_id: int) -> None:
    hooks = _hooks_of(t)
    if hooks is None or hooks.pop(hook_id, None) is None or hooks:
        return
    # The last one: with no hooked tensor left, the walk looks for hooks no more.
    del _HOOKED[id(t)]
    node = t.creator
    if node is None:
        _PLAIN_LEAF_HOOKS.pop(id(t), None)
        if getattr(t, "_leaf_hooks", None) is not None:
            del t._leaf_hooks
    else:
        table = node._hooks
        for index, held in list(table.items()):
            if held is hooks:
                del table[index]
        if not table:
            node._hooks = None


def tensor_hooks(t: Tensor) -> dict[int, Callable]:
    """The hooks ``t`` holds, by handle id, in registration order (empty when none); its
    `retain_grad` mark among them, as a hook that changes nothing."""
    hooks = _hooks_of(t)
    return {} if hooks is None else hooks


# -- retain_grad -------------------------------------------------------------------------------
# `Tensor.retain_grad` marks an op's output by holding this under key 0 among its hooks (handle
# ids start at 1): the walk, which looks at a tensor's hooks only once some tensor has any,
# then keeps its gradient in a pass that keeps no other intermediate's. A walk with no marked
# tensor pays nothing more than it does for hooks; the mark, called as a hook, changes nothing.
_RETAIN = 0


def _retain_mark(grad: Any) -> None:
    """What `retain_grad` holds among a tensor's hooks: a hook that leaves the gradient be."""
    return None


def retain_grad(t: Tensor) -> None:
    """`Tensor.retain_grad`: mark ``t``, an op's output that requires grad, for good."""
    hooks = _hooks_of(t, create=True)
    hooks.setdefault(_RETAIN, _retain_mark)


def retains_grad(t: Tensor) -> bool:
    """Whether ``t`` was marked by `retain_grad` (the walk asks only of a tensor in `_HOOKED`)."""
    hooks = _hooks_of(t)
    return hooks is not None and _RETAIN in hooks


def run_tensor_hooks(t: Tensor, grad: Any, on_tensors: bool) -> Any:
    """dJ/dt after ``t``'s hooks, each given the result of the one before: ``grad`` itself
    when none returns a value. ``grad`` is an array, or a Tensor when the walk records the
    gradient's graph (``on_tensors``, gg.grad's create_graph), and each hook is given it as
    such. The array a hook sees is read-only (it is the graph's, maybe shared with other
    gradients), and never a leaf's .grad, which a later backward adds into; the value it
    returns must have the gradient's shape and dtype, and becomes the graph's: read-only
    too."""
    hooks = tensor_hooks(t)
    if not hooks:
        return grad
    if on_tensors:
        given = grad if isinstance(grad, Tensor) else _constant(np.asarray(grad))
    else:
        given = grad if type(grad) is np.ndarray else np.asarray(grad)  # a 0-d numpy scalar
        if given.flags.writeable:  # the leaf's own array, or one a backward still holds
            # A copy, not a view: a hook may keep what it is given (a log of each pass's
            # gradient), and the leaf's .grad is changed in place by the next backward.
            given = given.copy()
            given.setflags(False)
    changed = False
    for hook in tuple(hooks.values()):  # a hook may remove itself, or add another
        try:
            result = hook(given)
        except GraphgradError:
            raise
        except Exception as exc:
            raise _hook_failed(t, hook, exc) from exc
        if result is not None and result is not given:
            given = hook_gradient(f"hook {hook_name(hook)} of {describe(t)}", "", given,
                                  result, on_tensors)
            changed = True
    return given if changed else grad


def hook_gradient(head: str, place: str, old: Any, value: Any, on_tensors: bool) -> Any:
    """``value``, a gradient a hook returned in place of ``old``, checked against it and made
    what the walk takes: an array (read-only, as every gradient flowing) or, under
    create_graph (``on_tensors``), a Tensor. ``head`` names the hook in errors ("hook scale
    of W"); ``place`` names the gradient it replaces ("grad_input[0]" for a module's hook),
    "" for the one gradient a tensor hook is given. Under `detect_anomaly`, a NaN or Inf
    returned for a finite gradient is refused: the op after it would be blamed for it (a
    leaf's would go into .grad unreported)."""
    at, kept = (f" as {place}", place.split("[")[0]) if place else ("", "gradient")
    if isinstance(value, Tensor):
        if not on_tensors:
            raise BackwardError(
                f"{head} returned a Tensor{at}; without create_graph a gradient is a numpy "
                "array: return an array (g * 2, np.clip(g, -1, 1)), or None to keep the "
                f"{kept}."
            )
        new = value
    else:
        new = np.asarray(value)  # numpy gives 0-d results as scalars
        if new.dtype.kind not in "fc":
            raise BackwardError(
                f"{head} returned {type(value).__name__}{at}; return a float array of shape "
                f"{tuple(old.shape)}, or None to keep the {kept}."
            )
        if on_tensors:
            new = _constant(new)
    if new.shape != old.shape or new.dtype != old.dtype:
        raise BackwardError(
            f"{head} returned {place or 'a gradient'} of shape {tuple(new.shape)} and dtype "
            f"{new.dtype}, for a gradient of shape {tuple(old.shape)} and dtype {old.dtype}: "
            "it must have the shape and dtype of the one it replaces (g * 2.0 keeps them; "
            f"cast with .astype(np.{old.dtype}))."
        )
    if _state.anomaly:
        _check_finite(head, place, old, new)
    if type(new) is np.ndarray and new.flags.writeable:
        new = new.view()  # read-only, as every gradient flowing, without locking the hook's own
        new.setflags(False)
    return new


def _check_finite(head: str, place: str, old: Any, new: Any) -> None:
    """Refuse a NaN or Inf that a hook returned for a finite gradient."""
    array = new.data if isinstance(new, Tensor) else new
    given = old.data if isinstance(old, Tensor) else old
    if np.isfinite(array).all() or not np.isfinite(given).all():
        return  # the op that made it non-finite was reported, or the seed given was
    bad = ~np.isfinite(array)
    kinds = " and ".join(kind for kind, found in (("NaN", np.isnan(array).any()),
                                                  ("Inf", np.isinf(array).any())) if found)
    first = tuple(int(i) for i in np.argwhere(bad)[0]) if array.ndim else ()
    raise AnomalyError(
        f"detect_anomaly: {head} returned {kinds}{f' in {place}' if place else ''} for a finite "
        f"gradient ({int(bad.sum())} of {array.size} elements, first at index {first}). Look "
        "at what the hook divides by, takes the log or square root of."
    )


def _hook_failed(t: Tensor, hook: Callable, exc: Exception) -> BackwardError:
    message = f"hook {hook_name(hook)} of {describe(t)} failed: {exc}"
    if isinstance(exc, ValueError) and "read-only" in str(exc):  # numpy's words for it
        message += (
            "\n  a hook must not change the gradient it is given in place: it is the graph's, "
            "maybe shared with other gradients. Return a new array instead (return grad * 2, "
            "not grad *= 2; return np.clip(grad, -1, 1))."
        )
    return BackwardError(message)
