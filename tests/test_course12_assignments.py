"""The programming assignments of the course's first two courses (Neural Networks and Deep
Learning; Improving Deep Neural Networks), ported to graphgrad as a learner writes them: the
course's own code with Tensors where it has arrays, or with `nn` and `optim`. Each checks
its values against the course's formulas computed in numpy, finite differences, or the
values the assignments print. Data are generated: no downloads."""
import numpy as np
import pytest
from sklearn.datasets import load_digits, make_circles, make_moons

import graphgrad as gg
from graphgrad import data, nn, optim


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
    Y, parameters, a3 = _course_regularization_case()
    with pytest.raises(gg.GraphgradTypeError, match=r"l2_penalty: got a dict of 6 entries; pass "
                       r"a list of its weights alone, \[parameters\['W1'\], parameters\['W2'\], "
                       r"parameters\['W3'\]\]: .*not the biases"):
        nn.l2_penalty(parameters, 0.1, 5)
    with pytest.raises(gg.GraphgradTypeError, match=r"l2_penalty: got the values of a dict whose "
                       r"'b1', 'b2', 'b3' are biases; pass a list of its weights alone, "
                       r"\[parameters\['W1'\], parameters\['W2'\], parameters\['W3'\]\]"):
        nn.l2_penalty(parameters.values(), 0.1, 5)  # its biases were penalised too
    weights = {k: v for k, v in parameters.items() if k[0] == "W"}
    penalty = nn.l2_penalty(weights.values(), 0.1, 5)  # a dict of weights alone is one
    expected = 0.1 / 10 * sum(np.sum(W.data ** 2) for W in weights.values())
    assert penalty.item() == pytest.approx(expected, rel=1e-14)


# -- course 1, week 2: Python basics with numpy, on Tensors ----------------------------------
def test_python_basics_with_numpy_on_tensors():
    x = gg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    s = 1 / (1 + np.exp(-x))                    # the course's sigmoid, np.exp on a Tensor
    ds = s * (1 - s)                            # sigmoid_derivative
    np.testing.assert_allclose(s.data, [0.73105858, 0.88079708, 0.95257413], atol=1e-8)
    np.testing.assert_allclose(ds.data, [0.19661193, 0.10499359, 0.04517666], atol=1e-8)
    s.sum().backward()
    np.testing.assert_allclose(x.grad, ds.data, rtol=1e-14)  # d sigmoid = s (1 - s)

    image = gg.Tensor(np.arange(18.0).reshape(3, 3, 2), requires_grad=True)
    v = image.reshape(image.shape[0] * image.shape[1] * image.shape[2], 1)   # image2vector
    assert v.shape == (18, 1)
    np.testing.assert_array_equal(v.data[:, 0], np.arange(18.0))

    x = gg.Tensor([[0.0, 3.0, 4.0], [1.0, 6.0, 4.0]], requires_grad=True)
    x_norm = np.linalg.norm(x, axis=1, keepdims=True)                      # normalize_rows
    normalized = x / x_norm
    np.testing.assert_allclose(normalized.data, [[0, 0.6, 0.8],
                                                 [0.13736056, 0.82416338, 0.54944226]],
                               atol=1e-8)
    (normalized * np.array([[1.0, 2.0, 3.0]])).sum().backward()
    xd, c = x.data, np.array([1.0, 2.0, 3.0])
    n = np.linalg.norm(xd, axis=1, keepdims=True)  # d(c.x/|x|) = c/|x| - (c.x) x / |x|^3
    np.testing.assert_allclose(x.grad, c / n - (xd @ c)[:, None] * xd / n**3, rtol=1e-12)

    x = gg.Tensor([[9.0, 2.0, 5.0, 0.0, 0.0], [7.0, 5.0, 0.0, 0.0, 0.0]])
    x_exp = np.exp(x)                                                       # softmax
    s = x_exp / np.sum(x_exp, axis=1, keepdims=True)
    np.testing.assert_allclose(s.data, gg.softmax(x, axis=1).data, rtol=1e-14)
    np.testing.assert_allclose(s.data[0, :3], [9.80897665e-01, 8.94462891e-04, 1.79657674e-02],
                               rtol=1e-8)

    yhat = gg.Tensor([0.9, 0.2, 0.1, 0.4, 0.9], requires_grad=True)
    y = np.array([1, 0, 0, 1, 1])
    L1 = np.sum(np.abs(y - yhat))
    L2 = np.sum(np.dot(y - yhat, y - yhat))
    assert (L1.item(), L2.item()) == (pytest.approx(1.1), pytest.approx(0.43))
    (L1 + L2).backward()
    np.testing.assert_allclose(yhat.grad, np.sign(yhat.data - y) + 2 * (yhat.data - y),
                               rtol=1e-14)


# -- course 1, week 2: logistic regression with a neural network mindset ---------------------
def _sigmoid(z):
    return 1 / (1 + gg.exp(-z))


def _initialize_with_zeros(dim):
    return (gg.Tensor(np.zeros((dim, 1)), requires_grad=True, name="w"),
            gg.Tensor(0.0, requires_grad=True, name="b"))


def _propagate(w, b, X, Y):
    m = X.shape[1]
    A = _sigmoid(np.dot(w.T, X) + b)
    cost = -1 / m * np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A))
    w.grad = b.grad = None
    cost.backward()
    return {"dw": w.grad, "db": b.grad}, np.squeeze(cost.data)


def _optimize(w, b, X, Y, num_iterations, learning_rate, print_cost=False):
    costs = []
    for i in range(num_iterations):
        grads, cost = _propagate(w, b, X, Y)
        w.data = w.data - learning_rate * grads["dw"]
        b.data = b.data - learning_rate * grads["db"]
        if i % 100 == 0:
            costs.append(cost)
            if print_cost:
                print("Cost after iteration %i: %f" % (i, cost))  # noqa: UP031, the course's
    return {"w": w, "b": b}, grads, costs


def _predict(w, b, X):
    A = _sigmoid(np.dot(w.reshape(X.shape[0], 1).T, X) + b)
    Y_prediction = np.zeros((1, X.shape[1]))
    for i in range(A.shape[1]):
        Y_prediction[0, i] = 1 if A[0, i] > 0.5 else 0
    return Y_prediction


def _cat_images(m, rng, size=64, brighter=40):
    """size x size x 3 "cat vs non-cat" images: a cat's red channel is brighter on average."""
    Y = (rng.random((1, m)) < 0.35).astype(int)
    X = rng.integers(0, 200, (m, size, size, 3))
    X[Y[0] == 1, :, :, 0] += rng.integers(0, brighter, (int(Y.sum()), size, size))
    return X.astype(np.uint8), Y


def test_logistic_regression_propagate_optimize_predict_match_the_courses_values(capsys):
    w, b = _initialize_with_zeros(2)
    assert w.shape == (2, 1) and b.item() == 0.0
    w.data, b.data = np.array([[1.0], [2.0]]), np.array(2.0)
    X, Y = np.array([[1.0, 2.0, -1.0], [3.0, 4.0, -3.2]]), np.array([[1, 0, 1]])
    grads, cost = _propagate(w, b, X, Y)
    np.testing.assert_allclose(grads["dw"], [[0.99845601], [2.39507239]], rtol=1e-8)
    assert grads["db"] == pytest.approx(0.00145557813678, rel=1e-9)
    assert cost == pytest.approx(5.801545319394553, rel=1e-14)
    params, grads, costs = _optimize(w, b, X, Y, 100, 0.009, print_cost=True)
    assert capsys.readouterr().out == "Cost after iteration 0: 5.801545\n"
    np.testing.assert_allclose(params["w"].data, [[0.19033591], [0.12259159]], rtol=1e-7)
    assert params["b"].item() == pytest.approx(1.92535983008, rel=1e-10)
    np.testing.assert_allclose(grads["dw"], [[0.67752042], [1.41625495]], rtol=1e-7)
    w.data, b.data = np.array([[0.1124579], [0.23106775]]), np.array(-0.3)
    X = np.array([[1.0, -1.1, -3.2], [1.2, 2.0, 0.1]])
    np.testing.assert_array_equal(_predict(w, b, X), [[1.0, 1.0, 0.0]])


def test_logistic_regression_model_on_cat_images_and_its_learning_rates():
    rng = np.random.default_rng(1)
    train_x_orig, train_y = _cat_images(209, rng)
    test_x_orig, test_y = _cat_images(50, rng)
    train_x = train_x_orig.reshape(train_x_orig.shape[0], -1).T / 255.0
    test_x = test_x_orig.reshape(test_x_orig.shape[0], -1).T / 255.0
    assert train_x.shape == (64 * 64 * 3, 209)
    results = {}
    for learning_rate in (0.01, 0.001, 0.0001):
        w, b = _initialize_with_zeros(train_x.shape[0])
        _, _, costs = _optimize(w, b, train_x, train_y, 40, learning_rate)
        costs.append(_propagate(w, b, train_x, train_y)[1])
        train_accuracy = 100 - np.mean(np.abs(_predict(w, b, train_x) - train_y)) * 100
        test_accuracy = 100 - np.mean(np.abs(_predict(w, b, test_x) - test_y)) * 100
        results[learning_rate] = (costs, train_accuracy, test_accuracy)
    assert results[0.01][0][0] == pytest.approx(np.log(2))   # w = 0: A = 0.5 everywhere
    assert results[0.01][1] == 100.0 and results[0.01][2] >= 90.0
    # the course's plot: the larger rate lowers the cost faster
    assert results[0.01][0][1] < results[0.001][0][1] < results[0.0001][0][1] < np.log(2)


# -- course 1, week 3: planar data classification with one hidden layer --------------------
def _planar_forward(X, parameters):
    Z1 = np.dot(parameters["W1"], X) + parameters["b1"]
    A1 = np.tanh(Z1)
    Z2 = np.dot(parameters["W2"], A1) + parameters["b2"]
    A2 = gg.sigmoid(Z2)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def _planar_cost(A2, Y):
    m = Y.shape[1]
    logprobs = np.multiply(np.log(A2), Y) + np.multiply(1 - Y, np.log(1 - A2))
    return -np.sum(logprobs) / m


def _nn_model(X, Y, n_h, num_iterations, learning_rate=1.2):
    np.random.seed(2)
    n_x, n_y = X.shape[0], Y.shape[0]
    parameters = {"W1": np.random.randn(n_h, n_x) * 0.01, "b1": np.zeros((n_h, 1)),
                  "W2": np.random.randn(n_y, n_h) * 0.01, "b2": np.zeros((n_y, 1))}
    parameters = {k: gg.Tensor(v, requires_grad=True, name=k) for k, v in parameters.items()}
    costs = []
    for i in range(num_iterations):
        A2, cache = _planar_forward(X, parameters)
        cost = _planar_cost(A2, Y)
        cost.backward()
        if i == 0:  # backward_propagation's equations, in numpy, on the first step
            m, A1, A2 = X.shape[1], cache["A1"].data, cache["A2"].data
            dZ2 = A2 - Y
            dZ1 = parameters["W2"].data.T @ dZ2 * (1 - A1 ** 2)
            for name, expected in (("W2", dZ2 @ A1.T / m), ("b2", dZ2.sum(1, keepdims=True) / m),
                                   ("W1", dZ1 @ X.T / m), ("b1", dZ1.sum(1, keepdims=True) / m)):
                np.testing.assert_allclose(parameters[name].grad, expected, rtol=1e-9,
                                           atol=1e-15)
        for p in parameters.values():                    # update_parameters
            p.data = p.data - learning_rate * p.grad
            p.grad = None
        costs.append(float(np.squeeze(cost.data)))
    return parameters, costs


def test_planar_one_hidden_layer_and_the_hidden_size_sweep():
    X, Y = data.planar_dataset()
    X, Y = X.T, Y.T                                      # the course's (n_x, m) and (1, m)
    assert (X.shape, Y.shape) == ((2, 400), (1, 400))
    accuracies = {}
    for n_h in (1, 4, 20):
        parameters, costs = _nn_model(X, Y, n_h, 1500)
        A2, _ = _planar_forward(X, parameters)
        predictions = A2 > 0.5
        accuracies[n_h] = float((np.dot(Y, predictions.T) + np.dot(1 - Y, 1 - predictions.T))
                                / float(Y.size) * 100)
        assert costs[0] == pytest.approx(np.log(2), abs=1e-3) and costs[-1] < costs[0]
    assert accuracies[1] < 80 and accuracies[4] > 88 and accuracies[20] > 88


# -- course 1, week 4: building a deep neural network step by step ---------------------------
class _Relu(gg.Function):
    """A = max(0, Z);  dZ = dA where Z > 0, else 0 (the course's relu_backward)"""

    @staticmethod
    def forward(ctx, Z):
        ctx.save_for_backward(Z)
        return np.maximum(0, Z)

    @staticmethod
    def backward(ctx, dA):
        (Z,) = ctx.saved
        dZ = np.array(dA, copy=True)
        dZ[Z <= 0] = 0
        return dZ


class _Sigmoid(gg.Function):
    """A = 1 / (1 + e**-Z);  dZ = dA s (1 - s) (the course's sigmoid_backward)"""

    @staticmethod
    def forward(ctx, Z):
        A = 1 / (1 + np.exp(-Z))
        ctx.save_for_backward(A)
        return A

    @staticmethod
    def backward(ctx, dA):
        (s,) = ctx.saved
        return dA * s * (1 - s)


def _initialize_parameters_deep(layer_dims, seed=3, scale=0.01):
    np.random.seed(seed)
    parameters = {}
    for l in range(1, len(layer_dims)):
        W = np.random.randn(layer_dims[l], layer_dims[l - 1])
        W = W * (scale if scale is not None else 1 / np.sqrt(layer_dims[l - 1]))
        parameters["W" + str(l)] = gg.Tensor(W, requires_grad=True, name="W" + str(l))
        parameters["b" + str(l)] = gg.Tensor(np.zeros((layer_dims[l], 1)), requires_grad=True,
                                             name="b" + str(l))
    return parameters


def _L_model_forward(X, parameters):
    caches, A = [], X
    L = len(parameters) // 2
    for l in range(1, L + 1):
        A_prev, W, b = A, parameters["W" + str(l)], parameters["b" + str(l)]
        Z = W.dot(A_prev) + b
        A = _Sigmoid.apply(Z) if l == L else _Relu.apply(Z)
        caches.append(((A_prev, W, b), Z))
    return A, caches


def _compute_cost(AL, Y):
    m = Y.shape[1]
    cost = (-1 / m) * (np.dot(Y, np.log(AL).T) + np.dot(1 - Y, np.log(1 - AL).T))
    return np.squeeze(cost)


def _L_model_backward_numpy(AL, Y, caches):
    """The course's L_model_backward, in numpy, from the caches' values."""
    grads, L, m = {}, len(caches), Y.shape[1]
    dA = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    for l in reversed(range(L)):
        (A_prev, W, b), Z = caches[l]
        A_prev = A_prev.data if isinstance(A_prev, gg.Tensor) else A_prev
        W, Z = W.data, Z.data
        if l == L - 1:
            s = 1 / (1 + np.exp(-Z))
            dZ = dA * s * (1 - s)
        else:
            dZ = np.where(Z > 0, dA, 0.0)
        grads["dW" + str(l + 1)] = dZ @ A_prev.T / m
        grads["db" + str(l + 1)] = np.sum(dZ, axis=1, keepdims=True) / m
        dA = W.T @ dZ
        grads["dA" + str(l)] = dA
    return grads


def test_deep_network_step_by_step_with_tensors_and_custom_ops():
    np.random.seed(6)
    X, Y = np.random.randn(5, 4), np.array([[1, 0, 1, 0]])
    parameters = _initialize_parameters_deep([5, 4, 3, 1], scale=None)
    AL, caches = _L_model_forward(X, parameters)
    assert AL.shape == (1, 4) and len(caches) == 3
    cost = _compute_cost(AL, Y)
    assert cost.shape == ()
    cost.backward()
    expected = _L_model_backward_numpy(AL.data, Y, caches)
    for l in (1, 2, 3):
        np.testing.assert_allclose(parameters["W" + str(l)].grad, expected["dW" + str(l)],
                                   rtol=1e-10)
        np.testing.assert_allclose(parameters["b" + str(l)].grad, expected["db" + str(l)],
                                   rtol=1e-10, atol=1e-16)
    for l in (1, 2):  # dA[l] of each cache, the gradient of the next layer's A_prev
        np.testing.assert_allclose(caches[l][0][0].grad, expected["dA" + str(l)] / 4,
                                   rtol=1e-10, atol=1e-16)
    assert gg.gradcheck(lambda *p: _compute_cost(
        _L_model_forward(X, dict(zip(parameters, p)))[0], Y), list(parameters.values()))
    before = {name: p.data.copy() for name, p in parameters.items()}
    with gg.no_grad():                                   # update_parameters, in place
        for name in parameters:
            parameters[name] -= 0.1 * parameters[name].grad
    for l in (1, 2, 3):
        np.testing.assert_allclose(parameters["W" + str(l)].data,
                                   before["W" + str(l)] - 0.1 * expected["dW" + str(l)],
                                   rtol=1e-12)


def test_deep_network_with_nn_matches_the_tensor_version():
    np.random.seed(6)
    X, Y = np.random.randn(5, 4), np.array([[1, 0, 1, 0]])
    parameters = _initialize_parameters_deep([5, 4, 3, 1], scale=None)
    AL, _ = _L_model_forward(X, parameters)
    _compute_cost(AL, Y).backward()
    model = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3), nn.ReLU(),
                          nn.Linear(3, 1), nn.Sigmoid())
    layers = [model.linear1, model.linear2, model.linear3]
    for l, layer in enumerate(layers, start=1):
        layer.W.data = parameters["W" + str(l)].data.copy()
        layer.b.data = parameters["b" + str(l)].data.reshape(-1)  # the course's b[l] is (n, 1)
    A = model(X.T)                                       # examples in rows: (m, n_x)
    np.testing.assert_allclose(A.data, AL.data.T, rtol=1e-14)
    nn.binary_cross_entropy(A, Y.T).backward()
    for l, layer in enumerate(layers, start=1):
        np.testing.assert_allclose(layer.W.grad, parameters["W" + str(l)].grad, rtol=1e-9)
        np.testing.assert_allclose(layer.b.grad, parameters["b" + str(l)].grad[:, 0], rtol=1e-9,
                                   atol=1e-16)


def test_a_linear_layer_refuses_the_courses_column_bias_even_when_it_would_broadcast():
    """nn.linear(A, W, b) with the course's b[l] of shape (n, 1) added b[i] to example i, not to
    unit i, without a word when the batch had as many examples as the layer has units (here 4);
    with any other m, it failed, saying that the bias must be (n,)."""
    rng = np.random.default_rng(0)
    A, W, b = rng.standard_normal((4, 3)), rng.standard_normal((4, 3)), np.arange(4.0)
    np.testing.assert_allclose(nn.linear(A, W, b).data, A @ W.T + b, rtol=1e-14)
    np.testing.assert_allclose(nn.linear(A, W, b.reshape(1, 4)).data, A @ W.T + b, rtol=1e-14)
    for m in (4, 5):
        with pytest.raises(gg.OpError, match=r"(?s)Affine.*bias must have shape \(4,\), got the "
                           r"course's column b\[l\] of shape \(4, 1\): pass b\.reshape\(-1\)"):
            nn.linear(A[:1].repeat(m, axis=0), W, b.reshape(4, 1))
    layer = nn.Linear(3, 4)
    layer.b.data = b.reshape(4, 1)                       # a parameter copied from the course's
    with pytest.raises(gg.OpError, match=r"b\.reshape\(-1\)"):
        layer(A)


# -- course 1, week 4: deep neural network application (2-layer and L-layer) -----------------
def test_two_layer_and_L_layer_models_on_cat_images():
    rng = np.random.default_rng(3)
    X_orig, Y = _cat_images(160, rng, size=16, brighter=56)
    X = X_orig.reshape(160, -1).T / 255.0                # 16x16x3 images: (768, m)
    X = X - X.mean(axis=1, keepdims=True)
    train_x, train_y, test_x, test_y = X[:, :120], Y[:, :120], X[:, 120:], Y[:, 120:]
    results = {}
    for layers_dims in ([768, 7, 1], [768, 20, 7, 5, 1]):
        parameters = _initialize_parameters_deep(layers_dims, seed=1, scale=None)
        for _ in range(150):
            AL, _ = _L_model_forward(train_x, parameters)
            cost = _compute_cost(AL, train_y)
            cost.backward()
            with gg.no_grad():
                for p in parameters.values():
                    p -= 0.2 * p.grad
                    p.grad = None
        AL, _ = _L_model_forward(test_x, parameters)
        results[len(layers_dims)] = ((AL.data > 0.5) == test_y).mean(), cost.item()
    assert results[3][0] >= 0.95 and results[5][0] >= 0.85
    assert results[3][1] < 0.05 and results[5][1] < 0.1

    model = nn.Sequential(nn.Linear(768, 7, rng=1), nn.ReLU(), nn.Linear(7, 1, rng=2))
    history = gg.fit(model, nn.binary_cross_entropy_with_logits,
                     optim.SGD(model.parameters(), lr=0.2), (train_x.T, train_y.T),
                     epochs=100, batch_size=120, progress=False)
    with gg.no_grad():
        accuracy = ((model(test_x.T).data > 0) == test_y.T).mean()
    assert history["accuracy"][-1] >= 0.9 and accuracy >= 0.9


# -- course 2, week 1: initialization -------------------------------------------------------------
def test_zeros_initialization_fails_to_break_symmetry_and_he_does():
    np.random.seed(1)
    train_X, train_Y = make_circles(n_samples=300, noise=0.05)
    Y = train_Y.reshape(-1, 1).astype(float)

    def course_init(kind):
        def init(shape, rng):  # the course's draws: np.random.seed(3), then one per layer
            if kind == "zeros":
                return np.zeros(shape)
            scale = 10 if kind == "random" else np.sqrt(2 / shape[1])
            return np.random.randn(*shape) * scale
        return init

    results = {}
    for kind in ("zeros", "random", "he"):
        np.random.seed(3)
        init = course_init(kind)
        model = nn.Sequential(nn.Linear(2, 10, init=init), nn.ReLU(),
                              nn.Linear(10, 5, init=init), nn.ReLU(), nn.Linear(5, 1, init=init))
        if kind == "he":  # the course's initialize_parameters_he([2, 4, 1]) values, seed 3
            np.random.seed(3)
            W1 = np.random.randn(4, 2) * np.sqrt(2 / 2)
            np.testing.assert_allclose(W1[0], [1.78862847, 0.43650985], rtol=1e-8)
        optimizer = optim.SGD(model.parameters(), lr=0.05)
        for _ in range(1500):
            cost = nn.binary_cross_entropy_with_logits(model(train_X), Y)
            optimizer.zero_grad()
            cost.backward()
            optimizer.step()
        with gg.no_grad():
            results[kind] = (((model(train_X).data > 0) == Y).mean(), cost.item(), model)
    accuracy, cost, model = results["zeros"]
    assert cost == pytest.approx(np.log(2), abs=1e-6) and accuracy == 0.5
    for layer in (model.linear1, model.linear2):  # every unit the same: all still zero
        np.testing.assert_array_equal(layer.W.data, 0.0)
        np.testing.assert_array_equal(layer.b.data, 0.0)
    assert results["he"][0] > 0.95
    assert results["random"][1] > results["he"][1]


# -- course 2, week 1: dropout ---------------------------------------------------------------------
def test_dropout_with_the_courses_D_masks_and_with_nn_dropout():
    np.random.seed(1)
    X = np.random.randn(3, 5)
    W1 = gg.Tensor(np.random.randn(2, 3), requires_grad=True)
    b1 = gg.Tensor(np.random.randn(2, 1), requires_grad=True)
    W2 = gg.Tensor(np.random.randn(1, 2), requires_grad=True)
    keep_prob = 0.7
    Z1 = np.dot(W1, X) + b1
    A1 = gg.relu(Z1)
    D1 = np.random.rand(A1.shape[0], A1.shape[1])
    D1 = (D1 < keep_prob).astype(int)
    A1 = A1 * D1
    A1 = A1 / keep_prob
    J = np.sum(np.dot(W2, A1))
    J.backward()
    z1 = W1.data @ X + b1.data                           # backward_propagation_with_dropout
    dA1 = W2.data.T @ np.ones((1, 5)) * D1 / keep_prob
    dZ1 = dA1 * (z1 > 0)
    np.testing.assert_allclose(A1.data, np.maximum(z1, 0) * D1 / keep_prob, rtol=1e-14)
    np.testing.assert_allclose(W1.grad, dZ1 @ X.T, rtol=1e-12)
    np.testing.assert_allclose(b1.grad, dZ1.sum(axis=1, keepdims=True), rtol=1e-12)

    dropout = nn.Dropout(0.86, rng=0)                    # rows are examples: (m, n)
    A = np.random.rand(2000, 20) + 0.5
    out = dropout(A)
    D = dropout.D.data
    np.testing.assert_allclose(out.data, A * D / 0.86, rtol=1e-14)
    assert D.shape == A.shape and abs(D.mean() - 0.86) < 0.01
    dropout.eval()
    np.testing.assert_array_equal(dropout(A).data, A)


# -- course 2, week 1: N-dimensional gradient checking ---------------------------------------------
_KEYS = ["W1", "b1", "W2", "b2", "W3", "b3"]


def _forward_propagation_n(X, Y, parameters):
    m = X.shape[1]
    A1 = gg.relu(np.dot(parameters["W1"], X) + parameters["b1"])
    A2 = gg.relu(np.dot(parameters["W2"], A1) + parameters["b2"])
    A3 = gg.sigmoid(np.dot(parameters["W3"], A2) + parameters["b3"])
    logprobs = np.multiply(-np.log(A3), Y) + np.multiply(-np.log(1 - A3), 1 - Y)
    return 1.0 / m * np.sum(logprobs)


def test_gradient_check_n_with_the_courses_vectors_and_with_gradcheck():
    np.random.seed(1)
    X, Y = np.random.randn(4, 3), np.array([[1, 1, 0]])
    shapes = {"W1": (5, 4), "b1": (5, 1), "W2": (3, 5), "b2": (3, 1), "W3": (1, 3), "b3": (1, 1)}
    parameters = {k: np.random.randn(*shapes[k]) for k in _KEYS}

    def dictionary_to_vector(parameters):
        return np.concatenate([np.reshape(parameters[k], (-1, 1)) for k in _KEYS], axis=0)

    def vector_to_dictionary(theta):
        out, i = {}, 0
        for k in _KEYS:
            n = int(np.prod(shapes[k]))
            out[k] = theta[i:i + n].reshape(shapes[k])
            i += n
        return out

    theta = gg.Tensor(dictionary_to_vector(parameters), requires_grad=True)
    _forward_propagation_n(X, Y, vector_to_dictionary(theta)).backward()
    grad = theta.grad
    values = theta.data.copy()
    epsilon = 1e-7
    gradapprox = np.zeros_like(values)
    for i in range(values.shape[0]):
        plus, minus = np.copy(values), np.copy(values)
        plus[i][0] += epsilon
        minus[i][0] -= epsilon
        J_plus = _forward_propagation_n(X, Y, vector_to_dictionary(plus)).item()
        J_minus = _forward_propagation_n(X, Y, vector_to_dictionary(minus)).item()
        gradapprox[i] = (J_plus - J_minus) / (2 * epsilon)
    difference = np.linalg.norm(grad - gradapprox) / (np.linalg.norm(grad)
                                                      + np.linalg.norm(gradapprox))
    assert difference < 2e-7
    tensors = [gg.Tensor(parameters[k], requires_grad=True, name=k) for k in _KEYS]
    result = gg.gradcheck(lambda *p: _forward_propagation_n(X, Y, dict(zip(_KEYS, p))), tensors)
    assert [p.input_label for p in result.pairs] == [f"'{k}' {shapes[k]} float64" for k in _KEYS]
    flat = np.concatenate([np.ravel(pair_grad) for pair_grad in vector_to_dictionary(grad)
                           .values()])
    np.testing.assert_allclose(flat, grad.ravel(), rtol=0)

    # The course's centred difference over a model's own parameters, in place.
    model = nn.Sequential(nn.Linear(4, 5, rng=0), nn.ReLU(), nn.Linear(5, 1, rng=1))

    def cost():
        return nn.binary_cross_entropy_with_logits(model(X.T), Y.T)

    cost().backward()
    for p in model.parameters():
        for index in np.ndindex(p.shape):
            old = p.data[index]
            p.data[index] = old + epsilon
            J_plus = cost().item()
            p.data[index] = old - epsilon
            J_minus = cost().item()
            p.data[index] = old
            assert p.grad[index] == pytest.approx((J_plus - J_minus) / (2 * epsilon),
                                                  rel=1e-5, abs=1e-8)


# -- course 2, week 2: optimization methods ----------------------------------------------------
def _random_mini_batches(X, Y, mini_batch_size=64, seed=0):
    np.random.seed(seed)
    m = X.shape[1]
    permutation = list(np.random.permutation(m))
    shuffled_X, shuffled_Y = X[:, permutation], Y[:, permutation].reshape((1, m))
    return [(shuffled_X[:, k:k + mini_batch_size], shuffled_Y[:, k:k + mini_batch_size])
            for k in range(0, m, mini_batch_size)]


def _schedule_lr_decay(learning_rate0, epoch_num, decay_rate, time_interval=1000):
    return learning_rate0 / (1 + decay_rate * np.floor(epoch_num / time_interval))


def _moons_model(optimizer_name, num_epochs, learning_rate, decay=None, check_steps=0):
    """The course's model(): [2, 5, 2, 1], He initialisation, mini-batches of 64 reshuffled with
    seed + 1 each epoch; gradient descent, momentum or Adam with optim. Its first
    ``check_steps`` steps are checked against the course's update rules in numpy."""
    np.random.seed(3)
    train_X, train_Y = make_moons(n_samples=300, noise=0.2)
    X, Y = train_X.T, train_Y.reshape((1, -1)).astype(float)
    np.random.seed(3)
    layers_dims, parameters = [2, 5, 2, 1], {}
    for l in range(1, 4):
        parameters["W" + str(l)] = gg.Tensor(np.random.randn(layers_dims[l], layers_dims[l - 1])
                                             * np.sqrt(2 / layers_dims[l - 1]), requires_grad=True)
        parameters["b" + str(l)] = gg.Tensor(np.zeros((layers_dims[l], 1)), requires_grad=True)
    params = list(parameters.values())
    optimizer = {"gd": lambda: optim.SGD(params, lr=learning_rate),
                 "momentum": lambda: optim.SGD(params, lr=learning_rate, momentum=0.9),
                 "adam": lambda: optim.Adam(params, lr=learning_rate)}[optimizer_name]()
    reference = {k: p.data.copy() for k, p in parameters.items()}
    v = {k: np.zeros_like(p) for k, p in reference.items()}
    s = {k: np.zeros_like(p) for k, p in reference.items()}
    seed, t, costs = 10, 0, []

    def forward(X, P):
        A1 = gg.relu(np.dot(P["W1"], X) + P["b1"])
        A2 = gg.relu(np.dot(P["W2"], A1) + P["b2"])
        return np.dot(P["W3"], A2) + P["b3"]

    for epoch in range(num_epochs):
        seed += 1
        cost_total = 0.0
        for minibatch_X, minibatch_Y in _random_mini_batches(X, Y, 64, seed):
            cost = nn.binary_cross_entropy_with_logits(forward(minibatch_X, parameters),
                                                       minibatch_Y)
            optimizer.zero_grad()
            cost.backward()
            if t < check_steps:  # update_parameters_with_momentum / _with_adam, by hand
                grads = {k: p.grad for k, p in parameters.items()}
            optimizer.step()
            t += 1
            cost_total += cost.item() * minibatch_X.shape[1]
            if t <= check_steps:
                for k in reference:
                    g = grads[k]
                    if optimizer_name == "momentum":
                        v[k] = 0.9 * v[k] + 0.1 * g
                        reference[k] = reference[k] - learning_rate * v[k]
                    elif optimizer_name == "adam":
                        v[k] = 0.9 * v[k] + 0.1 * g
                        s[k] = 0.999 * s[k] + 0.001 * g ** 2
                        v_corrected, s_corrected = v[k] / (1 - 0.9 ** t), s[k] / (1 - 0.999 ** t)
                        reference[k] = reference[k] - learning_rate * v_corrected / (
                            np.sqrt(s_corrected) + 1e-8)
                    else:
                        reference[k] = reference[k] - learning_rate * g
                    np.testing.assert_allclose(parameters[k].data, reference[k], rtol=1e-10,
                                               atol=1e-15)
                    reference[k] = parameters[k].data.copy()  # go on from the same point
        costs.append(cost_total / X.shape[1])
        if decay is not None:
            optimizer.lr = decay(epoch)
    with gg.no_grad():
        accuracy = ((forward(X, parameters).data > 0) == Y).mean()
    return accuracy, costs, optimizer


def test_optimization_methods_follow_the_courses_update_rules_on_moons():
    results = {name: _moons_model(name, 120, 0.005, check_steps=12)
               for name in ("gd", "momentum", "adam")}
    # the course's ranking, reached sooner at a larger learning rate than its 0.0007
    assert results["adam"][0] > 0.9 > 0.7 > results["momentum"][0]
    assert results["adam"][1][-1] < 0.3 < results["momentum"][1][-1]
    assert results["momentum"][1][-1] == pytest.approx(results["gd"][1][-1], abs=0.01)
    mini = _random_mini_batches(np.arange(148.0).reshape(2, 74), np.ones((1, 74)), 64, 0)
    assert [mx.shape for mx, _ in mini] == [(2, 64), (2, 10)]


def test_learning_rate_decay_with_the_courses_schedule():
    decay = optim.InverseTimeDecay(0.5, decay_rate=0.3, time_interval=100)
    for epoch in (0, 10, 99, 100, 250, 1000):
        assert decay(epoch) == pytest.approx(_schedule_lr_decay(0.5, epoch, 0.3, 100),
                                             rel=1e-15)
    assert optim.InverseTimeDecay(0.5, 1)(2) == 0.5 / 3   # update_lr(0.5, 2, 1)
    lrs = []
    accuracy, costs, optimizer = _moons_model(
        "adam", 60, 0.1, decay=lambda epoch: lrs.append(_schedule_lr_decay(0.1, epoch + 1, 1,
                                                                           20)) or lrs[-1])
    assert optimizer.lr == pytest.approx(0.1 / 4) and accuracy > 0.85


# -- course 2, week 3: the TensorFlow introduction, in graphgrad ---------------------------------
def test_one_hot_and_a_three_layer_network_on_digits():
    labels = np.array([1, 2, 3, 0, 2, 1])
    np.testing.assert_array_equal(data.one_hot(labels, 4), np.eye(4)[labels])
    np.testing.assert_array_equal(data.one_hot(labels.reshape(1, -1), 4).T[:, 0], [0, 1, 0, 0])
    digits = load_digits()
    X, Y = digits.data / 16.0, digits.target
    (X_train, Y_train), (X_test, Y_test) = (X[:1400], Y[:1400]), (X[1400:], Y[1400:])
    model = nn.Sequential(nn.Linear(64, 25, rng=1), nn.ReLU(), nn.Linear(25, 12, rng=2),
                          nn.ReLU(), nn.Linear(12, 10, rng=3))
    history = gg.fit(model, nn.cross_entropy, optim.Adam(model.parameters(), lr=0.01),
                     (X_train, data.one_hot(Y_train, 10)), epochs=15, batch_size=32,
                     progress=False)
    with gg.no_grad():
        logits = model(X_test)
        cost = nn.cross_entropy(logits, data.one_hot(Y_test, 10))
    z = logits.data - logits.data.max(axis=1, keepdims=True)
    log_softmax = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    assert cost.item() == pytest.approx(-log_softmax[np.arange(len(Y_test)), Y_test].mean(),
                                        rel=1e-12)
    assert history["accuracy"][-1] > 0.95 and (logits.data.argmax(axis=1) == Y_test).mean() > 0.9
