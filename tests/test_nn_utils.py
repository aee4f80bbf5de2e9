"""nn.utils: functional_call (the course's logistic regression's Hessian by hand, replaced
parameters and buffers put back, tied weights, its refusals) and parameters_to_vector /
vector_to_parameters (order, gradients, round trips, dtypes, sizes)."""
import numpy as np
import pytest

import graphgrad as gg
from graphgrad import nn, optim


def logistic_data(m=20, n_x=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n_x))
    Y = (rng.random((m, 1)) < 0.5).astype(float)
    return X, Y


class Tied(nn.Module):
    """Two layers holding one weight matrix, under 'first.W' and 'second.W'."""

    def __init__(self):
        super().__init__()
        self.first = nn.Linear(2, 2, bias=False, rng=0)
        self.second = nn.Linear(2, 2, bias=False, rng=1)
        self.second.W = self.first.W

    def forward(self, X):
        return self.first(X), self.second(X)


class Failing(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1, rng=0)

    def forward(self, X):
        self.linear(X)
        raise ValueError("forward failed")


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


# -- functional_call ---------------------------------------------------------------------------
def test_the_hessian_of_logistic_regression_as_a_linear_model_is_the_courses():
    """J(w) = the logistic cost of sigmoid(X w + b): H = X^T diag(a (1 - a)) X / m."""
    X, Y = logistic_data()
    m, n_x = X.shape
    model = nn.Linear(n_x, 1, rng=3)
    W, b = model.W, model.b

    def cost(W):
        Z = nn.functional_call(model, {"W": W}, (X,))
        return nn.binary_cross_entropy_with_logits(Z, Y)

    H = gg.hessian(cost, model.W)
    a = _sigmoid(X @ W.data.T + b.data)  # (m, 1)
    np.testing.assert_allclose(H.data.reshape(n_x, n_x), X.T @ (a * (1 - a) * X) / m,
                               rtol=1e-12, atol=1e-15)
    assert H.shape == (1, n_x, 1, n_x)
    # the model is as it was: the same parameters, in both places it keeps them
    assert model.W is W and model._members["W"] is W and model.b is b
    assert [p for _, p in model.named_parameters()] == [W, b]


def test_the_hessian_in_the_weights_and_the_bias_together():
    X, Y = logistic_data(seed=1)
    m, n_x = X.shape
    model = nn.Linear(n_x, 1, rng=4)

    def cost(W, b):
        return nn.binary_cross_entropy_with_logits(
            nn.functional_call(model, {"W": W, "b": b}, X), Y)

    (H_WW, H_Wb), (H_bW, H_bb) = gg.hessian(cost, (model.W, model.b))
    a = _sigmoid(X @ model.W.data.T + model.b.data)
    s = a * (1 - a) / m  # (m, 1)
    np.testing.assert_allclose(H_WW.data.reshape(n_x, n_x), X.T @ (s * X), rtol=1e-12)
    np.testing.assert_allclose(H_Wb.data.reshape(n_x), (s * X).sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(H_bW.data.reshape(n_x), (s * X).sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(H_bb.data.reshape(()), s.sum(), rtol=1e-12)


def test_the_graph_goes_through_the_given_tensors_not_the_models_parameters():
    X, _ = logistic_data(m=4, n_x=3)
    model = nn.Sequential(nn.Linear(3, 2, rng=0), nn.Tanh(), nn.Linear(2, 1, rng=1))
    W1 = gg.Tensor(np.arange(6.0).reshape(2, 3) / 10, requires_grad=True, name="W1")
    out = nn.functional_call(model, {"linear1.W": W1}, (X,))
    A1 = np.tanh(X @ W1.data.T + model.linear1.b.data)
    W2, b2 = model.linear2.W.data, model.linear2.b.data
    np.testing.assert_allclose(out.data, A1 @ W2.T + b2, rtol=1e-12)
    out.sum().backward()
    dZ1 = np.ones((4, 1)) @ W2 * (1 - A1 ** 2)
    np.testing.assert_allclose(W1.grad, dZ1.T @ X, rtol=1e-12)
    assert model.linear1.W.grad is None  # replaced: no gradient reached it
    np.testing.assert_allclose(model.linear2.W.grad, np.ones((1, 4)) @ A1, rtol=1e-12)


def test_a_maml_step_differentiates_through_the_updated_weights():
    """W' = W - lr dJ/dW on one batch, the cost on another with W': its gradient in W
    goes through dJ/dW (second derivatives), which finite differences confirm."""
    X1, Y1 = logistic_data(m=6, seed=2)
    X2, Y2 = logistic_data(m=5, seed=3)
    model = nn.Linear(3, 1, rng=5)
    lr = 0.5

    def outer_cost(W):
        inner = nn.binary_cross_entropy_with_logits(nn.functional_call(model, {"W": W}, X1), Y1)
        (dW,) = gg.grad(inner, [W], create_graph=True)
        return nn.binary_cross_entropy_with_logits(
            nn.functional_call(model, {"W": W - lr * dW}, X2), Y2)

    W = gg.Tensor(model.W.data.copy(), requires_grad=True)
    (g,) = gg.grad(outer_cost(W), [W])
    numeric = np.zeros_like(W.data)
    for i in range(3):
        step = np.zeros_like(W.data)
        step[0, i] = 1e-6
        plus = outer_cost(gg.Tensor(W.data + step, requires_grad=True)).item()
        minus = outer_cost(gg.Tensor(W.data - step, requires_grad=True)).item()
        numeric[0, i] = (plus - minus) / 2e-6
    np.testing.assert_allclose(g, numeric, rtol=1e-6)


def test_values_given_as_arrays_are_constants_and_args_kwargs_pass_on():
    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(2, 1, rng=0)

        def forward(self, X, scale=1.0):
            return self.linear(X) * scale

    model = Scaled()
    X = np.array([[1.0, 2.0]])
    out = nn.functional_call(model, {"linear.W": np.array([[3.0, 4.0]]),
                                     "linear.b": [0.5]}, (X,), {"scale": 2.0})
    assert out.item() == (3.0 + 8.0 + 0.5) * 2.0
    assert nn.functional_call(model, ({"linear.W": np.array([[3.0, 4.0]])},
                                      {"linear.b": np.array([0.5])}), X).item() == 11.5


def test_the_originals_are_put_back_when_forward_raises():
    model = Failing()
    W, b = model.linear.W, model.linear.b
    with pytest.raises(ValueError, match="forward failed"):
        nn.functional_call(model, {"linear.W": gg.Tensor(np.zeros((1, 2)))}, np.ones((1, 2)))
    assert model.linear.W is W and model.linear._members["W"] is W and model.linear.b is b


def test_nested_calls_put_back_what_each_replaced():
    model = nn.Linear(2, 1, rng=0)
    W = model.W
    X = np.array([[1.0, 1.0]])

    class Outer(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = model

        def forward(self, X):
            inside = nn.functional_call(model, {"W": np.full((1, 2), 2.0)}, X)
            return self.inner(X) + inside

    out = nn.functional_call(Outer(), {"inner.W": np.ones((1, 2))}, X)
    assert out.item() == (2.0 + model.b.item()) + (4.0 + model.b.item())
    assert model.W is W


def test_buffers_are_replaced_and_the_models_own_statistics_left_as_they_were():
    layer = nn.BatchNorm1d(2)
    layer.running_mean = np.array([1.0, -1.0])
    layer.running_var = np.array([4.0, 1.0])
    X = np.array([[3.0, 1.0], [5.0, -3.0]])
    layer.eval()
    out = nn.functional_call(layer, {"running_mean": np.array([0.0, 1.0]),
                                     "running_var": np.array([1.0, 4.0])}, X)
    expected = (X - [0.0, 1.0]) / np.sqrt(np.array([1.0, 4.0]) + layer.eps)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    layer.train()  # a replaced buffer's update goes with it; the others' are kept
    nn.functional_call(layer, {"running_mean": np.zeros(2)}, X)
    np.testing.assert_array_equal(layer.running_mean, [1.0, -1.0])
    np.testing.assert_allclose(layer.running_var, 0.9 * np.array([4.0, 1.0]) + 0.1 * X.var(0))
    assert layer.state_dict()["running_mean"].tolist() == [1.0, -1.0]


def test_a_tied_parameter_is_replaced_under_all_its_names():
    model = Tied()
    X = np.array([[1.0, 2.0]])
    W = gg.Tensor(np.full((2, 2), 3.0))
    for key in ("first.W", "second.W"):
        first, second = nn.functional_call(model, {key: W}, (X,))
        assert first.data.tolist() == second.data.tolist() == [[9.0, 9.0]]
    first, second = nn.functional_call(model, {"first.W": W, "second.W": W}, (X,))
    assert second.data.tolist() == [[9.0, 9.0]]  # the same value twice is no conflict
    first, second = nn.functional_call(model, {"first.W": W}, (X,), tie_weights=False)
    assert first.data.tolist() == [[9.0, 9.0]]
    np.testing.assert_allclose(second.data, X @ model.first.W.data.T)  # the model's own
    assert model.second.W is model.first.W


def test_two_values_for_a_tied_parameter_are_refused():
    model = Tied()
    values = {"first.W": np.ones((2, 2)), "second.W": np.zeros((2, 2))}
    with pytest.raises(gg.ArgumentError, match="'first.W' and 'second.W' are tied .* pass "
                                                "tie_weights=False"):
        nn.functional_call(model, values, np.ones((1, 2)))
    first, second = nn.functional_call(model, values, np.ones((1, 2)), tie_weights=False)
    assert first.data.tolist() == [[2.0, 2.0]] and second.data.tolist() == [[0.0, 0.0]]


def test_a_layer_held_under_two_names_is_one_place():
    shared = nn.Linear(1, 1, bias=False, rng=0)
    model = nn.Sequential(shared, shared)
    assert set(model.state_dict()) == {"linear1.W", "linear2.W"}
    out = nn.functional_call(model, {"linear2.W": np.array([[2.0]])}, np.array([[3.0]]))
    assert out.item() == 12.0  # both uses
    with pytest.raises(gg.ArgumentError, match="name the same parameter or buffer"):
        nn.functional_call(model, {"linear1.W": np.array([[2.0]]),
                                   "linear2.W": np.array([[1.0]])}, np.array([[3.0]]),
                           tie_weights=False)


def test_an_unknown_key_is_refused_with_the_models_keys():
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))
    W = model.linear1.W
    with pytest.raises(nn.StateDictError, match=r"'0.W' of the values given is not one of "
                       r"Sequential's; its parameters and buffers are 'linear1.W', "
                       r"'linear1.b', 'linear2.W', 'linear2.b'"):
        nn.functional_call(model, {"linear1.b": np.zeros(2), "0.W": np.zeros((2, 3))},
                           np.ones((1, 3)))
    assert model.linear1.W is W


def test_strict_refuses_missing_keys_as_pytorch_does():
    model = nn.Linear(2, 1)
    with pytest.raises(nn.StateDictError, match="strict=True, and the values given leave out "
                                                "Linear's 'b'"):
        nn.functional_call(model, {"W": np.ones((1, 2))}, np.ones((1, 2)), strict=True)
    out = nn.functional_call(model, {"W": np.ones((1, 2)), "b": np.ones(1)}, np.ones((1, 2)),
                             strict=True)
    assert out.item() == 3.0
    assert nn.functional_call(Tied(), {"first.W": np.eye(2)}, np.ones((1, 2)),
                              strict=True)[1].data.tolist() == [[1.0, 1.0]]  # tied: given


def test_a_value_of_the_wrong_shape_is_refused_naming_the_key_and_shapes():
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))
    with pytest.raises(gg.ShapeError, match=r"the value of 'linear1.W' is unnamed tensor "
                       r"\(3, 2\) float64, for the parameter 'W' \(2, 3\) float64: give one "
                       r"of shape \(2, 3\)"):
        nn.functional_call(model, {"linear1.W": gg.Tensor(np.zeros((3, 2)))}, np.ones((1, 3)))
    with pytest.raises(gg.ShapeError, match=r"'running_mean' has shape \(3,\), for the buffer "
                                            r"of shape \(2,\)"):
        nn.functional_call(nn.BatchNorm1d(2), {"running_mean": np.zeros(3)}, np.ones((2, 2)))


def test_what_functional_call_refuses():
    model = nn.Linear(2, 1)
    with pytest.raises(gg.GraphgradTypeError, match="takes a Module first"):
        nn.functional_call(lambda X: X, {}, np.ones((1, 2)))
    with pytest.raises(gg.GraphgradTypeError, match="takes the values to use as a dict"):
        nn.functional_call(model, [np.ones((1, 2))], np.ones((1, 2)))
    with pytest.raises(gg.ArgumentError, match="'W' is in two of the dicts given"):
        nn.functional_call(model, ({"W": np.ones((1, 2))}, {"W": np.ones((1, 2))}),
                           np.ones((1, 2)))
    with pytest.raises(gg.GraphgradTypeError, match="'running_mean' is a buffer.*requires grad"):
        nn.functional_call(nn.BatchNorm1d(2), {"running_mean": gg.Tensor(
            np.zeros(2), requires_grad=True)}, np.ones((2, 2)))
    with pytest.raises(gg.GraphgradTypeError, match="the value of 'W' must hold numbers"):
        nn.functional_call(model, {"W": "ones"}, np.ones((1, 2)))


# -- parameters_to_vector, vector_to_parameters ------------------------------------------------
def test_parameters_to_vector_joins_them_row_by_row_on_the_graph():
    model = nn.Sequential(nn.Linear(3, 2, rng=0), nn.Tanh(), nn.Linear(2, 1, rng=1))
    W1, b1, W2, b2 = model.parameters()
    v = nn.parameters_to_vector(model.parameters())
    assert v.shape == (11,) and v.requires_grad
    np.testing.assert_array_equal(v.data, np.concatenate(
        [W1.data.ravel(), b1.data, W2.data.ravel(), b2.data]))
    c = np.arange(11.0)
    (v * c).sum().backward()
    np.testing.assert_array_equal(W1.grad, c[:6].reshape(2, 3))
    np.testing.assert_array_equal(b1.grad, c[6:8])
    np.testing.assert_array_equal(W2.grad, c[8:10].reshape(1, 2))
    np.testing.assert_array_equal(b2.grad, c[10:])
    one = nn.parameters_to_vector(iter([W1]))  # any iterable; one parameter
    assert one.data.tolist() == W1.data.ravel().tolist()


def test_vector_to_parameters_undoes_parameters_to_vector():
    model = nn.Sequential(nn.Linear(3, 2, rng=0), nn.ReLU(), nn.Linear(2, 1, rng=1))
    params = model.parameters()
    before = [p.data for p in params]
    v = nn.parameters_to_vector(params)
    nn.vector_to_parameters(np.arange(11.0), params)
    assert model.linear1.W.data.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert model.linear1.b.data.tolist() == [6.0, 7.0]
    assert model.linear2.W.data.tolist() == [[8.0, 9.0]]
    assert model.linear2.b.data.tolist() == [10.0]
    assert nn.parameters_to_vector(params).data.tolist() == list(np.arange(11.0))
    nn.vector_to_parameters(v, params)  # a Tensor: back to the first values
    for p, old in zip(params, before):
        np.testing.assert_array_equal(p.data, old)
        assert p.data is not old and p.data.base is None  # new arrays, sharing nothing
    assert before[0].tolist() != [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]  # never written over


def test_a_float32_model_gives_and_keeps_float32():
    model = nn.Linear(3, 2, rng=0, dtype=np.float32)
    v = nn.parameters_to_vector(model.parameters())
    assert v.dtype == np.float32 and v.shape == (8,)
    nn.vector_to_parameters(np.linspace(0.0, 1.0, 8), model.parameters())  # float64 given
    assert model.W.dtype == np.float32 and model.b.dtype == np.float32
    np.testing.assert_allclose(model.b.data, np.linspace(0.0, 1.0, 8)[6:], rtol=1e-7)


def test_vector_to_parameters_refuses_a_vector_of_another_size():
    params = nn.Linear(3, 2).parameters()
    with pytest.raises(gg.ShapeError, match=r"vec has 9 values, the 2 parameters hold 8 "
                                            r"\(6 \+ 2\)"):
        nn.vector_to_parameters(np.zeros(9), params)
    with pytest.raises(gg.ShapeError, match=r"takes a vector of shape \(n,\), got ndarray "
                                            r"\(2, 4\)"):
        nn.vector_to_parameters(np.zeros((2, 4)), params)
    with pytest.raises(gg.GraphgradTypeError, match="item 1 is"):
        nn.vector_to_parameters(np.zeros(8), [params[0], np.zeros(2)])


def test_parameters_to_vector_refuses_no_parameters_and_what_is_no_tensor():
    with pytest.raises(gg.ArgumentError, match="got no parameters"):
        nn.parameters_to_vector([])
    with pytest.raises(gg.GraphgradTypeError, match="takes a list of tensors"):
        nn.parameters_to_vector(None)
    with pytest.raises(gg.GraphgradTypeError, match="item 0 is"):
        nn.parameters_to_vector([np.zeros(3)])


def test_pytorchs_clip_grad_names_are_optims_clipping():
    """torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm), as PyTorch code writes
    it: optim.clip_grad_norm and optim.clip_grad_value under PyTorch's names."""
    model = nn.Linear(2, 2, rng=0)
    model.W.grad, model.b.grad = np.full((2, 2), 3.0), np.full(2, 4.0)
    norm = nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    assert norm == pytest.approx(np.sqrt(4 * 9 + 2 * 16))
    clipped = np.sqrt((model.W.grad ** 2).sum() + (model.b.grad ** 2).sum())
    assert clipped == pytest.approx(1.0)
    nn.utils.clip_grad_value_(model.parameters(), 0.1)
    assert np.abs(model.W.grad).max() <= 0.1 and np.abs(model.b.grad).max() == 0.1


def _gradients(model):
    model.W.grad = np.array([[3.0, -4.0], [1.0, 0.5]])
    model.b.grad = np.array([-2.0, 6.0])
    return np.concatenate([model.W.grad.ravel(), model.b.grad])


@pytest.mark.parametrize("norm_type", [1, 2.0, 3, 0.5, float("inf"), "inf"])
def test_clip_grad_norm_takes_pytorchs_norm_type(norm_type):
    """clip_grad_norm_(params, max_norm, norm_type=...), PyTorch's p-norm of all the gradients
    together (the largest |g| for inf): the norm before clipping is returned, and the clipped
    gradients' norm is max_norm, in their direction."""
    model = nn.Linear(2, 2, rng=0)
    g = _gradients(model)
    p = float(norm_type)
    expected = np.abs(g).max() if p == np.inf else (np.abs(g) ** p).sum() ** (1 / p)
    norm = nn.utils.clip_grad_norm_(model.parameters(), 2.0, norm_type=norm_type)
    assert norm == pytest.approx(expected)
    clipped = np.concatenate([model.W.grad.ravel(), model.b.grad])
    np.testing.assert_allclose(clipped, g * 2.0 / expected)
    model = nn.Linear(2, 2, rng=0)
    _gradients(model)
    assert optim.clip_grad_norm(model.parameters(), 2.0, norm_type=norm_type) == \
        pytest.approx(expected)


def test_clip_grad_norm_takes_pytorchs_keywords():
    """PyTorch's keywords: parameters=, max_norm=, error_if_nonfinite= and foreach= (a speed
    setting, taken), as in clip_grad_norm_(parameters=model.parameters(), max_norm=1.0);
    clip_grad_value_(parameters=..., clip_value=..., foreach=None)."""
    model = nn.Linear(2, 2, rng=0)
    g = _gradients(model)
    norm = nn.utils.clip_grad_norm_(parameters=model.parameters(), max_norm=1.0, norm_type=2,
                                    error_if_nonfinite=True, foreach=None)
    assert norm == pytest.approx(np.linalg.norm(g))
    nn.utils.clip_grad_value_(parameters=model.parameters(), clip_value=0.1, foreach=False)
    assert np.abs(model.W.grad).max() == pytest.approx(0.1)
    with pytest.raises(gg.ArgumentError, match="norm_type"):
        nn.utils.clip_grad_norm_(model.parameters(), 1.0, norm_type=0)
    with pytest.raises(gg.ArgumentError, match="norm_type"):
        nn.utils.clip_grad_norm_(model.parameters(), 1.0, norm_type="fro")
    with pytest.raises(gg.ArgumentError, match="error_if_nonfinite"):
        nn.utils.clip_grad_norm_(model.parameters(), 1.0, error_if_nonfinite=None)
    with pytest.raises(gg.ArgumentError, match="foreach"):
        nn.utils.clip_grad_norm_(model.parameters(), 1.0, foreach=1)


@pytest.mark.parametrize("norm_type", [1, 2, float("inf")])
def test_clip_grad_norm_refuses_a_nonfinite_gradient_whatever_the_norm(norm_type):
    """A NaN in a gradient is named whatever the norm: no scale fixes it."""
    model = nn.Linear(2, 2, rng=0)
    _gradients(model)
    model.b.grad[0] = np.nan
    with pytest.raises(gg.AnomalyError, match="NaN or Inf"):
        nn.utils.clip_grad_norm_(model.parameters(), 1.0, norm_type=norm_type)
    assert np.isnan(model.b.grad[0]) and model.W.grad[0, 0] == 3.0
