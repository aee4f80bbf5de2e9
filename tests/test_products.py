"""tensordot, inner, kron, diff and average at worked values: numpy's results, gradients from
the maths, numpy's calls running them, and errors naming the op and the shapes. The op table
checks them over random shapes."""
import numpy as np
import pytest

import graphgrad as gg

A = np.array([[1.0, 2.0], [3.0, 4.0]])


def test_tensordot_of_one_pair_is_a_matrix_product_and_its_gradients_are():
    a = gg.Tensor(A, requires_grad=True)
    b = gg.Tensor([[0.0, 1.0], [1.0, 1.0]], requires_grad=True)
    y = np.tensordot(a, b, axes=1)
    assert type(y) is gg.Tensor
    np.testing.assert_array_equal(y.data, A @ b.data)
    y.sum().backward()
    np.testing.assert_array_equal(a.grad, np.ones((2, 2)) @ b.data.T)
    np.testing.assert_array_equal(b.grad, A.T @ np.ones((2, 2)))


def test_inner_kron_and_diff_give_numpys_values():
    a = gg.Tensor(A, requires_grad=True)
    np.testing.assert_array_equal(gg.inner(a, a).data, A @ A.T)
    k = np.kron(a, np.eye(2))
    np.testing.assert_array_equal(k.data, np.kron(A, np.eye(2)))
    k.sum().backward()
    np.testing.assert_array_equal(a.grad, np.full((2, 2), 2.0))  # each a[i, j] times eye's sum
    x = gg.Tensor([1.0, 4.0, 9.0, 16.0], requires_grad=True)
    d = gg.diff(x, 2)
    np.testing.assert_array_equal(d.data, [2, 2])
    d.backward(np.array([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad, [1, -2 + 10, 1 - 20, 10])  # second differences


def test_average_with_weights_is_sum_of_products_over_sum_of_weights_in_both_inputs():
    x = gg.Tensor([1.0, 3.0], requires_grad=True)
    w = gg.Tensor([1.0, 3.0], requires_grad=True)
    avg, total = np.average(x, weights=w, returned=True)
    assert (avg.item(), total.item()) == (2.5, 4.0)
    avg.backward()
    np.testing.assert_allclose(x.grad, [0.25, 0.75])
    np.testing.assert_allclose(w.grad, (np.array([1.0, 3.0]) - 2.5) / 4)



@pytest.mark.parametrize("spread", [False, True], ids=["weights of x's shape", "1-D weights"])
def test_constant_weights_and_weights_with_a_gradient_give_one_average(spread):
    """Constant weights have their sum taken without nodes; weights that need a gradient go
    through the graph: both give numpy's average, x the same gradient, w/sum(w)."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((3, 4))
    W = rng.uniform(0.5, 2.0, (4,) if spread else (3, 4))
    G = rng.standard_normal(3)
    weights_along = W if not spread else np.broadcast_to(W, X.shape)
    for w in (W, gg.Tensor(W, requires_grad=True)):
        x = gg.Tensor(X, requires_grad=True)
        avg, total = gg.average(x, axis=1, weights=w, returned=True)
        np.testing.assert_allclose(avg.data, np.average(X, axis=1, weights=W), rtol=1e-14)
        np.testing.assert_allclose(total.data, weights_along.sum(axis=1), rtol=1e-14)
        avg.backward(G)
        np.testing.assert_allclose(
            x.grad, G[:, None] * weights_along / weights_along.sum(axis=1, keepdims=True),
            rtol=1e-14)
    assert gg.gradcheck(lambda x: gg.average(x, 1, weights=W), [X])
    assert gg.gradcheck(lambda x, w: gg.average(x, 1, weights=w), [X, W])
    assert gg.gradgradcheck(lambda x, w: gg.average(x, 1, weights=w) ** 2, [X, W])


def test_diff_of_an_axis_of_one_or_no_elements_gives_x_a_gradient_of_its_shape():
    for n in (0, 1, 2):
        x = gg.Tensor(np.ones((n, 3)), requires_grad=True)
        y = gg.diff(x, 2, axis=0)
        assert y.shape == np.diff(x.data, 2, axis=0).shape
        y.sum().backward()
        np.testing.assert_array_equal(x.grad, np.zeros((n, 3)))
    assert gg.gradgradcheck(lambda x: gg.diff(x, 2, axis=0) ** 2,
                            [np.arange(12.0).reshape(4, 3) ** 2])

def test_cross_of_the_axes_vectors_and_its_gradient_b_cross_g():
    a = gg.Tensor([1.0, 0.0, 0.0], requires_grad=True)
    b = gg.Tensor([0.0, 1.0, 0.0], requires_grad=True)
    y = np.cross(a, b)
    np.testing.assert_array_equal(y.data, [0, 0, 1])  # x cross y is z
    g = np.array([1.0, 2.0, 3.0])
    y.backward(g)
    np.testing.assert_array_equal(a.grad, np.cross(b.data, g))
    np.testing.assert_array_equal(b.grad, np.cross(g, a.data))


X = gg.Tensor(np.zeros((2, 3)), name="X")


@pytest.mark.parametrize("call, error, message", [
    (lambda: gg.tensordot(X, X, 1), gg.ArgumentError,
     "tensordot of 'X' (2, 3) float64 and 'X' (2, 3) float64: a's axis 1 (3) and b's axis 0 "
     "(2) are summed over together, so they need one size"),
    (lambda: gg.tensordot(X, X, ([0, 1], [0])), gg.ArgumentError,
     "tensordot: axes pairs 2 axes of a with 1 of b; give one axis of b per axis of a"),
    (lambda: gg.cross(X, np.ones(2)), gg.ArgumentError,
     "cross of 'X' (2, 3) float64 and ndarray (2,) float64: the vectors along axisa (3 "
     "components) and axisb (2) must have 3 components each (pad 2-vectors with a third, 0, "
     "first: gg.pad(v, (0, 1)) for one)"),
    # it named moveaxis's source and destination, not cross's axisa and axisc
    (lambda: gg.cross(X, X, axisa=2), gg.ArgumentError,
     "cross: axisa 2 is out of range for 'X' (2, 3) float64: give an axis from -2 to 1"),
    (lambda: gg.diff(X, -1), gg.ArgumentError,  # numpy's ValueError; it was a TypeError
     "diff: n (the number of times to take differences) must be a whole number of at least 0, "
     "got -1"),
    (lambda: gg.diff(X, 1.5), gg.ArgumentError,
     "diff: n (the number of times to take differences) must be a whole number of at least 0, "
     "got 1.5"),
    # it failed in the Concatenate inside, with numpy's words
    (lambda: gg.diff(X, axis=1, prepend=np.ones((3, 1))), gg.ArgumentError,
     "diff of 'X' (2, 3) float64 along axis 1: prepend of shape (3, 1) is joined to x's end, so "
     "it needs x's shape but along axis 1, (2, k), or one number"),
    (lambda: gg.diff(X, axis=0, append=np.ones(3)), gg.ArgumentError,
     "diff of 'X' (2, 3) float64 along axis 0: append of shape (3,) is joined to x's end, so "
     "it needs x's shape but along axis 0, (k, 3), or one number"),
    (lambda: gg.diff(X, append=["a"]), gg.GraphgradTypeError,
     "diff: append must hold numbers, got <U1 values of shape (1,)"),
    (lambda: gg.diff(X, axis=2), gg.ArgumentError,
     "diff: axis 2 is out of range for 'X' (2, 3) float64: give an axis from -2 to 1"),
    (lambda: gg.average(X, weights=np.ones(3)), gg.ArgumentError,
     "average of 'X' (2, 3) float64: weights (3,) are not of x's shape, so give the one axis "
     "they run along (axis=...)"),
    (lambda: gg.average(X, 1, np.array([1.0, -1.0, 0.0])), gg.ArgumentError,
     "average of 'X' (2, 3) float64: the weights sum to 0 along the axes averaged over, so the "
     "average is 0 / 0; give weights with a nonzero sum"),
], ids=["tensordot-sizes", "tensordot-pairs", "cross-2", "cross-axisa", "diff-negative-n",
        "diff-fraction-n", "diff-prepend", "diff-append", "diff-strings", "diff-axis",
        "average-shape", "average-zero"])
def test_bad_arguments_are_refused_by_name(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert str(info.value) == message


def test_cross_axisc_out_of_range_is_refused_by_cross_against_the_products_shape():
    """It named moveaxis's destination, not cross's axisc."""
    with pytest.raises(gg.ArgumentError, match=r"^cross: axisc -3 is out of range for .*\(2, 3\) "
                       r"float64: give an axis from -2 to 1$"):
        gg.cross(X, X, axisc=-3)
