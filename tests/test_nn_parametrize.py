"""Parametrizations (``nn.utils.parametrize``) and the two PyTorch builds on them,
``nn.utils.parametrizations.weight_norm`` and ``spectral_norm``: the weight recomputed from
its originals at each read, gradients reaching them (finite differences), sigma against
numpy's largest singular value, state_dict keys, removal, copies, and a GAN-style step."""
import copy
import pickle

import numpy as np
import pytest

import graphgrad as gg
from graphgrad import nn, optim
from graphgrad.nn.utils import parametrize
from graphgrad.nn.utils.parametrizations import spectral_norm, weight_norm


def rows_normalized(v, g):
    """W = g v / ||v|| with the norm of each row (the axes but 0)."""
    return g * v / np.sqrt((v ** 2).sum(axis=tuple(range(1, v.ndim)), keepdims=True))


# -- weight_norm --------------------------------------------------------------------------------
def test_weight_norm_on_linear_keeps_the_weight_and_splits_it_into_g_and_v():
    layer = nn.Linear(3, 4, rng=0)
    W = layer.W.data.copy()
    assert weight_norm(layer) is layer
    g = layer.parametrizations.W.original0
    v = layer.parametrizations.W.original1
    assert g.shape == (4, 1) and v.shape == (4, 3)
    np.testing.assert_allclose(g.data[:, 0], np.linalg.norm(W, axis=1), rtol=1e-15)
    np.testing.assert_array_equal(v.data, W)
    np.testing.assert_allclose(layer.W.data, W, rtol=1e-14)  # the same weight to begin with
    assert list(layer.state_dict()) == ["b", "parametrizations.W.original0",
                                        "parametrizations.W.original1"]
    assert [n for n, _ in layer.named_parameters()] == list(layer.state_dict())
    assert isinstance(layer, nn.Linear) and type(layer).__name__ == "ParametrizedLinear"
    assert parametrize.is_parametrized(layer) and parametrize.is_parametrized(layer, "W")
    assert not parametrize.is_parametrized(layer, "b")
    assert type(nn.Linear(3, 4)) is nn.Linear  # other layers keep their class


def test_the_weight_is_recomputed_from_g_and_v_at_each_read_and_call():
    layer = weight_norm(nn.Linear(3, 2, rng=1))
    g = layer.parametrizations.W.original0
    v = layer.parametrizations.W.original1
    g.data = np.array([[2.0], [0.5]])
    v.data = np.array([[3.0, 0.0, 4.0], [1.0, 1.0, 1.0]])
    expected = np.array([[1.2, 0.0, 1.6], [0.5 / np.sqrt(3)] * 3])
    np.testing.assert_allclose(layer.W.data, expected, rtol=1e-15)
    X = np.random.default_rng(0).standard_normal((5, 3))
    np.testing.assert_allclose(layer(X).data, X @ expected.T + layer.b.data, rtol=1e-14)


def test_gradients_reach_g_and_v_as_finite_differences_give_them():
    rng = np.random.default_rng(2)
    layer = weight_norm(nn.Linear(3, 2, rng=2))
    X, Y = rng.standard_normal((6, 3)), rng.standard_normal((6, 2))
    nn.mse(layer(X), Y).backward()
    g = layer.parametrizations.W.original0
    v = layer.parametrizations.W.original1

    def cost(g_, v_):
        Z = X @ rows_normalized(v_, g_).T + layer.b.data
        return ((Z - Y) ** 2).mean()

    for p, bump in ((g, lambda d: (g.data + d, v.data)), (v, lambda d: (g.data, v.data + d))):
        numeric = np.zeros(p.shape)
        for i in np.ndindex(p.shape):
            d = np.zeros(p.shape)
            d[i] = 1e-6
            numeric[i] = (cost(*bump(d)) - cost(*bump(-d))) / 2e-6
        np.testing.assert_allclose(p.grad, numeric, rtol=1e-6, atol=1e-9)
    assert layer.b.grad is not None


@pytest.mark.parametrize("dim", [0, 1, -1, None])
def test_gradcheck_of_the_weight_norm_forward_in_float64(dim):
    layer = weight_norm(nn.Linear(4, 3, rng=3), dim=dim)
    wn = layer.parametrizations.W[0]
    g = layer.parametrizations.W.original0.data
    v = layer.parametrizations.W.original1.data
    assert g.shape == {0: (3, 1), 1: (1, 4), -1: (1, 4), None: ()}[dim]
    gg.gradcheck(lambda g_, v_: wn(g_, v_), [g + 0.3, v])
    gg.gradgradcheck(lambda g_, v_: wn(g_, v_), [g + 0.3, v])  # a gradient penalty's needs


def test_weight_norm_on_conv2d_is_per_filter_the_last_axis_of_w():
    """A Conv2d's W is (f, f, n_C_prev, n_C): one filter per output channel on its last
    axis, the units PyTorch's dim=0 names in its (n_C, n_C_prev, f, f) weight."""
    layer = nn.Conv2d(2, 3, 3, rng=4)
    W = layer.W.data.copy()
    weight_norm(layer)
    g = layer.parametrizations.W.original0
    assert g.shape == (1, 1, 1, 3)
    np.testing.assert_allclose(g.data.ravel(), np.linalg.norm(W.reshape(-1, 3), axis=0))
    g.data = g.data * np.array([1.0, 2.0, 3.0])
    A = np.random.default_rng(5).standard_normal((2, 5, 5, 2))
    expected = gg.conv2d(A, W * np.array([1.0, 2.0, 3.0]), layer.b.data).data
    np.testing.assert_allclose(layer(A).data, expected, rtol=1e-12, atol=1e-12)
    assert weight_norm(nn.Conv2d(2, 3, 3), dim=0).parametrizations.W.original0.shape == (
        3, 1, 1, 1)
    assert weight_norm(nn.Conv1d(2, 5, 3)).parametrizations.W.original0.shape == (1, 1, 5)


def test_weight_norm_trains_through_an_optimizer():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((32, 3))
    Y = X @ np.array([[1.0], [-2.0], [0.5]]) + 0.3
    model = nn.Sequential(weight_norm(nn.Linear(3, 1, rng=6)))
    assert [n for n, _ in model.named_parameters()] == [
        "linear1.b", "linear1.parametrizations.W.original0",
        "linear1.parametrizations.W.original1"]
    opt = optim.Adam(model.parameters(), lr=0.05)
    first = None
    for _ in range(300):
        J = nn.mse(model(X), Y)
        first = first if first is not None else J.item()
        opt.zero_grad()
        J.backward()
        opt.step()
    assert J.item() < 1e-4 < first
    np.testing.assert_allclose(model.linear1.W.data, [[1.0, -2.0, 0.5]], atol=1e-2)


# -- spectral_norm ------------------------------------------------------------------------------
def test_sigma_is_numpys_largest_singular_value_after_enough_power_iterations():
    layer = nn.Linear(5, 4, rng=7)
    W = layer.W.data.copy()
    spectral_norm(layer, n_power_iterations=100)
    sn = layer.parametrizations.W[0]
    W_sn = layer.W.data
    sigma = np.linalg.svd(W, compute_uv=False)[0]
    np.testing.assert_allclose(W_sn, W / sigma, rtol=1e-10)
    np.testing.assert_allclose(np.linalg.svd(W_sn, compute_uv=False)[0], 1.0, rtol=1e-10)
    U, S, Vt = np.linalg.svd(W)
    np.testing.assert_allclose(abs(sn._u @ U[:, 0]), 1.0, rtol=1e-10)
    np.testing.assert_allclose(abs(sn._v @ Vt[0]), 1.0, rtol=1e-10)
    assert layer.parametrizations.W.original is not None
    assert list(layer.state_dict()) == ["b", "parametrizations.W.original",
                                        "parametrizations.W.0._u", "parametrizations.W.0._v"]
    assert [n for n, _ in layer.named_parameters()] == ["b", "parametrizations.W.original"]


def test_spectral_norm_of_conv2d_is_of_w_as_a_matrix_of_one_row_per_filter():
    layer = nn.Conv2d(2, 3, 3, rng=8)
    W = layer.W.data.copy()
    spectral_norm(layer, n_power_iterations=200)
    matrix = np.moveaxis(W, 3, 0).reshape(3, -1)
    assert layer.parametrizations.W[0]._u.shape == (3,)
    assert layer.parametrizations.W[0]._v.shape == (18,)
    np.testing.assert_allclose(layer.W.data, W / np.linalg.svd(matrix, compute_uv=False)[0],
                               rtol=1e-10)
    convT = spectral_norm(nn.ConvTranspose2d(2, 5, 3))  # W (f, f, n_C, n_C_prev)
    assert convT.parametrizations.W[0]._u.shape == (5,)


def test_a_training_read_does_one_power_iteration_and_an_eval_read_none():
    layer = spectral_norm(nn.Linear(4, 3, rng=9))
    sn = layer.parametrizations.W[0]
    W = layer.parametrizations.W.original.data
    u0, v0 = sn._u.copy(), sn._v.copy()
    W_sn = layer.W.data  # training: u and v updated first, then sigma = u . W v
    u1 = W @ v0
    u1 /= np.linalg.norm(u1)
    v1 = W.T @ u1
    v1 /= np.linalg.norm(v1)
    np.testing.assert_allclose(sn._u, u1, rtol=1e-14)
    np.testing.assert_allclose(sn._v, v1, rtol=1e-14)
    np.testing.assert_allclose(W_sn, W / (u1 @ W @ v1), rtol=1e-14)
    layer.eval()
    u1, v1 = sn._u.copy(), sn._v.copy()
    for _ in range(3):
        np.testing.assert_allclose(layer.W.data, W / (u1 @ W @ v1), rtol=1e-14)
    np.testing.assert_array_equal(sn._u, u1)
    assert not np.array_equal(u0, u1)


def test_gradcheck_of_the_spectral_norm_forward_in_float64():
    layer = spectral_norm(nn.Conv2d(2, 2, 2, rng=10)).eval()  # u, v constants, as in backward
    sn = layer.parametrizations.W[0]
    gg.gradcheck(lambda W: sn(W), [layer.parametrizations.W.original.data])
    gg.gradgradcheck(lambda W: sn(W), [layer.parametrizations.W.original.data])


def test_a_gan_step_with_spectral_norm_matches_the_hand_computed_gradient():
    """One discriminator step on real and generated data, as a GAN trains: gradients reach
    D's originals (compared with finite differences at the u, v the step used), the
    generator's are left alone by the detached fake batch, and D's weights then have a
    largest singular value near 1."""
    rng = np.random.default_rng(11)
    D = nn.Sequential(spectral_norm(nn.Linear(2, 8, rng=12)), nn.LeakyReLU(0.2),
                      spectral_norm(nn.Linear(8, 1, rng=13)))
    G = nn.Sequential(nn.Linear(3, 2, rng=14))
    real = rng.standard_normal((16, 2)) + 2.0
    fake = G(rng.standard_normal((16, 3)))
    X = gg.concatenate([gg.Tensor(real), fake.detach()], axis=0)
    labels = np.concatenate([np.ones((16, 1)), np.zeros((16, 1))])
    J = nn.binary_cross_entropy_with_logits(D(X), labels)
    D_opt = optim.SGD(D.parameters(), lr=0.1)
    D_opt.zero_grad()
    J.backward()
    assert all(p.grad is None for p in G.parameters())
    # The cost as a function of D's first original, u and v as the step left them (eval).
    W1 = D.linear1.parametrizations.W.original
    D.eval()
    numeric = np.zeros(W1.shape)
    for i in np.ndindex(W1.shape):
        values = []
        for step in (1e-6, -1e-6):
            bumped = W1.data.copy()
            bumped[i] += step
            cost = nn.functional_call(D, {"linear1.parametrizations.W.original": bumped},
                                      (X.data,))
            values.append(nn.binary_cross_entropy_with_logits(cost, labels).item())
        numeric[i] = (values[0] - values[1]) / 2e-6
    np.testing.assert_allclose(W1.grad, numeric, rtol=1e-6, atol=1e-10)
    D.train()
    D_opt.step()
    # The generator's step goes through D, whose u and v a frozen D in eval leaves alone.
    D.eval()
    u_before = D.linear2.parametrizations.W[0]._u.copy()
    G_opt = optim.SGD(G.parameters(), lr=0.1)
    fake = G(rng.standard_normal((16, 3)))
    nn.binary_cross_entropy_with_logits(D(fake), np.ones((16, 1))).backward()
    G_opt.step()
    np.testing.assert_array_equal(D.linear2.parametrizations.W[0]._u, u_before)
    assert G.linear1.W.grad is not None
    for layer in (D.linear1, D.linear2):
        with gg.no_grad():
            W = layer.W.data
        assert abs(np.linalg.svd(W, compute_uv=False)[0] - 1.0) < 0.05


# -- register_parametrization, removal, state ---------------------------------------------------
class Symmetric(nn.Module):
    def forward(self, X):
        return gg.triu(X) + gg.triu(X, 1).T

    def right_inverse(self, A):
        return gg.triu(A)


class Scaled(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c

    def forward(self, X):
        return X * self.c

    def right_inverse(self, A):
        return A / self.c


def test_a_custom_parametrization_with_right_inverse_and_assignment():
    layer = nn.Linear(3, 3, rng=15)
    parametrize.register_parametrization(layer, "W", Symmetric())
    W = layer.W.data
    np.testing.assert_array_equal(W, W.T)
    target = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 5.0], [3.0, 5.0, 6.0]])
    layer.W = target  # through right_inverse: the original becomes its upper triangle
    np.testing.assert_array_equal(layer.parametrizations.W.original.data, np.triu(target))
    np.testing.assert_array_equal(layer.W.data, target)
    parametrize.register_parametrization(layer, "W", Scaled(2.0))  # stacked: Scaled(Sym(X))
    np.testing.assert_array_equal(layer.W.data, 2 * target)
    layer.W = 4 * target  # right inverses in reverse order
    np.testing.assert_array_equal(layer.parametrizations.W.original.data, np.triu(2 * target))
    assert list(layer.state_dict()) == ["b", "parametrizations.W.original"]
    layer(np.ones((2, 3))).sum().backward()
    np.testing.assert_array_equal(layer.parametrizations.W.original.grad,
                                  np.triu(np.full((3, 3), 8.0), 1) + 4 * np.eye(3))


def test_remove_parametrizations_leaves_the_weight_as_last_computed_or_the_original():
    layer = spectral_norm(nn.Linear(3, 2, rng=16)).eval()
    original = layer.parametrizations.W.original
    W_sn = layer.W.data.copy()
    W_raw = original.data.copy()
    parametrize.remove_parametrizations(layer, "W")
    assert type(layer) is nn.Linear and layer.W is original  # the same Parameter, for optimizers
    np.testing.assert_array_equal(layer.W.data, W_sn)
    assert list(layer.state_dict()) == ["b", "W"] and not parametrize.is_parametrized(layer)
    layer = spectral_norm(nn.Linear(3, 2, rng=16))
    W_raw = layer.parametrizations.W.original.data.copy()
    parametrize.remove_parametrizations(layer, "W", leave_parametrized=False)
    np.testing.assert_array_equal(layer.W.data, W_raw)
    X = np.ones((1, 3))
    np.testing.assert_allclose(layer(X).data, X @ W_raw.T)
    layer = weight_norm(nn.Linear(3, 2, rng=17))
    W = layer.W.data.copy()
    parametrize.remove_parametrizations(layer, "W")
    assert isinstance(layer.W, nn.Parameter) and layer.W.requires_grad
    np.testing.assert_allclose(layer.W.data, W, rtol=1e-15)
    layer = weight_norm(nn.Linear(3, 2, rng=17))
    with pytest.raises(gg.ArgumentError, match="leave_parametrized=False"):
        parametrize.remove_parametrizations(layer, "W", leave_parametrized=False)
    with pytest.raises(gg.ArgumentError, match="'b' is not parametrized"):
        parametrize.remove_parametrizations(layer, "b")


def test_state_dict_round_trip_deepcopy_and_pickle_of_a_parametrized_model():
    def build(seed):
        return nn.Sequential(weight_norm(nn.Linear(3, 4, rng=seed)), nn.Tanh(),
                             spectral_norm(nn.Linear(4, 1, rng=seed + 1)))

    model = build(0)
    assert [name for name, _ in model.named_children()] == ["linear1", "tanh1", "linear2"]
    X = np.random.default_rng(18).standard_normal((5, 3))
    model.eval()
    expected = model(X).data
    twin = build(10).eval()
    twin.load_state_dict(model.state_dict())
    np.testing.assert_allclose(twin(X).data, expected, rtol=1e-14)
    clone = copy.deepcopy(model)
    assert type(clone.linear1).__name__ == "ParametrizedLinear"
    np.testing.assert_allclose(clone(X).data, expected, rtol=1e-14)
    clone.linear1.parametrizations.W.original0.data = np.ones((4, 1))
    np.testing.assert_allclose(model(X).data, expected, rtol=1e-14)  # independent
    copied = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(copied(X).data, expected, rtol=1e-14)
    copied.linear1.W = np.ones((4, 3))  # still parametrized: through right_inverse
    np.testing.assert_allclose(copied.linear1.parametrizations.W.original0.data, np.full(
        (4, 1), np.sqrt(3)))
    model.astype(np.float32)
    assert model.linear2.parametrizations.W[0]._u.dtype == np.float32
    assert model(X.astype(np.float32)).dtype == np.float32


def test_cached_computes_each_weight_once_inside_the_block():
    layer = spectral_norm(nn.Linear(3, 2, rng=19))
    sn = layer.parametrizations.W[0]
    with parametrize.cached():
        first = layer.W
        u = sn._u.copy()
        assert layer.W is first
        np.testing.assert_array_equal(sn._u, u)  # no second power iteration
    assert layer.W is not first


def test_registering_refuses_what_does_not_fit():
    layer = nn.Linear(3, 2)
    with pytest.raises(gg.ArgumentError, match=r"no parameter 'weight'.*W, b"):
        weight_norm(layer, name="weight")
    with pytest.raises(gg.ArgumentError, match="dim"):
        weight_norm(layer, dim=2)
    with pytest.raises(gg.ArgumentError, match="n_power_iterations"):
        spectral_norm(layer, n_power_iterations=0)
    with pytest.raises(gg.GraphgradTypeError, match="Module"):
        parametrize.register_parametrization(layer, "W", lambda X: X)

    class Shrink(nn.Module):
        def forward(self, X):
            return X[:1]

    with pytest.raises(gg.ShapeError, match=r"\(1, 3\).*\(2, 3\).*unsafe=True"):
        parametrize.register_parametrization(layer, "W", Shrink())
    assert type(layer) is nn.Linear and list(layer.state_dict()) == ["W", "b"]


def test_one_call_of_the_layer_computes_its_weight_once():
    """Linear's forward reads W twice (its dtype, then the product): the weight is computed
    once per call all the same, one power iteration per training call, as in PyTorch."""
    layer = spectral_norm(nn.Linear(4, 3, rng=20))
    sn = layer.parametrizations.W[0]
    W = layer.parametrizations.W.original.data
    u, v = sn._u.copy(), sn._v.copy()
    X = np.random.default_rng(21).standard_normal((2, 4))
    out = layer(X)
    u = W @ v / np.linalg.norm(W @ v)
    v = W.T @ u / np.linalg.norm(W.T @ u)
    np.testing.assert_allclose(sn._u, u, rtol=1e-14)
    np.testing.assert_allclose(out.data, X @ (W / (u @ W @ v)).T + layer.b.data, rtol=1e-13)
    calls = []
    layer.parametrizations.W[0].register_forward_hook(lambda m, i, o: calls.append(1))
    layer(X)
    layer(X)
    assert len(calls) == 2


def test_a_parametrized_container_still_registers_its_layers_its_own_way():
    """Sequential keeps its layers in a list its own __setattr__ updates: a layer appended
    after one of its parameters is parametrized is still run."""
    model = nn.Sequential(nn.Linear(2, 2, rng=22))
    model.scale = nn.Parameter(np.ones(2))
    parametrize.register_parametrization(model, "scale", Scaled(3.0))
    model.append(nn.ReLU())
    assert len(model) == 2 and isinstance(model[1], nn.ReLU)
    X = np.array([[-5.0, 5.0]])
    np.testing.assert_array_equal(model(X).data, np.maximum(model.linear1(X).data, 0))
    np.testing.assert_allclose(model.scale.data, [1.0, 1.0], rtol=1e-15)  # its value kept
    np.testing.assert_allclose(model.parametrizations.scale.original.data, [1 / 3, 1 / 3])


def test_loading_a_state_across_a_parametrization_says_what_to_do():
    # A weight-normed model's state loaded into the plain model (or the other way round)
    # listed the keys only: missing linear1.W, unexpected linear1.parametrizations.W.original0.
    normed = nn.Sequential(weight_norm(nn.Linear(3, 2, rng=0)), nn.ReLU())
    plain = nn.Sequential(nn.Linear(3, 2, rng=1), nn.ReLU())
    with pytest.raises(nn.StateDictError, match=r"linear1\.W was saved parametrized \(as "
                                                r"linear1\.parametrizations\.W\.original0, "
                                                r"\.\.\.\) and is a plain parameter here: "
                                                r"register the same parametrization"):
        plain.load_state_dict(normed.state_dict())
    with pytest.raises(nn.StateDictError, match=r"linear1\.W is parametrized here \(as "
                                                r"linear1\.parametrizations\.W\.original0, "
                                                r"\.\.\.\) and a plain parameter in the state: "
                                                r"load the state before registering"):
        normed.load_state_dict(plain.state_dict())
    # as it says: loaded first, then weight-normed, the layer computes the saved weight
    fresh = nn.Sequential(nn.Linear(3, 2, rng=2), nn.ReLU())
    fresh.load_state_dict(plain.state_dict())
    weight_norm(fresh[0])
    np.testing.assert_allclose(fresh[0].W.data, plain[0].W.data, rtol=1e-15)
