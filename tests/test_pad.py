"""gg.pad's modes (np.pad's constant, edge, reflect, symmetric, wrap): values against np.pad,
gradients against the count of copies each input element has, np.pad on a Tensor, second
derivatives, and the errors. The op table gradchecks each mode; here hypothesis draws shapes,
widths and modes and checks the gradient against the transpose of the copying matrix."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import graphgrad as gg

MODES = ["constant", "edge", "reflect", "symmetric", "wrap"]
COPYING = MODES[1:]  # the modes whose border copies x's elements


def _copy_matrix(shape, widths, mode):
    """P with np.pad(x, widths, mode).ravel() == P @ x.ravel(): column k is input element k
    padded alone, so it has a 1 at the element and at each of its copies."""
    size = int(np.prod(shape))
    columns = [np.pad(np.eye(size)[k].reshape(shape), widths, mode).ravel() for k in range(size)]
    return np.stack(columns, axis=1)


# -- values ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shape, widths", [
    ((3,), (2, 1)),
    ((3,), (5, 4)),  # wider than the axis: reflects again, wraps around again
    ((1,), (2, 3)),  # length 1: reflect and wrap copy the one element
    ((3, 4), ((1, 1), (2, 0))),
    ((2, 3), ((0, 7), (4, 0))),
    ((2, 1, 3), 2),
    ((), 3),  # 0-d: nothing to pad, as in numpy
], ids=["1d", "1d beyond", "length 1", "2d uneven", "2d beyond", "3d every axis", "0d"])
def test_values_are_np_pad(mode, shape, widths):
    data = np.arange(1.0, np.prod(shape) + 1).reshape(shape)
    x = gg.Tensor(data, requires_grad=True)
    y = gg.pad(x, widths, mode)
    np.testing.assert_array_equal(y.data, np.pad(data, widths, mode))
    y.backward(np.ones(y.shape))
    np.testing.assert_array_equal(x.grad, _copy_matrix(shape, widths, mode).sum(axis=0)
                                  .reshape(shape))


def test_the_docstring_examples():
    x = gg.Tensor([1.0, 2.0, 3.0])
    expected = {"constant": [0, 0, 1, 2, 3, 0, 0], "edge": [1, 1, 1, 2, 3, 3, 3],
                "reflect": [3, 2, 1, 2, 3, 2, 1], "symmetric": [2, 1, 1, 2, 3, 3, 2],
                "wrap": [2, 3, 1, 2, 3, 1, 2]}
    for mode, values in expected.items():
        np.testing.assert_array_equal(gg.pad(x, (2, 2), mode).data, values)


# -- gradients, counted by hand -------------------------------------------------------------------
@pytest.mark.parametrize("mode, widths, dx", [
    ("constant", (2, 1), [1, 1, 1]),
    ("edge", (2, 1), [1 + 2, 1, 1 + 1]),  # a a | a b c | c
    ("reflect", (2, 1), [1, 1 + 2, 1 + 1]),  # c b | a b c | b
    ("symmetric", (2, 1), [1 + 1, 1 + 1, 1 + 1]),  # b a | a b c | c
    ("wrap", (2, 1), [1 + 1, 1 + 1, 1 + 1]),  # b c | a b c | a
    ("wrap", (4, 0), [1 + 1, 1 + 1, 1 + 2]),  # c a b c | a b c
    ("reflect", (5, 4), [1 + 2, 1 + 5, 1 + 2]),  # b a b c b | a b c | b a b c
    ("symmetric", (1, 6), [1 + 3, 1 + 2, 1 + 2]),  # a | a b c | c b a a b c
], ids=["constant", "edge", "reflect", "symmetric", "wrap", "wrap beyond", "reflect beyond",
        "symmetric beyond"])
def test_each_input_element_gets_one_gradient_per_copy(mode, widths, dx):
    x = gg.Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    y = gg.pad(x, widths, mode)
    y.backward(np.ones(y.shape))
    np.testing.assert_array_equal(x.grad, dx)


def test_each_copy_sends_its_own_gradient_to_the_element_it_copies():
    """reflect (2, 1) of [a, b, c] is [c, b, a, b, c, b]: a gets 1, b gets 20 + 2 + 40, c 10 + 3."""
    x = gg.Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    gg.pad(x, (2, 1), "reflect").backward(np.array([10.0, 20.0, 1.0, 2.0, 3.0, 40.0]))
    np.testing.assert_array_equal(x.grad, [1.0, 62.0, 13.0])


def test_edge_padding_of_every_axis_counts_corners_once_per_border():
    """[[a, b], [c, d]] padded by 1 with its edges: each element is the middle of a 2 x 2
    corner block (itself, a copy in its row, one in its column, one at the corner)."""
    x = gg.Tensor(np.arange(4.0).reshape(2, 2), requires_grad=True)
    y = gg.pad(x, 1, mode="edge")
    y.backward(np.ones((4, 4)))
    np.testing.assert_array_equal(x.grad, np.full((2, 2), 4.0))


def test_float32_stays_float32_in_the_copying_backward():
    x = gg.Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    y = gg.pad(x, ((1, 2), (3, 0)), "wrap")
    y.backward(np.ones(y.shape, dtype=np.float32))
    assert y.dtype == np.float32 and x.grad.dtype == np.float32


# -- np.pad on a Tensor ---------------------------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda a: np.pad(a, 1, "reflect"),
    lambda a: np.pad(a, ((1, 1), (2, 0)), mode="edge"),
    lambda a: np.pad(a, (3, 2), "symmetric"),
    lambda a: np.pad(a, ((0, 5), (1, 0)), mode="wrap"),
    lambda a: np.pad(a, 2, "constant", constant_values=-1.5),
], ids=["reflect by position", "edge by keyword", "symmetric", "wrap beyond", "constant"])
def test_np_pad_on_a_tensor_takes_the_mode_by_position_or_keyword(call):
    data = np.arange(12.0).reshape(3, 4)
    x = gg.Tensor(data, requires_grad=True)
    y = call(x)
    assert type(y) is gg.Tensor and type(y.creator).__name__ == "Pad"
    np.testing.assert_array_equal(y.data, call(data))
    upstream = np.random.default_rng(0).standard_normal(y.shape)
    y.backward(upstream)
    shape, eye = data.shape, np.eye(data.size)
    offset = call(np.zeros(shape)).ravel()  # constant_values: pad is affine, P its linear part
    P = np.stack([call(eye[k].reshape(shape)).ravel() - offset for k in range(data.size)],
                 axis=1)
    np.testing.assert_allclose(x.grad, (P.T @ upstream.ravel()).reshape(shape), rtol=1e-12)


# -- second derivatives ---------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_hessian_vector_products_through_pad(mode):
    """J = 1/2 sum(w * pad(x)**2): dJ/dx = P^T (w * P x), and its derivative along v is
    P^T (w * P v); the copying backward runs on Tensors, its own backward being pad again."""
    rng = np.random.default_rng(1)
    shape, widths = (2, 3), ((2, 1), (4, 2))
    P = _copy_matrix(shape, widths, mode)
    x = gg.Tensor(rng.standard_normal(shape), requires_grad=True)
    y = gg.pad(x, widths, mode)
    w = rng.standard_normal(y.shape)
    v = rng.standard_normal(shape)
    (g,) = gg.grad((w * y * y).sum() * 0.5, [x], create_graph=True)
    np.testing.assert_allclose(g.data.ravel(), P.T @ (w.ravel() * (P @ x.data.ravel())),
                               rtol=1e-12)
    (hv,) = gg.grad((g * v).sum(), [x])
    np.testing.assert_allclose(hv.ravel(), P.T @ (w.ravel() * (P @ v.ravel())), rtol=1e-12)
    assert gg.gradgradcheck(lambda t: (gg.pad(t, widths, mode) ** 2).sum(), [x])


@pytest.mark.parametrize("mode, op", [("constant", "GetItem"), ("reflect", "PadGrad")])
def test_constant_mode_backward_stays_a_slice(mode, op):
    """With create_graph the gradient is recorded: a slice of dy in constant mode, the fold
    of the border onto the elements it copies in the others."""
    x = gg.Tensor(np.ones((3, 4)), requires_grad=True)
    (g,) = gg.grad((gg.pad(x, 1, mode) ** 2).sum(), [x], create_graph=True)
    assert type(g.creator).__name__ == op


# -- empty axes -----------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", COPYING)
def test_an_empty_axis_padded_by_nothing_is_fine_in_every_mode(mode):
    x = gg.Tensor(np.zeros((0, 3)), requires_grad=True)
    y = gg.pad(x, ((0, 0), (1, 2)), mode)
    assert y.shape == (0, 6)
    y.sum().backward()
    assert x.grad.shape == (0, 3)


def test_an_empty_axis_padded_with_a_constant_is_the_constant():
    y = gg.pad(gg.Tensor(np.zeros((0, 2))), ((1, 0), (0, 1)), constant_values=7.0)
    np.testing.assert_array_equal(y.data, [[7.0, 7.0, 7.0]])


# -- errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, error, message", [
    (lambda x: gg.pad(x, 1, "replicate"), gg.ArgumentError,
     r"^pad: mode 'replicate' is PyTorch's name for numpy's 'edge'; pad takes numpy's names: "
     r"mode='edge'$"),
    (lambda x: gg.pad(x, 1, mode="circular"), gg.ArgumentError,
     r"PyTorch's name for numpy's 'wrap'.*mode='wrap'"),
    (lambda x: gg.pad(x, 1, "mean"), gg.ArgumentError,
     r"^pad: mode must be one of 'constant', 'edge', 'reflect', 'symmetric', 'wrap' \(numpy's "
     r"names; PyTorch's 'replicate' is 'edge' and 'circular' is 'wrap'\), got 'mean'$"),
    (lambda x: np.pad(x, 1, "linear_ramp"), gg.ArgumentError,
     r"^pad: mode must be one of .*got 'linear_ramp'$"),
    (lambda x: gg.pad(x, 1, 0.5), gg.ArgumentError,
     r"got 0\.5; give constant_values by name: gg\.pad\(x, pad_width, constant_values=c\)"),
    (lambda x: gg.pad(x, 1, "edge", constant_values=2.0), gg.ArgumentError,
     r"^pad: constant_values=2\.0 is what mode 'constant' fills the border with; mode 'edge' "
     r"fills it with copies of x's elements\. Leave constant_values out, or pad with "
     r"mode='constant'$"),
    (lambda x: np.pad(x, 1, mode="wrap", constant_values=(1, 2)), gg.ArgumentError,
     r"pad: constant_values=\(1, 2\) is what mode 'constant' fills"),
    (lambda x: gg.pad(x[:0], ((1, 0), (0, 0)), "reflect"), gg.OpError,
     r"^Pad: axis 0 of the input \(0, 4\) is empty, so mode 'reflect' has no element to copy "
     r"into its border \(1, 0\); only mode 'constant' pads an empty axis$"),
], ids=["replicate", "circular", "unknown", "np.pad unknown", "constant_values by position",
        "constant_values with edge", "np.pad constant_values with wrap", "empty axis"])
def test_bad_modes_get_errors_that_name_the_op_and_what_to_do(call, error, message):
    x = gg.Tensor(np.ones((3, 4)), requires_grad=True, name="x")
    with pytest.raises(error, match=message):
        call(x)


def test_constant_values_of_zero_with_another_mode_is_the_default():
    """The default is 0, so 0 given by name cannot be told apart from it (numpy refuses it)."""
    x = gg.Tensor(np.arange(3.0))
    np.testing.assert_array_equal(gg.pad(x, 1, "edge", constant_values=0).data, [0, 0, 1, 2, 2])


@pytest.mark.parametrize("mode", ["reflect", "wrap"])
def test_widths_beyond_the_axis_go_on_copying_as_numpy_does(mode):
    """PyTorch refuses these for reflect and circular; numpy, whose np.pad this is, copies on,
    and so does pad."""
    x = gg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = gg.pad(x, (4, 3), mode)
    np.testing.assert_array_equal(y.data, np.pad(x.data, (4, 3), mode))
    y.backward(np.ones(9))
    assert x.grad.sum() == 9.0


# -- properties -----------------------------------------------------------------------------------
@st.composite
def pads(draw_, min_side=1):
    """A shape, one (before, after) pair per axis (one number for a 0-d shape: numpy refuses
    no pairs), and a mode; an empty axis gets no width in the copying modes (they have
    nothing to copy)."""
    shape = draw_(hnp.array_shapes(min_dims=0, max_dims=3, min_side=min_side, max_side=4))
    mode = draw_(st.sampled_from(MODES))
    if not shape:
        return shape, draw_(st.integers(0, 6)), mode
    widths = []
    for n in shape:
        if n == 0 and mode != "constant":
            widths.append((0, 0))
        else:
            widths.append((draw_(st.integers(0, 6)), draw_(st.integers(0, 6))))
    return shape, tuple(widths), mode


@given(case=pads(), seed=st.integers(0, 2**32 - 1))
def test_pad_is_np_pad_and_its_gradient_is_the_copying_matrix_transposed(case, seed):
    shape, widths, mode = case
    rng = np.random.default_rng(seed)
    data = rng.standard_normal(shape)
    x = gg.Tensor(data, requires_grad=True)
    y = gg.pad(x, widths, mode)
    np.testing.assert_array_equal(y.data, np.pad(data, widths, mode))
    upstream = rng.standard_normal(y.shape)
    (dx,) = gg.grad(y, [x], grad_outputs=upstream)
    P = _copy_matrix(shape, widths, mode)
    np.testing.assert_allclose(dx.reshape(-1), P.T @ upstream.reshape(-1), rtol=1e-12,
                               atol=1e-12)
    if mode != "constant":  # every element of y is a copy of one of x: nothing is lost
        assert dx.sum() == pytest.approx(upstream.sum(), rel=1e-12, abs=1e-12)
    def padded(t):
        return gg.pad(t, widths, mode)

    assert gg.gradcheck(padded, [x], fast=True)
    assert gg.gradgradcheck(padded, [x], fast=True)


@given(case=pads(min_side=0))
def test_empty_inputs_pad_as_in_numpy(case):
    shape, widths, mode = case
    x = gg.Tensor(np.zeros(shape), requires_grad=True)
    y = gg.pad(x, widths, mode)
    np.testing.assert_array_equal(y.data, np.pad(x.data, widths, mode))
    (dx,) = gg.grad(y, [x], grad_outputs=np.ones(y.shape))
    assert dx.shape == shape


@pytest.mark.parametrize("value", ["3", None, 1j, True, ["a", "b"], [[1.0], [2.0, 3.0]]])
def test_a_fill_that_is_no_real_number_is_refused(value):
    """np.pad read '3' as 3, None as NaN, 1j as 0 (dropping the imaginary part with a
    warning) and True as 1."""
    with pytest.raises(gg.GraphgradTypeError, match=r"^pad: constant_values must be a real "
                                                    r"number or an array of them, got "):
        gg.pad(gg.Tensor([1.0, 5.0]), 1, constant_values=value)


def test_real_fills_still_pad():
    x = gg.Tensor([1.0, 5.0])
    np.testing.assert_array_equal(gg.pad(x, 1, constant_values=np.float32(2)).data,
                                  [2.0, 1.0, 5.0, 2.0])
    np.testing.assert_array_equal(gg.pad(x, 1, constant_values=(3, 4)).data, [3.0, 1.0, 5.0, 4.0])
    # a mask is padded with True or False
    np.testing.assert_array_equal(gg.pad(gg.Tensor([True, False]), 1, constant_values=True).data,
                                  [True, True, False, True])
