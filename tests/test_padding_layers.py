"""The padding layers (ZeroPad2d ... CircularPad1d): values against np.pad over random shapes,
sides and modes (hypothesis), PyTorch's (left, right, top, bottom) order, the course's
zero_pad, gradients by finite differences and by the count of copies, and the errors."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import graphgrad as gg
from graphgrad import nn

# layer class -> (numpy's mode, dims)
LAYERS = {
    nn.ZeroPad2d: ("constant", 2), nn.ZeroPad1d: ("constant", 1),
    nn.ReflectionPad2d: ("reflect", 2), nn.ReflectionPad1d: ("reflect", 1),
    nn.ReplicationPad2d: ("edge", 2), nn.ReplicationPad1d: ("edge", 1),
    nn.CircularPad2d: ("wrap", 2), nn.CircularPad1d: ("wrap", 1),
}


def _widths(padding, dims):
    """np.pad's widths of a layer's PyTorch tuple, last axis first, channels last."""
    left, right = padding[:2]
    if dims == 1:
        return ((0, 0), (left, right), (0, 0))
    top, bottom = padding[2:]
    return ((0, 0), (top, bottom), (left, right), (0, 0))


@st.composite
def padding_cases(draw):
    layer = draw(st.sampled_from(sorted(LAYERS, key=lambda cls: cls.__name__)))
    mode, dims = LAYERS[layer]
    shape = (draw(st.integers(1, 2)),) + tuple(draw(st.integers(1, 4)) for _ in range(dims))
    shape += (draw(st.integers(1, 2)),)
    as_int = draw(st.booleans())
    padding = draw(st.integers(0, 5)) if as_int else tuple(
        draw(st.integers(0, 5)) for _ in range(2 * dims))
    return layer, shape, padding


@given(padding_cases(), st.integers(0, 2**32 - 1))
def test_each_layer_is_np_pad_in_its_mode_and_passes_gradcheck(case, seed):
    layer, shape, padding = case
    mode, dims = LAYERS[layer]
    A = np.random.default_rng(seed).standard_normal(shape)
    sides = (padding,) * 2 * dims if isinstance(padding, int) else padding
    widths = _widths(sides, dims)
    out = layer(padding)(A)
    np.testing.assert_array_equal(out.data, np.pad(A, widths, mode))
    assert gg.gradcheck(layer(padding), [gg.Tensor(A, requires_grad=True, name="A")])


def test_the_sides_are_pytorchs_order_left_right_top_bottom():
    A = np.arange(1.0, 7.0).reshape(1, 2, 3, 1)  # [[1 2 3], [4 5 6]]
    out = nn.ZeroPad2d((1, 0, 2, 0))(A).data[0, :, :, 0]
    np.testing.assert_array_equal(out, [[0, 0, 0, 0], [0, 0, 0, 0], [0, 1, 2, 3], [0, 4, 5, 6]])
    out = nn.ReplicationPad2d((0, 2, 0, 1))(A).data[0, :, :, 0]
    np.testing.assert_array_equal(out, [[1, 2, 3, 3, 3], [4, 5, 6, 6, 6], [4, 5, 6, 6, 6]])


@pytest.mark.parametrize("layer, expected", [
    (nn.ZeroPad1d((2, 1)), [0, 0, 1, 2, 3, 0]),
    (nn.ConstantPad1d((2, 1), -1.5), [-1.5, -1.5, 1, 2, 3, -1.5]),
    (nn.ReflectionPad1d((2, 1)), [3, 2, 1, 2, 3, 2]),
    (nn.ReplicationPad1d((2, 1)), [1, 1, 1, 2, 3, 3]),
    (nn.CircularPad1d((2, 1)), [2, 3, 1, 2, 3, 1]),
], ids=lambda v: type(v).__name__ if isinstance(v, nn.Module) else "")
def test_the_docstring_examples(layer, expected):
    out = layer(np.array([1.0, 2.0, 3.0]).reshape(1, 3, 1))
    np.testing.assert_array_equal(out.data[0, :, 0], expected)


def test_zero_pad2d_is_the_course_zero_pad():
    X = np.random.default_rng(1).standard_normal((4, 3, 3, 2))
    np.testing.assert_array_equal(nn.ZeroPad2d(2)(X).data,
                                  np.pad(X, ((0, 0), (2, 2), (2, 2), (0, 0))))


def test_constant_pad2d_fills_with_its_value_and_the_border_gets_no_gradient():
    A = gg.Tensor(np.ones((1, 2, 2, 1)), requires_grad=True)
    out = nn.ConstantPad2d((1, 1, 0, 1), 7.0)(A)
    np.testing.assert_array_equal(out.data[0, :, :, 0], [[7, 1, 1, 7], [7, 1, 1, 7],
                                                         [7, 7, 7, 7]])
    out.backward(np.arange(12.0).reshape(1, 3, 4, 1))
    np.testing.assert_array_equal(A.grad[0, :, :, 0], [[1, 2], [5, 6]])


def test_each_copy_sends_its_gradient_to_the_pixel_it_copies():
    """Replication (2, 0) of [a b c] is a a | a b c: a gets three ones, the others one."""
    A = gg.Tensor(np.array([0.5, -1.0, 2.0]).reshape(1, 3, 1), requires_grad=True)
    nn.ReplicationPad1d((2, 0))(A).sum().backward()
    np.testing.assert_array_equal(A.grad[0, :, 0], [3.0, 1.0, 1.0])
    A.grad = None
    nn.ReflectionPad1d((2, 1))(A).backward(np.array([10.0, 20.0, 1.0, 2.0, 3.0, 40.0])
                                           .reshape(1, 6, 1))  # c b | a b c | b
    np.testing.assert_array_equal(A.grad[0, :, 0], [1.0, 62.0, 13.0])


@pytest.mark.parametrize("layer", [nn.ReflectionPad2d((1, 2, 2, 1)), nn.CircularPad2d(1),
                                   nn.ReplicationPad2d((0, 1, 1, 0)), nn.ZeroPad2d(1)])
def test_second_derivatives_pass_gradgradcheck(layer):
    A = gg.Tensor(np.random.default_rng(2).standard_normal((1, 3, 3, 2)), requires_grad=True)
    assert gg.gradgradcheck(lambda a: gg.tanh(layer(a)), [A])


def test_float32_stays_float32_and_each_layer_is_one_node_without_parameters():
    layer = nn.ReflectionPad2d(1)
    out = layer(np.zeros((1, 3, 3, 2), dtype=np.float32))
    assert out.dtype == np.float32 and out.shape == (1, 5, 5, 2)
    assert list(layer.parameters()) == []
    A = gg.Tensor(np.zeros((1, 3, 3, 2)), requires_grad=True)
    out = nn.CircularPad2d(1)(A)
    assert type(out.creator).__name__ == "Pad" and out.creator.inputs[0] is A


def test_the_layers_show_their_sides_and_value():
    assert repr(nn.ZeroPad2d(1)) == "ZeroPad2d(padding=1)"
    assert repr(nn.ReflectionPad2d((1, 2, 0, 0))) == "ReflectionPad2d(padding=(1, 2, 0, 0))"
    assert repr(nn.ConstantPad1d((1, 2), 3.5)) == "ConstantPad1d(padding=(1, 2), value=3.5)"
    assert nn.CircularPad1d(2).padding == (2, 2)
    # a numpy number reads as a number (numpy's repr was "value=np.float32(0.5)")
    assert repr(nn.ConstantPad2d(1, np.float32(0.5))) == "ConstantPad2d(padding=1, value=0.5)"
    assert repr(nn.ConstantPad1d(1, np.int64(-2))) == "ConstantPad1d(padding=1, value=-2)"


# -- errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("make, message", [
    (lambda: nn.ZeroPad2d((1, 2)), r"ZeroPad2d: padding must be a whole number >= 0 or 4 of "
                                   r"them, \(left, right, top, bottom\), got \(1, 2\)"),
    (lambda: nn.ReflectionPad1d((1, 2, 3)), r"ReflectionPad1d: .*2 of them, \(left, right\)"),
    (lambda: nn.ZeroPad1d(-1), r"negative padding crops: slice A instead"),
    (lambda: nn.CircularPad2d(1.5), r"CircularPad2d: padding must be"),
    (lambda: nn.ConstantPad2d(1, "0"), r"ConstantPad2d: value must be a real number"),
    (lambda: nn.ConstantPad1d(1, True), r"ConstantPad1d: value must be a real number"),
])
def test_bad_settings_are_refused_by_name(make, message):
    with pytest.raises(gg.ArgumentError, match=message):
        make()


@pytest.mark.parametrize("layer, shape, message", [
    (nn.ZeroPad2d(1), (3, 3, 2), r"one image\? add the batch axis.*sequences\? use ZeroPad1d"),
    (nn.ReflectionPad1d(1), (1, 3, 3, 2), r"images\? use ReflectionPad2d"),
    (nn.CircularPad1d(1), (3, 2), r"one sequence\? add the batch axis: A\[None\]"),
])
def test_inputs_of_the_wrong_layout_are_refused_with_the_fix(layer, shape, message):
    with pytest.raises(gg.ShapeError, match=message):
        layer(np.zeros(shape))
