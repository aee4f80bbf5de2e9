"""The programming assignments of the course's first two courses (Neural Networks and Deep
Learning; Improving Deep Neural Networks), ported to graphgrad as a learner writes them: the
course's own code with Tensors where it has arrays, or with `nn` and `optim`. Each checks
its values against the course's formulas computed in numpy, finite differences, or the
values the assignments print. Data are generated: no downloads."""
import numpy as np
import pytest

import graphgrad as gg


# -- course 1, week 3 / 4: update_parameters written as the course writes it -----------------
def _logistic_step(params, X, Y):
    A = gg.sigmoid(params["W"] @ X + params["b"])
    cost = -(Y * gg.log(A) + (1 - Y) * gg.log(1 - A)).mean()
    cost.backward()
    return cost, {"dW": params["W"].grad, "db": params["b"].grad}


def test_the_courses_update_outside_no_grad_is_refused_with_what_to_write_instead():
    """The course's update_parameters, parameters["W1"] = parameters["W1"] - learning_rate *
    grads["dW1"], run on Tensors, puts each update on the next step's graph: the third step's
    backward reached the update the second step's had freed, and the error said to pass
    retain_graph=True (which trains, with a graph and a backward that grow every step)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2, 8))
    Y = (X[:1] > 0).astype(float)
    params = {"W": gg.Tensor(rng.standard_normal((1, 2)), requires_grad=True),
              "b": gg.Tensor(np.zeros((1, 1)), requires_grad=True)}
    W0 = params["W"].data
    for _ in range(2):  # the second step runs through the first's update, and frees it
        _, grads = _logistic_step(params, X, Y)
        params["W"] = params["W"] - 0.1 * grads["dW"]
        params["b"] = params["b"] - 0.1 * grads["db"]
    with pytest.raises(gg.BackwardError, match=r"through Sub a second time.*output of Sub "
                       r"\(1, 1\) float64, computed before that backward, is used again.*"
                       r"W\.data = W\.data - learning_rate \* dW.*gg\.no_grad\(\)"):
        _logistic_step(params, X, Y)

    # What the message says, done: two steps of gradient descent by hand agree with numpy.
    params = {"W": gg.Tensor(W0, requires_grad=True),
              "b": gg.Tensor(np.zeros((1, 1)), requires_grad=True)}
    w, b = W0.copy(), np.zeros((1, 1))
    for _ in range(2):
        _, grads = _logistic_step(params, X, Y)
        for key in params:
            params[key].data = params[key].data - 0.1 * grads["d" + key]
            params[key].grad = None
        a = 1 / (1 + np.exp(-(w @ X + b)))
        w, b = w - 0.1 * (a - Y) @ X.T / 8, b - 0.1 * np.sum(a - Y) / 8
    np.testing.assert_allclose(params["W"].data, w, rtol=1e-12)
    np.testing.assert_allclose(params["b"].data, b, rtol=1e-12)


# -- course 2, week 1: gradient checking -------------------------------------------------------
def test_one_dimensional_gradient_check_with_the_courses_int_theta():
    """The course's J = theta * x with x, theta = 3, 4: gg.gradcheck took the Python int 4 as
    an index (int64, nothing to check) where gg.Tensor(4) is float64, and said to call
    x.astype(float) on it."""
    x, theta = 3, 4
    t = gg.Tensor(theta, requires_grad=True)
    (t * x).backward()
    assert t.grad == 3.0
    epsilon = 1e-7
    gradapprox = ((theta + epsilon) * x - (theta - epsilon) * x) / (2 * epsilon)
    difference = abs(t.grad - gradapprox) / (abs(t.grad) + abs(gradapprox))
    assert difference < 1e-7
    for given in (theta, [theta], 4.0):
        result = gg.gradcheck(lambda th: th * x, given)
        assert result and result.pairs[0].input_label == "unnamed tensor () float64"
    with pytest.raises(gg.ArgumentError, match="treated as indices"):
        gg.gradcheck(lambda th: th * x, [np.array(4)])  # an integer array stays an index
    with pytest.raises(gg.ArgumentError, match="bool"):
        gg.gradcheck(lambda th: th * x, [True])  # and a bool a mask


class _SlightlyWrongProduct(gg.Function):
    """J = w . x;  dJ/dw = x, written 2% too large."""

    @staticmethod
    def forward(ctx, w, x):
        ctx.save_for_backward(x)
        return np.sum(w * x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad * x * 1.02, None


def test_gradcheck_of_a_cost_compares_dJ_dtheta_itself():
    """A cost's gradient was weighted by a random upstream number (0.126 at seed 0): the report
    showed dJ/dtheta = 3 of J = 3 theta as 'analytic 0.377191', and atol, compared with the
    weighted gradients, was 8 times looser: a dw 2% off, of elements near 0.003, passed."""
    result = gg.gradcheck(lambda th: th * 3.0, [4.0])
    assert (result.pairs[0].analytic, result.pairs[0].numeric) == pytest.approx((3.0, 3.0))
    w = gg.Tensor(np.full(4, 0.5), requires_grad=True, name="w")
    x = gg.Tensor([0.003, -0.002, 0.0025, 0.004])  # data: not checked
    result = gg.gradcheck(_SlightlyWrongProduct, [w, x], raise_exception=False)
    assert not result
    pair = result.pairs[0]
    assert pair.worst_index == (3,) and pair.analytic == pytest.approx(0.00408, rel=1e-9)
    assert pair.numeric == pytest.approx(0.004, rel=1e-6)


# -- course 2, week 1: regularization ------------------------------------------------------------
def _course_regularization_case():
    """compute_cost_with_regularization_test_case: the course's draws, Y and a3."""
    np.random.seed(1)
    Y = np.array([[1, 1, 0, 1, 0]])
    parameters = {}
    for name, shape in (("W1", (2, 3)), ("b1", (2, 1)), ("W2", (3, 2)), ("b2", (3, 1)),
                        ("W3", (1, 3)), ("b3", (1, 1))):
        parameters[name] = gg.Tensor(np.random.randn(*shape), requires_grad=True, name=name)
    a3 = np.array([[0.40682402, 0.01629284, 0.16722898, 0.10118111, 0.40682402]])
    return Y, parameters, a3


def test_l2_cost_by_hand_and_with_l2_penalty_match_the_courses_value():
    from graphgrad import nn
    Y, parameters, a3 = _course_regularization_case()
    m, lambd = Y.shape[1], 0.1
    cross_entropy_cost = -np.mean(Y * np.log(a3) + (1 - Y) * np.log(1 - a3))
    weights = [parameters["W1"], parameters["W2"], parameters["W3"]]
    by_hand = cross_entropy_cost + lambd / (2 * m) * sum(np.sum(np.square(W)) for W in weights)
    with_penalty = cross_entropy_cost + nn.l2_penalty(weights, lambd, m)
    assert by_hand.item() == pytest.approx(1.78648594516, abs=1e-10)  # the course's value
    assert with_penalty.item() == pytest.approx(by_hand.item(), rel=1e-14)
    with_penalty.backward()
    for W in weights:  # backward_propagation_with_regularization's extra term
        np.testing.assert_allclose(W.grad, lambd / m * W.data, rtol=1e-14)
    assert parameters["b1"].grad is None


def test_l2_penalty_of_the_courses_parameters_dict_says_to_pass_its_weights():
    """nn.l2_penalty(parameters, lambd, m) with the course's dict said 'weight 0 is 'W1', not a
    Tensor' (it iterated over the keys), and the natural next try, parameters.values(), adds
    the biases to the penalty."""
    from graphgrad import nn
    Y, parameters, a3 = _course_regularization_case()
    with pytest.raises(gg.GraphgradTypeError, match=r"l2_penalty: got a dict of 6 entries; pass "
                       r"a list of its weights alone, \[parameters\['W1'\], parameters\['W2'\], "
                       r"parameters\['W3'\]\]: .*not the biases"):
        nn.l2_penalty(parameters, 0.1, 5)
