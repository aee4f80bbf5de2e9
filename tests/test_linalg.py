"""gg.linalg beyond the op table (which checks values against numpy and gradients to second
order over random shapes): the gradient of det at singular matrices, slogdet's sign, numpy 2's
rule for solve's b, cholesky's reading of one triangle, and the errors, which name the op and
the tensors and say what to do."""
import numpy as np
import pytest

import graphgrad as gg

RNG = np.random.default_rng(7)
SINGULAR = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])  # rank 2


def cofactors(a: np.ndarray) -> np.ndarray:
    """The matrix of cofactors by its definition: (-1)^(i+j) times the minor (i, j)."""
    n = a.shape[0]
    return np.array([[(-1) ** (i + j) * np.linalg.det(np.delete(np.delete(a, i, 0), j, 1))
                      for j in range(n)] for i in range(n)])


def test_names_are_numpys_and_pytorchs():
    assert gg.linalg.LinAlgError is gg.LinAlgError
    assert issubclass(gg.LinAlgError, np.linalg.LinAlgError)
    assert issubclass(gg.LinAlgError, gg.OpError) and issubclass(gg.LinAlgError, ValueError)
    assert set(gg.linalg.__all__) >= {"inv", "solve", "det", "slogdet", "cholesky"}


@pytest.mark.parametrize("a", [
    SINGULAR,
    np.array([[1.0, 2.0], [2.0, 4.0]]),
    np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]),
    np.zeros((3, 3)),  # rank 0: every cofactor is 0
    np.outer([1.0, -2.0, 0.5], [3.0, 1.0, 2.0]),  # rank 1 < n - 1: every cofactor is 0
], ids=["rank-2-of-3", "rank-1-of-2", "rank-2-of-3-dense", "zero", "rank-1-of-3"])
def test_det_gradient_at_a_singular_matrix_is_its_cofactors(a):
    """det is a polynomial: its gradient, the cofactors, exists everywhere. det(A) A^-T has no
    value at a singular A (PyTorch 2 gives 0 there, wrong at rank n - 1)."""
    A = gg.Tensor(a, requires_grad=True, name="A")
    y = gg.linalg.det(A)
    assert y.item() == pytest.approx(0.0, abs=1e-12)
    y.backward()
    np.testing.assert_allclose(A.grad, cofactors(a), atol=1e-12)


def test_det_gradient_of_a_stack_with_singular_and_invertible_matrices():
    stack = np.stack([SINGULAR, np.eye(3) * 2.0 + RNG.uniform(-0.3, 0.3, (3, 3))])
    A = gg.Tensor(stack, requires_grad=True)
    (gg.linalg.det(A) * np.array([2.0, -3.0])).sum().backward()
    np.testing.assert_allclose(A.grad[0], 2.0 * cofactors(stack[0]), atol=1e-12)
    np.testing.assert_allclose(A.grad[1], -3.0 * cofactors(stack[1]), rtol=1e-12)


def test_det_second_derivative_at_a_singular_matrix_is_refused_by_name():
    A = gg.Tensor(SINGULAR, requires_grad=True, name="A")
    (g,) = gg.grad(gg.linalg.det(A), [A])  # the first derivative is given
    np.testing.assert_allclose(g, cofactors(SINGULAR), atol=1e-12)
    with pytest.raises(gg.LinAlgError, match=r"^the second derivative of linalg\.det of 'A' "
                       r"\(3, 3\) float64: the matrix is singular.*without create_graph=True"):
        gg.grad(gg.linalg.det(A), [A], create_graph=True)


def test_det_hessian_of_a_2x2_matrix():
    """det [[a, b], [c, d]] = ad - bc: d2/(da dd) = 1, d2/(db dc) = -1, the rest 0."""
    A = gg.Tensor([[1.0, 2.0], [3.0, 5.0]], requires_grad=True)
    (g,) = gg.grad(gg.linalg.det(A), [A], create_graph=True)
    np.testing.assert_allclose(g.data, [[5.0, -3.0], [-2.0, 1.0]], rtol=1e-12)
    rows = [gg.grad(g[i, j], [A], retain_graph=True)[0] for i in range(2) for j in range(2)]
    want = [[[0, 0], [0, 1]], [[0, 0], [-1, 0]], [[0, -1], [0, 0]], [[1, 0], [0, 0]]]
    np.testing.assert_allclose(np.array(rows), want, atol=1e-12)


def test_slogdet_gives_a_constant_sign_and_numpys_named_pair():
    a = np.stack([np.diag([2.0, -3.0, 1.0]), np.diag([1e200, 1e200, 1e-100])])
    A = gg.Tensor(a, requires_grad=True)
    result = gg.linalg.slogdet(A)
    sign, logabsdet = result
    want = np.linalg.slogdet(a)
    assert type(result).__name__ == "SlogdetResult" and result.sign is sign
    assert not sign.requires_grad and sign.creator is None
    np.testing.assert_array_equal(sign.data, want.sign)  # [-1, 1]
    np.testing.assert_allclose(logabsdet.data, want.logabsdet, rtol=1e-15)  # det overflows
    logabsdet.sum().backward()
    np.testing.assert_allclose(A.grad, np.linalg.inv(a).swapaxes(-1, -2), rtol=1e-15)


def test_slogdet_at_a_singular_matrix_is_numpys_and_its_gradient_is_refused():
    A = gg.Tensor(SINGULAR, requires_grad=True, name="A")
    sign, logabsdet = gg.linalg.slogdet(A)
    assert sign.item() == 0.0 and logabsdet.item() == -np.inf
    with pytest.raises(gg.LinAlgError, match=r"^the gradient of linalg\.slogdet of 'A' \(3, 3\) "
                       r"float64: the matrix is singular.*-inf.*gg\.linalg\.det"):
        logabsdet.backward()


def test_solve_takes_numpy_2s_vector_rule():
    """Only a 1-D b is a vector: with A (n, n) stacked m = n times, b (n, n) is a matrix,
    each column solved, where numpy 1 read it as n vectors."""
    a = np.eye(3) * 3.0 + RNG.uniform(-0.5, 0.5, (3, 3, 3))
    b = RNG.standard_normal((3, 3))
    for given in (b, b[0]):
        x = gg.linalg.solve(a, given)
        np.testing.assert_allclose(x.data, np.linalg.solve(a, given), rtol=1e-12)
    assert gg.linalg.solve(a, b[0]).shape == (3, 3)  # one vector for each matrix
    np.testing.assert_allclose(gg.linalg.solve(a, b).data[1], np.linalg.solve(a[1], b),
                               rtol=1e-12)


def test_solve_gradient_of_a_shared_vector_sums_over_the_stack():
    a = np.eye(2) * 2.0 + RNG.uniform(-0.5, 0.5, (4, 2, 2))
    A, b = gg.Tensor(a, requires_grad=True), gg.Tensor([1.0, -2.0], requires_grad=True)
    gg.linalg.solve(A, b).sum().backward()
    # d/db sum(A_i^-1 b) = sum_i A_i^-T 1
    want = sum(np.linalg.inv(m).T @ np.ones(2) for m in a)
    np.testing.assert_allclose(b.grad, want, rtol=1e-12)


def test_solve_of_a_stack_of_vectors_is_refused_with_the_way_to_write_it():
    A = gg.Tensor(np.eye(3) + np.zeros((4, 3, 3)), name="A")
    b = gg.Tensor(np.ones((4, 3)), name="b")
    with pytest.raises(gg.ShapeError, match=r"^linalg\.solve of a = 'A' \(4, 3, 3\) float64 and "
                       r"b = 'b' \(4, 3\) float64: b must be a vector \(n,\) or matrices "
                       r"\(\.\.\., n, k\) with n = 3.*matrices of 4 rows.*numpy 2's rule.*"
                       r"b\[\.\.\., None\] and take x\[\.\.\., 0\]"):
        gg.linalg.solve(A, b)
    x = gg.linalg.solve(A, b[..., None])[..., 0]  # as the message says
    np.testing.assert_allclose(x.data, np.ones((4, 3)))


@pytest.mark.parametrize("a_shape, b_shape, read", [
    ((3, 3), (2,), r"one vector of 2"),
    ((2, 3, 3), (4, 3, 1), r"a stack \(4,\) of matrices, which does not broadcast with a's "
                           r"\(2,\)"),
    ((3, 3), (), r"a number"),
])
def test_solve_shapes_that_do_not_fit_are_refused(a_shape, b_shape, read):
    with pytest.raises(gg.ShapeError, match=r"linalg\.solve of a = .*b is read as " + read):
        gg.linalg.solve(np.ones(a_shape), np.ones(b_shape))


@pytest.mark.parametrize("call", [gg.linalg.inv, gg.linalg.det, gg.linalg.slogdet,
                                  gg.linalg.cholesky, lambda a: gg.linalg.solve(a, np.ones(3)),
                                  np.linalg.inv, np.linalg.det],
                         ids=["inv", "det", "slogdet", "cholesky", "solve", "np-inv", "np-det"])
def test_a_matrix_that_is_not_square_is_refused_as_numpy_does(call):
    A = gg.Tensor(np.ones((3, 2)), requires_grad=True, name="A")
    with pytest.raises(np.linalg.LinAlgError, match=r"^linalg\.\w+ of 'A' \(3, 2\) float64: a "
                       r"must be a square matrix \(n, n\), or a stack of them \(\.\.\., n, n\) "
                       r"in its last two axes; it holds 3 x 2 matrices"):
        call(A)
    with pytest.raises(gg.LinAlgError, match=r"it holds a vector"):
        call(gg.Tensor(np.ones(3), name="v"))


@pytest.mark.parametrize("call, op", [
    (gg.linalg.inv, "inv"), (lambda a: gg.linalg.solve(a, np.ones(3)), "solve"),
    (np.linalg.inv, "inv"), (lambda a: np.linalg.solve(a, np.ones((3, 2))), "solve"),
])
def test_a_singular_matrix_is_refused_naming_the_tensor_and_what_to_do(call, op):
    A = gg.Tensor(SINGULAR, requires_grad=True, name="A")
    with pytest.raises(gg.LinAlgError, match=rf"^linalg\.{op} of 'A' \(3, 3\) float64: the "
                       r"matrix is singular, with no inverse.*A \+ 1e-6 \* np\.eye\(n\)"):
        call(A)


def test_a_singular_matrix_of_a_stack_is_named_by_its_index():
    stack = np.stack([np.eye(3), np.eye(3), SINGULAR, np.zeros((3, 3))]).reshape(2, 2, 3, 3)
    with pytest.raises(np.linalg.LinAlgError, match=r"singular \(matrix \[1, 0\] of the stack, "
                       r"2 of 4 singular\)"):
        gg.linalg.inv(gg.Tensor(stack, requires_grad=True))


def test_cholesky_reads_the_lower_triangle_as_numpy_and_its_gradient_stays_there():
    m = RNG.standard_normal((3, 3))
    a = m @ m.T + 3 * np.eye(3)
    noisy = a + np.triu(RNG.standard_normal((3, 3)), 1)  # the upper triangle is not read
    A = gg.Tensor(noisy, requires_grad=True)
    L = gg.linalg.cholesky(A)
    np.testing.assert_allclose(L.data, np.linalg.cholesky(a), rtol=1e-14)
    (L * RNG.standard_normal((3, 3))).sum().backward()
    np.testing.assert_array_equal(np.triu(A.grad, 1), 0.0)
    U = gg.linalg.cholesky(gg.Tensor(noisy.T), upper=True)  # the upper triangle of noisy.T
    np.testing.assert_allclose(U.data, np.linalg.cholesky(a).T, rtol=1e-14)


def test_cholesky_gradient_through_a_symmetric_matrix_is_the_symmetric_derivative():
    """A = M M^T + I: the gradient with respect to M is the same whichever triangle is read."""
    m = RNG.standard_normal((3, 3))
    upstream = RNG.standard_normal((3, 3))

    def loss(M, upper):
        A = M @ M.T + np.eye(3)
        L = gg.linalg.cholesky(A, upper=upper)
        return (L.T if upper else L) * upstream

    grads = []
    for upper in (False, True):
        M = gg.Tensor(m, requires_grad=True)
        loss(M, upper).sum().backward()
        grads.append(M.grad)
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10)
    assert gg.gradgradcheck(lambda M: loss(M, False), [m])


def test_cholesky_of_a_matrix_that_is_not_positive_definite_says_what_to_do():
    A = gg.Tensor(np.diag([1.0, -1.0]), requires_grad=True, name="Sigma")
    with pytest.raises(gg.LinAlgError, match=r"^linalg\.cholesky of 'Sigma' \(2, 2\) float64: "
                       r"the matrix is not positive definite \(read from its lower triangle.*"
                       r"A \+ 1e-6 \* np\.eye\(n\)"):
        np.linalg.cholesky(A)
    with pytest.raises(gg.ArgumentError, match=r"upper must be True or False, got 1"):
        gg.linalg.cholesky(np.eye(2), upper=1)


def test_inv_of_an_empty_matrix_and_det_of_one_are_numpys():
    assert gg.linalg.inv(np.zeros((2, 0, 0))).shape == (2, 0, 0)
    A = gg.Tensor(np.zeros((2, 0, 0)), requires_grad=True)
    d = gg.linalg.det(A)
    np.testing.assert_array_equal(d.data, [1.0, 1.0])
    d.sum().backward()
    assert A.grad.shape == (2, 0, 0)


def test_numpy_calls_on_tensors_that_need_no_grad_give_constants():
    a = np.eye(2) * 2.0
    for call, want in [(np.linalg.inv, np.eye(2) / 2), (np.linalg.det, 4.0)]:
        out = call(gg.Tensor(a))
        assert isinstance(out, gg.Tensor) and not out.requires_grad
        np.testing.assert_allclose(out.data, want)


@pytest.mark.parametrize("call", [gg.linalg.inv, gg.linalg.det, gg.linalg.cholesky,
                                  lambda a: gg.linalg.solve(np.eye(2), a)],
                         ids=["inv", "det", "cholesky", "solve-b"])
def test_float16_is_refused_with_the_cast_to_make(call):
    """numpy's linear algebra raised "array type float16 is unsupported in linalg" from
    inside the op, naming neither a fix nor (for b) the argument."""
    half = gg.Tensor(np.eye(2, dtype=np.float16), name="H")
    with pytest.raises(gg.GraphgradTypeError, match=r"^linalg\.\w+ of 'H' \(2, 2\) float16: "
                       r"numpy's linear algebra takes float32 and float64, not float16; give "
                       r"[ab]\.astype\(np\.float32\)"):
        call(half)
