"""ctc_loss and nn.CTCLoss (graphgrad/nn/ctc.py): values and gradients against the sum over
every alignment by brute force (repeated labels, lengths shorter than the padding, empty
targets, no frames), each reduction, padded and concatenated targets, impossible alignments
with and without zero_infinity, gradient checks in float64, hypothesis over random lengths, a
long sequence that would underflow outside log space, float32 kept, the second derivative
refused, and the refusals, each naming ctc_loss."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sequence_and_grid_references import ctc_batch_by_paths, ctc_by_paths

import graphgrad as gg
from graphgrad import nn
from graphgrad.nn.ctc import CTC, CTCGrad

RNG = np.random.default_rng(5)
LOG_PROBS = RNG.standard_normal((4, 5, 4))  # (m, T, C), not normalised: the loss takes any
TARGETS = np.array([[1, 1, 2], [2, 3, 9], [3, 1, 2], [7, 7, 7]])  # padding past the lengths
INPUT_LENGTHS = np.array([5, 4, 5, 3])
TARGET_LENGTHS = np.array([2, 2, 3, 0])


def _normalised(x):
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def _ctc(x, reduction="none", **kwargs):
    return nn.ctc_loss(x, TARGETS, INPUT_LENGTHS, TARGET_LENGTHS, reduction=reduction,
                       **kwargs)


@pytest.mark.parametrize("normalised", [False, True])
def test_losses_and_gradients_are_the_sums_over_every_alignment(normalised):
    x = _normalised(LOG_PROBS) if normalised else LOG_PROBS
    want, want_grad = ctc_batch_by_paths(x, TARGETS, INPUT_LENGTHS, TARGET_LENGTHS)
    t = gg.Tensor(x, requires_grad=True)
    losses = _ctc(t)
    np.testing.assert_allclose(losses.data, want, rtol=1e-12)
    losses.sum().backward()
    np.testing.assert_allclose(t.grad, want_grad, rtol=1e-10, atol=1e-12)
    assert not t.grad[1, 4:].any() and not t.grad[3, 3:].any()  # frames past the lengths


def test_an_empty_target_is_all_blanks_and_no_frames_read_only_an_empty_target():
    x = _normalised(LOG_PROBS[:2])
    losses = nn.ctc_loss(x, np.zeros((2, 0), int), [3, 0], [0, 0], reduction="none")
    np.testing.assert_allclose(losses.data, [-x[0, :3, 0].sum(), 0.0], rtol=1e-12)
    assert np.isinf(nn.ctc_loss(x, [[1], [2]], [3, 0], [1, 1], reduction="none").data[1])


def test_the_reductions_are_pytorchs():
    losses, _ = ctc_batch_by_paths(LOG_PROBS, TARGETS, INPUT_LENGTHS, TARGET_LENGTHS)
    assert _ctc(LOG_PROBS, "sum").item() == pytest.approx(losses.sum(), rel=1e-12)
    # "mean": each loss over its target length (1 for an empty one), then the batch's mean
    mean = (losses / np.maximum(TARGET_LENGTHS, 1)).mean()
    assert _ctc(LOG_PROBS, "mean").item() == pytest.approx(mean, rel=1e-12)
    assert _ctc(LOG_PROBS, "mean").item() == nn.CTCLoss()(
        LOG_PROBS, TARGETS, INPUT_LENGTHS, TARGET_LENGTHS).item()


def test_concatenated_targets_are_the_padded_ones():
    flat = np.concatenate([row[:n] for row, n in zip(TARGETS, TARGET_LENGTHS)])
    for reduction in ("none", "mean"):
        np.testing.assert_array_equal(
            nn.ctc_loss(LOG_PROBS, flat, INPUT_LENGTHS, TARGET_LENGTHS, reduction=reduction).data,
            _ctc(LOG_PROBS, reduction).data)


def test_another_blank():
    x = _normalised(LOG_PROBS[:1])
    got = nn.ctc_loss(x, [[0, 0, 1]], [5], [3], blank=2, reduction="none")
    assert got.item() == pytest.approx(ctc_by_paths(x[0], [0, 0, 1], blank=2)[0], rel=1e-12)


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_gradcheck_in_float64(reduction):
    assert gg.gradcheck(lambda x: _ctc(x, reduction), [LOG_PROBS.copy()])


def test_a_repeated_label_needs_a_blank_between_its_frames():
    x = _normalised(RNG.standard_normal((1, 3, 3)))
    # "11" in three frames can only be 1, blank, 1; in two frames not at all
    want = -(x[0, 0, 1] + x[0, 1, 0] + x[0, 2, 1])
    assert nn.ctc_loss(x, [[1, 1]], [3], [2]).item() * 2 == pytest.approx(want, rel=1e-12)
    assert nn.ctc_loss(x, [[1, 1]], [2], [2], reduction="none").item() == math.inf
    assert nn.ctc_loss(x, [[1, 2]], [2], [2], reduction="sum").item() == pytest.approx(
        -(x[0, 0, 1] + x[0, 1, 2]), rel=1e-12)


def test_an_impossible_alignment_costs_inf_with_nan_gradients_or_nothing_with_zero_infinity():
    x = _normalised(LOG_PROBS[:2])
    targets, lengths = [[1, 1, 1], [1, 2, 3]], [3, 3]  # "111" needs 5 frames
    t = gg.Tensor(x, requires_grad=True)
    losses = nn.ctc_loss(t, targets, [4, 4], lengths, reduction="none")
    assert losses.data[0] == math.inf and np.isfinite(losses.data[1])
    losses[1].backward(retain_graph=True)  # the impossible example unused: no NaN
    assert np.isfinite(t.grad).all()
    t.grad = None
    losses.sum().backward()
    # PyTorch's NaN over the impossible example's 4 frames, 0 past them
    assert np.isnan(t.grad[0, :4]).all() and not t.grad[0, 4:].any()
    assert np.isfinite(t.grad[1]).all()
    t.grad = None
    for reduction in ("none", "mean"):
        got = nn.ctc_loss(t, targets, [4, 4], lengths, reduction=reduction, zero_infinity=True)
        want = nn.ctc_loss(x[1:], targets[1:], [4], lengths[1:], reduction="none").item()
        if reduction == "mean":
            np.testing.assert_allclose(got.data, want / 3 / 2, rtol=1e-12)
        else:
            np.testing.assert_allclose(got.data, [0.0, want], rtol=1e-12)
    got.sum().backward()
    assert not t.grad[0].any()
    _, want_grad = ctc_by_paths(x[1, :4], [1, 2, 3])
    np.testing.assert_allclose(t.grad[1, :4], want_grad / 3 / 2, rtol=1e-10, atol=1e-12)


@st.composite
def ctc_cases(draw):
    """A batch of m <= 3 examples of at most 4 frames over C <= 4 classes (brute force takes
    C**T paths), each with its own lengths, padded targets with repeats drawn often."""
    m = draw(st.integers(1, 3))
    n_frames = draw(st.integers(1, 4))
    n_classes = draw(st.integers(2, 4))
    width = draw(st.integers(0, 3))
    blank = draw(st.integers(0, n_classes - 1))
    labels = [c for c in range(n_classes) if c != blank]
    targets = np.array(draw(st.lists(st.lists(st.sampled_from(labels), min_size=width,
                                              max_size=width), min_size=m, max_size=m)),
                       dtype=int).reshape(m, width)
    input_lengths = np.array(draw(st.lists(st.integers(0, n_frames), min_size=m, max_size=m)))
    target_lengths = np.array(draw(st.lists(st.integers(0, width), min_size=m, max_size=m)))
    return (m, n_frames, n_classes), targets, input_lengths, target_lengths, blank


@settings(max_examples=40, deadline=None)
@given(case=ctc_cases(), seed=st.integers(0, 2**16))
def test_random_lengths_against_the_sum_over_every_alignment(case, seed):
    shape, targets, input_lengths, target_lengths, blank = case
    x = np.random.default_rng(seed).standard_normal(shape)
    want, want_grad = ctc_batch_by_paths(x, targets, input_lengths, target_lengths, blank)
    t = gg.Tensor(x, requires_grad=True)
    losses = nn.ctc_loss(t, targets, input_lengths, target_lengths, blank=blank,
                         reduction="none", zero_infinity=True)
    np.testing.assert_allclose(losses.data, np.where(np.isinf(want), 0.0, want), rtol=1e-12,
                               atol=1e-12)
    losses.sum().backward()
    np.testing.assert_allclose(t.grad, want_grad, rtol=1e-10, atol=1e-12)
    assert gg.gradcheck(lambda x: nn.ctc_loss(x, targets, input_lengths, target_lengths,
                                              blank=blank, zero_infinity=True), [x], fast=True)


def test_a_long_sequence_stays_in_log_space():
    # 1000 frames of 5 equally likely classes: p(path) = 5**-1000 underflows, and the
    # T (T + 1) / 2 paths reading one label give -log p = T log 5 - log(T (T + 1) / 2)
    n_frames = 1000
    x = np.full((1, n_frames, 5), -math.log(5.0))
    got = nn.ctc_loss(x, [[3]], [n_frames], [1], reduction="sum").item()
    want = n_frames * math.log(5.0) - math.log(n_frames * (n_frames + 1) / 2)
    assert got == pytest.approx(want, rel=1e-12)


def test_float32_is_kept():
    x = gg.Tensor(LOG_PROBS.astype(np.float32), requires_grad=True)
    loss = _ctc(x, "mean")
    assert loss.dtype == np.float32
    loss.backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(loss.item(), _ctc(LOG_PROBS, "mean").item(), rtol=1e-5)


def test_one_node_and_a_refused_second_derivative():
    x = gg.Tensor(LOG_PROBS, requires_grad=True)
    loss = _ctc(x, "mean")
    assert type(loss.creator) is CTC and loss.creator.inputs == (x,)
    (dx,) = gg.grad(loss, [x], create_graph=True)  # first order under create_graph: fine
    np.testing.assert_allclose(dx.data, gg.grad(_ctc(x, "mean"), [x])[0].data, rtol=1e-12)
    assert type(dx.creator) is CTCGrad
    with pytest.raises(gg.BackwardError, match=r"ctc_loss: the second derivative wrt log_probs"):
        (dx * dx).sum().backward()


def test_the_gradient_is_linear_in_the_upstream_gradient():
    """CTCGrad, dJ/dlog_probs for each example's dJ/dL_i = w_i, is differentiable wrt w (a
    loss built on the gradient can still train what scales the losses)."""
    w = np.array([0.5, -1.0, 2.0, 0.25])
    losses = _ctc(gg.Tensor(LOG_PROBS, requires_grad=True))
    attrs = {k: v for k, v in losses.creator.attrs.items() if k != "reduction"}
    _, per_example = ctc_batch_by_paths(LOG_PROBS, TARGETS, INPUT_LENGTHS, TARGET_LENGTHS)
    got = CTCGrad.apply(gg.Tensor(LOG_PROBS), w, **attrs)
    np.testing.assert_allclose(got.data, per_example * w[:, None, None], rtol=1e-10,
                               atol=1e-12)
    assert gg.gradcheck(lambda w: CTCGrad.apply(gg.Tensor(LOG_PROBS), w, **attrs), [w])


@pytest.mark.parametrize("call, error, message", [
    (lambda: nn.ctc_loss(LOG_PROBS[0], TARGETS[0], 5, 2), gg.ShapeError,
     r"ctc_loss takes log_probs of shape \(m, T, C\), batch first.*log_probs\[None\]"),
    (lambda: nn.ctc_loss(LOG_PROBS.transpose(1, 0, 2), TARGETS, INPUT_LENGTHS, TARGET_LENGTHS),
     gg.ShapeError, r"one length per example.*PyTorch's \(T, N, C\) is "
                    r"log_probs.transpose\(1, 0, 2\)"),
    (lambda: nn.ctc_loss(LOG_PROBS, [[0, 1]] * 4, INPUT_LENGTHS, [2, 2, 2, 2]),
     gg.ArgumentError, r"target 0 of example 0 is 0, the blank"),
    (lambda: nn.ctc_loss(LOG_PROBS, [[4, 1]] * 4, INPUT_LENGTHS, [2, 2, 2, 2]),
     gg.ArgumentError, r"target 0 of example 0 is 4, outside 0..3"),
    (lambda: nn.ctc_loss(LOG_PROBS, TARGETS, [6, 5, 5, 5], TARGET_LENGTHS),
     gg.ArgumentError, r"input_lengths\[0\] = 6 is more than the T = 5 frames"),
    (lambda: nn.ctc_loss(LOG_PROBS, TARGETS, INPUT_LENGTHS, [4, 1, 1, 1]),
     gg.ArgumentError, r"target_lengths\[0\] = 4 is more than the S = 3 labels"),
    (lambda: nn.ctc_loss(LOG_PROBS, [1, 2, 3], INPUT_LENGTHS, [1, 1, 1, 1]),
     gg.ShapeError, r"concatenated targets hold 3 labels, but target_lengths add up to 4"),
    (lambda: nn.ctc_loss(LOG_PROBS, TARGETS, INPUT_LENGTHS, [2, -1, 1, 1]),
     gg.ArgumentError, r"target_lengths\[1\] = -1 is not a length"),
    (lambda: nn.ctc_loss(LOG_PROBS, TARGETS + 0.5, INPUT_LENGTHS, TARGET_LENGTHS),
     gg.ArgumentError, r"ctc_loss: targets .* must be class indices"),
    (lambda: nn.ctc_loss(LOG_PROBS, gg.Tensor(TARGETS * 1.0, requires_grad=True),
                         INPUT_LENGTHS, TARGET_LENGTHS),
     gg.GraphgradTypeError, r"targets .* are class indices, which have no gradient"),
    (lambda: nn.ctc_loss(LOG_PROBS, TARGETS, INPUT_LENGTHS, TARGET_LENGTHS, blank=4),
     gg.ArgumentError, r"blank=4 is no class of log_probs"),
    (lambda: nn.ctc_loss(LOG_PROBS, TARGETS, INPUT_LENGTHS, TARGET_LENGTHS, reduction="avg"),
     gg.ArgumentError, r"ctc_loss: reduction must be"),
    (lambda: nn.ctc_loss(np.zeros((0, 5, 4)), np.zeros((0, 2), int), [], []),
     gg.ShapeError, r"ctc_loss: log_probs .* hold no examples"),
    (lambda: nn.CTCLoss(reduction="avg"), gg.ArgumentError, r"CTCLoss: reduction must be"),
    (lambda: nn.CTCLoss(blank=-1), gg.ArgumentError, r"CTCLoss: blank must be"),
])
def test_refusals_name_the_loss_and_say_what_to_do(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_the_module_holds_its_settings():
    criterion = nn.CTCLoss(blank=3, reduction="sum", zero_infinity=True)
    assert repr(criterion) == "CTCLoss(blank=3, reduction='sum', zero_infinity=True)"
    targets = np.where(TARGETS == 3, 2, TARGETS) % 3  # no blank (3) among the labels
    targets[targets == 0] = 1
    got = criterion(LOG_PROBS, targets, INPUT_LENGTHS, TARGET_LENGTHS)
    want = nn.ctc_loss(LOG_PROBS, targets, INPUT_LENGTHS, TARGET_LENGTHS, blank=3,
                       reduction="sum", zero_infinity=True)
    assert got.item() == want.item()
    assert list(criterion.parameters()) == []
