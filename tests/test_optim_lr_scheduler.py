"""optim.LRScheduler: a schedule driving an optimizer the PyTorch way, scheduler.step() after
each epoch, get_last_lr(), last_epoch, per-group rates, ReduceOnPlateau's step(metric), and
the state dict."""
import math

import numpy as np
import pytest

import graphgrad as gg
from graphgrad import optim


def _sgd(**settings):
    return optim.SGD([gg.Tensor(np.ones(2), requires_grad=True)], lr=0.1, **settings)


def test_each_step_sets_the_schedules_rate_of_the_next_epoch():
    opt = _sgd()
    scheduler = optim.LRScheduler(opt, optim.StepDecay(0.1, 0.5, every=3))
    assert scheduler.last_epoch == 0 and opt.lr == 0.1 and scheduler.get_last_lr() == [0.1]
    for k in range(1, 11):
        scheduler.step()
        assert scheduler.last_epoch == k
        assert opt.lr == 0.1 * 0.5 ** (k // 3)  # StepDecay's alpha0 factor**floor(k / every)
        assert scheduler.get_last_lr() == [opt.param_groups[0]["lr"]] == [opt.lr]
    assert scheduler.base_lrs == [0.1]


def test_any_function_of_the_epoch_is_a_schedule():
    opt = _sgd()
    scheduler = optim.LRScheduler(opt, lambda epoch: 0.1 / (1 + epoch))
    for _ in range(4):
        scheduler.step()
    assert opt.lr == 0.1 / 5


def test_each_parameter_group_keeps_its_ratio_to_the_optimizers_lr_as_pytorch_scales_it():
    a, b = (gg.Tensor(np.ones(2), requires_grad=True) for _ in range(2))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.01}], lr=0.1)
    scheduler = optim.LRScheduler(opt, optim.ExponentialDecay(0.1, 0.9))
    assert scheduler.base_lrs == [0.1, 0.01]
    for k in range(1, 6):
        scheduler.step()
        np.testing.assert_allclose(scheduler.get_last_lr(), [0.1 * 0.9 ** k, 0.01 * 0.9 ** k],
                                   rtol=1e-14)
        assert scheduler.get_last_lr() == [g["lr"] for g in opt.param_groups]


def test_a_plateau_schedule_is_told_the_metric_by_step():
    opt = _sgd()
    scheduler = optim.LRScheduler(opt, optim.ReduceOnPlateau(0.1, factor=0.5, patience=1))
    rates = []
    for cost in [1.0, 1.0, 1.0, 0.5, 0.5, 0.5]:
        scheduler.step(cost)
        rates.append(opt.lr)
    # best 1.0; one bad epoch allowed; the second drops it; 0.5 is better; then two bad again
    assert rates == [0.1, 0.1, 0.05, 0.05, 0.05, 0.025]
    assert scheduler.last_epoch == 6


def test_a_plateau_behind_a_warmup_is_told_the_metrics_after_the_warmup_only():
    opt = _sgd()
    scheduler = optim.LRScheduler(opt, optim.Warmup(optim.ReduceOnPlateau(0.1, patience=0), 2))
    rates = [opt.lr]
    for cost in [5.0, 5.0, 1.0, 1.0]:
        scheduler.step(cost)
        rates.append(opt.lr)
    # warm-up 0, 0.05; then the plateau's 0.1, told 1.0 (its best), then 1.0 again: a drop
    assert rates == pytest.approx([0.0, 0.05, 0.1, 0.1, 0.01], rel=1e-15)


def test_step_says_when_a_metric_is_wanted_and_when_it_is_not():
    plateau = optim.LRScheduler(_sgd(), optim.ReduceOnPlateau(0.1))
    with pytest.raises(gg.ArgumentError, match=r"^LRScheduler\.step: the schedule "
                                               r"ReduceOnPlateau follows a cost: write "
                                               r"scheduler\.step\(dev_cost\)"):
        plateau.step()
    stepped = optim.LRScheduler(_sgd(), optim.StepDecay(0.1))
    with pytest.raises(gg.ArgumentError, match=r"^LRScheduler\.step: the schedule StepDecay "
                                               r"does not follow a cost, so step takes none "
                                               r"\(got 3\): write scheduler\.step\(\)"):
        stepped.step(3)
    assert plateau.last_epoch == stepped.last_epoch == 0  # nothing counted


def test_a_schedule_cycling_the_momentum_sets_it_at_each_step():
    opt = _sgd(momentum=0.9)
    cycle = optim.OneCycle(0.1, total_steps=10, cycle_momentum=True)
    scheduler = optim.LRScheduler(opt, cycle)
    for k in range(1, 10):
        scheduler.step()
        assert (opt.lr, opt.momentum) == (cycle(k), cycle.momentum(k))
    with pytest.raises(gg.ArgumentError, match=r"^LRScheduler: the schedule OneCycle cycles the "
                                               r"momentum.*Adagrad has no momentum or beta1"):
        optim.LRScheduler(optim.Adagrad([gg.Tensor(np.ones(2), requires_grad=True)]), cycle)


def test_the_scheduler_refuses_what_is_no_optimizer_no_schedule_or_no_rate():
    with pytest.raises(gg.GraphgradTypeError, match=r"^LRScheduler takes an optimizer first, "
                                                    r"then a schedule"):
        optim.LRScheduler(optim.StepDecay(0.1), _sgd())
    with pytest.raises(gg.GraphgradTypeError, match=r"^LRScheduler: schedule must be a function "
                                                    r"of the epoch"):
        optim.LRScheduler(_sgd(), 0.1)
    opt = _sgd()
    scheduler = optim.LRScheduler(opt, lambda epoch: 0.1 if epoch < 2 else -1.0)
    scheduler.step()
    with pytest.raises(gg.ArgumentError, match=r"^LRScheduler: schedule\(2\) must be a learning "
                                               r"rate, >= 0 and finite, got -1\.0"):
        scheduler.step()
    assert opt.lr == 0.1


@pytest.mark.parametrize("make, metrics", [
    (lambda: optim.StepDecay(0.1, 0.5, every=2), None),
    (lambda: optim.ReduceOnPlateau(0.1, patience=1), [3.0, 2.0, 2.0, 2.0, 2.5, 1.0, 1.0, 1.0]),
], ids=["StepDecay", "ReduceOnPlateau"])
def test_a_saved_state_goes_on_as_the_run_not_stopped(make, metrics, tmp_path):
    def step(scheduler, k):
        scheduler.step() if metrics is None else scheduler.step(metrics[k])

    whole = optim.LRScheduler(_sgd(), make())
    for k in range(8):
        step(whole, k)
    first = optim.LRScheduler(_sgd(), make())
    for k in range(5):
        step(first, k)
    gg.save(first.state_dict(), tmp_path / "scheduler.npz")
    opt = _sgd()
    resumed = optim.LRScheduler(opt, make())
    resumed.load_state_dict(gg.load(tmp_path / "scheduler.npz"))
    assert resumed.last_epoch == 5 and resumed.get_last_lr() == first.get_last_lr() == [opt.lr]
    for k in range(5, 8):
        step(resumed, k)
    assert resumed.get_last_lr() == whole.get_last_lr() and resumed.last_epoch == 8


def test_a_state_of_another_schedule_is_refused():
    plateau = optim.LRScheduler(_sgd(), optim.ReduceOnPlateau(0.1))
    stepped = optim.LRScheduler(_sgd(), optim.StepDecay(0.1))
    with pytest.raises(gg.ArgumentError, match=r"^LRScheduler\.load_state_dict: the state holds "
                                               r"no state of the schedule ReduceOnPlateau"):
        plateau.load_state_dict(stepped.state_dict())
    with pytest.raises(gg.ArgumentError, match=r"^LRScheduler\.load_state_dict: the state holds "
                                               r"a schedule's state .*StepDecay has none"):
        stepped.load_state_dict(plateau.state_dict())
    with pytest.raises(gg.ArgumentError, match=r"the state has no last_epoch"):
        stepped.load_state_dict({})
    with pytest.raises(gg.GraphgradTypeError, match=r"^LRScheduler\.load_state_dict takes a dict"):
        stepped.load_state_dict("scheduler.npz")


def test_fit_and_a_loop_stepping_the_scheduler_train_with_the_same_rates():
    decay = optim.CosineDecay(0.1, 6)
    opt = _sgd()
    scheduler = optim.LRScheduler(opt, decay)
    seen = []
    for _ in range(6):
        seen.append(opt.lr)  # what this epoch's optimizer.step() calls use
        scheduler.step()
    assert seen == [decay(e) for e in range(6)]
    assert math.isclose(seen[3], 0.05, rel_tol=1e-14)  # halfway down the cosine
    model = gg.nn.Linear(3, 2)
    X, y = np.random.default_rng(0).normal(size=(20, 3)), np.arange(20) % 2
    history = gg.fit(model, gg.nn.cross_entropy, optim.SGD(model.parameters(), lr=0.1), (X, y),
                     epochs=6, schedule=decay, progress=False)
    assert history["lr"] == seen


def test_fit_given_a_scheduler_says_to_give_its_schedule():
    # fit sets the rates itself, from a schedule: a scheduler made for a loop of one's own was
    # refused as "got a LRScheduler", which did not say that its schedule is what fit takes.
    model = gg.nn.Linear(2, 1, rng=0)
    opt = optim.SGD(model.parameters(), lr=0.1)
    scheduler = optim.LRScheduler(opt, optim.StepDecay(0.1, 0.5, every=1))
    X, Y = np.ones((4, 2)), np.zeros((4, 1))
    with pytest.raises(gg.GraphgradTypeError, match=r"^fit: schedule must be a function of the "
                                                    r"epoch .* got a LRScheduler: fit steps the "
                                                    r"schedule itself, each epoch; give it "
                                                    r"schedule=scheduler\.schedule"):
        gg.fit(model, gg.nn.mse, opt, (X, Y), epochs=2, schedule=scheduler, progress=False)
    history = gg.fit(model, gg.nn.mse, opt, (X, Y), epochs=2, schedule=scheduler.schedule,
                     progress=False)
    assert history["lr"] == [0.1, 0.05]


@pytest.mark.parametrize("make, steps", [
    (lambda: optim.OneCycle(0.1, total_steps=10, cycle_momentum=True), 10),
    (lambda: optim.Warmup(optim.OneCycle(0.1, total_steps=6), 4), 10),
    (lambda: optim.Chain([optim.ConstantWarmup(0.1, 0.1, 3),
                          optim.OneCycle(0.1, total_steps=7)], [3]), 10),
], ids=["OneCycle", "Warmup", "Chain"])
def test_the_step_after_a_cycles_last_batch_counts_and_keeps_the_last_rate(make, steps):
    # PyTorch's loop, optimizer.step(); scheduler.step() for each of total_steps batches,
    # steps the scheduler total_steps times: the last one asked for step total_steps, past
    # the cycle, and raised, in the run's last batch. As PyTorch, a step more is refused.
    opt = _sgd(momentum=0.9)
    cycle = make()
    scheduler = optim.LRScheduler(opt, cycle)
    seen = []
    for _ in range(steps):
        seen.append(opt.lr)  # what this batch's optimizer.step() uses
        scheduler.step()
    assert seen == [cycle(k) for k in range(steps)]
    assert scheduler.last_epoch == steps and opt.lr == cycle(steps - 1)
    assert scheduler.get_last_lr() == [cycle(steps - 1)]
    state = scheduler.state_dict()
    again = optim.LRScheduler(_sgd(momentum=0.9), make())
    again.load_state_dict(state)
    assert again.last_epoch == steps and again.get_last_lr() == [cycle(steps - 1)]
    with pytest.raises(gg.ArgumentError, match=r"OneCycle: step \d+ is past the cycle"):
        scheduler.step()
    assert scheduler.last_epoch == steps  # the refused step is not counted


def test_a_plateau_takes_the_value_of_a_loss_that_requires_grad():
    # scheduler.step(val_loss) with the dev loss as computed (recorded, requiring grad), as
    # PyTorch's float(metrics) takes it, was refused as "must be a real number, got output of
    # Mul () float64": a metric is a value, and nothing flows back from a schedule.
    w = gg.Tensor(np.array(2.0), requires_grad=True)
    opt = _sgd()
    scheduler = optim.LRScheduler(opt, optim.ReduceOnPlateau(0.1, factor=0.5, patience=0))
    for cost in [1.0, 3.0]:
        scheduler.step(w * cost)  # 2.0, then 6.0: worse, a drop
    assert scheduler.get_last_lr() == [0.05] and scheduler.schedule.best == 2.0
    plateau = optim.ReduceOnPlateau(0.1, patience=0)
    plateau.step(w * 1.0)
    assert plateau.best == 2.0
    with pytest.raises(gg.ArgumentError, match=r"^ReduceOnPlateau\.step: the cost given to step "
                                               r"must be a real number, got .*\(3,\)"):
        plateau.step(gg.Tensor(np.ones(3), requires_grad=True) * 1.0)
