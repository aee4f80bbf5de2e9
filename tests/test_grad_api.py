"""`gg.grad`: gradients returned, not stored; several inputs and outputs; grad_outputs;
allow_unused; and create_graph=True for second derivatives and Hessian-vector products,
checked against hand formulas and against finite differences of the gradient."""
import threading

import numpy as np
import pytest
from test_engine import DotOfTwo

import graphgrad as gg


def test_second_derivative_through_transpose():
    """d/dx of grad(sum((x.T @ w)**2)) runs Transpose's backward on Tensors (create_graph)."""
    rng = np.random.default_rng(0)
    x = gg.Tensor(rng.standard_normal((3, 2)), requires_grad=True)
    w = rng.standard_normal((3, 1))
    for transpose in (lambda t: t.T, gg.transpose, lambda t: t.transpose(None)):
        (g,) = gg.grad(((transpose(x) @ w) ** 2).sum(), x, create_graph=True)
        np.testing.assert_allclose(g.data, 2 * w @ (x.data.T @ w).T, rtol=1e-12)
        (h,) = gg.grad(g.sum(), x)
        # d/dx of sum(2 w (x^T w)^T) = 2 w (sum of w), the same for every column.
        np.testing.assert_allclose(h, np.tile(2 * w * w.sum(), (1, 2)), rtol=1e-12)


def test_transpose_none_reverses_the_axes_as_numpy_does():
    data = np.arange(24.0).reshape(2, 3, 4)
    t = gg.Tensor(data)
    np.testing.assert_array_equal(t.transpose(None).data, data.transpose(None))
    np.testing.assert_array_equal(t.transpose().data, data.transpose())


def _mlp(params, X):
    W1, b1, W2, b2 = params
    A1 = gg.tanh(W1 @ X + b1)
    return (gg.sigmoid(W2 @ A1 + b2) ** 2).mean()


def _mlp_params(rng):
    return [gg.Tensor(rng.standard_normal((4, 3)), requires_grad=True, name="W1"),
            gg.Tensor(rng.standard_normal((4, 1)), requires_grad=True, name="b1"),
            gg.Tensor(rng.standard_normal((1, 4)), requires_grad=True, name="W2"),
            gg.Tensor(rng.standard_normal((1, 1)), requires_grad=True, name="b2")]


# -- first derivatives ----------------------------------------------------------------------------
def test_grad_returns_gradients_without_touching_grad():
    x = gg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = x * x
    J = (h * 3.0).sum()
    (g,) = gg.grad(J, x)
    assert isinstance(g, np.ndarray)
    np.testing.assert_array_equal(g, [6.0, 12.0])
    assert x.grad is None and h.grad is None and J.grad is None


def test_grad_with_several_inputs_and_a_single_tensor_input():
    x = gg.Tensor(2.0, requires_grad=True)
    y = gg.Tensor(5.0, requires_grad=True)
    J = x * x * y
    gx, gy = gg.grad(J, [x, y], retain_graph=True)
    assert (float(gx), float(gy)) == (20.0, 4.0)
    (gy,) = gg.grad(J, y)  # a Tensor rather than a list still gives a tuple
    assert float(gy) == 4.0


def test_grad_never_hands_out_an_inputs_array_as_a_gradient():
    x = gg.Tensor([1.0, 2.0], requires_grad=True)
    y = gg.Tensor([3.0, 4.0], requires_grad=True)
    gx, gy = gg.grad(DotOfTwo.apply(x, y), [x, y])
    assert not np.shares_memory(gx, y.data) and not np.shares_memory(gy, x.data)
    gx *= 10.0
    np.testing.assert_array_equal(y.data, [3.0, 4.0])
    np.testing.assert_array_equal(gy, [1.0, 2.0])


def test_an_input_asked_for_twice_gets_two_arrays_of_its_own():
    x = gg.Tensor([1.0, 2.0], requires_grad=True)
    gx, again = gg.grad((x * x).sum(), [x, x])
    np.testing.assert_array_equal(gx, [2.0, 4.0])
    np.testing.assert_array_equal(again, [2.0, 4.0])
    gx *= 10.0  # each is the caller's to change
    np.testing.assert_array_equal(again, [2.0, 4.0])


def test_grad_wrt_an_intermediate():
    x = gg.Tensor(np.array([1.0, -1.0]), requires_grad=True)
    h = gg.exp(x)
    J = (h * h).sum()
    gh, gx = gg.grad(J, [h, x])
    np.testing.assert_allclose(gh, 2 * np.exp([1.0, -1.0]), rtol=1e-12)
    np.testing.assert_allclose(gx, 2 * np.exp([2.0, -2.0]), rtol=1e-12)


def test_several_outputs_add_their_gradients():
    x = gg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (g,) = gg.grad([(x * 2.0).sum(), (x * x).sum()], x)
    np.testing.assert_array_equal(g, [4.0, 6.0])


@pytest.mark.parametrize("make_seed", [np.array, gg.Tensor, lambda v: [np.array(v)]],
                         ids=["ndarray", "Tensor", "list"])
def test_grad_outputs_seed_a_non_scalar_output(make_seed):
    x = gg.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    (g,) = gg.grad(x * x, x, grad_outputs=make_seed([1.0, 0.0, -1.0]))
    np.testing.assert_array_equal(g, [2.0, 0.0, -6.0])


def test_grad_outputs_one_per_output():
    x = gg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (g,) = gg.grad([x * 2.0, x * x], x, grad_outputs=[np.array([1.0, 1.0]), np.array([0.0, 1.0])])
    np.testing.assert_array_equal(g, [2.0, 6.0])
    with pytest.raises(gg.GraphgradError, match="2 outputs"):
        gg.grad([x * 2.0, x * x], x, grad_outputs=[np.ones(2)])


def test_grad_outputs_of_the_wrong_shape():
    x = gg.Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(gg.ShapeError, match=r"\(2,\).*\(3,\)"):
        gg.grad(x * 2.0, x, grad_outputs=np.ones(2))


def test_non_scalar_output_without_grad_outputs():
    x = gg.Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(gg.BackwardError, match="not a single number"):
        gg.grad(x * 2.0, x)


def test_unused_input_is_an_error_unless_allowed():
    x = gg.Tensor(np.ones(2), requires_grad=True)
    y = gg.Tensor(np.ones(2), requires_grad=True, name="y")
    # a BackwardError, a RuntimeError as PyTorch's is
    with pytest.raises(gg.BackwardError, match=r"'y'.*allow_unused=True"):
        gg.grad((x * 2.0).sum(), [x, y])
    with pytest.raises(RuntimeError):
        gg.grad((x * 2.0).sum(), [x, y])
    gx, gy = gg.grad((x * 2.0).sum(), [x, y], allow_unused=True)
    np.testing.assert_array_equal(gx, [2.0, 2.0])
    assert gy is None


def test_grad_frees_the_graph_unless_retained():
    x = gg.Tensor(2.0, requires_grad=True)
    J = x * x
    gg.grad(J, x, retain_graph=True)
    (g,) = gg.grad(J, x)
    assert float(g) == 4.0
    with pytest.raises(gg.BackwardError, match="retain_graph=True"):
        gg.grad(J, x)


def test_grad_matches_backward_on_an_mlp():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((3, 5))
    params = _mlp_params(rng)
    J = _mlp(params, X)
    grads = gg.grad(J, params, retain_graph=True)
    J.backward()
    for p, g in zip(params, grads):
        np.testing.assert_allclose(g, p.grad, rtol=1e-12)


# -- second derivatives -------------------------------------------------------------------------
def test_create_graph_returns_tensors_on_a_new_graph():
    x = gg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (g,) = gg.grad((x**3).sum(), x, create_graph=True)
    assert isinstance(g, gg.Tensor)
    assert g.requires_grad and g.creator is not None
    np.testing.assert_array_equal(g.data, [3.0, 12.0])
    assert x.grad is None


def test_second_and_third_derivatives_of_x_to_the_fourth():
    data = np.array([-1.0, 0.5, 2.0])
    x = gg.Tensor(data, requires_grad=True)
    (g1,) = gg.grad((x**4).sum(), x, create_graph=True)
    (g2,) = gg.grad(g1.sum(), x, create_graph=True)
    (g3,) = gg.grad(g2.sum(), x)
    np.testing.assert_allclose(g1.data, 4 * data**3, rtol=1e-12)
    np.testing.assert_allclose(g2.data, 12 * data**2, rtol=1e-12)
    np.testing.assert_allclose(g3, 24 * data, rtol=1e-12)


def test_hessian_vector_product_of_sum_of_cubes():
    """f = sum(x**3): H = diag(6x), so Hv = 6 x v."""
    x_data = np.array([1.0, -2.0, 0.5, 3.0])
    v = np.array([0.3, 1.0, -2.0, 0.0])
    x = gg.Tensor(x_data, requires_grad=True)
    (g,) = gg.grad((x**3).sum(), x, create_graph=True)
    (hv,) = gg.grad(g, x, grad_outputs=v)
    np.testing.assert_allclose(hv, 6 * x_data * v, rtol=1e-12)


def test_hessian_vector_product_of_a_quadratic_form():
    """f = x^T A x: H = A + A^T."""
    rng = np.random.default_rng(4)
    A = rng.standard_normal((4, 4))
    v = rng.standard_normal((4, 1))
    x = gg.Tensor(rng.standard_normal((4, 1)), requires_grad=True)
    (g,) = gg.grad((x.T @ A @ x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.data, (A + A.T) @ x.data, rtol=1e-12)
    (hv,) = gg.grad((g * v).sum(), x)
    np.testing.assert_allclose(hv, (A + A.T) @ v, rtol=1e-12)


def test_hessian_of_logistic_regression_cost():
    """J = mean of the cross-entropy of sigmoid(w^T X + b): the Hessian in w is
    X diag(a (1 - a)) X^T / m."""
    rng = np.random.default_rng(5)
    n_x, m = 3, 8
    X = rng.standard_normal((n_x, m))
    Y = (rng.random((1, m)) > 0.5).astype(np.float64)
    w = gg.Tensor(rng.standard_normal((n_x, 1)), requires_grad=True)
    A = gg.sigmoid(w.T @ X + 0.2)
    J = -(Y * gg.log(A) + (1 - Y) * gg.log(1 - A)).mean()
    (dw,) = gg.grad(J, w, create_graph=True)
    a = A.data
    np.testing.assert_allclose(dw.data, X @ (a - Y).T / m, rtol=1e-10)
    H = X @ np.diag((a * (1 - a)).ravel()) @ X.T / m
    columns = [gg.grad(dw, w, grad_outputs=np.eye(n_x)[:, [i]], retain_graph=True)[0]
               for i in range(n_x)]
    np.testing.assert_allclose(np.hstack(columns), H, rtol=1e-10)


def test_hessian_vector_product_of_an_mlp_against_finite_differences():
    """Hv = (grad(theta + eps v) - grad(theta - eps v)) / (2 eps), for all parameters."""
    rng = np.random.default_rng(6)
    X = rng.standard_normal((3, 5))
    params = _mlp_params(rng)
    vs = [rng.standard_normal(p.shape) for p in params]

    grads = gg.grad(_mlp(params, X), params, create_graph=True)
    hvp = gg.grad(sum((g * v).sum() for g, v in zip(grads, vs)), params)

    def gradient_at(step):
        moved = [gg.Tensor(p.data + step * v, requires_grad=True) for p, v in zip(params, vs)]
        return gg.grad(_mlp(moved, X), moved)

    eps = 1e-5
    plus, minus = gradient_at(eps), gradient_at(-eps)
    for h, gp, gm in zip(hvp, plus, minus):
        np.testing.assert_allclose(h, (gp - gm) / (2 * eps), rtol=1e-5, atol=1e-8)


def test_create_graph_records_the_gradient_graph_even_inside_no_grad():
    x = gg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    J = (x**3).sum()
    with gg.no_grad():
        (g,) = gg.grad(J, x, create_graph=True)
    assert g.requires_grad
    (h,) = gg.grad(g.sum(), x)
    np.testing.assert_array_equal(h, [6.0, 12.0])


class ReluWrittenWithPut(gg.Function):
    """y = max(x, 0), with a numpy backward that zeroes a copy of the gradient where x <= 0
    through an array method, ndarray.put, which a Tensor lacks"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.maximum(x, 0)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        dx = grad * 1.0
        dx.put(np.flatnonzero(x <= 0), 0)
        return dx


def test_a_backward_using_an_array_method_under_create_graph_says_why_and_what_to_do():
    x = gg.Tensor(np.array([1.0, -2.0]), requires_grad=True)
    (first,) = gg.grad(ReluWrittenWithPut.apply(x).sum(), x)  # plain numpy: fine
    np.testing.assert_array_equal(first, [1.0, 0.0])
    with pytest.raises(gg.BackwardError, match=r"ReluWrittenWithPut.backward failed: 'Tensor' "
                       r"object has no attribute 'put'.*\n  create_graph=True runs backward on "
                       r"Tensors.*np.where\(x > 0, grad, 0\)") as info:
        gg.grad(ReluWrittenWithPut.apply(x).sum(), x, create_graph=True)
    # Taking the values from t.data would cut the gradient's graph: not advised here.
    assert "t.data" not in str(info.value)


class CubeWrittenWithNumpy(gg.Function):
    """y = x**3, with a backward written in numpy that Tensors cannot run: ``how`` says which
    (a numpy function with no graphgrad op, a write into a Tensor, or into an array)"""

    @staticmethod
    def forward(ctx, x, how):
        ctx.save_for_backward(x)
        ctx.how = how
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        if ctx.how == "convolve":
            return np.convolve(3 * x * x, [1.0]) * grad  # convolving with [1] changes nothing
        if ctx.how == "add.at":
            dx = np.zeros(x.shape)
            np.add.at(dx, np.arange(len(x)), grad * 3 * x * x)
            return dx
        dx = np.zeros_like(x) if ctx.how == "into a tensor" else np.zeros(x.shape)
        dx[:] = grad * 3 * x * x
        return dx


@pytest.mark.parametrize("how, what", [
    ("convolve", r"numpy.convolve has no graphgrad op"),
    ("add.at", r"numpy.add.at has no graphgrad op"),
    ("into a tensor", r"it writes into a Tensor"),
    ("into an array", r"numpy asked for the values of a Tensor"),
])
def test_a_backward_numpy_cannot_run_on_tensors_under_create_graph_names_the_op(how, what):
    """The error came from numpy's dispatch or the Tensor without the op's name, and advised
    t.data, which would leave the second derivative without the values taken."""
    x = gg.Tensor(np.array([1.0, -2.0]), requires_grad=True)
    (first,) = gg.grad(CubeWrittenWithNumpy.apply(x, how=how).sum(), x)  # plain numpy: fine
    np.testing.assert_array_equal(first, [3.0, 12.0])
    with pytest.raises(gg.BackwardError, match=r"^CubeWrittenWithNumpy.backward failed on "
                       r"Tensors: " + what + r".*\n  create_graph=True runs backward on "
                       r"Tensors.*np.where\(x > 0, grad, 0\).*Op.call") as info:
        gg.grad(CubeWrittenWithNumpy.apply(x, how=how).sum(), x, create_graph=True)
    assert "t.data" not in str(info.value)


def test_second_order_through_a_leaf_whose_data_was_replaced_is_refused():
    x = gg.Tensor(np.array([1.0, 2.0]), requires_grad=True, name="x")
    J = (x * x * x).sum()
    x.data = np.array([5.0, 5.0])  # the graph saw [1, 2]; nothing holds those values now
    with pytest.raises(gg.GraphgradError, match=r"Mul: the data of 'x' \(2,\) float64 was "
                       r"replaced.*forward pass again"):
        gg.grad(J, x, create_graph=True)
    (first,) = gg.grad(J, x)  # first order uses what the ops saved: still right
    np.testing.assert_array_equal(first, [3.0, 12.0])


def test_second_derivatives_tell_apart_inputs_that_hold_one_array():
    """x.detach() / x: both inputs of Div hold x's array, but only the second is x."""
    x = gg.Tensor(3.0, requires_grad=True)
    (g,) = gg.grad(x.detach() / x, x, create_graph=True)  # -x_detached / x**2
    assert g.item() == pytest.approx(-1 / 3)
    (h,) = gg.grad(g, x)  # 2 x_detached / x**3
    assert h.item() == pytest.approx(2 / 9)
    (g,) = gg.grad(x.detach() * x, x, create_graph=True)  # x_detached: a constant
    assert g.item() == 3.0 and not g.requires_grad
    # Two leaves made on one array, and a parameter times its own data.
    shared = np.array(2.0)
    a = gg.Tensor(shared, requires_grad=True)
    b = gg.Tensor(shared, requires_grad=True)
    (gb,) = gg.grad(a * b * b, b, create_graph=True)  # 2 a b
    np.testing.assert_allclose(gg.grad(gb, [a, b]), [4.0, 4.0])
    W = gg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (gW,) = gg.grad((W * W.data * W).sum(), W, create_graph=True)  # 2 W.data W
    np.testing.assert_allclose(gg.grad(gW.sum(), W)[0], [2.0, 4.0])
    (gx,) = gg.grad((x * x).sum(), x, create_graph=True)  # one tensor twice: one input
    assert gg.grad(gx, x)[0] == 2.0


def test_second_order_through_a_replaced_leaf_that_shared_an_array_is_refused():
    x = gg.Tensor(np.array([1.0, 2.0]), requires_grad=True, name="x")
    J = (x.detach() * x * x).sum()
    x.data = np.array([5.0, 5.0])
    with pytest.raises(gg.GraphgradError, match=r"Mul: the data of 'x' \(2,\) float64 was "
                       r"replaced"):
        gg.grad(J, x, create_graph=True)


@pytest.mark.parametrize("grad", ["one", [[1.0, 2.0], [3.0]], {"a": 1},
                                  [[1.0, None], [2.0, 3.0]]],
                         ids=["text", "ragged", "dict", "None"])
def test_a_seed_gradient_that_is_no_numbers_is_refused_by_name(grad):
    """numpy's ValueError (could not convert string to float) came out of backward, and a None
    became a NaN in every gradient it reached."""
    x = gg.Tensor(np.ones((2, 2)), requires_grad=True, name="x")
    y = x * 2.0
    y.name = "y"
    message = (r"^backward: grad must be numbers of the shape of 'y' \(2, 2\) float64, "
               r"dJ/d\(each of its elements\), got ")
    with pytest.raises(gg.GraphgradTypeError, match=message):
        y.backward(grad)
    if not isinstance(grad, list):  # a list is one seed per output
        with pytest.raises(gg.GraphgradTypeError, match=message.replace("backward", "gg\\.grad")):
            gg.grad(y, x, grad_outputs=grad)


def test_backward_with_create_graph_says_to_use_gg_grad_which_gives_it():
    """PyTorch's J.backward(create_graph=True) was a TypeError about an unexpected keyword; .grad
    holds numpy arrays, so the differentiable gradient comes from gg.grad, as the error says."""
    x = gg.Tensor(np.array([1.0, 2.0]), requires_grad=True, name="x")
    J = (x**3).sum()
    J.name = "J"
    with pytest.raises(gg.ArgumentError, match=r"^backward of 'J' \(\) float64: create_graph=True "
                       r"is not taken.*\.grad holds numpy arrays.*gg\.grad\(J, \[W\], "
                       r"create_graph=True\)"):
        J.backward(create_graph=True)
    assert x.grad is None  # nothing ran: the graph is still there for what the message says
    (dx,) = gg.grad(J, [x], create_graph=True)
    np.testing.assert_array_equal(dx.data, [3.0, 12.0])
    (dx.sum()).backward()
    np.testing.assert_array_equal(x.grad, [6.0, 12.0])  # d/dx of 3 x**2
    J2 = (x**3).sum()
    J2.backward(create_graph=np.False_)  # PyTorch's default, spelled out: an ordinary backward
    np.testing.assert_array_equal(x.grad, [9.0, 24.0])
    with pytest.raises(gg.ArgumentError, match="create_graph must be True or False, got 1"):
        J2.backward(create_graph=1)


def test_a_second_hessian_vector_product_through_a_freed_graph_says_gg_grad_keeps_it_so():
    """The second of two products H v through one create_graph gradient ran through a graph the
    first had freed (gg.grad keeps it only with create_graph, by default), and the error said
    to pass retain_graph=True to a backward() the code never called."""
    x = gg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (g,) = gg.grad((gg.sin(x) * x).sum(), x, create_graph=True)  # cos x * x + sin x
    hessian_diagonal = -np.sin(x.data) * x.data + 2 * np.cos(x.data)
    (first,) = gg.grad(g, x, grad_outputs=np.array([1.0, 0.0]))
    np.testing.assert_allclose(first, [hessian_diagonal[0], 0.0], rtol=1e-15)
    with pytest.raises(gg.BackwardError, match=r"a second time.*retain_graph=True to the "
                       r"first backward\(\) or gg\.grad\(\).*keeps the graph by default only "
                       r"with create_graph=True.*a Hessian-vector product per v"):
        gg.grad(g, x, grad_outputs=np.array([0.0, 1.0]))
    (g,) = gg.grad((gg.sin(x) * x).sum(), x, create_graph=True)
    products = [gg.grad(g, x, grad_outputs=v, retain_graph=True)[0] for v in np.eye(2)]
    np.testing.assert_allclose(products, np.diag(hessian_diagonal), rtol=1e-15)


# -- only what leads to the inputs asked for ------------------------------------------------------
class Scale(gg.Function):
    """z = x * w;  dx = w dz, dw = x dz. Records the needs_input_grad each backward is given."""

    given = []

    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return x * w

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved
        Scale.given.append(ctx.needs_input_grad)
        need_x, need_w = ctx.needs_input_grad
        return grad * w if need_x else None, grad * x if need_w else None


def _scale_chain():
    """J = sum(x w v) + sum(u v): x's path needs dx from both nodes, and u's Scale leads to
    no x."""
    x = gg.Tensor(np.array([1.0, -2.0]), requires_grad=True, name="x")
    w = gg.Tensor(np.array([3.0, 0.5]), requires_grad=True, name="w")
    v = gg.Tensor(np.array([2.0, 4.0]), requires_grad=True, name="v")
    u = gg.Tensor(np.array([5.0, 7.0]), requires_grad=True, name="u")
    h = Scale.apply(x, w)
    J = (Scale.apply(h, v) + Scale.apply(u, v)).sum()
    return x, w, v, u, h, J


def test_grad_asks_no_op_for_the_gradient_of_an_input_that_required_none_when_it_ran():
    """x * W recorded while x required no grad computes no dx, in gg.grad as in backward(),
    even when x requires grad by the time gg.grad asks for it alone (its multiplication by W,
    whose gradient gg.grad does not want, is still run)."""
    x = gg.Tensor(np.array([1.0, 2.0]), name="x")
    W = gg.Tensor(np.array([3.0, 4.0]), requires_grad=True, name="W")
    J = (x * W).sum()
    x.requires_grad = True
    assert gg.grad(J, [x], allow_unused=True, retain_graph=True) == (None,)
    with pytest.raises(gg.BackwardError, match="do not depend on input"):
        gg.grad(J, [x], retain_graph=True)
    J.backward()
    assert x.grad is None
    np.testing.assert_array_equal(W.grad, [1.0, 2.0])


def test_grad_runs_only_the_backwards_that_lead_to_the_inputs_asked_for():
    """gg.grad(J, [x]) runs no backward that leads only to parameters, and asks none for a
    parameter's gradient, as PyTorch's autograd.grad; backward() still computes them all."""
    x, w, v, u, h, J = _scale_chain()
    top, first = J.creator.inputs[0].creator.inputs[0].creator, h.creator
    other = J.creator.inputs[0].creator.inputs[1].creator
    Scale.given.clear()
    (dx,) = gg.grad(J, [x], retain_graph=True)
    np.testing.assert_array_equal(dx, w.data * v.data)  # [6, 2]
    assert Scale.given == [(True, False), (True, False)]  # h v, then x w; not u v
    # Each node has its own flags back, for a later backward.
    assert top.needs_input_grad == first.needs_input_grad == other.needs_input_grad \
        == (True, True)
    Scale.given.clear()
    J.backward()
    assert Scale.given == [(True, True)] * 3
    np.testing.assert_array_equal(x.grad, [6.0, 2.0])
    np.testing.assert_array_equal(w.grad, x.data * v.data)
    np.testing.assert_array_equal(v.grad, h.data + u.data)
    np.testing.assert_array_equal(u.grad, v.data)


def test_grad_of_an_intermediate_runs_only_what_comes_after_it():
    x, w, v, u, h, J = _scale_chain()
    Scale.given.clear()
    (dh,) = gg.grad(J, [h], retain_graph=True)
    np.testing.assert_array_equal(dh, v.data)
    assert Scale.given == [(True, False)]  # h's own node does not run
    Scale.given.clear()
    dh, dw = gg.grad(J, [h, w], retain_graph=True)  # h's node now leads to w: dw, never dx
    np.testing.assert_array_equal(dh, v.data)
    np.testing.assert_array_equal(dw, x.data * v.data)
    assert Scale.given == [(True, False), (False, True)]
    Scale.given.clear()
    (dv,) = gg.grad(J, [v])  # reached twice: both nodes, each asked for dv only
    np.testing.assert_array_equal(dv, h.data + u.data)
    assert Scale.given == [(False, True), (False, True)]


def test_a_graph_reached_by_no_input_runs_nothing_and_is_freed_as_before():
    x, w, v, u, h, J = _scale_chain()
    y = gg.Tensor(np.ones(2), requires_grad=True, name="y")
    Scale.given.clear()
    (dy,) = gg.grad(J, [y], allow_unused=True)
    assert dy is None and Scale.given == []
    assert h.creator.released  # no retain_graph: the graph is freed, as when it all ran
    with pytest.raises(gg.BackwardError, match=r"a second time.*retain_graph=True"):
        J.backward()
    w.data[0] = 1.0  # and the arrays the skipped nodes saved are writeable again


def test_a_freed_node_on_the_way_is_refused_as_before_even_if_it_leads_to_no_input():
    x, w, v, u, h, J = _scale_chain()
    J.creator.inputs[0].creator.inputs[1].sum().backward()  # frees u v's node
    with pytest.raises(gg.BackwardError, match=r"through Scale .*a second time.*retain_graph"):
        gg.grad(J, [x])


def test_grad_puts_needs_input_grad_back_when_a_backward_fails():
    x, w, v, u, h, J = _scale_chain()

    class Fails(gg.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 1.0

        @staticmethod
        def backward(ctx, grad):
            raise KeyboardInterrupt  # also an interrupt, which no except Exception catches

    with pytest.raises(KeyboardInterrupt):
        gg.grad(Fails.apply(J), [x], retain_graph=True)
    assert h.creator.needs_input_grad == (True, True)
    Scale.given.clear()
    J.backward()
    assert Scale.given == [(True, True)] * 3
    np.testing.assert_array_equal(w.grad, x.data * v.data)


def test_grad_through_a_node_of_several_outputs_gathers_only_what_is_needed():
    x = gg.Tensor(np.array([1.0, 2.0, 3.0, 4.0]), requires_grad=True)
    W = gg.Tensor(np.array([2.0, -1.0]), requires_grad=True)
    a, b = gg.split(x, 2)
    J = (Scale.apply(a, W) + b * b).sum()
    Scale.given.clear()
    (dW,) = gg.grad(J, [W], retain_graph=True)  # the split leads only to x: not run
    np.testing.assert_array_equal(dW, [1.0, 2.0])
    assert Scale.given == [(False, True)]
    Scale.given.clear()
    dx, db = gg.grad(J, [x, b])  # b: one output of the split, which runs for x
    np.testing.assert_array_equal(dx, [2.0, -1.0, 6.0, 8.0])
    np.testing.assert_array_equal(db, [6.0, 8.0])
    assert Scale.given == [(True, False)]


def _critic(X, W1, b1, w2, v):
    """D(X) = tanh(X W1^T + b1) w2^T, plus a term v @ W1 (a constant v) that leads to W1 only."""
    return (gg.tanh(X @ W1.T + b1) @ w2.T).sum() + (v @ W1).sum()


def _critic_tensors():
    rng = np.random.default_rng(5)
    return [gg.Tensor(rng.standard_normal(shape), requires_grad=True, name=name)
            for name, shape in (("X", (4, 3)), ("W1", (5, 3)), ("b1", (5,)), ("w2", (1, 5)))]


def _penalty(dX):
    """The WGAN-GP gradient penalty: mean over examples of (||dX_i|| - 1)^2."""
    return ((((dX * dX).sum(axis=1)) ** 0.5 - 1.0) ** 2).mean()


def test_a_gradient_penalty_asks_matmul_for_dx_alone_and_keeps_its_second_derivatives(
        monkeypatch):
    """(dX,) = gg.grad(D(X), [X], create_graph=True) computes and records no dW: each MatMul
    on the way to X is asked for the gradient of its input that leads there, and the one that
    leads to W1 alone does not run. dX and the penalty's gradients are those of the unpruned
    walk (every input asked for) and of finite differences."""
    from graphgrad.ops.arithmetic import MatMul

    X, W1, b1, w2 = _critic_tensors()
    v = np.ones((1, 5))
    given = []
    backward = MatMul.backward
    monkeypatch.setattr(MatMul, "backward", staticmethod(
        lambda ctx, grad: given.append(ctx.needs_input_grad) or backward(ctx, grad)))
    (dX,) = gg.grad(_critic(X, W1, b1, w2, v), [X], create_graph=True)
    assert given == [(True, False), (True, False)]  # A @ w2.T, then X @ W1.T
    gp = _penalty(dX)
    gW1, gb1, gw2 = gg.grad(gp, [W1, b1, w2])
    monkeypatch.undo()

    every = gg.grad(_critic(X, W1, b1, w2, v), [X, W1, b1, w2], create_graph=True)
    np.testing.assert_allclose(dX.data, every[0].data, rtol=1e-13)
    expected = gg.grad(_penalty(every[0]), [W1, b1, w2])
    for got, want in zip((gW1, gb1, gw2), expected):
        np.testing.assert_allclose(got, want, rtol=1e-12)

    def penalty_of(W1_data):  # by differences: the penalty of dX from a plain gg.grad
        W = gg.Tensor(W1_data, requires_grad=True)
        (d,) = gg.grad(_critic(X, W, b1, w2, v), [X])
        return float(_penalty(gg.Tensor(d)).data)

    eps = 1e-6
    numeric = np.zeros_like(W1.data)
    for i in np.ndindex(W1.shape):
        step = np.zeros_like(W1.data)
        step[i] = eps
        numeric[i] = (penalty_of(W1.data + step) - penalty_of(W1.data - step)) / (2 * eps)
    np.testing.assert_allclose(gW1, numeric, rtol=1e-6, atol=1e-8)


def test_gradgradcheck_of_a_gradient_penalty_made_with_grad():
    """The penalty's gradients with respect to every input, through the pruned graph of dX,
    against finite differences (gradcheck asks for them all at once: nothing is pruned in
    that outer call)."""
    v = np.ones((1, 5))

    def gp(X, W1, b1, w2):
        (dX,) = gg.grad(_critic(X, W1, b1, w2, v), [X], create_graph=True)
        return _penalty(dX)

    assert gg.gradcheck(gp, [t.data for t in _critic_tensors()])


def test_walks_on_two_threads_through_one_graph_do_not_see_each_others_pruning():
    # gg.grad(J, [x]) turns off the dW of the nodes it runs until it ends; a gg.grad(J, [w])
    # on another thread meanwhile read those flags and got (None,) for w. Walks now take
    # turns: the second waits for the first.
    inside, release = threading.Event(), threading.Event()

    class Gate(gg.Function):
        """z = a;  da = dz, waiting in thread A until released."""

        @staticmethod
        def forward(ctx, a):
            return a * 1.0

        @staticmethod
        def backward(ctx, grad):
            if threading.current_thread().name == "A":
                inside.set()
                release.wait(10)
            return grad

    x = gg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    w = gg.Tensor(np.array([3.0, 4.0]), requires_grad=True)
    J = Gate.apply(x * w).sum()
    got = {}
    first = threading.Thread(target=lambda: got.setdefault(
        "A", gg.grad(J, [x], retain_graph=True)), name="A")
    second = threading.Thread(target=lambda: got.setdefault(
        "B", gg.grad(J, [w], retain_graph=True, allow_unused=True)), name="B")
    first.start()
    assert inside.wait(10)
    second.start()
    second.join(0.2)
    assert second.is_alive() and "B" not in got  # waiting for A's walk
    release.set()
    first.join(10)
    second.join(10)
    np.testing.assert_array_equal(got["A"][0], [3.0, 4.0])  # dJ/dx = w
    np.testing.assert_array_equal(got["B"][0], [1.0, 2.0])  # dJ/dw = x
    J.backward()  # every node's own needs_input_grad is back
    np.testing.assert_array_equal(w.grad, [1.0, 2.0])
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])


def test_two_costs_on_one_graph_are_not_told_about_the_courses_parameter_update():
    """A second cost on the first's graph (two heads on one body, J then 2 J) reaches a node
    the first backward freed through a tensor computed before it, as the course's update
    W = W - learning_rate * dW does; the W hint is for that update only, a Sub or an Add of
    a constant. The others are told to add the costs or to keep the graph, and each does."""
    x = gg.Tensor(np.array([0.5, -1.0]), requires_grad=True)
    h = gg.tanh(x)
    J1, J2 = (h * h).sum(), (h * h * h).sum()
    J1.backward()
    with pytest.raises(gg.BackwardError) as caught:
        J2.backward()
    message = str(caught.value)
    assert message.startswith("cannot backpropagate through Tanh a second time")
    assert "(J1 + J2).backward()" in message and "retain_graph=True" in message
    assert "W = W - learning_rate" not in message
    J = (gg.tanh(x) ** 2).sum()
    J.backward()
    with pytest.raises(gg.BackwardError, match=r"through Sum a second time") as caught:
        (J * 2).backward()
    assert "W = W - learning_rate" not in str(caught.value)

    x.grad = None
    h = gg.tanh(x)
    ((h * h).sum() + (h * h * h).sum()).backward()  # what the message says, done
    t = np.tanh(x.data)
    np.testing.assert_allclose(x.grad, (2 * t + 3 * t * t) * (1 - t * t), rtol=1e-15)

    W = gg.Tensor(np.array([0.5, -1.0]), requires_grad=True)
    for _ in range(2):  # the course's update, made outside no_grad: the hint is given
        (gg.tanh(W) ** 2).sum().backward()
        W = W - 0.1 * W.grad
    with pytest.raises(gg.BackwardError, match=r"through Sub a second time.*W\.data = W\.data"):
        (gg.tanh(W) ** 2).sum().backward()
