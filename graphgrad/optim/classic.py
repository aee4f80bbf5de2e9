"""The two older methods ``torch.optim`` offers besides SGD and Adam's family: Rprop, which
steps by the signs of the gradients alone, and ASGD, gradient descent with a decaying rate
and an average of the parameters (Polyak and Juditsky), with PyTorch's formulas.

Each keeps its state per parameter as PyTorch does, arrays of the parameter's shape and
numbers of their own (shape ``()``: a step count, ASGD's rate eta and averaging weight mu),
all in the state dict, saved and resumed exactly by ``gg.save`` / ``gg.load``; the state of a
parameter starts at its first step with a gradient, as PyTorch's, so its first step size (or
eta) is the group's lr then, the one a schedule set before the first step. Both ascend J with
``maximize=True``. Depends on `optim.optimizer`, `tensor`, `errors`.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from graphgrad.errors import ArgumentError
from graphgrad.optim.optimizer import Optimizer, _Setting, _write, zeros_of
from graphgrad.tensor import Tensor

__all__ = ["ASGD", "Rprop"]


def _count(p: Tensor) -> np.ndarray:
    """A number kept per parameter (a step count, a rate), as an array of shape () in the
    parameter's dtype, saved in the state dict as the arrays are."""
    return np.zeros((), p.data.dtype)


class Rprop(Optimizer):
    """Rprop (Riedmiller and Braun, resilient backpropagation), as ``torch.optim.Rprop``:
    each weight has its own step size, which grows while its gradient keeps its sign and
    shrinks when the sign flips; the step moves the weight by its step size against the
    gradient's sign, whatever the gradient's size::

        s = sign(dW * dW_prev)                          (elementwise)
        step_size = clip(step_size * (eta_plus if s > 0, eta_minus if s < 0, 1 if s = 0),
                         step_size_min, step_size_max)
        dW = 0 where s < 0   (the sign flipped: a step was too far, no move this time)
        W = W - sign(dW) * step_size;   dW_prev = dW

    The step sizes start at lr, at the parameter's first step: lr is only the first step
    size, and setting it later (a schedule) changes the parameters that have not stepped
    yet only. Made for full-batch training: with mini-batches the gradients' signs flip by
    noise. ``torch.optim.Rprop(lr, etas=(a, b), step_sizes=(lo, hi))`` is ``Rprop(lr,
    eta_minus=a, eta_plus=b, step_size_min=lo, step_size_max=hi)``, the course's way of
    writing PyTorch's pairs (Adam's betas as beta1, beta2). No weight decay, as PyTorch's.
    State: ``prev`` (dW_prev), ``step_size`` and ``step``, the parameter's step count.

    Args:
        params: model.parameters(), or groups of it with their own settings (see `Optimizer`).
        lr: the first step size (0.01, PyTorch's).
        eta_minus, eta_plus: the step size's factors when the sign flips (in (0, 1), 0.5)
            and when it holds (above 1, 1.2).
        step_size_min, step_size_max: the step sizes' bounds (1e-6 and 50), at least 0 and
            the first at most the second.
        maximize: ascend J rather than descend it, as `SGD`'s.
        options: PyTorch's keywords for how its step is computed, which change nothing
            here: foreach, capturable; differentiable=True is refused (`check_torch_options`).
    """

    state_names = ("prev", "step_size", "step")
    torch_names = {"etas": "etas=(a, b) is eta_minus=a, eta_plus=b",
                   "step_sizes": "step_sizes=(lo, hi) is step_size_min=lo, step_size_max=hi"}
    hyper_names = ("eta_minus", "eta_plus", "step_size_min", "step_size_max", "maximize")
    decay_in_gradient = False  # none: weight_decay is not a setting of Rprop
    eta_minus = _Setting()
    eta_plus = _Setting()
    step_size_min = _Setting()
    step_size_max = _Setting()
    maximize = _Setting()

    def __init__(self, params: Iterable[Tensor] | Iterable[Mapping[str, Any]],
                 lr: float = 0.01, eta_minus: float = 0.5, eta_plus: float = 1.2,
                 step_size_min: float = 1e-6, step_size_max: float = 50.0, *,
                 maximize: bool = False, **options: Any) -> None:
        super().__init__(params, lr, None, eta_minus=eta_minus, eta_plus=eta_plus,
                         step_size_min=step_size_min, step_size_max=step_size_max,
                         maximize=maximize, options=options)

    def _add_groups(self, groups: list[tuple[dict[str, float], list[Any]]]) -> None:
        for i, (own, _) in enumerate(groups, start=len(self.param_groups)):
            settings = {**self.defaults, **own}
            low, high = settings["step_size_min"], settings["step_size_max"]
            if low > high:
                where = f"parameter group {i}: " if len(self.param_groups) + len(groups) > 1 \
                    else ""
                raise ArgumentError(
                    f"Rprop: {where}step_size_min ({low:g}) must be at most step_size_max "
                    f"({high:g}): the step sizes are kept between them")
        super()._add_groups(groups)

    def _new_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, np.ndarray]:
        return {"prev": zeros_of(p), "step_size": zeros_of(p), "step": _count(p)}

    def _update(self, p: Tensor, g: np.ndarray, group: dict[str, Any], state: dict,
                scratch: np.ndarray) -> None:
        prev, step_size, step = state["prev"], state["step_size"], state["step"]
        if step == 0:  # the parameter's first step: its step sizes start at lr, as PyTorch's
            step_size.fill(group["lr"])
        step += 1
        np.multiply(g, prev, out=scratch)
        flipped = scratch < 0
        # The factors in the parameter's dtype, as PyTorch's (the gradient's): a float32 step
        # size times float32(1.2), not 1.2, which rounds differently.
        factor = np.ones_like(step_size)
        factor[scratch > 0] = group["eta_plus"]
        factor[flipped] = group["eta_minus"]
        step_size *= factor
        np.clip(step_size, group["step_size_min"], group["step_size_max"], out=step_size)
        np.copyto(prev, g)
        prev[flipped] = 0.0  # no move where the sign flipped, and no flip counted next step
        np.sign(prev, out=scratch)
        scratch *= step_size
        _write(p, np.subtract, scratch)


class ASGD(Optimizer):
    """Averaged stochastic gradient descent (Polyak and Juditsky; Bottou's schedule), as
    ``torch.optim.ASGD``: gradient descent with a rate eta that decays with the steps and a
    weight decay lambd, keeping ``ax``, the average of the parameters over the steps from
    t0 on, which is the model to use once trained (copy it in: ``p.data[...] =
    optimizer.averaged(p)``)::

        W = W (1 - lambd eta) - eta dW            (eta: the rate this step, lr at the first)
        ax = W while mu = 1, else ax + mu (W - ax)
        then, for the next step:  eta = lr / (1 + lambd lr t)**alpha,   mu = 1 / max(1, t - t0)

    t the parameter's step count, after this step. So ax is W itself until step t0 + 2 (mu
    is 1 until then), and from there the mean of W over the steps since step t0 + 2. Each
    parameter keeps its eta, mu and t (state ``eta``, ``mu``, ``step``, and the average
    ``ax``), as PyTorch's: eta is computed from the lr of the step before, so a schedule
    setting lr changes the next step's eta. PyTorch keeps eta
    and mu in its default dtype (float32 unless ``torch.set_default_dtype(torch.float64)``),
    these in the parameter's.

    Args:
        params: model.parameters(), or groups of it with their own settings (see `Optimizer`).
        lr: the first rate (0.01, PyTorch's).
        lambd: the decay, of both eta and W (1e-4), >= 0.
        alpha: the power of eta's decay (0.75), >= 0.
        t0: the step after which averaging starts (1e6: none in a short run), >= 0.
        weight_decay: adds weight_decay * p to the gradient of every parameter p it applies
            to, the biases' too (see `SGD`).
        maximize: ascend J rather than descend it, as `SGD`'s.
        options: PyTorch's keywords for how its step is computed, which change nothing
            here: foreach, capturable; differentiable=True is refused (`check_torch_options`).
    """

    state_names = ("step", "eta", "mu", "ax")
    hyper_names = ("lambd", "alpha", "t0", "maximize")
    lambd = _Setting()
    alpha = _Setting()
    t0 = _Setting()
    maximize = _Setting()

    def __init__(self, params: Iterable[Tensor] | Iterable[Mapping[str, Any]],
                 lr: float = 0.01, lambd: float = 1e-4, alpha: float = 0.75, t0: float = 1e6,
                 weight_decay: float = 0.0, *, maximize: bool = False, **options: Any) -> None:
        super().__init__(params, lr, weight_decay, lambd=lambd, alpha=alpha, t0=t0,
                         maximize=maximize, options=options)

    def _new_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, np.ndarray]:
        mu = _count(p)
        mu.fill(1.0)
        return {"step": _count(p), "eta": _count(p), "mu": mu, "ax": zeros_of(p)}

    def averaged(self, p: Tensor) -> np.ndarray:
        """The average ``ax`` of parameter ``p`` (one of ``optimizer.params``), a copy: p's own
        values until step t0 + 2, their mean over the steps from that one on after it. A
        parameter that has not stepped yet (no gradient so far: a frozen or unused one) has
        no average but its values, which are given (its ``ax`` holds zeros until its first
        step, as PyTorch's, which has no state for it at all)."""
        for q, state in zip(self.params, self.state):
            if q is p:
                return (state["ax"] if state["step"] else p.data).copy()
        raise ArgumentError(f"ASGD.averaged: p ({type(p).__name__}) is not one of this "
                            "optimizer's parameters; pass one of optimizer.params")

    def _update(self, p: Tensor, g: np.ndarray, group: dict[str, Any], state: dict,
                scratch: np.ndarray) -> None:
        step, eta, mu, ax = state["step"], state["eta"], state["mu"], state["ax"]
        lr, lambd = group["lr"], group["lambd"]
        if step == 0:  # the parameter's first step: eta starts at lr, as PyTorch's
            eta[...] = lr
        step += 1
        rate = float(eta)
        _write(p, np.multiply, 1.0 - lambd * rate)
        np.multiply(g, rate, out=scratch)
        _write(p, np.subtract, scratch)
        if mu != 1:
            np.subtract(p.data, ax, out=scratch)
            scratch *= mu
            ax += scratch
        else:
            np.copyto(ax, p.data)
        t = float(step)
        eta[...] = lr / ((1 + lambd * lr * t) ** group["alpha"])
        mu[...] = 1 / max(1, t - group["t0"])
