"""The convolutions take their padding as ``padding=``, as pooling and the layers do."""
import numpy as np
import pytest

import graphgrad as gg
from graphgrad import nn


def test_conv2d_padding_adds_zeros_around_each_image():
    A = np.ones((1, 3, 3, 1))
    W = np.ones((3, 3, 1, 1))
    Z = gg.conv2d(A, W, padding=1)  # each output counts the image's pixels in its window
    np.testing.assert_array_equal(Z.data[0, :, :, 0], [[4, 6, 4], [6, 9, 6], [4, 6, 4]])
    np.testing.assert_array_equal(gg.conv2d(A, W, None, 1, 1).data, Z.data)


def test_conv1d_padding_adds_zeros_at_both_ends():
    Z = gg.conv1d(np.ones((1, 3, 1)), np.ones((3, 1, 1)), padding=1)
    np.testing.assert_array_equal(Z.data[0, :, 0], [2, 3, 2])


def test_conv_transpose2d_padding_crops_the_output():
    # Each input pixel adds a 3 x 3 block of ones into the 4 x 4 output; padding=1 keeps the
    # middle 2 x 2, which all four blocks cover.
    Z = gg.conv_transpose2d(np.ones((1, 2, 2, 1)), np.ones((3, 3, 1, 1)), padding=1)
    np.testing.assert_array_equal(Z.data[0, :, :, 0], [[4, 4], [4, 4]])


@pytest.mark.parametrize("conv, A, W", [
    (gg.conv2d, np.ones((1, 3, 3, 1)), np.ones((3, 3, 1, 1))),
    (gg.conv1d, np.ones((1, 3, 1)), np.ones((3, 1, 1))),
    (gg.conv_transpose2d, np.ones((1, 2, 2, 1)), np.ones((3, 3, 1, 1))),
])
def test_the_former_spelling_pad_is_refused_naming_padding(conv, A, W):
    with pytest.raises(gg.GraphgradTypeError, match=rf"{conv.__name__}: .*padding=1") as info:
        conv(A, W, pad=1)
    assert isinstance(info.value, TypeError)


def test_same_padding_keeps_the_size_and_is_the_numeric_padding():
    rng = np.random.default_rng(0)
    A, W = rng.standard_normal((2, 5, 6, 3)), rng.standard_normal((3, 3, 3, 4))
    Z = gg.conv2d(A, W, padding="same")
    assert Z.shape == (2, 5, 6, 4)
    np.testing.assert_array_equal(Z.data, gg.conv2d(A, W, padding=1).data)
    np.testing.assert_array_equal(gg.conv2d(A, W, padding="valid").data, gg.conv2d(A, W).data)
    S, V = rng.standard_normal((2, 7, 3)), rng.standard_normal((5, 3, 2))
    Z1 = gg.conv1d(S, V, padding="same")
    assert Z1.shape == (2, 7, 2)
    np.testing.assert_array_equal(Z1.data, gg.conv1d(S, V, padding=2).data)


@pytest.mark.parametrize("f, stride, pad, extra", [(3, 2, 1, 1), (4, 2, 1, 0), (3, 1, 1, 0),
                                                   (5, 3, 1, 0), (6, 3, 2, 1)])
def test_same_padding_of_a_transposed_convolution_multiplies_the_size_by_the_stride(
        f, stride, pad, extra):
    rng = np.random.default_rng(1)
    A, W = rng.standard_normal((2, 4, 3, 3)), rng.standard_normal((f, f, 2, 3))
    Z = gg.conv_transpose2d(A, W, stride=stride, padding="same")
    assert Z.shape == (2, 4 * stride, 3 * stride, 2)
    np.testing.assert_array_equal(Z.data, gg.conv_transpose2d(
        A, W, stride=stride, padding=pad, output_padding=extra).data)
    layer = gg.nn.ConvTranspose2d(3, 2, f, stride=stride, padding="same", bias=False)
    assert (layer.pad, layer.output_padding) == (pad, extra)


@pytest.mark.parametrize("call, words", [
    (lambda: gg.conv2d(np.ones((1, 5, 5, 1)), np.ones((3, 2, 1)), padding="same"),
     r"conv2d: padding='same' needs filters of 4 axes .* got W of shape \(3, 2, 1\)"),
    (lambda: gg.conv2d(np.ones((1, 5, 5, 1)), np.ones((3, 3, 1, 1)), stride=2, padding="same"),
     r"conv2d: padding='same' needs stride 1 \(as PyTorch's\), got stride=2"),
    (lambda: gg.conv2d(np.ones((1, 5, 5, 1)), np.ones((2, 2, 1, 1)), stride=(1, 2),
                       padding="same"),
     r"conv2d: padding='same' needs stride 1 \(as PyTorch's\), got stride=\(1, 2\)"),
    (lambda: gg.conv1d(np.ones((1, 5, 1)), np.ones((2, 1, 1)), stride=3, padding="same"),
     r"conv1d: padding='same' needs stride 1 \(as PyTorch's\), got stride=3"),
    (lambda: gg.conv_transpose2d(np.ones((1, 2, 2, 1)), np.ones((3, 3, 1, 1)), stride=2,
                                 padding="same", output_padding=0 + 2),
     r"conv_transpose2d: padding='same' sets output_padding itself \(to 1 .*got output_padding=2"),
    (lambda: gg.nn.ConvTranspose2d(1, 1, 3, stride=2, padding="same", output_padding=2),
     r"ConvTranspose2d: padding='same' sets output_padding itself \(to 1"),
    (lambda: gg.conv_transpose2d(np.ones((1, 2, 2, 1)), np.ones((1, 1, 1, 1)), stride=2,
                                 padding="same"),
     r"conv_transpose2d: padding='same' .* needs f >= stride, got f=1, stride=2"),
    (lambda: gg.conv2d(np.ones((1, 5, 5, 1)), np.ones((3, 3, 1, 1)), padding="full"),
     r"conv2d: padding must be a number, 'valid' or 'same', got 'full'"),
])
def test_padding_words_that_do_not_fit_are_refused_saying_why(call, words):
    with pytest.raises(gg.ArgumentError, match=words):
        call()


# -- the layers' padding_mode, PyTorch's ---------------------------------------------------------
def test_conv1d_padding_modes_fill_the_border_as_pytorchs():
    """A filter (1, 0, 0) reads each step's left neighbour, so the output shows the border:
    1 2 3 padded by 1 is 0 1 2 3 0 (zeros), 2 1 2 3 2 (reflect), 1 1 2 3 3 (replicate),
    3 1 2 3 1 (circular)."""

    A = np.array([1.0, 2.0, 3.0]).reshape(1, 3, 1)
    lefts = {"zeros": [0, 1, 2], "reflect": [2, 1, 2], "replicate": [1, 1, 2],
             "circular": [3, 1, 2]}
    for mode, expected in lefts.items():
        layer = nn.Conv1d(1, 1, 3, padding=1, bias=False, padding_mode=mode)
        layer.W.data = np.array([1.0, 0.0, 0.0]).reshape(3, 1, 1)
        np.testing.assert_array_equal(layer(A).data[0, :, 0], expected)
        assert layer.padding_mode == mode


MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("settings", [{"padding": 1}, {"padding": (2, 1)},
                                      {"padding": "same", "f": 4},
                                      {"padding": 1, "stride": 2, "dilation": 2},
                                      {"padding": 1, "groups": 2}], ids=str)
def test_conv2d_padding_mode_is_numpys_pad_then_no_padding(mode, settings):

    settings = dict(settings)
    f = settings.pop("f", 3)
    rng = np.random.default_rng(1)
    layer = nn.Conv2d(2, 4, f, padding_mode=mode, rng=0, **settings)
    layer.b.data = rng.standard_normal(4)
    A = rng.standard_normal((2, 5, 6, 2))
    padding = layer.pad if isinstance(layer.pad, tuple) else (layer.pad, layer.pad)
    widths = [p if isinstance(p, tuple) else (p, p) for p in padding]
    padded = np.pad(A, [(0, 0), *widths, (0, 0)], mode=MODES[mode])
    expected = gg.conv2d(padded, layer.W.data, layer.b.data, stride=layer.stride,
                         groups=layer.groups, dilation=layer.dilation)
    out = layer(A)
    np.testing.assert_allclose(out.data, expected.data, rtol=1e-12, atol=1e-12)
    if settings["padding"] == "same":
        assert out.shape == (2, 5, 6, 4)
    assert not layer.single_node and f"padding_mode={mode!r}" in repr(layer)
    assert {k: v.shape for k, v in layer.state_dict().items()} == {"W": layer.W.shape,
                                                                   "b": (4,)}

    def fn(A, W, b):
        layer.W, layer.b = W, b
        return layer(A)

    assert gg.gradcheck(fn, [A[:1, :4, :5], layer.W.data.copy(), layer.b.data.copy()],
                        fast=True)


@pytest.mark.parametrize("mode", MODES)
def test_conv1d_padding_mode_gradients_and_an_uneven_same(mode):

    rng = np.random.default_rng(2)
    layer = nn.Conv1d(3, 2, 4, padding="same", padding_mode=mode, rng=0)
    A = rng.standard_normal((2, 7, 3))
    padded = np.pad(A, [(0, 0), (1, 2), (0, 0)], mode=MODES[mode])  # PyTorch's: odd cell after
    expected = gg.conv1d(padded, layer.W.data, layer.b.data)
    np.testing.assert_allclose(layer(A).data, expected.data, rtol=1e-12, atol=1e-12)

    def fn(A, W):
        layer.W = W
        return layer(A)

    assert gg.gradcheck(fn, [A, layer.W.data.copy()])


def test_a_padding_mode_without_padding_is_the_one_convolution():

    layer = nn.Conv2d(1, 1, 3, padding_mode="reflect")
    out = layer(gg.Tensor(np.ones((1, 4, 4, 1)), requires_grad=True))
    assert layer.single_node and out.creator.inputs[0].creator is None


@pytest.mark.parametrize("call, message", [
    (lambda nn: nn.Conv2d(1, 2, 3, padding_mode="reflection"),
     r"^Conv2d: padding_mode must be one of 'zeros', 'reflect', 'replicate', 'circular', got "
     r"'reflection' \(PyTorch's names"),
    (lambda nn: nn.Conv1d(1, 2, 3, padding_mode=None),
     r"^Conv1d: padding_mode must be one of .* got None"),
    (lambda nn: nn.ConvTranspose2d(1, 2, 3, padding_mode="reflect"),
     r"^ConvTranspose2d: padding_mode must be one of 'zeros', got 'reflect' \(ConvTranspose2d "
     r"pads with zeros only"),
], ids=["unknown", "None", "transposed"])
def test_a_padding_mode_the_layer_lacks_is_refused_naming_them(call, message):

    with pytest.raises(gg.ArgumentError, match=message):
        call(nn)


def test_a_padding_mode_layer_names_itself_for_an_input_of_another_rank():

    with pytest.raises(gg.ShapeError, match=r"^Conv2d.* takes A of shape \(m, n_H_prev, "
                                            r"n_W_prev, n_C_prev\), channels last, got shape "
                                            r"\(5, 5, 1\)"):
        nn.Conv2d(1, 2, 3, padding=1, padding_mode="circular")(np.ones((5, 5, 1)))


@pytest.mark.parametrize("call, message", [
    (lambda nn: nn.Conv2d(4, 8, 3, 1, 1, 2),
     r"^Conv2d: init must be an initialiser, got 2: PyTorch's order is Conv2d\(in_channels, "
     r"out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode\), "
     r"the course's Conv2d\(n_C_prev, n_C, f, stride, padding, init, bias, rng, dtype\); "
     r"give PyTorch's options by name: Conv2d\(4, 8, 3, 1, 1, dilation=2\)"),
    (lambda nn: nn.Conv1d(4, 8, 3, 1, 1, 1, 2, False, "reflect"),
     r"^Conv1d: init must be an initialiser, got 1: .* Conv1d\(4, 8, 3, 1, 1, dilation=1, "
     r"groups=2, bias=False, padding_mode='reflect'\)"),
    (lambda nn: nn.ConvTranspose2d(4, 8, 3, 2, 1, 1, 2),
     r"^ConvTranspose2d: init must be an initialiser, got 2: PyTorch's order is "
     r"ConvTranspose2d\(in_channels, out_channels, kernel_size, stride, padding, "
     r"output_padding, groups, bias, dilation, padding_mode\).*ConvTranspose2d\(4, 8, 3, 2, 1, "
     r"1, groups=2\)"),
], ids=["dilation", "all four", "transposed"])
def test_a_convolution_in_pytorchs_positional_order_is_refused_saying_what_to_write(call,
                                                                                    message):
    """PyTorch's dilation (groups, for a transposed convolution) given by position lands in
    the course's init, its groups in bias, its bias in rng, its padding_mode in dtype."""
    with pytest.raises(gg.ArgumentError, match=message):
        call(nn)
