"""gg.gradcheck and gg.gradgradcheck: right backwards pass with a report that reads like the
course's, wrong ones fail with a report naming the input, the worst element, the analytic and
numeric values; random seeds, the zero-gradient check, fast mode and kinks."""
import re
import warnings
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import graphgrad as gg
from graphgrad.gradcheck import reading
from graphgrad.ops.arithmetic import Mul


class Square(gg.Function):
    """y = x**2;  dy/dx = 2x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return 2 * grad * x


class SquareWrongAtOneElement(Square):
    """The right derivative, except 1.5 times too large at element (1, 2)."""

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        g = 2 * grad * x
        g[1, 2] *= 1.5
        return g


def _x(shape=(3, 4), name="x"):
    data = np.arange(1.0, 1.0 + np.prod(shape)).reshape(shape) / 4
    return gg.Tensor(data, requires_grad=True, name=name)


def _number(text, label):
    return float(re.search(label + r" (-?[\d.e+-]+)", text).group(1))


# -- a right backward -----------------------------------------------------------------------------
def test_a_right_backward_passes_with_the_courses_reading():
    x = _x()
    result = gg.gradcheck(Square, [x])
    assert result and result.passed
    report = str(result)
    assert report.startswith("gradcheck passed (full: every element")
    (pair,) = result.pairs
    assert (pair.output, pair.input, pair.passed) == (0, 0, True)
    assert pair.relative_difference < 1e-7
    assert f"relative difference {pair.relative_difference:.2e} (great)" in report
    assert "output 0 wrt input 0 'x' (3, 4) float64" in report
    assert "a zero upstream gradient gives a zero gradient: yes" in report


def test_gradcheck_leaves_the_inputs_alone():
    x = _x()
    before = x.data.copy()
    gg.gradcheck(lambda t: (t * t).sum(), [x])
    assert x.grad is None
    np.testing.assert_array_equal(x.data, before)


def test_arrays_become_inputs_and_tensors_without_grad_are_not_checked():
    w = gg.Tensor(np.array([1.0, -2.0]))
    result = gg.gradcheck(lambda x, w: x * w, [np.array([0.5, 3.0]), w])
    assert [(p.output, p.input) for p in result.pairs] == [(0, 0)]


def test_every_output_is_checked():
    x = _x((4, 2))
    result = gg.gradcheck(lambda t, y: gg.split(gg.exp(t) * y, 2), [x, _x((2,), "y")])
    assert [(p.output, p.input) for p in result.pairs] == [(0, 0), (0, 1), (1, 0), (1, 1)]


# -- a wrong backward -----------------------------------------------------------------------------
def test_a_wrong_backward_fails_with_a_report_naming_the_input_and_worst_element():
    x = _x()
    with pytest.raises(gg.GradcheckError) as info:
        gg.gradcheck(SquareWrongAtOneElement, [x])
    result = info.value.result
    report = str(info.value)
    assert report == str(result) and not result
    assert report.startswith("gradcheck FAILED")
    (pair,) = result.failures()
    assert (pair.output, pair.input, pair.worst_index) == (0, 0, (1, 2))
    assert (pair.mismatches, pair.size) == (1, 12)
    assert pair.analytic == pytest.approx(1.5 * pair.numeric, rel=1e-6)
    assert pair.rel_error == pytest.approx(0.5, rel=1e-6)
    assert pair.relative_difference > 1e-3
    assert "output 0 wrt input 0 'x' (3, 4) float64" in report
    assert "(likely a bug); 1 of 12 elements disagree; worst element (1, 2)" in report
    assert _number(report, "analytic") == pytest.approx(pair.analytic, rel=1e-5)
    assert _number(report, "vs numeric") == pytest.approx(pair.numeric, rel=1e-5)


def test_an_error_where_the_derivative_is_zero_reads_as_an_infinite_relative_error():
    class ReLUWithoutMask(gg.Function):
        """max(x, 0), with a backward that forgot the mask: dx = grad everywhere."""

        @staticmethod
        def forward(ctx, x):
            return np.maximum(x, 0)

        @staticmethod
        def backward(ctx, grad):
            return grad

    x = gg.Tensor(np.array([-1.0, 2.0]), requires_grad=True, name="x")
    result = gg.gradcheck(ReLUWithoutMask, [x], raise_exception=False)
    (pair,) = result.failures()
    assert (pair.worst_index, pair.numeric) == ((0,), 0.0)
    assert pair.rel_error == float("inf")
    assert "vs numeric 0 (abs err" in str(result) and "rel err inf)" in str(result)


def test_only_the_wrong_input_is_reported():
    class MulWrongForY(Mul):
        @staticmethod
        def backward(ctx, grad):
            x, y = ctx.saved
            return grad * y, grad * y  # dz/dy should be x

    result = gg.gradcheck(MulWrongForY, [_x((2,), "x"), -_x((2,), "y").data],
                          raise_exception=False)
    assert not result
    assert [(p.input, p.passed) for p in result.pairs] == [(0, True), (1, False)]
    assert "wrt input 1 unnamed tensor (2,) float64: relative difference" in str(result)


def test_raise_exception_false_returns_the_failed_result():
    result = gg.gradcheck(SquareWrongAtOneElement, [_x()], raise_exception=False)
    assert not result and result.failures()


def test_an_input_outside_the_graph_is_named_and_a_vacuous_pass_warns():
    """gradcheck calls fn with copies of the inputs: a function that closes over the originals
    (a model's own parameters) passes whatever their gradient, since the copies it is given
    get none. The report names such an input, and passing warns at the caller's line."""
    W = gg.Tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True, name="W")
    X = gg.Tensor([[0.2, 0.4], [-1.0, 0.3], [0.7, -0.6]], requires_grad=True, name="X")
    with pytest.warns(UserWarning, match=r"input 1 'W' \(2, 2\) float64 is not part of any "
                                         r"output's graph.*closes over the originals") as record:
        result = gg.gradcheck(lambda X, W_copy: gg.tanh(X @ W), [X, W])
    assert record[0].filename == __file__
    assert result and result.unreached == ["1 'W' (2, 2) float64"]
    assert "input 1 'W' (2, 2) float64 is not part of any output's graph" in str(result)

    # Used off the graph, the input's derivative is not zero: the check fails, and says why.
    failed = gg.gradcheck(lambda X, W: gg.tanh(X @ W.data), [X, W], raise_exception=False)
    assert not failed and failed.unreached == ["1 'W' (2, 2) float64"]
    assert [p.passed for p in failed.pairs] == [True, False]
    assert "through .data, detach() or no_grad" in str(failed)


def test_inputs_in_the_graph_and_second_order_of_linear_functions_do_not_warn():
    """The first derivatives of a linear function do not depend on its input: gradgradcheck
    has nothing to report about that."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = gg.gradcheck(lambda x, y: x * y, [_x(), _x(name="y")])
        assert result and result.unreached == []
        assert gg.gradgradcheck(lambda x: 3.0 * x, [_x()])


def test_a_softmax_whose_backward_returns_zeros_fails():
    """With an all-ones upstream gradient the true vjp of softmax is 0, so a backward that
    returns zeros would pass; random upstream gradients catch it."""

    class ZeroGradSoftmax(gg.Function):
        @staticmethod
        def forward(ctx, x):
            e = np.exp(x - x.max(axis=-1, keepdims=True))
            return e / e.sum(axis=-1, keepdims=True)

        @staticmethod
        def backward(ctx, grad):
            return np.zeros_like(grad)

    x = gg.Tensor(np.random.default_rng(0).standard_normal((2, 3)), requires_grad=True)
    (ones_vjp,) = gg.grad(gg.softmax(x), x, grad_outputs=np.ones((2, 3)))
    np.testing.assert_allclose(ones_vjp, 0.0, atol=1e-15)  # why an all-ones seed misses it
    with pytest.raises(gg.GradcheckError, match=r"6 of 6 elements disagree"):
        gg.gradcheck(ZeroGradSoftmax, [x])


class DoubleWithOffset(gg.Function):
    """y = 2x, whose backward is right to 1e-9 but not zero for a zero upstream gradient."""

    @staticmethod
    def forward(ctx, x):
        return 2 * x

    @staticmethod
    def backward(ctx, grad):
        return 2 * grad + 1e-9


def test_a_nonzero_gradient_for_a_zero_upstream_gradient_fails():
    result = gg.gradcheck(DoubleWithOffset, [_x((3,))], raise_exception=False)
    assert not result
    assert all(p.passed for p in result.pairs)
    assert result.zero_grad_failures == ["output 0 wrt input 0 'x' (3,) float64"]
    assert ("zero upstream gradient gave a non-zero gradient for output 0 wrt input 0 'x'"
            in str(result))


# -- float32 --------------------------------------------------------------------------------------
def test_float32_inputs_warn_and_are_checked_in_float64():
    x32 = gg.Tensor(np.array([0.5, 1.5], dtype=np.float32), requires_grad=True, name="x32")
    with pytest.warns(UserWarning, match=r"'x32' \(2,\) float32 is float32.*float64") as record:
        result = gg.gradcheck(Square, [x32])
    assert record[0].filename == __file__  # the warning points at the caller
    assert result and result.pairs[0].relative_difference < 1e-7


def test_gradgradcheck_of_a_float32_input_warns_in_its_own_name():
    x32 = gg.Tensor(np.array([0.5, 1.5], dtype=np.float32), requires_grad=True, name="x32")
    with pytest.warns(UserWarning, match=r"^gradgradcheck: input 0 'x32' \(2,\) float32 is "
                                         r"float32; it is checked in float64") as record:
        result = gg.gradgradcheck(lambda x: x * x * x, [x32])
    assert len(record) == 1 and record[0].filename == __file__
    assert result and result.pairs[0].relative_difference < 1e-7


def test_float64_inputs_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gg.gradcheck(Square, [_x()])


# -- fast mode ------------------------------------------------------------------------------------
def test_fast_mode_passes_a_right_op_with_random_projections():
    result = gg.gradcheck(lambda a, b: gg.tanh(a @ b), [_x((2, 3)), _x((3, 2), "w")], fast=True)
    assert result
    assert "fast: random projections" in result.settings
    assert [p.projected for p in result.pairs] == [True, True]
    assert "random projection: analytic" in str(result)
    for pair in result.pairs:
        assert pair.analytic == pytest.approx(pair.numeric, rel=1e-6)


def test_fast_mode_falls_back_to_the_full_diagnosis_on_failure():
    with pytest.raises(gg.GradcheckError) as info:
        gg.gradcheck(SquareWrongAtOneElement, [_x()], fast=True)
    report = str(info.value)
    assert "the fast check (random projections) failed; full element-by-element" in report
    assert "full: every element" in report
    assert info.value.result.failures()[0].worst_index == (1, 2)


def test_fast_mode_catches_the_zero_upstream_check_too():
    result = gg.gradcheck(DoubleWithOffset, [_x((3,))], fast=True, raise_exception=False)
    assert not result and result.zero_grad_failures


# -- kinks ----------------------------------------------------------------------------------------
def test_relu_at_exactly_zero_is_reported_as_a_kink_not_a_bug():
    x = gg.Tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)
    result = gg.gradcheck(gg.relu, [x])
    assert result
    (pair,) = result.pairs
    assert [k[0] for k in pair.kinks] == [(1,)]
    assert "element (1,) sits at a kink" in str(result)
    assert "valid subgradient, not a bug" in str(result)


@pytest.mark.parametrize("fn, data", [
    (gg.max, [1.0, 3.0, 3.0, 2.0]),
    (lambda t: gg.min(t, axis=1), [[2.0, 1.0, 1.0], [0.0, 5.0, 0.0]]),
    (lambda t: gg.maximum(t, 1.0), [1.0, 2.0, 0.5]),
    (gg.abs, [0.0, 2.0, -1.0]),
], ids=["tied-max", "tied-min-axis", "maximum-tie", "abs-at-zero"])
def test_ties_and_kinks_are_reported_as_kinks_not_bugs(fn, data):
    x = gg.Tensor(np.array(data), requires_grad=True)
    result = gg.gradcheck(fn, [x])
    assert result
    assert result.pairs[0].kinks, str(result)
    assert "sits at a kink" in str(result)


@pytest.mark.parametrize("fn, data", [
    (lambda t: gg.exp(t) * gg.sin(t), [0.25, 0.5, 0.75, 1.0, 1.25]),
    (lambda t: t * t, [0.0, 1.0]),  # a zero slope between two opposite one-sided ones
    (gg.log, [1e-4, 1e-3, 0.5]),  # steep and bending fast, but smooth
    (lambda t: 1.0 / t, [1e-3, 2e-3, 0.5]),
], ids=["exp-sin", "square-at-0", "log-near-0", "reciprocal-near-0"])
def test_a_smooth_function_has_no_kinks(fn, data):
    result = gg.gradcheck(fn, [np.array(data)])
    assert result and result.pairs[0].kinks == []
    assert "kink" not in str(result)


def _relu_with_slope(slope):
    """A relu op whose backward multiplies the upstream gradient by ``slope(x)``."""

    class Relu(gg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.maximum(x, 0)

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved
            return grad * slope(x)

    return Relu


def test_a_wrong_gradient_at_a_kink_is_still_a_bug():
    WrongRelu = _relu_with_slope(lambda x: np.where(x >= 0, 3.0, 0.0))  # 3 is outside [0, 1]
    x = gg.Tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)
    result = gg.gradcheck(WrongRelu, [x], raise_exception=False)
    assert not result
    assert result.pairs[0].mismatches == 2


# -- reading --------------------------------------------------------------------------------------
@pytest.mark.parametrize("difference, words", [
    (1e-9, "great"), (1e-7, "great"), (1e-6, "fine, look closer"), (1e-4, "suspicious"),
    (1e-2, "likely a bug"), (1.0, "likely a bug")])
def test_reading_of_the_relative_difference(difference, words):
    assert reading(difference).startswith(words)


# -- gradgradcheck --------------------------------------------------------------------------------
@pytest.mark.parametrize("fn, shapes", [
    (gg.tanh, [(3, 4)]), (gg.sigmoid, [(3, 4)]), (lambda a, b: a @ b, [(3, 4), (4, 2)]),
    (gg.softmax, [(3, 4)]), (gg.log_softmax, [(2, 5)]), (lambda t: (t**3).sum(), [(4,)]),
], ids=["tanh", "sigmoid", "matmul", "softmax", "log_softmax", "sum-cubes"])
@pytest.mark.parametrize("fast", [False, True], ids=["full", "fast"])
def test_gradgradcheck_passes_for_built_ins(fn, shapes, fast):
    rng = np.random.default_rng(1)
    inputs = [gg.Tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]
    result = gg.gradgradcheck(fn, inputs, fast=fast)
    assert result
    # first derivatives are checked against every input and every upstream gradient
    n_in = len(shapes)
    assert {p.input for p in result.pairs} == set(range(n_in + 1))


def test_gradgradcheck_fails_for_a_backward_that_saves_a_derived_constant():
    """tanh's backward written with 1 - y**2 computed in forward and saved: right first
    derivatives, but the saved value is a constant to the second derivative."""

    class TanhSavingDerivative(gg.Function):
        @staticmethod
        def forward(ctx, x):
            y = np.tanh(x)
            ctx.save_for_backward(1 - y * y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (slope,) = ctx.saved
            return grad * slope

    x = gg.Tensor(np.random.default_rng(2).standard_normal(4), requires_grad=True)
    assert gg.gradcheck(TanhSavingDerivative, [x])
    with pytest.raises(gg.GradcheckError) as info:
        gg.gradgradcheck(TanhSavingDerivative, [x])
    failing = [(p.output, p.input) for p in info.value.result.failures()]
    assert failing == [(0, 0)]  # d(dx)/dx is wrong; d(dx)/d(upstream) is right
    report = str(info.value.result).splitlines()
    # It read "gradcheck FAILED", and its input 1, the upstream gradient, an unnamed tensor.
    assert report[0].startswith("gradgradcheck FAILED (full: every element, eps=1e-06")
    assert report[1] == (
        "  outputs: the first derivatives dJ/dx of J = sum(v * fn(x)), one per checked input "
        "x; inputs: fn's, then the upstream gradients v0, v1, ... (one per output of fn)")
    assert report[2].startswith("  output 0 wrt input 0 unnamed tensor (4,) float64: ")
    assert report[3].startswith("  output 0 wrt input 1 'v0' (4,) float64: ")
    assert str(gg.gradcheck(TanhSavingDerivative, [x])).startswith("gradcheck passed (full")


def test_gradcheck_needs_an_input_that_requires_grad():
    with pytest.raises(gg.GraphgradError, match="nothing to check"):
        gg.gradcheck(gg.exp, [gg.Tensor(np.ones(2))])


def test_gradcheck_needs_a_function_returning_tensors():
    with pytest.raises(gg.GraphgradError, match="must return Tensors"):
        gg.gradcheck(lambda t: t.data * 2, [_x((2,))])


class _ScaledLog(gg.Function):
    """log x with a backward scaled by ``factor`` (1.0 is right)."""

    factor = 1.0

    @classmethod
    def forward(cls, ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @classmethod
    def backward(cls, ctx, grad):
        (x,) = ctx.saved
        return grad * cls.factor / x


def test_a_nan_finite_difference_fails_instead_of_passing():
    """Within eps of log's domain edge, f(x - eps) is NaN: no verdict can be 'great'."""

    class WrongLog(_ScaledLog):
        factor = 1000.0

    x = gg.Tensor(np.array([1e-7]), requires_grad=True)
    with np.errstate(invalid="ignore"), pytest.raises(gg.GradcheckError) as info:
        gg.gradcheck(WrongLog, [x])
    pair = info.value.result.pairs[0]
    assert pair.nonfinite == 1 and pair.mismatches == 1
    assert pair.relative_difference == float("inf")
    assert "NaN or Inf" in str(info.value) and "likely a bug" in str(info.value)


def test_curvature_at_a_large_eps_is_not_mistaken_for_a_kink():
    """With eps = 0.05 the one-sided slopes of a smooth log differ by curvature; halving the
    step halves that gap, so a 1%-wrong backward is reported, not excused as a kink."""

    class SlightlyWrongLog(_ScaledLog):
        factor = 1.01

    x = gg.Tensor(np.array([0.5, 2.0]), requires_grad=True)
    result = gg.gradcheck(SlightlyWrongLog, [x], eps=0.05, raise_exception=False)
    assert not result
    assert result.pairs[0].kinks == []
    assert result.pairs[0].mismatches == 2


def test_a_function_that_changes_from_call_to_call_is_refused():
    """Dropout left on: finite differences would measure the random masks, not a gradient."""
    rng = np.random.default_rng(0)

    def noisy(t):
        return (t * (rng.random(t.shape) < 0.5)).sum()

    # an ArgumentError, a ValueError: the function given cannot be checked
    with pytest.raises(gg.ArgumentError, match=r"^gradcheck: the function gave different results "
                       r"for the same inputs \(is dropout or another random op on\? call "
                       r"model\.eval\(\), or fix its random seed\)"):
        gg.gradcheck(noisy, [_x((3,))])


# -- any wrong element is found -------------------------------------------------------------------
@given(shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4),
       wrong_input=st.integers(0, 1), element=st.integers(0, 63),
       factor=st.sampled_from([0.0, -1.0, 1.01, 3.0]), seed=st.integers(0, 2**16))
def test_a_wrong_element_is_reported_by_input_and_index_wherever_it_is(
        shape, wrong_input, element, factor, seed):
    """z = x * y with one element of one input's gradient scaled: gradcheck fails on exactly
    that (input, element), and passes the other input."""
    size = int(np.prod(shape))
    index = np.unravel_index(element % size, shape)

    class MulWrongAtOneElement(Mul):
        @staticmethod
        def backward(ctx, grad):
            x, y = ctx.saved
            grads = [np.array(grad * y), np.array(grad * x)]
            grads[wrong_input][index] *= factor
            return tuple(grads)

    rng = np.random.default_rng(seed)
    # |values| in [0.5, 1.5]: every element's derivative is far from 0
    x, y = (gg.Tensor(rng.uniform(0.5, 1.5, shape) * rng.choice([-1, 1], shape),
                      requires_grad=True, name=name) for name in ("x", "y"))
    result = gg.gradcheck(MulWrongAtOneElement, [x, y], raise_exception=False)
    assert [(p.input, p.passed) for p in result.pairs] == [
        (0, wrong_input != 0), (1, wrong_input != 1)]
    (pair,) = result.failures()
    assert pair.worst_index == tuple(int(i) for i in index)
    assert pair.mismatches == 1 and pair.size == size
    assert pair.analytic == pytest.approx(factor * pair.numeric, rel=1e-6, abs=1e-9)


# -- near a kink, within eps of it but not at it --------------------------------------------------
@pytest.mark.parametrize("fn, data, near", [
    (gg.relu, [5e-7, 2.0, 3e-7, -7e-7], [(0,), (2,), (3,)]),  # kink at 0, eps = 1e-6
    (gg.abs, [-4e-7, 1.0], [(0,)]),
    (gg.max, [1.0, 1.0 + 5e-7, 0.0], [(0,), (1,)]),  # a near tie
], ids=["relu", "abs", "max-near-tie"])
def test_an_element_within_eps_of_a_kink_is_compared_with_the_slope_away_from_it(fn, data, near):
    """The centred difference straddles the kink and averages two slopes; the function is
    differentiable at the point, and the slope on the kink-free side is its derivative."""
    x = gg.Tensor(np.array(data), requires_grad=True)
    result = gg.gradcheck(fn, [x])
    (pair,) = result.pairs
    assert pair.relative_difference < 1e-7  # "great", not "likely a bug"
    assert [index for index, _ in pair.near_kinks] == near
    assert pair.kinks == []
    report = str(result)
    assert "near a kink" in report and "likely a bug" not in report


def test_near_a_tie_the_smaller_argument_of_max_has_a_zero_numeric_derivative():
    x = gg.Tensor(np.array([1.0, 1.0 + 5e-7, 0.0]), requires_grad=True)
    (pair,) = gg.gradcheck(gg.max, [x]).pairs
    assert dict(pair.near_kinks)[(0,)] == pytest.approx(0.0, abs=1e-8)


def test_a_wrong_gradient_near_a_kink_is_still_a_bug():
    """Near (not at) relu's kink the derivative is 1: a backward that already gives 0 there
    is wrong, and the report says so."""
    ReluSwitchingLate = _relu_with_slope(lambda x: x > 1e-6)
    x = gg.Tensor(np.array([5e-7, 2.0]), requires_grad=True)
    result = gg.gradcheck(ReluSwitchingLate, [x], raise_exception=False)
    assert not result
    (pair,) = result.pairs
    assert pair.mismatches == 1 and pair.worst_index == (0,)
    assert pair.analytic == 0.0
    assert pair.numeric == pytest.approx(dict(pair.near_kinks)[(0,)]) and pair.numeric != 0
    assert "likely a bug" in str(result)


# -- grad mode and arguments ----------------------------------------------------------------------
def test_gradcheck_and_gradgradcheck_record_graphs_inside_no_grad():
    x = _x((3,))
    with gg.no_grad():
        assert gg.gradcheck(gg.tanh, [x]).pairs[0].relative_difference < 1e-7
        assert gg.gradgradcheck(gg.tanh, [x])
        assert not gg.gradcheck(SquareWrongAtOneElement, [_x()], raise_exception=False)
        assert not gg.is_grad_enabled()  # the caller's mode is left as it was


class _CubeWithConstantSecondDerivative(gg.Function):
    """y = x**3 with 3 x**2 saved as a constant: a right first derivative, a wrong second."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(3 * a * a)
        return a ** 3

    @staticmethod
    def backward(ctx, grad):
        (slope,) = ctx.saved
        return grad * slope


def _tanh_and_cube(t):
    return gg.tanh(t), _CubeWithConstantSecondDerivative.apply(t)


def test_gradgradcheck_needs_one_grad_output_per_output_shaped_like_it():
    a = gg.Tensor(np.array([0.5, 1.5]), requires_grad=True)
    with pytest.raises(gg.ArgumentError, match=r"1 array\(s\) of shapes \[\(2,\)\], but fn has "
                                               r"2 float output\(s\) of shapes \[\(2,\), \(2,\)\]"):
        gg.gradgradcheck(_tanh_and_cube, [a], grad_outputs=[np.ones(2)])
    with pytest.raises(gg.ArgumentError, match=r"shapes \[\(3,\)\]"):
        gg.gradgradcheck(gg.tanh, [a], grad_outputs=[np.ones(3)])
    result = gg.gradgradcheck(_tanh_and_cube, [a], grad_outputs=[np.ones(2), np.ones(2)],
                              raise_exception=False)
    assert [(p.output, p.input) for p in result.failures()] == [(0, 0)]  # d(dx)/dx
    assert gg.gradgradcheck(gg.tanh, [a], grad_outputs=np.ones(2))  # one array, one output


def test_an_input_without_grad_that_is_not_float_is_passed_through_unchanged():
    x = gg.Tensor(np.array([[-1.0, 2.0], [0.5, -3.0]]), requires_grad=True)
    mask = x > 0
    seen = []

    def masked(a, m):
        seen.append((m.dtype, m.requires_grad, m.data.tolist()))
        return gg.where(m, a, 0.0)

    result = gg.gradcheck(masked, [x, mask])
    assert [(p.input, p.relative_difference < 1e-7) for p in result.pairs] == [(0, True)]
    assert seen and all(call == (np.dtype(bool), False, [[False, True], [True, False]])
                        for call in seen)


@pytest.mark.parametrize("index", [np.array([True, False, True, False]), np.array([0, 3, 3]),
                                   [0, 3, 3]])
def test_a_numpy_mask_or_index_array_is_a_constant_of_its_own_dtype(index):
    x = np.array([0.5, -1.0, 2.0, 3.0])
    seen = []

    def pick(a, i):
        seen.append((i.dtype.kind, i.requires_grad))
        return a[i]

    result = gg.gradcheck(pick, [x, index])
    assert [(p.input, p.relative_difference < 1e-7) for p in result.pairs] == [(0, True)]
    assert set(seen) == {(np.asarray(index).dtype.kind, False)}


def test_a_lone_tensor_is_one_input():
    x = _x((3, 4))
    result = gg.gradcheck(gg.tanh, x)
    assert [(p.input, p.size) for p in result.pairs] == [(0, 12)]
    assert result.pairs[0].relative_difference < 1e-7


# -- large output elements ------------------------------------------------------------------------
class SquareTooSteep(Square):
    """x**2 with a backward 4% too large."""

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return 2 * grad * x * 1.04


def test_a_large_output_element_does_not_blur_the_slopes_of_the_others():
    """exp(20) is near 5e8: summed into one total, its rounding drowned exp(0.5)'s slope."""
    result = gg.gradcheck(gg.exp, [np.array([20.0, 0.5])])
    (pair,) = result.pairs
    assert pair.mismatches == 0 and pair.relative_difference < 1e-7


def test_a_wrong_backward_next_to_a_large_output_element_fails():
    def exp_then_square(a):
        return gg.concatenate([gg.exp(a[:1]), SquareTooSteep.apply(a[1:])])

    result = gg.gradcheck(exp_then_square, [np.array([np.log(1e9), 0.7])], raise_exception=False)
    assert not result
    (pair,) = result.pairs
    assert pair.kinks == [] and pair.mismatches == 1 and pair.worst_index == (1,)
    assert pair.analytic == pytest.approx(1.04 * pair.numeric, rel=1e-6)


def test_rounding_noise_in_a_large_output_element_is_not_read_as_a_kink():
    """Each output element is 1e10 plus a square: its rounding step (2e-6) is larger than what a
    step of eps adds, so the one-sided slopes jump about. A jump within rounding is no kink,
    and a 4%-wrong backward must not be excused as a subgradient."""
    def exp_plus_square(a):
        return gg.exp(a[:1]) + SquareTooSteep.apply(a[1:])

    result = gg.gradcheck(exp_plus_square, [np.array([np.log(1e10), 1.3, 0.65])],
                          raise_exception=False)
    assert not result
    assert result.pairs[0].kinks == []


# -- kinks together: ties -------------------------------------------------------------------------
def _max_with_backward(share):
    """max(x) whose backward gives the upstream gradient times ``share(x)``."""

    class Max(gg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.max(x)

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved
            return grad * share(x)

    return Max


def _to_first_of_the_tied(x):
    share = np.zeros_like(x)
    share[np.argmax(x)] = 1.0
    return share


@pytest.mark.parametrize("fast", [False, True])
def test_a_max_that_gives_each_tied_element_the_whole_gradient_fails(fast):
    """Each tied element alone may take any gradient between its one-sided slopes 0 and 1;
    moving them together moves the max by the same step, so their gradients must sum to 1."""
    EachTiedGetsAll = _max_with_backward(lambda x: x == x.max())
    result = gg.gradcheck(EachTiedGetsAll, [np.array([1.0, 2.0, 2.0])], fast=fast,
                          raise_exception=False)
    assert not result
    (pair,) = result.pairs
    assert pair.kinks == [] and pair.mismatches == 2
    (joint,) = pair.joint_kinks
    assert joint.indices == ((1,), (2,)) and not joint.passed
    assert joint.left == pytest.approx(joint.right)
    assert joint.total == pytest.approx(2 * joint.right)
    report = str(result)
    assert ("elements (1,), (2,) sit at kinks together: their gradients together disagree "
            "with the slope along them") in report
    assert "valid subgradient" not in report
    assert ("the fast check (random projections) failed" in report) == fast


@pytest.mark.parametrize("share", [
    lambda x: (x == x.max()) / np.sum(x == x.max()),
    _to_first_of_the_tied,
], ids=["split-evenly", "to-the-first"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_tied_max_whose_gradient_sums_to_one_passes(share, seed):
    x = np.array([1.0, 2.0, 2.0, 2.0])
    result = gg.gradcheck(_max_with_backward(share), [x], seed=seed)
    (pair,) = result.pairs
    assert [index for index, *_ in pair.kinks] == [(1,), (2,), (3,)]
    (joint,) = pair.joint_kinks
    assert joint.passed and joint.total == pytest.approx(joint.right)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_many_relus_at_zero_pass_together_whatever_the_signs_of_the_upstream(seed):
    """Separate kinks add up: grouped by how they bend, any valid choice per element passes."""
    result = gg.gradcheck(lambda t: gg.concatenate([gg.relu(t[:6]), gg.abs(t[6:])]),
                          [np.zeros(10)], seed=seed)
    (pair,) = result.pairs
    assert len(pair.kinks) == 10
    assert pair.joint_kinks and all(joint.passed for joint in pair.joint_kinks)


def test_fast_mode_says_why_the_full_check_passes_after_the_projections_disagreed():
    result = gg.gradcheck(gg.relu, [np.array([0.0, 0.0, 1.0])], fast=True)
    assert "full: every element" in result.settings
    report = str(result)
    assert "failed" not in report
    assert ("the fast check (random projections) disagreed, but every element passes the full "
            "element-by-element diagnosis below: the projections cross the kinks") in report


# -- jumps of the function -----------------------------------------------------------------------
_TIES = np.array([[0.0, 1.0, 1.0], [-1.0, 0.0, 0.0]])


def _midpoint_jump(t):
    """t + sign(t), with the value t at 0: it jumps by 2 there, with its value at the midpoint."""
    return gg.where(t.data > 0, t + 1, gg.where(t.data < 0, t - 1, t))


@pytest.mark.parametrize("check, fn, inputs, jumps", [
    (gg.gradgradcheck, gg.abs, [_TIES], {0: [(0, 0), (1, 1), (1, 2)]}),  # sign(x) at 0 is 0
    (gg.gradgradcheck, lambda t: gg.max(t, 1), [_TIES],  # a tie of two shares 1/2 each
     {0: [(0, 1), (0, 2), (1, 1), (1, 2)]}),
    (gg.gradgradcheck, gg.maximum, [_TIES, np.zeros((2, 3))],
     {0: [(0, 0), (1, 1), (1, 2)], 1: [(0, 0), (1, 1), (1, 2)]}),
    (gg.gradcheck, _midpoint_jump, [np.array([0.0, 1.0])], {0: [(0,)]}),
    # shares of 1/3: the value is not at the midpoint, so the one-sided slopes differ
    (gg.gradgradcheck, gg.max, [np.array([2.0, 2.0, 2.0, 1.0])], {0: [(0,), (1,), (2,)]}),
], ids=["abs", "tied-max", "maximum-tie", "midpoint-where", "max-tie-of-three"])
def test_where_the_function_jumps_there_is_no_derivative_to_check(check, fn, inputs, jumps):
    """Both one-sided slopes of a jump grow like 1/step: they double when the step is halved,
    and the element is named as sitting at a jump, not compared."""
    result = check(fn, [gg.Tensor(a, requires_grad=True) for a in inputs])
    assert result
    for pair in result.pairs:
        assert [index for index, *_ in pair.jumps] == jumps.get(pair.input, [])
        assert pair.mismatches == 0 and pair.kinks == []
        assert pair.relative_difference < 1e-7
        for index, left, right, _ in pair.jumps:
            assert min(abs(left), abs(right)) > 1e3, (index, left, right)  # about 1/eps
    assert "likely a bug" not in str(result)


@pytest.mark.parametrize("check, fn", [
    (gg.gradgradcheck, gg.relu),
    (gg.gradgradcheck, lambda t: gg.clip(t, 0, 1)),
    (gg.gradcheck, lambda t: gg.where(t.data > 0, t + 1, t)),
], ids=["relu", "clip", "one-sided-where"])
def test_a_jump_with_its_value_at_one_end_is_still_a_kink(check, fn):
    """One of its one-sided slopes is the function's own slope, which stays when the step is
    halved: a kink whose slopes are that and about 1/eps, as before."""
    pair = check(fn, [gg.Tensor(_TIES, requires_grad=True)]).pairs[0]
    assert pair.kinks and pair.jumps == []


def test_the_report_names_the_element_and_input_at_a_jump():
    x = gg.Tensor(np.array([0.0, 1.0]), requires_grad=True, name="x")
    result = gg.gradcheck(_midpoint_jump, [x])
    (pair,) = result.pairs
    ((index, left, right, value),) = pair.jumps
    assert index == (0,)
    # value is the upstream gradient u (times the slope 1); the jump by 2u is seen from each
    # side as u / eps
    assert left == pytest.approx(right) and left == pytest.approx(value / 1e-6, rel=1e-3)
    report = str(result)
    assert "output 0 wrt input 0 'x' (2,) float64: relative difference" in report
    assert (f"\n    element (0,) sits at a jump: output 0 jumps there (one-sided slopes "
            f"{left:.4g} and {right:.4g} double when the step is halved), so it has no "
            f"derivative wrt input 0 to check the analytic {value:.4g} against; move the point "
            "off the jump to check it") in report
    assert "kink" not in report
    # The jump is the only element left out: element (1,) is the worst one compared.
    assert pair.worst_index == (1,)


def test_more_than_three_jumps_are_counted_not_listed():
    result = gg.gradgradcheck(gg.abs, [np.zeros(5)])
    assert len(result.pairs[0].jumps) == 5
    assert "... and 2 more elements at jumps" in str(result)


@pytest.mark.parametrize("fn", [_midpoint_jump, gg.relu], ids=["jump", "kink"])
def test_an_input_whose_every_element_is_excused_has_no_worst_element(fn):
    """Its numeric value (about 1/eps at a jump, the mean of two slopes at a kink) is no
    derivative to show against the analytic one."""
    (pair,) = gg.gradcheck(fn, [np.array([0.0])]).pairs
    assert pair.jumps or pair.kinks
    assert pair.worst_index is None and pair.relative_difference == 0.0
    assert "worst element" not in str(pair)


def _sign_step(slope):
    """x + sign(x), whose backward multiplies the upstream gradient by ``slope(x)`` (1 is
    right, away from the jump at 0)."""

    class SignStep(gg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x + np.sign(x)

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved
            return grad * slope(x)

    return SignStep


def test_a_wrong_gradient_next_to_a_jump_is_still_a_bug():
    WrongAtOne = _sign_step(lambda x: np.where(x == 1.0, 1.5, 1.0))
    x = gg.Tensor(np.array([0.0, 1.0, 2.0]), requires_grad=True, name="x")
    result = gg.gradcheck(WrongAtOne, [x], raise_exception=False)
    assert not result
    (pair,) = result.pairs
    assert [index for index, *_ in pair.jumps] == [(0,)]
    assert (pair.mismatches, pair.worst_index) == (1, (1,))
    assert pair.analytic == pytest.approx(1.5 * pair.numeric, rel=1e-6)
    # The jump's numeric value, about 1/eps, does not hide the error in the relative difference.
    report = str(result)
    assert "(likely a bug); 1 of 3 elements disagree; worst element (1,)" in report


@pytest.mark.parametrize("at_jump", [float("nan"), float("inf")])
def test_a_nan_or_inf_gradient_at_a_jump_is_still_a_bug(at_jump):
    """The backward is right away from the jump; at it, it gives no value at all."""
    NoValueAtTheJump = _sign_step(lambda x: np.where(x == 0, at_jump, 1.0))
    x = gg.Tensor(np.array([0.0, 1.0]), requires_grad=True)
    with np.errstate(invalid="ignore"):  # inf times a zero upstream gradient
        result = gg.gradcheck(NoValueAtTheJump, [x], raise_exception=False)
    assert not result
    (pair,) = result.pairs
    assert pair.jumps == [] and pair.nonfinite == 1 and pair.worst_index == (0,)
    assert "NaN or Inf" in str(result)


class _SignWithSlopeAtZero(gg.Function):
    """sign(x), whose backward gives ``at_zero`` at its jump x = 0 (and 0 elsewhere)."""

    at_zero = 0.0

    @classmethod
    def forward(cls, ctx, x):
        ctx.save_for_backward(x)
        return np.sign(x)

    @classmethod
    def backward(cls, ctx, grad):
        (x,) = ctx.saved
        return grad * np.where(x == 0, cls.at_zero, 0.0)


def _abs_through(sign):
    """|x| whose derivative is ``sign.call(x)``, so second derivatives go through ``sign``."""

    class Abs(gg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.abs(x)

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved
            return grad * sign.call(x)

    return Abs


@pytest.mark.parametrize("at_zero, passes", [(0.0, True), (float("nan"), False)])
def test_a_second_derivative_that_is_nan_at_a_jump_of_the_first_is_still_a_bug(at_zero, passes):
    """Right first derivatives, sign(x); the second derivative is 0 away from 0, and what it
    says at the jump is not compared unless it is no value at all."""
    Abs = _abs_through(type("Sign", (_SignWithSlopeAtZero,), {"at_zero": at_zero}))
    x = gg.Tensor(np.array([0.0, 1.5, -2.0]), requires_grad=True)
    (first,) = gg.grad(Abs.apply(x).sum(), x, create_graph=True)
    np.testing.assert_array_equal(first.data, np.sign(x.data))
    result = gg.gradgradcheck(Abs, [x], raise_exception=False)
    assert bool(result) == passes
    pair = result.pairs[0]  # d(dx)/dx
    assert (pair.output, pair.input) == (0, 0)
    if passes:
        assert [index for index, *_ in pair.jumps] == [(0,)] and pair.mismatches == 0
    else:
        assert pair.jumps == [] and pair.nonfinite == 1 and pair.worst_index == (0,)


def test_a_wrong_second_derivative_at_a_smooth_point_is_still_a_bug_beside_a_jump():
    """|x| + x**3 whose x**3 saves 3 x**2 as a constant: the second derivative misses 6x, which
    is 0 only at x = 0, where |x|'s derivative jumps."""
    x = gg.Tensor(np.array([0.0, 0.5, -1.0]), requires_grad=True, name="x")
    result = gg.gradgradcheck(lambda t: gg.abs(t) + _CubeWithConstantSecondDerivative.apply(t),
                              [x], raise_exception=False)
    assert not result
    (pair,) = result.failures()
    assert (pair.output, pair.input) == (0, 0)
    assert [index for index, *_ in pair.jumps] == [(0,)]
    assert pair.mismatches == 2 and pair.worst_index in [(1,), (2,)]
    assert "likely a bug" in str(result)


def test_fast_mode_says_the_projections_cross_a_jump():
    result = gg.gradcheck(_midpoint_jump, [np.array([0.0, 1.0, 2.0])], fast=True)
    assert "full: every element" in result.settings
    assert ("every element passes the full element-by-element diagnosis below: the projections "
            "cross the jumps it lists") in str(result)


class _TwiceOnTensors(gg.Function):
    """y = x**2, whose backward takes another path on Tensors (as a backward that must stay
    differentiable may) and gets that path wrong: 4 x there, 2 x on arrays."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad * 2 * x if isinstance(x, np.ndarray) else grad * 4 * x


def test_gradgradcheck_finds_a_first_derivative_that_differs_under_create_graph():
    # Its second derivatives agree with its own (wrong) first ones: only comparing the two
    # paths' first derivatives can tell.
    x = gg.Tensor(np.array([0.0, 1.5, -2.0]), requires_grad=True, name="x")
    assert gg.gradcheck(_TwiceOnTensors, [x])
    result = gg.gradgradcheck(_TwiceOnTensors, [x], raise_exception=False)
    assert not result
    assert all(pair.passed for pair in result.pairs)
    (failure,) = result.create_graph_failures
    assert ("the gradient wrt input 0 'x' (3,) float64 under create_graph=True differs from "
            "the plain backward's at 2 of 3 elements, first (1,)") in failure
    assert failure in str(result)
    with pytest.raises(gg.GradcheckError, match="differs from the plain backward.s"):
        gg.gradgradcheck(_TwiceOnTensors, [x])


# -- how often fn is called -----------------------------------------------------------------------
def _counted(fn):
    calls = []

    def counting(*args):
        calls.append(args)
        return fn(*args)

    return counting, calls


@pytest.mark.parametrize("check, fn, data, calls", [
    # one call for the analytic gradients, two to see fn is deterministic, one at the point,
    # two per element; two more per element at a kink, and two per group of kinks together
    (gg.gradcheck, gg.tanh, [-1.0, -0.5, 0.0, 0.5, 1.0], 1 + 2 + 1 + 2 * 5),
    (gg.gradcheck, gg.relu, [-1.0, 0.0, 2.0], 1 + 2 + 1 + 2 * 3 + 2),
    (gg.gradcheck, gg.max, [1.0, 2.0, 2.0], 1 + 2 + 1 + 2 * 3 + 2 * 2 + 2),
    # one call for the outputs, then as above for the gradients, whose elements are those of
    # the input and of the upstream gradient
    (gg.gradgradcheck, gg.tanh, [-1.0, -0.5, 0.0, 0.5, 1.0], 1 + 1 + 2 + 1 + 2 * 10),
    (gg.gradgradcheck, gg.relu, [-1.0, 0.0, 2.0], 1 + 1 + 2 + 1 + 2 * 6 + 2),
], ids=["smooth", "kink", "tie", "second-order-smooth", "second-order-kink"])
def test_a_check_that_passes_calls_fn_only_for_the_steps_it_needs(check, fn, data, calls):
    """The eps/2 step is only taken where the one-sided slopes differ, and (to see whether
    the function jumps) for an element whose sides agree only once it fails the comparison:
    looking for jumps costs a check that passes nothing."""
    counting, seen = _counted(fn)
    assert check(counting, [np.array(data)])
    assert len(seen) == calls


def test_an_element_at_a_jump_costs_two_more_evaluations():
    counting, seen = _counted(_midpoint_jump)
    assert gg.gradcheck(counting, [np.array([0.0, 1.0])]).pairs[0].jumps
    assert len(seen) == 1 + 2 + 1 + 2 * 2 + 2


# -- arguments ------------------------------------------------------------------------------------
@pytest.mark.parametrize("single", [0.5, np.float64(0.5), np.array(0.5)])
def test_a_lone_number_is_one_input(single):
    result = gg.gradcheck(gg.exp, single)
    assert [(p.input, p.size) for p in result.pairs] == [(0, 1)]
    assert result.pairs[0].relative_difference < 1e-7


@pytest.mark.parametrize("check", [gg.gradcheck, gg.gradgradcheck])
@pytest.mark.parametrize("setting, value", [
    ("eps", 0.0), ("eps", -1e-6), ("eps", float("nan")), ("atol", -1e-5),
    ("rtol", float("nan")), ("rtol", float("inf")),
])
def test_a_step_or_tolerance_out_of_range_is_refused_by_name(check, setting, value):
    with pytest.raises(gg.ArgumentError, match=rf"{check.__name__}: {setting} must be a finite "
                                               r"number [>=]+ 0, got"):
        check(gg.exp, [np.array([0.5])], **{setting: value})


@pytest.mark.parametrize("check", [gg.gradcheck, gg.gradgradcheck])
@pytest.mark.parametrize("settings", [
    {"eps": Fraction(1, 10**6)}, {"atol": Decimal("1e-5")}, {"rtol": Fraction(1, 1000)},
])
def test_a_step_or_tolerance_given_as_another_kind_of_number_is_read_as_a_float(check, settings):
    """Decimal and Fraction pass the range check; the arithmetic must get their float value."""
    result = check(gg.tanh, [np.array([0.5, -0.3])], **settings)
    assert result.passed
    assert f"{', '.join(f'{k}={float(v):g}' for k, v in settings.items())}" in result.settings


@pytest.mark.parametrize("check", [gg.gradcheck, gg.gradgradcheck])
@pytest.mark.parametrize("seed", [2.0, True, -1, "0", None])
def test_a_seed_other_than_a_whole_number_is_refused_by_name(check, seed):
    with pytest.raises(gg.ArgumentError, match=rf"{check.__name__}: seed must be a whole number "
                                               rf"of at least 0, got {re.escape(repr(seed))}"):
        check(gg.exp, [np.array([0.5])], seed=seed)


@pytest.mark.parametrize("check", [gg.gradcheck, gg.gradgradcheck])
def test_a_function_or_inputs_of_the_wrong_kind_are_refused_by_name(check):
    name = check.__name__
    with pytest.raises(gg.GraphgradTypeError, match=rf"{name} takes the function to check "
                                                    rf"first.*{name}\(gg.tanh, \[x\]\); got fn="
                                                    r"<\w+ array \(1,\)>"):
        check(np.array([0.5]), gg.tanh)
    with pytest.raises(gg.GraphgradTypeError, match=rf"{name}: inputs must be a tensor, an "
                                                    "array, a number or a list of them, got None"):
        check(gg.tanh, None)


def test_an_integer_array_alone_is_named_as_indices_not_checked():
    with pytest.raises(gg.ArgumentError, match=r"input 0 unnamed tensor \(2,\) int64 is int64, "
                                               r"so it is treated as indices or a mask; pass "
                                               r"floats"):
        gg.gradcheck(gg.exp, [np.array([1, 2])])


def test_the_report_describes_a_float32_input_as_given():
    x32 = np.arange(1.0, 7.0, dtype=np.float32).reshape(2, 3)
    with pytest.warns(UserWarning, match="checked in float64"):
        result = gg.gradcheck(SquareWrongAtOneElement, [x32], raise_exception=False)
    assert not result
    assert result.pairs[0].input_label == "unnamed tensor (2, 3) float32"
    assert "wrt input 0 unnamed tensor (2, 3) float32:" in str(result)
    assert "float64" not in str(result)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_an_input_that_is_not_finite_is_refused_before_checking(bad):
    with pytest.raises(gg.ArgumentError, match=rf"input 0 'x' \(3,\) float64 holds {bad} at "
                                               r"element \(1,\)"):
        gg.gradcheck(gg.exp, [gg.Tensor([0.5, bad, 1.0], requires_grad=True, name="x")])


@pytest.mark.parametrize("fast", [False, True], ids=["full", "fast"])
def test_an_empty_input_or_output_passes_saying_there_is_nothing_to_check(fast):
    """Its Jacobian has no entries: the report read 'relative difference 0.00e+00 (great)',
    and for an empty output named a worst element (0, 0) of a comparison never made."""
    E = gg.Tensor(np.ones((0, 3)), requires_grad=True, name="E")
    b = gg.Tensor(np.array([0.5, -1.0]), requires_grad=True, name="b")
    result = gg.gradcheck(lambda e, v: gg.sum(gg.tanh(e)) + gg.sum(v ** 2), [E, b], fast=fast)
    assert result.passed and [p.empty for p in result.pairs] == [
        "the input holds no elements", ""]
    assert str(result).splitlines()[1] == (
        "  output 0 wrt input 0 'E' (0, 3) float64: nothing to check: the input holds no "
        "elements")
    result = gg.gradcheck(lambda v: v[:0], [b], fast=fast)
    assert result.passed and str(result).splitlines()[1] == (
        "  output 0 wrt input 0 'b' (2,) float64: nothing to check: output 0 (0,) holds no "
        "elements")
    assert gg.gradgradcheck(lambda e: gg.tanh(e), [E])


def test_two_gradients_of_about_zero_are_not_read_as_a_bug():
    # std of equal values: analytic 0 (a subgradient at the kink), numeric about 6e-12. The
    # course's ratio ||g - g_num|| / (||g|| + ||g_num||) is then 1, "likely a bug" in its
    # reading, for a pair that passes.
    x = gg.Tensor(np.full(4, 2.0), requires_grad=True, name="x")
    result = gg.gradcheck(gg.std, [x])
    assert result
    (pair,) = result.pairs
    assert pair.relative_difference > 0.5
    assert "within atol of 0 in every element" in str(result)
    assert "likely a bug" not in str(result)


def test_gradients_within_atol_of_zero_are_compared_with_a_smaller_atol():
    class Flipped(gg.Function):
        """z = 1e-6 x, with a backward of the wrong sign: within atol of 0, and wrong."""

        @staticmethod
        def forward(ctx, x):
            return x * 1e-6

        @staticmethod
        def backward(ctx, grad):
            return grad * -1e-6

    x = gg.Tensor(np.ones(3), requires_grad=True, name="x")
    loose = gg.gradcheck(Flipped.apply, [x], raise_exception=False)
    assert loose and "within atol of 0 in every element" in str(loose)
    assert "give a smaller atol" in str(loose)
    strict = gg.gradcheck(Flipped.apply, [x], atol=1e-12, raise_exception=False)
    assert not strict
    assert "(likely a bug)" in str(strict) and "within atol of 0" not in str(strict)


def _scaled(forward_scale, backward_scale):
    class Scaled(gg.Function):
        """z = forward_scale x, with a backward that multiplies by backward_scale (gradcheck
        weighs the outputs, by at most 0.65 here)."""

        @staticmethod
        def forward(ctx, x):
            return x * forward_scale

        @staticmethod
        def backward(ctx, grad):
            return grad * backward_scale

    return Scaled.apply


@pytest.mark.parametrize("forward_scale, backward_scale, passed, reads", [
    (1e-6, 1e-6, True, "great"),  # equal gradients of about 0: their ratio reads well
    (2e-5, 1.2e-5, True, "likely a bug"),  # the numeric one is more than atol from 0
    (0.9e-5, -0.9e-5, False, "likely a bug"),  # both within atol of 0, but they disagree
], ids=["equal", "numeric-beyond-atol", "failing"])
def test_gradients_of_about_zero_are_said_so_only_when_both_are_and_they_pass_unequal(
        forward_scale, backward_scale, passed, reads):
    x = gg.Tensor(np.ones(3), requires_grad=True, name="x")
    result = gg.gradcheck(_scaled(forward_scale, backward_scale), [x], raise_exception=False)
    (pair,) = result.pairs
    assert bool(result) is passed and pair.passed is passed
    assert not pair.about_zero
    assert f"({reads})" in str(result)
    assert "within atol of 0 in every element" not in str(result)
