"""Convolutions and pooling: the course's output-size formula and loops as references over
random shapes, the course's conv_backward, ties in max pooling, the layers, clear errors, and
a small convolutional network trained on scikit-learn's digits. Padded pooling: the course's
pool_forward over windows cut down to their real pixels, gradcheck and gradgradcheck, "same"
keeping the size, max pooling never choosing the padding, average pooling counting it or not.
(Every op is also a row of the op table: gradcheck, gradgradcheck, float32.) 1-D
convolutions are in test_conv1d."""
import re

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
    Z = gg.conv2d(A, W, b, stride=stride, padding=pad)
    n_h = (a_shape[1] + 2 * pad - w_shape[0]) // stride + 1
    n_w = (a_shape[2] + 2 * pad - w_shape[1]) // stride + 1
    assert Z.shape == (a_shape[0], n_h, n_w, w_shape[-1])
    np.testing.assert_allclose(Z.data, conv_reference(A, W, b, stride, pad), atol=1e-12)
    inputs = [_leaf(A, "A"), _leaf(W, "W"), _leaf(b, "b")]
    assert gg.gradcheck(lambda a, w, c: gg.conv2d(a, w, c, stride=stride, padding=pad), inputs)


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
    Z = gg.conv2d(A, W, b, stride=stride, padding=pad)
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


@pytest.mark.parametrize("layer, fan_in, fan_out", [
    (lambda: nn.Conv2d(16, 256, 3, init="glorot", rng=0), 3 * 3 * 16, 3 * 3 * 256),
    (lambda: nn.Conv2d(64, 64, 3, init="glorot", groups=4, rng=0), 3 * 3 * 16, 3 * 3 * 64),
    (lambda: nn.Conv1d(32, 64, 5, init="glorot", rng=0), 5 * 32, 5 * 64),
    (lambda: nn.ConvTranspose2d(64, 32, 3, init="glorot", rng=0), 3 * 3 * 32, 3 * 3 * 64),
])
def test_glorot_filters_count_every_position_of_the_window_on_both_sides(layer, fan_in, fan_out):
    """Keras's glorot and PyTorch's xavier: variance 2 / (fan_in + fan_out), each input
    reaching n_C filters at f * f positions (not n_C alone, which would be close to He)."""
    W = layer().W.data
    assert W.std() == pytest.approx(np.sqrt(2 / (fan_in + fan_out)), rel=0.03)


def test_a_conv2d_layer_is_gradient_checked_with_respect_to_its_input_and_parameters():
    layer = nn.Conv2d(2, 3, 3, stride=2, padding=1, rng=1)
    layer.b.data[:] = np.random.default_rng(4).standard_normal(3)
    A = _leaf(np.random.default_rng(5).standard_normal((2, 5, 5, 2)), "A")
    assert gg.gradcheck(lambda a, w, b: gg.conv2d(a, w, b, stride=2, padding=1),
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


GRAY = np.random.default_rng(4).standard_normal((5, 6, 6))  # 5 grayscale images, no channel axis


@pytest.mark.parametrize("call, tip", [
    (lambda: nn.Conv2d(1, 2, 3, rng=0)(GRAY),
     "(images of one channel? add the channel axis: A[..., None])"),
    (lambda: nn.ConvTranspose2d(1, 2, 3, rng=0)(GRAY),
     "(images of one channel? add the channel axis: A[..., None])"),
    (lambda: nn.MaxPool2d(2)(GRAY),  # no filters to tell which axis is missing: both tips
     "(one image? add the batch axis: A[None]; images of one channel? add the channel axis: "
     "A[..., None])"),
    (lambda: nn.Conv2d(1, 2, 3, rng=0)(GRAY[0]),
     "(one image of one channel? add both axes: A[None, :, :, None])"),
    (lambda: nn.Conv1d(1, 2, 3, rng=0)(GRAY[:, 0]),
     "(sequences of one channel? add the channel axis: A[..., None])"),
    (lambda: nn.Conv2d(3, 2, 3, rng=0)(GRAY[..., :3]), "(one image? add the batch axis: A[None])"),
])
def test_images_of_one_channel_without_its_axis_are_shown_how_to_add_it(call, tip):
    """A batch of grayscale images (m, n_H, n_W) was told to add the batch axis, A[None], which
    made a batch of one image of n_W channels and a second error."""
    with pytest.raises(gg.OpError, match=re.escape(tip) + "$"):
        call()


def test_grayscale_images_with_the_channel_axis_added_are_convolved_as_one_channel():
    layer = nn.Conv2d(1, 2, 3, rng=0)
    Z = layer(GRAY[..., None])
    np.testing.assert_allclose(Z.data, conv_reference(GRAY[..., None], layer.W.data,
                                                      layer.b.data, 1, 0))
    assert Z.shape == (5, 4, 4, 2)


@pytest.mark.parametrize("call, message", [
    (lambda: gg.conv2d(np.zeros((1, 4, 4, 1)), np.zeros((3, 3, 1, 2)), stride=0),
     "conv2d: the stride must be a whole number of at least 1, got 0"),
    (lambda: gg.max_pool2d(np.zeros((1, 4, 4, 1)), 1.5),
     "max_pool2d: the window size f must be a whole number of at least 1, got 1.5"),
    (lambda: nn.Conv2d(3, 4, 2, stride=2, padding="same"),
     "Conv2d: padding='same' needs stride 1 (as PyTorch's), got stride=2"),
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


# -- padded pooling ------------------------------------------------------------------------------
def padded_pool_reference(a, f, stride, pad, mode):
    """The course's pool_forward over a padded image, loop by loop, each window cut down to
    the real pixels it covers: "max" and "mean" reduce those (padding never wins, and does not
    count), "sum/f^2" divides their sum by f * f (padding counts as zeros)."""
    m, height, width, channels = a.shape
    n_H, n_W = (height + 2 * pad - f) // stride + 1, (width + 2 * pad - f) // stride + 1
    out = np.zeros((m, n_H, n_W, channels))
    for h in range(n_H):
        top = h * stride - pad
        rows = slice(max(top, 0), min(top + f, height))
        for w in range(n_W):
            left = w * stride - pad
            window = a[:, rows, max(left, 0):min(left + f, width), :]
            if mode == "max":
                out[:, h, w, :] = window.max(axis=(1, 2))
            elif mode == "mean":
                out[:, h, w, :] = window.mean(axis=(1, 2))
            else:
                out[:, h, w, :] = window.sum(axis=(1, 2)) / (f * f)
    return out


POOLS = {  # kind: (how to pool, the reference's mode)
    "max": (gg.max_pool2d, "max"),
    "avg": (gg.avg_pool2d, "sum/f^2"),
    "avg_real_pixels": (lambda a, f, **kw: gg.avg_pool2d(a, f, count_include_pad=False, **kw),
                        "mean"),
}


def _distinct_image(shape, seed):
    """Values 0.1 apart, all negative: no ties (max pooling is differentiable there), and a
    zero of padding would beat every one of them."""
    return -1.0 - np.random.default_rng(seed).permutation(np.prod(shape)).reshape(shape) * 0.1


@st.composite
def padded_pool_cases(draw):
    f, stride = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    pad = draw(st.integers(0, f // 2))
    shape = (draw(st.integers(1, 2)), draw(st.integers(max(1, f - 2 * pad), 6)),
             draw(st.integers(max(1, f - 2 * pad), 6)), draw(st.integers(1, 2)))
    return shape, f, stride, pad


@given(padded_pool_cases(), st.sampled_from(sorted(POOLS)), st.integers(0, 2**32 - 1))
def test_padded_pooling_over_random_shapes_follows_the_course_loops_and_finite_differences(
        case, kind, seed):
    shape, f, stride, pad = case
    pool, mode = POOLS[kind]
    A = _distinct_image(shape, seed)
    out = pool(A, f, stride=stride, padding=pad)
    assert out.shape == (shape[0], (shape[1] + 2 * pad - f) // stride + 1,
                         (shape[2] + 2 * pad - f) // stride + 1, shape[3])
    np.testing.assert_allclose(out.data, padded_pool_reference(A, f, stride, pad, mode),
                               atol=1e-12)
    assert gg.gradcheck(lambda a: pool(a, f, stride=stride, padding=pad), [_leaf(A, "A")])


@pytest.mark.parametrize("kind", sorted(POOLS))
@pytest.mark.parametrize("f, stride, pad", [(2, 2, 1), (3, 1, 1), (3, 2, 1), (4, 3, 2),
                                            (5, 2, 2)])
def test_padded_pooling_gradients_pass_gradcheck_and_gradgradcheck(kind, f, stride, pad):
    pool, mode = POOLS[kind]
    A = _distinct_image((2, 5, 6, 2), seed=f + stride + pad)
    np.testing.assert_allclose(pool(A, f, stride=stride, padding=pad).data,
                               padded_pool_reference(A, f, stride, pad, mode), atol=1e-12)

    def padded_pool(a):
        return pool(a, f, stride=stride, padding=pad)

    assert gg.gradcheck(padded_pool, [_leaf(A, "A")])
    assert gg.gradgradcheck(padded_pool, [_leaf(A, "A")])


@pytest.mark.parametrize("kind", sorted(POOLS))
@pytest.mark.parametrize("f", [1, 3, 5])
def test_same_padded_pooling_keeps_the_image_size(kind, f):
    pool, mode = POOLS[kind]
    A = _distinct_image((2, 7, 6, 3), seed=f)
    out = pool(A, f, stride=1, padding="same")
    assert out.shape == A.shape
    np.testing.assert_allclose(out.data, padded_pool_reference(A, f, 1, (f - 1) // 2, mode),
                               atol=1e-12)
    layer = (nn.MaxPool2d if kind == "max" else nn.AvgPool2d)(f, stride=1, padding="same")
    assert layer(A).shape == A.shape and layer.pad == (f - 1) // 2
    assert pool(A, f, stride=1, padding="valid").shape == (2, 8 - f, 7 - f, 3)


def test_max_pooling_never_chooses_the_padding_of_negative_images():
    A = _leaf(_distinct_image((1, 4, 4, 1), seed=0), "A")
    out = gg.max_pool2d(A, 3, stride=2, padding=1)  # four windows, each with a padded border
    assert (out.data <= -1.0).all()  # a zero of padding would have won everywhere
    np.testing.assert_array_equal(out.data, padded_pool_reference(A.data, 3, 2, 1, "max"))
    upstream = np.array([1.0, 2.0, 3.0, 4.0]).reshape(out.shape)
    out.backward(upstream)
    # Each window's gradient lands on its largest real pixel (the values are distinct).
    expected = np.zeros(A.shape)
    for value, g in zip(out.data.ravel(), upstream.ravel()):
        expected[A.data == value] += g
    np.testing.assert_array_equal(A.grad, expected)


def test_max_pooling_of_minus_infinity_gives_the_gradient_to_a_real_pixel_not_the_padding():
    A = np.full((1, 3, 3, 1), -np.inf)
    A[0, 2, 2, 0] = 1.0  # only the last window sees a finite value
    A = _leaf(A, "A")
    out = gg.max_pool2d(A, 2, stride=2, padding=1)  # windows start at rows and columns -1, 1
    np.testing.assert_array_equal(out.data[0, :, :, 0], [[-np.inf, -np.inf], [-np.inf, 1.0]])
    out.backward(np.array([1.0, 2.0, 3.0, 4.0]).reshape(out.shape))
    # The all -inf windows tie with their padding: each window's first real pixel gets it.
    expected = np.zeros((3, 3))
    expected[0, 0], expected[0, 1], expected[1, 0], expected[2, 2] = 1.0, 2.0, 3.0, 4.0
    np.testing.assert_array_equal(A.grad[0, :, :, 0], expected)


def test_average_pooling_counts_the_padding_or_not_as_the_formula_says():
    A = _leaf(np.ones((1, 3, 3, 1)), "A")
    counted = gg.avg_pool2d(A, 3, stride=1, padding=1)
    # Windows hold 4 (corner), 6 (edge) or 9 real pixels of 1, always divided by f * f = 9.
    np.testing.assert_allclose(counted.data[0, :, :, 0],
                               np.array([[4, 6, 4], [6, 9, 6], [4, 6, 4]]) / 9, atol=1e-15)
    real = gg.avg_pool2d(A, 3, stride=1, padding=1, count_include_pad=False)
    np.testing.assert_allclose(real.data, np.ones((1, 3, 3, 1)), atol=1e-15)
    # dA[pixel] = the sum, over the windows that hold it, of 1 / (what the window divides by).
    real.backward(np.ones(real.shape))
    share = 1 / np.array([[4, 6, 4], [6, 9, 6], [4, 6, 4]])
    expected = np.array([[share[:2, :2].sum(), share[:2].sum(), share[:2, 1:].sum()],
                         [share[:, :2].sum(), share.sum(), share[:, 1:].sum()],
                         [share[1:, :2].sum(), share[1:].sum(), share[1:, 1:].sum()]])
    np.testing.assert_allclose(A.grad[0, :, :, 0], expected, atol=1e-15)
    A.grad = None
    counted.backward(np.ones(counted.shape))
    np.testing.assert_allclose(A.grad[0, :, :, 0],
                               np.array([[4, 6, 4], [6, 9, 6], [4, 6, 4]]) / 9, atol=1e-15)


def test_padded_pooling_in_float32_stays_float32_forward_and_backward():
    A = _leaf(_distinct_image((2, 5, 5, 2), seed=3).astype(np.float32), "A")
    for pool in (lambda a: gg.max_pool2d(a, 3, stride=2, padding=1),
                 lambda a: gg.avg_pool2d(a, 3, stride=2, padding=1),
                 lambda a: gg.avg_pool2d(a, 3, stride=2, padding=1, count_include_pad=False)):
        A.grad = None
        out = pool(A)
        out.backward(np.ones(out.shape, dtype=np.float32))
        assert out.dtype == np.float32 and A.grad.dtype == np.float32
        np.testing.assert_allclose(out.data, pool(A.data.astype(np.float64)).data, rtol=1e-6)


def test_pooling_layers_show_their_padding_when_they_have_some():
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(f=2, stride=2)"
    assert repr(nn.MaxPool2d(3, stride=1, padding=1)) == "MaxPool2d(f=3, stride=1, pad=1)"
    assert repr(nn.AvgPool2d(3, 2, "valid")) == "AvgPool2d(f=3, stride=2)"
    assert (repr(nn.AvgPool2d(3, stride=1, padding="same", count_include_pad=False))
            == "AvgPool2d(f=3, stride=1, pad=1, count_include_pad=False)")
    assert repr(nn.AvgPool2d(4, padding=2)) == "AvgPool2d(f=4, stride=4, pad=2)"
    assert not list(nn.AvgPool2d(3, padding=1).parameters())
    # The node records the same settings: what a picture of the graph shows.
    A = np.zeros((1, 4, 4, 1))
    assert nn.MaxPool2d(2)(gg.Tensor(A, requires_grad=True)).creator.attrs == {
        "f": 2, "stride": 2}
    node = gg.avg_pool2d(gg.Tensor(A, requires_grad=True), 3, stride=1, padding=1,
                         count_include_pad=False).creator
    assert type(node).__name__ == "AvgPool2d"
    assert dict(node.attrs) == {"f": 3, "stride": 1, "pad": 1, "count_include_pad": False}


def test_a_padded_pooling_layer_computes_what_the_function_does():
    A = _distinct_image((2, 6, 5, 3), seed=4)
    for layer, function in [
            (nn.MaxPool2d(3, stride=2, padding=1), lambda a: gg.max_pool2d(a, 3, 2, 1)),
            (nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
             lambda a: gg.avg_pool2d(a, 3, 2, 1, count_include_pad=False))]:
        np.testing.assert_array_equal(layer(A).data, function(A).data)


@pytest.mark.parametrize("call, parts", [
    (lambda: gg.max_pool2d(np.zeros((1, 6, 6, 1)), 3, padding=2),
     ["max_pool2d: padding 2 is more than half the window size f=3; pooling pads at most "
      "f / 2, as in PyTorch", "use padding <= 1"]),
    (lambda: nn.AvgPool2d(2, padding=2),
     ["AvgPool2d: padding 2 is more than half the window size f=2", "use padding <= 1"]),
    (lambda: nn.MaxPool2d(3, padding="same"),
     ["MaxPool2d: padding='same' needs stride 1 and an odd window size, got f=3, stride=3; "
      "pass stride=1"]),
    (lambda: gg.avg_pool2d(np.zeros((1, 4, 4, 1)), 2, stride=1, padding="same"),
     ["avg_pool2d: padding='same' needs stride 1 and an odd window size, got f=2, stride=1"]),
    (lambda: gg.max_pool2d(np.zeros((1, 4, 4, 1)), 2, padding="full"),
     ["max_pool2d: padding must be a number, 'valid' or 'same', got 'full'"]),
    (lambda: nn.MaxPool2d(2, padding=-1),
     ["MaxPool2d: the padding must be a whole number of at least 0, got -1"]),
    (lambda: gg.avg_pool2d(np.zeros((1, 4, 4, 1)), 3, padding=1, count_include_pad="no"),
     ["avg_pool2d: count_include_pad must be True (divide by f * f) or False", "got 'no'"]),
])
def test_bad_pooling_padding_is_an_argument_error_that_says_what_to_do(call, parts):
    with pytest.raises(gg.ArgumentError, match=".*".join(re.escape(part) for part in parts)):
        call()


def test_a_padded_window_that_still_does_not_fit_names_the_padding():
    with pytest.raises(gg.OpError, match=r"MaxPool2d\(.*pad=1\) failed: a 5 x 5 window does "
                       r"not fit in 1 x 2 images with pad=1: n_H = floor\(\(n_H_prev \+ 2 pad "
                       r"- f\) / stride\) \+ 1 = 0 and n_W = 0; use a smaller window$"):
        gg.max_pool2d(np.zeros((1, 1, 2, 1)), 5, padding=1)
