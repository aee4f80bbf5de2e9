"""`Module` and `Parameter`: how a model owns its weights, its layers and its state.

A `Module` registers every parameter (a `Parameter`, frozen or not, or a leaf Tensor that
requires grad), submodule and buffer (a numpy array of state that is not learned, such as
BatchNorm's running mean) assigned to it, in assignment order. From that registry it answers
``parameters()`` (what an optimizer updates), ``named_parameters()``, ``state_dict()`` /
``load_state_dict()`` (what is saved), ``train()`` / ``eval()`` and its ``repr``.

Calling a module runs its ``forward`` with the ops it makes tagged with a name scope named
after the module (``linear1``, ``block/relu2``), so each layer is one cluster in graph
pictures; hooks registered with ``register_forward_pre_hook`` and ``register_forward_hook``
run before and after it, those registered with ``register_full_backward_pre_hook`` and
``register_full_backward_hook`` in its backward (`module_hooks`). The containers of layers,
`Sequential`, `ModuleList` and `ModuleDict`, are in `containers`. Depends on `tensor`,
`modes`, `hooks`, `module_hooks`, `errors`.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from graphgrad.devices import dtype_of_to, refuse_device
from graphgrad.engine import zero_grads
from graphgrad.errors import (
    ArgumentError,
    GraphgradError,
    GraphgradTypeError,
    array_of,
    array_of_numbers,
    describe,
    flag,
    float_dtype,
    not_a_state_error,
    setting_text,
)
from graphgrad.hooks import RemovableHandle
from graphgrad.modes import _state
from graphgrad.nn import module_hooks
from graphgrad.tensor import Tensor


class StateDictError(GraphgradError, KeyError):
    """A state dict does not fit the model: missing or unexpected keys, or wrong shapes."""

    def __str__(self) -> str:  # KeyError would print the message in quotes
        return str(self.args[0])


class _LookupError(GraphgradError, AttributeError):
    """``get_submodule``, ``get_parameter`` or ``get_buffer`` found nothing of its kind at a
    dotted name (an AttributeError, as PyTorch's)."""


class _NotInitializedError(GraphgradError, AttributeError):
    """A Module subclass's ``__init__`` did not call ``super().__init__()``."""


def _not_initialized(module: Module, doing: str) -> _NotInitializedError:
    return _NotInitializedError(
        f"{type(module).__name__}: call super().__init__() at the start of __init__, before "
        f"{doing}: it sets up the registry of the module's parameters and layers."
    )


class Parameter(Tensor):
    """A tensor for a module to learn: a leaf Tensor with ``requires_grad=True``.

    ``self.W = nn.Parameter(np.zeros((n_out, n_in)))`` in a module's ``__init__`` makes it
    part of ``parameters()`` and ``state_dict()``, named after the attribute unless it has a
    name, even when it is frozen (``W.requires_grad_(False)``) before it is assigned. (A module
    registers a plain Tensor made with ``requires_grad=True`` the same way; one that does not
    require grad is a constant, neither trained nor saved.)

    Args:
        data: the starting values, a number, nested list or ndarray, as `gg.Tensor` takes
            them (a float array keeps its dtype and shares its memory).
        name: a label for pictures, errors and ``state_dict()`` keys, a str or None (the
            default: the attribute's name, given when a module registers it).
        dtype: convert ``data`` to it (``np.float32``); None keeps a float array's own and
            makes numbers, lists and integers float64.
    """

    # Its gradient hooks (`graphgrad.hooks`), set once it has some: a parameter's hook that
    # refers to it is then a cycle the collector frees. Ops' outputs, plain Tensors, stay small.
    __slots__ = ("_leaf_hooks",)

    def __init__(self, data: Any, name: str | None = None, dtype: Any = None) -> None:
        super().__init__(data, requires_grad=True, name=name, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter" + super().__repr__()[len("Tensor"):]


def is_parameter(value: Any) -> bool:
    """Whether a module registers ``value`` as a parameter: an `nn.Parameter`, frozen or not
    (as PyTorch registers one: it is saved, and ``requires_grad_(True)`` unfreezes it), or a
    leaf Tensor that requires grad."""
    if isinstance(value, Parameter):
        return value.creator is None
    return isinstance(value, Tensor) and value.requires_grad and value.creator is None


def _replaced_parameter_message(module: Module, name: str, value: Any) -> str:
    # PyTorch refuses this too: the module would silently stop training and saving it.
    what = describe(value) if isinstance(value, Tensor) else type(value).__name__
    owner = type(module).__name__
    return (
        f"{owner}.{name} is a parameter; assigning {what} in its place would take it out of "
        "parameters() and state_dict(), so it would no longer be trained or saved. To change "
        f"its values, assign its data ({name}.data = array, of shape "
        f"{module._members[name].shape}); to replace it, assign an nn.Parameter; to remove "
        "it, assign None."
        + (" To run the layer with computed weights that keep their graph (a MAML step's "
           "W - alpha * dW, dW from gg.grad(..., create_graph=True)), call the op of its "
           "forward with them: nn.linear(X, W, b) is nn.Linear's, gg.conv2d(A, W, b, stride, "
           "pad) nn.Conv2d's." if isinstance(value, Tensor) and value.creator is not None
           else "")
    )


def _replaced_layer_message(module: Module, name: str, value: Any) -> str:
    # PyTorch refuses this too: the layer would leave parameters(), state_dict() and a chain.
    owner = type(module).__name__
    return (
        f"{owner}.{name} is a layer, {module._members[name]._kind()}; assigning "
        f"{setting_text(value)} in its place would take it out of the model, so its "
        "parameters would no longer be trained or saved (and a Sequential would skip it). To "
        "replace it, assign another Module (an activation is nn.ReLU(), a function a Module "
        "subclass); to remove it, assign None."
    )


def _buffer_array(module: Module, name: str, value: Any) -> np.ndarray:
    """A buffer's value as an array of numbers (what state_dict saves), or an error naming it."""
    if isinstance(value, Tensor):  # through numpy, which refuses one that requires grad
        value = np.asarray(value)  # (a buffer is not learned)
    return array_of_numbers(value, f"buffer {name!r}", type(module).__name__)


def _holds_learned(values: Any) -> bool:
    """Whether a list, tuple or dict holds a layer or a parameter (which it would hide)."""
    items = values.values() if isinstance(values, Mapping) else values
    return any(isinstance(v, Module) or is_parameter(v) for v in items)


def _unregistered_message(owner: str, name: str, values: Any) -> str:
    """Why ``self.<name> = values`` (a list, tuple or dict holding layers or parameters) is
    refused, and the container that would register them."""
    items = list(values.values() if isinstance(values, Mapping) else values)
    kind = "dict" if isinstance(values, Mapping) else "list"
    head = (f"{owner}.{name}: a {kind} of layers or parameters is not registered, so they "
            "would never be trained or saved. ")
    if not any(isinstance(v, Module) for v in items):
        return head + ("Assign each parameter to its own attribute "
                       "(setattr(self, f'W{l}', W)), or keep them in layers.")
    if kind == "dict":
        return head + ("Use nn.ModuleDict(layers) to hold them by name, "
                       "nn.Sequential({name: layer, ...}) to chain them, or assign each to its "
                       "own attribute (setattr(self, name, layer)).")
    return head + ("Use nn.ModuleList(layers) to hold them and loop over them in forward, "
                   "nn.Sequential(*layers) to chain them, or assign each to its own attribute "
                   "(setattr(self, f'layer{l}', layer)).")


def as_data_of(X: Any, dtype: np.dtype, layer: Module) -> Any:
    """Data (an array, a list, or a tensor that needs no gradient) converted to the layer's
    dtype, as Keras layers cast their inputs: a float32 model fed numpy's default float64, or
    a list of numbers, stays float32 instead of silently computing in float64. A tensor that
    requires grad is returned as it is: a copy would cut it from its graph. Data that is no
    array (a ragged list) is refused naming ``layer``."""
    if isinstance(X, Tensor):
        if X.requires_grad:
            return X
        array = X.data
        if array.dtype == dtype or array.dtype.kind not in "biuf":
            return X
        return Tensor(array.astype(dtype), name=X.name)
    array = numbers_of(X, layer)
    if array.dtype == dtype:
        return array
    return array.astype(dtype)


def numbers_of(X: Any, layer: Module) -> np.ndarray:
    """Data that is not a tensor (an array, a list, a number) as an array of numbers, or an
    error naming ``layer``: a ragged list, strings, or None (a forward before it that
    returned nothing)."""
    array = X if type(X) is np.ndarray else array_of(X, "the input", layer._label())
    if array.dtype.kind in "biuf":
        return array
    tip = (": did the layer or function before it return nothing? A forward must return its "
           "output" if X is None else "")
    raise GraphgradTypeError(f"{layer._label()} takes numbers (an array, a Tensor or nested "
                             f"lists of numbers), got {setting_text(X)}{tip}.")


# Layers open a name scope per call so pictures cluster them; `use_name_scopes(False)` turns
# that off (the scope costs about a microsecond per layer call and a little per op).
# A key of PyTorch's nn.LSTM, nn.GRU or nn.RNN (lstm.weight_ih_l0, bias_hh_l1_reverse)
_TORCH_RECURRENT_KEY = re.compile(r"(.*\.)?(weight|bias)_(ih|hh)_l\d+(_reverse)?")
# A parametrized parameter's originals (nn.utils.parametrize): layer.parametrizations.W.original0
_PARAMETRIZED_KEY = re.compile(r"(?P<layer>(.*\.)?)parametrizations\.(?P<name>[^.]+)\.original\d*")

_SCOPES = {"enabled": True}
# Set for good once a module is given a hook: until then, calling a module does not look for
# hooks (an attribute read on a Module, which has a __getattr__, is not free).
_MODULE_HOOKED = False


def call_scope(module: Module) -> str | None:
    """The name scope calling ``module`` gives its ops (``blocks/0``), as `Module.__call__`
    opens it; None when it opens none (a top-level container, or scopes turned off)."""
    if not _SCOPES["enabled"]:
        return None
    name = module._scope
    if name is None:
        if module._container:
            return None
        name = type(module).__name__
    outer = _state.scope
    return name if outer is None else f"{outer}/{name}"


def hold(module: Module, name: str, value: Any) -> None:
    """Make ``value`` the parameter or buffer ``name`` of ``module`` for a call, in both places
    a module keeps it (its registry and its __dict__, which attribute reads go to), without the
    checks of `Module.__setattr__`, which refuses a computed tensor in a parameter's place:
    `nn.functional_call` and `gg.checkpoint`'s second run, which put the module's own back."""
    module._members[name] = value
    object.__setattr__(module, name, value)


def use_name_scopes(enabled: bool) -> None:
    """Whether calling a module tags its ops with a name scope (on by default): ``enabled``
    is True or False."""
    _SCOPES["enabled"] = flag(enabled, "enabled", "nn.use_name_scopes")


def _reshape_tip(given: tuple[int, ...], wanted: tuple[int, ...]) -> str:
    """What to do with a state's array that holds the numbers of the model's in a shape with
    more or fewer axes of 1 (the course's column biases b of shape (n, 1) for a layer's (n,)),
    or ""."""
    if [d for d in given if d != 1] != [d for d in wanted if d != 1]:
        return ""
    column = " (the course's biases are columns)" if given == wanted + (1,) else ""
    shape = ", ".join(map(str, wanted)) if wanted else "()"
    return (f": the same {int(np.prod(given))} numbers with another shape{column}: pass them "
            f"as .reshape({shape})")


def _parametrized_hint(missing: list[str], unexpected: list[Any]) -> str | None:
    """What to do when a parameter is parametrized on one side of a load and plain on the
    other (its originals' keys unexpected and its own missing, or the other way round)."""
    for keys, others, saved in ((unexpected, missing, True), (missing, unexpected, False)):
        for key in keys:
            match = _PARAMETRIZED_KEY.fullmatch(key) if isinstance(key, str) else None
            plain = match and match["layer"] + match["name"]
            if not plain or plain not in others:
                continue
            if saved:
                return (f"{plain} was saved parametrized (as {key}, ...) and is a plain "
                        "parameter here: register the same parametrization on the layer "
                        "(nn.utils.parametrizations.weight_norm(layer), spectral_norm, ...) "
                        "before loading, or save the model after "
                        "nn.utils.parametrize.remove_parametrizations")
            return (f"{plain} is parametrized here (as {key}, ...) and a plain parameter in "
                    "the state: load the state before registering the parametrization (its "
                    "originals then start from the saved weight), or "
                    f"remove_parametrizations(layer, {match['name']!r}) first")
    return None


def _nothing_matches_message(module: Module, origin: str, ours: list[str],
                             theirs: list[Any]) -> str:
    """Why ``load_state_dict(state, strict=False)`` refuses a state none of whose keys
    (``theirs``) is one of the model's (``ours``): it would load nothing, without a word."""
    def shown(keys: list[Any]) -> str:
        return ", ".join(map(str, keys[:4])) + (", ..." if len(keys) > 4 else "")

    first = theirs[0] if isinstance(theirs[0], str) else ""
    inner = [key[:-len(first)] for key in ours if first and key.endswith("." + first)]
    outer = [first[:-len(key)] for key in ours if first.endswith("." + key)]
    if inner:  # the model holds the saved one as a layer
        fix = (f"the state is a part of this model, under {inner[0]!r}: give its keys that "
               f"prefix ({{{inner[0]!r} + k: v for k, v in state.items()}})")
    elif outer:  # the saved model held this one as a layer
        fix = (f"the state holds this model under {outer[0]!r}: take that part ({{k[{len(outer[0])}"
               f":]: v for k, v in state.items() if k.startswith({outer[0]!r})}})")
    else:
        fix = "rename the state's keys to the model's (compare print(model) with them)"
    return (f"{type(module).__name__}.load_state_dict: none of the keys of the state{origin} "
            f"({shown(theirs)}) is one of the model's ({shown(ours)}), so strict=False would "
            f"load nothing; {fix}.")


class Module:
    """Base class of layers and models. Subclass it: assign layers and `Parameter`s in
    ``__init__``, compute the output in ``forward``, call the module to run it.

    >>> class TwoLayer(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = nn.Linear(2, 4, init="xavier")
    ...         self.out = nn.Linear(4, 1, init="xavier")
    ...     def forward(self, X):                      # X: (m, 2)
    ...         return self.out(gg.tanh(self.hidden(X)))  # logits: (m, 1)
    """

    training: bool = True
    # How `Sequential` names an unnamed layer of this class (with a count: linear1, linear2).
    short_name: str | None = None
    # True for layers whose forward makes a single node (Linear, activations): they tag it
    # with their scope directly instead of opening a name scope (see __call__).
    single_node: bool = False
    # Set once a submodule is assigned: a container's ops are its layers' ops.
    _container: bool = False
    # The name scope the module's ops get (its attribute name in its parent); None for a
    # top-level model, which then uses its class name if it has no submodules.
    _scope: str | None = None
    # The hooks (`register_forward_hook`, `register_full_backward_hook`...): a
    # `module_hooks.ModuleHooks` set on the instance when it gets its first, None otherwise,
    # which is all `__call__` reads.
    _module_hooks: module_hooks.ModuleHooks | None = None

    def __init__(self) -> None:
        object.__setattr__(self, "_members", {})
        object.__setattr__(self, "_buffers", set())
        object.__setattr__(self, "training", True)

    # -- registration ------------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        members = self.__dict__.get("_members")
        if members is None:
            raise _not_initialized(self, f"assigning self.{name}")
        old = members.get(name)
        if is_parameter(value):
            if value.name is None:
                value.name = name
            self._buffers.discard(name)  # no longer a buffer: an array later is refused
            members[name] = value
        elif isinstance(value, Module):
            value._set_scope(name)
            object.__setattr__(self, "_container", True)
            self._buffers.discard(name)
            members[name] = value
        elif name in self._buffers:  # None too, as in PyTorch: a buffer state_dict skips
            value = None if value is None else _buffer_array(self, name, value)
            members[name] = value
        elif isinstance(value, (list, tuple, Mapping)) and _holds_learned(value):
            raise GraphgradTypeError(_unregistered_message(type(self).__name__, name, value))
        elif name in members:  # replacing a parameter or a layer by something else
            if value is not None and isinstance(members[name], Tensor):  # frozen ones too
                raise GraphgradTypeError(_replaced_parameter_message(self, name, value))
            if value is not None and isinstance(members[name], Module):
                raise GraphgradTypeError(_replaced_layer_message(self, name, value))
            del members[name]
        object.__setattr__(self, name, value)
        if isinstance(old, Module) and members.get(name) is not old:
            self._let_go(name, old)

    def __getattr__(self, name: str) -> Any:
        # Only reached when the lookup fails: the registry is missing when a subclass's
        # __init__ forgot super().__init__(), which Python would report as "no attribute
        # '_members'" from inside parameters(), state_dict() or the repr.
        if name in ("_members", "_buffers", "_layers"):
            raise _not_initialized(self, "using the module")
        return object.__getattribute__(self, name)  # Python's own AttributeError

    def __delattr__(self, name: str) -> None:
        old = self._members.pop(name, None)
        self._buffers.discard(name)
        object.__delattr__(self, name)
        if isinstance(old, Module):
            self._let_go(name, old)

    def __copy__(self) -> Module:
        """``copy.copy(model)``: a module holding the same parameters, layers and buffers, as
        a shallow copy does, with a registry of its own: a layer assigned, deleted or appended,
        or a buffer registered, on one of them leaves the other's parameters and state as they
        were (sharing the registry, the original listed a layer it did not compute with).
        Its forward hooks are the same functions, held apart: one registered or removed on
        one of them is not on the other."""
        twin = object.__new__(type(self))
        state = dict(self.__dict__)
        for name in ("_members", "_buffers", "_layers", "_module_hooks"):
            if name in state:
                state[name] = state[name].copy()
        twin.__dict__.update(state)
        return twin

    def _set_scope(self, scope: str | None) -> None:
        """Take the name scope this module's ops get: its name in the module that holds it."""
        object.__setattr__(self, "_scope", scope)

    def _scope_for(self, name: str) -> str:
        """The name scope of a layer this module holds under ``name``."""
        return name

    def _let_go(self, name: str, layer: Module) -> None:
        """``layer``, no longer held under ``name``, drops the name scope it had there: its
        ops are not drawn in that place's cluster. It keeps another name it has here, and
        one another module has given it since."""
        if layer._scope != self._scope_for(name):
            return
        others = [other for other, value in self._members.items() if value is layer]
        layer._set_scope(self._scope_for(others[-1]) if others else None)

    def register_buffer(self, name: str, array: Any) -> None:
        """Keep a numpy array as part of the state (saved, loaded) but not learned.

        ``name`` is a non-empty str without dots, not already a parameter, a layer or an
        attribute of the class (an `ArgumentError` otherwise); ``array``, and whatever is
        assigned to the buffer later, must hold numbers (a `GraphgradTypeError` otherwise) or
        be None, as in PyTorch: a buffer that is None stays one (an array assigned later is
        saved in its place), but ``state_dict()`` skips it and ``load_state_dict`` loads
        nothing into it."""
        owner = type(self).__name__
        if not isinstance(name, str) or not name or "." in name:
            raise ArgumentError(
                f"{owner}.register_buffer: the name must be a non-empty str without dots (a dot "
                f"separates the layers in state_dict's keys), got {setting_text(name)}")
        taken = name in self._members and name not in self._buffers
        if taken or hasattr(type(self), name):
            what = ("a parameter" if isinstance(self._members.get(name), Tensor) else "a layer"
                    if taken else "an attribute of the class")
            raise ArgumentError(f"{owner}.register_buffer: {name!r} is already {what}; "
                                "choose another name for the buffer.")
        # first: a value refused leaves no name marked as a buffer
        array = None if array is None else _buffer_array(self, name, array)
        self._buffers.add(name)
        setattr(self, name, array)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` as the layer ``name``, as ``setattr(self, name, module)`` does,
        for a name computed at run time or one attribute syntax cannot reach (``"0"``), as
        PyTorch's ``add_module``: ``name`` is a non-empty str without dots, not an attribute of
        the class nor one of the instance's that is no layer (an `ArgumentError`); ``module``
        a Module, or None to remove the layer of that name."""
        caller = f"{type(self).__name__}.add_module"
        self._check_new_name(name, caller, "layer")
        if module is not None and not isinstance(module, Module):
            raise GraphgradTypeError(f"{caller}: the layer {name!r} must be a Module or None, "
                                     f"got {setting_text(module)}")
        setattr(self, name, module)

    def register_module(self, name: str, module: Module | None) -> None:
        """PyTorch's other name for `add_module`: register ``module`` as the layer ``name``."""
        self.add_module(name, module)

    def register_parameter(self, name: str, param: Tensor | None) -> None:
        """Register ``param``, an `nn.Parameter` (or a leaf Tensor that requires grad), as the
        parameter ``name``, as ``setattr(self, name, param)`` does; None leaves the attribute
        None and out of ``parameters()`` and ``state_dict()`` (a layer built with
        ``bias=False``). The name is checked as `add_module` checks it."""
        caller = f"{type(self).__name__}.register_parameter"
        self._check_new_name(name, caller, "parameter")
        if param is not None and not is_parameter(param):
            what = describe(param) if isinstance(param, Tensor) else setting_text(param)
            raise GraphgradTypeError(
                f"{caller}: {name!r} must be an nn.Parameter or None, got {what}"
                + (" (a computed tensor, which would be neither trained nor saved)"
                   if isinstance(param, Tensor) and param.creator is not None else
                   ": wrap an array in nn.Parameter(array)"))
        setattr(self, name, param)

    def _check_new_name(self, name: Any, caller: str, what: str) -> None:
        """Refuse a ``name`` that cannot name a new layer or parameter of this module."""
        if not isinstance(name, str) or not name or "." in name:
            problem = ("not a str" if not isinstance(name, str) else "empty" if not name
                       else "with a dot (a dot separates the layers in state_dict's keys)")
            raise ArgumentError(f"{caller}: the name must be a non-empty str without dots; "
                                f"got {setting_text(name)}, {problem}.")
        held = self._members.get(name)
        if name in self._buffers:
            taken = "a buffer"
        elif name in self._members and isinstance(held, Module) != (what == "layer"):
            taken = "a layer" if isinstance(held, Module) else "a parameter"
        elif hasattr(type(self), name):
            taken = "an attribute of the class"
        elif self.__dict__.get(name) is not None and name not in self._members:
            taken = "an attribute of the module"
        else:
            return
        raise ArgumentError(f"{caller}: {name!r} is already {taken}; choose another name for "
                            f"the {what}.")

    # -- lookups by dotted name --------------------------------------------------------------
    def get_submodule(self, target: str) -> Module:
        """The module at the dotted path ``target`` (``"encoder.layers.0"``; '' is this
        module), as PyTorch's: an `AttributeError` (a `GraphgradError`) names the first part
        missing and the layers held there."""
        if not isinstance(target, str):
            raise GraphgradTypeError(f"{type(self).__name__}.get_submodule takes a dotted "
                                     f"name ('block.linear1'), got {setting_text(target)}")
        module: Module = self
        path = ""
        for part in target.split(".") if target else ():
            value = module._members.get(part)
            where = f"{path!r}" if path else type(self).__name__
            if not isinstance(value, Module):
                if value is not None:
                    kind = "a parameter" if isinstance(value, Tensor) else "a buffer"
                    raise _LookupError(f"{type(self).__name__}.get_submodule({target!r}): "
                                       f"{(path + '.' + part).lstrip('.')!r} is {kind}, not "
                                       "a layer.")
                held = ", ".join(name for name, _ in module.named_children()) or "none"
                raise _LookupError(f"{type(self).__name__}.get_submodule({target!r}): {where} "
                                   f"has no layer {part!r}; its layers are {held}.")
            module = value
            path = f"{path}.{part}" if path else part
        return module

    def get_parameter(self, target: str) -> Tensor:
        """The parameter at the dotted path ``target`` (``"block.linear1.W"``, a key of
        ``state_dict()``), as PyTorch's; an `AttributeError` names what is there instead."""
        return self._get_member(target, "parameter")

    def get_buffer(self, target: str) -> np.ndarray:
        """The buffer's array at the dotted path ``target`` (``"bn.running_mean"``), as
        PyTorch's; an `AttributeError` names what is there instead."""
        return self._get_member(target, "buffer")

    def _get_member(self, target: str, kind: str) -> Any:
        caller = f"{type(self).__name__}.get_{kind}"
        if not isinstance(target, str):
            raise GraphgradTypeError(f"{caller} takes a dotted name ('block.linear1.W'), got "
                                     f"{setting_text(target)}")
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        value = module._members.get(name)
        found = (isinstance(value, Tensor) if kind == "parameter"
                 else name in module._buffers and value is not None)
        if found:
            return value
        where = repr(path) if path else type(self).__name__
        if isinstance(value, Module):
            raise _LookupError(f"{caller}({target!r}): {target!r} is a layer, not a {kind}.")
        held = [n for n, v in module._members.items()
                if (isinstance(v, Tensor) if kind == "parameter"
                    else n in module._buffers and v is not None)]
        raise _LookupError(f"{caller}({target!r}): {where} has no {kind} {name!r}; its "
                           f"{kind}s are {', '.join(held) or 'none'}.")

    # -- running -----------------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The module's computation, which a subclass defines, taking the inputs it needs
        (``forward(self, X)``) in place of these args and kwargs; run it by calling the module
        (``model(X)``), which passes them on and also gives its ops their name scope in graph
        pictures."""
        raise NotImplementedError(f"{type(self).__name__} must define forward(self, ...)")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # Forward hooks run around the module's own name scope, in the caller's: an op a hook
        # adds is not drawn as one of the layer's. Until a module has had one, no lookup.
        # With backward hooks, `before` gives the call's own `after`, which adds their node.
        hooks = self._module_hooks if _MODULE_HOOKED else None
        if hooks is not None:
            args, hooks = hooks.before(self, args)
        name = self._scope
        if name is None:  # a top-level model: its layers are the clusters, not itself
            if self._container or not _SCOPES["enabled"]:
                out = self.forward(*args, **kwargs)
                return out if hooks is None else hooks.after(self, args, out)
            name = type(self).__name__
        elif not _SCOPES["enabled"]:
            out = self.forward(*args, **kwargs)
            return out if hooks is None else hooks.after(self, args, out)
        state = _state
        outer = state.scope
        scope = name if outer is None else f"{outer}/{name}"
        if self.single_node:
            # A layer that makes one node tags it itself: the same picture as a name scope,
            # without switching the engine to its slower checked path for the layer's op.
            out = self.forward(*args, **kwargs)
            node = getattr(out, "creator", None)
            if node is not None and (not args or out is not args[0]):
                node.scope = scope
            return out if hooks is None else hooks.after(self, args, out)
        # gg.name_scope, inlined: a context manager costs more than a small layer's ops.
        state.scope = scope
        state.refresh()
        try:
            out = self.forward(*args, **kwargs)
        finally:
            state.scope = outer
            state.refresh()
        return out if hooks is None else hooks.after(self, args, out)

    def register_forward_pre_hook(
        self, hook: Callable[[Module, tuple], Any]
    ) -> RemovableHandle:
        """Call ``hook(module, inputs)`` each time this module is called, before its
        ``forward``: ``inputs`` is the tuple of positional arguments (keywords go to forward
        untouched). A value it returns replaces them: a tuple as the inputs, anything else as
        the only one. Several hooks run in registration order, each given the inputs the one
        before left. Returns a handle whose ``remove()`` takes the hook away.

        Hooks are no part of ``state_dict()``. ``copy.copy`` and ``copy.deepcopy`` of the
        module (a model's deep copy: of the same hook functions, as in PyTorch) hold the
        hooks it held then; a handle removes its hook from the module it came from only.
        """
        return self._register_hook(hook, "forward_pre")

    def register_forward_hook(
        self, hook: Callable[[Module, tuple, Any], Any]
    ) -> RemovableHandle:
        """Call ``hook(module, inputs, output)`` each time this module is called, after its
        ``forward``: ``inputs`` the positional arguments forward got (after the pre-hooks),
        ``output`` what it returned. A value the hook returns replaces the output. Several
        hooks run in registration order, each given the output the one before left; they run
        in the caller's name scope, not the module's. Returns a handle whose ``remove()``
        takes the hook away (``with`` also works).

        Collecting every layer's activations (feature extraction)::

            activations = {}
            handles = [layer.register_forward_hook(
                           lambda m, inputs, out, name=name: activations.__setitem__(name, out))
                       for name, layer in model.named_children()]
            model(X)
            for h in handles:
                h.remove()

        Hooks are no part of ``state_dict()``; copies hold them as
        `register_forward_pre_hook` says.
        """
        return self._register_hook(hook, "forward")

    def register_full_backward_hook(
        self, hook: Callable[[Module, tuple, tuple], Any]
    ) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` in each backward pass (``backward()``,
        ``gg.grad``) through a call of this module, once the gradients with respect to its
        positional inputs are computed. ``grad_input`` has one entry per positional input:
        dJ/d(input) through this call of the module alone (an input also used elsewhere gets
        the rest of its gradient from there, not in grad_input), None for an input that is no
        Tensor or does not require grad. ``grad_output`` has one entry per output (a module
        returning a Tensor has one): dJ/d(output), after the backward pre-hooks; None for an
        output that does not require grad. A tuple the hook returns replaces grad_input:
        what flows on to the inputs (same length, None where grad_input has None, each
        gradient of the shape and dtype it replaces; None in place of one stops it). Several
        hooks run in registration order, each given the grad_input the one before left.

        The gradients are read-only arrays, or Tensors under ``gg.grad(...,
        create_graph=True)``, where what the hook computes is recorded as part of the
        gradient's graph (a second derivative goes through it; an array it returns is a
        constant there). When no input requires grad (the first layer, on data), the hook is
        called once grad_output is known, with grad_input all None, as PyTorch calls it. A
        hook is called only in a pass that computes the gradient it is given: ``gg.grad``
        asked for a module's parameters alone does not compute grad_input of a module whose
        inputs lead to none of them, and calls its hooks not.

        As in PyTorch, each call of a module with backward hooks puts an identity node before
        and after it (`module_hooks.BackwardHook`, drawn as ``BackwardHook(linear1,
        grad_input)`` and ``BackwardHook(linear1, grad_output)``), whose backward runs the
        hooks the module had when it was called; a module without backward hooks gets none.
        Its forward must return a Tensor or a tuple of Tensors (a `GraphgradTypeError` at
        the call otherwise). Returns a handle whose ``remove()`` takes the hook away; copies
        hold hooks as `register_forward_pre_hook` says.
        """
        return self._register_hook(hook, "backward")

    def register_full_backward_pre_hook(
        self, hook: Callable[[Module, tuple], Any]
    ) -> RemovableHandle:
        """Call ``hook(module, grad_output)`` in each backward pass through a call of this
        module, once the gradients with respect to its outputs are complete, before its own
        backward: ``grad_output`` as `register_full_backward_hook` gives it (one entry per
        output, None for one that does not require grad). A tuple the hook returns replaces
        grad_output, for the module's backward and for its full backward hooks (same length,
        None where it has None, each gradient of the shape and dtype it replaces). Several
        run in registration order, each given the grad_output the one before left. Returns a
        handle whose ``remove()`` takes the hook away."""
        return self._register_hook(hook, "backward_pre")

    def _register_hook(self, hook: Callable, kind: str) -> RemovableHandle:
        """`module_hooks.register_module_hook` of ``kind``, once every module call has been
        told to look for hooks (until then `__call__` does not)."""
        global _MODULE_HOOKED
        _MODULE_HOOKED = True
        return module_hooks.register_module_hook(self, hook, kind)

    # -- walking the registry ----------------------------------------------------------------
    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, submodule) for the direct submodules, in assignment order."""
        for name, value in self._members.items():
            if isinstance(value, Module):
                yield name, value

    def children(self) -> Iterator[Module]:
        """The direct submodules, in assignment order (`named_children` without the names)."""
        for _, module in self.named_children():
            yield module

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """(dotted name, module) for this module and every module inside it.

        A module used in several places (a shared layer) comes once, under its first name.
        ``prefix`` is this module's own name ('' by default), put before the others' with a
        dot: ``named_modules("encoder")`` gives 'encoder', 'encoder.embedding', ...
        """
        return iter(self._walk_modules(prefix, set()))

    def _walk_modules(self, prefix: str, seen: set[int]) -> list[tuple[str, Module]]:
        seen.add(id(self))
        found = [(prefix, self)]
        for name, module in self.named_children():
            if id(module) not in seen:
                found.extend(module._walk_modules(f"{prefix}.{name}" if prefix else name, seen))
        return found

    def modules(self) -> Iterator[Module]:
        """This module and every module inside it, each once (`named_modules` without the
        names)."""
        for _, module in self.named_modules():
            yield module

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> list[tuple[str, Tensor]]:
        """(dotted name, parameter) pairs in assignment order: ``[('linear1.W', W1), ...]``.

        A parameter shared by several layers (tied weights, a layer used twice) comes once,
        under its first name, so an optimizer updates it once and it is counted once
        (``remove_duplicate=False``: under each of its names, as PyTorch's). ``prefix`` goes
        before every name with a dot (``named_parameters("model")`` gives 'model.linear1.W',
        ...); '' by default. ``recurse=False`` gives this module's own parameters only, not
        its layers'.
        """
        pairs: list[tuple[str, Tensor]] = []
        if recurse is True and remove_duplicate is True:  # the common call, without checks
            self._collect_parameters(prefix, pairs, set())
            return pairs
        caller = f"{type(self).__name__}.named_parameters"
        recurse = flag(recurse, "recurse", caller)
        seen: set[int] | None = set() if flag(remove_duplicate, "remove_duplicate",
                                              caller) else None
        if recurse:
            self._collect_parameters(prefix, pairs, seen)
            return pairs
        for name, value in self._members.items():
            if isinstance(value, Tensor) and (seen is None or id(value) not in seen):
                if seen is not None:
                    seen.add(id(value))
                pairs.append((f"{prefix}.{name}" if prefix else name, value))
        return pairs

    def _collect_parameters(self, prefix: str, pairs: list, seen: set[int] | None) -> None:
        for name, value in self._members.items():
            full = f"{prefix}.{name}" if prefix else name
            if isinstance(value, Tensor):
                if seen is None:
                    pairs.append((full, value))
                elif id(value) not in seen:
                    seen.add(id(value))
                    pairs.append((full, value))
            elif isinstance(value, Module):
                value._collect_parameters(full, pairs, seen)

    def parameters(self, recurse: bool = True) -> list[Tensor]:
        """Every parameter (W[1], b[1], W[2], ...): what an optimizer updates. Frozen ones
        (`requires_grad_`) are in the list too; an optimizer skips them until unfrozen.
        ``recurse=False``: this module's own only, not its layers'."""
        if recurse is True:  # every step's zero_grad: without named_parameters' checks
            pairs: list[tuple[str, Tensor]] = []
            self._collect_parameters("", pairs, set())
            return [p for _, p in pairs]
        return [p for _, p in self.named_parameters(recurse=recurse)]

    def named_buffers(self, prefix: str = "", recurse: bool = True
                      ) -> list[tuple[str, np.ndarray]]:
        """(dotted name, array) of every buffer (`register_buffer`: BatchNorm's running_mean
        and running_var), as PyTorch's: this module's own in registration order, then each
        submodule's (``[('batchnorm1.running_mean', ...), ...]``). A buffer that is None is
        left out, as ``state_dict()`` leaves it; an array held by several modules comes once,
        under its first name. ``prefix`` goes before every name with a dot; ``recurse=False``
        gives this module's own buffers only. The arrays themselves, not copies."""
        caller = f"{type(self).__name__}.named_buffers"
        recurse = flag(recurse, "recurse", caller)
        modules = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        pairs: list[tuple[str, np.ndarray]] = []
        seen: set[int] = set()
        for path, module in modules:
            for name, value in module._members.items():
                if name in module._buffers and value is not None and id(value) not in seen:
                    seen.add(id(value))
                    pairs.append((f"{path}.{name}" if path else name, value))
        return pairs

    def buffers(self, recurse: bool = True) -> list[np.ndarray]:
        """Every buffer's array (`named_buffers` without the names), the buffers that are
        None left out; ``recurse=False``: this module's own only."""
        return [array for _, array in self.named_buffers(recurse=recurse)]

    def count_parameters(self, trainable: bool = False) -> int:
        """How many numbers the parameters hold; with ``trainable=True``, only those that
        require grad, leaving out frozen layers (Keras's trainable params)."""
        return sum(p.data.size for p in self.parameters() if p.requires_grad or not trainable)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients of the last backward (``.grad`` becomes None), or with
        ``set_to_none=False`` fill each with zeros in place, as PyTorch's (see
        `engine.zero_grads`)."""
        zero_grads(self.parameters(),
                   flag(set_to_none, "set_to_none", f"{type(self).__name__}.zero_grad"))

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (``requires_grad`` False) or unfreeze (True, the default) every parameter, as
        Keras's ``trainable = False`` in the course's transfer learning: a frozen layer still
        computes, but backward gives its parameters no gradient, so an optimizer leaves them
        as they are, weight decay and momentum included (until they are unfrozen, with
        ``requires_grad_(True)``).

        As in PyTorch, it does not forget a gradient the parameters hold already: the next
        step applies it (freeze after ``zero_grad()``, as `fit` does, or before backward).
        Nor does it stop BatchNorm's running mean and variance, which are not parameters,
        from following the training batches, as Keras's frozen BatchNorm does: put such a
        layer in eval mode too (``layer.eval()``), which `fit` keeps. Returns self."""
        caller = f"{type(self).__name__}.requires_grad_"
        requires_grad = flag(requires_grad, "requires_grad", caller)
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def astype(self, dtype: Any) -> Module:
        """Convert the model to ``dtype``, np.float64 or np.float32, in place: every
        parameter's data and .grad, every float buffer (BatchNorm's running statistics) and
        the constants layers keep (a Transformer's positional encodings). numpy's name for
        PyTorch's ``model.double()`` / ``model.float()``, which are here too. Layers then
        convert the data they get to it (a float32 model computes in float32 end to end).

        The parameters stay the same tensors, so a list from ``parameters()`` still holds
        them, and an optimizer made before converts its state (momentum, Adam's moments) to
        their new dtype at its next step, as if it were made after. Returns self.
        """
        dtype = float_dtype(dtype, f"{type(self).__name__}.astype")
        for p in self.parameters():
            if p.data.dtype != dtype:
                p.data = p.data.astype(dtype)
            if p.grad is not None and p.grad.dtype != dtype:
                p.grad = p.grad.astype(dtype)
        for module in self.modules():
            for name in module._buffers:
                value = module._members.get(name)
                if value is not None and value.dtype.kind == "f" and value.dtype != dtype:
                    setattr(module, name, value.astype(dtype))
            module._convert_constants(dtype)
        return self

    def double(self) -> Module:
        """PyTorch's name for ``astype(np.float64)``. Returns self."""
        return self.astype(np.float64)

    def float(self) -> Module:
        """PyTorch's name for ``astype(np.float32)``. Returns self."""
        return self.astype(np.float32)

    def half(self) -> Module:
        """PyTorch's ``model.half()`` (float16), refused: numpy's float16 multiplies matrices
        without BLAS, hundreds of times slower than float32, and its 3 significant digits need
        the loss scaling of PyTorch's mixed precision, which graphgrad has not."""
        raise GraphgradTypeError(
            f"{type(self).__name__}.half: graphgrad computes in np.float64 or np.float32 only: "
            "numpy's float16 multiplies matrices without BLAS (hundreds of times slower than "
            "float32) and its 3 significant digits need loss scaling, which graphgrad has "
            "not; model.float() is float32, half float64's memory")

    def bfloat16(self) -> Module:
        """PyTorch's ``model.bfloat16()``, refused: numpy has no bfloat16."""
        raise GraphgradTypeError(
            f"{type(self).__name__}.bfloat16: graphgrad computes in np.float64 or np.float32 "
            "only: numpy has no bfloat16; model.float() is float32, half float64's memory")

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """PyTorch's ``model.to(...)``: ``args`` and ``kwargs`` are a dtype, a device or a
        tensor. ``to(np.float32)``, ``to(dtype=...)``, ``to(tensor)`` (its dtype) is `astype`
        (in place; returns self); a device, ``"cpu"`` (or ``device="cpu"``, as in
        ``to("cpu", np.float32)``), changes nothing, as graphgrad
        computes with numpy on the CPU; any other device is refused. ``non_blocking`` and
        ``copy`` are taken and change nothing."""
        dtype = dtype_of_to(f"{type(self).__name__}.to", args, kwargs)
        return self if dtype is None else self.astype(dtype)

    def cpu(self) -> Module:
        """PyTorch's ``model.cpu()``: the model as it is (graphgrad computes on the CPU).
        Returns self."""
        return self

    def cuda(self, device: Any = None) -> Module:
        """PyTorch's ``model.cuda(device)``, refused whatever the device: graphgrad computes
        with numpy on the CPU."""
        refuse_device(f"{type(self).__name__}.cuda()")
        return self

    def _convert_constants(self, dtype: np.dtype) -> None:
        """Convert the arrays this module keeps that are neither parameters nor buffers
        (neither learned nor saved) to ``dtype``, for `astype`: a layer that keeps one
        overrides this, so that a converted model does not mix dtypes."""

    def apply(self, fn: Any) -> Module:
        """Call ``fn(module)`` on every module inside this one, then on this one (children
        first, as PyTorch's ``model.apply(init_weights)``), each once. Returns self.

        >>> def init_weights(m):
        ...     if isinstance(m, nn.Linear):
        ...         m.W.data = nn.init.xavier(m.W.shape, rng).astype(m.W.dtype)
        >>> model.apply(init_weights)

        Assigning ``.data`` replaces the array, its dtype too (nn.init gives float64): the
        ``astype`` keeps a float32 model float32, where PyTorch's in-place initialisers keep
        the dtype themselves.
        """
        if not callable(fn):
            raise GraphgradTypeError(
                f"{type(self).__name__}.apply takes a function of one module, called on "
                f"each module of the model, got {setting_text(fn)}")
        for module in self._children_first(set()):
            fn(module)
        return self

    def _children_first(self, seen: set[int]) -> list[Module]:
        seen.add(id(self))
        order = []
        for module in self.children():
            if id(module) not in seen:
                order.extend(module._children_first(seen))
        order.append(self)
        return order

    def train(self, mode: bool = True) -> Module:
        """Training mode (dropout drops, BatchNorm uses batch statistics). Returns self."""
        mode = flag(mode, "mode", f"{type(self).__name__}.train")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode: dropout off, BatchNorm uses its running statistics."""
        return self.train(False)

    # -- state -------------------------------------------------------------------------------
    def state_dict(self, prefix: str = "") -> dict[str, np.ndarray]:
        """Copies of every parameter and buffer, by dotted name, in assignment order.
        ``prefix`` goes before every key with a dot (``state_dict("encoder")`` gives
        'encoder.embedding.E', ...: the keys of a model holding this one as its
        ``encoder``); '' by default."""
        state = {}
        for name, value in self._members.items():
            full = f"{prefix}.{name}" if prefix else name
            if isinstance(value, Tensor):
                state[full] = value.data.copy()
            elif isinstance(value, Module):
                state.update(value.state_dict(full))
            elif value is not None:  # a buffer that is None is not saved
                state[full] = np.array(value, copy=True)
        return state

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> None:
        """Set parameters and buffers from ``state`` (as made by ``state_dict()``). Values
        are copied in the dtype of what they replace, as in PyTorch: a float64 state loads
        into a float32 model as float32.

        Raises `StateDictError` listing every missing or unexpected key (one that is no str
        too), every value that is no array of numbers and every shape that differs, before
        changing anything. ``strict`` is True or False: False ignores missing and unexpected
        keys (values and shapes must still fit), as long as one key is the model's: a state
        none of whose keys is (saved from a model that held this one as a layer, say) is
        refused, as it would load nothing.
        """
        if not isinstance(state, Mapping):
            raise not_a_state_error(f"{type(self).__name__}.load_state_dict", state, "model")
        strict = flag(strict, "strict", f"{type(self).__name__}.load_state_dict")
        targets = dict(self._state_targets())
        empty = {key for key, (owner, attr) in self._state_targets(empty=True)}
        source = getattr(state, "source", None)
        origin = f" from {source}" if source else ""
        missing = [k for k in targets if k not in state]
        unexpected = [k for k in state if k not in targets]
        problems = []
        if strict and missing:
            problems.append(f"missing keys: {', '.join(missing)}")
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(
                f"{k} (a buffer that is None in the model: set it to an array of the saved "
                "shape to load it)" if k in empty else
                k if isinstance(k, str) else f"{k!r} (not a str: keys are dotted names such "
                                             "as 'linear1.W')" for k in unexpected))
        if strict and any(isinstance(k, str) and _TORCH_RECURRENT_KEY.fullmatch(k)
                          for k in unexpected):
            problems.append(
                "weight_ih_l0, bias_hh_l0, ... are PyTorch's names of an LSTM's, GRU's or RNN's "
                "weights, which this model's cells do not share: load them with "
                "layer.load_torch_state_dict(state_dict), each layer's own keys without "
                "their prefix")
        hint = _parametrized_hint(missing, unexpected) if strict else None
        if hint:
            problems.append(hint)
        if not strict and targets and unexpected and len(unexpected) == len(state):
            raise StateDictError(_nothing_matches_message(self, origin, list(targets),
                                                          unexpected))
        # Every value is converted before any is set: a state that does not fit changes nothing.
        converted: dict[str, np.ndarray] = {}
        for key, (owner, attr) in targets.items():
            if key not in state:
                continue
            current = owner._members[attr]
            current_array = current.data if isinstance(current, Tensor) else np.asarray(current)
            try:
                given = np.asarray(state[key])
            except (TypeError, ValueError) as exc:  # a ragged list
                problems.append(f"{key}: the state's value cannot be made into an array "
                                f"({str(exc).rstrip('.')})")
                continue
            if given.dtype.kind not in "biuf":  # before the shape: None has shape ()
                what = (f"{given.dtype} values" if given.ndim and given.dtype.kind != "O"
                        else setting_text(state[key]))
                problems.append(f"{key}: the state holds {what}, not numbers")
            elif given.shape != current_array.shape:
                problems.append(f"{key}: the state has shape {given.shape}, the model "
                                f"{current_array.shape}" + _reshape_tip(given.shape,
                                                                        current_array.shape))
            else:
                # A new array: never an in-place write into one a graph may have saved.
                converted[key] = np.array(given, dtype=current_array.dtype)
        if problems:
            raise StateDictError(
                f"{type(self).__name__}.load_state_dict: the state{origin} does not fit the "
                "model:\n  " + "\n  ".join(problems) + "\n  Build the model with the same "
                "layers and sizes as the one that was saved (compare print(model) with the "
                "keys above)" + (", or pass strict=False to load a part of the state." if strict
                                 else "; strict=False skips missing and extra keys, not these.")
            )
        for key, array in converted.items():
            owner, attr = targets[key]
            value = owner._members[attr]
            if isinstance(value, Tensor):
                value.data = array
            else:
                setattr(owner, attr, array)

    def _state_targets(self, prefix: str = "", empty: bool = False
                       ) -> Iterator[tuple[str, tuple[Module, str]]]:
        """(state dict key, (module, attribute)) of each parameter and buffer; with
        ``empty``, of each buffer that is None instead (which a state dict does not hold)."""
        for name, value in self._members.items():
            full = f"{prefix}.{name}" if prefix else name
            if isinstance(value, Module):
                yield from value._state_targets(full, empty)
            elif (value is None) == empty:
                yield full, (self, name)

    # -- repr --------------------------------------------------------------------------------
    def _label(self) -> str:
        """How error messages name this layer while it runs: ``Linear(3 -> 4, init='he')``,
        and, run by the modules holding it, its path from the one called (``in
        decoder.layers.0.cross_attention``): a model has several layers of one kind."""
        label = self._kind()
        if self._scope is None:  # not held by another module
            return label
        path = _state.scope
        if self.single_node:  # it tags its node and opens no scope of its own
            path = self._scope if path is None else f"{path}/{self._scope}"
        if path is None or "/" not in path:  # run alone, or a layer of the model called
            return label
        return f"{label} in {path.replace('/', '.')}"

    def _kind(self) -> str:
        """The layer's kind and sizes, for messages: ``Linear(3 -> 4, init='he')``."""
        return f"{type(self).__name__}({self.extra_repr()})"

    def extra_repr(self) -> str:
        """What goes between the parentheses of this module's repr (sizes, settings)."""
        return ""

    def __repr__(self) -> str:
        head = f"{type(self).__name__}({self.extra_repr()}"
        children = list(self.named_children())
        count = self.count_parameters()
        frozen = count - self.count_parameters(trainable=True)
        note = f"  # {count:,} parameter{'s' * (count != 1)}" if count else ""
        if frozen:
            note += f" ({frozen:,} frozen)"
        if not children:
            return head + ")" + note
        lines = [head + note]
        for name, module in children:
            body = repr(module).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        return "\n".join(lines) + "\n)"
