"""Schedules that go one way: the course's decays (`InverseTimeDecay`, `ExponentialDecay`,
`StepDecay`), `MultiStepDecay`, `InverseSqrtDecay`, `CosineDecay` and `PolynomialDecay`, and
PyTorch's LinearLR, ConstantLR and LambdaLR (`LinearSchedule`, `ConstantWarmup`,
`LambdaSchedule`). Depends on `errors` and `schedules.base`."""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from typing import Any

from graphgrad.errors import (
    ArgumentError,
    GraphgradTypeError,
    listed,
    real_number,
    setting_text,
    whole_number,
)
from graphgrad.optim.schedules.base import Schedule, _in_0_1, _positive

__all__ = ["ConstantWarmup", "CosineDecay", "ExponentialDecay", "InverseSqrtDecay",
           "InverseTimeDecay", "LambdaSchedule", "LinearSchedule", "MultiStepDecay",
           "PolynomialDecay", "StepDecay"]


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
