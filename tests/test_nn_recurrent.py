"""Recurrent layers: the cells against the course's numpy formulas (examples in columns),
gradient checks through time (first and second order), backpropagation through time against
the course's rnn_backward, bidirectional and stacked layers against single layers run by
hand, property tests over sizes, errors, and a small learning task."""
import numpy as np
import pytest
from graph_walks import graph_nodes
from hypothesis import given, settings
from hypothesis import strategies as st

import graphgrad as gg
from graphgrad import nn, optim
from graphgrad.nn.recurrent import RNN, GRUCell, LSTMCell, RNNCell


# -- the course's numpy code: x (n_x, m, T_x), a (n_a, m, T_x), biases (n_a, 1) --------------------
def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _column(b):
    return b.reshape(-1, 1)


def rnn_cell_forward(xt, a_prev, p):
    a_next = np.tanh(p["Waa"] @ a_prev + p["Wax"] @ xt + _column(p["ba"]))
    return a_next, (a_next, a_prev, xt, p)


def rnn_forward(x, a0, p):
    n_x, m, T_x = x.shape
    a = np.zeros((p["Waa"].shape[0], m, T_x))
    caches = []
    a_next = a0
    for t in range(T_x):
        a_next, cache = rnn_cell_forward(x[:, :, t], a_next, p)
        a[:, :, t] = a_next
        caches.append(cache)
    return a, caches


def rnn_cell_backward(da_next, cache):
    a_next, a_prev, xt, p = cache
    dtanh = (1 - a_next ** 2) * da_next
    return {"dxt": p["Wax"].T @ dtanh, "da_prev": p["Waa"].T @ dtanh,
            "dWax": dtanh @ xt.T, "dWaa": dtanh @ a_prev.T, "dba": dtanh.sum(axis=1)}


def rnn_backward(da, caches):
    """The course's rnn_backward: da holds dJ/da<t> from the outputs, for every t."""
    n_a, m, T_x = da.shape
    n_x = caches[0][2].shape[0]
    dx = np.zeros((n_x, m, T_x))
    dWax, dWaa, dba = np.zeros((n_a, n_x)), np.zeros((n_a, n_a)), np.zeros(n_a)
    da_prevt = np.zeros((n_a, m))
    for t in reversed(range(T_x)):
        g = rnn_cell_backward(da[:, :, t] + da_prevt, caches[t])
        dx[:, :, t] = g["dxt"]
        da_prevt = g["da_prev"]
        dWax += g["dWax"]
        dWaa += g["dWaa"]
        dba += g["dba"]
    return {"dx": dx, "da0": da_prevt, "dWax": dWax, "dWaa": dWaa, "dba": dba}


def lstm_cell_forward(xt, a_prev, c_prev, p):
    concat = np.concatenate([a_prev, xt], axis=0)
    ft = _sigmoid(p["Wf"] @ concat + _column(p["bf"]))
    ut = _sigmoid(p["Wu"] @ concat + _column(p["bu"]))
    cct = np.tanh(p["Wc"] @ concat + _column(p["bc"]))
    c_next = ft * c_prev + ut * cct
    ot = _sigmoid(p["Wo"] @ concat + _column(p["bo"]))
    return ot * np.tanh(c_next), c_next


def lstm_forward(x, a0, p):
    n_x, m, T_x = x.shape
    a = np.zeros((a0.shape[0], m, T_x))
    a_next, c_next = a0, np.zeros_like(a0)
    for t in range(T_x):
        a_next, c_next = lstm_cell_forward(x[:, :, t], a_next, c_next, p)
        a[:, :, t] = a_next
    return a


def gru_cell_forward(xt, c_prev, p):
    """The course's full GRU; its a<t> is c<t>."""
    concat = np.concatenate([c_prev, xt], axis=0)
    rt = _sigmoid(p["Wr"] @ concat + _column(p["br"]))
    ut = _sigmoid(p["Wu"] @ concat + _column(p["bu"]))
    cct = np.tanh(p["Wc"] @ np.concatenate([rt * c_prev, xt], axis=0) + _column(p["bc"]))
    return ut * cct + (1 - ut) * c_prev


def gru_forward(x, a0, p):
    n_x, m, T_x = x.shape
    a = np.zeros((a0.shape[0], m, T_x))
    c_next = a0
    for t in range(T_x):
        c_next = gru_cell_forward(x[:, :, t], c_next, p)
        a[:, :, t] = c_next
    return a


def _arrays(module):
    """The module's parameters as arrays, by their own (unprefixed) names."""
    return {name.rpartition(".")[2]: p.data for name, p in module.named_parameters()}


def _randomise_biases(module, rng):
    """Biases start at zero; random ones make the comparisons see them."""
    for name, p in module.named_parameters():
        if name.rpartition(".")[2].startswith("b"):
            p.data = rng.standard_normal(p.shape)


# -- forward against the course --------------------------------------------------------------------
def test_rnn_cell_is_the_course_cell_transposed():
    rng = np.random.default_rng(1)
    cell = RNNCell(3, 5, rng=0)
    _randomise_biases(cell, rng)
    xt, a_prev = rng.standard_normal((3, 4)), rng.standard_normal((5, 4))  # (n, m), columns
    a_next = cell(xt.T, a_prev.T)
    expected, _ = rnn_cell_forward(xt, a_prev, _arrays(cell))
    assert a_next.shape == (4, 5)
    np.testing.assert_allclose(a_next.data, expected.T, rtol=1e-12, atol=1e-12)


def test_lstm_cell_is_the_course_cell_transposed():
    rng = np.random.default_rng(2)
    cell = LSTMCell(3, 5, rng=0)
    _randomise_biases(cell, rng)
    xt, a_prev, c_prev = (rng.standard_normal((n, 4)) for n in (3, 5, 5))
    a_next, c_next = cell(xt.T, a_prev.T, c_prev.T)
    expected_a, expected_c = lstm_cell_forward(xt, a_prev, c_prev, _arrays(cell))
    np.testing.assert_allclose(a_next.data, expected_a.T, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(c_next.data, expected_c.T, rtol=1e-12, atol=1e-12)


def test_gru_cell_is_the_course_cell_transposed():
    rng = np.random.default_rng(12)
    cell = GRUCell(3, 5, rng=0)
    _randomise_biases(cell, rng)
    xt, c_prev = rng.standard_normal((3, 4)), rng.standard_normal((5, 4))
    a_next = cell(xt.T, c_prev.T)
    assert isinstance(a_next, gg.Tensor) and a_next.shape == (4, 5)
    np.testing.assert_allclose(a_next.data, gru_cell_forward(xt, c_prev, _arrays(cell)).T,
                               rtol=1e-12, atol=1e-12)
    # Each gate matters: a shut update gate keeps c<t-1>, an open one takes the candidate.
    cell.bu.data = np.full(5, -50.0)
    np.testing.assert_allclose(cell(xt.T, c_prev.T).data, c_prev.T, atol=1e-12)
    cell.bu.data = np.full(5, 50.0)
    candidate = np.tanh(np.concatenate([_sigmoid(cell.Wr.data @ np.concatenate([c_prev, xt])
                                                 + _column(cell.br.data)) * c_prev, xt])
                        .T @ cell.Wc.data.T + cell.bc.data)
    np.testing.assert_allclose(cell(xt.T, c_prev.T).data, candidate, atol=1e-12)


@pytest.mark.parametrize("cell, reference", [
    ("rnn", rnn_forward), ("lstm", lstm_forward), ("gru", gru_forward)])
def test_rnn_over_a_sequence_is_the_course_forward(cell, reference):
    rng = np.random.default_rng(3)
    layer = RNN(3, 5, cell=cell, rng=0)
    _randomise_biases(layer, rng)
    x, a0 = rng.standard_normal((3, 4, 6)), rng.standard_normal((5, 4))  # (n_x, m, T_x)
    A = layer(x.transpose(1, 2, 0), a0.T)
    expected = reference(x, a0, _arrays(layer))
    if cell == "rnn":
        expected = expected[0]
    assert A.shape == (4, 6, 5)
    np.testing.assert_allclose(A.data, expected.transpose(1, 2, 0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(A[:, -1].data, expected[:, :, -1].T, rtol=1e-12, atol=1e-12)


def test_a0_defaults_to_zeros_and_c0_is_the_first_memory_cell():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((2, 3, 2))
    layer = RNN(2, 3, cell="lstm", rng=0)
    zeros = np.zeros((2, 3))
    np.testing.assert_array_equal(layer(X).data, layer(X, zeros, zeros).data)
    c0 = rng.standard_normal((2, 3))
    a, c = layer.cell(X[:, 0], zeros, c0)
    np.testing.assert_allclose(layer(X, c0=c0).data[:, 0], a.data, rtol=1e-12)
    assert not np.allclose(layer(X, c0=c0).data, layer(X).data)


# -- gradients -------------------------------------------------------------------------------------
def _with_parameters(module, params):
    """Make ``module`` compute with ``params`` (gradcheck's float64 copies of its parameters, in
    ``named_parameters`` order), so that their gradients are the ones checked."""
    owners = dict(module.named_modules())
    for (name, _), param in zip(module.named_parameters(), params):
        path, _, attribute = name.rpartition(".")
        setattr(owners[path], attribute, param)


def _of_inputs_and_parameters(module):
    """``module`` as a function of its inputs followed by its parameters, for gradcheck."""
    n_params = len(module.parameters())

    def run(*args):
        _with_parameters(module, args[-n_params:])
        return module(*args[:-n_params])

    return run


def _cell_count(layer):
    return layer.num_layers * (2 if layer.bidirectional else 1)


def _a0_shape(layer, m):
    """(m, n_a) for one cell; (num_layers * directions, m, n_a) for more, as PyTorch's h0."""
    count = _cell_count(layer)
    return (m, layer.n_a) if count == 1 else (count, m, layer.n_a)


def _check_layer(layer, m, T_x, seed=0, check=gg.gradcheck):
    """gradcheck of ``layer(X, a0)`` with respect to X, a0 and every parameter."""
    rng = np.random.default_rng(seed)
    _randomise_biases(layer, rng)
    X = rng.standard_normal((m, T_x, layer.n_x))
    a0 = rng.standard_normal(_a0_shape(layer, m))
    return check(_of_inputs_and_parameters(layer), [X, a0, *layer.parameters()])


def test_rnn_cell_gradcheck():
    rng = np.random.default_rng(5)
    cell = RNNCell(3, 4, rng=0)
    _randomise_biases(cell, rng)
    result = gg.gradcheck(_of_inputs_and_parameters(cell), [
        rng.standard_normal((2, 3)), rng.standard_normal((2, 4)), *cell.parameters()])
    assert result.passed and len(result.pairs) == 5
    assert all(p.relative_difference < 1e-7 for p in result.pairs)


def test_lstm_cell_gradcheck_of_both_outputs():
    rng = np.random.default_rng(6)
    cell = LSTMCell(2, 3, rng=0)
    _randomise_biases(cell, rng)
    inputs = [rng.standard_normal((2, 2)), rng.standard_normal((2, 3)),
              rng.standard_normal((2, 3)), *cell.parameters()]
    result = gg.gradcheck(_of_inputs_and_parameters(cell), inputs)
    assert result.passed and len(result.pairs) == 2 * 11  # (a_next, c_next) x 11 inputs
    assert all(p.relative_difference < 1e-7 for p in result.pairs)


def test_gru_cell_gradcheck_and_second_derivatives():
    rng = np.random.default_rng(13)
    cell = GRUCell(2, 3, rng=0)
    _randomise_biases(cell, rng)
    inputs = [rng.standard_normal((2, 2)), rng.standard_normal((2, 3)), *cell.parameters()]
    result = gg.gradcheck(_of_inputs_and_parameters(cell), inputs)
    assert result.passed and len(result.pairs) == 8  # x_t, a_prev and the six parameters
    assert all(p.relative_difference < 1e-7 for p in result.pairs)
    assert gg.gradgradcheck(_of_inputs_and_parameters(cell), inputs)


@pytest.mark.parametrize("cell, T_x", [("rnn", 4), ("lstm", 3), ("gru", 3)])
def test_rnn_gradcheck_through_time(cell, T_x):
    layer = RNN(2, 3, cell=cell, rng=0)
    result = _check_layer(layer, m=2, T_x=T_x)
    assert result.passed
    assert len(result.pairs) == 2 + {"rnn": 3, "lstm": 8, "gru": 6}[cell]  # X, a0, parameters
    assert all(p.relative_difference < 1e-7 for p in result.pairs)


def test_rnn_cell_second_derivatives():
    rng = np.random.default_rng(7)
    cell = RNNCell(2, 2, rng=0)
    _randomise_biases(cell, rng)
    assert gg.gradgradcheck(_of_inputs_and_parameters(cell), [
        rng.standard_normal((2, 2)), rng.standard_normal((2, 2)), *cell.parameters()])


@pytest.mark.parametrize("cell", ["rnn", "gru"])
def test_rnn_second_derivatives_through_time(cell):
    assert _check_layer(RNN(2, 2, cell=cell, rng=0), m=1, T_x=2, check=gg.gradgradcheck)


def test_backpropagation_through_time_is_the_course_rnn_backward():
    rng = np.random.default_rng(8)
    layer = RNN(3, 5, rng=0)
    _randomise_biases(layer, rng)
    x, a0 = rng.standard_normal((3, 10, 4)), rng.standard_normal((5, 10))
    da = rng.standard_normal((5, 10, 4))  # dJ/da<t> from the outputs, (n_a, m, T_x)
    X, A0 = gg.Tensor(x.transpose(1, 2, 0), requires_grad=True), gg.Tensor(a0.T, requires_grad=True)
    A = layer(X, A0)
    A.backward(da.transpose(1, 2, 0))

    _, caches = rnn_forward(x, a0, _arrays(layer))
    g = rnn_backward(da, caches)
    close = {"rtol": 1e-12, "atol": 1e-12}
    np.testing.assert_allclose(layer.cell.Wax.grad, g["dWax"], **close)
    np.testing.assert_allclose(layer.cell.Waa.grad, g["dWaa"], **close)
    np.testing.assert_allclose(layer.cell.ba.grad, g["dba"], **close)
    np.testing.assert_allclose(X.grad, g["dx"].transpose(1, 2, 0), **close)
    np.testing.assert_allclose(A0.grad, g["da0"].T, **close)


def test_a_sequence_that_needs_a_gradient_is_cut_into_time_steps_by_one_node():
    """Two stacked layers: the second one's input is the first one's states."""
    first, second = RNN(2, 3, rng=0), RNN(3, 2, cell="lstm", rng=1)
    X = gg.Tensor(np.random.default_rng(9).standard_normal((2, 6, 2)), requires_grad=True)
    A = second(first(X))
    A.sum().backward()
    ops = [type(node).__name__ for node in graph_nodes(A)]
    assert ops.count("Split") == 2 and "GetItem" not in ops
    assert X.grad.shape == X.shape

    def stacked(X):
        return second(first(X))

    result = gg.gradcheck(stacked, [X.data])
    assert result.passed and result.pairs[0].relative_difference < 1e-7


@settings(max_examples=15, deadline=None)
@given(m=st.integers(1, 3), T_x=st.integers(1, 3), n_x=st.integers(1, 3), n_a=st.integers(1, 3),
       cell=st.sampled_from(["rnn", "lstm", "gru"]), seed=st.integers(0, 2**32 - 1))
def test_random_sizes_give_every_state_and_pass_gradcheck(m, T_x, n_x, n_a, cell, seed):
    layer = RNN(n_x, n_a, cell=cell, rng=seed)
    assert layer(np.zeros((m, T_x, n_x))).shape == (m, T_x, n_a)
    assert _check_layer(layer, m, T_x, seed=seed)


@settings(max_examples=15, deadline=None)
@given(m=st.integers(1, 3), T_x=st.integers(1, 4), n_x=st.integers(1, 3), n_a=st.integers(1, 3),
       seed=st.integers(0, 2**32 - 1))
def test_gru_over_random_sizes_is_the_course_gru(m, T_x, n_x, n_a, seed):
    rng = np.random.default_rng(seed)
    layer = RNN(n_x, n_a, cell="gru", rng=seed)
    _randomise_biases(layer, rng)
    x, a0 = rng.standard_normal((n_x, m, T_x)), rng.standard_normal((n_a, m))
    A = layer(x.transpose(1, 2, 0), a0.T)
    expected = gru_forward(x, a0, _arrays(layer)).transpose(1, 2, 0)
    np.testing.assert_allclose(A.data, expected, rtol=1e-12, atol=1e-12)
    assert _check_layer(layer, m, T_x, seed=seed)


@settings(max_examples=10, deadline=None)
@given(m=st.integers(1, 2), T_x=st.integers(1, 3), n_x=st.integers(1, 3), n_a=st.integers(1, 2),
       num_layers=st.integers(1, 3), bidirectional=st.booleans(),
       cell=st.sampled_from(["rnn", "lstm", "gru"]), seed=st.integers(0, 2**32 - 1))
def test_random_stacks_are_their_layers_chained_and_pass_gradcheck(
        m, T_x, n_x, n_a, num_layers, bidirectional, cell, seed):
    layer = RNN(n_x, n_a, cell=cell, num_layers=num_layers, bidirectional=bidirectional,
                rng=seed)
    rng = np.random.default_rng(seed)
    _randomise_biases(layer, rng)
    X, a0 = rng.standard_normal((m, T_x, n_x)), rng.standard_normal(_a0_shape(layer, m))
    A = layer(X, a0)
    assert A.shape == (m, T_x, (2 if bidirectional else 1) * n_a)
    np.testing.assert_allclose(A.data, _by_hand(layer, X, a0), rtol=1e-12, atol=1e-12)
    assert _check_layer(layer, m, T_x, seed=seed)


# -- bidirectional and stacked layers --------------------------------------------------------------
def _single_layers(layer):
    """``layer``'s layers as separate one-layer RNNs with its weights, first layer first."""
    state = layer.state_dict()
    width = 2 if layer.bidirectional else 1
    singles = []
    for l in range(layer.num_layers):
        single = RNN(layer.n_x if l == 0 else width * layer.n_a, layer.n_a, cell=layer.kind,
                     bidirectional=layer.bidirectional)
        prefix = "cell" if l == 0 else f"cell_l{l}"
        single.load_state_dict({
            key.replace(prefix, "cell", 1): value for key, value in state.items()
            if key.split(".")[0] in (prefix, f"{prefix}_reverse")})
        singles.append(single)
    return singles


def _one_direction(cell, X, a0, c0=None):
    """A one-layer forward RNN with ``cell``'s weights, run over X."""
    layer = RNN(cell.n_x, cell.n_a, cell={RNNCell: "rnn", LSTMCell: "lstm", GRUCell: "gru"}[
        type(cell)])
    layer.load_state_dict({f"cell.{k}": v for k, v in cell.state_dict().items()})
    return layer(X, a0, c0).data


def _by_hand(layer, X, a0):
    """``layer(X, a0)`` computed by one-direction, one-layer RNNs: each backward cell runs on
    the time-reversed input and its states are reversed back."""
    width = 2 if layer.bidirectional else 1
    starts = iter(a0 if _cell_count(layer) > 1 else [a0])
    for l in range(layer.num_layers):
        prefix = "cell" if l == 0 else f"cell_l{l}"
        halves = [_one_direction(getattr(layer, prefix), X, next(starts))]
        if width == 2:
            reverse = getattr(layer, f"{prefix}_reverse")
            halves.append(_one_direction(reverse, X[:, ::-1], next(starts))[:, ::-1])
        X = np.concatenate(halves, axis=-1)
    return X


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_bidirectional_is_forward_and_reversed_runs_side_by_side(cell):
    rng = np.random.default_rng(14)
    layer = RNN(3, 4, cell=cell, bidirectional=True, rng=0)
    _randomise_biases(layer, rng)
    X = rng.standard_normal((2, 5, 3))
    a0, c0 = rng.standard_normal((2, 2, 4)), rng.standard_normal((2, 2, 4))
    A = layer(X, a0, c0 if cell == "lstm" else None)
    assert A.shape == (2, 5, 8)
    forward = _one_direction(layer.cell, X, a0[0], c0[0] if cell == "lstm" else None)
    backward = _one_direction(layer.cell_reverse, X[:, ::-1], a0[1],
                              c0[1] if cell == "lstm" else None)[:, ::-1]
    np.testing.assert_allclose(A.data[..., :4], forward, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(A.data[..., 4:], backward, rtol=1e-12, atol=1e-12)
    # The backward cell reads x<T_x> first: its last state has seen the whole sequence.
    Y = X.copy()
    Y[:, -1] += 1.0
    changed = layer(Y, a0, c0 if cell == "lstm" else None).data != A.data
    assert changed[:, :, 4:].all() and not changed[:, :-1, :4].any()


@pytest.mark.parametrize("cell, bidirectional", [
    ("rnn", False), ("lstm", False), ("gru", False), ("gru", True), ("lstm", True)])
def test_stacked_layers_are_single_layers_chained(cell, bidirectional):
    rng = np.random.default_rng(15)
    layer = RNN(3, 4, cell=cell, num_layers=3, bidirectional=bidirectional, rng=0)
    _randomise_biases(layer, rng)
    X = rng.standard_normal((2, 5, 3))
    width = 2 if bidirectional else 1
    a0 = rng.standard_normal((3 * width, 2, 4))
    expected = X
    for l, single in enumerate(_single_layers(layer)):
        starts = a0[width * l:width * (l + 1)]
        expected = single(expected, starts if bidirectional else starts[0]).data
    A = layer(X, a0)
    assert A.shape == (2, 5, 4 * width)
    np.testing.assert_allclose(A.data, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(layer(X).data, layer(X, np.zeros_like(a0)).data)


@pytest.mark.parametrize("cell, num_layers", [
    ("rnn", 1), ("gru", 1), ("lstm", 1), ("rnn", 2), ("gru", 3), ("lstm", 2)])
def test_returned_states_continue_the_sequence_where_it_stopped(cell, num_layers):
    """Running x<1..3>, then x<4..6> from the returned states, is running x<1..6>."""
    rng = np.random.default_rng(17)
    layer = RNN(3, 4, cell=cell, num_layers=num_layers, rng=0)
    _randomise_biases(layer, rng)
    X = rng.standard_normal((2, 6, 3))
    a0 = rng.standard_normal(_a0_shape(layer, 2))
    c0 = rng.standard_normal(_a0_shape(layer, 2)) if cell == "lstm" else None
    whole = layer(X, a0, c0).data
    first, states = layer(X[:, :3], a0, c0, return_state=True)
    if cell == "lstm":
        a_last, c_last = states
        assert c_last.shape == a_last.shape == a0.shape
        second = layer(X[:, 3:], a_last, c_last)
    else:
        assert states.shape == a0.shape
        second = layer(X[:, 3:], states)
    np.testing.assert_allclose(np.concatenate([first.data, second.data], axis=1), whole,
                               rtol=1e-12, atol=1e-12)
    # The top layer's last state is the output's last step.
    top = (states[0] if cell == "lstm" else states).data
    np.testing.assert_array_equal((top if num_layers == 1 else top[-1]), first.data[:, -1])


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_a_backward_cells_last_state_is_the_one_after_reading_x1(cell):
    rng = np.random.default_rng(18)
    layer = RNN(3, 4, cell=cell, bidirectional=True, rng=0)
    X = rng.standard_normal((2, 5, 3))
    A, states = layer(X, return_state=True)
    a_last = states[0] if cell == "lstm" else states
    assert a_last.shape == (2, 2, 4)
    np.testing.assert_array_equal(a_last.data[0], A.data[:, -1, :4])
    np.testing.assert_array_equal(a_last.data[1], A.data[:, 0, 4:])
    if cell == "lstm":  # the memory cells: those of the two runs done by hand
        forward = LSTMCell(3, 4)
        forward.load_state_dict(layer.cell.state_dict())
        reverse = LSTMCell(3, 4)
        reverse.load_state_dict(layer.cell_reverse.state_dict())
        expected = []
        for cell_, steps in ((forward, range(5)), (reverse, range(4, -1, -1))):
            a = c = np.zeros((2, 4))
            for t in steps:
                a, c = cell_(X[:, t], a, c)
            expected.append(c.data)
        np.testing.assert_allclose(states[1].data, np.stack(expected), rtol=1e-12)


def test_gradcheck_through_the_last_memory_cells():
    """J can depend on c<T_x> alone: its gradient reaches X, c0 and the weights."""
    layer = RNN(2, 3, cell="lstm", num_layers=2, rng=0)
    rng = np.random.default_rng(19)
    _randomise_biases(layer, rng)
    X, c0 = rng.standard_normal((2, 3, 2)), rng.standard_normal((2, 2, 3))

    def last_memory(X, c0, *parameters):
        _with_parameters(layer, parameters)
        return layer(X, c0=c0, return_state=True)[1][1]

    result = gg.gradcheck(last_memory, [X, c0, *layer.parameters()])
    assert result.passed and len(result.pairs) == 2 + 2 * 8
    assert all(p.relative_difference < 1e-7 for p in result.pairs)


def test_gradcheck_through_a_two_layer_bidirectional_gru():
    layer = RNN(2, 2, cell="gru", num_layers=2, bidirectional=True, rng=0)
    result = _check_layer(layer, m=2, T_x=3)
    assert result.passed and len(result.pairs) == 2 + 4 * 6  # X, a0, four cells' parameters
    assert all(p.relative_difference < 1e-7 for p in result.pairs)


@pytest.mark.parametrize("cell, gates", [("lstm", 4), ("gru", 3)])
def test_the_gates_compute_no_gradient_for_data_x(cell, gates):
    """Each gate multiplied dZ by the whole of W = [W_a | W_x] in backward, for a gradient of
    [a<t-1>; x<t>] whose x<t> columns nobody used when X is data (the first layer's input):
    a third of dA's work at the course's n_x = 27, n_a = 50. The state's gradient is now
    dZ @ W_a alone, none at the first step, whose state is zeros."""
    layer = RNN(3, 4, cell=cell, rng=0)
    A = layer(np.random.default_rng(5).standard_normal((2, 3, 3)))
    nodes = [node for node in graph_nodes(A) if type(node).__name__ == "ConcatAffine"]
    assert len(nodes) == gates * 3
    G = np.random.default_rng(6).standard_normal((2, 4))
    with_state = 0
    for node in nodes:
        state, x_t, W, b = node.inputs
        assert node.needs_input_grad == (state.requires_grad, False, True, True)
        da, dx, dW, db = type(node).backward(node, G)
        assert dx is None
        if state.requires_grad:
            with_state += 1
            np.testing.assert_allclose(da, G @ W.data[:, :4], rtol=1e-14)
        else:
            assert da is None
        np.testing.assert_allclose(dW, G.T @ np.hstack([state.data, x_t.data]), rtol=1e-14)
        np.testing.assert_allclose(db, G.sum(axis=0), rtol=1e-14)
    # the LSTM's gates read a<0> = 0 at the first step; the GRU's candidate reads
    # Gamma_r * c<0>, which comes from the relevance gate
    assert with_state == gates * 2 + (cell == "gru")


def test_both_directions_share_one_cut_of_the_sequence():
    layer = RNN(2, 3, cell="gru", num_layers=2, bidirectional=True, rng=0)
    X = gg.Tensor(np.random.default_rng(16).standard_normal((2, 4, 2)), requires_grad=True)
    A = layer(X)
    A.sum().backward()
    ops = [type(node).__name__ for node in graph_nodes(A)]
    assert ops.count("Split") == 1 and "GetItem" not in ops
    # Per layer, one per step joins the two directions; each GRU step's gates join their
    # state and input inside their own nodes, three per step.
    assert ops.count("Concatenate") == 2 * 4 and ops.count("ConcatAffine") == 4 * 4 * 3
    assert all(p.grad is not None and p.grad.any() for p in layer.parameters())


# -- the module's bookkeeping ----------------------------------------------------------------------
def test_parameters_have_the_course_names_and_shapes():
    rnn = RNN(3, 5, rng=0)
    assert [(n, p.shape) for n, p in rnn.named_parameters()] == [
        ("cell.Wax", (5, 3)), ("cell.Waa", (5, 5)), ("cell.ba", (5,))]
    lstm = RNN(3, 5, cell="lstm", rng=0)
    assert [n for n, _ in lstm.named_parameters()] == [
        f"cell.{kind}{gate}" for gate in "fuco" for kind in "Wb"]
    assert {p.shape for p in lstm.parameters()} == {(5, 8), (5,)}
    assert lstm.count_parameters() == 4 * (5 * 8 + 5)
    assert repr(rnn) == ("RNN(n_x=3, n_a=5, cell='rnn'  # 45 parameters\n"
                         "  (cell): RNNCell(n_x=3, n_a=5, init='xavier')  # 45 parameters\n)")
    gru = RNN(3, 5, cell="gru", rng=0)
    assert [(n, p.shape) for n, p in gru.named_parameters()] == [
        (f"cell.{kind}{gate}", (5, 8) if kind == "W" else (5,)) for gate in "ruc" for kind in "Wb"]
    assert list(gru.state_dict()) == [n for n, _ in gru.named_parameters()]


def test_stacked_and_bidirectional_cells_are_named_by_layer_and_direction():
    layer = RNN(3, 5, cell="gru", num_layers=3, bidirectional=True, rng=0)
    cells = ["cell", "cell_reverse", "cell_l1", "cell_l1_reverse", "cell_l2", "cell_l2_reverse"]
    assert [name for name, _ in layer.named_children()] == cells
    assert [(name, cell.n_x, cell.n_a) for name, cell in layer.named_children()] == [
        (name, 3 if i < 2 else 10, 5) for i, name in enumerate(cells)]
    assert layer.cell_l1.Wr.shape == (5, 15)  # [c<t-1>; x<t>] with x<t> of size 2 * n_a
    assert list(layer.state_dict())[6:8] == ["cell_reverse.Wr", "cell_reverse.br"]
    assert layer.count_parameters() == 2 * 3 * (5 * 8 + 5) + 4 * 3 * (5 * 15 + 5)
    assert repr(layer).splitlines()[:3] == [
        "RNN(n_x=3, n_a=5, cell='gru', num_layers=3, bidirectional=True  # 1,230 parameters",
        "  (cell): GRUCell(n_x=3, n_a=5, init='xavier')  # 135 parameters",
        "  (cell_reverse): GRUCell(n_x=3, n_a=5, init='xavier')  # 135 parameters"]
    assert repr(RNN(3, 5, num_layers=2)).startswith("RNN(n_x=3, n_a=5, cell='rnn', num_layers=2 ")
    assert repr(RNN(3, 5, bidirectional=True)).startswith(
        "RNN(n_x=3, n_a=5, cell='rnn', bidirectional=True ")


def test_weights_are_drawn_from_one_stream_and_are_reproducible():
    cell = RNNCell(4, 4, rng=0)
    assert not np.array_equal(cell.Wax.data, cell.Waa.data)  # an int seed is used once
    np.testing.assert_array_equal(cell.Wax.data, RNNCell(4, 4, rng=0).Wax.data)
    assert cell.Wax.data.std() == pytest.approx(np.sqrt(1 / 4), rel=0.5)  # xavier: fan-in n_x
    lstm = LSTMCell(2, 3, rng=1)
    assert len({p.data.tobytes() for p in (lstm.Wf, lstm.Wu, lstm.Wc, lstm.Wo)}) == 4
    gru = GRUCell(2, 3, rng=1)
    assert len({p.data.tobytes() for p in (gru.Wr, gru.Wu, gru.Wc)}) == 3
    assert gru.Wr.data.std() == pytest.approx(np.sqrt(1 / 5), rel=0.5)  # fan-in n_a + n_x
    # A one-layer RNN draws its cell's weights as the cell alone would; more cells draw on.
    np.testing.assert_array_equal(RNN(2, 3, cell="gru", rng=1).cell.Wr.data, gru.Wr.data)
    bi = RNN(2, 3, cell="gru", bidirectional=True, rng=1)
    np.testing.assert_array_equal(bi.cell.Wc.data, gru.Wc.data)
    assert not np.array_equal(bi.cell.Wr.data, bi.cell_reverse.Wr.data)


def test_state_dict_round_trip():
    a, b = RNN(2, 3, cell="lstm", rng=0), RNN(2, 3, cell="lstm", rng=1)
    X = np.random.default_rng(9).standard_normal((2, 4, 2))
    assert not np.allclose(a(X).data, b(X).data)
    b.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(a(X).data, b(X).data)


@pytest.mark.parametrize("cell, settings", [
    ("lstm", {}), ("gru", {}), ("gru", {"num_layers": 2, "bidirectional": True})])
def test_float32_stays_float32(cell, settings):
    layer = RNN(2, 3, cell=cell, dtype=np.float32, rng=0, **settings)
    a0 = np.ones(_a0_shape(layer, 2))  # float64 data takes the layer's dtype
    A = layer(np.ones((2, 3, 2)), a0)
    A.sum().backward()
    assert A.dtype == np.float32
    assert {p.dtype for p in layer.parameters()} == {p.grad.dtype for p in layer.parameters()} \
        == {np.dtype(np.float32)}
    a_next = GRUCell(2, 3, dtype=np.float32)(np.ones((1, 2)), np.ones((1, 3)))
    assert a_next.dtype == np.float32


# -- errors ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape, tip", [
    ((4, 3), r"X\[None\]"),                         # one sequence without its batch axis
    ((2, 4, 5), ""),                                # the wrong n_x
    ((3, 2, 4), r"X\.transpose\(1, 2, 0\)"),        # the course's (n_x, m, T_x)
    ((2, 4, 3, 1), ""),
])
def test_wrong_X_names_the_layer_and_both_shapes(shape, tip):
    layer = RNN(3, 5, cell="lstm")
    got = str(shape).replace("(", r"\(").replace(")", r"\)")
    with pytest.raises(gg.ShapeError, match=(
            rf"RNN\(n_x=3, n_a=5, cell='lstm'\) takes X of shape \(m, T_x, 3\); "
            rf"got 'X' {got} float64.*{tip}")):
        layer(gg.Tensor(np.ones(shape), name="X"))


def test_wrong_states_and_cell_inputs_name_the_layer_and_shapes():
    with pytest.raises(gg.ShapeError, match=r"RNN\(n_x=3, n_a=5, cell='rnn'\) takes a0 of "
                                            r"shape \(2, 5\); got ndarray \(5, 2\)"):
        RNN(3, 5)(np.ones((2, 4, 3)), np.zeros((5, 2)))
    with pytest.raises(gg.ShapeError, match=r"RNNCell\(n_x=3, n_a=5\) takes x_t of shape "
                                            r"\(m, 3\); got ndarray \(3, 2\).*x_t\.T"):
        RNNCell(3, 5)(np.ones((3, 2)), np.zeros((2, 5)))
    with pytest.raises(gg.ShapeError, match=r"LSTMCell\(n_x=3, n_a=5\) takes c_prev of shape "
                                            r"\(2, 5\); got ndarray \(2, 4\)"):
        LSTMCell(3, 5)(np.ones((2, 3)), np.zeros((2, 5)), np.zeros((2, 4)))
    with pytest.raises(gg.ShapeError, match="no time steps"):
        RNN(3, 5)(np.ones((2, 0, 3)))
    with pytest.raises(gg.ShapeError, match=r"GRUCell\(n_x=3, n_a=5\) takes a_prev of shape "
                                            r"\(2, 5\); got ndarray \(2, 4\).*one row per"):
        GRUCell(3, 5)(np.ones((2, 3)), np.zeros((2, 4)))
    with pytest.raises(gg.ShapeError, match=r"GRUCell\(n_x=3, n_a=5\) takes x_t of shape "
                                            r"\(m, 3\); got ndarray \(3, 2\).*x_t\.T"):
        GRUCell(3, 5)(np.ones((3, 2)), np.zeros((2, 5)))


def test_initial_states_of_several_cells_have_one_row_per_cell():
    layer = RNN(3, 5, cell="lstm", num_layers=2, bidirectional=True)
    with pytest.raises(gg.ShapeError, match=(
            r"RNN\(n_x=3, n_a=5, cell='lstm', num_layers=2, bidirectional=True\) takes a0 of "
            r"shape \(4, 2, 5\); got ndarray \(2, 5\).*cell, cell_reverse, cell_l1, "
            r"cell_l1_reverse.*np\.stack\(\[a0\] \* 4\)")):
        layer(np.ones((2, 4, 3)), np.zeros((2, 5)))
    with pytest.raises(gg.ShapeError, match=r"takes c0 of shape \(4, 2, 5\); got ndarray "
                                            r"\(2, 2, 5\)"):
        layer(np.ones((2, 4, 3)), c0=np.zeros((2, 2, 5)))
    with pytest.raises(gg.ShapeError, match=r"RNN\(n_x=3, n_a=5, cell='rnn', num_layers=2\) "
                                            r"takes a0 of shape \(2, 1, 5\)"):
        RNN(3, 5, num_layers=2)(np.ones((1, 4, 3)), np.zeros((1, 5)))


@pytest.mark.parametrize("make, message", [
    (lambda: RNN(3, 4, cell="xyz"), r"RNN: unknown cell 'xyz'; use 'rnn' .*, 'lstm' or 'gru'"),
    (lambda: RNN(3, 4, num_layers=0),
     r"RNN: num_layers must be a whole number of at least 1, got 0"),
    (lambda: RNN(3, 4, num_layers=2.0),
     r"RNN: num_layers must be a whole number of at least 1, got 2\.0"),
    (lambda: RNN(3, 4, bidirectional="yes"), r"RNN: bidirectional must be True or False"),
    (lambda: RNN(3, 4, "rnn", "xavier"), r"num_layers must be a whole number.*'xavier'"),
    (lambda: GRUCell(3, 0), r"GRUCell: n_a must be a whole number of at least 1, got 0"),
    (lambda: RNN(3, 4, cell="gru")(np.ones((1, 2, 3)), c0=np.zeros((1, 4))),
     r"c0 .* LSTM; the gru cell keeps its memory in its hidden state \(give it as a0"),
    (lambda: RNN(0, 4), r"RNN: n_x must be a whole number of at least 1, got 0"),
    (lambda: RNNCell(3, 2.5), r"RNNCell: n_a must be a whole number of at least 1, got 2\.5"),
    (lambda: LSTMCell(True, 3), r"LSTMCell: n_x must be a whole number of at least 1, got True"),
    (lambda: RNN(3, 4, init="kaiming"), r"unknown initialiser 'kaiming'"),
    (lambda: RNN(3, 4)(np.ones((1, 2, 3)), c0=np.zeros((1, 4))), r"c0 .* LSTM"),
    (lambda: RNNCell(3, 4)(np.ones((2, 3)), None),
     r"^RNNCell\(n_x=3, n_a=4\) takes a_prev of shape \(m, 4\), got none; the first step's "
     r"state is usually zeros: np.zeros\(\(m, 4\)\)$"),
    (lambda: LSTMCell(3, 4)(np.ones((2, 3)), (np.zeros((2, 4)), np.zeros((2, 4)))),
     r"LSTMCell.*takes c_prev of shape \(m, 4\), got none \(PyTorch's LSTMCell takes \(h, c\) "
     r"as one tuple: here cell\(x_t, \*state\)\)"),
])
def test_bad_arguments_are_argument_errors(make, message):
    with pytest.raises(gg.ArgumentError, match=message):
        make()


# -- learning --------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_learns_whether_a_sequence_of_signs_sums_to_a_positive_number(cell):
    """Many-to-one: the last state a<T_x> feeds a logistic output. An odd T_x makes every
    sum non-zero. Judged on sequences it never saw, as well as the training set."""
    rng = np.random.default_rng(0)

    def batch(m, T_x=9):
        X = rng.choice([-1.0, 1.0], size=(m, T_x, 1))
        return X, (X.sum(axis=(1, 2)) > 0).astype(float).reshape(m, 1)

    X, Y = batch(256)
    X_test, Y_test = batch(500)
    rnn, head = RNN(1, 8, cell=cell, rng=1), nn.Linear(8, 1, init="xavier", rng=2)
    optimizer = optim.Adam(rnn.parameters() + head.parameters(), lr=0.05)
    costs = []
    for _ in range(150):
        J = nn.binary_cross_entropy_with_logits(head(rnn(X)[:, -1]), Y)
        optimizer.zero_grad()
        J.backward()
        optimizer.step()
        costs.append(J.item())

    def accuracy(X, Y):
        with gg.no_grad():
            return np.mean((head(rnn(X)[:, -1]).data > 0) == (Y == 1))

    assert costs[-1] < 0.1 * costs[0]
    assert accuracy(X, Y) >= 0.9
    assert accuracy(X_test, Y_test) >= 0.9


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_a_character_models_step_is_the_course_backpropagation_through_time(cell):
    """The benchmark's numpy step (the course's rnn_backward / lstm_cell_backward with a
    softmax per step) and graphgrad give the same cost and gradients."""
    from benchmarks.bench_recurrent import check

    check(cell, n_x=5, n_a=4, m=3, T=6, tolerance=1e-12)


def test_a_gradient_of_the_gates_weights_taken_with_grad_stays_differentiable_in_x():
    """gg.grad(J, [Wf], create_graph=True) asks the gates for no dx<t> (x<t> leads to no Wf),
    and their dW = dZ.T @ [a<t-1>, x<t>] took x<t> as a constant for it: the penalty ||dWf||**2
    of an LSTM on tanh(U) got a gradient in U of half its value, against finite differences."""
    layer = RNN(2, 3, cell="lstm", rng=0)
    U0 = np.random.default_rng(1).standard_normal((2, 3, 2))

    def penalty(U):
        A = layer(gg.tanh(U))
        (dWf,) = gg.grad((A * A).sum(), [layer.cell.Wf], create_graph=True)
        return (dWf * dWf).sum()

    assert gg.gradcheck(penalty, [gg.Tensor(U0, requires_grad=True)], rtol=1e-5, atol=1e-10)


def test_a_gates_dw_taken_with_grad_is_differentiable_in_inputs_that_lead_to_no_input_asked():
    """gg.grad(J, [W], create_graph=True) asks one ConcatAffine for neither dA nor dX, yet
    dW = dZ.T @ [A, X] depends on both: ||dW||**2 has the gradient in X of finite differences.
    A and X given as data are not saved, and X's array stays writeable while the graph lives."""
    from graphgrad.nn.layers import ConcatAffine

    rng = np.random.default_rng(7)
    A0, X0 = rng.standard_normal((3, 2)), rng.standard_normal((3, 4))
    W = gg.Tensor(rng.standard_normal((5, 6)), requires_grad=True)
    b = gg.Tensor(rng.standard_normal(5), requires_grad=True)

    def penalty(X):
        Z = ConcatAffine.apply(gg.Tensor(A0, requires_grad=True), X, W, b)
        (dW,) = gg.grad((Z * Z).sum(), [W], create_graph=True)
        return (dW * dW).sum()

    assert gg.gradcheck(penalty, [gg.Tensor(X0, requires_grad=True)], rtol=1e-6, atol=1e-8)

    data = rng.standard_normal((3, 4))
    Z = ConcatAffine.apply(gg.Tensor(A0, requires_grad=True), data, W, b)
    a, x, _, _ = Z.creator.saved
    assert x is None and a is not None
    data[0, 0] = 1.0  # data no op needs: not made read-only
    assert Z.creator.needs_input_grad == (True, False, True, True)


# -- relu cells, PyTorch's GRU candidate, dropout between layers ----------------------------------
def test_a_relu_cell_is_the_basic_cell_with_relu():
    rng = np.random.default_rng(20)
    cell = RNNCell(3, 4, rng=0, nonlinearity="relu")
    _randomise_biases(cell, rng)
    x, a = rng.standard_normal((5, 3)), rng.standard_normal((5, 4))
    z = x @ cell.Wax.data.T + a @ cell.Waa.data.T + cell.ba.data
    assert (z < 0).any() and (z > 0).any()
    np.testing.assert_allclose(cell(x, a).data, np.maximum(z, 0), rtol=1e-13)
    layer = RNN(3, 4, nonlinearity="relu", num_layers=2, rng=1)
    assert all(c.nonlinearity == "relu" for c in layer.children())
    assert _check_layer(layer, 3, 3, seed=21)


def test_a_reset_after_gru_applies_the_relevance_gate_after_the_product():
    """PyTorch's candidate: tanh(Wc_x x + bc + r * (Wc_a c + bhc)), by hand."""
    rng = np.random.default_rng(22)
    cell = GRUCell(3, 4, rng=0, reset_after=True)
    for p in cell.parameters():
        p.data[...] = rng.standard_normal(p.shape) * 0.5
    assert [name for name, _ in cell.named_parameters()] == ["Wr", "br", "Wu", "bu", "Wc", "bc",
                                                             "bhc"]
    x, c = rng.standard_normal((5, 3)), rng.standard_normal((5, 4))
    W = {g: getattr(cell, f"W{g}").data for g in "ruc"}
    r = _sigmoid(np.concatenate([c, x], 1) @ W["r"].T + cell.br.data)
    u = _sigmoid(np.concatenate([c, x], 1) @ W["u"].T + cell.bu.data)
    candidate = np.tanh(x @ W["c"][:, 4:].T + cell.bc.data
                        + r * (c @ W["c"][:, :4].T + cell.bhc.data))
    np.testing.assert_allclose(cell(x, c).data, u * candidate + (1 - u) * c, rtol=1e-12)
    course = GRUCell(3, 4, rng=0)
    for name, p in course.named_parameters():
        p.data[...] = getattr(cell, name).data
    assert np.abs(course(x, c).data - cell(x, c).data).max() > 1e-3
    assert gg.gradcheck(_of_inputs_and_parameters(cell), [x, c, *cell.parameters()])
    assert gg.gradgradcheck(_of_inputs_and_parameters(cell), [x, c, *cell.parameters()])
    assert _check_layer(RNN(2, 3, cell="gru", reset_after=True, bidirectional=True, rng=2), 2, 3)


def _same_weights(layer, model):
    for name, p in model.named_parameters():
        p.data[...] = dict(layer.named_parameters())[name].data


def test_dropout_drops_every_layers_output_but_the_last_in_training_only():
    rng = np.random.default_rng(23)
    layer = RNN(3, 4, cell="lstm", num_layers=3, bidirectional=True, dropout=0.4, rng=0)
    plain = RNN(3, 4, cell="lstm", num_layers=3, bidirectional=True, rng=1)
    _same_weights(layer, plain)
    X = rng.standard_normal((2, 5, 3))
    layer.eval()
    np.testing.assert_array_equal(layer(X).data, plain(X).data)
    layer.train()
    masks = []
    drop = layer.layer_dropout
    original = drop.forward

    def recording(A):
        out = original(A)
        masks.append(drop.D.data)
        return out
    drop.forward = recording
    A = layer(X)
    assert len(masks) == 2 and masks[0].shape == (2, 5, 8)
    assert 0 < masks[0].mean() < 1
    steps = X
    for l, mask in enumerate([None, *masks]):
        if mask is not None:
            steps = steps * mask / 0.6
        one = RNN(steps.shape[2], 4, cell="lstm", bidirectional=True, rng=0)
        one.cell = layer.cell if l == 0 else getattr(layer, f"cell_l{l}")
        one.cell_reverse = getattr(layer, "cell_reverse" if l == 0 else f"cell_l{l}_reverse")
        steps = one(steps).data
    np.testing.assert_allclose(A.data, steps, rtol=1e-12)


def test_dropout_between_layers_gradcheck_with_its_masks_fixed():
    layer = RNN(2, 3, cell="gru", num_layers=2, dropout=0.5, rng=3)
    layer.layer_dropout.reseed(0)
    rng = np.random.default_rng(24)
    X, a0 = rng.standard_normal((2, 3, 2)), rng.standard_normal((2, 2, 3))

    def run(*args):  # the same masks at every call: the layer reseeded before each
        layer.layer_dropout.reseed(0)
        return _of_inputs_and_parameters(layer)(*args)
    assert gg.gradcheck(run, [X, a0, *layer.parameters()])


def test_dropout_is_pytorchs_p_and_one_layer_warns_it_changes_nothing():
    layer = RNN(3, 4, num_layers=2, dropout=0.25)
    assert layer.layer_dropout.keep_prob == 0.75
    assert "dropout=0.25" in repr(layer)
    with pytest.warns(UserWarning, match=r"RNN\(dropout=0.2\) drops units between layers"):
        one = RNN(3, 4, dropout=0.2)
    assert not hasattr(one, "layer_dropout")
    assert not hasattr(RNN(3, 4, num_layers=2), "layer_dropout")


# -- sequences of different lengths ----------------------------------------------------------------
def _padded_batch(rng, lengths, n_x, T_x=None):
    T_x = T_x or max(lengths)
    X = rng.standard_normal((len(lengths), T_x, n_x)) * 3  # padding that would change a lot
    return X


@pytest.mark.parametrize("cell, num_layers, bidirectional", [
    ("rnn", 1, False), ("lstm", 1, True), ("gru", 2, True), ("lstm", 2, False),
    ("rnn", 2, True)])
def test_each_sequence_is_run_alone_to_its_own_length(cell, num_layers, bidirectional):
    """What PyTorch's packed sequences give: every sequence's states and last states are
    those of the layer run on it alone, unpadded; past its end the output is zeros."""
    rng = np.random.default_rng(25)
    layer = RNN(3, 4, cell=cell, num_layers=num_layers, bidirectional=bidirectional, rng=0)
    _randomise_biases(layer, rng)
    lengths = [4, 1, 3]
    X = _padded_batch(rng, lengths, 3, T_x=5)
    count = _cell_count(layer)
    a0 = rng.standard_normal(_a0_shape(layer, 3))
    c0 = rng.standard_normal(_a0_shape(layer, 3)) if cell == "lstm" else None
    A, state = layer(X, a0, c0, return_state=True, lengths=np.array(lengths))
    for i, T_i in enumerate(lengths):
        row = (slice(None), slice(i, i + 1)) if count > 1 else (slice(i, i + 1),)
        A_i, state_i = layer(X[i:i + 1, :T_i], a0[row], None if c0 is None else c0[row],
                             return_state=True)
        np.testing.assert_allclose(A.data[i, :T_i], A_i.data[0], rtol=1e-12, atol=1e-14)
        np.testing.assert_array_equal(A.data[i, T_i:], 0.0)
        for last, last_i in zip(state if cell == "lstm" else (state,),
                                state_i if cell == "lstm" else (state_i,)):
            np.testing.assert_allclose(last.data[row], last_i.data, rtol=1e-12, atol=1e-14)


def test_the_padding_changes_neither_values_nor_gradients():
    rng = np.random.default_rng(26)
    layer = RNN(2, 3, cell="lstm", bidirectional=True, num_layers=2, rng=0)
    lengths = [3, 1, 2]
    X = _padded_batch(rng, lengths, 2)
    Y = X.copy()
    for i, T_i in enumerate(lengths):
        Y[i, T_i:] = 1e3
    results = []
    for batch in (X, Y):
        layer.zero_grad()
        Xt = gg.Tensor(batch, requires_grad=True)
        A, (a_last, c_last) = layer(Xt, return_state=True, lengths=lengths)
        ((A * A).sum() + a_last.sum() + (c_last * c_last).sum()).backward()
        results.append([A.data, a_last.data, Xt.grad] + [p.grad for p in layer.parameters()])
    for first, second in zip(*results):
        np.testing.assert_array_equal(first, second)
    for i, T_i in enumerate(lengths):  # nothing flows back to the padding
        np.testing.assert_array_equal(results[0][2][i, T_i:], 0.0)


def test_lengths_all_full_are_no_lengths():
    rng = np.random.default_rng(27)
    layer = RNN(2, 3, cell="gru", bidirectional=True, rng=0)
    X = rng.standard_normal((2, 4, 2))
    np.testing.assert_array_equal(layer(X, lengths=[4, 4]).data, layer(X).data)


@settings(max_examples=15, deadline=None)
@given(lengths=st.lists(st.integers(1, 3), min_size=1, max_size=3),
       n_x=st.integers(1, 2), n_a=st.integers(1, 2), cell=st.sampled_from(["rnn", "lstm", "gru"]),
       bidirectional=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_random_lengths_pass_gradcheck(lengths, n_x, n_a, cell, bidirectional, seed):
    layer = RNN(n_x, n_a, cell=cell, bidirectional=bidirectional, rng=seed)
    rng = np.random.default_rng(seed)
    _randomise_biases(layer, rng)
    m, T_x = len(lengths), 3
    X = rng.standard_normal((m, T_x, n_x))
    a0 = rng.standard_normal(_a0_shape(layer, m))

    def run(X, a0, *params):
        _with_parameters(layer, params)
        A, last = layer(X, a0, return_state=True, lengths=lengths)
        return A, last[0] if cell == "lstm" else last
    assert gg.gradcheck(run, [X, a0, *layer.parameters()])


def test_pad_sequence_pads_at_the_end_and_keeps_gradients():
    a = gg.Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    b = np.array([[7.0, 8.0]])
    X = nn.utils.pad_sequence([a, b], batch_first=True, padding_value=-1.0)
    np.testing.assert_array_equal(X.data, [[[0, 1], [2, 3], [4, 5]],
                                           [[7, 8], [-1, -1], [-1, -1]]])
    (X * np.arange(12.0).reshape(2, 3, 2)).sum().backward()
    np.testing.assert_array_equal(a.grad, np.arange(6.0).reshape(3, 2))
    time_first = nn.utils.pad_sequence([a, b])  # PyTorch's default layout, (T, m, *)
    np.testing.assert_array_equal(time_first.data, np.swapaxes(
        nn.utils.pad_sequence([a, b], batch_first=True).data, 0, 1))
    words = nn.utils.pad_sequence([np.array([1, 2, 3]), np.array([4])], batch_first=True)
    np.testing.assert_array_equal(words.data, [[1, 2, 3], [4, 0, 0]])


def test_pad_sequence_takes_pytorchs_padding_side():
    """padding_side="left" (PyTorch's, since 2.6) pads at the start, a decoder's batch of
    prompts; "right", the default, at the end; anything else is refused naming it. Python
    said "takes from 1 to 3 positional arguments" or "unexpected keyword argument"."""
    a = gg.Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    b = np.array([[7.0, 8.0]])
    X = nn.utils.pad_sequence([a, b], True, -1.0, "left")
    np.testing.assert_array_equal(X.data, [[[0, 1], [2, 3], [4, 5]],
                                           [[-1, -1], [-1, -1], [7, 8]]])
    (X * np.arange(12.0).reshape(2, 3, 2)).sum().backward()
    np.testing.assert_array_equal(a.grad, np.arange(6.0).reshape(3, 2))
    right = nn.utils.pad_sequence([a, b], batch_first=True, padding_side="right")
    np.testing.assert_array_equal(right.data, nn.utils.pad_sequence([a, b], True).data)
    time_first = nn.utils.pad_sequence([a, b], padding_side="left")
    np.testing.assert_array_equal(time_first.data, np.swapaxes(
        nn.utils.pad_sequence([a, b], True, 0.0, "left").data, 0, 1))
    with pytest.raises(gg.ArgumentError, match=r"pad_sequence: padding_side must be 'right' "
                                               r"\(the default\) or 'left', got 'middle'"):
        nn.utils.pad_sequence([a, b], padding_side="middle")


@pytest.mark.parametrize("call, error, message", [
    (lambda: nn.utils.pad_sequence(np.ones((2, 3))), gg.ArgumentError,
     r"pad_sequence takes a list of sequences"),
    (lambda: nn.utils.pad_sequence([]), gg.ArgumentError, r"pad_sequence got no sequences"),
    (lambda: nn.utils.pad_sequence([np.ones((2, 3)), np.ones((2, 4))]), gg.ShapeError,
     r"the same features, got shapes \(2, 3\), \(2, 4\)"),
    (lambda: nn.utils.pad_sequence([np.ones(2)], batch_first=1), gg.ArgumentError,
     r"batch_first must be True or False"),
    (lambda: RNN(2, 3)(np.ones((2, 4, 2)), lengths=[4]), gg.ShapeError,
     r"RNN\(n_x=2, n_a=3, cell='rnn'\): lengths must hold one length per sequence, shape "
     r"\(2,\), got shape \(1,\)"),
    (lambda: RNN(2, 3)(np.ones((2, 4, 2)), lengths=[4, 0]), gg.ArgumentError,
     r"lengths must be in \[1, 4\] .*got \[4, 0\]; a sequence of no steps"),
    (lambda: RNN(2, 3)(np.ones((2, 4, 2)), lengths=[5, 1]), gg.ArgumentError,
     r"lengths must be in \[1, 4\] \(T_x, the padded length of X\)"),
    (lambda: RNN(2, 3)(np.ones((2, 4, 2)), lengths=[2.5, 1]), gg.ArgumentError,
     r"lengths must be whole numbers of time steps, got \[2.5, 1.0\]"),
    (lambda: RNN(2, 3, cell="lstm", nonlinearity="relu"), gg.ArgumentError,
     r"RNN: nonlinearity='relu' is the basic cell's \(cell='rnn'\); the lstm cell's are fixed"),
    (lambda: RNN(2, 3, nonlinearity="sigmoid"), gg.ArgumentError,
     r"RNN: nonlinearity must be 'tanh' \(the course's\) or 'relu', got 'sigmoid'"),
    (lambda: RNN(2, 3, cell="lstm", reset_after=True), gg.ArgumentError,
     r"RNN: reset_after is the GRU cell's \(cell='gru'\), not the lstm cell's"),
    (lambda: GRUCell(2, 3, reset_after=1), gg.ArgumentError,
     r"GRUCell: reset_after must be True or False"),
    (lambda: RNN(2, 3, num_layers=2, dropout=1.0), gg.ArgumentError,
     r"RNN: dropout is the probability of dropping a unit .* in \[0, 1\), got 1.0"),
])
def test_bad_lengths_and_settings_say_what_to_give(call, error, message):
    with pytest.raises(error, match=message):
        call()
@pytest.mark.parametrize("num_layers", [1, 2])
def test_an_lstms_state_given_back_as_one_tuple_is_refused_saying_to_unpack_it(num_layers):
    """PyTorch's word-language model writes output, hidden = rnn(emb, hidden): the state that
    return_state=True gives, (a_last, c_last), is passed back unpacked here."""
    layer = RNN(3, 4, cell="lstm", num_layers=num_layers, rng=0)
    X = np.random.default_rng(0).standard_normal((2, 5, 3))
    A, state = layer(X[:, :3], return_state=True)
    with pytest.raises(gg.ArgumentError, match=(
            r"RNN\(n_x=3, n_a=4, cell='lstm'.*\) takes the first hidden state a0 and memory "
            r"cell c0 as two arguments, got a0 = a tuple of two states.*PyTorch's LSTM takes "
            r"\(h0, c0\) as one tuple: here layer\(X, \*state\)")):
        layer(X[:, 3:], state)
    whole = layer(X)
    np.testing.assert_allclose(layer(X[:, 3:], *state).data, whole.data[:, 3:], rtol=1e-12)
    if num_layers == 2:  # a tuple of the two layers' first states is still a0 alone
        a0 = (np.full((2, 4), 0.5), np.full((2, 4), -0.5))
        np.testing.assert_array_equal(layer(X, a0).data, layer(X, np.stack(a0)).data)
