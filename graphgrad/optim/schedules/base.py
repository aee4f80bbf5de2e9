"""The base of every schedule: `Schedule`, a function of the epoch (or step) giving the
learning rate, and the checks its subclasses share. Depends on `errors`."""

from __future__ import annotations

import math
import numbers

from graphgrad.errors import (
    real_number,
    whole_number,
)

__all__ = ["Schedule"]


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
