"""Connectionist temporal classification (Graves et al. 2006), PyTorch's ``ctc_loss``: the
negative log-likelihood -log p(l | x) of a label sequence l under a model's per-frame class
log-probabilities, summed over every alignment of l to the frames (a class or the blank per
frame; repeats merged, then blanks dropped: "aa-ab" reads "aab").

Layout: batch first, as graphgrad's recurrent layers give their outputs (m, T_x, n_y):
``log_probs`` is (m, T, C), PyTorch's (T, N, C) transposed, ``log_probs.transpose(1, 0, 2)``
(an RNN's (m, T_x, C) outputs through ``log_softmax(axis=-1)`` need no transpose). Targets
are padded (m, S) or concatenated (sum of target_lengths,), as PyTorch's.

`CTC` is one node. Forward is the alpha recursion in log space over the extended labels
l' = (blank, l_1, blank, l_2, ..., l_S, blank), vectorised over the batch and l' (the loop is
over time only). Backward is the beta recursion: alpha_t(s) beta_t(s) / y_t(l'_s), summed
over the positions s of class c and divided by p(l | x), is the posterior probability that
frame t emits c, and the gradient of -log p(l | x) wrt log_probs[t, c] is minus it.
PyTorch's backward gives exp(log_probs) minus it: the two agree after a log_softmax (its
backward removes anything added to every class in proportion to exp(log_probs)), but for
log_probs that are not normalised PyTorch's is not the derivative of its own forward
(finite differences give graphgrad's). `CTCGrad`, that gradient, is an op of its own, linear
in the upstream gradient; its own derivative wrt log_probs (a second derivative of the loss)
is refused, as PyTorch's. An impossible alignment's gradient is NaN over its frames, as
PyTorch's, but only where the cost uses the example (PyTorch's is NaN under a zero upstream
gradient too); zero_infinity makes it 0. Depends on `function`, `losses`, `tensor`, `errors`.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    BackwardError,
    GraphgradTypeError,
    ShapeError,
    array_of_numbers,
    describe,
    flag,
    integer,
)
from graphgrad.function import Function
from graphgrad.nn.losses import _as_tensor, _check_reduction
from graphgrad.tensor import Tensor

_NEG_INF = -np.inf


class CTC(Function):
    """L_i = -log p(l_i | x_i) = -log sum_s' alpha_{T_i - 1}(s') over the last blank and label
    of l'_i;  dL_i / dlog_probs[i, t, c] = -sum_{s: l'_s = c} alpha_t(s) beta_t(s)
    / (y_t(c) p(l_i | x_i)).  log_probs (m, T, C) -> (m,) losses ("none"), their sum, or the
    mean of L_i / max(S_i, 1) ("mean", PyTorch's); an impossible alignment costs inf (0 with
    zero_infinity, and no gradient)."""

    @staticmethod
    def forward(ctx, log_probs, labels, skip, input_lengths, target_lengths,
                reduction="mean", zero_infinity=False):
        emit = _emissions(log_probs, labels)
        alpha, log_likelihood = _alphas(emit, skip, input_lengths, target_lengths)
        losses = 0.0 - log_likelihood  # 0 - x: a certain alignment costs 0, not -0
        if zero_infinity:
            losses[losses == np.inf] = 0.0
        m = len(losses)
        if reduction == "mean":  # PyTorch's: each loss over its target length, then the mean
            ctx.weights = 1.0 / (np.maximum(target_lengths, 1) * max(m, 1))
        else:
            ctx.weights = np.ones(m)
        ctx.alpha = alpha
        ctx.settings = {"labels": labels, "skip": skip, "input_lengths": input_lengths,
                        "target_lengths": target_lengths, "zero_infinity": zero_infinity}
        ctx.save_for_backward(log_probs)
        if reduction == "none":
            return losses
        return np.asarray((losses * ctx.weights.astype(losses.dtype)).sum(), losses.dtype)

    @staticmethod
    def backward(ctx, grad):
        (log_probs,) = ctx.saved
        weights = grad * ctx.weights.astype(log_probs.dtype)  # (m,): each example's dJ/dL_i
        return CTCGrad.call(log_probs, weights, alpha=ctx.alpha, **ctx.settings)


class CTCGrad(Function):
    """G[i, t, c] = -w_i sum_{s: l'_s = c} alpha_t(s) beta_t(s) / (y_t(c) p(l_i | x_i)), the
    gradient of sum_i w_i L_i wrt log_probs (NaN over the frames of an impossible alignment
    where w_i is not 0, as PyTorch's; 0 with zero_infinity);
    dw_i = sum_{t,c} (G / w_i)[i, t, c] dG[i, t, c];
    its derivative wrt log_probs, a second derivative of the loss, is refused."""

    @staticmethod
    def forward(ctx, log_probs, weights, labels, skip, input_lengths, target_lengths,
                zero_infinity=False, alpha=None):
        emit = _emissions(log_probs, labels)
        if alpha is None:
            alpha, log_likelihood = _alphas(emit, skip, input_lengths, target_lengths)
        else:
            log_likelihood = _log_likelihood(alpha, input_lengths, target_lengths)
        beta = _betas(emit, skip, input_lengths, target_lengths)
        with np.errstate(invalid="ignore"):  # -inf - -inf where a class has probability 0
            log_paths = alpha + beta
            log_posterior = np.where(log_paths == _NEG_INF, _NEG_INF,
                                     log_paths - emit - log_likelihood[:, None, None])
        posterior = np.exp(log_posterior)  # (m, T, L), each frame's sum over l' is 1
        one_hot = np.zeros(labels.shape + (log_probs.shape[2],), log_probs.dtype)
        np.put_along_axis(one_hot, labels[..., None], 1.0, axis=2)
        unit = 0.0 - np.matmul(posterior, one_hot)  # (m, T, C): the classes' sums over l'
        impossible = np.flatnonzero(log_likelihood == _NEG_INF)
        if impossible.size:  # 0 * inf: NaN over the example's frames, as PyTorch's
            frames = np.arange(log_probs.shape[1]) < input_lengths[impossible, None]
            unit[impossible] = np.where(frames[..., None], 0.0 if zero_infinity else np.nan, 0.0)
        ctx.unit = unit
        grad = unit * weights[:, None, None]
        if impossible.size:  # an example the cost does not use passes no NaN (PyTorch's does)
            unused = impossible[weights[impossible] == 0]
            grad[unused] = 0.0
        return grad

    @staticmethod
    def backward(ctx, grad):
        if ctx.needs_input_grad[0]:
            raise BackwardError(
                f"ctc_loss: the second derivative wrt log_probs {describe(ctx.inputs[0])} "
                "is not available (PyTorch has none either): the loss's gradient is computed "
                "by the beta recursion, not recorded. Take the gradient penalty or the "
                "Hessian through another loss, or detach the log_probs in this term.")
        dweights = None
        if ctx.needs_input_grad[1]:
            dweights = (grad * ctx.unit).sum(axis=(1, 2))
        return None, dweights


def _emissions(log_probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """log y_t(l'_s): (m, T, L), each frame's log-probability of each extended label."""
    return np.take_along_axis(log_probs, labels[:, None, :], axis=2)


def _alphas(emit: np.ndarray, skip: np.ndarray, input_lengths: np.ndarray,
            target_lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(alpha, log p(l | x)): alpha (m, T, L), log alpha_t(s), the log-probability of the
    first t + 1 frames reading l'_1..l'_s, and each example's log-likelihood (m,). Frames past
    an example's input length are computed all the same and never read."""
    m, n_frames, n_ext = emit.shape
    alpha = np.full(emit.shape, _NEG_INF, emit.dtype)
    if n_frames:
        alpha[:, 0, 0] = emit[:, 0, 0]
        if n_ext > 1:  # the first label, where there is one
            alpha[:, 0, 1] = np.where(target_lengths > 0, emit[:, 0, 1], _NEG_INF)
    moved = np.full((m, n_ext), _NEG_INF, emit.dtype)
    for t in range(1, n_frames):
        previous = alpha[:, t - 1]
        paths = previous.copy()
        moved[:, 1:] = previous[:, :-1]  # from the label before
        np.logaddexp(paths, moved, out=paths)
        moved[:, :2] = _NEG_INF
        moved[:, 2:] = np.where(skip[:, 2:], previous[:, :-2], _NEG_INF)  # over a blank
        np.logaddexp(paths, moved, out=paths)
        np.add(paths, emit[:, t], out=alpha[:, t])
    return alpha, _log_likelihood(alpha, input_lengths, target_lengths)


def _log_likelihood(alpha: np.ndarray, input_lengths: np.ndarray,
                    target_lengths: np.ndarray) -> np.ndarray:
    """log p(l | x) (m,): alpha at each example's last frame, ending on its last blank or its
    last label. No frames read an empty target (p = 1) and nothing else (p = 0)."""
    m = len(alpha)
    rows = np.arange(m)
    last = np.maximum(input_lengths - 1, 0)
    ends = alpha[rows, last, 2 * target_lengths] if alpha.shape[1] else np.full(m, _NEG_INF)
    labels = alpha[rows, last, np.maximum(2 * target_lengths - 1, 0)] if alpha.shape[1] else ends
    log_likelihood = np.where(target_lengths > 0, np.logaddexp(ends, labels), ends)
    no_frames = input_lengths == 0
    return np.where(no_frames, np.where(target_lengths == 0, 0.0, _NEG_INF),
                    log_likelihood).astype(alpha.dtype)


def _betas(emit: np.ndarray, skip: np.ndarray, input_lengths: np.ndarray,
           target_lengths: np.ndarray) -> np.ndarray:
    """log beta_t(s) (m, T, L): the log-probability of frames t.. (to the example's input
    length) reading l'_s.. to the end, frame t's own emission included; -inf past the length."""
    m, n_frames, n_ext = emit.shape
    beta = np.full(emit.shape, _NEG_INF, emit.dtype)
    rows = np.arange(m)
    start = np.full((m, n_ext), _NEG_INF, emit.dtype)  # the last frame: the last blank or label
    start[rows, 2 * target_lengths] = 0.0
    labelled = np.flatnonzero(target_lengths > 0)
    start[labelled, 2 * target_lengths[labelled] - 1] = 0.0
    moved = np.full((m, n_ext), _NEG_INF, emit.dtype)
    later = np.full((m, n_ext), _NEG_INF, emit.dtype)
    for t in range(n_frames - 1, -1, -1):
        paths = later.copy()
        moved[:, :-1] = later[:, 1:]  # to the next label
        np.logaddexp(paths, moved, out=paths)
        moved[:, -2:] = _NEG_INF
        moved[:, :-2] = np.where(skip[:, 2:], later[:, 2:], _NEG_INF)  # over a blank
        np.logaddexp(paths, moved, out=paths)
        is_last = (input_lengths == t + 1)[:, None]
        paths = np.where(is_last, start, paths)
        paths[input_lengths <= t] = _NEG_INF
        np.add(paths, emit[:, t], out=beta[:, t])
        later = beta[:, t]
    return beta


# -- the function a user calls ----------------------------------------------------------------
def ctc_loss(log_probs: Any, targets: Any, input_lengths: Any, target_lengths: Any,
             blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """PyTorch's ctc_loss, batch first: -log p(targets | x), summed over every alignment.

    Args:
        log_probs: (m, T, C) log-probabilities of C classes (the blank among them) at each of
            T frames, ``log_softmax(Z, axis=-1)`` of a recurrent layer's outputs. PyTorch's
            (T, N, C) is ``log_probs.transpose(1, 0, 2)`` here.
        targets: class indices, padded (m, S) (only the first target_lengths[i] of row i
            count) or the m sequences concatenated (sum(target_lengths),); never the blank.
        input_lengths: (m,) frames of each example, at most T; the rest are padding.
        target_lengths: (m,) labels of each example, at most S when padded.
        blank: the blank's class index, 0 <= blank < C.
        reduction: ``"mean"`` (PyTorch's: each loss divided by its target length (1 if 0),
            then the mean over the examples), ``"sum"`` or ``"none"`` (the (m,) losses).
        zero_infinity: an alignment that cannot fit (more labels, plus a blank between each
            repeated pair, than frames) costs inf and NaN gradients; with True, 0 and none.

    Returns: the cost, a scalar Tensor, or (m,) losses for ``reduction="none"``.
    """
    caller = "ctc_loss"
    _check_reduction(caller, reduction)
    zero_infinity = flag(zero_infinity, "zero_infinity", caller)
    x = _as_tensor(log_probs, "log_probs", caller)
    if x.dtype.kind != "f":
        x = Tensor(x.data.astype(np.float64))
    if x.ndim != 3:
        tip = (" (one sequence (T, C)? add the batch axis: log_probs[None], targets[None])"
               if x.ndim == 2 else "")
        raise ShapeError(f"{caller} takes log_probs of shape (m, T, C), batch first, got "
                         f"{describe(x)}{tip}")
    m, n_frames, n_classes = x.shape
    blank = integer(blank, "blank", caller)
    if not 0 <= blank < n_classes:
        raise ArgumentError(f"{caller}: blank={blank} is no class of log_probs {describe(x)}: "
                            f"give an index in 0..{n_classes - 1}")
    inputs = _lengths(input_lengths, "input_lengths", x, caller)
    lengths = _lengths(target_lengths, "target_lengths", x, caller)
    over = np.flatnonzero(inputs > n_frames)
    if over.size:
        i = over[0]
        raise ArgumentError(f"{caller}: input_lengths[{i}] = {inputs[i]} is more than the "
                            f"T = {n_frames} frames of log_probs {describe(x)}")
    if m == 0 and reduction == "mean":
        raise ShapeError(f"{caller}: log_probs {describe(x)} hold no examples (m = 0): the "
                         "cost is a mean over them, and a mean over none is 0/0 (PyTorch gives "
                         "NaN); give at least one example")
    padded = _padded_targets(targets, lengths, m, n_classes, blank, caller)
    labels, skip = _extended(padded, lengths, blank)
    return CTC.apply(x, labels=labels, skip=skip, input_lengths=inputs, target_lengths=lengths,
                     reduction=reduction, zero_infinity=zero_infinity)


def _lengths(value: Any, what: str, x: Tensor, caller: str) -> np.ndarray:
    """Each example's length (m,) as integers >= 0; one number is every example's."""
    if isinstance(value, Tensor) and value.requires_grad:
        raise GraphgradTypeError(f"{caller}: {what} {describe(value)} are lengths, which have "
                                 "no gradient: pass them detached")
    array = array_of_numbers(value, what, caller)
    m = x.shape[0]
    if array.ndim == 0:
        array = np.full(m, array)
    if array.ndim != 1 or len(array) != m:
        tip = ""
        if array.ndim == 1 and len(array) == x.shape[1] and x.ndim == 3:
            tip = (" log_probs are batch first here, (m, T, C); PyTorch's (T, N, C) is "
                   "log_probs.transpose(1, 0, 2)")
        raise ShapeError(f"{caller}: {what} must hold one length per example, shape ({m},) "
                         f"for log_probs {describe(x)}, got shape {array.shape}.{tip}")
    whole = np.isfinite(array) & (array == np.round(array)) if array.dtype.kind == "f" else True
    if not np.all(whole) or (array.size and array.min() < 0):
        bad = int(np.flatnonzero(~(whole & (array >= 0)))[0])
        raise ArgumentError(f"{caller}: {what}[{bad}] = {array[bad].item()!r} is not a "
                            "length, a whole number >= 0")
    return array.astype(np.intp)


def _padded_targets(targets: Any, lengths: np.ndarray, m: int, n_classes: int, blank: int,
                    caller: str) -> np.ndarray:
    """The targets as (m, S) class indices, padded (m, S) or concatenated (sum of lengths,),
    checked: each counted label a class of log_probs other than the blank."""
    if isinstance(targets, Tensor) and targets.requires_grad:
        raise GraphgradTypeError(f"{caller}: targets {describe(targets)} are class indices, "
                                 "which have no gradient: pass them detached")
    array = array_of_numbers(targets, "targets", caller)
    if array.dtype.kind == "f":
        if not np.all(np.isfinite(array) & (array == np.round(array))):
            raise ArgumentError(f"{caller}: targets {describe(array)} must be class indices, "
                                "whole numbers: round computed targets (np.rint(t).astype(int))")
    elif array.dtype.kind == "b":
        raise GraphgradTypeError(f"{caller}: targets must be class indices, got bools "
                                 f"{describe(array)}")
    array = array.astype(np.intp)
    if array.ndim == 1:  # concatenated: cut at the lengths
        total = int(lengths.sum())
        if len(array) != total:
            raise ShapeError(f"{caller}: concatenated targets hold {len(array)} labels, but "
                             f"target_lengths add up to {total}: give them as many, or targets "
                             "padded to (m, S)")
        width = int(lengths.max()) if m else 0
        starts = np.cumsum(lengths) - lengths
        index = starts[:, None] + np.arange(width)
        counted = np.arange(width) < lengths[:, None]
        padded = np.where(counted, array[np.where(counted, index, 0)] if total else blank, blank)
    elif array.ndim == 2:
        if array.shape[0] != m:
            raise ShapeError(f"{caller}: padded targets must be (m, S) with m = {m}, the "
                             f"examples of log_probs, got shape {array.shape}")
        width = array.shape[1]
        over = np.flatnonzero(lengths > width)
        if over.size:
            i = over[0]
            raise ArgumentError(f"{caller}: target_lengths[{i}] = {lengths[i]} is more than "
                                f"the S = {width} labels of each row of the padded targets")
        counted = np.arange(width) < lengths[:, None]
        padded = np.where(counted, array, blank)
    else:
        raise ShapeError(f"{caller}: targets must be padded (m, S) or concatenated (sum of "
                         f"target_lengths,), got shape {array.shape}")
    bad = counted & ((padded < 0) | (padded >= n_classes) | (padded == blank))
    if bad.any():
        i, j = (int(k[0]) for k in np.nonzero(bad))
        what = "the blank" if padded[i, j] == blank else f"outside 0..{n_classes - 1}"
        raise ArgumentError(f"{caller}: target {j} of example {i} is {padded[i, j]}, {what}: "
                            f"targets are labels other than the blank (blank={blank}) among "
                            f"the C = {n_classes} classes of log_probs")
    return padded


def _extended(padded: np.ndarray, lengths: np.ndarray, blank: int
              ) -> tuple[np.ndarray, np.ndarray]:
    """(l', skip), both (m, 2 S + 1): the labels with a blank before, between and after them
    (blanks past each example's labels too), and where a path may skip the blank before l'_s:
    a label unlike the one two back (between repeats the blank must be read)."""
    m, width = padded.shape
    labels = np.full((m, 2 * width + 1), blank, np.intp)
    labels[:, 1::2] = padded
    skip = np.zeros(labels.shape, bool)
    skip[:, 2:] = (labels[:, 2:] != blank) & (labels[:, 2:] != labels[:, :-2])
    return labels, skip
