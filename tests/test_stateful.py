"""A user's session, driven by hypothesis's stateful testing: a small model (Linear, BatchNorm1d,
ReLU, Dropout, float64) and an optimizer (SGD with and without momentum, RMSprop, Adam, AdamW;
weight decay, parameter groups) go through random operations in random order: training
steps, zero_grad, freezing and unfreezing a layer, train() and eval(), replacing a layer and
adding its parameters as a group, changing the learning rate (of the optimizer and of a
group), clipping, checkpoints saved with gg.save and loaded back, deep copies, and operations
that must be refused.

A reference in plain numpy follows every step: the parameters, BatchNorm's running statistics,
the optimizer's t and each group's step count, settings and state (v_dW, s_dW), from the
course's formulas as the optimizers' docstrings write them. After each operation the model and
the optimizer must equal the reference; a refused operation must leave everything as it was; a
state saved and loaded, and a deep copy, must take the same next step bit for bit.
"""
from __future__ import annotations

import copy
import math
import os
import shutil
import tempfile

import numpy as np
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

import graphgrad as gg
from graphgrad import nn, optim

N_IN, HIDDEN, N_OUT = 3, 4, 2
RTOL, ATOL = 1e-9, 1e-12  # float64 arithmetic in another order: rounding only
SEEDS = st.integers(0, 2**16)


def _close(actual, expected, what: str) -> None:
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL, err_msg=what)


class RefOptimizer:
    """The optimizer's expected state in plain numpy, by the course's formulas: the keyword
    settings, each group's settings, ratio (what ``optimizer.lr = alpha`` keeps) and step
    count, and the state arrays, numbered as ``optimizer.params``."""

    def __init__(self, kind: str, defaults: dict, groups: list[tuple[dict, list]]) -> None:
        self.kind, self.defaults, self.t = kind, dict(defaults), 0
        self.base_lr = defaults["lr"]
        self.groups: list[dict] = []
        self.params: list = []
        self.state: list[dict] = []
        for own, tensors in groups:
            self.add_group(own, tensors)

    def add_group(self, own: dict, tensors: list) -> None:
        alpha = self.defaults["lr"] or self.base_lr
        settings = {**self.defaults, **own}
        self.groups.append({"settings": settings, "own": set(own), "added_at": self.t,
                            "ratio": own.get("lr", alpha) / alpha,
                            "slots": list(range(len(self.params),
                                                len(self.params) + len(tensors)))})
        for p in tensors:
            self.params.append(p)
            names = {"SGD": ("v",) if settings.get("momentum") else (),
                     "RMSprop": ("s",)}.get(self.kind, ("v", "s"))
            self.state.append({name: np.zeros_like(p.data) for name in names})

    def set_lr(self, alpha: float) -> None:
        self.defaults["lr"] = alpha
        for group in self.groups:
            group["settings"]["lr"] = alpha * group["ratio"]

    def step(self, values: dict[int, np.ndarray], grads: dict[int, np.ndarray]) -> None:
        """One step: ``values`` maps id(p) to the reference W, ``grads`` id(p) to dW as the
        step reads it (p.grad, or absent)."""
        self.t += 1
        for group in self.groups:
            s = group["settings"]
            t = self.t - group["added_at"]
            lr, wd = s["lr"], s["weight_decay"]
            for i in group["slots"]:
                p = self.params[i]
                g = grads.get(id(p))
                if g is None:
                    continue
                W, state = values[id(p)], self.state[i]
                if self.kind == "AdamW":
                    W = W - lr * wd * W
                elif wd:
                    g = g + wd * W
                if self.kind == "SGD":
                    if s["momentum"]:
                        state["v"] = s["momentum"] * state["v"] + (1 - s["momentum"]) * g
                        g = state["v"]
                    W = W - lr * g
                elif self.kind == "RMSprop":
                    state["s"] = s["beta"] * state["s"] + (1 - s["beta"]) * g**2
                    W = W - lr * g / (np.sqrt(state["s"]) + s["eps"])
                else:
                    b1, b2 = s["beta1"], s["beta2"]
                    state["v"] = b1 * state["v"] + (1 - b1) * g
                    state["s"] = b2 * state["s"] + (1 - b2) * g**2
                    v_corrected = state["v"] / (1 - b1**t)
                    s_corrected = state["s"] / (1 - b2**t)
                    W = W - lr * v_corrected / (np.sqrt(s_corrected) + s["eps"])
                values[id(p)] = W


def numpy_forward(model: nn.Sequential, X: np.ndarray, values: dict, buffers: dict,
                  update_running: bool) -> tuple[np.ndarray, np.ndarray]:
    """The model's output in numpy from the reference values, and the input to its last
    layer; in training mode BatchNorm's running statistics in ``buffers`` are updated (when
    ``update_running``) and Dropout uses the mask its last call drew (``layer.D``)."""
    A = X
    for layer in model:
        before = A
        if isinstance(layer, nn.Linear):
            A = A @ values[id(layer.W)].T + values[id(layer.b)]
        elif isinstance(layer, nn.ReLU):
            A = np.maximum(A, 0.0)
        elif isinstance(layer, nn.BatchNorm1d):
            gamma, beta = values[id(layer.gamma)], values[id(layer.beta)]
            mean, var = buffers[id(layer)]
            if layer.training:
                mu, sigma2 = A.mean(axis=0), A.var(axis=0)
                if update_running:
                    k = layer.momentum
                    buffers[id(layer)] = (k * mean + (1 - k) * mu, k * var + (1 - k) * sigma2)
                A = gamma * (A - mu) / np.sqrt(sigma2 + layer.eps) + beta
            else:
                A = gamma * (A - mean) / np.sqrt(var + layer.eps) + beta
        elif isinstance(layer, nn.Dropout):
            if layer.training:
                A = A * layer.D.data / layer.keep_prob
        else:
            raise AssertionError(f"no reference for {layer!r}")
    return A, before


def train_step(model: nn.Sequential, opt: optim.Optimizer, X: np.ndarray, Y: np.ndarray,
               clip: float | None = None) -> float:
    """forward, J = mean((A - Y)**2), backward, (clip), step: what a user's loop does; with
    every layer frozen, no backward (nothing requires grad) and a step without gradients."""
    J = nn.mse(model(X), Y)
    if J.requires_grad:
        J.backward()
    if clip is not None:
        optim.clip_grad_norm(model.parameters(), clip)
    opt.step()
    return float(J.data)


def snapshot(model: nn.Sequential, opt: optim.Optimizer) -> dict:
    """Everything a refused operation must leave as it was."""
    params = {id(p): p for p in [*model.parameters(), *opt.params]}.values()
    return {
        "model": model.state_dict(),
        "opt": opt.state_dict(),
        "grads": [None if p.grad is None else np.array(p.grad) for p in params],
        "requires_grad": [p.requires_grad for p in params],
        "training": [m.training for m in model.modules()],
        "groups": [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups],
        "group_params": [[id(p) for p in g["params"]] for g in opt.param_groups],
        "group_steps": list(opt.group_steps),
        "lr": opt.lr,
        "layers": [id(layer) for layer in model],
    }


def assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        x, y = a[key], b[key]
        if key in ("model", "opt"):
            assert x.keys() == y.keys(), key
            for name in x:
                np.testing.assert_array_equal(x[name], y[name], err_msg=f"{key}: {name}")
        elif key == "grads":
            assert len(x) == len(y)
            for gx, gy in zip(x, y):
                assert (gx is None) == (gy is None)
                if gx is not None:
                    np.testing.assert_array_equal(gx, gy)
        else:
            assert x == y, key


def assert_bitwise_equal(a: tuple, b: tuple) -> None:
    """Two (model, optimizer) pairs hold the same parameters, buffers and optimizer state."""
    (model_a, opt_a), (model_b, opt_b) = a, b
    sa, sb = model_a.state_dict(), model_b.state_dict()
    assert sa.keys() == sb.keys()
    for key in sa:
        np.testing.assert_array_equal(sa[key], sb[key], err_msg=key)
    oa, ob = opt_a.state_dict(), opt_b.state_dict()
    assert oa.keys() == ob.keys()
    for key in oa:
        np.testing.assert_array_equal(oa[key], ob[key], err_msg=key)
    assert opt_a.group_steps == opt_b.group_steps


class Session(RuleBasedStateMachine):
    """One user's model and optimizer, and the numpy reference they must match."""

    checkpoints = Bundle("checkpoints")

    def __init__(self) -> None:
        super().__init__()
        self.folder = tempfile.mkdtemp(prefix="graphgrad-stateful-")
        self.n_files = 0

    def teardown(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    # -- setting up ------------------------------------------------------------------------
    @initialize(
        seed=SEEDS,
        batchnorm=st.booleans(),
        dropout=st.booleans(),
        kind=st.sampled_from(["SGD", "SGD momentum", "RMSprop", "Adam", "AdamW"]),
        lr=st.sampled_from([0.01, 0.1]),
        weight_decay=st.sampled_from([0.0, 0.01]),
        layout=st.sampled_from(["one", "split", "last layer"]),
    )
    def build(self, seed, batchnorm, dropout, kind, lr, weight_decay, layout):
        rng = np.random.default_rng(seed)
        layers = [nn.Linear(N_IN, HIDDEN, rng=rng)]
        if batchnorm:
            layers.append(nn.BatchNorm1d(HIDDEN))
        layers.append(nn.ReLU())
        if dropout:
            layers.append(nn.Dropout(0.8, rng=seed))
        layers.append(nn.Linear(HIDDEN, N_OUT, init="xavier", rng=rng))
        self.model = nn.Sequential(*layers)
        self.kind = kind.split()[0]
        kwargs = {"lr": lr, "weight_decay": weight_decay}
        if kind == "SGD momentum":
            kwargs["momentum"] = 0.9
        elif kind == "SGD":
            kwargs["momentum"] = 0.0
        make = getattr(optim, self.kind)
        params = self.model.parameters()
        if layout == "one":
            groups = [({}, params)]
            self.opt = make(params, **kwargs)
        else:
            if layout == "split":  # the course's L2: no decay on biases, gamma, beta
                groups = [({}, [p for p in params if p.ndim > 1]),
                          ({"weight_decay": 0.0, "lr": lr / 2}, [p for p in params if p.ndim < 2])]
            else:  # transfer learning: the last layer first, the others added later
                groups = [({"lr": lr * 2}, self.model[-1].parameters())]
            self.opt = make([{"params": tensors, **own} for own, tensors in groups], **kwargs)
        defaults = dict(self.opt.defaults)
        self.ref = RefOptimizer(self.kind, defaults, groups)
        # How to build the same model and optimizer again, in a new session: the layers, the
        # optimizer's keywords, and its groups (given, then added) by parameter names.
        self.recipe = {"layers": [(type(layer), layer) for layer in layers], "make": make,
                       "kwargs": kwargs, "grouped": layout != "one", "n_given": len(groups),
                       "groups": [(own, self.names(tensors)) for own, tensors in groups]}
        self.values = {id(p): p.data.copy() for p in params}
        self.buffers = {id(layer): (layer.running_mean.copy(), layer.running_var.copy())
                        for layer in self.model if isinstance(layer, nn.BatchNorm1d)}
        self.alive = list(params)  # keeps every reference tensor alive: its id stays its own

    # -- helpers -----------------------------------------------------------------------------
    def data(self, seed: int, m: int = 5) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(seed)
        return rng.standard_normal((m, N_IN)), rng.standard_normal((m, N_OUT))

    def path(self, what: str) -> str:
        self.n_files += 1
        return os.path.join(self.folder, f"{what}{self.n_files}.npz")

    def refused(self, action, error=gg.GraphgradError) -> None:
        """``action`` must raise ``error`` and leave everything as it was."""
        before = snapshot(self.model, self.opt)
        with pytest.raises(error):
            action()
        assert_same(before, snapshot(self.model, self.opt))

    def linear_layers(self) -> list[tuple[str, nn.Linear]]:
        return [(name, layer) for name, layer in self.model.named_children()
                if isinstance(layer, nn.Linear)]

    def names(self, tensors: list) -> list[str]:
        """The names of the model's parameters ``tensors``."""
        names = {id(p): name for name, p in self.model.named_parameters()}
        return [names[id(p)] for p in tensors]

    def rebuilt(self) -> tuple[nn.Sequential, optim.Optimizer]:
        """The model and optimizer as a new session builds them, before loading a state: new
        layers of the same sizes (other values), the groups given then added in order."""
        layers = []
        for kind, layer in self.recipe["layers"]:
            if kind is nn.Linear:
                layers.append(nn.Linear(layer.n_in, layer.n_out, rng=1))
            elif kind is nn.BatchNorm1d:
                layers.append(nn.BatchNorm1d(layer.n))
            elif kind is nn.Dropout:
                layers.append(nn.Dropout(layer.keep_prob, rng=1))
            else:
                layers.append(kind())
        model = nn.Sequential(*layers)
        named = dict(model.named_parameters())
        groups = [{"params": [named[n] for n in names], **own}
                  for own, names in self.recipe["groups"]]
        n_given = self.recipe["n_given"]
        make, kwargs = self.recipe["make"], self.recipe["kwargs"]
        given = groups[:n_given] if self.recipe["grouped"] else groups[0]["params"]
        opt = make(given, **kwargs)
        for group in groups[n_given:]:
            opt.add_param_group(group)
        for name, layer in self.model.named_children():  # then frozen as this session's
            for p, q in zip(layer.parameters(), getattr(model, name).parameters()):
                q.requires_grad_(p.requires_grad)
        model.train(self.model.training)
        return model, opt

    # -- training ----------------------------------------------------------------------------
    @rule(seed=SEEDS)
    def forward_backward(self, seed):
        X, Y = self.data(seed)
        params = self.model.parameters()
        before = {id(p): None if p.grad is None else p.grad.copy() for p in params}
        A = self.model(X)
        train = self.model.training
        expected, A_prev = numpy_forward(self.model, X, self.values, self.buffers, train)
        _close(A.data, expected, "the model's output")
        J = nn.mse(A, Y)
        if not any(p.requires_grad for p in params):
            with pytest.raises(gg.GraphgradError):  # every layer frozen: nothing to learn
                J.backward()
            return
        J.backward()
        for p in params:
            if not p.requires_grad:  # frozen: backward leaves its gradient as it was
                assert (p.grad is None) == (before[id(p)] is None)
                if p.grad is not None:
                    np.testing.assert_array_equal(p.grad, before[id(p)])
        # The last layer's gradient, by hand: dZ = 2 (A - Y) / (m n_y); dW = dZ.T A_prev
        last = self.model[-1]
        dZ = 2 * (expected - Y) / Y.size
        for p, added in ((last.W, dZ.T @ A_prev), (last.b, dZ.sum(axis=0))):
            if p.requires_grad:
                old = before[id(p)]
                _close(p.grad, added if old is None else old + added, f"the gradient of {p.name}")

    @rule()
    def step(self):
        grads = {id(p): np.array(p.grad) for p in self.opt.params if p.grad is not None}
        self.opt.step()
        self.ref.step(self.values, grads)

    @rule(seed=SEEDS, clip=st.sampled_from([None, 0.05, 10.0]))
    def whole_training_step(self, seed, clip):
        """forward, backward, clip, step and zero_grad, in one go."""
        self.forward_backward(seed)
        if clip is not None:
            self.clip(clip)
        self.step()
        self.opt.zero_grad()

    @rule(max_norm=st.sampled_from([1e-3, 0.05, 1.0, 100.0]))
    def clip(self, max_norm):
        params = self.model.parameters()
        grads = [np.array(p.grad) for p in params if p.grad is not None]
        norm = math.sqrt(sum(float((g**2).sum()) for g in grads))
        got = optim.clip_grad_norm(params, max_norm)
        assert math.isclose(got, norm, rel_tol=1e-12)
        scale = max_norm / norm if norm > max_norm else 1.0
        for p, g in zip([p for p in params if p.grad is not None], grads):
            _close(p.grad, g * scale, f"the clipped gradient of {p.name}")

    @rule(which=st.sampled_from(["optimizer", "model"]))
    def zero_grad(self, which):
        (self.opt if which == "optimizer" else self.model).zero_grad()
        for p in self.opt.params if which == "optimizer" else self.model.parameters():
            assert p.grad is None

    @rule(training=st.booleans())
    def mode(self, training):
        self.model.train(training)

    # -- freezing, replacing, adding -----------------------------------------------------------
    @rule(index=st.integers(0, 5), frozen=st.booleans())
    def freeze(self, index, frozen):
        layers = [layer for layer in self.model if layer.parameters()]
        layers[index % len(layers)].requires_grad_(not frozen)

    @rule(index=st.integers(0, 1), seed=SEEDS)
    def replace_layer(self, index, seed):
        """``model.linear2 = nn.Linear(...)``: the optimizer keeps the old layer's parameters
        until the new one's are added."""
        name, old = self.linear_layers()[index]
        new = nn.Linear(old.n_in, old.n_out, rng=seed)
        setattr(self.model, name, new)
        assert getattr(self.model, name) is new and list(self.model)[-1 if index else 0] is new
        for p in new.parameters():
            self.values[id(p)] = p.data.copy()
            self.alive.append(p)

    @rule(index=st.integers(0, 5), lr=st.sampled_from([None, 0.05]))
    def add_param_group(self, index, lr):
        layers = [layer for layer in self.model if layer.parameters()]
        layer = layers[index % len(layers)]
        own = {} if lr is None else {"lr": lr}
        group = {"params": layer.parameters(), **own}
        ids = {id(p) for p in self.opt.params}
        if any(id(p) in ids for p in layer.parameters()) or not any(
                p.requires_grad for p in layer.parameters()):
            self.refused(lambda: self.opt.add_param_group(group))
            return
        self.opt.add_param_group(group)
        self.ref.add_group(own, layer.parameters())
        self.recipe["groups"].append((own, self.names(layer.parameters())))

    # -- settings ----------------------------------------------------------------------------
    @rule(lr=st.sampled_from([0.0, 0.003, 0.02, 0.2]))
    def set_lr(self, lr):
        """``optimizer.lr = alpha``, as fit does with a schedule."""
        self.opt.lr = lr
        self.ref.set_lr(lr)

    @rule(epoch=st.integers(0, 30))
    def schedule(self, epoch):
        alpha = optim.InverseTimeDecay(self.ref.base_lr, decay_rate=0.5)(epoch)
        self.opt.lr = alpha
        self.ref.set_lr(alpha)

    @rule(index=st.integers(0, 5), lr=st.sampled_from([0.0, 0.004, 0.04]))
    def set_group_lr(self, index, lr):
        i = index % len(self.opt.param_groups)
        self.opt.param_groups[i]["lr"] = lr
        self.ref.groups[i]["settings"]["lr"] = lr

    # -- saving and loading --------------------------------------------------------------------
    @rule(target=checkpoints)
    def save(self):
        model_file, opt_file = self.path("model"), self.path("optimizer")
        gg.save(self.model.state_dict(), model_file)
        gg.save(self.opt.state_dict(), opt_file)
        names = {id(p): name for name, p in self.model.named_parameters()}
        values = {name: self.values[id(p)].copy() for name, p in self.model.named_parameters()}
        buffers = {name: tuple(map(np.copy, self.buffers[id(layer)]))
                   for name, layer in self.model.named_children() if id(layer) in self.buffers}
        return {"model": model_file, "opt": opt_file, "values": values, "buffers": buffers,
                "ref": copy.deepcopy({k: v for k, v in vars(self.ref).items() if k != "params"}),
                "n_params": [len(g["params"]) for g in self.opt.param_groups],
                "shapes": [p.shape for p in self.opt.params], "names": names}

    @rule(checkpoint=checkpoints)
    def load(self, checkpoint):
        """Go back to a checkpoint: the model's state always fits (a replaced layer has the
        same shapes); the optimizer's only with the same groups of parameters of the same
        shapes, and is refused, changing nothing, otherwise."""
        fits = (checkpoint["n_params"] == [len(g["params"]) for g in self.opt.param_groups]
                and checkpoint["shapes"] == [p.shape for p in self.opt.params])
        opt_state = gg.load(checkpoint["opt"])
        if not fits:
            self.refused(lambda: self.opt.load_state_dict(opt_state))
            return
        self.model.load_state_dict(gg.load(checkpoint["model"]))
        self.opt.load_state_dict(opt_state)
        for name, p in self.model.named_parameters():
            self.values[id(p)] = checkpoint["values"][name].copy()
        for name, layer in self.model.named_children():
            if id(layer) in self.buffers:
                self.buffers[id(layer)] = tuple(map(np.copy, checkpoint["buffers"][name]))
        vars(self.ref).update(copy.deepcopy(checkpoint["ref"]))

    @rule(seeds=st.lists(SEEDS, min_size=1, max_size=3), seed=SEEDS, lr=st.sampled_from(
        [None, 0.03]))
    def saved_state_takes_the_same_step(self, seeds, seed, lr):
        """A copy trained further, then given back the saved states, takes the same next step
        as the model and optimizer that were saved, bit for bit (the masks of Dropout, which
        the state does not hold, drawn alike)."""
        model_file, opt_file = self.path("model"), self.path("optimizer")
        gg.save(self.model.state_dict(), model_file)
        gg.save(self.opt.state_dict(), opt_file)
        twin_model, twin_opt = copy.deepcopy((self.model, self.opt))
        # Without gradients, the parameters of a replaced layer, which the optimizer holds
        # but neither state dict does, keep the values the session has.
        twin_opt.zero_grad()
        for s in seeds:
            train_step(twin_model, twin_opt, *self.data(s))
        twin_opt.lr = 0.5
        twin_model.load_state_dict(gg.load(model_file))
        twin_opt.load_state_dict(gg.load(opt_file))
        self._same_next_step((twin_model, twin_opt), seed, lr)

    @precondition(lambda self: {id(p) for p in self.opt.params}
                  <= {id(p) for p in self.model.parameters()})
    @rule(seed=SEEDS, lr=st.sampled_from([None, 0.03]))
    def resume_in_a_new_session(self, seed, lr):
        """gg.save the states, build the model and optimizer again as a new session would
        (same layers and groups, other values and settings), load the files: the next step is
        the same bit for bit. (Not after a layer is replaced: the optimizer then holds
        parameters that neither state has.)"""
        model_file, opt_file = self.path("model"), self.path("optimizer")
        gg.save(self.model.state_dict(), model_file)
        gg.save(self.opt.state_dict(), opt_file)
        model, opt = self.rebuilt()
        model.load_state_dict(gg.load(model_file))
        opt.load_state_dict(gg.load(opt_file))
        self._same_next_step((model, opt), seed, lr)

    @rule(seed=SEEDS, lr=st.sampled_from([None, 0.03]))
    def deep_copy_is_independent(self, seed, lr):
        """copy.deepcopy((model, optimizer)): the copy's optimizer updates the copy's
        parameters, stepping it leaves the original as it was, and both take the same step."""
        twin_model, twin_opt = copy.deepcopy((self.model, self.opt))
        ours = {id(p): i for i, p in enumerate(self.model.parameters())}
        theirs = twin_model.parameters()
        for p, q in zip(self.opt.params, twin_opt.params):
            assert q is not p
            if id(p) in ours:
                assert q is theirs[ours[id(p)]]
        before = snapshot(self.model, self.opt)
        X, Y = self.data(seed)
        train_step(twin_model, twin_opt, X, Y)
        assert_same(before, snapshot(self.model, self.opt))
        self._same_next_step(copy.deepcopy((self.model, self.opt)), seed, lr, zero=False)

    def _same_next_step(self, twin: tuple, seed: int, lr: float | None,
                        zero: bool = True) -> None:
        """One training step of this session (followed by the reference) and of ``twin``, with
        the same data and masks: the two must then be equal bit for bit."""
        twin_model, twin_opt = twin
        if zero:
            for each in (self.model, self.opt, twin_model, twin_opt):
                each.zero_grad()
        for a, b in zip(self.model, twin_model):
            if isinstance(a, nn.Dropout):
                a.reseed(seed)
                b.reseed(seed)
        if lr is not None:
            self.set_lr(lr)
            twin_opt.lr = lr
        self.forward_backward(seed)
        self.step()
        train_step(twin_model, twin_opt, *self.data(seed))
        assert_bitwise_equal((self.model, self.opt), twin)

    # -- what must be refused, changing nothing ------------------------------------------------
    @rule(lr=st.sampled_from([-0.1, math.inf, math.nan]))
    def bad_lr(self, lr):
        self.refused(lambda: setattr(self.opt, "lr", lr))
        i = len(self.opt.param_groups) - 1
        self.refused(lambda: self.opt.param_groups[i].__setitem__("lr", lr))

    @precondition(lambda self: sum(p.grad is not None for p in self.opt.params) >= 1)
    @rule(index=st.integers(0, 20))
    def bad_gradient(self, index):
        """A gradient of the wrong shape, on a parameter after others: step refuses it before
        the ones before it are updated."""
        with_grad = [p for p in self.opt.params if p.grad is not None]
        p = with_grad[index % len(with_grad)]
        good = p.grad
        p.grad = np.ones(p.shape + (1,))
        try:
            self.refused(self.opt.step)
        finally:
            p.grad = good

    @precondition(lambda self: any(p.grad is not None for p in self.model.parameters()))
    @rule(index=st.integers(0, 20))
    def nan_gradient_in_clipping(self, index):
        with_grad = [p for p in self.model.parameters() if p.grad is not None]
        p = with_grad[index % len(with_grad)]
        good = p.grad
        before = snapshot(self.model, self.opt)
        bad = np.array(good)
        bad.flat[0] = np.nan
        p.grad = bad
        try:
            with pytest.raises(gg.GraphgradError):
                optim.clip_grad_norm(self.model.parameters(), 1e-3)
            np.testing.assert_array_equal(p.grad, bad)
        finally:
            p.grad = good
        assert_same(before, snapshot(self.model, self.opt))  # no other gradient was scaled

    @rule(key=st.integers(0, 20))
    def bad_model_state(self, key):
        state = self.model.state_dict()
        name = sorted(state)[key % len(state)]
        state[name] = np.zeros(state[name].shape + (2,))
        self.refused(lambda: self.model.load_state_dict(state))

    # -- invariants ----------------------------------------------------------------------------
    @invariant()
    def parameters_match_the_reference(self):
        for name, p in self.model.named_parameters():
            _close(p.data, self.values[id(p)], name)
        for p in self.opt.params:
            _close(p.data, self.values[id(p)], f"{p.name}, optimized")
        for layer in self.model:
            if id(layer) in self.buffers:
                mean, var = self.buffers[id(layer)]
                _close(layer.running_mean, mean, "running_mean")
                _close(layer.running_var, var, "running_var")

    @invariant()
    def optimizer_matches_the_reference(self):
        ref, opt = self.ref, self.opt
        assert opt.t == ref.t
        assert opt.group_steps == [ref.t - g["added_at"] for g in ref.groups]
        assert len(opt.param_groups) == len(ref.groups)
        for group, expected in zip(opt.param_groups, ref.groups):
            for key, value in expected["settings"].items():
                assert math.isclose(group[key], value, rel_tol=1e-12), key
        state = opt.state_dict()
        for i, slots in enumerate(ref.state):
            for key, array in slots.items():
                _close(state[f"state.{i}.{key}"], array, f"state.{i}.{key}")


# The loaded profile's settings (tests/conftest.py), with 20 operations per session.
Session.TestCase.settings = settings(stateful_step_count=20)
test_session = Session.TestCase
