"""Finite differences: one-sided slopes of the outputs as one input moves, element by
element or along a direction, with the rounding noise of their gap. The centred difference is
the mean of the two sides. Depends on numpy only.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields

import numpy as np

#: Units in the last place that rounding in fn may move each output element by.
_ROUNDING_ULPS = 4


class _Stepper:
    """Moves one input away from the base point and measures, for each float output, how
    sum(upstream * output) changes: slopes along a direction, in finite differences."""

    def __init__(self, evaluate: Callable[[list], list[np.ndarray]], base: list[np.ndarray],
                 upstream: list[np.ndarray]) -> None:
        self.evaluate, self.base, self.upstream = evaluate, base, upstream
        self.at_base = evaluate(base)

    def moved(self, j: int, direction: np.ndarray, step: float) -> list[np.ndarray]:
        """The outputs with input j moved by step * direction (copies: fn may write to them)."""
        arrays = [a + step * direction if k == j else a.copy() for k, a in enumerate(self.base)]
        return self.evaluate(arrays)

    def change(self, before: list[np.ndarray], after: list[np.ndarray]) -> np.ndarray:
        """sum(upstream * (after - before)) per output. Differencing element by element first
        lets the elements a step leaves alone cancel exactly: summing first would leave the
        rounding error of a total near 1e9 (about 1e-7) in every slope."""
        return np.array([np.sum(u * (a - b)) for u, b, a in zip(self.upstream, before, after)])

    def rounding(self, before: list[np.ndarray], after: list[np.ndarray]) -> np.ndarray:
        """How far rounding may move `change`: a few ulps of each element the step changed."""
        return np.array([
            np.sum(np.abs(u) * np.where(a != b, np.spacing(np.maximum(np.abs(a), np.abs(b))), 0))
            for u, b, a in zip(self.upstream, before, after)
        ]) * _ROUNDING_ULPS

    def slopes(self, j: int, direction: np.ndarray,
               step: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per output: the left and right slopes along ``direction`` of input j, and the
        rounding noise of their gap."""
        up, down = self.moved(j, direction, step), self.moved(j, direction, -step)
        right = self.change(self.at_base, up) / step
        left = self.change(down, self.at_base) / step
        noise = (self.rounding(self.at_base, up) + self.rounding(down, self.at_base)) / step
        return left, right, noise


def _direction(shape: tuple[int, ...], indices: Sequence[tuple[int, ...]]) -> np.ndarray:
    """The direction that moves the given elements of an input together, by one each."""
    direction = np.zeros(shape)
    for index in indices:
        direction[index] = 1.0
    return direction


@dataclass
class _Slopes:
    """One-sided slopes along single elements of one input, at steps eps and eps/2, the
    rounding noise of the gap between the eps ones, and where the eps/2 ones were measured
    (elsewhere they repeat the eps ones): shaped (outputs, *input shape), or like the input for
    one output."""

    left: np.ndarray
    right: np.ndarray
    half_left: np.ndarray
    half_right: np.ndarray
    noise: np.ndarray
    halved: np.ndarray

    def of_output(self, k: int) -> _Slopes:
        return _Slopes(*(getattr(self, f.name)[k] for f in fields(self)))


def _one_sided_slopes(stepper: _Stepper, j: int, eps: float, atol: float, rtol: float) -> _Slopes:
    """Left and right slopes of every output along each element of input j, at steps eps and
    (only where the two sides differ) eps/2; elsewhere the eps/2 slopes repeat the eps ones,
    which never reads as a kink or a jump, until `_function_jumps` measures them."""
    shape = stepper.base[j].shape
    n_outputs = len(stepper.at_base)

    def slopes_at(step, indices):
        left, right, noise = (np.zeros((n_outputs,) + shape) for _ in range(3))
        for index in indices:
            at = (slice(None),) + index
            left[at], right[at], noise[at] = stepper.slopes(j, _direction(shape, [index]), step)
        return left, right, noise

    left, right, noise = slopes_at(eps, np.ndindex(shape))
    differ = _sides_differ(left, right, noise, atol, rtol).any(axis=0)
    half_left, half_right, _ = slopes_at(eps / 2, map(tuple, np.argwhere(differ)))
    keep = ~differ
    half_left[:, keep], half_right[:, keep] = left[:, keep], right[:, keep]
    halved = np.broadcast_to(differ, left.shape)
    return _Slopes(left, right, half_left, half_right, noise, halved)


def _sides_differ(left, right, noise, atol, rtol) -> np.ndarray:
    """Where the one-sided slopes differ by more than rounding, and by more than curvature
    makes them at a small eps or by enough to fail the comparison: a kink may be within eps."""
    steepest = np.maximum(np.abs(left), np.abs(right))
    threshold = np.minimum(1e-3 * np.maximum(1.0, steepest), atol + rtol * steepest)
    return np.abs(right - left) > threshold + noise
