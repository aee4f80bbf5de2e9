"""Schedules made of schedules: `Warmup` (a linear warm-up before one) and `Chain` (one after
the other, PyTorch's SequentialLR), and `steps_of`, the length of one that ends. Depends on
`errors`, `schedules.base` and `schedules.cycles` (OneCycle, a schedule that ends)."""

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
from graphgrad.optim.schedules.base import Schedule
from graphgrad.optim.schedules.cycles import OneCycle

__all__ = ["Chain", "Warmup"]


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


def steps_of(schedule: Any) -> int | None:
    """The steps a schedule that ends has rates for (a `OneCycle`'s total_steps, behind a
    `Warmup`'s or at the end of a `Chain`), or None for one that goes on."""
    if isinstance(schedule, OneCycle):
        return schedule.total_steps
    if isinstance(schedule, Warmup):
        inner = steps_of(schedule.schedule)
        return None if inner is None else schedule.warmup + inner
    if isinstance(schedule, Chain):
        last = steps_of(schedule.schedules[-1])
        return None if last is None else schedule.milestones[-1] + last
    return None


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
        self._check_lengths()

    def _check_lengths(self) -> None:
        """Refuse a schedule that ends (a `OneCycle`, alone or behind a `Warmup`) before its
        part of the chain does: it would fail at the first epoch (or step) past its end, in
        the middle of training, rather than now."""
        starts = [0, *self.milestones]
        for i, schedule in enumerate(self.schedules[:-1]):
            length, ends = starts[i + 1] - starts[i], steps_of(schedule)
            if ends is None or length <= ends:
                continue
            inner = schedule
            while isinstance(inner, Warmup):
                inner = inner.schedule
            made = f"{type(inner).__name__}(total_steps={inner.total_steps})"
            if inner is not schedule:
                made = f"a Warmup before a {made}"
            raise ArgumentError(
                f"Chain: schedule {i} ({made}) has rates for {ends} epochs (or steps), but "
                f"its part of the chain, epochs (or steps) {starts[i]} to {starts[i + 1] - 1}, "
                f"is {length} long: it would fail at the chain's epoch {starts[i] + ends}, in "
                f"the middle of training. Make it for {length} "
                f"(total_steps={inner.total_steps + length - ends}), or put milestone {i} at "
                f"{starts[i] + ends}")

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
