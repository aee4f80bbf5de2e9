"""Samplers, as PyTorch's ``torch.utils.data`` has them, for `data.DataLoader`'s ``sampler=``
and ``batch_sampler=``: the order in which an epoch visits a data set's examples (their
indices), drawn anew at every ``iter()``. The random ones draw from a numpy Generator seeded
with ``seed`` (PyTorch's ``generator=``), which ``reseed`` restarts: `fit` reseeds a loader's
sampler with the loader, each epoch from its seed and the epoch's number, so a run with a
sampler repeats, and resumes, exactly. Import them from `graphgrad.data`. Depends on numpy
and `errors`.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    GraphgradTypeError,
    array_of_numbers,
    flag,
    renamed,
    seed_value,
    setting_text,
    whole_number,
)

__all__ = ["BatchSampler", "RandomSampler", "SequentialSampler", "SubsetRandomSampler",
           "WeightedRandomSampler"]


class _Seeded:
    """A sampler drawing from a generator seeded with ``seed``, restarted by `reseed`."""

    def __init__(self, seed: Any) -> None:
        self.rng = np.random.default_rng(seed_value(seed, type(self).__name__))

    def reseed(self, seed: Any) -> None:
        """Restart the draws from ``seed`` (a number, numbers such as ``(seed, epoch)``, or
        None for a fresh one), as `fit` does before each epoch with its seed."""
        self.rng = np.random.default_rng(seed_value(seed, f"{type(self).__name__}.reseed"))


# PyTorch's generator= (a torch.Generator) is seed= here, which takes numpy's Generator too.
_SEED = renamed("the draws are seeded by a number, or numpy's Generator: seed=0",
                generator="seed")


def _size(data_source: Any, caller: str) -> int:
    try:
        return len(data_source)
    except TypeError:
        raise GraphgradTypeError(f"{caller} takes the data set (to count its examples), got "
                                 f"{setting_text(data_source)}") from None


class SequentialSampler:
    """The indices 0, 1, ..., len(data_source) - 1 in order, as PyTorch's
    ``SequentialSampler(data_source)``."""

    def __init__(self, data_source: Any) -> None:
        self.data_source = data_source
        _size(data_source, "SequentialSampler")

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(_Seeded):
    """The indices of ``data_source`` in a new random order every epoch, as PyTorch's
    ``RandomSampler``: a permutation of them (``num_samples`` above len(data_source): one
    permutation after another, cut there), or, with ``replacement=True``, ``num_samples``
    indices drawn uniformly with replacement (len(data_source) of them by default).

    Args:
        data_source: the data set.
        replacement: draw with replacement.
        num_samples: the indices an epoch gives, at least 1 (len(data_source) by default);
            drawing them from an empty data set is refused.
        seed: the draws' seed (PyTorch's ``generator=``), restarted by ``reseed``.
    """

    @_SEED
    def __init__(self, data_source: Any, replacement: bool = False,
                 num_samples: int | None = None, seed: Any = 0) -> None:
        super().__init__(seed)
        self.data_source = data_source
        _size(data_source, "RandomSampler")
        self.replacement = flag(replacement, "replacement", "RandomSampler")
        self._num_samples = (None if num_samples is None
                             else whole_number(num_samples, "num_samples", "RandomSampler"))

    @property
    def num_samples(self) -> int:
        """The indices an epoch gives."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n, count = len(self.data_source), self.num_samples
        if n == 0:
            if count:  # len() said count: an epoch of none would contradict it
                raise ArgumentError(
                    f"RandomSampler: num_samples={count} indices cannot be drawn from a data "
                    "set of no examples; give the sampler a data set with examples")
            return iter(())
        if self.replacement:
            return iter(self.rng.integers(0, n, size=count).tolist())
        perms = [self.rng.permutation(n) for _ in range(math.ceil(count / n))]
        return iter(np.concatenate(perms)[:count].tolist())

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(_Seeded):
    """The given ``indices`` in a new random order every epoch, as PyTorch's
    ``SubsetRandomSampler(indices)``: ``indices[i]`` for i in a permutation drawn from a
    generator seeded with ``seed`` (PyTorch's ``generator=``), restarted by ``reseed``."""

    @_SEED
    def __init__(self, indices: Iterable[int], seed: Any = 0) -> None:
        super().__init__(seed)
        self.indices = list(indices)

    def __iter__(self) -> Iterator[int]:
        return iter([self.indices[i] for i in self.rng.permutation(len(self.indices))])

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(_Seeded):
    """``num_samples`` indices drawn with probabilities proportional to ``weights``, as
    PyTorch's ``WeightedRandomSampler``: index i with probability weights[i] / sum(weights),
    with replacement by default (the way to see a rare class as often as the others: weight
    each example by 1 / its class's count)::

        counts = np.bincount(y)
        sampler = data.WeightedRandomSampler(1.0 / counts[y], num_samples=len(y))

    Each epoch is ``rng.choice(len(weights), num_samples, replace=replacement, p=weights /
    sum(weights))``, numpy's draw (a seed gives other indices than PyTorch's multinomial).

    Args:
        weights: one weight per example, >= 0 and finite, not all 0.
        num_samples: the indices an epoch gives, at least 1; without replacement, at most
            the number of weights above 0.
        replacement: draw with replacement (True, PyTorch's default).
        seed: the draws' seed (PyTorch's ``generator=``), restarted by ``reseed``.
    """

    @_SEED
    def __init__(self, weights: Any, num_samples: int, replacement: bool = True,
                 seed: Any = 0) -> None:
        super().__init__(seed)
        name = "WeightedRandomSampler"
        w = array_of_numbers(weights, "weights", name).astype(np.float64).reshape(-1)
        if w.size == 0 or not np.isfinite(w).all() or (w < 0).any() or not w.sum() > 0:
            raise ArgumentError(f"{name}: weights must be one per example, each >= 0 and "
                                f"finite, not all 0, got {setting_text(weights)}")
        self.weights = w
        self.num_samples = whole_number(num_samples, "num_samples", name)
        self.replacement = flag(replacement, "replacement", name)
        if not self.replacement and self.num_samples > np.count_nonzero(w):
            raise ArgumentError(
                f"{name}: without replacement, num_samples={self.num_samples} cannot be drawn "
                f"from the {np.count_nonzero(w)} examples whose weight is above 0; give fewer, "
                "or replacement=True")

    def __iter__(self) -> Iterator[int]:
        p = self.weights / self.weights.sum()
        return iter(self.rng.choice(len(p), size=self.num_samples, replace=self.replacement,
                                    p=p).tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler:
    """The indices of ``sampler`` in lists of ``batch_size``, as PyTorch's ``BatchSampler``
    (for `DataLoader`'s ``batch_sampler=``); ``drop_last`` leaves out a last, smaller list.
    Reseeding it reseeds the sampler."""

    def __init__(self, sampler: Iterable[int], batch_size: int, drop_last: bool) -> None:
        if not hasattr(sampler, "__iter__"):
            raise GraphgradTypeError(f"BatchSampler takes a sampler (an iterable of indices), "
                                     f"got {setting_text(sampler)}")
        self.sampler = sampler
        self.batch_size = whole_number(batch_size, "batch_size", "BatchSampler")
        self.drop_last = flag(drop_last, "drop_last", "BatchSampler")

    def reseed(self, seed: Any) -> None:
        """Reseed the sampler with ``seed``, if it draws at random (see
        `RandomSampler.reseed`)."""
        if hasattr(self.sampler, "reseed"):
            self.sampler.reseed(seed)

    def __iter__(self) -> Iterator[list[int]]:
        indices = list(self.sampler)
        stop = len(indices) - len(indices) % self.batch_size if self.drop_last else len(indices)
        return iter([indices[k:k + self.batch_size] for k in range(0, stop, self.batch_size)])

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
