"""PyTorch's options of the normalisation layers: BatchNorm1d/2d's affine,
track_running_stats and momentum=None (the cumulative average), LayerNorm's
normalized_shape, elementwise_affine and bias, InstanceNorm's running statistics and
InstanceNorm1d. Values against numpy by hand, gradients by gradcheck in float64, the
state_dict's keys and shapes, training against evaluation, and the settings refused."""
import numpy as np
import pytest

import graphgrad as gg
import graphgrad.nn.functional as F
from graphgrad import nn


def _randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _batch_normalised(Z, eps=1e-5):
    axes = tuple(range(Z.ndim - 1))
    return (Z - Z.mean(axis=axes)) / np.sqrt(Z.var(axis=axes) + eps)


# -- BatchNorm: affine, track_running_stats, momentum=None ---------------------------------------
@pytest.mark.parametrize("make, shape", [(lambda **k: nn.BatchNorm1d(3, **k), (6, 3)),
                                         (lambda **k: nn.BatchNorm1d(3, **k), (2, 4, 3)),
                                         (lambda **k: nn.BatchNorm2d(3, **k), (2, 3, 2, 3))],
                         ids=["1d", "1d sequences", "2d"])
def test_batch_norm_without_affine_has_no_parameters_and_outputs_z_norm(make, shape):
    bn = make(affine=False)
    assert bn.gamma is None and bn.beta is None and bn.parameters() == []
    assert {k: v.shape for k, v in bn.state_dict().items()} == {"running_mean": (3,),
                                                                "running_var": (3,)}
    Z = _randn(*shape) * 2.0 + 1.0
    np.testing.assert_allclose(bn(Z).data, _batch_normalised(Z), rtol=1e-12, atol=1e-12)
    axes = tuple(range(Z.ndim - 1))
    np.testing.assert_allclose(bn.running_mean, 0.1 * Z.mean(axis=axes), rtol=1e-12)
    np.testing.assert_allclose(bn.running_var, 0.9 + 0.1 * Z.var(axis=axes), rtol=1e-12)
    assert gg.gradcheck(lambda Z: make(affine=False)(Z), [Z])
    bn.eval()
    expected = (Z - bn.running_mean) / np.sqrt(bn.running_var + 1e-5)
    np.testing.assert_allclose(bn(Z).data, expected, rtol=1e-12, atol=1e-12)
    assert gg.gradcheck(lambda Z: bn(Z), [Z])
    assert "affine=False" in repr(bn)


def test_batch_norm_without_affine_keeps_its_dtype_through_astype():
    bn = nn.BatchNorm1d(2, affine=False, dtype=np.float32)
    assert bn(_randn(4, 2)).dtype == np.float32
    bn.astype(np.float64)
    assert bn(_randn(4, 2).astype(np.float32)).dtype == np.float64


@pytest.mark.parametrize("make, shape", [(lambda **k: nn.BatchNorm1d(3, **k), (5, 3)),
                                         (lambda **k: nn.BatchNorm2d(3, **k), (2, 2, 3, 3))],
                         ids=["1d", "2d"])
def test_batch_norm_without_tracking_keeps_no_buffers_and_uses_the_batch_in_eval(make, shape):
    bn = make(track_running_stats=False)
    assert bn.running_mean is None and bn.running_var is None
    assert {k: v.shape for k, v in bn.state_dict().items()} == {"gamma": (3,), "beta": (3,)}
    assert bn.buffers() == []
    Z = _randn(*shape, seed=1) * 3.0 - 1.0
    bn.gamma.data = np.array([1.0, 2.0, 0.5])
    bn.beta.data = np.array([0.0, -1.0, 3.0])
    expected = _batch_normalised(Z) * bn.gamma.data + bn.beta.data
    np.testing.assert_allclose(bn(Z).data, expected, rtol=1e-12, atol=1e-12)
    bn.eval()
    np.testing.assert_allclose(bn(Z).data, expected, rtol=1e-12, atol=1e-12)
    gamma, beta = bn.gamma.data.copy(), bn.beta.data.copy()

    def fn(Z, gamma, beta):
        bn.gamma, bn.beta = gamma, beta
        return bn(Z)

    assert gg.gradcheck(fn, [Z, gamma, beta])
    assert "track_running_stats=False" in repr(make(track_running_stats=False))


def test_track_running_stats_set_false_later_freezes_the_statistics_as_pytorchs():
    """PyTorch's layer with its buffers and track_running_stats=False set afterwards: training
    normalises by the batch and leaves the buffers; evaluation uses them."""
    bn = nn.BatchNorm1d(2)
    bn.running_mean = np.array([1.0, -1.0])
    bn.running_var = np.array([4.0, 0.25])
    bn.track_running_stats = False
    Z = _randn(5, 2, seed=2)
    np.testing.assert_allclose(bn(Z).data, _batch_normalised(Z), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(bn.running_mean, [1.0, -1.0])
    np.testing.assert_array_equal(bn.running_var, [4.0, 0.25])
    bn.eval()
    expected = (Z - [1.0, -1.0]) / np.sqrt(np.array([4.0, 0.25]) + 1e-5)
    np.testing.assert_allclose(bn(Z).data, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("make, shape", [(lambda: nn.BatchNorm1d(3, momentum=None), (4, 3)),
                                         (lambda: nn.BatchNorm2d(3, momentum=None),
                                          (2, 2, 2, 3))], ids=["1d", "2d"])
def test_momentum_none_keeps_the_mean_of_every_batchs_statistics(make, shape):
    """PyTorch's cumulative average: after k batches, the running statistics are the mean
    of the k batches' (biased variances here, as with an exponential average)."""
    bn = make()
    assert bn.momentum is None and int(bn.num_batches_tracked) == 0
    rng = np.random.default_rng(3)
    batches = [rng.standard_normal(shape) * (k + 1) + k for k in range(4)]
    axes = tuple(range(len(shape) - 1))
    for k, Z in enumerate(batches, 1):
        bn(Z)
        assert int(bn.num_batches_tracked) == k
        np.testing.assert_allclose(
            bn.running_mean, np.mean([B.mean(axis=axes) for B in batches[:k]], axis=0),
            rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(
            bn.running_var, np.mean([B.var(axis=axes) for B in batches[:k]], axis=0),
            rtol=1e-12)
    state = bn.state_dict()
    assert {k: v.shape for k, v in state.items()} == {
        "gamma": (3,), "beta": (3,), "running_mean": (3,), "running_var": (3,),
        "num_batches_tracked": ()}
    assert state["num_batches_tracked"].dtype == np.int64
    # a layer loaded from it goes on with the fifth batch weighing 1/5
    again = make()
    again.load_state_dict(state)
    Z = rng.standard_normal(shape)
    again(Z)
    np.testing.assert_allclose(again.running_mean,
                               np.mean([B.mean(axis=axes) for B in [*batches, Z]], axis=0),
                               rtol=1e-12, atol=1e-14)
    # in evaluation nothing is counted, and a batch with NaN is not counted either
    again.eval()
    again(Z)
    again.train()
    bad = Z.copy()
    bad[0] = np.nan
    again(bad)
    assert int(again.num_batches_tracked) == 5
    assert "momentum=None" in repr(bn)


def test_momentum_none_without_tracking_has_no_count():
    bn = nn.BatchNorm1d(2, momentum=None, track_running_stats=False)
    assert bn.num_batches_tracked is None and bn.state_dict().keys() == {"gamma", "beta"}
    Z = _randn(4, 2)
    np.testing.assert_allclose(bn(Z).data, _batch_normalised(Z), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("setting", [{"affine": 1}, {"track_running_stats": None},
                                     {"affine": "no"}], ids=str)
@pytest.mark.parametrize("layer", [nn.BatchNorm1d, nn.BatchNorm2d])
def test_batch_norm_flags_are_refused_naming_the_layer(layer, setting):
    name = next(iter(setting))
    with pytest.raises(gg.ArgumentError, match=rf"^{layer.__name__}: {name} must be True or "
                                               "False"):
        layer(3, **setting)


@pytest.mark.parametrize("layer", [nn.BatchNorm1d, nn.BatchNorm2d])
def test_batch_norm_in_pytorchs_positional_order_is_refused_saying_what_to_write(layer):
    """PyTorch's BatchNorm2d(num_features, eps, momentum, affine): its eps lands in the
    course's momentum, its momentum in eps and its affine flag in dtype. The refusal gives the
    call with the settings by name, PyTorch's momentum=0.1 as the course's 0.9."""
    name = layer.__name__
    message = (rf"^{name}: dtype must be np.float64 or np.float32, got False, a flag: "
               rf"PyTorch's order is {name}\(num_features, eps, momentum, affine, "
               rf"track_running_stats\), the course's {name}\(n, momentum, eps, dtype\); "
               rf"write {name}\(3, momentum=0.9, eps=1e-05, affine=False\)")
    with pytest.raises(gg.ArgumentError, match=message):
        layer(3, 1e-5, 0.1, False)
    with pytest.raises(gg.ArgumentError, match=rf"write {name}\(3, momentum=0.99, "
                                               r"eps=0.001, affine=True\)"):
        layer(3, 1e-3, 0.01, True)


def test_functional_batch_norm_refuses_momentum_none_and_points_at_the_layer():
    """PyTorch's F.batch_norm takes no momentum=None either (it keeps no count)."""
    with pytest.raises(gg.ArgumentError, match=r"^batch_norm: momentum=None .* needs the count "
                                               r"of batches .*BatchNorm1d\(n, momentum=None\)"):
        F.batch_norm(_randn(4, 3), np.zeros(3), np.ones(3), training=True, momentum=None)


# -- LayerNorm: normalized_shape, elementwise_affine, bias ---------------------------------------
def _layer_normalised(X, k, eps=1e-5):
    axes = tuple(range(X.ndim - k, X.ndim))
    return (X - X.mean(axis=axes, keepdims=True)) / np.sqrt(X.var(axis=axes, keepdims=True)
                                                            + eps)


def test_layer_norm_over_a_tuple_of_trailing_axes_has_gamma_and_beta_of_that_shape():
    layer = nn.LayerNorm((3, 4))
    assert layer.normalized_shape == (3, 4)
    assert {k: v.shape for k, v in layer.state_dict().items()} == {"gamma": (3, 4),
                                                                   "beta": (3, 4)}
    rng = np.random.default_rng(4)
    gamma, beta = rng.uniform(0.5, 2.0, (3, 4)), rng.standard_normal((3, 4))
    layer.gamma.data, layer.beta.data = gamma.copy(), beta.copy()
    X = rng.standard_normal((2, 5, 3, 4)) * 2.0 + 1.0
    expected = _layer_normalised(X, 2) * gamma + beta
    np.testing.assert_allclose(layer(X).data, expected, rtol=1e-12, atol=1e-12)
    assert layer.count_parameters() == 24 and "LayerNorm((3, 4), eps=1e-05)" in repr(layer)
    np.testing.assert_allclose(nn.LayerNorm([3, 4])(X).data, _layer_normalised(X, 2),
                               rtol=1e-12, atol=1e-12)

    def fn(X, gamma, beta):
        layer.gamma, layer.beta = gamma, beta
        return layer(X)

    assert gg.gradcheck(fn, [X[:, :2], gamma, beta])
    assert gg.gradgradcheck(fn, [X[:1, :2], gamma, beta], fast=True)
    np.testing.assert_allclose(F.layer_norm(X, (3, 4), gamma, beta).data, expected,
                               rtol=1e-12, atol=1e-12)


def test_layer_norm_without_elementwise_affine_has_no_parameters():
    layer = nn.LayerNorm(4, elementwise_affine=False)
    assert layer.gamma is None and layer.beta is None and layer.state_dict() == {}
    X = _randn(3, 2, 4, seed=5) * 3.0 - 2.0
    np.testing.assert_allclose(layer(X).data, _layer_normalised(X, 1), rtol=1e-12, atol=1e-12)
    out = layer(gg.Tensor(X, requires_grad=True))
    assert out.creator.name == "LayerNormalize" and len(out.creator.inputs) == 1
    assert gg.gradcheck(layer, [X])
    assert gg.gradgradcheck(layer, [X[:2]])
    assert repr(layer) == "LayerNorm(4, eps=1e-05, elementwise_affine=False)"
    # bias=False too, and over several axes: still no parameters
    both = nn.LayerNorm((2, 4), elementwise_affine=False, bias=False)
    assert both.parameters() == []
    np.testing.assert_allclose(both(X).data, _layer_normalised(X, 2), rtol=1e-12, atol=1e-12)
    assert gg.gradcheck(both, [X])
    np.testing.assert_allclose(F.layer_norm(X, 4).data, _layer_normalised(X, 1), rtol=1e-12,
                               atol=1e-12)


def test_layer_norm_without_bias_scales_only():
    layer = nn.LayerNorm(3, bias=False)
    assert layer.beta is None and {k: v.shape for k, v in layer.state_dict().items()} == {
        "gamma": (3,)}
    gamma = np.array([2.0, -1.0, 0.5])
    X = _randn(4, 3, seed=6)
    layer.gamma.data = gamma.copy()
    np.testing.assert_allclose(layer(X).data, _layer_normalised(X, 1) * gamma, rtol=1e-12,
                               atol=1e-12)
    assert layer.single_node and repr(layer).startswith("LayerNorm(3, eps=1e-05, bias=False)")

    def fn(X, gamma):
        layer.gamma = gamma
        return layer(X)

    assert gg.gradcheck(fn, [X, gamma])
    assert gg.gradgradcheck(fn, [X, gamma])
    np.testing.assert_allclose(F.layer_norm(X, 3, weight=gamma).data,
                               _layer_normalised(X, 1) * gamma, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(F.layer_norm(X, 3, bias=gamma).data,
                               _layer_normalised(X, 1) + gamma, rtol=1e-12, atol=1e-12)
    assert gg.gradcheck(lambda X, b: F.layer_norm(X, 3, bias=b), [X, gamma])


def test_layer_norm_options_keep_float32():
    layer = nn.LayerNorm((2, 3), elementwise_affine=False, dtype=np.float32)
    assert layer(_randn(4, 2, 3)).dtype == np.float32
    layer = nn.LayerNorm(3, bias=False, dtype=np.float32)
    X = gg.Tensor(_randn(4, 3).astype(np.float32), requires_grad=True)
    layer(X).sum().backward()
    assert X.grad.dtype == layer.gamma.grad.dtype == np.float32


@pytest.mark.parametrize("call, error, message", [
    (lambda: nn.LayerNorm(4, 1e-5, np.float32), gg.ArgumentError,
     r"^LayerNorm: elementwise_affine must be True or False, got .*float32.*a dtype: give it "
     r"as a keyword"),
    (lambda: nn.LayerNorm(4, elementwise_affine=1), gg.ArgumentError,
     r"^LayerNorm: elementwise_affine must be True or False, got 1"),
    (lambda: nn.LayerNorm(4, bias=None), gg.ArgumentError,
     r"^LayerNorm: bias must be True or False, got None"),
    (lambda: nn.LayerNorm((3, 0)), gg.ArgumentError,
     r"^LayerNorm: normalized_shape must be a whole number of at least 1, got 0"),
    (lambda: nn.LayerNorm(()), gg.ArgumentError, r"^LayerNorm: normalized_shape must name one "
                                                 r"axis or more"),
    (lambda: nn.LayerNorm((3, 4))(np.ones((2, 4, 3))), gg.ShapeError,
     r"^LayerNorm\(\(3, 4\)\) takes X of shape \(\.\.\., 3, 4\).*\(2, 4, 3\)"),
    (lambda: nn.LayerNorm((2, 3, 4))(np.ones((3, 4))), gg.ShapeError,
     r"^LayerNorm\(\(2, 3, 4\)\) takes X of shape \(\.\.\., 2, 3, 4\)"),
], ids=["dtype third", "affine 1", "bias None", "size 0", "no axis", "axes swapped",
        "too few axes"])
def test_layer_norm_settings_and_shapes_are_refused_saying_what_to_write(call, error, message):
    with pytest.raises(error, match=message):
        call()


# -- InstanceNorm: running statistics, InstanceNorm1d, F.instance_norm's ------------------------
def _instance_stats(X):
    """Each example's and channel's mean and biased variance over its positions: (m, n_C)."""
    axes = tuple(range(1, X.ndim - 1))
    return X.mean(axis=axes), X.var(axis=axes)


def _instance_normalised(X, eps=1e-5):
    axes = tuple(range(1, X.ndim - 1))
    return (X - X.mean(axis=axes, keepdims=True)) / np.sqrt(X.var(axis=axes, keepdims=True)
                                                            + eps)


INSTANCE_NORMS = [(lambda **k: nn.InstanceNorm2d(3, **k), (2, 4, 5, 3)),
                  (lambda **k: nn.InstanceNorm1d(3, **k), (4, 6, 3))]


@pytest.mark.parametrize("make, shape", INSTANCE_NORMS, ids=["2d", "1d"])
@pytest.mark.parametrize("affine", [False, True])
def test_instance_norm_tracks_the_mean_of_each_batchs_instance_statistics(make, shape, affine):
    """Training: each instance by its own statistics, and running = momentum * running +
    (1 - momentum) * (the batch's mean of its instances' mean, and of their biased variance),
    over three batches; evaluation: every instance by the running statistics."""
    layer = make(track_running_stats=True, affine=affine, momentum=0.8)
    assert {k: v.shape for k, v in layer.state_dict().items()} == dict(
        {"running_mean": (3,), "running_var": (3,)}, **(
            {"gamma": (3,), "beta": (3,)} if affine else {}))
    if affine:
        layer.gamma.data[...] = [0.5, 2.0, -1.0]
        layer.beta.data[...] = [0.1, 0.2, 0.3]
    gamma = layer.gamma.data if affine else 1.0
    beta = layer.beta.data if affine else 0.0
    mean, var = np.zeros(3), np.ones(3)
    for seed in range(3):
        X = _randn(*shape, seed=seed) * (seed + 1.0) + seed
        np.testing.assert_allclose(layer(X).data, gamma * _instance_normalised(X) + beta,
                                   rtol=1e-12, atol=1e-12)
        mu, sigma2 = _instance_stats(X)
        mean = 0.8 * mean + 0.2 * mu.mean(axis=0)
        var = 0.8 * var + 0.2 * sigma2.mean(axis=0)
        np.testing.assert_allclose(layer.running_mean, mean, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(layer.running_var, var, rtol=1e-12)
    assert gg.gradcheck(lambda X: make(track_running_stats=True, affine=affine)(X), [X])
    layer.eval()
    Y = _randn(*shape, seed=7)
    expected = gamma * (Y - mean) / np.sqrt(var + 1e-5) + beta
    np.testing.assert_allclose(layer(Y).data, expected, rtol=1e-12, atol=1e-12)
    assert type(layer(gg.Tensor(Y, requires_grad=True)).creator).__name__ == "BatchNormEval"
    np.testing.assert_allclose(layer.running_mean, mean, rtol=1e-12, atol=1e-15)  # untouched
    if affine:
        assert gg.gradcheck(lambda Y, g, b: nn.functional_call(layer, {"gamma": g, "beta": b},
                                                               (Y,)), [Y, gamma, beta])
    else:
        assert gg.gradcheck(layer, [Y])
    # one position per instance: fine in evaluation, by the running statistics
    one = Y[:, :1] if len(shape) == 3 else Y[:, :1, :1]
    np.testing.assert_allclose(layer(one).data, expected[:, :1] if len(shape) == 3
                               else expected[:, :1, :1], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("make, shape", INSTANCE_NORMS, ids=["2d", "1d"])
def test_instance_norm_without_tracking_is_the_same_in_training_and_evaluation(make, shape):
    layer = make(affine=True)
    assert layer.running_mean is None and layer.running_var is None and layer.buffers() == []
    assert set(layer.state_dict()) == {"gamma", "beta"}
    X = _randn(*shape) * 3.0 - 1.0
    np.testing.assert_allclose(layer(X).data, _instance_normalised(X), rtol=1e-12, atol=1e-12)
    layer.eval()
    np.testing.assert_allclose(layer(X).data, _instance_normalised(X), rtol=1e-12, atol=1e-12)
    assert gg.gradcheck(lambda X, g, b: nn.functional_call(layer, {"gamma": g, "beta": b},
                                                           (X,)), [X, np.ones(3), np.zeros(3)])
    assert gg.gradgradcheck(lambda X: make()(X), [X[:2]])
    # set to False on a layer that keeps them: by the instances' own, the buffers untouched
    tracked = make(track_running_stats=True)
    tracked.track_running_stats = False
    np.testing.assert_allclose(tracked(X).data, _instance_normalised(X), rtol=1e-12,
                               atol=1e-12)
    np.testing.assert_array_equal(tracked.running_mean, np.zeros(3))


def test_instance_norm1d_normalises_each_sequence_and_channel_over_its_steps():
    """(m, n_L, n_C), channels last as Conv1d's: by hand, sequence [1, 2, 3, 6] has mean 3 and
    biased variance 3.5."""
    X = np.array([[[1.0, 0.0], [2.0, 4.0], [3.0, 0.0], [6.0, 4.0]]])
    out = nn.InstanceNorm1d(2, eps=0.0 + 1e-12)(X).data
    np.testing.assert_allclose(out[0, :, 0], np.array([-2.0, -1.0, 0.0, 3.0]) / np.sqrt(3.5),
                               rtol=1e-9)
    np.testing.assert_allclose(out[0, :, 1], [-1.0, 1.0, -1.0, 1.0], rtol=1e-9)
    assert repr(nn.InstanceNorm1d(2)) == "InstanceNorm1d(2, eps=1e-05)"
    assert repr(nn.InstanceNorm1d(2, track_running_stats=True, affine=True)) == (
        "InstanceNorm1d(2, eps=1e-05, momentum=0.9, affine=True, track_running_stats=True)"
        "  # 4 parameters")
    assert nn.InstanceNorm1d(2, dtype=np.float32)(X).dtype == np.float32
    layer = nn.InstanceNorm2d(2, track_running_stats=True, dtype=np.float32)
    layer(np.ones((2, 2, 2, 2)) + np.arange(2.0))
    assert layer.running_mean.dtype == np.float32
    assert layer.eval()(np.ones((1, 2, 2, 2))).dtype == np.float32


def test_instance_norm_running_statistics_skip_a_batch_with_nan_and_an_empty_batch():
    layer = nn.InstanceNorm2d(2, track_running_stats=True)
    X = _randn(2, 3, 3, 2)
    X[0, 1, 1, 0] = np.nan
    out = layer(X)
    assert np.isnan(out.data[0, ..., 0]).all() and np.isfinite(out.data[1]).all()
    np.testing.assert_array_equal(layer.running_mean, np.zeros(2))
    np.testing.assert_array_equal(layer.running_var, np.ones(2))
    assert layer(np.zeros((0, 3, 3, 2))).shape == (0, 3, 3, 2)
    np.testing.assert_array_equal(layer.running_var, np.ones(2))
    with gg.no_grad():  # nothing recorded: the statistics are computed again
        layer(np.ones((2, 2, 2, 2)) * np.arange(4.0).reshape(1, 2, 2, 1))
    np.testing.assert_allclose(layer.running_mean, [0.15, 0.15], rtol=1e-12)
    np.testing.assert_allclose(layer.running_var, 0.9 + 0.1 * 1.25, rtol=1e-12)


def test_functional_instance_norm_takes_pytorchs_running_statistics_and_use_input_stats():
    """F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats,
    momentum, eps): the running statistics updated in place from the instances' own, or,
    with use_input_stats=False, normalising and left as they are."""
    X = _randn(3, 4, 2, 2) * 2.0 + 0.5
    mean, var = np.full(2, 0.5), np.full(2, 2.0)
    w, b = np.array([1.5, -0.5]), np.array([0.0, 1.0])
    out = F.instance_norm(X, mean, var, w, b, True, 0.7, 1e-3)
    np.testing.assert_allclose(out.data, w * _instance_normalised(X, 1e-3) + b, rtol=1e-12,
                               atol=1e-12)
    mu, sigma2 = _instance_stats(X)
    np.testing.assert_allclose(mean, 0.7 * 0.5 + 0.3 * mu.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(var, 0.7 * 2.0 + 0.3 * sigma2.mean(axis=0), rtol=1e-12)
    before = mean.copy(), var.copy()
    Y = _randn(2, 3, 3, 2, seed=1)
    out = F.instance_norm(Y, mean, var, w, b, use_input_stats=False, eps=1e-3)
    np.testing.assert_allclose(out.data, w * (Y - before[0]) / np.sqrt(before[1] + 1e-3) + b,
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(mean, before[0])
    np.testing.assert_array_equal(var, before[1])
    assert gg.gradcheck(lambda Y, w, b: F.instance_norm(Y, mean, var, w, b, False), [Y, w, b])
    assert gg.gradcheck(lambda Y, w, b: F.instance_norm(Y, None, None, w, b), [Y, w, b])
    # gg.Tensors as running statistics are updated in place too; sequences (m, n_L, n_C)
    m, v = gg.Tensor(np.zeros(2)), gg.Tensor(np.ones(2))
    S = _randn(2, 5, 2, seed=3)
    F.instance_norm(S, m, v)
    mu, sigma2 = _instance_stats(S)
    np.testing.assert_allclose(m.data, 0.1 * mu.mean(axis=0), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(v.data, 0.9 + 0.1 * sigma2.mean(axis=0), rtol=1e-12)


def test_instance_norm_momentum_below_a_half_warns_that_it_reads_as_pytorchs():
    with pytest.warns(gg.ConventionWarning, match=r"InstanceNorm2d\(momentum=0.1\) keeps 10%"):
        nn.InstanceNorm2d(3, momentum=0.1, track_running_stats=True)
    with pytest.warns(gg.ConventionWarning, match=r"instance_norm\(x, \.\.\., momentum=0.1\)"):
        F.instance_norm(np.ones((1, 2, 2, 2)) * np.arange(2.0), np.zeros(2), np.ones(2),
                        momentum=0.1)


@pytest.mark.parametrize("call, error, message", [
    (lambda: nn.InstanceNorm2d(3, 1e-5, True), gg.ArgumentError,
     r"^InstanceNorm2d: momentum must be a number in \[0, 1\), got True: PyTorch's order is "
     r"InstanceNorm2d\(num_features, eps, momentum, affine, track_running_stats\); write "
     r"InstanceNorm2d\(3, affine=True\)"),
    (lambda: nn.InstanceNorm1d(3, momentum=None, track_running_stats=True), gg.ArgumentError,
     r"^InstanceNorm1d: momentum=None.*PyTorch's InstanceNorm never updates"),
    (lambda: nn.InstanceNorm2d(3, momentum=1.0), gg.ArgumentError,
     r"^InstanceNorm2d: momentum must be in \[0, 1\)"),
    (lambda: nn.InstanceNorm2d(3, track_running_stats=1), gg.ArgumentError,
     r"^InstanceNorm2d: track_running_stats must be True or False, got 1"),
    (lambda: nn.InstanceNorm1d(3)(np.ones((2, 4, 4, 3))), gg.ShapeError,
     r"^InstanceNorm1d\(3, eps=1e-05\) takes sequences A of shape \(m, n_L, 3\).*"
     r"\(2, 4, 4, 3\) \(images: InstanceNorm2d\)"),
    (lambda: nn.InstanceNorm1d(3)(np.ones((4, 3))), gg.ShapeError,
     r"\(4, 3\) \(one sequence\? add the batch axis: A\[None\]\)"),
    (lambda: nn.InstanceNorm1d(3, track_running_stats=True)(np.ones((2, 1, 3))),
     gg.ArgumentError, r"^InstanceNorm1d\(3, .*\) got sequences of one step"),
    (lambda: F.instance_norm(np.ones((1, 2, 2, 3)), np.ones(3)), gg.ArgumentError,
     r"^instance_norm: give both running_mean and running_var, or neither"),
    (lambda: F.instance_norm(np.ones((1, 2, 2, 3)), use_input_stats=False), gg.ArgumentError,
     r"^instance_norm: use_input_stats=False normalises by running_mean and running_var"),
    (lambda: F.instance_norm(np.ones((1, 2, 2, 3)), np.ones(2), np.ones(2)),
     gg.GraphgradTypeError, r"^instance_norm: running_mean must be None or a float array"),
    (lambda: F.instance_norm(np.ones((1, 2, 2, 3)), None, None, None, None, 1),
     gg.ArgumentError, r"^instance_norm: use_input_stats must be True or False, got 1"),
], ids=["affine third", "momentum None", "momentum 1", "flag 1", "1d on images",
        "1d unbatched", "one step", "one statistic", "no statistics", "wrong shape",
        "use_input_stats 1"])
def test_instance_norm_settings_are_refused_saying_what_to_write(call, error, message):
    with pytest.raises(error, match=message):
        call()
