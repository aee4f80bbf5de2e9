"""PyTorch's margin losses (graphgrad/nn/margin_losses.py) and likelihood losses
(graphgrad/nn/likelihood_losses.py): values against their formulas in numpy for each
reduction, gradient checks (first and second order, at fixed inputs, over gaussian_nll_loss's
shapes of var, and over random shapes with hypothesis), the gradients at the hinges' kinks,
inputs of +-1000, float32 kept, var's clamp, and the refusals, each naming the loss."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import graphgrad as gg
from graphgrad import nn

RNG = np.random.default_rng(23)
X1, X2 = RNG.standard_normal((5, 4)), RNG.standard_normal((5, 4))
SIGNS = np.array([1.0, -1.0, -1.0, 1.0, -1.0])
PM = RNG.choice([-1.0, 1.0], (5, 4))
CLASSES = np.array([0, 3, 1, 1, 2])
WEIGHT = np.array([0.5, 2.0, 1.5, 3.0])
BITS = (RNG.random((5, 4)) < 0.5).astype(float)
TARGET_LISTS = np.array([[3, 0, -1, 1], [1, 1, 2, -1], [0, 1, 2, 3], [-1, 0, 0, 0],
                         [2, -1, 3, 3]])  # a class twice in row 1: counted twice, as PyTorch's
COUNTS = RNG.poisson(2.0, (5, 4)).astype(float)
VAR = RNG.uniform(0.2, 2.0, (5, 4))


# -- the formulas, in numpy -----------------------------------------------------------------------
def _cosine_embedding(a, b, y, margin):
    cos = (a * b).sum(-1) / np.sqrt(((a * a).sum(-1) + 1e-12) * ((b * b).sum(-1) + 1e-12))
    return np.where(y == 1, 1 - cos, np.maximum(cos - margin, 0.0))


def _multi_margin(x, y, p, margin, w):
    rows = np.arange(len(y))
    z = np.maximum(margin - x[rows, y][:, None] + x, 0.0) ** p
    z[rows, y] = 0.0
    return z.sum(-1) / x.shape[-1] * (1.0 if w is None else w[y])


def _multilabel_soft(x, y, w):
    log_sig = -np.logaddexp(0, -x)
    terms = -(y * log_sig + (1 - y) * -np.logaddexp(0, x))
    return (terms * (1.0 if w is None else w)).mean(-1)


def _multilabel_margin(x, lists):
    out = []
    for row, classes in zip(x, lists):
        targets = []
        for c in classes:
            if c < 0:
                break
            targets.append(int(c))
        total = sum(max(0.0, 1 - (row[j] - row[i])) for j in targets
                    for i in range(len(row)) if i not in targets)
        out.append(total / len(row))
    return np.array(out)


def _stirling(k):
    safe = np.where(k > 1, k, 1.0)
    return np.where(k > 1, safe * np.log(safe) - safe + 0.5 * np.log(2 * np.pi * safe), 0.0)


# loss name -> (loss with reduction=, inputs, the losses by hand, the mean's divisor)
REDUCED = {
    "cosine_embedding_loss": (
        lambda a, b, **kw: nn.cosine_embedding_loss(a, b, SIGNS, 0.1, **kw), [X1, X2],
        _cosine_embedding(X1, X2, SIGNS, 0.1), 5),
    "soft_margin_loss": (nn.soft_margin_loss, [X1, PM], np.logaddexp(0, -PM * X1), 20),
    "multi_margin_loss": (nn.multi_margin_loss, [X1, CLASSES],
                          _multi_margin(X1, CLASSES, 1, 1.0, None), 5),
    "multi_margin_loss, p=2, weight": (
        lambda x, y, **kw: nn.multi_margin_loss(x, y, 2, 0.7, WEIGHT, **kw), [X1, CLASSES],
        _multi_margin(X1, CLASSES, 2, 0.7, WEIGHT), 5),
    "multilabel_soft_margin_loss": (nn.multilabel_soft_margin_loss, [X1, BITS],
                                    _multilabel_soft(X1, BITS, None), 5),
    "multilabel_soft_margin_loss, weight": (
        lambda x, y, **kw: nn.multilabel_soft_margin_loss(x, y, WEIGHT, **kw), [X1, BITS],
        _multilabel_soft(X1, BITS, WEIGHT), 5),
    "multilabel_margin_loss": (nn.multilabel_margin_loss, [X1, TARGET_LISTS],
                               _multilabel_margin(X1, TARGET_LISTS), 5),
    "poisson_nll_loss": (nn.poisson_nll_loss, [X1, COUNTS], np.exp(X1) - COUNTS * X1, 20),
    "poisson_nll_loss, rates, full": (
        lambda x, k, **kw: nn.poisson_nll_loss(x, k, False, True, eps=1e-4, **kw),
        [X1 ** 2, COUNTS], X1 ** 2 - COUNTS * np.log(X1 ** 2 + 1e-4) + _stirling(COUNTS), 20),
    "gaussian_nll_loss": (lambda mu, y, **kw: nn.gaussian_nll_loss(mu, y, VAR, **kw), [X1, X2],
                          0.5 * (np.log(VAR) + (X1 - X2) ** 2 / VAR), 20),
    "gaussian_nll_loss, var (m,), full": (
        lambda mu, y, **kw: nn.gaussian_nll_loss(mu, y, VAR[:, 0], True, **kw), [X1, X2],
        0.5 * (np.log(VAR[:, :1]) + (X1 - X2) ** 2 / VAR[:, :1]) + 0.5 * np.log(2 * np.pi),
        20),
}


@pytest.mark.parametrize("name", list(REDUCED))
def test_each_reduction_is_the_formulas_losses_their_sum_or_their_mean(name):
    loss, inputs, losses, divisor = REDUCED[name]
    each = loss(*inputs, reduction="none")
    assert each.shape == losses.shape
    np.testing.assert_allclose(each.data, losses, rtol=1e-12, atol=1e-15)
    assert loss(*inputs, reduction="sum").item() == pytest.approx(losses.sum(), rel=1e-12)
    mean = loss(*inputs).item()
    assert mean == loss(*inputs, reduction="mean").item()
    assert mean == pytest.approx(losses.sum() / divisor, rel=1e-12)


@pytest.mark.parametrize("name", list(REDUCED))
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_each_reduction_keeps_float32(name, reduction):
    loss, inputs, losses, divisor = REDUCED[name]
    inputs = [x.astype(np.float32) if x.dtype.kind == "f" else x for x in inputs]
    x = gg.Tensor(inputs[0], requires_grad=True)
    J = loss(x, *inputs[1:], reduction=reduction)
    J.backward(np.ones(J.shape, np.float32))
    assert J.dtype == x.grad.dtype == np.float32
    expected = {"none": losses, "sum": losses.sum()}.get(reduction, losses.sum() / divisor)
    np.testing.assert_allclose(J.data, expected, rtol=2e-5, atol=1e-5)


# -- gradients ------------------------------------------------------------------------------------
LOSSES = {
    "cosine_embedding_loss (both inputs)": (
        lambda a, b: nn.cosine_embedding_loss(a, b, SIGNS, -0.2), [X1, X2]),
    "cosine_embedding_loss, one pair (n_e,)": (
        lambda a, b: nn.cosine_embedding_loss(a, b, -1.0, -0.5), [X1[0], X2[0]]),
    "soft_margin_loss, none": (lambda x: nn.soft_margin_loss(x, PM, reduction="none"), [X1]),
    "multi_margin_loss": (lambda x: nn.multi_margin_loss(x, CLASSES), [X1]),
    "multi_margin_loss, p=2, weight, sum": (
        lambda x: nn.multi_margin_loss(x, CLASSES, 2, 0.7, WEIGHT, reduction="sum"), [X1]),
    "multi_margin_loss, one example (C,)": (lambda x: nn.multi_margin_loss(x, 2), [X1[0]]),
    "multilabel_soft_margin_loss, weight": (
        lambda x: nn.multilabel_soft_margin_loss(x, BITS, WEIGHT), [X1]),
    "multilabel_margin_loss, none": (
        lambda x: nn.multilabel_margin_loss(x, TARGET_LISTS, reduction="none"), [X1]),
    "poisson_nll_loss, full": (lambda x: nn.poisson_nll_loss(x, COUNTS, full=True), [X1]),
    "poisson_nll_loss, rates": (lambda r: nn.poisson_nll_loss(r, COUNTS, False), [VAR]),
    "gaussian_nll_loss (three inputs)": (nn.gaussian_nll_loss, [X1, X2, VAR]),
    "gaussian_nll_loss, var (m,) (three inputs)": (nn.gaussian_nll_loss, [X1, X2, VAR[:, 0]]),
    "gaussian_nll_loss, var (m, 1) (three inputs)": (nn.gaussian_nll_loss,
                                                     [X1, X2, VAR[:, :1]]),
    "gaussian_nll_loss, var (1, n), none (three inputs)": (
        lambda mu, y, v: nn.gaussian_nll_loss(mu, y, v, reduction="none"), [X1, X2, VAR[:1]]),
}


@pytest.mark.parametrize("name", list(LOSSES))
def test_every_loss_passes_gradcheck_and_gradgradcheck(name):
    fn, inputs = LOSSES[name]
    assert gg.gradcheck(fn, [a.copy() for a in inputs])
    assert gg.gradgradcheck(fn, [a.copy() for a in inputs])


def _case(shape, rng, name):
    """(loss of the checked inputs, inputs) for a drawn shape (..., C), away from the kinks
    (a kink between two finite differences is no derivative)."""
    x = rng.standard_normal(shape)
    lead, n = shape[:-1], shape[-1]
    if name == "cosine_embedding_loss":
        y = rng.choice([-1.0, 1.0], lead)
        return lambda a, b: nn.cosine_embedding_loss(a, b, y, -2.0, reduction="sum"), [
            x, rng.standard_normal(shape)]
    if name == "soft_margin_loss":
        signs = rng.choice([-1.0, 1.0], shape)
        return lambda a: nn.soft_margin_loss(a, signs), [x]
    if name == "multi_margin_loss":
        y = rng.integers(0, n, lead)
        return lambda a: nn.multi_margin_loss(a, y, 2, 20.0, reduction="none"), [x]
    if name == "multilabel_soft_margin_loss":
        bits = rng.random(shape) < 0.5
        return lambda a: nn.multilabel_soft_margin_loss(a, bits), [x]
    if name == "multilabel_margin_loss":
        lists = np.where(rng.random(shape) < 0.3, -1, rng.integers(0, n, shape))
        return lambda a: nn.multilabel_margin_loss(a * 0.01, lists, reduction="sum"), [x]
    if name == "poisson_nll_loss":
        k = rng.poisson(1.5, shape).astype(float)
        return lambda a: nn.poisson_nll_loss(a, k, full=True), [x]
    var_shape = draw_var_shape(shape, rng)
    return lambda mu, y, v: nn.gaussian_nll_loss(mu, y, v, reduction="sum"), [
        x, rng.standard_normal(shape), rng.uniform(0.3, 2.0, var_shape)]


def draw_var_shape(shape, rng):
    """One of PyTorch's shapes of var for predictions of ``shape``."""
    choice = rng.integers(0, 3)
    if choice == 0:
        return shape
    if choice == 1:
        return shape[:-1]
    axis = rng.integers(0, len(shape))
    return shape[:axis] + (1,) + shape[axis + 1:]


NAMES = ["cosine_embedding_loss", "soft_margin_loss", "multi_margin_loss",
         "multilabel_soft_margin_loss", "multilabel_margin_loss", "poisson_nll_loss",
         "gaussian_nll_loss"]


@given(name=st.sampled_from(NAMES),
       shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
       seed=st.integers(0, 2**32 - 1))
def test_every_loss_over_random_shapes_passes_gradcheck_and_gradgradcheck(name, shape, seed):
    fn, inputs = _case(shape, np.random.default_rng(seed), name)
    assert gg.gradcheck(fn, [a.copy() for a in inputs], fast=True)
    assert gg.gradgradcheck(fn, [a.copy() for a in inputs], fast=True)


def _grad(fn, x):
    t = gg.Tensor(np.asarray(x, float), requires_grad=True)
    fn(t).backward()
    return t.grad


def test_the_gradients_at_the_hinges_kinks_are_pytorchs():
    """multi_margin_loss and multilabel_margin_loss pass no gradient where a hinge is at 0
    (their kernels test z > 0); cosine_embedding_loss's max(0, cos - margin) passes it at 0
    (clamp_min's)."""
    # scores 1, 0, 0 for class 0 with margin 1: both other classes at the kink
    np.testing.assert_array_equal(_grad(lambda x: nn.multi_margin_loss(x, 0), [1.0, 0.0, 0.0]),
                                  [0.0, 0.0, 0.0])
    np.testing.assert_allclose(_grad(lambda x: nn.multi_margin_loss(x, 0), [0.5, 0.0, 0.0]),
                               [-2 / 3, 1 / 3, 1 / 3], rtol=1e-15)
    np.testing.assert_array_equal(
        _grad(lambda x: nn.multilabel_margin_loss(x, [0, -1, 1]), [1.0, 0.0, 0.0]), [0, 0, 0])
    a = gg.Tensor([[1.0, 0.0]], requires_grad=True)
    nn.cosine_embedding_loss(a, np.array([[1.0, 0.0]]), [-1.0], margin=1.0).backward()
    assert np.all(np.isfinite(a.grad))  # cos = margin = 1: the kink, gradient passed
    b = gg.Tensor([[1.0, 0.0]], requires_grad=True)
    nn.cosine_embedding_loss(b, np.array([[1.0, 1.0]]), [-1.0], margin=0.0).backward()
    np.testing.assert_allclose(a.grad, 0.0, atol=1e-12)  # at cos = 1 its own slope is 0
    assert np.any(b.grad != 0)


def test_at_plus_and_minus_1000_the_losses_are_finite_with_their_limits():
    """soft_margin_loss and multilabel_soft_margin_loss are log-sigmoids (PyTorch's
    soft_margin_loss is inf at -y x = 1000); the hinges are linear there."""
    big = np.array([[1000.0, -1000.0]])
    for fn, value, slope in [
            (lambda x: nn.soft_margin_loss(x, [[-1.0, 1.0]], reduction="sum"), 2000.0,
             [[1.0, -1.0]]),
            (lambda x: nn.soft_margin_loss(x, [[1.0, -1.0]], reduction="sum"), 0.0, [[0, 0]]),
            (lambda x: nn.multilabel_soft_margin_loss(x, [[0.0, 1.0]]), 1000.0, [[0.5, -0.5]]),
            (lambda x: nn.multi_margin_loss(x, [1]), 1000.5, [[0.5, -0.5]]),
            (lambda x: nn.multilabel_margin_loss(x, [[1, -1]]), 1000.5, [[0.5, -0.5]]),
            (lambda x: nn.cosine_embedding_loss(x, [[1.0, 1.0]], [1.0]), 1.0, None),
            (lambda x: nn.gaussian_nll_loss(x, np.zeros((1, 2)), 1.0, reduction="sum"),
             1e6, [[1000.0, -1000.0]])]:
        t = gg.Tensor(big, requires_grad=True)
        J = fn(t)
        J.backward()
        assert J.item() == pytest.approx(value, rel=1e-12, abs=1e-12)
        assert np.all(np.isfinite(t.grad))
        if slope is not None:
            np.testing.assert_allclose(t.grad, slope, rtol=1e-12, atol=1e-300)


@given(name=st.sampled_from(NAMES),
       shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
       seed=st.integers(0, 2**32 - 1), scale=st.sampled_from([1.0, 30.0, 1000.0]),
       dtype=st.sampled_from([np.float64, np.float32]))
def test_inputs_up_to_1000_give_finite_losses_and_gradients(name, shape, seed, scale, dtype):
    """Outputs drawn up to +-1000 (Poisson's rates up to 1000, log_input=False: its e**x
    overflows beyond 709 in float64, 88 in float32, as PyTorch's), in float64 and float32: the
    loss and every input's gradient finite, in the outputs' dtype."""
    rng = np.random.default_rng(seed)
    fn, inputs = _case(shape, rng, name)
    if name == "poisson_nll_loss":
        k = rng.poisson(3.0, shape).astype(float)
        fn, inputs = (lambda r: nn.poisson_nll_loss(r, k, False, True)), [np.abs(inputs[0])]
    inputs[0] = np.clip(inputs[0] * scale, -1000, 1000)
    tensors = [gg.Tensor(a.astype(dtype), requires_grad=True) for a in inputs]
    J = fn(*tensors)
    grads = gg.grad(J.sum(), tensors)
    assert J.dtype == dtype and np.all(np.isfinite(J.data))
    for g in grads:
        assert g.dtype == dtype and np.all(np.isfinite(g))


def test_gaussian_nll_loss_clamps_var_at_eps_and_passes_var_its_gradient_there():
    """A var below eps is taken at eps in value, exactly, and gets the gradient at eps, as
    PyTorch's clamp made under no_grad passes it: a variance driven below eps is pushed back
    up. var = 0 is taken (eps), a negative one refused."""
    mu, y = np.array([0.0, 0.0, 1.0]), np.array([0.0, 0.0, 0.0])
    var = gg.Tensor([1e-9, 0.0, 0.5], requires_grad=True)
    J = nn.gaussian_nll_loss(mu, y, var, eps=1e-6, reduction="none")
    np.testing.assert_array_equal(J.data, 0.5 * (np.log([1e-6, 1e-6, 0.5]) + [0, 0, 2.0]))
    J.sum().backward()
    v = np.array([1e-6, 1e-6, 0.5])
    np.testing.assert_allclose(var.grad, 0.5 * (1 / v - np.array([0, 0, 1.0]) / v ** 2),
                               rtol=1e-12)


def test_poisson_nll_loss_full_adds_stirlings_term_where_the_count_is_above_1():
    k = np.array([0.0, 1.0, 2.0, 10.0])
    x = np.zeros(4)
    extra = (nn.poisson_nll_loss(x, k, full=True, reduction="none").data
             - nn.poisson_nll_loss(x, k, reduction="none").data)
    np.testing.assert_allclose(extra, [0, 0, 2 * math.log(2) - 2 + 0.5 * math.log(4 * math.pi),
                                       10 * math.log(10) - 10 + 0.5 * math.log(20 * math.pi)],
                               rtol=1e-14)
    # close to log k! for large k, as Stirling's is meant to be
    assert extra[3] == pytest.approx(math.lgamma(11), rel=1e-2)
    counts = gg.Tensor(k, requires_grad=True)  # targets that require grad: finite, 0 at k <= 1
    nn.poisson_nll_loss(x, counts, full=True, reduction="sum").backward()
    np.testing.assert_allclose(counts.grad, [0, 0, math.log(2) + 0.25, math.log(10) + 0.05],
                               rtol=1e-14)


# -- refusals -------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, error, message", [
    (lambda: nn.cosine_embedding_loss(X1, X2[:, :3], SIGNS), gg.ShapeError,
     r"^cosine_embedding_loss: x2 .*\(5, 3\).* must have the shape of x1 .*\(5, 4\)"),
    (lambda: nn.cosine_embedding_loss(X1, X2, SIGNS[:4]), gg.ShapeError,
     r"^cosine_embedding_loss: x1 and x2 .*\(5, 4\).* take one target per pair, of shape "
     r"\(5,\), got target .*\(4,\)"),
    (lambda: nn.cosine_embedding_loss(X1, X2, (SIGNS + 1) / 2), gg.ArgumentError,
     r"^cosine_embedding_loss: the targets .* must be 1 or -1, got 0.*pass 2 \* y - 1"),
    (lambda: nn.soft_margin_loss(X1, BITS), gg.ArgumentError,
     r"^soft_margin_loss: the targets .* must be 1 or -1"),
    (lambda: nn.soft_margin_loss(X1, PM.T), gg.ShapeError,
     r"^soft_margin_loss: predictions .*\(5, 4\).* and labels .*\(4, 5\).* same shape"),
    (lambda: nn.multi_margin_loss(X1, CLASSES, p=3), gg.ArgumentError,
     r"^multi_margin_loss: p must be 1 \(the hinge\) or 2"),
    (lambda: nn.multi_margin_loss(X1, [0, 1, 2, 3, 4]), gg.ArgumentError,
     r"^multi_margin_loss: .*4"),
    (lambda: nn.multi_margin_loss(X1, np.eye(4)[CLASSES]), gg.ShapeError,
     r"^multi_margin_loss: the outputs .*\(5, 4\).* take one class index per example, of "
     r"shape \(5,\), got labels of shape \(5, 4\). One-hot rows\?"),
    (lambda: nn.multi_margin_loss(X1, CLASSES, weight=[1.0, 2.0]), gg.ShapeError,
     r"^multi_margin_loss: weight"),
    (lambda: nn.multilabel_soft_margin_loss(X1, BITS[:, :3]), gg.ShapeError,
     r"^multilabel_soft_margin_loss: predictions .*\(5, 4\).* and labels .*\(5, 3\)"),
    (lambda: nn.multilabel_margin_loss(X1, CLASSES), gg.ShapeError,
     r"^multilabel_margin_loss: the outputs .*\(5, 4\).* take labels of their shape \(5, 4\)"
     r".*then -1.*got labels of shape \(5,\)"),
    (lambda: nn.multilabel_margin_loss(X1, TARGET_LISTS - 1), gg.ArgumentError,
     r"^multilabel_margin_loss: each label must be a class index 0..3 or -1 .*got -2"),
    (lambda: nn.multilabel_margin_loss(X1, TARGET_LISTS + 0.5), gg.ArgumentError,
     r"^multilabel_margin_loss: the labels must be class indices"),
    (lambda: nn.poisson_nll_loss(X1, -COUNTS - 1), gg.ArgumentError,
     r"^poisson_nll_loss: the targets \(counts\) .* must be >= 0, got -"),
    (lambda: nn.poisson_nll_loss(X1, COUNTS, log_input=False), gg.ArgumentError,
     r"^poisson_nll_loss: the rates \(log_input=False\) .* must be >= 0.*log_input=True"),
    (lambda: nn.poisson_nll_loss(X1, COUNTS, eps=math.inf), gg.ArgumentError,
     r"^poisson_nll_loss: eps must be a finite number >= 0"),
    (lambda: nn.poisson_nll_loss(X1, COUNTS, reduction="avg"), gg.ArgumentError,
     r"^poisson_nll_loss: reduction must be"),
    (lambda: nn.gaussian_nll_loss(X1, X2, -VAR), gg.ArgumentError,
     r"^gaussian_nll_loss: the variances var 'var' \(5, 4\) float64 must be >= 0"),
    (lambda: nn.gaussian_nll_loss(X1, X2, -1.0), gg.ArgumentError,
     r"^gaussian_nll_loss: var must be a number >= 0, or numbers >= 0"),
    (lambda: nn.gaussian_nll_loss(X1, X2, VAR[:, :2]), gg.ShapeError,
     r"^gaussian_nll_loss: var 'var' \(5, 2\) float64 must have the predictions' shape "
     r"\(5, 4\)"),
    (lambda: nn.gaussian_nll_loss(X1, X2, VAR[:1, :1]), gg.ShapeError,
     r"^gaussian_nll_loss: var .*\(1, 1\)"),
    (lambda: nn.gaussian_nll_loss(X1, X2[:, :3], VAR), gg.ShapeError,
     r"^gaussian_nll_loss: predictions .*\(5, 4\).* and labels .*\(5, 3\)"),
    (lambda: nn.multi_margin_loss(np.zeros((0, 3)), np.zeros(0, int)), gg.ShapeError,
     r"^multi_margin_loss: the predictions .* hold no examples"),
], ids=["cosine x2 shape", "cosine target shape", "cosine 0/1", "soft 0/1", "soft shape",
        "multi p", "multi class", "multi one-hot", "multi weight", "multilabel_soft shape",
        "multilabel labels shape", "multilabel -2", "multilabel floats", "poisson counts",
        "poisson rates", "poisson eps", "poisson reduction", "gaussian negative var",
        "gaussian negative number", "gaussian var shape", "gaussian var (1, 1)",
        "gaussian shape", "multi empty"])
def test_refusals_name_the_loss_and_the_shapes(call, error, message):
    with pytest.raises(error, match=message):
        call()
