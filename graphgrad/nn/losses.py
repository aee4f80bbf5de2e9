"""Losses, by default each the mean over the m examples of the course's per-example loss L(a, y).

Each takes the model's output first, then the labels, as PyTorch's losses do (Keras's take
``(y_true, y_pred)``). Constant 0/1 labels given first with the output second are refused:
the cost would be computed all the same, and backward would train the model through the
labels' gradient. Outputs that hold no examples (m = 0, an empty batch) are refused for the
mean: a mean over none is 0/0, which PyTorch gives as NaN.

Each takes ``reduction`` as PyTorch's do: ``"mean"`` (the course's cost J), ``"sum"`` (its sum
over the examples) or ``"none"`` (the loss of each example, to weight, mask or sample from).
`cross_entropy` with class indices takes PyTorch's ``ignore_index`` too, for padded positions,
and, with either form of labels, its class ``weight`` and ``label_smoothing``
(`WeightedSoftmaxCrossEntropy`, the cost against targets T = w ((1 - eps) Y + eps / C), one
node as well: the plain cost keeps its own, quicker, node).

`cross_entropy` (softmax + log + negative log-likelihood), `binary_cross_entropy_with_logits`
(sigmoid + log loss), `binary_cross_entropy` and `mse` are each one fused node, in
`loss_ops`: the first two take logits, their forward stable (no NaN or Inf for logits of
+-1000) and their backward the short formula the course derives, dZ = A - Y, instead of a
chain of divisions by small probabilities; `binary_cross_entropy` takes probabilities A,
clipped away from 0 and 1. This module checks what they are given and picks the node.

The binary losses (and `cross_entropy` with ``multi_label``) take PyTorch's ``weight`` of
each element, and `binary_cross_entropy_with_logits` its ``pos_weight`` of each label's
positive term, in nodes of their own, so the plain ones stay as quick as they were. Depends
on `loss_ops`, `tensor`, `errors`.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    GraphgradTypeError,
    ShapeError,
    array_of,
    array_of_numbers,
    describe,
    real_number,
    setting_text,
)
from graphgrad.nn.loss_ops import (
    BinaryCrossEntropy,
    BinaryCrossEntropyLosses,
    MeanSquaredError,
    SigmoidCrossEntropy,
    SigmoidCrossEntropyLosses,
    SoftmaxCrossEntropy,
    SoftmaxCrossEntropyLosses,
    SquaredErrors,
    WeightedBinaryCrossEntropy,
    WeightedBinaryCrossEntropyLosses,
    WeightedSigmoidCrossEntropy,
    WeightedSigmoidCrossEntropyLosses,
    WeightedSoftmaxCrossEntropy,
    WeightedSoftmaxCrossEntropyLosses,
)
from graphgrad.tensor import Tensor, _constant

_INDEX_KINDS = "iub"


# -- the functions a user calls -----------------------------------------------------------------
def _as_labels(labels: Any, like: Tensor, caller: str, what: str = "labels") -> Tensor:
    """Labels as a constant Tensor named "Y" in the logits' dtype. A Tensor is kept as is,
    unless it holds constant floats of another dtype (gg.Tensor(Y) of float64 labels for a
    float32 model): those are converted as an array would be, so the cost is computed in the
    outputs' dtype whatever form the labels take. One that requires grad keeps its graph."""
    if isinstance(labels, Tensor):
        data = labels.data
        if labels.requires_grad or data.dtype.kind != "f" or data.dtype == like.data.dtype \
                or like.data.dtype.kind != "f":
            return labels
        return Tensor(data.astype(like.data.dtype), name=labels.name or "Y")
    array = labels if type(labels) is np.ndarray else array_of_numbers(labels, what, caller)
    dtype = like.data.dtype
    if array.dtype is not dtype and array.dtype != dtype and array.dtype.kind in "fiub":
        array = array.astype(dtype)
    if array.dtype.kind != "f":
        array_of_numbers(array, what, caller)  # an array of objects or text: named here
        return Tensor(array, name="Y")
    labels = _constant(array)  # an array of the right dtype: no conversion, no copy
    labels.name = "Y"
    return labels


def _as_indices(raw: np.ndarray) -> Tensor:
    """Class indices, checked whole by `_check_indices`, as a constant Tensor of integers
    named "Y": in the logits' dtype, float16 rounds 2049 to 2048 and 2999 to 3000."""
    if raw.dtype.kind not in _INDEX_KINDS:
        raw = raw.astype(np.intp)
    labels = _constant(raw)
    labels.name = "Y"
    return labels


def _as_tensor(x: Any, what: str, caller: str) -> Tensor:
    """x as a Tensor; one that holds no numbers is refused naming the loss, not Tensor."""
    if isinstance(x, Tensor):
        return x
    array_of_numbers(x, what, caller)
    return Tensor(x)


def _refuse_swapped(loss: str, outputs: Tensor, labels: Any, outputs_name: str) -> None:
    """Refuse labels and outputs given in Keras's order, loss(y_true, y_pred): the "outputs"
    are then constant 0s and 1s and the "labels" require grad. The cost is computed without
    a word, and backward reaches the model through the labels' gradient, training it towards
    something else."""
    if not (isinstance(labels, Tensor) and labels.requires_grad) or outputs.requires_grad:
        return
    data = outputs.data
    if data.size == 0 or data.dtype.kind not in "biuf" or not np.all((data == 0) | (data == 1)):
        return
    raise ArgumentError(
        f"{loss}: the {outputs_name} {describe(outputs)} are constant 0s and 1s and the labels "
        f"{describe(labels)} require grad: the arguments look swapped. graphgrad's losses take "
        f"the model's output first, as PyTorch's do ({loss}(Z, Y)); Keras's take "
        "(y_true, y_pred)."
    )


def _same_shape(loss: str, a: Tensor, y: Tensor, a_name: str) -> None:
    if a.shape == y.shape:
        return
    tip = ""
    if y.shape[::-1] == a.shape:
        tip = " Transpose the labels (Y.T): here examples are rows, the course's Y is (1, m)."
    elif a.size == y.size:
        tip = f" Reshape the labels: Y.reshape({a.shape})."
    elif y.size == 1:  # one label for all: broadcasting would hide a missing batch of labels
        tip = (" For one label shared by every example (a GAN's 1s, smoothed 0.9s), give it "
               f"to each: np.full({a.shape}, {setting_text(y.data.reshape(()).item())}).")
    why = ("each example takes its own label, none is broadcast" if y.size == 1
           else "broadcasting them would silently compare every example with every label")
    raise ShapeError(
        f"{loss}: {a_name} {describe(a)} and labels {describe(y)} must have the same shape; "
        f"{why}.{tip}"
    )


def _refuse_empty(loss: str, a: Tensor, a_name: str) -> None:
    """Refuse outputs that hold no numbers: the cost is a mean over them, and a mean over
    none is 0/0. PyTorch gives NaN; the cost here was 0, a perfect fit, or NaN with numpy's
    warnings, depending on the loss, or a ZeroDivisionError."""
    if a.data.size:
        return
    empty = a.shape.index(0)
    which = "examples (m = 0)" if empty == 0 else f"values (axis {empty} has length 0)"
    raise ShapeError(
        f"{loss}: the {a_name} {describe(a)} hold no {which}: the cost is a mean over them, "
        "and a mean over none is 0/0, not a number (PyTorch gives NaN); give at least one "
        "example (was the batch empty, or did a split leave a set empty?)"
    )


def cross_entropy(logits: Any, labels: Any, multi_label: bool = False, *,
                  reduction: str = "mean", ignore_index: int | None = None,
                  weight: Any = None, label_smoothing: float = 0.0,
                  pos_weight: Any = None) -> Tensor:
    """The softmax cross-entropy cost J = -(1/m) sum_i sum_k Y_ik log softmax(Z_i)_k, fused.

    Args:
        logits: Z of shape (m, C), the last layer's output before softmax; or (..., C), a
            score per class at every position (a sequence's (m, T_y, C), a segmentation's
            (m, n_H, n_W, C)), averaged over all the positions.
        labels: class indices of shape (m,) (integers 0..C-1), or one-hot / probability rows
            of shape (m, C), each summing to 1 (a row of zeros counts for nothing); (...) or
            (..., C) with logits of shape (..., C). Examples are rows: the course's Z[L] and
            Y of shape (C, m) are passed as Z.T and Y.T.
        multi_label: each of the C outputs is its own yes/no question (labels (m, C) of 0s
            and 1s): J = (1/m) sum_i sum_k of the binary cross-entropy of sigmoid(Z_ik).
            True or False: a third argument of another kind (PyTorch's third argument is its
            class weights) is refused. With multi_label, ``weight`` and ``pos_weight`` are
            PyTorch's BCEWithLogitsLoss's (see `binary_cross_entropy_with_logits`): w of a
            shape that broadcasts to the logits' ((C,) for one per label, (m, 1) for one per
            example), each label's loss -w [p y log a + (1-y) log(1-a)]; the mean still
            divides by m, not by the weights' sum (PyTorch's divides by m C, and not by the
            weights' sum either). ``label_smoothing`` is refused (BCEWithLogitsLoss has
            none).
        reduction: ``"mean"`` (the cost J above), ``"sum"`` (m J, the sum of the examples'
            losses) or ``"none"``: each example's loss L_i = -sum_k Y_ik log softmax(Z_i)_k,
            of shape (m,) ((...) for logits (..., C)), to weight examples, mask positions or
            scale by a reward (REINFORCE) before summing them yourself. With multi_label, as
            PyTorch's BCEWithLogitsLoss, ``"none"`` keeps each of the C labels' losses,
            (m, C), and the mean is their sum divided by m (not by m C), as above.
        ignore_index: a class index (PyTorch's; it uses -100 by default, here None: no
            index is ignored) marking positions that count for nothing, padding in a batch of
            sequences: with class-index labels only, it may lie outside 0..C-1. Their loss is
            0 with ``"none"``, they add nothing to ``"sum"``, and ``"mean"`` divides by the
            number of positions not ignored. When every position is ignored, the mean is 0 with
            a zero gradient (PyTorch gives NaN, 0/0, with a zero gradient).
        weight: PyTorch's class weights, C numbers w_k >= 0 (an array, a list or a constant
            Tensor), for classes seen rarely: each position's loss becomes
            -sum_k w_k Y_ik log softmax(Z_i)_k. With class indices that is w_y times the loss,
            and ``"mean"`` divides by the sum of the weights of the targets not ignored, not by
            their number (so equal weights change nothing); with probability rows ``"mean"``
            divides by the number of positions, as PyTorch's. Targets of total weight 0 cost
            0 with a zero gradient (PyTorch: NaN).
        label_smoothing: eps in [0, 1], PyTorch's: each target becomes (1 - eps) Y + eps / C,
            the labels mixed with the uniform distribution over the C classes (then weighted
            by ``weight``); class indices keep their mean's divisor above, so the smoothing
            term is divided by the targets' weights too, as PyTorch's.
        pos_weight: with multi_label only, PyTorch's BCEWithLogitsLoss ``pos_weight``, one
            number p >= 0 per label, shape (C,), multiplying the positive term (above). The
            softmax over the C classes has no positive term: there it is refused.

    Returns:
        J, a scalar Tensor (the per-example losses with ``reduction="none"``). dZ =
        (softmax(Z) - Y) / m, the course's formula (without the 1/m for ``"sum"``); with
        ``weight`` or ``label_smoothing``, dZ = (softmax(Z) sum_k T_k - T) / n for the targets
        T = w ((1 - eps) Y + eps / C) and the mean's divisor n above.
    """
    z = _as_tensor(logits, "logits", "cross_entropy")
    if z.data.ndim < 1:
        raise ShapeError(f"cross_entropy: logits must have shape (m, C), got {describe(z)}")
    if z.shape[-1] == 0:
        raise ShapeError(f"cross_entropy: logits {describe(z)} hold no classes (C = 0); give "
                         "one score per class, of shape (m, C)")
    _refuse_swapped("cross_entropy", z, labels, "logits")
    if not isinstance(multi_label, (bool, np.bool_)):
        # PyTorch's third argument is weight, one per class: as a truthy list it had chosen
        # the multi-label cost.
        raise GraphgradTypeError(
            f"cross_entropy: multi_label must be True or False, got {setting_text(multi_label)}. "
            "Class weights, PyTorch's third argument, are given as weight=: "
            "cross_entropy(Z, Y, weight=w).")
    if type(reduction) is not str or reduction != "mean":  # an array compares badly
        _check_reduction("cross_entropy", reduction)
    if ignore_index is not None:
        _check_ignore_index(ignore_index, multi_label)
    options = None  # weight, label_smoothing, pos_weight, when given: the common call
    # checks no more
    if weight is not None or type(label_smoothing) is not float or label_smoothing != 0.0 \
            or pos_weight is not None:
        options = _weight_and_smoothing(z, weight, label_smoothing, multi_label, pos_weight)
    if multi_label:
        y = _as_labels(labels, z, "cross_entropy")
        _same_shape("cross_entropy(multi_label=True)", z, y, "logits")
        if options:  # weight, pos_weight: PyTorch's BCEWithLogitsLoss's, the mean over m
            if reduction == "none":
                return WeightedSigmoidCrossEntropyLosses.apply(z, y, **options)
            scale = 1.0
            if reduction == "mean":
                _refuse_empty("cross_entropy(multi_label=True)", z, "logits")
                scale = 1.0 / (z.size // z.shape[-1] if z.ndim > 1 else 1)
            return WeightedSigmoidCrossEntropy.apply(z, y, scale=scale, **options)
        if reduction == "none":
            return SigmoidCrossEntropyLosses.apply(z, y)
        if reduction == "sum":
            return SigmoidCrossEntropy.apply(z, y, scale=1.0)
        _refuse_empty("cross_entropy(multi_label=True)", z, "logits")
        m = z.size // z.shape[-1] if z.ndim > 1 else 1
        return SigmoidCrossEntropy.apply(z, y, scale=1.0 / m)
    shape = z.data.shape
    raw = labels.data if isinstance(labels, Tensor) else labels
    if type(raw) is not np.ndarray:
        raw = array_of(raw, "labels", "cross_entropy")  # class names: _check_indices
    indices = raw.shape != shape
    if not indices:
        _refuse_one_class(z, "one-hot rows")
        if ignore_index is not None:
            raise ArgumentError(
                f"cross_entropy: ignore_index={ignore_index} applies to class indices, of shape "
                f"{shape[:-1]} here, not to one-hot or probability rows {raw.shape}: pass the "
                "class indices (Y.argmax(axis=-1), with the ignored positions set to "
                f"{ignore_index}), or give the ignored positions rows of zeros, which cost "
                "nothing (but still count in the mean's m), and no ignore_index.")
    elif raw.shape == shape[:-1]:
        _refuse_one_class(z, "class indices")
        _check_indices(raw, shape[-1], ignore_index)
    else:
        array_of_numbers(labels, "labels", "cross_entropy")  # what is wrong before their shape
        raise _label_shape_error(z, raw.shape)
    y = _as_indices(raw) if indices else _as_labels(labels, z, "cross_entropy")
    if reduction == "mean":
        _refuse_empty("cross_entropy", z, "logits")
        if ignore_index is None and not options:
            return SoftmaxCrossEntropy.apply(z, y)
    if options:  # the node's settings, as pictures show them: those that are not defaults
        if ignore_index is not None:
            options["ignore_index"] = ignore_index
        if reduction == "none":
            return WeightedSoftmaxCrossEntropyLosses.apply(z, y, **options)
        if reduction == "sum":
            options["reduction"] = reduction
        return WeightedSoftmaxCrossEntropy.apply(z, y, **options)
    if reduction == "none":
        if ignore_index is None:
            return SoftmaxCrossEntropyLosses.apply(z, y)
        return SoftmaxCrossEntropyLosses.apply(z, y, ignore_index=ignore_index)
    if ignore_index is None:
        return SoftmaxCrossEntropy.apply(z, y, reduction=reduction)
    return SoftmaxCrossEntropy.apply(z, y, reduction=reduction, ignore_index=ignore_index)


_REDUCTIONS = ("mean", "sum", "none")


def _weight_and_smoothing(z: Tensor, weight: Any, label_smoothing: Any, multi_label: Any,
                          pos_weight: Any = None) -> dict[str, Any]:
    """cross_entropy's ``weight`` and ``label_smoothing`` (with multi_label, ``weight`` and
    ``pos_weight``), checked, as the keywords of its op: only those that change the cost (a
    weight of the logits' dtype, a smoothing above 0)."""
    eps = real_number(
        label_smoothing, "label_smoothing", "cross_entropy", lambda e: 0.0 <= e <= 1.0,
        "a number in [0, 1] (the share of each target moved to the uniform distribution over "
        "the C classes, as PyTorch's label_smoothing; 0.1 is usual)")
    if multi_label and eps:
        raise ArgumentError(
            f"cross_entropy: label_smoothing={setting_text(label_smoothing)} applies to the "
            "softmax over the C classes, not to multi_label=True's C yes/no labels (PyTorch's "
            "BCEWithLogitsLoss has none): smooth the labels yourself, "
            f"Y * (1 - {eps:g}) + {eps:g} / 2, and leave label_smoothing at 0.")
    if multi_label:
        return _element_weights(z, weight, pos_weight, "cross_entropy(multi_label=True)",
                                "logits")
    if pos_weight is not None:
        raise ArgumentError(
            f"cross_entropy: pos_weight={setting_text(pos_weight)} weights the positive term of "
            "each of multi_label=True's C yes/no labels (PyTorch's BCEWithLogitsLoss); the "
            "softmax over the C classes has no positive term. For classes seen rarely, pass "
            "weight= (one per class, PyTorch's cross_entropy weight); for C independent yes/no "
            "labels, multi_label=True with pos_weight=.")
    options: dict[str, Any] = {"label_smoothing": eps} if eps else {}
    if weight is None:
        return options
    options["weight"] = _class_weights(z, weight)
    return options


def _element_weights(x: Tensor, weight: Any, pos_weight: Any, caller: str,
                     x_name: str) -> dict[str, np.ndarray]:
    """The binary losses' ``weight`` and ``pos_weight`` (PyTorch's), checked, as the keywords
    of their op (those given): each as a new array in the dtype of ``x`` (the logits or
    probabilities), of a shape that broadcasts to x's."""
    options = {}
    if weight is not None:
        options["weight"] = _broadcast_weight(x, weight, "weight", caller, x_name)
    if pos_weight is not None:
        options["pos_weight"] = _broadcast_weight(x, pos_weight, "pos_weight", caller, x_name)
    return options


def _broadcast_weight(x: Tensor, value: Any, what: str, caller: str, x_name: str) -> np.ndarray:
    """PyTorch's ``weight`` (each element's) or ``pos_weight`` (each label's positive term):
    real numbers, at least 0 and finite, of a shape that broadcasts to x's without growing it,
    as a new array in x's dtype (changing the user's array later changes no gradient)."""
    per = "element's loss" if what == "weight" else "label's positive term"
    if isinstance(value, Tensor) and value.requires_grad:
        by_hand = ("weight each element's loss by it on the graph" if what == "weight" else
                   "write the loss on the graph, -(p * Y * gg.log_sigmoid(Z) + (1 - Y) * "
                   "gg.log_sigmoid(-Z))")
        raise ArgumentError(
            f"{caller}: {what} {describe(value)} requires grad; the weight of each {per} is a "
            f"constant here. Pass {value.name or what}.detach(), or take reduction=\"none\" "
            f"and {by_hand}.")
    array = array_of_numbers(value, what, caller)
    if array.dtype.kind == "b" and what == "pos_weight":
        raise GraphgradTypeError(
            f"{caller}: pos_weight must hold real numbers, one per label (the weight of its "
            f"positives, n_negative / n_positive for rare ones), got bool values of shape "
            f"{array.shape}; to leave elements out, pass a mask of 0s and 1s as weight=.")
    shape = x.data.shape
    try:
        fits = np.broadcast_shapes(array.shape, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise _weight_shape_error(x, array.shape, what, caller, x_name)
    bad = ~(np.isfinite(array) & (array >= 0))
    if bad.any():
        where = np.unravel_index(int(np.argmax(bad)), array.shape)
        at = f" at {tuple(int(i) for i in where)}" if array.ndim else ""
        left_out = "the element" if what == "weight" else "the label's positives"
        raise ArgumentError(
            f"{caller}: {what} must be at least 0 and finite, got {array[where]:g}{at}: a "
            f"negative weight trains the model away from its labels (a weight of 0 leaves "
            f"{left_out} out).")
    dtype = x.data.dtype if x.data.dtype.kind == "f" else np.dtype(np.float64)
    return array.astype(dtype)


def _weight_shape_error(x: Tensor, got: tuple, what: str, caller: str,
                        x_name: str) -> ShapeError:
    """A weight or pos_weight whose shape does not broadcast to the outputs ``x``, with the
    fix of the usual mix-ups: one weight per example given as (m,) for outputs (m, C)."""
    shape = x.data.shape
    if not shape:
        rule = "a single number"
    elif what == "weight":
        rule = (f"one weight per element, of their shape or one that broadcasts to it "
                f"((m, 1) for one per example, ({shape[-1]},) for one per label)")
    else:
        rule = (f"one weight per label, shape ({shape[-1]},), or a shape that broadcasts to "
                "theirs")
    tip = ""
    if len(shape) > 1 and got == shape[:1]:
        per_example = (shape[0],) + (1,) * (len(shape) - 1)
        tip = (f" For one {what} per example, give each its own axis: "
               f"{what}.reshape({per_example}).")
    elif len(shape) > 1 and got == shape[::-1]:
        tip = f" Transpose it: {what}.T."
    elif shape and len(got) > 1 and int(np.prod(got)) == shape[-1]:
        tip = f" Flatten it: {what}.ravel()."
    return ShapeError(
        f"{caller}: {what} of shape {got} does not broadcast to the {x_name} {describe(x)}: "
        f"give {rule}.{tip}")


def _class_weights(z: Tensor, weight: Any, loss: str = "cross_entropy") -> np.ndarray:
    """PyTorch's ``weight``: C real numbers, at least 0 and finite, as a new array in the
    logits' dtype (changing the user's array later changes no gradient)."""
    if isinstance(weight, Tensor) and weight.requires_grad:
        raise ArgumentError(
            f"{loss}: weight {describe(weight)} requires grad; class weights are "
            "constants here (PyTorch's cross_entropy refuses them too with class indices: "
            f"nll_loss is not differentiable in its weight). Pass {weight.name or 'weight'}"
            ".detach(), or take reduction=\"none\" and weight each position's loss by "
            "weight[labels] on the graph.")
    array = array_of_numbers(weight, "weight", loss)
    if array.dtype.kind == "b":
        raise GraphgradTypeError(
            f"{loss}: weight must hold real numbers, one per class, got bool values of "
            f"shape {array.shape}; for weights of 0 and 1, pass weight.astype(np.float64) "
            "(to leave out positions, not classes, use ignore_index).")
    n_classes = z.shape[-1]
    if array.shape != (n_classes,):
        tip = ""
        if array.size == n_classes and array.ndim > 1:
            tip = " Flatten it: weight.ravel()."
        elif array.ndim == 1 and array.shape[0] == (z.size // n_classes):
            tip = (" For one weight per example, not per class, take reduction=\"none\" and "
                   "weight each example's loss yourself.")
        raise ShapeError(
            f"{loss}: weight must hold one weight per class, C = {n_classes} for logits "
            f"{describe(z)}, got weight of shape {array.shape}.{tip}")
    bad = ~(np.isfinite(array) & (array >= 0))
    if bad.any():
        k = int(np.argmax(bad))
        raise ArgumentError(
            f"{loss}: weight must be at least 0 and finite, got {array[k]:g} for class "
            f"{k}: a negative weight trains the model away from its class (weight 0 leaves it "
            "out).")
    dtype = z.data.dtype if z.data.dtype.kind == "f" else np.dtype(np.float64)
    return array.astype(dtype)


def _check_reduction(loss: str, reduction: Any) -> None:
    """Refuse a reduction other than PyTorch's three, naming the loss and the choices."""
    if isinstance(reduction, str) and reduction in _REDUCTIONS:
        return
    tip = ""
    if reduction is None or reduction is False:
        tip = " (the string \"none\" gives each example's loss)"
    elif isinstance(reduction, str) and reduction.lower() in ("elementwise_mean", "batchmean"):
        tip = " (\"mean\" divides by the number of examples)"
    raise ArgumentError(
        f"{loss}: reduction must be \"mean\" (the cost averaged over the examples), \"sum\" "
        f"or \"none\" (each example's loss), got {setting_text(reduction)}{tip}")


def _check_ignore_index(ignore_index: Any, multi_label: Any, loss: str = "cross_entropy") -> None:
    if isinstance(ignore_index, (bool, np.bool_)) or not isinstance(ignore_index,
                                                                    (int, np.integer)):
        raise GraphgradTypeError(
            f"{loss}: ignore_index must be a whole number, the class index of the "
            f"positions to ignore (PyTorch's default is -100), got {setting_text(ignore_index)}")
    if multi_label:
        raise ArgumentError(
            f"cross_entropy: ignore_index={ignore_index} applies to class indices, not to "
            "multi_label=True's labels of 0s and 1s: take reduction=\"none\" and multiply the "
            "losses (m, C) by a mask of 0s and 1s before summing them.")


def _refuse_one_class(z: Tensor, labels: str) -> None:
    """Refuse logits of one class (C = 1), whatever the labels: a softmax over one class is
    always 1, so the cost is 0 and no gradient reaches the model. With class indices, a batch
    of 0s trained nothing and one holding a 1 was out of range: a yes/no output (Linear(n, 1))
    whose 0/1 labels went to cross_entropy."""
    if z.shape[-1] != 1:
        return
    raise ShapeError(
        f"cross_entropy: logits {describe(z)} have one class (C = 1), with {labels} as "
        "labels; a softmax over one class is always 1, so the cost is 0 and nothing is "
        "learned. For a yes/no label of 0 or 1, use binary_cross_entropy_with_logits(Z, Y) "
        "with Y of the logits' shape; for C classes, give the last layer C outputs."
    )


def _label_shape_error(z: Tensor, got: tuple) -> ShapeError:
    """Labels of a shape that fits neither class indices nor one-hot rows of logits ``z``,
    with the fix of the usual mix-ups (a column of indices, the course's (C, m) layout)."""
    shape = z.data.shape
    tip = ""
    if got == shape[:-1] + (1,):
        tip = (" Flatten the class indices: labels.ravel()." if len(shape) == 2 else
               " Take the class indices out of their axis of 1: labels[..., 0].")
    elif got[::-1] == shape:
        tip = " Transpose the labels (Y.T): here examples are rows, the course's Y is (C, m)."
    elif len(shape) == 2 and got in ((shape[1],), (1, shape[1])):
        tip = (" If the logits hold one example per column, as the course's Z[L] of shape "
               "(C, m), pass Z.T: here examples are rows.")
    elif len(shape) > 2 and got == shape[:1] + shape[2:]:
        tip = (" The classes are the logits' last axis, (..., C): PyTorch's layout (m, C, "
               "...), classes second, is moved there by gg.moveaxis(logits, 1, -1) (for "
               "(m, C, T), logits.swapaxes(1, 2)).")
    return ShapeError(
        f"cross_entropy: logits {describe(z)} take labels of shape {shape[:-1]} (class "
        f"indices) or {shape} (one-hot or probabilities), got {got}.{tip}"
    )


def _check_indices(raw: np.ndarray, n_classes: int, ignore_index: int | None = None,
                   loss: str = "cross_entropy") -> None:
    if raw.size == 0:
        return
    if raw.dtype.kind not in "biuf":
        raise GraphgradTypeError(
            f"{loss}: labels of shape (m,) must hold numbers, the class indices "
            f"0..{n_classes - 1}, got {raw.dtype} values; map each class to its index first "
            "(for example with np.unique(labels, return_inverse=True))"
        )
    if raw.dtype.kind not in _INDEX_KINDS and np.any(raw != np.round(raw)):
        rows = ("give them one row per example, of shape (m, C)" if loss == "cross_entropy"
                else "give -(Y * log_probs).sum(axis=-1) with Y of shape (m, C), or kl_div")
        raise ArgumentError(
            f"{loss}: labels of shape (m,) are class indices and must be whole numbers; "
            f"for probabilities {rows}"
        )
    if ignore_index is not None:  # the ignored value may be out of range (-100, a padding id)
        raw = raw[raw != ignore_index]
        if raw.size == 0:
            return
    low, high = raw.min(), raw.max()
    if low < 0 or high >= n_classes:
        ignored = "" if ignore_index is None else f" (but for ignore_index={ignore_index})"
        raise ArgumentError(
            f"{loss}: class indices must be in 0..{n_classes - 1} for {n_classes} "
            f"logits per example, got values from {low} to {high}{ignored}"
        )


def binary_cross_entropy_with_logits(logits: Any, labels: Any, *, reduction: str = "mean",
                                     weight: Any = None, pos_weight: Any = None) -> Tensor:
    """The course's logistic cost on logits: J = -(1/m) sum [y log a + (1-y) log(1-a)], with
    a = sigmoid(z) folded in so that no logit, however large, gives NaN or Inf.

    Args:
        logits: Z of shape (m, 1) (or (m, k) for k independent yes/no outputs; the mean is
            then over all m * k of them).
        labels: Y of 0s and 1s (or probabilities), the same shape.
        reduction: ``"mean"`` (J), ``"sum"`` (the sum of the losses) or ``"none"`` (the loss
            -[y log a + (1-y) log(1-a)] of each element, of the logits' shape), as PyTorch's.
        weight: PyTorch's ``weight``, numbers w >= 0 of a shape that broadcasts to the
            logits' (the logits' own, (m, 1) for one per example, (k,) for one per output; a
            mask of bools counts as 0s and 1s): each element's loss is multiplied by its w.
            The mean stays the sum over the number of elements, not over the weights' sum, as
            PyTorch's.
        pos_weight: PyTorch's ``pos_weight``, numbers p >= 0, usually one per output, shape
            (k,) (broadcast along the last axis, as any shape that broadcasts to the
            logits'): the positive term is multiplied by p, L = -w [p y log a + (1-y)
            log(1-a)]. For rare positives, p = (number of negatives) / (number of positives).

    Returns:
        J, a scalar Tensor (the losses with ``reduction="none"``); dZ = (sigmoid(Z) - Y) / m,
        with ``weight`` and ``pos_weight`` dZ = w [(1 - y + p y) sigmoid(Z) - p y] / m.
    """
    z = _as_tensor(logits, "logits", "binary_cross_entropy_with_logits")
    if type(reduction) is not str or reduction != "mean":  # an array compares badly
        _check_reduction("binary_cross_entropy_with_logits", reduction)
    _refuse_swapped("binary_cross_entropy_with_logits", z, labels, "logits")
    y = _as_labels(labels, z, "binary_cross_entropy_with_logits")
    _same_shape("binary_cross_entropy_with_logits", z, y, "logits")
    if weight is not None or pos_weight is not None:
        options = _element_weights(z, weight, pos_weight, "binary_cross_entropy_with_logits",
                                   "logits")
        if reduction == "none":
            return WeightedSigmoidCrossEntropyLosses.apply(z, y, **options)
        if reduction == "mean":
            _refuse_empty("binary_cross_entropy_with_logits", z, "logits")
        scale = 1.0 / z.size if reduction == "mean" else 1.0
        return WeightedSigmoidCrossEntropy.apply(z, y, scale=scale, **options)
    if reduction == "none":
        return SigmoidCrossEntropyLosses.apply(z, y)
    if reduction == "sum":
        return SigmoidCrossEntropy.apply(z, y, scale=1.0)
    _refuse_empty("binary_cross_entropy_with_logits", z, "logits")
    return SigmoidCrossEntropy.apply(z, y, scale=1.0 / z.size)


def binary_cross_entropy(probs: Any, labels: Any, eps: float = 1e-12, *,
                         reduction: str = "mean", weight: Any = None) -> Tensor:
    """The course's logistic cost on probabilities A = sigmoid(Z):
    J = -(1/m) sum [y log a + (1-y) log(1-a)].

    A is clipped to [eps, 1 - eps] first (in float32, where 1 - 1e-12 rounds to 1, the upper
    bound is the largest float32 below 1; with eps = 0, the bounds are the smallest normal
    number and the largest number below 1), so A of exactly 0 or 1 gives a large finite cost
    instead of Inf (and no gradient: the clip is flat there). Prefer
    `binary_cross_entropy_with_logits` on Z for training; it never saturates so.

    Shapes: probs and labels alike, (m, 1) or (m,). ``reduction`` is ``"mean"`` (J), ``"sum"``
    (the sum of the losses) or ``"none"`` (the loss of each element, of the probs' shape), as
    PyTorch's. ``weight`` is PyTorch's: numbers w >= 0 of a shape that broadcasts to the
    probs' (a mask of bools counts as 0s and 1s), each element's loss multiplied by its w; the
    mean stays the sum over the number of elements, not over the weights' sum, as PyTorch's.
    """
    a = _as_tensor(probs, "probs", "binary_cross_entropy")
    if type(reduction) is not str or reduction != "mean":  # an array compares badly
        _check_reduction("binary_cross_entropy", reduction)
    _refuse_swapped("binary_cross_entropy", a, labels, "probabilities")
    y = _as_labels(labels, a, "binary_cross_entropy")
    _same_shape("binary_cross_entropy", a, y, "probabilities")
    if reduction == "mean":
        _refuse_empty("binary_cross_entropy", a, "probabilities")
    eps = real_number(eps, "eps", "binary_cross_entropy", lambda e: 0.0 <= e < 0.5,
                      "in [0, 0.5)")
    if a.data.size and (a.data.min() < 0.0 or a.data.max() > 1.0):  # NaN passes: fit says so
        raise ArgumentError(
            f"binary_cross_entropy takes probabilities A = sigmoid(Z) in [0, 1], got values "
            f"from {a.data.min():.4g} to {a.data.max():.4g} in {describe(a)} (logits Z?), which "
            "would be clipped and get no gradient. Use binary_cross_entropy_with_logits(Z, Y), "
            "or apply gg.sigmoid first."
        )
    if weight is not None:
        w = _element_weights(a, weight, None, "binary_cross_entropy", "probabilities")["weight"]
        if reduction == "none":
            return WeightedBinaryCrossEntropyLosses.apply(a, y, eps=eps, weight=w)
        if reduction == "sum":
            return WeightedBinaryCrossEntropy.apply(a, y, eps=eps, weight=w, reduction="sum")
        return WeightedBinaryCrossEntropy.apply(a, y, eps=eps, weight=w)
    if reduction == "none":
        return BinaryCrossEntropyLosses.apply(a, y, eps=eps)
    if reduction == "sum":
        return BinaryCrossEntropy.apply(a, y, eps=eps, reduction="sum")
    return BinaryCrossEntropy.apply(a, y, eps=eps)


def _regression_pair(loss: str, predictions: Any, targets: Any,
                     reduction: Any) -> tuple[Tensor, Tensor]:
    """The predictions A and targets Y of a regression loss as tensors of one shape, and its
    reduction checked (and, for the mean, A not empty), each refusal naming ``loss``."""
    a = _as_tensor(predictions, "predictions", loss)
    if type(reduction) is not str or reduction != "mean":  # an array compares badly
        _check_reduction(loss, reduction)
    y = _as_labels(targets, a, loss, "targets")
    _same_shape(loss, a, y, "predictions")
    if reduction == "mean":
        _refuse_empty(loss, a, "predictions")
    return a, y


def mse(predictions: Any, targets: Any, *, reduction: str = "mean") -> Tensor:
    """Mean squared error over all elements: J = mean((A - Y)**2), A the ``predictions`` and
    Y the ``targets``, both (m, n_y) (any shape, the same for both). ``reduction`` is
    ``"mean"`` (J), ``"sum"`` (sum((A - Y)**2)) or ``"none"`` ((A - Y)**2 of each element), as
    PyTorch's."""
    a, y = _regression_pair("mse", predictions, targets, reduction)
    if reduction == "none":
        return SquaredErrors.apply(a, y)
    if reduction == "sum":
        return MeanSquaredError.apply(a, y, reduction="sum")
    return MeanSquaredError.apply(a, y)
