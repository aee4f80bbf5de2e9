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
