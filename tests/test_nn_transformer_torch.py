"""PyTorch's attention and Transformer encoder layers (nn.transformer_torch): outputs, weights
and gradients against numpy by hand on tiny cases, PyTorch's layouts and masks (True hides a
key, floats are added), gradient checks in float64, the course's names making PyTorch's
layers when called as PyTorch's, loading a state dict and the errors. Comparisons with torch
itself are in test_against_torch.py."""
import copy
import pickle

import numpy as np
import pytest
from course_attention import layer_norm_numpy, of_inputs_and_parameters, softmax_numpy

import graphgrad as gg
from graphgrad import nn


def _randomise(module, rng):
    for p in module.parameters():
        p.data = rng.standard_normal(p.shape) * 0.5


def mha_numpy(q, k, v, W_in, b_in, W_o, b_o, h, hidden=None, added=None):
    """PyTorch's multi-head attention on batch-first arrays: q (N, L, E), k, v (N, S, E);
    hidden booleans (True: hidden) and added floats broadcasting to (N, h, L, S). Returns the
    output (N, L, E) and the weights (N, h, L, S)."""
    N, L, E = q.shape
    S = k.shape[1]
    d = E // h
    W = np.split(W_in, 3)
    b = np.split(b_in, 3)

    def heads(x, i):
        return (x @ W[i].T + b[i]).reshape(N, x.shape[1], h, d).transpose(0, 2, 1, 3)

    scores = heads(q, 0) @ heads(k, 1).transpose(0, 1, 3, 2) / np.sqrt(d)
    if added is not None:
        scores = scores + added
    if hidden is not None:
        scores = np.where(hidden, -np.inf, scores)
    weights = softmax_numpy(scores)
    out = (weights @ heads(v, 2)).transpose(0, 2, 1, 3).reshape(N, L, E)
    assert S == v.shape[1]
    return out @ W_o.T + b_o, weights


def _arrays(mha):
    return (mha.in_proj_weight.data, mha.in_proj_bias.data, mha.out_proj.W.data,
            mha.out_proj.b.data)


# -- MultiheadAttention ---------------------------------------------------------------------------
@pytest.mark.parametrize("batch_first", [False, True])
def test_multihead_attention_by_hand_with_both_masks(batch_first):
    rng = np.random.default_rng(0)
    mha = nn.MultiheadAttention(4, 2, batch_first=batch_first, rng=0)
    _randomise(mha, rng)
    q, k, v = (rng.standard_normal((2, n, 4)) for n in (3, 5, 5))  # batch-first
    padding = np.array([[False] * 5, [False, False, False, True, True]])
    attn = rng.standard_normal((3, 5))  # float: added to every head's scores
    expected, weights = mha_numpy(q, k, v, *_arrays(mha), 2, padding[:, None, None],
                                  attn)
    inputs = (q, k, v) if batch_first else (x.swapaxes(0, 1) for x in (q, k, v))
    out, averaged = mha(*inputs, key_padding_mask=padding, attn_mask=attn)
    got = out.data if batch_first else out.data.swapaxes(0, 1)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(averaged.data, weights.mean(axis=1), rtol=1e-12, atol=1e-14)
    assert (averaged.data[1, :, 3:] == 0).all()  # hidden keys: exactly no weight
    _, per_head = mha(*(inputs if batch_first else (x.swapaxes(0, 1) for x in (q, k, v))),
                      key_padding_mask=padding, attn_mask=attn, average_attn_weights=False)
    np.testing.assert_allclose(per_head.data, weights, rtol=1e-12, atol=1e-14)


def test_multihead_attention_boolean_mask_hides_and_float_mask_adds():
    rng = np.random.default_rng(1)
    mha = nn.MultiheadAttention(4, 1, batch_first=True, rng=0)
    X = rng.standard_normal((1, 4, 4))
    causal = np.triu(np.ones((4, 4), bool), 1)  # PyTorch's: True above the diagonal hides
    out_bool, w_bool = mha(X, X, X, attn_mask=causal)
    out_float, w_float = mha(X, X, X, attn_mask=np.where(causal, -np.inf, 0.0))
    out_causal, w_causal = mha(X, X, X, is_causal=True)
    assert np.allclose(np.triu(w_bool.data[0], 1), 0) and (np.triu(w_bool.data[0], 1) == 0).all()
    np.testing.assert_allclose(w_bool.data[0, 0], [1, 0, 0, 0])  # the first sees only itself
    for out, w in ((out_float, w_float), (out_causal, w_causal)):
        np.testing.assert_allclose(out.data, out_bool.data, rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(w.data, w_bool.data, rtol=1e-13, atol=1e-15)
    # a float mask is added: + log 2 on one key doubles its unnormalised weight
    _, plain = mha(X, X, X)
    bump = np.zeros((4, 4))
    bump[:, 2] = np.log(2.0)
    _, bumped = mha(X, X, X, attn_mask=bump)
    ratio = (bumped.data / plain.data)[0]
    np.testing.assert_allclose(ratio[:, 2] / ratio[:, 0], 2.0, rtol=1e-12)


def test_multihead_attention_per_head_mask_and_unbatched():
    rng = np.random.default_rng(2)
    mha = nn.MultiheadAttention(4, 2, rng=0)
    _randomise(mha, rng)
    x = rng.standard_normal((3, 4))  # one sequence (L, E)
    hide = rng.random((2, 3, 3)) < 0.4
    hide[..., 0] = False
    expected, weights = mha_numpy(x[None], x[None], x[None], *_arrays(mha), 2, hide[None])
    out, w = mha(x, x, x, attn_mask=hide, average_attn_weights=False)
    assert out.shape == (3, 4) and w.shape == (2, 3, 3)
    np.testing.assert_allclose(out.data, expected[0], rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(w.data, weights[0], rtol=1e-12, atol=1e-14)
    # (N * h, L, S) for a batch: sequence n's heads are rows n h .. (n + 1) h
    X = rng.standard_normal((3, 2, 4))  # (L, N, E)
    per = rng.random((4, 3, 3)) < 0.4
    per[..., 1] = False
    expected, _ = mha_numpy(*(X.swapaxes(0, 1),) * 3, *_arrays(mha), 2, per.reshape(2, 2, 3, 3))
    np.testing.assert_allclose(mha(X, X, X, attn_mask=per)[0].data.swapaxes(0, 1), expected,
                               rtol=1e-12, atol=1e-13)


def test_multihead_attention_kdim_vdim_and_no_weights():
    rng = np.random.default_rng(3)
    mha = nn.MultiheadAttention(4, 2, kdim=3, vdim=5, batch_first=True, rng=0)
    assert mha.q_proj_weight.shape == (4, 4) and mha.k_proj_weight.shape == (4, 3)
    assert mha.v_proj_weight.shape == (4, 5) and "in_proj_weight" not in dict(
        mha.named_parameters())
    _randomise(mha, rng)
    q, k, v = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 2, 3)), \
        rng.standard_normal((2, 2, 5))
    expected_heads = []
    for x, Wx, b in ((q, mha.q_proj_weight, 0), (k, mha.k_proj_weight, 1),
                     (v, mha.v_proj_weight, 2)):
        expected_heads.append(x @ Wx.data.T + mha.in_proj_bias.data[4 * b:4 * b + 4])
    qh, kh, vh = (e.reshape(2, -1, 2, 2).transpose(0, 2, 1, 3) for e in expected_heads)
    weights = softmax_numpy(qh @ kh.transpose(0, 1, 3, 2) / np.sqrt(2))
    expected = (weights @ vh).transpose(0, 2, 1, 3).reshape(2, 3, 4) @ mha.out_proj.W.data.T \
        + mha.out_proj.b.data
    out, none = mha(q, k, v, need_weights=False)
    assert none is None
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-13)


def test_multihead_attention_gradcheck_float64():
    rng = np.random.default_rng(4)
    mha = nn.MultiheadAttention(4, 2, rng=0)
    _randomise(mha, rng)
    X = rng.standard_normal((3, 2, 4))
    padding = np.array([[False, False, True], [False, False, False]])

    fn = of_inputs_and_parameters(mha, 3, key_padding_mask=padding,
                                  attn_mask=rng.standard_normal((3, 3)))
    result = gg.gradcheck(lambda *a: fn(*a)[0], [X, X.copy(), X.copy(), *mha.parameters()])
    assert result.passed


def test_multihead_attention_gradient_by_hand_of_one_head():
    """One head, E = 1, no biases, identity projections: out_t = sum_s w_ts x_s with
    w_ts = softmax_s(x_t x_s); d(sum_t out_t)/dx checked against central differences done
    here in numpy."""
    mha = nn.MultiheadAttention(1, 1, bias=False, batch_first=True, rng=0)
    mha.in_proj_weight.data = np.ones((3, 1))
    mha.out_proj.W.data = np.ones((1, 1))
    x = np.array([0.3, -1.2, 0.8])

    def f(x):
        w = softmax_numpy(np.outer(x, x))
        return (w @ x).sum()

    X = gg.Tensor(x.reshape(1, 3, 1), requires_grad=True)
    out, _ = mha(X, X, X)
    np.testing.assert_allclose(out.data.ravel(), softmax_numpy(np.outer(x, x)) @ x, rtol=1e-13)
    out.sum().backward()
    numeric = [(f(x + e) - f(x - e)) / 2e-6 for e in np.eye(3) * 1e-6]
    np.testing.assert_allclose(X.grad.ravel(), numeric, rtol=1e-7)


def test_multihead_attention_errors_name_the_layer_and_the_fix():
    mha = nn.MultiheadAttention(4, 2, rng=0)
    X = np.zeros((3, 2, 4))
    with pytest.raises(gg.GraphgradTypeError, match=r"MultiheadAttention.*astype\(bool\)"):
        mha(X, X, X, key_padding_mask=np.zeros((2, 3), int))
    with pytest.raises(gg.ShapeError, match=r"key_padding_mask must have shape \(N, S\)"):
        mha(X, X, X, key_padding_mask=np.zeros((3, 2), bool))
    with pytest.raises(gg.ShapeError, match=r"attn_mask must have shape \(L, S\) = \(3, 3\)"):
        mha(X, X, X, attn_mask=np.zeros((2, 3), bool))
    with pytest.raises(gg.ShapeError, match=r"or \(N \* num_heads, L, S\) = \(4, 3, 3\)"):
        mha(X, X, X, attn_mask=np.zeros((2, 3, 3), bool))  # (h, L, S) is one sequence's
    with pytest.raises(gg.ShapeError, match=r"batch_first=False: \(T, N, features\)"):
        mha(X, X, np.zeros((3, 2, 5)))
    with pytest.raises(gg.ArgumentError, match="divisible by num_heads"):
        nn.MultiheadAttention(5, 2)
    with pytest.raises(gg.ArgumentError, match="add_bias_kv"):
        nn.MultiheadAttention(4, 2, add_bias_kv=True)


def test_multihead_attention_dropout_in_training_only():
    mha = nn.MultiheadAttention(4, 1, dropout=0.5, batch_first=True, rng=0)
    X = np.random.default_rng(5).standard_normal((2, 6, 4))
    _, w_train = mha(X, X, X)
    assert {0.0} < set(np.unique(np.round(w_train.data, 12))) and (w_train.data == 0).any()
    mha.eval()
    _, w_eval = mha(X, X, X)
    np.testing.assert_allclose(w_eval.data.sum(-1), 1.0)
    assert (w_eval.data > 0).all()


# -- TransformerEncoderLayer and TransformerEncoder, PyTorch's -------------------------------------
def encoder_layer_numpy(x, layer, mask=None, norm_first=False, gelu=False):
    """PyTorch's encoder layer in eval mode on batch-first x (N, T, E), by hand."""
    a = layer.self_attn
    mha = (a.in_proj_weight.data, a.in_proj_bias.data, a.out_proj.W.data, a.out_proj.b.data)
    n1 = (layer.norm1.gamma.data, layer.norm1.beta.data, layer.norm1.eps)
    n2 = (layer.norm2.gamma.data, layer.norm2.beta.data, layer.norm2.eps)

    def sa(y):
        return mha_numpy(y, y, y, *mha, a.num_heads, mask)[0]

    def ff(y):
        z = y @ layer.linear1.W.data.T + layer.linear1.b.data
        if gelu:
            from math import erf
            z = z * 0.5 * (1 + np.vectorize(erf)(z / np.sqrt(2)))
        else:
            z = np.maximum(z, 0)
        return z @ layer.linear2.W.data.T + layer.linear2.b.data

    if norm_first:
        x = x + sa(layer_norm_numpy(x, *n1))
        return x + ff(layer_norm_numpy(x, *n2))
    x = layer_norm_numpy(x + sa(x), *n1)
    return layer_norm_numpy(x + ff(x), *n2)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_torch_encoder_layer_by_hand(norm_first, activation):
    rng = np.random.default_rng(6)
    layer = nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, activation=activation,
                                       norm_first=norm_first, rng=0)
    assert isinstance(layer, nn.TorchTransformerEncoderLayer)
    _randomise(layer, rng)
    X = rng.standard_normal((3, 2, 4))  # (T, N, E): batch_first=False
    causal = np.triu(np.ones((3, 3), bool), 1)
    expected = encoder_layer_numpy(X.swapaxes(0, 1), layer, causal, norm_first,
                                   activation == "gelu")
    got = layer(X, src_mask=causal).data.swapaxes(0, 1)
    np.testing.assert_allclose(got, expected, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(layer(X, is_causal=True).data.swapaxes(0, 1), expected,
                               rtol=1e-11, atol=1e-12)


def test_torch_encoder_layer_gradcheck_float64():
    rng = np.random.default_rng(7)
    layer = nn.TransformerEncoderLayer(4, 2, 5, dropout=0.0, batch_first=True, norm_first=True,
                                       rng=0)
    _randomise(layer, rng)
    X = rng.standard_normal((2, 3, 4))
    padding = np.array([[False, False, True], [False, False, False]])
    fn = of_inputs_and_parameters(layer, 1, src_key_padding_mask=padding)
    assert gg.gradcheck(fn, [X, *layer.parameters()]).passed


def test_torch_encoder_copies_the_layer_and_ends_with_norm():
    rng = np.random.default_rng(8)
    layer = nn.TransformerEncoderLayer(d_model=4, nhead=2, dim_feedforward=6, dropout=0.0,
                                       batch_first=True, rng=0)
    _randomise(layer, rng)
    norm = nn.LayerNorm(4)
    encoder = nn.TransformerEncoder(layer, num_layers=2, norm=norm)
    assert isinstance(encoder, nn.TorchTransformerEncoder) and len(encoder.layers) == 2
    first, second = encoder.layers
    assert first is not layer and first.linear1.W is not second.linear1.W  # deep copies
    np.testing.assert_array_equal(first.linear1.W.data, layer.linear1.W.data)
    X = rng.standard_normal((2, 3, 4))
    mask = np.triu(np.ones((3, 3), bool), 1)
    expected = norm(second(first(X, src_mask=mask), src_mask=mask)).data
    np.testing.assert_allclose(encoder(X, mask=mask).data, expected, rtol=1e-13, atol=1e-14)
    first.linear1.W.data = first.linear1.W.data + 1  # the copies train apart
    assert not np.allclose(second.linear1.W.data, first.linear1.W.data)


def test_course_names_make_the_course_layers_unless_called_as_pytorch():
    course = nn.TransformerEncoderLayer(8, 2, 16)
    assert type(course) is nn.TransformerEncoderLayer and course.norm1.eps == 1e-6
    assert type(copy.deepcopy(course)) is nn.TransformerEncoderLayer
    for torch_call in (lambda: nn.TransformerEncoderLayer(8, nhead=2),
                       lambda: nn.TransformerEncoderLayer(8, 2, 16, batch_first=False),
                       lambda: nn.TransformerEncoderLayer(8, 2, 16, 0.1, "gelu")):
        layer = torch_call()
        assert type(layer) is nn.TorchTransformerEncoderLayer
        assert layer.norm1.eps == 1e-5 and not layer.batch_first
    assert nn.TransformerEncoderLayer(8, nhead=2).dim_feedforward == 2048
    # Without d_ff and PyTorch's keywords either could be meant, each reading its input in
    # another layout: refused, saying how to write each.
    for layer in ("TransformerEncoderLayer", "TransformerDecoderLayer"):
        with pytest.raises(gg.ArgumentError, match=layer + r"\(8, 2\) has no d_ff.*"
                           + layer + r"\(d_model, num_heads, d_ff\).*nhead="):
            getattr(nn, layer)(8, 2)
    encoder = nn.TransformerEncoder(2, 8, 2, 16, vocab_size=10, max_positions=5)
    assert type(encoder) is nn.TransformerEncoder  # the course's, with its embeddings
    with pytest.raises(gg.GraphgradTypeError, match="takes PyTorch's layer"):
        nn.TorchTransformerEncoder(course, 2)



@pytest.mark.parametrize("name", ["TransformerEncoderLayer", "TransformerDecoderLayer"])
def test_pytorchs_device_keyword_makes_pytorchs_layer(name):
    """device= is PyTorch's only (the course's layers take none): PyTorch's
    nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, device=device)
    makes PyTorch's layer, reading (T, N, d_model), where it raised the course's
    'unexpected keyword argument device'."""
    layer = getattr(nn, name)(4, 2, 6, 0.0, device="cpu", rng=0)
    torch_class = getattr(nn, "Torch" + name)
    assert type(layer) is torch_class and not layer.batch_first
    same = torch_class(4, 2, 6, 0.0, rng=0)
    X = np.random.default_rng(3).standard_normal((3, 2, 4))  # (T, N, d_model)
    args = (X,) if name == "TransformerEncoderLayer" else (X, X[:2])
    np.testing.assert_allclose(layer(*args).data, same(*args).data, rtol=1e-13, atol=1e-14)
    assert layer(*args).shape == (3, 2, 4)
    with pytest.raises(gg.ArgumentError, match="CPU"):
        getattr(nn, name)(4, 2, 6, device="cuda")


@pytest.mark.parametrize("name", ["Encoder", "Decoder"])
def test_pytorchs_stack_given_the_course_layer_says_how_to_make_pytorchs(name):
    """PyTorch's tutorial writes nn.TransformerEncoderLayer(d_model, nhead, d_hid, dropout),
    the course's layer here (no PyTorch keyword), then nn.TransformerEncoder(layer, n): the
    refusal says the layer is the course's and which keyword makes PyTorch's, where it said
    it takes nn.TransformerEncoderLayer and got a TransformerEncoderLayer."""
    layer = getattr(nn, f"Transformer{name}Layer")(8, 2, 16, 0.1)
    with pytest.raises(gg.GraphgradTypeError, match=(
            rf"Transformer{name}\(layer, num_layers\) takes PyTorch's layer.*got the "
            rf"course's Transformer{name}Layer\(d_model=8, num_heads=2, d_ff=16, "
            rf"dropout=0.1\).*Transformer{name}Layer\(8, 2, 16, 0.1, batch_first=False\)")):
        getattr(nn, f"Transformer{name}")(layer, 2)

def test_load_torch_state_dict_maps_pytorch_names_and_checks_everything():
    layer = nn.TransformerEncoderLayer(4, 2, 6, batch_first=True, rng=0)
    rng = np.random.default_rng(9)
    state = {"self_attn.in_proj_weight": rng.standard_normal((12, 4)),
             "self_attn.in_proj_bias": rng.standard_normal(12),
             "self_attn.out_proj.weight": rng.standard_normal((4, 4)),
             "self_attn.out_proj.bias": rng.standard_normal(4),
             "linear1.weight": rng.standard_normal((6, 4)), "linear1.bias": rng.standard_normal(6),
             "linear2.weight": rng.standard_normal((4, 6)), "linear2.bias": rng.standard_normal(4),
             "norm1.weight": rng.standard_normal(4), "norm1.bias": rng.standard_normal(4),
             "norm2.weight": rng.standard_normal(4), "norm2.bias": rng.standard_normal(4)}
    before = layer.linear1.W.data.copy()
    with pytest.raises(nn.StateDictError, match=r"missing keys \['norm2.bias'\]"):
        layer.load_torch_state_dict({k: v for k, v in state.items() if k != "norm2.bias"})
    with pytest.raises(nn.StateDictError, match=r"linear1.weight must have shape \(6, 4\)"):
        layer.load_torch_state_dict({**state, "linear1.weight": np.zeros((4, 6))})
    np.testing.assert_array_equal(layer.linear1.W.data, before)  # nothing copied
    layer.load_torch_state_dict(state)
    np.testing.assert_array_equal(layer.self_attn.out_proj.W.data,
                                  state["self_attn.out_proj.weight"])
    np.testing.assert_array_equal(layer.norm2.beta.data, state["norm2.bias"])
    np.testing.assert_array_equal(layer.self_attn.in_proj_weight.data,
                                  state["self_attn.in_proj_weight"])


def decoder_layer_numpy(x, memory, layer, tgt_hidden=None, memory_hidden=None,
                        norm_first=False):
    """PyTorch's decoder layer in eval mode on batch-first x (N, T, E), memory (N, S, E)."""
    def attend(a, y, m, hidden):
        return mha_numpy(y, m, m, *_arrays(a), a.num_heads, hidden)[0]

    def norm(k, y):
        n = getattr(layer, f"norm{k}")
        return layer_norm_numpy(y, n.gamma.data, n.beta.data, n.eps)

    def ff(y):
        z = np.maximum(y @ layer.linear1.W.data.T + layer.linear1.b.data, 0)
        return z @ layer.linear2.W.data.T + layer.linear2.b.data

    if norm_first:
        h = norm(1, x)
        x = x + attend(layer.self_attn, h, h, tgt_hidden)
        x = x + attend(layer.multihead_attn, norm(2, x), memory, memory_hidden)
        return x + ff(norm(3, x))
    x = norm(1, x + attend(layer.self_attn, x, x, tgt_hidden))
    x = norm(2, x + attend(layer.multihead_attn, x, memory, memory_hidden))
    return norm(3, x + ff(x))


@pytest.mark.parametrize("norm_first", [False, True])
def test_torch_decoder_layer_by_hand(norm_first):
    rng = np.random.default_rng(10)
    layer = nn.TransformerDecoderLayer(4, 2, 6, dropout=0.0, norm_first=norm_first, rng=0)
    assert isinstance(layer, nn.TorchTransformerDecoderLayer)
    _randomise(layer, rng)
    tgt, memory = rng.standard_normal((3, 2, 4)), rng.standard_normal((5, 2, 4))  # (T, N, E)
    causal = np.triu(np.ones((3, 3), bool), 1)
    padding = np.array([[False] * 5, [False, False, False, True, True]])
    expected = decoder_layer_numpy(tgt.swapaxes(0, 1), memory.swapaxes(0, 1), layer, causal,
                                   padding[:, None, None], norm_first)
    got = layer(tgt, memory, tgt_mask=causal, memory_key_padding_mask=padding)
    np.testing.assert_allclose(got.data.swapaxes(0, 1), expected, rtol=1e-11, atol=1e-12)
    decoder = nn.TransformerDecoder(layer, 2, norm=nn.LayerNorm(4))
    assert isinstance(decoder, nn.TorchTransformerDecoder)
    first, second = decoder.layers
    stacked = decoder(tgt, memory, tgt_mask=causal, memory_key_padding_mask=padding).data
    once = first(tgt, memory, tgt_mask=causal, memory_key_padding_mask=padding)
    twice = second(once, memory, tgt_mask=causal, memory_key_padding_mask=padding)
    np.testing.assert_allclose(stacked, decoder.norm(twice).data, rtol=1e-13, atol=1e-14)


def test_torch_decoder_layer_gradcheck_float64():
    rng = np.random.default_rng(11)
    layer = nn.TransformerDecoderLayer(4, 2, 5, dropout=0.0, batch_first=True, rng=0)
    _randomise(layer, rng)
    tgt, memory = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 2, 4))
    fn = of_inputs_and_parameters(layer, 2, tgt_is_causal=True)
    assert gg.gradcheck(fn, [tgt, memory, *layer.parameters()]).passed


def test_torch_layers_refuse_the_course_mask_naming_both():
    X = np.zeros((3, 2, 4))
    for layer, call in ((nn.TransformerEncoderLayer(4, nhead=2), lambda l: l(X, mask=X)),
                        (nn.TransformerDecoderLayer(4, nhead=2),
                         lambda l: l(X, X, mask=X))):
        with pytest.raises(gg.ArgumentError, match=r"is PyTorch's layer.*True where a key "
                                                   r"is hidden.*nn.Transformer(En|De)coderLayer"
                                                   r"\(d_model, num_heads, d_ff\)"):
            call(layer)
    assert type(nn.TransformerDecoderLayer(8, 2, 16)) is nn.TransformerDecoderLayer
    with pytest.raises(gg.GraphgradTypeError, match=r"TransformerDecoder\(layer, num_layers\) "
                                                    r"takes PyTorch's layer"):
        nn.TorchTransformerDecoder(nn.TransformerEncoderLayer(4, nhead=2), 2)


def test_torch_transformer_is_its_encoder_then_its_decoder():
    rng = np.random.default_rng(12)
    model = nn.Transformer(d_model=4, nhead=2, num_encoder_layers=2, num_decoder_layers=1,
                           dim_feedforward=6, dropout=0.0, batch_first=True, rng=0)
    assert isinstance(model, nn.TorchTransformer)
    first, second = model.encoder.layers
    assert not np.allclose(first.linear1.W.data, second.linear1.W.data)  # re-initialised
    assert model.encoder.norm.eps == model.decoder.norm.eps == 1e-5
    src, tgt = rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 3, 4))
    tgt_mask = nn.Transformer.generate_square_subsequent_mask(3)
    np.testing.assert_array_equal(tgt_mask, [[0, -np.inf, -np.inf], [0, 0, -np.inf],
                                             [0, 0, 0]])
    padding = np.array([[False] * 5, [False, False, False, True, True]])
    expected = model.decoder(tgt, model.encoder(src, src_key_padding_mask=padding),
                             tgt_mask=tgt_mask, memory_key_padding_mask=padding).data
    got = model(src, tgt, tgt_mask=tgt_mask, src_key_padding_mask=padding,
                memory_key_padding_mask=padding).data
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-14)
    causal = model(src, tgt, tgt_is_causal=True, src_key_padding_mask=padding,
                   memory_key_padding_mask=padding).data
    np.testing.assert_allclose(causal, expected, rtol=1e-13, atol=1e-14)
    with pytest.raises(gg.ShapeError, match="must hold as many sequences"):
        model(src, tgt[:1])
    course = nn.Transformer(1, 8, 2, 16, 10, 10, 5, 5)
    assert type(course) is nn.Transformer and type(copy.deepcopy(course)) is nn.Transformer
    assert type(nn.Transformer(8, 2, 1, 1, 16, batch_first=True)) is nn.TorchTransformer
    with pytest.raises(gg.ArgumentError, match=r"Transformer\(8, 2, 1, 1, 16\) gives 5 of the "
                                               r"course's eight sizes.*nhead="):
        nn.Transformer(8, 2, 1, 1, 16)


def test_transformer_with_no_arguments_is_pytorchs_default_model():
    """PyTorch's nn.Transformer() is d_model=512, nhead=8, 6 + 6 layers, dim_feedforward
    2048; the course's model has no defaults for its eight sizes, so the call can only be
    PyTorch's. A copy or an unpickled course model stays the course's."""
    model = nn.Transformer()
    assert type(model) is nn.TorchTransformer
    assert len(model.encoder.layers) == 6 and len(model.decoder.layers) == 6
    layer = model.encoder.layers[0]
    assert layer.self_attn.embed_dim == 512 and layer.self_attn.num_heads == 8
    assert layer.linear1.W.shape == (2048, 512)
    # PyTorch's count: 44,140,544 parameters
    assert sum(p.data.size for p in model.parameters()) == 44_140_544
    course = nn.Transformer(1, 8, 2, 16, 10, 10, 5, 5)
    assert type(pickle.loads(pickle.dumps(course))) is nn.Transformer
    assert type(copy.deepcopy(course)) is nn.Transformer
