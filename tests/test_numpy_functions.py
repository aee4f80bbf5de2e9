"""numpy's cumprod, nansum, nanmean, nan_to_num, ptp, deg2rad/rad2deg, sinc, vdot, cov and
corrcoef as graphgrad ops (their rows in tests/op_table.py check the values against numpy and
the gradients against finite differences): here the places finite differences cannot reach
or do not single out. cumprod's gradient where x holds zeros, against the sum of products that
defines it; the NaN functions' gradient of 0 at the NaNs, and a slice of NaNs only; the
infinities nan_to_num replaces; sinc at 0 and around it; numpy's calls on tensors; float32."""
import math
import warnings

import numpy as np
import pytest

import graphgrad as gg


def cumprod_gradient(x: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """dJ/dx of J = sum(dy * cumprod(x)) for a 1-D x, by its definition: dx_k is the sum over
    i >= k of dy_i times the product of x_0 .. x_i but x_k (no division anywhere)."""
    n = len(x)
    return np.array([sum(dy[i] * math.prod(x[j] for j in range(i + 1) if j != k)
                         for i in range(k, n)) for k in range(n)])


ZEROS = {
    "one_inside": [1.5, -2.0, 0.0, 3.0, 0.5],
    "one_first": [0.0, 2.0, -1.5, 3.0],
    "one_last": [2.0, -1.5, 3.0, 0.0],
    "two_apart": [2.0, 0.0, 1.5, 0.0, -3.0],
    "two_adjacent": [1.5, 0.0, 0.0, 2.0],
    "at_both_ends": [0.0, 2.0, 3.0, 0.0],
    "all": [0.0, 0.0, 0.0],
    "one_element": [0.0],
}


@pytest.mark.parametrize("values", ZEROS.values(), ids=ZEROS.keys())
def test_cumprod_gradient_where_x_holds_zeros_is_the_sum_of_products(values):
    x = np.array(values)
    dy = np.random.default_rng(0).standard_normal(x.shape)
    t = gg.Tensor(x, requires_grad=True)
    y = gg.cumprod(t)
    y.backward(dy)
    np.testing.assert_array_equal(y.data, np.cumprod(x))
    np.testing.assert_allclose(t.grad, cumprod_gradient(x, dy), rtol=1e-14, atol=1e-15)
    assert np.all(np.isfinite(t.grad))


def test_cumprod_gradient_with_zeros_along_an_axis_of_a_matrix_and_its_second_order():
    x = np.array([[0.0, 2.0, 1.5], [3.0, 0.0, 0.0], [2.0, -1.0, 0.5], [0.0, 0.0, 0.0]]).T
    dy = np.random.default_rng(1).standard_normal(x.shape)
    t = gg.Tensor(x, requires_grad=True)
    gg.cumprod(t, axis=0).backward(dy)
    for j in range(x.shape[1]):
        np.testing.assert_allclose(t.grad[:, j], cumprod_gradient(x[:, j], dy[:, j]),
                                   rtol=1e-14, atol=1e-15)
    assert gg.gradgradcheck(lambda a: gg.cumprod(a, axis=0), [gg.Tensor(x, requires_grad=True)])


def test_cumprod_gradient_where_the_product_underflows_is_not_lost():
    """y / x would give 0 / 1e-200 = 0 for the first element's share of y_2, which is
    x_1 x_2 = 5e-200: products alone keep it."""
    x = np.array([1e-200, 1e-200, 5.0])
    t = gg.Tensor(x, requires_grad=True)
    y = gg.cumprod(t)
    assert y.data[1] == 0.0  # underflowed
    y.backward(np.array([0.0, 0.0, 1.0]))
    np.testing.assert_allclose(t.grad, [5e-200, 5e-200, 0.0], rtol=1e-15)


def test_cumprod_last_element_has_prods_gradient():
    x = np.array([[1.5, 0.0, -2.0, 0.5], [1.0, 2.0, 3.0, -0.5]])
    a, b = gg.Tensor(x, requires_grad=True), gg.Tensor(x, requires_grad=True)
    gg.cumprod(a, axis=1)[:, -1].sum().backward()
    gg.prod(b, axis=1).sum().backward()
    np.testing.assert_allclose(a.grad, b.grad, rtol=1e-15)


WITH_NANS = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, np.nan], [2.0, -4.0, np.nan]])


def test_nansum_and_nanmean_leave_the_nans_out_and_give_them_no_gradient():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's nanmean warns of the row of NaNs; ours not
        t = gg.Tensor(WITH_NANS, requires_grad=True)
        total = gg.nansum(t, axis=1)
        np.testing.assert_array_equal(total.data, [4.0, 0.0, -2.0])
        total.backward(np.array([1.0, 2.0, 3.0]))
        np.testing.assert_array_equal(t.grad, [[1, 0, 1], [0, 0, 0], [3, 3, 0]])
        t = gg.Tensor(WITH_NANS, requires_grad=True)
        mean = gg.nanmean(t, axis=1)
        np.testing.assert_array_equal(mean.data, [2.0, np.nan, -1.0])
        mean.backward(np.array([1.0, 2.0, 3.0]))
        np.testing.assert_array_equal(t.grad, [[0.5, 0, 0.5], [0, 0, 0], [1.5, 1.5, 0]])


@pytest.mark.parametrize("axis", [None, 0])
def test_nanmean_of_many_float16_values_is_their_mean_as_gg_mean_gives(axis):
    """Their sum passes float16's largest number, 65504, long before their mean does: it was
    inf, and the mean inf / inf = NaN (numpy's own nanmean gives inf there)."""
    x = np.full((70_000, 2), 0.5, np.float16)
    x[0, 0] = np.nan
    t = gg.Tensor(x, requires_grad=True)
    mean = gg.nanmean(t, axis=axis)
    assert mean.dtype == np.float16
    np.testing.assert_array_equal(mean.data, np.full(mean.shape, 0.5, np.float16))
    mean.sum().backward()
    assert t.grad.dtype == np.float16
    share = np.float16(1 / (x.size - 1)) if axis is None else np.float16(1 / 69_999)
    assert t.grad[0, 0] == 0 and t.grad[1, 0] == share


@pytest.mark.parametrize("fn", [gg.cov, gg.corrcoef])
def test_cov_and_corrcoef_of_many_float16_observations_are_numpys_rounded(fn):
    """The sums of products of 70,000 observations pass float16's largest number, 65504,
    long before the covariances do: the variances were inf, the correlations NaN."""
    x = np.random.default_rng(0).standard_normal((2, 70_000)).astype(np.float16)
    t = gg.Tensor(x, requires_grad=True)
    c = fn(t)
    assert c.dtype == np.float16
    np.testing.assert_allclose(c.data, getattr(np, fn.__name__)(x), rtol=2e-3, atol=2e-3)
    c.sum().backward()
    assert t.grad.dtype == np.float16 and np.isfinite(t.grad).all()


@pytest.mark.parametrize("fn", [gg.nansum, gg.nanmean, np.nansum, np.nanmean])
def test_the_nan_reductions_over_all_axes_and_in_float32(fn):
    x = WITH_NANS.astype(np.float32)
    t = gg.Tensor(x, requires_grad=True)
    y = fn(t)
    assert y.dtype == np.float32
    kept = ~np.isnan(x)
    want = x[kept].sum() / (kept.sum() if "mean" in fn.__name__ else 1)
    np.testing.assert_allclose(y.data, want, rtol=1e-6)
    y.backward()
    assert t.grad.dtype == np.float32
    share = 1.0 / kept.sum() if "mean" in fn.__name__ else 1.0
    np.testing.assert_allclose(t.grad, np.where(kept, share, 0.0), rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_nan_to_num_replaces_as_numpy_and_its_gradient_is_0_where_it_did(dtype):
    x = np.array([np.nan, np.inf, -np.inf, 1.5, -2.0], dtype)
    t = gg.Tensor(x, requires_grad=True)
    y = gg.nan_to_num(t)
    assert y.dtype == dtype
    np.testing.assert_array_equal(y.data, np.nan_to_num(x))
    assert y.data[1] == np.finfo(dtype).max and y.data[2] == np.finfo(dtype).min
    y.backward(np.full(5, 2.0, dtype))
    np.testing.assert_array_equal(t.grad, [0, 0, 0, 2, 2])
    settings = gg.nan_to_num(t, nan=-1.0, posinf=7.0, neginf=-7.0)
    np.testing.assert_array_equal(settings.data, [-1, 7, -7, 1.5, -2])
    np.testing.assert_array_equal(np.nan_to_num(t, nan=-1.0, posinf=7.0, neginf=-7.0).data,
                                  settings.data)


def test_ptp_ties_share_the_gradient_as_max_and_min_do():
    t = gg.Tensor(np.array([[3.0, 1.0, 3.0, 1.0], [2.0, 2.0, 2.0, 2.0]]), requires_grad=True)
    y = gg.ptp(t, axis=1)
    np.testing.assert_array_equal(y.data, [2.0, 0.0])
    y.backward(np.array([1.0, 5.0]))
    np.testing.assert_array_equal(t.grad, [[0.5, -0.5, 0.5, -0.5], [0, 0, 0, 0]])


def test_ptp_over_an_empty_axis_is_refused_in_its_own_name():
    x = gg.Tensor(np.ones((2, 0)), name="x")
    with pytest.raises(ValueError):  # numpy refuses it too
        np.ptp(x.data, axis=1)
    with pytest.raises(gg.ArgumentError, match=r"^ptp of 'x' \(2, 0\) float64: axis 1 has "
                       r"length 0, and the range of no numbers has no value"):
        gg.ptp(x, axis=1)
    assert gg.ptp(x, axis=0).shape == (0,)  # over the axis of length 2: no slices, no values


def sinc_derivative(x: float) -> float:
    """d/dx sin(pi x) / (pi x) by its Taylor series in t = pi x (40 terms), for |t| < 3."""
    t = math.pi * x
    return math.pi * sum((-1) ** k * 2 * k * t ** (2 * k - 1) / math.factorial(2 * k + 1)
                         for k in range(1, 40))


def test_sinc_gradient_is_0_at_0_and_keeps_its_digits_around_it():
    xs = np.concatenate([[0.0], np.logspace(-12, -0.1, 60), -np.logspace(-10, -0.5, 40)])
    t = gg.Tensor(xs, requires_grad=True)
    y = gg.sinc(t)
    np.testing.assert_array_equal(y.data, np.sinc(xs))
    y.backward(np.ones_like(xs))
    assert t.grad[0] == 0.0
    want = np.array([sinc_derivative(x) for x in xs])
    np.testing.assert_allclose(t.grad, want, rtol=1e-13, atol=1e-300)
    # the second derivative at 0 is the series' -pi**2 / 3, as it is just beside 0
    x = gg.Tensor(np.array([0.0, 1e-9, -1e-9]), requires_grad=True)
    (g,) = gg.grad(gg.sinc(x).sum(), x, create_graph=True)
    (h,) = gg.grad(g.sum(), x)
    np.testing.assert_allclose(h, -np.pi**2 / 3, rtol=1e-12)


def test_sinc_float32_stays_float32_and_is_finite_at_0():
    t = gg.Tensor(np.array([0.0, 1e-3, 0.5], np.float32), requires_grad=True)
    y = gg.sinc(t)
    y.backward(np.ones(3, np.float32))
    assert y.dtype == t.grad.dtype == np.float32
    np.testing.assert_allclose(t.grad, [sinc_derivative(0.0), sinc_derivative(1e-3),
                                        sinc_derivative(0.5)], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("fn, slope", [(gg.deg2rad, np.pi / 180), (gg.radians, np.pi / 180),
                                       (gg.rad2deg, 180 / np.pi), (gg.degrees, 180 / np.pi)])
def test_angles_are_products_by_numpys_constants(fn, slope):
    for dtype in (np.float64, np.float32):
        t = gg.Tensor(np.array([-90.0, 0.0, 45.0, 360.0], dtype), requires_grad=True)
        y = fn(t)
        assert y.dtype == dtype
        np.testing.assert_array_equal(y.data, getattr(np, fn.__name__)(t.data))
        y.sum().backward()
        np.testing.assert_allclose(t.grad, np.full(4, slope, dtype), rtol=1e-7)


def test_cov_and_corrcoef_of_float32_stay_float32():
    x = np.random.default_rng(3).standard_normal((3, 6))
    for fn in (gg.cov, gg.corrcoef, np.cov, np.corrcoef):
        t = gg.Tensor(x.astype(np.float32), requires_grad=True)
        y = fn(t)
        assert y.dtype == np.float32  # numpy's own cov gives float64
        np.testing.assert_allclose(y.data, getattr(np, fn.__name__)(x), rtol=1e-5, atol=1e-6)
        y.sum().backward()
        assert t.grad.dtype == np.float32
    assert gg.cov(x.astype(np.float32), dtype=np.float64).dtype == np.float64


def test_cov_is_one_product_of_the_centred_rows_whose_gradient_is_symmetric():
    """C = Xc Xc^T / (n - 1): dX = (G + G^T) Xc / (n - 1) (the centring adds nothing, Xc's
    rows summing to 0), one product in backward where a matmul of Xc and Xc^T made two."""
    x = np.random.default_rng(4).standard_normal((3, 5))
    t = gg.Tensor(x, requires_grad=True)
    c = gg.cov(t)
    assert type(c.creator).__name__ == "Gram"
    np.testing.assert_array_equal(c.data, np.cov(x))
    G = np.arange(9.0).reshape(3, 3)
    c.backward(G)
    centred = x - x.mean(axis=1, keepdims=True)
    np.testing.assert_allclose(t.grad, (G + G.T) @ centred / 4, atol=1e-14)


def test_corrcoef_is_one_node_on_cov_whose_gradient_goes_through_the_variances_too():
    """R = C / (d d^T), d = sqrt(diag C): dC = G / (d d^T), less (row i's and column i's
    sums of G * R) / (2 C_ii) on the diagonal; then cov's gradient."""
    x = np.random.default_rng(5).standard_normal((3, 6))
    t = gg.Tensor(x, requires_grad=True)
    r = gg.corrcoef(t)
    assert type(r.creator).__name__ == "Correlation"
    np.testing.assert_array_equal(r.data, np.corrcoef(x))
    G = np.arange(9.0).reshape(3, 3) - 4
    r.backward(G)
    centred = x - x.mean(axis=1, keepdims=True)
    C = centred @ centred.T / 5
    d = np.sqrt(np.diag(C))
    R = C / np.outer(d, d)
    dC = G / np.outer(d, d) - np.diag(((G * R).sum(axis=0) + (G * R).sum(axis=1)) / (2 * d * d))
    np.testing.assert_allclose(t.grad, (dC + dC.T) @ centred / 5, atol=1e-13)


def test_corrcoef_of_one_variable_is_1_with_no_gradient():
    t = gg.Tensor(np.array([1.0, 3.0, 2.0, 7.0]), requires_grad=True)
    r = gg.corrcoef(t)
    assert r.shape == () and r.item() == 1.0
    r.backward()
    np.testing.assert_allclose(t.grad, 0.0, atol=1e-15)


# numpy's call on a tensor, the graphgrad function it runs, and the op it ends in
ROUTED = [
    (lambda t: np.cumprod(t, axis=1), lambda t: gg.cumprod(t, axis=1), "Cumprod"),
    (lambda t: t.cumprod(), gg.cumprod, "Cumprod"),
    (lambda t: np.nansum(t, 0, keepdims=True), lambda t: gg.nansum(t, 0, True), "Sum"),
    (lambda t: np.nanmean(t, axis=1), lambda t: gg.nanmean(t, axis=1), "Div"),
    (lambda t: np.nan_to_num(t, posinf=1.0), lambda t: gg.nan_to_num(t, posinf=1.0),
     "NanToNum"),
    (lambda t: np.ptp(t, 0), lambda t: gg.ptp(t, 0), "Sub"),
    (lambda t: np.deg2rad(t), gg.deg2rad, "Mul"),
    (lambda t: np.degrees(t), gg.rad2deg, "Mul"),
    (lambda t: np.sinc(t), gg.sinc, "Sinc"),
    (lambda t: np.vdot(t, t), lambda t: gg.vdot(t, t), "Einsum"),
    (lambda t: np.cov(t, rowvar=False, ddof=0), lambda t: gg.cov(t, rowvar=False, ddof=0),
     "Gram"),
    (lambda t: np.corrcoef(t), gg.corrcoef, "Correlation"),
]


@pytest.mark.parametrize("call, function, op", ROUTED, ids=[op for _, _, op in ROUTED])
def test_numpys_call_on_a_tensor_gives_the_graphgrad_result(call, function, op):
    x = np.array([[1.0, np.nan, -2.0, 0.5], [3.0, 0.25, np.inf, -1.0], [0.0, 2.0, 1.5, 4.0]])
    if op not in ("Sum", "Div", "NanToNum"):  # the NaN functions take the NaNs
        x = np.nan_to_num(x, posinf=5.0)
    a, b = gg.Tensor(x, requires_grad=True), gg.Tensor(x, requires_grad=True)
    got, want = call(a), function(b)
    assert type(got.creator).__name__ == op
    np.testing.assert_array_equal(got.data, want.data)
    seed = np.random.default_rng(4).standard_normal(got.shape)
    got.backward(seed)
    want.backward(seed)
    np.testing.assert_array_equal(a.grad, b.grad)


def test_numpys_settings_without_a_graphgrad_form_are_refused_by_name():
    t = gg.Tensor(np.ones((2, 3)), requires_grad=True, name="t")
    with pytest.raises(gg.GraphgradTypeError, match=r"numpy\.cov\(\.\.\., fweights=\.\.\.\) "
                       r"has no graphgrad op.*'t' \(2, 3\)"):
        np.cov(t, fweights=[1, 2, 1])
    with pytest.raises(gg.GraphgradTypeError, match=r"numpy\.nan_to_num would write into a "
                       r"Tensor's data"):
        np.nan_to_num(t, copy=False)
    # an integer dtype: numpy's count, with no gradient, as for np.sum
    total = np.nansum(t, dtype=np.int64)
    assert total.dtype == np.int64 and not total.requires_grad and total.item() == 6


@pytest.mark.parametrize("call, message", [
    (lambda: gg.cov(np.ones((2, 2, 2))), r"^cov of .*\(2, 2, 2\).* m has 3 dimensions"),
    (lambda: gg.cov(np.ones((2, 1))), r"^cov of .* 1 observation, .*n - ddof = 0"),
    (lambda: gg.cov(np.ones((2, 5)), np.ones((1, 4))), r"^cov of .*5 observations each and "
     r"y's 4"),
    (lambda: gg.cov(np.ones((2, 5)), ddof=1.5), r"^cov: ddof must be a whole number"),
    (lambda: gg.corrcoef(np.ones((2, 1))), r"^corrcoef of .*2 observations or more"),
    (lambda: gg.vdot(np.ones((2, 3)), np.ones(5)), r"^vdot of .*one size, not 6 and 5"),
    (lambda: gg.nansum(np.ones((2, 3)), axis=2), r"^nansum of .*axis 2 is not one of its 2 "
     r"axes"),
    (lambda: gg.nanmean(np.ones((2, 3)), keepdims=1), r"^nanmean: keepdims must be True or "
     r"False"),
    (lambda: gg.ptp(np.ones((2, 3)), axis=(1, -1)), r"^ptp of .*names an axis twice"),
    (lambda: gg.nan_to_num(np.ones(2), nan="0"), r"^nan_to_num: nan must be a real number"),
    (lambda: gg.cumprod(gg.Tensor(np.ones((2, 3))), axis=2), r"cumprod runs along one axis"),
])
def test_bad_arguments_are_refused_naming_the_function(call, message):
    with pytest.raises(gg.GraphgradError, match=message):
        call()
