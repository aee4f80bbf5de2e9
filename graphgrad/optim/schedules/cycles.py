"""Schedules that rise and fall: `OneCycle` (with the momentum it can cycle), `Cyclic` and
`CosineWarmRestarts`, PyTorch's OneCycleLR, CyclicLR and CosineAnnealingWarmRestarts.
Depends on `errors` and `schedules.base`."""

from __future__ import annotations

import math

from graphgrad.errors import (
    ArgumentError,
    flag,
    real_number,
    setting_text,
    whole_number,
)
from graphgrad.optim.schedules.base import Schedule, _in_0_1, _positive

__all__ = ["CosineWarmRestarts", "Cyclic", "OneCycle"]


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
    its ``beta1`` (Adam, AdamW, Adamax, NAdam, RAdam), in every group, those that gave their
    own too, as PyTorch's OneCycleLR sets every group's before each step (its betas[0]); an
    optimizer with neither is refused before training. Off by
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
