"""graphgrad.nn.functional: the module itself (what it re-exports is the object it names, not a
copy), each function written for it gradient-checked in float64 over a table of cases and over
shapes hypothesis draws, each layer against its function (the same values and gradients, bit
for bit), one_hot, normalize and pairwise_distance against the math, batch_norm's running
statistics, and the errors (the function, the tensors' names and shapes)."""
import inspect
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphgrad as gg
import graphgrad.nn.functional as F
from graphgrad import nn

RNG = np.random.default_rng(0)


def randn(*shape):
    return RNG.standard_normal(shape)


# -- the module ---------------------------------------------------------------------------------
def test_it_is_imported_as_F_and_is_nn_functional():
    assert gg.nn.functional is F
    assert "functional" in nn.__all__
    for name in F.__all__:
        assert callable(getattr(F, name)), name
    assert len(set(F.__all__)) == len(F.__all__)


@pytest.mark.parametrize("name, original", [
    ("relu", gg.relu), ("sigmoid", gg.sigmoid), ("tanh", gg.tanh), ("leaky_relu", gg.leaky_relu),
    ("elu", gg.elu), ("gelu", gg.gelu), ("silu", gg.silu), ("softplus", gg.softplus),
    ("log_sigmoid", gg.log_sigmoid), ("softmax", gg.softmax), ("log_softmax", gg.log_softmax),
    ("conv1d", gg.conv1d), ("conv2d", gg.conv2d), ("conv_transpose2d", gg.conv_transpose2d),
    ("max_pool2d", gg.max_pool2d), ("avg_pool2d", gg.avg_pool2d), ("pad", gg.pad),
    ("linear", nn.linear), ("cross_entropy", nn.cross_entropy), ("mse", nn.mse),
    ("binary_cross_entropy", nn.binary_cross_entropy),
    ("binary_cross_entropy_with_logits", nn.binary_cross_entropy_with_logits),
    ("l1_loss", nn.l1_loss), ("smooth_l1_loss", nn.smooth_l1_loss),
    ("huber_loss", nn.huber_loss), ("nll_loss", nn.nll_loss), ("kl_div", nn.kl_div),
    ("cosine_similarity", nn.cosine_similarity),
    ("triplet_margin_loss", nn.triplet_margin_loss),
    ("margin_ranking_loss", nn.margin_ranking_loss),
    ("hinge_embedding_loss", nn.hinge_embedding_loss),
    ("scaled_dot_product_attention", nn.scaled_dot_product_attention),
    ("celu", gg.celu), ("glu", gg.glu), ("hardshrink", gg.hardshrink),
    ("hardsigmoid", gg.hardsigmoid), ("hardswish", gg.hardswish), ("mish", gg.mish),
    ("selu", gg.selu), ("softmin", gg.softmin), ("softshrink", gg.softshrink),
    ("softsign", gg.softsign), ("tanhshrink", gg.tanhshrink), ("threshold", gg.threshold),
    ("max_pool1d", gg.max_pool1d), ("avg_pool1d", gg.avg_pool1d), ("unfold", gg.unfold),
    ("fold", gg.fold), ("pixel_shuffle", gg.pixel_shuffle),
    ("pixel_unshuffle", gg.pixel_unshuffle), ("bilinear", nn.bilinear),
    ("cosine_embedding_loss", nn.cosine_embedding_loss),
    ("soft_margin_loss", nn.soft_margin_loss), ("multi_margin_loss", nn.multi_margin_loss),
    ("multilabel_soft_margin_loss", nn.multilabel_soft_margin_loss),
    ("multilabel_margin_loss", nn.multilabel_margin_loss),
    ("poisson_nll_loss", nn.poisson_nll_loss), ("gaussian_nll_loss", nn.gaussian_nll_loss),
    # PyTorch's names for the course's mse and numpy-style log_sigmoid
    ("mse_loss", nn.mse), ("logsigmoid", gg.log_sigmoid),
])
def test_what_exists_is_re_exported_not_copied(name, original):
    """The same function; those that take PyTorch's inplace flag wrap it (the flag checked
    and dropped), their signature the op's with inplace last."""
    if name in _TAKE_INPLACE:
        assert getattr(F, name).__wrapped__ is original
        parameters = list(inspect.signature(getattr(F, name)).parameters)
        assert parameters == [*inspect.signature(original).parameters, "inplace"]
    else:
        assert getattr(F, name) is original


_TAKE_INPLACE = {"relu", "leaky_relu", "elu", "selu", "celu", "silu", "mish", "hardswish",
                 "hardsigmoid"}


def test_every_activation_layer_has_its_function_in_F():
    """Each activation module of nn (ReLU, Mish, Hardswish, ...) has its function in F under
    PyTorch's name, so a model written with layers can be rewritten with F."""
    from graphgrad.nn import activations
    layers = [name for name in nn.__all__ if isinstance(getattr(nn, name), type)
              and getattr(nn, name).__module__ == activations.__name__]
    assert len(layers) >= 25
    torch_names = {"LogSigmoid": "logsigmoid", "ReLU6": "relu6", "PReLU": "prelu",
                   "LeakyReLU": "leaky_relu", "LogSoftmax": "log_softmax"}
    missing = [layer for layer in layers
               if torch_names.get(layer, layer.lower()) not in F.__all__]
    assert not missing


def test_every_loss_of_nn_is_in_F():
    losses = [name for name in nn.__all__ if name[0].islower() and (
        "loss" in name or "entropy" in name or name in ("mse", "kl_div", "cosine_similarity"))]
    assert losses and set(losses) <= set(F.__all__)


# -- gradient checks in float64 -----------------------------------------------------------------
def _fixed(fn, seed=3):
    """fn with the same random mask on every call: one function for finite differences."""
    return lambda *args: fn(*args, rng=np.random.default_rng(seed))


IDS = np.array([[0, 2, 2], [4, 1, 0]])
CASES = {
    "dropout": (_fixed(lambda x, rng: F.dropout(x, 0.7, rng=rng)), [randn(3, 4)]),
    "dropout2d": (_fixed(lambda x, rng: F.dropout2d(x, 0.6, rng=rng)), [randn(3, 2, 2, 4)]),
    "batch_norm, training": (
        lambda x, w, b: F.batch_norm(x, np.zeros(3), np.ones(3), w, b, training=True),
        [randn(4, 3), randn(3), randn(3)]),
    "batch_norm, images, no running statistics": (
        lambda x: F.batch_norm(x, None, None, training=True), [randn(2, 3, 2, 4)]),
    "batch_norm, eval": (
        lambda x, w, b: F.batch_norm(x, np.array([0.5, -1.0, 0.0]), np.array([2.0, 0.5, 1.0]),
                                     w, b),
        [randn(4, 3), randn(3), randn(3)]),
    "layer_norm": (lambda x, w, b: F.layer_norm(x, 5, w, b), [randn(2, 3, 5), randn(5), randn(5)]),
    "layer_norm, two axes": (lambda x, w: F.layer_norm(x, (3, 4), w),
                             [randn(2, 3, 4), randn(3, 4)]),
    "group_norm": (lambda x, w, b: F.group_norm(x, 2, w, b), [randn(2, 3, 2, 4), randn(4),
                                                             randn(4)]),
    "group_norm, no affine": (lambda x: F.group_norm(x, 3, eps=1e-3), [randn(2, 5, 6)]),
    "instance_norm": (lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
                      [randn(2, 3, 2, 3), randn(3), randn(3)]),
    "adaptive_avg_pool2d": (lambda x: F.adaptive_avg_pool2d(x, (2, 3)), [randn(2, 5, 7, 2)]),
    "adaptive_avg_pool2d, global": (lambda x: F.adaptive_avg_pool2d(x, 1), [randn(2, 3, 3, 2)]),
    "adaptive_max_pool2d": (lambda x: F.adaptive_max_pool2d(x, (3, None)), [randn(2, 5, 4, 2)]),
    "interpolate, nearest": (lambda x: F.interpolate(x, scale_factor=1.5), [randn(2, 3, 4, 2)]),
    "interpolate, bilinear": (lambda x: F.interpolate(x, size=(5, 3), mode="bilinear",
                                                      align_corners=True), [randn(1, 3, 4, 2)]),
    "embedding": (lambda W: F.embedding(IDS, W), [randn(5, 3)]),
    "normalize": (lambda x: F.normalize(x), [randn(3, 4)]),
    "normalize, p=1, last axis": (lambda x: F.normalize(x, p=1, axis=-1), [randn(2, 3, 4)]),
    "pairwise_distance": (lambda a, b: F.pairwise_distance(a, b), [randn(3, 4), randn(3, 4)]),
    "pairwise_distance, broadcast, p=3": (lambda a, b: F.pairwise_distance(a, b, p=3),
                                          [randn(3, 4), randn(4)]),
    "prelu, one slope": (lambda x, w: F.prelu(x, w), [randn(3, 4), np.array([0.25])]),
    "prelu, per channel": (lambda x, w: F.prelu(x, w), [randn(2, 3, 3, 4), randn(4)]),
    "hardtanh": (lambda x: F.hardtanh(x, -0.5, 0.8), [randn(3, 4)]),
    "relu6": (lambda x: F.relu6(x), [randn(3, 4) * 4]),
    "glu": (lambda x: F.glu(x), [randn(3, 4)]),
    "glu, axis 0": (lambda x: F.glu(x, axis=0), [randn(4, 3)]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_each_function_passes_gradcheck_in_float64(name):
    fn, inputs = CASES[name]
    assert gg.gradcheck(fn, inputs)


@pytest.mark.parametrize("name", ["batch_norm, training", "layer_norm", "group_norm",
                                  "normalize", "pairwise_distance, broadcast, p=3", "glu"])
def test_second_derivatives_pass_gradgradcheck(name):
    fn, inputs = CASES[name]
    assert gg.gradgradcheck(fn, inputs, fast=True)


# Shapes hypothesis draws: (m, n_H, n_W, n_C) images and (m, ..., n) rows.
sizes = st.integers(1, 4)
images = st.tuples(st.integers(2, 3), sizes, sizes, sizes)
DRAWN = {
    "dropout": (st.lists(sizes, min_size=0, max_size=3).map(tuple),
                lambda s: _fixed(lambda x, rng: F.dropout(x, 0.6, rng=rng))),
    "dropout2d": (images, lambda s: _fixed(lambda x, rng: F.dropout2d(x, 0.6, rng=rng))),
    "batch_norm": (images, lambda s: lambda x: F.batch_norm(
        x, np.zeros(s[-1]), np.ones(s[-1]), np.linspace(0.5, 2, s[-1]), training=True)),
    "layer_norm": (st.tuples(sizes, st.integers(2, 5)),
                   lambda s: lambda x: F.layer_norm(x, s[-1], bias=np.arange(s[-1]))),
    "group_norm": (st.tuples(st.integers(1, 3), st.integers(2, 4), st.sampled_from([2, 4, 6])),
                   lambda s: lambda x: F.group_norm(x, 2, np.linspace(-1, 1, s[-1]))),
    "instance_norm": (st.tuples(st.integers(1, 3), st.integers(2, 4), st.integers(2, 4),
                                sizes), lambda s: lambda x: F.instance_norm(x)),
    "adaptive_avg_pool2d": (images, lambda s: lambda x: F.adaptive_avg_pool2d(x, (3, 2))),
    "adaptive_max_pool2d": (images, lambda s: lambda x: F.adaptive_max_pool2d(x, (2, 1))),
    "interpolate": (images, lambda s: lambda x: F.interpolate(x, scale_factor=(1.5, 2),
                                                              mode="bilinear")),
    "normalize": (st.tuples(sizes, sizes), lambda s: lambda x: F.normalize(x)),
    "pairwise_distance": (st.tuples(sizes, sizes),
                          lambda s: lambda x: F.pairwise_distance(x, np.ones(s[-1]))),
    "prelu": (images, lambda s: lambda x: F.prelu(x, np.linspace(0.1, 0.4, s[-1]))),
    "glu": (st.tuples(sizes, sizes.map(lambda n: 2 * n)), lambda s: lambda x: F.glu(x)),
}


@pytest.mark.parametrize("name", list(DRAWN))
@settings(max_examples=15)
@given(data=st.data())
def test_over_drawn_shapes_gradcheck_passes_and_the_shape_is_kept(name, data):
    shapes, make = DRAWN[name]
    shape = data.draw(shapes, label="shape")
    seed = data.draw(st.integers(0, 2**31), label="seed")
    x = np.random.default_rng(seed).standard_normal(shape)
    fn = make(shape)
    out = fn(gg.Tensor(x))
    expected = {"adaptive_avg_pool2d": lambda s: s[:1] + (3, 2) + s[3:],
                "adaptive_max_pool2d": lambda s: s[:1] + (2, 1) + s[3:],
                "interpolate": lambda s: (s[0], int(s[1] * 1.5), 2 * s[2], s[3]),
                "pairwise_distance": lambda s: s[:-1],
                "glu": lambda s: s[:-1] + (s[-1] // 2,)}
    assert out.shape == expected.get(name, lambda s: s)(shape)
    if name == "instance_norm" and shape[1] * shape[2] == 1:
        return
    assert gg.gradcheck(fn, [x], fast=True)


# -- each layer and its function: the same values and gradients --------------------------------
def _values_and_grads(fn, x, *params):
    X = gg.Tensor(x, requires_grad=True)
    out = fn(X)
    dout = np.random.default_rng(1).standard_normal(out.shape)
    (out * dout).sum().backward()
    return [out.data, X.grad] + [p.grad for p in params]


def _same(layer_run, function_run):
    for a, b in zip(layer_run, function_run, strict=True):
        np.testing.assert_array_equal(a, b)


def test_dropout_layers_and_functions_draw_the_same_masks():
    x = randn(3, 2, 2, 4)
    _same(_values_and_grads(nn.Dropout(0.7, rng=5), x),
          _values_and_grads(lambda X: F.dropout(X, 0.7, rng=5), x))
    _same(_values_and_grads(nn.Dropout2d(0.6, rng=5), x),
          _values_and_grads(lambda X: F.dropout2d(X, 0.6, rng=5), x))
    assert F.dropout(x, 0.7, training=False) is x
    assert F.dropout2d(x, 0.7, training=False) is x
    assert F.dropout(x, 1.0) is x


@pytest.mark.parametrize("layer_class, shape", [(nn.BatchNorm1d, (5, 3)),
                                                (nn.BatchNorm1d, (4, 2, 3)),
                                                (nn.BatchNorm2d, (2, 3, 2, 3))])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_layers_and_batch_norm_agree_with_their_running_statistics(
        layer_class, shape, training):
    layer = layer_class(3, momentum=0.8)
    layer.gamma.data, layer.beta.data = randn(3), randn(3)
    layer.running_mean, layer.running_var = randn(3), np.array([0.5, 1.0, 2.0])
    layer.train(training)
    mean, var = layer.running_mean.copy(), layer.running_var.copy()
    gamma = gg.Tensor(layer.gamma.data.copy(), requires_grad=True)
    beta = gg.Tensor(layer.beta.data.copy(), requires_grad=True)
    x = randn(*shape)
    _same(_values_and_grads(layer, x, layer.gamma, layer.beta),
          _values_and_grads(lambda X: F.batch_norm(X, mean, var, gamma, beta, training=training,
                                                   momentum=0.8), x, gamma, beta))
    np.testing.assert_array_equal(mean, layer.running_mean)
    np.testing.assert_array_equal(var, layer.running_var)


def test_norm_layers_and_their_functions_agree():
    x = randn(2, 3, 4, 6)
    ln = nn.LayerNorm(6)
    ln.gamma.data, ln.beta.data = randn(6), randn(6)
    g, b = (gg.Tensor(p.data.copy(), requires_grad=True) for p in (ln.gamma, ln.beta))
    _same(_values_and_grads(ln, x, ln.gamma, ln.beta),
          _values_and_grads(lambda X: F.layer_norm(X, (6,), g, b), x, g, b))
    gn = nn.GroupNorm(3, 6)
    gn.gamma.data, gn.beta.data = randn(6), randn(6)
    g, b = (gg.Tensor(p.data.copy(), requires_grad=True) for p in (gn.gamma, gn.beta))
    _same(_values_and_grads(gn, x, gn.gamma, gn.beta),
          _values_and_grads(lambda X: F.group_norm(X, 3, g, b), x, g, b))
    _same(_values_and_grads(nn.GroupNorm(2, 6, affine=False), x),
          _values_and_grads(lambda X: F.group_norm(X, 2), x))
    _same(_values_and_grads(nn.InstanceNorm2d(6), x),
          _values_and_grads(lambda X: F.instance_norm(X), x))


def test_resampling_layers_and_their_functions_agree():
    x = randn(2, 5, 7, 3)
    for size in [(2, 3), 1, (5, None), (3, 7)]:
        _same(_values_and_grads(nn.AdaptiveAvgPool2d(size), x),
              _values_and_grads(lambda X, s=size: F.adaptive_avg_pool2d(X, s), x))
        _same(_values_and_grads(nn.AdaptiveMaxPool2d(size), x),
              _values_and_grads(lambda X, s=size: F.adaptive_max_pool2d(X, s), x))
    for settings_ in [dict(scale_factor=2), dict(scale_factor=1.5), dict(size=(7, 4)),
                      dict(scale_factor=(2, 0.5), mode="bilinear"),
                      dict(size=(6, 3), mode="bilinear", align_corners=True)]:
        _same(_values_and_grads(nn.Upsample(**settings_), x),
              _values_and_grads(lambda X, s=settings_: F.interpolate(X, **s), x))


def test_prelu_of_a_number_is_a_number_as_pytorchs():
    """x of shape () with one slope (1,): the output has x's shape (it was (1,)), and the
    slope's gradient the slope's shape, from the layer and the function alike."""
    for x in (gg.Tensor(-2.0, requires_grad=True), gg.Tensor(3.0, requires_grad=True)):
        weight = gg.Tensor([0.25], requires_grad=True)
        layer = nn.PReLU()
        for y, slope in ((F.prelu(x, weight), weight), (layer(x), layer.alpha)):
            assert y.shape == ()
            y.backward()
            assert slope.grad.shape == (1,)
            np.testing.assert_array_equal(slope.grad, [min(x.data, 0.0)])
        np.testing.assert_array_equal(x.grad, 2 * (0.25 if x.data < 0 else 1.0))
    assert F.prelu(np.array(-2.0), [0.5]).shape == ()


def test_embedding_prelu_and_clipping_layers_agree_with_their_functions():
    layer = nn.Embedding(5, 3, padding_idx=2)
    E = gg.Tensor(layer.E.data.copy(), requires_grad=True)
    dZ = randn(2, 3, 3)
    (layer(IDS) * dZ).sum().backward()
    (F.embedding(IDS, E, padding_idx=2) * dZ).sum().backward()
    np.testing.assert_array_equal(layer.E.grad, E.grad)
    assert not E.grad[2].any()
    x = randn(2, 3, 3, 4)
    prelu = nn.PReLU(4)
    prelu.alpha.data = randn(4)
    w = gg.Tensor(prelu.alpha.data.copy(), requires_grad=True)
    _same(_values_and_grads(prelu, x, prelu.alpha),
          _values_and_grads(lambda X: F.prelu(X, w), x, w))
    _same(_values_and_grads(nn.Hardtanh(-0.5, 2.0), x),
          _values_and_grads(lambda X: F.hardtanh(X, -0.5, 2.0), x))
    _same(_values_and_grads(nn.ReLU6(), 4 * x), _values_and_grads(F.relu6, 4 * x))


# -- values from the math -----------------------------------------------------------------------
def test_one_hot_rows_of_any_shape_need_no_gradient():
    Y = F.one_hot(np.array([[2, 0], [1, 2]]))
    assert Y.shape == (2, 2, 3) and not Y.requires_grad and Y.dtype == np.float64
    np.testing.assert_array_equal(Y.data, np.eye(3)[[[2, 0], [1, 2]]])
    np.testing.assert_array_equal(F.one_hot([1, 0], num_classes=4).data,
                                  [[0, 1, 0, 0], [1, 0, 0, 0]])
    np.testing.assert_array_equal(F.one_hot(gg.Tensor([3.0, 1.0])).data, np.eye(4)[[3, 1]])
    assert F.one_hot(np.zeros(0, dtype=int), 2).shape == (0, 2)


@pytest.mark.parametrize("labels, num_classes, words", [
    (np.array([0, 2.5, 1]), 3, ["one_hot", "2.5", "labels[1]", "(3,) float64"]),
    (np.array([[0, 1], [3, 0]]), 3, ["one_hot", "3", "labels[1, 0]", "0..2"]),
    (np.array([0, -1]), -1, ["one_hot", "-1", "labels[1]", "negative"]),
    (np.array([True, False]), 2, ["one_hot", "bool"]),
    (np.zeros(0, dtype=int), -1, ["one_hot", "empty", "num_classes"]),
    (np.array([0, 1]), 0, ["one_hot", "num_classes", "0"]),
    (gg.Tensor([0.0, 1.0], requires_grad=True, name="y"), 2, ["one_hot", "'y'", "requires grad"]),
])
def test_one_hot_refuses_what_is_no_class_index(labels, num_classes, words):
    with pytest.raises(gg.GraphgradError) as info:
        F.one_hot(labels, num_classes)
    for word in words:
        assert word in str(info.value)


def test_normalize_divides_by_the_norm_clamped_at_eps():
    x = np.array([[3.0, 4.0], [0.0, 0.0], [1e-13, 0.0]])
    np.testing.assert_allclose(F.normalize(x).data, [[0.6, 0.8], [0, 0], [0.1, 0]], rtol=1e-15)
    np.testing.assert_allclose(F.normalize(x, axis=0).data[:, 0],
                               x[:, 0] / np.sqrt(9 + 1e-26), rtol=1e-15)
    np.testing.assert_allclose(F.normalize(x, p=1, axis=1).data[0], [3 / 7, 4 / 7], rtol=1e-15)
    np.testing.assert_allclose(F.normalize(x, p=np.inf, axis=1).data[0], [0.75, 1], rtol=1e-15)


def test_normalize_below_eps_has_the_gradient_of_x_over_eps():
    """PyTorch's clamp_min passes no gradient to a norm below eps: dx = dA / eps there, and at
    x = 0 too (no NaN from the norm's gradient at 0)."""
    x = gg.Tensor([[3.0, 4.0], [0.0, 0.0], [3e-13, -4e-13]], requires_grad=True)
    dA = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 2.0]])
    (F.normalize(x) * dA).sum().backward()
    np.testing.assert_array_equal(x.grad[1:], dA[1:] / 1e-12)
    u = np.array([0.6, 0.8])  # above eps: (dA - u (u . dA)) / |x|
    np.testing.assert_allclose(x.grad[0], (dA[0] - u * (u @ dA[0])) / 5, rtol=1e-14)


@pytest.mark.parametrize("p", [3, 1.5, 0.5, 1, np.inf])
def test_normalize_of_a_zero_vector_has_the_gradient_of_x_over_eps_in_every_p_norm(p):
    """A zero row's norm is below eps, so its gradient is dA / eps (PyTorch's) in every
    p-norm, no NaN from the norm's infinite slope at 0; the other rows' as PyTorch's."""
    x = gg.Tensor([[0.0, 0.0, 0.0], [3.0, 0.0, -4.0]], requires_grad=True)
    dA = np.array([[1.0, 2.0, -3.0], [0.5, 2.0, 1.0]])
    (F.normalize(x, p) * dA).sum().backward()
    np.testing.assert_array_equal(x.grad[0], dA[0] / 1e-12)
    assert np.isfinite(x.grad[1]).all()


def test_pairwise_distance_is_the_norm_of_the_difference_plus_eps():
    a, b = randn(3, 4), randn(3, 4)
    np.testing.assert_allclose(F.pairwise_distance(a, b).data,
                               np.sqrt(((a - b + 1e-6) ** 2).sum(axis=1)), rtol=1e-14)
    np.testing.assert_allclose(F.pairwise_distance(a, b, p=1, eps=0, keepdims=True).data,
                               np.abs(a - b).sum(axis=1, keepdims=True), rtol=1e-14)
    np.testing.assert_allclose(F.pairwise_distance(a, b[0], p=np.inf).data,
                               np.abs(a - b[0] + 1e-6).max(axis=1), rtol=1e-14)
    x = gg.Tensor(a, requires_grad=True)  # equal vectors: a finite gradient, thanks to eps
    F.pairwise_distance(x, a).sum().backward()
    np.testing.assert_allclose(x.grad, np.full((3, 4), 0.5), rtol=1e-12)


def test_glu_and_the_clipping_activations_from_the_math():
    x = randn(3, 4)
    np.testing.assert_allclose(F.glu(x).data, x[:, :2] / (1 + np.exp(-x[:, 2:])), rtol=1e-15)
    np.testing.assert_array_equal(F.relu6(4 * x).data, np.clip(4 * x, 0, 6))
    np.testing.assert_array_equal(F.hardtanh(x).data, np.clip(x, -1, 1))
    np.testing.assert_array_equal(F.prelu(x, 0.1).data, np.where(x > 0, x, 0.1 * x))


# -- batch_norm's running statistics ------------------------------------------------------------
def test_batch_norm_keeps_the_dtype_of_x_and_its_weights_in_evaluation_too():
    """The running statistics are buffers, np.zeros(n) float64 as often as not: float32 x is
    normalised to float32 by them as by the batch's statistics in training (it was float64 in
    evaluation only); a float32 weight or bias gives float32 too, float64 ones float64."""
    x = randn(6, 3).astype(np.float32)
    mean, var = np.array([0.5, 0.0, -0.5]), np.array([1.0, 2.0, 0.5])
    for training in (True, False):
        out = F.batch_norm(x, mean.copy(), var.copy(), training=training)
        assert out.dtype == np.float32
    t = gg.Tensor(x, requires_grad=True)
    out = F.batch_norm(t, mean, var)
    np.testing.assert_allclose(out.data, (x - mean) / np.sqrt(var + 1e-5), rtol=1e-6)
    out.sum().backward()
    assert t.grad.dtype == np.float32
    np.testing.assert_allclose(t.grad, np.broadcast_to(1 / np.sqrt(var + 1e-5), x.shape),
                               rtol=1e-6)
    assert F.batch_norm(x, mean, var, np.ones(3, np.float32)).dtype == np.float32
    assert F.batch_norm(x, mean, var, np.ones(3), np.zeros(3)).dtype == np.float64
    assert F.batch_norm(x.astype(np.float64), mean.astype(np.float32),
                        var.astype(np.float32)).dtype == np.float64
    assert F.batch_norm(x[:0], mean, var, training=True).dtype == np.float32  # empty


def test_batch_norm_updates_the_running_statistics_in_place_in_training_only():
    x = randn(6, 3)
    mean, var = np.array([1.0, 0.0, -1.0]), np.array([1.0, 2.0, 0.5])
    before = mean.copy(), var.copy()
    out = F.batch_norm(x, mean, var, training=True, momentum=0.9)
    np.testing.assert_allclose(out.data, (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5),
                               rtol=1e-13)
    np.testing.assert_allclose(mean, 0.9 * before[0] + 0.1 * x.mean(0), rtol=1e-15)
    np.testing.assert_allclose(var, 0.9 * before[1] + 0.1 * x.var(0), rtol=1e-15)
    after = mean.copy(), var.copy()
    out = F.batch_norm(x, mean, var, np.full(3, 2.0), np.ones(3))  # evaluation: unchanged
    np.testing.assert_array_equal(mean, after[0])
    np.testing.assert_array_equal(var, after[1])
    np.testing.assert_allclose(out.data, 2 * (x - mean) / np.sqrt(var + 1e-5) + 1, rtol=1e-14)
    # Tensors are updated in place too; without running statistics, the batch's are used
    t_mean, t_var = gg.Tensor(np.zeros(3)), gg.Tensor(np.ones(3))
    F.batch_norm(x, t_mean, t_var, training=True, momentum=0.5)
    np.testing.assert_allclose(t_mean.data, 0.5 * x.mean(0), rtol=1e-15)
    np.testing.assert_array_equal(F.batch_norm(x, None, None).data,
                                  F.batch_norm(x, None, None, training=True).data)
    # A batch with NaN leaves them as they were
    bad = x.copy()
    bad[0, 0] = np.nan
    F.batch_norm(bad, t_mean, t_var, training=True)
    np.testing.assert_allclose(t_mean.data, 0.5 * x.mean(0), rtol=1e-15)


def test_momentum_none_is_refused_by_the_function_which_keeps_no_count_of_batches():
    """PyTorch's cumulative average (momentum=None) needs the count of batches a layer keeps:
    the layers take it (test_nn_normalization_options), batch_norm refuses it, as PyTorch's
    F.batch_norm does, naming both readings."""
    x = randn(4, 3)
    with pytest.raises(gg.ArgumentError, match=r"^batch_norm: momentum=None \(PyTorch's "
                       r"cumulative average of every batch's statistics\) needs the count.*"
                       r"momentum in \[0, 1\).*0\.9"):
        F.batch_norm(x, np.zeros(3), np.ones(3), training=True, momentum=None)


def test_pytorchs_settings_are_told_apart_by_a_convention_warning():
    x = randn(4, 3)
    with pytest.warns(gg.ConventionWarning, match=r"dropout\(x, p=0.2\) is dropout\(x, "
                                                  r"keep_prob=0.8\)"):
        F.dropout(x, 0.2)
    with pytest.warns(gg.ConventionWarning, match="momentum=0.1 is momentum=0.9"):
        F.batch_norm(x, np.zeros(3), np.ones(3), training=True, momentum=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.dropout(x, 0.8)
        F.batch_norm(x, np.zeros(3), np.ones(3), training=True)


# -- errors -------------------------------------------------------------------------------------
def _named(name, shape):
    return gg.Tensor(np.ones(shape), name=name)


@pytest.mark.parametrize("call, error, words", [
    (lambda: F.dropout(np.ones(3), 1.5), gg.ArgumentError, ["dropout", "keep_prob", "1.5"]),
    (lambda: F.dropout2d(_named("A", (2, 3, 4)), 0.8), gg.ShapeError,
     ["dropout2d", "'A' (2, 3, 4)", "x[None]"]),
    (lambda: F.dropout(["a"]), gg.GraphgradTypeError, ["dropout", "x"]),
    (lambda: F.batch_norm(_named("Z", (4, 3)), np.zeros(2), np.ones(2)), gg.GraphgradTypeError,
     ["batch_norm", "running_mean", "(3,)", "(2,)"]),
    (lambda: F.batch_norm(_named("Z", (4, 3)), np.zeros(3), None), gg.ArgumentError,
     ["batch_norm", "running_mean and running_var"]),
    (lambda: F.batch_norm(_named("Z", (4, 3)), np.zeros(3), np.ones(3), _named("g", (4,))),
     gg.ShapeError, ["batch_norm", "weight", "'g' (4,)", "'Z' (4, 3)"]),
    (lambda: F.batch_norm(_named("Z", (1, 3)), None, None), gg.ArgumentError,
     ["batch_norm", "'Z' (1, 3)", "one value"]),
    (lambda: F.batch_norm(_named("Z", (4, 3)), np.zeros(3), np.ones(3), momentum=1),
     gg.ArgumentError, ["batch_norm", "momentum"]),
    (lambda: F.layer_norm(_named("X", (2, 5)), 4), gg.ShapeError,
     ["layer_norm", "'X' (2, 5)", "(4,)"]),
    (lambda: F.group_norm(_named("X", (2, 3, 6)), 4), gg.ArgumentError,
     ["group_norm", "num_groups=4", "'X' (2, 3, 6)", "divisor"]),
    (lambda: F.instance_norm(_named("A", (2, 3))), gg.ShapeError, ["instance_norm", "'A'"]),
    (lambda: F.instance_norm(_named("A", (2, 1, 1, 3))), gg.ArgumentError,
     ["instance_norm", "'A' (2, 1, 1, 3)", "one value"]),
    (lambda: F.adaptive_avg_pool2d(_named("A", (2, 5, 3)), 2), gg.ShapeError,
     ["adaptive_avg_pool2d", "'A' (2, 5, 3)", "channels last"]),
    (lambda: F.adaptive_max_pool2d(np.ones((1, 2, 2, 1)), 0), gg.ArgumentError,
     ["adaptive_max_pool2d", "output_size"]),
    (lambda: F.interpolate(np.ones((1, 2, 2, 1)), size=3, scale_factor=2), gg.ArgumentError,
     ["interpolate", "one of size and scale_factor", "both"]),
    (lambda: F.interpolate(np.ones((1, 2, 2, 1)), scale_factor=2, mode="trilinear"),
     gg.ArgumentError, ["interpolate", "mode", "'trilinear'", "'bicubic'"]),
    (lambda: F.interpolate(np.ones((1, 2, 2, 1)), scale_factor=0.1), gg.ShapeError,
     ["interpolate", "no pixel"]),
    (lambda: F.embedding([[0, 5]], _named("E", (5, 3))), gg.ArgumentError,
     ["embedding", "'E' (5, 3)", "indices[0, 1] = 5"]),
    (lambda: F.embedding([0], _named("E", (5,))), gg.ShapeError, ["embedding", "'E' (5,)"]),
    (lambda: F.embedding([0], np.ones((5, 3)), padding_idx=5), gg.ArgumentError,
     ["embedding", "padding_idx=5"]),
    (lambda: F.prelu(_named("x", (2, 3, 4, 4)), _named("a", (3,))), gg.ShapeError,
     ["prelu", "'x' (2, 3, 4, 4)", "'a' (3,)", "channels first"]),
    (lambda: F.hardtanh(np.ones(2), 1, -1), gg.ArgumentError, ["hardtanh", "max_val"]),
    (lambda: F.glu(_named("x", (2, 3))), gg.ShapeError, ["glu", "'x' (2, 3)", "even"]),
    (lambda: F.normalize(_named("x", (3,))), gg.ShapeError, ["normalize", "axis=1", "'x' (3,)"]),
    (lambda: F.normalize(np.ones((2, 2)), eps=-1), gg.ArgumentError, ["normalize", "eps"]),
    (lambda: F.pairwise_distance(_named("u", (3, 4)), _named("v", (2, 4))), gg.ShapeError,
     ["pairwise_distance", "'u' (3, 4)", "'v' (2, 4)"]),
    (lambda: F.pairwise_distance(np.ones(2), np.ones(2), p=0), gg.ArgumentError,
     ["pairwise_distance", "p"]),
])
def test_errors_name_the_function_the_tensors_and_their_shapes(call, error, words):
    with pytest.raises(error) as info:
        call()
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_batch_norm_refuses_running_statistics_it_cannot_update_in_place():
    mean = np.zeros(3)
    mean.flags.writeable = False
    with pytest.raises(gg.ArgumentError, match="batch_norm: running_mean .* read-only"):
        F.batch_norm(np.ones((2, 3)), mean, np.ones(3), training=True)
    with pytest.raises(gg.GraphgradTypeError, match="running_var must be None or a float"):
        F.batch_norm(np.ones((2, 3)), np.zeros(3), np.ones(3, dtype=int), training=True)


def test_instance_norm_takes_pytorchs_positional_order_running_mean_second():
    """F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats,
    momentum, eps): the settings were keywords only, so that an array given second would not
    be read as the weight."""
    x = np.arange(12.0).reshape(1, 2, 2, 3) ** 2
    mean, var = np.zeros(3), np.ones(3)
    out = F.instance_norm(x, mean, var, np.full(3, 2.0), np.ones(3), True, 0.5, 1e-3)
    axes = (1, 2)
    mu, sigma2 = x.mean(axis=axes), x.var(axis=axes)
    np.testing.assert_allclose(out.data, 2.0 * (x - mu[:, None, None]) / np.sqrt(
        sigma2[:, None, None] + 1e-3) + 1.0, rtol=1e-12)
    np.testing.assert_allclose(mean, 0.5 * mu[0], rtol=1e-12)
    np.testing.assert_allclose(var, 0.5 + 0.5 * sigma2[0], rtol=1e-12)


_ROWS = np.arange(6.0).reshape(2, 3)


@pytest.mark.parametrize("call, words", [
    (lambda: F.softmax(_ROWS, dim=1), "softmax: the keyword is axis=, not dim= (PyTorch's dim "
     "is numpy's axis, graphgrad's word): write softmax(..., axis=1)"),
    (lambda: F.log_softmax(_ROWS, dim=-1), "write log_softmax(..., axis=-1)"),
    (lambda: F.softmin(_ROWS, dim=0), "write softmin(..., axis=0)"),
    (lambda: gg.softmax(_ROWS, dim=1), "write softmax(..., axis=1)"),
    (lambda: F.normalize(_ROWS, dim=1), "write normalize(..., axis=1)"),
    (lambda: F.cosine_similarity(_ROWS, _ROWS, dim=1), "write cosine_similarity(..., axis=1)"),
    (lambda: F.glu(np.ones((2, 4)), dim=1), "write glu(..., axis=1)"),
    (lambda: F.pairwise_distance(_ROWS, _ROWS, keepdim=True), "pairwise_distance: the keyword "
     "is keepdims=, not keepdim= (numpy's spelling, graphgrad's): write pairwise_distance(..., "
     "keepdims=True)"),
    (lambda: nn.Softmax(dim=1), "Softmax: the keyword is axis=, not dim= (PyTorch's dim is "
     "numpy's axis, graphgrad's word): write Softmax(..., axis=1)"),
    (lambda: nn.LogSoftmax(dim=1), "write LogSoftmax(..., axis=1)"),
    (lambda: nn.Softmin(dim=1), "write Softmin(..., axis=1)"),
    (lambda: nn.GLU(dim=1), "write GLU(..., axis=1)"),
    (lambda: nn.CosineSimilarity(dim=1), "write CosineSimilarity(..., axis=1)"),
])
def test_pytorchs_dim_and_keepdim_are_refused_naming_axis_and_keepdims(call, words):
    """PyTorch's dim= and keepdim= raised Python's bare "unexpected keyword argument"; they
    are refused naming graphgrad's words, a TypeError still."""
    with pytest.raises(gg.GraphgradTypeError, match=re.escape(words)):
        call()


def test_the_functions_with_axis_give_pytorchs_values_for_its_dim():
    x = _ROWS
    e = np.exp(x - x.max(axis=0, keepdims=True))
    np.testing.assert_allclose(F.softmax(x, axis=0).data, e / e.sum(axis=0))
    np.testing.assert_allclose(F.pairwise_distance(x, 0 * x, keepdims=True).data,
                               np.linalg.norm(x + 1e-6, axis=-1, keepdims=True))


@pytest.mark.parametrize("name, settings", [
    ("relu", {}), ("leaky_relu", {"alpha": 0.1}), ("elu", {}), ("selu", {}), ("celu", {}),
    ("silu", {}), ("mish", {}), ("relu6", {}), ("hardtanh", {}), ("hardswish", {}),
    ("hardsigmoid", {}), ("dropout", {"keep_prob": 0.75, "rng": 0}),
    ("dropout2d", {"keep_prob": 0.75, "rng": 0}),
])
def test_inplace_false_is_taken_and_true_refused_as_x_would_keep_its_values(name, settings):
    """PyTorch's F.relu(x, inplace=False) (and the other functions with that flag) is
    F.relu(x); with inplace=True PyTorch's x changes, which graphgrad's never does: code going
    on with x would read its old values, so it is refused, saying to write x = F.relu(x)."""
    values = np.linspace(-7.0, 7.0, 2 * 3 * 3 * 4).reshape(2, 3, 3, 4)
    results = []
    for inplace in ({}, {"inplace": False}):
        x = gg.Tensor(values.copy(), requires_grad=True)
        y = getattr(F, name)(x, **settings, **inplace)
        (y * gg.Tensor(np.cos(values))).sum().backward()
        results.append((y.data, x.grad))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])
    x = gg.Tensor(values.copy())
    with pytest.raises(gg.ArgumentError, match=rf"^{name}\(x, inplace=True\): graphgrad's "
                                               rf"tensors never change in place.*x = {name}\(x\)"):
        getattr(F, name)(x, **settings, inplace=True)
    np.testing.assert_array_equal(x.data, values)
    with pytest.raises(gg.ArgumentError, match=rf"^{name}: inplace must be True or False, "
                                               "got 1"):
        getattr(F, name)(gg.Tensor(values), **settings, inplace=1)


@pytest.mark.parametrize("layer", [nn.Dropout, nn.Dropout2d])
def test_a_dropout_layer_takes_inplace_and_changes_nothing(layer):
    values = np.linspace(-1.0, 1.0, 48).reshape(2, 2, 3, 4)
    outputs = []
    for drop in (layer(0.75, rng=3), layer(0.75, rng=3, inplace=True)):
        x = gg.Tensor(values.copy(), requires_grad=True)
        drop(x).sum().backward()
        np.testing.assert_array_equal(x.data, values)
        outputs.append((drop.D.data, x.grad))
    np.testing.assert_array_equal(outputs[0][0], outputs[1][0])
    np.testing.assert_array_equal(outputs[0][1], outputs[1][1])
    assert repr(layer(0.75, inplace=True)) == f"{layer.__name__}(keep_prob=0.75, inplace=True)"
    with pytest.raises(gg.ArgumentError, match=rf"^{layer.__name__}: inplace must be True or "
                                               "False, got 'yes'"):
        layer(0.75, inplace="yes")
