"""F.affine_grid and F.grid_sample (graphgrad/ops/sampling.py), channels last: the identity
map gives the input back (each mode, padding and align_corners), values and gradients by
hand, against loops over pixels, padding modes outside the image, nearest rounding half to
even, gradient checks through theta, float32 kept, second derivatives refused, and the
refusals, each naming the function. The op table's rows check the ops over random shapes."""
import warnings

import numpy as np
import pytest
from sequence_and_grid_references import affine_grid_by_pixels, grid_sample_by_pixels

import graphgrad as gg
import graphgrad.nn.functional as F
from graphgrad.ops.sampling import GridSample, GridSampleGrad

RNG = np.random.default_rng(17)
A = RNG.standard_normal((2, 4, 5, 3))
IDENTITY = np.tile(np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), (2, 1, 1))
SQUARE = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 2, 1)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_the_identity_map_gives_the_input_back(align_corners, mode, padding_mode):
    grid = F.affine_grid(IDENTITY, A.shape, align_corners=align_corners)
    out = F.grid_sample(A, grid, mode, padding_mode, align_corners)
    np.testing.assert_allclose(out.data, A, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid_is_theta_at_the_pixels_centres(align_corners):
    theta = RNG.standard_normal((2, 2, 3))
    got = F.affine_grid(theta, (2, 3, 4, 7), align_corners)
    np.testing.assert_allclose(got.data, affine_grid_by_pixels(theta, 3, 4, align_corners),
                               rtol=1e-14, atol=1e-15)
    # by hand: a 2 x 2 output's centres are at +-0.5 (edges aligned) or +-1 (corners)
    corner = 1.0 if align_corners else 0.5
    grid = F.affine_grid(IDENTITY[:1], (1, 2, 2, 1), align_corners).data
    np.testing.assert_array_equal(grid[0, 0, 0], [-corner, -corner])
    np.testing.assert_array_equal(grid[0, 1, 0], [-corner, corner])  # y down the height


def test_bilinear_values_and_gradients_by_hand():
    # corners aligned: (0, 0) is the middle of the 2 x 2 image, (0.5, -1) a quarter of the
    # way from pixel 1 to pixel 2 along the top row
    a = gg.Tensor(SQUARE, requires_grad=True)
    grid = gg.Tensor(np.array([[[[0.0, 0.0], [0.5, -1.0]]]]), requires_grad=True)
    out = F.grid_sample(a, grid, align_corners=True)
    np.testing.assert_allclose(out.data.ravel(), [2.5, 1.75], rtol=1e-15)
    out.sum().backward()
    # dY/dx = (right - left) per pixel, times (W - 1) / 2 pixels per unit of x
    np.testing.assert_allclose(grid.grad[0, 0, 0], [0.5, 1.0], rtol=1e-15)
    np.testing.assert_allclose(a.grad.ravel(), [0.25 + 0.25, 0.25 + 0.75, 0.25, 0.25],
                               rtol=1e-15)


@pytest.mark.parametrize("padding_mode, corner, row", [
    ("zeros", 0.25, 10.0),  # only pixel (0, 0) is inside, with weight 1/4; pixel 3 is 0
    ("border", 1.0, 20.0),  # clamped to the corner pixel; to the last pixel
    ("reflection", 1.0, 15.0),  # -0.5 is its own reflection, then clamped; 2.5 reflects to 1.5
])
def test_points_outside_the_image_by_hand(padding_mode, corner, row):
    # (-1, -1) with edges aligned is the outer corner of pixel (0, 0), at (-0.5, -0.5)
    got = F.grid_sample(SQUARE, np.array([[[[-1.0, -1.0]]]]), padding_mode=padding_mode)
    assert got.item() == corner
    # one row [0, 10, 20], corners aligned: x = 1.5 is pixel 2.5
    got = F.grid_sample(np.array([[[[0.0], [10.0], [20.0]]]]), np.array([[[[1.5, 0.0]]]]),
                        padding_mode=padding_mode, align_corners=True)
    assert got.item() == pytest.approx(row, rel=1e-15)


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_points_far_outside_read_zeros_without_warnings(mode):
    # A diverging localisation net's grid: points past int64's range (9.2e18 pixels) read
    # zeros and pass no gradient, as PyTorch's, where the cast of their pixel indices to
    # integers overflowed with a RuntimeWarning (an error under -W error).
    a = gg.Tensor(SQUARE, requires_grad=True)
    grid = gg.Tensor(np.array([[[[1e20, 0.0], [-1e20, 0.5], [0.0, 1e300], [-1e300, -1e19]]]]),
                     requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = F.grid_sample(a, grid, mode=mode)
        out.sum().backward()
    np.testing.assert_array_equal(out.data, np.zeros((1, 1, 4, 1)))
    np.testing.assert_array_equal(a.grad, np.zeros_like(SQUARE))
    np.testing.assert_array_equal(grid.grad, np.zeros((1, 1, 4, 2)))


def test_nearest_rounds_half_to_even_as_pytorch():
    for width, index in ((4, 2), (6, 2)):  # pixel 1.5 reads 2, pixel 2.5 reads 2 too
        row = np.arange(width, dtype=float).reshape(1, 1, width, 1)
        got = F.grid_sample(row, np.zeros((1, 1, 1, 2)), mode="nearest", align_corners=True)
        assert got.item() == index


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_values_and_gradients_against_loops_over_pixels(mode, padding_mode, align_corners):
    grid = RNG.uniform(-1.6, 1.6, (2, 3, 2, 2))
    upstream = RNG.standard_normal((2, 3, 2, 3))
    a, g = gg.Tensor(A, requires_grad=True), gg.Tensor(grid, requires_grad=True)
    out = F.grid_sample(a, g, mode, padding_mode, align_corners)
    (out * upstream).sum().backward()
    want, da, dgrid = grid_sample_by_pixels(A, grid, mode, padding_mode, align_corners,
                                            upstream)
    np.testing.assert_allclose(out.data, want, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(a.grad, da, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(g.grad, dgrid, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_a_constant_grid_gives_the_same_image_gradient(mode):
    """With the grid a constant, backward skips dgrid; dA is the loops' all the same."""
    grid = RNG.uniform(-1.6, 1.6, (2, 3, 2, 2))
    upstream = RNG.standard_normal((2, 3, 2, 3))
    a = gg.Tensor(A, requires_grad=True)
    (F.grid_sample(a, grid, mode, "zeros") * upstream).sum().backward()
    _, da, _ = grid_sample_by_pixels(A, grid, mode, "zeros", False, upstream)
    np.testing.assert_allclose(a.grad, da, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_gradcheck_through_theta(align_corners, padding_mode):
    """The spatial transformer: the image read through an affine map, both trained."""
    theta = IDENTITY * 0.9 + RNG.normal(0, 0.2, (2, 2, 3))

    def transform(a, theta):
        grid = F.affine_grid(theta, (2, 3, 3, 3), align_corners)
        return F.grid_sample(a, grid, padding_mode=padding_mode, align_corners=align_corners)

    assert gg.gradcheck(transform, [A.copy(), theta])


def test_float32_is_kept():
    a = gg.Tensor(A.astype(np.float32), requires_grad=True)
    theta = gg.Tensor(IDENTITY.astype(np.float32) * 0.8, requires_grad=True)
    out = F.grid_sample(a, F.affine_grid(theta, A.shape))
    assert out.dtype == np.float32
    out.sum().backward()
    assert a.grad.dtype == np.float32 and theta.grad.dtype == np.float32


def test_second_derivatives_are_refused_but_first_order_records():
    a = gg.Tensor(A, requires_grad=True)
    grid = gg.Tensor(RNG.uniform(-1, 1, (2, 2, 2, 2)), requires_grad=True)
    out = F.grid_sample(a, grid)
    assert type(out.creator) is GridSample
    da, dgrid = gg.grad((out * out).sum(), [a, grid], create_graph=True)
    assert type(da.creator) is GridSampleGrad
    plain = gg.grad((F.grid_sample(a, grid) ** 2).sum(), [a, grid])
    np.testing.assert_allclose(da.data, plain[0].data, rtol=1e-14)
    np.testing.assert_allclose(dgrid.data, plain[1].data, rtol=1e-14)
    with pytest.raises(gg.BackwardError, match=r"grid_sample: second derivatives wrt the input"):
        (dgrid * dgrid).sum().backward()


@pytest.mark.parametrize("call, error, message", [
    (lambda: F.grid_sample(A[0], np.zeros((1, 2, 2, 2))), gg.ShapeError,
     r"grid_sample takes input images A of shape \(m, n_H, n_W, n_C\).*A\[None\]"),
    (lambda: F.grid_sample(A, np.zeros((2, 2, 2, 3))), gg.ShapeError,
     r"grid_sample takes a grid of shape \(m, H_out, W_out, 2\)"),
    (lambda: F.grid_sample(A, np.zeros((1, 2, 2, 2))), gg.ShapeError,
     r"one grid per image: m = 2"),
    (lambda: F.grid_sample(A, np.zeros((2, 2, 2, 2)), mode="bicubic"), gg.ArgumentError,
     r"grid_sample: mode must be \"bilinear\" or \"nearest\".*bicubic is not implemented"),
    (lambda: F.grid_sample(A, np.zeros((2, 2, 2, 2)), padding_mode="reflect"),
     gg.ArgumentError, r"grid_sample: padding_mode must be \"zeros\", \"border\" or"),
    (lambda: F.grid_sample(A, np.full((2, 1, 1, 2), np.nan)), gg.ArgumentError,
     r"grid_sample: grid .* holds nan at \(0, 0, 0, 0\)"),
    (lambda: F.affine_grid(IDENTITY, (2, 4, 5)), gg.ArgumentError,
     r"affine_grid: size must be the output's shape \(m, n_H, n_W, n_C\)"),
    (lambda: F.affine_grid(IDENTITY[0], (1, 4, 5, 3)), gg.ShapeError,
     r"affine_grid takes theta of shape \(m, 2, 3\).*theta\[None\]"),
    (lambda: F.affine_grid(IDENTITY, (3, 4, 5, 3)), gg.ShapeError,
     r"size's m is 3: give as many maps as images"),
])
def test_refusals_name_the_function_and_say_what_to_do(call, error, message):
    with pytest.raises(error, match=message):
        call()
