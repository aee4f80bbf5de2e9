"""A module's hooks: functions called around its forward and in its backward.

``register_forward_pre_hook(fn)`` and ``register_forward_hook(fn)`` call ``fn(module,
inputs)`` before a module's forward and ``fn(module, inputs, output)`` after it.
``register_full_backward_pre_hook(fn)`` calls ``fn(module, grad_output)`` once the gradients
with respect to the module's outputs are complete, and ``register_full_backward_hook(fn)``
calls ``fn(module, grad_input, grad_output)`` once those with respect to its positional
inputs are; a value either returns replaces the gradients it was given. Each registration
returns a `hooks.RemovableHandle`.

Backward hooks work as PyTorch's: a call of a module that has some puts an identity node,
`BackwardHook`, on each side of it. One takes the positional Tensor inputs that require grad,
and forward gets its outputs in their place: what flows back into it is the module's share of
dJ/d(inputs) alone (an input also used outside the module gets the rest of its gradient from
that other use, around the node), its grad_input; a module with backward pre-hooks alone
needs none. The other takes the module's outputs: what flows into it is grad_output. The
two nodes of one call share a `BackwardHookCall`, which carries grad_output from the one to
the other within a pass: a pass that reaches the input node without coming through the
outputs (from a tensor the module kept, after one that stopped inside the module) calls no
hook, as one that never reached the outputs does. A module without backward hooks gets no
node: its call costs nothing more (`Module.__call__` looks at ``_module_hooks``, None at class
level, only once some module has had a hook).

Depends on `function`, `hooks`, `tensor`, `engine`, `modes`, `errors`.
"""
from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from graphgrad.engine import walk_number
from graphgrad.errors import (
    BackwardError,
    GraphgradError,
    GraphgradTypeError,
    setting_text,
)
from graphgrad.function import Function
from graphgrad.hooks import (
    RemovableHandle,
    _checked_hook,
    _next_id,
    hook_gradient,
    hook_name,
)
from graphgrad.modes import _state
from graphgrad.tensor import Tensor

_NO_ATTRS = MappingProxyType({})
_KINDS = {
    "forward_pre": "register_forward_pre_hook",
    "forward": "register_forward_hook",
    "backward_pre": "register_full_backward_pre_hook",
    "backward": "register_full_backward_hook",
}


class ModuleHooks:
    """The hooks of one module, by handle id, in registration order: ``pre`` and ``post``
    around its forward, ``backward_pre`` and ``backward`` in its backward."""

    __slots__ = ("pre", "post", "backward_pre", "backward")

    def __init__(self, pre: dict | None = None, post: dict | None = None,
                 backward_pre: dict | None = None, backward: dict | None = None) -> None:
        self.pre: dict[int, Callable] = {} if pre is None else pre
        self.post: dict[int, Callable] = {} if post is None else post
        self.backward_pre: dict[int, Callable] = {} if backward_pre is None else backward_pre
        self.backward: dict[int, Callable] = {} if backward is None else backward

    def copy(self) -> ModuleHooks:
        return ModuleHooks(dict(self.pre), dict(self.post), dict(self.backward_pre),
                           dict(self.backward))

    def before(self, module: Any, args: tuple) -> tuple[tuple, Any]:
        """The inputs after the forward pre-hooks (a value returned replaces them: a tuple as
        the positional inputs, anything else as the only one), and what to call ``after(module,
        args, output)`` on once forward has run: these hooks, or, when the module has backward
        hooks and grad is recorded, the call's `BackwardHookCall`, whose input node then holds
        the inputs that require grad."""
        for hook in tuple(self.pre.values()):
            result = hook(module, args)
            if result is not None:
                args = result if type(result) is tuple else (result,)
        if (self.backward or self.backward_pre) and _state.grad_enabled:
            call = BackwardHookCall(module, self)
            return call.wrap_inputs(args), call
        return args, self

    def after(self, module: Any, args: tuple, output: Any) -> Any:
        """The output after the forward hooks: a value returned replaces it."""
        for hook in tuple(self.post.values()):
            result = hook(module, args, output)
            if result is not None:
                output = result
        return output


def register_module_hook(module: Any, hook: Callable, kind: str) -> RemovableHandle:
    """Keep ``hook`` among ``module``'s hooks of ``kind`` ("forward_pre", "forward",
    "backward_pre", "backward"), after those it holds, for the `Module` method of that kind."""
    hook = _checked_hook(hook, f"{type(module).__name__}.{_KINDS[kind]}")
    hooks = module.__dict__.get("_module_hooks")
    if hooks is None:
        hooks = ModuleHooks()
        # Past Module.__setattr__: hooks are neither a layer nor state, never in state_dict.
        object.__setattr__(module, "_module_hooks", hooks)
    handle = RemovableHandle(module, _remove_module_hook, _next_id())
    table = {"forward_pre": hooks.pre, "forward": hooks.post,
             "backward_pre": hooks.backward_pre, "backward": hooks.backward}[kind]
    table[handle.id] = hook
    return handle


def _remove_module_hook(module: Any, hook_id: int) -> None:
    hooks = module.__dict__.get("_module_hooks")
    if hooks is None:
        return
    for table in (hooks.pre, hooks.post, hooks.backward_pre, hooks.backward):
        table.pop(hook_id, None)
    if not (hooks.pre or hooks.post or hooks.backward_pre or hooks.backward):
        del module.__dict__["_module_hooks"]  # the class's None again: no hooks to look at


# -- backward hooks ------------------------------------------------------------------------------
class BackwardHook(Function):
    """outputs = inputs, an identity around one call of a module with backward hooks;
    d(inputs) = d(outputs) after the module's hooks.

    Drawn as ``BackwardHook(linear1, grad_output)`` on the side of the module's outputs,
    whose backward runs the module's backward pre-hooks, and ``BackwardHook(linear1,
    grad_input)`` on the side of its inputs, whose backward runs its full backward hooks.
    """

    # The call is no setting to draw or to print: the node's name says whose hooks these are.
    attrs = property(lambda self: _NO_ATTRS, lambda self, value: None)

    @property
    def name(self) -> str:
        """``BackwardHook(linear1, grad_input)``: the module and the gradients it takes."""
        call = self.__dict__.get("_call")
        if call is None:
            return "BackwardHook"
        side = "grad_output" if self._outputs_side else "grad_input"
        return f"BackwardHook({call.label}, {side})"

    @staticmethod
    def forward(ctx, *arrays, call, outputs_side):
        ctx._call = call
        ctx._outputs_side = outputs_side
        return arrays  # the node's own views of them (`Function.apply`)

    @staticmethod
    def backward(ctx, *grads):
        call = ctx._call
        if ctx._outputs_side:
            grads = call.grad_output_hooks(grads)
        else:
            grads = call.grad_input_hooks(grads)
        # gg.grad may ask for some inputs only: the others get nothing from here.
        return tuple(g if needed else None for g, needed in zip(grads, ctx.needs_input_grad))


class BackwardHookCall:
    """One call of a module with backward hooks: the hooks it had when called, where its
    Tensor inputs and outputs are among its positional inputs and its outputs, and, between
    the backward of its output node and that of its input node, grad_output. Held by the two
    nodes (the module with it, as PyTorch's graph holds it); it holds no tensor but
    grad_output, with the number of the pass that gave it (``walk``): the input node takes
    it in that pass only."""

    __slots__ = ("module", "label", "scope", "pre_hooks", "full_hooks", "forward_hooks",
                 "n_inputs", "input_places", "n_outputs", "output_places", "grad_output",
                 "walk")

    def __init__(self, module: Any, hooks: ModuleHooks) -> None:
        from graphgrad.nn.module import call_scope  # module imports this module first

        self.module = module
        self.scope = call_scope(module)
        self.label = (self.scope.replace("/", ".") if self.scope is not None
                      else module._scope or type(module).__name__)
        # The hooks the module has now, as PyTorch: one removed before backward still runs.
        self.pre_hooks = tuple(hooks.backward_pre.values())
        self.full_hooks = tuple(hooks.backward.values())
        self.forward_hooks = hooks  # until `after`
        self.input_places: tuple[int, ...] = ()
        self.output_places: tuple[int, ...] = ()
        self.grad_output: tuple | None = None
        self.walk = 0

    # -- forward -------------------------------------------------------------------------------
    def wrap_inputs(self, args: tuple) -> tuple:
        """The positional inputs, each Tensor that requires grad replaced by its output of the
        input node (none is made when none requires grad, or for backward pre-hooks alone)."""
        self.n_inputs = len(args)
        places = tuple(i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad)
        if not places or not self.full_hooks:
            return args
        self.input_places = places
        outs = self._node([args[i] for i in places], False)
        args = list(args)
        for i, out in zip(places, outs):
            args[i] = out
        return tuple(args)

    def after(self, module: Any, args: tuple, output: Any) -> Any:
        """The output after the forward hooks, each of its Tensors that requires grad replaced
        by its output of the output node."""
        output = self.forward_hooks.after(module, args, output)
        self.forward_hooks = None
        single = isinstance(output, Tensor)
        outputs = (output,) if single else output
        if type(outputs) is not tuple or not all(isinstance(o, Tensor) for o in outputs):
            raise _output_refused(self, output)
        self.n_outputs = len(outputs)
        places = tuple(i for i, o in enumerate(outputs) if o.requires_grad)
        if not places:  # nothing to differentiate: no gradient will come to call the hooks
            return output
        self.output_places = places
        outs = self._node([outputs[i] for i in places], True)
        if single:
            return outs[0]
        outputs = list(outputs)
        for i, out in zip(places, outs):
            outputs[i] = out
        return tuple(outputs)

    def _node(self, tensors: list, outputs_side: bool) -> tuple:
        outs = BackwardHook.apply(*tensors, call=self, outputs_side=outputs_side)
        if self.scope is not None:  # drawn in the module's frame, where its ops are
            outs[0].creator.scope = self.scope
        return outs

    # -- backward ------------------------------------------------------------------------------
    def grad_output_hooks(self, grads: tuple) -> tuple:
        """The output node's backward: grad_output after the backward pre-hooks, kept for the
        full hooks; with no input requiring grad, the full hooks run now, as PyTorch runs
        them, with grad_input all None. Returns what flows on into the module."""
        on_tensors = isinstance(grads[0], Tensor)
        grad_output = _spread(grads, self.output_places, self.n_outputs)
        for hook in self.pre_hooks:
            result = self._run(hook, "backward pre-hook", (self.module, grad_output))
            if result is not None:
                grad_output = self._checked(hook, "backward pre-hook", "grad_output",
                                            grad_output, result, on_tensors)
        if not self.input_places:
            grad_input = (None,) * self.n_inputs
            for hook in self.full_hooks:
                result = self._run(hook, "full backward hook",
                                   (self.module, grad_input, grad_output))
                if result is not None and not (type(result) is tuple
                                               and all(r is None for r in result)):
                    raise BackwardError(
                        f"full backward hook {hook_name(hook)} of {self._what()} returned "
                        f"{_shown(result)}, but no input of the module requires grad: there is "
                        "no gradient to replace. Return None (or a tuple of None)."
                    )
        else:
            self.grad_output = grad_output
            self.walk = walk_number()
        return tuple(grad_output[i] for i in self.output_places)

    def grad_input_hooks(self, grads: tuple) -> tuple:
        """The input node's backward: grad_input after the full backward hooks. Returns what
        flows on to the module's inputs."""
        grad_output = self.grad_output
        self.grad_output = None  # a pass's, not kept in the graph after it
        # None, or left by an earlier pass that stopped inside the module (gg.grad of its
        # parameters alone, a pre-hook that returned None): this pass did not come through
        # the module's outputs, and there is no grad_output to give the hooks.
        if grad_output is None or self.walk != walk_number():
            return grads
        on_tensors = isinstance(grads[0], Tensor)
        grad_input = _spread(grads, self.input_places, self.n_inputs)
        for hook in self.full_hooks:
            result = self._run(hook, "full backward hook", (self.module, grad_input, grad_output))
            if result is not None:
                grad_input = self._checked(hook, "full backward hook", "grad_input", grad_input,
                                           result, on_tensors)
        return tuple(grad_input[i] for i in self.input_places)

    def _run(self, hook: Callable, kind: str, args: tuple) -> Any:
        try:
            return hook(*args)
        except GraphgradError:
            raise
        except Exception as exc:
            message = f"{kind} {hook_name(hook)} of {self._what()} failed: {exc}"
            if isinstance(exc, ValueError) and "read-only" in str(exc):  # numpy's words
                message += (
                    "\n  a hook must not change the gradients it is given in place: they are "
                    "the graph's. Return new ones instead (return tuple(None if g is None else "
                    "g * 2 for g in grad_input), not g *= 2)."
                )
            raise BackwardError(message) from exc

    def _checked(self, hook: Callable, kind: str, what: str, given: tuple, result: Any,
                 on_tensors: bool) -> tuple:
        """A hook's returned ``what`` (grad_input or grad_output), checked against the tuple
        it was given: as many entries, None where it had None, and each gradient of the shape
        and dtype of the one it replaces."""
        head = f"{kind} {hook_name(hook)} of {self._what()}"
        if type(result) is not tuple or len(result) != len(given):
            raise BackwardError(
                f"{head} returned {_shown(result)}; return a tuple of {len(given)} like the "
                f"{what} it was given (None where it holds None), or None to keep it."
            )
        new = []
        for i, (old, value) in enumerate(zip(given, result)):
            if old is None:
                if value is not None:
                    raise BackwardError(
                        f"{head} returned a gradient for {what}[{i}], which is None: that "
                        f"{'input' if what == 'grad_input' else 'output'} is no Tensor that "
                        "requires grad, so no gradient flows there. Return None in its place."
                    )
                new.append(None)
                continue
            # None, as in PyTorch: no gradient flows on from there.
            new.append(None if value is None else hook_gradient(head, f"{what}[{i}]", old,
                                                                value, on_tensors))
        return tuple(new)

    def _what(self) -> str:
        kind = self.module._kind()
        return kind if self.label == type(self.module).__name__ else f"{self.label}, {kind}"


def _spread(grads: tuple, places: tuple[int, ...], n: int) -> tuple:
    """The gradients of the Tensors at ``places`` in a tuple of ``n``, None elsewhere."""
    spread = [None] * n
    for i, g in zip(places, grads):
        spread[i] = g
    return tuple(spread)


def _shown(value: Any) -> str:
    if type(value) is tuple:
        return f"a tuple of {len(value)}"
    return setting_text(value)


def _output_refused(call: BackwardHookCall, output: Any) -> GraphgradTypeError:
    def kind(value: Any) -> str:
        return "None" if value is None else f"a {type(value).__name__}"

    if type(output) is tuple:
        i, bad = next((i, o) for i, o in enumerate(output) if not isinstance(o, Tensor))
        got = f"a tuple whose item {i} is {kind(bad)}"
    else:
        got = kind(output)
    return GraphgradTypeError(
        f"{call._what()} has backward hooks, which need its forward to return a Tensor or a "
        f"tuple of Tensors, to take grad_output from; it returned {got}. Register the hooks "
        "on a module inside it that returns Tensors, or use t.register_hook(fn) on the "
        "tensors it returns (fn(grad) gets dJ/dt)."
    )
