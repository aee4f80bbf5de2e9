"""numpy's other NaN functions (nanmax, nanmin, nanprod, nanvar, nanstd, nancumsum,
nancumprod, nanmedian, nanquantile, nanpercentile), numpy 2's cumulative_sum and
cumulative_prod, matrix_transpose, unstack, block, broadcast_arrays, meshgrid, trapezoid,
ediff1d, gradient, fabs, real and conj as graphgrad ops, and numpy's functions of indices,
counts and truths as constants. Their rows in tests/op_table.py check the values against numpy
and the gradients against finite differences; here what those cannot reach: slices of NaNs
only (NaN, no gradient, no warning), ties, float32, the constants, and the refusals."""
import warnings

import numpy as np
import pytest

import graphgrad as gg
import viz

T = [[0.3, 0.5, 0.7], [0.2, 0.4, 0.9]]

# Each of these numpy calls was refused on a tensor that requires grad ("numpy.X has no
# graphgrad op"); each now gives numpy's values and a gradient.
DIFFERENTIABLE = {
    "nanmax": lambda t: np.nanmax(t, axis=1), "nanmin": np.nanmin,
    "nanprod": lambda t: np.nanprod(t, 0), "nanvar": lambda t: np.nanvar(t, ddof=1),
    "nanstd": lambda t: np.nanstd(t, axis=0), "nancumsum": lambda t: np.nancumsum(t, 1),
    "nancumprod": np.nancumprod, "nanmedian": lambda t: np.nanmedian(t, axis=1),
    "nanquantile": lambda t: np.nanquantile(t, [0.2, 0.7]),
    "nanpercentile": lambda t: np.nanpercentile(t, 30, axis=0),
    "fabs": np.fabs, "cumulative_sum": lambda t: np.cumulative_sum(t, axis=1),
    "cumulative_prod": lambda t: np.cumulative_prod(t, axis=0, include_initial=True),
    "matrix_transpose": np.matrix_transpose, "unstack": np.unstack,
    "block": lambda t: np.block([[t, t], [t, t]]),
    "broadcast_arrays": lambda t: np.broadcast_arrays(t, t[:1]),
    "meshgrid": lambda t: np.meshgrid(t[0], t[1, :2], indexing="ij"),
    "trapezoid": np.trapezoid, "ediff1d": np.ediff1d, "gradient": np.gradient,
    "real": np.real, "conj": np.conj, "conjugate": np.conjugate,
}


def _parts(value):
    return list(value) if isinstance(value, (tuple, list)) else [value]


@pytest.mark.parametrize("call", DIFFERENTIABLE.values(), ids=DIFFERENTIABLE.keys())
def test_numpy_functions_that_were_refused_give_numpys_values_and_a_gradient(call):
    t = gg.Tensor(T, requires_grad=True, name="t")
    got, want = _parts(call(t)), _parts(call(np.array(T)))
    assert len(got) == len(want)
    for out, expected in zip(got, want):
        assert isinstance(out, gg.Tensor) and out.requires_grad
        assert out.shape == np.shape(expected)
        np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    sum(part.sum() for part in got).backward()
    assert t.grad.shape == (2, 3) and np.isfinite(t.grad).all() and t.grad.any()


def test_fabs_real_and_conj_are_abs_and_the_identity():
    t = gg.Tensor([[-0.5, 2.0]], requires_grad=True)
    assert np.real(t) is t and np.conj(t) is t and np.conjugate(t) is t
    y = np.fabs(t)
    assert type(y.creator).__name__ == "Abs"
    y.sum().backward()
    np.testing.assert_array_equal(t.grad, [[-1.0, 1.0]])
    imaginary = np.imag(t)  # a real tensor's: zeros, a constant
    assert not imaginary.requires_grad
    np.testing.assert_array_equal(imaginary.data, [[0.0, 0.0]])


def test_tensors_hold_no_complex_numbers_so_conj_has_none_to_conjugate():
    with pytest.raises(gg.GraphgradTypeError, match="complex128"):
        gg.Tensor(np.array([1.0 + 2.0j]), requires_grad=True)


# -- NaNs ---------------------------------------------------------------------------------------
X = np.array([[0.3, np.nan, 0.7, 0.1],
              [np.nan, np.nan, np.nan, np.nan],
              [0.2, 0.2, np.nan, 0.9]])
ALL_NAN_ROW = {  # gg's function, numpy's, the settings: row 1 is NaN in numpy's result
    "nanmax": (gg.nanmax, np.nanmax, {}),
    "nanmin": (gg.nanmin, np.nanmin, {"keepdims": True}),
    "nanvar": (gg.nanvar, np.nanvar, {}),
    "nanstd": (gg.nanstd, np.nanstd, {"ddof": 1}),
    "nanmedian": (gg.nanmedian, np.nanmedian, {}),
    "nanquantile": (lambda x, **k: gg.nanquantile(x, [0.25, 1.0], **k),
                    lambda x, **k: np.nanquantile(x, [0.25, 1.0], **k), {}),
    "nanpercentile": (lambda x, **k: gg.nanpercentile(x, 40, **k),
                      lambda x, **k: np.nanpercentile(x, 40, **k), {"keepdims": True}),
}


@pytest.mark.parametrize("fn, ref, settings", ALL_NAN_ROW.values(), ids=ALL_NAN_ROW.keys())
def test_a_slice_of_nans_only_gives_nan_without_a_warning_and_no_gradient(fn, ref, settings):
    t = gg.Tensor(X, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy warns of the row of NaNs; graphgrad does not
        y = fn(t, axis=1, **settings)
        seed = np.arange(1.0, y.size + 1).reshape(y.shape)
        y.backward(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = ref(X, axis=1, **settings)
    np.testing.assert_allclose(y.data, expected, rtol=1e-12)  # NaN where numpy's is
    assert np.isnan(y.data).sum() == y.size // 3
    assert np.isfinite(t.grad).all()
    np.testing.assert_array_equal(t.grad[1], 0.0)  # the row of NaNs
    np.testing.assert_array_equal(t.grad[np.isnan(X)], 0.0)  # every NaN
    assert t.grad[0].any() and t.grad[2].any()


def test_nanvar_where_the_numbers_are_not_more_than_ddof_is_nan_as_numpys():
    x = np.array([[1.0, np.nan, np.nan], [1.0, 2.0, np.nan]])
    t = gg.Tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = gg.nanvar(t, axis=1, ddof=1)
        y.backward(np.ones(2))
    np.testing.assert_array_equal(y.data, [np.nan, 0.5])
    np.testing.assert_array_equal(t.grad, [[0.0, 0.0, 0.0], [-1.0, 1.0, 0.0]])


@pytest.mark.parametrize("op, root", [(gg.nanvar, False), (gg.nanstd, True)])
def test_nanvar_and_nanstd_are_one_node_whose_gradient_is_the_numbers_distances(op, root):
    """d nanvar / dx = 2 (x - mean) / (count - ddof) at the numbers, 0 at the NaNs (nanstd:
    (x - mean) / ((count - ddof) y)): one node, where the mean, the distances and their
    squares made eight."""
    x = np.array([[1.0, np.nan, 4.0, 7.0], [2.0, 3.0, np.nan, np.nan]])
    t = gg.Tensor(x, requires_grad=True)
    y = op(t, axis=1, ddof=1)
    assert len(y.creator.inputs) == 1 and y.creator.inputs[0] is t
    np.testing.assert_array_equal(y.data, (np.nanstd if root else np.nanvar)(x, axis=1, ddof=1))
    y.backward(np.array([1.0, 2.0]))
    centred = np.array([[-3.0, 0.0, 0.0, 3.0], [-0.5, 0.5, 0.0, 0.0]])
    scale = np.array([[1.0 / 2], [2.0 / 1]]) * (1 / y.data[:, None] if root else 2)
    np.testing.assert_allclose(t.grad, centred * scale, atol=1e-15)


def test_nanvar_nanstd_and_unstack_nodes_show_the_settings_as_written():
    """Their nodes hold axis and ddof as the call gave them, as Var's and Sum's do (and
    graph pictures draw them so): axis=-1 was drawn as axis=(1,), ddof=1 as 1.0, and
    unstack's axis=-1 as axis=1. The gradients are as before."""
    x = np.array([[1.0, np.nan, 4.0], [2.0, 3.0, 5.0]])
    for op in (gg.nanvar, gg.nanstd):
        t = gg.Tensor(x, requires_grad=True)
        y = op(t, axis=-1, ddof=1)
        assert dict(y.creator.attrs) == {"axis": -1, "keepdims": False, "ddof": 1}
        assert "axis=-1" in repr(y.creator) and "ddof=1)" in repr(y.creator)
        np.testing.assert_array_equal(y.data, getattr(np, op.__name__)(x, axis=-1, ddof=1))
        y.sum().backward()
        scale = 2 / np.array([[1.0], [2.0]]) if op is gg.nanvar else 1 / (
            np.array([[1.0], [2.0]]) * y.data[:, None])
        np.testing.assert_allclose(t.grad, [[-1.5, 0.0, 1.5], [-4 / 3, -1 / 3, 5 / 3]] * scale)
        z = op(gg.Tensor(x, requires_grad=True), axis=(0, -1), keepdims=True)
        assert z.creator.attrs["axis"] == (0, -1) and z.shape == (1, 1)
    t = gg.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    parts = gg.unstack(t, axis=-1)
    assert dict(parts[0].creator.attrs) == {"axis": -1}
    (parts[0] * 2 + parts[2]).sum().backward()
    np.testing.assert_array_equal(t.grad, [[2.0, 0.0, 1.0], [2.0, 0.0, 1.0]])
    assert gg.gradgradcheck(lambda a: gg.unstack(a, axis=-2)[1] ** 3, [np.ones((2, 2, 3))])


def test_nanprod_nancumsum_and_nancumprod_count_the_nans_as_1_0_and_1():
    t = gg.Tensor(X, requires_grad=True)
    prod = gg.nanprod(t, axis=1)
    np.testing.assert_allclose(prod.data, [0.3 * 0.7 * 0.1, 1.0, 0.2 * 0.2 * 0.9])
    prod.sum().backward()
    np.testing.assert_allclose(t.grad[0], [0.07, 0.0, 0.03, 0.21])
    np.testing.assert_array_equal(t.grad[1], 0.0)
    t = gg.Tensor(X, requires_grad=True)
    running = gg.nancumsum(t, axis=1)
    np.testing.assert_allclose(running.data, np.nancumsum(X, axis=1))
    running.sum().backward()
    np.testing.assert_array_equal(t.grad[0], [4.0, 0.0, 2.0, 1.0])
    t = gg.Tensor(X, requires_grad=True)
    product = np.nancumprod(t, axis=1)
    np.testing.assert_allclose(product.data, np.nancumprod(X, axis=1))
    product[:, -1].sum().backward()
    np.testing.assert_allclose(t.grad[2], [0.18, 0.18, 0.0, 0.04])


def test_nanmax_ties_share_the_gradient_as_max_does_and_infinities_count():
    t = gg.Tensor([[2.0, np.nan, 2.0, -1.0], [-np.inf, np.nan, -np.inf, np.nan]],
                  requires_grad=True)
    y = gg.nanmax(t, axis=1)
    np.testing.assert_array_equal(y.data, [2.0, -np.inf])
    y.backward(np.array([1.0, 1.0]))
    np.testing.assert_array_equal(t.grad, [[0.5, 0.0, 0.5, 0.0], [0.5, 0.0, 0.5, 0.0]])


def test_nanstd_of_equal_numbers_has_numpys_value_and_a_zero_gradient():
    x = np.array([[0.1, 0.1, np.nan, 0.1], [0.1, 0.3, 0.2, np.nan]])
    t = gg.Tensor(x, requires_grad=True)
    y = gg.nanstd(t, axis=1)
    np.testing.assert_array_equal(y.data, np.nanstd(x, axis=1))
    y.sum().backward()
    np.testing.assert_array_equal(t.grad[0], 0.0)
    assert np.isfinite(t.grad).all() and t.grad[1].any()


@pytest.mark.parametrize("op", [gg.nanvar, gg.nanstd])
@pytest.mark.parametrize("shape, axis", [((0,), None), ((2, 0), 1), ((2, 0), -1), ((2, 0), 0)])
def test_nanvar_and_nanstd_of_empty_slices_are_nan_as_numpys(op, shape, axis):
    """A slice with no numbers at all is NaN with no gradient, as one of NaNs only: nanstd
    looked for the slices' largest and smallest numbers (its kink) with no identity for an
    empty slice, and raised numpy's 'zero-size array to reduction operation maximum'."""
    t = gg.Tensor(np.zeros(shape), requires_grad=True)
    y = op(t, axis=axis)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = getattr(np, op.__name__)(np.zeros(shape), axis=axis)
    np.testing.assert_array_equal(y.data, expected)
    y.backward(np.ones(y.shape))
    assert t.grad.shape == shape


@pytest.mark.parametrize("op", [gg.nanvar, gg.nanstd])
@pytest.mark.parametrize("values", [[True, False, True], [[True, False], [True, True]],
                                    np.array([3, 0, 1], np.int8), np.array([3, 0, 1], np.uint8)])
def test_nanvar_and_nanstd_of_bools_and_ints_are_numpys(op, values):
    """Masks and counts are numbers: the count of a slice was taken in x's dtype, True for
    a mask, so its mean was the sum of the mask (gg.nanvar([True, False, True]) was 2.0,
    numpy's 0.222)."""
    x = np.array(values)
    for axis in (None, -1):
        y = op(gg.Tensor(x), axis=axis, ddof=1)
        expected = getattr(np, op.__name__)(x, axis=axis, ddof=1)
        np.testing.assert_allclose(y.data, expected, rtol=1e-15)
        assert y.dtype == expected.dtype


@pytest.mark.parametrize("op, whole", [(gg.nanvar, gg.var), (gg.nanstd, gg.std)])
def test_second_derivatives_of_nanvar_and_nanstd_past_nan_and_equal_slices_are_quiet(op, whole):
    """A slice with no more numbers than ddof (NaN) or with equal numbers (nanstd's kink)
    has no gradient, nor a second derivative: nanstd's backward divided by inf there, so
    the second derivative multiplied that inf by 0 and numpy warned 'invalid value
    encountered in multiply' (an error under warnings as errors). The other rows' are
    those of the slice alone."""
    x = np.array([[1.0, 2.0, 4.0, 8.0], [3.0, np.nan, np.nan, np.nan], [2.0, 2.0, np.nan, 2.0]])
    t = gg.Tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = op(t, axis=1, ddof=1)
        (g,) = gg.grad(gg.nansum(y * np.array([1.0, 1.0, 0.0])), [t], create_graph=True)
        (h,) = gg.grad((g * g).sum(), [t])
    row = gg.Tensor(x[0], requires_grad=True)
    (g0,) = gg.grad(whole(row, ddof=1), [row], create_graph=True)
    (h0,) = gg.grad((g0 * g0).sum(), [row])
    np.testing.assert_allclose(g.data[0], g0.data, rtol=1e-13)
    np.testing.assert_allclose(h[0], h0, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(g.data[1:], 0.0)
    np.testing.assert_array_equal(h[1:], 0.0)


NAN_FLOAT32 = [
    lambda t: np.nanmax(t, axis=0), lambda t: np.nanprod(t), lambda t: np.nanvar(t, axis=1),
    lambda t: np.nanstd(t, ddof=1), lambda t: np.nancumsum(t), lambda t: np.nancumprod(t, 1),
    lambda t: np.nanmedian(t, axis=1), lambda t: np.nanquantile(t, [0.1, 0.9]),
    lambda t: np.cumulative_sum(t, axis=0, include_initial=True), lambda t: np.trapezoid(t),
    lambda t: np.gradient(t, axis=1), lambda t: np.gradient(t, [0.0, 1.0, 3.0, 3.5], axis=1),
    lambda t: np.ediff1d(t, to_end=2.0), lambda t: np.meshgrid(t[0], t[1])[1],
]


@pytest.mark.parametrize("call", NAN_FLOAT32)
def test_float32_stays_float32_as_in_numpy(call):
    x = np.array([[1.0, np.nan, 2.5, 4.0], [3.0, 5.0, -1.0, 0.5]], np.float32)
    if call not in NAN_FLOAT32[:8]:
        x = np.nan_to_num(x)
    t = gg.Tensor(x, requires_grad=True)
    y = call(t)
    expected = call(x)
    assert y.dtype == np.float32  # numpy's nanquantile of a list of q gives float64
    np.testing.assert_allclose(y.data, expected, rtol=1e-6)
    y.sum().backward()
    assert t.grad.dtype == np.float32


# -- the others ---------------------------------------------------------------------------------
def test_cumulative_sum_and_prod_put_the_start_in_front_with_include_initial():
    t = gg.Tensor([2.0, 3.0, 4.0], requires_grad=True)
    y = np.cumulative_prod(t, include_initial=True)
    np.testing.assert_array_equal(y.data, [1.0, 2.0, 6.0, 24.0])
    y.sum().backward()
    np.testing.assert_array_equal(t.grad, [1 + 3 + 12, 2 + 8, 6])
    z = gg.cumulative_sum(gg.Tensor(5.0), include_initial=True)  # a number: one element
    np.testing.assert_array_equal(z.data, np.cumulative_sum(np.float64(5.0),
                                                            include_initial=True))


def test_gradient_of_samples_of_a_parabola_is_its_slope_inside():
    x = np.linspace(0.0, 2.0, 5)
    f = gg.Tensor(x ** 2, requires_grad=True)
    slope = gg.gradient(f, 0.5)
    np.testing.assert_allclose(slope.data[1:-1], 2 * x[1:-1])  # central differences: exact
    np.testing.assert_allclose(gg.gradient(f, 0.5, edge_order=2).data, 2 * x)
    # linear in f: its backward is the transpose of the matrix of differences
    seed = np.arange(1.0, 6.0)
    slope.backward(seed)
    matrix = np.array([np.gradient(e, 0.5) for e in np.eye(5)]).T
    np.testing.assert_allclose(f.grad, matrix.T @ seed)


@pytest.mark.parametrize("spacing, edge_order", [
    ((), 1), ((0.5,), 2), (([0.0, 1.0, 3.0, 3.5, 5.0],), 1), (([0.0, 1.0, 3.0, 3.5, 5.0],), 2),
    (([0.0, 2.0],), 1),
])
def test_gradient_along_an_axis_is_one_op_with_numpys_values_and_its_adjoint(spacing,
                                                                                edge_order):
    """One node (numpy's np.gradient forward, the transposed stencil back), where a dozen
    slices, products and a join each made and scattered arrays the size of f (3.4 times
    numpy's time by hand at 64 x 64, now 1.7). Linear: its second derivative is the op
    again."""
    n = len(spacing[0]) if spacing and np.ndim(spacing[0]) else 5
    if n < edge_order + 1:
        pytest.skip("too few samples")
    rng = np.random.default_rng(n + edge_order)
    f = rng.standard_normal((3, n))
    t = gg.Tensor(f, requires_grad=True)
    y = np.gradient(t, *spacing, axis=1, edge_order=edge_order)
    assert type(y.creator).__name__ == "Gradient" and y.creator.inputs == (t,)
    np.testing.assert_array_equal(y.data, np.gradient(f, *spacing, axis=1,
                                                      edge_order=edge_order))
    seed = rng.standard_normal(y.shape)
    y.backward(seed)
    stencil = np.array([np.gradient(e, *spacing, edge_order=edge_order) for e in np.eye(n)])
    np.testing.assert_allclose(t.grad, seed @ stencil.T, rtol=1e-12, atol=1e-12)
    assert gg.gradgradcheck(lambda x: np.gradient(x, *spacing, axis=1, edge_order=edge_order)
                            ** 2, [f])
    f32 = gg.Tensor(f.astype(np.float32), requires_grad=True)
    np.gradient(f32, *spacing, axis=1, edge_order=edge_order).sum().backward()
    assert f32.grad.dtype == np.float32


def test_gradient_nodes_show_the_settings_given_not_the_stencils_steps():
    """The Gradient node (and GradientAdjoint, its backward under create_graph=True) holds
    the axis, the spacing as given (a number or the coordinates) and edge_order: the
    stencil's steps between the coordinates, an array of n - 1 made from them, were a
    setting of their own, drawn in graph pictures as step=<float64 array (4,)> beside
    spacing=<float64 array (5,)>."""
    t = gg.Tensor(np.arange(10.0).reshape(2, 5) ** 2, requires_grad=True)
    y = np.gradient(t, [0.0, 1.0, 3.0, 3.5, 5.0], axis=1)
    assert set(y.creator.attrs) == {"axis", "spacing", "edge_order"}
    np.testing.assert_array_equal(y.creator.attrs["spacing"], [0.0, 1.0, 3.0, 3.5, 5.0])
    assert "step" not in viz.to_dot(y)
    (g,) = gg.grad((y * y).sum(), [t], create_graph=True)
    adjoint = next(node for node in _nodes(g) if type(node).__name__ == "GradientAdjoint")
    assert set(adjoint.attrs) == {"axis", "spacing", "edge_order"}
    assert np.gradient(t, 0.5, axis=0).creator.attrs == {"axis": 0, "spacing": 0.5,
                                                         "edge_order": 1}


def _nodes(t):
    """The nodes of t's graph."""
    seen, todo = [], [t.creator]
    while todo:
        node = todo.pop()
        if node is not None and node not in seen:
            seen.append(node)
            todo.extend(x.creator for x in node.inputs)
    return seen


def test_gradient_along_axes_in_the_order_given_pairs_each_with_its_spacing():
    """np.gradient(f, hx, hy, axis=(1, 0)): the axes in that order, not sorted, as numpy's."""
    f = np.arange(12.0).reshape(3, 4) ** 2
    for call in (lambda t: np.gradient(t, 2.0, 0.5, axis=(1, 0)),
                 lambda t: np.gradient(t, [0.0, 1.0, 3.0, 4.0], 0.5, axis=(-1, 0)),
                 lambda t: np.gradient(t, axis=(1, 0))):
        got, want = call(gg.Tensor(f)), call(f)
        for g, w in zip(got, want, strict=True):
            np.testing.assert_allclose(g.data, w)
    t = gg.Tensor(f, requires_grad=True)
    np.gradient(t, 2.0, 0.5, axis=(1, 0))[0].sum().backward()  # along axis 1, h = 2
    columns = [np.gradient(e, 2.0, axis=1).sum() for e in np.eye(12).reshape(12, 3, 4)]
    np.testing.assert_allclose(t.grad, np.reshape(columns, (3, 4)))


def test_trapezoid_gives_coordinates_their_gradient_too():
    y = gg.Tensor([1.0, 2.0, 4.0], requires_grad=True)
    x = gg.Tensor([0.0, 1.0, 3.0], requires_grad=True)
    area = gg.trapezoid(y, x)
    assert area.item() == np.trapezoid([1.0, 2.0, 4.0], [0.0, 1.0, 3.0]) == 7.5
    area.backward()
    np.testing.assert_allclose(y.grad, [0.5, 1.5, 1.0])
    np.testing.assert_allclose(x.grad, [-1.5, -1.5, 3.0])


def test_unstack_is_one_node_whose_gradient_stacks_the_slices_back():
    t = gg.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    first, second, third = np.unstack(t, axis=1)
    assert type(first.creator).__name__ == "Unstack"
    assert first.creator is third.creator and first.creator.inputs == (t,)
    (first * 2 + third).sum().backward()
    np.testing.assert_array_equal(t.grad, [[2.0, 0.0, 1.0], [2.0, 0.0, 1.0]])
    assert gg.unstack(gg.Tensor(np.ones((0, 2)))) == ()


def test_meshgrid_xy_swaps_the_first_two_axes_and_its_gradient_sums_the_grid():
    x = gg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = gg.Tensor([10.0, 20.0], requires_grad=True)
    X, Y = np.meshgrid(x, y)
    assert X.shape == Y.shape == (2, 3)
    (X * Y).sum().backward()
    np.testing.assert_array_equal(x.grad, [30.0, 30.0, 30.0])
    np.testing.assert_array_equal(y.grad, [6.0, 6.0])


# numpy's functions of indices, counts and truths: constants (as np.argmax gives), numpy's values
CONSTANTS = {
    "argwhere": lambda t: np.argwhere(t > 0.4), "flatnonzero": np.flatnonzero,
    "lexsort": np.lexsort, "lexsort_tuple": lambda t: np.lexsort((t[0], t[1])),
    # a tensor made from ints holds floats: whole ones count as ints, as in t[index]
    "bincount": lambda t: np.bincount(gg.Tensor([0.0, 2.0, 2.0]) if isinstance(t, gg.Tensor)
                                      else np.array([0, 2, 2]), minlength=4),
    "bincount_of_a_tensor_weighted": lambda t: np.bincount(
        np.round(t[0] * 10) - 2 if isinstance(t, gg.Tensor) else np.array([1, 3, 5]),
        weights=np.array([0.5, 1.0, 2.0])),
    "unique": lambda t: np.unique(t, return_index=True, return_inverse=True,
                                  return_counts=True),
    "unique_values": np.unique_values, "unique_counts": np.unique_counts,
    "unique_inverse": np.unique_inverse, "unique_all": np.unique_all,
    "histogram": lambda t: np.histogram(t, bins=3), "histogram_weights":
        lambda t: np.histogram(t, bins=2, weights=t.data if isinstance(t, gg.Tensor) else t),
    "histogram_bin_edges": lambda t: np.histogram_bin_edges(t, bins=4),
    "signbit": lambda t: np.signbit(t - 0.5), "isneginf": lambda t: np.isneginf(-t / 0.0),
    "isposinf": np.isposinf, "nanargmax": lambda t: np.nanargmax(t, axis=1),
    "nanargmin": np.nanargmin, "isreal": np.isreal, "iscomplex": np.iscomplex,
    "where_one_argument": lambda t: np.where(t > 0.45), "where_of_a_tensor": np.where,
    "imag": np.imag,
}


@pytest.mark.parametrize("call", CONSTANTS.values(), ids=CONSTANTS.keys())
def test_indices_counts_and_truths_are_constants_with_numpys_values(call):
    t = gg.Tensor(T, requires_grad=True)
    with np.errstate(divide="ignore"):
        got, want = call(t), call(np.array(T))
    if hasattr(want, "_fields"):  # unique_all's named tuple keeps its names
        assert got._fields == want._fields
    got, want = _parts(got), _parts(want)
    assert len(got) == len(want)
    for out, expected in zip(got, want):
        assert isinstance(out, gg.Tensor) and not out.requires_grad
        assert out.dtype == np.asarray(expected).dtype
        np.testing.assert_array_equal(out.data, expected)


@pytest.mark.parametrize("count", [np.bincount, np.histogram])
def test_counts_weighted_by_a_tensor_that_requires_grad_are_refused_by_name(count):
    weights = gg.Tensor([1.0, 2.0, 3.0], requires_grad=True, name="w")
    with pytest.raises(gg.GraphgradTypeError, match=rf"numpy\.{count.__name__}\(\.\.\., "
                       r"weights=\.\.\.\) has no graphgrad op.*'w' \(3,\)"):
        count(np.array([0, 1, 1]), weights=weights)


@pytest.mark.parametrize("call, message", [
    (lambda: gg.nanmax(np.ones((2, 0)), axis=1), r"^nanmax of .*axis 1 has length 0"),
    (lambda: gg.nanvar(np.ones((2, 3)), ddof=-1), r"^nanvar: ddof must be a number of at "
     r"least 0"),
    (lambda: gg.nanstd(np.ones((2, 3)), axis=2), r"^nanstd of .*axis 2 is not one of its 2"),
    (lambda: gg.nancumsum(np.ones((2, 3)), axis=2), r"^nancumsum: axis 2 is out of range"),
    (lambda: gg.nanquantile(np.ones(3), 1.5), r"^nanquantile: q must be from 0 to 1"),
    (lambda: gg.cumulative_sum(np.ones((2, 3))), r"^cumulative_sum of .*axis=None is for a "
     r"vector only"),
    (lambda: gg.cumulative_prod(np.ones(3), include_initial=1), r"^cumulative_prod: "
     r"include_initial must be True or False"),
    (lambda: gg.matrix_transpose(np.ones(3)), r"^matrix_transpose of .*2 dimensions or more"),
    (lambda: gg.unstack(np.float64(1.0)), r"^unstack of .*a number has no axis"),
    (lambda: gg.block([[np.ones(2)], np.ones(2)]), r"^block: the lists in arrays\[\] are "
     r"nested to \[0, 1\] levels"),
    (lambda: gg.block([[]]), r"^block: arrays\[0\] is an empty list"),
    (lambda: gg.broadcast_arrays(np.ones(2), np.ones(3)), r"^broadcast_arrays of shapes "
     r"\[\(2,\), \(3,\)\]: they do not broadcast"),
    (lambda: gg.meshgrid(np.ones(2), indexing="xyz"), r"^meshgrid: indexing must be 'xy' or "
     r"'ij'"),
    (lambda: gg.gradient(np.ones(2), edge_order=2), r"^gradient of .*axis 0 has 2 elements, "
     r"and differences of edge_order 2 need 3"),
    (lambda: gg.gradient(np.ones((3, 3)), 1.0, 2.0, 3.0), r"^gradient: 3 spacings for 2 axes"),
    (lambda: gg.gradient(np.ones(3), [0.0, 1.0]), r"^gradient: the spacing along axis 0 .*"
     r"the 3 coordinates"),
    (lambda: gg.gradient(np.ones(3), gg.Tensor(1.0, requires_grad=True)), r"^gradient: the "
     r"spacing .* requires grad"),
    (lambda: gg.trapezoid(np.ones((2, 3)), np.ones(2)), r"^trapezoid of .*x has 2 coordinates "
     r"for the 3 samples"),
    (lambda: gg.ediff1d(np.ones(3, int), to_begin=0.5), r"^ediff1d: to_begin holds floats"),
    (lambda: np.where(gg.Tensor([1.0, 0.0], requires_grad=True), 1.0), r"numpy\.where takes "
     r"a condition alone, or a condition, x and y"),
])
def test_bad_arguments_are_refused_naming_the_function(call, message):
    with pytest.raises(gg.GraphgradError, match=message):
        call()


def test_numpys_settings_without_a_graphgrad_form_are_refused_by_name():
    t = gg.Tensor(T, requires_grad=True, name="t")
    with pytest.raises(gg.GraphgradTypeError, match=r"numpy\.nanmax\(\.\.\., initial=\.\.\., "
                       r"where=\.\.\.\) has no graphgrad op.*'t' \(2, 3\)"):
        np.nanmax(t, where=np.array(T) > 0.3, initial=0.0)
    with pytest.raises(gg.GraphgradTypeError, match=r"numpy\.nanquantile\(\.\.\., method="):
        np.nanquantile(t, 0.5, method="nearest")
    # an integer dtype: numpy's count, with no gradient, as for np.cumsum
    running = np.nancumsum(t, dtype=np.int64)
    assert running.dtype == np.int64 and not running.requires_grad
