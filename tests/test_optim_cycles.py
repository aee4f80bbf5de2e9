"""The cyclical schedules, OneCycle and Cyclic: their rates at given steps against the
formulas by hand, their use per step and in fit, their settings' checks. PyTorch's
OneCycleLR and CyclicLR are in test_against_torch."""
import math

import numpy as np
import pytest

import graphgrad as gg
from graphgrad import nn, optim


def test_one_cycle_rises_by_half_a_cosine_then_falls_to_its_least():
    """max_lr 1, 10 steps, pct_start 0.3: from 1 / 25 at step 0 up to 1 at step 2 (0.3 * 10 -
    1), then down to 1 / 25 / 1e4 at step 9."""
    schedule = optim.OneCycle(1.0, 10)
    initial, least, top = 1 / 25, 1 / 25 / 1e4, 0.3 * 10 - 1

    def cos(start, end, p):
        return end + (start - end) * (1 + math.cos(math.pi * p)) / 2
    expected = [cos(initial, 1.0, step / top) if step <= top
                else cos(1.0, least, (step - top) / (9 - top)) for step in range(10)]
    got = [schedule(step) for step in range(10)]
    np.testing.assert_allclose(got, expected, rtol=1e-14)
    assert got[0] == pytest.approx(0.04) and got[2] == pytest.approx(1.0)
    assert got[9] == pytest.approx(4e-6) and max(got) == got[2]
    assert got[1] == pytest.approx(0.04 + 0.96 / 2, rel=0.05)  # halfway up, near the middle


def test_one_cycle_linear_and_its_edges():
    schedule = optim.OneCycle(0.5, 11, pct_start=0.5, anneal="linear", div_factor=10,
                              final_div_factor=5)
    top = 0.5 * 11 - 1  # 4.5: step 4 is still rising, 5 falls
    expected = [0.05 + (0.5 - 0.05) * s / top if s <= top
                else 0.5 + (0.01 - 0.5) * (s - top) / (10 - top) for s in range(11)]
    np.testing.assert_allclose([schedule(s) for s in range(11)], expected, rtol=1e-14)
    # A rise of no length (pct_start * total_steps = 1, where PyTorch divides by zero): the
    # first step takes max_lr, and the fall starts from there.
    quick = optim.OneCycle(0.5, 10, pct_start=0.1)
    assert quick(0) == 0.5 and quick(9) == pytest.approx(0.5 / 25 / 1e4)
    assert optim.OneCycle(0.5, 1)(0) == pytest.approx(0.5 / 25 / 1e4)  # one step: the end


def test_one_cycle_refuses_steps_past_its_end_and_bad_settings():
    schedule = optim.OneCycle(0.1, 5)
    with pytest.raises(gg.ArgumentError, match=r"OneCycle: step 5 is past the cycle, made for "
                                               r"total_steps = 5 \(steps 0 to 4\)"):
        schedule(5)
    for kwargs, message in [
            ({"max_lr": 0.0}, r"max_lr must be positive"),
            ({"total_steps": 0}, r"total_steps"),
            ({"pct_start": 1.5}, r"pct_start must be in \[0, 1\], got 1.5"),
            ({"anneal": "cosine"}, r"anneal must be 'cos' \(half a cosine\) or 'linear', got "
                                   r"'cosine'"),
            ({"div_factor": -1.0}, r"div_factor must be positive")]:
        settings = {"max_lr": 0.1, "total_steps": 5, **kwargs}
        with pytest.raises(gg.ArgumentError, match="OneCycle: " + message):
            optim.OneCycle(**settings)


@pytest.mark.parametrize("mode, gamma", [("triangular", 1.0), ("triangular2", 1.0),
                                         ("exp_range", 0.9)])
def test_cyclic_goes_up_and_down_between_base_lr_and_max_lr(mode, gamma):
    """Up in 4 steps, down in 2: 0.01, 0.0325, 0.055, 0.0775, 0.1 (step 4), 0.055, 0.01 (step
    6, the next cycle's start); triangular2 halves each cycle's height, exp_range scales the
    height by gamma**step."""
    schedule = optim.Cyclic(0.01, 0.1, step_size_up=4, step_size_down=2, mode=mode,
                            gamma=gamma)
    shape = [0.0, 0.25, 0.5, 0.75, 1.0, 0.5]
    expected = []
    for step in range(18):
        cycle = step // 6 + 1
        scale = {"triangular": 1.0, "triangular2": 0.5 ** (cycle - 1),
                 "exp_range": gamma ** step}[mode]
        expected.append(0.01 + 0.09 * shape[step % 6] * scale)
    np.testing.assert_allclose([schedule(s) for s in range(18)], expected, rtol=1e-13,
                               atol=1e-17)


def test_cyclic_bad_settings_are_refused():
    for kwargs, message in [
            ({"base_lr": -0.1}, r"base_lr must be >= 0"),
            ({"max_lr": 0.001}, r"max_lr must be positive, finite and at least base_lr = 0.01"),
            ({"step_size_up": 0}, r"step_size_up"),
            ({"mode": "triangle"}, r"mode must be 'triangular', 'triangular2' or 'exp_range'"),
            ({"gamma": 1.5}, r"gamma must be in \(0, 1\]")]:
        settings = {"base_lr": 0.01, "max_lr": 0.1, **kwargs}
        with pytest.raises(gg.ArgumentError, match="Cyclic: " + message):
            optim.Cyclic(**settings)


def test_one_cycle_per_step_in_ones_own_loop_and_per_epoch_in_fit():
    """Per step: optimizer.lr = schedule(step) before each step, the count of optimizer
    steps; in fit, total_steps = epochs, each epoch trained with its rate."""
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((32, 3)), rng.standard_normal((32, 1))
    model = nn.Linear(3, 1, rng=0)
    opt = optim.SGD(model.parameters(), lr=0.5)
    schedule = optim.OneCycle(0.5, total_steps=12)
    lrs = []
    for step in range(12):
        opt.lr = schedule(step)
        lrs.append(opt.lr)
        opt.zero_grad()
        nn.mse(model(X), Y).backward()
        opt.step()
    assert lrs == [schedule(step) for step in range(12)] and opt.t == 12
    model = nn.Linear(3, 1, rng=0)
    history = gg.fit(model, nn.mse, optim.SGD(model.parameters(), lr=0.5), (X, Y), epochs=5,
                     batch_size=8, schedule=optim.OneCycle(0.5, total_steps=5), progress=False)
    assert history["lr"] == [optim.OneCycle(0.5, 5)(epoch) for epoch in range(5)]
    assert history["cost"][-1] < history["cost"][0]


def test_cyclic_triangular2_goes_on_past_a_thousand_cycles():
    """triangular2 halves each cycle's height: 1 / 2**(cycle - 1) overflowed a float from
    cycle 1026 on (OverflowError at step 2050 with cycles of 2 steps), where the height is
    simply below the smallest float: the rate is base_lr. The rates before are PyTorch's
    1 / 2.0**(cycle - 1), powers of two, exactly."""
    schedule = optim.Cyclic(0.001, 0.1, step_size_up=1, mode="triangular2")
    assert schedule(2 * 1000 + 1) == 0.001 + 0.099 / 2.0 ** 1000  # cycle 1001's top
    for step in (2049, 2050, 2051, 10 ** 6 + 1):
        assert schedule(step) == 0.001
