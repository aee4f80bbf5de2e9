"""Data sets as PyTorch's ``torch.utils.data`` has them, for `data.DataLoader`: a data set is
anything with ``len(dataset)`` and ``dataset[i]`` (one example); `TensorDataset` holds arrays
of examples in rows, `Subset` and `random_split` take some of a data set's examples,
`ConcatDataset` puts data sets one after the other, `StackDataset` side by side, and
`default_collate` makes a batch of examples. An `IterableDataset` (and a `ChainDataset` of
them) is a stream of examples, read in order, with no ``dataset[i]``. Import them from
`graphgrad.data`. Depends on numpy and `errors`.

Batches are numpy arrays (PyTorch's are Tensors): `fit` and the layers take them as they
are. A `TensorDataset`, and a `Subset` of one, give a batch by indexing each array with the
batch's rows at once, not example by example, so a loader over them is as fast as over X and
Y themselves.
"""
from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    GraphgradTypeError,
    ShapeError,
    array_of,
    listed,
    real_number,
    renamed,
    seed_value,
    setting_text,
    whole_number,
)

__all__ = ["ChainDataset", "ConcatDataset", "Dataset", "IterableDataset", "StackDataset",
           "Subset", "TensorDataset", "default_collate", "default_convert", "random_split"]


class Dataset:
    """Base class of a data set of one's own, as PyTorch's ``Dataset``: give it
    ``__len__`` (how many examples) and ``__getitem__(i)`` (example i, for i in 0..len - 1,
    such as a pair ``(x, y)`` of arrays or numbers, or a dict of them). Any object with those
    two methods is a data set for `DataLoader`; this class adds ``dataset + other``, a
    `ConcatDataset`::

        class Squares(data.Dataset):
            def __len__(self):
                return 100
            def __getitem__(self, i):
                return np.array([i], dtype=float), float(i * i)
    """

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__, the number of "
                                  "examples")

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(i), example i")

    def __add__(self, other: Any) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """Base class of a stream of examples, as PyTorch's ``IterableDataset``: give it
    ``__iter__``, which yields the examples one by one (a generator works), anew for every
    epoch; ``__len__`` is optional. `DataLoader` batches them in the order they come
    (``batch_size``, ``drop_last``, ``collate_fn``); it has no indices to shuffle or sample,
    so it refuses ``shuffle=True``, ``sampler`` and ``batch_sampler``: shuffle in the stream
    itself. ``a + b`` is a `ChainDataset`::

        class Lines(data.IterableDataset):
            def __init__(self, path):
                self.path = path
            def __iter__(self):
                with open(self.path) as f:
                    for line in f:
                        yield np.array([float(v) for v in line.split(",")])
    """

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__, which yields "
                                  "the examples one by one")

    def __len__(self) -> int:
        raise GraphgradTypeError(f"{type(self).__name__} has no len(): an IterableDataset "
                                 "counts its examples only if it defines __len__")

    def __getitem__(self, index: int) -> Any:
        raise GraphgradTypeError(f"{type(self).__name__} is an IterableDataset: it gives its "
                                 "examples in order by iterating (for x in dataset), not by "
                                 "index")

    def __add__(self, other: Any) -> ChainDataset:  # type: ignore[override]
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """``datasets`` (a list of `IterableDataset`\\ s) read one after the other, as PyTorch's
    ``ChainDataset``; its len() is the sum of theirs (each must have one)."""

    def __init__(self, datasets: Iterable[Any]) -> None:
        self.datasets = listed(datasets, "ChainDataset", "a list of IterableDatasets")
        for i, dataset in enumerate(self.datasets):
            if not isinstance(dataset, IterableDataset):
                raise GraphgradTypeError(
                    f"ChainDataset: data set {i} ({setting_text(dataset)}) is not an "
                    "IterableDataset; chain streams of examples, or put data sets with "
                    "dataset[i] one after the other with data.ConcatDataset")

    def __iter__(self) -> Iterator[Any]:
        for dataset in self.datasets:
            yield from dataset

    def __len__(self) -> int:
        return sum(len(d) for d in self.datasets)

    def __repr__(self) -> str:
        return f"ChainDataset({len(self.datasets)} data sets)"


class StackDataset(Dataset):
    """Data sets of as many examples side by side, as PyTorch's ``StackDataset`` (torch 2.1):
    ``StackDataset(a, b)[i]`` is ``(a[i], b[i])``, ``StackDataset(image=a, label=b)[i]`` is
    ``{"image": a[i], "label": b[i]}``.

    Args:
        args: the data sets, for examples that are tuples.
        kwargs: the data sets by name, for examples that are dicts (args or kwargs, not
            both).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if bool(args) == bool(kwargs):
            raise ArgumentError("StackDataset takes data sets either one after the other "
                                "(StackDataset(a, b)) or by name (StackDataset(x=a, y=b)), "
                                f"one or more, got {len(args)} positional and {len(kwargs)} "
                                "by name")
        self.datasets: tuple[Any, ...] | dict[str, Any] = args or kwargs
        named = list(kwargs.items()) or [(f"data set {i}", d) for i, d in enumerate(args)]
        for name, dataset in named:
            _require_dataset(dataset, f"StackDataset ({name})")
        sizes = {name: len(d) for name, d in named}
        if len(set(sizes.values())) > 1:
            given = ", ".join(f"{name} has {n}" for name, n in sizes.items())
            raise ShapeError(f"StackDataset: the data sets must have as many examples each: "
                             f"{given}")
        self._length = next(iter(sizes.values()))

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: int) -> Any:
        if isinstance(self.datasets, dict):
            return {name: d[index] for name, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __repr__(self) -> str:
        return f"StackDataset({len(self.datasets)} data sets, {len(self)} examples)"


def _fast(dataset: Any) -> bool:
    """Whether `_gather` can take a batch of ``dataset``'s examples at once from their rows:
    for a `TensorDataset`, an array, and a `Subset` of one."""
    while isinstance(dataset, Subset):
        dataset = dataset.dataset
    return isinstance(dataset, (TensorDataset, np.ndarray))


def _gather(dataset: Any, rows: Any) -> Any:
    """The batch of the examples at ``rows`` (an int array or a slice) of a data set `_fast`
    takes, what `default_collate` of them one by one gives, from one indexing per array."""
    while isinstance(dataset, Subset):
        dataset, rows = dataset.dataset, dataset.indices[rows]
    if isinstance(dataset, TensorDataset):
        return tuple(a[rows] for a in dataset.arrays)
    return dataset[rows]


class TensorDataset(Dataset):
    """Arrays of examples in rows, as PyTorch's ``TensorDataset(X, Y)``: example i is
    ``(X[i], Y[i])`` (one item per array given). The arrays (numpy arrays, Tensors' values,
    nested lists) must have the same number m of rows; ``dataset.arrays`` holds them::

        train = data.TensorDataset(X_train, Y_train)    # X (m, n_x), Y (m, ...)
        loader = data.DataLoader(train, batch_size=64, shuffle=True, seed=0)

    A batch is the arrays indexed by its rows, not its examples stacked one by one.
    """

    def __init__(self, *arrays: Any) -> None:
        if not arrays:
            raise ArgumentError("TensorDataset takes one array or more, with examples in rows: "
                                "TensorDataset(X, Y)")
        names = ["X", "Y"] if len(arrays) == 2 else [f"array {i}" for i in range(len(arrays))]
        self.arrays = tuple(array_of(a, name, "TensorDataset") for a, name in zip(arrays, names))
        shapes = [a.shape for a in self.arrays]
        if any(len(s) == 0 for s in shapes) or len({s[0] for s in shapes}) > 1:
            tip = ""
            if len(shapes) == 2 and all(len(s) == 2 for s in shapes) and shapes[0][1] == \
                    shapes[1][1]:
                tip = (" Examples go in rows here; the course's (n_x, m) layout needs X.T "
                       "and Y.T.")
            given = ", ".join(f"{name} {s}" for name, s in zip(names, shapes))
            raise ShapeError(f"TensorDataset: {given} must have one row per example, the same "
                             f"number m of them.{tip}")

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index: int) -> tuple[np.ndarray, ...]:
        return tuple(a[index] for a in self.arrays)

    def __repr__(self) -> str:
        return f"TensorDataset({', '.join(str(a.shape) for a in self.arrays)})"


class Subset(Dataset):
    """The examples of ``dataset`` at ``indices``, in that order, as PyTorch's ``Subset``:
    ``subset[i]`` is ``dataset[indices[i]]`` (``subset.indices``, an array, holds them, a
    negative one counted from the end as the index it stands for). `random_split` makes
    them.

    ``subset.indices`` is a numpy int array, where PyTorch's random_split gives a list: index
    arrays with it as with a list (``X[train.indices]``), but join two with
    ``np.concatenate([train.indices, dev.indices])``, since ``+`` adds them element by
    element."""

    def __init__(self, dataset: Any, indices: Sequence[int] | np.ndarray) -> None:
        _require_dataset(dataset, "Subset")
        size = len(dataset)
        given = array_of(listed(indices, "Subset", "indices, a list of whole numbers"),
                         "indices", "Subset")
        if given.size and (given.dtype.kind not in "iu" or given.ndim != 1):
            raise ArgumentError(f"Subset: indices must be a list of whole numbers, got "
                                f"{setting_text(indices)}")
        rows = given.astype(np.intp).reshape(-1)
        bad = (rows < -size) | (rows >= size)
        if bad.any():
            raise ArgumentError(f"Subset: index {rows[bad][0]} is out of range for a data set "
                                f"of {size} examples")
        self.dataset, self.indices = dataset, rows % size if size else rows

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int | list[int]) -> Any:
        if isinstance(index, list):  # as PyTorch's: the data set's examples at those
            return self.dataset[[int(self.indices[i]) for i in index]]
        return self.dataset[int(self.indices[index])]

    def __repr__(self) -> str:
        return f"Subset({len(self)} of {self.dataset!r})"


class ConcatDataset(Dataset):
    """``datasets`` (a list of data sets) one after the other, as PyTorch's ``ConcatDataset``
    (and ``a + b`` of two `Dataset`\\ s): example i is that of the data set it falls in,
    counted from that one's start. ``cumulative_sizes`` lists where each ends."""

    def __init__(self, datasets: Iterable[Any]) -> None:
        self.datasets = listed(datasets, "ConcatDataset", "a list of data sets")
        if not self.datasets:
            raise ArgumentError("ConcatDataset takes a list of one data set or more, got none")
        for i, dataset in enumerate(self.datasets):
            _require_dataset(dataset, f"ConcatDataset (data set {i})")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]).tolist())

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> Any:
        size = len(self)
        if not -size <= index < size:
            raise IndexError(f"ConcatDataset: index {index} is out of range for {size} "
                             "examples")
        index = index % size
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]

    def __repr__(self) -> str:
        return f"ConcatDataset({len(self.datasets)} data sets, {len(self)} examples)"


def _require_dataset(dataset: Any, caller: str) -> None:
    """Refuse what has no ``len()`` and ``[i]``, naming ``caller``."""
    if isinstance(dataset, IterableDataset):
        raise GraphgradTypeError(
            f"{caller}: the data set ({type(dataset).__name__}) is an IterableDataset, a "
            "stream with no dataset[i] (PyTorch refuses it too); take its examples by "
            "iterating, chain streams with data.ChainDataset, or give a data set with "
            "__len__ and __getitem__")
    if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
        stream = ("; for a stream of examples: make it a data.IterableDataset (a class with "
                  "__iter__), which the loader batches in order"
                  if caller == "DataLoader" and hasattr(dataset, "__iter__") else "")
        raise GraphgradTypeError(
            f"{caller}: a data set needs len(dataset) and dataset[i] (__len__ and __getitem__), "
            f"got {setting_text(dataset)}; wrap arrays as data.TensorDataset(X, Y), or give "
            f"a class of your own those two methods (data.Dataset){stream}")


@renamed("the split is seeded by a number, or numpy's Generator: seed=0",
         generator="seed")
def random_split(dataset: Any, lengths: Sequence[float], seed: Any = 0) -> list[Subset]:
    """Split ``dataset`` at random into `Subset`\\ s of ``lengths`` examples, as PyTorch's
    random_split: counts that add up to len(dataset), or fractions that add up to 1 (each
    ``floor(fraction * m)``, the examples left over then given one each to the first sets,
    as PyTorch does)::

        train, dev = data.random_split(dataset, [0.8, 0.2], seed=0)

    The examples are ``np.random.default_rng(seed).permutation(m)`` cut in that order (a
    seed gives other sets than PyTorch's generator does; the same sizes). ``seed``: a whole
    number >= 0, numbers such as ``(seed, 1)``, or None for a fresh draw.
    """
    _require_dataset(dataset, "random_split")
    m = len(dataset)
    given = listed(lengths, "random_split", "lengths: counts such as [800, 200] or fractions "
                                            "such as [0.8, 0.2]")
    if not given:
        raise ArgumentError("random_split: lengths is empty; give counts such as [800, 200] "
                            "or fractions such as [0.8, 0.2]")
    counts = _split_sizes(given, m)
    order = np.random.default_rng(seed_value(seed, "random_split")).permutation(m)
    ends = np.cumsum(counts)
    return [Subset(dataset, order[end - n:end]) for n, end in zip(counts, ends)]


def _split_sizes(lengths: list[Any], m: int) -> list[int]:
    """The sizes `random_split` cuts: counts as given, or fractions as PyTorch rounds them."""
    fractions = math.isclose(sum(_as_number(x) for x in lengths), 1.0) and not all(
        isinstance(x, (int, np.integer)) and not isinstance(x, bool) for x in lengths)
    if fractions:
        for x in lengths:
            real_number(x, f"the fraction {setting_text(x)}", "random_split",
                        lambda v: 0.0 <= v <= 1.0, "in [0, 1]")
        counts = [math.floor(m * float(x)) for x in lengths]
        for i in range(m - sum(counts)):  # the examples left over, one each from the first
            counts[i % len(counts)] += 1
        return counts
    if not all(_as_number(x).is_integer() for x in lengths):
        raise ArgumentError(
            f"random_split: the fractions {lengths} add up to "
            f"{sum(_as_number(x) for x in lengths):.10g}, not 1; give fractions that add up to 1 "
            "(such as [0.8, 0.2]) or counts of examples")
    counts = [whole_number(x, f"the length {setting_text(x)}", "random_split", least=0)
              for x in lengths]
    if sum(counts) != m:
        raise ArgumentError(
            f"random_split: the lengths {counts} add up to {sum(counts)}, but the data set has "
            f"{m} examples; give counts that add up to {m}, or fractions that add up to 1 "
            "(such as [0.8, 0.2])")
    return counts


def _as_number(x: Any) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def default_collate(batch: list[Any]) -> Any:
    """A batch of examples as one, as PyTorch's default_collate, with numpy arrays for its
    Tensors: arrays (and numpy numbers) stacked into an array with a new first axis (the
    batch), Python floats into a float64 array, ints into an int64 one (float64 with a float
    among them), bools into a bool one; a tuple or list of items into a tuple or list of the
    items' batches (a named tuple keeps its type; PyTorch gives a list for a tuple), a dict
    into a dict of each key's batch (an OrderedDict stays one; every example must have the
    same keys); graphgrad Tensors into an array of their values; strings stay a list of
    strings.

    >>> default_collate([(np.zeros(3), 1), (np.ones(3), 0)])
    (array([[0., 0., 0.], [1., 1., 1.]]), array([1, 0]))
    """
    if not isinstance(batch, (list, tuple)) or not batch:
        raise ArgumentError(f"default_collate takes a non-empty list of examples, got "
                            f"{setting_text(batch)}")
    return _collate(list(batch), "the examples")


def default_convert(example: Any) -> Any:
    """An example as `DataLoader` with ``batch_size=None`` gives it, as PyTorch's
    default_convert, with numpy arrays for its Tensors: graphgrad Tensors become their values
    (numpy arrays), in tuples (a named tuple keeps its type), lists and dicts too; arrays,
    numbers, strings and anything else stay as they are.

    >>> default_convert((gg.Tensor([1.0, 2.0]), 3))
    (array([1., 2.]), 3)
    """
    if hasattr(example, "requires_grad") and hasattr(example, "data"):  # a Tensor
        return example.data
    if isinstance(example, Mapping):
        return {key: default_convert(value) for key, value in example.items()}
    if isinstance(example, tuple) and hasattr(example, "_fields"):  # a named tuple
        return type(example)(*(default_convert(x) for x in example))
    if isinstance(example, (tuple, list)):
        return type(example)(default_convert(x) for x in example)
    return example


def _same_kind(items: list[Any], kinds: Any, what: str) -> None:
    """Refuse a batch whose examples are not all ``kinds`` as the first is, naming the first
    other one: numpy made strings of [1, "a"] and an object array of [1.0, None]."""
    other = next((i for i, x in enumerate(items) if not isinstance(x, kinds)), None)
    if other is not None:
        raise GraphgradTypeError(
            f"default_collate: {what} are not all of one kind: example 0 is a "
            f"{type(items[0]).__name__}, example {other} a {type(items[other]).__name__}; "
            "give every example the same structure, or pass collate_fn=... to the DataLoader "
            "to batch them your own way")


def _collate(items: list[Any], what: str) -> Any:
    first = items[0]
    if isinstance(first, (np.ndarray, np.generic)) and not isinstance(first, (np.str_,
                                                                             np.bytes_)):
        shapes = {np.shape(x) for x in items}
        if len(shapes) > 1:
            i = next(i for i, x in enumerate(items) if np.shape(x) != np.shape(first))
            raise ShapeError(
                f"default_collate: {what} have different shapes (example 0's is "
                f"{np.shape(first)}, example {i}'s {np.shape(items[i])}), so they cannot be "
                "stacked into one array; pad them to one shape in the data set, or pass "
                "collate_fn=... to the DataLoader to batch them your own way")
        return np.stack([np.asarray(x) for x in items])
    if isinstance(first, (bool, int, float)) and not isinstance(first, np.generic):
        _same_kind(items, (bool, int, float, np.bool_, np.number), what)
        # One array of them all, as torch.tensor(batch): [1, 2.5] is float, not truncated.
        numbers = np.asarray(items)
        return numbers.astype(np.int64) if numbers.dtype.kind in "iu" else numbers
    if isinstance(first, (str, bytes)):
        return items
    if hasattr(first, "requires_grad") and hasattr(first, "data"):  # a Tensor: its values
        return _collate([x.data for x in items], what)
    if isinstance(first, Mapping):  # a dict, whatever mapping the examples are
        _same_kind(items, Mapping, what)
        keys = set(first)
        other = next((i for i, x in enumerate(items) if set(x) != keys), None)
        if other is not None:
            raise ShapeError(
                f"default_collate: {what} are dicts with other keys (example 0 has the keys "
                f"{sorted(map(str, keys))}, example {other} has the keys "
                f"{sorted(map(str, items[other]))}); give every example "
                "the same keys, or pass collate_fn=... to the DataLoader to batch them your "
                "own way")
        batch = {key: _collate([x[key] for x in items], f"{what}' {key!r}") for key in first}
        try:  # an OrderedDict stays one, as in PyTorch
            return batch if type(first) is dict else type(first)(batch)
        except TypeError:  # a mapping not made from a dict
            return batch
    if isinstance(first, (tuple, list)):
        _same_kind(items, (tuple, list), what)
        sizes = {len(x) for x in items}
        if len(sizes) > 1:
            raise ShapeError(f"default_collate: {what} have different numbers of items "
                             f"({sorted(sizes)}); each example must have as many, or pass "
                             "collate_fn=... to the DataLoader to batch them your own way")
        parts = [_collate(list(column), f"{what}' item {j}")
                 for j, column in enumerate(zip(*items))]
        if isinstance(first, tuple) and hasattr(first, "_fields"):  # a named tuple
            return type(first)(*parts)
        return tuple(parts) if isinstance(first, tuple) else parts
    raise GraphgradTypeError(
        f"default_collate: {what} hold {type(first).__name__} values, which it cannot batch "
        "(it stacks numpy arrays and numbers, and tuples, lists and dicts of them); have the "
        "data set give arrays, or pass collate_fn=... to the DataLoader to batch them your "
        "own way")
