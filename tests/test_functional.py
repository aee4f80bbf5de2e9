"""gg.jacobian, gg.hessian, gg.vjp, gg.jvp, gg.vhp and gg.hvp (graphgrad/functional.py): the
course's Jacobians and Hessians from the math (softmax, sigmoid, W @ x, logistic regression's
cost, a quadratic form), products against finite differences and against the Jacobian,
PyTorch's nesting of tuples, strict, v's checks, create_graph, float32, and random
compositions against central differences."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from random_programs import programs, run_program

import graphgrad as gg


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def central_jacobian(f, xs, eps=1e-6):
    """d f / d xs[j] by central differences, of shape f.shape + xs[j].shape, for each j;
    f maps arrays to an array."""
    blocks = []
    for j, x in enumerate(xs):
        out_shape = np.shape(f(*xs))
        block = np.zeros((int(np.prod(out_shape)), x.size))
        for k in range(x.size):
            step = np.zeros(x.size)
            step[k] = eps
            plus = [y + step.reshape(x.shape) if i == j else y for i, y in enumerate(xs)]
            minus = [y - step.reshape(x.shape) if i == j else y for i, y in enumerate(xs)]
            block[:, k] = (np.ravel(f(*plus)) - np.ravel(f(*minus))) / (2 * eps)
        blocks.append(block.reshape(out_shape + x.shape))
    return blocks


def on_arrays(func):
    """func, a function of tensors, as a function of arrays giving an array."""
    return lambda *arrays: func(*[gg.Tensor(a) for a in arrays]).data


# -- Jacobians of the course's functions --------------------------------------------------------
def test_jacobian_of_softmax_is_diag_s_minus_s_s_transpose():
    z = np.array([1.0, -0.5, 2.0, 0.3])
    J = gg.jacobian(gg.softmax, z)
    s = np.exp(z) / np.exp(z).sum()
    assert isinstance(J, gg.Tensor) and J.shape == (4, 4)
    np.testing.assert_allclose(J.data, np.diag(s) - np.outer(s, s), rtol=1e-12, atol=1e-15)
    assert not J.requires_grad


def test_jacobian_of_the_courses_sigmoid_is_diagonal_a_times_1_minus_a():
    z = np.array([[0.5, -1.0, 2.0], [0.0, 3.0, -2.5]])  # Z (n, m)
    J = gg.jacobian(gg.sigmoid, z)
    a = sigmoid(z)
    assert J.shape == (2, 3, 2, 3)  # output.shape + input.shape
    np.testing.assert_allclose(J.data.reshape(6, 6), np.diag((a * (1 - a)).ravel()),
                               rtol=1e-12)


def test_jacobian_of_W_x_is_W_in_x_and_a_kronecker_product_in_W():
    rng = np.random.default_rng(0)
    W, x = rng.standard_normal((2, 3)), rng.standard_normal(3)
    Jx, JW = gg.jacobian(lambda x, W: W @ x, (x, W))
    np.testing.assert_allclose(Jx.data, W, rtol=1e-12)
    # d(W x)_i / dW_kl = delta_ik x_l: the rows of J over W flattened are I kron x^T
    assert JW.shape == (2, 2, 3)
    np.testing.assert_allclose(JW.data.reshape(2, 6), np.kron(np.eye(2), x[None, :]),
                               rtol=1e-12)


def test_jacobian_of_the_identity_and_of_a_scalar_output():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(gg.jacobian(lambda t: t, x).data.reshape(4, 4), np.eye(4))
    J = gg.jacobian(lambda t: (t**2).sum(), x)  # a 0-d output: the gradient's shape
    np.testing.assert_allclose(J.data, 2 * x, rtol=1e-12)


def test_the_nesting_of_tuples_is_pytorchs():
    x, y = np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0])

    def two(x, y):
        return x * y.sum(), gg.tanh(y)

    J = gg.jacobian(two, (x, y))  # J[i][j]: output i, input j
    assert isinstance(J, tuple) and all(isinstance(row, tuple) and len(row) == 2 for row in J)
    assert [[b.shape for b in row] for row in J] == [[(3, 3), (3, 2)], [(2, 3), (2, 2)]]
    np.testing.assert_allclose(J[0][0].data, np.eye(3) * y.sum(), rtol=1e-12)
    np.testing.assert_allclose(J[0][1].data, np.outer(x, np.ones(2)), rtol=1e-12)
    np.testing.assert_array_equal(J[1][0].data, np.zeros((2, 3)))  # tanh(y) ignores x
    np.testing.assert_allclose(J[1][1].data, np.diag(1 - np.tanh(y) ** 2), rtol=1e-12)
    # one input, several outputs: a block per output
    Jx = gg.jacobian(lambda x: (x * 2.0, x.sum()), x)
    assert [b.shape for b in Jx] == [(3, 3), (3,)]
    # several inputs, one output: a block per input; a tuple of one input stays a tuple
    Jxy = gg.jacobian(lambda x, y: x.sum() * y, (x, y))
    assert [b.shape for b in Jxy] == [(2, 3), (2, 2)]
    (J1,) = gg.jacobian(lambda x: x * 3.0, (x,))
    np.testing.assert_allclose(J1.data, 3 * np.eye(3), rtol=1e-12)
    # a list of outputs reads as a tuple
    assert [b.shape for b in gg.jacobian(lambda x: [x, x.sum()], x)] == [(3, 3), (3,)]


def test_inputs_are_cut_from_the_callers_graph_and_left_as_they_were():
    w = gg.Tensor(np.array([1.0, -2.0]), requires_grad=True, name="w")
    h = w * 3.0  # a tensor on the caller's graph
    J = gg.jacobian(lambda t: t**2, h)
    np.testing.assert_allclose(J.data, np.diag(2 * h.data), rtol=1e-12)
    assert w.grad is None and h.grad is None and not J.requires_grad
    (dw,) = gg.grad((h * h).sum(), w)  # the caller's graph is whole
    np.testing.assert_allclose(dw, 18 * w.data, rtol=1e-12)
    # lists and integer arrays are taken as float64 inputs
    np.testing.assert_array_equal(gg.jacobian(lambda t: t * 2.0, [1, 2]).data, 2 * np.eye(2))


def test_functions_record_their_graphs_even_inside_no_grad():
    x = np.array([0.3, -0.7])
    with gg.no_grad():
        J = gg.jacobian(gg.tanh, x)
        _, hv = gg.hvp(lambda t: (t**3).sum(), x, np.ones(2))
    np.testing.assert_allclose(J.data, np.diag(1 - np.tanh(x) ** 2), rtol=1e-12)
    np.testing.assert_allclose(hv.data, 6 * x, rtol=1e-12)


# -- Hessians ----------------------------------------------------------------------------------
def _logistic_data(seed=5, n_x=3, m=8):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_x, m))
    Y = (rng.random((1, m)) > 0.5).astype(np.float64)
    return X, Y, rng.standard_normal((n_x, 1))


def _logistic_cost(X, Y):
    def J(w, b=0.2):
        A = gg.sigmoid(w.T @ X + b)
        return -(Y * gg.log(A) + (1 - Y) * gg.log(1 - A)).mean()
    return J


def test_hessian_of_logistic_regression_cost_is_X_diag_a_1_minus_a_X_transpose_over_m():
    X, Y, w = _logistic_data()
    m = X.shape[1]
    H = gg.hessian(_logistic_cost(X, Y), w)
    a = sigmoid(w.T @ X + 0.2)
    assert H.shape == (3, 1, 3, 1)  # w.shape + w.shape
    np.testing.assert_allclose(H.data.reshape(3, 3), X @ np.diag((a * (1 - a)).ravel()) @ X.T / m,
                               rtol=1e-10)


def test_hessian_in_w_and_b_is_a_tuple_of_tuples_of_blocks():
    X, Y, w = _logistic_data()
    m = X.shape[1]
    b = np.array([[0.2]])
    (Hww, Hwb), (Hbw, Hbb) = gg.hessian(_logistic_cost(X, Y), (w, b))
    s = (sigmoid(w.T @ X + 0.2) * (1 - sigmoid(w.T @ X + 0.2))).ravel()  # a (1 - a)
    np.testing.assert_allclose(Hww.data.reshape(3, 3), X @ np.diag(s) @ X.T / m, rtol=1e-10)
    np.testing.assert_allclose(Hwb.data.reshape(3), X @ s / m, rtol=1e-10)
    np.testing.assert_allclose(Hbw.data.reshape(3), X @ s / m, rtol=1e-10)
    np.testing.assert_allclose(Hbb.data.reshape(()), s.mean(), rtol=1e-10)
    assert [Hwb.shape, Hbw.shape] == [(3, 1, 1, 1), (1, 1, 3, 1)]


def test_hessian_of_a_quadratic_form_is_A_plus_A_transpose():
    rng = np.random.default_rng(1)
    A, x = rng.standard_normal((4, 4)), rng.standard_normal((4, 1))
    H = gg.hessian(lambda x: x.T @ gg.Tensor(A) @ x, x)  # a (1, 1) output: one number
    assert H.shape == (4, 1, 4, 1)
    np.testing.assert_allclose(H.data.reshape(4, 4), A + A.T, rtol=1e-12)
    H = gg.hessian(lambda x: x @ (gg.Tensor(A) @ x), x.ravel())  # a 0-d one
    np.testing.assert_allclose(H.data, A + A.T, rtol=1e-12)


def test_newtons_method_on_logistic_regression_reaches_the_minimum_in_a_few_steps():
    X, Y, _ = _logistic_data(seed=2, n_x=2, m=60)
    X = np.vstack([X, np.ones((1, 60))])  # b as the last weight
    J = _logistic_cost(X, Y)
    w = np.zeros((3, 1))
    for _ in range(8):
        cost, dw = gg.vjp(lambda w: J(w, 0.0), w)
        H = gg.hessian(lambda w: J(w, 0.0), w).data.reshape(3, 3)
        w = w - np.linalg.solve(H, dw.data)
    assert np.abs(dw.data).max() < 1e-12
    # the minimum: every direction goes up
    for step in np.eye(3) * 1e-3:
        assert J(gg.Tensor(w + step[:, None]), 0.0).item() > cost.item()


# -- vector products ---------------------------------------------------------------------------
def _mlp(W1, x):
    return gg.tanh(W1 @ x) * gg.sigmoid(x[:2])


def test_vjp_and_jvp_match_the_jacobian_and_finite_differences():
    rng = np.random.default_rng(2)
    W1, x = rng.standard_normal((2, 3)), rng.standard_normal(3)
    JW, Jx = gg.jacobian(_mlp, (W1, x))
    fW, fx = central_jacobian(on_arrays(_mlp), [W1, x])
    np.testing.assert_allclose(JW.data, fW, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(Jx.data, fx, rtol=1e-6, atol=1e-9)
    u = rng.standard_normal(2)  # of the output's shape
    out, (uW, ux) = gg.vjp(_mlp, (W1, x), u)
    np.testing.assert_allclose(out.data, _mlp(gg.Tensor(W1), gg.Tensor(x)).data, rtol=1e-15)
    np.testing.assert_allclose(uW.data, np.tensordot(u, JW.data, 1), rtol=1e-12)
    np.testing.assert_allclose(ux.data, u @ Jx.data, rtol=1e-12)
    vW, vx = rng.standard_normal((2, 3)), rng.standard_normal(3)  # of the inputs' shapes
    out, Jv = gg.jvp(_mlp, (W1, x), (vW, vx))
    np.testing.assert_allclose(Jv.data, np.tensordot(JW.data, vW, 2) + Jx.data @ vx,
                               rtol=1e-12)
    eps = 1e-6  # the directional derivative, by central differences
    plus = _mlp(gg.Tensor(W1 + eps * vW), gg.Tensor(x + eps * vx)).data
    minus = _mlp(gg.Tensor(W1 - eps * vW), gg.Tensor(x - eps * vx)).data
    np.testing.assert_allclose(Jv.data, (plus - minus) / (2 * eps), rtol=1e-6, atol=1e-9)


def test_jvp_with_several_outputs_and_v_left_out_for_one_element():
    x = np.array(0.7)
    out, (d1, d2) = gg.jvp(lambda t: (gg.sin(t), t * gg.Tensor([1.0, 2.0])), x)
    np.testing.assert_allclose(d1.data, np.cos(0.7), rtol=1e-12)
    np.testing.assert_allclose(d2.data, [1.0, 2.0], rtol=1e-12)
    assert out[0].shape == () and out[1].shape == (2,)


def test_vjp_with_v_left_out_for_a_cost_is_its_gradient():
    X, Y, w = _logistic_data()
    cost, dw = gg.vjp(_logistic_cost(X, Y), w)
    a = sigmoid(w.T @ X + 0.2)
    np.testing.assert_allclose(dw.data, X @ (a - Y).T / X.shape[1], rtol=1e-10)
    assert cost.shape == () and not cost.requires_grad and cost.creator is None


def test_hvp_and_vhp_are_H_v_and_v_H():
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal(3), rng.standard_normal(2)

    def f(x, y):
        return (gg.sin(x) ** 2).sum() * gg.exp(y).sum() + (x[:2] * y**3).sum()

    (Hxx, Hxy), (Hyx, Hyy) = gg.hessian(f, (x, y))
    H = np.block([[Hxx.data, Hxy.data], [Hyx.data, Hyy.data]])
    np.testing.assert_allclose(H, H.T, rtol=1e-12)
    vx, vy = rng.standard_normal(3), rng.standard_normal(2)
    v = np.concatenate([vx, vy])
    out, (hx, hy) = gg.hvp(f, (x, y), (vx, vy))
    np.testing.assert_allclose(np.concatenate([hx.data, hy.data]), H @ v, rtol=1e-12)
    np.testing.assert_allclose(out.data, f(gg.Tensor(x), gg.Tensor(y)).data, rtol=1e-15)
    _, (gx, gy) = gg.vhp(f, (x, y), (vx, vy))
    np.testing.assert_allclose(np.concatenate([gx.data, gy.data]), v @ H, rtol=1e-12)

    def grad_at(step):  # the gradient, moved along v
        _, grads = gg.vjp(f, (x + step * vx, y + step * vy))
        return np.concatenate([g.data for g in grads])

    eps = 1e-6  # H @ v by central differences of the gradient
    np.testing.assert_allclose(H @ v, (grad_at(eps) - grad_at(-eps)) / (2 * eps), rtol=1e-6)


def test_hvp_of_one_input_takes_its_shape():
    X, Y, w = _logistic_data()
    v = np.array([[1.0], [-2.0], [0.5]])
    H = gg.hessian(_logistic_cost(X, Y), w).data.reshape(3, 3)
    _, hv = gg.hvp(_logistic_cost(X, Y), w, v)
    _, vh = gg.vhp(_logistic_cost(X, Y), w, v)
    assert hv.shape == vh.shape == (3, 1)
    np.testing.assert_allclose(hv.data, H @ v, rtol=1e-10)
    np.testing.assert_allclose(vh.data, (v.T @ H).T, rtol=1e-10)


# -- strict -------------------------------------------------------------------------------------
def test_strict_names_the_output_and_the_input_it_does_not_depend_on():
    x = gg.Tensor(np.ones(3), name="x")
    y = gg.Tensor(np.ones(2), name="y")

    def f(x, y):
        return x * 2.0, x.sum() * y

    J = gg.jacobian(f, (x, y))  # not strict: the block is zeros, its value
    np.testing.assert_array_equal(J[0][1].data, np.zeros((3, 2)))
    with pytest.raises(gg.BackwardError, match=r"jacobian: output 0 of func .* does not depend "
                       r"on input 1 \('y' \(2,\) float64\).*strict=False"):
        gg.jacobian(f, (x, y), strict=True)
    with pytest.raises(gg.BackwardError, match=r"vjp: func's outputs, every one, does not "
                       r"depend on input 1 \('y'"):
        gg.vjp(lambda x, y: (x * 2.0, x.sum()), (x, y), (np.ones(3), np.ones(())),
               strict=True)
    _, (vx, vy) = gg.vjp(lambda x, y: x * 2.0, (x, y), np.ones(3))
    np.testing.assert_array_equal(vy.data, np.zeros(2))
    with pytest.raises(gg.BackwardError, match=r"jvp: func's output does not depend on "
                       r"input 1 \('y'"):
        gg.jvp(lambda x, y: x * 2.0, (x, y), (np.ones(3), np.ones(2)), strict=True)


def test_strict_refuses_an_output_that_requires_no_grad():
    x = np.ones(2)
    with pytest.raises(gg.BackwardError, match=r"vjp: output 0 of func .* does not require "
                       "grad"):
        gg.vjp(lambda t: gg.Tensor(t.data * 2), x, np.ones(2), strict=True)
    out, g = gg.vjp(lambda t: gg.Tensor(t.data * 2), x, np.ones(2))
    np.testing.assert_array_equal(g.data, [0.0, 0.0])
    np.testing.assert_array_equal(gg.jacobian(lambda t: t > 0, x).data, np.zeros((2, 2)))
    _, Jv = gg.jvp(lambda t: gg.Tensor(t.data * 2), x, np.ones(2))
    np.testing.assert_array_equal(Jv.data, [0.0, 0.0])


def test_strict_hessian_of_a_linear_cost_or_an_unused_input():
    x, y = np.ones(3), np.ones(2)
    np.testing.assert_array_equal(gg.hessian(lambda t: t.sum() * 3.0, x).data, np.zeros((3, 3)))
    with pytest.raises(gg.BackwardError, match="hessian: the gradient of func's output with "
                       r"respect to input 0 .* does not depend on the inputs"):
        gg.hessian(lambda t: t.sum() * 3.0, x, strict=True)
    with pytest.raises(gg.BackwardError, match=r"hvp: func's output .* does not depend on "
                       "input 1"):
        gg.hvp(lambda a, b: (a**2).sum(), (x, y), (x, y), strict=True)
    _, (hx, hy) = gg.hvp(lambda a, b: (a**2).sum(), (x, y), (x, y))
    np.testing.assert_array_equal(hy.data, np.zeros(2))
    np.testing.assert_allclose(hx.data, 2 * x, rtol=1e-12)
    # PyTorch's check is of each block: H[0][1] of x**2 + y**2 is zeros
    H = gg.hessian(lambda a, b: (a**2).sum() + (b**2).sum(), (x, y))
    np.testing.assert_array_equal(H[0][1].data, np.zeros((3, 2)))
    with pytest.raises(gg.BackwardError, match="hessian: the gradient of func's output with "
                       "respect to input 0 does not depend on input 1"):
        gg.hessian(lambda a, b: (a**2).sum() + (b**2).sum(), (x, y), strict=True)


def test_strict_with_create_graph_refuses_a_constant_derivative():
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    J = gg.jacobian(lambda x: gg.Tensor(W) @ x, np.ones(2), create_graph=True)
    np.testing.assert_array_equal(J.data, W)
    with pytest.raises(gg.BackwardError, match="is a constant .* strict=True refuses"):
        gg.jacobian(lambda x: gg.Tensor(W) @ x, np.ones(2), create_graph=True, strict=True)
    with pytest.raises(gg.BackwardError, match=r"jacobian: the derivative of output 0 of func "
                       r"\(output of MatMul \(2,\) float64\) with respect to input 0 "
                       r"\(ndarray \(2,\) float64\) is a constant \(func is linear in it\)"):
        gg.jacobian(lambda x: gg.Tensor(W) @ x, np.ones(2), create_graph=True, strict=True)
    # the Hessian's block H[0][0] of a cost quadratic in (x, y), each input named once
    x, y = gg.Tensor(np.ones(2), name="x"), gg.Tensor(np.ones(2), name="y")
    with pytest.raises(gg.BackwardError, match=r"hessian: the derivative of the gradient of "
                       r"func's output with respect to input 0 \('x' \(2,\) float64\), "
                       r"with respect to input 0 \('x' \(2,\) float64\), is a constant "
                       r"\(func's gradient is linear in them\)"):
        gg.hessian(lambda a, b: (a * a + a * b).sum(), (x, y), create_graph=True, strict=True)


@pytest.mark.parametrize("fn", [gg.vjp, gg.jvp, gg.vhp, gg.hvp])
def test_strict_with_create_graph_refuses_a_constant_product(fn):
    # PyTorch's check on every path: with create_graph, a product that is on no graph (W x's
    # vjp and jvp; the Hessian products of a quadratic, H = 2I) cannot be differentiated
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    v = np.array([1.0, -1.0])
    func = ((lambda t: gg.Tensor(W) @ t) if fn in (gg.vjp, gg.jvp)
            else (lambda t: (t * t).sum()))
    expected = {gg.vjp: v @ W, gg.jvp: W @ v, gg.vhp: 2 * v, gg.hvp: 2 * v}[fn]
    _, product = fn(func, np.ones(2), v, create_graph=True)  # not strict: the constant
    np.testing.assert_array_equal(product.data, expected)
    with pytest.raises(gg.BackwardError, match=rf"{fn.__name__}: .* is a constant .* "
                       "strict=True refuses this"):
        fn(func, np.ones(2), v, create_graph=True, strict=True)
    # a v that requires grad puts the product on a graph, which strict accepts
    _, product = fn(func, np.ones(2), gg.Tensor(v, requires_grad=True), create_graph=True,
                    strict=True)
    assert product.requires_grad
    np.testing.assert_array_equal(product.data, expected)


# -- v, outputs and inputs refused ---------------------------------------------------------------
@pytest.mark.parametrize("fn", [gg.vjp, gg.jvp, gg.vhp, gg.hvp])
def test_v_of_the_wrong_shape_is_refused_with_both_shapes(fn):
    x = gg.Tensor(np.ones(3), name="x")
    func = (lambda t: t * 2.0) if fn in (gg.vjp, gg.jvp) else (lambda t: (t**2).sum())
    with pytest.raises(gg.ShapeError, match=rf"{fn.__name__}: v for func's (output|input) has "
                       r"shape \(3, 1\), but .* has shape \(3,\); give v of that shape"):
        fn(func, x, np.ones((3, 1)))
    with pytest.raises(gg.ArgumentError, match=rf"{fn.__name__}: v can be left out only when "
                       r".*Pass v, one array of each \w+'s shape \(\(3,\)\)"):
        fn(func, x)
    with pytest.raises(gg.ArgumentError, match=rf"{fn.__name__}: got 2 vectors v for one "):
        fn(func, x, (np.ones(3), np.ones(3)))
    with pytest.raises(gg.GraphgradTypeError, match=rf"{fn.__name__}: v .* must hold numbers"):
        fn(func, x, "abc")


def test_v_of_one_per_output_and_per_input_in_tuples():
    x, y = np.ones(3), np.ones(2)
    with pytest.raises(gg.ArgumentError, match=r"vjp: got 1 vector v for 2 outputs, a tuple "
                       r"of them; .*\(of shapes \(3,\), \(2,\)\)"):
        gg.vjp(lambda a, b: (a * 1.0, b * 1.0), (x, y), np.ones(3))
    with pytest.raises(gg.ShapeError, match=r"jvp: v for input 1 has shape \(3,\), but input "
                       r"1 \(ndarray \(2,\) float64\) has shape \(2,\)"):
        gg.jvp(lambda a, b: a.sum() * b, (x, y), (np.ones(3), np.ones(3)))


def test_a_func_returning_no_tensor_is_refused_with_what_it_returned():
    x = np.ones(2)
    with pytest.raises(gg.GraphgradTypeError, match=r"jacobian: func returned None \(a "
                       "missing return"):
        gg.jacobian(lambda t: None, x)
    with pytest.raises(gg.GraphgradTypeError, match=r"vjp: func returned a numpy array \(2,\), "
                       r"not a Tensor.*not from their \.data"):
        gg.vjp(lambda t: t.data * 2, x, x)
    with pytest.raises(gg.GraphgradTypeError, match=r"jacobian: output 1 of func is float 3.0"):
        gg.jacobian(lambda t: (t, 3.0), x)
    with pytest.raises(gg.GraphgradTypeError, match="hessian takes a function of tensors"):
        gg.hessian(x, x)


@pytest.mark.parametrize("fn", [gg.hessian, gg.hvp, gg.vhp])
def test_hessians_of_no_single_number_are_refused(fn):
    x = gg.Tensor(np.ones(3), name="x")
    args = () if fn is gg.hessian else (np.ones(3),)
    with pytest.raises(gg.ShapeError, match=rf"{fn.__name__}: func must return a single number"
                       r".*it returned output of Mul \(3,\) float64, of 3 elements. Reduce it"):
        fn(lambda t: t * 2.0, x, *args)
    with pytest.raises(gg.ShapeError, match="it returned a tuple of 2 outputs"):
        fn(lambda t: (t.sum(), t.sum()), x, *args)


def test_inputs_that_are_no_float_numbers_and_settings_that_are_no_flags_are_refused():
    with pytest.raises(gg.GraphgradTypeError, match=r"jacobian: input 1 must be a float Tensor"
                       r" or an array of numbers, got 'abc'"):
        gg.jacobian(lambda a, b: a, (np.ones(2), "abc"))
    with pytest.raises(gg.GraphgradTypeError, match="input 0 must be a float Tensor"):
        gg.jacobian(lambda a: a, gg.Tensor([1, 2], dtype=np.int64))
    with pytest.raises(gg.ArgumentError, match="needs at least one input"):
        gg.jvp(lambda: gg.Tensor(1.0), ())
    with pytest.raises(gg.ArgumentError, match="hvp: strict must be True or False, got 1"):
        gg.hvp(lambda t: t.sum(), np.ones(1), strict=1)
    with pytest.raises(gg.ArgumentError, match="jacobian: create_graph must be True or False"):
        gg.jacobian(lambda t: t, np.ones(1), create_graph="yes")


# -- create_graph --------------------------------------------------------------------------------
def test_create_graph_lets_an_hvp_be_differentiated_again():
    data = np.array([1.0, -2.0, 0.5])
    x = gg.Tensor(data, requires_grad=True, name="x")
    v = np.array([1.0, 2.0, -1.0])
    out, hv = gg.hvp(lambda t: (t**4).sum(), x, v, create_graph=True)
    np.testing.assert_allclose(hv.data, 12 * data**2 * v, rtol=1e-12)
    assert hv.requires_grad and out.requires_grad
    (third,) = gg.grad(hv.sum(), x)  # d/dx sum(12 x**2 v) = 24 x v
    np.testing.assert_allclose(third, 24 * data * v, rtol=1e-12)
    _, vh = gg.vhp(lambda t: (t**4).sum(), x, v, create_graph=True)
    np.testing.assert_allclose(gg.grad(vh.sum(), x)[0], 24 * data * v, rtol=1e-12)


def test_create_graph_jacobian_and_hessian_are_differentiable_with_respect_to_the_inputs():
    data = np.array([0.3, -1.2])
    x = gg.Tensor(data, requires_grad=True)
    J = gg.jacobian(gg.tanh, x, create_graph=True)  # diag(1 - tanh**2)
    assert J.requires_grad
    (dJ,) = gg.grad(gg.trace(J), x)  # d/dx (1 - tanh**2) = -2 tanh (1 - tanh**2)
    t = np.tanh(data)
    np.testing.assert_allclose(dJ, -2 * t * (1 - t**2), rtol=1e-12)
    H = gg.hessian(lambda a: (a**3).sum(), x, create_graph=True)  # diag(6 x)
    np.testing.assert_allclose(H.data, np.diag(6 * data), rtol=1e-12)
    np.testing.assert_allclose(gg.grad(gg.trace(H), x)[0], [6.0, 6.0], rtol=1e-12)


def test_create_graph_vjp_is_differentiable_with_respect_to_v_too():
    x = gg.Tensor(np.array([0.5, 1.5]), requires_grad=True)
    v = gg.Tensor(np.array([2.0, -1.0]), requires_grad=True)
    _, g = gg.vjp(gg.sin, x, v, create_graph=True)  # v cos(x)
    dx, dv = gg.grad(g.sum(), [x, v])
    np.testing.assert_allclose(dx, -v.data * np.sin(x.data), rtol=1e-12)
    np.testing.assert_allclose(dv, np.cos(x.data), rtol=1e-12)
    _, g = gg.vjp(gg.sin, x, v)
    assert not g.requires_grad and g.creator is None


def test_without_create_graph_nothing_returned_requires_grad():
    x = gg.Tensor(np.array([0.5, 1.5]), requires_grad=True)
    results = [gg.jacobian(gg.sin, x), gg.hessian(lambda t: (t**3).sum(), x),
               *gg.vjp(gg.sin, x, np.ones(2)), *gg.jvp(gg.sin, x, np.ones(2)),
               *gg.hvp(lambda t: (t**3).sum(), x, np.ones(2)),
               *gg.vhp(lambda t: (t**3).sum(), x, np.ones(2))]
    assert all(not r.requires_grad and r.creator is None for r in results)
    assert x.grad is None


# -- dtypes ------------------------------------------------------------------------------------
def test_float32_stays_float32():
    x = np.array([0.5, -1.0, 2.0], dtype=np.float32)
    v = np.ones(3)  # float64: taken as the input's float32
    f = lambda t: (t**3).sum()  # noqa: E731
    results = [gg.jacobian(gg.tanh, x), gg.hessian(f, x), *gg.vjp(gg.tanh, x, v),
               *gg.jvp(gg.tanh, x, v), *gg.hvp(f, x, v), *gg.vhp(f, x, v),
               gg.jacobian(gg.tanh, x, create_graph=True),
               *gg.hvp(f, gg.Tensor(x, requires_grad=True), v, create_graph=True)]
    assert [r.dtype for r in results] == [np.float32] * len(results)
    np.testing.assert_allclose(results[1].data, np.diag(6 * x), rtol=1e-6)


# -- random compositions -----------------------------------------------------------------------
@given(program=programs(), seed=st.integers(0, 2**32 - 1))
def test_jacobian_of_random_compositions_matches_central_differences(program, seed):
    """The Jacobian, built one backward per output element, against central differences per
    input element; jvp and vjp against it."""
    shape, n_inputs, steps = program
    rng = np.random.default_rng(seed)
    xs = tuple(rng.standard_normal(shape) for _ in range(n_inputs))
    J = gg.jacobian(lambda *ts: run_program(steps, *ts), xs)
    expected = central_jacobian(on_arrays(lambda *ts: run_program(steps, *ts)), list(xs))
    for block, want in zip(J, expected):
        assert block.shape == shape + shape
        np.testing.assert_allclose(block.data, want, rtol=1e-5, atol=1e-7)
    n = int(np.prod(shape))
    flat = [block.data.reshape(n, n) for block in J]
    u = rng.standard_normal(shape)
    _, us = gg.vjp(lambda *ts: run_program(steps, *ts), xs, u)
    for got, block in zip(us, flat):
        np.testing.assert_allclose(got.data.ravel(), u.ravel() @ block, rtol=1e-10, atol=1e-12)
    vs = tuple(rng.standard_normal(shape) for _ in xs)
    _, Jv = gg.jvp(lambda *ts: run_program(steps, *ts), xs, vs)
    np.testing.assert_allclose(Jv.data.ravel(), sum(b @ v.ravel() for b, v in zip(flat, vs)),
                               rtol=1e-10, atol=1e-12)


def _wide_function(x, W):
    """R^2 x R^(5x2) -> R^5 and R^(5x5): few input elements, many output elements."""
    z = W @ x
    return gg.tanh(z), gg.sigmoid(z) * z.reshape(1, 5)


def test_forward_mode_jacobian_is_column_by_column_the_reverse_modes():
    rng = np.random.default_rng(4)
    x, W = rng.standard_normal(2), rng.standard_normal((5, 2))
    reverse = gg.jacobian(_wide_function, (x, W))
    forward = gg.jacobian(_wide_function, (x, W), vectorize=True, strategy="forward-mode")
    for i in range(2):
        for j in range(2):
            assert forward[i][j].shape == reverse[i][j].shape
            np.testing.assert_allclose(forward[i][j].data, reverse[i][j].data, rtol=1e-13,
                                       atol=1e-15)
    # tanh(W x)'s Jacobian in x from the math: diag(1 - tanh^2) W
    np.testing.assert_allclose(forward[0][0].data, (1 - np.tanh(W @ x) ** 2)[:, None] * W,
                               rtol=1e-13)


def test_forward_mode_takes_one_backward_per_input_element(monkeypatch):
    import graphgrad.functional as functional
    backwards = []

    def counted(*args, **kwargs):
        backwards.append(1)
        return gg.grad(*args, **kwargs)

    monkeypatch.setattr(functional, "_engine_grad", counted)
    x = gg.Tensor(np.array([0.3, -0.7]))

    def f(v):  # 2 -> 200 elements
        return gg.broadcast_to(v * 3.0, (100, 2))

    J = gg.jacobian(f, x, vectorize=True, strategy="forward-mode")
    np.testing.assert_allclose(J.data.reshape(200, 2), np.tile(3.0 * np.eye(2), (100, 1)))
    # one backward to record u @ J, then one through it per element of x
    assert len(backwards) == 1 + 2
    backwards.clear()
    np.testing.assert_array_equal(gg.jacobian(f, x).data, J.data)
    assert len(backwards) == 200


def test_forward_mode_jacobian_with_create_graph_differentiates_again():
    x = gg.Tensor(np.array([0.5, -1.2]), requires_grad=True)
    J = gg.jacobian(lambda v: gg.sin(v) * v[0], x, create_graph=True, vectorize=True,
                    strategy="forward-mode")
    assert J.requires_grad
    reverse = gg.jacobian(lambda v: gg.sin(v) * v[0], x, create_graph=True)
    np.testing.assert_allclose(J.data, reverse.data, rtol=1e-14)
    (dx,) = gg.grad(J.sum(), [x])
    (expected,) = gg.grad(reverse.sum(), [x])
    np.testing.assert_allclose(dx.data, expected.data, rtol=1e-13)


def test_vectorize_gives_the_same_jacobian_and_hessian():
    rng = np.random.default_rng(5)
    x = rng.standard_normal(3)

    def cost(v):
        return (gg.exp(v) * v[::-1]).sum()

    np.testing.assert_array_equal(gg.jacobian(gg.tanh, x, vectorize=True).data,
                                  gg.jacobian(gg.tanh, x).data)
    H = gg.hessian(cost, x)
    for strategy in ("reverse-mode", "forward-mode"):
        np.testing.assert_allclose(
            gg.hessian(cost, x, vectorize=True, outer_jacobian_strategy=strategy).data,
            H.data, rtol=1e-13)


def test_strategy_and_vectorize_are_checked_as_pytorchs():
    x = np.ones(2)
    with pytest.raises(gg.ArgumentError, match=r"strategy='backward'.*'reverse-mode' or "
                                               r"'forward-mode'"):
        gg.jacobian(gg.tanh, x, strategy="backward")
    with pytest.raises(gg.ArgumentError, match=r"strategy='forward-mode' needs "
                                               r"vectorize=True"):
        gg.jacobian(gg.tanh, x, strategy="forward-mode")
    with pytest.raises(gg.ArgumentError, match=r"strict=True.*vectorize=True.*strict=False"):
        gg.jacobian(gg.tanh, x, strict=True, vectorize=True)
    with pytest.raises(gg.ArgumentError, match=r"outer_jacobian_strategy='forward'"):
        gg.hessian(lambda v: v.sum(), x, outer_jacobian_strategy="forward")
    with pytest.raises(gg.ArgumentError, match="vectorize must be True or False"):
        gg.jacobian(gg.tanh, x, vectorize="yes")
