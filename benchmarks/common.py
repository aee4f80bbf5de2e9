"""Shared by the benchmarks: best-of-N wall time, a printed table, the baseline every MLP
figure is measured against (the course's training step written by hand in numpy), and the
check, run before timing, that graphgrad and its baseline compute the same numbers."""
from __future__ import annotations

import gc
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np


def best_time(run: Callable[[], object], repeat: int = 7, number: int = 1) -> float:
    """Best wall time of ``number`` calls, over ``repeat`` tries, in seconds per call.

    The best time is the least disturbed by other work on the machine; garbage collection
    stays on, as in real use.
    """
    return interleaved({"run": run}, number, repeat)["run"]


def interleaved(runs: dict[str, Callable[[], object]], number: int, repeat: int
                ) -> dict[str, float]:
    """Best time per call of each run, timed in turns so that load from other work on the
    machine hits them all alike. Each run is called once first, to warm up caches and
    allocators."""
    best = {name: float("inf") for name in runs}
    for run in runs.values():
        run()
    for _ in range(repeat):
        for name, run in runs.items():
            gc.collect()
            start = time.perf_counter()
            for _ in range(number):
                run()
            best[name] = min(best[name], (time.perf_counter() - start) / number)
    return best


def print_table(title: str, rows: list[tuple[str, ...]], header: tuple[str, ...]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    print("  " + "  ".join(str(h).ljust(w) for h, w in zip(header, widths)))
    for row in rows:
        print("  " + "  ".join(str(c).ljust(w) for c, w in zip(row, widths)))


def course_numpy_step(params: list[np.ndarray], X: np.ndarray, Y: np.ndarray, lr: float,
                      in_place: bool = False) -> float:
    """One step of the course's code: Z[l] = W[l] A[l-1] + b[l], ReLU, softmax cross-entropy,
    dZ, dW, db, W -= alpha dW. Examples are columns: X (n_x, m), Y one-hot (C, m), b[l]
    (n[l], 1). ``in_place`` updates without temporaries (dW *= alpha; W -= dW), as graphgrad's
    optimizers do: the strictest baseline. Returns the cost."""
    m = X.shape[1]
    L = len(params) // 2
    caches, A = [], X
    for l in range(L):
        Z = params[2 * l] @ A + params[2 * l + 1]
        caches.append((A, Z))
        A = np.maximum(Z, 0) if l < L - 1 else Z
    shifted = A - A.max(axis=0, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=0, keepdims=True))
    cost = -np.sum(Y * log_probs) / m
    dZ = (np.exp(log_probs) - Y) / m
    for l in reversed(range(L)):
        A_prev, _ = caches[l]
        W = params[2 * l]
        dW = dZ @ A_prev.T
        db = dZ.sum(axis=1, keepdims=True)
        if l > 0:
            dZ = (W.T @ dZ) * (caches[l - 1][1] > 0)
        if in_place:
            dW *= lr
            W -= dW
            db *= lr
            params[2 * l + 1] -= db
        else:
            params[2 * l] -= lr * dW
            params[2 * l + 1] -= lr * db
    return cost


class Disagreement(AssertionError):
    """graphgrad and the baseline it is timed against computed different numbers, or numbers
    of another shape or dtype: their ratio would compare different work."""


def check_same(label: str, got: Mapping[str, Any], expected: Mapping[str, Any],
               tolerance: float = 1e-10) -> None:
    """Raise `Disagreement` unless ``got`` (graphgrad's cost, gradients, updated parameters,
    by name) holds the same names as ``expected`` (the baseline's), each of the same shape and
    dtype, equal to ``tolerance`` (relative to the expected value's size where it exceeds 1).

    Run once before timing a pair: a baseline that forgets a gradient, updates a parameter
    another way or works in another dtype is caught here, not hidden in a ratio."""
    if set(got) != set(expected):
        raise Disagreement(
            f"{label}: graphgrad gives {sorted(got)}, the baseline {sorted(expected)}; both "
            "sides must compute the same quantities")
    for name, want in expected.items():
        have, want = np.asarray(got[name]), np.asarray(want)
        if have.shape != want.shape or have.dtype != want.dtype:
            raise Disagreement(
                f"{label}: {name} is {have.dtype} of shape {have.shape} in graphgrad, "
                f"{want.dtype} of shape {want.shape} in the baseline; both sides must work "
                "in the same shapes and dtype")
        if not have.size:
            continue
        error = float(np.max(np.abs(have - want)))
        scale = max(1.0, float(np.max(np.abs(want))))
        if not error <= tolerance * scale:  # also catches NaN
            raise Disagreement(
                f"{label}: {name} differs between graphgrad and the baseline by {error:.2e} "
                f"(tolerance {tolerance:.0e} x {scale:.3g}); fix the side that computes "
                "other work before timing them")


def gradients_of_step(before: Sequence[np.ndarray], after: Sequence[np.ndarray],
                      lr: float) -> list[np.ndarray]:
    """The gradients a plain SGD step used, from the parameters before and after it:
    dW = (W_before - W_after) / alpha. Lets a step be checked without changing its work."""
    return [(b - a) / lr for b, a in zip(before, after)]
