"""PyTorch's ``torch.nn.utils.rnn`` by its path, so that ``from torch.nn.utils.rnn import
pack_padded_sequence`` ports as ``from graphgrad.nn.utils.rnn import pack_padded_sequence``:
`PackedSequence`, `pack_padded_sequence`, `pad_packed_sequence`, `pack_sequence`,
`unpack_sequence` and `unpad_sequence` (from `nn.packing`, where they are described) and
`pad_sequence` (from `nn.sequences`).

Depends on `nn.packing` and `nn.sequences`.
"""
from __future__ import annotations

from graphgrad.nn.packing import (
    PackedSequence,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    unpack_sequence,
    unpad_sequence,
)
from graphgrad.nn.sequences import pad_sequence

__all__ = ["PackedSequence", "pack_padded_sequence", "pack_sequence", "pad_packed_sequence",
           "pad_sequence", "unpack_sequence", "unpad_sequence"]
