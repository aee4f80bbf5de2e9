"""unfold and fold (im2col and col2im) and pixel_shuffle and pixel_unshuffle, channels last:
values from numpy loops over random settings (hypothesis), fold(unfold(A)) as A times the
windows covering each pixel, the two as each other's adjoint, a convolution as unfold and one
product, the layers against the functions, and the errors. The op table gradchecks each."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import graphgrad as gg
from graphgrad import nn
from tests.op_table import (
    fold_reference,
    pixel_shuffle_reference,
    pixel_unshuffle_reference,
    unfold_reference,
)


@st.composite
def window_cases(draw):
    """Images and window settings (pairs) for which a window fits."""
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    pad = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    span = [d * (f - 1) + 1 for f, d in zip(kernel, dilation)]
    shape = (draw(st.integers(1, 2)), draw(st.integers(max(1, span[0] - 2 * pad[0]), 6)),
             draw(st.integers(max(1, span[1] - 2 * pad[1]), 6)), draw(st.integers(1, 3)))
    return shape, kernel, stride, pad, dilation


def _coverage(shape, kernel, stride, pad, dilation):
    """How many windows cover each pixel, counted window by window."""
    count = np.zeros(shape[1:3])
    padded = (shape[1] + 2 * pad[0], shape[2] + 2 * pad[1])
    n_h = (padded[0] - dilation[0] * (kernel[0] - 1) - 1) // stride[0] + 1
    n_w = (padded[1] - dilation[1] * (kernel[1] - 1) - 1) // stride[1] + 1
    for h in range(n_h):
        for w in range(n_w):
            for i in range(kernel[0]):
                for j in range(kernel[1]):
                    row = h * stride[0] + i * dilation[0] - pad[0]
                    col = w * stride[1] + j * dilation[1] - pad[1]
                    if 0 <= row < shape[1] and 0 <= col < shape[2]:
                        count[row, col] += 1
    return count[None, :, :, None]


@given(window_cases(), st.integers(0, 2**32 - 1))
def test_unfold_and_fold_over_random_settings_follow_numpy_loops_and_finite_differences(
        case, seed):
    shape, kernel, stride, pad, dilation = case
    rng = np.random.default_rng(seed)
    A = rng.standard_normal(shape)
    settings = {"stride": stride, "padding": pad, "dilation": dilation}
    Y = gg.unfold(A, kernel, **settings)
    np.testing.assert_array_equal(Y.data, unfold_reference(A, kernel, stride, pad, dilation))
    G = rng.standard_normal(Y.shape)
    folded = gg.fold(G, shape[1:3], kernel, **settings)
    np.testing.assert_allclose(folded.data,
                               fold_reference(G, shape[1:3], kernel, stride, pad, dilation),
                               atol=1e-12)
    # each the other's adjoint: <unfold(A), G> = <A, fold(G)>
    np.testing.assert_allclose(np.vdot(Y.data, G), np.vdot(A, folded.data), rtol=1e-12)
    assert gg.gradcheck(lambda a: gg.unfold(a, kernel, **settings),
                        [gg.Tensor(A, requires_grad=True, name="A")])
    assert gg.gradcheck(lambda g: gg.fold(g, shape[1:3], kernel, **settings),
                        [gg.Tensor(G, requires_grad=True, name="Y")])


@given(window_cases(), st.integers(0, 2**32 - 1))
def test_fold_of_unfold_is_the_image_times_the_windows_covering_each_pixel(case, seed):
    shape, kernel, stride, pad, dilation = case
    A = np.random.default_rng(seed).standard_normal(shape)
    settings = {"stride": stride, "padding": pad, "dilation": dilation}
    back = gg.fold(gg.unfold(A, kernel, **settings), shape[1:3], kernel, **settings)
    np.testing.assert_allclose(back.data, A * _coverage(shape, kernel, stride, pad, dilation),
                               atol=1e-12)


def test_windows_side_by_side_fold_back_to_the_image_itself():
    A = np.random.default_rng(0).standard_normal((2, 6, 4, 3))
    np.testing.assert_array_equal(gg.fold(gg.unfold(A, 2, stride=2), (6, 4), 2, stride=2).data, A)


def test_second_derivatives_pass_gradgradcheck():
    A = gg.Tensor(np.random.default_rng(1).standard_normal((1, 4, 4, 2)), requires_grad=True)
    settings = {"stride": 1, "padding": 1, "dilation": 2}
    assert gg.gradgradcheck(lambda a: gg.fold(gg.tanh(gg.unfold(a, 2, **settings)), (4, 4), 2,
                                              **settings), [A])


def test_a_convolution_is_unfold_and_one_product_with_the_course_filters():
    rng = np.random.default_rng(2)
    A, W = rng.standard_normal((2, 6, 5, 3)), rng.standard_normal((3, 3, 3, 4))
    Y = gg.unfold(A, 3, stride=2, padding=1)
    Z = (Y @ W.reshape(-1, 4)).reshape((2, 3, 3, 4))
    np.testing.assert_allclose(Z.data, gg.conv2d(A, W, stride=2, padding=1).data, atol=1e-12)


def test_unfold_of_a_small_image_by_hand():
    """A 3 x 3 image of one channel, 2 x 2 windows: four rows, each window row by row."""
    A = np.arange(1.0, 10.0).reshape(1, 3, 3, 1)
    np.testing.assert_array_equal(gg.unfold(A, 2).data[0], [[1, 2, 4, 5], [2, 3, 5, 6],
                                                            [4, 5, 7, 8], [5, 6, 8, 9]])
    # two channels: each pixel's channels side by side
    B = np.stack([A[..., 0], -A[..., 0]], axis=-1)
    np.testing.assert_array_equal(gg.unfold(B, 2, stride=2).data[0], [[1, -1, 2, -2, 4, -4,
                                                                        5, -5]])


@pytest.mark.parametrize("r", [1, 2, 3])
def test_pixel_shuffle_and_unshuffle_follow_the_loops_and_undo_each_other(r):
    rng = np.random.default_rng(r)
    A = rng.standard_normal((2, 3, 2, 2 * r * r))
    out = gg.pixel_shuffle(A, r)
    np.testing.assert_array_equal(out.data, pixel_shuffle_reference(A, r))
    np.testing.assert_array_equal(gg.pixel_unshuffle(out, r).data, A)
    B = rng.standard_normal((1, 2 * r, 3 * r, 3))
    np.testing.assert_array_equal(gg.pixel_unshuffle(B, r).data, pixel_unshuffle_reference(B, r))


def test_pixel_shuffle_of_one_pixel_by_hand():
    """Four channels c r^2 + a r + b of one pixel become its 2 x 2 block, row by row."""
    out = gg.pixel_shuffle(np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 1, 1, 4), 2)
    np.testing.assert_array_equal(out.data[0, :, :, 0], [[1, 2], [3, 4]])


@pytest.mark.parametrize("layer, fn, shape", [
    (nn.Unfold(3, stride=2, padding=1, dilation=1),
     lambda a: gg.unfold(a, 3, stride=2, padding=1), (2, 5, 6, 2)),
    (nn.Unfold((2, 1), dilation=(2, 1)), lambda a: gg.unfold(a, (2, 1), dilation=(2, 1)),
     (1, 4, 3, 2)),
    (nn.Fold((4, 5), 2), lambda y: gg.fold(y, (4, 5), 2), (2, 12, 8)),
    (nn.PixelShuffle(2), lambda a: gg.pixel_shuffle(a, 2), (2, 2, 3, 8)),
    (nn.PixelUnshuffle(2), lambda a: gg.pixel_unshuffle(a, 2), (2, 4, 2, 3)),
], ids=["Unfold", "Unfold dilated", "Fold", "PixelShuffle", "PixelUnshuffle"])
def test_the_layers_are_the_functions(layer, fn, shape):
    data = np.random.default_rng(3).standard_normal(shape)
    x1, x2 = gg.Tensor(data, requires_grad=True), gg.Tensor(data, requires_grad=True)
    out1, out2 = layer(x1), fn(x2)
    np.testing.assert_array_equal(out1.data, out2.data)
    g = np.random.default_rng(4).standard_normal(out1.shape)
    out1.backward(g)
    out2.backward(g)
    np.testing.assert_array_equal(x1.grad, x2.grad)
    assert list(layer.parameters()) == []


def test_the_layers_show_their_settings():
    assert repr(nn.Unfold(3, padding=1)) == "Unfold(kernel_size=3, stride=1, padding=1, dilation=1)"
    assert repr(nn.Fold((4, 5), (2, 3), stride=2)) == (
        "Fold(output_size=(4, 5), kernel_size=(2, 3), stride=2, padding=0, dilation=1)")
    assert repr(nn.PixelShuffle(2)) == "PixelShuffle(upscale_factor=2)"
    assert repr(nn.PixelUnshuffle(3)) == "PixelUnshuffle(downscale_factor=3)"


# -- errors ---------------------------------------------------------------------------------------
def test_a_window_that_does_not_fit_is_refused_with_the_formula():
    with pytest.raises(gg.OpError, match=r"Unfold.*a 3 x 3 window \(dilation \(2, 2\): it spans "
                                         r"5 x 5 pixels\) does not fit in images of 4 x 6"):
        gg.unfold(np.zeros((1, 4, 6, 1)), 3, dilation=2)


def test_fold_refuses_columns_of_other_settings_with_the_shape_it_takes():
    with pytest.raises(gg.OpError, match=r"takes Y of shape \(m, L = 3 \* 4 = 12, f_h f_w n_C = "
                                         r"4 n_C\); got \(2, 5, 12\): give the settings unfold"):
        gg.fold(np.zeros((2, 5, 12)), (4, 5), 2)
    with pytest.raises(gg.OpError, match=r"got \(2, 12, 6\)"):
        nn.Fold((4, 5), 2)(np.zeros((2, 12, 6)))  # 6 is no multiple of 4


def test_unfold_refuses_one_image_with_the_axis_it_lacks():
    with pytest.raises(gg.OpError, match=r"one image\? add the batch axis: A\[None\]"):
        nn.Unfold(2)(np.zeros((4, 4, 3)))


@pytest.mark.parametrize("make, message", [
    (lambda: nn.Unfold(0), r"Unfold: kernel_size must be a whole number >= 1 or a pair"),
    (lambda: nn.Unfold(2, stride=(1, 2, 3)), r"Unfold: stride must be"),
    (lambda: nn.Fold((4, 5), 2, padding=-1), r"Fold: padding must be a whole number >= 0"),
    (lambda: nn.Fold(0, 2), r"Fold: output_size must be"),
    (lambda: gg.unfold(np.zeros((1, 3, 3, 1)), 2, dilation=1.5), r"unfold: dilation must be"),
    (lambda: nn.PixelShuffle(0), r"PixelShuffle: upscale_factor"),
    (lambda: gg.pixel_unshuffle(np.zeros((1, 2, 2, 1)), 2.0), r"pixel_unshuffle: "
                                                              r"downscale_factor"),
])
def test_bad_settings_are_refused_by_name(make, message):
    with pytest.raises(gg.ArgumentError, match=message):
        make()


def test_pixel_shuffle_refuses_channels_that_r_squared_does_not_divide():
    with pytest.raises(gg.ShapeError, match=r"pixel_shuffle by 2 takes n_C r\^2 channels, a "
                                            r"multiple of 4; A has 6: the convolution before it "
                                            r"needs n_C \* 4 filters"):
        nn.PixelShuffle(2)(np.zeros((1, 2, 2, 6)))


def test_pixel_unshuffle_refuses_sides_that_r_does_not_divide():
    with pytest.raises(gg.ShapeError, match=r"multiples of 2; A's are 3 x 4"):
        gg.pixel_unshuffle(np.zeros((1, 3, 4, 1)), 2)
    with pytest.raises(gg.ShapeError, match=r"one image\? add the batch axis"):
        gg.pixel_unshuffle(np.zeros((4, 4, 1)), 2)


@pytest.mark.parametrize("call", [
    lambda: gg.unfold(np.zeros((1, 5, 5, 1)), 2, 2),
    lambda: gg.fold(np.zeros((1, 16, 4)), (5, 5), 2, 1),
    lambda: nn.functional.unfold(np.zeros((1, 5, 5, 1)), 3, 1, 1),
    lambda: nn.Unfold(2, 2),
    lambda: nn.Fold((5, 5), 2, 1),
], ids=["unfold", "fold", "F.unfold", "Unfold", "Fold"])
def test_the_window_settings_are_keywords_as_pytorch_orders_them_otherwise(call):
    """PyTorch's F.unfold(input, kernel_size, dilation, padding, stride) and F.fold, nn.Unfold
    and nn.Fold take dilation first where graphgrad's pooling and convolutions take the stride:
    ``unfold(A, 2, 2)`` was a stride where PyTorch's is a dilation. Neither order is guessed."""
    with pytest.raises(TypeError, match="positional argument"):
        call()
