"""The training loop: `fit` a model over epochs of mini-batches, `evaluate` it, `accuracy`.

`fit` is the course's optimisation loop written once: for each epoch, for each mini-batch,
forward, cost, backward, update; it records the cost and accuracy of every epoch (and on a
dev set), shows them on a progress bar (tqdm, when installed), sets the learning rate from a
schedule before each epoch or each step, can stop early when the dev cost stops improving, and
stops with a clear error when the cost or a gradient becomes NaN or Inf.
Depends on `tensor`, `modes`, `nn`, `optim`, `data`.
"""
from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from graphgrad.data import DataLoader, IterableDataset, _check_pair
from graphgrad.errors import (
    ArgumentError,
    GraphgradError,
    GraphgradTypeError,
    describe,
    flag,
    real_number,
    seed_value,
    setting_text,
    whole_number,
)
from graphgrad.modes import no_grad
from graphgrad.nn import init as initializers
from graphgrad.nn.composed_losses import (
    hinge_embedding_loss,
    huber_loss,
    l1_loss,
    nll_loss,
    smooth_l1_loss,
)
from graphgrad.nn.likelihood_losses import gaussian_nll_loss, poisson_nll_loss
from graphgrad.nn.losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse,
)
from graphgrad.nn.margin_losses import (
    multi_margin_loss,
    multilabel_margin_loss,
    multilabel_soft_margin_loss,
    soft_margin_loss,
)
from graphgrad.nn.module import Module
from graphgrad.optim.lbfgs import LBFGS
from graphgrad.optim.optimizer import Optimizer, _rule
from graphgrad.optim.schedules import Chain, LRScheduler, ReduceOnPlateau, Warmup
from graphgrad.optim.schedules.combined import steps_of
from graphgrad.optim.schedules.scheduler import momentum_setting, set_momentum
from graphgrad.tensor import Tensor, _data

__all__ = ["TrainingDiverged", "TrainingInterrupted", "accuracy", "evaluate", "fit"]


class TrainingDiverged(GraphgradError, FloatingPointError):
    """The cost, or a parameter's gradient, became NaN or Inf during `fit`; ``.history`` holds
    the epochs done so far, and ``.next_epoch`` (given by fit) the number of the first it did
    not finish, as fit's other errors have them. fit makes it with the ``message`` to show
    (which value, at which epoch and batch, where to look) and the ``history``."""

    def __init__(self, message: str, history: dict[str, list[float]]) -> None:
        super().__init__(message)
        self.history = history

    def __reduce__(self) -> tuple:
        # Exception's passes the message alone, which __init__ refuses: copy.copy, deepcopy
        # and pickle (a run in a worker process reaching its parent) failed to rebuild it.
        return type(self), (*self.args[:1], self.history), self.__dict__


class TrainingInterrupted(KeyboardInterrupt):
    """`fit` was interrupted (Ctrl-C). ``.history`` holds the epochs it finished, and
    ``.next_epoch`` the number of the first it did not: pass it as ``initial_epoch`` to
    resume. A KeyboardInterrupt still, so it stops a script or a notebook cell as one does.
    fit makes it with the ``message`` to show (what is kept, how to go on), the ``history``
    and ``next_epoch``."""

    def __init__(self, message: str, history: dict[str, list[float]], next_epoch: int) -> None:
        super().__init__(message)
        self.history, self.next_epoch = history, next_epoch

    def __reduce__(self) -> tuple:
        return type(self), (*self.args[:1], self.history, self.next_epoch), self.__dict__


# -- accuracy -----------------------------------------------------------------------------------
ACCURACY_KINDS = ("argmax", "logits", "probabilities", "multi_label")


def accuracy(outputs: Any, labels: Any, kind: str = "argmax", *,
             ignore_index: int | None = None) -> float:
    """The fraction of examples predicted right.

    Args:
        outputs: the model's output, (m, C) or (m, 1), with m >= 1; or (..., C), a score per
            class at every position (a sequence's (m, T, C)), with labels (...).
        labels: class indices (m,) in 0..C-1 (another is refused), one-hot (m, C), or 0/1
            labels (m, 1).
        kind: how outputs become predictions: "argmax" (the largest of C >= 2 scores; the
            default, refused for outputs (m, 1), whose yes/no answers need one of the next two),
            "logits" (z > 0), "probabilities" (a > 0.5), "multi_label" (each z > 0; the
            fraction of the m * C yes/no answers that are right).
        ignore_index: keyword, as `nn.cross_entropy`'s: the class index marking positions
            that count for nothing (padding), with kind "argmax" and class indices only; the
            fraction is then of the positions not ignored. None (the default) ignores none.
    """
    out = np.asarray(_data(outputs))
    y = np.asarray(_data(labels))
    if ignore_index is not None:
        return _accuracy_ignoring(out, y, kind, ignore_index)
    if out.size == 0:  # numpy's mean of none is NaN, with two RuntimeWarnings
        none = "no examples" if out.ndim and out.shape[0] == 0 else "no scores"
        raise ArgumentError(
            f"accuracy: the outputs {out.shape} hold {none}, and the fraction right of no "
            "predictions is 0/0, not a number; give at least one example with its scores")
    if kind == "argmax":
        if out.ndim >= 2 and out.shape[-1] == 1:
            # the largest of one score is always it: every prediction class 0, and one-hot
            # labels of one column all class 0 too, so the accuracy had been 1.0
            raise ArgumentError(
                f"accuracy: kind='argmax' takes the largest of C scores per example, but the "
                f"outputs {out.shape} have one, so every prediction would be class 0. For one "
                "yes/no output, pass kind='logits' (z > 0) or kind='probabilities' (a > 0.5).")
        predicted = out.argmax(axis=-1)
        if y.shape == out.shape:  # one-hot
            return _fraction(predicted == y.argmax(axis=-1))
        indices = _labels_as(y, predicted.shape, out, kind)
        _check_classes(indices, out)
        return _fraction(predicted == indices)
    if kind in ("logits", "multi_label", "probabilities"):
        threshold = 0.5 if kind == "probabilities" else 0.0
        return _fraction((out > threshold) == (_labels_as(y, out.shape, out, kind) > 0.5))
    raise ArgumentError(f"accuracy: kind must be one of {ACCURACY_KINDS}, got {kind!r}")


def _accuracy_ignoring(out: np.ndarray, y: np.ndarray, kind: str, ignore_index: Any) -> float:
    """`accuracy` over the positions whose class index is not ``ignore_index``."""
    if isinstance(ignore_index, (bool, np.bool_)) or not isinstance(ignore_index,
                                                                    (int, np.integer)):
        raise GraphgradTypeError(
            "accuracy: ignore_index must be a whole number, the class index of the positions "
            f"to ignore (as cross_entropy's), got {setting_text(ignore_index)}")
    if kind != "argmax" or y.shape != out.shape[:-1]:
        raise ArgumentError(
            f"accuracy: ignore_index={ignore_index} applies to class indices, of shape "
            f"{out.shape[:-1]} for the outputs {out.shape}, with kind='argmax'; got "
            f"kind={kind!r} and labels {y.shape}")
    kept = y != ignore_index
    if out.size and not kept.any():
        raise ArgumentError(
            f"accuracy: every one of the labels {y.shape} is ignore_index={ignore_index}, and "
            "the fraction right of no predictions is 0/0, not a number; give at least one "
            "position that is not padding")
    return accuracy(out[kept], y[kept], kind)


def _fraction(right: np.ndarray) -> float:
    """The fraction of True in ``right``: np.mean's value, without its Python-level overhead
    (a few microseconds, which fit pays at every step)."""
    return np.count_nonzero(right) / right.size


def _labels_as(labels: np.ndarray, shape: tuple, outputs: np.ndarray, kind: str) -> np.ndarray:
    """The labels laid out as ``shape``, one per prediction: (m,) indices given as (m, 1) or
    (1, m) are the same m labels; any other number of labels is refused."""
    if labels.size != math.prod(shape):
        expected = ("class indices (m,) or one-hot labels of the outputs' shape"
                    if kind == "argmax" else "one 0/1 label per output, of the outputs' shape")
        tip = ("; labels in the course's layout, one example per column, need a .T"
               if labels.shape[::-1] == outputs.shape else "")
        raise ArgumentError(
            f"accuracy: {labels.size} labels of shape {labels.shape} do not fit the outputs "
            f"{outputs.shape} (kind={kind!r}), which take {expected}{tip}")
    return labels.reshape(shape)


def _check_classes(indices: np.ndarray, outputs: np.ndarray) -> None:
    """Refuse a class index that is none of the C classes of ``outputs`` (m, C): one below 0,
    at C or above, or not whole, which no argmax matches, so it would count as wrong."""
    n_classes, kind = outputs.shape[-1], indices.dtype.kind
    if kind not in "biuf":
        return
    if kind in "iu":  # the common case: two reductions, no copy
        low, high = indices.min(), indices.max()
        if 0 <= low and high < n_classes:
            return
    whole = np.floor(indices) == indices if kind == "f" else True
    bad = ~((indices >= 0) & (indices < n_classes) & whole)
    if not bad.any():
        return
    position = np.unravel_index(np.argmax(bad), indices.shape)
    example = int(position[0]) if len(position) == 1 else tuple(map(int, position))
    raise ArgumentError(
        f"accuracy: label {indices[position]} (example {example}) is no class of the "
        f"{n_classes} the outputs {outputs.shape} score: class indices are 0..{n_classes - 1}; "
        "map each class to its index (np.unique(labels, return_inverse=True)), or give the "
        "outputs a score for every class; for a label marking padding, as cross_entropy's "
        "ignore_index does, pass accuracy(outputs, labels, ignore_index=...) (in fit and "
        "evaluate: accuracy=functools.partial(gg.train.accuracy, ignore_index=...))")


_REGRESSION_LOSSES = (mse, l1_loss, smooth_l1_loss, huber_loss, hinge_embedding_loss,
                      poisson_nll_loss, gaussian_nll_loss)


def _accuracy_kind(loss_fn: Callable, choice: Any, outputs: np.ndarray) -> Any:
    """The accuracy to report for ``loss_fn``: a kind, a function, or None for none."""
    if choice != "auto":
        return choice
    func, keywords = loss_fn, {}
    if isinstance(loss_fn, functools.partial):
        func, keywords = loss_fn.func, loss_fn.keywords
    elif callable(getattr(type(loss_fn), "function", None)) and callable(
            getattr(loss_fn, "keywords", None)):
        # a loss module (nn.CrossEntropyLoss()): the function it calls, with its settings
        func, keywords = type(loss_fn).function, loss_fn.keywords()
    if func is cross_entropy or func is nll_loss:
        if keywords.get("ignore_index") is not None:
            return functools.partial(accuracy, ignore_index=keywords["ignore_index"])
        return "multi_label" if keywords.get("multi_label") else "argmax"
    if func is multi_margin_loss:
        return "argmax"
    if func is binary_cross_entropy_with_logits or func is soft_margin_loss:
        return "logits"  # z > 0 for a label of 1 (soft_margin_loss's -1 is the other class)
    if func is multilabel_soft_margin_loss:
        return "multi_label"
    if func is binary_cross_entropy:
        return "probabilities"
    if any(func is loss for loss in _REGRESSION_LOSSES):  # real-valued targets: no classes
        return None
    if func is multilabel_margin_loss:  # labels that list classes: no kind reads them
        return None
    if outputs.ndim >= 2 and outputs.shape[-1] > 1:  # a cost of one's own on class scores
        return "argmax"
    return None


def _measure(kind: Any, outputs: np.ndarray, labels: np.ndarray) -> float:
    if kind is None:
        return math.nan
    if callable(kind):
        return float(kind(outputs, labels))
    return accuracy(outputs, labels, kind)


# -- evaluation -------------------------------------------------------------------------------
def evaluate(model: Module, loss_fn: Callable, X: Any, Y: Any, accuracy: Any = "auto"
             ) -> tuple[float, float]:
    """The cost and accuracy of ``model`` on (X, Y), in eval mode, without a graph.

    ``loss_fn(outputs, Y) -> J`` gives the cost, as in `fit`. ``accuracy`` is as fit's:
    "auto" (chosen from the loss), a kind of `accuracy` ("argmax", "logits", ...), a function
    (outputs, Y) -> float, or None for none. X and Y need the same number m >= 1 of examples
    (rows). Every module's mode is put back as it was afterwards.

    Returns:
        (cost, accuracy); accuracy is NaN when there is none for this loss (see `fit`).
    """
    _require_model_and_loss(model, loss_fn, "evaluate")
    _require_examples(X, Y, "evaluate")
    modes = _modes(model)
    model.eval()
    try:
        with no_grad():
            outputs = model(X)
            J = loss_fn(outputs, Y)
            cost = _cost_value(J, "evaluate") if isinstance(J, Tensor) else float(J.item())
    finally:
        _restore_modes(modes)
    out = np.asarray(_data(outputs))
    kind = _accuracy_kind(loss_fn, accuracy, out)
    return cost, _measure(kind, out, np.asarray(_data(Y)))


def _require_model_and_loss(model: Any, loss_fn: Any, caller: str) -> None:
    """A model that is no Module (a function, a layer's class) and a loss that is no function
    are refused by name, before anything runs: Python would fail on them inside."""
    if not isinstance(model, Module):
        made = (f"the class {model.__name__}, not a model made of it" if isinstance(model, type)
                else type(model).__name__)
        raise GraphgradTypeError(
            f"{caller}: model must be an nn.Module, such as nn.Sequential(nn.Linear(n_x, 1)), "
            f"got {made}; a function of your own goes in a Module subclass's forward"
        )
    if not callable(loss_fn):
        raise GraphgradTypeError(f"{caller}: loss_fn must be a function loss_fn(outputs, Y_batch) "
                                 f"-> J, such as nn.cross_entropy, got {setting_text(loss_fn)}")
    inputs = _required_inputs(loss_fn)
    if inputs is not None and len(inputs) != 2:
        name = (type(loss_fn).__name__ + "()" if isinstance(loss_fn, Module)
                else getattr(loss_fn, "__name__", type(loss_fn).__name__))
        raise GraphgradTypeError(
            f"{caller}: loss_fn {name} takes ({', '.join(inputs)}), but {caller} calls it as "
            "loss_fn(outputs, Y_batch), the model's outputs and the batch's labels: give the "
            "rest in a function of those two (functools.partial(nn.gaussian_nll_loss, "
            "var=...), or lambda A, Y: ...), or write the training loop, as for a loss of "
            "pairs or triplets of encodings")


def _required_inputs(loss_fn: Callable) -> list[str] | None:
    """The names of the positional inputs ``loss_fn`` (a module's forward) needs, or None
    when its signature cannot say (a builtin, ``*args``)."""
    function = loss_fn.forward if isinstance(loss_fn, Module) else loss_fn
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return None
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters):
        return None
    names = [p.name for p in parameters if p.kind in positional]
    required = [p.name for p in parameters
                if p.kind in positional and p.default is inspect.Parameter.empty]
    # Two inputs it can take (one of them with a default) are outputs and labels too.
    return required if len(required) > 2 or len(names) < 2 else names[:2]


def _require_examples(X: Any, Y: Any, caller: str) -> None:
    """Refuse a set whose cost is not a number: no examples, or X and Y of unequal lengths."""
    X, Y = _check_pair(X, Y, caller)
    if len(X) == 0:
        raise ArgumentError(
            f"{caller}: X {X.shape} and Y {Y.shape} hold no examples, and a cost over none is "
            "not a number; give at least one (did train_dev_test_split leave a set empty?)"
        )


def _modes(model: Module) -> list[tuple[Module, bool]]:
    """Each module's training flag: a submodule may be in eval mode (a frozen BatchNorm)
    while the model trains, so the top module's flag alone cannot put them back."""
    return [(module, module.training) for module in model.modules()]


def _restore_modes(modes: list[tuple[Module, bool]]) -> None:
    for module, training in modes:
        module.training = training


# -- the loop ---------------------------------------------------------------------------------
def _progress_bar(epochs: int, initial_epoch: int, enabled: bool) -> Any:
    if enabled:
        try:
            from tqdm.auto import tqdm  # imported here: graphgrad itself needs numpy only
        except ImportError:
            return None
        return tqdm(total=epochs, initial=initial_epoch, desc="fit", unit="epoch")
    return None


def _reseed(model: Module, loader: Any, seed: int, epoch: int) -> None:
    """Seed the loader's shuffling, every layer that draws random numbers (dropout) and the
    default generator (`nn.init.generator`, F.dropout's in a forward) for ``epoch``, from
    ``seed`` and the epoch's number alone: epoch e draws the same batches and masks whether
    the run started at epoch 0 or was resumed at e, in this process or another, so nothing
    random needs saving to resume exactly. fit gives the default generator back after."""
    random_layers = [m for m in model.modules() if hasattr(m, "reseed")]
    # the default generator's seed is spawned last: the loader's and layers' are as before
    seeds = np.random.SeedSequence([seed, epoch]).spawn(len(random_layers) + 2)
    if hasattr(loader, "reseed"):
        loader.reseed(seeds[0])
    for layer, layer_seed in zip(random_layers, seeds[1:]):
        layer.reseed(layer_seed)
    initializers._default["rng"] = np.random.default_rng(seeds[-1])


def fit(
    model: Module,
    loss_fn: Callable[[Tensor, Any], Tensor],
    optimizer: Optimizer,
    data: tuple[Any, Any] | Iterable[tuple[Any, Any]],
    epochs: int,
    dev_data: tuple[Any, Any] | None = None,
    *,
    batch_size: int = 64,
    shuffle: bool = True,
    drop_last: bool = False,
    seed: int | None = 0,
    schedule: Callable[[int], float] | None = None,
    schedule_every: str = "epoch",
    patience: int | None = None,
    accuracy: Any = "auto",
    progress: bool = True,
    initial_epoch: int = 0,
) -> dict[str, list[float]]:
    """Train ``model`` with mini-batch optimisation; return the history of every epoch.

    Each step is the course's: Z = model(X_batch); J = loss_fn(Z, Y_batch); backward; update.
    Every parameter's gradient is reset before each backward, those of the model's parameters
    the optimizer does not hold too, so after fit each ``.grad`` is the last batch's.

    Args:
        model: a `Module`; its output goes to ``loss_fn``.
        loss_fn: ``loss_fn(outputs, Y_batch) -> J``, e.g. ``nn.cross_entropy``,
            ``nn.CrossEntropyLoss(label_smoothing=0.1)`` or
            ``lambda Z, Y: nn.cross_entropy(Z, Y) + nn.l2_penalty(model, 0.7, len(Y))``.
        optimizer: made with ``model.parameters()``.
        data: (X, Y) (or [X, Y]) with X of shape (m, n_x), cut into shuffled batches of
            ``batch_size``; or a `DataLoader` (or any re-iterable of (X_batch, Y_batch)
            pairs, such as a list: a generator gives its batches once, enough for one epoch).
        epochs: the number of the epoch to stop before: ``epochs`` passes over the data,
            or ``epochs - initial_epoch`` when resuming (as in Keras).
        batch_size, shuffle, drop_last: how (X, Y) is cut into batches (see `DataLoader`);
            ``drop_last=True`` leaves out each epoch's last, smaller batch.
        dev_data: (X_dev, Y_dev), evaluated after every epoch (eval mode, no graph); at
            least one example, as many rows in Y_dev as in X_dev.
        seed: seeds the batches' order (a DataLoader's, and its sampler's, such as a
            `data.RandomSampler`) and the dropout masks (of the layers, and of F.dropout in a
            forward, drawn from `nn.init.generator`, which is given back as it was after fit),
            each epoch's from the seed and the epoch's number, so a run with the same model
            initialisation and seed repeats exactly, and so does a run resumed
            at any epoch (see ``initial_epoch``). None leaves them as they are: drawn from the
            loader's and the layers' own generators, whose state no state_dict holds.
        schedule: ``schedule(epoch) -> learning rate``, applied before each epoch, so epoch
            e trains with schedule(e) (the course's model() decays after each epoch, one
            epoch later: `optim.schedules` says how to repeat it); a rate that is negative,
            NaN or Inf is refused. A schedule that cycles the momentum (`optim.OneCycle`
            with ``cycle_momentum=True``) also sets the optimizer's momentum, or its beta1,
            to ``schedule.momentum(epoch)`` (or of the step) with the rate, in every group
            (those that gave their own too, as PyTorch's OneCycleLR); an optimizer with
            neither is refused. A schedule with a ``step(cost)`` method, such as
            `optim.ReduceOnPlateau` (or `optim.Warmup` before one), is also told each epoch's
            dev cost once it is measured (the epoch's training cost, ``history["cost"]``,
            without dev_data), before the next epoch asks it for its rate; a ReduceOnPlateau
            with mode="max" is refused, since a cost should go down, and a dev cost of NaN
            or Inf stops training before it is told (`TrainingDiverged`). Resuming with
            ``initial_epoch``, load its ``state_dict`` too.
        schedule_every: "epoch" (the default: ``schedule(epoch)`` before each epoch, as
            above) or "step": ``schedule(step)`` before each optimizer step, as PyTorch steps
            OneCycleLR and CyclicLR after every batch, and as warm-ups are counted in steps.
            Steps are counted from 0 across epochs: batch b of epoch e is step
            ``e * n + b``, with n = ``len(data)``, the batches per epoch (``len`` of the
            DataLoader fit makes from (X, Y), or of the DataLoader or list given), so a
            resumed run asks for the steps the run not stopped asked for. A schedule made for
            a number of steps needs ``epochs * n`` of them, e.g. ``optim.OneCycle(0.1,
            total_steps=epochs * len(loader))`` (after an `optim.Warmup` of w steps,
            ``epochs * len(loader) - w``): fit asks for the last step's rate before training
            and refuses a schedule that fails there, saying how many. Data without a
            ``len`` is refused, as is an epoch giving more than n batches (its steps would be
            the next epoch's); an epoch giving fewer leaves the rest of its steps out, and the
            next epoch starts at step (e + 1) n all the same. A schedule with a ``step(cost)``
            method (`optim.ReduceOnPlateau`) follows the epochs' costs and is refused here.
        patience: early stopping (needs dev_data): stop once the dev cost has not gone below
            its lowest for ``patience`` epochs in a row. Stopped early or not, the model ends
            with the parameters (and batch norm statistics) of the epoch with the lowest dev
            cost, ``int(np.argmin(history["dev_cost"]))``. The history keeps every epoch run.
            A dev cost of NaN or Inf stops training (`TrainingDiverged`).
        accuracy: "auto" (from the loss: argmax for cross_entropy, nll_loss and
            multi_margin_loss, z > 0 for binary_cross_entropy_with_logits and
            soft_margin_loss, each z > 0 for multilabel_soft_margin_loss, a > 0.5 for
            binary_cross_entropy; none for the regression losses, mse, l1_loss,
            smooth_l1_loss, huber_loss, hinge_embedding_loss, poisson_nll_loss and
            gaussian_nll_loss (its var given: functools.partial(gaussian_nll_loss, var=v)),
            nor for multilabel_margin_loss; the same for their modules,
            nn.CrossEntropyLoss() ... as for the function each calls; argmax for other losses
            when there are several outputs per example, else none), a kind of
            `accuracy` ("argmax", "logits", ...), a function (outputs, Y) -> float, or None.
            Padded positions left out of the cost by cross_entropy's ignore_index are left
            out of the accuracy with ``functools.partial(gg.train.accuracy,
            ignore_index=PAD)`` (what "auto" takes for ``functools.partial(nn.cross_entropy,
            ignore_index=PAD)``; a loss_fn of one's own needs it given).
        progress: show a tqdm progress bar with the cost and accuracy.
        initial_epoch: the number of the first epoch, to resume a run stopped after that many
            epochs: ``schedule`` goes on from that epoch's rate, and with a seed each epoch
            draws the batches and dropout masks the run not stopped would have drawn. To
            resume exactly, to the last bit, in a new process: save the model's and the
            optimizer's ``state_dict`` after epoch k (``gg.save``); later build the same model
            and optimizer, load both, and call fit with the same data, batch_size, seed and
            schedule, ``initial_epoch=k``. Epochs k to ``epochs`` then end with the parameters,
            batch norm statistics, optimizer state (v, s, Adam's t) and history (from epoch
            k) of one run of ``epochs`` epochs. Not with ``seed=None`` (no state_dict holds a
            generator's state), nor with ``patience``, whose lowest dev cost so far and best
            epoch's parameters start afresh in each call (and the model saved after it is the
            best epoch's, not the last's).

    Returns:
        the history: lists by epoch run (from ``initial_epoch``) under "cost" and
        "accuracy" (the mean over the epoch's examples as training saw them, each batch's
        weighted by its size: the course's cost_total / m), "lr" (the rate of the epoch's
        first step: with schedule_every="epoch", that of all its steps), and "dev_cost",
        "dev_accuracy" with dev_data. A batch's size is its number of examples (rows): a
        cost that is a mean over fewer positions (cross_entropy's ignore_index) is weighted
        as its batch's rows, so the epoch's figures differ a little from the mean over all
        its positions not ignored, which ``evaluate(model, loss_fn, X, Y)`` gives, as it
        gives dev_cost; a cost summed over the batch (reduction="sum") is recorded as it is,
        so it grows with batch_size (as do its gradients: the learning rate has to shrink).
        Every module's mode is put back as it was when fit was called. Training runs in
        those modes too, so a submodule put in eval mode (a frozen BatchNorm) stays frozen;
        a model left in eval mode as a whole is put in training mode.

    Raises:
        ArgumentError: a setting refused before anything is trained: a seed that is neither
            None nor a whole number >= 0, shuffle, drop_last or progress other than True or
            False, epochs below initial_epoch, patience without dev_data, a schedule asked
            per step that follows the cost or fails at the run's last step, an optimizer made
            before a layer of the model was replaced (it holds the old layer's parameters,
            not the new one's), ...
        TrainingDiverged: the cost, or a parameter's gradient, became NaN or Inf (or, with
            patience or a schedule told the dev cost, the dev cost, which the schedule is then
            not told). Training stops before that step changes the parameters;
            with patience, the model is then given the parameters of the epoch with the lowest
            dev cost so far. The error holds the history of the epochs finished
            (``.history``) and the number of the first it did not finish (``.next_epoch``), as
            the errors below do.
        TrainingInterrupted: a KeyboardInterrupt (Ctrl-C) stopped training, as it stops any
            Python code; fit re-raises it as this subclass, which holds the history of the
            epochs finished (``.history``) and the epoch to resume from (``.next_epoch``, for
            ``initial_epoch``). The model keeps the parameters of its last step (an optimizer
            step cut short may have updated some parameters and not others), every module's
            mode is put back, the progress bar is closed, and grad recording is on: call fit
            again to go on.
        GraphgradError: any other, met once training started (a batch that does not fit the
            model, a schedule's rate refused in a later epoch), with the same ``.history`` and
            ``.next_epoch``, and a message saying so once a step has changed the model; the
            model keeps the parameters of its last step and every module's mode is put
            back.
    """
    epochs, initial_epoch, patience = _fit_settings(epochs, initial_epoch, patience, dev_data)
    seed = seed_value(seed, "fit", numpy_seeds=False)  # it seeds a SeedSequence with the epoch
    shuffle = flag(shuffle, "shuffle", "fit")
    drop_last = flag(drop_last, "drop_last", "fit")
    progress = flag(progress, "progress", "fit")
    _require_model_and_loss(model, loss_fn, "fit")
    _require_shared_parameters(model, optimizer)
    if schedule is not None and not callable(schedule):
        tip = ("; a fixed rate is the optimizer's lr" if not isinstance(schedule, LRScheduler)
               else ": fit steps the schedule itself, each epoch; give it "
                    "schedule=scheduler.schedule")
        raise GraphgradTypeError(
            "fit: schedule must be a function of the epoch giving its learning rate, such as "
            f"optim.ExponentialDecay(0.1), or None, got {setting_text(schedule)}{tip}"
        )
    # A schedule that follows the cost (ReduceOnPlateau, or one's own with a step method).
    # A Warmup tells its schedule the costs after the warm-up, if that one follows them.
    followed, _ = _under_warmups(schedule)
    told = callable(getattr(followed, "step", None))
    per_step = _schedule_every(schedule_every, schedule, followed if told else None)
    if isinstance(followed, ReduceOnPlateau) and followed.mode == "max":
        raise ArgumentError(
            "fit: the ReduceOnPlateau schedule has mode='max', but fit gives it the dev cost "
            "(the training cost without dev_data), which should go down: make it with "
            "mode='min'; to follow an accuracy, write the loop and call schedule.step(accuracy)")
    if _is_X_and_Y(data):
        loader: Any = DataLoader(data[0], data[1], batch_size=batch_size, shuffle=shuffle,
                                 seed=seed, drop_last=drop_last)
    else:
        loader = _reiterable(data, epochs - initial_epoch)
    momentum = momentum_setting(schedule, optimizer, "fit")
    step_rates = (_StepRates(schedule, optimizer, loader, epochs, initial_epoch, momentum)
                  if per_step else None)
    history: dict[str, list[float]] = {"cost": [], "accuracy": [], "lr": []}
    if dev_data is not None:
        history["dev_cost"], history["dev_accuracy"] = [], []
    epoch_run = _Epoch(model, loss_fn, optimizer, loader, accuracy, history, step_rates)
    best = _BestEpoch(patience) if patience is not None else None
    modes, bar, first_step = _modes(model), None, optimizer.t
    default_rng = initializers._default["rng"]  # reseeded each epoch with a seed: given back
    try:  # from here on, an interrupt (Ctrl-C) puts the modes back and closes the bar
        if not model.training:  # left in eval mode to predict: the whole model trains
            model.train()
        training_modes = _modes(model)  # a submodule frozen in eval mode stays frozen
        bar = _progress_bar(epochs, initial_epoch, progress)
        for epoch in range(initial_epoch, epochs):
            if schedule is not None and not per_step:
                optimizer.lr = _checked_rate(schedule(epoch), f"schedule({epoch})")
                if momentum:
                    set_momentum(optimizer, momentum, schedule.momentum(epoch))
            if seed is not None:
                _reseed(model, loader, seed, epoch)
            _restore_modes(training_modes)
            epoch_run.train(epoch)
            history["lr"].append(step_rates.first if step_rates is not None else optimizer.lr)
            if dev_data is not None:
                dev_cost, dev_acc = evaluate(model, loss_fn, *dev_data, accuracy=accuracy)
                history["dev_cost"].append(dev_cost)
                history["dev_accuracy"].append(dev_acc)
            if told:
                if dev_data is not None:  # a training cost's NaN stopped the epoch already
                    _check_dev_cost(history, epoch, f"the schedule {type(followed).__name__}")
                schedule.step(history["dev_cost" if dev_data is not None else "cost"][-1])
            if bar is not None:
                bar.set_postfix(_postfix(history), refresh=False)
                bar.update(1)
            if best is not None and best.waited_enough(model, history, epoch):
                break
        if best is not None:
            best.restore(model)
    except TrainingDiverged as diverged:
        if best is None or best.state is None:
            _tell_progress(diverged, history, initial_epoch, optimizer.t - first_step)
            raise
        best.restore(model)  # the best epoch's, as patience promises
        restored = TrainingDiverged(
            f"{diverged} The model now has the parameters of epoch {best.epoch}, the one with "
            f"the lowest dev cost ({best.cost:.6g}).", history)
        restored.next_epoch = initial_epoch + _finished_epochs(history)
        raise restored from None
    except GraphgradError as error:  # bad input met on the way: a batch, a schedule's rate
        _tell_progress(error, history, initial_epoch, optimizer.t - first_step)
        raise
    except KeyboardInterrupt as interrupt:
        if isinstance(interrupt, TrainingInterrupted):
            raise
        done = _finished_epochs(history)
        raise TrainingInterrupted(
            f"fit was interrupted with {_what_is_kept(done)}. To go on, call fit again with "
            f"initial_epoch={initial_epoch + done}.", history, initial_epoch + done) from interrupt
    finally:
        initializers._default["rng"] = default_rng
        try:
            _restore_modes(modes)
        finally:  # an interrupt as the modes are put back still closes the bar
            if bar is not None:
                bar.close()
    return history


def _under_warmups(schedule: Any) -> tuple[Any, list[int]]:
    """The schedule behind the warm-ups (`optim.Warmup`) wrapping ``schedule`` (itself without
    any), and their lengths in steps, outermost first."""
    warmups = []
    while isinstance(schedule, Warmup):
        warmups.append(schedule.warmup)
        schedule = schedule.schedule
    return schedule, warmups


def _checked_rate(rate: Any, what: str) -> float:
    """A schedule's ``rate``, refused unless a learning rate (>= 0 and finite), as
    ``optimizer.lr = alpha`` refuses one; ``what`` names it in the message."""
    test, _ = _rule("lr", later=True)
    return real_number(rate, what, "fit", test, "a learning rate, >= 0 and finite")


SCHEDULE_EVERY = ("epoch", "step")


def _schedule_every(every: Any, schedule: Any, follows_cost: Any) -> bool:
    """fit's schedule_every, checked: True for "step". A schedule told the cost after each
    epoch (``follows_cost``, ReduceOnPlateau) has no rate per step."""
    if not isinstance(every, str) or every not in SCHEDULE_EVERY:
        raise ArgumentError(
            "fit: schedule_every must be 'epoch' (schedule(epoch) before each epoch, the "
            "default) or 'step' (schedule(step) before each optimizer step), got "
            f"{setting_text(every)}")
    if every == "epoch":
        return False
    if schedule is None:
        raise ArgumentError(
            "fit: schedule_every='step' sets the learning rate from a schedule before each "
            "optimizer step, but no schedule was given: pass schedule=..., such as "
            "optim.OneCycle(0.1, total_steps=epochs * batches per epoch)")
    if follows_cost is not None:
        raise ArgumentError(
            f"fit: the schedule {type(follows_cost).__name__} follows the cost, told once per "
            "epoch through its step(cost) method, so it has no rate of its own for each "
            "optimizer step: use schedule_every='epoch' (the default) with it")
    return True


class _StepRates:
    """A schedule asked for the rate of every optimizer step (fit's schedule_every="step").

    Batch b of epoch e is step e * n + b, n the batches per epoch, ``len(loader)`` taken
    once: found from the epoch and the batch alone, it is the step a run not stopped took
    there, where a counter would start again from 0 in a resumed run. ``first`` is the rate
    of the epoch's first step, for the history.
    """

    def __init__(self, schedule: Callable[[int], float], optimizer: Optimizer, loader: Any,
                 epochs: int, initial_epoch: int, momentum: str = "") -> None:
        try:
            per_epoch = len(loader)
        except TypeError:
            if isinstance(loader, DataLoader) and isinstance(loader.dataset, IterableDataset):
                raise ArgumentError(
                    "fit: schedule_every='step' counts optimizer steps across epochs as epoch "
                    "* (batches per epoch) + batch, but the loader's data set "
                    f"({type(loader.dataset).__name__}) is an IterableDataset with no len(); "
                    "give it a __len__ (its number of examples)") from None
            raise ArgumentError(
                f"fit: schedule_every='step' counts optimizer steps across epochs as epoch * "
                f"(batches per epoch) + batch, but data ({_what(loader)}) has no len() to say "
                "how many batches an epoch gives: pass (X, Y), a DataLoader or a list of "
                "(X_batch, Y_batch) pairs, or give your loader a __len__") from None
        self.schedule, self.optimizer, self.per_epoch = schedule, optimizer, per_epoch
        self.momentum = momentum  # the setting the schedule cycles, "" for none
        self.first = math.nan
        steps = epochs * per_epoch
        if initial_epoch < epochs and per_epoch:  # no batches: the epoch says so itself
            self._check_length(steps, epochs)

    def _check_length(self, steps: int, epochs: int) -> None:
        """Ask for the rate of the run's last step before training, so that a schedule made
        for fewer steps (OneCycle refuses steps past its total_steps) stops fit before the
        first step rather than in a later epoch."""
        last = steps - 1
        try:
            rate = self.schedule(last)
        except Exception as error:
            # Behind Warmups, the schedule is asked for the steps after them only: one made
            # for the whole run would never reach its end (OneCycle its least rate).
            inner, warmups = _under_warmups(self.schedule)
            # A chain whose last schedule ends (the others' lengths are checked when it is made)
            if isinstance(inner, Chain) and steps_of(inner.schedules[-1]) is not None:
                self._refuse_chain(inner, warmups, steps, epochs, error)
            length = getattr(inner, "total_steps", None)
            made = f"made for total_steps = {length}" if isinstance(length, int) else ""
            hint = (f"Make it for the run's {steps} steps, epochs x batches per epoch: e.g. "
                    f"optim.OneCycle(max_lr, total_steps={steps}).")
            if warmups:
                name = type(inner).__name__
                made = (f"a Warmup of {' + '.join(map(str, warmups))} steps before a {name}"
                        + (f" {made}" if made else ""))
                after = steps - sum(warmups)
                hint = (f"Make the {name} for the {after} steps after the warm-up, the run's "
                        f"{steps} (epochs x batches per epoch) less {sum(warmups)}: e.g. "
                        + "optim.Warmup(" * len(warmups)
                        + f"optim.OneCycle(max_lr, total_steps={after})"
                        + "".join(f", {w})" for w in reversed(warmups)) + ".")
            raise ArgumentError(
                f"fit: with schedule_every='step', a run of epochs={epochs} with "
                f"{self.per_epoch} batches per epoch takes {steps} optimizer steps, 0 to {last}, "
                f"but the schedule{f' ({made})' if made else ''} fails at step {last}: "
                f"{error}\n  {hint}") from error
        _checked_rate(rate, f"schedule({last}), the rate of the run's last step,")

    def _refuse_chain(self, chain: Chain, warmups: list[int], steps: int, epochs: int,
                      error: Exception) -> None:
        """`_check_length`'s error for a `Chain` (behind ``warmups``) whose last schedule
        ends before the run: the steps that schedule should have, the run's after the
        warm-ups, the chain's last milestone and its own warm-ups."""
        last, own = _under_warmups(chain.schedules[-1])
        start = sum(warmups) + chain.milestones[-1]
        after = steps - start - sum(own)
        length = getattr(last, "total_steps", None)
        made = f" (made for total_steps = {length})" if isinstance(length, int) else ""
        before = f" after its {' + '.join(map(str, own))} warm-up steps" if own else ""
        raise ArgumentError(
            f"fit: with schedule_every='step', a run of epochs={epochs} with {self.per_epoch} "
            f"batches per epoch takes {steps} optimizer steps, 0 to {steps - 1}, but the "
            f"Chain's last schedule, a {type(last).__name__}{made} from step {start}, fails at "
            f"the run's step {steps - 1}: {error}\n  Make it for the {after} steps from step "
            f"{start}{before} to the run's end: e.g. optim.{type(last).__name__}(max_lr, "
            f"total_steps={after}).") from error

    def set(self, epoch: int, batch: int) -> None:
        """Set the optimizer's rate for batch ``batch`` of epoch ``epoch``."""
        if batch >= self.per_epoch:
            raise ArgumentError(
                f"fit: epoch {epoch} gave a batch {batch}, but len(data) = {self.per_epoch} "
                f"batches per epoch: with schedule_every='step', batch b of epoch e is step "
                f"e * {self.per_epoch} + b, so this batch would take a step of epoch "
                f"{epoch + 1}'s. Make len(data) the most batches an epoch gives (an epoch "
                "giving fewer leaves the rest of its steps out)")
        step = epoch * self.per_epoch + batch
        rate = _checked_rate(self.schedule(step),
                             f"schedule({step}), the rate of epoch {epoch}'s batch {batch},")
        self.optimizer.lr = rate
        if self.momentum:
            set_momentum(self.optimizer, self.momentum, self.schedule.momentum(step))
        if batch == 0:
            self.first = rate


def _finished_epochs(history: dict[str, list[float]]) -> int:
    """The epochs finished, with the records of one cut short between them dropped."""
    done = min(map(len, history.values()))
    for values in history.values():
        del values[done:]
    return done


def _tell_progress(error: GraphgradError, history: dict[str, list[float]],
                   initial_epoch: int, steps: int) -> None:
    """Give an error that stopped training the history so far (``.history``) and the epoch to
    resume from (``.next_epoch``), as `TrainingInterrupted` has them, and, once ``steps``
    optimizer steps have changed the model, say so in its message: calling fit again from
    the start would not be the run that never failed."""
    if hasattr(error, "next_epoch"):  # told already: the same error raised again
        return
    done = _finished_epochs(history)
    error.history, error.next_epoch = history, initial_epoch + done  # type: ignore[attr-defined]
    if steps and len(error.args) == 1 and isinstance(error.args[0], str):
        error.args = (
            f"{error.args[0]}\n  fit stopped in epoch {initial_epoch + done}, after {steps} "
            f"optimizer step{'s' * (steps != 1)}, with {_what_is_kept(done)}. Once this is "
            f"fixed, call fit again with initial_epoch={initial_epoch + done} to go on.",)


def _what_is_kept(done: int) -> str:
    """What fit, stopped by an error or an interrupt, leaves: ``done`` epochs' history, and
    the model as its last step made it."""
    return (f"{done} epoch{'s' * (done != 1)} finished (their history is this error's "
            ".history); the model keeps the parameters of its last step")


def _fit_settings(epochs: Any, initial_epoch: Any, patience: Any,
                  dev_data: Any) -> tuple[int, int, int | None]:
    """fit's epochs, initial_epoch and patience, checked, and dev_data's form."""
    epochs = whole_number(epochs, "epochs", "fit", least=0)
    initial_epoch = whole_number(initial_epoch, "initial_epoch", "fit", least=0)
    if epochs < initial_epoch:
        raise ArgumentError(
            f"fit: epochs={epochs} is below initial_epoch={initial_epoch}; epochs is the "
            "number of the epoch to stop before, as in Keras: to train 5 more epochs after "
            f"epoch {initial_epoch}, pass epochs={initial_epoch + 5}"
        )
    if patience is not None:
        patience = whole_number(patience, "patience (epochs without a lower dev cost)", "fit")
        if dev_data is None:
            raise ArgumentError(
                f"fit: patience={patience} stops training when the dev cost stops improving, "
                "so it needs dev_data=(X_dev, Y_dev)"
            )
    if dev_data is not None:
        if not isinstance(dev_data, (tuple, list)) or len(dev_data) != 2:
            raise ArgumentError(f"fit: dev_data must be a pair (X_dev, Y_dev), got "
                                f"{_what(dev_data)}")
        _require_examples(*dev_data, "fit's dev_data")
    return epochs, initial_epoch, patience


class _Epoch:
    """One pass over the batches: the course's step on each (forward, cost, backward,
    update), stopping before an update that a NaN or Inf would poison, and the epoch's mean
    cost and accuracy added to the history."""

    def __init__(self, model: Module, loss_fn: Callable, optimizer: Optimizer, loader: Any,
                 accuracy: Any, history: dict[str, list[float]],
                 step_rates: _StepRates | None = None) -> None:
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.loader, self.accuracy, self.history = loader, accuracy, history
        self.step_rates = step_rates  # set the rate before each step, else fit did per epoch
        self.kind: Any = "unknown"  # the accuracy's, found from the first batch's outputs

    def train(self, epoch: int) -> None:
        model, loss_fn, optimizer, history = self.model, self.loss_fn, self.optimizer, self.history
        step_rates = self.step_rates
        total_cost = total_correct = 0.0
        seen = 0
        # The model's parameters the optimizer does not hold (a layer left out of it, not
        # frozen) get gradients too: reset with the optimizer's, they would pile up over the
        # steps, and be a sum of every step's once the layer is added to the optimizer.
        held = {id(p) for p in optimizer.params}
        others = [p for p in model.parameters() if id(p) not in held]
        for batch, pair in enumerate(self.loader):
            X_batch, Y_batch = _batch_pair(pair, batch)
            if step_rates is not None:  # before the forward: a NaN's message shows the rate
                step_rates.set(epoch, batch)
            outputs = model(X_batch)
            J = loss_fn(outputs, Y_batch)
            cost = _cost_value(J)
            if not math.isfinite(cost):
                raise TrainingDiverged(_diverged_message(cost, epoch, batch, optimizer), history)
            # measured before the step, so labels the accuracy refuses stop fit before the
            # first step changes the model
            out = outputs.data if isinstance(outputs, Tensor) else np.asarray(outputs)
            if self.kind == "unknown":
                self.kind = _accuracy_kind(loss_fn, self.accuracy, out)
            correct = _measure(self.kind, out, np.asarray(Y_batch)) if self.kind is not None else 0
            optimizer.zero_grad()
            for p in others:
                p.grad = None
            J.backward(keep_intermediate_grads=False)
            poisoned = _nonfinite_gradient(optimizer.params)
            if poisoned is not None:
                raise TrainingDiverged(
                    _bad_gradient_message(model, poisoned, cost, epoch, batch), history)
            optimizer.step()
            m = len(X_batch)
            seen += m
            total_cost += cost * m
            total_correct += correct * m
        if seen == 0:
            raise ArgumentError(_no_batches_message(self.loader))
        history["cost"].append(total_cost / seen)
        history["accuracy"].append(total_correct / seen if self.kind is not None else math.nan)


def _check_dev_cost(history: dict[str, list[float]], epoch: int, who: str) -> None:
    """Stop (`TrainingDiverged`) at a dev cost of NaN or Inf, which ``who`` (early stopping,
    a schedule such as ReduceOnPlateau) would compare with the others: a NaN is never lower,
    so it would count as an epoch without progress, and training would go on."""
    dev_cost = history["dev_cost"][-1]
    if not math.isfinite(dev_cost):
        raise TrainingDiverged(
            f"fit: the dev cost of epoch {epoch} is {dev_cost}, so {who} cannot compare it "
            f"with the others (the training cost is {history['cost'][-1]:.6g}). Look for NaN "
            "or Inf in X_dev, or for a loss taking the log of a prediction of exactly 0 or 1 "
            "(the losses from logits stay finite).", history)


class _BestEpoch:
    """Early stopping: the epoch with the lowest dev cost so far, its state, and how many
    epochs have gone by without a lower one."""

    def __init__(self, patience: int) -> None:
        self.patience = patience
        self.cost, self.epoch, self.waited = math.inf, 0, 0
        self.state: dict[str, np.ndarray] | None = None

    def waited_enough(self, model: Module, history: dict[str, list[float]], epoch: int) -> bool:
        """Record this epoch's dev cost; True once ``patience`` epochs went by without a new
        lowest."""
        _check_dev_cost(history, epoch, "early stopping")
        dev_cost = history["dev_cost"][-1]
        if dev_cost < self.cost:
            self.cost, self.state, self.epoch, self.waited = dev_cost, model.state_dict(), epoch, 0
            return False
        self.waited += 1
        return self.waited >= self.patience

    def restore(self, model: Module) -> None:
        if self.state is not None:
            model.load_state_dict(self.state)


def _require_shared_parameters(model: Module, optimizer: Optimizer) -> None:
    """An optimizer made with another model's parameters would step them, never the model's
    (whose gradients pile up): the cost would stay where it is. One made before a layer was
    replaced would never step the new layer."""
    if not isinstance(optimizer, Optimizer):
        raise GraphgradTypeError(f"fit: optimizer must be an optimizer such as optim.SGD("
                                 f"model.parameters(), lr=0.1), got {type(optimizer).__name__}")
    if isinstance(optimizer, LBFGS):
        # Refused here, before the progress bar and the first batch: fit calls step() once
        # per mini-batch, where LBFGS evaluates the cost several times per step.
        raise GraphgradTypeError(
            "fit: LBFGS needs step(closure), a function it calls several times per step to "
            "evaluate the cost (on the whole data set: its model of the cost does not hold "
            "for mini-batches), and fit steps once per batch without one: write the loop:\n"
            "    def closure():\n"
            "        optimizer.zero_grad()\n"
            "        J = loss_fn(model(X), Y)\n"
            "        J.backward()\n"
            "        return J\n"
            "    for epoch in range(epochs):\n"
            "        J = optimizer.step(closure)  # the cost before the step")
    named = model.named_parameters()
    ours = {id(p) for _, p in named}
    if ours and not any(id(p) in ours for p in optimizer.params):
        raise ArgumentError(
            f"fit: the optimizer's {len(optimizer.params)} parameters are none of the model's "
            f"{len(ours)}, so training would not change the model; make the optimizer with "
            "this model's parameters: optim.SGD(model.parameters(), lr=...)"
        )
    # A layer replaced after the optimizer was made: the optimizer steps the old layer's
    # parameters, which no longer get gradients, and the new layer's never. (An optimizer over
    # some of the model's parameters only, the others left out on purpose, holds no old ones.)
    old = [p for p in optimizer.params if id(p) not in ours]
    theirs = {id(p) for p in optimizer.params}
    left_out = [name for name, p in named if p.requires_grad and id(p) not in theirs]
    if old and left_out:
        shown = ", ".join(left_out[:4]) + (f" and {len(left_out) - 4} more"
                                            if len(left_out) > 4 else "")
        raise ArgumentError(
            f"fit: the model's {shown} require grad but are not the optimizer's, and "
            f"{len(old)} of the optimizer's ({describe(old[0])}"
            f"{', ...' if len(old) > 1 else ''}) are no longer the model's: was a layer "
            "replaced after the optimizer was made? Its new parameters would never be updated. "
            "Make a new optimizer: optim.SGD(model.parameters(), lr=...) (or add them with "
            "optimizer.add_param_group({'params': layer.parameters()})), or freeze them "
            "(layer.requires_grad_(False))."
        )


def _what(value: Any) -> str:
    """A value's type and size, for messages about data of the wrong form."""
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"{type(value).__name__} of shape {tuple(shape)}"
    if isinstance(value, (tuple, list)):
        return f"{type(value).__name__} of {len(value)} items"
    return type(value).__name__


def _is_X_and_Y(data: Any) -> bool:
    """(X, Y) or [X, Y]; not two (X_batch, Y_batch) pairs of arrays, in a tuple or a list."""
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        return False
    return not all(isinstance(part, (tuple, list)) and len(part) == 2
                   and all(isinstance(a, (np.ndarray, Tensor)) for a in part) for part in data)


def _reiterable(data: Any, epochs: int) -> Any:
    """``data`` itself, once it is sure to give its batches again every epoch."""
    try:
        iterator = iter(data)
    except TypeError:
        raise GraphgradTypeError(
            f"fit: data must be (X, Y), a DataLoader or a list of (X_batch, Y_batch) pairs, "
            f"got {_what(data)}"
        ) from None
    if iterator is data and epochs > 1:
        raise ArgumentError(
            f"fit: data is an iterator (a generator?), which gives its batches only once, but "
            f"epochs={epochs} needs them every epoch; pass (X, Y), a DataLoader, or a list of "
            "the (X_batch, Y_batch) pairs"
        )
    return data


def _batch_pair(pair: Any, batch: int) -> tuple[Any, Any]:
    try:
        X_batch, Y_batch = pair
    except (TypeError, ValueError):
        raise ArgumentError(
            f"fit: batch {batch} of data ({_what(pair)}) is not an (X_batch, Y_batch) pair; "
            "pass data as (X, Y), a DataLoader, or a list of (X_batch, Y_batch) pairs"
        ) from None
    return X_batch, Y_batch


def _nonfinite_gradient(params: list[Tensor]) -> Tensor | None:
    """The first parameter whose gradient holds a NaN or Inf, or None.

    One sum per parameter keeps this cheap in the inner loop: a NaN or Inf anywhere makes
    the total non-finite. Only then is each gradient looked at element by element, since
    finite gradients large enough can also make the total overflow.
    """
    total = 0.0
    with np.errstate(over="ignore"):  # float32 overflows at 3.4e38: no warning for that
        for p in params:
            if p.grad is not None:
                total += float(np.add.reduce(p.grad, axis=None))
    if math.isfinite(total):
        return None
    return next((p for p in params if p.grad is not None and not np.isfinite(p.grad).all()),
                None)


def _no_batches_message(loader: Any) -> str:
    message = "fit: the data gave no batches"
    if not isinstance(loader, DataLoader) or loader.sampler is not None or \
            loader.batch_sampler is not None or isinstance(loader.dataset, IterableDataset):
        # a sampler's indices are the sampler's; a stream's examples, the stream's
        return message
    if loader.m:  # drop_last with fewer than a batch
        return (f"{message}: drop_last=True leaves out all {loader.m} examples, fewer than "
                f"batch_size={loader.batch_size}; use a smaller batch_size")
    held = (f"X of shape {np.shape(loader.X)}" if hasattr(loader, "X")
            else f"the data set ({type(loader.dataset).__name__})")
    return f"{message}: {held} holds no examples; give at least one row"


def _cost_value(J: Any, caller: str = "fit") -> float:
    if not isinstance(J, Tensor) or J.data.size != 1:
        shape = getattr(J, "shape", None)
        raise GraphgradTypeError(
            f"{caller}: loss_fn must return the cost J as a one-element Tensor, got "
            f"{type(J).__name__}{f' of shape {shape}' if shape is not None else ''}; "
            "reduce it with .mean() or use one of nn's losses (nn's losses with "
            "reduction=\"none\" give one loss per example: weight or mask them in loss_fn "
            "and return their .mean())"
        )
    return J.data.item()  # J may be (1,) or (1, 1): the course's cost before np.squeeze


def _diverged_message(cost: float, epoch: int, batch: int, optimizer: Optimizer) -> str:
    return (
        f"fit: the cost became {cost} at epoch {epoch}, batch {batch}, with learning rate "
        f"{optimizer.lr:g}; training stopped before that step changed the parameters. Try a "
        "smaller learning rate, standardised inputs, or a loss on logits (cross_entropy, "
        "binary_cross_entropy_with_logits) instead of one on probabilities; "
        "gg.detect_anomaly() shows the op that made the first NaN."
    )


def _bad_gradient_message(model: Module, parameter: Tensor, cost: float, epoch: int,
                          batch: int) -> str:
    names = {id(p): name for name, p in model.named_parameters()}
    name = names.get(id(parameter), parameter.name or "unnamed")
    return (
        f"fit: the gradient of parameter {name!r} {parameter.shape} holds NaN or Inf at epoch "
        f"{epoch}, batch {batch}, though the cost {cost:.6g} is finite; training stopped before "
        "that step changed the parameters. An op's derivative is infinite where the cost is "
        "not: sqrt or a power below 1 at 0 (an RMSE of 0), log at 0, or an overflow in "
        "backward. gg.detect_anomaly() shows the op that made the first NaN or Inf."
    )


def _postfix(history: dict[str, list[float]]) -> dict[str, str]:
    shown = {"cost": f"{history['cost'][-1]:.4f}"}
    if not math.isnan(history["accuracy"][-1]):
        shown["acc"] = f"{history['accuracy'][-1]:.3f}"
    if "dev_cost" in history:
        shown["dev_cost"] = f"{history['dev_cost'][-1]:.4f}"
        if not math.isnan(history["dev_accuracy"][-1]):
            shown["dev_acc"] = f"{history['dev_accuracy'][-1]:.3f}"
    return shown
