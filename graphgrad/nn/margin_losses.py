"""PyTorch's margin and soft-margin losses, composed of graphgrad's ops (so autodiff gives their
gradients, to any order): `cosine_embedding_loss` for pairs of embeddings, `soft_margin_loss`
for labels of 1 and -1, and for C classes `multi_margin_loss` (the multiclass hinge of an SVM),
`multilabel_soft_margin_loss` (a logistic loss per class) and `multilabel_margin_loss` (the
hinge between each target class and each other class).

The layout is graphgrad's, as `cross_entropy`'s: the classes (or an embedding's units) are the
last axis, (m, C) or (..., C), which for (N, C) is PyTorch's too. Each takes the model's output
first and ``reduction`` (``"mean"`` over the examples, ``"sum"`` or ``"none"``) as a keyword,
checked by `losses`' helpers, whose errors these share. The gradients at the hinges' kinks are
PyTorch's: cosine_embedding_loss's max(0, cos - margin) passes the gradient at 0 (clamp_min's),
multi_margin_loss's and multilabel_margin_loss's max(0, z) pass none there (their kernels test
z > 0). Depends on `losses`, `composed_losses`, `ops`, `tensor`, `errors`.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    ShapeError,
    array_of,
    array_of_numbers,
    describe,
    real_number,
    setting_text,
)
from graphgrad.nn.composed_losses import _hinge, _plus_minus_one, _reduce, _same_shapes
from graphgrad.nn.losses import (
    _as_labels,
    _as_tensor,
    _check_indices,
    _check_reduction,
    _class_weights,
    _refuse_empty,
    _same_shape,
)
from graphgrad.ops.activations import LogSigmoid, softplus
from graphgrad.ops.elementwise import relu, sqrt, where
from graphgrad.ops.gather import take_along_axis
from graphgrad.ops.reductions import sum as _sum
from graphgrad.ops.shape import expand_dims
from graphgrad.tensor import Tensor

# PyTorch's cosine_embedding_loss adds this to each squared norm (its EPSILON), not a clamp
COSINE_EPS = 1e-12


def _classes(loss: str, x: Tensor, what: str) -> int:
    """The number of classes C, x's last axis (at least one), or a ShapeError."""
    if x.ndim < 1 or x.shape[-1] == 0:
        raise ShapeError(f"{loss}: {what} must have shape (m, C), C >= 1 classes on the last "
                         f"axis, got {describe(x)}")
    return x.shape[-1]


def _class_indices(loss: str, labels: Any, x: Tensor) -> np.ndarray:
    """Class indices of x's shape without its last axis, each in 0..C-1, as an array."""
    raw = labels.data if isinstance(labels, Tensor) else labels
    if type(raw) is not np.ndarray:
        raw = array_of(raw, "labels", loss)
    if raw.shape != x.shape[:-1]:
        array_of_numbers(raw, "labels", loss)
        tip = ""
        if raw.shape == x.shape:
            tip = " One-hot rows? Pass the class indices Y.argmax(axis=-1)."
        raise ShapeError(f"{loss}: the outputs {describe(x)} take one class index per example, "
                         f"of shape {x.shape[:-1]}, got labels of shape {raw.shape}.{tip}")
    _check_indices(raw, x.shape[-1], None, loss)
    return raw.astype(np.intp) if raw.dtype.kind not in "iu" else raw


# -- pairs of embeddings --------------------------------------------------------------------------
def cosine_embedding_loss(x1: Any, x2: Any, target: Any, margin: float = 0.0, *,
                          reduction: str = "mean") -> Tensor:
    """PyTorch's cosine_embedding_loss: of each pair of embeddings x1 and x2 (along the last
    axis) with its ``target`` y, 1 - cos(x1, x2) where y = 1 (a similar pair, pulled to the
    same direction) and max(0, cos(x1, x2) - margin) where y = -1 (a dissimilar pair, pushed
    below ``margin``).

    x1 and x2 have the same shape, (m, n_e) (or (n_e,), or (..., n_e)); y holds 1s and -1s of
    their shape without its last axis, (m,). cos is PyTorch's: sum(x1 x2) /
    sqrt((|x1|^2 + 1e-12) (|x2|^2 + 1e-12)), finite for a zero vector. ``margin`` is a finite
    number (PyTorch suggests 0 to 0.5); ``reduction`` ``"mean"`` over the m pairs, ``"sum"``
    or ``"none"`` ((m,)).
    """
    loss = "cosine_embedding_loss"
    a = _as_tensor(x1, "x1", loss)
    b = _as_tensor(x2, "x2", loss)
    if type(reduction) is not str or reduction != "mean":
        _check_reduction(loss, reduction)
    margin = real_number(margin, "margin", loss, math.isfinite, "a finite number")
    _same_shapes(loss, {"x1": a, "x2": b})
    if a.ndim == 0:
        raise ShapeError(f"{loss}: the embeddings must have shape (m, n_e), got x1 {describe(a)}")
    y = _as_labels(target, a, loss, "target")
    if y.shape != a.shape[:-1]:
        raise ShapeError(f"{loss}: x1 and x2 {describe(a)} take one target per pair, of shape "
                         f"{a.shape[:-1]}, got target {describe(y)}")
    _plus_minus_one(loss, y)
    if reduction == "mean" and a.ndim > 1:
        _refuse_empty(loss, y, "targets")
    dot = _sum(a * b, axis=-1)
    cos = dot / sqrt((_sum(a * a, axis=-1) + COSINE_EPS) * (_sum(b * b, axis=-1) + COSINE_EPS))
    return _reduce(where(y.data == 1, 1.0 - cos, _hinge(cos - margin)), reduction)


# -- labels of 1 and -1 ---------------------------------------------------------------------------
def soft_margin_loss(predictions: Any, targets: Any, *, reduction: str = "mean") -> Tensor:
    """PyTorch's soft_margin_loss: ln(1 + e**(-y x)) of each output x (the ``predictions``)
    and its label y, 1 or -1 (the ``targets``, of x's shape): the logistic loss on labels of
    +-1, the mean over all elements by default (``reduction`` as `l1_loss`'s).

    Computed as softplus(-y x), finite for any x (PyTorch's log1p(exp(-y x)) is inf beyond
    -y x = 709); for labels of 0 and 1 it is binary_cross_entropy_with_logits(x, (y + 1) / 2).
    """
    loss = "soft_margin_loss"
    x = _as_tensor(predictions, "predictions", loss)
    if type(reduction) is not str or reduction != "mean":
        _check_reduction(loss, reduction)
    y = _as_labels(targets, x, loss, "targets")
    _same_shape(loss, x, y, "predictions")
    _plus_minus_one(loss, y)
    if reduction == "mean":
        _refuse_empty(loss, x, "predictions")
    return _reduce(softplus(-(y * x)), reduction)


# -- C classes ------------------------------------------------------------------------------------
def margin_settings(p: Any, margin: Any, caller: str) -> tuple[int, float]:
    """`multi_margin_loss`'s ``p`` (1 or 2) and ``margin`` (a finite number), or an
    `ArgumentError` in ``caller``'s name."""
    if isinstance(p, (bool, np.bool_)) or p not in (1, 2):
        raise ArgumentError(f"{caller}: p must be 1 (the hinge) or 2 (the squared hinge), as "
                            f"PyTorch's, got {setting_text(p)}")
    return int(p), real_number(margin, "margin", caller, math.isfinite, "a finite number")


def multi_margin_loss(predictions: Any, labels: Any, p: int = 1, margin: float = 1.0,
                      weight: Any = None, *, reduction: str = "mean") -> Tensor:
    """PyTorch's multi_margin_loss, the multiclass hinge loss of an SVM: of each example's
    scores x (C of them) and its class y, sum over the classes i != y of
    w_y max(0, margin - x_y + x_i)**p, divided by C.

    Args:
        predictions: the scores, (m, C) (or (C,), or (..., C)): the classes are the last axis,
            as PyTorch's for (N, C).
        labels: class indices (m,), integers 0..C-1.
        p: 1 (the hinge, PyTorch's default) or 2 (its square).
        margin: a finite number, 1 by default.
        weight: PyTorch's class weights, C numbers >= 0; each example's loss is scaled by its
            class's (after the power, as PyTorch's kernel does, where its documentation puts it
            inside), and ``"mean"`` still divides by m.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (each example's, (m,)).

    The gradient at a kink, margin - x_y + x_i = 0, is 0, as PyTorch's.
    """
    loss = "multi_margin_loss"
    x = _as_tensor(predictions, "predictions", loss)
    if type(reduction) is not str or reduction != "mean":
        _check_reduction(loss, reduction)
    p, margin = margin_settings(p, margin, loss)
    n_classes = _classes(loss, x, "predictions")
    index = _class_indices(loss, labels, x)
    if reduction == "mean" and x.ndim > 1:
        _refuse_empty(loss, x, "predictions")
    picked = take_along_axis(x, index[..., None], axis=-1)  # x_y, (m, 1)
    others = np.arange(n_classes) != index[..., None]  # the classes i != y, (m, C)
    # relu: no gradient at the kink (PyTorch's kernel takes z > 0); 0 at i = y, cut from the
    # graph, whose z = margin would otherwise count
    hinge = where(others, relu(margin - picked + x), 0.0)
    terms = hinge if p == 1 else hinge * hinge
    losses = _sum(terms, axis=-1) * (1.0 / n_classes)
    if weight is not None:
        losses = losses * _class_weights(x, weight, loss)[index]
    return _reduce(losses, reduction)


def multilabel_soft_margin_loss(predictions: Any, labels: Any, weight: Any = None, *,
                                reduction: str = "mean") -> Tensor:
    """PyTorch's multilabel_soft_margin_loss: for each example's C logits x (the
    ``predictions``) and its ``labels`` y (1 for each class it has, 0 for the others; of x's
    shape), the mean over the classes of
    -(y log sigmoid(x) + (1 - y) log sigmoid(-x)), a logistic loss per class; then
    ``"mean"`` over the m examples (``"sum"``, or ``"none"`` for each example's, (m,)).

    x: (m, C) or (..., C), the classes the last axis, as PyTorch's. ``weight``: C numbers
    >= 0, each class's term scaled by its own (PyTorch's). It is
    binary_cross_entropy_with_logits(x, y, reduction="none").mean(axis=-1) (with the weights,
    the mean of the weighted terms), composed of log_sigmoid here, stable for any x.
    """
    loss = "multilabel_soft_margin_loss"
    x = _as_tensor(predictions, "predictions", loss)
    if type(reduction) is not str or reduction != "mean":
        _check_reduction(loss, reduction)
    n_classes = _classes(loss, x, "predictions")
    y = _as_labels(labels, x, loss, "labels")
    _same_shape(loss, x, y, "predictions")
    if reduction == "mean" and x.ndim > 1:
        _refuse_empty(loss, x, "predictions")
    terms = -(y * LogSigmoid.apply(x) + (1.0 - y) * LogSigmoid.apply(-x))
    if weight is not None:
        terms = terms * _class_weights(x, weight, loss)
    return _reduce(_sum(terms, axis=-1) * (1.0 / n_classes), reduction)


def _target_counts(loss: str, labels: Any, x: Tensor) -> np.ndarray:
    """multilabel_margin_loss's targets as counts (m, C): how often each class is listed
    before the first -1 of its row (PyTorch counts a class listed twice twice)."""
    raw = labels.data if isinstance(labels, Tensor) else labels
    if type(raw) is not np.ndarray:
        raw = array_of(raw, "labels", loss)
    if raw.shape != x.shape:
        array_of_numbers(raw, "labels", loss)
        raise ShapeError(
            f"{loss}: the outputs {describe(x)} take labels of their shape {x.shape}: each "
            f"row's target classes, then -1 to end the list (PyTorch's layout), got labels "
            f"of shape {raw.shape}")
    if raw.dtype.kind not in "iu":
        numbers = array_of_numbers(raw, "labels", loss)
        if raw.dtype.kind != "b" and np.all(numbers == np.round(numbers)):
            raw = numbers.astype(np.intp)
        else:
            raise ArgumentError(f"{loss}: the labels must be class indices (integers) and -1, "
                                f"got {raw.dtype} values")
    n_classes = x.shape[-1]
    bad = (raw < -1) | (raw >= n_classes)
    if bad.any():
        raise ArgumentError(
            f"{loss}: each label must be a class index 0..{n_classes - 1} or -1 (the end of "
            f"a row's targets), got {raw[bad].flat[0]} for outputs {describe(x)}")
    listed = np.cumprod(raw >= 0, axis=-1).astype(bool)  # before the first -1
    rows = raw.reshape(-1, n_classes)
    counts = np.zeros(rows.shape, np.intp)
    for row, (classes, keep) in enumerate(zip(rows, listed.reshape(rows.shape))):
        np.add.at(counts[row], classes[keep], 1)
    return counts.reshape(raw.shape)


def multilabel_margin_loss(predictions: Any, labels: Any, *, reduction: str = "mean") -> Tensor:
    """PyTorch's multilabel_margin_loss: for each example's C scores x (the ``predictions``)
    and its target classes J, sum over j in J and i not in J of max(0, 1 - (x_j - x_i)),
    divided by C (each target class's score pushed a margin of 1 above every other's).

    ``labels`` has x's shape, (m, C), in PyTorch's layout: each row lists its target classes
    first, then -1, after which the row is ignored ([3, 0, -1, 1] is the targets {3, 0}); a
    class listed twice counts twice, as in PyTorch. ``reduction`` ``"mean"`` over the m
    examples, ``"sum"`` or ``"none"`` ((m,)). The gradient at a kink (x_j - x_i = 1) is 0, as
    PyTorch's.
    """
    loss = "multilabel_margin_loss"
    x = _as_tensor(predictions, "predictions", loss)
    if type(reduction) is not str or reduction != "mean":
        _check_reduction(loss, reduction)
    n_classes = _classes(loss, x, "predictions")
    counts = _target_counts(loss, labels, x)
    if reduction == "mean" and x.ndim > 1:
        _refuse_empty(loss, x, "predictions")
    dtype = x.data.dtype if x.data.dtype.kind == "f" else np.dtype(np.float64)
    # pairs (j, i): weight count_j where i is no target, (m, C, C); j along axis -2
    pairs = (counts[..., :, None] * (counts[..., None, :] == 0)).astype(dtype)
    z = relu(1.0 - expand_dims(x, -1) + expand_dims(x, -2))  # 1 - x_j + x_i
    return _reduce(_sum(z * pairs, axis=(-2, -1)) * (1.0 / n_classes), reduction)
