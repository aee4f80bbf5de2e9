"""Batches of sequences of different lengths: `pad_sequence`, which pads them to one length
and stacks them (PyTorch's ``nn.utils.rnn.pad_sequence``), and the check of the ``lengths``
that `nn.RNN` takes for such a batch (PyTorch's packed sequences, which `nn.packing` makes,
run through them)::

    X = nn.utils.pad_sequence(sentences, batch_first=True)    # (m, T_x, n_x)
    A, a_last = layer(X, lengths=[len(s) for s in sentences], return_state=True)

Depends on `ops` (pad, stack), `tensor` and `errors`.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from graphgrad.errors import ArgumentError, ShapeError, array_of_numbers, flag, real_number
from graphgrad.ops.shape import pad, stack
from graphgrad.tensor import Tensor


def pad_sequence(sequences: Any, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Sequences of different lengths, each (T_i, *features), padded at their end with
    ``padding_value`` to the longest one's T and stacked: (m, T, *features) when
    ``batch_first``, the layout of `nn.RNN` and graphgrad's, else (T, m, *features), as
    PyTorch's ``pad_sequence``, whose default (batch_first=False) this one keeps so that
    code ported from PyTorch lays its batches out as it did.

    ``padding_side="left"`` (PyTorch's) pads at their start instead, as a decoder's batch of
    prompts is laid out; `nn.RNN`'s ``lengths`` take sequences padded at the end.

    A Tensor among them keeps its gradient (the padding's is dropped); arrays come back as
    a constant Tensor. The lengths to give `nn.RNN` with it: ``[len(s) for s in sequences]``.
    """
    caller = "pad_sequence"
    batch_first = flag(batch_first, "batch_first", caller)
    value = real_number(padding_value, "padding_value", caller, lambda v: v == v, "a number")
    if not isinstance(padding_side, str) or padding_side not in ("right", "left"):
        raise ArgumentError(f"{caller}: padding_side must be 'right' (the default) or 'left', "
                            f"got {padding_side!r}")
    if isinstance(sequences, (Tensor, np.ndarray)) or not hasattr(sequences, "__len__"):
        raise ArgumentError(f"{caller} takes a list of sequences, each (T_i, *features), got "
                            f"{type(sequences).__name__}; a padded array is already a batch")
    if len(sequences) == 0:
        raise ArgumentError(f"{caller} got no sequences")
    items = [s if isinstance(s, Tensor) else array_of_numbers(s, f"sequences[{i}]", caller)
             for i, s in enumerate(sequences)]
    features = {tuple(s.shape[1:]) for s in items}
    if any(len(s.shape) == 0 for s in items) or len(features) != 1:
        shapes = ", ".join(str(tuple(s.shape)) for s in items)
        raise ShapeError(f"{caller}: every sequence must be (T_i, *features) with the same "
                         f"features, got shapes {shapes}")
    T = max(s.shape[0] for s in items)
    left = padding_side == "left"
    padded = [pad(s, ((T - s.shape[0], 0) if left else (0, T - s.shape[0]),)
                  + ((0, 0),) * (len(s.shape) - 1), constant_values=value) for s in items]
    return stack(padded, axis=0 if batch_first else 1)


def sequence_lengths(lengths: Any, m: int, T_x: int, caller: str) -> np.ndarray:
    """``lengths`` checked as m whole numbers in [1, T_x], one per sequence of a batch
    (m, T_x, ...), as an int array; or an error naming ``caller``."""
    if isinstance(lengths, Tensor):
        lengths = lengths.data
    array = array_of_numbers(lengths, "lengths", caller)
    if array.shape != (m,):
        raise ShapeError(f"{caller}: lengths must hold one length per sequence, shape ({m},), "
                         f"got shape {array.shape}")
    if array.dtype.kind == "b" or not np.all(np.mod(array, 1) == 0):
        raise ArgumentError(f"{caller}: lengths must be whole numbers of time steps, got "
                            f"{array.tolist()}")
    array = array.astype(np.int64)
    if array.min() < 1 or array.max() > T_x:
        raise ArgumentError(
            f"{caller}: lengths must be in [1, {T_x}] (T_x, the padded length of X), got "
            f"{array.tolist()}; a sequence of no steps has no state (leave it out of the batch)")
    return array
