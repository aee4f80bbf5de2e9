"""PyTorch's other losses, each composed of graphgrad's ops, so autodiff gives its gradients (to
any order) and it needs no node of its own: the regression losses `l1_loss`, `smooth_l1_loss`
and `huber_loss`; `nll_loss` and `kl_div` on log-probabilities; and for embeddings
`cosine_similarity`, `pairwise_distance`, `triplet_margin_loss` (with the course's squared
distances as an option), `margin_ranking_loss` and `hinge_embedding_loss`.

Each takes the model's output first, as PyTorch's do, and ``reduction`` as a keyword; the
arguments are checked by `losses`' helpers, with its errors (shapes that differ, a cost over
no examples, a reduction that is none of PyTorch's). Where these differ from PyTorch (0 log 0
in kl_div, no NaN for a batch that is all padding in nll_loss, the gradient of
cosine_similarity below eps), the docstring says so. Depends on `losses`, `ops`, `linalg`,
`tensor`, `errors`.
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    GraphgradTypeError,
    ShapeError,
    array_of,
    array_of_numbers,
    describe,
    flag,
    real_number,
    setting_text,
    takes_axis,
    takes_keepdims,
)
from graphgrad.linalg import vector_norm
from graphgrad.nn.losses import (
    _as_labels,
    _as_tensor,
    _check_ignore_index,
    _check_indices,
    _check_reduction,
    _class_weights,
    _refuse_empty,
    _refuse_swapped,
    _regression_pair,
    _same_shape,
)
from graphgrad.ops.elementwise import abs as _abs
from graphgrad.ops.elementwise import clip, exp, log, maximum, minimum, where
from graphgrad.ops.gather import take_along_axis
from graphgrad.ops.reductions import sum as _sum
from graphgrad.ops.shape import broadcast_to
from graphgrad.tensor import Tensor


def _hinge(h: Tensor) -> Tensor:
    """max(h, 0) with PyTorch's gradient, clamp_min's: 1 where h >= 0, so that at h = 0 the
    pair still pulls (relu's 0 there left tied scores tied: margin_ranking_loss's default
    margin is 0, and a scorer initialised at zero gives every pair h = 0)."""
    return clip(h, 0.0)


def _reduce(losses: Tensor, reduction: str) -> Tensor:
    """The losses as they are ("none"), their sum or their mean (checked not empty before)."""
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    return losses.mean()


def _positive_setting(value: Any, what: str, loss: str, zero: bool) -> float:
    """beta or delta: a number > 0 (>= 0 with ``zero``). PyTorch's third argument is
    ``reduction``: a string there is told to go to reduction=."""
    if isinstance(value, str):
        raise GraphgradTypeError(
            f"{loss}: {what} must be a number, got {setting_text(value)}; the reduction (PyTorch's "
            f"third argument) is given by keyword here: {loss}(A, Y, reduction={value!r}).")
    rule = "at least 0 (0 gives l1_loss)" if zero else "above 0"
    return real_number(value, what, loss, (lambda b: 0.0 <= b < math.inf) if zero
                       else (lambda d: 0.0 < d < math.inf), f"a finite number {rule}")


def _huber_terms(d: Tensor, delta: float) -> Tensor:
    """Huber's loss of each difference d: 0.5 d^2 where |d| < delta, else delta (|d| - delta/2),
    written c (d - c/2) with c = d clamped to [-delta, delta]: no d^2 to overflow where |d| is
    large, and no |d| whose slope, sign(d), is 0 at d = 0 (0.5 |d|^2 would have a second
    derivative of 0 there, not 1). c is taken as |d| < delta ? d : delta sign(d), PyTorch's
    test, so at |d| = delta the gradient is the linear branch's, delta sign(d) (both branches
    give it: the loss is smooth to first order there), and the second derivative 0, as
    PyTorch's."""
    values = d.data
    c = where(np.abs(values) < delta, d, (delta * np.sign(values)).astype(values.dtype))
    return c * (d - 0.5 * c)


# -- regression -----------------------------------------------------------------------------------
def l1_loss(predictions: Any, targets: Any, *, reduction: str = "mean") -> Tensor:
    """The mean absolute error J = mean(|A - Y|) over all elements, as PyTorch's l1_loss.

    A (the ``predictions``) and Y (the ``targets``) have the same shape, (m, n_y) or any.
    ``reduction`` is ``"mean"`` (J), ``"sum"`` or ``"none"`` (|A - Y| of each element).
    dA = sign(A - Y) / n, 0 where A = Y (PyTorch's subgradient). The loss is symmetric in A and
    Y: given in the other order it is the same cost with the same gradients.
    """
    a, y = _regression_pair("l1_loss", predictions, targets, reduction)
    return _reduce(_abs(a - y), reduction)


def smooth_l1_loss(predictions: Any, targets: Any, beta: float = 1.0, *,
                   reduction: str = "mean") -> Tensor:
    """PyTorch's smooth_l1_loss: of each difference d = A - Y (A the ``predictions``, Y the
    ``targets``, of the same shape), 0.5 d^2 / beta where |d| < beta, else |d| - beta/2; the
    mean over all elements (``reduction`` as `l1_loss`'s).

    beta >= 0 (PyTorch's keyword, after reduction there: here the third argument); beta = 0 is
    `l1_loss`. It is `huber_loss` with delta = beta, divided by beta: its slope is d / beta
    inside, sign(d) outside, and sign(d) at |d| = beta, where the two meet (the second
    derivative is 0 there, as PyTorch's).
    """
    beta = _positive_setting(beta, "beta", "smooth_l1_loss", zero=True)
    a, y = _regression_pair("smooth_l1_loss", predictions, targets, reduction)
    if beta == 0.0:
        return _reduce(_abs(a - y), reduction)
    return _reduce(_huber_terms(a - y, beta) * (1.0 / beta), reduction)


def huber_loss(predictions: Any, targets: Any, delta: float = 1.0, *,
               reduction: str = "mean") -> Tensor:
    """PyTorch's huber_loss: of each difference d = A - Y (A the ``predictions``, Y the
    ``targets``, of the same shape), 0.5 d^2 where |d| < delta, else delta (|d| - delta/2)
    (quadratic near 0, linear beyond, so outliers pull with at most delta); the mean over all
    elements (``reduction`` as `l1_loss`'s).

    delta > 0 (PyTorch's keyword, after reduction there: here the third argument). Its slope is
    d inside, delta sign(d) outside and at |d| = delta (second derivative 0 there, as PyTorch's).
    huber_loss(A, Y, delta) = delta * smooth_l1_loss(A, Y, beta=delta).
    """
    delta = _positive_setting(delta, "delta", "huber_loss", zero=False)
    a, y = _regression_pair("huber_loss", predictions, targets, reduction)
    return _reduce(_huber_terms(a - y, delta), reduction)


# -- on log-probabilities -------------------------------------------------------------------------
def _refuse_above_zero(loss: str, x: Tensor, what: str, tip: str) -> None:
    """Refuse log-probabilities above 0 (past float rounding and a finite difference's step:
    1e-4, or sqrt(eps) of x's dtype if more): logits or probabilities given where
    log softmax(Z) was meant, which the loss would push up without bound (nll_loss(Z, y) is
    -Z_y). NaN passes: fit names it."""
    data = x.data
    if not data.size or data.dtype.kind != "f":
        return
    top = data.max()
    if top > max(math.sqrt(np.finfo(data.dtype).eps), 1e-4):
        raise ArgumentError(
            f"{loss} takes {what} (log softmax(Z), each <= 0), got values up to {top:.4g} in "
            f"{describe(x)}: logits, or probabilities? {tip}")


def nll_loss(log_probs: Any, labels: Any, weight: Any = None, *, ignore_index: int | None = None,
             reduction: str = "mean") -> Tensor:
    """The negative log-likelihood of class indices, PyTorch's nll_loss, on log-probabilities:
    J = -(1/m) sum_i log_probs[i, y_i]. nll_loss(gg.log_softmax(Z, axis=-1), y) is
    cross_entropy(Z, y), there fused into one node.

    Args:
        log_probs: (m, C), or (..., C) (a sequence's (m, T_y, C)): the classes are the last
            axis, as cross_entropy's logits (PyTorch's (m, C, T) is moved there by
            log_probs.swapaxes(1, 2)). Values above 0 are refused: they are no log-probabilities.
        labels: class indices (m,) (or (...)), integers 0..C-1.
        weight: PyTorch's class weights, C numbers >= 0: each position's loss is
            -w_y log_probs[i, y], and ``"mean"`` divides by the sum of the weights of the
            targets not ignored.
        ignore_index: a class index (PyTorch's default -100; here None: none ignored) whose
            positions count for nothing, as cross_entropy's: 0 with ``"none"``, left out of the
            sum and of the mean's divisor. A batch of ignored positions alone (or of targets
            of weight 0) costs 0 with a zero gradient (PyTorch gives NaN, 0/0).
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (each position's loss, of the labels'
            shape).

    Returns:
        J, a scalar Tensor (the losses with ``"none"``); d log_probs[i, y_i] = -w_{y_i} / n,
        0 elsewhere.
    """
    x = _as_tensor(log_probs, "log_probs", "nll_loss")
    if x.data.ndim < 1 or x.shape[-1] == 0:
        raise ShapeError(f"nll_loss: log_probs must have shape (m, C), C >= 1 classes, got "
                         f"{describe(x)}")
    if type(reduction) is not str or reduction != "mean":
        _check_reduction("nll_loss", reduction)
    if ignore_index is not None:
        _check_ignore_index(ignore_index, False, "nll_loss")
    raw = labels.data if isinstance(labels, Tensor) else labels
    if type(raw) is not np.ndarray:
        raw = array_of(raw, "labels", "nll_loss")
    n_classes = x.shape[-1]
    if raw.shape != x.shape[:-1]:
        array_of_numbers(raw, "labels", "nll_loss")
        tip = ""
        if raw.shape == x.shape:
            tip = (" One-hot or probability rows Y: pass the class indices Y.argmax(axis=-1), or "
                   "take -(Y * log_probs).sum(axis=-1).mean() (kl_div for the divergence).")
        elif raw.shape == x.shape[:-1] + (1,):
            tip = " Take the class indices out of their axis of 1: labels[..., 0]."
        elif x.ndim > 2 and raw.shape == x.shape[:1] + x.shape[2:]:
            tip = (" The classes are the last axis, (..., C): PyTorch's layout (m, C, T) is moved "
                   "there by log_probs.swapaxes(1, 2).")
        raise ShapeError(f"nll_loss: log_probs {describe(x)} take class indices of shape "
                         f"{x.shape[:-1]}, got labels of shape {raw.shape}.{tip}")
    _check_indices(raw, n_classes, ignore_index, "nll_loss")
    if reduction == "mean":
        _refuse_empty("nll_loss", x, "log_probs")
    _refuse_above_zero("nll_loss", x, "log-probabilities",
                       "For logits Z pass gg.log_softmax(Z, axis=-1), or take "
                       "cross_entropy(Z, labels), which is both in one node.")
    index = raw.astype(np.intp) if raw.dtype.kind not in "iu" else raw
    dtype = x.data.dtype if x.data.dtype.kind == "f" else np.dtype(np.float64)
    kept = None if ignore_index is None else index != ignore_index
    if kept is not None:
        index = np.where(kept, index, 0)
    picked = take_along_axis(x, index[..., None], axis=-1).reshape(raw.shape)
    if weight is None and kept is None:
        losses = 0.0 - picked  # 0 - x rather than -x: a perfect fit costs 0, not -0
        count = float(raw.size)
    else:
        scale = (np.ones(raw.shape, dtype) if weight is None
                 else np.array(_class_weights(x, weight, "nll_loss")[index]))  # () too
        if kept is not None:
            scale[~kept] = 0.0
        losses = 0.0 - picked * scale
        count = float(scale.sum(dtype=np.float64))
    if reduction != "mean":
        return _reduce(losses, reduction)
    # targets of total weight 0 (all ignored): 0 with no gradient, as cross_entropy's
    return losses.sum() * (1.0 / count if count > 0 else 0.0)


_KL_REDUCTIONS = ("batchmean", "mean", "sum", "none")


def check_kl_reduction(reduction: Any, caller: str) -> None:
    """Refuse a ``reduction`` `kl_div` does not take, naming ``caller``."""
    if not (isinstance(reduction, str) and reduction in _KL_REDUCTIONS):
        tip = (" (the string \"none\" gives each term)"
               if reduction is None or reduction is False else "")
        raise ArgumentError(
            f"{caller}: reduction must be \"batchmean\" (KL averaged over the examples), "
            "\"sum\", \"none\" (each term) or \"mean\" (PyTorch's mean over every term), "
            f"got {setting_text(reduction)}{tip}")


def kl_div(log_q: Any, p: Any, log_target: bool = False, *,
           reduction: str = "batchmean") -> Tensor:
    """PyTorch's kl_div: the divergence KL(p || q) = sum p (log p - log q) of the distribution q,
    given as log-probabilities ``log_q`` (the model's gg.log_softmax(Z, axis=-1)), from the
    target distribution ``p`` (the argument order is PyTorch's, the opposite of KL's).

    Args:
        log_q: (m, C) (or any shape; the same as p's), values <= 0.
        p: the target probabilities, >= 0, of log_q's shape; or, with ``log_target``, their
            logs. Each term with p = 0 is 0 (0 log 0 = 0), whatever q, log q = -inf too (where
            PyTorch's gives NaN); a p that requires grad gets log p - log q + 1 (with
            log_target, p (log p - log q + 1) for the log p given), and 0 where p = 0.
        log_target: p is given as log p (PyTorch's), exact where p underflows.
        reduction: ``"batchmean"`` (the default: the sum over all divided by m, the size of
            the first axis, KL's mean over the examples, which PyTorch recommends),
            ``"sum"``, ``"none"`` (each term p (log p - log q), of log_q's shape) or
            ``"mean"``, PyTorch's default: the mean over all m C terms, KL divided by C too,
            with PyTorch's UserWarning (PyTorch says its "mean" will become "batchmean"; here it
            is PyTorch's present one, so that ported code gets PyTorch's numbers).

    Returns:
        The divergence, a scalar Tensor (the terms with ``"none"``); d log_q = -p / m.
    """
    x = _as_tensor(log_q, "log_q", "kl_div")
    if not (type(reduction) is str and reduction == "batchmean"):
        check_kl_reduction(reduction, "kl_div")
        if reduction == "mean":
            warnings.warn(
                "kl_div: reduction=\"mean\" divides the sum by every term's count, m C, not by "
                "the number of examples m, so it is not the KL divergence (PyTorch's \"mean\", "
                "which warns so too); reduction=\"batchmean\", the default, divides by m.",
                UserWarning, stacklevel=2)
    log_target = flag(log_target, "log_target", "kl_div")
    _refuse_swapped("kl_div", x, p, "log_q")
    swapped = (isinstance(p, Tensor) and p.requires_grad and not x.requires_grad)
    y = _as_labels(p, x, "kl_div", "p")
    _same_shape("kl_div", x, y, "log_q")
    if reduction in ("mean", "batchmean") and x.ndim:
        _refuse_empty("kl_div", x, "log_q")
    swap_tip = (" The arguments look swapped: kl_div takes log q (the model's) first, then the "
                "target p, as PyTorch's." if swapped else "")
    _refuse_above_zero("kl_div", x, "log-probabilities log q",
                       "For logits Z pass gg.log_softmax(Z, axis=-1)." + swap_tip)
    target = y.data
    if log_target:
        _refuse_above_zero("kl_div", y, "with log_target=True, target log-probabilities",
                           "For probabilities p leave log_target False.")
        there = target != -np.inf  # p = 0 where log p is -inf: a term of 0
        if there.all():
            terms = exp(y) * (y - x)
        else:
            log_p = where(there, y, 0.0)
            terms = exp(log_p) * (log_p - where(there, x, 0.0))
    else:
        if target.size and target.dtype.kind == "f" and target.min() < 0:
            raise ArgumentError(
                f"kl_div: the target probabilities p {describe(y)} must be >= 0, got "
                f"{target.min():.4g}: log-probabilities? Pass log_target=True for those."
                + swap_tip)
        there = target != 0  # 0 log 0 = 0; NaN stays NaN
        if there.all():
            terms = y * (log(y) - x)
        else:  # log 1 = 0 where p = 0, and log q left out: no 0 * inf, no NaN, in either pass
            terms = y * (log(where(there, y, 1.0)) - where(there, x, 0.0))
    if reduction == "batchmean":
        total = terms.sum()
        return total * (1.0 / x.shape[0]) if x.ndim else total
    return _reduce(terms, reduction)


# -- embeddings -----------------------------------------------------------------------------------
def _same_shapes(loss: str, named: dict[str, Tensor]) -> None:
    """Tensors that must all have the first's shape, the ones that differ named."""
    (first, a), *rest = named.items()
    for name, b in rest:
        if b.shape != a.shape:
            raise ShapeError(
                f"{loss}: {name} {describe(b)} must have the shape of {first} {describe(a)}; "
                "broadcasting them would compare every example with every other.")


def _plus_minus_one(loss: str, y: Tensor) -> None:
    """Targets of 1 and -1 only (PyTorch's convention for these losses)."""
    data = y.data
    if data.size and not np.all((data == 1) | (data == -1)):
        tip = ""
        if np.all((data == 0) | (data == 1)):
            tip = " For labels of 0 and 1, pass 2 * y - 1."
        bad = data[(data != 1) & (data != -1)].flat[0]
        raise ArgumentError(f"{loss}: the targets {describe(y)} must be 1 or -1, got "
                            f"{setting_text(bad.item())}.{tip}")


@takes_axis
def cosine_similarity(x1: Any, x2: Any, axis: int = -1, eps: float = 1e-8) -> Tensor:
    """The cosine of the angle between x1's and x2's vectors along ``axis``, PyTorch 2's
    cosine_similarity: sum((x1 / max(|x1|, eps)) * (x2 / max(|x2|, eps))) over the axis, each
    norm clamped at eps on its own (PyTorch 1's clamped their product), so it stays in [-1, 1].

    x1 and x2 broadcast together ((m, n) and (n,) compares each row with one vector), and the
    vectors are those of the broadcast shape, as PyTorch's (x2 of shape (m, 1) along axis 1
    is its number repeated n times); the axis is the last by default (PyTorch's dim=1, the
    same axis for (m, n)), and counts the broadcast shape's axes. A vector x1 shorter
    than eps gets the gradient of the value given, x2 / (eps max(|x2|, eps)) (PyTorch's goes
    through the norm as if it were not clamped, which is not that value's gradient). Returns the
    similarities, of the broadcast shape without ``axis``.
    """
    a = _as_tensor(x1, "x1", "cosine_similarity")
    b = _as_tensor(x2, "x2", "cosine_similarity")
    eps = real_number(eps, "eps", "cosine_similarity", lambda e: 0.0 <= e < math.inf,
                      "a finite number >= 0")
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ShapeError(f"cosine_similarity: x1 {describe(a)} and x2 {describe(b)} do not "
                         "broadcast together: give vectors of the same length along the "
                         "axis.") from None
    if not shape or not -len(shape) <= axis < len(shape):
        raise ShapeError(f"cosine_similarity: axis={setting_text(axis)} is no axis of x1 "
                         f"{describe(a)} and x2 {describe(b)} (broadcast to {shape}).")
    # The vectors are the broadcast shape's, as PyTorch's: an input without the axis, or of
    # size 1 along it, is repeated along it first (its own axis, or its single number, has
    # another norm). Counted from the end, the axis is the same axis of every input.
    axis = axis - len(shape) if axis >= 0 else axis
    a, b = (x if x.ndim >= -axis and x.shape[axis] == shape[axis] else broadcast_to(x, shape)
            for x in (a, b))
    norm_a = maximum(vector_norm(a, axis=axis, keepdims=True), eps)
    norm_b = maximum(vector_norm(b, axis=axis, keepdims=True), eps)
    return _sum((a / norm_a) * (b / norm_b), axis=axis)


def _distance(x1: Tensor, x2: Tensor, p: float, eps: float, keepdims: bool = False) -> Tensor:
    """|x1 - x2 + eps|_p along the last axis: `pairwise_distance` of checked settings."""
    return vector_norm(x1 - x2 + eps, axis=-1, keepdims=keepdims, ord=p)


@takes_keepdims
def pairwise_distance(x1: Any, x2: Any, p: float = 2, eps: float = 1e-6,
                      keepdims: bool = False) -> Tensor:
    """PyTorch's pairwise_distance: |x1 - x2 + eps|_p along the last axis, the distance
    between x1's and x2's vectors (eps, added to the difference, keeps the 2-norm's gradient
    finite where they are equal). x1, x2: (m, n), or shapes that broadcast together -> (m,)
    (the broadcast shape without its last axis; kept as 1 with ``keepdims``, PyTorch's
    keepdim). p: the norm's order, above 0 (2, 1, inf)."""
    caller = "pairwise_distance"
    a = _as_tensor(x1, "x1", caller)
    b = _as_tensor(x2, "x2", caller)
    p = real_number(p, "p", caller, lambda v: v > 0, "the order of a norm, above 0 (2, 1, inf)")
    eps = real_number(eps, "eps", caller, lambda e: 0.0 <= e < math.inf, "a finite number >= 0")
    keepdims = flag(keepdims, "keepdims", caller)
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        shape = None
    if not shape:
        raise ShapeError(f"{caller}: x1 {describe(a)} and x2 {describe(b)} must be vectors "
                         "along their last axis that broadcast together, (m, n) and (m, n) "
                         "or (n,)")
    return _distance(a, b, p, eps, keepdims)


def triplet_settings(margin: Any, p: Any, eps: Any, swap: Any, squared: Any,
                     caller: str) -> tuple[float, float, float, bool, bool]:
    """`triplet_margin_loss`'s settings checked, naming ``caller`` in a refusal: (margin, p,
    eps, swap, squared)."""
    margin = real_number(margin, "margin", caller, lambda v: 0.0 < v < math.inf,
                         "a finite number above 0 (the course's alpha, 0.2)")
    squared = flag(squared, "squared", caller)
    swap = flag(swap, "swap", caller)
    if squared and p != 2:
        raise ArgumentError(f"{caller}: squared=True takes the squared Euclidean distance, "
                            f"p = 2; got p={setting_text(p)}")
    p = real_number(p, "p", caller, lambda v: v > 0, "the order of a norm, above 0 (2, 1, inf)")
    eps = real_number(eps, "eps", caller, lambda v: 0.0 <= v < math.inf,
                      "a finite number >= 0")
    return margin, p, eps, swap, squared


def triplet_margin_loss(anchor: Any, positive: Any, negative: Any, margin: float = 1.0,
                        p: float = 2, eps: float = 1e-6, swap: bool = False, *,
                        squared: bool = False, reduction: str = "mean") -> Tensor:
    """PyTorch's triplet_margin_loss: max(d(a, p) - d(a, n) + margin, 0) for each triplet,
    d(x, y) = |x - y + eps|_p along the last axis (PyTorch's pairwise_distance adds eps to the
    difference). The anchor is pulled towards the positive and pushed from the negative until
    the negative is ``margin`` farther.

    Args:
        anchor, positive, negative: encodings of the same shape, (m, n_e).
        margin: > 0, as PyTorch's (the course's alpha, 0.2).
        p: the norm's order (2, 1, inf, ...).
        swap: PyTorch's distance swap, d(a, n) replaced by min(d(a, n), d(p, n)).
        squared: the course's face recognition triplet loss: d(x, y) = sum((x - y)^2), the
            squared distance, without eps (p must be 2). The course's cost, a sum over the
            triplets, is triplet_margin_loss(A, P, N, margin=alpha, squared=True,
            reduction="sum"). Its gradient grows with the distance, where the norm's is of
            length 1 whatever it.
        reduction: ``"mean"`` (over the m triplets), ``"sum"`` or ``"none"`` (the loss of
            each, (m,)).
    """
    loss = "triplet_margin_loss"
    a = _as_tensor(anchor, "anchor", loss)
    pos = _as_tensor(positive, "positive", loss)
    neg = _as_tensor(negative, "negative", loss)
    if type(reduction) is not str or reduction != "mean":
        _check_reduction(loss, reduction)
    margin, p, eps, swap, squared = triplet_settings(margin, p, eps, swap, squared, loss)
    _same_shapes(loss, {"anchor": a, "positive": pos, "negative": neg})
    if a.ndim == 0:
        raise ShapeError(f"{loss}: the encodings must have shape (m, n_e), got anchor "
                         f"{describe(a)}")
    if reduction == "mean" and a.ndim > 1:
        _refuse_empty(loss, a, "anchors")

    def distance(u: Tensor, v: Tensor) -> Tensor:
        if squared:
            diff = u - v
            return _sum(diff * diff, axis=-1)
        return _distance(u, v, p, eps)

    far = distance(a, neg)
    if swap:
        far = minimum(far, distance(pos, neg))
    return _reduce(_hinge(distance(a, pos) - far + margin), reduction)


def margin_ranking_loss(input1: Any, input2: Any, target: Any, margin: float = 0.0, *,
                        reduction: str = "mean") -> Tensor:
    """PyTorch's margin_ranking_loss: max(0, -y (x1 - x2) + margin) of each pair, x1 and x2
    the scores ``input1`` and ``input2``, y the ``target``: 1 where x1 should rank above x2 (by
    ``margin`` at least), -1 where below. The three have the same shape, (m,); ``reduction``
    ``"mean"``, ``"sum"`` or ``"none"``."""
    loss = "margin_ranking_loss"
    x1 = _as_tensor(input1, "input1", loss)
    x2 = _as_tensor(input2, "input2", loss)
    if type(reduction) is not str or reduction != "mean":
        _check_reduction(loss, reduction)
    margin = real_number(margin, "margin", loss, math.isfinite, "a finite number")
    y = _as_labels(target, x1, loss, "target")
    _same_shapes(loss, {"input1": x1, "input2": x2, "target": y})
    _plus_minus_one(loss, y)
    if reduction == "mean":
        _refuse_empty(loss, x1, "input1")
    return _reduce(_hinge(margin - y * (x1 - x2)), reduction)


def hinge_embedding_loss(distances: Any, target: Any, margin: float = 1.0, *,
                         reduction: str = "mean") -> Tensor:
    """PyTorch's hinge_embedding_loss: of each pair's distance x (the ``distances``, PyTorch's
    input) and its ``target`` y, x where y = 1 (a similar pair's distance, pulled to 0),
    max(0, margin - x) where y = -1 (a dissimilar pair's, pushed past ``margin``). x and y have
    the same shape; ``reduction`` ``"mean"``, ``"sum"`` or ``"none"``."""
    loss = "hinge_embedding_loss"
    x = _as_tensor(distances, "distances", loss)
    if type(reduction) is not str or reduction != "mean":
        _check_reduction(loss, reduction)
    margin = real_number(margin, "margin", loss, math.isfinite, "a finite number")
    y = _as_labels(target, x, loss, "target")
    _same_shape(loss, x, y, "distances")
    _plus_minus_one(loss, y)
    if reduction == "mean":
        _refuse_empty(loss, x, "distances")
    return _reduce(where(y.data == 1, x, _hinge(margin - x)), reduction)
