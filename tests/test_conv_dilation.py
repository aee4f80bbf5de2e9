"""Dilated convolutions (conv2d's and conv1d's ``dilation``, the layers' keyword): a filter
dilated by d is the dense filter with d - 1 zeros between its weights, in values and in both
gradients, over random settings (hypothesis); "same" padding, the layers, and the errors.
Dilated max pooling (max_pool2d's and max_pool1d's, PyTorch's) against a loop over windows.
The op table gradchecks each to second order, and the optional PyTorch tests compare with
torch."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import graphgrad as gg
from graphgrad import nn
from tests.op_table import dilated, dilated_max_pool_reference


@st.composite
def dilated_cases(draw):
    f_h, f_w = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    d, stride = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    pad = draw(st.integers(0, 2))
    groups = draw(st.sampled_from([1, 2]))
    per_group = draw(st.integers(1, 2))
    span_h, span_w = d * (f_h - 1) + 1, d * (f_w - 1) + 1
    A = (draw(st.integers(1, 2)), draw(st.integers(max(1, span_h - 2 * pad), span_h + 3)),
         draw(st.integers(max(1, span_w - 2 * pad), span_w + 3)), groups * per_group)
    W = (f_h, f_w, per_group, groups * draw(st.integers(1, 2)))
    return A, W, d, stride, pad, groups


@given(dilated_cases(), st.integers(0, 2**32 - 1))
def test_a_dilated_filter_is_the_dense_one_with_zeros_between_its_weights(case, seed):
    shape, w_shape, d, stride, pad, groups = case
    rng = np.random.default_rng(seed)
    a, w = rng.standard_normal(shape), rng.standard_normal(w_shape)
    A, W = gg.Tensor(a, requires_grad=True), gg.Tensor(w, requires_grad=True)
    Z = gg.conv2d(A, W, stride=stride, padding=pad, groups=groups, dilation=d)
    A2 = gg.Tensor(a, requires_grad=True)
    W2 = gg.Tensor(dilated(w, d), requires_grad=True)
    Z2 = gg.conv2d(A2, W2, stride=stride, padding=pad, groups=groups)
    np.testing.assert_allclose(Z.data, Z2.data, atol=1e-12)
    dZ = rng.standard_normal(Z.shape)
    Z.backward(dZ)
    Z2.backward(dZ)
    np.testing.assert_allclose(A.grad, A2.grad, atol=1e-12)
    np.testing.assert_allclose(W.grad, W2.grad[::d, ::d], atol=1e-12)  # the taps' gradients


@given(st.integers(1, 4), st.integers(1, 3), st.integers(0, 3), st.integers(0, 2**32 - 1))
def test_conv1d_dilated_is_conv1d_by_the_dense_filter(f, d, pad, seed):
    rng = np.random.default_rng(seed)
    span = d * (f - 1) + 1
    a = rng.standard_normal((2, max(1, span - 2 * pad) + 2, 3))
    w, b = rng.standard_normal((f, 3, 2)), rng.standard_normal(2)
    np.testing.assert_allclose(gg.conv1d(a, w, b, padding=pad, dilation=d).data,
                               gg.conv1d(a, dilated(w, d, axes=1), b, padding=pad).data,
                               atol=1e-12)
    assert gg.gradcheck(lambda x, k: gg.conv1d(x, k, padding=pad, dilation=d),
                        [gg.Tensor(a, requires_grad=True), gg.Tensor(w, requires_grad=True)])


def test_a_dilated_convolution_by_hand():
    """A row 1 2 3 4 5 by the filter [1, 1] dilated by 2: each pixel plus the one two on."""
    A = np.arange(1.0, 6.0).reshape(1, 1, 5, 1)
    W = np.ones((1, 2, 1, 1))
    np.testing.assert_array_equal(gg.conv2d(A, W, dilation=2).data[0, 0, :, 0], [4, 6, 8])


@pytest.mark.parametrize("f, d", [(3, 2), (2, 2), (3, 3), (2, 4), (5, 1)])
def test_same_padding_keeps_the_size_of_a_dilated_window(f, d):
    layer = nn.Conv2d(2, 3, f, padding="same", dilation=d, rng=0)
    assert layer.pad == d * (f - 1) // 2
    assert layer(np.zeros((1, 9, 8, 2))).shape == (1, 9, 8, 3)
    assert gg.conv1d(np.zeros((1, 9, 2)), np.zeros((f, 2, 3)), padding="same",
                     dilation=d).shape == (1, 9, 3)


def test_the_layers_record_the_dilation_and_are_the_functions():
    layer = nn.Conv2d(4, 6, 3, stride=2, padding=2, groups=2, dilation=2, rng=0)
    assert repr(layer).startswith("Conv2d(4 -> 6, f=3, stride=2, pad=2, groups=2, dilation=2")
    A = np.random.default_rng(1).standard_normal((2, 8, 7, 4))
    np.testing.assert_array_equal(
        layer(A).data, gg.conv2d(A, layer.W, layer.b, 2, 2, groups=2, dilation=2).data)
    seq = nn.Conv1d(3, 2, 3, padding="same", dilation=3, rng=0)
    assert "dilation=3" in repr(seq)
    X = np.random.default_rng(2).standard_normal((2, 10, 3))
    np.testing.assert_array_equal(seq(X).data, gg.conv1d(X, seq.W, seq.b, padding=3,
                                                         dilation=3).data)
    assert "dilation" not in repr(nn.Conv2d(2, 2, 3))  # undilated layers show what they did


def test_the_gradient_nodes_carry_the_dilation_so_second_derivatives_use_it():
    rng = np.random.default_rng(3)
    A = gg.Tensor(rng.standard_normal((1, 6, 6, 2)), requires_grad=True)
    W = gg.Tensor(rng.standard_normal((2, 2, 2, 2)), requires_grad=True)
    assert gg.gradgradcheck(lambda a, w: gg.conv2d(a, w, padding=1, dilation=3), [A, W])


# -- errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda: gg.conv2d(np.zeros((1, 6, 6, 2)), np.zeros((3, 3, 2, 2)), None, 1, 0, 2),
    lambda: gg.conv1d(np.zeros((1, 6, 2)), np.zeros((3, 2, 2)), None, 1, 0, 2),
    lambda: nn.functional.conv1d(np.zeros((1, 6, 2)), np.zeros((3, 1, 2)), None, 1, 0, 1, 2),
], ids=["conv2d", "conv1d", "F.conv1d"])
def test_groups_and_dilation_are_keywords_as_pytorch_orders_them_otherwise(call):
    """PyTorch's F.conv2d and F.conv1d take (stride, padding, dilation, groups): conv1d(A, W,
    None, 1, 0, 2), PyTorch's dilation of 2, was groups=2 here, and its groups by position a
    dilation; as nn.Conv2d and nn.Conv1d, the functions take both by name."""
    with pytest.raises(TypeError, match="positional argument"):
        call()


def test_a_dilated_window_that_does_not_fit_is_refused_with_its_span():
    with pytest.raises(gg.OpError, match=r"a 3 x 3 window dilated by 3 \(spanning 7 x 7 "
                                         r"pixels\) does not fit in 5 x 8 images.*d \(f - 1\)"):
        gg.conv2d(np.zeros((1, 5, 8, 1)), np.zeros((3, 3, 1, 1)), dilation=3)
    with pytest.raises(gg.OpError, match=r"f=3 dilated by 2 \(spanning 5 steps\) does not fit"):
        gg.conv1d(np.zeros((1, 4, 1)), np.zeros((3, 1, 1)), dilation=2)


def test_same_padding_of_an_even_span_pads_the_extra_pixel_after_as_pytorch():
    """A 2 x 2 filter dilated by 3 spans 4 pixels: "same" pads 3 in all, 1 before and 2
    after (PyTorch's rule), and keeps the size."""
    layer = nn.Conv2d(2, 2, 2, padding="same", dilation=3)
    assert layer.pad == ((1, 2), (1, 2))
    A = np.random.default_rng(0).standard_normal((1, 5, 6, 2))
    padded = np.pad(A, ((0, 0), (1, 2), (1, 2), (0, 0)))
    expected = gg.conv2d(padded, layer.W.data, layer.b.data, dilation=3).data
    np.testing.assert_allclose(layer(A).data, expected, rtol=0, atol=1e-12)
    assert expected.shape == (1, 5, 6, 2)


@pytest.mark.parametrize("make", [lambda: nn.Conv2d(2, 2, 3, dilation=0),
                                  lambda: nn.Conv1d(2, 2, 3, dilation=1.5),
                                  lambda: gg.conv2d(np.zeros((1, 3, 3, 1)),
                                                    np.zeros((1, 1, 1, 1)), dilation=-1)])
def test_a_dilation_below_one_is_refused_by_name(make):
    with pytest.raises(gg.ArgumentError, match=r"dilation must be a whole number"):
        make()


# -- dilated max pooling --------------------------------------------------------------------------
@st.composite
def dilated_pool_cases(draw):
    f, d, stride = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    pad = draw(st.integers(0, f // 2))
    span = d * (f - 1) + 1
    sizes = [draw(st.integers(max(1, span - 2 * pad), span + 3)) for _ in range(2)]
    return (draw(st.integers(1, 2)), *sizes, draw(st.integers(1, 2))), f, stride, pad, d


def _distinct(shape, seed):
    return np.random.default_rng(seed).permutation(int(np.prod(shape))).reshape(shape) * 0.1


@given(dilated_pool_cases(), st.booleans(), st.integers(0, 2**32 - 1))
def test_dilated_max_pooling_follows_a_loop_and_finite_differences(case, sequences, seed):
    shape, f, stride, pad, d = case
    if sequences:
        shape = (shape[0], shape[2], shape[3])
    A = _distinct(shape, seed)
    pool = gg.max_pool1d if sequences else gg.max_pool2d

    def pooled(a):
        return pool(a, f, stride=stride, padding=pad, dilation=d)

    try:
        out = pooled(A)
    except gg.OpError as error:  # a window reading only padding, as the check says
        assert "only padding" in str(error)
        return
    np.testing.assert_array_equal(out.data, dilated_max_pool_reference(A, f, stride, pad, d))
    assert gg.gradcheck(pooled, [gg.Tensor(A, requires_grad=True, name="A")])


def test_dilated_max_pooling_by_hand():
    """Windows of 2 steps 3 apart over 1 5 2 4 3 0: max(1, 4), max(5, 3), max(2, 0)."""
    A = gg.Tensor(np.array([1.0, 5.0, 2.0, 4.0, 3.0, 0.0]).reshape(1, 6, 1), requires_grad=True)
    out = gg.max_pool1d(A, 2, stride=1, dilation=3)
    np.testing.assert_array_equal(out.data[0, :, 0], [4.0, 5.0, 2.0])
    out.sum().backward()
    np.testing.assert_array_equal(A.grad[0, :, 0], [0, 1, 1, 1, 0, 0])


def test_the_pooling_layers_take_dilation_and_are_the_functions():
    A = _distinct((2, 8, 7, 2), 0)
    layer = nn.MaxPool2d(3, stride=2, padding=1, dilation=2)
    assert repr(layer) == "MaxPool2d(f=3, stride=2, pad=1, dilation=2)"
    np.testing.assert_array_equal(layer(A).data, gg.max_pool2d(A, 3, 2, 1, dilation=2).data)
    seq = nn.MaxPool1d(2, dilation=2)
    assert repr(seq) == "MaxPool1d(f=2, stride=2, dilation=2)"
    np.testing.assert_array_equal(seq(A[:, 0]).data, gg.max_pool1d(A[:, 0], 2, dilation=2).data)


def test_a_dilated_pooling_window_reading_only_padding_is_refused():
    with pytest.raises(gg.OpError, match=r"window 0 of f=2 dilated by 3, with padding 1, reads "
                                         r"positions \[-1, 2\] of an axis of 2.*only padding; "
                                         r"pad less"):
        gg.max_pool1d(np.zeros((1, 2, 1)), 2, stride=1, padding=1, dilation=3)
    with pytest.raises(gg.OpError, match=r"only padding"):
        nn.MaxPool2d(2, stride=1, padding=1, dilation=3)(np.zeros((1, 2, 5, 1)))


@pytest.mark.parametrize("make", [lambda: nn.MaxPool2d(2, dilation=0),
                                  lambda: gg.max_pool1d(np.zeros((1, 4, 1)), 2, dilation=2.0)])
def test_a_pooling_dilation_below_one_is_refused_by_name(make):
    with pytest.raises(gg.ArgumentError, match=r"(MaxPool2d|max_pool1d): dilation must be"):
        make()


@pytest.mark.parametrize("make", [
    lambda: nn.MaxPool2d(3, stride=1, padding="same", dilation=2),
    lambda: gg.max_pool1d(np.zeros((1, 9, 1)), 3, stride=1, padding="same", dilation=2),
])
def test_same_padding_of_a_dilated_pool_is_refused_as_same(make):
    """'same' for a window of f = 3 dilated by 2 pads d (f - 1) / 2 = 2, more than pooling's
    f / 2: the error said "padding 2 is more than half the window size" and to use padding
    <= 1, a padding the caller never gave and one that does not keep the size."""
    with pytest.raises(gg.ArgumentError, match=r"padding='same' of a window of f=3 dilated by "
                                               r"2 would pad d \(f - 1\) / 2 = 2, more than "
                                               r"the f / 2 = 1 pooling pads"):
        make()
    with pytest.raises(gg.ArgumentError, match=r"padding 2 is more than half the window size"):
        nn.MaxPool2d(3, stride=1, padding=2, dilation=2)  # a number is named as it was given
