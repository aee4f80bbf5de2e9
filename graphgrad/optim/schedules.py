"""Learning-rate decay: the learning rate alpha as a function of the epoch number (from 0).

Each schedule is a small callable, ``schedule(epoch) -> alpha``; `fit` sets
``optimizer.lr = schedule(epoch)`` before every epoch, or do it yourself in your loop. With
parameter groups, each group's lr keeps its ratio to the optimizer's ``lr`` keyword: give the
schedule alpha0 = that keyword's value. Depends on `errors` only.

So `fit`'s epoch e trains with schedule(e), the first with alpha0. The course's model()
decays after each epoch instead (``learning_rate = update_lr(learning_rate0, i, decay_rate)``
once epoch i is done): its epoch e trains with update_lr(alpha0, e - 1), and its first two
epochs both with alpha0. To repeat its run, shift the schedule by one epoch::

    decay = optim.InverseTimeDecay(alpha0, decay_rate)
    gg.fit(..., schedule=lambda epoch: decay(max(epoch - 1, 0)))
"""
from __future__ import annotations

import math
import numbers

from graphgrad.errors import ArgumentError, real_number, whole_number

__all__ = ["CosineDecay", "ExponentialDecay", "InverseSqrtDecay", "InverseTimeDecay", "Schedule",
           "StepDecay"]


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
            for k, v in vars(self).items())
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
    than epochs, give ``total`` and ``warmup`` in steps and set ``optimizer.lr =
    schedule(step)`` before each ``optimizer.step()``.
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
