"""Learning-rate decay: the learning rate alpha as a function of the epoch number (from 0).

Each schedule is a small callable, ``schedule(epoch) -> alpha``; `fit` sets
``optimizer.lr = schedule(epoch)`` before every epoch (or ``schedule(step)`` before every
optimizer step, with ``schedule_every="step"``), or do it yourself in your loop. With
parameter groups, each group's lr keeps its ratio to the optimizer's ``lr`` keyword: give the
schedule alpha0 = that keyword's value. `Warmup` puts a linear warm-up before any schedule.
PyTorch's LambdaLR, LinearLR, ConstantLR, PolynomialLR, CosineAnnealingWarmRestarts and
SequentialLR are `LambdaSchedule`, `LinearSchedule`, `ConstantWarmup`, `PolynomialDecay`,
`CosineWarmRestarts` and `Chain`, with PyTorch's rates. `ReduceOnPlateau` is the one that
also depends on how training goes: it has a ``step(cost)`` method, which `fit` calls after
each epoch with the dev cost, and a state dict. Depends on `errors`.

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
    flag,
    listed,
    not_a_state_error,
    real_number,
    setting_text,
    whole_number,
)

__all__ = ["Chain", "ConstantWarmup", "CosineDecay", "CosineWarmRestarts", "Cyclic",
           "ExponentialDecay", "InverseSqrtDecay", "InverseTimeDecay", "LambdaSchedule",
           "LinearSchedule", "MultiStepDecay", "OneCycle", "PolynomialDecay", "ReduceOnPlateau",
           "Schedule", "StepDecay", "Warmup"]


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

    # A schedule that sets the optimizer's momentum too (`OneCycle` with cycle_momentum):
    # `fit` then sets ``momentum`` (or ``beta1``) to ``schedule.momentum(count)`` as it sets
    # the rate, unless that is None.
    cycles_momentum = False

    def momentum(self, epoch: int) -> float | None:
        """The momentum of ``epoch``, None for a schedule that leaves it as it is."""
        return None

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

    With ``three_phase=True`` (PyTorch's), the rate goes back down to the first rate in as
    many steps as it went up, and only then to the least (the phases end at steps
    ``pct_start * total_steps - 1``, ``2 pct_start total_steps - 2`` and ``total_steps - 1``;
    pct_start is then at most 0.5), as fast.ai's first 1cycle.

    With ``cycle_momentum=True`` the momentum goes the other way, from max_momentum down to
    base_momentum while the rate goes up and back while it goes down (max_momentum in the
    three-phase cycle's last phase): ``momentum(step)`` gives it, and `fit` sets it, per
    epoch or per step as it sets the rate, as the optimizer's ``momentum`` (SGD, RMSprop) or
    its ``beta1`` (Adam, AdamW, Adamax, NAdam, RAdam), in every group that did not give its
    own (PyTorch's OneCycleLR sets every group's before each step); an optimizer with
    neither, or whose groups all gave their own, is refused before training. Off by
    default, where PyTorch's default is on: this schedule gave the rate alone before it had
    the option, and a run made so keeps its rates. With
    Adam, AdamW, Adamax, NAdam and RAdam (beta1) and RMSprop (its momentum is PyTorch's) the
    steps are PyTorch's: NAdam multiplies each step's mu_t, with that step's beta1, into the
    product of momenta M_t it keeps, as PyTorch's (see `NAdam`). Not with SGD, whose
    momentum is the course's, v_dW = beta v_dW + (1 - beta) dW, which is PyTorch's
    v = beta v + dW with lr = alpha (1 - beta) only while beta stays fixed: as it cycles,
    PyTorch's steps grow by 1 / (1 - beta) where the course's do not, so SGD's run is the
    course's momentum with a cycling beta, not PyTorch's.
    In one's own loop, set both before each ``optimizer.step()``: ``optimizer.lr =
    schedule(step); optimizer.beta1 = schedule.momentum(step)``. The momentum is a setting
    of the optimizer, saved in its ``state_dict`` (with NAdam's M_t), so a resumed run goes
    on with it.

    With parameter groups, make the optimizer with
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
        three_phase: down to the first rate, then to the least (PyTorch's three_phase).
        cycle_momentum: cycle the momentum too (PyTorch's default True; False here).
        base_momentum, max_momentum: the momentum's range, in [0, 1) (0.85 and 0.95).
    """

    def __init__(self, max_lr: float, total_steps: int, pct_start: float = 0.3,
                 anneal: str = "cos", div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False,
                 cycle_momentum: bool = False, base_momentum: float = 0.85,
                 max_momentum: float = 0.95) -> None:
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
        self.three_phase = flag(three_phase, "three_phase", name)
        if self.three_phase and self.pct_start > 0.5:
            raise ArgumentError(
                f"{name}: three_phase=True with pct_start={self.pct_start:g}: the rate goes up "
                "for pct_start of the steps and back down for as many, so pct_start must be "
                "at most 0.5 (PyTorch would end the cycle before the rate is back down, and "
                "never reach the third phase)")
        self.cycle_momentum = flag(cycle_momentum, "cycle_momentum", name)
        momentum_rule = (lambda x: 0.0 <= x < 1.0, "in [0, 1), a momentum (or Adam's beta1)")
        self.base_momentum = real_number(base_momentum, "base_momentum", name, *momentum_rule)
        self.max_momentum = real_number(max_momentum, "max_momentum", name, *momentum_rule)

    def _phase(self, step: int) -> tuple[int, float]:
        """The phase of ``step`` (0 up, 1 down, 2 the three-phase cycle's last) and how far
        into it, p from 0 to 1, in PyTorch's floats; a phase of length 0 (PyTorch divides by
        zero there) is done, p = 1."""
        if step >= self.total_steps:
            raise ArgumentError(
                f"OneCycle: step {step} is past the cycle, made for total_steps = "
                f"{self.total_steps} (steps 0 to {self.total_steps - 1}): give total_steps = "
                "the run's length, in optimizer steps (epochs x batches per epoch) when it is "
                "asked per step (fit's schedule_every='step'), in epochs when per epoch")
        # PyTorch's phase ends: pct_start * total_steps - 1, (2 pct_start total_steps - 2),
        # total_steps - 1; the last phase takes every step after the one before it.
        ends = [float(self.pct_start * self.total_steps) - 1]
        if self.three_phase:
            ends.append(float(2 * self.pct_start * self.total_steps) - 2)
        ends.append(self.total_steps - 1)
        start = 0.0
        for i, end in enumerate(ends):
            if step <= end or i == len(ends) - 1:
                return i, (step - start) / (end - start) if end != start else 1.0
            start = end
        raise AssertionError("unreachable: the last phase takes every step")

    def _anneal(self, start: float, end: float, p: float) -> float:
        if self.anneal == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * p) + 1)
        return (end - start) * p + start

    def _rate(self, step: int) -> float:
        phase, p = self._phase(step)
        initial = self.max_lr / self.div_factor
        least = initial / self.final_div_factor
        start, end = [(initial, self.max_lr), (self.max_lr, least if not self.three_phase
                                               else initial), (initial, least)][phase]
        return self._anneal(start, end, p)

    @property
    def cycles_momentum(self) -> bool:
        """Whether `fit` sets the optimizer's momentum (or beta1) from `momentum`."""
        return self.cycle_momentum

    def momentum(self, step: int) -> float | None:
        """The momentum of ``step`` with ``cycle_momentum=True``, the other way from the
        rate: from max_momentum down to base_momentum while the rate goes up, back up while
        it goes down (and max_momentum in the three-phase cycle's last phase); None without
        (the optimizer's momentum is left as it is)."""
        phase, p = self._phase(whole_number(step, "the step (counted from 0)", "OneCycle",
                                            least=0))
        if not self.cycle_momentum:
            return None
        low, high = self.base_momentum, self.max_momentum
        start, end = [(high, low), (low, high), (high, high)][phase]
        return self._anneal(start, end, p)


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

    @property
    def cycles_momentum(self) -> bool:
        """Whether the schedule after the warm-up cycles the momentum (`OneCycle`)."""
        return bool(getattr(self.schedule, "cycles_momentum", False))

    def momentum(self, epoch: int) -> float | None:
        """The schedule's momentum (`OneCycle`'s) at ``epoch``: from its step 0 after the
        warm-up, and its first (max_momentum) during it, as in PyTorch, where the OneCycleLR
        after a LinearLR sets it when it is made; None when the schedule does not cycle
        it."""
        epoch = whole_number(epoch, "the epoch (counted from 0)", "Warmup", least=0)
        if not self.cycles_momentum:
            return None
        return self.schedule.momentum(max(epoch - self.warmup, 0))

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


class LambdaSchedule(Schedule):
    """A rate of one's own as a factor of alpha0, as PyTorch's LambdaLR::

        alpha = alpha0 * fn(epoch)

    e.g. ``LambdaSchedule(0.1, lambda epoch: 0.95 ** epoch)``; fn(0) = 1 starts at alpha0. A
    factor that is not a real number >= 0 and finite is refused when it is asked for (`fit`
    asks before each epoch, or for the run's last step first with ``schedule_every="step"``).

    Saving and resuming: the schedule has no state, only ``fn``, which no file holds (a
    function is code, not numbers: ``gg.save`` takes arrays, and PyTorch's LambdaLR leaves a
    function out of its state dict too, keeping the attributes of a callable object only). To
    resume `fit` at epoch k, make the schedule again with the same function and pass
    ``initial_epoch=k``: the run then takes the rates of the run not stopped as long as fn
    depends on the epoch alone. A function that keeps a count or reads anything else of its
    own (a closure over a list it appends to, a global) is not resumed by that: the new
    process starts it afresh; compute from the epoch instead.
    """

    def __init__(self, alpha0: float, fn: Callable[[int], float]) -> None:
        super().__init__(alpha0)
        if not callable(fn):
            raise GraphgradTypeError(
                f"LambdaSchedule: fn must be a function of the epoch giving a factor of alpha0, "
                f"such as lambda epoch: 0.95 ** epoch, got {setting_text(fn)}")
        self.fn = fn

    def _rate(self, epoch: int) -> float:
        factor = real_number(self.fn(epoch), f"fn({epoch})", "LambdaSchedule",
                             lambda x: 0.0 <= x < math.inf, "a factor of alpha0, >= 0 and finite")
        return self.alpha0 * factor


class LinearSchedule(Schedule):
    """A straight line from alpha0 start_factor to alpha0 end_factor over ``total`` epochs,
    then alpha0 end_factor, as PyTorch's LinearLR::

        alpha = alpha0 (start_factor + (end_factor - start_factor) min(epoch, total) / total)

    Its defaults are PyTorch's, a warm-up from a third of alpha0 to alpha0 in 5 epochs; with
    start_factor above end_factor it decays. PyTorch multiplies its rates into the last one
    epoch after epoch; these are that line's values, computed afresh (the same to 1e-15).

    Args:
        alpha0: the rate the factors are of.
        start_factor: the first epoch's factor, in [0, 1] (PyTorch refuses 0, which its
            rates multiplied into the last one cannot leave).
        end_factor: the factor from epoch ``total`` on, in [0, 1].
        total: the epochs of the line, at least 1.
    """

    def __init__(self, alpha0: float, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total: int = 5) -> None:
        super().__init__(alpha0)
        name = "LinearSchedule"
        self.start_factor = real_number(start_factor, "start_factor", name,
                                        lambda x: 0.0 <= x <= 1.0, "in [0, 1]")
        self.end_factor = real_number(end_factor, "end_factor", name,
                                      lambda x: 0.0 <= x <= 1.0, "in [0, 1]")
        self.total = whole_number(total, "total", name)

    def _rate(self, epoch: int) -> float:
        return self.alpha0 * (self.start_factor + (self.end_factor - self.start_factor)
                              * min(self.total, epoch) / self.total)


class ConstantWarmup(Schedule):
    """alpha0 factor for the first ``total`` epochs, then alpha0, as PyTorch's ConstantLR (a
    warm-up at a constant low rate)::

        alpha = alpha0 factor while epoch < total, else alpha0

    Args:
        alpha0: the rate from epoch ``total`` on.
        factor: the first epochs' share of it, in [0, 1] (PyTorch's default 1/3).
        total: the epochs at the low rate (PyTorch's total_iters, 5), at least 1.
    """

    def __init__(self, alpha0: float, factor: float = 1.0 / 3, total: int = 5) -> None:
        super().__init__(alpha0)
        self.factor = real_number(factor, "factor", "ConstantWarmup",
                                  lambda x: 0.0 <= x <= 1.0, "in [0, 1]")
        self.total = whole_number(total, "total", "ConstantWarmup")

    def _rate(self, epoch: int) -> float:
        return self.alpha0 * self.factor if epoch < self.total else self.alpha0


class PolynomialDecay(Schedule):
    """A polynomial decay to 0 over ``total`` epochs, as PyTorch's PolynomialLR::

        alpha = alpha0 (1 - min(epoch, total) / total)**power

    power 1 (the default) is a straight line to 0, reached at epoch ``total`` and kept after
    it (train fewer epochs than that, or the last ones learn nothing). As with
    `LinearSchedule`, PyTorch multiplies its rates into the last one; these are the formula's,
    the same to 1e-15.

    Args:
        alpha0: the first epoch's rate.
        total: the epoch at which the rate reaches 0 (PyTorch's total_iters, 5), at least 1.
        power: the power of the decay, positive (1.0, PyTorch's).
    """

    def __init__(self, alpha0: float, total: int = 5, power: float = 1.0) -> None:
        super().__init__(alpha0)
        self.total = whole_number(total, "total", "PolynomialDecay")
        self.power = real_number(power, "power", "PolynomialDecay", _positive,
                                 "positive and finite")

    def _rate(self, epoch: int) -> float:
        return self.alpha0 * (1.0 - min(self.total, epoch) / self.total) ** self.power


class CosineWarmRestarts(Schedule):
    """SGDR (Loshchilov and Hutter): half a cosine from alpha0 down towards alpha_min, then
    back to alpha0 and down again, each period ``period_mult`` times longer than the last, as
    PyTorch's CosineAnnealingWarmRestarts (its T_0, T_mult and eta_min)::

        periods T_0 = period, T_i = period * period_mult**i, back to back from epoch 0
        alpha = alpha_min + (alpha0 - alpha_min) (1 + cos(pi T_cur / T_i)) / 2

    T_cur counting the epochs since the last restart, so the rate starts each period at
    alpha0 and never quite reaches alpha_min: ``CosineWarmRestarts(0.1, 10, 2)`` restarts at
    epochs 10, 30, 70, 150, ... The periods are found by whole numbers, as PyTorch's
    ``scheduler.step()`` counts them (the same rates, to the last bit, at any epoch: its
    ``step(epoch)`` with an epoch given finds the period by a logarithm, which can be one
    period off at a restart when period_mult > 1).

    As `OneCycle`, it can count optimizer steps rather than epochs: give the periods in steps
    and pass ``schedule_every="step"`` to `fit` (PyTorch's ``step(epoch + i / iters)`` for
    fractions of an epoch is that, the periods in whole steps).

    Args:
        alpha0: the rate at each restart.
        period: the first period's epochs (T_0), at least 1.
        period_mult: each period's length over the last's (T_mult), a whole number >= 1.
        alpha_min: the rate the cosines fall towards (eta_min), in [0, alpha0].
    """

    def __init__(self, alpha0: float, period: int, period_mult: int = 1,
                 alpha_min: float = 0.0) -> None:
        super().__init__(alpha0)
        name = "CosineWarmRestarts"
        self.period = whole_number(period, "period", name)
        self.period_mult = whole_number(period_mult, "period_mult", name)
        self.alpha_min = real_number(alpha_min, "alpha_min", name,
                                     lambda x: 0.0 <= x <= self.alpha0,
                                     f"in [0, alpha0 = {self.alpha0:g}]")

    def _rate(self, epoch: int) -> float:
        # T_cur and T_i as ints, as PyTorch's step() carries them: the period's start found by
        # subtracting whole periods (at most log2(epoch) of them with period_mult >= 2).
        length = self.period
        if self.period_mult == 1:
            since = epoch % length
        else:
            since = epoch
            while since >= length:
                since -= length
                length *= self.period_mult
        return (self.alpha_min + (self.alpha0 - self.alpha_min)
                * (1 + math.cos(math.pi * since / length)) / 2)


class Chain(Schedule):
    """Schedules one after the other, each from its own epoch 0, as PyTorch's SequentialLR
    (not `nn.Sequential`, a model)::

        alpha = schedules[i](epoch - milestones[i - 1]),
                i = the number of milestones <= epoch (milestones[-1] = 0)

    e.g. ``Chain([ConstantWarmup(0.1, 0.1, 3), CosineDecay(0.1, 20)], [3])`` trains three
    epochs at 0.01, then decays from 0.1 over 20 epochs. Each schedule has its own alpha0 (a
    single optimizer's lr in PyTorch); `Warmup` is a linear warm-up before a schedule.

    A schedule that follows the cost (`ReduceOnPlateau`, with a ``step(cost)`` method) is
    refused: the chain could not tell it the costs of its own epochs only; `Warmup` before it
    does that. A `OneCycle` with ``cycle_momentum=True`` cycles the momentum in its epochs
    (`momentum`); before them the momentum is its first (max_momentum), as in PyTorch, where
    the OneCycleLR sets it when it is made, before the first schedule's epochs (and as
    `Warmup` before it), and after them it is left at its last.

    Args:
        schedules: two or more schedules (functions of the epoch giving the rate).
        milestones: the epochs at which each schedule after the first starts, increasing,
            one fewer than the schedules.
    """

    def __init__(self, schedules: Any, milestones: Any) -> None:
        name = "Chain"
        self.schedules = listed(schedules, name, "a list of schedules, such as "
                                                 "[optim.ConstantWarmup(0.1), "
                                                 "optim.ExponentialDecay(0.1)]")
        for i, schedule in enumerate(self.schedules):
            if not callable(schedule):
                raise GraphgradTypeError(
                    f"{name}: schedule {i} must be a function of the epoch giving its learning "
                    f"rate, such as optim.ExponentialDecay(0.1), got {setting_text(schedule)}")
            inner = schedule
            while isinstance(inner, Warmup):  # whose step tells its schedule, if that follows
                inner = inner.schedule
            if callable(getattr(inner, "step", None)):
                raise ArgumentError(
                    f"{name}: schedule {i} ({type(inner).__name__}) follows the cost through "
                    "its step(cost) method, which a chain cannot tell the costs of its own "
                    "epochs only: give fit optim.Warmup(schedule, warmup) in place of the "
                    "Chain, a warm-up that tells the schedule after it the costs of its epochs")
        given = listed(milestones, name, "milestones as a list of epochs, such as [5]")
        self.milestones = [whole_number(m, f"milestone {m!r}", name) for m in given]
        if len(self.milestones) != len(self.schedules) - 1 or not self.milestones:
            raise ArgumentError(
                f"{name}: {len(self.schedules)} schedules take {len(self.schedules) - 1} "
                f"milestones (the epochs at which each after the first starts), got "
                f"{len(self.milestones)}: {self.milestones}; chain two schedules or more")
        if any(a >= b for a, b in zip(self.milestones, self.milestones[1:])):
            raise ArgumentError(f"{name}: milestones must increase, got {self.milestones}")

    def _part(self, epoch: int) -> tuple[Any, int]:
        """The schedule of ``epoch`` and the epoch in its own count."""
        i = bisect.bisect_right(self.milestones, epoch)
        return self.schedules[i], epoch - (self.milestones[i - 1] if i else 0)

    def _rate(self, epoch: int) -> float:
        schedule, own = self._part(epoch)
        return schedule(own)

    @property
    def cycles_momentum(self) -> bool:
        """Whether one of the schedules cycles the momentum (`OneCycle`)."""
        return any(getattr(s, "cycles_momentum", False) for s in self.schedules)

    def momentum(self, epoch: int) -> float | None:
        """The momentum of ``epoch``'s schedule; before the first schedule cycling it, that
        one's first; None (left as it is) after it in a schedule without."""
        epoch = whole_number(epoch, "the epoch (counted from 0)", "Chain", least=0)
        schedule, own = self._part(epoch)
        if getattr(schedule, "cycles_momentum", False):
            return schedule.momentum(own)
        cycling = [i for i, s in enumerate(self.schedules) if getattr(s, "cycles_momentum", False)]
        if not cycling or cycling[0] < bisect.bisect_right(self.milestones, epoch):
            return None
        return self.schedules[cycling[0]].momentum(0)
