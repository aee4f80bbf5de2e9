"""Data: mini-batches like the course's random_mini_batches, the loader, standardisation,
splits, one-hot labels and the planar flower data set."""
import copy
import pickle
import re

import numpy as np
import pytest

import graphgrad as gg
from graphgrad import data, nn, optim
from graphgrad.data import (
    DataLoader,
    Standardizer,
    minibatches,
    one_hot,
    planar_dataset,
    standardize,
    train_dev_test_split,
)

M = 148
X = np.arange(M * 3, dtype=float).reshape(M, 3)
Y = np.arange(M).reshape(M, 1) % 2  # row i of X starts with 3 i: pairs stay checkable


def _aligned(Xb, Yb):
    return np.array_equal(Yb[:, 0], (Xb[:, 0] // 3) % 2)


def test_minibatches_keep_the_last_partial_batch_and_every_example_once():
    batches = minibatches(X, Y, batch_size=64, seed=0)
    assert [len(Xb) for Xb, _ in batches] == [64, 64, 20]  # 148 = 2 * 64 + 20
    rows = np.concatenate([Xb[:, 0] // 3 for Xb, _ in batches])
    assert sorted(rows) == list(range(M))
    assert not np.array_equal(rows, np.arange(M))  # shuffled
    assert all(_aligned(Xb, Yb) for Xb, Yb in batches)


def test_minibatches_can_drop_the_last_partial_batch():
    batches = minibatches(X, Y, batch_size=64, seed=0, drop_last=True)
    assert [len(Xb) for Xb, _ in batches] == [64, 64]  # the 20 left over are left out
    kept = minibatches(X, Y, batch_size=64, seed=0)
    assert all(np.array_equal(a, b) for (a, _), (b, _) in zip(batches, kept))  # same order
    assert all(_aligned(Xb, Yb) for Xb, Yb in batches)
    exact = minibatches(X, Y, batch_size=37, seed=0, drop_last=True)  # 148 = 4 * 37
    assert sorted(np.concatenate([Xb[:, 0] // 3 for Xb, _ in exact])) == list(range(M))
    assert minibatches(X, Y, batch_size=200, drop_last=True) == []


def test_minibatches_are_reproducible_and_can_keep_the_order():
    a = minibatches(X, Y, batch_size=50, seed=3)
    b = minibatches(X, Y, batch_size=50, seed=3)
    c = minibatches(X, Y, batch_size=50, seed=4)
    assert all(np.array_equal(x, y) for (x, _), (y, _) in zip(a, b))
    assert not np.array_equal(a[0][0], c[0][0])
    ordered = minibatches(X, Y, batch_size=50, shuffle=False)
    np.testing.assert_array_equal(np.concatenate([Xb for Xb, _ in ordered]), X)


def test_minibatches_explain_the_course_layout():
    with pytest.raises(gg.ShapeError, match=r"X\.T and Y\.T"):
        minibatches(X.T, Y.T)


def test_loader_reshuffles_each_epoch_reproducibly():
    loader = DataLoader(X, Y, batch_size=64, seed=5)
    assert len(loader) == 3 and loader.m == M
    first = [Xb.copy() for Xb, _ in loader]
    second = [Xb.copy() for Xb, _ in loader]
    assert not np.array_equal(first[0], second[0])
    again = DataLoader(X, Y, batch_size=64, seed=5)
    assert all(np.array_equal(a, b) for a, (b, _) in zip(first, again))
    assert all(_aligned(Xb, Yb) for Xb, Yb in loader)


def test_loader_can_drop_each_epochs_last_partial_batch():
    loader = DataLoader(X, Y, batch_size=64, seed=5, drop_last=True)
    assert len(loader) == 2
    epochs = [[Xb[:, 0] // 3 for Xb, _ in loader] for _ in range(2)]
    assert all([len(rows) for rows in epoch] == [64, 64] for epoch in epochs)
    left_out = [set(range(M)) - set(np.concatenate(epoch)) for epoch in epochs]
    assert [len(rows) for rows in left_out] == [20, 20]
    assert left_out[0] != left_out[1]  # reshuffled: a different 20 each epoch
    assert len(DataLoader(X, Y, batch_size=37, drop_last=True)) == 4
    assert len(DataLoader(X, Y, batch_size=200, drop_last=True)) == 0


def test_standardize_uses_the_training_statistics_everywhere():
    rng = np.random.default_rng(0)
    train = rng.normal([5.0, -3.0, 7.0], [2.0, 0.5, 0.0], size=(200, 3))
    dev = rng.normal([5.0, -3.0, 7.0], [2.0, 0.5, 0.0], size=(50, 3))
    train_std, dev_std = standardize(train, dev)
    np.testing.assert_allclose(train_std[:, :2].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(train_std[:, :2].std(axis=0), 1, rtol=1e-12)
    expected = (dev - train.mean(axis=0))[:, :2] / train.std(axis=0)[:2]
    np.testing.assert_allclose(dev_std[:, :2], expected, rtol=1e-12)
    assert np.isfinite(dev_std).all() and not train_std[:, 2].any()  # a constant feature
    with pytest.raises(gg.ArgumentError, match=r"^Standardizer\.transform: it has no mean and "
                       r"standard deviation yet; call fit\(X_train\) first"):  # a bare error
        Standardizer().transform(dev)
    for no_rows in (np.zeros((0, 3)), np.float64(2.0)):  # no examples, or not in rows
        with pytest.raises(gg.ShapeError, match=r"examples in rows, got shape \((0, 3)?\)"):
            Standardizer().fit(no_rows)


def test_fit_transform_learns_the_statistics_and_standardises_the_same_set():
    X = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 10.0], [7.0, 10.0]])
    scaler = Standardizer()
    X_std = scaler.fit_transform(X)
    # mu = (4, 10), sigma = (sqrt(5), 1): the constant feature keeps sigma = 1 and becomes 0
    np.testing.assert_array_equal(scaler.mean, [4.0, 10.0])
    np.testing.assert_allclose(scaler.std, [np.sqrt(5.0), 1.0], rtol=1e-15)
    np.testing.assert_allclose(X_std[:, 0], np.array([-3.0, -1.0, 1.0, 3.0]) / np.sqrt(5.0),
                               rtol=1e-15)
    assert not X_std[:, 1].any()
    np.testing.assert_array_equal(X_std, scaler.transform(X))


def test_train_dev_test_split_is_disjoint_and_sized():
    (Xtr, Ytr), (Xdv, Ydv), (Xte, Yte) = train_dev_test_split(X, Y, dev=0.1, test=20, seed=0)
    assert (len(Xtr), len(Xdv), len(Xte)) == (M - 15 - 20, 15, 20)
    rows = np.concatenate([Xtr[:, 0], Xdv[:, 0], Xte[:, 0]]) // 3
    assert sorted(rows) == list(range(M))
    assert _aligned(Xtr, Ytr) and _aligned(Xte, Yte)
    with pytest.raises(gg.GraphgradError, match="leave none"):
        train_dev_test_split(X, Y, dev=0.5, test=0.5)


def test_one_hot():
    np.testing.assert_array_equal(one_hot([2, 0, 1], 3), [[0, 0, 1], [1, 0, 0], [0, 1, 0]])
    with pytest.raises(gg.GraphgradError, match=r"0\.\.2"):
        one_hot([3], 3)
    np.testing.assert_array_equal(one_hot(np.array([1.0, 2.0]), 3), [[0, 1, 0], [0, 0, 1]])


@pytest.mark.parametrize("labels, message", [
    ([0, 0.7], r"whole numbers in 0\.\.2, got 0\.7 at position 1"),  # not truncated to class 0
    ([2, np.nan], r"got nan at position 1"),
    ([-1], r"got -1 at position 0"),
    (["a"], r"class indices, got <U1 values"),
])
def test_one_hot_refuses_labels_that_name_no_class(labels, message):
    with pytest.raises(gg.ArgumentError, match=message):
        one_hot(labels, 3)


def test_planar_dataset_is_the_course_flower():
    X_flower, Y_flower = planar_dataset()
    assert X_flower.shape == (400, 2) and Y_flower.shape == (400, 1)
    assert Y_flower.sum() == 200  # two classes of 200 points
    # Each point is (r sin t, r cos t) with r = 4 sin(4 t) + noise of std 0.2: its distance
    # from the origin differs from |4 sin(4 t)| by the radial noise alone.
    t = np.arctan2(X_flower[:, 0], X_flower[:, 1])
    residual = np.hypot(X_flower[:, 0], X_flower[:, 1]) - np.abs(4 * np.sin(4 * t))
    assert np.abs(residual).max() < 5 * 0.2
    assert np.median(np.abs(residual)) == pytest.approx(0.6745 * 0.2, rel=0.2)
    np.testing.assert_array_equal(planar_dataset()[0], X_flower)  # seeded
    # Not linearly separable: no straight line through the origin gets much above chance.
    angles = np.linspace(0, np.pi, 180)
    best = max(np.mean((X_flower @ [np.cos(a), np.sin(a)] > 0) == Y_flower[:, 0])
               for a in angles)
    assert max(best, 1 - best) < 0.75


def test_planar_dataset_without_noise_lies_on_the_course_petals():
    # The course's load_planar_dataset: class j's N = m/2 angles t run evenly over
    # [3.12 j, 3.12 (j + 1)], radius r = 4 sin(4 t), the point (r sin t, r cos t).
    X, Y = planar_dataset(m=10, noise=0.0)
    for j in (0, 1):
        t = np.linspace(j * 3.12, (j + 1) * 3.12, 5)
        r = 4 * np.sin(4 * t)
        np.testing.assert_allclose(X[5 * j:5 * (j + 1)], np.c_[r * np.sin(t), r * np.cos(t)],
                                   rtol=1e-15, atol=1e-15)
        np.testing.assert_array_equal(Y[5 * j:5 * (j + 1)], j)


def test_planar_dataset_gives_m_points_for_an_odd_m_and_refuses_too_few():
    X, Y = planar_dataset(m=401)
    assert X.shape == (401, 2) and Y.shape == (401, 1)
    assert Y.sum() == 201  # class 1 gets the odd one out
    for m in (1, 0, 2.5):
        with pytest.raises(gg.ArgumentError, match="m must be a whole number of at least 2"):
            planar_dataset(m=m)


@pytest.mark.parametrize("batch_size", [2.5, 64.0, None, 0, -3, True, "64"])
def test_a_batch_size_that_is_not_a_whole_number_of_at_least_one_is_refused(batch_size):
    for make in (minibatches, DataLoader):
        if batch_size is None and make is DataLoader:  # PyTorch's unbatched loading
            continue  # (test_datasets: test_batch_size_none_gives_the_examples_one_by_one...)
        with pytest.raises(gg.ArgumentError, match=rf"{make.__name__}: batch_size must be a "
                                                   r"whole number of at least 1, got "):
            make(X, Y, batch_size=batch_size)


def test_a_numpy_integer_batch_size_is_a_batch_size():
    batches = minibatches(X, Y, batch_size=np.int64(64), seed=0)
    assert [len(Xb) for Xb, _ in batches] == [64, 64, 20]
    assert len(DataLoader(X, Y, batch_size=np.int32(50))) == 3


@pytest.mark.parametrize("share", [1.5, float("inf"), float("nan"), -0.1, (0.8, 0.1, 0.1),
                                   "0.1", True, None])
def test_a_share_that_is_neither_a_fraction_nor_a_count_is_refused(share):
    """Not a number (the three shares in one tuple) too, which failed in a comparison."""
    with pytest.raises(gg.ArgumentError, match=r"dev must be a fraction in \[0, 1\) or a whole "
                                               r"count.*dev=0\.1, test=0\.1"):
        train_dev_test_split(X, Y, dev=share, test=0)


def test_a_whole_float_share_is_a_count():
    (_, _), (Xdv, _), (Xte, _) = train_dev_test_split(X, Y, dev=2.0, test=0)
    assert (len(Xdv), len(Xte)) == (2, 0)


@pytest.mark.parametrize("dev, test", [(0.1, 0.1), (0, 0), (2, 0)])
def test_splitting_no_examples_says_there_are_none(dev, test):
    """It said 0.1 of 0 examples needs at least 6, or that 0 dev + 0 test examples leave none
    of the 0 for training."""
    with pytest.raises(gg.ShapeError) as info:
        train_dev_test_split(np.zeros((0, 3)), np.zeros((0, 1)), dev=dev, test=test)
    assert str(info.value) == ("train_dev_test_split: X (0, 3) and Y (0, 1) hold no examples; "
                               "there is nothing to split")


def test_a_positive_share_that_rounds_to_no_examples_is_refused():
    """0.1 of 5 examples is 0.5, which rounds to 0: an empty dev set, whose cost is not a
    number, would follow. 6 examples are the fewest that give one."""
    with pytest.raises(gg.ArgumentError, match=r"dev=0\.1 of 5 examples rounds to no dev "
                                               r"examples; a share of 0\.1 needs at least 6"):
        train_dev_test_split(X[:5], Y[:5], dev=0.1, test=0)
    with pytest.raises(gg.ArgumentError, match=r"test=0\.25 of 2 examples .* at least 3"):
        train_dev_test_split(X[:2], Y[:2], dev=0, test=0.25)
    (_, _), (Xdv, _), (Xte, _) = train_dev_test_split(X[:6], Y[:6], dev=0.1, test=0)
    assert (len(Xdv), len(Xte)) == (1, 0)
    (_, _), (Xdv, _), _ = train_dev_test_split(X[:5], Y[:5], dev=1, test=0)  # a count
    assert len(Xdv) == 1


def test_a_constant_feature_of_large_magnitude_standardises_to_zero():
    """The mean of seven copies of 1e6 + 0.1 is off by rounding, which gives a std of about
    1e-10 instead of 0: the feature is constant all the same."""
    X_train = np.c_[np.random.default_rng(0).standard_normal(7), np.full(7, 1e6 + 0.1)]
    X_dev = np.array([[0.0, 1e6 + 0.11]])
    train_std, dev_std = standardize(X_train, X_dev)
    assert np.array_equal(train_std[:, 1], np.zeros(7))
    assert dev_std[0, 1] == pytest.approx(0.01, rel=1e-6)  # sigma = 1: the raw difference
    assert np.array_equal(standardize(np.full((22, 1), 5280.1))[0], np.zeros((22, 1)))
    np.testing.assert_allclose(train_std[:, 0].std(), 1.0, rtol=1e-12)  # the other still is


def test_standardize_keeps_the_float_dtype_and_computes_in_float64():
    X64 = np.random.default_rng(0).normal(1e4, 1.0, (8, 3))  # float32 alone loses digits here
    X32 = X64.astype(np.float32)
    scaler = Standardizer().fit(X32)
    (std32,) = standardize(X32)
    assert std32.dtype == np.float32
    expected = (X32.astype(np.float64) - X32.astype(np.float64).mean(axis=0)) \
        / X32.astype(np.float64).std(axis=0)
    np.testing.assert_allclose(std32, expected, rtol=1e-6, atol=1e-6)
    assert scaler.transform(X64).dtype == np.float64
    assert scaler.transform(np.ones((2, 3), dtype=int)).dtype == np.float64


_PAIR = (np.arange(20.0).reshape(10, 2), np.arange(10.0).reshape(10, 1))


@pytest.mark.parametrize("call, caller", [
    (lambda seed: data.minibatches(*_PAIR, seed=seed), "minibatches"),
    (lambda seed: data.DataLoader(*_PAIR, seed=seed), "DataLoader"),
    (lambda seed: data.DataLoader(*_PAIR).reseed(seed), "DataLoader.reseed"),
    (lambda seed: data.train_dev_test_split(*_PAIR, seed=seed), "train_dev_test_split"),
    (lambda seed: data.planar_dataset(m=10, seed=seed), "planar_dataset"),
    (lambda seed: nn.Dropout(0.8).reseed(seed), "Dropout.reseed"),
    (lambda seed: gg.fit(nn.Linear(2, 1, rng=0), nn.mse,
                         optim.SGD(nn.Linear(2, 1, rng=0).parameters(), 0.1), _PAIR, 1,
                         seed=seed, progress=False), "fit"),
])
@pytest.mark.parametrize("seed", [2.5, True, -1, "3"])
def test_a_seed_that_is_no_whole_number_is_refused_by_name(call, caller, seed):
    """numpy refuses these deep inside default_rng, with a message about its SeedSequence."""
    with pytest.raises(gg.ArgumentError, match=rf"^{re.escape(caller)}: seed must be None(, | or )"
                                               rf"a whole number >= 0( or a tuple of them)?, got "
                                               rf"{re.escape(repr(seed))}$"):
        call(seed)


@pytest.mark.parametrize("reseed", [lambda seed: data.DataLoader(*_PAIR).reseed(seed),
                                    lambda seed: nn.Dropout(0.8).reseed(seed)])
def test_reseeding_takes_numbers_such_as_seed_and_epoch_and_refuses_a_bad_one_among_them(reseed):
    with pytest.raises(gg.ArgumentError, match=r"reseed: seed must be None, a whole number >= 0 "
                                               r"or a tuple of them, got \(3, -1\)"):
        reseed((3, -1))
    loader = data.DataLoader(*_PAIR, batch_size=10, seed=0)
    loader.reseed((3, 1))
    (X, _), = list(loader)
    order = np.random.default_rng((3, 1)).permutation(10)
    np.testing.assert_array_equal(X, _PAIR[0][order])


def test_init_seed_refuses_a_seed_that_is_no_whole_number_and_keeps_its_generator(monkeypatch):
    monkeypatch.setitem(nn.init._default, "rng", None)  # put back after the test
    nn.init.seed(5)
    with pytest.raises(gg.ArgumentError, match=r"nn.init.seed: value must be None, a whole "
                                               r"number >= 0 or a tuple of them, got 1.5"):
        nn.init.seed(1.5)
    np.testing.assert_array_equal(nn.Linear(3, 2).W.data, nn.Linear(3, 2, rng=5).W.data)


def test_a_numpy_integer_seed_draws_what_the_same_int_does():
    np.testing.assert_array_equal(data.planar_dataset(m=10, seed=np.int64(3))[0],
                                  data.planar_dataset(m=10, seed=3)[0])


_RAGGED = [[1.0, 2.0], [3.0]]


@pytest.mark.parametrize("call, message", [
    (lambda: data.minibatches(_RAGGED, [0, 1]), "minibatches: X cannot be made into an array"),
    (lambda: data.DataLoader(np.ones((2, 2)), _RAGGED), "DataLoader: Y cannot be made into an"),
    (lambda: data.train_dev_test_split(_RAGGED, [0, 1]), "train_dev_test_split: X cannot be"),
    (lambda: data.standardize(_RAGGED), "Standardizer.fit: X cannot be made into an array"),
    (lambda: data.Standardizer().fit(np.ones((2, 2))).transform(_RAGGED),
     "Standardizer.transform: X cannot be made into an array"),
    (lambda: data.one_hot(_RAGGED, 3), "one_hot: labels cannot be made into an array"),
    (lambda: data.standardize(np.array([[1j, 2.0]])),
     r"Standardizer.fit: X must hold numbers, got complex128 values of shape \(1, 2\)"),
    (lambda: data.standardize([["a", "b"]]),
     r"Standardizer.fit: X must hold numbers, got <U1 values of shape \(1, 2\)"),
])
def test_data_that_is_not_an_array_of_numbers_is_named(call, message):
    with pytest.raises(gg.GraphgradTypeError, match=message):
        call()


@pytest.mark.parametrize("call, message", [
    (lambda: data.Standardizer(eps="3"), "Standardizer: eps must be a finite number >= 0, got '3'"),
    (lambda: data.Standardizer(eps=-1e-12), "Standardizer: eps must be a finite number >= 0"),
    (lambda: data.planar_dataset(noise=float("nan")),
     r"planar_dataset: noise \(the jitter's standard deviation\) must be a finite number >= 0, "
     "got nan"),
    (lambda: data.planar_dataset(noise=-0.2), "planar_dataset: noise .* got -0.2"),
    (lambda: data.planar_dataset(noise=[[0.1, 0.2], [0.3]]), "planar_dataset: noise .* got"),
])
def test_data_settings_out_of_range_are_refused_by_name(call, message):
    """A NaN noise made every point NaN; a negative one passed as its opposite."""
    with pytest.raises(gg.ArgumentError, match=message):
        call()


@pytest.mark.parametrize("copier", [
    copy.copy, copy.deepcopy, lambda it: pickle.loads(pickle.dumps(it, protocol=5))])
def test_an_epoch_in_progress_copies_and_pickles_where_it_stands(copier):
    """``iter(loader)`` halfway through an epoch, kept in a training state: its copy gives
    the batches left, where a generator could be neither copied nor pickled."""
    X = np.arange(10.0).reshape(5, 2)
    Y = np.arange(5.0)
    epoch = iter(DataLoader(X, Y, batch_size=2, shuffle=False))
    next(epoch)
    twin = copier(epoch)
    rest = [(Xb.tolist(), Yb.tolist()) for Xb, Yb in twin]
    assert rest == [([[4.0, 5.0], [6.0, 7.0]], [2.0, 3.0]), ([[8.0, 9.0]], [4.0])]
    assert [Yb.tolist() for _, Yb in epoch] == [[2.0, 3.0], [4.0]]  # the original goes on
