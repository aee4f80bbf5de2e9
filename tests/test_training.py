"""Training with fit: the course's planar flower and optimisation results, scikit-learn's
digits, and what fit promises (history, reproducibility, schedules, a clear stop on NaN)."""
import functools
import math

import numpy as np
import pytest
from sklearn.datasets import load_digits, make_moons

import graphgrad as gg
from graphgrad import nn, optim
from graphgrad.data import DataLoader, planar_dataset, standardize, train_dev_test_split
from graphgrad.train import TrainingDiverged, evaluate


def _flower_model():
    return nn.Sequential(nn.Linear(2, 4, init="xavier", rng=2), nn.Tanh(),
                         nn.Linear(4, 1, init="xavier", rng=3))


@pytest.mark.slow
def test_planar_flower_with_four_tanh_units_reaches_90_percent():
    """The course's shallow network: full-batch gradient descent, learning rate 1.2."""
    X, Y = planar_dataset()
    model = _flower_model()
    history = gg.fit(model, nn.binary_cross_entropy_with_logits,
                     optim.SGD(model.parameters(), lr=1.2), (X, Y), epochs=2000, batch_size=400,
                     progress=False)
    cost, accuracy = evaluate(model, nn.binary_cross_entropy_with_logits, X, Y)
    assert accuracy >= 0.90
    assert cost == pytest.approx(history["cost"][-1], abs=1e-3)  # one step apart
    assert history["cost"][-1] < 0.5 * history["cost"][0]


@pytest.mark.slow
def test_digits_with_a_two_hidden_layer_relu_mlp_and_adam_reach_96_percent():
    digits = load_digits()
    (X_train, y_train), (X_dev, y_dev), (X_test, y_test) = train_dev_test_split(
        digits.data, digits.target, dev=0.1, test=0.2, seed=0)
    X_train, X_dev, X_test = standardize(X_train, X_dev, X_test)
    nn.init.seed(0)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(),
                          nn.Linear(32, 10))
    history = gg.fit(model, nn.cross_entropy, optim.Adam(model.parameters(), lr=1e-3),
                     (X_train, y_train), epochs=30, dev_data=(X_dev, y_dev), progress=False)
    _, test_accuracy = evaluate(model, nn.cross_entropy, X_test, y_test)
    assert test_accuracy >= 0.96
    assert history["dev_accuracy"][-1] >= 0.95
    assert history["accuracy"][-1] > 0.99


@pytest.mark.slow
def test_adam_ends_lower_than_minibatch_gradient_descent():
    """The course's optimisation comparison: moons, [2, 5, 2, 1], learning rate 0.0007."""
    X, y = make_moons(n_samples=300, noise=0.2, random_state=3)
    Y = y.reshape(-1, 1).astype(float)
    final = {}
    for name, make in [("gd", lambda p: optim.SGD(p, lr=0.0007)),
                       ("momentum", lambda p: optim.SGD(p, lr=0.0007, momentum=0.9)),
                       ("adam", lambda p: optim.Adam(p, lr=0.0007))]:
        nn.init.seed(3)
        model = nn.Sequential(nn.Linear(2, 5), nn.ReLU(), nn.Linear(5, 2), nn.ReLU(),
                              nn.Linear(2, 1))
        history = gg.fit(model, nn.binary_cross_entropy_with_logits, make(model.parameters()),
                         (X, Y), epochs=300, batch_size=64, seed=1, progress=False)
        final[name] = history["cost"][-1]
    assert final["adam"] < 0.7 * final["gd"]
    assert final["momentum"] == pytest.approx(final["gd"], rel=0.02)  # as the course finds


def _dropout_run(seed):
    nn.init.seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Dropout(0.8), nn.Linear(8, 1))
    X, Y = planar_dataset(m=100)
    return model, gg.fit(model, nn.binary_cross_entropy_with_logits,
                         optim.Adam(model.parameters(), lr=0.01), (X, Y), epochs=5,
                         batch_size=16, seed=seed, progress=False)


def test_fit_is_reproducible_from_a_seed():
    model_a, a = _dropout_run(seed=7)
    model_b, b = _dropout_run(seed=7)
    _, c = _dropout_run(seed=8)
    assert a == b
    np.testing.assert_array_equal(model_a.linear2.W.data, model_b.linear2.W.data)
    assert a["cost"] != c["cost"]
    assert model_a.training  # fit leaves the mode as it found it


def test_history_holds_per_epoch_cost_accuracy_lr_and_dev_values():
    X, Y = planar_dataset(m=100)
    model = _flower_model()
    schedule = optim.InverseTimeDecay(0.5, decay_rate=1.0)
    history = gg.fit(model, nn.binary_cross_entropy_with_logits,
                     optim.SGD(model.parameters(), lr=0.5), (X, Y), epochs=3,
                     dev_data=(X[:20], Y[:20]), schedule=schedule, progress=False)
    assert history["lr"] == [0.5, 0.25, 0.5 / 3]
    assert set(history) == {"cost", "accuracy", "lr", "dev_cost", "dev_accuracy"}
    assert all(len(v) == 3 for v in history.values())
    dev_cost, dev_accuracy = evaluate(model, nn.binary_cross_entropy_with_logits, X[:20], Y[:20])
    assert history["dev_cost"][-1] == dev_cost and history["dev_accuracy"][-1] == dev_accuracy


def test_epoch_cost_is_the_example_weighted_mean_of_batch_costs():
    """With a learning rate too small to move, the epoch cost is the cost on all the data."""
    X, Y = planar_dataset(m=100)
    model = _flower_model()
    history = gg.fit(model, nn.binary_cross_entropy_with_logits,
                     optim.SGD(model.parameters(), lr=1e-300), (X, Y), epochs=1, batch_size=30,
                     progress=False)  # batches of 30, 30, 30, 10
    cost, accuracy = evaluate(model, nn.binary_cross_entropy_with_logits, X, Y)
    assert history["cost"][0] == pytest.approx(cost, rel=1e-12)
    assert history["accuracy"][0] == pytest.approx(accuracy, rel=1e-12)


def test_fit_with_a_loader_and_a_regularised_cost_reports_argmax_accuracy():
    X, y = make_moons(n_samples=60, noise=0.1, random_state=0)
    model = nn.Sequential(nn.Linear(2, 8, rng=0), nn.ReLU(), nn.Linear(8, 2, rng=1))

    def cost(Z, labels):
        return nn.cross_entropy(Z, labels) + nn.l2_penalty(model, 0.1, len(labels))

    history = gg.fit(model, cost, optim.Adam(model.parameters(), lr=0.05),
                     DataLoader(X, y, batch_size=20), epochs=20, progress=False)
    assert 0.8 <= history["accuracy"][-1] <= 1.0
    multi = functools.partial(nn.cross_entropy, multi_label=True)
    history = gg.fit(model, multi, optim.Adam(model.parameters(), lr=0.05),
                     (X, np.eye(2)[y]), epochs=2, progress=False)
    assert 0.0 <= history["accuracy"][-1] <= 1.0
    history = gg.fit(model, nn.mse, optim.SGD(model.parameters(), lr=0.01),
                     (X, np.eye(2)[y]), epochs=1, progress=False, accuracy=None)
    assert math.isnan(history["accuracy"][0])


def _overfitting_run(**options):
    """40 noisy training examples, a network far bigger than they need: the dev cost falls
    for a few epochs, then rises."""
    X, y = make_moons(n_samples=200, noise=0.35, random_state=0)
    nn.init.seed(0)
    model = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                          nn.Linear(64, 2))
    history = gg.fit(model, nn.cross_entropy, optim.Adam(model.parameters(), lr=0.002),
                     (X[:40], y[:40]), epochs=60, dev_data=(X[40:], y[40:]), batch_size=40,
                     progress=False, **options)
    return model, history, (X[40:], y[40:])


def test_early_stopping_stops_after_patience_epochs_and_restores_the_best_parameters():
    _, full, _ = _overfitting_run()
    best = int(np.argmin(full["dev_cost"]))
    assert 0 < best < 50 and full["dev_cost"][-1] > full["dev_cost"][best] + 0.02

    model, stopped, dev = _overfitting_run(patience=5)
    assert len(stopped["dev_cost"]) == best + 5 + 1  # five epochs without a new lowest
    assert stopped["dev_cost"] == full["dev_cost"][:best + 6]  # the same run, cut short
    dev_cost, dev_accuracy = evaluate(model, nn.cross_entropy, *dev)
    assert dev_cost == stopped["dev_cost"][best]  # the parameters of the best epoch
    assert dev_accuracy == stopped["dev_accuracy"][best]
    assert dev_cost < stopped["dev_cost"][-1]

    model, unstopped, dev = _overfitting_run(patience=100)  # more than the 60 epochs
    assert unstopped["dev_cost"] == full["dev_cost"]
    assert evaluate(model, nn.cross_entropy, *dev)[0] == full["dev_cost"][best]


def test_early_stopping_needs_a_dev_set():
    model = _flower_model()
    X, Y = planar_dataset(m=20)
    with pytest.raises(gg.GraphgradError, match=r"patience=3 .* needs dev_data"):
        gg.fit(model, nn.binary_cross_entropy_with_logits, optim.SGD(model.parameters(), lr=0.1),
               (X, Y), epochs=5, patience=3, progress=False)


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")
def test_fit_stops_clearly_when_the_cost_becomes_nan():
    X, Y = planar_dataset(m=100)
    model = nn.Sequential(nn.Linear(2, 1, rng=0))
    with pytest.raises(TrainingDiverged, match=r"cost became (nan|inf) at epoch \d+, batch \d+, "
                                               r"with learning rate 1e\+06") as caught:
        gg.fit(model, nn.mse, optim.SGD(model.parameters(), lr=1e6), (X, Y), epochs=50,
               progress=False)
    assert len(caught.value.history["cost"]) >= 1
    assert all(np.isfinite(p.data).all() for p in model.parameters())


def test_fit_shows_a_progress_bar(capsys):
    X, Y = planar_dataset(m=50)
    model = _flower_model()
    gg.fit(model, nn.binary_cross_entropy_with_logits, optim.SGD(model.parameters(), lr=0.1),
           (X, Y), epochs=2, dev_data=(X, Y))
    err = capsys.readouterr().err
    assert "2/2" in err and "cost=" in err and "dev_acc=" in err


def test_fit_explains_a_loss_that_is_not_a_number():
    X, Y = planar_dataset(m=20)
    model = _flower_model()
    with pytest.raises(gg.GraphgradError, match=r"one-element Tensor.*shape \(20, 1\)"):
        gg.fit(model, lambda Z, Y: (Z - Y) ** 2, optim.SGD(model.parameters(), lr=0.1),
               (X, Y), epochs=1, progress=False)


def test_float32_stays_float32_through_training():
    X, Y = planar_dataset(m=64)
    X, Y = X.astype(np.float32), Y.astype(np.float32)
    nn.init.seed(0)
    model = nn.Sequential(nn.Linear(2, 8, dtype=np.float32), nn.BatchNorm1d(8, dtype=np.float32),
                          nn.ReLU(), nn.Dropout(0.9), nn.Linear(8, 1, dtype=np.float32))
    for make in (lambda p: optim.Adam(p, lr=0.01), lambda p: optim.SGD(p, lr=0.1, momentum=0.9)):
        opt = make(model.parameters())
        gg.fit(model, nn.binary_cross_entropy_with_logits, opt, (X, Y), epochs=2,
               batch_size=16, progress=False)
        assert {p.dtype for p in model.parameters()} == {np.dtype(np.float32)}
        assert {a.dtype for state in opt.state for a in state.values()} == {
            np.dtype(np.float32)}
    assert model.batchnorm1.running_var.dtype == np.float32
    assert model(X).dtype == np.float32
