"""A module's backward hooks (register_full_backward_hook, register_full_backward_pre_hook):
grad_input and grad_output against the gradients worked out by hand on a Linear layer
(Z = X W.T + b, J = sum(C * Z): grad_output = dZ = C, grad_input = (C W,), dW = C.T X), the
module's share of an input used outside it too, gradients the hooks replace, their order in a
Sequential, removal, gg.grad and create_graph, a first layer on data, the errors, the memory
they must not hold, and the BackwardHook nodes in a picture."""
import copy
import gc
import weakref

import numpy as np
import pytest
from test_viz_scopes import clusters
from viz_helpers import node_ids

import graphgrad as gg
import viz
from graphgrad import nn
from graphgrad.nn.module_hooks import BackwardHook

RNG = np.random.default_rng(7)
X0 = RNG.standard_normal((5, 3))
C = RNG.standard_normal((5, 2))


def linear_case(requires_grad=True):
    """A Linear(3 -> 2), an input X (5, 3) and J = sum(C * Z) + sum(X): dZ = C."""
    lin = nn.Linear(3, 2, rng=0)
    X = gg.Tensor(X0.copy(), requires_grad=requires_grad, name="X")
    return lin, X


def cost(Z, X):
    return (Z * C).sum() + X.sum()


def recorder(calls, tag=None):
    """A full backward hook keeping (tag, grad_input, grad_output) and changing nothing."""
    def hook(module, grad_input, grad_output):
        calls.append((tag or module, grad_input, grad_output))
    return hook


def graph_ops(root):
    """The names of the nodes of root's graph."""
    found, todo, seen = [], [root.creator], set()
    while todo:
        node = todo.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        found.append(node.name)
        todo.extend(t.creator for t in node.inputs)
    return found


# -- what the hooks are given --------------------------------------------------------------------
def test_a_linear_layers_grad_input_and_grad_output_are_dZ_W_and_dZ():
    lin, X = linear_case()
    calls, pre = [], []
    lin.register_full_backward_hook(recorder(calls))
    lin.register_full_backward_pre_hook(lambda m, grad_output: pre.append((m, grad_output)))
    cost(lin(X), X).backward()
    [(module, grad_input, grad_output)] = calls
    assert module is lin and pre[0][0] is lin
    assert type(grad_input) is tuple and type(grad_output) is tuple
    assert len(grad_input) == 1 and len(grad_output) == 1
    np.testing.assert_allclose(grad_output[0], C, rtol=1e-15)
    np.testing.assert_allclose(pre[0][1][0], C, rtol=1e-15)
    np.testing.assert_allclose(grad_input[0], C @ lin.W.data, rtol=1e-14)
    np.testing.assert_allclose(lin.W.grad, C.T @ X0, rtol=1e-14)  # the hooks change nothing
    np.testing.assert_allclose(X.grad, C @ lin.W.data + 1, rtol=1e-14)


def test_an_input_used_outside_the_module_too_gives_grad_input_the_modules_share_alone():
    lin, X = linear_case()
    calls = []
    lin.register_full_backward_hook(recorder(calls))
    Z = lin(X)
    J = cost(Z, X) + (X * X).sum()  # X's other uses: 1 + 2 X
    J.backward()
    np.testing.assert_allclose(calls[0][1][0], C @ lin.W.data, rtol=1e-14)
    np.testing.assert_allclose(X.grad, C @ lin.W.data + 1 + 2 * X0, rtol=1e-14)


def test_the_gradients_are_given_read_only_and_a_write_into_them_says_what_to_do():
    lin, X = linear_case()

    def doubling_in_place(module, grad_input, grad_output):
        grad_input[0][...] *= 2

    lin.register_full_backward_hook(doubling_in_place)
    with pytest.raises(gg.BackwardError, match=r"full backward hook doubling_in_place "
                       r"\(test_module_backward_hooks.py:\d+\) of Linear\(3 -> 2.*failed: "
                       r"(.|\n)*Return new ones instead"):
        cost(lin(X), X).backward()


def test_a_module_returning_a_tuple_and_taking_a_number_gets_none_in_their_places():
    class ScaleBoth(nn.Module):
        def forward(self, x, scale, y):
            return x * scale, y.detach() * scale, x * y

    x = gg.Tensor([1.0, 2.0], requires_grad=True)
    y = gg.Tensor([3.0, 5.0], requires_grad=True)
    module = ScaleBoth()
    calls = []
    module.register_full_backward_hook(recorder(calls))
    a, b, c = module(x, 4.0, y)
    assert not b.requires_grad
    (a.sum() + (c * np.array([1.0, 10.0])).sum()).backward()
    [(_, grad_input, grad_output)] = calls
    assert grad_input[1] is None and grad_output[1] is None and len(grad_input) == 3
    np.testing.assert_allclose(grad_output[0], [1.0, 1.0])
    np.testing.assert_allclose(grad_output[2], [1.0, 10.0])
    np.testing.assert_allclose(grad_input[0], 4.0 + np.array([3.0, 50.0]))  # scale + y dc
    np.testing.assert_allclose(grad_input[2], [1.0, 20.0])  # x dc (b is cut from y)


def test_an_output_no_gradient_reaches_has_zeros_in_grad_output():
    class Two(nn.Module):
        def forward(self, x):
            return x * 2.0, x * 3.0

    x = gg.Tensor([1.0, 2.0], requires_grad=True)
    module = Two()
    calls = []
    module.register_full_backward_hook(recorder(calls))
    first, _ = module(x)
    first.sum().backward()
    np.testing.assert_array_equal(calls[0][2][1], [0.0, 0.0])
    np.testing.assert_allclose(calls[0][1][0], [2.0, 2.0])


# -- what they return ----------------------------------------------------------------------------
def test_a_returned_grad_input_replaces_what_flows_to_the_inputs():
    lin, X = linear_case()
    lin.register_full_backward_hook(lambda m, grad_input, grad_output: (grad_input[0] * 3.0,))
    cost(lin(X), X).backward()
    np.testing.assert_allclose(X.grad, 3 * (C @ lin.W.data) + 1, rtol=1e-14)
    np.testing.assert_allclose(lin.W.grad, C.T @ X0, rtol=1e-14)  # inside: as it was


def test_a_pre_hook_replacing_grad_output_changes_dW_and_what_the_full_hooks_see():
    lin, X = linear_case()
    calls = []
    lin.register_full_backward_pre_hook(lambda m, grad_output: (grad_output[0] * 0.5 + 1.0,))
    lin.register_full_backward_hook(recorder(calls))
    cost(lin(X), X).backward()
    dZ = C * 0.5 + 1.0
    np.testing.assert_allclose(lin.W.grad, dZ.T @ X0, rtol=1e-14)
    np.testing.assert_allclose(lin.b.grad, dZ.sum(axis=0), rtol=1e-14)
    np.testing.assert_allclose(calls[0][2][0], dZ, rtol=1e-15)
    np.testing.assert_allclose(calls[0][1][0], dZ @ lin.W.data, rtol=1e-14)
    np.testing.assert_allclose(X.grad, dZ @ lin.W.data + 1, rtol=1e-14)


def test_a_pre_hook_alone_replaces_grad_output_and_leaves_grad_input_to_follow():
    lin, X = linear_case()
    lin.register_full_backward_pre_hook(lambda m, grad_output: (-grad_output[0],))
    cost(lin(X), X).backward()
    np.testing.assert_allclose(lin.W.grad, -C.T @ X0, rtol=1e-14)
    np.testing.assert_allclose(X.grad, -C @ lin.W.data + 1, rtol=1e-14)


def test_several_hooks_run_in_registration_order_each_given_what_the_one_before_left():
    lin, X = linear_case()
    seen = []

    def pre(tag, factor):
        def hook(module, grad_output):
            seen.append((tag, grad_output[0][0, 0]))
            return (grad_output[0] * factor,)
        return hook

    def full(tag, factor):
        def hook(module, grad_input, grad_output):
            seen.append((tag, grad_input[0][0, 0], grad_output[0][0, 0]))
            return (grad_input[0] * factor,)
        return hook

    lin.register_full_backward_hook(full("full 1", 5.0))
    lin.register_full_backward_pre_hook(pre("pre 1", 2.0))
    lin.register_full_backward_hook(full("full 2", 7.0))
    lin.register_full_backward_pre_hook(pre("pre 2", 3.0))
    cost(lin(X), X).backward()
    dX = (6 * C @ lin.W.data)[0, 0]
    assert seen == [("pre 1", C[0, 0]), ("pre 2", 2 * C[0, 0]),
                    ("full 1", pytest.approx(dX), 6 * C[0, 0]),
                    ("full 2", pytest.approx(5 * dX), 6 * C[0, 0])]
    np.testing.assert_allclose(X.grad, 35 * 6 * (C @ lin.W.data) + 1, rtol=1e-14)


def test_a_sequentials_layers_hooks_run_in_reverse_order_and_data_gives_grad_input_none():
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.ReLU(), nn.Linear(4, 2, rng=1))
    order, calls = [], {}
    for name, layer in model.named_children():
        layer.register_full_backward_pre_hook(
            lambda m, grad_output, name=name: order.append(f"pre {name}"))
        layer.register_full_backward_hook(
            lambda m, grad_input, grad_output, name=name: order.append(f"full {name}")
            or calls.__setitem__(name, (grad_input, grad_output)))
    out = model(X0)  # data: no input of linear1 requires grad
    (out * C).sum().backward()
    assert order == ["pre linear2", "full linear2", "pre relu1", "full relu1",
                     "pre linear1", "full linear1"]
    lin1, _, lin2 = list(model)
    Z1 = X0 @ lin1.W.data.T + lin1.b.data
    dA1 = C @ lin2.W.data
    dZ1 = dA1 * (Z1 > 0)
    np.testing.assert_allclose(calls["linear2"][1][0], C, rtol=1e-15)
    np.testing.assert_allclose(calls["linear2"][0][0], dA1, rtol=1e-14)
    np.testing.assert_allclose(calls["relu1"][1][0], dA1, rtol=1e-14)
    np.testing.assert_allclose(calls["relu1"][0][0], dZ1, rtol=1e-14)
    assert calls["linear1"][0] == (None,)
    np.testing.assert_allclose(calls["linear1"][1][0], dZ1, rtol=1e-14)
    np.testing.assert_allclose(lin1.W.grad, dZ1.T @ X0, rtol=1e-14)


def test_hooks_on_the_sequential_itself_see_the_whole_models_gradients():
    model = nn.Sequential(nn.Linear(3, 2, rng=0), nn.Tanh())
    lin = model[0]
    X = gg.Tensor(X0.copy(), requires_grad=True)
    calls = []
    model.register_full_backward_hook(recorder(calls))
    out = model(X)
    (out * C).sum().backward()
    dZ = C * (1 - out.data ** 2)
    np.testing.assert_allclose(calls[0][2][0], C, rtol=1e-15)
    np.testing.assert_allclose(calls[0][1][0], dZ @ lin.W.data, rtol=1e-14)


def test_a_module_called_twice_calls_its_hooks_once_per_call_with_that_calls_gradients():
    lin = nn.Linear(2, 2, rng=0)
    calls = []
    lin.register_full_backward_hook(recorder(calls))
    x = gg.Tensor([[1.0, -2.0]], requires_grad=True)
    h = lin(x)
    y = lin(h)
    (y * np.array([[1.0, 3.0]])).sum().backward()
    W = lin.W.data
    dy = np.array([[1.0, 3.0]])
    assert len(calls) == 2
    np.testing.assert_allclose(calls[0][2][0], dy)  # the second call's, first in backward
    np.testing.assert_allclose(calls[1][2][0], dy @ W, rtol=1e-15)
    np.testing.assert_allclose(calls[1][1][0], dy @ W @ W, rtol=1e-15)


def test_hooks_run_in_each_pass_through_a_retained_graph():
    lin, X = linear_case()
    calls = []
    lin.register_full_backward_hook(recorder(calls))
    J = cost(lin(X), X)
    J.backward(retain_graph=True)
    J.backward()
    assert len(calls) == 2
    np.testing.assert_allclose(calls[1][1][0], C @ lin.W.data, rtol=1e-14)
    np.testing.assert_allclose(X.grad, 2 * (C @ lin.W.data + 1), rtol=1e-14)



class Doubling(nn.Module):
    """h = 2x, kept as an attribute, and W * h: a pass from h alone reaches the input node
    without coming through the outputs."""

    def __init__(self):
        super().__init__()
        self.W = nn.Parameter(np.array([5.0, 7.0]))

    def forward(self, x):
        self.h = x * 2.0
        return self.h * self.W


def zeroing(calls):
    """A full backward hook keeping grad_output and sending no gradient on to the inputs."""
    def hook(module, grad_input, grad_output):
        calls.append(grad_output)
        return tuple(g * 0.0 for g in grad_input)
    return hook


def test_a_pass_that_stopped_inside_the_module_leaves_no_grad_output_for_a_later_one():
    # gg.grad of W alone runs the output node, never the input node; a later pass from h
    # alone reaches the input node only: no hook, and dh/dx as it is (the first pass's
    # grad_output given with it would have run the hook, which zeroes dx).
    module = Doubling()
    calls = []
    module.register_full_backward_hook(zeroing(calls))
    x = gg.Tensor([1.0, 2.0], requires_grad=True)
    J = (module(x) * np.array([10.0, 100.0])).sum()
    (dW,) = gg.grad(J, [module.W], retain_graph=True)
    np.testing.assert_allclose(dW, [20.0, 400.0])
    (dx,) = gg.grad(module.h.sum(), [x], retain_graph=True)
    np.testing.assert_allclose(dx, [2.0, 2.0])
    assert calls == []
    J.backward()  # through both nodes: the hook, with this pass's grad_output
    np.testing.assert_allclose(calls[0][0], [10.0, 100.0])
    np.testing.assert_allclose(x.grad, [0.0, 0.0])


def test_a_pre_hook_cutting_grad_output_leaves_none_for_a_later_pass():
    module = Doubling()
    calls = []
    module.register_full_backward_hook(zeroing(calls))
    module.register_full_backward_pre_hook(lambda m, grad_output: (None,))
    x = gg.Tensor([1.0, 2.0], requires_grad=True)
    J = module(x).sum()
    J.backward(retain_graph=True)  # nothing flows into the module: its input node never runs
    assert x.grad is None and module.W.grad is None
    module.h.sum().backward()
    np.testing.assert_allclose(x.grad, [2.0, 2.0])
    assert calls == []


# -- removal, copies, costs ----------------------------------------------------------------------
def test_a_removed_hook_runs_no_more_and_its_module_makes_no_node():
    lin, X = linear_case()
    calls = []
    handle = lin.register_full_backward_hook(recorder(calls))
    with lin.register_full_backward_pre_hook(lambda m, g: calls.append("pre")):
        cost(lin(X), X).backward()
    assert len(calls) == 2 and calls[0] == "pre"
    handle.remove()
    handle.remove()  # again: nothing happens
    assert "_module_hooks" not in lin.__dict__
    Z = lin(X)
    assert graph_ops(Z) == ["Affine"]
    cost(Z, X).backward()
    assert len(calls) == 2


def test_a_hook_removed_after_forward_still_runs_in_that_calls_backward_as_in_pytorch():
    lin, X = linear_case()
    calls = []
    handle = lin.register_full_backward_hook(recorder(calls))
    J = cost(lin(X), X)
    handle.remove()
    J.backward()
    assert len(calls) == 1


def test_modules_without_backward_hooks_get_no_node_and_forward_hooks_make_none():
    lin, X = linear_case()
    lin.register_forward_hook(lambda m, inputs, out: None)
    Z = lin(X)
    assert graph_ops(Z) == ["Affine"]
    lin.register_full_backward_hook(lambda m, gi, go: None)
    Z = lin(X)
    assert graph_ops(Z) == ["BackwardHook(Linear, grad_output)", "Affine",
                            "BackwardHook(Linear, grad_input)"]
    assert isinstance(Z.creator, BackwardHook) and Z.creator.attrs == {}
    with gg.no_grad():  # nothing recorded, so nothing to hook
        assert lin(X).creator is None
    other = nn.Linear(3, 2, rng=0)
    other.register_full_backward_pre_hook(lambda m, grad_output: None)
    assert graph_ops(other(X)) == ["BackwardHook(Linear, grad_output)", "Affine"]


def test_copies_hold_backward_hooks_of_their_own():
    lin, X = linear_case()
    calls = []
    lin.register_full_backward_hook(recorder(calls, "original's"))
    twin = copy.copy(lin)
    twin.register_full_backward_hook(recorder(calls, "twin's"))
    cost(lin(X), X).backward()
    assert [tag for tag, *_ in calls] == ["original's"]
    cost(twin(X), X).backward()
    assert [tag for tag, *_ in calls] == ["original's", "original's", "twin's"]


def test_a_hooked_graph_is_freed_without_the_collector(no_gc):
    lin, X = linear_case()
    lin.register_full_backward_hook(lambda m, gi, go: None)
    Z = lin(X)
    ref = weakref.ref(Z.creator)
    del Z
    assert ref() is None
    lin_ref = weakref.ref(lin)
    J = cost(lin(X), X)
    del lin
    assert lin_ref() is not None  # the graph holds the module whose hooks it will run
    J.backward()
    del J
    assert lin_ref() is None


# -- gg.grad and create_graph --------------------------------------------------------------------
def test_gg_grad_calls_the_hooks_and_fills_no_grad():
    lin, X = linear_case()
    calls = []
    lin.register_full_backward_hook(lambda m, gi, go: calls.append(gi) or (gi[0] * 2.0,))
    (dX, dW) = gg.grad(cost(lin(X), X), [X, lin.W])
    np.testing.assert_allclose(calls[0][0], C @ lin.W.data, rtol=1e-14)
    np.testing.assert_allclose(dX, 2 * (C @ lin.W.data) + 1, rtol=1e-14)
    np.testing.assert_allclose(dW, C.T @ X0, rtol=1e-14)
    assert X.grad is None and lin.W.grad is None


def test_gg_grad_of_the_parameters_alone_calls_the_hooks_of_a_first_layer_on_data():
    lin, _ = linear_case()
    calls = []
    lin.register_full_backward_hook(recorder(calls))
    (dW,) = gg.grad((lin(X0) * C).sum(), [lin.W])
    [(_, grad_input, grad_output)] = calls
    assert grad_input == (None,)
    np.testing.assert_allclose(grad_output[0], C, rtol=1e-15)
    np.testing.assert_allclose(dW, C.T @ X0, rtol=1e-14)


def test_create_graph_gives_the_hooks_tensors_and_records_what_they_do():
    class Square(nn.Module):
        def forward(self, x):
            return x * x

    module = Square()
    given = []

    def triple(module, grad_input, grad_output):
        given.append((grad_input, grad_output))
        return (grad_input[0] * 3.0,)

    module.register_full_backward_hook(triple)
    x = gg.Tensor([1.0, -2.0], requires_grad=True)
    (dx,) = gg.grad(module(x).sum(), [x], create_graph=True)
    assert isinstance(given[0][0][0], gg.Tensor) and isinstance(given[0][1][0], gg.Tensor)
    np.testing.assert_allclose(dx.data, 6 * x.data)  # 3 * 2x
    (ddx,) = gg.grad(dx.sum(), [x])
    np.testing.assert_allclose(ddx, [6.0, 6.0])  # through the hook's * 3


def test_a_hook_in_a_checkpointed_block_runs_once_in_backward():
    block = nn.Sequential(nn.Linear(3, 2, rng=0), nn.Tanh())
    calls = []
    block[0].register_full_backward_hook(recorder(calls))
    X = gg.Tensor(X0.copy(), requires_grad=True)
    out = gg.checkpoint(block, X)
    (out * C).sum().backward()
    dZ = C * (1 - out.data ** 2)
    assert len(calls) == 1
    np.testing.assert_allclose(calls[0][2][0], dZ, rtol=1e-13)
    np.testing.assert_allclose(X.grad, dZ @ block[0].W.data, rtol=1e-13)


# -- errors --------------------------------------------------------------------------------------
def test_a_grad_input_of_the_wrong_shape_names_the_hook_the_module_and_the_shapes():
    lin, X = linear_case()

    def transposed(module, grad_input, grad_output):
        return (grad_input[0].T,)

    lin.register_full_backward_hook(transposed)
    with pytest.raises(gg.BackwardError, match=r"full backward hook transposed \(test_module_"
                       r"backward_hooks.py:\d+\) of Linear\(3 -> 2, init='he'\) returned "
                       r"grad_input\[0\] of shape \(3, 5\) and dtype float64, for a gradient "
                       r"of shape \(5, 3\)"):
        cost(lin(X), X).backward()
    assert X.grad is None and lin.W.grad is None


def test_a_grad_output_of_the_wrong_length_or_dtype_is_refused():
    lin, X = linear_case()
    handle = lin.register_full_backward_pre_hook(lambda m, go: (go[0], go[0]))
    with pytest.raises(gg.BackwardError, match=r"backward pre-hook <lambda> .* returned a "
                       r"tuple of 2; return a tuple of 1 like the grad_output"):
        cost(lin(X), X).backward()
    handle.remove()
    lin.register_full_backward_pre_hook(lambda m, go: (go[0].astype(np.float32),))
    with pytest.raises(gg.BackwardError, match=r"dtype float32, for a gradient of shape "
                       r"\(5, 2\) and dtype float64.*astype\(np.float64\)"):
        cost(lin(X), X).backward()


def test_a_gradient_where_grad_input_has_none_or_a_tensor_without_create_graph_is_refused():
    lin, _ = linear_case()
    handle = lin.register_full_backward_hook(lambda m, gi, go: (np.ones((5, 3)),))
    with pytest.raises(gg.BackwardError, match=r"no input of the module requires grad: there "
                       r"is no gradient to replace. Return None"):
        (lin(X0) * C).sum().backward()
    handle.remove()
    lin2, X = linear_case()
    lin2.register_full_backward_hook(lambda m, gi, go: (gg.Tensor(gi[0]),))
    with pytest.raises(gg.BackwardError, match=r"returned a Tensor as grad_input\[0\]; without "
                       "create_graph a gradient is a numpy array"):
        cost(lin2(X), X).backward()

    class Scale(nn.Module):
        def forward(self, x, scale):
            return x * scale

    module = Scale()
    module.register_full_backward_hook(lambda m, gi, go: (gi[0], np.ones(())))
    x = gg.Tensor([1.0], requires_grad=True)
    with pytest.raises(gg.BackwardError, match=r"returned a gradient for grad_input\[1\], "
                       r"which is None: that input is no Tensor that requires grad"):
        module(x, 2.0).sum().backward()


def test_a_hook_that_raises_is_named_and_chained():
    lin, X = linear_case()

    def broken(module, grad_output):
        raise KeyError("oops")

    lin.register_full_backward_pre_hook(broken)
    with pytest.raises(gg.BackwardError, match=r"backward pre-hook broken \(.*\) of "
                       r"Linear\(3 -> 2, init='he'\) failed: 'oops'") as info:
        cost(lin(X), X).backward()
    assert isinstance(info.value.__cause__, KeyError)


def test_a_module_returning_what_is_no_tensor_nor_tuple_of_tensors_is_refused_at_its_call():
    class Pair(nn.Module):
        def forward(self, x):
            return {"out": x * 2.0}

    class Nested(nn.Module):
        def forward(self, x):
            return x * 2.0, (x, x)

    x = gg.Tensor([1.0], requires_grad=True)
    for module, got in ((Pair(), "a dict"), (Nested(), r"a tuple whose item 1 is a tuple")):
        module.register_full_backward_hook(lambda m, gi, go: None)
        with pytest.raises(gg.GraphgradTypeError, match=rf"{type(module).__name__}\(\) has "
                           rf"backward hooks, which need its forward to return a Tensor or a "
                           rf"tuple of Tensors.*it returned {got}"):
            module(x)


def test_registration_refuses_what_is_not_a_function():
    with pytest.raises(gg.GraphgradTypeError, match="Linear.register_full_backward_hook takes "
                       "a function, got str"):
        nn.Linear(2, 1).register_full_backward_hook("print")
    with pytest.raises(gg.GraphgradTypeError, match="Linear.register_full_backward_pre_hook "
                       "takes a function, got NoneType"):
        nn.Linear(2, 1).register_full_backward_pre_hook(None)


# -- pictures ------------------------------------------------------------------------------------
def test_a_picture_draws_the_hook_nodes_in_the_layers_frame_named_after_it():
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.ReLU(), nn.Linear(4, 2, rng=1))
    model[2].register_full_backward_hook(lambda m, gi, go: None)
    J = (model(X0) * C).sum()
    J.backward()
    source = viz.to_dot(J)
    ids = node_ids(source)
    inside = clusters(source)["linear2"]
    for side in ("grad_input", "grad_output"):
        assert f"{ids[f'BackwardHook(linear2, {side})']} [" in inside
    assert "BackwardHook" not in clusters(source)["linear1"]
    gc.collect()


def test_detect_anomaly_names_the_hook_that_made_a_nan():
    lin, X = linear_case()
    lin.register_full_backward_hook(lambda m, gi, go: (np.full_like(gi[0], np.nan),))
    with gg.detect_anomaly(), pytest.raises(gg.AnomalyError, match=r"detect_anomaly: full "
                                            r"backward hook <lambda> .* returned NaN in "
                                            r"grad_input\[0\] for a finite gradient"):
        cost(lin(X), X).backward()


def test_a_pass_that_does_not_come_through_the_modules_outputs_calls_no_hook():
    class Inner(nn.Module):
        def forward(self, x):
            self.h = x * 2.0
            return self.h * 3.0

    module = Inner()
    calls = []
    module.register_full_backward_hook(recorder(calls))
    x = gg.Tensor([1.0, 2.0], requires_grad=True)
    module(x)
    (dx,) = gg.grad(module.h.sum(), [x])  # dh/dx: through the input node only
    np.testing.assert_allclose(dx, [2.0, 2.0])
    assert calls == []


def test_the_same_tensor_given_twice_has_each_places_share_in_grad_input():
    class Product(nn.Module):
        def forward(self, a, b):
            return a * b * b

    module = Product()
    calls = []
    module.register_full_backward_hook(recorder(calls))
    x = gg.Tensor([3.0], requires_grad=True)
    module(x, x).sum().backward()
    grad_input = calls[0][1]
    np.testing.assert_allclose(grad_input[0], [9.0])  # b**2
    np.testing.assert_allclose(grad_input[1], [18.0])  # 2ab
    np.testing.assert_allclose(x.grad, [27.0])  # d(x**3) = 3x**2
