"""The losses as modules, PyTorch's ``criterion = nn.CrossEntropyLoss(label_smoothing=0.1)``
then ``J = criterion(Z, Y)``: each a thin `Module` over one of the functions in `losses`,
`composed_losses`, `margin_losses`, `likelihood_losses` and `ctc`, holding its settings and calling
the function with them, so its value and gradient are the function's.

Each has no parameters. Its settings are checked when it is made, by the checks the function
runs on them (a bad reduction is refused by the constructor, not at the first batch); its repr
shows those that are not the defaults. Class weights (and the binary losses' element weights)
are buffers, as PyTorch's: ``state_dict()`` holds them, ``load_state_dict`` replaces them. The
class attribute ``function`` names the function each call runs and ``keywords()`` gives its
settings, which is how `fit` picks the accuracy for ``accuracy="auto"``, as for the function.
Called on its own, a loss's ops are drawn in a frame named after its class (the fused losses
make one node, tagged with it). Depends on `losses`, `composed_losses`, `margin_losses`,
`likelihood_losses`, `ctc`, `nn.module`, `tensor`, `errors`.
"""
from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from graphgrad.errors import (
    ShapeError,
    array_of_numbers,
    flag,
    integer,
    real_number,
    setting_text,
    takes_axis,
    whole_number,
)
from graphgrad.nn.composed_losses import (
    _positive_setting,
    check_kl_reduction,
    cosine_similarity,
    hinge_embedding_loss,
    huber_loss,
    kl_div,
    l1_loss,
    margin_ranking_loss,
    nll_loss,
    smooth_l1_loss,
    triplet_margin_loss,
    triplet_settings,
)
from graphgrad.nn.ctc import ctc_loss
from graphgrad.nn.likelihood_losses import (
    gaussian_nll_loss,
    gaussian_settings,
    poisson_nll_loss,
    poisson_settings,
)
from graphgrad.nn.losses import (
    _broadcast_weight,
    _check_ignore_index,
    _check_reduction,
    _class_weights,
    _weight_and_smoothing,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse,
)
from graphgrad.nn.margin_losses import (
    cosine_embedding_loss,
    margin_settings,
    multi_margin_loss,
    multilabel_margin_loss,
    multilabel_soft_margin_loss,
    soft_margin_loss,
)
from graphgrad.nn.module import Module
from graphgrad.tensor import Tensor


# -- the settings, checked as the functions check them -------------------------------------------
def _shape_of(value: Any, what: str, owner: str) -> tuple[int, ...]:
    """The shape of a weight given as a Tensor, an array or a list; one that holds no numbers
    is refused naming it."""
    if isinstance(value, Tensor):
        return value.shape
    return array_of_numbers(value, what, owner).shape


def _stand_in(shape: tuple[int, ...], value: Any) -> Tensor:
    """Zeros of ``shape`` in the dtype of ``value`` (float64 unless it holds other floats), to
    check a weight against before any output is seen: the outputs' dtype is not known yet, and
    each call converts the weight to it."""
    data = value.data if isinstance(value, Tensor) else np.asarray(value)
    dtype = data.dtype if data.dtype.kind == "f" else np.dtype(np.float64)
    return Tensor(np.zeros(shape, dtype))


def _class_weight_buffer(weight: Any, owner: str) -> np.ndarray | None:
    """PyTorch's ``weight``, one per class, checked as cross_entropy and nll_loss check it
    (numbers >= 0 and finite, constant): a new array, or None."""
    if weight is None:
        return None
    shape = _shape_of(weight, "weight", owner)
    if len(shape) != 1 and not (isinstance(weight, Tensor) and weight.requires_grad):
        tip = " Flatten it: weight.ravel()." if len(shape) > 1 else ""
        raise ShapeError(f"{owner}: weight must hold one weight per class, of shape (C,), got "
                         f"{setting_text(weight)} of shape {shape}.{tip}")
    return _class_weights(_stand_in(shape[-1:] or (1,), weight), weight, owner)


def _element_weight_buffer(value: Any, what: str, owner: str, x_name: str) -> np.ndarray | None:
    """The binary losses' ``weight`` or ``pos_weight``, checked as their functions check them
    but for its shape, which the outputs' shape decides at each call: a new array, or None."""
    if value is None:
        return None
    shape = _shape_of(value, what, owner)
    return _broadcast_weight(_stand_in(shape, value), value, what, owner, x_name)


def _show(value: Any) -> str:
    """A setting in the repr: numbers by :g, a short array by its values, a longer one by its
    dtype and shape."""
    if isinstance(value, np.ndarray):
        if value.ndim == 1 and value.size <= 6:
            return "[" + ", ".join(f"{v:g}" for v in value.tolist()) + "]"
        return setting_text(value) if value.ndim else f"{value.item():g}"
    if isinstance(value, float):
        return f"{value:g}"
    return repr(value)


class _FunctionModule(Module):
    """A module whose call is one function's, ``function(*inputs, **self.keywords())``; its
    settings are the constructor's arguments, kept as attributes of the same names (weights as
    buffers)."""

    function: Callable[..., Tensor]

    def _settings(self) -> dict[str, inspect.Parameter]:
        """The settings, by name: the parameters of the constructor of the class that names
        the ``function`` (``CrossEntropyLoss.__init__``), not of a subclass's own constructor,
        whose arguments (``SmoothedLoss(smoothing=0.1)``) need not be kept as attributes."""
        owner = next(klass for klass in type(self).__mro__ if "function" in vars(klass))
        parameters = inspect.signature(owner.__init__).parameters
        return {name: parameter for name, parameter in parameters.items() if name != "self"}

    def keywords(self) -> dict[str, Any]:
        """The settings each call passes to ``function``, by the constructor's names (the
        functions' own, which are PyTorch's where they take the same setting)."""
        return {name: getattr(self, name) for name in self._settings()}

    def extra_repr(self) -> str:
        """The settings that are not the defaults, ``label_smoothing=0.1``, for the repr."""
        shown = []
        for name, parameter in self._settings().items():
            value = getattr(self, name)
            default = parameter.default
            if isinstance(value, np.ndarray) or value is None or default is None:
                changed = value is not None
            else:
                changed = type(value) is not type(default) or value != default
            if changed:
                shown.append(f"{name}={_show(value)}")
        return ", ".join(shown)


# -- the fused losses (`losses`) ------------------------------------------------------------------
class CrossEntropyLoss(_FunctionModule):
    """PyTorch's nn.CrossEntropyLoss: `cross_entropy` (softmax, log and the negative
    log-likelihood, one node) with the settings given here.

    Args:
        weight: one weight per class, C numbers >= 0 (an array, a list or a constant Tensor),
            kept as a buffer, as PyTorch's (``state_dict()["weight"]``); None for none.
        ignore_index: the class index of positions that count for nothing (padding). None by
            default, where PyTorch's is -100: a ported model whose labels mark padding with
            -100 passes ``ignore_index=-100`` (without it, a label of -100 is refused as no
            class, not trained on).
        reduction: ``"mean"``, ``"sum"`` or ``"none"``, as PyTorch's.
        label_smoothing: eps in [0, 1], as PyTorch's.

    The names are PyTorch's (its deprecated ``size_average`` and ``reduce`` are not taken; the
    settings are keywords but for ``weight``). The layout is graphgrad's: the classes are the
    logits' last axis. For logits (m, C) and labels (m,) that is PyTorch's layout too; a
    sequence's logits are (m, T, C) with labels (m, T), where PyTorch takes (N, C, T): a ported
    sequence model drops the ``.transpose(1, 2)`` (or ``.permute(0, 2, 1)``) it made before the
    loss, or passes ``logits.swapaxes(1, 2)`` of its (N, C, T); an image's per-pixel logits are
    (m, n_H, n_W, C), as graphgrad's channels-last convolutions give them
    (``gg.moveaxis(logits, 1, -1)`` of PyTorch's (N, C, H, W)). One-hot or probability rows are
    taken as labels of the logits' shape, as PyTorch's. For C independent yes/no labels use
    `BCEWithLogitsLoss` (the function's ``multi_label=True``).
    """

    function = staticmethod(cross_entropy)
    single_node = True  # one fused node, tagged with the loss's name

    def __init__(self, weight: Any = None, *, ignore_index: int | None = None,
                 reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__()
        owner = type(self).__name__
        _check_reduction(owner, reduction)
        if ignore_index is not None:
            _check_ignore_index(ignore_index, False, owner)
            ignore_index = int(ignore_index)
        # cross_entropy's own check of label_smoothing; the logits only give the weights' dtype
        options = _weight_and_smoothing(_stand_in((1,), 0.0), None, label_smoothing, False)
        self.register_buffer("weight", _class_weight_buffer(weight, owner))
        self.ignore_index = ignore_index
        self.reduction = reduction
        self.label_smoothing = options.get("label_smoothing", 0.0)

    def forward(self, logits: Any, labels: Any) -> Tensor:
        """J = cross_entropy(logits, labels, ...): logits (m, C) or (..., C), labels class
        indices (m,) or (...), or rows of the logits' shape; J a scalar (with ``"none"``, each
        position's loss, (m,) or (...))."""
        return cross_entropy(logits, labels, weight=self.weight, ignore_index=self.ignore_index,
                             reduction=self.reduction, label_smoothing=self.label_smoothing)


class BCEWithLogitsLoss(_FunctionModule):
    """PyTorch's nn.BCEWithLogitsLoss: `binary_cross_entropy_with_logits` (sigmoid and the
    log loss, one node, stable for any logit).

    Args:
        weight: each element's weight, numbers >= 0 of a shape that broadcasts to the logits'
            ((k,) for one per output); pos_weight: the weight of each output's positive term,
            shape (k,). Both are buffers, as PyTorch's; None for none.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.

    The names and the layout are PyTorch's: logits and labels of the same shape, (m, 1) or
    (m, k) for k yes/no outputs, the mean over all m k of them. The settings are keywords but
    for ``weight``.
    """

    function = staticmethod(binary_cross_entropy_with_logits)
    single_node = True  # one fused node, tagged with the loss's name

    def __init__(self, weight: Any = None, *, reduction: str = "mean",
                 pos_weight: Any = None) -> None:
        super().__init__()
        owner = type(self).__name__
        _check_reduction(owner, reduction)
        self.register_buffer("weight", _element_weight_buffer(weight, "weight", owner, "logits"))
        self.reduction = reduction
        self.register_buffer("pos_weight",
                             _element_weight_buffer(pos_weight, "pos_weight", owner, "logits"))

    def forward(self, logits: Any, labels: Any) -> Tensor:
        """J = binary_cross_entropy_with_logits(logits, labels, ...): logits and labels of the
        same shape, (m, 1) or (m, k); J a scalar (the elements' losses with ``"none"``)."""
        return binary_cross_entropy_with_logits(logits, labels, weight=self.weight,
                                                pos_weight=self.pos_weight,
                                                reduction=self.reduction)


class BCELoss(_FunctionModule):
    """PyTorch's nn.BCELoss: `binary_cross_entropy` on probabilities A = sigmoid(Z), clipped to
    [eps, 1 - eps] (PyTorch clamps each log at -100 instead).

    Args:
        weight: each element's weight, numbers >= 0 of a shape that broadcasts to the
            probabilities', a buffer as PyTorch's; None for none.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
        eps: the function's clip, in [0, 0.5) (graphgrad's own setting).

    Prefer `BCEWithLogitsLoss` on the logits for training: it never saturates.
    """

    function = staticmethod(binary_cross_entropy)
    single_node = True  # one fused node, tagged with the loss's name

    def __init__(self, weight: Any = None, *, reduction: str = "mean",
                 eps: float = 1e-12) -> None:
        super().__init__()
        owner = type(self).__name__
        _check_reduction(owner, reduction)
        eps = real_number(eps, "eps", owner, lambda e: 0.0 <= e < 0.5, "in [0, 0.5)")
        self.register_buffer("weight",
                             _element_weight_buffer(weight, "weight", owner, "probabilities"))
        self.reduction = reduction
        self.eps = eps

    def forward(self, probs: Any, labels: Any) -> Tensor:
        """J = binary_cross_entropy(probs, labels, ...): probabilities in [0, 1] and labels of
        the same shape, (m, 1) or (m,); J a scalar (the elements' losses with ``"none"``)."""
        return binary_cross_entropy(probs, labels, self.eps, weight=self.weight,
                                    reduction=self.reduction)


class _ElementwiseLoss(_FunctionModule):
    """A loss of predictions and targets of one shape whose only setting is ``reduction``
    (``"mean"``, ``"sum"`` or ``"none"``, a keyword: PyTorch's deprecated ``size_average``
    and ``reduce`` are not taken)."""

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__()
        _check_reduction(type(self).__name__, reduction)
        self.reduction = reduction

    def forward(self, predictions: Any, targets: Any) -> Tensor:
        """J = function(predictions, targets): both of one shape, (m, n_y) or any."""
        return self.function(predictions, targets, reduction=self.reduction)


class MSELoss(_ElementwiseLoss):
    """PyTorch's nn.MSELoss: `mse`, the mean of (A - Y)**2 over all elements. ``reduction`` is
    ``"mean"``, ``"sum"`` or ``"none"``, a keyword (PyTorch's deprecated ``size_average`` and
    ``reduce`` are not taken)."""

    function = staticmethod(mse)
    single_node = True  # one fused node, tagged with the loss's name


# -- the losses composed of ops (`composed_losses`) -----------------------------------------------
class L1Loss(_ElementwiseLoss):
    """PyTorch's nn.L1Loss: `l1_loss`, the mean of |A - Y|. ``reduction`` is ``"mean"``,
    ``"sum"`` or ``"none"``, a keyword."""

    function = staticmethod(l1_loss)


class SmoothL1Loss(_FunctionModule):
    """PyTorch's nn.SmoothL1Loss: `smooth_l1_loss`, 0.5 d**2 / beta where |d| < beta, else
    |d| - beta / 2. ``reduction`` (``"mean"``, ``"sum"`` or ``"none"``) and ``beta`` >= 0 are
    PyTorch's, keywords."""

    function = staticmethod(smooth_l1_loss)

    def __init__(self, *, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__()
        _check_reduction(type(self).__name__, reduction)
        self.reduction = reduction
        self.beta = _positive_setting(beta, "beta", "smooth_l1_loss", zero=True)

    def forward(self, predictions: Any, targets: Any) -> Tensor:
        """J = smooth_l1_loss(predictions, targets, beta): both of one shape."""
        return smooth_l1_loss(predictions, targets, self.beta, reduction=self.reduction)


class HuberLoss(_FunctionModule):
    """PyTorch's nn.HuberLoss: `huber_loss`, 0.5 d**2 where |d| < delta, else
    delta (|d| - delta / 2). ``reduction`` (``"mean"``, ``"sum"`` or ``"none"``) and
    ``delta`` > 0 are PyTorch's, in its order (HuberLoss has no deprecated arguments before
    them)."""

    function = staticmethod(huber_loss)

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__()
        _check_reduction(type(self).__name__, reduction)
        self.reduction = reduction
        self.delta = _positive_setting(delta, "delta", "huber_loss", zero=False)

    def forward(self, predictions: Any, targets: Any) -> Tensor:
        """J = huber_loss(predictions, targets, delta): both of one shape."""
        return huber_loss(predictions, targets, self.delta, reduction=self.reduction)


class NLLLoss(_FunctionModule):
    """PyTorch's nn.NLLLoss: `nll_loss` on log-probabilities (a model ending in `LogSoftmax`).

    Args:
        weight: one weight per class, C numbers >= 0, a buffer as PyTorch's; None for none.
        ignore_index: the class index of positions that count for nothing; None by default,
            where PyTorch's is -100 (a ported model pads with -100: pass ``ignore_index=-100``).
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.

    The classes are the last axis, (m, C) or a sequence's (m, T, C), where PyTorch takes
    (N, C, T): as for `CrossEntropyLoss`, a ported sequence model drops its transpose before
    the loss (or passes ``log_probs.swapaxes(1, 2)``). LogSoftmax and NLLLoss together are
    CrossEntropyLoss on the logits, fused into one node there.
    """

    function = staticmethod(nll_loss)

    def __init__(self, weight: Any = None, *, ignore_index: int | None = None,
                 reduction: str = "mean") -> None:
        super().__init__()
        owner = type(self).__name__
        _check_reduction(owner, reduction)
        if ignore_index is not None:
            _check_ignore_index(ignore_index, False, owner)
            ignore_index = int(ignore_index)
        self.register_buffer("weight", _class_weight_buffer(weight, owner))
        self.ignore_index = ignore_index
        self.reduction = reduction

    def forward(self, log_probs: Any, labels: Any) -> Tensor:
        """J = nll_loss(log_probs, labels, ...): log_probs (m, C) or (..., C), labels class
        indices (m,) or (...)."""
        return nll_loss(log_probs, labels, self.weight, ignore_index=self.ignore_index,
                        reduction=self.reduction)


class KLDivLoss(_FunctionModule):
    """PyTorch's nn.KLDivLoss: `kl_div`, KL(p || q) of the model's log-probabilities log q
    from the target distribution p (PyTorch's argument order).

    Args:
        reduction: ``"batchmean"`` by default (KL averaged over the examples), where
            PyTorch's default is ``"mean"``, the mean over every term, which PyTorch itself
            warns is not KL; ``"mean"`` (PyTorch's, with its warning), ``"sum"`` and
            ``"none"`` are taken too. A ported ``nn.KLDivLoss()`` that relied on PyTorch's
            default passes ``reduction="mean"`` for PyTorch's numbers.
        log_target: the target is given as log p, as PyTorch's.
    """

    function = staticmethod(kl_div)

    def __init__(self, *, reduction: str = "batchmean", log_target: bool = False) -> None:
        super().__init__()
        check_kl_reduction(reduction, type(self).__name__)
        self.reduction = reduction
        self.log_target = flag(log_target, "log_target", type(self).__name__)

    def forward(self, log_q: Any, p: Any) -> Tensor:
        """KL = kl_div(log_q, p, ...): log_q and p of one shape, (m, C) or any."""
        return kl_div(log_q, p, self.log_target, reduction=self.reduction)


class TripletMarginLoss(_FunctionModule):
    """PyTorch's nn.TripletMarginLoss: `triplet_margin_loss`,
    max(d(a, p) - d(a, n) + margin, 0) of each triplet of encodings (m, n_e).

    Args:
        margin: > 0; p: the norm's order; eps: added to each difference; swap: PyTorch's
            distance swap; reduction: ``"mean"``, ``"sum"`` or ``"none"``. PyTorch's names,
            defaults and order.
        squared: graphgrad's own, a keyword: the course's squared distances (p = 2, no eps);
            ``TripletMarginLoss(margin=0.2, squared=True, reduction="sum")`` is the course's
            face recognition triplet loss.
    """

    function = staticmethod(triplet_margin_loss)

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6,
                 swap: bool = False, *, squared: bool = False, reduction: str = "mean") -> None:
        super().__init__()
        owner = type(self).__name__
        _check_reduction(owner, reduction)
        self.margin, self.p, self.eps, self.swap, self.squared = triplet_settings(
            margin, p, eps, swap, squared, owner)
        self.reduction = reduction

    def forward(self, anchor: Any, positive: Any, negative: Any) -> Tensor:
        """J = triplet_margin_loss(anchor, positive, negative, ...): three encodings of one
        shape, (m, n_e)."""
        return triplet_margin_loss(anchor, positive, negative, self.margin, self.p, self.eps,
                                   self.swap, squared=self.squared, reduction=self.reduction)


class _MarginLoss(_FunctionModule):
    """A loss whose settings are a ``margin`` (a finite number) and ``reduction`` (``"mean"``,
    ``"sum"`` or ``"none"``, a keyword)."""

    def __init__(self, margin: float = 0.0, *, reduction: str = "mean") -> None:
        super().__init__()
        owner = type(self).__name__
        _check_reduction(owner, reduction)
        self.margin = real_number(margin, "margin", owner, math.isfinite, "a finite number")
        self.reduction = reduction


class MarginRankingLoss(_MarginLoss):
    """PyTorch's nn.MarginRankingLoss: `margin_ranking_loss`, max(0, -y (x1 - x2) + margin)
    of each pair. ``margin`` (a finite number) and ``reduction`` (``"mean"``, ``"sum"`` or
    ``"none"``, a keyword) are PyTorch's."""

    function = staticmethod(margin_ranking_loss)

    def forward(self, input1: Any, input2: Any, target: Any) -> Tensor:
        """J = margin_ranking_loss(input1, input2, target, margin): the scores x1 and x2 and
        the targets y of 1 and -1, of one shape (m,)."""
        return margin_ranking_loss(input1, input2, target, self.margin,
                                   reduction=self.reduction)


class HingeEmbeddingLoss(_MarginLoss):
    """PyTorch's nn.HingeEmbeddingLoss: `hinge_embedding_loss`, x where y = 1, max(0, margin -
    x) where y = -1. ``margin`` (a finite number) and ``reduction`` (``"mean"``, ``"sum"`` or
    ``"none"``, a keyword) are PyTorch's."""

    function = staticmethod(hinge_embedding_loss)

    def __init__(self, margin: float = 1.0, *, reduction: str = "mean") -> None:
        super().__init__(margin, reduction=reduction)

    def forward(self, distances: Any, target: Any) -> Tensor:
        """J = hinge_embedding_loss(distances, target, margin): the distances x and the
        targets y of 1 and -1, of one shape."""
        return hinge_embedding_loss(distances, target, self.margin, reduction=self.reduction)


class CosineSimilarity(_FunctionModule):
    """PyTorch's nn.CosineSimilarity (a module, not a loss): `cosine_similarity` of x1's and
    x2's vectors along ``axis``, each norm clamped at ``eps``.

    Args:
        axis: graphgrad's name for PyTorch's ``dim``; the last axis by default, where
            PyTorch's is dim=1 (the same axis for (m, n); ``CosineSimilarity(dim=1)`` of a
            ported model is ``CosineSimilarity(axis=1)``).
        eps: a finite number >= 0, as PyTorch's.
    """

    function = staticmethod(cosine_similarity)

    @takes_axis
    def __init__(self, axis: int = -1, eps: float = 1e-8) -> None:
        super().__init__()
        owner = type(self).__name__
        self.axis = integer(axis, "axis", owner)
        self.eps = real_number(eps, "eps", owner, lambda e: 0.0 <= e < math.inf,
                               "a finite number >= 0")

    def forward(self, x1: Any, x2: Any) -> Tensor:
        """cosine_similarity(x1, x2, axis, eps): x1 and x2 broadcast together; the
        similarities have their broadcast shape without ``axis``."""
        return cosine_similarity(x1, x2, self.axis, self.eps)



# -- the margin losses (`margin_losses`) ----------------------------------------------------------
class CosineEmbeddingLoss(_MarginLoss):
    """PyTorch's nn.CosineEmbeddingLoss: `cosine_embedding_loss`, 1 - cos(x1, x2) of a pair
    whose target is 1, max(0, cos(x1, x2) - margin) of one whose target is -1. ``margin`` (a
    finite number) and ``reduction`` (``"mean"``, ``"sum"`` or ``"none"``, a keyword) are
    PyTorch's."""

    function = staticmethod(cosine_embedding_loss)

    def forward(self, x1: Any, x2: Any, target: Any) -> Tensor:
        """J = cosine_embedding_loss(x1, x2, target, margin): the embeddings x1 and x2 of one
        shape (m, n_e), the targets of 1 and -1 (m,)."""
        return cosine_embedding_loss(x1, x2, target, self.margin, reduction=self.reduction)


class SoftMarginLoss(_ElementwiseLoss):
    """PyTorch's nn.SoftMarginLoss: `soft_margin_loss`, the mean of ln(1 + e**(-y x)) over all
    elements, labels y of 1 and -1 of the outputs' shape. ``reduction`` is ``"mean"``,
    ``"sum"`` or ``"none"``, a keyword."""

    function = staticmethod(soft_margin_loss)


class MultiMarginLoss(_FunctionModule):
    """PyTorch's nn.MultiMarginLoss: `multi_margin_loss`, the multiclass hinge loss of scores
    (m, C) and class indices (m,).

    Args:
        p: 1 (the hinge) or 2 (its square); margin: a finite number; weight: one weight per
            class, C numbers >= 0, a buffer as PyTorch's (None for none). PyTorch's names,
            defaults and order.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``, a keyword.
    """

    function = staticmethod(multi_margin_loss)

    def __init__(self, p: int = 1, margin: float = 1.0, weight: Any = None, *,
                 reduction: str = "mean") -> None:
        super().__init__()
        owner = type(self).__name__
        _check_reduction(owner, reduction)
        self.p, self.margin = margin_settings(p, margin, owner)
        self.register_buffer("weight", _class_weight_buffer(weight, owner))
        self.reduction = reduction

    def forward(self, predictions: Any, labels: Any) -> Tensor:
        """J = multi_margin_loss(predictions, labels, ...): scores (m, C), class indices
        (m,)."""
        return multi_margin_loss(predictions, labels, self.p, self.margin, self.weight,
                                 reduction=self.reduction)


class MultiLabelSoftMarginLoss(_FunctionModule):
    """PyTorch's nn.MultiLabelSoftMarginLoss: `multilabel_soft_margin_loss`, a logistic loss
    per class averaged over the C classes of each example, logits and labels of 0 and 1 both
    (m, C). ``weight`` (one per class, C numbers >= 0, a buffer; None for none) and
    ``reduction`` (a keyword) are PyTorch's."""

    function = staticmethod(multilabel_soft_margin_loss)

    def __init__(self, weight: Any = None, *, reduction: str = "mean") -> None:
        super().__init__()
        owner = type(self).__name__
        _check_reduction(owner, reduction)
        self.register_buffer("weight", _class_weight_buffer(weight, owner))
        self.reduction = reduction

    def forward(self, predictions: Any, labels: Any) -> Tensor:
        """J = multilabel_soft_margin_loss(predictions, labels, weight): both (m, C)."""
        return multilabel_soft_margin_loss(predictions, labels, self.weight,
                                           reduction=self.reduction)


class MultiLabelMarginLoss(_ElementwiseLoss):
    """PyTorch's nn.MultiLabelMarginLoss: `multilabel_margin_loss`, scores (m, C) and labels of
    that shape listing each row's target classes, then -1 (PyTorch's layout). ``reduction`` is
    ``"mean"``, ``"sum"`` or ``"none"``, a keyword."""

    function = staticmethod(multilabel_margin_loss)


# -- the likelihood losses (`likelihood_losses`) --------------------------------------------------
class PoissonNLLLoss(_FunctionModule):
    """PyTorch's nn.PoissonNLLLoss: `poisson_nll_loss`, the negative log-likelihood of counts
    under predicted Poisson rates.

    Args:
        log_input: the predictions are log-rates (PyTorch's default), else rates >= 0.
        full: add Stirling's approximation of log k! (targets k > 1).
        eps: a finite number >= 0 in log(rate + eps) (keyword, as PyTorch's after its
            deprecated arguments); reduction: ``"mean"``, ``"sum"`` or ``"none"``, a keyword.
    """

    function = staticmethod(poisson_nll_loss)

    def __init__(self, log_input: bool = True, full: bool = False, *, eps: float = 1e-8,
                 reduction: str = "mean") -> None:
        super().__init__()
        owner = type(self).__name__
        _check_reduction(owner, reduction)
        self.log_input, self.full, self.eps = poisson_settings(log_input, full, eps, owner)
        self.reduction = reduction

    def forward(self, predictions: Any, targets: Any) -> Tensor:
        """J = poisson_nll_loss(predictions, targets, ...): both of one shape."""
        return poisson_nll_loss(predictions, targets, self.log_input, self.full, eps=self.eps,
                                reduction=self.reduction)


class GaussianNLLLoss(_FunctionModule):
    """PyTorch's nn.GaussianNLLLoss: `gaussian_nll_loss`, the negative log-likelihood of the
    targets under normal distributions of the predicted means and variances, called as
    PyTorch's, ``criterion(predictions, targets, var)``.

    Args:
        full: add log(2 pi) / 2 to each term; eps: var's clamp, a finite number > 0;
        reduction: ``"mean"``, ``"sum"`` or ``"none"``. All keywords, as PyTorch's.
    """

    function = staticmethod(gaussian_nll_loss)

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean") -> None:
        super().__init__()
        owner = type(self).__name__
        _check_reduction(owner, reduction)
        self.full, self.eps = gaussian_settings(full, eps, owner)
        self.reduction = reduction

    def forward(self, predictions: Any, targets: Any, var: Any) -> Tensor:
        """J = gaussian_nll_loss(predictions, targets, var, ...): the means and targets of one
        shape (m, n), var of that shape, (m,), (m, 1), or a number."""
        return gaussian_nll_loss(predictions, targets, var, self.full, self.eps,
                                 reduction=self.reduction)


# -- sequences (`ctc`) -----------------------------------------------------------------------------
class CTCLoss(_FunctionModule):
    """PyTorch's nn.CTCLoss: `ctc_loss`, the negative log-likelihood of each example's label
    sequence summed over every alignment to its frames, called as PyTorch's,
    ``criterion(log_probs, targets, input_lengths, target_lengths)``.

    Args:
        blank: the blank's class index (0, PyTorch's default); reduction: ``"mean"`` (each
            loss over its target length, then the mean, PyTorch's), ``"sum"`` or ``"none"``;
        zero_infinity: impossible alignments cost 0 (and give no gradient) rather than inf.

    log_probs are batch first, (m, T, C), as graphgrad's recurrent layers give them:
    PyTorch's (T, N, C) is ``log_probs.transpose(1, 0, 2)``.
    """

    function = staticmethod(ctc_loss)

    def __init__(self, blank: int = 0, reduction: str = "mean",
                 zero_infinity: bool = False) -> None:
        super().__init__()
        owner = type(self).__name__
        _check_reduction(owner, reduction)
        self.blank = whole_number(blank, "blank", owner, least=0)
        self.reduction = reduction
        self.zero_infinity = flag(zero_infinity, "zero_infinity", owner)

    def forward(self, log_probs: Any, targets: Any, input_lengths: Any,
                target_lengths: Any) -> Tensor:
        """J = ctc_loss(log_probs, targets, input_lengths, target_lengths, ...): log_probs
        (m, T, C), targets padded (m, S) or concatenated, lengths (m,)."""
        return ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=self.blank,
                        reduction=self.reduction, zero_infinity=self.zero_infinity)
