"""The losses' fused nodes, each forward beside its backward: softmax cross-entropy (with
class indices or probability rows, PyTorch's class weights and label smoothing in a node of
their own, `WeightedSoftmaxCrossEntropy`), sigmoid cross-entropy of logits, binary
cross-entropy of probabilities (each weighted in a node of its own), and the mean squared
error, each also in a ``...Losses`` form for ``reduction="none"``. The functions a user calls,
which check the arguments and pick the node, are in `losses`. Backward bodies call the
engine's `LogSoftmax`, `Sigmoid` and `Softplus` through ``Function.call``, so second
derivatives work. Depends on `function`, `engine`, `ops`, `tensor`, `errors`.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from graphgrad.engine import _ones
from graphgrad.errors import ArgumentError, describe
from graphgrad.function import Function
from graphgrad.ops.activations import Softplus
from graphgrad.ops.elementwise import Clip, Sigmoid
from graphgrad.ops.softmax import LogSoftmax
from graphgrad.tensor import Tensor


class SoftmaxCrossEntropy(Function):
    """J = -(1/m) sum_i sum_k Y_ik log softmax(Z_i)_k;  dZ = (softmax(Z) - Y) / m  (rows of Y
    summing to 1), dY = -log softmax(Z) / m.  Y: (m, C) probabilities, or (m,) class indices.
    reduction "sum" drops the 1/m; with ignore_index, the positions whose class index is it
    count for nothing and m counts the others (no gradient, and J = 0, when none is left)."""

    ignored: np.ndarray | None = None  # the positions whose class index is ignore_index

    @staticmethod
    def forward(ctx, z, y, reduction="mean", ignore_index=None):
        n_classes = z.shape[-1]
        p, log_p = _softmax_and_log(z)
        m = z.size // n_classes if n_classes else 0
        if y.shape == z.shape:
            ctx.label_totals = _label_totals(ctx, y)
            log_likelihood = (np.vdot(y, log_p) if z.dtype.itemsize > 2
                              else _total(np.multiply(y, log_p)))
            ctx.save_for_backward(z, y, p, log_p)
        else:  # class indices (m,), checked by `cross_entropy`
            m = _targets_kept(ctx, y, ignore_index)
            log_likelihood = _total(log_p.reshape(-1, n_classes)[ctx.rows, ctx.index])
            ctx.save_for_backward(z, y, p, None)
        ctx.scale = 1.0 / max(m, 1) if reduction == "mean" else 1.0
        # 0 - x rather than -x: a perfect fit costs 0, not -0.
        return np.asarray(0.0 - log_likelihood * ctx.scale, dtype=z.dtype)

    @staticmethod
    def backward(ctx, grad):
        z, y, p, log_p = ctx.saved
        step = grad * ctx.scale
        dense = y.shape == z.shape
        if type(z) is np.ndarray:  # plain backward: reuse softmax(Z) from forward
            if dense:
                dz = p * ctx.label_totals[..., None]
                dz -= y
                dz *= step
            else:
                dz = p.copy()
                rows = dz.reshape(-1, z.shape[-1])
                rows[ctx.rows, ctx.index] -= 1
                if ctx.ignored is not None:
                    rows[ctx.ignored] = 0
                dz *= step
        else:  # create_graph: recompute log softmax(Z) on the graph so it is differentiable
            log_p = LogSoftmax.call(z, axis=-1)  # not log(softmax): that is -inf where p is 0
            p = np.exp(log_p)
            target = y if dense else _one_hot(ctx.rows, ctx.index, z)
            dz = (p * target.sum(axis=-1, keepdims=True) - target) * step
        dy = None
        if ctx.needs_input_grad[1] and dense:
            dy = -log_p * step
        return dz, dy


class SoftmaxCrossEntropyLosses(SoftmaxCrossEntropy):
    """L_i = -sum_k Y_ik log softmax(Z_i)_k at each position i, of Z's shape without its last
    axis (0 where the class index is ignore_index);  dZ_i = (softmax(Z_i) - Y_i) dL_i,
    dY_i = -log softmax(Z_i) dL_i.  Y: (m, C) probabilities, or (m,) class indices."""

    @staticmethod
    def forward(ctx, z, y, ignore_index=None):
        n_classes = z.shape[-1]
        p, log_p = _softmax_and_log(z)
        ctx.scale = 1.0
        if y.shape == z.shape:
            ctx.label_totals = _label_totals(ctx, y)
            losses = 0.0 - np.einsum("...k,...k->...", y, log_p)
            ctx.save_for_backward(z, y, p, log_p)
        else:
            _targets_kept(ctx, y, ignore_index)
            losses = np.zeros(z.size // n_classes, z.dtype)
            losses[ctx.rows] = 0.0 - log_p.reshape(-1, n_classes)[ctx.rows, ctx.index]
            losses = losses.reshape(z.shape[:-1])
            ctx.save_for_backward(z, y, p, None)
        return losses

    @staticmethod
    def backward(ctx, grad):
        # Each position's dL_i scales its row: SoftmaxCrossEntropy's backward with grad (..., 1)
        return SoftmaxCrossEntropy.backward(ctx, grad[..., None])


class WeightedSoftmaxCrossEntropy(SoftmaxCrossEntropy):
    """J = -(1/n) sum_i sum_k T_ik log softmax(Z_i)_k against targets T = w ((1-e) Y + e/C),
    PyTorch's class weights w (C,) and label smoothing e;  dZ = (softmax(Z) sum_k T_k - T) / n,
    dY = -(1-e) w log softmax(Z) / n.  Y: (..., C) probabilities, n the number of positions;
    or (...) class indices, Y their one-hot rows (rows of zeros at ignore_index), n the sum of
    the kept targets' weights (no gradient, and J = 0, when it is 0). "sum": n = 1."""

    target: np.ndarray | None = None  # T, or None for class indices without smoothing

    @staticmethod
    def forward(ctx, z, y, reduction="mean", ignore_index=None, weight=None,
                label_smoothing=0.0):
        p, log_p = _softmax_and_log(z)
        total = _weighted_targets(ctx, z, y, ignore_index, weight, label_smoothing)
        if ctx.target is None:  # each kept position's class, times its weight
            picked = log_p.reshape(-1, z.shape[-1])[ctx.rows, ctx.index]
            log_likelihood = _total(ctx.row_weights * picked)
        else:
            log_likelihood = _total(ctx.target * log_p)
        ctx.scale = 1.0
        if reduction == "mean":  # a total of 0 is that of targets of weight 0 (or none): 0/0
            ctx.scale = 1.0 / total if total > 0 else 0.0
        ctx.save_for_backward(z, y, p, log_p)
        # 0 - x rather than -x: a perfect fit costs 0, not -0.
        return np.asarray(0.0 - log_likelihood * ctx.scale, dtype=z.dtype)

    @staticmethod
    def backward(ctx, grad):
        z, y, p, log_p = ctx.saved
        step = grad * ctx.scale
        dense = y.shape == z.shape
        if type(z) is np.ndarray:  # plain backward: reuse softmax(Z) from forward
            if ctx.target is None:
                dz = p * ctx.row_totals.reshape(z.shape[:-1] + (1,))
                dz.reshape(-1, z.shape[-1])[ctx.rows, ctx.index] -= ctx.row_weights
            else:
                dz = p * ctx.target.sum(axis=-1, keepdims=True)
                dz -= ctx.target
            dz *= step
        else:  # create_graph: log softmax(Z), and T of soft labels, on the graph
            log_p = LogSoftmax.call(z, axis=-1)
            p = np.exp(log_p)
            if dense:
                target = _targets(y, ctx.class_weight, ctx.smoothing)
            elif ctx.target is None:
                target = _one_hot(ctx.rows, ctx.index, z) * ctx.row_totals.reshape(
                    z.shape[:-1] + (1,))
            else:
                target = ctx.target
            dz = (p * target.sum(axis=-1, keepdims=True) - target) * step
        dy = None
        if ctx.needs_input_grad[1] and dense:  # dT/dY = (1 - e) w; e / C is a constant
            weight = 1.0 if ctx.class_weight is None else ctx.class_weight
            dy = -log_p * (weight * (1.0 - ctx.smoothing)) * step
        return dz, dy


class WeightedSoftmaxCrossEntropyLosses(WeightedSoftmaxCrossEntropy):
    """L_i = -sum_k T_ik log softmax(Z_i)_k at each position i, T = w ((1-e) Y + e/C) as in
    `WeightedSoftmaxCrossEntropy` (0 where the class index is ignore_index);
    dZ_i = (softmax(Z_i) sum_k T_ik - T_i) dL_i,  dY_i = -(1-e) w log softmax(Z_i) dL_i."""

    @staticmethod
    def forward(ctx, z, y, ignore_index=None, weight=None, label_smoothing=0.0):
        n_classes = z.shape[-1]
        p, log_p = _softmax_and_log(z)
        _weighted_targets(ctx, z, y, ignore_index, weight, label_smoothing)
        ctx.scale = 1.0
        if ctx.target is None:
            losses = np.zeros(z.size // n_classes, z.dtype)
            picked = log_p.reshape(-1, n_classes)[ctx.rows, ctx.index]
            losses[ctx.rows] = 0.0 - ctx.row_weights * picked
            losses = losses.reshape(z.shape[:-1])
        else:
            losses = 0.0 - np.einsum("...k,...k->...", ctx.target, log_p)
        ctx.save_for_backward(z, y, p, log_p)
        return losses

    @staticmethod
    def backward(ctx, grad):
        # Each position's dL_i scales its row, as in SoftmaxCrossEntropyLosses
        return WeightedSoftmaxCrossEntropy.backward(ctx, grad[..., None])


def _targets(y: Any, weight: np.ndarray | None, smoothing: float) -> Any:
    """T = w ((1 - e) Y + e / C) of labels Y (..., C), an array or a Tensor (create_graph)."""
    target = y * (1.0 - smoothing) + smoothing / y.shape[-1] if smoothing else y
    return target if weight is None else target * weight


def _weighted_targets(ctx: Function, z: np.ndarray, y: np.ndarray, ignore_index: int | None,
                      weight: np.ndarray | None, smoothing: float) -> Any:
    """Set ``ctx.target`` to the targets T = w ((1 - e) Y + e / C) of labels ``y`` for logits
    ``z`` (..., C), and return what the mean divides by: the number of positions for
    probability rows; for class indices the sum of the kept targets' weights (their number
    without weights). Class indices without smoothing keep no T (a C-fold larger array for a
    vocabulary's logits): ``ctx.row_weights`` holds each kept position's weight,
    ``ctx.row_totals`` those of every position (0 where ignored)."""
    ctx.class_weight, ctx.smoothing = weight, smoothing
    n_classes = z.shape[-1]
    if y.shape == z.shape:
        _label_totals(ctx, y)  # refuses rows summing to more than 1
        ctx.target = _targets(y, weight, smoothing)
        return z.size // n_classes
    _targets_kept(ctx, y, ignore_index)
    if weight is None:
        row_weights = np.ones(len(ctx.rows), z.dtype)
        total = len(ctx.rows)
    else:
        row_weights = weight[ctx.index]
        total = _total(row_weights)
    if not smoothing:
        ctx.row_weights = row_weights
        ctx.row_totals = np.zeros(z.size // n_classes, z.dtype)
        ctx.row_totals[ctx.rows] = row_weights
        return total
    # T = (1 - e) w_y one-hot(y) + (e / C) w at each kept position
    target = np.zeros((z.size // n_classes, n_classes), z.dtype)
    target[ctx.rows] = smoothing / n_classes if weight is None else weight * (
        smoothing / n_classes)
    target[ctx.rows, ctx.index] += (1.0 - smoothing) * row_weights
    ctx.target = target.reshape(z.shape)
    return total


def _total(losses: np.ndarray) -> Any:
    """The sum of ``losses``, added up in float32 when they are float16, as np.mean adds them:
    in float16, the sum of 70,000 losses of log 3 passes 65504, its largest number, and the
    mean over them was inf."""
    if losses.dtype.itemsize > 2 or losses.dtype.kind != "f":
        return losses.sum()
    return losses.sum(dtype=np.float32)


def _softmax_and_log(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """softmax(Z) and log softmax(Z) along the last axis, each row shifted by its max first:
    two new arrays, and no division by each row's sum."""
    ones = _ones(z.shape[-1:], z.dtype)  # row sums as products with ones: BLAS is quicker
    shifted = z - np.maximum.reduce(z, axis=-1, keepdims=True)
    p = np.exp(shifted)
    log_p = shifted
    log_p -= np.log(np.dot(p, ones)[..., None])  # shifted is ours: reuse it for log softmax(Z)
    np.exp(log_p, out=p)
    return p, log_p


def _targets_kept(ctx: Function, y: np.ndarray, ignore_index: int | None) -> int:
    """Set ``ctx.rows`` and ``ctx.index`` to the positions whose class index in ``y`` is not
    ``ignore_index`` (every position when it is None) and their classes, ``ctx.ignored`` to
    the others; return how many are kept."""
    index = y.reshape(-1)
    if ignore_index is None:
        ctx.rows, ctx.index = np.arange(len(index)), index.astype(np.intp)
        return len(index)
    ignored = index == ignore_index
    ctx.rows = np.flatnonzero(~ignored)
    ctx.index = index[ctx.rows].astype(np.intp)
    ctx.ignored = np.flatnonzero(ignored)
    return len(ctx.rows)


def _one_hot(rows: np.ndarray, index: np.ndarray, z: Any) -> np.ndarray:
    """Rows of Z's shape (..., C), a 1 at class ``index`` of each row in ``rows``, rows not
    among them (ignored positions) all zeros."""
    n_classes = z.shape[-1]
    one_hot = np.zeros((z.size // n_classes, n_classes), dtype=z.dtype)
    one_hot[rows, index] = 1.0
    return one_hot.reshape(z.shape)


class SigmoidCrossEntropy(Function):
    """J = scale * sum[max(z, 0) - z y + log(1 + e**-|z|)] (= -[y log a + (1-y) log(1-a)]
    with a = sigmoid(z));  dz = (a - y) * scale,  dy = -z * scale"""

    @staticmethod
    def forward(ctx, z, y, scale):
        total = _total(_logistic_losses(z, y))
        if total != total:  # NaN: perhaps a logit of +-inf, where z y is inf * 0
            total = _total(_infinite_logits_cost(z, y))
        ctx.scale = scale
        ctx.save_for_backward(z, y)
        return np.asarray(total * scale, dtype=z.dtype)

    @staticmethod
    def backward(ctx, grad):
        z, y = ctx.saved
        step = grad * ctx.scale
        dz = (Sigmoid.call(z) - y) * step
        dy = -z * step if ctx.needs_input_grad[1] else None
        return dz, dy


class SigmoidCrossEntropyLosses(SigmoidCrossEntropy):
    """L = max(z, 0) - z y + log(1 + e**-|z|) for each element (= -[y log a + (1-y) log(1-a)]
    with a = sigmoid(z));  dz = (a - y) dL,  dy = -z dL"""

    @staticmethod
    def forward(ctx, z, y):
        losses = _logistic_losses(z, y)
        if np.isnan(np.add.reduce(losses, axis=None)):  # a logit of +-inf, as in the sum
            losses = _infinite_logits_cost(z, y)
        ctx.scale = 1.0
        ctx.save_for_backward(z, y)
        return losses


def _logistic_losses(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """max(z, 0) - z y + log(1 + e**-|z|) of each element, -[y log a + (1-y) log(1-a)] with
    a = sigmoid(z) without an exponential that overflows (NaN where a logit is +-inf: see
    `_infinite_logits_cost`)."""
    return np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))


def _infinite_logits_cost(z: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None,
                          pos_weight: np.ndarray | None = None) -> np.ndarray:
    """Each example's w [p y log(1 + e**-z) + (1 - y) log(1 + e**z)] (w, p: 1 when None), a
    term whose weight is 0 counting 0 even where its log is inf: a logit of +inf costs 0 for
    y = 1 and inf for y < 1 (and -inf the other way round), not NaN. A NaN logit or label
    stays NaN."""
    softplus_tail = np.log1p(np.exp(-np.abs(z)))
    for_one = np.maximum(-z, 0) + softplus_tail  # -log a
    for_zero = np.maximum(z, 0) + softplus_tail  # -log(1 - a)
    positive = y if pos_weight is None else y * pos_weight
    losses = np.multiply(positive, for_one, out=np.zeros_like(for_one), where=positive != 0)
    losses += np.multiply(1 - y, for_zero, out=np.zeros_like(for_zero), where=y != 1)
    if weight is not None:
        losses = np.multiply(losses, weight, out=np.zeros_like(losses), where=weight != 0)
    return losses


class WeightedSigmoidCrossEntropy(Function):
    """J = scale * sum w [p y softplus(-z) + (1-y) softplus(z)] (= -w [p y log a +
    (1-y) log(1-a)] with a = sigmoid(z)), PyTorch's weight w and pos_weight p, constants that
    broadcast to z's shape (None: 1);  dz = w [(1 - y + p y) a - p y] * scale,
    dy = w [(p - 1) softplus(-z) - z] * scale"""

    @staticmethod
    def forward(ctx, z, y, scale, weight=None, pos_weight=None):
        total = _total(_weighted_logistic_losses(z, y, weight, pos_weight))
        if total != total:  # NaN: perhaps a logit of +-inf, where 0 * inf is NaN
            total = _total(_infinite_logits_cost(z, y, weight, pos_weight))
        ctx.scale, ctx.weight, ctx.pos_weight = scale, weight, pos_weight
        ctx.save_for_backward(z, y)
        return np.asarray(total * scale, dtype=z.dtype)

    @staticmethod
    def backward(ctx, grad):
        z, y = ctx.saved
        weight, pos_weight = ctx.weight, ctx.pos_weight
        step = grad * ctx.scale
        if weight is not None:  # each element's upstream gradient times its weight
            step = step * weight
        a = Sigmoid.call(z)
        if pos_weight is None:
            dz = (a - y) * step
        else:
            positive = y * pos_weight
            dz = ((1 - y + positive) * a - positive) * step
        dy = None
        if ctx.needs_input_grad[1]:  # softplus(z) = z + softplus(-z): one softplus
            dy = (-z if pos_weight is None else
                  (pos_weight - 1) * Softplus.call(-z) - z) * step
        return dz, dy


class WeightedSigmoidCrossEntropyLosses(WeightedSigmoidCrossEntropy):
    """L = w [p y softplus(-z) + (1-y) softplus(z)] for each element, w and p as in
    `WeightedSigmoidCrossEntropy`;  dz = w [(1 - y + p y) a - p y] dL,
    dy = w [(p - 1) softplus(-z) - z] dL"""

    @staticmethod
    def forward(ctx, z, y, weight=None, pos_weight=None):
        losses = _weighted_logistic_losses(z, y, weight, pos_weight)
        if np.isnan(np.add.reduce(losses, axis=None)):  # a logit of +-inf, as in the sum
            losses = _infinite_logits_cost(z, y, weight, pos_weight)
        ctx.scale, ctx.weight, ctx.pos_weight = 1.0, weight, pos_weight
        ctx.save_for_backward(z, y)
        return losses


def _weighted_logistic_losses(z: np.ndarray, y: np.ndarray, weight: np.ndarray | None,
                              pos_weight: np.ndarray | None) -> np.ndarray:
    """w [p y softplus(-z) + (1-y) softplus(z)] of each element, of z's shape (NaN where a
    logit is +-inf: see `_infinite_logits_cost`). Each softplus is max(+-z, 0) +
    log(1 + e**-|z|), exact where the other term vanishes: PyTorch's (1-y) z + (1 + (p-1) y)
    softplus(-z) gives y = 0, z = -30 as 30.0000000000001 - 30, a third of its digits lost."""
    if pos_weight is None:
        losses = _logistic_losses(z, y)
    else:
        tail = np.log1p(np.exp(-np.abs(z)))
        losses = (y * pos_weight) * (np.maximum(-z, 0) + tail)
        losses = losses + (1 - y) * (np.maximum(z, 0) + tail)
    return losses if weight is None else losses * weight


class BinaryCrossEntropy(Function):
    """J = -(1/n) sum[y log a + (1-y) log(1-a)], a clipped to [eps, 1-eps];
    da = (a - y) / (a (1 - a)) / n inside the clip, 0 outside;  dy = -log(a / (1-a)) / n.
    reduction "sum" drops the 1/n."""

    @staticmethod
    def forward(ctx, a, y, eps, reduction="mean"):
        likelihoods = _clipped_log_likelihoods(ctx, a, y, eps)
        ctx.scale = 1.0 / max(a.size, 1) if reduction == "mean" else 1.0
        return np.asarray(-_total(likelihoods) * ctx.scale, dtype=a.dtype)

    @staticmethod
    def backward(ctx, grad):
        a, y = ctx.saved
        low, high = ctx.low, ctx.high
        step = grad * ctx.scale
        clipped = Clip.call(a, low=low, high=high)
        da = None
        if ctx.needs_input_grad[0]:  # the clip is flat outside [eps, 1 - eps]: no gradient
            inside = np.logical_and(a >= low, a <= high)
            da = (clipped - y) / (clipped * (1 - clipped)) * inside * step
        dy = -np.log(clipped / (1 - clipped)) * step if ctx.needs_input_grad[1] else None
        return da, dy


class BinaryCrossEntropyLosses(BinaryCrossEntropy):
    """L = -[y log a + (1-y) log(1-a)] for each element, a clipped to [eps, 1-eps];
    da = (a - y) / (a (1 - a)) dL inside the clip, 0 outside;  dy = -log(a / (1-a)) dL"""

    @staticmethod
    def forward(ctx, a, y, eps):
        ctx.scale = 1.0
        return 0.0 - _clipped_log_likelihoods(ctx, a, y, eps)  # 0 - x: a perfect fit costs 0


class WeightedBinaryCrossEntropy(BinaryCrossEntropy):
    """J = -(1/n) sum w [y log a + (1-y) log(1-a)], PyTorch's weight w, a constant that
    broadcasts to a's shape, a clipped to [eps, 1-eps];  da and dy are `BinaryCrossEntropy`'s
    times w. reduction "sum" drops the 1/n (n the number of elements, not the weights' sum)."""

    @staticmethod
    def forward(ctx, a, y, eps, weight, reduction="mean"):
        likelihoods = _clipped_log_likelihoods(ctx, a, y, eps) * weight
        ctx.weight = weight
        ctx.scale = 1.0 / max(a.size, 1) if reduction == "mean" else 1.0
        return np.asarray(0.0 - _total(likelihoods) * ctx.scale, dtype=a.dtype)

    @staticmethod
    def backward(ctx, grad):
        # w scales each element's upstream gradient, as dL does in BinaryCrossEntropyLosses
        return BinaryCrossEntropy.backward(ctx, grad * ctx.weight)


class WeightedBinaryCrossEntropyLosses(WeightedBinaryCrossEntropy):
    """L = -w [y log a + (1-y) log(1-a)] for each element, a clipped to [eps, 1-eps];
    da and dy are `BinaryCrossEntropyLosses`' times w"""

    @staticmethod
    def forward(ctx, a, y, eps, weight):
        ctx.weight, ctx.scale = weight, 1.0
        return 0.0 - _clipped_log_likelihoods(ctx, a, y, eps) * weight


def _clipped_log_likelihoods(ctx: Function, a: np.ndarray, y: np.ndarray,
                             eps: float) -> np.ndarray:
    """y log a + (1-y) log(1-a) of each element, a clipped to [eps, 1-eps], the bounds kept on
    ``ctx`` and a and y saved for backward."""
    ctx.low, ctx.high = low, high = _clip_bounds(eps, a.dtype)
    clipped = np.clip(a, low, high)
    ctx.save_for_backward(a, y)
    return y * np.log(clipped) + (1 - y) * np.log1p(-clipped)


class MeanSquaredError(Function):
    """J = mean((a - y)**2) over all n elements;  da = 2 (a - y) / n,  dy = -da.
    reduction "sum" drops the 1/n."""

    @staticmethod
    def forward(ctx, a, y, reduction="mean"):
        error = a - y
        ctx.save_for_backward(a, y, error)
        squares = error * error
        if reduction != "mean":
            ctx.scale = 2.0
            return np.asarray(squares.sum())
        ctx.scale = 2.0 / error.size
        if squares.dtype.char in "fd":  # float32, float64: the sum np.mean makes, without its
            # setup (a third of the step on small outputs)
            return np.asarray(np.add.reduce(squares, axis=None) / squares.size)
        return np.asarray(squares.mean())  # float16 summed in float32, integers in float64

    @staticmethod
    def backward(ctx, grad):
        a, y, error = ctx.saved
        if type(a) is not np.ndarray:  # create_graph: a - y on the graph, differentiable
            error = a - y
        da = error * (grad * ctx.scale)
        needs = ctx.needs_input_grad
        return (da if needs[0] else None), (-da if needs[1] else None)


class SquaredErrors(MeanSquaredError):
    """L = (a - y)**2 for each element;  da = 2 (a - y) dL,  dy = -da"""

    @staticmethod
    def forward(ctx, a, y):
        error = a - y
        ctx.scale = 2.0
        ctx.save_for_backward(a, y, error)
        return error * error


def _clip_bounds(eps: float, dtype: np.dtype) -> tuple[Any, Any]:
    """[eps, 1 - eps] in ``dtype``. In float32, 1 - 1e-12 rounds to 1, where log(1 - a) is
    -inf: the upper bound is then the largest float32 below 1. So the lower bound is at least
    the smallest normal number of the dtype: with eps = 0 (or one below it) log(a) was -inf at
    a = 0, the cost NaN or Inf, and 1 / a overflowed in backward."""
    one = dtype.type(1)
    high = dtype.type(1 - eps)
    if high >= one:
        high = np.nextafter(one, dtype.type(0))
    return max(dtype.type(eps), np.finfo(dtype).tiny), high


def _label_totals(ctx: Function, y: np.ndarray) -> np.ndarray:
    """The sum of each one-hot or probability row of ``y`` (labels (..., C)), in ``y``'s
    dtype, for dZ = softmax(Z) * sum_k Y_k - Y. Rows that sum to more than 1 are refused: the
    labels of several examples in one row, as the course's Z and Y of shape (C, m) give, or
    several classes per example, which is multi_label's cost."""
    ones = _ones(y.shape[-1:], y.dtype)
    # Row sums as products with ones: BLAS is quicker on small batches. float16 adds up in
    # float32 for the test (a row of 2048 ones sums to 2048 there, not 2049).
    sums = np.dot(y, ones) if y.dtype.itemsize > 2 else y.sum(axis=-1, dtype=np.float32)
    # fmax: a NaN row hides no other
    if sums.size and np.fmax.reduce(sums, axis=None) > 1 + 1e-3:
        raise _label_rows_error(sums, y.shape, ctx.inputs[0])
    return sums if sums.dtype is y.dtype else sums.astype(y.dtype)


def _label_rows_error(sums: np.ndarray, shape: tuple[int, ...], z: Tensor) -> ArgumentError:
    too_big = sums > 1 + 1e-3
    where = tuple(int(i) for i in np.unravel_index(int(np.argmax(too_big)), sums.shape))
    row = where[0] if len(where) == 1 else where
    tip = ""
    if len(shape) == 2:
        tip = (" If examples are columns here, as in the course's Z[L] and Y of shape (C, m), "
               "pass Z.T and Y.T.")
    return ArgumentError(
        f"cross_entropy: labels of shape {shape} must hold one one-hot or probability row "
        f"per example, over the last axis, summing to 1; row {row} sums to {sums[where]:.6g} "
        f"(logits {describe(z)}).{tip} For several yes/no labels per example, pass "
        "multi_label=True."
    )
