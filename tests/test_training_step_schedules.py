"""fit with schedule_every="step": the learning rate set from the schedule before every
optimizer step, counted across epochs from the epoch and the batch, as PyTorch steps OneCycleLR
and CyclicLR after each batch; a resumed run asks for the same steps; the refusals."""
import math

import numpy as np
import pytest

import graphgrad as gg
from graphgrad import nn, optim
from graphgrad.data import DataLoader


class RecordingSGD(optim.SGD):
    """SGD noting the learning rate each of its steps uses."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.rates = []

    def step(self, closure=None):
        self.rates.append(self.lr)
        return super().step(closure)


class RecordingAdam(optim.Adam):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.rates = []

    def step(self, closure=None):
        self.rates.append(self.lr)
        return super().step(closure)


def _data(m=10):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(m, 3))
    return X, X @ np.array([[1.0], [-2.0], [0.5]]) + 0.1


def _model():
    return nn.Sequential(nn.Linear(3, 4, rng=1), nn.Tanh(), nn.Linear(4, 1, rng=2))


def _rising(step):
    return 0.01 * (step + 1)


def test_each_step_uses_the_schedules_rate_for_its_global_step():
    """10 examples in batches of 4: batches of 4, 4 and 2, so 3 steps an epoch; over 3 epochs
    the steps are 0 to 8, and the parameters those of the loop written out by hand."""
    X, Y = _data()
    model = _model()
    sgd = RecordingSGD(model.parameters(), lr=1.0)
    history = gg.fit(model, nn.mse, sgd, (X, Y), epochs=3, batch_size=4, shuffle=False,
                     schedule=_rising, schedule_every="step", progress=False)
    assert sgd.rates == [_rising(s) for s in range(9)]
    assert history["lr"] == [_rising(0), _rising(3), _rising(6)]  # each epoch's first step

    by_hand = _model()
    plain = optim.SGD(by_hand.parameters(), lr=1.0)
    for epoch in range(3):
        for batch, start in enumerate(range(0, 10, 4)):
            plain.lr = _rising(epoch * 3 + batch)
            plain.zero_grad()
            nn.mse(by_hand(X[start:start + 4]), Y[start:start + 4]).backward()
            plain.step()
    for (name, p), q in zip(model.named_parameters(), by_hand.parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)


def test_per_epoch_stays_the_default_and_records_what_it_did():
    X, Y = _data()
    model = _model()
    sgd = RecordingSGD(model.parameters(), lr=1.0)
    history = gg.fit(model, nn.mse, sgd, (X, Y), epochs=3, batch_size=4, shuffle=False,
                     schedule=_rising, progress=False)
    assert sgd.rates == [_rising(e) for e in range(3) for _ in range(3)]
    assert history["lr"] == [_rising(0), _rising(1), _rising(2)]


def test_a_list_of_batches_counts_its_length_per_epoch():
    X, Y = _data()
    batches = [(X[:6], Y[:6]), (X[6:], Y[6:])]
    model = _model()
    sgd = RecordingSGD(model.parameters(), lr=1.0)
    gg.fit(model, nn.mse, sgd, batches, epochs=3, schedule=_rising, schedule_every="step",
           progress=False)
    assert sgd.rates == [_rising(s) for s in range(6)]


def _dropout_model():
    nn.init.seed(5)
    return nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Dropout(0.7), nn.Linear(8, 1))


def _train(model, adam, epochs, schedule, initial_epoch=0):
    X, Y = _data(m=23)  # batches of 5: 5, 5, 5, 5 and 3
    return gg.fit(model, nn.mse, adam, (X, Y), epochs=epochs, batch_size=5, seed=4,
                  schedule=schedule, schedule_every="step", initial_epoch=initial_epoch,
                  progress=False)


@pytest.mark.parametrize("schedule", [
    optim.OneCycle(0.05, total_steps=4 * 5),
    optim.Cyclic(0.001, 0.05, step_size_up=3, mode="triangular2"),
    optim.Warmup(optim.CosineDecay(0.05, total=14), 6, start_factor=0.1),
], ids=["OneCycle", "Cyclic", "Warmup"])
def test_a_resumed_run_takes_the_rates_and_ends_with_the_parameters_of_the_run_not_stopped(
        tmp_path, schedule):
    whole = _dropout_model()
    whole_adam = RecordingAdam(whole.parameters(), lr=0.05)
    whole_history = _train(whole, whole_adam, 4, schedule)
    assert whole_adam.rates == [schedule(s) for s in range(20)]

    first = _dropout_model()
    adam = RecordingAdam(first.parameters(), lr=0.05)
    _train(first, adam, 2, schedule)
    gg.save(first.state_dict(), tmp_path / "model.npz")
    gg.save(adam.state_dict(), tmp_path / "adam.npz")
    resumed = _dropout_model()
    resumed.load_state_dict(gg.load(tmp_path / "model.npz"))
    adam = RecordingAdam(resumed.parameters(), lr=0.05)
    adam.load_state_dict(gg.load(tmp_path / "adam.npz"))
    history = _train(resumed, adam, 4, schedule, initial_epoch=2)

    assert adam.rates == whole_adam.rates[10:]  # steps 10 to 19, not 0 to 9 again
    assert history == {key: values[2:] for key, values in whole_history.items()}
    for (name, p), q in zip(resumed.named_parameters(), whole.parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)


def test_one_cycle_over_the_whole_run_rises_to_max_lr_and_ends_at_its_least():
    X, Y = _data(m=40)
    loader = DataLoader(X, Y, batch_size=8)  # 5 batches an epoch
    epochs = 6
    schedule = optim.OneCycle(0.1, total_steps=epochs * len(loader), pct_start=0.2)
    model = _model()
    sgd = RecordingSGD(model.parameters(), lr=0.1)
    history = gg.fit(model, nn.mse, sgd, loader, epochs=epochs, schedule=schedule,
                     schedule_every="step", progress=False)
    assert sgd.rates == [schedule(s) for s in range(30)]
    assert sgd.rates[0] == pytest.approx(0.1 / 25)
    top = 5  # pct_start * total_steps - 1
    assert int(np.argmax(sgd.rates)) == top and sgd.rates[top] == pytest.approx(0.1)
    assert sgd.rates[-1] == pytest.approx(0.1 / 25 / 1e4)
    assert all(a < b for a, b in zip(sgd.rates[:top], sgd.rates[1:top + 1]))
    assert all(a > b for a, b in zip(sgd.rates[top:-1], sgd.rates[top + 1:]))
    assert history["lr"] == sgd.rates[::5]
    assert history["cost"][-1] < history["cost"][0]


def test_a_schedule_too_short_for_the_run_is_refused_before_the_first_step():
    X, Y = _data()
    model = _model()
    before = [p.data.copy() for p in model.parameters()]
    sgd = RecordingSGD(model.parameters(), lr=0.1)
    with pytest.raises(gg.ArgumentError) as info:
        gg.fit(model, nn.mse, sgd, (X, Y), epochs=3, batch_size=4,
               schedule=optim.OneCycle(0.1, total_steps=3), schedule_every="step",
               progress=False)
    message = str(info.value)
    assert "epochs=3 with 3 batches per epoch takes 9 optimizer steps" in message
    assert "made for total_steps = 3" in message
    assert "total_steps=9" in message
    assert sgd.rates == []
    for p, q in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.data, q)
    # resumed, the run's last step is still epochs x batches - 1
    with pytest.raises(gg.ArgumentError, match=r"fails at step 8(.|\n)*total_steps=9"):
        gg.fit(model, nn.mse, sgd, (X, Y), epochs=3, batch_size=4, initial_epoch=2,
               schedule=optim.OneCycle(0.1, total_steps=6), schedule_every="step",
               progress=False)
    # one of the right length runs
    gg.fit(model, nn.mse, sgd, (X, Y), epochs=3, batch_size=4,
           schedule=optim.OneCycle(0.1, total_steps=9), schedule_every="step", progress=False)
    assert len(sgd.rates) == 9


def test_a_chain_of_schedules_that_end_is_checked_before_the_first_step():
    """A OneCycle in a Chain: one shorter than its part is refused when the chain is made
    (it failed in the middle of training, at its end); one last in the chain, too short for
    the run, is told the steps from the last milestone to the run's end (the hint named the
    run's 9 steps), and the chain made so runs to its end."""
    X, Y = _data()
    model = _model()
    sgd = RecordingSGD(model.parameters(), lr=0.1)
    with pytest.raises(gg.ArgumentError, match=r"Chain: schedule 0 \(OneCycle\(total_steps=2\)"
                                               r"\) .* is 4 long"):
        optim.Chain([optim.OneCycle(0.1, 2), optim.ConstantWarmup(0.01, 1.0, 1)], [4])
    short = optim.Chain([optim.ConstantWarmup(0.01, 1.0, 1), optim.OneCycle(0.1, 5)], [2])
    with pytest.raises(gg.ArgumentError) as info:
        gg.fit(model, nn.mse, sgd, (X, Y), epochs=3, batch_size=4, schedule=short,
               schedule_every="step", progress=False)
    message = str(info.value)
    assert ("the Chain's last schedule, a OneCycle (made for total_steps = 5) from step 2, "
            "fails at the run's step 8" in message)
    assert "Make it for the 7 steps from step 2 to the run's end" in message
    assert "total_steps=7)" in message and "total_steps=9" not in message
    assert sgd.rates == []
    chain = optim.Chain([optim.ConstantWarmup(0.01, 1.0, 1), optim.OneCycle(0.1, 7)], [2])
    gg.fit(model, nn.mse, sgd, (X, Y), epochs=3, batch_size=4, schedule=chain,
           schedule_every="step", progress=False)
    assert sgd.rates == [chain(step) for step in range(9)]
    assert sgd.rates[-1] == optim.OneCycle(0.1, 7)(6)


def test_a_warmup_before_a_schedule_too_short_is_told_the_length_after_its_warmup():
    """Warmup(OneCycle(...), 2) asks the OneCycle for steps 0 to 6 of a 9-step run: the hint
    said total_steps=9, a cycle whose last two steps the run never takes, so it ended at
    OneCycle(0.1, 9)(6), far above the least it should end at. It names the 7 steps after
    the warm-up, and the Warmup made so runs the cycle to its end at the run's last step."""
    X, Y = _data()
    model = _model()
    sgd = RecordingSGD(model.parameters(), lr=0.1)
    with pytest.raises(gg.ArgumentError) as info:
        gg.fit(model, nn.mse, sgd, (X, Y), epochs=3, batch_size=4,
               schedule=optim.Warmup(optim.OneCycle(0.1, total_steps=5), 2),
               schedule_every="step", progress=False)
    message = str(info.value)
    assert "a Warmup of 2 steps before a OneCycle made for total_steps = 5" in message
    assert "optim.Warmup(optim.OneCycle(max_lr, total_steps=7), 2)" in message
    assert "total_steps=9" not in message
    nested = optim.Warmup(optim.Warmup(optim.OneCycle(0.1, total_steps=5), 1), 2)
    with pytest.raises(gg.ArgumentError, match=r"total_steps=6\), 1\), 2\)"):
        gg.fit(model, nn.mse, sgd, (X, Y), epochs=3, batch_size=4, schedule=nested,
               schedule_every="step", progress=False)
    schedule = optim.Warmup(optim.OneCycle(0.1, total_steps=7), 2)
    gg.fit(model, nn.mse, sgd, (X, Y), epochs=3, batch_size=4, schedule=schedule,
           schedule_every="step", progress=False)
    assert sgd.rates[-1] == optim.OneCycle(0.1, total_steps=7)(6) == pytest.approx(0.1 / 25e4)


@pytest.mark.parametrize("schedule", [optim.ReduceOnPlateau(0.1),
                                      optim.Warmup(optim.ReduceOnPlateau(0.1), 2)],
                         ids=["ReduceOnPlateau", "Warmup"])
def test_a_schedule_following_the_cost_is_refused_per_step(schedule):
    X, Y = _data()
    model = _model()
    with pytest.raises(gg.ArgumentError,
                       match=r"^fit: the schedule ReduceOnPlateau follows the cost, told once "
                             r"per epoch through its step\(cost\) method(.|\n)*"
                             r"schedule_every='epoch'"):
        gg.fit(model, nn.mse, optim.SGD(model.parameters(), lr=0.1), (X, Y), epochs=2,
               schedule=schedule, schedule_every="step", progress=False)


@pytest.mark.parametrize("every", ["steps", "batch", None, 1])
def test_schedule_every_is_epoch_or_step(every):
    X, Y = _data()
    model = _model()
    with pytest.raises(gg.ArgumentError, match=r"^fit: schedule_every must be 'epoch'"):
        gg.fit(model, nn.mse, optim.SGD(model.parameters(), lr=0.1), (X, Y), epochs=1,
               schedule=_rising, schedule_every=every, progress=False)


def test_per_step_without_a_schedule_is_refused():
    X, Y = _data()
    model = _model()
    with pytest.raises(gg.ArgumentError, match=r"no schedule was given"):
        gg.fit(model, nn.mse, optim.SGD(model.parameters(), lr=0.1), (X, Y), epochs=1,
               schedule_every="step", progress=False)


class Batches:
    """Batches of the data, as many as asked for an epoch; a len() when given one."""

    def __init__(self, X, Y, counts, length=None):
        self.X, self.Y, self.counts, self.length, self.epoch = X, Y, counts, length, 0

    def __iter__(self):  # a generator: its epoch is counted once it gives its first batch
        count = self.counts[min(self.epoch, len(self.counts) - 1)]
        self.epoch += 1
        for i in range(0, 2 * count, 2):
            yield self.X[i:i + 2], self.Y[i:i + 2]


class SizedBatches(Batches):
    def __len__(self):
        return self.length


def test_data_without_a_length_is_refused_per_step():
    X, Y = _data()
    model = _model()
    with pytest.raises(gg.ArgumentError, match=r"data \(Batches\) has no len\(\)"):
        gg.fit(model, nn.mse, optim.SGD(model.parameters(), lr=0.1), Batches(X, Y, [3]),
               epochs=2, schedule=_rising, schedule_every="step", progress=False)


def test_an_epoch_with_more_batches_than_len_is_refused_and_one_with_fewer_skips_steps():
    X, Y = _data()
    model = _model()
    sgd = RecordingSGD(model.parameters(), lr=0.1)
    # epoch 0 gives 2 of len 3, epoch 1 gives 3, epoch 2 gives 4: one too many
    with pytest.raises(gg.ArgumentError,
                       match=r"epoch 2 gave a batch 3, but len\(data\) = 3 batches per "
                             r"epoch(.|\n)*initial_epoch=2") as info:
        gg.fit(model, nn.mse, sgd, SizedBatches(X, Y, [2, 3, 4], length=3), epochs=4,
               schedule=_rising, schedule_every="step", progress=False)
    assert sgd.rates == [_rising(s) for s in (0, 1, 3, 4, 5, 6, 7, 8)]
    assert info.value.next_epoch == 2 and info.value.history["lr"] == [_rising(0), _rising(3)]


def test_a_rate_refused_names_its_step_epoch_and_batch():
    X, Y = _data()
    model = _model()
    with pytest.raises(gg.ArgumentError,
                       match=r"schedule\(4\), the rate of epoch 1's batch 1, must be a "
                             r"learning rate, >= 0 and finite, got -0\.1"):
        gg.fit(model, nn.mse, optim.SGD(model.parameters(), lr=0.1), (X, Y), epochs=3,
               batch_size=4, schedule=lambda step: -0.1 if step == 4 else 0.01,
               schedule_every="step", progress=False)
    with pytest.raises(gg.ArgumentError,
                       match=r"^fit: schedule\(8\), the rate of the run's last step, must be"):
        gg.fit(model, nn.mse, optim.SGD(model.parameters(), lr=0.1), (X, Y), epochs=3,
               batch_size=4, schedule=lambda step: math.nan if step == 8 else 0.01,
               schedule_every="step", progress=False)
