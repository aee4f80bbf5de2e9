"""The variants of Adam and RMSprop that ``torch.optim`` offers besides them: Adamax, NAdam,
RAdam and Adadelta, with PyTorch's formulas in the course's notation (v_dW, s_dW, beta1,
beta2, and t, the parameter's step count, as PyTorch's, see `_StepsPerParameter`).

Each keeps its state per parameter as `Adam` does (``state.i.v`` ... in the state dict, saved
and resumed exactly by ``gg.save`` / ``gg.load``), adds ``weight_decay * W`` to dW (L2, as
PyTorch's default; NAdam and RAdam decay W itself with ``decoupled_weight_decay=True``, as
`AdamW` and PyTorch's) and ascends J with ``maximize=True``. Updates are in place,
with the parameter's scratch array, as in `optim.optimizers`. Depends on `optim.optimizer`,
`optim.classic` (its per-parameter counts), `io` (a loaded state), `tensor`.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from graphgrad.errors import not_a_state_error
from graphgrad.io import StateDict
from graphgrad.optim.classic import _count
from graphgrad.optim.optimizer import (
    Optimizer,
    _number,
    _Setting,
    _write,
    average_into,
    average_square_into,
    zeros_of,
)
from graphgrad.tensor import Tensor

__all__ = ["Adadelta", "Adamax", "NAdam", "RAdam"]


def _decay_decoupled(group: dict[str, Any], slots: list) -> dict[str, Any]:
    """PyTorch's ``decoupled_weight_decay`` (NAdam's, RAdam's): W = W (1 - alpha
    weight_decay) for each parameter with a gradient, before its step, as `AdamW` decays;
    the group to step with then, without the decay in dW (a copy with weight_decay 0), or
    ``group`` itself when the group's decay is not decoupled."""
    decay = group["weight_decay"]
    if not decay or not group.get("decoupled_weight_decay"):
        return group
    shrink = 1.0 - group["lr"] * decay
    for p, _, _ in slots:
        if p.grad is not None:
            _write(p, np.multiply, shrink)
    return {**group, "weight_decay": 0.0}


class _StepsPerParameter(Optimizer):
    """An optimizer whose step depends on each parameter's own step count t, as PyTorch's
    ``state["step"]``: the steps at which the parameter had a gradient, from its first. A
    parameter without a gradient at some steps, or given its first one late, counts its own
    steps, as does one in a group added later. The count is kept in the state (``step``, an
    array of shape () in the parameter's dtype, ``"state.0.step"`` in the state dict); a state
    saved when the group's steps were counted instead loads with each parameter's count its
    group's (what its next step would have used, plus one)."""

    def _new_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, np.ndarray]:
        # The averages, of p's shape, and the numbers of shape (): the count (and NAdam's M_t).
        return {key: _count(p) if key in ("step", "mu_product") else zeros_of(p)
                for key in self.state_names}

    def _step_group(self, group: dict[str, Any], slots: list, t: int) -> None:
        super()._step_group(_decay_decoupled(group, slots), slots, t)

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """`Optimizer.load_state_dict`; a state saved when steps were counted per group (no
        ``"state.0.step"``) gives each parameter its group's count (`_with_steps`)."""
        if not isinstance(state, Mapping):
            raise not_a_state_error(f"{type(self).__name__}.load_state_dict", state,
                                    "optimizer")
        super().load_state_dict(self._with_steps(state))

    def _with_steps(self, state: Mapping[str, Any]) -> Mapping[str, Any]:
        """``state``, or, when it has no per-parameter counts, a copy with each parameter's
        (``"state.i.step"``) its group's count (``"group.g.t"``, or ``"t"``) and what
        `_old_state` adds. A state whose counts are not whole numbers is returned as it is,
        for `Optimizer.load_state_dict` to say what is wrong with it."""
        if any(key.startswith("state.") and key.endswith(".step") for key in state):
            return state
        saved_groups = self._saved_groups(state)  # another optimizer's state is named first
        try:
            t = int(np.asarray(state.get("t", 0)))
            counts = [int(np.asarray(state.get(f"group.{g}.t", t)))
                      for g in range(len(self.param_groups))]
        except (TypeError, ValueError):
            return state
        filled = StateDict(state)
        filled.source = getattr(state, "source", None)
        for g, indices in enumerate(self._indices()):
            for i in indices:
                filled[f"state.{i}.step"] = counts[g]
        self._old_state(state, filled, saved_groups, counts)
        return filled

    def _old_state(self, state: Mapping[str, Any], filled: dict[str, Any],
                   saved_groups: list[dict[str, Any]], counts: list[int]) -> None:
        """What else a state saved with per-group counts lacks, added to ``filled``."""


class Adamax(_StepsPerParameter):
    """Adamax (Kingma and Ba, section 7.1), as ``torch.optim.Adamax``: Adam with the root mean
    square of the gradients replaced by a decaying maximum of their sizes (the infinity norm)::

        v_dW = beta1 v_dW + (1 - beta1) dW
        u_dW = max(beta2 u_dW, |dW| + eps)          (elementwise, from 0)
        W = W - alpha / (1 - beta1**t) * v_dW / u_dW

    u_dW needs no bias correction: a maximum is not pulled towards its zero start as an
    average is. eps is added to |dW| (PyTorch's place for it), so that u_dW > 0.

    ``torch.optim.Adamax(lr, betas=(b1, b2))`` is ``Adamax(lr, beta1=b1, beta2=b2)``; t is
    the parameter's step count, as PyTorch's (the steps it had a gradient at, see
    `_StepsPerParameter`). State: ``v``, ``u`` and ``step`` per parameter (PyTorch's exp_avg,
    exp_inf, step).

    Args:
        params: model.parameters(), or groups of it with their own settings (see `Optimizer`).
        lr: alpha (PyTorch's default 0.002).
        beta1, beta2, eps: 0.9, 0.999, 1e-8, as PyTorch's.
        weight_decay: adds weight_decay * p to the gradient of every parameter p it applies
            to, the biases' too (see `SGD`).
        maximize: ascend J rather than descend it, as `SGD`'s.
        options: PyTorch's keywords for how its step is computed, which change nothing
            here: foreach, capturable; differentiable=True is refused (`check_torch_options`).
    """

    state_names = ("v", "u", "step")
    torch_names = {"betas": "betas=(b1, b2) is beta1=b1, beta2=b2"}
    hyper_names = ("beta1", "beta2", "eps", "maximize")
    beta1 = _Setting()
    beta2 = _Setting()
    eps = _Setting()
    maximize = _Setting()

    def __init__(self, params: Iterable[Tensor] | Iterable[Mapping[str, Any]],
                 lr: float = 0.002, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 weight_decay: float = 0.0, *, maximize: bool = False, **options: Any) -> None:
        super().__init__(params, lr, weight_decay, beta1=beta1, beta2=beta2, eps=eps,
                         maximize=maximize, options=options)

    def _update(self, p: Tensor, g: np.ndarray, group: dict[str, Any], state: dict,
                scratch: np.ndarray) -> None:
        v, u, step = state["v"], state["u"], state["step"]
        step += 1
        # alpha / (1 - beta1**t), a Python float, so that a float32 step stays in float32.
        step_scale = group["lr"] / (1.0 - group["beta1"] ** float(step))
        average_into(v, g, group["beta1"], scratch)
        u *= group["beta2"]
        np.abs(g, out=scratch)
        scratch += group["eps"]
        np.maximum(u, scratch, out=u)
        np.divide(v, u, out=scratch)
        scratch *= step_scale
        _write(p, np.subtract, scratch)


class NAdam(_StepsPerParameter):
    """NAdam (Dozat: Adam with Nesterov's momentum), as ``torch.optim.NAdam``: the step
    looks ahead as Nesterov's does, taking this step's gradient with the weight of the
    momentum it will have next, with a momentum beta1 mu_t that grows towards beta1 over the
    first steps (PyTorch's momentum_decay schedule, 4e-3 by default)::

        mu_t = beta1 (1 - 0.5 * 0.96**(t * momentum_decay));   M_t = mu_1 mu_2 ... mu_t
        v_dW = beta1 v_dW + (1 - beta1) dW;   s_dW = beta2 s_dW + (1 - beta2) dW**2
        D = sqrt(s_dW / (1 - beta2**t)) + eps
        W = W - alpha (1 - mu_t) / (1 - M_t) dW / D - alpha mu_(t+1) / (1 - M_(t+1)) v_dW / D

    ``torch.optim.NAdam(lr, betas=(b1, b2), momentum_decay=m)`` is ``NAdam(lr, beta1=b1,
    beta2=b2, momentum_decay=m)``. t is the parameter's step count, as PyTorch's (the steps it
    had a gradient at), and M_t is kept per parameter as t is (PyTorch's ``mu_product``): each
    step multiplies its mu_t, with its beta1 and momentum_decay, into M_(t-1), so a beta1
    changed during training (`OneCycle`'s ``cycle_momentum``) enters M_t from the step it was
    changed at, as in PyTorch. M_t is kept in the parameter's dtype, as PyTorch keeps it in its
    default dtype (float32 unless ``torch.set_default_dtype(torch.float64)``). A state saved
    when NAdam counted the group's steps loads with each parameter's t and M_t its group's
    (``"group.0.mu_product"``; or, saved before M_t was kept, the product of the mu_i of steps
    1 to t with the group's beta1 and momentum_decay, as NAdam computed it then). State:
    ``v``, ``s``, ``step`` and ``mu_product`` per parameter (PyTorch's exp_avg, exp_avg_sq,
    step, mu_product).

    Args:
        params: model.parameters(), or groups of it with their own settings (see `Optimizer`).
        lr: alpha (PyTorch's default 0.002).
        beta1, beta2, eps: 0.9, 0.999, 1e-8, as PyTorch's.
        weight_decay: adds weight_decay * p to the gradient of every parameter p it applies
            to, the biases' too (see `SGD`); with decoupled_weight_decay, p = p (1 - alpha
            weight_decay) before the step instead, as `AdamW` (PyTorch's NAdamW).
        momentum_decay: how fast mu_t grows towards beta1 (>= 0; 0 keeps it at beta1 / 2).
        decoupled_weight_decay: decay W itself rather than add to dW (False, PyTorch's).
        maximize: ascend J rather than descend it, as `SGD`'s.
        options: PyTorch's keywords for how its step is computed, which change nothing
            here: foreach, capturable; differentiable=True is refused (`check_torch_options`).
    """

    state_names = ("v", "s", "step", "mu_product")
    torch_names = {"betas": "betas=(b1, b2) is beta1=b1, beta2=b2"}
    hyper_names = ("beta1", "beta2", "eps", "momentum_decay", "decoupled_weight_decay",
                   "maximize")
    beta1 = _Setting()
    beta2 = _Setting()
    eps = _Setting()
    momentum_decay = _Setting()
    decoupled_weight_decay = _Setting()
    maximize = _Setting()

    def __init__(self, params: Iterable[Tensor] | Iterable[Mapping[str, Any]],
                 lr: float = 0.002, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum_decay: float = 4e-3, *,
                 decoupled_weight_decay: bool = False, maximize: bool = False,
                 **options: Any) -> None:
        super().__init__(params, lr, weight_decay, beta1=beta1, beta2=beta2, eps=eps,
                         momentum_decay=momentum_decay,
                         decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                         options=options)

    def _new_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, np.ndarray]:
        state = super()._new_state(p, group)
        state["mu_product"].fill(1.0)  # M_0: no step yet
        return state

    @staticmethod
    def _mu(beta1: float, momentum_decay: float, t: float) -> float:
        return beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))

    # -- states saved when t and M_t were the group's ----------------------------------------
    def _own_keys(self, state: Mapping[str, Any]) -> list[str]:
        return [key for key in (f"group.{i}.mu_product" for i in range(len(self._groups)))
                if key in state]

    def _old_state(self, state: Mapping[str, Any], filled: dict[str, Any],
                   saved_groups: list[dict[str, Any]], counts: list[int]) -> None:
        """Each parameter's M_t, its group's: as saved (``"group.1.mu_product"``, checked as
        a number in [0, 1]), or, in a state saved before it was kept, the product of the mu_i
        of the group's steps 1 to t with the group's saved beta1 and momentum_decay."""
        where = self._where(state)
        for g, indices in enumerate(self._indices()):
            key = f"group.{g}.mu_product"
            if key in state:
                product = _number(state[key], key, where,
                                  (lambda x: 0.0 <= x <= 1.0, "in [0, 1]"))
            else:
                settings = {**self.defaults, **saved_groups[g]}
                beta1 = float(np.asarray(settings["beta1"]))
                decay = float(np.asarray(settings["momentum_decay"]))
                product = 1.0
                for step in range(1, counts[g] + 1):
                    product *= self._mu(beta1, decay, step)
            for i in indices:
                filled[f"state.{i}.mu_product"] = product

    def _denominator(self, s: np.ndarray, correction2: float, eps: float,
                     scratch: np.ndarray) -> None:
        """scratch = sqrt(s_dW / (1 - beta2**t)) + eps."""
        np.divide(s, correction2, out=scratch)
        np.sqrt(scratch, out=scratch)
        scratch += eps

    def _update(self, p: Tensor, g: np.ndarray, group: dict[str, Any], state: dict,
                scratch: np.ndarray) -> None:
        step, product = state["step"], state["mu_product"]
        step += 1
        t = float(step)
        # The coefficients as Python floats (a float32 step stays in float32), from M_t as
        # kept (rounded to its dtype, as PyTorch reads its mu_product).
        beta1, decay, lr, eps = (group["beta1"], group["momentum_decay"], group["lr"],
                                 group["eps"])
        mu, mu_next = self._mu(beta1, decay, t), self._mu(beta1, decay, t + 1.0)
        product *= mu
        m_t = float(product)
        grad_scale = lr * (1.0 - mu) / (1.0 - m_t)
        avg_scale = lr * mu_next / (1.0 - m_t * mu_next)
        correction2 = 1.0 - group["beta2"] ** t
        v, s = state["v"], state["s"]
        average_into(v, g, beta1, scratch)
        average_square_into(s, g, group["beta2"], scratch)
        # The two terms in turn, as PyTorch's two addcdiv_: D is made twice, so that scratch
        # is the only array the step needs.
        self._denominator(s, correction2, eps, scratch)
        np.divide(g, scratch, out=scratch)
        scratch *= grad_scale
        _write(p, np.subtract, scratch)
        self._denominator(s, correction2, eps, scratch)
        np.divide(v, scratch, out=scratch)
        scratch *= avg_scale
        _write(p, np.subtract, scratch)


class RAdam(_StepsPerParameter):
    """RAdam (Liu et al., Rectified Adam), as ``torch.optim.RAdam``: Adam whose adaptive step
    (dividing by sqrt(s_dW)) is switched on only once s_dW averages enough gradients to be
    trusted, and scaled down by a rectification r_t while it is still young. No warm-up of the
    learning rate is needed::

        v_dW, s_dW as Adam's;   rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 t beta2**t / (1 - beta2**t)   (the length of s_dW's average)
        rho_t > 5:  r_t = sqrt((rho_t - 4) (rho_t - 2) rho_inf
                               / ((rho_inf - 4) (rho_inf - 2) rho_t))
                    W = W - alpha r_t v_dW / (1 - beta1**t)
                              * sqrt(1 - beta2**t) / (sqrt(s_dW) + eps)
        otherwise:  W = W - alpha v_dW / (1 - beta1**t)   (momentum SGD, Adam's first moment)

    rho_1 = 1, and rho_t passes 5 at t = 6 with beta2 = 0.999 (and with 0.99 or 0.9): the first
    five steps are SGD with momentum. t is the parameter's step count, as PyTorch's (the steps
    it had a gradient at; see `NAdam`), so each parameter switches after its own first five.
    ``torch.optim.RAdam(lr, betas=(b1, b2))`` is ``RAdam(lr, beta1=b1, beta2=b2)``. State:
    ``v``, ``s`` and ``step`` per parameter.

    Args:
        params: model.parameters(), or groups of it with their own settings (see `Optimizer`).
        lr: alpha (0.001, PyTorch's default).
        beta1, beta2, eps: 0.9, 0.999, 1e-8, as PyTorch's.
        weight_decay: adds weight_decay * p to the gradient of every parameter p it applies
            to, the biases' too (see `SGD`); with decoupled_weight_decay, p = p (1 - alpha
            weight_decay) before the step instead, as `AdamW` (PyTorch's RAdamW).
        decoupled_weight_decay: decay W itself rather than add to dW (False, PyTorch's).
        maximize: ascend J rather than descend it, as `SGD`'s.
        options: PyTorch's keywords for how its step is computed, which change nothing
            here: foreach, capturable; differentiable=True is refused (`check_torch_options`).
    """

    state_names = ("v", "s", "step")
    torch_names = {"betas": "betas=(b1, b2) is beta1=b1, beta2=b2"}
    hyper_names = ("beta1", "beta2", "eps", "decoupled_weight_decay", "maximize")
    beta1 = _Setting()
    beta2 = _Setting()
    eps = _Setting()
    decoupled_weight_decay = _Setting()
    maximize = _Setting()

    def __init__(self, params: Iterable[Tensor] | Iterable[Mapping[str, Any]],
                 lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 weight_decay: float = 0.0, *, decoupled_weight_decay: bool = False,
                 maximize: bool = False, **options: Any) -> None:
        super().__init__(params, lr, weight_decay, beta1=beta1, beta2=beta2, eps=eps,
                         decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                         options=options)

    def _update(self, p: Tensor, g: np.ndarray, group: dict[str, Any], state: dict,
                scratch: np.ndarray) -> None:
        step = state["step"]
        step += 1
        t = float(step)
        # rho_t, r_t and the corrections as Python floats (a float32 step stays in float32).
        b2 = group["beta2"]
        correction1, correction2 = 1.0 - group["beta1"] ** t, 1.0 - b2 ** t
        rho_inf = 2.0 / (1.0 - b2) - 1.0
        rho_t = rho_inf - 2.0 * t * b2 ** t / correction2
        average_into(state["v"], g, group["beta1"], scratch)
        average_square_into(state["s"], g, b2, scratch)
        if rho_t > 5.0:  # the rectified adaptive step
            r_t = math.sqrt((rho_t - 4.0) * (rho_t - 2.0) * rho_inf
                            / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
            np.sqrt(state["s"], out=scratch)
            scratch += group["eps"]
            np.divide(state["v"], scratch, out=scratch)
            scratch *= group["lr"] * r_t * math.sqrt(correction2) / correction1
        else:  # the first steps': W = W - alpha v_dW / (1 - beta1**t)
            np.multiply(state["v"], group["lr"] / correction1, out=scratch)
        _write(p, np.subtract, scratch)


class Adadelta(Optimizer):
    """Adadelta (Zeiler), as ``torch.optim.Adadelta``: RMSprop whose learning rate is itself
    learnt, the root mean square of the last updates over that of the gradients, so that an
    update has the units of W::

        s_dW = beta s_dW + (1 - beta) dW**2
        delta = sqrt(s_delta + eps) / sqrt(s_dW + eps) * dW
        s_delta = beta s_delta + (1 - beta) delta**2
        W = W - alpha delta

    Zeiler's method has no learning rate: alpha = 1 (the default, PyTorch's) is his; a
    smaller alpha shrinks the steps but not s_delta, which averages the deltas themselves.
    eps is inside both roots: the first steps are about sqrt(eps) / |dW| times dW long, as
    s_delta starts from 0.

    ``torch.optim.Adadelta(lr, rho=r)`` is ``Adadelta(lr, beta=r)``: beta, as RMSprop's (the
    course's name for an exponentially weighted average's weight). State: ``s`` and
    ``s_delta`` per parameter (PyTorch's square_avg, acc_delta).

    Args:
        params: model.parameters(), or groups of it with their own settings (see `Optimizer`).
        lr: alpha (1.0, PyTorch's default).
        beta: the averaging of both averages (PyTorch's rho, 0.9), in [0, 1).
        eps: 1e-6, as PyTorch's.
        weight_decay: adds weight_decay * p to the gradient of every parameter p it applies
            to, the biases' too (see `SGD`).
        maximize: ascend J rather than descend it, as `SGD`'s.
        options: PyTorch's keywords for how its step is computed, which change nothing
            here: foreach, capturable; differentiable=True is refused (`check_torch_options`).

    delta is needed twice after s_delta's old value is read, so each parameter has a second
    work array besides its scratch (made at its first step, not saved).
    """

    state_names = ("s", "s_delta")
    torch_names = {"rho": "rho=r is beta=r"}
    hyper_names = ("beta", "eps", "maximize")
    beta = _Setting()
    eps = _Setting()
    maximize = _Setting()

    def __init__(self, params: Iterable[Tensor] | Iterable[Mapping[str, Any]],
                 lr: float = 1.0, beta: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, *, maximize: bool = False, **options: Any) -> None:
        self._work: dict[int, np.ndarray] = {}  # by id of the parameter
        super().__init__(params, lr, weight_decay, beta=beta, eps=eps, maximize=maximize,
                         options=options)

    def _work_of(self, p: Tensor, scratch: np.ndarray) -> np.ndarray:
        """The second work array of ``p``: scratch's shape and dtype (made anew when the
        parameters changed dtype, as the scratch is)."""
        work = self._work.get(id(p))
        if work is None or work.dtype is not scratch.dtype:
            work = self._work[id(p)] = np.empty_like(scratch)
        return work

    def _update(self, p: Tensor, g: np.ndarray, group: dict[str, Any], state: dict,
                scratch: np.ndarray) -> None:
        beta, eps = group["beta"], group["eps"]
        s, s_delta = state["s"], state["s_delta"]
        average_square_into(s, g, beta, scratch)
        work = self._work_of(p, scratch)
        np.add(s, eps, out=work)
        np.sqrt(work, out=work)  # the gradients' root mean square
        np.add(s_delta, eps, out=scratch)
        np.sqrt(scratch, out=scratch)  # the updates'
        scratch /= work
        scratch *= g  # delta
        average_square_into(s_delta, scratch, beta, work)
        scratch *= group["lr"]
        _write(p, np.subtract, scratch)
