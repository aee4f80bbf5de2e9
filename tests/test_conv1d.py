"""1-D convolutions over sequences (m, n_L, n_C), as Keras's Conv1D in course 5's trigger-word
model: the course's conv_forward and conv_backward loops brought down to one axis as
references over random shapes, gradcheck and gradgradcheck, the one node it makes, the
`nn.Conv1d` layer (shapes, "same" padding, initialisation, float32, repr) and clear errors."""
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import graphgrad as gg
from graphgrad import nn


def _leaf(array, name):
    return gg.Tensor(array, requires_grad=True, name=name)


def conv1d_reference(A_prev, W, b, stride, pad):
    """The course's conv_forward along one axis: zero_pad the time axis, then for every
    example, output step and filter, conv_single_step (window * W summed, plus b)."""
    A_pad = np.pad(A_prev, ((0, 0), (pad, pad), (0, 0)))
    f, _, n_C = W.shape
    m, n_L = A_prev.shape[0], (A_pad.shape[1] - f) // stride + 1
    Z = np.zeros((m, n_L, n_C))
    for i in range(m):
        for l in range(n_L):
            window = A_pad[i, l * stride:l * stride + f, :]
            for c in range(n_C):
                Z[i, l, c] = np.sum(window * W[:, :, c]) + (0.0 if b is None else b[c])
    return Z


def conv1d_backward_reference(dZ, A_prev, W, stride, pad):
    """The course's conv_backward along one axis: dA_prev, dW, db."""
    f = W.shape[0]
    A_pad = np.pad(A_prev, ((0, 0), (pad, pad), (0, 0)))
    dA_pad, dW, db = np.zeros_like(A_pad), np.zeros_like(W), np.zeros(W.shape[-1])
    m, n_L, n_C = dZ.shape
    for i in range(m):
        for l in range(n_L):
            steps = slice(l * stride, l * stride + f)
            for c in range(n_C):
                dA_pad[i, steps, :] += W[:, :, c] * dZ[i, l, c]
                dW[:, :, c] += A_pad[i, steps, :] * dZ[i, l, c]
                db[c] += dZ[i, l, c]
    return dA_pad[:, pad:A_pad.shape[1] - pad, :], dW, db


@st.composite
def conv1d_cases(draw):
    """Sequences, filters and settings whose window fits: (A shape, W shape, stride, pad)."""
    f, stride, pad = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(0, 2))
    n_L_prev = draw(st.integers(max(1, f - 2 * pad), 9))
    m, n_C_prev, n_C = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return (m, n_L_prev, n_C_prev), (f, n_C_prev, n_C), stride, pad


@given(conv1d_cases(), st.booleans(), st.integers(0, 2**32 - 1))
def test_conv1d_over_random_shapes_follows_the_course_loops_and_finite_differences(
        case, with_bias, seed):
    a_shape, w_shape, stride, pad = case
    rng = np.random.default_rng(seed)
    A, W = rng.standard_normal(a_shape), rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[-1]) if with_bias else None
    Z = gg.conv1d(A, W, b, stride=stride, padding=pad)
    n_L = (a_shape[1] + 2 * pad - w_shape[0]) // stride + 1
    assert Z.shape == (a_shape[0], n_L, w_shape[-1])
    np.testing.assert_allclose(Z.data, conv1d_reference(A, W, b, stride, pad), atol=1e-12)
    inputs = [_leaf(A, "A"), _leaf(W, "W")] + ([_leaf(b, "b")] if with_bias else [])
    assert gg.gradcheck(lambda *x: gg.conv1d(*x, stride=stride, padding=pad), inputs)


@pytest.mark.parametrize("stride, pad", [(1, 0), (1, 2), (2, 1), (3, 0), (4, 3)])
def test_conv1d_gradients_are_the_course_conv_backward_along_one_axis(stride, pad):
    rng = np.random.default_rng(stride * 10 + pad)
    A, W, b = (_leaf(rng.standard_normal((3, 11, 4)), "A_prev"),
               _leaf(rng.standard_normal((5, 4, 6)), "W"), _leaf(rng.standard_normal(6), "b"))
    Z = gg.conv1d(A, W, b, stride=stride, padding=pad)
    dZ = rng.standard_normal(Z.shape)
    Z.backward(dZ)
    dA_prev, dW, db = conv1d_backward_reference(dZ, A.data, W.data, stride, pad)
    np.testing.assert_allclose(A.grad, dA_prev, atol=1e-12)
    np.testing.assert_allclose(W.grad, dW, atol=1e-12)
    np.testing.assert_allclose(b.grad, db, atol=1e-12)


@pytest.mark.parametrize("stride, pad", [(1, 0), (1, 1), (2, 1), (3, 2)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_conv1d_passes_gradcheck_and_gradgradcheck(stride, pad, with_bias):
    rng = np.random.default_rng(stride + pad)
    inputs = [rng.standard_normal((2, 7, 3)), rng.standard_normal((3, 3, 2))]
    if with_bias:
        inputs.append(rng.standard_normal(2))

    def convolve(*x):
        return gg.conv1d(*x, stride=stride, padding=pad)

    names = ["A", "W", "b"]
    assert gg.gradcheck(convolve, [_leaf(a, n) for a, n in zip(inputs, names)])
    assert gg.gradgradcheck(convolve, [_leaf(a, n) for a, n in zip(inputs, names)])


def test_conv1d_is_one_node_named_conv1d_and_matches_conv2d_on_one_pixel_high_images():
    rng = np.random.default_rng(1)
    A, W, b = _leaf(rng.standard_normal((2, 9, 3)), "A"), _leaf(
        rng.standard_normal((4, 3, 5)), "W"), _leaf(rng.standard_normal(5), "b")
    Z = gg.conv1d(A, W, b, stride=2)
    assert Z.creator.name == "Conv1d"
    assert Z.creator.inputs == (A, W, b) and dict(Z.creator.attrs) == {"stride": 2, "pad": 0}
    # A sequence is an image one pixel high, a filter of length f a 1 x f filter.
    as_image = gg.conv2d(A.data[:, None], W.data[None], b.data, stride=2)
    np.testing.assert_allclose(Z.data, as_image.data[:, 0], atol=1e-12)


def test_conv1d_pads_along_the_sequence_only():
    A = np.arange(1.0, 6.0).reshape(1, 5, 1)  # 1, 2, 3, 4, 5
    W = np.ones((3, 1, 1))  # sums of three consecutive steps
    Z = gg.conv1d(A, W, padding=1)
    np.testing.assert_array_equal(Z.data[0, :, 0], [3.0, 6.0, 9.0, 12.0, 9.0])
    # Padded to 0 0 1 2 3 4 5 0 0, windows every 3 steps: 0+0+1, 2+3+4, 5+0+0.
    np.testing.assert_array_equal(gg.conv1d(A, W, padding=2, stride=3).data[0, :, 0],
                                  [1.0, 9.0, 5.0])


def test_conv1d_without_bias_gives_gradients_only_to_the_inputs_that_need_them():
    rng = np.random.default_rng(2)
    A = gg.Tensor(rng.standard_normal((2, 6, 2)), name="A")
    W = _leaf(rng.standard_normal((2, 2, 3)), "W")
    Z = gg.conv1d(A, W, stride=2, padding=1)
    dZ = rng.standard_normal(Z.shape)
    Z.backward(dZ)
    assert A.grad is None
    np.testing.assert_allclose(W.grad, conv1d_backward_reference(dZ, A.data, W.data, 2, 1)[1],
                               atol=1e-12)


def test_a_conv1d_layer_has_the_course_shapes_and_same_padding_keeps_the_length():
    layer = nn.Conv1d(4, 8, 5, padding="same", rng=0)
    assert layer.W.shape == (5, 4, 8) and layer.b.shape == (8,)
    assert sum(p.data.size for p in layer.parameters()) == 5 * 4 * 8 + 8
    assert layer.pad == 2 and layer(np.zeros((3, 11, 4))).shape == (3, 11, 8)
    assert nn.Conv1d(4, 8, 5, stride=2, padding="valid")(np.zeros((3, 11, 4))).shape == (
        3, 4, 8)
    assert nn.Conv1d(4, 8, 3, padding=3, bias=False).b is None


def test_the_trigger_word_models_conv1d_turns_5511_spectrogram_steps_into_1375():
    """Course 5's trigger-word model: Conv1D(196, kernel_size=15, strides=4) on a spectrogram
    of 5511 time steps and 101 frequencies."""
    layer = nn.Conv1d(101, 196, 15, stride=4, rng=0)
    X = np.random.default_rng(3).standard_normal((1, 5511, 101))
    Z = layer(X)
    assert Z.shape == (1, 1375, 196)
    # Step 1000 of the output sees steps 4000 to 4014 of the input.
    expected = np.tensordot(X[0, 4000:4015], layer.W.data, axes=2) + layer.b.data
    np.testing.assert_allclose(Z.data[0, 1000], expected, atol=1e-10)


def test_conv1d_filters_start_with_he_variance_over_their_window():
    layer = nn.Conv1d(48, 256, 3, rng=0)
    # Each filter sees f * n_C_prev = 144 inputs: std sqrt(2 / 144).
    assert layer.W.data.std() == pytest.approx(np.sqrt(2 / 144), rel=0.03)
    assert abs(layer.W.data.mean()) < 0.01
    assert np.all(layer.b.data == 0.0)


def test_a_conv1d_layer_is_gradient_checked_with_respect_to_its_input_and_parameters():
    layer = nn.Conv1d(2, 3, 3, stride=2, padding=1, rng=1)
    layer.b.data[:] = np.random.default_rng(4).standard_normal(3)
    A = _leaf(np.random.default_rng(5).standard_normal((2, 7, 2)), "A")
    assert gg.gradcheck(lambda a, w, b: gg.conv1d(a, w, b, stride=2, padding=1),
                        [A, layer.W, layer.b])
    Z = layer(A)
    np.testing.assert_allclose(Z.data, conv1d_reference(A.data, layer.W.data, layer.b.data,
                                                        2, 1), atol=1e-12)
    Z.backward(np.ones(Z.shape))
    assert layer.W.grad.shape == layer.W.shape and layer.b.grad.tolist() == [4.0 * 2] * 3


def test_conv1d_layer_repr_and_its_name_in_a_sequential():
    assert repr(nn.Conv1d(101, 196, 15, stride=4, rng=0)) == (
        "Conv1d(101 -> 196, f=15, stride=4, pad=0, init='he')  # 297,136 parameters")
    assert repr(nn.Conv1d(2, 3, 3, padding="same", bias=False, init="xavier", rng=0)) == (
        "Conv1d(2 -> 3, f=3, stride=1, pad=1, init='xavier', bias=False)  # 18 parameters")
    model = nn.Sequential(nn.Conv1d(2, 3, 3, rng=0), nn.ReLU())
    assert [name for name, _ in model.named_children()] == ["conv1d1", "relu1"]


def test_a_float32_conv1d_layer_stays_float32_forward_and_backward():
    layer = nn.Conv1d(3, 4, 3, stride=2, padding=1, dtype=np.float32, rng=0)
    X = np.random.default_rng(6).standard_normal((2, 9, 3))  # float64 data is converted
    Z = layer(X)
    (Z * Z).sum().backward()
    assert Z.dtype == np.float32
    assert layer.W.grad.dtype == np.float32 and layer.b.grad.dtype == np.float32
    expected = conv1d_reference(X.astype(np.float32), layer.W.data, layer.b.data, 2, 1)
    np.testing.assert_allclose(Z.data, expected, rtol=1e-5, atol=1e-5)


def test_conv1d_state_dict_round_trip_gives_the_same_output():
    A = np.random.default_rng(7).standard_normal((2, 8, 3))
    first, second = nn.Conv1d(3, 4, 3, rng=1), nn.Conv1d(3, 4, 3, rng=2)
    second.load_state_dict(first.state_dict())
    np.testing.assert_array_equal(first(A).data, second(A).data)


@pytest.mark.parametrize("call, parts", [
    (lambda: gg.conv1d(gg.Tensor(np.zeros((2, 8, 8, 3)), name="A"), np.zeros((3, 3, 4))),
     ["Conv1d('A' (2, 8, 8, 3) float64", "takes sequences A of shape (m, n_L, n_C), channels "
      "last; got shape (2, 8, 8, 3) (images? use conv2d)"]),
    (lambda: gg.conv1d(np.zeros((8, 3)), np.zeros((3, 3, 4))),
     ["Conv1d(", "(m, n_L, n_C)", "got shape (8, 3) (one sequence? add the batch axis: A[None])"]),
    (lambda: gg.conv1d(np.zeros((2, 8, 3)), gg.Tensor(np.zeros((3, 3, 3, 4)), name="W")),
     ["'W' (3, 3, 3, 4)", "the filters W must have shape (f, n_C_prev, n_C), got (3, 3, 3, 4)",
      "conv2d"]),
    (lambda: gg.conv1d(np.zeros((2, 3, 8)), np.zeros((3, 3, 4))),
     ["A has 8 channels, but the filters W of shape (3, 3, 4) take n_C_prev = 3",
      "channels last", "A.transpose(0, 2, 1)"]),
    (lambda: gg.conv1d(np.zeros((2, 8, 3)), np.zeros((3, 3, 4)), np.zeros(3)),
     ["the bias must have shape (4,), got (3,)"]),
    (lambda: gg.conv1d(np.zeros((1, 4, 1)), np.zeros((7, 1, 2)), padding=1),
     ["a window of f=7 does not fit in sequences of n_L_prev = 4 steps with pad=1: "
      "n_L = floor((n_L_prev + 2 pad - f) / stride) + 1 = 0; pad more or use a smaller "
      "window"]),
])
def test_bad_conv1d_inputs_get_errors_that_name_the_op_and_say_what_to_do(call, parts):
    with pytest.raises(gg.OpError, match=".*".join(re.escape(part) for part in parts)):
        call()


@pytest.mark.parametrize("call, message", [
    (lambda: gg.conv1d(np.zeros((1, 4, 1)), np.zeros((3, 1, 2)), stride=0),
     "conv1d: the stride must be a whole number of at least 1, got 0"),
    (lambda: gg.conv1d(np.zeros((1, 4, 1)), np.zeros((3, 1, 2)), padding=1.5),
     "conv1d: the padding must be a whole number of at least 0, got 1.5"),
    (lambda: nn.Conv1d(3, 4, 2, stride=2, padding="same"),
     "Conv1d: padding='same' needs stride 1 (as PyTorch's), got stride=2"),
    (lambda: nn.Conv1d(3, 4, 2, padding=(0, 1)),
     "Conv1d: padding must be a number, 'valid' or 'same', got (0, 1)"),
    (lambda: nn.Conv1d(3, 4, 3, padding="causal"),
     "Conv1d: padding must be a number, 'valid' or 'same', got 'causal'"),
    (lambda: nn.Conv1d(3, 0, 3), "Conv1d: n_C must be a whole number of at least 1, got 0"),
])
def test_bad_conv1d_settings_are_argument_errors(call, message):
    with pytest.raises(gg.ArgumentError, match=re.escape(message)):
        call()
