"""Adamax, NAdam, RAdam and Adadelta against their formulas (PyTorch's) computed by hand in
numpy, step by step with weight decay, maximize, their state dicts through gg.save and
gg.load, their settings' checks and float32. PyTorch's own, step by step, are in
test_against_torch."""
import math

import numpy as np
import optim_runs
import pytest

import graphgrad as gg
from graphgrad import optim

RNG = np.random.default_rng(7)
W0 = RNG.standard_normal((3, 2))
b0 = RNG.standard_normal(3)
# Eight steps, the gradients shrinking and growing again, so that Adamax's maximum and the
# averages are not the last gradient's; RAdam with beta2 = 0.9 switches at t = 6.
STEPS = [(RNG.standard_normal((3, 2)) * scale, RNG.standard_normal(3) * scale)
         for scale in (3.0, 1.0, 0.1, 0.02, 1.5, 0.3, 2.0, 0.05)]


def _adamax(lr, beta1, beta2, eps):
    def update(x, g, state, t):
        v, u = state.get("v", 0.0), state.get("u", 0.0)
        state["v"] = v = beta1 * v + (1 - beta1) * g
        state["u"] = u = np.maximum(beta2 * u, np.abs(g) + eps)
        return x - lr / (1 - beta1 ** t) * v / u
    return update


def _nadam(lr, beta1, beta2, eps, momentum_decay):
    def mu(t):
        return beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))

    def update(x, g, state, t):
        product = math.prod(mu(i) for i in range(1, t + 1))
        v, s = state.get("v", 0.0), state.get("s", 0.0)
        state["v"] = v = beta1 * v + (1 - beta1) * g
        state["s"] = s = beta2 * s + (1 - beta2) * g ** 2
        D = np.sqrt(s / (1 - beta2 ** t)) + eps
        return (x - lr * (1 - mu(t)) / (1 - product) * g / D
                - lr * mu(t + 1) / (1 - product * mu(t + 1)) * v / D)
    return update


def _radam(lr, beta1, beta2, eps, switched):
    def update(x, g, state, t):
        v, s = state.get("v", 0.0), state.get("s", 0.0)
        state["v"] = v = beta1 * v + (1 - beta1) * g
        state["s"] = s = beta2 * s + (1 - beta2) * g ** 2
        v_hat = v / (1 - beta1 ** t)
        rho_inf = 2 / (1 - beta2) - 1
        rho = rho_inf - 2 * t * beta2 ** t / (1 - beta2 ** t)
        if rho <= 5:
            return x - lr * v_hat
        switched.add(t)
        r = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
        return x - lr * r * v_hat * math.sqrt(1 - beta2 ** t) / (np.sqrt(s) + eps)
    return update


def _adadelta(lr, beta, eps):
    def update(x, g, state, t):
        s, u = state.get("s", 0.0), state.get("u", 0.0)
        state["s"] = s = beta * s + (1 - beta) * g ** 2
        delta = np.sqrt(u + eps) / np.sqrt(s + eps) * g
        state["u"] = beta * u + (1 - beta) * delta ** 2
        return x - lr * delta
    return update


def _by_hand(update, decay=0.0, maximize=False, steps=STEPS):
    """W and b after each step of ``update(x, g, state, t)``, the gradient with PyTorch's
    maximize (negated) and L2 weight decay (added after)."""
    params, states, after = [W0.copy(), b0.copy()], [{}, {}], []
    for t, grads in enumerate(steps, start=1):
        for i, g in enumerate(grads):
            g = (-g if maximize else g) + decay * params[i]
            params[i] = update(params[i], g, states[i], t)
        after.append([p.copy() for p in params])
    return after


_SWITCHED: set[int] = set()
# (graphgrad's optimizer with these settings, the update by hand)
VARIANTS = {
    "Adamax": (lambda p, **k: optim.Adamax(p, lr=0.01, beta1=0.8, beta2=0.95, eps=1e-3, **k),
               _adamax(0.01, 0.8, 0.95, 1e-3)),
    "NAdam": (lambda p, **k: optim.NAdam(p, lr=0.01, beta1=0.8, beta2=0.95, eps=1e-3,
                                         momentum_decay=0.05, **k),
              _nadam(0.01, 0.8, 0.95, 1e-3, 0.05)),
    "RAdam": (lambda p, **k: optim.RAdam(p, lr=0.01, beta1=0.8, beta2=0.9, eps=1e-3, **k),
              _radam(0.01, 0.8, 0.9, 1e-3, _SWITCHED)),
    "Adadelta": (lambda p, **k: optim.Adadelta(p, lr=0.5, beta=0.8, eps=1e-4, **k),
                 _adadelta(0.5, 0.8, 1e-4)),
}


def _steps_of(make):
    """W and b after each step of ``make([W, b])`` given STEPS."""
    W, b = (gg.Tensor(a.copy(), requires_grad=True) for a in (W0, b0))
    opt, after = make([W, b]), []
    for dW, db in STEPS:
        W.grad, b.grad = dW, db
        opt.step()
        after.append([W.data.copy(), b.data.copy()])
    return after


@pytest.mark.parametrize("decay, maximize", [(0.0, False), (0.1, False), (0.1, True)],
                         ids=["plain", "weight decay", "maximize"])
@pytest.mark.parametrize("name", VARIANTS)
def test_each_step_is_the_formula_by_hand(name, decay, maximize):
    make, update = VARIANTS[name]
    got = _steps_of(lambda p: make(p, weight_decay=decay, maximize=maximize))
    expected = _by_hand(update, decay, maximize)
    for t, (ours, theirs) in enumerate(zip(got, expected), start=1):
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15, err_msg=f"step {t}")
    assert not np.allclose(got[-1][0], W0, atol=1e-3)  # it moved
    if name == "RAdam":  # the first five steps momentum SGD's, then the rectified ones
        assert _SWITCHED == {6, 7, 8}


@pytest.mark.parametrize("name", VARIANTS)
def test_maximize_is_descent_on_the_negated_gradients_exactly(name):
    make, _ = VARIANTS[name]
    up = optim_runs.run(lambda p: make(p, weight_decay=0.1, maximize=True), (W0, b0), STEPS)
    down = optim_runs.run(lambda p: make(p, weight_decay=0.1), (W0, b0),
                          [(-dW, -db) for dW, db in STEPS])
    np.testing.assert_array_equal(up[0], down[0])
    np.testing.assert_array_equal(up[1], down[1])
    assert "maximize=True" in repr(up[2])


@pytest.mark.parametrize("stop", [2, 5, 7])
@pytest.mark.parametrize("name", VARIANTS)
def test_a_run_saved_and_resumed_ends_bit_for_bit_as_the_run_not_stopped(name, stop, tmp_path):
    """Through a file: the state arrays, t (RAdam's switch), NAdam's product of the mu_t, the
    settings."""
    make = VARIANTS[name][0]
    W_full, b_full, full = optim_runs.run(lambda p: make(p, weight_decay=0.1), (W0, b0), STEPS)
    W, b, first = optim_runs.resumed(lambda p: make(p, weight_decay=0.1), (W0, b0), STEPS,
                                     stop, tmp_path / "opt.npz")
    np.testing.assert_array_equal(W, W_full)
    np.testing.assert_array_equal(b, b_full)
    state = first.state_dict()
    assert state["optimizer"] == name and state["t"] == stop
    assert {key for key in state if key.startswith("state.0.")} == {
        f"state.0.{key}" for key in type(first).state_names}


# beta1 of each of the eight steps, changed at every step as OneCycle(cycle_momentum=True) does.
BETA1S = [0.9, 0.85, 0.8, 0.5, 0.6, 0.95, 0.7, 0.9]


def _mu(beta1, t, momentum_decay=4e-3):
    return beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))


def _nadam_changing(beta1s, lr=0.01, beta2=0.999, eps=1e-8):
    """W after each step of NAdam by hand, as PyTorch's, with beta1s[t - 1] the beta1 of step
    t: M_t = M_(t-1) mu_t, each step's mu_t with that step's beta1; and the last M_t."""
    W, v, s, product, after = W0.copy(), 0.0, 0.0, 1.0, []
    for t, ((dW, _), beta1) in enumerate(zip(STEPS, beta1s), start=1):
        mu, mu_next = _mu(beta1, t), _mu(beta1, t + 1)
        product *= mu
        v = beta1 * v + (1 - beta1) * dW
        s = beta2 * s + (1 - beta2) * dW ** 2
        D = np.sqrt(s / (1 - beta2 ** t)) + eps
        W = (W - lr * (1 - mu) / (1 - product) * dW / D
             - lr * mu_next / (1 - product * mu_next) * v / D)
        after.append(W)
    return after, product


def _nadam_run(beta1s, start=0, state=None, W=None):
    """(W after each step, the optimizer): NAdam([W], lr=0.01) from W0 (or ``W``), loaded with
    ``state`` if given, stepping the dW of STEPS[start:] with beta1s[i] set before step i."""
    W = gg.Tensor((W0 if W is None else W).copy(), requires_grad=True)
    opt, after = optim.NAdam([W], lr=0.01), []
    if state is not None:
        opt.load_state_dict(state)
    for (dW, _), beta1 in zip(STEPS[start:], beta1s):
        opt.beta1 = beta1
        W.grad = dW
        opt.step()
        after.append(W.data.copy())
    return after, opt


def test_nadams_product_of_the_mu_t_multiplies_in_each_steps_mu_t_with_its_beta1():
    """As PyTorch's mu_product: M_t = M_(t-1) mu_t, with the beta1 of step t, kept in the
    state dict; not the product of the mu_i of steps 1 to t with the beta1 of now."""
    ours, opt = _nadam_run(BETA1S)
    expected, product = _nadam_changing(BETA1S)
    for t, (a, b) in enumerate(zip(ours, expected), start=1):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15, err_msg=f"step {t}")
    assert opt.state_dict()["state.0.mu_product"] == pytest.approx(product, rel=1e-15)
    recomputed = math.prod(_mu(BETA1S[-1], t) for t in range(1, 9))
    assert opt.state_dict()["state.0.mu_product"] != pytest.approx(recomputed, rel=1e-3)


@pytest.mark.parametrize("stop", [1, 4, 7])
def test_nadam_resumed_amid_a_changing_beta1_ends_bit_for_bit_as_the_run_not_stopped(
        stop, tmp_path):
    """Through a file: M_t, made of mu_t with each step's beta1, is in the state dict."""
    full, opt = _nadam_run(BETA1S)
    first, stopped = _nadam_run(BETA1S[:stop])
    gg.save(stopped.state_dict(), tmp_path / "opt.npz")
    rest, resumed = _nadam_run(BETA1S[stop:], stop, gg.load(tmp_path / "opt.npz"), first[-1])
    np.testing.assert_array_equal(rest[-1], full[-1])
    assert (resumed.state_dict()["state.0.mu_product"]
            == opt.state_dict()["state.0.mu_product"])


def test_nadams_group_added_later_keeps_its_own_product_from_its_own_first_step():
    W, b = (gg.Tensor(a.copy(), requires_grad=True) for a in (W0, b0))
    opt = optim.NAdam([W], lr=0.01, beta1=0.8)
    for t, (dW, db) in enumerate(STEPS, start=1):
        if t == 4:
            opt.add_param_group({"params": [b], "beta1": 0.6})
            assert opt.state_dict()["state.1.mu_product"] == 1.0
        W.grad, b.grad = dW, db
        opt.step()
    products = [1.0, 1.0]
    for i, (beta1, steps) in enumerate([(0.8, 8), (0.6, 5)]):
        for t in range(1, steps + 1):
            products[i] *= _mu(beta1, t)
    state = opt.state_dict()
    assert [state["state.0.mu_product"], state["state.1.mu_product"]] == products


def test_nadams_step_costs_the_same_at_step_500_as_at_step_3_with_beta1_changing(monkeypatch):
    """One multiplication into the product kept, not the t of its recomputation from step 1:
    the calls of NAdam._mu per step, with beta1 changed before every step."""
    calls = []
    mu = optim.NAdam._mu
    monkeypatch.setattr(optim.NAdam, "_mu", staticmethod(
        lambda *args: calls.append(1) or mu(*args)))
    W = gg.Tensor(W0.copy(), requires_grad=True)
    opt, per_step = optim.NAdam([W], lr=1e-4), []
    for t in range(500):
        opt.beta1 = 0.85 + 0.1 * (t % 2)
        W.grad = STEPS[t % 8][0]
        before = len(calls)
        opt.step()
        per_step.append(len(calls) - before)
    assert per_step == [per_step[0]] * 500 and per_step[0] <= 3


def _without_product(state):
    """``state`` as NAdam saved it before it kept its product of the mu_t (and counted the
    group's steps, not each parameter's)."""
    return {key: value for key, value in state.items()
            if not key.endswith((".mu_product", ".step"))}


def _per_group(state):
    """``state`` as NAdam saved it when it counted the group's steps and kept the group's
    product of the mu_t (``"group.0.mu_product"``)."""
    return {**_without_product(state), "group.0.mu_product": float(state["state.0.mu_product"])}


@pytest.mark.parametrize("stop", [1, 5])
def test_nadam_state_saved_with_the_groups_count_and_product_resumes_bit_for_bit(
        stop, tmp_path):
    full, _ = _nadam_run(BETA1S)
    first, opt = _nadam_run(BETA1S[:stop])
    gg.save(_per_group(opt.state_dict()), tmp_path / "old.npz")
    rest, resumed = _nadam_run(BETA1S[stop:], stop, gg.load(tmp_path / "old.npz"), first[-1])
    np.testing.assert_array_equal(rest[-1], full[-1])
    assert resumed.state_dict()["state.0.step"] == 8


def test_nadam_state_saved_before_the_product_was_kept_resumes_with_it_recomputed(tmp_path):
    """A state without "group.0.mu_product" (saved before it was kept): the product of the
    mu_i of steps 1 to t with the loaded beta1, multiplied in that order, at the next step;
    with a beta1 that never changed, the steps of the run not stopped to the last bit."""
    constant = [0.9] * 8
    full, _ = _nadam_run(constant)
    first, opt = _nadam_run(constant[:5])
    gg.save(_without_product(opt.state_dict()), tmp_path / "old.npz")
    rest, _ = _nadam_run(constant[5:], 5, gg.load(tmp_path / "old.npz"), first[-1])
    np.testing.assert_array_equal(rest[-1], full[-1])

    # beta1 changed at step 3 and saved without the product: M_5 recomputed from beta1 0.5,
    # as NAdam computed it then, and multiplied on from there.
    first, opt = _nadam_run([0.9, 0.9, 0.5, 0.5, 0.5])
    old = _without_product(opt.state_dict())
    W = gg.Tensor(first[-1].copy(), requires_grad=True)
    opt = optim.NAdam([W], lr=0.01)
    opt.load_state_dict(old)
    product = 1.0
    for t in range(1, 6):
        product *= optim.NAdam._mu(0.5, 4e-3, t)
    assert opt.state_dict()["state.0.mu_product"] == product
    W.grad = STEPS[5][0]
    opt.step()
    assert opt.state_dict()["state.0.mu_product"] == product * optim.NAdam._mu(0.5, 4e-3, 6)


@pytest.mark.parametrize("value, message", [
    (1.5, r"group\.0\.mu_product must be in \[0, 1\], got 1\.5"),
    (float("nan"), r"group\.0\.mu_product must be in \[0, 1\], got nan"),
    ("0.5", r"group\.0\.mu_product must be in \[0, 1\], got '0\.5'"),
])
def test_nadam_refuses_a_saved_product_that_is_not_one_and_changes_nothing(value, message):
    _, opt = _nadam_run(BETA1S[:3])
    state = {**_per_group(opt.state_dict()), "group.0.mu_product": value}
    W = gg.Tensor(W0.copy(), requires_grad=True)
    fresh = optim.NAdam([W], lr=0.01)
    with pytest.raises(gg.ArgumentError, match=message):
        fresh.load_state_dict(state)
    assert fresh.t == 0 and fresh.state_dict()["state.0.mu_product"] == 1.0


def test_nadam_refuses_a_product_for_a_group_it_does_not_have():
    _, opt = _nadam_run(BETA1S[:3])
    state = opt.state_dict()
    state["group.1.mu_product"] = 0.5
    with pytest.raises(gg.ArgumentError, match=r"unexpected keys: group\.1\.mu_product"):
        optim.NAdam([gg.Tensor(W0.copy(), requires_grad=True)]).load_state_dict(state)


@pytest.mark.parametrize("kind, kwargs, message", [
    (optim.Adamax, {"beta1": 1.0}, r"Adamax: beta1 must be in \[0, 1\), got 1"),
    (optim.Adamax, {"eps": 0.0}, r"Adamax: eps must be positive and finite"),
    (optim.NAdam, {"momentum_decay": -0.1}, r"NAdam: momentum_decay must be >= 0 and finite"),
    (optim.NAdam, {"beta2": -0.5}, r"NAdam: beta2 must be in \[0, 1\)"),
    (optim.RAdam, {"lr": 0.0}, r"RAdam: lr must be positive and finite"),
    (optim.RAdam, {"weight_decay": math.inf}, r"RAdam: weight_decay must be >= 0 and finite"),
    (optim.Adadelta, {"beta": 1.0}, r"Adadelta: beta must be in \[0, 1\), got 1"),
    (optim.Adadelta, {"maximize": 1}, r"Adadelta: maximize must be True or False, got 1"),
    (optim.Adadelta, {"rho": 0.9}, r"Adadelta: rho= is PyTorch's keyword; here rho=r is beta=r"),
], ids=["adamax beta1", "adamax eps", "nadam momentum_decay", "nadam beta2", "radam lr",
        "radam weight_decay", "adadelta beta", "adadelta maximize", "adadelta rho"])
def test_bad_settings_are_refused_naming_the_optimizer_and_the_setting(kind, kwargs, message):
    W = gg.Tensor(W0.copy(), requires_grad=True)
    error = TypeError if "rho" in kwargs else gg.ArgumentError
    with pytest.raises(error, match=message):
        kind([W], **kwargs)
    opt = kind([W])
    if "rho" not in kwargs:
        key, value = next(iter(kwargs.items()))
        with pytest.raises(gg.ArgumentError, match=key):
            opt.param_groups[0][key] = value if key != "lr" else -1.0


@pytest.mark.parametrize("name", VARIANTS)
def test_float32_parameters_step_in_float32(name):
    """The state, the step and the parameters stay float32 (the coefficients are Python
    numbers, not numpy float64 scalars, which made numpy run a pass in float64), as close to
    the float64 run as float32 holds."""
    make = VARIANTS[name][0]
    W = gg.Tensor(W0.astype(np.float32), requires_grad=True)
    opt = make([W], weight_decay=0.1)
    for dW, _ in STEPS:
        W.grad = dW.astype(np.float32)
        opt.step()
    assert W.data.dtype == np.float32
    assert all(a.dtype == np.float32 for a in opt.state[0].values())
    W64, _, _ = optim_runs.run(lambda p: make(p, weight_decay=0.1), (W0, b0), STEPS)
    np.testing.assert_allclose(W.data, W64, rtol=2e-5, atol=1e-6)


def test_adamaxs_first_float32_step_is_float32_arithmetic():
    """At t = 1: v = (1 - beta1) dW, u = |dW| + eps, W -= alpha / (1 - beta1) v / u, each
    operation in float32."""
    rng = np.random.default_rng(3)
    W = gg.Tensor(rng.standard_normal(1000).astype(np.float32), requires_grad=True)
    W.grad = g = rng.standard_normal(1000).astype(np.float32)
    before = W.data.copy()
    optim.Adamax([W], lr=0.01).step()
    v = g * np.float32(1 - 0.9)
    u = np.abs(g) + np.float32(1e-8)
    np.testing.assert_array_equal(W.data, before - v / u * np.float32(0.01 / (1 - 0.9)))


def test_radam_steps_as_momentum_sgd_until_rho_t_passes_5():
    """beta2 = 0.999: rho_t = 1, 1.999..., passes 5 at t = 6; before, W -= alpha v_hat whatever
    s_dW, so the first step moves every weight by alpha (1 - beta1) dW / (1 - beta1)."""
    W = gg.Tensor(W0.copy(), requires_grad=True)
    opt = optim.RAdam([W], lr=0.1)
    W.grad = STEPS[0][0]
    opt.step()
    np.testing.assert_allclose(W.data, W0 - 0.1 * STEPS[0][0], rtol=1e-14)
    rho_inf = 2 / (1 - 0.999) - 1
    rhos = [rho_inf - 2 * t * 0.999 ** t / (1 - 0.999 ** t) for t in range(1, 8)]
    assert [rho > 5 for rho in rhos] == [False] * 5 + [True] * 2


@pytest.mark.parametrize("beta2", [0.999, 0.99, 0.9])
def test_radams_first_five_steps_are_momentum_sgds_and_the_sixth_is_adaptive(beta2):
    """rho_5 = 4.96 and rho_6 = 5.94 with beta2 = 0.99 (4.58 and 5.39 with 0.9): each
    switches at t = 6, as with 0.999."""
    W = gg.Tensor(W0.copy(), requires_grad=True)
    opt = optim.RAdam([W], lr=0.1, beta2=beta2)
    v = 0.0
    for t, (dW, _) in enumerate(STEPS[:6], start=1):
        W.grad = dW
        before = W.data.copy()
        opt.step()
        v = 0.9 * v + 0.1 * dW
        sgd = before - 0.1 * v / (1 - 0.9 ** t)
        if t < 6:
            np.testing.assert_allclose(W.data, sgd, rtol=1e-13)
        else:
            assert not np.allclose(W.data, sgd, rtol=1e-3)


def test_adadeltas_first_steps_are_about_sqrt_eps_long_and_lr_1_is_zeilers():
    """s_delta starts at 0: the first delta is sqrt(eps) / sqrt((1 - beta) dW**2 + eps) dW."""
    W = gg.Tensor(W0.copy(), requires_grad=True)
    opt = optim.Adadelta([W])
    W.grad = dW = STEPS[0][0]
    opt.step()
    delta = math.sqrt(1e-6) / np.sqrt(0.1 * dW ** 2 + 1e-6) * dW
    np.testing.assert_allclose(W.data, W0 - delta, rtol=1e-14)
    assert opt.lr == 1.0 and opt.beta == 0.9 and opt.eps == 1e-6


def test_the_variants_are_in_the_package_with_pytorchs_defaults():
    W = gg.Tensor(W0.copy(), requires_grad=True)
    assert repr(optim.Adamax([W])) == ("Adamax(1 parameter, lr=0.002, beta1=0.9, beta2=0.999, "
                                       "eps=1e-08)")
    assert repr(optim.NAdam([W])) == ("NAdam(1 parameter, lr=0.002, beta1=0.9, beta2=0.999, "
                                      "eps=1e-08, momentum_decay=0.004)")
    assert repr(optim.RAdam([W], weight_decay=0.1)) == (
        "RAdam(1 parameter, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-08, weight_decay=0.1)")
    assert repr(optim.Adadelta([W])) == "Adadelta(1 parameter, lr=1, beta=0.9, eps=1e-06)"
    assert {"Adamax", "NAdam", "RAdam", "Adadelta"} <= set(optim.__all__)


def test_radam_counts_each_parameters_steps_from_its_first_gradient():
    """As PyTorch's state["step"]: b, without a gradient until step 7, takes RAdam's first
    step then (momentum SGD's: alpha v_dW / (1 - beta1) = alpha dW), not the rectified step
    of t = 7; W, stepped throughout, is rectified from its sixth step."""
    W, b = (gg.Tensor(a.copy(), requires_grad=True) for a in (W0, b0))
    opt = optim.RAdam([W, b], lr=0.01, beta2=0.9)
    for t, (dW, db) in enumerate(STEPS[:7], start=1):
        W.grad, b.grad = dW, (db if t == 7 else None)
        opt.step()
    np.testing.assert_allclose(b.data, b0 - 0.01 * STEPS[6][1], rtol=1e-15, atol=1e-15)
    assert [float(opt.state[0]["step"]), float(opt.state[1]["step"])] == [7.0, 1.0]


def test_radam_state_saved_with_the_groups_count_resumes_bit_for_bit(tmp_path):
    make = VARIANTS["RAdam"][0]
    W_full, b_full, _ = optim_runs.run(make, (W0, b0), STEPS)
    first = optim_runs.run(make, (W0, b0), STEPS[:3])[2]
    old = {k: v for k, v in first.state_dict().items() if not k.endswith(".step")}
    gg.save(old, tmp_path / "old.npz")
    W, b = (gg.Tensor(a.copy(), requires_grad=True) for a in optim_runs.run(
        make, (W0, b0), STEPS[:3])[:2])
    opt = make([W, b])
    opt.load_state_dict(gg.load(tmp_path / "old.npz"))
    for dW, db in STEPS[3:]:
        W.grad, b.grad = dW, db
        opt.step()
    np.testing.assert_array_equal(W.data, W_full)
    np.testing.assert_array_equal(b.data, b_full)


def test_adamax_corrects_each_parameters_bias_from_its_first_gradient():
    """As PyTorch's state["step"]: b, without a gradient until step 4, takes Adamax's first
    step then, alpha v / (1 - beta1) / u = alpha dW / (|dW| + eps), not v / (1 - beta1**4)."""
    W, b = (gg.Tensor(a.copy(), requires_grad=True) for a in (W0, b0))
    opt = optim.Adamax([W, b], lr=0.01)
    for t, (dW, db) in enumerate(STEPS[:4], start=1):
        W.grad, b.grad = dW, (db if t == 4 else None)
        opt.step()
    db = STEPS[3][1]
    np.testing.assert_allclose(b.data, b0 - 0.01 * db / (np.abs(db) + 1e-8), rtol=1e-14)
    old = {k: v for k, v in opt.state_dict().items() if not k.endswith(".step")}
    resumed = optim.Adamax([gg.Tensor(W.data.copy(), requires_grad=True),
                            gg.Tensor(b.data.copy(), requires_grad=True)], lr=0.01)
    resumed.load_state_dict(old)  # saved with the group's count: each parameter's is it
    assert [float(s["step"]) for s in resumed.state] == [4.0, 4.0]
