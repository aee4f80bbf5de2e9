"""The graph walk: dvar for every node, fan-out, a 1,000,000-op chain, deterministic order,
no reference cycles, freeing the graph, the errors backward raises, grad modes, detach,
custom Functions (several outputs, wrong gradients) and a training loop's memory."""
import copy
import gc
import sys
import threading
import tracemalloc
import weakref

import numpy as np
import pytest
from graph_walks import graph_nodes
from interrupts import interrupted_after_each_call
from operation_counts import growth, lines_run

import graphgrad as gg
from graphgrad import engine, function, modes, nn, optim


def course_graph():
    a = gg.Tensor(5.0, name="a", requires_grad=True)
    b = gg.Tensor(3.0, name="b", requires_grad=True)
    c = gg.Tensor(2.0, name="c", requires_grad=True)
    u = b * c
    v = a + u
    J = 3 * v
    return a, b, c, u, v, J


# -- dvar for every node --------------------------------------------------------------------------
def test_course_graph_dvar_of_every_node():
    a, b, c, u, v, J = course_graph()
    J.backward()
    dvar = {t.name or n: float(t.grad) for n, t in zip("abcuvJ", (a, b, c, u, v, J))}
    assert dvar == {"a": 3.0, "b": 6.0, "c": 9.0, "u": 3.0, "v": 3.0, "J": 1.0}
    for t in (a, b, c, u, v, J):
        assert isinstance(t.grad, np.ndarray) and t.grad.shape == ()


def test_course_graph_is_public():
    a, b, c, u, v, J = course_graph()
    assert J.creator.name == "Mul" and v.creator.name == "Add" and u.creator.name == "Mul"
    assert J.creator.inputs[1] is v
    assert float(J.creator.inputs[0].data) == 3.0 and J.creator.inputs[0].is_leaf
    assert v.creator.inputs == (a, u)
    assert u.creator.inputs == (b, c)
    assert a.creator is None and a.is_leaf and not u.is_leaf
    assert J.creator.outputs == ()  # a single output holds its node, not the other way round
    J.backward()
    # The order backward ran the nodes in, and what each sent to its inputs.
    assert [J.creator.backward_order, v.creator.backward_order, u.creator.backward_order] == [
        0, 1, 2]
    assert [float(g) for g in u.creator.input_grads] == [6.0, 9.0]
    assert [float(g) for g in v.creator.input_grads] == [3.0, 3.0]


def test_vectorized_intermediates_hold_their_dvar():
    rng = np.random.default_rng(0)
    W = gg.Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    X = rng.standard_normal((3, 4))
    Z = W @ X
    A = gg.tanh(Z)
    J = (A * A).sum()
    J.backward()
    dA = 2 * A.data
    dZ = dA * (1 - A.data**2)
    np.testing.assert_allclose(A.grad, dA, rtol=1e-12)
    np.testing.assert_allclose(Z.grad, dZ, rtol=1e-12)
    np.testing.assert_allclose(W.grad, dZ @ X.T, rtol=1e-12)


# -- fan-out --------------------------------------------------------------------------------------
def test_fan_out_x_times_x_gives_2x():
    x = gg.Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, -4.0, 6.0])


def test_a_tensor_used_in_three_places_accumulates_all_three():
    data = np.array([0.5, -1.0, 2.0])
    x = gg.Tensor(data, requires_grad=True)
    J = (x * 3.0 + x * x + gg.exp(x)).sum()
    J.backward()
    np.testing.assert_allclose(x.grad, 3.0 + 2 * data + np.exp(data), rtol=1e-12)


def test_an_intermediate_used_twice_holds_its_total_dvar():
    x = gg.Tensor(2.0, requires_grad=True)
    h = x * 3.0          # h = 6
    J = h * h + h        # dJ/dh = 2h + 1 = 13, dJ/dx = 39
    J.backward()
    assert float(h.grad) == 13.0
    assert float(x.grad) == 39.0


def test_diamond_with_several_paths_of_different_lengths():
    x = gg.Tensor(1.5, requires_grad=True)
    a = gg.sin(x)
    b = a * a
    c = gg.exp(a) + b
    J = c * a
    J.backward()
    s, cs = np.sin(1.5), np.cos(1.5)
    # J = (e^s + s^2) s;  dJ/ds = e^s s + e^s + 3 s^2
    assert float(a.grad) == pytest.approx(np.exp(s) * s + np.exp(s) + 3 * s**2, rel=1e-12)
    assert float(x.grad) == pytest.approx((np.exp(s) * s + np.exp(s) + 3 * s**2) * cs, rel=1e-12)


def _concatenate_of_float32(n):
    """n float32 leaves joined into a float64 result: backward casts each one's gradient."""
    xs = [gg.Tensor(np.full(1, i, dtype=np.float32), requires_grad=True) for i in range(n)]
    joined = gg.concatenate([*xs, gg.Tensor(np.zeros(1), requires_grad=True)])
    return xs, joined


def test_an_op_with_many_inputs_records_its_cast_gradients_in_linear_work():
    xs, joined = _concatenate_of_float32(5)
    (joined * np.arange(6.0)).sum().backward()
    recorded = joined.creator.input_grads
    assert [g.dtype for g in recorded] == [np.float32] * 5 + [np.float64]
    np.testing.assert_array_equal(np.concatenate(recorded), np.arange(6.0))
    for x, g in zip(xs, recorded):
        assert x.grad.dtype == np.float32 and x.grad[0] == g[0]

    def lines(n):
        _, joined = _concatenate_of_float32(n)
        J = joined.sum()
        return lines_run(J.backward, engine)

    # Recording each cast had copied the node's whole list of gradients: 16 times the work
    # for 4 times the inputs.
    assert growth(lines, 100) < 5


class _ReturnsFloats(gg.Function):
    """y = x0 + x1 + ...;  each dx_i = dy, given back as a Python float"""

    @staticmethod
    def forward(ctx, *xs):
        return sum(xs)

    @staticmethod
    def backward(ctx, grad):
        return (float(grad),) * len(ctx.inputs)


def test_gradients_given_as_python_floats_are_recorded_as_arrays_of_the_input_dtype():
    x = gg.Tensor(np.float32(2.0), requires_grad=True)
    y = gg.Tensor(np.float32(3.0), requires_grad=True)
    total = _ReturnsFloats.apply(x, y, x)
    (total * 4.0).backward()
    recorded = total.creator.input_grads
    # Made an array (float64) then cast to float32: the slot keeps the cast one.
    assert [(type(g), g.dtype, float(g)) for g in recorded] == [(np.ndarray, np.float32, 4.0)] * 3
    assert float(x.grad) == 8.0 and float(y.grad) == 4.0


# -- deep graphs ----------------------------------------------------------------------------------
def test_million_op_chain_backward_without_recursion(no_gc):
    x = gg.Tensor(np.ones(1), requires_grad=True)
    y = x
    for i in range(1_000_000):
        y = -y
        if i == 500_000:
            middle = weakref.ref(y)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)  # anything recursive in backward or in freeing would fail now
    try:
        y.backward(np.full(1, 2.0), keep_intermediate_grads=False)
        del y  # frees the whole chain, without the garbage collector
    finally:
        sys.setrecursionlimit(limit)
    np.testing.assert_array_equal(x.grad, [2.0])  # an even number of negations
    assert middle() is None


def test_deep_chain_keeps_every_intermediate_grad():
    x = gg.Tensor(1.0, requires_grad=True)
    chain = [x]
    for _ in range(5000):
        chain.append(chain[-1] * 1.001)
    chain[-1].backward()
    grads = np.array([float(t.grad) for t in chain])
    np.testing.assert_allclose(grads, 1.001 ** np.arange(5000, -1, -1), rtol=1e-9)


# -- order ----------------------------------------------------------------------------------------
def _build_and_backward():
    x = gg.Tensor(np.ones(3), requires_grad=True, name="x")
    y = gg.Tensor(np.full(3, 2.0), requires_grad=True, name="y")
    h = [x * y, x + y, gg.exp(x), y - x, gg.tanh(y)]
    J = ((h[0] * h[1] + h[2] * h[3]) * h[4] + h[1]).sum()
    J.backward()
    nodes = graph_nodes(J)
    return [(n.name, n.backward_order) for n in nodes], x.grad, y.grad


def test_backward_order_is_the_same_for_identical_builds():
    first, second = _build_and_backward(), _build_and_backward()
    assert first[0] == second[0]
    orders = sorted(order for _, order in first[0])
    assert orders == list(range(len(orders)))  # every node ran exactly once
    np.testing.assert_array_equal(first[1], second[1])
    np.testing.assert_array_equal(first[2], second[2])


def test_every_node_runs_after_all_nodes_that_use_its_outputs():
    x = gg.Tensor(np.ones(3), requires_grad=True)
    h = gg.exp(x)
    J = (h * h + gg.sin(h) * h).sum()
    J.backward()
    for node in graph_nodes(J):
        for t in node.inputs:
            if t.creator is not None:
                assert t.creator.backward_order > node.backward_order


# -- freeing the graph ----------------------------------------------------------------------------
@pytest.mark.parametrize("after_backward", [False, True], ids=["dropped", "backpropagated"])
def test_dropped_loss_frees_its_graph_without_the_garbage_collector(no_gc, after_backward):
    W = gg.Tensor(np.ones((2, 3)), requires_grad=True)
    X = np.ones((3, 4))
    Z = W @ X
    A = gg.sigmoid(Z)
    J = (A * A).mean()
    if after_backward:
        J.backward()
    refs = [weakref.ref(t) for t in (Z, A, J)] + [weakref.ref(n) for n in graph_nodes(J)]
    del Z, A, J
    assert [r() for r in refs] == [None] * len(refs)
    assert W.data.flags.writeable  # the leaf is unlocked with its graph gone


def test_graph_is_released_after_backward():
    a, b, c, u, v, J = course_graph()
    J.backward()
    assert all(node.released for node in graph_nodes(J))
    assert all(node.saved is None for node in graph_nodes(J))


class SavesATemporary(gg.Function):
    """y = x**2, saving 2x (a temporary only this node holds) for backward."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(2 * x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (twice,) = ctx.saved
        return grad * twice


@pytest.mark.parametrize("retain", [False, True])
def test_backward_frees_saved_arrays_unless_retain_graph(no_gc, retain):
    x = gg.Tensor(np.ones(3), requires_grad=True)
    y = SavesATemporary.apply(x)
    saved = weakref.ref(y.creator.saved[0])
    y.sum().backward(retain_graph=retain)
    assert (saved() is not None) == retain
    np.testing.assert_array_equal(x.grad, [2.0, 2.0, 2.0])


def test_second_backward_through_a_freed_graph_says_retain_graph():
    a, b, c, u, v, J = course_graph()
    J.backward()
    with pytest.raises(gg.BackwardError, match=r"retain_graph=True"):
        J.backward()
    grads = (float(a.grad), float(b.grad), float(c.grad))
    with pytest.raises(gg.BackwardError, match=r"a second time"):
        (v * 2).backward()  # a new node on top of a freed one
    assert (float(a.grad), float(b.grad), float(c.grad)) == grads  # leaves untouched


def test_nodes_are_numbered_in_creation_order_and_run_from_the_latest():
    a, b, c, u, v, J = course_graph()
    late = a * 2.0  # created last, but on a branch J does not use
    assert u.creator.sequence < v.creator.sequence < J.creator.sequence < late.creator.sequence
    J.backward()
    assert (J.creator.backward_order, v.creator.backward_order, u.creator.backward_order) == (
        0, 1, 2)
    assert late.creator.backward_order is None


def test_retain_graph_keeps_it_for_another_backward():
    a, b, c, u, v, J = course_graph()
    J.backward(retain_graph=True)
    assert not any(node.released for node in graph_nodes(J))
    J.backward()
    assert (float(a.grad), float(b.grad), float(c.grad)) == (6.0, 12.0, 18.0)
    with pytest.raises(gg.BackwardError, match="retain_graph"):
        J.backward()


def test_leaves_accumulate_and_intermediates_hold_the_latest():
    x = gg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = x * x
    J = h.sum()
    J.backward(retain_graph=True)
    J.backward(retain_graph=True)
    np.testing.assert_array_equal(x.grad, [4.0, 8.0])  # 2x, twice
    np.testing.assert_array_equal(h.grad, [1.0, 1.0])
    assert float(J.grad) == 1.0
    x.grad = None
    J.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])


def test_a_second_backward_adds_into_the_leafs_grad_array_as_pytorch_does():
    # A reference to W.grad taken between two backward passes (gradient accumulation over
    # micro-batches, an optimizer of one's own) sees the sum, as with PyTorch's p.grad.
    W = gg.Tensor(np.array([[1.0, -2.0], [0.5, 3.0]]), requires_grad=True, name="W")
    (W * 2.0).sum().backward()
    held = W.grad
    (W * W).sum().backward()
    assert W.grad is held
    np.testing.assert_array_equal(held, 2.0 + 2 * W.data)
    # A .grad that cannot take the sum in place, read-only or of a narrower dtype, is
    # replaced by the sum, and left as it was.
    frozen = np.ones((2, 2))
    frozen.setflags(write=False)
    W.grad = frozen
    (W * 2.0).sum().backward()
    np.testing.assert_array_equal(W.grad, np.full((2, 2), 3.0))
    np.testing.assert_array_equal(frozen, np.ones((2, 2)))
    narrow = np.ones((2, 2), dtype=np.float32)
    W.grad = narrow
    (W * 0.1).sum().backward()
    assert W.grad is not narrow and W.grad.dtype == np.float64
    np.testing.assert_array_equal(W.grad, 1.0 + np.full((2, 2), 0.1))
    np.testing.assert_array_equal(narrow, np.ones((2, 2), dtype=np.float32))


class _SumOfSquares(gg.Function):
    """J = sum(x**2), its gradient computed in forward and kept on the node (a fused op)."""

    @staticmethod
    def forward(ctx, x):
        ctx.dx = 2.0 * x
        return np.sum(x * x)

    @staticmethod
    def backward(ctx, grad):
        return ctx.dx if grad == 1.0 else grad * ctx.dx


def test_a_gradient_a_kept_graph_returns_again_is_not_the_leafs_grad():
    # A backward returning an array its node keeps (dx computed in forward): with the graph
    # kept, .grad must not be that array, or the next backward adds into it, and the node
    # returns the sum the pass after (2x, 4x, 8x where the passes sum to 2x, 4x, 6x).
    x = gg.Tensor(np.array([1.0, 2.0]), requires_grad=True, name="x")
    J = _SumOfSquares.apply(x)
    for passes in (1, 2, 3):
        J.backward(retain_graph=True, keep_intermediate_grads=False)
        np.testing.assert_array_equal(x.grad, passes * np.array([2.0, 4.0]))
    np.testing.assert_array_equal(J.creator.dx, [2.0, 4.0])


def test_a_held_grad_that_shares_memory_with_a_leafs_data_or_another_grad_is_not_added_into():
    # W.grad = W.data (or a view of it), a.grad = b.data, one array given to two leaves: adding
    # into it would change a parameter, or give one leaf's gradient to the other. The sum is
    # a new array, as a first pass's .grad is; the array set by hand is left as it was.
    W = gg.Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True, name="W")
    for held in (W.data, W.data.T, W.data[::-1]):
        kept, W.grad = held.copy(), held
        (W + 1.0).sum().backward()
        np.testing.assert_array_equal(W.data, [[1.0, 2.0], [3.0, 4.0]])
        np.testing.assert_array_equal(W.grad, kept + 1.0)
        assert not np.shares_memory(W.grad, W.data)
    a = gg.Tensor(np.array([1.0, 2.0]), requires_grad=True, name="a")
    b = gg.Tensor(np.array([10.0, 20.0]), requires_grad=True, name="b")
    a.grad = b.data
    (a * 3.0 + b).sum().backward()
    np.testing.assert_array_equal(b.data, [10.0, 20.0])
    np.testing.assert_array_equal(a.grad, [13.0, 23.0])
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])
    shared = np.ones(2)
    a.grad = b.grad = shared
    (a * 3.0 + b * 5.0).sum().backward()
    np.testing.assert_array_equal(a.grad, [4.0, 4.0])
    np.testing.assert_array_equal(b.grad, [6.0, 6.0])
    np.testing.assert_array_equal(shared, [1.0, 1.0])
    # Disjoint slices of one buffer (a flat gradient vector, as parameters_to_vector gives)
    # share no element: each takes its own sum in place, and the buffer sees them.
    flat = np.zeros(4)
    a.grad, b.grad = flat[:2], flat[2:]
    (a * 3.0 + b * 5.0).sum().backward()
    assert a.grad.base is flat and b.grad.base is flat
    np.testing.assert_array_equal(flat, [3.0, 3.0, 5.0, 5.0])


def test_keep_intermediate_grads_false_keeps_only_the_leaves():
    a, b, c, u, v, J = course_graph()
    J.backward(keep_intermediate_grads=False)
    assert (u.grad, v.grad, J.grad) == (None, None, None)
    assert (float(a.grad), float(b.grad), float(c.grad)) == (3.0, 6.0, 9.0)


def test_intermediate_grads_are_read_only_and_a_leafs_grad_is_its_own():
    """Gradients are shared between nodes (x + y hands both the same array): an in-place edit
    of an intermediate's .grad would change another's, so it is refused; a leaf's .grad is an
    array of its own, which the user may change in place (np.clip(dW, -5, 5, out=dW))."""
    a = gg.Tensor(np.ones(3))
    b = gg.Tensor(np.full(3, 2.0), requires_grad=True)
    u = b * 3
    v = a + u  # Add passes its upstream gradient to both inputs: u.grad is v.grad's array
    J = (v * v).sum()
    J.backward()
    np.testing.assert_array_equal(u.grad, v.grad)
    for t in (u, v, J):
        with pytest.raises(ValueError, match="read-only"):
            t.grad[...] = 0
    np.testing.assert_array_equal(b.grad, [42.0, 42.0, 42.0])
    np.clip(b.grad, -5, 5, out=b.grad)
    np.testing.assert_array_equal(b.grad, [5.0, 5.0, 5.0])
    np.testing.assert_array_equal(v.grad, [14.0, 14.0, 14.0])
    np.testing.assert_array_equal(u.creator.input_grads[0], [42.0, 42.0, 42.0])  # as it flowed


@pytest.mark.parametrize("keep", [True, False], ids=["steps recorded", "leaves only"])
def test_leaves_handed_one_gradient_each_get_a_grad_of_their_own(keep):
    x = gg.Tensor(np.ones(2), requires_grad=True)
    W = gg.Tensor(np.full(2, 3.0), requires_grad=True)
    z = x + W  # both get z's upstream gradient, one array
    (z * 2).sum().backward(keep_intermediate_grads=keep)
    W.grad *= 0.5  # PyTorch's p.grad /= 2
    np.testing.assert_array_equal(W.grad, [1.0, 1.0])
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])  # not changed with it
    W.data -= W.grad
    np.testing.assert_array_equal(W.grad, [1.0, 1.0])

    y = gg.Tensor([4.0, 5.0], requires_grad=True)
    (y.reshape(2, 1) * 1.0).sum().backward(keep_intermediate_grads=keep)  # a view comes back
    y.grad[0] = 7.0
    np.testing.assert_array_equal(y.grad, [7.0, 1.0])


class Itself(gg.Function):
    """y = x**2 / 2 written so that backward returns x's own array (grad is 1 here)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x / 2

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return x


def test_a_gradient_that_is_the_leafs_own_array_becomes_a_copy():
    x = gg.Tensor([1.0, 2.0], requires_grad=True)
    Itself.apply(x).backward(np.ones(2))
    assert x.grad is not x.data and np.shares_memory(x.grad, x.data) is False
    x.data -= 0.5 * x.grad
    np.testing.assert_array_equal(x.grad, [1.0, 2.0])


class DotOfTwo(gg.Function):
    """J = sum(x * y), written so that backward returns y's array as dJ/dx and x's as dJ/dy
    (grad is 1 here), as a custom op may."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return np.sum(x * y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved
        return y, x


@pytest.mark.parametrize("keep", [True, False], ids=["steps recorded", "leaves only"])
@pytest.mark.parametrize("y_requires_grad", [True, False], ids=["leaf y", "constant y"])
def test_a_gradient_that_is_another_tensors_array_becomes_a_copy(keep, y_requires_grad):
    x = gg.Tensor([1.0, 2.0], requires_grad=True)
    y = gg.Tensor([3.0, 4.0], requires_grad=y_requires_grad)
    DotOfTwo.apply(x, y).backward(keep_intermediate_grads=keep)
    assert not np.shares_memory(x.grad, y.data)
    x.grad *= 10.0  # W.grad /= n, the course's np.clip(dW, -5, 5, out=dW)
    np.testing.assert_array_equal(y.data, [3.0, 4.0])  # y is not changed with it
    np.testing.assert_array_equal(x.grad, [30.0, 40.0])
    if y_requires_grad:
        assert not np.shares_memory(y.grad, x.data)
        y.data -= 0.5 * y.grad  # nor x's gradient with y's update
        np.testing.assert_array_equal(x.grad, [30.0, 40.0])
        np.testing.assert_array_equal(y.grad, [1.0, 2.0])


# -- backward's errors ----------------------------------------------------------------------------
def test_non_scalar_root_without_grad_says_what_to_do():
    y = gg.Tensor(np.ones((2, 3)), requires_grad=True) * 2
    with pytest.raises(gg.BackwardError, match=r"not a single number.*grad=np\.ones") as info:
        y.backward()
    assert "(2, 3)" in str(info.value)


def test_non_scalar_root_with_grad_gives_the_vector_jacobian_product():
    x = gg.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    y = x * x
    y.backward(np.array([1.0, 0.0, -1.0]))
    np.testing.assert_array_equal(x.grad, [2.0, 0.0, -6.0])


def test_one_element_root_of_any_rank_needs_no_grad():
    x = gg.Tensor(np.array([[2.0]]), requires_grad=True)
    (x * x).backward()
    np.testing.assert_array_equal(x.grad, [[4.0]])


def test_grad_of_the_wrong_shape_is_a_shape_error():
    y = gg.Tensor(np.ones((2, 3)), requires_grad=True) * 2
    with pytest.raises(gg.ShapeError, match=r"\(3,\).*\(2, 3\)"):
        y.backward(np.ones(3))


def test_a_grad_set_by_hand_with_another_shape_is_refused_before_any_leaf_changes():
    """PyTorch refuses ``x.grad = `` an array of another shape; backward had added the new
    gradient to it by broadcasting: a (2, 2) gradient for a (2,) tensor."""
    w = gg.Tensor(np.array([1.0, 2.0]), requires_grad=True, name="w")
    x = gg.Tensor(np.array([3.0, 4.0]), requires_grad=True, name="x")
    w.grad = np.ones(2)
    x.grad = np.ones((2, 1))
    with pytest.raises(gg.ShapeError, match=r"'x' \(2,\) float64 holds a \.grad of shape "
                       r"\(2, 1\).*Set it to None \(or to an array of shape \(2,\)\)"):
        (w * x).sum().backward()
    np.testing.assert_array_equal(w.grad, [1.0, 1.0])  # no leaf half updated
    x.grad = np.float64(1.0)  # a number: it would have broadcast too
    with pytest.raises(gg.ShapeError, match=r"holds a \.grad of shape \(\)"):
        (w * x).sum().backward()
    x.grad = [1.0, 1.0]  # a list of the right length adds as numpy adds it
    (w * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 3.0])
    np.testing.assert_array_equal(w.grad, [4.0, 5.0])


@pytest.mark.parametrize("retain_graph", [False, True])
def test_backward_refusing_a_held_grad_says_how_to_retry_and_the_retry_is_exact(retain_graph):
    """The held .grad is found once the walk is done: without retain_graph the graph is
    released by then, and the advice is to run the forward pass again, not backward."""
    W0, x0 = np.array([[1.0, -2.0], [0.5, 3.0]]), np.array([[0.3], [-0.7]])

    def forward(W, x):
        return (W @ x).tanh().sum()

    W = gg.Tensor(W0, requires_grad=True, name="W")
    x = gg.Tensor(x0, requires_grad=True, name="x")
    x.grad = np.full((2, 1), 5.0)  # held from an earlier backward, to which this one adds
    W.grad = np.zeros(3)
    J = forward(W, x)
    advice = "call backward again" if retain_graph else "run the forward pass again"
    with pytest.raises(gg.ShapeError, match=rf"'W' \(2, 2\).*shape \(3,\).*{advice}"):
        J.backward(retain_graph=retain_graph)
    np.testing.assert_array_equal(x.grad, np.full((2, 1), 5.0))  # no leaf changed
    W.grad = None
    if not retain_graph:
        J = forward(W, x)
    J.backward()
    dZ = 1.0 - np.tanh(W0 @ x0) ** 2  # d/dZ sum(tanh(Z)), Z = W x
    np.testing.assert_allclose(W.grad, dZ @ x0.T, rtol=1e-12)
    np.testing.assert_allclose(x.grad, 5.0 + W0.T @ dZ, rtol=1e-12)


def _integer_then_requires_grad():
    x = gg.Tensor(np.array([1, 2]), dtype=np.int64, name="x")
    x.requires_grad = True
    return x


def _requires_grad_then_integer():
    x = gg.Tensor(np.array([1.0, 2.0]), requires_grad=True, name="x")
    x.data = np.array([1, 2])
    return x


@pytest.mark.parametrize("make", [_integer_then_requires_grad, _requires_grad_then_integer],
                         ids=["requires_grad set", "data set"])
def test_an_integer_tensor_made_to_require_grad_by_hand_gets_no_rounded_gradient(make):
    """The constructor and requires_grad_() refuse an integer tensor that requires grad; set
    by attribute, backward had rounded its gradient (0.5 became 0) without a word."""
    x = make()
    with pytest.raises(gg.BackwardError, match=r"Mul\.backward: 'x' \(2,\) int64 requires grad "
                       r"but holds int64 values.*only float tensors can require grad"):
        (x * 0.5).sum().backward()
    assert x.grad is None


def test_root_without_a_graph_is_a_clear_error():
    x = gg.Tensor(np.ones(3))
    with pytest.raises(gg.BackwardError, match="does not require grad"):
        (x * 2).sum().backward()


def test_a_result_whose_requires_grad_was_set_to_false_says_so_at_backward():
    """It was told to give its parameters requires_grad=True, which they had."""
    W = gg.Tensor(np.ones(3), requires_grad=True, name="W")
    J = (W * 2.0).sum()
    J.requires_grad = False
    with pytest.raises(gg.BackwardError) as info:
        J.backward()
    assert str(info.value) == (
        "backward: output of Sum () float64 had its requires_grad set to False after it was "
        "made, which cuts it off from its graph. Set it back to True; for a constant copy of a "
        "result, take t.detach() instead.")
    J.requires_grad = True
    J.backward()
    np.testing.assert_array_equal(W.grad, [2.0, 2.0, 2.0])


def test_backward_seed_is_copied():
    x = gg.Tensor(np.ones(2), requires_grad=True)
    seed = np.array([1.0, 2.0])
    y = x * 3
    y.backward(seed)
    assert y.grad is not seed
    seed[0] = 100.0
    np.testing.assert_array_equal(y.grad, [1.0, 2.0])


# -- grad modes -----------------------------------------------------------------------------------
def test_no_grad_and_enable_grad_nest():
    x = gg.Tensor(2.0, requires_grad=True)
    with gg.no_grad():
        a = x * 2
        assert not gg.is_grad_enabled()
        with gg.enable_grad():
            b = x * 2
            with gg.no_grad():
                c = x * 2
            d = x * 2
        e = x * 2
    f = x * 2
    recorded = [t.requires_grad for t in (a, b, c, d, e, f)]
    assert recorded == [False, True, False, True, False, True]
    assert [t.creator is not None for t in (a, b, c, d, e, f)] == recorded
    assert gg.is_grad_enabled()


def test_no_grad_is_restored_after_an_exception():
    with pytest.raises(KeyError):
        with gg.no_grad():
            raise KeyError("inside")
    assert gg.is_grad_enabled()
    assert (gg.Tensor(1.0, requires_grad=True) * 2).requires_grad


def test_no_grad_on_a_generator_function_covers_each_step_and_only_those():
    """A generator's body runs at each next(), after the decorated call has returned: the
    decorator had been left before any of it ran, so every step recorded a graph."""
    w = gg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    seen = []

    @gg.no_grad()
    def predictions(batches):
        for x in batches:
            sent = yield w * x
            seen.append((sent, gg.is_grad_enabled()))
        return "done"

    steps = predictions([np.ones(2), np.full(2, 3.0)])
    first = next(steps)
    caller = w * 2.0  # between steps, the caller's own mode
    second = steps.send("a")
    with pytest.raises(StopIteration) as stop:
        steps.send("b")
    assert stop.value.value == "done" and seen == [("a", False), ("b", False)]
    assert not first.requires_grad and not second.requires_grad and caller.requires_grad
    np.testing.assert_array_equal(second.data, [3.0, 6.0])

    @gg.no_grad()
    def catching():
        try:
            yield 1
        except KeyError:
            yield gg.is_grad_enabled()
        finally:
            seen.append(("closed", gg.is_grad_enabled()))

    steps = catching()
    next(steps)
    assert steps.throw(KeyError("k")) is False  # thrown in, handled in the block
    steps.close()
    assert seen[-1] == ("closed", False) and gg.is_grad_enabled()


def test_no_grad_is_thread_local():
    x = gg.Tensor(2.0, requires_grad=True)
    inside, outside = threading.Event(), threading.Event()
    seen = {}

    def in_no_grad():
        with gg.no_grad():
            inside.set()
            outside.wait(5)
            seen["no_grad thread"] = (x * 2).requires_grad

    def elsewhere():
        inside.wait(5)
        seen["other thread"] = (x * 2).requires_grad
        seen["other thread enabled"] = gg.is_grad_enabled()
        outside.set()

    threads = [threading.Thread(target=in_no_grad), threading.Thread(target=elsewhere)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == {"no_grad thread": False, "other thread": True,
                    "other thread enabled": True}


@pytest.mark.parametrize("method", ["__enter__", "__exit__"])
def test_an_interrupt_inside_no_grad_leaves_grad_recording_as_it_was(method):
    x = gg.Tensor(2.0, requires_grad=True)

    def block():
        with gg.no_grad():
            with gg.detect_anomaly():
                pass

    code = getattr(modes._setting, method).__code__
    for where in interrupted_after_each_call(code, block):
        assert (gg.is_grad_enabled(), modes._state.mode, modes._state.checks) == (
            True, modes.FAST, False), f"interrupted at {where}"
        assert (x * 2).requires_grad


def _free_for_other_threads(lock):
    """Whether another thread can take ``lock`` (this one always can: it is reentrant)."""
    taken = []

    def take():
        if lock.acquire(timeout=2):
            taken.append(True)
            lock.release()

    thread = threading.Thread(target=take)
    thread.start()
    thread.join()
    return bool(taken)


@pytest.mark.parametrize("where", ["pinning", "releasing"])
def test_an_interrupt_while_arrays_are_pinned_or_released_unlocks_none_another_node_holds(
        where):
    gc.collect()  # graphs earlier tests left in reference cycles: their pins would count below
    W = gg.Tensor(np.ones(3), requires_grad=True)
    X = gg.Tensor(np.full(3, 2.0), requires_grad=True)
    held = W * X  # a node that saved both arrays, alive throughout

    def block():
        J = (W * X).sum()  # a second node pins them again
        J.backward()

    code = (function._pin_leaves if where == "pinning" else function._unpin_all).__code__
    for at in interrupted_after_each_call(code, block):
        gc.collect()
        assert not W.data.flags.writeable and not X.data.flags.writeable, f"interrupted at {at}"
        assert _free_for_other_threads(function._PINS_LOCK), f"interrupted at {at}"
    held.backward(np.ones(3))  # its pins released: nothing may be left locked or counted
    assert W.data.flags.writeable and X.data.flags.writeable
    assert not function._SHARED_PINS and not function._WAITING_VIEWS
    W.data += 1.0


class _GradReadTogether(np.ndarray):
    """A .grad whose sum with a new gradient waits (up to half a second) until two
    backward passes have both read it."""

    meeting = None

    def __add__(self, other):
        try:
            _GradReadTogether.meeting.wait()
        except threading.BrokenBarrierError:  # the other pass waits its turn
            pass
        return np.add(np.asarray(self), other)


def test_backward_on_two_threads_adds_both_gradients_to_a_shared_leaf():
    """Two passes that read a leaf's .grad at the same time must not store their sums one
    over the other: each leaf gets dJ1/dW + dJ2/dW, as in PyTorch."""
    W = gg.Tensor(np.ones(3), requires_grad=True, name="W")
    W.grad = np.zeros(3).view(_GradReadTogether)
    _GradReadTogether.meeting = threading.Barrier(2, timeout=0.5)
    threads = [threading.Thread(target=lambda k=k: (W * k).sum().backward())
               for k in (2.0, 3.0)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    np.testing.assert_array_equal(W.grad, [5.0, 5.0, 5.0])  # 2 + 3

def test_detach_cuts_the_graph_and_shares_the_data():
    x = gg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x * 3
    d = y.detach()
    assert not d.requires_grad and d.creator is None
    assert np.shares_memory(d.data, y.data)
    J = (d * x).sum()  # d is a constant: dJ/dx = d = 3x, not 6x
    J.backward()
    np.testing.assert_array_equal(x.grad, [3.0, 6.0])


@pytest.mark.parametrize("copier, shares", [(copy.copy, True), (copy.deepcopy, False)])
def test_a_copy_of_an_op_output_is_a_new_leaf(copier, shares):
    """Never a second output its node does not know of (whose gradient would be lost)."""
    x = gg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x * 2
    y.name = "y"
    y_copy = copier(y)
    assert y_copy.creator is None and y_copy.requires_grad and y_copy.name == "y"
    assert np.shares_memory(y_copy.data, y.data) is shares
    J = (y * y_copy).sum()  # y_copy is a leaf of its own: dJ/dx = 2 y_copy
    J.backward()
    np.testing.assert_array_equal(x.grad, [4.0, 8.0])
    np.testing.assert_array_equal(y_copy.grad, y.data)


def test_a_deep_copied_model_trains_apart_from_the_original():
    model = nn.Sequential(nn.Linear(2, 2, rng=0), nn.ReLU(), nn.Linear(2, 1, rng=1))
    nn.mse(model(np.ones((3, 2))), np.zeros((3, 1))).backward()
    twin = copy.deepcopy(model)
    assert type(twin[0].W) is nn.Parameter and twin[0].W.data is not model[0].W.data
    np.testing.assert_array_equal(twin[0].W.grad, model[0].W.grad)
    before = model[0].W.data.copy()
    optim.SGD(twin.parameters(), lr=0.1).step()
    np.testing.assert_array_equal(model[0].W.data, before)
    np.testing.assert_allclose(twin[0].W.data, before - 0.1 * model[0].W.grad)


def test_ops_under_no_grad_keep_no_graph_and_lock_nothing():
    W = gg.Tensor(np.ones(3), requires_grad=True)
    with gg.no_grad():
        y = W * 2
    assert y.creator is None and not y.requires_grad
    assert W.data.flags.writeable


# -- custom Functions -----------------------------------------------------------------------------
class Halves(gg.Function):
    """y1 = 2 x[:n], y2 = 3 x[n:]"""

    calls = []

    @staticmethod
    def forward(ctx, x):
        n = x.shape[0] // 2
        return x[:n] * 2, x[n:] * 3

    @staticmethod
    def backward(ctx, grad1, grad2):
        Halves.calls.append((grad1.copy(), grad2.copy()))
        return np.concatenate([grad1 * 2, grad2 * 3])


def test_multi_output_backward_gets_one_grad_per_output_and_zeros_for_unused():
    Halves.calls.clear()
    x = gg.Tensor(np.arange(4.0), requires_grad=True)
    first, second = Halves.apply(x)
    assert first.creator is second.creator
    assert first.creator.outputs == (first, second)
    (first * first).sum().backward()
    ((grad1, grad2),) = Halves.calls
    np.testing.assert_array_equal(grad1, 2 * first.data)
    np.testing.assert_array_equal(grad2, [0.0, 0.0])
    np.testing.assert_array_equal(x.grad, [0.0, 8.0, 0.0, 0.0])
    assert second.grad is None
    assert not first.grad.flags.writeable


def test_multi_output_with_both_outputs_used_and_one_dropped():
    x = gg.Tensor(np.arange(4.0), requires_grad=True)
    first, second = Halves.apply(x)
    J = first.sum() + (second * second).sum()
    J.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0, 2 * 3 * 6.0, 2 * 3 * 9.0])
    x.grad = None
    first, second = Halves.apply(x)
    J = first.sum()
    del second  # a dropped output still gets a zero gradient
    J.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0, 0.0, 0.0])


class SinCos(gg.Function):
    """(sin x, cos x), each saved for the other's share of backward"""

    @staticmethod
    def forward(ctx, x):
        s, c = np.sin(x), np.cos(x)
        ctx.save_for_backward(s, c)
        return s, c

    @staticmethod
    def backward(ctx, grad_sin, grad_cos):
        s, c = ctx.saved
        return grad_sin * c - grad_cos * s


def test_a_dropped_output_that_backward_uses_is_differentiated_through():
    # d2/dx2 of sum(sin x) is -sin x: sin's backward multiplies by cos x, the output the
    # caller dropped, which must not become a constant of the gradient's graph.
    x = gg.Tensor(np.array([0.3, 1.1]), requires_grad=True)
    sin_x = SinCos.apply(x)[0]
    (g,) = gg.grad(sin_x.sum(), x, create_graph=True)
    np.testing.assert_allclose(g.data, np.cos(x.data), rtol=1e-15)
    (h,) = gg.grad(g.sum(), x)
    np.testing.assert_allclose(h, -np.sin(x.data), rtol=1e-15)
    assert gg.gradgradcheck(lambda t: SinCos.apply(t)[0], [x])


class Totals(gg.Function):
    """y1 = sum(x), y2 = sum(2 x): two 0-d outputs"""

    @staticmethod
    def forward(ctx, x):
        return x.sum(), (2 * x).sum()

    @staticmethod
    def backward(ctx, grad1, grad2):
        return np.ones(ctx.inputs[0].shape) * (grad1 + 2 * grad2)


def test_a_0d_output_used_twice_gets_an_array_as_its_gradient():
    """numpy adds two 0-d arrays into a scalar; .grad must still be an ndarray."""
    x = gg.Tensor(np.ones(3), requires_grad=True)
    first, second = Totals.apply(x)
    J = first * first + first + second  # dJ/dfirst = 2 * 3 + 1, dJ/dsecond = 1
    J.backward()
    assert type(first.grad) is np.ndarray and first.grad.shape == ()
    assert first.grad == 7.0 and second.grad == 1.0
    assert not first.grad.flags.writeable
    np.testing.assert_array_equal(x.grad, [9.0, 9.0, 9.0])


class Weighted(gg.Function):
    """y = a x + b z (c is unused); records needs_input_grad."""

    seen = []

    @staticmethod
    def forward(ctx, x, z, c, a=1.0, b=1.0):
        ctx.a, ctx.b = a, b
        Weighted.seen.append(ctx.needs_input_grad)
        return a * x + b * z

    @staticmethod
    def backward(ctx, grad):
        Weighted.seen.append(ctx.needs_input_grad)
        return grad * ctx.a, grad * ctx.b, None


def test_needs_input_grad_attrs_and_none_gradients():
    Weighted.seen.clear()
    x = gg.Tensor(np.ones(2), requires_grad=True)
    z = gg.Tensor(np.ones(2))
    c = gg.Tensor(np.ones(2), requires_grad=True)
    y = Weighted.apply(x, z, c, a=2.0, b=5.0)
    assert y.creator.attrs == {"a": 2.0, "b": 5.0}
    y.sum().backward()
    assert Weighted.seen == [(True, False, True), (True, False, True)]
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])
    assert z.grad is None
    assert c.grad is None  # backward returned None: c gets nothing


class Scaled(gg.Function):
    """y = x * (cls + 1), an op whose attribute is named cls, as a class index may be."""

    @staticmethod
    def forward(ctx, x, cls=0):
        ctx.factor = cls + 1
        return x * ctx.factor

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.factor


def test_an_attribute_may_have_any_name_that_forward_takes_cls_included():
    """apply's own first parameter took it: "got multiple values for argument 'cls'"."""
    x = gg.Tensor(np.ones(2), requires_grad=True)
    y = Scaled.apply(x, cls=2)
    assert y.creator.attrs == {"cls": 2}
    y.sum().backward()
    np.testing.assert_array_equal(y.data, [3.0, 3.0])
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])
    np.testing.assert_array_equal(Scaled.call(np.ones(2), cls=1), [2.0, 2.0])


class SumWithWrongGrad(gg.Function):
    @staticmethod
    def forward(ctx, x):
        return x.sum()

    @staticmethod
    def backward(ctx, grad):
        return grad  # should be broadcast to x's shape


def test_custom_op_with_wrongly_shaped_gradient_names_the_op_and_the_shapes():
    x = gg.Tensor(np.ones((2, 3)), requires_grad=True, name="x")
    y = SumWithWrongGrad.apply(x)
    with pytest.raises(gg.ShapeError) as info:
        y.backward()
    message = str(info.value)
    assert "SumWithWrongGrad" in message
    assert "()" in message and "(2, 3)" in message and "'x'" in message


class TwoGradsForOneInput(gg.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * 2, grad


def test_custom_op_returning_the_wrong_number_of_gradients():
    y = TwoGradsForOneInput.apply(gg.Tensor(np.ones(2), requires_grad=True))
    with pytest.raises(gg.BackwardError, match=r"TwoGradsForOneInput.*2 gradients for 1"):
        y.sum().backward()


class DoublesInPlace(gg.Function):
    """y = 2 x, with a backward that wrongly doubles its upstream gradient in place"""

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        grad *= 2
        return grad


@pytest.mark.parametrize("how", ["backward", "leaves only", "gg.grad"])
def test_a_backward_writing_into_its_upstream_gradient_is_stopped_in_every_mode(how):
    # Add hands one array to both its inputs: written in place, it would also double the
    # gradient of b (from 3 c to 6 c) without a word.
    a = gg.Tensor([1.0, 2.0], requires_grad=True)
    b = gg.Tensor([3.0, 4.0], requires_grad=True)
    c = gg.Tensor([1.0, 10.0])
    e = b * 3.0
    J = ((e + DoublesInPlace.apply(a * 1.0)) * c).sum()
    with pytest.raises(gg.BackwardError, match=r"DoublesInPlace.backward failed") as info:
        if how == "backward":
            J.backward()
        elif how == "leaves only":
            J.backward(keep_intermediate_grads=False)
        else:
            gg.grad(J, [a, b])
    assert "not grad *= 2" in str(info.value)


class HalfSumOfSquares(gg.Function):
    """J = sum(x**2) / 2;  dJ/dx = x (written for a cost at the root: upstream 1)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (x * x).sum() / 2

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return x


def test_a_gradient_that_is_the_leaf_own_array_becomes_a_copy():
    x = gg.Tensor([1.0, 2.0], requires_grad=True)
    HalfSumOfSquares.apply(x).backward()
    np.testing.assert_array_equal(x.grad, [1.0, 2.0])
    assert x.data.flags.writeable  # the data is not locked as its own gradient
    x.data -= 0.1 * x.grad
    np.testing.assert_allclose(x.data, [0.9, 1.8])
    np.testing.assert_array_equal(x.grad, [1.0, 2.0])  # nor does .grad follow the update


class RoundToInt(gg.Function):
    """y = round(x) as integers; backward passes the gradient straight through"""

    @staticmethod
    def forward(ctx, x):
        return np.round(x).astype(np.int64)

    @staticmethod
    def backward(ctx, grad):
        return grad


def test_an_integer_output_is_a_constant_as_in_pytorch():
    # As a node it would be sent its gradient cast to int64: 0.5 becoming 0, silently.
    x = gg.Tensor([1.2, 2.7], requires_grad=True)
    y = RoundToInt.apply(x)
    np.testing.assert_array_equal(y.data, [1, 3])
    assert y.dtype == np.int64 and not y.requires_grad and y.creator is None
    (y * 0.5 + x * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])  # through x * 3 only


class MaxWithColumn(gg.Function):
    """(each row's max, its column); the column has no gradient"""

    seen = []

    @staticmethod
    def forward(ctx, x):
        columns = np.argmax(x, axis=1)
        ctx.save_for_backward(columns)
        ctx.shape = x.shape
        return x[np.arange(len(x)), columns], columns

    @staticmethod
    def backward(ctx, grad_values, grad_columns):
        MaxWithColumn.seen.append(grad_columns)
        (columns,) = ctx.saved
        dx = np.zeros(ctx.shape)
        dx[np.arange(len(columns)), columns] = grad_values
        return dx


def test_integer_outputs_among_several_are_constants_and_get_zeros():
    MaxWithColumn.seen.clear()
    x = gg.Tensor([[1.0, 3.0], [4.0, 2.0]], requires_grad=True)
    values, columns = MaxWithColumn.apply(x)
    assert values.requires_grad and not columns.requires_grad and columns.creator is None
    (values * 2.0 + columns * 1.0).sum().backward()
    ((grad_columns,),) = [MaxWithColumn.seen]
    np.testing.assert_array_equal(grad_columns, [0, 0])  # as PyTorch gives
    np.testing.assert_array_equal(x.grad, [[0.0, 2.0], [2.0, 0.0]])
    assert columns.grad is None


class SavesAndFrees(gg.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x, x * 2)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        x, twice = ctx.saved
        return grad * twice


def test_save_for_backward_is_read_back_and_freed_after_backward():
    x = gg.Tensor(np.array([1.0, 3.0]), requires_grad=True)
    y = SavesAndFrees.apply(x)
    node = y.creator
    assert len(node.saved) == 2 and node.saved[0] is x.data
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 6.0])
    assert node.saved is None


# -- memory ---------------------------------------------------------------------------------------
def test_training_loop_does_not_grow_memory_and_leaves_no_leaf_locked(no_gc):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4, 32))
    Y = (rng.random((1, 32)) > 0.5).astype(np.float64)
    params = [gg.Tensor(rng.standard_normal((8, 4)) * 0.5, requires_grad=True),
              gg.Tensor(np.zeros((8, 1)), requires_grad=True),
              gg.Tensor(rng.standard_normal((1, 8)) * 0.5, requires_grad=True),
              gg.Tensor(np.zeros((1, 1)), requires_grad=True)]
    W1, b1, W2, b2 = params

    def step():
        A1 = gg.tanh(W1 @ X + b1)
        A2 = gg.sigmoid(W2 @ A1 + b2)
        J = -(Y * gg.log(A2) + (1 - Y) * gg.log(1 - A2)).mean()
        J.backward()
        for p in params:
            p.data -= 0.5 * p.grad  # in place: only allowed once backward has unlocked it
            p.grad = None
        return J.item()

    for _ in range(10):
        first = step()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        costs = [step() for _ in range(200)]
        assert gc.collect() == 0  # no step left a reference cycle behind
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # One step's graph holds several KB of arrays: 200 leaked graphs would be megabytes.
    assert grown < 64 * 1024, f"memory grew by {grown} bytes over 200 steps"
    assert costs[-1] < first
    assert all(p.data.flags.writeable for p in params)
    assert not any(id(p.data) in function._SHARED_PINS for p in params)


class _CollectorState(gg.Function):
    """Identity whose backward records whether the cyclic collector was running."""

    seen: list = []

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        _CollectorState.seen.append(gc.isenabled())
        if not np.all(np.isfinite(grad)):
            raise ValueError("no finite gradient")
        return grad



class _InterruptedPause:
    """The gc module as seen by the engine, with an interrupt (Ctrl-C) delivered as the
    pause returns: Python runs signal handlers when a call into C returns."""

    isenabled, enable = staticmethod(gc.isenabled), staticmethod(gc.enable)

    @staticmethod
    def disable():
        gc.disable()
        raise KeyboardInterrupt


def test_an_interrupt_as_the_walk_pauses_the_collector_leaves_it_running(monkeypatch):
    from graphgrad import engine

    x = gg.Tensor(np.ones(3), requires_grad=True)
    J = (x * 2.0).sum()
    monkeypatch.setattr(engine, "gc", _InterruptedPause)
    gc.enable()
    try:
        with pytest.raises(KeyboardInterrupt):
            J.backward()
        assert gc.isenabled()
    finally:
        gc.enable()

def test_the_walk_pauses_the_garbage_collector_and_restores_it():
    x = gg.Tensor(np.ones(3), requires_grad=True)
    _CollectorState.seen.clear()
    was_enabled = gc.isenabled()
    gc.enable()
    try:
        _CollectorState.apply(x).sum().backward()
        assert gc.isenabled()
        with pytest.raises(gg.BackwardError, match="no finite gradient"):
            _CollectorState.apply(x).backward(np.full(3, np.nan))
        assert gc.isenabled()  # restored after a failing backward too
        gc.disable()
        _CollectorState.apply(x).sum().backward()
        assert not gc.isenabled()  # the caller's choice is kept
    finally:
        if was_enabled:
            gc.enable()
    assert _CollectorState.seen == [False, False, False]
    np.testing.assert_array_equal(x.grad, [2.0, 2.0, 2.0])  # the failed backward added nothing


def test_a_pass_that_keeps_no_intermediate_grads_leaves_no_stale_ones():
    a = gg.Tensor(2.0, requires_grad=True, name="a")
    u = a * 3
    J = u * u
    J.backward(retain_graph=True)
    assert u.grad == 2 * u.data and u.creator.input_grads is not None
    a.grad = None
    K = J * 10
    K.backward(keep_intermediate_grads=False)
    assert a.grad == 10 * 2 * u.data * 3  # dK/da = 10 * 2u * 3
    # the first pass's dJ/du and its recorded steps are not this pass's: both are gone
    assert u.grad is None and J.grad is None
    assert u.creator.input_grads is None and u.creator.backward_order is None


class _FailsTheSecondTime(gg.Function):
    """y = 2x, whose backward raises when it runs a second time."""

    @staticmethod
    def forward(ctx, x):
        ctx.runs = 0
        return 2 * x

    @staticmethod
    def backward(ctx, grad):
        ctx.runs += 1
        if ctx.runs > 1:
            raise RuntimeError("out of luck")
        return 2 * grad


def test_a_failed_pass_leaves_no_step_records_of_its_own():
    """A pass that stops partway has no steps to show: the nodes it ran through forget them,
    as its leaves get no gradient; a node it never reached keeps an earlier pass's."""
    a = gg.Tensor(3.0, requires_grad=True, name="a")
    h = _FailsTheSecondTime.apply(a)
    u = h * h
    J = u * 5
    J.backward(retain_graph=True)
    first = J.creator.backward_pass
    assert a.grad == 5 * 2 * h.data * 2  # dJ/da = 5 * 2h * 2 = 120
    with pytest.raises(gg.BackwardError, match="_FailsTheSecondTime.backward failed"):
        J.backward(retain_graph=True)
    for node in (J.creator, u.creator):  # ran in the failed pass: their records are gone
        assert (node.backward_order, node.input_grads, node.backward_pass) == (None,) * 3
    assert h.creator.backward_pass == first  # failed before it recorded: the first pass's
    assert a.grad == 120  # the failed pass added nothing
    assert J.grad == 1 and u.grad == 5  # the .grad of what it finished stays, as in PyTorch

    # A pass that fails at its end, adding to a .grad of the wrong shape, also ran every node.
    w = gg.Tensor(np.array([1.0, 2.0]), requires_grad=True, name="w")
    K = (w * 3.0).sum()
    w.grad = np.zeros(3)
    with pytest.raises(gg.ShapeError, match="holds a .grad of shape"):
        K.backward()
    assert K.creator.input_grads is None and K.creator.inputs[0].creator.input_grads is None
    assert K.creator.backward_pass is None


class OneArrayTwoViews(gg.Function):
    """J = sum(x) + sum(y) for x (2, 3) and y (3, 2), written so that backward hands both
    views of one array it made (grad is 1 here)."""

    @staticmethod
    def forward(ctx, x, y):
        return np.sum(x) + np.sum(y)

    @staticmethod
    def backward(ctx, grad):
        ones = np.ones(6) * grad
        return ones.reshape(2, 3), ones.reshape(3, 2)


@pytest.mark.parametrize("keep", [True, False], ids=["steps recorded", "leaves only"])
def test_leaves_given_views_of_one_array_get_grads_of_their_own(keep):
    x = gg.Tensor(np.zeros((2, 3)), requires_grad=True)
    y = gg.Tensor(np.zeros((3, 2)), requires_grad=True)
    OneArrayTwoViews.apply(x, y).backward(keep_intermediate_grads=keep)
    x.grad[0, 0] = 5.0
    np.testing.assert_array_equal(y.grad, np.ones((3, 2)))  # not changed with x's
    np.testing.assert_array_equal(x.grad, [[5, 1, 1], [1, 1, 1]])
