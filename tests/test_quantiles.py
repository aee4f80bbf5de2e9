"""median, quantile and percentile at worked values: numpy's linear method, over axes and
several q at once, gradients to the one or two elements each quantile mixes, and errors naming
the op. The op table checks them over random shapes."""
import numpy as np
import pytest

import graphgrad as gg


def test_the_median_of_an_even_count_sends_half_its_gradient_to_each_middle_value():
    x = gg.Tensor([4.0, 1.0, 3.0, 2.0], requires_grad=True)
    y = gg.median(x)
    assert y.item() == 2.5
    y.backward()
    np.testing.assert_array_equal(x.grad, [0, 0, 0.5, 0.5])


def test_a_quantile_mixes_its_two_neighbours_by_numpys_linear_weights():
    x = gg.Tensor([10.0, 0.0, 30.0, 20.0, 40.0], requires_grad=True)
    y = gg.quantile(x, 0.3)  # place 0.3 * 4 = 1.2: 10 + 0.2 (20 - 10)
    assert y.item() == pytest.approx(12.0)
    y.backward()
    np.testing.assert_allclose(x.grad, [0.8, 0, 0, 0.2, 0])


def test_several_quantiles_over_several_axes_put_qs_axes_first_as_numpy():
    data = np.random.default_rng(0).standard_normal((2, 3, 4))
    x = gg.Tensor(data, requires_grad=True)
    y = np.percentile(x, [[10.0, 50.0]], axis=(0, 2), keepdims=True)
    assert type(y) is gg.Tensor
    want = np.percentile(data, [[10.0, 50.0]], axis=(0, 2), keepdims=True)
    assert y.shape == want.shape == (1, 2, 1, 3, 1)
    np.testing.assert_allclose(y.data, want, rtol=1e-12)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.sum(axis=(0, 2)), [2, 2, 2])  # each q's weights sum to 1


@pytest.mark.parametrize("values, q", [([1.0, 2.0, 3.0, np.nan], 0.5),
                                       ([np.nan, 1.0, 2.0], 0.0),
                                       ([5.0, np.nan, np.inf, -1.0], [0.25, 1.0])])
def test_a_quantile_of_values_holding_a_nan_is_nan_as_numpys_its_gradient_to_the_nan(values, q):
    """It mixed the two values around q's place in the sorted values, NaN sorted last, so the
    median of [1, 2, 3, nan] was 2.5 where numpy's is nan; PyTorch's quantile takes the NaN,
    and so gives it the gradient."""
    x = gg.Tensor(values, requires_grad=True)
    y = gg.quantile(x, q)
    np.testing.assert_array_equal(y.data, np.quantile(values, q))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, np.isnan(values) * np.size(q))


def test_only_the_slices_holding_a_nan_give_nan():
    data = np.array([[4.0, 1.0, 3.0, 2.0], [1.0, np.nan, 2.0, 3.0]])
    x = gg.Tensor(data, requires_grad=True)
    y = gg.median(x, axis=1)
    np.testing.assert_array_equal(y.data, np.median(data, axis=1))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0, 0.5, 0.5], [0, 1, 0, 0]])


def test_np_median_of_a_tensor_is_gg_median():
    x = gg.Tensor([[1.0, 5.0, 2.0], [7.0, 3.0, 3.0]], requires_grad=True)
    y = np.median(x, axis=1)
    assert y.creator is not None
    np.testing.assert_array_equal(y.data, [2, 3])


X = gg.Tensor(np.zeros((2, 3)), name="X")


@pytest.mark.parametrize("call, error, message", [
    (lambda: gg.quantile(X, 1.5), gg.ArgumentError, "quantile: q must be from 0 to 1, got 1.5"),
    (lambda: gg.percentile(X, [50, 101]), gg.ArgumentError,
     "percentile: q must be from 0 to 100, got [50, 101]"),
    (lambda: gg.median(X, axis=2), gg.ArgumentError,
     "median of 'X' (2, 3) float64: axis 2 is out of range for an array of 2 dimensions; give "
     "axes from -2 to 1, or None for all of them"),
    (lambda: gg.median(gg.Tensor(np.zeros((2, 0)), name="E"), axis=1), gg.ArgumentError,
     "median of 'E' (2, 0) float64 over axes (1,): there are no values to take a quantile of "
     "(numpy gives nan)"),
    (lambda: gg.quantile(X, gg.Tensor(0.5, requires_grad=True, name="q")),
     gg.GraphgradTypeError, "quantile: q, 'q' () float64, requires grad, but the quantiles "
     "asked for are constants here; give q.data"),
    # it named the Transpose inside
    (lambda: gg.median([["a", "b"]], axis=1), gg.GraphgradTypeError,
     "median: x must hold numbers, got <U1 values of shape (1, 2)"),
], ids=["q-range", "percent-range", "axis", "empty", "q-grad", "strings"])
def test_bad_arguments_are_refused_by_name(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert str(info.value) == message
