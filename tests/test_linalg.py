"""gg.linalg beyond the op table (which checks values against numpy and gradients to second
order over random shapes): the gradient of det at singular matrices, slogdet's sign, numpy 2's
rule for solve's b, cholesky's reading of one triangle, and the errors, which name the op and
the tensors and say what to do."""
import warnings

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


def test_a_matrix_of_a_stack_that_is_not_positive_definite_is_named_by_its_index():
    """A mixture's covariances, one collapsed (a component on one point): which one, as inv
    and solve name the singular matrices of a stack."""
    covariances = np.stack([np.eye(2), np.diag([1.0, 0.0]), 2 * np.eye(2),
                            np.diag([-1.0, 1.0])]).reshape(2, 2, 2, 2)
    S = gg.Tensor(covariances, requires_grad=True, name="S")
    with pytest.raises(gg.LinAlgError, match=r"^linalg\.cholesky of 'S' \(2, 2, 2, 2\) "
                       r"float64: matrix \[0, 1\] of the stack \(2 of 4\) is not positive "
                       r"definite \(read from its lower triangle"):
        gg.linalg.cholesky(S)
    upper = np.stack([np.eye(2), [[1.0, 2.0], [0.0, 1.0]]])  # read from the upper triangle
    with pytest.raises(gg.LinAlgError, match=r"matrix \[1\] of the stack \(1 of 2\) is not "
                       r"positive definite \(read from its upper triangle"):
        np.linalg.cholesky(gg.Tensor(upper), upper=True)
    assert gg.linalg.cholesky(np.tril(upper)).shape == (2, 2, 2)  # the lower one is fine


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


# -- eigh, svd, qr, pinv, lstsq --------------------------------------------------------------------
def symmetric(w, seed=0):
    """V diag(w) V^T with a random orthogonal V."""
    v = np.linalg.qr(np.random.default_rng(seed).standard_normal((len(w), len(w))))[0]
    return (v * np.asarray(w, float)) @ v.T


def test_eigh_gives_numpys_named_pair_and_reads_one_triangle():
    a = symmetric([-1.0, 0.5, 2.0])
    noisy = a + np.triu(RNG.standard_normal((3, 3)), 1)  # the upper triangle is not read
    for uplo, given in (("L", noisy), ("U", noisy.T)):
        A = gg.Tensor(given, requires_grad=True)
        result = gg.linalg.eigh(A, UPLO=uplo)
        want = np.linalg.eigh(given, UPLO=uplo)
        assert type(result).__name__ == "EighResult" and result.eigenvalues is result[0]
        np.testing.assert_allclose(result.eigenvalues.data, [-1.0, 0.5, 2.0], rtol=1e-12)
        np.testing.assert_allclose(result.eigenvectors.data, want.eigenvectors, rtol=1e-12)
        (result.eigenvectors * RNG.standard_normal((3, 3))).sum().backward()
        unread = np.triu(A.grad, 1) if uplo == "L" else np.tril(A.grad, -1)
        np.testing.assert_array_equal(unread, 0.0)
        assert np.abs(A.grad).sum() > 0.1


def test_eigh_gradient_through_a_symmetric_matrix_is_the_same_whichever_triangle_is_read():
    m = RNG.standard_normal((3, 3))
    upstream = RNG.standard_normal((3, 3))

    def loss(M, uplo):
        w, v = gg.linalg.eigh(M @ M.T, UPLO=uplo)
        return (v * v[:1] * upstream).sum() + (w * w).sum()

    grads = []
    for uplo in ("L", "U"):
        M = gg.Tensor(m, requires_grad=True)
        loss(M, uplo).backward()
        grads.append(M.grad)
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-9)
    assert gg.gradgradcheck(lambda M: loss(M, "U"), [m])


def test_eigvalsh_gradient_at_repeated_eigenvalues_is_the_projection_on_their_space():
    """d(w_i)/dA = v_i v_i^T, read from the lower triangle: at w = (1, 1, 3), the sum of the
    repeated pair's is the projection on their plane, whichever basis of it eigh gives."""
    a = symmetric([1.0, 1.0, 3.0], seed=3)
    A = gg.Tensor(a, requires_grad=True, name="A")
    (gg.linalg.eigvalsh(A) * np.array([2.0, 2.0, -1.0])).sum().backward()
    v3 = np.linalg.eigh(a)[1][:, 2]
    g = 2.0 * (np.eye(3) - np.outer(v3, v3)) - np.outer(v3, v3)  # symmetric
    np.testing.assert_allclose(A.grad, np.tril(2 * g, -1) + np.diag(np.diag(g)), atol=1e-12)


def test_eigvalsh_second_derivative_at_repeated_eigenvalues_is_refused():
    """It goes through the eigenvectors, which a repeated eigenvalue leaves free: the formula
    gives 0 / 0 there, even where the derivative exists (sum(w**2) is A's squared norm)."""
    A = gg.Tensor(np.diag([1.0, 1.0, 3.0]), requires_grad=True, name="A")
    (g,) = gg.grad((gg.linalg.eigvalsh(A) ** 2).sum(), [A], create_graph=True)
    np.testing.assert_allclose(g.data, np.diag([2.0, 2.0, 6.0]), atol=1e-12)  # the first: given
    with pytest.raises(gg.LinAlgError, match=r"^the gradient of linalg\.eigh of 'A' \(3, 3\) "
                       r"float64: its eigenvalues 1 and 1 are repeated"):
        g.sum().backward()


@pytest.mark.parametrize("call, kind", [
    (lambda A: gg.linalg.eigh(A).eigenvectors, "eigh of 'A' .*eigenvalues 1 and 1 are repeated"),
    (lambda A: np.linalg.svd(A).U, "svd of 'A' .*singular values 1 and 1 are repeated"),
])
def test_a_loss_of_the_vectors_of_a_repeated_value_is_refused_naming_them(call, kind):
    """PyTorch gives inf or NaN there; the eigenvectors of a repeated eigenvalue are any basis
    of their space."""
    stack = np.stack([symmetric([0.5, 2.0, 3.0]), symmetric([1.0, 1.0, 3.0], seed=2)])
    A = gg.Tensor(stack, requires_grad=True, name="A")
    y = call(A)
    with pytest.raises(gg.LinAlgError, match=r"^the gradient of linalg\." + kind + r" \(equal "
                       r"within float64's resolution, matrix \[1\] of the stack\).*not unique.*"
                       r"gg\.linalg\.(eigvalsh|svdvals)\(A\), whose gradient exists"):
        (y * RNG.standard_normal(y.shape)).sum().backward()


@pytest.mark.parametrize("call, op", [
    (gg.linalg.svd, "svd"), (gg.linalg.svdvals, "svd"), (gg.linalg.pinv, "pinv"),
    (lambda A: np.linalg.norm(A, 2), "svd"), (lambda A: gg.linalg.lstsq(A, np.ones(3)), "pinv"),
    (gg.linalg.eigh, "eigh"),
])
def test_a_matrix_holding_nan_is_named_as_numpys_linalgerror_not_a_failed_op(call, op):
    """numpy's "SVD did not converge" is its LinAlgError, and the cause is the NaN."""
    a = np.arange(9.0).reshape(3, 3)
    a[2, 0] = np.nan
    A = gg.Tensor(np.stack([np.eye(3), a]), requires_grad=True, name="A")[1]
    with pytest.raises(np.linalg.LinAlgError, match=rf"^linalg\.{op} of .*\(3, 3\) float64: "
                       r"it holds NaN \(at \[2, 0\]\).*gg\.detect_anomaly"):
        call(A)


def test_svd_is_numpys_named_triple_and_svdvals_its_values():
    a = RNG.standard_normal((2, 4, 3))
    U, S, Vh = result = gg.linalg.svd(a, full_matrices=False)
    assert type(result).__name__ == "SVDResult" and result.S is S
    assert (U.shape, S.shape, Vh.shape) == ((2, 4, 3), (2, 3), (2, 3, 3))
    np.testing.assert_allclose(((U * S[:, None, :]) @ Vh).data, a, atol=1e-12)
    assert gg.linalg.svd(a).U.shape == (2, 4, 4)
    np.testing.assert_allclose(gg.linalg.svd(a, compute_uv=False).data, np.linalg.svdvals(a),
                               rtol=1e-12)
    A = gg.Tensor(a, requires_grad=True)
    gg.linalg.svdvals(A).sum().backward()  # d(sum s)/dA = U Vh, the nuclear norm's gradient
    np.testing.assert_allclose(A.grad, (U @ Vh).data, rtol=1e-10)
    with pytest.raises(gg.ArgumentError, match=r"linalg\.svd: hermitian=True .* no graphgrad"):
        gg.linalg.svd(a[0, :3], hermitian=True)


@pytest.mark.parametrize("values, route, vectors", [
    (gg.linalg.svdvals, lambda a: np.linalg.svd(a, compute_uv=False), "svd"),
    (lambda a: gg.linalg.svd(a, compute_uv=False), lambda a: np.linalg.svd(a, compute_uv=False),
     "svd"),
    (gg.linalg.eigvalsh, np.linalg.eigvalsh, "eigh"),
])
def test_the_values_alone_with_no_gradient_to_come_skip_the_vectors(values, route, vectors,
                                                                     monkeypatch):
    """Of a constant or under no_grad, LAPACK's route for the values alone, numpy's own
    (svdvals and eigvalsh, 2.5 times faster than with the vectors): numpy's values exactly;
    the vectors, which only backward needs, are not computed. With a gradient to come, they
    are, and the gradient is U Vh (V V^T)."""
    m = RNG.standard_normal((2, 5, 5))
    a = m @ np.swapaxes(m, -1, -2)
    want = route(a)
    full = getattr(np.linalg, vectors)
    with monkeypatch.context() as patch:
        patch.setattr(np.linalg, vectors, lambda x, *args, **kwargs: (
            full(x, *args, **kwargs) if kwargs.get("compute_uv") is False
            else pytest.fail("the vectors were computed")))
        np.testing.assert_array_equal(values(gg.Tensor(a)).data, want)
        with gg.no_grad():
            np.testing.assert_array_equal(values(gg.Tensor(a, requires_grad=True)).data, want)
        with gg.detect_anomaly(), gg.no_grad():  # the checked mode takes the same route
            np.testing.assert_array_equal(values(gg.Tensor(a, requires_grad=True)).data, want)
    A = gg.Tensor(a, requires_grad=True)
    values(A).sum().backward()
    if vectors == "svd":
        u, _, vh = full(a)
        np.testing.assert_allclose(A.grad, u @ vh, atol=1e-12)
    else:
        v = full(a)[1]
        g = v @ np.swapaxes(v, -1, -2)  # the identity, read from the lower triangle
        np.testing.assert_allclose(A.grad, np.tril(2 * g, -1) + g * np.eye(5), atol=1e-12)


def test_svd_with_full_matrices_takes_no_gradient_for_the_vectors_past_min_m_n():
    a = RNG.standard_normal((4, 2))
    A = gg.Tensor(a, requires_grad=True, name="A")
    U, S, Vh = gg.linalg.svd(A)  # U (4, 4): its last 2 columns are any basis of the rest
    (U[:, :2] * U[:1, :2]).sum().backward()  # only the first 2: given
    B = gg.Tensor(a, requires_grad=True)
    (lambda u: (u * u[:1]).sum())(gg.linalg.svd(B, full_matrices=False).U).backward()
    np.testing.assert_allclose(A.grad, B.grad, rtol=1e-12)
    with pytest.raises(gg.LinAlgError, match=r"^the gradient of linalg\.svd of 'A' \(4, 2\) "
                       r"float64 with full_matrices=True: the last 2 singular vectors.*"
                       r"full_matrices=False.*U\[\.\.\., :2\]"):
        (gg.linalg.svd(A).U * np.arange(16.0).reshape(4, 4)).sum().backward()


def test_svd_vectors_of_a_zero_singular_value_of_a_matrix_not_square_are_refused():
    A = gg.Tensor(np.outer([1.0, 2.0, 0.0], [1.0, 1.0]), requires_grad=True, name="A")  # rank 1
    U, S, Vh = gg.linalg.svd(A, full_matrices=False)
    with pytest.raises(gg.LinAlgError, match=r"^the gradient of linalg\.svd of 'A' \(3, 2\) "
                       r"float64: a singular value is 0 in a matrix that is not square.*"
                       r"gg\.linalg\.svdvals"):
        (U * np.arange(6.0).reshape(3, 2)).sum().backward()
    gg.linalg.svdvals(A)[0].backward()  # the singular values' gradient is given: u v^T
    np.testing.assert_allclose(A.grad, U.data[:, :1] @ Vh.data[:1], atol=1e-12)


def test_qr_is_numpys_and_refuses_what_has_no_gradient():
    a = RNG.standard_normal((2, 5, 3))
    Q, R = result = gg.linalg.qr(a)
    assert type(result).__name__ == "QRResult"
    np.testing.assert_allclose((Q @ R).data, a, atol=1e-12)
    np.testing.assert_allclose(gg.linalg.qr(a, "r").data, np.linalg.qr(a, "r"), rtol=1e-12)
    assert gg.linalg.qr(a, mode="complete").Q.shape == (2, 5, 5)
    with pytest.raises(gg.ArgumentError, match=r"linalg\.qr: mode must be .*'raw'.* no "
                       r"graphgrad form"):
        gg.linalg.qr(a, mode="raw")
    A = gg.Tensor(np.array([[1.0, 2.0], [2.0, 4.0], [0.0, 0.0]]), requires_grad=True, name="A")
    with pytest.raises(gg.LinAlgError, match=r"^the gradient of linalg\.qr of 'A' \(3, 2\) "
                       r"float64: its columns .* are linearly dependent"):
        gg.linalg.qr(A).Q.sum().backward()
    A = gg.Tensor(a[0], requires_grad=True, name="A")
    with pytest.raises(gg.LinAlgError, match=r"with mode='complete': the last 2 columns of Q"):
        gg.linalg.qr(A, mode="complete").Q.sum().backward()


def test_pinv_gradient_at_a_rank_deficient_matrix_of_constant_rank():
    """A = B C of rank 2 stays of rank 2 as B and C move: pinv(B C) is smooth in them, and its
    gradient at a constant rank is checked through them, to second order."""
    b, c = RNG.standard_normal((4, 2)), RNG.standard_normal((2, 3))
    upstream = RNG.standard_normal((3, 4))
    np.testing.assert_allclose(gg.linalg.pinv(b @ c).data, np.linalg.pinv(b @ c), atol=1e-12)
    assert gg.gradgradcheck(lambda B, C: gg.linalg.pinv(B @ C) * upstream, [b, c])


def test_pinv_cut_offs_are_numpys():
    a = np.diag([1.0, 1e-3, 1e-17])
    for kwargs in ({}, {"rtol": None}, {"rtol": 1e-2}, {"rcond": 1e-2}):
        np.testing.assert_allclose(gg.linalg.pinv(a, **kwargs).data,
                                   np.linalg.pinv(a, **kwargs), rtol=1e-12)
    with pytest.raises(gg.ArgumentError, match=r"linalg\.pinv: give rtol or rcond"):
        gg.linalg.pinv(a, 1e-2, rtol=1e-2)
    with pytest.raises(gg.ArgumentError, match=r"linalg\.pinv: hermitian=True"):
        gg.linalg.pinv(a, hermitian=True)


@pytest.mark.parametrize("a", [
    np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 0.0]]),  # tall, one singular value exactly 0
    np.array([[1.0, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]),  # two
    np.array([[1.0, 2.0, 0.0], [0.0, 0.0, 0.0]]),  # wide
])
def test_svd_vectors_of_a_nonzero_value_beside_exact_zeros_have_their_gradient(a):
    """The part of dU outside U's span is divided by s: 0 / 0, a NaN spread over the whole
    gradient, where a singular value is exactly 0 and the loss does not use its vectors."""
    def top(A):
        U, S, Vh = gg.linalg.svd(A, full_matrices=False)
        return ((U[:, 0] ** 2) * np.arange(1.0, a.shape[0] + 1)).sum() + (
            (Vh[0] ** 2) * np.arange(1.0, a.shape[1] + 1)).sum()

    A = gg.Tensor(a, requires_grad=True)
    top(A).backward()
    assert np.isfinite(A.grad).all()
    assert gg.gradcheck(top, [gg.Tensor(a, requires_grad=True)])


def test_lstsq_is_numpys_and_its_solution_is_differentiable():
    a, b = RNG.standard_normal((6, 3)), RNG.standard_normal(6)
    x, residuals, rank, s = gg.linalg.lstsq(a, b)
    want = np.linalg.lstsq(a, b)
    np.testing.assert_allclose(x.data, want[0], rtol=1e-10)
    np.testing.assert_allclose(residuals.data, want[1], rtol=1e-10)
    assert rank == want[2] == 3 and type(rank) is type(want[2])
    np.testing.assert_allclose(s.data, want[3], rtol=1e-12)
    # the normal equations' solution, differentiated to second order
    assert gg.gradgradcheck(lambda A, B: gg.linalg.lstsq(A, B)[0], [a, b])
    deficient = np.outer(RNG.standard_normal(6), [1.0, 2.0, 0.5])  # rank 1: no residuals
    x, residuals, rank, _ = gg.linalg.lstsq(deficient, b)
    want = np.linalg.lstsq(deficient, b)
    np.testing.assert_allclose(x.data, want[0], rtol=1e-10)
    assert residuals.shape == want[1].shape == (0,) and rank == 1
    with pytest.raises(gg.ShapeError, match=r"^linalg\.lstsq of a = .*\(2, 6, 3\).*which takes "
                       r"no stacks"):
        gg.linalg.lstsq(np.stack([a, a]), b)



def test_lstsq_rcond_minus_one_is_numpys_machine_precision():
    """numpy's older code passes rcond=-1 (LAPACK's: eps, without numpy 2's max(m, n))."""
    a = np.diag([1.0, 3e-16, 2.0])[:, :2] @ np.array([[1.0, 0.5], [0.2, 1.0]])  # s2 ~ 1e-16
    a = np.vstack([a, [[1e-15, 0.0]]])
    b = np.array([1.0, 2.0, 3.0, 4.0])
    for rcond in (-1, -1.0, None, 0.1):
        got, want = gg.linalg.lstsq(a, b, rcond=rcond), np.linalg.lstsq(a, b, rcond=rcond)
        assert got[2] == want[2]
        np.testing.assert_allclose(got[0].data, want[0], rtol=1e-8)
    assert gg.linalg.lstsq(a, b, rcond=-1)[2] == 2 != gg.linalg.lstsq(a, b)[2]



def test_lstsq_of_a_float32_a_and_float64_b_is_computed_in_float64_as_numpys():
    a, b = RNG.standard_normal((6, 3)).astype(np.float32), RNG.standard_normal(6)
    got, want = gg.linalg.lstsq(a, b), np.linalg.lstsq(a, b)
    for g, w in zip(got[:2] + got[3:], want[:2] + want[3:]):
        assert g.dtype == w.dtype == np.float64
        np.testing.assert_allclose(g.data, w, rtol=1e-10)
    A = gg.Tensor(a, requires_grad=True)
    gg.linalg.lstsq(A, b)[0].sum().backward()
    assert A.grad.dtype == np.float32


# -- numpy 2's compositions ------------------------------------------------------------------------
def test_norms_of_other_ords_are_refused_naming_them():
    x = gg.Tensor(np.ones((2, 3)), name="x")
    with pytest.raises(gg.ArgumentError, match=r"^linalg\.vector_norm of 'x' \(2, 3\) float64: "
                       r"ord must be a number \(2, 1, inf, -inf, 0, or any p\), got 'fro'"):
        gg.linalg.vector_norm(x, ord="fro")
    with pytest.raises(gg.ArgumentError, match=r"^linalg\.matrix_norm of 'x' .*got 'max'"):
        np.linalg.matrix_norm(x, ord="max")
    with pytest.raises(gg.ShapeError, match=r"^linalg\.matrix_norm of .*at least 2 axes"):
        gg.linalg.matrix_norm(np.ones(3))


@pytest.mark.parametrize("p", [3.0, 1.5, 0.5])
def test_a_p_norms_gradient_is_0_at_zeros_and_at_a_zero_vector(p):
    """(sum |x|**p)**(1/p) has an infinite slope at a zero vector (any p > 1 or < 1) and its
    |x|**p at a zero element (p < 1): PyTorch's gradient there is 0, a subgradient, where
    the composition's is 0 * inf = NaN. Elsewhere x |x|**(p - 2) / ||x||**(p - 1), and second
    derivatives stay finite."""
    data = np.array([[0.0, 0.0, 0.0], [3.0, 0.0, -4.0]])
    x = gg.Tensor(data, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division by zero or 0 * inf on the way
        y = gg.linalg.vector_norm(x, axis=1, ord=p)
        y.sum().backward()
        (dx,) = gg.grad(gg.linalg.vector_norm(x, axis=1, ord=p).sum(), [x], create_graph=True)
        (d2x,) = gg.grad((dx * dx).sum(), [x])
    norm = (3.0 ** p + 4.0 ** p) ** (1 / p)
    np.testing.assert_allclose(y.data, [0.0, norm], rtol=1e-15)
    want = np.array([3.0, 0.0, -(4.0 ** (p - 1))]) / norm ** (p - 1)
    want[0] = 3.0 ** (p - 1) / norm ** (p - 1)  # and 0 at the zero element
    np.testing.assert_allclose(x.grad, [[0.0, 0.0, 0.0], want], rtol=1e-14)
    np.testing.assert_allclose(dx.data, x.grad, rtol=1e-15)
    assert np.isfinite(d2x).all() and not d2x[0].any()


@pytest.mark.parametrize("call", [
    lambda x: np.linalg.vector_norm(x, ord=np.inf),
    lambda x: np.linalg.vector_norm(x, ord=np.inf, axis=0, keepdims=True),
    lambda x: np.linalg.norm(x[:, :1], ord=np.inf, axis=0),
    lambda x: np.linalg.matrix_norm(x, ord=2),
    lambda x: np.linalg.matrix_norm(x, ord=np.inf),
    lambda x: np.linalg.matrix_norm(x.T, ord=1, keepdims=True),
    lambda x: np.linalg.norm(x, ord=2),
])
def test_the_largest_of_no_numbers_is_numpys_0_in_the_norms(call):
    """A norm is a largest |x| (a singular value, a row's sum): numpy's is 0 over none, as
    the sum's (the norms are never negative); the smallest of none it refuses."""
    x = gg.Tensor(np.zeros((0, 3)), requires_grad=True)
    y, want = call(x), call(x.data)
    assert y.shape == np.shape(want) and y.dtype == want.dtype
    np.testing.assert_array_equal(y.data, want)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, np.zeros((0, 3)))


def test_the_nuclear_and_spectral_norms_gradients_are_u_vh_and_u1_v1():
    a = RNG.standard_normal((4, 3))
    u, _, vh = np.linalg.svd(a, full_matrices=False)
    for ord_, want in (("nuc", u @ vh), (2, np.outer(u[:, 0], vh[0]))):
        A = gg.Tensor(a, requires_grad=True)
        gg.linalg.matrix_norm(A, ord=ord_).backward()
        np.testing.assert_allclose(A.grad, want, rtol=1e-10, atol=1e-12)


def test_multi_dot_takes_the_cheapest_order_and_refuses_shapes_that_do_not_chain():
    """(10 x 100)(100 x 5)(5 x 50): left first costs 7,500 multiplications, right first
    75,000; the graph's matmuls show which."""
    xs = [gg.Tensor(RNG.standard_normal(s), requires_grad=True) for s in
          ((10, 100), (100, 5), (5, 50))]
    y = gg.linalg.multi_dot(xs)
    np.testing.assert_allclose(y.data, np.linalg.multi_dot([x.data for x in xs]), rtol=1e-12)
    assert y.creator.inputs[1] is xs[2] and y.creator.inputs[0].creator.inputs == tuple(xs[:2])
    with pytest.raises(gg.ShapeError, match=r"^linalg\.multi_dot of matrices of shapes \(2, 3\), "
                       r"\(2, 3\): each must be 2-D"):
        gg.linalg.multi_dot([np.ones((2, 3)), np.ones((2, 3))])
    with pytest.raises(gg.ShapeError, match=r"shapes \(2, 3\), \(2, 3\), \(3,\): each"):
        gg.linalg.multi_dot(iter([np.ones((2, 3)), np.ones((2, 3)), np.ones(3)]))  # once only
    with pytest.raises(gg.ArgumentError, match=r"two or more matrices, got 1"):
        gg.linalg.multi_dot([np.ones((2, 3))])


@pytest.mark.parametrize("call, message", [
    (lambda: gg.linalg.outer(np.ones((2, 2)), np.ones(2)), r"^linalg\.outer of .*both must be "
                                                           r"vectors"),
    (lambda: np.linalg.cross(gg.Tensor(np.ones(2)), np.ones(2)), r"^linalg\.cross of .*"
                                                                 r"3-vectors along axis -1"),
    (lambda: gg.linalg.matrix_transpose(np.ones(3)), r"^linalg\.matrix_transpose of .*at "
                                                     r"least 2 axes"),
], ids=["outer", "cross", "matrix_transpose"])
def test_numpy_2s_stricter_shapes_are_kept(call, message):
    with pytest.raises(gg.ShapeError, match=message):
        call()


def test_the_last_axes_are_numpy_2s_linalg_not_the_first_two():
    x = RNG.standard_normal((3, 4, 4))
    np.testing.assert_allclose(gg.linalg.trace(x).data, np.linalg.trace(x), rtol=1e-12)
    np.testing.assert_allclose(gg.linalg.diagonal(x).data, np.linalg.diagonal(x), rtol=1e-12)
    assert gg.linalg.trace(x).shape == (3,) and gg.trace(x).shape == (4,)  # np.trace's axes


def test_the_vectors_of_distinct_values_have_a_gradient_beside_repeated_ones():
    """PCA of fewer samples than features: the covariance's zero eigenvalues (singular values)
    are repeated, and the loss of the top eigenvectors, which are unique, is differentiable;
    only a loss of the vectors of the repeated values is refused."""
    x = RNG.standard_normal((2, 5))
    c = x.T @ x  # rank 2: eigenvalues 0, 0, 0, w4, w5
    weights = np.arange(1.0, 6.0)

    def top_eigenvectors(C):
        v = gg.linalg.eigh(C).eigenvectors[:, 3:]
        return ((v * v) * weights[:, None]).sum()  # v's sign is free: even in v

    assert gg.gradcheck(top_eigenvectors, [gg.Tensor(c, requires_grad=True)])
    with pytest.raises(gg.LinAlgError, match="repeated"):  # the second goes through them all
        gg.gradgradcheck(top_eigenvectors, [gg.Tensor(c, requires_grad=True)])
    a = x.T @ RNG.standard_normal((2, 4))  # (5, 4), rank 2: singular values s1, s2, 0, 0

    def top_singular_vectors(A):
        U, S, Vh = gg.linalg.svd(A, full_matrices=False)
        return ((U[:, :2] * U[:, :2]) * weights[:, None]).sum() + (Vh[:2] ** 4).sum() + S.sum()

    assert gg.gradcheck(top_singular_vectors, [gg.Tensor(a, requires_grad=True)])
    C = gg.Tensor(c, requires_grad=True, name="C")
    with pytest.raises(gg.LinAlgError, match=r"^the gradient of linalg\.eigh of 'C' .* are "
                       r"repeated"):
        (gg.linalg.eigh(C).eigenvectors[:, 2:] ** 2 * weights[:, None]).sum().backward()


# -- matrix_power, cond, matrix_rank, tensorinv, tensorsolve ---------------------------------------
def invertible_stack(shape, seed=0):
    """(n + 1) I plus noise: matrices (..., n, n) far from singular."""
    n = shape[-1]
    return 0.5 * np.random.default_rng(seed).standard_normal(shape) + (n + 1) * np.eye(n)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 6, 13, -1, -2, -5])
def test_matrix_power_is_numpys_of_a_stack_and_differentiable(n):
    """numpy's products in numpy's order (repeated squaring), the same bits; np.linalg's call
    on a tensor that requires grad was refused ("has no graphgrad op")."""
    a = invertible_stack((2, 3, 3))
    A = gg.Tensor(a, requires_grad=True)
    out = np.linalg.matrix_power(A, n)
    np.testing.assert_array_equal(out.data, np.linalg.matrix_power(a, n))
    assert out.requires_grad == (n != 0)
    if n:
        w = RNG.standard_normal(out.shape)
        assert gg.gradcheck(lambda x: (gg.linalg.matrix_power(x, n) * w).sum(),
                            [gg.Tensor(a, requires_grad=True)])


def test_matrix_power_zero_is_a_constant_identity_of_as_dtype_and_one_a_new_node():
    A = gg.Tensor(invertible_stack((2, 3, 3)).astype(np.float32), requires_grad=True)
    eye = gg.linalg.matrix_power(A, 0)
    assert eye.dtype == np.float32 and not eye.requires_grad and eye.creator is None
    np.testing.assert_array_equal(eye.data, np.broadcast_to(np.eye(3), (2, 3, 3)))
    same = gg.linalg.matrix_power(A, 1)
    assert same is not A and same.dtype == np.float32
    same.sum().backward()
    np.testing.assert_array_equal(A.grad, np.ones((2, 3, 3)))
    assert gg.linalg.matrix_power(A, -3).dtype == np.float32
    # the gradient of a^2 is dY a^T + a^T dY
    a = invertible_stack((3, 3), seed=1)
    X = gg.Tensor(a, requires_grad=True)
    g = RNG.standard_normal((3, 3))
    (gg.linalg.matrix_power(X, 2) * g).sum().backward()
    np.testing.assert_allclose(X.grad, g @ a.T + a.T @ g, rtol=1e-13)


def test_matrix_power_refusals_name_it():
    singular = gg.Tensor(SINGULAR, requires_grad=True, name="A")
    with pytest.raises(gg.LinAlgError, match=r"^linalg\.matrix_power with n = -2 inverts a: "
                       r"linalg\.inv of 'A' \(3, 3\) float64: the matrix is singular"):
        gg.linalg.matrix_power(singular, -2)
    with pytest.raises(gg.GraphgradTypeError, match=r"^linalg\.matrix_power of 'A' .*: n must "
                       r"be an integer, as numpy's, got 1\.5"):
        gg.linalg.matrix_power(singular, 1.5)
    with pytest.raises(gg.LinAlgError, match=r"^linalg\.matrix_power of .* must be a square"):
        gg.linalg.matrix_power(np.ones((2, 3)), 2)
    assert gg.linalg.matrix_power(SINGULAR, np.int64(2)).data.tolist() == (
        SINGULAR @ SINGULAR).tolist()


@pytest.mark.parametrize("p", [None, 2, -2, 1, -1, np.inf, -np.inf, "fro", "nuc"])
def test_cond_is_numpys_for_each_p_and_inf_at_a_singular_matrix_with_a_zero_gradient(p):
    """numpy's inf where a matrix is singular (no inverse, or a smallest singular value of
    exactly 0; the zero matrix's 0 / 0 too), the others' values beside them, and a gradient
    that is 0 at the infinite ones and the derivative at the others."""
    good = invertible_stack((2, 3, 3), seed=2)
    stack = np.stack([good[0], SINGULAR, np.zeros((3, 3)), good[1]])
    X = gg.Tensor(stack, requires_grad=True)
    out = np.linalg.cond(X, p)
    np.testing.assert_allclose(out.data[[0, 3]], np.linalg.cond(good, p), rtol=1e-12)
    assert out.data[2] == np.inf  # numpy's 0 / 0 made inf ("nuc": numpy's SVD of NaNs fails)
    if p in (None, 2, -2):  # SINGULAR's smallest singular value is rounding, not 0, as numpy's
        assert out.data[1] > 1e15 if p != -2 else out.data[1] < 1e-15
    else:
        assert out.data[1] == np.inf
    finite = np.isfinite(out.data)
    (gg.where(finite, out, 0.0) * np.arange(1.0, 5.0)).sum().backward()
    np.testing.assert_array_equal(X.grad[~finite], np.zeros((np.sum(~finite), 3, 3)))
    assert np.all(np.isfinite(X.grad))
    assert gg.gradcheck(lambda x: gg.linalg.cond(x, p) * np.array([1.0, 2.0]),
                        [gg.Tensor(good, requires_grad=True)])


def test_cond_refusals_name_it():
    with pytest.raises(gg.ArgumentError, match=r"^linalg\.cond of .*: p must be None, 2, -2, "
                       r"'fro', 'nuc', 1, -1, inf or -inf, as numpy's, got 3"):
        gg.linalg.cond(np.eye(2), 3)
    with pytest.raises(gg.LinAlgError, match=r"^linalg\.cond of .*\(0, 0\).*empty matrix"):
        gg.linalg.cond(np.ones((0, 0)))
    with pytest.raises(gg.LinAlgError, match=r"^linalg\.cond of .*must be a square matrix"):
        gg.linalg.cond(np.ones((2, 3)), "fro")
    # the singular values' ratio takes any matrix, as numpy's
    a = RNG.standard_normal((2, 4, 3))
    np.testing.assert_allclose(gg.linalg.cond(a).data, np.linalg.cond(a), rtol=1e-12)
    with pytest.raises(gg.LinAlgError, match=r"^linalg\.cond takes x's singular values: .*NaN"):
        gg.linalg.cond(np.full((2, 2), np.nan))


def test_matrix_rank_is_numpys_count_a_constant():
    """A count, as np.argmax's indices: numpy's integers with no gradient, on a tensor that
    requires grad too (refused before, as a function with no graphgrad op)."""
    low = RNG.standard_normal((2, 4, 2)) @ RNG.standard_normal((2, 2, 5))  # rank 2 of (4, 5)
    stack = np.stack([low[0], low[1], np.zeros((4, 5))])
    X = gg.Tensor(stack, requires_grad=True)
    rank = np.linalg.matrix_rank(X)
    assert isinstance(rank, gg.Tensor) and not rank.requires_grad and rank.creator is None
    assert rank.dtype == np.linalg.matrix_rank(stack).dtype
    np.testing.assert_array_equal(rank.data, [2, 2, 0])
    s = np.linalg.svd(stack[0], compute_uv=False)
    for kwargs in [{"tol": s[1] * 1.01}, {"rtol": s[1] / s[0] * 1.01}, {"tol": s[0] * 2}]:
        np.testing.assert_array_equal(gg.linalg.matrix_rank(X, **kwargs).data,
                                      np.linalg.matrix_rank(stack, **kwargs))
    sym = symmetric([3.0, -2.0, 0.0])
    assert gg.linalg.matrix_rank(gg.Tensor(sym), hermitian=True).item() == 2
    assert gg.linalg.matrix_rank(gg.Tensor([0.0, 1.0])).item() == 1
    assert gg.linalg.matrix_rank(gg.Tensor([0.0, 0.0])).item() == 0
    with pytest.raises(gg.ArgumentError, match=r"^linalg\.matrix_rank: give tol or rtol"):
        gg.linalg.matrix_rank(X, 1.0, rtol=0.1)


def test_tensorinv_and_tensorsolve_are_numpys_and_differentiable():
    """The inverse under tensordot and the solution of tensordot(a, x, x.ndim) = b: numpy's
    reshapes around inv and solve (refused before on tensors that require grad)."""
    a = invertible_stack((6, 6)).reshape(6, 2, 3)
    A = gg.Tensor(a, requires_grad=True)
    ainv = np.linalg.tensorinv(A, ind=1)
    np.testing.assert_array_equal(ainv.data, np.linalg.tensorinv(a, ind=1))
    np.testing.assert_allclose(np.tensordot(a, ainv.data, 2), np.eye(6), atol=1e-14)
    assert gg.gradcheck(lambda x: gg.linalg.tensorinv(x, 1) ** 2, [A])
    a, b = invertible_stack((6, 6), seed=3).reshape(2, 3, 6), RNG.standard_normal((2, 3))
    A, B = gg.Tensor(a, requires_grad=True), gg.Tensor(b, requires_grad=True)
    x = np.linalg.tensorsolve(A, B)
    np.testing.assert_array_equal(x.data, np.linalg.tensorsolve(a, b))
    np.testing.assert_allclose(np.tensordot(a, x.data, 1), b, atol=1e-14)
    assert gg.gradcheck(lambda p, q: gg.linalg.tensorsolve(p, q) ** 2, [A, B])
    a = invertible_stack((6, 6), seed=4).reshape(3, 6, 2)
    np.testing.assert_array_equal(
        gg.linalg.tensorsolve(gg.Tensor(a), b.ravel(), axes=(0, 2)).data,
        np.linalg.tensorsolve(a, b.ravel(), axes=(0, 2)))


def test_tensorinv_and_tensorsolve_refusals_name_them():
    with pytest.raises(gg.ShapeError, match=r"^linalg\.tensorinv of .* \(2, 3\) float64, ind=2: "
                       r"a's first 2 axes \(2, 3\) and the others \(\) must hold as many"):
        gg.linalg.tensorinv(np.ones((2, 3)))
    with pytest.raises(gg.ArgumentError, match=r"^linalg\.tensorinv of .*: ind must be an "
                       r"integer > 0"):
        gg.linalg.tensorinv(np.eye(4).reshape(2, 2, 4), ind=0)
    with pytest.raises(gg.LinAlgError, match=r"^linalg\.tensorinv inverts a as a 3 x 3 matrix: "
                       r"linalg\.inv of .*singular"):
        gg.linalg.tensorinv(SINGULAR, ind=1)
    with pytest.raises(gg.LinAlgError, match=r"^linalg\.tensorsolve of a = .* \(2, 3\) float64 "
                       r"and b = .* \(2,\) float64: a's first axes \(2,\) must hold as many"):
        gg.linalg.tensorsolve(np.ones((2, 3)), np.ones(2))
    with pytest.raises(gg.LinAlgError, match=r"^linalg\.tensorsolve solves a as a 3 x 3 matrix: "
                       r"linalg\.solve of .*singular"):
        gg.linalg.tensorsolve(SINGULAR, np.ones(3))
    with pytest.raises(gg.ArgumentError, match=r"^linalg\.tensorsolve of .*: axes must be "
                       r"distinct axes of a, 0 to 1, got \(5,\)"):
        gg.linalg.tensorsolve(np.eye(3), np.ones(3), axes=(5,))
