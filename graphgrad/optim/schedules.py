"""Learning-rate decay: the learning rate alpha as a function of the epoch number (from 0).

Each schedule is a small callable, ``schedule(epoch) -> alpha``; `fit` sets
``optimizer.lr = schedule(epoch)`` before every epoch (or ``schedule(step)`` before every
optimizer step, with ``schedule_every="step"``), or do it yourself in your loop. With
parameter groups, each group's lr keeps its ratio to the optimizer's ``lr`` keyword: give the
schedule alpha0 = that keyword's value. `Warmup` puts a linear warm-up before any schedule.
`ReduceOnPlateau` is the one that also depends on how training goes: it has a ``step(cost)``
method, which `fit` calls after each epoch with the dev cost, and a state dict. Depends on
`errors`.

A schedule maps a count to a rate, whatever the count is: `fit` counts epochs, or optimizer
steps with ``schedule_every="step"`` (from 0 across epochs: batch b of epoch e is step
e * batches per epoch + b). The schedules made for steps (PyTorch's `OneCycle` and `Cyclic`,
stepped after every batch there) are used so in `fit`, or per step in one's own loop,
``optimizer.lr = schedule(step)`` before each ``optimizer.step()``, or per epoch in `fit` with
their lengths given in epochs.

So `fit`'s epoch e trains with schedule(e), the first with alpha0. The course's model()
decays after each epoch instead (``learning_rate = update_lr(learning_rate0, i, decay_rate)``
once epoch i is done): its epoch e trains with update_lr(alpha0, e - 1), and its first two
epochs both with alpha0. To repeat its run, shift the schedule by one epoch::

    decay = optim.InverseTimeDecay(alpha0, decay_rate)
    gg.fit(..., schedule=lambda epoch: decay(max(epoch - 1, 0)))
"""
from __future__ import annotations

import bisect
import math
import numbers
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    GraphgradTypeError,
    listed,
    not_a_state_error,
    real_number,
    setting_text,
    whole_number,
)

__all__ = ["CosineDecay", "Cyclic", "ExponentialDecay", "InverseSqrtDecay", "InverseTimeDecay",
           "MultiStepDecay", "OneCycle", "ReduceOnPlateau", "Schedule", "StepDecay", "Warmup"]


def _positive(x: float) -> bool:
    return 0.0 < x < math.inf


def _in_0_1(x: float) -> bool:
    return 0.0 < x <= 1.0


class Schedule:
    """Base class: alpha0, and ``schedule(epoch)``, the learning rate of an epoch counted
    from 0, which subclasses give as ``_rate(epoch)``."""

    def __init__(self, alpha0: float) -> None:
        self.alpha0 = real_number(alpha0, "alpha0", type(self).__name__, _positive, "positive")

    def __call__(self, epoch: int) -> float:
        return self._rate(whole_number(epoch, "the epoch (counted from 0)", type(self).__name__,
                                       least=0))

    def _rate(self, epoch: int) -> float:
        raise NotImplementedError

    def __repr__(self) -> str:
        # Numbers as %g; what a schedule of one's own keeps besides (a list of milestones, a
        # flag, a function) by its repr: :g refuses a list, and shows True as 1.
        settings = ", ".join(
            f"{k}={v:g}" if isinstance(v, numbers.Real) and not isinstance(v, bool)
            else f"{k}={v!r}"
            for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({settings})"


class InverseTimeDecay(Schedule):
    """The course's decay: alpha = alpha0 / (1 + decay_rate * epoch).

    With ``time_interval=k`` the epoch count is floored to whole intervals, the course's
    staircase version (``schedule_lr_decay``): alpha0 / (1 + decay_rate * floor(epoch / k)).
    """

    def __init__(self, alpha0: float, decay_rate: float, time_interval: int = 1) -> None:
        super().__init__(alpha0)
        self.decay_rate = real_number(decay_rate, "decay_rate", "InverseTimeDecay",
                                      lambda x: 0.0 <= x < math.inf, ">= 0")
        self.time_interval = whole_number(time_interval, "time_interval", "InverseTimeDecay")

    def _rate(self, epoch: int) -> float:
        return self.alpha0 / (1.0 + self.decay_rate * (epoch // self.time_interval))


class ExponentialDecay(Schedule):
    """alpha = alpha0 * rate**epoch (the course's 0.95**epoch * alpha0)."""

    def __init__(self, alpha0: float, rate: float = 0.95) -> None:
        super().__init__(alpha0)
        self.rate = real_number(rate, "rate", "ExponentialDecay", _in_0_1, "in (0, 1]")

    def _rate(self, epoch: int) -> float:
        return self.alpha0 * self.rate ** epoch


class StepDecay(Schedule):
    """Staircase decay: alpha = alpha0 * factor**floor(epoch / every), e.g. halve every 10."""

    def __init__(self, alpha0: float, factor: float = 0.5, every: int = 10) -> None:
        super().__init__(alpha0)
        self.factor = real_number(factor, "factor", "StepDecay", _in_0_1, "in (0, 1]")
        self.every = whole_number(every, "every", "StepDecay")

    def _rate(self, epoch: int) -> float:
        return self.alpha0 * self.factor ** (epoch // self.every)


class InverseSqrtDecay(Schedule):
    """The course's other form: alpha = k / sqrt(epoch + 1) * alpha0 (epochs counted from 0)."""

    def __init__(self, alpha0: float, k: float = 1.0) -> None:
        super().__init__(alpha0)
        self.k = real_number(k, "k", "InverseSqrtDecay", _positive, "positive")

    def _rate(self, epoch: int) -> float:
        return self.k / math.sqrt(epoch + 1) * self.alpha0


class CosineDecay(Schedule):
    """Linear warm-up, then half a cosine from alpha0 down to alpha_min, as the Transformer
    recipes train (Hugging Face's get_cosine_schedule_with_warmup, Keras's CosineDecay with
    warmup_steps; PyTorch's LinearLR then CosineAnnealingLR)::

        epoch < warmup:   alpha = alpha0 * epoch / warmup           (from 0 up to alpha0)
        after:            alpha = alpha_min + (alpha0 - alpha_min) * (1 + cos(pi p)) / 2,
                          p = (epoch - warmup) / (total - warmup), alpha_min from p = 1 on

    Args:
        alpha0: the learning rate at the top, reached at epoch ``warmup``.
        total: the epoch at which the cosine reaches alpha_min, counted from 0, warm-up
            included (the run's length, for a schedule that ends at its last epoch).
        warmup: epochs of linear warm-up, 0 (the default) for none; fewer than ``total``.
            The first warm-up epoch trains with alpha = 0, as Hugging Face's does.
        alpha_min: the learning rate at the end (PyTorch's eta_min), 0 by default; at most
            alpha0.

    A schedule is a function of a count: to warm up and decay by steps (mini-batches) rather
    than epochs, give ``total`` and ``warmup`` in steps and pass ``schedule_every="step"`` to
    `fit`, or set ``optimizer.lr = schedule(step)`` before each ``optimizer.step()``.
    """

    def __init__(self, alpha0: float, total: int, warmup: int = 0,
                 alpha_min: float = 0.0) -> None:
        super().__init__(alpha0)
        self.total = whole_number(total, "total", "CosineDecay")
        self.warmup = whole_number(warmup, "warmup", "CosineDecay", least=0)
        if self.warmup >= self.total:
            raise ArgumentError(f"CosineDecay: warmup ({self.warmup}) must be fewer epochs "
                                f"than total ({self.total}), which counts the warm-up too")
        self.alpha_min = real_number(alpha_min, "alpha_min", "CosineDecay",
                                     lambda x: 0.0 <= x <= self.alpha0,
                                     f"in [0, alpha0 = {self.alpha0:g}]")

    def _rate(self, epoch: int) -> float:
        if epoch < self.warmup:
            return self.alpha0 * epoch / self.warmup
        p = min((epoch - self.warmup) / (self.total - self.warmup), 1.0)
        return self.alpha_min + (self.alpha0 - self.alpha_min) * (1.0 + math.cos(math.pi * p)) / 2


class OneCycle(Schedule):
    """The 1cycle policy (Smith and Topin), as PyTorch's OneCycleLR computes the learning
    rate: up from max_lr / div_factor to max_lr over the first pct_start of the steps, then
    down to max_lr / (div_factor final_div_factor), by half cosines (or straight lines)::

        initial = max_lr / div_factor;   least = initial / final_div_factor
        top = pct_start * total_steps - 1          (the step at which it reaches max_lr)
        step <= top:  from initial to max_lr,  p = step / top
        after:        from max_lr to least,    p = (step - top) / (total_steps - 1 - top)
        "cos":  alpha = end + (start - end) (1 + cos(pi p)) / 2;  "linear": start + (end - start) p

    PyTorch steps it after every batch: its ``total_steps`` (or epochs * steps_per_epoch)
    counts optimizer steps, and so does this one's when it is used per step: in `fit` with
    ``schedule_every="step"`` and ``total_steps = epochs * batches per epoch`` (``epochs *
    len(loader)``), or in one's own loop (``optimizer.lr = schedule(step)`` before each
    ``optimizer.step()``, step from 0). In `fit` per epoch (the default), give
    ``total_steps=epochs``: one cycle over the epochs, each trained with one rate. Steps from
    total_steps on are refused (the cycle is over; PyTorch refuses them past total_steps).
    With a step of 0 length up (the first phase ending at step 0, where PyTorch divides by
    zero), step 0 takes max_lr.

    PyTorch's OneCycleLR also cycles the momentum (beta1 for Adam) the other way, from 0.95 to
    0.85 and back, unless ``cycle_momentum=False``: this is its learning rate alone, PyTorch's
    with ``cycle_momentum=False``. With parameter groups, make the optimizer with
    ``lr=max_lr``: each group keeps its ratio to it (see `Optimizer`), so a group made with
    its own lr L peaks at L, as PyTorch's OneCycleLR with a list of max_lr, one per group (a
    single max_lr there gives every group the same rates).

    Args:
        max_lr: the highest rate, reached at step ``pct_start * total_steps - 1``.
        total_steps: the steps of the cycle (at least 1), the run's length.
        pct_start: the share of the steps spent going up, in [0, 1].
        anneal: "cos" (PyTorch's default) or "linear" (PyTorch's anneal_strategy).
        div_factor: the first rate is max_lr / div_factor (25, PyTorch's).
        final_div_factor: the last rate is the first over it (1e4, PyTorch's).
    """

    def __init__(self, max_lr: float, total_steps: int, pct_start: float = 0.3,
                 anneal: str = "cos", div_factor: float = 25.0,
                 final_div_factor: float = 1e4) -> None:
        name = "OneCycle"
        self.max_lr = real_number(max_lr, "max_lr", name, _positive, "positive")
        self.total_steps = whole_number(total_steps, "total_steps", name)
        self.pct_start = real_number(pct_start, "pct_start", name, lambda x: 0.0 <= x <= 1.0,
                                     "in [0, 1]")
        if anneal not in ("cos", "linear"):
            raise ArgumentError(f"{name}: anneal must be 'cos' (half a cosine) or 'linear', got "
                                f"{setting_text(anneal)}")
        self.anneal = anneal
        self.div_factor = real_number(div_factor, "div_factor", name, _positive, "positive")
        self.final_div_factor = real_number(final_div_factor, "final_div_factor", name,
                                            _positive, "positive")

    def _rate(self, step: int) -> float:
        if step >= self.total_steps:
            raise ArgumentError(
                f"OneCycle: step {step} is past the cycle, made for total_steps = "
                f"{self.total_steps} (steps 0 to {self.total_steps - 1}): give total_steps = "
                "the run's length, in optimizer steps (epochs x batches per epoch) when it is "
                "asked per step (fit's schedule_every='step'), in epochs when per epoch")
        initial = self.max_lr / self.div_factor
        # PyTorch's phases, in its floats: the first ends at pct_start * total_steps - 1.
        top = float(self.pct_start * self.total_steps) - 1
        last = self.total_steps - 1
        if step <= top:
            start, end, p = initial, self.max_lr, step / top if top else 1.0
        else:
            start, end = self.max_lr, initial / self.final_div_factor
            p = (step - top) / (last - top)
        if self.anneal == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * p) + 1)
        return (end - start) * p + start


class Cyclic(Schedule):
    """A cyclical learning rate (Smith), as PyTorch's CyclicLR computes it: up from base_lr to
    max_lr in ``step_size_up`` steps, down in ``step_size_down``, again and again::

        cycle = floor(1 + step / (up + down));   x = 1 + step / (up + down) - cycle
        h = x (up + down) / up while x <= up / (up + down) (rising), else (1 - x) (up + down) / down
        alpha = base_lr + (max_lr - base_lr) h scale

    scale = 1 ("triangular"), 1 / 2**(cycle - 1) ("triangular2": each cycle's height halves)
    or gamma**step ("exp_range"). As `OneCycle`, PyTorch's counts batches: use it per step
    (`fit`'s ``schedule_every="step"``, or one's own loop), or give the step sizes in epochs
    for `fit` per epoch. PyTorch's CyclicLR also
    cycles the momentum unless ``cycle_momentum=False``: this is its learning rate alone.
    With parameter groups, make the optimizer with ``lr=max_lr``: each group keeps its ratio
    to it (see `Optimizer`), so a group made with its own lr L cycles from base_lr L / max_lr
    up to L, as PyTorch's CyclicLR with lists of base_lr and max_lr, one per group.

    Args:
        base_lr: the lowest rate (>= 0), the cycles' start.
        max_lr: the highest, at least base_lr.
        step_size_up: steps from base_lr up to max_lr (at least 1; PyTorch's default 2000).
        step_size_down: steps back down, step_size_up if None.
        mode: "triangular", "triangular2" or "exp_range".
        gamma: exp_range's factor per step, in (0, 1].
    """

    def __init__(self, base_lr: float, max_lr: float, step_size_up: int = 2000,
                 step_size_down: int | None = None, mode: str = "triangular",
                 gamma: float = 1.0) -> None:
        name = "Cyclic"
        self.base_lr = real_number(base_lr, "base_lr", name, lambda x: 0.0 <= x < math.inf,
                                   ">= 0 and finite")
        self.max_lr = real_number(max_lr, "max_lr", name,
                                  lambda x: self.base_lr <= x < math.inf and x > 0.0,
                                  f"positive, finite and at least base_lr = {self.base_lr:g}")
        self.step_size_up = whole_number(step_size_up, "step_size_up", name)
        self.step_size_down = (self.step_size_up if step_size_down is None else
                               whole_number(step_size_down, "step_size_down", name))
        if mode not in ("triangular", "triangular2", "exp_range"):
            raise ArgumentError(f"{name}: mode must be 'triangular', 'triangular2' or "
                                f"'exp_range', got {setting_text(mode)}")
        self.mode = mode
        self.gamma = real_number(gamma, "gamma", name, _in_0_1, "in (0, 1]")

    def _rate(self, step: int) -> float:
        # PyTorch's arithmetic, in its order: the step sizes as floats.
        up, down = float(self.step_size_up), float(self.step_size_down)
        total = up + down
        ratio = up / total
        cycle = math.floor(1 + step / total)
        x = 1.0 + step / total - cycle
        height = x / ratio if x <= ratio else (x - 1) / (ratio - 1)
        if self.mode == "triangular":
            scale = 1.0
        elif self.mode == "triangular2":
            # PyTorch's 1 / 2.0**(cycle - 1), the same power of two, but without its
            # OverflowError from cycle 1026 on: a height below the smallest float is 0.
            scale = 0.5 ** (cycle - 1)
        else:
            scale = self.gamma ** step
        return self.base_lr + (self.max_lr - self.base_lr) * height * scale


class MultiStepDecay(Schedule):
    """Decay by ``gamma`` at each milestone, as PyTorch's MultiStepLR::

        alpha = alpha0 * gamma**(the number of milestones <= epoch)

    e.g. ``MultiStepDecay(0.1, [30, 80])``: 0.1 for epochs 0 to 29, 0.01 from 30, 0.001 from
    80. Milestones are epochs counted from 0, in any order; one given twice decays twice there,
    as in PyTorch.
    """

    def __init__(self, alpha0: float, milestones: Any, gamma: float = 0.1) -> None:
        super().__init__(alpha0)
        given = listed(milestones, "MultiStepDecay", "milestones as a list of epochs, such as "
                                                     "[30, 80]")
        self.milestones = sorted(whole_number(m, f"milestone {m!r}", "MultiStepDecay", least=0)
                                 for m in given)
        self.gamma = real_number(gamma, "gamma", "MultiStepDecay", _in_0_1, "in (0, 1]")

    def _rate(self, epoch: int) -> float:
        return self.alpha0 * self.gamma ** bisect.bisect_right(self.milestones, epoch)


class Warmup(Schedule):
    """A linear warm-up of ``warmup`` epochs, then ``schedule`` from its own epoch 0, as the
    Transformer recipes train (PyTorch's SequentialLR of a LinearLR and the schedule)::

        epoch < warmup:  alpha = schedule(0) * (f + (1 - f) * epoch / warmup), f = start_factor
        after:           alpha = schedule(epoch - warmup)

    So ``Warmup(ExponentialDecay(0.1, 0.9), 5)`` rises to 0.1 at epoch 5 and decays from
    there; ``Warmup(CosineDecay(alpha0, total - warmup), warmup)`` is ``CosineDecay(alpha0,
    total, warmup)``.

    Args:
        schedule: any schedule (a function of the epoch giving the learning rate).
        warmup: the epochs of warm-up, at least 1.
        start_factor: the first epoch's rate as a fraction of schedule(0), in [0, 1): 0 (the
            default) trains the first epoch with alpha = 0, as `CosineDecay`'s warm-up and
            Hugging Face's do; PyTorch's LinearLR starts at ``start_factor`` (its default 1/3).

    By steps rather than epochs, as Transformers warm up: give ``warmup`` in steps and pass
    ``schedule_every="step"`` to `fit`, or set ``optimizer.lr = schedule(step)`` before each
    ``optimizer.step()`` (see `CosineDecay`). The schedule after it takes the run's steps
    less the warm-up's: ``Warmup(OneCycle(max_lr, total_steps=steps - warmup), warmup)``,
    since a OneCycle made for all of them would not reach its end by the run's last step.

    A schedule that follows the cost (`ReduceOnPlateau`) is told, through ``step(cost)``, the
    costs of the epochs after the warm-up only, as timm's plateau scheduler with warm-up is:
    those of the rising rates would count as its first epochs. So ``Warmup(ReduceOnPlateau(
    0.1), 5)`` in `fit` warms up for 5 epochs, then drops the rate on a plateau; to resume it,
    save and load the plateau's own ``state_dict``.
    """

    def __init__(self, schedule: Callable[[int], float], warmup: int,
                 start_factor: float = 0.0) -> None:
        if not callable(schedule):
            raise GraphgradTypeError(
                f"Warmup: schedule must be a function of the epoch giving its learning rate, "
                f"such as optim.ExponentialDecay(0.1), got {setting_text(schedule)}")
        self.schedule = schedule
        self.warmup = whole_number(warmup, "warmup", "Warmup")
        self.start_factor = real_number(start_factor, "start_factor", "Warmup",
                                        lambda x: 0.0 <= x < 1.0, "in [0, 1)")
        # The epoch last asked for its rate: `step`'s cost is that epoch's, as in fit.
        self._epoch: int | None = None

    def step(self, cost: float) -> None:
        """Tell ``schedule`` the cost of the epoch last asked for its rate, if that epoch is
        past the warm-up and ``schedule`` has a ``step`` (`ReduceOnPlateau`); `fit` calls it
        after each epoch. For a schedule without one, it does nothing."""
        tell = getattr(self.schedule, "step", None)
        if callable(tell) and (self._epoch is None or self._epoch >= self.warmup):
            tell(cost)

    def _rate(self, epoch: int) -> float:
        self._epoch = epoch
        if epoch >= self.warmup:
            return self.schedule(epoch - self.warmup)
        top = real_number(self.schedule(0), "schedule(0)", "Warmup",
                          lambda x: 0.0 <= x < math.inf, "a learning rate, >= 0 and finite")
        return top * (self.start_factor + (1.0 - self.start_factor) * epoch / self.warmup)


class ReduceOnPlateau(Schedule):
    """Divide the learning rate when the cost stops going down, as PyTorch's
    ReduceLROnPlateau. ``step(cost)`` is told each epoch's cost (`fit` does it with the dev
    cost, or the training cost without dev_data); ``schedule(epoch)`` is the current rate::

        better:  cost < best (1 - threshold)  (threshold_mode "rel"; "abs": best - threshold)
        an epoch not better is a bad one; after more than ``patience`` bad epochs in a row,
        alpha = max(alpha * factor, min_lr) (unless that changes it by eps or less), and
        the next ``cooldown`` epochs count as good

    So with patience 2, the rate drops once the third epoch in a row has not beaten the best
    cost by the threshold, and the next epoch trains with it, as in PyTorch's loop (train,
    evaluate, ``scheduler.step(dev_cost)``). With ``mode="max"`` it watches a number that
    should go up (an accuracy, given to ``step`` by one's own loop): better is above
    best (1 + threshold), or best + threshold.

    Args:
        alpha0: the rate to start from: the optimizer's lr.
        mode: "min" (a cost) or "max".
        factor: what the rate is multiplied by, in (0, 1).
        patience: the bad epochs allowed before the rate drops (PyTorch's default 10).
        threshold, threshold_mode: how much better a cost must be to count ("rel": by a
            fraction of the best, "abs": by an amount).
        cooldown: the epochs after a drop during which bad epochs are not counted.
        min_lr: the rate never goes below it.
        eps: a drop smaller than this is not made.

    With parameter groups, the rate is the optimizer's ``lr`` keyword's: each group keeps its
    ratio to it (see `Optimizer`), and min_lr bounds the keyword's rate (PyTorch bounds each
    group's own lr). Its state (the rate, the best cost, the counters) is in ``state_dict()``,
    for ``gg.save``: to resume fit at epoch k, load it with the model's and optimizer's.
    """

    def __init__(self, alpha0: float, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr: float = 0.0, eps: float = 1e-8) -> None:
        super().__init__(alpha0)
        name = "ReduceOnPlateau"
        if mode not in ("min", "max"):
            raise ArgumentError(f"{name}: mode must be 'min' (a cost) or 'max' (an accuracy), "
                                f"got {setting_text(mode)}")
        if threshold_mode not in ("rel", "abs"):
            raise ArgumentError(f"{name}: threshold_mode must be 'rel' (a fraction of the best) "
                                f"or 'abs' (an amount), got {setting_text(threshold_mode)}")
        self.mode, self.threshold_mode = mode, threshold_mode
        self.factor = real_number(factor, "factor", name, lambda x: 0.0 < x < 1.0, "in (0, 1)")
        self.patience = whole_number(patience, "patience", name, least=0)
        self.threshold = real_number(threshold, "threshold", name,
                                     lambda x: 0.0 <= x < math.inf, ">= 0 and finite")
        self.cooldown = whole_number(cooldown, "cooldown", name, least=0)
        self.min_lr = real_number(min_lr, "min_lr", name, lambda x: 0.0 <= x <= self.alpha0,
                                  f"in [0, alpha0 = {self.alpha0:g}]")
        self.eps = real_number(eps, "eps", name, lambda x: 0.0 <= x < math.inf,
                               ">= 0 and finite")
        self._reset()

    def _reset(self) -> None:
        """The state before the first epoch: alpha0, no best yet, no bad epochs."""
        self.alpha = self.alpha0
        self.best = math.inf if self.mode == "min" else -math.inf
        self.bad_epochs = self.cooldown_left = self.steps = 0

    def _rate(self, epoch: int) -> float:
        return self.alpha

    def _better(self, cost: float) -> bool:
        if self.mode == "min":
            if self.threshold_mode == "rel":
                return cost < self.best * (1.0 - self.threshold)
            return cost < self.best - self.threshold
        if self.threshold_mode == "rel":
            return cost > self.best * (1.0 + self.threshold)
        return cost > self.best + self.threshold

    def step(self, cost: float) -> None:
        """Count an epoch's cost (or the number ``mode`` watches), and drop the rate after
        too many bad epochs. A NaN counts as a bad epoch, as in PyTorch."""
        cost = real_number(cost, "the cost given to step", "ReduceOnPlateau.step",
                           lambda x: True, "a real number")
        self.steps += 1
        if self._better(cost):
            self.best, self.bad_epochs = cost, 0
        else:
            self.bad_epochs += 1
        if self.cooldown_left > 0:
            self.cooldown_left -= 1
            self.bad_epochs = 0  # bad epochs during a cooldown are not counted
        if self.bad_epochs > self.patience:
            lower = max(self.alpha * self.factor, self.min_lr)
            if self.alpha - lower > self.eps:
                self.alpha = lower
            self.cooldown_left, self.bad_epochs = self.cooldown, 0

    _STATE = ("alpha", "best", "bad_epochs", "cooldown_left", "steps")

    def state_dict(self) -> dict[str, Any]:
        """The rate, the best cost and the counters, for ``gg.save``; the settings are the
        constructor's."""
        return {"schedule": type(self).__name__,
                **{key: getattr(self, key) for key in self._STATE}}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Go on from a saved `state_dict`; a state that does not fit changes nothing."""
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state, Mapping):
            raise not_a_state_error(name, state, "schedule")
        values = {key: state.get(key) for key in ("schedule", *self._STATE)}
        values = {key: value.item() if isinstance(value, np.ndarray) and value.ndim == 0
                  else value for key, value in values.items()}
        missing = [key for key, value in values.items() if value is None]
        if missing:
            raise ArgumentError(f"{name}: the state has no {', '.join(missing)}: pass what "
                                "ReduceOnPlateau.state_dict() gave")
        if str(values["schedule"]) != type(self).__name__:
            raise ArgumentError(f"{name}: the state is from {values['schedule']}")
        alpha = real_number(values["alpha"], "alpha", name, lambda x: 0.0 <= x < math.inf,
                            ">= 0 and finite")
        best = real_number(values["best"], "best", name, lambda x: not math.isnan(x),
                           "a number (inf before the first epoch)")
        counts = [whole_number(values[key], key, name, least=0)
                  for key in ("bad_epochs", "cooldown_left", "steps")]
        self.alpha, self.best = alpha, best
        self.bad_epochs, self.cooldown_left, self.steps = counts
