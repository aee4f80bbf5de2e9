"""Module: registration order, parameters, modes, state dicts, repr, Sequential, name scopes."""
import copy
import re

import numpy as np
import pytest
from operation_counts import growth, lines_run

import graphgrad as gg
from graphgrad import nn, optim
from graphgrad.nn import module


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(2, 4, init="xavier", rng=0)
        self.scale = nn.Parameter(np.ones(4))
        self.out = nn.Linear(4, 1, init="xavier", rng=1)

    def forward(self, X):
        return self.out(gg.tanh(self.hidden(X)) * self.scale)


def test_parameters_are_registered_in_assignment_order():
    model = TwoLayer()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["hidden.W", "hidden.b", "scale", "out.W", "out.b"]
    assert model.parameters()[0] is model.hidden.W
    assert model.count_parameters() == 4 * 2 + 4 + 4 + 4 + 1
    assert model.scale.name == "scale" and model.hidden.W.name == "W"
    assert [name for name, _ in model.named_modules()] == ["", "hidden", "out"]


def test_zero_grad_forgets_every_gradient():
    model = TwoLayer()
    model(np.ones((3, 2))).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_train_and_eval_reach_every_submodule():
    model = nn.Sequential(nn.Linear(2, 3), nn.Dropout(0.5), nn.Sequential(nn.BatchNorm1d(3)))
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_a_frozen_layer_gets_no_gradient_and_the_others_the_same_as_unfrozen():
    X = np.random.default_rng(3).standard_normal((5, 2))
    reference = TwoLayer()
    reference(X).sum().backward()
    model = TwoLayer()
    assert model.hidden.requires_grad_(False) is model.hidden
    assert [n for n, p in model.named_parameters() if p.requires_grad] == ["scale", "out.W",
                                                                           "out.b"]
    W_before = model.hidden.W.data.copy()
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = optim.SGD(model.parameters(), lr=0.1)  # as torch.optim: the frozen ones are skipped
    model(X).sum().backward()
    assert model.hidden.W.grad is None and model.hidden.b.grad is None
    for p, q in zip(trainable, reference.parameters()[2:]):
        np.testing.assert_array_equal(p.grad, q.grad)
    opt.step()
    np.testing.assert_array_equal(model.hidden.W.data, W_before)
    np.testing.assert_allclose(model.out.W.data, reference.out.W.data - 0.1 * reference.out.W.grad)
    model.requires_grad_()  # unfrozen: every parameter learns again
    model.zero_grad()
    model(X).sum().backward()
    same = TwoLayer()
    same.load_state_dict(model.state_dict())
    same(X).sum().backward()
    assert model.hidden.W.grad.any()
    np.testing.assert_array_equal(model.hidden.W.grad, same.hidden.W.grad)
    opt.step()  # the same optimizer now updates the unfrozen layer
    np.testing.assert_allclose(model.hidden.W.data, W_before - 0.1 * same.hidden.W.grad)


def test_count_parameters_and_the_repr_say_how_many_are_frozen():
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 1))
    model.linear1.requires_grad_(False)
    assert model.count_parameters() == 16 + 5
    assert model.count_parameters(trainable=True) == 5
    assert repr(model).splitlines()[0] == "Sequential(  # 21 parameters (16 frozen)"
    # one parameter, said so: PReLU's single slope
    assert repr(nn.PReLU()) == "PReLU(num_parameters=1)  # 1 parameter"
    assert "# 16 parameters (16 frozen)" in repr(model.linear1)
    assert "frozen" not in repr(model.linear2)


class FrozenBeforeAssigned(nn.Module):
    """A pretrained W frozen before it is assigned, a new b trained."""

    def __init__(self, W):
        super().__init__()
        pretrained = nn.Parameter(W)
        pretrained.requires_grad_(False)
        self.W = pretrained
        self.b = nn.Parameter(np.zeros(2))

    def forward(self, X):
        return X @ self.W.T + self.b


def test_a_parameter_frozen_before_it_is_assigned_is_saved_and_can_be_unfrozen():
    """It was left out of the registry: not saved (a model loaded back had its initial W),
    not loaded, and requires_grad_(True) on the model left it frozen."""
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    model = FrozenBeforeAssigned(W.copy())  # a Parameter shares the array it is given
    assert [n for n, _ in model.named_parameters()] == ["W", "b"]
    assert model.count_parameters() == 6 and model.count_parameters(trainable=True) == 2
    assert repr(model) == "FrozenBeforeAssigned()  # 6 parameters (4 frozen)"
    state = model.state_dict()
    np.testing.assert_array_equal(state["W"], W)
    other = FrozenBeforeAssigned(np.zeros((2, 2)))
    other.load_state_dict(state)
    np.testing.assert_array_equal(other.W.data, W)
    # Unfrozen with the model, W learns: X = [[1, 1]], J = sum(Z) gives dW = [[1, 1], [1, 1]].
    model.requires_grad_(True)
    opt = optim.SGD(model.parameters(), lr=0.5)
    model(np.ones((1, 2))).sum().backward()
    opt.step()
    np.testing.assert_array_equal(model.W.data, W - 0.5)
    np.testing.assert_array_equal(model.b.data, [-0.5, -0.5])
    # a plain tensor that needs no gradient is a constant: not registered
    model.mask = gg.Tensor(np.ones(2))
    assert [n for n, _ in model.named_parameters()] == ["W", "b"]


def test_sequential_names_layers_like_the_course():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2), nn.BatchNorm1d(2))
    assert [n for n, _ in model.named_children()] == ["linear1", "relu1", "linear2", "batchnorm1"]
    assert model[2] is model.linear2 and len(model) == 4
    named = nn.Sequential({"hidden": nn.Linear(3, 4), "act": nn.Tanh()})
    assert [n for n, _ in named.named_parameters()] == ["hidden.W", "hidden.b"]
    with pytest.raises(gg.GraphgradError, match="not a Module"):
        nn.Sequential(nn.Linear(3, 4), gg.relu)


def test_forgetting_super_init_is_explained():
    class Broken(nn.Module):
        def __init__(self):
            self.W = nn.Parameter(np.ones(2))

    with pytest.raises(gg.GraphgradError, match=r"super\(\).__init__\(\)"):
        Broken()


def test_a_list_of_layers_is_refused_with_the_fix():
    class Listed(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = [nn.Linear(2, 2), nn.ReLU()]

    with pytest.raises(gg.GraphgradError, match=r"Listed.layers.*nn.Sequential\(\*layers\)"):
        Listed()
    with pytest.raises(gg.GraphgradError, match=r"Use nn.ModuleList\(layers\) to hold them and "
                       r"loop over them in forward, nn.Sequential\(\*layers\) to chain them"):
        Listed()


def test_repr_shows_the_layers_and_parameter_counts():
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.8), nn.Linear(256, 10))
    text = repr(model)
    assert text.splitlines()[0] == "Sequential(  # 203,530 parameters"
    assert "(linear1): Linear(784 -> 256, init='he')  # 200,960 parameters" in text
    assert "(relu1): ReLU()" in text and "(dropout1): Dropout(keep_prob=0.8)" in text
    assert "(linear2): Linear(256 -> 10, init='he')  # 2,570 parameters" in text


# -- state dicts -----------------------------------------------------------------------------------
def test_state_dict_round_trip_restores_outputs():
    model, other = TwoLayer(), TwoLayer()
    other.hidden.W.data = other.hidden.W.data + 1.0
    X = np.random.default_rng(0).standard_normal((5, 2))
    state = model.state_dict()
    assert list(state) == ["hidden.W", "hidden.b", "scale", "out.W", "out.b"]
    other.load_state_dict(state)
    np.testing.assert_array_equal(other(X).data, model(X).data)


def test_state_dict_is_a_copy():
    model = TwoLayer()
    state = model.state_dict()
    model.hidden.W.data += 1.0
    assert not np.array_equal(state["hidden.W"], model.hidden.W.data)


def test_a_deep_copy_is_an_independent_model_even_in_the_middle_of_a_step():
    """``best = copy.deepcopy(model)``, as with PyTorch, also while a graph of the model waits
    for its backward: the copy's arrays are its own and writeable, the original's stay
    protected until that backward, and training one leaves the other alone."""
    model = TwoLayer()
    X = np.random.default_rng(0).standard_normal((5, 2))
    before = model(X).data.copy()
    J = (model(X) ** 2).sum()  # pins the model's arrays until J.backward()
    best = copy.deepcopy(model)
    assert all(p.data.flags.writeable for p in best.parameters())
    assert not model.hidden.W.data.flags.writeable
    np.testing.assert_array_equal(best(X).data, before)
    J.backward()
    optim.SGD(model.parameters(), lr=0.5).step()
    np.testing.assert_array_equal(best(X).data, before)
    assert not np.array_equal(model(X).data, before)
    assert [name for name, _ in best.named_parameters()] == list(model.state_dict())


def test_a_shallow_copy_shares_the_layers_but_not_the_registry_of_them():
    """``copy.copy(model)``: the same parameters and layers, as a shallow copy has; a layer
    assigned, a buffer registered or a layer appended on the copy is the copy's alone (the
    original had computed with its own layer while listing the new one's parameters)."""
    model = TwoLayer()
    twin = copy.copy(model)
    assert twin.hidden is model.hidden and twin.scale is model.scale
    twin.out = nn.Linear(4, 1, rng=5)
    twin.register_buffer("steps", np.zeros(1))
    assert model.out is not twin.out
    assert [name for name, _ in model.named_parameters()] == ["hidden.W", "hidden.b", "scale",
                                                               "out.W", "out.b"]
    assert [id(p) for p in model.parameters()][-2:] == [id(model.out.W), id(model.out.b)]
    assert list(model.state_dict()) == ["hidden.W", "hidden.b", "scale", "out.W", "out.b"]
    assert list(twin.state_dict())[-1] == "steps"
    assert [id(p) for p in twin.parameters()][-2:] == [id(twin.out.W), id(twin.out.b)]
    layers = nn.ModuleList([nn.Linear(2, 2, rng=0)])
    more = copy.copy(layers)
    more.append(nn.ReLU())
    assert len(layers) == 1 and len(more) == 2 and more[0] is layers[0]
    seq = nn.Sequential(nn.Linear(2, 2, rng=0))
    del copy.copy(seq).linear1
    assert len(seq) == 1 and [name for name, _ in seq.named_parameters()] == ["linear1.W",
                                                                               "linear1.b"]


def test_buffers_are_saved_and_loaded():
    bn = nn.BatchNorm1d(2)
    bn(np.array([[1.0, 2.0], [3.0, 6.0]]))
    state = bn.state_dict()
    assert list(state) == ["gamma", "beta", "running_mean", "running_var"]
    fresh = nn.BatchNorm1d(2)
    fresh.load_state_dict(state)
    np.testing.assert_array_equal(fresh.running_mean, bn.running_mean)


def test_a_buffer_refused_leaves_no_name_that_later_values_would_be_saved_under():
    layer = nn.Linear(2, 2, rng=0)
    with pytest.raises(gg.GraphgradTypeError, match="requires grad"):
        layer.register_buffer("mu", gg.Tensor(np.ones(2), requires_grad=True))
    layer.mu = [1.0, 2.0]  # an attribute of its own, not a buffer
    assert layer.mu == [1.0, 2.0]
    assert list(layer.state_dict()) == ["W", "b"]
    layer.register_buffer("mu", [1.0, 2.0])  # a retry with an array registers it
    np.testing.assert_array_equal(layer.state_dict()["mu"], [1.0, 2.0])


def test_a_parameter_or_layer_assigned_over_a_buffer_is_no_longer_a_buffer():
    model = nn.Module()
    model.register_buffer("mu", np.zeros(3))
    model.mu = nn.Parameter(np.ones(2))
    # an array over the parameter is refused, as over any parameter, where the name still
    # marked as a buffer took it and the parameter left parameters() without a word
    with pytest.raises(gg.GraphgradTypeError, match="Module.mu is a parameter"):
        model.mu = np.zeros(5)
    assert [name for name, _ in model.named_parameters()] == ["mu"]
    np.testing.assert_array_equal(model.state_dict()["mu"], [1.0, 1.0])
    model.mu = None  # removes the parameter, as it removes any
    assert model.state_dict() == {} and model.parameters() == []
    model.register_buffer("sigma", np.ones(2))
    model.sigma = nn.Linear(2, 1, rng=0)
    with pytest.raises(gg.GraphgradTypeError, match="Module.sigma is a layer"):
        model.sigma = np.zeros(2)
    assert list(model.state_dict()) == ["sigma.W", "sigma.b"]


def test_load_state_dict_lists_every_problem_and_changes_nothing():
    model = TwoLayer()
    before = model.hidden.W.data.copy()
    state = model.state_dict()
    del state["out.b"]
    state["extra.W"] = np.zeros(2)
    state["hidden.W"] = np.zeros((5, 2))
    with pytest.raises(nn.StateDictError) as caught:
        model.load_state_dict(state)
    message = str(caught.value)
    assert "missing keys: out.b" in message
    assert "unexpected keys: extra.W" in message
    assert "hidden.W: the state has shape (5, 2), the model (4, 2)" in message
    assert isinstance(caught.value, KeyError) and isinstance(caught.value, gg.GraphgradError)
    np.testing.assert_array_equal(model.hidden.W.data, before)


def test_load_state_dict_non_strict_loads_what_fits():
    model = TwoLayer()
    model.load_state_dict({"scale": np.full(4, 2.0), "nothing": np.zeros(1)}, strict=False)
    np.testing.assert_array_equal(model.scale.data, np.full(4, 2.0))
    with pytest.raises(gg.GraphgradError) as caught:  # a wrong shape is refused all the same
        model.load_state_dict({"scale": np.zeros(3)}, strict=False)
    assert "scale: the state has shape (3,), the model (4,)" in str(caught.value)
    assert "strict=False skips missing and extra keys, not these" in str(caught.value)
    assert "or pass strict=False" not in str(caught.value)


class Backbone(nn.Module):
    def __init__(self, n_out):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(3, 4, rng=5), nn.Tanh())
        self.head = nn.Linear(4, n_out, rng=6)

    def forward(self, X):
        return self.head(self.backbone(X))


def test_load_state_dict_non_strict_refuses_a_state_none_of_whose_keys_fit():
    """A state saved from the backbone alone (linear1.W) loaded into a model that holds it as
    a layer (backbone.linear1.W) loaded nothing, without a word: fine-tuning then started from
    random weights."""
    pretrained = nn.Sequential(nn.Linear(3, 4, rng=1), nn.Tanh(), nn.Linear(4, 2, rng=2))
    state = pretrained.state_dict()
    model = Backbone(n_out=5)
    before = model.state_dict()
    with pytest.raises(nn.StateDictError, match=re.escape(
            "Backbone.load_state_dict: none of the keys of the state (linear1.W, linear1.b, "
            "linear2.W, linear2.b) is one of the model's (backbone.linear1.W, "
            "backbone.linear1.b, head.W, head.b), so strict=False would load nothing; the state "
            "is a part of this model, under 'backbone.': give its keys that prefix "
            "({'backbone.' + k: v for k, v in state.items()}).")):
        model.load_state_dict(state, strict=False)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])
    # As the message says: linear1 is loaded, the pretrained head (linear2) skipped.
    model.load_state_dict({"backbone." + k: v for k, v in state.items()}, strict=False)
    np.testing.assert_array_equal(model.backbone.linear1.W.data, pretrained.linear1.W.data)
    np.testing.assert_array_equal(model.head.W.data, before["head.W"])
    # Fine-tuning the new head on the frozen backbone: one step of gradient descent.
    model.backbone.requires_grad_(False)
    X = np.random.default_rng(0).standard_normal((6, 3))
    A = np.tanh(X @ pretrained.linear1.W.data.T + pretrained.linear1.b.data)
    Z = A @ before["head.W"].T + before["head.b"]  # J = sum(Z**2) / 2: dZ = Z
    opt = optim.SGD(model.parameters(), lr=0.01)
    ((model(X) ** 2).sum() * 0.5).backward()
    opt.step()
    np.testing.assert_allclose(model.head.W.data, before["head.W"] - 0.01 * Z.T @ A)
    np.testing.assert_array_equal(model.backbone.linear1.W.data, pretrained.linear1.W.data)
    # The other way: a state of the whole model loaded into its backbone alone.
    with pytest.raises(nn.StateDictError, match=re.escape(
            "the state holds this model under 'backbone.': take that part ({k[9:]: v for k, v "
            "in state.items() if k.startswith('backbone.')}).")):
        pretrained.load_state_dict(model.state_dict(), strict=False)


def test_loading_never_writes_into_an_array_a_graph_saved():
    model = nn.Linear(2, 2, rng=0)
    W_seen = model.W.data
    copy = W_seen.copy()
    model(np.ones((1, 2)))  # a graph that still needs W's values for its backward
    model.load_state_dict({"W": np.zeros((2, 2)), "b": np.zeros(2)})
    np.testing.assert_array_equal(W_seen, copy)
    assert not model.W.data.any()


# -- name scopes -----------------------------------------------------------------------------------
def _scopes(J):
    scopes, stack = [], [J.creator]
    while stack:
        node = stack.pop()
        scopes.append((node.name, node.scope))
        stack.extend(t.creator for t in node.inputs if t.creator is not None)
    return sorted(scopes, key=str)


def test_each_layer_is_a_name_scope_in_the_graph():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.BatchNorm1d(3), nn.Linear(3, 1))
    Z = model(np.ones((4, 2)))
    scopes = _scopes(Z)
    assert ("Affine", "linear1") in scopes and ("Affine", "linear2") in scopes
    assert ("ReLU", "relu1") in scopes
    batchnorm_ops = [name for name, scope in scopes if scope == "batchnorm1"]
    assert batchnorm_ops == ["BatchNorm"]  # one fused op, which the layer tags
    assert all(scope is not None for _, scope in scopes)
    assert gg.modes.current_scope() is None  # restored after the call


def test_nested_modules_make_nested_scopes_and_can_be_turned_off():
    model = nn.Sequential({"block": nn.Sequential(nn.Linear(2, 2), nn.Tanh())})
    assert ("Affine", "block/linear1") in _scopes(model(np.ones((1, 2))))
    with gg.name_scope("model"):
        assert ("Tanh", "model/block/tanh1") in _scopes(model(np.ones((1, 2))))
    nn.use_name_scopes(False)
    try:
        assert {scope for _, scope in _scopes(model(np.ones((1, 2))))} == {None}
    finally:
        nn.use_name_scopes(True)


def test_a_layer_returning_its_input_does_not_retag_the_previous_node():
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5)).eval()
    assert model(np.ones((1, 2))).creator.scope == "linear1"


def test_parameters_are_tensors_and_plain_grad_tensors_count_too():
    class Raw(nn.Module):
        def __init__(self):
            super().__init__()
            self.W = gg.Tensor(np.ones((2, 2)), requires_grad=True)
            self.constant = gg.Tensor(np.ones(2))  # no grad: not learned, not registered

    W = nn.Parameter(np.zeros(3))
    assert isinstance(W, gg.Tensor) and W.requires_grad and W.is_leaf
    assert repr(W) == "Parameter([0., 0., 0.], requires_grad=True)"
    assert [n for n, _ in Raw().named_parameters()] == ["W"]
    J = nn.cross_entropy(nn.Parameter(np.zeros((2, 3))), np.array([0, 2]))
    assert J.creator.inputs[0].requires_grad  # a Parameter given as logits stays on the graph


def test_a_layer_used_twice_is_one_set_of_parameters():
    shared = nn.Linear(3, 3, rng=0)
    model = nn.Sequential(shared, nn.Tanh(), shared)
    assert [name for name, _ in model.named_parameters()] == ["linear1.W", "linear1.b"]
    assert model.count_parameters() == 12
    assert [name for name, _ in model.named_modules()] == ["", "linear1", "tanh1"]
    # the penalty counts the tied W once: lambda/(2m) ||W||^2
    expected = 0.1 / (2 * 4) * np.sum(shared.W.data ** 2)
    assert nn.l2_penalty(model, 0.1, 4).item() == pytest.approx(expected)
    # its gradient is the sum of both uses, and one optimizer step applies it once
    X = np.random.default_rng(1).standard_normal((4, 3))
    before = shared.W.data.copy()
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    model(X).sum().backward()
    grad = shared.W.grad.copy()
    optimizer.step()
    np.testing.assert_allclose(shared.W.data, before - 0.1 * grad)
    # both names are saved, as in PyTorch, and load back into the one layer
    state = model.state_dict()
    assert list(state) == ["linear1.W", "linear1.b", "linear2.W", "linear2.b"]
    model.load_state_dict(state)
    np.testing.assert_array_equal(shared.W.data, state["linear1.W"])


def test_replacing_a_layer_of_a_sequential_replaces_it_in_the_chain():
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.ReLU(), nn.Linear(4, 2, rng=1))
    head = nn.Linear(4, 5, rng=2)
    model.linear2 = head
    X = np.ones((2, 3))
    assert model(X).shape == (2, 5)
    assert model[2] is head and len(model) == 3
    del model.relu1
    assert len(model) == 2 and list(model) == [model.linear1, head]
    np.testing.assert_allclose(model(X).data, head(model.linear1(X)).data)


def test_slicing_a_sequential_gives_a_sequential_of_the_same_layers():
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.ReLU(), nn.Linear(4, 2, rng=1))
    first = model[:2]
    assert isinstance(first, nn.Sequential)
    assert [name for name, _ in first.named_children()] == ["linear1", "relu1"]
    assert first[0] is model[0]
    X = np.random.default_rng(0).standard_normal((5, 3))
    np.testing.assert_allclose(model[2](first(X)).data, model(X).data)


@pytest.mark.parametrize("name", ["forward", "eval", "_members", "not a name", "a.b"])
def test_a_sequential_layer_name_that_would_shadow_or_break_is_refused(name):
    with pytest.raises(gg.GraphgradError, match="cannot name a layer") as info:
        nn.Sequential({name: nn.Linear(2, 2), "act": nn.ReLU()})
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("holder", [list, tuple, lambda ps: dict(enumerate(ps))])
def test_a_list_or_dict_of_parameters_or_layers_is_refused(holder):
    class Net(nn.Module):
        def __init__(self, values):
            super().__init__()
            self.group = holder(values)

    for values in ([nn.Parameter(np.ones((2, 2)))], [nn.Linear(2, 1)]):
        # a TypeError, as the refusal to replace a parameter by an array is
        with pytest.raises(gg.GraphgradTypeError, match=r"^Net\.group: a (list|dict) of layers "
                           r"or parameters is not registered"):
            Net(values)
    assert Net([1, 2]).parameters() == []  # plain values are just attributes


def test_load_state_dict_refuses_values_that_are_not_numbers_and_changes_nothing():
    layer = nn.Linear(2, 2, rng=0)
    before = layer.W.data.copy()
    bad = {"W": np.zeros((2, 2)), "b": np.array(["x", "y"])}
    with pytest.raises(nn.StateDictError, match="b: the state holds <U1 values"):
        layer.load_state_dict(bad)
    np.testing.assert_array_equal(layer.W.data, before)
    with pytest.raises(nn.StateDictError, match="complex128"):
        layer.load_state_dict({"W": np.zeros((2, 2), complex), "b": np.zeros(2)})


@pytest.mark.parametrize("given, advice", [
    ("model.npz", r"gg.load\(path\)"),
    (nn.Linear(2, 2), r"other_model.state_dict\(\)"),
    ([("W", np.zeros((2, 2)))], "a dict of arrays"),
])
def test_load_state_dict_of_something_else_says_what_to_pass(given, advice):
    with pytest.raises(gg.GraphgradError, match=advice) as info:
        nn.Linear(2, 2).load_state_dict(given)
    assert isinstance(info.value, TypeError)


# -- ModuleList ------------------------------------------------------------------------------------
ModuleList = nn.ModuleList


class Deep(nn.Module):
    """The course's L-layer network: hidden layers in a ModuleList, a loop in forward."""

    def __init__(self, sizes, seed=0):
        super().__init__()
        self.hidden = ModuleList(nn.Linear(a, b, rng=seed + l) for l, (a, b) in
                                 enumerate(zip(sizes[:-2], sizes[1:-1])))
        self.out = nn.Linear(sizes[-2], sizes[-1], init="xavier", rng=seed + 9)

    def forward(self, X):
        for layer in self.hidden:
            X = gg.relu(layer(X))
        return self.out(X)


def test_a_module_list_registers_its_layers_in_order_under_their_positions():
    model = Deep([3, 5, 4, 2])
    assert [name for name, _ in model.named_parameters()] == [
        "hidden.0.W", "hidden.0.b", "hidden.1.W", "hidden.1.b", "out.W", "out.b"]
    assert model.parameters()[2] is model.hidden[1].W
    assert [name for name, _ in model.named_modules()] == ["", "hidden", "hidden.0", "hidden.1",
                                                          "out"]
    assert model.count_parameters() == (3 * 5 + 5) + (5 * 4 + 4) + (4 * 2 + 2)
    layers = ModuleList([nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)])
    assert [name for name, _ in layers.named_parameters()] == ["0.W", "0.b", "2.W", "2.b"]
    # the loop computes what the layers compute one by one
    X = np.random.default_rng(0).standard_normal((6, 3))
    A1 = np.maximum(X @ model.hidden[0].W.data.T + model.hidden[0].b.data, 0)
    A2 = np.maximum(A1 @ model.hidden[1].W.data.T + model.hidden[1].b.data, 0)
    expected = A2 @ model.out.W.data.T + model.out.b.data
    np.testing.assert_allclose(model(X).data, expected, rtol=1e-12)


def test_a_module_list_state_dict_round_trip_and_training():
    model, other = Deep([3, 5, 4, 2]), Deep([3, 5, 4, 2], seed=20)
    X = np.random.default_rng(1).standard_normal((6, 3))
    state = model.state_dict()
    assert list(state) == ["hidden.0.W", "hidden.0.b", "hidden.1.W", "hidden.1.b", "out.W",
                           "out.b"]
    assert not np.array_equal(other(X).data, model(X).data)
    other.load_state_dict(state)
    np.testing.assert_array_equal(other(X).data, model(X).data)
    # an optimizer over parameters() updates the layers in the list; zero_grad reaches them
    before = model.hidden[0].W.data.copy()
    nn.cross_entropy(model(X), [0, 1, 1, 0, 1, 0]).backward()
    grad = model.hidden[0].W.grad.copy()
    optim.SGD(model.parameters(), lr=0.1).step()
    np.testing.assert_allclose(model.hidden[0].W.data, before - 0.1 * grad, rtol=1e-15)
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_train_and_eval_reach_the_layers_of_a_module_list():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = ModuleList([nn.Dropout(0.5), nn.BatchNorm1d(3)])

    model = Net()
    assert model.eval() is model
    assert [m.training for m in model.modules()] == [False, False, False, False]
    assert not model.blocks[0].training and not model.blocks[1].training
    model.train()
    assert all(m.training for m in model.modules())


def test_module_list_indexing_slicing_and_growing():
    a, b, c, d = (nn.Linear(2, 2, rng=i) for i in range(4))
    layers = ModuleList([a, b])
    assert len(layers) == 2 and list(layers) == [a, b]
    assert layers[0] is a and layers[-1] is b and layers[-2] is a
    with pytest.raises(IndexError, match="index 2 is out of range for 2 layers"):
        layers[2]
    with pytest.raises(IndexError, match="index -3 is out of range"):
        layers[-3]
    assert layers.append(c) is layers and layers.extend([d]) is layers
    assert list(layers) == [a, b, c, d]
    tail = layers[1:3]
    assert isinstance(tail, ModuleList) and list(tail) == [b, c]
    assert [name for name, _ in tail.named_parameters()] == ["0.W", "0.b", "1.W", "1.b"]
    assert list(layers[::-1]) == [d, c, b, a] and len(layers[5:]) == 0
    assert [n for n, _ in layers.named_children()] == ["0", "1", "2", "3"]  # unchanged
    # insert moves the later layers up one, names and all
    e = nn.Linear(2, 2, rng=9)
    layers.insert(1, e)
    assert list(layers) == [a, e, b, c, d]
    assert list(layers.state_dict())[:4] == ["0.W", "0.b", "1.W", "1.b"]
    np.testing.assert_array_equal(layers.state_dict()["1.W"], e.W.data)
    np.testing.assert_array_equal(layers.state_dict()["4.W"], d.W.data)
    layers.insert(-1, nn.ReLU())
    assert isinstance(layers[4], nn.ReLU) and layers[5] is d
    layers[0] = nn.Tanh()
    assert isinstance(layers[0], nn.Tanh) and len(layers) == 6
    assert "0.W" not in layers.state_dict()  # the replaced layer's parameters are gone


def test_deleting_a_layer_of_a_module_list_renumbers_the_later_ones():
    a, b, c, d = (nn.Linear(2, 2, rng=i) for i in range(4))
    layers = ModuleList([a, b, c, d])
    del layers[1]  # was an AttributeError: __delitem__
    assert list(layers) == [a, c, d]
    assert [n for n, _ in layers.named_children()] == ["0", "1", "2"]
    np.testing.assert_array_equal(layers.state_dict()["1.W"], c.W.data)
    assert "3.W" not in layers.state_dict() and len(layers.parameters()) == 6
    del layers[-1]
    assert list(layers) == [a, c]
    layers.append(b)  # after the last, not over it
    assert list(layers) == [a, c, b] and layers[2] is b
    del layers[::2]
    assert list(layers) == [c] and list(layers.state_dict()) == ["0.W", "0.b"]
    with pytest.raises(IndexError, match="index 1 is out of range for 1 layers"):
        del layers[1]
    with pytest.raises(gg.GraphgradTypeError, match="indices are integers or slices"):
        del layers["0"]
    assert list(layers) == [c]


def test_building_n_layers_one_by_one_is_linear_work():
    def lines(n):
        layers = [nn.ReLU() for _ in range(n)]

        def build():
            held = ModuleList()
            held.append(layers[0])
            held.extend(layers[1:])
            nn.Sequential(*layers)
            return held
        return lines_run(build, module)

    # Each layer added had refreshed the list of all of them (and, in a ModuleList, their
    # name scopes): 16 times the work for 4 times the layers.
    assert growth(lines, 50) < 5

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = ModuleList()
            for _ in range(3):
                self.blocks.append(nn.Linear(2, 2, rng=0))

    blocks = Model().blocks
    assert [layer._scope for layer in blocks] == ["blocks/0", "blocks/1", "blocks/2"]
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    assert [layer._scope for layer in model] == ["linear1", "relu1", "linear2"]
    model.relu1 = nn.Tanh()  # replaced in its place, not added last
    assert [type(layer).__name__ for layer in model] == ["Linear", "Tanh", "Linear"]


def test_a_module_list_holds_modules_only_and_adds_none_of_a_bad_batch():
    layers = ModuleList([nn.Linear(2, 2)])
    with pytest.raises(gg.GraphgradError, match="ModuleList: layer 2 is a function, not a Module"):
        layers.extend([nn.ReLU(), gg.relu])
    assert len(layers) == 1
    with pytest.raises(gg.GraphgradError, match="not a Module"):
        layers.append(np.ones(2))
    with pytest.raises(gg.GraphgradError, match=r"an iterable of modules, got one Linear"):
        ModuleList(nn.Linear(2, 2))
    with pytest.raises(TypeError, match="integers or slices"):
        layers["0"]


@pytest.mark.parametrize("count", [1, 2])
def test_calling_a_module_list_says_to_iterate_or_use_sequential(count):
    layers = ModuleList([nn.Linear(2, 2), nn.ReLU()][:count])
    held = "1 layer" if count == 1 else "2 layers"  # it said "1 layers"
    for call in (layers, layers.forward):
        with pytest.raises(gg.GraphgradError, match=rf"^ModuleList \({held}\) is not a layer "
                           r"and cannot be called.*for layer in self.layers: X = layer\(X\).*"
                           r"nn.Sequential\(\*layers\)") as info:
            call(np.ones((1, 2)))
        assert isinstance(info.value, TypeError)


def test_module_list_repr_shows_positions():
    layers = ModuleList([nn.Linear(2, 3), nn.ReLU()])
    assert repr(layers) == ("ModuleList(  # 9 parameters\n"
                            "  (0): Linear(2 -> 3, init='he')  # 9 parameters\n"
                            "  (1): ReLU()\n"
                            ")")
    assert repr(ModuleList()) == "ModuleList()"
    assert "  (hidden): ModuleList(  # 44 parameters\n    (0): Linear(3 -> 5" in repr(
        Deep([3, 5, 4, 2]))


def test_layers_of_a_module_list_are_clusters_named_after_the_list():
    class TwoLists(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoders = ModuleList([nn.Linear(2, 2, rng=0)])
            self.decoders = ModuleList([nn.Linear(2, 2, rng=1)])
            self.decoders.append(nn.Linear(2, 1, rng=2))

        def forward(self, X):
            for layer in [*self.encoders, *self.decoders[1:]]:  # a slice renames nothing
                X = layer(X)
            return X

    scopes = {scope for name, scope in _scopes(TwoLists()(np.ones((1, 2)))) if name == "Affine"}
    assert scopes == {"encoders/0", "decoders/1"}


@pytest.mark.parametrize("value", [np.zeros((3, 2)), gg.Tensor(np.zeros((3, 2))), 0.0],
                         ids=["array", "tensor without grad", "number"])
def test_a_parameter_replaced_by_data_is_refused_not_silently_dropped(value):
    layer = nn.Linear(2, 3, rng=0)
    with pytest.raises(gg.GraphgradTypeError, match=r"Linear\.W is a parameter; .* no longer "
                                                    r"be trained or saved.*W\.data = array, "
                                                    r"of shape \(3, 2\)"):
        layer.W = value
    assert [name for name, _ in layer.named_parameters()] == ["W", "b"]
    W = layer.W
    layer.W = nn.Parameter(np.ones((3, 2)))  # a new parameter takes its place
    assert layer.W is not W and "W" in layer.state_dict()
    np.testing.assert_array_equal(layer.state_dict()["W"], np.ones((3, 2)))
    layer.b = None  # removing one is allowed
    assert [name for name, _ in layer.named_parameters()] == ["W"]


def test_a_parameter_replaced_by_computed_weights_says_to_call_the_layers_op_with_them():
    """A MAML step's W - alpha * dW assigned to layer.W is refused as any non-parameter is; the
    error says how to run the layer with them, and that way differentiates through the step."""
    rng = np.random.default_rng(0)
    X, y, Xq, yq = (rng.standard_normal(shape) for shape in [(4, 2), (4, 1), (3, 2), (3, 1)])
    layer = nn.Linear(2, 1, rng=0)
    alpha = 0.1

    def outer_cost(W, b, create_graph):
        dW, db = gg.grad(nn.mse(nn.linear(X, W, b), y), [W, b], create_graph=create_graph)
        return nn.mse(nn.linear(Xq, W - alpha * dW, b - alpha * db), yq)

    dW, _ = gg.grad(nn.mse(layer(X), y), [layer.W, layer.b], create_graph=True)
    with pytest.raises(gg.GraphgradTypeError, match=r"Linear\.W is a parameter; assigning output "
                       r"of Sub .*To run the layer with computed weights that keep their graph "
                       r".*call the op of its forward with them.*nn\.linear\(X, W, b\)"):
        layer.W = layer.W - alpha * dW
    outer_cost(layer.W, layer.b, create_graph=True).backward()
    numeric = np.zeros((1, 2))
    for j in range(2):
        step = np.zeros((1, 2))
        step[0, j] = 1e-6
        costs = [outer_cost(gg.Tensor(layer.W.data + s, requires_grad=True), layer.b,
                            create_graph=False).item() for s in (step, -step)]
        numeric[0, j] = (costs[0] - costs[1]) / 2e-6
    np.testing.assert_allclose(layer.W.grad, numeric, rtol=1e-6)


@pytest.mark.parametrize("value", ["False", "no", None, 0, 1, np.array([True, False]), 0.0])
def test_mode_freeze_and_strict_flags_must_be_true_or_false(value):
    """A truthy "False" read as True trained a model meant for evaluation (and strict="no"
    loaded strictly); an array failed in numpy. Each is refused with nothing changed."""
    model = nn.Sequential(nn.Linear(2, 3), nn.Dropout(0.5)).eval()
    state = model.state_dict()
    with pytest.raises(gg.ArgumentError, match=r"Sequential\.train: mode must be True or "
                                               r"False, got"):
        model.train(value)
    assert not any(m.training for m in model.modules())
    with pytest.raises(gg.ArgumentError, match=r"Sequential\.requires_grad_: requires_grad "
                                               r"must be True or False"):
        model.requires_grad_(value)
    assert all(p.requires_grad for p in model.parameters())
    W = model.linear1.W
    with pytest.raises(gg.ArgumentError, match=r"requires_grad_ of 'W' \(3, 2\) float64: "
                                               r"requires_grad must be True or False"):
        W.requires_grad_(value)
    assert W.requires_grad
    with pytest.raises(gg.ArgumentError, match=r"Sequential\.load_state_dict: strict must be"):
        model.load_state_dict({"linear1.W": np.zeros((3, 2))}, strict=value)
    np.testing.assert_array_equal(model.linear1.W.data, state["linear1.W"])
    for yes in (True, np.True_):
        assert model.train(yes).training and model.linear1.training
        assert model.requires_grad_(not yes).count_parameters(trainable=True) == 0
        model.requires_grad_(yes)
    assert not model.train(np.False_).linear1.training


@pytest.mark.parametrize("bad, message", [
    ({0: np.zeros(2)}, r"unexpected keys: 0 \(not a str: keys are dotted names "
                          r"such as 'linear1\.W'\)"),
    ({"b": [[1.0], [2.0, 3.0]]}, r"b: the state's value cannot be made into an array "
                                 r"\(setting an array element with a sequence"),
    ({"b": None}, r"b: the state holds None, not numbers"),
    ({"b": "0.5"}, r"b: the state holds '0\.5', not numbers"),
    ({"b": np.array([None, 1.0])}, r"b: the state holds <object array \(2,\)>, not numbers"),
])
def test_load_state_dict_names_keys_and_values_that_cannot_be_state(bad, message):
    """A key that is no str failed in str.join and a ragged list in numpy, with no key named;
    None and strings were reported as 'shape ()'. Each problem is listed, nothing loads."""
    layer = nn.Linear(2, 2, rng=0)
    before = layer.state_dict()
    state = {"W": np.ones((2, 2)), "b": np.ones(2)}
    state.update(bad)
    with pytest.raises(nn.StateDictError, match=message):
        layer.load_state_dict(state)
    for key, value in layer.state_dict().items():
        np.testing.assert_array_equal(value, before[key])
    if 0 in bad:  # not strict: the names that fit are loaded, the other key skipped
        layer.load_state_dict(state, strict=False)
        np.testing.assert_array_equal(layer.W.data, np.ones((2, 2)))


@pytest.mark.parametrize("value", [5, "relu", gg.relu, np.zeros((3, 2)), nn.ReLU])
def test_a_layer_replaced_by_something_not_a_module_is_refused(value):
    """``model.linear1 = 5`` took the layer out of the chain without a word: the model then
    computed without it and trained and saved none of its parameters."""
    model = nn.Sequential(nn.Linear(2, 3, rng=0), nn.ReLU(), nn.Linear(3, 1, rng=1))
    X = np.random.default_rng(0).standard_normal((4, 2))
    before = model(X).data
    with pytest.raises(gg.GraphgradTypeError, match=r"Sequential\.linear1 is a layer, Linear\(2 "
                                                    r"-> 3, init='he'\); assigning .* to remove "
                                                    r"it, assign None"):
        model.linear1 = value
    assert len(model) == 3 and isinstance(model.linear1, nn.Linear)
    assert model.count_parameters() == 2 * 3 + 3 + 3 + 1
    np.testing.assert_array_equal(model(X).data, before)
    model.linear2 = nn.Linear(3, 1, rng=1)  # a Module in its place, or None, are fine
    model.relu1 = None
    assert [name for name, _ in model.named_children()] == ["linear1", "linear2"]
    W2, b2 = model.linear2.W.data, model.linear2.b.data
    np.testing.assert_allclose(model(X).data, model.linear1(X).data @ W2.T + b2)


class ForgotSuper(nn.Module):
    def __init__(self):
        pass  # super().__init__() forgotten, and nothing assigned that would say so

    def forward(self, X):
        return X


class _ForgotSuperAssigns(nn.Module):
    def __init__(self):
        self.linear = nn.Linear(2, 2)


@pytest.mark.parametrize("use", [
    lambda m: m.parameters(), lambda m: m.state_dict(), repr, lambda m: m.train(),
    lambda m: nn.Sequential(m).parameters(), lambda m: m.load_state_dict({}),
])
def test_a_module_whose_init_forgot_super_says_to_call_it(use):
    """PyTorch users know this mistake; Python's "no attribute '_members'" came from inside
    parameters(), state_dict(), the repr or Sequential."""
    model = ForgotSuper()
    with pytest.raises(gg.GraphgradError, match=r"ForgotSuper: call super\(\)\.__init__\(\) "
                                                r"at the start of __init__, before using the "
                                                r"module") as info:
        use(model)
    assert isinstance(info.value, AttributeError)  # hasattr and getattr(..., default) work
    with pytest.raises(gg.GraphgradError, match=r"before assigning self\.linear"):
        _ForgotSuperAssigns()
    with pytest.raises(AttributeError, match="has no attribute 'hidden'") as other:
        nn.Linear(2, 2).hidden  # noqa: B018
    assert not isinstance(other.value, gg.GraphgradError)


class _Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 2, rng=0)

    def forward(self, X):
        return self.linear(X)


class __(nn.Module):
    def forward(self, X):
        return X * 2.0


def test_sequential_names_a_layer_of_a_private_class_without_its_underscores():
    """Sequential(_Block()) was refused for the name it made itself, '_block1', which no
    name may start with (it would be private)."""
    model = nn.Sequential(_Block(), __(), _Block())
    assert [name for name, _ in model.named_children()] == ["block1", "layer1", "block2"]
    assert [name for name, _ in model.named_parameters()][:2] == ["block1.linear.W",
                                                                  "block1.linear.b"]
    X = np.ones((1, 2))
    first = X @ model.block1.linear.W.data.T + model.block1.linear.b.data
    expected = 2.0 * first @ model.block2.linear.W.data.T + model.block2.linear.b.data
    np.testing.assert_allclose(model(X).data, expected)


@pytest.mark.parametrize("name, value, error, message", [
    (3, np.zeros(2), gg.ArgumentError, "the name must be a non-empty str without dots"),
    ("", np.zeros(2), gg.ArgumentError, "got ''"),
    ("stats.mean", np.zeros(2), gg.ArgumentError, r"without dots .*got 'stats\.mean'"),
    ("W", np.zeros((2, 2)), gg.ArgumentError, "'W' is already a parameter"),
    ("forward", np.zeros(2), gg.ArgumentError, "'forward' is already an attribute of the class"),
    ("mu", "0.5", gg.GraphgradTypeError, "buffer 'mu' must hold numbers, got '0.5'"),
    ("mu", [[1.0], [2.0, 3.0]], gg.GraphgradTypeError, "buffer 'mu' cannot be made into an array"),
])
def test_register_buffer_refuses_names_and_values_state_dict_could_not_hold(name, value, error,
                                                                           message):
    """A buffer over a parameter took it out of parameters(), one named 'forward' replaced
    the method, one with a dot made a key load_state_dict reads as a layer's; None and
    strings were saved as object or string arrays no model could load, and a ragged list
    failed in numpy. Nothing is registered when refused. (None is a buffer state_dict
    skips.)"""
    layer = nn.Linear(2, 2, rng=0)
    with pytest.raises(error, match=rf"Linear(\.register_buffer)?: .*{message}"):
        layer.register_buffer(name, value)
    assert [n for n, _ in layer.named_parameters()] == ["W", "b"]
    assert list(layer.state_dict()) == ["W", "b"]
    assert layer(np.ones((1, 2))).shape == (1, 2)
    layer.register_buffer("mu", np.array([0.5, 1.5]))
    with pytest.raises(gg.GraphgradTypeError, match="buffer 'mu' must hold numbers, got '0.5'"):
        layer.mu = "0.5"  # assigning a buffer is checked as registering it
    np.testing.assert_array_equal(layer.state_dict()["mu"], [0.5, 1.5])


def test_sequential_and_module_list_say_what_indexes_their_layers():
    """Sequential's errors were list's ('list indices must be integers or slices, not str',
    'list index out of range'), and ModuleList.insert(1.5, ...) failed on operator.index."""
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))
    assert model[-1] is model.linear2 and model[np.int64(1)] is model.relu1
    assert [type(layer) for layer in model[1:]] == [nn.ReLU, nn.Linear]
    with pytest.raises(IndexError, match="Sequential index 3 is out of range for 3 layers"):
        model[3]  # noqa: B018
    with pytest.raises(IndexError, match="Sequential index -4 is out of range"):
        model[-4]  # noqa: B018
    with pytest.raises(gg.GraphgradTypeError, match=r"Sequential indices are integers or "
                                                    r"slices, got 'linear1': a layer by its "
                                                    r"name is an attribute, model\.linear1"):
        model["linear1"]  # noqa: B018
    for index in (1.0, None, (0, 1), np.array([0, 1])):
        with pytest.raises(gg.GraphgradTypeError, match="Sequential indices are integers"):
            model[index]  # noqa: B018
    layers = nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])
    for index in (1.5, "0", None):
        with pytest.raises(gg.GraphgradTypeError, match="ModuleList indices are integers"):
            layers.insert(index, nn.Tanh())
    assert [type(layer) for layer in layers] == [nn.Linear, nn.ReLU]
    layers.insert(np.int64(1), nn.Tanh())
    assert [type(layer) for layer in layers] == [nn.Linear, nn.Tanh, nn.ReLU]


@pytest.mark.parametrize("value", ["False", None, 0, np.array([True])])
def test_use_name_scopes_takes_true_or_false_and_keeps_its_setting_otherwise(value):
    """A truthy "False" would have turned the scopes on."""
    with pytest.raises(gg.ArgumentError, match=r"nn.use_name_scopes: enabled must be True or "
                                               r"False, got"):
        nn.use_name_scopes(value)
    J = nn.Linear(2, 1, rng=0)(np.ones((1, 2)))
    assert J.creator.scope == "Linear"  # still on, as by default


def test_a_float64_state_loads_into_a_float32_model_as_float32_copies():
    model = nn.Sequential(nn.Linear(2, 3, rng=0, dtype=np.float32),
                          nn.BatchNorm1d(3, dtype=np.float32))
    state = {key: value.astype(np.float64) + 0.25 for key, value in model.state_dict().items()}
    model.load_state_dict(state)
    for key, value in model.state_dict().items():
        assert value.dtype == np.float32, key
        np.testing.assert_array_equal(value, state[key].astype(np.float32))
        assert not np.shares_memory(value, state[key])


def test_a_sequential_grows_and_shrinks_as_a_list_with_its_names_and_scopes_kept_right():
    """Sequential had no append, extend, insert, layers[i] = layer or del layers[i]."""
    first, act, last = nn.Linear(3, 4, rng=0), nn.ReLU(), nn.Linear(4, 2, rng=1)
    model = nn.Sequential(first, act, last)
    head = nn.Linear(2, 1, rng=2)
    assert model.append(head) is model
    assert [n for n, _ in model.named_children()] == ["linear1", "relu1", "linear2", "linear3"]
    X = np.random.default_rng(0).standard_normal((5, 3))
    np.testing.assert_allclose(model(X).data, head(last(act(first(X)))).data)
    # an insert names the layers as Sequential(*layers) would: linear2 is still W[2]
    new = nn.Linear(3, 3, rng=3)
    assert model.insert(0, new) is model
    assert list(model) == [new, first, act, last, head]
    assert [n for n, _ in model.named_children()] == ["linear1", "linear2", "relu1", "linear3",
                                                      "linear4"]
    assert model.linear2 is first and model[0] is new
    np.testing.assert_array_equal(model.state_dict()["linear2.W"], first.W.data)
    np.testing.assert_allclose(model(X).data, head(last(act(first(new(X))))).data)
    assert model(X).creator.scope == "linear4"  # the graph's clusters follow the names
    assert last(act(first(new(X)))).creator.scope == "linear3"
    del model[0]
    assert list(model) == [first, act, last, head]
    assert [n for n, _ in model.named_children()] == ["linear1", "relu1", "linear2", "linear3"]
    assert first(X).creator.scope == "linear1" and last(X @ np.ones((3, 4))).creator.scope == (
        "linear2")
    tanh = nn.Tanh()
    model[1] = tanh  # replaced in its place, under its name, as model.relu1 = tanh
    assert model.relu1 is tanh and list(model) == [first, tanh, last, head]
    del model[-2:]
    assert list(model) == [first, tanh] and list(model.state_dict()) == ["linear1.W", "linear1.b"]
    assert model.extend([last, nn.Sigmoid()]) is model
    assert [n for n, _ in model.named_children()] == ["linear1", "relu1", "linear2", "sigmoid1"]
    expected = 1 / (1 + np.exp(-last(np.tanh(first(X).data)).data))
    np.testing.assert_allclose(model(X).data, expected)
    with pytest.raises(IndexError, match="Sequential index 4 is out of range for 4 layers"):
        del model[4]
    with pytest.raises(gg.GraphgradTypeError, match="Sequential: layer 5 is a function"):
        model.extend([nn.ReLU(), gg.relu])
    with pytest.raises(gg.GraphgradTypeError, match="Sequential: layer 4 is a function"):
        model.append(gg.relu)
    with pytest.raises(gg.GraphgradTypeError, match="Sequential: the layer to insert at 0 is"):
        model.insert(0, gg.relu)
    assert len(model) == 4


def test_a_sequential_with_names_of_its_own_keeps_them_and_names_a_new_layer_freely():
    hidden, out = nn.Linear(3, 4, rng=0), nn.Linear(4, 1, rng=1)
    model = nn.Sequential({"hidden": hidden, "linear2": out})
    model.insert(1, nn.ReLU())
    model.insert(0, nn.Linear(3, 3, rng=2))
    model.append(nn.Linear(1, 1, rng=3))
    # the next count after those of its class, never a name there is
    assert [n for n, _ in model.named_children()] == ["linear3", "hidden", "relu1", "linear2",
                                                      "linear4"]
    del model[0]
    assert [n for n, _ in model.named_children()] == ["hidden", "relu1", "linear2", "linear4"]
    assert model.hidden is hidden and model.linear2 is out
    assert hidden(np.ones((1, 3))).creator.scope == "hidden"


def test_a_layer_list_is_given_one_layer_at_a_time_by_position():
    for layers in (nn.Sequential(nn.ReLU(), nn.Tanh()), ModuleList([nn.ReLU(), nn.Tanh()])):
        kind = type(layers).__name__
        with pytest.raises(gg.GraphgradTypeError, match=rf"{kind}: layers\[i\] = layer replaces "
                                                        r"one layer"):
            layers[0:1] = [nn.Sigmoid()]
        with pytest.raises(gg.GraphgradTypeError, match=rf"^{kind} takes an iterable of modules,"
                                                        r" got one ReLU"):
            layers.extend(nn.ReLU())
        assert [type(layer) for layer in layers] == [nn.ReLU, nn.Tanh]


def test_a_layer_taken_out_of_a_model_loses_its_name_there_in_pictures():
    """A layer deleted from a ModuleList or a Sequential, or replaced, was still drawn as the
    cluster 'layers/2' (or 'linear2') wherever it was then used."""
    class Stack(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = ModuleList(nn.Linear(2, 2, rng=i) for i in range(3))
            self.head = nn.Linear(2, 1, rng=3)

    X = np.ones((1, 2))
    model = Stack()
    third = model.layers[2]
    assert third(X).creator.scope == "layers/2"
    del model.layers[2]
    assert third(X).creator.scope == "Linear"  # as a layer held by no model
    chain = nn.Sequential(nn.Linear(2, 2, rng=4), nn.ReLU())
    kept = model.layers[0]
    model.layers[0] = nn.Linear(2, 2, rng=5)
    assert kept(X).creator.scope == "Linear"
    head = model.head
    model.head = None
    assert head(X).creator.scope == "Linear"
    model.layers.append(head)  # it takes the name of its new place
    assert head(X).creator.scope == "layers/2"
    first = chain[0]
    del chain[0]
    assert first(X).creator.scope == "Linear" and chain.relu1._scope == "relu1"
    model.extra = nn.Linear(2, 2, rng=6)
    del model.extra
    model.other = first
    model.again = first  # a layer held twice is drawn under its last name
    del model.again
    assert first(X).creator.scope == "other"  # still held there
    inner = model.layers
    del model.layers  # a list taken out: its layers are 0, 1, 2, as in a list of its own
    assert [layer._scope for layer in inner] == ["0", "1", "2"]


def test_a_buffer_may_be_none_which_state_dict_skips_as_in_pytorch():
    """register_buffer(name, None) and assigning None to a buffer were refused: the buffer
    'must hold numbers'."""
    model = nn.Linear(2, 2, rng=0)
    model.register_buffer("mu", None)
    model.register_buffer("sigma", np.ones(2))
    assert model.mu is None and list(model.state_dict()) == ["W", "b", "sigma"]
    model.mu = np.array([0.5, 1.5])  # still a buffer, saved in its place
    state = model.state_dict()
    assert list(state) == ["W", "b", "mu", "sigma"]
    np.testing.assert_array_equal(state["mu"], [0.5, 1.5])
    model.mu = None
    assert model.mu is None and list(model.state_dict()) == ["W", "b", "sigma"]
    assert list(nn.Sequential(model).state_dict()) == ["linear1.W", "linear1.b", "linear1.sigma"]
    # a saved value for it is not loaded into None, whose shape and dtype are no one's
    with pytest.raises(module.StateDictError, match=r"unexpected keys: mu \(a buffer that is "
                                                    r"None in the model: set it to an array "
                                                    r"of the saved shape to load it\)"):
        model.load_state_dict(state)
    assert model.mu is None
    model.load_state_dict(state, strict=False)  # skipped, as any unexpected key
    assert model.mu is None
    model.mu = np.zeros(2, dtype=np.float32)
    model.load_state_dict(state)
    np.testing.assert_array_equal(model.mu, [0.5, 1.5])
    assert model.mu.dtype == np.float32
    with pytest.raises(gg.GraphgradTypeError, match="buffer 'mu' must hold numbers, got 'x'"):
        model.mu = "x"
    del model.mu  # no longer a buffer: None is then a plain attribute, and an array too
    model.mu = np.ones(3)
    assert list(model.state_dict()) == ["W", "b", "sigma"]


def test_a_frozen_tensor_parameter_is_still_a_parameter_data_cannot_replace():
    """A Tensor made with requires_grad=True and then frozen was no longer seen as a
    parameter: an array assigned over it took it out of parameters() and state_dict()
    without a word, and register_buffer called it a layer."""
    model = nn.Module()
    model.a = gg.Tensor(np.ones(2), requires_grad=True)
    model.requires_grad_(False)
    with pytest.raises(gg.GraphgradTypeError, match=r"Module\.a is a parameter; .*a\.data = "
                                                    r"array, of shape \(2,\)"):
        model.a = np.zeros(2)
    with pytest.raises(gg.ArgumentError, match="'a' is already a parameter"):
        model.register_buffer("a", np.zeros(2))
    np.testing.assert_array_equal(model.state_dict()["a"], [1.0, 1.0])
    assert model.parameters() == [model.a]


# -- dtype conversion and apply ---------------------------------------------------------------
def _normed_model(dtype=np.float64):
    nn.init.seed(3)
    return nn.Sequential(nn.Linear(3, 4, dtype=dtype), nn.BatchNorm1d(4, dtype=dtype), nn.ReLU(),
                         nn.Linear(4, 2, dtype=dtype))


def test_astype_converts_parameters_grads_and_buffers_in_place_and_the_model_computes_in_it():
    model = _normed_model()
    X = np.random.default_rng(0).standard_normal((6, 3))
    labels = np.array([0, 1, 1, 0, 1, 0])
    nn.cross_entropy(model(X), labels).backward()
    params = model.parameters()
    reference = [(p.data.copy(), p.grad.copy()) for p in params]

    assert model.astype(np.float32) is model
    assert model.parameters() == params  # the same tensors: an optimizer keeps them
    for p, (data, grad) in zip(params, reference):
        assert p.dtype == np.float32 and p.grad.dtype == np.float32
        np.testing.assert_array_equal(p.data, data.astype(np.float32))
        np.testing.assert_array_equal(p.grad, grad.astype(np.float32))
    norm = model.batchnorm1
    assert norm.running_mean.dtype == norm.running_var.dtype == np.float32

    float64_twin = _normed_model()
    float64_twin.load_state_dict(model.state_dict())
    model.zero_grad()
    J = nn.cross_entropy(model(X), labels)
    J.backward()
    J64 = nn.cross_entropy(float64_twin(X), labels)
    J64.backward()
    assert J.dtype == np.float32
    np.testing.assert_allclose(J.item(), J64.item(), rtol=1e-6)
    for p, p64 in zip(model.parameters(), float64_twin.parameters()):
        assert p.grad.dtype == np.float32
        np.testing.assert_allclose(p.grad, p64.grad, rtol=1e-4, atol=1e-6)

    optimizer = optim.SGD(model.parameters(), lr=0.1)
    optimizer.step()
    assert all(p.dtype == np.float32 for p in model.parameters())

    model.double()
    assert all(p.dtype == np.float64 and p.grad.dtype == np.float64 for p in params)
    assert model(X).dtype == np.float64 and norm.running_mean.dtype == np.float64
    assert model.float() is model and model(X).dtype == np.float32


def test_a_converted_transformer_computes_in_its_new_dtype_positions_included():
    model = nn.Transformer(1, 8, 2, 16, 11, 13, 10, 10, dropout=0.0, rng=0).astype(np.float32)
    tokens = np.array([[1, 2, 3, 4]])
    logits = model(tokens, tokens[:, :3])
    logits = logits[0] if isinstance(logits, tuple) else logits
    assert logits.dtype == np.float32  # float64 positional encodings made it float64
    built = nn.Transformer(1, 8, 2, 16, 11, 13, 10, 10, dropout=0.0, rng=0, dtype=np.float32)
    expected = built(tokens, tokens[:, :3])
    expected = expected[0] if isinstance(expected, tuple) else expected
    np.testing.assert_array_equal(logits.data, expected.data)


@pytest.mark.parametrize("dtype", [np.int64, np.float16, "text"])
def test_astype_takes_float64_or_float32_only_and_changes_nothing_otherwise(dtype):
    model = _normed_model()
    with pytest.raises(gg.GraphgradTypeError,
                       match=r"Sequential.astype: dtype must be np.float64 or np.float32"):
        model.astype(dtype)
    assert all(p.dtype == np.float64 for p in model.parameters())


@pytest.mark.parametrize("method, words", [
    ("half", "Sequential.half: graphgrad computes in np.float64 or np.float32 only: numpy's "
     "float16 multiplies matrices without BLAS"),
    ("bfloat16", "Sequential.bfloat16: graphgrad computes in np.float64 or np.float32 only: "
     "numpy has no bfloat16"),
])
def test_half_and_bfloat16_are_refused_saying_why_and_change_nothing(method, words):
    """PyTorch's model.half() and model.bfloat16() raised AttributeError; they are refused
    saying why, and the model keeps its dtype."""
    model = _normed_model()
    with pytest.raises(gg.GraphgradTypeError, match=re.escape(words)) as caught:
        getattr(model, method)()
    assert "model.float()" in str(caught.value)
    assert all(p.dtype == np.float64 for p in model.parameters())


def test_apply_calls_the_function_on_each_module_once_children_first():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(nn.Sequential(shared, nn.Tanh()), shared, nn.Linear(2, 1))
    seen = []
    assert model.apply(seen.append) is model
    assert [id(m) for m in seen] == [id(shared), id(model[0][1]), id(model[0]),
                                     id(model[2]), id(model)]

    rng = np.random.default_rng(5)

    def init_weights(m):
        if isinstance(m, nn.Linear):
            m.W.data = nn.init.xavier(m.W.shape, rng)
            m.b.data = np.full(m.b.shape, 0.5)

    model.apply(init_weights)
    check = np.random.default_rng(5)
    np.testing.assert_array_equal(shared.W.data, nn.init.xavier((2, 2), check))
    np.testing.assert_array_equal(model[2].W.data, nn.init.xavier((1, 2), check))
    assert (model[2].b.data == 0.5).all()
    with pytest.raises(gg.GraphgradTypeError, match=r"Sequential.apply takes a function"):
        model.apply("xavier")


# -- ModuleDict ---------------------------------------------------------------------------------
class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(3, 4, rng=0)
        self.heads = nn.ModuleDict({"digit": nn.Linear(4, 10, rng=1),
                                    "parity": nn.Linear(4, 1, rng=2)})

    def forward(self, X, task):
        return self.heads[task](gg.tanh(self.body(X)))


def test_a_module_dict_registers_its_layers_by_name_and_trains_the_one_picked():
    model = TwoHeads()
    assert [name for name, _ in model.named_parameters()] == [
        "body.W", "body.b", "heads.digit.W", "heads.digit.b", "heads.parity.W", "heads.parity.b"]
    heads = model.heads
    assert heads.keys() == ["digit", "parity"] and list(heads) == ["digit", "parity"]
    assert len(heads) == 2 and "digit" in heads and "sign" not in heads and 0 not in heads
    assert heads.values() == [heads["digit"], heads["parity"]]
    assert heads.items() == list(zip(heads.keys(), heads.values()))

    X = np.random.default_rng(0).standard_normal((5, 3))
    J = nn.mse(model(X, "parity"), np.ones((5, 1)))
    J.backward()
    A = np.tanh(X @ model.body.W.data.T + model.body.b.data)
    dZ = 2 * (A @ heads["parity"].W.data.T + heads["parity"].b.data - 1) / 5
    np.testing.assert_allclose(heads["parity"].W.grad, dZ.T @ A, rtol=1e-12)
    assert heads["digit"].W.grad is None  # the head not picked gets nothing

    state = model.state_dict()
    twin = TwoHeads()
    for p in twin.parameters():
        p.data = np.zeros_like(p.data)
    twin.load_state_dict(state)
    np.testing.assert_array_equal(twin(X, "digit").data, model(X, "digit").data)

    model.eval()
    assert not heads["digit"].training
    assert "(heads): ModuleDict" in repr(model) and "(digit): Linear(4 -> 10" in repr(model)


def test_a_module_dict_changes_as_a_dict():
    heads = nn.ModuleDict([("a", nn.Linear(2, 2, rng=0))])
    b = nn.Linear(2, 1, rng=1)
    heads["b"] = b
    assert heads.keys() == ["a", "b"] and heads["b"] is b
    replacement = nn.Linear(2, 3, rng=2)
    heads["a"] = replacement  # in place, under its name
    assert heads.keys() == ["a", "b"] and heads.parameters()[0] is replacement.W
    heads.update({"c": nn.ReLU(), "b": nn.Tanh()})
    assert heads.keys() == ["a", "b", "c"] and isinstance(heads["b"], nn.Tanh)
    assert heads.pop("c").__class__ is nn.ReLU and "c" not in heads
    del heads["b"]
    assert heads.keys() == ["a"] and len(heads.parameters()) == 2
    layer = heads["a"]
    heads.clear()
    assert len(heads) == 0 and heads.parameters() == [] and layer._scope is None
    heads["a"] = layer
    with pytest.raises(KeyError, match=r"ModuleDict has no layer named 'z'; it holds 'a'"):
        heads["z"]
    with pytest.raises(KeyError, match="no layer named 'z'"):
        del heads["z"]


def test_a_module_dict_is_made_from_and_updated_with_another_one_as_pytorchs():
    first, second = nn.Linear(2, 2, rng=0), nn.ReLU()
    heads = nn.ModuleDict({"a": first, "b": second})
    copied = nn.ModuleDict(heads)  # the layers themselves, under their names
    assert copied.keys() == ["a", "b"] and copied["a"] is first and copied["b"] is second
    more = nn.ModuleDict({"c": nn.Tanh()})
    more.update(heads)
    assert more.keys() == ["c", "a", "b"] and more["a"] is first
    assert [name for name, _ in more.named_parameters()] == ["a.W", "a.b"]


@pytest.mark.parametrize("name", ["keys", "update", "_members", "not a name", "a.b", 3])
def test_a_module_dict_name_that_would_shadow_or_break_is_refused_and_nothing_added(name):
    with pytest.raises(gg.ArgumentError, match="ModuleDict: .* cannot name a layer"):
        nn.ModuleDict({"fine": nn.ReLU(), name: nn.Linear(2, 2)})
    heads = nn.ModuleDict()
    with pytest.raises(gg.ArgumentError, match="cannot name a layer"):
        heads.update([("fine", nn.ReLU()), (name, nn.ReLU())])
    assert len(heads) == 0  # checked first: the good one was not added either


@pytest.mark.parametrize("given", [[nn.ReLU()], 5, {"relu": np.ones(2)}],
                         ids=["layers without names", "a number", "an array"])
def test_a_module_dict_takes_names_and_modules_only(given):
    with pytest.raises(gg.GraphgradTypeError, match=r"ModuleDict( takes a dict|: 'relu' is a)"):
        nn.ModuleDict(given)


def test_a_module_dict_is_not_a_layer_and_a_dict_attribute_points_to_it():
    with pytest.raises(gg.GraphgradTypeError, match=r"ModuleDict \(1 layer\) is not a layer.*"
                       r"self.heads\['digit'\]\(X\)"):
        nn.ModuleDict({"a": nn.ReLU()})(np.ones(2))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.heads = {"a": nn.Linear(2, 1)}

    with pytest.raises(gg.GraphgradTypeError, match=r"Use nn.ModuleDict\(layers\)"):
        Net()


def test_layers_of_a_module_dict_are_clusters_named_after_it():
    model = TwoHeads()
    scopes = {scope for name, scope in _scopes(model(np.ones((1, 3)), "digit"))
              if name == "Affine"}
    assert scopes == {"body", "heads/digit"}
    model.heads["extra"] = nn.Linear(4, 2, rng=3)  # added later: named after the dict too
    scopes = {scope for name, scope in _scopes(model.heads["extra"](np.ones((1, 4))))
              if name == "Affine"}
    assert scopes == {"heads/extra"}
