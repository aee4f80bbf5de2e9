"""PyTorch's recurrent layers by their names: `LSTM` and `GRU`, with PyTorch's arguments
(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional) and its
calls, ``output, (h_n, c_n) = lstm(X, (h0, c0))`` and ``output, h_n = gru(X, h0)``; and
`load_torch_state_dict`, which loads a PyTorch LSTM's, GRU's or RNN's weights
(weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, ...) into an `nn.RNN` of the same
settings, exactly.

Both are `nn.RNN` with the course's cells inside (their parameters keep the course's
names: ``cell.Wf``, ``cell_l1_reverse.Wu``, ...). PyTorch's weights map onto them as:

| PyTorch | graphgrad |
|---|---|
| RNN: weight_ih, weight_hh, bias_ih + bias_hh | Wax, Waa, ba |
| LSTM rows i, f, g, o: [weight_hh, weight_ih] | Wu, Wf, Wc, Wo (on [a<t-1>; x<t>]) |
| LSTM bias_ih + bias_hh, rows i, f, g, o | bu, bf, bc, bo |
| GRU rows r, z, n: [weight_hh, weight_ih] | Wr, -Wu, Wc (z = 1 - Gamma_u) |
| GRU b_ir + b_hr, b_iz + b_hz, b_in, b_hn | br, -bu, bc, bhc |

Two biases in PyTorch are one here wherever they are only ever added together; GRU's b_hn
is not (it is inside r * (W_hn h + b_hn)), so only a GRU with ``reset_after=True``
(PyTorch's candidate, which `GRU` uses) can hold PyTorch's weights: the course's GRU
applies r before the product with h, another function.

Depends on `nn.recurrent`, `nn.module`, `ops` (swapaxes), `tensor` and `errors`.
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
    zero. Values may be torch tensors or arrays, and are copied in the layer's dtype.

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
    for l in range(layer.num_layers):
        for name in layer._cell_names(l):
            suffix = f"l{l}" + ("_reverse" if name.endswith("_reverse") else "")
            keys = [f"{w}_{suffix}" for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            expected += keys
            values[name] = [_torch_array(state_dict.get(k), k, label) for k in keys]
    unexpected = sorted(str(k) for k in state_dict if k not in expected)
    missing = [k for k in expected if k not in state_dict and not k.startswith("bias")]
    biases = [k for k in expected if k.startswith("bias")]
    some_biases = [k for k in biases if k in state_dict]
    if some_biases and len(some_biases) != len(biases):
        missing += [k for k in biases if k not in state_dict]
    if missing or unexpected:
        tip = (" (a whole model's state dict? take the layer's: torch_model.lstm.state_dict(),"
               " or strip the prefix from the keys)" if any("." in k for k in unexpected) else
               "; the layers must match: kind, num_layers, bidirectional (proj_size is not "
               "supported)")
        raise StateDictError(f"{label}: missing keys {missing}, unexpected keys {unexpected}"
                             f"{tip}")
    new = {}
    for name, (w_ih, w_hh, b_ih, b_hh) in values.items():
        cell = getattr(layer, name)
        rows = max(1, len(_TORCH_GATES[layer.kind])) * cell.n_a
        for what, value, shape in (("weight_ih", w_ih, (rows, cell.n_x)),
                                   ("weight_hh", w_hh, (rows, cell.n_a)),
                                   ("bias_ih", b_ih, (rows,)), ("bias_hh", b_hh, (rows,))):
            if value is not None and value.shape != shape:
                raise StateDictError(
                    f"{label}: {what} for {name} (n_x={cell.n_x}, n_a={cell.n_a}) must have "
                    f"shape {shape}, got {value.shape}")
        if b_ih is None:
            b_ih = b_hh = np.zeros(rows)
        new[name] = _course_weights(layer.kind, cell.n_a, w_ih, w_hh, b_ih, b_hh)
    for name, arrays in new.items():
        cell = getattr(layer, name)
        for attr, value in arrays.items():
            # A new array, as load_state_dict gives: a graph alive holds the old one read-only
            # and goes on with the values it was computed from.
            parameter = getattr(cell, attr)
            parameter.data = np.array(value, dtype=parameter.data.dtype)


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
                    b_ih: np.ndarray, b_hh: np.ndarray) -> dict[str, np.ndarray]:
    """The course's parameters of one cell from PyTorch's four arrays."""
    if kind == "rnn":
        return {"Wax": w_ih, "Waa": w_hh, "ba": b_ih + b_hh}
    out = {}
    for k, gate in enumerate(_TORCH_GATES[kind]):
        rows = slice(k * n_a, (k + 1) * n_a)
        W = np.concatenate([w_hh[rows], w_ih[rows]], axis=1)  # on [a<t-1>; x<t>]
        if kind == "gru" and gate == "c":  # b_hn stays inside r * (W_hn h + b_hn)
            out["Wc"], out["bc"], out["bhc"] = W, b_ih[rows], b_hh[rows]
        elif kind == "gru" and gate == "u":  # z = sigmoid(s) = 1 - sigmoid(-s): Gamma_u's -s
            out["Wu"], out["bu"] = -W, -(b_ih[rows] + b_hh[rows])
        else:
            out[f"W{gate}"], out[f"b{gate}"] = W, b_ih[rows] + b_hh[rows]
    return out


class _TorchRecurrent(RNN):
    """What `LSTM` and `GRU` share: PyTorch's arguments, layout and states."""

    torch_kind: str
    options: dict[str, Any] = {}  # the cells' settings that make them PyTorch's
    _init_depth = 1  # RNN's warnings point at the user's line, past this __init__

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, *, init: Any = "xavier", rng: Any = None,
                 dtype: Any = np.float64) -> None:
        name = type(self).__name__
        input_size = whole_number(input_size, "input_size", name)  # PyTorch's names, not n_x
        hidden_size = whole_number(hidden_size, "hidden_size", name)
        if not flag(bias, "bias", name):
            raise ArgumentError(f"{name}: bias=False is not supported: the course's cells "
                                "always have their biases (they start at zero)")
        super().__init__(input_size, hidden_size, self.torch_kind, num_layers, bidirectional,
                         init=init, rng=rng, dtype=dtype, dropout=dropout, **self.options)
        self.batch_first = flag(batch_first, "batch_first", name)

    @property
    def input_size(self) -> int:
        """PyTorch's name for n_x."""
        return self.n_x

    @property
    def hidden_size(self) -> int:
        """PyTorch's name for n_a."""
        return self.n_a

    def flatten_parameters(self) -> None:
        """PyTorch's, which lays the weights out in one block for cuDNN (models call it in
        their forward): here the cells' parameters are already as they compute, so it
        changes nothing."""

    def _layout(self, X: Any) -> Any:
        """X as the cells read it, (m, T_x, n_x): with batch_first=False (PyTorch's
        default) X is (T_x, m, n_x) and its first two axes are swapped."""
        dtype = self.cell.dtype
        X = as_data_of(X, dtype, self)
        shape = shape_of(X)
        if len(shape) == 2:
            one = "X[None]" if self.batch_first else "X[:, None]"
            raise ShapeError(f"{self._label()} takes a batch of sequences, got X of shape "
                             f"{shape}: one sequence (T_x, n_x) is {one} (and its h0 "
                             f"h0[:, None])")
        # Checked here, in the layout X was given in: after the swap RNN's errors would show
        # its shape with the first two axes exchanged.
        layout = ("m", "T_x", self.n_x) if self.batch_first else ("T_x", "m", self.n_x)
        require_shape(self._label(), "X", X, layout)
        if shape[layout.index("T_x")] == 0:
            raise ShapeError(f"{self._label()} got X of shape {shape}: a sequence of no time "
                             "steps")
        if self.batch_first:
            return X
        return swapaxes(X, 0, 1) if isinstance(X, Tensor) else np.swapaxes(X, 0, 1)

    def _state(self, name: str, value: Any, m: int) -> Any:
        """h0 or c0 in PyTorch's shape (num_layers * D, m, n_a), as `RNN` takes it: one
        cell's (m, n_a) alone."""
        if value is None:
            return None
        count = self.num_layers * self._directions
        value = as_data_of(value, self.cell.dtype, self)
        require_shape(self._label(), name, value, (count, m, self.n_a),
                      " ((num_layers * D, m, hidden_size), as PyTorch's, D = 2 if "
                      "bidirectional else 1, also for one layer)")
        return value if count > 1 else value[0]

    def _torch_state(self, last: Any) -> Any:
        """A last state as PyTorch gives it, (num_layers * D, m, n_a)."""
        return last if self.num_layers * self._directions > 1 else last.reshape(
            (1,) + last.shape)

    def _output(self, A: Any) -> Any:
        return A if self.batch_first else swapaxes(A, 0, 1)

    def extra_repr(self) -> str:
        """PyTorch's: ``3, 5, num_layers=2, batch_first=True, dropout=0.2``."""
        settings = f"{self.n_x}, {self.n_a}"
        if self.num_layers != 1:
            settings += f", num_layers={self.num_layers}"
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
        bias: True only (the cells always have biases; they start at zero).
        batch_first: False (PyTorch's default) takes X (T_x, m, n_x) and gives output
            (T_x, m, D * n_a), swapping the first two axes on the way in and out; True takes
            graphgrad's and `nn.RNN`'s layout, X (m, T_x, n_x).
        dropout: PyTorch's p, the probability of dropping a unit of every layer's output but
            the last's, in training only (a `Dropout` of keep_prob = 1 - dropout, the course's
            convention, between the layers).
        bidirectional: a second cell per layer reads the sequence backward.
        init, rng, dtype: keyword only, as `nn.RNN`'s. The weights start as graphgrad's
            ("xavier", biases at zero), not as PyTorch's uniform(-1/sqrt(n_a), 1/sqrt(n_a)).

    ``output, (h_n, c_n) = lstm(X, (h0, c0))``, hx = (h0, c0) optional (zeros), each
    (num_layers * D, m, hidden_size) in the order of PyTorch's (layer 0 forward, layer 0
    backward, layer 1, ...); h_n and c_n the same shape. ``lstm(X, lengths=lengths)`` takes
    the lengths of padded sequences, as PyTorch's ``pack_padded_sequence(X, lengths)``:
    see `nn.RNN.forward`. PyTorch's weights load with ``load_torch_state_dict``.
    """

    torch_kind = "lstm"

    def forward(self, X: Any, hx: Any = None, lengths: Any = None) -> Any:
        """output, (h_n, c_n) = lstm(X, hx).  X (T_x, m, n_x), or (m, T_x, n_x) with
        batch_first; hx, the pair (h0, c0), each (num_layers * D, m, n_a), None for zeros;
        lengths (m,) of padded sequences, as `nn.RNN.forward`'s -> output (T_x, m, D * n_a)
        (batch_first: (m, T_x, D * n_a)), h_n and c_n (num_layers * D, m, n_a)."""
        X = self._layout(X)
        m = shape_of(X)[0] if len(shape_of(X)) == 3 else 0
        h0 = c0 = None
        if hx is not None:
            if not (isinstance(hx, tuple) and len(hx) == 2):
                raise ArgumentError(f"{self._label()}: hx is the pair (h0, c0), each "
                                    "(num_layers * D, m, hidden_size), as PyTorch's")
            h0, c0 = self._state("h0", hx[0], m), self._state("c0", hx[1], m)
        A, (a_last, c_last) = super().forward(X, h0, c0, return_state=True, lengths=lengths)
        return self._output(A), (self._torch_state(a_last), self._torch_state(c_last))


class GRU(_TorchRecurrent):
    """PyTorch's nn.GRU: `nn.RNN(cell="gru", reset_after=True)`, PyTorch's GRU (whose
    candidate tanh(W_in x + b_in + r * (W_hn h + b_hn)) applies the reset gate after the
    product with h, see `GRUCell`), with PyTorch's arguments and call.

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
        init, rng, dtype: as `LSTM`'s.

    ``output, h_n = gru(X, h0)``, h0 optional (zeros), both (num_layers * D, m,
    hidden_size); ``gru(X, lengths=lengths)`` for padded sequences. PyTorch's weights load
    with ``load_torch_state_dict``.
    """

    torch_kind = "gru"
    options = {"reset_after": True}

    def forward(self, X: Any, hx: Any = None, lengths: Any = None) -> Any:
        """output, h_n = gru(X, hx).  X (T_x, m, n_x), or (m, T_x, n_x) with batch_first;
        hx, h0 (num_layers * D, m, n_a), None for zeros; lengths (m,) of padded sequences,
        as `nn.RNN.forward`'s -> output (T_x, m, D * n_a) (batch_first: (m, T_x, D * n_a)),
        h_n (num_layers * D, m, n_a)."""
        X = self._layout(X)
        m = shape_of(X)[0] if len(shape_of(X)) == 3 else 0
        A, a_last = super().forward(X, self._state("h0", hx, m), return_state=True,
                                    lengths=lengths)
        return self._output(A), self._torch_state(a_last)

