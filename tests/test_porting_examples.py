"""PyTorch's classic example programs (pytorch/examples), written as their PyTorch code reads,
in small: the MNIST convnet on scikit-learn's 8x8 digits (Adadelta and a StepLR-like decay),
the VAE, a DCGAN on the digit 0, the word-language model (an LSTM over a generated grammar,
with truncated backpropagation, gradient clipping and accumulation) and the time-sequence
prediction of sine waves by two LSTM cells fitted with L-BFGS. Each asserts what it learns on
fixed seeds; tests/test_against_torch.py checks their forward and backward against PyTorch's
with the same weights. Data are made here, or scikit-learn's bundled digits (no download)."""
from __future__ import annotations

import math

import numpy as np
import pytest

import graphgrad as gg
import graphgrad.nn.functional as F
from graphgrad import nn, optim


def _digits():
    datasets = pytest.importorskip("sklearn.datasets")
    return datasets.load_digits()


# -- MNIST: a convnet, Adadelta, StepLR ----------------------------------------------------------
class MNISTNet(nn.Module):
    """pytorch/examples' mnist/main.py Net, for 8x8 images (channels last: (m, 8, 8, 1))."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, 1, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, 1)
        self.dropout1 = nn.Dropout(0.75)  # PyTorch's Dropout(0.25): keep_prob here
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(32 * 3 * 3, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = x.flatten(1)  # torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = self.dropout2(x)
        return F.log_softmax(self.fc2(x), axis=1)


def test_mnist_convnet_with_adadelta_and_step_decay_classifies_digits():
    digits = _digits()
    X, y = (digits.images / 16.0)[:, :, :, None], digits.target
    X_train, y_train, X_test, y_test = X[:1024], y[:1024], X[1400:], y[1400:]
    nn.init.seed(0)
    model = MNISTNet()
    optimizer = optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = optim.StepDecay(1.0, 0.7, every=1)  # StepLR(optimizer, step_size=1, gamma=0.7)
    rates, test_losses = [], []
    for epoch in range(6):
        optimizer.lr = scheduler(epoch)
        rates.append(optimizer.lr)
        model.train()
        for start in range(0, len(X_train), 32):
            data, target = X_train[start:start + 32], y_train[start:start + 32]
            optimizer.zero_grad()
            loss = F.nll_loss(model(data), target)
            loss.backward()
            optimizer.step()
        model.eval()
        with gg.no_grad():
            output = model(X_test)
            test_loss = F.nll_loss(output, y_test, reduction="sum").item() / len(y_test)
            correct = (output.argmax(axis=1) == y_test).sum().item()
        test_losses.append(test_loss)
    np.testing.assert_allclose(rates, 0.7 ** np.arange(6))
    assert test_losses[0] > 1.0 and test_losses[-1] < 0.45
    assert correct / len(y_test) > 0.85
    # eval() turned dropout off: the same images give the same log-probabilities twice
    with gg.no_grad():
        np.testing.assert_array_equal(model(X_test[:5]).data, model(X_test[:5]).data)


# -- VAE -------------------------------------------------------------------------------------------
class VAE(nn.Module):
    """pytorch/examples' vae/main.py, 64 pixels -> 32 -> a code of 4 -> 32 -> 64."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        self.fc1 = nn.Linear(64, 32)
        self.fc21 = nn.Linear(32, 4)
        self.fc22 = nn.Linear(32, 4)
        self.fc3 = nn.Linear(4, 32)
        self.fc4 = nn.Linear(32, 64)
        self.rng = np.random.default_rng(seed)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = gg.exp(0.5 * logvar)
        eps = self.rng.standard_normal(std.shape)  # torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return gg.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.reshape(-1, 64))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def vae_loss(recon_x, x, mu, logvar):
    BCE = F.binary_cross_entropy(recon_x, x.reshape(-1, 64), reduction="sum")
    KLD = -0.5 * gg.sum(1 + logvar - mu ** 2 - logvar.exp())
    return BCE + KLD


def test_vae_on_digits_halves_its_loss_and_its_kl_term_is_the_formula():
    X = _digits().data[:512] / 16.0
    nn.init.seed(0)
    model = VAE()
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    epoch_losses = []
    for _ in range(10):
        model.train()
        train_loss = 0.0
        for start in range(0, 512, 64):
            data = X[start:start + 64]
            optimizer.zero_grad()
            recon_batch, mu, logvar = model(data)
            loss = vae_loss(recon_batch, data, mu, logvar)
            loss.backward()
            train_loss += loss.item()
            optimizer.step()
        epoch_losses.append(train_loss / 512)
    assert epoch_losses[0] > 40 and epoch_losses[-1] < 27
    assert all(b < a for a, b in zip(epoch_losses, epoch_losses[1:]))
    # KL(N(mu, sigma^2) || N(0, 1)) by hand, and its gradient d/dlogvar = (e^logvar - 1) / 2
    mu = gg.Tensor(np.array([[0.5, -1.0]]), requires_grad=True)
    logvar = gg.Tensor(np.array([[0.0, math.log(4.0)]]), requires_grad=True)
    KLD = -0.5 * gg.sum(1 + logvar - mu ** 2 - logvar.exp())
    assert KLD.item() == pytest.approx(0.5 * (0.25 + (1.0 + 4.0 - 1.0 - math.log(4.0))))
    KLD.backward()
    np.testing.assert_allclose(mu.grad, [[0.5, -1.0]])
    np.testing.assert_allclose(logvar.grad, [[0.0, 1.5]])
    with gg.no_grad():  # sampling: decode codes drawn from the prior, no graph kept
        sample = model.decode(np.random.default_rng(1).standard_normal((16, 4)))
    assert sample.shape == (16, 64) and sample.creator is None
    assert 0.0 < sample.data.min() and sample.data.max() < 1.0


# -- DCGAN ---------------------------------------------------------------------------------------
NZ, NGF, NDF = 4, 8, 8


def weights_init(m):
    """dcgan/main.py's: conv weights N(0, 0.02), batch norm's gamma N(1, 0.02), beta 0."""
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        nn.init.normal_(m.W, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        nn.init.normal_(m.gamma, 1.0, 0.02)
        nn.init.constant_(m.beta, 0)


class Generator(nn.Module):
    """A code (m, 1, 1, nz) -> 4x4 -> an 8x8 image in [-1, 1]."""

    def __init__(self) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(NZ, NGF * 2, 4, 1, 0, bias=False),
            nn.BatchNorm2d(NGF * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(NGF * 2, 1, 4, 2, 1, bias=False),
            nn.Tanh())

    def forward(self, input):
        return self.main(input)


class Discriminator(nn.Module):
    """An 8x8 image -> 4x4 -> 2x2 -> one logit per image (BCEWithLogitsLoss, no Sigmoid)."""

    def __init__(self) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(1, NDF, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(NDF, NDF * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(NDF * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(NDF * 2, 1, 2, 1, 0, bias=False))

    def forward(self, input):
        return self.main(input).reshape(-1)


def test_dcgan_on_the_digit_zero_draws_zeros_and_keeps_each_networks_gradients_apart():
    digits = _digits()
    real_images = (digits.images / 8.0 - 1.0)[:, :, :, None]  # in [-1, 1], as Tanh's
    X = real_images[digits.target == 0]  # 178 zeros
    nn.init.seed(0)
    netG, netD = Generator(), Discriminator()
    netG.apply(weights_init)
    netD.apply(weights_init)
    criterion = nn.BCEWithLogitsLoss()
    rng = np.random.default_rng(0)
    fixed_noise = rng.standard_normal((64, 1, 1, NZ))
    optimizerD = optim.Adam(netD.parameters(), lr=5e-3, beta1=0.5)  # betas=(0.5, 0.999)
    optimizerG = optim.Adam(netG.parameters(), lr=5e-3, beta1=0.5)

    def mean_fake():
        netG.eval()
        with gg.no_grad():
            fake = netG(fixed_noise).data
        netG.train()
        return fake.mean(axis=0)

    gap_before = np.abs(mean_fake() - X.mean(axis=0)).mean()
    for epoch in range(40):
        for start in range(0, len(X) - 31, 32):
            real = X[start:start + 32]
            b = real.shape[0]
            # (1) update D: maximize log(D(x)) + log(1 - D(G(z)))
            netD.zero_grad()
            errD_real = criterion(netD(real), np.full((b,), 1.0))
            errD_real.backward()
            fake = netG(rng.standard_normal((b, 1, 1, NZ)))
            errD_fake = criterion(netD(fake.detach()), np.full((b,), 0.0))
            errD_fake.backward()
            if epoch == 0 and start == 0:  # detach: D's losses reached no weight of G
                assert all(p.grad is None for p in netG.parameters())
                dD = [p.grad.copy() for p in netD.parameters()]
            optimizerD.step()
            # (2) update G: maximize log(D(G(z)))
            netG.zero_grad()
            errG = criterion(netD(fake), np.full((b,), 1.0))
            errG.backward()
            if epoch == 0 and start == 0:  # errG's gradient added to D's, zeroed next time
                assert all(p.grad is not None for p in netG.parameters())
                assert any(not np.array_equal(p.grad, g) for p, g in zip(netD.parameters(), dD))
            optimizerG.step()
    fake_mean = mean_fake()
    gap_after = np.abs(fake_mean - X.mean(axis=0)).mean()
    assert gap_before > 0.6 and gap_after < gap_before / 3
    # the mean fake is a zero, nearer the mean zero than the mean of any other digit
    distances = [np.abs(fake_mean - real_images[digits.target == d].mean(axis=0)).mean()
                 for d in range(10)]
    assert np.argmin(distances) == 0


# -- word language model: an LSTM, truncated BPTT, clipping, accumulation ---------------------
def _grammar(n_sentences: int, seed: int = 0) -> np.ndarray:
    """Sentences of 5 tokens, 0 (a/b) 3 (c/d/e) 7: after 0 one of 1, 2, after 3 one of 4, 5, 6,
    the rest fixed, so the best possible cost is (ln 2 + ln 3) / 5 per token."""
    rng = np.random.default_rng(seed)
    return np.concatenate([[0, 1 + rng.integers(2), 3, 4 + rng.integers(3), 7]
                           for _ in range(n_sentences)])


class RNNModel(nn.Module):
    """word_language_model/model.py's RNNModel: encoder, LSTM, decoder (batch first here)."""

    def __init__(self, ntoken: int, ninp: int, nhid: int, nlayers: int,
                 keep_prob: float = 0.8) -> None:
        super().__init__()
        self.drop = nn.Dropout(keep_prob)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = nn.RNN(ninp, nhid, cell="lstm", num_layers=nlayers)
        self.decoder = nn.Linear(nhid, ntoken)

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, *hidden, return_state=True)
        decoded = self.decoder(self.drop(output))
        return F.log_softmax(decoded, axis=-1), hidden


def repackage_hidden(h):
    """Wraps hidden states in new Tensors, to detach them from their history."""
    if isinstance(h, gg.Tensor):
        return h.detach()
    return tuple(repackage_hidden(v) for v in h)


def test_word_language_model_reaches_the_grammars_entropy_with_clipping_and_accumulation():
    ntoken, bsz, bptt, accumulate = 8, 10, 10, 2
    corpus = _grammar(200)
    train = corpus[:len(corpus) // bsz * bsz].reshape(bsz, -1)  # batchify: (bsz, T)
    nn.init.seed(0)
    model = RNNModel(ntoken, 8, 16, nlayers=2)
    criterion = nn.NLLLoss()
    optimizer = optim.Adam(model.parameters(), lr=3e-2)
    epoch_losses, norms = [], []
    for _ in range(15):
        model.train()
        hidden = (None, None)  # model.init_hidden(bsz): zeros
        total, batches = 0.0, 0
        for batch, i in enumerate(range(0, train.shape[1] - 1, bptt)):
            seq_len = min(bptt, train.shape[1] - 1 - i)  # get_batch(train_data, i)
            data, targets = train[:, i:i + seq_len], train[:, i + 1:i + 1 + seq_len]
            if hidden[0] is not None:
                hidden = repackage_hidden(hidden)
                assert hidden[0].shape == (2, bsz, 16) and hidden[0].creator is None
            output, hidden = model(data, hidden)
            loss = criterion(output.reshape(-1, ntoken), targets.reshape(-1))
            (loss / accumulate).backward()  # gradients add up over `accumulate` chunks
            if (batch + 1) % accumulate == 0:
                norm = optim.clip_grad_norm(model.parameters(), 0.25)
                clipped = math.hypot(*[np.linalg.norm(p.grad) for p in model.parameters()])
                assert clipped == pytest.approx(min(norm, 0.25))
                norms.append(norm)
                optimizer.step()
                optimizer.zero_grad()
            total, batches = total + loss.item(), batches + 1
        epoch_losses.append(total / batches)
    best = (math.log(2) + math.log(3)) / 5
    assert epoch_losses[0] > 1.2 and epoch_losses[-1] < best + 0.05
    assert max(norms) > 0.25  # clipping was needed at times
    # generation, as generate.py: the model's likeliest next words follow the grammar
    model.eval()
    with gg.no_grad():
        output, _ = model(np.array([[0, 1, 3, 5, 7, 0]]), (None, None))
    allowed = [{1, 2}, {3}, {4, 5, 6}, {7}, {0}, {1, 2}]
    assert all(int(w) in ok for w, ok in zip(output.data[0].argmax(axis=-1), allowed))


# -- time sequence prediction: sine waves, two LSTM cells, L-BFGS -------------------------------
class Sequence(nn.Module):
    """time_sequence_prediction/train.py's Sequence: two LSTMCells and a Linear, one step at a
    time, then `future` steps fed its own predictions."""

    def __init__(self, n_a: int = 12) -> None:
        super().__init__()
        self.n_a = n_a
        self.lstm1 = nn.LSTMCell(1, n_a)
        self.lstm2 = nn.LSTMCell(n_a, n_a)
        self.linear = nn.Linear(n_a, 1)

    def forward(self, input, future: int = 0):
        outputs = []
        m = input.shape[0]
        h_t, c_t, h_t2, c_t2 = (np.zeros((m, self.n_a)) for _ in range(4))
        for input_t in gg.split(input, input.shape[1], axis=1):  # input.chunk(T, dim=1)
            h_t, c_t = self.lstm1(input_t, h_t, c_t)
            h_t2, c_t2 = self.lstm2(h_t, h_t2, c_t2)
            output = self.linear(h_t2)
            outputs.append(output)
        for _ in range(future):  # if we should predict the future
            h_t, c_t = self.lstm1(output, h_t, c_t)
            h_t2, c_t2 = self.lstm2(h_t, h_t2, c_t2)
            output = self.linear(h_t2)
            outputs.append(output)
        return gg.concatenate(outputs, axis=1)


def sine_waves(n: int = 10, length: int = 40, T: int = 8, seed: int = 2) -> np.ndarray:
    """generate_sine_wave.py's data: sin((t + a random shift) / T), one wave a row."""
    rng = np.random.default_rng(seed)
    x = np.arange(length) + rng.integers(-4 * T, 4 * T, n).reshape(n, 1)
    return np.sin(x / T)


def test_sine_wave_lstm_fitted_by_lbfgs_predicts_the_next_values_and_the_future():
    data = sine_waves()  # (10, 40)
    input, target = data[3:, :-1], data[3:, 1:]
    test_input, test_target = data[:3, :-1], data[:3, 1:]
    nn.init.seed(0)
    seq = Sequence()
    criterion = nn.MSELoss()
    optimizer = optim.LBFGS(seq.parameters(), lr=0.8)
    losses = []

    def closure():
        optimizer.zero_grad()
        loss = criterion(seq(input), target)
        losses.append(loss.item())
        loss.backward()
        return loss

    for _ in range(2):
        optimizer.step(closure)  # at most 20 evaluations each (max_iter)
    assert len(losses) == 40
    assert losses[0] > 0.3 and losses[-1] < losses[0] / 300
    future = 5
    with gg.no_grad():
        pred = seq(test_input, future=future)
        test_loss = criterion(pred[:, :-future], test_target).item()
    assert pred.shape == (3, 39 + future)
    assert test_loss < 3 * losses[-1]
    # the next 5 values, from its own predictions: the waves go on, close to the true ones
    truth = sine_waves(length=40 + future)[:3, 40:]
    assert np.abs(pred.data[:, -future:] - truth).max() < 0.1
