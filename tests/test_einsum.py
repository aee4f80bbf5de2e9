"""einsum and outer at worked values: forward as np.einsum, gradients by their formulas
(dA = G B^T for A @ B, the identity for a trace, ...) and against finite differences, second
derivatives, float32 kept, numpy's einsum and outer recording the op, and subscripts that do
not fit the operands refused with the op, the tensors and what to do. The op table checks
every form over random shapes."""
import numpy as np
import pytest

import graphgrad as gg
from graphgrad.ops import contraction

RNG = np.random.default_rng(7)
A = RNG.standard_normal((3, 4))
B = RNG.standard_normal((4, 2))


def _leaves(*arrays):
    return [gg.Tensor(a, requires_grad=True, name=f"x{i}") for i, a in enumerate(arrays)]


@pytest.mark.parametrize("subscripts, shapes, reference", [
    ("ij,jk->ik", [(3, 4), (4, 2)], lambda a, b: a @ b),
    ("ij,jk", [(3, 4), (4, 2)], lambda a, b: a @ b),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)], lambda a, b: a @ b),
    ("ii->", [(4, 4)], np.trace),
    ("ii", [(4, 4)], np.trace),
    ("ii->i", [(4, 4)], np.diag),
    ("i,j->ij", [(3,), (5,)], np.outer),
    ("ij->ji", [(3, 4)], np.transpose),
    ("i,ij,j->", [(3,), (3, 4), (4,)], lambda x, a, y: x @ a @ y),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (3, 4, 2)], np.matmul),
    ("ij,ij->i", [(3, 4), (3, 4)], lambda a, b: (a * b).sum(axis=1)),
], ids=["matmul", "matmul-implicit", "batch-matmul", "trace", "trace-implicit", "diagonal",
        "outer", "transpose", "bilinear", "broadcast-batch", "row-dots"])
def test_einsum_agrees_with_numpy_and_finite_differences(subscripts, shapes, reference):
    arrays = [RNG.standard_normal(s) for s in shapes]
    y = gg.einsum(subscripts, *_leaves(*arrays))
    assert type(y.creator).__name__ == "Einsum"
    np.testing.assert_allclose(y.data, reference(*arrays), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(y.data, np.einsum(subscripts, *arrays), rtol=1e-13, atol=1e-14)
    assert gg.gradcheck(lambda *xs: gg.einsum(subscripts, *xs), _leaves(*arrays))
    assert gg.gradgradcheck(lambda *xs: gg.einsum(subscripts, *xs), _leaves(*arrays))


def test_matmul_gradients_are_g_bt_and_at_g():
    a, b = _leaves(A, B)
    G = RNG.standard_normal((3, 2))
    gg.einsum("ij,jk->ik", a, b).backward(G)
    np.testing.assert_allclose(a.grad, G @ B.T, rtol=1e-14)
    np.testing.assert_allclose(b.grad, A.T @ G, rtol=1e-14)


def test_a_large_contraction_takes_numpys_fast_path_with_the_same_values():
    """Beyond _PLAIN_LOOP products numpy is told to find an order of contraction (BLAS)."""
    a_data, b_data = RNG.standard_normal((30, 40)), RNG.standard_normal((40, 20))
    assert 30 * 40 * 20 > contraction._PLAIN_LOOP
    a, b = _leaves(a_data, b_data)
    y = gg.einsum("ij,jk->ik", a, b)
    np.testing.assert_allclose(y.data, a_data @ b_data, rtol=1e-12)
    G = RNG.standard_normal((30, 20))
    y.backward(G)
    np.testing.assert_allclose(a.grad, G @ b_data.T, rtol=1e-12)
    np.testing.assert_allclose(b.grad, a_data.T @ G, rtol=1e-12)


def test_bilinear_form_gradients():
    """J = x^T A y: dJ/dx = A y, dJ/dA = x y^T, dJ/dy = A^T x."""
    x_data, y_data = RNG.standard_normal(3), RNG.standard_normal(4)
    x, a, y = _leaves(x_data, A, y_data)
    J = gg.einsum("i,ij,j->", x, a, y)
    assert J.item() == pytest.approx(x_data @ A @ y_data, rel=1e-14)
    J.backward()
    np.testing.assert_allclose(x.grad, A @ y_data, rtol=1e-14)
    np.testing.assert_allclose(a.grad, np.outer(x_data, y_data), rtol=1e-14)
    np.testing.assert_allclose(y.grad, A.T @ x_data, rtol=1e-14)


def test_trace_and_diagonal_gradients_go_back_on_the_diagonal():
    (m,) = _leaves(np.arange(9.0).reshape(3, 3))
    gg.einsum("ii->", m).backward()
    np.testing.assert_array_equal(m.grad, np.eye(3))
    m.grad = None
    gg.einsum("ii->i", m).backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(m.grad, np.diag([1.0, 2.0, 3.0]))


def test_an_index_summed_within_one_operand_spreads_its_gradient_back():
    """'ij,j->j' sums A over i alone: dA[i, j] = g[j] v[j] for every i."""
    v_data = np.array([1.0, -2.0, 3.0, 0.5])
    a, v = _leaves(A, v_data)
    g = np.array([1.0, 2.0, 3.0, 4.0])
    gg.einsum("ij,j->j", a, v).backward(g)
    np.testing.assert_allclose(a.grad, np.tile(g * v_data, (3, 1)), rtol=1e-15)
    np.testing.assert_allclose(v.grad, g * A.sum(axis=0), rtol=1e-14)


def test_broadcast_operand_gets_its_gradient_summed_over_the_batch():
    a_data, b_data = RNG.standard_normal((1, 3, 4)), RNG.standard_normal((2, 4, 5))
    a, b = _leaves(a_data, b_data)
    G = RNG.standard_normal((2, 3, 5))
    gg.einsum("...ij,...jk->...ik", a, b).backward(G)
    assert a.grad.shape == (1, 3, 4)
    np.testing.assert_allclose(a.grad, (G @ b_data.transpose(0, 2, 1)).sum(axis=0,
                                                                           keepdims=True))
    np.testing.assert_allclose(b.grad, a_data.transpose(0, 2, 1) @ G, rtol=1e-14)


def test_second_derivatives_of_a_trace_of_a_product():
    """J = trace(A A) = sum_ij A_ij A_ji: dJ/dA = 2 A^T, and d/dA sum(dJ/dA * V) = 2 V^T."""
    (a,) = _leaves(RNG.standard_normal((3, 3)))
    (da,) = gg.grad(gg.einsum("ij,ji->", a, a), [a], create_graph=True)
    np.testing.assert_allclose(da.data, 2 * a.data.T, rtol=1e-15)
    V = RNG.standard_normal((3, 3))
    (dda,) = gg.grad((da * V).sum(), [a])
    np.testing.assert_allclose(dda, 2 * V.T, rtol=1e-15)


def test_float32_stays_float32_and_an_integer_operand_takes_its_dtype():
    a = gg.Tensor(A.astype(np.float32), requires_grad=True)
    b = gg.Tensor(B.astype(np.float32), requires_grad=True)
    y = gg.einsum("ij,jk->ik", a, b)
    assert y.dtype == np.float32
    y.sum().backward()
    assert a.grad.dtype == b.grad.dtype == np.float32
    counts = np.array([1, 2, 3])
    z = gg.einsum("i,i->", gg.Tensor(np.ones(3, np.float32), requires_grad=True), counts)
    assert z.dtype == np.float32 and z.item() == 6.0
    assert gg.outer(a[0], b[:, 0]).dtype == np.float32


def test_outer_flattens_its_operands_as_numpys():
    x, y = _leaves(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([10.0, 20.0, 30.0]))
    out = gg.outer(x, y)
    np.testing.assert_array_equal(out.data, np.outer(x.data, y.data))
    out.backward(np.ones((4, 3)))
    np.testing.assert_array_equal(x.grad, np.full((2, 2), 60.0))  # each x meets sum(y)
    np.testing.assert_array_equal(y.grad, np.full(3, 10.0))


@pytest.mark.parametrize("call, op", [
    (lambda a, b: np.einsum("ij,jk->ik", a, b), "Einsum"),
    (lambda a, b: np.einsum("ij,jk->ik", a, b, optimize=True), "Einsum"),
    (lambda a, b: np.outer(a, b), "Outer"),
], ids=["np.einsum", "np.einsum-optimize", "np.outer"])
def test_numpy_einsum_and_outer_record_the_op(call, op):
    """They were refused on a tensor that requires grad (no graphgrad op)."""
    a, b = _leaves(A, B)
    y = call(a, b)
    assert type(y.creator).__name__ == op
    np.testing.assert_allclose(y.data, call(A, B), rtol=1e-14)
    assert gg.gradcheck(call, [A, B])


def test_numpys_interleaved_form_of_einsum_is_refused_by_name():
    a, b = _leaves(A, B)
    with pytest.raises(gg.GraphgradTypeError, match=r"^einsum takes the subscripts first, as a "
                       r"string, then the operands: gg\.einsum\('ij,jk->ik', A, B\); got "
                       r"Tensor first"):
        np.einsum(a, [0, 1], b, [1, 2])


def _failure(subscripts, *shapes):
    operands = [gg.Tensor(np.ones(s), requires_grad=True, name=n)
                for s, n in zip(shapes, "ABCD")]
    with pytest.raises(gg.OpError) as info:
        gg.einsum(subscripts, *operands)
    return str(info.value)


HINT = ("\n  subscripts give each operand one letter per axis, terms separated by commas "
        "('ij,jk->ik' for A @ B); '...' stands for the axes not named (broadcast as in numpy), "
        "and the output after '->' (left out, it is '...' and the letters met once, in "
        "alphabetical order)")


@pytest.mark.parametrize("subscripts, shapes, message", [
    ("ij,jk->ik", [(2, 3), (3,)],
     "Einsum('A' (2, 3) float64, 'B' (3,) float64, subscripts='ij,jk->ik') failed: term 'jk' "
     "of subscripts 'ij,jk->ik' labels 2 axes of operand 1, which has 1 (shape (3,)): give one "
     "letter per axis, or '...' for the axes not named"),
    ("ij,jk->ik", [(2, 3)],
     "Einsum('A' (2, 3) float64, subscripts='ij,jk->ik') failed: subscripts 'ij,jk->ik' have "
     "2 term(s) for 1 operand(s): give one term per operand"),
    ("ij,jk->ik", [(2, 3), (4, 5)],
     "Einsum('A' (2, 3) float64, 'B' (4, 5) float64, subscripts='ij,jk->ik') failed: the axes "
     "labelled 'j' in subscripts 'ij,jk->ik' have sizes [3, 4]: an axis has one size in every "
     "operand, or size 1 (broadcast)"),
    ("ij->ik", [(2, 3)],
     "Einsum('A' (2, 3) float64, subscripts='ij->ik') failed: the output 'ik' of subscripts "
     "'ij->ik' has ['k'] that no term has: each output letter labels an axis of an operand"),
    ("ii->ii", [(3, 3)],
     "Einsum('A' (3, 3) float64, subscripts='ii->ii') failed: the output 'ii' of subscripts "
     "'ii->ii' repeats ['i']: each output letter is one axis (a diagonal is 'ii->i')"),
    ("i1,1j", [(2, 3), (3, 2)],
     "Einsum('A' (2, 3) float64, 'B' (3, 2) float64, subscripts='i1,1j') failed: subscripts "
     "'i1,1j' are not einsum's: labels are the letters a-z and A-Z, terms are separated by ',', "
     "and one '->' comes before the output"),
    ("...ij,...jk", [(2, 3, 4), (3, 4, 5)],
     "Einsum('A' (2, 3, 4) float64, 'B' (3, 4, 5) float64, subscripts='...ij,...jk') failed: "
     "the axes under '...' in subscripts '...ij,...jk' have sizes [2, 3]: an axis has one size "
     "in every operand, or size 1 (broadcast)"),
    # a label twice in one operand takes its diagonal: no axis of it broadcasts (numpy's and
    # PyTorch's einsum refuse it too), where the trace of a (1, 2) was the sum of its two
    ("ii->", [(1, 2)],
     "Einsum('A' (1, 2) float64, subscripts='ii->') failed: the axes labelled 'i' in term "
     "'ii' of subscripts 'ii->' have sizes [1, 2]: a letter repeated within one term takes "
     "the diagonal of those axes, which must have one size (none broadcasts)"),
    ("jii,i->ji", [(2, 3, 1), (3,)],
     "Einsum('A' (2, 3, 1) float64, 'B' (3,) float64, subscripts='jii,i->ji') failed: the axes "
     "labelled 'i' in term 'jii' of subscripts 'jii,i->ji' have sizes [1, 3]: a letter "
     "repeated within one term takes the diagonal of those axes, which must have one size "
     "(none broadcasts)"),
], ids=["ndim", "operand-count", "sizes", "unknown-output", "repeated-output", "not-letters",
        "ellipsis-sizes", "diagonal-sizes", "diagonal-sizes-beside-a-broadcast"])
def test_subscripts_that_do_not_fit_the_operands_are_refused_with_both(subscripts, shapes,
                                                                       message):
    assert _failure(subscripts, *shapes) == message + HINT


def test_einsum_without_operands_says_to_give_them():
    with pytest.raises(gg.ArgumentError, match=r"^einsum\('ij->ji'\) got no operands: give one "
                       r"tensor per comma-separated term of the subscripts$"):
        gg.einsum("ij->ji")


@pytest.mark.parametrize("subscripts, shapes, reference", [
    ("ij,jk->ik", [(3, 4), (4, 2)], lambda a, b: a @ b),
    ("ij,jk->ki", [(3, 4), (4, 2)], lambda a, b: (a @ b).T),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)], lambda a, b: a @ b),
    ("ibj,bjk->bki", [(3, 2, 4), (2, 4, 5)], lambda a, b: (a.transpose(1, 0, 2) @ b
                                                           ).transpose(0, 2, 1)),
    ("ij,ij->i", [(3, 4), (3, 4)], lambda a, b: (a * b).sum(axis=1)),
    ("i,j->ij", [(3,), (5,)], np.outer),
    ("ij,ji->", [(3, 4), (4, 3)], lambda a, b: np.trace(a @ b)),
], ids=["matmul", "transposed-output", "batch", "batch-in-the-middle", "row-dots", "outer",
        "trace-of-product"])
def test_a_matrix_product_is_taken_by_matmul_forward_and_backward(monkeypatch, subscripts,
                                                                  shapes, reference):
    """Two operands whose labels each appear once and again in the other operand or the
    output are a (batched) matrix product: np.matmul takes it and its gradients, which are
    again such products, where np.einsum looped in C or first searched for an order."""
    arrays = [RNG.standard_normal(s) for s in shapes]
    a, b = _leaves(*arrays)

    def refused(*args, **kwargs):
        raise AssertionError("np.einsum called")

    monkeypatch.setattr(np, "einsum", refused)
    y = gg.einsum(subscripts, a, b)
    np.testing.assert_allclose(y.data, reference(*arrays), rtol=1e-13, atol=1e-14)
    G = RNG.standard_normal(y.shape)
    y.backward(G)
    # d/da sum(G * f(a, b)) by the reference's linearity in a: f(e_i, b) summed with G
    for leaf, k in ((a, 0), (b, 1)):
        expected = np.zeros(shapes[k])
        for index in np.ndindex(*shapes[k]):
            unit = np.zeros(shapes[k])
            unit[index] = 1.0
            ins = [unit if j == k else arrays[j] for j in range(2)]
            expected[index] = np.sum(G * reference(*ins))
        np.testing.assert_allclose(leaf.grad, expected, rtol=1e-12, atol=1e-13)


def test_the_order_of_contraction_is_found_once_for_given_subscripts_and_shapes(monkeypatch):
    """A chain of three large enough for BLAS: numpy's search for an order (~15 us) runs on
    the first call at these shapes only, and the values are the chain's."""
    a_data, b_data, c_data = (RNG.standard_normal(s) for s in ((17, 30), (30, 19), (19, 21)))
    found = []
    search = np.einsum_path

    def counted(*args, **kwargs):
        found.append(args[0])
        return search(*args, **kwargs)

    monkeypatch.setattr(np, "einsum_path", counted)
    for _ in range(3):
        a, b, c = _leaves(a_data, b_data, c_data)
        y = gg.einsum("ij,jk,kl->il", a, b, c)
        np.testing.assert_allclose(y.data, a_data @ b_data @ c_data, rtol=1e-12)
    y.backward(np.ones((17, 21)))
    np.testing.assert_allclose(a.grad, np.ones((17, 21)) @ (b_data @ c_data).T, rtol=1e-12)
    assert found and len(found) == len(set(found))  # each einsum searched once


def test_outer_is_one_node_whose_gradients_are_g_b_and_a_g():
    """da = G b and db = a^T G, shaped back as a and b; second derivatives through them."""
    a_data, b_data = RNG.standard_normal((2, 2)), RNG.standard_normal(3)
    a, b = _leaves(a_data, b_data)
    y = gg.outer(a, b)
    assert type(y.creator).__name__ == "Outer" and y.creator.inputs == (a, b)
    G = RNG.standard_normal((4, 3))
    y.backward(G)
    np.testing.assert_allclose(a.grad, (G @ b_data).reshape(2, 2), rtol=1e-14)
    np.testing.assert_allclose(b.grad, a_data.reshape(-1) @ G, rtol=1e-14)
    assert gg.gradgradcheck(gg.outer, _leaves(a_data, b_data))
    z = gg.outer(gg.Tensor(np.ones(2, np.float32), requires_grad=True), np.array([1, 2]))
    assert z.dtype == np.float32
    np.testing.assert_array_equal(z.data, [[1, 2], [1, 2]])


def test_a_matrix_product_puts_first_the_operand_whose_labels_lead_the_output(monkeypatch):
    """'ik,ij->jk' (the second gradient of 'ij,jk->ik') is A^T G, laid out as the output,
    not (G^T A)^T; 'bj,bi->bij' likewise takes the second operand first. Each backward finds
    its gradient's einsum once per subscripts and shapes, not on each call."""
    A, G = RNG.standard_normal((3, 4)), RNG.standard_normal((3, 5))
    plan = contraction._matmul_plan(("ik", "ij"), "jk", (G.shape, A.shape))
    assert plan[0] is True and plan[-1] is None  # swapped, and no transpose into the output
    u, v = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 4))
    assert contraction._matmul_plan(("bj", "bi"), "bij", (u.shape, v.shape))[-1] is None
    np.testing.assert_allclose(gg.einsum("ik,ij->jk", G, A).data, A.T @ G, rtol=1e-14)
    np.testing.assert_allclose(gg.einsum("bj,bi->bij", u, v).data,
                               np.einsum("bj,bi->bij", u, v), rtol=1e-14)
    B = RNG.standard_normal((4, 5))
    a, b = _leaves(A, B)
    gg.einsum("ij,jk->ik", a, b).backward(G)  # the plans for these shapes, made once
    made = []
    monkeypatch.setattr(contraction, "_gradient_form", lambda *args: made.append(args))
    a.grad = b.grad = None
    y = gg.einsum("ij,jk->ik", a, b)
    y.backward(G)
    assert made == []
    np.testing.assert_allclose(a.grad, G @ B.T, rtol=1e-14)
    np.testing.assert_allclose(b.grad, A.T @ G, rtol=1e-14)
    assert b.grad.flags.c_contiguous
    monkeypatch.undo()
    assert gg.gradgradcheck(lambda p, q: gg.einsum("bj,bi->bij", p, q), _leaves(u, v))
