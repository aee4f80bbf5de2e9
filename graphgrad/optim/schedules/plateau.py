"""`ReduceOnPlateau`: the schedule that follows the cost (PyTorch's ReduceLROnPlateau), told
it by ``step(cost)`` after each epoch, with a state dict. Depends on `errors`,
`schedules.base` and `tensor` (a cost given as a Tensor)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    not_a_state_error,
    real_number,
    setting_text,
    whole_number,
)
from graphgrad.optim.schedules.base import Schedule
from graphgrad.tensor import Tensor

__all__ = ["ReduceOnPlateau"]


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
        if isinstance(cost, Tensor) and cost.size == 1:  # a loss as computed, recorded or not:
            cost = cost.item()  # its value, as PyTorch's float(metrics); no gradient comes here
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
