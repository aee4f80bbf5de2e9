"""diagonal, diag, trace, triu and tril at worked values: forward as numpy's, gradients from the
maths (the identity for trace, the kept triangle for triu), numpy's calls and the methods
running them, and errors naming the op and the tensor. The op table checks them over random
shapes."""
import numpy as np
import pytest

import graphgrad as gg

A = np.arange(1.0, 13.0).reshape(3, 4)


def test_diagonal_and_its_gradient_on_the_diagonal():
    x = gg.Tensor(A, requires_grad=True)
    y = gg.diagonal(x, 1)
    np.testing.assert_array_equal(y.data, [2, 7, 12])
    assert y.creator.name == "Diagonal"
    y.backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(x.grad, [[0, 1, 0, 0], [0, 0, 2, 0], [0, 0, 0, 3]])


def test_diagonals_of_a_stack_come_last_as_numpys():
    x = gg.Tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    y = x.diagonal(0, 2, 1)  # over axes 2 and 1: one diagonal per x[i]
    np.testing.assert_array_equal(y.data, np.arange(24.0).reshape(2, 3, 4).diagonal(0, 2, 1))
    assert y.shape == (2, 3)


def test_diag_makes_a_matrix_of_a_vector_and_takes_the_diagonal_of_a_matrix():
    v = gg.Tensor([1.0, 2.0], requires_grad=True)
    m = gg.diag(v, -1)
    np.testing.assert_array_equal(m.data, [[0, 0, 0], [1, 0, 0], [0, 2, 0]])
    assert m.creator.name == "DiagEmbed"
    m.backward(np.arange(9.0).reshape(3, 3))
    np.testing.assert_array_equal(v.grad, [3, 7])
    np.testing.assert_array_equal(gg.diag(A).data, [1, 6, 11])


def test_the_gradient_of_a_trace_is_the_identity_and_numpy_and_the_method_run_it():
    x = gg.Tensor(A, requires_grad=True)
    y = np.trace(x)
    assert type(y) is gg.Tensor and y.item() == 1 + 6 + 11
    y.backward()
    np.testing.assert_array_equal(x.grad, np.eye(3, 4))
    np.testing.assert_array_equal(x.trace(-1).data, 5 + 10)


def test_triu_and_tril_keep_a_triangle_and_pass_its_gradient_only():
    x = gg.Tensor(A, requires_grad=True)
    y = gg.triu(x, 1)
    np.testing.assert_array_equal(y.data, np.triu(A, 1))
    y.backward(np.ones((3, 4)))
    np.testing.assert_array_equal(x.grad, np.triu(np.ones((3, 4)), 1))
    # a causal mask's pattern, through numpy's call
    z = np.tril(gg.Tensor(np.ones((3, 3)), requires_grad=True))
    assert type(z) is gg.Tensor
    np.testing.assert_array_equal(z.data, [[1, 0, 0], [1, 1, 0], [1, 1, 1]])



def test_where_with_a_constant_side_gives_the_other_sides_gradient_as_with_two_tensors():
    """A constant side (triu's zeros) gets no gradient computed; the side that needs one gets
    the same as when both do."""
    rng = np.random.default_rng(2)
    X, Y, G = rng.standard_normal((3, 3, 4))
    keep = X > 0
    both = [gg.Tensor(X, requires_grad=True), gg.Tensor(Y, requires_grad=True)]
    gg.where(keep, *both).backward(G)
    for side in (0, 1):
        inputs = [X, Y]
        inputs[side] = gg.Tensor(inputs[side], requires_grad=True)
        gg.where(keep, *inputs).backward(G)
        np.testing.assert_array_equal(inputs[side].grad, both[side].grad)
        np.testing.assert_array_equal(inputs[side].grad, np.where(keep, G, 0) if side == 0
                                      else np.where(keep, 0, G))
    assert gg.gradgradcheck(lambda x: gg.triu(x, 1) ** 2, [X])

def test_triu_of_a_vector_lays_it_out_as_rows_as_numpy_does():
    np.testing.assert_array_equal(gg.triu([1.0, 2.0, 3.0]).data, np.triu([1.0, 2.0, 3.0]))


def test_second_derivatives_of_diagonal_go_through_diag_embed_and_back():
    x = gg.Tensor(A, requires_grad=True)
    (g,) = gg.grad((gg.diagonal(x) ** 3).sum(), [x], create_graph=True)
    np.testing.assert_array_equal(g.data, np.diag([3.0, 108.0, 363.0], 0)[:, :3] @ np.eye(3, 4))
    (h,) = gg.grad(g.sum(), [x])
    np.testing.assert_array_equal(h, np.eye(3, 4) * 6 * A)


X = gg.Tensor(np.zeros((2, 3, 4)), name="X")


@pytest.mark.parametrize("call, error, message", [
    (lambda: gg.diagonal(gg.Tensor([1.0, 2.0], name="v")), gg.ArgumentError,
     "diagonal of 'v' (2,) float64: a diagonal needs two axes, x has 1 (gg.diag(v) makes the "
     "matrix with v on its diagonal)"),
    (lambda: gg.diagonal(X, 0, 1, -2), gg.ArgumentError,
     "diagonal of 'X' (2, 3, 4) float64: axis1 and axis2 are both axis 1; a diagonal runs over "
     "two different axes"),
    (lambda: gg.trace(X, axis2=3), gg.ArgumentError,
     "trace: axis2 3 is out of range for 'X' (2, 3, 4) float64: give an axis from -3 to 2"),
    (lambda: gg.diag(X), gg.ArgumentError,
     "diag of 'X' (2, 3, 4) float64: v must be 1-D (to make a matrix) or 2-D (to take its "
     "diagonal), it has 3 axes; gg.diagonal(x, offset, axis1, axis2) takes the diagonals of a "
     "stack"),
    (lambda: gg.triu(X, 0.5), gg.GraphgradTypeError, "triu: k must be an int, got 0.5"),
    (lambda: gg.tril(gg.Tensor(2.0, name="s")), gg.ArgumentError,
     "tril of 's' () float64: a number has no triangle; give a matrix (or a stack of them, the "
     "matrices in the last two axes)"),
], ids=["1-D", "same-axis", "axis-range", "diag-3d", "k-float", "0-d"])
def test_bad_arguments_are_refused_by_name(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert str(info.value) == message


def test_the_gradient_of_triu_and_tril_of_a_vector_sums_its_rows():
    # triu([a, b, c]) is [[a, b, c], [0, b, c], [0, 0, c]]: a is kept once, b twice, c thrice
    x = gg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    gg.triu(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [1, 2, 3])
    x.grad = None
    gg.tril(x, 1).sum().backward()  # [[a, b, 0], [a, b, c], [a, b, c]]
    np.testing.assert_array_equal(x.grad, [3, 3, 2])
    v = np.array([0.5, -1.0, 2.0])
    assert gg.gradgradcheck(lambda x: gg.triu(x, -1) ** 2, [v])
    assert gg.gradgradcheck(lambda x: gg.tril(x) ** 2, [v])
