"""PyTorch's other losses, composed of ops (graphgrad/nn/composed_losses.py): values against
their formulas in numpy, each reduction, gradient checks (first and second order, at fixed
inputs, at the kinks, and over random shapes), the gradients at the kinks, float32 kept,
nll_loss(log_softmax(Z)) against cross_entropy(Z), the course's triplet loss, errors, and
`fit` with the regression losses."""
import functools
import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from test_course45_assignments import triplet_loss as course_triplet_loss

import graphgrad as gg
from graphgrad import nn, optim

RNG = np.random.default_rng(11)
A = RNG.standard_normal((5, 4))
Y = RNG.standard_normal((5, 4))
Z = RNG.standard_normal((5, 4))
LOG_P = Z - np.logaddexp.reduce(Z, axis=-1, keepdims=True)
CLASSES = np.array([0, 3, 1, 1, 2])
WEIGHT = np.array([0.5, 2.0, 1.5, 3.0])
P = RNG.dirichlet(np.ones(4), size=5)
Z_SEQUENCE = RNG.standard_normal((2, 3, 4))
SEQUENCE_CLASSES = np.array([[0, 2, -100], [1, 3, 3]])  # -100: padding
ANCHOR, POSITIVE, NEGATIVE = (RNG.standard_normal((6, 3)) for _ in range(3))
X1, X2 = RNG.standard_normal(6), RNG.standard_normal(6)
SIGNS = np.array([1.0, -1.0, -1.0, 1.0, 1.0, -1.0])


# -- the formulas, in numpy -----------------------------------------------------------------------
def _smooth_l1(d, beta):
    return np.where(np.abs(d) < beta, 0.5 * d ** 2 / beta, np.abs(d) - 0.5 * beta)


def _huber(d, delta):
    return np.where(np.abs(d) < delta, 0.5 * d ** 2, delta * (np.abs(d) - 0.5 * delta))


def _nll(log_p, classes, weight=None, ignore=None):
    """Each position's -w_y log_p[y] (0 where ignored) and the mean's divisor."""
    kept = np.ones(classes.shape, bool) if ignore is None else classes != ignore
    index = np.where(kept, classes, 0)
    w = np.ones(log_p.shape[-1]) if weight is None else weight
    scale = w[index] * kept
    picked = np.take_along_axis(log_p, index[..., None], axis=-1)[..., 0]
    return -picked * scale, scale.sum()


def _kl(log_q, p):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(p > 0, p * (np.log(np.where(p > 0, p, 1.0)) - log_q), 0.0)


def _cosine(x1, x2, eps=1e-8, axis=-1):
    x1, x2 = np.broadcast_arrays(x1, x2)  # the vectors are the broadcast shape's
    n1 = np.maximum(np.linalg.norm(x1, axis=axis, keepdims=True), eps)
    n2 = np.maximum(np.linalg.norm(x2, axis=axis, keepdims=True), eps)
    return np.sum(x1 * x2 / (n1 * n2), axis=axis)


def _triplet(a, p, n, margin=1.0, order=2, eps=1e-6):
    def distance(u, v):
        return np.linalg.norm(u - v + eps, ord=order, axis=-1)
    return np.maximum(distance(a, p) - distance(a, n) + margin, 0.0)


# loss name -> (loss with reduction=, inputs, the losses by hand, the mean's divisor)
REDUCED = {
    "l1_loss": (nn.l1_loss, [A, Y], np.abs(A - Y), 20),
    "smooth_l1_loss": (lambda a, y, **kw: nn.smooth_l1_loss(a, y, 0.7, **kw), [A, Y],
                       _smooth_l1(A - Y, 0.7), 20),
    "smooth_l1_loss, beta=0": (lambda a, y, **kw: nn.smooth_l1_loss(a, y, beta=0.0, **kw),
                               [A, Y], np.abs(A - Y), 20),
    "huber_loss": (lambda a, y, **kw: nn.huber_loss(a, y, 0.7, **kw), [A, Y],
                   _huber(A - Y, 0.7), 20),
    "nll_loss": (nn.nll_loss, [LOG_P, CLASSES], _nll(LOG_P, CLASSES)[0], 5),
    "nll_loss, weight, ignore_index": (
        lambda x, y, **kw: nn.nll_loss(x, y, WEIGHT, ignore_index=1, **kw), [LOG_P, CLASSES],
        *_nll(LOG_P, CLASSES, WEIGHT, 1)),
    "nll_loss, (m, T, C)": (
        lambda x, y, **kw: nn.nll_loss(x, y, ignore_index=-100, **kw),
        [gg.log_softmax(Z_SEQUENCE, axis=-1).data, SEQUENCE_CLASSES],
        *_nll(gg.log_softmax(Z_SEQUENCE, axis=-1).data, SEQUENCE_CLASSES, ignore=-100)),
    "kl_div, batchmean": (nn.kl_div, [LOG_P, P], _kl(LOG_P, P), 5),
    "kl_div, log_target": (lambda x, y, **kw: nn.kl_div(x, np.log(y), log_target=True, **kw),
                           [LOG_P, P], _kl(LOG_P, P), 5),
    "triplet_margin_loss": (nn.triplet_margin_loss, [ANCHOR, POSITIVE, NEGATIVE],
                            _triplet(ANCHOR, POSITIVE, NEGATIVE), 6),
    "triplet_margin_loss, p=1, margin=2": (
        lambda a, p, n, **kw: nn.triplet_margin_loss(a, p, n, margin=2.0, p=1, **kw),
        [ANCHOR, POSITIVE, NEGATIVE], _triplet(ANCHOR, POSITIVE, NEGATIVE, 2.0, 1), 6),
    "triplet_margin_loss, swap": (
        lambda a, p, n, **kw: nn.triplet_margin_loss(a, p, n, margin=3.0, swap=True, **kw),
        [ANCHOR, POSITIVE, NEGATIVE],
        np.maximum(np.linalg.norm(ANCHOR - POSITIVE + 1e-6, axis=-1) - np.minimum(
            np.linalg.norm(ANCHOR - NEGATIVE + 1e-6, axis=-1),
            np.linalg.norm(POSITIVE - NEGATIVE + 1e-6, axis=-1)) + 3.0, 0.0), 6),
    "margin_ranking_loss": (lambda a, b, **kw: nn.margin_ranking_loss(a, b, SIGNS, 0.3, **kw),
                            [X1, X2], np.maximum(0.0, -SIGNS * (X1 - X2) + 0.3), 6),
    "hinge_embedding_loss": (lambda x, **kw: nn.hinge_embedding_loss(x, SIGNS, 0.8, **kw),
                             [X1], np.where(SIGNS == 1, X1, np.maximum(0.0, 0.8 - X1)), 6),
}


@pytest.mark.parametrize("name", list(REDUCED))
def test_each_reduction_is_the_formulas_losses_their_sum_or_their_mean(name):
    loss, inputs, losses, divisor = REDUCED[name]
    each = loss(*inputs, reduction="none")
    assert each.shape == losses.shape
    np.testing.assert_allclose(each.data, losses, rtol=1e-12, atol=1e-15)
    total = loss(*inputs, reduction="sum").item()
    assert total == pytest.approx(losses.sum(), rel=1e-12)
    default = "batchmean" if name.startswith("kl_div") else "mean"
    mean = loss(*inputs, reduction=default).item()
    assert mean == loss(*inputs).item()  # the default, bit for bit
    assert mean == pytest.approx(losses.sum() / divisor, rel=1e-12)


@pytest.mark.parametrize("name", list(REDUCED))
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_each_reduction_keeps_float32(name, reduction):
    loss, inputs, losses, divisor = REDUCED[name]
    if name.startswith("kl_div") and reduction == "mean":
        reduction = "batchmean"
    inputs = [x.astype(np.float32) if x.dtype.kind == "f" else x for x in inputs]
    x = gg.Tensor(inputs[0], requires_grad=True)
    J = loss(x, *inputs[1:], reduction=reduction)
    J.backward(np.ones(J.shape, np.float32))
    assert J.dtype == x.grad.dtype == np.float32
    expected = {"none": losses, "sum": losses.sum()}.get(reduction, losses.sum() / divisor)
    np.testing.assert_allclose(J.data, expected, rtol=2e-5, atol=1e-6)


# -- gradients ------------------------------------------------------------------------------------
LOSSES = {
    "l1_loss (both inputs)": (nn.l1_loss, [A, Y]),
    "l1_loss, none": (lambda a: nn.l1_loss(a, Y, reduction="none"), [A]),
    "smooth_l1_loss (both inputs)": (lambda a, y: nn.smooth_l1_loss(a, y, 0.7), [A, Y]),
    "smooth_l1_loss, sum": (lambda a: nn.smooth_l1_loss(a, Y, 0.7, reduction="sum"), [A]),
    "huber_loss (both inputs)": (lambda a, y: nn.huber_loss(a, y, 0.7), [A, Y]),
    "huber_loss, none": (lambda a: nn.huber_loss(a, Y, 0.7, reduction="none"), [A]),
    "nll_loss": (lambda x: nn.nll_loss(x, CLASSES), [LOG_P]),
    "nll_loss, weight, ignore_index, none": (
        lambda x: nn.nll_loss(x, CLASSES, WEIGHT, ignore_index=1, reduction="none"), [LOG_P]),
    "nll_loss, (m, T, C), weight, ignore_index": (
        lambda x: nn.nll_loss(x, SEQUENCE_CLASSES, WEIGHT, ignore_index=-100),
        [gg.log_softmax(Z_SEQUENCE, axis=-1).data]),
    "kl_div (both inputs)": (nn.kl_div, [LOG_P, P]),
    "kl_div, none (both inputs)": (lambda x, p: nn.kl_div(x, p, reduction="none"), [LOG_P, P]),
    "kl_div, log_target, sum (both inputs)": (
        lambda x, lp: nn.kl_div(x, lp, log_target=True, reduction="sum"), [LOG_P, np.log(P)]),
    "cosine_similarity (both inputs)": (nn.cosine_similarity, [A, Y]),
    "cosine_similarity, axis 0, broadcast (both inputs)": (
        lambda a, b: nn.cosine_similarity(a, b, axis=0), [A, Y[:, :1]]),
    "triplet_margin_loss (three inputs)": (
        lambda a, p, n: nn.triplet_margin_loss(a, p, n, margin=2.0), [ANCHOR, POSITIVE, NEGATIVE]),
    "triplet_margin_loss, p=1, swap, none (three inputs)": (
        lambda a, p, n: nn.triplet_margin_loss(a, p, n, 3.0, 1, swap=True, reduction="none"),
        [ANCHOR, POSITIVE, NEGATIVE]),
    "triplet_margin_loss, squared (three inputs)": (
        lambda a, p, n: nn.triplet_margin_loss(a, p, n, 2.0, squared=True),
        [ANCHOR, POSITIVE, NEGATIVE]),
    "margin_ranking_loss (both inputs)": (
        lambda a, b: nn.margin_ranking_loss(a, b, SIGNS, 0.3), [X1, X2]),
    "hinge_embedding_loss": (lambda x: nn.hinge_embedding_loss(x, SIGNS, 0.8), [X1]),
}


@pytest.mark.parametrize("name", list(LOSSES))
def test_every_loss_passes_gradcheck_and_gradgradcheck(name):
    fn, inputs = LOSSES[name]
    assert gg.gradcheck(fn, [a.copy() for a in inputs])
    assert gg.gradgradcheck(fn, [a.copy() for a in inputs])


def _regression_case(loss):
    def build(shape, rng):
        return loss, [rng.standard_normal(shape), rng.standard_normal(shape)]
    return build


def _nll_case(shape, rng):
    classes = np.where(rng.random(shape[:-1]) < 0.3, -1, rng.integers(0, shape[-1], shape[:-1]))
    weight = rng.uniform(0.1, 3.0, shape[-1])
    z = rng.standard_normal(shape)
    return (lambda x: nn.nll_loss(x, classes, weight, ignore_index=-1, reduction="sum"),
            [z - np.logaddexp.reduce(z, axis=-1, keepdims=True)])


def _kl_case(shape, rng):
    z = rng.standard_normal(shape)
    return nn.kl_div, [z - np.logaddexp.reduce(z, axis=-1, keepdims=True),
                       rng.uniform(0.05, 1.0, shape)]


# name -> (shape, rng) -> (loss of the checked inputs, inputs)
LOSS_CASES = {
    "l1_loss": _regression_case(nn.l1_loss),
    "smooth_l1_loss": _regression_case(lambda a, y: nn.smooth_l1_loss(a, y, 0.5,
                                                                      reduction="none")),
    "huber_loss": _regression_case(lambda a, y: nn.huber_loss(a, y, 0.5, reduction="sum")),
    "nll_loss": _nll_case,
    "kl_div": _kl_case,
    "cosine_similarity": _regression_case(nn.cosine_similarity),
    "triplet_margin_loss": lambda shape, rng: (
        lambda a, p, n: nn.triplet_margin_loss(a, p, n, margin=1.5, reduction="none"),
        [rng.standard_normal(shape) for _ in range(3)]),
}


@st.composite
def loss_cases(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    name = draw(st.sampled_from(list(LOSS_CASES)))
    return (name, *LOSS_CASES[name](shape, rng))


@given(loss_cases())
def test_every_loss_over_random_shapes_passes_gradcheck_and_gradgradcheck(case):
    _, fn, inputs = case
    assert gg.gradcheck(fn, [a.copy() for a in inputs], fast=True)
    assert gg.gradgradcheck(fn, [a.copy() for a in inputs], fast=True)


def test_the_gradients_at_the_kinks_are_pytorchs():
    """At d = A - Y = 0, l1's subgradient is 0 (sign(0), as PyTorch's). At |d| = beta (delta)
    smooth_l1 and huber are smooth to first order: the gradient is sign(d) (delta sign(d)),
    which finite differences confirm, and the second derivative is the linear branch's, 0, as
    PyTorch's; just inside, it is 1 / beta (1)."""
    d = np.array([0.0, 0.5, -0.5, 0.5 - 1e-3, 2.0])
    zeros = np.zeros(5)
    for loss, slope, curvature in [
            (lambda a: nn.l1_loss(a, zeros, reduction="sum"), np.sign(d), [0, 0, 0, 0, 0]),
            (lambda a: nn.smooth_l1_loss(a, zeros, 0.5, reduction="sum"),
             [0, 1, -1, (0.5 - 1e-3) / 0.5, 1], [2, 0, 0, 2, 0]),
            (lambda a: nn.huber_loss(a, zeros, 0.5, reduction="sum"),
             [0, 0.5, -0.5, 0.5 - 1e-3, 0.5], [1, 0, 0, 1, 0])]:
        a = gg.Tensor(d, requires_grad=True)
        (da,) = gg.grad(loss(a), [a], create_graph=True)
        np.testing.assert_allclose(da.data, slope, rtol=1e-12)
        if da.requires_grad:
            (d2a,) = gg.grad(da.sum(), [a])
            np.testing.assert_allclose(d2a, curvature, rtol=1e-12)
        else:  # l1's slope, sign(d), is a constant: its derivative is 0
            assert not np.any(curvature)
    at_beta = np.array([0.5, -0.5, 0.3])
    assert gg.gradcheck(lambda a: nn.smooth_l1_loss(a, np.zeros(3), 0.5), [at_beta])
    assert gg.gradcheck(lambda a: nn.huber_loss(a, np.zeros(3), 0.5), [at_beta])


def test_the_regression_losses_are_symmetric_in_their_two_arguments():
    for loss in (nn.l1_loss, nn.smooth_l1_loss, nn.huber_loss):
        first, second = gg.Tensor(A, requires_grad=True), gg.Tensor(A, requires_grad=True)
        loss(first, Y).backward()
        loss(Y, second).backward()
        assert loss(A, Y).item() == loss(Y, A).item()
        np.testing.assert_allclose(second.grad, first.grad, rtol=1e-14)


def test_huber_is_delta_times_smooth_l1_and_large_differences_do_not_overflow():
    for delta in (0.3, 1.0, 2.5):
        assert nn.huber_loss(A, Y, delta).item() == pytest.approx(
            delta * nn.smooth_l1_loss(A, Y, beta=delta).item(), rel=1e-12)
    big = np.array([3e38, -3e38], np.float32)  # d^2 is inf in float32; the loss is not
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        losses = nn.huber_loss(big, np.zeros(2, np.float32), reduction="none")
    np.testing.assert_allclose(losses.data, 3e38, rtol=1e-6)


# -- nll_loss and kl_div --------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("options", [{}, {"weight": WEIGHT}, {"ignore_index": 2},
                                     {"weight": WEIGHT, "ignore_index": 0}],
                         ids=["plain", "weight", "ignore_index", "both"])
def test_nll_loss_of_log_softmax_is_cross_entropy(options, reduction):
    for logits, classes in ((Z, CLASSES), (Z_SEQUENCE, np.where(SEQUENCE_CLASSES < 0, 0,
                                                                 SEQUENCE_CLASSES))):
        z1, z2 = gg.Tensor(logits, requires_grad=True), gg.Tensor(logits, requires_grad=True)
        ours = nn.nll_loss(gg.log_softmax(z1, axis=-1), classes, reduction=reduction, **options)
        fused = nn.cross_entropy(z2, classes, reduction=reduction, **options)
        np.testing.assert_allclose(ours.data, fused.data, rtol=1e-12, atol=1e-15)
        upstream = RNG.standard_normal(ours.shape)
        ours.backward(upstream)
        fused.backward(upstream)
        np.testing.assert_allclose(z1.grad, z2.grad, rtol=1e-10, atol=1e-15)


def test_nll_loss_over_ignored_positions_alone_costs_zero_with_a_zero_gradient():
    """As cross_entropy's (PyTorch gives NaN, 0/0)."""
    x = gg.Tensor(LOG_P, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        J = nn.nll_loss(x, np.full(5, -100), ignore_index=-100)
        J.backward()
    assert J.item() == 0.0 and not np.signbit(J.item())
    np.testing.assert_array_equal(x.grad, 0.0)
    perfect = nn.nll_loss(np.zeros((2, 3)), [0, 2], reduction="none").data
    assert list(perfect) == [0.0, 0.0] and not np.signbit(perfect).any()


def test_kl_div_counts_0_log_0_as_0_with_finite_gradients():
    """Where p = 0 the term is 0, log q = -inf there too (PyTorch's value is NaN then, and its
    gradient with respect to p NaN wherever p = 0); a p that requires grad gets
    log p - log q + 1 where p > 0 and 0 where p = 0."""
    p = np.array([[0.0, 0.5, 0.5], [0.25, 0.75, 0.0]])
    with np.errstate(divide="ignore"):
        log_q = np.log(np.array([[0.2, 0.3, 0.5], [0.5, 0.5, 0.0]]))  # -inf at the end
        log_p = np.log(p)
    x, y = gg.Tensor(log_q, requires_grad=True), gg.Tensor(p, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        J = nn.kl_div(x, y, reduction="sum")
    J.backward()
    kept = p > 0
    expected = np.sum(p[kept] * (np.log(p[kept]) - log_q[kept]))
    assert J.item() == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(x.grad, -p, rtol=1e-12)
    np.testing.assert_allclose(y.grad[kept], np.log(p[kept]) - log_q[kept] + 1, rtol=1e-12)
    np.testing.assert_array_equal(y.grad[~kept], 0.0)
    # the same with log p given, -inf where p = 0
    lx, ly = gg.Tensor(log_q, requires_grad=True), gg.Tensor(log_p, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        J = nn.kl_div(lx, ly, log_target=True, reduction="sum")
    J.backward()
    assert J.item() == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(lx.grad, -p, rtol=1e-12)
    assert np.isfinite(ly.grad).all()
    # a certain match: KL(p || p) = 0
    assert nn.kl_div(np.log(P), P).item() == pytest.approx(0.0, abs=1e-15)


def test_kl_div_mean_is_pytorchs_mean_over_every_term_with_its_warning():
    with pytest.warns(UserWarning, match=r"kl_div: reduction=\"mean\" divides the sum by every "
                                         r"term's count, m C.*\"batchmean\", the default"):
        J = nn.kl_div(LOG_P, P, reduction="mean")
    assert J.item() == pytest.approx(_kl(LOG_P, P).mean(), rel=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert nn.kl_div(LOG_P, P).item() == pytest.approx(_kl(LOG_P, P).sum() / 5, rel=1e-12)


# -- embeddings -----------------------------------------------------------------------------------
def test_cosine_similarity_is_the_cosine_with_each_norm_clamped_at_eps():
    np.testing.assert_allclose(nn.cosine_similarity(A, Y).data, _cosine(A, Y), rtol=1e-12)
    np.testing.assert_allclose(nn.cosine_similarity(A, Y[0]).data, _cosine(A, Y[0]), rtol=1e-12)
    np.testing.assert_allclose(nn.cosine_similarity(A, Y, axis=0).data, _cosine(A, Y, axis=0),
                               rtol=1e-12)
    # each norm clamped on its own (PyTorch 2), not their product (PyTorch 1): 0.01, not 1e-6
    small, other = np.array([[1e-5, 0.0]]), np.array([[1e-5, 1e-5]])
    assert nn.cosine_similarity(small, other, eps=1e-4).item() == pytest.approx(0.01, rel=1e-12)
    # nearly parallel vectors stay within rounding of [-1, 1]; a zero vector's similarity is 0,
    # its gradient x2 / (eps |x2|), finite
    u = RNG.standard_normal((50, 8)) * 1e3
    np.testing.assert_allclose(nn.cosine_similarity(u, u * 1.0000001).data, 1.0, rtol=1e-15)
    zero = gg.Tensor(np.zeros((1, 3)), requires_grad=True)
    s = nn.cosine_similarity(zero, np.array([[3.0, 4.0, 0.0]]))
    s.backward()
    assert s.item() == 0.0
    np.testing.assert_allclose(zero.grad, [[0.6e8, 0.8e8, 0.0]], rtol=1e-12)


@pytest.mark.parametrize("shape1, shape2, axis", [((5, 4), (4,), 0), ((5, 4), (4,), -2),
                                                  ((5, 4), (5, 1), 1), ((5, 1), (5, 4), -1),
                                                  ((2, 5, 4), (5, 4), 0), ((2, 5, 4), (5, 4), 1)])
def test_cosine_similarity_takes_the_vectors_of_the_broadcast_shape(shape1, shape2, axis):
    """The vectors are those of the inputs broadcast together, as PyTorch's: x2 of shape (4,)
    along axis 0 of (5, 4) is each of its numbers repeated 5 times, and x2 of (5, 1) along
    axis 1 its number repeated 4 times, whose norms are sqrt(5) and 2 times its own (the
    norm of x2's own axis, or of its single number, gave wrong values, beyond 1 too, or an
    error). Forward, and the gradients of the broadcast inputs summed back."""
    rng = np.random.default_rng(31)
    x1, x2 = rng.standard_normal(shape1), rng.standard_normal(shape2)
    shape = np.broadcast_shapes(shape1, shape2)
    a, b = gg.Tensor(x1, requires_grad=True), gg.Tensor(x2, requires_grad=True)
    s = nn.cosine_similarity(a, b, axis=axis)
    full1, full2 = np.broadcast_to(x1, shape), np.broadcast_to(x2, shape)
    expected = (full1 * full2).sum(axis) / (np.linalg.norm(full1, axis=axis)
                                            * np.linalg.norm(full2, axis=axis))
    np.testing.assert_allclose(s.data, expected, rtol=1e-12)
    assert np.all(np.abs(s.data) <= 1 + 1e-12)
    v = rng.standard_normal(s.shape)
    (s * v).sum().backward()
    A, B = gg.Tensor(full1.copy(), requires_grad=True), gg.Tensor(full2.copy(), requires_grad=True)
    (nn.cosine_similarity(A, B, axis=axis) * v).sum().backward()
    np.testing.assert_allclose(a.grad, _sum_to(A.grad, shape1), rtol=1e-12)
    np.testing.assert_allclose(b.grad, _sum_to(B.grad, shape2), rtol=1e-12)


def _sum_to(g, shape):
    """g summed over the axes broadcasting added or stretched, down to ``shape``."""
    g = g.sum(axis=tuple(range(g.ndim - len(shape))))
    return g.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True)


def test_triplet_margin_loss_with_squared_distances_is_the_courses_triplet_loss():
    """The course's face recognition cost: squared distances, alpha = 0.2, summed over the
    triplets."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 128)) * 0.1
    p = a + 0.05 * rng.standard_normal((4, 128))
    n = a + 0.06 * rng.standard_normal((4, 128))
    n[0] = a[0] + 1.0  # far enough: no loss, no gradient
    expected = course_triplet_loss(None, (a, p, n), alpha=0.2)
    tensors = [gg.Tensor(x, requires_grad=True) for x in (a, p, n)]
    course = [gg.Tensor(x, requires_grad=True) for x in (a, p, n)]
    J = nn.triplet_margin_loss(*tensors, margin=0.2, squared=True, reduction="sum")
    assert J.item() == pytest.approx(expected, rel=1e-12)
    J.backward()
    course_triplet_loss(None, course, alpha=0.2).backward()
    for ours, theirs in zip(tensors, course):
        np.testing.assert_allclose(ours.grad, theirs.grad, rtol=1e-12, atol=1e-15)
    # PyTorch's default, the norm, is another cost: sqrt of the course's distances (and eps)
    norms = nn.triplet_margin_loss(a, p, n, margin=0.2, eps=0.0, reduction="sum").item()
    assert norms == pytest.approx(_triplet(a, p, n, 0.2, eps=0.0).sum(), rel=1e-12)
    assert norms != pytest.approx(expected, rel=1e-3)


def test_margin_ranking_and_hinge_embedding_losses_gradients():
    x1, x2 = gg.Tensor(X1, requires_grad=True), gg.Tensor(X2, requires_grad=True)
    nn.margin_ranking_loss(x1, x2, SIGNS, 0.3, reduction="sum").backward()
    on = -SIGNS * (X1 - X2) + 0.3 > 0
    np.testing.assert_allclose(x1.grad, -SIGNS * on, rtol=1e-15)
    np.testing.assert_allclose(x2.grad, SIGNS * on, rtol=1e-15)
    x = gg.Tensor(X1, requires_grad=True)
    nn.hinge_embedding_loss(x, SIGNS, 0.8, reduction="sum").backward()
    np.testing.assert_allclose(x.grad, np.where(SIGNS == 1, 1.0, -1.0 * (0.8 - X1 > 0)), rtol=1e-15)


def test_the_hinges_pass_their_gradient_at_the_kink_as_pytorchs_clamp_min():
    """PyTorch's hinges are clamp_min(h, 0), whose gradient is 1 where h >= 0: at h = 0 the
    pair (triplet) still pulls. With margin_ranking_loss's default margin of 0, scores that
    tie (a scorer initialised at zero gives 0 to every example) have h = 0 everywhere: a
    gradient of 0 there left such a model where it started, at a cost of 0."""
    y = np.array([1.0, -1.0, 1.0, -1.0])
    x1, x2 = gg.Tensor(np.zeros(4), requires_grad=True), gg.Tensor(np.zeros(4), requires_grad=True)
    J = nn.margin_ranking_loss(x1, x2, y)
    J.backward()
    assert J.item() == 0.0
    np.testing.assert_array_equal(x1.grad, -y / 4)
    np.testing.assert_array_equal(x2.grad, y / 4)
    # hinge_embedding_loss at x = margin, y = -1: max(0, margin - x) with h = 0
    x = gg.Tensor(np.array([0.8, 0.8, 0.3]), requires_grad=True)
    nn.hinge_embedding_loss(x, np.array([-1.0, 1.0, -1.0]), 0.8, reduction="sum").backward()
    np.testing.assert_array_equal(x.grad, [-1.0, 1.0, -1.0])
    # triplet_margin_loss with d(a, n) = d(a, p) + margin exactly (5 and 6, eps = 0)
    a = gg.Tensor(np.zeros((1, 2)), requires_grad=True)
    positive, negative = np.array([[3.0, 4.0]]), np.array([[0.0, 6.0]])
    J = nn.triplet_margin_loss(a, positive, negative, margin=1.0, eps=0.0)
    J.backward()
    assert J.item() == 0.0
    # d/da (|a - p| - |a - n|) = (a - p) / |a - p| - (a - n) / |a - n|
    np.testing.assert_allclose(a.grad, [[-0.6, -0.8 + 1.0]], rtol=1e-15)
    # the model at zero learns, as PyTorch's does
    scorer = nn.Linear(2, 1, rng=0)
    scorer.W.data[...] = 0.0
    scorer.b.data[...] = 0.0
    better, worse = np.array([[1.0, 0.0], [2.0, 0.5]]), np.array([[0.0, 1.0], [0.5, 2.0]])
    opt = optim.SGD(scorer.parameters(), lr=0.1)
    nn.MarginRankingLoss()(scorer(better)[:, 0], scorer(worse)[:, 0], np.ones(2)).backward()
    opt.step()
    assert np.all(scorer(better).data > scorer(worse).data)


# -- errors ---------------------------------------------------------------------------------------
CALLS = {  # name -> loss(**keywords) on right inputs
    "l1_loss": lambda **kw: nn.l1_loss(A, Y, **kw),
    "smooth_l1_loss": lambda **kw: nn.smooth_l1_loss(A, Y, **kw),
    "huber_loss": lambda **kw: nn.huber_loss(A, Y, **kw),
    "nll_loss": lambda **kw: nn.nll_loss(LOG_P, CLASSES, **kw),
    "triplet_margin_loss": lambda **kw: nn.triplet_margin_loss(ANCHOR, POSITIVE, NEGATIVE, **kw),
    "margin_ranking_loss": lambda **kw: nn.margin_ranking_loss(X1, X2, SIGNS, **kw),
    "hinge_embedding_loss": lambda **kw: nn.hinge_embedding_loss(X1, SIGNS, **kw),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_a_reduction_other_than_mean_sum_or_none_is_refused_naming_the_loss(name):
    choices = r"reduction must be \"mean\" \(the cost averaged over the examples\), \"sum\" " \
              r"or \"none\" \(each example's loss\), got "
    with pytest.raises(gg.ArgumentError, match=rf"^{name}: {choices}'avg'$"):
        CALLS[name](reduction="avg")
    with pytest.raises(gg.ArgumentError, match=rf"^{name}: {choices}None \(the string"):
        CALLS[name](reduction=None)
    assert CALLS[name](reduction=np.str_("sum")).item() == CALLS[name](reduction="sum").item()


def test_kl_div_reductions_are_pytorchs_four():
    with pytest.raises(gg.ArgumentError, match=r"^kl_div: reduction must be \"batchmean\" "
                                               r"\(KL averaged over the examples\), \"sum\", "
                                               r"\"none\" \(each term\) or \"mean\".*got 'avg'$"):
        nn.kl_div(LOG_P, P, reduction="avg")


@pytest.mark.parametrize("loss, name", [
    (nn.l1_loss, "l1_loss"), (nn.smooth_l1_loss, "smooth_l1_loss"),
    (nn.huber_loss, "huber_loss"), (nn.kl_div, "kl_div")])
def test_outputs_and_targets_of_different_shapes_are_refused(loss, name):
    outputs = LOG_P if name == "kl_div" else A
    with pytest.raises(gg.ShapeError, match=rf"^{name}: .* and labels .* must have the same "
                                            r"shape.*Transpose the labels"):
        loss(outputs, P.T if name == "kl_div" else Y.T)
    with pytest.raises(gg.ShapeError, match=rf"^{name}: .*broadcasting them would silently"):
        loss(outputs, (P if name == "kl_div" else Y)[:, :1])


@pytest.mark.parametrize("loss, name, what", [
    (nn.l1_loss, "l1_loss", "predictions"), (nn.huber_loss, "huber_loss", "predictions"),
    (nn.nll_loss, "nll_loss", "log_probs"), (nn.kl_div, "kl_div", "log_q")])
def test_a_mean_over_no_examples_is_refused(loss, name, what):
    labels = np.zeros(0, np.int64) if name == "nll_loss" else np.zeros((0, 3))
    with pytest.raises(gg.ShapeError, match=rf"^{name}: the {what} .* hold no examples \(m = 0\)"):
        loss(np.zeros((0, 3)), labels)
    assert loss(np.zeros((0, 3)), labels, reduction="sum").item() == 0.0


def test_settings_out_of_their_range_are_refused():
    with pytest.raises(gg.ArgumentError, match=r"^smooth_l1_loss: beta must be a finite number "
                                               r"at least 0 \(0 gives l1_loss\), got -1"):
        nn.smooth_l1_loss(A, Y, -1.0)
    with pytest.raises(gg.ArgumentError, match=r"^huber_loss: delta must be a finite number "
                                               r"above 0, got 0"):
        nn.huber_loss(A, Y, 0)
    with pytest.raises(gg.GraphgradTypeError, match=r"^huber_loss: delta must be a number, got "
                                                    r"'sum'.*huber_loss\(A, Y, reduction='sum'\)"):
        nn.huber_loss(A, Y, "sum")  # PyTorch's third argument
    with pytest.raises(gg.ArgumentError, match=r"^triplet_margin_loss: margin must be a finite "
                                               r"number above 0"):
        nn.triplet_margin_loss(ANCHOR, POSITIVE, NEGATIVE, margin=0.0)
    with pytest.raises(gg.ArgumentError, match=r"squared=True takes the squared Euclidean "
                                               r"distance, p = 2; got p=1"):
        nn.triplet_margin_loss(ANCHOR, POSITIVE, NEGATIVE, p=1, squared=True)
    with pytest.raises(gg.ShapeError, match=r"^triplet_margin_loss: negative .* \(6, 2\) float64 "
                                            r"must have the shape of anchor"):
        nn.triplet_margin_loss(ANCHOR, POSITIVE, NEGATIVE[:, :2])
    with pytest.raises(gg.ArgumentError, match=r"^margin_ranking_loss: the targets .* must be 1 "
                                               r"or -1, got 0\.0\. For labels of 0 and 1, pass "
                                               r"2 \* y - 1\."):
        nn.margin_ranking_loss(X1, X2, (SIGNS + 1) / 2)
    with pytest.raises(gg.ArgumentError, match=r"^hinge_embedding_loss: the targets .* must be "
                                               r"1 or -1, got 2\.0"):
        nn.hinge_embedding_loss(X1, SIGNS * 2)
    with pytest.raises(gg.ShapeError, match=r"^cosine_similarity: x1 .* \(5, 4\) float64 and x2 "
                                            r".* \(3,\) float64 do not broadcast together"):
        nn.cosine_similarity(A, np.ones(3))


def test_nll_loss_refuses_logits_probabilities_and_labels_it_cannot_take():
    with pytest.raises(gg.ArgumentError, match=r"^nll_loss takes log-probabilities \(log "
                                               r"softmax\(Z\), each <= 0\), got values up to "
                                               r".*: logits, or probabilities\? For logits Z "
                                               r"pass gg.log_softmax\(Z, axis=-1\), or take "
                                               r"cross_entropy\(Z, labels\)"):
        nn.nll_loss(Z, CLASSES)  # -Z_y: pushed up without bound
    with pytest.raises(gg.ArgumentError, match=r"^nll_loss takes log-probabilities"):
        nn.nll_loss(np.exp(LOG_P), CLASSES)
    assert np.isfinite(nn.nll_loss(np.float32(LOG_P) + np.float32(1e-7), CLASSES).item())
    with pytest.raises(gg.ShapeError, match=r"^nll_loss: log_probs .* \(5, 4\) float64 take "
                                            r"class indices of shape \(5,\), got labels of shape "
                                            r"\(5, 4\)\. One-hot or probability rows Y: pass the "
                                            r"class indices Y.argmax\(axis=-1\)"):
        nn.nll_loss(LOG_P, np.eye(4)[CLASSES])
    with pytest.raises(gg.ShapeError, match=r"PyTorch's layout \(m, C, T\) is moved there by "
                                            r"log_probs.swapaxes\(1, 2\)"):
        nn.nll_loss(np.zeros((2, 4, 3)) - 1, np.zeros((2, 3), np.int64))
    with pytest.raises(gg.ArgumentError, match=r"^nll_loss: class indices must be in 0\.\.3 "
                                               r"for 4 logits per example, got values from 0 "
                                               r"to 4"):
        nn.nll_loss(LOG_P, [0, 1, 2, 3, 4])
    with pytest.raises(gg.GraphgradTypeError, match=r"^nll_loss: ignore_index must be a whole "
                                                    r"number"):
        nn.nll_loss(LOG_P, CLASSES, ignore_index=1.5)
    with pytest.raises(gg.ShapeError, match=r"^nll_loss: weight must hold one weight per class, "
                                            r"C = 4"):
        nn.nll_loss(LOG_P, CLASSES, WEIGHT[:3])


def test_kl_div_refuses_swapped_arguments_and_targets_that_are_no_probabilities():
    log_q = gg.log_softmax(gg.Tensor(Z, requires_grad=True), axis=-1)
    with pytest.raises(gg.ArgumentError, match=r"^kl_div takes log-probabilities log q .*got "
                                               r"values up to .*The arguments look swapped: "
                                               r"kl_div takes log q \(the model's\) first"):
        nn.kl_div(P, log_q)
    with pytest.raises(gg.ArgumentError, match=r"are constant 0s and 1s and the labels .* "
                                               r"require grad: the arguments look swapped"):
        nn.kl_div(np.eye(4)[CLASSES], log_q)
    with pytest.raises(gg.ArgumentError, match=r"^kl_div: the target probabilities p .* must be "
                                               r">= 0, got -.*: log-probabilities\? Pass "
                                               r"log_target=True"):
        nn.kl_div(log_q, np.log(P))
    with pytest.raises(gg.ArgumentError, match=r"^kl_div takes with log_target=True, target "
                                               r"log-probabilities.*leave log_target False"):
        nn.kl_div(log_q, P + 0.5, log_target=True)
    with pytest.raises(gg.ArgumentError, match=r"^kl_div: log_target must be True or False"):
        nn.kl_div(log_q, P, "sum")  # PyTorch's third argument is size_average


# -- fit ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("loss", [nn.l1_loss, nn.huber_loss, nn.smooth_l1_loss, nn.mse])
def test_fit_with_a_regression_loss_learns_and_reports_no_accuracy(loss):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((120, 3))
    W = np.array([[1.0, -2.0], [0.5, 0.0], [-1.0, 3.0]])
    Y_ = X @ W + 0.5 + 0.05 * rng.standard_normal((120, 2))
    model = nn.Linear(3, 2, rng=0)
    history = gg.fit(model, loss, optim.Adam(model.parameters(), lr=0.05), (X, Y_), epochs=40,
                     batch_size=32, progress=False, dev_data=(X[:20], Y_[:20]))
    assert history["cost"][-1] < 0.1 * history["cost"][0]
    assert all(math.isnan(a) for a in history["accuracy"] + history["dev_accuracy"])
    np.testing.assert_allclose(model.W.data.T if model.W.shape == (2, 3) else model.W.data, W,
                               atol=0.15)


class _LogSoftmaxClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 3, rng=0)

    def forward(self, X):
        return gg.log_softmax(self.linear(X), axis=-1)


def test_fit_with_nll_loss_reports_the_argmax_accuracy_as_for_cross_entropy():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((90, 2))
    y = np.digitize(X[:, 0] + X[:, 1], [-0.5, 0.5])  # three classes
    model = _LogSoftmaxClassifier()
    history = gg.fit(model, nn.nll_loss, optim.Adam(model.parameters(), lr=0.1), (X, y),
                     epochs=30, progress=False)
    assert history["accuracy"][-1] > 0.8
    assert gg.train._accuracy_kind(nn.nll_loss, "auto", np.zeros((2, 3))) == "argmax"
    padded = functools.partial(nn.nll_loss, ignore_index=-1)
    kind = gg.train._accuracy_kind(padded, "auto", np.zeros((2, 3)))
    assert kind.keywords == {"ignore_index": -1}
    for loss in (nn.l1_loss, nn.huber_loss, functools.partial(nn.smooth_l1_loss, beta=0.5)):
        assert gg.train._accuracy_kind(loss, "auto", np.zeros((2, 3))) is None
