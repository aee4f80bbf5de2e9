"""The course's Transformer: the encoder and decoder layers against numpy code of the course's
EncoderLayer and DecoderLayer, the encoder and decoder with their embeddings and positions,
the whole model and its masks; gradient checks, masks that stop information exactly, dropout,
float32, errors, and small learning tasks that need attention."""
import numpy as np
import pytest
from course_attention import (
    arrays_of,
    assert_close_except_key_biases,
    create_look_ahead_mask,
    create_padding_mask,
    decoder_layer_numpy,
    encoder_layer_numpy,
    of_inputs_and_parameters,
    positional_encoding_loop,
    random_mask,
    randomise,
)
from hypothesis import given, settings
from hypothesis import strategies as st

import graphgrad as gg
from graphgrad import nn, optim


# -- TransformerEncoderLayer -----------------------------------------------------------------------
def test_encoder_layer_is_the_course_encoder_layer():
    rng = np.random.default_rng(17)
    layer = nn.TransformerEncoderLayer(8, 2, 12, rng=0).eval()
    randomise(layer, rng)
    X = rng.standard_normal((3, 4, 8))
    mask = nn.padding_mask([[1, 2, 3, 0], [1, 2, 0, 0], [5, 5, 5, 5]])
    expected = encoder_layer_numpy(X, arrays_of(layer), 2, 1e-6, mask)
    np.testing.assert_allclose(layer(X, mask=mask).data, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer(X).data, encoder_layer_numpy(X, arrays_of(layer), 2, 1e-6),
                               rtol=1e-10, atol=1e-12)


def test_encoder_layer_gradcheck_in_eval_mode():
    rng = np.random.default_rng(18)
    layer = nn.TransformerEncoderLayer(4, 2, 6, rng=0).eval()
    randomise(layer, rng)
    X = rng.standard_normal((2, 3, 4))
    mask = nn.padding_mask([[1, 1, 0], [1, 1, 1]])
    result = gg.gradcheck(of_inputs_and_parameters(layer, 1, mask=mask),
                          [X, *layer.parameters()])
    assert result.passed and len(result.pairs) == 1 + 16  # X, attention 8, ffn 4, norms 4
    assert_close_except_key_biases(result, layer, 1)


def test_encoder_layer_dropout_is_the_drop_probability():
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.25, rng=0)
    assert layer.dropout1.keep_prob == layer.dropout2.keep_prob == 0.75
    assert layer.self_attention.attention_dropout.keep_prob == 0.75  # and on the weights
    X = np.random.default_rng(19).standard_normal((4, 5, 8))
    train_out = layer(X).data
    D = layer.dropout2.D.data
    assert set(np.unique(D)) == {0.0, 1.0}
    assert 0.15 < 1 - D.mean() < 0.35  # about a quarter dropped
    eval_out = layer.eval()(X).data
    assert not np.allclose(train_out, eval_out)
    np.testing.assert_array_equal(layer(X).data, eval_out)  # no dropout in eval mode
    expected = encoder_layer_numpy(X, arrays_of(layer), 2, 1e-6)
    np.testing.assert_allclose(eval_out, expected, rtol=1e-10, atol=1e-12)
    seeded = [nn.TransformerEncoderLayer(8, 2, 16, rng=5) for _ in range(2)]
    np.testing.assert_array_equal(seeded[0](X).data, seeded[1](X).data)  # weights and masks
    off = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, rng=0)  # train mode, nothing drops
    np.testing.assert_array_equal(off(X).data, eval_out)
    for bad in (1.0, -0.1):
        with pytest.raises(gg.ArgumentError, match=r"TransformerEncoderLayer: dropout is the "
                                                   r"probability of dropping"):
            nn.TransformerEncoderLayer(8, 2, 16, dropout=bad)


def test_encoder_layer_sublayers_parameters_and_float32():
    layer = nn.TransformerEncoderLayer(8, 2, 16, rng=0)
    assert [name for name, _ in layer.named_children()] == [
        "self_attention", "dropout1", "norm1", "ffn", "dropout2", "norm2"]
    assert layer.norm1.eps == layer.norm2.eps == 1e-6
    assert layer.count_parameters() == 4 * (64 + 8) + (8 * 16 + 16) + (16 * 8 + 8) + 2 * 16
    assert repr(layer).splitlines()[0] == ("TransformerEncoderLayer(d_model=8, num_heads=2, "
                                           "d_ff=16, dropout=0.1  # 600 parameters")
    layer32 = nn.TransformerEncoderLayer(4, 2, 8, rng=0, dtype=np.float32).eval()
    X = gg.Tensor(np.random.default_rng(20).standard_normal((2, 3, 4)))  # float64 data
    out = layer32(X, mask=nn.look_ahead_mask(3))
    assert out.dtype == np.float32
    out.sum().backward()
    assert all(p.grad.dtype == np.float32 for p in layer32.parameters())
    with pytest.raises(gg.ArgumentError, match=r"d_model \(6\) must be divisible"):
        nn.TransformerEncoderLayer(6, 4, 8)


# -- learning --------------------------------------------------------------------------------------
class _Reverser(nn.Module):
    """Token embeddings plus positions, one encoder layer, a softmax over the vocabulary per
    position. Output t must be input T - 1 - t: only attention can bring it there."""

    def __init__(self, n_vocab, T, d_model, mask):
        super().__init__()
        self.embedding = nn.Embedding(n_vocab, d_model, rng=1)
        self.encoder = nn.TransformerEncoderLayer(d_model, 2, 2 * d_model, dropout=0.0, rng=2)
        self.head = nn.Linear(d_model, n_vocab, init="xavier", rng=3)
        self.positions = nn.positional_encoding(T, d_model)
        self.mask = mask
        self.scale = np.sqrt(d_model)

    def forward(self, tokens):
        X = self.embedding(tokens) * self.scale + self.positions
        return self.head(self.encoder(X, mask=self.mask))


@pytest.mark.parametrize("mask, least, most", [(None, 0.99, 1.0), ("self", 0.0, 0.4)])
def test_an_encoder_layer_learns_to_reverse_a_sequence(mask, least, most):
    """With attention, the reversal is learnt in 200 steps of 64 random sequences (under a
    second); with every position attending to itself only, it cannot be (chance is 1/6)."""
    n_vocab, T = 6, 5
    rng = np.random.default_rng(0)
    model = _Reverser(n_vocab, T, 16, None if mask is None else np.eye(T, dtype=bool))
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    for _ in range(200):
        tokens = rng.integers(0, n_vocab, (64, T))
        J = nn.cross_entropy(model(tokens).reshape((-1, n_vocab)), tokens[:, ::-1].reshape(-1))
        optimizer.zero_grad()
        J.backward()
        optimizer.step()
    test = rng.integers(0, n_vocab, (500, T))
    with gg.no_grad():
        predicted = model(test).data.argmax(axis=-1)
    accuracy = np.mean(predicted == test[:, ::-1])
    assert least <= accuracy <= most


# -- TransformerDecoderLayer -----------------------------------------------------------------------
def _decoder_layer(d_model=8, num_heads=2, d_ff=12, seed=0, **kwargs):
    layer = nn.TransformerDecoderLayer(d_model, num_heads, d_ff, rng=seed, **kwargs).eval()
    randomise(layer, np.random.default_rng(seed + 100))
    return layer


def test_decoder_layer_is_the_course_decoder_layer():
    rng = np.random.default_rng(30)
    layer = _decoder_layer()
    X, memory = rng.standard_normal((3, 4, 8)), rng.standard_normal((3, 5, 8))
    inputs = [[1, 2, 3, 0, 0], [1, 2, 3, 4, 0], [5, 5, 5, 5, 5]]
    look_ahead, padding = nn.look_ahead_mask(4), nn.padding_mask(inputs)
    Y, block1, block2 = layer(X, memory, look_ahead, padding, return_weights=True)
    expected, expected1, expected2 = decoder_layer_numpy(X, memory, arrays_of(layer), 2, 1e-6,
                                                         look_ahead, padding)
    assert Y.shape == (3, 4, 8) and block1.shape == (3, 2, 4, 4) and block2.shape == (3, 2, 4, 5)
    np.testing.assert_allclose(Y.data, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(block1.data, expected1, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(block2.data, expected2, rtol=1e-10, atol=1e-15)
    assert np.all(np.triu(block1.data[0, 0], 1) == 0)  # nothing from later target positions
    assert np.all(block2.data[0, :, :, 3:] == 0) and np.all(block2.data[1, :, :, 4] == 0)
    # The course's masks, (1, T, T) and (m, 1, T) of 1.0 and 0.0, give the same.
    course = layer(X, memory, create_look_ahead_mask(4), create_padding_mask(inputs))
    np.testing.assert_array_equal(course.data, Y.data)
    unmasked, _, _ = decoder_layer_numpy(X, memory, arrays_of(layer), 2, 1e-6)
    np.testing.assert_allclose(layer(X, memory).data, unmasked, rtol=1e-10, atol=1e-12)


@settings(max_examples=10, deadline=None)
@given(m=st.integers(1, 3), T_y=st.integers(1, 4), T_x=st.integers(1, 4),
       num_heads=st.integers(1, 3), d_k=st.integers(1, 2), seed=st.integers(0, 2**16))
def test_decoder_layer_over_random_sizes(m, T_y, T_x, num_heads, d_k, seed):
    rng = np.random.default_rng(seed)
    d_model = num_heads * d_k
    layer = _decoder_layer(d_model, num_heads, 3, seed=seed)
    X, memory = rng.standard_normal((m, T_y, d_model)), rng.standard_normal((m, T_x, d_model))
    padding = random_mask(rng, (m, 1, 1, T_x))
    expected, _, _ = decoder_layer_numpy(X, memory, arrays_of(layer), num_heads, 1e-6,
                                         nn.look_ahead_mask(T_y), padding)
    Y = layer(X, memory, nn.look_ahead_mask(T_y), padding)
    np.testing.assert_allclose(Y.data, expected, rtol=1e-9, atol=1e-11)
    assert gg.gradcheck(of_inputs_and_parameters(layer, 2, mask=nn.look_ahead_mask(T_y),
                                                 memory_mask=padding),
                        [X, memory, *layer.parameters()], fast=True)


def test_decoder_layer_gradcheck_of_inputs_memory_and_every_parameter():
    rng = np.random.default_rng(31)
    layer = _decoder_layer(4, 2, 6)
    X, memory = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 2, 4))
    run = of_inputs_and_parameters(layer, 2, mask=nn.look_ahead_mask(3),
                                   memory_mask=nn.padding_mask([[1, 0], [1, 1]]))
    result = gg.gradcheck(run, [X, memory, *layer.parameters()])
    assert result.passed and len(result.pairs) == 2 + 26  # 2 attentions 16, ffn 4, norms 6
    assert_close_except_key_biases(result, layer, 2)


def test_decoder_layer_masks_stop_information_exactly():
    """Later target positions change nothing before them; padded input positions change
    nothing at all, and get exactly zero gradient."""
    rng = np.random.default_rng(32)
    layer = _decoder_layer(6, 3, 10)
    X, memory = rng.standard_normal((2, 5, 6)), rng.standard_normal((2, 4, 6))
    padding = nn.padding_mask([[1, 1, 0, 0], [1, 1, 1, 0]])
    before = layer(X, memory, nn.look_ahead_mask(5), padding).data
    later = X.copy()
    later[:, 3:] = rng.standard_normal((2, 2, 6)) * 10
    after = layer(later, memory, nn.look_ahead_mask(5), padding).data
    np.testing.assert_array_equal(after[:, :3], before[:, :3])  # bit for bit
    assert np.all(after[:, 3:] != before[:, 3:])
    padded = memory.copy()
    padded[0, 2:] = padded[1, 3] = 100.0
    np.testing.assert_array_equal(layer(X, padded, nn.look_ahead_mask(5), padding).data, before)
    memory_t = gg.Tensor(memory, requires_grad=True)
    layer(X, memory_t, nn.look_ahead_mask(5), padding).backward(rng.standard_normal((2, 5, 6)))
    assert np.all(memory_t.grad[0, 2:] == 0) and np.all(memory_t.grad[1, 3] == 0)
    assert np.all(memory_t.grad[0, :2] != 0) and np.all(memory_t.grad[1, :3] != 0)


def test_decoder_layer_dropout_sublayers_and_float32():
    layer = nn.TransformerDecoderLayer(8, 2, 16, dropout=0.2, rng=0)
    assert [name for name, _ in layer.named_children()] == [
        "self_attention", "dropout1", "norm1", "cross_attention", "dropout2", "norm2", "ffn",
        "dropout3", "norm3"]
    assert {d.keep_prob for d in (layer.dropout1, layer.dropout2, layer.dropout3,
                                  layer.self_attention.attention_dropout,
                                  layer.cross_attention.attention_dropout)} == {0.8}
    assert layer.count_parameters() == 2 * 4 * (64 + 8) + (8 * 16 + 16) + (16 * 8 + 8) + 3 * 16
    assert repr(layer).splitlines()[0] == ("TransformerDecoderLayer(d_model=8, num_heads=2, "
                                           "d_ff=16, dropout=0.2  # 904 parameters")
    rng = np.random.default_rng(33)
    X, memory = rng.standard_normal((4, 5, 8)), rng.standard_normal((4, 3, 8))
    train_out = layer(X, memory).data
    assert 0.1 < 1 - layer.dropout3.D.data.mean() < 0.3
    eval_out = layer.eval()(X, memory).data
    assert not np.allclose(train_out, eval_out)
    np.testing.assert_allclose(eval_out, decoder_layer_numpy(X, memory, arrays_of(layer), 2,
                                                             1e-6)[0], rtol=1e-10, atol=1e-12)
    seeded = [nn.TransformerDecoderLayer(8, 2, 16, rng=4) for _ in range(2)]
    np.testing.assert_array_equal(seeded[0](X, memory).data, seeded[1](X, memory).data)
    layer32 = nn.TransformerDecoderLayer(4, 2, 8, rng=0, dtype=np.float32)
    out = layer32(rng.standard_normal((2, 3, 4)), gg.Tensor(rng.standard_normal((2, 2, 4))))
    assert out.dtype == np.float32
    out.sum().backward()
    assert all(p.grad.dtype == np.float32 for p in layer32.parameters())


def test_decoder_layer_errors_name_the_layer_and_the_shapes():
    layer = nn.TransformerDecoderLayer(4, 2, 8, rng=0)
    label = r"TransformerDecoderLayer\(d_model=4, num_heads=2\) takes "
    with pytest.raises(gg.ShapeError, match=label + r"X of shape \(m, T_y, 4\).*\(2, 3, 5\)"):
        layer(np.ones((2, 3, 5)), np.ones((2, 2, 4)))
    with pytest.raises(gg.ShapeError, match=label + r"memory of shape \(2, T_x, 4\).*"
                                                    r"\(3, 2, 4\).*the encoder's output"):
        layer(np.ones((2, 3, 4)), np.ones((3, 2, 4)))
    with pytest.raises(gg.ShapeError, match=r"mask of shape \(2, 3\) does not broadcast"):
        layer(np.ones((2, 3, 4)), np.ones((2, 2, 4)), memory_mask=np.ones((2, 3), bool))
    with pytest.raises(gg.ArgumentError, match=r"TransformerDecoderLayer: dropout is the "):
        nn.TransformerDecoderLayer(4, 2, 8, dropout=1.0)


# -- TransformerEncoder, TransformerDecoder, Transformer -------------------------------------------
def test_encoder_is_embeddings_scaled_plus_positions_then_its_layers():
    rng = np.random.default_rng(34)
    encoder = nn.TransformerEncoder(2, 8, 2, 16, vocab_size=10, max_positions=6, rng=0).eval()
    for layer in encoder.layers:
        randomise(layer, rng)
    tokens = np.array([[3, 1, 4, 1, 0], [5, 9, 2, 0, 0]])
    mask = nn.padding_mask(tokens)
    X = encoder.embedding.E.data[tokens] * np.sqrt(8) + positional_encoding_loop(6, 8)[:5]
    for layer in encoder.layers:
        X = encoder_layer_numpy(X, arrays_of(layer), 2, 1e-6, mask)
    np.testing.assert_allclose(encoder(tokens, mask).data, X, rtol=1e-10, atol=1e-12)
    assert [name for name, _ in encoder.named_children()] == [
        "embedding", "embedding_dropout", "layers"]
    assert "layers.1.ffn.linear2.b" in encoder.state_dict()
    assert not any("positions" in key for key in encoder.state_dict())  # a constant


def test_decoder_runs_its_layers_on_the_memory_and_names_the_weights_as_the_course():
    rng = np.random.default_rng(35)
    decoder = nn.TransformerDecoder(2, 8, 2, 16, vocab_size=7, max_positions=5, rng=0).eval()
    for layer in decoder.layers:
        randomise(layer, rng)
    tokens = np.array([[6, 1, 2, 3], [6, 4, 0, 0]])
    memory = rng.standard_normal((2, 3, 8))
    look_ahead = nn.padding_mask(tokens) & nn.look_ahead_mask(4)
    padding = nn.padding_mask([[1, 1, 1], [1, 1, 0]])
    Y, weights = decoder(tokens, memory, look_ahead, padding, return_weights=True)
    X = decoder.embedding.E.data[tokens] * np.sqrt(8) + positional_encoding_loop(5, 8)[:4]
    for i, layer in enumerate(decoder.layers, start=1):
        X, block1, block2 = decoder_layer_numpy(X, memory, arrays_of(layer), 2, 1e-6, look_ahead,
                                                padding)
        np.testing.assert_allclose(weights[f"decoder_layer{i}_block1_self_att"].data, block1,
                                   rtol=1e-9, atol=1e-14)
        np.testing.assert_allclose(weights[f"decoder_layer{i}_block2_decenc_att"].data, block2,
                                   rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(Y.data, X, rtol=1e-10, atol=1e-12)
    assert list(weights) == ["decoder_layer1_block1_self_att", "decoder_layer1_block2_decenc_att",
                             "decoder_layer2_block1_self_att", "decoder_layer2_block2_decenc_att"]
    np.testing.assert_array_equal(decoder(tokens, memory, look_ahead, padding).data, Y.data)


def test_transformer_masks_are_the_course_masks():
    inputs = np.array([[3, 4, 0], [5, 0, 0]])
    targets = np.array([[9, 1, 2, 0], [9, 3, 0, 0]])
    input_mask, target_mask, memory_mask = nn.Transformer.masks(inputs, targets)
    np.testing.assert_array_equal(input_mask[:, 0], create_padding_mask(inputs))
    np.testing.assert_array_equal(memory_mask, input_mask)
    course = np.minimum(create_padding_mask(targets), create_look_ahead_mask(4))  # (m, T, T)
    assert target_mask.shape == (2, 1, 4, 4)
    np.testing.assert_array_equal(target_mask[:, 0], course)
    assert target_mask[1, 0].tolist() == [[True, False, False, False], [True, True, False, False],
                                          [True, True, False, False], [True, True, False, False]]


@pytest.mark.parametrize("swap, where", [
    ((0, 1, 1), "decoder.layers.0.cross_attention"),  # the target mask as the memory mask
    ((1, 1, 2), "encoder.layers.0.self_attention"),  # the target mask as the input mask
])
def test_a_misplaced_mask_is_refused_naming_the_attention_it_reached(swap, where):
    model = nn.Transformer(2, 8, 2, 16, 10, 12, 6, 7, rng=0)
    inputs, targets = np.array([[3, 1, 4, 0]]), np.array([[11, 2, 0]])
    masks = nn.Transformer.masks(inputs, targets)
    with pytest.raises(gg.ShapeError, match=rf"MultiHeadAttention\(d_model=8, num_heads=2\) "
                                            rf"in {where}: the mask of shape"):
        model(inputs, targets, *[masks[i] for i in swap])


def test_transformer_is_encoder_then_decoder_then_final_layer():
    rng = np.random.default_rng(36)
    model = nn.Transformer(2, 8, 2, 16, 10, 12, 6, 7, rng=0).eval()
    randomise(model, rng)
    inputs = np.array([[3, 1, 4, 1, 5, 9], [2, 6, 5, 0, 0, 0]])
    targets = np.array([[11, 2, 7, 1], [11, 8, 0, 0]])
    masks = nn.Transformer.masks(inputs, targets)
    logits, weights = model(inputs, targets, *masks, return_weights=True)
    memory = model.encoder(inputs, masks[0])
    Y = model.decoder(targets, memory, masks[1], masks[2])
    expected = Y.data @ model.final_layer.W.data.T + model.final_layer.b.data
    assert logits.shape == (2, 4, 12) and len(weights) == 4
    np.testing.assert_allclose(logits.data, expected, rtol=1e-12, atol=1e-12)
    assert [name for name, _ in model.named_children()] == ["encoder", "decoder", "final_layer"]
    assert model.count_parameters() == 3292
    # The course's output: the softmax of the logits over the target vocabulary.
    np.testing.assert_allclose(gg.softmax(logits, axis=-1).data.sum(axis=-1), 1.0)


def test_transformer_gradcheck_of_every_parameter():
    rng = np.random.default_rng(37)
    model = nn.Transformer(1, 4, 2, 6, 5, 6, 3, 3, rng=0).eval()
    randomise(model, rng)
    inputs, targets = np.array([[1, 2, 0], [3, 4, 4]]), np.array([[5, 1, 2], [5, 3, 0]])
    labels = np.array([[1, 2, 0], [3, 0, 0]])
    parameters = list(model.parameters())
    input_mask, target_mask, memory_mask = nn.Transformer.masks(inputs, targets)
    run = of_inputs_and_parameters(model, 2, input_mask=input_mask, target_mask=target_mask,
                                   memory_mask=memory_mask)

    def J(*params):
        return nn.cross_entropy(run(inputs, targets, *params).reshape((-1, 6)),
                                labels.reshape(-1))

    result = gg.gradcheck(J, parameters)
    assert result.passed and len(result.pairs) == len(parameters) == 2 + 16 + 26 + 2
    assert_close_except_key_biases(result, model, 0)


def test_transformer_dropout_in_training_only_and_reproducible_from_a_seed():
    inputs, targets = np.array([[1, 2, 3]]), np.array([[4, 1, 2]])
    model = nn.Transformer(1, 8, 2, 16, 5, 6, 3, 3, dropout=0.3, rng=3)
    assert model.encoder.embedding_dropout.keep_prob == 0.7
    train = model(inputs, targets).data
    again = nn.Transformer(1, 8, 2, 16, 5, 6, 3, 3, dropout=0.3, rng=3)
    np.testing.assert_array_equal(again(inputs, targets).data, train)  # weights and masks
    model.eval()
    evaluated = model(inputs, targets).data
    assert not np.allclose(train, evaluated)
    np.testing.assert_array_equal(model(inputs, targets).data, evaluated)
    off = nn.Transformer(1, 8, 2, 16, 5, 6, 3, 3, dropout=0.0, rng=3)
    np.testing.assert_array_equal(off(inputs, targets).data, evaluated)


def test_transformer_keeps_float32():
    model = nn.Transformer(1, 4, 2, 8, 5, 6, 3, 3, rng=0, dtype=np.float32)
    inputs, targets = np.array([[1, 2, 3]]), np.array([[4, 1, 2]])
    logits = model(inputs, targets, *nn.Transformer.masks(inputs, targets))
    assert logits.dtype == np.float32
    nn.cross_entropy(logits.reshape((-1, 6)), np.array([1, 2, 3])).backward()
    assert all(p.grad.dtype == np.float32 for p in model.parameters())


def test_encoder_decoder_and_transformer_errors():
    encoder = nn.TransformerEncoder(1, 4, 2, 8, vocab_size=5, max_positions=3, rng=0)
    with pytest.raises(gg.ShapeError, match=r"TransformerEncoder got sentences of 4 tokens but "
                                            r"has positional encodings for 3 \(its max_positions;"
                                            r" a Transformer's max_input_positions"):
        encoder(np.ones((2, 4), int))
    with pytest.raises(gg.ShapeError, match=r"TransformerEncoder got sentences of no tokens"):
        encoder(np.ones((2, 0), int))
    with pytest.raises(gg.ShapeError, match=r"TransformerEncoder takes tokens of shape \(m, T\)"
                                            r".*\(4,\).*one sentence per row"):
        encoder(np.ones(4, int))
    with pytest.raises(gg.ArgumentError, match=r"Embedding\(n_vocab=5, n_e=4\): indices\[0, 1\] "
                                               r"= 7 is out of range"):
        encoder(np.array([[1, 7]]))
    with pytest.raises(gg.ArgumentError, match=r"num_layers must be a whole number"):
        nn.TransformerDecoder(0, 4, 2, 8, 5, 3)
    with pytest.raises(gg.ArgumentError, match=r"TransformerEncoder: dropout is the"):
        nn.TransformerEncoder(1, 4, 2, 8, 5, 3, dropout=1.5)
    model = nn.Transformer(1, 4, 2, 8, 5, 6, 3, 3, rng=0)
    with pytest.raises(gg.ShapeError, match=r"TransformerDecoder got sentences of 5 tokens"):
        model(np.ones((1, 3), int), np.ones((1, 5), int))
    with pytest.raises(gg.ShapeError, match=r"Transformer takes targets of shape \(2, T_y\); "
                                            r"got ndarray \(3, 2\).*one target sentence per "
                                            r"input sentence"):
        model(np.ones((2, 3), int), np.ones((3, 2), int))
    with pytest.raises(gg.ShapeError, match=r"TransformerEncoderLayer\(d_model=8, num_heads=2\) "
                                            r"takes X of shape \(m, T_x, 8\); got ndarray "
                                            r"\(2, 3, 6\)"):
        nn.TransformerEncoderLayer(8, 2, 16)(np.zeros((2, 3, 6)))
    for bad in (False, "0.1", None):  # a bool is not a probability: bias=False meant
        with pytest.raises(gg.ArgumentError, match=r"MultiHeadAttention\(d_model=8, num_heads="
                                                   r"2\): dropout is the probability"):
            nn.MultiHeadAttention(8, 2, bad)
    with pytest.raises(gg.ArgumentError, match=r"bias is a keyword argument: bias=False"):
        nn.MultiHeadAttention(8, 2, False)
    masks = nn.Transformer.masks(np.array([[1, 0]]), np.array([[3, 1]]))
    assert masks[2] is not masks[0]  # two masks, not one array twice


# -- learning --------------------------------------------------------------------------------------
@pytest.mark.parametrize("see_input, least, most", [(True, 0.95, 1.0), (False, 0.0, 0.02)])
def test_a_transformer_learns_to_reverse_a_sentence_decoding_greedily(see_input, least, most):
    """Teacher forcing on 300 batches of 64 random sentences (about 1.5 s), then greedy
    decoding of 500 sentences not met in training, one word at a time from the start token,
    as a translation is made. Given the
    same sentence in place of every input, the decoder knows only the words it has written
    and cannot do better than chance ((1/7)^5 for a whole sentence)."""
    n_words, T, start = 8, 5, 8  # words 1..7, 0 is padding, 8 starts a target sentence
    rng = np.random.default_rng(0)
    model = nn.Transformer(1, 16, 2, 32, n_words, n_words + 1, T, T, dropout=0.0, rng=0)
    optimizer = optim.Adam(model.parameters(), lr=0.01)

    def sentences(m):
        inputs = rng.integers(1, n_words, (m, T))
        reversed_ = inputs[:, ::-1]
        targets = np.concatenate([np.full((m, 1), start), reversed_[:, :-1]], axis=1)
        return inputs if see_input else np.ones_like(inputs), targets, reversed_

    seen = set()
    for _ in range(300):
        inputs, targets, next_words = sentences(64)
        seen.update(map(bytes, next_words.astype(np.uint8)))
        logits = model(inputs, targets, *nn.Transformer.masks(inputs, targets))
        J = nn.cross_entropy(logits.reshape((-1, n_words + 1)), next_words.reshape(-1))
        optimizer.zero_grad()
        J.backward()
        optimizer.step()
    model.eval()
    inputs, _, expected = sentences(2000)
    unseen = np.array([bytes(row) not in seen for row in expected.astype(np.uint8)])
    inputs, expected = inputs[unseen][:500], expected[unseen][:500]  # none met in training
    assert len(expected) == 500
    decoded = np.full((500, 1), start)
    with gg.no_grad():
        for _ in range(T):
            logits = model(inputs, decoded, *nn.Transformer.masks(inputs, decoded))
            decoded = np.concatenate([decoded, logits.data[:, -1].argmax(axis=-1)[:, None]],
                                     axis=1)
    exactly_right = np.mean(np.all(decoded[:, 1:] == expected, axis=1))
    assert least <= exactly_right <= most
