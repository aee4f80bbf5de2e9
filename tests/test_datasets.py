"""PyTorch's data sets in graphgrad.data: TensorDataset, Subset, ConcatDataset, random_split,
default_collate, and DataLoader over them (samplers, batch samplers, collate_fn), with fit."""
import collections
import copy
import pickle
import re

import numpy as np
import pytest

import graphgrad as gg
from graphgrad import data, nn, optim
from graphgrad.data import (
    ConcatDataset,
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)

M = 148
X = np.arange(M * 3, dtype=float).reshape(M, 3)  # row i starts with 3 i
Y = np.arange(M) % 5


class Squares(Dataset):
    """Example i: (x = [i, -i] as floats, y = i * i as an int), one call per example."""

    def __init__(self, n):
        self.n, self.calls = n, 0

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        self.calls += 1
        return np.array([i, -i], dtype=float), i * i


def _rows(batches):
    return [(Xb[:, 0] // 3).astype(int).tolist() for Xb, _ in batches]


# -- TensorDataset ---------------------------------------------------------------------------
def test_a_tensor_dataset_gives_each_row_of_each_array():
    ds = TensorDataset(X, Y)
    assert len(ds) == M
    x, y = ds[7]
    np.testing.assert_array_equal(x, [21.0, 22.0, 23.0])
    assert y == 2
    three = TensorDataset(X, Y, -Y)
    assert [int(v) for v in three[7][1:]] == [2, -2]


def test_a_tensor_dataset_refuses_arrays_of_different_lengths_with_the_course_layout_tip():
    with pytest.raises(gg.ShapeError, match=r"^TensorDataset: X \(148, 3\), Y \(147,\) must "
                                            r"have one row per example"):
        TensorDataset(X, Y[:-1])
    with pytest.raises(gg.ShapeError, match=r"X\.T and Y\.T"):
        TensorDataset(X.T, Y.reshape(1, M))  # the course's (n_x, m) and (1, m)
    with pytest.raises(gg.ArgumentError, match=r"^TensorDataset takes one array or more"):
        TensorDataset()


def test_a_loader_over_a_tensor_dataset_gives_the_batches_of_x_and_y_in_the_seeds_order():
    loader = DataLoader(TensorDataset(X, Y), batch_size=64, seed=5)
    rng = np.random.default_rng(5)
    for _ in range(2):  # each epoch the generator's next permutation
        order = rng.permutation(M)
        batches = list(loader)
        assert [len(Xb) for Xb, _ in batches] == [64, 64, 20]
        for b, (Xb, Yb) in enumerate(batches):
            rows = order[64 * b:64 * (b + 1)]
            np.testing.assert_array_equal(Xb, X[rows])
            np.testing.assert_array_equal(Yb, Y[rows])
    pairs = DataLoader(X, Y, batch_size=64, seed=5)
    for (a, b), (c, d) in zip(DataLoader(TensorDataset(X, Y), batch_size=64, seed=5), pairs):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


def test_a_tensor_dataset_is_batched_by_indexing_each_array_not_example_by_example(monkeypatch):
    def one_by_one(self, i):
        raise AssertionError("a batch was gathered example by example")

    monkeypatch.setattr(TensorDataset, "__getitem__", one_by_one)
    train, _ = random_split(TensorDataset(X, Y), [100, 48], seed=0)
    for loader in (DataLoader(TensorDataset(X, Y), batch_size=50),
                   DataLoader(train, batch_size=50, shuffle=False)):
        assert sum(len(Xb) for Xb, _ in loader) == len(loader.dataset)
    Xb, Yb = next(iter(DataLoader(train, batch_size=50, shuffle=False)))
    np.testing.assert_array_equal(Xb, X[train.indices[:50]])  # the subset's rows, in order
    np.testing.assert_array_equal(Yb, Y[train.indices[:50]])


def test_a_loader_over_an_array_gives_batches_of_its_rows():
    loader = DataLoader(X, batch_size=100, shuffle=False)
    batches = list(loader)
    assert [b.shape for b in batches] == [(100, 3), (48, 3)]
    np.testing.assert_array_equal(np.concatenate(batches), X)


# -- a data set of one's own, default_collate, collate_fn ---------------------------------------
def test_a_dataset_of_ones_own_is_stacked_by_default_collate_in_order():
    ds = Squares(10)
    batches = list(DataLoader(ds, batch_size=4, shuffle=False))
    assert len(batches) == 3 and ds.calls == 10
    x, y = batches[1]
    np.testing.assert_array_equal(x, [[4.0, -4.0], [5.0, -5.0], [6.0, -6.0], [7.0, -7.0]])
    assert y.dtype == np.int64 and y.tolist() == [16, 25, 36, 49]
    x, y = batches[2]
    assert x.shape == (2, 2) and y.tolist() == [64, 81]


def test_a_shuffled_dataset_of_ones_own_follows_the_seeds_permutation():
    order = np.random.default_rng(3).permutation(10)
    batches = list(DataLoader(Squares(10), batch_size=4, seed=3))
    got = np.concatenate([x[:, 0] for x, _ in batches]).astype(int)
    np.testing.assert_array_equal(got, order)
    np.testing.assert_array_equal(np.concatenate([y for _, y in batches]), order ** 2)


def test_default_collate_batches_numbers_arrays_strings_tuples_lists_and_dicts():
    Point = collections.namedtuple("Point", "x y")
    batch = default_collate([
        {"x": np.array([1.0, 2.0]), "label": 3, "w": 0.5, "name": "a", "ok": True,
         "pair": (np.int32(1), [2.0, 3.0]), "p": Point(1, 2.0)},
        {"x": np.array([3.0, 4.0]), "label": 4, "w": 1.5, "name": "b", "ok": False,
         "pair": (np.int32(5), [6.0, 7.0]), "p": Point(3, 4.0)},
    ])
    np.testing.assert_array_equal(batch["x"], [[1.0, 2.0], [3.0, 4.0]])
    assert batch["label"].dtype == np.int64 and batch["label"].tolist() == [3, 4]
    assert batch["w"].dtype == np.float64 and batch["w"].tolist() == [0.5, 1.5]
    assert batch["ok"].dtype == np.bool_ and batch["ok"].tolist() == [True, False]
    assert batch["name"] == ["a", "b"]
    first, second = batch["pair"]
    assert isinstance(batch["pair"], tuple)
    assert first.dtype == np.int32 and first.tolist() == [1, 5]
    assert isinstance(second, list)  # a list of the items' batches, as PyTorch's
    assert [s.tolist() for s in second] == [[2.0, 6.0], [3.0, 7.0]]
    assert isinstance(batch["p"], Point) and batch["p"].x.tolist() == [1, 3]
    mixed = default_collate([1, 2.5])  # one array of them all, as torch.tensor([1, 2.5])
    assert mixed.dtype == np.float64 and mixed.tolist() == [1.0, 2.5]
    t = default_collate([gg.Tensor([1.0, 2.0]), gg.Tensor([3.0, 4.0])])
    np.testing.assert_array_equal(t, [[1.0, 2.0], [3.0, 4.0]])


def test_default_collate_says_what_it_cannot_stack_and_what_to_do():
    with pytest.raises(gg.ShapeError, match=r"^default_collate: the examples' item 0 have "
                                            r"different shapes \(example 0's is \(2,\), "
                                            r"example 1's \(3,\)\).*collate_fn="):
        default_collate([(np.zeros(2), 1), (np.zeros(3), 2)])
    with pytest.raises(gg.GraphgradTypeError, match=r"^default_collate: the examples hold "
                                                    r"NoneType values.*collate_fn="):
        default_collate([None, None])
    with pytest.raises(gg.ShapeError, match=r"different numbers of items \(\[1, 2\]\)"):
        default_collate([(1,), (1, 2)])
    with pytest.raises(gg.ArgumentError, match=r"^default_collate takes a non-empty list"):
        default_collate([])


def test_a_collate_fn_gets_each_batchs_examples_in_order():
    seen = []

    def collate(examples):
        seen.append([int(y) for _, y in examples])
        return len(examples)

    loader = DataLoader(TensorDataset(X[:10], Y[:10]), batch_size=4, shuffle=False,
                        collate_fn=collate)
    assert list(loader) == [4, 4, 2]
    assert seen == [[0, 1, 2, 3], [4, 0, 1, 2], [3, 4]]  # Y = row % 5


# -- samplers --------------------------------------------------------------------------------
def test_a_sampler_gives_the_order_and_a_batch_sampler_the_batches():
    loader = DataLoader(TensorDataset(X, Y), batch_size=2, sampler=[5, 2, 9, 0, 7])
    assert len(loader) == 3 and loader.shuffle is False
    assert _rows(loader) == [[5, 2], [9, 0], [7]]
    dropped = DataLoader(Squares(10), batch_size=2, sampler=[5, 2, 9], drop_last=True)
    assert [x[:, 0].tolist() for x, _ in dropped] == [[5.0, 2.0]] and len(dropped) == 1
    loader = DataLoader(TensorDataset(X, Y), batch_sampler=[[3, 1], [0], [4, 4, 2]])
    assert len(loader) == 3 and _rows(loader) == [[3, 1], [0], [4, 4, 2]]
    own = DataLoader(Squares(6), batch_sampler=[[3, 1], [5]])
    assert [y.tolist() for _, y in own] == [[9, 1], [25]]


def test_a_sampler_is_iterated_anew_every_epoch():
    class Reversed:
        def __init__(self):
            self.epochs = 0

        def __iter__(self):
            self.epochs += 1
            return iter(range(4, -1, -1) if self.epochs % 2 else range(5))

        def __len__(self):
            return 5

    loader = DataLoader(TensorDataset(X, Y), batch_size=5, sampler=Reversed())
    assert _rows(loader) == [[4, 3, 2, 1, 0]] and _rows(loader) == [[0, 1, 2, 3, 4]]


def test_a_batch_sampler_takes_no_sampler_nor_drop_last():
    with pytest.raises(gg.ArgumentError, match=r"^DataLoader: batch_sampler gives the batches "
                                               r"themselves, so it takes no sampler"):
        DataLoader(Squares(3), batch_sampler=[[0]], sampler=[0])
    with pytest.raises(gg.ArgumentError, match=r"takes no drop_last=True"):
        DataLoader(Squares(3), batch_sampler=[[0]], drop_last=True)
    with pytest.raises(gg.GraphgradTypeError, match=r"^DataLoader: the sampler must give whole "
                                                    r"numbers"):
        next(iter(DataLoader(TensorDataset(X, Y), sampler=[0.5, 1.0])))
    with pytest.raises(gg.GraphgradTypeError, match=r"^DataLoader: len\(loader\) counts the "
                                                    r"batches from len\(sampler\)"):
        len(DataLoader(Squares(3), sampler=iter([0, 1])))


def test_a_samplers_index_past_the_data_set_is_refused_naming_the_loader():
    # A TensorDataset (or a Subset of one) is batched by indexing its arrays: numpy's
    # "index 7 is out of bounds for axis 0 with size 5" named neither the loader nor the
    # sampler. -5..4 are the indices of 5 examples, as for the arrays.
    five = TensorDataset(X[:5], Y[:5])
    with pytest.raises(IndexError, match=r"^DataLoader: the sampler gives index 7, but the "
                                         r"data set \(TensorDataset\) has 5 examples"):
        next(iter(DataLoader(five, batch_size=2, sampler=[0, 7])))
    with pytest.raises(IndexError, match=r"^DataLoader: the batch_sampler gives index -6, "
                                         r"but the data set \(Subset\) has 5 examples"):
        next(iter(DataLoader(Subset(TensorDataset(X, Y), range(5)), batch_sampler=[[-6]])))
    rows = next(iter(DataLoader(five, batch_size=2, sampler=[4, -5])))[0]
    np.testing.assert_array_equal(rows, X[[4, 0]])


# -- Subset, ConcatDataset, random_split -----------------------------------------------------
def test_a_subset_gives_the_examples_at_its_indices():
    sub = Subset(Squares(10), [7, 2, -1])  # -1: the last, 9
    assert len(sub) == 3 and sub[0][1] == 49 and sub[1][1] == 4 and sub[2][1] == 81
    assert sub.indices.tolist() == [7, 2, 9]
    with pytest.raises(gg.ArgumentError, match=r"^Subset: index 10 is out of range for a data "
                                               r"set of 10 examples"):
        Subset(Squares(10), [1, 10])
    with pytest.raises(gg.ArgumentError, match=r"^Subset: indices must be a list of whole "):
        Subset(Squares(10), [0.5])


def test_a_concat_dataset_puts_the_data_sets_one_after_the_other():
    a, b = Squares(3), TensorDataset(X[:4, :2], Y[:4])
    both = ConcatDataset([a, b])
    assert len(both) == 7 and both.cumulative_sizes == [3, 7]
    assert both[2][1] == 4  # a's last
    np.testing.assert_array_equal(both[3][0], X[0, :2])  # b's first
    np.testing.assert_array_equal(both[-1][0], X[3, :2])
    with pytest.raises(IndexError, match=r"^ConcatDataset: index 7 is out of range"):
        both[7]
    assert len(a + b) == 7 and isinstance(a + b, ConcatDataset)
    batches = list(DataLoader(both, batch_size=7, shuffle=False))
    np.testing.assert_array_equal(batches[0][1], [0, 1, 4, 0, 1, 2, 3])
    with pytest.raises(gg.GraphgradTypeError, match=r"^ConcatDataset \(data set 1\): a data set "
                                                    r"needs len\(dataset\) and dataset\[i\]"):
        ConcatDataset([a, 5])


def test_random_split_by_counts_is_the_seeds_permutation_cut_in_order():
    train, dev = random_split(TensorDataset(X, Y), [100, 48], seed=7)
    order = np.random.default_rng(7).permutation(M)
    np.testing.assert_array_equal(train.indices, order[:100])
    np.testing.assert_array_equal(dev.indices, order[100:])
    assert not set(train.indices) & set(dev.indices)
    assert sorted([*train.indices, *dev.indices]) == list(range(M))
    np.testing.assert_array_equal(dev[0][0], X[order[100]])
    again, _ = random_split(TensorDataset(X, Y), [100, 48], seed=7)
    other, _ = random_split(TensorDataset(X, Y), [100, 48], seed=8)
    np.testing.assert_array_equal(again.indices, train.indices)
    assert not np.array_equal(other.indices, train.indices)


@pytest.mark.parametrize("fractions, sizes", [
    ([0.8, 0.2], [119, 29]),  # floor 118 and 29, the one left over to the first
    ([0.5, 0.25, 0.25], [74, 37, 37]),
    ([0.1, 0.1, 0.8], [15, 15, 118]),  # 14, 14, 118: two left over, to the first two
])
def test_random_split_by_fractions_rounds_as_pytorch(fractions, sizes):
    parts = random_split(range(M), fractions, seed=0)
    assert [len(p) for p in parts] == sizes
    assert sorted(i for p in parts for i in (p[j] for j in range(len(p)))) == list(range(M))


def test_random_split_says_what_the_lengths_must_add_up_to():
    with pytest.raises(gg.ArgumentError, match=r"^random_split: the lengths \[100, 40\] add up "
                                               r"to 140, but the data set has 148 examples; "
                                               r"give counts that add up to 148, or fractions"):
        random_split(TensorDataset(X, Y), [100, 40])
    with pytest.raises(gg.ArgumentError, match=r"^random_split: the fractions \[0\.7, 0\.2\] "
                                               r"add up to 0\.9, not 1"):
        random_split(TensorDataset(X, Y), [0.7, 0.2])
    # Rounded to 6 digits, the sum of fractions just off 1 was said to be "1, not 1".
    with pytest.raises(gg.ArgumentError, match=r"^random_split: the fractions \[0\.5, "
                                               r"0\.5000001\] add up to 1\.0000001, not 1;"):
        random_split(TensorDataset(X, Y), [0.5, 0.5000001])
    with pytest.raises(gg.ArgumentError, match=r"^random_split: lengths is empty"):
        random_split(TensorDataset(X, Y), [])
    with pytest.raises(gg.GraphgradTypeError, match=r"^random_split: the keyword is seed=, not "
                                                    r"generator="):
        random_split(TensorDataset(X, Y), [0.5, 0.5], generator=0)


# -- DataLoader's arguments --------------------------------------------------------------------
def test_a_loader_says_what_to_write_for_a_batch_size_in_ys_place_and_for_no_dataset():
    with pytest.raises(gg.ArgumentError, match=r"^DataLoader: the second argument is Y.*"
                                               r"DataLoader\(dataset, batch_size=32\)"):
        DataLoader(TensorDataset(X, Y), 32)
    with pytest.raises(gg.GraphgradTypeError, match=r"^DataLoader: a data set needs len\(dataset"
                                                    r"\) and dataset\[i\].*TensorDataset\(X, Y\)"):
        DataLoader(5)
    with pytest.raises(gg.GraphgradTypeError, match=r"^DataLoader: the keyword is seed=, not "
                                                    r"generator="):
        DataLoader(X, Y, generator=np.random.default_rng(0))
    with pytest.raises(gg.GraphgradTypeError, match=r"^DataLoader: the keyword is dataset=, not "
                                                    r"X="):
        DataLoader(X=X, Y=Y)
    assert len(DataLoader(dataset=X, Y=Y)) == 3
    with pytest.raises(gg.GraphgradTypeError, match=r"^DataLoader: collate_fn must be a "
                                                    r"function"):
        DataLoader(Squares(3), collate_fn=3)


def test_an_epoch_over_a_dataset_copies_and_pickles_where_it_stands():
    loader = DataLoader(TensorDataset(X, Y), batch_size=50, seed=1)
    epoch = iter(loader)
    next(epoch)
    for copier in (copy.deepcopy, lambda e: pickle.loads(pickle.dumps(e))):
        rest = [Xb for Xb, _ in copier(epoch)]
        assert [len(Xb) for Xb in rest] == [50, 48]
    assert [len(Xb) for Xb, _ in epoch] == [50, 48]
    own = iter(DataLoader(Squares(5), batch_size=2, shuffle=False))
    next(own)
    assert [y.tolist() for _, y in pickle.loads(pickle.dumps(own))] == [[4, 9], [16]]


# -- fit ---------------------------------------------------------------------------------------
def _model():
    gg.nn.init.seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 5))


def test_fit_on_a_loader_over_a_tensor_dataset_trains_as_on_x_and_y():
    Xs = (X - X.mean(axis=0)) / X.std(axis=0)
    runs = []
    for make in (lambda: (Xs, Y), lambda: DataLoader(TensorDataset(Xs, Y), batch_size=32)):
        model = _model()
        history = gg.fit(model, nn.cross_entropy, optim.SGD(model.parameters(), lr=0.1),
                         make(), epochs=3, batch_size=32, progress=False)
        runs.append((history, [p.data.copy() for p in model.parameters()]))
    (h1, p1), (h2, p2) = runs
    assert h1["cost"] == h2["cost"] and h1["accuracy"] == h2["accuracy"]
    assert all(np.array_equal(a, b) for a, b in zip(p1, p2))


def test_fit_on_a_loader_over_a_dataset_of_ones_own_takes_its_collated_batches():
    class Pairs(Dataset):
        def __len__(self):
            return M

        def __getitem__(self, i):
            return X[i] / 100, int(Y[i])

    model = _model()
    loader = DataLoader(Pairs(), batch_size=40, shuffle=False)
    history = gg.fit(model, nn.cross_entropy, optim.SGD(model.parameters(), lr=0.1), loader,
                     epochs=1, progress=False)
    model2 = _model()
    again = gg.fit(model2, nn.cross_entropy, optim.SGD(model2.parameters(), lr=0.1),
                   (X / 100, Y), epochs=1, batch_size=40, shuffle=False, progress=False)
    assert history["cost"] == pytest.approx(again["cost"], rel=1e-15)


def test_fit_says_a_loader_over_an_empty_dataset_holds_no_examples():
    model = _model()
    with pytest.raises(gg.ArgumentError, match=r"fit: the data gave no batches: the data set "
                                               r"\(Squares\) holds no examples"):
        gg.fit(model, nn.cross_entropy, optim.SGD(model.parameters(), lr=0.1),
               DataLoader(Squares(0)), epochs=1, progress=False)


def test_the_datasets_are_graphgrad_data_names():
    assert data.TensorDataset is TensorDataset and data.random_split is random_split


def test_a_loader_takes_pytorchs_worker_and_memory_keywords_and_gives_the_same_batches():
    # DataLoader(train, batch_size=64, shuffle=True, num_workers=4, pin_memory=True), as
    # ported code writes it, raised "unexpected keyword argument 'num_workers'". Batches are
    # made in this process here (PyTorch's num_workers=0) and numpy has no pinned memory.
    loader = DataLoader(TensorDataset(X, Y), batch_size=32, seed=3, num_workers=4,
                        pin_memory=True, persistent_workers=True)
    plain = DataLoader(TensorDataset(X, Y), batch_size=32, seed=3)
    for (Xa, Ya), (Xb, Yb) in zip(loader, plain, strict=True):
        np.testing.assert_array_equal(Xa, Xb)
        np.testing.assert_array_equal(Ya, Yb)
    assert (loader.num_workers, loader.pin_memory, loader.persistent_workers) == (4, True, True)
    assert (plain.num_workers, plain.pin_memory, plain.persistent_workers) == (0, False, False)
    with pytest.raises(gg.ArgumentError, match=r"^DataLoader: num_workers must be a whole "
                                               r"number of at least 0, got -1"):
        DataLoader(TensorDataset(X, Y), num_workers=-1)


# -- PyTorch's samplers ------------------------------------------------------------------------
def test_the_random_samplers_draw_numpys_draws_from_their_seed_each_epoch():
    rng = np.random.default_rng(4)
    sampler = data.RandomSampler(range(10), seed=4)
    assert [list(sampler) for _ in range(2)] == [rng.permutation(10).tolist() for _ in range(2)]
    rng = np.random.default_rng(4)
    more = data.RandomSampler(range(4), num_samples=6, seed=4)
    assert list(more) == np.concatenate([rng.permutation(4), rng.permutation(4)])[:6].tolist()
    with_replacement = data.RandomSampler(range(4), replacement=True, num_samples=7, seed=1)
    assert list(with_replacement) == np.random.default_rng(1).integers(0, 4, 7).tolist()
    assert len(more) == 6 and len(data.RandomSampler(range(10))) == 10
    subset = data.SubsetRandomSampler([10, 20, 30, 40], seed=3)
    assert list(subset) == [[10, 20, 30, 40][i] for i in np.random.default_rng(3).permutation(4)]
    assert list(data.SequentialSampler(range(5))) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("make", [
    lambda **kw: data.RandomSampler(range(4), **kw),
    lambda **kw: data.SubsetRandomSampler([1, 2], **kw),
    lambda **kw: data.WeightedRandomSampler([1.0, 2.0], 2, **kw),
], ids=["RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler"])
def test_a_random_sampler_says_to_write_seed_for_pytorchs_generator(make):
    # As DataLoader and random_split say it: Python's "unexpected keyword argument
    # 'generator'" said neither what the keyword is here nor that a Generator is taken.
    with pytest.raises(gg.GraphgradTypeError, match=r"^\w+Sampler: the keyword is seed=, not "
                                                    r"generator= \(.*Generator.*\): write "):
        make(generator=np.random.default_rng(0))
    assert list(make(seed=np.random.default_rng(5))) == list(make(seed=np.random.default_rng(5)))


def test_a_weighted_sampler_draws_indices_in_proportion_to_the_weights():
    weights = [0.0, 0.0, 1.0, 3.0]
    sampler = data.WeightedRandomSampler(weights, num_samples=4000, seed=0)
    drawn = list(sampler)
    expected = np.random.default_rng(0).choice(4, size=4000, replace=True,
                                               p=np.array(weights) / 4.0)
    assert drawn == expected.tolist()
    counts = np.bincount(drawn, minlength=4)
    assert counts[0] == counts[1] == 0
    assert abs(counts[3] / 4000 - 0.75) < 0.03  # 3 sigma is 0.021
    once = data.WeightedRandomSampler([1.0, 1.0, 5.0], num_samples=3, replacement=False)
    assert sorted(once) == [0, 1, 2]
    with pytest.raises(gg.ArgumentError, match=r"^WeightedRandomSampler: without replacement, "
                                               r"num_samples=3 cannot be drawn from the 2 "):
        data.WeightedRandomSampler([1.0, 0.0, 5.0], num_samples=3, replacement=False)
    with pytest.raises(gg.ArgumentError, match=r"^WeightedRandomSampler: weights must be one "
                                               r"per example, each >= 0 and finite"):
        data.WeightedRandomSampler([1.0, -1.0], num_samples=3)


def test_a_batch_sampler_cuts_a_samplers_indices_into_lists():
    batches = data.BatchSampler(data.SequentialSampler(range(10)), 3, drop_last=False)
    assert list(batches) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]] and len(batches) == 4
    dropped = data.BatchSampler(range(10), 3, drop_last=True)
    assert list(dropped) == [[0, 1, 2], [3, 4, 5], [6, 7, 8]] and len(dropped) == 3
    loader = DataLoader(TensorDataset(X, Y), batch_sampler=dropped)
    assert _rows(loader) == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]


def test_fit_reseeds_a_loaders_random_sampler_each_epoch_so_a_run_repeats():
    def run():
        model = _model()
        sampler = data.WeightedRandomSampler(1.0 + (Y == 0), num_samples=100, seed=None)
        loader = DataLoader(TensorDataset(X / 100, Y), batch_size=25, sampler=sampler)
        history = gg.fit(model, nn.cross_entropy, optim.SGD(model.parameters(), lr=0.1),
                         loader, epochs=2, progress=False)
        return history["cost"], sampler

    (first, sampler), (second, _) = run(), run()
    assert first == second  # an unseeded sampler, reseeded by fit from (seed, epoch)
    loader = DataLoader(TensorDataset(X, Y), sampler=sampler)
    loader.reseed(7)
    assert list(sampler) == list(data.WeightedRandomSampler(1.0 + (Y == 0), 100, seed=7))


# -- IterableDataset -----------------------------------------------------------------------
class Stream(data.IterableDataset):
    """Rows of X (as float32) and their labels, one by one; counts its epochs."""

    def __init__(self, n, sized=False):
        self.n, self.sized, self.epochs = n, sized, 0

    def __iter__(self):
        self.epochs += 1
        for i in range(self.n):
            yield X[i].astype(np.float32), int(Y[i])

    def __len__(self):
        if not self.sized:
            return super().__len__()
        return self.n


def test_a_loader_batches_an_iterable_dataset_in_the_order_it_gives_its_examples():
    loader = DataLoader(Stream(7), batch_size=3)
    assert loader.shuffle is False  # read in order, shuffle not given
    batches = list(loader)
    assert [len(y) for _, y in batches] == [3, 3, 1]
    for k, (Xb, yb) in enumerate(batches):
        np.testing.assert_array_equal(Xb, X[:7][3 * k:3 * k + 3].astype(np.float32))
        assert Xb.dtype == np.float32 and yb.dtype == np.int64
        assert yb.tolist() == Y[:7][3 * k:3 * k + 3].tolist()
    assert [y.tolist() for _, y in DataLoader(Stream(7), batch_size=3, drop_last=True)] == \
        [Y[:3].tolist(), Y[3:6].tolist()]
    firsts = DataLoader(Stream(4), batch_size=2, collate_fn=lambda b: [x[0] for x, _ in b])
    assert [[float(v) for v in b] for b in firsts] == [[0.0, 3.0], [6.0, 9.0]]
    assert list(DataLoader(Stream(0), batch_size=2)) == []


def test_an_iterable_loaders_len_needs_the_data_sets_len():
    assert [len(DataLoader(Stream(7, sized=True), batch_size=3, drop_last=drop))
            for drop in (False, True)] == [3, 2]
    with pytest.raises(gg.GraphgradTypeError, match=r"^DataLoader: len\(loader\) counts the "
                                                    r"batches from len\(dataset\), but the data "
                                                    r"set \(Stream\) is an IterableDataset with "
                                                    r"no len\(\)"):
        len(DataLoader(Stream(7), batch_size=3))
    with pytest.raises(TypeError, match=r"^Stream has no len\(\)"):
        len(Stream(7))


@pytest.mark.parametrize("keyword", [{"shuffle": True}, {"sampler": [0, 1]},
                                     {"batch_sampler": [[0, 1]]}],
                         ids=["shuffle", "sampler", "batch_sampler"])
def test_an_iterable_dataset_takes_no_order_from_the_loader(keyword):
    # It has no indices to shuffle or sample; PyTorch raises ValueError for each.
    what = "shuffle=True" if "shuffle" in keyword else next(iter(keyword))
    with pytest.raises(gg.ArgumentError, match=rf"^DataLoader: the data set \(Stream\) is an "
                                               rf"IterableDataset, read in the order it gives "
                                               rf"its examples, so it takes no {what} .*"
                                               rf"shuffle or pick the examples in its __iter__"):
        DataLoader(Stream(4), **keyword)
    assert len(list(DataLoader(Stream(4), batch_size=2, shuffle=False))) == 2


def test_a_chain_dataset_reads_streams_one_after_the_other():
    chained = data.ChainDataset([Stream(2), Stream(3, sized=True)])
    assert [y for _, y in chained] == Y[:2].tolist() + Y[:3].tolist()
    assert [y for _, y in Stream(1) + Stream(2)] == [Y[0], Y[0], Y[1]]
    assert len(data.ChainDataset([Stream(2, sized=True), Stream(3, sized=True)])) == 5
    loader = DataLoader(chained, batch_size=4)
    assert [y.tolist() for _, y in loader] == [[0, 1, 0, 1], [2]]
    with pytest.raises(gg.GraphgradTypeError, match=r"^ChainDataset: data set 1 .* is not an "
                                                    r"IterableDataset; .*data.ConcatDataset"):
        data.ChainDataset([Stream(2), TensorDataset(X, Y)])


@pytest.mark.parametrize("make", [
    lambda s: Subset(s, [0]), lambda s: ConcatDataset([s]), lambda s: random_split(s, [1]),
    lambda s: data.StackDataset(s, s),
], ids=["Subset", "ConcatDataset", "random_split", "StackDataset"])
def test_the_map_style_data_sets_refuse_a_stream(make):
    # An IterableDataset answers len() and [i] only to refuse them: taken as a data set,
    # Subset(stream, [0])[0] failed later with "Stream is an IterableDataset" from inside.
    with pytest.raises(gg.GraphgradTypeError, match=r"the data set \(Stream\) is an "
                                                    r"IterableDataset, a stream with no "
                                                    r"dataset\[i\]"):
        make(Stream(3, sized=True))


def test_fit_runs_every_epoch_over_an_iterable_dataset_as_over_its_examples_in_order():
    Xs = ((X - X.mean(axis=0)) / X.std(axis=0)).astype(np.float32)

    class Standardized(Stream):
        def __iter__(self):
            self.epochs += 1
            yield from zip(Xs, Y.tolist())

    stream = Standardized(M)
    runs = []
    for given in ((Xs, Y), DataLoader(stream, batch_size=32)):
        model = _model()
        history = gg.fit(model, nn.cross_entropy, optim.SGD(model.parameters(), lr=0.1),
                         given, epochs=3, batch_size=32, shuffle=False, progress=False)
        runs.append((history["cost"], [p.data.copy() for p in model.parameters()]))
    (c1, p1), (c2, p2) = runs
    assert stream.epochs == 3 and len(c2) == 3
    np.testing.assert_allclose(c2, c1, rtol=1e-6)
    for a, b in zip(p1, p2):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
    model = _model()
    with pytest.raises(gg.ArgumentError, match=r"^fit: the data gave no batches$"):
        gg.fit(model, nn.cross_entropy, optim.SGD(model.parameters(), lr=0.1),
               DataLoader(Stream(0), batch_size=4), epochs=1, progress=False)


# -- what PyTorch's DataLoader refuses -----------------------------------------------------
def test_a_sampler_takes_no_shuffle_true_as_pytorchs_refuses_it():
    with pytest.raises(gg.ArgumentError, match=r"^DataLoader: the sampler gives the order, so "
                                               r"it takes no shuffle=True .*"
                                               r"sampler=data.RandomSampler\(dataset\)"):
        DataLoader(TensorDataset(X, Y), shuffle=True, sampler=[2, 0])
    assert _rows(DataLoader(TensorDataset(X, Y), shuffle=False, sampler=[2, 0])) == [[2, 0]]
    assert DataLoader(TensorDataset(X, Y)).shuffle is True  # graphgrad's default, unchanged


@pytest.mark.parametrize("keywords, named", [
    ({"batch_size": 2}, "batch_size=2"),
    ({"shuffle": True}, "shuffle=True"),
    ({"batch_size": 8, "drop_last": True}, "batch_size=8, drop_last=True"),
    ({"sampler": [0], "shuffle": True}, "shuffle=True, sampler"),
])
def test_a_batch_sampler_refuses_what_would_cut_the_batches_naming_each(keywords, named):
    with pytest.raises(gg.ArgumentError, match=rf"^DataLoader: batch_sampler gives the batches "
                                               rf"themselves, so it takes no {named} \(PyTorch "
                                               rf"refuses them too\); .*data.BatchSampler"):
        DataLoader(TensorDataset(X, Y), batch_sampler=[[0, 1]], **keywords)
    # PyTorch's default batch size, 1, and shuffle=False are taken, as PyTorch takes them.
    loader = DataLoader(TensorDataset(X, Y), batch_sampler=[[4, 1]], batch_size=1,
                        shuffle=False)
    assert _rows(loader) == [[4, 1]]


def test_the_worker_settings_are_taken_and_refused_as_pytorch_does():
    loader = DataLoader(TensorDataset(X, Y), batch_size=32, seed=3, num_workers=2,
                        prefetch_factor=4, timeout=5.0, worker_init_fn=print)
    plain = DataLoader(TensorDataset(X, Y), batch_size=32, seed=3)
    assert _rows(loader) == _rows(plain)
    assert (loader.prefetch_factor, loader.timeout, loader.worker_init_fn) == (4, 5.0, print)
    for keyword in ("prefetch_factor=2", "persistent_workers=True"):
        name, value = keyword.split("=")
        with pytest.raises(gg.ArgumentError, match=rf"^DataLoader: {keyword} sets up worker "
                                                   rf"processes, but num_workers=0 starts none"
                                                   rf" .*leave {name} out, or give "
                                                   rf"num_workers > 0"):
            DataLoader(TensorDataset(X, Y), **{name: eval(value)})
    with pytest.raises(gg.ArgumentError, match=r"^DataLoader: timeout must be a number of "
                                               r"seconds >= 0, got -1"):
        DataLoader(TensorDataset(X, Y), timeout=-1)
    with pytest.raises(gg.GraphgradTypeError, match=r"^DataLoader: worker_init_fn must be a "
                                                    r"function"):
        DataLoader(TensorDataset(X, Y), worker_init_fn=3)


def test_a_random_sampler_refuses_to_draw_from_an_empty_data_set():
    # len() said 3 while an epoch gave none, so a loader over it said 2 batches and gave 0.
    for replacement in (False, True):
        sampler = data.RandomSampler([], replacement=replacement, num_samples=3)
        assert len(sampler) == 3
        with pytest.raises(gg.ArgumentError, match=r"^RandomSampler: num_samples=3 indices "
                                                   r"cannot be drawn from a data set of no "
                                                   r"examples"):
            list(sampler)
    assert list(data.RandomSampler([])) == [] and len(data.RandomSampler([])) == 0


# -- StackDataset --------------------------------------------------------------------------
def test_a_stack_dataset_gives_the_data_sets_examples_side_by_side():
    stacked = data.StackDataset(TensorDataset(X), Squares(M))
    (x,), (sq, y) = stacked[5]
    np.testing.assert_array_equal(x, X[5])
    assert sq.tolist() == [5.0, -5.0] and y == 25 and len(stacked) == M
    named = data.StackDataset(x=X, sq=Squares(M))
    batch = next(iter(DataLoader(named, batch_size=3, shuffle=False)))
    np.testing.assert_array_equal(batch["x"], X[:3])
    assert batch["sq"][1].tolist() == [0, 1, 4]
    with pytest.raises(gg.ShapeError, match=r"^StackDataset: the data sets must have as many "
                                            r"examples each: x has 148, y has 3"):
        data.StackDataset(x=X, y=Squares(3))
    with pytest.raises(gg.ArgumentError, match=r"^StackDataset takes data sets either one "
                                               r"after the other"):
        data.StackDataset(X, y=X)


def test_default_collate_refuses_dict_examples_with_other_keys_naming_them():
    # A key missing from a later example raised a bare KeyError: 'b'; a key only in a later
    # example was dropped from the batch without a word.
    for batch, which in (([{"a": 1, "b": 2}, {"a": 3}], "example 1 has the keys ['a']"),
                         ([{"a": 1}, {"a": 3, "b": 2}], "example 1 has the keys ['a', 'b']")):
        with pytest.raises(gg.ShapeError, match=rf"^default_collate: the examples are dicts "
                                                rf"with other keys \(example 0 has the keys "
                                                rf"\[.*\], {re.escape(which)}\); "):
            default_collate(batch)
    with pytest.raises(gg.ShapeError, match=r"^default_collate: the examples' 'p' are dicts "
                                            r"with other keys"):
        default_collate([{"p": {"a": 1}}, {"p": {"b": 2}}])
    # As PyTorch's, a mapping keeps its type.
    ordered = default_collate([collections.OrderedDict(b=1, a=2.0),
                               collections.OrderedDict(b=3, a=4.0)])
    assert type(ordered) is collections.OrderedDict and list(ordered) == ["b", "a"]
    assert ordered["b"].tolist() == [1, 3] and ordered["a"].tolist() == [2.0, 4.0]


def test_a_loader_says_how_to_batch_a_stream():
    # A generator got "a data set needs len(dataset) and dataset[i]", with no word of the
    # IterableDataset that batches a stream.
    with pytest.raises(gg.GraphgradTypeError, match=r"^DataLoader: a data set needs len\(dataset"
                                                    r"\) and dataset\[i\] .*got a generator; "
                                                    r".*a stream of examples: make it a "
                                                    r"data.IterableDataset"):
        DataLoader(x for x in X)


def test_batch_size_none_gives_the_examples_one_by_one_as_pytorchs():
    # PyTorch's unbatched loading; it was "batch_size must be a whole number of at least 1".
    loader = DataLoader(TensorDataset(X, Y), batch_size=None, shuffle=False)
    examples = list(loader)
    assert len(loader) == len(examples) == M
    np.testing.assert_array_equal(examples[5][0], X[5])  # no batch axis
    assert examples[5][1] == Y[5]
    shuffled = DataLoader(TensorDataset(X, Y), batch_size=None, seed=2)
    order = np.random.default_rng(2).permutation(M)
    assert [int(x[0]) // 3 for x, _ in shuffled] == order.tolist()
    sampled = DataLoader(Squares(6), batch_size=None, sampler=[4, 1])
    assert [(x.tolist(), y) for x, y in sampled] == [([4.0, -4.0], 16), ([1.0, -1.0], 1)]
    assert len(sampled) == 2
    streamed = DataLoader(Stream(3), batch_size=None)
    assert [y for _, y in streamed] == Y[:3].tolist()
    assert len(DataLoader(Stream(3, sized=True), batch_size=None)) == 3

    class Tensors(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return {"x": gg.Tensor(np.full(2, i, np.float32)), "tag": f"t{i}"}

    converted = list(DataLoader(Tensors(), batch_size=None, shuffle=False))
    assert converted[1]["tag"] == "t1" and type(converted[1]["x"]) is np.ndarray
    np.testing.assert_array_equal(converted[1]["x"], np.full(2, 1, np.float32))
    with pytest.raises(gg.ArgumentError, match=r"^DataLoader: batch_size=None gives the "
                                               r"examples one by one, not batched, so it takes "
                                               r"no drop_last=True"):
        DataLoader(TensorDataset(X, Y), batch_size=None, drop_last=True)
    with pytest.raises(gg.ArgumentError, match=r"so it takes no batch_size=None \(PyTorch"):
        DataLoader(TensorDataset(X, Y), batch_size=None, batch_sampler=[[0]])


def test_default_convert_takes_tensors_to_their_values_and_leaves_the_rest():
    Pair = collections.namedtuple("Pair", "x y")
    t = gg.Tensor(np.arange(3.0))
    converted = data.default_convert([Pair(t, "s"), {"k": (t, 2)}, np.ones(2), 1.5])
    assert type(converted) is list and type(converted[0]) is Pair
    assert type(converted[0].x) is np.ndarray and converted[0].y == "s"
    assert type(converted[1]["k"]) is tuple and converted[1]["k"][1] == 2
    np.testing.assert_array_equal(converted[1]["k"][0], np.arange(3.0))
    assert converted[3] == 1.5


def test_a_batch_sampler_given_as_the_sampler_is_refused_saying_where_it_goes():
    # Its lists of indices were taken as indices: numpy's "setting an array element with a
    # sequence" for a TensorDataset, Python's "'<=' not supported between 'int' and 'list'"
    # from inside a ConcatDataset.
    batches = data.BatchSampler(range(10), 3, drop_last=False)
    for dataset in (TensorDataset(X, Y), ConcatDataset([TensorDataset(X, Y)])):
        with pytest.raises(gg.ArgumentError, match=r"^DataLoader: sampler= is given a "
                                                   r"BatchSampler, which gives lists of "
                                                   r"indices; pass it as batch_sampler="):
            DataLoader(dataset, sampler=batches)
    with pytest.raises(gg.GraphgradTypeError, match=r"^DataLoader: the sampler must give whole "
                                                    r"numbers, the examples' indices, got "):
        next(iter(DataLoader(TensorDataset(X, Y), sampler=[[0, 1], [2]])))


def test_fit_stepping_a_schedule_says_a_streams_loader_needs_the_streams_len():
    # It said the DataLoader had no len() and to pass a DataLoader.
    model = _model()
    with pytest.raises(gg.ArgumentError, match=r"^fit: schedule_every='step' counts optimizer "
                                               r"steps .* but the loader's data set \(Stream\) "
                                               r"is an IterableDataset with no len\(\); give it "
                                               r"a __len__"):
        gg.fit(model, nn.cross_entropy, optim.SGD(model.parameters(), lr=0.1),
               DataLoader(Stream(8), batch_size=4), epochs=2, schedule=lambda step: 0.1,
               schedule_every="step", progress=False)
    history = gg.fit(model, nn.cross_entropy, optim.SGD(model.parameters(), lr=0.1),
                     DataLoader(Stream(8, sized=True), batch_size=4), epochs=2,
                     schedule=lambda step: 0.1 / (1 + step), schedule_every="step",
                     progress=False)
    assert history["lr"] == [0.1, 0.1 / 3]  # each epoch's first step: 0, then 2


def test_a_subset_takes_a_list_of_indices_as_pytorchs_does():
    # subset[[0, 2]] failed on numpy's "only 0-dimensional arrays can be converted".
    subset = Subset(TensorDataset(X, Y), [5, 3, 1])
    rows, labels = subset[[0, 2]]
    np.testing.assert_array_equal(rows, X[[5, 1]])
    assert labels.tolist() == Y[[5, 1]].tolist()
    assert Subset(Subset(np.arange(10), [9, 7, 5]), [2, 0])[[1, 0]].tolist() == [9, 5]


@pytest.mark.parametrize("batch, first, other", [
    ([1, "a"], "int", "str"),  # was an array of strings, ['1', 'a']
    ([1.0, None], "float", "NoneType"),  # was an object array
    ([1, [2]], "int", "list"),  # was numpy's "setting an array element with a sequence"
    ([(1, 2), 3], "tuple", "int"),  # was Python's "object of type 'int' has no len()"
    ([{"a": 1}, (1,)], "dict", "tuple"),
])
def test_default_collate_refuses_examples_of_other_kinds_naming_them(batch, first, other):
    with pytest.raises(gg.GraphgradTypeError, match=rf"^default_collate: the examples are not "
                                                    rf"all of one kind: example 0 is a {first}, "
                                                    rf"example 1 a {other}; "):
        default_collate(batch)
    assert default_collate([1, np.int64(2), True]).tolist() == [1, 2, 1]  # numbers all


def test_the_other_worker_settings_of_pytorchs_loader_are_taken_too():
    # multiprocessing_context, pin_memory_device and in_order were "unexpected keyword
    # argument"; as the others, they change nothing, and what PyTorch refuses is refused.
    loader = DataLoader(TensorDataset(X, Y), batch_size=32, seed=3, num_workers=2,
                        multiprocessing_context="spawn", pin_memory_device="cuda",
                        in_order=False)
    assert _rows(loader) == _rows(DataLoader(TensorDataset(X, Y), batch_size=32, seed=3))
    assert (loader.multiprocessing_context, loader.pin_memory_device, loader.in_order) == \
        ("spawn", "cuda", False)
    with pytest.raises(gg.ArgumentError, match=r"^DataLoader: multiprocessing_context='spawn' "
                                               r"sets up worker processes, but num_workers=0 "
                                               r"starts none"):
        DataLoader(TensorDataset(X, Y), multiprocessing_context="spawn")
