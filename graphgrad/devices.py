"""graphgrad's one device, the CPU, and PyTorch's ``.to(...)`` calls read for it.

graphgrad computes with numpy on the CPU. PyTorch code moves models, tensors and packed
sequences with ``.to(device)``, ``.to(dtype)``, ``.cuda()`` and ``.cpu()``: `dtype_of_to`
reads such a call for `Tensor.to`, `nn.Module.to` and `nn.utils.rnn.PackedSequence.to` (the
dtype asked for, or None; ``"cpu"`` taken and changing nothing; any other device refused by
name), and `refuse_device` is ``.cuda()``. Depends on `errors`.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from graphgrad.errors import ArgumentError, GraphgradTypeError

# PyTorch's device names: "cpu" is accepted, the others refused by name.
DEVICES = ("cpu", "cuda", "mps", "xpu", "meta", "xla", "hip", "ipu", "mtia")


def dtype_of_to(caller: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The dtype a ``.to(*args, **kwargs)`` call asks for, or None: ``args`` and ``kwargs``
    are a dtype, a device or a tensor (its dtype), by position or as ``device=`` and
    ``dtype=``, as in ``to("cpu", np.float32)``. ``non_blocking``, ``copy`` and
    ``memory_format`` are taken and change nothing. A whole number is PyTorch's index of a
    CUDA device (``to(0)``), refused as the other devices; anything numpy cannot read as a
    dtype is refused naming it."""
    unknown = set(kwargs) - {"device", "dtype", "non_blocking", "copy", "memory_format"}
    if unknown or len(args) > 2:
        raise GraphgradTypeError(
            f"{caller} takes a dtype, a device ('cpu') or a tensor (its dtype), by "
            "position or as device= and dtype=; got "
            + (f"the keywords {', '.join(sorted(unknown))}" if unknown
               else f"{len(args)} positional arguments"))
    from graphgrad.tensor import Tensor  # the engine's tensor imports this module's users

    dtype = kwargs.get("dtype")
    for value in (*args, kwargs.get("device")):
        if value is None:
            continue
        if isinstance(value, Tensor):
            dtype = value.dtype
        elif isinstance(value, str) and value.split(":")[0] in DEVICES:
            if value.split(":")[0] != "cpu":
                refuse_device(f"{caller}({value!r})")
        elif isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
            refuse_device(f"{caller}({value!r})")  # PyTorch's to(0): the CUDA device 0
        else:
            dtype = value
    if dtype is not None:
        try:
            np.dtype(dtype)
        except TypeError:
            given = f"{type(dtype).__name__}" if isinstance(dtype, np.ndarray) else repr(dtype)
            raise GraphgradTypeError(
                f"{caller} takes a dtype (np.float32), a device ('cpu') or a tensor (its "
                f"dtype); got {given}, which is none of them") from None
    return dtype


def refuse_device(call: str) -> None:
    """Refuse a move to a device other than the CPU, ``call`` being how it was asked."""
    raise ArgumentError(
        f"{call}: graphgrad computes with numpy on the CPU, which is its only device; leave "
        "the model and tensors where they are (to('cpu') and cpu() are accepted and change "
        "nothing).")
