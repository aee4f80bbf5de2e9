"""Module's registry as PyTorch users reach it: add_module, register_parameter,
get_submodule, get_parameter, named_parameters(recurse=...), to(dtype), ParameterList,
ParameterDict and copy.deepcopy, each against a model whose parameters are known by hand."""
import copy
import pickle

import numpy as np
import pytest

import graphgrad as gg
from graphgrad import nn, optim


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(np.full(3, 2.0))
        self.inner = nn.Linear(3, 2, rng=0)

    def forward(self, X):
        return self.inner(X * self.scale)


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.bias = nn.Parameter(np.zeros(2))
        self.block = Block()
        self.head = nn.Sequential(nn.Linear(2, 1, rng=1))

    def forward(self, X):
        return self.head(self.block(X) + self.bias)


def test_add_module_and_register_module_register_a_layer_by_name():
    model = nn.Module()
    layer = nn.Linear(2, 3, rng=0)
    model.add_module("encoder", layer)
    model.register_module("1", nn.ReLU())  # a name no attribute syntax reaches, as PyTorch's
    assert model.encoder is layer and getattr(model, "1").__class__ is nn.ReLU
    assert [name for name, _ in model.named_children()] == ["encoder", "1"]
    assert list(model.state_dict()) == ["encoder.W", "encoder.b"]
    model.add_module("encoder", None)  # None removes it, as assigning None does
    assert model.parameters() == [] and model.encoder is None


@pytest.mark.parametrize("name, why", [("a.b", "dot"), ("", "empty"), (3, "str"),
                                       ("forward", "attribute of the class")])
def test_add_module_refuses_a_name_that_cannot_name_a_layer(name, why):
    with pytest.raises(gg.ArgumentError, match=why):
        nn.Module().add_module(name, nn.ReLU())


def test_add_module_refuses_what_is_no_module_and_an_attribute_taken():
    model = nn.Linear(2, 3)
    with pytest.raises(gg.GraphgradTypeError, match="Module or None"):
        model.add_module("act", gg.relu)
    with pytest.raises(gg.ArgumentError, match="n_in"):
        model.add_module("n_in", nn.ReLU())
    with pytest.raises(gg.ArgumentError, match="'W' is already a parameter"):
        model.add_module("W", nn.ReLU())
    with pytest.raises(gg.ArgumentError, match="'counts' is already a buffer"):
        model.register_buffer("counts", np.zeros(1))
        model.register_parameter("counts", nn.Parameter(np.zeros(1)))


def test_register_parameter_registers_it_and_none_keeps_its_place_out_of_the_state():
    model = nn.Module()
    W = nn.Parameter(np.ones((2, 2)))
    model.register_parameter("W", W)
    model.register_parameter("b", None)
    assert model.W is W and W.name == "W" and model.b is None
    assert model.parameters() == [W] and list(model.state_dict()) == ["W"]
    with pytest.raises(gg.GraphgradTypeError, match="nn.Parameter or None"):
        model.register_parameter("c", np.ones(2))
    computed = W * 2
    with pytest.raises(gg.GraphgradTypeError, match="nn.Parameter or None"):
        model.register_parameter("c", computed)
    with pytest.raises(gg.ArgumentError, match="dot"):
        model.register_parameter("a.c", nn.Parameter(np.ones(1)))


def test_get_submodule_get_parameter_and_get_buffer_follow_dotted_paths():
    model = Model()
    model.block.register_buffer("counts", np.arange(3))
    assert model.get_submodule("") is model
    assert model.get_submodule("block") is model.block
    assert model.get_submodule("block.inner") is model.block.inner
    assert model.get_submodule("head.linear1") is model.head.linear1
    assert model.get_parameter("bias") is model.bias
    assert model.get_parameter("block.inner.W") is model.block.inner.W
    assert model.get_parameter("head.linear1.b") is model.head.linear1.b
    np.testing.assert_array_equal(model.get_buffer("block.counts"), np.arange(3))
    # every dotted key of state_dict() names what get_parameter / get_buffer give
    for key, value in model.state_dict().items():
        got = model.get_buffer(key) if key == "block.counts" else model.get_parameter(key).data
        np.testing.assert_array_equal(got, value)


def test_get_submodule_and_get_parameter_name_what_is_missing():
    model = Model()
    with pytest.raises(AttributeError, match=r"'block' has no layer 'outer'.*inner"):
        model.get_submodule("block.outer")
    with pytest.raises(gg.GraphgradError, match=r"'block.scale' is a parameter, not a layer"):
        model.get_submodule("block.scale.x")
    with pytest.raises(AttributeError, match=r"'block.inner' has no parameter 'weight'.*W, b"):
        model.get_parameter("block.inner.weight")
    with pytest.raises(AttributeError, match="is a layer, not a parameter"):
        model.get_parameter("block.inner")
    with pytest.raises(AttributeError, match="no buffer 'W'"):
        model.get_buffer("block.inner.W")


def test_named_parameters_with_recurse_false_gives_the_modules_own():
    model = Model()
    assert [n for n, _ in model.named_parameters(recurse=False)] == ["bias"]
    assert model.parameters(recurse=False) == [model.bias]
    assert [n for n, _ in model.named_parameters(prefix="m", recurse=False)] == ["m.bias"]
    assert [n for n, _ in model.named_parameters()] == [
        "bias", "block.scale", "block.inner.W", "block.inner.b", "head.linear1.W",
        "head.linear1.b"]
    assert [n for n, _ in model.block.named_parameters("block")] == [
        "block.scale", "block.inner.W", "block.inner.b"]


def test_named_parameters_remove_duplicate_false_lists_a_tied_one_under_each_name():
    model = nn.Sequential(nn.Linear(2, 2, rng=0), nn.Linear(2, 2, rng=1))
    model.linear2.W = model.linear1.W
    assert [n for n, _ in model.named_parameters()] == ["linear1.W", "linear1.b", "linear2.b"]
    assert [n for n, _ in model.named_parameters(remove_duplicate=False)] == [
        "linear1.W", "linear1.b", "linear2.W", "linear2.b"]


def test_to_converts_the_dtype_as_astype_and_takes_the_cpu():
    model = Model()
    X = np.random.default_rng(0).standard_normal((4, 3))
    expected = model(X).data
    assert model.to(np.float32) is model
    assert all(p.dtype == np.float32 for p in model.parameters())
    out = model(X.astype(np.float32))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, expected, rtol=1e-5)
    model.to(dtype=np.float64)
    assert all(p.dtype == np.float64 for p in model.parameters())
    model.to("float32")
    assert model.bias.dtype == np.float32
    model.to(gg.Tensor(np.zeros(2)))  # a tensor's dtype, as PyTorch's to(tensor)
    assert model.bias.dtype == np.float64
    assert model.to("cpu") is model and model.to("cpu", np.float32).bias.dtype == np.float32
    assert model.cpu() is model
    with pytest.raises(gg.ArgumentError, match="numpy.*CPU"):
        model.to("cuda")
    with pytest.raises(gg.GraphgradTypeError, match="float64 or np.float32"):
        model.to(np.int64)
    with pytest.raises(gg.ArgumentError, match=r"Model.cuda\(\): graphgrad computes with "
                                               r"numpy on the CPU"):
        model.cuda()


def test_a_tensor_moves_as_pytorch_code_moves_it():
    """t.to(dtype) converts on the graph; to('cpu'), its own dtype and cpu() give t itself;
    other devices are refused naming the call."""
    t = gg.Tensor(np.array([1.5, -2.0]), requires_grad=True, name="t")
    assert t.to("cpu") is t and t.cpu() is t and t.to(np.float64) is t
    assert t.to(device="cpu", dtype=np.float64) is t
    low = t.to(np.float32)
    assert low.dtype == np.float32 and low.creator is not None
    (low * np.float32(3.0)).sum().backward()
    assert t.grad.dtype == np.float64
    np.testing.assert_array_equal(t.grad, [3.0, 3.0])
    assert t.to(gg.Tensor(np.zeros(1, np.float32))).dtype == np.float32  # a tensor's dtype
    with pytest.raises(gg.ArgumentError, match=r"Tensor.to\('cuda:0'\): graphgrad computes "
                                               r"with numpy on the CPU"):
        t.to("cuda:0")
    with pytest.raises(gg.ArgumentError, match=r"Tensor.cuda\(\) of 't' \(2,\) float64: graphgrad"):
        t.cuda()
    with pytest.raises(gg.GraphgradTypeError, match=r"Tensor.to takes a dtype.*the keywords "
                                                    r"pin"):
        t.to(pin=True)



@pytest.mark.parametrize("call, error, words", [
    (lambda t: t.to(0), gg.ArgumentError, r"Tensor.to\(0\): graphgrad computes with numpy on"),
    (lambda t: t.to(device=1), gg.ArgumentError, r"Tensor.to\(1\): graphgrad computes"),
    (lambda t: t.to("gpu"), gg.GraphgradTypeError,
     r"Tensor.to takes a dtype.*a device \('cpu'\).*got 'gpu'"),
    (lambda t: t.to(np.zeros(2)), gg.GraphgradTypeError, r"Tensor.to takes a dtype.*got ndarray"),
    (lambda t: nn.Linear(2, 3).to(0), gg.ArgumentError, r"Linear.to\(0\): graphgrad computes"),
    (lambda t: nn.Linear(2, 3).to("gpu"), gg.GraphgradTypeError,
     r"Linear.to takes a dtype.*got 'gpu'")])
def test_a_device_index_or_a_name_neither_dtype_nor_device_is_refused_by_to(call, error, words):
    """PyTorch reads an int given to .to(...) as a CUDA device's index (to(0) is cuda:0):
    refused as other devices are; a value that is neither a dtype, a device nor a tensor is
    refused naming it, where numpy's TypeError 'data type 'gpu' not understood' (or a
    model's 'dtype must be np.float64 or np.float32, got 0') said neither."""
    t = gg.Tensor(np.array([1.5, -2.0]), name="t")
    with pytest.raises(error, match=words):
        call(t)

def test_parameter_list_registers_its_parameters_by_position():
    params = nn.ParameterList([np.ones(2), nn.Parameter(np.zeros(3))])
    params.append(nn.Parameter(np.full((2, 2), 3.0)))
    params.extend([np.arange(2.0)])
    assert len(params) == 4
    assert [n for n, _ in params.named_parameters()] == ["0", "1", "2", "3"]
    assert all(isinstance(p, nn.Parameter) for p in params)  # arrays are made Parameters
    np.testing.assert_array_equal(params[-1].data, [0.0, 1.0])
    assert params[2] is params.parameters()[2]

    class Mixture(nn.Module):
        def __init__(self):
            super().__init__()
            self.weights = nn.ParameterList(np.full(2, float(k)) for k in range(3))

        def forward(self, X):
            return sum(w * X for w in self.weights)

    model = Mixture()
    assert list(model.state_dict()) == ["weights.0", "weights.1", "weights.2"]
    model(np.ones(2)).sum().backward()
    for w in model.weights:
        np.testing.assert_array_equal(w.grad, np.ones(2))
    params[0] = nn.Parameter(np.full(2, 7.0))
    assert params.parameters()[0].data[0] == 7.0
    with pytest.raises(gg.GraphgradTypeError, match="ParameterList"):
        params.append(nn.Linear(2, 2))
    with pytest.raises(IndexError, match="4 parameters"):
        params[4]


def test_parameter_dict_registers_its_parameters_by_name():
    params = nn.ParameterDict({"gamma": np.ones(2), "beta": nn.Parameter(np.zeros(2))})
    params["alpha"] = nn.Parameter(np.full(1, 0.5))
    assert list(params) == ["gamma", "beta", "alpha"] and len(params) == 3
    assert "beta" in params and "delta" not in params
    assert [n for n, _ in params.named_parameters()] == ["gamma", "beta", "alpha"]
    assert params["gamma"] is params.parameters()[0]
    assert [k for k, _ in params.items()] == params.keys()
    popped = params.pop("beta")
    np.testing.assert_array_equal(popped.data, [0.0, 0.0])
    assert params.keys() == ["gamma", "alpha"]
    params.update({"beta": np.zeros(3)})
    assert params["beta"].shape == (3,)
    with pytest.raises(KeyError, match="no parameter 'delta'.*'gamma', 'alpha', 'beta'"):
        params["delta"]
    with pytest.raises(gg.ArgumentError, match="identifier"):
        params["not a name"] = nn.Parameter(np.ones(1))


def test_parameter_dict_has_the_rest_of_pytorchs_dict_methods():
    # setdefault, copy, popitem, fromkeys and | were missing (AttributeError) in ported code.
    params = nn.ParameterDict({"gamma": np.ones(2)})
    beta = params.setdefault("beta", np.zeros(3))
    assert params.keys() == ["gamma", "beta"] and params["beta"] is beta
    assert params.setdefault("beta", np.ones(5)) is beta  # kept: no new parameter
    twin = params.copy()
    assert isinstance(twin, nn.ParameterDict) and twin.keys() == params.keys()
    assert twin["gamma"] is params["gamma"]  # the same parameters, as PyTorch's copy
    del twin["gamma"]
    assert "gamma" in params
    merged = params | {"alpha": np.full(1, 0.5)}
    assert merged.keys() == ["gamma", "beta", "alpha"] and params.keys() == ["gamma", "beta"]
    assert ({"alpha": np.ones(1)} | params).keys() == ["alpha", "gamma", "beta"]
    params |= {"gamma": np.full(2, 7.0)}
    np.testing.assert_array_equal(params["gamma"].data, [7.0, 7.0])
    name, last = params.popitem()
    assert name == "beta" and last is beta and params.keys() == ["gamma"]
    shared = nn.Parameter(np.ones(1))
    made = nn.ParameterDict.fromkeys(["a", "b"], shared)
    assert made.keys() == ["a", "b"] and made["a"] is made["b"] is shared
    with pytest.raises(KeyError, match="popitem: the ParameterDict is empty"):
        nn.ParameterDict().popitem()


def test_a_deep_copy_is_an_independent_model_with_its_own_tied_weights_still_tied():
    model = Model()
    model.block.register_buffer("steps", np.zeros(1))
    extra = nn.Linear(1, 2, rng=3)
    model.head.append(extra)
    model.head.append(nn.Linear(2, 1, rng=4))
    twin_layer = nn.Linear(1, 2, rng=5)
    twin_layer.W = extra.W  # tied
    model.tied = twin_layer
    X = np.random.default_rng(1).standard_normal((5, 3))
    before = model(X).data.copy()
    clone = copy.deepcopy(model)
    assert clone.tied.W is clone.head.linear2.W  # still one parameter in the copy
    assert clone.tied.W is not model.tied.W
    assert [n for n, _ in clone.named_parameters()] == [n for n, _ in model.named_parameters()]
    J = (clone(X) ** 2).sum()
    J.backward()
    optim.SGD(clone.parameters(), lr=0.1).step()
    clone.block.steps = np.ones(1)
    np.testing.assert_array_equal(model(X).data, before)
    assert model.block.steps[0] == 0.0 and all(p.grad is None for p in model.parameters())
    assert not np.array_equal(clone(X).data, before)
    copied = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(copied(X).data, before)
