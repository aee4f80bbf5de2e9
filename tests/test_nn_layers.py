"""Layers: gradient checks for every layer (one table), the course's formulas, initialisers,
dropout's statistics and gradients over random shapes, and BatchNorm's train and eval modes
(BatchNorm1d and BatchNorm2d).
LayerNorm has its row in the gradient-check table; its other tests are in test_nn_attention."""
import math
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import graphgrad as gg
from graphgrad import nn, optim
from graphgrad.nn.layers import Affine
from graphgrad.nn.normalization import BatchNorm, BatchNorm2d, BatchNormEval, LayerNormalize

RNG = np.random.default_rng(7)


def _set(layer, **params):
    for name, value in params.items():
        setattr(layer, name, value)
    return layer


def _dropout(X):
    layer = nn.Dropout(keep_prob=0.7)
    layer.reseed(3)  # the same mask on every call, so finite differences see one function
    return layer(X)


def _batchnorm_train(X, gamma, beta):
    return _set(nn.BatchNorm1d(3), gamma=gamma, beta=beta)(X)


def _batchnorm_eval(X, gamma, beta):
    bn = _set(nn.BatchNorm1d(3), gamma=gamma, beta=beta)
    bn.running_mean = np.array([0.5, -1.0, 2.0])
    bn.running_var = np.array([4.0, 0.25, 1.0])
    return bn.eval()(X)


def _batchnorm2d_train(Z, gamma, beta):
    return _set(BatchNorm2d(3), gamma=gamma, beta=beta)(Z)


def _batchnorm2d_eval(Z, gamma, beta):
    bn = _set(BatchNorm2d(3), gamma=gamma, beta=beta)
    bn.running_mean = np.array([0.5, -1.0, 2.0])
    bn.running_var = np.array([4.0, 0.25, 1.0])
    return bn.eval()(Z)


def _layernorm(X, gamma, beta):
    return _set(nn.LayerNorm(4), gamma=gamma, beta=beta)(X)


def _dropout2d(A):
    layer = nn.Dropout2d(keep_prob=0.6)
    layer.reseed(1)  # the same mask on every call
    return layer(A)


# name -> (function of the inputs, input shapes); each input is checked element by element.
LAYERS = {
    "Linear": (lambda X, W, b: _set(nn.Linear(4, 3), W=W, b=b)(X), [(5, 4), (3, 4), (3,)]),
    "Linear without bias": (lambda X, W: _set(nn.Linear(4, 3, bias=False), W=W)(X),
                            [(5, 4), (3, 4)]),
    "Linear on (m, t, n_in)": (lambda X, W, b: nn.linear(X, W, b), [(2, 3, 4), (3, 4), (3,)]),
    "Linear on one example (n_in,)": (lambda x, W, b: nn.linear(x, W, b), [(4,), (3, 4), (3,)]),
    "Linear, the course's bias (1, n_out)": (lambda X, W, b: nn.linear(X, W, b),
                                             [(5, 4), (3, 4), (1, 3)]),
    "Linear on (m, t, n_in), bias (1, n_out)": (lambda X, W, b: nn.linear(X, W, b),
                                                [(2, 3, 4), (3, 4), (1, 3)]),
    "Sigmoid": (lambda Z: nn.Sigmoid()(Z), [(4, 3)]),
    "Tanh": (lambda Z: nn.Tanh()(Z), [(4, 3)]),
    "ReLU": (lambda Z: nn.ReLU()(Z), [(4, 3)]),
    "LeakyReLU": (lambda Z: nn.LeakyReLU(0.1)(Z), [(4, 3)]),
    "Softmax": (lambda Z: nn.Softmax()(Z), [(4, 3)]),
    "Softplus": (lambda Z: nn.Softplus()(Z), [(4, 3)]),
    "ELU": (lambda Z: nn.ELU(0.7)(Z), [(4, 3)]),
    "SiLU": (lambda Z: nn.SiLU()(Z), [(4, 3)]),
    "GELU": (lambda Z: nn.GELU()(Z), [(4, 3)]),
    "Flatten": (lambda X: nn.Flatten()(X), [(2, 3, 2)]),
    "Dropout": (_dropout, [(6, 5)]),
    "BatchNorm1d, train": (_batchnorm_train, [(6, 3), (3,), (3,)]),
    "BatchNorm1d, eval": (_batchnorm_eval, [(6, 3), (3,), (3,)]),
    "BatchNorm2d, train": (_batchnorm2d_train, [(2, 3, 2, 3), (3,), (3,)]),
    "BatchNorm2d, eval": (_batchnorm2d_eval, [(2, 3, 2, 3), (3,), (3,)]),
    "LayerNorm": (_layernorm, [(2, 3, 4), (4,), (4,)]),
    "GroupNorm": (lambda X, gamma, beta: _set(nn.GroupNorm(2, 4), gamma=gamma, beta=beta)(X),
                  [(2, 3, 2, 4), (4,), (4,)]),
    "GroupNorm on sequences": (lambda X, gamma, beta: _set(nn.GroupNorm(3, 3), gamma=gamma,
                                                           beta=beta)(X), [(2, 5, 3), (3,), (3,)]),
    "InstanceNorm2d": (lambda A: nn.InstanceNorm2d(3)(A), [(2, 3, 2, 3)]),
    "AdaptiveAvgPool2d, uneven bins": (lambda A: nn.AdaptiveAvgPool2d((2, 3))(A), [(2, 5, 7, 2)]),
    "AdaptiveAvgPool2d, tiles": (lambda A: nn.AdaptiveAvgPool2d((2, 3))(A), [(2, 4, 6, 2)]),
    "AdaptiveAvgPool2d, rows only": (lambda A: nn.AdaptiveAvgPool2d((3, None))(A),
                                     [(1, 4, 2, 2)]),
    "AdaptiveAvgPool2d, global": (lambda A: nn.AdaptiveAvgPool2d(1)(A), [(2, 3, 5, 2)]),
    "AdaptiveMaxPool2d, uneven bins": (lambda A: nn.AdaptiveMaxPool2d((2, 3))(A),
                                       [(2, 5, 7, 2)]),
    "Upsample, nearest x2": (lambda A: nn.Upsample(2)(A), [(2, 2, 3, 2)]),
    "Upsample, nearest x3 and x1": (lambda A: nn.Upsample((3, 1))(A), [(1, 2, 3, 2)]),
    "Upsample, nearest x1.5": (lambda A: nn.Upsample(1.5)(A), [(2, 3, 5, 1)]),
    "Upsample, bilinear x2": (lambda A: nn.Upsample(2, mode="bilinear")(A), [(2, 2, 3, 2)]),
    "Upsample, bilinear x3": (lambda A: nn.Upsample(3, mode="bilinear")(A), [(1, 3, 2, 2)]),
    "Dropout2d": (_dropout2d, [(4, 2, 3, 5)]),
    "PReLU": (lambda Z, alpha: _set(nn.PReLU(), alpha=alpha)(Z), [(4, 3), (1,)]),
    "PReLU per channel": (lambda Z, alpha: _set(nn.PReLU(3), alpha=alpha)(Z),
                          [(2, 2, 2, 3), (3,)]),
    "LogSoftmax": (lambda Z: nn.LogSoftmax()(Z), [(4, 3)]),
    "Hardtanh": (lambda Z: nn.Hardtanh(-0.5, 0.5)(Z), [(4, 3)]),
    "ReLU6": (lambda Z: nn.ReLU6()(Z * 8.0), [(4, 3)]),
    "Unflatten": (lambda X: nn.Unflatten(1, (2, -1))(X), [(3, 6)]),
    "SELU": (lambda Z: nn.SELU()(Z), [(4, 3)]),
    "CELU": (lambda Z: nn.CELU(0.5)(Z), [(4, 3)]),
    "Mish": (lambda Z: nn.Mish()(Z), [(4, 3)]),
    "Hardsigmoid": (lambda Z: nn.Hardsigmoid()(Z * 5.0), [(4, 3)]),
    "Hardswish": (lambda Z: nn.Hardswish()(Z * 5.0), [(4, 3)]),
    "LogSigmoid": (lambda Z: nn.LogSigmoid()(Z), [(4, 3)]),
    "Softsign": (lambda Z: nn.Softsign()(Z), [(4, 3)]),
    "Tanhshrink": (lambda Z: nn.Tanhshrink()(Z), [(4, 3)]),
    "Hardshrink": (lambda Z: nn.Hardshrink(0.5)(Z), [(4, 3)]),
    "Softshrink": (lambda Z: nn.Softshrink(0.5)(Z), [(4, 3)]),
    "Threshold": (lambda Z: nn.Threshold(0.5, -2.0)(Z), [(4, 3)]),
    "GLU": (lambda Z: nn.GLU()(Z), [(3, 4)]),
    "GLU, axis 0": (lambda Z: nn.GLU(axis=0)(Z), [(4, 3)]),
    "Softmin": (lambda Z: nn.Softmin()(Z), [(4, 3)]),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_every_layer_passes_gradcheck_in_float64(name):
    fn, shapes = LAYERS[name]
    rng = np.random.default_rng(0)
    # Away from ReLU's kink: finite differences across it measure a slope that is not there.
    inputs = [rng.uniform(0.2, 1.0, s) * rng.choice([-1.0, 1.0], s) for s in shapes]
    result = gg.gradcheck(fn, inputs)
    assert result.passed
    assert all(p.relative_difference < 1e-7 for p in result.pairs)


@pytest.mark.parametrize("shapes", [
    [(3, 4), (2, 4), (2,)], [(3, 4), (2, 4)], [(4,), (2, 4), (2,)], [(4,), (2, 4)],
    [(3, 4), (2, 4), (1, 2)],
], ids=["batch", "batch, no bias", "one example", "one example, no bias",
        "batch, the course's bias (1, n_out)"])
def test_affine_second_derivatives(shapes):
    inputs = [RNG.standard_normal(s) for s in shapes]
    assert gg.gradgradcheck(Affine, inputs)


def test_linear_is_the_course_layer_transposed():
    """Z_here = (W[l] A[l-1] + b[l]).T, with layer.W the course's W[l] of shape (n[l], n[l-1])."""
    layer = nn.Linear(4, 3, init="he", rng=0)
    A_course = RNG.standard_normal((4, 5))  # (n[l-1], m), examples in columns
    W, b = layer.W.data, layer.b.data
    Z = layer(A_course.T)
    assert layer.W.shape == (3, 4) and layer.b.shape == (3,)
    np.testing.assert_allclose(Z.data, (W @ A_course + b.reshape(3, 1)).T, rtol=1e-12)

    dZ_course = RNG.standard_normal((3, 5))
    Z.backward(dZ_course.T)
    m_free_dW = dZ_course @ A_course.T  # the course's dW without its 1/m (that is in dZ)
    np.testing.assert_allclose(layer.W.grad, m_free_dW, rtol=1e-12)
    np.testing.assert_allclose(layer.b.grad, dZ_course.sum(axis=1), rtol=1e-12)


def test_first_layer_skips_the_gradient_of_the_data():
    X = gg.Tensor(RNG.standard_normal((5, 4)))
    layer = nn.Linear(4, 3)
    Z = layer(X)
    assert Z.creator.needs_input_grad == (False, True, True)
    Z.sum().backward()
    assert X.grad is None and layer.W.grad is not None


def test_linear_explains_a_transposed_input():
    layer = nn.Linear(4, 3)
    with pytest.raises(gg.OpError, match=r"takes X of shape \(m, 4\).*X\.T"):
        layer(np.ones((4, 10)))


def test_linear_explains_the_course_bias_with_one_example():
    W, b = gg.Tensor(np.ones((2, 3)), name="W"), gg.Tensor(np.ones((1, 2)), name="b")
    with pytest.raises(gg.OpError, match=r"one example X of shape \(3,\) .*b\.reshape\(-1\)"):
        nn.linear(np.ones(3), W, b)
    # either fix the message gives works: Z = W x + b, the course's single example
    one = nn.linear(np.arange(3.0), W, gg.Tensor(b.data.reshape(-1)))
    batch = nn.linear(np.arange(3.0).reshape(1, -1), W, b)
    np.testing.assert_array_equal(one.data, [4.0, 4.0])
    np.testing.assert_array_equal(batch.data, [[4.0, 4.0]])


def test_linear_refuses_one_bias_for_every_unit():
    """A bias of shape (1,) broadcast over the 3 units: forward added b[0] to each of them, and
    backward failed with the shape error of an op that forgot to unbroadcast."""
    W = gg.Tensor(np.ones((3, 2)), name="W")
    b = gg.Tensor(np.array([0.5]), requires_grad=True, name="b")
    with pytest.raises(gg.OpError, match=r"the bias must have shape \(3,\), got \(1,\)"):
        nn.linear(np.ones((4, 2)), W, b)
    b = gg.Tensor(np.full(3, 0.5), requires_grad=True, name="b")  # one per unit
    Z = nn.linear(np.ones((4, 2)), W, b)
    Z.sum().backward()
    np.testing.assert_array_equal(Z.data, np.full((4, 3), 2.5))
    np.testing.assert_array_equal(b.grad, [4.0, 4.0, 4.0])


def test_float32_stays_float32():
    layer = nn.Linear(4, 3, dtype=np.float32)
    Z = layer(np.ones((2, 4), dtype=np.float32))
    Z.sum().backward()
    assert Z.dtype == np.float32 and layer.W.grad.dtype == np.float32
    assert layer.b.grad.dtype == np.float32


def test_data_takes_the_layers_dtype():
    """numpy's default float64 fed to a float32 model stays float32 (as Keras casts inputs);
    a tensor that needs a gradient keeps its own dtype, since its gradient must too."""
    layer = nn.Linear(4, 3, dtype=np.float32, rng=0)
    X = np.random.default_rng(1).standard_normal((2, 4))
    expected = X.astype(np.float32) @ layer.W.data.T + layer.b.data
    for data in (X, gg.Tensor(X, name="X"), nn.Flatten()(X.reshape(2, 2, 2))):
        Z = layer(data)
        assert Z.dtype == np.float32
        np.testing.assert_array_equal(Z.data, expected)
    assert [t.name for t in layer(gg.Tensor(X, name="X")).creator.inputs] == ["X", "W", "b"]
    Z.sum().backward()
    assert layer.W.grad.dtype == layer.b.grad.dtype == np.float32
    wide = nn.Linear(4, 3, rng=0)  # float64 meets float32 data: float64
    assert wide(X.astype(np.float32)).dtype == np.float64
    A = gg.Tensor(X, requires_grad=True)
    layer(A).sum().backward()
    assert A.grad.dtype == np.float64
    norm = nn.BatchNorm1d(4, dtype=np.float32)
    for data in (X, X.round().astype(int), X.tolist()):
        assert norm(data).dtype == np.float32


@pytest.mark.parametrize("m", [1, 3, 64])
def test_bias_gradient_sums_dZ_over_the_examples(m):
    layer = nn.Linear(4, 3, rng=0)
    X = np.random.default_rng(1).standard_normal((m, 4))
    dZ = np.random.default_rng(2).standard_normal((m, 3))
    layer(X).backward(dZ)
    np.testing.assert_allclose(layer.b.grad, dZ.sum(axis=0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.W.grad, dZ.T @ X, rtol=1e-12, atol=1e-12)


# -- initialisers ---------------------------------------------------------------------------------
@pytest.mark.parametrize("init, std", [
    ("he", np.sqrt(2 / 400)),
    ("xavier", np.sqrt(1 / 400)),
    ("glorot", np.sqrt(2 / (400 + 300))),
    ("small_random", 0.01),
])
def test_initialisers_have_the_variance_of_their_formula(init, std):
    W = nn.init.initialize(init, (300, 400), rng=0)
    assert abs(W.mean()) < 0.01 * std * 10
    assert W.std() == pytest.approx(std, rel=0.01)  # 120,000 draws: within 1%


@pytest.mark.parametrize("shape", [5, None, "ab", (3, 2.5), (3, -1), (3, "2"), (3, True), (3, 0)])
def test_initialize_refuses_a_shape_that_is_no_tuple_of_sizes(shape):
    """numpy failed on 'int object is not iterable', a ufunc loop for strings, or negative
    dimensions, and he divided by the fan-in 0."""
    with pytest.raises(gg.ArgumentError, match=r"^nn.init.initialize: shape must be a tuple of "
                                               r"whole numbers >= 1 "):
        nn.init.initialize("he", shape, rng=0)


@pytest.mark.parametrize("window", [0, -1, 2.5, "9", None, True])
def test_initialize_and_glorot_refuse_a_window_that_is_no_whole_number(window):
    """glorot's std was NaN for a window of -1, 2.5 was taken, and '9' failed on int + str;
    other initialisers ignored it."""
    for call, caller in ((lambda: nn.init.initialize("he", (3, 18), rng=0, window=window),
                          "nn.init.initialize"),
                         (lambda: nn.init.initialize("glorot", (3, 18), rng=0, window=window),
                          "nn.init.initialize"),
                         (lambda: nn.init.glorot((3, 18), np.random.default_rng(0), window),
                          "glorot")):
        with pytest.raises(gg.ArgumentError, match=rf"^{caller}: window \(the positions a filter "
                                                   r"covers, f \* f\) must be a whole number"):
            call()


def test_initialize_takes_a_list_shape_and_a_numpy_window():
    W = nn.init.initialize("glorot", [300, 400], rng=0, window=np.int64(4))
    assert W.shape == (300, 400)
    assert W.std() == pytest.approx(np.sqrt(2 / (400 + 300 * 4)), rel=0.01)


def test_zeros_init_and_biases_start_at_zero():
    layer = nn.Linear(3, 2, init="zeros")
    assert not layer.W.data.any() and not layer.b.data.any()


def test_initialisation_is_reproducible_from_a_seed():
    a = nn.Linear(5, 4, rng=42).W.data
    b = nn.Linear(5, 4, rng=np.random.default_rng(42)).W.data
    nn.init.seed(42)
    c = nn.Linear(5, 4).W.data
    nn.init.seed(42)
    d = nn.Linear(5, 4).W.data
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(c, d)
    assert not np.array_equal(a, nn.Linear(5, 4, rng=43).W.data)


def test_custom_and_unknown_initialisers():
    layer = nn.Linear(2, 3, init=lambda shape, rng: np.full(shape, 0.5))
    assert (layer.W.data == 0.5).all()
    with pytest.raises(gg.GraphgradError, match="unknown initialiser 'kaiming'.*'he'"):
        nn.Linear(2, 3, init="kaiming")


# -- dropout --------------------------------------------------------------------------------------
def test_dropout_drops_about_one_minus_keep_prob_and_keeps_the_mean():
    keep_prob = 0.8
    layer = nn.Dropout(keep_prob, rng=0)
    A = np.full((200, 500), 3.0)
    out = layer(A).data
    dropped = np.mean(out == 0)
    assert dropped == pytest.approx(1 - keep_prob, abs=0.005)  # 100,000 draws
    assert out.mean() == pytest.approx(3.0, rel=0.01)
    assert set(np.unique(out)) == {0.0, 3.0 / keep_prob}
    np.testing.assert_array_equal(layer.D.data, out != 0)  # the course's mask D, kept


def test_dropout_gradient_is_the_mask_over_keep_prob():
    layer = nn.Dropout(0.5, rng=1)
    A = gg.Tensor(RNG.standard_normal((4, 6)), requires_grad=True)
    layer(A).sum().backward()
    np.testing.assert_array_equal(A.grad, layer.D.data / 0.5)


@pytest.mark.filterwarnings("ignore::graphgrad.ConventionWarning")  # keep_prob < 0.5 is meant
@given(shape=st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple),
       keep_prob=st.floats(0.2, 0.9), seed=st.integers(0, 2**32 - 1))
def test_dropout_over_random_shapes_passes_gradcheck_and_gradgradcheck(shape, keep_prob, seed):
    def dropout(X):
        layer = nn.Dropout(keep_prob)
        layer.reseed(seed)  # the same mask on every call: one function for finite differences
        return layer(X)

    X = np.random.default_rng(seed).standard_normal(shape)
    assert gg.gradcheck(dropout, [X], fast=True)
    assert gg.gradgradcheck(dropout, [X], fast=True)


def test_dropout_is_off_in_eval_mode_and_at_keep_prob_one():
    A = gg.Tensor(RNG.standard_normal((4, 6)))
    assert nn.Dropout(0.5).eval()(A) is A
    assert nn.Dropout(1.0)(A) is A
    with pytest.raises(gg.GraphgradError, match="keep_prob"):
        nn.Dropout(0.0)


# -- batch normalisation --------------------------------------------------------------------------
def test_batchnorm_train_normalises_with_the_batch_and_updates_running_stats():
    bn = nn.BatchNorm1d(3, momentum=0.9)
    Z = RNG.standard_normal((50, 3)) * [1.0, 5.0, 0.1] + [3.0, -2.0, 0.0]
    out = bn(Z).data
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=0), Z.var(axis=0) / (Z.var(axis=0) + 1e-5),
                               rtol=1e-12)
    np.testing.assert_allclose(bn.running_mean, 0.1 * Z.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(bn.running_var, 0.9 + 0.1 * Z.var(axis=0), rtol=1e-12)


def test_batchnorm_of_a_constant_float32_batch_is_beta_with_the_exact_gradient():
    """A unit that does not vary within the batch normalises to 0. In float32 the batch mean
    of 8 copies of 1e4 + 0.1 had been off by one unit in the last place (1e-3), which
    1/sqrt(eps) made into outputs of -0.3 and gradients off by 40."""
    bn = nn.BatchNorm1d(2, dtype=np.float32)
    bn.beta.data = np.array([0.5, -1.0], np.float32)
    Z = gg.Tensor(np.full((8, 2), [1e4 + 0.1, 0.1], np.float32), requires_grad=True)
    upstream = np.arange(16, dtype=np.float32).reshape(8, 2) ** 2
    out = bn(Z)
    (out * upstream).sum().backward()
    assert out.dtype == Z.grad.dtype == np.float32
    np.testing.assert_array_equal(out.data, np.full((8, 2), [0.5, -1.0], np.float32))
    # Z_norm = 0: dZ = gamma / sqrt(eps) * (dZ_tilde - mean(dZ_tilde))
    expected = (upstream - upstream.astype(np.float64).mean(axis=0)) / np.sqrt(1e-5)
    np.testing.assert_allclose(Z.grad, expected, rtol=1e-5, atol=1e-3)


def test_batchnorm_eval_uses_running_stats_so_examples_are_independent():
    bn = nn.BatchNorm1d(2)
    bn.gamma.data = np.array([2.0, 1.0])
    bn.beta.data = np.array([0.5, -0.5])
    bn.running_mean = np.array([1.0, 2.0])
    bn.running_var = np.array([4.0, 9.0])
    bn.eval()
    Z = np.array([[3.0, 2.0], [1.0, 5.0]])
    expected = (Z - [1.0, 2.0]) / np.sqrt(np.array([4.0, 9.0]) + 1e-5) * [2.0, 1.0] + [0.5, -0.5]
    np.testing.assert_allclose(bn(Z).data, expected, rtol=1e-12)
    np.testing.assert_allclose(bn(Z[:1]).data, expected[:1], rtol=1e-12)
    np.testing.assert_array_equal(bn.running_mean, [1.0, 2.0])  # eval leaves them alone


@pytest.mark.parametrize("bn, empty", [(nn.BatchNorm1d(3), np.zeros((0, 3))),
                                       (BatchNorm2d(3), np.zeros((0, 4, 4, 3)))])
def test_batchnorm_an_empty_training_batch_leaves_the_running_stats_as_they_are(bn, empty):
    """As PyTorch: Z[mask] with an all-False mask has no statistics to average in (they
    were NaN, and every later prediction with them)."""
    bn.running_mean, bn.running_var = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])
    Z = gg.Tensor(empty, requires_grad=True)
    out = bn(Z)
    out.sum().backward()
    assert out.shape == empty.shape
    np.testing.assert_array_equal(bn.running_mean, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(bn.running_var, [4.0, 5.0, 6.0])
    np.testing.assert_array_equal(bn.gamma.grad, np.zeros(3))  # a sum over no examples


def test_batchnorm_running_stats_keep_their_dtype_under_a_float64_tensor_needing_grad():
    """A float64 tensor that needs a gradient is not converted (that would cut the graph), so
    its statistics are float64; the float32 running averages stay float32."""
    bn = BatchNorm2d(3, dtype=np.float32)
    Z = RNG.standard_normal((4, 5, 5, 3))
    bn(gg.Tensor(Z, requires_grad=True))
    assert bn.running_mean.dtype == bn.running_var.dtype == np.float32
    np.testing.assert_allclose(bn.running_mean, 0.1 * Z.mean(axis=(0, 1, 2)), rtol=1e-6)
    assert bn.eval()(Z.astype(np.float32)).dtype == np.float32


@pytest.mark.parametrize("make, message", [
    (lambda: nn.BatchNorm1d(3, eps=-1.0), "BatchNorm1d: eps must be a positive number, got -1.0"),
    (lambda: BatchNorm2d(3, eps=0), "BatchNorm2d: eps must be a positive number, got 0"),
    (lambda: nn.BatchNorm1d(3, momentum="0.9"), "momentum must be in [0, 1), got '0.9'"),
    (lambda: nn.BatchNorm1d(3, momentum=float("nan")), "momentum must be in [0, 1), got nan"),
    (lambda: nn.LayerNorm(3, eps=float("inf")), "LayerNorm: eps must be a positive number"),
])
def test_normalisation_settings_are_refused_by_name(make, message):
    with pytest.raises(gg.ArgumentError) as info:
        make()
    assert message in str(info.value)


@pytest.mark.parametrize("call, label", [
    (lambda: nn.Linear(3, 4)([[1, 2, 3], [1, 2]]), "Linear(3 -> 4, init='he'): the input"),
    (lambda: nn.RNN(3, 4)([[[1, 2, 3]], [[1, 2]]]), "RNN(n_x=3, n_a=4, cell='rnn'): the input"),
    (lambda: nn.RNNCell(3, 2)([[1, 2, 3], [1]], np.zeros((2, 2))), "RNNCell(n_x=3, n_a=2): "),
    (lambda: nn.BatchNorm1d(2)([[1, 2], [3]]), "BatchNorm1d(2): the input"),
    (lambda: nn.LayerNorm(2)([[1, 2], [3]]), "LayerNorm(2): the input"),
    (lambda: nn.Conv1d(1, 1, 1)([[[1]], [[1, 2]]]), "Conv1d("),
    (lambda: nn.Embedding(10, 3)([[1, 2], [3]]), "Embedding(n_vocab=10, n_e=3): the word "
                                                 "indices"),
    (lambda: nn.TransformerEncoderLayer(4, 2, 8)([[[1, 2, 3, 4]], [[1]]]), "X cannot"),
])
def test_a_ragged_list_is_refused_by_the_layer_that_got_it(call, label):
    """Sentences of different lengths, unpadded: numpy's own error named no layer."""
    with pytest.raises(gg.GraphgradTypeError) as info:
        call()
    assert label in str(info.value)
    assert "cannot be made into an array" in str(info.value)
    assert "same length at each level" in str(info.value)


def test_batchnorm_shape_error_names_the_layer():
    with pytest.raises(gg.GraphgradError, match=r"BatchNorm1d\(3\) takes Z of shape \(m, 3\)"):
        nn.BatchNorm1d(3)(np.ones((4, 2)))


def test_an_error_inside_a_model_says_where_the_layer_sits():
    """A model has several layers of one kind: the message gives the one that failed by its
    path from the module called."""
    block = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2), nn.ReLU(), nn.LayerNorm(3))
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Sequential({"block": block}))
    where = r"sequential1\.block\.layernorm1"
    with pytest.raises(gg.ShapeError, match=rf"^LayerNorm\(3\) in {where} takes"):
        model(np.ones((5, 4)))
    with pytest.raises(gg.ShapeError, match=r"^LayerNorm\(3\) in block\.layernorm1 takes"):
        block(np.ones((5, 3)))
    with pytest.raises(gg.ShapeError, match=r"^BatchNorm1d\(2\) takes Z"):  # called alone
        block[1](np.ones((5, 4)))


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_a_batch_with_nan_or_inf_leaves_batchnorms_running_statistics():
    """One bad batch would otherwise make every later prediction NaN; its own output shows
    the NaN."""
    bn = nn.BatchNorm2d(2)
    Z = np.random.default_rng(0).standard_normal((4, 3, 3, 2))
    bn(Z)
    mean, var = bn.running_mean.copy(), bn.running_var.copy()
    for bad in (np.nan, np.inf):
        spoilt = Z.copy()
        spoilt[1, 2, 0, 1] = bad
        assert np.isnan(bn(spoilt).data[..., 1]).all()
        np.testing.assert_array_equal(bn.running_mean, mean)
        np.testing.assert_array_equal(bn.running_var, var)
    bn(Z)
    np.testing.assert_allclose(bn.running_mean, 0.9 * mean + 0.1 * Z.mean(axis=(0, 1, 2)))


def test_batchnorm_refuses_a_training_batch_of_one_and_says_to_call_eval():
    """As PyTorch: one example normalised by its own statistics is 0 in every unit, so the
    output would be beta whatever the input (a prediction made without model.eval())."""
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    one = np.ones((1, 3))
    with pytest.raises(gg.GraphgradError, match=r"BatchNorm1d\(2\).*one example.*model\.eval\(\)"):
        model(one)
    np.testing.assert_array_equal(model.batchnorm1.running_mean, [0.0, 0.0])  # untouched
    model.eval()
    assert model(one).shape == (1, 2)


def test_fit_with_drop_last_trains_batchnorm_on_a_set_that_leaves_a_batch_of_one():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((65, 3))  # batches of 64 leave one example over
    Y = (X[:, :1] > 0).astype(float)
    batch_sizes = []

    def cost(Z, Y_batch):
        batch_sizes.append(len(Y_batch))
        return nn.binary_cross_entropy_with_logits(Z, Y_batch)

    def train(epochs, **options):
        nn.init.seed(0)
        model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 1))
        return gg.fit(model, cost, optim.SGD(model.parameters(), lr=0.1), (X, Y),
                      epochs=epochs, progress=False, **options)

    with pytest.raises(gg.GraphgradError, match=r"batch of one.*drop_last=True"):
        train(1)
    assert batch_sizes == [64]  # the batch of one was refused before reaching the cost
    batch_sizes.clear()
    history = train(3, drop_last=True)
    assert batch_sizes == [64, 64, 64]
    assert history["cost"][-1] < history["cost"][0]


def test_fit_says_when_drop_last_leaves_no_batch():
    model = nn.Sequential(nn.Linear(3, 1))
    with pytest.raises(gg.GraphgradError, match=r"drop_last=True leaves out all 10 examples"):
        gg.fit(model, nn.mse, optim.SGD(model.parameters(), lr=0.1),
               (np.ones((10, 3)), np.ones((10, 1))), epochs=1, batch_size=16, drop_last=True,
               progress=False)


def test_float32_layers_keep_float32_for_lists_and_float64_arrays():
    linear = nn.Linear(3, 2, dtype=np.float32, rng=0)
    assert linear([[1.0, 2.0, 3.0]]).dtype == np.float32
    assert linear(np.ones((1, 3), dtype=np.int64)).dtype == np.float32
    dropout = nn.Dropout(0.5, rng=0)
    A = dropout(np.ones((4, 3), np.float32))
    assert A.dtype == np.float32 and dropout.D.dtype == np.float32
    assert set(np.unique(A.data)) <= {0.0, 2.0}
    assert nn.Dropout(0.5, rng=0)([[1, 2], [3, 4]]).dtype == np.float64


@pytest.mark.parametrize("make", [
    lambda: nn.Dropout(1.5), lambda: nn.BatchNorm1d(3, momentum=1.0),
    lambda: nn.Linear(2, 2, init="kaiming"), lambda: optim.SGD([nn.Parameter(1.0)], lr=-1),
    lambda: optim.Adam([nn.Parameter(1.0)], beta1=1.0), lambda: optim.StepDecay(0.1, every=0),
    lambda: nn.l2_penalty([nn.Parameter(np.ones((2, 2)))], 0.1, m=0),
])
def test_a_bad_setting_is_a_value_error_too(make):
    with pytest.raises(gg.GraphgradError) as info:
        make()
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("make, message", [
    (lambda: nn.Dropout("0.5"), r"Dropout: keep_prob, the probability of keeping a unit, must be "
                                r"in \(0, 1\], got '0\.5'"),
    (lambda: nn.Dropout(float("nan")), r"Dropout: keep_prob.* got nan"),
    (lambda: optim.InverseTimeDecay(float("nan"), 1.0),
     r"InverseTimeDecay: alpha0 must be positive, got nan"),
    (lambda: optim.InverseTimeDecay(0.1, 1.0, time_interval=2.5),
     r"time_interval must be a whole number of at least 1, got 2\.5"),
    (lambda: optim.ExponentialDecay(0.1, rate=True), r"rate must be in \(0, 1\], got True"),
    (lambda: optim.ExponentialDecay(0.1, rate=1.5), r"rate must be in \(0, 1\], got 1\.5"),
    (lambda: optim.ExponentialDecay(0.1, rate=0.0), r"rate must be in \(0, 1\], got 0\.0"),
    (lambda: optim.StepDecay(0.1, factor=1.5), r"factor must be in \(0, 1\], got 1\.5"),
    (lambda: optim.StepDecay(0.1, factor=0), r"factor must be in \(0, 1\], got 0"),
    (lambda: optim.StepDecay(0.1, every=2.5), r"StepDecay: every must be a whole number"),
    (lambda: optim.InverseSqrtDecay(0.1, k=float("inf")), r"k must be positive, got inf"),
    (lambda: nn.l2_penalty([nn.Parameter(np.ones((2, 2)))], 0.1, m=float("nan")),
     r"m \(the number of examples the cost averages over\) must be a whole number"),
    (lambda: nn.Flatten()(gg.Tensor(1.0, name="x")), r"Flatten takes a batch \(m, \.\.\.\).*'x'"),
    (lambda: gg.fit(nn.Linear(3, 1), nn.mse, optim.SGD(nn.Linear(3, 1).parameters(), lr=0.1),
                    (np.ones((4, 3)), np.ones((4, 1))), epochs=-1, progress=False),
     r"fit: epochs must be a whole number of at least 0, got -1"),
])
def test_settings_that_are_not_numbers_of_their_range_are_refused(make, message):
    """NaN, strings, bools and fractions are refused by name, not compared or truncated."""
    with pytest.raises(gg.GraphgradError, match=message):
        make()


@pytest.mark.parametrize("make, message", [
    (lambda: nn.Linear(2.7, 3), r"Linear: n_in must be a whole number of at least 1, got 2\.7"),
    (lambda: nn.Linear(3, True), r"Linear: n_out must be a whole number of at least 1, got True"),
    (lambda: nn.Linear(0, 3), r"Linear: n_in must be a whole number of at least 1, got 0"),
    (lambda: nn.Linear(3, -1), r"Linear: n_out must be a whole number of at least 1, got -1"),
    (lambda: nn.BatchNorm1d(3.9), r"BatchNorm1d: n must be a whole number of at least 1, got 3\.9"),
])
def test_layer_sizes_must_be_whole_numbers(make, message):
    """A size is never rounded down in silence (2.7 inputs would quietly become 2)."""
    with pytest.raises(gg.ArgumentError, match=message):
        make()
    assert nn.Linear(np.int64(3), 2).W.shape == (2, 3)


# -- batch normalisation of images (BatchNorm2d) ----------------------------------------------
def _batchnorm2d_reference(Z, gamma, beta, eps=1e-5):
    """Per channel over (m, n_H, n_W), in numpy: (Z_tilde, mu, sigma2)."""
    mu = Z.mean(axis=(0, 1, 2))
    sigma2 = ((Z - mu) ** 2).mean(axis=(0, 1, 2))
    return gamma * (Z - mu) / np.sqrt(sigma2 + eps) + beta, mu, sigma2


def _images(shape, seed=0):
    """Channels with different means and spreads, so a wrong axis shows."""
    rng = np.random.default_rng(seed)
    n_C = shape[-1]
    return rng.standard_normal(shape) * rng.uniform(0.1, 5.0, n_C) + rng.uniform(-3, 3, n_C)


def test_batchnorm2d_train_normalises_each_channel_over_examples_and_positions():
    bn = BatchNorm2d(3)
    gamma, beta = np.array([2.0, 0.5, -1.0]), np.array([0.1, -0.3, 4.0])
    bn.gamma.data, bn.beta.data = gamma.copy(), beta.copy()
    Z = _images((4, 5, 6, 3))
    expected, _, _ = _batchnorm2d_reference(Z, gamma, beta)
    out = bn(Z)
    assert out.shape == (4, 5, 6, 3) and bn.gamma.shape == bn.beta.shape == (3,)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    Z_norm = (out.data - beta) / gamma
    np.testing.assert_allclose(Z_norm.mean(axis=(0, 1, 2)), 0, atol=1e-12)
    sigma2 = Z.var(axis=(0, 1, 2))
    np.testing.assert_allclose(Z_norm.var(axis=(0, 1, 2)), sigma2 / (sigma2 + 1e-5), rtol=1e-12)


def test_batchnorm2d_running_stats_follow_the_weighted_average_and_eval_uses_them():
    momentum = 0.8
    bn = BatchNorm2d(2, momentum=momentum)
    mean, var = np.zeros(2), np.ones(2)
    for seed in range(3):
        Z = _images((3, 4, 4, 2), seed)
        bn(Z)
        mean = momentum * mean + (1 - momentum) * Z.mean(axis=(0, 1, 2))
        var = momentum * var + (1 - momentum) * Z.var(axis=(0, 1, 2))  # biased, as BatchNorm1d
    np.testing.assert_allclose(bn.running_mean, mean, rtol=1e-12)
    np.testing.assert_allclose(bn.running_var, var, rtol=1e-12)

    bn.gamma.data, bn.beta.data = np.array([1.5, -2.0]), np.array([0.5, 1.0])
    bn.eval()
    Z = _images((2, 3, 3, 2), seed=9)
    expected = (Z - mean) / np.sqrt(var + 1e-5) * [1.5, -2.0] + [0.5, 1.0]
    np.testing.assert_allclose(bn(Z).data, expected, rtol=1e-12)
    np.testing.assert_allclose(bn(Z[:1]).data, expected[:1], rtol=1e-12)  # one image is fine
    np.testing.assert_array_equal(bn.running_mean, mean)  # eval leaves them alone


def test_batchnorm2d_is_batchnorm1d_over_every_position():
    """A channel normalised over (m, n_H, n_W) is a unit normalised over m * n_H * n_W rows,
    forward and backward."""
    Z = _images((3, 4, 5, 2))
    dY = np.random.default_rng(1).standard_normal(Z.shape)
    images, rows = BatchNorm2d(2), nn.BatchNorm1d(2)
    for bn in (images, rows):
        bn.gamma.data, bn.beta.data = np.array([0.7, 1.3]), np.array([-0.2, 0.4])
    Z4, Z2 = gg.Tensor(Z, requires_grad=True), gg.Tensor(Z.reshape(-1, 2), requires_grad=True)
    out4, out2 = images(Z4), rows(Z2)
    out4.backward(dY)
    out2.backward(dY.reshape(-1, 2))
    np.testing.assert_allclose(out4.data.reshape(-1, 2), out2.data, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(Z4.grad.reshape(-1, 2), Z2.grad, rtol=1e-10, atol=1e-12)
    for name in ("gamma", "beta", "running_mean", "running_var"):
        got, expected = getattr(images, name), getattr(rows, name)
        np.testing.assert_allclose(getattr(got, "grad", got), getattr(expected, "grad", expected),
                                   rtol=1e-10)


@given(m=st.integers(1, 4), n_H=st.integers(1, 4), n_W=st.integers(1, 4),
       n_C=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_batchnorm2d_forward_and_backward_match_the_formulas(m, n_H, n_W, n_C, seed):
    assume(m * n_H * n_W >= 2)  # one value per channel is refused in training mode
    rng = np.random.default_rng(seed)
    Z = _images((m, n_H, n_W, n_C), seed)
    gamma, beta = rng.uniform(0.5, 2.0, n_C), rng.standard_normal(n_C)
    dY = rng.standard_normal(Z.shape)
    bn = BatchNorm2d(n_C)
    bn.gamma.data, bn.beta.data = gamma.copy(), beta.copy()
    Z_t = gg.Tensor(Z, requires_grad=True)
    out = bn(Z_t)
    out.backward(dY)

    expected, mu, sigma2 = _batchnorm2d_reference(Z, gamma, beta)
    np.testing.assert_allclose(out.data, expected, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(bn.running_mean, 0.1 * mu, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(bn.running_var, 0.9 + 0.1 * sigma2, rtol=1e-10)
    # The batch-norm backward in closed form, means over the normalised axes.
    Z_norm = (Z - mu) / np.sqrt(sigma2 + 1e-5)
    axes = (0, 1, 2)
    dZ = gamma / np.sqrt(sigma2 + 1e-5) * (
        dY - dY.mean(axis=axes) - Z_norm * (dY * Z_norm).mean(axis=axes))
    np.testing.assert_allclose(Z_t.grad, dZ, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(bn.gamma.grad, (dY * Z_norm).sum(axis=axes), rtol=1e-8,
                               atol=1e-10)
    np.testing.assert_allclose(bn.beta.grad, dY.sum(axis=axes), rtol=1e-10, atol=1e-10)


def test_batchnorm2d_state_dict_round_trip(tmp_path):
    bn = BatchNorm2d(3, momentum=0.5)
    bn.gamma.data = np.array([1.0, 2.0, 3.0])
    for seed in range(2):
        bn(_images((2, 3, 3, 3), seed))
    state = bn.state_dict()
    assert list(state) == ["gamma", "beta", "running_mean", "running_var"]  # as BatchNorm1d
    assert all(np.shape(value) == (3,) for value in state.values())
    gg.save(state, tmp_path / "bn.npz")
    fresh = BatchNorm2d(3, momentum=0.5)
    fresh.load_state_dict(gg.load(tmp_path / "bn.npz"))
    for name in state:
        np.testing.assert_array_equal(fresh.state_dict()[name], state[name])
    Z = _images((2, 2, 2, 3), seed=5)
    np.testing.assert_array_equal(fresh.eval()(Z).data, bn.eval()(Z).data)
    with pytest.raises(nn.StateDictError):
        BatchNorm2d(4).load_state_dict(state)


def test_batchnorm2d_errors_name_the_layer_and_the_shapes():
    bn = BatchNorm2d(3)
    expected = r"BatchNorm2d\(3\) takes Z of shape \(m, n_H, n_W, n_C\) with n_C = 3"
    with pytest.raises(gg.GraphgradError, match=expected + r".*got \(2, 5, 5, 4\)$"):
        bn(np.ones((2, 5, 5, 4)))
    with pytest.raises(gg.GraphgradError, match=expected + r".*got \(2, 3, 5, 5\) \(channels "
                       r"first\?.*channels last: Z\.transpose\(0, 2, 3, 1\)\)"):
        bn(np.ones((2, 3, 5, 5)))
    with pytest.raises(gg.GraphgradError, match=expected + r".*got \(4, 3\).*BatchNorm1d"):
        bn(np.ones((4, 3)))
    with pytest.raises(gg.GraphgradError, match=expected + r".*got \(2, 4, 4\)"):
        bn(np.ones((2, 4, 4)))
    with pytest.raises(gg.GraphgradError, match=r"BatchNorm2d\(3\).*one 1 x 1 image.*eval\(\)"):
        bn(np.ones((1, 1, 1, 3)))
    np.testing.assert_array_equal(bn.running_mean, np.zeros(3))  # the refusals changed nothing
    assert bn(_images((1, 2, 2, 3))).shape == (1, 2, 2, 3)  # one image has 4 values a channel
    for bad in (lambda: BatchNorm2d(3, momentum=1.0), lambda: BatchNorm2d(0),
                lambda: BatchNorm2d(2.5)):
        with pytest.raises(gg.ArgumentError, match="BatchNorm2d"):
            bad()


def test_batchnorm2d_float32_stays_float32():
    bn = BatchNorm2d(2, dtype=np.float32)
    Z32 = _images((2, 3, 3, 2)).astype(np.float32)
    for data in (Z32, Z32.astype(np.float64), Z32.tolist()):  # float64 data is converted
        assert bn(data).dtype == np.float32
    Z = gg.Tensor(Z32, requires_grad=True)
    out = bn(Z)
    out.sum().backward()
    assert Z.grad.dtype == bn.gamma.grad.dtype == bn.beta.grad.dtype == np.float32
    assert bn.running_mean.dtype == bn.running_var.dtype == np.float32
    expected, _, _ = _batchnorm2d_reference(Z32.astype(np.float64), np.ones(2), np.zeros(2))
    np.testing.assert_allclose(out.data, expected, rtol=1e-4, atol=1e-5)
    assert bn.eval()(Z32).dtype == np.float32


def test_batchnorm2d_in_a_convnet():
    """Conv2d without bias, BatchNorm2d, ReLU, as in the course's ResNets; Sequential names it."""
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding="same", bias=False, rng=0), BatchNorm2d(2),
                          nn.ReLU(), nn.Flatten(), nn.Linear(2 * 4 * 4, 1, rng=0))
    assert [name for name, _ in model.named_children()][:2] == ["conv2d1", "batchnorm1"]
    assert "batchnorm1.running_var" in model.state_dict()
    X = _images((3, 4, 4, 1))
    model(X).sum().backward()
    assert model.batchnorm1.gamma.grad.shape == (2,)
    assert model.conv2d1.W.grad.shape == (3, 3, 1, 2)


@pytest.mark.parametrize("make, name", [
    (lambda dtype: nn.Linear(3, 4, dtype=dtype), r"a layer's weights of shape \(4, 3\)"),
    (lambda dtype: nn.Conv2d(3, 4, 3, dtype=dtype), r"a layer's weights of shape \(4, 27\)"),
    (lambda dtype: nn.Embedding(5, 3, dtype=dtype), r"a layer's weights of shape \(5, 3\)"),
    (lambda dtype: nn.BatchNorm1d(3, dtype=dtype), "BatchNorm1d"),
    (lambda dtype: nn.LayerNorm(3, dtype=dtype), "LayerNorm"),
], ids=["Linear", "Conv2d", "Embedding", "BatchNorm1d", "LayerNorm"])
@pytest.mark.parametrize("dtype", [np.int32, int, np.float16, "bool"])
def test_a_layer_refuses_a_dtype_its_parameters_cannot_learn_in(make, name, dtype):
    """He weights cast to int32 are nearly all 0: the layer would not learn."""
    with pytest.raises(gg.GraphgradTypeError, match=name + ": dtype must be np.float64 or "
                                                           "np.float32"):
        make(dtype)
    assert make(np.float32).parameters()[0].dtype == np.float32


@pytest.mark.parametrize("rng", ["abc", -1, 2.5, True])
def test_a_layer_refuses_an_rng_that_is_no_seed_or_generator(rng):
    with pytest.raises(gg.ArgumentError, match=r"^Linear: rng must be None, a seed \(a whole "
                                               r"number >= 0\) or a np.random.Generator, got"):
        nn.Linear(3, 4, rng=rng)
    assert np.array_equal(nn.Linear(3, 4, rng=7).W.data, nn.Linear(3, 4, rng=np.int64(7)).W.data)
    with pytest.raises(gg.ArgumentError, match=r"^nn\.init\.generator: rng must be None"):
        nn.init.generator(rng)
    with pytest.raises(gg.ArgumentError, match=r"^nn\.init\.initialize: rng must be None"):
        nn.init.initialize("he", (2, 3), rng=rng)


@pytest.mark.parametrize("make", [
    lambda rng: nn.Conv2d(1, 2, 3, rng=rng),
    lambda rng: nn.Conv1d(1, 2, 3, rng=rng),
    lambda rng: nn.ConvTranspose2d(1, 2, 3, rng=rng),
    lambda rng: nn.Embedding(5, 2, rng=rng),
    lambda rng: nn.RNNCell(2, 3, rng=rng),
    lambda rng: nn.LSTMCell(2, 3, rng=rng),
    lambda rng: nn.GRUCell(2, 3, rng=rng),
    lambda rng: nn.RNN(2, 3, cell="lstm", rng=rng),
    lambda rng: nn.Dropout(0.5, rng=rng),
    lambda rng: nn.MultiHeadAttention(4, 2, rng=rng),
    lambda rng: nn.TransformerEncoderLayer(4, 2, 8, rng=rng),
    lambda rng: nn.TransformerDecoderLayer(4, 2, 8, rng=rng),
    lambda rng: nn.TransformerEncoder(1, 4, 2, 8, 10, 6, rng=rng),
    lambda rng: nn.TransformerDecoder(1, 4, 2, 8, 10, 6, rng=rng),
    lambda rng: nn.Transformer(1, 4, 2, 8, 10, 10, 6, 6, rng=rng),
], ids=["Conv2d", "Conv1d", "ConvTranspose2d", "Embedding", "RNNCell", "LSTMCell", "GRUCell",
        "RNN", "Dropout", "MultiHeadAttention", "TransformerEncoderLayer",
        "TransformerDecoderLayer", "TransformerEncoder", "TransformerDecoder", "Transformer"])
def test_every_layer_with_an_rng_names_itself_when_refusing_one(make, request):
    name = request.node.callspec.id
    for rng in ("x", -1, 2.5):
        with pytest.raises(gg.ArgumentError, match=rf"^{name}: rng must be None, a seed"):
            make(rng)
    make(np.int64(3))


# -- settings that read as PyTorch's ---------------------------------------------------------------
def test_a_keep_prob_or_batchnorm_momentum_that_reads_as_pytorchs_is_warned_about():
    """Dropout(0.2) and BatchNorm1d(n, momentum=0.1), PyTorch's usual values, mean the
    opposite here (keep 20%; running statistics from the last batch) and had been taken
    without a word. They still do what they say, with a ConventionWarning."""
    with pytest.warns(gg.ConventionWarning, match=r"Dropout\(keep_prob=0\.2\) keeps 20% of the "
                                                  r"units and drops 80%.*PyTorch's Dropout\(p="
                                                  r"0\.2\) is Dropout\(keep_prob=0\.8\) here"):
        layer = nn.Dropout(0.2, rng=0)
    out = layer(np.ones((100, 100))).data
    assert np.mean(out != 0) == pytest.approx(0.2, abs=0.01)
    assert set(np.unique(out)) == {0.0, 5.0}
    Z = RNG.standard_normal((6, 3))
    for make, X in ((nn.BatchNorm1d, Z), (BatchNorm2d, Z.reshape(2, 3, 1, 3))):
        with pytest.warns(gg.ConventionWarning, match=rf"{make.__name__}\(momentum=0\.1\) keeps "
                                                      r"10% of the running statistics.*PyTorch's "
                                                      r"momentum=0\.1 is momentum=0\.9 here"):
            bn = make(3, momentum=0.1)
        bn(X)
        np.testing.assert_allclose(bn.running_mean, 0.9 * Z.mean(axis=0), rtol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error", gg.ConventionWarning)
        nn.Dropout(0.5), nn.Dropout(0.8), nn.BatchNorm1d(3, momentum=0.0)
        nn.BatchNorm1d(3), BatchNorm2d(3, momentum=0.5)
        # the Transformer's layers take a drop probability, as PyTorch's do
        mha = nn.MultiHeadAttention(4, 2, dropout=0.7)
        assert mha.attention_dropout.keep_prob == pytest.approx(0.3)
        assert nn.TransformerEncoderLayer(4, 2, 8, dropout=0.6).dropout == pytest.approx(0.6)


@pytest.mark.parametrize("shape, flat", [((0, 3, 4), (0, 12)), ((2, 3, 4), (2, 12)),
                                         ((0, 5), (0, 5)), ((3, 0, 2), (3, 0)), ((4,), (4, 1))])
def test_flatten_keeps_the_batch_axis_of_an_empty_batch(shape, flat):
    """An empty batch (m = 0, as a last batch or a filter can leave) flattens to (0, d1 * d2),
    where reshaping to (0, -1) failed: numpy cannot solve -1 for zero elements."""
    X = np.arange(math.prod(shape), dtype=float).reshape(shape)
    A = gg.Tensor(X, requires_grad=True)
    out = nn.Flatten()(A)
    assert out.shape == flat
    np.testing.assert_array_equal(out.data, X.reshape(flat))
    (out * 2.0).sum().backward()
    np.testing.assert_array_equal(A.grad, np.full(shape, 2.0))


@pytest.mark.parametrize("axes, flat", [
    ((), (2, 60)), ((1, -1), (2, 60)), ((2,), (2, 3, 20)), ((0,), (120,)), ((0, 1), (6, 4, 5)),
    ((1, 2), (2, 12, 5)), ((-3, -2), (2, 12, 5)), ((3, 3), (2, 3, 4, 5)),
    ((0, 0), (2, 3, 4, 5)), ((0, 2), (24, 5)), ((0, 3), (120,)),
])
def test_flatten_joins_the_axes_from_start_axis_to_end_axis_as_pytorchs(axes, flat):
    """PyTorch's nn.Flatten(start_dim=1, end_dim=-1): the axes from start_axis to end_axis,
    both included, joined in row order; the default keeps one row per example."""
    X = np.arange(120.0).reshape(2, 3, 4, 5)
    A = gg.Tensor(X, requires_grad=True)
    layer = nn.Flatten(*axes)
    out = layer(A)
    assert out.shape == flat
    np.testing.assert_array_equal(out.data, X.reshape(flat))
    (out * np.arange(120.0).reshape(flat)).sum().backward()
    np.testing.assert_array_equal(A.grad, X)
    np.testing.assert_array_equal(layer(X).data, X.reshape(flat))  # an array too
    shown = "" if axes in ((), (1, -1)) else f"start_axis={axes[0]}, end_axis={layer.end_axis}"
    assert repr(layer) == f"Flatten({shown})"


@pytest.mark.parametrize("call, error, message", [
    (lambda: nn.Flatten(1.0), gg.ArgumentError,
     r"Flatten: start_axis must be an integer, got 1\.0"),
    (lambda: nn.Flatten(1, None), gg.ArgumentError, r"Flatten: end_axis must be an integer"),
    (lambda: nn.Flatten(4)(np.zeros((2, 3, 4, 5))), gg.ShapeError,
     r"Flatten\(start_axis=4, end_axis=-1\).*: start_axis=4 is no axis of .*\(2, 3, 4, 5\)"),
    (lambda: nn.Flatten(3, 1)(np.zeros((2, 3, 4, 5))), gg.ShapeError,
     r"Flatten\(start_axis=3, end_axis=1\).*: start_axis=3 comes after end_axis=1"),
], ids=["float axis", "None axis", "no such axis", "start after end"])
def test_flatten_refuses_axes_that_are_no_integers_or_not_the_inputs(call, error, message):
    with pytest.raises(error, match=message):
        call()


class _Forgets(nn.Module):
    def forward(self, X):
        gg.relu(X)  # the return is missing


@pytest.mark.parametrize("value, shown", [(None, "None"), ("0.5", "'0.5'"),
                                          (np.array([[None, 1.0]]), r"<object array \(1, 2\)>")])
def test_input_that_is_no_numbers_is_refused_by_the_layer_and_dropout_draws_no_mask(value,
                                                                                   shown):
    """Dropout made None a NaN and drew a mask for it; a string failed in numpy. Linear's
    error named the op Affine's input 0, not the layer, nor the forward that returned None."""
    dropout = nn.Dropout(0.5, rng=0)
    dropout(np.ones((2, 3)))
    D, state = dropout.D, dropout.rng.bit_generator.state
    with pytest.raises(gg.GraphgradTypeError, match=r"Dropout\(keep_prob=0\.5\) takes numbers "
                                                    rf".*, got {shown}"):
        dropout(value)
    assert dropout.D is D and dropout.rng.bit_generator.state == state
    with pytest.raises(gg.GraphgradTypeError, match=rf"Linear\(3 -> 1, init='he'\) takes "
                                                    rf"numbers .*, got {shown}"):
        nn.Linear(3, 1)(value)
    model = nn.Sequential(nn.Linear(3, 3), _Forgets(), nn.Linear(3, 1))
    with pytest.raises(gg.GraphgradTypeError, match=r"Linear\(3 -> 1, init='he'\) "
                                                    r"takes numbers .*, got None: did the layer "
                                                    r"or function before it return nothing"):
        model(np.ones((2, 3)))
    kept = dropout(np.array([[1, 2, 3]]))  # integers and bools are numbers: float64 out
    np.testing.assert_array_equal(kept.data, np.array([[1.0, 2.0, 3.0]]) * dropout.D.data * 2)


@pytest.mark.parametrize("call, message", [
    (lambda: nn.BatchNorm1d(4).eval()(np.zeros(4)),
     r"BatchNorm1d\(4\) takes Z of shape \(m, 4\) or sequences \(m, T_x, 4\), got \(4,\) "
     r"\(Z\[None\], if Z is one "
     r"example of shape \(4,\)\)"),
    (lambda: nn.BatchNorm1d(4)(np.zeros((4, 10))),
     r"got \(4, 10\) \(Z\.T, if Z holds one example per column as in the course\)"),
    (lambda: nn.GRUCell(4, 3)(np.zeros(4), np.zeros(3)),
     r"GRUCell\(n_x=4, n_a=3\) takes x_t of shape \(m, 4\); got ndarray \(4,\) float64 "
     r"\(x_t\[None\], if x_t is one example of shape \(4,\)\)"),
    (lambda: nn.TransformerEncoderLayer(4, 2, 8)(np.zeros((6, 4))),
     r"takes X of shape \(m, T_x, 4\); got ndarray \(6, 4\) float64 \(X\[None\], if X is one "
     r"example of shape \(6, 4\)\)"),
])
def test_one_example_without_the_batch_axis_is_shown_how_to_add_it(call, message):
    """A single example, or the course's (n, m) layout, came with the expected shape alone."""
    with pytest.raises(gg.ShapeError, match=message):
        call()


def test_a_1d_x_for_a_linear_layer_of_one_input_is_shown_how_to_make_it_a_column():
    """m examples of one feature, a 1-D array as numpy gives a column of data, were read as
    one example of m features and refused with the expected shape alone."""
    layer = nn.Linear(1, 2, rng=0)
    with pytest.raises(gg.OpError, match=(
            r"a linear layer with W of shape \(2, 1\) takes X of shape \(m, 1\), one example "
            r"per row; got \(5,\) \(X\.reshape\(-1, 1\), if X holds m examples of one "
            r"feature\)$")):
        layer(np.arange(5.0))
    Z = layer(np.arange(5.0).reshape(-1, 1))  # as told: one row per example
    np.testing.assert_allclose(Z.data, np.arange(5.0)[:, None] * layer.W.data[:, 0])
    np.testing.assert_allclose(layer(np.array([3.0])).data, 3.0 * layer.W.data[:, 0])  # one


def test_one_example_with_the_batch_axis_added_as_shown_is_computed():
    bn = nn.BatchNorm1d(4).eval()
    bn.running_mean, bn.running_var = np.arange(4.0), np.full(4, 4.0)
    z = np.array([2.0, 3.0, 4.0, 5.0])
    np.testing.assert_allclose(bn(z[None]).data, [[1.0, 1.0, 1.0, 1.0]], rtol=1e-5)


# -- the fused normalisation ops -------------------------------------------------------------------
def _composed(layer, Z):
    """The normalisation layers as they were built from the engine's ops (mean, subtract,
    sqrt, divide, ...), one node each: the reference the fused ops must equal. Updates a batch
    norm's running statistics as the layer does."""
    Z = Z if isinstance(Z, gg.Tensor) else gg.Tensor(Z)
    if isinstance(layer, nn.LayerNorm):
        mu = Z.mean(axis=(-1,), keepdims=True)
        centred = Z - mu
        sigma2 = (centred * centred).mean(axis=(-1,), keepdims=True)
        return layer.gamma * (centred / gg.sqrt(sigma2 + layer.eps)) + layer.beta
    if not layer.training:
        Z_norm = (Z - layer.running_mean) * (1.0 / np.sqrt(layer.running_var + layer.eps))
        return layer.gamma * Z_norm + layer.beta
    axes = tuple(range(Z.ndim - 1))  # all but the features' axis
    mu = Z.mean(axis=axes)
    centred = Z - mu
    sigma2 = (centred * centred).mean(axis=axes)
    Z_norm = centred / gg.sqrt(sigma2 + layer.eps)
    keep, dtype = layer.momentum, layer.running_mean.dtype
    layer.running_mean = (keep * layer.running_mean + (1 - keep) * mu.data).astype(dtype)
    layer.running_var = (keep * layer.running_var + (1 - keep) * sigma2.data).astype(dtype)
    return layer.gamma * Z_norm + layer.beta


def _norm_layer(kind, n, dtype=np.float64, **settings):
    """(layer, its input's rank, its op) of a kind: 'BatchNorm1d' or 'BatchNorm2d' with
    ', train' or ', eval', or 'LayerNorm'."""
    if kind == "LayerNorm":
        return nn.LayerNorm(n, dtype=dtype, **settings), None, "LayerNormalize"
    name, mode = kind.split(", ")
    layer = (nn.BatchNorm1d if name == "BatchNorm1d" else BatchNorm2d)(n, dtype=dtype,
                                                                      **settings)
    rng = np.random.default_rng(n)
    layer.running_mean = rng.standard_normal(n).astype(dtype)
    layer.running_var = rng.uniform(0.2, 3.0, n).astype(dtype)
    if mode == "eval":
        layer.eval()
    return layer, 2 if name == "BatchNorm1d" else 4, "BatchNorm" if mode == "train" else (
        "BatchNormEval")


def _fused_and_composed(layer, Z, gamma, beta, dY):
    """Output, gradients (of Z, gamma, beta) and running statistics of ``layer`` and of its
    composed reference, at the same Z and parameters."""
    results = []
    for run in (layer, lambda X: _composed(layer, X)):
        state = {k: np.array(v) for k, v in layer.state_dict().items()}
        inputs = [gg.Tensor(a.copy(), requires_grad=True) for a in (Z, gamma, beta)]
        layer.gamma, layer.beta = inputs[1:]
        out = run(inputs[0])
        out.backward(dY)
        results.append([out.data, *(t.grad for t in inputs),
                        *(getattr(layer, "running_mean", None), getattr(layer, "running_var",
                                                                         None))])
        for name in ("running_mean", "running_var"):
            if name in state:
                setattr(layer, name, state[name])
    return results


NORM_KINDS = ["BatchNorm1d, train", "BatchNorm1d, eval", "BatchNorm2d, train",
              "BatchNorm2d, eval", "LayerNorm"]


@pytest.mark.parametrize("kind", NORM_KINDS)
@pytest.mark.parametrize("shape_of_batch", [(5,), (2, 3, 2)], ids=["rows", "more axes"])
@pytest.mark.parametrize("settings", [{}, {"eps": 1e-3}, {"eps": 0.7, "momentum": 0.6},
                                      {"momentum": 0.0}], ids=str)
def test_fused_normalisation_equals_the_composed_ops(kind, shape_of_batch, settings):
    """Values, gradients and running statistics of the one-node ops are those of the ops they
    replace, to rounding, for every layer, mode and setting."""
    if kind == "LayerNorm":
        settings = {k: v for k, v in settings.items() if k != "momentum"}
    n = 3
    layer, ndim, op = _norm_layer(kind, n, **settings)
    rng = np.random.default_rng(len(shape_of_batch))
    lead = shape_of_batch[:ndim - 1] if ndim else shape_of_batch
    if ndim == 4 and len(lead) < 3:
        lead = (2, 2, 3)
    Z = rng.standard_normal((*lead, n)) * 2 + rng.standard_normal(n)
    gamma, beta = rng.uniform(0.5, 2.0, n), rng.standard_normal(n)
    dY = rng.standard_normal(Z.shape)
    assert layer(gg.Tensor(Z, requires_grad=True)).creator.name == op
    fused, composed = _fused_and_composed(layer, Z, gamma, beta, dY)
    for got, expected in zip(fused, composed):
        if expected is None:
            assert got is None
        else:
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    for got, expected in zip(fused[4:], composed[4:]):  # the running statistics: the same
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("kind", NORM_KINDS)
def test_fused_normalisation_keeps_float32_and_equals_the_composed_ops(kind):
    n = 4
    layer, ndim, _ = _norm_layer(kind, n, dtype=np.float32)
    rng = np.random.default_rng(5)
    shape = {2: (6, n), 4: (2, 3, 2, n), None: (2, 5, n)}[ndim]
    Z = (rng.standard_normal(shape) * 3 + 100).astype(np.float32)  # far from 0: rounding shows
    gamma, beta = (rng.uniform(0.5, 2.0, (2, n))).astype(np.float32)
    dY = rng.standard_normal(shape).astype(np.float32)
    fused, composed = _fused_and_composed(layer, Z, gamma, beta, dY)
    for got, expected in zip(fused, composed):
        if expected is not None:
            assert got.dtype == np.float32
            np.testing.assert_allclose(got, expected, rtol=2e-5, atol=2e-5)
    np.testing.assert_array_equal(fused[0], composed[0])  # the forward, to the last bit
    for got, expected in zip(fused[4:], composed[4:]):
        np.testing.assert_array_equal(got, expected)


def test_fused_batchnorm_without_a_graph_updates_the_running_statistics_alike():
    """Under no_grad no node keeps the batch's statistics: they are computed again, the same."""
    Z = np.random.default_rng(0).standard_normal((5, 4, 4, 3)) * 3 + 1
    recorded, unrecorded = BatchNorm2d(3), BatchNorm2d(3)
    out = recorded(Z)
    with gg.no_grad():
        same = unrecorded(Z)
    assert out.creator is not None and same.creator is None
    np.testing.assert_array_equal(same.data, out.data)
    np.testing.assert_array_equal(unrecorded.running_mean, recorded.running_mean)
    np.testing.assert_array_equal(unrecorded.running_var, recorded.running_var)
    np.testing.assert_allclose(recorded.running_mean, 0.1 * Z.mean(axis=(0, 1, 2)), rtol=1e-12)


@pytest.mark.parametrize("kind", NORM_KINDS)
def test_normalisation_of_another_gamma_shape_keeps_the_composed_ops(kind):
    """gamma and beta given another shape than (n,) (here (1, n)) are not what the fused ops
    take: the layer computes with the engine's ops, each tagged with its name scope."""
    n = 3
    layer, ndim, _ = _norm_layer(kind, n)
    shape = {2: (6, n), 4: (2, 3, 2, n), None: (2, 5, n)}[ndim]
    rng = np.random.default_rng(1)
    Z, dY = rng.standard_normal(shape), rng.standard_normal(shape)
    gamma, beta = rng.uniform(0.5, 2.0, (1, n)), rng.standard_normal((1, n))
    fused, composed = _fused_and_composed(layer, Z, gamma, beta, dY)
    for got, expected in zip(fused, composed):
        if expected is not None:
            np.testing.assert_array_equal(got, expected)
    model = nn.Sequential(layer)
    nodes = _nodes(model(gg.Tensor(Z, requires_grad=True)))
    assert len(nodes) >= 4 and {node.scope for node in nodes} == {layer.short_name + "1"}


def _nodes(out):
    found, stack = [], [out.creator]
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(t.creator for t in node.inputs if t.creator is not None)
    return found


@pytest.mark.parametrize("kind", NORM_KINDS)
def test_normalisation_is_one_node_tagged_with_the_layer(kind):
    layer, ndim, op = _norm_layer(kind, 2)
    shape = {2: (4, 2), 4: (2, 2, 2, 2), None: (3, 2)}[ndim]
    nodes = _nodes(nn.Sequential(layer)(np.random.default_rng(0).standard_normal(shape)))
    assert [(node.name, node.scope) for node in nodes] == [
        (op, layer.short_name + "1")]


def _norm_op_fn(kind, ndim_or_shape=None):
    """fn(Z, gamma, beta) calling the op of ``kind`` directly (its running statistics, for
    eval, constants)."""
    if kind == "LayerNorm":
        return lambda X, gamma, beta: LayerNormalize.apply(X, gamma, beta, eps=1e-5)
    if kind.endswith("eval"):
        mean, var = np.array([0.5, -1.0, 2.0]), np.array([4.0, 0.25, 1.0])
        return lambda Z, gamma, beta: BatchNormEval.apply(Z, gamma, beta, mean, var, eps=1e-5)
    return lambda Z, gamma, beta: BatchNorm.apply(Z, gamma, beta,
                                               axis=tuple(range(ndim_or_shape - 1)), eps=1e-5)


@pytest.mark.parametrize("kind, shapes", [
    ("BatchNorm1d, train", [(5, 3), (3,), (3,)]),
    ("BatchNorm1d, eval", [(4, 3), (3,), (3,)]),
    ("BatchNorm2d, train", [(2, 2, 2, 3), (3,), (3,)]),
    ("BatchNorm2d, eval", [(2, 2, 1, 3), (3,), (3,)]),
    ("LayerNorm", [(2, 2, 3), (3,), (3,)]),
], ids=lambda v: v if isinstance(v, str) else "")
def test_normalisation_ops_second_derivatives(kind, shapes):
    """Second derivatives of the fused ops, with respect to Z, gamma and beta: their backward
    recomputes Z_norm on the graph from Z."""
    rng = np.random.default_rng(2)
    inputs = [rng.standard_normal(shapes[0]), rng.uniform(0.5, 2.0, shapes[1]),
              rng.standard_normal(shapes[2])]
    fn = _norm_op_fn(kind, len(shapes[0]))
    assert gg.gradcheck(fn, inputs)
    assert gg.gradgradcheck(fn, inputs)


@pytest.mark.parametrize("kind, shapes", [
    ("BatchNorm1d, train", [(5, 3), (3,), (3,)]),
    ("BatchNorm2d, eval", [(2, 2, 1, 3), (3,), (3,)]),
    ("LayerNorm", [(2, 2, 3), (3,), (3,)]),
], ids=lambda v: v if isinstance(v, str) else "")
def test_normalisation_ops_give_the_same_gradients_with_and_without_create_graph(kind, shapes):
    """The backward on the graph (create_graph) and the plain one are two codings of one
    formula: their dZ, dgamma and dbeta agree to rounding, which gradgradcheck's finite
    differences (rtol 1e-3) cannot tell from an error of 1e-4."""
    rng = np.random.default_rng(3)
    values = [rng.standard_normal(shapes[0]), rng.uniform(0.5, 2.0, shapes[1]),
              rng.standard_normal(shapes[2])]
    G = rng.standard_normal(shapes[0])
    fn = _norm_op_fn(kind, len(shapes[0]))
    grads = []
    for create_graph in (False, True):
        inputs = [gg.Tensor(v, requires_grad=True) for v in values]
        out = fn(*inputs)
        grads.append(gg.grad((out * G).sum(), inputs, create_graph=create_graph))
    for plain, on_graph in zip(*grads):
        np.testing.assert_allclose(on_graph.data, plain, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", NORM_KINDS)
def test_normalisation_ops_skip_the_gradients_not_needed(kind):
    """A frozen gamma and beta, or data that needs no gradient, get none computed."""
    layer, ndim, _ = _norm_layer(kind, 3)
    shape = {2: (4, 3), 4: (2, 2, 2, 3), None: (2, 3)}[ndim]
    Z = np.random.default_rng(3).standard_normal(shape)
    layer.gamma.requires_grad = layer.beta.requires_grad = False
    X = gg.Tensor(Z, requires_grad=True)
    out = layer(X)
    assert out.creator.needs_input_grad[:3] == (True, False, False)
    grads = out.creator.backward(out.creator, np.ones(shape))
    assert grads[1] is None and grads[2] is None and grads[0].shape == shape
    layer.gamma.requires_grad = layer.beta.requires_grad = True
    out = layer(Z)
    assert out.creator.needs_input_grad[:3] == (False, True, True)
    grads = out.creator.backward(out.creator, np.ones(shape))
    assert grads[0] is None and grads[1].shape == grads[2].shape == (3,)


@settings(max_examples=25, deadline=None)
@given(kind=st.sampled_from(NORM_KINDS), lead=st.lists(st.integers(1, 3), min_size=3,
                                                       max_size=3),
       n=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_normalisation_over_random_shapes_passes_gradchecks(kind, lead, n, seed):
    """Each layer over random shapes: its output and gradients are the composed ops', and
    the gradients and second derivatives of Z, gamma and beta pass gradcheck and
    gradgradcheck. A batch norm gets two examples or more (one is refused in training)."""
    layer, ndim, _ = _norm_layer(kind, n)
    shape = (lead[0] + 1, *lead[1:(ndim or len(lead)) - 1], n)
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal(shape) * rng.uniform(0.5, 3) + rng.standard_normal(n)
    gamma, beta = rng.uniform(0.5, 2.0, n), rng.standard_normal(n)
    fused, composed = _fused_and_composed(layer, Z, gamma, beta, rng.standard_normal(shape))
    for got, expected in zip(fused, composed):
        if expected is not None:
            np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)

    def fn(Z, gamma, beta):
        layer.gamma, layer.beta = gamma, beta
        return layer(Z)

    assert gg.gradcheck(fn, [Z, gamma, beta], fast=True)
    assert gg.gradgradcheck(fn, [Z, gamma, beta], fast=True)


@pytest.mark.parametrize("kind", NORM_KINDS)
def test_fused_normalisation_promotes_dtypes_as_the_composed_ops(kind):
    """A float32 layer given a float64 beta computes in float64, as gamma * Z_norm + beta did."""
    layer, ndim, _ = _norm_layer(kind, 3, dtype=np.float32)
    shape = {2: (4, 3), 4: (2, 2, 2, 3), None: (2, 3)}[ndim]
    Z = np.random.default_rng(4).standard_normal(shape).astype(np.float32)
    fused, composed = _fused_and_composed(layer, Z, np.ones(3, np.float32), np.full(3, 0.1),
                                          np.ones(shape))
    assert fused[0].dtype == composed[0].dtype == np.float64
    np.testing.assert_allclose(fused[0], composed[0], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("layer, shape", [(lambda: nn.BatchNorm1d(3), (5, 3)),
                                          (lambda: nn.BatchNorm2d(2), (2, 3, 3, 2))],
                         ids=["1d", "2d"])
def test_batch_norm_without_running_statistics_uses_the_batchs_own_in_eval_too(layer, shape):
    # PyTorch's track_running_stats=False: the buffers set to None, every batch normalised by
    # its own mean and (biased) variance, in training and after eval(), and nothing kept.
    bn = layer()
    bn.running_mean = None
    bn.running_var = None
    Z = np.random.default_rng(0).standard_normal(shape)
    axes = tuple(range(Z.ndim - 1))
    expected = (Z - Z.mean(axis=axes)) / np.sqrt(Z.var(axis=axes) + bn.eps)
    np.testing.assert_allclose(bn(Z).data, expected, rtol=1e-12, atol=1e-12)
    bn.eval()
    out = bn(gg.Tensor(Z, requires_grad=True))
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    assert bn.running_mean is None and bn.running_var is None
    assert list(bn.state_dict()) == ["gamma", "beta"]
    (out * np.arange(out.size).reshape(shape)).sum().backward()  # batch statistics' gradient
    assert np.abs(out.creator.inputs[0].grad.sum(axis=axes)).max() < 1e-9
    with pytest.raises(gg.ArgumentError, match=r"without running statistics .* set "
                                               r"running_mean and running_var to arrays"):
        bn(Z.reshape(-1, Z.shape[-1])[:1].reshape((1,) * (Z.ndim - 1) + (Z.shape[-1],)))


@pytest.mark.parametrize("missing", ["running_mean", "running_var"])
def test_batch_norm_with_one_running_statistic_set_to_none_keeps_neither(missing):
    """Either buffer None is as both: the batch's own statistics, in training and in eval, and
    the other buffer left as it was."""
    bn = nn.BatchNorm1d(3)
    setattr(bn, missing, None)
    other = "running_var" if missing == "running_mean" else "running_mean"
    before = getattr(bn, other).copy()
    Z = np.random.default_rng(1).standard_normal((5, 3)) * 2.0 + 1.0
    expected = (Z - Z.mean(axis=0)) / np.sqrt(Z.var(axis=0) + bn.eps)
    np.testing.assert_allclose(bn(Z).data, expected, rtol=1e-12, atol=1e-12)
    bn.eval()
    np.testing.assert_allclose(bn(Z).data, expected, rtol=1e-12, atol=1e-12)
    assert getattr(bn, missing) is None
    np.testing.assert_array_equal(getattr(bn, other), before)


def test_identity_returns_its_input_itself_and_adds_no_node():
    X = gg.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    Y = X * 2
    layer = nn.Identity(54, unused_argument="ignored")  # PyTorch's ignores its arguments too
    assert layer(Y) is Y and layer(X) is X
    assert layer.parameters() == [] and Y.creator.scope is None  # not tagged as its cluster
    model = nn.Sequential(nn.Linear(3, 3, rng=0), nn.Identity())
    J = model(X.data).sum()
    J.backward()
    np.testing.assert_array_equal(model[0].W.grad, np.ones((3, 2)) @ X.data)


@pytest.mark.parametrize("call, shown", [
    (lambda: nn.Dropout(p=0.2), r"Dropout\(p=0\.2\) is Dropout\(keep_prob=0\.8\) here"),
    (lambda: nn.Dropout2d(p=0.5), r"Dropout2d\(p=0\.5\) is Dropout2d\(keep_prob=0\.5\) here"),
    (lambda: nn.functional.dropout(np.ones(3), p=0.1, training=True),
     r"dropout\(x, p=0\.1\) is dropout\(x, keep_prob=0\.9\) here"),
    (lambda: nn.functional.dropout2d(np.ones((1, 2, 2, 3)), p=0.25),
     r"dropout2d\(x, p=0\.25\) is dropout2d\(x, keep_prob=0\.75\) here"),
    (lambda: nn.Dropout(p="a"), r"Dropout\(p=1 - keep_prob\) is Dropout\(keep_prob=\.\.\.\)"),
], ids=["Dropout", "Dropout2d", "dropout", "dropout2d", "not a number"])
def test_pytorchs_keyword_p_of_dropout_is_refused_with_the_keep_prob_to_write(call, shown):
    """F.dropout(x, p=0.1, training=self.training), PyTorch's keyword, raised Python's bare
    "unexpected keyword argument 'p'"."""
    with pytest.raises(gg.GraphgradTypeError, match=r"keep_prob, the probability of keeping "
                                                    r"a unit, is not PyTorch's p, of dropping "
                                                    rf"it: .*{shown}"):
        call()
    with pytest.raises(TypeError):  # a TypeError, as Python's own for an unknown keyword
        nn.Dropout(p=0.2)


# -- PyTorch's in-place initialisers (nn.init.normal_, ...) ---------------------------------------
def test_pytorchs_in_place_initialisers_fill_a_parameter_from_the_seeded_generator():
    """DCGAN's weights_init (normal_(m.weight, 0.0, 0.02), constant_(m.bias, 0)) and the word
    language model's init_weights (uniform_(-0.1, 0.1), zeros_), with model.apply."""
    def weights_init(m):
        if isinstance(m, nn.Conv2d):
            nn.init.normal_(m.W, 0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.gamma, 1.0, 0.02)
            nn.init.constant_(m.beta, 0)
        elif isinstance(m, nn.Linear):
            nn.init.uniform_(m.W, -0.1, 0.1)
            nn.init.zeros_(m.b)

    model = nn.Sequential(nn.Conv2d(1, 3, 2, dtype=np.float32), BatchNorm2d(3), nn.Flatten(),
                          nn.Linear(27, 2))
    nn.init.seed(5)
    assert model.apply(weights_init) is model
    rng = np.random.default_rng(5)  # the draws, in the order apply visits the layers
    W_conv = rng.normal(0.0, 0.02, (2, 2, 1, 3))
    gamma = rng.normal(1.0, 0.02, (3,))
    W_fc = rng.uniform(-0.1, 0.1, (2, 27))
    np.testing.assert_allclose(model.conv2d1.W.data, W_conv.astype(np.float32), rtol=1e-7)
    assert model.conv2d1.W.dtype == np.float32  # the tensor's dtype is kept
    np.testing.assert_array_equal(model.batchnorm1.gamma.data, gamma)
    np.testing.assert_array_equal(model.batchnorm1.beta.data, np.zeros(3))
    np.testing.assert_array_equal(model.linear1.W.data, W_fc)
    np.testing.assert_array_equal(model.linear1.b.data, np.zeros(2))
    b = model.linear1.b
    assert nn.init.ones_(b) is b and np.array_equal(b.data, np.ones(2))
    nn.init.normal_(b, generator=3)
    np.testing.assert_array_equal(b.data, np.random.default_rng(3).normal(0.0, 1.0, 2))
    # a graph recorded before keeps the values it was computed from
    X = np.ones((1, 27))
    J = (model.linear1(X) ** 2).sum()
    nn.init.constant_(model.linear1.W, 2.0)
    J.backward()
    np.testing.assert_allclose(b.grad, 2 * (W_fc.sum(axis=1) + b.data))
    assert np.array_equal(model.linear1.W.data, np.full((2, 27), 2.0))


@pytest.mark.parametrize("call, error, message", [
    (lambda: nn.init.normal_(np.zeros(3)), gg.GraphgradTypeError,
     r"nn\.init\.normal_ fills a Tensor \(a parameter: m\.W\) in place, got ndarray"),
    (lambda: nn.init.normal_(nn.Linear(2, 2).W, 0.0, -1.0), gg.ArgumentError,
     r"nn\.init\.normal_: std must be a finite number >= 0, got -1\.0"),
    (lambda: nn.init.uniform_(nn.Linear(2, 2).W, 1.0, 0.0), gg.ArgumentError,
     r"nn\.init\.uniform_: a=1\.0 must be at most b=0\.0"),
    (lambda: nn.init.constant_(nn.Linear(2, 2).W, "x"), gg.ArgumentError,
     r"nn\.init\.constant_: val must be a number, got 'x'"),
    (lambda: nn.init.normal_(nn.Linear(2, 2).W, generator="a"), gg.ArgumentError,
     r"nn\.init\.normal_: rng must be None, a seed"),
], ids=["array", "negative std", "a above b", "val", "generator"])
def test_in_place_initialisers_refuse_what_they_cannot_fill(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("fill", [
    lambda t: nn.init.constant_(t, 1.0), nn.init.ones_, nn.init.zeros_,
    lambda t: nn.init.normal_(t, 0.0, 0.1), lambda t: nn.init.uniform_(t, -0.1, 0.1),
], ids=["constant_", "ones_", "zeros_", "normal_", "uniform_"])
def test_in_place_initialisers_refuse_an_ops_output_such_as_a_slice_of_a_parameter(fill):
    """PyTorch's nn.init.constant_(lstm.bias[n:2 * n], 1.0) fills part of the parameter, a
    view; here lstm.cell.bf[0:2] is a new tensor (the output of an op), and filling it left
    the parameter as it was without a word. It is refused, and the parameter keeps its
    values."""
    lstm = nn.LSTM(3, 4)
    before = lstm.cell.bf.data.copy()
    with pytest.raises(gg.GraphgradTypeError,
                       match=r"fills a parameter .* output of GetItem.*\.data\[0:2\]"):
        fill(lstm.cell.bf[0:2])
    np.testing.assert_array_equal(lstm.cell.bf.data, before)
    with pytest.raises(gg.GraphgradTypeError, match=r"output of Mul"):
        fill(lstm.cell.Wf * 2)


# -- PyTorch's scaled initialisers (xavier_, kaiming_, orthogonal_, trunc_normal_) --------------
@pytest.mark.parametrize("nonlinearity, param, gain", [
    ("linear", None, 1.0), ("conv2d", None, 1.0), ("conv_transpose1d", None, 1.0),
    ("sigmoid", None, 1.0), ("tanh", None, 5 / 3), ("relu", None, math.sqrt(2)),
    ("leaky_relu", None, math.sqrt(2 / (1 + 0.01 ** 2))),
    ("leaky_relu", 0.2, math.sqrt(2 / 1.04)), ("leaky_relu", 0, math.sqrt(2)),
    ("selu", None, 0.75),
])
def test_calculate_gain_is_pytorchs_table(nonlinearity, param, gain):
    assert nn.init.calculate_gain(nonlinearity, param) == pytest.approx(gain, rel=1e-15)


# (make the tensor, its fan_in and fan_out): Linear's W (n_out, n_in) as PyTorch's; the
# course's filters (f, f, n_C_prev, n_C) and Conv1d's (f, n_C_prev, n_C), the units last.
FAN_CASES = [
    (lambda: nn.Linear(300, 200).W, 300, 200),
    (lambda: nn.Conv2d(16, 32, 3).W, 3 * 3 * 16, 3 * 3 * 32),
    (lambda: nn.Conv1d(32, 96, 5).W, 5 * 32, 5 * 96),
]
SCALED = [
    ("xavier_uniform_", lambda t, g: nn.init.xavier_uniform_(t, 0.5, generator=g),
     lambda fi, fo: 0.5 * math.sqrt(6 / (fi + fo)), "uniform"),
    ("xavier_normal_", lambda t, g: nn.init.xavier_normal_(t, gain=2.0, generator=g),
     lambda fi, fo: 2.0 * math.sqrt(2 / (fi + fo)), "normal"),
    ("kaiming_uniform_", lambda t, g: nn.init.kaiming_uniform_(t, generator=g),
     lambda fi, fo: math.sqrt(3) * math.sqrt(2) / math.sqrt(fi), "uniform"),  # a=0: relu's
    ("kaiming_uniform_ a=sqrt(5)",  # PyTorch's Linear and Conv2d: bound 1 / sqrt(fan_in)
     lambda t, g: nn.init.kaiming_uniform_(t, a=math.sqrt(5), generator=g),
     lambda fi, fo: 1 / math.sqrt(fi), "uniform"),
    ("kaiming_normal_ relu fan_out",
     lambda t, g: nn.init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu", generator=g),
     lambda fi, fo: math.sqrt(2 / fo), "normal"),
    ("kaiming_normal_ tanh",
     lambda t, g: nn.init.kaiming_normal_(t, nonlinearity="tanh", generator=g),
     lambda fi, fo: 5 / 3 / math.sqrt(fi), "normal"),
]


@pytest.mark.parametrize("make, fan_in, fan_out", FAN_CASES, ids=["linear", "conv2d", "conv1d"])
@pytest.mark.parametrize("name, fill, scale, law", SCALED, ids=[s[0] for s in SCALED])
def test_scaled_initialisers_draw_pytorchs_bound_or_std_from_graphgrads_fans(
        make, fan_in, fan_out, name, fill, scale, law):
    """The values are exactly the generator's draw at the formula's bound (uniform) or std
    (normal), fans read from graphgrad's layouts; their spread over the tensor is the law's."""
    W = make()
    assert fill(W, 7) is W
    expected = scale(fan_in, fan_out)
    rng = np.random.default_rng(7)
    draw = (rng.uniform(-expected, expected, W.shape) if law == "uniform"
            else rng.normal(0.0, expected, W.shape))
    np.testing.assert_allclose(W.data, draw, rtol=1e-12)
    std = expected / math.sqrt(3) if law == "uniform" else expected
    assert W.data.std() == pytest.approx(std, rel=0.05)  # >= 15,000 values
    if law == "uniform":
        assert np.abs(W.data).max() <= expected


@pytest.mark.parametrize("fill", [
    nn.init.xavier_uniform_, nn.init.xavier_normal_, nn.init.kaiming_uniform_,
    nn.init.kaiming_normal_, nn.init.orthogonal_, nn.init.trunc_normal_,
], ids=lambda f: f.__name__)
def test_scaled_initialisers_keep_the_dtype_and_follow_nn_init_seed(fill):
    W = nn.Linear(6, 4, dtype=np.float32).W
    nn.init.seed(11)
    fill(W)
    first = W.data.copy()
    assert W.dtype == np.float32 and W.shape == (4, 6)
    nn.init.seed(11)
    fill(W)
    np.testing.assert_array_equal(W.data, first)
    fill(W, generator=np.random.default_rng(11))
    np.testing.assert_array_equal(W.data, first)
    fill(W)  # the module's generator has moved on
    assert not np.array_equal(W.data, first)


@pytest.mark.parametrize("make", [
    lambda: nn.Linear(7, 3).W, lambda: nn.Linear(3, 7).W, lambda: nn.Linear(5, 5).W,
    lambda: nn.Conv2d(2, 5, 3).W, lambda: nn.Conv2d(4, 64, 3).W,
], ids=["wide", "tall", "square", "conv2d", "conv2d more units than inputs"])
def test_orthogonal_gives_orthonormal_rows_or_columns_times_gain(make):
    """W @ W.T = gain**2 I on the smaller side; a convolution's filters are the matrix
    (n_C, f * f * n_C_prev) of its units."""
    W = make()
    nn.init.orthogonal_(W, gain=1.5, generator=2)
    M = W.data if W.ndim == 2 else W.data.reshape(-1, W.shape[-1]).T
    small = min(M.shape)
    product = M @ M.T if M.shape[0] == small else M.T @ M
    np.testing.assert_allclose(product, 1.5 ** 2 * np.eye(small), atol=1e-12)


def test_trunc_normal_stays_in_a_b_with_the_truncated_normals_mean_and_std():
    W = nn.Linear(400, 250).W
    mean, std, a, b = 0.5, 2.0, -1.0, 4.0
    assert nn.init.trunc_normal_(W, mean, std, a, b, generator=4) is W
    assert a <= W.data.min() and W.data.max() <= b
    alpha, beta = (a - mean) / std, (b - mean) / std
    pdf = [math.exp(-x * x / 2) / math.sqrt(2 * math.pi) for x in (alpha, beta)]
    Z = (math.erf(beta / math.sqrt(2)) - math.erf(alpha / math.sqrt(2))) / 2
    shift = (pdf[0] - pdf[1]) / Z
    expected_mean = mean + std * shift
    expected_std = std * math.sqrt(1 + (alpha * pdf[0] - beta * pdf[1]) / Z - shift ** 2)
    assert W.data.mean() == pytest.approx(expected_mean, abs=0.01)
    assert W.data.std() == pytest.approx(expected_std, rel=0.01)
    # PyTorch's default, [-2, 2] around N(0, 1): a std of 0.88
    nn.init.trunc_normal_(W, generator=4)
    assert np.abs(W.data).max() <= 2 and W.data.std() == pytest.approx(0.8796, rel=0.01)


@pytest.mark.parametrize("call, error, message", [
    (lambda: nn.init.xavier_uniform_(nn.Linear(2, 3).b), gg.ShapeError,
     r"nn\.init\.xavier_uniform_: fan in and fan out need a weight of 2 or more axes"),
    (lambda: nn.init.kaiming_normal_(nn.Linear(2, 3).W, mode="in"), gg.ArgumentError,
     r"nn\.init\.kaiming_normal_: mode must be 'fan_in' .* got 'in'"),
    (lambda: nn.init.kaiming_uniform_(nn.Linear(2, 3).W, nonlinearity="gelu"),
     gg.ArgumentError, r"nn\.init\.calculate_gain: unsupported nonlinearity 'gelu'"),
    (lambda: nn.init.calculate_gain("leaky_relu", "x"), gg.ArgumentError,
     r"nn\.init\.calculate_gain: param \(the negative slope\) must be a number, got 'x'"),
    (lambda: nn.init.xavier_normal_(nn.Linear(2, 3).W, gain=-1), gg.ArgumentError,
     r"nn\.init\.xavier_normal_: gain must be a finite number >= 0, got -1"),
    (lambda: nn.init.orthogonal_(np.zeros((2, 2))), gg.GraphgradTypeError,
     r"nn\.init\.orthogonal_ fills a Tensor"),
    (lambda: nn.init.orthogonal_(nn.Linear(2, 3).W * 2), gg.GraphgradTypeError,
     r"output of Mul"),
    (lambda: nn.init.trunc_normal_(nn.Linear(2, 3).W, a=1.0, b=1.0), gg.ArgumentError,
     r"nn\.init\.trunc_normal_: a=1\.0 must be below b=1\.0"),
    (lambda: nn.init.trunc_normal_(nn.Linear(2, 3).W, std=0.0), gg.ArgumentError,
     r"nn\.init\.trunc_normal_: std must be a finite number > 0, got 0\.0"),
    (lambda: nn.init.trunc_normal_(nn.Linear(2, 3).W, mean=100.0), gg.ArgumentError,
     r"\[a, b\] = \[-2\.0, 2\.0\] holds almost none of N\(100\.0, 1\.0\*\*2\)"),
    (lambda: nn.init.kaiming_normal_(nn.Linear(2, 3).W, generator="a"), gg.ArgumentError,
     r"nn\.init\.kaiming_normal_: rng must be None, a seed"),
], ids=["bias", "mode", "nonlinearity", "param", "gain", "array", "op output", "a = b",
        "std 0", "far mean", "generator"])
def test_scaled_initialisers_refuse_what_they_cannot_fill(call, error, message):
    with pytest.raises(error, match=message):
        call()
