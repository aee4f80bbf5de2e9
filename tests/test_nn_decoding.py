"""Beam search and greedy search: the course's case where greedy search misses the most probable
sentence, exhaustive search and a loop-by-loop reference on random next-word tables (with many
ties and zero probabilities), length normalisation, end tokens and padding, batches decoded
independently, a Transformer decoded with the encoder run once, and the errors."""
import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphgrad as gg
from graphgrad import nn

START = 9  # a start token outside the tables' words: prefixes are START, then the words


def table_model(tables, calls=None):
    """next_log_probs of a model given by tables: ``tables[i][words]`` is P(next word | input
    i, the words written so far), a vector of V probabilities. Row r of the prefixes is input
    r // (rows / m). ``calls`` collects the prefixes it is given."""
    def next_log_probs(prefixes):
        if calls is not None:
            calls.append(prefixes.copy())
        per_input = len(prefixes) // len(tables)
        rows = [tables[r // per_input][tuple(prefix[1:].tolist())]
                for r, prefix in enumerate(prefixes)]
        with np.errstate(divide="ignore"):
            return np.log(np.array(rows))
    return next_log_probs


def random_table(rng, V, T, ties):
    """P(next word | words) for every prefix of fewer than T words: from a Dirichlet, or, with
    ``ties``, from small whole numbers (many equal totals, and some zero probabilities)."""
    table = {}
    for t in range(T):
        for prefix in itertools.product(range(V), repeat=t):
            if ties:
                weights = rng.integers(0, 3, V).astype(float)
                weights[rng.integers(V)] = 1.0 + weights.max()  # never all zero
            else:
                weights = rng.dirichlet(np.ones(V))
            table[prefix] = weights / weights.sum()
    return table


def log_p(table, sentence):
    total = 0.0
    for t, word in enumerate(sentence):
        total += math.log(table[tuple(sentence[:t])][word])
    return total


def reference_beam_search(table, V, k, T, end, alpha):
    """The search written out with Python loops, one input at a time: every finished sentence
    as (words, total, score), best first."""
    beam, finished = [((), 0.0)], []
    for t in range(1, T + 1):
        candidates = []
        for rank, (words, total) in enumerate(beam):
            with np.errstate(divide="ignore"):
                log_probs = np.log(table[words])
            candidates += [(total + log_probs[w], rank, w, words + (w,)) for w in range(V)]
        candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
        kept = [c for c in candidates[:k - len(finished)] if c[0] > -math.inf]
        beam = []
        for total, _, word, words in kept:
            if t == T or word == end:
                finished.append((words, total, total / len(words) ** alpha))
            else:
                beam.append((words, total))
        if not beam:
            break
    return sorted(finished, key=lambda f: -f[2])  # stable: a tie to the one finished first


def exhaustive_best(table, V, T, end, alpha):
    """The sentence of the best normalised score among all that the model can write."""
    best = None
    for length in range(1, T + 1):
        for words in itertools.product(range(V), repeat=length):
            if end is not None and (end in words[:-1] or (length < T and words[-1] != end)):
                continue
            if end is None and length < T:
                continue
            total = log_p(table, words)
            score = total / length ** alpha
            if best is None or score > best[2]:
                best = (words, total, score)
    return best


def greedy_reference(table, T, end):
    words = ()
    while len(words) < T and (not words or words[-1] != end):
        words += (int(np.argmax(table[words])),)  # the first of tied maxima, as np.argmax
    return words


def row(beams, i, j=None):
    """Sentence i (beam j of it with return_all) as a tuple of words, padding left out."""
    if j is None:
        return tuple(beams.sequences[i, :beams.lengths[i]].tolist())
    return tuple(beams.sequences[i, j, :beams.lengths[i, j]].tolist())


# -- the course's example -------------------------------------------------------------------------
# Words: 0 <EOS>, 1 "Jane", 2 "is", 3 "going", 4 "visiting", 5 "Africa". "Jane is going" is
# the likelier start, but "Jane is visiting Africa" the likelier sentence.
JANE = {
    (): [0.0, 1.0, 0.0, 0.0, 0.0, 0.0],
    (1,): [0.0, 0.0, 1.0, 0.0, 0.0, 0.0],
    (1, 2): [0.0, 0.0, 0.0, 0.6, 0.4, 0.0],
    (1, 2, 3): [0.3, 0.0, 0.0, 0.3, 0.1, 0.3],  # "going" leads nowhere in particular
    (1, 2, 4): [0.0, 0.0, 0.0, 0.0, 0.0, 1.0],  # "visiting" is followed by "Africa"
    (1, 2, 3, 0): [1.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    (1, 2, 3, 3): [1.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    (1, 2, 3, 4): [1.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    (1, 2, 3, 5): [1.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    (1, 2, 4, 5): [1.0, 0.0, 0.0, 0.0, 0.0, 0.0],
}
JANE = {prefix: np.array(p) for prefix, p in JANE.items()}


def test_beam_search_finds_the_sentence_greedy_search_misses():
    model = table_model([JANE])
    greedy = nn.greedy_search(model, [START], max_length=5, end_token=0, alpha=0.0)
    assert row(greedy, 0) == (1, 2, 3, 0)  # "Jane is going <EOS>": 0.6 * 0.3 = 0.18
    assert greedy.log_probs[0] == pytest.approx(math.log(0.6) + math.log(0.3), abs=1e-15)
    for width in (2, 3):
        beams = nn.beam_search(model, [START], beam_width=width, max_length=5, end_token=0,
                               alpha=0.0)
        assert row(beams, 0) == (1, 2, 4, 5, 0)  # "Jane is visiting Africa <EOS>": 0.4
        assert beams.log_probs[0] == pytest.approx(math.log(0.4), abs=1e-15)
        assert beams.scores[0] == beams.log_probs[0] and beams.lengths[0] == 5
    # With the course's alpha = 0.7 too: the longer sentence has the better score anyway.
    beams = nn.beam_search(model, [START], beam_width=2, max_length=5, end_token=0)
    assert row(beams, 0) == (1, 2, 4, 5, 0)
    assert beams.scores[0] == pytest.approx(math.log(0.4) / 5 ** 0.7, abs=1e-15)
    np.testing.assert_array_equal(beams.sequences, [[1, 2, 4, 5, 0]])


def test_greedy_search_is_beam_search_of_width_one_and_every_beam_is_returned_best_first():
    model = table_model([JANE])
    greedy = nn.greedy_search(model, [START], max_length=5, end_token=0)
    one = nn.beam_search(model, [START], beam_width=1, max_length=5, end_token=0)
    for field in ("sequences", "scores", "log_probs", "lengths"):
        np.testing.assert_array_equal(getattr(greedy, field), getattr(one, field))
    every = nn.beam_search(model, [START], beam_width=3, max_length=5, end_token=0, alpha=0.0,
                           return_all=True)
    assert every.sequences.shape == (1, 3, 5) and every.scores.shape == (1, 3)
    assert [row(every, 0, j) for j in range(3)] == [(1, 2, 4, 5, 0), (1, 2, 3, 0),
                                                    (1, 2, 3, 3, 0)]
    np.testing.assert_allclose(every.log_probs[0], [math.log(0.4), math.log(0.18),
                                                    math.log(0.18)], rtol=0, atol=1e-15)
    np.testing.assert_array_equal(every.lengths, [[5, 4, 5]])
    np.testing.assert_array_equal(every.sequences[0, 1], [1, 2, 3, 0, -1])  # padded with -1


# -- against exhaustive search and a reference written with loops ---------------------------------
@settings(max_examples=40, deadline=None)
@given(V=st.integers(2, 4), T=st.integers(1, 4), seed=st.integers(0, 2**16),
       end=st.sampled_from([None, 0, "last"]), alpha=st.sampled_from([0.0, 0.5, 0.7, 1.0]))
def test_a_beam_wide_enough_is_exhaustive_search_and_width_one_is_greedy(V, T, seed, end,
                                                                            alpha):
    """With beam_width >= V**(T - 1) every prefix of fewer than T words stays in the beam, so
    the best sentence by normalised score is found; beam_width=1 takes the argmax each step."""
    if T == 4 and V == 4:
        T = 3  # 4**3 beams run in 0.1 s; keep the test fast
    end = V - 1 if end == "last" else end
    rng = np.random.default_rng(seed)
    tables = [random_table(rng, V, T, ties=False) for _ in range(2)]
    wide = nn.beam_search(table_model(tables), [START, START], beam_width=V ** (T - 1),
                          max_length=T, end_token=end, alpha=alpha)
    greedy = nn.greedy_search(table_model(tables), [START, START], max_length=T,
                              end_token=end, alpha=alpha)
    for i, table in enumerate(tables):
        words, total, score = exhaustive_best(table, V, T, end, alpha)
        assert row(wide, i) == words
        assert wide.log_probs[i] == pytest.approx(total, rel=1e-12)
        assert wide.scores[i] == pytest.approx(score, rel=1e-12)
        expected = greedy_reference(table, T, end)
        assert row(greedy, i) == expected
        assert greedy.log_probs[i] == pytest.approx(log_p(table, expected), rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(V=st.integers(1, 4), T=st.integers(1, 4), k=st.integers(1, 6), m=st.integers(1, 3),
       seed=st.integers(0, 2**16), ties=st.booleans(), end=st.sampled_from([None, 0]),
       alpha=st.sampled_from([0.0, 0.7, 1.0]))
def test_every_beam_is_the_references_and_each_input_is_decoded_as_if_alone(
        V, T, k, m, seed, ties, end, alpha):
    """The vectorised search against the loops of `reference_beam_search`, tie for tie (the
    tables of whole numbers give many equal totals, and zero probabilities), for a batch of m
    inputs, each of which also gives the same beams decoded alone."""
    rng = np.random.default_rng(seed)
    tables = [random_table(rng, V, T, ties) for _ in range(m)]
    beams = nn.beam_search(table_model(tables), np.full(m, START), beam_width=k, max_length=T,
                           end_token=end, alpha=alpha, return_all=True)
    assert beams.sequences.shape[:2] == beams.scores.shape == (m, k)
    for i, table in enumerate(tables):
        expected = reference_beam_search(table, V, k, T, end, alpha)
        for j in range(k):
            if j < len(expected):
                words, total, score = expected[j]
                assert row(beams, i, j) == words
                assert beams.log_probs[i, j] == total and beams.scores[i, j] == score
            else:  # fewer than k sentences possible
                assert beams.lengths[i, j] == 0 and beams.scores[i, j] == -np.inf
                assert np.all(beams.sequences[i, j] == -1)
        alone = nn.beam_search(table_model([table]), [START], beam_width=k, max_length=T,
                               end_token=end, alpha=alpha, return_all=True)
        width = alone.sequences.shape[2]
        np.testing.assert_array_equal(alone.sequences[0], beams.sequences[i, :, :width])
        assert np.all(beams.sequences[i, :, width:] == -1)
        for field in ("scores", "log_probs", "lengths"):
            np.testing.assert_array_equal(getattr(alone, field)[0], getattr(beams, field)[i])


def test_ties_go_to_the_higher_ranked_beam_then_the_smaller_word():
    uniform = {prefix: np.full(3, 1 / 3) for t in range(3)
               for prefix in itertools.product(range(3), repeat=t)}
    model = table_model([uniform])
    every = nn.beam_search(model, [START], beam_width=4, max_length=2, return_all=True)
    np.testing.assert_array_equal(every.sequences[0], [[0, 0], [0, 1], [0, 2], [1, 0]])
    assert np.all(every.scores[0] == every.scores[0, 0])
    np.testing.assert_array_equal(nn.greedy_search(model, [START], max_length=3).sequences,
                                  [[0, 0, 0]])
    # Finished sentences of equal score: the one finished first (the shorter) is ahead.
    halves = {(): np.array([0.5, 0.5]), (1,): np.array([1.0, 0.0])}
    every = nn.beam_search(table_model([halves]), [START], beam_width=2, max_length=2,
                           end_token=0, alpha=0.0, return_all=True)
    np.testing.assert_array_equal(every.sequences[0], [[0, -1], [1, 0]])
    np.testing.assert_array_equal(every.log_probs[0], [math.log(0.5), math.log(0.5)])


# -- length normalisation ------------------------------------------------------------------------
# Words 0 <EOS> and 1: "<EOS>" alone has probability 0.5, "1 1 <EOS>" 0.5 * 0.95 * 0.95.
SHORT_OR_LONG = {
    (): np.array([0.5, 0.5]),
    (1,): np.array([0.05, 0.95]),
    (1, 1): np.array([0.95, 0.05]),
}


@pytest.mark.parametrize("alpha, best", [(0.0, (0,)), (0.7, (1, 1, 0)), (1.0, (1, 1, 0))])
def test_length_normalisation_is_the_courses(alpha, best):
    """Unnormalised (alpha = 0) the one-word sentence wins, being more probable; with the
    average log-probability (alpha = 1) the three-word one, each of its words more likely."""
    every = nn.beam_search(table_model([SHORT_OR_LONG]), [START], beam_width=3, max_length=3,
                           end_token=0, alpha=alpha, return_all=True)
    sentences = {row(every, 0, j): j for j in range(3)}
    assert set(sentences) == {(0,), (1, 1, 0), (1, 0)}  # three kept: (1, 1, 1) is not
    totals = {(0,): math.log(0.5), (1, 0): math.log(0.5 * 0.05),
              (1, 1, 0): math.log(0.5) + 2 * math.log(0.95)}
    for words, j in sentences.items():
        assert every.log_probs[0, j] == pytest.approx(totals[words], abs=1e-15)
        assert every.lengths[0, j] == len(words)
        assert every.scores[0, j] == pytest.approx(totals[words] / len(words) ** alpha,
                                                   abs=1e-15)
    assert row(every, 0, 0) == best
    assert np.all(np.diff(every.scores[0]) <= 0)
    best_only = nn.beam_search(table_model([SHORT_OR_LONG]), [START], beam_width=3,
                               max_length=3, end_token=0, alpha=alpha, pad=0)
    assert row(best_only, 0) == best and best_only.sequences.shape == (1, len(best))
    assert best_only.scores[0] == every.scores[0, 0]


# -- end tokens, padding and batches --------------------------------------------------------------
def test_finished_sentences_stop_growing_and_are_padded_after_their_end():
    """Sentence 0 ends at once; 1 after two words; 2 never (max_length). The model sees no word
    after an end token but end tokens (the rows of an input whose sentences have all ended), and
    is not called once every sentence has ended."""
    V, end = 3, 2
    ends_now = {(): np.array([0.1, 0.1, 0.8])}
    ends_later = {(): np.array([0.8, 0.1, 0.1]), (0,): np.array([0.1, 0.1, 0.8])}
    never = {prefix: np.array([0.6, 0.4, 0.0]) for t in range(4)
             for prefix in itertools.product(range(V), repeat=t)}
    for table in (ends_now, ends_later):  # the copies of finished sentences the model is given
        table.update({prefix: np.full(V, 1 / V) for t in range(1, 4)
                      for prefix in itertools.product(range(V), repeat=t) if prefix not in table})
    calls = []
    greedy = nn.greedy_search(table_model([ends_now, ends_later, never], calls), [START] * 3,
                              max_length=4, end_token=end, pad=7)
    np.testing.assert_array_equal(greedy.sequences, [[2, 7, 7, 7], [0, 2, 7, 7], [0, 0, 0, 0]])
    np.testing.assert_array_equal(greedy.lengths, [1, 2, 4])
    np.testing.assert_allclose(greedy.log_probs, [math.log(0.8), 2 * math.log(0.8),
                                                  4 * math.log(0.6)], rtol=1e-15)
    assert [c.shape for c in calls] == [(3, 1), (3, 2), (3, 3), (3, 4)]
    for prefixes in calls:
        for prefix in prefixes[:, 1:].tolist():
            assert end not in prefix or set(prefix[prefix.index(end):]) == {end}
    np.testing.assert_array_equal(calls[3][:2, 1:], [[2, 2, 2], [0, 2, 2]])
    calls.clear()
    short = nn.greedy_search(table_model([ends_now, ends_later], calls), [START] * 2,
                             max_length=4, end_token=end)
    assert len(calls) == 2  # both ended after two words: no third call
    np.testing.assert_array_equal(short.sequences, [[2, -1], [0, 2]])


def test_start_of_several_tokens_or_none_and_a_tensor_of_log_probabilities():
    """Prefixes are the start tokens then the words written: (m,) and (m, 1) are the same
    start; (m, 0) starts from nothing. A Tensor from the model is read as its data."""
    seen = []

    def next_log_probs(prefixes):
        seen.append(prefixes.copy())
        favourite = prefixes.sum(axis=1) % 3  # the next word depends on every token so far
        logits = 4.0 * (np.arange(3) == favourite[:, None])
        return gg.log_softmax(gg.Tensor(logits, dtype=np.float32), axis=-1)

    a = nn.beam_search(next_log_probs, [1, 2], beam_width=2, max_length=3)
    b = nn.beam_search(next_log_probs, [[1], [2]], beam_width=2, max_length=3)
    np.testing.assert_array_equal(a.sequences, b.sequences)
    np.testing.assert_array_equal(a.sequences, [[1, 2, 1], [2, 1, 2]])  # each the favourite
    assert a.log_probs.dtype == np.float64
    seen.clear()
    long = nn.greedy_search(next_log_probs, [[1, 1], [0, 2]], max_length=2)
    np.testing.assert_array_equal(seen[1], [[1, 1, 2], [0, 2, 2]])
    np.testing.assert_array_equal(long.sequences, [[2, 1], [2, 1]])
    seen.clear()
    empty = nn.greedy_search(next_log_probs, np.zeros((2, 0), dtype=int), max_length=2)
    assert seen[0].shape == (2, 0) and seen[0].dtype == np.int64
    np.testing.assert_array_equal(empty.sequences, [[0, 0], [0, 0]])


# -- a real model ---------------------------------------------------------------------------------
def test_a_transformer_decoded_with_the_encoder_run_once():
    """The docstring's recipe: the inputs repeated per beam, the encoder run once, the decoder
    and final layer on the prefixes. Width 1 is the greedy loop over the whole model; every
    width's log_probs are the model's own, by teacher forcing; nothing records a graph."""
    m, T_x, T_y, V, start = 3, 4, 5, 7, 6
    model = nn.Transformer(1, 8, 2, 16, 6, V, T_x, T_y, dropout=0.0, rng=0).eval()
    inputs = np.array([[1, 2, 3, 4], [5, 4, 3, 0], [2, 2, 1, 0]])

    def decode(beam_width, **kwargs):
        repeated = np.repeat(inputs, beam_width, axis=0)
        input_mask = nn.padding_mask(repeated)
        memory = model.encoder(repeated, mask=input_mask)

        def next_log_probs(prefixes):
            assert not gg.is_grad_enabled()  # beam_search turned it off
            Y = model.decoder(prefixes, memory, nn.look_ahead_mask(prefixes.shape[1]),
                              input_mask)
            log_probs = gg.log_softmax(model.final_layer(Y[:, -1]), axis=-1)
            assert log_probs.creator is None and not log_probs.requires_grad
            return log_probs

        assert memory.requires_grad  # the encoder, run outside, recorded its graph
        return nn.beam_search(next_log_probs, np.full(m, start), beam_width=beam_width,
                              max_length=T_y, **kwargs)

    def teacher_forced_log_p(words):
        targets = np.concatenate([np.full((m, 1), start), words[:, :-1]], axis=1)
        logits = model(inputs, targets, nn.padding_mask(inputs), nn.look_ahead_mask(T_y),
                       nn.padding_mask(inputs))
        log_probs = gg.log_softmax(logits, axis=-1).data
        return np.take_along_axis(log_probs, words[:, :, None], axis=2)[:, :, 0].sum(axis=1)

    written = np.full((m, 1), start)
    for _ in range(T_y):  # the tutorial's greedy loop, the encoder run at every step
        t = written.shape[1]
        logits = model(inputs, written, nn.padding_mask(inputs), nn.look_ahead_mask(t),
                       nn.padding_mask(inputs))
        written = np.concatenate([written, logits.data[:, -1].argmax(axis=-1)[:, None]], axis=1)
    greedy = decode(1)
    np.testing.assert_array_equal(greedy.sequences, written[:, 1:])
    np.testing.assert_allclose(greedy.log_probs, teacher_forced_log_p(written[:, 1:]),
                               rtol=1e-10)
    beams = decode(3, return_all=True)
    assert beams.sequences.shape == (m, 3, T_y)
    for j in range(3):
        np.testing.assert_allclose(beams.log_probs[:, j],
                                   teacher_forced_log_p(beams.sequences[:, j]), rtol=1e-10)
    assert np.all(beams.log_probs[:, 0] >= beams.log_probs[:, 1])  # one length: by total
    assert gg.is_grad_enabled() and all(p.grad is None for p in model.parameters())


# -- errors ---------------------------------------------------------------------------------------
def _uniform(prefixes):
    return np.full((len(prefixes), 4), -math.log(4))


def test_settings_errors_name_the_function_the_argument_and_the_value():
    for bad in (0, 2.5, True, "3"):
        with pytest.raises(gg.ArgumentError, match=r"beam_search: beam_width must be a whole "
                                                   rf"number of at least 1, got {bad!r}"):
            nn.beam_search(_uniform, [START], beam_width=bad, max_length=3)
    with pytest.raises(gg.ArgumentError, match=r"greedy_search: max_length must be a whole "
                                               r"number of at least 1, got 0"):
        nn.greedy_search(_uniform, [START], max_length=0)
    with pytest.raises(gg.ArgumentError, match=r"beam_search: max_length must be a whole number "
                                               r"of at least 1, got 2.0"):
        nn.beam_search(_uniform, [START], max_length=2.0)
    with pytest.raises(TypeError, match=r"max_length"):  # required: only the task knows it
        nn.beam_search(_uniform, [START])
    with pytest.raises(gg.ArgumentError, match=r"end_token must be a whole number of at least "
                                               r"0, got -1"):
        nn.beam_search(_uniform, [START], max_length=3, end_token=-1)
    with pytest.raises(gg.ArgumentError, match=r"end_token 4 is not a word of the model's "
                                               r"vocabulary of V = 4 .*from 0 to 3"):
        nn.beam_search(_uniform, [START], max_length=3, end_token=4)
    for bad in (float("nan"), "0.7", True, None):
        with pytest.raises(gg.ArgumentError, match=r"beam_search: alpha, the exponent of the "
                                                   r"length normalisation .* got "):
            nn.beam_search(_uniform, [START], max_length=3, alpha=bad)
    with pytest.raises(gg.ArgumentError, match=r"beam_search: pad must be an integer, got 0.5"):
        nn.beam_search(_uniform, [START], max_length=3, pad=0.5)
    with pytest.raises(gg.GraphgradTypeError, match=r"next_log_probs must be a function of the "
                                                    r"prefixes .* got ndarray"):
        nn.beam_search(np.zeros(4), [START], max_length=3)


def test_start_errors_say_what_start_must_be():
    with pytest.raises(gg.GraphgradTypeError, match=r"beam_search takes start as word indices "
                                                    r"\(integers\).* got ndarray \(2,\) float64"):
        nn.beam_search(_uniform, np.array([1.0, 2.5]), max_length=3)
    with pytest.raises(gg.GraphgradTypeError, match=r"got ndarray \(1,\) <U5"):
        nn.beam_search(_uniform, ["<sos>"], max_length=3)
    with pytest.raises(gg.ShapeError, match=r"takes start of shape \(m,\) or \(m, t0\), m >= 1"
                                            r".*got ndarray \(1, 1, 1\) int64"):
        nn.beam_search(_uniform, [[[START]]], max_length=3)
    with pytest.raises(gg.ShapeError, match=r"got ndarray \(0,\)"):
        nn.beam_search(_uniform, np.array([], dtype=int), max_length=3)
    # numbers that wrapped round when cast to int64, and gave the model garbage tokens
    with pytest.raises(gg.GraphgradTypeError, match=r"word indices \(integers\).*\(2,\) float64"):
        nn.beam_search(_uniform, np.array([np.inf, 1.0]), max_length=3)
    for big in (np.array([1e20]), np.array([2**63 + 7], dtype=np.uint64)):
        with pytest.raises(gg.ArgumentError, match=r"beam_search takes start as word indices, "
                                                   r"from 0 up; .* holds "
                                                   r"(1e\+20|9223372036854775815)"):
            nn.beam_search(_uniform, big, max_length=3)
    with pytest.raises(gg.ArgumentError, match=r"from 0 up; ndarray \(2,\) int64 holds -1$"):
        nn.beam_search(_uniform, np.array([2, -1]), max_length=3)
    with pytest.raises(gg.GraphgradTypeError, match=r"beam_search: start cannot be made into an"):
        nn.beam_search(_uniform, [[1, 2], [3]], max_length=3)
    whole = nn.greedy_search(_uniform, np.array([START], dtype=float), max_length=1)
    np.testing.assert_array_equal(whole.sequences, [[0]])  # 9.0 is a word index


def test_output_shape_errors_name_the_expected_and_the_given_shapes():
    def every_position(prefixes):  # (m * B, t, V): a model's output for every position
        return np.full((len(prefixes), prefixes.shape[1], 4), -math.log(4))

    with pytest.raises(gg.ShapeError, match=r"beam_search: next_log_probs must return "
                                            r"\(m \* beam_width, V\) = \(6, V\), one row per "
                                            r"prefix of prefixes \(6, 1\) .*got ndarray "
                                            r"\(6, 1, 4\) float64\. A model that scores every "
                                            r"position .* log_probs\[:, -1\]"):
        nn.beam_search(every_position, [START, START], beam_width=3, max_length=3)

    def growing_vocabulary(prefixes):
        V = 3 + prefixes.shape[1]
        return np.full((len(prefixes), V), -math.log(V))

    with pytest.raises(gg.ShapeError, match=r"= \(2, 4\), .*prefixes \(2, 2\).*got ndarray "
                                            r"\(2, 5\) float64\. It gave V = 4 words on the "
                                            r"first step: V must not change"):
        nn.beam_search(growing_vocabulary, [START], beam_width=2, max_length=3)
    with pytest.raises(gg.ShapeError, match=r"greedy_search: .* = \(1, V\).*got ndarray \(4,\)"):
        nn.greedy_search(lambda p: np.full(4, -math.log(4)), [START], max_length=3)
    with pytest.raises(gg.ShapeError, match=r"= \(2, V\).*got ndarray \(4,\) float64"):
        nn.beam_search(lambda p: np.full(4, -math.log(4)), [START], beam_width=2, max_length=3)
    with pytest.raises(gg.GraphgradTypeError, match=r"must return log-probabilities, an array "
                                                    r"or a Tensor .* got dict"):
        nn.beam_search(lambda p: {"logits": p}, [START], max_length=3)


def test_values_that_are_not_log_probabilities_say_to_apply_log_softmax():
    def logits(prefixes):
        return gg.Tensor(np.tile([2.0, -1.0, 0.5], (len(prefixes), 1)), name="logits")

    with pytest.raises(gg.ArgumentError, match=r"beam_search: next_log_probs must return "
                                               r"log-probabilities \(each row's exp adding up "
                                               r"to 1\), got 'logits' \(2, 3\) float64 holding "
                                               r"values up to 2, probabilities adding up to "
                                               r"9\..* in row 0 \(prefix \[9\]\)\. Apply "
                                               r"gg\.log_softmax\(logits, axis=-1\)"):
        nn.beam_search(logits, [START], beam_width=2, max_length=3)

    def negative_logits(prefixes):  # below zero, but not normalised
        return np.tile([-0.1, -0.2, -0.3], (len(prefixes), 1))

    with pytest.raises(gg.ArgumentError, match=r"probabilities adding up to 2\.4"):
        nn.beam_search(negative_logits, [START], max_length=3)

    def logits_later(prefixes):  # after the first step, only values above 0 are looked for
        out = np.full((len(prefixes), 2), math.log(0.5))
        if prefixes.shape[1] == 2:
            out[:, 1] = 0.7
        return out

    with pytest.raises(gg.ArgumentError, match=r"holding values up to 0\.7, probabilities "
                                               r"adding up to 2\.5.* in row 0 \(prefix \[9, 0\]\)"):
        nn.beam_search(logits_later, [START], beam_width=2, max_length=3)

    def nan_later(prefixes):
        out = np.full((len(prefixes), 2), math.log(0.5))
        if prefixes.shape[1] == 3:
            out[1, 0] = np.nan
        return out

    with pytest.raises(gg.ArgumentError, match=r"holding NaN in row 1 \(prefix \[9, 0, 1\]\)"):
        nn.beam_search(nan_later, [START], beam_width=2, max_length=3)
    # log_softmax in float32 rounds: its probabilities add up to 1 within the tolerance.
    rounded = nn.greedy_search(
        lambda p: np.log(np.full((len(p), 3), 1 / 3, dtype=np.float32)) + np.float32(1e-7),
        [START], max_length=2)
    np.testing.assert_array_equal(rounded.sequences, [[0, 0]])
