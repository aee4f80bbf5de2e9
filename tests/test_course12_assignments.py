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


def _cat_images(m, rng):
    """64x64x3 "cat vs non-cat" images: a cat's red channel is brighter on average."""
    Y = (rng.random((1, m)) < 0.35).astype(int)
    X = rng.integers(0, 200, (m, 64, 64, 3))
    X[Y[0] == 1, :, :, 0] += rng.integers(0, 40, (int(Y.sum()), 64, 64))
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
        _, _, costs = _optimize(w, b, train_x, train_y, 101, learning_rate)
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
    from graphgrad.data import planar_dataset
    X, Y = planar_dataset()
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
    with gg.no_grad():                                   # update_parameters, as the course
        for l in (1, 2, 3):
            for name in ("W" + str(l), "b" + str(l)):
                parameters[name] -= 0.1 * parameters[name].grad
    np.testing.assert_allclose(parameters["W1"].data,
                               caches[0][0][1].data, rtol=0)  # in place: the same array


def test_deep_network_with_nn_matches_the_tensor_version():
    from graphgrad import nn
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
    from graphgrad import nn
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
