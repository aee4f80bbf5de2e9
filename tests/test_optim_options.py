"""The options PyTorch users reach for, against their formulas computed by hand in numpy over
several steps: SGD's Nesterov momentum, Adam's and AdamW's AMSGrad, Adagrad; the schedules
MultiStepDecay, Warmup and ReduceOnPlateau (with fit feeding it the dev cost); the state dicts
of all of them. PyTorch itself in test_against_torch.py."""
import math

import numpy as np
import optim_runs
import pytest

import graphgrad as gg
from graphgrad import nn, optim

RNG = np.random.default_rng(5)
W0 = RNG.standard_normal((3, 2))
b0 = RNG.standard_normal(3)
# Gradients that shrink after the first steps, so that AMSGrad's maximum of s_dW is not s_dW.
GRADS = [(RNG.standard_normal((3, 2)) * scale, RNG.standard_normal(3) * scale)
         for scale in (3.0, 2.0, 0.1, 0.05, 1.0, 0.02)]


def _run(make, steps=GRADS):
    return optim_runs.run(make, (W0, b0), steps)


# -- SGD(nesterov=True) ---------------------------------------------------------------------------
def test_nesterov_is_the_course_average_taken_one_step_further():
    alpha, beta = 0.1, 0.9
    W_got, b_got, opt = _run(lambda p: optim.SGD(p, lr=alpha, momentum=beta, nesterov=True))
    W, b = W0.copy(), b0.copy()
    v_dW, v_db = np.zeros_like(W), np.zeros_like(b)
    for dW, db in GRADS:
        v_dW = beta * v_dW + (1 - beta) * dW
        v_db = beta * v_db + (1 - beta) * db
        W = W - alpha * (beta * v_dW + (1 - beta) * dW)
        b = b - alpha * (beta * v_db + (1 - beta) * db)
    np.testing.assert_allclose(W_got, W, rtol=1e-12)
    np.testing.assert_allclose(b_got, b, rtol=1e-12)
    np.testing.assert_allclose(opt.state[0]["v"], v_dW, rtol=1e-12)
    plain, _, _ = _run(lambda p: optim.SGD(p, lr=alpha, momentum=beta))
    assert not np.allclose(plain, W_got)


def test_nesterov_is_pytorchs_with_the_learning_rate_scaled_as_momentums():
    """PyTorch: v = mu v + g; W -= lr (g + mu v), with lr = alpha (1 - beta)."""
    alpha, beta, decay = 0.5, 0.8, 0.01
    W_got, _, _ = _run(lambda p: optim.SGD(p, lr=alpha, momentum=beta, nesterov=True,
                                           weight_decay=decay))
    W, v = W0.copy(), np.zeros_like(W0)
    for dW, _ in GRADS:
        g = dW + decay * W
        v = beta * v + g
        W = W - alpha * (1 - beta) * (g + beta * v)
    np.testing.assert_allclose(W_got, W, rtol=1e-12)


def test_nesterov_without_momentum_is_refused_naming_the_group():
    W = gg.Tensor(W0.copy(), requires_grad=True, name="W")
    b = gg.Tensor(b0.copy(), requires_grad=True, name="b")
    with pytest.raises(gg.ArgumentError, match=r"SGD: got nesterov=True with momentum=0: "
                                               r"Nesterov's momentum needs a momentum"):
        optim.SGD([W], lr=0.1, nesterov=True)
    with pytest.raises(gg.ArgumentError, match=r"SGD: parameter group 1 has nesterov=True "
                                               r"with momentum=0"):
        optim.SGD([{"params": [W]}, {"params": [b], "nesterov": True, "momentum": 0.0}],
                  lr=0.1, momentum=0.9)
    opt = optim.SGD([W], lr=0.1)
    with pytest.raises(gg.ArgumentError, match=r"parameter group 1 has nesterov=True"):
        opt.add_param_group({"params": [b], "nesterov": True})
    assert len(opt.param_groups) == 1 and len(opt.params) == 1  # nothing was added
    with pytest.raises(gg.ArgumentError, match=r"SGD: nesterov must be True or False, got 1"):
        optim.SGD([W], lr=0.1, momentum=0.9, nesterov=1)
    with pytest.raises(gg.ArgumentError, match=r"SGD: param_groups\[0\]\['nesterov'\] must be "
                                               r"True or False, got 'yes'"):
        opt.param_groups[0]["nesterov"] = "yes"


def test_nesterov_in_one_group_only_and_set_as_an_attribute():
    alpha, beta = 0.1, 0.9
    W, b = gg.Tensor(W0.copy(), requires_grad=True), gg.Tensor(b0.copy(), requires_grad=True)
    opt = optim.SGD([{"params": [W], "nesterov": True}, {"params": [b]}], lr=alpha,
                    momentum=beta)
    assert [g["nesterov"] for g in opt.param_groups] == [True, False]
    assert opt.nesterov is False  # the keyword's, which group 1 follows
    v_dW, v_db, W_hand, b_hand = np.zeros_like(W0), np.zeros_like(b0), W0.copy(), b0.copy()
    for dW, db in GRADS[:2]:
        W.grad, b.grad = dW, db
        opt.step()
        v_dW = beta * v_dW + (1 - beta) * dW
        v_db = beta * v_db + (1 - beta) * db
        W_hand -= alpha * (beta * v_dW + (1 - beta) * dW)
        b_hand -= alpha * v_db
    opt.nesterov = True  # now group 1 too
    for dW, db in GRADS[2:]:
        W.grad, b.grad = dW, db
        opt.step()
        v_dW = beta * v_dW + (1 - beta) * dW
        v_db = beta * v_db + (1 - beta) * db
        W_hand -= alpha * (beta * v_dW + (1 - beta) * dW)
        b_hand -= alpha * (beta * v_db + (1 - beta) * db)
    np.testing.assert_allclose(W.data, W_hand, rtol=1e-12)
    np.testing.assert_allclose(b.data, b_hand, rtol=1e-12)


# -- Adam(amsgrad=True) ---------------------------------------------------------------------------
def _amsgrad_by_hand(lr, beta1, beta2, eps, decoupled=0.0):
    """PyTorch's AMSGrad: the maximum of the raw s_dW, divided by this step's correction."""
    W = W0.copy()
    v, s, s_max = np.zeros_like(W), np.zeros_like(W), np.zeros_like(W)
    for t, (dW, _) in enumerate(GRADS, start=1):
        W = W * (1 - lr * decoupled)
        v = beta1 * v + (1 - beta1) * dW
        s = beta2 * s + (1 - beta2) * dW ** 2
        s_max = np.maximum(s_max, s)
        W = W - lr * (v / (1 - beta1 ** t)) / (np.sqrt(s_max / (1 - beta2 ** t)) + eps)
    return W, s, s_max


@pytest.mark.parametrize("kind, decay", [(optim.Adam, 0.0), (optim.AdamW, 0.1)])
def test_amsgrad_divides_by_the_largest_s_so_far_corrected_at_this_step(kind, decay):
    lr, beta1, beta2, eps = 0.01, 0.9, 0.99, 1e-8
    W_got, _, opt = _run(lambda p: kind(p, lr=lr, beta1=beta1, beta2=beta2, eps=eps,
                                        weight_decay=decay, amsgrad=True))
    W, s, s_max = _amsgrad_by_hand(lr, beta1, beta2, eps, decoupled=decay)
    assert not np.allclose(s, s_max)  # the maximum took part
    np.testing.assert_allclose(W_got, W, rtol=1e-12)
    np.testing.assert_allclose(opt.state[0]["s_max"], s_max, rtol=1e-12)
    np.testing.assert_allclose(opt.state[0]["s"], s, rtol=1e-12)
    plain, _, _ = _run(lambda p: kind(p, lr=lr, beta1=beta1, beta2=beta2, eps=eps,
                                      weight_decay=decay))
    assert not np.allclose(plain, W_got)


def test_amsgrad_is_not_the_maximum_of_s_corrected():
    """The other reading, max(s_max, s / (1 - beta2**t)), keeps the first steps' large
    corrections: a different path, which PyTorch does not take."""
    lr, beta1, beta2, eps = 0.01, 0.9, 0.99, 1e-8
    W_got, _, _ = _run(lambda p: optim.Adam(p, lr=lr, beta1=beta1, beta2=beta2, amsgrad=True))
    W, v, s, s_hat_max = W0.copy(), np.zeros_like(W0), np.zeros_like(W0), np.zeros_like(W0)
    for t, (dW, _) in enumerate(GRADS, start=1):
        v = beta1 * v + (1 - beta1) * dW
        s = beta2 * s + (1 - beta2) * dW ** 2
        s_hat_max = np.maximum(s_hat_max, s / (1 - beta2 ** t))
        W = W - lr * (v / (1 - beta1 ** t)) / (np.sqrt(s_hat_max) + eps)
    assert not np.allclose(W_got, W, rtol=1e-6)


def test_amsgrad_state_is_kept_for_its_groups_only_and_resumes_exactly(tmp_path):
    def make(p):
        return optim.Adam([{"params": [p[0]], "amsgrad": True}, {"params": [p[1]]}], lr=0.01)

    W_full, b_full, whole = _run(make)
    assert sorted(whole.state[0]) == ["s", "s_max", "v"] and sorted(whole.state[1]) == ["s", "v"]
    W, b, first = optim_runs.resumed(make, (W0, b0), GRADS, 3, tmp_path / "adam.npz")
    state = first.state_dict()
    assert "state.0.s_max" in state and "state.1.s_max" not in state
    assert state["group.0.amsgrad"] is True and state["group.1.amsgrad"] is False
    np.testing.assert_array_equal(W, W_full)
    np.testing.assert_array_equal(b, b_full)


def test_a_state_saved_with_amsgrad_loads_into_an_adam_made_without_and_back():
    """As SGD's momentum: the setting and s_max are taken as saved."""
    _, _, ams = _run(lambda p: optim.Adam(p, lr=0.01, amsgrad=True), GRADS[:3])
    W, b = gg.Tensor(W0.copy(), requires_grad=True), gg.Tensor(b0.copy(), requires_grad=True)
    plain = optim.Adam([W, b], lr=0.01)
    plain.load_state_dict(ams.state_dict())
    assert plain.amsgrad is True
    np.testing.assert_array_equal(plain.state[0]["s_max"], ams.state[0]["s_max"])
    _, _, no_ams = _run(lambda p: optim.Adam(p, lr=0.01), GRADS[:3])
    plain.load_state_dict(no_ams.state_dict())
    assert plain.amsgrad is False and "s_max" not in plain.state[0]
    bad = {**ams.state_dict(), "state.1.s_max": np.ones(4)}
    with pytest.raises(gg.ArgumentError, match=r"state\.1\.s_max: shape \(4,\)"):
        plain.load_state_dict(bad)
    assert plain.amsgrad is False and "s_max" not in plain.state[0]  # nothing changed


def test_a_state_saved_before_the_flags_existed_loads_with_them_off():
    _, _, adam = _run(lambda p: optim.Adam(p, lr=0.01), GRADS[:2])
    old = {k: v for k, v in adam.state_dict().items() if "amsgrad" not in k}
    W, b = gg.Tensor(W0.copy(), requires_grad=True), gg.Tensor(b0.copy(), requires_grad=True)
    again = optim.Adam([W, b], lr=0.01, amsgrad=True)
    again.load_state_dict(old)
    assert again.amsgrad is False and again.state_dict().keys() == adam.state_dict().keys()
    two = optim.SGD([{"params": [W]}, {"params": [b], "lr": 0.2}], lr=0.1, momentum=0.5)
    saved = {k: v for k, v in two.state_dict().items() if "nesterov" not in k}
    assert "group.1.lr" in saved
    loaded = optim.SGD([{"params": [W]}, {"params": [b], "lr": 0.2}], lr=0.1, momentum=0.5,
                       nesterov=True)
    loaded.load_state_dict(saved)
    assert [g["nesterov"] for g in loaded.param_groups] == [False, False]


# -- Adagrad --------------------------------------------------------------------------------------
@pytest.mark.parametrize("start, decay", [(0.0, 0.0), (0.1, 0.05)])
def test_adagrad_sums_every_squared_gradient(start, decay):
    lr, eps = 0.1, 1e-10
    W_got, b_got, opt = _run(lambda p: optim.Adagrad(p, lr=lr, weight_decay=decay,
                                                     initial_accumulator_value=start))
    W, b = W0.copy(), b0.copy()
    s_dW, s_db = np.full_like(W, start), np.full_like(b, start)
    for dW, db in GRADS:
        dW, db = dW + decay * W, db + decay * b
        s_dW, s_db = s_dW + dW ** 2, s_db + db ** 2
        W = W - lr * dW / (np.sqrt(s_dW) + eps)
        b = b - lr * db / (np.sqrt(s_db) + eps)
    np.testing.assert_allclose(W_got, W, rtol=1e-12)
    np.testing.assert_allclose(b_got, b, rtol=1e-12)
    np.testing.assert_allclose(opt.state[0]["s"], s_dW, rtol=1e-12)
    assert (opt.lr, opt.eps, opt.initial_accumulator_value) == (lr, eps, start)


def test_adagrad_keeps_float32_and_resumes_exactly(tmp_path):
    def make(p):
        return optim.Adagrad(p, initial_accumulator_value=0.5)

    W_full, _, _ = _run(make)
    W, _, _ = optim_runs.resumed(make, (W0, b0), GRADS, 3, tmp_path / "adagrad.npz")
    np.testing.assert_array_equal(W, W_full)
    x = gg.Tensor(np.ones(3, np.float32), requires_grad=True)
    opt = optim.Adagrad([x])
    x.grad = np.full(3, 0.5, np.float32)
    opt.step()
    assert x.data.dtype == np.float32 and opt.state[0]["s"].dtype == np.float32
    np.testing.assert_allclose(x.data, 1 - 0.01 * 0.5 / (0.5 + 1e-10), rtol=1e-7)


@pytest.mark.parametrize("kwargs, message", [
    ({"eps": 0.0}, r"Adagrad: eps must be positive and finite"),
    ({"initial_accumulator_value": -0.1}, r"Adagrad: initial_accumulator_value must be >= 0 "
                                          r"and finite, got -0\.1"),
    ({"lr": -1.0}, r"Adagrad: lr must be positive and finite"),
])
def test_adagrad_bad_settings_name_it_and_the_setting(kwargs, message):
    with pytest.raises(gg.ArgumentError, match=message):
        optim.Adagrad([gg.Tensor(W0, requires_grad=True)], **kwargs)


def test_reprs_show_the_flags_that_are_on():
    W = gg.Tensor(W0.copy(), requires_grad=True)
    b = gg.Tensor(b0.copy(), requires_grad=True)
    assert repr(optim.SGD([W], lr=0.1, momentum=0.9, nesterov=True)) == (
        "SGD(1 parameter, lr=0.1, momentum=0.9, nesterov=True)")
    assert repr(optim.Adam([W], amsgrad=True)) == (
        "Adam(1 parameter, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-08, amsgrad=True)")
    assert repr(optim.Adam([{"params": [W]}, {"params": [b], "amsgrad": True}])) == (
        "Adam(2 parameters, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-08;\n"
        "  group 0: 1 parameter\n  group 1: 1 parameter, amsgrad=True)")
    assert repr(optim.Adagrad([W])) == (
        "Adagrad(1 parameter, lr=0.01, eps=1e-10, initial_accumulator_value=0)")


# -- schedules ------------------------------------------------------------------------------------
def test_multistep_decay_decays_at_each_milestone():
    decay = optim.MultiStepDecay(0.1, [5, 2], gamma=0.5)
    assert [decay(e) for e in range(7)] == [0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025]
    twice = optim.MultiStepDecay(1.0, [3, 3], gamma=0.1)  # as PyTorch: gamma**2 there
    assert [twice(e) for e in (2, 3)] == [1.0, pytest.approx(0.01, rel=1e-15)]
    assert repr(decay) == "MultiStepDecay(alpha0=0.1, milestones=[2, 5], gamma=0.5)"
    with pytest.raises(gg.ArgumentError, match=r"MultiStepDecay: milestone 2\.5 must be a "
                                               r"whole number of at least 0"):
        optim.MultiStepDecay(0.1, [2.5])
    with pytest.raises(gg.GraphgradTypeError, match=r"MultiStepDecay takes milestones as a "
                                                    r"list of epochs, such as \[30, 80\], got 30"):
        optim.MultiStepDecay(0.1, 30)
    with pytest.raises(gg.ArgumentError, match=r"MultiStepDecay: gamma must be in \(0, 1\]"):
        optim.MultiStepDecay(0.1, [3], gamma=0.0)


def test_warmup_rises_linearly_then_runs_the_schedule_from_its_start():
    warm = optim.Warmup(optim.ExponentialDecay(0.1, rate=0.5), warmup=4)
    expected = [0.0, 0.025, 0.05, 0.075, 0.1, 0.05, 0.025]
    assert [warm(e) for e in range(7)] == pytest.approx(expected, rel=1e-15, abs=1e-18)
    from_third = optim.Warmup(optim.StepDecay(0.4, factor=0.5, every=2), 2, start_factor=0.25)
    # 0.4 (0.25 + 0.75 e / 2) for e < 2, then 0.4, 0.4, 0.2, ...
    assert [from_third(e) for e in range(6)] == pytest.approx([0.1, 0.25, 0.4, 0.4, 0.2, 0.2])
    assert optim.Warmup(lambda e: 0.3, 3)(1) == pytest.approx(0.1)  # any function
    assert repr(from_third) == ("Warmup(schedule=StepDecay(alpha0=0.4, factor=0.5, every=2), "
                                "warmup=2, start_factor=0.25)")


def test_warmup_before_a_cosine_is_cosine_decays_own_warmup():
    total, warmup = 12, 3
    ours = optim.Warmup(optim.CosineDecay(0.2, total - warmup, alpha_min=0.01), warmup)
    its = optim.CosineDecay(0.2, total, warmup=warmup, alpha_min=0.01)
    assert [ours(e) for e in range(15)] == pytest.approx([its(e) for e in range(15)],
                                                         rel=1e-14, abs=1e-17)


def test_warmup_bad_settings_say_what_to_give():
    with pytest.raises(gg.GraphgradTypeError, match=r"Warmup: schedule must be a function of "
                                                    r"the epoch.*got 0\.1"):
        optim.Warmup(0.1, 5)
    with pytest.raises(gg.ArgumentError, match=r"Warmup: warmup must be a whole number of at "
                                               r"least 1, got 0"):
        optim.Warmup(optim.ExponentialDecay(0.1), 0)
    with pytest.raises(gg.ArgumentError, match=r"Warmup: start_factor must be in \[0, 1\)"):
        optim.Warmup(optim.ExponentialDecay(0.1), 3, start_factor=1.0)
    with pytest.raises(gg.ArgumentError, match=r"Warmup: schedule\(0\) must be a learning "
                                               r"rate, >= 0 and finite, got nan"):
        optim.Warmup(lambda e: math.nan, 3)(1)


# Costs scripted so that every rule shows: better by less than the threshold, a cooldown,
# min_lr, a drop of eps or less not made.
COSTS = [1.0, 0.9, 0.95, 0.9, 0.89995, 0.91, 0.7, 0.8, 0.8, 0.8, 0.8, 0.8, 0.6, 0.65, 0.7, 0.7,
         0.7, 0.7, 0.7, 0.7, 0.7, 0.7]


def _plateau_by_hand(costs, alpha, factor, patience, threshold, mode, threshold_mode,
                     cooldown, min_lr, eps):
    """PyTorch's ReduceLROnPlateau.step, written out: the rate each epoch trains with."""
    best = math.inf if mode == "min" else -math.inf
    bad = cool = 0
    rates = []
    for cost in costs:
        rates.append(alpha)
        if mode == "min":
            better = (cost < best * (1 - threshold) if threshold_mode == "rel"
                      else cost < best - threshold)
        else:
            better = (cost > best * (1 + threshold) if threshold_mode == "rel"
                      else cost > best + threshold)
        if better:
            best, bad = cost, 0
        else:
            bad += 1
        if cool > 0:
            cool, bad = cool - 1, 0
        if bad > patience:
            lower = max(alpha * factor, min_lr)
            if alpha - lower > eps:
                alpha = lower
            cool, bad = cooldown, 0
    return rates


PLATEAUS = {
    "defaults but patience": dict(patience=2),
    "abs threshold, cooldown": dict(patience=1, threshold=0.02, threshold_mode="abs",
                                    cooldown=2, factor=0.5),
    "min_lr": dict(patience=0, factor=0.5, min_lr=0.02),
    "eps": dict(patience=0, factor=0.5, eps=0.02),  # 0.1, 0.05, 0.025, not 0.0125
    "max": dict(patience=1, mode="max", factor=0.2),
}


@pytest.mark.parametrize("settings", PLATEAUS.values(), ids=PLATEAUS.keys())
def test_reduce_on_plateau_drops_the_rate_when_pytorchs_loop_would(settings):
    costs = [-c for c in COSTS] if settings.get("mode") == "max" else COSTS
    full = {"factor": 0.1, "patience": 10, "threshold": 1e-4, "mode": "min",
            "threshold_mode": "rel", "cooldown": 0, "min_lr": 0.0, "eps": 1e-8, **settings}
    plateau = optim.ReduceOnPlateau(0.1, **settings)
    rates = []
    for epoch, cost in enumerate(costs):
        rates.append(plateau(epoch))
        plateau.step(cost)
    assert rates == _plateau_by_hand(costs, 0.1, **full)
    assert len(set(rates)) > 1  # the rate dropped


def test_reduce_on_plateau_with_patience_2_drops_after_the_third_bad_epoch():
    plateau = optim.ReduceOnPlateau(1.0, patience=2, factor=0.5)
    rates = []
    for cost in [3.0, 2.0, 2.0, 2.5, 2.0, 1.0, 1.0, 1.0, 1.0]:
        rates.append(plateau(len(rates)))
        plateau.step(cost)
    # bad epochs 2, 3, 4 (the third): epoch 5 trains with 0.5; 6, 7, 8 bad: 0.25 after
    assert rates == [1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5]
    assert plateau(9) == 0.25 and plateau.best == 1.0


def test_reduce_on_plateau_state_dict_resumes_exactly(tmp_path):
    settings = PLATEAUS["abs threshold, cooldown"]
    whole = optim.ReduceOnPlateau(0.1, **settings)
    rates = []
    for epoch, cost in enumerate(COSTS):
        rates.append(whole(epoch))
        whole.step(cost)
    first = optim.ReduceOnPlateau(0.1, **settings)
    for cost in COSTS[:9]:
        first.step(cost)
    assert first.cooldown_left > 0 or first.bad_epochs > 0  # mid-way through something
    gg.save(first.state_dict(), tmp_path / "plateau.npz")
    second = optim.ReduceOnPlateau(0.1, **settings)
    second.load_state_dict(gg.load(tmp_path / "plateau.npz"))
    assert second.state_dict() == first.state_dict()
    resumed = []
    for epoch, cost in enumerate(COSTS[9:], start=9):
        resumed.append(second(epoch))
        second.step(cost)
    assert resumed == rates[9:]
    assert second.state_dict() == whole.state_dict()


def test_reduce_on_plateau_refuses_bad_settings_and_states():
    with pytest.raises(gg.ArgumentError, match=r"ReduceOnPlateau: factor must be in \(0, 1\), "
                                               r"got 1\.0"):
        optim.ReduceOnPlateau(0.1, factor=1.0)
    with pytest.raises(gg.ArgumentError, match=r"ReduceOnPlateau: mode must be 'min'"):
        optim.ReduceOnPlateau(0.1, mode="minimum")
    with pytest.raises(gg.ArgumentError, match=r"ReduceOnPlateau: threshold_mode must be "
                                               r"'rel'.*got 'relative'"):
        optim.ReduceOnPlateau(0.1, threshold_mode="relative")
    with pytest.raises(gg.ArgumentError, match=r"ReduceOnPlateau: min_lr must be in \[0, "
                                               r"alpha0 = 0\.1\]"):
        optim.ReduceOnPlateau(0.1, min_lr=0.2)
    with pytest.raises(gg.ArgumentError, match=r"ReduceOnPlateau: patience must be a whole "
                                               r"number of at least 0"):
        optim.ReduceOnPlateau(0.1, patience=-1)
    plateau = optim.ReduceOnPlateau(0.1)
    plateau.step(1.0)
    with pytest.raises(gg.ArgumentError, match=r"ReduceOnPlateau\.step: the cost given to step "
                                               r"must be a real number, got 'x'"):
        plateau.step("x")
    state = plateau.state_dict()
    with pytest.raises(gg.ArgumentError, match=r"the state has no bad_epochs"):
        plateau.load_state_dict({k: v for k, v in state.items() if k != "bad_epochs"})
    with pytest.raises(gg.ArgumentError, match=r"the state is from StepDecay"):
        plateau.load_state_dict({**state, "schedule": "StepDecay"})
    with pytest.raises(gg.ArgumentError, match=r"steps must be a whole number"):
        optim.ReduceOnPlateau(0.1).load_state_dict({**state, "steps": 1.5})
    with pytest.raises(gg.GraphgradTypeError, match=r"read the file with gg\.load"):
        plateau.load_state_dict("plateau.npz")
    assert plateau.state_dict() == state  # nothing refused changed it


def _fit_data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((32, 2))
    Y = X @ np.array([[1.5], [-2.0]]) + 0.1 + 0.3 * rng.standard_normal((32, 1))
    return X, Y


def test_fit_gives_reduce_on_plateau_the_dev_cost_after_each_epoch():
    X, Y = _fit_data()
    model = nn.Linear(2, 1, rng=0)
    plateau = optim.ReduceOnPlateau(0.2, patience=1, factor=0.5, threshold=0.05)
    history = gg.fit(model, nn.mse, optim.SGD(model.parameters(), lr=0.2), (X, Y), epochs=8,
                     dev_data=(X[:8], Y[:8]), batch_size=8, schedule=plateau, progress=False)
    expected = _plateau_by_hand(history["dev_cost"], 0.2, 0.5, 1, 0.05, "min", "rel", 0, 0.0,
                                1e-8)
    assert history["lr"] == expected and len(set(expected)) > 1
    assert plateau.steps == 8


def test_fit_without_dev_data_gives_it_the_training_cost():
    X, Y = _fit_data()
    model = nn.Linear(2, 1, rng=0)
    plateau = optim.ReduceOnPlateau(0.2, patience=0, factor=0.5, threshold=0.05)
    history = gg.fit(model, nn.mse, optim.SGD(model.parameters(), lr=0.2), (X, Y), epochs=8,
                     batch_size=8, schedule=plateau, progress=False)
    expected = _plateau_by_hand(history["cost"], 0.2, 0.5, 0, 0.05, "min", "rel", 0, 0.0, 1e-8)
    assert history["lr"] == expected and len(set(expected)) > 1


def test_fit_refuses_a_plateau_watching_for_a_maximum():
    X, Y = _fit_data()
    model = nn.Linear(2, 1, rng=0)
    W = model.W.data.copy()
    for schedule in (optim.ReduceOnPlateau(0.2, mode="max"),
                     optim.Warmup(optim.ReduceOnPlateau(0.2, mode="max"), 2)):
        with pytest.raises(gg.ArgumentError, match=r"fit: the ReduceOnPlateau schedule has "
                                                   r"mode='max'.*make it with mode='min'"):
            gg.fit(model, nn.mse, optim.SGD(model.parameters(), lr=0.2), (X, Y), epochs=2,
                   schedule=schedule, progress=False)
    np.testing.assert_array_equal(model.W.data, W)


def test_fit_resumed_with_the_plateaus_state_ends_as_the_run_not_stopped():
    X, Y = _fit_data()
    dev = (X[:8], Y[:8])

    def train(model, opt, plateau, epochs, initial_epoch=0):
        return gg.fit(model, nn.mse, opt, (X, Y), epochs, dev, batch_size=8, schedule=plateau,
                      progress=False, initial_epoch=initial_epoch)

    def settings():
        return optim.ReduceOnPlateau(0.2, patience=1, factor=0.5, threshold=0.05)

    whole_model = nn.Linear(2, 1, rng=0)
    whole = train(whole_model, optim.SGD(whole_model.parameters(), lr=0.2, momentum=0.5),
                  settings(), 8)
    model = nn.Linear(2, 1, rng=0)
    opt, plateau = optim.SGD(model.parameters(), lr=0.2, momentum=0.5), settings()
    first = train(model, opt, plateau, 4)
    again_model = nn.Linear(2, 1, rng=5)
    again_model.load_state_dict(model.state_dict())
    again_opt, again_plateau = optim.SGD(again_model.parameters(), lr=0.2), settings()
    again_opt.load_state_dict(opt.state_dict())
    again_plateau.load_state_dict(plateau.state_dict())
    rest = train(again_model, again_opt, again_plateau, 8, initial_epoch=4)
    assert first["lr"] + rest["lr"] == whole["lr"] and len(set(whole["lr"])) > 1
    np.testing.assert_array_equal(again_model.W.data, whole_model.W.data)


def test_flags_changed_during_training_take_effect_at_the_next_step():
    """Nesterov with momentum set to 0 is plain descent (no v_dW made); AMSGrad turned on
    later starts s_max at 0, so its first maximum is s_dW."""
    W = gg.Tensor(W0.copy(), requires_grad=True)
    sgd = optim.SGD([{"params": [W], "weight_decay": 0.1}], lr=0.1, momentum=0.9,
                    nesterov=True)
    sgd.param_groups[0]["momentum"] = 0.0
    sgd.state[0].clear()
    W.grad = GRADS[0][0]
    sgd.step()
    np.testing.assert_allclose(W.data, W0 - 0.1 * (GRADS[0][0] + 0.1 * W0), rtol=1e-12)
    assert sgd.state[0] == {}
    lr, beta1, beta2, eps = 0.01, 0.9, 0.99, 1e-8
    W_half, _, adam = _run(lambda p: optim.Adam(p, lr=lr, beta2=beta2), GRADS[:3])
    v, s = adam.state[0]["v"].copy(), adam.state[0]["s"].copy()
    adam.amsgrad = True
    W, s_max = W_half.copy(), np.zeros_like(W_half)
    W_t, b_t = adam.params
    for t, (dW, db) in enumerate(GRADS[3:], start=4):
        W_t.grad, b_t.grad = dW, db
        adam.step()
        v = beta1 * v + (1 - beta1) * dW
        s = beta2 * s + (1 - beta2) * dW ** 2
        s_max = np.maximum(s_max, s)
        W = W - lr * (v / (1 - beta1 ** t)) / (np.sqrt(s_max / (1 - beta2 ** t)) + eps)
    np.testing.assert_allclose(W_t.data, W, rtol=1e-12)
    np.testing.assert_allclose(adam.state[0]["s_max"], s_max, rtol=1e-12)


def test_warmup_passes_the_costs_after_its_warmup_on_to_a_plateau():
    """Warmup(ReduceOnPlateau) in fit: the plateau is told the costs of the epochs after the
    warm-up (as timm's plateau scheduler with warm-up is), not those of the rising rates; it
    was told none, and its rate never dropped."""
    plateau = optim.ReduceOnPlateau(1.0, patience=0, factor=0.5)
    warm = optim.Warmup(plateau, 2)
    rates = []
    for epoch, cost in enumerate([5.0, 6.0, 3.0, 3.0, 3.0, 2.0, 2.5]):
        rates.append(warm(epoch))
        warm.step(cost)
    # warm-up 0, 0.5; then best 3.0, bad (0.5), bad (0.25), better, bad (0.125)
    assert rates == [0.0, 0.5, 1.0, 1.0, 0.5, 0.25, 0.25]
    assert warm(7) == 0.125 and plateau.steps == 5 and plateau.best == 2.0
    # A schedule without step: nothing to tell
    optim.Warmup(optim.ExponentialDecay(0.1), 2).step(1.0)
    assert repr(warm) == ("Warmup(schedule=ReduceOnPlateau(alpha0=1, mode='min', "
                          "threshold_mode='rel', factor=0.5, patience=0, threshold=0.0001, "
                          "cooldown=0, min_lr=0, eps=1e-08, alpha=0.125, best=2, bad_epochs=0, "
                          "cooldown_left=0, steps=5), warmup=2, start_factor=0)")


def test_fit_tells_a_plateau_after_a_warmup_the_dev_costs():
    X, Y = _fit_data()
    model = nn.Linear(2, 1, rng=0)
    plateau = optim.ReduceOnPlateau(0.2, patience=1, factor=0.5, threshold=0.05)
    history = gg.fit(model, nn.mse, optim.SGD(model.parameters(), lr=0.2), (X, Y), epochs=10,
                     dev_data=(X[:8], Y[:8]), batch_size=8, schedule=optim.Warmup(plateau, 2),
                     progress=False)
    after = _plateau_by_hand(history["dev_cost"][2:], 0.2, 0.5, 1, 0.05, "min", "rel", 0, 0.0,
                             1e-8)
    assert history["lr"] == [0.0, 0.1, *after] and len(set(after)) > 1
    assert plateau.steps == 8


@pytest.mark.parametrize("patience", [None, 3])
def test_fit_stops_at_a_nan_dev_cost_before_the_plateau_is_told_it(patience):
    """A NaN dev cost counted as a bad epoch, as PyTorch counts it: fit went on, the plateau
    dropping the rate every patience + 1 epochs down to min_lr, without a word (with
    patience, it was told the NaN before early stopping stopped)."""
    X, Y = _fit_data()
    X_dev = X[:8].copy()
    X_dev[3, 1] = np.nan
    model = nn.Linear(2, 1, rng=0)
    plateau = optim.ReduceOnPlateau(0.2, patience=0)
    with pytest.raises(gg.train.TrainingDiverged, match=r"fit: the dev cost of epoch 0 is nan, so "
                                                  r"the schedule ReduceOnPlateau cannot compare "
                                                  r"it with the others.*NaN or Inf in X_dev"
                       ) as caught:
        gg.fit(model, nn.mse, optim.SGD(model.parameters(), lr=0.2), (X, Y), epochs=4,
               dev_data=(X_dev, Y[:8]), batch_size=8, schedule=plateau, patience=patience,
               progress=False)
    assert plateau.state_dict() == optim.ReduceOnPlateau(0.2).state_dict()  # told nothing
    assert caught.value.history["lr"] == [0.2]
    if patience is None:  # a schedule that follows no cost goes on, as without one
        history = gg.fit(model, nn.mse, optim.SGD(model.parameters(), lr=0.2), (X, Y), 3,
                         (X_dev, Y[:8]), batch_size=8, progress=False,
                         schedule=optim.Warmup(optim.ExponentialDecay(0.2), 1))
        assert np.isnan(history["dev_cost"]).all() and history["lr"] == [0.0, 0.2, 0.19]


# -- maximize, SGD's dampening, Adagrad's lr_decay, RMSprop's centered and momentum ---------------
def _leaves():
    return (gg.Tensor(W0.copy(), requires_grad=True, name="W"),
            gg.Tensor(b0.copy(), requires_grad=True, name="b"))


def test_sgd_maximize_ascends_with_the_weight_decay_still_shrinking_w():
    """PyTorch negates dW before adding the decay: dW' = -dW + lambda W."""
    alpha, beta, decay = 0.1, 0.9, 0.05
    W_got, _, opt = _run(lambda p: optim.SGD(p, lr=alpha, momentum=beta, weight_decay=decay,
                                             maximize=True))
    W, v = W0.copy(), np.zeros_like(W0)
    for dW, _ in GRADS:
        v = beta * v + (1 - beta) * (-dW + decay * W)
        W = W - alpha * v
    np.testing.assert_allclose(W_got, W, rtol=1e-12)
    plain, _, _ = _run(lambda p: optim.SGD(p, lr=alpha, maximize=True))  # the inlined loop
    np.testing.assert_allclose(plain, W0 + alpha * sum(dW for dW, _ in GRADS), rtol=1e-12)
    assert opt.maximize is True and opt.state_dict()["maximize"] is True


MAXIMIZED = {
    "sgd": lambda p, **k: optim.SGD(p, lr=0.1, **k),
    "sgd momentum decay": lambda p, **k: optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.1,
                                                   **k),
    "nesterov": lambda p, **k: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, **k),
    "rmsprop": lambda p, **k: optim.RMSprop(p, lr=0.01, weight_decay=0.1, **k),
    "rmsprop centered momentum": lambda p, **k: optim.RMSprop(p, lr=0.01, momentum=0.5,
                                                              centered=True, **k),
    "adagrad": lambda p, **k: optim.Adagrad(p, lr=0.1, weight_decay=0.1, lr_decay=0.1, **k),
    "adam": lambda p, **k: optim.Adam(p, lr=0.01, weight_decay=0.1, amsgrad=True, **k),
    "adamw": lambda p, **k: optim.AdamW(p, lr=0.01, weight_decay=0.1, **k),
}


@pytest.mark.parametrize("name", MAXIMIZED)
def test_maximize_steps_as_descent_on_the_negated_gradients(name):
    """-J's gradients, the decay added after (AdamW's decay alike): the same arrays exactly,
    and the .grad given is left as it is."""
    make = MAXIMIZED[name]
    grads = [(dW.copy(), db.copy()) for dW, db in GRADS]
    W_up, b_up, up = _run(lambda p: make(p, maximize=True), grads)
    W_down, b_down, _ = _run(make, [(-dW, -db) for dW, db in GRADS])
    np.testing.assert_array_equal(W_up, W_down)
    np.testing.assert_array_equal(b_up, b_down)
    np.testing.assert_array_equal(grads[-1][0], GRADS[-1][0])  # not negated in place
    assert "maximize=True" in repr(up) and "maximize" not in repr(make(list(_leaves())))


def test_maximize_climbs_to_the_maximum_and_is_checked_as_a_flag():
    W = gg.Tensor(np.zeros(3), requires_grad=True)
    opt = optim.Adam([W], lr=0.1, maximize=True)
    for _ in range(300):
        opt.zero_grad()
        (-((W - 3.0) ** 2)).sum().backward()  # largest at W = 3
        opt.step()
    np.testing.assert_allclose(W.data, 3.0, atol=1e-3)
    with pytest.raises(gg.ArgumentError, match=r"Adagrad: maximize must be True or False, got 1"):
        optim.Adagrad([W], maximize=1)
    with pytest.raises(gg.ArgumentError, match=r"param_groups\[0\]\['maximize'\] must be True"):
        opt.param_groups[0]["maximize"] = "yes"


def test_zero_grad_set_to_none_false_fills_the_same_arrays_with_zeros():
    W, b = _leaves()
    frozen = gg.Tensor(np.ones(2), name="frozen")
    opt = optim.SGD([W, b], lr=0.1)
    (W * W).sum().backward()
    held = W.grad
    opt.zero_grad(set_to_none=False)
    assert W.grad is held and not held.any() and b.grad is None  # b had none: kept None
    (W * W).sum().backward()  # added into the same array, as PyTorch's
    assert W.grad is held
    np.testing.assert_array_equal(held, 2 * W0)
    opt.zero_grad()  # PyTorch 2's default, and graphgrad's: None
    assert W.grad is None
    # A .grad that is not the tensor's own: new zeros, the array it shares left alone
    W.grad, b.grad = W.data, np.ones(3, np.float32)
    b.grad.flags.writeable = False
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(W.data, W0)
    assert not W.grad.any() and W.grad is not W.data and W.grad.shape == (3, 2)
    assert not b.grad.any() and b.grad.dtype == np.float32 and b.grad.flags.writeable
    with pytest.raises(gg.ArgumentError, match=r"SGD\.zero_grad: set_to_none must be True or "
                                               r"False, got 0"):
        opt.zero_grad(0)
    del frozen



def test_zero_grad_set_to_none_false_zeroes_a_frozen_parameters_own_grad_in_place():
    # As PyTorch's: a layer frozen after some steps keeps its .grad, which a reference taken
    # to it (a buffer of the user's) must see zeroed; shared ones still get new zeros.
    W, b = _leaves()
    opt = optim.SGD([W, b], lr=0.1)
    (W * W).sum().backward()
    held = W.grad
    W.requires_grad_(False)
    opt.zero_grad(set_to_none=False)
    assert W.grad is held and not held.any()
    W.grad = W.data  # frozen or not, a .grad sharing a parameter's data is left alone
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(W.data, W0)
    assert not W.grad.any() and W.grad is not W.data
    W.requires_grad_(True)
    (W * W).sum().backward()
    np.testing.assert_array_equal(W.grad, 2 * W0)

def test_a_models_zero_grad_set_to_none_false_as_the_optimizers():
    model = nn.Linear(2, 3, rng=0)
    nn.mse(model(gg.Tensor(np.ones((4, 2)))), gg.Tensor(np.zeros((4, 3)))).backward()
    held = [p.grad for p in model.parameters()]
    model.zero_grad(set_to_none=False)
    assert all(p.grad is g and not g.any() for p, g in zip(model.parameters(), held))
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    with pytest.raises(gg.ArgumentError, match=r"Linear\.zero_grad: set_to_none must be True"):
        model.zero_grad(set_to_none="no")


@pytest.mark.parametrize("decay", [0.0, 0.1])
def test_sgd_dampening_shrinks_every_gradients_share_but_the_first_steps(decay):
    alpha, beta, d = 0.1, 0.9, 0.3
    W_got, _, opt = _run(lambda p: optim.SGD(p, lr=alpha, momentum=beta, dampening=d,
                                             weight_decay=decay))
    W, v = W0.copy(), np.zeros_like(W0)
    for t, (dW, _) in enumerate(GRADS, start=1):
        g = dW + decay * W
        v = beta * v + (1 - beta) * (1 - d if t > 1 else 1.0) * g
        W = W - alpha * v
    np.testing.assert_allclose(W_got, W, rtol=1e-12)
    np.testing.assert_allclose(opt.state[0]["v"], v, rtol=1e-12)
    # PyTorch's, v = mu v + (1 - d) g from v = g, with lr = alpha (1 - beta): the same path
    W, buf = W0.copy(), None
    for dW, _ in GRADS:
        g = dW + decay * W
        buf = g.copy() if buf is None else beta * buf + (1 - d) * g
        W = W - alpha * (1 - beta) * buf
    np.testing.assert_allclose(W_got, W, rtol=1e-12)
    decayed = ", weight_decay=0.1" if decay else ""
    assert repr(opt) == f"SGD(2 parameters, lr=0.1, momentum=0.9, dampening=0.3{decayed})"


def test_sgd_dampening_with_nesterov_or_out_of_range_is_refused():
    W, b = _leaves()
    with pytest.raises(gg.ArgumentError, match=r"SGD: got nesterov=True with dampening=0\.5: "
                                               r"Nesterov's look-ahead"):
        optim.SGD([W], lr=0.1, momentum=0.9, nesterov=True, dampening=0.5)
    with pytest.raises(gg.ArgumentError, match=r"SGD: parameter group 1 has nesterov=True with "
                                               r"dampening=0\.1"):
        optim.SGD([{"params": [W]}, {"params": [b], "dampening": 0.1}], lr=0.1, momentum=0.9,
                  nesterov=True)
    with pytest.raises(gg.ArgumentError, match=r"SGD: dampening must be in \[0, 1\], got 1\.5"):
        optim.SGD([W], lr=0.1, momentum=0.9, dampening=1.5)


def test_adagrad_lr_decay_divides_alpha_by_one_plus_the_steps_before_times_it():
    lr, decay, eps = 0.1, 0.5, 1e-10
    W_got, _, opt = _run(lambda p: optim.Adagrad(p, lr=lr, lr_decay=decay))
    W, s = W0.copy(), np.zeros_like(W0)
    for t, (dW, _) in enumerate(GRADS, start=1):
        s = s + dW ** 2
        W = W - lr / (1 + (t - 1) * decay) * dW / (np.sqrt(s) + eps)
    np.testing.assert_allclose(W_got, W, rtol=1e-12)
    assert opt.lr == lr  # the setting is not decayed, the step's alpha is
    assert repr(opt) == ("Adagrad(2 parameters, lr=0.1, eps=1e-10, initial_accumulator_value=0, "
                         "lr_decay=0.5)")
    with pytest.raises(gg.ArgumentError, match=r"Adagrad: lr_decay must be >= 0 and finite"):
        optim.Adagrad(list(_leaves()), lr_decay=-0.1)


def _rmsprop_by_hand(lr, beta, eps, momentum, centered, decay=0.0):
    """PyTorch's RMSprop step, with alpha = beta."""
    W = W0.copy()
    s, v, m = np.zeros_like(W), np.zeros_like(W), np.zeros_like(W)
    for dW, _ in GRADS:
        g = dW + decay * W
        s = beta * s + (1 - beta) * g ** 2
        if centered:
            v = beta * v + (1 - beta) * g
            avg = np.sqrt(s - v ** 2) + eps
        else:
            avg = np.sqrt(s) + eps
        if momentum:
            m = momentum * m + g / avg
            W = W - lr * m
        else:
            W = W - lr * g / avg
    return W, s, v, m


@pytest.mark.parametrize("momentum, centered", [(0.0, True), (0.8, False), (0.8, True)])
def test_rmsprop_centered_and_momentum_are_pytorchs(momentum, centered):
    lr, beta, eps, decay = 0.01, 0.9, 1e-8, 0.05
    W_got, _, opt = _run(lambda p: optim.RMSprop(p, lr=lr, beta=beta, eps=eps, weight_decay=decay,
                                                 momentum=momentum, centered=centered))
    W, s, v, m = _rmsprop_by_hand(lr, beta, eps, momentum, centered, decay)
    np.testing.assert_allclose(W_got, W, rtol=1e-12)
    np.testing.assert_allclose(opt.state[0]["s"], s, rtol=1e-12)
    assert sorted(opt.state[0]) == sorted(["s", *"v" * centered, *"m" * bool(momentum)])
    if centered:
        np.testing.assert_allclose(opt.state[0]["v"], v, rtol=1e-12)
    if momentum:
        np.testing.assert_allclose(opt.state[0]["m"], m, rtol=1e-12)
    plain, _, _ = _run(lambda p: optim.RMSprop(p, lr=lr, beta=beta, eps=eps, weight_decay=decay))
    assert not np.allclose(plain, W_got)


def test_rmsprop_centered_on_equal_gradients_takes_no_nan():
    """s_dW - v_dW**2 is 0 for a constant gradient once beta**t is negligible: rounded below
    0, PyTorch's square root gives NaN; here 0, and the step is dW / eps."""
    grads = np.linspace(0.1, 3.0, 2001)  # a third of them round below 0 at some step
    x = gg.Tensor(np.zeros(grads.shape), requires_grad=True)
    opt = optim.RMSprop([x], lr=1e-12, beta=0.5, centered=True)
    for _ in range(80):
        x.grad = grads
        opt.step()
    assert np.isfinite(x.data).all()


@pytest.mark.parametrize("make, stop", [
    (lambda p: optim.RMSprop([{"params": [p[0]], "centered": True}, {"params": [p[1]],
                                                                     "momentum": 0.5}]), 3),
    (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.5), 1),
    (lambda p: optim.Adagrad(p, lr_decay=0.2, maximize=True), 3),
], ids=["rmsprop", "sgd dampening", "adagrad"])
def test_the_new_settings_resume_exactly(make, stop, tmp_path):
    W_full, b_full, _ = _run(make)
    W, b, first = optim_runs.resumed(make, (W0, b0), GRADS, stop, tmp_path / "opt.npz")
    np.testing.assert_array_equal(W, W_full)
    np.testing.assert_array_equal(b, b_full)


@pytest.mark.parametrize("make, added", [
    (lambda p: optim.SGD(p, lr=0.1, momentum=0.9), ("dampening", "maximize")),
    (lambda p: optim.RMSprop(p), ("momentum", "centered", "maximize")),
    (lambda p: optim.Adagrad([{"params": [p[0]]}, {"params": [p[1]], "lr": 0.1}]),
     ("lr_decay", "maximize")),
    (lambda p: optim.Adam(p), ("maximize",)),
], ids=["sgd", "rmsprop", "adagrad", "adam"])
def test_a_state_saved_before_the_new_settings_loads_with_them_off(make, added):
    _, _, before = _run(make, GRADS[:2])
    old = {k: v for k, v in before.state_dict().items() if k.split(".")[-1] not in added}
    W, b = _leaves()
    again = make([W, b])
    for key in added:  # set otherwise, so that loading shows
        setattr(again, key, True if isinstance(getattr(again, key), bool) else 0.5)
    again.load_state_dict(old)
    assert all(not getattr(again, key) for key in added)
    assert all(not group[key] for group in again.param_groups for key in added)
    assert again.state_dict().keys() == before.state_dict().keys()


@pytest.mark.parametrize("make, options", [
    (lambda p, **k: optim.SGD(p, lr=0.1, momentum=0.9, **k),
     {"foreach": True, "fused": False, "differentiable": False}),
    (lambda p, **k: optim.Adam(p, lr=0.01, **k),
     {"foreach": False, "fused": True, "capturable": True, "differentiable": None}),
    (lambda p, **k: optim.AdamW(p, lr=0.01, **k), {"fused": None, "capturable": False}),
    (lambda p, **k: optim.Adagrad(p, lr=0.1, **k), {"foreach": True, "fused": True}),
    (lambda p, **k: optim.RMSprop(p, lr=0.01, **k), {"foreach": True, "capturable": True}),
    (lambda p, **k: optim.NAdam(p, **k), {"foreach": None, "capturable": True}),
    (lambda p, **k: optim.ASGD(p, **k), {"foreach": False, "differentiable": False}),
])
def test_pytorchs_keywords_for_how_a_step_is_computed_change_nothing(make, options):
    """foreach, fused and capturable (as PyTorch's optimizer of the name takes them) choose how
    torch.optim computes a step, not what: the steps are those made without them."""
    plain, given = _run(make), _run(lambda p: make(p, **options))
    np.testing.assert_array_equal(given[0], plain[0])
    np.testing.assert_array_equal(given[1], plain[1])


@pytest.mark.parametrize("make, error, message", [
    (lambda p: optim.Adam(p, differentiable=True), gg.ArgumentError,
     r"Adam: differentiable=True makes PyTorch's step a differentiable operation .* leave "
     r"differentiable out"),
    (lambda p: optim.RMSprop(p, fused=True), gg.GraphgradTypeError,
     r"RMSprop.__init__\(\) got an unexpected keyword argument 'fused' \(of PyTorch's keywords "
     r"for how its step is computed, RMSprop takes foreach, capturable, differentiable\)"),
    (lambda p: optim.SGD(p, lr=0.1, capturable=False), gg.GraphgradTypeError,
     r"unexpected keyword argument 'capturable'"),
    (lambda p: optim.Adam(p, foreach="yes"), gg.ArgumentError, r"Adam: foreach must be True"),
    (lambda p: optim.Adam(p, betas=(0.9, 0.99)), gg.GraphgradTypeError,
     r"Adam: betas= is PyTorch's keyword; here betas=\(b1, b2\) is beta1=b1, beta2=b2"),
    (lambda p: optim.NAdam(p, betas=(0.9, 0.99)), gg.GraphgradTypeError, r"beta1=b1, beta2=b2"),
    (lambda p: optim.RMSprop(p, alpha=0.99), gg.GraphgradTypeError, r"alpha=a is beta=a"),
    (lambda p: optim.Adadelta(p, rho=0.9), gg.GraphgradTypeError, r"rho=r is beta=r"),
    (lambda p: optim.Rprop(p, step_sizes=(0.1, 1.0)), gg.GraphgradTypeError,
     r"step_size_min=lo, step_size_max=hi"),
    (lambda p: optim.Adam(p, decoupled_weight_decay=True), gg.GraphgradTypeError, r"is AdamW"),
    (lambda p: optim.Adam(p, momentum=0.9), TypeError, r"unexpected keyword argument 'momentum'"),
])
def test_other_keywords_are_refused_saying_what_to_write(make, error, message):
    W = gg.Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(error, match=message):
        make([W])


@pytest.mark.parametrize("kind", [optim.Adam, optim.SGD, optim.NAdam, optim.LBFGS])
def test_pytorchs_optimizer_state_dict_is_refused_as_pytorchs(kind):
    """torch.optim's state_dict ({"state": {0: {...}}, "param_groups": [...]}) was refused as
    missing every key, 'a different number of parameters?'."""
    W = gg.Tensor(np.ones(3), requires_grad=True)
    opt = kind([W], lr=0.1)
    torch_state = {"state": {0: {"step": 3.0, "exp_avg": np.zeros(3)}},
                   "param_groups": [{"lr": 0.1, "params": [0]}]}
    with pytest.raises(gg.ArgumentError, match=rf"{kind.__name__}.load_state_dict: the state is "
                                               r"PyTorch's \(its keys 'state' and 'param_groups'"):
        opt.load_state_dict(torch_state)
    assert opt.t == 0
