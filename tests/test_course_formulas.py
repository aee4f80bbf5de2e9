"""Training runs of several steps against the course's assignment code, written here in numpy
in the course's layout (examples as columns, X: (n_x, m)) from its formulas: mini-batches,
gradient descent, momentum and Adam with learning-rate decay (course 2, week 2), L2
regularisation and inverted dropout (course 2, week 1), batch normalisation (course 2,
week 3), logistic and softmax regression (courses 1 and 2). graphgrad runs batch-first, so
its X is the course's X.T, its Linear's W the course's W and its b the course's b.ravel().

The single updates and values are pinned in test_optim.py, test_nn_layers.py and
test_nn_losses.py; these check that the pieces, put together as `fit` puts them, take the
course's path step after step."""
import math

import numpy as np
import pytest

import graphgrad as gg
from graphgrad import nn, optim
from graphgrad.data import minibatches

RTOL, ATOL = 1e-12, 1e-14


# -- the course's code, in numpy, examples as columns -------------------------------------------
def sigmoid(Z):
    return 1 / (1 + np.exp(-Z))


def relu(Z):
    return np.maximum(0, Z)


def random_mini_batches(X, Y, mini_batch_size=64, seed=0):
    """The course's: np.random.seed(seed); np.random.permutation(m), here without touching
    numpy's global generator (RandomState(seed) is the generator np.random.seed resets)."""
    m = X.shape[1]
    permutation = list(np.random.RandomState(seed).permutation(m))
    shuffled_X = X[:, permutation]
    shuffled_Y = Y[:, permutation].reshape((1, m))
    mini_batches = []
    num_complete_minibatches = math.floor(m / mini_batch_size)
    for k in range(num_complete_minibatches):
        mini_batches.append((shuffled_X[:, k * mini_batch_size:(k + 1) * mini_batch_size],
                             shuffled_Y[:, k * mini_batch_size:(k + 1) * mini_batch_size]))
    if m % mini_batch_size != 0:
        start = num_complete_minibatches * mini_batch_size
        mini_batches.append((shuffled_X[:, start:m], shuffled_Y[:, start:m]))
    return mini_batches


def initialize_parameters(layers_dims, seed):
    """He initialisation, randn(n[l], n[l-1]) * sqrt(2 / n[l-1]), with biases made nonzero
    so that a mistake in db shows."""
    rng = np.random.default_rng(seed)
    parameters = {}
    for l in range(1, len(layers_dims)):
        parameters[f"W{l}"] = (rng.standard_normal((layers_dims[l], layers_dims[l - 1]))
                               * np.sqrt(2 / layers_dims[l - 1]))
        parameters[f"b{l}"] = rng.standard_normal((layers_dims[l], 1)) * 0.1
    return parameters


def forward_propagation(X, parameters, keep_prob=1.0, rand=None):
    """LINEAR -> RELU -> LINEAR -> RELU -> LINEAR -> SIGMOID, with inverted dropout after
    each RELU when keep_prob < 1: D = rand(A.shape) < keep_prob; A = A * D / keep_prob.
    ``rand(l, shape)`` gives layer l's uniform draws."""
    p = parameters
    Z1 = p["W1"] @ X + p["b1"]
    A1 = relu(Z1)
    D1 = np.ones_like(A1)
    if keep_prob < 1:
        D1 = (rand(1, A1.shape) < keep_prob).astype(int)
        A1 = A1 * D1 / keep_prob
    Z2 = p["W2"] @ A1 + p["b2"]
    A2 = relu(Z2)
    D2 = np.ones_like(A2)
    if keep_prob < 1:
        D2 = (rand(2, A2.shape) < keep_prob).astype(int)
        A2 = A2 * D2 / keep_prob
    Z3 = p["W3"] @ A2 + p["b3"]
    A3 = sigmoid(Z3)
    return A3, (Z1, D1, A1, Z2, D2, A2, Z3, A3)


def compute_cost(A3, Y):
    """The optimisation assignment's: the sum over the mini-batch (divided by m per epoch)."""
    return np.sum(-(Y * np.log(A3) + (1 - Y) * np.log(1 - A3)))


def l2_cost(parameters, lambd, m):
    return lambd / (2 * m) * sum(np.sum(np.square(parameters[f"W{l}"])) for l in (1, 2, 3))


def backward_propagation(X, Y, parameters, cache, lambd=0.0, keep_prob=1.0):
    """dZ3 = A3 - Y; dW[l] = 1/m dZ[l] A[l-1].T + lambd/m W[l]; db[l] = 1/m sum dZ[l];
    dA[l] = dA[l] * D[l] / keep_prob, the forward pass's masks."""
    m = X.shape[1]
    p = parameters
    Z1, D1, A1, Z2, D2, A2, Z3, A3 = cache
    dZ3 = A3 - Y
    grads = {"dW3": 1 / m * dZ3 @ A2.T + lambd / m * p["W3"],
             "db3": 1 / m * np.sum(dZ3, axis=1, keepdims=True)}
    dA2 = p["W3"].T @ dZ3
    dA2 = dA2 * D2 / keep_prob
    dZ2 = dA2 * (A2 > 0)
    grads["dW2"] = 1 / m * dZ2 @ A1.T + lambd / m * p["W2"]
    grads["db2"] = 1 / m * np.sum(dZ2, axis=1, keepdims=True)
    dA1 = p["W2"].T @ dZ2
    dA1 = dA1 * D1 / keep_prob
    dZ1 = dA1 * (A1 > 0)
    grads["dW1"] = 1 / m * dZ1 @ X.T + lambd / m * p["W1"]
    grads["db1"] = 1 / m * np.sum(dZ1, axis=1, keepdims=True)
    return grads


def update_parameters_with_gd(parameters, grads, learning_rate):
    return {key: value - learning_rate * grads["d" + key] for key, value in parameters.items()}


def update_parameters_with_momentum(parameters, grads, v, beta, learning_rate):
    out = {}
    for key, value in parameters.items():
        v["d" + key] = beta * v["d" + key] + (1 - beta) * grads["d" + key]
        out[key] = value - learning_rate * v["d" + key]
    return out, v


def update_parameters_with_adam(parameters, grads, v, s, t, learning_rate, beta1=0.9,
                                beta2=0.999, epsilon=1e-8):
    out = {}
    for key, value in parameters.items():
        d = "d" + key
        v[d] = beta1 * v[d] + (1 - beta1) * grads[d]
        v_corrected = v[d] / (1 - beta1 ** t)
        s[d] = beta2 * s[d] + (1 - beta2) * np.square(grads[d])
        s_corrected = s[d] / (1 - beta2 ** t)
        out[key] = value - learning_rate * v_corrected / (np.sqrt(s_corrected) + epsilon)
    return out, v, s


def update_lr(learning_rate0, epoch_num, decay_rate):
    return 1 / (1 + decay_rate * epoch_num) * learning_rate0


def schedule_lr_decay(learning_rate0, epoch_num, decay_rate, time_interval=1000):
    return 1 / (1 + decay_rate * np.floor(epoch_num / time_interval)) * learning_rate0


def course_model(X, Y, parameters, optimizer, learning_rate, mini_batch_size, num_epochs,
                 decay=None, decay_rate=1.0, beta=0.9):
    """The optimisation assignment's model(): the epoch's cost, then the rate decayed after
    each epoch; the Adam counter t counts the mini-batches."""
    v = {"d" + key: np.zeros_like(value) for key, value in parameters.items()}
    s = {"d" + key: np.zeros_like(value) for key, value in parameters.items()}
    t, seed, m = 0, 10, X.shape[1]
    learning_rate0 = learning_rate
    costs, rates = [], []
    for i in range(num_epochs):
        seed = seed + 1
        cost_total = 0
        rates.append(learning_rate)
        for minibatch_X, minibatch_Y in random_mini_batches(X, Y, mini_batch_size, seed):
            a3, cache = forward_propagation(minibatch_X, parameters)
            cost_total += compute_cost(a3, minibatch_Y)
            grads = backward_propagation(minibatch_X, minibatch_Y, parameters, cache)
            if optimizer == "gd":
                parameters = update_parameters_with_gd(parameters, grads, learning_rate)
            elif optimizer == "momentum":
                parameters, v = update_parameters_with_momentum(parameters, grads, v, beta,
                                                                learning_rate)
            else:
                t = t + 1
                parameters, v, s = update_parameters_with_adam(parameters, grads, v, s, t,
                                                               learning_rate)
        costs.append(cost_total / m)
        if decay:
            learning_rate = decay(learning_rate0, i, decay_rate)
    return parameters, costs, rates


# -- the same in graphgrad ----------------------------------------------------------------------
def three_layer_model(parameters, keep_prob=1.0, seeds=(None, None)):
    layers = [nn.Linear(2, 5), nn.ReLU()]
    if keep_prob < 1:
        layers.append(nn.Dropout(keep_prob, rng=seeds[0]))
    layers += [nn.Linear(5, 2), nn.ReLU()]
    if keep_prob < 1:
        layers.append(nn.Dropout(keep_prob, rng=seeds[1]))
    layers.append(nn.Linear(2, 1))
    model = nn.Sequential(*layers)
    load(model, parameters)
    return model


def linears(model):
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def load(model, parameters):
    for l, layer in enumerate(linears(model), start=1):
        layer.W.data = parameters[f"W{l}"].copy()
        layer.b.data = parameters[f"b{l}"].ravel().copy()


def assert_same_parameters(model, parameters):
    for l, layer in enumerate(linears(model), start=1):
        np.testing.assert_allclose(layer.W.data, parameters[f"W{l}"], rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(layer.b.data, parameters[f"b{l}"].ravel(), rtol=RTOL,
                                   atol=ATOL)


class CourseBatches:
    """The course's batches of each epoch, by the recipe `minibatches` gives: the course's
    permutation, then cut in order. Epoch i uses seed 11 + i, as the course's model()."""

    def __init__(self, X, Y, batch_size):
        self.X, self.Y, self.batch_size, self.seed = X, Y, batch_size, 10

    def __iter__(self):  # a generator: the epoch's seed is taken once its batches are read
        self.seed += 1
        perm = np.random.RandomState(self.seed).permutation(len(self.X))
        yield from minibatches(self.X[perm], self.Y[perm], self.batch_size, shuffle=False)


def moons(m=150, seed=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((2, m))
    Y = (X[0] * X[1] + 0.3 * rng.standard_normal(m) > 0).astype(float).reshape(1, m)
    return X, Y


# -- mini-batches -------------------------------------------------------------------------------
@pytest.mark.parametrize("m, size", [(148, 64), (128, 64), (5, 8)])
def test_minibatches_with_the_documented_permutation_are_random_mini_batches(m, size):
    X, Y = moons(m)
    seed = 7
    course = random_mini_batches(X, Y, size, seed)
    perm = np.random.RandomState(seed).permutation(m)
    ours = minibatches(X.T[perm], Y.T[perm], size, shuffle=False)
    assert [Xb.shape[0] for Xb, _ in ours] == [Xb.shape[1] for Xb, _ in course]
    for (Xb, Yb), (Xc, Yc) in zip(ours, course):
        np.testing.assert_array_equal(Xb, Xc.T)
        np.testing.assert_array_equal(Yb, Yc.T)


def test_a_seed_shuffles_minibatches_with_a_generator_permutation():
    """What the docstring says a seed gives: default_rng(seed).permutation(m), not the
    course's order."""
    X, Y = moons(148)
    ours = minibatches(X.T, Y.T, 64, seed=5)
    perm = np.random.default_rng(5).permutation(148)
    np.testing.assert_array_equal(np.concatenate([Xb for Xb, _ in ours]), X.T[perm])
    course = np.concatenate([Xc for Xc, _ in random_mini_batches(X, Y, 64, 5)], axis=1)
    assert not np.array_equal(np.concatenate([Xb for Xb, _ in ours]), course.T)


# -- optimisation: the assignment's model(), epoch after epoch ---------------------------------
OPTIMIZERS = {
    "gd": lambda params, lr: optim.SGD(params, lr=lr),
    "momentum": lambda params, lr: optim.SGD(params, lr=lr, momentum=0.9),
    "adam": lambda params, lr: optim.Adam(params, lr=lr),
}


@pytest.mark.parametrize("decay", [None, "update_lr", "schedule_lr_decay"])
@pytest.mark.parametrize("kind", list(OPTIMIZERS))
def test_fit_takes_the_course_models_steps(kind, decay):
    """fit sets the rate before each epoch from schedule(epoch); the course's model() decays
    it after epoch i to decay(alpha0, i): its epoch e trains with decay(alpha0, e - 1). The
    schedule the schedules' docstring gives for that reproduces the course's run."""
    X, Y = moons()
    parameters = initialize_parameters([2, 5, 2, 1], seed=1)
    lr, epochs, decay_rate = 0.05, 4, 0.7
    course_decay = {None: None, "update_lr": update_lr,
                    "schedule_lr_decay": lambda a0, e, r: schedule_lr_decay(a0, e, r, 2)}[decay]
    expected, costs, rates = course_model(X, Y, parameters, kind, lr, 32, epochs,
                                          course_decay, decay_rate)

    model = three_layer_model(parameters)
    schedule = None
    if decay is not None:
        decayed = optim.InverseTimeDecay(lr, decay_rate,
                                         time_interval=2 if decay == "schedule_lr_decay" else 1)
        schedule = lambda epoch: decayed(max(epoch - 1, 0))  # noqa: E731
        assert rates[2:] == pytest.approx([decayed(e) for e in range(1, epochs - 1)], rel=1e-15)
    history = gg.fit(model, nn.binary_cross_entropy_with_logits,
                     OPTIMIZERS[kind](model.parameters(), lr), CourseBatches(X.T, Y.T, 32),
                     epochs, seed=None, schedule=schedule, progress=False)
    assert history["lr"] == pytest.approx(rates, rel=1e-15)
    np.testing.assert_allclose(history["cost"], costs, rtol=RTOL)
    assert_same_parameters(model, expected)


# -- regularisation: the assignment's model() with lambd or keep_prob, full batch ---------------
def course_regularised_model(X, Y, parameters, learning_rate, num_iterations, lambd=0.0,
                             keep_prob=1.0, rand=None, adam=False):
    m = X.shape[1]
    v = {"d" + key: np.zeros_like(value) for key, value in parameters.items()}
    s = {"d" + key: np.zeros_like(value) for key, value in parameters.items()}
    costs, penalties = [], []
    for i in range(num_iterations):
        a3, cache = forward_propagation(X, parameters, keep_prob, rand)
        penalties.append(l2_cost(parameters, lambd, m))
        costs.append(compute_cost(a3, Y) / m + penalties[-1])
        grads = backward_propagation(X, Y, parameters, cache, lambd, keep_prob)
        if adam:
            parameters, v, s = update_parameters_with_adam(parameters, grads, v, s, i + 1,
                                                           learning_rate)
        else:
            parameters = update_parameters_with_gd(parameters, grads, learning_rate)
    return parameters, costs, penalties


@pytest.mark.parametrize("how", ["l2_penalty", "SGD weight_decay", "Adam l2_penalty",
                                 "Adam weight_decay"])
def test_l2_regularisation_takes_the_course_steps(how):
    """cost + lambd/(2m) sum ||W[l]||_F^2, dW[l] += lambd/m W[l], the biases left alone;
    as the penalty in the cost, or as weight_decay on a group of the weights only."""
    X, Y = moons(40)
    m, lambd, lr, steps = 40, 0.7, 0.05, 4
    parameters = initialize_parameters([2, 5, 2, 1], seed=2)
    adam = how.startswith("Adam")
    expected, costs, penalties = course_regularised_model(X, Y, parameters, lr, steps,
                                                          lambd=lambd, adam=adam)
    model = three_layer_model(parameters)
    make = optim.Adam if adam else optim.SGD
    if how.endswith("weight_decay"):
        weights = [layer.W for layer in linears(model)]
        biases = [layer.b for layer in linears(model)]
        optimizer = make([{"params": weights, "weight_decay": lambd / m},
                          {"params": biases}], lr=lr)
        history = gg.fit(model, nn.binary_cross_entropy_with_logits, optimizer,
                         [(X.T, Y.T)], steps, seed=None, progress=False)
        costs = np.subtract(costs, penalties)  # the L2 term is not in J: weight_decay adds it
    else:
        def loss(Z, Y_batch):
            return (nn.binary_cross_entropy_with_logits(Z, Y_batch)
                    + nn.l2_penalty(model, lambd, len(Y_batch)))
        history = gg.fit(model, loss, make(model.parameters(), lr=lr), [(X.T, Y.T)], steps,
                         seed=None, progress=False)
    np.testing.assert_allclose(history["cost"], costs, rtol=RTOL)
    assert_same_parameters(model, expected)


def test_weight_decay_on_every_parameter_decays_the_biases_too():
    """weight_decay on model.parameters() is not the course's L2: the biases decay as well,
    so b moves by alpha lambd/m b more than the course's step."""
    X, Y = moons(40)
    m, lambd, lr = 40, 0.7, 0.05
    parameters = initialize_parameters([2, 5, 2, 1], seed=2)
    expected, _, _ = course_regularised_model(X, Y, parameters, lr, 1, lambd=lambd)
    model = three_layer_model(parameters)
    gg.fit(model, nn.binary_cross_entropy_with_logits,
           optim.SGD(model.parameters(), lr=lr, weight_decay=lambd / m), [(X.T, Y.T)], 1,
           seed=None, progress=False)
    for l, layer in enumerate(linears(model), start=1):
        np.testing.assert_allclose(layer.W.data, expected[f"W{l}"], rtol=RTOL)
        np.testing.assert_allclose(layer.b.data, expected[f"b{l}"].ravel()
                                   - lr * lambd / m * parameters[f"b{l}"].ravel(), rtol=RTOL)


@pytest.mark.parametrize("keep_prob", [0.86, 0.7])
def test_inverted_dropout_takes_the_course_steps_with_the_layers_masks(keep_prob):
    """D = rand < keep_prob, A = A * D / keep_prob, dA = dA * D / keep_prob with the same D,
    a new mask each step; rand is the layer's generator's uniform draws, batch-first, so the
    course's mask of shape (n, m) is the transpose of the draws of shape (m, n)."""
    X, Y = moons(30)
    lr, steps = 0.1, 4
    parameters = initialize_parameters([2, 5, 2, 1], seed=4)
    generators = {1: np.random.default_rng(21), 2: np.random.default_rng(22)}

    def rand(layer, shape):
        return generators[layer].random(shape[::-1]).T

    expected, costs, _ = course_regularised_model(X, Y, parameters, lr, steps,
                                                  keep_prob=keep_prob, rand=rand)
    model = three_layer_model(parameters, keep_prob, seeds=(21, 22))
    masks = []
    dropouts = [layer for layer in model.modules() if isinstance(layer, nn.Dropout)]

    def loss(Z, Y_batch):
        masks.append([layer.D.data.copy() for layer in dropouts])
        return nn.binary_cross_entropy_with_logits(Z, Y_batch)

    history = gg.fit(model, loss, optim.SGD(model.parameters(), lr=lr), [(X.T, Y.T)], steps,
                     seed=None, progress=False)
    np.testing.assert_allclose(history["cost"], costs, rtol=RTOL)
    assert_same_parameters(model, expected)
    assert not np.array_equal(masks[0][0], masks[1][0])  # a new mask each step

    model.eval()  # off at evaluation: the course's forward_propagation without dropout
    a3, _ = forward_propagation(X, expected)
    np.testing.assert_allclose(gg.sigmoid(model(X.T)).data, a3.T, rtol=RTOL)


# -- batch normalisation (course 2, week 3) -----------------------------------------------------
def batchnorm_forward(Z, gamma, beta, eps):
    """mu = 1/m sum z(i), sigma2 = 1/m sum (z(i) - mu)^2, z_norm = (z - mu) / sqrt(sigma2 + eps),
    z_tilde = gamma z_norm + beta, per unit (row) over the m examples (columns)."""
    mu = np.mean(Z, axis=1, keepdims=True)
    sigma2 = np.mean((Z - mu) ** 2, axis=1, keepdims=True)
    Z_norm = (Z - mu) / np.sqrt(sigma2 + eps)
    return gamma * Z_norm + beta, Z_norm, mu, sigma2


def test_batchnorm_trains_by_the_course_formulas_and_predicts_with_running_averages():
    """X -> W1 X (no b1: beta takes its place) -> batch norm -> ReLU -> W2 A1 + b2 ->
    sigmoid, by mini-batch gradient descent; the running averages of mu and sigma2
    (momentum * running + (1 - momentum) * batch) then normalise at test time."""
    X, Y = moons(40, seed=5)
    X_test, _ = moons(7, seed=6)
    rng = np.random.default_rng(7)
    W1, W2 = rng.standard_normal((4, 2)), rng.standard_normal((1, 4)) * 0.5
    gamma, beta = rng.uniform(0.5, 1.5, (4, 1)), rng.standard_normal((4, 1)) * 0.1
    b2 = np.array([[0.2]])
    lr, momentum, eps, epochs = 0.1, 0.8, 1e-5, 3
    running_mean, running_var = np.zeros((4, 1)), np.ones((4, 1))

    model = nn.Sequential(nn.Linear(2, 4, bias=False), nn.BatchNorm1d(4, momentum=momentum),
                          nn.ReLU(), nn.Linear(4, 1))
    first, bn, _, second = model
    first.W.data, second.W.data, second.b.data = W1.copy(), W2.copy(), b2.ravel().copy()
    bn.gamma.data, bn.beta.data = gamma.ravel().copy(), beta.ravel().copy()
    history = gg.fit(model, nn.binary_cross_entropy_with_logits,
                     optim.SGD(model.parameters(), lr=lr), CourseBatches(X.T, Y.T, 16), epochs,
                     seed=None, progress=False)

    seed, costs = 10, []
    for _ in range(epochs):
        seed += 1
        cost_total = 0.0
        for Xb, Yb in random_mini_batches(X, Y, 16, seed):
            m = Xb.shape[1]
            Z1 = W1 @ Xb
            Z_tilde, Z_norm, mu, sigma2 = batchnorm_forward(Z1, gamma, beta, eps)
            A1 = relu(Z_tilde)
            A2 = sigmoid(W2 @ A1 + b2)
            cost_total += compute_cost(A2, Yb)
            running_mean = momentum * running_mean + (1 - momentum) * mu
            running_var = momentum * running_var + (1 - momentum) * sigma2
            dZ2 = A2 - Yb
            dW2, db2 = dZ2 @ A1.T / m, np.sum(dZ2, axis=1, keepdims=True) / m
            dZ_tilde = (W2.T @ dZ2) * (Z_tilde > 0)
            dgamma = np.sum(dZ_tilde * Z_norm, axis=1, keepdims=True) / m
            dbeta = np.sum(dZ_tilde, axis=1, keepdims=True) / m
            dZ_norm = dZ_tilde * gamma
            dZ1 = (dZ_norm - np.mean(dZ_norm, axis=1, keepdims=True)
                   - Z_norm * np.mean(dZ_norm * Z_norm, axis=1, keepdims=True)) \
                / np.sqrt(sigma2 + eps)
            dW1 = dZ1 @ Xb.T / m
            W1, W2, b2 = W1 - lr * dW1, W2 - lr * dW2, b2 - lr * db2
            gamma, beta = gamma - lr * dgamma, beta - lr * dbeta
        costs.append(cost_total / X.shape[1])

    np.testing.assert_allclose(history["cost"], costs, rtol=RTOL)
    for got, expected in ((first.W, W1), (second.W, W2), (second.b, b2), (bn.gamma, gamma),
                          (bn.beta, beta)):
        np.testing.assert_allclose(got.data, expected.reshape(got.shape), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(bn.running_mean, running_mean.ravel(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(bn.running_var, running_var.ravel(), rtol=RTOL)

    model.eval()
    Z_norm = (W1 @ X_test - running_mean) / np.sqrt(running_var + eps)
    expected = sigmoid(W2 @ relu(gamma * Z_norm + beta) + b2)
    np.testing.assert_allclose(gg.sigmoid(model(X_test.T)).data, expected.T, rtol=RTOL)


# -- the costs and their dZ: logistic regression (course 1), softmax regression (course 2) ------
@pytest.mark.parametrize("cost", ["binary_cross_entropy_with_logits", "binary_cross_entropy"])
def test_logistic_regression_takes_the_course_optimize_steps(cost):
    """propagate: A = sigmoid(w.T X + b), J = -1/m sum(Y log A + (1 - Y) log(1 - A)),
    dw = 1/m X (A - Y).T, db = 1/m sum(A - Y); optimize: w -= alpha dw, b -= alpha db. On
    logits, or on probabilities A, whose dA = -(Y/A - (1-Y)/(1-A)) / m leads to the same dZ."""
    X, Y = moons(25, seed=8)
    rng = np.random.default_rng(9)
    w, b = rng.standard_normal((2, 1)), 0.3
    lr, steps = 0.5, 5
    layer = nn.Linear(2, 1)
    layer.W.data, layer.b.data = w.T.copy(), np.array([b])
    if cost == "binary_cross_entropy":
        def loss(Z, Y_batch):
            return nn.binary_cross_entropy(gg.sigmoid(Z), Y_batch)
    else:
        loss = nn.binary_cross_entropy_with_logits
    history = gg.fit(layer, loss, optim.SGD(layer.parameters(), lr=lr), [(X.T, Y.T)], steps,
                     seed=None, progress=False)

    m, costs = X.shape[1], []
    for _ in range(steps):
        A = sigmoid(w.T @ X + b)
        costs.append(-1 / m * np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)))
        dw, db = 1 / m * X @ (A - Y).T, 1 / m * np.sum(A - Y)
        w, b = w - lr * dw, b - lr * db
    np.testing.assert_allclose(history["cost"], costs, rtol=RTOL)
    np.testing.assert_allclose(layer.W.data, w.T, rtol=RTOL)
    np.testing.assert_allclose(layer.b.data, [b], rtol=RTOL)


@pytest.mark.parametrize("labels", ["indices", "one-hot"])
def test_softmax_regression_takes_the_course_steps(labels):
    """A = softmax(Z) over the C classes, J = -1/m sum Y log A, dZ = A - Y (over m)."""
    rng = np.random.default_rng(10)
    C, n_x, m, lr, steps = 3, 4, 12, 0.3, 4
    X = rng.standard_normal((n_x, m))
    classes = rng.integers(0, C, m)
    Y = np.eye(C)[:, classes]  # (C, m), one column per example
    W, b = rng.standard_normal((C, n_x)) * 0.5, rng.standard_normal((C, 1)) * 0.1
    layer = nn.Linear(n_x, C)
    layer.W.data, layer.b.data = W.copy(), b.ravel().copy()
    history = gg.fit(layer, nn.cross_entropy, optim.SGD(layer.parameters(), lr=lr),
                     [(X.T, classes if labels == "indices" else Y.T)], steps, seed=None,
                     progress=False)

    costs = []
    for _ in range(steps):
        Z = W @ X + b
        A = np.exp(Z - Z.max(axis=0)) / np.sum(np.exp(Z - Z.max(axis=0)), axis=0)
        costs.append(-1 / m * np.sum(Y * np.log(A)))
        dZ = A - Y
        W, b = W - lr * dZ @ X.T / m, b - lr * np.sum(dZ, axis=1, keepdims=True) / m
    np.testing.assert_allclose(history["cost"], costs, rtol=RTOL)
    np.testing.assert_allclose(layer.W.data, W, rtol=RTOL)
    np.testing.assert_allclose(layer.b.data, b.ravel(), rtol=RTOL, atol=ATOL)


# -- initialisation (course 2, week 1) ----------------------------------------------------------
@pytest.mark.parametrize("init, scale", [
    ("zeros", lambda n_prev: 0.0),
    ("small_random", lambda n_prev: 0.01),
    ("xavier", lambda n_prev: np.sqrt(1 / n_prev)),
    ("he", lambda n_prev: np.sqrt(2 / n_prev)),
])
def test_initialisers_are_the_course_draws_scaled_by_n_l_minus_1(init, scale):
    """W[l] = randn(n[l], n[l-1]) * scale(n[l-1]), b[l] = 0, the normal draws from the
    layer's generator: the scale is from n[l-1] = n_in, not n[l]."""
    for n_prev, n in ((3, 5), (6, 2)):
        layer = nn.Linear(n_prev, n, init=init, rng=4)
        draws = np.random.default_rng(4).standard_normal((n, n_prev))
        np.testing.assert_allclose(layer.W.data, draws * scale(n_prev), rtol=RTOL)
        np.testing.assert_array_equal(layer.b.data, np.zeros(n))


def test_random_is_course_1s_and_course_2s_large_random_is_a_scale_of_10():
    """init="random" is course 1's randn * 0.01; course 2's initialisation assignment calls
    randn * 10 "random", which small_random's scale gives."""
    small = nn.Linear(4, 3, init="random", rng=2).W.data
    large = nn.Linear(4, 3, init=lambda shape, rng: nn.init.small_random(shape, rng, scale=10),
                      rng=2).W.data
    draws = np.random.default_rng(2).standard_normal((3, 4))
    np.testing.assert_allclose(small, draws * 0.01, rtol=RTOL)
    np.testing.assert_allclose(large, draws * 10, rtol=RTOL)
