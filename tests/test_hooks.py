"""Hooks: a tensor's gradient hooks (register_hook) in backward and gg.grad, on leaves and
intermediates, with fan-out, several outputs, second derivatives, removal, their errors and
the memory they must not hold; a module's forward hooks and pre-hooks (feature extraction,
replaced inputs and outputs), their handles and copies; and a picture of a hooked graph.
Values are worked out by hand on the course's J = 3(a + bc), a = 5, b = 3, c = 2."""
import copy
import gc
import weakref

import numpy as np
import pytest
import viz_helpers
from graph_walks import graph_nodes
from test_engine import DotOfTwo
from viz_helpers import edges, node_ids, node_label

import graphgrad as gg
import viz
from graphgrad import hooks, nn


def course_graph():
    """J = 3v, v = a + u, u = bc: dJ/dv = dJ/du = dJ/da = 3, dJ/db = 3c = 6, dJ/dc = 3b = 9;
    (a, b, c, u, v, J), each named, before backward."""
    return tuple(viz_helpers.course_graph(backward=False).values())


def double(g):
    return g * 2


# -- tensor hooks in backward ---------------------------------------------------------------------
def test_doubling_an_intermediates_gradient_doubles_exactly_what_flows_through_it():
    a, b, c, u, v, J = course_graph()
    u.register_hook(double)
    J.backward()
    assert u.grad == 6.0  # the stored .grad is the gradient after the hook
    assert v.grad == 3.0 and a.grad == 3.0  # not downstream of u: unchanged
    assert b.grad == 6.0 * 2.0 and c.grad == 6.0 * 3.0  # dJ/du = 6, times c and b


def test_a_leafs_hook_changes_what_is_added_to_its_grad_each_pass():
    a, b, c, u, v, J = course_graph()
    seen = []
    a.register_hook(lambda g: seen.append(float(g)) or g * 10)
    J.backward(retain_graph=True)
    assert a.grad == 30.0 and b.grad == 6.0
    J.backward()  # the hook sees this pass's gradient, not the sum in .grad
    assert seen == [3.0, 3.0]
    assert a.grad == 60.0 and b.grad == 12.0


def test_a_hook_clips_the_gradient_sent_on():
    x = gg.Tensor([1.0, -2.0, 3.0], requires_grad=True)
    w = gg.Tensor([4.0, 5.0, -6.0], requires_grad=True)
    z = x * w  # dJ/dz = 3 z^2 = [48, 300, 972]: clipped to 100
    z.register_hook(lambda g: np.clip(g, -100.0, 100.0))
    (z ** 3).sum().backward()
    np.testing.assert_array_equal(z.grad, [48.0, 100.0, 100.0])
    np.testing.assert_array_equal(x.grad, [48.0 * 4, 100.0 * 5, 100.0 * -6])
    np.testing.assert_array_equal(w.grad, [48.0 * 1, 100.0 * -2, 100.0 * 3])


def test_with_fan_out_the_hook_sees_the_summed_gradient_once():
    x = gg.Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    calls = []
    y.register_hook(lambda g: calls.append(g.copy()))
    (y * y + y * 3.0 + gg.sin(y)).sum().backward()  # y used by three ops
    assert len(calls) == 1
    y0 = np.array([2.0, 4.0])
    np.testing.assert_allclose(calls[0], 2 * y0 + 3 + np.cos(y0), rtol=1e-15)
    np.testing.assert_allclose(x.grad, 2 * (2 * y0 + 3 + np.cos(y0)), rtol=1e-15)


def test_hooks_run_in_registration_order_each_given_the_one_befores_result():
    a, b, c, u, v, J = course_graph()
    order = []
    u.register_hook(lambda g: order.append("first") or g + 1)
    u.register_hook(lambda g: order.append(("second", float(g))) or g * 10)
    u.register_hook(lambda g: order.append(("third", float(g))))  # None: keeps it
    J.backward()
    assert order == ["first", ("second", 4.0), ("third", 40.0)]
    assert u.grad == 40.0 and b.grad == 80.0


def test_a_removed_hook_runs_no_more_and_removing_twice_is_harmless():
    a, b, c, u, v, J = course_graph()
    handle = u.register_hook(double)
    kept = u.register_hook(lambda g: g + 1)
    handle.remove()
    handle.remove()
    J.backward(retain_graph=True)
    assert u.grad == 4.0 and b.grad == 8.0  # (3 + 1), not (3 * 2 + 1)
    kept.remove()
    assert hooks.tensor_hooks(u) == {} and id(u) not in hooks._HOOKED
    b.grad = None
    J.backward()
    assert u.grad == 3.0 and b.grad == 6.0


def test_a_handle_used_with_with_removes_the_hook_at_the_end_of_the_block():
    a, b, c, u, v, J = course_graph()
    with u.register_hook(double):
        J.backward(retain_graph=True)
    assert b.grad == 12.0
    b.grad = None
    J.backward()
    assert b.grad == 6.0


def test_a_hook_on_the_root_and_with_keep_intermediate_grads_false():
    a, b, c, u, v, J = course_graph()
    J.register_hook(lambda g: g * 0.5)
    u.register_hook(double)
    J.backward(keep_intermediate_grads=False)  # hooks run on gradients not kept
    assert u.grad is None
    assert a.grad == 1.5  # dJ/dv = 0.5 * 3
    assert b.grad == 3.0 * 2.0 and c.grad == 3.0 * 3.0  # dJ/du = 1.5, doubled, times c and b


def test_hooks_run_in_each_backward_through_a_retained_graph():
    a, b, c, u, v, J = course_graph()
    calls = []
    u.register_hook(lambda g: calls.append(float(g)) or g * 2)
    J.backward(retain_graph=True)
    J.backward()
    assert calls == [3.0, 3.0]
    assert u.grad == 6.0 and b.grad == 24.0 and a.grad == 6.0


def test_a_freed_graph_with_hooks_says_so_as_without():
    a, b, c, u, v, J = course_graph()
    u.register_hook(double)
    J.backward()
    with pytest.raises(gg.BackwardError, match="second time"):
        J.backward()


def test_a_hook_on_one_output_of_an_op_with_several():
    x = gg.Tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    p, q = gg.split(x, 2)
    calls = []
    p.register_hook(lambda g: g * 10)
    q.register_hook(lambda g: calls.append(g))
    (p * p).sum().backward()
    np.testing.assert_array_equal(p.grad, [20.0, 40.0])
    np.testing.assert_array_equal(x.grad, [20.0, 40.0, 0.0, 0.0])
    assert calls == []  # no gradient reached q: its hook is not called


def test_the_gradient_a_hook_is_given_is_read_only_and_writing_into_it_says_what_to_do():
    a, b, c, u, v, J = course_graph()

    def in_place(g):
        g *= 2

    u.register_hook(in_place)
    with pytest.raises(gg.BackwardError, match=r"(?s)hook in_place .* of 'u'.*failed.*"
                       r"return grad \* 2, not grad \*= 2"):
        J.backward()


def test_a_leaf_hook_cannot_write_into_the_leafs_own_array():
    """A backward returning x's own array as dJ/dy: the hook is given a read-only copy."""
    x = gg.Tensor([1.0, 2.0], requires_grad=True, name="x")
    y = gg.Tensor([3.0, 4.0], requires_grad=True, name="y")

    def in_place(g):
        g[0] = 100.0

    y.register_hook(in_place)
    with pytest.raises(gg.BackwardError, match="in place"):
        DotOfTwo.apply(x, y).backward()
    np.testing.assert_array_equal(x.data, [1.0, 2.0])
    assert x.grad is None and y.grad is None  # a hook that fails leaves every .grad as it was


def test_what_a_leaf_hook_returns_is_copied_into_grad():
    kept = np.array([7.0, 8.0])
    x = gg.Tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: kept)
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [7.0, 8.0])
    x.grad[0] = 0.0  # .grad is the leaf's own: the hook's array is not changed
    assert kept[0] == 7.0 and kept.flags.writeable


def test_the_gradient_a_leaf_hook_keeps_does_not_change_with_the_leafs_grad():
    # A hook logging each pass's gradient (history.append(g)) keeps what it was given; a
    # second backward adds into W.grad in place, and W.grad /= 2 changes it too: neither
    # may change the logged array (PyTorch's hook keeps the first pass's gradient too).
    W = gg.Tensor(np.array([[1.0, -2.0], [0.5, 3.0]]), requires_grad=True, name="W")
    X = gg.Tensor(np.ones((3, 2)))
    history = []
    W.register_hook(history.append)
    (X @ W).sum().backward(keep_intermediate_grads=False)
    W.grad /= 2
    (X @ W * 2.0).sum().backward(keep_intermediate_grads=False)
    np.testing.assert_array_equal(history[0], np.full((2, 2), 3.0))
    np.testing.assert_array_equal(history[1], np.full((2, 2), 6.0))
    np.testing.assert_array_equal(W.grad, np.full((2, 2), 7.5))


def test_a_hook_of_a_scalar_may_return_a_number():
    a, b, c, u, v, J = course_graph()
    u.register_hook(lambda g: 10.0)
    J.backward()
    assert u.grad == 10.0 and b.grad == 20.0


# -- errors -------------------------------------------------------------------------------------
def test_a_hook_returning_the_wrong_shape_names_the_tensor_the_hook_and_the_shapes():
    x = gg.Tensor(np.ones((2, 3)), requires_grad=True)
    h = gg.tanh(x)
    h.name = "h"

    def summed(g):
        return g.sum(axis=0)

    h.register_hook(summed)
    with pytest.raises(gg.BackwardError, match=r"hook summed \(test_hooks.py:\d+\) of 'h' .* "
                       r"returned a gradient of shape \(3,\) and dtype float64, for a "
                       r"gradient of shape \(2, 3\) and dtype float64"):
        h.sum().backward()
    assert x.grad is None


def test_a_hook_returning_another_dtype_or_no_numbers_is_refused():
    x = gg.Tensor(np.ones(3), requires_grad=True, name="x")
    y = x * 2.0
    y.register_hook(lambda g: g.astype(np.float32))
    with pytest.raises(gg.BackwardError, match="dtype float32, for a gradient of shape "
                       r"\(3,\) and dtype float64.*astype\(np.float64\)"):
        y.sum().backward()
    x2 = gg.Tensor(np.ones(3), requires_grad=True, name="x2")
    x2.register_hook(lambda g: "no")
    with pytest.raises(gg.BackwardError, match="returned str"):
        (x2 * 2.0).sum().backward()


def test_a_hook_returning_a_tensor_without_create_graph_is_refused():
    w = gg.Tensor(2.0, requires_grad=True)
    x = gg.Tensor(3.0, requires_grad=True, name="x")
    y = x * w
    y.register_hook(lambda g: g * w)  # a Tensor: w is one
    with pytest.raises(gg.BackwardError, match="returned a Tensor; without create_graph"):
        y.backward()


def test_a_hook_that_raises_is_named_and_chained():
    a, b, c, u, v, J = course_graph()

    def broken(g):
        raise KeyError("missing")

    u.register_hook(broken)
    with pytest.raises(gg.BackwardError, match=r"hook broken .* of 'u' .* failed") as info:
        J.backward()
    assert isinstance(info.value.__cause__, KeyError)
    assert a.grad is None and b.grad is None


def test_detect_anomaly_names_the_hook_that_made_a_nan_or_inf():
    def blows_up(g):
        return g + np.inf

    def nan(g):
        return g * np.nan

    # an intermediate's hook: the NaN is the hook's, not that of the op after it
    a, b, c, u, v, J = course_graph()
    u.register_hook(nan)
    with gg.detect_anomaly(), pytest.raises(gg.AnomalyError) as info:
        J.backward()
    message = str(info.value)
    assert "hook nan (test_hooks.py:" in message and "of 'u' () float64" in message
    assert "returned NaN" in message and "Mul" not in message
    assert b.grad is None and c.grad is None
    # a leaf's hook: its inf went into .grad without a word
    a, b, c, u, v, J = course_graph()
    a.register_hook(blows_up)
    with gg.detect_anomaly(), pytest.raises(gg.AnomalyError,
                                            match=r"hook blows_up .* of 'a' .*returned Inf"):
        J.backward()
    assert a.grad is None and b.grad is None
    # gg.grad too; with create_graph, the hook's own op is caught in its forward, at its line
    a, b, c, u, v, J = course_graph()
    u.register_hook(nan)
    with gg.detect_anomaly(), pytest.raises(gg.AnomalyError, match="hook nan .* of 'u'"):
        gg.grad(J, [b], retain_graph=True)
    with gg.detect_anomaly(), pytest.raises(gg.AnomalyError,
                                            match=r"Mul produced NaN in forward.*\n.*\n.*\n.*"
                                                  r"\n  created at .* in nan: return g \* np.nan"):
        gg.grad(J, [b], create_graph=True)
    # without detect_anomaly, the NaN flows on, as in PyTorch
    J.backward()
    assert np.isnan(b.grad) and a.grad == 3.0


def test_register_hook_is_refused_on_a_tensor_that_does_not_require_grad():
    x = gg.Tensor([1.0, 2.0], name="x")
    with pytest.raises(gg.BackwardError, match="'x' .*does not require grad.*no gradient"):
        x.register_hook(double)
    with gg.no_grad():
        y = gg.Tensor(1.0, requires_grad=True) * 2
    with pytest.raises(gg.BackwardError, match="does not require grad"):
        y.register_hook(double)
    with pytest.raises(gg.GraphgradTypeError, match="takes a function, got int"):
        gg.Tensor(1.0, requires_grad=True).register_hook(3)


# -- gg.grad ------------------------------------------------------------------------------------
def test_gg_grad_runs_the_hooks_of_intermediates_and_of_the_inputs_asked_for():
    a, b, c, u, v, J = course_graph()
    u.register_hook(double)
    b.register_hook(lambda g: g + 100)
    called = []
    a.register_hook(lambda g: called.append(g))
    db, dc = gg.grad(J, [b, c], retain_graph=True)
    assert db == 112.0 and dc == 18.0  # dJ/du = 6: 6c + 100, 6b
    assert called == []  # a was not asked for: its gradient is not computed
    assert all(t.grad is None for t in (a, b, c, u, v))  # gg.grad stores no .grad
    (du,) = gg.grad(J, [u])
    assert du == 6.0  # an input asked for gets its gradient after its hooks, as in PyTorch


def test_create_graph_gives_the_hook_a_tensor_and_records_what_it_does():
    """y = w x, a hook multiplying dJ/dy by w: dJ/dx = w * w, whose d/dw is 2w, not 1."""
    w = gg.Tensor(2.0, requires_grad=True)
    x = gg.Tensor(3.0, requires_grad=True)
    y = w * x
    given = []
    y.register_hook(lambda g: given.append(type(g)) or g * w)
    (dx,) = gg.grad(y, [x], create_graph=True)
    assert given == [gg.Tensor]
    assert isinstance(dx, gg.Tensor) and dx.item() == 4.0
    (d2,) = gg.grad(dx, [w])
    assert d2 == 4.0


def test_second_derivative_through_a_hook_that_doubles():
    x = gg.Tensor(2.0, requires_grad=True)
    y = x ** 3
    y.register_hook(double)
    (dx,) = gg.grad(y, [x], create_graph=True)  # 2 * 3x^2 = 24
    assert dx.item() == 24.0
    (d2,) = gg.grad(dx, [x])  # 12x = 24
    assert d2 == 24.0


# -- memory -------------------------------------------------------------------------------------
@pytest.mark.parametrize("after_backward", [False, True], ids=["dropped", "backpropagated"])
def test_hooks_keep_no_graph_alive(no_gc, after_backward):
    W = gg.Tensor(np.ones((2, 3)), requires_grad=True)
    W.register_hook(double)
    Z = W @ np.ones((3, 4))
    A = gg.sigmoid(Z)
    handle = A.register_hook(lambda g: g * 0.5)
    J = (A * A).mean()
    J.register_hook(double)
    if after_backward:
        J.backward()
    refs = [weakref.ref(t) for t in (Z, A, J)] + [weakref.ref(n) for n in graph_nodes(J)]
    hooked = len(hooks._HOOKED)
    del Z, A, J
    assert [r() for r in refs] == [None] * len(refs)  # the handle holds A weakly
    assert len(hooks._HOOKED) == hooked - 2  # A and J left the registry as they died
    handle.remove()  # its tensor is gone: nothing to do
    assert W.data.flags.writeable


def test_a_hook_that_refers_to_its_tensor_is_freed_by_the_collector():
    """As in PyTorch, a hook closing over its own tensor makes a reference cycle; it holds
    no global reference, so the collector frees it."""
    x = gg.Tensor([1.0], requires_grad=True)

    def hooked_on_itself():
        y = x * 2.0
        y.register_hook(lambda g: g * y.data)
        return weakref.ref(y)

    ref = hooked_on_itself()
    gc.collect()
    assert ref() is None
    assert all(ref() is not None for ref in hooks._HOOKED.values())


def test_a_leafs_hook_that_refers_to_the_leaf_is_freed_by_the_collector():
    """PyTorch's ``for p in model.parameters(): p.register_hook(lambda g, p=p: ...)``: the
    hook refers to its own leaf, a cycle the collector frees (and the model with it)."""
    def hooked_model():
        model = gg.nn.Linear(3, 2)
        for p in model.parameters():
            p.register_hook(lambda g, p=p: g / (1.0 + np.abs(p.data)))
        return weakref.ref(model), [weakref.ref(p) for p in model.parameters()]

    hooked = len(hooks._HOOKED)
    model_ref, param_refs = hooked_model()
    gc.collect()
    assert model_ref() is None and all(r() is None for r in param_refs)
    assert len(hooks._HOOKED) == hooked


def test_a_plain_leafs_hook_that_refers_to_it_keeps_it_until_removed():
    """A plain Tensor has no attributes to keep hooks in (a Parameter has): its hooks are
    kept in a table, which lets it go once the hook is removed."""
    def hooked_leaf():
        x = gg.Tensor([1.0, 2.0], requires_grad=True)
        handle = x.register_hook(lambda g, x=x: g * x.data)
        return weakref.ref(x), handle

    ref, handle = hooked_leaf()
    gc.collect()
    assert ref() is not None
    (ref() * 3.0).sum().backward()
    np.testing.assert_array_equal(ref().grad, [3.0, 6.0])  # 3 x, by the hook
    handle.remove()
    gc.collect()
    assert ref() is None
    assert not hooks._PLAIN_LEAF_HOOKS or all(
        r() is not None for key, r in hooks._HOOKED.items() if key in hooks._PLAIN_LEAF_HOOKS)


# -- retain_grad ----------------------------------------------------------------------------------
def test_retain_grad_keeps_an_intermediates_grad_when_backward_keeps_only_the_leaves():
    a, b, c, u, v, J = course_graph()
    u.retain_grad()
    J.backward(keep_intermediate_grads=False)
    assert u.grad == 3.0  # dJ/du = 3
    assert v.grad is None and J.grad is None  # not retained: freed as the flag says
    assert a.grad == 3.0 and b.grad == 6.0 and c.grad == 9.0
    assert u.retains_grad and not v.retains_grad


def test_retain_grad_keeps_a_layers_dZ_as_the_course_computes_it():
    """dZ = A - Y for a sigmoid output with the logistic cost, over m examples: (A - Y) / m."""
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((5, 3)), (rng.random((5, 1)) < 0.5).astype(float)
    W = gg.Tensor(rng.standard_normal((1, 3)), requires_grad=True, name="W")
    Z = X @ W.T
    Z.retain_grad()
    A = gg.sigmoid(Z)
    J = -(Y * gg.log(A) + (1 - Y) * gg.log(1 - A)).mean()
    J.backward(keep_intermediate_grads=False)
    np.testing.assert_allclose(Z.grad, (A.data - Y) / 5, rtol=1e-12)
    np.testing.assert_allclose(W.grad, ((A.data - Y) / 5).T @ X, rtol=1e-12)
    assert A.grad is None


def test_retain_grad_changes_nothing_with_the_default_backward_or_on_a_leaf():
    kept = course_graph()
    kept[3].retain_grad()
    kept[0].retain_grad()  # a leaf: its .grad is always kept
    plain = course_graph()
    kept[-1].backward()
    plain[-1].backward()
    assert [t.grad for t in kept] == [t.grad for t in plain] == [3.0, 6.0, 9.0, 3.0, 3.0, 1.0]
    assert not kept[0].retains_grad and id(kept[0]) not in hooks._HOOKED
    a, b, c, u, v, J = course_graph()
    a.retain_grad()
    (3 * a).backward(keep_intermediate_grads=False)
    (3 * a).backward(keep_intermediate_grads=False)
    assert a.grad == 6.0


def test_a_retained_grad_is_the_latest_passes_after_the_tensors_hooks():
    a, b, c, u, v, J = course_graph()
    u.retain_grad()
    handle = u.register_hook(double)
    J.backward(retain_graph=True, keep_intermediate_grads=False)
    assert u.grad == 6.0 and b.grad == 12.0  # after the hook, as the default keeps it
    handle.remove()  # the mark stays
    assert u.retains_grad
    J.backward(keep_intermediate_grads=False)
    assert u.grad == 3.0  # the latest pass's, as every intermediate's .grad (not summed)
    assert b.grad == 12.0 + 6.0


def test_retain_grad_on_one_output_of_a_several_output_op():
    x = gg.Tensor(np.arange(4.0), requires_grad=True)
    first, second = gg.split(x, 2)
    second.retain_grad()
    J = (first * 2.0).sum() + (second * second).sum()
    J.backward(keep_intermediate_grads=False)
    np.testing.assert_array_equal(second.grad, [4.0, 6.0])  # 2 * second
    assert first.grad is None
    np.testing.assert_array_equal(x.grad, [2.0, 2.0, 4.0, 6.0])


def test_gg_grad_sets_no_retained_grad():
    a, b, c, u, v, J = course_graph()
    u.retain_grad()
    (db,) = gg.grad(J, [b])
    assert db == 6.0 and u.grad is None  # gg.grad touches no .grad (PyTorch's sets it)


def test_retain_grad_is_refused_on_a_tensor_that_requires_no_grad():
    t = gg.Tensor([1.0, 2.0], name="X")
    with pytest.raises(gg.BackwardError, match="retain_grad: 'X' \\(2,\\) float64 does not "
                       "require grad"):
        t.retain_grad()
    assert not t.retains_grad


def test_a_retaining_tensor_leaves_the_hook_registry_when_it_dies(no_gc):
    x = gg.Tensor([1.0, 2.0], requires_grad=True)
    hooked = len(hooks._HOOKED)
    y = x * 2.0
    y.retain_grad()
    y.retain_grad()  # again: one mark
    assert len(hooks._HOOKED) == hooked + 1 and list(hooks.tensor_hooks(y)) == [0]
    ref = weakref.ref(y)
    del y
    assert ref() is None and len(hooks._HOOKED) == hooked


# -- module hooks -------------------------------------------------------------------------------
def _model():
    return nn.Sequential(nn.Linear(3, 4, rng=0), nn.ReLU(), nn.Linear(4, 2, rng=1))


def test_forward_hooks_collect_the_activations_of_every_layer_of_a_sequential():
    model = _model()
    X = np.random.default_rng(2).standard_normal((5, 3))
    activations = {}
    handles = [layer.register_forward_hook(
        lambda m, inputs, out, name=name: activations.__setitem__(name, (inputs, out)))
        for name, layer in model.named_children()]
    out = model(X)
    lin1, _, lin2 = list(model)
    Z1 = X @ lin1.W.data.T + lin1.b.data
    A1 = np.maximum(Z1, 0)
    assert list(activations) == ["linear1", "relu1", "linear2"]
    np.testing.assert_allclose(activations["linear1"][1].data, Z1, rtol=1e-14)
    np.testing.assert_allclose(activations["relu1"][1].data, A1, rtol=1e-14)
    assert activations["linear2"][1] is out
    assert activations["relu1"][0][0] is activations["linear1"][1]  # inputs as forward got them
    for h in handles:
        h.remove()
    activations.clear()
    model(X)
    assert activations == {} and all(layer._module_hooks is None for layer in model)


def test_a_forward_hook_replaces_the_output_and_the_gradient_goes_through_it():
    lin = nn.Linear(2, 1, rng=0)
    X = np.array([[1.0, 2.0]])
    plain = lin(X).data
    lin.register_forward_hook(lambda m, inputs, out: out * 3.0)
    out = lin(X)
    np.testing.assert_allclose(out.data, 3 * plain, rtol=1e-15)
    out.sum().backward()
    np.testing.assert_allclose(lin.W.grad, 3 * X, rtol=1e-15)
    assert lin.b.grad == pytest.approx([3.0])


def test_a_pre_hook_replaces_the_inputs_a_tuple_as_them_anything_else_as_the_only_one():
    lin = nn.Linear(2, 1, rng=0)
    X = np.array([[1.0, 2.0]])
    seen = []
    lin.register_forward_pre_hook(lambda m, inputs: seen.append(inputs) or inputs[0] * 2.0)
    lin.register_forward_pre_hook(lambda m, inputs: seen.append(inputs) or (inputs[0] + 1.0,))
    collected = []
    lin.register_forward_hook(lambda m, inputs, out: collected.append(inputs))
    out = lin(X)
    np.testing.assert_allclose(out.data, (X * 2 + 1) @ lin.W.data.T + lin.b.data, rtol=1e-15)
    assert seen[0][0] is X and len(seen[1]) == 1
    np.testing.assert_array_equal(collected[0][0], X * 2 + 1)  # the inputs forward got


def test_forward_hooks_run_outside_the_layers_name_scope():
    lin = nn.Linear(2, 1, rng=0)
    model = nn.Sequential(lin)
    lin.register_forward_hook(lambda m, inputs, out: out * 2.0)
    out = model(np.ones((1, 2)))
    assert out.creator.name == "Mul" and out.creator.scope is None
    assert out.creator.inputs[0].creator.scope == "linear1"  # the layer's own op keeps it


def test_module_hooks_are_no_part_of_the_state_and_copies_hold_their_own():
    model = _model()
    calls = []
    handle = model[0].register_forward_hook(lambda m, i, o: calls.append(m))
    assert list(model.state_dict()) == ["linear1.W", "linear1.b", "linear2.W", "linear2.b"]
    deep = copy.deepcopy(model)
    shallow = copy.copy(model[0])
    X = np.ones((1, 3))
    deep(X)
    shallow(X)
    assert calls == [deep[0], shallow]  # the same function, called with each copy
    handle.remove()  # from the original only
    model(X)
    deep(X)
    shallow(X)
    assert calls == [deep[0], shallow, deep[0], shallow]
    shallow.register_forward_hook(lambda m, i, o: calls.append("shallow only"))
    assert "_module_hooks" not in model[0].__dict__


def test_module_hook_handles_hold_the_module_weakly():
    lin = nn.Linear(2, 1, rng=0)
    handle = lin.register_forward_pre_hook(lambda m, inputs: None)
    ref = weakref.ref(lin)
    del lin
    gc.collect()
    assert ref() is None
    handle.remove()


def test_register_forward_hook_refuses_what_is_not_a_function():
    with pytest.raises(gg.GraphgradTypeError, match="Linear.register_forward_hook takes a "
                       "function, got str"):
        nn.Linear(2, 1).register_forward_hook("print")


# -- pictures -----------------------------------------------------------------------------------
def test_a_picture_of_a_hooked_graph_shows_the_grads_after_the_hooks_and_says_so():
    a, b, c, u, v, J = course_graph()
    u.register_hook(double)
    J.backward()
    source = viz.to_dot(J)
    ids = node_ids(source)
    assert node_label(source, ids["u"]) == (
        "u | scalar float64 | u = 6 | du = 6 | (after its hooks; red edges: 3)")
    assert node_label(source, ids["b"]) == "b | scalar float64 | b = 3 | db = 12"
    assert [label for *_, label in edges(source)[1] if label] == [
        "1: dv = 3", "2: da = 3", "3: du = 3", "4: db = 12", "5: dc = 18"]
