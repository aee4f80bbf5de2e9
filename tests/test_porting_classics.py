"""Small classic programs, written as one writes them in PyTorch, ported to graphgrad: an
autoencoder, a VAE, a GAN, word2vec, REINFORCE, a seq2seq copy task, a masked character
classifier, warm-up and cosine decay, gradient accumulation, tied weights, a frozen layer and
a checkpoint resumed. Each checks values: a cost that falls by a stated margin on fixed seeds,
gradients against a formula by hand or finite differences, bitwise equality on resume.
Data are made here, or scikit-learn's bundled digits when it is installed."""
from __future__ import annotations

import math

import numpy as np
import pytest

import graphgrad as gg
from graphgrad import nn, optim


def _digits(m: int) -> np.ndarray:
    datasets = pytest.importorskip("sklearn.datasets")
    return datasets.load_digits().data[:m] / 16.0  # (m, 64), in [0, 1]


def _softmax(Z: np.ndarray) -> np.ndarray:
    E = np.exp(Z - Z.max(axis=-1, keepdims=True))
    return E / E.sum(axis=-1, keepdims=True)


# -- an autoencoder and a VAE on digits ------------------------------------------------------------
def test_dense_autoencoder_on_digits_reconstructs_four_times_better():
    X = _digits(256)
    nn.init.seed(0)
    encoder = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 8))
    decoder = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 64), nn.Sigmoid())
    assert encoder.count_parameters() == 64 * 32 + 32 + 32 * 8 + 8 == 2344
    adam = optim.Adam(encoder.parameters() + decoder.parameters(), lr=1e-2)
    costs = []
    for _ in range(25):
        for start in range(0, 256, 64):
            batch = X[start:start + 64]
            adam.zero_grad()
            J = nn.mse(decoder(encoder(batch)), batch)
            J.backward()
            adam.step()
        with gg.no_grad():
            costs.append(nn.mse(decoder(encoder(X)), X).item())
    assert costs[-1] < costs[0] / 4


class _VAE(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(64, 32, rng=1)
        self.mu = nn.Linear(32, 4, init="xavier", rng=2)
        self.logvar = nn.Linear(32, 4, init="xavier", rng=3)
        self.decoder = nn.Sequential(nn.Linear(4, 32, init="xavier", rng=4), nn.Tanh(),
                                     nn.Linear(32, 64, init="xavier", rng=5))

    def forward(self, X, eps):
        H = gg.relu(self.hidden(X))
        mu, logvar = self.mu(H), self.logvar(H)
        z = mu + gg.exp(0.5 * logvar) * eps  # the reparameterisation trick
        return self.decoder(z), mu, logvar


def _kl(mu, logvar):
    """KL(N(mu, sigma**2) || N(0, 1)), summed over the latent units, averaged over examples."""
    return -0.5 * gg.sum(1 + logvar - mu ** 2 - gg.exp(logvar)) / mu.shape[0]


def test_vae_kl_and_reparameterisation_gradients_are_the_formulas_by_hand():
    rng = np.random.default_rng(0)
    mu = gg.Tensor(rng.standard_normal((5, 3)), requires_grad=True)
    logvar = gg.Tensor(rng.standard_normal((5, 3)), requires_grad=True)
    eps = rng.standard_normal((5, 3))
    target = rng.standard_normal((5, 3))
    z = mu + gg.exp(0.5 * logvar) * eps
    J = _kl(mu, logvar) + ((z - target) ** 2).sum() / 5
    J.backward()
    dz = 2 * (z.data - target) / 5
    sigma = np.exp(0.5 * logvar.data)
    np.testing.assert_allclose(mu.grad, mu.data / 5 + dz, rtol=1e-13)
    np.testing.assert_allclose(logvar.grad, 0.5 * (np.exp(logvar.data) - 1) / 5
                               + dz * 0.5 * sigma * eps, rtol=1e-13)


def test_vae_on_digits_learns_and_samples_without_a_graph():
    X = _digits(128)
    vae = _VAE()
    adam = optim.Adam(vae.parameters(), lr=1e-2)
    rng = np.random.default_rng(0)
    costs = []
    for _ in range(60):
        logits, mu, logvar = vae(X, rng.standard_normal((128, 4)))
        J = nn.binary_cross_entropy_with_logits(logits, X) * 64 + _kl(mu, logvar)
        adam.zero_grad()
        J.backward()
        adam.step()
        costs.append(J.item())
    assert costs[-1] < 0.6 * costs[0]
    with gg.no_grad():
        samples = gg.sigmoid(vae.decoder(rng.standard_normal((10, 4))))
    assert samples.shape == (10, 64) and not samples.requires_grad and samples.creator is None
    assert ((samples.data > 0) & (samples.data < 1)).all()


# -- a GAN on a mixture of four Gaussians ----------------------------------------------------------
def test_gan_with_detached_fakes_and_label_smoothing_learns_the_mixtures_radius():
    rng = np.random.default_rng(0)
    centres = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.0], [0.0, -2.0]])  # on a circle of 2

    def real(m):
        return centres[rng.integers(0, 4, m)] + 0.1 * rng.standard_normal((m, 2))

    G = nn.Sequential(nn.Linear(4, 32, rng=1), nn.ReLU(), nn.Linear(32, 32, rng=5), nn.ReLU(),
                      nn.Linear(32, 2, rng=2))
    D = nn.Sequential(nn.Linear(2, 32, rng=3), nn.LeakyReLU(0.2), nn.Linear(32, 1, rng=4))
    opt_G = optim.Adam(G.parameters(), lr=2e-3, beta1=0.5)
    opt_D = optim.Adam(D.parameters(), lr=2e-3, beta1=0.5)
    bce = nn.binary_cross_entropy_with_logits
    Z_eval = np.random.default_rng(9).standard_normal((500, 4))

    def radius_error():
        with gg.no_grad():
            return abs(np.linalg.norm(G(Z_eval).data, axis=1).mean() - 2.0)

    before = radius_error()
    for step in range(120):
        Z = rng.standard_normal((64, 4))
        fake = G(Z)
        real_batch = real(64)
        if step == 0:  # the D step's gradients are those of the fakes as a constant array
            bce(D(real_batch), np.full((64, 1), 0.9)).backward()
            bce(D(fake.data), np.zeros((64, 1))).backward()
            constant_grads = [p.grad.copy() for p in D.parameters()]
        opt_G.zero_grad()
        opt_D.zero_grad()
        # one-sided label smoothing: real labels 0.9
        J_D = (bce(D(real_batch), np.full((64, 1), 0.9))
               + bce(D(fake.detach()), np.zeros((64, 1))))
        J_D.backward()
        assert all(p.grad is None for p in G.parameters())
        if step == 0:
            for p, g in zip(D.parameters(), constant_grads):
                np.testing.assert_allclose(p.grad, g, rtol=1e-13, atol=1e-16)
        opt_D.step()
        opt_G.zero_grad()  # J_G's backward fills D's .grad too: opt_D.zero_grad() clears it
        J_G = bce(D(fake), np.ones((64, 1)))
        J_G.backward()
        D_W = D[0].W.data.copy()
        opt_G.step()
        assert np.array_equal(D[0].W.data, D_W)  # the G step moves G only
        if step == 0:  # and fools the D it was taken against: J_G falls for the same Z
            with gg.no_grad():
                assert bce(D(G(Z)), np.ones((64, 1))).item() < J_G.item()
    assert radius_error() < before / 3


# -- word2vec: skip-gram with negative sampling ----------------------------------------------------
class _SkipGram(nn.Module):
    def __init__(self, n_vocab: int, n_e: int) -> None:
        super().__init__()
        self.centre = nn.Embedding(n_vocab, n_e, rng=0)
        self.context = nn.Embedding(n_vocab, n_e, rng=1)

    def forward(self, centre, context, negatives):
        v = self.centre(centre)                                  # (m, n_e)
        positive = (v * self.context(context)).sum(axis=1)       # (m,)
        negative = (self.context(negatives) * gg.expand_dims(v, 1)).sum(axis=2)  # (m, K)
        # -log sigmoid(u_o . v_c) - sum_k log sigmoid(-u_k . v_c), averaged over pairs
        return (nn.binary_cross_entropy_with_logits(positive, np.ones(positive.shape))
                + nn.binary_cross_entropy_with_logits(negative, np.zeros(negative.shape))
                * negative.shape[1])


def test_skip_gram_gradient_adds_up_over_repeated_words_as_the_formula_says():
    model = _SkipGram(6, 3)
    centre, context = np.array([0, 0, 1]), np.array([2, 2, 0])
    negatives = np.array([[3, 3], [0, 4], [2, 2]])
    J = model(centre, context, negatives)
    J.backward()
    V, U = model.centre.E.data, model.context.E.data
    sigma = 1 / (1 + np.exp(-np.einsum("ij,ij->i", V[centre], U[context])))
    sigma_k = 1 / (1 + np.exp(-np.einsum("ikj,ij->ik", U[negatives], V[centre])))
    # d/dv_c = (sigma - 1) u_o + sum_k sigma_k u_k; d/du_o = (sigma - 1) v_c; d/du_k = sigma_k v_c
    dV, dU = np.zeros_like(V), np.zeros_like(U)
    np.add.at(dV, centre, ((sigma - 1)[:, None] * U[context]
                           + np.einsum("ik,ikj->ij", sigma_k, U[negatives])) / 3)
    np.add.at(dU, context, (sigma - 1)[:, None] * V[centre] / 3)
    np.add.at(dU, negatives, sigma_k[:, :, None] * V[centre][:, None] / 3)
    np.testing.assert_allclose(model.centre.E.grad, dV, rtol=1e-12)
    np.testing.assert_allclose(model.context.E.grad, dU, rtol=1e-12)
    assert dU[2].any() and not dU[5].any()  # word 2 used four times; word 5 never


def test_skip_gram_puts_words_of_one_topic_closer_than_words_of_the_other():
    rng = np.random.default_rng(0)
    corpus = np.concatenate([base + rng.integers(0, 5, 6)
                             for base in rng.choice([0, 5], size=300)])  # topics 0-4, 5-9
    pairs = np.array([(corpus[i], corpus[i + d]) for i in range(1, len(corpus) - 1)
                      for d in (-1, 1)])
    model = _SkipGram(10, 8)
    sgd = optim.SGD(model.parameters(), lr=1.0)
    costs = []
    for _ in range(60):
        negatives = rng.integers(0, 10, (len(pairs), 3))
        sgd.zero_grad()
        J = model(pairs[:, 0], pairs[:, 1], negatives)
        J.backward()
        sgd.step()
        costs.append(J.item())
    assert costs[-1] < 0.8 * costs[0]
    E = model.centre.E.data / np.linalg.norm(model.centre.E.data, axis=1, keepdims=True)
    cos = E @ E.T
    same = np.array([[i // 5 == j // 5 and i != j for j in range(10)] for i in range(10)])
    other = np.array([[i // 5 != j // 5 for j in range(10)] for i in range(10)])
    assert cos[same].mean() > cos[other].mean() + 0.5


# -- REINFORCE on a contextual bandit --------------------------------------------------------------
def test_reinforce_surrogate_gradient_is_the_score_function_by_hand():
    rng = np.random.default_rng(0)
    Z = gg.Tensor(rng.standard_normal((5, 3)), requires_grad=True)
    actions = np.array([0, 2, 2, 1, 0])
    advantage = rng.standard_normal(5)
    log_probs = gg.log_softmax(Z, axis=-1)[np.arange(5), actions]
    (-(log_probs * advantage).mean()).backward()
    # d/dZ of -A log softmax(Z)[a] = -A (onehot(a) - softmax(Z)), over m
    expected = -advantage[:, None] * (np.eye(3)[actions] - _softmax(Z.data)) / 5
    np.testing.assert_allclose(Z.grad, expected, rtol=1e-13)


def test_reinforce_with_a_learned_baseline_finds_the_best_arm_of_each_state():
    rng = np.random.default_rng(0)
    reward = np.zeros((4, 3))
    reward[np.arange(4), np.arange(4) % 3] = 1.0  # the best arm of state s is s % 3
    policy = nn.Linear(4, 3, init="zeros")
    value = nn.Linear(4, 1, init="zeros")
    adam = optim.Adam(policy.parameters() + value.parameters(), lr=0.05)
    mean_rewards = []
    for step in range(150):
        states = rng.integers(0, 4, 32)
        X = np.eye(4)[states]
        log_pi = gg.log_softmax(policy(X), axis=-1)
        probs = np.exp(log_pi.data)
        actions = np.array([rng.choice(3, p=p / p.sum()) for p in probs])
        r = reward[states, actions] + 0.1 * rng.standard_normal(32)
        baseline = value(X)[:, 0]
        advantage = r - baseline
        # the policy's cost sees the advantage as a constant; the value's is its mse
        J = -(log_pi[np.arange(32), actions] * advantage.detach()).mean() + (
            advantage ** 2).mean()
        adam.zero_grad()
        J.backward()
        if step == 0:  # the detach keeps the policy's cost out of the value's gradient
            np.testing.assert_allclose(value.b.grad, [-2 * r.mean()], rtol=1e-13)
        adam.step()
        mean_rewards.append(r.mean())
    assert np.mean(mean_rewards[:10]) < 0.6 and np.mean(mean_rewards[-10:]) > 0.9
    with gg.no_grad():
        assert (policy(np.eye(4)).argmax(axis=-1).data == np.arange(4) % 3).all()


# -- seq2seq: copy a sequence, with teacher forcing ------------------------------------------------
class _Seq2Seq(nn.Module):
    def __init__(self, cell: str, n_vocab: int = 6, n_a: int = 24) -> None:
        super().__init__()
        self.embedding = nn.Embedding(n_vocab, 8, rng=0)
        self.encoder = nn.RNN(8, n_a, cell=cell, rng=1)
        self.decoder = nn.RNN(8, n_a, cell=cell, rng=2)
        self.out = nn.Linear(n_a, n_vocab, rng=3)
        self.kind = cell

    def state(self, source):
        _, state = self.encoder(self.embedding(source), return_state=True)
        return state if self.kind == "lstm" else (state,)  # (a, c) or (a,)

    def step(self, tokens, state):
        A, state = self.decoder(self.embedding(tokens), *state, return_state=True)
        return self.out(A), state if self.kind == "lstm" else (state,)

    def forward(self, source, decoder_inputs):  # teacher forcing: the right tokens go in
        return self.step(decoder_inputs, self.state(source))[0]


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_seq2seq_copy_task_with_teacher_forcing_then_greedy_decoding(cell):
    rng = np.random.default_rng(0)
    T, V = 5, 6  # tokens 1..5; 0 starts the decoder
    model = _Seq2Seq(cell)
    adam = optim.Adam(model.parameters(), lr=0.02)
    costs = []
    for _ in range(120):
        source = rng.integers(1, V, (32, T))
        shifted = np.concatenate([np.zeros((32, 1), dtype=int), source[:, :-1]], axis=1)
        logits = model(source, shifted)  # (m, T, V)
        J = nn.cross_entropy(logits.reshape(-1, V), source.reshape(-1))
        adam.zero_grad()
        J.backward()
        adam.step()
        costs.append(J.item())
    assert costs[-1] < costs[0] / 3
    with gg.no_grad():  # greedy decoding, each step fed the token it chose
        source = rng.integers(1, V, (200, T))
        state, token, chosen = model.state(source), np.zeros((200, 1), dtype=int), []
        for _ in range(T):
            logits, state = model.step(token, state)
            token = logits.argmax(axis=-1).data
            chosen.append(token)
    assert (np.concatenate(chosen, axis=1) == source).mean() > 0.6  # chance is 0.2


def test_seq2seq_gradient_through_encoder_state_matches_finite_differences():
    rng = np.random.default_rng(1)
    model = _Seq2Seq("lstm", n_vocab=4, n_a=3)
    source, inputs = rng.integers(0, 4, (2, 3)), rng.integers(0, 4, (2, 3))
    targets = rng.integers(0, 4, 6)

    def cost():
        return nn.cross_entropy(model(source, inputs).reshape(-1, 4), targets)

    cost().backward()
    for W in (model.encoder.cell.Wf, model.embedding.E):
        for index in [(0, 0), (1, 2), (2, 1)]:
            old = W.data[index]
            values = []
            for shift in (1e-6, -1e-6):
                data = W.data.copy()
                data[index] = old + shift
                W.data = data
                values.append(cost().item())
            data = W.data.copy()
            data[index] = old
            W.data = data
            assert W.grad[index] == pytest.approx((values[0] - values[1]) / 2e-6, rel=1e-5,
                                                  abs=1e-9)


# -- a character-level classifier with padding and a mask ------------------------------------------
class _CharClassifier(nn.Module):
    """Mean of the embeddings of the real characters (index 0 pads), then a Linear."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(5, 8, rng=0)
        self.out = nn.Linear(8, 2, rng=1)

    def forward(self, tokens):
        mask = (tokens != 0).astype(float)[..., None]  # (m, T, 1)
        pooled = (self.embedding(tokens) * mask).sum(axis=1) / mask.sum(axis=1)
        return self.out(pooled)


def test_masked_character_classifier_ignores_padding_and_learns():
    rng = np.random.default_rng(0)
    m, T = 256, 8
    labels = rng.integers(0, 2, m)
    lengths = rng.integers(2, T + 1, m)
    tokens = np.zeros((m, T), dtype=int)
    for i in range(m):  # class 0 uses 'a' (1) more, class 1 'b' (2)
        p = [0.5, 0.2, 0.15, 0.15] if labels[i] == 0 else [0.2, 0.5, 0.15, 0.15]
        tokens[i, :lengths[i]] = 1 + rng.choice(4, lengths[i], p=p)
    model = _CharClassifier()
    adam = optim.Adam(model.parameters(), lr=0.05)
    costs = []
    for _ in range(80):
        J = nn.cross_entropy(model(tokens), labels)
        adam.zero_grad()
        J.backward()
        adam.step()
        costs.append(J.item())
    assert costs[-1] < 0.75 * costs[0]
    assert not model.embedding.E.grad[0].any()  # the padding's row gets no gradient
    with gg.no_grad():
        assert (model(tokens).argmax(axis=-1).data == labels).mean() > 0.75
        padded = np.concatenate([tokens, np.zeros((m, 4), dtype=int)], axis=1)
        assert np.array_equal(model(padded).data, model(tokens).data)


# -- learning-rate warm-up and cosine decay --------------------------------------------------------
class _WarmupCosine(optim.Schedule):
    """One's own schedule, on graphgrad's Schedule: warm-up then a cosine, by step."""

    def __init__(self, alpha0, warmup, total):
        super().__init__(alpha0)
        self.warmup, self.total = warmup, total

    def _rate(self, step):
        if step < self.warmup:
            return self.alpha0 * step / self.warmup
        p = min((step - self.warmup) / (self.total - self.warmup), 1.0)
        return self.alpha0 * (1 + math.cos(math.pi * p)) / 2


def test_warmup_and_cosine_decay_by_step_set_each_steps_lr():
    ours = _WarmupCosine(0.1, warmup=4, total=20)
    built_in = optim.CosineDecay(0.1, total=20, warmup=4)
    assert [ours(s) for s in range(25)] == [built_in(s) for s in range(25)]
    assert repr(ours) == "_WarmupCosine(alpha0=0.1, warmup=4, total=20)"
    X = np.random.default_rng(0).standard_normal((20, 3))
    model = nn.Linear(3, 1, init="zeros")
    sgd = optim.SGD(model.parameters(), lr=0.1)
    W_before, rates = model.W.data.copy(), []
    for step in range(20):
        sgd.lr = built_in(step)
        rates.append(sgd.param_groups[0]["lr"])
        sgd.zero_grad()
        W = model.W.data.copy()
        nn.mse(model(X[step:step + 1]), X[step:step + 1, :1]).backward()
        sgd.step()
        np.testing.assert_allclose(model.W.data, W - rates[-1] * model.W.grad, rtol=1e-15)
    assert rates[0] == 0.0 and rates[4] == 0.1 and rates[12] == pytest.approx(0.05)
    assert not np.array_equal(model.W.data, W_before)


# -- gradient accumulation, tied weights, a frozen layer, a checkpoint -----------------------------
def _mlp(seed: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Linear(5, 8, rng=seed), nn.Tanh(), nn.Linear(8, 3, rng=seed + 1))


def test_gradient_accumulation_over_micro_batches_gives_the_full_batchs_step():
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((32, 5)), rng.integers(0, 3, 32)
    full, micro = _mlp(), _mlp()
    opt_full = optim.SGD(full.parameters(), lr=0.1, momentum=0.9)
    opt_micro = optim.SGD(micro.parameters(), lr=0.1, momentum=0.9)
    for _ in range(3):
        opt_full.zero_grad()
        nn.cross_entropy(full(X), Y).backward()
        opt_full.step()
        opt_micro.zero_grad()
        for k in range(4):  # backward four times, one step: the mean of four means of 8
            rows = slice(8 * k, 8 * k + 8)
            (nn.cross_entropy(micro(X[rows]), Y[rows]) / 4).backward()
        for p, q in zip(full.parameters(), micro.parameters()):
            np.testing.assert_allclose(q.grad, p.grad, rtol=1e-12, atol=1e-16)
        opt_micro.step()
    for p, q in zip(full.parameters(), micro.parameters()):
        np.testing.assert_allclose(q.data, p.data, rtol=1e-12)


class _TiedLanguageModel(nn.Module):
    """The output layer reuses the embedding matrix (Press and Wolf's weight tying)."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(10, 4, rng=0)
        self.hidden = nn.Linear(4, 4, init="xavier", rng=1)
        self.out = nn.Linear(4, 10, bias=False)
        self.out.W = self.embedding.E  # (10, 4): the shape of out's W

    def forward(self, words):
        return self.out(gg.tanh(self.hidden(self.embedding(words))))


def test_tied_weights_are_one_parameter_with_the_sum_of_both_gradients(tmp_path):
    model = _TiedLanguageModel()
    assert model.out.W is model.embedding.E
    assert [name for name, _ in model.named_parameters()] == [
        "embedding.E", "hidden.W", "hidden.b"]
    assert model.count_parameters() == 40 + 16 + 4
    words, following = np.array([1, 2, 2, 7]), np.array([2, 2, 7, 1])

    def J(E, W, b):  # the model's cost from its ops, E in both places
        return nn.cross_entropy(nn.linear(gg.tanh(nn.linear(E[words], W, b)), E), following)

    assert gg.gradcheck(J, model.parameters())
    nn.cross_entropy(model(words), following).backward()
    E = model.embedding.E
    as_output = E.grad.copy()
    E.grad = None
    E_input = gg.Tensor(E.data, requires_grad=True)  # E as the lookup table only
    J_input = nn.cross_entropy(
        model.out(gg.tanh(model.hidden(E_input[words]))), following)
    J_input.backward()
    E.grad = None
    J_output = nn.cross_entropy(nn.linear(gg.tanh(model.hidden(E.data[words])), E), following)
    J_output.backward()
    np.testing.assert_allclose(as_output, E_input.grad + E.grad, rtol=1e-12)
    # a state dict round trip keeps them tied (saved under both names, as PyTorch does)
    state = model.state_dict()
    assert sorted(state) == ["embedding.E", "hidden.W", "hidden.b", "out.W"]
    gg.save(state, tmp_path / "tied.npz")
    again = _TiedLanguageModel()
    again.embedding.E.data = np.zeros((10, 4))
    again.load_state_dict(gg.load(tmp_path / "tied.npz"))
    assert again.out.W is again.embedding.E
    np.testing.assert_array_equal(again.embedding.E.data, model.embedding.E.data)
    adam = optim.Adam(again.parameters(), lr=0.1)  # given once: one update, not two
    assert len(adam.params) == 3


def test_frozen_base_stays_put_while_the_head_fine_tunes():
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((32, 5)), rng.integers(0, 3, 32)
    base = nn.Sequential(nn.Linear(5, 8, rng=1), nn.Tanh())
    head = nn.Linear(8, 3, rng=2)
    model = nn.Sequential(base, head)
    base.requires_grad_(False)
    assert model.count_parameters() == 48 + 27 and model.count_parameters(trainable=True) == 27
    assert repr(model).startswith("Sequential(  # 75 parameters (48 frozen)")
    adam = optim.Adam(model.parameters(), lr=0.05)
    base_W, head_W = base[0].W.data.copy(), head.W.data.copy()
    costs = []
    for _ in range(30):
        adam.zero_grad()
        J = nn.cross_entropy(model(X), Y)
        J.backward()
        adam.step()
        costs.append(J.item())
        assert base[0].W.grad is None and base[0].b.grad is None
    assert np.array_equal(base[0].W.data, base_W) and not np.array_equal(head.W.data, head_W)
    assert costs[-1] < 0.75 * costs[0]
    # the head alone, by hand: its input is the frozen base's output, a constant
    A = np.tanh(X @ base_W.T + base[0].b.data)
    head.zero_grad()
    nn.cross_entropy(head(A), Y).backward()
    dZ = (_softmax(A @ head.W.data.T + head.b.data) - np.eye(3)[Y]) / 32
    np.testing.assert_allclose(head.W.grad, dZ.T @ A, rtol=1e-12)


def test_a_checkpoint_saved_mid_training_resumes_bit_for_bit(tmp_path):
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((64, 5)), rng.integers(0, 3, 64)

    def build():
        model = nn.Sequential(nn.Linear(5, 8, rng=1), nn.BatchNorm1d(8), nn.ReLU(),
                              nn.Dropout(0.8), nn.Linear(8, 3, rng=2))
        return model, optim.Adam(model.parameters(), lr=0.01, weight_decay=1e-3)

    def train(model, adam, steps):
        for step in steps:
            rows = np.random.default_rng((7, step)).permutation(64)[:16]
            model[3].reseed((7, step))  # dropout's masks from the step's number
            adam.lr = optim.CosineDecay(0.01, total=20, warmup=3)(step)
            adam.zero_grad()
            nn.cross_entropy(model(X[rows]), Y[rows]).backward()
            adam.step()

    model, adam = build()
    train(model, adam, range(10))
    gg.save(model.state_dict(), tmp_path / "model.npz")
    gg.save(adam.state_dict(), tmp_path / "adam.npz")
    train(model, adam, range(10, 20))
    resumed, resumed_adam = build()  # a fresh model and optimizer, loaded
    resumed.load_state_dict(gg.load(tmp_path / "model.npz"))
    resumed_adam.load_state_dict(gg.load(tmp_path / "adam.npz"))
    train(resumed, resumed_adam, range(10, 20))
    one_run, two_runs = model.state_dict(), resumed.state_dict()
    assert list(one_run) == list(two_runs) and "batchnorm1.running_var" in one_run
    for key in one_run:
        assert np.array_equal(one_run[key], two_runs[key]), key
    assert resumed_adam.t == adam.t == 20
