"""The schedules made after PyTorch's: LambdaSchedule (LambdaLR), LinearSchedule (LinearLR),
ConstantWarmup (ConstantLR), PolynomialDecay (PolynomialLR), CosineWarmRestarts
(CosineAnnealingWarmRestarts), Chain (SequentialLR), and OneCycle's three phases and momentum
cycle: their rates against the formulas by hand, in fit per epoch and per step (with a resumed
run), their settings' checks. PyTorch's own rates are in test_against_torch."""
import math

import numpy as np
import pytest

import graphgrad as gg
from graphgrad import nn, optim


def test_lambda_schedule_multiplies_alpha0_by_the_function_of_the_epoch():
    schedule = optim.LambdaSchedule(0.2, lambda epoch: 0.5 ** epoch)
    assert [schedule(e) for e in range(4)] == [0.2, 0.1, 0.05, 0.025]
    assert "LambdaSchedule(alpha0=0.2, fn=<function" in repr(schedule)


@pytest.mark.parametrize("factor", [-0.5, math.nan, math.inf, "1"])
def test_lambda_schedule_refuses_a_factor_that_gives_no_learning_rate(factor):
    schedule = optim.LambdaSchedule(0.1, lambda epoch: factor)
    with pytest.raises(gg.ArgumentError, match=r"LambdaSchedule: fn\(3\) must be a factor of "
                                               r"alpha0, >= 0 and finite"):
        schedule(3)


def test_lambda_schedule_refuses_a_function_that_is_not_one():
    with pytest.raises(gg.GraphgradTypeError, match=r"LambdaSchedule: fn must be a function of "
                                                    r"the epoch .* got 0.95"):
        optim.LambdaSchedule(0.1, 0.95)


def test_linear_schedule_is_a_line_of_factors_then_the_last():
    """alpha0 (s + (e - s) min(epoch, total) / total): PyTorch's default, a third of alpha0
    up to alpha0 in 5 epochs, and a decay with start above end."""
    up = optim.LinearSchedule(0.3)
    np.testing.assert_allclose([up(e) for e in range(8)],
                               [0.3 * (1 / 3 + 2 / 3 * min(e, 5) / 5) for e in range(8)],
                               rtol=1e-15)
    assert up(0) == pytest.approx(0.1) and up(5) == up(100) == pytest.approx(0.3)
    down = optim.LinearSchedule(0.1, start_factor=1.0, end_factor=0.25, total=3)
    np.testing.assert_allclose([down(e) for e in range(5)],
                               [0.1, 0.075, 0.05, 0.025, 0.025], rtol=1e-15)
    assert optim.LinearSchedule(0.1, 0.0, 1.0, 4)(0) == 0.0  # from 0, which PyTorch refuses


def test_constant_warmup_is_a_share_of_alpha0_for_its_epochs():
    schedule = optim.ConstantWarmup(0.1, factor=0.5, total=3)
    assert [schedule(e) for e in range(5)] == [0.05, 0.05, 0.05, 0.1, 0.1]
    assert optim.ConstantWarmup(0.3)(4) == pytest.approx(0.1)  # PyTorch's 1/3 for 5 epochs


def test_polynomial_decay_reaches_zero_at_total_and_stays():
    square = optim.PolynomialDecay(0.1, total=4, power=2.0)
    np.testing.assert_allclose([square(e) for e in range(6)],
                               [0.1, 0.1 * 0.75 ** 2, 0.1 * 0.25, 0.1 * 0.0625, 0.0, 0.0],
                               rtol=1e-15)
    line = optim.PolynomialDecay(0.1)  # PyTorch's defaults: total 5, power 1
    np.testing.assert_allclose([line(e) for e in range(6)], [0.1, 0.08, 0.06, 0.04, 0.02, 0.0],
                               rtol=1e-15, atol=1e-18)


def _cosine(alpha0, alpha_min, since, length):
    return alpha_min + (alpha0 - alpha_min) * (1 + math.cos(math.pi * since / length)) / 2


def test_cosine_warm_restarts_restarts_at_each_period():
    """period 3: restarts at epochs 3, 6, 9 ...; the cosine never reaches alpha_min."""
    schedule = optim.CosineWarmRestarts(0.1, 3, alpha_min=0.01)
    expected = [_cosine(0.1, 0.01, e % 3, 3) for e in range(10)]
    assert [schedule(e) for e in range(10)] == expected
    assert schedule(0) == schedule(3) == schedule(9) == 0.1
    assert min(schedule(e) for e in range(10)) > 0.01


def test_cosine_warm_restarts_periods_grow_by_period_mult():
    """period 2, period_mult 3: periods of 2, 6, 18, 54 epochs, restarts at 2, 8, 26, 80; the
    epoch after each restart and the one before it, by whole numbers."""
    schedule = optim.CosineWarmRestarts(0.5, 2, period_mult=3)
    starts, length = [0], 2
    for _ in range(5):
        starts.append(starts[-1] + length)
        length *= 3
    assert starts == [0, 2, 8, 26, 80, 242]
    for i, start in enumerate(starts[:-1]):
        length = 2 * 3 ** i
        for since in (0, 1, length - 1):
            assert schedule(start + since) == _cosine(0.5, 0.0, since, length)
    assert [schedule(s) for s in starts] == [0.5] * 6
    # Far on: no logarithm to be one period off at a restart.
    start = sum(2 * 3 ** i for i in range(30))
    assert schedule(start) == 0.5 and schedule(start - 1) < 1e-20


def test_chain_runs_each_schedule_from_its_own_epoch_zero():
    schedule = optim.Chain([optim.ConstantWarmup(0.1, 0.5, total=2),
                            optim.ExponentialDecay(0.1, 0.9),
                            optim.StepDecay(0.1, 0.5, every=2)], milestones=[3, 6])
    expected = [0.05, 0.05, 0.1, 0.1, 0.1 * 0.9, 0.1 * 0.9 ** 2, 0.1, 0.1, 0.05, 0.05, 0.025]
    assert [schedule(e) for e in range(11)] == expected
    assert schedule.momentum(4) is None and not schedule.cycles_momentum
    assert repr(schedule).startswith("Chain(schedules=[ConstantWarmup(alpha0=0.1, factor=0.5")


def test_chain_takes_a_warmup_whose_schedule_does_not_follow_the_cost():
    """A Warmup has a step method, which tells its schedule the cost only if that one
    follows it: a warm-up before a decay chains."""
    schedule = optim.Chain([optim.Warmup(optim.ExponentialDecay(0.1, 0.5), 2),
                            optim.ConstantWarmup(0.2, 0.5, total=1)], [4])
    assert [schedule(e) for e in range(6)] == [0.0, 0.05, 0.1, 0.05, 0.1, 0.2]


@pytest.mark.parametrize("schedules, milestones, error, message", [
    ([optim.ExponentialDecay(0.1)], [], gg.ArgumentError,
     r"Chain: 1 schedules take 0 milestones .* got 0: \[\]; chain two schedules or more"),
    ([optim.ExponentialDecay(0.1), optim.StepDecay(0.1)], [2, 4], gg.ArgumentError,
     r"Chain: 2 schedules take 1 milestones .* got 2: \[2, 4\]"),
    ([optim.ExponentialDecay(0.1)] * 3, [4, 4], gg.ArgumentError,
     r"Chain: milestones must increase, got \[4, 4\]"),
    ([optim.ExponentialDecay(0.1)] * 2, [0], gg.ArgumentError, r"Chain: milestone 0 must be"),
    ([optim.ExponentialDecay(0.1), 0.1], [3], gg.GraphgradTypeError,
     r"Chain: schedule 1 must be a function of the epoch giving its learning rate, .* "
     r"got 0.1"),
    ([optim.ExponentialDecay(0.1), optim.ReduceOnPlateau(0.1)], [3], gg.ArgumentError,
     r"Chain: schedule 1 \(ReduceOnPlateau\) follows the cost .* optim.Warmup\(schedule, warmup\) "
     r"in place of the Chain"),
    ([optim.ExponentialDecay(0.1), optim.Warmup(optim.ReduceOnPlateau(0.1), 2)], [3],
     gg.ArgumentError, r"Chain: schedule 1 \(ReduceOnPlateau\) follows the cost .* in place of "
     r"the Chain"),
    (optim.ExponentialDecay(0.1), [3], gg.GraphgradTypeError, r"Chain takes a list of "),
    # A OneCycle (behind a Warmup too) shorter than its part: refused now, not at its end.
    ([optim.OneCycle(0.1, 5), optim.ConstantWarmup(0.01, 1.0, 1)], [10], gg.ArgumentError,
     r"Chain: schedule 0 \(OneCycle\(total_steps=5\)\) has rates for 5 epochs \(or steps\), "
     r"but its part of the chain, epochs \(or steps\) 0 to 9, is 10 long: it would fail at the "
     r"chain's epoch 5, .* Make it for 10 \(total_steps=10\), or put milestone 0 at 5"),
    ([optim.ExponentialDecay(0.1), optim.Warmup(optim.OneCycle(0.1, 5), 2),
      optim.ExponentialDecay(0.1)], [3, 11], gg.ArgumentError,
     r"Chain: schedule 1 \(a Warmup before a OneCycle\(total_steps=5\)\) has rates for 7 "
     r".* 3 to 10, is 8 long: .* chain's epoch 10, .* \(total_steps=6\), or put milestone 1 "
     r"at 10"),
])
def test_chain_refuses_settings_that_do_not_chain(schedules, milestones, error, message):
    with pytest.raises(error, match=message):
        optim.Chain(schedules, milestones)


@pytest.mark.parametrize("make, message", [
    (lambda: optim.LinearSchedule(0.1, start_factor=1.5), r"start_factor must be in \[0, 1\]"),
    (lambda: optim.LinearSchedule(0.1, end_factor=-0.1), r"end_factor must be in \[0, 1\]"),
    (lambda: optim.LinearSchedule(0.1, total=0), r"total must be"),
    (lambda: optim.ConstantWarmup(0.1, factor=2.0), r"factor must be in \[0, 1\]"),
    (lambda: optim.ConstantWarmup(0.0), r"alpha0 must be positive"),
    (lambda: optim.PolynomialDecay(0.1, total=0), r"total must be"),
    (lambda: optim.PolynomialDecay(0.1, power=0.0), r"power must be positive and finite"),
    (lambda: optim.CosineWarmRestarts(0.1, 0), r"period must be"),
    (lambda: optim.CosineWarmRestarts(0.1, 3, period_mult=1.5), r"period_mult must be"),
    (lambda: optim.CosineWarmRestarts(0.1, 3, alpha_min=0.2),
     r"alpha_min must be in \[0, alpha0 = 0.1\], got 0.2"),
    (lambda: optim.OneCycle(0.1, 10, three_phase=True, pct_start=0.6),
     r"three_phase=True with pct_start=0.6: .* at most 0.5"),
    (lambda: optim.OneCycle(0.1, 10, three_phase=1), r"three_phase must be True or False"),
    (lambda: optim.OneCycle(0.1, 10, base_momentum=1.0), r"base_momentum must be in \[0, 1\)"),
    (lambda: optim.OneCycle(0.1, 10, max_momentum=-0.1), r"max_momentum must be in \[0, 1\)"),
])
def test_bad_settings_are_refused(make, message):
    with pytest.raises(gg.ArgumentError, match=message):
        make()


def _cos(start, end, p):
    return end + (start - end) * (1 + math.cos(math.pi * p)) / 2


def test_one_cycle_three_phases_and_the_momentum_the_other_way():
    """20 steps, pct_start 0.25: up from 1/25 to 1 by step 4, back to 1/25 by step 8, then to
    1/25/1e4 at step 19; the momentum down from 0.95 to 0.85, back, then 0.95."""
    schedule = optim.OneCycle(1.0, 20, pct_start=0.25, three_phase=True, cycle_momentum=True)
    initial, least = 1 / 25, 1 / 25 / 1e4
    rates, momenta = [], []
    for step in range(20):
        if step <= 4:
            p = step / 4
            rates.append(_cos(initial, 1.0, p))
            momenta.append(_cos(0.95, 0.85, p))
        elif step <= 8:
            p = (step - 4) / 4
            rates.append(_cos(1.0, initial, p))
            momenta.append(_cos(0.85, 0.95, p))
        else:
            rates.append(_cos(initial, least, (step - 8) / 11))
            momenta.append(0.95)
    np.testing.assert_allclose([schedule(s) for s in range(20)], rates, rtol=1e-14)
    np.testing.assert_allclose([schedule.momentum(s) for s in range(20)], momenta, rtol=1e-14)
    assert schedule(4) == 1.0 and schedule(8) == pytest.approx(initial)
    assert schedule.momentum(4) == pytest.approx(0.85)
    # Without cycle_momentum (the default) the momentum is left as it is.
    assert optim.OneCycle(1.0, 20).momentum(3) is None
    with pytest.raises(gg.ArgumentError, match="OneCycle: step 20 is past the cycle"):
        schedule.momentum(20)


def test_one_cycle_two_phases_momentum_and_linear():
    schedule = optim.OneCycle(0.5, 11, pct_start=0.5, anneal="linear", cycle_momentum=True,
                              base_momentum=0.8, max_momentum=0.9)
    top = 0.5 * 11 - 1
    expected = [0.9 + (0.8 - 0.9) * s / top if s <= top
                else 0.8 + (0.9 - 0.8) * (s - top) / (10 - top) for s in range(11)]
    np.testing.assert_allclose([schedule.momentum(s) for s in range(11)], expected, rtol=1e-14)


def _data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((24, 3))
    return X, X @ np.array([[1.0], [-2.0], [0.5]]) + 0.1


class _Recording:
    """Notes the lr and the momentum setting (``name``) each step of the optimizer used."""

    def __init__(self, optimizer, name=None):
        self.optimizer, self.name, self.seen = optimizer, name, []
        step = optimizer.step

        def recorded(closure=None):
            self.seen.append((optimizer.lr, getattr(optimizer, name) if name else None))
            return step(closure)
        optimizer.step = recorded


@pytest.mark.parametrize("make", [
    lambda: optim.LambdaSchedule(0.1, lambda e: 1 / (e + 1)),
    lambda: optim.LinearSchedule(0.1, 0.2, total=3),
    lambda: optim.ConstantWarmup(0.1, 0.5, total=2),
    lambda: optim.PolynomialDecay(0.1, total=6, power=2.0),
    lambda: optim.CosineWarmRestarts(0.1, 2, period_mult=2, alpha_min=0.001),
    lambda: optim.Chain([optim.LinearSchedule(0.1, 0.5, total=2),
                         optim.CosineWarmRestarts(0.1, 2)], [2]),
], ids=["lambda", "linear", "constant", "polynomial", "restarts", "chain"])
@pytest.mark.parametrize("every", ["epoch", "step"])
def test_fit_trains_each_epoch_or_step_with_the_schedules_rate_and_resumes_bit_for_bit(
        make, every, tmp_path):
    """5 epochs of 3 batches: each step's lr is schedule(epoch), or schedule(3 epoch + batch);
    a run stopped after 2 epochs, saved and resumed with the schedule made again, ends with
    the parameters of the run not stopped, to the last bit."""
    X, Y = _data()

    def run(epochs, initial_epoch=0, state=None):
        model = nn.Linear(3, 1, rng=0)
        opt = optim.Adam(model.parameters(), lr=0.1)
        if state is not None:
            model.load_state_dict(state[0])
            opt.load_state_dict(state[1])
        record = _Recording(opt)
        history = gg.fit(model, nn.mse, opt, (X, Y), epochs=epochs, batch_size=8,
                         schedule=make(), schedule_every=every, progress=False,
                         initial_epoch=initial_epoch)
        return model, opt, record, history

    model, opt, record, history = run(5)
    schedule = make()
    counts = range(5) if every == "epoch" else range(15)
    rates = [schedule(c) for c in counts]
    expected = [rates[e] for e in range(5) for _ in range(3)] if every == "epoch" else rates
    assert [lr for lr, _ in record.seen] == expected
    assert history["lr"] == (rates if every == "epoch" else rates[::3])
    first, first_opt, _, _ = run(2)
    gg.save(first.state_dict(), tmp_path / "model.npz")
    gg.save(first_opt.state_dict(), tmp_path / "optimizer.npz")
    state = (gg.load(tmp_path / "model.npz"), gg.load(tmp_path / "optimizer.npz"))
    resumed, _, _, _ = run(5, initial_epoch=2, state=state)
    for p, q in zip(model.parameters(), resumed.parameters()):
        assert np.array_equal(p.data, q.data)


@pytest.mark.parametrize("optimizer, name", [
    (lambda ps: optim.Adam(ps, lr=0.1), "beta1"),
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), "momentum"),
    (lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5), "momentum"),
    (lambda ps: optim.NAdam(ps, lr=0.1), "beta1"),
])
@pytest.mark.parametrize("every", ["epoch", "step"])
def test_fit_cycles_the_momentum_or_beta1_with_one_cycle(optimizer, name, every):
    X, Y = _data()
    model = nn.Linear(3, 1, rng=0)
    opt = optimizer(model.parameters())
    record = _Recording(opt, name)
    total = 4 if every == "epoch" else 12
    schedule = optim.OneCycle(0.1, total, three_phase=True, cycle_momentum=True)
    gg.fit(model, nn.mse, opt, (X, Y), epochs=4, batch_size=8, schedule=schedule,
           schedule_every=every, progress=False)
    counts = [c for c in range(4) for _ in range(3)] if every == "epoch" else range(12)
    assert record.seen == [(schedule(c), schedule.momentum(c)) for c in counts]
    assert getattr(opt, name) == schedule.momentum(total - 1) == 0.95


def test_fit_with_a_warmup_before_a_momentum_cycle_starts_it_at_max_momentum():
    X, Y = _data()
    model = nn.Linear(3, 1, rng=0)
    opt = optim.Adam(model.parameters(), lr=0.1, beta1=0.5)
    record = _Recording(opt, "beta1")
    cycle = optim.OneCycle(0.1, 9, cycle_momentum=True)
    gg.fit(model, nn.mse, opt, (X, Y), epochs=4, batch_size=8,
           schedule=optim.Warmup(cycle, 3), schedule_every="step", progress=False)
    assert [beta1 for _, beta1 in record.seen] == [0.95] * 3 + [cycle.momentum(s)
                                                                 for s in range(9)]


def test_a_chain_before_a_momentum_cycle_starts_it_at_max_momentum_as_a_warmup_does():
    """PyTorch's SequentialLR([LinearLR, OneCycleLR]) trains the LinearLR's epochs with the
    OneCycleLR's max_momentum, which it sets when it is made: as `Warmup` and PyTorch, not
    the optimizer's own beta1; after the cycle, its last momentum is kept."""
    X, Y = _data()
    model = nn.Linear(3, 1, rng=0)
    opt = optim.Adam(model.parameters(), lr=0.1, beta1=0.5)
    record = _Recording(opt, "beta1")
    cycle = optim.OneCycle(0.1, 3, pct_start=0.5, cycle_momentum=True, max_momentum=0.9,
                           base_momentum=0.8)
    chain = optim.Chain([optim.LinearSchedule(0.004, 0.25, total=2), cycle,
                         optim.ConstantWarmup(0.01)], [2, 5])
    cycled = [cycle.momentum(s) for s in range(3)]
    assert cycled[0] == cycled[2] == 0.9 and cycled[1] < 0.9
    assert [chain.momentum(e) for e in range(7)] == [0.9, 0.9, *cycled, None, None]
    gg.fit(model, nn.mse, opt, (X, Y), epochs=7, batch_size=24, schedule=chain,
           progress=False)
    assert [beta1 for _, beta1 in record.seen] == [0.9, 0.9, *cycled, 0.9, 0.9]


def test_fit_refuses_a_momentum_cycle_for_an_optimizer_without_momentum():
    X, Y = _data()
    model = nn.Linear(3, 1, rng=0)
    opt = optim.Adagrad(model.parameters(), lr=0.1)
    with pytest.raises(gg.ArgumentError, match=r"fit: the schedule OneCycle cycles the momentum "
                                               r"\(cycle_momentum=True\), but Adagrad has no "
                                               r"momentum or beta1"):
        gg.fit(model, nn.mse, opt, (X, Y), epochs=2, progress=False,
               schedule=optim.OneCycle(0.1, 2, cycle_momentum=True))
    assert opt.t == 0


def test_fit_and_lrscheduler_cycle_the_momentum_of_every_group_as_onecyclelr():
    """PyTorch's OneCycleLR sets every group's betas[0] (or momentum), a group's own too: so
    do fit and LRScheduler, in each group and step, and in the keyword's for a group added
    later."""
    X, Y = _data()
    model = nn.Linear(3, 1, rng=0)
    W, b = model.parameters()
    schedule = optim.OneCycle(0.1, 3, cycle_momentum=True)
    for own in ({}, {"beta1": 0.8}):
        opt = optim.Adam([{"params": [W], **own}, {"params": [b], "beta1": 0.5}], lr=0.1)
        gg.fit(model, nn.mse, opt, (X, Y), epochs=3, batch_size=24, schedule=schedule,
               progress=False)
        assert [g["beta1"] for g in opt.param_groups] == [schedule.momentum(2)] * 2
    opt = optim.SGD([{"params": [W], "momentum": 0.3}, {"params": [b]}], lr=0.1, momentum=0.9)
    scheduler = optim.LRScheduler(opt, schedule)
    seen = []
    for _ in range(3):
        seen.append([g["momentum"] for g in opt.param_groups])
        scheduler.step()
    assert seen == [[schedule.momentum(t)] * 2 for t in range(3)]
    assert opt.defaults["momentum"] == schedule.momentum(2)


@pytest.mark.parametrize("kind", [optim.Adam, optim.NAdam])
@pytest.mark.parametrize("every, total", [("epoch", 5), ("step", 15)])
def test_a_run_cycling_beta1_resumed_ends_bit_for_bit_as_the_run_not_stopped(kind, every, total,
                                                                             tmp_path):
    """beta1 is a setting of the optimizer, in its state dict (and NAdam's product of the
    mu_t of the steps, each with its beta1): a run stopped after 2 epochs and resumed goes on
    with the cycle, to the last bit."""
    X, Y = _data()

    def run(epochs, initial_epoch=0, state=None):
        model = nn.Linear(3, 1, rng=0)
        opt = kind(model.parameters(), lr=0.1)
        if state is not None:
            model.load_state_dict(state[0])
            opt.load_state_dict(state[1])
        gg.fit(model, nn.mse, opt, (X, Y), epochs=epochs, batch_size=8, progress=False,
               schedule=optim.OneCycle(0.1, total, three_phase=True, cycle_momentum=True),
               schedule_every=every, initial_epoch=initial_epoch)
        return model, opt

    model, opt = run(5)
    first, first_opt = run(2)
    assert first_opt.beta1 != 0.9  # the cycle's
    gg.save(first.state_dict(), tmp_path / "model.npz")
    gg.save(first_opt.state_dict(), tmp_path / "optimizer.npz")
    resumed, resumed_opt = run(5, 2, (gg.load(tmp_path / "model.npz"),
                                      gg.load(tmp_path / "optimizer.npz")))
    for p, q in zip(model.parameters(), resumed.parameters()):
        assert np.array_equal(p.data, q.data)
    assert resumed_opt.beta1 == opt.beta1 == 0.95
