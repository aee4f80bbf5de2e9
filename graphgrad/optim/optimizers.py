"""Optimizers: gradient descent with momentum (and Nesterov's), RMSprop, Adam and AdamW
(and their AMSGrad), Adagrad, in the course's notation.

An optimizer holds the parameters it updates and its own state (the course's v_dW, s_dW,
the step count t). After ``J.backward()`` fills every ``p.grad`` (dW, db),
``optimizer.step()`` applies the update and ``optimizer.zero_grad()`` forgets the gradients.

Parameters can be split into groups with their own settings, as in ``torch.optim``: pass
dicts ``{"params": tensors, "lr": ..., "weight_decay": ...}`` instead of the tensors, e.g. no
weight decay on biases or a smaller learning rate for pretrained layers. Each group's settings
are in ``optimizer.param_groups``; `Optimizer` says how ``optimizer.lr`` and the state dict
treat them, and ``optimizer.add_param_group({"params": tensors, ...})`` adds a group during
training.

Updates are in place, without new arrays per step, except when a parameter's array is
read-only because a graph that has not been backpropagated yet still uses it (say, a
forward pass for evaluation made outside `gg.no_grad()`): then the parameter gets a new
array, so that graph keeps the values it saw. Gradients are never modified (they may be
shared between tensors). Depends on `optim.optimizer`, `tensor`, `errors`.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from graphgrad.errors import ArgumentError
from graphgrad.optim.optimizer import (
    Optimizer,
    _Setting,
    _write,
    average_into,
    average_square_into,
    call_closure,
    zeros_of,
)
from graphgrad.tensor import Tensor


class SGD(Optimizer):
    """(Mini-batch) gradient descent, with the course's momentum, or Nesterov's.

    Without momentum: W = W - alpha dW. With momentum beta (the course's form)::

        v_dW = beta v_dW + (1 - beta) dW;   W = W - alpha v_dW

    an exponentially weighted average of the gradients. PyTorch writes v = mu v + dW and
    W = W - lr v, which is the same update with lr = alpha (1 - beta): with momentum=0.9, use
    an alpha 10 times the PyTorch learning rate.

    With ``nesterov=True``, the step looks ahead: it takes v_dW one more step of averaging,
    the gradient's share again::

        v_dW = beta v_dW + (1 - beta) dW;   W = W - alpha (beta v_dW + (1 - beta) dW)

    PyTorch's ``SGD(nesterov=True)``, v = mu v + dW and W = W - lr (dW + mu v), is the same
    update with the same lr = alpha (1 - beta) as above (its v is v_dW / (1 - beta)), so the
    two follow one path. Nesterov without momentum is refused, as PyTorch refuses it; a
    momentum set to 0 later makes it plain gradient descent (v_dW = dW).

    The course's v_dW is already dampened: each gradient comes in with the share (1 - beta).
    PyTorch's ``dampening`` d shrinks the share of every gradient but the first,
    v = mu v + (1 - d) dW from v = dW; with the same mapping (v_dW = (1 - beta) v, alpha =
    lr / (1 - beta)), ``dampening=d`` here is::

        v_dW = beta v_dW + (1 - beta) (1 - d) dW   (after the group's first step, whose
                                                    v_dW is (1 - beta) dW as without it)

    so ``SGD(lr=alpha, momentum=beta, dampening=d)`` follows ``torch.optim.SGD(lr=alpha (1 -
    beta), momentum=beta, dampening=d)``. PyTorch's ``dampening=momentum``, whose v is nearly
    the course's v_dW, is then ``lr=alpha (1 - beta), dampening=beta`` here; the course's own
    form is ``dampening=0``. The first step is the group's (as Adam's t, see `Adam`): a
    parameter whose first gradient comes later has its first one dampened, where PyTorch,
    which counts per parameter, does not. Nesterov with dampening is refused, as in PyTorch.

    With ``maximize=True`` the step ascends J (the gradient is negated before the weight decay
    is added, as in PyTorch), for a reward or a log-likelihood.

    Args:
        params: what to update (model.parameters()), or groups of it with their own settings
            (see `Optimizer`); v_dW is kept for the parameters of groups with momentum only.
        lr: the learning rate alpha.
        momentum: beta (0.9 is the course's usual value; 0 turns momentum off).
        dampening: PyTorch's dampening d, in [0, 1] (above; 0, the course's form).
        nesterov: Nesterov's momentum (above), for every group that does not give its own.
        weight_decay: adds weight_decay * p to the gradient of every parameter p it applies
            to, the biases' too. The course's L2 regularisation (lambda / m) leaves the biases
            alone: give them a group with weight_decay 0 (see `AdamW`), or put
            ``nn.l2_penalty`` in the cost instead.
        maximize: ascend J rather than descend it (above).
        options: PyTorch's keywords for how its step is computed, which change nothing
            here: foreach, fused; differentiable=True is refused (`check_torch_options`).
    """

    state_names = ("v",)
    optional_state = ("v",)  # kept for the groups with momentum only
    torch_options = ("foreach", "fused", "differentiable")
    variant_flag = "nesterov"
    hyper_names = ("momentum", "dampening", "nesterov", "maximize")
    added_settings = {"dampening": 0.0}
    momentum = _Setting()
    dampening = _Setting()
    nesterov = _Setting()
    maximize = _Setting()

    def __init__(self, params: Iterable[Tensor] | Iterable[Mapping[str, Any]], lr: float,
                 momentum: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False,
                 *, dampening: float = 0.0, maximize: bool = False, **options: Any) -> None:
        super().__init__(params, lr, weight_decay, momentum=momentum, dampening=dampening,
                         nesterov=nesterov, maximize=maximize, options=options)

    def _add_groups(self, groups: list[tuple[dict[str, Any], list[Any]]]) -> None:
        # Refused before any group is added, as PyTorch refuses it: Nesterov's look-ahead is
        # one of momentum, and without it the step would be plain gradient descent unsaid.
        for i, (own, _) in enumerate(groups, start=len(self.param_groups)):
            settings = {**self.defaults, **own}
            if settings["nesterov"] and not settings["momentum"]:
                where = f"parameter group {i} has" if "nesterov" in own else "got"
                raise ArgumentError(
                    f"SGD: {where} nesterov=True with momentum=0: Nesterov's momentum needs a "
                    "momentum; give one (momentum=0.9), or leave nesterov out")
            if settings["nesterov"] and settings["dampening"]:
                where = (f"parameter group {i} has" if {"nesterov", "dampening"} & set(own)
                         else "got")
                raise ArgumentError(
                    f"SGD: {where} nesterov=True with dampening={settings['dampening']:g}: "
                    "Nesterov's look-ahead is defined for the course's v_dW (dampening=0), as "
                    "PyTorch's; leave dampening out, or nesterov")
        super()._add_groups(groups)

    def _new_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, np.ndarray]:
        return super()._new_state(p, group) if group["momentum"] else {}

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """W = W - alpha dW (or alpha v_dW, with momentum) for every parameter with a gradient;
        refused before anything changes as `Optimizer.step` says, which also says what
        ``closure`` does (step returns its loss, None without one)."""
        loss = None if closure is None else call_closure(closure, "SGD")
        self._check_grads()
        self.t += 1
        for (group, slots), added_at in zip(self._groups, self._added_at):
            if group["momentum"] or group["weight_decay"] or group["maximize"]:
                self._step_group(group, slots, self.t - added_at)
                continue
            # Plain gradient descent, the hot loop of the course's models: W -= alpha dW, inlined.
            lr = group["lr"]
            for p, _, scratch in slots:
                g = p.grad
                if g is None:
                    continue
                np.multiply(g, lr, out=scratch)
                data = p.data
                if data.flags.writeable:
                    data -= scratch
                else:
                    p.data = data - scratch
        return loss

    def _step_group(self, group: dict[str, Any], slots: list, t: int) -> None:
        # The share of dW in v_dW, once per group: 1 - beta, times 1 - dampening after the
        # group's first step (see the class's docstring).
        share = 1.0 - group["momentum"]
        dampening = group["dampening"]
        if dampening and t > 1:
            share *= 1.0 - dampening
        self._share = share
        super()._step_group(group, slots, t)

    def _update(self, p: Tensor, g: np.ndarray, group: dict[str, Any], state: dict,
                scratch: np.ndarray, nesterov: bool = False) -> None:
        beta = group["momentum"]
        if beta:  # (momentum set to 0 after construction: plain gradient descent, Nesterov too)
            v = state.get("v")
            if v is None:  # momentum set in param_groups after construction: v_dW starts at 0
                v = state["v"] = zeros_of(p)
            v *= beta
            np.multiply(g, self._share, out=scratch)
            v += scratch
            if nesterov:
                # beta v_dW + (1 - beta) dW, written v_dW + (1 - beta) (dW - v_dW) so that
                # scratch is the only array it needs
                np.subtract(g, v, out=scratch)
                scratch *= 1.0 - beta
                scratch += v
                scratch *= group["lr"]
                _write(p, np.subtract, scratch)
                return
            g = v
        np.multiply(g, group["lr"], out=scratch)
        _write(p, np.subtract, scratch)

    def _variant_update(self, p: Tensor, g: np.ndarray, group: dict[str, Any], state: dict,
                        scratch: np.ndarray) -> None:
        """Nesterov's: W = W - alpha (beta v_dW + (1 - beta) dW), v_dW updated first."""
        self._update(p, g, group, state, scratch, nesterov=True)


class RMSprop(Optimizer):
    """RMSprop, as in the course::

        s_dW = beta s_dW + (1 - beta) dW**2;   W = W - alpha dW / (sqrt(s_dW) + eps)

    ``torch.optim.RMSprop`` is the same with beta named alpha (``RMSprop(lr, beta=b)`` is
    ``torch.optim.RMSprop(lr, alpha=b)``; PyTorch's default is 0.99, the course's 0.9), and so
    are its two options, with PyTorch's formulas:

    ``centered=True`` divides by an estimate of the gradients' standard deviation rather than
    of their root mean square, with v_dW their average (Adam's, without its correction)::

        v_dW = beta v_dW + (1 - beta) dW;   W = W - alpha dW / (sqrt(s_dW - v_dW**2) + eps)

    (s_dW - v_dW**2 is at least 0 in exact arithmetic; taken as 0 where rounding makes it
    negative, where PyTorch's square root gives NaN.)

    ``momentum=mu`` adds PyTorch's momentum to the scaled step, accumulated, not averaged as
    the course's v_dW in `SGD` is (m from 0, a step up to 1 / (1 - mu) times larger)::

        m = mu m + dW / (sqrt(s_dW) + eps);   W = W - alpha m

    Args:
        params: model.parameters(), or groups of it with their own settings (see `Optimizer`).
        lr: alpha (0.001 is a good start).
        beta: the averaging of the squared gradients (PyTorch's alpha, Keras's rho).
        eps: keeps the division finite.
        weight_decay: adds weight_decay * p to the gradient of every parameter p it applies
            to, the biases' too (see `SGD`).
        momentum: mu (above), in [0, 1); 0 turns it off.
        centered: divide by the gradients' spread (above).
        maximize: ascend J rather than descend it, as `SGD`'s.
        options: PyTorch's keywords for how its step is computed, which change nothing
            here: foreach, capturable; differentiable=True is refused (`check_torch_options`).

    v_dW is kept for the groups with ``centered`` only, m for those with momentum
    (``state.i.v``, ``state.i.m`` in the state dict, PyTorch's grad_avg and momentum_buffer).
    """

    state_names = ("s",)
    optional_state = ("v", "m")  # v_dW with centered, m with momentum
    torch_names = {"alpha": "alpha=a is beta=a (the squared gradients' averaging)"}
    hyper_names = ("beta", "eps", "momentum", "centered", "maximize")
    added_settings = {"momentum": 0.0}
    beta = _Setting()
    eps = _Setting()
    momentum = _Setting()
    centered = _Setting()
    maximize = _Setting()

    def __init__(self, params: Iterable[Tensor] | Iterable[Mapping[str, Any]],
                 lr: float = 0.001, beta: float = 0.9, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False,
                 *, maximize: bool = False, **options: Any) -> None:
        super().__init__(params, lr, weight_decay, beta=beta, eps=eps, momentum=momentum,
                         centered=centered, maximize=maximize, options=options)

    def _new_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, np.ndarray]:
        state = super()._new_state(p, group)
        if group["centered"]:
            state["v"] = zeros_of(p)
        if group["momentum"]:
            state["m"] = zeros_of(p)
        return state

    def _update_of(self, group: dict[str, Any]) -> Any:
        # The course's update unless an option is on, chosen once per group.
        return self._variant_update if group["centered"] or group["momentum"] else self._update

    def _update(self, p: Tensor, g: np.ndarray, group: dict[str, Any], state: dict,
                scratch: np.ndarray) -> None:
        s = state["s"]
        average_square_into(s, g, group["beta"], scratch)
        np.sqrt(s, out=scratch)
        scratch += group["eps"]
        np.divide(g, scratch, out=scratch)
        scratch *= group["lr"]
        _write(p, np.subtract, scratch)

    def _variant_update(self, p: Tensor, g: np.ndarray, group: dict[str, Any], state: dict,
                        scratch: np.ndarray) -> None:
        """With ``centered`` or ``momentum`` (see the class's docstring)."""
        beta = group["beta"]
        s = state["s"]
        average_square_into(s, g, beta, scratch)
        if group["centered"]:
            v = state.get("v")
            if v is None:  # centered set in param_groups after construction: from 0
                v = state["v"] = zeros_of(p)
            average_into(v, g, beta, scratch)
            np.multiply(v, v, out=scratch)
            np.subtract(s, scratch, out=scratch)
            np.maximum(scratch, 0.0, out=scratch)
            np.sqrt(scratch, out=scratch)
        else:
            np.sqrt(s, out=scratch)
        scratch += group["eps"]
        np.divide(g, scratch, out=scratch)
        mu = group["momentum"]
        if mu:
            m = state.get("m")
            if m is None:  # momentum set in param_groups after construction: from 0
                m = state["m"] = zeros_of(p)
            m *= mu
            m += scratch
            np.multiply(m, group["lr"], out=scratch)
        else:
            scratch *= group["lr"]
        _write(p, np.subtract, scratch)


class Adagrad(Optimizer):
    """Adagrad (Duchi, Hazan and Singer), as ``torch.optim.Adagrad``: RMSprop's step with the
    sum of every squared gradient so far in place of their average::

        s_dW = s_dW + dW**2   (from initial_accumulator_value)
        W = W - alpha dW / (sqrt(s_dW) + eps)

    So each weight's steps shrink as its gradients add up, the faster the larger they were:
    rare features (a seldom used word's embedding) keep larger steps than frequent ones. The
    steps shrink for good; RMSprop and Adam forget the old gradients instead.

    Args:
        params: model.parameters(), or groups of it with their own settings (see `Optimizer`).
        lr: alpha (PyTorch's default 0.01).
        eps: keeps the division finite (PyTorch's 1e-10).
        weight_decay: adds weight_decay * p to the gradient of every parameter p it applies
            to, the biases' too (see `SGD`).
        initial_accumulator_value: where s_dW starts (>= 0): a value above 0 makes the first
            steps smaller than alpha. Read when a parameter's s_dW is made, with the
            optimizer or by `add_param_group`: changing it later changes no s_dW.
        lr_decay: PyTorch's: step t takes alpha / (1 + (t - 1) lr_decay) in place of alpha
            (the course's `InverseTimeDecay` over steps rather than epochs), t being the
            group's step count, as Adam's (see `Adam`: PyTorch counts a parameter's steps
            with a gradient; the two differ for a parameter without one at some steps).
        maximize: ascend J rather than descend it, as `SGD`'s.
        options: PyTorch's keywords for how its step is computed, which change nothing
            here: foreach, fused; differentiable=True is refused (`check_torch_options`).
    """

    state_names = ("s",)
    torch_options = ("foreach", "fused", "differentiable")
    hyper_names = ("eps", "initial_accumulator_value", "lr_decay", "maximize")
    added_settings = {"lr_decay": 0.0}
    eps = _Setting()
    initial_accumulator_value = _Setting()
    lr_decay = _Setting()
    maximize = _Setting()

    def __init__(self, params: Iterable[Tensor] | Iterable[Mapping[str, Any]],
                 lr: float = 0.01, eps: float = 1e-10, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, *, lr_decay: float = 0.0,
                 maximize: bool = False, **options: Any) -> None:
        super().__init__(params, lr, weight_decay, eps=eps,
                         initial_accumulator_value=initial_accumulator_value,
                         lr_decay=lr_decay, maximize=maximize, options=options)

    def _new_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, np.ndarray]:
        start = group["initial_accumulator_value"]
        # zeros_of when 0: memory only where a gradient is added (see zeros_of)
        return {"s": np.full(p.data.shape, start, p.data.dtype) if start else zeros_of(p)}

    def _step_group(self, group: dict[str, Any], slots: list, t: int) -> None:
        # The step's alpha, once per group: decayed with the group's step count t.
        self._alpha = group["lr"] / (1.0 + (t - 1) * group["lr_decay"])
        super()._step_group(group, slots, t)

    def _update(self, p: Tensor, g: np.ndarray, group: dict[str, Any], state: dict,
                scratch: np.ndarray) -> None:
        s = state["s"]
        np.multiply(g, g, out=scratch)
        s += scratch
        np.sqrt(s, out=scratch)
        scratch += group["eps"]
        np.divide(g, scratch, out=scratch)
        scratch *= self._alpha
        _write(p, np.subtract, scratch)


class Adam(Optimizer):
    """Adam, as in the course, with bias correction (t counts the steps, from 1)::

        v_dW = beta1 v_dW + (1 - beta1) dW          s_dW = beta2 s_dW + (1 - beta2) dW**2
        v_corrected = v_dW / (1 - beta1**t)         s_corrected = s_dW / (1 - beta2**t)
        W = W - alpha v_corrected / (sqrt(s_corrected) + eps)

    t is the group's step count: the optimizer's (``optimizer.t``) for the groups given to it,
    shared by their parameters as in the course's update_parameters_with_adam, and counted from
    its own first step for a group added by `add_param_group` (a layer unfrozen later), whose
    updates are then a new Adam's. PyTorch counts per parameter, the steps it had a gradient;
    the two differ only for a parameter that gets its first gradient after its group's first
    step: its v and s start from zero with the correction of step t, so its first update here
    is alpha 3.16 sqrt(1 - beta2**t) / (1 - beta1**t) instead of alpha: less than alpha if it
    starts within the first hundred steps (0.48 alpha at t = 11), up to 3.16 alpha
    (0.1 / sqrt(0.001)) after a few thousand. Give such a layer to the optimizer when it is
    unfrozen, with `add_param_group`. A parameter frozen after k steps and unfrozen at step t
    keeps its v and s and takes the group's t too, where PyTorch goes on from k: its updates
    are (1 - beta1**k) sqrt(1 - beta2**t) / ((1 - beta1**t) sqrt(1 - beta2**k)) times
    PyTorch's at first: 5.8 for k = 5 and t far above, 3.2 for k = 100, 1.08 for k = 2000.
    Freeze before the first step, or after a few thousand.

    With ``amsgrad=True`` (Reddi, Kale and Kumar's AMSGrad, as PyTorch computes it), the step
    divides by the largest s_dW so far, so that a weight's step never grows back when its
    gradients shrink::

        s_max = max(s_max, s_dW)   (elementwise, from 0)
        W = W - alpha v_corrected / (sqrt(s_max / (1 - beta2**t)) + eps)

    PyTorch keeps the maximum of the raw s_dW (``max_exp_avg_sq``) and divides it by this
    step's bias correction, as here; not the maximum of s_corrected, which would hold on to
    the large corrections of the first steps. s_max is kept for the groups with amsgrad only
    (``state.i.s_max`` in the state dict).

    Args:
        params: model.parameters(), or groups of it with their own settings (see `Optimizer`).
        lr: alpha (0.001 is the usual start).
        beta1, beta2, eps: the course's defaults 0.9, 0.999, 1e-8.
        weight_decay: adds weight_decay * p to the gradient of every parameter p it applies
            to, the biases' too (L2 regularisation, as in the course once the biases have a
            group with weight_decay 0, see `SGD`; not AdamW's decoupled decay).
        amsgrad: AMSGrad (above), for every group that does not give its own.
        maximize: ascend J rather than descend it, as `SGD`'s.
        options: PyTorch's keywords for how its step is computed, which change nothing
            here: foreach, fused, capturable; differentiable=True is refused
            (`check_torch_options`).
    """

    state_names = ("v", "s")
    optional_state = ("s_max",)  # kept for the groups with amsgrad only
    torch_options = ("foreach", "fused", "capturable", "differentiable")
    torch_names = {"betas": "betas=(b1, b2) is beta1=b1, beta2=b2",
                   "decoupled_weight_decay": "decoupled_weight_decay=True is AdamW (False: "
                                             "leave it out)"}
    variant_flag = "amsgrad"
    hyper_names = ("beta1", "beta2", "eps", "amsgrad", "maximize")
    beta1 = _Setting()
    beta2 = _Setting()
    eps = _Setting()
    amsgrad = _Setting()
    maximize = _Setting()

    def __init__(self, params: Iterable[Tensor] | Iterable[Mapping[str, Any]],
                 lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *,
                 maximize: bool = False, **options: Any) -> None:
        super().__init__(params, lr, weight_decay, beta1=beta1, beta2=beta2, eps=eps,
                         amsgrad=amsgrad, maximize=maximize, options=options)

    def _new_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, np.ndarray]:
        state = super()._new_state(p, group)
        if group["amsgrad"]:
            state["s_max"] = zeros_of(p)
        return state

    def _step_group(self, group: dict[str, Any], slots: list, t: int) -> None:
        # The bias corrections depend on the group's t and settings only: computed once per
        # group and step, not per parameter.
        # alpha v / (1 - b1**t) / (sqrt(s / (1 - b2**t)) + eps)
        #   = [alpha sqrt(1 - b2**t) / (1 - b1**t)] * v / (sqrt(s) + eps sqrt(1 - b2**t))
        # Python numbers, not numpy's float64: that would run a float32 step in float64.
        root = math.sqrt(1.0 - group["beta2"] ** t)
        self._step_scale = group["lr"] * root / (1.0 - group["beta1"] ** t)
        self._eps_scaled = group["eps"] * root
        super()._step_group(group, slots, t)

    def _update(self, p: Tensor, g: np.ndarray, group: dict[str, Any], state: dict,
                scratch: np.ndarray, amsgrad: bool = False) -> None:
        v, s = state["v"], state["s"]
        average_into(v, g, group["beta1"], scratch)
        average_square_into(s, g, group["beta2"], scratch)
        if amsgrad:  # the largest s_dW so far in place of s_dW, corrected as s_dW would be
            s_max = state.get("s_max")
            if s_max is None:  # amsgrad set in param_groups after construction: from 0
                s_max = state["s_max"] = zeros_of(p)
            np.maximum(s_max, s, out=s_max)
            s = s_max
        np.sqrt(s, out=scratch)  # the corrected step, in three passes (see _step_group)
        scratch += self._eps_scaled
        np.divide(v, scratch, out=scratch)
        scratch *= self._step_scale
        _write(p, np.subtract, scratch)

    def _variant_update(self, p: Tensor, g: np.ndarray, group: dict[str, Any], state: dict,
                        scratch: np.ndarray) -> None:
        """AMSGrad's: `_update` with the largest s_dW so far in place of s_dW."""
        self._update(p, g, group, state, scratch, amsgrad=True)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter), as ``torch.optim.AdamW``:
    each step first shrinks W, then takes Adam's step from dW alone::

        W = W - alpha weight_decay W;   then Adam's update of W from v_dW, s_dW (see `Adam`)

    ``Adam(weight_decay=...)`` adds weight_decay * W to dW instead (the course's L2
    regularisation): the decay then goes through v_dW and is divided by sqrt(s_dW), so weights
    with large or noisy gradients are decayed less. AdamW shrinks every weight by the same factor
    (1 - alpha weight_decay) per step, whatever its gradients. With weight_decay=0 it is Adam.

    Biases and BatchNorm's gamma and beta are usually left undecayed: give them a group of their
    own with weight_decay 0 (they are the parameters with one axis)::

        params = model.parameters()
        optim.AdamW([{"params": [p for p in params if p.ndim > 1]},   # W: matrices, kernels
                     {"params": [p for p in params if p.ndim <= 1], "weight_decay": 0.0}],
                    lr=1e-3, weight_decay=0.01)

    Args:
        params: model.parameters(), or groups of it with their own settings (see `Optimizer`).
        lr: alpha (0.001 is the usual start); the decay is scaled by it too, so a learning-rate
            schedule scales both.
        beta1, beta2, eps: as `Adam` (0.9, 0.999, 1e-8).
        weight_decay: the decay rate lambda (PyTorch's default 0.01), for every group that
            does not give its own.
        amsgrad: Adam's AMSGrad (see `Adam`), as ``torch.optim.AdamW(amsgrad=True)``.
        maximize: ascend J rather than descend it, as `SGD`'s; the decay still shrinks W.
        options: PyTorch's keywords for how its step is computed, which change nothing
            here: foreach, fused, capturable; differentiable=True is refused
            (`check_torch_options`).

    The state dict has Adam's keys (v, s, t and the settings), saved under the name AdamW: a
    state saved by Adam, whose weight_decay means L2, is refused.
    """

    decay_in_gradient = False
    torch_names = {"betas": "betas=(b1, b2) is beta1=b1, beta2=b2"}

    def __init__(self, params: Iterable[Tensor] | Iterable[Mapping[str, Any]],
                 lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 weight_decay: float = 0.01, amsgrad: bool = False, *,
                 maximize: bool = False, **options: Any) -> None:
        super().__init__(params, lr, beta1, beta2, eps, weight_decay, amsgrad,
                         maximize=maximize, **options)

    def _update(self, p: Tensor, g: np.ndarray, group: dict[str, Any], state: dict,
                scratch: np.ndarray, amsgrad: bool = False) -> None:
        # W *= 1 - alpha lambda, as PyTorch does it; Adam's step below does not read W, so
        # decaying first or last gives the same W. (Adam's _variant_update, AMSGrad's, comes
        # here too.)
        shrink = 1.0 - group["lr"] * group["weight_decay"]
        if shrink != 1.0:
            _write(p, np.multiply, shrink)
        super()._update(p, g, group, state, scratch, amsgrad)
