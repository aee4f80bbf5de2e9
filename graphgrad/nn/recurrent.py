"""The course's sequence models (Course 5): the basic RNN cell, the LSTM cell, and `RNN`,
which runs one of them over a sequence.

Batch-first, like the rest of graphgrad.nn. The course keeps examples in columns and time
last: x of shape (n_x, m, T_x), x<t> = x[:, :, t] of shape (n_x, m), and the hidden states
a of shape (n_a, m, T_x). Here a batch of sequences is X of shape (m, T_x, n_x), one sequence
per row, so::

    X = x.transpose(1, 2, 0)        x<t> = X[:, t].T        A = a.transpose(1, 2, 0)

The weights keep the course's shapes and names (Wax of shape (n_a, n_x), ...), and each cell
computes the course's formula transposed, as `Linear` does: a<t>.T = tanh(x<t>.T Wax.T +
a<t-1>.T Waa.T + ba). There is no output layer y<t> = softmax(Wya a<t> + by) inside the
cells: put a `Linear` on the states (it takes (m, T_x, n_a) as well as (m, n_a)).

Everything is built from the engine's ops (`Affine`, tanh, sigmoid, concatenate, indexing,
stack), so backpropagation through time, second derivatives and graph pictures need no code
of their own. Depends on `ops`, `nn.layers`, `nn.module`, `nn.init`, `errors`.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from graphgrad.errors import ArgumentError, ShapeError, describe, whole_number
from graphgrad.nn import init as initializers
from graphgrad.nn.layers import Affine
from graphgrad.nn.module import Module, Parameter, as_data_of
from graphgrad.ops.elementwise import Sigmoid, Tanh
from graphgrad.ops.shape import concatenate, split, stack
from graphgrad.tensor import Tensor

CELLS = ("rnn", "lstm")


def _shape(value: Any) -> tuple[int, ...]:
    return np.shape(value.data if isinstance(value, Tensor) else value)


def _require(layer: str, name: str, value: Any, expected: tuple[int | str, ...],
             tip: str = "") -> None:
    """Raise a ShapeError unless ``value`` has shape ``expected`` (strings match any size)."""
    shape = _shape(value)
    if len(shape) == len(expected) and all(
            isinstance(e, str) or e == s for e, s in zip(expected, shape)):
        return
    wanted = "(" + ", ".join(str(e) for e in expected) + ("," if len(expected) == 1 else "") + ")"
    raise ShapeError(f"{layer} takes {name} of shape {wanted}; got {describe(value)}{tip}")


class RNNCell(Module):
    """One step of the course's basic RNN: a<t> = tanh(Waa a<t-1> + Wax x<t> + ba).

    Args:
        n_x: inputs per time step.
        n_a: hidden units.
        init: how Wax and Waa start (see `nn.init`; "xavier" suits tanh). ba starts at zero.
        rng: a seed or np.random.Generator for the initialisation (default: the one
            `nn.init.seed` resets).
        dtype: np.float64 (default) or np.float32.

    Parameters, with the course's shapes: Wax (n_a, n_x), Waa (n_a, n_a), ba (n_a,).

    Shapes: x_t (m, n_x), a_prev (m, n_a) -> a_next (m, n_a), the course's x<t> (n_x, m),
    a<t-1> (n_a, m) and a<t> (n_a, m) transposed.
    """

    def __init__(self, n_x: int, n_a: int, init: Any = "xavier", rng: Any = None,
                 dtype: Any = np.float64) -> None:
        super().__init__()
        self.n_x = whole_number(n_x, "n_x", "RNNCell")
        self.n_a = whole_number(n_a, "n_a", "RNNCell")
        self.init = init
        # One generator for both weights: a seed given as an int would otherwise draw Wax and
        # Waa from the same stream.
        rng = initializers.generator(rng)
        self.Wax = Parameter(initializers.initialize(init, (self.n_a, self.n_x), rng, dtype))
        self.Waa = Parameter(initializers.initialize(init, (self.n_a, self.n_a), rng, dtype))
        self.ba = Parameter(np.zeros(self.n_a, dtype=dtype))

    @property
    def dtype(self) -> np.dtype:
        return self.Wax.data.dtype

    def forward(self, x_t: Any, a_prev: Any) -> Tensor:
        dtype = self.dtype
        x_t, a_prev = as_data_of(x_t, dtype), as_data_of(a_prev, dtype)
        label = f"RNNCell(n_x={self.n_x}, n_a={self.n_a})"
        _require(label, "x_t", x_t, ("m", self.n_x), _course_tip(x_t, self.n_x))
        _require(label, "a_prev", a_prev, (_shape(x_t)[0], self.n_a), _rows_tip(x_t))
        # Two products rather than one over [x<t>, a<t-1>]: stacking Wax and Waa at every step
        # would copy both weights for the same count of nodes.
        return Tanh.apply(Affine.apply(x_t, self.Wax, self.ba) + Affine.apply(a_prev, self.Waa))

    def extra_repr(self) -> str:
        return f"n_x={self.n_x}, n_a={self.n_a}, init={initializers.name_of(self.init)!r}"


class LSTMCell(Module):
    """One step of the course's LSTM, on concat = [a<t-1>; x<t>]::

        Gamma_f = sigmoid(Wf concat + bf)          (forget gate)
        Gamma_u = sigmoid(Wu concat + bu)          (update gate)
        c~<t>   = tanh(Wc concat + bc)             (candidate)
        c<t>    = Gamma_f * c<t-1> + Gamma_u * c~<t>
        Gamma_o = sigmoid(Wo concat + bo)          (output gate)
        a<t>    = Gamma_o * tanh(c<t>)

    Args:
        n_x: inputs per time step.
        n_a: hidden units (of a and of the memory cell c).
        init: how the four weights start (see `nn.init`). The biases start at zero.
        rng: a seed or np.random.Generator for the initialisation (default: the one
            `nn.init.seed` resets).
        dtype: np.float64 (default) or np.float32.

    Parameters, with the course's shapes: Wf, Wu, Wc, Wo (n_a, n_a + n_x), whose first n_a
    columns act on a<t-1> and the last n_x on x<t>; bf, bu, bc, bo (n_a,). The course's
    notebook calls the update gate's weights Wi and bi.

    Shapes: x_t (m, n_x), a_prev (m, n_a), c_prev (m, n_a) -> (a_next, c_next), both
    (m, n_a): the course's (n_x, m), (n_a, m) arrays transposed.
    """

    def __init__(self, n_x: int, n_a: int, init: Any = "xavier", rng: Any = None,
                 dtype: Any = np.float64) -> None:
        super().__init__()
        self.n_x = whole_number(n_x, "n_x", "LSTMCell")
        self.n_a = whole_number(n_a, "n_a", "LSTMCell")
        self.init = init
        rng = initializers.generator(rng)  # one stream for the four weights (see RNNCell)
        shape = (self.n_a, self.n_a + self.n_x)
        for gate in "fuco":
            setattr(self, f"W{gate}", Parameter(initializers.initialize(init, shape, rng, dtype)))
            setattr(self, f"b{gate}", Parameter(np.zeros(self.n_a, dtype=dtype)))

    @property
    def dtype(self) -> np.dtype:
        return self.Wf.data.dtype

    def forward(self, x_t: Any, a_prev: Any, c_prev: Any) -> tuple[Tensor, Tensor]:
        dtype = self.dtype
        x_t, a_prev = as_data_of(x_t, dtype), as_data_of(a_prev, dtype)
        c_prev = as_data_of(c_prev, dtype)
        label = f"LSTMCell(n_x={self.n_x}, n_a={self.n_a})"
        _require(label, "x_t", x_t, ("m", self.n_x), _course_tip(x_t, self.n_x))
        m = _shape(x_t)[0]
        for name, value in (("a_prev", a_prev), ("c_prev", c_prev)):
            _require(label, name, value, (m, self.n_a), _rows_tip(x_t))
        concat = concatenate([a_prev, x_t], axis=1)  # the course's [a<t-1>; x<t>], as rows
        forget = Sigmoid.apply(Affine.apply(concat, self.Wf, self.bf))
        update = Sigmoid.apply(Affine.apply(concat, self.Wu, self.bu))
        candidate = Tanh.apply(Affine.apply(concat, self.Wc, self.bc))
        c_next = forget * c_prev + update * candidate
        output = Sigmoid.apply(Affine.apply(concat, self.Wo, self.bo))
        a_next = output * Tanh.apply(c_next)
        return a_next, c_next

    def extra_repr(self) -> str:
        return f"n_x={self.n_x}, n_a={self.n_a}, init={initializers.name_of(self.init)!r}"


class RNN(Module):
    """A recurrent layer: a cell ("rnn" or "lstm") run over every time step of a sequence,
    as the course's rnn_forward and lstm_forward do.

    Args:
        n_x: inputs per time step.
        n_a: hidden units.
        cell: "rnn" (`RNNCell`) or "lstm" (`LSTMCell`); the cell is ``self.cell``, so its
            parameters are ``cell.Wax``, ``cell.Waa``, ... in ``named_parameters()``.
        init, rng, dtype: passed to the cell.

    ``layer(X, a0=None, c0=None)`` takes X of shape (m, T_x, n_x), the course's x of shape
    (n_x, m, T_x) as ``x.transpose(1, 2, 0)``, and returns every hidden state A of shape
    (m, T_x, n_a), the course's a as ``a.transpose(1, 2, 0)``. ``A[:, t]`` is a<t>.T and
    ``A[:, -1]``, the last state a<T_x>, is what a many-to-one model (sentiment
    classification) feeds its output layer. a0 (m, n_a) is the first hidden state, zeros by
    default; for an LSTM, c0 (m, n_a) is the first memory cell, zeros by default (the course
    always starts it at zero). With cell="lstm" the result is the a states too; the memory
    cells c<t> are not returned.
    """

    def __init__(self, n_x: int, n_a: int, cell: str = "rnn", init: Any = "xavier",
                 rng: Any = None, dtype: Any = np.float64) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ArgumentError(
                f"RNN: unknown cell {cell!r}; use 'rnn' (the basic RNN cell) or 'lstm'"
            )
        n_x, n_a = whole_number(n_x, "n_x", "RNN"), whole_number(n_a, "n_a", "RNN")
        self.kind = cell
        make = RNNCell if cell == "rnn" else LSTMCell
        self.cell = make(n_x, n_a, init=init, rng=rng, dtype=dtype)

    @property
    def n_x(self) -> int:
        return self.cell.n_x

    @property
    def n_a(self) -> int:
        return self.cell.n_a

    def forward(self, X: Any, a0: Any = None, c0: Any = None) -> Tensor:
        n_x, n_a = self.n_x, self.n_a
        dtype = self.cell.dtype
        label = f"RNN(n_x={n_x}, n_a={n_a}, cell={self.kind!r})"
        X = as_data_of(X, dtype)
        _require(label, "X", X, ("m", "T_x", n_x), _sequence_tip(X, n_x))
        m, T_x, _ = _shape(X)
        if T_x == 0:
            raise ShapeError(f"{label} got X of shape {_shape(X)}: a sequence of no time steps")
        a = np.zeros((m, n_a), dtype=dtype) if a0 is None else as_data_of(a0, dtype)
        _require(label, "a0", a, (m, n_a), f" (one row per sequence of X, which holds {m})")
        if self.kind == "rnn":
            if c0 is not None:
                raise ArgumentError(f"{label}: c0 is the first memory cell of an LSTM; the "
                                    "rnn cell has none (use cell='lstm', or leave c0 out)")
            states = []
            for x_t in _time_steps(X):
                a = self.cell(x_t, a)
                states.append(a)
        else:
            c = np.zeros((m, n_a), dtype=dtype) if c0 is None else as_data_of(c0, dtype)
            _require(label, "c0", c, (m, n_a), f" (one row per sequence of X, which holds {m})")
            states = []
            for x_t in _time_steps(X):
                a, c = self.cell(x_t, a, c)
                states.append(a)
        return stack(states, axis=1)

    def extra_repr(self) -> str:
        return f"n_x={self.n_x}, n_a={self.n_a}, cell={self.kind!r}"


def _time_steps(X: Any) -> list:
    """x<1>, ..., x<T_x>, each (m, n_x), from X (m, T_x, n_x)."""
    if isinstance(X, Tensor) and X.requires_grad:
        # One node cuts X into its steps: slicing X[:, t] would give every step's gradient
        # an array of zeros the size of X in backward (T_x of them, T_x**2 work in all).
        m, _, n_x = X.shape
        return [piece.reshape(m, n_x) for piece in split(X, X.shape[1], axis=1)]
    return [X[:, t] for t in range(X.shape[1])]


def _course_tip(x_t: Any, n_x: int) -> str:
    """A hint for x<t> given as the course holds it, (n_x, m)."""
    shape = _shape(x_t)
    if len(shape) == 2 and shape[0] == n_x:
        return " (x_t.T, if x_t holds one example per column as in the course)"
    return ""


def _rows_tip(x_t: Any) -> str:
    return f" (one row per example of x_t, which holds {_shape(x_t)[0]})"


def _sequence_tip(X: Any, n_x: int) -> str:
    """A hint for the usual ways a batch of sequences comes in the wrong layout."""
    shape = _shape(X)
    if len(shape) == 3 and shape[0] == n_x:
        return (" (X.transpose(1, 2, 0), if X is the course's x of shape (n_x, m, T_x))")
    if len(shape) == 2 and shape[1] == n_x:
        return " (X[None], if X is one sequence of shape (T_x, n_x))"
    return ""
