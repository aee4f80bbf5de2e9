"""The course's sequence models (Course 5): the basic RNN cell, the LSTM cell, the GRU cell,
and `RNN`, which runs one of them over a sequence, in one or both directions (the course's
bidirectional RNN) and in one or more layers (its deep RNN).

Batch-first, like the rest of graphgrad.nn. The course keeps examples in columns and time
last: x of shape (n_x, m, T_x), x<t> = x[:, :, t] of shape (n_x, m), and the hidden states
a of shape (n_a, m, T_x). Here a batch of sequences is X of shape (m, T_x, n_x), one sequence
per row, so::

    X = x.transpose(1, 2, 0)        x<t> = X[:, t].T        A = a.transpose(1, 2, 0)

The weights keep the course's shapes and names (Wax of shape (n_a, n_x), ...), and each cell
computes the course's formula transposed, as `Linear` does: a<t>.T = tanh(x<t>.T Wax.T +
a<t-1>.T Waa.T + ba). There is no output layer y<t> = softmax(Wya a<t> + by) inside the
cells: put a `Linear` on the states (it takes (m, T_x, n_a) as well as (m, n_a)).

Everything is built from the engine's ops (`Affine`, `ConcatAffine` for the gates on
[a<t-1>; x<t>], tanh, sigmoid, concatenate, indexing, stack), so backpropagation through
time, second derivatives and graph pictures need no code of their own. Depends on `ops`,
`nn.layers`, `nn.module`, `nn.init`, `nn.packing` (PyTorch's packed sequences, which run
through ``lengths``), `errors`.
"""
from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    ShapeError,
    flag,
    pytorch_order_error,
    require_shape,
    shape_of,
    whole_number,
)
from graphgrad.nn import init as initializers
from graphgrad.nn.attention import dropout_layer, dropout_probability
from graphgrad.nn.layers import Affine, ConcatAffine
from graphgrad.nn.module import Module, Parameter, as_data_of
from graphgrad.nn.packing import PackedSequence, packed_like, padded_batch
from graphgrad.nn.sequences import sequence_lengths
from graphgrad.ops.elementwise import ReLU, Sigmoid, Tanh, where
from graphgrad.ops.shape import concatenate, split, stack
from graphgrad.tensor import Tensor, _constant

CELLS = ("rnn", "lstm", "gru")


class _Cell(Module):
    """What the cells share: their sizes, one generator for all their weights (an int seed
    given to each weight would draw them all from the same stream), their dtype, their
    checks of x_t and the states, and their repr. A subclass makes its weights in
    ``_make_weights``; the first one it registers gives the cell's dtype."""

    # PyTorch's arguments, its order, and what else makes the cell PyTorch's, for refusals
    pytorch_order = "input_size, hidden_size, bias"
    pytorch_settings: tuple[str, ...] = ()
    pytorch_note = ""

    def __init__(self, n_x: int, n_a: int, init: Any = "xavier", rng: Any = None,
                 dtype: Any = np.float64, bias: bool = True, proj_size: int = 0) -> None:
        super().__init__()
        self.n_x = whole_number(n_x, "n_x", type(self).__name__)
        self.n_a = whole_number(n_a, "n_a", type(self).__name__)
        if isinstance(init, (bool, np.bool_)):  # PyTorch's bias, given third
            raise self._pytorch_order_error(init, rng)
        self.bias = flag(bias, "bias", type(self).__name__)
        self.proj_size = proj_size  # checked by LSTMCell, the only cell that projects
        self.init = init
        self._make_weights(initializers.generator(rng, type(self).__name__), dtype)

    def _pytorch_order_error(self, bias: bool, nonlinearity: Any) -> ArgumentError:
        """The refusal of PyTorch's ``Cell(input_size, hidden_size, bias)`` (an RNNCell's
        nonlinearity fourth, in the course's rng), with the call that does what it meant."""
        caller = type(self).__name__
        course = ", ".join(list(inspect.signature(type(self).__init__).parameters)[1:])
        options = [] if bias else ["bias=False"]
        if isinstance(nonlinearity, str) and nonlinearity != "tanh":
            options.append(f"nonlinearity={nonlinearity!r}")
        call = ", ".join([str(self.n_x), str(self.n_a), *options, *self.pytorch_settings])
        return pytorch_order_error(caller, f"init must be an initialiser, got {bias}",
                                   self.pytorch_order, course, f"{caller}({call})",
                                   note=self.pytorch_note)

    @property
    def n_h(self) -> int:
        """The size of the hidden state a<t> the cell takes and gives: n_a, or the
        ``proj_size`` an LSTM cell projects it to."""
        return self.proj_size or self.n_a

    def _bias(self, dtype: Any) -> Parameter | None:
        """A bias of n_a zeros, or None for a cell made with bias=False."""
        return Parameter(np.zeros(self.n_a, dtype=dtype)) if self.bias else None

    def _make_weights(self, rng: np.random.Generator, dtype: Any) -> None:
        raise NotImplementedError

    @property
    def dtype(self) -> np.dtype:
        """The dtype of the cell's weights, which its inputs are converted to."""
        return next(iter(self._members.values())).data.dtype

    def _inputs(self, x_t: Any, **states: Any) -> list:
        """x_t and the states in the cell's dtype, each checked: x_t (m, n_x), states
        (m, n_a)."""
        dtype = self.dtype
        label = self._label()
        x_t = as_data_of(x_t, dtype, self)
        require_shape(label, "x_t", x_t, ("m", self.n_x), _course_tip(x_t, self.n_x))
        checked = [x_t]
        missing = [name for name, value in states.items() if value is None]
        if missing:
            pair = (" (PyTorch's LSTMCell takes (h, c) as one tuple: here cell(x_t, *state))"
                    if isinstance(states.get("a_prev"), tuple) else "")
            size = self.n_a if missing[0] == "c_prev" else self.n_h
            raise ArgumentError(
                f"{label} takes {missing[0]} of shape (m, {size}), got none{pair}; the "
                f"first step's state is usually zeros: np.zeros((m, {size}))")
        for name, value in states.items():
            value = as_data_of(value, dtype, self)
            size = self.n_a if name == "c_prev" else self.n_h  # the memory cell is never projected
            require_shape(label, name, value, (shape_of(x_t)[0], size), _rows_tip(x_t))
            checked.append(value)
        return checked

    def _kind(self) -> str:
        return f"{type(self).__name__}(n_x={self.n_x}, n_a={self.n_a})"

    def extra_repr(self) -> str:
        """``n_x=3, n_a=5, init='xavier'`` (and ``proj_size``, ``bias=False``), for the repr."""
        settings = f"n_x={self.n_x}, n_a={self.n_a}"
        if self.proj_size:
            settings += f", proj_size={self.proj_size}"
        settings += f", init={initializers.name_of(self.init)!r}"
        return settings + ("" if self.bias else ", bias=False")


class _GatedCell(_Cell):
    """A cell whose weights act on [a<t-1>; x<t>]: one W of shape (n_a, n_h + n_x) and one b
    of shape (n_a,) per letter of ``gates`` (Wf, bf, Wu, bu, ...), the biases at zero (None
    with bias=False); n_h is n_a but for a projected LSTM's."""

    gates: str

    def _make_weights(self, rng: np.random.Generator, dtype: Any) -> None:
        shape = (self.n_a, self.n_h + self.n_x)
        for gate in self.gates:
            setattr(self, f"W{gate}", Parameter(initializers.initialize(self.init, shape, rng,
                                                                        dtype)))
            setattr(self, f"b{gate}", self._bias(dtype))


class RNNCell(_Cell):
    """One step of the course's basic RNN: a<t> = tanh(Waa a<t-1> + Wax x<t> + ba).

    Args:
        n_x: inputs per time step.
        n_a: hidden units.
        init: how Wax and Waa start (see `nn.init`; "xavier" suits tanh). ba starts at zero.
        rng: a seed or np.random.Generator for the initialisation (default: the one
            `nn.init.seed` resets).
        dtype: np.float64 (default) or np.float32.
        nonlinearity: "tanh" (the course's, the default) or "relu": a<t> = relu(...), as
            PyTorch's RNNCell(nonlinearity="relu").
        bias: False leaves out ba (PyTorch's bias=False).

    Parameters, with the course's shapes: Wax (n_a, n_x), Waa (n_a, n_a), ba (n_a,).

    Shapes: x_t (m, n_x), a_prev (m, n_a) -> a_next (m, n_a), the course's x<t> (n_x, m),
    a<t-1> (n_a, m) and a<t> (n_a, m) transposed.
    """

    pytorch_order = "input_size, hidden_size, bias, nonlinearity"

    def __init__(self, n_x: int, n_a: int, init: Any = "xavier", rng: Any = None,
                 dtype: Any = np.float64, nonlinearity: str = "tanh", bias: bool = True) -> None:
        super().__init__(n_x, n_a, init=init, rng=rng, dtype=dtype, bias=bias)
        self.nonlinearity = nonlinearity_setting(nonlinearity, type(self).__name__)

    def _make_weights(self, rng: np.random.Generator, dtype: Any) -> None:
        self.Wax = Parameter(initializers.initialize(self.init, (self.n_a, self.n_x), rng, dtype))
        self.Waa = Parameter(initializers.initialize(self.init, (self.n_a, self.n_a), rng, dtype))
        self.ba = self._bias(dtype)

    def forward(self, x_t: Any, a_prev: Any) -> Tensor:
        """a<t> = tanh(Waa a<t-1> + Wax x<t> + ba) (relu with nonlinearity="relu"), one step.
        x_t (m, n_x), a_prev (m, n_a) -> a_next (m, n_a)."""
        x_t, a_prev = self._inputs(x_t, a_prev=a_prev)
        # Two products rather than one over [x<t>, a<t-1>]: stacking Wax and Waa at every step
        # would copy both weights for the same count of nodes.
        z = _affine(x_t, self.Wax, self.ba) + Affine.apply(a_prev, self.Waa)
        return (ReLU if self.nonlinearity == "relu" else Tanh).apply(z)

    def extra_repr(self) -> str:
        """``n_x=3, n_a=5, init='xavier'`` (and ``nonlinearity='relu'``), for the repr."""
        relu = ", nonlinearity='relu'" if self.nonlinearity == "relu" else ""
        return super().extra_repr() + relu


class LSTMCell(_GatedCell):
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
        bias: False leaves out bf, bu, bc and bo (PyTorch's bias=False).
        proj_size: r > 0, smaller than n_a, projects the state, as PyTorch's LSTM with
            projections (LSTMP, Sak et al., 2014): a<t> = Whr (Gamma_o * tanh(c<t>)), of r
            units, which the gates read at the next step; c<t> keeps n_a. 0 (the default)
            projects nothing.

    Parameters, with the course's shapes: Wf, Wu, Wc, Wo (n_a, n_a + n_x), whose first n_a
    columns act on a<t-1> and the last n_x on x<t> (n_a is r for a<t-1> with proj_size);
    bf, bu, bc, bo (n_a,); with proj_size, Whr (r, n_a), PyTorch's weight_hr. The course's
    notebook calls the update gate's weights Wi and bi. PyTorch's LSTMCell computes the same
    with its gates' rows stacked in the order i, f, g, o (Wu, Wf, Wc, Wo here), the columns
    on x<t> in weight_ih and those on h = a<t-1> in weight_hh.

    Shapes: x_t (m, n_x), a_prev (m, n_a), c_prev (m, n_a) -> (a_next, c_next), both
    (m, n_a): the course's (n_x, m), (n_a, m) arrays transposed (a_prev and a_next (m, r)
    with proj_size).
    """

    gates = "fuco"

    def __init__(self, n_x: int, n_a: int, init: Any = "xavier", rng: Any = None,
                 dtype: Any = np.float64, bias: bool = True, proj_size: int = 0) -> None:
        label = type(self).__name__
        proj_size = whole_number(proj_size, "proj_size", label, 0)
        if proj_size >= whole_number(n_a, "n_a", label):
            raise ArgumentError(f"{label}: proj_size={proj_size} must be smaller than n_a={n_a} "
                                "(PyTorch's rule: a projection makes the state smaller); "
                                "0 projects nothing")
        super().__init__(n_x, n_a, init=init, rng=rng, dtype=dtype, bias=bias,
                         proj_size=proj_size)

    def _make_weights(self, rng: np.random.Generator, dtype: Any) -> None:
        super()._make_weights(rng, dtype)
        if self.proj_size:
            self.Whr = Parameter(initializers.initialize(self.init, (self.proj_size, self.n_a),
                                                         rng, dtype))

    def forward(self, x_t: Any, a_prev: Any, c_prev: Any = None) -> tuple[Tensor, Tensor]:
        """One LSTM step (the class docstring's formulas).  x_t (m, n_x), a_prev (m, n_h),
        c_prev (m, n_a) -> (a_next (m, n_h), c_next (m, n_a)); n_h is n_a, or proj_size."""
        x_t, a_prev, c_prev = self._inputs(x_t, a_prev=a_prev, c_prev=c_prev)
        x_t, a_prev = _tensor(x_t), _tensor(a_prev)  # once, not in each of the four gates
        # Each gate on the course's [a<t-1>; x<t>], as rows, in one node: when x<t> is data,
        # backward computes no gradient for it.
        forget = Sigmoid.apply(_concat_affine(a_prev, x_t, self.Wf, self.bf))
        update = Sigmoid.apply(_concat_affine(a_prev, x_t, self.Wu, self.bu))
        candidate = Tanh.apply(_concat_affine(a_prev, x_t, self.Wc, self.bc))
        c_next = forget * c_prev + update * candidate
        output = Sigmoid.apply(_concat_affine(a_prev, x_t, self.Wo, self.bo))
        a_next = output * Tanh.apply(c_next)
        if self.proj_size:  # PyTorch's LSTMP: the state a<t> is Whr (Gamma_o * tanh(c<t>))
            a_next = Affine.apply(a_next, self.Whr)
        return a_next, c_next


class GRUCell(_GatedCell):
    """One step of the course's full GRU, whose memory cell is its hidden state
    (c<t-1> = a<t-1>)::

        Gamma_r = sigmoid(Wr [c<t-1>; x<t>] + br)               (relevance gate)
        Gamma_u = sigmoid(Wu [c<t-1>; x<t>] + bu)               (update gate)
        c~<t>   = tanh(Wc [Gamma_r * c<t-1>; x<t>] + bc)        (candidate)
        c<t>    = Gamma_u * c~<t> + (1 - Gamma_u) * c<t-1>
        a<t>    = c<t>

    Args:
        n_x: inputs per time step.
        n_a: hidden units (of a, which is the memory cell c).
        init: how the three weights start (see `nn.init`). The biases start at zero.
        rng: a seed or np.random.Generator for the initialisation (default: the one
            `nn.init.seed` resets).
        dtype: np.float64 (default) or np.float32.
        bias: False leaves out br, bu, bc (and bhc) (PyTorch's bias=False).

    Parameters, with the course's shapes: Wr, Wu, Wc (n_a, n_a + n_x), whose first n_a
    columns act on c<t-1> (Wc's on Gamma_r * c<t-1>) and the last n_x on x<t>; br, bu, bc
    (n_a,).

    Shapes: x_t (m, n_x), a_prev (m, n_a) -> a_next (m, n_a), the course's x<t> (n_x, m),
    c<t-1> (n_a, m) and c<t> (n_a, m) transposed. One state goes in and out, as for
    `RNNCell`: the course's c<t> is a<t>.

    PyTorch's GRUCell (gates r, z, n) is another variant: its z keeps the old state, z =
    1 - Gamma_u, and its candidate tanh(W_in x + b_in + r * (W_hn h + b_hn)) applies the
    relevance gate after the product with h, where the course's applies it before (Wc acts
    on Gamma_r * c<t-1>). The two agree only where Wc's first n_a columns form a diagonal.
    ``reset_after=True`` (Keras's name for it) computes PyTorch's candidate instead::

        c~<t>   = tanh(Wc[:, n_a:] x<t> + bc + Gamma_r * (Wc[:, :n_a] c<t-1> + bhc))

    with one more parameter, bhc (n_a,), PyTorch's b_hn, which sits inside Gamma_r * (...)
    and so is not one bias with bc. PyTorch's weights then load exactly (see
    `RNN.load_torch_state_dict`): Wr = [W_hr, W_ir], br = b_ir + b_hr, Wu = -[W_hz, W_iz],
    bu = -(b_iz + b_hz), Wc = [W_hn, W_in], bc = b_in, bhc = b_hn.
    """

    gates = "ruc"
    pytorch_settings = ("reset_after=True",)
    pytorch_note = "reset_after=True is PyTorch's candidate, r applied after the product"

    def __init__(self, n_x: int, n_a: int, init: Any = "xavier", rng: Any = None,
                 dtype: Any = np.float64, reset_after: bool = False, bias: bool = True) -> None:
        super().__init__(n_x, n_a, init=init, rng=rng, dtype=dtype, bias=bias)
        self.reset_after = flag(reset_after, "reset_after", type(self).__name__)
        if self.reset_after:
            self.bhc = self._bias(self.dtype)

    def forward(self, x_t: Any, a_prev: Any) -> Tensor:
        """One GRU step (the class docstring's formulas).  x_t (m, n_x), a_prev (m, n_a) ->
        a_next (m, n_a)."""
        x_t, c_prev = self._inputs(x_t, a_prev=a_prev)
        x_t, c_prev = _tensor(x_t), _tensor(c_prev)  # once, not in each of the three gates
        # The gates on the course's [c<t-1>; x<t>] and [Gamma_r * c<t-1>; x<t>], as rows (see
        # LSTMCell.forward).
        relevance = Sigmoid.apply(_concat_affine(c_prev, x_t, self.Wr, self.br))
        update = Sigmoid.apply(_concat_affine(c_prev, x_t, self.Wu, self.bu))
        if self.reset_after:  # PyTorch's: Gamma_r after the product with c<t-1>
            n_a = self.n_a
            candidate = Tanh.apply(_affine(x_t, self.Wc[:, n_a:], self.bc) + relevance
                                   * _affine(c_prev, self.Wc[:, :n_a], self.bhc))
        else:
            candidate = Tanh.apply(_concat_affine(relevance * c_prev, x_t, self.Wc, self.bc))
        return update * candidate + (1 - update) * c_prev

    def extra_repr(self) -> str:
        """``n_x=3, n_a=5, init='xavier'`` (and ``reset_after=True``), for the repr."""
        return super().extra_repr() + (", reset_after=True" if self.reset_after else "")


def _refuses_pytorch_order(init: Callable) -> Callable:
    """Refuse PyTorch's ``RNN(input_size, hidden_size, num_layers, nonlinearity, bias,
    batch_first, dropout, bidirectional)``, whose num_layers lands in the course's cell, with
    the call that does what it meant: the arguments given by position are PyTorch's."""
    torch_names = ("num_layers", "nonlinearity", "bias", "batch_first", "dropout",
                   "bidirectional")
    defaults = (1, "tanh", True, False, 0.0, False)

    @functools.wraps(init)
    def checked(self: Any, *args: Any, **kwargs: Any) -> None:
        if type(self) is RNN and len(args) > 2 and isinstance(args[2], (int, np.integer)):
            given = zip(torch_names, args[2:], defaults)
            meant = {name: value for name, value, default in given
                     if name != "batch_first" and not (value is default or value == default)}
            order = ("num_layers", "bidirectional", "nonlinearity", "dropout", "bias")
            options = [f"{name}={meant[name]!r}" for name in order if name in meant]
            course = ", ".join(list(inspect.signature(init).parameters)[1:])
            raise pytorch_order_error(
                "RNN", f"cell must be 'rnn', 'lstm' or 'gru', got {args[2]!r}",
                ", ".join(("input_size", "hidden_size", *torch_names)), course,
                f"RNN({', '.join([repr(args[0]), repr(args[1]), *options])})",
                note="X of shape (m, T_x, n_x), PyTorch's batch_first=True layout")
        init(self, *args, **kwargs)
    return checked


class RNN(Module):
    """A recurrent layer: a cell ("rnn", "lstm" or "gru") run over every time step of a
    sequence, as the course's rnn_forward and lstm_forward do; in both directions if asked
    (the course's bidirectional RNN), and in several layers (its deep RNN).

    Args:
        n_x: inputs per time step.
        n_a: hidden units of every cell.
        cell: "rnn" (`RNNCell`), "lstm" (`LSTMCell`) or "gru" (`GRUCell`). The first layer's
            cell is ``self.cell``, so its parameters are ``cell.Wax``, ``cell.Waa``, ... in
            ``named_parameters()``.
        num_layers: layers of cells, as PyTorch's: layer l > 0 reads layer l-1's states, so
            its cells take n_a inputs per step (2 * n_a when bidirectional). Layer l's cell is
            ``self.cell_l{l}`` (``cell_l1``, ``cell_l2``, ...).
        bidirectional: add to every layer a cell that reads the sequence backward, from
            t = T_x down to 1 (``cell_reverse`` in the first layer, ``cell_l1_reverse``, ...),
            so that each step's state sees the whole sequence: the course's BRNN, whose
            output layer reads [forward a<t>; backward a<t>].
        init, rng, dtype: passed to the cells (one generator draws all their weights).
        nonlinearity: the basic cell's, "tanh" (the course's) or "relu" (see `RNNCell`).
        dropout: the probability of dropping a unit of every layer's output but the last's,
            in training only, as PyTorch's dropout (its p; the course's keep_prob is 1 -
            dropout, and ``layer_dropout``, the `Dropout` between the layers, keeps it).
            One layer has nothing between, and a warning says so.
        reset_after: the GRU cell's: False (the default) is the course's GRU, True PyTorch's
            (see `GRUCell`), whose weights `load_torch_state_dict` loads.
        bias: False makes the cells without biases, as PyTorch's bias=False.
        proj_size: the LSTM cell's projection (see `LSTMCell`): the states a<t>, a0 and A
            have proj_size units where c0 keeps n_a.

    ``layer(X, a0=None, c0=None)`` takes X of shape (m, T_x, n_x), the course's x of shape
    (n_x, m, T_x) as ``x.transpose(1, 2, 0)``, and returns the last layer's hidden states A
    of shape (m, T_x, n_a), the course's a as ``a.transpose(1, 2, 0)``. ``A[:, t]`` is a<t>.T
    and ``A[:, -1]``, the last state a<T_x>, is what a many-to-one model (sentiment
    classification) feeds its output layer. With cell="lstm" the result is the a states too.

    ``layer(X, a0, c0, return_state=True)`` also returns every cell's last state, in the
    shape a0 and c0 take, so it can be passed back to continue the sequence (or to start a
    decoder from an encoder's summary): ``(A, a_last)``, and ``(A, (a_last, c_last))`` for an
    LSTM, whose last memory cell c<T_x> is only returned this way, as PyTorch's
    ``(output, (h_n, c_n))``. A backward cell's last state is the one after it read x<1>.

    Bidirectional, A has shape (m, T_x, 2 * n_a): ``A[..., :n_a]`` holds the forward cell's
    states and ``A[..., n_a:]`` the backward cell's, each at its own t, so the backward
    direction's summary of the whole sequence is ``A[:, 0, n_a:]``.

    a0 is the first hidden state, zeros by default; for an LSTM, c0 is the first memory cell,
    zeros by default (the course always starts it at zero). With one layer in one direction
    they have shape (m, n_a). Otherwise every cell starts from its own state, so they have
    shape (num_layers * D, m, n_a), D = 2 if bidirectional else 1, in the order of the cells
    (cell, cell_reverse, cell_l1, cell_l1_reverse, ...), as PyTorch's h0 and c0; the backward
    cells start before reading x<T_x>.
    """

    _init_depth = 0  # the __init__ calls of subclasses above this one's, for warnings

    @_refuses_pytorch_order
    def __init__(self, n_x: int, n_a: int, cell: str = "rnn", num_layers: int = 1,
                 bidirectional: bool = False, init: Any = "xavier", rng: Any = None,
                 dtype: Any = np.float64, nonlinearity: str = "tanh", dropout: float = 0.0,
                 reset_after: bool = False, bias: bool = True, proj_size: int = 0) -> None:
        super().__init__()
        label = type(self).__name__  # nn.LSTM's and nn.GRU's errors name them
        if cell not in CELLS:
            raise ArgumentError(f"{label}: unknown cell {cell!r}; use 'rnn' (the basic RNN cell), "
                                "'lstm' or 'gru'")
        n_x, n_a = whole_number(n_x, "n_x", label), whole_number(n_a, "n_a", label)
        self.num_layers = whole_number(num_layers, "num_layers", label)
        if not isinstance(bidirectional, (bool, np.bool_)):
            raise ArgumentError(f"{label}: bidirectional must be True or False, got "
                                f"{bidirectional!r}")
        self.bidirectional = bool(bidirectional)
        self.kind = cell
        options: dict[str, Any] = {}
        if nonlinearity != "tanh" or cell == "rnn":
            if cell != "rnn":
                raise ArgumentError(f"RNN: nonlinearity={nonlinearity!r} is the basic cell's "
                                    f"(cell='rnn'); the {cell} cell's are fixed")
            options["nonlinearity"] = nonlinearity_setting(nonlinearity, "RNN")
        if reset_after is not False or cell == "gru":
            if cell != "gru":
                raise ArgumentError(f"RNN: reset_after is the GRU cell's (cell='gru'), not the "
                                    f"{cell} cell's")
            options["reset_after"] = flag(reset_after, "reset_after", "RNN")
        if proj_size != 0:
            if cell != "lstm":
                raise ArgumentError(f"{label}: proj_size is the LSTM cell's (cell='lstm'), not "
                                    f"the {cell} cell's (PyTorch's LSTM only projects)")
            options["proj_size"] = proj_size
        options["bias"] = flag(bias, "bias", label)
        self.dropout = dropout_probability(dropout, label)
        if self.dropout and self.num_layers == 1:
            warnings.warn(f"{label}(dropout={self.dropout:g}) drops units between "
                          "layers, and one layer has none between: it changes nothing "
                          "(num_layers=2 or more, or a Dropout on the output)", UserWarning,
                          stacklevel=3 + self._init_depth)  # past _refuses_pytorch_order
        make = {"rnn": RNNCell, "lstm": LSTMCell, "gru": GRUCell}[cell]
        seeded = rng is not None
        # One generator for every cell: an int seed passed to each would draw them all alike.
        rng = initializers.generator(rng, label)
        for l in range(self.num_layers):
            n_in = n_x if l == 0 else self._directions * self.n_h
            for name in self._cell_names(l):
                setattr(self, name, make(n_in, n_a, init=init, rng=rng, dtype=dtype, **options))
        if self.dropout and self.num_layers > 1:
            # One layer for the outputs of every layer but the last; a seed gives its masks too
            self.layer_dropout = dropout_layer(self.dropout, rng if seeded else None)

    @property
    def n_x(self) -> int:
        """Inputs per time step of X, n_x."""
        return self.cell.n_x

    @property
    def n_a(self) -> int:
        """Hidden units of every cell."""
        return self.cell.n_a

    @property
    def n_h(self) -> int:
        """The size of each cell's hidden state a<t>: n_a, or an LSTM's proj_size."""
        return self.cell.n_h

    @property
    def _directions(self) -> int:
        """Cells per layer: 2 when bidirectional, else 1."""
        return 2 if self.bidirectional else 1

    def _cell_names(self, l: int) -> tuple[str, ...]:
        """Layer l's cells: its forward one, then its backward one if bidirectional."""
        name = "cell" if l == 0 else f"cell_l{l}"
        return (name, f"{name}_reverse") if self.bidirectional else (name,)

    def forward(self, X: Any, a0: Any = None, c0: Any = None, return_state: bool = False,
                lengths: Any = None) -> Any:
        """The cells run over the time steps.  X (m, T_x, n_x) -> A (m, T_x, n_a), or
        (m, T_x, 2 * n_a) bidirectional.

        a0 is the first hidden state a<0> and c0, for an LSTM only, the first memory cell
        c<0>; None (the default) starts them at zeros. Each is (m, n_a) with one layer in one
        direction, else (num_layers * D, m, n_a), one state per cell in the order of the
        cells. ``return_state=True`` adds the last states, in the shapes a0 and c0 take (see
        the class docstring).

        ``lengths`` (m,), whole numbers in [1, T_x], gives each sequence's own length when
        X holds sequences of different lengths padded at the end (`nn.utils.pad_sequence`):
        X[i, lengths[i]:] is padding, which no cell reads, as PyTorch's packed sequences
        (``pack_padded_sequence(X, lengths, batch_first=True)``). Sequence i's states stop
        at its last step, so its last state is a<lengths[i]>, the backward cells start at
        x<lengths[i]>, and A[i, lengths[i]:] is zeros (``pad_packed_sequence``'s padding).
        The padding's values change no result and get zero gradients, but must be finite:
        the cells compute on them and the results are left out.

        X may also be a `PackedSequence` of sequences (T_i, n_x) (PyTorch's
        ``pack_padded_sequence(X, lengths, batch_first=True)``), which holds the lengths: A
        is then packed as X is, and the states are in the order of the batch it was packed
        from (PyTorch's h_n), as for the padded batch and its lengths, which is how it runs."""
        if isinstance(X, PackedSequence):
            packed = X
            X, lengths = self._unpacked(packed, lengths)
            out = self.forward(X, a0, c0, return_state, lengths)
            if return_state:
                return packed_like(out[0], packed), out[1]
            return packed_like(out, packed)
        n_x = self.n_x
        dtype = self.cell.dtype
        label = self._label()
        X = as_data_of(X, dtype, self)
        require_shape(label, "X", X, ("m", "T_x", n_x), _sequence_tip(X, n_x))
        m, T_x, _ = shape_of(X)
        if T_x == 0:
            raise ShapeError(f"{label} got X of shape {shape_of(X)}: a sequence of no time steps")
        if c0 is not None and self.kind != "lstm":
            why = ("has none (use cell='lstm', or leave c0 out)" if self.kind == "rnn" else
                   "keeps its memory in its hidden state (give it as a0, and leave c0 out)")
            raise ArgumentError(f"{label}: c0 is the first memory cell of an LSTM; the "
                                f"{self.kind} cell {why}")
        if self.kind == "lstm" and c0 is None and self._is_state_pair(a0, m):
            raise ArgumentError(
                f"{label} takes the first hidden state a0 and memory cell c0 as two arguments, "
                "got a0 = a tuple of two states (PyTorch's LSTM takes (h0, c0) as one tuple: "
                "here layer(X, *state), or layer(X, a0, c0); the state that "
                "return_state=True gives goes back so)")
        masks = _step_masks(label, lengths, m, T_x)
        a_starts = self._starts(label, "a0", a0, m)
        c_starts = (self._starts(label, "c0", c0, m) if self.kind == "lstm"
                    else [None] * len(a_starts))
        starts = iter(zip(a_starts, c_starts))
        steps = _time_steps(X)
        a_lasts, c_lasts = [], []
        for l in range(self.num_layers):
            if l > 0 and self.training and self.dropout:  # on every layer's output but the last
                steps = _time_steps(self.layer_dropout(stack(steps, axis=1)))
            directions = []
            for name in self._cell_names(l):
                a, c = next(starts)
                back = name.endswith("_reverse")  # t = T_x down to 1
                states, a, c = _run(getattr(self, name), steps[::-1] if back else steps,
                                    a, c, masks[::-1] if back else masks)
                a_lasts.append(a)
                c_lasts.append(c)
                directions.append(states[::-1] if back else states)  # back in time order
            if len(directions) == 1:
                steps = directions[0]
            else:  # [forward a<t>; backward a<t>]: the next layer's x<t>, or the output
                steps = [concatenate(pair, axis=1) for pair in zip(*directions)]
        A = stack(steps, axis=1)
        if not return_state:
            return A
        a_last = a_lasts[0] if len(a_lasts) == 1 else stack(a_lasts, axis=0)
        if self.kind != "lstm":
            return A, a_last
        return A, (a_last, c_lasts[0] if len(c_lasts) == 1 else stack(c_lasts, axis=0))

    def _unpacked(self, packed: PackedSequence, lengths: Any) -> tuple[Tensor, np.ndarray]:
        """A PackedSequence given as X: its padded batch (m, T_x, n_x) and lengths (m,)."""
        label = self._label()
        if lengths is not None:
            raise ArgumentError(f"{label}: X is a PackedSequence, which holds its sequences' "
                                "lengths: leave lengths out (they go with a padded batch X)")
        require_shape(label, "X.data", packed.data, ("N", self.n_x),
                      f" (the layer takes a PackedSequence of sequences (T_i, {self.n_x}), "
                      f"as pack_padded_sequence(X, lengths) packs X (T_x, m, {self.n_x}))")
        return padded_batch(packed)

    def _is_state_pair(self, value: Any, m: int) -> bool:
        """Whether ``value`` is an (a, c) pair of whole states, each of the shape a0 takes,
        as PyTorch's (h0, c0): a tuple of the layers' states, each (m, n_a), is a0 itself."""
        count = self.num_layers * self._directions
        states = [(m, n) if count == 1 else (count, m, n) for n in (self.n_h, self.n_a)]
        return (isinstance(value, tuple) and len(value) == 2
                and all(shape_of(v) == state for v, state in zip(value, states)))

    def _starts(self, label: str, name: str, value: Any, m: int) -> list:
        """The first state (a0 or c0) of every cell, in the order of the cells."""
        n_a, dtype = (self.n_a if name == "c0" else self.n_h), self.cell.dtype
        count = self.num_layers * self._directions
        if value is None:
            return [np.zeros((m, n_a), dtype=dtype)] * count
        value = as_data_of(value, dtype, self)
        if count == 1:
            require_shape(label, name, value, (m, n_a),
                     f" (one row per sequence of X, which holds {m})")
            return [value]
        order = ", ".join(n for l in range(self.num_layers) for n in self._cell_names(l))
        require_shape(label, name, value, (count, m, n_a), (
            f" (one state (m, n_a) per cell, in the order {order}, with m = {m} as in X; "
            f"np.stack([{name}] * {count}) starts every cell from the same {name})"))
        return [value[k] for k in range(count)]

    def load_torch_state_dict(self, state_dict: Any) -> None:
        """Copy a PyTorch nn.RNN's, nn.LSTM's or nn.GRU's weights (its ``state_dict()``)
        into this layer of the same settings, exactly: see
        `nn.recurrent_torch.load_torch_state_dict`. A GRU needs reset_after=True."""
        # Imported here: that module builds its LSTM and GRU on this one's RNN
        from graphgrad.nn.recurrent_torch import load_torch_state_dict
        load_torch_state_dict(self, state_dict)

    def extra_repr(self) -> str:
        """``n_x=3, n_a=5, cell='rnn'`` (and ``num_layers``, ``dropout``, ``bidirectional``;
        the cells show their own settings), for the repr."""
        settings = f"n_x={self.n_x}, n_a={self.n_a}, cell={self.kind!r}"
        if self.num_layers != 1:
            settings += f", num_layers={self.num_layers}"
        if self.dropout:
            settings += f", dropout={self.dropout:g}"
        return settings + (", bidirectional=True" if self.bidirectional else "")


def _run(cell: Module, steps: list, a: Any, c: Any, masks: list) -> tuple[list, Any, Any]:
    """The outputs a<t> of ``cell`` over the inputs ``steps``, from a (and c, for an LSTM),
    and its last states a and c (c None for cells without one). ``masks[t]`` is None where
    every sequence goes on, else (m, 1), True for the sequences that do and False for those
    already over (or, backward, not yet begun): their state stays as it was and their
    output is zeros."""
    states = []
    for x_t, mask in zip(steps, masks):
        if c is None:
            a_next, c_next = cell(x_t, a), None
        else:
            a_next, c_next = cell(x_t, a, c)
        if mask is None:
            a, c = a_next, c_next
            states.append(a)
            continue
        # One node each, and exact: the state kept is the old one bit for bit
        a = where(mask, a_next, a)
        if c is not None:
            c = where(mask, c_next, c)
        states.append(where(mask, a_next, 0.0))
    return states, a, c


def _step_masks(label: str, lengths: Any, m: int, T_x: int) -> list:
    """For each t, None where every sequence is at least t + 1 steps long, else the (m, 1)
    booleans of those that are: from ``lengths`` (m,) (None: all are T_x)."""
    if lengths is None:
        return [None] * T_x
    lengths = sequence_lengths(lengths, m, T_x, label)
    shortest = int(lengths.min())
    return [None if t < shortest else (t < lengths)[:, None] for t in range(T_x)]


def nonlinearity_setting(nonlinearity: Any, caller: str) -> str:
    """The basic cell's nonlinearity, "tanh" or "relu", checked."""
    if nonlinearity not in ("tanh", "relu"):
        raise ArgumentError(f"{caller}: nonlinearity must be 'tanh' (the course's) or 'relu', "
                            f"got {nonlinearity!r}")
    return nonlinearity


def _time_steps(X: Any) -> list:
    """x<1>, ..., x<T_x>, each (m, n_x), from X (m, T_x, n_x)."""
    if isinstance(X, Tensor) and X.requires_grad:
        # One node cuts X into its steps: slicing X[:, t] would give every step's gradient
        # an array of zeros the size of X in backward (T_x of them, T_x**2 work in all).
        m, _, n_x = X.shape
        return [piece.reshape(m, n_x) for piece in split(X, X.shape[1], axis=1)]
    return [X[:, t] for t in range(X.shape[1])]


def _affine(x: Any, W: Any, b: Any) -> Tensor:
    """x @ W.T + b in one node, or x @ W.T where the cell has no bias (b None)."""
    return Affine.apply(x, W) if b is None else Affine.apply(x, W, b)


def _concat_affine(a: Any, x: Any, W: Any, b: Any) -> Tensor:
    """[a, x] @ W.T + b in one node, or without b where the cell has none (b None)."""
    return ConcatAffine.apply(a, x, W) if b is None else ConcatAffine.apply(a, x, W, b)


def _tensor(value: Any) -> Tensor:
    """An array (data, a zero state) as a constant Tensor, a Tensor as it is."""
    return value if isinstance(value, Tensor) else _constant(value)


def _course_tip(x_t: Any, n_x: int) -> str:
    """A hint for x<t> given as the course holds it, (n_x, m)."""
    shape = shape_of(x_t)
    if len(shape) == 2 and shape[0] == n_x:
        return " (x_t.T, if x_t holds one example per column as in the course)"
    return ""


def _rows_tip(x_t: Any) -> str:
    return f" (one row per example of x_t, which holds {shape_of(x_t)[0]})"


def _sequence_tip(X: Any, n_x: int) -> str:
    """A hint for the usual ways a batch of sequences comes in the wrong layout."""
    shape = shape_of(X)
    if len(shape) == 3 and shape[0] == n_x:
        return (" (X.transpose(1, 2, 0), if X is the course's x of shape (n_x, m, T_x))")
    if len(shape) == 2 and shape[1] == n_x:
        return " (X[None], if X is one sequence of shape (T_x, n_x))"
    return ""
