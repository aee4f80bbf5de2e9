"""The in-place guarantee over random programs: whatever a user writes into leaf arrays between
building graphs and backpropagating them, each graph's gradients are those of the values it was
built from (a write is refused, or it cannot reach the graph), and once every graph is done
each array is exactly as writeable as it was before."""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import graphgrad as gg
from graphgrad import function
from graphgrad.nn.layers import linear

# Each op takes one or two 4x4 tensors and returns a 4x4 tensor. Several look into their
# input's memory (transpose, reshape, slices, split) or save it for backward (mul, matmul).
UNARY = {
    "tanh": gg.tanh,
    "transpose": lambda x: x.T,
    "reshape": lambda x: x.reshape(2, 8).reshape(4, 4),
    "slices": lambda x: gg.concatenate([x[2:], x[:2]], axis=0),
    "half": lambda x: x * 0.5,
    "swapaxes": lambda x: gg.swapaxes(x, 0, 1),
    "expand_squeeze": lambda x: gg.squeeze(gg.expand_dims(x, 0), 0),
    "broadcast_row": lambda x: gg.broadcast_to(x[1:2], (4, 4)) * x,
    "gather": lambda x: x[[3, 1, 1, 0]],
    "pad": lambda x: gg.pad(x[1:3], ((1, 1), (0, 0))),
}
BINARY = {
    "mul": lambda x, y: x * y,
    "add": lambda x, y: x + y,
    "matmul": lambda x, y: x @ y,
    "maximum": gg.maximum,
    "split": lambda x, y: gg.concatenate([gg.split(x, 2)[0] * y[:2], gg.split(x, 2)[1]]),
    "where": lambda x, y: gg.where(x.data > 0, x, y),
    "linear": linear,
    "stack": lambda x, y: gg.stack([x, y.T]).sum(axis=0),
}
step = st.one_of(
    st.tuples(st.sampled_from(sorted(UNARY)), st.integers(0, 40)),
    st.tuples(st.sampled_from(sorted(BINARY)), st.integers(0, 40), st.integers(0, 40)),
)
graph = st.tuples(st.lists(step, min_size=1, max_size=6),
                  st.sampled_from(["backward", "retain twice", "grad", "second order", "drop"]),
                  st.sampled_from(["write", "new array", "nothing"]))


def _leaves():
    """Two views of one base, a transposed view, an array of its own, data that needs no grad,
    and an array the user made read-only. The views do not overlap (see the README on
    overlapping views)."""
    rng = np.random.default_rng(0)
    base = rng.uniform(-1, 1, (8, 4))
    read_only = rng.uniform(-1, 1, (4, 4))
    read_only.setflags(write=False)
    leaves = [gg.Tensor(base[:4], requires_grad=True, name="top"),
              gg.Tensor(base[4:], requires_grad=True, name="bottom"),
              gg.Tensor(rng.uniform(-1, 1, (4, 4)).T, requires_grad=True, name="transposed"),
              gg.Tensor(rng.uniform(-1, 1, (4, 4)), requires_grad=True, name="own"),
              gg.Tensor(rng.uniform(-1, 1, (4, 4)), name="data"),
              gg.Tensor(read_only, requires_grad=True, name="read_only")]
    return base, leaves


def _run(program, leaves):
    values = list(leaves)
    for name, *picks in program:
        operands = [values[i % len(values)] for i in picks]
        values.append((UNARY[name] if len(picks) == 1 else BINARY[name])(*operands))
    return values[-1].sum()


def _expected_grads(program, leaves, finish):
    copies = [gg.Tensor(t.data.copy(), requires_grad=t.requires_grad) for t in leaves]
    J = _run(program, copies)
    wanted = [c for c in copies if c.requires_grad]
    if not J.requires_grad:
        return [None] * len(wanted)
    if finish == "second order":
        return list(_second_order(J, wanted))
    return list(gg.grad(J, wanted, allow_unused=True))


def _write_everywhere(arrays, rng):
    for array in arrays:
        try:
            array += rng.uniform(-0.5, 0.5)
        except ValueError:  # "assignment destination is read-only": a pinned array
            pass


def _second_order(J, leaves):
    """d/dx of sum(dJ/dx * dJ/dx) through gg.grad(create_graph=True), as arrays."""
    grads = gg.grad(J, leaves, create_graph=True, allow_unused=True)
    terms = [(g * g).sum() for g in grads if g is not None and g.requires_grad]
    if not terms:
        return [None] * len(leaves)
    return gg.grad(sum(terms[1:], terms[0]), leaves, allow_unused=True)


@given(graphs=st.lists(graph, min_size=1, max_size=3), seed=st.integers(0, 2**16))
def test_writes_between_recording_and_backward_never_change_a_gradient(graphs, seed):
    rng = np.random.default_rng(seed)
    base, leaves = _leaves()
    arrays = [base, *(t.data for t in leaves)]  # the arrays as first given, to check at the end
    writeable_before = [a.flags.writeable for a in arrays]
    with_grad = [t for t in leaves if t.requires_grad]
    built = []
    for program, finish, then in graphs:
        # With it, the count of arrays so far: each replacement adds one, and a graph built
        # before a replacement may refuse second order.
        built.append((_run(program, leaves), _expected_grads(program, leaves, finish), finish,
                      len(arrays)))
        if then == "write":  # into every array, whatever it is
            _write_everywhere([*arrays, *(t.data for t in leaves)], rng)
        elif then == "new array":  # always allowed: the graph keeps the old one
            leaf = with_grad[seed % len(with_grad)]
            leaf.data = leaf.data + 1.0
            arrays.append(leaf.data)

    for J, expected, finish, arrays_when_built in built:
        data_replaced = len(arrays) > arrays_when_built
        if finish == "drop" or not J.requires_grad:
            continue
        if finish == "grad":
            got = gg.grad(J, with_grad, allow_unused=True)
        elif finish == "second order":
            try:
                got = _second_order(J, with_grad)
            except gg.GraphgradError as exc:  # refused, never a wrong value
                assert data_replaced and "was replaced" in str(exc)
                continue
        else:
            for t in with_grad:
                t.grad = None
            if finish == "retain twice":
                J.backward(retain_graph=True)
                _write_everywhere(arrays, rng)
                for t in with_grad:
                    t.grad = None
            J.backward()
            got = [t.grad for t in with_grad]
        for t, g, want in zip(with_grad, got, expected):
            if want is None:
                assert g is None, t.name
            else:
                np.testing.assert_allclose(g, want, rtol=1e-12, atol=1e-12, err_msg=t.name)
    del built, J
    assert [a.flags.writeable for a in arrays[:len(writeable_before)]] == writeable_before
    assert all(a.flags.writeable for a in arrays[len(writeable_before):])
    ids = {id(a) for a in arrays}  # other examples' graphs may still be alive (a failure's)
    assert not ids & function._SHARED_PINS.keys()
    assert not any(id(ref()) in ids for views in function._WAITING_VIEWS.values()
                   for ref in views)
