"""PyTorch's recurrent layers by their names, without PyTorch: nn.LSTM and nn.GRU against
nn.RNN (layout, states' shapes), PyTorch-shaped weights loaded into them and into nn.RNN
against the course's cells computed by hand, and their errors. tests/test_against_torch.py
checks them against torch itself."""
import numpy as np
import pytest

import graphgrad as gg
from graphgrad import nn


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _torch_like_weights(rng, kind, n_x, n_a, num_layers=1, bidirectional=False, bias=True):
    """A state dict as PyTorch's nn.LSTM / nn.GRU / nn.RNN of these settings has it."""
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[kind]
    state = {}
    for l in range(num_layers):
        n_in = n_x if l == 0 else n_a * (2 if bidirectional else 1)
        for suffix in ("", "_reverse") if bidirectional else ("",):
            state[f"weight_ih_l{l}{suffix}"] = rng.standard_normal((gates * n_a, n_in)) * 0.5
            state[f"weight_hh_l{l}{suffix}"] = rng.standard_normal((gates * n_a, n_a)) * 0.5
            if bias:
                state[f"bias_ih_l{l}{suffix}"] = rng.standard_normal(gates * n_a) * 0.5
                state[f"bias_hh_l{l}{suffix}"] = rng.standard_normal(gates * n_a) * 0.5
    return state


def _torch_step(kind, state, x, h, c, n_a, suffix="l0"):
    """PyTorch's documented formulas for one step, in numpy."""
    W_ih, W_hh = state[f"weight_ih_{suffix}"], state[f"weight_hh_{suffix}"]
    b_ih = state.get(f"bias_ih_{suffix}", np.zeros(W_ih.shape[0]))
    b_hh = state.get(f"bias_hh_{suffix}", np.zeros(W_ih.shape[0]))
    gi, gh = x @ W_ih.T + b_ih, h @ W_hh.T + b_hh
    if kind == "rnn":
        return np.tanh(gi + gh), None
    chunks = [slice(k * n_a, (k + 1) * n_a) for k in range(W_ih.shape[0] // n_a)]
    if kind == "lstm":
        i, f, g, o = (gi[:, s] + gh[:, s] for s in chunks)
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        return _sigmoid(o) * np.tanh(c), c
    r = _sigmoid(gi[:, chunks[0]] + gh[:, chunks[0]])
    z = _sigmoid(gi[:, chunks[1]] + gh[:, chunks[1]])
    n = np.tanh(gi[:, chunks[2]] + r * gh[:, chunks[2]])
    return (1 - z) * n + z * h, None


@pytest.mark.parametrize("kind, bias", [("rnn", True), ("lstm", True), ("gru", True),
                                        ("lstm", False), ("gru", False)])
def test_pytorch_weights_load_into_the_course_cells_exactly(kind, bias):
    rng = np.random.default_rng(0)
    n_x, n_a, m, T_x = 3, 4, 2, 3
    state = _torch_like_weights(rng, kind, n_x, n_a, bias=bias)
    layer = nn.RNN(n_x, n_a, cell=kind, rng=0, **({"reset_after": True} if kind == "gru" else {}))
    layer.load_torch_state_dict(state)
    X = rng.standard_normal((m, T_x, n_x))
    h = rng.standard_normal((m, n_a))
    c = rng.standard_normal((m, n_a))
    expected = []
    h_t, c_t = h, c
    for t in range(T_x):
        h_t, c_t = _torch_step(kind, state, X[:, t], h_t, c_t, n_a)
        expected.append(h_t)
    A = layer(X, h, c if kind == "lstm" else None)
    np.testing.assert_allclose(A.data, np.stack(expected, axis=1), rtol=1e-12, atol=1e-14)


def test_a_two_layer_bidirectional_state_dict_loads_cell_by_cell():
    rng = np.random.default_rng(1)
    state = _torch_like_weights(rng, "lstm", 3, 2, num_layers=2, bidirectional=True)
    layer = nn.LSTM(3, 2, num_layers=2, bidirectional=True, batch_first=True)
    layer.load_torch_state_dict(state)
    cell = layer.cell_l1_reverse
    # rows i, f, g, o of PyTorch's; columns [h; x] of the course's
    np.testing.assert_array_equal(cell.Wf[:, :2].data, state["weight_hh_l1_reverse"][2:4])
    np.testing.assert_array_equal(cell.Wf[:, 2:].data, state["weight_ih_l1_reverse"][2:4])
    np.testing.assert_allclose(cell.bu.data, state["bias_ih_l1_reverse"][:2]
                               + state["bias_hh_l1_reverse"][:2], rtol=1e-15)


def test_lstm_is_rnn_with_pytorchs_layout_and_states():
    rng = np.random.default_rng(2)
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True, rng=0)
    layer = nn.RNN(3, 4, cell="lstm", num_layers=2, bidirectional=True, rng=0)
    X = rng.standard_normal((5, 2, 3))  # (T_x, m, n_x): PyTorch's default layout
    h0, c0 = rng.standard_normal((4, 2, 4)), rng.standard_normal((4, 2, 4))
    out, (h_n, c_n) = lstm(X, (h0, c0))
    A, (a_last, c_last) = layer(X.swapaxes(0, 1), h0, c0, return_state=True)
    np.testing.assert_array_equal(out.data, A.data.swapaxes(0, 1))
    np.testing.assert_array_equal(h_n.data, a_last.data)
    np.testing.assert_array_equal(c_n.data, c_last.data)
    assert out.shape == (5, 2, 8) and h_n.shape == (4, 2, 4)
    assert (lstm.input_size, lstm.hidden_size) == (3, 4)


def test_gru_one_layer_takes_and_gives_states_of_one_cell_in_pytorchs_shape():
    rng = np.random.default_rng(3)
    gru = nn.GRU(3, 4, batch_first=True, rng=0)
    layer = nn.RNN(3, 4, cell="gru", reset_after=True, rng=0)
    X, h0 = rng.standard_normal((2, 5, 3)), rng.standard_normal((1, 2, 4))
    out, h_n = gru(X, h0)
    A, a_last = layer(X, h0[0], return_state=True)
    np.testing.assert_array_equal(out.data, A.data)
    assert h_n.shape == (1, 2, 4)
    np.testing.assert_array_equal(h_n.data[0], a_last.data)
    Xt = gg.Tensor(X, requires_grad=True)
    h0t = gg.Tensor(h0, requires_grad=True)
    out, h_n = gru(Xt, h0t, lengths=[5, 2])
    (out.sum() + (h_n * h_n).sum()).backward()
    assert h0t.grad.shape == (1, 2, 4) and np.abs(h0t.grad).min() > 0
    np.testing.assert_array_equal(Xt.grad[1, 2:], 0.0)


def test_lstm_gradcheck_time_first_with_lengths():
    rng = np.random.default_rng(4)
    lstm = nn.LSTM(2, 3, num_layers=2, bidirectional=True, rng=0)
    X = rng.standard_normal((3, 2, 2))
    h0, c0 = rng.standard_normal((4, 2, 3)), rng.standard_normal((4, 2, 3))

    def run(X, h0, c0):
        out, (h_n, c_n) = lstm(X, (h0, c0), lengths=[3, 1])
        return out, h_n, c_n
    assert gg.gradcheck(run, [X, h0, c0])


def test_reprs_are_pytorchs():
    assert repr(nn.LSTM(3, 4, num_layers=2, batch_first=True, dropout=0.2,
                        bidirectional=True)).startswith(
        "LSTM(3, 4, num_layers=2, batch_first=True, dropout=0.2, bidirectional=True")
    assert repr(nn.GRU(3, 4)).startswith("GRU(3, 4  #")


@pytest.mark.parametrize("call, error, message", [
    (lambda: nn.RNN(3, 4, cell="gru").load_torch_state_dict({}), gg.ArgumentError,
     r"this GRU is the course's.*Make the layer with reset_after=True \(nn.GRU does\)"),
    (lambda: nn.LSTM(3, 4).load_torch_state_dict(
        {"lstm." + k: v for k, v in _torch_like_weights(np.random.default_rng(0), "lstm", 3,
                                                        4).items()}),
     gg.nn.StateDictError, r"missing keys \['weight_ih_l0', 'weight_hh_l0'\].*a whole model's"),
    (lambda: nn.LSTM(3, 4, num_layers=2).load_torch_state_dict(
        _torch_like_weights(np.random.default_rng(0), "lstm", 3, 4)),
     gg.nn.StateDictError, r"missing keys \['weight_ih_l1', 'weight_hh_l1', 'bias_ih_l1'"),
    (lambda: nn.GRU(3, 4).load_torch_state_dict(
        _torch_like_weights(np.random.default_rng(0), "lstm", 3, 4)),
     gg.nn.StateDictError, r"weight_ih for cell \(n_x=3, n_a=4\) must have shape \(12, 3\), "
                           r"got \(16, 3\)"),
    (lambda: nn.GRU(3, 4, proj_size=2), gg.ArgumentError,
     r"GRU: proj_size is LSTM's .* leave it out"),
    (lambda: nn.LSTM(3, 4, proj_size=4), gg.ArgumentError,
     r"LSTMCell: proj_size=4 must be smaller than n_a=4"),
    (lambda: nn.LSTM(3, 4, bias=False).load_torch_state_dict(
        _torch_like_weights(np.random.default_rng(0), "lstm", 3, 4)),
     gg.nn.StateDictError, r"unexpected keys \['bias_hh_l0', 'bias_ih_l0'\].* this one was made "
                           r"with bias=False"),
    (lambda: nn.LSTM(3, 4, proj_size=2).load_torch_state_dict(
        _torch_like_weights(np.random.default_rng(0), "lstm", 3, 4)),
     gg.nn.StateDictError, r"missing keys \['weight_hr_l0'\].*proj_size"),
    (lambda: nn.LSTM(3, 4, batch_first=None), gg.ArgumentError,
     r"LSTM: batch_first must be True or False, got None"),
    (lambda: nn.LSTM(3, 4)(np.ones((5, 2))), gg.ShapeError,
     r"takes X of shape \(T_x, 3\); got ndarray \(5, 2\) float64 \(one sequence; a batch "
     r"is 3-D\)"),
    (lambda: nn.LSTM(3, 4)(np.ones((5, 3)), (np.zeros((1, 1, 4)), np.zeros((1, 1, 4)))),
     gg.ShapeError, r"h0 of shape \(1, 4\).*\(num_layers \* D, hidden_size\) for one "
                    r"sequence X \(T_x, n_x\)"),
    (lambda: nn.GRU(3, 4)(np.ones((5, 3)), lengths=[5]), gg.ArgumentError,
     r"lengths are those of a batch of sequences, and X of shape \(5, 3\) is one sequence"),
    (lambda: nn.LSTM(3, 4)(np.ones((5, 2, 3)), np.zeros((1, 2, 4))), gg.ArgumentError,
     r"hx is the pair \(h0, c0\)"),
    (lambda: nn.GRU(3, 4)(np.ones((5, 2, 3)), np.zeros((2, 4))), gg.ShapeError,
     r"h0 .*\(num_layers \* D, m, hidden_size\), as PyTorch's"),
])
def test_errors_say_what_to_give(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_a_refused_state_dict_changes_nothing():
    layer = nn.LSTM(3, 4, num_layers=2, rng=0)
    before = [p.data.copy() for p in layer.parameters()]
    state = _torch_like_weights(np.random.default_rng(5), "lstm", 3, 4, num_layers=2)
    state["weight_hh_l1"] = state["weight_hh_l1"][:, :3]
    with pytest.raises(gg.nn.StateDictError, match="weight_hh for cell_l1"):
        layer.load_torch_state_dict(state)
    for p, b in zip(layer.parameters(), before):
        np.testing.assert_array_equal(p.data, b)


@pytest.mark.parametrize("layer", [nn.LSTM, nn.GRU, nn.RNN])
def test_dropout_with_one_layer_warns_naming_the_layer_at_the_users_line(layer):
    """nn.LSTM(3, 4, dropout=0.2), one layer, warns that the dropout changes nothing as
    nn.RNN does, naming LSTM (not RNN) and pointing at the line that made it, not at
    graphgrad's own."""
    with pytest.warns(UserWarning) as record:
        layer(3, 4, dropout=0.2)
    assert len(record) == 1
    message = str(record[0].message)
    assert message.startswith(f"{layer.__name__}(dropout=0.2) drops units between layers")
    assert record[0].filename == __file__


@pytest.mark.parametrize("layer", [nn.LSTM, nn.GRU])
def test_a_wrong_x_is_named_in_the_layout_it_was_given(layer):
    """With batch_first=False (PyTorch's default), X is (T_x, m, n_x): an X of the wrong
    n_x, or of no time steps, is named with the shape it was given and that layout, where the
    error showed it with its first two axes swapped, (m, T_x, n_x)."""
    with pytest.raises(gg.ShapeError,
                       match=r"takes X of shape \(T_x, m, 3\); got ndarray \(5, 2, 7\)"):
        layer(3, 4)(np.zeros((5, 2, 7)))
    with pytest.raises(gg.ShapeError,
                       match=r"takes X of shape \(m, T_x, 3\); got ndarray \(5, 2, 7\)"):
        layer(3, 4, batch_first=True)(np.zeros((5, 2, 7)))
    with pytest.raises(gg.ShapeError, match=r"got X of shape \(0, 2, 3\): a sequence of no"):
        layer(3, 4)(np.zeros((0, 2, 3)))
    with pytest.raises(gg.ShapeError, match=r"got X of shape \(0, 3\): a sequence of no"):
        layer(3, 4)(np.zeros((0, 3)))



@pytest.mark.parametrize("kind", ["rnn", "gru", "lstm"])
def test_load_torch_state_dict_leaves_a_graph_recorded_before_as_it_was(kind):
    """The weights are new arrays, as load_state_dict and an optimizer's step give them: a
    cost computed before backpropagates through the values it was computed from. They were
    written into the old arrays, which a graph alive holds read-only: the basic cell's raised
    numpy's "assignment destination is read-only"."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((2, 5, 3))
    options = {"reset_after": True} if kind == "gru" else {}
    layer, twin = nn.RNN(3, 4, kind, rng=0, **options), nn.RNN(3, 4, kind, rng=0, **options)
    J = (layer(X) ** 2).sum()
    (twin(X) ** 2).sum().backward()
    old = [p.data.copy() for p in layer.parameters()]
    layer.load_torch_state_dict(_torch_like_weights(rng, kind, 3, 4))
    J.backward()
    for p, q, before in zip(layer.parameters(), twin.parameters(), old):
        np.testing.assert_array_equal(p.grad, q.grad)
        np.testing.assert_array_equal(q.data, before)
        assert p.data.dtype == np.float64 and not np.array_equal(p.data, before)


@pytest.mark.parametrize("make, message", [
    (lambda: nn.LSTM(3, 0), r"^LSTM: hidden_size must be a whole number of at least 1, got 0"),
    (lambda: nn.GRU(2.5, 4), r"^GRU: input_size must be a whole number of at least 1, got 2.5"),
    (lambda: nn.LSTM(3, 4, 0), r"^LSTM: num_layers must be a whole number"),
    (lambda: nn.GRU(3, 4, 2, dropout=1.0), r"^GRU: dropout is the probability of dropping"),
    (lambda: nn.LSTM(3, 4, rng="a"), r"^LSTM: rng must be None, a seed"),
], ids=["hidden_size", "input_size", "num_layers", "dropout", "rng"])
def test_settings_refused_are_named_as_pytorchs(make, message):
    """nn.LSTM's and nn.GRU's refused settings name the layer and PyTorch's argument, where
    they said RNN: and n_a."""
    with pytest.raises(gg.ArgumentError, match=message):
        make()


def test_load_state_dict_given_pytorchs_recurrent_weights_says_to_load_them_so():
    """nn.LSTM's load_state_dict given a PyTorch LSTM's state dict (weight_ih_l0, ...), and a
    model's given keys lstm.weight_ih_l0, ..., say which method loads them: their keys are
    PyTorch's names, which only load_torch_state_dict maps onto the cells'."""
    state = _torch_like_weights(np.random.default_rng(0), "lstm", 3, 4)
    with pytest.raises(nn.StateDictError,
                       match=r"PyTorch's .*layer\.load_torch_state_dict\(state_dict\)"):
        nn.LSTM(3, 4).load_state_dict(state)
    model = nn.Sequential(nn.LSTM(3, 4))
    with pytest.raises(nn.StateDictError, match=r"load_torch_state_dict"):
        model.load_state_dict({f"lstm.{k}": v for k, v in state.items()})
    with pytest.raises(nn.StateDictError) as refused:
        nn.LSTM(3, 4).load_state_dict({"cell.Wx": np.zeros(2)})
    assert "load_torch_state_dict" not in str(refused.value)


@pytest.mark.parametrize("layer", [nn.LSTM, nn.GRU])
def test_flatten_parameters_is_taken_and_changes_nothing(layer):
    """PyTorch models call self.lstm.flatten_parameters() in forward (cuDNN's layout of the
    weights in one block): it raised AttributeError; it is taken, and the parameters, their
    arrays and the outputs stay as they were."""
    rnn = layer(3, 4, 2, rng=0)
    X = np.random.default_rng(0).standard_normal((5, 2, 3))
    before = rnn(X)[0].data
    arrays = [p.data for p in rnn.parameters()]
    assert rnn.flatten_parameters() is None
    assert all(p.data is a for p, a in zip(rnn.parameters(), arrays))
    np.testing.assert_array_equal(rnn(X)[0].data, before)


def _lstmp_step(state, x, h, c, n_a, suffix="l0"):
    """PyTorch's LSTM with projections, one step in numpy: h = W_hr (o * tanh(c))."""
    h_full, c = _torch_step("lstm", state, x, h, c, n_a, suffix)
    return h_full @ state[f"weight_hr_{suffix}"].T, c


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_bias_false_makes_cells_without_biases_that_load_pytorchs_weights(kind):
    """nn.LSTM / nn.GRU(bias=False), PyTorch's layers without b_ih and b_hh: the cells have
    weights only (bias=False was refused), a PyTorch state dict without biases loads into
    them, and they compute PyTorch's formulas."""
    rng = np.random.default_rng(7)
    n_x, n_a, m, T_x = 3, 4, 2, 3
    layer = getattr(nn, kind.upper())(n_x, n_a, bias=False, batch_first=True, rng=0)
    names = [name for name, _ in layer.named_parameters()]
    expected = {"lstm": ["cell.Wf", "cell.Wu", "cell.Wc", "cell.Wo"],
                "gru": ["cell.Wr", "cell.Wu", "cell.Wc"]}[kind]
    assert names == expected and layer.bias is False
    state = _torch_like_weights(rng, kind, n_x, n_a, bias=False)
    layer.load_torch_state_dict(state)
    X, h = rng.standard_normal((m, T_x, n_x)), rng.standard_normal((m, n_a))
    c = rng.standard_normal((m, n_a))
    h_t, c_t, expected_out = h, c, []
    for t in range(T_x):
        h_t, c_t = _torch_step(kind, state, X[:, t], h_t, c_t, n_a)
        expected_out.append(h_t)
    hx = (h[None], c[None]) if kind == "lstm" else h[None]
    out = layer(X, hx)[0]
    np.testing.assert_allclose(out.data, np.stack(expected_out, axis=1), rtol=1e-12,
                               atol=1e-14)


def test_bias_false_gradcheck_two_layers_both_ways():
    rng = np.random.default_rng(8)
    lstm = nn.LSTM(2, 3, num_layers=2, bidirectional=True, bias=False, rng=0)
    gru = nn.GRU(2, 3, bias=False, rng=0)
    X = rng.standard_normal((3, 2, 2))
    h0 = rng.standard_normal((4, 2, 3))

    def run(X, h0):
        out, (h_n, c_n) = lstm(X, (h0, h0))
        return out, h_n, c_n, gru(out[..., :2], h0[:1])[0]
    assert gg.gradcheck(run, [X, h0])


def test_proj_size_is_pytorchs_lstm_with_projections():
    """nn.LSTM(proj_size=r), PyTorch's LSTMP: the state h = W_hr (o * tanh(c)) of size r is
    the output, h_n and what the gates read; c stays hidden_size. It was refused."""
    rng = np.random.default_rng(9)
    n_x, n_a, r, m, T_x = 3, 5, 2, 2, 4
    state = _torch_like_weights(rng, "lstm", n_x, n_a)
    state["weight_hh_l0"] = state["weight_hh_l0"][:, :r]  # (4 n_a, r): the gates read h
    state["weight_hr_l0"] = rng.standard_normal((r, n_a)) * 0.5
    lstm = nn.LSTM(n_x, n_a, proj_size=r, rng=0)
    assert lstm.proj_size == r and lstm.cell.Whr.shape == (r, n_a)
    assert lstm.cell.Wf.shape == (n_a, r + n_x)
    lstm.load_torch_state_dict(state)
    np.testing.assert_array_equal(lstm.cell.Whr.data, state["weight_hr_l0"])
    X = rng.standard_normal((T_x, m, n_x))
    h0, c0 = rng.standard_normal((1, m, r)), rng.standard_normal((1, m, n_a))
    out, (h_n, c_n) = lstm(X, (h0, c0))
    h, c, expected = h0[0], c0[0], []
    for t in range(T_x):
        h, c = _lstmp_step(state, X[t], h, c, n_a)
        expected.append(h)
    assert out.shape == (T_x, m, r) and h_n.shape == (1, m, r) and c_n.shape == (1, m, n_a)
    np.testing.assert_allclose(out.data, np.stack(expected), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(h_n.data[0], h, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(c_n.data[0], c, rtol=1e-12, atol=1e-14)


def test_proj_size_stacks_layers_on_the_projected_states_and_gradchecks():
    rng = np.random.default_rng(10)
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2, rng=0)
    assert lstm.cell_l1.n_x == 4 and lstm.cell_l1_reverse.Wf.shape == (4, 2 + 4)
    assert repr(lstm).startswith("LSTM(3, 4, proj_size=2, num_layers=2, bidirectional=True")
    X = rng.standard_normal((3, 2, 3))
    h0, c0 = rng.standard_normal((4, 2, 2)), rng.standard_normal((4, 2, 4))

    def run(X, h0, c0):
        out, (h_n, c_n) = lstm(X, (h0, c0), lengths=[3, 2])
        return out, h_n, c_n
    out, h_n, c_n = run(X, h0, c0)
    assert (out.shape, h_n.shape, c_n.shape) == ((3, 2, 4), (4, 2, 2), (4, 2, 4))
    assert gg.gradcheck(run, [X, h0, c0])
    with pytest.raises(gg.ShapeError, match=r"h0 .*\(num_layers \* D, m, proj_size\)"):
        lstm(X, (c0, c0))


@pytest.mark.parametrize("layer, batch_first", [(nn.LSTM, False), (nn.GRU, True),
                                                (nn.LSTM, True)])
def test_one_sequence_unbatched_gives_states_without_the_batch_axis(layer, batch_first):
    """X (T_x, n_x), PyTorch's unbatched input (batch_first or not): output (T_x, D * H) and
    h_n (num_layers * D, H), h0 (num_layers * D, H), as the batch of one X[:, None] gives them
    with the batch axis dropped. It was refused."""
    rng = np.random.default_rng(11)
    rnn = layer(3, 4, num_layers=2, bidirectional=True, batch_first=batch_first, rng=0)
    X, h0 = rng.standard_normal((5, 3)), rng.standard_normal((4, 4))
    hx = (h0, h0 + 1) if layer is nn.LSTM else h0
    hx_batch = (h0[:, None], h0[:, None] + 1) if layer is nn.LSTM else h0[:, None]
    out, h_n = rnn(X, hx)
    out_b, h_b = rnn(X[None] if batch_first else X[:, None], hx_batch)
    assert out.shape == (5, 8)
    np.testing.assert_array_equal(out.data, out_b.data[0] if batch_first else out_b.data[:, 0])
    if layer is nn.LSTM:
        assert h_n[0].shape == h_n[1].shape == (4, 4)
        np.testing.assert_array_equal(h_n[1].data, h_b[1].data[:, 0])
        h_n, h_b = h_n[0], h_b[0]
    assert h_n.shape == (4, 4)
    np.testing.assert_array_equal(h_n.data, h_b.data[:, 0])
    one = layer(3, 4, rng=0)
    assert one(X)[0].shape == (5, 4)
    assert gg.gradcheck(lambda X, h0: one(X, (h0, h0) if layer is nn.LSTM else h0)[0],
                        [X, h0[:1]])
