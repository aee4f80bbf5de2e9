"""take_along_axis and sort at worked values: forward as numpy's, the gradient scattered back
to where each element came from (adding up where an index repeats), and errors that name the
op, the tensors' shapes and what to do. The op table checks both over random shapes."""
import numpy as np
import pytest

import graphgrad as gg

Q = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0], [0.5, 0.25, 0.125]])


def test_the_q_values_of_the_actions_taken_as_a_dqn_gathers_them():
    """q.gather(1, actions): one Q-value per row, its gradient on the action taken only."""
    q = gg.Tensor(Q, requires_grad=True, name="q")
    actions = np.array([[2], [0], [1], [1]])
    y = gg.take_along_axis(q, actions, 1)
    np.testing.assert_array_equal(y.data, [[3.0], [4.0], [8.0], [0.25]])
    assert y.creator.name == "TakeAlongAxis"
    (y * np.array([[1.0], [2.0], [3.0], [4.0]])).sum().backward()
    np.testing.assert_array_equal(q.grad, [[0, 0, 1], [2, 0, 0], [0, 3, 0], [0, 4, 0]])


def test_an_index_taken_twice_adds_up_its_gradients():
    x = gg.Tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    y = gg.take_along_axis(x, [[2, 2, -1, 0]], axis=1)  # -1 is 2 again
    np.testing.assert_array_equal(y.data, [[3, 3, 3, 1]])
    (y * np.array([1.0, 10.0, 100.0, 1000.0])).sum().backward()
    np.testing.assert_array_equal(x.grad, [[1000, 0, 111]])


def test_indices_of_size_1_broadcast_along_the_other_axes_and_numpy_runs_it():
    x = gg.Tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    y = np.take_along_axis(x, np.array([[3, 0]]), axis=1)  # the same columns of every row
    assert type(y) is gg.Tensor and y.creator.name == "TakeAlongAxis"
    np.testing.assert_array_equal(y.data, [[3, 0], [7, 4], [11, 8]])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [[1, 0, 0, 1]] * 3)


def test_a_tensor_of_whole_numbers_is_indices_as_for_t_of_index():
    """gg.Tensor([[2], [0]]) holds float64, as tensors made from ints do."""
    q = gg.Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    actions = gg.Tensor([[2], [0]])
    np.testing.assert_array_equal(gg.take_along_axis(q, actions, 1).data, [[3], [4]])
    with pytest.raises(gg.GraphgradTypeError, match="indices must be integers"):
        gg.take_along_axis(q, gg.Tensor([[0.5], [0.0]]), 1)


def test_the_indices_are_the_callers_to_change_after_the_call():
    x = gg.Tensor([5.0, 6.0, 7.0], requires_grad=True)
    index = np.array([0, 0])
    y = gg.take_along_axis(x, index, 0)
    index[:] = 2
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [2, 0, 0])



def test_sort_puts_its_gradient_back_and_take_along_axis_adds_it_up():
    """sort's indices are a permutation, so backward puts each gradient in its place;
    take_along_axis's may repeat, so backward adds them up: both numpy's, both with first and
    second derivatives matching finite differences."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((4, 6))
    G = rng.standard_normal((4, 6))
    x = gg.Tensor(X, requires_grad=True)
    gg.sort(x, axis=1).backward(G)
    order = np.argsort(X, axis=1, kind="stable")
    expected = np.empty_like(X)
    np.put_along_axis(expected, order, G, axis=1)
    np.testing.assert_array_equal(x.grad, expected)
    picks = np.array([[0, 0, 5, -1, 2, 2]] * 4)  # 0 and 5 (as -1) twice, 1, 3 and 4 never
    x = gg.Tensor(X, requires_grad=True)
    gg.take_along_axis(x, picks, 1).backward(G)
    expected = np.zeros_like(X)
    np.add.at(expected, (np.arange(4)[:, None], picks % 6), G)
    np.testing.assert_array_equal(x.grad, expected)
    for fn in (lambda t: gg.sort(t, axis=1) ** 2,
               lambda t: gg.take_along_axis(t, picks, 1) ** 2):
        assert gg.gradcheck(fn, [X])
        assert gg.gradgradcheck(fn, [X])

X = gg.Tensor(np.zeros((3, 4)), name="q")


@pytest.mark.parametrize("call, error, message", [
    (lambda: gg.take_along_axis(X, np.array([1, 0, 2]), 1), gg.ArgumentError,
     "take_along_axis of 'q' (3, 4) float64 along axis 1: indices of shape (3,) and x differ "
     "in their number of axes (1 and 2); give indices with x's number of axes (size 1 along "
     "the axes they run alongside: actions[:, None] makes (m,) into (m, 1))"),
    (lambda: gg.take_along_axis(X, np.zeros((2, 1), int), 1), gg.ArgumentError,
     "take_along_axis of 'q' (3, 4) float64 along axis 1: indices of shape (2, 1) do not fit x "
     "along axis 0 (2 against 3); along the axes other than the one taken from, the indices' "
     "sizes must equal x's or be 1"),
    (lambda: gg.take_along_axis(X, [[0], [4], [-5]], 1), gg.ArgumentError,
     "take_along_axis of 'q' (3, 4) float64 along axis 1: index 4 in the indices (3, 1) is out "
     "of range for 4 elements; give indices from -4 to 3"),
    (lambda: gg.take_along_axis(X, [[0.0]], 1), gg.GraphgradTypeError,
     "take_along_axis of 'q' (3, 4) float64: indices must be integers (an int array, a list of "
     "ints or a tensor of them), got [[0.0]]"),
    (lambda: gg.take_along_axis(X, [[0]], 2), gg.ArgumentError,
     "take_along_axis: axis 2 is out of range for 'q' (3, 4) float64: give an axis from -2 to "
     "1, or None for the flattened x"),
    (lambda: gg.take_along_axis(X, [[0]], None), gg.ArgumentError,
     "take_along_axis of 'q' (3, 4) float64 with axis=None takes from the flattened x, so it "
     "takes 1-D indices; got indices of shape (1, 1). Give an axis, or flatten the indices "
     "(indices.reshape(-1))"),
    (lambda: gg.sort(X, axis=2), gg.ArgumentError,
     "sort: axis 2 is out of range for 'q' (3, 4) float64: give an axis from -2 to 1, or None "
     "for the flattened x"),
    (lambda: gg.sort(X, axis=(0, 1)), gg.GraphgradTypeError,
     "sort: axis must be an int, or None for the flattened x; got (0, 1)"),
    (lambda: gg.sort(gg.Tensor(3.0, name="s")), gg.ArgumentError,
     "sort: axis -1 is out of range for 's' () float64, which has no axes: give axis=None for "
     "the flattened x"),
    # the check sort shares with flip, whose message read "'s' () float64 has no axes, so axis
    # 0 is out of range, or None to flip every axis"
    (lambda: gg.flip(gg.Tensor(3.0, name="s"), 0), gg.ArgumentError,
     "flip: axis 0 is out of range for 's' () float64, which has no axes: give axis=None to "
     "flip every axis"),
], ids=["ndim", "misfit", "range", "floats", "axis", "flattened", "sort-axis", "sort-tuple",
        "sort-number", "flip-number"])
def test_bad_indices_and_axes_are_refused_by_name_with_what_to_do(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert str(info.value) == message


def test_sort_sends_each_gradient_back_to_where_its_element_came_from():
    x = gg.Tensor([[3.0, 1.0, 2.0], [0.0, -1.0, 5.0]], requires_grad=True)
    y = gg.sort(x)
    np.testing.assert_array_equal(y.data, [[1, 2, 3], [-1, 0, 5]])
    assert y.creator.name == "Sort"
    y.backward(np.array([[10.0, 20.0, 30.0], [1.0, 2.0, 3.0]]))
    np.testing.assert_array_equal(x.grad, [[30, 10, 20], [2, 1, 3]])


def test_tied_elements_each_get_their_own_gradient_as_in_pytorch():
    """Equal values keep their order (a stable sort): torch.sort(stable=True) gives
    [2, 1, 4, 3] for these values and this upstream gradient."""
    x = gg.Tensor([3.0, 1.0, 3.0, 2.0], requires_grad=True)
    gg.sort(x).backward(np.array([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(x.grad, [3, 1, 4, 2])


def test_np_sort_on_a_tensor_is_gg_sort_whatever_kind_it_asks_for():
    x = gg.Tensor([[2.0, 1.0], [0.0, 3.0]], requires_grad=True)
    y = np.sort(x, axis=0, kind="quicksort")
    assert type(y) is gg.Tensor and y.creator.name == "Sort"
    np.testing.assert_array_equal(y.data, [[0, 1], [2, 3]])
    np.testing.assert_array_equal(np.sort(x, axis=None).data, [0, 1, 2, 3])


def test_sort_puts_nans_last_as_numpy_and_their_gradient_goes_back_to_them():
    x = gg.Tensor([np.nan, 2.0, -1.0], requires_grad=True)
    y = gg.sort(x)
    np.testing.assert_array_equal(y.data, np.sort(x.data))
    y.backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(x.grad, [3, 2, 1])
