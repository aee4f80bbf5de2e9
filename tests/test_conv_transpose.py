"""Transposed convolutions (U-Net's up-convolution, Keras's Conv2DTranspose), channels last:
`gg.conv_transpose2d` against a loop that scatters each input pixel through the filters, the
adjoint of `gg.conv2d` (its gradient with respect to its input), PyTorch's output-size formula
over random shapes, gradcheck and gradgradcheck, the one node it makes, float32, the
`nn.ConvTranspose2d` layer ("same" padding multiplies the size by the stride), a layer that
learns nearest-neighbour upsampling, and clear errors."""
import re

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import graphgrad as gg
from graphgrad import nn, optim


def _leaf(array, name):
    return gg.Tensor(array, requires_grad=True, name=name)


def conv_transpose_reference(A, W, b, stride, pad, output_padding):
    """The transposed convolution, loop by loop: every input pixel A[i, h, w, :] adds
    sum_k A[i, h, w, k] * W[a, b, c, k] at out[i, h s + a, w s + b, c] of an uncropped output
    (n_H_prev - 1) s + f + output_padding high and wide; then ``pad`` rows and columns are
    cropped from each side, and the bias is added to every pixel.

    A: (m, n_H_prev, n_W_prev, n_C_prev), W: (f, f, n_C, n_C_prev), b: (n_C,) or None.
    """
    m, n_H_prev, n_W_prev, _ = A.shape
    f, _, n_C, _ = W.shape
    full_H = (n_H_prev - 1) * stride + f + output_padding
    full_W = (n_W_prev - 1) * stride + f + output_padding
    out = np.zeros((m, full_H, full_W, n_C))
    for i in range(m):
        for h in range(n_H_prev):
            for w in range(n_W_prev):
                for a in range(f):
                    for b_ in range(f):
                        for c in range(n_C):
                            out[i, h * stride + a, w * stride + b_, c] += np.sum(
                                A[i, h, w, :] * W[a, b_, c, :])
    out = out[:, pad:full_H - pad, pad:full_W - pad, :]
    if b is not None:
        out = out + b
    return out


def _output_size(n_prev, f, stride, pad, output_padding):
    return (n_prev - 1) * stride - 2 * pad + f + output_padding


# (m, n_H_prev, n_W_prev, n_C_prev, n_C, f, stride, pad, output_padding, bias)
CASES = {
    "stride 1": (2, 3, 3, 2, 3, 3, 1, 0, 0, True),
    "f < stride, rectangular, output_padding": (2, 3, 4, 2, 3, 1, 2, 0, 1, True),
    "f < stride, output_padding 2": (1, 3, 2, 1, 2, 2, 3, 0, 2, False),
    "f == stride": (2, 4, 3, 3, 2, 2, 2, 0, 0, True),
    "f == stride 3, rectangular": (1, 2, 5, 2, 1, 3, 3, 0, 0, False),
    "U-Net's f=3 stride=2 'same'": (2, 4, 4, 2, 3, 3, 2, 1, 1, True),
    "pad 1, f=4 stride=2, rectangular": (1, 5, 3, 1, 2, 4, 2, 1, 0, False),
    "pad 2, stride 1": (2, 3, 3, 3, 3, 5, 1, 2, 0, True),
    "pad 2, output_padding 2": (1, 2, 3, 2, 2, 4, 3, 2, 2, True),
    "one pixel": (3, 1, 1, 2, 4, 3, 1, 0, 0, True),
}


def _case_arrays(case, seed):
    m, n_H_prev, n_W_prev, n_C_prev, n_C, f, stride, pad, output_padding, bias = case
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n_H_prev, n_W_prev, n_C_prev))
    W = rng.standard_normal((f, f, n_C, n_C_prev))
    b = rng.standard_normal(n_C) if bias else None
    return A, W, b, {"stride": stride, "padding": pad, "output_padding": output_padding}


@pytest.mark.parametrize("name", sorted(CASES))
def test_conv_transpose2d_is_the_scatter_of_each_pixel_through_the_filters(name):
    A, W, b, kw = _case_arrays(CASES[name], seed=len(name))
    out = gg.conv_transpose2d(A, W, b, **kw)
    m, n_H_prev, n_W_prev, _ = A.shape
    f, n_C = W.shape[0], W.shape[2]
    sizes = (kw["stride"], kw["padding"], kw["output_padding"])
    assert out.shape == (m, _output_size(n_H_prev, f, *sizes), _output_size(n_W_prev, f, *sizes),
                         n_C)
    np.testing.assert_allclose(out.data, conv_transpose_reference(A, W, b, *sizes),
                               rtol=0, atol=1e-12)


def test_a_transposed_convolution_of_ones_by_stride_f_copies_each_pixel_into_a_block():
    A = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 2, 1)
    out = gg.conv_transpose2d(A, np.ones((2, 2, 1, 1)), stride=2)
    np.testing.assert_array_equal(out.data[0, :, :, 0], [[1, 1, 2, 2], [1, 1, 2, 2],
                                                         [3, 3, 4, 4], [3, 3, 4, 4]])


def test_one_pixel_scatters_the_filters_weighted_by_its_channels():
    W = np.arange(2 * 3 * 3 * 4, dtype=float).reshape(3, 3, 4, 2)  # 4 outputs, 2 inputs
    A = np.array([2.0, -1.0]).reshape(1, 1, 1, 2)
    out = gg.conv_transpose2d(A, W, np.array([0.5, 0.0, 0.0, -0.5]))
    assert out.shape == (1, 3, 3, 4)
    np.testing.assert_array_equal(out.data[0], 2.0 * W[..., 0] - W[..., 1]
                                  + np.array([0.5, 0.0, 0.0, -0.5]))


def test_the_docstrings_transposes_to_and_from_pytorchs_weight_layout_hold():
    """PyTorch's conv_transpose2d, channels first, with weight (n_C_prev, n_C, f, f): each
    input pixel x[i, k, h, w] adds x * weight[k, c, a, b] at out[i, c, h s + a, w s + b]."""
    doc = " ".join(gg.conv_transpose2d.__doc__.split())
    to_torch = re.search(r"\(n_C_prev, n_C / groups, f, f\) is ``W\.transpose\(([\d, ]+)\)``",
                         doc).group(1)
    from_torch = re.search(r"W is its ``\.transpose\(([\d, ]+)\)``", doc).group(1)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 2, 3))  # (m, n_C_prev, n_H_prev, n_W_prev)
    weight = rng.standard_normal((3, 4, 2, 2))  # (n_C_prev, n_C, f, f)
    stride = 2
    out = np.zeros((2, 4, 4, 6))
    for a in range(2):
        for b in range(2):
            out[:, :, a::stride, b::stride] += np.einsum("ikhw,kc->ichw", x, weight[:, :, a, b])
    W = weight.transpose(*map(int, from_torch.split(",")))
    np.testing.assert_array_equal(W.transpose(*map(int, to_torch.split(","))), weight)
    ours = gg.conv_transpose2d(x.transpose(0, 2, 3, 1), W, stride=stride)
    np.testing.assert_allclose(ours.data, out.transpose(0, 2, 3, 1), rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_conv_transpose2d_is_the_adjoint_of_conv2d(name):
    A, W, _, kw = _case_arrays(CASES[name], seed=100 + len(name))
    out = gg.conv_transpose2d(A, W, **kw)
    X = np.random.default_rng(len(name)).standard_normal(out.shape)
    Z = gg.conv2d(X, W, stride=kw["stride"], padding=kw["padding"])
    assert Z.shape == A.shape
    np.testing.assert_allclose(np.sum(Z.data * A), np.sum(X * out.data), rtol=1e-12,
                               atol=1e-12)


# (n_H, n_W, f, stride, pad) of conv2d's input X; output_padding = (n_H + 2 pad - f) % stride
GRAD_CASES = [(7, 7, 3, 2, 1), (8, 6, 3, 2, 1), (9, 6, 2, 3, 0), (5, 8, 4, 3, 2),
              (6, 4, 1, 2, 0), (5, 6, 3, 1, 1)]


@pytest.mark.parametrize("n_H, n_W, f, stride, pad", GRAD_CASES)
def test_conv_transpose2d_is_the_gradient_of_conv2d_with_respect_to_its_input(
        n_H, n_W, f, stride, pad):
    output_padding = (n_H + 2 * pad - f) % stride
    assert (n_W + 2 * pad - f) % stride == output_padding
    rng = np.random.default_rng(n_H * n_W + f)
    X = _leaf(rng.standard_normal((2, n_H, n_W, 3)), "X")
    W = rng.standard_normal((f, f, 3, 4))
    Z = gg.conv2d(X, W, stride=stride, padding=pad)
    A = rng.standard_normal(Z.shape)
    (dX,) = gg.grad((Z * A).sum(), X)
    out = gg.conv_transpose2d(A, W, stride=stride, padding=pad, output_padding=output_padding)
    assert out.shape == X.shape
    np.testing.assert_allclose(out.data, dX, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", ["f < stride, rectangular, output_padding",
                                  "U-Net's f=3 stride=2 'same'", "pad 2, output_padding 2"])
def test_the_gradients_of_conv_transpose2d_are_a_convolution_and_a_sum(name):
    A, W, b, kw = _case_arrays(CASES[name], seed=7)
    A, W, b = _leaf(A, "A"), _leaf(W, "W"), _leaf(np.zeros(W.shape[2]), "b")
    out = gg.conv_transpose2d(A, W, b, **kw)
    G = np.random.default_rng(8).standard_normal(out.shape)
    out.backward(G)
    np.testing.assert_allclose(A.grad, gg.conv2d(G, W.data, stride=kw["stride"],
                                                 padding=kw["padding"]).data, rtol=0, atol=1e-12)
    np.testing.assert_allclose(b.grad, G.sum(axis=(0, 1, 2)), rtol=0, atol=1e-12)
    # out is linear in W: sum(G * out) is sum(dW * W).
    np.testing.assert_allclose(np.sum(W.grad * W.data), np.sum(G * out.data), rtol=1e-12,
                               atol=1e-12)


@st.composite
def conv_transpose_cases(draw):
    """Images, filters and settings whose output has at least one pixel."""
    f, stride = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    pad, output_padding = draw(st.integers(0, 2)), draw(st.integers(0, stride - 1))
    n_H_prev, n_W_prev = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    assume(_output_size(min(n_H_prev, n_W_prev), f, stride, pad, output_padding) >= 1)
    m, n_C_prev, n_C = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return (m, n_H_prev, n_W_prev, n_C_prev, n_C, f, stride, pad, output_padding, True)


@settings(max_examples=20, deadline=None)
@given(conv_transpose_cases(), st.integers(0, 2**32 - 1))
def test_conv_transpose2d_over_random_shapes_follows_the_formula_and_finite_differences(
        case, seed):
    A, W, b, kw = _case_arrays(case, seed)
    sizes = (kw["stride"], kw["padding"], kw["output_padding"])
    out = gg.conv_transpose2d(A, W, b, **kw)
    f = W.shape[0]
    assert out.shape == (A.shape[0], _output_size(A.shape[1], f, *sizes),
                         _output_size(A.shape[2], f, *sizes), W.shape[2])
    np.testing.assert_allclose(out.data, conv_transpose_reference(A, W, b, *sizes), rtol=0,
                               atol=1e-12)
    assert gg.gradcheck(lambda a, w, c: gg.conv_transpose2d(a, w, c, **kw),
                        [_leaf(A, "A"), _leaf(W, "W"), _leaf(b, "b")], fast=True)


@pytest.mark.parametrize("name", ["f < stride, rectangular, output_padding", "f == stride",
                                  "U-Net's f=3 stride=2 'same'", "pad 2, output_padding 2"])
@pytest.mark.parametrize("with_bias", [True, False])
def test_conv_transpose2d_passes_gradcheck_and_gradgradcheck(name, with_bias):
    A, W, b, kw = _case_arrays(CASES[name], seed=3)
    arrays = [A, W] + ([np.random.default_rng(4).standard_normal(W.shape[2])] if with_bias
                       else [])

    def up(*x):
        return gg.conv_transpose2d(*x, **kw)

    names = ["A", "W", "b"]
    assert gg.gradcheck(up, [_leaf(x, n) for x, n in zip(arrays, names)])
    assert gg.gradgradcheck(up, [_leaf(x, n) for x, n in zip(arrays, names)])


def test_conv_transpose2d_is_one_node_named_conv_transpose2d():
    A, W, b, kw = _case_arrays(CASES["U-Net's f=3 stride=2 'same'"], seed=5)
    A, W, b = _leaf(A, "A"), _leaf(W, "W"), _leaf(b, "b")
    out = gg.conv_transpose2d(A, W, b, **kw)
    assert out.creator.name == "ConvTranspose2d"
    assert type(out.creator).__name__ == "ConvTranspose2d"
    assert len(out.creator.inputs) == 3
    assert all(x is y for x, y in zip(out.creator.inputs, (A, W, b)))
    without_bias = gg.conv_transpose2d(A, W, **kw).creator
    assert without_bias.name == "ConvTranspose2d"
    assert len(without_bias.inputs) == 2
    assert all(x is y for x, y in zip(without_bias.inputs, (A, W)))


def test_conv_transpose2d_in_float32_stays_float32_forward_and_backward():
    A, W, b, kw = _case_arrays(CASES["pad 2, output_padding 2"], seed=6)
    A32, W32, b32 = (_leaf(x.astype(np.float32), n) for x, n in [(A, "A"), (W, "W"), (b, "b")])
    out = gg.conv_transpose2d(A32, W32, b32, **kw)
    (out * out).sum().backward()
    assert out.dtype == np.float32
    assert A32.grad.dtype == np.float32 and W32.grad.dtype == np.float32
    assert b32.grad.dtype == np.float32
    expected = conv_transpose_reference(A32.data.astype(np.float64), W32.data.astype(np.float64),
                                        b32.data.astype(np.float64), kw["stride"], kw["padding"],
                                        kw["output_padding"])
    np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-5)

    layer = nn.ConvTranspose2d(2, 3, 3, stride=2, padding="same", dtype=np.float32, rng=0)
    Z = layer(np.random.default_rng(7).standard_normal((2, 3, 3, 2)))  # float64 data
    (Z * Z).sum().backward()
    assert Z.dtype == np.float32
    assert layer.W.grad.dtype == np.float32 and layer.b.grad.dtype == np.float32


# -- the layer --------------------------------------------------------------------------------
def test_a_conv_transpose2d_layer_has_keras_shaped_parameters():
    layer = nn.ConvTranspose2d(3, 5, 4, stride=2, rng=0)
    assert layer.W.shape == (4, 4, 5, 3) and layer.b.shape == (5,)
    assert sum(p.data.size for p in layer.parameters()) == 4 * 4 * 5 * 3 + 5
    assert set(layer.state_dict()) == {"W", "b"}
    assert np.all(layer.b.data == 0.0)
    assert layer(np.zeros((2, 3, 2, 3))).shape == (2, 8, 6, 5)  # (n - 1) 2 + 4
    assert nn.ConvTranspose2d(3, 5, 4, bias=False).b is None
    np.testing.assert_array_equal(nn.ConvTranspose2d(3, 5, 4, rng=1).W.data,
                                  nn.ConvTranspose2d(3, 5, 4, rng=1).W.data)


def test_a_conv_transpose2d_layer_computes_what_the_function_does():
    layer = nn.ConvTranspose2d(2, 3, 4, stride=3, padding=1, output_padding=2, rng=0)
    layer.b.data[:] = np.random.default_rng(8).standard_normal(3)
    A = np.random.default_rng(9).standard_normal((2, 3, 4, 2))
    np.testing.assert_array_equal(
        layer(A).data,
        gg.conv_transpose2d(A, layer.W.data, layer.b.data, stride=3, padding=1,
                            output_padding=2).data)
    np.testing.assert_allclose(layer(A).data,
                               conv_transpose_reference(A, layer.W.data, layer.b.data, 3, 1, 2),
                               rtol=0, atol=1e-12)
    no_bias = nn.ConvTranspose2d(2, 3, 4, stride=3, bias=False, rng=0)
    np.testing.assert_array_equal(no_bias(A).data,
                                  gg.conv_transpose2d(A, no_bias.W.data, stride=3).data)


@pytest.mark.parametrize("f, stride", [(2, 2), (3, 2), (4, 2), (3, 1), (5, 3)])
def test_same_padding_multiplies_the_size_by_the_stride(f, stride):
    layer = nn.ConvTranspose2d(2, 3, f, stride=stride, padding="same", rng=0)
    layer.b.data[:] = np.random.default_rng(10).standard_normal(3)
    A = np.random.default_rng(11).standard_normal((2, 4, 3, 2))
    Z = layer(A)
    assert Z.shape == (2, 4 * stride, 3 * stride, 3)
    pad = -(-(f - stride) // 2)
    output_padding = 2 * pad - f + stride
    np.testing.assert_array_equal(
        Z.data, gg.conv_transpose2d(A, layer.W.data, layer.b.data, stride=stride, padding=pad,
                                    output_padding=output_padding).data)


def test_the_unet_up_convolution_doubles_4_by_4_to_8_by_8():
    layer = nn.ConvTranspose2d(64, 32, 3, stride=2, padding="same", rng=0)
    assert layer(np.zeros((2, 4, 4, 64))).shape == (2, 8, 8, 32)


def test_conv_transpose2d_layer_repr_shows_its_sizes():
    text = repr(nn.ConvTranspose2d(3, 5, 4, stride=2, rng=0))
    assert text.startswith("ConvTranspose2d(")
    assert {"3", "5", "4", "2"} <= set(re.findall(r"\d+", text))


def test_conv_transpose2d_state_dict_round_trip_gives_the_same_output():
    A = np.random.default_rng(12).standard_normal((2, 3, 3, 3))
    first = nn.ConvTranspose2d(3, 4, 3, stride=2, padding="same", rng=1)
    second = nn.ConvTranspose2d(3, 4, 3, stride=2, padding="same", rng=2)
    second.load_state_dict(first.state_dict())
    np.testing.assert_array_equal(first(A).data, second(A).data)


def test_a_conv_transpose2d_layer_learns_nearest_neighbour_upsampling():
    X = np.random.default_rng(13).standard_normal((16, 3, 3, 1))
    Y = np.repeat(np.repeat(X, 2, axis=1), 2, axis=2)  # each pixel copied into a 2 x 2 block
    layer = nn.ConvTranspose2d(1, 1, 2, stride=2, rng=0)
    optimizer = optim.SGD(layer.parameters(), lr=0.5)
    for _ in range(200):
        optimizer.zero_grad()
        nn.mse(layer(X), Y).backward()
        optimizer.step()
    np.testing.assert_allclose(layer.W.data, np.ones((2, 2, 1, 1)), atol=1e-2)
    np.testing.assert_allclose(layer.b.data, np.zeros(1), atol=1e-2)


# -- errors -----------------------------------------------------------------------------------
def _assert_refused(error, call, parts):
    """``call()`` raises ``error`` (a graphgrad error) whose message contains every part."""
    with pytest.raises(error) as info:
        call()
    missing = [part for part in parts if part not in str(info.value)]
    assert not missing, f"{missing} not in the message: {info.value}"


@pytest.mark.parametrize("call, parts", [
    (lambda: gg.conv_transpose2d(np.zeros((4, 4, 2)), np.zeros((3, 3, 5, 2))),
     ["(m, n_H, n_W, n_C)", "(4, 4, 2)"]),
    (lambda: gg.conv_transpose2d(np.zeros((1, 4, 4, 2)), np.zeros((3, 3, 2))),
     ["(f, f, n_C, n_C_prev)", "(3, 3, 2)"]),
    # A's channels are W's last axis (Keras's layout), not its third as in conv2d.
    (lambda: gg.conv_transpose2d(np.zeros((1, 4, 4, 5)), np.zeros((3, 3, 5, 2))),
     ["(1, 4, 4, 5)", "(3, 3, 5, 2)", "channels"]),
    (lambda: gg.conv_transpose2d(np.zeros((1, 4, 4, 3)), np.zeros((3, 3, 5, 2))),
     ["(1, 4, 4, 3)", "(3, 3, 5, 2)", "channels"]),
    (lambda: gg.conv_transpose2d(np.zeros((1, 4, 4, 2)), np.zeros((3, 3, 5, 2)), np.zeros(2)),
     ["(5,)", "(2,)"]),
    (lambda: gg.conv_transpose2d(np.zeros((1, 4, 4, 2)), np.zeros((3, 3, 5, 2)), stride=2,
                                 output_padding=2),
     ["output_padding"]),
    (lambda: gg.conv_transpose2d(np.zeros((1, 4, 4, 2)), np.zeros((3, 3, 5, 2)),
                                 output_padding=-1),
     ["output_padding"]),
    (lambda: gg.conv_transpose2d(np.zeros((1, 4, 4, 2)), np.zeros((3, 3, 5, 2)), stride=0),
     ["stride"]),
    (lambda: gg.conv_transpose2d(np.zeros((1, 1, 1, 2)), np.zeros((2, 2, 5, 2)), padding=1),
     ["n_H", "pad"]),
    (lambda: gg.conv_transpose2d(np.zeros((1, 1, 1, 2)), np.zeros((1, 1, 5, 2)), padding=1),
     ["n_H", "pad"]),
])
def test_bad_conv_transpose2d_inputs_get_graphgrad_errors_that_name_the_problem(call, parts):
    _assert_refused(gg.GraphgradError, call, parts)


@pytest.mark.parametrize("call, parts", [
    (lambda: nn.ConvTranspose2d(2, 3, 2, stride=3, padding="same"), ["same"]),
    (lambda: nn.ConvTranspose2d(2, 3, 1, stride=2, padding="same"), ["same"]),
    # f=2, stride 1 would need output_padding 2 p - f + s = 1, which is not below the stride.
    (lambda: nn.ConvTranspose2d(2, 3, 2, stride=1, padding="same"), ["same"]),
    (lambda: nn.ConvTranspose2d(2, 3, 3, stride=2, output_padding=2), ["output_padding"]),
    (lambda: nn.ConvTranspose2d(2, 3, 3, stride=1, output_padding=1), ["output_padding"]),
    (lambda: nn.ConvTranspose2d(2, 0, 3), ["n_C"]),
])
def test_bad_conv_transpose2d_layer_settings_are_refused(call, parts):
    _assert_refused(gg.ArgumentError, call, parts)


def test_a_conv_transpose2d_layer_given_the_wrong_channels_names_both_shapes():
    layer = nn.ConvTranspose2d(2, 3, 3, rng=0)
    _assert_refused(gg.GraphgradError, lambda: layer(np.zeros((1, 4, 4, 3))),
                    ["(1, 4, 4, 3)", "(3, 3, 3, 2)"])
