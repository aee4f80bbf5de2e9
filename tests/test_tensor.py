"""The Tensor API: construction, array-like attributes, a helpful repr, the public graph
(creator, inputs, attrs, name, outputs, scope) that pictures walk, and name scopes."""
import numpy as np
import pytest

import graphgrad as gg


def test_constructor_arguments():
    t = gg.Tensor([1, 2], requires_grad=True, name="w", dtype=np.float32)
    assert (t.name, t.requires_grad, t.dtype, t.grad, t.creator) == (
        "w", True, np.float32, None, None)
    assert t.is_leaf
    assert not gg.Tensor(1.0).requires_grad


def test_a_tensor_of_a_tensor_copies_nothing_and_needs_no_grad():
    x = gg.Tensor(np.ones(2), requires_grad=True)
    y = gg.Tensor(x)
    assert y.data is x.data and not y.requires_grad


def test_repr_shows_values_name_dtype_op_and_grad():
    W = gg.Tensor(np.array([0.5, -1.0]), name="W", requires_grad=True)
    assert repr(W) == "Tensor([ 0.5, -1. ], name='W', requires_grad=True)"
    J = (W * W).sum()
    assert repr(J) == "Tensor(1.25, op=Sum)"
    J.backward()
    assert repr(J) == "Tensor(1.25, op=Sum, grad=1)"
    assert repr(W) == "Tensor([ 0.5, -1. ], name='W', requires_grad=True, grad=[ 1., -2.])"
    assert repr(gg.Tensor(np.ones(2, dtype=np.float32))) == "Tensor([1., 1.], dtype=float32)"
    assert repr(gg.Tensor(np.ones(2)) > 0) == "Tensor([ True,  True], dtype=bool)"
    assert repr(gg.Tensor(np.zeros((0, 3)))) == "Tensor([], shape=(0, 3))"
    assert repr(gg.Tensor(np.zeros(0), requires_grad=True).sum().creator.inputs[0]) == (
        "Tensor([], shape=(0,), requires_grad=True)")
    assert repr(gg.Tensor(np.zeros((40, 40)), name="A")) == (
        "Tensor(<float64 array (40, 40)>, name='A')")


def test_repr_of_a_matrix_aligns_its_rows():
    W = gg.Tensor(np.arange(6.0).reshape(2, 3), name="W", requires_grad=True)
    (W * 2.0).sum().backward()
    lines = repr(W).splitlines()
    assert lines[0] == "Tensor([[0., 1., 2.],"
    assert lines[1].startswith("        [3., 4., 5.]], name='W', requires_grad=True, grad=[[2.")
    assert lines[2].strip() == "[2., 2., 2.]])"
    assert lines[2].index("[") == lines[1].index("grad=[[") + len("grad=[")


def test_public_graph_of_an_op():
    x = gg.Tensor(np.ones((2, 3)), name="x", requires_grad=True)
    y = gg.sum(x * 2.0, axis=1, keepdims=True)
    node = y.creator
    assert isinstance(node, gg.Function)
    assert node.name == "Sum" and type(node).__name__ == "Sum"
    assert node.attrs == {"axis": 1, "keepdims": True}
    assert node.outputs == ()  # the output holds its node; the node keeps no reference back
    (mul_out,) = node.inputs
    assert mul_out.creator.name == "Mul"
    assert mul_out.creator.inputs[0] is x
    assert node.scope is None
    assert "Sum(output of Mul (2, 3) float64, axis=1, keepdims=True)" in repr(node)
    assert not node.released
    y.backward(np.ones((2, 1)))
    assert node.released
    assert node.backward_order == 0 and mul_out.creator.backward_order == 1
    (sent,) = node.input_grads
    np.testing.assert_array_equal(sent, np.ones((2, 3)))


def test_name_scopes_tag_nodes_and_nest():
    x = gg.Tensor(np.ones(2), requires_grad=True)
    with gg.name_scope("layer1") as outer:
        a = x * 2.0
        with gg.name_scope("linear") as inner:
            b = a + 1.0
    c = b * 3.0
    assert (outer, inner) == ("layer1", "layer1/linear")
    assert (a.creator.scope, b.creator.scope, c.creator.scope) == (
        "layer1", "layer1/linear", None)


@pytest.mark.parametrize("bad", ["", "a/b", 3])
def test_name_scope_needs_a_plain_name(bad):
    with pytest.raises(gg.GraphgradError, match="name_scope"):
        with gg.name_scope(bad):
            pass


def test_detach_is_a_leaf_without_grad():
    x = gg.Tensor(np.ones(2), requires_grad=True)
    d = (x * 2.0).detach()
    assert d.is_leaf and not d.requires_grad and d.grad is None


def test_requires_grad_switches_a_leaf_and_refuses_computed_or_integer_tensors():
    w = gg.Tensor(np.array([2.0, 3.0]), name="w")
    assert w.requires_grad_() is w and w.requires_grad
    y = w * w
    y.sum().backward()
    np.testing.assert_array_equal(w.grad, [4.0, 6.0])
    w.grad = None
    w.requires_grad_(False)
    z = w * w
    assert not z.requires_grad and z.creator is None  # a constant now: nothing recorded
    with pytest.raises(gg.BackwardError, match=r"requires_grad_: .* computed by Mul; only a "
                       r"leaf's flag can change\. Use t\.detach\(\)"):
        y.requires_grad_(False)
    with pytest.raises(gg.GraphgradTypeError, match=r"only float tensors can require grad; "
                       r".* dtype bool"):
        gg.Tensor(np.array([True])).requires_grad_()


def test_iteration_and_indexing_record_ops():
    x = gg.Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    rows = list(x)
    assert [r.creator.name for r in rows] == ["GetItem"] * 3
    (rows[0] * 1.0 + rows[2] * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [[1.0, 1.0], [0.0, 0.0], [3.0, 3.0]])


@pytest.mark.parametrize("make, caller", [
    (lambda name: gg.Tensor([1.0], name=name), "Tensor"),
    (lambda name: gg.nn.Parameter([1.0], name=name), "Parameter"),
])
@pytest.mark.parametrize("name", [5, b"W1", np.array([1, 2]), ["W1"]])
def test_a_name_that_is_no_string_is_refused(make, caller, name):
    """A name of 5 was stored and shown as name=5, and an array's broke repr() on numpy's
    'truth value is ambiguous'."""
    with pytest.raises(gg.GraphgradTypeError,
                       match=rf'^{caller}: name must be a string \("W1"\) or None, got '):
        make(name)


def test_a_numpy_string_is_a_name():
    W = gg.Tensor([1.0], name=np.str_("W1"))
    assert W.name == "W1" and repr(W) == "Tensor([1.], name='W1')"


@pytest.mark.parametrize("name", [5, ("b", 1), b"W"])
def test_a_name_that_is_no_str_is_refused_when_assigned_as_when_given(name):
    """Assigned, it was taken, and pictures and errors showed 5 or ('b', 1) as names."""
    w = gg.Tensor(1.0, name="w")
    for make in (lambda: gg.Tensor(1.0, name=name), lambda: setattr(w, "name", name)):
        with pytest.raises(gg.GraphgradTypeError) as info:
            make()
        assert str(info.value) == (
            f"Tensor: name must be a string (\"W1\") or None, got {name!r}")
    assert w.name == "w"
    w.name = np.str_("W1")
    assert type(w.name) is str and repr(w) == "Tensor(1, name='W1')"
    w.name = None
    assert w.name is None and (w * 2).name is None


# -- flatten from an axis, PyTorch's torch.flatten(x, 1) -------------------------------------------
@pytest.mark.parametrize("args, shape", [
    ((), (120,)), ((1,), (2, 60)), ((1, 2), (2, 12, 5)), ((-2,), (2, 3, 20)),
    ((0, -2), (24, 5)), ((3,), (2, 3, 4, 5)), ((2, 2), (2, 3, 4, 5)),
])
def test_flatten_joins_the_axes_from_start_to_end_as_pytorchs(args, shape):
    X = np.arange(120.0).reshape(2, 3, 4, 5)
    x = gg.Tensor(X, requires_grad=True)
    y = x.flatten(*args)
    assert y.shape == shape
    np.testing.assert_array_equal(y.data, X.reshape(shape))
    G = np.arange(120.0).reshape(shape) * 0.5
    (y * G).sum().backward()
    np.testing.assert_array_equal(x.grad, G.reshape(2, 3, 4, 5))


def test_flatten_keeps_an_empty_batch_and_refuses_axes_out_of_order_or_range():
    assert gg.Tensor(np.zeros((0, 3, 4))).flatten(1).shape == (0, 12)
    assert gg.Tensor(2.0).flatten().shape == (1,)
    with pytest.raises(gg.ArgumentError, match=r"flatten: start_axis=2 comes after "
                                               r"end_axis=1 of 'x' \(2, 3, 4\)"):
        gg.Tensor(np.zeros((2, 3, 4)), name="x").flatten(2, 1)
    with pytest.raises(gg.ArgumentError, match=r"flatten: start_axis=3 is no axis of "
                                               r"'x' \(2, 3, 4\)"):
        gg.Tensor(np.zeros((2, 3, 4)), name="x").flatten(3)
    with pytest.raises(gg.ArgumentError, match=r"flatten: start_axis must be an integer, "
                                               r"got 'F'.*numpy's order"):
        gg.Tensor(np.zeros((2, 3))).flatten("F")
