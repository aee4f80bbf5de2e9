"""Decoding a sequence model's output one word at a time (Sequence Models, week 3): the
course's beam search with its length normalisation, and greedy search (a beam of one).

A model that writes a sentence y<1>, ..., y<T_y> gives, at each step, the probabilities of
the next word given the input x and the words written so far. Greedy search appends the most
likely word each time; beam search keeps the B most probable partial sentences (by their
total log-probability sum_t log P(y<t> | x, y<1>, ..., y<t-1>)), extends each by every word
of the vocabulary, and keeps the B best of those B * V candidates. It finds sentences greedy
search misses, when the most likely first word starts a less likely sentence. Of the
sentences it finishes, it returns the best by the course's normalised score
(1 / T_y**alpha) sum_t log P, which keeps short sentences from winning for being short.

| course | graphgrad | Hugging Face ``generate`` |
|---|---|---|
| beam width B | beam_width | num_beams |
| alpha of the length normalisation | alpha | length_penalty |
| <EOS> | end_token | eos_token_id |
| longest output, T_y <= max_length | max_length | max_new_tokens |

The model is the user's, wrapped in a function ``next_log_probs(prefixes)`` that maps the
prefixes so far (m * B, t) to log-probabilities of the next word (m * B, V); row i * B + j is
beam j of input i, as ``np.repeat(inputs, B, axis=0)`` lays out the inputs. Every step is
vectorised over the m inputs and their beams. Depends on `modes`, `tensor`, `errors`.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    GraphgradTypeError,
    ShapeError,
    array_of,
    describe,
    integer,
    whole_number,
)
from graphgrad.modes import no_grad
from graphgrad.tensor import Tensor

# How far above 1 a row's probabilities may add up (exp of log_softmax in float32 rounds).
_SUM_TOLERANCE = 1e-3


@dataclass(frozen=True, eq=False)
class Beams:
    """What `beam_search` returns: for each of the m inputs, the best sentence it found.

    ``sequences`` (m, T) the words written (the start tokens left out, the end token kept),
    padded after each sentence's end with ``pad``; ``sequences[i, :lengths[i]]`` is sentence
    i. ``scores`` (m,) the course's normalised scores (1 / T_y**alpha) sum_t log P,
    ``log_probs`` (m,) the totals sum_t log P = log P(y | x), ``lengths`` (m,) the T_y.
    With ``return_all=True`` every field has a beam axis after m: (m, B, T) and (m, B),
    best first; a slot of a beam that held no sentence (fewer than B sentences possible) has
    score and log_prob -inf, length 0 and only padding.
    """

    sequences: np.ndarray
    scores: np.ndarray
    log_probs: np.ndarray
    lengths: np.ndarray


def beam_search(next_log_probs: Callable[[np.ndarray], Any], start: Any, *, beam_width: int = 3,
                max_length: int, end_token: int | None = None, alpha: float = 0.7,
                pad: int = -1, return_all: bool = False) -> Beams:
    """The course's beam search: the ``beam_width`` most probable sentences, the best of them
    by the normalised score (1 / T_y**alpha) sum_t log P(y<t> | x, y<1>, ..., y<t-1>).

    Args:
        next_log_probs: the model, as a function of the prefixes so far, an int array
            (m * beam_width, t) of the start tokens then the words written, returning the
            log-probabilities of the next word (m * beam_width, V), an array or a Tensor
            (``gg.log_softmax(logits, axis=-1)``). Row i * beam_width + j is beam j of
            input i: repeat whatever the model needs per input (the Transformer's input
            sentences or encoder output) by ``np.repeat(x, beam_width, axis=0)``. A row
            that holds no sentence (at the first step, all but one of each input's; later, a
            finished sentence's) gets a copy of a real prefix, or end tokens once all its
            input's sentences have ended; its log-probabilities are ignored. It runs under
            ``gg.no_grad()``; put the model in ``eval()`` mode yourself. Its output is
            checked: the shape; NaN; rows whose probabilities add up to more than 1 on the
            first step, values above 0 later (logits, not log-probabilities).
        start: the first token(s) of each of the m sentences, (m,) or (m, t0); (m, 0) for a
            model that starts from nothing (an RNN language model fed zeros at first).
        beam_width: B, the sentences kept at each step; 1 is greedy search.
        max_length: the most words written per sentence (T_y <= max_length, the end token
            included, the start tokens not counted), required since only the task knows it.
            The longest prefix is t0 + max_length - 1 tokens: a Transformer's
            max_target_positions must reach that.
        end_token: the word that ends a sentence (the course's <EOS>), or None: then every
            sentence is max_length words long.
        alpha: the length normalisation's exponent: 0.7 in the course, 0 for none (the total
            log-probability), 1 for the average log-probability per word.
        pad: the value after each sentence's end in ``sequences`` (default -1, never a word;
            0 is the course's padding index).
        return_all: return every finished sentence of the beam, best first, not the best only.

    Returns:
        `Beams`: ``sequences`` (m, T), ``scores``, ``log_probs`` and ``lengths`` (m,); with
        ``return_all``, (m, B, T) and (m, B).

    The settings are keyword-only: a call reads as what it sets, and beam_width and
    max_length, two counts, cannot be swapped.

    The search: at step t each of the beam's sentences is extended by every word, and the
    B most probable of those candidates (by total log-probability) are kept. A kept candidate
    that ends with end_token is finished: it stops growing and takes its place in the
    beam, which holds one sentence fewer from then on (the rule of Jurafsky and Martin's
    Speech and Language Processing; beam width 1 is therefore greedy search, stopping at the
    first end token. Hugging Face's keeps B sentences growing, refilling the beam). The search
    stops when no sentence is growing, or at max_length, where the growing ones finish too.
    Ties are broken deterministically: among candidates of equal total, the one from the
    higher-ranked beam first, then the smaller word index (as np.argmax does); among finished
    sentences of equal score, the one finished first, then the higher-ranked.
    Zero-probability candidates (log P = -inf) are never kept.

    With the Transformer, the encoder run once::

        model.eval()
        repeated = np.repeat(inputs, B, axis=0)                # (m * B, T_x)
        input_mask = nn.padding_mask(repeated)
        memory = model.encoder(repeated, mask=input_mask)      # (m * B, T_x, d_model)

        def next_log_probs(prefixes):                          # (m * B, t) -> (m * B, V)
            Y = model.decoder(prefixes, memory, nn.look_ahead_mask(prefixes.shape[1]),
                              input_mask)
            return gg.log_softmax(model.final_layer(Y[:, -1]), axis=-1)

        best = nn.beam_search(next_log_probs, np.full(m, START), beam_width=B,
                              max_length=T_y, end_token=END)
    """
    return _search(next_log_probs, start, beam_width, max_length, end_token, alpha, pad,
                   return_all, "beam_search")


def greedy_search(next_log_probs: Callable[[np.ndarray], Any], start: Any, *, max_length: int,
                  end_token: int | None = None, alpha: float = 0.7, pad: int = -1) -> Beams:
    """Greedy search: append the most probable next word (the smallest index on a tie, as
    np.argmax) until end_token or max_length. `beam_search` with beam_width=1: the same
    arguments and `Beams` (``scores`` normalised with ``alpha``, which cannot change the
    sentence).

    Args:
        next_log_probs: the model, a function of the prefixes so far, an int array (m, t) of
            the start tokens then the words written, returning the log-probabilities of the
            next word (m, V), an array or a Tensor; run under ``gg.no_grad()``.
        start: the first token(s) of each of the m sentences, (m,) or (m, t0).
        max_length: the most words written per sentence, the end token included.
        end_token: the word that ends a sentence, or None: every sentence is max_length
            words long.
        alpha: the exponent of the length normalisation of ``scores`` (0.7, the course's).
        pad: the value after each sentence's end in ``sequences`` (default -1, never a
            word).
    """
    return _search(next_log_probs, start, 1, max_length, end_token, alpha, pad, False,
                   "greedy_search")


def _search(next_log_probs: Callable[[np.ndarray], Any], start: Any, beam_width: int,
            max_length: int, end_token: int | None, alpha: float, pad: int, return_all: bool,
            caller: str) -> Beams:
    """`beam_search`, its errors naming ``caller``."""
    if not callable(next_log_probs):
        raise GraphgradTypeError(
            f"{caller}: next_log_probs must be a function of the prefixes (m * beam_width, t) "
            f"giving log-probabilities (m * beam_width, V), got {type(next_log_probs).__name__}"
        )
    start = _start_tokens(start, caller)
    B = whole_number(beam_width, "beam_width", caller)
    max_length = whole_number(max_length, "max_length", caller)
    if end_token is not None:
        end_token = whole_number(end_token, "end_token", caller, least=0)
    alpha = _exponent(alpha, caller)
    pad = integer(pad, "pad", caller)
    m = start.shape[0]

    starts = np.repeat(start, B, axis=0)                     # (m * B, t0)
    words = np.zeros((m, B, 0), dtype=np.int64)              # the growing sentences
    totals = np.full((m, B), -np.inf)                        # their log P; -inf: no sentence
    totals[:, 0] = 0.0  # B copies of the start, one counted: no candidate appears B times
    open_slots = np.full(m, B)                               # B less the sentences finished
    found = np.zeros(m, dtype=np.int64)                      # sentences finished so far
    found_words = np.full((m, B, max_length), pad, dtype=np.int64)
    found_totals = np.full((m, B), -np.inf)
    found_lengths = np.zeros((m, B), dtype=np.int64)
    V = None
    rank = np.arange(B)
    with no_grad():
        for t in range(1, max_length + 1):
            prefixes = np.concatenate([starts, words.reshape(m * B, t - 1)], axis=1)
            log_probs = _checked(next_log_probs(prefixes), prefixes, V, end_token, caller)
            V = log_probs.shape[1]
            candidates = (totals[:, :, None] + log_probs.reshape(m, B, V)).reshape(m, B * V)
            best = _top(candidates, B)                       # (m, B), best first
            best_totals = np.take_along_axis(candidates, best, axis=1)
            parent, word = np.divmod(best, V)
            kept = (rank < open_slots[:, None]) & np.isfinite(best_totals)
            if t == max_length:
                finished = kept
            elif end_token is None:
                finished = np.zeros_like(kept)
            else:
                finished = kept & (word == end_token)
            growing = kept & ~finished
            written = np.concatenate(
                [np.take_along_axis(words, parent[:, :, None], axis=1), word[:, :, None]],
                axis=2)                                      # (m, B, t)
            rows, slots = np.nonzero(finished)               # row-major: in rank order
            at = (found[:, None] + np.cumsum(finished, axis=1) - 1)[rows, slots]
            found_words[rows, at, :t] = written[rows, slots]
            found_totals[rows, at] = best_totals[rows, slots]
            found_lengths[rows, at] = t
            found += finished.sum(axis=1)
            open_slots -= finished.sum(axis=1)
            if not growing.any():
                break
            totals = np.where(growing, best_totals, -np.inf)
            # A slot with no sentence still goes to the model, its log-probabilities then
            # ignored: as a copy of a growing sentence of its input, or, once the input has
            # none, of its best candidate followed by end tokens (as Hugging Face pads).
            copied = written[np.arange(m), np.argmax(growing, axis=1)]
            if end_token is not None:
                copied[~growing.any(axis=1), -1] = end_token
            words = np.where(growing[:, :, None], written, copied[:, None])
    return _ranked(found_words, found_totals, found_lengths, alpha, return_all)


def _start_tokens(start: Any, caller: str) -> np.ndarray:
    """``start`` as int64 (m, t0), or an error saying what it must be."""
    array = array_of(start, "start", caller)
    shown = describe(start if isinstance(start, Tensor) else array)
    kind = array.dtype.kind
    whole = kind in "iu" or (kind == "f" and bool(np.all(np.isfinite(array)))
                             and bool(np.all(array == np.round(array))))
    if not whole:
        raise GraphgradTypeError(
            f"{caller} takes start as word indices (integers), the first token(s) of each "
            f"sentence, (m,) or (m, t0); got {shown}"
        )
    low, high = (array.min(), array.max()) if array.size else (0, 0)
    if low < 0 or high > np.iinfo(np.int64).max:
        raise ArgumentError(
            f"{caller} takes start as word indices, from 0 up; {shown} holds "
            f"{(low if low < 0 else high).item()!r}"
        )
    if array.ndim not in (1, 2) or array.shape[0] == 0:
        raise ShapeError(
            f"{caller} takes start of shape (m,) or (m, t0), m >= 1: the first token(s) of "
            f"each of the m sentences to decode (np.full(m, START)); got {shown}"
        )
    return array.astype(np.int64).reshape(array.shape[0], -1)


def _exponent(alpha: Any, caller: str) -> float:
    """The length normalisation's alpha as a float, or an `ArgumentError`."""
    if isinstance(alpha, (bool, np.bool_)) or not isinstance(alpha, (int, float, np.number)) \
            or not math.isfinite(alpha):
        raise ArgumentError(
            f"{caller}: alpha, the exponent of the length normalisation (1 / T_y**alpha) "
            f"sum_t log P, must be a finite number (the course's 0.7; 0 for none, 1 for the "
            f"average log-probability per word), got {alpha!r}"
        )
    return float(alpha)


def _checked(output: Any, prefixes: np.ndarray, V: int | None, end_token: int | None,
             caller: str) -> np.ndarray:
    """next_log_probs's output as float64 (m * B, V), one row per prefix, or an error saying
    what is wrong with it: its shape (V as on the first step), NaN, or logits, not
    log-probabilities: rows whose probabilities add up to more than 1 on the first step (an
    exp of every value), values above 0 on the later ones (a max, to keep the check cheap
    next to the search)."""
    try:
        data = np.asarray(output.data if isinstance(output, Tensor) else output,
                          dtype=np.float64)
    except (TypeError, ValueError):
        raise GraphgradTypeError(
            f"{caller}: next_log_probs must return log-probabilities, an array or a Tensor "
            f"(m * beam_width, V), got {type(output).__name__}"
        ) from None
    rows = prefixes.shape[0]
    wanted = (rows, "V" if V is None else V)
    if data.ndim != 2 or data.shape[0] != rows or (V is not None and data.shape[1] != V) \
            or data.shape[1] == 0:
        tip = ""
        if data.ndim == 3 and data.shape[0] == rows:
            tip = (" A model that scores every position gives (m * beam_width, t, V): "
                   "return the last position's, log_probs[:, -1].")
        elif V is not None and data.ndim == 2 and data.shape[0] == rows:
            tip = f" It gave V = {V} words on the first step: V must not change."
        shown = "(" + ", ".join(map(str, wanted)) + ")"
        raise ShapeError(
            f"{caller}: next_log_probs must return (m * beam_width, V) = {shown}, one row "
            f"per prefix of prefixes {prefixes.shape} (row i * beam_width + j: beam j of "
            f"input i); got {describe(output)}.{tip}"
        )
    if V is None and end_token is not None and end_token >= data.shape[1]:
        raise ArgumentError(
            f"{caller}: end_token {end_token} is not a word of the model's vocabulary of "
            f"V = {data.shape[1]} (next_log_probs returned {describe(output)}); give the "
            f"end token's index, from 0 to {data.shape[1] - 1}"
        )
    largest = data.max(axis=1)  # NaN where a row holds one
    with np.errstate(over="ignore", invalid="ignore"):
        if V is None:  # the first step in full: a model giving logits is caught there
            shifted = np.where(np.isfinite(largest), largest, 0.0)
            bad = ~(np.exp(data - shifted[:, None]).sum(axis=1) * np.exp(shifted)
                    <= 1.0 + _SUM_TOLERANCE)
        else:  # then one pass: NaN, and log-probabilities above 0
            bad = ~(largest <= math.log1p(_SUM_TOLERANCE))
        if bad.any():
            row = int(np.argmax(bad))
            what = ("NaN" if np.isnan(largest[row]) else
                    f"values up to {largest[row]:.4g}, probabilities adding up to "
                    f"{np.exp(data[row]).sum():.4g}")
            raise ArgumentError(
                f"{caller}: next_log_probs must return log-probabilities (each row's exp "
                f"adding up to 1), got {describe(output)} holding {what} in row {row} "
                f"(prefix {prefixes[row].tolist()}). Apply gg.log_softmax(logits, axis=-1) "
                "to the model's logits."
            )
    return data


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices (m, k) of the k largest of each row of ``scores`` (m, n), largest first, a tie
    going to the smaller index (the order of a stable sort): np.partition finds each row's
    k-th largest, and only what reaches it is sorted."""
    m, n = scores.shape
    if k >= n:
        return np.argsort(-scores, axis=1, kind="stable")[:, :k]
    kth = np.partition(scores, n - k, axis=1)[:, n - k]
    rows, columns = np.nonzero(scores >= kth[:, None])  # k or more a row (more on a tie)
    order = np.lexsort((columns, -scores[rows, columns], rows))
    rows, columns = rows[order], columns[order]
    place = np.arange(len(rows)) - np.searchsorted(rows, np.arange(m))[rows]
    return columns[place < k].reshape(m, k)


def _ranked(words: np.ndarray, totals: np.ndarray, lengths: np.ndarray, alpha: float,
            return_all: bool) -> Beams:
    """The finished sentences (m, B, max_length), best first by (1 / T_y**alpha) total, a tie
    to the one finished first; the best of each input only unless ``return_all``."""
    scores = np.full(totals.shape, -np.inf)
    real = lengths > 0
    scores[real] = totals[real] / lengths[real].astype(np.float64) ** alpha
    order = np.argsort(-scores, axis=1, kind="stable")
    if not return_all:
        order = order[:, :1]
    words = np.take_along_axis(words, order[:, :, None], axis=1)
    totals, lengths, scores = (np.take_along_axis(a, order, axis=1)
                               for a in (totals, lengths, scores))
    words = words[:, :, :int(lengths.max(initial=0))]
    if not return_all:
        words, scores, totals, lengths = words[:, 0], scores[:, 0], totals[:, 0], lengths[:, 0]
    return Beams(sequences=words, scores=scores, log_probs=totals, lengths=lengths)
