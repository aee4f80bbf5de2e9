"""A model's parameters seen from outside: `functional_call`, which runs a module with some of
its parameters and buffers replaced by given tensors (PyTorch's ``torch.func.functional_call``),
and `parameters_to_vector` / `vector_to_parameters`, which flatten the parameters into one
vector and back (PyTorch's ``torch.nn.utils``). `pad_sequence` (from `nn.sequences`) is here
too, and so are `rnn` (packed sequences: `PackedSequence`, `pack_padded_sequence`,
`pad_packed_sequence`, ..., and `pad_sequence`, from `nn.packing`), `parametrize` (a
parameter computed from others at each read) and `parametrizations` (`weight_norm` and
`spectral_norm` on it), as PyTorch's ``torch.nn.utils.rnn``, ``parametrize`` and
``parametrizations``.

With them a model's cost is a function of its weights, for `gg.hessian`, `gg.hvp` or a
second-order method (Newton's, L-BFGS on a vector of every weight)::

    def cost(W):                                  # W: (1, n_x), the layer's weights
        return nn.binary_cross_entropy_with_logits(
            nn.functional_call(model, {"W": W}, (X,)), Y)
    H = gg.hessian(cost, model.W)                 # (1, n_x, 1, n_x)

Depends on `nn.module`, `nn.sequences`, `optim.clipping`, `tensor`, `errors` and the ops
`concatenate` and `reshape`; its modules `parametrize` and `parametrizations` on
`nn.containers` and `nn.conv` too, and `rnn` on `nn.packing`.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    GraphgradTypeError,
    ShapeError,
    array_of_numbers,
    describe,
    flag,
    listed,
    setting_text,
)
from graphgrad.nn.module import Module, StateDictError, _buffer_array, hold
from graphgrad.nn.sequences import pad_sequence
from graphgrad.nn.utils import parametrizations, parametrize, rnn
from graphgrad.ops.shape import concatenate, reshape
from graphgrad.optim.clipping import clip_grad_norm, clip_grad_value
from graphgrad.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "functional_call", "pad_sequence",
           "parameters_to_vector", "parametrizations", "parametrize", "rnn",
           "vector_to_parameters"]


def clip_grad_norm_(parameters: Iterable[Tensor], max_norm: float,
                    norm_type: float | str = 2.0, error_if_nonfinite: bool = False,
                    foreach: bool | None = None) -> float:
    """PyTorch's ``torch.nn.utils.clip_grad_norm_``, with its arguments: `optim.clip_grad_norm`,
    which scales the gradients of ``parameters`` together so that their ``norm_type``-norm is
    at most ``max_norm``, and returns the norm before. A gradient holding NaN or Inf raises
    `gg.AnomalyError` naming its tensor whatever ``error_if_nonfinite`` says (PyTorch's
    default, False, would return the NaN and scale every gradient by it); ``foreach``, a speed
    setting of PyTorch's, is taken and changes nothing."""
    flag(error_if_nonfinite, "error_if_nonfinite", "clip_grad_norm_")
    _foreach(foreach, "clip_grad_norm_")
    return clip_grad_norm(parameters, max_norm, norm_type)


def clip_grad_value_(parameters: Iterable[Tensor], clip_value: float,
                     foreach: bool | None = None) -> None:
    """PyTorch's ``torch.nn.utils.clip_grad_value_``, with its arguments: `optim.clip_grad_value`,
    every element of every gradient clipped to [-clip_value, clip_value]; ``foreach`` is
    taken and changes nothing."""
    _foreach(foreach, "clip_grad_value_")
    clip_grad_value(parameters, clip_value)


def _foreach(foreach: Any, caller: str) -> None:
    """PyTorch's foreach setting: None, True or False."""
    if foreach is not None:
        flag(foreach, "foreach", caller)


def functional_call(module: Module, parameters_and_buffers: Any, args: Any = (),
                    kwargs: Mapping[str, Any] | None = None, *, tie_weights: bool = True,
                    strict: bool = False) -> Any:
    """``module(*args, **kwargs)`` computed with some of its parameters and buffers replaced
    by the given values, which are put back as they were afterwards, also when the forward
    raises (PyTorch's ``torch.func.functional_call``). The graph of the result goes through
    the given tensors, not the module's parameters: a cost so computed is a function of them,
    for `gg.grad`, `gg.hessian` or `gg.jacobian`.

    >>> model = nn.Linear(3, 1)                    # W: (1, 3), b: (1,)
    >>> W = gg.Tensor(np.ones((1, 3)), requires_grad=True)
    >>> Z = nn.functional_call(model, {"W": W}, (X,))  # X: (m, 3) -> Z = X @ W.T + model.b

    Args:
        module: the model to run.
        parameters_and_buffers: a dict of values by ``state_dict()`` key (``"linear1.W"``,
            ``"bn.running_mean"``), or a tuple of such dicts (no key in two). A parameter's
            value is a Tensor (one computed, with its graph, as W - lr * dW) or an array of
            numbers (a constant); a buffer's an array. Each must have the shape of what it
            replaces; a key that is none of the model's is refused, with the model's keys.
        args: the positional inputs of forward, a tuple (anything else is the only one).
        kwargs: the keyword inputs of forward, a dict, or None.
        tie_weights: a parameter that the model holds under several names (tied weights, as
            an encoder's and decoder's embedding) is replaced under all of them by a value
            given for any one of them, as in PyTorch (two different values for it are
            refused); with False only under the names given.
        strict: True also refuses a state that leaves out some of the model's parameters
            and buffers (missing keys), as in PyTorch; False (the default) keeps the model's
            own for those.

    Returns:
        what the module's forward returns.

    The module itself is changed while the call runs (its attributes hold the given values),
    as in PyTorch: a module must not be run by other threads (or ``functional_call`` on
    another thread) meanwhile. A replaced buffer that forward assigns (BatchNorm's running
    statistics, in training mode) is put back too: the model's own statistics are left as
    they were (a buffer not replaced is updated as in any call). No ``.grad`` of the model's
    replaced parameters is touched: gradients go to the given tensors. A block that forward
    runs through `gg.checkpoint` is run again in backward with the given values too.
    """
    caller = "nn.functional_call"
    if not isinstance(module, Module):
        raise GraphgradTypeError(f"{caller} takes a Module first, got {setting_text(module)}")
    tie_weights = flag(tie_weights, "tie_weights", caller)
    strict = flag(strict, "strict", caller)
    given = _merged(parameters_and_buffers, caller)
    if kwargs is None:
        kwargs = {}
    elif not isinstance(kwargs, Mapping):
        raise GraphgradTypeError(f"{caller} takes kwargs as a dict of keyword inputs of "
                                 f"forward, or None; got {setting_text(kwargs)}")
    if type(args) is not tuple:
        args = (args,)
    owner_name = type(module).__name__
    # Every key of the model, the names of a tied parameter and of a shared layer included.
    targets = dict(module._state_targets())
    targets.update(module._state_targets(empty=True))  # buffers that are None now
    unknown = [key for key in given if key not in targets]
    if unknown:
        raise StateDictError(
            f"{caller}: {_shown(unknown, 'key')} of the values given "
            f"{'is' if len(unknown) == 1 else 'are'} not one of {owner_name}'s; its parameters "
            f"and buffers are {_shown(list(targets), 'key', limit=30)} (as state_dict() and "
            "named_parameters() name them)."
        )
    # The places to change, (owner, attribute), each with its value and the key that gave it.
    slots: dict[tuple[int, str], tuple[Module, str, Any, str, Any]] = {}
    held_under: dict[int, list[str]] = {}  # a parameter's names, for tie_weights
    if tie_weights:
        for key, (owner, attr) in targets.items():
            value = owner._members[attr]
            if isinstance(value, Tensor):
                held_under.setdefault(id(value), []).append(key)
    for key, raw in given.items():
        owner, attr = targets[key]
        current = owner._members[attr]
        value = _checked_value(owner, attr, key, raw, current, caller)
        tied = held_under.get(id(current), [key]) if isinstance(current, Tensor) else [key]
        for name in tied:
            place, place_attr = targets[name]
            slot = (id(place), place_attr)
            earlier = slots.get(slot)
            if earlier is None:
                slots[slot] = (place, place_attr, value, key, raw)
            elif earlier[4] is not raw:  # the same value twice is no conflict
                first_owner, first_attr = targets[earlier[3]]
                same_place = first_owner is owner and first_attr == attr
                raise ArgumentError(_conflict_message(caller, earlier[3], key, same_place))
    if strict:
        missing = [key for key, (owner, attr) in targets.items()
                   if (id(owner), attr) not in slots and owner._members[attr] is not None]
        if missing:
            raise StateDictError(
                f"{caller}: strict=True, and the values given leave out {owner_name}'s "
                f"{_shown(missing, 'key', limit=30)}: give a value for each (model.state_dict() "
                "has them all), or pass strict=False to keep the model's own for those.")
    # Set as `hold` sets them, so that neither the module's __call__ nor its attribute reads
    # slow down.
    changed: list[tuple[Module, str, Any]] = []
    try:
        for owner, attr, value, _, _ in slots.values():
            changed.append((owner, attr, owner._members[attr]))
            hold(owner, attr, value)
        return module(*args, **kwargs)
    finally:
        for owner, attr, value in reversed(changed):
            hold(owner, attr, value)


def _merged(parameters_and_buffers: Any, caller: str) -> dict[Any, Any]:
    """The values given to `functional_call`: one dict, or a tuple of dicts merged."""
    if isinstance(parameters_and_buffers, Mapping):
        return dict(parameters_and_buffers)
    if isinstance(parameters_and_buffers, (tuple, list)) and all(
            isinstance(part, Mapping) for part in parameters_and_buffers):
        merged: dict[Any, Any] = {}
        for part in parameters_and_buffers:
            twice = [key for key in part if key in merged]
            if twice:
                raise ArgumentError(
                    f"{caller}: {_shown(twice, 'key')} {'is' if len(twice) == 1 else 'are'} in "
                    "two of the dicts given: which value to use is ambiguous; give each key "
                    "once.")
            merged.update(part)
        return merged
    raise GraphgradTypeError(
        f"{caller} takes the values to use as a dict by state_dict() key ({{'linear1.W': W}}), "
        f"or a tuple of such dicts; got {setting_text(parameters_and_buffers)}")


def _checked_value(owner: Module, attr: str, key: str, value: Any, current: Any,
                   caller: str) -> Any:
    """``value`` as it replaces ``current`` (a parameter, or a buffer's array or None) under
    ``key``: a Tensor for a parameter, an array for a buffer, of ``current``'s shape."""
    if isinstance(current, Tensor):
        if not isinstance(value, Tensor):
            value = Tensor(array_of_numbers(value, f"the value of {key!r}", caller))
        if value.shape != current.shape:
            raise ShapeError(
                f"{caller}: the value of {key!r} is {describe(value)}, for the parameter "
                f"{describe(current)}: give one of shape {current.shape}.")
        return value
    if isinstance(value, Tensor) and value.requires_grad:
        raise GraphgradTypeError(
            f"{caller}: {key!r} is a buffer, an array of state no gradient flows through, "
            f"and its value {describe(value)} requires grad: give its values "
            "(value.detach()), or make it a parameter of the model to differentiate it.")
    array = _buffer_array(owner, attr, value)
    if current is not None and array.shape != current.shape:
        raise ShapeError(
            f"{caller}: the value of {key!r} has shape {array.shape}, for the buffer of "
            f"shape {current.shape}: give one of that shape.")
    return array


def _conflict_message(caller: str, first: str, key: str, same_place: bool) -> str:
    """Why two values given for one place (``first``'s and ``key``'s) are refused."""
    if same_place:
        return (f"{caller}: {first!r} and {key!r} name the same parameter or buffer (the "
                "model holds its layer under both names) and were given different values: "
                "give one of them.")
    return (f"{caller}: {first!r} and {key!r} are tied (the model holds one parameter under "
            "both names) and were given different values; give one value (or the same one "
            "for both), or pass tie_weights=False to replace each name alone.")


def _shown(keys: list[Any], what: str, limit: int = 10) -> str:
    """``'a', 'b'`` or ``'a', ... (40 keys in all)``: keys for a message."""
    text = ", ".join(repr(k) for k in keys[:limit])
    if len(keys) > limit:
        text += f", ... ({len(keys)} {what}s in all)"
    return text


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """The parameters flattened and joined into one vector, on the graph: gradients flow back
    from it into each parameter (PyTorch's ``torch.nn.utils.parameters_to_vector``).

    ``parameters`` is a list of tensors (``model.parameters()``), each flattened in C order
    (row by row: W[l] of shape (n[l], n[l-1]) gives its rows one after the other). Returns a
    Tensor of shape (n,), n the number of elements of them all, of their dtype (numpy's
    promotion when they differ). `vector_to_parameters` puts such a vector back.
    """
    caller = "nn.parameters_to_vector"
    tensors = listed(parameters, caller)
    if not tensors:
        raise ArgumentError(f"{caller} got no parameters: pass model.parameters() (of a model "
                            "that has some), or a list of tensors.")
    for i, p in enumerate(tensors):
        if not isinstance(p, Tensor):
            raise GraphgradTypeError(f"{caller} takes a list of Tensors (model.parameters()); "
                                     f"item {i} is {setting_text(p)}")
    if len(tensors) == 1:
        return reshape(tensors[0], (-1,))
    return concatenate([reshape(p, (-1,)) for p in tensors], axis=0)


def vector_to_parameters(vec: Any, parameters: Iterable[Tensor]) -> None:
    """Set the parameters' values from one vector, the inverse of `parameters_to_vector`
    (PyTorch's ``torch.nn.utils.vector_to_parameters``): no graph is recorded.

    ``vec`` is a Tensor or an array of shape (n,), n the number of elements of all the
    ``parameters`` (``model.parameters()``), which take its values in order, each in its own
    shape (C order) and dtype. Each gets a new array, as ``load_state_dict`` gives: an array
    a graph saved is never written over, and the parameters do not share ``vec``'s memory.
    The parameters and their ``.grad`` are otherwise left as they are.
    """
    caller = "nn.vector_to_parameters"
    tensors = listed(parameters, caller)
    for i, p in enumerate(tensors):
        if not isinstance(p, Tensor):
            raise GraphgradTypeError(f"{caller} takes a list of Tensors (model.parameters()); "
                                     f"item {i} is {setting_text(p)}")
    array = array_of_numbers(vec, "vec", caller)
    if array.ndim != 1:
        raise ShapeError(f"{caller} takes a vector of shape (n,), got {describe(vec)}: pass "
                         "vec.reshape(-1) if it holds the values in order.")
    sizes = [p.data.size for p in tensors]
    if array.shape[0] != sum(sizes):
        raise ShapeError(
            f"{caller}: vec has {array.shape[0]} values, the {len(tensors)} parameters hold "
            f"{sum(sizes)} ({' + '.join(map(str, sizes)) or 'none'}): give one value per "
            "element of each, as parameters_to_vector(parameters) has.")
    start = 0
    for p, size in zip(tensors, sizes):
        p.data = np.array(array[start:start + size].reshape(p.data.shape), dtype=p.data.dtype)
        start += size
