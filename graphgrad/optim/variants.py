"""The variants of Adam and RMSprop that ``torch.optim`` offers besides them: Adamax, NAdam,
RAdam and Adadelta, with PyTorch's formulas in the course's notation (v_dW, s_dW, beta1,
beta2, the group's step count t: see `Adam`).

Each keeps its state per parameter as `Adam` does (``state.i.v`` ... in the state dict, saved
and resumed exactly by ``gg.save`` / ``gg.load``), adds ``weight_decay * W`` to dW (L2, as
PyTorch's default; NAdam and RAdam decay W itself with ``decoupled_weight_decay=True``, as
`AdamW` and PyTorch's) and ascends J with ``maximize=True``. Updates are in place,
with the parameter's scratch array, as in `optim.optimizers`. Depends on `optim.optimizer`,
`tensor`.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from graphgrad.errors import ArgumentError, not_a_state_error
from graphgrad.optim.optimizer import (
    Optimizer,
    _number,
    _Setting,
    _write,
    average_into,
    average_square_into,
)
from graphgrad.tensor import Tensor

__all__ = ["Adadelta", "Adamax", "NAdam", "RAdam"]


def _decay_decoupled(group: dict[str, Any], slots: list) -> dict[str, Any]:
    """PyTorch's ``decoupled_weight_decay`` (NAdam's, RAdam's): W = W (1 - alpha
    weight_decay) for each parameter with a gradient, before its step, as `AdamW` decays;
    the group to step with then, without the decay in dW (a copy with weight_decay 0), or
    ``group`` itself when the group's decay is not decoupled."""
    decay = group["weight_decay"]
    if not decay or not group["decoupled_weight_decay"]:
        return group
    shrink = 1.0 - group["lr"] * decay
    for p, _, _ in slots:
        if p.grad is not None:
            _write(p, np.multiply, shrink)
    return {**group, "weight_decay": 0.0}


class Adamax(Optimizer):
    """Adamax (Kingma and Ba, section 7.1), as ``torch.optim.Adamax``: Adam with the root mean
    square of the gradients replaced by a decaying maximum of their sizes (the infinity norm)::

        v_dW = beta1 v_dW + (1 - beta1) dW
        u_dW = max(beta2 u_dW, |dW| + eps)          (elementwise, from 0)
        W = W - alpha / (1 - beta1**t) * v_dW / u_dW

    u_dW needs no bias correction: a maximum is not pulled towards its zero start as an
    average is. eps is added to |dW| (PyTorch's place for it), so that u_dW > 0.

    ``torch.optim.Adamax(lr, betas=(b1, b2))`` is ``Adamax(lr, beta1=b1, beta2=b2)``; t is
    the group's step count, as `Adam`'s (PyTorch counts per parameter: see `Adam` for when
    they differ). State: ``v`` and ``u`` per parameter (PyTorch's exp_avg, exp_inf).

    Args:
        params: model.parameters(), or groups of it with their own settings (see `Optimizer`).
        lr: alpha (PyTorch's default 0.002).
        beta1, beta2, eps: 0.9, 0.999, 1e-8, as PyTorch's.
        weight_decay: adds weight_decay * p to the gradient of every parameter p it applies
            to, the biases' too (see `SGD`).
        maximize: ascend J rather than descend it, as `SGD`'s.
    """

    state_names = ("v", "u")
    hyper_names = ("beta1", "beta2", "eps", "maximize")
    beta1 = _Setting()
    beta2 = _Setting()
    eps = _Setting()
    maximize = _Setting()

    def __init__(self, params: Iterable[Tensor] | Iterable[Mapping[str, Any]],
                 lr: float = 0.002, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 weight_decay: float = 0.0, *, maximize: bool = False) -> None:
        super().__init__(params, lr, weight_decay, beta1=beta1, beta2=beta2, eps=eps,
                         maximize=maximize)

    def _step_group(self, group: dict[str, Any], slots: list, t: int) -> None:
        # alpha / (1 - beta1**t), once per group and step; a Python float, so that a float32
        # step stays in float32.
        self._step_scale = group["lr"] / (1.0 - group["beta1"] ** t)
        super()._step_group(group, slots, t)

    def _update(self, p: Tensor, g: np.ndarray, group: dict[str, Any], state: dict,
                scratch: np.ndarray) -> None:
        v, u = state["v"], state["u"]
        average_into(v, g, group["beta1"], scratch)
        u *= group["beta2"]
        np.abs(g, out=scratch)
        scratch += group["eps"]
        np.maximum(u, scratch, out=u)
        np.divide(v, u, out=scratch)
        scratch *= self._step_scale
        _write(p, np.subtract, scratch)


class NAdam(Optimizer):
    """NAdam (Dozat: Adam with Nesterov's momentum), as ``torch.optim.NAdam``: the step
    looks ahead as Nesterov's does, taking this step's gradient with the weight of the
    momentum it will have next, with a momentum beta1 mu_t that grows towards beta1 over the
    first steps (PyTorch's momentum_decay schedule, 4e-3 by default)::

        mu_t = beta1 (1 - 0.5 * 0.96**(t * momentum_decay));   M_t = mu_1 mu_2 ... mu_t
        v_dW = beta1 v_dW + (1 - beta1) dW;   s_dW = beta2 s_dW + (1 - beta2) dW**2
        D = sqrt(s_dW / (1 - beta2**t)) + eps
        W = W - alpha (1 - mu_t) / (1 - M_t) dW / D - alpha mu_(t+1) / (1 - M_(t+1)) v_dW / D

    ``torch.optim.NAdam(lr, betas=(b1, b2), momentum_decay=m)`` is ``NAdam(lr, beta1=b1,
    beta2=b2, momentum_decay=m)``. t is the group's step count, as `Adam`'s, and M_t is kept
    per group as t is: each step multiplies its mu_t, with its beta1 and momentum_decay, into
    M_(t-1), one multiplication whatever t. So a beta1 changed during training (`OneCycle`'s
    ``cycle_momentum``) enters M_t from the step it was changed at, as in PyTorch, which keeps
    the product per parameter (``mu_product``, in its default dtype: float32 unless
    ``torch.set_default_dtype(torch.float64)``; graphgrad's M_t is a Python float). The
    state dict holds each group's (``"group.0.mu_product"``), so a resumed run takes the
    same steps; a state saved before NAdam kept it has none, and the group's M_t is then
    computed at its next step as the product of the mu_i of steps 1 to t with the group's
    beta1 and momentum_decay, as NAdam computed it then. State: ``v`` and ``s`` per
    parameter (PyTorch's exp_avg, exp_avg_sq).

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
    """

    state_names = ("v", "s")
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
                 decoupled_weight_decay: bool = False, maximize: bool = False) -> None:
        # Each group's M_t, the product of its steps' mu_t, as _added_at holds each group's t:
        # None when a state saved before it was kept was loaded (computed at the next step).
        self._mu_products: list[float | None] = []
        super().__init__(params, lr, weight_decay, beta1=beta1, beta2=beta2, eps=eps,
                         momentum_decay=momentum_decay,
                         decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)

    def _add_groups(self, groups: list[tuple[dict[str, float], list[Any]]]) -> None:
        super()._add_groups(groups)
        self._mu_products += [1.0] * len(groups)  # M_0: no step yet

    @staticmethod
    def _mu(beta1: float, momentum_decay: float, t: int) -> float:
        return beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))

    def _number_of(self, group: dict[str, Any]) -> int:
        """The number of ``group`` in param_groups, found by identity (not by ``==``, which
        compares the settings, nor by id(group), which a copy of the optimizer changes)."""
        for i, (held, _) in enumerate(self._groups):
            if held is group:
                return i
        raise ArgumentError(f"{type(self).__name__}._step_group: the group is none of "
                            "param_groups (a copy of one?), whose M_t it keeps: pass the "
                            "group itself")

    def _step_group(self, group: dict[str, Any], slots: list, t: int) -> None:
        # The step's coefficients, once per group, as Python floats (a float32 step stays in
        # float32): that of dW and that of v_dW, each over D.
        beta1, decay, lr = group["beta1"], group["momentum_decay"], group["lr"]
        mu, mu_next = self._mu(beta1, decay, t), self._mu(beta1, decay, t + 1)
        i = self._number_of(group)
        product = self._mu_products[i]
        if product is None:  # loaded from a state without it: M_(t-1) as NAdam made it then
            product = 1.0
            for step in range(1, t):
                product *= self._mu(beta1, decay, step)
        product *= mu
        self._mu_products[i] = product
        self._grad_scale = lr * (1.0 - mu) / (1.0 - product)
        self._avg_scale = lr * mu_next / (1.0 - product * mu_next)
        self._correction2 = 1.0 - group["beta2"] ** t
        super()._step_group(_decay_decoupled(group, slots), slots, t)

    # -- saving and restoring M_t ------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """`Optimizer.state_dict` and each group's M_t (``"group.1.mu_product"``), unless
        it is not known yet (loaded from a state saved before it was kept, and no step since:
        left out, as it came)."""
        out = super().state_dict()
        for i, product in enumerate(self._mu_products):
            if product is not None:
                out[f"group.{i}.mu_product"] = product
        return out

    def _own_keys(self, state: Mapping[str, Any]) -> list[str]:
        return [key for key in (f"group.{i}.mu_product" for i in range(len(self._groups)))
                if key in state]

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """`Optimizer.load_state_dict` and each group's M_t, checked (a number in [0, 1])
        before anything changes. A state saved before M_t was kept has none: the group's M_t
        is then computed at its next step from its beta1 and momentum_decay then, as the
        product of the mu_i of its steps 1 to t."""
        if not isinstance(state, Mapping):
            raise not_a_state_error("NAdam.load_state_dict", state, "optimizer")
        self._saved_groups(state)  # another optimizer's state is named as such first
        where = self._where(state)
        products = [None if key not in state else _number(
            state[key], key, where, (lambda x: 0.0 <= x <= 1.0, "in [0, 1]"))
            for key in (f"group.{i}.mu_product" for i in range(len(self._groups)))]
        super().load_state_dict(state)
        self._mu_products[:] = products

    def _denominator(self, s: np.ndarray, eps: float, scratch: np.ndarray) -> None:
        """scratch = sqrt(s_dW / (1 - beta2**t)) + eps."""
        np.divide(s, self._correction2, out=scratch)
        np.sqrt(scratch, out=scratch)
        scratch += eps

    def _update(self, p: Tensor, g: np.ndarray, group: dict[str, Any], state: dict,
                scratch: np.ndarray) -> None:
        eps = group["eps"]
        v, s = state["v"], state["s"]
        average_into(v, g, group["beta1"], scratch)
        average_square_into(s, g, group["beta2"], scratch)
        # The two terms in turn, as PyTorch's two addcdiv_: D is made twice, so that scratch
        # is the only array the step needs.
        self._denominator(s, eps, scratch)
        np.divide(g, scratch, out=scratch)
        scratch *= self._grad_scale
        _write(p, np.subtract, scratch)
        self._denominator(s, eps, scratch)
        np.divide(v, scratch, out=scratch)
        scratch *= self._avg_scale
        _write(p, np.subtract, scratch)


class RAdam(Optimizer):
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
    five steps are SGD with momentum. t is the group's step count, as `Adam`'s, so the switch is
    made for the whole group at once. ``torch.optim.RAdam(lr, betas=(b1, b2))`` is
    ``RAdam(lr, beta1=b1, beta2=b2)``. State: ``v`` and ``s`` per parameter.

    Args:
        params: model.parameters(), or groups of it with their own settings (see `Optimizer`).
        lr: alpha (0.001, PyTorch's default).
        beta1, beta2, eps: 0.9, 0.999, 1e-8, as PyTorch's.
        weight_decay: adds weight_decay * p to the gradient of every parameter p it applies
            to, the biases' too (see `SGD`); with decoupled_weight_decay, p = p (1 - alpha
            weight_decay) before the step instead, as `AdamW` (PyTorch's RAdamW).
        decoupled_weight_decay: decay W itself rather than add to dW (False, PyTorch's).
        maximize: ascend J rather than descend it, as `SGD`'s.
    """

    state_names = ("v", "s")
    hyper_names = ("beta1", "beta2", "eps", "decoupled_weight_decay", "maximize")
    beta1 = _Setting()
    beta2 = _Setting()
    eps = _Setting()
    decoupled_weight_decay = _Setting()
    maximize = _Setting()

    def __init__(self, params: Iterable[Tensor] | Iterable[Mapping[str, Any]],
                 lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 weight_decay: float = 0.0, *, decoupled_weight_decay: bool = False,
                 maximize: bool = False) -> None:
        super().__init__(params, lr, weight_decay, beta1=beta1, beta2=beta2, eps=eps,
                         decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)

    def _step_group(self, group: dict[str, Any], slots: list, t: int) -> None:
        # rho_t, r_t and the corrections depend on the group's t and settings only: once per
        # group and step, as Python floats (a float32 step stays in float32).
        b2 = group["beta2"]
        correction1, correction2 = 1.0 - group["beta1"] ** t, 1.0 - b2 ** t
        rho_inf = 2.0 / (1.0 - b2) - 1.0
        rho_t = rho_inf - 2.0 * t * b2 ** t / correction2
        self._rectified = rho_t > 5.0
        if self._rectified:
            r_t = math.sqrt((rho_t - 4.0) * (rho_t - 2.0) * rho_inf
                            / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
            self._step_scale = group["lr"] * r_t * math.sqrt(correction2) / correction1
        else:
            self._step_scale = group["lr"] / correction1
        super()._step_group(_decay_decoupled(group, slots), slots, t)

    def _update_of(self, group: dict[str, Any]) -> Callable[..., None]:
        # The adaptive step once rho_t > 5, chosen once per group and step.
        return self._update if self._rectified else self._variant_update

    @staticmethod
    def _moments(g: np.ndarray, group: dict[str, Any], state: dict,
                 scratch: np.ndarray) -> None:
        """v_dW and s_dW, as Adam's."""
        average_into(state["v"], g, group["beta1"], scratch)
        average_square_into(state["s"], g, group["beta2"], scratch)

    def _update(self, p: Tensor, g: np.ndarray, group: dict[str, Any], state: dict,
                scratch: np.ndarray) -> None:
        """The rectified adaptive step (rho_t > 5)."""
        self._moments(g, group, state, scratch)
        np.sqrt(state["s"], out=scratch)
        scratch += group["eps"]
        np.divide(state["v"], scratch, out=scratch)
        scratch *= self._step_scale
        _write(p, np.subtract, scratch)

    def _variant_update(self, p: Tensor, g: np.ndarray, group: dict[str, Any], state: dict,
                        scratch: np.ndarray) -> None:
        """The first steps' (rho_t <= 5): W = W - alpha v_dW / (1 - beta1**t)."""
        self._moments(g, group, state, scratch)
        np.multiply(state["v"], self._step_scale, out=scratch)
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

    delta is needed twice after s_delta's old value is read, so each parameter has a second
    work array besides its scratch (made at its first step, not saved).
    """

    state_names = ("s", "s_delta")
    hyper_names = ("beta", "eps", "maximize")
    beta = _Setting()
    eps = _Setting()
    maximize = _Setting()

    def __init__(self, params: Iterable[Tensor] | Iterable[Mapping[str, Any]],
                 lr: float = 1.0, beta: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, *, maximize: bool = False) -> None:
        self._work: dict[int, np.ndarray] = {}  # by id of the parameter
        super().__init__(params, lr, weight_decay, beta=beta, eps=eps, maximize=maximize)

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
