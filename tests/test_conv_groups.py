"""Grouped convolutions (``groups``): MobileNet's depthwise convolution and its relatives.

With groups G, the n_C_prev input channels and the n_C filters are split into G groups, and
group k's filters see group k's channels only. Checked against the course's loop with a group
loop added, against an ordinary convolution whose filters are zero outside their group,
against finite differences (first and second derivatives), and the transposed convolution as
its adjoint.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from op_table import conv_reference

import graphgrad as gg
from graphgrad import nn

SEEDS = st.integers(0, 2**32 - 1)


def _leaf(array, name):
    return gg.Tensor(array, requires_grad=True, name=name)


@st.composite
def grouped_cases(draw):
    """(A shape, W shape, stride, pad, groups) of a grouped convolution whose window fits."""
    groups = draw(st.integers(1, 3))
    per_group, filters = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    f_h, f_w = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride, pad = draw(st.integers(1, 2)), draw(st.integers(0, 1))
    height = draw(st.integers(max(1, f_h - 2 * pad), 5))
    width = draw(st.integers(max(1, f_w - 2 * pad), 5))
    m = draw(st.integers(1, 2))
    return ((m, height, width, groups * per_group), (f_h, f_w, per_group, groups * filters),
            stride, pad, groups)


def _block_diagonal(W, groups):
    """The filters of an ordinary convolution equal to the grouped one: zero outside the
    group's channels."""
    f_h, f_w, per_group, n_c = W.shape
    full = np.zeros((f_h, f_w, per_group * groups, n_c))
    filters = n_c // groups
    for k in range(groups):
        full[:, :, k * per_group:(k + 1) * per_group, k * filters:(k + 1) * filters] = \
            W[..., k * filters:(k + 1) * filters]
    return full


@given(grouped_cases(), SEEDS)
def test_grouped_conv2d_is_the_course_loop_per_group_and_passes_gradcheck(case, seed):
    a_shape, w_shape, stride, pad, groups = case
    rng = np.random.default_rng(seed)
    A, W, b = (rng.standard_normal(a_shape), rng.standard_normal(w_shape),
               rng.standard_normal(w_shape[-1]))
    Z = gg.conv2d(A, W, b, stride=stride, padding=pad, groups=groups)
    np.testing.assert_allclose(Z.data, conv_reference(A, W, b, stride, pad, groups), atol=1e-12)
    # The same as an ordinary convolution with each filter zero outside its group.
    ordinary = gg.conv2d(A, _block_diagonal(W, groups), b, stride=stride, padding=pad)
    np.testing.assert_allclose(Z.data, ordinary.data, atol=1e-12)
    inputs = [_leaf(A, "A"), _leaf(W, "W"), _leaf(b, "b")]
    assert gg.gradcheck(
        lambda a, w, c: gg.conv2d(a, w, c, stride=stride, padding=pad, groups=groups), inputs)


@given(grouped_cases(), SEEDS)
def test_grouped_conv_transpose2d_is_the_adjoint_of_the_grouped_convolution(case, seed):
    a_shape, w_shape, stride, pad, groups = case
    rng = np.random.default_rng(seed)
    X, W = rng.standard_normal(a_shape), rng.standard_normal(w_shape)
    Z = gg.conv2d(X, W, stride=stride, padding=pad, groups=groups)
    Y = rng.standard_normal(Z.shape)
    # The sizes that stride-s convolution maps to Z's differ by up to s - 1: output_padding.
    extra = a_shape[1] - ((Z.shape[1] - 1) * stride - 2 * pad + w_shape[0])
    extra_w = a_shape[2] - ((Z.shape[2] - 1) * stride - 2 * pad + w_shape[1])
    # conv_transpose2d adds the same output_padding to both axes.
    assume(extra == extra_w)
    back = gg.conv_transpose2d(Y, W, stride=stride, padding=pad, output_padding=extra,
                               groups=groups)
    assert back.shape == a_shape
    # <conv(X), Y> = <X, conv_transpose(Y)>: one is the other's transpose.
    assert np.vdot(Z.data, Y) == pytest.approx(np.vdot(X, back.data), rel=1e-10, abs=1e-10)
    inputs = [_leaf(Y, "Y"), _leaf(W, "W")]
    assert gg.gradcheck(lambda y, w: gg.conv_transpose2d(
        y, w, stride=stride, padding=pad, output_padding=extra, groups=groups), inputs)


def test_second_derivatives_of_a_grouped_convolution_pass_gradgradcheck():
    rng = np.random.default_rng(0)
    inputs = [_leaf(rng.standard_normal((1, 4, 4, 4)), "A"),
              _leaf(rng.standard_normal((3, 3, 2, 4)), "W")]
    assert gg.gradgradcheck(lambda a, w: gg.conv2d(a, w, stride=2, padding=1, groups=2), inputs)


def test_the_gradient_ops_of_a_grouped_convolution_record_their_groups():
    rng = np.random.default_rng(1)
    A = _leaf(rng.standard_normal((1, 4, 4, 4)), "A")
    W = _leaf(rng.standard_normal((3, 3, 1, 4)), "W")
    Z = gg.conv2d(A, W, padding=1, groups=4)
    assert dict(Z.creator.attrs) == {"stride": 1, "pad": 1, "groups": 4}
    dA, dW = gg.grad((Z * Z).sum(), [A, W], create_graph=True)
    names = {}
    stack = [dA.creator, dW.creator]
    while stack:
        node = stack.pop()
        names.setdefault(node.name, dict(node.attrs))
        stack += [t.creator for t in node.inputs if t.creator is not None]
    assert names["Conv2dInputGrad"]["groups"] == 4
    assert names["Conv2dWeightGrad"]["groups"] == 4
    # An ordinary convolution's nodes show no groups at all.
    assert dict(gg.conv2d(A, rng.standard_normal((3, 3, 4, 2))).creator.attrs) == {
        "stride": 1, "pad": 0}


def test_depthwise_convolution_filters_each_channel_on_its_own():
    rng = np.random.default_rng(2)
    A = rng.standard_normal((2, 5, 6, 3))
    W = rng.standard_normal((3, 3, 1, 6))  # depth multiplier 2: channel c makes outputs 2c, 2c+1
    Z = gg.conv2d(A, W, padding=1, groups=3).data
    for c in range(3):
        for j in range(2):
            alone = gg.conv2d(A[..., c:c + 1], W[..., 2 * c + j:2 * c + j + 1], padding=1).data
            np.testing.assert_allclose(Z[..., 2 * c + j], alone[..., 0], atol=1e-12)


@pytest.mark.parametrize("stride, pad, groups", [(1, 0, 2), (2, 1, 3), (1, 2, 6)])
def test_grouped_conv1d_is_each_group_convolved_apart_and_passes_gradcheck(stride, pad, groups):
    rng = np.random.default_rng(3)
    A, W, b = rng.standard_normal((2, 7, 6)), rng.standard_normal((3, 6 // groups, 6)), \
        rng.standard_normal(6)
    Z = gg.conv1d(A, W, b, stride=stride, padding=pad, groups=groups).data
    per_group = 6 // groups
    apart = np.concatenate([
        gg.conv1d(A[..., k * per_group:(k + 1) * per_group],
                  W[..., k * per_group:(k + 1) * per_group],
                  b[k * per_group:(k + 1) * per_group], stride=stride, padding=pad).data
        for k in range(groups)], axis=-1)
    np.testing.assert_allclose(Z, apart, atol=1e-12)
    inputs = [_leaf(A, "A"), _leaf(W, "W"), _leaf(b, "b")]
    assert gg.gradcheck(
        lambda a, w, c: gg.conv1d(a, w, c, stride=stride, padding=pad, groups=groups), inputs)


# -- layers ------------------------------------------------------------------------------------
def test_a_depthwise_layer_has_one_filter_per_channel_initialised_on_its_window():
    layer = nn.Conv2d(64, 64, 3, padding="same", groups=64, rng=0)
    assert layer.W.shape == (3, 3, 1, 64)
    assert sum(p.size for p in layer.parameters()) == 3 * 3 * 64 + 64
    # He: variance 2 / fan-in, and a depthwise filter's fan-in is its f * f window alone.
    assert layer.W.data.std() == pytest.approx(np.sqrt(2 / 9), rel=0.08)
    assert "groups=64" in repr(layer)
    Z = layer(np.ones((2, 5, 5, 64)))
    assert Z.shape == (2, 5, 5, 64) and dict(Z.creator.attrs)["groups"] == 64


def test_a_depthwise_separable_block_needs_the_course_fraction_of_the_parameters():
    """Course 4 week 2: a depthwise then a pointwise convolution instead of one convolution
    costs 1/n_C + 1/f^2 of its weights."""
    n_c_prev, n_c, f = 16, 32, 3
    standard = nn.Conv2d(n_c_prev, n_c, f, padding="same", bias=False, rng=0)
    depthwise = nn.Conv2d(n_c_prev, n_c_prev, f, padding="same", groups=n_c_prev, bias=False,
                          rng=0)
    pointwise = nn.Conv2d(n_c_prev, n_c, 1, bias=False, rng=0)
    ratio = (depthwise.W.size + pointwise.W.size) / standard.W.size
    assert ratio == pytest.approx(1 / n_c + 1 / f**2)
    A = np.random.default_rng(4).standard_normal((2, 6, 6, n_c_prev))
    assert pointwise(depthwise(A)).shape == standard(A).shape == (2, 6, 6, n_c)


def test_grouped_layers_train_in_float32_and_reload_their_state():
    model = nn.Sequential(nn.Conv2d(4, 8, 3, padding="same", groups=2, dtype=np.float32, rng=0),
                          nn.ReLU(), nn.Conv2d(8, 4, 1, groups=4, dtype=np.float32, rng=1))
    A = np.random.default_rng(5).standard_normal((2, 5, 5, 4)).astype(np.float32)
    Z = model(A)
    assert Z.dtype == np.float32
    (Z * Z).mean().backward()
    assert all(p.grad.dtype == np.float32 for p in model.parameters())
    copy = nn.Sequential(nn.Conv2d(4, 8, 3, padding="same", groups=2, dtype=np.float32, rng=2),
                         nn.ReLU(), nn.Conv2d(8, 4, 1, groups=4, dtype=np.float32, rng=3))
    copy.load_state_dict(model.state_dict())
    np.testing.assert_array_equal(copy(A).data, Z.data)


def test_grouped_transposed_and_1d_layers_have_the_grouped_shapes():
    up = nn.ConvTranspose2d(4, 6, 3, stride=2, padding="same", groups=2, rng=0)
    assert up.W.shape == (3, 3, 3, 4)
    assert up(np.ones((1, 3, 3, 4))).shape == (1, 6, 6, 6)
    assert dict(up(np.ones((1, 3, 3, 4))).creator.attrs) == {
        "stride": 2, "pad": 1, "groups": 2, "output_padding": 1}
    sequence = nn.Conv1d(6, 9, 3, groups=3, rng=0)
    assert sequence.W.shape == (3, 2, 9)
    assert sequence(np.ones((2, 7, 6))).shape == (2, 5, 9)


# -- errors --------------------------------------------------------------------------------------
def _assert_refused(call, parts):
    with pytest.raises(gg.GraphgradError) as info:
        call()
    missing = [part for part in parts if part not in str(info.value)]
    assert not missing, f"{missing} not in the message: {info.value}"


@pytest.mark.parametrize("call, parts", [
    (lambda: gg.conv2d(np.zeros((1, 4, 4, 6)), np.zeros((3, 3, 1, 6)), groups=4),
     ["6 channels", "groups=4", "divide n_C_prev"]),
    (lambda: gg.conv2d(np.zeros((1, 4, 4, 4)), np.zeros((3, 3, 2, 3)), groups=2),
     ["(3, 3, 2, 3)", "n_C = 3", "groups=2", "divide n_C"]),
    (lambda: gg.conv2d(np.zeros((1, 4, 4, 6)), np.zeros((3, 3, 6, 6)), groups=6),
     ["(3, 3, 6, 6)", "groups=6", "n_C_prev = groups * 6 = 36", "W.shape[-2] = 1",
      "depthwise"]),
    (lambda: gg.conv2d(np.zeros((1, 4, 4, 4)), np.zeros((3, 3, 2, 4)), groups=0),
     ["groups", "0"]),
    (lambda: gg.conv2d(np.zeros((1, 4, 4, 4)), np.zeros((3, 3, 2, 4)), groups=1.5),
     ["groups", "1.5"]),
    (lambda: gg.conv1d(np.zeros((1, 5, 4)), np.zeros((3, 4, 4)), groups=2),
     ["(3, 4, 4)", "groups=2", "n_C_prev = groups * 4 = 8"]),
    (lambda: gg.conv2d(np.zeros((1, 4, 4, 6)), np.zeros((3, 3, 2, 8)), groups=2),
     ["6 channels", "(3, 3, 2, 8)", "n_C_prev = groups * 2 = 4",
      "A's channels need W.shape[-2] = 3"]),
    # channels first: A's axis 1 holds the channels the filters take
    (lambda: nn.Conv2d(4, 8, 3, groups=2)(np.zeros((2, 4, 6, 6))),
     ["6 channels", "(3, 3, 2, 8) with groups=2 take n_C_prev = groups * 2 = 4",
      "A's axis 1 has the 4 channels the filters take: channels first?",
      "A.transpose(0, 2, 3, 1)"]),
    (lambda: nn.Conv1d(4, 4, 3, groups=4)(np.zeros((2, 4, 10))),
     ["10 channels", "groups=4", "divide n_C_prev", "A's axis 1 has the 4 channels",
      "channels first?", "A.transpose(0, 2, 1)"]),
    (lambda: nn.ConvTranspose2d(4, 2, 3)(np.zeros((2, 4, 6, 6))),
     ["6 channels", "n_C_prev = 4", "Channels first?", "A.transpose(0, 2, 3, 1)"]),
    # filters with no weights
    (lambda: gg.conv2d(np.ones((1, 4, 4, 2)), np.zeros((0, 2, 1, 1))),
     ["(0, 2, 1, 1) hold no weights"]),
    (lambda: gg.conv1d(np.ones((1, 4, 1)), np.zeros((0, 1, 1))), ["(0, 1, 1) hold no weights"]),
    (lambda: gg.conv_transpose2d(np.ones((1, 4, 4, 1)), np.zeros((0, 0, 1, 1))),
     ["(0, 0, 1, 1) hold no weights"]),
    (lambda: gg.conv_transpose2d(np.zeros((1, 3, 3, 3)), np.zeros((3, 3, 2, 3)), groups=2),
     ["3 channels", "groups=2"]),
    (lambda: nn.Conv2d(4, 6, 3, groups=4), ["Conv2d", "groups=4", "n_C=6", "depthwise"]),
    (lambda: nn.Conv2d(6, 4, 3, groups=4), ["Conv2d", "groups=4", "n_C_prev=6"]),
    (lambda: nn.ConvTranspose2d(4, 6, 3, groups=0), ["ConvTranspose2d", "groups"]),
    (lambda: nn.Conv1d(4, 6, 3, groups=3), ["Conv1d", "groups=3", "n_C_prev=4"]),
])
def test_bad_groups_get_errors_that_name_the_shapes_and_the_fix(call, parts):
    _assert_refused(call, parts)


def test_a_grouped_layer_given_the_wrong_channels_names_its_weight_and_groups():
    layer = nn.Conv2d(4, 4, 3, groups=4, rng=0)
    _assert_refused(lambda: layer(np.zeros((1, 5, 5, 8))),
                    ["8 channels", "(3, 3, 1, 4)", "groups=4", "n_C_prev = groups * 1 = 4"])


@pytest.mark.parametrize("conv, A_shape, W_shape", [
    (gg.conv2d, (0, 5, 5, 3), (3, 3, 1, 6)),
    (gg.conv1d, (0, 7, 3), (3, 1, 6)),
], ids=["conv2d", "conv1d"])
def test_a_depthwise_convolution_of_an_empty_batch_has_zero_gradients(conv, A_shape, W_shape):
    """The filters' gradient reshaped the upstream gradient to (m, n_H, n_W, groups, -1):
    for m = 0, numpy cannot solve -1 (cannot reshape array of size 0)."""
    A = gg.Tensor(np.ones(A_shape), requires_grad=True, name="A")
    W = gg.Tensor(np.ones(W_shape), requires_grad=True, name="W")
    Z = conv(A, W, stride=2, padding=1, groups=3)
    assert Z.shape == (0, *Z.shape[1:-1], 6)
    (Z * Z).sum().backward()
    assert A.grad.shape == A_shape
    np.testing.assert_array_equal(W.grad, np.zeros(W_shape))
