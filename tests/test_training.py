"""Training with fit: the course's planar flower and optimisation results, scikit-learn's
digits, and what fit promises (history, reproducibility, schedules, a clear stop on NaN)."""
import copy
import functools
import gc
import math
import pickle
import warnings

import numpy as np
import pytest
from interrupts import interrupted_after_each_call
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


def _resumable_run(model, optimizer, **options):
    X, Y = planar_dataset(m=100)
    options.setdefault("schedule", optim.InverseTimeDecay(0.05, decay_rate=1.0))
    return gg.fit(model, nn.binary_cross_entropy_with_logits, optimizer, (X, Y),
                  batch_size=25, progress=False, **options)


def test_a_run_resumed_from_saved_states_ends_as_the_run_not_stopped(tmp_path):
    # Batches in a fixed order, so both runs see the same ones; Adam's state and the
    # schedule's epoch are what resuming has to carry over.
    whole = _flower_model()
    whole_history = _resumable_run(whole, optim.Adam(whole.parameters(), lr=0.05), epochs=5,
                                   shuffle=False)

    first = _flower_model()
    adam = optim.Adam(first.parameters(), lr=0.05)
    _resumable_run(first, adam, epochs=3, shuffle=False)
    gg.save(first.state_dict(), tmp_path / "model.npz")
    gg.save(adam.state_dict(), tmp_path / "adam.npz")
    resumed = _flower_model()
    resumed.load_state_dict(gg.load(tmp_path / "model.npz"))
    adam = optim.Adam(resumed.parameters(), lr=0.05)
    adam.load_state_dict(gg.load(tmp_path / "adam.npz"))
    history = _resumable_run(resumed, adam, epochs=5, initial_epoch=3, shuffle=False)

    assert history["lr"] == [0.05 / 4, 0.05 / 5]  # schedule(3), schedule(4): alpha0 / (1 + t)
    assert history["lr"] == whole_history["lr"][3:]
    np.testing.assert_allclose(history["cost"], whole_history["cost"][3:], rtol=1e-12)
    for (name, p), q in zip(resumed.named_parameters(), whole.parameters()):
        np.testing.assert_allclose(p.data, q.data, rtol=1e-12, err_msg=name)


def test_each_epoch_draws_its_batches_from_the_seed_and_its_number():
    runs = []
    for initial_epoch in (3, 3, 0):
        model = _flower_model()
        runs.append(_resumable_run(model, optim.SGD(model.parameters(), lr=0.05),
                                   epochs=initial_epoch + 1, initial_epoch=initial_epoch,
                                   seed=0, schedule=None)["cost"])
    assert runs[0] == runs[1]
    # Same start, same rate: only the order of the batches differs from the first epoch's.
    assert runs[0] != runs[2]
    # Epoch 3's order is the one a run from epoch 0 shuffles in its epoch 3 (tests/test_resume
    # checks whole runs): the loader's generator is seeded from (seed, epoch) before each.
    loader = DataLoader(*planar_dataset(m=100), batch_size=25)
    orders = []
    for initial_epoch in (3, 0):
        model = _flower_model()
        gg.fit(model, nn.binary_cross_entropy_with_logits,
               optim.SGD(model.parameters(), lr=0.05), loader, epochs=4,
               initial_epoch=initial_epoch, seed=0, progress=False)
        orders.append(loader.rng.bit_generator.state)
    assert orders[0] == orders[1]


@pytest.mark.parametrize("epochs, initial_epoch, message", [
    (2, 3, r"epochs=2 is below initial_epoch=3.*Keras.*epochs=8"),
    (3, -1, r"initial_epoch"),
    (3, 1.5, r"initial_epoch"),
])
def test_an_initial_epoch_past_the_last_or_not_a_count_is_refused(epochs, initial_epoch,
                                                                    message):
    model = _flower_model()
    with pytest.raises(gg.GraphgradError, match=message):
        _resumable_run(model, optim.SGD(model.parameters(), lr=0.05), epochs=epochs,
                       initial_epoch=initial_epoch)
    assert model.linear1.W.data.tolist() == _flower_model().linear1.W.data.tolist()


@pytest.mark.parametrize("kind, outputs, labels, right", [
    # the largest of C scores against class indices and against one-hot rows
    ("argmax", [[0.1, 0.7, 0.2], [0.5, 0.1, 0.4], [0.2, 0.3, 0.5]], [1, 2, 2], 2),
    ("argmax", [[0.1, 0.7, 0.2], [0.5, 0.1, 0.4]], [[0, 1, 0], [0, 0, 1]], 1),
    # z > 0 is class 1, whatever its size: 0.3 and 2.0 both say 1
    ("logits", [[0.3], [-0.2], [2.0], [0.0]], [[1], [0], [0], [0]], 3),
    # a > 0.5 is class 1: 0.3 says 0
    ("probabilities", [[0.3], [0.6], [0.5], [0.9]], [[0], [1], [1], [1]], 3),
    # each of the m * C answers on its own
    ("multi_label", [[0.4, -1.0], [-0.1, 2.0]], [[1, 0], [1, 1]], 3),
])
def test_accuracy_counts_the_predictions_each_kind_makes(kind, outputs, labels, right):
    outputs = np.array(outputs)
    assert gg.train.accuracy(outputs, np.array(labels), kind) == right / (
        outputs.size if kind == "multi_label" else len(outputs))


@pytest.mark.parametrize("kind", ["argmax", "logits", "probabilities", "multi_label"])
@pytest.mark.parametrize("outputs, labels, none", [
    (np.zeros((0, 3)), np.zeros(0, np.int64), "no examples"),
    (np.zeros((3, 0)), np.zeros(3, np.int64), "no scores"),
], ids=["m=0", "C=0"])
def test_accuracy_of_no_predictions_is_refused(kind, outputs, labels, none):
    """It was NaN with numpy's two RuntimeWarnings for m = 0, and numpy's 'attempt to get
    argmax of an empty sequence' or 'cannot reshape' for outputs of no scores."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(gg.ArgumentError) as info:
            gg.train.accuracy(outputs, labels, kind)
    assert str(info.value) == (
        f"accuracy: the outputs {outputs.shape} hold {none}, and the fraction right of no "
        "predictions is 0/0, not a number; give at least one example with its scores")


def test_accuracy_takes_class_indices_as_a_column_or_a_row():
    outputs = np.array([[0.1, 0.7, 0.2], [0.5, 0.1, 0.4], [0.2, 0.3, 0.5]])
    for labels in ([1, 2, 2], [[1], [2], [2]], [[1, 2, 2]]):
        assert gg.train.accuracy(outputs, np.array(labels)) == 2 / 3
    assert gg.train.accuracy(np.array([[0.3], [-0.2]]), np.array([[1, 1]]), "logits") == 0.5


@pytest.mark.parametrize("kind, outputs, labels, tail", [
    # one-hot labels in the course's layout (C, m): numpy's "cannot reshape" came alone
    ("argmax", np.zeros((2, 3)), np.eye(3)[[1, 0]].T,
     "6 labels of shape (3, 2) do not fit the outputs (2, 3) (kind='argmax'), which take "
     "class indices (m,) or one-hot labels of the outputs' shape; labels in the course's "
     "layout, one example per column, need a .T"),
    ("argmax", np.zeros((2, 3)), np.array([1, 0, 2]),
     "3 labels of shape (3,) do not fit the outputs (2, 3) (kind='argmax'), which take "
     "class indices (m,) or one-hot labels of the outputs' shape"),
    ("logits", np.zeros((4, 1)), np.ones(3),
     "3 labels of shape (3,) do not fit the outputs (4, 1) (kind='logits'), which take one "
     "0/1 label per output, of the outputs' shape"),
])
def test_accuracy_refuses_labels_that_do_not_fit_the_outputs(kind, outputs, labels, tail):
    with pytest.raises(gg.ArgumentError) as info:
        gg.train.accuracy(outputs, labels, kind)
    assert str(info.value) == "accuracy: " + tail


@pytest.mark.parametrize("labels, tail", [
    # label 10 matched no argmax, so it counted wrong without a word; -1 too
    ([1, 10, 2, 0], "label 10 (example 1) is no class of the 10 the outputs (4, 10) score: "
                    "class indices are 0..9"),
    ([[1], [2], [-1], [0]], "label -1 (example 2) is no class of the 10 the outputs (4, 10) "
                            "score: class indices are 0..9"),
    (np.array([1.0, 2.5, 3.0, 0.0]), "label 2.5 (example 1) is no class of the 10 the outputs "
                                     "(4, 10) score: class indices are 0..9"),
])
def test_accuracy_refuses_a_class_index_out_of_range(labels, tail):
    outputs = np.eye(10)[[1, 2, 3, 0]]
    with pytest.raises(gg.ArgumentError) as info:
        gg.train.accuracy(outputs, np.array(labels))
    assert str(info.value).startswith("accuracy: " + tail), str(info.value)
    assert gg.train.accuracy(outputs, np.array([1, 9, 3, 0.0])) == 0.75


PAD = -100


def test_accuracy_leaves_out_the_positions_marked_ignore_index():
    # Every position predicts class 1; of the three real labels two are 1.
    outputs = np.zeros((2, 3, 4))
    outputs[..., 1] = 1.0
    labels = np.array([[1, 0, PAD], [1, PAD, PAD]])
    assert gg.train.accuracy(outputs, labels, ignore_index=PAD) == pytest.approx(2 / 3)
    assert gg.train.accuracy(outputs[0], np.array([1, 0, 3]), ignore_index=3) == 0.5
    with pytest.raises(gg.ArgumentError, match="every one of the labels .2, 1. is "
                                               "ignore_index=-100"):
        gg.train.accuracy(outputs[:, :1], np.full((2, 1), PAD), ignore_index=PAD)
    with pytest.raises(gg.ArgumentError, match="ignore_index=-100 applies to class indices"):
        gg.train.accuracy(outputs, np.eye(4)[[[1, 0, 0], [1, 0, 0]]], ignore_index=PAD)
    with pytest.raises(gg.ArgumentError) as info:
        gg.train.accuracy(outputs, labels)
    assert str(info.value).startswith("accuracy: label -100 (example (0, 2)) is no class of "
                                      "the 4 the outputs (2, 3, 4) score"), str(info.value)
    assert "accuracy(outputs, labels, ignore_index=...)" in str(info.value)


def _tagger():
    """Tokens 1 and 2 score classes 0 and 1; token 0 is padding (both scores 0)."""
    return nn.Embedding.from_pretrained(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]),
                                        freeze=False, padding_idx=0)


def test_fit_and_evaluate_report_the_accuracy_of_the_positions_not_ignored():
    # Predictions [[0, 1, -], [1, -, -]] against labels [[0, 0, -], [1, -, -]]: 2 of 3 right.
    X = np.array([[1, 2, 0], [2, 0, 0]])
    Y = np.array([[0, 0, PAD], [1, PAD, PAD]])
    partial = functools.partial(nn.cross_entropy, ignore_index=PAD)
    model = _tagger()
    history = gg.fit(model, partial, optim.SGD(model.parameters(), lr=1e-300), (X, Y),
                     epochs=1, dev_data=(X, Y), progress=False)
    assert history["accuracy"] == [pytest.approx(2 / 3)]
    assert history["dev_accuracy"] == [pytest.approx(2 / 3)]
    own = functools.partial(gg.train.accuracy, ignore_index=PAD)
    assert evaluate(model, lambda Z, Y: partial(Z, Y), X, Y, accuracy=own)[1] == \
        pytest.approx(2 / 3)


def test_fit_refuses_labels_its_accuracy_cannot_read_before_a_step_changes_the_model():
    model = _tagger()
    before = model.E.data.copy()
    with pytest.raises(gg.ArgumentError) as info:
        gg.fit(model, lambda Z, Y: nn.cross_entropy(Z, Y, ignore_index=PAD),
               optim.SGD(model.parameters(), lr=1.0), (np.array([[1, 0]]), np.array([[1, PAD]])),
               epochs=1, progress=False)
    assert "label -100" in str(info.value) and "optimizer step" not in str(info.value)
    assert info.value.next_epoch == 0
    np.testing.assert_array_equal(model.E.data, before)


def test_epoch_cost_weighs_each_batch_by_its_rows_with_ignore_index_and_sums_with_sum():
    # One sequence a batch: [1, 2] labelled [0, 0] costs a + b over 2 positions, [2] labelled
    # [1] costs a, with a = log(1 + e^-1) (the right class scored 1) and b = log(1 + e).
    a, b = math.log(1 + math.exp(-1)), math.log(1 + math.exp(1))
    X = np.array([[1, 2], [2, 0]])
    Y = np.array([[0, 0], [1, PAD]])

    def cost(reduction, batch_size):
        model = _tagger()
        loss = functools.partial(nn.cross_entropy, ignore_index=PAD, reduction=reduction)
        history = gg.fit(model, loss, optim.SGD(model.parameters(), lr=1e-300), (X, Y),
                         epochs=1, batch_size=batch_size, shuffle=False, progress=False)
        return history["cost"][0], evaluate(model, loss, X, Y)[0]

    assert cost("mean", 1) == (pytest.approx(((a + b) / 2 + a) / 2), pytest.approx((2 * a + b) / 3))
    assert cost("mean", 2) == (pytest.approx((2 * a + b) / 3), pytest.approx((2 * a + b) / 3))
    assert cost("sum", 1) == (pytest.approx((2 * a + b) / 2), pytest.approx(2 * a + b))
    assert cost("sum", 2) == (pytest.approx(2 * a + b), pytest.approx(2 * a + b))


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
    assert len(history["accuracy"]) == 2
    history = gg.fit(model, nn.mse, optim.SGD(model.parameters(), lr=0.01),
                     (X, np.eye(2)[y]), epochs=1, progress=False, accuracy=None)
    assert math.isnan(history["accuracy"][0])


def _fixed_linear(W, b):
    model = nn.Linear(2, len(W))
    model.W.data[...] = W
    model.b.data[...] = b
    return model


def test_the_accuracy_fit_and_evaluate_report_follows_the_loss():
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    # Z = [[1, 2], [-1, -2]]: by argmax the two rows are classes 1 and 0, as Y's rows say;
    # as multi-label answers (z > 0) only 2 of the 4 are right.
    two_scores = _fixed_linear([[1.0, -1.0], [2.0, -2.0]], [0.0, 0.0])
    Y = np.array([[0.0, 1.0], [1.0, 0.0]])
    multi = functools.partial(nn.cross_entropy, multi_label=True)
    assert evaluate(two_scores, nn.cross_entropy, X, Y)[1] == 1.0
    assert evaluate(two_scores, multi, X, Y)[1] == 0.5
    # A = [[0.3], [0.6]]: probabilities (a > 0.5) say 0 and 1, as Y; read as logits (z > 0),
    # both would say 1.
    probabilities = _fixed_linear([[0.3, 0.6]], [0.0])
    Y_binary = np.array([[0.0], [1.0]])
    assert evaluate(probabilities, nn.binary_cross_entropy, X, Y_binary)[1] == 1.0
    assert evaluate(probabilities, nn.binary_cross_entropy_with_logits, X, Y_binary)[1] == 0.5
    history = gg.fit(two_scores, multi, optim.SGD(two_scores.parameters(), lr=0.1), (X, Y),
                     epochs=1, progress=False)
    assert history["accuracy"] == [0.5]


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


@pytest.mark.parametrize("patience", [2.5, math.nan, True, 0, "2"])
def test_a_patience_that_is_not_a_whole_number_of_epochs_is_refused(patience):
    """2.5 or NaN never equals a count of epochs: early stopping would be silently off."""
    model = _flower_model()
    X, Y = planar_dataset(m=20)
    with pytest.raises(gg.ArgumentError, match="patience .* must be a whole number of at least"):
        gg.fit(model, nn.binary_cross_entropy_with_logits, optim.SGD(model.parameters(), lr=0.1),
               (X, Y), epochs=5, dev_data=(X, Y), patience=patience, progress=False)


def test_a_nan_dev_cost_stops_early_stopping_and_restores_the_best_epoch():
    """NaN is never lower than the best dev cost: patience would stop without saying why, the
    model left at a NaN epoch's parameters."""
    X, y = make_moons(n_samples=60, noise=0.3, random_state=0)
    dev = [X[40:].copy(), y[40:]]
    model = nn.Sequential(nn.Linear(2, 2, rng=0))
    sgd = optim.SGD(model.parameters(), lr=0.1)

    def schedule(epoch):  # the dev set is spoilt before the fourth epoch
        if epoch == 3:
            dev[0][0, 0] = np.nan
        return 0.1
    with pytest.raises(TrainingDiverged, match=r"dev cost of epoch 3 is nan.*NaN or Inf in "
                                               r"X_dev.*parameters of epoch 2") as caught:
        gg.fit(model, nn.cross_entropy, sgd, (X[:40], y[:40]), epochs=10, dev_data=dev,
               patience=3, schedule=schedule, progress=False)
    dev_costs = caught.value.history["dev_cost"]
    assert len(dev_costs) == 4 and math.isnan(dev_costs[3]) and np.argmin(dev_costs[:3]) == 2
    dev[0][0, 0] = X[40, 0]
    assert evaluate(model, nn.cross_entropy, *dev)[0] == dev_costs[2]


@pytest.mark.parametrize("rate", [math.nan, math.inf, -0.1, "0.1"])
def test_a_schedule_giving_no_learning_rate_is_refused_before_it_is_used(rate):
    model, sgd = _linear_model_and_sgd()
    X, Y = planar_dataset(m=20)
    W = model.linear1.W.data.copy()
    with pytest.raises(gg.ArgumentError, match=r"schedule\(1\) must be a learning rate, >= 0 "
                                               "and finite"):
        gg.fit(model, nn.mse, sgd, (X, Y), epochs=3, progress=False,
               schedule=lambda epoch: 0.1 if epoch == 0 else rate)
    assert np.isfinite(model.linear1.W.data).all() and not np.array_equal(W,
                                                                          model.linear1.W.data)
    model, sgd = _linear_model_and_sgd()  # 0 is a warm-up's first epoch: no step
    gg.fit(model, nn.mse, sgd, (X, Y), epochs=1, progress=False, schedule=lambda epoch: 0.0)
    np.testing.assert_array_equal(model.linear1.W.data, W)


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


# -- what fit and evaluate refuse, and what they leave behind -------------------------------------
def _untouched(model):
    return [p.data.copy() for p in model.parameters()]


def test_an_empty_or_mismatched_dev_set_is_refused_before_training():
    """A cost over no examples is not a number (it read as a perfect 0.0)."""
    X, Y = planar_dataset(m=40)
    model = _flower_model()
    before = _untouched(model)
    sgd = optim.SGD(model.parameters(), lr=0.5)
    with pytest.raises(gg.ArgumentError, match=r"fit's dev_data: X \(0, 2\) and Y \(0, 1\) "
                                               r"hold no examples"):
        gg.fit(model, nn.binary_cross_entropy_with_logits, sgd, (X, Y), epochs=2,
               dev_data=(X[:0], Y[:0]), patience=1, progress=False)
    with pytest.raises(gg.ShapeError, match=r"fit's dev_data: X \(5, 2\) and Y \(4, 1\)"):
        gg.fit(model, nn.binary_cross_entropy_with_logits, sgd, (X, Y), epochs=2,
               dev_data=(X[:5], Y[:4]), progress=False)
    assert all(np.array_equal(a, p.data) for a, p in zip(before, model.parameters()))
    with pytest.raises(gg.ArgumentError, match=r"evaluate: .* hold no examples"):
        evaluate(model, nn.binary_cross_entropy_with_logits, X[:0], Y[:0])


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning",
                            "ignore:invalid value:RuntimeWarning")
def test_with_patience_a_run_that_diverges_ends_with_the_best_epochs_parameters():
    """The learning rate jumps to 1e9 at epoch 8: the cost explodes, and the model is given
    back the parameters of the epoch with the lowest dev cost before the error is raised."""
    X, y = make_moons(n_samples=200, noise=0.35, random_state=0)
    Y = np.eye(2)[y]
    nn.init.seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    with pytest.raises(TrainingDiverged) as caught:
        gg.fit(model, nn.mse, optim.SGD(model.parameters(), lr=0.05), (X[:100], Y[:100]),
               epochs=20, dev_data=(X[100:], Y[100:]), patience=5, progress=False,
               schedule=lambda epoch: 0.05 if epoch < 8 else 1e9)
    dev_costs = caught.value.history["dev_cost"]
    best = int(np.argmin(dev_costs))
    assert f"the parameters of epoch {best}, the one with the lowest dev cost" in str(
        caught.value)
    assert evaluate(model, nn.mse, X[100:], Y[100:])[0] == dev_costs[best]


COPIES = {"copy": copy.copy, "deepcopy": copy.deepcopy,
          **{f"pickle {p}": lambda e, p=p: pickle.loads(pickle.dumps(e, protocol=p))
             for p in range(2, pickle.HIGHEST_PROTOCOL + 1)}}


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning",
                            "ignore:invalid value:RuntimeWarning")
@pytest.mark.parametrize("how", COPIES)
def test_the_training_errors_copy_and_pickle_with_their_history(how):
    """A run in a worker process reaches the parent pickled: Exception's pickle passes the
    message alone, and rebuilding the error failed for want of its history."""
    X, Y = np.array([[1.0], [2.0]]), np.array([[2.0], [4.0]])
    model = nn.Sequential(nn.Linear(1, 1, rng=0))
    with pytest.raises(TrainingDiverged) as caught:
        gg.fit(model, nn.mse, optim.SGD(model.parameters(), lr=1e200), (X, Y), epochs=3,
               progress=False)
    diverged = caught.value
    diverged.add_note("seed 0")
    twin = COPIES[how](diverged)
    assert type(twin) is TrainingDiverged and str(twin) == str(diverged)
    assert twin.__notes__ == ["seed 0"]
    np.testing.assert_equal(twin.history, diverged.history)  # NaNs compared as equal
    stopped = gg.train.TrainingInterrupted("2 epochs finished", {"cost": [0.5, 0.25]}, 2)
    twin = COPIES[how](stopped)
    assert type(twin) is gg.train.TrainingInterrupted and str(twin) == "2 epochs finished"
    assert twin.history == {"cost": [0.5, 0.25]} and twin.next_epoch == 2


def test_a_nan_gradient_of_a_finite_cost_stops_training_before_the_step():
    """RMSE at an exact fit: the cost is 0, but d sqrt(u)/du is infinite at u = 0, so the
    gradients are NaN; a step would make every parameter NaN."""
    X, Y = np.array([[1.0], [2.0]]), np.array([[2.0], [4.0]])
    model = nn.Sequential(nn.Linear(1, 1, rng=0))
    model.linear1.W.data, model.linear1.b.data = np.array([[2.0]]), np.array([0.0])

    def rmse(Z, Y_batch):
        return gg.sqrt(nn.mse(Z, Y_batch))

    with np.errstate(all="ignore"), pytest.raises(TrainingDiverged, match=(
            r"gradient of parameter 'linear1\.W' \(1, 1\) holds NaN or Inf at epoch 0, "
            r"batch 0, though the cost 0 is finite")) as caught:
        gg.fit(model, rmse, optim.SGD(model.parameters(), lr=0.1), (X, Y), epochs=3,
               progress=False)
    assert caught.value.history["cost"] == []
    assert model.linear1.W.data.tolist() == [[2.0]] and model.linear1.b.data.tolist() == [0.0]


def test_large_finite_float32_gradients_train_without_an_overflow_warning():
    """Gradients of 3e36 in 200 weights are finite in float32 (up to 3.4e38), but their sum,
    fit's quick test for NaN and Inf, overflows: that is no divergence, and numpy's 'overflow
    encountered in reduce' came from fit (an error under -W error) though nothing was wrong."""
    X, Y = np.ones((4, 200), np.float32), np.zeros((4, 1), np.float32)
    model = nn.Sequential(nn.Linear(200, 1, init="zeros", dtype=np.float32))

    def huge(Z, Y_batch):
        return Z.mean() * 3e36  # the cost is 0 at W = 0; dW is 3e36 everywhere

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gg.fit(model, huge, optim.SGD(model.parameters(), lr=1e-37), (X, Y), epochs=1,
               batch_size=4, progress=False)
    W = model.linear1.W.data
    assert W.dtype == np.float32
    np.testing.assert_array_equal(W, np.full((1, 200), np.float32(-1e-37) * np.float32(3e36)))


def test_fit_and_evaluate_put_back_each_modules_own_mode():
    X = np.random.default_rng(0).standard_normal((32, 2))
    Y = (X[:, :1] > 0).astype(float)
    model = nn.Sequential(nn.Linear(2, 4, rng=0), nn.BatchNorm1d(4), nn.Tanh(),
                          nn.Linear(4, 1, rng=1))
    model.batchnorm1.eval()  # frozen batch statistics
    modes = [m.training for m in model.modules()]
    assert modes == [True, True, False, True, True]
    evaluate(model, nn.binary_cross_entropy_with_logits, X, Y)
    assert [m.training for m in model.modules()] == modes
    gg.fit(model, nn.binary_cross_entropy_with_logits, optim.SGD(model.parameters(), lr=0.1),
           (X, Y), epochs=2, progress=False, dev_data=(X, Y))
    assert [m.training for m in model.modules()] == modes
    # it trained frozen: normalised by its running statistics, which it kept
    np.testing.assert_array_equal(model.batchnorm1.running_mean, np.zeros(4))
    np.testing.assert_array_equal(model.batchnorm1.running_var, np.ones(4))


def test_fit_trains_a_model_left_in_eval_mode_and_puts_the_mode_back():
    X = np.random.default_rng(0).standard_normal((32, 2))
    Y = (X[:, :1] > 0).astype(float)
    model = nn.Sequential(nn.Linear(2, 4, rng=0), nn.BatchNorm1d(4), nn.Tanh(),
                          nn.Linear(4, 1, rng=1))
    model.eval()  # as after predicting
    gg.fit(model, nn.binary_cross_entropy_with_logits, optim.SGD(model.parameters(), lr=0.1),
           (X, Y), epochs=1, batch_size=32, progress=False)
    Z1 = nn.Linear(2, 4, rng=0)(X).data  # linear1 before its one step
    np.testing.assert_allclose(model.batchnorm1.running_mean, 0.1 * Z1.mean(axis=0),
                               rtol=1e-12)
    assert not any(m.training for m in model.modules())


@pytest.mark.parametrize("shape", [(1,), (1, 1)])
def test_a_one_element_cost_of_any_shape_is_the_cost(shape):
    """The course's cost, np.sum(..., axis=1, keepdims=True) / m, has shape (1, 1)."""
    X, Y = planar_dataset(m=40)
    model = _flower_model()

    def squared_error(Z, Y_batch):
        return (((Z - Y_batch) ** 2).sum() / len(Y_batch)).reshape(shape)

    history = gg.fit(model, squared_error, optim.SGD(model.parameters(), lr=1e-300), (X, Y),
                     epochs=1, batch_size=40, progress=False)
    expected = np.sum((model(X).data - Y) ** 2) / 40  # parameters too close to move
    assert history["cost"] == [pytest.approx(expected, rel=1e-12)]


def _linear_model_and_sgd():
    model = nn.Sequential(nn.Linear(2, 1, rng=0))
    return model, optim.SGD(model.parameters(), lr=0.1)


def test_data_as_a_list_of_X_and_Y_is_data_as_a_tuple():
    X, Y = planar_dataset(m=40)
    histories, weights = [], []
    for data in ((X, Y), [X, Y]):
        model, sgd = _linear_model_and_sgd()
        histories.append(gg.fit(model, nn.mse, sgd, data, epochs=3, batch_size=10,
                                progress=False))
        weights.append(model.linear1.W.data)
    assert histories[0] == histories[1] and len(histories[0]["cost"]) == 3
    np.testing.assert_array_equal(weights[0], weights[1])


def test_two_batches_in_a_tuple_are_two_batches_not_X_and_Y():
    """((X1, Y1), (X2, Y2)) is a re-iterable of pairs, as the list is; read as (X, Y) it
    would train on two 'examples' of shape (32, 1)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 1))
    pairs = [(X[:32], 3 * X[:32]), (X[32:], 3 * X[32:])]
    histories = []
    for data in (pairs, tuple(pairs)):
        model = nn.Sequential(nn.Linear(1, 1, rng=0))
        histories.append(gg.fit(model, nn.mse, optim.SGD(model.parameters(), lr=0.1), data,
                                epochs=2, progress=False))
    assert histories[0] == histories[1]
    rows = [[0.0, 1.0], [1.0, 0.0]]  # [X, Y] with X a list of rows is (X, Y)
    model = nn.Sequential(nn.Linear(2, 1, rng=0))
    history = gg.fit(model, nn.mse, optim.SGD(model.parameters(), lr=0.1),
                     [rows, [[1.0], [0.0]]], epochs=1, batch_size=2, progress=False)
    expected = nn.Sequential(nn.Linear(2, 1, rng=0))(np.array(rows))
    assert history["cost"][0] == pytest.approx(
        np.mean((expected.data - [[1.0], [0.0]]) ** 2), rel=1e-12)


@pytest.mark.parametrize("epochs, initial_epoch, passes", [(3, 0, 3), (2, 0, 2), (5, 2, 3)])
def test_a_one_shot_iterator_of_batches_is_refused_for_several_epochs(epochs, initial_epoch,
                                                                      passes):
    X, Y = planar_dataset(m=40)

    def batches():
        return ((X[k:k + 10], Y[k:k + 10]) for k in range(0, 40, 10))

    model, sgd = _linear_model_and_sgd()
    before = _untouched(model)
    with pytest.raises(gg.ArgumentError, match=r"iterator .* gives its batches only once, but "
                                               rf"epochs={passes} needs them every epoch; pass"):
        gg.fit(model, nn.mse, sgd, batches(), epochs=epochs, initial_epoch=initial_epoch,
               progress=False)
    assert all(np.array_equal(a, p.data) for a, p in zip(before, model.parameters()))
    resumed = gg.fit(model, nn.mse, sgd, batches(), epochs=4, initial_epoch=3, progress=False)
    assert len(resumed["cost"]) == 1  # a resumed run of one epoch needs the batches once
    model, sgd = _linear_model_and_sgd()
    one_epoch = gg.fit(model, nn.mse, sgd, batches(), epochs=1, progress=False)
    listed_model, listed_sgd = _linear_model_and_sgd()
    listed = gg.fit(listed_model, nn.mse, listed_sgd, list(batches()), epochs=1, progress=False)
    assert len(one_epoch["cost"]) == 1 and one_epoch == listed  # one epoch is fine


def test_a_batch_that_is_not_a_pair_is_named():
    X, Y = planar_dataset(m=40)
    model, sgd = _linear_model_and_sgd()
    with pytest.raises(gg.ArgumentError, match=r"batch 0 of data \(ndarray of shape "
                                               r"\(40, 2\)\) is not an \(X_batch, Y_batch\) pair"):
        gg.fit(model, nn.mse, sgd, [X, Y, X], epochs=1, progress=False)


def test_fit_refuses_an_optimizer_of_another_models_parameters():
    """It would step the other model: the cost would stay where it is, epoch after epoch."""
    X, Y = planar_dataset(m=20)
    model, _ = _linear_model_and_sgd()
    _, other = _linear_model_and_sgd()
    with pytest.raises(gg.ArgumentError, match=r"the optimizer's 2 parameters are none of the "
                                               r"model's 2.*optim.SGD\(model.parameters\(\)"):
        gg.fit(model, nn.mse, other, (X, Y), epochs=1, progress=False)
    with pytest.raises(gg.GraphgradTypeError, match="optimizer must be an optimizer"):
        gg.fit(model, nn.mse, 0.1, (X, Y), epochs=1, progress=False)
    frozen_head = nn.Sequential(nn.Linear(2, 3, rng=0), nn.Linear(3, 1, rng=1))
    head_only = optim.SGD(frozen_head.linear2.parameters(), lr=0.1)  # some of them: fine
    W = frozen_head.linear2.W.data.copy()
    gg.fit(frozen_head, nn.mse, head_only, (X, Y), epochs=1, progress=False)
    assert not np.array_equal(W, frozen_head.linear2.W.data)


def test_fit_and_evaluate_refuse_a_model_or_loss_of_the_wrong_kind_by_name():
    """Python's AttributeError ('function' object has no attribute 'named_parameters') and
    TypeError ('int' object is not callable) came out of them."""
    X, Y = planar_dataset(m=20)
    model, sgd = _linear_model_and_sgd()
    W = model.linear1.W.data.copy()
    module = r"model must be an nn\.Module, such as nn\.Sequential\(nn\.Linear\(n_x, 1\)\), got "
    own = r"; a function of your own goes in a Module subclass's forward$"
    for caller, call in [("fit", lambda m, loss: gg.fit(m, loss, sgd, (X, Y), epochs=1,
                                                        progress=False)),
                         ("evaluate", lambda m, loss: evaluate(m, loss, X, Y))]:
        with pytest.raises(gg.GraphgradTypeError, match=rf"^{caller}: {module}function{own}"):
            call(lambda X: model(X), nn.mse)
        with pytest.raises(gg.GraphgradTypeError, match=(
                rf"^{caller}: {module}the class Linear, not a model made of it{own}")):
            call(nn.Linear, nn.mse)
        with pytest.raises(gg.GraphgradTypeError, match=(
                rf"^{caller}: loss_fn must be a function loss_fn\(outputs, Y_batch\) -> J, such "
                r"as nn\.cross_entropy, got 'mse'$")):
            call(model, "mse")
    with pytest.raises(gg.GraphgradTypeError, match=(
            r"^fit: schedule must be a function of the epoch giving its learning rate, such as "
            r"optim\.ExponentialDecay\(0\.1\), or None, got 0\.1; a fixed rate is the "
            r"optimizer's lr$")):
        gg.fit(model, nn.mse, sgd, (X, Y), epochs=1, schedule=0.1, progress=False)
    np.testing.assert_array_equal(model.linear1.W.data, W)  # refused before any step


@pytest.mark.parametrize("loss_fn, inputs", [
    (nn.GaussianNLLLoss(), "predictions, targets, var"),
    (nn.CosineEmbeddingLoss(), "x1, x2, target"),
    (nn.TripletMarginLoss(), "anchor, positive, negative"),
    (nn.MarginRankingLoss(), "input1, input2, target"),
    (nn.triplet_margin_loss, "anchor, positive, negative"),
    (lambda A: nn.mse(A, A), "A"),
], ids=["GaussianNLLLoss", "CosineEmbeddingLoss", "TripletMarginLoss", "MarginRankingLoss",
        "triplet_margin_loss", "one input"])
def test_fit_and_evaluate_refuse_a_loss_that_takes_other_than_outputs_and_labels(loss_fn, inputs):
    """fit and evaluate call loss_fn(outputs, Y_batch): a loss module of three inputs failed
    inside with Python's 'forward() missing 1 required positional argument'."""
    X, Y = planar_dataset(m=20)
    model, sgd = _linear_model_and_sgd()
    W = model.linear1.W.data.copy()
    for caller, call in [("fit", lambda: gg.fit(model, loss_fn, sgd, (X, Y), epochs=1,
                                                progress=False)),
                         ("evaluate", lambda: evaluate(model, loss_fn, X, Y))]:
        with pytest.raises(gg.GraphgradTypeError, match=(
                rf"^{caller}: loss_fn .* takes \({inputs}\), but {caller} calls it as "
                r"loss_fn\(outputs, Y_batch\).*\(functools\.partial")):
            call()
    np.testing.assert_array_equal(model.linear1.W.data, W)
    partial = functools.partial(nn.gaussian_nll_loss, var=1.0)  # the rest given: it runs
    assert np.isfinite(evaluate(model, partial, X, Y)[0])


def test_fit_refuses_an_optimizer_made_before_a_layer_was_replaced():
    """The optimizer stepped the old head, which got no gradients, and never the new one:
    training went on with a head left at its initial values, and no error."""
    X, Y = planar_dataset(m=20)
    model = nn.Sequential(nn.Linear(2, 3, rng=0), nn.Tanh(), nn.Linear(3, 1, rng=1))
    sgd = optim.SGD(model.parameters(), lr=0.1)
    gg.fit(model, nn.mse, sgd, (X, Y), epochs=1, progress=False)
    model.linear2 = nn.Linear(3, 1, rng=2)  # a new head
    before = {name: p.data.copy() for name, p in model.named_parameters()}
    with pytest.raises(gg.ArgumentError, match=r"fit: the model's linear2\.W, linear2\.b "
                       r"require grad but are not the optimizer's, and 2 of the optimizer's "
                       r"\('W' \(1, 3\) float64, \.\.\.\) are no longer the model's: was a "
                       r"layer replaced .* Make a new optimizer"):
        gg.fit(model, nn.mse, sgd, (X, Y), epochs=1, progress=False)
    assert sgd.t == 1
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(p.data, before[name])
    # Added to the optimizer, the new head takes the step of one batch of gradient descent.
    sgd.add_param_group({"params": model.linear2.parameters()})
    model.zero_grad()  # the gradients of fit's last step
    nn.mse(model(X), Y).backward()
    expected = {name: p.data - 0.1 * p.grad for name, p in model.named_parameters()}
    model.zero_grad()
    gg.fit(model, nn.mse, sgd, (X, Y), epochs=1, batch_size=20, progress=False)
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.data, expected[name], rtol=1e-12, err_msg=name)
    # A new head frozen on purpose is fine too: the optimizer has nothing to miss.
    model.linear2 = nn.Linear(3, 1, rng=3).requires_grad_(False)
    gg.fit(model, nn.mse, sgd, (X, Y), epochs=1, progress=False)


def test_fit_leaves_the_last_batchs_gradient_in_a_layer_the_optimizer_does_not_hold():
    """A layer left out of the optimizer (not frozen) kept the sum of every step's gradient:
    20 times the last one's after 20 steps, which the first step of an optimizer it was then
    added to applied whole."""
    X = np.random.default_rng(0).standard_normal((16, 3))
    Y = np.random.default_rng(1).standard_normal((16, 2))
    model = nn.Sequential(nn.Linear(3, 4, rng=1), nn.Tanh(), nn.Linear(4, 2, rng=2))
    reference = copy.deepcopy(model)
    head_only = optim.SGD(model.linear2.parameters(), lr=0.1)
    gg.fit(model, nn.mse, head_only, (X, Y), epochs=3, batch_size=16, progress=False)
    # The same three steps by hand: the backbone's gradient of the last one, at its head.
    for _ in range(3):
        reference.zero_grad()
        nn.mse(reference(X), Y).backward()
        last = reference.linear1.W.grad
        for p in reference.linear2.parameters():
            p.data = p.data - 0.1 * p.grad
    np.testing.assert_allclose(model.linear2.W.data, reference.linear2.W.data, rtol=1e-12)
    np.testing.assert_allclose(model.linear1.W.grad, last, rtol=1e-12)
    # Added to the optimizer, the backbone's first step is one batch's.
    head_only.add_param_group({"params": model.linear1.parameters()})
    W = model.linear1.W.data.copy()
    head_only.step()
    np.testing.assert_allclose(model.linear1.W.data, W - 0.1 * last, rtol=1e-12)


def test_fit_on_no_examples_says_so_with_the_shape():
    model, sgd = _linear_model_and_sgd()
    with pytest.raises(gg.ArgumentError, match=r"the data gave no batches: X of shape \(0, 2\) "
                                               "holds no examples"):
        gg.fit(model, nn.mse, sgd, (np.zeros((0, 2)), np.zeros((0, 1))), epochs=1,
               progress=False)


def test_argmax_accuracy_of_one_output_per_example_is_refused_not_always_one():
    """accuracy(A, Y) on a yes/no model's (m, 1) output: the argmax of one score is always 0
    and so is the argmax of each (m, 1) label, so the default kind had reported 1.0 whatever
    the model predicted."""
    outputs, labels = np.array([[2.0], [-1.0], [3.0]]), np.array([[0], [0], [1]])
    with pytest.raises(gg.ArgumentError, match=r"kind='argmax'.*outputs \(3, 1\) have one.*"
                                               r"kind='logits'"):
        gg.train.accuracy(outputs, labels)
    assert gg.train.accuracy(outputs, labels, "logits") == pytest.approx(2 / 3)
    model = _flower_model()
    X, Y = planar_dataset(m=20)
    with pytest.raises(gg.ArgumentError, match=r"kind='argmax'"):
        gg.fit(model, nn.binary_cross_entropy_with_logits, optim.SGD(model.parameters(), lr=0.1),
               (X, Y), epochs=1, accuracy="argmax", progress=False)


# -- an interrupt (Ctrl-C) ----------------------------------------------------------------------
class _Bar:
    """A stand-in for fit's progress bar that records in ``made`` whether it was closed. Like
    tqdm's bars, it closes itself when dropped (an interrupt as it was made, before fit holds
    it)."""

    def __init__(self, made):
        self.record = {"closed": False}
        made.append(self.record)

    def set_postfix(self, *args, **kwargs):
        pass

    def update(self, n):
        pass

    def close(self):
        self.record["closed"] = True

    __del__ = close


def _interrupting_loss(at_call, dev):
    """The course's cost, with a KeyboardInterrupt raised at its ``at_call``-th call during
    training (``dev=False``) or during the dev set's evaluation (``dev=True``)."""
    calls = [0]

    def loss(Z, Y):
        if gg.is_grad_enabled() != dev:
            calls[0] += 1
            if calls[0] == at_call:
                raise KeyboardInterrupt
        return nn.binary_cross_entropy_with_logits(Z, Y)
    return loss


@pytest.mark.parametrize("dev, at_call, finished", [
    (False, 10, 2),  # the second batch of epoch 2 (4 batches an epoch)
    (True, 2, 1),    # the dev set of epoch 1, after its training cost was recorded
])
def test_an_interrupted_fit_raises_with_the_finished_epochs_and_resumes(monkeypatch, dev,
                                                                       at_call, finished):
    made = []
    monkeypatch.setattr(gg.train, "_progress_bar", lambda *args: _Bar(made))
    X, Y = planar_dataset(m=100)
    whole = _flower_model()
    whole_history = gg.fit(whole, nn.binary_cross_entropy_with_logits,
                           optim.SGD(whole.parameters(), lr=0.05), (X, Y), 3, (X, Y),
                           batch_size=25, shuffle=False)
    model = _flower_model()
    model.eval()  # left in eval mode after predicting
    sgd = optim.SGD(model.parameters(), lr=0.05)
    with pytest.raises(gg.train.TrainingInterrupted, match=rf"{finished} epochs? finished.*"
                       rf"initial_epoch={finished}") as info:
        gg.fit(model, _interrupting_loss(at_call, dev), sgd, (X, Y), 3, (X, Y), batch_size=25,
               shuffle=False, accuracy="logits")
    assert isinstance(info.value, KeyboardInterrupt)
    assert info.value.next_epoch == finished
    assert info.value.history == {key: values[:finished]
                                  for key, values in whole_history.items()}
    assert [m.training for m in model.modules()] == [False] * len(list(model.modules()))
    assert gg.is_grad_enabled() and made == [{"closed": True}] * 2
    history = gg.fit(model, nn.binary_cross_entropy_with_logits, sgd, (X, Y), 3, (X, Y),
                     batch_size=25, shuffle=False, initial_epoch=info.value.next_epoch)
    assert len(history["cost"]) == 3 - finished and math.isfinite(history["dev_cost"][-1])


def test_an_error_in_a_later_epoch_keeps_the_history_and_a_resumed_fit_ends_as_the_whole():
    """A schedule whose rate goes below 0 in epoch 3: the error came after three epochs of
    training, whose history it now holds, and resuming from them with the schedule fixed ends
    exactly where a run that never failed ends."""
    X, Y = planar_dataset(m=100)

    def fixed(epoch):
        return max(0.1 - 0.04 * epoch, 0.01)

    def run(model, schedule, epochs=5, initial_epoch=0):
        return gg.fit(model, nn.binary_cross_entropy_with_logits,
                      optim.SGD(model.parameters(), lr=0.1), (X, Y), epochs, batch_size=25,
                      shuffle=False, schedule=schedule, progress=False,
                      initial_epoch=initial_epoch)

    whole = _flower_model()
    whole_history = run(whole, fixed)
    model = _flower_model()
    with pytest.raises(gg.ArgumentError, match=r"schedule\(3\) must be a learning rate(.|\n)*"
                       r"fit stopped in epoch 3, after 12 optimizer steps, with 3 epochs "
                       r"finished(.|\n)*"
                       r"initial_epoch=3") as info:
        run(model, lambda epoch: 0.1 - 0.04 * epoch)  # -0.02 in epoch 3
    assert info.value.next_epoch == 3
    assert info.value.history == {key: values[:3] for key, values in whole_history.items()}
    assert model.training
    history = run(model, fixed, initial_epoch=info.value.next_epoch)
    assert history == {key: values[3:] for key, values in whole_history.items()}
    for (name, p), q in zip(model.named_parameters(), whole.parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)
    # An error within an epoch: the epochs before it are kept, not the one it cut short.
    calls = [0]

    def failing_loss(Z, Y):
        calls[0] += 1
        if calls[0] == 6:  # the second batch of epoch 1 (4 batches an epoch)
            raise gg.ShapeError("a batch that does not fit")
        return nn.binary_cross_entropy_with_logits(Z, Y)
    model = _flower_model()
    with pytest.raises(gg.ShapeError, match=r"does not fit\n  fit stopped in epoch 1, after 5 "
                                            r"optimizer steps, with 1 epoch finished") as info:
        gg.fit(model, failing_loss, optim.SGD(model.parameters(), lr=0.1), (X, Y), 5,
               batch_size=25, shuffle=False, schedule=fixed, progress=False, accuracy="logits")
    assert info.value.history == {key: values[:1] for key, values in whole_history.items()}
    assert info.value.next_epoch == 1
    calls[0] = 5  # in the first batch: no step changed the model, and the error says no more
    with pytest.raises(gg.ShapeError, match=r"does not fit$") as info:
        gg.fit(model, failing_loss, optim.SGD(model.parameters(), lr=0.1), (X, Y), 5,
               progress=False)
    assert info.value.history["cost"] == [] and info.value.next_epoch == 0


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning",
                            "ignore:invalid value:RuntimeWarning")
@pytest.mark.parametrize("patience", [None, 10])
def test_a_run_that_diverges_in_a_later_epoch_says_the_epoch_to_resume_from(patience):
    """The rate jumps to 1e200 in epoch 3 of a run resumed at epoch 1: the first step of epoch
    3 makes W about 1e200, and the cost (W x - y)**2 of the second batch Inf. TrainingDiverged,
    like fit's other errors, holds the two epochs finished and next_epoch = 1 + 2, where it had
    no next_epoch (an AttributeError for `fit(..., initial_epoch=error.next_epoch)`)."""
    X, Y = planar_dataset(m=100)

    def run(model, schedule, epochs, initial_epoch=0):
        return gg.fit(model, nn.mse, optim.SGD(model.parameters(), lr=0.1), (X, Y), epochs,
                      (X, Y), batch_size=25, shuffle=False, schedule=schedule, progress=False,
                      initial_epoch=initial_epoch, patience=patience, accuracy="logits")

    whole_history = run(nn.Sequential(nn.Linear(2, 1, rng=0)), lambda epoch: 0.1, 3)
    model = nn.Sequential(nn.Linear(2, 1, rng=0))
    run(model, lambda epoch: 0.1, 1)
    with pytest.raises(TrainingDiverged) as info:
        run(model, lambda epoch: 0.1 if epoch < 3 else 1e200, 6, initial_epoch=1)
    assert info.value.next_epoch == 3
    assert info.value.history == {key: values[1:3] for key, values in whole_history.items()}
    if patience is None:  # 2 epochs of 4 batches, and the first batch of epoch 3
        assert str(info.value).endswith(
            "fit stopped in epoch 3, after 9 optimizer steps, with 2 epochs finished (their "
            "history is this error's .history); the model keeps the parameters of its last "
            "step. Once this is fixed, call fit again with initial_epoch=3 to go on.")
    else:
        assert "the parameters of epoch 2, the one with the lowest dev cost" in str(info.value)


def test_an_interrupt_anywhere_in_fit_leaves_the_modes_as_they_were_and_the_bar_closed(
        monkeypatch):
    made = []
    monkeypatch.setattr(gg.train, "_progress_bar", lambda *args: _Bar(made))
    X, Y = planar_dataset(m=20)
    model = _flower_model()
    model.eval()
    sgd = optim.SGD(model.parameters(), lr=0.05)

    def block():
        gg.fit(model, nn.binary_cross_entropy_with_logits, sgd, (X, Y), 2, (X, Y),
               batch_size=10, patience=2)

    places = 0
    for at in interrupted_after_each_call(gg.train.fit.__code__, block):
        places += 1
        assert not any(m.training for m in model.modules()), f"interrupted at {at}"
        gc.collect()
        assert all(bar["closed"] for bar in made), f"interrupted at {at}"
        assert gg.is_grad_enabled(), f"interrupted at {at}"
    assert places > 20


def test_fit_and_evaluate_given_each_examples_loss_say_to_reduce_it_in_loss_fn():
    """A loss with reduction="none" gives one loss per example, (m,), where fit and evaluate
    take the cost J: each says so by name, and how to reduce them."""
    X, Y = make_moons(n_samples=20, random_state=0)
    model = nn.Linear(2, 2)
    each = functools.partial(nn.cross_entropy, reduction="none")
    expected = (r"^{}: loss_fn must return the cost J as a one-element Tensor, got Tensor of "
                r"shape \({},\); .*losses with reduction=\"none\".*\.mean\(\)")
    with pytest.raises(gg.GraphgradError, match=expected.format("fit", 5)):
        gg.fit(model, each, optim.SGD(model.parameters(), lr=0.1), (X, Y), epochs=1,
               batch_size=5, progress=False)
    with pytest.raises(gg.GraphgradError, match=expected.format("evaluate", 20)):
        evaluate(model, each, X, Y)
    weighted = lambda Z, Y: (nn.cross_entropy(Z, Y, reduction="none") * 2.0).mean()  # noqa: E731
    cost, _ = evaluate(model, weighted, X, Y)
    assert cost == pytest.approx(2 * evaluate(model, nn.cross_entropy, X, Y)[0], rel=1e-12)
