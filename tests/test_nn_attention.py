"""The Transformer's blocks: layer normalisation, scaled dot-product attention, its masks, the
positional encoding and multi-head attention (with dropout on its weights), each against
numpy code of the course's formulas (heads by explicit loops), with gradient checks (first
and second order), masks that stop information exactly, property tests over sizes, dtypes
and errors."""
import re

import numpy as np
import pytest
from course_attention import (
    arrays_of,
    assert_close_except_key_biases,
    create_look_ahead_mask,
    create_padding_mask,
    layer_norm_numpy,
    multi_head_attention_numpy,
    of_inputs_and_parameters,
    positional_encoding_loop,
    random_mask,
    randomise,
    scaled_dot_product_attention_numpy,
)
from hypothesis import given, settings
from hypothesis import strategies as st

import graphgrad as gg
from graphgrad import nn


# -- LayerNorm -------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4), (4,)])
def test_layernorm_is_the_formula_over_the_last_axis(shape):
    rng = np.random.default_rng(0)
    layer = nn.LayerNorm(4)
    layer.gamma.data, layer.beta.data = rng.uniform(0.5, 2, 4), rng.standard_normal(4)
    X = rng.standard_normal(shape) * 3 + rng.standard_normal(shape[:-1] + (1,))
    expected = layer_norm_numpy(X, layer.gamma.data, layer.beta.data, 1e-5)
    np.testing.assert_allclose(layer(X).data, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.eval()(X).data, expected, rtol=1e-12, atol=1e-12)
    # Each example is its own: the first alone gives what it gives in the batch.
    first = slice(None, 1) if X.ndim > 1 else slice(None)
    np.testing.assert_allclose(layer.train()(X[first]).data, expected[first], rtol=1e-12,
                               atol=1e-12)


def test_layernorm_starts_as_plain_normalisation():
    X = np.random.default_rng(1).standard_normal((6, 5)) * 4 + 2
    Y = nn.LayerNorm(5, eps=1e-12)(X).data
    np.testing.assert_allclose(Y.mean(axis=-1), 0, atol=1e-12)
    np.testing.assert_allclose(Y.var(axis=-1), 1, rtol=1e-10)


def test_layernorm_backward_is_the_closed_form():
    rng = np.random.default_rng(2)
    layer = nn.LayerNorm(5)
    gamma = layer.gamma.data = rng.uniform(0.5, 2, 5)
    X = gg.Tensor(rng.standard_normal((2, 3, 5)), requires_grad=True)
    dY = rng.standard_normal((2, 3, 5))
    layer(X).backward(dY)
    x = X.data
    mu, sigma2 = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    x_norm = (x - mu) / np.sqrt(sigma2 + 1e-5)
    dx_norm = dY * gamma  # gamma varies along the normalised axis: it stays inside the means
    dX = (dx_norm - dx_norm.mean(-1, keepdims=True)
          - x_norm * (dx_norm * x_norm).mean(-1, keepdims=True)) / np.sqrt(sigma2 + 1e-5)
    np.testing.assert_allclose(X.grad, dX, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(layer.gamma.grad, (dY * x_norm).sum(axis=(0, 1)), rtol=1e-10)
    np.testing.assert_allclose(layer.beta.grad, dY.sum(axis=(0, 1)), rtol=1e-10)


def test_layernorm_gradcheck_and_second_derivatives():
    rng = np.random.default_rng(3)
    layer = nn.LayerNorm(4)
    fn = of_inputs_and_parameters(layer, 1)
    inputs = [rng.standard_normal((2, 3, 4)), rng.uniform(0.5, 2, 4), rng.standard_normal(4)]
    result = gg.gradcheck(fn, inputs)
    assert result.passed and len(result.pairs) == 3
    assert all(p.relative_difference < 1e-7 for p in result.pairs)
    assert gg.gradgradcheck(fn, [inputs[0][:, :2], *inputs[1:]])


@settings(max_examples=20, deadline=None)
@given(lead=st.lists(st.integers(1, 3), min_size=0, max_size=2), d=st.integers(2, 6),
       seed=st.integers(0, 2**32 - 1))
def test_layernorm_over_random_shapes_is_the_formula_and_passes_gradcheck(lead, d, seed):
    rng = np.random.default_rng(seed)
    layer = nn.LayerNorm(d)
    layer.gamma.data, layer.beta.data = rng.uniform(0.5, 2, d), rng.standard_normal(d)
    X = rng.standard_normal((*lead, d)) * rng.uniform(0.1, 10)
    np.testing.assert_allclose(layer(X).data, layer_norm_numpy(X, layer.gamma.data,
                                                               layer.beta.data, 1e-5),
                               rtol=1e-10, atol=1e-10)
    assert gg.gradcheck(of_inputs_and_parameters(layer, 1),
                        [X, layer.gamma.data, layer.beta.data], fast=True)


def test_layernorm_float32_parameters_repr_and_state():
    layer = nn.LayerNorm(3, dtype=np.float32)
    X32 = np.random.default_rng(4).standard_normal((2, 3)).astype(np.float32)
    for data in (X32, X32.astype(np.float64), X32.tolist()):
        assert layer(data).dtype == np.float32
    X = gg.Tensor(X32, requires_grad=True)
    out = layer(X)
    out.backward(np.ones((2, 3), np.float32))
    assert X.grad.dtype == layer.gamma.grad.dtype == layer.beta.grad.dtype == np.float32
    np.testing.assert_allclose(out.data, layer_norm_numpy(X32.astype(float), 1, 0, 1e-5),
                               rtol=1e-5, atol=1e-6)
    assert list(layer.state_dict()) == ["gamma", "beta"]  # no running statistics
    assert layer.count_parameters() == 6
    assert repr(nn.LayerNorm(8, eps=1e-6)) == "LayerNorm(8, eps=1e-06)  # 16 parameters"


def test_layernorm_errors_name_the_layer_and_the_shape():
    layer = nn.LayerNorm(4)
    with pytest.raises(gg.ShapeError, match=r"LayerNorm\(4\) takes X of shape \(\.\.\., 4\).*"
                                            r"\(2, 3\)"):
        layer(np.ones((2, 3)))
    with pytest.raises(gg.ShapeError, match=r"\(2, 4, 3\).*must be the last axis"):
        layer(np.ones((2, 4, 3)))
    with pytest.raises(gg.ArgumentError,
                       match=r"LayerNorm: normalized_shape \(d\) must be a whole number"):
        nn.LayerNorm(0)
    with pytest.raises(gg.ArgumentError, match=r"LayerNorm: eps must be a positive number, got 0"):
        nn.LayerNorm(3, eps=0)


# -- scaled dot-product attention ------------------------------------------------------------------
def test_attention_is_the_course_function():
    rng = np.random.default_rng(5)
    q, k, v = (rng.standard_normal(s) for s in [(2, 3, 4), (2, 5, 4), (2, 5, 6)])
    out, weights = nn.scaled_dot_product_attention(q, k, v)
    expected_out, expected_weights = scaled_dot_product_attention_numpy(q, k, v)
    assert out.shape == (2, 3, 6) and weights.shape == (2, 3, 5)
    np.testing.assert_allclose(out.data, expected_out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(weights.data, expected_weights, rtol=1e-12, atol=1e-14)


def test_attention_on_one_sequence_is_the_course_unit_test():
    """The course's scaled_dot_product_attention_test: q (3, 4), k (4, 4), v (4, 2), and a
    mask that hides key 2 from every query (the course's (1, 3, 4) holds the same row three
    times; (1, 4) broadcasts to the scores (3, 4) as well)."""
    q = np.array([[1, 0, 1, 1], [0, 1, 1, 1], [1, 0, 0, 1]], dtype=float)
    k = np.array([[1, 1, 0, 1], [1, 0, 1, 1], [0, 1, 1, 0], [0, 0, 0, 1]], dtype=float)
    v = np.array([[0, 0], [1, 0], [1, 0], [1, 1]], dtype=float)
    out, weights = nn.scaled_dot_product_attention(q, k, v)
    np.testing.assert_allclose(weights.data, [[0.2589478, 0.42693272, 0.15705977, 0.15705977],
                                              [0.2772748, 0.2772748, 0.2772748, 0.16817567],
                                              [0.33620113, 0.33620113, 0.12368149, 0.2039163]],
                               atol=1e-7)
    np.testing.assert_allclose(out.data, [[0.74105227, 0.15705977], [0.7227253, 0.16817567],
                                          [0.6637989, 0.2039163]], atol=1e-7)
    mask = np.array([[1, 1, 0, 1]])
    out, weights = nn.scaled_dot_product_attention(q, k, v, mask)
    np.testing.assert_allclose(weights.data, [[0.30719590, 0.50648040, 0.0, 0.18632373],
                                              [0.38365173, 0.38365173, 0.0, 0.23269655],
                                              [0.38365173, 0.38365173, 0.0, 0.23269655]],
                               atol=1e-7)
    np.testing.assert_allclose(out.data, [[0.69280410, 0.18632373], [0.61634827, 0.23269655],
                                          [0.61634827, 0.23269655]], atol=1e-7)
    expected_out, expected_weights = scaled_dot_product_attention_numpy(q, k, v, mask)
    np.testing.assert_allclose(out.data, expected_out, rtol=1e-12)
    np.testing.assert_allclose(weights.data, expected_weights, rtol=1e-12)


@pytest.mark.parametrize("as_numbers", [False, True])
def test_masked_weights_are_exactly_zero_and_rows_sum_to_one(as_numbers):
    rng = np.random.default_rng(6)
    q, k, v = (rng.standard_normal((2, 3, n, 4)) for n in (5, 6, 6))
    mask = random_mask(rng, (2, 1, 5, 6))  # the same for both heads
    given_mask = mask.astype(float) if as_numbers else mask
    out, weights = nn.scaled_dot_product_attention(q, k, v, given_mask)
    w = weights.data
    assert np.all(w[np.broadcast_to(~mask, w.shape)] == 0.0)
    assert np.all(w[np.broadcast_to(mask, w.shape)] > 0.0)
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, rtol=1e-14)
    expected_out, expected_weights = scaled_dot_product_attention_numpy(q, k, v, mask)
    np.testing.assert_allclose(w, expected_weights, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(out.data, expected_out, rtol=1e-12, atol=1e-12)


def test_masked_keys_get_exactly_no_gradient():
    rng = np.random.default_rng(7)
    Q, K, V = (gg.Tensor(rng.standard_normal((4, 3)), requires_grad=True) for _ in range(3))
    mask = np.array([True, False, True, False])  # keys 1 and 3 are padding for every query
    out, _ = nn.scaled_dot_product_attention(Q, K, V, mask)
    out.backward(rng.standard_normal((4, 3)))
    assert np.all(K.grad[[1, 3]] == 0) and np.all(V.grad[[1, 3]] == 0)
    assert np.all(K.grad[[0, 2]] != 0) and np.all(V.grad[[0, 2]] != 0)


def test_a_query_with_every_key_masked_gets_uniform_weights_not_nan():
    rng = np.random.default_rng(8)
    Q, K, V = (gg.Tensor(rng.standard_normal((3, 4)), requires_grad=True) for _ in range(3))
    mask = np.array([[True, False, True], [False, False, False], [True, True, True]])
    out, weights = nn.scaled_dot_product_attention(Q, K, V, mask)
    np.testing.assert_array_equal(weights.data[1], np.full(3, 1 / 3))
    np.testing.assert_allclose(out.data[1], V.data.mean(axis=0), rtol=1e-12)
    assert weights.data[0, 1] == 0.0
    out.sum().backward()
    for t in (Q, K, V):
        assert np.isfinite(t.grad).all()
    assert np.all(Q.grad[1] == 0)  # uniform whatever its scores: the query learns nothing
    # The same in float32, as the course's float32 code gives (where -1e9 swamps the scores).
    w32 = nn.scaled_dot_product_attention(*(t.data.astype(np.float32) for t in (Q, K, V)),
                                          mask)[1].data
    assert w32.dtype == np.float32
    np.testing.assert_array_equal(w32[1], np.full(3, 1 / 3, np.float32))


@pytest.mark.parametrize("dtype, big", [(np.float64, 1e5), (np.float32, 4e4)])
def test_a_masked_key_gets_no_weight_however_low_the_allowed_scores(dtype, big):
    """Scores below the course's -1e9: a masked key given -1e9 would take all the weight,
    and query 0 would see the future positions under a look-ahead mask."""
    Q = np.array([[big], [0.0], [0.0]], dtype)
    K = np.array([[-big], [0.0], [0.0]], dtype)  # query 0's only allowed score: -big**2
    V = np.array([[1.0], [2.0], [100.0]], dtype)
    out, weights = nn.scaled_dot_product_attention(Q, K, V, nn.look_ahead_mask(3))
    np.testing.assert_array_equal(weights.data[0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(out.data.ravel(), [1.0, 1.5, 103 / 3], rtol=1e-6)
    assert out.dtype == dtype


def test_masking_makes_no_inf_or_nan_for_detect_anomaly():
    rng = np.random.default_rng(9)
    Q = gg.Tensor(rng.standard_normal((2, 4, 3)), requires_grad=True)
    with gg.detect_anomaly():
        out, _ = nn.scaled_dot_product_attention(Q, Q, Q, nn.look_ahead_mask(4))
        out.sum().backward()
    assert np.isfinite(Q.grad).all()


@pytest.mark.parametrize("mask", [None, "look_ahead", "padding"])
def test_attention_gradcheck_and_second_derivatives(mask):
    rng = np.random.default_rng(10)
    masks = {None: None, "look_ahead": nn.look_ahead_mask(3),
             "padding": np.array([[[True, True, False]], [[True, False, False]]])}

    def attention(Q, K, V):
        return nn.scaled_dot_product_attention(Q, K, V, masks[mask])

    inputs = [rng.standard_normal(s) for s in [(2, 3, 2), (2, 3, 2), (2, 3, 3)]]
    result = gg.gradcheck(attention, inputs)
    assert result.passed and len(result.pairs) == 2 * 3  # (output, weights) x (Q, K, V)
    assert all(p.relative_difference < 1e-7 for p in result.pairs)
    assert gg.gradgradcheck(lambda Q, K, V: attention(Q, K, V)[0], inputs)


@settings(max_examples=20, deadline=None)
@given(lead=st.lists(st.integers(1, 3), min_size=0, max_size=2), T_q=st.integers(1, 4),
       T_k=st.integers(1, 4), d_k=st.integers(1, 4), d_v=st.integers(1, 3),
       masked=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_attention_over_random_sizes_is_the_course_function(lead, T_q, T_k, d_k, d_v, masked,
                                                           seed):
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((*lead, T_q, d_k))
    k = rng.standard_normal((*lead, T_k, d_k))
    v = rng.standard_normal((*lead, T_k, d_v))
    mask = random_mask(rng, (*lead, T_q, T_k)) if masked else None
    out, weights = nn.scaled_dot_product_attention(q, k, v, mask)
    expected_out, expected_weights = scaled_dot_product_attention_numpy(q, k, v, mask)
    assert out.shape == (*lead, T_q, d_v) and weights.shape == (*lead, T_q, T_k)
    np.testing.assert_allclose(out.data, expected_out, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(weights.data, expected_weights, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(weights.data.sum(axis=-1), 1.0, rtol=1e-13)
    if masked:
        assert np.all(weights.data[np.broadcast_to(~mask, weights.shape)] == 0.0)
    assert gg.gradcheck(lambda Q, K, V: nn.scaled_dot_product_attention(Q, K, V, mask)[0],
                        [q, k, v], fast=True)


def test_attention_keeps_float32():
    rng = np.random.default_rng(11)
    Q, K, V = (gg.Tensor(rng.standard_normal((2, 3, 4)).astype(np.float32), requires_grad=True)
               for _ in range(3))
    out, weights = nn.scaled_dot_product_attention(Q, K, V, nn.look_ahead_mask(3))
    assert out.dtype == weights.dtype == np.float32
    out.sum().backward()
    assert Q.grad.dtype == K.grad.dtype == V.grad.dtype == np.float32
    expected, _ = scaled_dot_product_attention_numpy(
        *(t.data.astype(float) for t in (Q, K, V)), nn.look_ahead_mask(3))
    np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-6)


def test_attention_errors_name_the_shapes():
    ones = np.ones
    attention = nn.scaled_dot_product_attention
    with pytest.raises(gg.ShapeError, match=r"Q \(\.\.\., T_q, d_k\).*at least 2 axes.*\(4,\)"):
        attention(ones(4), ones((3, 4)), ones((3, 2)))
    with pytest.raises(gg.ShapeError, match=r"same d_k.*\(2, 4\).*\(3, 5\)"):
        attention(ones((2, 4)), ones((3, 5)), ones((3, 2)))
    with pytest.raises(gg.ShapeError, match=r"same T_k.*\(3, 4\).*\(2, 2\)"):
        attention(ones((2, 4)), ones((3, 4)), ones((2, 2)))
    with pytest.raises(gg.ShapeError, match=r"leading axes.*do not broadcast"):
        attention(ones((2, 2, 4)), ones((3, 3, 4)), ones((3, 3, 2)))
    with pytest.raises(gg.ShapeError, match=r"mask of shape \(2, 3\) does not broadcast to the "
                                            r"scores' shape \(\.\.\., T_q, T_k\) = \(2, 3, 4\)"):
        attention(ones((2, 3, 4)), ones((2, 4, 4)), ones((2, 4, 1)), mask=ones((2, 3)))
    with pytest.raises(gg.ShapeError, match=r"mask of shape \(2, 1, 3, 4\) does not broadcast"):
        attention(ones((3, 4)), ones((4, 4)), ones((4, 1)), mask=ones((2, 1, 3, 4)))
    with pytest.raises(gg.ArgumentError, match=r"values other than 0 and 1.*mask == 0"):
        attention(ones((3, 4)), ones((4, 4)), ones((4, 1)), mask=[0.0, -np.inf, 0.0, 0.0])
    with pytest.raises(gg.GraphgradTypeError, match=r"boolean or 0/1"):
        attention(ones((3, 4)), ones((4, 4)), ones((4, 1)), mask=np.array(["yes"] * 4))
    with pytest.raises(gg.GraphgradTypeError, match=r"scaled_dot_product_attention: the mask "
                                                    r"cannot be made into an array.*same length"):
        attention(ones((2, 3)), ones((2, 3)), ones((2, 3)), mask=[[1, 0], [1]])
    with pytest.raises(gg.ShapeError, match=r"K ndarray \(0, 3\) float64 has no keys"):
        attention(ones((2, 3)), ones((0, 3)), ones((0, 3)))
    with pytest.raises(gg.ShapeError, match=r"K ndarray \(2, 0\) float64 has no d_k"):
        attention(ones((2, 0)), ones((2, 0)), ones((2, 3)))
    with pytest.raises(gg.GraphgradTypeError, match=r"padding_mask: tokens cannot be made"):
        nn.padding_mask([[1, 2], [3]])


def test_is_causal_is_the_look_ahead_mask_and_adds_to_a_padding_mask():
    """F.scaled_dot_product_attention(q, k, v, is_causal=True), as GPTs call it, was refused
    as an unexpected keyword argument."""
    rng = np.random.default_rng(21)
    q, k, v = (rng.standard_normal((2, 3, 5, 4)) for _ in range(3))  # (m, h, T, d_k)
    attention = nn.scaled_dot_product_attention
    out, weights = attention(q, k, v, is_causal=True)
    expected_out, expected_weights = scaled_dot_product_attention_numpy(
        q, k, v, create_look_ahead_mask(5))
    np.testing.assert_allclose(out.data, expected_out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(weights.data, expected_weights, rtol=1e-12, atol=1e-14)
    assert np.all(weights.data[..., np.triu_indices(5, 1)[0], np.triu_indices(5, 1)[1]] == 0)
    pad = nn.padding_mask([[4, 4, 4, 0, 0], [4, 4, 4, 4, 4]])  # (2, 1, 1, 5)
    both, both_weights = attention(q, k, v, mask=pad, is_causal=True)
    combined, combined_weights = attention(q, k, v, mask=pad & nn.look_ahead_mask(5))
    np.testing.assert_array_equal(both.data, combined.data)
    np.testing.assert_array_equal(both_weights.data, combined_weights.data)
    assert np.all(both_weights.data[0, :, 4, 3:] == 0)  # padding and the future both hidden
    np.testing.assert_array_equal(attention(q, k, v, is_causal=False)[0].data,
                                  attention(q, k, v)[0].data)
    with pytest.raises(gg.ShapeError, match=(
            r"^scaled_dot_product_attention: is_causal hides from query t the keys after t, "
            r"which needs as many queries as keys; got T_q = 1 \(Q ndarray \(2, 3, 1, 4\) "
            r"float64\) and T_k = 5 \(K ndarray \(2, 3, 5, 4\) float64\)\. For queries that "
            r"are the last 1 of 5 positions \(decoding with cached keys\), pass "
            r"mask=np\.tril\(np\.ones\(\(1, 5\), bool\), 4\) instead$")):
        attention(q[:, :, -1:], k, v, is_causal=True)
    # what the message says is the last query of the causal attention
    last, _ = attention(q[:, :, -1:], k, v, mask=np.tril(np.ones((1, 5), bool), 4))
    np.testing.assert_allclose(last.data, out.data[:, :, -1:], rtol=1e-13, atol=1e-15)
    with pytest.raises(gg.ShapeError, match=r"T_q = 5 .* T_k = 2 \(K ndarray \(2, 3, 2, 4\) "
                                            r"float64\)$"):
        attention(q, k[:, :, :2], v[:, :, :2], is_causal=True)
    with pytest.raises(gg.ArgumentError, match=r"is_causal"):
        attention(q, k, v, is_causal=1)


# -- masks and positional encoding -----------------------------------------------------------------
def test_look_ahead_mask_is_the_course_mask():
    mask = nn.look_ahead_mask(4)
    assert mask.shape == (4, 4) and mask.dtype == bool
    np.testing.assert_array_equal(mask[None].astype(float), create_look_ahead_mask(4))
    for t in range(4):  # position t (0-based) attends to 0..t, positions 1..t+1 of the course
        np.testing.assert_array_equal(np.flatnonzero(mask[t]), np.arange(t + 1))


@pytest.mark.parametrize("pad", [None, "0", 0.5, True, [0]])
def test_padding_mask_refuses_a_pad_that_is_no_integer(pad):
    """Compared with the tokens, each of these equals none of them: every word, the padding
    too, was kept, and attention read the padding."""
    with pytest.raises(gg.ArgumentError, match=rf"^padding_mask: pad must be an integer, got "
                                               rf"{re.escape(repr(pad))}$"):
        nn.padding_mask(np.array([[4, 0, 0]]), pad=pad)
    np.testing.assert_array_equal(nn.padding_mask(np.array([[4, 0, 0]]), pad=np.int64(0)),
                                  [[[[True, False, False]]]])


def test_padding_mask_is_the_course_mask_with_a_head_axis():
    tokens = np.array([[7, 6, 0, 0, 1], [1, 2, 3, 0, 0], [3, 0, 0, 0, 0]])
    mask = nn.padding_mask(tokens)
    assert mask.shape == (3, 1, 1, 5) and mask.dtype == bool
    np.testing.assert_array_equal(mask[:, 0].astype(float), create_padding_mask(tokens))
    assert np.broadcast_shapes(mask.shape, (3, 2, 4, 5)) == (3, 2, 4, 5)
    np.testing.assert_array_equal(nn.padding_mask(gg.Tensor(tokens), pad=3)[2, 0, 0],
                                  [False, True, True, True, True])
    combined = nn.padding_mask(tokens) & nn.look_ahead_mask(5)
    assert combined.shape == (3, 1, 5, 5)
    np.testing.assert_array_equal(combined[1, 0, 4], [True, True, True, False, False])
    with pytest.raises(gg.ShapeError, match=r"padding_mask takes word indices of shape \(m, T\)"):
        nn.padding_mask([1, 2, 0])
    with pytest.raises(gg.ArgumentError, match=r"look_ahead_mask: T must be a whole number"):
        nn.look_ahead_mask(0)


@pytest.mark.parametrize("positions, d", [(5, 4), (50, 16), (7, 5), (1, 1)])
def test_positional_encoding_is_the_course_loop(positions, d):
    pe = nn.positional_encoding(positions, d)
    assert pe.shape == (positions, d) and pe.dtype == np.float64
    np.testing.assert_allclose(pe, positional_encoding_loop(positions, d), rtol=1e-13,
                               atol=1e-15)
    np.testing.assert_array_equal(pe[0, 0::2], 0.0)  # sin 0
    np.testing.assert_array_equal(pe[0, 1::2], 1.0)  # cos 0


def test_positional_encoding_known_values_and_float32():
    pe = nn.positional_encoding(3, 4)
    np.testing.assert_allclose(pe[2], [np.sin(2), np.cos(2), np.sin(0.02), np.cos(0.02)],
                               rtol=1e-15)
    pe32 = nn.positional_encoding(10, 6, np.float32)
    assert pe32.dtype == np.float32
    np.testing.assert_allclose(pe32, nn.positional_encoding(10, 6), rtol=1e-6, atol=1e-7)
    with pytest.raises(gg.ArgumentError, match=r"positional_encoding: d must be"):
        nn.positional_encoding(3, 0)


# -- MultiHeadAttention ----------------------------------------------------------------------------
def _mha(d_model=8, num_heads=2, seed=0, **kwargs):
    layer = nn.MultiHeadAttention(d_model, num_heads, rng=seed, **kwargs)
    randomise(layer, np.random.default_rng(seed + 100))
    return layer


@pytest.mark.parametrize("mask", [None, "padding", "look_ahead"])
def test_multi_head_attention_is_the_heads_one_by_one(mask):
    rng = np.random.default_rng(12)
    layer = _mha(8, 4)
    q_in = rng.standard_normal((2, 5, 8))
    kv_in = q_in if mask == "look_ahead" else rng.standard_normal((2, 3, 8))
    masks = {None: None, "padding": nn.padding_mask([[1, 1, 0], [1, 0, 0]]),
             "look_ahead": nn.look_ahead_mask(5)}
    out, weights = layer(q_in, kv_in, kv_in, mask=masks[mask], return_weights=True)
    expected_out, expected_weights = multi_head_attention_numpy(
        q_in, kv_in, kv_in, arrays_of(layer), 4, masks[mask])
    T_k = kv_in.shape[1]
    assert out.shape == (2, 5, 8) and weights.shape == (2, 4, 5, T_k)
    np.testing.assert_allclose(out.data, expected_out, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(weights.data, expected_weights, rtol=1e-11, atol=1e-15)
    np.testing.assert_array_equal(layer(q_in, kv_in, kv_in, mask=masks[mask]).data, out.data)


def test_multi_head_attention_reads_the_course_masks_of_rank_3():
    """The course's masks are Keras's attention_mask (m, T_q, T_k): (m, 1, T) and (1, T, T)."""
    rng = np.random.default_rng(13)
    layer = _mha(6, 3)
    tokens = np.array([[4, 2, 0, 0], [1, 2, 3, 0], [1, 1, 1, 1]])  # m = h = 3: no accident
    X = rng.standard_normal((3, 4, 6))
    for ours, course in [(nn.padding_mask(tokens), create_padding_mask(tokens)),
                         (nn.look_ahead_mask(4), create_look_ahead_mask(4))]:
        np.testing.assert_array_equal(layer(X, X, X, mask=course).data,
                                      layer(X, X, X, mask=ours).data)
    _, weights = layer(X, X, X, mask=create_padding_mask(tokens), return_weights=True)
    assert np.all(weights.data[0, :, :, 2:] == 0) and np.all(weights.data[1, :, :, 3] == 0)


@settings(max_examples=15, deadline=None)
@given(m=st.integers(1, 3), T_q=st.integers(1, 4), T_k=st.integers(1, 4),
       num_heads=st.integers(1, 3), d_k=st.integers(1, 3), masked=st.booleans(),
       seed=st.integers(0, 2**16))
def test_multi_head_attention_over_random_sizes(m, T_q, T_k, num_heads, d_k, masked, seed):
    rng = np.random.default_rng(seed)
    d_model = num_heads * d_k
    layer = _mha(d_model, num_heads, seed=seed)
    q_in, k_in, v_in = (rng.standard_normal((m, T, d_model)) for T in (T_q, T_k, T_k))
    mask = random_mask(rng, (m, 1, T_q, T_k)) if masked else None
    out, weights = layer(q_in, k_in, v_in, mask=mask, return_weights=True)
    expected_out, expected_weights = multi_head_attention_numpy(
        q_in, k_in, v_in, arrays_of(layer), num_heads, mask)
    np.testing.assert_allclose(out.data, expected_out, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(weights.data, expected_weights, rtol=1e-10, atol=1e-15)
    assert gg.gradcheck(of_inputs_and_parameters(layer, 3, mask=mask),
                        [q_in, k_in, v_in, *layer.parameters()], fast=True)


def test_multi_head_attention_gradcheck_of_inputs_and_every_parameter():
    rng = np.random.default_rng(14)
    layer = _mha(4, 2)
    inputs = [rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 2, 4)),
              rng.standard_normal((2, 2, 4)), *layer.parameters()]
    mask = np.array([[[[True, False]]], [[[True, True]]]])
    result = gg.gradcheck(of_inputs_and_parameters(layer, 3, mask=mask), inputs)
    assert result.passed and len(result.pairs) == 3 + 8  # Q, K, V and four W, four b
    assert_close_except_key_biases(result, layer, 3)


def test_multi_head_attention_parameters_names_and_repr():
    layer = nn.MultiHeadAttention(8, 2, rng=0)
    assert [name for name, _ in layer.named_parameters()] == [
        "query.W", "query.b", "key.W", "key.b", "value.W", "value.b", "out.W", "out.b"]
    assert all(p.shape in ((8, 8), (8,)) for p in layer.parameters())
    assert layer.count_parameters() == 4 * (8 * 8 + 8) == 288
    assert nn.MultiHeadAttention(8, 2, bias=False).count_parameters() == 4 * 8 * 8
    assert layer.d_k == 4
    assert repr(layer).splitlines()[0] == ("MultiHeadAttention(d_model=8, num_heads=2, "
                                           "init='xavier'  # 288 parameters")
    assert "(out): Linear(8 -> 8, init='xavier')" in repr(layer)
    # One stream for the four weights: a seed gives four different, reproducible matrices.
    again = nn.MultiHeadAttention(8, 2, rng=0)
    weights = [layer.query.W.data, layer.key.W.data, layer.value.W.data, layer.out.W.data]
    assert not np.array_equal(weights[0], weights[1])
    np.testing.assert_array_equal(again.out.W.data, weights[3])


def test_multi_head_attention_keeps_float32():
    layer = nn.MultiHeadAttention(4, 2, rng=0, dtype=np.float32)
    X = np.random.default_rng(15).standard_normal((2, 3, 4))  # float64 data is converted
    out, weights = layer(X, X, X, mask=nn.look_ahead_mask(3), return_weights=True)
    assert out.dtype == weights.dtype == np.float32
    out.sum().backward()
    assert all(p.grad.dtype == np.float32 for p in layer.parameters())
    params = {name: p.data.astype(float) for name, p in layer.named_parameters()}
    X32 = X.astype(np.float32).astype(float)
    expected, _ = multi_head_attention_numpy(X32, X32, X32, params, 2, nn.look_ahead_mask(3))
    np.testing.assert_allclose(out.data, expected, rtol=1e-4, atol=1e-5)


def test_multi_head_attention_dropout_drops_weights_after_the_softmax():
    rng = np.random.default_rng(21)
    layer = _mha(8, 2, dropout=0.3)
    assert layer.attention_dropout.keep_prob == 0.7
    q_in, kv_in = rng.standard_normal((4, 6, 8)), rng.standard_normal((4, 5, 8))
    out, weights = layer(q_in, kv_in, kv_in, return_weights=True)
    D = layer.attention_dropout.D.data
    assert D.shape == (4, 2, 6, 5) and set(np.unique(D)) == {0.0, 1.0}
    assert 0.2 < 1 - D.mean() < 0.4  # about 30% of the weights dropped
    expected_out, expected_weights = multi_head_attention_numpy(
        q_in, kv_in, kv_in, arrays_of(layer), 2, dropped=D / 0.7)
    np.testing.assert_allclose(out.data, expected_out, rtol=1e-11, atol=1e-12)
    # The weights returned are those before dropout, as Keras returns them: rows sum to 1.
    np.testing.assert_allclose(weights.data, multi_head_attention_numpy(
        q_in, kv_in, kv_in, arrays_of(layer), 2)[1], rtol=1e-11, atol=1e-15)
    np.testing.assert_allclose(weights.data.sum(axis=-1), 1.0, rtol=1e-12)
    undropped, _ = multi_head_attention_numpy(q_in, kv_in, kv_in, arrays_of(layer), 2)
    assert not np.allclose(out.data, undropped)
    layer.eval()  # no dropout: the course's function, and no new mask drawn
    np.testing.assert_allclose(layer(q_in, kv_in, kv_in).data, undropped, rtol=1e-11,
                               atol=1e-12)
    assert layer.attention_dropout.D.data is D
    off = _mha(8, 2)  # dropout 0, training mode: nothing drawn, nothing dropped
    assert off.attention_dropout.keep_prob == 1.0
    off(q_in, kv_in, kv_in)
    assert off.attention_dropout.D is None
    seeded = [_mha(8, 2, seed=3, dropout=0.5) for _ in range(2)]  # weights and masks
    np.testing.assert_array_equal(seeded[0](q_in, kv_in, kv_in).data,
                                  seeded[1](q_in, kv_in, kv_in).data)
    assert repr(layer.train()).splitlines()[0] == (
        "MultiHeadAttention(d_model=8, num_heads=2, dropout=0.3, init='xavier'  # 288 "
        "parameters")
    for bad in (1.0, -0.5):
        with pytest.raises(gg.ArgumentError, match=r"MultiHeadAttention\(d_model=8, num_heads="
                                                   r"2\): dropout is the probability of dropping"):
            nn.MultiHeadAttention(8, 2, dropout=bad)


def test_multi_head_attention_gradcheck_through_dropped_weights():
    """With the mask held fixed (the generator reseeded before every evaluation), dropout is
    a constant multiplier: the gradient of every input and parameter goes through it."""
    rng = np.random.default_rng(22)
    layer = _mha(4, 2, dropout=0.4)
    attention = of_inputs_and_parameters(layer, 3)

    def fn(*args):
        layer.attention_dropout.reseed(5)
        return attention(*args)

    inputs = [rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 4, 4)),
              rng.standard_normal((2, 4, 4)), *layer.parameters()]
    result = gg.gradcheck(fn, inputs)
    assert result.passed and len(result.pairs) == 3 + 8
    assert 0 < layer.attention_dropout.D.data.mean() < 1  # some weights were dropped
    assert_close_except_key_biases(result, layer, 3)


def test_multi_head_attention_errors():
    with pytest.raises(gg.ArgumentError, match=r"d_model \(10\) must be divisible by num_heads "
                                               r"\(4\).*num_heads can be 1, 2, 5, 10"):
        nn.MultiHeadAttention(10, 4)
    with pytest.raises(gg.ArgumentError, match=r"num_heads must be a whole number"):
        nn.MultiHeadAttention(8, 0)
    layer = nn.MultiHeadAttention(4, 2, rng=0)
    label = r"MultiHeadAttention\(d_model=4, num_heads=2\) takes "
    X = np.ones((2, 3, 4))
    with pytest.raises(gg.ShapeError,
                       match=label + r"Q of shape \(m, T_q, 4\).*\(3, 4\).*X\[None\]"):
        layer(np.ones((3, 4)), X, X)
    with pytest.raises(gg.ShapeError, match=label + r"Q of shape \(m, T_q, 4\).*\(2, 3, 5\)"):
        layer(np.ones((2, 3, 5)), X, X)
    with pytest.raises(gg.ShapeError, match=label + r"K of shape \(2, T_k, 4\).*\(1, 3, 4\)"):
        layer(X, np.ones((1, 3, 4)), X)
    with pytest.raises(gg.ShapeError, match=label + r"V of shape \(2, 3, 4\).*\(2, 2, 4\)"):
        layer(X, X, np.ones((2, 2, 4)))
    with pytest.raises(gg.ShapeError, match=r"MultiHeadAttention.*mask of shape \(3, 1, 1, 3\) "
                                            r"does not broadcast to the scores' shape "
                                            r"\(m, h, T_q, T_k\) = \(2, 2, 3, 3\)"):
        layer(X, X, X, mask=nn.padding_mask(np.ones((3, 3))))
    with pytest.raises(gg.ShapeError, match=r"MultiHeadAttention.*K ndarray \(2, 0, 4\) "
                                            r"float64 has no keys \(T_k = 0\)"):
        layer(X, np.ones((2, 0, 4)), np.ones((2, 0, 4)))
    with pytest.raises(gg.GraphgradTypeError, match=r"MultiHeadAttention.*: the mask cannot be "
                                                    r"made into an array"):
        layer(X, X, X, mask=[[1, 0, 1], [1, 1]])


# -- masks stop information ------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda: _mha(6, 2),
    lambda: nn.TransformerEncoderLayer(6, 3, 10, rng=1).eval(),
])
def test_look_ahead_mask_stops_information_from_later_positions(make):
    layer = make()

    def run(X, mask):
        return layer(X, X, X, mask=mask) if isinstance(layer, nn.MultiHeadAttention) else \
            layer(X, mask=mask)

    rng = np.random.default_rng(16)
    X = rng.standard_normal((2, 5, 6))
    changed = X.copy()
    changed[:, 3:] = rng.standard_normal((2, 2, 6)) * 10
    mask = nn.look_ahead_mask(5)
    before, after = run(X, mask).data, run(changed, mask).data
    np.testing.assert_array_equal(after[:, :3], before[:, :3])  # bit for bit
    assert np.all(after[:, 3:] != before[:, 3:])
    for given_mask, later_is_zero in [(mask, True), (None, False)]:
        X_t = gg.Tensor(X, requires_grad=True)
        # Not .sum(): the sum of a layer norm's outputs does not depend on its input.
        run(X_t, given_mask)[:, :3].backward(rng.standard_normal((2, 3, 6)))
        assert np.all(X_t.grad[:, :3] != 0)
        assert np.all(X_t.grad[:, 3:] == 0) == later_is_zero  # exactly 0 only with the mask


def test_pytorch_look_ahead_mask_where_true_hides_a_key_is_refused():
    """nn.MultiheadAttention's causal attn_mask, True above the diagonal (True hides): read
    as True = may attend, each query had attended to the later keys only, the last to none
    (uniform weights), without a word."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((2, 4, 8))
    hiding = np.triu(np.ones((4, 4), dtype=bool), 1)
    layer = nn.MultiHeadAttention(8, 2, rng=0)
    decoder = nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, rng=0)
    refusals = [
        lambda: nn.scaled_dot_product_attention(X, X, X, hiding),
        lambda: nn.scaled_dot_product_attention(X, X, X, hiding[None].astype(float)),
        lambda: layer(X, X, X, mask=hiding),
        lambda: layer(X, X, X, mask=np.broadcast_to(hiding, (2, 1, 4, 4))),
        lambda: decoder(X, X, mask=hiding),
    ]
    for call in refusals:
        with pytest.raises(gg.ArgumentError, match=r"mask of shape \(.*4, 4\) lets each query "
                                                    r"attend only to the keys after it.*"
                                                    r"nn.MultiheadAttention.*pass ~mask, or "
                                                    r"look_ahead_mask\(4\)"):
            call()
    # ~mask is the course's look-ahead mask: query t averages the values of keys 1..t
    out, weights = nn.scaled_dot_product_attention(X, X, X, ~hiding)
    scores = X @ X.swapaxes(-1, -2) / np.sqrt(8)
    scores[:, hiding] = -np.inf
    expected = np.exp(scores - scores.max(axis=-1, keepdims=True))
    expected /= expected.sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(weights.data, expected, rtol=1e-12, atol=0)
    np.testing.assert_allclose(out.data, expected @ X, rtol=1e-12)
    np.testing.assert_array_equal(layer(X, X, X, mask=~hiding).data,
                                  layer(X, X, X, mask=nn.look_ahead_mask(4)).data)
    # masks that are not square, or that let some query see itself or an earlier key, pass
    assert nn.scaled_dot_product_attention(X[:, :3], X, X, hiding[:3])[0].shape == (2, 3, 8)
    assert np.isfinite(layer(X, X, X, mask=np.triu(np.ones((4, 4)))).data).all()
