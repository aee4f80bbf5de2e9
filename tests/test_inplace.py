"""In-place writes never give a silently wrong gradient: a leaf's array is read-only while a
recorded op needs it, op outputs and intermediates' grads are read-only, and ``t[...] = v`` is
refused."""
import gc
import sys
import threading

import numpy as np
import pytest
from operation_counts import growth, lines_run

import graphgrad as gg
from graphgrad import function


def _writable(t):
    return t.data.flags.writeable


@pytest.fixture(autouse=True)
def _earlier_garbage_collected():
    """Tests here check that the pin tables are empty once their own graphs are done. A graph
    an earlier test left in a reference cycle (an exception kept with its traceback) holds its
    pins until the garbage collector frees it: collected first, it cannot count here."""
    gc.collect()


WRITES = {
    "augmented": lambda a: a.__isub__(1.0),
    "item": lambda a: a.__setitem__((0, 0), 5.0),
    "slice": lambda a: a.__setitem__(slice(None), 0.0),
    "ufunc out": lambda a: np.multiply(a, 2.0, out=a),
    "fill": lambda a: a.fill(3.0),
}


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_writing_a_leaf_saved_by_an_op_before_backward_is_refused(write):
    W = gg.Tensor(np.ones((2, 2)), requires_grad=True)
    J = (W * W).sum()  # Mul saved W's array for backward
    with pytest.raises(ValueError, match="read-only"):
        write(W.data)
    np.testing.assert_array_equal(W.data, np.ones((2, 2)))
    J.backward()
    np.testing.assert_array_equal(W.grad, np.full((2, 2), 2.0))  # the right gradient
    write(W.data)  # and afterwards the array is the user's again
    assert not np.array_equal(W.data, np.ones((2, 2)))


def test_the_users_array_is_protected_too():
    array = np.ones(3)
    x = gg.Tensor(array, requires_grad=True)
    J = (x * x).sum()
    with pytest.raises(ValueError, match="read-only"):
        array[0] = 7.0
    J.backward()
    array[0] = 7.0
    assert x.data[0] == 7.0


def test_a_base_array_of_a_leaf_view_is_protected():
    base = np.ones((3, 3))
    x = gg.Tensor(base[:2], requires_grad=True)
    J = (x * x).sum()
    with pytest.raises(ValueError, match="read-only"):
        base[0, 0] = 7.0
    J.backward()
    np.testing.assert_array_equal(x.grad, np.full((2, 3), 2.0))
    assert base.flags.writeable and x.data.flags.writeable


VIEW_OPS = {
    "reshape": lambda x: x.reshape((4,)),
    "transpose": lambda x: x.T,
    "slice": lambda x: x[1:].reshape((2,)),
    "split": lambda x: gg.split(x, 2, axis=0)[0].reshape((2,)),
}


@pytest.mark.parametrize("view", VIEW_OPS.values(), ids=VIEW_OPS.keys())
def test_a_leaf_seen_through_a_view_op_is_protected(view):
    """The view op saves nothing, but its output shares the leaf's memory, and the op after
    it saved that output: writing the leaf would change the gradient of w."""
    x = gg.Tensor(np.arange(4.0).reshape(2, 2), requires_grad=True)
    y = view(x)
    w = gg.Tensor(np.ones(y.shape), requires_grad=True)
    J = (y * w).sum()
    expected = y.data.copy()
    with pytest.raises(ValueError, match="read-only"):
        x.data[0, 0] = 5.0
    J.backward()
    np.testing.assert_array_equal(w.grad, expected)
    x.data[0, 0] = 5.0  # the leaf is the user's again
    assert x.data[0, 0] == 5.0


def test_a_parameter_used_as_w_transpose_is_protected():
    """Z = X @ W.T saves W.T, a view of W's array: W stays read-only until backward."""
    W = gg.Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    X = gg.Tensor(np.ones((4, 2)), requires_grad=True)
    J = (X @ W.T).sum()
    with pytest.raises(ValueError, match="read-only"):
        W.data[0, 0] = 100.0
    J.backward()
    np.testing.assert_array_equal(X.grad, np.tile(W.data.sum(axis=0), (4, 1)))
    assert W.data.flags.writeable


def test_data_that_needs_no_grad_is_protected_as_well():
    """X in Z = W @ X is saved for dW = dZ X^T: changing it would change W's gradient. The
    same holds for a raw numpy array met in an op."""
    X = gg.Tensor(np.ones((3, 2)))
    raw = np.ones((2, 3))
    W = gg.Tensor(np.ones((1, 3)), requires_grad=True)
    J = (W @ X).sum() + (W * raw).sum()
    for array in (X.data, raw):
        with pytest.raises(ValueError, match="read-only"):
            array[0, 0] = 100.0
    J.backward()
    np.testing.assert_array_equal(W.grad, np.full((1, 3), 4.0))
    assert X.data.flags.writeable and raw.flags.writeable


def test_assigning_a_new_array_to_a_leaf_is_always_allowed():
    W = gg.Tensor(np.ones(2), requires_grad=True)
    J = (W * 3.0).sum()
    W.data = W.data - 1.0  # a new array: the old one, saved by the graph, is untouched
    J.backward()
    np.testing.assert_array_equal(W.grad, [3.0, 3.0])
    np.testing.assert_array_equal(W.data, [0.0, 0.0])


def test_dropping_a_graph_that_was_never_backpropagated_unlocks_the_leaf():
    W = gg.Tensor(np.ones(2), requires_grad=True)
    J = (W * W).sum()
    assert not _writable(W)
    del J
    assert _writable(W)


def test_a_failed_backward_leaves_the_leaf_locked_until_the_graph_is_dropped():
    class Broken(gg.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            raise RuntimeError("broken backward")

    W = gg.Tensor(np.ones(2), requires_grad=True)
    J = Broken.apply(W).sum()
    with pytest.raises(gg.BackwardError, match="Broken.backward.*broken backward"):
        J.backward()
    del J
    assert _writable(W)


def test_a_failed_backward_unlocks_what_it_ran_through_and_says_so_when_run_again():
    """W is saved by the Mul that backward ran through before the failure: its saved values
    are freed, so W unlocks then, not when the graph is dropped."""
    class Broken(gg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            raise RuntimeError("broken backward")

    X = gg.Tensor(np.ones((3, 2)), requires_grad=True)
    W = gg.Tensor(np.ones(2), requires_grad=True)
    J = (Broken.apply(X) * W).sum()
    with pytest.raises(gg.BackwardError, match="Broken.backward.*broken backward"):
        J.backward()
    assert _writable(W) and not _writable(X)  # Broken never ran: X stays saved
    with pytest.raises(gg.BackwardError, match=r"through Sum a second time: the first "
                       r"backward freed the values it saved \(or failed after running "
                       r"through it\)"):
        J.backward()
    del J
    assert _writable(X)


def test_retain_graph_keeps_the_leaf_locked_until_the_last_backward():
    W = gg.Tensor(np.ones(2), requires_grad=True)
    J = (W * W).sum()
    J.backward(retain_graph=True)
    assert not _writable(W)
    J.backward()
    assert _writable(W)


def test_gg_grad_unlocks_like_backward():
    W = gg.Tensor(np.ones(2), requires_grad=True)
    J = (W * W).sum()
    gg.grad(J, W, retain_graph=True)
    assert not _writable(W)
    gg.grad(J, W)
    assert _writable(W)


def test_two_graphs_sharing_a_leaf_keep_it_locked_until_both_are_done():
    W = gg.Tensor(np.ones(2), requires_grad=True)
    J1, J2 = (W * 2.0).sum(), (W * W).sum()
    J1.backward()
    assert not _writable(W)
    J2.backward()
    assert _writable(W)
    np.testing.assert_array_equal(W.grad, [4.0, 4.0])

    J1, J2 = (W * 2.0).sum(), (W * W).sum()
    del J1
    assert not _writable(W)
    J2.backward()
    assert _writable(W)

    J1, J2 = (W * 2.0).sum(), (W * W).sum()
    J2.backward()
    del J1
    assert _writable(W)
    assert id(W.data) not in function._SHARED_PINS


def test_a_leaf_used_twice_by_one_op_is_unlocked_once():
    W = gg.Tensor(np.ones(2), requires_grad=True)
    (W * W).sum().backward()
    assert _writable(W)


def test_a_graph_freed_while_its_thread_holds_the_pin_lock_still_unlocks():
    """A garbage collection can start inside the pinning code (any allocation may start one)
    and free a pinned graph caught in a reference cycle: its release, on the same thread,
    must not wait for the lock that thread holds."""
    W = gg.Tensor(np.ones((2, 2)), requires_grad=True)
    graphs = [W * W]
    released = threading.Event()

    def free_while_holding_the_lock():
        with function._PINS_LOCK:
            graphs.clear()  # the node's pins are released here
            released.set()

    worker = threading.Thread(target=free_while_holding_the_lock, daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert released.is_set(), "releasing the pins waited for a lock its own thread held"
    assert W.data.flags.writeable


def test_graphs_built_on_several_threads_share_leaves_and_unlock_them_all():
    """Threads record, backpropagate and drop graphs on the same leaves (two views of one
    base among them) with thread switches forced often: every gradient is right, and at the
    end every array is writeable and no pin is left."""
    base = np.ones((4, 2))
    top = gg.Tensor(base[:2], requires_grad=True, name="top")
    bottom = gg.Tensor(base[2:], requires_grad=True, name="bottom")
    W = gg.Tensor(np.full((2, 2), 3.0), requires_grad=True, name="W")
    wrong = []

    def work(seed):
        rng = np.random.default_rng(seed)
        for _ in range(150):
            x = top if rng.random() < 0.5 else bottom
            J = (x * W).sum() + (W * W.T).sum()
            if rng.random() < 0.3:
                del J  # dropped without backward
                continue
            dx, dW = gg.grad(J, [x, W])
            if not (np.array_equal(dx, np.full((2, 2), 3.0))
                    and np.array_equal(dW, 1.0 + 2 * np.full((2, 2), 3.0))):
                wrong.append((dx, dW))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=work, args=(seed,)) for seed in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        sys.setswitchinterval(interval)
    assert not any(thread.is_alive() for thread in threads)
    assert not wrong
    assert base.flags.writeable and _writable(top) and _writable(bottom) and _writable(W)
    arrays = {id(a) for a in (base, top.data, bottom.data, W.data)}
    assert not arrays & function._SHARED_PINS.keys()
    assert not function._WAITING_VIEWS


def test_a_users_read_only_array_stays_read_only():
    array = np.ones(2)
    array.setflags(write=False)
    W = gg.Tensor(array, requires_grad=True)
    (W * W).sum().backward()
    assert not array.flags.writeable

    J1, J2 = (W * 2.0).sum(), (W * 3.0).sum()  # two graphs on it, released in either order
    J1.backward()
    del J2
    assert not array.flags.writeable
    assert id(array) not in function._SHARED_PINS


def test_cached_number_constants_are_never_pinned():
    W = gg.Tensor(np.ones(2), requires_grad=True)
    half = (W * 0.5).creator.inputs[1]  # the cached constant 0.5 that Mul saved
    J = (W * 0.5).sum() + (W * 0.5).sum()
    assert not _writable(W)
    assert id(half.data) not in function._SHARED_PINS
    J.backward()
    assert _writable(W)
    np.testing.assert_array_equal(W.grad, [1.0, 1.0])


def test_an_array_pinned_by_several_nodes_unlocks_with_the_last_in_any_order():
    W = gg.Tensor(np.ones(2), requires_grad=True)
    graphs = [(W * float(k)).sum() for k in range(1, 5)]
    for J in (graphs[1], graphs[3], graphs[0]):
        J.backward()
        assert not _writable(W)
    graphs[2].backward()
    assert _writable(W)
    np.testing.assert_array_equal(W.grad, [10.0, 10.0])
    assert not function._SHARED_PINS


def test_a_view_released_while_its_base_is_pinned_by_another_graph_unlocks_with_the_base():
    base = np.ones((4, 2))
    top = gg.Tensor(base[:2], requires_grad=True)
    bottom = gg.Tensor(base[2:], requires_grad=True)
    J_top, J_bottom = (top * 2.0).sum(), (bottom * 3.0).sum()
    J_top.backward()  # top is done with, but numpy keeps a view of a locked base locked
    assert not base.flags.writeable and not _writable(top)
    J_bottom.backward()
    assert base.flags.writeable and _writable(top) and _writable(bottom)
    np.testing.assert_array_equal(top.grad, np.full((2, 2), 2.0))
    assert not function._SHARED_PINS and not function._WAITING_VIEWS

    J_top, J_bottom = (top * 2.0).sum(), (bottom * 3.0).sum()
    del J_top  # the same when the first graph is dropped instead
    J_top_again = (top * 4.0).sum()  # and pinned again while it waits for its base
    J_bottom.backward()
    assert not _writable(top)
    J_top_again.backward()
    assert base.flags.writeable and _writable(top) and _writable(bottom)
    assert not function._SHARED_PINS and not function._WAITING_VIEWS


def _rows_backpropagated_one_by_one(n):
    """n leaves, the rows of one array, each in a graph of its own, backpropagated in turn:
    every release but the last leaves a row waiting for the base the others still lock."""
    base = np.ones((n, 2))
    rows = [gg.Tensor(base[i], requires_grad=True) for i in range(n)]
    graphs = [(row * float(i)).sum() for i, row in enumerate(rows)]
    for J in graphs:
        J.backward()
    return base, rows


def test_many_views_waiting_for_their_base_are_released_in_linear_work():
    base, rows = _rows_backpropagated_one_by_one(5)
    assert base.flags.writeable and all(_writable(row) for row in rows)
    assert [row.grad.tolist() for row in rows] == [[float(i)] * 2 for i in range(5)]
    assert not function._SHARED_PINS and not function._WAITING_VIEWS

    # Every release had tried every waiting view again: 16 times the work for 4 times the rows.
    assert growth(lambda n: lines_run(lambda: _rows_backpropagated_one_by_one(n), function),
                  100) < 5


def test_ops_under_no_grad_do_not_lock():
    W = gg.Tensor(np.ones(2), requires_grad=True)
    with gg.no_grad():
        y = W * W
    W.data -= 1.0
    np.testing.assert_array_equal(y.data, [1.0, 1.0])


@pytest.mark.parametrize("make", [lambda W: W * 2.0, lambda W: W.reshape(4), lambda W: W.T,
                                  lambda W: W[0], lambda W: gg.split(W, 2)[0]],
                         ids=["mul", "reshape-view", "transpose-view", "index-view", "split"])
def test_op_outputs_are_read_only_for_good(make):
    W = gg.Tensor(np.ones((2, 2)), requires_grad=True)
    y = make(W)
    y.sum().backward()
    with pytest.raises(ValueError, match="read-only"):
        y.data[...] = 0.0
    assert W.data.flags.writeable


def test_setitem_is_refused_with_the_alternatives():
    t = gg.Tensor(np.ones(3), requires_grad=True, name="t")
    with pytest.raises(gg.InplaceError, match=r"'t'.*gg\.where.*t\.data = ") as info:
        t[0] = 5.0
    assert isinstance(info.value, gg.GraphgradError)
    np.testing.assert_array_equal(t.data, np.ones(3))


def test_an_intermediates_grad_is_read_only_and_a_leafs_may_change_in_place():
    W = gg.Tensor(np.ones(2), requires_grad=True)
    h = W * 2.0
    (h * h).sum().backward()
    with pytest.raises(ValueError, match="read-only"):
        h.grad += 1.0
    W.grad += 1.0  # PyTorch's p.grad += ...; the course's np.clip(dW, ..., out=dW)
    np.testing.assert_array_equal(W.grad, [9.0, 9.0])
    W.grad = W.grad * 0.5  # replacing a grad is fine
    np.testing.assert_array_equal(W.grad, [4.5, 4.5])


def test_writing_a_leaf_then_reading_its_gradient_is_right_after_a_training_step():
    W = gg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    for _ in range(3):
        J = (W * W).sum()
        J.backward()
        W.data -= 0.25 * W.grad  # W <- W - lr * 2W = W / 2
        W.grad = None
    np.testing.assert_allclose(W.data, [0.125, 0.25])


# Arrays an op keeps besides its inputs: where's condition and an index. Changing the caller's
# array after the op must not change the gradient.
@pytest.mark.parametrize("make_mask", [lambda m: m, lambda m: gg.Tensor(m)],
                         ids=["ndarray", "tensor"])
def test_changing_a_where_condition_after_the_op_does_not_change_the_gradient(make_mask):
    mask = np.array([True, False])
    condition = make_mask(mask)
    x = gg.Tensor([1.0, 2.0], requires_grad=True)
    y = gg.Tensor([3.0, 4.0], requires_grad=True)
    z = gg.where(condition, x, y)
    (condition.data if isinstance(condition, gg.Tensor) else condition)[:] = [False, True]
    z.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 0.0])
    np.testing.assert_array_equal(y.grad, [0.0, 1.0])


def test_changing_a_comparison_used_as_a_condition_does_not_change_the_gradient():
    x = gg.Tensor([1.0, -2.0], requires_grad=True)
    positive = x > 0
    z = gg.where(positive, x, 0.0)
    positive.data[...] = True
    z.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 0.0])


@pytest.mark.parametrize("index, changed, expected", [
    (np.array([0, 0, 1]), 2, [3.0, 3.0, 0.0]),
    (np.array([True, False, True]), False, [1.0, 0.0, 2.0]),
    ((np.array([0, 2]),), 1, [1.0, 0.0, 2.0]),
], ids=["int-array", "mask", "tuple"])
def test_changing_an_index_array_after_the_op_does_not_change_the_gradient(index, changed,
                                                                             expected):
    x = gg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    z = x[index]
    (index[0] if isinstance(index, tuple) else index)[...] = changed
    z.backward(np.arange(1.0, 1.0 + z.size).reshape(z.shape))
    np.testing.assert_array_equal(x.grad, expected)
