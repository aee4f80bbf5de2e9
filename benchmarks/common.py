"""Shared by the benchmarks: best-of-N wall time, a printed table, and the baseline every MLP
figure is measured against: the course's training step written by hand in numpy."""
from __future__ import annotations

import gc
import time
from collections.abc import Callable

import numpy as np


def best_time(run: Callable[[], object], repeat: int = 7, number: int = 1) -> float:
    """Best wall time of ``number`` calls, over ``repeat`` tries, in seconds per call.

    The best time is the least disturbed by other work on the machine; garbage collection
    stays on, as in real use.
    """
    run()  # warm up caches and allocators
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        for _ in range(number):
            run()
        best = min(best, (time.perf_counter() - start) / number)
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
