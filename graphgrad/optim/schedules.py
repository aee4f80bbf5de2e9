"""Learning-rate decay: the learning rate alpha as a function of the epoch number (from 0).

Each schedule is a small callable, ``schedule(epoch) -> alpha``; `fit` sets
``optimizer.lr = schedule(epoch)`` before every epoch, or do it yourself in your loop. With
parameter groups, each group's lr keeps its ratio to the optimizer's ``lr`` keyword: give the
schedule alpha0 = that keyword's value. Depends on `errors` only.
"""
from __future__ import annotations

import math

from graphgrad.errors import ArgumentError


class Schedule:
    """Base class: alpha0 and ``__call__(epoch)``."""

    def __init__(self, alpha0: float) -> None:
        if alpha0 <= 0:
            raise ArgumentError(f"{type(self).__name__}: alpha0 must be positive, got {alpha0}")
        self.alpha0 = float(alpha0)

    def __call__(self, epoch: int) -> float:
        raise NotImplementedError

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v:g}" for k, v in vars(self).items())
        return f"{type(self).__name__}({settings})"


class InverseTimeDecay(Schedule):
    """The course's decay: alpha = alpha0 / (1 + decay_rate * epoch).

    With ``time_interval=k`` the epoch count is floored to whole intervals, the course's
    staircase version (``schedule_lr_decay``): alpha0 / (1 + decay_rate * floor(epoch / k)).
    """

    def __init__(self, alpha0: float, decay_rate: float, time_interval: int = 1) -> None:
        super().__init__(alpha0)
        if decay_rate < 0 or time_interval < 1:
            raise ArgumentError("InverseTimeDecay: decay_rate must be >= 0 and "
                                 "time_interval >= 1")
        self.decay_rate = float(decay_rate)
        self.time_interval = int(time_interval)

    def __call__(self, epoch: int) -> float:
        return self.alpha0 / (1.0 + self.decay_rate * (epoch // self.time_interval))


class ExponentialDecay(Schedule):
    """alpha = alpha0 * rate**epoch (the course's 0.95**epoch * alpha0)."""

    def __init__(self, alpha0: float, rate: float = 0.95) -> None:
        super().__init__(alpha0)
        if not 0.0 < rate <= 1.0:
            raise ArgumentError(f"ExponentialDecay: rate must be in (0, 1], got {rate}")
        self.rate = float(rate)

    def __call__(self, epoch: int) -> float:
        return self.alpha0 * self.rate ** epoch


class StepDecay(Schedule):
    """Staircase decay: alpha = alpha0 * factor**floor(epoch / every), e.g. halve every 10."""

    def __init__(self, alpha0: float, factor: float = 0.5, every: int = 10) -> None:
        super().__init__(alpha0)
        if not 0.0 < factor <= 1.0 or every < 1:
            raise ArgumentError("StepDecay: factor must be in (0, 1] and every >= 1")
        self.factor = float(factor)
        self.every = int(every)

    def __call__(self, epoch: int) -> float:
        return self.alpha0 * self.factor ** (epoch // self.every)


class InverseSqrtDecay(Schedule):
    """The course's other form: alpha = k / sqrt(epoch + 1) * alpha0 (epochs counted from 0)."""

    def __init__(self, alpha0: float, k: float = 1.0) -> None:
        super().__init__(alpha0)
        self.k = float(k)

    def __call__(self, epoch: int) -> float:
        return self.k / math.sqrt(epoch + 1) * self.alpha0
