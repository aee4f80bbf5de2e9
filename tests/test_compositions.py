"""copy, atleast_1d/2d/3d, column_stack, dstack, fliplr, flipud and rot90 at worked values:
numpy's results, gradients moved back as the elements were, numpy's calls running them, and
errors naming the op. The op table checks them over random shapes."""
import numpy as np
import pytest

import graphgrad as gg


def test_copy_is_a_new_node_whose_gradient_passes_unchanged():
    x = gg.Tensor([1.0, 2.0], requires_grad=True)
    for y in (gg.copy(x), x.copy(), np.copy(x)):
        assert y is not x and y.creator.name == "Copy"
        assert not np.shares_memory(y.data, x.data)
        (y * np.array([3.0, 4.0])).sum().backward()
    np.testing.assert_array_equal(x.grad, [9, 12])


def test_atleast_adds_numpys_axes_and_gives_a_tensor_with_enough_back():
    x = gg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    assert gg.atleast_1d(x) is x
    assert gg.atleast_2d(x).shape == (1, 3)
    assert gg.atleast_3d(x).shape == (1, 3, 1)
    a, b = np.atleast_3d(gg.Tensor(5.0), gg.Tensor(np.ones((2, 3))))
    assert (a.shape, b.shape) == ((1, 1, 1), (2, 3, 1))


def test_column_stack_and_dstack_send_each_input_its_own_part_of_the_gradient():
    a = gg.Tensor([1.0, 2.0], requires_grad=True)
    b = gg.Tensor([[3.0], [4.0]], requires_grad=True)
    y = np.column_stack([a, b])
    np.testing.assert_array_equal(y.data, [[1, 3], [2, 4]])
    y.backward(np.array([[10.0, 20.0], [30.0, 40.0]]))
    np.testing.assert_array_equal(a.grad, [10, 30])
    np.testing.assert_array_equal(b.grad, [[20], [40]])
    z = gg.dstack([a, a * 2])
    np.testing.assert_array_equal(z.data, [[[1, 2], [2, 4]]])


def test_rot90_turns_from_the_first_axis_towards_the_second_and_its_gradient_turns_back():
    x = gg.Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = gg.rot90(x)
    np.testing.assert_array_equal(y.data, [[2, 4], [1, 3]])
    y.backward(np.array([[1.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_array_equal(x.grad, np.rot90([[1.0, 2.0], [3.0, 4.0]], -1))
    np.testing.assert_array_equal(np.fliplr(x).data, [[2, 1], [4, 3]])
    np.testing.assert_array_equal(np.flipud(x).data, [[3, 4], [1, 2]])


M = gg.Tensor(np.zeros((2, 3)), name="M")


@pytest.mark.parametrize("call, error, message", [
    (lambda: gg.fliplr(gg.Tensor([1.0, 2.0], name="v")), gg.ArgumentError,
     "fliplr of 'v' (2,) float64: it flips the columns, axis 1, so m needs at least 2 axes; it "
     "has 1"),
    # it said "x needs at least 1 axes", of an argument named m
    (lambda: gg.flipud(gg.Tensor(1.0, name="s")), gg.ArgumentError,
     "flipud of 's' () float64: it flips the rows, axis 0, so m needs at least 1 axis; it has 0"),
    # it said "axes 1 is out of range for 'v' (2,) float64: give an axis from -1 to 0"
    (lambda: gg.rot90(gg.Tensor([1.0, 2.0], name="v")), gg.ArgumentError,
     "rot90 of 'v' (2,) float64: it turns m in the plane of two axes, so m needs at least 2 "
     "axes; it has 1"),
    (lambda: gg.rot90(M, axes=(1, -1)), gg.ArgumentError,
     "rot90 of 'M' (2, 3) float64: axes (1, -1) name one axis twice; the plane to turn in needs "
     "two different axes"),
    (lambda: gg.rot90(M, axes=(0, 2)), gg.ArgumentError,
     "rot90: axes 2 is out of range for 'M' (2, 3) float64: give an axis from -2 to 1"),
    (lambda: gg.rot90(M, 0.5), gg.GraphgradTypeError, "rot90: k must be an int, got 0.5"),
    (lambda: gg.column_stack([M, gg.Tensor([1.0], name="c")]), gg.OpError,
     "column_stack of 'M' (2, 3) float64, 'c' (1,) float64: it joins them as columns along axis "
     "1, so they need one number of axes and equal sizes along the others; as joined their "
     "shapes are (2, 3), (1, 1). Reshape the ones that differ first (t.reshape(-1, 1) makes a "
     "column)"),
    (lambda: gg.dstack([M, gg.Tensor(np.ones((3, 2)), name="N")]), gg.OpError,
     "dstack of 'M' (2, 3) float64, 'N' (3, 2) float64: it joins them as depth slices along "
     "axis 2, so they need one number of axes and equal sizes along the others; as joined "
     "their shapes are (2, 3, 1), (3, 2, 1). Reshape the ones that differ first "
     "(t.reshape(rows, columns, -1) gives a tensor the others' first two sizes)"),
    (lambda: gg.dstack(M), gg.GraphgradTypeError,
     "dstack takes a list of tensors (dstack([a, b])), got Tensor"),
    # these named the Reshape inside, and its input 0 for column_stack's input 1
    (lambda: gg.column_stack([M, ["a", "b"]]), gg.GraphgradTypeError,
     "column_stack: input 1 must hold numbers, got <U1 values of shape (2,)"),
    (lambda: gg.dstack([M, None]), gg.GraphgradTypeError,
     "dstack: input 1 must hold numbers, got None"),
    (lambda: gg.atleast_2d("ab"), gg.GraphgradTypeError,
     "atleast_2d: x must hold numbers, got 'ab'"),
], ids=["fliplr-1d", "flipud-0d", "rot90-1d", "rot90-same", "rot90-range", "rot90-k",
        "column_stack", "dstack-shapes", "dstack-tensor", "column_stack-strings",
        "dstack-none", "atleast_2d-string"])
def test_bad_arguments_are_refused_by_name(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert str(info.value) == message
