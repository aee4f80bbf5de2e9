"""`Sequential` and `ModuleList`: modules that hold layers in order; `ModuleDict`, by name;
`ParameterList` and `ParameterDict`, the same for parameters.

`Sequential` chains its layers (``model(X)`` runs each on the output of the one before);
`ModuleList` holds layers for a ``forward`` that loops over them. Both grow and shrink as a
list does, and name their layers as PyTorch's do (by class and count in a `Sequential`:
``linear1``, ``relu1``; by position in a `ModuleList`), the names graph pictures and
``state_dict`` keys use. Depends on `module`, `tensor`, `errors`.
"""
from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeVar

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    GraphgradError,
    GraphgradTypeError,
    array_of_numbers,
    describe,
    setting_text,
)
from graphgrad.nn.module import Module, Parameter, is_parameter
from graphgrad.tensor import Tensor

_Layers = TypeVar("_Layers", bound="_OrderedLayers")


def _refuse_non_module(owner: str, name: str, layer: Any) -> None:
    """Refuse, in ``owner``'s name, a ``layer`` (named ``name`` in the message) that is no
    Module."""
    if not isinstance(layer, Module):
        raise GraphgradTypeError(
            f"{owner}: {name} is a {type(layer).__name__}, not a Module; wrap a function in a "
            "Module subclass, or use an activation module (nn.ReLU()).")


def _usable_name(owner: type, name: Any) -> bool:
    """Whether ``name`` can name a layer of a container of class ``owner``: a Python
    identifier, not private, and not a method or attribute of the class, which it would
    hide."""
    return (isinstance(name, str) and name.isidentifier() and not name.startswith("_")
            and not hasattr(owner, name))


class _OrderedLayers(Module):
    """What `Sequential` and `ModuleList` share: their layers are the registered submodules,
    kept in order in a list (``_layers``) that every assignment and deletion updates, so
    ``len``, iteration and indexing see the registry and nothing else. They grow and shrink
    as a list does (``append``, ``extend``, ``insert``, ``layers[i] = layer``, ``del
    layers[i]``); each names its layers its own way (`_names`, `_new_names`)."""

    def __init__(self) -> None:
        super().__init__()
        object.__setattr__(self, "_layers", [])

    def __setattr__(self, name: str, value: Any) -> None:
        members = self._members
        new = name not in members
        old = members.get(name)
        super().__setattr__(name, value)
        if new and isinstance(members.get(name), Module):
            # A layer under a new name comes last in the registry: added on its own, so that
            # building n layers one by one (append, Sequential(*layers)) is not n refreshes
            # of all of them.
            self._layers.append(value)
            self._place_layer(name, value)
        elif isinstance(old, Module) or isinstance(members.get(name), Module):
            self._refresh_layers()

    def __delattr__(self, name: str) -> None:
        super().__delattr__(name)
        self._refresh_layers()

    def _refresh_layers(self) -> None:
        object.__setattr__(self, "_layers", [
            v for v in self._members.values() if isinstance(v, Module)])

    def _place_layer(self, name: str, layer: Module) -> None:
        """What a layer added under ``name`` needs besides its place in ``_layers``."""

    def _check_layer(self, name: Any, layer: Any) -> None:
        _refuse_non_module(type(self).__name__, name, layer)

    def __len__(self) -> int:
        return len(self._layers)

    # -- positions ---------------------------------------------------------------------------
    def _index(self, index: Any) -> int:
        """``index`` as an int, or an error saying what indexes the layers."""
        try:
            return operator.index(index)
        except TypeError:
            pass
        tip = (f": a layer by its name is an attribute, model.{index} (or getattr(model, "
               f"{index!r}))" if isinstance(index, str) and index.isidentifier() else "")
        raise GraphgradTypeError(f"{type(self).__name__} indices are integers or slices, got "
                                 f"{setting_text(index)}{tip}") from None

    def _position(self, index: Any, size: int) -> int:
        """``index`` as a position in range(size), negative counting from the end."""
        position = self._index(index)
        if not -size <= position < size:
            raise IndexError(f"{type(self).__name__} index {position} is out of range for "
                             f"{size} layers")
        return position % size

    def __iter__(self) -> Iterator[Module]:
        return iter(tuple(self._layers))  # as they are now: a loop may add layers

    # -- growing and shrinking ---------------------------------------------------------------
    def _names(self, named: list[tuple[str | None, Module]]) -> list[str]:
        """The names of the layers of ``named`` once they are this container's layers, in
        that order: a layer coming in has no name yet (None), the others have theirs."""
        raise NotImplementedError

    def _new_names(self, layers: list[Module]) -> list[str]:
        """The names of ``layers`` appended after the layers there are."""
        raise NotImplementedError

    def __setitem__(self, index: int, layer: Module) -> None:
        """``layers[i] = layer`` replaces the layer at position ``i`` under its name."""
        if isinstance(index, slice):
            raise GraphgradTypeError(
                f"{type(self).__name__}: layers[i] = layer replaces one layer at a time, got a "
                f"slice ({index}); delete a slice (del layers[i:j]) and insert the new layers.")
        position = self._position(index, len(self))
        self._check_layer(f"layer {position}", layer)
        name = next(n for p, (n, _) in enumerate(self.named_children()) if p == position)
        setattr(self, name, layer)

    def append(self: _Layers, layer: Module) -> _Layers:
        """Add a layer at the end. Returns self."""
        return self.extend([layer])

    def extend(self: _Layers, layers: Iterable[Module]) -> _Layers:
        """Append each of ``layers`` in order; a bad one adds none. Returns self."""
        kind = type(self).__name__
        if isinstance(layers, Module) and not isinstance(layers, _OrderedLayers):
            raise GraphgradTypeError(
                f"{kind} takes an iterable of modules, got one {type(layers).__name__}; "
                f"pass a list: {kind}([layer]) or layers.extend([layer]), or layers.append(layer)."
            )
        try:
            layers = list(layers)
        except TypeError:
            raise GraphgradTypeError(
                f"{kind} takes an iterable of modules (a list, a tuple, a generator), "
                f"got {type(layers).__name__}"
            ) from None
        for offset, layer in enumerate(layers):  # all checked first: a bad one adds none
            self._check_layer(f"layer {len(self) + offset}", layer)
        for name, layer in zip(self._new_names(layers), layers):
            setattr(self, name, layer)
        return self

    def insert(self: _Layers, index: int, layer: Module) -> _Layers:
        """Put ``layer`` before position ``index`` (as list.insert); the layers are named
        again as the container names them (a ModuleList's later layers move up one, names
        and all). Returns self."""
        self._check_layer(f"the layer to insert at {index}", layer)
        named: list[tuple[str | None, Module]] = list(self.named_children())
        named.insert(self._index(index), (None, layer))
        self._rename(named)
        return self

    def __delitem__(self, index: int | slice) -> None:
        """``del layers[i]`` (or a slice, as of a list); the layers left are named again as
        the container names them (a ModuleList's later layers move down one, names and all,
        so the names stay 0, 1, ... and ``append`` adds after the last)."""
        named: list[tuple[str | None, Module]] = list(self.named_children())
        if isinstance(index, slice):
            del named[index]
        else:
            del named[self._position(index, len(named))]
        self._rename(named)

    def _rename(self, named: list[tuple[str | None, Module]]) -> None:
        """Hold the layers of ``named``, in that order, under the names `_names` gives them
        (each layer's name scope in pictures with it)."""
        names = self._names(named)
        for name in [n for n, _ in self.named_children()]:
            Module.__delattr__(self, name)
        for name, (_, layer) in zip(names, named):
            Module.__setattr__(self, name, layer)
        self._refresh_layers()


def _kind_name(layer: Module) -> str:
    """What `Sequential` names a layer of this class, before its count: ``linear``."""
    kind = getattr(layer, "short_name", None) or type(layer).__name__.lower()
    return kind.lstrip("_") or "layer"  # a private class's name: _Block is block1


def _counted_names(layers: Iterable[Module]) -> list[str]:
    """The names ``Sequential(*layers)`` gives: its class and a count per class."""
    counts: dict[str, int] = {}
    names = []
    for layer in layers:
        kind = _kind_name(layer)
        counts[kind] = counts.get(kind, 0) + 1
        names.append(f"{kind}{counts[kind]}")
    return names


class Sequential(_OrderedLayers):
    """Modules applied one after the other: ``Sequential(Linear(2, 4), Tanh(), Linear(4, 1))``.

    Layers given in order are named by their class and a count per class (``linear1``,
    ``tanh1``, ``linear2``), so ``linear2.W`` is the course's W[2]. Give a dict to choose the
    names: ``Sequential({"hidden": Linear(2, 4), "act": Tanh(), "out": Linear(4, 1)})``.
    Index it like a list: ``model[0]`` is the first layer, ``model[:2]`` a Sequential of the
    first two. Replacing a layer (``model.linear2 = Linear(4, 3)``, or ``model[2] = ...``)
    replaces it in the chain, under its name; an optimizer made before holds the old layer's
    parameters: make a new one (or add the new layer's with ``optimizer.add_param_group``),
    which `fit` checks. ``append``, ``extend``, ``insert`` and ``del model[i]`` change the
    chain as a list: layers named by their class and count are named again so (a Linear
    inserted first is ``linear1``, the one that was is ``linear2``), as ``Sequential(*layers)``
    would name them; names of one's own are kept, and a layer added gets its class's name with
    the next count free.
    """

    def __init__(self, *layers: Module | Mapping[str, Module]) -> None:
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], Mapping):
            named = list(layers[0].items())
        else:
            named = list(zip(_counted_names(layers), layers))
        for name, layer in named:
            self._check_layer(name, layer)
            if not _usable_name(Sequential, name) or name in self._members:
                raise ArgumentError(
                    f"Sequential: {name!r} cannot name a layer: a name must be a Python "
                    "identifier not starting with '_', used once, and not the name of a "
                    "method or attribute of Sequential (forward, eval, ...); choose another."
                )
            setattr(self, name, layer)

    def forward(self, X: Any) -> Any:
        """Each layer applied to the previous one's output, in order: X (m, n_x) -> the last
        layer's output (X itself when there are no layers)."""
        for layer in self._layers:
            X = layer(X)
        return X

    def __getitem__(self, index: int | slice) -> Module:
        if isinstance(index, slice):
            return Sequential(dict(list(self.named_children())[index]))
        return self._layers[self._position(index, len(self))]

    def _names(self, named: list[tuple[str | None, Module]]) -> list[str]:
        current = [name for name, _ in self.named_children()]
        if current == _counted_names(self._layers):  # named by class and count: again so
            return _counted_names(layer for _, layer in named)
        taken = {name for name, _ in named if name is not None}
        return [name if name is not None else self._free_name(layer, taken)
                for name, layer in named]

    def _new_names(self, layers: list[Module]) -> list[str]:
        taken = set(self._members)
        return [self._free_name(layer, taken) for layer in layers]

    def _free_name(self, layer: Module, taken: set[str]) -> str:
        """The layer's class and the first count after those of its class (``linear3`` after
        two Linear layers) that is no other name, which it then takes."""
        kind = _kind_name(layer)
        count = 1 + sum(_kind_name(each) == kind for each in self._layers)
        while f"{kind}{count}" in taken or hasattr(Sequential, f"{kind}{count}"):
            count += 1
        taken.add(f"{kind}{count}")
        return f"{kind}{count}"


class _Holder(Module):
    """What `ModuleList` and `ModuleDict` share: they are never called, so they open no name
    scope of their own; their layers carry the holder's name in theirs (``hidden/0``,
    ``heads/digits``), and two holders' layers of one name are not one cluster."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Refused, whatever the args and kwargs, naming the fix: a holder of layers is not
        a layer (use its layers in ``forward``, or chain them in a `Sequential`)."""
        count = len(list(self.children()))
        raise GraphgradTypeError(
            f"{type(self).__name__} ({count} layer{'' if count == 1 else 's'}) is not a layer "
            f"and cannot be called: it holds layers without saying how they connect. "
            f"{self._use_tip} or use nn.Sequential(*layers) to chain them."
        )

    forward = __call__
    _use_tip: str  # how to use the layers instead, ending with a comma

    def _set_scope(self, scope: str | None) -> None:
        super()._set_scope(scope)
        for name, layer in self.named_children():
            self._place_layer(name, layer)

    def _place_layer(self, name: str, layer: Module) -> None:
        layer._set_scope(self._scope_for(name))

    def _scope_for(self, name: str) -> str:
        scope = self._scope
        return name if scope is None else f"{scope}/{name}"


class ModuleList(_Holder, _OrderedLayers):
    """Layers held in order, registered under their positions, for a ``forward`` that loops
    over them (as PyTorch's ``nn.ModuleList``)::

        self.hidden = ModuleList(Linear(n[l - 1], n[l]) for l in range(1, L))
        ...
        for layer in self.hidden:
            A = gg.relu(layer(A))

    Its parameters are named by position (``hidden.0.W``, ``hidden.1.W``, ...) in
    ``named_parameters()`` and ``state_dict()``; ``train()``, ``eval()``, ``zero_grad()`` and
    the repr reach every layer. It supports ``len``, iteration, indexing (``layers[-1]``; a
    slice is a new ModuleList of the same layers), ``layers[i] = layer``, ``del layers[i]``,
    ``append``, ``extend`` and ``insert`` (which renumber the later layers). It is not a layer
    itself: calling it is an error, as the order of the layers says nothing about how they
    connect (use `Sequential` for a chain).
    ``modules``: the layers, in order, any iterable of Modules (a list, a generator); none by
    default.
    In graph pictures a layer of ``self.hidden`` is the cluster ``hidden/0``, ``hidden/1``, ...
    """

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        super().__init__()
        self.extend(modules)

    _use_tip = "Iterate over it in forward (for layer in self.layers: X = layer(X)),"

    def __getitem__(self, index: int | slice) -> Module | ModuleList:
        if isinstance(index, slice):
            sliced = ModuleList(self._layers[index])
            # Building the slice named its layers 0, 1, ... in graph pictures; they stay this
            # list's layers there (a slice is mostly a loop's view: self.layers[1:]).
            self._set_scope(self._scope)
            return sliced
        return self._layers[self._position(index, len(self))]

    def _names(self, named: list[tuple[str | None, Module]]) -> list[str]:
        return [str(position) for position in range(len(named))]

    def _new_names(self, layers: list[Module]) -> list[str]:
        return [str(position) for position in range(len(self), len(self) + len(layers))]

    def _refresh_layers(self) -> None:
        super()._refresh_layers()
        self._set_scope(self._scope)


class ModuleDict(_Holder):
    """Layers held by name, for a ``forward`` that picks them by name (as PyTorch's
    ``nn.ModuleDict``): one head per task, one encoder per input kind::

        self.heads = ModuleDict({"digit": Linear(64, 10), "parity": Linear(64, 1)})
        ...
        return self.heads[task](A)

    A name is a Python identifier not starting with '_' and not the name of a method of
    ModuleDict (``keys``, ``update``, ...). Parameters are named after it (``heads.digit.W``)
    in ``named_parameters()`` and ``state_dict()``; ``train()``, ``eval()``, ``zero_grad()``
    and the repr reach every layer. It reads and changes as a dict: ``heads["digit"]``,
    ``heads["sign"] = layer``, ``del heads["sign"]``, ``"digit" in heads``, ``len``,
    iteration over the names, ``keys()``, ``values()``, ``items()``, ``update(...)``,
    ``pop(name)``, ``clear()``. Calling it is an error: it says nothing of how its layers connect.
    ``modules``: a dict of name -> Module, another ModuleDict, or an iterable of (name,
    Module) pairs, added in order; none by default. In graph pictures a layer of
    ``self.heads`` is the cluster ``heads/digit``.
    """

    _use_tip = "Call the layer it holds by name in forward (self.heads['digit'](X)),"

    def __init__(self, modules: Mapping[str, Module] | ModuleDict
                 | Iterable[tuple[str, Module]] = ()) -> None:
        super().__init__()
        self.update(modules)

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if isinstance(value, Module) and self._members.get(name) is value:
            self._place_layer(name, value)

    def _check(self, name: Any, module: Any) -> None:
        if not _usable_name(ModuleDict, name):
            raise ArgumentError(
                f"ModuleDict: {setting_text(name)} cannot name a layer: a name must be a "
                "Python identifier not starting with '_' and not the name of a method or "
                "attribute of ModuleDict (keys, update, ...); choose another.")
        _refuse_non_module("ModuleDict", repr(name), module)

    def __getitem__(self, name: str) -> Module:
        layer = self._members.get(name) if isinstance(name, str) else None
        if not isinstance(layer, Module):
            held = ", ".join(repr(key) for key in self) or "none"
            raise KeyError(f"ModuleDict has no layer named {setting_text(name)}; it holds "
                           f"{held}")
        return layer

    def __setitem__(self, name: str, module: Module) -> None:
        """``heads[name] = layer`` adds a layer, or replaces the one of that name in place."""
        self._check(name, module)
        setattr(self, name, module)

    def __delitem__(self, name: str) -> None:
        self.pop(name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and isinstance(self._members.get(name), Module)

    def __len__(self) -> int:
        return len(self.keys())

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def keys(self) -> list[str]:
        """The layers' names, in the order they were added."""
        return [name for name, _ in self.named_children()]

    def values(self) -> list[Module]:
        """The layers, in the order they were added."""
        return list(self.children())

    def items(self) -> list[tuple[str, Module]]:
        """(name, layer) pairs, in the order they were added."""
        return list(self.named_children())

    def pop(self, name: str) -> Module:
        """Remove the layer of that name and return it."""
        layer = self[name]
        delattr(self, name)
        return layer

    def clear(self) -> None:
        """Remove every layer."""
        for name in self.keys():
            delattr(self, name)

    def update(self, modules: Mapping[str, Module] | ModuleDict | Iterable[tuple[str, Module]]
               ) -> None:
        """Add each (name, layer) of ``modules``, a dict, another ModuleDict or an iterable of
        pairs, in order, a layer of a name already held replacing it; all are checked first,
        so a bad one adds none."""
        try:
            # A ModuleDict iterates over its names, as a dict does: its pairs are its items
            pairs = [(name, module) for name, module in (
                modules.items() if isinstance(modules, (Mapping, ModuleDict)) else modules)]
        except (TypeError, ValueError):
            raise GraphgradTypeError(
                f"ModuleDict takes a dict of name -> layer, or (name, layer) pairs, got "
                f"{setting_text(modules)}") from None
        for name, module in pairs:
            self._check(name, module)
        for name, module in pairs:
            setattr(self, name, module)


class _NoSuchKeyError(GraphgradError, KeyError):
    """A `ParameterDict` holds no parameter of the name asked for."""

    def __str__(self) -> str:  # KeyError would print the message in quotes
        return str(self.args[0])


def _as_parameter(owner: str, name: str, value: Any) -> Tensor:
    """``value`` as a parameter of ``owner`` (a `ParameterList` or `ParameterDict`): an
    `nn.Parameter` or a leaf tensor that requires grad as it is, an array of numbers (or a
    tensor of data) made an `nn.Parameter`, as PyTorch's wrap a tensor; a computed tensor (it
    would be cut from its graph) or anything else is refused."""
    if is_parameter(value):
        return value
    if isinstance(value, Module) or (isinstance(value, Tensor) and value.requires_grad):
        what = describe(value) if isinstance(value, Tensor) else setting_text(value)
        raise GraphgradTypeError(
            f"{owner}: {name} must be an nn.Parameter or an array of numbers, got {what}"
            + (": hold layers in nn.ModuleList or nn.ModuleDict" if isinstance(value, Module)
               else ", a computed tensor: pass its values (t.detach()) to learn them"))
    data = value.data if isinstance(value, Tensor) else array_of_numbers(value, name, owner)
    if data.dtype.kind != "f":
        data = data.astype(np.float64)
    return Parameter(data)


class ParameterList(Module):
    """Parameters held in order, registered under their positions (PyTorch's
    ``nn.ParameterList``), for a ``forward`` that loops over them::

        self.weights = nn.ParameterList(np.ones(n) for _ in range(3))
        ...
        return sum(w * X for w in self.weights)

    They are named ``weights.0``, ``weights.1``, ... in ``named_parameters()`` and
    ``state_dict()``. It supports ``len``, iteration, indexing (``params[-1]``; a slice is
    a new ParameterList of the same parameters), ``params[i] = p``, ``append`` and
    ``extend``. ``values``: the parameters, any iterable of `nn.Parameter`s or arrays of
    numbers (each made an `nn.Parameter`, as PyTorch wraps a tensor); none by default.
    """

    def __init__(self, values: Iterable[Any] = ()) -> None:
        super().__init__()
        self.extend(values)

    def __len__(self) -> int:
        return len(self._members)

    def __iter__(self) -> Iterator[Tensor]:
        return iter(list(self._members.values()))

    def _position(self, index: Any) -> int:
        size = len(self)
        try:
            position = operator.index(index)
        except TypeError:
            raise GraphgradTypeError(f"ParameterList indices must be integers or slices, got "
                                     f"{setting_text(index)}") from None
        if not -size <= position < size:
            raise IndexError(f"ParameterList index {position} is out of range: it holds {size} "
                             f"parameter{'s' * (size != 1)}")
        return position % size

    def __getitem__(self, index: int | slice) -> Tensor | ParameterList:
        if isinstance(index, slice):
            return ParameterList(list(self)[index])
        return self._members[str(self._position(index))]

    def __setitem__(self, index: int, value: Any) -> None:
        """``params[i] = p`` replaces the parameter at position i."""
        position = self._position(index)
        setattr(self, str(position), _as_parameter("ParameterList", f"item {position}", value))

    def append(self, value: Any) -> ParameterList:
        """Add ``value``, a parameter (an array is made an `nn.Parameter`), at the end.
        Returns self."""
        setattr(self, str(len(self)), _as_parameter("ParameterList", f"item {len(self)}", value))
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        """Add each of ``values`` at the end, in order; all are checked first, so a bad one
        adds none. Returns self."""
        if isinstance(values, (Tensor, np.ndarray)) or not isinstance(values, Iterable):
            raise GraphgradTypeError(f"ParameterList.extend takes an iterable of parameters, "
                                     f"got {setting_text(values)}")
        size = len(self)
        params = [_as_parameter("ParameterList", f"item {size + i}", v)
                  for i, v in enumerate(values)]
        for i, param in enumerate(params):
            setattr(self, str(size + i), param)
        return self

    def extra_repr(self) -> str:
        """The parameters' shapes, for the repr."""
        return ", ".join(str(p.shape) for p in self)


class ParameterDict(Module):
    """Parameters held by name (PyTorch's ``nn.ParameterDict``), for a ``forward`` that picks
    them by name::

        self.scales = nn.ParameterDict({"digit": np.ones(10), "parity": np.ones(1)})

    A name is a Python identifier not starting with '_' and not the name of a method of
    ParameterDict; parameters are named after it (``scales.digit``) in
    ``named_parameters()`` and ``state_dict()``. It reads and changes as a dict:
    ``params["digit"]``, ``params["sign"] = p``, ``del params["sign"]``, ``in``, ``len``,
    iteration over the names, ``keys()``, ``values()``, ``items()``, ``get``, ``pop``,
    ``popitem``, ``setdefault``, ``update``, ``clear``, ``copy``, ``fromkeys`` and ``|``.
    ``values``: a dict of name -> parameter (or array of numbers, made an `nn.Parameter`),
    or an iterable of (name, value) pairs; none by default.
    """

    def __init__(self, values: Mapping[str, Any] | Iterable[tuple[str, Any]] = ()) -> None:
        super().__init__()
        self.update(values)

    def _checked(self, name: Any, value: Any) -> Tensor:
        if not _usable_name(ParameterDict, name):
            raise ArgumentError(
                f"ParameterDict: {setting_text(name)} cannot name a parameter: a name must be "
                "a Python identifier not starting with '_' and not the name of a method or "
                "attribute of ParameterDict (keys, update, ...); choose another.")
        return _as_parameter("ParameterDict", repr(name), value)

    def __getitem__(self, name: str) -> Tensor:
        value = self._members.get(name) if isinstance(name, str) else None
        if value is None:
            held = ", ".join(repr(key) for key in self) or "none"
            raise _NoSuchKeyError(f"ParameterDict has no parameter {setting_text(name)}; it "
                                  f"holds {held}")
        return value

    def __setitem__(self, name: str, value: Any) -> None:
        """``params[name] = p`` adds a parameter, or replaces the one of that name."""
        setattr(self, name, self._checked(name, value))

    def __delitem__(self, name: str) -> None:
        self.pop(name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._members

    def __len__(self) -> int:
        return len(self._members)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def keys(self) -> list[str]:
        """The parameters' names, in the order they were added."""
        return list(self._members)

    def values(self) -> list[Tensor]:
        """The parameters, in the order they were added."""
        return list(self._members.values())

    def items(self) -> list[tuple[str, Tensor]]:
        """(name, parameter) pairs, in the order they were added."""
        return list(self._members.items())

    def get(self, name: str, default: Any = None) -> Any:
        """The parameter of that name, or ``default``."""
        return self._members.get(name, default) if isinstance(name, str) else default

    def pop(self, name: str) -> Tensor:
        """Remove the parameter of that name and return it."""
        value = self[name]
        delattr(self, name)
        return value

    def clear(self) -> None:
        """Remove every parameter."""
        for name in self.keys():
            delattr(self, name)

    def popitem(self) -> tuple[str, Tensor]:
        """Remove the parameter added last and return (its name, it)."""
        if not self._members:
            raise _NoSuchKeyError("ParameterDict.popitem: the ParameterDict is empty")
        name = next(reversed(self._members))
        return name, self.pop(name)

    def setdefault(self, name: str, default: Any = None) -> Tensor:
        """The parameter of that name; if there is none, ``default`` added under it first
        (an array made an `nn.Parameter`)."""
        if name not in self:
            self[name] = default
        return self[name]

    def copy(self) -> ParameterDict:
        """A new ParameterDict of the same parameters (not copies of them), as PyTorch's."""
        return ParameterDict(self.items())

    @classmethod
    def fromkeys(cls, names: Iterable[str], default: Any = None) -> ParameterDict:
        """A ParameterDict with ``default`` under each of ``names``: one parameter, shared
        (an array is made one `nn.Parameter` first), as PyTorch's."""
        value = _as_parameter("ParameterDict.fromkeys", "default", default)
        return cls((name, value) for name in names)

    def __or__(self, other: Any) -> ParameterDict:
        """``params | other``: a new ParameterDict of these parameters, then other's."""
        merged = self.copy()
        merged.update(other)
        return merged

    def __ror__(self, other: Any) -> ParameterDict:
        """``other | params``: a new ParameterDict of other's parameters, then these."""
        merged = ParameterDict(other)
        merged.update(self)
        return merged

    def __ior__(self, other: Any) -> ParameterDict:
        """``params |= other``: `update` with other."""
        self.update(other)
        return self

    def update(self, values: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> None:
        """Add each (name, value) of ``values``, a dict, another ParameterDict or an iterable
        of pairs, in order, replacing one of the same name; all are checked first, so a bad
        one adds none."""
        try:
            pairs = [(name, value) for name, value in (
                values.items() if isinstance(values, (Mapping, ParameterDict)) else values)]
        except (TypeError, ValueError):
            raise GraphgradTypeError(
                f"ParameterDict takes a dict of name -> parameter, or (name, parameter) pairs, "
                f"got {setting_text(values)}") from None
        checked = [(name, self._checked(name, value)) for name, value in pairs]
        for name, param in checked:
            setattr(self, name, param)

    def extra_repr(self) -> str:
        """The parameters' names and shapes, for the repr."""
        return ", ".join(f"{name}: {p.shape}" for name, p in self._members.items())
