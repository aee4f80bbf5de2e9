"""Convolutions and pooling: the course's output-size formula and loops as references over
random shapes, the course's conv_backward, ties in max pooling, the layers, clear errors, and
a small convolutional network trained on scikit-learn's digits. (Every op is also a row of
the op table: gradcheck, gradgradcheck, float32.)"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from op_table import conv_reference, pool_reference
from sklearn.datasets import load_digits

import graphgrad as gg
from graphgrad import nn, optim
from graphgrad.data import train_dev_test_split
from graphgrad.train import evaluate


def _leaf(array, name):
    return gg.Tensor(array, requires_grad=True, name=name)


@st.composite
def conv_cases(draw):
    """Images, filters and settings whose window fits: (A shape, W shape, stride, pad)."""
    f_h, f_w = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride, pad = draw(st.integers(1, 3)), draw(st.integers(0, 2))
    height = draw(st.integers(max(1, f_h - 2 * pad), 6))
    width = draw(st.integers(max(1, f_w - 2 * pad), 6))
    m, n_c_prev, n_c = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return (m, height, width, n_c_prev), (f_h, f_w, n_c_prev, n_c), stride, pad


@given(conv_cases(), st.integers(0, 2**32 - 1))
def test_conv2d_over_random_shapes_follows_the_course_formula_and_finite_differences(case, seed):
    a_shape, w_shape, stride, pad = case
    rng = np.random.default_rng(seed)
    A, W, b = (rng.standard_normal(a_shape), rng.standard_normal(w_shape),
               rng.standard_normal(w_shape[-1]))
    Z = gg.conv2d(A, W, b, stride=stride, pad=pad)
    n_h = (a_shape[1] + 2 * pad - w_shape[0]) // stride + 1
    n_w = (a_shape[2] + 2 * pad - w_shape[1]) // stride + 1
    assert Z.shape == (a_shape[0], n_h, n_w, w_shape[-1])
    np.testing.assert_allclose(Z.data, conv_reference(A, W, b, stride, pad), atol=1e-12)
    inputs = [_leaf(A, "A"), _leaf(W, "W"), _leaf(b, "b")]
    assert gg.gradcheck(lambda a, w, c: gg.conv2d(a, w, c, stride=stride, pad=pad), inputs)


@st.composite
def pool_cases(draw):
    f, stride = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    shape = (draw(st.integers(1, 2)), draw(st.integers(f, 6)), draw(st.integers(f, 6)),
             draw(st.integers(1, 3)))
    return shape, f, stride


@given(pool_cases(), st.sampled_from(["max", "avg"]), st.integers(0, 2**32 - 1))
def test_pooling_over_random_shapes_follows_the_course_loops_and_finite_differences(
        case, kind, seed):
    shape, f, stride = case
    pool, reduce = (gg.max_pool2d, np.max) if kind == "max" else (gg.avg_pool2d, np.mean)
    # Distinct values 0.1 apart: no ties, so max pooling is differentiable at the point.
    A = np.random.default_rng(seed).permutation(np.prod(shape)).reshape(shape) * 0.1
    out = pool(A, f, stride=stride)
    assert out.shape == (shape[0], (shape[1] - f) // stride + 1, (shape[2] - f) // stride + 1,
                         shape[3])
    np.testing.assert_allclose(out.data, pool_reference(A, f, stride, reduce), atol=1e-12)
    assert gg.gradcheck(lambda a: pool(a, f, stride=stride), [_leaf(A, "A")])


def course_conv_backward(dZ, A_prev, W, stride, pad):
    """The course's conv_backward, loop by loop: dA_prev, dW, db."""
    f = W.shape[0]
    A_pad = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    dA_pad = np.zeros_like(A_pad)
    dW, db = np.zeros_like(W), np.zeros(W.shape[-1])
    m, n_H, n_W, n_C = dZ.shape
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    rows, cols = slice(h * stride, h * stride + f), slice(w * stride,
                                                                          w * stride + f)
                    dA_pad[i, rows, cols, :] += W[:, :, :, c] * dZ[i, h, w, c]
                    dW[:, :, :, c] += A_pad[i, rows, cols, :] * dZ[i, h, w, c]
                    db[c] += dZ[i, h, w, c]
    dA_prev = dA_pad[:, pad:A_pad.shape[1] - pad, pad:A_pad.shape[2] - pad, :]
    return dA_prev, dW, db


@pytest.mark.parametrize("stride, pad", [(1, 0), (1, 1), (2, 2), (3, 1)])
def test_conv2d_gradients_are_the_course_conv_backward(stride, pad):
    rng = np.random.default_rng(1)
    A, W, b = _leaf(rng.standard_normal((3, 7, 6, 4)), "A_prev"), _leaf(
        rng.standard_normal((3, 3, 4, 5)), "W"), _leaf(rng.standard_normal(5), "b")
    Z = gg.conv2d(A, W, b, stride=stride, pad=pad)
    dZ = rng.standard_normal(Z.shape)
    Z.backward(dZ)
    dA_prev, dW, db = course_conv_backward(dZ, A.data, W.data, stride, pad)
    np.testing.assert_allclose(A.grad, dA_prev, atol=1e-12)
    np.testing.assert_allclose(W.grad, dW, atol=1e-12)
    np.testing.assert_allclose(b.grad, db, atol=1e-12)


def test_a_tied_max_pooling_window_passes_its_whole_gradient_to_one_element():
    A = _leaf(np.ones((1, 4, 4, 2)), "A")
    out = gg.max_pool2d(A, 2)
    upstream = np.arange(1.0, 9.0).reshape(out.shape)
    out.backward(upstream)
    # Each window's first element gets it all: nothing is created, nothing is lost.
    np.testing.assert_array_equal(A.grad[:, ::2, ::2, :], upstream)
    assert A.grad.sum() == upstream.sum()
    assert np.count_nonzero(A.grad) == upstream.size


def test_overlapping_max_pooling_windows_add_their_gradients_at_a_shared_maximum():
    A = np.zeros((1, 3, 3, 1))
    A[0, 1, 1, 0] = 5.0  # the largest element of all four 2 x 2 windows
    A = _leaf(A, "A")
    gg.max_pool2d(A, 2, stride=1).sum().backward()
    assert A.grad[0, 1, 1, 0] == 4.0
    assert A.grad.sum() == 4.0


def test_max_pooling_keeps_a_nan_as_np_max_does_and_an_infinite_gradient_stays_put():
    A = np.arange(16.0).reshape(1, 4, 4, 1)
    A[0, 0, 1, 0] = np.nan
    A = _leaf(A, "A")
    out = gg.max_pool2d(A, 2)
    np.testing.assert_array_equal(out.data, pool_reference(A.data, 2, 2, np.max))
    out.backward(np.full(out.shape, np.inf))
    # Each window's chosen element gets inf; the others get 0, not inf * 0 = NaN.
    assert np.isinf(A.grad).sum() == 4 and A.grad[0, 0, 1, 0] == np.inf
    assert not np.isnan(A.grad).any()


def test_average_pooling_shares_each_gradient_equally_and_skips_uncovered_pixels():
    A = _leaf(np.random.default_rng(2).standard_normal((2, 5, 4, 3)), "A")
    out = gg.avg_pool2d(A, 2)  # the fifth row is in no window
    upstream = np.random.default_rng(3).standard_normal(out.shape)
    out.backward(upstream)
    spread = np.repeat(np.repeat(upstream, 2, axis=1), 2, axis=2) / 4
    np.testing.assert_allclose(A.grad[:, :4], spread)
    np.testing.assert_array_equal(A.grad[:, 4], 0.0)


def test_conv2d_with_same_padding_keeps_the_image_size_and_counts_its_parameters():
    layer = nn.Conv2d(3, 8, 5, padding="same", rng=0)
    assert layer.W.shape == (5, 5, 3, 8) and layer.b.shape == (8,)
    assert sum(p.data.size for p in layer.parameters()) == 5 * 5 * 3 * 8 + 8
    assert layer(np.zeros((2, 9, 7, 3))).shape == (2, 9, 7, 8)
    assert nn.Conv2d(3, 8, 3, stride=2, padding="valid")(np.zeros((2, 9, 7, 3))).shape == (
        2, 4, 3, 8)


def test_conv2d_filters_start_with_he_variance_over_their_window():
    layer = nn.Conv2d(16, 256, 3, rng=0)
    # Each filter sees f * f * n_C_prev = 144 inputs: std sqrt(2 / 144).
    assert layer.W.data.std() == pytest.approx(np.sqrt(2 / 144), rel=0.03)
    assert abs(layer.W.data.mean()) < 0.01


def test_a_conv2d_layer_is_gradient_checked_with_respect_to_its_input_and_parameters():
    layer = nn.Conv2d(2, 3, 3, stride=2, padding=1, rng=1)
    layer.b.data[:] = np.random.default_rng(4).standard_normal(3)
    A = _leaf(np.random.default_rng(5).standard_normal((2, 5, 5, 2)), "A")
    assert gg.gradcheck(lambda a, w, b: gg.conv2d(a, w, b, stride=2, pad=1),
                        [A, layer.W, layer.b])
    Z = layer(A)
    Z.backward(np.ones(Z.shape))
    assert layer.W.grad.shape == layer.W.shape and layer.b.grad.tolist() == [9.0 * 2] * 3


def test_conv2d_state_dict_round_trip_gives_the_same_output():
    A = np.random.default_rng(6).standard_normal((2, 6, 6, 3))
    first, second = nn.Conv2d(3, 4, 3, rng=1), nn.Conv2d(3, 4, 3, rng=2)
    second.load_state_dict(first.state_dict())
    np.testing.assert_array_equal(first(A).data, second(A).data)


def test_a_float32_convolutional_network_stays_float32_forward_and_backward():
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding="same", dtype=np.float32), nn.ReLU(),
                          nn.MaxPool2d(2), nn.AvgPool2d(2), nn.Flatten(),
                          nn.Linear(2, 3, dtype=np.float32))
    X = np.random.default_rng(7).standard_normal((4, 4, 4, 1))  # float64 data
    J = nn.cross_entropy(model(X), np.array([0, 1, 2, 0]))
    J.backward()
    assert J.dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in model.parameters())


@pytest.mark.parametrize("call, message", [
    (lambda: gg.conv2d(gg.Tensor(np.zeros((2, 3, 8, 8)), name="A"), np.zeros((3, 3, 3, 4))),
     r"Conv2d\('A' \(2, 3, 8, 8\).*A has 8 channels.*channels last: A.transpose\(0, 2, 3, 1\)"),
    (lambda: gg.conv2d(np.zeros((8, 8, 3)), np.zeros((3, 3, 3, 4))),
     r"Conv2d\(.*\(m, n_H, n_W, n_C\).*got shape \(8, 8, 3\).*A\[None\]"),
    (lambda: gg.conv2d(np.zeros((1, 4, 4, 1)), np.zeros((5, 5, 1, 2))),
     r"a 5 x 5 window does not fit in 4 x 4 images with pad=0.*pad more"),
    (lambda: gg.conv2d(np.zeros((1, 4, 4, 1)), np.zeros((3, 3, 1, 2)), np.zeros(3)),
     r"the bias must have shape \(2,\), got \(3,\)"),
    (lambda: gg.max_pool2d(np.zeros((1, 2, 2, 1)), 3),
     r"MaxPool2d.*does not fit in 2 x 2 images: n_H = floor\(\(n_H_prev - f\) / stride\) "
     r"\+ 1 = 0.*use a smaller window$"),
])
def test_bad_convolution_inputs_get_errors_that_name_the_op_and_say_what_to_do(call, message):
    with pytest.raises(gg.OpError, match=message):
        call()


@pytest.mark.parametrize("call, message", [
    (lambda: gg.conv2d(np.zeros((1, 4, 4, 1)), np.zeros((3, 3, 1, 2)), stride=0),
     "conv2d: the stride must be a whole number of at least 1, got 0"),
    (lambda: gg.max_pool2d(np.zeros((1, 4, 4, 1)), 1.5),
     "max_pool2d: the window size f must be a whole number of at least 1, got 1.5"),
    (lambda: nn.Conv2d(3, 4, 2, padding="same"),
     "padding='same' needs stride 1 and an odd filter size"),
    (lambda: nn.Conv2d(3, 4, 3, padding="full"), "padding must be a number, 'valid' or 'same'"),
    (lambda: nn.AvgPool2d(2, stride=-1),
     "AvgPool2d: the stride must be a whole number of at least 1, got -1"),
])
def test_bad_convolution_settings_are_argument_errors(call, message):
    with pytest.raises(gg.ArgumentError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()


@pytest.mark.slow
def test_a_small_convolutional_network_reaches_96_percent_on_digits():
    digits = load_digits()
    images = (digits.images / 16.0)[..., None]  # (m, 8, 8, 1): channels last
    (X_train, y_train), (X_dev, y_dev), (X_test, y_test) = train_dev_test_split(
        images, digits.target, dev=0.1, test=0.2, seed=0)
    nn.init.seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding="same"), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding="same"), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(2 * 2 * 16, 10))
    history = gg.fit(model, nn.cross_entropy, optim.Adam(model.parameters(), lr=1e-2),
                     (X_train, y_train), epochs=15, dev_data=(X_dev, y_dev), seed=0,
                     progress=False)
    _, test_accuracy = evaluate(model, nn.cross_entropy, X_test, y_test)
    assert test_accuracy >= 0.96
    assert history["cost"][-1] < 0.1 * history["cost"][0]
