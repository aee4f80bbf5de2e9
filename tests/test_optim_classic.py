"""Rprop and ASGD against their formulas (PyTorch's) computed by hand in numpy, step by step
with maximize (and ASGD's weight decay), a gradient that starts later, a learning rate set
between steps, their state dicts through gg.save and gg.load, step(closure), and their
settings' checks; NAdam's and RAdam's decoupled_weight_decay. PyTorch's own, step by step,
are in test_against_torch."""
import math

import numpy as np
import optim_runs
import pytest

import graphgrad as gg
from graphgrad import nn, optim

RNG = np.random.default_rng(11)
W0 = RNG.standard_normal((3, 2))
b0 = RNG.standard_normal(3)
# Gradients whose signs flip now and then (Rprop's case), and with a zero in them.
STEPS = [(RNG.standard_normal((3, 2)), RNG.standard_normal(3)) for _ in range(9)]
STEPS[3][0][0, 0] = 0.0


def _rprop(lr, eta_minus, eta_plus, low, high):
    def update(x, g, state, t):
        if t == 1:
            state["prev"], state["size"] = np.zeros_like(x), np.full_like(x, lr)
        s = np.sign(g * state["prev"])
        factor = np.where(s > 0, eta_plus, np.where(s < 0, eta_minus, 1.0))
        state["size"] = np.clip(state["size"] * factor, low, high)
        g = np.where(s < 0, 0.0, g)
        state["prev"] = g
        return x - np.sign(g) * state["size"]
    return update


def _asgd(lr, lambd, alpha, t0):
    def update(x, g, state, t):
        eta = state.get("eta", lr)
        mu = state.get("mu", 1.0)
        x = x * (1 - lambd * eta) - eta * g
        state["ax"] = x.copy() if mu == 1 else state["ax"] + mu * (x - state["ax"])
        state["eta"] = lr / (1 + lambd * lr * t) ** alpha
        state["mu"] = 1 / max(1, t - t0)
        return x
    return update


def _by_hand(update, decay=0.0, maximize=False, steps=STEPS, states=None):
    params, states, after = [W0.copy(), b0.copy()], states or [{}, {}], []
    for t, grads in enumerate(steps, start=1):
        for i, g in enumerate(grads):
            g = (-g if maximize else g) + decay * params[i]
            params[i] = update(params[i], g, states[i], t)
        after.append([p.copy() for p in params])
    return after


def _steps_of(make, steps=STEPS):
    W, b = (gg.Tensor(a.copy(), requires_grad=True) for a in (W0, b0))
    opt, after = make([W, b]), []
    for dW, db in steps:
        W.grad, b.grad = dW, db
        opt.step()
        after.append([W.data.copy(), b.data.copy()])
    return after, opt


def _assert_steps(got, expected, rtol=1e-14):
    for t, (ours, theirs) in enumerate(zip(got, expected), start=1):
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-15, err_msg=f"step {t}")


@pytest.mark.parametrize("maximize", [False, True])
@pytest.mark.parametrize("settings", [{}, dict(lr=0.3, eta_minus=0.25, eta_plus=1.5,
                                               step_size_min=0.1, step_size_max=0.5)],
                         ids=["defaults", "bounded"])
def test_rprop_each_step_is_the_formula_by_hand(settings, maximize):
    got, opt = _steps_of(lambda p: optim.Rprop(p, **settings, maximize=maximize))
    full = dict(lr=0.01, eta_minus=0.5, eta_plus=1.2, step_size_min=1e-6, step_size_max=50.0)
    full.update(settings)
    expected = _by_hand(_rprop(*full.values()), maximize=maximize)
    # Exactly: signs and products of powers of the etas.
    for ours, theirs in zip(got, expected):
        for a, b in zip(ours, theirs):
            np.testing.assert_array_equal(a, b)
    sizes = opt.state[0]["step_size"]
    assert sizes.min() >= full["step_size_min"] and sizes.max() <= full["step_size_max"]
    assert len(np.unique(sizes)) > 1  # each weight its own step size
    assert opt.state[0]["step"] == 9


def test_rprop_float32_multiplies_by_the_etas_in_float32_as_pytorch():
    """PyTorch multiplies a float32 step size by float32(eta_plus), the gradient's dtype:
    1.2 in float64 rounds the product differently, and the step sizes drift apart from
    PyTorch's by an ulp after a few growths."""
    rng = np.random.default_rng(3)
    x0 = rng.standard_normal(500).astype(np.float32)
    w = gg.Tensor(x0.copy(), requires_grad=True)
    opt = optim.Rprop([w], lr=0.01)
    x, prev, size = x0.copy(), np.zeros_like(x0), np.full_like(x0, 0.01)
    for _ in range(30):
        g = rng.standard_normal(500).astype(np.float32)
        g[rng.random(500) < 0.3] *= -1e-3  # mostly the same signs: the step sizes grow
        g = np.abs(g) * np.sign(x0)
        w.grad = g.copy()
        opt.step()
        s = np.sign(g * prev)
        factor = np.where(s > 0, np.float32(1.2), np.where(s < 0, np.float32(0.5),
                                                           np.float32(1.0)))
        size = np.clip(size * factor, np.float32(1e-6), np.float32(50.0))
        prev = np.where(s < 0, np.float32(0.0), g)
        x = x - np.sign(prev) * size
    assert w.data.dtype == np.float32 and opt.state[0]["step_size"].dtype == np.float32
    np.testing.assert_array_equal(opt.state[0]["step_size"], size)
    np.testing.assert_array_equal(w.data, x)


def test_rprop_step_sizes_start_at_the_lr_of_the_parameters_first_step():
    """As PyTorch's state, made at a parameter's first step with a gradient: an lr set before
    it (a schedule's first rate) is the first step size; set after, it changes nothing."""
    W = gg.Tensor(W0.copy(), requires_grad=True)
    b = gg.Tensor(b0.copy(), requires_grad=True)
    opt = optim.Rprop([W, b], lr=0.01)
    opt.lr = 0.2
    W.grad = np.ones_like(W0)  # b has no gradient yet
    opt.step()
    np.testing.assert_array_equal(W.data, W0 - 0.2)
    assert opt.state[1]["step"] == 0 and np.array_equal(b.data, b0)
    opt.lr = 0.05
    W.grad, b.grad = np.ones_like(W0), -np.ones_like(b0)
    opt.step()
    np.testing.assert_allclose(W.data, W0 - 0.2 - 0.2 * 1.2, rtol=1e-15)
    np.testing.assert_array_equal(b.data, b0 + 0.05)


@pytest.mark.parametrize("decay, maximize", [(0.0, False), (0.1, False), (0.1, True)],
                         ids=["plain", "weight decay", "maximize"])
@pytest.mark.parametrize("t0", [1e6, 3.0, 0.0])
def test_asgd_each_step_and_its_average_are_the_formula_by_hand(t0, decay, maximize):
    got, opt = _steps_of(lambda p: optim.ASGD(p, lr=0.05, lambd=0.1, alpha=0.6, t0=t0,
                                              weight_decay=decay, maximize=maximize))
    states = [{}, {}]
    expected = _by_hand(_asgd(0.05, 0.1, 0.6, t0), decay, maximize, states=states)
    _assert_steps(got, expected)
    for p, state in zip(opt.params, states):
        np.testing.assert_allclose(opt.averaged(p), state["ax"], rtol=1e-14)
    if t0 == 1e6:  # no averaging yet: ax is W
        np.testing.assert_array_equal(opt.averaged(opt.params[0]), opt.params[0].data)
    elif t0 == 0.0:  # mu = 1, 1, 1/2, 1/3, ...: the mean of W after steps 2 to 9
        np.testing.assert_allclose(opt.averaged(opt.params[0]),
                                   np.mean([w for w, _ in got[1:]], axis=0), rtol=1e-13)


def test_asgds_eta_follows_the_lr_of_the_step_before():
    """eta of step t + 1 is lr / (1 + lambd lr t)**alpha with the lr set at step t, as
    PyTorch's, which computes it after the step."""
    W = gg.Tensor(W0.copy(), requires_grad=True)
    opt = optim.ASGD([W], lr=0.1, lambd=0.5)
    x = W0.copy()
    for t, lr in enumerate([0.1, 0.2, 0.05], start=1):
        opt.lr = lr
        eta = float(opt.state[0]["eta"]) if t > 1 else lr
        W.grad = STEPS[t][0]
        opt.step()
        x = x * (1 - 0.5 * eta) - eta * STEPS[t][0]
        np.testing.assert_allclose(W.data, x, rtol=1e-15)
        assert float(opt.state[0]["eta"]) == pytest.approx(lr / (1 + 0.5 * lr * t) ** 0.75,
                                                           rel=1e-15)


@pytest.mark.parametrize("stop", [1, 4, 7])
@pytest.mark.parametrize("make", [
    lambda p: optim.Rprop(p, lr=0.05, eta_plus=1.3),
    lambda p: optim.ASGD(p, lr=0.05, lambd=0.1, t0=3, weight_decay=0.1),
    lambda p: optim.NAdam(p, lr=0.05, weight_decay=0.1, decoupled_weight_decay=True),
    lambda p: optim.RAdam(p, lr=0.05, weight_decay=0.1, decoupled_weight_decay=True),
], ids=["Rprop", "ASGD", "NAdamW", "RAdamW"])
def test_a_run_saved_and_resumed_ends_bit_for_bit_as_the_run_not_stopped(make, stop, tmp_path):
    """Through a file: the arrays, the counts of shape () (Rprop's and ASGD's step, ASGD's eta
    and mu), the settings."""
    W_full, b_full, full = optim_runs.run(make, (W0, b0), STEPS)
    W, b, first = optim_runs.resumed(make, (W0, b0), STEPS, stop, tmp_path / "opt.npz")
    np.testing.assert_array_equal(W, W_full)
    np.testing.assert_array_equal(b, b_full)
    state = first.state_dict()
    assert {key for key in state if key.startswith("state.0.")} == {
        f"state.0.{key}" for key in type(first).state_names}
    if isinstance(first, (optim.Rprop, optim.ASGD)):
        assert state["state.1.step"].shape == () and state["state.1.step"] == stop
    else:
        assert state["decoupled_weight_decay"] is True


@pytest.mark.parametrize("make", [lambda p: optim.Rprop(p, lr=0.05),
                                  lambda p: optim.ASGD(p, lr=0.05)], ids=["Rprop", "ASGD"])
def test_step_with_a_closure_returns_its_loss_and_steps_from_its_gradients(make):
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((8, 3)), rng.standard_normal((8, 1))
    model = nn.Linear(3, 1, rng=0)
    opt = make(model.parameters())

    def closure():
        opt.zero_grad()
        J = nn.mse(model(X), Y)
        J.backward()
        return J
    losses = [opt.step(closure).item() for _ in range(30)]
    assert losses[-1] < 0.8 * losses[0] and opt.t == 30


@pytest.mark.parametrize("kind, kwargs, message", [
    (optim.Rprop, {"eta_minus": 1.0}, r"Rprop: eta_minus must be in \(0, 1\), got 1"),
    (optim.Rprop, {"eta_plus": 1.0}, r"Rprop: eta_plus must be above 1 and finite, got 1"),
    (optim.Rprop, {"step_size_min": -1.0}, r"Rprop: step_size_min must be >= 0 and finite"),
    (optim.Rprop, {"step_size_max": 0.0}, r"Rprop: step_size_max must be positive and finite"),
    (optim.Rprop, {"step_size_min": 2.0, "step_size_max": 1.0},
     r"Rprop: step_size_min \(2\) must be at most step_size_max \(1\)"),
    (optim.Rprop, {"weight_decay": 0.1}, r"unexpected keyword argument 'weight_decay'"),
    (optim.Rprop, {"etas": (0.5, 1.2)},
     r"Rprop: etas= is PyTorch's keyword; here etas=\(a, b\) is eta_minus=a, eta_plus=b"),
    (optim.ASGD, {"lambd": -1.0}, r"ASGD: lambd must be >= 0 and finite"),
    (optim.ASGD, {"alpha": math.nan}, r"ASGD: alpha must be >= 0 and finite"),
    (optim.ASGD, {"t0": -1.0}, r"ASGD: t0 must be >= 0 and finite"),
    (optim.ASGD, {"lr": 0.0}, r"ASGD: lr must be positive and finite"),
    (optim.NAdam, {"decoupled_weight_decay": 1},
     r"NAdam: decoupled_weight_decay must be True or False, got 1"),
])
def test_bad_settings_are_refused_naming_the_optimizer_and_the_setting(kind, kwargs, message):
    W = gg.Tensor(W0.copy(), requires_grad=True)
    error = TypeError if "keyword" in message else gg.ArgumentError
    with pytest.raises(error, match=message):
        kind([W], **kwargs)


def test_rprops_bounds_are_checked_in_each_group():
    W = gg.Tensor(W0.copy(), requires_grad=True)
    b = gg.Tensor(b0.copy(), requires_grad=True)
    with pytest.raises(gg.ArgumentError, match=r"Rprop: parameter group 1: step_size_min "
                                               r"\(60\) must be at most step_size_max \(50\)"):
        optim.Rprop([{"params": [W]}, {"params": [b], "step_size_min": 60.0}])


def test_asgd_averaged_of_a_parameter_not_stepped_yet_is_its_values():
    """Copying the averages into the model after training leaves a parameter that never had
    a gradient (frozen, unused) as it is: its ax is still the zeros it starts with."""
    W, b = (gg.Tensor(a.copy(), requires_grad=True) for a in (W0, b0))
    opt = optim.ASGD([W, b], lr=0.1, t0=0)
    np.testing.assert_array_equal(opt.averaged(W), W0)
    for dW, _ in STEPS[:3]:
        W.grad = dW
        opt.step()
    assert opt.state[1]["step"] == 0
    np.testing.assert_array_equal(opt.averaged(b), b0)
    assert opt.averaged(W).tolist() == opt.state[0]["ax"].tolist() != W.data.tolist()


def test_asgd_averaged_refuses_a_tensor_it_does_not_hold():
    opt = optim.ASGD([gg.Tensor(W0.copy(), requires_grad=True)])
    with pytest.raises(gg.ArgumentError, match="ASGD.averaged: p .* is not one of this "
                                               "optimizer's parameters"):
        opt.averaged(gg.Tensor(W0.copy(), requires_grad=True))


@pytest.mark.parametrize("kind", [optim.NAdam, optim.RAdam])
def test_decoupled_weight_decay_shrinks_w_before_the_step_with_the_plain_gradient(kind):
    """W = W (1 - lr weight_decay), then the step without the decay in dW: the step of the
    optimizer without weight decay from the shrunk W, exactly, every step."""
    def shrunk_then_plain(p):
        opt = kind(p, lr=0.05)
        step = opt.step

        def decayed(closure=None):
            for q in p:
                q.data = q.data * (1.0 - 0.05 * 0.1)
            return step(closure)
        opt.step = decayed
        return opt
    got, opt = _steps_of(lambda p: kind(p, lr=0.05, weight_decay=0.1,
                                        decoupled_weight_decay=True))
    expected, _ = _steps_of(shrunk_then_plain)
    for ours, theirs in zip(got, expected):
        for a, b in zip(ours, theirs):
            np.testing.assert_array_equal(a, b)
    coupled, _ = _steps_of(lambda p: kind(p, lr=0.05, weight_decay=0.1))
    assert not np.allclose(coupled[-1][0], got[-1][0], rtol=1e-6)
    assert "decoupled_weight_decay=True" in repr(opt)
    # A state saved before the setting existed loads as the coupled decay it did then.
    state = opt.state_dict()
    del state["decoupled_weight_decay"]
    fresh = kind([gg.Tensor(W0.copy(), requires_grad=True),
                  gg.Tensor(b0.copy(), requires_grad=True)], weight_decay=0.1,
                 decoupled_weight_decay=True)
    fresh.load_state_dict(state)
    assert fresh.decoupled_weight_decay is False


def test_the_classics_are_in_the_package_with_pytorchs_defaults():
    W = gg.Tensor(W0.copy(), requires_grad=True)
    rprop, asgd = optim.Rprop([W]), optim.ASGD([W])
    assert (rprop.lr, rprop.eta_minus, rprop.eta_plus, rprop.step_size_min,
            rprop.step_size_max, rprop.maximize) == (0.01, 0.5, 1.2, 1e-6, 50.0, False)
    assert (asgd.lr, asgd.lambd, asgd.alpha, asgd.t0, asgd.weight_decay) == (
        0.01, 1e-4, 0.75, 1e6, 0.0)
    assert repr(rprop) == ("Rprop(1 parameter, lr=0.01, eta_minus=0.5, eta_plus=1.2, "
                           "step_size_min=1e-06, step_size_max=50)")
    with pytest.raises(AttributeError, match="Rprop has no setting weight_decay"):
        _ = rprop.weight_decay


@pytest.mark.parametrize("make", [lambda p: optim.Rprop(p, lr=0.05),
                                  lambda p: optim.ASGD(p, lr=0.05, t0=1)], ids=["Rprop", "ASGD"])
def test_float32_parameters_step_in_float32(make):
    """The state (the counts of shape () too) in the parameter's dtype, and the steps: the
    same as the float64 run's, to float32's precision."""
    W = gg.Tensor(W0.astype(np.float32), requires_grad=True)
    opt = make([W])
    for dW, _ in STEPS:
        W.grad = dW.astype(np.float32)
        opt.step()
    assert W.data.dtype == np.float32
    assert all(array.dtype == np.float32 for array in opt.state[0].values())
    W64, _, _ = optim_runs.run(lambda p: make(p[:1]), (W0, b0), STEPS)
    np.testing.assert_allclose(W.data, W64, rtol=1e-5, atol=1e-6)
