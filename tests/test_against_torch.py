"""Optional: graphgrad against PyTorch on a few ops, the reductions var, std and norm, the
normalisation layers, the losses with each reduction and ignore_index, the LSTM and GRU cells,
nn.LSTM, nn.GRU and nn.RNN(nonlinearity="relu") with PyTorch's weights loaded (with lengths
against pack_padded_sequence, and on PackedSequences themselves; bias=False, proj_size and one
unbatched sequence), nn.utils.rnn's packing against torch.nn.utils.rnn's, max pooling's
indices and unpooling (1-D, 2-D, adaptive), average pooling's settings by position, the
scaled initialisers on each layout (Bilinear's too),
gradient clipping, the optimizers' options (Nesterov, AMSGrad, Adagrad, maximize, dampening,
centered RMSprop) and Adamax, NAdam, RAdam (their decoupled weight decay too), Adadelta,
Rprop, ASGD, LBFGS step by step with either line
search, and the schedules (MultiStepLR, a LinearLR warm-up, ReduceLROnPlateau, OneCycleLR
with three phases and its momentum, CyclicLR, LambdaLR, LinearLR, ConstantLR, PolynomialLR,
CosineAnnealingWarmRestarts, SequentialLR; fit stepping OneCycleLR after each batch, cycling
the momentum), a small MLP, functional_call, parameter
vectors and retain_grad, a module's backward hooks, a Hessian-vector product and second
derivatives through a gradient penalty, and the later networks' ops (softplus ... einsum) over
drawn shapes to their third derivatives, and gg.linalg's (the decompositions through
functions that do not depend on the signs LAPACK gives their vectors), and whole programs
(a GP's marginal likelihood to its Hessian, PCA's reconstruction error in the data,
standardising data with holes), and graphgrad.nn.functional against torch.nn.functional
(normalize near a zero norm, batch_norm's running statistics, ctc_loss through a log_softmax
and its gradient of log_probs as given, affine_grid and grid_sample), and PyTorch's classic
examples (tests/test_porting_examples.py: the MNIST convnet and its Adadelta step, the VAE, a
DCGAN step, the word-language model's LSTM with clipping, the sine waves' L-BFGS step) against
their PyTorch code with the same weights, and nn.MultiheadAttention, PyTorch's Transformer
encoder and decoder layers, stacks and whole model with its weights loaded and its masks,
all in float64.
Where graphgrad keeps a documented convention of its own (batch norm's momentum and biased
running variance, the course's GRU, ctc_loss's gradient wrt log_probs that are not
normalised), the tests check the relation between the two.
Skipped when torch is not installed."""
import warnings

import numpy as np
import pytest

import graphgrad as gg

torch = pytest.importorskip("torch")

# (graphgrad op, the same in torch, input shapes)
OPS = {
    "matmul": (lambda a, b: a @ b, lambda a, b: a @ b, [(3, 4), (4, 2)]),
    "batched_matmul": (lambda a, b: a @ b, lambda a, b: a @ b, [(2, 3, 4), (4, 5)]),
    "broadcast_mul": (lambda a, b: a * b, lambda a, b: a * b, [(3, 1), (1, 4)]),
    "div": (lambda a, b: a / (b * b + 1), lambda a, b: a / (b * b + 1), [(5,), (2, 5)]),
    "tanh": (gg.tanh, torch.tanh, [(3, 4)]),
    "sigmoid": (gg.sigmoid, torch.sigmoid, [(3, 4)]),
    "leaky_relu": (lambda x: gg.leaky_relu(x, 0.1),
                   lambda x: torch.nn.functional.leaky_relu(x, 0.1), [(3, 4)]),
    "softmax": (lambda x: gg.softmax(x, axis=1), lambda x: torch.softmax(x, dim=1), [(3, 4)]),
    "log_softmax": (lambda x: gg.log_softmax(x, axis=0), lambda x: torch.log_softmax(x, dim=0),
                    [(3, 4)]),
    "logsumexp": (lambda x: gg.logsumexp(x, axis=1), lambda x: torch.logsumexp(x, dim=1),
                  [(3, 4)]),
    "mean": (lambda x: gg.mean(x, axis=(0, 2)), lambda x: x.mean(dim=(0, 2)), [(2, 3, 4)]),
    "max": (lambda x: gg.max(x, axis=1), lambda x: x.amax(dim=1), [(3, 4)]),
    "index": (lambda x: x[[0, 2, 2]], lambda x: x[[0, 2, 2]], [(3, 4)]),
    "pad": (lambda x: gg.pad(x, ((1, 0), (2, 1))),
            lambda x: torch.nn.functional.pad(x, (2, 1, 1, 0)), [(3, 4)]),
    # numpy's names for PyTorch's padding modes; torch pads the last axes, (N, C, W) or
    # (N, C, H, W), its widths from the last axis back.
    "pad_edge": (lambda x: gg.pad(x, ((0, 0), (0, 0), (2, 1)), "edge"),
                 lambda x: torch.nn.functional.pad(x, (2, 1), mode="replicate"), [(2, 3, 4)]),
    "pad_reflect": (lambda x: gg.pad(x, ((0, 0), (0, 0), (3, 1)), "reflect"),
                    lambda x: torch.nn.functional.pad(x, (3, 1), mode="reflect"), [(2, 3, 4)]),
    "pad_wrap": (lambda x: gg.pad(x, ((0, 0), (0, 0), (1, 2)), "wrap"),
                 lambda x: torch.nn.functional.pad(x, (1, 2), mode="circular"), [(2, 3, 4)]),
    "pad_reflect_2d": (lambda x: gg.pad(x, ((0, 0), (0, 0), (2, 1), (1, 3)), "reflect"),
                       lambda x: torch.nn.functional.pad(x, (1, 3, 2, 1), mode="reflect"),
                       [(1, 2, 3, 4)]),
    "concat": (lambda x, y: gg.concatenate([x, y], axis=1), lambda x, y: torch.cat([x, y], 1),
               [(2, 3), (2, 1)]),
    # Channels last against PyTorch's channels first: W (f, f, n_C_prev / G, n_C) is torch's
    # weight (n_C, n_C_prev / G, f, f) transposed.
    "grouped_conv2d": (lambda a, w: gg.conv2d(a, w, stride=2, padding=1, groups=2),
                       lambda a, w: torch.nn.functional.conv2d(
                           a.permute(0, 3, 1, 2), w.permute(3, 2, 0, 1), stride=2, padding=1,
                           groups=2).permute(0, 2, 3, 1),
                       [(2, 5, 6, 4), (3, 3, 2, 6)]),
    "depthwise_conv2d": (lambda a, w: gg.conv2d(a, w, stride=2, padding=1, groups=3),
                         lambda a, w: torch.nn.functional.conv2d(
                             a.permute(0, 3, 1, 2), w.permute(3, 2, 0, 1), stride=2, padding=1,
                             groups=3).permute(0, 2, 3, 1),
                         [(2, 5, 6, 3), (3, 3, 1, 6)]),
    "depthwise_conv_transpose2d": (
        lambda a, w: gg.conv_transpose2d(a, w, stride=2, padding=1, output_padding=1, groups=3),
        lambda a, w: torch.nn.functional.conv_transpose2d(
            a.permute(0, 3, 1, 2), w.permute(3, 2, 0, 1), stride=2, padding=1,
            output_padding=1, groups=3).permute(0, 2, 3, 1),
        [(2, 3, 4, 3), (3, 3, 2, 3)]),
    "dilated_conv2d": (lambda a, w: gg.conv2d(a, w, stride=2, padding=1, groups=2, dilation=2),
                       lambda a, w: torch.nn.functional.conv2d(
                           a.permute(0, 3, 1, 2), w.permute(3, 2, 0, 1), stride=2, padding=1,
                           groups=2, dilation=2).permute(0, 2, 3, 1),
                       [(2, 7, 6, 4), (3, 2, 2, 6)]),
    "dilated_conv1d": (lambda a, w: gg.conv1d(a, w, padding=3, dilation=3),
                       lambda a, w: torch.nn.functional.conv1d(
                           a.permute(0, 2, 1), w.permute(2, 1, 0), padding=3,
                           dilation=3).permute(0, 2, 1),
                       [(2, 9, 3), (3, 3, 4)]),
}


def _compare(ours, theirs, arrays, rng, rtol=1e-10):
    """ours and theirs on the same arrays: values, and gradients for a random upstream
    gradient, to rtol (atol 1e-12)."""
    xs = [gg.Tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, ref = ours(*xs), theirs(*ts)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=rtol, atol=1e-12)
    upstream = rng.standard_normal(out.shape)
    out.backward(upstream)
    ref.backward(torch.tensor(upstream))
    for x, t in zip(xs, ts):
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=rtol, atol=1e-12)


@pytest.mark.parametrize("name", sorted(OPS))
def test_op_forward_and_gradient_match_torch(name):
    ours, theirs, shapes = OPS[name]
    rng = np.random.default_rng(0)
    _compare(ours, theirs, [rng.standard_normal(s) for s in shapes], rng)


def _mlp(lib, params, X, labels):
    W1, b1, W2, b2 = params
    if lib == "gg":
        A1 = gg.relu(W1 @ X + b1)
        log_probs = gg.log_softmax(W2 @ A1 + b2, axis=0)
        return -(log_probs[labels, np.arange(X.shape[1])]).mean()
    A1 = torch.relu(W1 @ X + b1)
    log_probs = torch.log_softmax(W2 @ A1 + b2, dim=0)
    return -(log_probs[labels, torch.arange(X.shape[1])]).mean()


def test_mlp_gradients_match_torch():
    """A 5-8-3 ReLU network with softmax cross-entropy, X: (n_x, m)."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((5, 16))
    labels = rng.integers(0, 3, 16)
    arrays = [rng.standard_normal((8, 5)) * 0.5, rng.standard_normal((8, 1)) * 0.1,
              rng.standard_normal((3, 8)) * 0.5, rng.standard_normal((3, 1)) * 0.1]
    ours = [gg.Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    J = _mlp("gg", ours, X, labels)
    J_ref = _mlp("torch", theirs, torch.tensor(X), torch.tensor(labels))
    assert J.item() == pytest.approx(J_ref.item(), rel=1e-12)
    J.backward()
    J_ref.backward()
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_hessian_vector_product_matches_torch():
    rng = np.random.default_rng(2)
    W = rng.standard_normal((3, 4))
    x0 = rng.standard_normal((4, 1))
    v = rng.standard_normal((4, 1))

    x = gg.Tensor(x0, requires_grad=True)
    (g,) = gg.grad(gg.logsumexp(gg.tanh(W @ x)) + (x**3).sum(), x, create_graph=True)
    (hv,) = gg.grad((g * v).sum(), x)

    t = torch.tensor(x0, requires_grad=True)
    Wt = torch.tensor(W)
    (gt,) = torch.autograd.grad(torch.logsumexp(torch.tanh(Wt @ t), dim=(0, 1)) + (t**3).sum(),
                                t, create_graph=True)
    (hvt,) = torch.autograd.grad((gt * torch.tensor(v)).sum(), t)
    np.testing.assert_allclose(hv, hvt.numpy(), rtol=1e-10)


def test_float32_matches_torch_float32():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 6)).astype(np.float32)
    x = gg.Tensor(a, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    J = (gg.softmax(x * 2.0, axis=1) * gg.tanh(x)).sum()
    J_ref = (torch.softmax(t * 2.0, dim=1) * torch.tanh(t)).sum()
    J.backward()
    J_ref.backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-5, atol=1e-6)


# -- reductions: var, std, norm ---------------------------------------------------------------

# numpy's ddof is PyTorch's correction (gg.var's default ddof=0, torch's correction=1).
SPREADS = {
    f"{name}_ddof{ddof}_{axis}": (
        lambda x, f=f, ddof=ddof, axis=axis: f(x, axis=axis, ddof=ddof),
        lambda x, name=name, ddof=ddof, axis=axis: getattr(torch, name)(
            x, dim=axis, correction=ddof),
        [(3, 4, 5)])
    for name, f in (("var", gg.var), ("std", gg.std))
    for ddof in (0, 1)
    for axis in (None, 1, (0, 2))
}
NORMS = {
    "norm_all": (gg.norm, torch.linalg.vector_norm, [(3, 4, 5)]),
    "norm_axis": (lambda x: gg.norm(x, axis=-1, keepdims=True),
                  lambda x: torch.linalg.vector_norm(x, dim=-1, keepdim=True), [(3, 4)]),
    "norm_axes": (lambda x: gg.norm(x, axis=(0, 2)),
                  lambda x: torch.linalg.vector_norm(x, dim=(0, 2)), [(3, 4, 5)]),
    "norm_fro": (gg.norm, lambda x: torch.linalg.matrix_norm(x, "fro"), [(4, 6)]),
    "norm_fro_batched": (lambda x: gg.norm(x, axis=(-2, -1)),
                         lambda x: torch.linalg.matrix_norm(x, "fro"), [(2, 4, 6)]),
}


@pytest.mark.parametrize("name", sorted({**SPREADS, **NORMS}))
def test_spread_and_norm_match_torch(name):
    ours, theirs, shapes = {**SPREADS, **NORMS}[name]
    rng = np.random.default_rng(4)
    _compare(ours, theirs, [rng.standard_normal(s) for s in shapes], rng)


def test_norm_gradient_at_a_zero_vector_matches_torch():
    """Row 1 is the zero vector: both give it the subgradient 0, not 0/0."""
    a = np.array([[3.0, -4.0, 0.0], [0.0, 0.0, 0.0]])
    rng = np.random.default_rng(5)
    _compare(lambda x: gg.norm(x, axis=1), lambda x: torch.linalg.vector_norm(x, dim=1), [a], rng)
    _compare(gg.norm, torch.linalg.vector_norm, [np.zeros((2, 3))], rng)
    x = gg.Tensor(np.zeros((2, 3)), requires_grad=True)
    gg.norm(x).backward()
    np.testing.assert_array_equal(x.grad, np.zeros((2, 3)))


def test_std_gradient_where_values_are_equal_is_zero_as_in_torch():
    """At the kink (a row of equal values) both give the subgradient 0 where the std is
    exactly 0. gg.std finds the kink by max == min, so (0.1, 0.1, 0.1), whose mean may round
    1 ulp off and its std to 1e-17 (PyTorch's then depends on its summation order), gets 0
    too. The row that varies agrees."""
    a = np.array([[1.0, 2.0, 4.0], [0.5, 0.5, 0.5], [0.1, 0.1, 0.1]])
    x = gg.Tensor(a, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    gg.std(x, axis=1, ddof=1).sum().backward()
    torch.std(t, dim=1).sum().backward()
    np.testing.assert_allclose(x.grad[:2], t.grad[:2].numpy(), rtol=1e-10, atol=0)
    np.testing.assert_array_equal(x.grad[1:], np.zeros((2, 3)))


# -- normalisation layers ---------------------------------------------------------------------


def _channels_first(layer, Z):
    """A PyTorch batch norm on graphgrad's images (m, n_H, n_W, n_C), which it takes channels
    first, (m, n_C, n_H, n_W); anything else as it is."""
    if Z.ndim != 4 or not isinstance(layer, torch.nn.BatchNorm2d):
        return layer(Z)
    return layer(Z.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)


@pytest.mark.parametrize("shape", [(6, 3), (3, 4, 5, 2)], ids=["1d", "2d"])
def test_batch_norm_matches_torch_in_training_and_evaluation(shape):
    """Values and gradients (Z, gamma, beta) over three training steps, then in eval mode.

    momentum is the weight of the old statistics here and of the batch's in PyTorch: 0.8 is
    torch's 0.2. The running variance is the batch's biased sigma2 here (the course's) and
    the unbiased one, m / (m - 1) sigma2, in PyTorch; both start at 1, so after k steps
    torch's running_var - keep**k = m / (m - 1) (ours - keep**k)."""
    rng = np.random.default_rng(6)
    n = shape[-1]
    m = int(np.prod(shape[:-1]))  # values averaged per feature
    keep, eps = 0.8, 1e-3
    ours = (gg.nn.BatchNorm1d if len(shape) == 2 else gg.nn.BatchNorm2d)(n, momentum=keep,
                                                                         eps=eps)
    theirs = (torch.nn.BatchNorm1d if len(shape) == 2 else torch.nn.BatchNorm2d)(
        n, momentum=1 - keep, eps=eps, dtype=torch.float64)
    gamma, beta = rng.standard_normal(n), rng.standard_normal(n)
    ours.gamma.data[...], ours.beta.data[...] = gamma, beta
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(gamma))
        theirs.bias.copy_(torch.tensor(beta))

    def step(Z):
        x, t = gg.Tensor(Z, requires_grad=True), torch.tensor(Z, requires_grad=True)
        out, ref = ours(x), _channels_first(theirs, t)
        np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
        upstream = rng.standard_normal(shape)
        out.backward(upstream)
        ref.backward(torch.tensor(upstream))
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-10, atol=1e-12)
        for p, tp in ((ours.gamma, theirs.weight), (ours.beta, theirs.bias)):
            np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-10, atol=1e-12)
            p.grad, tp.grad = None, None

    steps = 3
    for _ in range(steps):
        step(rng.standard_normal(shape) * 2 + 1)
    np.testing.assert_allclose(ours.running_mean, theirs.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(theirs.running_var.numpy() - keep**steps,
                               m / (m - 1) * (ours.running_var - keep**steps), rtol=1e-12)

    ours.eval()
    theirs.eval()
    with torch.no_grad():  # the running statistics given the same, eval mode is the same map
        theirs.running_var.copy_(torch.tensor(ours.running_var))
    step(rng.standard_normal(shape))


def test_layer_norm_matches_torch():
    rng = np.random.default_rng(7)
    ours, theirs = gg.nn.LayerNorm(5), torch.nn.LayerNorm(5, dtype=torch.float64)
    gamma, beta = rng.standard_normal(5), rng.standard_normal(5)
    ours.gamma.data[...], ours.beta.data[...] = gamma, beta
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(gamma))
        theirs.bias.copy_(torch.tensor(beta))
    X = rng.standard_normal((2, 3, 5))
    x, t = gg.Tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    out, ref = ours(x), theirs(t)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    upstream = rng.standard_normal(X.shape)
    out.backward(upstream)
    ref.backward(torch.tensor(upstream))
    for ga, ta in ((x.grad, t.grad), (ours.gamma.grad, theirs.weight.grad),
                   (ours.beta.grad, theirs.bias.grad)):
        np.testing.assert_allclose(ga, ta.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape, bias", [((3, 4), True), ((4,), False)], ids=["axes", "bias"])
def test_layer_norm_options_match_torch(shape, bias):
    rng = np.random.default_rng(8)
    ours = gg.nn.LayerNorm(shape, bias=bias)
    theirs = torch.nn.LayerNorm(shape, bias=bias, dtype=torch.float64)
    gamma = rng.standard_normal(shape)
    ours.gamma.data[...] = gamma
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(gamma))
    X = rng.standard_normal((2, *shape))
    x, t = gg.Tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    out, ref = ours(x), theirs(t)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    upstream = rng.standard_normal(X.shape)
    out.backward(upstream)
    ref.backward(torch.tensor(upstream))
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.gamma.grad, theirs.weight.grad.numpy(), rtol=1e-10,
                               atol=1e-12)


def test_batch_norm_momentum_none_and_affine_false_match_torch():
    """The cumulative average's running mean is torch's; its running variance averages the
    biased variances, torch's the unbiased ones (m / (m - 1) times)."""
    rng = np.random.default_rng(9)
    ours = gg.nn.BatchNorm1d(3, momentum=None, affine=False)
    theirs = torch.nn.BatchNorm1d(3, momentum=None, affine=False, dtype=torch.float64)
    m = 5
    for _ in range(3):
        Z = rng.standard_normal((m, 3)) * 2 + 1
        x, t = gg.Tensor(Z, requires_grad=True), torch.tensor(Z, requires_grad=True)
        out, ref = ours(x), theirs(t)
        np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
        upstream = rng.standard_normal(Z.shape)
        out.backward(upstream)
        ref.backward(torch.tensor(upstream))
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert int(ours.num_batches_tracked) == int(theirs.num_batches_tracked) == 3
    np.testing.assert_allclose(ours.running_mean, theirs.running_mean.numpy(), rtol=1e-12)
    # both start at 1, which the first batch replaces: torch's = m / (m - 1) ours
    np.testing.assert_allclose(theirs.running_var.numpy(), m / (m - 1) * ours.running_var,
                               rtol=1e-12)


@pytest.mark.parametrize("dims, shape", [(2, (3, 4, 5, 3)), (1, (4, 6, 3))], ids=["2d", "1d"])
def test_instance_norm_running_statistics_match_torch_over_three_batches(dims, shape):
    """InstanceNorm2d/1d(3, momentum=0.8, affine=True, track_running_stats=True) against
    torch's (momentum=0.2): values and gradients in training and evaluation, the running mean
    torch's; its running variance averages the instances' unbiased variances, ours the biased
    ones (n / (n - 1) times less over n positions), so the statistics are given to torch's
    layer for evaluation."""
    rng = np.random.default_rng(11)
    ours = getattr(gg.nn, f"InstanceNorm{dims}d")(3, momentum=0.8, affine=True,
                                                 track_running_stats=True)
    theirs = getattr(torch.nn, f"InstanceNorm{dims}d")(3, momentum=0.2, affine=True,
                                                      track_running_stats=True,
                                                      dtype=torch.float64)
    ours.gamma.data[...] = rng.standard_normal(3)
    ours.beta.data[...] = rng.standard_normal(3)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.gamma.data))
        theirs.bias.copy_(torch.tensor(ours.beta.data))
    for _ in range(3):
        for training in (True, False):
            ours.train(training)
            theirs.train(training)
            X = rng.standard_normal(shape) * 2 + 1
            x, t = gg.Tensor(X, requires_grad=True), torch.tensor(np.moveaxis(X, -1, 1),
                                                                  requires_grad=True)
            before = ours.running_var.copy()  # torch's too, given below
            out, ref = ours(x), theirs(t).movedim(1, -1)
            np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
            upstream = rng.standard_normal(X.shape)
            out.backward(upstream)
            ref.backward(torch.tensor(upstream))
            np.testing.assert_allclose(x.grad, t.grad.movedim(1, -1).numpy(), rtol=1e-10,
                                       atol=1e-12)
            if training:
                axes = tuple(range(1, X.ndim - 1))
                n = int(np.prod(X.shape[1:-1]))
                biased = X.var(axis=axes).mean(axis=0)
                np.testing.assert_allclose(ours.running_mean, theirs.running_mean.numpy(),
                                           rtol=1e-12)
                np.testing.assert_allclose(ours.running_var, 0.8 * before + 0.2 * biased,
                                           rtol=1e-12)
                np.testing.assert_allclose(theirs.running_var.numpy(),
                                           0.8 * before + 0.2 * biased * n / (n - 1),
                                           rtol=1e-12)
                with torch.no_grad():  # torch's layer takes ours, the biased variance
                    theirs.running_var.copy_(torch.tensor(ours.running_var))
    np.testing.assert_allclose(ours.gamma.grad, theirs.weight.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(ours.beta.grad, theirs.bias.grad.numpy(), rtol=1e-10)


def test_functional_instance_norm_matches_torch_with_and_without_input_statistics():
    rng = np.random.default_rng(12)
    X = rng.standard_normal((2, 3, 4, 3))
    w, b = rng.standard_normal(3), rng.standard_normal(3)
    mean, var = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    for use_input_stats in (True, False):
        ours_mean, ours_var = mean.copy(), var.copy()
        theirs_mean, theirs_var = torch.tensor(mean), torch.tensor(var)
        def ours(x, w, b, mean=ours_mean, var=ours_var, use=use_input_stats):
            return gg.nn.functional.instance_norm(x, mean, var, w, b, use, 0.7, 1e-3)

        def theirs(x, w, b, mean=theirs_mean, var=theirs_var, use=use_input_stats):
            return TF.instance_norm(x.permute(0, 3, 1, 2), mean, var, w, b, use, 0.3,
                                    1e-3).permute(0, 2, 3, 1)

        _compare_images(ours, theirs, [X, w, b], rng)
        np.testing.assert_allclose(ours_mean, theirs_mean.numpy(), rtol=1e-12)
        if not use_input_stats:
            np.testing.assert_array_equal(ours_var, var)
            np.testing.assert_array_equal(theirs_var.numpy(), var)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_conv_padding_modes_match_torch(mode):
    rng = np.random.default_rng(10)
    ours = gg.nn.Conv2d(2, 3, (3, 2), padding=(1, 2), padding_mode=mode, rng=0)
    theirs = torch.nn.Conv2d(2, 3, (3, 2), padding=(1, 2), padding_mode=mode,
                             dtype=torch.float64)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.W.data.transpose(3, 2, 0, 1)))
        theirs.bias.copy_(torch.tensor(ours.b.data))
    A = rng.standard_normal((2, 4, 5, 2))
    a, t = gg.Tensor(A, requires_grad=True), torch.tensor(A.transpose(0, 3, 1, 2),
                                                          requires_grad=True)
    out, ref = ours(a), theirs(t).permute(0, 2, 3, 1)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    upstream = rng.standard_normal(out.shape)
    out.backward(upstream)
    ref.backward(torch.tensor(upstream))
    np.testing.assert_allclose(a.grad, t.grad.numpy().transpose(0, 2, 3, 1), rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(ours.W.grad, theirs.weight.grad.numpy().transpose(2, 3, 1, 0),
                               rtol=1e-10, atol=1e-12)


def test_embedding_max_norm_and_scale_grad_by_freq_match_torch():
    rng = np.random.default_rng(11)
    E = rng.standard_normal((6, 3)) * 2
    ours = gg.nn.Embedding.from_pretrained(E, freeze=False, max_norm=1.5, norm_type=3.0,
                                           scale_grad_by_freq=True)
    theirs = torch.nn.Embedding.from_pretrained(torch.tensor(E), freeze=False, max_norm=1.5,
                                                norm_type=3.0, scale_grad_by_freq=True)
    words = np.array([[1, 4, 1], [1, 0, 5]])
    out, ref = ours(words), theirs(torch.tensor(words))
    np.testing.assert_allclose(ours.E.data, theirs.weight.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-12)
    upstream = rng.standard_normal(out.shape)
    out.backward(upstream)
    ref.backward(torch.tensor(upstream))
    np.testing.assert_allclose(ours.E.grad, theirs.weight.grad.numpy(), rtol=1e-12)


def test_mse_matches_torch():
    rng = np.random.default_rng(8)
    _compare(gg.nn.mse, torch.nn.functional.mse_loss, [rng.standard_normal((4, 3))] * 2, rng)
    _compare(gg.nn.mse, torch.nn.functional.mse_loss,
             [rng.standard_normal((4, 3)), rng.standard_normal((4, 3))], rng)


F = torch.nn.functional
REDUCTIONS = ["mean", "sum", "none"]


def _compare_loss(ours, theirs, outputs, labels, rng, wrt_labels=False):
    """The loss and the gradients of the outputs (and of float labels, with wrt_labels) under a
    random upstream gradient, against torch's."""
    x, t = gg.Tensor(outputs, requires_grad=True), torch.tensor(outputs, requires_grad=True)
    y = gg.Tensor(labels, requires_grad=wrt_labels)
    u = torch.tensor(labels, requires_grad=wrt_labels)
    out, ref = ours(x, y), theirs(t, u)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    upstream = rng.standard_normal(out.shape)
    out.backward(upstream)
    ref.backward(torch.tensor(upstream))
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-10, atol=1e-12)
    if wrt_labels:
        np.testing.assert_allclose(y.grad, u.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_matches_torch_with_each_reduction(reduction):
    rng = np.random.default_rng(9)
    Z = rng.standard_normal((6, 4))
    classes = rng.integers(0, 4, 6)
    _compare_loss(lambda z, y: gg.nn.cross_entropy(z, y, reduction=reduction),
                  lambda z, y: F.cross_entropy(z, y, reduction=reduction), Z, classes, rng)
    soft = rng.dirichlet(np.ones(4), size=6)  # probabilities: torch's "class probabilities"
    _compare_loss(lambda z, y: gg.nn.cross_entropy(z, y, reduction=reduction),
                  lambda z, y: F.cross_entropy(z, y, reduction=reduction), Z, soft, rng,
                  wrt_labels=True)
    # (m, T, C) with one class per position: torch takes the classes on axis 1, (m, C, T)
    Z_seq, seq = rng.standard_normal((2, 3, 4)), rng.integers(0, 4, (2, 3))
    _compare_loss(lambda z, y: gg.nn.cross_entropy(z, y, reduction=reduction),
                  lambda z, y: F.cross_entropy(z.permute(0, 2, 1), y, reduction=reduction),
                  Z_seq, seq, rng)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_ignore_index_matches_torch(reduction):
    rng = np.random.default_rng(10)
    Z = rng.standard_normal((2, 5, 4))
    tokens = rng.integers(0, 4, (2, 5))
    tokens[0, 3:], tokens[1, 1:] = -100, -100  # padded sequences of lengths 3 and 1
    _compare_loss(lambda z, y: gg.nn.cross_entropy(z, y, reduction=reduction, ignore_index=-100),
                  lambda z, y: F.cross_entropy(z.permute(0, 2, 1), y, reduction=reduction,
                                               ignore_index=-100), Z, tokens, rng)
    padding_1 = np.where(tokens == -100, 1, tokens)  # a class index as padding
    _compare_loss(lambda z, y: gg.nn.cross_entropy(z, y, reduction=reduction, ignore_index=1),
                  lambda z, y: F.cross_entropy(z.permute(0, 2, 1), y, reduction=reduction,
                                               ignore_index=1), Z, padding_1, rng)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("eps", [0.0, 0.15, 1.0])
def test_cross_entropy_class_weights_and_label_smoothing_match_torch(reduction, eps):
    """PyTorch's weight and label_smoothing with class indices (its mean divides by the kept
    targets' weights, the smoothing term too), ignore_index, and probabilities (its mean
    divides by the positions)."""
    rng = np.random.default_rng(15)
    Z = rng.standard_normal((2, 5, 4))
    weight = rng.uniform(0.2, 3.0, 4)
    tokens = rng.integers(0, 4, (2, 5))
    tokens[0, 3:], tokens[1, 1:] = -100, -100
    for index, labels in ((-100, tokens), (1, np.where(tokens == -100, 1, tokens))):
        _compare_loss(
            lambda z, y, index=index: gg.nn.cross_entropy(
                z, y, reduction=reduction, ignore_index=index, weight=weight,
                label_smoothing=eps),
            lambda z, y, index=index: F.cross_entropy(
                z.permute(0, 2, 1), y, reduction=reduction, ignore_index=index,
                weight=torch.tensor(weight), label_smoothing=eps), Z, labels, rng)
    classes = rng.integers(0, 4, 5)
    for w in (weight, None):
        _compare_loss(
            lambda z, y, w=w: gg.nn.cross_entropy(z, y, reduction=reduction, weight=w,
                                                  label_smoothing=eps),
            lambda z, y, w=w: F.cross_entropy(z, y, reduction=reduction, label_smoothing=eps,
                                              weight=None if w is None else torch.tensor(w)),
            Z[0], classes, rng)
    soft = rng.dirichlet(np.ones(4), size=(2, 5))
    _compare_loss(
        lambda z, y: gg.nn.cross_entropy(z, y, reduction=reduction, weight=weight,
                                         label_smoothing=eps),
        lambda z, y: F.cross_entropy(z.permute(0, 2, 1), y.permute(0, 2, 1), reduction=reduction,
                                     weight=torch.tensor(weight), label_smoothing=eps),
        Z, soft, rng, wrt_labels=True)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_weight_and_smoothing_second_derivatives_match_torch(reduction):
    rng = np.random.default_rng(16)
    Z = rng.standard_normal((6, 4))
    classes = rng.integers(0, 4, 6)
    classes[[1, 4]] = -100
    weight = rng.uniform(0.2, 3.0, 4)
    soft = rng.dirichlet(np.ones(4), size=6)
    cases = [
        (lambda z: gg.nn.cross_entropy(z, classes, reduction=reduction, ignore_index=-100,
                                       weight=weight, label_smoothing=0.2),
         lambda t: F.cross_entropy(t, torch.tensor(classes), reduction=reduction,
                                   ignore_index=-100, weight=torch.tensor(weight),
                                   label_smoothing=0.2)),
        (lambda z: gg.nn.cross_entropy(z, classes, reduction=reduction, ignore_index=-100,
                                       weight=weight),
         lambda t: F.cross_entropy(t, torch.tensor(classes), reduction=reduction,
                                   ignore_index=-100, weight=torch.tensor(weight))),
        (lambda z: gg.nn.cross_entropy(z, soft, reduction=reduction, weight=weight,
                                       label_smoothing=0.2),
         lambda t: F.cross_entropy(t, torch.tensor(soft), reduction=reduction,
                                   weight=torch.tensor(weight), label_smoothing=0.2)),
    ]
    for ours, theirs in cases:
        z, t = gg.Tensor(Z, requires_grad=True), torch.tensor(Z, requires_grad=True)
        J, J_ref = ours(z), theirs(t)
        g = rng.standard_normal(J.shape)
        (dz,) = gg.grad(J, [z], grad_outputs=[gg.Tensor(g)], create_graph=True)
        (dt,) = torch.autograd.grad(J_ref, [t], grad_outputs=torch.tensor(g), create_graph=True)
        np.testing.assert_allclose(dz.data, dt.detach().numpy(), rtol=1e-10, atol=1e-12)
        (ddz,) = gg.grad((dz * dz).sum(), [z])
        (ddt,) = torch.autograd.grad((dt * dt).sum(), [t])
        np.testing.assert_allclose(ddz, ddt.numpy(), rtol=1e-9, atol=1e-12)


def test_cross_entropy_over_ignored_positions_alone_is_zero_where_torch_gives_nan():
    Z = np.random.default_rng(11).standard_normal((3, 4))
    z, t = gg.Tensor(Z, requires_grad=True), torch.tensor(Z, requires_grad=True)
    J, J_ref = (gg.nn.cross_entropy(z, np.full(3, -100), ignore_index=-100),
                F.cross_entropy(t, torch.full((3,), -100), ignore_index=-100))
    J.backward()
    J_ref.backward()
    assert J.item() == 0.0 and np.isnan(J_ref.item())
    np.testing.assert_array_equal(z.grad, t.grad.numpy())  # zeros, both


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_losses_and_mse_match_torch_with_each_reduction(reduction):
    rng = np.random.default_rng(12)
    Z, Y = rng.standard_normal((5, 3)), rng.uniform(0.05, 0.95, (5, 3))
    _compare_loss(lambda z, y: gg.nn.binary_cross_entropy_with_logits(z, y, reduction=reduction),
                  lambda z, y: F.binary_cross_entropy_with_logits(z, y, reduction=reduction),
                  Z, Y, rng, wrt_labels=True)
    A = 1 / (1 + np.exp(-Z))
    _compare_loss(lambda a, y: gg.nn.binary_cross_entropy(a, y, reduction=reduction),
                  lambda a, y: F.binary_cross_entropy(a, y, reduction=reduction),
                  A, Y, rng, wrt_labels=True)
    _compare_loss(lambda a, y: gg.nn.mse(a, y, reduction=reduction),
                  lambda a, y: F.mse_loss(a, y, reduction=reduction), Z, Y, rng, wrt_labels=True)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_composed_losses_match_torch_with_each_reduction(reduction):
    """l1, smooth_l1 and huber (with differences of exactly 0 and +-beta, their kinks), nll_loss
    (class weights, ignore_index, sequences), triplet_margin_loss (p = 2; p = 1 with the
    swap), margin_ranking_loss and hinge_embedding_loss: values and every input's gradient."""
    rng = np.random.default_rng(21)
    A, Y = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    Y[0, :3] = A[0, :3] + np.array([0.0, 0.5, -0.5])  # d = 0, +-beta
    for ours, theirs in [
            (lambda a, y: gg.nn.l1_loss(a, y, reduction=reduction),
             lambda a, y: F.l1_loss(a, y, reduction=reduction)),
            (lambda a, y: gg.nn.smooth_l1_loss(a, y, 0.5, reduction=reduction),
             lambda a, y: F.smooth_l1_loss(a, y, reduction=reduction, beta=0.5)),
            (lambda a, y: gg.nn.smooth_l1_loss(a, y, 0.0, reduction=reduction),
             lambda a, y: F.smooth_l1_loss(a, y, reduction=reduction, beta=0.0)),
            (lambda a, y: gg.nn.huber_loss(a, y, 0.5, reduction=reduction),
             lambda a, y: F.huber_loss(a, y, reduction=reduction, delta=0.5))]:
        _compare(ours, theirs, [A, Y], rng)
    log_p = A - np.logaddexp.reduce(A, axis=-1, keepdims=True)
    classes, weight = np.array([0, 3, 1, 1, 2]), np.array([0.5, 2.0, 1.5, 3.0])
    _compare_loss(lambda x, y: gg.nn.nll_loss(x, y, weight, ignore_index=1, reduction=reduction),
                  lambda x, y: F.nll_loss(x, y, torch.tensor(weight), ignore_index=1,
                                          reduction=reduction), log_p, classes, rng)
    seq = rng.standard_normal((2, 3, 4))
    seq -= np.logaddexp.reduce(seq, axis=-1, keepdims=True)
    tokens = np.array([[0, 2, -100], [1, 3, 3]])
    _compare_loss(lambda x, y: gg.nn.nll_loss(x, y, ignore_index=-100, reduction=reduction),
                  lambda x, y: F.nll_loss(x.permute(0, 2, 1), y, reduction=reduction), seq,
                  tokens, rng)
    a, p, n = (rng.standard_normal((6, 3)) for _ in range(3))
    _compare(lambda *t: gg.nn.triplet_margin_loss(*t, margin=2.0, reduction=reduction),
             lambda *t: F.triplet_margin_loss(*t, margin=2.0, reduction=reduction), [a, p, n],
             rng)
    _compare(lambda *t: gg.nn.triplet_margin_loss(*t, 3.0, 1, 1e-6, True, reduction=reduction),
             lambda *t: F.triplet_margin_loss(*t, 3.0, 1, 1e-6, True, reduction=reduction),
             [a, p, n], rng)
    signs = np.array([1.0, -1.0, -1.0, 1.0, 1.0, -1.0])
    _compare(lambda x1, x2: gg.nn.margin_ranking_loss(x1, x2, signs, 0.3, reduction=reduction),
             lambda x1, x2: F.margin_ranking_loss(x1, x2, torch.tensor(signs), 0.3,
                                                  reduction=reduction), [a[:, 0], p[:, 0]], rng)
    _compare(lambda x: gg.nn.hinge_embedding_loss(x, signs, 0.8, reduction=reduction),
             lambda x: F.hinge_embedding_loss(x, torch.tensor(signs), 0.8, reduction=reduction),
             [a[:, 1]], rng)


@pytest.mark.parametrize("reduction", ["batchmean", "mean", "sum", "none"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch_with_each_reduction(reduction, log_target):
    """Gradients of log q and of the target too; "mean" warns as torch's does."""
    rng = np.random.default_rng(22)
    log_q = rng.standard_normal((5, 4))
    log_q -= np.logaddexp.reduce(log_q, axis=-1, keepdims=True)
    p = rng.dirichlet(np.ones(4), size=5)
    target = np.log(p) if log_target else p
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        _compare(lambda x, y: gg.nn.kl_div(x, y, log_target, reduction=reduction),
                 lambda x, y: F.kl_div(x, y, reduction=reduction, log_target=log_target),
                 [log_q, target], rng)


def test_smooth_l1_and_huber_second_derivatives_match_torch_at_the_kinks():
    """At d = 0 (1 / beta), at |d| = beta (0, the linear branch's) and between."""
    d = np.array([0.0, 0.5, -0.5, 0.2, -1.5])
    for ours, theirs in [(lambda a: gg.nn.smooth_l1_loss(a, np.zeros(5), 0.5, reduction="sum"),
                          lambda a: F.smooth_l1_loss(a, torch.zeros(5, dtype=torch.float64),
                                                     beta=0.5, reduction="sum")),
                         (lambda a: gg.nn.huber_loss(a, np.zeros(5), 0.5, reduction="sum"),
                          lambda a: F.huber_loss(a, torch.zeros(5, dtype=torch.float64),
                                                 delta=0.5, reduction="sum"))]:
        x, t = gg.Tensor(d, requires_grad=True), torch.tensor(d, requires_grad=True)
        (dx,) = gg.grad(ours(x), [x], create_graph=True)
        (dt,) = torch.autograd.grad(theirs(t), [t], create_graph=True)
        np.testing.assert_allclose(dx.data, dt.detach().numpy(), rtol=1e-12)
        (d2x,) = gg.grad(dx.sum(), [x])
        (d2t,) = torch.autograd.grad(dt.sum(), [t])
        np.testing.assert_allclose(d2x, d2t.numpy(), rtol=1e-12)


def test_cosine_similarity_matches_torch_and_below_eps_gives_its_values_exact_gradient():
    """Each norm clamped at eps on its own, as torch 2's. Below eps torch's gradient goes
    through the norm as if it were not clamped; graphgrad's is that of the value it gives,
    x2 / (eps max(|x2|, eps)) for a vector x1 shorter than eps."""
    rng = np.random.default_rng(23)
    _compare(gg.nn.cosine_similarity, lambda a, b: F.cosine_similarity(a, b, dim=-1),
             [rng.standard_normal((5, 4)), rng.standard_normal((5, 4))], rng)
    _compare(lambda a, b: gg.nn.cosine_similarity(a, b, axis=0),
             lambda a, b: F.cosine_similarity(a, b, dim=0),
             [rng.standard_normal((5, 4)), rng.standard_normal((5, 4))], rng)
    # inputs broadcast along the axis of the vectors, or with fewer axes
    for shape1, shape2, axis in (((5, 4), (4,), 0), ((5, 4), (5, 1), 1), ((2, 5, 4), (5, 4), 1)):
        _compare(lambda a, b, axis=axis: gg.nn.cosine_similarity(a, b, axis=axis),
                 lambda a, b, axis=axis: F.cosine_similarity(a, b, dim=axis),
                 [rng.standard_normal(shape1), rng.standard_normal(shape2)], rng)
    small, other = np.array([[1e-5, 0.0]]), np.array([[1e-5, 1e-5]])
    x, t = gg.Tensor(small, requires_grad=True), torch.tensor(small, requires_grad=True)
    s, ref = gg.nn.cosine_similarity(x, other, eps=1e-4), F.cosine_similarity(
        t, torch.tensor(other), eps=1e-4)
    assert s.item() == pytest.approx(ref.item(), rel=1e-12)
    s.backward()
    ref.backward()
    # both shorter than eps: the similarity is x1 . x2 / eps^2, its gradient x2 / eps^2
    np.testing.assert_allclose(x.grad, other / 1e-8, rtol=1e-12)
    assert not np.allclose(t.grad.numpy(), x.grad)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multi_label_cross_entropy_is_torchs_bce_with_logits_but_for_the_means_divisor(reduction):
    """"none" and "sum" are BCEWithLogitsLoss's; the mean is over the m examples (the sum over
    each example's C labels, averaged), C times torch's mean over all m C elements."""
    rng = np.random.default_rng(13)
    Z, Y = rng.standard_normal((5, 3)), (rng.random((5, 3)) > 0.5).astype(float)
    C = Z.shape[1]
    scale = C if reduction == "mean" else 1
    _compare_loss(lambda z, y: gg.nn.cross_entropy(z, y, multi_label=True, reduction=reduction),
                  lambda z, y: F.binary_cross_entropy_with_logits(z, y, reduction=reduction)
                  * scale, Z, Y, rng, wrt_labels=True)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(6,), (6, 3), (2, 4, 3)])
def test_binary_losses_weight_and_pos_weight_match_torch(shape, reduction):
    """PyTorch's weight (each element's, broadcast) and pos_weight (each label's, along the
    last axis), with soft labels and logits of +-1000; the mean is over the elements, not the
    weights' sum. multi_label's mean is over the m examples: torch's times C."""
    rng = np.random.default_rng(17)
    Z, Y = rng.standard_normal(shape) * 3, rng.uniform(0.0, 1.0, shape)
    Z.flat[:2] = 1000.0, -1000.0
    weights = [rng.uniform(0.0, 2.0, shape), rng.uniform(0.0, 2.0, shape[-1:])]
    if len(shape) > 1:
        weights.append(rng.uniform(0.0, 2.0, shape[:1] + (1,) * (len(shape) - 1)))
    pos_weight = rng.uniform(0.0, 4.0, shape[-1:])
    scale = shape[-1] if reduction == "mean" else 1
    for weight in weights:
        for options in ({"weight": weight}, {"pos_weight": pos_weight},
                        {"weight": weight, "pos_weight": pos_weight}):
            theirs = {k: torch.tensor(v) for k, v in options.items()}
            _compare_loss(
                lambda z, y, o=options: gg.nn.binary_cross_entropy_with_logits(
                    z, y, reduction=reduction, **o),
                lambda z, y, o=theirs: F.binary_cross_entropy_with_logits(
                    z, y, reduction=reduction, **o),
                Z, Y, rng, wrt_labels=True)
            if len(shape) > 1:
                _compare_loss(
                    lambda z, y, o=options: gg.nn.cross_entropy(
                        z, y, multi_label=True, reduction=reduction, **o),
                    lambda z, y, o=theirs: F.binary_cross_entropy_with_logits(
                        z, y, reduction=reduction, **o) * scale,
                    Z, Y, rng, wrt_labels=True)
        A = rng.uniform(0.02, 0.98, shape)
        _compare_loss(
            lambda a, y, w=weight: gg.nn.binary_cross_entropy(a, y, reduction=reduction,
                                                              weight=w),
            lambda a, y, w=weight: F.binary_cross_entropy(a, y, reduction=reduction,
                                                          weight=torch.tensor(w)),
            A, Y, rng, wrt_labels=True)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_weighted_binary_losses_second_derivatives_match_torch(reduction):
    rng = np.random.default_rng(18)
    Z, Y = rng.standard_normal((6, 4)), rng.uniform(0.05, 0.95, (6, 4))
    weight, pos_weight = rng.uniform(0.1, 2.0, (6, 1)), rng.uniform(0.1, 4.0, 4)
    A = rng.uniform(0.05, 0.95, (6, 4))
    cases = [
        (Z, lambda z, y: gg.nn.binary_cross_entropy_with_logits(
            z, y, reduction=reduction, weight=weight, pos_weight=pos_weight),
         lambda t, u: F.binary_cross_entropy_with_logits(
             t, u, reduction=reduction, weight=torch.tensor(weight),
             pos_weight=torch.tensor(pos_weight))),
        (A, lambda a, y: gg.nn.binary_cross_entropy(a, y, reduction=reduction, weight=weight),
         lambda t, u: F.binary_cross_entropy(t, u, reduction=reduction,
                                             weight=torch.tensor(weight))),
    ]
    for X, ours, theirs in cases:
        x, t = gg.Tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
        y, u = gg.Tensor(Y, requires_grad=True), torch.tensor(Y, requires_grad=True)
        J, J_ref = ours(x, y), theirs(t, u)
        g = rng.standard_normal(J.shape)
        dx, dy = gg.grad(J, [x, y], grad_outputs=[gg.Tensor(g)], create_graph=True)
        dt, du = torch.autograd.grad(J_ref, [t, u], grad_outputs=torch.tensor(g),
                                     create_graph=True)
        np.testing.assert_allclose(dx.data, dt.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(dy.data, du.detach().numpy(), rtol=1e-10, atol=1e-12)
        ddx, ddy = gg.grad((dx * dx).sum() + (dy * dy).sum(), [x, y])
        ddt, ddu = torch.autograd.grad((dt * dt).sum() + (du * du).sum(), [t, u])
        np.testing.assert_allclose(ddx, ddt.numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(ddy, ddu.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_losses_second_derivatives_match_torch_with_each_reduction(reduction):
    """d/dZ of ||dJ/dZ||**2 (a gradient penalty) through each loss, ignore_index included."""
    rng = np.random.default_rng(14)
    Z = rng.standard_normal((6, 4))
    classes = rng.integers(0, 4, 6)
    classes[[1, 4]] = -100
    Y = rng.uniform(0.05, 0.95, (6, 4))
    cases = [
        (lambda z: gg.nn.cross_entropy(z, classes, reduction=reduction, ignore_index=-100),
         lambda t: F.cross_entropy(t, torch.tensor(classes), reduction=reduction,
                                   ignore_index=-100)),
        (lambda z: gg.nn.binary_cross_entropy_with_logits(z, Y, reduction=reduction),
         lambda t: F.binary_cross_entropy_with_logits(t, torch.tensor(Y), reduction=reduction)),
        (lambda z: gg.nn.mse(z, Y, reduction=reduction),
         lambda t: F.mse_loss(t, torch.tensor(Y), reduction=reduction)),
    ]
    for ours, theirs in cases:
        z, t = gg.Tensor(Z, requires_grad=True), torch.tensor(Z, requires_grad=True)
        J, J_ref = ours(z), theirs(t)
        g = rng.standard_normal(J.shape)  # each example's weight, with "none"
        (dz,) = gg.grad(J, [z], grad_outputs=[gg.Tensor(g)], create_graph=True)
        (dt,) = torch.autograd.grad(J_ref, [t], grad_outputs=torch.tensor(g), create_graph=True)
        (ddz,) = gg.grad((dz * dz).sum(), [z])
        (ddt,) = torch.autograd.grad((dt * dt).sum(), [t])
        np.testing.assert_allclose(ddz, ddt.numpy(), rtol=1e-9, atol=1e-12)


# -- recurrent cells --------------------------------------------------------------------------


def _split_columns(W, n_a):
    """A gate's W (n_a, n_a + n_x) on [a<t-1>; x<t>] as PyTorch's (W_x, W_h) pair."""
    return W[:, n_a:], W[:, :n_a]


def test_lstm_cell_matches_torch():
    """PyTorch's LSTMCell stacks its gates' rows in the order i, f, g, o: the course's update
    gate Gamma_u (i), forget gate Gamma_f, candidate c~ (g) and output gate Gamma_o, and
    splits each W into weight_ih (on x) and weight_hh (on h); bias_hh is 0 here."""
    rng = np.random.default_rng(9)
    n_x, n_a, m = 3, 4, 5
    ours = gg.nn.LSTMCell(n_x, n_a, rng=0)
    for p in ours.parameters():
        p.data[...] = rng.standard_normal(p.shape) * 0.5
    theirs = torch.nn.LSTMCell(n_x, n_a, dtype=torch.float64)
    order = "ufco"  # PyTorch's i (update), f, g (candidate), o
    with torch.no_grad():
        theirs.weight_ih.copy_(torch.tensor(np.concatenate(
            [_split_columns(getattr(ours, f"W{g}").data, n_a)[0] for g in order])))
        theirs.weight_hh.copy_(torch.tensor(np.concatenate(
            [_split_columns(getattr(ours, f"W{g}").data, n_a)[1] for g in order])))
        theirs.bias_ih.copy_(torch.tensor(np.concatenate(
            [getattr(ours, f"b{g}").data for g in order])))
        theirs.bias_hh.zero_()
    arrays = [rng.standard_normal((m, n)) for n in (n_x, n_a, n_a)]
    xs = [gg.Tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    a_next, c_next = ours(*xs)
    h_next, c_ref = theirs(ts[0], (ts[1], ts[2]))
    np.testing.assert_allclose(a_next.data, h_next.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(c_next.data, c_ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    ua, uc = rng.standard_normal((m, n_a)), rng.standard_normal((m, n_a))
    ((a_next * ua).sum() + (c_next * uc).sum()).backward()
    ((h_next * torch.tensor(ua)).sum() + (c_ref * torch.tensor(uc)).sum()).backward()
    for x, t in zip(xs, ts):
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-10, atol=1e-12)
    for rows, g in enumerate(order):
        rows = slice(rows * n_a, (rows + 1) * n_a)
        W_grad = np.concatenate([theirs.weight_hh.grad[rows].numpy(),
                                 theirs.weight_ih.grad[rows].numpy()], axis=1)
        np.testing.assert_allclose(getattr(ours, f"W{g}").grad, W_grad, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(getattr(ours, f"b{g}").grad,
                                   theirs.bias_ih.grad[rows].numpy(), rtol=1e-10, atol=1e-12)


def _gru_pair(rng, n_x, n_a, diagonal):
    """graphgrad's GRUCell (the course's) and PyTorch's with the same map where they can have
    it. PyTorch's rows are r, z, n with h' = (1 - z) n + z h, so z = 1 - Gamma_u: its W_z and
    b_z are -Wu and -bu (sigmoid(-s) = 1 - sigmoid(s)). Its candidate n = tanh(W_in x + b_in
    + r * (W_hn h + b_hn)) applies r after the product, the course's c~ = tanh(Wc [r * c;
    x] + bc) before it: the two agree when Wc's block on c<t-1> is diagonal (``diagonal``)."""
    ours = gg.nn.GRUCell(n_x, n_a, rng=0)
    for p in ours.parameters():
        p.data[...] = rng.standard_normal(p.shape) * 0.5
    if diagonal:
        ours.Wc.data[:, :n_a] = np.diag(np.diag(ours.Wc.data[:, :n_a]))
    theirs = torch.nn.GRUCell(n_x, n_a, dtype=torch.float64)
    signs = {"r": 1, "u": -1, "c": 1}
    with torch.no_grad():
        theirs.weight_ih.copy_(torch.tensor(np.concatenate(
            [signs[g] * _split_columns(getattr(ours, f"W{g}").data, n_a)[0] for g in "ruc"])))
        theirs.weight_hh.copy_(torch.tensor(np.concatenate(
            [signs[g] * _split_columns(getattr(ours, f"W{g}").data, n_a)[1] for g in "ruc"])))
        theirs.bias_ih.copy_(torch.tensor(np.concatenate(
            [signs[g] * getattr(ours, f"b{g}").data for g in "ruc"])))
        theirs.bias_hh.zero_()
    return ours, theirs


def test_gru_cell_matches_torch_where_its_reset_gate_commutes_with_the_product():
    rng = np.random.default_rng(10)
    n_x, n_a, m = 3, 4, 5
    ours, theirs = _gru_pair(rng, n_x, n_a, diagonal=True)
    arrays = [rng.standard_normal((m, n_x)), rng.standard_normal((m, n_a))]
    xs = [gg.Tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, ref = ours(*xs), theirs(*ts)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    upstream = rng.standard_normal((m, n_a))
    out.backward(upstream)
    ref.backward(torch.tensor(upstream))
    for x, t in zip(xs, ts):
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-10, atol=1e-12)
    signs = {"r": 1, "u": -1, "c": 1}
    for rows, g in enumerate("ruc"):
        rows = slice(rows * n_a, (rows + 1) * n_a)
        np.testing.assert_allclose(getattr(ours, f"W{g}").grad[:, n_a:],
                                   signs[g] * theirs.weight_ih.grad[rows].numpy(),
                                   rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(getattr(ours, f"b{g}").grad,
                                   signs[g] * theirs.bias_ih.grad[rows].numpy(),
                                   rtol=1e-10, atol=1e-12)
        hidden = signs[g] * theirs.weight_hh.grad[rows].numpy()
        if g == "c":  # the gradients of the diagonal agree; PyTorch's has r * h where ours
            hidden = np.diag(np.diag(hidden))  # has h (and the reverse), off it
            np.testing.assert_allclose(np.diag(np.diag(ours.Wc.grad[:, :n_a])), hidden,
                                       rtol=1e-10, atol=1e-12)
        else:
            np.testing.assert_allclose(getattr(ours, f"W{g}").grad[:, :n_a], hidden,
                                       rtol=1e-10, atol=1e-12)


def test_gru_cell_is_the_courses_not_torchs_where_the_reset_gate_does_not_commute():
    """With a full Wc the two GRUs differ (the documented convention): ours is the course's
    c~ = tanh(Wc [r * c; x] + bc), computed here by hand."""
    rng = np.random.default_rng(11)
    n_x, n_a, m = 3, 4, 5
    ours, theirs = _gru_pair(rng, n_x, n_a, diagonal=False)
    x, c = rng.standard_normal((m, n_x)), rng.standard_normal((m, n_a))
    out = ours(x, c).data
    ref = theirs(torch.tensor(x), torch.tensor(c)).detach().numpy()
    assert np.abs(out - ref).max() > 1e-3

    def sigmoid(s):
        return 1 / (1 + np.exp(-s))

    W = {g: getattr(ours, f"W{g}").data for g in "ruc"}
    b = {g: getattr(ours, f"b{g}").data for g in "ruc"}
    r = sigmoid(np.concatenate([c, x], 1) @ W["r"].T + b["r"])
    u = sigmoid(np.concatenate([c, x], 1) @ W["u"].T + b["u"])
    candidate = np.tanh(np.concatenate([r * c, x], 1) @ W["c"].T + b["c"])
    np.testing.assert_allclose(out, u * candidate + (1 - u) * c, rtol=1e-12)


# -- recurrent layers by PyTorch's names -----------------------------------------------------


def _torch_and_ours(kind, num_layers, bidirectional, batch_first, n_x=3, n_a=4, dropout=0.0,
                    **options):
    """PyTorch's nn.LSTM / nn.GRU and ours with its weights, float64; ``options`` (bias,
    proj_size) given to both."""
    make = {"lstm": (torch.nn.LSTM, gg.nn.LSTM), "gru": (torch.nn.GRU, gg.nn.GRU)}[kind]
    torch.manual_seed(0)
    theirs = make[0](n_x, n_a, num_layers=num_layers, bidirectional=bidirectional,
                     batch_first=batch_first, dropout=dropout, dtype=torch.float64, **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # dropout with one layer
        ours = make[1](n_x, n_a, num_layers=num_layers, bidirectional=bidirectional,
                       batch_first=batch_first, dropout=dropout, **options)
    ours.load_torch_state_dict(theirs.state_dict())
    return theirs, ours


def _grads_agree(ours, theirs, inputs, tensors):
    for x, t in zip(inputs, tensors):
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-9, atol=1e-12)
    projected = {"proj_size": ours.proj_size} if ours.proj_size else {}
    again = type(ours)(ours.n_x, ours.n_a, num_layers=ours.num_layers,
                       bidirectional=ours.bidirectional, bias=ours.bias, **projected)
    grads = {k: v.grad for k, v in theirs.named_parameters()}
    again.load_torch_state_dict(grads)  # the weights' gradients mapped as the weights are
    for (name, p), g in zip(ours.named_parameters(), again.parameters()):
        if name.rpartition(".")[2].startswith("b"):
            continue  # the biases below: PyTorch's two have the gradient of our one
        np.testing.assert_allclose(p.grad, g.data, rtol=1e-9, atol=1e-12, err_msg=name)
    n_a = ours.n_a
    for name, t in theirs.named_parameters():
        if not name.startswith("bias_ih"):
            continue
        suffix = name[len("bias_ih_"):]
        cell = getattr(ours, ("cell" if suffix.startswith("l0") else f"cell_l{suffix[1]}")
                       + ("_reverse" if suffix.endswith("reverse") else ""))
        b_ih, b_hh = t.grad.numpy(), dict(theirs.named_parameters())[
            f"bias_hh_{suffix}"].grad.numpy()
        if ours.kind == "lstm":
            for k, gate in enumerate("ufco"):
                rows = slice(k * n_a, (k + 1) * n_a)
                np.testing.assert_allclose(getattr(cell, f"b{gate}").grad, b_ih[rows],
                                           rtol=1e-9, atol=1e-12)
                np.testing.assert_allclose(b_ih[rows], b_hh[rows], rtol=1e-9, atol=1e-12)
        else:
            np.testing.assert_allclose(cell.br.grad, b_ih[:n_a], rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(cell.bu.grad, -b_ih[n_a:2 * n_a], rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(cell.bc.grad, b_ih[2 * n_a:], rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(cell.bhc.grad, b_hh[2 * n_a:], rtol=1e-9, atol=1e-12)


def _states_and_gradients_agree(kind, ours, theirs, run, ref_run, inputs, tensors, rng):
    """The final states of one run of our layer, run = (output, states), equal those of
    torch's, ref_run, and so do the gradients of the inputs and every weight for random
    upstream gradients of the output and the states."""
    out, last = run
    ref, ref_last = ref_run
    lasts = last if kind == "lstm" else (last,)
    ref_lasts = ref_last if kind == "lstm" else (ref_last,)
    for ours_last, ref_l in zip(lasts, ref_lasts):
        assert ours_last.shape == tuple(ref_l.shape)
        np.testing.assert_allclose(ours_last.data, ref_l.detach().numpy(), rtol=1e-10,
                                   atol=1e-12)
    up = rng.standard_normal(out.shape)
    ups = [rng.standard_normal(x.shape) for x in lasts]
    ((out * up).sum() + sum((x * u).sum() for x, u in zip(lasts, ups))).backward()
    ((ref * torch.tensor(up)).sum() + sum((x * torch.tensor(u)).sum()
                                          for x, u in zip(ref_lasts, ups))).backward()
    _grads_agree(ours, theirs, inputs, tensors)


@pytest.mark.parametrize("kind, num_layers, bidirectional, batch_first", [
    ("lstm", 1, False, True), ("lstm", 2, True, False), ("gru", 1, True, True),
    ("gru", 2, True, False), ("gru", 3, False, True)])
def test_lstm_and_gru_match_torchs_with_its_weights(kind, num_layers, bidirectional,
                                                    batch_first):
    """Values and gradients (of X, h0, c0 and every weight) of PyTorch's layers with their
    weights loaded by load_torch_state_dict, in PyTorch's call."""
    theirs, ours = _torch_and_ours(kind, num_layers, bidirectional, batch_first)
    rng = np.random.default_rng(30)
    m, T_x, count = 2, 4, num_layers * (2 if bidirectional else 1)
    arrays = [rng.standard_normal((m, T_x, 3) if batch_first else (T_x, m, 3)),
              rng.standard_normal((count, m, 4))]
    if kind == "lstm":
        arrays.append(rng.standard_normal((count, m, 4)))
    inputs = [gg.Tensor(a, requires_grad=True) for a in arrays]
    tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
    state = tuple(inputs[1:]) if kind == "lstm" else inputs[1]
    out, last = ours(inputs[0], state)
    ref, ref_last = theirs(tensors[0], tuple(tensors[1:]) if kind == "lstm" else tensors[1])
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    _states_and_gradients_agree(kind, ours, theirs, (out, last), (ref, ref_last), inputs,
                                tensors, rng)


@pytest.mark.parametrize("kind, options, unbatched", [
    ("lstm", {"bias": False}, False), ("gru", {"bias": False, "num_layers": 2}, False),
    ("lstm", {"proj_size": 2}, False),
    ("lstm", {"proj_size": 2, "num_layers": 2, "bidirectional": True}, False),
    ("lstm", {}, True), ("gru", {"num_layers": 2, "bidirectional": True}, True),
    ("lstm", {"proj_size": 3, "bias": False, "batch_first": True}, True)])
def test_lstm_and_gru_options_match_torchs(kind, options, unbatched):
    """bias=False, proj_size (PyTorch's LSTMP) and one sequence without its batch axis:
    values and gradients of X, h0, c0 and every weight, as PyTorch's with its weights."""
    options = {"num_layers": 1, "bidirectional": False, "batch_first": False, **options}
    theirs, ours = _torch_and_ours(kind, **options)
    rng = np.random.default_rng(31)
    m, T_x = 2, 4
    count = options["num_layers"] * (2 if options["bidirectional"] else 1)
    h = options.get("proj_size") or 4
    batch = () if unbatched else (m,)
    x_shape = (m, T_x) if options["batch_first"] else (T_x, m)
    arrays = [rng.standard_normal((T_x, 3) if unbatched else x_shape + (3,)),
              rng.standard_normal((count, *batch, h))]
    if kind == "lstm":
        arrays.append(rng.standard_normal((count, *batch, 4)))
    inputs = [gg.Tensor(a, requires_grad=True) for a in arrays]
    tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, last = ours(inputs[0], tuple(inputs[1:]) if kind == "lstm" else inputs[1])
    ref, ref_last = theirs(tensors[0], tuple(tensors[1:]) if kind == "lstm" else tensors[1])
    assert out.shape == tuple(ref.shape)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    _states_and_gradients_agree(kind, ours, theirs, (out, last), (ref, ref_last), inputs,
                                tensors, rng)


@pytest.mark.parametrize("kind, bidirectional", [("lstm", True), ("gru", True),
                                                 ("lstm", False)])
def test_lengths_match_torchs_packed_sequences(kind, bidirectional):
    """lengths against pack_padded_sequence: pad_packed_sequence's output (zeros past each
    end), each sequence's own h_n (and c_n), and the gradients, the backward direction
    starting at each sequence's end."""
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    theirs, ours = _torch_and_ours(kind, 2, bidirectional, True)
    rng = np.random.default_rng(31)
    lengths = [5, 2, 4]
    X = rng.standard_normal((3, 5, 3))
    Xg, Xt = gg.Tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    out, last = ours(Xg, lengths=lengths)
    packed = pack_padded_sequence(Xt, lengths, batch_first=True, enforce_sorted=False)
    ref_packed, ref_last = theirs(packed)
    ref, _ = pad_packed_sequence(ref_packed, batch_first=True, total_length=5)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    lasts = last if kind == "lstm" else (last,)
    ref_lasts = ref_last if kind == "lstm" else (ref_last,)
    for x, r in zip(lasts, ref_lasts):
        np.testing.assert_allclose(x.data, r.detach().numpy(), rtol=1e-10, atol=1e-12)
    up = rng.standard_normal(out.shape)
    ((out * up).sum() + sum((x * x).sum() for x in lasts)).backward()
    ((ref * torch.tensor(up)).sum() + sum((x * x).sum() for x in ref_lasts)).backward()
    _grads_agree(ours, theirs, [Xg], [Xt])


def test_dropout_layers_in_eval_match_torchs():
    theirs, ours = _torch_and_ours("lstm", 3, True, True, dropout=0.5)
    theirs.eval()
    ours.eval()
    X = np.random.default_rng(32).standard_normal((2, 4, 3))
    np.testing.assert_allclose(ours(X)[0].data, theirs(torch.tensor(X))[0].detach().numpy(),
                               rtol=1e-10, atol=1e-12)
    assert ours.layer_dropout.keep_prob == 0.5


def test_relu_rnn_matches_torchs():
    torch.manual_seed(1)
    theirs = torch.nn.RNN(3, 4, num_layers=2, nonlinearity="relu", bidirectional=True,
                          batch_first=True, dtype=torch.float64)
    ours = gg.nn.RNN(3, 4, num_layers=2, nonlinearity="relu", bidirectional=True)
    ours.load_torch_state_dict(theirs.state_dict())
    X = np.random.default_rng(33).standard_normal((2, 5, 3))
    A, a_last = ours(X, return_state=True, lengths=[5, 3])
    packed = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(X), [5, 3], batch_first=True)
    ref, h_n = theirs(packed)
    ref, _ = torch.nn.utils.rnn.pad_packed_sequence(ref, batch_first=True)
    np.testing.assert_allclose(A.data, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(a_last.data, h_n.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths, enforce_sorted", [([2, 5, 2, 4, 5, 1], False),
                                                     ([5, 4, 4, 1], True)])
def test_packing_matches_torchs(lengths, enforce_sorted, batch_first):
    """nn.utils.rnn against torch.nn.utils.rnn: the packed data, batch_sizes and indices
    (ties sorted as PyTorch's), padding back with a value and a total length, the
    sequences unpacked and unpadded, and the gradients through packing and padding."""
    from torch.nn.utils import rnn as torch_rnn

    from graphgrad.nn.utils import rnn

    rng = np.random.default_rng(40)
    m, T = len(lengths), max(lengths) + 1
    X = rng.standard_normal((m, T, 2, 3) if batch_first else (T, m, 2, 3))
    Xg, Xt = gg.Tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    ours = rnn.pack_padded_sequence(Xg, lengths, batch_first, enforce_sorted)
    theirs = torch_rnn.pack_padded_sequence(Xt, lengths, batch_first, enforce_sorted)
    np.testing.assert_array_equal(ours.data.data, theirs.data.detach().numpy())
    np.testing.assert_array_equal(ours.batch_sizes, theirs.batch_sizes.numpy())
    for mine, ref in ((ours.sorted_indices, theirs.sorted_indices),
                      (ours.unsorted_indices, theirs.unsorted_indices)):
        assert (mine is None) == (ref is None)
        if ref is not None:
            np.testing.assert_array_equal(mine, ref.numpy())
    w = rng.standard_normal(ours.data.shape)
    padded, out_lengths = rnn.pad_packed_sequence(
        rnn.PackedSequence(ours.data * w, ours.batch_sizes, ours.sorted_indices),
        not batch_first, -2.5, T + 2)
    ref, ref_lengths = torch_rnn.pad_packed_sequence(
        torch_rnn.PackedSequence(theirs.data * torch.tensor(w), theirs.batch_sizes,
                                 theirs.sorted_indices, theirs.unsorted_indices),
        not batch_first, -2.5, T + 2)
    np.testing.assert_array_equal(padded.data, ref.detach().numpy())
    np.testing.assert_array_equal(out_lengths, ref_lengths.numpy())
    up = rng.standard_normal(padded.shape)
    (padded * up).sum().backward()
    (ref * torch.tensor(up)).sum().backward()
    np.testing.assert_allclose(Xg.grad, Xt.grad.numpy(), rtol=1e-12, atol=0)
    for mine, ref in zip(rnn.unpack_sequence(ours), torch_rnn.unpack_sequence(theirs)):
        np.testing.assert_array_equal(mine.data, ref.detach().numpy())
    for mine, ref in zip(rnn.unpad_sequence(Xg, lengths, batch_first),
                         torch_rnn.unpad_sequence(Xt.detach().clone(),  # transposed in place
                                                  torch.tensor(lengths), batch_first)):
        np.testing.assert_array_equal(mine.data, ref.detach().numpy())
    sequences = [rng.standard_normal((n, 3)) for n in lengths]
    mine = rnn.pack_sequence(sequences, enforce_sorted)
    ref = torch_rnn.pack_sequence([torch.tensor(s) for s in sequences], enforce_sorted)
    np.testing.assert_array_equal(mine.data.data, ref.data.numpy())


@pytest.mark.parametrize("kind, num_layers, bidirectional, batch_first", [
    ("lstm", 2, True, False), ("gru", 1, True, True), ("lstm", 1, False, True),
    ("gru", 2, False, False)])
def test_packed_layers_match_torchs(kind, num_layers, bidirectional, batch_first):
    """nn.LSTM and nn.GRU on a PackedSequence against PyTorch's with the same weights: the
    packed output (data, batch_sizes, indices), h_n and c_n in the batch's order from h0
    and c0 in it, and the gradients of X (through the packing), h0, c0 and the weights.
    batch_first changes nothing for packed input, in both."""
    from torch.nn.utils import rnn as torch_rnn

    from graphgrad.nn.utils import rnn

    theirs, ours = _torch_and_ours(kind, num_layers, bidirectional, batch_first)
    rng = np.random.default_rng(41)
    lengths = [3, 6, 1, 6, 4]
    m, count = len(lengths), num_layers * (2 if bidirectional else 1)
    arrays = [rng.standard_normal((6, m, 3)), rng.standard_normal((count, m, 4))]
    if kind == "lstm":
        arrays.append(rng.standard_normal((count, m, 4)))
    inputs = [gg.Tensor(a, requires_grad=True) for a in arrays]
    tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
    packed = rnn.pack_padded_sequence(inputs[0], lengths, enforce_sorted=False)
    ref_packed = torch_rnn.pack_padded_sequence(tensors[0], lengths, enforce_sorted=False)
    out, last = ours(packed, tuple(inputs[1:]) if kind == "lstm" else inputs[1])
    ref, ref_last = theirs(ref_packed, tuple(tensors[1:]) if kind == "lstm" else tensors[1])
    assert isinstance(out, rnn.PackedSequence)
    np.testing.assert_allclose(out.data.data, ref.data.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_array_equal(out.batch_sizes, ref.batch_sizes.numpy())
    np.testing.assert_array_equal(out.sorted_indices, ref.sorted_indices.numpy())
    np.testing.assert_array_equal(out.unsorted_indices, ref.unsorted_indices.numpy())
    _states_and_gradients_agree(kind, ours, theirs, (out.data, last), (ref.data, ref_last),
                                inputs, tensors, rng)


# -- clipping ---------------------------------------------------------------------------------


@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch_but_for_its_epsilon(max_norm):
    """Both return the joint norm before clipping. Ours scales by max_norm / norm, PyTorch's
    by max_norm / (norm + 1e-6), and neither scales a joint norm within max_norm."""
    rng = np.random.default_rng(12)
    grads = [rng.standard_normal(s) for s in ((3, 4), (4,), (2, 2, 2))]
    ours = [gg.Tensor(np.zeros_like(g), requires_grad=True) for g in grads]
    theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, t, g in zip(ours, theirs, grads):
        p.grad, t.grad = g.copy(), torch.tensor(g)
    norm = gg.optim.clip_grad_norm(ours, max_norm)
    norm_ref = torch.nn.utils.clip_grad_norm_(theirs, max_norm).item()
    assert norm == pytest.approx(norm_ref, rel=1e-12)
    np.testing.assert_allclose(norm, np.sqrt(sum((g**2).sum() for g in grads)), rtol=1e-12)
    scale = (norm + 1e-6) / norm if norm > max_norm else 1.0
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad, t.grad.numpy() * scale, rtol=1e-12)
    clipped = np.sqrt(sum((p.grad**2).sum() for p in ours))
    assert clipped == pytest.approx(min(norm, max_norm), rel=1e-12)


# -- second derivatives -----------------------------------------------------------------------


def _penalised_mlps(norm, rng):
    """The same n_x-6-1 tanh network in both, Linear -> ``norm`` -> tanh -> Linear."""
    n_x, n_h = 3, 6
    ours = [gg.nn.Linear(n_x, n_h, rng=0)]
    theirs = [torch.nn.Linear(n_x, n_h, dtype=torch.float64)]
    if norm.startswith("batchnorm"):
        ours.append(gg.nn.BatchNorm1d(n_h))
        theirs.append(torch.nn.BatchNorm1d(n_h, dtype=torch.float64))
        if norm == "batchnorm_eval":
            ours[-1].running_mean = rng.standard_normal(n_h)
            ours[-1].running_var = rng.uniform(0.5, 2, n_h)
            theirs[-1].running_mean.copy_(torch.tensor(ours[-1].running_mean))
            theirs[-1].running_var.copy_(torch.tensor(ours[-1].running_var))
            ours[-1].eval()
            theirs[-1].eval()
    elif norm == "layernorm":
        ours.append(gg.nn.LayerNorm(n_h))
        theirs.append(torch.nn.LayerNorm(n_h, dtype=torch.float64))
    ours += [gg.nn.Tanh(), gg.nn.Linear(n_h, 1, rng=0)]
    theirs += [torch.nn.Tanh(), torch.nn.Linear(n_h, 1, dtype=torch.float64)]
    ours, theirs = gg.nn.Sequential(*ours), torch.nn.Sequential(*theirs)
    params = list(ours.parameters())
    assert [p.shape for p in params] == [tuple(t.shape) for t in theirs.parameters()]
    with torch.no_grad():
        for p, t in zip(params, theirs.parameters()):
            p.data[...] = rng.standard_normal(p.shape)
            t.copy_(torch.tensor(p.data))
    return ours, theirs, params


@pytest.mark.parametrize("norm", ["none", "batchnorm", "batchnorm_eval", "layernorm"])
def test_gradient_penalty_second_derivatives_match_torch(norm):
    """A gradient penalty: J = mse(||dY/dx(i)||, 1) + var(dY/dX, ddof=1)
    + sum(std(dY/dX, axis=0)), with Y the network's outputs summed, and J's gradient w.r.t.
    the parameters: second derivatives through gg.grad(create_graph=True), as
    torch.autograd.grad(create_graph=True)."""
    rng = np.random.default_rng(13)
    ours, theirs, params = _penalised_mlps(norm, rng)
    X0 = rng.standard_normal((5, 3))

    X = gg.Tensor(X0, requires_grad=True)
    (dX,) = gg.grad(ours(X).sum(), X, create_graph=True)
    J = (gg.nn.mse(gg.norm(dX, axis=1), np.ones(5)) + gg.var(dX, ddof=1)
         + gg.std(dX, axis=0).sum())
    grads = gg.grad(J, params, allow_unused=True)  # dX does not depend on the last b

    Xt = torch.tensor(X0, requires_grad=True)
    (dXt,) = torch.autograd.grad(theirs(Xt).sum(), Xt, create_graph=True)
    Jt = (torch.nn.functional.mse_loss(torch.linalg.vector_norm(dXt, dim=1),
                                       torch.ones(5, dtype=torch.float64))
          + torch.var(dXt, correction=1) + torch.std(dXt, dim=0, correction=0).sum())
    grads_ref = torch.autograd.grad(Jt, list(theirs.parameters()), allow_unused=True)

    np.testing.assert_allclose(dX.data, dXt.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert J.item() == pytest.approx(Jt.item(), rel=1e-10)
    assert grads[-1] is None and grads_ref[-1] is None
    for g, t in zip(grads[:-1], grads_ref[:-1]):
        np.testing.assert_allclose(g, t.numpy(), rtol=1e-10, atol=1e-12)


NORM_LAYERS = {
    "batchnorm1d": (lambda: gg.nn.BatchNorm1d(4),
                    lambda: torch.nn.BatchNorm1d(4, dtype=torch.float64), (6, 4)),
    "batchnorm2d": (lambda: gg.nn.BatchNorm2d(3),
                    lambda: torch.nn.BatchNorm2d(3, dtype=torch.float64), (2, 3, 2, 3)),
    "batchnorm2d_eval": (lambda: gg.nn.BatchNorm2d(3).eval(),
                         lambda: torch.nn.BatchNorm2d(3, dtype=torch.float64).eval(),
                         (2, 3, 2, 3)),
    "layernorm": (lambda: gg.nn.LayerNorm(4),
                  lambda: torch.nn.LayerNorm(4, dtype=torch.float64), (2, 3, 4)),
}


@pytest.mark.parametrize("name", sorted(NORM_LAYERS))
def test_normalisation_second_derivatives_match_torch(name):
    """J = sum((dL/dZ)**2) with L = sum(U * layer(Z)), differentiated again w.r.t. Z, gamma
    and beta: the fused layers' backward under create_graph."""
    make_ours, make_theirs, shape = NORM_LAYERS[name]
    rng = np.random.default_rng(14)
    ours, theirs = make_ours(), make_theirs()
    n = shape[-1]
    with torch.no_grad():
        for p, t in ((ours.gamma, theirs.weight), (ours.beta, theirs.bias)):
            p.data[...] = rng.standard_normal(n)
            t.copy_(torch.tensor(p.data))
        if name.endswith("eval"):
            ours.running_mean = rng.standard_normal(n)
            ours.running_var = rng.uniform(0.5, 2, n)
            theirs.running_mean.copy_(torch.tensor(ours.running_mean))
            theirs.running_var.copy_(torch.tensor(ours.running_var))
    Z0, U = rng.standard_normal(shape), rng.standard_normal(shape)

    Z = gg.Tensor(Z0, requires_grad=True)
    (dZ,) = gg.grad((ours(Z) * U).sum(), Z, create_graph=True)
    grads = gg.grad((dZ * dZ).sum(), [Z, ours.gamma, ours.beta], allow_unused=True)

    Zt = torch.tensor(Z0, requires_grad=True)
    (dZt,) = torch.autograd.grad((_channels_first(theirs, Zt) * torch.tensor(U)).sum(), Zt,
                                 create_graph=True)
    grads_ref = torch.autograd.grad((dZt * dZt).sum(), [Zt, theirs.weight, theirs.bias],
                                    allow_unused=True)
    np.testing.assert_allclose(dZ.data, dZt.detach().numpy(), rtol=1e-10, atol=1e-12)
    for g, t in zip(grads, grads_ref):
        if t is None:  # beta, and in eval mode Z, leave dL/dZ unchanged
            assert g is None or not np.any(g)
        else:
            np.testing.assert_allclose(g, t.numpy(), rtol=1e-10, atol=1e-12)


# -- the later networks' ops, over drawn shapes and settings ------------------------------------
def _later_ops(nd: int, draw) -> dict:
    """gg's and torch's forms of the later ops for an input of ``nd`` axes, settings drawn."""
    from hypothesis import strategies as st

    F = torch.nn.functional
    shift = draw(st.integers(-9, 9))
    ops = {
        "softplus": (gg.softplus, lambda t: F.softplus(t, threshold=1e9)),
        # off 0, where torch's second derivative is 0 (the right-hand one) and its first the
        # left-hand alpha, as graphgrad's both
        "elu": (lambda x: gg.elu(x + 0.25, 0.7), lambda t: F.elu(t + 0.25, 0.7)),
        "silu": (gg.silu, F.silu),
        "gelu": (gg.gelu, F.gelu),
        "gelu_tanh": (lambda x: gg.gelu(x, approximate="tanh"),
                      lambda t: F.gelu(t, approximate="tanh")),
        "erf": (gg.erf, torch.erf),
        "erfc": (gg.erfc, torch.erfc),
        "log1p": (lambda x: gg.log1p(x * x), lambda t: torch.log1p(t * t)),
        "expm1": (gg.expm1, torch.expm1),
        "prod": (gg.prod, torch.prod),
        "cumsum_flat": (gg.cumsum, lambda t: torch.cumsum(t.reshape(-1), 0)),
        "roll_flat": (lambda x: gg.roll(x, shift), lambda t: torch.roll(t, shift)),
        "outer": (lambda x: gg.outer(x, x * x),
                  lambda t: torch.outer(t.reshape(-1), (t * t).reshape(-1))),
    }
    if nd:
        axis = draw(st.integers(-nd, nd - 1))
        axes = tuple(draw(st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd,
                                   unique=True)))
        shifts = tuple(draw(st.lists(st.integers(-9, 9), min_size=len(axes),
                                     max_size=len(axes))))
        moved = tuple(draw(st.permutations(range(nd)))[:len(axes)])
        keep = draw(st.booleans())
        reps = tuple(draw(st.lists(st.integers(0, 2), max_size=4)))
        ops.update({
            "prod_axis": (lambda x: gg.prod(x, axis, keep), lambda t: torch.prod(t, axis, keep)),
            "cumsum": (lambda x: gg.cumsum(x, axis), lambda t: torch.cumsum(t, axis)),
            "flip": (lambda x: gg.flip(x, axes), lambda t: torch.flip(t, axes)),
            "roll": (lambda x: gg.roll(x, shifts, axes), lambda t: torch.roll(t, shifts, axes)),
            "moveaxis": (lambda x: gg.moveaxis(x, axes, moved),
                         lambda t: torch.movedim(t, axes, moved)),
            "repeat": (lambda x: gg.repeat(x * x, 2, axis),
                       lambda t: torch.repeat_interleave(t * t, 2, axis)),
            "tile": (lambda x: gg.tile(x * x, reps),
                     lambda t: torch.tile(t * t, reps) if reps else t * t),
            "einsum": (lambda x: gg.einsum("...i,...i->...", x, x * x),
                       lambda t: torch.einsum("...i,...i->...", t, t * t)),
        })
    return ops


def test_later_ops_match_torch_to_the_third_derivative():
    """softplus ... einsum over drawn shapes (0-d, empty, size-1 axes), axes and settings,
    with zeros in the input (prod's hard case): values, gradients, and the second and third
    derivatives of random projections."""
    from hypothesis import given
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    @given(st.data())
    def check(data):
        shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))
        values = data.draw(hnp.arrays(np.float64, shape, elements=st.sampled_from(
            [0.0, -0.5, 0.75, 1.5, -2.0, 3.0])))
        for name, (ours, theirs) in _later_ops(len(shape), data.draw).items():
            x = gg.Tensor(values, requires_grad=True)
            t = torch.tensor(values, requires_grad=True)
            y, ty = ours(x), theirs(t)
            np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-12, atol=1e-12,
                                       err_msg=name)
            w = np.random.default_rng(0).standard_normal(y.shape)
            J, TJ = (y * w).sum(), (ty * torch.tensor(w)).sum()
            for order in range(1, 4):
                if not J.requires_grad:  # linear: its derivative is constant
                    break
                (g,) = gg.grad(J, [x], create_graph=order < 3)
                (tg,) = (torch.autograd.grad(TJ, [t], create_graph=True, allow_unused=True)
                         if TJ.requires_grad else (None,))  # torch: no graph, constant
                tg = torch.zeros_like(t) if tg is None else tg
                np.testing.assert_allclose(g.data, tg.detach().numpy(), rtol=1e-10,
                                           atol=1e-10, err_msg=f"{name}, derivative {order}")
                v = np.random.default_rng(order).standard_normal(shape)
                J, TJ = (g * v).sum(), (tg * torch.tensor(v)).sum()

    check()


# -- numpy's math beyond the course's ops --------------------------------------------------------
# (ours, torch's, where the input is drawn from): inside the domain, off poles and branch cuts.
# torch has no cbrt: its formulas are checked in test_numpy_math.
NUMPY_MATH = {
    "tan": (gg.tan, torch.tan, (-1.2, 1.2)),
    "arcsin": (gg.arcsin, torch.asin, (-0.9, 0.9)),
    "arccos": (gg.arccos, torch.acos, (-0.9, 0.9)),
    "arctan": (gg.atan, torch.atan, (-3.0, 3.0)),
    "sinh": (gg.sinh, torch.sinh, (-3.0, 3.0)),
    "cosh": (gg.cosh, torch.cosh, (-3.0, 3.0)),
    "arcsinh": (gg.arcsinh, torch.asinh, (-3.0, 3.0)),
    "arccosh": (gg.arccosh, torch.acosh, (1.2, 4.0)),
    "arctanh": (gg.arctanh, torch.atanh, (-0.9, 0.9)),
    "exp2": (gg.exp2, torch.exp2, (-3.0, 3.0)),
    "log2": (gg.log2, torch.log2, (0.2, 4.0)),
    "log10": (gg.log10, torch.log10, (0.2, 4.0)),
    "reciprocal": (lambda x: gg.reciprocal(x + 4.0), lambda t: torch.reciprocal(t + 4.0),
                   (-3.0, 3.0)),
    "arctan2": (lambda x: gg.arctan2(x[:, :1] + 2.0, x[:1]),
                lambda t: torch.atan2(t[:, :1] + 2.0, t[:1]), (-1.5, 1.5)),
    "hypot": (lambda x: gg.hypot(x[:, :1] + 2.0, x[:1]),
              lambda t: torch.hypot(t[:, :1] + 2.0, t[:1]), (-1.5, 1.5)),
    "logaddexp": (lambda x: gg.logaddexp(x[:, :1], 2 * x[:1]),
                  lambda t: torch.logaddexp(t[:, :1], 2 * t[:1]), (-3.0, 3.0)),
    # distinct values, no ties (where torch gives all to its first input, graphgrad half each)
    "fmax": (lambda x: gg.fmax(x[:, :1], x[:1] + 0.05),
             lambda t: torch.fmax(t[:, :1], t[:1] + 0.05), (-3.0, 3.0)),
    "fmin": (lambda x: gg.fmin(x[:, :1], x[:1] + 0.05),
             lambda t: torch.fmin(t[:, :1], t[:1] + 0.05), (-3.0, 3.0)),
}


@pytest.mark.parametrize("name", sorted(NUMPY_MATH))
def test_numpy_math_matches_torch_to_the_third_derivative(name):
    """Values, gradients, and the second and third derivatives of random projections; the
    binary ones broadcast (3, 1) against (1, 4)."""
    ours, theirs, (low, high) = NUMPY_MATH[name]
    values = np.random.default_rng(5).uniform(low, high, (3, 4))
    x = gg.Tensor(values, requires_grad=True)
    t = torch.tensor(values, requires_grad=True)
    y, ty = ours(x), theirs(t)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    w = np.random.default_rng(0).standard_normal(y.shape)
    J, TJ = (y * w).sum(), (ty * torch.tensor(w)).sum()
    for order in range(1, 4):
        if not J.requires_grad:  # piecewise linear: its derivative is constant
            break
        (g,) = gg.grad(J, [x], create_graph=order < 3)
        (tg,) = (torch.autograd.grad(TJ, [t], create_graph=True, allow_unused=True)
                 if TJ.requires_grad else (None,))
        tg = torch.zeros_like(t) if tg is None else tg
        np.testing.assert_allclose(g.data, tg.detach().numpy(), rtol=1e-10, atol=1e-10,
                                   err_msg=f"{name}, derivative {order}")
        v = np.random.default_rng(order).standard_normal(values.shape)
        J, TJ = (g * v).sum(), (tg * torch.tensor(v)).sum()


# numpy's structural functions against PyTorch's counterparts: values and gradients
PICKS = np.array([[2, 0, 2], [1, 1, 0]])
STRUCTURAL = {
    "gather": (lambda q: gg.take_along_axis(q, PICKS, 1),
               lambda q: torch.gather(q, 1, torch.tensor(PICKS)), [(2, 4)]),
    "sort": (lambda x: gg.sort(x, 0), lambda x: torch.sort(x, dim=0, stable=True).values,
             [(4, 3)]),
    "diagonal": (lambda x: gg.diagonal(x, -1, 2, 0),
                 lambda x: torch.diagonal(x, -1, 2, 0), [(3, 2, 4)]),
    "diag": (lambda v: gg.diag(v, 2), lambda v: torch.diag(v, 2), [(3,)]),
    "trace": (gg.trace, torch.trace, [(3, 4)]),
    "triu": (lambda x: gg.triu(x, -1), lambda x: torch.triu(x, -1), [(2, 3, 4)]),
    "tril": (lambda x: gg.tril(x, 1), lambda x: torch.tril(x, 1), [(4, 3)]),
    "quantile": (lambda x: gg.quantile(x, np.array([0.1, 0.5, 0.8]), axis=1, keepdims=True),
                 lambda x: torch.quantile(x, torch.tensor([0.1, 0.5, 0.8], dtype=x.dtype), 1,
                                          keepdim=True), [(3, 6)]),
    "copy": (gg.copy, torch.clone, [(2, 3)]),
    "rot90": (lambda x: gg.rot90(x, 3, (2, 0)), lambda x: torch.rot90(x, 3, (2, 0)),
              [(2, 3, 4)]),
    "fliplr": (gg.fliplr, torch.fliplr, [(3, 4)]),
    "column_stack": (lambda a, b: gg.column_stack([a, b]),
                     lambda a, b: torch.column_stack([a, b]), [(3,), (3, 2)]),
    "dstack": (lambda a, b: gg.dstack([a, b]), lambda a, b: torch.dstack([a, b]),
               [(2, 3), (2, 3, 2)]),
    "atleast_3d": (gg.atleast_3d, torch.atleast_3d, [(4,)]),
    "tensordot": (lambda a, b: gg.tensordot(a, b, ([0, 2], [2, 1])),
                  lambda a, b: torch.tensordot(a, b, ([0, 2], [2, 1])), [(2, 3, 4), (3, 4, 2)]),
    "inner": (gg.inner, torch.inner, [(2, 4), (3, 4)]),
    "kron": (gg.kron, torch.kron, [(2, 3), (3, 1, 2)]),
    "cross": (lambda a, b: gg.cross(a, b, axis=0), lambda a, b: torch.linalg.cross(a, b, dim=0),
              [(3, 4), (3, 4)]),
    "diff": (lambda x: gg.diff(x, 2, axis=0, append=x[:1]),
             lambda x: torch.diff(x, 2, dim=0, append=x[:1]), [(4, 3)]),
}


@pytest.mark.parametrize("name", sorted(STRUCTURAL))
def test_structural_ops_match_torch(name):
    ours, theirs, shapes = STRUCTURAL[name]
    rng = np.random.default_rng(1)
    _compare(ours, theirs, [rng.standard_normal(s) for s in shapes], rng)


def test_sorting_ties_sends_each_its_own_gradient_as_torch_does():
    data = np.array([[2.0, 1.0, 2.0, 1.0, 0.5], [3.0, 3.0, 3.0, -1.0, 3.0]])
    _compare(lambda x: gg.sort(x), lambda x: torch.sort(x, stable=True).values, [data],
             np.random.default_rng(2))


# numpy's running products, NaN functions, statistics, angles, sinc and vdot against PyTorch's
# (torch.cov and torch.corrcoef take rows as variables, numpy's default)
NUMPY_FUNCTIONS = {
    "cumprod": (lambda x: gg.cumprod(x, axis=1), lambda x: torch.cumprod(x, dim=1), [(3, 5)]),
    "cumprod_flat": (gg.cumprod, lambda x: torch.cumprod(x.reshape(-1), dim=0), [(2, 3)]),
    "nansum": (lambda x: gg.nansum(x, axis=0), lambda x: torch.nansum(x, dim=0), [(3, 4)]),
    "nanmean": (lambda x: gg.nanmean(x, axis=1, keepdims=True),
                lambda x: torch.nanmean(x, dim=1, keepdim=True), [(3, 4)]),
    "nan_to_num": (gg.nan_to_num, torch.nan_to_num, [(3, 4)]),
    "deg2rad": (gg.deg2rad, torch.deg2rad, [(3, 4)]),
    "rad2deg": (gg.rad2deg, torch.rad2deg, [(3, 4)]),
    "sinc": (gg.sinc, torch.sinc, [(3, 4)]),
    "vdot": (gg.vdot, lambda a, b: torch.vdot(a.reshape(-1), b.reshape(-1)), [(3, 4), (2, 6)]),
    "cov": (gg.cov, torch.cov, [(3, 6)]),
    "cov_biased": (lambda x: gg.cov(x, bias=True), lambda x: torch.cov(x, correction=0),
                   [(2, 5)]),
    "corrcoef": (gg.corrcoef, torch.corrcoef, [(4, 6)]),
}


@pytest.mark.parametrize("name", sorted(NUMPY_FUNCTIONS))
def test_numpy_functions_match_torch(name):
    ours, theirs, shapes = NUMPY_FUNCTIONS[name]
    rng = np.random.default_rng(5)
    _compare(ours, theirs, [rng.standard_normal(s) for s in shapes], rng)


def test_cumprod_with_zeros_matches_torch():
    data = np.array([[0.0, 2.0, 1.5, -1.0], [1.5, 0.0, 0.0, 2.0], [2.0, -3.0, 0.5, 0.0],
                     [0.0, 0.0, 0.0, 0.0], [1.0, 2.0, 0.0, 3.0]])
    _compare(lambda x: gg.cumprod(x, axis=1), lambda x: torch.cumprod(x, dim=1), [data],
             np.random.default_rng(6))


def test_the_nan_functions_with_nans_and_infinities_match_torch():
    data = np.array([[1.0, np.nan, 3.0, np.inf], [np.nan, -2.0, -np.inf, 0.5],
                     [2.0, -4.0, 0.25, 1.0]])
    rng = np.random.default_rng(7)
    _compare(gg.nan_to_num, torch.nan_to_num, [data], rng)
    finite = np.where(np.isinf(data), 1.5, data)
    _compare(lambda x: gg.nansum(x, axis=1), lambda x: torch.nansum(x, dim=1), [finite], rng)
    _compare(lambda x: gg.nanmean(x, axis=0), lambda x: torch.nanmean(x, dim=0), [finite], rng)


def test_sinc_at_0_and_on_both_sides_of_its_series_matches_torch():
    # Closer to 0, torch's gradient, (cos(pi x) - sinc x) / x, loses its digits (0 for 1e-9,
    # where it is -pi**2 / 3 * 1e-9): tests/test_numpy_functions.py checks ours there.
    data = np.array([0.0, 0.02, -0.0318, 0.0319, 0.3, -1.7])
    _compare(gg.sinc, torch.sinc, [data], np.random.default_rng(8))


# -- linear algebra ------------------------------------------------------------------------------
def _invertible(rng, shape):
    """(n + 1) I plus noise, the first row of some matrices negated (det < 0)."""
    a = 0.5 * rng.standard_normal(shape) + (shape[-1] + 1) * np.eye(shape[-1])
    a[..., :1, :] *= rng.choice([-1.0, 1.0], shape[:-2] + (1, 1))
    return a


def _gram(lib):
    """A symmetric positive-definite A = M M^T + n I from M, in graphgrad or torch: the
    gradient with respect to M is the same whichever convention a cholesky's gradient takes
    for the triangle it does not read (graphgrad's 0, PyTorch's symmetric part)."""
    if lib == "gg":
        return lambda m: m @ gg.swapaxes(m, -1, -2) + m.shape[-1] * np.eye(m.shape[-1])
    return lambda m: m @ m.mT + m.shape[-1] * torch.eye(m.shape[-1], dtype=m.dtype)


def _torch_cond(a, p):
    """torch.linalg.cond(a, p) of a norm's p, as torch computes it (checked below)."""
    return torch.linalg.matrix_norm(a, p) * torch.linalg.matrix_norm(torch.linalg.inv(a), p)


# (ours, torch's, the inputs: (shape, invertible or not))
LINALG = {
    "inv": (gg.linalg.inv, torch.linalg.inv, [((2, 3, 3), True)]),
    "solve": (gg.linalg.solve, torch.linalg.solve, [((2, 1, 3, 3), True), ((4, 3, 2), False)]),
    "solve_vector": (gg.linalg.solve, torch.linalg.solve, [((2, 3, 3), True), ((3,), False)]),
    "det": (gg.linalg.det, torch.linalg.det, [((2, 3, 3), True)]),
    "slogdet": (lambda a: gg.linalg.slogdet(a).logabsdet,
                lambda a: torch.linalg.slogdet(a).logabsdet, [((2, 3, 3), True)]),
    "cholesky": (lambda m: gg.linalg.cholesky(_gram("gg")(m)),
                 lambda m: torch.linalg.cholesky(_gram("torch")(m)), [((2, 3, 3), False)]),
    "cholesky_upper": (lambda m: gg.linalg.cholesky(_gram("gg")(m), upper=True),
                       lambda m: torch.linalg.cholesky(_gram("torch")(m), upper=True),
                       [((3, 3), False)]),
    # eigenvectors and singular vectors in columns, each times its first element: the same
    # whichever sign LAPACK gives a vector
    "eigh": (lambda m: _eigh_values_and_vectors(gg.linalg.eigh(_gram("gg")(m))),
             lambda m: _eigh_values_and_vectors(torch.linalg.eigh(_gram("torch")(m))),
             [((2, 3, 3), False)]),
    "eigh_upper": (lambda m: _eigh_values_and_vectors(gg.linalg.eigh(_gram("gg")(m), "U")),
                   lambda m: _eigh_values_and_vectors(torch.linalg.eigh(_gram("torch")(m), "U")),
                   [((4, 4), False)]),
    "eigvalsh": (lambda m: gg.linalg.eigvalsh(_gram("gg")(m)),
                 lambda m: torch.linalg.eigvalsh(_gram("torch")(m)), [((2, 3, 3), False)]),
    "svd_u": (lambda a: _signless(gg.linalg.svd(a, full_matrices=False).U),
              lambda a: _signless(torch.linalg.svd(a, full_matrices=False).U),
              [((2, 4, 3), False)]),
    "svd_vh": (lambda a: _signless(gg.linalg.matrix_transpose(gg.linalg.svd(a, False).Vh)),
               lambda a: _signless(torch.linalg.svd(a, full_matrices=False).Vh.mT),
               [((2, 4, 3), False)]),
    "svd_wide": (lambda a: _svd_all(gg.linalg.svd(a, full_matrices=False)),
                 lambda a: _svd_all(torch.linalg.svd(a, full_matrices=False)), [((2, 5), False)]),
    "svdvals": (gg.linalg.svdvals, torch.linalg.svdvals, [((2, 3, 4), False)]),
    "qr_q": (lambda a: gg.linalg.qr(a).Q, lambda a: torch.linalg.qr(a).Q, [((2, 4, 3), False)]),
    "qr_r": (lambda a: gg.linalg.qr(a).R, lambda a: torch.linalg.qr(a).R, [((2, 4, 3), False)]),
    "qr_wide": (lambda a: (lambda q, r: q.sum() * r)(*gg.linalg.qr(a)),
                lambda a: (lambda q, r: q.sum() * r)(*torch.linalg.qr(a)), [((3, 5), False)]),
    "pinv": (gg.linalg.pinv, torch.linalg.pinv, [((2, 4, 3), False)]),
    "pinv_wide": (gg.linalg.pinv, torch.linalg.pinv, [((3, 5), False)]),
    "lstsq": (lambda a, b: gg.linalg.lstsq(a, b)[0], lambda a, b: torch.linalg.lstsq(a, b)[0],
              [((5, 3), False), ((5, 2), False)]),
    "matrix_norm_nuc": (lambda a: gg.linalg.matrix_norm(a, ord="nuc"),
                        lambda a: torch.linalg.matrix_norm(a, ord="nuc"), [((2, 4, 3), False)]),
    "matrix_norm_2": (lambda a: gg.linalg.matrix_norm(a, ord=2),
                      lambda a: torch.linalg.matrix_norm(a, ord=2), [((2, 3, 4), False)]),
    "matrix_power": (lambda a: gg.linalg.matrix_power(a, 5),
                     lambda a: torch.linalg.matrix_power(a, 5), [((2, 3, 3), True)]),
    "matrix_power_negative": (lambda a: gg.linalg.matrix_power(a, -3),
                              lambda a: torch.linalg.matrix_power(a, -3), [((2, 3, 3), True)]),
    "cond": (gg.linalg.cond, torch.linalg.cond, [((2, 4, 3), False)]),
    "cond_minus_2": (lambda a: gg.linalg.cond(a, -2), lambda a: torch.linalg.cond(a, -2),
                     [((3, 3), True)]),
    # torch.linalg.cond's own backward of these ords fails (LinalgInvEx's output is
    # modified in place): its definition, of torch's norms and inv
    "cond_1": (lambda a: gg.linalg.cond(a, 1), lambda a: _torch_cond(a, 1),
               [((2, 3, 3), True)]),
    "cond_fro": (lambda a: gg.linalg.cond(a, "fro"), lambda a: _torch_cond(a, "fro"),
                 [((2, 3, 3), True)]),
    "cond_nuc": (lambda a: gg.linalg.cond(a, "nuc"), lambda a: torch.linalg.cond(a, "nuc"),
                 [((3, 3), True)]),
    "tensorinv": (lambda a: gg.linalg.tensorinv(gg.reshape(a, (6, 2, 3)), ind=1),
                  lambda a: torch.linalg.tensorinv(a.reshape(6, 2, 3), ind=1), [((6, 6), True)]),
    "tensorsolve": (lambda a, b: gg.linalg.tensorsolve(gg.reshape(a, (2, 3, 6)), b),
                    lambda a, b: torch.linalg.tensorsolve(a.reshape(2, 3, 6), b),
                    [((6, 6), True), ((2, 3), False)]),
    "multi_dot": (lambda a, b, c: gg.linalg.multi_dot([a, b, c]),
                  lambda a, b, c: torch.linalg.multi_dot([a, b, c]),
                  [((3,), False), ((3, 4), False), ((4, 2), False)]),
}


def _signless(v):
    """Vectors in columns (..., m, k), each times its first element."""
    return v * v[..., :1, :]


def _eigh_values_and_vectors(result):
    w, v = result
    return _signless(v) + w[..., None, :]


def _svd_all(result):
    u, s, vh = result
    vh_signless = vh * vh[..., :, :1]
    return _signless(u) @ vh_signless * s[..., None, :1]


@pytest.mark.parametrize("name", sorted(LINALG))
def test_linalg_matches_torch_to_the_third_derivative(name):
    """Values, gradients, and the second and third derivatives of random projections."""
    ours, theirs, inputs = LINALG[name]
    rng = np.random.default_rng(6)
    arrays = [_invertible(rng, shape) if invertible else rng.standard_normal(shape)
              for shape, invertible in inputs]
    xs = [gg.Tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, ty = ours(*xs), theirs(*ts)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    w = rng.standard_normal(y.shape)
    J, TJ = (y * w).sum(), (ty * torch.tensor(w)).sum()
    for order in range(1, 4):
        grads = gg.grad(J, xs, create_graph=order < 3)
        tgrads = torch.autograd.grad(TJ, ts, create_graph=True)
        J, TJ = 0.0, 0.0
        for i, (g, tg) in enumerate(zip(grads, tgrads)):
            np.testing.assert_allclose(g.data, tg.detach().numpy(), rtol=1e-10, atol=1e-10,
                                       err_msg=f"input {i}, derivative {order}")
            v = rng.standard_normal(g.shape)
            J, TJ = J + (g * v).sum(), TJ + (tg * torch.tensor(v)).sum()


def test_cholesky_gradient_is_torchs_symmetric_part_made_lower():
    """On a leaf A, PyTorch gives the symmetric part S of the gradient; graphgrad, reading the
    lower triangle as numpy does, the gradient of that reading: 2 S below the diagonal, S on
    it, 0 above."""
    rng = np.random.default_rng(8)
    m = rng.standard_normal((3, 3))
    a = m @ m.T + 3 * np.eye(3)
    w = rng.standard_normal((3, 3))
    A, T = gg.Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (gg.linalg.cholesky(A) * w).sum().backward()
    (torch.linalg.cholesky(T) * torch.tensor(w)).sum().backward()
    S = T.grad.numpy()
    np.testing.assert_allclose(S, S.T, rtol=1e-12)
    np.testing.assert_allclose(A.grad, np.tril(2 * S, -1) + np.diag(np.diag(S)), rtol=1e-10,
                               atol=1e-12)


def test_det_gradient_at_a_singular_matrix_where_torch_gives_zero():
    """det's gradient is the matrix of cofactors, nonzero at a matrix of rank n - 1; PyTorch
    2 gives 0 there. Off the singular set, the two agree."""
    a = np.array([[1.0, 2.0], [2.0, 4.0]])
    A, T = gg.Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    gg.linalg.det(A).backward()
    torch.linalg.det(T).backward()
    np.testing.assert_allclose(A.grad, [[4.0, -2.0], [-2.0, 1.0]], atol=1e-12)
    assert not T.grad.numpy().any() or np.allclose(T.grad.numpy(), A.grad)  # were it fixed


# numpy 2's array functions, differences, integrals and grids against PyTorch's (tuples of
# tensors stacked into one)
COORDINATES = np.array([0.0, 0.5, 2.0, 2.25, 4.0])
ARRAY_FUNCTIONS = {
    "cumulative_sum": (lambda x: gg.cumulative_sum(x, axis=1),
                       lambda x: torch.cumsum(x, dim=1), [(3, 4)]),
    "matrix_transpose": (gg.matrix_transpose, lambda x: x.mT, [(2, 3, 4)]),
    "unstack": (lambda x: gg.stack(gg.unstack(x, axis=1)),
                lambda x: torch.stack(torch.unbind(x, dim=1)), [(3, 4)]),
    "broadcast_arrays": (lambda a, b: gg.stack(gg.broadcast_arrays(a, b)),
                         lambda a, b: torch.stack(torch.broadcast_tensors(a, b)),
                         [(3, 1), (4,)]),
    "meshgrid_ij": (lambda a, b: gg.stack(gg.meshgrid(a, b, indexing="ij")),
                    lambda a, b: torch.stack(torch.meshgrid(a, b, indexing="ij")),
                    [(3,), (4,)]),
    "meshgrid_xy": (lambda a, b: gg.stack(gg.meshgrid(a, b)),
                    lambda a, b: torch.stack(torch.meshgrid(a, b, indexing="xy")),
                    [(3,), (4,)]),
    "trapezoid": (gg.trapezoid, torch.trapezoid, [(3, 5), (5,)]),
    "trapezoid_dx": (lambda y: gg.trapezoid(y, dx=0.5, axis=0),
                     lambda y: torch.trapezoid(y, dx=0.5, dim=0), [(3, 5)]),
    "gradient": (lambda f: gg.stack(gg.gradient(f, 0.5)),
                 lambda f: torch.stack(torch.gradient(f, spacing=0.5)), [(3, 5)]),
    "gradient_edge_order2": (lambda f: gg.gradient(f, axis=1, edge_order=2),
                             lambda f: torch.gradient(f, dim=1, edge_order=2)[0], [(3, 5)]),
    "gradient_coordinates": (
        lambda f: gg.gradient(f, COORDINATES, axis=1),
        lambda f: torch.gradient(f, spacing=(torch.tensor(COORDINATES),), dim=1)[0],
        [(3, 5)]),
}


@pytest.mark.parametrize("name", sorted(ARRAY_FUNCTIONS))
def test_array_functions_match_torch(name):
    ours, theirs, shapes = ARRAY_FUNCTIONS[name]
    rng = np.random.default_rng(6)
    _compare(ours, theirs, [rng.standard_normal(s) for s in shapes], rng)


def test_nanquantile_of_slices_with_nans_matches_torch():
    data = np.array([[0.3, np.nan, 0.7, 0.1, -1.0], [2.0, np.nan, np.nan, 0.5, 1.5],
                     [0.2, 0.4, 0.9, -0.3, 0.0]])
    q = [0.2, 0.5, 0.75]
    _compare(lambda x: gg.nanquantile(x, q, axis=1),
             lambda x: torch.nanquantile(x, torch.tensor(q, dtype=torch.float64), dim=1),
             [data], np.random.default_rng(7))


def test_eigh_gradient_is_torchs_symmetric_part_made_lower():
    """As cholesky's: PyTorch gives the symmetric part S of the gradient on a leaf; graphgrad,
    reading the lower triangle as numpy does, 2 S below the diagonal, S on it, 0 above."""
    rng = np.random.default_rng(9)
    m = rng.standard_normal((3, 3))
    a = m @ m.T + np.diag([1.0, 2.0, 3.0])
    w = rng.standard_normal((3, 3))
    A, T = gg.Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    v, tv = gg.linalg.eigh(A).eigenvectors, torch.linalg.eigh(T).eigenvectors
    (v * v[:1] * w).sum().backward()
    (tv * tv[:1] * torch.tensor(w)).sum().backward()
    S = T.grad.numpy()
    np.testing.assert_allclose(S, S.T, rtol=1e-10)
    np.testing.assert_allclose(A.grad, np.tril(2 * S, -1) + np.diag(np.diag(S)), rtol=1e-9,
                               atol=1e-12)


def test_eigenvectors_of_a_repeated_eigenvalue_torch_gives_nan_graphgrad_refuses():
    a = np.diag([1.0, 1.0, 3.0])
    w = np.arange(9.0).reshape(3, 3)
    T = torch.tensor(a, requires_grad=True)
    (torch.linalg.eigh(T).eigenvectors * torch.tensor(w)).sum().backward()
    assert not np.isfinite(T.grad.numpy()).all()
    A = gg.Tensor(a, requires_grad=True, name="A")
    with pytest.raises(gg.LinAlgError, match=r"eigenvalues 1 and 1 are repeated"):
        (gg.linalg.eigh(A).eigenvectors * w).sum().backward()


# -- whole programs: a GP's hyperparameters, PCA's subspace, data with holes ----------------------
def _gp_nlml(log_ell, log_noise, x, y, exp, cholesky, solve_lower, logdet, eye):
    """A GP's negative log marginal likelihood, written once for both frameworks."""
    K = exp(-0.5 * (x[:, None] - x[None, :]) ** 2 * exp(-2 * log_ell))
    K = K + exp(2 * log_noise) * eye
    alpha = solve_lower(cholesky(K), y[:, None])
    return 0.5 * (alpha ** 2).sum() + 0.5 * logdet(K) + 0.5 * len(y) * np.log(2 * np.pi)


def test_gp_marginal_likelihoods_gradient_and_hessian_match_torch():
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(-3, 3, 15))
    y = np.sin(x) + 0.1 * rng.standard_normal(15)
    p = gg.Tensor(np.array([0.3, -1.2]), requires_grad=True)
    J = _gp_nlml(p[0], p[1], x, y, gg.exp, gg.linalg.cholesky, gg.linalg.solve,
                 lambda K: gg.linalg.slogdet(K)[1], np.eye(15))
    tp = torch.tensor([0.3, -1.2], dtype=torch.float64, requires_grad=True)
    TJ = _gp_nlml(tp[0], tp[1], torch.tensor(x), torch.tensor(y), torch.exp,
                  torch.linalg.cholesky,
                  lambda L, b: torch.linalg.solve_triangular(L, b, upper=False),
                  lambda K: torch.linalg.slogdet(K)[1], torch.eye(15, dtype=torch.float64))
    assert J.item() == pytest.approx(TJ.item(), rel=1e-12)
    (g,) = gg.grad(J, [p], create_graph=True)
    (tg,) = torch.autograd.grad(TJ, [tp], create_graph=True)
    np.testing.assert_allclose(g.data, tg.detach().numpy(), rtol=1e-10)
    H = np.stack([gg.grad(g[i], [p], retain_graph=i == 0)[0] for i in range(2)])
    TH = np.stack([torch.autograd.grad(tg[i], [tp], retain_graph=True)[0].numpy()
                   for i in range(2)])
    np.testing.assert_allclose(H, TH, rtol=1e-9)


def test_pca_reconstruction_errors_gradient_in_the_data_matches_torch():
    """The error of a rank-2 reconstruction by eigh of the covariance, through the top
    eigenvectors of a rank-deficient covariance (more pixels than examples)."""
    X = np.random.default_rng(1).standard_normal((6, 9))

    def error(X, cov, eigh):
        Xc = X - X.mean(0)
        Vk = eigh(cov(X))[1][:, -2:]
        return ((Xc - Xc @ Vk @ Vk.T) ** 2).sum()

    Xt = gg.Tensor(X, requires_grad=True)
    J = error(Xt, lambda a: gg.cov(a, rowvar=False), gg.linalg.eigh)
    tX = torch.tensor(X, requires_grad=True)
    TJ = error(tX, lambda a: torch.cov(a.T), torch.linalg.eigh)
    assert J.item() == pytest.approx(TJ.item(), rel=1e-10)
    J.backward()
    TJ.backward()
    np.testing.assert_allclose(Xt.grad, tX.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_standardising_around_holes_matches_torch_and_nan_to_num_after_dividing_gives_nan():
    """Filling the holes before dividing by nanstd keeps NaN out of the gradient, in both;
    nan_to_num after the division lets the holes' 0 * NaN reach the scale's gradient, in
    both, so every observed value's gradient is NaN."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((12, 3))
    holes = rng.random((12, 3)) < 0.25
    X[holes] = np.nan
    w = rng.standard_normal((3, 1))

    def filled_first(X, where, nanmean, nanstd, zero, w):
        centred = X - nanmean(X)
        return (((where(holes_of(X), zero, centred) / nanstd(X)) @ w) ** 2).sum()

    def holes_of(X):
        return torch.isnan(X) if isinstance(X, torch.Tensor) else np.isnan(X.data)

    def torch_nanstd(X):  # torch has no nanstd; its holes are filled before squaring, too
        centred = torch.where(torch.isnan(X), 0.0, X - X.nanmean(0))
        return ((centred ** 2).sum(0) / (~torch.isnan(X)).sum(0)).sqrt()

    Xt = gg.Tensor(X, requires_grad=True)
    filled_first(Xt, gg.where, lambda a: gg.nanmean(a, axis=0), lambda a: gg.nanstd(a, axis=0),
                 0.0, w).backward()
    tX = torch.tensor(X, requires_grad=True)
    filled_first(tX, torch.where, lambda a: a.nanmean(0), torch_nanstd,
                 torch.tensor(0.0, dtype=torch.float64), torch.tensor(w)).backward()
    np.testing.assert_allclose(Xt.grad, tX.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert np.isfinite(Xt.grad).all() and (Xt.grad[holes] == 0).all()
    Xt = gg.Tensor(X, requires_grad=True)
    Z = gg.nan_to_num((Xt - gg.nanmean(Xt, axis=0)) / gg.nanstd(Xt, axis=0))
    gg.sum(Z @ w).backward()
    tX = torch.tensor(X, requires_grad=True)
    (torch.nan_to_num((tX - tX.nanmean(0)) / torch_nanstd(tX)) @ torch.tensor(w)).sum().backward()
    assert np.isnan(Xt.grad[~holes]).all() and torch.isnan(tX.grad[torch.tensor(~holes)]).all()


def test_cond_of_a_stack_with_a_singular_matrix_and_matrix_rank_are_torchs():
    """torch.linalg.cond's inf at a singular matrix (no inverse), its values and gradient at
    the invertible ones (through its definition: torch's own backward of these ords fails),
    and torch.linalg.matrix_rank's counts."""
    rng = np.random.default_rng(9)
    good = _invertible(rng, (3, 3))
    stack = np.stack([np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 1.0]]), good])
    for p in (1, -np.inf, "fro", "nuc"):
        X = gg.Tensor(stack, requires_grad=True)
        r = gg.linalg.cond(X, p)
        theirs = torch.linalg.cond(torch.tensor(stack), p).numpy()
        np.testing.assert_allclose(r.data[1], theirs[1], rtol=1e-12)
        # "nuc": torch's sum(s) * sum(1 / s) of the rounding-sized singular value is 1e16,
        # numpy's SVD of the inverse's NaNs fails; graphgrad's is the other norms' inf
        assert r.data[0] == np.inf and (theirs[0] == np.inf or p == "nuc")
        r[1].backward()
        t = torch.tensor(good, requires_grad=True)
        np.testing.assert_allclose(_torch_cond(t, p).item(),
                                   torch.linalg.cond(t.detach(), p).item(), rtol=1e-12)
        _torch_cond(t, p).backward()
        np.testing.assert_allclose(X.grad[1], t.grad.numpy(), rtol=1e-10, err_msg=str(p))
        np.testing.assert_array_equal(X.grad[0], np.zeros((3, 3)))
    low = rng.standard_normal((3, 4, 2)) @ rng.standard_normal((3, 2, 5))
    low[2] = 0.0
    for kwargs in ({}, {"rtol": 0.5}, {"hermitian": False}):
        np.testing.assert_array_equal(gg.linalg.matrix_rank(low, **kwargs).data,
                                      torch.linalg.matrix_rank(torch.tensor(low), **kwargs))


# -- derivatives of a function: gg.functional against torch.autograd.functional ------------------
def _two_in_two_out(lib):
    """f(W, x) = (tanh(W @ x), sum(softmax(x) * sin(x))), on either library."""
    if lib is gg:
        return lambda W, x: (gg.tanh(W @ x), (gg.softmax(x) * gg.sin(x)).sum())
    return lambda W, x: (torch.tanh(W @ x), (torch.softmax(x, 0) * torch.sin(x)).sum())


def _cost(lib):
    """A single number of (W, x): sum(tanh(W @ x) ** 2) * sum(x ** 3)."""
    if lib is gg:
        return lambda W, x: (gg.tanh(W @ x) ** 2).sum() * (x**3).sum()
    return lambda W, x: (torch.tanh(W @ x) ** 2).sum() * (x**3).sum()


def _same_tree(ours, theirs):
    """The same nesting of tuples, and the same values at each leaf (torch's forward-mode
    jacobian nests in lists)."""
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _same_tree(a, b)
        return
    assert isinstance(ours, gg.Tensor) and ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("tuple_inputs", [True, False])
def test_functional_derivatives_match_torch_autograd_functional(tuple_inputs):
    from torch.autograd import functional as F

    rng = np.random.default_rng(0)
    W, x = rng.standard_normal((2, 3)), rng.standard_normal(3)
    u, vW, vx = rng.standard_normal(2), rng.standard_normal((2, 3)), rng.standard_normal(3)
    T = torch.from_numpy
    if tuple_inputs:
        ours_in, theirs_in = (W, x), (T(W), T(x))
        f = {lib: _two_in_two_out(lib) for lib in (gg, torch)}
        c = {lib: _cost(lib) for lib in (gg, torch)}
        v_in, tv_in = (vW, vx), (T(vW), T(vx))
    else:  # one input: x, W fixed
        ours_in, theirs_in = x, T(x)
        f = {gg: lambda x: _two_in_two_out(gg)(gg.Tensor(W), x),
             torch: lambda x: _two_in_two_out(torch)(T(W), x)}
        c = {gg: lambda x: _cost(gg)(gg.Tensor(W), x), torch: lambda x: _cost(torch)(T(W), x)}
        v_in, tv_in = vx, T(vx)
    v_out, tv_out = (u, np.array(0.7)), (T(u), torch.tensor(0.7, dtype=torch.float64))
    _same_tree(gg.jacobian(f[gg], ours_in), F.jacobian(f[torch], theirs_in))
    _same_tree(gg.hessian(c[gg], ours_in), F.hessian(c[torch], theirs_in))
    forward = {"vectorize": True, "strategy": "forward-mode"}
    _same_tree(gg.jacobian(f[gg], ours_in, **forward), F.jacobian(f[torch], theirs_in, **forward))
    outer = {"vectorize": True, "outer_jacobian_strategy": "forward-mode"}
    _same_tree(gg.hessian(c[gg], ours_in, **outer), F.hessian(c[torch], theirs_in, **outer))
    _same_tree(gg.vjp(f[gg], ours_in, v_out), F.vjp(f[torch], theirs_in, tv_out))
    _same_tree(gg.jvp(f[gg], ours_in, v_in), F.jvp(f[torch], theirs_in, tv_in))
    _same_tree(gg.vhp(c[gg], ours_in, v_in), F.vhp(c[torch], theirs_in, tv_in))
    _same_tree(gg.hvp(c[gg], ours_in, v_in), F.hvp(c[torch], theirs_in, tv_in))


def test_functional_strict_refuses_what_torchs_refuses():
    from torch.autograd import functional as F

    x, y = np.ones(3), np.ones(2)
    cases = [  # (function, graphgrad's func, torch's func, its v)
        ("jacobian", lambda a, b: (a * 2.0, a.sum() * b), lambda a, b: (a * 2.0, a.sum() * b),
         None),
        ("hessian", lambda a, b: (a**2).sum() + (b**2).sum(),
         lambda a, b: (a**2).sum() + (b**2).sum(), None),
        ("hessian", lambda a, b: (a**2).sum() + b.sum(), lambda a, b: (a**2).sum() + b.sum(),
         None),
        ("vjp", lambda a, b: a * 2.0, lambda a, b: a * 2.0, np.ones(3)),
        ("jvp", lambda a, b: a * 2.0, lambda a, b: a * 2.0, (x, y)),
        ("vhp", lambda a, b: (a**3).sum(), lambda a, b: (a**3).sum(), (x, y)),
        ("hvp", lambda a, b: (a**3).sum(), lambda a, b: (a**3).sum(), (x, y)),
    ]
    for name, ours, theirs, v in cases:
        extra = () if v is None else (v,)
        textra = () if v is None else (
            tuple(torch.from_numpy(a) for a in v) if isinstance(v, tuple)
            else torch.from_numpy(v),)
        with pytest.raises(RuntimeError):
            getattr(F, name)(theirs, (torch.from_numpy(x), torch.from_numpy(y)), *textra,
                             strict=True)
        with pytest.raises(gg.BackwardError):
            getattr(gg, name)(ours, (x, y), *extra, strict=True)
        # and both give zeros without strict
        _same_tree(getattr(gg, name)(ours, (x, y), *extra),
                   getattr(F, name)(theirs, (torch.from_numpy(x), torch.from_numpy(y)),
                                    *textra))
def test_erf_erfc_and_gelu_are_torchs_over_the_whole_line():
    """Within 2 units of the last place of torch.erf and torch.erfc (both fdlibm's, in
    different orders of operations) from -30 to 30, tails and NaN included; gelu within
    rounding of F.gelu, exact and tanh, value and slope: absolutely in the negative tail,
    where torch's exact form, 0.5 x (1 + erf(x / sqrt(2))), cancels (to 0 below x = -8.3)
    and graphgrad's, by erfc, does not."""
    x = np.concatenate([np.linspace(-30.0, 30.0, 60001), [0.0, -0.0, np.inf, -np.inf, np.nan]])
    for ours, theirs in ((gg.erf, torch.erf), (gg.erfc, torch.erfc)):
        got, want = ours(x).data, theirs(torch.tensor(x)).numpy()
        assert np.array_equal(np.isnan(got), np.isnan(want))
        finite = ~np.isnan(want)
        units = np.abs(got - want)[finite] / np.spacing(np.abs(want[finite]))
        assert units.max() <= 2
    F = torch.nn.functional
    z = np.linspace(-40.0, 40.0, 8001)
    for form in ("none", "tanh"):
        x_t, t = gg.Tensor(z, requires_grad=True), torch.tensor(z, requires_grad=True)
        y, ty = gg.gelu(x_t, approximate=form), F.gelu(t, approximate=form)
        y.sum().backward()
        ty.sum().backward()
        np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(x_t.grad, t.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_erfinv_is_torchs_with_its_gradients():
    """Values within 2 units of the last place of torch.erfinv's over (-1, 1), near +-1 too
    (1 at most, found), +-inf at +-1, NaN beyond; first and second derivatives."""
    x = np.concatenate([np.linspace(-1.0, 1.0, 20001), 1 - 2.0 ** -np.arange(1, 54),
                        [1.5, -3.0, np.nan]])
    got, want = gg.erfinv(x).data, torch.erfinv(torch.tensor(x)).numpy()
    assert np.array_equal(np.isnan(got), np.isnan(want))
    finite = np.isfinite(want)
    np.testing.assert_array_equal(got[~finite], want[~finite])
    units = np.abs(got[finite] - want[finite]) / np.spacing(np.abs(want[finite]))
    assert units.max() <= 2
    z = np.linspace(-0.999, 0.999, 101)
    x_t, t = gg.Tensor(z, requires_grad=True), torch.tensor(z, requires_grad=True)
    (d1,) = gg.grad(gg.erfinv(x_t).sum(), [x_t], create_graph=True)
    (t1,) = torch.autograd.grad(torch.erfinv(t).sum(), [t], create_graph=True)
    np.testing.assert_allclose(d1.data, t1.detach().numpy(), rtol=1e-13)
    (d2,) = gg.grad(d1.sum(), [x_t])
    (t2,) = torch.autograd.grad(t1.sum(), [t])
    np.testing.assert_allclose(d2.data, t2.numpy(), rtol=1e-13, atol=1e-15)


def test_gradient_hooks_match_torch():
    """Hooks on an intermediate used twice (clipping), on a leaf (scaling) and on the root, in
    backward, in gg.grad / torch.autograd.grad, and under create_graph (a hook multiplying by
    a parameter, which the second derivative goes through)."""
    rng = np.random.default_rng(11)
    x0, w0 = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))

    def run(lib, x, w):
        z = x @ w
        a = lib.tanh(z) if lib is torch else gg.tanh(z)
        if lib is torch:
            z.register_hook(lambda g: g.clamp(-0.3, 0.3))
        else:
            z.register_hook(lambda g: np.clip(g, -0.3, 0.3))
        w.register_hook(lambda g: g * 0.5)
        J = (a * a).sum() + (z * 3.0).sum()
        J.register_hook(lambda g: g * 2.0)
        return J

    x, w = gg.Tensor(x0, requires_grad=True), gg.Tensor(w0, requires_grad=True)
    xt, wt = torch.tensor(x0, requires_grad=True), torch.tensor(w0, requires_grad=True)
    J, Jt = run(gg, x, w), run(torch, xt, wt)
    ours = gg.grad(J, [x, w], retain_graph=True)
    theirs = torch.autograd.grad(Jt, [xt, wt], retain_graph=True)
    for g, gt in zip(ours, theirs):
        np.testing.assert_allclose(g, gt.numpy(), rtol=1e-12)
    J.backward()
    Jt.backward()
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(w.grad, wt.grad.numpy(), rtol=1e-12)

    def second_order(grad, scale, t):
        y = (t * scale) ** 3
        y.register_hook(lambda g: g * scale)  # recorded: d/d(scale) goes through it
        (first,) = grad(y.sum(), [t], create_graph=True)
        return grad((first ** 2).sum(), [t, scale])

    ours = second_order(gg.grad, gg.Tensor(1.5, requires_grad=True),
                        gg.Tensor(x0, requires_grad=True))
    theirs = second_order(torch.autograd.grad,
                          torch.tensor(1.5, dtype=torch.float64, requires_grad=True),
                          torch.tensor(x0, requires_grad=True))
    for g, gt in zip(ours, theirs):
        np.testing.assert_allclose(g, gt.numpy(), rtol=1e-12)


def test_forward_hooks_match_torch():
    """A pre-hook doubling the input and a forward hook adding 1 to a linear layer's output."""
    rng = np.random.default_rng(12)
    X = rng.standard_normal((5, 3))
    ours = gg.nn.Linear(3, 2, rng=0)
    theirs = torch.nn.Linear(3, 2).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.W.data))
        theirs.bias.copy_(torch.tensor(ours.b.data))
    for layer in (ours, theirs):
        layer.register_forward_pre_hook(lambda m, inputs: (inputs[0] * 2.0,))
        layer.register_forward_hook(lambda m, inputs, out: out + 1.0)
    out, out_t = ours(X), theirs(torch.tensor(X))
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), rtol=1e-12)
    (out ** 2).sum().backward()
    (out_t ** 2).sum().backward()
    np.testing.assert_allclose(ours.W.grad, theirs.weight.grad.numpy(), rtol=1e-12)


def test_functional_call_parameter_vectors_and_retain_grad_match_torch():
    """The Hessian of a two-layer model's cost in its first weights through functional_call
    (torch.func.functional_call), parameters_to_vector's order and gradients, and an
    intermediate's retained gradient in a backward that keeps only the leaves'."""
    rng = np.random.default_rng(13)
    X, Y = rng.standard_normal((6, 3)), (rng.random((6, 1)) < 0.5).astype(float)
    model = gg.nn.Sequential(gg.nn.Linear(3, 2, rng=0), gg.nn.Tanh(), gg.nn.Linear(2, 1, rng=1))
    twin = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Tanh(), torch.nn.Linear(2, 1))
    twin = twin.double()
    with torch.no_grad():
        for p, pt in zip(model.parameters(), twin.parameters()):
            pt.copy_(torch.tensor(p.data))
    Xt, Yt = torch.tensor(X), torch.tensor(Y)

    H = gg.hessian(lambda W: gg.nn.binary_cross_entropy_with_logits(
        gg.nn.functional_call(model, {"linear1.W": W}, (X,)), Y), model.linear1.W)
    Ht = torch.autograd.functional.hessian(
        lambda W: torch.nn.functional.binary_cross_entropy_with_logits(
            torch.func.functional_call(twin, {"0.weight": W}, (Xt,)), Yt), twin[0].weight)
    np.testing.assert_allclose(H.data, Ht.numpy(), rtol=1e-10, atol=1e-14)

    c = rng.standard_normal(11)
    v = gg.nn.parameters_to_vector(model.parameters())
    vt = torch.nn.utils.parameters_to_vector(twin.parameters())
    np.testing.assert_allclose(v.data, vt.detach().numpy(), rtol=1e-15)
    (v * c).sum().backward()
    (vt * torch.tensor(c)).sum().backward()
    for p, pt in zip(model.parameters(), twin.parameters()):
        np.testing.assert_allclose(p.grad, pt.grad.numpy(), rtol=1e-15)
    gg.nn.vector_to_parameters(c, model.parameters())
    torch.nn.utils.vector_to_parameters(torch.tensor(c), twin.parameters())
    for p, pt in zip(model.parameters(), twin.parameters()):
        np.testing.assert_array_equal(p.data, pt.detach().numpy())

    Z, Zt = model.linear1(X), twin[0](Xt)
    Z.retain_grad()
    Zt.retain_grad()
    gg.nn.binary_cross_entropy_with_logits(model.linear2(gg.tanh(Z)), Y).backward(
        keep_intermediate_grads=False)
    torch.nn.functional.binary_cross_entropy_with_logits(twin[2](torch.tanh(Zt)), Yt).backward()
    np.testing.assert_allclose(Z.grad, Zt.grad.numpy(), rtol=1e-10, atol=1e-16)
    assert Z.retains_grad and Zt.retains_grad
# -- optimizers' options ---------------------------------------------------------------------
# -- optimizers' options and schedules ------------------------------------------------------------
_OPTIM_RNG = np.random.default_rng(21)
_OPTIM_W0 = _OPTIM_RNG.standard_normal((4, 3))
# Gradients that shrink after the first steps, so that AMSGrad's maximum is not s_dW.
_OPTIM_GRADS = [_OPTIM_RNG.standard_normal((4, 3)) * scale
                for scale in (3.0, 2.0, 0.1, 0.05, 1.0, 0.02, 0.5)]

# (graphgrad's optimizer, torch's with the same settings): SGD's course momentum takes
# PyTorch's lr as alpha (1 - beta), as SGD's docstring says.
_OPTIMIZERS = {
    "nesterov": (lambda p: gg.optim.SGD(p, lr=0.5, momentum=0.8, nesterov=True,
                                        weight_decay=0.01),
                 lambda p: torch.optim.SGD(p, lr=0.5 * (1 - 0.8), momentum=0.8, nesterov=True,
                                           weight_decay=0.01)),
    "adam_amsgrad": (lambda p: gg.optim.Adam(p, lr=0.01, beta1=0.8, beta2=0.99, eps=1e-7,
                                             weight_decay=0.02, amsgrad=True),
                     lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-7,
                                                weight_decay=0.02, amsgrad=True)),
    "adamw_amsgrad": (lambda p: gg.optim.AdamW(p, lr=0.01, beta2=0.99, weight_decay=0.1,
                                               amsgrad=True),
                      lambda p: torch.optim.AdamW(p, lr=0.01, betas=(0.9, 0.99),
                                                  weight_decay=0.1, amsgrad=True)),
    "adagrad": (lambda p: gg.optim.Adagrad(p, lr=0.1, weight_decay=0.05,
                                           initial_accumulator_value=0.2),
                lambda p: torch.optim.Adagrad(p, lr=0.1, weight_decay=0.05,
                                              initial_accumulator_value=0.2)),
    "sgd_dampening": (lambda p: gg.optim.SGD(p, lr=0.5, momentum=0.8, dampening=0.3,
                                             weight_decay=0.01),
                      lambda p: torch.optim.SGD(p, lr=0.5 * (1 - 0.8), momentum=0.8,
                                                dampening=0.3, weight_decay=0.01)),
    "sgd_maximize": (lambda p: gg.optim.SGD(p, lr=0.5, momentum=0.8, nesterov=True,
                                            weight_decay=0.01, maximize=True),
                     lambda p: torch.optim.SGD(p, lr=0.5 * (1 - 0.8), momentum=0.8,
                                               nesterov=True, weight_decay=0.01, maximize=True)),
    "rmsprop_centered_momentum": (
        lambda p: gg.optim.RMSprop(p, lr=0.01, beta=0.95, eps=1e-7, weight_decay=0.02,
                                   momentum=0.7, centered=True, maximize=True),
        lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.95, eps=1e-7, weight_decay=0.02,
                                      momentum=0.7, centered=True, maximize=True)),
    "rmsprop_momentum": (lambda p: gg.optim.RMSprop(p, lr=0.01, momentum=0.9),
                         lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, momentum=0.9)),
    "adagrad_lr_decay": (lambda p: gg.optim.Adagrad(p, lr=0.1, weight_decay=0.05, lr_decay=0.3,
                                                    maximize=True),
                         lambda p: torch.optim.Adagrad(p, lr=0.1, weight_decay=0.05,
                                                       lr_decay=0.3, maximize=True)),
    "adam_maximize": (lambda p: gg.optim.Adam(p, lr=0.01, weight_decay=0.02, maximize=True),
                      lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.02, maximize=True)),
    "adamw_maximize": (lambda p: gg.optim.AdamW(p, lr=0.01, weight_decay=0.1, amsgrad=True,
                                                maximize=True),
                       lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1, amsgrad=True,
                                                   maximize=True)),
    # Adam's and RMSprop's variants: betas as beta1, beta2; Adadelta's rho as beta.
    "adamax": (lambda p: gg.optim.Adamax(p, lr=0.01, beta1=0.8, beta2=0.99, weight_decay=0.02,
                                         maximize=True),
               lambda p: torch.optim.Adamax(p, lr=0.01, betas=(0.8, 0.99), weight_decay=0.02,
                                            maximize=True)),
    "nadam": (lambda p: gg.optim.NAdam(p, lr=0.01, beta1=0.8, beta2=0.99, weight_decay=0.02,
                                       momentum_decay=0.01),
              lambda p: torch.optim.NAdam(p, lr=0.01, betas=(0.8, 0.99), weight_decay=0.02,
                                          momentum_decay=0.01)),
    # beta2 = 0.9: rho_t passes 5 at t = 6, so both of RAdam's steps are compared.
    "radam": (lambda p: gg.optim.RAdam(p, lr=0.01, beta2=0.9, weight_decay=0.02, maximize=True),
              lambda p: torch.optim.RAdam(p, lr=0.01, betas=(0.9, 0.9), weight_decay=0.02,
                                          maximize=True)),
    "adadelta": (lambda p: gg.optim.Adadelta(p, lr=0.5, beta=0.8, weight_decay=0.02),
                 lambda p: torch.optim.Adadelta(p, lr=0.5, rho=0.8, weight_decay=0.02)),
    # PyTorch's NAdamW and RAdamW: the decay of W itself.
    "nadam_decoupled": (lambda p: gg.optim.NAdam(p, lr=0.01, weight_decay=0.1,
                                                 decoupled_weight_decay=True, maximize=True),
                        lambda p: torch.optim.NAdam(p, lr=0.01, weight_decay=0.1,
                                                    decoupled_weight_decay=True, maximize=True)),
    "radam_decoupled": (lambda p: gg.optim.RAdam(p, lr=0.01, beta2=0.9, weight_decay=0.1,
                                                 decoupled_weight_decay=True),
                        lambda p: torch.optim.RAdam(p, lr=0.01, betas=(0.9, 0.9),
                                                    weight_decay=0.1,
                                                    decoupled_weight_decay=True)),
    # Rprop's etas and step_sizes as eta_minus, eta_plus, step_size_min, step_size_max.
    "rprop": (lambda p: gg.optim.Rprop(p, lr=0.05, eta_minus=0.4, eta_plus=1.3,
                                       step_size_min=0.01, step_size_max=0.3),
              lambda p: torch.optim.Rprop(p, lr=0.05, etas=(0.4, 1.3), step_sizes=(0.01, 0.3))),
    "rprop_maximize": (lambda p: gg.optim.Rprop(p, maximize=True),
                       lambda p: torch.optim.Rprop(p, maximize=True)),
    "asgd": (lambda p: gg.optim.ASGD(p, lr=0.05, lambd=0.1, alpha=0.6, t0=2, weight_decay=0.02),
             lambda p: torch.optim.ASGD(p, lr=0.05, lambd=0.1, alpha=0.6, t0=2,
                                        weight_decay=0.02)),
    "asgd_maximize": (lambda p: gg.optim.ASGD(p, lr=0.05, maximize=True),
                      lambda p: torch.optim.ASGD(p, lr=0.05, maximize=True)),
}


@pytest.fixture
def torch_float64_default():
    """torch's default dtype float64 for the test: NAdam keeps its product of the mu_t in it
    (float32 otherwise, graphgrad's is a Python float)."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


@pytest.mark.parametrize("name", _OPTIMIZERS)
def test_optimizer_options_step_as_torchs(name, torch_float64_default):
    ours, theirs = _OPTIMIZERS[name]
    W = gg.Tensor(_OPTIM_W0.copy(), requires_grad=True)
    Wt = torch.tensor(_OPTIM_W0.copy(), requires_grad=True)
    opt, opt_t = ours([W]), theirs([Wt])
    for g in _OPTIM_GRADS:
        W.grad = g
        Wt.grad = torch.tensor(g)
        opt.step()
        opt_t.step()
        np.testing.assert_allclose(W.data, Wt.detach().numpy(), rtol=1e-12, atol=1e-14)
    if name.startswith("asgd"):  # the average too, and the rate of the next step
        saved = opt_t.state[Wt]
        np.testing.assert_allclose(opt.averaged(W), saved["ax"].numpy(), rtol=1e-12)
        assert float(opt.state[0]["eta"]) == saved["eta"].item()
        assert float(opt.state[0]["mu"]) == saved["mu"].item()
    if name.startswith("rprop"):
        np.testing.assert_array_equal(opt.state[0]["step_size"],
                                      opt_t.state[Wt]["step_size"].numpy())
    if "amsgrad" in name:
        saved = opt_t.state[Wt]
        np.testing.assert_allclose(opt.state[0]["s_max"], saved["max_exp_avg_sq"].numpy(),
                                   rtol=1e-12)
        assert not np.allclose(opt.state[0]["s_max"], opt.state[0]["s"])


@pytest.mark.parametrize("decoupled", [False, True], ids=["L2", "decoupled"])
def test_nadam_with_beta1_and_momentum_decay_changed_between_steps_steps_as_torchs(
        decoupled, torch_float64_default):
    """PyTorch multiplies each step's mu_t, with that step's beta1 and momentum_decay, into
    the product it keeps (mu_product): so does NAdam, a group added later from its own 1."""
    W = gg.Tensor(_OPTIM_W0.copy(), requires_grad=True)
    b = gg.Tensor(_OPTIM_W0[0].copy(), requires_grad=True)
    Wt = torch.tensor(_OPTIM_W0.copy(), requires_grad=True)
    bt = torch.tensor(_OPTIM_W0[0].copy(), requires_grad=True)
    opt = gg.optim.NAdam([W], lr=0.01, beta2=0.99, weight_decay=0.02,
                         decoupled_weight_decay=decoupled)
    opt_t = torch.optim.NAdam([Wt], lr=0.01, betas=(0.9, 0.99), weight_decay=0.02,
                              decoupled_weight_decay=decoupled)
    for t, g in enumerate(_OPTIM_GRADS):
        if t == 2:
            opt.add_param_group({"params": [b], "beta1": 0.6})
            opt_t.add_param_group({"params": [bt], "betas": (0.6, 0.99)})
        beta1, decay = 0.95 - 0.05 * (t % 4), 4e-3 * (1 + t % 3)
        opt.beta1, opt.momentum_decay = beta1, decay
        opt_t.param_groups[0]["betas"] = (beta1, 0.99)
        for group in opt_t.param_groups:
            group["momentum_decay"] = decay
        W.grad, Wt.grad = g, torch.tensor(g)
        b.grad, bt.grad = g[1] * 3.0, torch.tensor(g[1] * 3.0)
        opt.step()
        opt_t.step()
        np.testing.assert_allclose(W.data, Wt.detach().numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(b.data, bt.detach().numpy(), rtol=1e-12, atol=1e-14)
    state = opt.state_dict()
    for i, p in enumerate((Wt, bt)):
        assert float(state[f"state.{i}.mu_product"]) == pytest.approx(
            opt_t.state[p]["mu_product"].item(), rel=1e-14)


@pytest.mark.parametrize("kind", ["NAdam", "RAdam", "Adamax"])
def test_nadam_radam_and_adamax_count_steps_per_parameter_as_torchs(kind, torch_float64_default,
                                                                    tmp_path):
    """PyTorch counts each parameter's steps (state["step"], and NAdam's mu_product) from its
    first gradient: a parameter without a gradient at some steps, one whose first gradient
    comes late, and one in a group added later each take torch's updates; resumed through a
    file halfway, the same."""
    ours = {"Adamax": lambda ps: gg.optim.Adamax(ps, lr=0.01, weight_decay=0.02),
            "NAdam": lambda ps: gg.optim.NAdam(ps, lr=0.01, beta2=0.9, weight_decay=0.02),
            "RAdam": lambda ps: gg.optim.RAdam(ps, lr=0.01, beta2=0.9, weight_decay=0.02)}
    theirs = {"Adamax": lambda ps: torch.optim.Adamax(ps, lr=0.01, weight_decay=0.02),
              "NAdam": lambda ps: torch.optim.NAdam(ps, lr=0.01, betas=(0.9, 0.9),
                                                    weight_decay=0.02),
              "RAdam": lambda ps: torch.optim.RAdam(ps, lr=0.01, betas=(0.9, 0.9),
                                                    weight_decay=0.02)}
    starts = [_OPTIM_W0.copy(), _OPTIM_W0[0].copy(), _OPTIM_W0[1].copy(), _OPTIM_W0[2].copy()]
    ps = [gg.Tensor(x.copy(), requires_grad=True) for x in starts]
    pts = [torch.tensor(x.copy(), requires_grad=True) for x in starts]
    opt, opt_t = ours[kind](ps[:3]), theirs[kind](pts[:3])
    # Which parameters have a gradient at each step: 1 skips steps, 2 starts late, 3 is added
    # at step 3 in a group of its own.
    has = [{0, 1}, {0}, {0, 1}, {0, 2, 3}, {0, 1, 2, 3}, {0, 2, 3}, {0, 1, 2, 3}] * 2
    for t, which in enumerate(has):
        if t == 3:
            opt.add_param_group({"params": [ps[3]]})
            opt_t.add_param_group({"params": [pts[3]]})
        if t == 7:  # resumed from a file: a new optimizer with the same groups
            gg.save(opt.state_dict(), tmp_path / "opt.npz")
            opt = ours[kind](ps[:3])
            opt.add_param_group({"params": [ps[3]]})
            opt.load_state_dict(gg.load(tmp_path / "opt.npz"))
        g = _OPTIM_GRADS[t % len(_OPTIM_GRADS)]
        for i, (p, pt) in enumerate(zip(ps, pts)):
            grad = g if i == 0 else g[i] * (i + 1)
            p.grad = grad.copy() if i in which else None
            pt.grad = torch.tensor(grad.copy()) if i in which else None
        opt.step()
        opt_t.step()
        for p, pt in zip(ps, pts):
            np.testing.assert_allclose(p.data, pt.detach().numpy(), rtol=1e-12, atol=1e-14)


def _lbfgs_logistic(lib):
    """Logistic regression with a weight decay term, in graphgrad or torch: its parameters w
    (2, 1) and b (a scalar, 0-d: two parameters of two shapes in one flat vector) and cost."""
    rng = np.random.default_rng(5)
    Y = rng.integers(0, 2, size=(1, 60)).astype(np.float64)
    X = np.where(Y == 1, 1.0, -1.0) * np.array([[1.0], [0.5]]) + rng.standard_normal((2, 60))
    w0 = rng.standard_normal((2, 1))
    if lib is gg:
        w, b = gg.Tensor(w0, requires_grad=True), gg.Tensor(0.3, requires_grad=True)
        sigmoid, log = gg.sigmoid, gg.log
    else:
        w = torch.tensor(w0, requires_grad=True)
        b = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
        X, Y = torch.tensor(X), torch.tensor(Y)
        sigmoid, log = torch.sigmoid, torch.log

    def cost():
        A = sigmoid(w.T @ X + b)
        return -(Y * log(A) + (1 - Y) * log(1 - A)).mean() + 0.01 * (w * w).sum()
    return [w, b], cost


def _lbfgs_rosenbrock(lib):
    """Rosenbrock's function in 4-D from (-1.2, 1, -1.2, 1), whose curved valley makes the
    line search try several steps (38 evaluations for 25 iterations)."""
    x0 = np.array([-1.2, 1.0, -1.2, 1.0])
    x = gg.Tensor(x0, requires_grad=True) if lib is gg else torch.tensor(x0, requires_grad=True)

    def cost():
        return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()
    return [x], cost


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
@pytest.mark.parametrize("problem, settings", [
    (_lbfgs_logistic, {"lr": 0.8, "max_iter": 3}),
    (_lbfgs_logistic, {"lr": 0.8, "max_iter": 6, "history_size": 2}),
    (_lbfgs_rosenbrock, {"max_iter": 5, "history_size": 3})],
    ids=["logistic, 3 iterations", "logistic, a history of 2", "rosenbrock"])
def test_lbfgs_steps_as_torchs(problem, settings, line_search):
    """Six steps of a few iterations each (the memory carried from step to step, and
    forgetting its oldest pairs with a short history), float64: the same parameters after
    every step (to 3e-13 at most), the same losses returned, the same evaluations and
    iterations counted."""
    ours, cost = problem(gg)
    theirs, cost_t = problem(torch)
    opt = gg.optim.LBFGS(ours, line_search_fn=line_search, **settings)
    opt_t = torch.optim.LBFGS(theirs, line_search_fn=line_search, **settings)

    def closure(optimizer, cost):
        def evaluate():
            optimizer.zero_grad()
            J = cost()
            J.backward()
            return J
        return evaluate
    for _ in range(6):
        loss = opt.step(closure(opt, cost))
        loss_t = opt_t.step(closure(opt_t, cost_t))
        assert loss.item() == pytest.approx(loss_t.item(), rel=1e-12)
        for p, q in zip(ours, theirs):
            np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-10, atol=1e-12)
    state = opt_t.state[theirs[0]]
    assert (opt.memory.func_evals, opt.memory.n_iter) == (state["func_evals"], state["n_iter"])
    assert len(opt.memory.s) == len(state["old_stps"])
    np.testing.assert_allclose(opt.memory.d, state["d"].numpy(), rtol=1e-8, atol=1e-12)
    if problem is _lbfgs_rosenbrock and line_search:
        assert opt.memory.func_evals > opt.memory.n_iter + 6  # the line search did work

def _torch_rates(make_scheduler, epochs, costs=None):
    """The lr each epoch trains with in PyTorch's loop: train, then scheduler.step()."""
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1)
    scheduler = make_scheduler(opt)
    rates = []
    for epoch in range(epochs):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        if costs is None:
            scheduler.step()
        else:
            scheduler.step(costs[epoch])
    return rates


def test_multistep_decay_is_torchs_multisteplr():
    ours = gg.optim.MultiStepDecay(0.1, [6, 2, 6, 9], gamma=0.5)
    theirs = _torch_rates(
        lambda opt: torch.optim.lr_scheduler.MultiStepLR(opt, [6, 2, 6, 9], gamma=0.5), 12)
    np.testing.assert_allclose([ours(e) for e in range(12)], theirs, rtol=1e-14)


def test_warmup_is_torchs_linearlr_then_the_schedule_in_sequence():
    ours = gg.optim.Warmup(gg.optim.ExponentialDecay(0.1, rate=0.8), 4, start_factor=0.25)
    lrs = torch.optim.lr_scheduler
    theirs = _torch_rates(lambda opt: lrs.SequentialLR(
        opt, [lrs.LinearLR(opt, start_factor=0.25, total_iters=4), lrs.ExponentialLR(opt, 0.8)],
        milestones=[4]), 10)
    np.testing.assert_allclose([ours(e) for e in range(10)], theirs, rtol=1e-14)


@pytest.mark.parametrize("settings", [
    dict(total_steps=20), dict(total_steps=17, pct_start=0.25, anneal="linear", div_factor=10,
                               final_div_factor=100),
    dict(total_steps=7, pct_start=0.0), dict(total_steps=1)],
    ids=["cos", "linear", "no rise", "one step"])
def test_one_cycle_is_torchs_onecyclelr_without_its_momentum_cycle(settings):
    ours = gg.optim.OneCycle(0.5, **settings)
    theirs = dict(settings, anneal_strategy=settings.get("anneal", "cos"))
    theirs.pop("anneal", None)
    rates = _torch_rates(lambda opt: torch.optim.lr_scheduler.OneCycleLR(
        opt, 0.5, cycle_momentum=False, **theirs), settings["total_steps"])
    assert [ours(step) for step in range(settings["total_steps"])] == rates


@pytest.mark.parametrize("settings", [
    dict(step_size_up=3), dict(step_size_up=4, step_size_down=2, mode="triangular2"),
    dict(step_size_up=3, step_size_down=5, mode="exp_range", gamma=0.9)],
    ids=["triangular", "triangular2", "exp_range"])
def test_cyclic_is_torchs_cycliclr_without_its_momentum_cycle(settings):
    ours = gg.optim.Cyclic(0.01, 0.1, **settings)
    rates = _torch_rates(lambda opt: torch.optim.lr_scheduler.CyclicLR(
        opt, 0.01, 0.1, cycle_momentum=False, **settings), 30)
    np.testing.assert_allclose([ours(step) for step in range(30)], rates, rtol=1e-15)


def _torch_rates_and_momenta(make_scheduler, steps):
    """The lr and momentum of each step in PyTorch's loop (SGD with momentum)."""
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1, momentum=0.9)
    scheduler = make_scheduler(opt)
    seen = []
    for _ in range(steps):
        seen.append((opt.param_groups[0]["lr"], opt.param_groups[0]["momentum"]))
        opt.step()
        scheduler.step()
    return seen


_LRS = torch.optim.lr_scheduler


@pytest.mark.parametrize("ours, theirs, epochs", [
    (lambda: gg.optim.LambdaSchedule(0.1, lambda e: 0.9 ** e / (e + 1)),
     lambda opt: _LRS.LambdaLR(opt, lambda e: 0.9 ** e / (e + 1)), 12),
    (lambda: gg.optim.LinearSchedule(0.1, 0.25, 1.0, total=4),
     lambda opt: _LRS.LinearLR(opt, 0.25, 1.0, total_iters=4), 9),
    (lambda: gg.optim.LinearSchedule(0.1, 1.0, 0.1, total=7),
     lambda opt: _LRS.LinearLR(opt, 1.0, 0.1, total_iters=7), 12),
    (lambda: gg.optim.LinearSchedule(0.1), lambda opt: _LRS.LinearLR(opt), 9),
    (lambda: gg.optim.ConstantWarmup(0.1, 0.3, total=3),
     lambda opt: _LRS.ConstantLR(opt, 0.3, total_iters=3), 8),
    (lambda: gg.optim.ConstantWarmup(0.1), lambda opt: _LRS.ConstantLR(opt), 8),
    (lambda: gg.optim.PolynomialDecay(0.1, total=7, power=0.5),
     lambda opt: _LRS.PolynomialLR(opt, total_iters=7, power=0.5), 10),
    (lambda: gg.optim.PolynomialDecay(0.1), lambda opt: _LRS.PolynomialLR(opt), 8),
    (lambda: gg.optim.CosineWarmRestarts(0.1, 3, alpha_min=0.01),
     lambda opt: _LRS.CosineAnnealingWarmRestarts(opt, 3, eta_min=0.01), 40),
    (lambda: gg.optim.CosineWarmRestarts(0.1, 3, period_mult=2, alpha_min=0.01),
     lambda opt: _LRS.CosineAnnealingWarmRestarts(opt, 3, T_mult=2, eta_min=0.01), 200),
    (lambda: gg.optim.CosineWarmRestarts(0.1, 1, period_mult=3),
     lambda opt: _LRS.CosineAnnealingWarmRestarts(opt, 1, T_mult=3), 400),
    (lambda: gg.optim.Chain([gg.optim.ConstantWarmup(0.1, 0.5, total=2),
                             gg.optim.ExponentialDecay(0.1, 0.9),
                             gg.optim.StepDecay(0.1, 0.5, every=2)], [3, 6]),
     lambda opt: _LRS.SequentialLR(opt, [_LRS.ConstantLR(opt, 0.5, total_iters=2),
                                         _LRS.ExponentialLR(opt, 0.9),
                                         _LRS.StepLR(opt, 2, 0.5)], milestones=[3, 6]), 12),
    (lambda: gg.optim.Chain([gg.optim.LinearSchedule(0.1, 0.2, total=3),
                             gg.optim.CosineWarmRestarts(0.1, 3, period_mult=2)], [2]),
     lambda opt: _LRS.SequentialLR(opt, [_LRS.LinearLR(opt, 0.2, total_iters=3),
                                         _LRS.CosineAnnealingWarmRestarts(opt, 3, T_mult=2)],
                                   milestones=[2]), 30),
], ids=["LambdaLR", "LinearLR", "LinearLR down", "LinearLR defaults", "ConstantLR",
        "ConstantLR defaults", "PolynomialLR", "PolynomialLR defaults", "warm restarts",
        "warm restarts T_mult 2", "warm restarts T_mult 3", "SequentialLR",
        "SequentialLR to restarts"])
def test_the_torch_style_schedules_are_torchs_stepped_scheduler(ours, theirs, epochs):
    """Each epoch's rate as PyTorch's scheduler stepped after each epoch gives it: to 1e-15
    (LinearLR, ConstantLR and PolynomialLR multiply their rates into the last one, these
    compute the formula afresh), the others to the last bit."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SequentialLR's deprecation of step(epoch) inside it
        rates = _torch_rates(theirs, epochs)
    schedule = ours()
    np.testing.assert_allclose([schedule(e) for e in range(epochs)], rates, rtol=1e-15,
                               atol=1e-18)


@pytest.mark.parametrize("settings", [
    dict(total_steps=20, three_phase=True),
    dict(total_steps=17, pct_start=0.25, anneal="linear", three_phase=True),
    dict(total_steps=7, pct_start=0.0, three_phase=True),
    dict(total_steps=20), dict(total_steps=15, pct_start=0.4, anneal="linear")],
    ids=["three phases", "three phases linear", "three phases no rise", "two phases",
         "two phases linear"])
def test_one_cycle_with_three_phases_and_its_momentum_cycle_is_torchs(settings):
    ours = gg.optim.OneCycle(0.5, **settings, cycle_momentum=True, base_momentum=0.8,
                             max_momentum=0.9)
    theirs = dict(settings, anneal_strategy=settings.get("anneal", "cos"))
    theirs.pop("anneal", None)
    seen = _torch_rates_and_momenta(lambda opt: _LRS.OneCycleLR(
        opt, 0.5, base_momentum=0.8, max_momentum=0.9, **theirs), settings["total_steps"])
    assert [(ours(s), ours.momentum(s)) for s in range(settings["total_steps"])] == seen


@pytest.mark.parametrize("kind", ["Adam", "AdamW", "Adamax", "NAdam", "RMSprop", "RAdam"])
def test_fit_cycling_the_momentum_per_batch_is_torchs_loop_with_onecyclelr(
        kind, torch_float64_default):
    """fit(schedule_every="step") with OneCycle(cycle_momentum=True, three_phase=True) trains
    as PyTorch's loop with OneCycleLR cycling betas[0] (Adam, NAdam, RAdam) or the momentum
    (RMSprop, whose momentum is PyTorch's): 3 epochs of batches of 4, 4 and 2. (torch's
    default dtype float64: NAdam's mu_product is in it.)"""
    rng = np.random.default_rng(7)
    X, Y = rng.standard_normal((10, 3)), rng.standard_normal((10, 1))
    model = gg.nn.Linear(3, 1, rng=2)
    W0, b0 = model.W.data.copy(), model.b.data.copy()
    ours = {"Adam": lambda ps: gg.optim.Adam(ps, lr=0.2),
            "RMSprop": lambda ps: gg.optim.RMSprop(ps, lr=0.2, beta=0.99, momentum=0.5),
            "AdamW": lambda ps: gg.optim.AdamW(ps, lr=0.2, weight_decay=0.1),
            "Adamax": lambda ps: gg.optim.Adamax(ps, lr=0.2),
            "NAdam": lambda ps: gg.optim.NAdam(ps, lr=0.2),
            "RAdam": lambda ps: gg.optim.RAdam(ps, lr=0.2)}[kind](model.parameters())
    gg.fit(model, gg.nn.mse, ours, (X, Y), epochs=3, batch_size=4, shuffle=False,
           schedule=gg.optim.OneCycle(0.2, total_steps=9, three_phase=True,
                                      cycle_momentum=True, base_momentum=0.7),
           schedule_every="step", progress=False)

    W, b = torch.tensor(W0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    opt = {"Adam": lambda ps: torch.optim.Adam(ps, lr=0.2),
           "RMSprop": lambda ps: torch.optim.RMSprop(ps, lr=0.2, momentum=0.5),
           "AdamW": lambda ps: torch.optim.AdamW(ps, lr=0.2, weight_decay=0.1),
           "Adamax": lambda ps: torch.optim.Adamax(ps, lr=0.2),
           "NAdam": lambda ps: torch.optim.NAdam(ps, lr=0.2),
           "RAdam": lambda ps: torch.optim.RAdam(ps, lr=0.2)}[kind]([W, b])
    scheduler = _LRS.OneCycleLR(opt, 0.2, total_steps=9, three_phase=True, base_momentum=0.7)
    for _ in range(3):
        for start in range(0, 10, 4):
            opt.zero_grad()
            outputs = torch.tensor(X[start:start + 4]) @ W.T + b
            ((outputs - torch.tensor(Y[start:start + 4])) ** 2).mean().backward()
            opt.step()
            scheduler.step()
    np.testing.assert_allclose(model.W.data, W.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(model.b.data, b.detach().numpy(), rtol=1e-12)


_PLATEAU_COSTS = [1.0, 0.9, 0.95, 0.9, 0.89995, 0.91, 0.7, 0.8, 0.8, 0.8, 0.8, 0.8, 0.6, 0.65,
                  0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.5, 0.5, 0.5]


@pytest.mark.parametrize("settings", [
    dict(patience=2), dict(patience=1, threshold=0.02, threshold_mode="abs", cooldown=2,
                           factor=0.5),
    dict(patience=0, factor=0.5, min_lr=0.02), dict(patience=0, factor=0.5, eps=0.02),
    dict(patience=1, mode="max", factor=0.2), dict(patience=1, mode="max", threshold=0.1,
                                                   threshold_mode="abs", cooldown=1),
], ids=["patience", "abs, cooldown", "min_lr", "eps", "max", "max abs"])
def test_reduce_on_plateau_drops_the_rate_when_torchs_does(settings):
    costs = ([-c for c in _PLATEAU_COSTS] if settings.get("mode") == "max"
             else _PLATEAU_COSTS)
    plateau = gg.optim.ReduceOnPlateau(0.1, **settings)
    ours = []
    for epoch, cost in enumerate(costs):
        ours.append(plateau(epoch))
        plateau.step(cost)
    theirs = _torch_rates(
        lambda opt: torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **settings), len(costs),
        costs)
    assert ours == theirs and len(set(ours)) > 1


# PyTorch warns that a first layer's hook runs with grad_input all None, as it should here.
@pytest.mark.filterwarnings("ignore:Full backward hook is firing")
def test_module_backward_hooks_match_torch():
    """The same two-layer model with the same backward hooks (a pre-hook halving the last
    layer's grad_output, a full hook doubling its grad_input, hooks recording what they are
    given), on an input that requires grad and is used outside the model too, then on data:
    the same gradients recorded, in the same order, and the same gradients in the end."""
    rng = np.random.default_rng(21)
    X, C = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    ours = gg.nn.Sequential(gg.nn.Linear(3, 4, rng=0), gg.nn.Tanh(), gg.nn.Linear(4, 2, rng=1))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    theirs = theirs.double()
    with torch.no_grad():
        for p, pt in zip(ours.parameters(), theirs.parameters()):
            pt.copy_(torch.tensor(p.data))

    def hooked(model):
        log = []
        first, _, last = list(model)
        last.register_full_backward_pre_hook(
            lambda m, go: log.append(("pre", go)) or (go[0] * 0.5,))
        last.register_full_backward_hook(
            lambda m, gi, go: log.append(("last", gi, go)) or (gi[0] * 2.0,))
        first.register_full_backward_hook(lambda m, gi, go: log.append(("first", gi, go)))
        return log

    def as_arrays(log):
        return [(entry[0], *[tuple(None if g is None else np.asarray(
            g.detach().numpy() if isinstance(g, torch.Tensor) else g) for g in grads)
            for grads in entry[1:]]) for entry in log]

    log, log_t = hooked(ours), hooked(theirs)
    x = gg.Tensor(X.copy(), requires_grad=True)
    xt = torch.tensor(X, requires_grad=True)
    ((ours(x) * C).sum() + (x ** 2).sum()).backward()
    ((theirs(xt) * torch.tensor(C)).sum() + (xt ** 2).sum()).backward()
    ours(X).sum().backward()  # on data: the first layer's grad_input is (None,)
    theirs(torch.tensor(X)).sum().backward()
    got, expected = as_arrays(log), as_arrays(log_t)
    assert [e[0] for e in got] == [e[0] for e in expected] == [
        "pre", "last", "first", "pre", "last", "first"]
    assert got[5][1] == expected[5][1] == (None,)
    for entry, entry_t in zip(got, expected):
        for grads, grads_t in zip(entry[1:], entry_t[1:]):
            for g, gt in zip(grads, grads_t):
                if gt is None:
                    assert g is None
                else:
                    np.testing.assert_allclose(g, gt, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-12)
    for p, pt in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad, pt.grad.numpy(), rtol=1e-12)


# -- the layers of later networks, channels last against torch's channels first -------------------
def _first(a):
    """graphgrad's (m, ..., n_C) as torch's (m, n_C, ...)."""
    return torch.tensor(np.moveaxis(a, -1, 1), requires_grad=True)


def _last(t):
    return np.moveaxis(t.detach().numpy(), 1, -1)


IMAGE_LAYERS = {
    "GroupNorm": (lambda: gg.nn.GroupNorm(3, 6), lambda: torch.nn.GroupNorm(3, 6), (2, 3, 4, 6)),
    "GroupNorm on sequences": (lambda: gg.nn.GroupNorm(2, 4), lambda: torch.nn.GroupNorm(2, 4),
                               (3, 5, 4)),
    "InstanceNorm2d": (lambda: gg.nn.InstanceNorm2d(3), lambda: torch.nn.InstanceNorm2d(3),
                       (2, 5, 4, 3)),
    "InstanceNorm2d, affine": (lambda: gg.nn.InstanceNorm2d(3, affine=True),
                               lambda: torch.nn.InstanceNorm2d(3, affine=True), (2, 5, 4, 3)),
    "AdaptiveAvgPool2d": (lambda: gg.nn.AdaptiveAvgPool2d((2, 3)),
                          lambda: torch.nn.AdaptiveAvgPool2d((2, 3)), (2, 5, 7, 3)),
    "AdaptiveAvgPool2d, global": (lambda: gg.nn.AdaptiveAvgPool2d(1),
                                  lambda: torch.nn.AdaptiveAvgPool2d(1), (2, 7, 5, 3)),
    "AdaptiveAvgPool2d, larger, None": (lambda: gg.nn.AdaptiveAvgPool2d((9, None)),
                                        lambda: torch.nn.AdaptiveAvgPool2d((9, None)),
                                        (2, 4, 3, 2)),
    "AdaptiveMaxPool2d": (lambda: gg.nn.AdaptiveMaxPool2d((3, 2)),
                          lambda: torch.nn.AdaptiveMaxPool2d((3, 2)), (2, 7, 5, 3)),
    "Upsample nearest 1.5": (lambda: gg.nn.Upsample(scale_factor=1.5),
                             lambda: torch.nn.Upsample(scale_factor=1.5), (2, 3, 5, 2)),
    "Upsample nearest size": (lambda: gg.nn.Upsample(size=(7, 4)),
                              lambda: torch.nn.Upsample(size=(7, 4)), (2, 3, 5, 2)),
    "Upsample nearest 2.1, twice the size": (lambda: gg.nn.Upsample(scale_factor=2.1),
                                            lambda: torch.nn.Upsample(scale_factor=2.1),
                                            (2, 3, 5, 2)),
    "Upsample bilinear 3": (lambda: gg.nn.Upsample(scale_factor=3, mode="bilinear"),
                            lambda: torch.nn.Upsample(scale_factor=3, mode="bilinear"),
                            (2, 3, 5, 2)),
    "Upsample bilinear (2, 0.5)": (
        lambda: gg.nn.Upsample(scale_factor=(2, 0.5), mode="bilinear"),
        lambda: torch.nn.Upsample(scale_factor=(2, 0.5), mode="bilinear"), (2, 3, 5, 2)),
    "Upsample bilinear 1.2, rows kept": (
        lambda: gg.nn.Upsample(scale_factor=1.2, mode="bilinear"),
        lambda: torch.nn.Upsample(scale_factor=1.2, mode="bilinear"), (2, 3, 5, 2)),
    "Upsample bilinear size, corners": (
        lambda: gg.nn.Upsample(size=(7, 3), mode="bilinear", align_corners=True),
        lambda: torch.nn.Upsample(size=(7, 3), mode="bilinear", align_corners=True),
        (2, 4, 5, 2)),
    "Upsample bicubic 2": (lambda: gg.nn.Upsample(scale_factor=2, mode="bicubic"),
                           lambda: torch.nn.Upsample(scale_factor=2, mode="bicubic"),
                           (2, 3, 5, 2)),
    "Upsample bicubic 1.2, rows not copied": (
        lambda: gg.nn.Upsample(scale_factor=1.2, mode="bicubic"),
        lambda: torch.nn.Upsample(scale_factor=1.2, mode="bicubic"), (2, 3, 5, 2)),
    "Upsample bicubic (2, 0.5)": (
        lambda: gg.nn.Upsample(scale_factor=(2, 0.5), mode="bicubic"),
        lambda: torch.nn.Upsample(scale_factor=(2, 0.5), mode="bicubic"), (2, 3, 5, 2)),
    "Upsample bicubic size, corners": (
        lambda: gg.nn.Upsample(size=(7, 3), mode="bicubic", align_corners=True),
        lambda: torch.nn.Upsample(size=(7, 3), mode="bicubic", align_corners=True),
        (2, 4, 5, 2)),
    "Upsample bilinear 1.7, recompute_scale_factor": (
        lambda: gg.nn.Upsample(scale_factor=1.7, mode="bilinear", recompute_scale_factor=True),
        lambda: torch.nn.Upsample(scale_factor=1.7, mode="bilinear",
                                  recompute_scale_factor=True), (2, 3, 5, 2)),
    "PReLU per channel": (lambda: gg.nn.PReLU(3, init=0.1),
                          lambda: torch.nn.PReLU(3, init=0.1), (2, 4, 5, 3)),
    "MaxPool2d dilated": (lambda: gg.nn.MaxPool2d(3, stride=2, padding=1, dilation=2),
                          lambda: torch.nn.MaxPool2d(3, stride=2, padding=1, dilation=2),
                          (2, 8, 7, 3)),
    "MaxPool1d dilated": (lambda: gg.nn.MaxPool1d(2, stride=1, padding=1, dilation=3),
                          lambda: torch.nn.MaxPool1d(2, stride=1, padding=1, dilation=3),
                          (2, 7, 2)),
    "MaxPool1d": (lambda: gg.nn.MaxPool1d(3, stride=2, padding=1),
                  lambda: torch.nn.MaxPool1d(3, stride=2, padding=1), (2, 9, 3)),
    "AvgPool1d": (lambda: gg.nn.AvgPool1d(3, stride=2, padding=1),
                  lambda: torch.nn.AvgPool1d(3, stride=2, padding=1), (2, 8, 3)),
    "AvgPool1d, real steps": (lambda: gg.nn.AvgPool1d(4, stride=3, padding=2,
                                                      count_include_pad=False),
                              lambda: torch.nn.AvgPool1d(4, stride=3, padding=2,
                                                         count_include_pad=False), (2, 9, 2)),
    "ZeroPad2d": (lambda: gg.nn.ZeroPad2d((1, 0, 2, 1)),
                  lambda: torch.nn.ZeroPad2d((1, 0, 2, 1)), (2, 3, 4, 2)),
    "ConstantPad1d": (lambda: gg.nn.ConstantPad1d((2, 1), 0.5),
                      lambda: torch.nn.ConstantPad1d((2, 1), 0.5), (2, 4, 3)),
    "ReflectionPad2d": (lambda: gg.nn.ReflectionPad2d((1, 2, 2, 1)),
                        lambda: torch.nn.ReflectionPad2d((1, 2, 2, 1)), (2, 3, 4, 2)),
    "ReflectionPad1d": (lambda: gg.nn.ReflectionPad1d(2), lambda: torch.nn.ReflectionPad1d(2),
                        (2, 4, 3)),
    "ReplicationPad2d": (lambda: gg.nn.ReplicationPad2d((3, 0, 1, 2)),
                         lambda: torch.nn.ReplicationPad2d((3, 0, 1, 2)), (2, 3, 4, 2)),
    "ReplicationPad1d": (lambda: gg.nn.ReplicationPad1d((3, 1)),
                         lambda: torch.nn.ReplicationPad1d((3, 1)), (2, 4, 3)),
    "CircularPad2d": (lambda: gg.nn.CircularPad2d((1, 2, 0, 3)),
                      lambda: torch.nn.CircularPad2d((1, 2, 0, 3)), (2, 3, 4, 2)),
    "CircularPad1d": (lambda: gg.nn.CircularPad1d((2, 1)), lambda: torch.nn.CircularPad1d((2, 1)),
                      (2, 4, 3)),
    "PixelShuffle": (lambda: gg.nn.PixelShuffle(2), lambda: torch.nn.PixelShuffle(2),
                     (2, 3, 4, 12)),
    "PixelUnshuffle": (lambda: gg.nn.PixelUnshuffle(3), lambda: torch.nn.PixelUnshuffle(3),
                       (2, 6, 3, 2)),
}


@pytest.mark.parametrize("name", list(IMAGE_LAYERS))
def test_image_layers_match_torch_with_the_layout_transposed(name):
    make, make_torch, shape = IMAGE_LAYERS[name]
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    layer, reference = make(), make_torch().double()
    for p, q in zip(layer.parameters(), reference.parameters()):
        p.data = rng.standard_normal(p.shape)
        q.data = torch.tensor(p.data)
    X = gg.Tensor(x, requires_grad=True)
    Y = layer(X)
    dY = rng.standard_normal(Y.shape)
    (Y * dY).sum().backward()
    xt = _first(x)
    yt = reference(xt)
    yt.backward(_first(dY))
    np.testing.assert_allclose(Y.data, _last(yt), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(X.grad, _last(xt.grad), rtol=1e-10, atol=1e-12)
    for p, q in zip(layer.parameters(), reference.parameters()):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kernel_size, stride, padding, dilation", [
    (2, 1, 0, 1), ((2, 3), (2, 1), (1, 0), (1, 2)), (3, 2, 1, 2)])
def test_unfold_and_fold_match_torch_with_each_column_channel_first(kernel_size, stride, padding,
                                                                     dilation):
    """graphgrad's columns (m, L, f_h f_w n_C), each pixel's channels together, are torch's
    (N, C f_h f_w, L), channel first, reshaped and transposed, as gg.unfold says."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 7, 6, 3))
    f_h, f_w = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size

    def torch_columns(y):  # (m, L, f_h f_w n_C) -> (m, n_C f_h f_w, L)
        m, blocks, _ = y.shape
        return y.reshape(m, blocks, f_h, f_w, 3).transpose(0, 4, 2, 3, 1).reshape(m, -1, blocks)

    settings = {"kernel_size": kernel_size, "stride": stride, "padding": padding,
                "dilation": dilation}
    X = gg.Tensor(x, requires_grad=True)
    Y = gg.nn.Unfold(**settings)(X)
    dY = rng.standard_normal(Y.shape)
    (Y * dY).sum().backward()
    xt = _first(x)
    yt = torch.nn.Unfold(**settings)(xt)
    yt.backward(torch.tensor(torch_columns(dY)))
    np.testing.assert_allclose(torch_columns(Y.data), yt.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(X.grad, _last(xt.grad), rtol=1e-12, atol=1e-12)
    # fold, the adjoint, on the columns torch's unfold gave
    G = gg.Tensor(dY, requires_grad=True)
    out = gg.nn.Fold((7, 6), **settings)(G)
    dout = rng.standard_normal(out.shape)
    (out * dout).sum().backward()
    gt = torch.tensor(torch_columns(dY), requires_grad=True)
    outt = torch.nn.Fold((7, 6), **settings)(gt)
    outt.backward(_first(dout))
    np.testing.assert_allclose(out.data, _last(outt), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(torch_columns(G.grad), gt.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("bias", [True, False])
def test_bilinear_matches_torch_with_its_weight_as_w(bias):
    """nn.Bilinear's W (n_out, n1, n2) and b are torch's weight and bias as they are."""
    rng = np.random.default_rng(0)
    ours = gg.nn.Bilinear(3, 4, 5, bias=bias, rng=0)
    theirs = torch.nn.Bilinear(3, 4, 5, bias=bias).double()
    theirs.weight.data = torch.tensor(ours.W.data)
    if bias:
        theirs.bias.data = torch.tensor(ours.b.data)
    x1, x2 = rng.standard_normal((6, 3)), rng.standard_normal((6, 4))
    X1, X2 = gg.Tensor(x1, requires_grad=True), gg.Tensor(x2, requires_grad=True)
    Y = ours(X1, X2)
    dY = rng.standard_normal(Y.shape)
    (Y * dY).sum().backward()
    x1t, x2t = torch.tensor(x1, requires_grad=True), torch.tensor(x2, requires_grad=True)
    yt = theirs(x1t, x2t)
    yt.backward(torch.tensor(dY))
    np.testing.assert_allclose(Y.data, yt.detach().numpy(), rtol=1e-12, atol=1e-14)
    for g, gt in ((X1.grad, x1t.grad), (X2.grad, x2t.grad), (ours.W.grad, theirs.weight.grad)):
        np.testing.assert_allclose(g, gt.numpy(), rtol=1e-12, atol=1e-14)
    if bias:
        np.testing.assert_allclose(ours.b.grad, theirs.bias.grad.numpy(), rtol=1e-12)


def test_relu6_hardtanh_and_log_softmax_match_torch_away_from_the_kinks():
    x = np.array([[-7.5, -1.5, -0.5, 0.5, 3.0, 6.5], [1.2, -0.2, 5.9, 0.3, -3.0, 2.0]])
    for layer, reference in ((gg.nn.ReLU6(), torch.nn.ReLU6()),
                             (gg.nn.Hardtanh(-2.0, 1.0), torch.nn.Hardtanh(-2.0, 1.0)),
                             (gg.nn.LogSoftmax(axis=0), torch.nn.LogSoftmax(dim=0))):
        X = gg.Tensor(x, requires_grad=True)
        (layer(X) * x).sum().backward()
        xt = torch.tensor(x, requires_grad=True)
        (reference(xt) * torch.tensor(x)).sum().backward()
        np.testing.assert_allclose(layer(x).data, reference(torch.tensor(x)).numpy(), rtol=1e-14)
        np.testing.assert_allclose(X.grad, xt.grad.numpy(), rtol=1e-14)


def _loss_module_pairs(rng):
    """(graphgrad's loss module, torch's, graphgrad's inputs, torch's inputs): the same
    settings under each one's names, a sequence's logits (m, T, C) given to torch as (N, C, T),
    and CosineSimilarity's axis as torch's dim."""
    Z = rng.standard_normal((2, 5, 4))  # (m, T, C)
    y = rng.integers(0, 4, (2, 5))
    y[0, 3] = -100  # padding
    w = np.array([0.5, 2.0, 1.0, 3.0])
    logits, bits = rng.standard_normal((6, 3)), (rng.random((6, 3)) < 0.5).astype(float)
    a, b = rng.standard_normal((6, 3)), rng.standard_normal((6, 3))
    log_q = np.log(rng.dirichlet(np.ones(3), size=6))
    p = rng.dirichlet(np.ones(3), size=6)
    signs = np.array([1.0, -1.0, -1.0, 1.0])
    nn, tnn = gg.nn, torch.nn
    return [
        (nn.CrossEntropyLoss(w, ignore_index=-100, label_smoothing=0.1),
         tnn.CrossEntropyLoss(torch.tensor(w), ignore_index=-100, label_smoothing=0.1),
         (Z, y), (torch.tensor(Z).transpose(1, 2), torch.tensor(y))),
        (nn.BCEWithLogitsLoss(pos_weight=[2.0, 1.0, 0.5], reduction="sum"),
         tnn.BCEWithLogitsLoss(pos_weight=torch.tensor([2.0, 1.0, 0.5], dtype=torch.float64),
                               reduction="sum"),
         (logits, bits), (torch.tensor(logits), torch.tensor(bits))),
        (nn.NLLLoss(w, ignore_index=-100), tnn.NLLLoss(torch.tensor(w), ignore_index=-100),
         (Z - np.logaddexp.reduce(Z, axis=-1, keepdims=True), y),
         (torch.log_softmax(torch.tensor(Z), -1).transpose(1, 2), torch.tensor(y))),
        (nn.HuberLoss(delta=0.5), tnn.HuberLoss(delta=0.5), (a, b),
         (torch.tensor(a), torch.tensor(b))),
        (nn.SmoothL1Loss(beta=0.5, reduction="none"),
         tnn.SmoothL1Loss(beta=0.5, reduction="none"), (a, b),
         (torch.tensor(a), torch.tensor(b))),
        (nn.KLDivLoss(reduction="batchmean"), tnn.KLDivLoss(reduction="batchmean"),
         (log_q, p), (torch.tensor(log_q), torch.tensor(p))),
        (nn.TripletMarginLoss(margin=0.5, swap=True), tnn.TripletMarginLoss(margin=0.5, swap=True),
         (a, b, logits), (torch.tensor(a), torch.tensor(b), torch.tensor(logits))),
        (nn.CosineSimilarity(axis=0), tnn.CosineSimilarity(dim=0), (a, b),
         (torch.tensor(a), torch.tensor(b))),
        # tied scores (margin 0) and distances at the margin: the hinges' kink, where
        # clamp_min's gradient is 1
        (nn.MarginRankingLoss(), tnn.MarginRankingLoss(), (np.zeros(4), np.zeros(4), signs),
         (torch.zeros(4, dtype=torch.float64), torch.zeros(4, dtype=torch.float64),
          torch.tensor(signs))),
        (nn.HingeEmbeddingLoss(0.5), tnn.HingeEmbeddingLoss(0.5), (np.full(4, 0.5), signs),
         (torch.full((4,), 0.5, dtype=torch.float64), torch.tensor(signs))),
        (nn.CosineEmbeddingLoss(0.1, reduction="sum"),
         tnn.CosineEmbeddingLoss(0.1, reduction="sum"),
         (a, b, np.array([1.0, -1, -1, 1, -1, 1])),
         (torch.tensor(a), torch.tensor(b), torch.tensor([1.0, -1, -1, 1, -1, 1]))),
        (nn.SoftMarginLoss(), tnn.SoftMarginLoss(), (a, np.sign(b)),
         (torch.tensor(a), torch.tensor(np.sign(b)))),
        (nn.MultiMarginLoss(2, 0.7, w[:3], reduction="none"),
         tnn.MultiMarginLoss(2, 0.7, torch.tensor(w[:3]), reduction="none"), (a, np.arange(6) % 3),
         (torch.tensor(a), torch.tensor(np.arange(6) % 3))),
        (nn.MultiLabelSoftMarginLoss(w[:3]), tnn.MultiLabelSoftMarginLoss(torch.tensor(w[:3])),
         (logits, bits), (torch.tensor(logits), torch.tensor(bits))),
        (nn.MultiLabelMarginLoss(), tnn.MultiLabelMarginLoss(),
         (a, np.array([[2, -1, 0], [0, 1, -1], [1, 1, 2], [-1, 2, 2], [0, 2, 1], [2, 0, -1]])),
         (torch.tensor(a), torch.tensor([[2, -1, 0], [0, 1, -1], [1, 1, 2], [-1, 2, 2],
                                         [0, 2, 1], [2, 0, -1]]))),
        (nn.PoissonNLLLoss(full=True), tnn.PoissonNLLLoss(full=True), (a, np.round(4 * p)),
         (torch.tensor(a), torch.tensor(np.round(4 * p)))),
        (nn.PoissonNLLLoss(False, eps=1e-3, reduction="sum"),
         tnn.PoissonNLLLoss(False, eps=1e-3, reduction="sum"), (a * a, np.round(4 * p)),
         (torch.tensor(a * a), torch.tensor(np.round(4 * p)))),
        (nn.GaussianNLLLoss(full=True, eps=0.05), tnn.GaussianNLLLoss(full=True, eps=0.05),
         (a, b, p[:, 0]), (torch.tensor(a), torch.tensor(b), torch.tensor(p[:, 0]))),
    ]


def test_loss_modules_match_torchs_modules_on_the_same_inputs():
    for ours, theirs, inputs, torch_inputs in _loss_module_pairs(np.random.default_rng(8)):
        X = gg.Tensor(inputs[0], requires_grad=True)
        out = ours(X, *inputs[1:])
        out.sum().backward()
        first = torch_inputs[0].detach().requires_grad_(True)
        expected = theirs(first, *torch_inputs[1:])
        expected.sum().backward()
        grad = first.grad
        if ours.function is gg.nn.cross_entropy or ours.function is gg.nn.nll_loss:
            grad = grad.transpose(1, 2)  # torch's (N, C, T) back to (m, T, C)
        np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12,
                                   err_msg=repr(ours))
        np.testing.assert_allclose(X.grad, grad.numpy(), rtol=1e-10, atol=1e-14,
                                   err_msg=repr(ours))


def test_fit_stepping_one_cycle_per_batch_is_torchs_loop_with_onecyclelr():
    """fit(schedule_every="step") trains as PyTorch's loop calling scheduler.step() after each
    optimizer.step(): 3 epochs of batches of 4, 4 and 2, with Adam."""
    rng = np.random.default_rng(7)
    X, Y = rng.standard_normal((10, 3)), rng.standard_normal((10, 1))
    model = gg.nn.Linear(3, 1, rng=2)
    W0, b0 = model.W.data.copy(), model.b.data.copy()
    adam = gg.optim.Adam(model.parameters(), lr=0.2)
    gg.fit(model, gg.nn.mse, adam, (X, Y), epochs=3, batch_size=4, shuffle=False,
           schedule=gg.optim.OneCycle(0.2, total_steps=9), schedule_every="step",
           progress=False)

    W, b = torch.tensor(W0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    opt = torch.optim.Adam([W, b], lr=0.2)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(opt, 0.2, total_steps=9,
                                                    cycle_momentum=False)
    for _ in range(3):
        for start in range(0, 10, 4):
            opt.zero_grad()
            outputs = torch.tensor(X[start:start + 4]) @ W.T + b
            ((outputs - torch.tensor(Y[start:start + 4])) ** 2).mean().backward()
            opt.step()
            scheduler.step()
    np.testing.assert_allclose(model.W.data, W.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(model.b.data, b.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("kind", ["OneCycle", "Cyclic"])
def test_fit_per_step_with_parameter_groups_is_torchs_scheduler_with_a_rate_per_group(kind):
    """Groups with their own lr keep their ratio to the optimizer's lr = max_lr: PyTorch's
    OneCycleLR and CyclicLR given one max_lr (and base_lr) per group, drop_last=True (4
    batches of 5 an epoch of 23 examples), Adam."""
    rng = np.random.default_rng(3)
    X, Y = rng.standard_normal((23, 3)), rng.standard_normal((23, 1))
    model = gg.nn.Linear(3, 1, rng=2)
    W0, b0 = model.W.data.copy(), model.b.data.copy()
    adam = gg.optim.Adam([{"params": [model.W], "lr": 0.01}, {"params": [model.b]}], lr=0.2)
    if kind == "OneCycle":
        schedule = gg.optim.OneCycle(0.2, total_steps=16)
    else:
        schedule = gg.optim.Cyclic(0.02, 0.2, step_size_up=3, mode="triangular2")
    gg.fit(model, gg.nn.mse, adam, (X, Y), epochs=4, batch_size=5, shuffle=False,
           drop_last=True, schedule=schedule, schedule_every="step", progress=False)

    W, b = torch.tensor(W0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    opt = torch.optim.Adam([{"params": [W], "lr": 0.01}, {"params": [b]}], lr=0.2)
    lrs = torch.optim.lr_scheduler
    if kind == "OneCycle":
        scheduler = lrs.OneCycleLR(opt, [0.01, 0.2], total_steps=16, cycle_momentum=False)
    else:
        scheduler = lrs.CyclicLR(opt, [0.001, 0.02], [0.01, 0.2], step_size_up=3,
                                 mode="triangular2", cycle_momentum=False)
    for _ in range(4):
        for start in range(0, 20, 5):
            opt.zero_grad()
            outputs = torch.tensor(X[start:start + 5]) @ W.T + b
            ((outputs - torch.tensor(Y[start:start + 5])) ** 2).mean().backward()
            opt.step()
            scheduler.step()
    np.testing.assert_allclose(model.W.data, W.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(model.b.data, b.detach().numpy(), rtol=1e-12)


# -- graphgrad.nn.functional against torch.nn.functional, channels last against first ------------
TF = torch.nn.functional


def _nchw(fn):
    """torch's function of images (m, n_C, ...) on graphgrad's (m, ..., n_C), and back."""
    return lambda x, *rest: fn(x.movedim(-1, 1), *rest).movedim(1, -1)


FUNCTIONAL = {
    "batch_norm, eval": (
        lambda x, w, b: gg.nn.functional.batch_norm(x, np.array([0.5, -1.0, 0.0]),
                                                    np.array([2.0, 0.5, 1.0]), w, b),
        _nchw(lambda x, w, b: TF.batch_norm(x, torch.tensor([0.5, -1.0, 0.0], dtype=torch.float64),
                                            torch.tensor([2.0, 0.5, 1.0], dtype=torch.float64),
                                            w, b)),
        [(2, 4, 5, 3), (3,), (3,)]),
    "layer_norm, two axes": (lambda x, w, b: gg.nn.functional.layer_norm(x, (3, 4), w, b),
                             lambda x, w, b: TF.layer_norm(x, (3, 4), w, b),
                             [(2, 5, 3, 4), (3, 4), (3, 4)]),
    "group_norm": (lambda x, w, b: gg.nn.functional.group_norm(x, 2, w, b),
                   _nchw(lambda x, w, b: TF.group_norm(x, 2, w, b)), [(2, 3, 4, 6), (6,), (6,)]),
    "instance_norm": (lambda x, w, b: gg.nn.functional.instance_norm(x, weight=w, bias=b),
                      _nchw(lambda x, w, b: TF.instance_norm(x, weight=w, bias=b)),
                      [(2, 3, 4, 3), (3,), (3,)]),
    "adaptive_avg_pool2d": (lambda x: gg.nn.functional.adaptive_avg_pool2d(x, (2, 3)),
                            _nchw(lambda x: TF.adaptive_avg_pool2d(x, (2, 3))), [(2, 5, 7, 3)]),
    "adaptive_max_pool2d": (lambda x: gg.nn.functional.adaptive_max_pool2d(x, (3, 2)),
                            _nchw(lambda x: TF.adaptive_max_pool2d(x, (3, 2))), [(2, 7, 5, 3)]),
    "interpolate, nearest": (lambda x: gg.nn.functional.interpolate(x, scale_factor=1.5),
                             _nchw(lambda x: TF.interpolate(x, scale_factor=1.5)),
                             [(2, 3, 5, 2)]),
    "interpolate, bilinear": (
        lambda x: gg.nn.functional.interpolate(x, size=(7, 3), mode="bilinear",
                                               align_corners=True),
        _nchw(lambda x: TF.interpolate(x, size=(7, 3), mode="bilinear", align_corners=True)),
        [(2, 4, 5, 2)]),
    "interpolate, bicubic recompute_scale_factor": (
        lambda x: gg.nn.functional.interpolate(x, scale_factor=(0.6, 2.3), mode="bicubic",
                                               recompute_scale_factor=True),
        _nchw(lambda x: TF.interpolate(x, scale_factor=(0.6, 2.3), mode="bicubic",
                                       recompute_scale_factor=True)),
        [(2, 5, 7, 2)]),
    "embedding, padding_idx": (
        lambda W: gg.nn.functional.embedding(np.array([[0, 2, 2], [4, 1, 0]]), W, padding_idx=2),
        lambda W: TF.embedding(torch.tensor([[0, 2, 2], [4, 1, 0]]), W, padding_idx=2),
        [(5, 3)]),
    "normalize": (lambda x: gg.nn.functional.normalize(x), lambda x: TF.normalize(x),
                  [(3, 4)]),
    "normalize, p=3, last axis": (lambda x: gg.nn.functional.normalize(x, p=3, axis=-1),
                                  lambda x: TF.normalize(x, p=3, dim=-1), [(2, 3, 4)]),
    "pairwise_distance": (lambda a, b: gg.nn.functional.pairwise_distance(a, b),
                          lambda a, b: TF.pairwise_distance(a, b), [(3, 4), (3, 4)]),
    "pairwise_distance, p=1, broadcast, keepdims": (
        lambda a, b: gg.nn.functional.pairwise_distance(a, b, p=1, keepdims=True),
        lambda a, b: TF.pairwise_distance(a, b, p=1, keepdim=True), [(3, 4), (4,)]),
    "prelu, per channel": (lambda x, w: gg.nn.functional.prelu(x, w),
                           _nchw(lambda x, w: TF.prelu(x, w)), [(2, 3, 4, 3), (3,)]),
    "hardtanh": (lambda x: gg.nn.functional.hardtanh(x, -0.5, 0.8),
                 lambda x: TF.hardtanh(x, -0.5, 0.8), [(3, 4)]),
    "relu6": (lambda x: gg.nn.functional.relu6(4 * x), lambda x: TF.relu6(4 * x), [(3, 4)]),
    "glu": (lambda x: gg.nn.functional.glu(x, axis=1), lambda x: TF.glu(x, dim=1), [(3, 4, 2)]),
}


@pytest.mark.parametrize("name", list(FUNCTIONAL))
def test_nn_functional_matches_torch_nn_functional(name):
    ours, theirs, shapes = FUNCTIONAL[name]
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(shape) for shape in shapes]
    X = [gg.Tensor(a, requires_grad=True) for a in arrays]
    T = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, out_t = ours(*X), theirs(*T)
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), rtol=1e-12, atol=1e-14)
    grad = rng.standard_normal(out.shape)
    (out * grad).sum().backward()
    out_t.backward(torch.tensor(grad))
    for x, t in zip(X, T):
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_normalize_near_zero_norm_has_torchs_gradient():
    """Rows of norm 0, below eps, at eps exactly and above: torch's clamp_min passes the norm's
    gradient from eps up (at eps itself too) and none below."""
    eps = 1e-12
    x = np.array([[0.0, 0.0, 0.0], [3e-13, -4e-13, 0.0], [eps, 0.0, 0.0], [2e-12, 1e-12, 0.0],
                  [0.3, -0.4, 1.2]])
    dA = np.random.default_rng(1).standard_normal(x.shape)
    X = gg.Tensor(x, requires_grad=True)
    T = torch.tensor(x, requires_grad=True)
    out, out_t = gg.nn.functional.normalize(X, eps=eps), TF.normalize(T, eps=eps)
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), rtol=1e-12, atol=0)
    (out * dA).sum().backward()
    out_t.backward(torch.tensor(dA))
    # at |x| = eps the two terms, each of size 1 / eps, cancel: 0 to within their rounding
    scale = np.abs(T.grad.numpy()).max()
    np.testing.assert_allclose(X.grad, T.grad.numpy(), rtol=1e-12, atol=1e-15 * scale)
    assert abs(X.grad[2, 0]) < 1e-14 * scale  # where it had been dA / eps, not passed


@pytest.mark.parametrize("shape", [(6, 3), (2, 3, 4, 3)])
def test_batch_norm_in_training_matches_torch_and_its_running_statistics_update(shape):
    """Values and gradients as torch's; the running mean as torch's with momentum 1 - ours,
    the running variance with the batch's biased variance where torch takes the unbiased."""
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal(shape), rng.standard_normal(3), rng.standard_normal(3)
    mean, var = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    X, W, B = (gg.Tensor(a, requires_grad=True) for a in (x, w, b))
    XT, WT, BT = (torch.tensor(a, requires_grad=True) for a in (np.moveaxis(x, -1, 1), w, b))
    ours_mean, ours_var = mean.copy(), var.copy()
    torch_mean, torch_var = torch.tensor(mean), torch.tensor(var)
    out = gg.nn.functional.batch_norm(X, ours_mean, ours_var, W, B, training=True, momentum=0.8)
    out_t = TF.batch_norm(XT, torch_mean, torch_var, WT, BT, training=True, momentum=0.2)
    np.testing.assert_allclose(out.data, np.moveaxis(out_t.detach().numpy(), 1, -1),
                               rtol=1e-12, atol=1e-14)
    grad = rng.standard_normal(out.shape)
    (out * grad).sum().backward()
    out_t.backward(torch.tensor(np.moveaxis(grad, -1, 1)))
    np.testing.assert_allclose(X.grad, np.moveaxis(XT.grad.numpy(), 1, -1), rtol=1e-12,
                               atol=1e-14)
    np.testing.assert_allclose(W.grad, WT.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(B.grad, BT.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours_mean, torch_mean.numpy(), rtol=1e-12)
    n = x.size // 3
    biased = x.reshape(-1, 3).var(axis=0)
    np.testing.assert_allclose(ours_var, torch_var.numpy() - 0.2 * biased * (n / (n - 1) - 1),
                               rtol=1e-12)


def test_one_hot_matches_torchs_values():
    labels = np.array([[2, 0, 1], [1, 1, 3]])
    np.testing.assert_array_equal(gg.nn.functional.one_hot(labels).data,
                                  TF.one_hot(torch.tensor(labels)).numpy())
    np.testing.assert_array_equal(gg.nn.functional.one_hot(labels, 6).data,
                                  TF.one_hot(torch.tensor(labels), 6).numpy())
# -- PyTorch's other activations, at their kinks and far out ------------------------------------
def _activation_pairs() -> dict:
    """gg's and torch's forms of each activation (and of gg.nn.LogSigmoid)."""
    F = torch.nn.functional
    return {
        "mish": (gg.mish, F.mish), "selu": (gg.selu, F.selu),
        # alpha 0.5: torch's slope for alpha 0.6 is 2.6e-8 off e**(x / 0.6) in float64 (a
        # float32 1 / alpha, it seems), where graphgrad's is within rounding
        "celu": (lambda x: gg.celu(x, 0.5), lambda t: F.celu(t, 0.5)),
        "softsign": (gg.softsign, F.softsign), "tanhshrink": (gg.tanhshrink, F.tanhshrink),
        "log_sigmoid": (gg.nn.LogSigmoid(), F.logsigmoid),
        "hardswish": (gg.hardswish, F.hardswish), "hardsigmoid": (gg.hardsigmoid, F.hardsigmoid),
        "hardshrink": (lambda x: gg.hardshrink(x, 0.5), lambda t: F.hardshrink(t, 0.5)),
        "softshrink": (lambda x: gg.softshrink(x, 0.5), lambda t: F.softshrink(t, 0.5)),
        "softshrink_0": (lambda x: gg.softshrink(x, 0.0), lambda t: F.softshrink(t, 0.0)),
        "threshold": (lambda x: gg.threshold(x, 0.75, -1.0), lambda t: F.threshold(t, 0.75, -1.0)),
        "glu": (gg.glu, F.glu),
        "glu_axis0": (lambda x: gg.glu(x, 0), lambda t: F.glu(t, 0)),
        "softmin": (gg.softmin, lambda t: F.softmin(t, -1)),
        "softmin_axis0": (lambda x: gg.softmin(x, 0), lambda t: F.softmin(t, 0)),
    }


def test_the_activations_match_torch_at_their_kinks_to_the_third_derivative():
    """Values and the derivatives of random projections to the third, at every kink (+-3 for
    hardswish and hardsigmoid, +-0.5 for the shrinks, 0.75 for threshold, 0 for selu's and
    celu's slopes, whose second derivatives differ there: see below), near them, and at
    +-1000 and +-30 (mish's second derivative is NaN at 1000 in torch: finite here, and
    compared where torch's is). hardsigmoid's slope is torch's to 3e-8: torch's is
    1.0f / 6.0f, the float32 sixth, in float64 too; graphgrad's is the float64 one."""
    kinks = [-3.0, 3.0, -0.5, 0.5, 0.75, 0.0, -3.001, 2.999, 0.501, -0.499, 1.25, -1.75]
    x = np.array(kinks + [-1000.0, 1000.0, -30.0, 30.0])  # 16: glu's halves along both axes
    for name, (ours, theirs) in _activation_pairs().items():
        for values in (x.reshape(4, 4), x[::-1].reshape(4, 4).T.copy()):
            a = gg.Tensor(values, requires_grad=True)
            t = torch.tensor(values, requires_grad=True)
            y, ty = ours(a), theirs(t)
            np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-12, atol=1e-300,
                                       err_msg=name)
            w = np.random.default_rng(0).standard_normal(y.shape)
            J, TJ = (y * w).sum(), (ty * torch.tensor(w)).sum()
            for order in range(1, 4):
                if not J.requires_grad:  # piecewise linear: its derivative is constant
                    break
                (g,) = gg.grad(J, [a], create_graph=order < 3)
                (tg,) = (torch.autograd.grad(TJ, [t], create_graph=True, allow_unused=True)
                         if TJ.requires_grad else (None,))
                tg = torch.zeros_like(t) if tg is None else tg
                mine = g.data if isinstance(g, gg.Tensor) else g  # the third: an array
                there = np.isfinite(tg.detach().numpy())  # torch's mish: NaN at 1000, order 2
                assert np.all(np.isfinite(mine)), (name, order)
                if name in ("selu", "celu") and order > 1:
                    # at 0 torch's slope is the left-hand one and its curvature the right-hand
                    # 0; graphgrad's curvature is the left-hand one, as its elu's
                    there &= values != 0
                rtol = 3e-8 if name == "hardsigmoid" else 1e-12
                np.testing.assert_allclose(mine[there], tg.detach().numpy()[there], rtol=rtol,
                                           atol=1e-12, err_msg=f"{name}, derivative {order}")
                v = np.random.default_rng(order).standard_normal(values.shape) * there
                J = (g * v).sum()
                TJ = (torch.where(torch.tensor(there), tg, 0.0) * torch.tensor(v)).sum()


def _margin_and_likelihood_pairs() -> list:
    """(name, gg's loss, torch's, inputs, the indices of those that require grad): kinks
    and clamps included."""
    F = torch.nn.functional
    nn = gg.nn
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    kinks = np.array([[1.0, 0.0, 0.0], [0.3, 0.3, -0.7], [0.5, 2.0, -1.0], [0.0, 0.0, 0.0]])
    classes = np.array([0, 0, 1, 2])
    signs = np.array([1.0, -1.0, -1.0, 1.0])
    lists = np.array([[0, -1, 2], [1, 2, -1], [2, 2, 0], [-1, 0, 1]])
    var = rng.uniform(0.0, 1.0, (4, 3))
    var[0, 0], var[1, 2] = 1e-9, 0.0  # below eps: clamped
    w = np.array([0.5, 2.0, 1.0])
    parallel = np.array([[1.0, 2.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 1.0], [3.0, 0.0, 4.0]])
    return [
        ("cosine_embedding_loss", lambda x1, x2, **k: nn.cosine_embedding_loss(x1, x2, signs,
                                                                               0.2, **k),
         lambda x1, x2, **k: F.cosine_embedding_loss(x1, x2, torch.tensor(signs), 0.2, **k),
         [a, b], (0, 1)),
        # cos = 1 = margin for the dissimilar pairs: clamp_min's kink
        ("cosine_embedding_loss at the kink",
         lambda x1, **k: nn.cosine_embedding_loss(x1, 2 * parallel, signs, 1.0, **k),
         lambda x1, **k: F.cosine_embedding_loss(x1, torch.tensor(2 * parallel),
                                                 torch.tensor(signs), 1.0, **k),
         [parallel], (0,)),
        ("soft_margin_loss, +-30", lambda x, **k: nn.soft_margin_loss(x, np.sign(b), **k),
         lambda x, **k: F.soft_margin_loss(x, torch.tensor(np.sign(b)), **k), [30 * a], (0,)),
        ("multi_margin_loss at the kinks", lambda x, **k: nn.multi_margin_loss(x, classes, **k),
         lambda x, **k: F.multi_margin_loss(x, torch.tensor(classes), **k), [kinks], (0,)),
        ("multi_margin_loss, p=2", lambda x, **k: nn.multi_margin_loss(x, classes, 2, 0.5, w,
                                                                       **k),
         lambda x, **k: F.multi_margin_loss(x, torch.tensor(classes), 2, 0.5, torch.tensor(w),
                                            **k), [kinks + 0.1 * a], (0,)),
        ("multilabel_soft_margin_loss",
         lambda x, **k: nn.multilabel_soft_margin_loss(x, b > 0, w, **k),
         lambda x, **k: F.multilabel_soft_margin_loss(x, torch.tensor(b > 0.0).double(),
                                                      torch.tensor(w), **k), [10 * a], (0,)),
        ("multilabel_margin_loss at the kinks",
         lambda x, **k: nn.multilabel_margin_loss(x, lists, **k),
         lambda x, **k: F.multilabel_margin_loss(x, torch.tensor(lists), **k), [kinks], (0,)),
        ("poisson_nll_loss, full", lambda x, k_, **k: nn.poisson_nll_loss(x, k_, full=True, **k),
         lambda x, k_, **k: F.poisson_nll_loss(x, k_, full=True, **k),
         # counts of 1 and more: torch's gradient of a count of 0 that requires grad is NaN
         # (log 0 under its mask), graphgrad's 0 (test_nn_margin_losses)
         [a, np.round(3 * b * b) + 1], (0, 1)),
        ("poisson_nll_loss, rates", lambda x, **k: nn.poisson_nll_loss(x, np.round(3 * b * b),
                                                                       False, **k),
         lambda x, **k: F.poisson_nll_loss(x, torch.tensor(np.round(3 * b * b)), False, **k),
         [var], (0,)),
        ("gaussian_nll_loss, clamped", lambda mu, y, v, **k: nn.gaussian_nll_loss(
            mu, y, v, True, 1e-3, **k),
         lambda mu, y, v, **k: F.gaussian_nll_loss(mu, y, v, True, 1e-3, **k),
         [a, b, var], (0, 1, 2)),
        ("gaussian_nll_loss, var (m,)", nn.gaussian_nll_loss, F.gaussian_nll_loss,
         [a, b, var[:, 1] + 0.1], (0, 1, 2)),
        ("gaussian_nll_loss, var (m, 1)", nn.gaussian_nll_loss, F.gaussian_nll_loss,
         [a, b, var[:, 1:2] + 0.1], (0, 1, 2)),
        ("gaussian_nll_loss, var (1, n)", nn.gaussian_nll_loss, F.gaussian_nll_loss,
         [a, b, var[:1] + 0.1], (0, 1, 2)),
        ("gaussian_nll_loss, var a number", lambda mu, y, **k: nn.gaussian_nll_loss(mu, y, 0.3,
                                                                                    **k),
         lambda mu, y, **k: F.gaussian_nll_loss(mu, y, 0.3, **k), [a, b], (0, 1)),
    ]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_margin_and_likelihood_losses_match_torch_to_the_second_derivative(reduction):
    """Values, gradients and the second derivatives of a random projection, with every input
    that takes one requiring grad, at the hinges' kinks (PyTorch's choices there), var's clamp
    (its gradient passed through, as torch's no_grad clamp) and each of torch's shapes of
    var."""
    for name, ours, theirs, inputs, wanted in _margin_and_likelihood_pairs():
        xs = [gg.Tensor(v, requires_grad=i in wanted) for i, v in enumerate(inputs)]
        ts = [torch.tensor(v, requires_grad=i in wanted) for i, v in enumerate(inputs)]
        y, ty = ours(*xs, reduction=reduction), theirs(*ts, reduction=reduction)
        np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-12, atol=1e-14,
                                   err_msg=name)
        w = np.random.default_rng(0).standard_normal(y.shape)
        J, TJ = (y * w).sum(), (ty * torch.tensor(w)).sum()
        grads = gg.grad(J, [xs[i] for i in wanted], create_graph=True)
        tgrads = torch.autograd.grad(TJ, [ts[i] for i in wanted], create_graph=True)
        for g, tg in zip(grads, tgrads):
            np.testing.assert_allclose(g.data, tg.detach().numpy(), rtol=1e-12, atol=1e-12,
                                       err_msg=f"{name}, gradient")
        v = [np.random.default_rng(k + 1).standard_normal(g.shape) for k, g in enumerate(grads)]
        J2 = sum((g * vk).sum() for g, vk in zip(grads, v))
        TJ2 = sum((tg * torch.tensor(vk)).sum() for tg, vk in zip(tgrads, v))
        if not J2.requires_grad or "margin_loss" in name and "soft" not in name:
            # piecewise linear, constant gradients; or torch has no second derivative of
            # multi_margin_loss and multilabel_margin_loss (graphgrad's is gradgradchecked
            # in test_nn_margin_losses)
            continue
        second = gg.grad(J2, [xs[i] for i in wanted], allow_unused=True)
        tsecond = torch.autograd.grad(TJ2, [ts[i] for i in wanted], allow_unused=True)
        for g, tg in zip(second, tsecond):
            g = np.zeros(1) if g is None else g
            tg = np.zeros(1) if tg is None else tg.numpy()
            np.testing.assert_allclose(g, tg, rtol=1e-10, atol=1e-10,
                                       err_msg=f"{name}, second derivative")


# -- PyTorch's classic examples (tests/test_porting_examples.py) against their PyTorch code ------
def _copy(param, array):
    with torch.no_grad():
        param.copy_(torch.tensor(np.ascontiguousarray(array)))


def _conv_weight(W):
    """graphgrad's filters (f, f, n_C_prev, n_C) (a transposed convolution's (f, f, n_C,
    n_C_prev)) as torch's (n_C, n_C_prev, f, f) ((n_C_prev, n_C, f, f))."""
    return W.transpose(3, 2, 0, 1)


def _lstm_cell_weights(cell, n_a):
    """A graphgrad LSTMCell's weights as torch's weight_ih, weight_hh, bias_ih (gates i, f, g,
    o: the course's u, f, c, o); torch's bias_hh is set to 0."""
    order = "ufco"
    W_x = np.concatenate([_split_columns(getattr(cell, f"W{g}").data, n_a)[0] for g in order])
    W_h = np.concatenate([_split_columns(getattr(cell, f"W{g}").data, n_a)[1] for g in order])
    return W_x, W_h, np.concatenate([getattr(cell, f"b{g}").data for g in order])


def _lstm_cell_grads(cell, n_a, W_x_grad, W_h_grad, b_grad):
    """torch's gradients of weight_ih, weight_hh and bias_ih, as the course's W and b."""
    for k, g in enumerate("ufco"):
        rows = slice(k * n_a, (k + 1) * n_a)
        np.testing.assert_allclose(getattr(cell, f"W{g}").grad,
                                   np.concatenate([W_h_grad[rows], W_x_grad[rows]], axis=1),
                                   rtol=1e-9, atol=1e-12, err_msg=f"W{g}")
        np.testing.assert_allclose(getattr(cell, f"b{g}").grad, b_grad[rows], rtol=1e-9,
                                   atol=1e-12, err_msg=f"b{g}")


def test_mnist_example_net_and_its_adadelta_step_match_torch():
    """The convnet in eval mode (no dropout), channels last against torch's NCHW: fc1's
    columns follow (h, w, c) here and (c, h, w) in torch's flatten."""
    from test_porting_examples import MNISTNet
    tnn = torch.nn
    rng = np.random.default_rng(0)
    gg.nn.init.seed(0)
    ours = MNISTNet()
    ours.eval()
    theirs = tnn.ModuleDict({"conv1": tnn.Conv2d(1, 16, 3, 1, padding=1),
                             "conv2": tnn.Conv2d(16, 32, 3, 1),
                             "fc1": tnn.Linear(288, 64), "fc2": tnn.Linear(64, 10)}).double()

    def fc1_columns(W):  # (64, h w c) -> (64, c h w)
        return W.reshape(-1, 3, 3, 32).transpose(0, 3, 1, 2).reshape(-1, 288)

    maps = {"conv1.W": _conv_weight, "conv2.W": _conv_weight, "fc1.W": fc1_columns}
    for name, p in ours.named_parameters():
        layer, what = name.split(".")
        tp = getattr(theirs[layer], {"W": "weight", "b": "bias"}[what])
        _copy(tp, maps.get(name, lambda a: a)(p.data))

    def torch_forward(x):
        x = torch.relu(theirs["conv1"](x.permute(0, 3, 1, 2)))
        x = torch.relu(theirs["conv2"](x))
        x = torch.flatten(torch.nn.functional.max_pool2d(x, 2), 1)
        x = theirs["fc2"](torch.relu(theirs["fc1"](x)))
        return torch.nn.functional.log_softmax(x, dim=1)

    X = rng.random((8, 8, 8, 1))
    y = rng.integers(0, 10, 8)
    x, tx = gg.Tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    out, tout = ours(x), torch_forward(tx)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    loss = gg.nn.functional.nll_loss(out, y)
    tloss = torch.nn.functional.nll_loss(tout, torch.tensor(y))
    assert loss.item() == pytest.approx(tloss.item(), rel=1e-12)
    opt = gg.optim.Adadelta(ours.parameters(), lr=1.0)
    topt = torch.optim.Adadelta(theirs.parameters(), lr=1.0)
    loss.backward()
    tloss.backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    for name, p in ours.named_parameters():
        layer, what = name.split(".")
        tp = getattr(theirs[layer], {"W": "weight", "b": "bias"}[what])
        np.testing.assert_allclose(maps.get(name, lambda a: a)(p.grad), tp.grad.numpy(),
                                   rtol=1e-9, atol=1e-12, err_msg=name)
    opt.step()
    topt.step()
    for name, p in ours.named_parameters():
        layer, what = name.split(".")
        tp = getattr(theirs[layer], {"W": "weight", "b": "bias"}[what])
        np.testing.assert_allclose(maps.get(name, lambda a: a)(p.data), tp.detach().numpy(),
                                   rtol=1e-10, atol=1e-12, err_msg=f"{name} after the step")


def test_vae_example_loss_and_gradients_match_torch():
    from test_porting_examples import VAE, vae_loss
    gg.nn.init.seed(0)
    ours = VAE(seed=3)
    layers = {name: torch.nn.Linear(*getattr(ours, name).W.shape[::-1]).double()
              for name in ("fc1", "fc21", "fc22", "fc3", "fc4")}
    for name, layer in layers.items():
        _copy(layer.weight, getattr(ours, name).W.data)
        _copy(layer.bias, getattr(ours, name).b.data)
    X = np.random.default_rng(1).random((6, 64))
    recon, mu, logvar = ours(X)
    eps = np.random.default_rng(3).standard_normal((6, 4))  # what ours drew
    tX = torch.tensor(X)
    h1 = torch.relu(layers["fc1"](tX))
    tmu, tlogvar = layers["fc21"](h1), layers["fc22"](h1)
    z = tmu + torch.tensor(eps) * torch.exp(0.5 * tlogvar)
    trecon = torch.sigmoid(layers["fc4"](torch.relu(layers["fc3"](z))))
    BCE = torch.nn.functional.binary_cross_entropy(trecon, tX, reduction="sum")
    tloss = BCE - 0.5 * torch.sum(1 + tlogvar - tmu.pow(2) - tlogvar.exp())
    loss = vae_loss(recon, X, mu, logvar)
    assert loss.item() == pytest.approx(tloss.item(), rel=1e-12)
    loss.backward()
    tloss.backward()
    for name, layer in layers.items():
        np.testing.assert_allclose(getattr(ours, name).W.grad, layer.weight.grad.numpy(),
                                   rtol=1e-9, atol=1e-11, err_msg=name)
        np.testing.assert_allclose(getattr(ours, name).b.grad, layer.bias.grad.numpy(),
                                   rtol=1e-9, atol=1e-11, err_msg=name)


def test_dcgan_example_step_gradients_match_torch():
    """One step of each network in train mode (batch norm of the batch), with D's gradients
    from its two losses (the fakes detached) and G's through D."""
    from test_porting_examples import NDF, NGF, NZ, Discriminator, Generator, weights_init
    tnn = torch.nn
    G, D = Generator(), Discriminator()
    G.apply(weights_init)
    D.apply(weights_init)
    tG = tnn.Sequential(tnn.ConvTranspose2d(NZ, NGF * 2, 4, 1, 0, bias=False),
                        tnn.BatchNorm2d(NGF * 2), tnn.ReLU(True),
                        tnn.ConvTranspose2d(NGF * 2, 1, 4, 2, 1, bias=False), tnn.Tanh()).double()
    tD = tnn.Sequential(tnn.Conv2d(1, NDF, 4, 2, 1, bias=False), tnn.LeakyReLU(0.2, True),
                        tnn.Conv2d(NDF, NDF * 2, 4, 2, 1, bias=False), tnn.BatchNorm2d(NDF * 2),
                        tnn.LeakyReLU(0.2, True),
                        tnn.Conv2d(NDF * 2, 1, 2, 1, 0, bias=False)).double()
    pairs = []  # (our parameter, torch's, our array -> torch's layout)
    for ours, theirs in ((G.main, tG), (D.main, tD)):
        for layer, tlayer in zip(ours, theirs):
            if hasattr(layer, "W"):
                pairs.append((layer.W, tlayer.weight, _conv_weight))
            elif hasattr(layer, "gamma"):
                pairs += [(layer.gamma, tlayer.weight, np.asarray),
                          (layer.beta, tlayer.bias, np.asarray)]
    for p, tp, layout in pairs:
        _copy(tp, layout(p.data))
    rng = np.random.default_rng(0)
    real, noise = rng.uniform(-1, 1, (6, 8, 8, 1)), rng.standard_normal((6, 1, 1, NZ))
    criterion, tcriterion = gg.nn.BCEWithLogitsLoss(), tnn.BCEWithLogitsLoss()
    ones, zeros = np.ones(6), np.zeros(6)

    def tD_of(images):
        return tD(images.permute(0, 3, 1, 2)).reshape(-1)

    D.zero_grad()
    tD.zero_grad()
    errD_real = criterion(D(real), ones)
    terrD_real = tcriterion(tD_of(torch.tensor(real)), torch.tensor(ones))
    errD_real.backward()
    terrD_real.backward()
    fake = G(noise)
    tfake = tG(torch.tensor(noise).permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
    np.testing.assert_allclose(fake.data, tfake.detach().numpy(), rtol=1e-9, atol=1e-12)
    errD_fake = criterion(D(fake.detach()), zeros)
    terrD_fake = tcriterion(tD_of(tfake.detach()), torch.tensor(zeros))
    errD_fake.backward()
    terrD_fake.backward()
    for value, tvalue in ((errD_real, terrD_real), (errD_fake, terrD_fake)):
        assert value.item() == pytest.approx(tvalue.item(), rel=1e-12)
    d_pairs = [pr for pr in pairs if any(pr[0] is p for p in D.parameters())]
    for p, tp, layout in d_pairs:
        np.testing.assert_allclose(layout(p.grad), tp.grad.numpy(), rtol=1e-9, atol=1e-12)
    G.zero_grad()
    tG.zero_grad()
    errG = criterion(D(fake), ones)
    terrG = tcriterion(tD_of(tfake), torch.tensor(ones))
    errG.backward()
    terrG.backward()
    assert errG.item() == pytest.approx(terrG.item(), rel=1e-12)
    for p, tp, layout in pairs:  # G's, and D's with errG's added, as in torch
        np.testing.assert_allclose(layout(p.grad), tp.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_word_language_model_example_matches_torch_with_clipping():
    """Embedding, a two-layer nn.RNN(cell="lstm") (torch's nn.LSTM(num_layers=2,
    batch_first=True), bias_hh 0), Linear, log_softmax and NLLLoss: the outputs, the last
    states (h_n, c_n), the gradients, and clip_grad_norm's (torch's divides by norm + 1e-6)."""
    from test_porting_examples import RNNModel
    gg.nn.init.seed(0)
    ours = RNNModel(8, 5, 6, nlayers=2)
    ours.eval()
    emb, lstm = torch.nn.Embedding(8, 5).double(), torch.nn.LSTM(5, 6, 2, batch_first=True)
    lstm, dec = lstm.double(), torch.nn.Linear(6, 8).double()
    _copy(emb.weight, ours.encoder.E.data)
    _copy(dec.weight, ours.decoder.W.data)
    _copy(dec.bias, ours.decoder.b.data)
    for layer, cell in enumerate((ours.rnn.cell, ours.rnn.cell_l1)):
        W_x, W_h, b = _lstm_cell_weights(cell, 6)
        _copy(getattr(lstm, f"weight_ih_l{layer}"), W_x)
        _copy(getattr(lstm, f"weight_hh_l{layer}"), W_h)
        _copy(getattr(lstm, f"bias_ih_l{layer}"), b)
        _copy(getattr(lstm, f"bias_hh_l{layer}"), np.zeros(24))
    rng = np.random.default_rng(2)
    data, targets = rng.integers(0, 8, (3, 7)), rng.integers(0, 8, (3, 7))
    h0, c0 = rng.standard_normal((2, 3, 6)), rng.standard_normal((2, 3, 6))
    output, (h_n, c_n) = ours(data, (h0, c0))
    toutput, (th_n, tc_n) = lstm(emb(torch.tensor(data)), (torch.tensor(h0), torch.tensor(c0)))
    tlog_probs = torch.nn.functional.log_softmax(dec(toutput), dim=-1)
    for a, t in ((output, tlog_probs), (h_n, th_n), (c_n, tc_n)):
        np.testing.assert_allclose(a.data, t.detach().numpy(), rtol=1e-10, atol=1e-12)
    loss = gg.nn.NLLLoss()(output.reshape(-1, 8), targets.reshape(-1))
    tloss = torch.nn.NLLLoss()(tlog_probs.reshape(-1, 8), torch.tensor(targets).reshape(-1))
    (loss / 2).backward()
    (tloss / 2).backward()
    norm = gg.optim.clip_grad_norm(ours.parameters(), 0.01)
    # bias_hh, 0 and not one of ours, gets bias_ih's gradient: left out of the norm
    tparams = [p for name, p in lstm.named_parameters() if not name.startswith("bias_hh")]
    tnorm = torch.nn.utils.clip_grad_norm_([emb.weight, *tparams, dec.weight, dec.bias], 0.01)
    assert norm == pytest.approx(tnorm.item(), rel=1e-10)
    scale = (tnorm.item() + 1e-6) / tnorm.item()  # torch's clipped norm is a little under
    np.testing.assert_allclose(ours.encoder.E.grad, emb.weight.grad.numpy() * scale,
                               rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(ours.decoder.W.grad, dec.weight.grad.numpy() * scale,
                               rtol=1e-9, atol=1e-14)
    for layer, cell in enumerate((ours.rnn.cell, ours.rnn.cell_l1)):
        _lstm_cell_grads(cell, 6, *(getattr(lstm, f"{w}_l{layer}").grad.numpy() * scale
                                    for w in ("weight_ih", "weight_hh", "bias_ih")))


def test_sine_wave_example_lbfgs_step_matches_torch():
    """The two LSTM cells and the Linear, one L-BFGS step (20 evaluations) from the same
    weights: the losses evaluated and the weights after it."""
    from test_porting_examples import Sequence, sine_waves
    gg.nn.init.seed(0)
    ours = Sequence(n_a=5)
    cells = (torch.nn.LSTMCell(1, 5).double(), torch.nn.LSTMCell(5, 5).double())
    linear = torch.nn.Linear(5, 1).double()
    for cell, tcell in zip((ours.lstm1, ours.lstm2), cells):
        W_x, W_h, b = _lstm_cell_weights(cell, 5)
        for tp, value in zip((tcell.weight_ih, tcell.weight_hh, tcell.bias_ih, tcell.bias_hh),
                             (W_x, W_h, b, np.zeros(20))):
            _copy(tp, value)
    _copy(linear.weight, ours.linear.W.data)
    _copy(linear.bias, ours.linear.b.data)
    tparams = [p for c in cells for p in (c.weight_ih, c.weight_hh, c.bias_ih)]
    tparams += [linear.weight, linear.bias]
    data = sine_waves(n=4, length=12)
    input, target = data[:, :-1], data[:, 1:]

    def torch_forward(x):
        h, c, h2, c2 = (torch.zeros(x.shape[0], 5, dtype=torch.float64) for _ in range(4))
        outputs = []
        for x_t in x.chunk(x.size(1), dim=1):
            h, c = cells[0](x_t, (h, c))
            h2, c2 = cells[1](h, (h2, c2))
            outputs.append(linear(h2))
        return torch.cat(outputs, dim=1)

    opt = gg.optim.LBFGS(ours.parameters(), lr=0.8)
    topt = torch.optim.LBFGS(tparams, lr=0.8)
    losses, tlosses = [], []

    def closure():
        opt.zero_grad()
        loss = gg.nn.MSELoss()(ours(input), target)
        losses.append(loss.item())
        loss.backward()
        return loss

    def tclosure():
        topt.zero_grad()
        loss = torch.nn.MSELoss()(torch_forward(torch.tensor(input)), torch.tensor(target))
        tlosses.append(loss.item())
        loss.backward()
        return loss

    opt.step(closure)
    topt.step(tclosure)
    assert len(losses) == len(tlosses) == 20
    np.testing.assert_allclose(losses, tlosses, rtol=1e-8)
    np.testing.assert_allclose(ours.linear.W.data, linear.weight.detach().numpy(), rtol=1e-6)
# -- PyTorch's window settings: pairs, padding="same" of even filters, ceil_mode ----------------
def _random_pair_settings(rng, dilated=True, pool=False):
    """kernel (f_h, f_w), stride, padding, dilation drawn per axis, as a PyTorch user writes
    them, and image sizes a window fits (pools pad at most f / 2)."""
    f = tuple(int(k) for k in rng.integers(1, 4, 2))
    stride = tuple(int(s) for s in rng.integers(1, 4, 2))
    pad = tuple(int(rng.integers(0, k // 2 + 1)) if pool else int(rng.integers(0, 3))
                for k in f)
    dilation = tuple(int(d) for d in rng.integers(1, 3 if dilated else 2, 2))
    sizes = tuple(int(rng.integers(max(1, d * (k - 1) + 1 - 2 * p), d * (k - 1) + 6))
                  for k, p, d in zip(f, pad, dilation))
    return f, stride, pad, dilation, sizes


def _compare_images(ours, theirs, arrays, rng):
    """ours on channels-last arrays against theirs on the same transposed to channels first;
    values and gradients to ~1e-12."""
    _compare(ours, theirs, arrays, rng, rtol=1e-12)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")  # torch's copy
@pytest.mark.parametrize("seed", range(40))
def test_conv2d_of_pair_settings_and_same_padding_match_torch(seed):
    rng = np.random.default_rng(seed)
    f, stride, pad, dilation, sizes = _random_pair_settings(rng)
    a = rng.standard_normal((2, *sizes, 3))
    w, b = rng.standard_normal((*f, 3, 4)), rng.standard_normal(4)
    _compare_images(
        lambda x, k, c: gg.conv2d(x, k, c, stride, pad, dilation=dilation),
        lambda x, k, c: TF.conv2d(x.permute(0, 3, 1, 2), k.permute(3, 2, 0, 1), c, stride, pad,
                                  dilation).permute(0, 2, 3, 1), [a, w, b], rng)
    # "same", stride 1: torch pads an even span's extra pixel at the bottom and right too
    _compare_images(
        lambda x, k: gg.conv2d(x, k, padding="same", dilation=dilation),
        lambda x, k: TF.conv2d(x.permute(0, 3, 1, 2), k.permute(3, 2, 0, 1), padding="same",
                               dilation=dilation).permute(0, 2, 3, 1), [a, w], rng)
    layer = gg.nn.Conv2d(3, 4, f, stride, pad, dilation=dilation, rng=seed)
    twin = torch.nn.Conv2d(3, 4, f, stride, pad, dilation, dtype=torch.float64)
    with torch.no_grad():
        twin.weight.copy_(torch.tensor(layer.W.data).permute(3, 2, 0, 1))
        twin.bias.copy_(torch.tensor(layer.b.data))
    np.testing.assert_allclose(layer(a).data, twin(torch.tensor(a).permute(0, 3, 1, 2))
                               .permute(0, 2, 3, 1).detach().numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", range(20))
def test_conv1d_same_padding_of_even_filters_matches_torch(seed):
    rng = np.random.default_rng(seed)
    f, d = int(rng.integers(1, 6)), int(rng.integers(1, 4))
    a, w = rng.standard_normal((2, int(rng.integers(1, 9)), 3)), rng.standard_normal((f, 3, 2))
    _compare_images(
        lambda x, k: gg.conv1d(x, k, padding="same", dilation=d),
        lambda x, k: TF.conv1d(x.permute(0, 2, 1), k.permute(2, 1, 0), padding="same",
                               dilation=d).permute(0, 2, 1), [a, w], rng)


@pytest.mark.parametrize("seed", range(40))
def test_conv_transpose2d_of_pairs_and_dilation_matches_torch(seed):
    rng = np.random.default_rng(seed)
    f, stride, pad, dilation, _ = _random_pair_settings(rng)
    extra = tuple(int(rng.integers(0, max(s, d))) for s, d in zip(stride, dilation))
    a = rng.standard_normal((2, int(rng.integers(2, 5)), int(rng.integers(2, 5)), 3))
    w, b = rng.standard_normal((*f, 2, 3)), rng.standard_normal(2)
    sizes = [(n - 1) * s - 2 * p + d * (k - 1) + 1 + e for n, s, p, d, k, e in
             zip(a.shape[1:3], stride, pad, dilation, f, extra)]
    if min(sizes) < 1:
        pad = (0, 0)
    _compare_images(
        lambda x, k, c: gg.conv_transpose2d(x, k, c, stride, pad, extra, dilation=dilation),
        lambda x, k, c: TF.conv_transpose2d(x.permute(0, 3, 1, 2), k.permute(3, 2, 0, 1), c,
                                            stride, pad, extra, 1, dilation).permute(0, 2, 3, 1),
        [a, w, b], rng)


@pytest.mark.parametrize("seed", range(60))
def test_pools_of_pairs_and_ceil_mode_match_torch(seed):
    rng = np.random.default_rng(seed)
    f, stride, pad, dilation, sizes = _random_pair_settings(rng, pool=True)
    ceil_mode = bool(rng.integers(0, 2))
    a = rng.permutation(2 * sizes[0] * sizes[1] * 2).reshape(2, *sizes, 2) * 0.1  # no ties
    try:
        gg.max_pool2d(a, f, stride, pad, dilation, ceil_mode)
    except gg.OpError as error:  # a dilated window of padding only, which torch fills -inf
        assert "only padding" in str(error)
    else:
        _compare_images(lambda x: gg.max_pool2d(x, f, stride, pad, dilation, ceil_mode),
                        _nchw(lambda x: TF.max_pool2d(x, f, stride, pad, dilation, ceil_mode)),
                        [a], rng)
    include = bool(rng.integers(0, 2))
    _compare_images(
        lambda x: gg.avg_pool2d(x, f, stride, pad, ceil_mode, count_include_pad=include),
        _nchw(lambda x: TF.avg_pool2d(x, f, stride, pad, ceil_mode, include)), [a], rng)
    layer = gg.nn.AvgPool2d(f, stride, pad, ceil_mode, count_include_pad=include)
    twin = torch.nn.AvgPool2d(f, stride, pad, ceil_mode, include)
    np.testing.assert_allclose(layer(a).data, _nchw(twin)(torch.tensor(a)).numpy(),
                               rtol=1e-12, atol=1e-12)
    # 1-D, along the rows
    k, s, p, d = f[1], stride[1], pad[1], dilation[1]
    seq = a[:, 0]
    try:
        gg.max_pool1d(seq, k, s, p, d, ceil_mode)
    except gg.OpError as error:
        assert "only padding" in str(error)
    else:
        _compare_images(lambda x: gg.max_pool1d(x, k, s, p, d, ceil_mode),
                        _nchw(lambda x: TF.max_pool1d(x, k, s, p, d, ceil_mode)), [seq], rng)
    _compare_images(lambda x: gg.avg_pool1d(x, k, s, p, ceil_mode, count_include_pad=include),
                    _nchw(lambda x: TF.avg_pool1d(x, k, s, p, ceil_mode, include)), [seq], rng)


@pytest.mark.parametrize("seed", range(40))
def test_max_pooling_indices_and_unpooling_match_torch(seed):
    """The indices of max_pool2d(..., return_indices=True) are torch's (flat per channel,
    h n_W + w), transposed to channels last; max_unpool2d as torch's, values and gradients."""
    rng = np.random.default_rng(seed)
    f, stride, pad, dilation, sizes = _random_pair_settings(rng, pool=True)
    ceil_mode = bool(rng.integers(0, 2))
    a = rng.permutation(2 * sizes[0] * sizes[1] * 3).reshape(2, *sizes, 3) * 0.1
    try:
        out, indices = gg.max_pool2d(a, f, stride, pad, dilation, ceil_mode, True)
    except gg.OpError as error:
        assert "only padding" in str(error)
        return
    ref, ref_indices = TF.max_pool2d(torch.tensor(a).permute(0, 3, 1, 2), f, stride, pad,
                                     dilation, ceil_mode, True)
    np.testing.assert_array_equal(out.data, ref.permute(0, 2, 3, 1).numpy())
    np.testing.assert_array_equal(indices.data, ref_indices.permute(0, 2, 3, 1).numpy())
    if dilation != (1, 1):
        return  # torch's max_unpool2d takes no dilation
    _compare_images(
        lambda p: gg.max_unpool2d(p, indices, f, stride, pad, output_size=sizes),
        lambda p: TF.max_unpool2d(p.permute(0, 3, 1, 2), ref_indices, f, stride, pad,
                                  output_size=sizes).permute(0, 2, 3, 1),
        [out.data.copy()], rng)


@pytest.mark.parametrize("seed", range(20))
def test_max_pool1d_indices_and_unpool1d_match_torch(seed):
    """max_pool1d(..., return_indices=True) gives torch's indices (the step l in each
    sequence's channel), transposed to channels last; max_unpool1d and nn.MaxUnpool1d as
    torch's, values and gradients."""
    rng = np.random.default_rng(seed)
    f, stride, dilation = int(rng.integers(1, 5)), int(rng.integers(1, 4)), int(
        rng.integers(1, 3))
    pad, ceil_mode = int(rng.integers(0, f // 2 + 1)), bool(rng.integers(0, 2))
    length = int(rng.integers(max(1, dilation * (f - 1) + 1 - 2 * pad), dilation * f + 6))
    a = rng.permutation(2 * length * 3).reshape(2, length, 3) * 0.1
    try:
        out, indices = gg.max_pool1d(a, f, stride, pad, dilation, ceil_mode, True)
    except gg.OpError as error:
        assert "only padding" in str(error)
        return
    ref, ref_indices = TF.max_pool1d(torch.tensor(a).movedim(-1, 1), f, stride, pad, dilation,
                                     ceil_mode, True)
    np.testing.assert_array_equal(out.data, ref.movedim(1, -1).numpy())
    np.testing.assert_array_equal(indices.data, ref_indices.movedim(1, -1).numpy())
    _compare_images(lambda x: gg.max_pool1d(x, f, stride, pad, dilation, ceil_mode, True)[0],
                    _nchw(lambda x: TF.max_pool1d(x, f, stride, pad, dilation, ceil_mode)),
                    [a], rng)
    if dilation != 1:
        return  # torch's max_unpool1d takes no dilation
    _compare_images(
        lambda p: gg.nn.MaxUnpool1d(f, stride, pad)(p, indices, output_size=length),
        lambda p: torch.nn.MaxUnpool1d(f, stride, pad)(
            p.movedim(-1, 1), ref_indices, output_size=[length]).movedim(1, -1),
        [out.data.copy()], rng)


@pytest.mark.parametrize("size", [(2, 3), 1, (4, 5), (3, None)])
def test_adaptive_max_pool2d_indices_match_torch(size):
    rng = np.random.default_rng(7)
    a = rng.permutation(2 * 7 * 5 * 3).reshape(2, 7, 5, 3) * 0.1
    out, indices = gg.nn.AdaptiveMaxPool2d(size, return_indices=True)(a)
    ref, ref_indices = torch.nn.AdaptiveMaxPool2d(size, return_indices=True)(
        torch.tensor(a).movedim(-1, 1))
    np.testing.assert_array_equal(out.data, ref.movedim(1, -1).numpy())
    np.testing.assert_array_equal(indices.data, ref_indices.movedim(1, -1).numpy())
    _compare_images(lambda x: gg.nn.functional.adaptive_max_pool2d(x, size, True)[0],
                    _nchw(lambda x: TF.adaptive_max_pool2d(x, size, True)[0]), [a], rng)


@pytest.mark.parametrize("seed", range(12))
def test_avg_pool2d_by_position_and_divisor_override_match_torch(seed):
    """nn.AvgPool2d(f, stride, padding, ceil_mode, count_include_pad, divisor_override) and
    F.avg_pool2d, all by position in PyTorch's order, against torch's."""
    rng = np.random.default_rng(seed)
    f, stride, pad, _, sizes = _random_pair_settings(rng, dilated=False, pool=True)
    ceil_mode, include = bool(rng.integers(0, 2)), bool(rng.integers(0, 2))
    divisor = None if seed % 3 == 0 else int(rng.integers(1, 10))
    a = rng.standard_normal((2, *sizes, 3))
    _compare_images(
        lambda x: gg.nn.AvgPool2d(f, stride, pad, ceil_mode, include, divisor)(x),
        _nchw(torch.nn.AvgPool2d(f, stride, pad, ceil_mode, include, divisor)), [a], rng)
    _compare_images(
        lambda x: gg.nn.functional.avg_pool2d(x, f, stride, pad, ceil_mode, include, divisor),
        _nchw(lambda x: TF.avg_pool2d(x, f, stride, pad, ceil_mode, include, divisor)), [a],
        rng)
    k, s, p = f[1], stride[1], pad[1]
    _compare_images(lambda x: gg.nn.AvgPool1d(k, s, p, ceil_mode, include)(x),
                    _nchw(torch.nn.AvgPool1d(k, s, p, ceil_mode, include)), [a[:, 0]], rng)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_load_torch_state_dict_takes_a_half_precision_model(dtype):
    """A PyTorch LSTM in bfloat16 or float16 (model.bfloat16()) loads its weights, each
    value exactly (both widen to float64 without rounding): bfloat16 raised torch's own
    "Got unsupported ScalarType BFloat16", numpy having no such dtype."""
    theirs = torch.nn.LSTM(3, 4, 2).to(getattr(torch, dtype))
    ours = gg.nn.LSTM(3, 4, 2)
    ours.load_torch_state_dict(theirs.state_dict())
    w_hh = theirs.weight_hh_l1.detach().double().numpy()
    np.testing.assert_array_equal(ours.cell_l1.Wu.data[:, :4], w_hh[:4])
    b = (theirs.bias_ih_l0.detach().double() + theirs.bias_hh_l0.detach().double()).numpy()
    np.testing.assert_array_equal(ours.cell.bo.data, b[12:])


# -- PyTorch's scaled initialisers --------------------------------------------------------------
@pytest.mark.parametrize("nonlinearity, param", [
    ("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 0), ("selu", None)])
def test_calculate_gain_matches_torch(nonlinearity, param):
    assert gg.nn.init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-15)


# graphgrad's shape and PyTorch's of the same weight: Linear's W (n_out, n_in) as PyTorch's,
# the filters (f, f, n_C_prev, n_C) where PyTorch's are (n_C, n_C_prev, f, f)
INIT_SHAPES = [((200, 300), (200, 300)), ((3, 3, 16, 32), (32, 16, 3, 3)),
               ((5, 32, 96), (96, 32, 5))]
INIT_CALLS = [
    ("xavier_uniform_", {"gain": 0.5}, "bound"), ("xavier_normal_", {"gain": 2.0}, "std"),
    ("kaiming_uniform_", {}, "bound"), ("kaiming_uniform_", {"a": 5 ** 0.5}, "bound"),
    ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}, "std"),
]


@pytest.mark.parametrize("ours, theirs", INIT_SHAPES, ids=["linear", "conv2d", "conv1d"])
@pytest.mark.parametrize("name, kwargs, spread", INIT_CALLS,
                         ids=[f"{c[0]}{c[1]}" for c in INIT_CALLS])
def test_scaled_initialisers_spread_as_torchs_on_the_same_weight(ours, theirs, name, kwargs,
                                                                   spread):
    """The same weight in each library's layout gets the same bound (the largest of >= 15,000
    uniform values) or std."""
    W = gg.nn.Parameter(np.zeros(ours))
    getattr(gg.nn.init, name)(W, **kwargs, generator=0)
    torch.manual_seed(0)
    T = getattr(torch.nn.init, name)(torch.zeros(theirs, dtype=torch.float64), **kwargs)
    T = T.numpy()
    if spread == "bound":
        assert np.abs(W.data).max() == pytest.approx(np.abs(T).max(), rel=1e-3)
    else:
        assert W.data.std() == pytest.approx(T.std(), rel=0.04)


@pytest.mark.parametrize("name, kwargs, spread", INIT_CALLS,
                         ids=[f"{c[0]}{c[1]}" for c in INIT_CALLS])
def test_scaled_initialisers_spread_a_bilinear_weight_as_torchs(name, kwargs, spread):
    """nn.Bilinear's W (n_out, n1, n2) is PyTorch's weight, and gets its bound or std: fans
    n1 * n2 and n_out * n2, not those of Conv1d filters of that shape."""
    ours = gg.nn.Bilinear(30, 40, 25)
    getattr(gg.nn.init, name)(ours.W, **kwargs, generator=0)
    torch.manual_seed(0)
    theirs = torch.nn.Bilinear(30, 40, 25, dtype=torch.float64)
    T = getattr(torch.nn.init, name)(theirs.weight.detach(), **kwargs).numpy()
    if spread == "bound":
        assert np.abs(ours.W.data).max() == pytest.approx(np.abs(T).max(), rel=1e-3)
    else:
        assert ours.W.data.std() == pytest.approx(T.std(), rel=0.04)


def test_orthogonal_and_trunc_normal_match_torchs_properties():
    W = gg.nn.Parameter(np.zeros((64, 100)))
    gg.nn.init.orthogonal_(W, gain=1.5, generator=0)
    T = torch.nn.init.orthogonal_(torch.zeros(64, 100, dtype=torch.float64), gain=1.5).numpy()
    np.testing.assert_allclose(W.data @ W.data.T, T @ T.T, atol=1e-12)
    gg.nn.init.trunc_normal_(W, 0.5, 2.0, -1.0, 4.0, generator=0)
    T = torch.nn.init.trunc_normal_(torch.zeros(400, 250, dtype=torch.float64), 0.5, 2.0, -1.0,
                                    4.0).numpy()
    assert W.data.mean() == pytest.approx(T.mean(), abs=0.05)
    assert W.data.std() == pytest.approx(T.std(), rel=0.03)


# -- ctc_loss, affine_grid and grid_sample ------------------------------------------------------
def _ctc_case():
    """log_probs batch first (m, T, C), padded targets with a repeat, lengths shorter than
    the padding, an empty target and an impossible alignment (example 3: "22" in 2 frames)."""
    rng = np.random.default_rng(41)
    x = rng.standard_normal((5, 7, 5))
    targets = np.array([[1, 2, 2], [3, 3, 1], [4, 1, 2], [2, 2, 0], [1, 1, 1]])
    return x, targets, np.array([7, 6, 5, 2, 4]), np.array([3, 2, 3, 2, 0])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("zero_infinity", [False, True])
def test_ctc_loss_matches_torch_through_log_softmax(reduction, zero_infinity):
    """Values and gradients through a log_softmax, PyTorch's (T, N, C) being our (m, T, C)
    transposed; padded and concatenated targets."""
    x, targets, input_lengths, target_lengths = _ctc_case()
    flat = np.concatenate([row[:n] for row, n in zip(targets, target_lengths)])
    w = np.random.default_rng(1).standard_normal((5,) if reduction == "none" else ())
    for given in (targets, flat):
        z = gg.Tensor(x, requires_grad=True)
        loss = gg.nn.ctc_loss(gg.log_softmax(z, axis=-1), given, input_lengths, target_lengths,
                              reduction=reduction, zero_infinity=zero_infinity)
        tz = torch.tensor(x.transpose(1, 0, 2), requires_grad=True)
        tloss = torch.nn.functional.ctc_loss(
            tz.log_softmax(-1), torch.tensor(given), torch.tensor(input_lengths),
            torch.tensor(target_lengths), reduction=reduction, zero_infinity=zero_infinity)
        np.testing.assert_allclose(loss.data, tloss.detach().numpy(), rtol=1e-12)
        (loss * w).sum().backward()
        (tloss * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(z.grad, tz.grad.numpy().transpose(1, 0, 2), rtol=1e-10,
                                   atol=1e-12)  # NaN where torch's is NaN


def test_ctc_loss_gradient_of_log_probs_as_given_differs_from_torchs_by_exp_log_probs():
    """For log_probs that are not normalised, torch's gradient is exp(log_probs) plus ours
    (over each example's frames, times its upstream gradient): ours is the derivative of the
    loss, torch's is not (finite differences of torch's own loss give ours)."""
    x, targets, input_lengths, target_lengths = _ctc_case()
    keep = [0, 1, 2, 4]  # the possible alignments
    x, targets, input_lengths, target_lengths = (x[keep], targets[keep], input_lengths[keep],
                                                 target_lengths[keep])
    lp = gg.Tensor(x, requires_grad=True)
    gg.nn.ctc_loss(lp, targets, input_lengths, target_lengths, reduction="sum").backward()
    tlp = torch.tensor(x.transpose(1, 0, 2), requires_grad=True)

    def torch_loss(v):
        return torch.nn.functional.ctc_loss(v, torch.tensor(targets), torch.tensor(input_lengths),
                                            torch.tensor(target_lengths), reduction="sum")

    torch_loss(tlp).backward()
    frames = np.arange(x.shape[1]) < input_lengths[:, None]
    np.testing.assert_allclose(tlp.grad.numpy().transpose(1, 0, 2),
                               lp.grad + np.exp(x) * frames[..., None], rtol=1e-10, atol=1e-12)
    eps, (i, t, c) = 1e-6, (1, 2, 3)
    bumped = [x.transpose(1, 0, 2).copy() for _ in range(2)]
    bumped[0][t, i, c] += eps
    bumped[1][t, i, c] -= eps
    up, down = (torch_loss(torch.tensor(b)).item() for b in bumped)
    assert (up - down) / (2 * eps) == pytest.approx(lp.grad[i, t, c], rel=1e-6)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_grid_sample_and_affine_grid_match_torch(align_corners, mode, padding_mode):
    """Values and gradients wrt the image and theta (and a grid reaching past the image), our
    NHWC images being torch's NCHW transposed."""
    rng = np.random.default_rng(3)
    images = rng.standard_normal((2, 5, 6, 3))
    # no point exactly halfway between pixels, where nearest's choice hangs on the last bit
    theta = np.array([[[1.1, 0.2, 0.1], [-0.3, 0.9, -0.2]], [[0.7, -0.4, 0.31], [0.5, 1.3, 0.0]]])
    grid = rng.uniform(-1.5, 1.5, (2, 4, 3, 2))
    a, th, g = (gg.Tensor(v, requires_grad=True) for v in (images, theta, grid))
    ta = torch.tensor(images.transpose(0, 3, 1, 2), requires_grad=True)
    tth, tg = (torch.tensor(v, requires_grad=True) for v in (theta, grid))
    F_ = torch.nn.functional
    out = gg.nn.functional.grid_sample(
        a, gg.nn.functional.affine_grid(th, (2, 4, 7, 3), align_corners), mode, padding_mode,
        align_corners)
    tout = F_.grid_sample(ta, F_.affine_grid(tth, (2, 3, 4, 7), align_corners=align_corners),
                          mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    out2 = gg.nn.functional.grid_sample(a, g, mode, padding_mode, align_corners)
    tout2 = F_.grid_sample(ta, tg, mode=mode, padding_mode=padding_mode,
                           align_corners=align_corners)
    for ours, theirs in ((out, tout), (out2, tout2)):
        np.testing.assert_allclose(ours.data, theirs.detach().numpy().transpose(0, 2, 3, 1),
                                   rtol=1e-12, atol=1e-14)
    w, w2 = rng.standard_normal(out.shape), rng.standard_normal(out2.shape)
    ((out * w).sum() + (out2 * w2).sum()).backward()
    ((tout * torch.tensor(w.transpose(0, 3, 1, 2))).sum()
     + (tout2 * torch.tensor(w2.transpose(0, 3, 1, 2))).sum()).backward()
    np.testing.assert_allclose(a.grad, ta.grad.numpy().transpose(0, 2, 3, 1), rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(th.grad, tth.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(g.grad, tg.grad.numpy(), rtol=1e-10, atol=1e-12)
@pytest.mark.parametrize("ours, theirs, metrics", [
    (lambda: gg.optim.StepDecay(0.1, 0.1, every=3), lambda opt: _LRS.StepLR(opt, 3, 0.1), None),
    (lambda: gg.optim.MultiStepDecay(0.1, [2, 5], gamma=0.5),
     lambda opt: _LRS.MultiStepLR(opt, [2, 5], gamma=0.5), None),
    (lambda: gg.optim.ExponentialDecay(0.1, 0.8), lambda opt: _LRS.ExponentialLR(opt, 0.8), None),
    (lambda: gg.optim.CosineDecay(0.1, 10), lambda opt: _LRS.CosineAnnealingLR(opt, 10), None),
    (lambda: gg.optim.LambdaSchedule(0.1, lambda e: 1 / (1 + e)),
     lambda opt: _LRS.LambdaLR(opt, lambda e: 1 / (1 + e)), None),
    (lambda: gg.optim.ReduceOnPlateau(0.1, factor=0.5, patience=1),
     lambda opt: _LRS.ReduceLROnPlateau(opt, factor=0.5, patience=1),
     [3.0, 2.0, 2.0, 2.0, 1.0, 1.5, 1.5, 1.2, 0.5, 0.5]),
], ids=["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LambdaLR",
        "ReduceLROnPlateau"])
def test_lr_scheduler_steps_parameter_groups_as_torchs_scheduler(ours, theirs, metrics):
    """optim.LRScheduler(optimizer, schedule) in PyTorch's loop: each group's lr after every
    scheduler.step(), the groups' own rates 0.1 and 0.01 scaled alike."""
    a, b = (gg.Tensor(np.ones(2), requires_grad=True) for _ in range(2))
    opt = gg.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.01}], lr=0.1)
    scheduler = gg.optim.LRScheduler(opt, ours())
    p, q = torch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    opt_t = torch.optim.SGD([{"params": [p]}, {"params": [q], "lr": 0.01}], lr=0.1)
    scheduler_t = theirs(opt_t)
    assert scheduler.base_lrs == [0.1, 0.01]
    if metrics is None:  # ReduceLROnPlateau keeps no initial_lr
        assert scheduler.base_lrs == [g["initial_lr"] for g in opt_t.param_groups]
    for epoch in range(10):
        np.testing.assert_allclose(scheduler.get_last_lr(),
                                   [g["lr"] for g in opt_t.param_groups], rtol=1e-12)
        opt_t.step()
        if metrics is None:
            scheduler.step()
            scheduler_t.step()
        else:
            scheduler.step(metrics[epoch])
            scheduler_t.step(metrics[epoch])
        assert scheduler.last_epoch == epoch + 1
# -- parametrizations: weight_norm and spectral_norm -----------------------------------------
def _torch_parametrized_step(torch_layer, gg_layer, X_torch, X_gg):
    """One forward and backward of sum(out ** 2) on each; the outputs."""
    out_t = torch_layer(X_torch)
    (out_t ** 2).sum().backward()
    out_g = gg_layer(X_gg)
    (out_g ** 2).sum().backward()
    return out_t.detach().numpy(), out_g.data


def test_weight_norm_of_a_linear_layer_matches_pytorchs():
    from graphgrad import nn
    from graphgrad.nn.utils.parametrizations import weight_norm
    torch.manual_seed(0)
    t_layer = torch.nn.Linear(3, 4).double()
    g_layer = nn.Linear(3, 4)
    g_layer.W.data = t_layer.weight.detach().numpy().copy()
    g_layer.b.data = t_layer.bias.detach().numpy().copy()
    torch.nn.utils.parametrizations.weight_norm(t_layer)
    weight_norm(g_layer)
    t_list, g_list = t_layer.parametrizations.weight, g_layer.parametrizations.W
    with torch.no_grad():
        t_list.original0.mul_(torch.tensor([[0.5], [1.0], [2.0], [3.0]], dtype=torch.float64))
    g_list.original0.data = t_list.original0.detach().numpy().copy()
    X = np.random.default_rng(0).standard_normal((5, 3))
    out_t, out_g = _torch_parametrized_step(t_layer, g_layer, torch.tensor(X), X)
    np.testing.assert_allclose(out_g, out_t, rtol=1e-12, atol=1e-12)
    for i in (0, 1):
        t_grad = getattr(t_list, f"original{i}").grad.numpy()
        np.testing.assert_allclose(getattr(g_list, f"original{i}").grad, t_grad, rtol=1e-10,
                                   atol=1e-12)


def test_weight_norm_of_a_conv2d_layer_is_per_filter_as_pytorchs():
    """PyTorch's weight (n_C, n_C_prev, f, f) is graphgrad's W (f, f, n_C_prev, n_C)
    transposed: its dim=0 is graphgrad's default, W's last axis."""
    from graphgrad import nn
    from graphgrad.nn.utils.parametrizations import weight_norm
    torch.manual_seed(1)
    t_layer = torch.nn.Conv2d(2, 3, 3).double()
    g_layer = nn.Conv2d(2, 3, 3)
    g_layer.W.data = t_layer.weight.detach().numpy().transpose(2, 3, 1, 0).copy()
    g_layer.b.data = t_layer.bias.detach().numpy().copy()
    torch.nn.utils.parametrizations.weight_norm(t_layer)
    weight_norm(g_layer)
    t_list, g_list = t_layer.parametrizations.weight, g_layer.parametrizations.W
    np.testing.assert_allclose(g_list.original0.data.ravel(),
                               t_list.original0.detach().numpy().ravel(), rtol=1e-14)
    A = np.random.default_rng(1).standard_normal((2, 5, 5, 2))
    out_t, out_g = _torch_parametrized_step(t_layer, g_layer,
                                            torch.tensor(A.transpose(0, 3, 1, 2)), A)
    np.testing.assert_allclose(out_g, out_t.transpose(0, 2, 3, 1), rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(g_list.original0.grad.ravel(), t_list.original0.grad.numpy()
                               .ravel(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(g_list.original1.grad, t_list.original1.grad.numpy()
                               .transpose(2, 3, 1, 0), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", ["linear", "conv2d"])
def test_spectral_norm_matches_pytorchs_with_the_same_u_and_v(kind):
    """With PyTorch's u and v copied in (v's columns in graphgrad's order: (f, f, n_C_prev)
    for PyTorch's (n_C_prev, f, f)), two training steps give the same power iterations,
    outputs and gradients wrt the original weight; eval mode then leaves u and v alone."""
    from graphgrad import nn
    from graphgrad.nn.utils.parametrizations import spectral_norm
    torch.manual_seed(2)
    rng = np.random.default_rng(2)
    if kind == "linear":
        t_layer, g_layer = torch.nn.Linear(5, 4).double(), nn.Linear(5, 4)
        to_gg = from_gg_v = lambda a: a  # noqa: E731
        X = rng.standard_normal((6, 5))
        X_t = torch.tensor(X)
        out_to_gg = lambda a: a  # noqa: E731
    else:
        t_layer, g_layer = torch.nn.Conv2d(2, 3, 2).double(), nn.Conv2d(2, 3, 2)
        to_gg = lambda a: a.transpose(2, 3, 1, 0)  # noqa: E731
        from_gg_v = lambda v: v.reshape(2, 2, 2).transpose(1, 2, 0).ravel()  # noqa: E731
        X = rng.standard_normal((2, 4, 4, 2))
        X_t = torch.tensor(X.transpose(0, 3, 1, 2))
        out_to_gg = lambda a: a.transpose(0, 2, 3, 1)  # noqa: E731
    g_layer.W.data = to_gg(t_layer.weight.detach().numpy()).copy()
    g_layer.b.data = t_layer.bias.detach().numpy().copy()
    torch.nn.utils.parametrizations.spectral_norm(t_layer)
    spectral_norm(g_layer)
    t_sn, g_sn = t_layer.parametrizations.weight[0], g_layer.parametrizations.W[0]
    g_sn._u = t_sn._u.numpy().copy()
    g_sn._v = from_gg_v(t_sn._v.numpy().copy())
    for _ in range(2):
        t_layer.zero_grad()
        g_layer.zero_grad()
        out_t, out_g = _torch_parametrized_step(t_layer, g_layer, X_t, X)
        np.testing.assert_allclose(out_g, out_to_gg(out_t), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(g_sn._u, t_sn._u.numpy(), rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(g_sn._v, from_gg_v(t_sn._v.numpy()), rtol=1e-10,
                                   atol=1e-14)
        np.testing.assert_allclose(g_layer.parametrizations.W.original.grad,
                                   to_gg(t_layer.parametrizations.weight.original.grad.numpy()),
                                   rtol=1e-10, atol=1e-12)
    t_layer.eval()
    g_layer.eval()
    out_t, out_g = _torch_parametrized_step(t_layer, g_layer, X_t, X)
    np.testing.assert_allclose(out_g, out_to_gg(out_t), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(g_sn._u, t_sn._u.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("seed", range(12))
def test_max_pool_layers_take_torchs_positional_order(seed):
    """nn.MaxPool2d and nn.MaxPool1d called with torch's six positional arguments (kernel_size,
    stride, padding, dilation, return_indices, ceil_mode) give torch's modules' values and
    indices, channels last."""
    rng = np.random.default_rng(seed)
    f, stride, pad, dilation, sizes = _random_pair_settings(rng, pool=True)
    return_indices, ceil_mode = bool(rng.integers(0, 2)), bool(rng.integers(0, 2))
    a = rng.permutation(2 * sizes[0] * sizes[1] * 3).reshape(2, *sizes, 3) * 0.1
    settings = (f, stride, pad, dilation, return_indices, ceil_mode)
    try:
        out = gg.nn.MaxPool2d(*settings)(a)
    except gg.OpError as error:
        assert "only padding" in str(error)
        return
    ref = torch.nn.MaxPool2d(*settings)(torch.tensor(a).permute(0, 3, 1, 2))
    outs, refs = (out, ref) if return_indices else ((out,), (ref,))
    for mine, theirs in zip(outs, refs):
        np.testing.assert_array_equal(mine.data, theirs.permute(0, 2, 3, 1).numpy())
    seq = a[:, 0]
    settings = (f[1], stride[1], pad[1], dilation[1], return_indices, ceil_mode)
    try:
        out = gg.nn.MaxPool1d(*settings)(seq)
    except gg.OpError as error:
        assert "only padding" in str(error)
        return
    ref = torch.nn.MaxPool1d(*settings)(torch.tensor(seq).movedim(-1, 1))
    outs, refs = (out, ref) if return_indices else ((out,), (ref,))
    for mine, theirs in zip(outs, refs):
        np.testing.assert_array_equal(mine.data, theirs.movedim(1, -1).numpy())
# -- PyTorch's attention and Transformer encoder layers ----------------------------------------
def _attention_grads_agree(ours, theirs):
    """Every parameter's gradient of ours equal to PyTorch's, by its PyTorch name: PyTorch's
    gradients loaded into a copy as weights are, then compared parameter by parameter."""
    import copy

    again = copy.deepcopy(ours)
    again.load_torch_state_dict({k: v.grad for k, v in theirs.named_parameters()})
    for (name, p), g in zip(ours.named_parameters(), again.parameters()):
        np.testing.assert_allclose(p.grad, g.data, rtol=1e-9, atol=1e-11, err_msg=name)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("kdim", [None, 3])
@pytest.mark.parametrize("average", [True, False])
def test_multihead_attention_against_torch(batch_first, kdim, average):
    torch.manual_seed(0)
    theirs = torch.nn.MultiheadAttention(6, 2, kdim=kdim, vdim=kdim, batch_first=batch_first,
                                         dtype=torch.float64)
    ours = gg.nn.MultiheadAttention(6, 2, kdim=kdim, vdim=kdim, batch_first=batch_first)
    ours.load_torch_state_dict(theirs.state_dict())
    rng = np.random.default_rng(0)
    N, L, S, n_k = 2, 3, 4, kdim or 6
    shape = (lambda T, n: (N, T, n)) if batch_first else (lambda T, n: (T, N, n))
    arrays = [rng.standard_normal(shape(L, 6)), rng.standard_normal(shape(S, n_k)),
              rng.standard_normal(shape(S, n_k))]
    # both float (PyTorch deprecates a boolean and a float mask together): -inf hides
    padding = np.where([[False] * S, [False, False, True, True]], -np.inf, 0.0)
    attn = np.where(rng.random((L, S)) < 0.3, -np.inf, rng.standard_normal((L, S)))
    attn[:, 0] = 0.0
    tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
    inputs = [gg.Tensor(a, requires_grad=True) for a in arrays]
    out_t, w_t = theirs(*tensors, key_padding_mask=torch.tensor(padding),
                        attn_mask=torch.tensor(attn), average_attn_weights=average)
    out_g, w_g = ours(*inputs, key_padding_mask=padding, attn_mask=attn,
                      average_attn_weights=average)
    np.testing.assert_allclose(out_g.data, out_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w_g.data, w_t.detach().numpy(), rtol=1e-10, atol=1e-13)
    seed = rng.standard_normal(out_g.shape)
    (out_t * torch.tensor(seed)).sum().backward()
    (out_g * seed).sum().backward()
    for x, t in zip(inputs, tensors):
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-9, atol=1e-11)
    _attention_grads_agree(ours, theirs)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("training", [True, False])
def test_transformer_encoder_against_torch(norm_first, batch_first, activation, training):
    torch.manual_seed(1)
    t_layer = torch.nn.TransformerEncoderLayer(
        6, 2, 10, dropout=0.0, activation=activation, batch_first=batch_first,
        norm_first=norm_first, dtype=torch.float64)
    theirs = torch.nn.TransformerEncoder(t_layer, 2, norm=torch.nn.LayerNorm(
        6, dtype=torch.float64), enable_nested_tensor=False).train(training)
    layer = gg.nn.TransformerEncoderLayer(6, 2, 10, dropout=0.0, activation=activation,
                                          batch_first=batch_first, norm_first=norm_first)
    ours = gg.nn.TransformerEncoder(layer, 2, norm=gg.nn.LayerNorm(6)).train(training)
    ours.load_torch_state_dict(theirs.state_dict())
    rng = np.random.default_rng(1)
    X = rng.standard_normal((2, 4, 6) if batch_first else (4, 2, 6))
    causal = np.triu(np.ones((4, 4), bool), 1)
    padding = np.array([[False] * 4, [False, False, False, True]])
    X_t, X_g = torch.tensor(X, requires_grad=True), gg.Tensor(X, requires_grad=True)
    out_t = theirs(X_t, mask=torch.tensor(causal), src_key_padding_mask=torch.tensor(padding))
    out_g = ours(X_g, mask=causal, src_key_padding_mask=padding)
    np.testing.assert_allclose(out_g.data, out_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    seed = rng.standard_normal(out_g.shape)
    (out_t * torch.tensor(seed)).sum().backward()
    (out_g * seed).sum().backward()
    np.testing.assert_allclose(X_g.grad, X_t.grad.numpy(), rtol=1e-9, atol=1e-11)
    _attention_grads_agree(ours, theirs)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("training", [True, False])
def test_transformer_decoder_against_torch(norm_first, batch_first, training):
    torch.manual_seed(2)
    t_layer = torch.nn.TransformerDecoderLayer(
        6, 3, 8, dropout=0.0, activation="gelu", batch_first=batch_first,
        norm_first=norm_first, dtype=torch.float64)
    theirs = torch.nn.TransformerDecoder(t_layer, 2, norm=torch.nn.LayerNorm(
        6, dtype=torch.float64)).train(training)
    layer = gg.nn.TransformerDecoderLayer(6, 3, 8, dropout=0.0, activation="gelu",
                                          batch_first=batch_first, norm_first=norm_first)
    ours = gg.nn.TransformerDecoder(layer, 2, norm=gg.nn.LayerNorm(6)).train(training)
    ours.load_torch_state_dict(theirs.state_dict())
    rng = np.random.default_rng(2)
    N, T, S = 2, 4, 5
    tgt = rng.standard_normal((N, T, 6) if batch_first else (T, N, 6))
    memory = rng.standard_normal((N, S, 6) if batch_first else (S, N, 6))
    causal = np.triu(np.ones((T, T), bool), 1)
    tgt_padding = np.array([[False] * T, [False, False, False, True]])
    # float like memory_mask (PyTorch deprecates mixing the two): -inf hides
    memory_padding = np.where([[False] * S, [False, False, True, True, True]], -np.inf, 0.0)
    memory_mask = rng.standard_normal((T, S))  # float: added
    arrays = (tgt, memory)
    tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
    inputs = [gg.Tensor(a, requires_grad=True) for a in arrays]
    masks = dict(tgt_mask=causal, memory_mask=memory_mask, tgt_key_padding_mask=tgt_padding,
                 memory_key_padding_mask=memory_padding)
    out_t = theirs(*tensors, **{k: torch.tensor(v) for k, v in masks.items()})
    out_g = ours(*inputs, **masks)
    np.testing.assert_allclose(out_g.data, out_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    seed = rng.standard_normal(out_g.shape)
    (out_t * torch.tensor(seed)).sum().backward()
    (out_g * seed).sum().backward()
    for x, t in zip(inputs, tensors):
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-9, atol=1e-11)
    _attention_grads_agree(ours, theirs)


@pytest.mark.filterwarnings("ignore:enable_nested_tensor")  # torch's fast path, not taken
@pytest.mark.parametrize("batch_first, norm_first", [(False, False), (True, True)])
def test_transformer_model_against_torch(batch_first, norm_first):
    torch.manual_seed(3)
    theirs = torch.nn.Transformer(6, 2, 2, 1, 8, dropout=0.0, batch_first=batch_first,
                                  norm_first=norm_first, dtype=torch.float64)
    ours = gg.nn.Transformer(6, 2, 2, 1, 8, dropout=0.0, batch_first=batch_first,
                             norm_first=norm_first)
    ours.load_torch_state_dict(theirs.state_dict())
    rng = np.random.default_rng(3)
    src = rng.standard_normal((2, 5, 6) if batch_first else (5, 2, 6))
    tgt = rng.standard_normal((2, 3, 6) if batch_first else (3, 2, 6))
    tgt_mask = gg.nn.Transformer.generate_square_subsequent_mask(3)
    np.testing.assert_array_equal(
        tgt_mask, torch.nn.Transformer.generate_square_subsequent_mask(3, dtype=torch.float64))
    tensors = [torch.tensor(a, requires_grad=True) for a in (src, tgt)]
    inputs = [gg.Tensor(a, requires_grad=True) for a in (src, tgt)]
    out_t = theirs(*tensors, tgt_mask=torch.tensor(tgt_mask))
    out_g = ours(*inputs, tgt_mask=tgt_mask)
    np.testing.assert_allclose(out_g.data, out_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    seed = rng.standard_normal(out_g.shape)
    (out_t * torch.tensor(seed)).sum().backward()
    (out_g * seed).sum().backward()
    for x, t in zip(inputs, tensors):
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-9, atol=1e-11)
    _attention_grads_agree(ours, theirs)


# -- graphgrad.data against torch.utils.data ---------------------------------------------------
def _torch_stream(rows, labels):
    class Stream(torch.utils.data.IterableDataset):
        def __iter__(self):
            return iter(zip(torch.tensor(rows), torch.tensor(labels)))

        def __len__(self):
            return len(rows)

    return Stream()


@pytest.mark.parametrize("batch_size, drop_last", [(3, False), (3, True), (5, False), (7, True)])
def test_an_iterable_datasets_batches_and_len_against_torch(batch_size, drop_last):
    from graphgrad import data
    rows = np.arange(21, dtype=np.float32).reshape(7, 3)
    labels = np.arange(7) % 3

    class Stream(data.IterableDataset):
        def __iter__(self):
            return iter(zip(rows, labels.tolist()))

        def __len__(self):
            return len(rows)

    ours = data.DataLoader(Stream(), batch_size=batch_size, drop_last=drop_last)
    theirs = torch.utils.data.DataLoader(_torch_stream(rows, labels), batch_size=batch_size,
                                         drop_last=drop_last)
    assert len(ours) == len(theirs)
    pairs = list(zip(ours, theirs, strict=True))
    for (Xa, ya), (Xb, yb) in pairs:
        assert Xa.dtype == np.float32 and Xb.dtype == torch.float32
        np.testing.assert_array_equal(Xa, Xb.numpy())
        np.testing.assert_array_equal(ya, yb.numpy())


@pytest.mark.parametrize("keywords", [
    {"shuffle": True, "sampler": [0, 1]},
    {"batch_sampler": [[0, 1]], "batch_size": 2},
    {"batch_sampler": [[0, 1]], "shuffle": True},
    {"batch_sampler": [[0, 1]], "sampler": [0]},
    {"batch_sampler": [[0, 1]], "drop_last": True},
    {"prefetch_factor": 2},
    {"persistent_workers": True},
    {"timeout": -1},
])
def test_the_loaders_refusals_against_torch(keywords):
    from graphgrad import data
    with pytest.raises(ValueError):
        torch.utils.data.DataLoader(list(range(4)), **keywords)
    with pytest.raises(ValueError):  # gg.ArgumentError is a ValueError
        data.DataLoader(np.arange(4.0), **keywords)


@pytest.mark.parametrize("keywords", [{"shuffle": True}, {"sampler": [0]},
                                      {"batch_sampler": [[0]]}])
def test_an_iterable_datasets_refusals_against_torch(keywords):
    from graphgrad import data

    class Stream(data.IterableDataset):
        def __iter__(self):
            return iter(range(3))

    with pytest.raises(ValueError, match="IterableDataset"):
        torch.utils.data.DataLoader(_torch_stream(np.zeros(3), np.zeros(3)), **keywords)
    with pytest.raises(ValueError, match="IterableDataset"):
        data.DataLoader(Stream(), **keywords)


def test_loaders_over_a_sampler_and_a_batch_sampler_give_torchs_batches():
    from graphgrad import data
    X = np.arange(30, dtype=np.float32).reshape(10, 3)
    Y = np.arange(10) % 4
    order, batches = [7, 2, 9, 0, 4, 4, 1], [[3, 1], [0], [9, 8, 2]]
    theirs_set = torch.utils.data.TensorDataset(torch.tensor(X), torch.tensor(Y))
    for ours, theirs in (
            (data.DataLoader(data.TensorDataset(X, Y), batch_size=3, sampler=order),
             torch.utils.data.DataLoader(theirs_set, batch_size=3, sampler=order)),
            (data.DataLoader(data.TensorDataset(X, Y), batch_size=3, sampler=order,
                             drop_last=True),
             torch.utils.data.DataLoader(theirs_set, batch_size=3, sampler=order,
                                         drop_last=True)),
            (data.DataLoader(data.TensorDataset(X, Y), batch_sampler=batches),
             torch.utils.data.DataLoader(theirs_set, batch_sampler=batches)),
            (data.DataLoader(data.Subset(data.Subset(data.TensorDataset(X, Y), [9, 7, 5, 3]),
                                         [-1, 0, 2]), batch_size=2, shuffle=False),
             torch.utils.data.DataLoader(torch.utils.data.Subset(torch.utils.data.Subset(
                 theirs_set, [9, 7, 5, 3]), [-1, 0, 2]), batch_size=2))):
        assert len(ours) == len(theirs)
        for (Xa, ya), (Xb, yb) in zip(ours, theirs, strict=True):
            np.testing.assert_array_equal(Xa, Xb.numpy())
            np.testing.assert_array_equal(ya, yb.numpy())


@pytest.mark.parametrize("m", [0, 1, 3, 7, 10, 13, 100, 148])
def test_random_split_sizes_against_torch(m):
    from graphgrad import data
    for fractions in ([0.8, 0.2], [0.1, 0.2, 0.7], [1 / 3] * 3, [0.05, 0.95], [0.25] * 4,
                      [0.9, 0.05, 0.05], [0.6, 0.2, 0.2], [1.0, 0.0]):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns of a split of no examples
            theirs = [len(s) for s in torch.utils.data.random_split(range(m), fractions)]
        assert [len(s) for s in data.random_split(np.arange(m), fractions)] == theirs


def test_default_collate_against_torch():
    import collections

    from graphgrad import data
    Pair = collections.namedtuple("Pair", "x y")
    examples = [
        [{"a": np.full(2, i, np.float32), "n": i, "f": i / 2, "s": f"w{i}"} for i in range(3)],
        [Pair(np.float32(i), i) for i in range(3)],
        [(np.arange(4.0) + i, [i, i + 1]) for i in range(3)],
        [[True, 1.5], [False, 2.5]],
    ]

    def to_torch(x):
        if isinstance(x, np.ndarray):
            return torch.from_numpy(x)
        if isinstance(x, dict):
            return {k: to_torch(v) for k, v in x.items()}
        return x

    def same(ours, theirs):
        if isinstance(theirs, torch.Tensor):
            assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
            np.testing.assert_array_equal(ours, theirs.numpy())
        elif isinstance(theirs, dict):
            assert list(ours) == list(theirs)
            for k in theirs:
                same(ours[k], theirs[k])
        elif isinstance(theirs, (list, tuple)) and not isinstance(theirs[0], str):
            # PyTorch gives a list for tuples (a named tuple keeps its type); a tuple here.
            assert len(ours) == len(theirs) and type(ours) is (
                type(theirs) if hasattr(theirs, "_fields") else type(ours))
            for a, b in zip(ours, theirs):
                same(a, b)
        else:
            assert list(ours) == list(theirs)  # strings: a list of them

    for batch in examples:
        same(data.default_collate(batch),
             torch.utils.data.default_collate([to_torch(x) for x in batch]))
    tensors = [gg.Tensor(np.full(3, i, np.float32)) for i in range(2)]
    same(data.default_collate(tensors),
         torch.utils.data.default_collate([torch.full((3,), float(i)) for i in range(2)]))


@pytest.mark.parametrize("sampler", [None, [4, 0, 2, 2]])
def test_a_loader_without_batches_against_torch(sampler):
    from graphgrad import data
    X = np.arange(15, dtype=np.float32).reshape(5, 3)
    Y = np.arange(5) % 2
    ours = data.DataLoader(data.TensorDataset(X, Y), batch_size=None, shuffle=False,
                           sampler=sampler)
    theirs = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.tensor(X), torch.tensor(Y)), batch_size=None,
        sampler=sampler)
    assert len(ours) == len(theirs)
    for (xa, ya), (xb, yb) in zip(ours, theirs, strict=True):
        assert xa.shape == tuple(xb.shape) == (3,) and xa.dtype == np.float32
        np.testing.assert_array_equal(xa, xb.numpy())
        assert int(ya) == int(yb)
