"""Resuming fit exactly: k epochs, the model's and the optimizer's state dicts saved, loaded
into a model and an optimizer built afresh (here or in another process), and epochs k to N,
end bit for bit as one run of N epochs, as fit's docstring promises (initial_epoch). Hypothesis
cuts random runs (optimizers, schedules, batch sizes, batch norm, dropout, dev sets) into calls
at random epochs, and stops them with an error in a random epoch."""
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import graphgrad as gg
from graphgrad import nn, optim
from graphgrad.data import DataLoader

ROOT = Path(__file__).resolve().parent.parent

# Built alike here and in the process that trains the first epochs: shuffled batches,
# batch norm's running averages and dropout's masks are what a resumed run has to repeat.
SETUP = """
import numpy as np
import graphgrad as gg
from graphgrad import nn, optim

rng = np.random.default_rng(0)
X = rng.standard_normal((40, 3))
Y = (X[:, :1] + X[:, 1:2] > 0).astype(float)


def build(dtype=np.float64):
    return nn.Sequential(nn.Linear(3, 5, rng=1, dtype=dtype), nn.BatchNorm1d(5, dtype=dtype),
                         nn.ReLU(), nn.Dropout(0.8), nn.Linear(5, 1, rng=2, dtype=dtype))


def train(model, optimizer, epochs, initial_epoch=0, schedule=None):
    data = X.astype(model.linear1.W.dtype), Y.astype(model.linear1.W.dtype)
    return gg.fit(model, nn.binary_cross_entropy_with_logits, optimizer, data, epochs,
                  dev_data=(data[0][:10], data[1][:10]), batch_size=8, seed=3,
                  schedule=schedule, initial_epoch=initial_epoch, progress=False)
"""
setup: dict = {}
exec(SETUP, setup)
build, train = setup["build"], setup["train"]

OPTIMIZERS = {
    "SGD momentum, weight decay": lambda p: optim.SGD(p, lr=0.1, momentum=0.9,
                                                      weight_decay=0.01),
    "SGD": lambda p: optim.SGD(p, lr=0.1),
    "RMSprop, weight decay": lambda p: optim.RMSprop(p, lr=0.01, weight_decay=0.01),
    "Adam": lambda p: optim.Adam(p, lr=0.01),
    "AdamW": lambda p: optim.AdamW(p, lr=0.01),
}
SCHEDULES = {
    "none": None,
    "the course's decay": optim.InverseTimeDecay(0.1, decay_rate=1.0),
    "the course's staircase": optim.InverseTimeDecay(0.1, decay_rate=1.0, time_interval=2),
    "exponential": optim.ExponentialDecay(0.1, rate=0.9),
    "step": optim.StepDecay(0.1, factor=0.5, every=2),
}


def _assert_same_state(model, expected, optimizer=None, expected_optimizer=None):
    state, wanted = model.state_dict(), expected.state_dict()
    assert list(state) == list(wanted)
    for key in wanted:
        assert state[key].dtype == wanted[key].dtype, key
        np.testing.assert_array_equal(state[key], wanted[key], err_msg=key)
    if optimizer is not None:
        state, wanted = optimizer.state_dict(), expected_optimizer.state_dict()
        assert list(state) == list(wanted)
        for key in wanted:
            np.testing.assert_array_equal(state[key], wanted[key], err_msg=key)


def _resume(tmp_path, make, k, epochs, schedule, dtype=np.float64):
    """k epochs, saved to files; then a new model and optimizer, loaded, trained to epochs."""
    first = build(dtype)
    first_optimizer = make(first.parameters())
    first_history = train(first, first_optimizer, k, schedule=schedule)
    gg.save(first.state_dict(), tmp_path / "model.npz")
    gg.save(first_optimizer.state_dict(), tmp_path / "optimizer.npz")
    model = build(dtype)
    optimizer = make(model.parameters())
    model.load_state_dict(gg.load(tmp_path / "model.npz"))
    optimizer.load_state_dict(gg.load(tmp_path / "optimizer.npz"))
    history = train(model, optimizer, epochs, initial_epoch=k, schedule=schedule)
    return model, optimizer, {key: first_history[key] + history[key] for key in history}


@pytest.mark.parametrize("schedule", SCHEDULES.values(), ids=SCHEDULES.keys())
@pytest.mark.parametrize("make", OPTIMIZERS.values(), ids=OPTIMIZERS.keys())
def test_a_resumed_run_ends_bit_for_bit_as_the_run_not_stopped(tmp_path, make, schedule):
    whole = build()
    whole_optimizer = make(whole.parameters())
    whole_history = train(whole, whole_optimizer, 5, schedule=schedule)

    model, optimizer, history = _resume(tmp_path, make, 2, 5, schedule)

    assert history == whole_history  # every epoch's cost, accuracy, lr, dev cost, dev accuracy
    _assert_same_state(model, whole, optimizer, whole_optimizer)
    assert optimizer.t == whole_optimizer.t == 25  # 5 batches of 8 a epoch: Adam's t too
    if schedule is not None:
        assert history["lr"] == [schedule(epoch) for epoch in range(5)]


def test_the_same_seed_twice_in_one_process_trains_bit_for_bit_alike():
    runs = []
    for _ in range(2):
        model = build()
        runs.append((model, train(model, optim.Adam(model.parameters(), lr=0.01), 3)))
    (first, first_history), (second, second_history) = runs
    assert first_history == second_history
    _assert_same_state(second, first)


class FunctionalDropout(nn.Module):
    """Dropout written PyTorch's way, F.dropout(A, training=self.training) in forward: its
    masks come from the generator nn.init.seed resets, not from a layer fit can reseed."""

    def __init__(self):
        super().__init__()
        self.linear1, self.linear2 = nn.Linear(3, 5, rng=1), nn.Linear(5, 1, rng=2)

    def forward(self, X):
        A = gg.relu(self.linear1(X))
        return self.linear2(gg.nn.functional.dropout(A, keep_prob=0.7, training=self.training))


def test_fit_reseeds_the_masks_of_functional_dropout_and_leaves_the_default_generator_be():
    """The same seed twice, or a run resumed at epoch 2, draws the same masks of F.dropout
    (they were the default generator's next numbers, other in each run); the generator is
    given back as it was, so what is drawn after fit is what would have been without it."""
    gg.nn.init.seed(5)
    expected_next = np.random.default_rng(5).random(3)
    whole = FunctionalDropout()
    whole_history = train(whole, optim.SGD(whole.parameters(), lr=0.1), 4)
    np.testing.assert_array_equal(gg.nn.init.generator().random(3), expected_next)
    again = FunctionalDropout()
    assert train(again, optim.SGD(again.parameters(), lr=0.1), 4) == whole_history
    resumed = FunctionalDropout()
    optimizer = optim.SGD(resumed.parameters(), lr=0.1)
    first = train(resumed, optimizer, 2)
    rest = train(resumed, optimizer, 4, initial_epoch=2)
    assert {k: first[k] + rest[k] for k in first} == whole_history
    _assert_same_state(resumed, whole)


def test_a_float32_model_resumed_from_files_stays_float32_and_ends_as_the_run_not_stopped(
        tmp_path):
    make = OPTIMIZERS["Adam"]
    whole = build(np.float32)
    whole_optimizer = make(whole.parameters())
    whole_history = train(whole, whole_optimizer, 4)

    model, optimizer, history = _resume(tmp_path, make, 2, 4, None, dtype=np.float32)

    assert {array.dtype for array in gg.load(tmp_path / "model.npz").values()} == {
        np.dtype(np.float32)}
    assert {array.dtype for state in optimizer.state for array in state.values()} == {
        np.dtype(np.float32)}
    assert history == whole_history
    _assert_same_state(model, whole, optimizer, whole_optimizer)  # float32 checked there


def test_a_run_resumed_in_another_process_ends_bit_for_bit_as_the_run_not_stopped(tmp_path):
    """The first two epochs run in a new Python process: nothing but the two files goes from
    it to the run that goes on (no generator, no global state of this process)."""
    schedule = SCHEDULES["the course's decay"]
    first_run = SETUP + f"""
model = build()
optimizer = optim.Adam(model.parameters(), lr=0.01)
train(model, optimizer, 2, schedule=optim.InverseTimeDecay(0.1, decay_rate=1.0))
gg.save(model.state_dict(), {str(tmp_path / "model.npz")!r})
gg.save(optimizer.state_dict(), {str(tmp_path / "optimizer.npz")!r})
"""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    subprocess.run([sys.executable, "-c", first_run], check=True, env=env, cwd=tmp_path,
                   timeout=60)
    whole = build()
    whole_optimizer = optim.Adam(whole.parameters(), lr=0.01)
    whole_history = train(whole, whole_optimizer, 5, schedule=schedule)

    model = build()
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    model.load_state_dict(gg.load(tmp_path / "model.npz"))
    optimizer.load_state_dict(gg.load(tmp_path / "optimizer.npz"))
    history = train(model, optimizer, 5, initial_epoch=2, schedule=schedule)

    assert {key: values[2:] for key, values in whole_history.items()} == history
    _assert_same_state(model, whole, optimizer, whole_optimizer)


def test_a_loop_of_ones_own_resumes_exactly_reseeding_as_dropout_and_the_loader_say(tmp_path):
    """Neither generator is in a state dict; reseeded with (seed, epoch) before each epoch,
    as their docstrings say, a loop resumed at epoch 2 draws what the loop not stopped drew."""
    from graphgrad.data import DataLoader

    X, Y = setup["X"], setup["Y"]

    def loop(model, optimizer, epochs, initial_epoch=0):
        loader = DataLoader(X, Y, batch_size=8)
        dropout = model.dropout1
        for epoch in range(initial_epoch, epochs):
            loader.reseed((3, epoch))
            dropout.reseed((3, epoch))
            for X_batch, Y_batch in loader:
                optimizer.zero_grad()
                setup["nn"].binary_cross_entropy_with_logits(model(X_batch), Y_batch).backward()
                optimizer.step()

    whole = build()
    whole_optimizer = optim.Adam(whole.parameters(), lr=0.01)
    loop(whole, whole_optimizer, 4)
    first = build()
    first_optimizer = optim.Adam(first.parameters(), lr=0.01)
    loop(first, first_optimizer, 2)
    gg.save(first.state_dict(), tmp_path / "model.npz")
    gg.save(first_optimizer.state_dict(), tmp_path / "optimizer.npz")
    model = build()
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    model.load_state_dict(gg.load(tmp_path / "model.npz"))
    optimizer.load_state_dict(gg.load(tmp_path / "optimizer.npz"))
    loop(model, optimizer, 4, initial_epoch=2)
    _assert_same_state(model, whole, optimizer, whole_optimizer)


# -- any run cut anywhere -----------------------------------------------------------------
M = 20
RANDOM_X = np.random.default_rng(7).standard_normal((M, 3))
RANDOM_Y = (RANDOM_X[:, :1] - RANDOM_X[:, 2:3] > 0).astype(float)
RUN_SCHEDULES = {**SCHEDULES, "inverse sqrt": optim.InverseSqrtDecay(0.1)}


@st.composite
def _runs(draw):
    """A small run of fit: its model, optimizer, data and settings, and the epochs at which
    it is cut into several calls, each followed by nothing, a state_dict loaded into a model
    and an optimizer built afresh, or the same through files."""
    epochs = draw(st.integers(1, 5))
    cuts = sorted(draw(st.sets(st.integers(0, epochs), max_size=3)))
    batchnorm, drop_last = draw(st.booleans()), draw(st.booleans())
    # batch norm refuses a batch of one example in training: no batch_size that leaves one
    sizes = st.integers(1, M if drop_last else M + 5)
    if batchnorm:
        sizes = sizes.filter(lambda b: b > 1 and (drop_last or M % b != 1))
    return {
        "epochs": epochs, "cuts": cuts,
        "then": [draw(st.sampled_from(["go on", "state dicts", "files"])) for _ in cuts],
        "optimizer": draw(st.sampled_from(sorted(OPTIMIZERS))),
        "groups": draw(st.booleans()), "schedule": draw(st.sampled_from(sorted(RUN_SCHEDULES))),
        "batch_size": draw(sizes), "shuffle": draw(st.booleans()), "drop_last": drop_last,
        "batchnorm": batchnorm, "frozen": draw(st.booleans()), "dropout": draw(st.booleans()),
        "dev": draw(st.booleans()), "classes": draw(st.booleans()),
        "data": draw(st.sampled_from(["(X, Y)", "[X, Y]", "DataLoader"])),
        "eval": draw(st.booleans()), "accuracy": draw(st.sampled_from(["auto", None, "mean"])),
        "seed": draw(st.integers(0, 2**16)),
    }


def _build_run(run):
    layers = [nn.Linear(3, 4, rng=1)]
    if run["batchnorm"]:
        layers.append(nn.BatchNorm1d(4))
        if run["frozen"]:
            layers[-1].eval()  # stays frozen in every call
    layers.append(nn.ReLU())
    if run["dropout"]:
        layers.append(nn.Dropout(0.7))
    layers.append(nn.Linear(4, 2 if run["classes"] else 1, rng=2))
    model = nn.Sequential(*layers)
    params = model.parameters()
    if run["groups"]:  # the last layer at a third of the rate, which a schedule keeps
        last = list(layers[-1].parameters())
        params = [{"params": [p for p in params if all(p is not q for q in last)]},
                  {"params": last, "lr": OPTIMIZERS[run["optimizer"]]([last[0]]).lr / 3}]
    return model, OPTIMIZERS[run["optimizer"]](params)


def _fit_run(run, model, optimizer, epochs, initial_epoch, schedule="the run's"):
    Y = RANDOM_Y[:, 0].astype(int) if run["classes"] else RANDOM_Y
    data = {"(X, Y)": (RANDOM_X, Y), "[X, Y]": [RANDOM_X, Y],
            "DataLoader": DataLoader(RANDOM_X, Y, batch_size=run["batch_size"],
                                     shuffle=run["shuffle"], drop_last=run["drop_last"],
                                     seed=5)}[run["data"]]
    if run["eval"]:  # left in eval mode after predicting: fit trains it all the same
        model.eval()
    return gg.fit(model, nn.cross_entropy if run["classes"] else
                  nn.binary_cross_entropy_with_logits, optimizer, data, epochs,
                  dev_data=(RANDOM_X[:7], Y[:7]) if run["dev"] else None,
                  batch_size=run["batch_size"], shuffle=run["shuffle"],
                  drop_last=run["drop_last"], seed=run["seed"],
                  schedule=RUN_SCHEDULES[run["schedule"]] if schedule == "the run's" else schedule,
                  accuracy={"mean": lambda Z, Y: float(Z.mean())}.get(run["accuracy"],
                                                                      run["accuracy"]),
                  initial_epoch=initial_epoch, progress=False)


def _keys(run):
    return ["cost", "accuracy", "lr"] + ["dev_cost", "dev_accuracy"] * run["dev"]


@given(_runs())
def test_a_run_cut_into_calls_anywhere_ends_bit_for_bit_as_one_call(run):
    whole, whole_optimizer = _build_run(run)
    whole_history = _fit_run(run, whole, whole_optimizer, run["epochs"], 0)
    steps = (M // run["batch_size"] if run["drop_last"] else -(-M // run["batch_size"]))
    schedule = RUN_SCHEDULES[run["schedule"]]

    model, optimizer = _build_run(run)
    history = {key: [] for key in _keys(run)}
    start = 0
    with tempfile.TemporaryDirectory() as folder:
        for stop, then in zip([*run["cuts"], run["epochs"]], [*run["then"], "go on"]):
            part = _fit_run(run, model, optimizer, stop, start)
            assert list(part) == _keys(run)
            assert {len(values) for values in part.values()} == {stop - start}
            assert optimizer.t == stop * steps and model.training is not run["eval"]
            if schedule is not None:
                assert part["lr"] == [schedule(epoch) for epoch in range(start, stop)]
            for key, values in part.items():
                history[key] += values
            start = stop
            states = model.state_dict(), optimizer.state_dict()
            if then == "files":
                paths = os.path.join(folder, "model.npz"), os.path.join(folder, "optimizer.npz")
                for state, path in zip(states, paths):
                    gg.save(state, path)
                states = tuple(map(gg.load, paths))
            if then != "go on":
                model, optimizer = _build_run(run)
                model.load_state_dict(states[0])
                optimizer.load_state_dict(states[1])

    np.testing.assert_equal(history, whole_history)  # an accuracy of None is NaN: equal here
    assert list(history) == list(whole_history)
    _assert_same_state(model, whole, optimizer, whole_optimizer)


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning",
                            "ignore:invalid value:RuntimeWarning")
@given(_runs(), st.integers(0, 4), st.sampled_from([1e300, math.nan]))
def test_an_error_in_any_epoch_leaves_the_epochs_finished_and_the_one_to_resume_from(
        run, failing, rate):
    """A rate of 1e300 from epoch ``failing`` on sends the cost to Inf (TrainingDiverged),
    unless the model's outputs stay small; a rate of NaN is refused (ArgumentError). Either
    error holds the history of the epochs before and next_epoch, the first not finished."""
    start = run["cuts"][0] if run["cuts"] else 0
    failing += start
    assume(failing < run["epochs"])
    model, optimizer = _build_run(run)
    schedule = RUN_SCHEDULES[run["schedule"]] or (lambda epoch: 0.01)
    try:
        _fit_run(run, model, optimizer, run["epochs"], start,
                 schedule=lambda epoch: rate if epoch >= failing else schedule(epoch))
    except gg.GraphgradError as error:
        assert isinstance(error, gg.train.TrainingDiverged if rate > 0 else gg.ArgumentError)
        assert list(error.history) == _keys(run)
        finished = error.next_epoch - start
        assert {len(values) for values in error.history.values()} == {finished}
        assert finished == failing - start if rate != rate else finished >= failing - start
        assert model.training is not run["eval"]
    else:
        assert rate == 1e300  # the outputs of a few examples may stay below Inf
