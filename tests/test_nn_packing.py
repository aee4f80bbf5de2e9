"""nn.utils.rnn, PyTorch's packed sequences: the layout of PyTorch's documented examples by
hand (data order, batch_sizes, sorted and unsorted indices), round trips through
pad_packed_sequence, pack_sequence / unpack_sequence and unpad_sequence, gradients through
packing and padding (gradcheck, float64, second order too), and the refusals."""
import numpy as np
import pytest

import graphgrad as gg
from graphgrad import nn
from graphgrad.nn.utils.rnn import (
    PackedSequence,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
    unpack_sequence,
    unpad_sequence,
)


# -- the layout ---------------------------------------------------------------------------------
def test_pack_sequence_lays_out_pytorchs_documented_example():
    """PyTorch's docstring: a = [1, 2, 3], b = [4, 5], c = [6] pack as data [1, 4, 6, 2, 5, 3]
    with batch_sizes [3, 2, 1], and no indices (already sorted)."""
    packed = pack_sequence([gg.Tensor([1.0, 2, 3]), gg.Tensor([4.0, 5]), gg.Tensor([6.0])])
    assert isinstance(packed, PackedSequence) and isinstance(packed, tuple)
    np.testing.assert_array_equal(packed.data.data, [1, 4, 6, 2, 5, 3])
    np.testing.assert_array_equal(packed.batch_sizes, [3, 2, 1])
    assert packed.batch_sizes.dtype == np.int64
    assert packed.sorted_indices is None and packed.unsorted_indices is None
    data, batch_sizes, sorted_indices, unsorted_indices = packed  # a named tuple
    assert data is packed.data and sorted_indices is None


def test_pack_padded_sequence_is_time_major_over_the_sorted_batch():
    """X (T=4, m=3, 1) holds 10 * t + b at step t of sequence b; lengths [2, 4, 2] sort
    (stably) to sequence 1, 0, 2, so data takes step 0 of 1, 0, 2, step 1 of 1, 0, 2, then
    steps 2 and 3 of sequence 1 alone."""
    T, m = 4, 3
    X = (10.0 * np.arange(T)[:, None] + np.arange(m)[None, :])[..., None]
    packed = pack_padded_sequence(X, [2, 4, 2], enforce_sorted=False)
    np.testing.assert_array_equal(packed.data.data[:, 0], [1, 0, 2, 11, 10, 12, 21, 31])
    np.testing.assert_array_equal(packed.batch_sizes, [3, 3, 1, 1])
    np.testing.assert_array_equal(packed.sorted_indices, [1, 0, 2])
    np.testing.assert_array_equal(packed.unsorted_indices, [1, 0, 2])
    assert packed.data.shape == (8, 1)
    # batch first: the same batch with its first two axes swapped packs the same way
    again = pack_padded_sequence(np.swapaxes(X, 0, 1), [2, 4, 2], batch_first=True,
                                 enforce_sorted=False)
    np.testing.assert_array_equal(again.data.data, packed.data.data)


def test_unsorted_indices_invert_sorted_indices():
    lengths = [1, 3, 2, 3, 1]
    packed = pack_padded_sequence(np.zeros((3, 5, 2)), lengths, enforce_sorted=False)
    np.testing.assert_array_equal(packed.sorted_indices, [1, 3, 2, 0, 4])  # stable
    np.testing.assert_array_equal(packed.sorted_indices[packed.unsorted_indices], np.arange(5))
    np.testing.assert_array_equal(packed.batch_sizes, [5, 3, 2])


def test_padding_past_the_longest_is_left_out():
    packed = pack_padded_sequence(np.ones((2, 6, 3)), [3, 2], batch_first=True)
    np.testing.assert_array_equal(packed.batch_sizes, [2, 2, 1])
    assert packed.data.shape == (5, 3)


# -- round trips --------------------------------------------------------------------------------
@pytest.mark.parametrize("batch_first", [False, True])
def test_pad_packed_sequence_gives_the_batch_back_in_its_order(batch_first):
    rng = np.random.default_rng(0)
    lengths = [2, 5, 1, 5]
    X = rng.standard_normal((4, 5, 2, 3))  # (m, T, 2, 3): features of any shape
    for i, length in enumerate(lengths):
        X[i, length:] = 0.0
    given = X if batch_first else np.swapaxes(X, 0, 1)
    packed = pack_padded_sequence(given, lengths, batch_first=batch_first,
                                  enforce_sorted=False)
    padded, out_lengths = pad_packed_sequence(packed, batch_first=batch_first)
    np.testing.assert_array_equal(padded.data, given)
    np.testing.assert_array_equal(out_lengths, lengths)
    assert out_lengths.dtype == np.int64
    padded, _ = pad_packed_sequence(packed, batch_first=True, padding_value=-7.0,
                                    total_length=7)
    assert padded.shape == (4, 7, 2, 3)
    for i, length in enumerate(lengths):
        np.testing.assert_array_equal(padded.data[i, :length], X[i, :length])
        assert np.all(padded.data[i, length:] == -7.0)


def test_pack_sequence_and_unpack_sequence_are_inverse():
    rng = np.random.default_rng(1)
    sequences = [gg.Tensor(rng.standard_normal((T, 2))) for T in (2, 4, 3)]
    packed = pack_sequence(sequences, enforce_sorted=False)
    np.testing.assert_array_equal(packed.sorted_indices, [1, 2, 0])
    back = unpack_sequence(packed)
    assert [s.shape for s in back] == [(2, 2), (4, 2), (3, 2)]
    for s, b in zip(sequences, back):
        np.testing.assert_array_equal(b.data, s.data)


@pytest.mark.parametrize("batch_first", [False, True])
def test_unpad_sequence_inverts_pad_sequence(batch_first):
    rng = np.random.default_rng(2)
    sequences = [rng.standard_normal((T, 3)) for T in (3, 1, 4)]
    padded = pad_sequence(sequences, batch_first=batch_first)
    back = unpad_sequence(padded, [3, 1, 4], batch_first=batch_first)
    for s, b in zip(sequences, back):
        np.testing.assert_array_equal(b.data, s)
    assert nn.utils.rnn.pad_sequence is nn.utils.pad_sequence


# -- gradients ----------------------------------------------------------------------------------
def test_gradients_flow_through_packing_and_padding():
    """d(sum of w * data)/dX is w at each step's place, zero at the padding; and padding
    with a value keeps the steps' gradients exact."""
    X = gg.Tensor(np.arange(8.0).reshape(2, 4, 1), requires_grad=True)  # (m, T, 1)
    packed = pack_padded_sequence(X, [2, 4], batch_first=True, enforce_sorted=False)
    # data: steps (t, sequence) (0, 1), (0, 0), (1, 1), (1, 0), (2, 1), (3, 1)
    np.testing.assert_array_equal(packed.data.data[:, 0], [4, 0, 5, 1, 6, 7])
    w = np.array([1.0, 2, 3, 4, 5, 6])[:, None]
    (packed.data * w).sum().backward()
    np.testing.assert_array_equal(X.grad[..., 0], [[2, 4, 0, 0], [1, 3, 5, 6]])
    data = gg.Tensor(np.arange(6.0)[:, None], requires_grad=True)
    padded, _ = pad_packed_sequence(PackedSequence(data, [2, 2, 1, 1], [1, 0]),
                                    batch_first=True, padding_value=9.0)
    np.testing.assert_array_equal(padded.data[..., 0], [[1, 3, 9, 9], [0, 2, 4, 5]])
    (padded * np.arange(8.0).reshape(2, 4, 1)).sum().backward()
    np.testing.assert_array_equal(data.grad[:, 0], [4, 0, 5, 1, 6, 7])


def test_packing_and_padding_pass_gradcheck_to_second_order():
    rng = np.random.default_rng(3)
    X = gg.Tensor(rng.standard_normal((5, 3, 2)), requires_grad=True)  # (T, m, 2)
    w = rng.standard_normal((5, 3, 2))

    def round_trip(X):
        packed = pack_padded_sequence(X, [3, 5, 2], enforce_sorted=False)
        padded, _ = pad_packed_sequence(PackedSequence(packed.data * packed.data,
                                                       packed.batch_sizes,
                                                       packed.sorted_indices),
                                        padding_value=0.5)
        return (padded * w).sum()

    gg.gradcheck(round_trip, [X])
    gg.gradgradcheck(round_trip, [X])


# -- refusals -----------------------------------------------------------------------------------
def test_enforce_sorted_refuses_unsorted_lengths_saying_what_to_write():
    with pytest.raises(gg.ArgumentError, match="pack_padded_sequence.*decreasing.*"
                                               "enforce_sorted=False"):
        pack_padded_sequence(np.zeros((4, 3, 1)), [2, 4, 2])
    with pytest.raises(gg.ArgumentError, match="pack_sequence.*enforce_sorted=False"):
        pack_sequence([np.zeros(1), np.zeros(2)])


@pytest.mark.parametrize("lengths, error, words", [
    ([4, 2], gg.ShapeError, r"one length per sequence, shape \(3,\).*batch_first=True"),
    ([4, 2, 0], gg.ArgumentError, "at least 1"),
    ([5, 2, 1], gg.ArgumentError, "at most 4"),
    ([4, 2.5, 1], gg.ArgumentError, "whole numbers"),
])
def test_pack_padded_sequence_refuses_lengths_that_do_not_fit(lengths, error, words):
    with pytest.raises(error, match="pack_padded_sequence: .*" + words):
        pack_padded_sequence(np.zeros((4, 3, 1)), lengths)


def test_pad_packed_sequence_refusals_name_it_and_say_what_to_write():
    packed = pack_sequence([np.zeros(4), np.zeros(2)])
    with pytest.raises(gg.ArgumentError, match="total_length=3 is shorter than the longest "
                                               "sequence, 4 steps: give at least 4"):
        pad_packed_sequence(packed, total_length=3)
    with pytest.raises(gg.GraphgradTypeError, match="pad_packed_sequence takes a "
                                                    "PackedSequence.*padded already"):
        pad_packed_sequence(np.zeros((4, 2)))
    with pytest.raises(gg.ShapeError, match="batch_sizes .* count 6 steps .* holds 5"):
        PackedSequence(np.zeros(5), [2, 2, 1, 1])
    with pytest.raises(gg.ArgumentError, match="non-increasing"):
        PackedSequence(np.zeros(6), [2, 1, 2, 1])
    with pytest.raises(gg.ArgumentError, match="permutation of 0 ... 1"):
        PackedSequence(np.zeros(6), [2, 2, 1, 1], [0, 0])
    made = PackedSequence(np.zeros(6), [2, 2, 1, 1], [1, 0])
    np.testing.assert_array_equal(made.unsorted_indices, [1, 0])
