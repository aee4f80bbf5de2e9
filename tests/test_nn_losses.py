"""Losses: values against the course's formulas, gradient checks (first and second order, at
fixed inputs and over random shapes), stability at extreme logits (hypothesis), and errors for
labels of the wrong shape."""
import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import graphgrad as gg
from graphgrad import nn

RNG = np.random.default_rng(3)
Z = RNG.standard_normal((5, 4))
CLASSES = np.array([0, 3, 1, 1, 2])
ONE_HOT = np.eye(4)[CLASSES]
SOFT = RNG.dirichlet(np.ones(4), size=5)
BINARY = np.array([[1.0], [0.0], [1.0], [1.0], [0.0]])
MULTI = (RNG.random((5, 4)) > 0.5).astype(float)
Z_SEQUENCE = RNG.standard_normal((2, 2, 3))  # (m, t, C): a class per example and time step
SEQUENCE_CLASSES = np.array([[0, 2], [1, 1]])
PADDED_CLASSES = np.array([[0, -100], [1, -100]])  # the second step of each sequence is padding
WEIGHT = np.array([0.5, 2.0, 1.5, 3.0])  # a weight per class, PyTorch's weight
POS_WEIGHT = np.array([0.5, 3.0, 1.5, 2.0])  # the binary losses' weight of each label's positives
_WEIGHTS_RNG = np.random.default_rng(17)
ELEMENT_WEIGHT = _WEIGHTS_RNG.uniform(0.1, 2.0, (5, 4))  # the binary losses' weight of each element
MULTI_SEQUENCE = _WEIGHTS_RNG.uniform(0.1, 0.9, (2, 2, 3))  # soft yes/no labels of Z_SEQUENCE


def _log_softmax(z):
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _course_logistic_cost(A, Y):
    m = Y.shape[0]
    return -np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m


# -- values ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("labels", [CLASSES, ONE_HOT, CLASSES.astype(float)],
                         ids=["indices", "one-hot", "float indices"])
def test_cross_entropy_is_the_course_softmax_cost(labels):
    J = nn.cross_entropy(Z, labels)
    expected = -np.sum(ONE_HOT * _log_softmax(Z)) / 5
    assert J.item() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("labels", [CLASSES, ONE_HOT], ids=["indices", "one-hot"])
def test_cross_entropy_gradient_is_softmax_minus_y_over_m(labels):
    logits = gg.Tensor(Z, requires_grad=True)
    nn.cross_entropy(logits, labels).backward()
    np.testing.assert_allclose(logits.grad, (np.exp(_log_softmax(Z)) - ONE_HOT) / 5, rtol=1e-12)


def test_cross_entropy_with_soft_labels_and_multi_label():
    assert nn.cross_entropy(Z, SOFT).item() == pytest.approx(
        -np.sum(SOFT * _log_softmax(Z)) / 5, rel=1e-12)
    A = _sigmoid(Z)
    expected = -np.sum(MULTI * np.log(A) + (1 - MULTI) * np.log(1 - A)) / 5  # sum over labels
    assert nn.cross_entropy(Z, MULTI, multi_label=True).item() == pytest.approx(expected,
                                                                                rel=1e-12)


def test_binary_losses_are_the_course_logistic_cost():
    z = RNG.standard_normal((5, 1))
    expected = _course_logistic_cost(_sigmoid(z), BINARY)
    assert nn.binary_cross_entropy_with_logits(z, BINARY).item() == pytest.approx(expected,
                                                                                  rel=1e-12)
    assert nn.binary_cross_entropy(_sigmoid(z), BINARY).item() == pytest.approx(expected,
                                                                                 rel=1e-12)
    logits = gg.Tensor(z, requires_grad=True)
    nn.binary_cross_entropy_with_logits(logits, BINARY).backward()
    np.testing.assert_allclose(logits.grad, (_sigmoid(z) - BINARY) / 5, rtol=1e-12)  # dZ = A - Y


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_mse_is_one_node_with_the_gradients_and_second_derivatives_of_its_formula(dtype):
    """J = mean((A - Y)**2) was three nodes (sub, mul, mean), 1.85 times its numpy maths; one
    node gives dA = 2 (A - Y) / n, dY = -dA and d2J/dA2 = 2 / n, in the outputs' dtype."""
    A_, Y_ = RNG.standard_normal((4, 3)).astype(dtype), RNG.standard_normal((4, 3)).astype(dtype)
    A = gg.Tensor(A_, requires_grad=True, name="A")
    Y = gg.Tensor(Y_, requires_grad=True, name="Y")
    J = nn.mse(A, Y)
    assert type(J.creator).__name__ == "MeanSquaredError" and J.creator.inputs == (A, Y)
    assert J.dtype == dtype and J.item() == pytest.approx(np.mean((A_ - Y_) ** 2), rel=1e-6)
    dA, dY = gg.grad(J, [A, Y], create_graph=True)
    tolerance = 1e-6 if dtype == np.float32 else 1e-15
    np.testing.assert_allclose(dA.data, 2 * (A_ - Y_) / 12, rtol=tolerance)
    np.testing.assert_allclose(dY.data, -2 * (A_ - Y_) / 12, rtol=tolerance)
    assert dA.dtype == dY.dtype == dtype
    V = RNG.standard_normal((4, 3))
    hv_A, hv_Y = gg.grad((dA * V).sum(), [A, Y])  # Hessian-vector products: +-2 V / n
    np.testing.assert_allclose(hv_A, 2 * V / 12, rtol=tolerance)
    np.testing.assert_allclose(hv_Y, -2 * V / 12, rtol=tolerance)
    constant = gg.Tensor(A_, requires_grad=True)
    nn.mse(constant, Y_).backward()  # labels as data: their gradient is not computed
    np.testing.assert_allclose(constant.grad, 2 * (A_ - Y_) / 12, rtol=tolerance)



def test_a_float16_mse_over_many_elements_is_summed_wider_than_float16():
    """A float16 sum of 100,000 squares of about 9 passes float16's largest number, 65504:
    the mean is taken as np.mean takes it, adding up in float32."""
    A = np.random.default_rng(4).standard_normal(100_000).astype(np.float16) * np.float16(3)
    Y = np.zeros_like(A)
    J = nn.mse(A, Y)
    assert J.dtype == np.float16
    expected = np.mean(A.astype(np.float64) ** 2)
    assert J.item() == pytest.approx(expected, rel=1e-3)


@pytest.mark.parametrize("loss, outputs, labels, expected", [
    (nn.cross_entropy, np.zeros((70_000, 3)), np.zeros(70_000, np.int64), math.log(3)),
    (nn.cross_entropy, np.zeros((70_000, 3)), np.eye(3)[np.zeros(70_000, np.int64)],
     math.log(3)),
    (lambda z, y: nn.cross_entropy(z, y, multi_label=True), np.zeros((50_000, 2)),
     np.ones((50_000, 2)), 2 * math.log(2)),
    (nn.binary_cross_entropy_with_logits, np.zeros((100_000, 1)), np.ones((100_000, 1)),
     math.log(2)),
    (nn.binary_cross_entropy, np.full((100_000, 1), 0.5), np.ones((100_000, 1)), math.log(2)),
], ids=["indices", "one-hot", "multi_label", "bce_logits", "bce"])
def test_a_float16_cost_over_many_examples_is_summed_wider_than_float16(loss, outputs, labels,
                                                                        expected):
    """Their losses add up past 65504, float16's largest number (70,000 times log 3 = 76,903):
    the mean is summed in float32, as mse's, where it was inf (and fit's dev cost with it)."""
    J = loss(gg.Tensor(outputs.astype(np.float16)), labels)
    assert J.dtype == np.float16
    assert J.item() == pytest.approx(expected, rel=1e-3)


def test_mse_and_l2_penalty_values():
    A, Y = RNG.standard_normal((4, 2)), RNG.standard_normal((4, 2))
    assert nn.mse(A, Y).item() == pytest.approx(np.mean((A - Y) ** 2), rel=1e-12)
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.ReLU(), nn.Linear(4, 2, rng=1))
    W1, W2 = model.linear1.W.data, model.linear2.W.data
    expected = 0.7 / (2 * 10) * (np.sum(W1 ** 2) + np.sum(W2 ** 2))  # weights only, no biases
    J = nn.l2_penalty(model, lambd=0.7, m=10)
    assert J.item() == pytest.approx(expected, rel=1e-12)
    J.backward()
    np.testing.assert_allclose(model.linear1.W.grad, 0.7 / 10 * W1, rtol=1e-12)
    assert model.linear1.b.grad is None


# -- gradient checks ------------------------------------------------------------------------------
LOSSES = {
    "cross_entropy, class indices": (lambda z: nn.cross_entropy(z, CLASSES), [Z]),
    "cross_entropy, one-hot": (lambda z: nn.cross_entropy(z, ONE_HOT), [Z]),
    "cross_entropy, soft labels (both inputs)": (nn.cross_entropy, [Z, SOFT]),
    "cross_entropy, (m, t, C) logits": (lambda z: nn.cross_entropy(z, SEQUENCE_CLASSES),
                                         [Z_SEQUENCE]),
    "cross_entropy, multi-label": (lambda z: nn.cross_entropy(z, MULTI, multi_label=True), [Z]),
    "cross_entropy, class indices, none": (
        lambda z: nn.cross_entropy(z, CLASSES, reduction="none"), [Z]),
    "cross_entropy, soft labels, none (both inputs)": (
        lambda z, y: nn.cross_entropy(z, y, reduction="none"), [Z, SOFT]),
    "cross_entropy, soft labels, sum (both inputs)": (
        lambda z, y: nn.cross_entropy(z, y, reduction="sum"), [Z, SOFT]),
    "cross_entropy, (m, t, C) logits, none": (
        lambda z: nn.cross_entropy(z, SEQUENCE_CLASSES, reduction="none"), [Z_SEQUENCE]),
    "cross_entropy, ignore_index, mean": (
        lambda z: nn.cross_entropy(z, PADDED_CLASSES, ignore_index=-100), [Z_SEQUENCE]),
    "cross_entropy, ignore_index, sum": (
        lambda z: nn.cross_entropy(z, PADDED_CLASSES, reduction="sum", ignore_index=-100),
        [Z_SEQUENCE]),
    "cross_entropy, ignore_index, none": (
        lambda z: nn.cross_entropy(z, PADDED_CLASSES, reduction="none", ignore_index=-100),
        [Z_SEQUENCE]),
    "cross_entropy, multi-label, none (both inputs)": (
        lambda z, y: nn.cross_entropy(z, y, multi_label=True, reduction="none"),
        [Z, MULTI * 0.8 + 0.1]),
    "cross_entropy, multi-label, sum": (
        lambda z: nn.cross_entropy(z, MULTI, multi_label=True, reduction="sum"), [Z]),
    "binary_cross_entropy_with_logits (both inputs)": (nn.binary_cross_entropy_with_logits,
                                                       [Z[:, :1], BINARY * 0.8 + 0.1]),
    "binary_cross_entropy (both inputs)": (nn.binary_cross_entropy,
                                           [_sigmoid(Z[:, :1]), BINARY * 0.8 + 0.1]),
    "binary_cross_entropy_with_logits, none (both inputs)": (
        lambda z, y: nn.binary_cross_entropy_with_logits(z, y, reduction="none"),
        [Z[:, :2], MULTI[:, :2] * 0.8 + 0.1]),
    "binary_cross_entropy_with_logits, sum (both inputs)": (
        lambda z, y: nn.binary_cross_entropy_with_logits(z, y, reduction="sum"),
        [Z[:, :1], BINARY * 0.8 + 0.1]),
    "binary_cross_entropy, none (both inputs)": (
        lambda a, y: nn.binary_cross_entropy(a, y, reduction="none"),
        [_sigmoid(Z[:, :2]), MULTI[:, :2] * 0.8 + 0.1]),
    "binary_cross_entropy, sum (both inputs)": (
        lambda a, y: nn.binary_cross_entropy(a, y, reduction="sum"),
        [_sigmoid(Z[:, :1]), BINARY * 0.8 + 0.1]),
    "mse": (nn.mse, [Z, SOFT]),
    "mse, targets as data": (lambda a: nn.mse(a, SOFT), [Z]),
    "mse, none (both inputs)": (lambda a, y: nn.mse(a, y, reduction="none"), [Z, SOFT]),
    "mse, sum (both inputs)": (lambda a, y: nn.mse(a, y, reduction="sum"), [Z, SOFT]),
    "l2_penalty": (lambda w1, w2: nn.l2_penalty([w1, w2], 0.5, 7), [Z, SOFT]),
    "cross_entropy, class indices, weight": (
        lambda z: nn.cross_entropy(z, CLASSES, weight=WEIGHT), [Z]),
    "cross_entropy, class indices, weight, smoothing": (
        lambda z: nn.cross_entropy(z, CLASSES, weight=WEIGHT, label_smoothing=0.2), [Z]),
    "cross_entropy, class indices, smoothing, sum": (
        lambda z: nn.cross_entropy(z, CLASSES, reduction="sum", label_smoothing=0.2), [Z]),
    "cross_entropy, ignore_index, weight, smoothing, mean": (
        lambda z: nn.cross_entropy(z, PADDED_CLASSES, ignore_index=-100, weight=WEIGHT[:3],
                                   label_smoothing=0.3), [Z_SEQUENCE]),
    "cross_entropy, ignore_index, weight, none": (
        lambda z: nn.cross_entropy(z, PADDED_CLASSES, reduction="none", ignore_index=-100,
                                   weight=WEIGHT[:3]), [Z_SEQUENCE]),
    "cross_entropy, ignore_index, weight, smoothing, none": (
        lambda z: nn.cross_entropy(z, PADDED_CLASSES, reduction="none", ignore_index=-100,
                                   weight=WEIGHT[:3], label_smoothing=0.3), [Z_SEQUENCE]),
    "cross_entropy, soft labels, weight, smoothing (both inputs)": (
        lambda z, y: nn.cross_entropy(z, y, weight=WEIGHT, label_smoothing=0.2), [Z, SOFT]),
    "cross_entropy, soft labels, weight, smoothing, none (both inputs)": (
        lambda z, y: nn.cross_entropy(z, y, reduction="none", weight=WEIGHT,
                                      label_smoothing=0.2), [Z, SOFT]),
    "cross_entropy, one-hot, smoothing, sum": (
        lambda z: nn.cross_entropy(z, ONE_HOT, reduction="sum", label_smoothing=0.1), [Z]),
    "binary_cross_entropy_with_logits, weight, pos_weight (both inputs)": (
        lambda z, y: nn.binary_cross_entropy_with_logits(z, y, weight=ELEMENT_WEIGHT[:, :1],
                                                         pos_weight=POS_WEIGHT),
        [Z, MULTI * 0.8 + 0.1]),
    "binary_cross_entropy_with_logits, pos_weight, sum (both inputs)": (
        lambda z, y: nn.binary_cross_entropy_with_logits(z, y, reduction="sum",
                                                         pos_weight=POS_WEIGHT),
        [Z, MULTI * 0.8 + 0.1]),
    "binary_cross_entropy_with_logits, weight, none (both inputs)": (
        lambda z, y: nn.binary_cross_entropy_with_logits(z, y, reduction="none",
                                                         weight=ELEMENT_WEIGHT),
        [Z, MULTI * 0.8 + 0.1]),
    "binary_cross_entropy_with_logits, (m,) logits, pos_weight, none (both inputs)": (
        lambda z, y: nn.binary_cross_entropy_with_logits(z, y, reduction="none",
                                                         pos_weight=[2.5]),
        [Z[:, 0], MULTI[:, 0] * 0.8 + 0.1]),
    "binary_cross_entropy_with_logits, (m, t, C) logits, weight, pos_weight (both inputs)": (
        lambda z, y: nn.binary_cross_entropy_with_logits(z, y, weight=WEIGHT[:3],
                                                         pos_weight=POS_WEIGHT[:3]),
        [Z_SEQUENCE, MULTI_SEQUENCE]),
    "binary_cross_entropy, weight (both inputs)": (
        lambda a, y: nn.binary_cross_entropy(a, y, weight=ELEMENT_WEIGHT),
        [_sigmoid(Z), MULTI * 0.8 + 0.1]),
    "binary_cross_entropy, weight, sum (both inputs)": (
        lambda a, y: nn.binary_cross_entropy(a, y, reduction="sum", weight=WEIGHT),
        [_sigmoid(Z), MULTI * 0.8 + 0.1]),
    "binary_cross_entropy, weight, none (both inputs)": (
        lambda a, y: nn.binary_cross_entropy(a, y, reduction="none", weight=WEIGHT[:3]),
        [_sigmoid(Z_SEQUENCE), MULTI_SEQUENCE]),
    "cross_entropy, multi-label, weight, pos_weight (both inputs)": (
        lambda z, y: nn.cross_entropy(z, y, multi_label=True, weight=WEIGHT,
                                      pos_weight=POS_WEIGHT), [Z, MULTI * 0.8 + 0.1]),
    "cross_entropy, multi-label, pos_weight, none (both inputs)": (
        lambda z, y: nn.cross_entropy(z, y, multi_label=True, reduction="none",
                                      pos_weight=POS_WEIGHT[:3]), [Z_SEQUENCE, MULTI_SEQUENCE]),
    "cross_entropy, multi-label, weight, sum": (
        lambda z: nn.cross_entropy(z, MULTI, multi_label=True, reduction="sum",
                                   weight=ELEMENT_WEIGHT), [Z]),
}


@pytest.mark.parametrize("name", list(LOSSES))
def test_every_loss_passes_gradcheck(name):
    fn, inputs = LOSSES[name]
    assert gg.gradcheck(fn, [a.copy() for a in inputs])


@pytest.mark.parametrize("name", [n for n in LOSSES if n != "l2_penalty"])
def test_every_loss_has_right_second_derivatives(name):
    fn, inputs = LOSSES[name]
    assert gg.gradgradcheck(fn, [a.copy() for a in inputs])


def test_the_gradient_with_respect_to_soft_labels_is_finite_under_create_graph():
    # softmax(Z) underflows to 0 for a logit 800 below the largest: -log of it would be inf,
    # where dJ/dY = -log softmax(Z) / m is 800.
    Z_far = np.array([[0.0, 800.0, 5.0]])
    Y_soft = np.array([[0.2, 0.5, 0.3]])
    expected = -(Z_far - 800.0 - np.log1p(np.exp(-800.0) + np.exp(-795.0)))
    for create_graph in (False, True):
        z = gg.Tensor(Z_far, requires_grad=True)
        y = gg.Tensor(Y_soft, requires_grad=True)
        _, dy = gg.grad(nn.cross_entropy(z, y), [z, y], create_graph=create_graph)
        np.testing.assert_allclose(np.asarray(dy.data if create_graph else dy), expected,
                                   rtol=1e-12, atol=1e-12)


def _class_indices(shape, rng):
    classes = rng.integers(0, shape[-1], shape[:-1])
    return (lambda z, **reduction: nn.cross_entropy(z, classes, **reduction),
            [rng.standard_normal(shape)])


def _padded_class_indices(shape, rng):
    """Class indices with about a third of the positions padding (-1), under each reduction."""
    classes = np.where(rng.random(shape[:-1]) < 0.3, -1, rng.integers(0, shape[-1], shape[:-1]))
    reduction = str(rng.choice(["mean", "sum", "none"]))
    return (lambda z, **options: nn.cross_entropy(z, classes, reduction=reduction,
                                                  ignore_index=-1, **options),
            [rng.standard_normal(shape)])


def _weighted_and_smoothed(case):
    """A case of LOSS_CASES with class weights and label smoothing drawn from its rng."""
    def build(shape, rng):
        loss, inputs = case(shape, rng)
        options = {"weight": rng.uniform(0.1, 3.0, shape[-1]),
                   "label_smoothing": float(rng.choice([0.0, 0.1, 1.0]))}
        return (lambda *xs, **kw: loss(*xs, **kw, **options)), inputs
    return build


def _each_example(case):
    """A case of LOSS_CASES with reduction="none": the losses of each example."""
    def build(shape, rng):
        loss, inputs = case(shape, rng)
        return (lambda *xs: loss(*xs, reduction="none")), inputs
    return build


def _soft_labels(shape, rng):
    soft = rng.uniform(0.05, 0.95, shape)  # probabilities away from 0 and 1
    return nn.cross_entropy, [rng.standard_normal(shape), soft / soft.sum(axis=-1, keepdims=True)]


def _multi_label(shape, rng):
    return (lambda z, y, **reduction: nn.cross_entropy(z, y, multi_label=True, **reduction),
            [rng.standard_normal(shape), rng.uniform(0.05, 0.95, shape)])


def _probabilities(loss):
    return lambda shape, rng: (loss, [rng.uniform(0.05, 0.95, shape),
                                      rng.uniform(0.05, 0.95, shape)])


def _logits(loss):
    return lambda shape, rng: (loss, [rng.standard_normal(shape), rng.uniform(0.05, 0.95, shape)])


def _element_weighted(case, pos_weight=True):
    """A case of LOSS_CASES with PyTorch's weight (of the outputs' shape, one per example or
    one per label, drawn from its rng) and, for the losses on logits, pos_weight (one per
    label)."""
    def build(shape, rng):
        loss, inputs = case(shape, rng)
        weight_shape = [shape, shape[:1] + (1,) * (len(shape) - 1), shape[-1:]][rng.integers(3)]
        options = {"weight": rng.uniform(0.0, 3.0, weight_shape)}
        if pos_weight:
            options["pos_weight"] = rng.uniform(0.0, 5.0, shape[-1:])
        return (lambda *xs, **kw: loss(*xs, **kw, **options)), inputs
    return build


# name -> (shape of the logits (..., C), rng) -> (loss of the checked inputs, inputs): each loss
# and each form of its labels; labels that are probabilities are checked as inputs too.
LOSS_CASES = {
    "cross_entropy, class indices": _class_indices,
    "cross_entropy, soft labels": _soft_labels,
    "cross_entropy, multi-label": _multi_label,
    "binary_cross_entropy_with_logits": _logits(nn.binary_cross_entropy_with_logits),
    "binary_cross_entropy": _probabilities(nn.binary_cross_entropy),
    "mse": _logits(nn.mse),
    "cross_entropy, padded class indices": _padded_class_indices,
    "cross_entropy, class indices, none": _each_example(_class_indices),
    "cross_entropy, soft labels, none": _each_example(_soft_labels),
    "cross_entropy, multi-label, none": _each_example(_multi_label),
    "binary_cross_entropy_with_logits, none": _each_example(
        _logits(nn.binary_cross_entropy_with_logits)),
    "binary_cross_entropy, none": _each_example(_probabilities(nn.binary_cross_entropy)),
    "mse, none": _each_example(_logits(nn.mse)),
    "cross_entropy, class indices, weight, smoothing": _weighted_and_smoothed(_class_indices),
    "cross_entropy, padded class indices, weight, smoothing": _weighted_and_smoothed(
        _padded_class_indices),
    "cross_entropy, soft labels, weight, smoothing": _weighted_and_smoothed(_soft_labels),
    "cross_entropy, class indices, weight, smoothing, none": _each_example(
        _weighted_and_smoothed(_class_indices)),
    "cross_entropy, soft labels, weight, smoothing, none": _each_example(
        _weighted_and_smoothed(_soft_labels)),
    "binary_cross_entropy_with_logits, weight, pos_weight": _element_weighted(
        _logits(nn.binary_cross_entropy_with_logits)),
    "binary_cross_entropy_with_logits, weight, pos_weight, none": _each_example(
        _element_weighted(_logits(nn.binary_cross_entropy_with_logits))),
    "cross_entropy, multi-label, weight, pos_weight": _element_weighted(_multi_label),
    "binary_cross_entropy, weight": _element_weighted(_probabilities(nn.binary_cross_entropy),
                                                      pos_weight=False),
    "binary_cross_entropy, weight, none": _each_example(
        _element_weighted(_probabilities(nn.binary_cross_entropy), pos_weight=False)),
}


@st.composite
def loss_cases(draw):
    """(name, loss of the checked inputs, inputs): a case of LOSS_CASES on logits (..., C) with
    0 to 2 leading axes of examples (positions)."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    name = draw(st.sampled_from(list(LOSS_CASES)))
    if name.startswith("cross_entropy, ") and "multi-label" not in name and shape[-1] == 1:
        return draw(loss_cases())  # one class is refused: it costs nothing
    return (name, *LOSS_CASES[name](shape, rng))


@given(loss_cases())
def test_every_loss_over_random_shapes_passes_gradcheck_and_gradgradcheck(case):
    _, fn, inputs = case
    assert gg.gradcheck(fn, [a.copy() for a in inputs], fast=True)
    assert gg.gradgradcheck(fn, [a.copy() for a in inputs], fast=True)


# -- stability ------------------------------------------------------------------------------------
logits_strategy = hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1,
                                                          max_side=6),
                             elements=st.floats(-1000, 1000))
classes_strategy = hnp.arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(2, 6)),
                              elements=st.floats(-1000, 1000))  # a softmax needs C >= 2


@given(classes_strategy, st.data())
def test_cross_entropy_is_finite_and_exact_for_any_logit(z, data):
    m, C = z.shape
    labels = data.draw(hnp.arrays(np.int64, (m,), elements=st.integers(0, C - 1)))
    logits = gg.Tensor(z, requires_grad=True)
    J = nn.cross_entropy(logits, labels)
    J.backward()
    reference = np.mean(np.logaddexp.reduce(z, axis=1) - z[np.arange(m), labels])
    assert np.isfinite(J.item()) and np.isfinite(logits.grad).all()
    assert J.item() == pytest.approx(reference, rel=1e-9, abs=1e-9)
    np.testing.assert_allclose(logits.grad.sum(axis=1), 0, atol=1e-12)  # softmax - one-hot



@pytest.mark.parametrize("labels", [[0, 2], np.array([[1.0, 0, 0], [0, 0, 1]])])
def test_a_perfect_fit_costs_zero_not_minus_zero(labels):
    certain = np.array([[1000.0, 0.0, -1000.0], [-1000.0, 0.0, 1000.0]])
    J = nn.cross_entropy(certain, labels).item()
    assert J == 0.0 and not np.signbit(J)

@given(logits_strategy)
def test_logistic_losses_are_finite_and_exact_for_any_logit(z):
    y = (z > 0.5).astype(float)[:, ::-1].copy()  # often wrong, with a huge confident logit
    logits = gg.Tensor(z, requires_grad=True)
    J = nn.binary_cross_entropy_with_logits(logits, y)
    J.backward()
    reference = np.mean(np.logaddexp(0, z) - z * y)  # log(1 + e**z) - z y
    assert J.item() == pytest.approx(reference, rel=1e-9, abs=1e-12)
    assert np.isfinite(logits.grad).all()
    multi = nn.cross_entropy(z, y, multi_label=True)
    assert multi.item() == pytest.approx(reference * z.shape[1], rel=1e-9, abs=1e-12)
    A = gg.Tensor(gg.sigmoid(z).data, requires_grad=True)  # exactly 0 and 1 at +-1000
    J = nn.binary_cross_entropy(A, y)
    J.backward()
    assert np.isfinite(J.item()) and np.isfinite(A.grad).all()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_logistic_loss_at_infinite_logits_is_zero_when_right_and_inf_when_wrong(dtype):
    """-[y log a + (1-y) log(1-a)] with a = sigmoid(+-inf) = 1 or 0: a term of weight 0 is 0,
    so a logit of +inf costs 0 for y = 1 and inf otherwise (and -inf the other way round).
    max(z, 0) - z y gave NaN (inf * 0, inf - inf) for all but -inf with y > 0."""
    z = np.array([np.inf, -np.inf, 2.0], dtype)
    logits = gg.Tensor(z, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's, on the first formula
        J = nn.binary_cross_entropy_with_logits(logits, np.array([1.0, 0.0, 1.0], dtype))
        wrong = [nn.binary_cross_entropy_with_logits(z[:2], np.array(y, dtype)).item()
                 for y in ([0.0, 1.0], [0.5, 0.0], [1.0, 0.5])]
        multi = nn.cross_entropy(z[None], np.array([[1.0, 0.0, 1.0]], dtype), multi_label=True)
    J.backward()
    assert J.dtype == logits.grad.dtype == dtype
    assert J.item() == pytest.approx(math.log1p(math.exp(-2.0)) / 3, rel=1e-7)
    assert multi.item() == pytest.approx(math.log1p(math.exp(-2.0)), rel=1e-7)
    assert wrong == [np.inf, np.inf, np.inf]
    sigmoid_2 = 1 / (1 + math.exp(-2.0))
    np.testing.assert_allclose(logits.grad, [0.0, 0.0, (sigmoid_2 - 1) / 3], rtol=1e-6)


# -- errors ---------------------------------------------------------------------------------------
def test_labels_of_the_wrong_shape_are_explained():
    with pytest.raises(gg.ShapeError, match=r"labels.ravel\(\)"):
        nn.cross_entropy(Z, CLASSES.reshape(5, 1))
    with pytest.raises(gg.ShapeError, match=r"Y\.T"):
        nn.cross_entropy(Z, ONE_HOT.T)
    with pytest.raises(gg.ShapeError, match=r"Y\.T.*\(1, m\)"):
        nn.binary_cross_entropy_with_logits(Z[:, :1], BINARY.T)
    with pytest.raises(gg.ShapeError, match=r"would silently compare every example"):
        nn.binary_cross_entropy(_sigmoid(Z[:, 0]), BINARY)
    with pytest.raises(gg.ShapeError, match="binary_cross_entropy_with_logits"):
        nn.cross_entropy(Z[:, :1], BINARY)
    with pytest.raises(gg.ShapeError, match=r"each example takes its own label, none is "
                       r"broadcast\. .*np\.full\(\(5, 1\), 0\.9\)") as info:
        nn.binary_cross_entropy_with_logits(Z[:, :1], 0.9)  # a GAN's smoothed "real" label
    assert "every example with every label" not in str(info.value)


def test_pytorchs_layout_of_a_sequences_logits_says_to_move_the_classes_last():
    """PyTorch's cross_entropy takes a sequence's logits as (m, C, T); its labels (m, T) were
    refused with the shapes alone."""
    rng = np.random.default_rng(3)
    logits = gg.Tensor(rng.standard_normal((4, 7, 5)), name="logits")  # m = 4, C = 7, T = 5
    labels = rng.integers(0, 7, (4, 5))
    with pytest.raises(gg.ShapeError, match=(
            r"take labels of shape \(4, 7\) \(class indices\) or \(4, 7, 5\) \(one-hot or "
            r"probabilities\), got \(4, 5\)\. The classes are the logits' last axis, "
            r"\(\.\.\., C\): PyTorch's layout \(m, C, \.\.\.\), classes second, is moved there by "
            r"gg\.moveaxis\(logits, 1, -1\) \(for \(m, C, T\), logits\.swapaxes\(1, 2\)\)\.$")):
        nn.cross_entropy(logits, labels)
    Z = np.moveaxis(logits.data, 1, -1)  # (4, 5, 7)
    expected = -np.mean(Z[np.arange(4)[:, None], np.arange(5), labels]
                        - np.log(np.exp(Z).sum(axis=-1)))
    assert nn.cross_entropy(logits.swapaxes(1, 2), labels).item() == pytest.approx(
        expected, rel=1e-13)
    image = gg.Tensor(rng.standard_normal((2, 3, 4, 4)))  # (m, C, n_H, n_W), as PyTorch's
    with pytest.raises(gg.ShapeError, match=r"gg\.moveaxis\(logits, 1, -1\)"):
        nn.cross_entropy(image, rng.integers(0, 3, (2, 4, 4)))
    assert nn.cross_entropy(gg.moveaxis(image, 1, -1), rng.integers(0, 3, (2, 4, 4))).shape == ()


def test_the_course_layout_of_logits_and_one_hot_labels_is_refused_not_averaged_over_rows():
    """Z[L] and Y of shape (C, m), examples in columns, have the shapes of C examples of m
    classes; the rows of such a Y sum to the counts of each class, not to 1."""
    Y_course = ONE_HOT.T  # (4, 5): classes 0, 3, 1, 1, 2 in columns
    with pytest.raises(gg.ArgumentError, match=r"row 1 sums to 2 .*pass Z\.T and Y\.T") as info:
        nn.cross_entropy(Z.T, Y_course)
    assert isinstance(info.value, ValueError)
    with pytest.raises(gg.ArgumentError, match=r"multi_label=True"):
        nn.cross_entropy(Z, MULTI)  # several classes in a row: multi_label's cost
    with pytest.raises(gg.ArgumentError, match=r"row \(1, 0\) sums to 2"):
        nn.cross_entropy(Z_SEQUENCE, np.array([[[1.0, 0, 0], [0, 0, 1]], [[1.0, 1, 0], [0, 1, 0]]]))
    with pytest.raises(gg.ShapeError, match=r"\(C, m\), pass Z\.T"):
        nn.cross_entropy(Z.T, CLASSES)  # class indices (m,) with the course's Z[L] (C, m)
    with_nan = ONE_HOT.copy()
    with_nan[0], with_nan[3] = np.nan, [1.0, 0, 1, 0]  # a NaN row hides no other row
    for dtype in (np.float64, np.float32, np.float16, np.int64):
        labels = with_nan.astype(dtype) if dtype != np.int64 else np.nan_to_num(with_nan)
        with pytest.raises(gg.ArgumentError, match=r"row 3 sums to 2 "):
            nn.cross_entropy(Z, labels)
    # rows that sum to 1, up to rounding, and rows of zeros still pass
    nearly = SOFT.astype(np.float32)
    assert nn.cross_entropy(Z.astype(np.float32), nearly).item() == pytest.approx(
        -np.sum(SOFT * _log_softmax(Z)) / 5, rel=1e-5)
    assert nn.cross_entropy(Z, np.zeros_like(Z)).item() == 0.0

def test_binary_cross_entropy_refuses_logits_it_would_clip_without_a_gradient():
    """Z instead of sigmoid(Z): clipped into [eps, 1 - eps], most of it would get dZ = 0 and
    training would stall without a word (PyTorch refuses it too)."""
    Z = gg.Tensor([[-3.0], [0.5], [2.5]], name="Z", requires_grad=True)
    with pytest.raises(gg.ArgumentError, match=r"probabilities A = sigmoid\(Z\) in \[0, 1\], "
                                               r"got values from -3 to 2\.5 in 'Z' \(3, 1\).*"
                                               r"binary_cross_entropy_with_logits"):
        nn.binary_cross_entropy(Z, [[1.0], [0.0], [1.0]])
    for one_side in ([[0.5], [1.2], [1.0]], [[0.5], [-0.2], [1.0]]):  # above 1, below 0
        with pytest.raises(gg.ArgumentError, match=r"in \[0, 1\], got values from"):
            nn.binary_cross_entropy(one_side, [[1.0], [0.0], [1.0]])
    for eps in (0.7, -1e-3, np.nan):
        with pytest.raises(gg.ArgumentError, match=r"eps must be in \[0, 0\.5\)"):
            nn.binary_cross_entropy(gg.sigmoid(Z), [[1.0], [0.0], [1.0]], eps=eps)
    edges = nn.binary_cross_entropy(gg.Tensor([[0.0], [1.0]]), [[0.0], [1.0]])
    assert edges.item() == pytest.approx(-np.log1p(-1e-12), abs=1e-15)  # 0 and 1 are fine


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("eps", [0.0, 1e-320])
def test_binary_cross_entropy_with_eps_0_clips_at_the_smallest_normal_number(dtype, eps):
    # log(0) was -inf: a = 0 cost NaN for y = 0 and Inf for y = 1, with numpy's warnings.
    tiny = np.finfo(dtype).tiny
    high = np.nextafter(dtype(1), dtype(0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        A = gg.Tensor(np.array([[0.0], [0.0], [1.0], [0.3]], dtype), requires_grad=True)
        J = nn.binary_cross_entropy(A, np.array([[0.0], [1.0], [1.0], [1.0]], dtype), eps=eps)
        J.backward()
    expected = -(np.log1p(-np.float64(tiny)) + np.log(np.float64(tiny))
                 + np.log(np.float64(high)) + np.log(0.3)) / 4  # 708.4 / 4 + ... in float64
    assert J.item() == pytest.approx(expected, rel=1e-6)
    # 0 and 1 are outside the clip, where it is flat; 0.3 gets (a - y) / (a (1 - a)) / 4
    np.testing.assert_allclose(A.grad, [[0.0], [0.0], [0.0], [-0.7 / 0.21 / 4]], rtol=1e-6)


def test_class_indices_must_be_whole_and_in_range():
    with pytest.raises(gg.GraphgradError, match=r"0\.\.3 for 4 logits.*from 0 to 4"):
        nn.cross_entropy(Z, np.array([0, 1, 2, 3, 4]))
    with pytest.raises(gg.GraphgradError, match="whole numbers"):
        nn.cross_entropy(Z, np.array([0, 1.5, 2, 3, 0]))


def test_cross_entropy_over_one_class_is_refused_whatever_the_labels():
    # A yes/no output, Linear(n, 1), with its 0/1 labels given to cross_entropy as indices: a
    # batch of 0s cost 0 and taught nothing, and one holding a 1 was "out of range".
    Z1 = gg.Tensor(np.array([[0.3], [-1.2]]), requires_grad=True)
    for labels, kind in ((np.array([0, 0]), "class indices"), (np.array([0, 1]), "class indices"),
                         (np.array([[1.0], [1.0]]), "one-hot rows")):
        with pytest.raises(gg.ShapeError, match=(
                r"^cross_entropy: logits unnamed tensor \(2, 1\) float64 have one class "
                rf"\(C = 1\), with {kind} as labels; a softmax over one class is always 1, so "
                r"the cost is 0 and nothing is learned\. For a yes/no label of 0 or 1, use "
                r"binary_cross_entropy_with_logits\(Z, Y\) with Y of the logits' shape")):
            nn.cross_entropy(Z1, labels)
    # what it points to learns: J = mean(log(1 + e**-z) for y = 1, log(1 + e**z) for y = 0)
    J = nn.binary_cross_entropy_with_logits(Z1, np.array([0, 1]).reshape(-1, 1))
    assert J.item() == pytest.approx((np.log1p(np.exp(0.3)) + np.log1p(np.exp(1.2))) / 2)
    assert nn.cross_entropy(np.array([[0.3, 0.0]]), np.array([0])).item() == pytest.approx(
        np.log1p(np.exp(-0.3)))  # two classes are fine: -log(e**0.3 / (e**0.3 + 1))


def test_binary_cross_entropy_of_a_confident_float32_prediction_is_finite():
    # In float32, 1 - 1e-12 rounds to 1: the clip must stop at the largest float32 below 1.
    high = np.nextafter(np.float32(1), np.float32(0))
    a = gg.Tensor(np.array([[1.0], [0.0]], np.float32), requires_grad=True)
    J = nn.binary_cross_entropy(a, np.array([[1.0], [0.0]], np.float32))
    J.backward()
    assert J.dtype == np.float32 and a.grad.dtype == np.float32
    expected = -(np.log(np.float64(high)) + np.log1p(-1e-12)) / 2
    assert J.item() == pytest.approx(expected, rel=1e-5)
    np.testing.assert_array_equal(a.grad, 0.0)  # both outside the clip, where it is flat
    wrong = nn.binary_cross_entropy(gg.Tensor(np.float32([[1.0]])), np.float32([[0.0]]))
    assert wrong.item() == pytest.approx(-np.log1p(-np.float64(high)), rel=1e-5)  # 16.6
    z = gg.Tensor(np.float32([[20.0]]), requires_grad=True)
    nn.binary_cross_entropy(gg.sigmoid(z), np.float32([[1.0]])).backward()
    assert np.isfinite(z.grad).all()


@pytest.mark.parametrize("loss, labels", [
    (nn.mse, SOFT), (nn.cross_entropy, SOFT),
    (lambda z, y: nn.cross_entropy(z, y, multi_label=True), MULTI),
    (nn.binary_cross_entropy_with_logits, MULTI),
    (lambda z, y: nn.binary_cross_entropy(gg.sigmoid(z), y), MULTI),
])
def test_float64_labels_in_a_tensor_cost_a_float32_model_what_they_cost_in_an_array(loss, labels):
    """gg.Tensor(Y) of float64 labels is converted to the outputs' float32 as the array Y is:
    mse was float64, and every loss computed the cost and dZ in float64 (values that differed
    from those of the same labels given as an array)."""
    z = gg.Tensor(Z.astype(np.float32), requires_grad=True)
    as_array = loss(z, labels)
    as_array.backward()
    dz_array, z.grad = z.grad, None
    as_tensor = loss(z, gg.Tensor(labels))
    as_tensor.backward()
    assert as_tensor.dtype == np.float32 and z.grad.dtype == np.float32
    assert as_tensor.item() == as_array.item()
    np.testing.assert_array_equal(z.grad, dz_array)
    # Labels that require grad keep their graph, and get their gradient, in their own dtype.
    y = gg.Tensor(labels, requires_grad=True)
    loss(z, y).backward()
    assert y.grad.dtype == np.float64 and np.abs(y.grad).sum() > 0


def test_cross_entropy_with_class_names_as_labels_says_to_map_them_to_indices():
    with pytest.raises(gg.GraphgradError, match="map each class to its index") as info:
        nn.cross_entropy(np.zeros((2, 3)), np.array(["cat", "dog"]))
    assert isinstance(info.value, TypeError)
    with pytest.raises(ValueError, match=r"in 0..2"):
        nn.cross_entropy(np.zeros((2, 3)), np.array([0, 3]))



def _multi_label(outputs, labels):
    return nn.cross_entropy(outputs, labels, multi_label=True)


@pytest.mark.parametrize("loss, outputs, labels", [
    (nn.cross_entropy, lambda z: gg.softmax(z, axis=-1), ONE_HOT),
    (_multi_label, lambda z: z * 1.0, MULTI),
    (nn.binary_cross_entropy_with_logits, lambda z: z[:, :1], BINARY),
    (nn.binary_cross_entropy, lambda z: gg.sigmoid(z[:, :1]), BINARY),
], ids=["cross_entropy", "multi_label", "with_logits", "binary"])
def test_labels_and_outputs_in_keras_order_are_refused(loss, outputs, labels):
    """loss(Y, A), Keras's (y_true, y_pred) order: the cost of the 0/1 labels against the
    model's output had been computed without a word, and backward reached the model through
    dJ/dY, training it towards something else."""
    z = gg.Tensor(Z, requires_grad=True)
    A = outputs(z)
    with pytest.raises(gg.ArgumentError, match=r"are constant 0s and 1s and the labels .*"
                                               r"\(5, \d\) float64 require grad: the arguments "
                                               r"look swapped.*Keras"):
        loss(labels, A)
    # 0/1 outputs that need a gradient themselves, or with no graph recorded, are not refused
    assert np.isfinite(loss(gg.Tensor(labels, requires_grad=True), A).item())
    with gg.no_grad():
        assert np.isfinite(loss(labels, outputs(z)).item())


def test_in_the_right_order_the_losses_are_the_course_costs():
    z = gg.Tensor(Z, requires_grad=True)
    assert nn.cross_entropy(z, ONE_HOT).item() == pytest.approx(
        -np.sum(ONE_HOT * _log_softmax(Z)) / 5, rel=1e-12)
    a = _sigmoid(Z[:, :1])
    expected = _course_logistic_cost(a, BINARY)
    assert nn.binary_cross_entropy_with_logits(z[:, :1], BINARY).item() == pytest.approx(
        expected, rel=1e-12)
    assert nn.binary_cross_entropy(gg.sigmoid(z[:, :1]), BINARY).item() == pytest.approx(
        expected, rel=1e-12)


@pytest.mark.parametrize("third", [[1.0, 2.0, 1.0, 1.0], np.ones(4), 1, "sum"])
def test_cross_entropy_refuses_a_third_argument_that_is_not_multi_label(third):
    """PyTorch's F.cross_entropy(input, target, weight): class weights as the third argument
    had turned on multi_label, the sum of C sigmoid costs, without a word. They go to weight=."""
    with pytest.raises(gg.GraphgradError, match=r"multi_label must be True or False, got .*"
                                                r"Class weights, PyTorch's third argument, are "
                                                r"given as weight=: cross_entropy\(Z, Y, "
                                                r"weight=w\)") as info:
        nn.cross_entropy(Z, ONE_HOT, third)
    assert isinstance(info.value, TypeError)
    expected = -np.sum(ONE_HOT * _log_softmax(Z)) / 5
    assert nn.cross_entropy(Z, ONE_HOT, False).item() == pytest.approx(expected, rel=1e-12)
    assert nn.cross_entropy(Z, ONE_HOT, np.False_).item() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("loss, labels_are", [
    (lambda Z, Y: nn.mse(Z, Y), "mse: targets"),
    (lambda Z, Y: nn.cross_entropy(Z, Y), "cross_entropy: labels"),
    (lambda Z, Y: nn.cross_entropy(Z, Y, multi_label=True), "cross_entropy: labels"),
    (lambda Z, Y: nn.binary_cross_entropy(gg.sigmoid(Z), Y), "binary_cross_entropy: labels"),
    (lambda Z, Y: nn.binary_cross_entropy_with_logits(Z, Y),
     "binary_cross_entropy_with_logits: labels"),
])
def test_ragged_labels_are_named_by_the_loss(loss, labels_are):
    Z = gg.Tensor(np.zeros((2, 2)), requires_grad=True)
    with pytest.raises(gg.GraphgradTypeError, match=rf"^{labels_are} cannot be made into an "
                                                    "array .*inhomogeneous.*same length"):
        loss(Z, [[1.0, 0.0], [1.0]])


@pytest.mark.parametrize("loss, name, what, outputs, labels", [
    (nn.cross_entropy, "cross_entropy", "logits", np.zeros((0, 4)), np.zeros(0, np.int64)),
    (nn.cross_entropy, "cross_entropy", "logits", np.zeros((0, 4)), np.zeros((0, 4))),
    (lambda z, y: nn.cross_entropy(z, y, multi_label=True), "cross_entropy(multi_label=True)",
     "logits", np.zeros((0, 4)), np.zeros((0, 4))),
    (nn.binary_cross_entropy_with_logits, "binary_cross_entropy_with_logits", "logits",
     np.zeros((0, 1)), np.zeros((0, 1))),
    (nn.binary_cross_entropy, "binary_cross_entropy", "probabilities", np.zeros((0, 1)),
     np.zeros((0, 1))),
    (nn.mse, "mse", "predictions", np.zeros((0, 1)), np.zeros((0, 1))),
], ids=["indices", "one-hot", "multi_label", "bce_logits", "bce", "mse"])
def test_a_cost_over_no_examples_is_refused_by_every_loss(loss, name, what, outputs, labels):
    """A mean over m = 0 examples: cross-entropy and both binary losses gave 0, a perfect
    fit, mse gave NaN with numpy's two RuntimeWarnings, and multi_label a ZeroDivisionError."""
    A = gg.Tensor(outputs, requires_grad=True, name="A")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(gg.ShapeError) as info:
            loss(A, labels)
    assert str(info.value) == (
        f"{name}: the {what} 'A' {outputs.shape} float64 hold no examples (m = 0): the cost is "
        "a mean over them, and a mean over none is 0/0, not a number (PyTorch gives NaN); give "
        "at least one example (was the batch empty, or did a split leave a set empty?)")


def test_cross_entropy_over_sequences_of_no_steps_or_no_classes_is_refused():
    with pytest.raises(gg.ShapeError, match=r"^cross_entropy: the logits unnamed tensor "
                                            r"\(2, 0, 3\) float64 hold no values \(axis 1 "
                                            r"has length 0\): the cost is a mean over them"):
        nn.cross_entropy(np.zeros((2, 0, 3)), np.zeros((2, 0), np.int64))
    for labels in (np.zeros((2, 0)), np.zeros(2, np.int64)):  # numpy's max had failed
        with pytest.raises(gg.ShapeError, match=r"^cross_entropy: logits unnamed tensor "
                                                r"\(2, 0\) float64 hold no classes \(C = 0\)"):
            nn.cross_entropy(np.zeros((2, 0)), labels)


# -- reduction and ignore_index -------------------------------------------------------------------
def _softmax_ce_losses(z, labels):
    """-sum_k Y_k log softmax(z)_k of each position, Y the one-hot rows of class indices."""
    log_p = z - np.logaddexp.reduce(z, axis=-1, keepdims=True)
    one_hot = labels if labels.shape == z.shape else np.eye(z.shape[-1])[labels]
    return -np.sum(one_hot * log_p, axis=-1)


def _logistic_losses(a, y):
    return -(y * np.log(a) + (1 - y) * np.log(1 - a))


# loss name -> (loss, outputs, labels, each example's loss by hand, the number the mean divides by)
REDUCED = {
    "cross_entropy, class indices": (nn.cross_entropy, Z, CLASSES,
                                     _softmax_ce_losses(Z, CLASSES), 5),
    "cross_entropy, soft labels": (nn.cross_entropy, Z, SOFT, _softmax_ce_losses(Z, SOFT), 5),
    "cross_entropy, (m, t, C) logits": (nn.cross_entropy, Z_SEQUENCE, SEQUENCE_CLASSES,
                                        _softmax_ce_losses(Z_SEQUENCE, SEQUENCE_CLASSES), 4),
    # as PyTorch's BCEWithLogitsLoss, "none" keeps each label's loss; the mean divides by m
    "cross_entropy, multi-label": (lambda z, y, **kw: nn.cross_entropy(z, y, True, **kw), Z,
                                   MULTI, _logistic_losses(_sigmoid(Z), MULTI), 5),
    "binary_cross_entropy_with_logits": (nn.binary_cross_entropy_with_logits, Z[:, :2],
                                         MULTI[:, :2], _logistic_losses(_sigmoid(Z[:, :2]),
                                                                        MULTI[:, :2]), 10),
    "binary_cross_entropy": (nn.binary_cross_entropy, _sigmoid(Z[:, :2]), MULTI[:, :2],
                             _logistic_losses(_sigmoid(Z[:, :2]), MULTI[:, :2]), 10),
    "mse": (nn.mse, Z, SOFT, (Z - SOFT) ** 2, 20),
}


@pytest.mark.parametrize("name", list(REDUCED))
def test_each_reduction_is_the_losses_of_each_example_their_sum_or_the_default_mean(name):
    loss, outputs, labels, losses, m = REDUCED[name]
    each = loss(outputs, labels, reduction="none")
    assert each.shape == losses.shape
    np.testing.assert_allclose(each.data, losses, rtol=1e-12)
    assert loss(outputs, labels, reduction="sum").item() == pytest.approx(losses.sum(), rel=1e-12)
    mean = loss(outputs, labels, reduction="mean").item()
    assert mean == loss(outputs, labels).item()  # the default, bit for bit
    assert mean == pytest.approx(losses.sum() / m, rel=1e-12)


def test_the_gradient_of_each_examples_loss_is_its_upstream_gradient_times_softmax_minus_y():
    """dZ_i = (softmax(Z_i) - Y_i) g_i for L_i weighted by g (a reward, a mask), and
    softmax(Z) - Y for the sum: the course's dZ without the 1/m."""
    g = np.array([1.0, -2.0, 0.0, 0.5, 3.0])
    softmax_minus_y = np.exp(_log_softmax(Z)) - ONE_HOT
    for labels in (CLASSES, ONE_HOT):
        z = gg.Tensor(Z, requires_grad=True)
        nn.cross_entropy(z, labels, reduction="none").backward(g)
        np.testing.assert_allclose(z.grad, softmax_minus_y * g[:, None], rtol=1e-12, atol=1e-15)
        z.grad = None
        nn.cross_entropy(z, labels, reduction="sum").backward()
        np.testing.assert_allclose(z.grad, softmax_minus_y, rtol=1e-12, atol=1e-15)
        assert type(nn.cross_entropy(z, labels, reduction="none").creator).__name__ == \
            "SoftmaxCrossEntropyLosses"  # one fused node
    z = gg.Tensor(Z[:, :1], requires_grad=True)
    nn.binary_cross_entropy_with_logits(z, BINARY, reduction="none").backward(g[:, None])
    np.testing.assert_allclose(z.grad, (_sigmoid(Z[:, :1]) - BINARY) * g[:, None], rtol=1e-12)
    a = gg.Tensor(_sigmoid(Z[:, :1]), requires_grad=True)
    nn.binary_cross_entropy(a, BINARY, reduction="none").backward(g[:, None])
    A = _sigmoid(Z[:, :1])
    np.testing.assert_allclose(a.grad, (A - BINARY) / (A * (1 - A)) * g[:, None], rtol=1e-10)
    a = gg.Tensor(Z, requires_grad=True)
    nn.mse(a, SOFT, reduction="none").backward(np.outer(g, np.ones(4)))
    np.testing.assert_allclose(a.grad, 2 * (Z - SOFT) * g[:, None], rtol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", list(REDUCED))
def test_each_reduction_keeps_float32(name, reduction):
    loss, outputs, labels, losses, m = REDUCED[name]
    x = gg.Tensor(outputs.astype(np.float32), requires_grad=True)
    labels = labels if labels.dtype.kind == "i" else labels.astype(np.float32)
    J = loss(x, labels, reduction=reduction)
    J.backward(np.ones(J.shape, np.float32))
    assert J.dtype == x.grad.dtype == np.float32
    expected = {"none": losses, "sum": losses.sum(), "mean": losses.sum() / m}[reduction]
    np.testing.assert_allclose(J.data, expected, rtol=1e-5)


@given(classes_strategy, st.data())
def test_each_examples_cross_entropy_is_finite_and_exact_for_any_logit(z, data):
    m, C = z.shape
    labels = data.draw(hnp.arrays(np.int64, (m,), elements=st.integers(-1, C - 1)))  # -1: pad
    logits = gg.Tensor(z, requires_grad=True)
    losses = nn.cross_entropy(logits, labels, reduction="none", ignore_index=-1)
    losses.backward(np.ones(m))
    kept = labels != -1
    reference = np.where(kept, np.logaddexp.reduce(z, axis=1) - z[np.arange(m), labels], 0.0)
    np.testing.assert_allclose(losses.data, reference, rtol=1e-9, atol=1e-9)
    assert np.isfinite(logits.grad).all()
    np.testing.assert_array_equal(logits.grad[~kept], 0.0)
    np.testing.assert_allclose(logits.grad.sum(axis=1), 0, atol=1e-12)  # softmax - one-hot
    each = nn.binary_cross_entropy_with_logits(z, (z > 0).astype(float)[:, ::-1].copy(),
                                               reduction="none")
    assert np.isfinite(each.data).all()


def test_a_perfect_fit_costs_zero_not_minus_zero_at_each_example():
    certain = np.array([[1000.0, 0.0, -1000.0], [-1000.0, 0.0, 1000.0]])
    for labels in ([0, 2], np.array([[1.0, 0, 0], [0, 0, 1]])):
        losses = nn.cross_entropy(certain, labels, reduction="none").data
        assert list(losses) == [0.0, 0.0] and not np.signbit(losses).any()


def test_ignored_positions_cost_nothing_and_the_mean_divides_by_the_others():
    """Two sequences of two steps, the second step of each padding (-100): the mean is over the
    two real steps, as PyTorch's ignore_index, not over all four."""
    losses = _softmax_ce_losses(Z_SEQUENCE[:, :1], SEQUENCE_CLASSES[:, :1])[:, 0]  # (2,)
    z = gg.Tensor(Z_SEQUENCE, requires_grad=True)
    J = nn.cross_entropy(z, PADDED_CLASSES, ignore_index=-100)
    assert J.item() == pytest.approx(losses.mean(), rel=1e-12)
    J.backward()
    p = np.exp(Z_SEQUENCE - np.logaddexp.reduce(Z_SEQUENCE, axis=-1, keepdims=True))
    expected = np.zeros_like(p)
    expected[:, 0] = (p[:, 0] - np.eye(3)[[0, 1]]) / 2
    np.testing.assert_allclose(z.grad, expected, rtol=1e-12, atol=1e-15)
    assert nn.cross_entropy(Z_SEQUENCE, PADDED_CLASSES, reduction="sum",
                            ignore_index=-100).item() == pytest.approx(losses.sum(), rel=1e-12)
    each = nn.cross_entropy(Z_SEQUENCE, PADDED_CLASSES, reduction="none", ignore_index=-100)
    np.testing.assert_allclose(each.data, [[losses[0], 0.0], [losses[1], 0.0]], rtol=1e-12)
    # an ignore_index within 0..C-1 (class 0 as padding) ignores that class
    padding_0 = nn.cross_entropy(Z, CLASSES, ignore_index=1)
    kept = CLASSES != 1
    assert padding_0.item() == pytest.approx(_softmax_ce_losses(Z, CLASSES)[kept].mean(),
                                             rel=1e-12)
    # float class indices, a padding id above C-1
    assert nn.cross_entropy(Z_SEQUENCE, np.array([[0.0, 7.0], [1.0, 7.0]]),
                            ignore_index=7).item() == pytest.approx(losses.mean(), rel=1e-12)


@pytest.mark.parametrize("create_graph", [False, True])
def test_a_batch_of_padding_alone_costs_zero_with_a_zero_gradient(create_graph):
    """PyTorch's mean over no position is 0/0, NaN (with a zero gradient): a batch that is all
    padding would make the running cost NaN. Here it costs 0 and teaches nothing."""
    z = gg.Tensor(Z_SEQUENCE, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        J = nn.cross_entropy(z, np.full((2, 2), -100), ignore_index=-100)
        (dz,) = gg.grad(J, [z], create_graph=create_graph)
    assert J.item() == 0.0 and not np.signbit(J.item())
    np.testing.assert_array_equal(np.asarray(dz.data if create_graph else dz), 0.0)


def test_the_range_check_of_class_indices_lets_the_ignored_index_through_and_no_other():
    with pytest.raises(gg.ArgumentError, match=r"0\.\.3 for 4 logits.*from -100 to 3"):
        nn.cross_entropy(Z, np.array([0, -100, 1, 1, 3]))  # without ignore_index: refused
    assert np.isfinite(nn.cross_entropy(Z, np.array([0, -100, 1, 1, 3]),
                                        ignore_index=-100).item())
    with pytest.raises(gg.ArgumentError, match=r"from -1 to 3 \(but for ignore_index=-100\)"):
        nn.cross_entropy(Z, np.array([0, -100, -1, 1, 3]), ignore_index=-100)
    with pytest.raises(gg.ArgumentError, match=r"from 0 to 4 \(but for ignore_index=-100\)"):
        nn.cross_entropy(Z, np.array([0, -100, 4, 1, 3]), ignore_index=-100)


def test_ignore_index_is_refused_where_it_means_nothing():
    with pytest.raises(gg.ArgumentError, match=(
            r"^cross_entropy: ignore_index=-100 applies to class indices, of shape \(5,\) here, "
            r"not to one-hot or probability rows \(5, 4\): pass the class indices "
            r"\(Y\.argmax\(axis=-1\), with the ignored positions set to -100\), or give the "
            r"ignored positions rows of zeros")):
        nn.cross_entropy(Z, ONE_HOT, ignore_index=-100)
    with pytest.raises(gg.ArgumentError, match=r"not to multi_label=True's labels.*"
                                               r"reduction=\"none\" and multiply"):
        nn.cross_entropy(Z, MULTI, multi_label=True, ignore_index=-100)
    for bad in (1.5, -100.0, "pad", True):
        with pytest.raises(gg.GraphgradTypeError, match=r"ignore_index must be a whole "
                                                        r"number.*PyTorch's default is -100"):
            nn.cross_entropy(Z, CLASSES, ignore_index=bad)
    assert nn.cross_entropy(Z, CLASSES, ignore_index=np.int64(-100)).item() == pytest.approx(
        _softmax_ce_losses(Z, CLASSES).mean(), rel=1e-12)


@pytest.mark.parametrize("loss, name", [
    (lambda **kw: nn.cross_entropy(Z, CLASSES, **kw), "cross_entropy"),
    (lambda **kw: nn.cross_entropy(Z, MULTI, multi_label=True, **kw), "cross_entropy"),
    (lambda **kw: nn.binary_cross_entropy_with_logits(Z, MULTI, **kw),
     "binary_cross_entropy_with_logits"),
    (lambda **kw: nn.binary_cross_entropy(_sigmoid(Z), MULTI, **kw), "binary_cross_entropy"),
    (lambda **kw: nn.mse(Z, SOFT, **kw), "mse"),
], ids=["cross_entropy", "multi_label", "with_logits", "binary", "mse"])
def test_a_reduction_other_than_mean_sum_or_none_is_refused_naming_the_loss(loss, name):
    choices = r"reduction must be \"mean\" \(the cost averaged over the examples\), \"sum\" " \
              r"or \"none\" \(each example's loss\), got "
    with pytest.raises(gg.ArgumentError, match=rf"^{name}: {choices}'avg'$"):
        loss(reduction="avg")
    with pytest.raises(gg.ArgumentError, match=rf"^{name}: {choices}None \(the string "
                                               r"\"none\" gives each example's loss\)$"):
        loss(reduction=None)
    with pytest.raises(gg.ArgumentError, match=rf"^{name}: {choices}'elementwise_mean' "
                                               r"\(\"mean\" divides"):
        loss(reduction="elementwise_mean")
    with pytest.raises(gg.ArgumentError, match=rf"^{name}: {choices}<<U4 array \(2,\)>"):
        loss(reduction=np.array(["mean", "sum"]))
    assert loss(reduction=np.str_("sum")).item() == loss(reduction="sum").item()


@pytest.mark.parametrize("loss, outputs, labels, expected", [
    (nn.cross_entropy, np.zeros((0, 4)), np.zeros(0, np.int64), (0,)),
    (nn.cross_entropy, np.zeros((0, 4)), np.zeros((0, 4)), (0,)),
    (lambda z, y, **kw: nn.cross_entropy(z, y, multi_label=True, **kw), np.zeros((0, 4)),
     np.zeros((0, 4)), (0, 4)),
    (nn.binary_cross_entropy_with_logits, np.zeros((0, 1)), np.zeros((0, 1)), (0, 1)),
    (nn.binary_cross_entropy, np.zeros((0, 1)), np.zeros((0, 1)), (0, 1)),
    (nn.mse, np.zeros((0, 1)), np.zeros((0, 1)), (0, 1)),
], ids=["indices", "one-hot", "multi_label", "bce_logits", "bce", "mse"])
def test_the_sum_over_no_examples_is_zero_and_their_losses_are_none(loss, outputs, labels,
                                                                     expected):
    """Only the mean over no examples is 0/0 (refused above); their sum is 0 and their losses
    an empty array, as in PyTorch."""
    A = gg.Tensor(outputs, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        total = loss(A, labels, reduction="sum")
        each = loss(A, labels, reduction="none")
        total.backward()
    assert total.item() == 0.0 and A.grad.shape == outputs.shape
    assert each.shape == expected


@pytest.mark.parametrize("as_tensor", [False, True])
def test_class_indices_above_2048_pick_their_class_with_float16_logits(as_tensor):
    """float16 holds whole numbers exactly up to 2048 only (2049 rounds to 2048, 2999 to
    3000): class indices are kept as integers, not cast to the logits' dtype, so a vocabulary
    of 3000 words scores each token's own class, and a padding id of 2049 is ignored."""
    z = np.zeros((3, 3000), np.float16)
    z[0, 2049] = z[1, 2999] = z[2, 2048] = 5.0  # one class of each example scores 5
    classes = np.array([2049, 2999, 2049])  # the third's is not the one that scores 5
    labels = gg.Tensor(classes) if as_tensor else classes
    right = -(5.0 - math.log(2999 + math.exp(5.0)))  # -log softmax(z)_y = 3.0543
    wrong = math.log(2999 + math.exp(5.0))  # a class that scores 0: 8.0543
    losses = nn.cross_entropy(gg.Tensor(z), labels, reduction="none")
    np.testing.assert_allclose(losses.data, [right, right, wrong], rtol=1e-3)
    J = nn.cross_entropy(gg.Tensor(z), labels, ignore_index=2049, reduction="none")
    np.testing.assert_allclose(J.data, [0.0, right, 0.0], rtol=1e-3)


# -- class weights and label smoothing ------------------------------------------------------------
def _pytorchs_cross_entropy(z, labels, weight=None, eps=0.0, ignore_index=None, reduction="mean"):
    """PyTorch's cross_entropy spelled out as its source computes it. Class indices: (1 - eps)
    times the negative log-likelihood weighted by each target's class weight, plus eps / C
    times the sum over the classes of -w_k log p_k, each position kept (not ignore_index);
    their mean divides both by the sum of the kept targets' weights. Probabilities: the
    targets mixed with the uniform distribution, (1 - eps) Y + eps / C, each class's term
    weighted, the mean over the positions."""
    C = z.shape[-1]
    log_p = z - np.logaddexp.reduce(z, axis=-1, keepdims=True)
    w = np.ones(C) if weight is None else np.asarray(weight, np.float64)
    if labels.shape == z.shape:
        losses = -np.sum(((1 - eps) * labels + eps / C) * w * log_p, axis=-1)
        return {"none": losses, "sum": losses.sum(), "mean": losses.sum() / losses.size}[
            reduction]
    kept = np.ones(labels.shape, bool) if ignore_index is None else labels != ignore_index
    safe = np.where(kept, labels, 0)
    target_weights = np.where(kept, w[safe], 0.0)
    nll = -np.take_along_axis(log_p, safe[..., None], axis=-1)[..., 0] * target_weights
    smooth = np.where(kept, -np.sum(w * log_p, axis=-1), 0.0)
    if reduction == "none":
        return (1 - eps) * nll + eps / C * smooth
    total = (1 - eps) * nll.sum() + eps / C * smooth.sum()
    return total if reduction == "sum" else total / target_weights.sum()


def _targets(z, labels, weight=None, eps=0.0, ignore_index=None):
    """T = w * ((1 - eps) Y + eps / C), Y the labels' rows (one-hot for class indices, zeros
    where ignored): the cost is -sum T log softmax(Z), its gradient softmax(Z) sum_k T_k - T."""
    C = z.shape[-1]
    w = np.ones(C) if weight is None else np.asarray(weight, np.float64)
    if labels.shape == z.shape:
        return ((1 - eps) * labels + eps / C) * w
    kept = np.ones(labels.shape, bool) if ignore_index is None else labels != ignore_index
    one_hot = np.eye(C)[np.where(kept, labels, 0)]
    return ((1 - eps) * one_hot + eps / C) * w * kept[..., None]


LABEL_FORMS = {  # name -> (logits (..., C), labels, ignore_index)
    "class indices": (Z, CLASSES, None),
    "(m, t, C), ignore_index": (Z_SEQUENCE, PADDED_CLASSES, -100),
    "ignore_index 1": (Z, CLASSES, 1),
    "one example (C,)": (Z[1], np.array(3), None),
    "one-hot": (Z, ONE_HOT, None),
    "probabilities": (Z, SOFT, None),
    "probabilities (m, t, C)": (Z_SEQUENCE, RNG.dirichlet(np.ones(3), size=(2, 2)), None),
}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("eps", [0.0, 0.2, 1.0])
@pytest.mark.parametrize("weighted", [False, True], ids=["no weight", "weight"])
@pytest.mark.parametrize("form", list(LABEL_FORMS))
def test_class_weights_and_label_smoothing_are_pytorchs(form, weighted, eps, reduction):
    z_values, labels, ignore_index = LABEL_FORMS[form]
    weight = WEIGHT[:z_values.shape[-1]] if weighted else None
    z = gg.Tensor(z_values, requires_grad=True)
    J = nn.cross_entropy(z, labels, reduction=reduction, ignore_index=ignore_index,
                         weight=weight, label_smoothing=eps)
    expected = _pytorchs_cross_entropy(z_values, labels, weight, eps, ignore_index, reduction)
    assert J.shape == np.shape(expected)
    np.testing.assert_allclose(J.data, expected, rtol=1e-12, atol=1e-15)
    upstream = RNG.standard_normal(J.shape)
    J.backward(upstream)
    # dZ = (softmax(Z) sum_k T_k - T) g / n, n the mean's divisor
    T = _targets(z_values, labels, weight, eps, ignore_index)
    p = np.exp(z_values - np.logaddexp.reduce(z_values, axis=-1, keepdims=True))
    n = 1.0  # the mean's divisor: the positions, or the weights of the targets kept
    if reduction == "mean":
        n = T[..., 0].size if labels.shape == z_values.shape else np.sum(
            _targets(z_values, labels, weight, 0.0, ignore_index))
    g = np.asarray(upstream)[..., None] if reduction == "none" else upstream
    expected_dz = (p * T.sum(axis=-1, keepdims=True) - T) * g / n
    np.testing.assert_allclose(z.grad, expected_dz, rtol=1e-10, atol=1e-15)


def test_with_class_weights_the_mean_divides_by_the_weights_of_the_targets():
    """Class indices 0, 3, 1, 1, 2 weighted 0.5, 3, 2, 2, 1.5: the mean is the weighted sum of
    the losses over 9, not over the 5 examples; with probabilities it is over the 5."""
    losses = _softmax_ce_losses(Z, CLASSES)
    weights = WEIGHT[CLASSES]
    assert weights.sum() == 9.0
    J = nn.cross_entropy(Z, CLASSES, weight=WEIGHT)
    assert J.item() == pytest.approx(np.dot(weights, losses) / 9.0, rel=1e-12)
    assert nn.cross_entropy(Z, ONE_HOT, weight=WEIGHT).item() == pytest.approx(
        np.dot(weights, losses) / 5.0, rel=1e-12)
    assert nn.cross_entropy(Z, CLASSES, weight=np.ones(4)).item() == pytest.approx(
        losses.mean(), rel=1e-12)
    # Equal weights change nothing for class indices (the weights cancel in the mean).
    assert nn.cross_entropy(Z, CLASSES, weight=np.full(4, 7.0)).item() == pytest.approx(
        losses.mean(), rel=1e-12)


def test_label_smoothing_mixes_the_targets_with_the_uniform_distribution():
    """eps = 0.3 over C = 4: each target is 0.7 Y + 0.075, whether the labels are class indices
    or their one-hot rows; eps = 1 is the uniform distribution alone."""
    smoothed = 0.7 * ONE_HOT + 0.075
    expected = -np.sum(smoothed * _log_softmax(Z)) / 5
    for labels in (CLASSES, ONE_HOT):
        J = nn.cross_entropy(Z, labels, label_smoothing=0.3)
        assert J.item() == pytest.approx(expected, rel=1e-12)
    uniform = -np.sum(_log_softmax(Z)) / 4 / 5
    assert nn.cross_entropy(Z, CLASSES, label_smoothing=1).item() == pytest.approx(uniform,
                                                                                  rel=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("labels", [CLASSES, ONE_HOT, SOFT], ids=["indices", "one-hot", "soft"])
def test_weight_and_smoothing_keep_one_fused_node(labels, reduction):
    z = gg.Tensor(Z, requires_grad=True)
    J = nn.cross_entropy(z, labels, reduction=reduction, weight=WEIGHT, label_smoothing=0.1)
    assert J.creator.inputs[0] is z
    assert type(J.creator).__name__ == ("WeightedSoftmaxCrossEntropyLosses"
                                        if reduction == "none" else
                                        "WeightedSoftmaxCrossEntropy")
    # Without them, the node is the one it always was.
    plain = nn.cross_entropy(z, labels, reduction=reduction)
    assert type(plain.creator).__name__ in ("SoftmaxCrossEntropy", "SoftmaxCrossEntropyLosses")
    assert type(nn.cross_entropy(z, labels, label_smoothing=0).creator).__name__ == \
        "SoftmaxCrossEntropy"


def test_the_gradient_with_respect_to_soft_labels_carries_the_weight_and_smoothing():
    """dJ/dY = -(1 - eps) w log softmax(Z) / m: the smoothing's eps / C is a constant."""
    z = gg.Tensor(Z, requires_grad=True)
    y = gg.Tensor(SOFT, requires_grad=True)
    nn.cross_entropy(z, y, weight=WEIGHT, label_smoothing=0.2).backward()
    np.testing.assert_allclose(y.grad, -0.8 * WEIGHT * _log_softmax(Z) / 5, rtol=1e-12)


@pytest.mark.parametrize("create_graph", [False, True])
def test_targets_whose_weights_sum_to_zero_cost_zero_with_a_zero_gradient(create_graph):
    """The mean over targets of weight 0 is 0/0 (PyTorch gives NaN), as a batch of padding
    alone is: here it costs 0 and teaches nothing, smoothing or not."""
    weight = np.array([0.0, 1.0, 1.0, 0.0])
    for eps in (0.0, 0.1):
        z = gg.Tensor(Z, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            J = nn.cross_entropy(z, np.array([0, 3, 0, 3, 0]), weight=weight, label_smoothing=eps)
            (dz,) = gg.grad(J, [z], create_graph=create_graph)
        assert J.item() == 0.0 and not np.signbit(J.item())
        np.testing.assert_array_equal(np.asarray(dz.data if create_graph else dz), 0.0)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("labels", [CLASSES, SOFT], ids=["indices", "soft"])
def test_weight_and_smoothing_keep_float32(labels, reduction):
    z = gg.Tensor(Z.astype(np.float32), requires_grad=True)
    J = nn.cross_entropy(z, labels if labels.dtype.kind == "i" else labels.astype(np.float32),
                         reduction=reduction, weight=WEIGHT, label_smoothing=0.1)
    J.backward(np.ones(J.shape, np.float32))
    assert J.dtype == z.grad.dtype == np.float32
    np.testing.assert_allclose(J.data, _pytorchs_cross_entropy(Z, labels, WEIGHT, 0.1,
                                                               reduction=reduction), rtol=1e-5)


@given(classes_strategy, st.data())
def test_weighted_smoothed_cross_entropy_is_finite_and_exact_for_any_logit(z, data):
    m, C = z.shape
    labels = data.draw(hnp.arrays(np.int64, (m,), elements=st.integers(-1, C - 1)))  # -1: pad
    weight = data.draw(hnp.arrays(np.float64, (C,), elements=st.floats(0.1, 10)))
    eps = data.draw(st.sampled_from([0.0, 0.1, 1.0]))
    reduction = data.draw(st.sampled_from(["mean", "sum", "none"]))
    logits = gg.Tensor(z, requires_grad=True)
    J = nn.cross_entropy(logits, labels, reduction=reduction, ignore_index=-1, weight=weight,
                         label_smoothing=eps)
    J.backward(np.ones(J.shape))
    if reduction == "mean" and np.all(labels == -1):
        expected = 0.0  # PyTorch's 0/0
    else:
        expected = _pytorchs_cross_entropy(z, labels, weight, eps, -1, reduction)
    assert np.isfinite(J.data).all() and np.isfinite(logits.grad).all()
    np.testing.assert_allclose(J.data, expected, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(logits.grad.sum(axis=-1), 0, atol=1e-9)  # p sum T - T sums to 0
    soft = np.eye(C)[np.maximum(labels, 0)] * 0.5 + 0.5 / C
    J = nn.cross_entropy(z, soft, weight=weight, label_smoothing=eps)
    np.testing.assert_allclose(J.item(), _pytorchs_cross_entropy(z, soft, weight, eps),
                               rtol=1e-9, atol=1e-9)


def test_class_weights_of_the_wrong_length_or_shape_are_explained():
    with pytest.raises(gg.ShapeError, match=(
            r"^cross_entropy: weight must hold one weight per class, C = 4 for logits "
            r"unnamed tensor \(5, 4\) float64, got weight of shape \(3,\)\.$")):
        nn.cross_entropy(Z, CLASSES, weight=[1.0, 2.0, 3.0])
    with pytest.raises(gg.ShapeError, match=r"got weight of shape \(1, 4\).*weight\.ravel\(\)"):
        nn.cross_entropy(Z, CLASSES, weight=WEIGHT[None])
    with pytest.raises(gg.ShapeError, match=r"got weight of shape \(5,\).*one weight per "
                                            r"example.*reduction=\"none\""):
        nn.cross_entropy(Z[:, :3], CLASSES % 3, weight=np.ones(5))
    with pytest.raises(gg.ShapeError, match=r"got weight of shape \(\)"):
        nn.cross_entropy(Z, CLASSES, weight=2.0)


@pytest.mark.parametrize("weight, error, message", [
    (np.array(["a", "b", "c", "d"]), gg.GraphgradTypeError, r"weight must hold numbers"),
    (np.array([True, False, True, True]), gg.GraphgradTypeError,
     r"weight must hold real numbers, one per class, got bool.*astype"),
    ([1.0, -1.0, 1.0, 1.0], gg.ArgumentError,
     r"weight must be at least 0 and finite, got -1 for class 1"),
    ([1.0, 1.0, np.nan, 1.0], gg.ArgumentError,
     r"weight must be at least 0 and finite, got nan for class 2"),
    ([1.0, 1.0, 1.0, np.inf], gg.ArgumentError,
     r"weight must be at least 0 and finite, got inf for class 3"),
])
def test_class_weights_that_are_not_real_nonnegative_numbers_are_refused(weight, error,
                                                                        message):
    with pytest.raises(error, match=rf"^cross_entropy: {message}"):
        nn.cross_entropy(Z, CLASSES, weight=weight)


def test_class_weights_that_require_grad_are_refused():
    """PyTorch refuses them with class indices (nll_loss is not differentiable in weight):
    here class weights are constants, with either form of labels."""
    w = gg.Tensor(WEIGHT, requires_grad=True, name="w")
    for labels in (CLASSES, SOFT):
        with pytest.raises(gg.ArgumentError, match=(
                r"^cross_entropy: weight 'w' \(4,\) float64 requires grad; class weights are "
                r"constants here.*w\.detach\(\)")):
            nn.cross_entropy(Z, labels, weight=w)
    constant = gg.Tensor(WEIGHT)
    assert nn.cross_entropy(Z, CLASSES, weight=constant).item() == pytest.approx(
        nn.cross_entropy(Z, CLASSES, weight=WEIGHT).item(), rel=1e-15)
    # integer weights are numbers like any other
    assert nn.cross_entropy(Z, CLASSES, weight=[1, 2, 1, 3]).item() == pytest.approx(
        nn.cross_entropy(Z, CLASSES, weight=np.array([1.0, 2.0, 1.0, 3.0])).item(), rel=1e-15)


def test_changing_the_weight_array_afterwards_changes_no_gradient():
    weight = WEIGHT.copy()
    z = gg.Tensor(Z, requires_grad=True)
    J = nn.cross_entropy(z, CLASSES, weight=weight)
    weight[:] = 100.0
    J.backward()
    expected = _targets(Z, CLASSES, WEIGHT)
    p = np.exp(_log_softmax(Z))
    np.testing.assert_allclose(z.grad, (p * expected.sum(-1, keepdims=True) - expected) / 9.0,
                               rtol=1e-12)


@pytest.mark.parametrize("eps", [-0.1, 1.5, float("nan"), "0.1", None, True, np.array([0.1])])
def test_label_smoothing_outside_0_to_1_is_refused(eps):
    with pytest.raises(gg.ArgumentError, match=(
            r"^cross_entropy: label_smoothing must be a number in \[0, 1\] \(the share of "
            r"each target moved to the uniform distribution over the C classes")):
        nn.cross_entropy(Z, CLASSES, label_smoothing=eps)


def test_label_smoothing_with_multi_label_is_refused_with_what_to_do():
    with pytest.raises(gg.ArgumentError, match=(
            r"^cross_entropy: label_smoothing=0.1 applies to the softmax over the C classes, "
            r"not to multi_label=True's.*Y \* \(1 - 0.1\) \+ 0.1 / 2")):
        nn.cross_entropy(Z, MULTI, multi_label=True, label_smoothing=0.1)
    assert nn.cross_entropy(Z, MULTI, multi_label=True, label_smoothing=0.0).item() == \
        nn.cross_entropy(Z, MULTI, multi_label=True).item()


# -- the binary losses' weight and pos_weight -----------------------------------------------------
def _pytorchs_bce_with_logits(z, y, weight=None, pos_weight=None, reduction="mean"):
    """PyTorch's binary_cross_entropy_with_logits spelled out as its source computes it:
    (1 - y) z + (1 + (p - 1) y) (log(1 + e**-|z|) + max(-z, 0)), times w; the mean over all
    the elements (not over the weights' sum)."""
    p = 1.0 if pos_weight is None else np.asarray(pos_weight, np.float64)
    w = 1.0 if weight is None else np.asarray(weight, np.float64)
    losses = ((1 - y) * z + (1 + (p - 1) * y) * (np.log1p(np.exp(-np.abs(z)))
                                                 + np.maximum(-z, 0))) * w
    losses = np.broadcast_to(losses, z.shape)
    return {"none": losses, "sum": losses.sum(), "mean": losses.mean()}[reduction]


def _pytorchs_bce(a, y, weight=None, reduction="mean"):
    """PyTorch's binary_cross_entropy: -w [y log a + (1 - y) log(1 - a)], the mean over all
    the elements."""
    w = 1.0 if weight is None else np.asarray(weight, np.float64)
    losses = np.broadcast_to(-w * (y * np.log(a) + (1 - y) * np.log(1 - a)), a.shape)
    return {"none": losses, "sum": losses.sum(), "mean": losses.mean()}[reduction]


BINARY_SHAPES = {  # name -> (logits, soft labels, weight, pos_weight)
    "(m,)": (Z[:, 0], MULTI[:, 0] * 0.8 + 0.1, ELEMENT_WEIGHT[:, 0], np.array([2.5])),
    "(m, C)": (Z, MULTI * 0.8 + 0.1, ELEMENT_WEIGHT, POS_WEIGHT),
    "(m, C), one weight per example": (Z, MULTI, ELEMENT_WEIGHT[:, :1], POS_WEIGHT),
    "(m, C), one weight per label": (Z, MULTI, WEIGHT, POS_WEIGHT[None]),
    "(m, t, C)": (Z_SEQUENCE, MULTI_SEQUENCE, WEIGHT[:3], POS_WEIGHT[:3]),
}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("given", ["weight", "pos_weight", "both"])
@pytest.mark.parametrize("shape", list(BINARY_SHAPES))
def test_weight_and_pos_weight_of_binary_cross_entropy_with_logits_are_pytorchs(
        shape, given, reduction):
    z_values, y, weight, pos_weight = BINARY_SHAPES[shape]
    weight = None if given == "pos_weight" else weight
    pos_weight = None if given == "weight" else pos_weight
    z = gg.Tensor(z_values, requires_grad=True)
    J = nn.binary_cross_entropy_with_logits(z, y, reduction=reduction, weight=weight,
                                            pos_weight=pos_weight)
    expected = _pytorchs_bce_with_logits(z_values, y, weight, pos_weight, reduction)
    assert J.shape == np.shape(expected)
    np.testing.assert_allclose(J.data, expected, rtol=1e-12, atol=1e-15)
    upstream = RNG.standard_normal(J.shape)
    J.backward(upstream)
    # dZ = w [(1 - y + p y) sigmoid(Z) - p y] g / n, n the number of elements for the mean
    w = 1.0 if weight is None else weight
    p = 1.0 if pos_weight is None else pos_weight
    n = z_values.size if reduction == "mean" else 1.0
    expected_dz = w * ((1 - y + p * y) * _sigmoid(z_values) - p * y) * upstream / n
    np.testing.assert_allclose(z.grad, expected_dz, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", list(BINARY_SHAPES))
def test_weight_of_binary_cross_entropy_is_pytorchs(shape, reduction):
    z_values, y, weight, _ = BINARY_SHAPES[shape]
    A = _sigmoid(z_values)
    a = gg.Tensor(A, requires_grad=True)
    J = nn.binary_cross_entropy(a, y, reduction=reduction, weight=weight)
    expected = _pytorchs_bce(A, y, weight, reduction)
    assert J.shape == np.shape(expected)
    np.testing.assert_allclose(J.data, expected, rtol=1e-12, atol=1e-15)
    upstream = RNG.standard_normal(J.shape)
    J.backward(upstream)
    n = A.size if reduction == "mean" else 1.0
    np.testing.assert_allclose(a.grad, weight * (A - y) / (A * (1 - A)) * upstream / n,
                               rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", ["(m, C)", "(m, t, C)"])
def test_multi_label_weight_and_pos_weight_are_bce_with_logits_and_the_mean_divides_by_m(
        shape, reduction):
    """With multi_label, cross_entropy's mean is the sum over the m examples' labels divided
    by m, weighted or not: PyTorch's BCEWithLogitsLoss's mean times C. Neither divides by
    the weights' sum."""
    z_values, y, weight, pos_weight = BINARY_SHAPES[shape]
    z = gg.Tensor(z_values, requires_grad=True)
    J = nn.cross_entropy(z, y, multi_label=True, reduction=reduction, weight=weight,
                         pos_weight=pos_weight)
    losses = _pytorchs_bce_with_logits(z_values, y, weight, pos_weight, "none")
    m = losses[..., 0].size
    expected = {"none": losses, "sum": losses.sum(), "mean": losses.sum() / m}[reduction]
    np.testing.assert_allclose(J.data, expected, rtol=1e-12, atol=1e-15)
    J.backward(np.ones(J.shape))
    n = m if reduction == "mean" else 1.0
    expected_dz = weight * ((1 - y + pos_weight * y) * _sigmoid(z_values)
                            - pos_weight * y) / n
    np.testing.assert_allclose(z.grad, expected_dz, rtol=1e-10, atol=1e-15)


def test_the_weighted_mean_divides_by_the_elements_not_by_the_weights_sum():
    """As PyTorch's: a weight of 2 everywhere doubles the cost (cross_entropy's class weights,
    whose mean divides by their sum, would leave it as it is), and a weight of 0 leaves an
    element out of the sum but not out of the mean's divisor."""
    plain = nn.binary_cross_entropy_with_logits(Z, MULTI).item()
    doubled = nn.binary_cross_entropy_with_logits(Z, MULTI, weight=np.full(4, 2.0)).item()
    assert doubled == pytest.approx(2 * plain, rel=1e-14)
    mask = np.array([1.0, 0.0, 0.0, 0.0])
    losses = nn.binary_cross_entropy_with_logits(Z, MULTI, reduction="none").data
    assert nn.binary_cross_entropy_with_logits(Z, MULTI, weight=mask).item() == pytest.approx(
        losses[:, 0].sum() / 20, rel=1e-14)
    A = _sigmoid(Z)
    assert nn.binary_cross_entropy(A, MULTI, weight=np.full(4, 2.0)).item() == pytest.approx(
        2 * nn.binary_cross_entropy(A, MULTI).item(), rel=1e-14)
    assert nn.cross_entropy(Z, MULTI, multi_label=True, weight=np.full(4, 2.0)).item() == \
        pytest.approx(2 * nn.cross_entropy(Z, MULTI, multi_label=True).item(), rel=1e-14)


def test_pos_weight_multiplies_the_positive_term_alone():
    """pos_weight 1 changes nothing; for labels of 1 the loss is p times the plain one, for
    labels of 0 it is the plain one."""
    plain = nn.binary_cross_entropy_with_logits(Z, MULTI, reduction="none").data
    J = nn.binary_cross_entropy_with_logits(Z, MULTI, reduction="none", pos_weight=POS_WEIGHT)
    np.testing.assert_allclose(J.data, np.where(MULTI == 1, POS_WEIGHT * plain, plain),
                               rtol=1e-14)
    np.testing.assert_array_equal(nn.binary_cross_entropy_with_logits(
        Z, MULTI, reduction="none", pos_weight=np.ones(4)).data, plain)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_weight_and_pos_weight_keep_one_fused_node(reduction):
    z = gg.Tensor(Z, requires_grad=True)
    a = gg.Tensor(_sigmoid(Z), requires_grad=True)
    suffix = "Losses" if reduction == "none" else ""
    for J, name in [
        (nn.binary_cross_entropy_with_logits(z, MULTI, reduction=reduction, weight=WEIGHT,
                                             pos_weight=POS_WEIGHT), "WeightedSigmoidCrossEntropy"),
        (nn.binary_cross_entropy_with_logits(z, MULTI, reduction=reduction, pos_weight=POS_WEIGHT),
         "WeightedSigmoidCrossEntropy"),
        (nn.cross_entropy(z, MULTI, True, reduction=reduction, weight=WEIGHT),
         "WeightedSigmoidCrossEntropy"),
        (nn.binary_cross_entropy(a, MULTI, reduction=reduction, weight=WEIGHT),
         "WeightedBinaryCrossEntropy"),
        # without them, the node is the one it always was
        (nn.binary_cross_entropy_with_logits(z, MULTI, reduction=reduction),
         "SigmoidCrossEntropy"),
        (nn.cross_entropy(z, MULTI, True, reduction=reduction), "SigmoidCrossEntropy"),
        (nn.binary_cross_entropy(a, MULTI, reduction=reduction), "BinaryCrossEntropy"),
    ]:
        assert type(J.creator).__name__ == name + suffix
        assert J.creator.inputs[0] is (a if "Binary" in name else z)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_pos_weight_and_weight_at_infinite_logits_count_a_term_of_weight_0_as_0(dtype):
    """A logit of +-inf costs 0 where it is right and inf where it is wrong, as without
    weights; a positive term of pos_weight 0, or an element of weight 0, costs 0 there, not
    0 * inf = NaN."""
    z = np.array([np.inf, -np.inf, -np.inf, -np.inf, np.inf, 2.0], dtype)
    y = np.array([1.0, 1.0, 1.0, 0.0, 0.0, 1.0], dtype)
    pos_weight = np.array([3.0, 3.0, 0.0, 3.0, 3.0, 3.0], dtype)
    weight = np.array([1.0, 1.0, 1.0, 1.0, 0.0, 0.5], dtype)
    logits = gg.Tensor(z, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's, on the first formula
        losses = nn.binary_cross_entropy_with_logits(logits, y, reduction="none", weight=weight,
                                                     pos_weight=pos_weight)
        J = nn.binary_cross_entropy_with_logits(logits[2:], y[2:], weight=weight[2:],
                                                pos_weight=pos_weight[2:])
    last = 0.5 * 3.0 * math.log1p(math.exp(-2.0))
    np.testing.assert_allclose(losses.data, [0.0, np.inf, 0.0, 0.0, 0.0, last], rtol=1e-6)
    assert J.item() == pytest.approx(last / 4, rel=1e-6)
    J.backward()
    assert J.dtype == logits.grad.dtype == dtype
    np.testing.assert_allclose(logits.grad, [0, 0, 0, 0, 0, 0.5 * 3 * (_sigmoid(2.0) - 1) / 4],
                               rtol=1e-6)


@given(logits_strategy, st.data())
def test_weighted_logistic_losses_are_finite_and_exact_for_any_logit(z, data):
    y = data.draw(hnp.arrays(np.float64, z.shape, elements=st.sampled_from([0.0, 0.3, 1.0])))
    weight = data.draw(hnp.arrays(np.float64, z.shape[-1:], elements=st.floats(0, 10)))
    pos_weight = data.draw(hnp.arrays(np.float64, z.shape[-1:], elements=st.floats(0, 10)))
    reduction = data.draw(st.sampled_from(["mean", "sum", "none"]))
    for loss in (nn.binary_cross_entropy_with_logits,
                 lambda *args, **kw: nn.cross_entropy(*args, multi_label=True, **kw)):
        logits = gg.Tensor(z, requires_grad=True)
        J = loss(logits, y, reduction=reduction, weight=weight, pos_weight=pos_weight)
        J.backward(np.ones(J.shape))
        assert np.isfinite(J.data).all() and np.isfinite(logits.grad).all()
        # w [p y softplus(-z) + (1 - y) softplus(z)], each softplus as numpy's logaddexp
        losses = weight * (pos_weight * y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z))
        divisor = z.size if loss is nn.binary_cross_entropy_with_logits else z.shape[0]
        expected = {"none": losses, "sum": losses.sum(), "mean": losses.sum() / divisor}[
            reduction]
        np.testing.assert_allclose(J.data, expected, rtol=1e-9, atol=1e-9)
        n = 1.0 if reduction != "mean" else divisor
        a = np.exp(-np.logaddexp(0, -z))  # sigmoid(z), with no overflow in e**-z
        dz = weight * ((1 - y + pos_weight * y) * a - pos_weight * y) / n
        np.testing.assert_allclose(logits.grad, dz, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_weight_and_pos_weight_keep_float32(reduction):
    f32 = np.float32
    for loss, outputs, expected in [
        (lambda x, **kw: nn.binary_cross_entropy_with_logits(x, MULTI.astype(f32), **kw,
                                                             pos_weight=POS_WEIGHT),
         Z, _pytorchs_bce_with_logits(Z, MULTI, ELEMENT_WEIGHT, POS_WEIGHT, reduction)),
        (lambda x, **kw: nn.binary_cross_entropy(x, MULTI.astype(f32), **kw),
         _sigmoid(Z), _pytorchs_bce(_sigmoid(Z), MULTI, ELEMENT_WEIGHT, reduction)),
    ]:
        x = gg.Tensor(outputs.astype(f32), requires_grad=True)
        J = loss(x, reduction=reduction, weight=ELEMENT_WEIGHT)  # float64 weights
        J.backward(np.ones(J.shape, f32))
        assert J.dtype == x.grad.dtype == f32
        np.testing.assert_allclose(J.data, expected, rtol=1e-5)


def test_changing_the_weight_arrays_afterwards_changes_no_gradient():
    weight, pos_weight = ELEMENT_WEIGHT.copy(), POS_WEIGHT.copy()
    z = gg.Tensor(Z, requires_grad=True)
    J = nn.binary_cross_entropy_with_logits(z, MULTI, weight=weight, pos_weight=pos_weight)
    weight[:], pos_weight[:] = 100.0, 100.0
    J.backward()
    p = POS_WEIGHT
    expected = ELEMENT_WEIGHT * ((1 - MULTI + p * MULTI) * _sigmoid(Z) - p * MULTI) / 20
    np.testing.assert_allclose(z.grad, expected, rtol=1e-12)


def test_a_mask_of_bools_is_a_weight_of_0s_and_1s():
    mask = MULTI[:, :1] == 1  # the examples whose first label is 1
    for loss, outputs in ((nn.binary_cross_entropy_with_logits, Z), (nn.binary_cross_entropy,
                                                                     _sigmoid(Z))):
        assert loss(outputs, MULTI, weight=mask).item() == loss(
            outputs, MULTI, weight=mask.astype(float)).item()


BCE_LOSSES = {  # name in messages -> (loss, outputs, their name in messages)
    "binary_cross_entropy_with_logits": (nn.binary_cross_entropy_with_logits, Z, "logits"),
    "binary_cross_entropy": (nn.binary_cross_entropy, _sigmoid(Z), "probabilities"),
    r"cross_entropy\(multi_label=True\)": (
        lambda *args, **kw: nn.cross_entropy(*args, multi_label=True, **kw), Z, "logits"),
}


@pytest.mark.parametrize("name", list(BCE_LOSSES))
def test_weights_that_do_not_broadcast_to_the_outputs_are_explained(name):
    loss, outputs, what = BCE_LOSSES[name]
    with pytest.raises(gg.ShapeError, match=(
            rf"^{name}: weight of shape \(5,\) does not broadcast to the {what} unnamed tensor "
            r"\(5, 4\) float64: give one weight per element, of their shape or one that "
            r"broadcasts to it \(\(m, 1\) for one per example, \(4,\) for one per label\)\. "
            r"For one weight per example, give each its own axis: weight\.reshape\(\(5, 1\)\)\.$")):
        loss(outputs, MULTI, weight=np.ones(5))
    with pytest.raises(gg.ShapeError, match=r"weight of shape \(4, 5\).*Transpose it: weight\.T"):
        loss(outputs, MULTI, weight=np.ones((4, 5)))
    with pytest.raises(gg.ShapeError, match=r"weight of shape \(4, 1\).*Flatten it"):
        loss(outputs, MULTI, weight=np.ones((4, 1)))
    with pytest.raises(gg.ShapeError, match=r"weight of shape \(2, 5, 4\) does not broadcast"):
        loss(outputs, MULTI, weight=np.ones((2, 5, 4)))  # broadcasting would grow the losses


@pytest.mark.parametrize("name", [n for n in BCE_LOSSES if n != "binary_cross_entropy"])
def test_pos_weights_that_do_not_broadcast_to_the_logits_are_explained(name):
    loss, outputs, _ = BCE_LOSSES[name]
    with pytest.raises(gg.ShapeError, match=(
            rf"^{name}: pos_weight of shape \(3,\) does not broadcast to the logits unnamed "
            r"tensor \(5, 4\) float64: give one weight per label, shape \(4,\), or a shape that "
            r"broadcasts to theirs\.$")):
        loss(outputs, MULTI, pos_weight=np.ones(3))


@pytest.mark.parametrize("what", ["weight", "pos_weight"])
@pytest.mark.parametrize("value, message", [
    ([1.0, -1.0, 1.0, 1.0], r"must be at least 0 and finite, got -1 at \(1,\): a negative "
                            r"weight trains the model away from its labels"),
    ([[1.0], [1.0], [np.nan], [1.0], [1.0]], r"must be at least 0 and finite, got nan at "
                                             r"\(2, 0\)"),
    (np.inf, r"must be at least 0 and finite, got inf: "),
])
def test_weights_that_are_not_nonnegative_finite_numbers_are_refused(what, value, message):
    if what == "pos_weight" and np.ndim(value) == 2:
        value = np.ravel(value)[:4]
        message = message.replace(r"\(2, 0\)", r"\(2,\)")
    for name, (loss, outputs, _) in BCE_LOSSES.items():
        if what == "pos_weight" and name == "binary_cross_entropy":
            continue
        with pytest.raises(gg.ArgumentError, match=rf"^{name}: {what} {message}"):
            loss(outputs, MULTI, **{what: value})
    with pytest.raises(gg.GraphgradTypeError, match=rf"{what} must hold numbers"):
        nn.binary_cross_entropy_with_logits(Z, MULTI, **{what: ["a", "b", "c", "d"]})


def test_weights_that_require_grad_are_refused():
    w = gg.Tensor(ELEMENT_WEIGHT, requires_grad=True, name="w")
    for name, (loss, outputs, _) in BCE_LOSSES.items():
        with pytest.raises(gg.ArgumentError, match=(
                rf"^{name}: weight 'w' \(5, 4\) float64 requires grad; the weight of each "
                r"element's loss is a constant here\. Pass w\.detach\(\), or take "
                r"reduction=\"none\" and weight each element's loss by it on the graph\.$")):
            loss(outputs, MULTI, weight=w)
    p = gg.Tensor(POS_WEIGHT, requires_grad=True, name="p")
    with pytest.raises(gg.ArgumentError, match=(
            r"^binary_cross_entropy_with_logits: pos_weight 'p' \(4,\) float64 requires grad; "
            r"the weight of each label's positive term is a constant here\. Pass p\.detach\(\)"
            r".*gg\.log_sigmoid")):
        nn.binary_cross_entropy_with_logits(Z, MULTI, pos_weight=p)
    constant = gg.Tensor(POS_WEIGHT)
    assert nn.binary_cross_entropy_with_logits(Z, MULTI, pos_weight=constant).item() == \
        nn.binary_cross_entropy_with_logits(Z, MULTI, pos_weight=POS_WEIGHT).item()


def test_a_pos_weight_of_bools_is_refused():
    with pytest.raises(gg.GraphgradTypeError, match=(
            r"^binary_cross_entropy_with_logits: pos_weight must hold real numbers, one per "
            r"label.*got bool values of shape \(4,\); to leave elements out, pass a mask of 0s "
            r"and 1s as weight=")):
        nn.binary_cross_entropy_with_logits(Z, MULTI, pos_weight=POS_WEIGHT > 1)


def test_pos_weight_with_the_softmax_cross_entropy_is_refused_with_what_to_do():
    for labels in (CLASSES, ONE_HOT):
        with pytest.raises(gg.ArgumentError, match=(
                r"^cross_entropy: pos_weight=<float64 array \(4,\)> weights the positive term "
                r"of each of multi_label=True's C yes/no labels.*has no positive term\. For "
                r"classes seen rarely, pass weight=.*multi_label=True with pos_weight=")):
            nn.cross_entropy(Z, labels, pos_weight=POS_WEIGHT)
