"""The layers of later image networks, channels last: GroupNorm and InstanceNorm2d, adaptive
pooling, Upsample, Dropout2d, PReLU, Hardtanh and ReLU6, LogSoftmax, Unflatten, and a module's
named_buffers. Each against numpy by hand (the references of tests/op_table.py); their
gradient checks are rows of test_nn_layers.LAYERS (and of the op table, for the fused ops)."""
import warnings

import numpy as np
import pytest
from op_table import adaptive_pool_reference, bilinear_reference, group_norm_reference

import graphgrad as gg
from graphgrad import nn


def _images(shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _ops(out):
    """The op names of the graph that made ``out``, outputs first."""
    names, stack, seen = [], [out], set()
    while stack:
        t = stack.pop()
        if t.creator is None or id(t) in seen:
            continue
        seen.add(id(t))
        names.append(type(t.creator).__name__)
        stack.extend(t.creator.inputs)
    return names


# -- GroupNorm and InstanceNorm2d ----------------------------------------------------------------
@pytest.mark.parametrize("groups, shape", [(1, (2, 3, 4, 6)), (2, (2, 3, 4, 6)), (6, (2, 3, 4, 6)),
                                           (2, (3, 5, 4)), (2, (4, 6))])
def test_group_norm_normalises_each_examples_groups_of_channels(groups, shape):
    layer = nn.GroupNorm(groups, shape[-1])
    rng = np.random.default_rng(1)
    layer.gamma.data = rng.standard_normal(shape[-1])
    layer.beta.data = rng.standard_normal(shape[-1])
    X = _images(shape) * 3.0 + 1.0
    expected = group_norm_reference(X, layer.gamma.data, layer.beta.data, groups)
    np.testing.assert_allclose(layer(X).data, expected, rtol=1e-12, atol=1e-12)
    # the example's own statistics: the same in eval, and for an example alone
    np.testing.assert_allclose(layer.eval()(X).data, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer(X[1:2]).data, expected[1:2], rtol=1e-12, atol=1e-12)
    assert _ops(layer(gg.Tensor(X, requires_grad=True))) == ["GroupNormalize"]


def test_instance_norm_is_group_norm_with_a_group_per_channel_and_no_parameters():
    A = _images((2, 5, 4, 3))
    layer = nn.InstanceNorm2d(3)
    assert layer.parameters() == [] and layer.state_dict() == {} and layer.buffers() == []
    expected = (A - A.mean(axis=(1, 2), keepdims=True)) / np.sqrt(
        A.var(axis=(1, 2), keepdims=True) + 1e-5)
    np.testing.assert_allclose(layer(A).data, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(nn.GroupNorm(3, 3, affine=False)(A).data, expected, rtol=1e-14)
    affine = nn.InstanceNorm2d(3, affine=True)
    affine.gamma.data = np.array([1.0, 2.0, -1.0])
    affine.beta.data = np.array([0.0, 0.5, 3.0])
    np.testing.assert_allclose(affine(A).data, expected * affine.gamma.data + affine.beta.data,
                               rtol=1e-12, atol=1e-12)
    assert repr(affine) == "InstanceNorm2d(3, eps=1e-05, affine=True)  # 6 parameters"
    assert repr(nn.GroupNorm(2, 4)) == "GroupNorm(2, 4, eps=1e-05)  # 8 parameters"


@pytest.mark.parametrize("make", [lambda dtype: nn.GroupNorm(2, 4, dtype=dtype),
                                  lambda dtype: nn.InstanceNorm2d(4, dtype=dtype)],
                         ids=["GroupNorm", "InstanceNorm2d"])
def test_group_and_instance_norm_keep_float32(make):
    layer = make(np.float32)
    A32 = _images((2, 3, 3, 4), dtype=np.float32)
    for data in (A32, A32.astype(np.float64), A32.tolist()):
        assert layer(data).dtype == np.float32
    A = gg.Tensor(A32, requires_grad=True)
    out = layer(A)
    (out * out).sum().backward()
    assert A.grad.dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in layer.parameters())
    np.testing.assert_allclose(out.data, make(np.float64)(A32.astype(np.float64)).data,
                               rtol=1e-4, atol=1e-5)
    assert layer.double()(A32).dtype == np.float64  # without parameters too


def test_group_norm_state_dict_round_trip(tmp_path):
    layer = nn.GroupNorm(2, 4)
    layer.gamma.data = np.array([1.0, 2.0, 3.0, 4.0])
    layer.beta.data = np.array([-1.0, 0.0, 1.0, 2.0])
    assert list(layer.state_dict()) == ["gamma", "beta"]
    gg.save(layer.state_dict(), tmp_path / "gn.npz")
    fresh = nn.GroupNorm(2, 4)
    fresh.load_state_dict(gg.load(tmp_path / "gn.npz"))
    A = _images((2, 3, 3, 4))
    np.testing.assert_array_equal(fresh(A).data, layer(A).data)
    with pytest.raises(nn.StateDictError):
        nn.GroupNorm(2, 6).load_state_dict(layer.state_dict())
    with pytest.raises(nn.StateDictError, match="unexpected keys: gamma, beta"):
        nn.GroupNorm(2, 4, affine=False).load_state_dict(layer.state_dict())


def test_group_and_instance_norm_errors_say_what_to_do():
    with pytest.raises(gg.ArgumentError, match=r"GroupNorm: num_groups=3 must divide "
                                               r"num_channels=8 .*such as 2"):
        nn.GroupNorm(3, 8)
    with pytest.raises(gg.ArgumentError, match="GroupNorm: num_groups must be a whole number"):
        nn.GroupNorm(0, 8)
    with pytest.raises(gg.ArgumentError, match="InstanceNorm2d: affine must be True or False"):
        nn.InstanceNorm2d(3, affine=1)
    layer = nn.GroupNorm(2, 4)
    with pytest.raises(gg.ShapeError, match=r"GroupNorm\(2, 4, eps=1e-05\) takes X of shape "
                                            r"\(m, \.\.\., 4\), channels last, got shape "
                                            r"\(2, 3, 3, 5\)$"):
        layer(np.ones((2, 3, 3, 5)))
    with pytest.raises(gg.ShapeError, match=r"channels first\?.*X\.transpose\(0, 2, 3, 1\)"):
        layer(np.ones((2, 4, 3, 3)))
    with pytest.raises(gg.ShapeError, match=r"got shape \(4,\)"):
        layer(np.ones(4))
    with pytest.raises(gg.ArgumentError, match="one value in each group"):
        nn.GroupNorm(4, 4)(np.ones((3, 4)))
    instance = nn.InstanceNorm2d(3)
    with pytest.raises(gg.ShapeError, match=r"InstanceNorm2d\(3, eps=1e-05\) takes images A of "
                                            r"shape \(m, n_H, n_W, 3\).*\(2, 3, 3\) \(one "
                                            r"image\? add the batch axis: A\[None\]\)"):
        instance(np.ones((2, 3, 3)))
    with pytest.raises(gg.ArgumentError, match="images of one pixel"):
        instance(np.ones((2, 1, 1, 3)))
    assert instance(np.ones((0, 2, 2, 3))).shape == (0, 2, 2, 3)  # an empty batch


# -- adaptive pooling ----------------------------------------------------------------------------
@pytest.mark.parametrize("shape, size", [((2, 5, 7, 3), (2, 3)), ((2, 6, 4, 3), (3, 2)),
                                         ((1, 7, 5, 2), 1), ((2, 3, 2, 2), (5, 4)),
                                         ((2, 9, 4, 1), (4, None)), ((1, 4, 4, 2), 4)])
@pytest.mark.parametrize("layer, reduce", [(nn.AdaptiveAvgPool2d, np.mean),
                                           (nn.AdaptiveMaxPool2d, np.max)])
def test_adaptive_pooling_is_pytorchs_bins(shape, size, layer, reduce):
    A = _images(shape)
    n_h, n_w = (size, size) if not isinstance(size, tuple) else size
    expected = adaptive_pool_reference(A, n_h, shape[2] if n_w is None else n_w, reduce)
    np.testing.assert_allclose(layer(size)(A).data, expected, rtol=1e-13, atol=1e-15)


def test_global_average_pooling_is_one_mean_over_the_spatial_axes():
    A = gg.Tensor(_images((2, 7, 7, 4)), requires_grad=True)
    out = nn.AdaptiveAvgPool2d(1)(A)
    assert out.shape == (2, 1, 1, 4)
    assert _ops(out) == ["Mean"]
    out.sum().backward()
    np.testing.assert_allclose(A.grad, np.full(A.shape, 1 / 49))
    assert _ops(nn.AdaptiveAvgPool2d((7, 1))(A)) == ["Mean", "Reshape"]  # bins that tile
    assert _ops(nn.AdaptiveMaxPool2d(1)(A)) == ["AdaptiveMaxPool2d"]


def test_adaptive_max_pooling_sends_a_tie_to_the_first_in_the_bin():
    A = gg.Tensor(np.ones((1, 3, 3, 1)), requires_grad=True)
    nn.AdaptiveMaxPool2d(1)(A).sum().backward()
    expected = np.zeros((1, 3, 3, 1))
    expected[0, 0, 0, 0] = 1.0
    np.testing.assert_array_equal(A.grad, expected)


def test_adaptive_max_pooling_of_a_bin_of_several_nans_takes_the_last_as_pytorch():
    # PyTorch keeps a value that is larger or NaN: the last NaN of the bin gets the gradient
    A = gg.Tensor(np.array([[np.nan, 3.0], [np.nan, 1.0]])[None, :, :, None], requires_grad=True)
    out = nn.AdaptiveMaxPool2d(1)(A)
    assert np.isnan(out.data).all()
    out.sum().backward()
    np.testing.assert_array_equal(A.grad.ravel(), [0, 0, 1, 0])
    B = gg.Tensor(np.array([[2.0, 2.0, np.nan, np.nan]])[None, :, :, None], requires_grad=True)
    nn.AdaptiveMaxPool2d((1, 2))(B).sum().backward()
    np.testing.assert_array_equal(B.grad.ravel(), [1, 0, 0, 1])  # a tie of numbers: the first


@pytest.mark.parametrize("size", [(2, 3), 1, (4, 5)])
def test_adaptive_max_pooling_indices_say_where_each_value_came_from(size):
    """nn.AdaptiveMaxPool2d(output_size, return_indices=True) and its function, PyTorch's:
    the flat index h W + w of each bin's largest value (it was refused), which
    gg.max_unpool2d(..., output_size=(H, W)) takes to put the values back."""
    A = gg.Tensor(np.random.default_rng(3).permutation(2 * 5 * 4 * 3).reshape(2, 5, 4, 3)
                  * 0.1, requires_grad=True)
    layer = nn.AdaptiveMaxPool2d(size, return_indices=True)
    assert repr(layer).endswith(", return_indices=True)")
    out, indices = layer(A)
    np.testing.assert_array_equal(out.data, nn.AdaptiveMaxPool2d(size)(A).data)
    assert indices.dtype == np.int64 and not indices.requires_grad
    rows, cols = np.divmod(indices.data, 4)
    batch, channel = np.arange(2)[:, None, None, None], np.arange(3)
    np.testing.assert_array_equal(A.data[batch, rows, cols, channel], out.data)
    out_f, indices_f = nn.functional.adaptive_max_pool2d(A, size, True)
    np.testing.assert_array_equal(indices_f.data, indices.data)
    up = gg.max_unpool2d(out, indices, 2, output_size=(5, 4))
    expected = np.zeros(A.shape)
    expected[batch, rows, cols, channel] = out.data
    np.testing.assert_array_equal(up.data, expected)
    assert gg.gradcheck(lambda a: layer(a)[0], [A])


@pytest.mark.parametrize("layer", [nn.AdaptiveAvgPool2d((2, 3)), nn.AdaptiveAvgPool2d(1),
                                   nn.AdaptiveMaxPool2d((2, 3)), nn.Upsample(1.5),
                                   nn.Upsample(2, mode="bilinear")], ids=repr)
def test_resampling_keeps_float32(layer):
    A = gg.Tensor(_images((2, 5, 6, 3), dtype=np.float32), requires_grad=True)
    out = layer(A)
    (out * out).sum().backward()
    assert out.dtype == A.grad.dtype == np.float32
    np.testing.assert_allclose(out.data, layer(A.data.astype(np.float64)).data, rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize("layer", [nn.AdaptiveAvgPool2d(2), nn.AdaptiveMaxPool2d(2),
                                   nn.Upsample(2)], ids=lambda layer: type(layer).__name__)
def test_resampling_layers_refuse_what_is_no_batch_of_images(layer):
    name = type(layer).__name__
    with pytest.raises(gg.ShapeError, match=name + r"\(.*\) takes images A of shape \(m, n_H, "
                       r"n_W, n_C\), channels last, got shape \(4, 4, 3\) \(one image\? add "
                       r"the batch axis: A\[None\]"):
        layer(np.ones((4, 4, 3)))
    with pytest.raises(gg.ShapeError, match="of one pixel or more, got shape"):
        layer(np.ones((2, 0, 4, 3)))


@pytest.mark.parametrize("make, message", [
    (lambda: nn.AdaptiveAvgPool2d(0), "AdaptiveAvgPool2d: output_size must be a whole number"),
    (lambda: nn.AdaptiveMaxPool2d((2, 3, 4)), "AdaptiveMaxPool2d: output_size must be"),
    (lambda: nn.AdaptiveMaxPool2d(2, "yes"), "AdaptiveMaxPool2d: return_indices must be True"),
    (lambda: nn.functional.adaptive_max_pool2d(np.ones((1, 2, 2, 1)), 1, None),
     "adaptive_max_pool2d: return_indices must be True"),
    (lambda: nn.AdaptiveAvgPool2d(2.5), "output_size must be a whole number >= 1 or a pair"),
    (lambda: nn.Upsample(), "Upsample takes one of size and scale_factor, got neither"),
    (lambda: nn.Upsample(2, size=4), "got both"),
    (lambda: nn.Upsample(2, mode="area"), "mode must be 'nearest', 'bilinear' or 'bicubic'"),
    (lambda: nn.Upsample(2, align_corners=True), "align_corners is a setting of mode="),
    (lambda: nn.Upsample(0), "scale_factor must be a positive number"),
    (lambda: nn.Upsample("2"), "scale_factor must be a positive number"),
    (lambda: nn.Upsample(size=(2, 0)), "size must be a whole number >= 1"),
])
def test_resampling_settings_are_refused_by_name(make, message):
    with pytest.raises(gg.ArgumentError, match=message):
        make()


# -- Upsample ------------------------------------------------------------------------------------
def test_nearest_upsampling_by_a_whole_factor_repeats_each_pixel_as_keras_does():
    A = _images((2, 3, 4, 2))
    expected = A.repeat(2, axis=1).repeat(2, axis=2)
    np.testing.assert_array_equal(nn.Upsample(2)(A).data, expected)
    np.testing.assert_array_equal(nn.Upsample(size=(6, 8))(A).data, expected)
    np.testing.assert_array_equal(nn.Upsample((3, 1))(A).data, A.repeat(3, axis=1))
    X = gg.Tensor(A, requires_grad=True)
    nn.Upsample(3)(X).sum().backward()
    np.testing.assert_array_equal(X.grad, np.full(A.shape, 9.0))


@pytest.mark.parametrize("factor, size", [(1.5, None), (0.5, None), (None, (5, 3)),
                                          (None, (2, 7))])
def test_nearest_upsampling_takes_pytorchs_source_pixel(factor, size):
    A = _images((1, 4, 6, 1))
    out = nn.Upsample(factor, size=size)(A).data
    n_h, n_w = size or (int(4 * factor), int(6 * factor))
    rows = [min(int(i / factor if factor else i * 4 / n_h), 3) for i in range(n_h)]
    cols = [min(int(j / factor if factor else j * 6 / n_w), 5) for j in range(n_w)]
    np.testing.assert_array_equal(out, A[:, rows][:, :, cols])


def test_nearest_upsampling_to_twice_the_size_repeats_each_pixel_whatever_the_factor():
    """PyTorch's 'nearest' takes source row dst // 2 whenever the output has twice the input's
    rows, whatever factor gave that size: 2.1 makes 5 rows into floor(10.5) = 10, each row
    twice (floor(dst / 2.1) would take row 1 for row 4, and row 3 twice, as PyTorch does not)."""
    A = _images((2, 5, 3, 2))
    X = gg.Tensor(A, requires_grad=True)
    out = nn.Upsample(2.1)(X)
    np.testing.assert_array_equal(out.data, A.repeat(2, axis=1).repeat(2, axis=2))
    out.sum().backward()
    np.testing.assert_array_equal(X.grad, np.full(A.shape, 4.0))
    # a factor that does not double the size keeps floor(dst / factor): 4 x 2.6 = 10 rows
    rows = [min(int(i / 2.6), 3) for i in range(10)]
    np.testing.assert_array_equal(nn.Upsample((2.6, 1))(A[:, :4]).data, A[:, rows])


@pytest.mark.parametrize("settings, size, scale", [
    ({"scale_factor": 2}, (6, 8), 2.0), ({"scale_factor": 3}, (9, 12), 3.0),
    ({"scale_factor": 0.5}, (1, 2), 0.5), ({"size": (7, 5)}, (7, 5), None),
])
def test_bilinear_upsampling_is_pytorchs(settings, size, scale):
    A = _images((2, 3, 4, 2))
    out = nn.Upsample(mode="bilinear", **settings)(A)
    np.testing.assert_allclose(out.data, bilinear_reference(A, *size, scale=scale), rtol=1e-13,
                               atol=1e-14)
    corners = nn.Upsample(mode="bilinear", align_corners=True, **settings)(A)
    np.testing.assert_allclose(corners.data, bilinear_reference(A, *size, align_corners=True),
                               rtol=1e-13, atol=1e-14)
    # a constant image stays that constant; each output is a mean of the input's pixels
    np.testing.assert_allclose(nn.Upsample(mode="bilinear", **settings)(
        np.full((1, 3, 4, 1), 2.5)).data, 2.5)


def test_bilinear_upsampling_copies_an_axis_whose_size_the_factor_leaves_as_it_is():
    """PyTorch's 'bilinear' copies an axis whose output size is its input's: a factor of 1.2
    keeps floor(4 x 1.2) = 4 rows, each its own source (not (dst + 0.5) / 1.2 - 0.5, a mix of
    two rows), and interpolates the floor(5 x 1.2) = 6 columns; forward and backward."""
    A = _images((2, 4, 5, 3))
    X = gg.Tensor(A, requires_grad=True)
    out = nn.Upsample(1.2, mode="bilinear")(X)
    expected = bilinear_reference(A[:, :1], 1, 6, scale=1.2)  # each row alone: its columns
    for i in range(1, 4):
        expected = np.concatenate([expected, bilinear_reference(A[:, i:i + 1], 1, 6, 1.2)], 1)
    np.testing.assert_allclose(out.data, expected, rtol=1e-13, atol=1e-14)
    dY = _images(out.shape, seed=1)
    (out * dY).sum().backward()
    X1 = gg.Tensor(A, requires_grad=True)
    (nn.Upsample((1.0, 1.2), mode="bilinear")(X1) * dY).sum().backward()
    np.testing.assert_allclose(X.grad, X1.grad, rtol=1e-13, atol=1e-14)
    # both axes kept (3 x 3 by 1.2): the image itself
    np.testing.assert_array_equal(nn.Upsample(1.2, mode="bilinear")(A[:, :3, :3]).data,
                                  A[:, :3, :3])


def test_bilinear_upsampling_backward_is_the_adjoint_of_forward():
    """<up(x), y> = <x, up*(y)> for the fused op's backward up*, at any scale."""
    rng = np.random.default_rng(3)
    for layer in (nn.Upsample(2, mode="bilinear"), nn.Upsample(size=(4, 11), mode="bilinear"),
                  nn.Upsample(3, mode="bilinear", align_corners=True)):
        x = gg.Tensor(rng.standard_normal((2, 3, 5, 2)), requires_grad=True)
        out = layer(x)
        y = rng.standard_normal(out.shape)
        (out * y).sum().backward()
        np.testing.assert_allclose((out.data * y).sum(), (x.data * x.grad).sum(), rtol=1e-12)
    assert _ops(out) == ["UpsampleBilinear2d"]


def test_upsample_in_a_unet_decoder_step():
    """Upsample then a convolution, as the course's U-Net's expanding path."""
    model = nn.Sequential(nn.Upsample(2), nn.Conv2d(3, 2, 3, padding="same", rng=0))
    A = gg.Tensor(_images((1, 4, 4, 3)), requires_grad=True)
    out = model(A)
    assert out.shape == (1, 8, 8, 2)
    out.sum().backward()
    assert A.grad.shape == A.shape
    assert repr(model.upsample1) == "Upsample(scale_factor=2, mode='nearest')"


# -- Dropout2d -----------------------------------------------------------------------------------
def test_dropout2d_drops_whole_channels_and_scales_the_rest():
    layer = nn.Dropout2d(keep_prob=0.5, rng=0)
    A = _images((50, 3, 4, 8)) + 10.0  # no zeros of its own
    out = layer(A).data
    D = layer.D.data
    assert D.shape == (50, 1, 1, 8)
    kept = D[:, 0, 0, :].astype(bool)
    for i, c in np.ndindex(50, 8):
        if kept[i, c]:
            np.testing.assert_allclose(out[i, :, :, c], A[i, :, :, c] / 0.5)
        else:
            assert not out[i, :, :, c].any()
    assert 0.4 < kept.mean() < 0.6
    X = gg.Tensor(A, requires_grad=True)
    layer.reseed(1)
    layer(X).sum().backward()
    np.testing.assert_array_equal(X.grad, np.broadcast_to(layer.D.data / 0.5, A.shape))


def test_dropout2d_is_off_in_eval_seedable_and_warns_in_its_own_name():
    layer = nn.Dropout2d(0.8, rng=4)
    A = _images((3, 2, 2, 4))
    assert layer.eval()(A) is A
    layer.train()
    layer.reseed(5)
    first = layer(A).data
    layer.reseed(5)  # the same seed, the same channels dropped
    np.testing.assert_array_equal(layer(A).data, first)
    np.testing.assert_array_equal(nn.Dropout2d(0.8, rng=4)(A).data,
                                  nn.Dropout2d(0.8, rng=4)(A).data)
    with pytest.warns(gg.ConventionWarning, match=r"Dropout2d\(keep_prob=0\.2\) keeps 20% of "
                                                  r"the channels.*Dropout2d\(p=0\.2\) is "
                                                  r"Dropout2d\(keep_prob=0\.8\)"):
        nn.Dropout2d(0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert repr(nn.Dropout2d(0.9)) == "Dropout2d(keep_prob=0.9)"


def test_dropout2d_refuses_what_is_no_batch_of_images():
    with pytest.raises(gg.ShapeError, match=r"Dropout2d\(keep_prob=0\.5\) drops channels of "
                                            r"images A of shape \(m, n_H, n_W, n_C\).*got "
                                            r"shape \(4, 3\); Dropout drops single units"):
        nn.Dropout2d()(np.ones((4, 3)))


# -- activations ---------------------------------------------------------------------------------
def test_prelu_learns_a_slope_per_channel():
    layer = nn.PReLU(3)
    np.testing.assert_array_equal(layer.alpha.data, [0.25, 0.25, 0.25])
    layer.alpha.data = np.array([0.1, -0.5, 2.0])
    Z = _images((2, 4, 4, 3))
    Zt = gg.Tensor(Z, requires_grad=True)
    out = layer(Zt)
    np.testing.assert_allclose(out.data, np.where(Z > 0, Z, layer.alpha.data * Z))
    dA = _images((2, 4, 4, 3), seed=1)
    (out * dA).sum().backward()
    np.testing.assert_allclose(layer.alpha.grad, (dA * np.minimum(Z, 0)).sum(axis=(0, 1, 2)))
    np.testing.assert_allclose(Zt.grad, dA * np.where(Z > 0, 1.0, layer.alpha.data))
    one = nn.PReLU(init=0.1)
    np.testing.assert_allclose(one(Z).data, np.where(Z > 0, Z, 0.1 * Z))
    assert repr(layer) == "PReLU(num_parameters=3)  # 3 parameters"
    assert nn.PReLU(2, dtype=np.float32)(Z[..., :2]).dtype == np.float32


def test_prelu_state_dict_round_trip_and_errors():
    layer = nn.PReLU(4)
    layer.alpha.data = np.array([0.0, 0.1, 0.2, 0.3])
    fresh = nn.PReLU(4)
    fresh.load_state_dict(layer.state_dict())
    assert list(fresh.state_dict()) == ["alpha"]
    np.testing.assert_array_equal(fresh.alpha.data, layer.alpha.data)
    with pytest.raises(nn.StateDictError, match=r"alpha: the state has shape \(4,\), the model "
                                                r"\(1,\)"):
        nn.PReLU().load_state_dict(layer.state_dict())
    with pytest.raises(gg.ShapeError, match=r"PReLU\(num_parameters=4\) has one slope per "
                                            r"channel.*\(\.\.\., 4\), got shape \(2, 4, 3, 3\) "
                                            r"\(channels first\?"):
        layer(np.ones((2, 4, 3, 3)))
    with pytest.raises(gg.ArgumentError, match="PReLU: init must be a finite number"):
        nn.PReLU(init=float("nan"))


def test_hardtanh_relu6_and_log_softmax():
    Z = np.array([[-8.0, -1.5, -0.5, 0.5, 3.0, 6.5]])
    np.testing.assert_array_equal(nn.ReLU6()(Z).data, [[0.0, 0.0, 0.0, 0.5, 3.0, 6.0]])
    np.testing.assert_array_equal(nn.Hardtanh()(Z).data, [[-1.0, -1.0, -0.5, 0.5, 1.0, 1.0]])
    np.testing.assert_array_equal(nn.Hardtanh(-2, 4)(Z).data, np.clip(Z, -2, 4))
    Zt = gg.Tensor(Z, requires_grad=True)
    nn.ReLU6()(Zt).sum().backward()
    np.testing.assert_array_equal(Zt.grad, [[0.0, 0.0, 0.0, 1.0, 1.0, 0.0]])
    expected = Z - np.log(np.exp(Z).sum(axis=-1, keepdims=True))
    np.testing.assert_allclose(nn.LogSoftmax()(Z).data, expected, rtol=1e-14)
    np.testing.assert_allclose(nn.LogSoftmax(axis=0)(Z).data, np.zeros_like(Z))
    assert nn.LogSoftmax()(np.array([[1000.0, 0.0]])).data[0, 1] == -1000.0  # stable
    assert repr(nn.ReLU6()) == "ReLU6()" and repr(nn.LogSoftmax(1)) == "LogSoftmax(axis=1)"
    with pytest.raises(gg.ArgumentError, match="Hardtanh: max_val must be greater than min_val"):
        nn.Hardtanh(1.0, -1.0)
    with pytest.raises(gg.ArgumentError, match="LogSoftmax: axis must be a whole number"):
        nn.LogSoftmax(axis=1.0)


# -- Unflatten -----------------------------------------------------------------------------------
def test_unflatten_is_the_inverse_of_flatten():
    A = _images((2, 3, 4, 5))
    flat = nn.Flatten()(A)
    np.testing.assert_array_equal(nn.Unflatten(1, (3, 4, 5))(flat).data, A)
    np.testing.assert_array_equal(nn.Unflatten(-1, (3, -1, 5))(flat).data, A)
    assert nn.Unflatten(2, (2, 2))(A).shape == (2, 3, 2, 2, 5)
    assert nn.Unflatten(1, (2, -1))(np.ones((0, 6))).shape == (0, 2, 3)
    assert repr(nn.Unflatten(1, (7, 7, 64))) == "Unflatten(1, (7, 7, 64))"
    with pytest.raises(gg.ShapeError, match=r"Unflatten\(1, \(4, 4\)\) splits axis 1 of X of "
                                            r"shape \(2, 60\), of size 60, into \(4, 4\), which "
                                            r"holds 16 values"):
        nn.Unflatten(1, (4, 4))(np.ones((2, 60)))
    with pytest.raises(gg.ShapeError, match="a multiple of 7 values"):
        nn.Unflatten(1, (7, -1))(np.ones((2, 60)))
    with pytest.raises(gg.ShapeError, match=r"splits axis 3, and X of shape \(2, 60\) has 2"):
        nn.Unflatten(3, (4, 15))(np.ones((2, 60)))
    for shape in ((), (2, 0), (-1, -1), (2.0, 3), [True, 2], 6):
        with pytest.raises(gg.ArgumentError, match="Unflatten: shape must be a tuple of sizes"):
            nn.Unflatten(1, shape)


# -- named_buffers -------------------------------------------------------------------------------
def test_named_buffers_are_pytorchs_the_modules_own_then_each_submodules():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("steps", np.zeros(1))
            self.body = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
            self.register_buffer("unset", None)
            self.shared = self.body  # one module under two names: its buffers come once
            self.register_buffer("scale", np.ones(3))

    net = Net()
    names = [name for name, _ in net.named_buffers()]
    assert names == ["steps", "scale", "body.batchnorm1.running_mean",
                     "body.batchnorm1.running_var"]
    assert net.named_buffers()[2][1] is net.body.batchnorm1.running_mean  # not a copy
    assert [name for name, _ in net.named_buffers(recurse=False)] == ["steps", "scale"]
    assert [name for name, _ in net.named_buffers("net")][:2] == ["net.steps", "net.scale"]
    assert len(net.buffers()) == 4 and net.buffers(recurse=False)[1] is net.scale
    assert set(names) <= set(net.state_dict())
    assert nn.Linear(2, 3).named_buffers() == []
    with pytest.raises(gg.ArgumentError, match="Net.named_buffers: recurse must be True"):
        net.named_buffers(recurse=1)


def test_bicubic_upsampling_keeps_constants_and_weighs_by_keys_kernel():
    """Keys' kernel sums to 1, so a constant image stays (at the edges too); with A = -0.75
    the 2x output row 5 reads source row 2.25 (t = 0.25) with the weights of distances
    1.25, 0.25, 0.75, 1.75: (-27, 225, 67, -9) / 256, and row 4 (source 1.75) the same
    reversed."""
    constant = np.full((1, 4, 5, 2), 2.5)
    np.testing.assert_allclose(nn.Upsample(3, mode="bicubic")(constant).data, 2.5, rtol=1e-14)
    a = np.array([1.0, -2.0, 4.0, 3.0, 0.5, 2.0])
    out = nn.Upsample((2, 1), mode="bicubic")(a.reshape(1, 6, 1, 1)).data[0, :, 0, 0]
    np.testing.assert_allclose(out[5], (-27 * a[1] + 225 * a[2] + 67 * a[3] - 9 * a[4]) / 256,
                               rtol=1e-14)
    np.testing.assert_allclose(out[4], (-9 * a[0] + 67 * a[1] + 225 * a[2] - 27 * a[3]) / 256,
                               rtol=1e-14)
    # row 0 reads source -0.25: taps -2..1 clamped to 0, 0, 0, 1
    np.testing.assert_allclose(out[0], (-9 + 67 + 225) / 256 * a[0] - 27 / 256 * a[1],
                               rtol=1e-14)


def test_recompute_scale_factor_reads_source_rows_by_the_output_size():
    """PyTorch's recompute_scale_factor=True: floor(5 x 1.7) = 8 rows, and source row
    (dst + 0.5) 5 / 8 - 0.5, as for size=8, where the factor gives (dst + 0.5) / 1.7 - 0.5:
    row 1 reads source 0.4375 (bilinear) with it, 0.382... without."""
    a = np.array([1.0, -2.0, 4.0, 3.0, 0.5]).reshape(1, 5, 1, 1)
    F = nn.functional
    out = F.interpolate(a, scale_factor=(1.7, 1), mode="bilinear",
                        recompute_scale_factor=True).data[:, :, 0, 0]
    assert out.shape == (1, 8)
    np.testing.assert_allclose(out[0, 1], 0.5625 * 1.0 + 0.4375 * -2.0, rtol=1e-14)
    np.testing.assert_allclose(out, F.interpolate(a, size=(8, 1), mode="bilinear").data[..., 0, 0],
                               rtol=1e-14)
    plain = F.interpolate(a, scale_factor=(1.7, 1), mode="bilinear",
                          recompute_scale_factor=False).data[:, :, 0, 0]
    t = 1.5 / 1.7 - 0.5
    np.testing.assert_allclose(plain[0, 1], (1 - t) * 1.0 + t * -2.0, rtol=1e-6)
    for mode in ("nearest", "bicubic"):
        layer = nn.Upsample(scale_factor=(1.7, 1), mode=mode, recompute_scale_factor=True)
        np.testing.assert_allclose(layer(a).data, F.interpolate(a, size=(8, 1), mode=mode).data,
                                   rtol=1e-14)
        assert "recompute_scale_factor=True" in repr(layer)
    np.testing.assert_allclose(F.interpolate(a, scale_factor=2, antialias=False).data,
                               F.interpolate(a, scale_factor=2).data)
    with pytest.raises(gg.ArgumentError, match="recompute_scale_factor.*explicit size"):
        F.interpolate(a, size=4, recompute_scale_factor=True)
    with pytest.raises(gg.ArgumentError, match="antialias=True"):
        F.interpolate(a, size=2, mode="bilinear", antialias=True)
