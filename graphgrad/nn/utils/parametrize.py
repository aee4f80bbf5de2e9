"""Parametrizations, as PyTorch's ``torch.nn.utils.parametrize``: a parameter of a module
computed, at each read, by a module of its own from other tensors, the originals, which are
what is learned and saved.

``register_parametrization(layer, "W", P)`` takes W out of the layer's parameters and keeps
it as ``layer.parametrizations.W.original`` (or, when ``P.right_inverse`` splits it in
several, ``original0``, ``original1``, ...); reading ``layer.W`` then returns ``P(original)``,
a Tensor on the graph, so the layer's forward computes with it unchanged and backward reaches
the originals. Assigning ``layer.W = A`` sets the originals through ``P.right_inverse(A)``.
The keys of ``state_dict()`` are PyTorch's, with the module's own names
(``parametrizations.W.original0``), and ``remove_parametrizations`` puts a plain parameter
back.

How: as in PyTorch, the module's class becomes a subclass of its own
(``ParametrizedLinear``) with a property for each parametrized name; every other module,
and every other attribute, is read as before, at no cost. Depends on `nn.module`,
`nn.containers`, `tensor`, `modes`, `errors`.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    GraphgradTypeError,
    ShapeError,
    describe,
    flag,
    setting_text,
)
from graphgrad.modes import _state, no_grad
from graphgrad.nn.containers import ModuleDict, ModuleList, _usable_name
from graphgrad.nn.module import Module, Parameter, call_scope
from graphgrad.tensor import Tensor

__all__ = ["ParametrizationList", "cached", "is_parametrized", "register_parametrization",
           "remove_parametrizations"]

# The weights computed inside `cached()`, by (id of the ParametrizationList): None outside.
_CACHE = threading.local()
# The weights of the parametrized modules whose forward runs, by (id of the list): None until
# the first read in the call (see `_forward_once`).
_CALLS = threading.local()


@contextmanager
def cached() -> Iterator[None]:
    """Inside ``with parametrize.cached():`` each parametrized weight is computed once, at its
    first read, and that Tensor returned at the next ones (PyTorch's ``cached``): a recurrent
    layer reading its parametrized weight at every step computes it once, and a spectral
    norm does one power iteration per block. Thread-local; blocks may nest."""
    outer = getattr(_CACHE, "weights", None)
    if outer is None:
        _CACHE.weights = {}
    try:
        yield
    finally:
        if outer is None:
            _CACHE.weights = None


def _arrays(value: Any, caller: str) -> tuple[list[np.ndarray], bool]:
    """What a right_inverse returned (a Tensor or array, or a sequence of them) as arrays,
    and whether it was one."""
    if isinstance(value, (Tensor, np.ndarray)):
        return [value.data if isinstance(value, Tensor) else value], True
    if isinstance(value, Sequence) and value and all(
            isinstance(v, (Tensor, np.ndarray)) for v in value):
        return [v.data if isinstance(v, Tensor) else v for v in value], False
    raise GraphgradTypeError(f"{caller}: right_inverse must return a Tensor or a sequence of "
                             f"Tensors, got {setting_text(value)}")


class ParametrizationList(ModuleList):
    """The parametrizations of one parameter and its originals (PyTorch's
    ``ParametrizationList``), held as ``module.parametrizations.<name>``: the originals as
    ``original`` (one tensor) or ``original0``, ``original1``, ... (what the first
    parametrization's ``right_inverse`` split the parameter into), the parametrizations as
    its layers ``0``, ``1``, ... applied in order. Not called: `forward` computes the value.

    Args:
        modules: the parametrizations, Modules whose forward takes the original(s) (the first)
            or the value before (the others) and returns a Tensor.
        original: the parameter they replace; its data goes through the right inverses (the
            last's first) to give the originals. A single original is the same Parameter,
            with the new values, so an optimizer that holds it keeps training it.
        unsafe: True skips checking that the parametrizations give a value of the
            parameter's shape and dtype.
    """

    def __init__(self, modules: Sequence[Module], original: Tensor, unsafe: bool = False
                 ) -> None:
        super().__init__()
        caller = "register_parametrization"
        with no_grad():
            new: Any = Tensor(original.data)
            for module in reversed(modules):
                if hasattr(module, "right_inverse"):
                    new = module.right_inverse(new)
        arrays, single = _arrays(new, caller)
        object.__setattr__(self, "is_tensor", single)
        object.__setattr__(self, "ntensors", len(arrays))
        if single:
            array = arrays[0]
            if array.dtype != original.dtype:
                raise GraphgradTypeError(
                    f"{caller}: right_inverse turned {describe(original)} into {array.dtype} "
                    "values; it must keep the dtype of the parameter.")
            if array is not original.data:
                original.data = np.array(array)  # a new array: a graph may hold the old one
            self.original = original
        else:
            for i, array in enumerate(arrays):
                part = Parameter(np.array(array))
                part.requires_grad_(original.requires_grad)
                setattr(self, f"original{i}", part)
        self.extend(modules)
        if not unsafe:
            self._check_value(original, caller)

    def originals(self) -> list[Tensor]:
        """The originals, in order: ``[original]`` or ``[original0, original1, ...]``."""
        if self.is_tensor:
            return [self._members["original"]]
        return [self._members[f"original{i}"] for i in range(self.ntensors)]

    def forward(self) -> Tensor:
        """The parameter's value: the parametrizations applied in order to the originals."""
        layers = self._layers
        value = layers[0](*self.originals())
        for module in layers[1:]:
            value = module(value)
        return value

    def right_inverse(self, value: Any) -> None:
        """Set the originals so that the parameter's value is ``value`` (an array or Tensor of
        the parameter's shape): the right inverses of the parametrizations, the last's first,
        each to the result of the one after; a parametrization without one passes the value
        on. The originals get new arrays, no graph recorded."""
        caller = "parametrization.right_inverse"
        with no_grad():
            new: Any = Tensor(value.data if isinstance(value, Tensor) else np.asarray(value))
            for module in reversed(self._layers):
                if hasattr(module, "right_inverse"):
                    new = module.right_inverse(new)
        arrays, single = _arrays(new, caller)
        originals = self.originals()
        if single != self.is_tensor or len(arrays) != len(originals):
            raise GraphgradTypeError(f"{caller} gave {len(arrays)} tensors for the "
                                     f"{len(originals)} originals")
        for original, array in zip(originals, arrays):
            if array.shape != original.shape:
                raise ShapeError(f"{caller} gave values of shape {array.shape} for the original "
                                 f"{describe(original)}: assign a value of the parameter's "
                                 "shape.")
        for original, array in zip(originals, arrays):
            original.data = np.array(array, dtype=original.dtype)

    def _check_value(self, original: Tensor, caller: str) -> None:
        """Refuse parametrizations that give a value of another shape or dtype than the
        parameter's (a layer would compute with the wrong sizes)."""
        with no_grad():
            value = self.forward()
        if not isinstance(value, Tensor):
            raise GraphgradTypeError(f"{caller}: a parametrization's forward must return a "
                                     f"Tensor, got {setting_text(value)}")
        if value.shape != original.shape or value.dtype != original.dtype:
            raise ShapeError(
                f"{caller}: the parametrization gives {describe(value)} for the parameter "
                f"{describe(original)}, which a layer computes with: it must keep its shape "
                "and dtype (pass unsafe=True to allow it).")


def _read(module: Module, name: str) -> Tensor:
    """``module.<name>`` of a parametrized name: the parametrizations' value, computed now
    (once per `cached` block), its ops in the module's name scope."""
    plist = module._members["parametrizations"]._members[name]
    weights = getattr(_CACHE, "weights", None)
    if weights is not None and id(plist) in weights:
        return weights[id(plist)][1]
    in_call = getattr(_CALLS, "values", None)
    if in_call:
        value = in_call.get(id(plist))
        if value is not None:
            return value
    # A single-node layer (Linear, Conv2d) opens no name scope of its own when called: its
    # weight's ops get the one its node gets, so two layers' are not one cluster in pictures.
    scope = call_scope(module) if module.single_node and module._scope else None
    if scope is None:
        value = plist.forward()
    else:
        outer = _state.scope
        _state.scope = scope
        _state.refresh()
        try:
            value = plist.forward()
        finally:
            _state.scope = outer
            _state.refresh()
    if weights is not None:
        weights[id(plist)] = (plist, value)  # the list kept alive with its id
    if in_call and id(plist) in in_call:
        in_call[id(plist)] = value
    return value


def _forward_once(self: Module, *args: Any, **kwargs: Any) -> Any:
    """The module's own forward, each of its parametrized weights computed once for the call
    however often forward reads it (`nn.Linear` reads W for its dtype, then computes with
    it): one power iteration of a spectral norm per call, as in PyTorch."""
    values = getattr(_CALLS, "values", None)
    if values is None:
        values = _CALLS.values = {}
    keys = [id(plist) for plist in self._members["parametrizations"]._members.values()]
    saved = [(key, values[key]) for key in keys if key in values]  # called in its own forward
    for key in keys:
        values[key] = None  # computed at the first read
    try:
        return type(self)._parametrized_base.forward(self, *args, **kwargs)
    finally:
        for key in keys:
            del values[key]
        values.update(saved)


def _parametrized_setattr(self: Module, name: str, value: Any) -> None:
    """``module.<name> = value``: through the right inverse for a parametrized name, as the
    module's own class sets it otherwise (a `Sequential`'s keeps its list of layers)."""
    cls = type(self)
    if name in cls._parametrized:
        self._members["parametrizations"]._members[name].right_inverse(value)
    else:
        cls._parametrized_base.__setattr__(self, name, value)


def _rebuild(base: type, names: tuple[str, ...]) -> Module:
    """A parametrized module's empty shell, for pickle and ``copy.deepcopy``, which then set
    its __dict__."""
    return object.__new__(_parametrized_class(base, names))


def _reduce(self: Module, protocol: Any) -> tuple:
    cls = type(self)
    return _rebuild, (cls._parametrized_base, cls._parametrized), dict(self.__dict__)


_CLASSES: dict[tuple[type, tuple[str, ...]], type] = {}


def _parametrized_class(base: type, names: tuple[str, ...]) -> type:
    """The subclass of ``base`` with a property for each of ``names`` (PyTorch's
    ``ParametrizedLinear``), made once per base and names: the properties are the only
    difference, so unparametrized modules read their attributes as they always did."""
    key = (base, names)
    cls = _CLASSES.get(key)
    if cls is None:
        namespace: dict[str, Any] = {
            name: property(lambda self, name=name: _read(self, name),
                           lambda self, value, name=name: _parametrized_setattr(
                               self, name, value),
                           doc=f"{name}, computed by its parametrizations at each read")
            for name in names}
        namespace.update(
            __setattr__=_parametrized_setattr, __reduce_ex__=_reduce, forward=_forward_once,
            __module__=base.__module__, _parametrized=names, _parametrized_base=base,
            # Sequential names the layer as its class's (linear1, not parametrizedlinear1).
            short_name=getattr(base, "short_name", None) or base.__name__.lower())
        cls = type(f"Parametrized{base.__name__}", (base,), namespace)
        _CLASSES[key] = cls
    return cls


def _base_class(module: Module) -> type:
    return getattr(type(module), "_parametrized_base", type(module))


def parameter_of(module: Module, name: Any, caller: str) -> Tensor:
    """The parameter ``name`` of ``module``, or an error naming its parameters."""
    if not isinstance(module, Module):
        raise GraphgradTypeError(f"{caller} takes a Module first, got {setting_text(module)}")
    value = module._members.get(name) if isinstance(name, str) else None
    if not isinstance(value, Tensor):
        held = [key for key, v in module._members.items() if isinstance(v, Tensor)]
        raise ArgumentError(
            f"{caller}: {type(module).__name__} has no parameter {setting_text(name)}; its "
            f"parameters are {', '.join(held) or 'none'}.")
    return value


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether ``module`` has a parametrized parameter, or (``tensor_name``, a str) whether
    that one is."""
    plists = module.__dict__.get("parametrizations") if isinstance(module, Module) else None
    if not isinstance(plists, ModuleDict) or len(plists) == 0:
        return False
    return tensor_name is None or tensor_name in plists


def register_parametrization(module: Module, tensor_name: str, parametrization: Module, *,
                             unsafe: bool = False) -> Module:
    """Compute ``module.<tensor_name>`` by ``parametrization`` from then on, as PyTorch's
    ``register_parametrization``; returns ``module``.

    Args:
        module: the module whose parameter is parametrized (`nn.Linear`: its ``"W"``).
        tensor_name: the parameter's name in ``module``.
        parametrization: a Module whose ``forward`` takes the original(s) and returns the
            parameter's value, a Tensor of its shape and dtype. An optional
            ``right_inverse(A)`` gives the original(s) whose value is A: a Tensor, kept in
            the parameter itself, or a sequence of Tensors (weight_norm's g and v), new
            parameters ``original0``, ``original1``, .... Without it the original is the
            parameter as it is. Registering a second parametrization on a parametrized name
            applies it after the first (the originals stay as they are).
        unsafe: True skips checking that the value keeps the parameter's shape and dtype.

    The parameter leaves ``module``'s own parameters for ``module.parametrizations``
    (a `ModuleDict` of `ParametrizationList`), whose originals are learned and saved
    (``parametrizations.W.original``). Reading ``module.W`` computes the value on the graph
    (in ``with parametrize.cached():``, once per block); assigning it sets the originals
    through the right inverses.
    """
    caller = "register_parametrization"
    if not isinstance(parametrization, Module):
        raise GraphgradTypeError(
            f"{caller}: the parametrization must be a Module whose forward computes the "
            f"parameter (a subclass of nn.Module), got {setting_text(parametrization)}")
    unsafe = flag(unsafe, "unsafe", caller)
    if is_parametrized(module, tensor_name):
        plist = module.parametrizations[tensor_name]
        if not unsafe:
            with no_grad():
                before = getattr(module, tensor_name)
                after = parametrization(before)
            if not isinstance(after, Tensor) or after.shape != before.shape or (
                    after.dtype != before.dtype):
                what = describe(after) if isinstance(after, Tensor) else setting_text(after)
                raise ShapeError(
                    f"{caller}: the parametrization turns {describe(before)} into {what}: it "
                    "must keep its shape and dtype (pass unsafe=True to allow it).")
        plist.append(parametrization)
        return module
    original = parameter_of(module, tensor_name, caller)
    if not _usable_name(ModuleDict, tensor_name):
        raise ArgumentError(f"{caller}: {tensor_name!r} cannot be parametrized: it names a "
                            "ModuleDict entry in module.parametrizations, so it must be an "
                            "identifier not starting with '_'.")
    plist = ParametrizationList([parametrization], original, unsafe)  # checks before changes
    container = module._container
    plists = module.__dict__.get("parametrizations")
    if not isinstance(plists, ModuleDict):
        Module.__setattr__(module, "parametrizations", ModuleDict())
        plists = module.parametrizations
    del module._members[tensor_name]
    object.__delattr__(module, tensor_name)
    plists[tensor_name] = plist
    # Its forward still makes its own ops, not a container's: called alone it keeps its scope.
    object.__setattr__(module, "_container", container)
    names = tuple(plists.keys())
    object.__setattr__(module, "__class__", _parametrized_class(_base_class(module), names))
    return module


def remove_parametrizations(module: Module, tensor_name: str,
                            leave_parametrized: bool = True) -> Module:
    """Make ``module.<tensor_name>`` a plain parameter again, as PyTorch's
    ``remove_parametrizations``; returns ``module``.

    Args:
        module: a module with ``tensor_name`` parametrized.
        tensor_name: the parameter's name.
        leave_parametrized: True (the default) gives the parameter its current value (the
            parametrizations' output, computed without a graph); False, the original's
            values, which needs a single original (not weight_norm's g and v). A single
            original stays the same Parameter, so an optimizer holding it keeps training it.

    The parameter comes last among the module's own (``state_dict()`` keys ``b``, ``W``), as
    in PyTorch; the module gets its class back when no parametrization is left.
    """
    caller = "remove_parametrizations"
    leave_parametrized = flag(leave_parametrized, "leave_parametrized", caller)
    if not is_parametrized(module, tensor_name):
        raise ArgumentError(f"{caller}: {setting_text(tensor_name)} is not parametrized in "
                            f"{type(module).__name__}.")
    plists = module.parametrizations
    plist = plists[tensor_name]
    if plist.is_tensor:
        original = plist.original
        if leave_parametrized:
            with no_grad():
                value = getattr(module, tensor_name)
            original.data = np.array(value.data, dtype=original.dtype)
    elif leave_parametrized:
        with no_grad():
            value = getattr(module, tensor_name)
        requires_grad = plist.originals()[0].requires_grad
        original = Parameter(np.array(value.data))
        original.requires_grad_(requires_grad)
    else:
        raise ArgumentError(
            f"{caller}: {tensor_name!r} has {plist.ntensors} originals (original0, ...), none "
            "of which is its value: leave_parametrized=False needs a single one; use "
            "leave_parametrized=True.")
    del plists[tensor_name]
    names = tuple(plists.keys())
    container = module._container
    if names:
        cls = _parametrized_class(_base_class(module), names)
    else:
        cls = _base_class(module)
        Module.__delattr__(module, "parametrizations")
    object.__setattr__(module, "__class__", cls)
    object.__setattr__(module, "_container", container)
    if original.name in (None, "original"):
        original.name = tensor_name
    setattr(module, tensor_name, original)
    return module
