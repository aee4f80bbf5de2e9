"""PyTorch's recurrent layers by their names: `LSTM` and `GRU`, with PyTorch's arguments
(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, and LSTM's
proj_size) and its calls, ``output, (h_n, c_n) = lstm(X, (h0, c0))`` and ``output, h_n =
gru(X, h0)``, on a batch or on one sequence (PyTorch's unbatched input); and
`load_torch_state_dict`, which loads a PyTorch LSTM's, GRU's or RNN's weights
(weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, weight_hr_l0, ...) into an `nn.RNN` of
the same settings, exactly.

Both are `nn.RNN` with the course's cells inside (their parameters keep the course's
names: ``cell.Wf``, ``cell_l1_reverse.Wu``, ...). PyTorch's weights map onto them as:

| PyTorch | graphgrad |
|---|---|
| RNN: weight_ih, weight_hh, bias_ih + bias_hh | Wax, Waa, ba |
| LSTM rows i, f, g, o: [weight_hh, weight_ih] | Wu, Wf, Wc, Wo (on [a<t-1>; x<t>]) |
| LSTM bias_ih + bias_hh, rows i, f, g, o | bu, bf, bc, bo |
| GRU rows r, z, n: [weight_hh, weight_ih] | Wr, -Wu, Wc (z = 1 - Gamma_u) |
| GRU b_ir + b_hr, b_iz + b_hz, b_in, b_hn | br, -bu, bc, bhc |
| LSTM with proj_size: weight_hr | Whr |

Two biases in PyTorch are one here wherever they are only ever added together; GRU's b_hn
is not (it is inside r * (W_hn h + b_hn)), so only a GRU with ``reset_after=True``
(PyTorch's candidate, which `GRU` uses) can hold PyTorch's weights: the course's GRU
applies r before the product with h, another function.

Depends on `nn.recurrent`, `nn.module`, `nn.packing`, `ops` (swapaxes), `tensor` and `errors`.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    ShapeError,
    flag,
    require_shape,
    shape_of,
    whole_number,
)
from graphgrad.nn.module import StateDictError, as_data_of
from graphgrad.nn.packing import PackedSequence, packed_like
from graphgrad.nn.recurrent import RNN
from graphgrad.ops.shape import swapaxes
from graphgrad.tensor import Tensor

# PyTorch's gate rows, in its order, as the names of the course's gates (GRU's z is -u)
_TORCH_GATES = {"rnn": "", "lstm": "ufco", "gru": "ruc"}


def load_torch_state_dict(layer: RNN, state_dict: Mapping[str, Any]) -> None:
    """Copy the weights of a PyTorch nn.LSTM, nn.GRU or nn.RNN (its ``state_dict()``: keys
    weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, ..._reverse) into ``layer``, an
    `nn.RNN` (or `LSTM`, `GRU`) of the same kind, sizes, layers and directions; the map is
    in this module's docstring. Without bias keys (PyTorch's bias=False) the biases are set to
    zero; a layer made with bias=False takes no bias keys. Values may be torch tensors or
    arrays, and are copied in the layer's dtype.

    Everything is checked before anything is copied: a missing or unexpected key or a wrong
    shape raises `StateDictError` naming it, and a course GRU (``reset_after=False``),
    which cannot hold PyTorch's weights, an `ArgumentError`."""
    label = f"{type(layer).__name__}.load_torch_state_dict"
    if not isinstance(state_dict, Mapping):
        raise ArgumentError(f"{label} takes a PyTorch layer's state_dict(), a mapping of "
                            f"names to tensors, got {type(state_dict).__name__}")
    if layer.kind == "gru" and not layer.cell.reset_after:
        raise ArgumentError(
            f"{label}: this GRU is the course's, whose candidate tanh(Wc [r * c; x] + bc) "
            "applies the relevance gate r before the product with the state, where PyTorch's "
            "tanh(W_in x + b_in + r * (W_hn h + b_hn)) applies it after: no weights make the "
            "two the same function. Make the layer with reset_after=True (nn.GRU does), "
            "PyTorch's GRU")
    values = {}
    expected = []
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
    for l in range(layer.num_layers):
        for name in layer._cell_names(l):
            suffix = f"l{l}" + ("_reverse" if name.endswith("_reverse") else "")
            keys = [f"{w}_{suffix}" for w in names]
            expected += keys[:2] + keys[2:4] * layer.cell.bias + keys[4:] * bool(
                layer.cell.proj_size)
            values[name] = [_torch_array(state_dict.get(k), k, label) for k in keys]
    unexpected = sorted(str(k) for k in state_dict if k not in expected)
    missing = [k for k in expected if k not in state_dict and not k.startswith("bias")]
    biases = [k for k in expected if k.startswith("bias")]
    some_biases = [k for k in biases if k in state_dict]
    if some_biases and len(some_biases) != len(biases):
        missing += [k for k in biases if k not in state_dict]
    if missing or unexpected:
        raise StateDictError(f"{label}: missing keys {missing}, unexpected keys {unexpected}"
                             f"{_misfit_tip(layer, missing, unexpected)}")
    new = {}
    for name, (w_ih, w_hh, b_ih, b_hh, w_hr) in values.items():
        cell = getattr(layer, name)
        rows = max(1, len(_TORCH_GATES[layer.kind])) * cell.n_a
        for what, value, shape in (("weight_ih", w_ih, (rows, cell.n_x)),
                                   ("weight_hh", w_hh, (rows, cell.n_h)),
                                   ("bias_ih", b_ih, (rows,)), ("bias_hh", b_hh, (rows,)),
                                   ("weight_hr", w_hr, (cell.proj_size, cell.n_a))):
            if value is not None and value.shape != shape:
                projected = f", proj_size={cell.proj_size}" if cell.proj_size else ""
                raise StateDictError(
                    f"{label}: {what} for {name} (n_x={cell.n_x}, n_a={cell.n_a}{projected}) "
                    f"must have shape {shape}, got {value.shape}")
        if b_ih is None:
            b_ih = b_hh = np.zeros(rows)
        new[name] = _course_weights(layer.kind, cell.n_a, w_ih, w_hh, b_ih, b_hh, cell.bias)
        if cell.proj_size:
            new[name]["Whr"] = w_hr
    for name, arrays in new.items():
        cell = getattr(layer, name)
        for attr, value in arrays.items():
            # A new array, as load_state_dict gives: a graph alive holds the old one read-only
            # and goes on with the values it was computed from.
            parameter = getattr(cell, attr)
            parameter.data = np.array(value, dtype=parameter.data.dtype)


def _misfit_tip(layer: RNN, missing: list, unexpected: list) -> str:
    """What to do about a state dict whose keys are not the layer's."""
    if any("." in k for k in unexpected):
        return (" (a whole model's state dict? take the layer's: torch_model.lstm.state_dict(),"
                " or strip the prefix from the keys)")
    if any(k.startswith("weight_hr") for k in unexpected + missing):
        return ("; the layers must match: the PyTorch LSTM's proj_size (its weight_hr_l0 is "
                "(proj_size, hidden_size)) is the layer's proj_size")
    if any(k.startswith("bias") for k in unexpected):
        return ("; the layers must match: the PyTorch layer has biases, this one was made with "
                "bias=False (make it with bias=True)")
    return "; the layers must match: kind, num_layers, bidirectional, bias, proj_size"


def _torch_array(value: Any, key: str, label: str) -> np.ndarray | None:
    """A state dict's value as a float64 array (None stays None)."""
    if value is None:
        return None
    if hasattr(value, "detach"):  # a torch tensor, maybe on another device
        value = value.detach().cpu()
        if value.is_floating_point():  # bfloat16 has no numpy dtype; float64 holds it exactly
            value = value.double()
        value = value.numpy()
    array = np.asarray(value)
    if array.dtype.kind not in "iuf":
        raise StateDictError(f"{label}: {key} must hold real numbers, got dtype {array.dtype}")
    return array.astype(np.float64)


def _course_weights(kind: str, n_a: int, w_ih: np.ndarray, w_hh: np.ndarray,
                    b_ih: np.ndarray, b_hh: np.ndarray, bias: bool = True
                    ) -> dict[str, np.ndarray]:
    """The course's parameters of one cell from PyTorch's four arrays (the weights alone for
    a cell made with bias=False, whose PyTorch biases are zeros)."""
    if kind == "rnn":
        out = {"Wax": w_ih, "Waa": w_hh, "ba": b_ih + b_hh}
    else:
        out = {}
        for k, gate in enumerate(_TORCH_GATES[kind]):
            rows = slice(k * n_a, (k + 1) * n_a)
            W = np.concatenate([w_hh[rows], w_ih[rows]], axis=1)  # on [a<t-1>; x<t>]
            if kind == "gru" and gate == "c":  # b_hn stays inside r * (W_hn h + b_hn)
                out["Wc"], out["bc"], out["bhc"] = W, b_ih[rows], b_hh[rows]
            elif kind == "gru" and gate == "u":  # z = sigmoid(s) = 1 - sigmoid(-s): -s
                out["Wu"], out["bu"] = -W, -(b_ih[rows] + b_hh[rows])
            else:
                out[f"W{gate}"], out[f"b{gate}"] = W, b_ih[rows] + b_hh[rows]
    return out if bias else {name: W for name, W in out.items() if name.startswith("W")}


class _TorchRecurrent(RNN):
    """What `LSTM` and `GRU` share: PyTorch's arguments, layout and states."""

    torch_kind: str
    options: dict[str, Any] = {}  # the cells' settings that make them PyTorch's
    _init_depth = 1  # RNN's warnings point at the user's line, past this __init__

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, *, init: Any = "xavier",
                 rng: Any = None, dtype: Any = np.float64) -> None:
        name = type(self).__name__
        input_size = whole_number(input_size, "input_size", name)  # PyTorch's names, not n_x
        hidden_size = whole_number(hidden_size, "hidden_size", name)
        options = dict(self.options)
        if proj_size != 0:
            if self.torch_kind != "lstm":
                raise ArgumentError(f"{name}: proj_size is LSTM's (PyTorch's LSTM with "
                                    f"projections); a {name} has none: leave it out")
            options["proj_size"] = proj_size
        super().__init__(input_size, hidden_size, self.torch_kind, num_layers, bidirectional,
                         init=init, rng=rng, dtype=dtype, dropout=dropout,
                         bias=flag(bias, "bias", name), **options)
        self.batch_first = flag(batch_first, "batch_first", name)

    @property
    def input_size(self) -> int:
        """PyTorch's name for n_x."""
        return self.n_x

    @property
    def hidden_size(self) -> int:
        """PyTorch's name for n_a."""
        return self.n_a

    @property
    def proj_size(self) -> int:
        """The size an LSTM projects its hidden state h to, 0 for none (PyTorch's)."""
        return self.cell.proj_size

    @property
    def bias(self) -> bool:
        """Whether the cells have biases (PyTorch's bias)."""
        return self.cell.bias

    def flatten_parameters(self) -> None:
        """PyTorch's, which lays the weights out in one block for cuDNN (models call it in
        their forward): here the cells' parameters are already as they compute, so it
        changes nothing."""

    def _layout(self, X: Any, lengths: Any) -> tuple[Any, bool]:
        """(X as the cells read it, (m, T_x, n_x), whether X is one sequence): with
        batch_first=False (PyTorch's default) X is (T_x, m, n_x) and its first two axes are
        swapped; one sequence (T_x, n_x), PyTorch's unbatched input, is a batch of one."""
        dtype = self.cell.dtype
        X = as_data_of(X, dtype, self)
        shape = given = shape_of(X)
        if len(shape) == 2:  # one sequence, whatever batch_first says (as PyTorch's)
            require_shape(self._label(), "X", X, ("T_x", self.n_x),
                          " (one sequence; a batch is 3-D)")
            if lengths is not None:
                raise ArgumentError(f"{self._label()}: lengths are those of a batch of "
                                    f"sequences, and X of shape {shape} is one sequence: "
                                    "leave lengths out, or give X with its batch axis")
            one = ("T_x", "m", self.n_x)
            X, shape, batch_first = X.reshape((shape[0], 1, shape[1])), shape[:1] + (1,), False
        else:
            one = None
            batch_first = self.batch_first
        # Checked here, in the layout X was given in: after the swap RNN's errors would show
        # its shape with the first two axes exchanged.
        layout = ("m", "T_x", self.n_x) if batch_first else ("T_x", "m", self.n_x)
        if one is None:
            require_shape(self._label(), "X", X, layout)
        if shape[layout.index("T_x")] == 0:
            raise ShapeError(f"{self._label()} got X of shape {given}: a sequence of no time "
                             "steps")
        if batch_first:
            return X, False
        return (swapaxes(X, 0, 1) if isinstance(X, Tensor) else np.swapaxes(X, 0, 1)), bool(one)

    def _input(self, X: Any, lengths: Any) -> tuple[Any, Any, bool]:
        """(X as the cells read it, (m, T_x, n_x), its lengths, whether X is one sequence):
        a PackedSequence (whose layout is its own, whatever batch_first says, as PyTorch's)
        is padded back, with its lengths."""
        if isinstance(X, PackedSequence):
            X, lengths = self._unpacked(X, lengths)
            return X, lengths, False
        X, single = self._layout(X, lengths)
        return X, lengths, single

    def _state(self, name: str, value: Any, m: int, single: bool) -> Any:
        """h0 or c0 in PyTorch's shape (num_layers * D, m, H), H the hidden_size (h0 of a
        projected LSTM: proj_size), or (num_layers * D, H) for one sequence, as `RNN` takes
        it: one cell's (m, H) alone."""
        if value is None:
            return None
        count = self.num_layers * self._directions
        size = self.n_a if name == "c0" else self.n_h
        what = "hidden_size" if size == self.n_a else "proj_size"
        value = as_data_of(value, self.cell.dtype, self)
        if single:
            require_shape(self._label(), name, value, (count, size),
                          f" ((num_layers * D, {what}) for one sequence X (T_x, n_x), as "
                          "PyTorch's: no batch axis)")
            value = value.reshape((count, 1, size))
        require_shape(self._label(), name, value, (count, m, size),
                      f" ((num_layers * D, m, {what}), as PyTorch's, D = 2 if "
                      "bidirectional else 1, also for one layer)")
        return value if count > 1 else value[0]

    def _torch_state(self, last: Any, single: bool) -> Any:
        """A last state as PyTorch gives it, (num_layers * D, m, H), or (num_layers * D, H)
        for one sequence."""
        count = self.num_layers * self._directions
        if single:  # (count, 1, H), or (1, H) for one cell
            return last.reshape((count, last.shape[-1]))
        return last if count > 1 else last.reshape((1,) + last.shape)

    def _output(self, A: Any, single: bool, X: Any) -> Any:
        """The output as PyTorch's: packed as X when X is packed, else in X's layout."""
        if isinstance(X, PackedSequence):
            return packed_like(A, X)
        if single:  # (1, T_x, D * H) -> (T_x, D * H)
            return A.reshape(A.shape[1:])
        return A if self.batch_first else swapaxes(A, 0, 1)

    def extra_repr(self) -> str:
        """PyTorch's: ``3, 5, num_layers=2, batch_first=True, dropout=0.2``."""
        settings = f"{self.n_x}, {self.n_a}"
        if self.proj_size:
            settings += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            settings += f", num_layers={self.num_layers}"
        if not self.bias:
            settings += ", bias=False"
        if self.batch_first:
            settings += ", batch_first=True"
        if self.dropout:
            settings += f", dropout={self.dropout:g}"
        return settings + (", bidirectional=True" if self.bidirectional else "")


class LSTM(_TorchRecurrent):
    """PyTorch's nn.LSTM: `nn.RNN(cell="lstm")` with PyTorch's arguments and call.

    Args:
        input_size, hidden_size: n_x and n_a.
        num_layers: layers of cells, each reading the states of the one below.
        bias: False makes the cells without biases (PyTorch's b_ih and b_hh); with True
            (the default) they start at zero.
        batch_first: False (PyTorch's default) takes X (T_x, m, n_x) and gives output
            (T_x, m, D * n_a), swapping the first two axes on the way in and out; True takes
            graphgrad's and `nn.RNN`'s layout, X (m, T_x, n_x).
        dropout: PyTorch's p, the probability of dropping a unit of every layer's output but
            the last's, in training only (a `Dropout` of keep_prob = 1 - dropout, the course's
            convention, between the layers).
        bidirectional: a second cell per layer reads the sequence backward.
        proj_size: r > 0 (smaller than hidden_size) makes PyTorch's LSTM with projections:
            each cell's state is h = Whr (o * tanh(c)), Whr (r, hidden_size), so h0, h_n and
            the output have r units per direction where c0 and c_n keep hidden_size, and the
            gates read h (see `LSTMCell`). 0 (the default) projects nothing.
        init, rng, dtype: keyword only, as `nn.RNN`'s. The weights start as graphgrad's
            ("xavier", biases at zero), not as PyTorch's uniform(-1/sqrt(n_a), 1/sqrt(n_a)).

    ``output, (h_n, c_n) = lstm(X, (h0, c0))``, hx = (h0, c0) optional (zeros), each
    (num_layers * D, m, hidden_size) in the order of PyTorch's (layer 0 forward, layer 0
    backward, layer 1, ...) (h0 and h_n (num_layers * D, m, proj_size) with proj_size); h_n
    and c_n the same shape. One sequence X (T_x, n_x), whatever batch_first says, gives
    output (T_x, D * hidden_size) and takes and gives states (num_layers * D, hidden_size),
    as PyTorch's unbatched input. ``lstm(X, lengths=lengths)`` takes
    the lengths of padded sequences, as PyTorch's ``pack_padded_sequence(X, lengths)``:
    see `nn.RNN.forward`; ``lstm(pack_padded_sequence(X, lengths, enforce_sorted=False))``
    takes PyTorch's `PackedSequence` itself (`nn.utils.rnn`) and gives the output packed the
    same way, h_n and c_n in the order of the batch it was packed from, as PyTorch's.
    PyTorch's weights load with ``load_torch_state_dict``.
    """

    torch_kind = "lstm"

    def forward(self, X: Any, hx: Any = None, lengths: Any = None) -> Any:
        """output, (h_n, c_n) = lstm(X, hx).  X (T_x, m, n_x), or (m, T_x, n_x) with
        batch_first, or one sequence (T_x, n_x); hx, the pair (h0, c0), each (num_layers * D,
        m, n_a), None for zeros; lengths (m,) of padded sequences, as `nn.RNN.forward`'s ->
        output (T_x, m, D * n_a) (batch_first: (m, T_x, D * n_a)), h_n and c_n
        (num_layers * D, m, n_a); h0, h_n and the output have proj_size units for n_a with
        proj_size, and one sequence's have no m axis. X may be a `PackedSequence`, whose
        output is packed as it is (see the class docstring)."""
        given = X
        X, lengths, single = self._input(X, lengths)
        m = shape_of(X)[0]
        h0 = c0 = None
        if hx is not None:
            if not (isinstance(hx, tuple) and len(hx) == 2):
                raise ArgumentError(f"{self._label()}: hx is the pair (h0, c0), each "
                                    "(num_layers * D, m, hidden_size), as PyTorch's")
            h0 = self._state("h0", hx[0], m, single)
            c0 = self._state("c0", hx[1], m, single)
        A, (a_last, c_last) = super().forward(X, h0, c0, return_state=True, lengths=lengths)
        return self._output(A, single, given), (self._torch_state(a_last, single),
                                                self._torch_state(c_last, single))


class GRU(_TorchRecurrent):
    """PyTorch's nn.GRU: `nn.RNN(cell="gru", reset_after=True)`, PyTorch's GRU (whose
    candidate tanh(W_in x + b_in + r * (W_hn h + b_hn)) applies the reset gate after the
    product with h, see `GRUCell`), with PyTorch's arguments and call.

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
        init, rng, dtype: as `LSTM`'s (proj_size is LSTM's only).

    ``output, h_n = gru(X, h0)``, h0 optional (zeros), both (num_layers * D, m,
    hidden_size), or (num_layers * D, hidden_size) for one sequence X (T_x, n_x);
    ``gru(X, lengths=lengths)`` for padded sequences, ``gru(packed)`` for a `PackedSequence`
    (the output packed, h_n in the batch's order). PyTorch's weights load with
    ``load_torch_state_dict``.
    """

    torch_kind = "gru"
    options = {"reset_after": True}

    def forward(self, X: Any, hx: Any = None, lengths: Any = None) -> Any:
        """output, h_n = gru(X, hx).  X (T_x, m, n_x), or (m, T_x, n_x) with batch_first,
        or one sequence (T_x, n_x); hx, h0 (num_layers * D, m, n_a), None for zeros; lengths
        (m,) of padded sequences, as `nn.RNN.forward`'s -> output (T_x, m, D * n_a)
        (batch_first: (m, T_x, D * n_a)), h_n (num_layers * D, m, n_a); one sequence's
        without the m axis. X may be a `PackedSequence`, whose output is packed as it is."""
        given = X
        X, lengths, single = self._input(X, lengths)
        m = shape_of(X)[0]
        A, a_last = super().forward(X, self._state("h0", hx, m, single), return_state=True,
                                    lengths=lengths)
        return self._output(A, single, given), self._torch_state(a_last, single)

