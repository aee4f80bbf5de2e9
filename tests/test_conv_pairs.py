"""PyTorch's window settings for convolutions and pools: each of the window, stride, padding
and dilation one number or a pair (along n_H, along n_W); padding="same" of even filters (the
extra row and column at the bottom and right, as PyTorch pads them); ceil_mode for the max
and average pools. Values against numpy loops written from PyTorch's rules
(`tests.op_table`), gradients against finite differences, over random shapes and settings
(hypothesis); the layers; square pairs recorded as the course's numbers; the errors. The op
table gradchecks a case of each to second order, and the optional PyTorch tests compare with
torch."""
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import graphgrad as gg
from graphgrad import nn
from tests.op_table import (
    conv_pairs_reference,
    conv_transpose_pairs_reference,
    torch_rule_pool1d_reference,
    torch_rule_pool_reference,
)

SEEDS = st.integers(0, 2**32 - 1)


def _tensor(rng, shape, name):
    return gg.Tensor(rng.standard_normal(shape), requires_grad=True, name=name)


def _distinct(shape, seed):
    """Values 0.1 apart in a random order: a max with no ties, so finite differences hold."""
    return np.random.default_rng(seed).permutation(int(np.prod(shape))).reshape(shape) * 0.1


# -- convolutions ------------------------------------------------------------------------------
@st.composite
def conv_pair_cases(draw):
    f = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    pad = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    sizes = [draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), d * (k - 1) + 4))
             for k, p, d in zip(f, pad, dilation)]
    c, n_c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    return (draw(st.integers(1, 2)), *sizes, c), (*f, c, n_c), stride, pad, dilation


@given(conv_pair_cases(), SEEDS)
def test_conv2d_of_pair_settings_follows_a_loop_and_finite_differences(case, seed):
    shape, w_shape, stride, pad, dilation = case
    rng = np.random.default_rng(seed)
    A, W = _tensor(rng, shape, "A"), _tensor(rng, w_shape, "W")
    b = _tensor(rng, w_shape[-1:], "b")

    def conv(a, w, bias):
        return gg.conv2d(a, w, bias, stride=stride, padding=pad, dilation=dilation)

    expected = conv_pairs_reference(A.data, W.data, b.data, stride,
                                    ((pad[0], pad[0]), (pad[1], pad[1])), dilation)
    np.testing.assert_allclose(conv(A, W, b).data, expected, rtol=0, atol=1e-12)
    assert gg.gradcheck(conv, [A, W, b])


@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.integers(1, 3), SEEDS)
def test_same_padding_keeps_the_size_and_pads_the_odd_cell_after_as_pytorch(
        f_h, f_w, d_h, d_w, seed):
    rng = np.random.default_rng(seed)
    A = _tensor(rng, (2, rng.integers(1, 6), rng.integers(1, 6), 2), "A")
    W = _tensor(rng, (f_h, f_w, 2, 3), "W")

    def conv(a, w):
        return gg.conv2d(a, w, padding="same", dilation=(d_h, d_w))

    Z = conv(A, W)
    assert Z.shape == A.shape[:3] + (3,)
    # PyTorch's rule: d (f - 1) cells in all, half before, the odd one after
    pads = tuple((d * (f - 1) // 2, d * (f - 1) - d * (f - 1) // 2)
                 for f, d in ((f_h, d_h), (f_w, d_w)))
    np.testing.assert_allclose(Z.data, conv_pairs_reference(A.data, W.data, None, 1, pads,
                                                            (d_h, d_w)), rtol=0, atol=1e-12)
    assert gg.gradcheck(conv, [A, W])


@given(st.integers(1, 5), st.integers(1, 3), SEEDS)
def test_conv1d_same_padding_of_an_even_span_pads_the_odd_step_at_the_end(f, d, seed):
    rng = np.random.default_rng(seed)
    A, W = _tensor(rng, (2, rng.integers(1, 7), 2), "A"), _tensor(rng, (f, 2, 3), "W")

    def conv(a, w):
        return gg.conv1d(a, w, padding="same", dilation=d)

    Z = conv(A, W)
    assert Z.shape == A.shape[:2] + (3,)
    span = d * (f - 1)
    expected = conv_pairs_reference(A.data[:, None], W.data[None], None, 1,
                                    ((0, 0), (span // 2, span - span // 2)), (1, d))[:, 0]
    np.testing.assert_allclose(Z.data, expected, rtol=0, atol=1e-12)
    assert gg.gradcheck(conv, [A, W])
    layer = nn.Conv1d(2, 3, f, padding="same", dilation=d, bias=False)
    layer.W.data[...] = W.data
    np.testing.assert_array_equal(layer(A.data).data, Z.data)


def test_an_even_filter_padded_same_by_hand():
    """A row 1 2 3 by the filter [1, 1] "same": PyTorch pads one zero after, 1+2 2+3 3+0."""
    A = np.array([1.0, 2.0, 3.0]).reshape(1, 1, 3, 1)
    Z = gg.conv2d(A, np.ones((1, 2, 1, 1)), padding="same")
    np.testing.assert_array_equal(Z.data.ravel(), [3.0, 5.0, 3.0])
    np.testing.assert_array_equal(gg.conv1d(A[:, 0], np.ones((2, 1, 1)), padding="same")
                                  .data.ravel(), [3.0, 5.0, 3.0])


@st.composite
def transpose_pair_cases(draw):
    f = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    extra = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    pad = tuple(draw(st.integers(0, 1)) for _ in range(2))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3)),
             draw(st.integers(1, 2)))
    full = [(n - 1) * s + d * (k - 1) + 1 + e - 2 * p
            for n, s, d, k, e, p in zip(shape[1:3], stride, dilation, f, extra, pad)]
    if min(full) < 1:
        pad = (0, 0)
    return shape, (*f, draw(st.integers(1, 2)), shape[-1]), stride, pad, extra, dilation


@given(transpose_pair_cases(), SEEDS)
def test_conv_transpose2d_of_pairs_and_dilation_follows_a_loop_and_is_conv2d_transposed(
        case, seed):
    shape, w_shape, stride, pad, extra, dilation = case
    rng = np.random.default_rng(seed)
    A, W = _tensor(rng, shape, "A"), _tensor(rng, w_shape, "W")

    def up(a, w):
        return gg.conv_transpose2d(a, w, stride=stride, padding=pad, output_padding=extra,
                                   dilation=dilation)

    Z = up(A, W)
    np.testing.assert_allclose(Z.data, conv_transpose_pairs_reference(
        A.data, W.data, None, stride, pad, extra, dilation), rtol=0, atol=1e-12)
    if all(e < s for e, s in zip(extra, stride)):  # output_padding >= s: no conv maps back
        # the adjoint of the convolution with these settings: <conv(X), A> = <X, up(A)>
        X = rng.standard_normal(Z.shape)
        down = gg.conv2d(X, W.data, stride=stride, padding=pad, dilation=dilation)
        assert down.shape == A.shape
        np.testing.assert_allclose(np.sum(down.data * A.data), np.sum(X * Z.data), rtol=1e-10)
    assert gg.gradcheck(up, [A, W])


def test_output_padding_past_the_stride_that_a_dilation_allows_has_gradients():
    """With stride 1 and dilation 2, output_padding may be 1 (PyTorch's rule: less than the
    stride or the dilation): the convolution of the output's gradient then has a window more
    than A has pixels, and the gradients to A and W failed on the mismatch."""
    rng = np.random.default_rng(3)
    A, W = _tensor(rng, (2, 3, 2, 2), "A"), _tensor(rng, (2, 3, 1, 2), "W")

    def up(a, w):
        return gg.conv_transpose2d(a, w, stride=1, output_padding=1, dilation=2)

    assert up(A, W).shape == (2, 6, 7, 1)
    np.testing.assert_allclose(up(A, W).data, conv_transpose_pairs_reference(
        A.data, W.data, None, 1, 0, 1, 2), rtol=0, atol=1e-12)
    assert gg.gradcheck(up, [A, W])
    assert gg.gradgradcheck(up, [A, W])


# -- pooling -----------------------------------------------------------------------------------
@st.composite
def pool_cases(draw, dilated=True):
    f = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    pad = tuple(draw(st.integers(0, k // 2)) for k in f)
    dilation = ((draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilated else (1, 1))
    sizes = [draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), d * (k - 1) + 5))
             for k, p, d in zip(f, pad, dilation)]
    return (draw(st.integers(1, 2)), *sizes, draw(st.integers(1, 2))), f, stride, pad, dilation


@given(pool_cases(), st.booleans(), SEEDS)
def test_max_pooling_of_pairs_and_ceil_mode_follows_pytorchs_loop(case, ceil_mode, seed):
    shape, f, stride, pad, dilation = case
    A = gg.Tensor(_distinct(shape, seed), requires_grad=True, name="A")

    def pooled(a):
        return gg.max_pool2d(a, f, stride, pad, dilation, ceil_mode)

    try:
        out = pooled(A)
    except gg.OpError as error:  # a dilated window reading only padding, as the check says
        assert "only padding" in str(error)
        return
    np.testing.assert_array_equal(out.data, torch_rule_pool_reference(
        A.data, f, stride, pad, dilation, ceil_mode))
    assert gg.gradcheck(pooled, [A])


@given(pool_cases(dilated=False), st.booleans(), st.booleans(), SEEDS)
def test_average_pooling_of_pairs_and_ceil_mode_follows_pytorchs_loop(
        case, ceil_mode, count_include_pad, seed):
    shape, f, stride, pad, _ = case
    A = _tensor(np.random.default_rng(seed), shape, "A")

    def pooled(a):
        return gg.avg_pool2d(a, f, stride, pad, ceil_mode, count_include_pad=count_include_pad)

    np.testing.assert_allclose(pooled(A).data, torch_rule_pool_reference(
        A.data, f, stride, pad, 1, ceil_mode, "avg", count_include_pad), rtol=0, atol=1e-12)
    assert gg.gradcheck(pooled, [A])
    assert gg.gradgradcheck(pooled, [A])


@given(st.integers(1, 4), st.integers(1, 3), st.integers(0, 2), st.integers(1, 2),
       st.integers(1, 9), st.booleans(), SEEDS)
def test_one_dimensional_pools_in_ceil_mode_follow_pytorchs_loop(f, stride, pad, d, n_l,
                                                                 count_include_pad, seed):
    pad = min(pad, f // 2)
    n_l = max(n_l, d * (f - 1) + 1 - 2 * pad)
    A = gg.Tensor(_distinct((2, n_l, 2), seed), requires_grad=True, name="A")
    try:
        out = gg.max_pool1d(A, f, stride, pad, d, True)
    except gg.OpError as error:
        assert "only padding" in str(error)
    else:
        np.testing.assert_array_equal(out.data, torch_rule_pool1d_reference(
            A.data, f, stride, pad, d, True))
        assert gg.gradcheck(lambda a: gg.max_pool1d(a, f, stride, pad, d, True), [A])

    def averaged(a):
        return gg.avg_pool1d(a, f, stride, pad, True, count_include_pad=count_include_pad)

    np.testing.assert_allclose(averaged(A).data, torch_rule_pool1d_reference(
        A.data, f, stride, pad, 1, True, "avg", count_include_pad), rtol=0, atol=1e-12)
    assert gg.gradcheck(averaged, [A])


def test_ceil_mode_by_hand():
    """5 pixels in windows of 2, 2 apart: floor gives 2 windows, ceil a third over pixel 4
    alone, which max pooling takes and average pooling divides by 1 (PyTorch's divisor stops
    at the input and its padding, here none)."""
    A = gg.Tensor(np.array([1.0, 5.0, 2.0, 4.0, 3.0]).reshape(1, 5, 1), requires_grad=True)
    assert gg.max_pool1d(A, 2).shape == (1, 2, 1)
    out = gg.max_pool1d(A, 2, ceil_mode=True)
    np.testing.assert_array_equal(out.data.ravel(), [5.0, 4.0, 3.0])
    out.sum().backward()
    np.testing.assert_array_equal(A.grad.ravel(), [0, 1, 0, 1, 1])
    np.testing.assert_array_equal(gg.avg_pool1d(A, 2, ceil_mode=True).data.ravel(),
                                  [3.0, 3.0, 3.0])
    # padded by 1: ceil((5 + 2 - 2) / 2) + 1 = 4 windows would start at -1, 1, 3 and 5, but
    # the 4th would start in the right padding (5 >= n_L_prev = 5): 3, the first half padding
    padded = gg.avg_pool1d(A, 2, 2, 1, True)
    np.testing.assert_array_equal(padded.data.ravel(), [0.5, 3.5, 3.5])


def test_ceil_mode_drops_a_last_window_that_would_start_in_the_right_padding():
    """PyTorch's rule: 4 pixels, f=2, stride 2, padding 1: ceil((4 + 2 - 2) / 2) + 1 = 3
    windows, starting at -1, 1, 3; a fourth would start at 5 >= 4 + 1 and is never made."""
    A = np.arange(1.0, 5.0).reshape(1, 4, 1)
    np.testing.assert_array_equal(gg.max_pool1d(A, 2, 2, 1, ceil_mode=True).data.ravel(),
                                  [1.0, 3.0, 4.0])
    A = np.arange(1.0, 6.0).reshape(1, 5, 1)  # ceil((5 + 2 - 3) / 2) + 1 = 3, the last at 3
    assert gg.max_pool1d(A, 3, 2, 1, ceil_mode=True).shape == (1, 3, 1)
    assert gg.max_pool1d(A, 3, 3, 1, ceil_mode=True).shape == (1, 2, 1)  # 3rd would be at 5


def test_ceil_mode_makes_a_window_that_floor_could_not_fit():
    A = np.arange(4.0).reshape(1, 2, 2, 1)
    with pytest.raises(gg.OpError, match="does not fit"):
        gg.max_pool2d(A, 3, 2)
    np.testing.assert_array_equal(gg.max_pool2d(A, 3, 2, ceil_mode=True).data.ravel(), [3.0])
    np.testing.assert_array_equal(gg.avg_pool2d(A, 3, 2, 0, True).data.ravel(), [1.5])


# -- the layers, and square pairs as the course's numbers --------------------------------------
def test_the_layers_take_pairs_and_are_the_functions():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((2, 6, 7, 3))
    layer = nn.Conv2d(3, 4, (1, 3), stride=(2, 1), padding=(0, 1), dilation=(1, 2), rng=0)
    assert layer.W.shape == (1, 3, 3, 4)
    assert repr(layer).startswith(
        "Conv2d(3 -> 4, f=(1, 3), stride=(2, 1), pad=(0, 1), dilation=(1, 2)")
    np.testing.assert_array_equal(layer(A).data, gg.conv2d(
        A, layer.W.data, layer.b.data, (2, 1), (0, 1), dilation=(1, 2)).data)
    same = nn.Conv2d(3, 2, (2, 4), padding="same", rng=0)
    assert same.pad == ((0, 1), (1, 2)) and same(A).shape == (2, 6, 7, 2)
    up = nn.ConvTranspose2d(3, 2, (3, 2), stride=(2, 1), padding=(1, 0), output_padding=(1, 0),
                            dilation=(1, 2), rng=0)
    np.testing.assert_array_equal(up(A).data, gg.conv_transpose2d(
        A, up.W.data, up.b.data, (2, 1), (1, 0), (1, 0), dilation=(1, 2)).data)
    assert up(A).shape == (2, 12, 9, 2)
    pool = nn.MaxPool2d((2, 3), stride=(1, 2), padding=(1, 1), ceil_mode=True)
    assert repr(pool) == "MaxPool2d(f=(2, 3), stride=(1, 2), pad=1, ceil_mode=True)"
    np.testing.assert_array_equal(pool(A).data, gg.max_pool2d(A, (2, 3), (1, 2), 1,
                                                              ceil_mode=True).data)
    avg = nn.AvgPool2d(3, 2, 1, True, count_include_pad=False)
    assert repr(avg) == "AvgPool2d(f=3, stride=2, pad=1, count_include_pad=False, ceil_mode=True)"
    np.testing.assert_array_equal(avg(A).data, gg.avg_pool2d(A, 3, 2, 1, True,
                                                             count_include_pad=False).data)
    seq = nn.AvgPool1d(2, ceil_mode=True)
    np.testing.assert_array_equal(seq(A[:, 0]).data, gg.avg_pool1d(A[:, 0], 2, 2, 0, True).data)
    assert nn.MaxPool1d(2, ceil_mode=True)(A[:, 0]).shape == (2, 4, 3)


def test_square_pairs_are_the_course_s_numbers():
    """kernel_size=(3, 3), stride=(2, 2) make the node and layer of f=3, stride=2: the same
    pictures and reprs as the course's calls."""
    assert repr(nn.Conv2d(3, 4, (3, 3), stride=(2, 2), padding=(1, 1), rng=0)) == repr(
        nn.Conv2d(3, 4, 3, stride=2, padding=1, rng=0))
    assert repr(nn.MaxPool2d((2, 2), [2, 2])) == repr(nn.MaxPool2d(2)) == "MaxPool2d(f=2, stride=2)"
    A = gg.Tensor(np.random.default_rng(0).standard_normal((1, 5, 5, 2)), requires_grad=True)
    for pair, number in ((gg.conv2d(A, np.ones((3, 3, 2, 1)), stride=(2, 2), padding=(1, 1)),
                          gg.conv2d(A, np.ones((3, 3, 2, 1)), stride=2, padding=1)),
                         (gg.max_pool2d(A, (2, 2)), gg.max_pool2d(A, 2))):
        assert dict(pair.creator.attrs) == dict(number.creator.attrs)
        np.testing.assert_array_equal(pair.data, number.data)


# -- errors -------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, words", [
    (lambda: gg.conv2d(np.zeros((1, 4, 4, 1)), np.zeros((3, 3, 1, 1)), stride=(1, 2, 3)),
     "conv2d: the stride must be a whole number >= 1 or a pair of them (along n_H, along n_W), "
     "got (1, 2, 3)"),
    (lambda: gg.conv2d(np.zeros((1, 4, 4, 1)), np.zeros((3, 3, 1, 1)), dilation=(1, 0)),
     "conv2d: dilation must be a whole number >= 1 or a pair of them"),
    (lambda: nn.Conv2d(1, 1, (2, 0)), "Conv2d: the filter size f must be a whole number >= 1 or "
                                      "a pair of them"),
    (lambda: nn.Conv1d(1, 1, (1, 3)), "Conv1d: the filter size f must be a whole number"),
    (lambda: gg.conv1d(np.zeros((1, 4, 1)), np.zeros((2, 1, 1)), padding=(0, 1)),
     "conv1d: padding must be a number, 'valid' or 'same', got (0, 1)"),
    (lambda: gg.max_pool2d(np.zeros((1, 4, 4, 1)), (2, 3), padding=(1, 2)),
     "max_pool2d: padding (1, 2) is more than half the window size f=(2, 3)"),
    (lambda: gg.max_pool1d(np.zeros((1, 4, 1)), (2, 2)),
     "max_pool1d: the window size f of a 1-D pool must be a whole number, got (2, 2)"),
    (lambda: nn.MaxPool2d(2, ceil_mode=1), "MaxPool2d: ceil_mode must be True or False, got 1"),
    (lambda: gg.avg_pool2d(np.zeros((1, 4, 4, 1)), 2, 2, 0, "yes"),
     "avg_pool2d: ceil_mode must be True or False, got 'yes'"),
    (lambda: gg.conv_transpose2d(np.zeros((1, 2, 2, 1)), np.zeros((3, 3, 1, 1)), stride=2,
                                 padding="same", dilation=2),
     "conv_transpose2d: padding='same' is for undilated filters, got dilation=2"),
    (lambda: gg.conv_transpose2d(np.zeros((1, 2, 2, 1)), np.zeros((3, 3, 1, 1)),
                                 stride=(2, 1), output_padding=(0, 1)),
     "conv_transpose2d: output_padding (0, 1) must be smaller than the stride (2, 1) along "
     "each axis, got 1 >= 1 along n_W"),
])
def test_bad_pair_settings_are_argument_errors_that_name_the_op(call, words):
    with pytest.raises(gg.ArgumentError, match=re.escape(words)):
        call()


# -- max pooling's indices and max unpooling ----------------------------------------------------
@given(pool_cases(), st.booleans(), SEEDS)
def test_max_pooling_indices_say_where_each_value_came_from(case, ceil_mode, seed):
    shape, f, stride, pad, dilation = case
    A = gg.Tensor(_distinct(shape, seed), requires_grad=True, name="A")
    try:
        out, indices = gg.max_pool2d(A, f, stride, pad, dilation, ceil_mode, True)
    except gg.OpError as error:
        assert "only padding" in str(error)
        return
    np.testing.assert_array_equal(out.data, gg.max_pool2d(A, f, stride, pad, dilation,
                                                          ceil_mode).data)
    assert indices.dtype == np.int64 and not indices.requires_grad
    m, height, width, channels = shape
    rows, cols = np.divmod(indices.data, width)
    taken = A.data[np.arange(m)[:, None, None, None], rows, cols, np.arange(channels)]
    np.testing.assert_array_equal(taken, out.data)
    assert gg.gradcheck(lambda a: gg.max_pool2d(a, f, stride, pad, dilation, ceil_mode,
                                                True)[0], [A])
    # unpooled to A's size: each maximum back in its place, zeros elsewhere
    up = gg.max_unpool2d(out, indices, f, stride, pad, output_size=(height, width))
    expected = np.zeros(shape)
    expected[np.arange(m)[:, None, None, None], rows, cols, np.arange(channels)] = out.data
    np.testing.assert_array_equal(up.data, expected)


@given(pool_cases(dilated=False), SEEDS)
def test_max_unpooling_is_differentiable_to_second_order(case, seed):
    shape, f, stride, pad, _ = case
    A = _distinct(shape, seed)
    pooled, indices = gg.max_pool2d(A, f, stride, pad, return_indices=True)
    P = gg.Tensor(np.random.default_rng(seed).standard_normal(pooled.shape), requires_grad=True,
                  name="P")

    def unpool(p):
        return gg.max_unpool2d(p, indices, f, stride, pad, output_size=shape)

    # each value's gradient is its pixel's (every value where windows overlap, as PyTorch)
    out = unpool(P)
    upstream = np.random.default_rng(seed + 1).standard_normal(out.shape)
    out.backward(upstream)
    m, _, width, channels = shape
    rows, cols = np.divmod(indices.data, width)
    np.testing.assert_array_equal(
        P.grad, upstream[np.arange(m)[:, None, None, None], rows, cols, np.arange(channels)])
    if len(np.unique(indices.data)) == indices.size:  # no pixel taken twice: linear in P
        P.grad = None
        assert gg.gradcheck(unpool, [P])
        assert gg.gradgradcheck(unpool, [P])


def test_max_unpooling_by_hand_and_as_layers():
    """SegNet's step: 2 x 2 pooling remembers where each maximum was; unpooling puts it back."""
    A = np.array([[1.0, 5.0, 2.0, 0.0],
                  [3.0, 4.0, 7.0, 6.0]]).reshape(1, 2, 4, 1)
    out, indices = gg.max_pool2d(A, 2, return_indices=True)
    np.testing.assert_array_equal(out.data.ravel(), [5.0, 7.0])
    np.testing.assert_array_equal(indices.data.ravel(), [1, 6])  # row 0 col 1, row 1 col 2
    np.testing.assert_array_equal(gg.max_unpool2d(out, indices, 2).data[0, :, :, 0],
                                  [[0.0, 5.0, 0.0, 0.0], [0.0, 0.0, 7.0, 0.0]])
    pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
    assert repr(pool) == "MaxPool2d(f=2, stride=2, return_indices=True)"
    assert repr(unpool) == "MaxUnpool2d(f=2, stride=2)"
    np.testing.assert_array_equal(unpool(*pool(A)).data, gg.max_unpool2d(out, indices, 2).data)
    np.testing.assert_array_equal(nn.functional.max_unpool2d(out, indices, 2).data,
                                  unpool(out, indices).data)


@pytest.mark.parametrize("call, words", [
    (lambda: gg.max_unpool2d(np.ones((1, 2, 2, 1)), np.zeros((1, 2, 2, 1)), 2),
     "max_unpool2d: indices must be integers of A's shape (1, 2, 2, 1)"),
    (lambda: gg.max_unpool2d(np.ones((1, 2, 2, 1)), np.zeros((1, 2, 1, 1), dtype=int), 2),
     "max_unpool2d: indices must be integers of A's shape (1, 2, 2, 1), as max_pool2d(..., "
     "return_indices=True) gives them; got int64 of shape (1, 2, 1, 1)"),
    (lambda: gg.max_unpool2d(np.ones((1, 1, 1, 1)), np.full((1, 1, 1, 1), 9), 2),
     "max_unpool2d: indices run from 9 to 9, outside the 2 x 2 = 4 pixels of the output"),
    (lambda: nn.MaxPool2d(2, return_indices=1),
     "MaxPool2d: return_indices must be True or False, got 1"),
])
def test_bad_unpooling_is_refused_saying_what_to_give(call, words):
    with pytest.raises(gg.GraphgradError, match=re.escape(words)):
        call()


_IMAGES = np.zeros((1, 4, 4, 2))


@pytest.mark.parametrize("call, words", [
    (lambda: nn.MaxPool2d(kernel_size=2, stride=2),
     "MaxPool2d: the keyword is f=, not kernel_size= (PyTorch's kernel_size is the window or "
     "filter size f): write MaxPool2d(..., f=2)"),
    (lambda: nn.AvgPool2d(kernel_size=(2, 3)), "write AvgPool2d(..., f=(2, 3))"),
    (lambda: nn.MaxPool1d(kernel_size=3), "write MaxPool1d(..., f=3)"),
    (lambda: nn.AvgPool1d(kernel_size=3), "write AvgPool1d(..., f=3)"),
    (lambda: nn.MaxUnpool2d(kernel_size=2), "write MaxUnpool2d(..., f=2)"),
    (lambda: nn.Conv2d(2, 4, kernel_size=(1, 3)), "write Conv2d(..., f=(1, 3))"),
    (lambda: nn.Conv1d(2, 4, kernel_size=5), "write Conv1d(..., f=5)"),
    (lambda: nn.ConvTranspose2d(2, 4, kernel_size=2, stride=2),
     "write ConvTranspose2d(..., f=2)"),
    (lambda: gg.max_pool2d(_IMAGES, kernel_size=2), "write max_pool2d(..., f=2)"),
    (lambda: nn.functional.avg_pool2d(_IMAGES, kernel_size=2), "write avg_pool2d(..., f=2)"),
    (lambda: gg.max_pool1d(_IMAGES[0], kernel_size=2), "write max_pool1d(..., f=2)"),
    (lambda: gg.avg_pool1d(_IMAGES[0], kernel_size=2), "write avg_pool1d(..., f=2)"),
    (lambda: gg.max_unpool2d(_IMAGES, _IMAGES.astype(int), kernel_size=2),
     "write max_unpool2d(..., f=2)"),
])
def test_pytorchs_kernel_size_keyword_is_refused_naming_f(call, words):
    # PyTorch's nn.MaxPool2d(kernel_size=2) raised Python's bare "unexpected keyword argument"
    with pytest.raises(gg.GraphgradTypeError, match=re.escape(words)):
        call()


@pytest.mark.parametrize("call, message", [
    (lambda: gg.conv2d(_IMAGES, np.zeros((3, 3, 2, 4)), kernel_size=3),
     "conv2d: takes no kernel_size=: the filter size f is W's, W (3, 3, 2, 4) float64 of "
     "shape (f, f, n_C_prev / groups, n_C), as PyTorch's F.conv2d, which takes none either; "
     "leave out kernel_size=3 (the layer nn.Conv2d(n_C_prev, n_C, f) takes f)"),
    (lambda: nn.functional.conv1d(_IMAGES[0], np.zeros((3, 2, 4)), f=3),
     "conv1d: takes no f=: the filter size f is W's, W (3, 2, 4) float64 of shape (f, "
     "n_C_prev / groups, n_C), as PyTorch's F.conv1d, which takes none either; leave out f=3 "
     "(the layer nn.Conv1d(n_C_prev, n_C, f) takes f)"),
    (lambda: gg.conv_transpose2d(_IMAGES, W=np.zeros((2, 2, 2, 4)), kernel_size=(2, 2)),
     "conv_transpose2d: takes no kernel_size=: the filter size f is W's, W (2, 2, 2, 4) "
     "float64 of shape (f, f, n_C / groups, n_C_prev), as PyTorch's F.conv_transpose2d, "
     "which takes none either; leave out kernel_size=(2, 2) (the layer "
     "nn.ConvTranspose2d(n_C_prev, n_C, f) takes f)"),
], ids=["conv2d", "conv1d f", "conv_transpose2d"])
def test_a_convolution_function_refuses_a_filter_size_as_ws_shape_gives_it(call, message):
    """F.conv2d takes the filters W, not a filter size: kernel_size= (or f=) is refused
    saying so, not by asking for f=, which the function does not take either."""
    with pytest.raises(gg.GraphgradTypeError) as caught:
        call()
    assert str(caught.value) == message


@pytest.mark.parametrize("call, words", [
    (lambda: gg.conv_transpose2d(_IMAGES, np.zeros((3, 3, 1, 2)), stride=(2, 1),
                                 output_padding=1),
     "conv_transpose2d: output_padding 1 must be smaller than the stride (2, 1) along each "
     "axis, got 1 >= 1 along n_W: the sizes a convolution of stride s maps to one n_H_prev "
     "differ by s - 1 at most; use output_padding=(1, 0)"),
    (lambda: nn.ConvTranspose2d(2, 1, 3, stride=2, output_padding=(3, 1), dilation=(3, 1)),
     "ConvTranspose2d: output_padding (3, 1) must be smaller than the stride 2 or the dilation "
     "(3, 1) along each axis, got 3 >= 3 along n_H"),
    (lambda: nn.ConvTranspose2d(2, 1, 3, stride=2, output_padding=(3, 1), dilation=(3, 1)),
     "use output_padding=(2, 1)"),
])
def test_output_padding_past_the_stride_names_the_axis_and_what_to_give(call, words):
    # was "output_padding (1) must be smaller than the stride ((2, 1))", saying neither
    with pytest.raises(gg.ArgumentError, match=re.escape(words)):
        call()


def test_a_window_of_several_nans_takes_the_last_as_pytorch():
    # PyTorch's max pooling keeps the last NaN of a window (its rule: val > max or val is NaN);
    # its index and its gradient went to the first
    A = gg.Tensor(np.array([[np.nan, 1.0], [np.nan, 2.0]])[None, :, :, None],
                  requires_grad=True)
    out, indices = gg.max_pool2d(A, 2, return_indices=True)
    assert np.isnan(out.data).all() and indices.data.ravel().tolist() == [2]
    out.sum().backward()
    np.testing.assert_array_equal(A.grad.ravel(), [0, 0, 1, 0])
    x = gg.Tensor(np.array([np.nan, 3.0, np.nan, 1.0])[None, :, None], requires_grad=True)
    gg.max_pool1d(x, 4).sum().backward()
    np.testing.assert_array_equal(x.grad.ravel(), [0, 0, 1, 0])
    # ties of numbers still go to the first, in windows beside a NaN one
    B = gg.Tensor(np.array([[2.0, 2.0, np.nan, np.nan]])[None, :, :, None], requires_grad=True)
    out, indices = gg.max_pool2d(B, (1, 2), return_indices=True)
    assert indices.data.ravel().tolist() == [0, 3]
    out.sum().backward()
    np.testing.assert_array_equal(B.grad.ravel(), [1, 0, 0, 1])


# -- PyTorch's positional order of the max pools ---------------------------------------------------
def test_max_pool_layers_take_pytorchs_order_return_indices_before_ceil_mode():
    """nn.MaxPool2d(kernel_size, stride, padding, dilation, return_indices, ceil_mode), as
    PyTorch's module; its functions put ceil_mode first (F.max_pool2d(input, kernel_size,
    stride, padding, dilation, ceil_mode, return_indices)). Five steps [1, 5, 2, 4, 3] in
    windows of 2: floor gives [5, 4] at steps 1 and 3, ceil a third window, [3] at step 4."""
    seq = np.array([1.0, 5.0, 2.0, 4.0, 3.0]).reshape(1, 5, 1)
    out, indices = nn.MaxPool1d(2, 2, 0, 1, True)(seq)  # return_indices=True, floor
    assert out.data.ravel().tolist() == [5.0, 4.0] and indices.data.ravel().tolist() == [1, 3]
    out, indices = nn.MaxPool1d(2, 2, 0, 1, True, True)(seq)  # and ceil_mode=True
    assert out.data.ravel().tolist() == [5.0, 4.0, 3.0]
    assert indices.data.ravel().tolist() == [1, 3, 4]
    assert nn.MaxPool1d(2, 2, 0, 1, False, True)(seq).data.ravel().tolist() == [5.0, 4.0, 3.0]
    # the functions: ceil_mode sixth, return_indices seventh
    assert gg.max_pool1d(seq, 2, 2, 0, 1, True).data.ravel().tolist() == [5.0, 4.0, 3.0]
    out, indices = nn.functional.max_pool1d(seq, 2, 2, 0, 1, False, True)
    assert out.data.ravel().tolist() == [5.0, 4.0] and indices.data.ravel().tolist() == [1, 3]

    A = np.arange(25.0).reshape(1, 5, 5, 1)
    ceil = nn.MaxPool2d(2, 2, 0, 1, False, True)  # ceil_mode=True, as PyTorch's module
    assert ceil.ceil_mode and not ceil.return_indices
    assert ceil(A).data[0, :, :, 0].tolist() == [[6.0, 8.0, 9.0], [16.0, 18.0, 19.0],
                                                 [21.0, 23.0, 24.0]]
    layer = nn.MaxPool2d(2, 2, 0, 1, True, True)
    assert layer.return_indices and layer.ceil_mode
    assert repr(layer) == "MaxPool2d(f=2, stride=2, ceil_mode=True, return_indices=True)"
    out, indices = layer(A)
    assert out.data[0, :, :, 0].tolist() == [[6.0, 8.0, 9.0], [16.0, 18.0, 19.0],
                                             [21.0, 23.0, 24.0]]
    assert indices.data[0, :, :, 0].tolist() == [[6, 8, 9], [16, 18, 19], [21, 23, 24]]
    function = nn.functional.max_pool2d(A, 2, 2, 0, 1, True, True)
    np.testing.assert_array_equal(function[0].data, out.data)
    np.testing.assert_array_equal(function[1].data, indices.data)
    plain = nn.MaxPool2d(2, 2, 0, 1, False, False)
    assert not plain.return_indices and not plain.ceil_mode and plain(A).shape == (1, 2, 2, 1)
    assert repr(nn.MaxPool2d(3, 1, 1, 2, True)) == (
        "MaxPool2d(f=3, stride=1, pad=1, dilation=2, return_indices=True)")


@pytest.mark.parametrize("call, words", [
    (lambda: nn.MaxPool2d(2, 2, 0, True), "MaxPool2d: dilation must be a whole number, got "
     "True: PyTorch's order is nn.MaxPool2d(kernel_size, stride, padding, dilation, "
     "return_indices, ceil_mode); give a flag by name, MaxPool2d(..., return_indices=True)"),
    (lambda: nn.MaxPool2d(2, 2, False), "MaxPool2d: padding must be a whole number, got False"),
    (lambda: nn.MaxPool2d(2, True), "MaxPool2d: stride must be a whole number, got True"),
    (lambda: nn.MaxPool2d(2, (2, True)), "MaxPool2d: stride must be a whole number, got "
                                         "(2, True)"),
    (lambda: nn.MaxPool2d(True), "MaxPool2d: f must be a whole number, got True"),
    (lambda: nn.MaxPool1d(3, 1, 1, False), "MaxPool1d: dilation must be a whole number, got "
     "False: PyTorch's order is nn.MaxPool1d(kernel_size, stride, padding, dilation, "
     "return_indices, ceil_mode)"),
    (lambda: gg.max_pool2d(_IMAGES, 2, 2, 0, True), "max_pool2d: dilation must be a whole "
     "number, got True: PyTorch's order is F.max_pool2d(input, kernel_size, stride, padding, "
     "dilation, ceil_mode, return_indices); give a flag by name, max_pool2d(..., "
     "ceil_mode=True)"),
    (lambda: nn.functional.max_pool1d(_IMAGES[0], 2, False), "max_pool1d: stride must be a "
     "whole number, got False: PyTorch's order is F.max_pool1d(input, kernel_size, stride"),
    (lambda: nn.MaxPool2d(2, 2, 0, 1, 1), "MaxPool2d: return_indices must be True or False, "
                                          "got 1"),
    (lambda: nn.MaxPool2d(2, 2, 0, 1, False, 1), "MaxPool2d: ceil_mode must be True or False, "
                                                 "got 1"),
    (lambda: gg.max_pool2d(_IMAGES, 2, 2, 0, 1, 0), "max_pool2d: ceil_mode must be True or "
                                                    "False, got 0"),
])
def test_a_flag_in_a_numbers_place_is_refused_naming_the_setting_and_the_order(call, words):
    # a bool where a number belongs would otherwise run as 0 or 1
    with pytest.raises(gg.ArgumentError, match=re.escape(words)):
        call()
