"""Small Transformer language models, written as one writes them in PyTorch, ported to graphgrad:
a character-level GPT (token and learned position embeddings, causal multi-head attention,
GELU feed-forward, pre-LayerNorm residual blocks, the output layer tied to the embedding,
AdamW with parameter groups, warm-up and cosine decay, gradient clipping, padding ignored by
the loss), a BERT-style masked language model on padded batches, attention written three
ways, decoding with a cache of keys and values, a checkpoint resumed mid-training and a
gradient check of a whole block. Each checks values: a cost that falls by a stated margin on
fixed seeds, gradients against finite differences, bitwise equality where the arithmetic is
the same. Data are made here."""
from __future__ import annotations

import numpy as np
import pytest

import graphgrad as gg
from graphgrad import nn, optim

# -- the corpus: sentences of a tiny grammar, one character a token --------------------------------
_SENTENCES = ["the cat sat.", "a dog ran.", "the bird flew.", "a fish swam."]
_CHARS = sorted(set("".join(_SENTENCES)))
PAD, BOS = 0, 1  # tokens of their own; characters are 2, 3, ...
_VOCAB = 2 + len(_CHARS)
_IGNORE = -100  # PyTorch's ignore_index


def _encode(text: str) -> list[int]:
    return [2 + _CHARS.index(c) for c in text]


def _decode(tokens) -> str:
    return "".join(_CHARS[t - 2] for t in tokens)


def _batch(rng: np.random.Generator, m: int) -> tuple[np.ndarray, np.ndarray]:
    """m sentences drawn at random, each <bos> + characters, padded with PAD to the longest:
    inputs (m, T) and next-character targets (m, T), _IGNORE after each sentence's end."""
    chosen = [_encode(_SENTENCES[i]) for i in rng.integers(0, len(_SENTENCES), m)]
    T = max(len(s) for s in chosen)
    inputs = np.full((m, T), PAD)
    targets = np.full((m, T), _IGNORE)
    for i, s in enumerate(chosen):
        inputs[i, :len(s)] = [BOS] + s[:-1]
        targets[i, :len(s)] = s
    return inputs, targets


# -- the model -------------------------------------------------------------------------------------
class Block(nn.Module):
    """x + attention(LayerNorm(x)), then + MLP(LayerNorm(x)): GPT-2's pre-LayerNorm block."""

    def __init__(self, d: int, h: int, seed: int) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(d)
        self.attn = nn.MultiHeadAttention(d, h, rng=seed)
        self.ln2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d, rng=seed + 1), nn.GELU(),
                                 nn.Linear(4 * d, d, init="xavier", rng=seed + 2))

    def forward(self, x, mask):
        h = self.ln1(x)
        x = x + self.attn(h, h, h, mask=mask)
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    def __init__(self, vocab: int = _VOCAB, max_T: int = 16, d: int = 16, h: int = 2,
                 layers: int = 2, seed: int = 0) -> None:
        super().__init__()
        self.tok = nn.Embedding(vocab, d, rng=seed)
        self.pos = nn.Embedding(max_T, d, rng=seed + 1)
        self.blocks = nn.ModuleList(Block(d, h, seed + 10 * (i + 1)) for i in range(layers))
        self.ln_f = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)
        self.head.W = self.tok.E  # weight tying: (vocab, d), one Parameter used twice

    def forward(self, tokens):
        T = tokens.shape[1]
        x = self.tok(tokens) + self.pos(np.arange(T))
        mask = nn.look_ahead_mask(T)
        for block in self.blocks:
            x = block(x, mask)
        return self.head(self.ln_f(x))  # logits (m, T, vocab)


def _adamw(model: GPT, lr: float = 1e-2, weight_decay: float = 0.1) -> optim.AdamW:
    """nanoGPT's groups: the weights of Linear layers decay; biases, LayerNorm's gamma and beta
    and the embeddings (the tied head's W among them) do not."""
    decay, no_decay = [], []
    for _, module in model.named_modules():
        for name, p in module.named_parameters():
            if "." in name:
                continue  # a submodule's, met with the submodule
            wanted = decay if isinstance(module, nn.Linear) and name == "W" else no_decay
            wanted.append(p)
    no_decay = [p for p in no_decay if all(p is not q for q in decay)]
    decay = [p for p in decay if p is not model.tok.E]  # the tied head's W is the embedding
    no_decay += [model.tok.E] if all(p is not model.tok.E for p in no_decay) else []
    return optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                        {"params": no_decay, "weight_decay": 0.0}], lr=lr)


def _train_step(model, adam, schedule, inputs, targets, step):
    adam.lr = schedule(step)
    adam.zero_grad()
    J = nn.cross_entropy(model(inputs), targets, ignore_index=_IGNORE)
    J.backward()
    norm = optim.clip_grad_norm(model.parameters(), 1.0)
    adam.step()
    return J.item(), norm


@gg.no_grad()
def _greedy(model: GPT, prompt: list[int], steps: int) -> list[int]:
    tokens = list(prompt)
    for _ in range(steps):
        logits = model(np.array([tokens]))
        tokens.append(int(logits.data[0, -1].argmax()))
    return tokens


def _softmax(Z: np.ndarray) -> np.ndarray:
    E = np.exp(Z - Z.max(axis=-1, keepdims=True))
    return E / E.sum(axis=-1, keepdims=True)


# -- (1) the GPT: parameters, groups, the loss, training, sampling ---------------------------------
def test_gpt_parameters_groups_and_schedule_are_what_nanogpt_sets_up():
    model = GPT()
    names = [name for name, _ in model.named_parameters()]
    assert "head.W" not in names and names[:2] == ["tok.E", "pos.E"]
    d, V = 16, _VOCAB
    block = 2 * 2 * d + 4 * (d * d + d) + (d * 4 * d + 4 * d) + (4 * d * d + d)
    assert model.count_parameters() == V * d + 16 * d + 2 * block + 2 * d
    adam = _adamw(model)
    decayed, kept = (group["params"] for group in adam.param_groups)
    assert len(decayed) == 2 * 6 and len(kept) == 2 + 2 * (4 + 6) + 2
    assert all(p.ndim == 2 for p in decayed) and any(p is model.tok.E for p in kept)
    # decoupled decay, with zero gradients: weights shrink by 1 - lr wd, the rest stay put
    before = [p.data.copy() for p in model.parameters()]
    for p in model.parameters():
        p.grad = np.zeros_like(p.data)
    adam.lr = 0.5
    adam.step()
    for p, old in zip(model.parameters(), before):
        shrink = 1 - 0.5 * 0.1 if any(p is q for q in decayed) else 1.0
        np.testing.assert_allclose(p.data, old * shrink, rtol=1e-15, atol=0)
    # warm-up then cosine, by step, set on every group
    schedule = optim.CosineDecay(1e-2, total=100, warmup=10, alpha_min=1e-3)
    for step, expected in [(0, 0.0), (5, 5e-3), (10, 1e-2), (55, 5.5e-3), (100, 1e-3),
                           (150, 1e-3)]:
        adam.lr = schedule(step)
        assert [g["lr"] for g in adam.param_groups] == pytest.approx([expected] * 2, abs=1e-15)


def test_gpt_loss_over_padded_sequences_is_the_mean_over_real_positions_by_hand():
    model = GPT()
    inputs, targets = _batch(np.random.default_rng(0), 6)
    assert (targets == _IGNORE).any() and (inputs == PAD).any()
    logits = model(inputs)
    assert logits.shape == inputs.shape + (_VOCAB,)
    J = nn.cross_entropy(logits, targets, ignore_index=_IGNORE)
    real = targets != _IGNORE
    P = _softmax(logits.data)
    expected = -np.log(P[real, targets[real]]).mean()
    assert J.item() == pytest.approx(expected, rel=1e-13)
    losses = nn.cross_entropy(logits, targets, ignore_index=_IGNORE, reduction="none")
    assert losses.shape == targets.shape and np.all(losses.data[~real] == 0)
    np.testing.assert_allclose(losses.data[real], -np.log(P[real, targets[real]]), rtol=1e-13)
    J.backward()  # dZ = (softmax(Z) - Y) / (real positions), 0 at the padding
    dZ = P - np.eye(_VOCAB)[np.where(real, targets, 0)]
    dZ[~real] = 0
    np.testing.assert_allclose(logits.grad, dZ / real.sum(), rtol=1e-12, atol=1e-18)


def test_tied_embedding_gradient_is_the_sum_of_both_uses_and_finite_differences():
    model = GPT(layers=1, seed=3)
    inputs, targets = _batch(np.random.default_rng(1), 3)

    def cost() -> float:
        with gg.no_grad():
            return nn.cross_entropy(model(inputs), targets, ignore_index=_IGNORE).item()

    model.zero_grad()
    nn.cross_entropy(model(inputs), targets, ignore_index=_IGNORE).backward()
    E = model.tok.E
    dE = E.grad.copy()
    # the two uses, each alone: the lookup (head's W a constant copy), then the head
    head_W = model.head.W
    model.head.W = nn.Parameter(E.data.copy())
    model.zero_grad()
    nn.cross_entropy(model(inputs), targets, ignore_index=_IGNORE).backward()
    as_input, as_output = E.grad.copy(), model.head.W.grad.copy()
    model.head.W = head_W
    assert not np.allclose(as_input, 0) and not np.allclose(as_output, 0)
    np.testing.assert_allclose(dE, as_input + as_output, rtol=1e-12, atol=1e-15)
    # and finite differences on some elements of the one shared matrix, both uses moving
    rng = np.random.default_rng(2)
    eps = 1e-6
    for index in [(BOS, 0), (_encode("t")[0], 3), (PAD, 5),
                  *[tuple(rng.integers(0, s) for s in E.shape) for _ in range(5)]]:
        saved = E.data[index]
        E.data[index] = saved + eps
        up = cost()
        E.data[index] = saved - eps
        down = cost()
        E.data[index] = saved
        assert dE[index] == pytest.approx((up - down) / (2 * eps), rel=1e-6, abs=1e-10), index
    assert dE[PAD].any()  # PAD is never a target but is scored by the tied head


def test_gpt_learns_the_corpus_and_greedy_sampling_recites_a_sentence():
    model = GPT(seed=0)
    adam = _adamw(model, lr=1e-2)
    schedule = optim.CosineDecay(1e-2, total=200, warmup=20, alpha_min=1e-3)
    rng = np.random.default_rng(0)
    costs, norms = [], []
    for step in range(200):
        J, norm = _train_step(model, adam, schedule, *_batch(rng, 16), step)
        costs.append(J)
        norms.append(norm)
    assert costs[0] > np.log(_VOCAB)  # no better than uniform at first
    # After "the " / "a " the next word is a coin flip of two: the best a model can do is
    # log 2 on that character, averaged over the about 12 characters of a sentence.
    assert np.mean(costs[-20:]) < 0.25 < np.mean(costs[:20]) / 8
    assert max(norms[:20]) > 1.0  # clipping was needed early on
    for sentence in _SENTENCES:
        head, rest = sentence.split(" ", 1)
        word = rest.split(" ")[0]
        prompt = [BOS] + _encode(f"{head} {word[0]}")
        recited = _greedy(model, prompt, len(sentence) + 1 - len(prompt))
        assert _decode(recited[1:]) == sentence
        found = nn.greedy_search(  # the library's decoding, stopping at the full stop
            lambda prefixes: gg.log_softmax(model(prefixes)[:, -1], axis=-1),
            np.array([prompt]), max_length=16, end_token=_encode(".")[0])
        assert _decode(found.sequences[0][found.sequences[0] >= 2]) == sentence[len(prompt) - 1:]
    assert gg.is_grad_enabled()  # the decorator put grad mode back


# -- (2) a BERT-style masked language model on padded batches -------------------------------------
MASK = 2 + len(_CHARS)  # one more token: [MASK]


class MaskedLM(nn.Module):
    def __init__(self, d: int = 16, h: int = 2, seed: int = 0) -> None:
        super().__init__()
        self.tok = nn.Embedding(MASK + 1, d, rng=seed)
        self.pos = nn.Embedding(24, d, rng=seed + 1)
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(d, h, 2 * d, dropout=0.0, rng=seed + 2 + i)
            for i in range(2))
        self.head = nn.Linear(d, MASK + 1, rng=seed + 5)

    def forward(self, tokens):
        x = self.tok(tokens) + self.pos(np.arange(tokens.shape[1]))
        mask = nn.padding_mask(tokens, PAD)  # (m, 1, 1, T): no query attends to padding
        for layer in self.layers:
            x = layer(x, mask=mask)
        return self.head(x)


def _masked(rng: np.random.Generator, m: int, T: int) -> tuple[np.ndarray, np.ndarray]:
    """BERT's corruption: a quarter of the real tokens picked at random are the targets, and
    replaced by [MASK]; targets elsewhere are _IGNORE."""
    tokens = np.full((m, T), PAD)
    for i in range(m):
        s = _encode(_SENTENCES[rng.integers(0, len(_SENTENCES))])
        tokens[i, :len(s)] = s
    real = tokens != PAD
    picked = real & (rng.random(tokens.shape) < 0.25)
    picked[np.arange(m), rng.integers(0, 3, m)] = True  # at least one per sentence
    return np.where(picked, MASK, tokens), np.where(picked, tokens, _IGNORE)


def test_masked_lm_masking_is_seeded_and_only_masked_positions_cost():
    a, b = _masked(np.random.default_rng(5), 8, 16), _masked(np.random.default_rng(5), 8, 16)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    corrupted, targets = a
    assert np.all((corrupted == MASK) == (targets != _IGNORE))
    model = MaskedLM()
    logits = model(corrupted)
    J = nn.cross_entropy(logits, targets, ignore_index=_IGNORE)
    losses = nn.cross_entropy(logits, np.where(targets == _IGNORE, 0, targets),
                              reduction="none")
    picked = targets != _IGNORE
    assert J.item() == pytest.approx((losses.data * picked).sum() / picked.sum(), rel=1e-13)
    J.backward()
    E_grad = model.tok.E.grad.copy()
    # the same cost from reduction="none" and a mask, as a PyTorch user writes it
    model.zero_grad()
    losses = nn.cross_entropy(model(corrupted), np.where(picked, targets, 0), reduction="none")
    ((losses * picked).sum() / picked.sum()).backward()
    np.testing.assert_allclose(model.tok.E.grad, E_grad, rtol=1e-12, atol=1e-16)


def test_padding_changes_nothing_at_the_real_positions():
    model = MaskedLM(seed=4)
    rng = np.random.default_rng(6)
    corrupted, _ = _masked(rng, 5, 14)
    real = corrupted != PAD
    lengths = real.sum(axis=1)
    assert lengths.min() < 14
    with gg.no_grad():
        out = model(corrupted).data
        # whatever sits at the padded positions (their keys are masked) changes nothing, to
        # the bit: the weights on them are exactly 0
        garbage = np.where(real, corrupted, rng.integers(0, MASK, corrupted.shape))
        garbage_out = model(garbage * real + PAD * ~real).data  # PAD again: the same mask
        np.testing.assert_array_equal(garbage_out[real], out[real])
        # each sentence alone, unpadded, gives its own outputs
        for i, L in enumerate(lengths):
            alone = model(corrupted[i:i + 1, :L]).data[0]
            np.testing.assert_allclose(alone, out[i, :L], rtol=1e-13, atol=1e-14)
        # ten more padded positions: the same outputs. Not to the bit: numpy adds a softmax's
        # row of 8 or more exponentials in another order once it has more (zero) terms
        longer = np.concatenate([corrupted, np.full((5, 10), PAD)], axis=1)
        np.testing.assert_allclose(model(longer).data[:, :14][real], out[real],
                                   rtol=1e-13, atol=1e-14)
    # and the padded positions get no gradient from a cost of the real ones
    with gg.no_grad():
        x = (model.tok(corrupted) + model.pos(np.arange(14))).data
    X = gg.Tensor(x, requires_grad=True)
    y = X
    for layer in model.layers:
        y = layer(y, mask=nn.padding_mask(corrupted, PAD))
    (model.head(y)[real] ** 2).sum().backward()
    assert np.all(X.grad[~real] == 0) and np.all(X.grad[real] != 0)


def test_masked_lm_learns_to_fill_in_the_masked_characters():
    model = MaskedLM(seed=1)
    adam = optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.01)
    rng = np.random.default_rng(7)
    costs = []
    for _ in range(120):
        corrupted, targets = _masked(rng, 16, 14)
        adam.zero_grad()
        J = nn.cross_entropy(model(corrupted), targets, ignore_index=_IGNORE)
        J.backward()
        adam.step()
        costs.append(J.item())
    assert np.mean(costs[-20:]) < np.mean(costs[:20]) / 3


# -- (3) one attention written three ways ----------------------------------------------------------
def _split_heads(t, h: int):
    """(m, T, d) -> (m, h, T, d / h), as PyTorch's view(m, T, h, d // h).transpose(1, 2)."""
    m, T, d = t.shape
    return t.reshape(m, T, h, d // h).swapaxes(1, 2)


def _merge_heads(t):
    m, h, T, d_k = t.shape
    return t.swapaxes(1, 2).reshape(m, T, h * d_k)


def _attention(attn: nn.MultiHeadAttention, X, mask, way: str, causal: bool):
    if way == "module":
        return attn(X, X, X, mask=mask)
    h = attn.num_heads
    q, k, v = (_split_heads(layer(X), h) for layer in (attn.query, attn.key, attn.value))
    if way == "function":  # F.scaled_dot_product_attention's is_causal for the causal mask
        heads, _ = nn.scaled_dot_product_attention(q, k, v, mask=None if causal else mask,
                                                   is_causal=causal)
    else:  # by hand: einsum, masking with -inf, softmax
        scores = gg.einsum("mhqd,mhkd->mhqk", q, k) / np.sqrt(q.shape[-1])
        weights = gg.softmax(gg.where(mask, scores, -np.inf), axis=-1)
        heads = gg.einsum("mhqk,mhkd->mhqd", weights, v)
    return attn.out(_merge_heads(heads))


@pytest.mark.parametrize("mask_kind", ["causal", "padding"])
def test_attention_three_ways_gives_the_same_outputs_and_gradients(mask_kind):
    rng = np.random.default_rng(8)
    m, T, d = 3, 6, 12
    attn = nn.MultiHeadAttention(d, 3, rng=9)
    X = rng.standard_normal((m, T, d))
    if mask_kind == "causal":
        mask = nn.look_ahead_mask(T)
    else:
        mask = nn.padding_mask([[4, 4, 4, 4, 0, 0], [4, 4, 4, 4, 4, 4], [4, 4, 0, 0, 0, 0]])
    upstream = rng.standard_normal((m, T, d))
    results = {}
    for way in ("module", "function", "einsum"):
        attn.zero_grad()
        Xt = gg.Tensor(X, requires_grad=True)
        Y = _attention(attn, Xt, mask, way, causal=mask_kind == "causal")
        (Y * upstream).sum().backward()
        results[way] = [Y.data, Xt.grad] + [p.grad for p in attn.parameters()]
    assert len(results["module"]) == 2 + 8
    for way in ("function", "einsum"):
        for got, expected in zip(results[way], results["module"]):
            np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)
    # and the causal mask is causal: output t moves with X[:, s] for s <= t only
    if mask_kind == "causal":
        Xt = gg.Tensor(X, requires_grad=True)
        attn(Xt, Xt, Xt, mask=mask)[:, 2].sum().backward()
        assert np.all(Xt.grad[:, 3:] == 0) and np.all(Xt.grad[:, :3] != 0)


# -- (4) decoding with a cache of keys and values --------------------------------------------------
@gg.no_grad()
def _decode_with_cache(model: GPT, tokens: np.ndarray) -> np.ndarray:
    """The logits of every position, one position at a time: each block keeps the keys and
    values of the positions before, so each step computes the new position's only."""
    m, T = tokens.shape
    caches = [([], []) for _ in model.blocks]
    logits = []
    for t in range(T):
        x = model.tok(tokens[:, t:t + 1]) + model.pos(np.array([t]))  # (m, 1, d)
        for block, (keys, values) in zip(model.blocks, caches):
            attn = block.attn
            h = block.ln1(x)
            keys.append(_split_heads(attn.key(h), attn.num_heads))
            values.append(_split_heads(attn.value(h), attn.num_heads))
            q = _split_heads(attn.query(h), attn.num_heads)  # (m, h, 1, d_k)
            heads, _ = nn.scaled_dot_product_attention(  # the one query sees every key so far
                q, gg.concatenate(keys, axis=2), gg.concatenate(values, axis=2))
            x = x + attn.out(_merge_heads(heads))
            x = x + block.mlp(block.ln2(x))
        logits.append(model.head(model.ln_f(x)).data[:, 0])
    return np.stack(logits, axis=1)


def test_cached_decoding_gives_the_full_forward_pass():
    model = GPT(seed=5)
    tokens = np.random.default_rng(10).integers(0, _VOCAB, (3, 11))
    with gg.no_grad():
        full = model(tokens).data
    np.testing.assert_allclose(_decode_with_cache(model, tokens), full, rtol=1e-12,
                               atol=1e-13)


# -- (5) a checkpoint of the model and AdamW, resumed bit for bit ----------------------------------
def test_gpt_and_adamw_saved_mid_training_resume_bit_for_bit(tmp_path):
    schedule = optim.CosineDecay(1e-2, total=40, warmup=5, alpha_min=1e-3)

    def train(model, adam, steps):
        for step in steps:
            _train_step(model, adam, schedule, *_batch(np.random.default_rng((11, step)), 8),
                        step)

    model = GPT(seed=7)
    adam = _adamw(model)
    train(model, adam, range(12))
    gg.save(model.state_dict(), tmp_path / "gpt.npz")
    gg.save(adam.state_dict(), tmp_path / "adamw.npz")
    train(model, adam, range(12, 24))

    resumed = GPT(seed=99)  # other weights, all replaced by the loaded ones
    resumed_adam = _adamw(resumed)
    resumed.load_state_dict(gg.load(tmp_path / "gpt.npz"))
    resumed_adam.load_state_dict(gg.load(tmp_path / "adamw.npz"))
    assert resumed.head.W is resumed.tok.E  # loading kept the weights tied
    train(resumed, resumed_adam, range(12, 24))
    one_run, two_runs = model.state_dict(), resumed.state_dict()
    assert list(one_run) == list(two_runs) and "head.W" in one_run
    for key in one_run:
        assert np.array_equal(one_run[key], two_runs[key]), key
    assert resumed_adam.t == adam.t == 24
    assert [g["lr"] for g in resumed_adam.param_groups] == [g["lr"] for g in adam.param_groups]
    assert [g["weight_decay"] for g in resumed_adam.param_groups] == [0.1, 0.0]


# -- (6) a gradient check of a whole block, in float64 ---------------------------------------------
def test_gradcheck_of_a_whole_pre_layernorm_block():
    block = Block(8, 2, seed=12)
    rng = np.random.default_rng(13)
    for p in block.parameters():  # away from the initial gamma = 1, beta = 0, b = 0
        p.data = p.data + 0.3 * rng.standard_normal(p.shape)
    X = rng.standard_normal((2, 4, 8))
    mask = nn.look_ahead_mask(4)
    names = [name for name, _ in block.named_parameters()]

    def of_inputs_and_parameters(X, *params):
        """The block with gradcheck's copies in place of its parameters."""
        originals = []
        for name, p in zip(names, params):
            *path, attr = name.split(".")
            owner = block
            for part in path:
                owner = getattr(owner, part)
            originals.append((owner, attr, getattr(owner, attr)))
            setattr(owner, attr, p)
        try:
            return block(X, mask)
        finally:
            for owner, attr, original in originals:
                setattr(owner, attr, original)

    result = gg.gradcheck(of_inputs_and_parameters, [X, *block.parameters()])
    assert result.passed and len(result.pairs) == 1 + len(names) == 1 + 16
    assert all(isinstance(p, nn.Parameter) for p in block.parameters())  # put back
