"""nn.utils.rnn, PyTorch's packed sequences: the layout of PyTorch's documented examples by
hand (data order, batch_sizes, sorted and unsorted indices), round trips through
pad_packed_sequence, pack_sequence / unpack_sequence and unpad_sequence, gradients through
packing and padding (gradcheck, float64, second order too), the refusals, and the recurrent
layers on packed batches: equal to each sequence run alone, h_n and c_n in the batch's
order, the output packed as the input."""
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


def test_a_packed_sequence_moves_as_pytorch_code_moves_it():
    """to(dtype), float(), double() convert data on the graph and keep the layout; "cpu"
    and cpu() give the packed sequence itself; other devices are refused."""
    X = gg.Tensor(np.arange(12.0).reshape(3, 2, 2), requires_grad=True)
    packed = pack_padded_sequence(X, [3, 2], enforce_sorted=False)
    assert packed.to("cpu") is packed and packed.cpu() is packed and packed.double() is packed
    low = packed.float()
    assert isinstance(low, PackedSequence) and low.data.dtype == np.float32
    np.testing.assert_array_equal(low.data.data, packed.data.data)
    for got, want in zip(low[1:], packed[1:]):
        np.testing.assert_array_equal(got, want)
    (low.data * np.float32(2.0)).sum().backward()
    stepped = np.arange(3)[:, None] < np.array([3, 2])  # (T, m): step t of sequence i exists
    np.testing.assert_array_equal(X.grad, np.where(stepped[..., None], 2.0, np.zeros((3, 2, 2))))
    assert packed.to(np.float32).data.dtype == np.float32
    with pytest.raises(gg.ArgumentError, match="numpy on the CPU"):
        packed.to("cuda")


@pytest.mark.parametrize("call, words", [
    (lambda p: p.to("cuda"), r"PackedSequence.to\('cuda'\): graphgrad computes with numpy"),
    (lambda p: p.to(0), r"PackedSequence.to\(0\): graphgrad computes with numpy"),
    (lambda p: p.cuda(), r"PackedSequence.cuda\(\): graphgrad computes with numpy")])
def test_a_packed_sequence_refused_a_device_names_itself(call, words):
    """PyTorch's packed.to('cuda') and packed.cuda() are refused naming the packed
    sequence's call, where to('cuda') named Tensor.to and cuda() raised AttributeError."""
    packed = pack_padded_sequence(gg.Tensor(np.ones((3, 2, 1))), [3, 2])
    with pytest.raises(gg.ArgumentError, match=words):
        call(packed)


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


# -- the recurrent layers on packed batches -----------------------------------------------------
def _sequences(rng, lengths, n_x=3):
    return [rng.standard_normal((T, n_x)) for T in lengths]


@pytest.mark.parametrize("make", [
    lambda: nn.LSTM(3, 4, num_layers=2, bidirectional=True, rng=0),
    lambda: nn.GRU(3, 4, bidirectional=True, batch_first=True, rng=0),
    lambda: nn.LSTM(3, 4, proj_size=2, rng=0),
])
def test_a_packed_batch_gives_what_each_sequence_gives_alone(make):
    """Every sequence's outputs and last states equal those of the sequence run alone (a
    batch of one, no padding), in the order given, whatever the sorting; the output is
    packed as the input."""
    layer = make()
    rng = np.random.default_rng(4)
    lengths = [2, 5, 3, 5]
    sequences = _sequences(rng, lengths)
    packed = pack_sequence([gg.Tensor(s) for s in sequences], enforce_sorted=False)
    out, state = layer(packed)
    assert isinstance(out, PackedSequence)
    np.testing.assert_array_equal(out.batch_sizes, packed.batch_sizes)
    assert out.sorted_indices is packed.sorted_indices
    assert out.unsorted_indices is packed.unsorted_indices
    states = state if isinstance(state, tuple) else (state,)
    for i, (outputs, s) in enumerate(zip(unpack_sequence(out), sequences)):
        alone, alone_state = layer(s)  # one sequence (T_i, n_x), PyTorch's unbatched input
        np.testing.assert_allclose(outputs.data, alone.data, rtol=1e-12, atol=1e-14)
        alone_states = alone_state if isinstance(alone_state, tuple) else (alone_state,)
        for batch_state, own in zip(states, alone_states):
            np.testing.assert_allclose(batch_state.data[:, i], own.data, rtol=1e-12,
                                       atol=1e-14)


def test_packed_input_takes_and_gives_states_in_the_batchs_order():
    """h0 and c0 (num_layers * D, m, n_a) are read in the order of the batch given, not
    the sorted one, and h_n, c_n come back in that order: sequence i's state is the state of
    sequence i run alone from h0[:, i], c0[:, i]."""
    layer = nn.LSTM(3, 4, num_layers=2, rng=1)
    rng = np.random.default_rng(5)
    lengths = [1, 4, 2]
    sequences = _sequences(rng, lengths)
    h0, c0 = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 4))
    X = pad_sequence(sequences)  # (T, m, n_x)
    packed = pack_padded_sequence(X, lengths, enforce_sorted=False)
    _, (h_n, c_n) = layer(packed, (h0, c0))
    for i, s in enumerate(sequences):
        _, (h, c) = layer(s, (h0[:, i], c0[:, i]))
        np.testing.assert_allclose(h_n.data[:, i], h.data, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(c_n.data[:, i], c.data, rtol=1e-12, atol=1e-14)
    # the same as the padded batch with its lengths, the path it runs through
    output, (h_pad, c_pad) = layer(X, (h0, c0), lengths=lengths)
    out_packed, _ = layer(packed, (h0, c0))
    padded, _ = pad_packed_sequence(out_packed, total_length=4)
    np.testing.assert_array_equal(padded.data, output.data)
    np.testing.assert_array_equal(h_n.data, h_pad.data)


def test_gradients_reach_the_padded_batch_through_a_packed_lstm():
    layer = nn.LSTM(2, 3, rng=2)
    rng = np.random.default_rng(6)
    X = gg.Tensor(rng.standard_normal((4, 3, 2)), requires_grad=True)
    w = rng.standard_normal((4, 3, 3))

    def cost(X):
        out, (h_n, c_n) = layer(pack_padded_sequence(X, [2, 4, 3], enforce_sorted=False))
        padded, _ = pad_packed_sequence(out)
        return (padded * w).sum() + (h_n * c_n).sum()

    gg.gradcheck(cost, [X])
    cost(X).backward()
    assert np.all(X.grad[2:, 0] == 0) and np.all(X.grad[3:, 2] == 0)  # padding: no gradient


def test_course_rnn_takes_a_packed_batch():
    layer = nn.RNN(3, 4, cell="gru", rng=3)
    rng = np.random.default_rng(7)
    sequences = _sequences(rng, [3, 1, 2])
    packed = pack_sequence(sequences, enforce_sorted=False)
    A = layer(packed)
    A_packed, a_last = layer(packed, return_state=True)
    padded, lengths = pad_packed_sequence(A, batch_first=True)
    A_pad, a_pad = layer(pad_sequence(sequences, batch_first=True), lengths=[3, 1, 2],
                         return_state=True)
    np.testing.assert_array_equal(padded.data, A_pad.data)
    np.testing.assert_array_equal(A_packed.data.data, A.data.data)
    np.testing.assert_array_equal(a_last.data, a_pad.data)
    np.testing.assert_array_equal(lengths, [3, 1, 2])


def test_layers_refuse_lengths_with_a_packed_batch_and_a_misfit_size():
    packed = pack_sequence([np.zeros((2, 3)), np.zeros((1, 3))])
    with pytest.raises(gg.ArgumentError, match=r"LSTM\(3, 4\): X is a PackedSequence, which holds "
                                               "its sequences' lengths: leave lengths out"):
        nn.LSTM(3, 4)(packed, lengths=[2, 1])
    with pytest.raises(gg.ShapeError, match=r"GRU\(5, 4\) takes X.data of shape \(N, 5\)"):
        nn.GRU(5, 4)(packed)
