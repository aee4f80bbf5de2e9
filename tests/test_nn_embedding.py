"""Embedding: lookups against E[indices], the scatter-add gradient of repeated words, gradient
checks, errors that name the offending index, pretrained matrices, dtypes and a small model
that learns to sort words into two groups."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import graphgrad as gg
from graphgrad import nn, optim
from graphgrad.nn.containers import Sequential
from graphgrad.nn.embedding import Embedding
from graphgrad.nn.module import Module

RNG = np.random.default_rng(11)


def test_a_batch_of_words_looks_up_rows_of_E():
    layer = Embedding(10, 4, rng=0)
    words = np.array([3, 0, 9, 3])
    out = layer(words)
    assert layer.E.shape == (10, 4) and out.shape == (4, 4)
    np.testing.assert_array_equal(out.data, layer.E.data[words])
    np.testing.assert_array_equal(out.data[0], out.data[3])  # the same word, the same vector


def test_a_batch_of_sentences_gives_m_by_T_x_by_n_e():
    layer = Embedding(10, 4, rng=0)
    sentences = np.array([[1, 2, 3, 0, 0], [4, 4, 9, 8, 1]])  # (m, T_x) = (2, 5)
    out = layer(sentences)
    assert out.shape == (2, 5, 4)
    np.testing.assert_array_equal(out.data, layer.E.data[sentences])
    np.testing.assert_array_equal(out.data[1, 2], layer.E.data[9])
    # lists and Tensors of whole numbers (a Tensor made from ints holds float64) work alike
    np.testing.assert_array_equal(layer(sentences.tolist()).data, out.data)
    np.testing.assert_array_equal(layer(gg.Tensor(sentences)).data, out.data)


def test_E_is_the_course_matrix_transposed():
    """e_w = E_course o_w, the course's product with a one-hot vector, is row w of layer.E."""
    layer = Embedding(6, 3, rng=1)
    E_course = layer.E.data.T  # (n_e, n_vocab)
    o_4 = np.eye(6)[:, [4]]  # (n_vocab, 1)
    np.testing.assert_allclose(layer([4]).data.T, E_course @ o_4, rtol=0, atol=0)


def test_the_gradient_of_E_adds_up_the_rows_of_repeated_words():
    layer = Embedding(5, 3, rng=0)
    words = np.array([[1, 4, 1], [1, 0, 4]])  # word 1 three times, word 4 twice, 2 and 3 never
    G = RNG.standard_normal((2, 3, 3))  # dJ/d(output)
    (layer(words) * G).sum().backward()
    expected = np.zeros((5, 3))
    np.add.at(expected, words, G)
    np.testing.assert_allclose(layer.E.grad, expected, rtol=1e-15, atol=0)
    np.testing.assert_allclose(layer.E.grad[1], G[0, 0] + G[0, 2] + G[1, 0], rtol=1e-15)
    assert not layer.E.grad[[2, 3]].any()


def _lookup(E, words):
    layer = Embedding(*E.shape)
    layer.E = E
    return layer(words)


@pytest.mark.parametrize("words", [np.array([2, 0, 2, 2]), np.array([[1, 3, 1], [0, 0, 3]])])
def test_embedding_passes_gradcheck_in_float64(words):
    E = RNG.standard_normal((4, 3))
    result = gg.gradcheck(_lookup, [E, words])  # integer indices: a constant input
    assert [(p.input, p.size) for p in result.pairs] == [(0, 12)]
    assert result.pairs[0].relative_difference < 1e-7


def test_embedding_has_right_second_derivatives():
    E = RNG.standard_normal((4, 3))
    assert gg.gradgradcheck(lambda E, w: _lookup(E, w) ** 2, [E, np.array([[1, 1], [3, 0]])])


@given(st.integers(1, 12), st.integers(1, 5),
       hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4), st.data())
def test_lookup_and_gradient_for_any_vocabulary_and_index_shape(n_vocab, n_e, shape, data):
    words = data.draw(hnp.arrays(np.int64, shape, elements=st.integers(0, n_vocab - 1)))
    layer = Embedding(n_vocab, n_e, rng=0)
    out = layer(words)
    assert out.shape == shape + (n_e,)
    np.testing.assert_array_equal(out.data, layer.E.data[words])
    G = np.random.default_rng(words.size).standard_normal(out.shape)
    (out * G).sum().backward()
    expected = np.zeros((n_vocab, n_e))
    np.add.at(expected, words, G)
    np.testing.assert_allclose(layer.E.grad, expected, rtol=1e-12, atol=1e-12)


# -- errors ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("words, message", [
    (np.array([[1, 12, 3], [11, 0, 2]]),
     r"Embedding\(n_vocab=10, n_e=4\): indices\[0, 1\] = 12 is out of range, the first of 2 "
     r"in ndarray \(2, 3\) int64; word indices run from 0 to n_vocab - 1 = 9\. Build the "
     r"layer with n_vocab = 13 or more"),
    ([0, 10], r"indices\[1\] = 10 is out of range in ndarray \(2,\) int64.*n_vocab = 11 or more"),
    ([3, -1], r"indices\[1\] = -1 is out of range.*Negative indices do not count from the end"),
])
def test_an_index_out_of_range_is_named_with_n_vocab(words, message):
    with pytest.raises(gg.GraphgradError, match=message) as info:
        Embedding(10, 4)(words)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("words, message", [
    (np.array([[1.0, 2.5]]), r"whole numbers from 0 to 9; ndarray \(1, 2\) float64 holds 2\.5 "
                             r"at indices\[0, 1\]\. Round"),
    (np.array([np.nan]), r"holds nan at indices\[0\]"),
    (gg.Tensor([0.0, 1.5]), r"unnamed tensor \(2,\) float64 holds 1\.5 at indices\[1\]"),
    (np.array(["the", "cat"]), r"integer word indices.*word_to_index\[word\]"),
    (np.array([True, False]), r"integer word indices.*bool.*np.flatnonzero\(mask\)"),
])
def test_indices_that_are_not_whole_numbers_are_refused(words, message):
    with pytest.raises(gg.GraphgradError, match=message) as info:
        Embedding(10, 4)(words)
    assert isinstance(info.value, TypeError)
    assert "Embedding(n_vocab=10, n_e=4)" in str(info.value)


def test_indices_that_require_grad_are_refused():
    X = gg.Tensor([1.0, 2.0], requires_grad=True, name="X")
    with pytest.raises(gg.GraphgradError, match=r"Embedding\(n_vocab=10, n_e=4\) takes word "
                       r"indices, which have no gradient, got 'X' \(2,\) float64, which "
                       r"requires grad\. Pass the indices as integers") as info:
        Embedding(10, 4)(X)
    assert isinstance(info.value, TypeError)


@pytest.mark.parametrize("n_vocab, n_e, what", [(0, 4, "n_vocab"), (10, 2.5, "n_e"),
                                                ("10", 4, "n_vocab")])
def test_sizes_must_be_whole_numbers(n_vocab, n_e, what):
    with pytest.raises(gg.GraphgradError, match=f"Embedding: {what} must be a whole number"):
        Embedding(n_vocab, n_e)


def test_from_pretrained_refuses_a_matrix_of_the_wrong_shape():
    with pytest.raises(gg.GraphgradError, match=r"E of shape \(n_vocab, n_e\).*\(5,\)"):
        Embedding.from_pretrained(np.ones(5))
    with pytest.raises(gg.GraphgradError, match="a matrix of numbers"):
        Embedding.from_pretrained(np.array([["a", "b"]]))


# -- pretrained, dtypes, modules -------------------------------------------------------------------
def test_from_pretrained_frozen_keeps_the_vectors_and_learns_nothing():
    E = RNG.standard_normal((6, 3))
    layer = Embedding.from_pretrained(E)
    assert layer.frozen and not layer.E.requires_grad and isinstance(layer.E, nn.Parameter)
    # a frozen parameter, as PyTorch's: listed and saved, counted as frozen
    assert layer.parameters() == [layer.E] and layer.count_parameters(trainable=True) == 0
    np.testing.assert_array_equal(layer.state_dict()["E"], E)
    np.testing.assert_array_equal(layer([5, 0]).data, E[[5, 0]])
    assert layer.E.data is not E  # a copy: the caller's matrix is never written
    # in a model, only the head trains; the gradient still flows through the lookup to nothing
    head = nn.Linear(3, 2, rng=0)
    model = Sequential(layer, head)
    assert [name for name, _ in model.named_parameters()] == [
        "embedding1.E", "linear1.W", "linear1.b"]
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    nn.cross_entropy(model([1, 2]), [0, 1]).backward()
    optimizer.step()
    assert layer.E.grad is None and head.W.grad is not None
    np.testing.assert_array_equal(layer.E.data, E)
    assert repr(layer) == "Embedding(n_vocab=6, n_e=3, pretrained)  # 18 parameters (18 frozen)"


def test_from_pretrained_frozen_is_unfrozen_with_the_model_for_fine_tuning():
    # The head is trained first, then the whole model with the optimizer made over all of it:
    # model.requires_grad_(True) unfreezes E, which left it a constant, never trained or saved.
    E = RNG.standard_normal((6, 3))
    layer = Embedding.from_pretrained(E)
    head = nn.Linear(3, 2, rng=0)
    model = Sequential(layer, head)
    optimizer = optim.SGD(model.parameters(), lr=0.5)
    model.requires_grad_(True)
    assert not layer.frozen and layer.E.requires_grad
    head_W = head.W.data.copy()
    optimizer.zero_grad()
    Z = model([1, 1, 4])
    nn.cross_entropy(Z, [0, 1, 1]).backward()
    # dE: row w gets dZ W of each position of word w, dZ = (softmax(Z) - Y) / m
    A = np.exp(Z.data) / np.exp(Z.data).sum(axis=1, keepdims=True)
    dZ = (A - np.eye(2)[[0, 1, 1]]) / 3
    expected = np.zeros((6, 3))
    np.add.at(expected, [1, 1, 4], dZ @ head_W)
    np.testing.assert_allclose(layer.E.grad, expected, rtol=1e-12)
    optimizer.step()
    np.testing.assert_allclose(layer.E.data, E - 0.5 * expected, rtol=1e-12)
    assert model.state_dict()["embedding1.E"].tolist() == layer.E.data.tolist()


def test_from_pretrained_trainable_is_a_parameter_that_learns():
    E = RNG.standard_normal((6, 3))
    layer = Embedding.from_pretrained(gg.Tensor(E), freeze=False)
    assert not layer.frozen and isinstance(layer.E, nn.Parameter)
    assert [name for name, _ in layer.named_parameters()] == ["E"]
    np.testing.assert_array_equal(layer.state_dict()["E"], E)
    (layer([1, 1, 4]) ** 2).sum().backward()
    expected = np.zeros((6, 3))
    expected[1], expected[4] = 4 * E[1], 2 * E[4]
    np.testing.assert_allclose(layer.E.grad, expected, rtol=1e-15)
    optim.SGD(layer.parameters(), lr=0.1).step()
    np.testing.assert_allclose(layer.E.data, E - 0.1 * expected, rtol=1e-15)
    np.testing.assert_array_equal(E, gg.Tensor(E).data)  # the given matrix is unchanged
    assert repr(layer) == "Embedding(n_vocab=6, n_e=3, pretrained)  # 18 parameters"


def test_float32_embeddings_stay_float32():
    layer = Embedding(8, 3, rng=0, dtype=np.float32)
    out = layer(np.array([[1, 2], [2, 7]]))
    assert layer.E.dtype == np.float32 and out.dtype == np.float32
    out.sum().backward()
    assert layer.E.grad.dtype == np.float32
    assert layer.E.grad[2].tolist() == [2.0, 2.0, 2.0]
    pretrained = Embedding.from_pretrained(np.ones((4, 2), np.float32), freeze=False)
    assert pretrained.E.dtype == np.float32 and pretrained([0, 3]).dtype == np.float32
    assert Embedding.from_pretrained(np.ones((4, 2), int)).E.dtype == np.float64


def test_repr_state_dict_and_the_default_init():
    layer = Embedding(1000, 50, rng=0)
    assert repr(layer) == "Embedding(n_vocab=1000, n_e=50, init='xavier')  # 50,000 parameters"
    # xavier on (n_vocab, n_e): N(0, 1/n_e), so an embedding starts with a length of about 1
    lengths = np.linalg.norm(layer.E.data, axis=1)
    assert lengths.mean() == pytest.approx(1.0, abs=0.05)
    other = Embedding(1000, 50, rng=1)
    other.load_state_dict(layer.state_dict())
    np.testing.assert_array_equal(other([7, 999]).data, layer([7, 999]).data)
    assert list(Sequential(layer).state_dict()) == ["embedding1.E"]
    same = Embedding(4, 2, rng=5).E.data
    np.testing.assert_array_equal(Embedding(4, 2, rng=5).E.data, same)


def test_the_lookup_is_one_node_in_the_layer_s_scope():
    model = Sequential(Embedding(5, 2, rng=0), nn.Linear(2, 1, rng=0))
    out = model([[1, 2]])
    lookup = out.creator.inputs[0].creator
    assert type(lookup).__name__ == "GetItem" and lookup.scope == "embedding1"


# -- learning --------------------------------------------------------------------------------------
class WordClassifier(Module):
    def __init__(self, n_vocab, n_e):
        super().__init__()
        self.embed = Embedding(n_vocab, n_e, rng=0)
        self.out = nn.Linear(n_e, 2, init="xavier", rng=1)

    def forward(self, words):
        return self.out(self.embed(words))


def test_a_tiny_model_learns_to_sort_words_into_two_groups():
    n_vocab = 12
    group = np.array([0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 0])  # no pattern in the indices
    # every word 5 times, shuffled: each row of E gets the sum of 5 gradients per step
    words = np.random.default_rng(0).permutation(np.repeat(np.arange(n_vocab), 5))
    model = WordClassifier(n_vocab, 4)
    optimizer = optim.SGD(model.parameters(), lr=1.0)
    for _ in range(300):
        model.zero_grad()
        J = nn.cross_entropy(model(words), group[words])
        J.backward()
        optimizer.step()
    every_word = np.arange(n_vocab)
    predicted = model(every_word).data.argmax(axis=1)
    assert np.mean(predicted == group) == 1.0
    assert J.item() < 0.01


def test_padding_idx_starts_as_zeros_and_gets_no_gradient():
    layer = nn.Embedding(5, 3, rng=0, padding_idx=0)
    assert np.all(layer.E.data[0] == 0.0) and np.all(layer.E.data[1:] != 0.0)
    words = np.array([[1, 0, 0], [2, 2, 0]])  # two sentences padded to length 3
    dZ = np.arange(18.0).reshape(2, 3, 3)
    Z = layer(words)
    np.testing.assert_array_equal(Z.data[words == 0], np.zeros((3, 3)))
    (Z * dZ).sum().backward()
    expected = np.zeros((5, 3))
    np.add.at(expected, words[words != 0], dZ[words != 0])  # every word but the padding
    np.testing.assert_array_equal(layer.E.grad, expected)
    assert np.all(layer.E.grad[0] == 0.0) and layer.E.grad[2].tolist() == [21.0, 23.0, 25.0]
    (dE,) = gg.grad((layer(words) ** 2).sum(), [layer.E], create_graph=True)
    uses = np.array([0.0, 1.0, 2.0, 0.0, 0.0])[:, None]  # of each word; the padding's: none
    np.testing.assert_array_equal(dE.data, 2.0 * uses * layer.E.data)
    (d2,) = gg.grad(dE.sum(), [layer.E])  # d/dE of sum 2 k_w E_w: 2 k_w, 0 at the padding
    np.testing.assert_array_equal(d2[:, 0], [0.0, 2.0, 4.0, 0.0, 0.0])


def test_padding_idx_counts_from_the_end_and_is_checked():
    assert nn.Embedding(5, 2, padding_idx=-1).padding_idx == 4
    assert repr(nn.Embedding(5, 2, padding_idx=4)).startswith(
        "Embedding(n_vocab=5, n_e=2, padding_idx=4, init='xavier')")
    with pytest.raises(gg.ArgumentError, match=r"padding_idx=5 is not a word of the "
                                               r"vocabulary of n_vocab=5: give an index from 0"):
        nn.Embedding(5, 2, padding_idx=5)
    with pytest.raises(gg.GraphgradTypeError, match=r"padding_idx must be a word index"):
        nn.Embedding(5, 2, padding_idx=1.0)
    pretrained = np.arange(6.0).reshape(3, 2)
    layer = Embedding.from_pretrained(pretrained, freeze=False, padding_idx=1)
    np.testing.assert_array_equal(layer.E.data[1], [2.0, 3.0])  # kept as given, as PyTorch
    layer(np.array([1, 2, 1])).sum().backward()
    np.testing.assert_array_equal(layer.E.grad, [[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]])


def test_padding_idx_zeroes_a_copy_of_a_read_only_initial_matrix():
    table = np.arange(6.0).reshape(3, 2)
    table.setflags(write=False)
    layer = nn.Embedding(3, 2, init=lambda shape, rng: table, padding_idx=1)
    np.testing.assert_array_equal(layer.E.data, [[0.0, 1.0], [0.0, 0.0], [4.0, 5.0]])
    np.testing.assert_array_equal(table[1], [2.0, 3.0])  # the init's array is not changed


def test_padding_idx_backward_uses_the_indices_as_they_were_at_forward():
    layer = nn.Embedding(4, 2, rng=0, padding_idx=0)
    words = np.array([1, 2, 0], dtype=np.intp)  # the layer's own index dtype: not copied on input
    Z = layer(words)
    words[:] = 3  # the caller reuses its buffer before backward
    Z.sum().backward()
    np.testing.assert_array_equal(layer.E.grad, [[0.0, 0.0], [1.0, 1.0], [1.0, 1.0], [0.0, 0.0]])


# -- PyTorch's max_norm, norm_type and scale_grad_by_freq ----------------------------------------
def _vectors():
    """Rows of norms 5, 1, 13 and 0.5 (2-norm); 7, 1.4, 17 and 0.7 in the 1-norm."""
    return np.array([[3.0, 4.0], [0.6, 0.8], [5.0, -12.0], [0.3, -0.4]])


def test_max_norm_renormalises_the_rows_looked_up_in_place_as_pytorchs():
    layer = Embedding.from_pretrained(_vectors(), freeze=False, max_norm=2.0)
    E = layer.E.data
    out = layer([0, 2, 2, 1])
    expected = _vectors()
    expected[0] *= 2.0 / (5.0 + 1e-7)  # above max_norm: scaled to it, PyTorch's 1e-7 added
    expected[2] *= 2.0 / (13.0 + 1e-7)
    np.testing.assert_allclose(layer.E.data, expected, rtol=1e-15)
    assert layer.E.data is E  # in place
    np.testing.assert_allclose(out.data, expected[[0, 2, 2, 1]], rtol=1e-15)
    np.testing.assert_allclose(np.linalg.norm(layer.E.data[[0, 2]], axis=1), 2.0, rtol=1e-7)
    # the renormalisation is outside the graph: the gradient is the plain lookup's
    G = RNG.standard_normal(out.shape)
    (out * G).sum().backward()
    grad = np.zeros((4, 2))
    np.add.at(grad, [0, 2, 2, 1], G)
    np.testing.assert_allclose(layer.E.grad, grad, rtol=1e-15)
    # a row above max_norm but not looked up stays as it was
    layer = Embedding.from_pretrained(_vectors(), max_norm=0.75)
    layer([3])
    np.testing.assert_array_equal(layer.E.data, _vectors())
    assert "max_norm=0.75" in repr(layer)


@pytest.mark.parametrize("norm_type, norms", [(1, [7.0, 1.4, 17.0, 0.7]),
                                              (np.inf, [4.0, 0.8, 12.0, 0.4])],
                         ids=["1", "inf"])
def test_max_norm_takes_the_norm_of_order_norm_type(norm_type, norms):
    layer = Embedding.from_pretrained(_vectors(), max_norm=1.0, norm_type=norm_type)
    layer([0, 1, 2, 3])
    scale = np.where(np.array(norms) > 1.0, 1.0 / (np.array(norms) + 1e-7), 1.0)
    np.testing.assert_allclose(layer.E.data, _vectors() * scale[:, None], rtol=1e-15)
    assert f"norm_type={norm_type:g}" in repr(layer)


def test_max_norm_leaves_the_pretrained_matrix_given_and_keeps_float32():
    vectors = _vectors().astype(np.float32)
    layer = Embedding.from_pretrained(vectors, max_norm=1.0)
    out = layer([0])
    assert out.dtype == layer.E.dtype == np.float32
    np.testing.assert_array_equal(vectors, _vectors().astype(np.float32))
    np.testing.assert_allclose(np.linalg.norm(out.data), 1.0, rtol=1e-6)


def test_max_norm_of_a_matrix_a_graph_holds_gives_it_a_new_array():
    """Tied weights: E also multiplies the hidden states into logits, and that graph keeps E's
    array (read-only while it lives). The renormalisation then writes a new array, so the
    graph's backward keeps the values it was computed from."""
    layer = Embedding.from_pretrained(_vectors(), freeze=False, max_norm=2.0)
    H = gg.Tensor(RNG.standard_normal((3, 2)), requires_grad=True)
    logits = H @ layer.E.T  # saves E's array
    held = layer.E.data
    assert not held.flags.writeable
    layer([2])
    assert layer.E.data is not held
    np.testing.assert_array_equal(held, _vectors())
    np.testing.assert_allclose(layer.E.data[2], _vectors()[2] * 2.0 / (13.0 + 1e-7))
    G = RNG.standard_normal((3, 4))
    (logits * G).sum().backward()
    np.testing.assert_allclose(H.grad, G @ _vectors(), rtol=1e-15)


def test_functional_embedding_renormalises_an_array_in_place_and_refuses_a_read_only_one():
    W = _vectors()
    out = nn.functional.embedding(np.array([[2, 0]]), W, max_norm=1.0)
    assert out.shape == (1, 2, 2)
    np.testing.assert_allclose(W[[0, 2]], _vectors()[[0, 2]] / (np.array([[5.0], [13.0]])
                                                                + 1e-7), rtol=1e-15)
    np.testing.assert_array_equal(W[[1, 3]], _vectors()[[1, 3]])
    T = gg.Tensor(_vectors())
    nn.functional.embedding([1, 2], T, max_norm=1.0)
    np.testing.assert_allclose(np.linalg.norm(T.data[2]), 1.0, rtol=1e-7)
    frozen = _vectors()
    frozen.flags.writeable = False
    with pytest.raises(gg.ArgumentError, match=r"^embedding: max_norm renormalises .* in "
                                               r"place.* cannot be written: pass a writeable"):
        nn.functional.embedding([0], frozen, max_norm=1.0)
    with pytest.raises(gg.ArgumentError, match=r"cannot be written"):
        nn.functional.embedding([0], np.ones((3, 2), dtype=int), max_norm=1.0)


def test_scale_grad_by_freq_divides_each_words_gradient_by_its_count():
    words = np.array([[1, 4, 1], [1, 0, 4]])  # word 1 three times, 4 twice, 0 once
    counts = np.bincount(words.ravel(), minlength=5)
    G = RNG.standard_normal((2, 3, 3))
    layer = Embedding(5, 3, rng=0, scale_grad_by_freq=True)
    out = layer(words)
    np.testing.assert_array_equal(out.data, layer.E.data[words])
    (out * G).sum().backward()
    expected = np.zeros((5, 3))
    np.add.at(expected, words, G / counts[words][..., None])
    np.testing.assert_allclose(layer.E.grad, expected, rtol=1e-15)
    np.testing.assert_allclose(layer.E.grad[1], (G[0, 0] + G[0, 2] + G[1, 0]) / 3, rtol=1e-15)
    assert "scale_grad_by_freq=True" in repr(layer)
    # with padding_idx: the padding row gets none, the others their scaled sums
    padded = Embedding(5, 3, rng=0, padding_idx=1, scale_grad_by_freq=True)
    (padded(words) * G).sum().backward()
    expected[1] = 0.0
    np.testing.assert_allclose(padded.E.grad, expected, rtol=1e-15)
    # the function, and second derivatives through its (linear) backward
    E = gg.Tensor(layer.E.data.copy(), requires_grad=True)
    (nn.functional.embedding(words, E, scale_grad_by_freq=True) * G).sum().backward()
    np.testing.assert_allclose(E.grad, np.where(np.arange(5)[:, None] == 1,
                                                layer.E.grad, expected), rtol=1e-15)
    grad, = gg.grad((layer(words) * G).sum(), [layer.E], create_graph=True)
    np.testing.assert_allclose(grad.data, layer.E.grad, rtol=1e-15)


def test_scale_grad_by_freq_of_words_seen_once_passes_gradcheck():
    words = np.array([3, 0, 2])  # each once: the scaled gradient is the derivative

    def fn(E):
        return nn.functional.embedding(words, E, scale_grad_by_freq=True, max_norm=100.0)

    assert gg.gradcheck(fn, [RNG.standard_normal((4, 3))])


@pytest.mark.parametrize("args, write", [
    ((10, 4, 0), r"Embedding\(10, 4, padding_idx=0\)"),
    ((10, 4, None, 2.0), r"Embedding\(10, 4, padding_idx=None, max_norm=2.0\)"),
    ((10, 4, 1, 1.5, 1.0), r"Embedding\(10, 4, padding_idx=1, max_norm=1.5, norm_type=1.0\)"),
], ids=["padding_idx", "max_norm", "norm_type"])
def test_embedding_in_pytorchs_positional_order_is_refused_saying_what_to_write(args, write):
    """PyTorch's Embedding(num_embeddings, embedding_dim, padding_idx, max_norm, ...): its
    padding_idx lands in the course's init, max_norm in rng, norm_type in dtype."""
    with pytest.raises(gg.ArgumentError, match=(
            rf"^Embedding: init must be an initialiser, got {args[2]}: PyTorch's order is "
            r"Embedding\(num_embeddings, embedding_dim, padding_idx, max_norm, norm_type, "
            r"scale_grad_by_freq\), the course's Embedding\(n_vocab, n_e, init, rng, "
            rf"dtype\); write {write}")):
        Embedding(*args)


@pytest.mark.parametrize("call, message", [
    (lambda: Embedding(4, 2, max_norm=0), r"^Embedding: max_norm must be None or a positive "
                                          r"number"),
    (lambda: Embedding(4, 2, max_norm="1"), r"^Embedding: max_norm must be"),
    (lambda: Embedding(4, 2, max_norm=1.0, norm_type=0), r"^Embedding: norm_type must be "
                                                         r"the order of a norm, above 0"),
    (lambda: Embedding(4, 2, scale_grad_by_freq=1), r"^Embedding: scale_grad_by_freq must "
                                                    r"be True or False, got 1"),
    (lambda: Embedding.from_pretrained(np.ones((3, 2)), freeze="no"),
     r"^Embedding.from_pretrained: freeze must be True or False"),
    (lambda: Embedding.from_pretrained(np.ones((3, 2)), padding_idx=3),
     r"^Embedding.from_pretrained: padding_idx=3 is not a word"),
    (lambda: Embedding.from_pretrained(np.ones((3, 2)), max_norm=-1.0),
     r"^Embedding: max_norm must be None or a positive number"),
    (lambda: nn.functional.embedding([0], np.ones((3, 2)), max_norm=np.inf),
     r"^embedding: max_norm must be None or a positive number"),
], ids=["max_norm 0", "max_norm text", "norm_type 0", "scale 1", "freeze text",
        "padding_idx", "pretrained max_norm", "function max_norm"])
def test_embedding_options_are_refused_naming_the_layer(call, message):
    with pytest.raises((gg.ArgumentError, gg.GraphgradTypeError), match=message):
        call()
