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

PyTorch's loop, ``scheduler = StepLR(optimizer, 30, 0.1)`` ... ``scheduler.step()`` after each
epoch, is `LRScheduler` around a schedule, with ``get_last_lr()``, ``last_epoch``,
``base_lrs`` and a state dict: ``scheduler = optim.LRScheduler(optimizer,
optim.StepDecay(0.1, 0.1, every=30))``, alpha0 being the optimizer's lr. PyTorch's
schedulers are these schedules (the optimizer's lr as alpha0)::

    LambdaLR(opt, fn)                              LambdaSchedule(lr, fn)
    MultiplicativeLR(opt, f)                       LambdaSchedule(lr, lambda e: prod of f(1..e))
    StepLR(opt, step_size, gamma=0.1)              StepDecay(lr, factor=gamma, every=step_size)
    MultiStepLR(opt, milestones, gamma=0.1)        MultiStepDecay(lr, milestones, gamma)
    ConstantLR(opt, factor, total_iters)           ConstantWarmup(lr, factor, total)
    LinearLR(opt, start_factor, end_factor, ...)   LinearSchedule(lr, start_factor, end_factor,
                                                   total=total_iters)
    ExponentialLR(opt, gamma)                      ExponentialDecay(lr, rate=gamma)
    PolynomialLR(opt, total_iters, power)          PolynomialDecay(lr, total, power)
    CosineAnnealingLR(opt, T_max, eta_min)         CosineDecay(lr, total=T_max, alpha_min=eta_min)
                                                   (it stays at eta_min after T_max; PyTorch's
                                                   rises again)
    CosineAnnealingWarmRestarts(opt, T_0, T_mult)  CosineWarmRestarts(lr, period, period_mult)
    CyclicLR(opt, base_lr, max_lr, ...)            Cyclic(base_lr, max_lr, ...) (per step)
    OneCycleLR(opt, max_lr, total_steps, ...)      OneCycle(max_lr, total_steps, ...) (per step)
    SequentialLR(opt, schedulers, milestones)      Chain(schedules, milestones)
    ReduceLROnPlateau(opt, mode, factor, ...)      ReduceOnPlateau(lr, mode, factor, ...),
                                                   scheduler.step(dev_cost)

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
from graphgrad.optim.schedules.base import Schedule
from graphgrad.optim.schedules.combined import Chain, Warmup
from graphgrad.optim.schedules.cycles import CosineWarmRestarts, Cyclic, OneCycle
from graphgrad.optim.schedules.decays import (
    ConstantWarmup,
    CosineDecay,
    ExponentialDecay,
    InverseSqrtDecay,
    InverseTimeDecay,
    LambdaSchedule,
    LinearSchedule,
    MultiStepDecay,
    PolynomialDecay,
    StepDecay,
)
from graphgrad.optim.schedules.plateau import ReduceOnPlateau
from graphgrad.optim.schedules.scheduler import LRScheduler

__all__ = ["Chain", "ConstantWarmup", "CosineDecay", "CosineWarmRestarts", "Cyclic",
           "ExponentialDecay", "InverseSqrtDecay", "InverseTimeDecay", "LRScheduler",
           "LambdaSchedule", "LinearSchedule", "MultiStepDecay", "OneCycle", "PolynomialDecay",
           "ReduceOnPlateau", "Schedule", "StepDecay", "Warmup"]
