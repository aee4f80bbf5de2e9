"""`LRScheduler`: any schedule driving an optimizer the PyTorch way, ``scheduler.step()``
after each epoch (or step), with ``get_last_lr()``, ``last_epoch`` and a state dict. Depends
on `errors`, `schedules.combined` and `schedules.base`; takes any `Optimizer`."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    GraphgradTypeError,
    not_a_state_error,
    real_number,
    setting_text,
    whole_number,
)
from graphgrad.optim.schedules.combined import Warmup, steps_of

__all__ = ["LRScheduler"]


def under_warmups(schedule: Any) -> Any:
    """The schedule behind the `Warmup`\\ s wrapping ``schedule`` (itself without any)."""
    while isinstance(schedule, Warmup):
        schedule = schedule.schedule
    return schedule


def momentum_setting(schedule: Any, optimizer: Any, caller: str) -> str:
    """The optimizer's setting that a schedule cycling the momentum (`optim.OneCycle` with
    cycle_momentum=True) sets, "momentum" or "beta1", as PyTorch's OneCycleLR sets momentum
    or betas[0]; "" for a schedule that does not. ``caller`` (fit) names the errors."""
    if not getattr(schedule, "cycles_momentum", False):
        return ""
    for name in ("momentum", "beta1"):
        if name in optimizer.defaults:
            return name
    raise ArgumentError(
        f"{caller}: the schedule {type(schedule).__name__} cycles the momentum (cycle_momentum="
        f"True), but {type(optimizer).__name__} has no momentum or beta1 to set: make the "
        "schedule with cycle_momentum=False, or use an optimizer with one (SGD(momentum=...), "
        "RMSprop, Adam, AdamW, Adamax, NAdam, RAdam)")


def set_momentum(optimizer: Any, name: str, value: float | None) -> None:
    """The momentum a schedule cycles, ``name`` ("momentum" or "beta1", `momentum_setting`),
    = ``value`` in every group, those that gave their own too, as PyTorch's OneCycleLR sets
    every group's momentum or betas[0]; and as the keyword's (``optimizer.defaults``), which a
    group added later takes. None (a schedule that leaves it): nothing changes."""
    if value is None:
        return
    setattr(optimizer, name, value)  # checked, and the keyword's
    for group in optimizer.param_groups:
        group[name] = value


class LRScheduler:
    """Set ``optimizer``'s learning rate from ``schedule`` the way PyTorch's schedulers do,
    counting the calls to ``step()``::

        scheduler = optim.LRScheduler(optimizer, optim.StepDecay(0.1, 0.1, every=30))
        for epoch in range(epochs):
            train(...)                 # optimizer.step() for each batch
            scheduler.step()           # the next epoch trains with schedule(epoch + 1)

    Made, it sets ``optimizer.lr = schedule(0)``; each ``step()`` counts one more epoch
    (``last_epoch``) and sets ``optimizer.lr = schedule(last_epoch)``, as `fit` does before
    each epoch. So any graphgrad schedule is PyTorch's scheduler of the same name in the
    table of `optim.schedules` (StepLR is StepDecay, ...), giving the same rates; stepped
    after each batch, it counts steps (OneCycle's, Cyclic's). With parameter groups, each
    group keeps its ratio to the optimizer's ``lr`` keyword (see `Optimizer`): with
    ``alpha0`` = that lr, group g trains with ``base_lrs[g] * schedule(epoch) / alpha0``, as
    PyTorch scales each group's initial lr. A schedule cycling the momentum (`OneCycle`)
    sets the optimizer's momentum or beta1 too. A schedule that ends (`OneCycle`, alone,
    behind a `Warmup` or last in a `Chain`) takes one ``step()`` more than its total_steps,
    the one after the last batch, which keeps the last step's rate (PyTorch's OneCycleLR
    computes a rate past the cycle there, which no optimizer step uses); a step more is
    refused, as PyTorch's.

    A schedule that follows a cost, `ReduceOnPlateau` (PyTorch's ReduceLROnPlateau), alone or
    behind a `Warmup`, is told it by ``scheduler.step(dev_cost)`` (or an accuracy, with
    ``mode="max"``) after each epoch; the others by ``step()``.

    Attributes:
        optimizer, schedule: as given.
        last_epoch: the calls to ``step()`` so far: the epoch (or step) now trained.
        base_lrs: each group's lr when the scheduler was made, as PyTorch's.
    """

    def __init__(self, optimizer: Any, schedule: Callable[[int], float]) -> None:
        name = "LRScheduler"
        if not (hasattr(optimizer, "param_groups") and hasattr(optimizer, "defaults")):
            raise GraphgradTypeError(
                f"{name} takes an optimizer first, then a schedule: "
                f"LRScheduler(optimizer, optim.StepDecay(0.1)), got {setting_text(optimizer)}")
        if not callable(schedule):
            raise GraphgradTypeError(
                f"{name}: schedule must be a function of the epoch giving its learning rate, "
                f"such as optim.StepDecay(0.1, 0.1, every=30), got {setting_text(schedule)}")
        self.optimizer, self.schedule = optimizer, schedule
        self._momentum = momentum_setting(schedule, optimizer, name)
        self.base_lrs = [float(group["lr"]) for group in optimizer.param_groups]
        self.last_epoch = 0
        self._set(0)

    def _follows_cost(self) -> bool:
        return callable(getattr(under_warmups(self.schedule), "step", None))

    def _set(self, epoch: int) -> None:
        """optimizer.lr (and the momentum a schedule cycles) = the schedule's at ``epoch``;
        at the end of a schedule that ends (a `OneCycle`), its last step's: the step()
        after the last batch asks for it, and no optimizer step uses it."""
        if epoch == steps_of(self.schedule):
            epoch -= 1
        rate = real_number(self.schedule(epoch), f"schedule({epoch})", "LRScheduler",
                           lambda x: 0.0 <= x < math.inf, "a learning rate, >= 0 and finite")
        self.optimizer.lr = rate
        if self._momentum:
            set_momentum(self.optimizer, self._momentum, self.schedule.momentum(epoch))
        self._last_lr = [float(group["lr"]) for group in self.optimizer.param_groups]

    def step(self, metric: float | None = None) -> None:
        """Count an epoch (or a step) done and set the next one's rate. ``metric``: the
        epoch's dev cost (or accuracy), for a schedule that follows it (`ReduceOnPlateau`),
        and only for one."""
        schedule = under_warmups(self.schedule)
        if metric is None and self._follows_cost():
            raise ArgumentError(
                f"LRScheduler.step: the schedule {type(schedule).__name__} follows a cost: "
                "write scheduler.step(dev_cost) after each epoch, as PyTorch's "
                "ReduceLROnPlateau.step(metrics)")
        if metric is not None:
            if not self._follows_cost():
                raise ArgumentError(
                    f"LRScheduler.step: the schedule {type(schedule).__name__} does not follow "
                    f"a cost, so step takes none (got {setting_text(metric)}): write "
                    "scheduler.step(); it counts the epochs itself (PyTorch's step(epoch) is "
                    "deprecated)")
            self.schedule.step(metric)
        self._set(self.last_epoch + 1)  # counted once set: a step past the end is refused
        self.last_epoch += 1

    def get_last_lr(self) -> list[float]:
        """Each parameter group's learning rate, as the last ``step()`` (or the
        constructor) set it: what the next ``optimizer.step()`` uses, unless changed since."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """``last_epoch``, ``base_lrs`` and ``last_lr``, and the state of a schedule that
        has one (`ReduceOnPlateau`'s, as ``"schedule.best"``, ...), for ``gg.save``; the
        schedule itself is the constructor's."""
        state: dict[str, Any] = {"last_epoch": self.last_epoch,
                                 "base_lrs": np.array(self.base_lrs),
                                 "last_lr": np.array(self._last_lr)}
        inner = under_warmups(self.schedule)
        if callable(getattr(inner, "state_dict", None)):
            state.update({f"schedule.{key}": value for key, value in inner.state_dict().items()})
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Go on from a saved `state_dict`: the count, the schedule's state, and the
        optimizer's learning rate set to the schedule's at ``last_epoch`` (as the
        optimizer's own state dict has it)."""
        name = "LRScheduler.load_state_dict"
        if not isinstance(state, Mapping):
            raise not_a_state_error(name, state, "scheduler")
        if "last_epoch" not in state:
            raise ArgumentError(f"{name}: the state has no last_epoch: pass what "
                                "LRScheduler.state_dict() gave")
        last = state["last_epoch"]
        last = last.item() if isinstance(last, np.ndarray) and last.ndim == 0 else last
        last = whole_number(last, "last_epoch", name, least=0)
        inner = under_warmups(self.schedule)
        own = {key[len("schedule."):]: value for key, value in state.items()
               if key.startswith("schedule.")}
        loads = callable(getattr(inner, "load_state_dict", None))
        if own and not loads:
            raise ArgumentError(
                f"{name}: the state holds a schedule's state ({', '.join(sorted(own))}), but "
                f"this scheduler's {type(inner).__name__} has none: make the scheduler with "
                "the schedule it was saved with")
        if loads:
            if not own:
                raise ArgumentError(
                    f"{name}: the state holds no state of the schedule {type(inner).__name__} "
                    "(its best cost and counters): pass what LRScheduler.state_dict() gave for "
                    "a scheduler of the same schedule")
            inner.load_state_dict(own)
        if "base_lrs" in state:
            self.base_lrs = [float(x) for x in np.ravel(state["base_lrs"])]
        self.last_epoch = last
        self._set(last)

    def __repr__(self) -> str:
        return (f"LRScheduler({type(self.optimizer).__name__}, {self.schedule!r}, "
                f"last_epoch={self.last_epoch})")
