"""Optimizers: gradient descent with momentum, RMSprop, Adam and AdamW, in the course's
notation.

An optimizer holds the parameters it updates and its own state (the course's v_dW, s_dW,
the step count t). After ``J.backward()`` fills every ``p.grad`` (dW, db),
``optimizer.step()`` applies the update and ``optimizer.zero_grad()`` forgets the gradients.

Updates are in place, without new arrays per step, except when a parameter's array is
read-only because a graph that has not been backpropagated yet still uses it (say, a
forward pass for evaluation made outside `gg.no_grad()`): then the parameter gets a new
array, so that graph keeps the values it saw. Gradients are never modified (they may be
shared between tensors). Depends on `tensor`, `errors`.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from graphgrad.errors import ArgumentError, describe
from graphgrad.tensor import Tensor


class Optimizer:
    """Base class: the parameters, the learning rate ``lr`` (the course's alpha), the step
    count ``t``, per-parameter state, ``zero_grad``, ``state_dict`` / ``load_state_dict``.

    Subclasses set ``state_names`` (the arrays kept per parameter, e.g. ``("v", "s")``),
    ``hyper_names`` (their settings) and implement ``_update(p, g, state, scratch)``: ``g`` is
    dW (weight decay included, unless ``decay_in_gradient`` is False), ``state`` the
    parameter's dict of arrays, ``scratch`` an array of p's shape free to overwrite; apply the
    step with `_write(p, np.subtract, step)`.
    """

    state_names: tuple[str, ...] = ()
    hyper_names: tuple[str, ...] = ()
    # True: weight_decay is added to dW (L2 regularisation). False: the subclass applies it to
    # W itself in _update (AdamW's decoupled decay).
    decay_in_gradient: bool = True

    def __init__(self, params: Iterable[Tensor], lr: float, weight_decay: float = 0.0) -> None:
        self.params = list(params)
        name = type(self).__name__
        if not self.params:
            raise ArgumentError(f"{name}: got no parameters to optimize (model.parameters()?)")
        seen = set()
        for i, p in enumerate(self.params):
            if not isinstance(p, Tensor) or not p.requires_grad or p.creator is not None:
                raise ArgumentError(
                    f"{name}: parameter {i} ({describe(p)}) is not a leaf Tensor that requires "
                    "grad; pass model.parameters() or tensors made with requires_grad=True"
                )
            if id(p) in seen:
                raise ArgumentError(f"{name}: parameter {i} ({describe(p)}) is given twice")
            seen.add(id(p))
        if lr <= 0:
            raise ArgumentError(f"{name}: the learning rate must be positive, got {lr}")
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.t = 0
        # One dict of arrays per parameter, plus a scratch array for the step itself.
        self.state = [
            {key: np.zeros_like(p.data) for key in self.state_names} for p in self.params
        ]
        self._scratch = [np.empty_like(p.data) for p in self.params]

    def zero_grad(self) -> None:
        """Forget the gradients (``p.grad = None``): the next backward starts from zero."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient, from its ``.grad``."""
        self.t += 1
        decay = self.weight_decay if self.decay_in_gradient else 0.0
        for p, state, scratch in zip(self.params, self.state, self._scratch):
            g = p.grad
            if g is None:
                continue
            if decay:  # L2 regularisation's dW += lambda/m * W, applied here
                g = g + decay * p.data
            self._update(p, g, state, scratch)

    def _update(self, p: Tensor, g: np.ndarray, state: dict, scratch: np.ndarray) -> None:
        raise NotImplementedError

    # -- saving and restoring ----------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The settings, the step count and copies of the state arrays, flat by name
        (``"state.0.v"``), ready for `gg.save`."""
        out: dict[str, Any] = {"optimizer": type(self).__name__, "lr": self.lr, "t": self.t,
                               "weight_decay": self.weight_decay}
        for name in self.hyper_names:
            out[name] = getattr(self, name)
        for i, state in enumerate(self.state):
            for key, array in state.items():
                out[f"state.{i}.{key}"] = array.copy()
        return out

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue from a saved `state_dict` (same optimizer, same parameter shapes)."""
        name = type(self).__name__
        source = getattr(state, "source", None)
        origin = f" in {source}" if source else ""
        saved_kind = str(np.asarray(state.get("optimizer", name)))
        if saved_kind != name:
            raise ArgumentError(f"{name}.load_state_dict: the state{origin} is from {saved_kind}")
        expected = ["lr", "t", "weight_decay", *self.hyper_names]
        expected += [f"state.{i}.{k}" for i in range(len(self.params)) for k in self.state_names]
        missing = [k for k in expected if k not in state]
        unexpected = [k for k in state if k not in expected and k != "optimizer"]
        problems = []
        if missing:
            problems.append(f"missing keys: {', '.join(missing)}")
        if unexpected:
            problems.append(f"unexpected keys: {', '.join(unexpected)} (a different number of "
                            "parameters?)")
        for i, slots in enumerate(self.state):
            for key, array in slots.items():
                given = state.get(f"state.{i}.{key}")
                if given is not None and np.shape(given) != array.shape:
                    problems.append(f"state.{i}.{key}: shape {np.shape(given)}, the parameter "
                                    f"{describe(self.params[i])} needs {array.shape}")
        if problems:
            raise ArgumentError(f"{name}.load_state_dict: the state{origin} does not fit:\n  "
                                 + "\n  ".join(problems))
        self.lr = float(state["lr"])
        self.t = int(state["t"])
        self.weight_decay = float(state["weight_decay"])
        for key in self.hyper_names:
            setattr(self, key, float(state[key]))
        for i, slots in enumerate(self.state):
            for key in slots:
                slots[key] = np.array(state[f"state.{i}.{key}"], dtype=self.params[i].dtype)

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={getattr(self, k):g}" for k in ("lr", *self.hyper_names))
        if self.weight_decay:
            settings += f", weight_decay={self.weight_decay:g}"
        return f"{type(self).__name__}({len(self.params)} parameters, {settings})"


def _write(p: Tensor, ufunc: np.ufunc, operand: Any) -> None:
    """W = ufunc(W, operand) (``np.subtract`` for W -= step), in place unless a live graph
    still needs W's current values."""
    data = p.data
    if data.flags.writeable:
        ufunc(data, operand, out=data)
    else:
        p.data = ufunc(data, operand)


class SGD(Optimizer):
    """(Mini-batch) gradient descent, with the course's momentum.

    Without momentum: W = W - alpha dW. With momentum beta (the course's form)::

        v_dW = beta v_dW + (1 - beta) dW;   W = W - alpha v_dW

    an exponentially weighted average of the gradients. PyTorch writes v = mu v + dW and
    W = W - lr v, which is the same update with lr = alpha (1 - beta): with momentum=0.9, use
    an alpha 10 times the PyTorch learning rate.

    Args:
        params: what to update (model.parameters()).
        lr: the learning rate alpha.
        momentum: beta (0.9 is the course's usual value; 0 turns momentum off).
        weight_decay: adds weight_decay * W to every dW (L2 regularisation: lambda / m).
    """

    hyper_names = ("momentum",)

    def __init__(self, params: Iterable[Tensor], lr: float, momentum: float = 0.0,
                 weight_decay: float = 0.0) -> None:
        if not 0.0 <= momentum < 1.0:
            raise ArgumentError(f"SGD: momentum beta must be in [0, 1), got {momentum}")
        self.momentum = float(momentum)
        self.state_names = ("v",) if momentum else ()
        super().__init__(params, lr, weight_decay)

    def step(self) -> None:
        if self.momentum or self.weight_decay:
            super().step()
            return
        # Plain gradient descent, the hot loop of the course's models: W -= alpha dW, inlined.
        self.t += 1
        lr = self.lr
        for p, scratch in zip(self.params, self._scratch):
            g = p.grad
            if g is None:
                continue
            np.multiply(g, lr, out=scratch)
            data = p.data
            if data.flags.writeable:
                data -= scratch
            else:
                p.data = data - scratch

    def _update(self, p: Tensor, g: np.ndarray, state: dict, scratch: np.ndarray) -> None:
        beta = self.momentum
        if beta:
            v = state["v"]
            v *= beta
            np.multiply(g, 1.0 - beta, out=scratch)
            v += scratch
            g = v
        np.multiply(g, self.lr, out=scratch)
        _write(p, np.subtract, scratch)

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        saved = float(state.get("momentum", self.momentum))
        if bool(saved) != bool(self.momentum):
            raise ArgumentError(
                f"SGD.load_state_dict: the state has momentum={saved:g}, this optimizer "
                f"{self.momentum:g}; make it with the momentum that was saved"
            )
        super().load_state_dict(state)


class RMSprop(Optimizer):
    """RMSprop, as in the course::

        s_dW = beta s_dW + (1 - beta) dW**2;   W = W - alpha dW / (sqrt(s_dW) + eps)

    Args:
        lr: alpha (0.001 is a good start).
        beta: the averaging of the squared gradients (PyTorch's alpha, Keras's rho).
        eps: keeps the division finite.
        weight_decay: adds weight_decay * W to every dW.
    """

    state_names = ("s",)
    hyper_names = ("beta", "eps")

    def __init__(self, params: Iterable[Tensor], lr: float = 0.001, beta: float = 0.9,
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        if not 0.0 <= beta < 1.0:
            raise ArgumentError(f"RMSprop: beta must be in [0, 1), got {beta}")
        self.beta, self.eps = float(beta), float(eps)
        super().__init__(params, lr, weight_decay)

    def _update(self, p: Tensor, g: np.ndarray, state: dict, scratch: np.ndarray) -> None:
        s = state["s"]
        s *= self.beta
        np.multiply(g, g, out=scratch)
        scratch *= 1.0 - self.beta
        s += scratch
        np.sqrt(s, out=scratch)
        scratch += self.eps
        np.divide(g, scratch, out=scratch)
        scratch *= self.lr
        _write(p, np.subtract, scratch)


class Adam(Optimizer):
    """Adam, as in the course, with bias correction (t counts the steps, from 1)::

        v_dW = beta1 v_dW + (1 - beta1) dW          s_dW = beta2 s_dW + (1 - beta2) dW**2
        v_corrected = v_dW / (1 - beta1**t)         s_corrected = s_dW / (1 - beta2**t)
        W = W - alpha v_corrected / (sqrt(s_corrected) + eps)

    t is the optimizer's step count, shared by all parameters, as in the course's
    update_parameters_with_adam. PyTorch counts per parameter instead; the two differ only for
    a parameter that gets its first gradient after the first step (a layer unfrozen later):
    its v and s start from zero with the correction of step t, so its first update here is
    alpha 3.16 sqrt(1 - beta2**t) / (1 - beta1**t) instead of alpha: less than alpha if it
    starts within the first hundred steps (0.48 alpha at t = 11), up to 3.16 alpha
    (0.1 / sqrt(0.001)) after a few thousand.

    Args:
        lr: alpha (0.001 is the usual start).
        beta1, beta2, eps: the course's defaults 0.9, 0.999, 1e-8.
        weight_decay: adds weight_decay * W to every dW (L2 regularisation, as in the course;
            not AdamW's decoupled decay).
    """

    state_names = ("v", "s")
    hyper_names = ("beta1", "beta2", "eps")

    def __init__(self, params: Iterable[Tensor], lr: float = 0.001, beta1: float = 0.9,
                 beta2: float = 0.999, eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        for label, beta in (("beta1", beta1), ("beta2", beta2)):
            if not 0.0 <= beta < 1.0:
                raise ArgumentError(
                    f"{type(self).__name__}: {label} must be in [0, 1), got {beta}")
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)
        super().__init__(params, lr, weight_decay)

    def step(self) -> None:
        # The bias corrections depend on t only: computed once per step, not per parameter.
        # alpha v / (1 - b1**t) / (sqrt(s / (1 - b2**t)) + eps)
        #   = [alpha sqrt(1 - b2**t) / (1 - b1**t)] * v / (sqrt(s) + eps sqrt(1 - b2**t))
        t = self.t + 1
        root = np.sqrt(1.0 - self.beta2 ** t)
        self._step_scale = self.lr * root / (1.0 - self.beta1 ** t)
        self._eps_scaled = self.eps * root
        super().step()

    def _update(self, p: Tensor, g: np.ndarray, state: dict, scratch: np.ndarray) -> None:
        b1, b2 = self.beta1, self.beta2
        v, s = state["v"], state["s"]
        v *= b1
        np.multiply(g, 1.0 - b1, out=scratch)
        v += scratch
        s *= b2
        np.multiply(g, g, out=scratch)
        scratch *= 1.0 - b2
        s += scratch
        np.sqrt(s, out=scratch)  # the corrected step, in three passes (see step)
        scratch += self._eps_scaled
        np.divide(v, scratch, out=scratch)
        scratch *= self._step_scale
        _write(p, np.subtract, scratch)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter), as ``torch.optim.AdamW``:
    each step first shrinks W, then takes Adam's step from dW alone::

        W = W - alpha weight_decay W;   then Adam's update of W from v_dW, s_dW (see `Adam`)

    ``Adam(weight_decay=...)`` adds weight_decay * W to dW instead (the course's L2
    regularisation): the decay then goes through v_dW and is divided by sqrt(s_dW), so weights
    with large or noisy gradients are decayed less. AdamW shrinks every weight by the same factor
    (1 - alpha weight_decay) per step, whatever its gradients. With weight_decay=0 it is Adam.

    Args:
        lr: alpha (0.001 is the usual start); the decay is scaled by it too, so a learning-rate
            schedule scales both.
        beta1, beta2, eps: as `Adam` (0.9, 0.999, 1e-8).
        weight_decay: the decay rate lambda (PyTorch's default 0.01). It applies to every
            parameter given: to leave out biases and BatchNorm's gamma and beta, give them to
            a second optimizer without decay.

    The state dict has Adam's keys (v, s, t and the settings), saved under the name AdamW: a
    state saved by Adam, whose weight_decay means L2, is refused.
    """

    decay_in_gradient = False

    def __init__(self, params: Iterable[Tensor], lr: float = 0.001, beta1: float = 0.9,
                 beta2: float = 0.999, eps: float = 1e-8, weight_decay: float = 0.01) -> None:
        super().__init__(params, lr, beta1, beta2, eps, weight_decay)

    def _update(self, p: Tensor, g: np.ndarray, state: dict, scratch: np.ndarray) -> None:
        # W *= 1 - alpha lambda, as PyTorch does it; Adam's step below does not read W, so
        # decaying first or last gives the same W.
        shrink = 1.0 - self.lr * self.weight_decay
        if shrink != 1.0:
            _write(p, np.multiply, shrink)
        super()._update(p, g, state, scratch)
