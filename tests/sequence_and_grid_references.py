"""References by hand for ctc_loss, written unlike the op it checks.

CTC by brute force: every path of classes over an example's frames, those that collapse
(repeats merged, blanks dropped) to its target summed; the gradient wrt log_probs from the
same enumeration, minus each frame's class occupancy under the paths' posterior weights.
Small cases only (C**T paths).
"""
from __future__ import annotations

import itertools
import math

import numpy as np


# -- CTC -------------------------------------------------------------------------------------------
def collapse(path: tuple[int, ...], blank: int) -> list[int]:
    """A path's labels: repeats merged, then blanks dropped."""
    labels, previous = [], None
    for c in path:
        if c != previous and c != blank:
            labels.append(c)
        previous = c
    return labels


def ctc_by_paths(log_probs: np.ndarray, target: list[int], blank: int = 0
                 ) -> tuple[float, np.ndarray]:
    """(-log p(target | x), its gradient wrt log_probs (T, C)) over every path of T frames."""
    n_frames, n_classes = log_probs.shape
    paths = [p for p in itertools.product(range(n_classes), repeat=n_frames)
             if collapse(p, blank) == list(target)]
    grad = np.zeros_like(log_probs)
    if not paths:
        return math.inf, grad
    scores = np.array([sum(log_probs[t, c] for t, c in enumerate(p)) for p in paths])
    top = scores.max()
    total = top + math.log(np.exp(scores - top).sum())
    weights = np.exp(scores - total)
    for p, w in zip(paths, weights):
        for t, c in enumerate(p):
            grad[t, c] -= w
    return -total, grad


def ctc_batch_by_paths(log_probs: np.ndarray, targets: np.ndarray, input_lengths: np.ndarray,
                       target_lengths: np.ndarray, blank: int = 0
                       ) -> tuple[np.ndarray, np.ndarray]:
    """The (m,) losses and their gradients (m, T, C) of a padded batch, batch first."""
    losses = np.zeros(len(log_probs))
    grads = np.zeros_like(log_probs)
    for i, (lp, row, n_in, n_out) in enumerate(zip(log_probs, targets, input_lengths,
                                                   target_lengths)):
        losses[i], grads[i, :n_in] = ctc_by_paths(lp[:n_in], list(row[:n_out]), blank)
    return losses, grads
