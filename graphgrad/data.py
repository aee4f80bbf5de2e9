"""Data for training: mini-batches, a loader, standardisation, splits, the planar data set,
and PyTorch's data sets (`TensorDataset`, `Subset`, `ConcatDataset`, `StackDataset`,
`IterableDataset`, `ChainDataset`, `random_split`, `default_collate`, `default_convert`,
from `datasets`) and
samplers (`RandomSampler`, `WeightedRandomSampler`, ..., from `samplers`), which the loader
takes too.

Everything is batch-first numpy: X of shape (m, n_x), one example per row, and labels Y of
shape (m, 1), (m,) or (m, C). (The course's X is (n_x, m): pass ``X.T``.) Randomness comes
from seeds, through numpy Generators, so every split and every epoch's order can be
reproduced. Depends on numpy, `errors`, `datasets` and `samplers`.
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from graphgrad.datasets import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    _fast,
    _gather,
    _require_dataset,
    default_collate,
    default_convert,
    random_split,
)
from graphgrad.errors import (
    ArgumentError,
    GraphgradTypeError,
    ShapeError,
    array_of,
    array_of_numbers,
    flag,
    real_number,
    renamed,
    seed_value,
    setting_text,
    whole_number,
)
from graphgrad.samplers import (
    BatchSampler,
    RandomSampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

Batch = tuple[np.ndarray, np.ndarray]

__all__ = ["BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset",
           "IterableDataset", "RandomSampler", "SequentialSampler", "StackDataset",
           "Standardizer", "Subset", "SubsetRandomSampler", "TensorDataset",
           "WeightedRandomSampler", "default_collate", "default_convert", "minibatches",
           "one_hot", "planar_dataset", "random_split", "standardize", "train_dev_test_split"]


def _check_pair(X: Any, Y: Any, caller: str) -> tuple[np.ndarray, np.ndarray]:
    X = array_of(X, "X", caller)
    Y = array_of(Y, "Y", caller)
    if X.ndim == 0 or Y.ndim == 0 or len(X) != len(Y):
        tip = ""
        if X.ndim == 2 and Y.ndim == 2 and X.shape[1] == Y.shape[1]:
            tip = " Examples go in rows here; the course's (n_x, m) layout needs X.T and Y.T."
        raise ShapeError(
            f"{caller}: X {X.shape} and Y {Y.shape} must have one row per example, the same "
            f"number m of them.{tip}"
        )
    return X, Y


def minibatches(X: Any, Y: Any, batch_size: int = 64, shuffle: bool = True,
                seed: int | None = 0, drop_last: bool = False) -> list[Batch]:
    """The course's random_mini_batches, batch-first: shuffle (X, Y) together, then cut into
    batches of ``batch_size``; the last, smaller batch is kept (m % batch_size examples).

    Args:
        X: (m, n_x).  Y: (m, ...) labels, shuffled with the same permutation.
        batch_size: examples per batch (powers of two, 64 to 512, in the course).
        shuffle: False keeps the order.
        seed: the permutation's seed, a whole number >= 0 or numbers such as ``(seed,
            epoch)`` (None: a fresh, unseeded one). The permutation is
            ``np.random.default_rng(seed).permutation(m)``, not the course's
            ``np.random.seed(seed); np.random.permutation(m)``, so a seed gives other batches
            than the course's function does (the same sizes). To get the course's batches,
            shuffle with its permutation and keep that order: ``perm =
            np.random.RandomState(seed).permutation(m)``, then
            ``minibatches(X[perm], Y[perm], batch_size, shuffle=False)``.
        drop_last: leave out the last, smaller batch (as PyTorch's DataLoader does): every
            batch then has ``batch_size`` examples, which batch norm in training mode needs
            when m % batch_size is 1. With shuffling, the examples left out change each time.

    Returns:
        a list of (X_batch, Y_batch) pairs.
    """
    X, Y = _check_pair(X, Y, "minibatches")
    batch_size = whole_number(batch_size, "batch_size", "minibatches")
    shuffle = flag(shuffle, "shuffle", "minibatches")
    drop_last = flag(drop_last, "drop_last", "minibatches")
    seed = seed_value(seed, "minibatches")
    m = len(X)
    if shuffle:
        order = np.random.default_rng(seed).permutation(m)
        X, Y = X[order], Y[order]
    return [(X[k:k + batch_size], Y[k:k + batch_size])
            for k in range(0, _batched(m, batch_size, drop_last), batch_size)]


def _batched(m: int, batch_size: int, drop_last: bool) -> int:
    """How many of the m examples go into batches: all, or only the full batches'."""
    return m - m % batch_size if drop_last else m


class _DefaultBatchSize(int):
    """batch_size's default, 64, told apart from a batch_size given (which a batch_sampler
    refuses) by being this one object."""


_BATCH_SIZE = _DefaultBatchSize(64)


class DataLoader:
    """Iterate over mini-batches of a data set, reshuffled every epoch (every ``iter()``), as
    PyTorch's DataLoader; ``len(loader)`` is the number of batches.

    ``DataLoader(X, Y, ...)`` cuts X (m, n_x) and Y (m, ...) into (X_batch, Y_batch) pairs
    (as `minibatches` does). ``DataLoader(dataset, ...)`` takes PyTorch's data sets: a
    `TensorDataset` (``TensorDataset(X, Y)`` gives the same batches as ``DataLoader(X, Y)``,
    as fast), a `Subset` (from `random_split`), a `ConcatDataset`, an array (batches of its
    rows), or any object with ``len(dataset)`` and ``dataset[i]``, whose examples
    `default_collate` stacks into numpy arrays (or ``collate_fn`` batches)::

        >>> for X_batch, Y_batch in DataLoader(X, Y, batch_size=64, seed=0): ...
        >>> loader = DataLoader(TensorDataset(X, Y), batch_size=64, shuffle=True)

    The epochs' orders come from one generator seeded with ``seed`` (PyTorch's
    ``generator=``), so a loader made with the same seed gives the same sequence of batches.
    The defaults are graphgrad's: batches of 64, shuffled (PyTorch's are of 1, in order).

    Args:
        dataset: a data set, or X (m, n_x) when Y is given.
        Y: the labels (m, ...) of X's examples, or None for a data set.
        batch_size: examples per batch; None for the examples one by one, not batched.
        shuffle: a new order every epoch; False gives the examples in their order every
            epoch (the seed then changes nothing). Left out (None), it is True, graphgrad's
            default, unless a sampler or batch sampler gives the order or the data set is an
            `IterableDataset` (which is read in order): with those, shuffle=True is refused,
            as PyTorch refuses it.
        seed: the orders' seed: a whole number >= 0, numbers such as ``(seed, epoch)``, a
            numpy Generator, or None for fresh ones.
        drop_last: leave out each epoch's last, smaller batch (see `minibatches`).
        sampler: the order of the examples' indices each epoch, in place of shuffling: any
            iterable of them, iterated anew every epoch (a list keeps one order; with a
            len() for ``len(loader)``); not with shuffle=True (shuffle with a
            `RandomSampler`).
        batch_sampler: the batches themselves, each a list of indices, iterated anew every
            epoch; in place of batch_size, shuffle, sampler and drop_last, which are then
            refused (PyTorch's batch_size=1 excepted), as PyTorch refuses them.
        collate_fn: ``collate_fn(examples) -> batch``, given the list of a batch's examples
            (``dataset[i]`` each); `default_collate` when None, which a `TensorDataset`
            does with one indexing of each array rather than example by example.
        num_workers, pin_memory, persistent_workers, prefetch_factor, timeout,
        worker_init_fn, multiprocessing_context, pin_memory_device, in_order: PyTorch's,
            taken so that its code runs as written, and changing nothing: the batches are
            made in this process, in order, as PyTorch's with num_workers=0, and numpy
            arrays have no pinned memory (worker_init_fn is never called). What PyTorch
            refuses is refused: persistent_workers=True, a prefetch_factor or a
            multiprocessing_context with num_workers=0, a negative timeout.

    ``batch_size=None`` is PyTorch's loading without batches: each example as the data set
    gives it, in the sampler's (or shuffled, or sequential) order, through ``collate_fn``
    (`default_convert` by default, which takes Tensors to their values); not with
    drop_last=True.

    An `IterableDataset` is batched in the order it gives its examples, ``batch_size`` at a
    time (``drop_last`` leaves out a last, smaller batch), collated as a map-style data
    set's; each ``iter(loader)`` iterates it anew, so `fit` runs epoch after epoch over it.
    ``len(loader)`` needs its len(), and an epoch, a generator of the data set's, cannot be
    pickled to resume.
    """

    @renamed("DataLoader's first argument is a data set, or X with Y", X="dataset")
    @renamed("the order is seeded by a number, or numpy's Generator: seed=0", generator="seed")
    def __init__(self, dataset: Any, Y: Any = None, batch_size: int | None = _BATCH_SIZE,
                 shuffle: bool | None = None, seed: Any = 0, drop_last: bool = False, *,
                 sampler: Iterable[Any] | None = None,
                 batch_sampler: Iterable[Iterable[Any]] | None = None,
                 collate_fn: Callable[[list[Any]], Any] | None = None,
                 num_workers: int = 0, pin_memory: bool = False,
                 persistent_workers: bool = False, prefetch_factor: int | None = None,
                 timeout: float = 0, worker_init_fn: Callable[[int], Any] | None = None,
                 multiprocessing_context: Any = None, pin_memory_device: str = "",
                 in_order: bool = True) -> None:
        name = "DataLoader"
        self._workers(num_workers, pin_memory, persistent_workers, prefetch_factor, timeout,
                      worker_init_fn, multiprocessing_context)
        self.pin_memory_device = pin_memory_device
        self.in_order = flag(in_order, "in_order", name)
        if Y is not None and (isinstance(Y, (int, np.integer)) and not isinstance(Y, bool)):
            raise ArgumentError(
                f"{name}: the second argument is Y, the labels of X (DataLoader(X, Y, 64)), "
                f"got {setting_text(Y)}; with a data set, give the batch size by name: "
                f"DataLoader(dataset, batch_size={Y})")
        if Y is not None:
            self.X, self.Y = _check_pair(dataset, Y, name)
            dataset = TensorDataset(self.X, self.Y)
        elif not isinstance(dataset, (np.ndarray, IterableDataset)):
            _require_dataset(dataset, name)
        self.dataset = dataset
        given_size = batch_size is not _BATCH_SIZE
        self.batch_size = (None if batch_size is None
                           else int(whole_number(batch_size, "batch_size", name)))
        self.drop_last = flag(drop_last, "drop_last", name)
        if batch_size is None and self.drop_last:
            raise ArgumentError(f"{name}: batch_size=None gives the examples one by one, not "
                                "batched, so it takes no drop_last=True (PyTorch refuses it "
                                "too); leave drop_last out, or give a batch_size")
        if collate_fn is not None and not callable(collate_fn):
            raise GraphgradTypeError(f"{name}: collate_fn must be a function of a list of "
                                     f"examples giving their batch, got {setting_text(collate_fn)}")
        self.collate_fn = collate_fn
        self.sampler, self.batch_sampler = sampler, batch_sampler
        for given, what in ((sampler, "sampler"), (batch_sampler, "batch_sampler")):
            if given is not None and not hasattr(given, "__iter__"):
                raise GraphgradTypeError(f"{name}: {what} must be an iterable of indices"
                                         f"{' lists' if what == 'batch_sampler' else ''}, "
                                         f"got {setting_text(given)}")
        asked = None if shuffle is None else flag(shuffle, "shuffle", name)
        self._refuse_conflicts(asked, sampler, batch_sampler, given_size)
        # Shuffled by default, unless something else says the order.
        self.shuffle = (asked is not False and sampler is None and batch_sampler is None
                        and not isinstance(dataset, IterableDataset))
        self.rng = np.random.default_rng(seed_value(seed, name))

    def _workers(self, num_workers: Any, pin_memory: Any, persistent_workers: Any,
                 prefetch_factor: Any, timeout: Any, worker_init_fn: Any,
                 multiprocessing_context: Any) -> None:
        """PyTorch's worker settings, kept as attributes; they change nothing here (see the
        docstring), but what PyTorch refuses is refused, so that code runs there too."""
        name = "DataLoader"
        self.num_workers = whole_number(num_workers, "num_workers", name, least=0)
        self.pin_memory = flag(pin_memory, "pin_memory", name)
        self.persistent_workers = flag(persistent_workers, "persistent_workers", name)
        self.timeout = real_number(timeout, "timeout", name, lambda x: 0 <= x < math.inf,
                                   "a number of seconds >= 0")
        if worker_init_fn is not None and not callable(worker_init_fn):
            raise GraphgradTypeError(f"{name}: worker_init_fn must be a function of a worker's "
                                     f"id, or None, got {setting_text(worker_init_fn)}")
        self.worker_init_fn = worker_init_fn
        self.prefetch_factor = (None if prefetch_factor is None else
                                whole_number(prefetch_factor, "prefetch_factor", name))
        self.multiprocessing_context = multiprocessing_context
        for given, what in ((prefetch_factor is not None, f"prefetch_factor={prefetch_factor}"),
                            (self.persistent_workers, "persistent_workers=True"),
                            (multiprocessing_context is not None,
                             f"multiprocessing_context={multiprocessing_context!r}")):
            if given and self.num_workers == 0:
                raise ArgumentError(
                    f"{name}: {what} sets up worker processes, but num_workers=0 starts none "
                    f"(PyTorch refuses it too); leave {what.split('=')[0]} out, or give "
                    "num_workers > 0 (batches are made in this process either way)")

    def _refuse_conflicts(self, shuffle: bool | None, sampler: Any, batch_sampler: Any,
                          given_size: bool) -> None:
        """Refuse what PyTorch's DataLoader refuses: an order given twice, or batches given
        with what would cut them, and an order given to a stream read in order."""
        name = "DataLoader"
        if isinstance(self.dataset, IterableDataset):
            for given, what in ((shuffle, "shuffle=True"), (sampler, "sampler"),
                                (batch_sampler, "batch_sampler")):
                if given is not None and given is not False:
                    raise ArgumentError(
                        f"{name}: the data set ({type(self.dataset).__name__}) is an "
                        f"IterableDataset, read in the order it gives its examples, so it takes "
                        f"no {what} (PyTorch refuses it too); shuffle or pick the examples in "
                        "its __iter__, or give a data set with __len__ and __getitem__")
            return
        if batch_sampler is not None:
            given = [what for on, what in (
                (given_size and self.batch_size != 1, f"batch_size={self.batch_size}"),
                (shuffle, "shuffle=True"), (sampler is not None, "sampler"),
                (self.drop_last, "drop_last=True")) if on]
            if given:
                raise ArgumentError(
                    f"{name}: batch_sampler gives the batches themselves, so it takes no "
                    f"{', '.join(given)} (PyTorch refuses them too); leave them out, or give "
                    "them to data.BatchSampler(sampler, batch_size, drop_last)")
        if isinstance(sampler, BatchSampler):
            raise ArgumentError(
                f"{name}: sampler= is given a BatchSampler, which gives lists of indices; pass "
                "it as batch_sampler=, in place of batch_size, shuffle and drop_last")
        if sampler is not None and shuffle:
            raise ArgumentError(
                f"{name}: the sampler gives the order, so it takes no shuffle=True (PyTorch "
                "refuses it too); leave shuffle out, or shuffle with "
                "sampler=data.RandomSampler(dataset)")

    def reseed(self, seed: Any) -> None:
        """Restart the sequence of epoch orders from ``seed`` (a number, numbers such as
        ``(seed, epoch)``, or None for a fresh one). The generator's state is saved nowhere: a
        loop that resumes at epoch k repeats the run not stopped when it calls
        ``loader.reseed((seed, epoch))`` before each epoch, as `fit` does with its seed. A
        sampler with a ``reseed`` method (`RandomSampler`, `WeightedRandomSampler`, ...) is
        reseeded with it."""
        self.rng = np.random.default_rng(seed_value(seed, "DataLoader.reseed"))
        for sampler in (self.sampler, self.batch_sampler):  # RandomSampler and the others
            if hasattr(sampler, "reseed"):
                sampler.reseed(seed)

    @property
    def m(self) -> int:
        """The number of examples in the data set."""
        return len(self.dataset)

    def _count(self, n: int) -> int:
        """The batches of n examples: one per example without a batch_size."""
        if self.batch_size is None:
            return n
        return -(-_batched(n, self.batch_size, self.drop_last) // self.batch_size)

    def __len__(self) -> int:
        if isinstance(self.dataset, IterableDataset):
            try:
                n = len(self.dataset)
            except TypeError:
                raise GraphgradTypeError(
                    f"DataLoader: len(loader) counts the batches from len(dataset), but the "
                    f"data set ({type(self.dataset).__name__}) is an IterableDataset with no "
                    "len(); give it a __len__, or count the batches by iterating") from None
            return self._count(n)
        if self.batch_sampler is not None:
            return _length(self.batch_sampler, "batch_sampler")
        return self._count(self.m if self.sampler is None else _length(self.sampler, "sampler"))

    def __iter__(self) -> Iterator[Any]:
        if self.batch_size is None:  # PyTorch's unbatched loading: the examples one by one
            convert = self.collate_fn or default_convert
            if isinstance(self.dataset, IterableDataset):
                return map(convert, iter(self.dataset))
            order = (list(self.sampler) if self.sampler is not None else
                     self.rng.permutation(self.m).tolist() if self.shuffle else
                     range(self.m))
            return _Unbatched(self.dataset, convert, order)
        if isinstance(self.dataset, IterableDataset):
            return _stream(iter(self.dataset), self.batch_size, self.drop_last,
                           self.collate_fn or default_collate)
        fast = self.collate_fn is None and _fast(self.dataset)
        batches = order = None
        if self.batch_sampler is not None:
            batches = [_indices(rows, "batch_sampler", self.dataset) if fast else list(rows)
                       for rows in self.batch_sampler]
            stop = len(batches)
        else:
            if self.sampler is not None:
                order = list(self.sampler)
                order = _indices(order, "sampler", self.dataset) if fast else order
            elif self.shuffle:
                order = self.rng.permutation(self.m)
            n = self.m if order is None else len(order)
            stop = _batched(n, self.batch_size, self.drop_last)
        return _Epoch(self.dataset, self.collate_fn, fast, order, self.batch_size, stop,
                      batches)


def _stream(examples: Iterator[Any], size: int, drop_last: bool,
            collate: Callable[[list[Any]], Any]) -> Iterator[Any]:
    """An `IterableDataset`'s epoch: its examples in the order they come, ``size`` at a
    time, each batch collated as it is filled."""
    while True:
        batch = list(itertools.islice(examples, size))
        if not batch or (drop_last and len(batch) < size):
            return
        yield collate(batch)


def _indices(rows: Any, what: str, dataset: Any) -> np.ndarray:
    """A sampler's indices as an int array, to index a data set's arrays with; a float would
    be truncated to another example's, and an index past the data set is refused here, by
    name, rather than by numpy's indexing of an array the user never made."""
    given = list(rows)
    try:
        rows = np.asarray(given)
    except ValueError:  # lists of other lengths
        rows = np.asarray(given, dtype=object)
    if rows.size and (rows.dtype.kind not in "iu" or rows.ndim != 1):
        raise GraphgradTypeError(f"DataLoader: the {what} must give whole numbers, the "
                                 f"examples' indices, got {rows.dtype} values of shape "
                                 f"{rows.shape} ({setting_text(given[0])} first)")
    if rows.size:
        size = len(dataset)
        bad = (rows < -size) | (rows >= size)
        if bad.any():
            valid = (f"its indices are 0..{size - 1} (or -{size}..-1 from the end)" if size
                     else "it has none to give")
            raise IndexError(f"DataLoader: the {what} gives index {rows[bad][0]}, but the data "
                             f"set ({type(dataset).__name__}) has {size} examples: {valid}")
    return rows.astype(np.intp, copy=False)


def _length(sampler: Any, what: str) -> int:
    try:
        return len(sampler)
    except TypeError:
        raise GraphgradTypeError(
            f"DataLoader: len(loader) counts the batches from len({what}), but the {what} "
            f"({type(sampler).__name__}) has no len(); give it a __len__, or pass a list"
        ) from None


class _Unbatched:
    """One epoch of a `DataLoader` with batch_size=None: each example of ``order`` as it is,
    passed through ``convert`` (`default_convert` or the collate_fn); an object, as `_Epoch`,
    so that it can be copied and pickled where it stands."""

    def __init__(self, dataset: Any, convert: Callable[[Any], Any], order: Any) -> None:
        self.dataset, self.convert, self.order, self.k = dataset, convert, order, 0

    def __iter__(self) -> _Unbatched:
        return self

    def __next__(self) -> Any:
        if self.k >= len(self.order):
            raise StopIteration
        self.k += 1
        return self.convert(self.dataset[self.order[self.k - 1]])


class _Epoch:
    """One epoch of a `DataLoader`: the data set, this epoch's order (None: as they are;
    or its batches of indices from a batch sampler) and the next batch's start. An object
    rather than a generator so that it can be copied and pickled (kept in a training state
    to resume) where it stands. Each batch is gathered when it is asked for: a shuffled copy
    of the whole X made at the start of every epoch took twice the time and held a second
    data set in memory."""

    def __init__(self, dataset: Any, collate_fn: Callable[[list[Any]], Any] | None,
                 fast: bool, order: Any, size: int, stop: int,
                 batches: list[Any] | None = None) -> None:
        self.dataset, self.collate_fn, self.fast = dataset, collate_fn, fast
        self.order, self.size, self.stop, self.batches, self.k = order, size, stop, batches, 0
        # A TensorDataset's arrays, indexed here directly: the batches of DataLoader(X, Y)
        # cost what X[rows], Y[rows] cost.
        self.arrays = dataset.arrays if fast and isinstance(dataset, TensorDataset) else None

    def __iter__(self) -> _Epoch:
        return self

    def __next__(self) -> Any:
        k = self.k
        if k >= self.stop:
            raise StopIteration
        if self.batches is None:
            self.k = end = k + self.size
            rows = slice(k, end) if self.order is None else self.order[k:end]
        else:
            self.k, rows = k + 1, self.batches[k]
        arrays = self.arrays
        if arrays is not None:
            if len(arrays) == 2:
                return arrays[0][rows], arrays[1][rows]
            return tuple(a[rows] for a in arrays)
        if self.fast:
            return _gather(self.dataset, rows)
        if isinstance(rows, slice):
            rows = range(*rows.indices(len(self.dataset)))
        elif isinstance(rows, np.ndarray):
            rows = rows.tolist()
        collate = default_collate if self.collate_fn is None else self.collate_fn
        return collate([self.dataset[i] for i in rows])


class Standardizer:
    """Standardise features with the training set's mean and standard deviation:
    X_std = (X - mu) / sigma, per feature (column). Fit on the training set only, then apply
    the same mu and sigma to the dev and test sets, as the course insists.

    The statistics are computed in float64; `transform` returns X's own float dtype (float32
    stays float32), and float64 for integer X.

    ``eps``: a feature whose std is at most eps (1e-12 by default, a finite number >= 0) is
    taken as constant and gets sigma = 1, rather than a division by almost 0 that would blow
    its rounding noise up to values of order 1.
    """

    def __init__(self, eps: float = 1e-12) -> None:
        self.eps = real_number(eps, "eps", "Standardizer", lambda x: 0 <= x < math.inf,
                               "a finite number >= 0")
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None

    def fit(self, X: Any) -> Standardizer:
        """Learn mu and sigma from X (m, n_x). A constant feature (every value the same, or
        a std of at most ``eps``) gets its value as mu and sigma = 1, so it becomes 0."""
        X = array_of_numbers(X, "X", "Standardizer.fit").astype(np.float64, copy=False)
        if X.ndim < 1 or len(X) == 0:
            raise ShapeError(f"Standardizer.fit needs examples in rows, got shape {X.shape}")
        # The mean of m equal values is off by rounding, and so the std is not 0 but about
        # 1e-16 times the value: 1e-10 for 1e6, far above eps. Comparing the extremes is exact.
        constant = X.max(axis=0) == X.min(axis=0)
        self.mean = np.where(constant, X[0], X.mean(axis=0))
        std = X.std(axis=0)
        self.std = np.where(constant | (std <= self.eps), 1.0, std)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """(X - mu) / sigma with the training set's mu and sigma."""
        if self.mean is None:
            raise ArgumentError("Standardizer.transform: it has no mean and standard deviation "
                                "yet; call fit(X_train) first (or fit_transform(X_train))")
        X = array_of_numbers(X, "X", "Standardizer.transform")
        if X.shape[1:] != self.mean.shape:
            raise ShapeError(f"Standardizer: fitted on examples of shape {self.mean.shape}, "
                             f"got X of shape {X.shape}")
        dtype = X.dtype if X.dtype.kind == "f" else np.dtype(np.float64)
        # In float64 (mu and sigma are), then back to X's precision.
        return ((X.astype(np.float64, copy=False) - self.mean) / self.std).astype(dtype, copy=False)

    def fit_transform(self, X: Any) -> np.ndarray:
        """`fit` on X (m, n_x), then `transform` X: for the training set."""
        return self.fit(X).transform(X)


def standardize(X_train: Any, *others: Any) -> tuple[np.ndarray, ...]:
    """Standardise X_train (m, n_x), and each of ``others`` (the dev and test sets, with
    n_x features each) with X_train's mean and std, in that order.

    >>> X_train, X_dev, X_test = standardize(X_train, X_dev, X_test)
    """
    scaler = Standardizer().fit(X_train)
    return (scaler.transform(X_train), *(scaler.transform(X) for X in others))


def train_dev_test_split(X: Any, Y: Any, dev: float = 0.1, test: float = 0.1,
                         shuffle: bool = True, seed: int | None = 0
                         ) -> tuple[Batch, Batch, Batch]:
    """Split (X, Y) into train, dev and test sets.

    Args:
        dev, test: the share of examples for each (a fraction below 1) or a count (a whole
            number). A positive share must give at least one example: 0.1 of 5 examples
            rounds to none and is refused; pass a count, or 0 for no such set.
        shuffle: shuffle first (with ``seed``), so each set draws from the same distribution.

    Returns:
        ((X_train, Y_train), (X_dev, Y_dev), (X_test, Y_test)).
    """
    X, Y = _check_pair(X, Y, "train_dev_test_split")
    shuffle = flag(shuffle, "shuffle", "train_dev_test_split")
    m = len(X)
    if m == 0:  # else a share was said to round to no examples, or dev=0, test=0 to leave none
        raise ShapeError(f"train_dev_test_split: X {X.shape} and Y {Y.shape} hold no examples; "
                         "there is nothing to split")

    def count(share: float, label: str) -> int:
        # NaN, inf, and what is no number (a tuple of the three shares, a string) are refused.
        real_number(share, label, "train_dev_test_split",
                    lambda x: x >= 0 and (x < 1 or x.is_integer()),
                    "a fraction in [0, 1) or a whole count of examples (dev and test are given "
                    "apart and training gets the rest: train_dev_test_split(X, Y, dev=0.1, "
                    "test=0.1))")
        if share >= 1:
            return int(share)
        n = int(round(share * m))
        if share > 0 and n == 0:
            needed = math.ceil(0.5 / share)  # the fewest m with round(share * m) >= 1
            needed += round(share * needed) < 1  # round() takes 0.5 to 0
            raise ArgumentError(
                f"train_dev_test_split: {label}={share} of {m} examples rounds to no "
                f"{label} examples; a share of {share} needs at least {needed} examples. "
                f"Pass a count ({label}=1), a larger share, or {label}=0 for no {label} set."
            )
        return n

    n_dev, n_test = count(dev, "dev"), count(test, "test")
    if n_dev + n_test >= m:
        raise ArgumentError(
            f"train_dev_test_split: {n_dev} dev + {n_test} test examples leave none of the "
            f"{m} for training"
        )
    seed = seed_value(seed, "train_dev_test_split")
    order = np.random.default_rng(seed).permutation(m) if shuffle else np.arange(m)
    train, dev_ix, test_ix = np.split(order, [m - n_dev - n_test, m - n_test])
    return (X[train], Y[train]), (X[dev_ix], Y[dev_ix]), (X[test_ix], Y[test_ix])


def one_hot(labels: Any, n_classes: int) -> np.ndarray:
    """Class indices (m,) -> one-hot rows (m, n_classes), the course's convert_to_one_hot
    transposed. ``labels`` are whole numbers in 0..n_classes - 1, of any shape (the course's
    Y (1, m) too), read in order as one axis."""
    n_classes = whole_number(n_classes, "n_classes", "one_hot")
    labels = array_of(labels, "labels", "one_hot").reshape(-1)
    if labels.dtype.kind not in "biuf":
        raise ArgumentError(f"one_hot: labels must be class indices, got {labels.dtype} values")
    # A fractional label is refused rather than truncated to a class it does not name.
    bad = (labels < 0) | (labels >= n_classes) | (labels != np.floor(labels))
    if bad.any():
        raise ArgumentError(f"one_hot: labels must be whole numbers in 0..{n_classes - 1}, "
                            f"got {labels[bad][0].item()!r} at position {int(np.argmax(bad))}")
    return np.eye(n_classes)[labels.astype(np.intp)]


def planar_dataset(m: int = 400, noise: float = 0.2, seed: int = 1) -> Batch:
    """The course's planar "flower" data set (load_planar_dataset), batch-first.

    Two classes of m/2 points each (class 1 gets the odd one out), along the petals of the
    curve r = 4 sin(4 t): class j takes the angles t in [3.12 j, 3.12 (j + 1)], each point
    jittered in angle and radius by Gaussian noise. Not linearly separable: logistic
    regression does no better than chance (51% on the default draw; the course's own draw
    gives 47%), one tanh hidden layer of 4 units about 90%.

    Args:
        m: the number of points, at least 2 (400, the course's, by default).
        noise: the standard deviation of the jitter, in angle and radius.
        seed: the draw's seed, as ``np.random.default_rng`` takes it (None: a fresh draw
            each call). The default, 1, gives the draw of the accuracies above, not the
            course's (its ``np.random.seed(1)`` drives numpy's legacy generator).

    Returns:
        X of shape (m, 2) and Y of shape (m, 1) (0 or 1).
    """
    m = whole_number(m, "m", "planar_dataset", least=2)  # one point per class at least
    noise = real_number(noise, "noise (the jitter's standard deviation)", "planar_dataset",
                        lambda x: 0 <= x < math.inf, "a finite number >= 0")
    rng = np.random.default_rng(seed_value(seed, "planar_dataset"))
    radius_max = 4.0
    X = np.zeros((m, 2))
    Y = np.zeros((m, 1))
    start = 0
    for j, count in enumerate((m // 2, m - m // 2)):
        rows = slice(start, start + count)
        t = np.linspace(j * 3.12, (j + 1) * 3.12, count) + rng.standard_normal(count) * noise
        r = radius_max * np.sin(4 * t) + rng.standard_normal(count) * noise
        X[rows] = np.c_[r * np.sin(t), r * np.cos(t)]
        Y[rows] = j
        start += count
    return X, Y
