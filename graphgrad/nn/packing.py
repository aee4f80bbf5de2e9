"""PyTorch's packed sequences (``torch.nn.utils.rnn``, here also as `nn.utils.rnn`): a batch
of sequences of different lengths held without their padding, step by step.
`pack_padded_sequence` packs a padded batch, `pad_packed_sequence` pads it back (with the
lengths), `pack_sequence` and `unpack_sequence` go from and to a list of sequences, and
`unpad_sequence` cuts a padded batch into its sequences. `nn.LSTM`, `nn.GRU` and `nn.RNN`
take a `PackedSequence` and give their output as one::

    packed = pack_padded_sequence(X, lengths, batch_first=True, enforce_sorted=False)
    out_packed, (h_n, c_n) = lstm(packed)                 # h_n, c_n in X's order
    out, out_lengths = pad_packed_sequence(out_packed, batch_first=True)

The layout is PyTorch's, time-major: the sequences sorted longest first, ``data`` holds
step 0 of every sequence, then step 1 of those that have one, and so on, and
``batch_sizes[t]`` counts the sequences with a step t. For a = [1, 2, 3], b = [4, 5], c = [6]:
data = [1, 4, 6, 2, 5, 3], batch_sizes = [3, 2, 1].

Packing is one gather (indexing with the steps' places) and padding one scatter
(`IndexAdd`), each the other's backward, so gradients flow from the packed data back to the
padded batch and on, to any order. The layers run packed input through their ``lengths``
path (unpack, run, pack): there is one recurrent implementation.

Depends on `nn.sequences`, `ops` (indexing, swapaxes), `tensor`, `devices` and `errors`.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from graphgrad.devices import dtype_of_to, refuse_device
from graphgrad.errors import (
    ArgumentError,
    GraphgradTypeError,
    ShapeError,
    array_of_numbers,
    describe,
    flag,
    real_number,
    setting_text,
    whole_number,
)
from graphgrad.nn.sequences import pad_sequence
from graphgrad.ops.indexing import GetItem, IndexAdd
from graphgrad.ops.shape import swapaxes
from graphgrad.tensor import Tensor

__all__ = ["PackedSequence", "pack_padded_sequence", "pack_sequence", "pad_packed_sequence",
           "pad_sequence", "unpack_sequence", "unpad_sequence"]


class _Fields(NamedTuple):
    data: Tensor
    batch_sizes: np.ndarray
    sorted_indices: np.ndarray | None
    unsorted_indices: np.ndarray | None


class PackedSequence(_Fields):
    """A batch of sequences packed step by step, as PyTorch's (a named tuple, so
    ``data, batch_sizes, sorted_indices, unsorted_indices = packed`` unpacks it).

    Fields:
        data: a Tensor (N, *), N the sum of the lengths: step 0 of every sequence (in
            sorted order, longest first), then step 1 of those at least 2 long, ...
        batch_sizes: int64 array (T,), T the longest length: how many sequences have a
            step t, non-increasing.
        sorted_indices: int64 array (m,), the sequences' places in the batch given, longest
            first (``X[sorted_indices]`` is the sorted batch), or None when it was sorted
            already (``enforce_sorted=True``).
        unsorted_indices: its inverse permutation (None with it), which puts them back.

    Made by `pack_padded_sequence` and `pack_sequence`; ``PackedSequence(data,
    batch_sizes, sorted_indices=None, unsorted_indices=None)`` checks the fields given and
    computes unsorted_indices when left out, as PyTorch's.
    """

    __slots__ = ()

    def __new__(cls, data: Any, batch_sizes: Any, sorted_indices: Any = None,
                unsorted_indices: Any = None) -> PackedSequence:
        caller = "PackedSequence"
        if not isinstance(data, Tensor):
            data = Tensor(array_of_numbers(data, "data", caller))
        if data.ndim == 0:
            raise ShapeError(f"{caller}: data must be (N, *), one row per step of every "
                             f"sequence, got {describe(data)}")
        sizes = _whole_numbers(batch_sizes, "batch_sizes", caller)
        if sizes.ndim != 1 or sizes.size == 0 or sizes.min() < 1 or np.any(np.diff(sizes) > 0):
            raise ArgumentError(
                f"{caller}: batch_sizes must be a non-increasing 1-D array of counts of at "
                f"least 1 (how many sequences have a step t), got {sizes.tolist()}; "
                "pack_padded_sequence(X, lengths) makes them")
        if sizes.sum() != data.shape[0]:
            raise ShapeError(
                f"{caller}: batch_sizes {sizes.tolist()} count {sizes.sum()} steps in all, and "
                f"data {describe(data)} holds {data.shape[0]}: give one row of data per step")
        m = int(sizes[0])
        order = inverse = None
        if sorted_indices is not None:
            order = _permutation(sorted_indices, "sorted_indices", m, caller)
            inverse = np.empty_like(order)
            inverse[order] = np.arange(m)
            if unsorted_indices is not None:
                given = _permutation(unsorted_indices, "unsorted_indices", m, caller)
                if not np.array_equal(given, inverse):
                    raise ArgumentError(
                        f"{caller}: unsorted_indices {given.tolist()} is not the inverse of "
                        f"sorted_indices {order.tolist()}: leave it out to have it computed")
        elif unsorted_indices is not None:
            raise ArgumentError(f"{caller}: unsorted_indices without sorted_indices: give "
                                "sorted_indices (unsorted_indices is computed from it)")
        return _packed(data, sizes, order, inverse)

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """PyTorch's ``packed.to(...)``: a dtype (or a tensor's) converts data to it, on the
        graph; ``"cpu"`` changes nothing; other devices are refused (see `Tensor.to`)."""
        dtype = dtype_of_to("PackedSequence.to", args, kwargs)
        data = self.data if dtype is None else self.data.to(dtype)
        return self if data is self.data else self._replace(data=data)

    def cpu(self) -> PackedSequence:
        """PyTorch's ``packed.cpu()``: the packed sequence itself."""
        return self

    def cuda(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """PyTorch's ``packed.cuda()``, refused: graphgrad computes with numpy on the CPU."""
        refuse_device("PackedSequence.cuda()")
        return self

    def double(self) -> PackedSequence:
        """PyTorch's ``packed.double()``: data in float64."""
        return self.to(np.float64)

    def float(self) -> PackedSequence:
        """PyTorch's ``packed.float()``: data in float32."""
        return self.to(np.float32)

    def __repr__(self) -> str:
        return (f"PackedSequence(data={describe(self.data)}, batch_sizes="
                f"{self.batch_sizes.tolist()}, sorted_indices={_listed(self.sorted_indices)}, "
                f"unsorted_indices={_listed(self.unsorted_indices)})")


def _packed(data: Tensor, batch_sizes: np.ndarray, sorted_indices: np.ndarray | None,
            unsorted_indices: np.ndarray | None) -> PackedSequence:
    """A PackedSequence of fields known to be right (no checks)."""
    return tuple.__new__(PackedSequence, (data, batch_sizes, sorted_indices, unsorted_indices))


def _listed(indices: np.ndarray | None) -> Any:
    return None if indices is None else indices.tolist()


def pack_padded_sequence(input: Any, lengths: Any, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """A padded batch packed: ``input`` (T, m, *), or (m, T, *) with ``batch_first``,
    sequence i's steps ``input[:lengths[i], i]`` (``input[i, :lengths[i]]``), the rest
    padding, which is left out.

    ``lengths`` (m,), whole numbers in [1, T] (a list, an array or a tensor). With
    ``enforce_sorted=True`` (PyTorch's default) they must be in decreasing order, the batch
    sorted longest first; ``enforce_sorted=False`` sorts it (stably) and keeps the order in
    ``sorted_indices``, so that `pad_packed_sequence` and the layers' last states give the
    sequences back in the order given. The data keeps ``input``'s graph: gradients flow back
    to it (zeros at the padding)."""
    return _pack(input, lengths, batch_first, enforce_sorted, "pack_padded_sequence")


def _pack(input: Any, lengths: Any, batch_first: Any, enforce_sorted: Any,
          caller: str) -> PackedSequence:
    batch_first = flag(batch_first, "batch_first", caller)
    enforce_sorted = flag(enforce_sorted, "enforce_sorted", caller)
    if isinstance(input, PackedSequence):
        raise GraphgradTypeError(f"{caller}: input is packed already; pass a padded batch "
                                 "(pad_packed_sequence(packed) gives one back)")
    X = input if isinstance(input, Tensor) else Tensor(array_of_numbers(input, "input", caller))
    layout = "(m, T, *)" if batch_first else "(T, m, *)"
    if X.ndim < 2:
        raise ShapeError(
            f"{caller} takes input {layout} (batch_first={batch_first}), got {describe(X)}: "
            "a list of sequences goes to pack_sequence(sequences)")
    m, T = (X.shape[0], X.shape[1]) if batch_first else (X.shape[1], X.shape[0])
    lengths = _lengths(lengths, m, T, batch_first, caller)
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise ArgumentError(
                f"{caller}: enforce_sorted=True (the default) takes lengths in decreasing "
                f"order, the batch sorted longest first; got {lengths.tolist()}. Pass "
                "enforce_sorted=False to have the batch sorted (sorted_indices keeps its "
                "order, and pad_packed_sequence and the layers' h_n give it back).")
        order = inverse = None
    else:
        order = np.argsort(-lengths, kind="stable")  # ties keep their order, as PyTorch's
        inverse = np.empty_like(order)
        inverse[order] = np.arange(m)
    sizes = _batch_sizes(lengths)
    t, b = _places(sizes, order)
    data = GetItem.apply(X, index=(b, t) if batch_first else (t, b))
    return _packed(data, sizes, order, inverse)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None
                        ) -> tuple[Tensor, np.ndarray]:
    """A packed batch padded back: ``(padded, lengths)``, padded (T, m, *), or (m, T, *)
    with ``batch_first``, its sequences in the order they were packed from (undoing
    ``enforce_sorted=False``'s sort), each followed by ``padding_value``, and lengths (m,)
    int64 in that order, as PyTorch's.

    T is the longest length, or ``total_length`` (at least that) to pad to the length of the
    batch that was packed (a model that gives its input's shape back). The padding has no
    gradient; the steps keep the data's graph."""
    caller = "pad_packed_sequence"
    if not isinstance(sequence, PackedSequence):
        tip = ("it is padded already" if isinstance(sequence, (Tensor, np.ndarray)) else
               "pack_padded_sequence(X, lengths) or pack_sequence(sequences) make one")
        raise GraphgradTypeError(f"{caller} takes a PackedSequence, got "
                                 f"{setting_text(sequence)}: {tip}")
    batch_first = flag(batch_first, "batch_first", caller)
    value = real_number(padding_value, "padding_value", caller, lambda v: v == v, "a number")
    sizes = sequence.batch_sizes
    T, m = len(sizes), int(sizes[0])
    if total_length is not None:
        total_length = whole_number(total_length, "total_length", caller)
        if total_length < T:
            raise ArgumentError(
                f"{caller}: total_length={total_length} is shorter than the longest "
                f"sequence, {T} steps: give at least {T}, or None to pad to the longest")
        T = total_length
    t, b = _places(sizes, sequence.sorted_indices)
    data = sequence.data
    features = data.shape[1:]
    shape = (m, T, *features) if batch_first else (T, m, *features)
    index = (b, t) if batch_first else (t, b)
    padded = IndexAdd.apply(data, index=index, shape=shape)
    if value != 0.0:  # a constant added where no step is: the steps' values stay exact
        fill = np.full(shape[:2], value, dtype=padded.dtype)
        fill[index] = 0
        padded = padded + fill.reshape(shape[:2] + (1,) * len(features))
    lengths = _lengths_of(sizes)
    if sequence.unsorted_indices is not None:
        lengths = lengths[sequence.unsorted_indices]
    return padded, lengths


def pack_sequence(sequences: Any, enforce_sorted: bool = True) -> PackedSequence:
    """A list of sequences, each (T_i, *), packed: `pad_sequence` then
    `pack_padded_sequence` with their lengths, as PyTorch's. ``enforce_sorted=True`` (the
    default) takes them longest first; False sorts them and keeps their order."""
    caller = "pack_sequence"
    if isinstance(sequences, PackedSequence):
        raise GraphgradTypeError(f"{caller}: the sequences are packed already")
    padded = pad_sequence(sequences)  # checks the list: (T, m, *)
    lengths = [np.shape(getattr(s, "data", s))[0] for s in sequences]
    return _pack(padded, lengths, False, enforce_sorted, caller)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The sequences of a packed batch, a list of Tensors (T_i, *) in the order they were
    packed from: the inverse of `pack_sequence` (each keeps the data's graph)."""
    if not isinstance(packed_sequences, PackedSequence):
        raise GraphgradTypeError(f"unpack_sequence takes a PackedSequence, got "
                                 f"{setting_text(packed_sequences)}")
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return [padded[i, :length] for i, length in enumerate(lengths.tolist())]


def unpad_sequence(padded_sequences: Any, lengths: Any, batch_first: bool = False
                   ) -> list[Tensor]:
    """The sequences of a padded batch, (T, m, *) or (m, T, *) with ``batch_first``: a
    list of Tensors, sequence i ``padded[:lengths[i], i]`` (T_i, *), the inverse of
    `pad_sequence`, as PyTorch's."""
    caller = "unpad_sequence"
    batch_first = flag(batch_first, "batch_first", caller)
    X = (padded_sequences if isinstance(padded_sequences, Tensor) else
         Tensor(array_of_numbers(padded_sequences, "padded_sequences", caller)))
    if X.ndim < 2:
        raise ShapeError(f"{caller} takes padded_sequences "
                         f"{'(m, T, *)' if batch_first else '(T, m, *)'}, got {describe(X)}")
    if not batch_first:
        X = swapaxes(X, 0, 1)
    lengths = _lengths(lengths, X.shape[0], X.shape[1], batch_first, caller)
    return [X[i, :length] for i, length in enumerate(lengths.tolist())]


# -- the layout ---------------------------------------------------------------------------------
def _batch_sizes(lengths: np.ndarray) -> np.ndarray:
    """batch_sizes[t], the number of sequences with a step t, for t < the longest length."""
    return (lengths[None, :] > np.arange(lengths.max())[:, None]).sum(axis=1).astype(np.int64)


def _lengths_of(batch_sizes: np.ndarray) -> np.ndarray:
    """The lengths in sorted order, longest first: sequence j has batch_sizes[t] > j steps."""
    m = int(batch_sizes[0])
    return (batch_sizes[None, :] > np.arange(m)[:, None]).sum(axis=1).astype(np.int64)


def _places(batch_sizes: np.ndarray, sorted_indices: np.ndarray | None
            ) -> tuple[np.ndarray, np.ndarray]:
    """(t, b), each (N,): the time step of every row of data and its sequence's place in the
    batch, in data's order (time-major, sorted sequences within a step)."""
    t, j = np.nonzero(np.arange(batch_sizes[0])[None, :] < batch_sizes[:, None])
    return t, (j if sorted_indices is None else sorted_indices[j])


def padded_batch(packed: PackedSequence) -> tuple[Tensor, np.ndarray]:
    """A packed batch as the recurrent layers take one: X (m, T, *) with zeros past each
    end, in the order it was packed from, and the lengths (m,)."""
    return pad_packed_sequence(packed, batch_first=True)


def packed_like(A: Any, packed: PackedSequence) -> PackedSequence:
    """A (m, T, *), a layer's outputs for the sequences of ``packed`` (batch first, in their
    given order), packed as ``packed`` is: its batch_sizes and indices, as PyTorch's layers
    give their output."""
    t, b = _places(packed.batch_sizes, packed.sorted_indices)
    return _packed(GetItem.apply(A, index=(b, t)), packed.batch_sizes, packed.sorted_indices,
                   packed.unsorted_indices)


# -- checks ------------------------------------------------------------------------------------
def _whole_numbers(value: Any, what: str, caller: str) -> np.ndarray:
    array = array_of_numbers(value, what, caller)
    if array.dtype.kind == "b" or not np.all(np.mod(array, 1) == 0):
        raise ArgumentError(f"{caller}: {what} must be whole numbers, got {array.tolist()}")
    return array.astype(np.int64)


def _permutation(value: Any, what: str, m: int, caller: str) -> np.ndarray:
    array = _whole_numbers(value, what, caller)
    if array.shape != (m,) or not np.array_equal(np.sort(array), np.arange(m)):
        raise ArgumentError(f"{caller}: {what} must be a permutation of 0 ... {m - 1} (one "
                            f"place per sequence, batch_sizes[0] = {m}), got {array.tolist()}")
    return array


def _lengths(lengths: Any, m: int, T: int, batch_first: bool, caller: str) -> np.ndarray:
    """``lengths`` checked as m whole numbers in [1, T], as an int64 array."""
    if isinstance(lengths, Tensor):
        lengths = lengths.data
    array = _whole_numbers(lengths, "lengths", caller)
    axes = "(m, T, *), batch_first=True" if batch_first else "(T, m, *), batch_first=False"
    tip = "" if batch_first else "; pass batch_first=True if the batch is (m, T, *)"
    if array.shape != (m,):
        raise ShapeError(f"{caller}: lengths must hold one length per sequence, shape ({m},) "
                         f"for a batch {axes}, got shape {array.shape}{tip}")
    if m == 0:
        raise ShapeError(f"{caller} got a batch of no sequences")
    if array.min() < 1:
        raise ArgumentError(f"{caller}: every length must be at least 1, got "
                            f"{array.tolist()}: a sequence of no steps cannot be packed "
                            "(leave it out of the batch)")
    if array.max() > T:
        raise ArgumentError(
            f"{caller}: lengths must be at most {T}, the padded length of the batch {axes}, "
            f"got {array.tolist()}{tip}")
    return array
