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
