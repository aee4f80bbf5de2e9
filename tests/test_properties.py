"""Property tests (hypothesis): the table's ops over random shapes and broadcastable shape
pairs (each row that is not elementwise at the shapes its row names), indexing by random
indices, random compositions of ops checked against finite differences in first and second
order (and freed without the garbage collector however they are finished), and algebraic
properties of gradients (linearity, a max's gradient sums to the upstream gradient even with
ties, softmax sums to 1 and its vjp with ones is 0)."""
import gc
import weakref

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_table import OPS, draw, leaves
from random_programs import SMOOTH_UNARY, programs, run_program

import graphgrad as gg
from graphgrad.tensor import _CONSTANTS

SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
SEEDS = st.integers(0, 2**32 - 1)
UNARY = [op for op in OPS if op.elementwise and len(op.shapes) == 1]
BINARY = [op for op in OPS if op.broadcasting]
RESHAPED = [op for op in OPS if op.random is not None]


def _check(fn, inputs):
    """gradcheck on random projections (falls back to the full diagnosis if they disagree)."""
    result = gg.gradcheck(fn, inputs, fast=True)
    assert result, str(result)


# -- the table's ops over random shapes -----------------------------------------------------------
@given(op=st.sampled_from(UNARY), shape=SHAPES, seed=SEEDS)
def test_elementwise_ops_over_random_shapes(op, shape, seed):
    arrays = draw(op, np.random.default_rng(seed), [shape])
    out = op.fn(*leaves(arrays))
    assert out.shape == shape
    np.testing.assert_allclose(out.data, op.ref(*arrays), rtol=1e-12, atol=1e-300)
    _check(op.fn, leaves(arrays))


@given(op=st.sampled_from(BINARY),
       shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                max_side=4),
       seed=SEEDS)
def test_broadcasting_ops_over_random_broadcastable_shapes(op, shapes, seed):
    arrays = draw(op, np.random.default_rng(seed), shapes.input_shapes)
    x, y = leaves(arrays)
    out = op.fn(x, y)
    assert out.shape == shapes.result_shape
    np.testing.assert_allclose(out.data, op.ref(*arrays), rtol=1e-12)
    _check(op.fn, leaves(arrays))


@pytest.mark.parametrize("op", RESHAPED, ids=str)
@given(data=st.data(), seed=SEEDS)
def test_the_other_ops_over_random_shapes(op, data, seed):
    """The rows that are not elementwise, at the shapes their row says they take (matmul's
    operands, the shape ops' axes): forward against numpy, first and second order against
    finite differences."""
    shapes = data.draw(op.random, label="shapes")
    arrays = draw(op, np.random.default_rng(seed), shapes)
    outs = op.fn(*leaves(arrays))
    wants = op.ref(*[a.copy() for a in arrays])
    if not isinstance(wants, tuple):  # split gives pieces; every other op one output
        outs, wants = (outs,), (wants,)
    assert len(outs) == len(wants)
    for out, want in zip(outs, wants):
        assert out.shape == np.shape(want)
        np.testing.assert_allclose(out.data, want, rtol=1e-12, atol=1e-12)
    _check(op.fn, leaves(arrays))
    if op.second_order:
        assert gg.gradgradcheck(op.fn, leaves(arrays), fast=True)


@st.composite
def shape_and_index(draw_):
    """A shape and an index of it: ints, slices (negative steps too), None and Ellipsis, or
    integer arrays (repeats, negative entries, broadcast against each other), or a mask."""
    shape = draw_(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    kind = draw_(st.sampled_from(["basic", "integer arrays", "mask"]))
    if kind == "basic":
        index = draw_(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    elif kind == "integer arrays":
        index = draw_(hnp.integer_array_indices(
            shape, result_shape=hnp.array_shapes(min_dims=0, max_dims=2, max_side=5)))
    else:
        index = draw_(hnp.arrays(bool, shape[:draw_(st.integers(1, len(shape)))]))
    return shape, index


@given(shape_index=shape_and_index(), seed=SEEDS)
def test_indexing_over_random_shapes_and_indices(shape_index, seed):
    shape, index = shape_index
    data = np.random.default_rng(seed).standard_normal(shape)
    x = gg.Tensor(data, requires_grad=True)
    y = x[index]
    np.testing.assert_array_equal(y.data, data[index])
    _check(lambda t: t[index], [x])
    assert gg.gradgradcheck(lambda t: t[index], [x], fast=True)


@st.composite
def shape_and_axis(draw_, min_dims=0):
    shape = draw_(hnp.array_shapes(min_dims=min_dims, max_dims=3, min_side=1, max_side=4))
    axis = draw_(st.one_of(st.none(), hnp.valid_tuple_axes(len(shape)),
                           st.integers(-len(shape), len(shape) - 1) if shape else st.none()))
    return shape, axis


REDUCTIONS = {
    "sum": (gg.sum, np.sum),
    "mean": (gg.mean, np.mean),
    "prod": (gg.prod, np.prod),  # the data holds one 0: its gradient with a zero
    "max": (gg.max, np.max),
    "min": (gg.min, np.min),
    "var": (gg.var, np.var),
    "std": (gg.std, np.std),
    "norm": (gg.norm, lambda x, axis, keepdims: np.sqrt(np.sum(x * x, axis, keepdims=keepdims))),
    "logsumexp": (gg.logsumexp, lambda x, axis, keepdims: np.log(
        np.sum(np.exp(x), axis=axis, keepdims=keepdims))),
}


@given(name=st.sampled_from(sorted(REDUCTIONS)), shape_axis=shape_and_axis(),
       keepdims=st.booleans(), seed=SEEDS)
def test_reductions_over_random_shapes_and_axes(name, shape_axis, keepdims, seed):
    shape, axis = shape_axis
    op, ref = REDUCTIONS[name]
    rng = np.random.default_rng(seed)
    # distinct values: max and min have no ties at the checked point
    data = rng.permutation(np.arange(int(np.prod(shape)), dtype=np.float64)).reshape(shape) / 4
    x = gg.Tensor(data, requires_grad=True)
    out = op(x, axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(out.data, ref(data, axis=axis, keepdims=keepdims), rtol=1e-12)
    _check(lambda t: op(t, axis=axis, keepdims=keepdims), [x])


@given(shape_axis=shape_and_axis(min_dims=1), scale=st.sampled_from([1.0, 1e3]), seed=SEEDS)
def test_softmax_sums_to_one_and_its_vjp_with_ones_is_zero(shape_axis, scale, seed):
    shape, _ = shape_axis
    axis = np.random.default_rng(seed).integers(-len(shape), len(shape))
    data = np.random.default_rng(seed).standard_normal(shape) * scale  # stable for large x
    x = gg.Tensor(data, requires_grad=True)
    y = gg.softmax(x, axis=int(axis))
    assert np.isfinite(y.data).all() and (y.data >= 0).all()
    np.testing.assert_allclose(y.data.sum(axis=int(axis)), 1.0, rtol=1e-12)
    (vjp,) = gg.grad(y, x, grad_outputs=np.ones(shape))
    np.testing.assert_allclose(vjp, 0.0, atol=1e-12)
    log_y = gg.log_softmax(x, axis=int(axis))
    assert np.isfinite(log_y.data).all()
    np.testing.assert_allclose(np.exp(log_y.data).sum(axis=int(axis)), 1.0, rtol=1e-12)
    if scale == 1.0:
        _check(lambda t: gg.softmax(t, axis=int(axis)), [x])
        _check(lambda t: gg.log_softmax(t, axis=int(axis)), [x])


@given(shape=SHAPES, shift=st.floats(-1e3, 1e3), seed=SEEDS)
def test_logsumexp_is_stable_and_shifts(shape, shift, seed):
    data = np.random.default_rng(seed).standard_normal(shape)
    base = gg.logsumexp(gg.Tensor(data)).item()
    shifted = gg.logsumexp(gg.Tensor(data + shift)).item()
    assert shifted == pytest.approx(base + shift, rel=1e-12, abs=1e-9)
    assert base == pytest.approx(np.log(np.exp(data).sum()), rel=1e-12)


# -- random compositions -------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:gradcheck passed, but input")  # inputs a program skips
@given(program=programs(), seed=SEEDS)
def test_random_compositions_match_finite_differences(program, seed):
    shape, n_inputs, steps = program
    rng = np.random.default_rng(seed)
    inputs = [gg.Tensor(rng.standard_normal(shape), requires_grad=True) for _ in range(n_inputs)]
    out = run_program(steps, *inputs)
    assert out.shape == shape and np.isfinite(out.data).all()
    _check(lambda *xs: run_program(steps, *xs), inputs)


@given(program=programs(), seed=SEEDS)
def test_backward_and_grad_agree_on_random_compositions(program, seed):
    shape, n_inputs, steps = program
    rng = np.random.default_rng(seed)
    inputs = [gg.Tensor(rng.standard_normal(shape), requires_grad=True) for _ in range(n_inputs)]
    upstream = rng.standard_normal(shape)
    out = run_program(steps, *inputs)
    grads = gg.grad(out, inputs, grad_outputs=upstream, retain_graph=True, allow_unused=True)
    out.backward(upstream)
    for x, g in zip(inputs, grads):
        if g is None:
            assert x.grad is None
        else:
            np.testing.assert_allclose(x.grad, g, rtol=1e-12, atol=1e-300)


@given(program=programs(), seed=SEEDS)
def test_second_derivatives_of_random_compositions_match_finite_differences(program, seed):
    """``create_graph=True`` runs every backward body of the composition on Tensors: the
    gradient of that gradient agrees with finite differences of the first-order one."""
    shape, n_inputs, steps = program
    rng = np.random.default_rng(seed)
    inputs = [gg.Tensor(rng.standard_normal(shape), requires_grad=True) for _ in range(n_inputs)]
    result = gg.gradgradcheck(lambda *xs: run_program(steps, *xs), inputs, fast=True)
    assert result, str(result)


def _nodes_and_tensors(root):
    """Every node and tensor of root's graph, each once (through the public graph), but the
    number constants graphgrad keeps for reuse (the 1.0 of ``1.0 + x``)."""
    found, stack = {}, [root]
    while stack:
        t = stack.pop()
        if id(t) in found or t in _CONSTANTS:
            continue
        found[id(t)] = t
        if t.creator is not None:
            found.setdefault(id(t.creator), t.creator)
            stack.extend(t.creator.inputs)
    return list(found.values())


FINISHES = ["backward", "backward, leaves only", "backward twice", "grad",
            "grad with create_graph", "drop"]


@given(program=programs(), finish=st.sampled_from(FINISHES), seed=SEEDS)
def test_random_compositions_are_freed_without_the_garbage_collector(program, finish, seed):
    """No reference cycles, whichever way a graph is finished: dropping the output and the
    gradients frees every node and every intermediate tensor at once."""
    shape, n_inputs, steps = program
    rng = np.random.default_rng(seed)
    inputs = [gg.Tensor(rng.standard_normal(shape), requires_grad=True) for _ in range(n_inputs)]
    upstream = rng.standard_normal(shape)
    gc.disable()
    try:
        # a multi-output node too
        out = gg.split(run_program(steps, *inputs) * 1.0, [1], axis=-1)[0]
        refs = [weakref.ref(x) for x in _nodes_and_tensors(out) if all(x is not t for t in inputs)]
        seed_grad = upstream[..., :1]
        grads = None
        if finish == "backward":
            out.backward(seed_grad)
        elif finish == "backward, leaves only":
            out.backward(seed_grad, keep_intermediate_grads=False)
        elif finish == "backward twice":
            out.backward(seed_grad, retain_graph=True)
            out.backward(seed_grad)
        elif finish == "grad":
            grads = gg.grad(out, inputs, seed_grad, allow_unused=True)
        elif finish == "grad with create_graph":
            grads = gg.grad(out, inputs, seed_grad, create_graph=True, allow_unused=True)
            if any(g is not None and g.requires_grad for g in grads):
                total = sum((g * g).sum() for g in grads if g is not None and g.requires_grad)
                total.backward()
                refs += [weakref.ref(x) for x in _nodes_and_tensors(total)
                         if all(x is not t for t in inputs)]
                del total
        del out, grads
        alive = [type(ref()).__name__ for ref in refs if ref() is not None]
    finally:
        gc.enable()
    assert not alive


@given(program=programs(), seed=SEEDS)
def test_float32_stays_float32_through_random_compositions(program, seed):
    """Every value and every gradient of the graph is float32 (constants such as the 1.0 of
    ``1.0 + x`` take the tensor's dtype), and agrees with the same program in float64."""
    shape, n_inputs, steps = program
    data = [np.random.default_rng(seed + k).standard_normal(shape) for k in range(n_inputs)]
    grads = {}
    for dtype in (np.float32, np.float64):
        inputs = [gg.Tensor(d.astype(dtype), requires_grad=True) for d in data]
        out = run_program(steps, *inputs)
        out.backward(np.ones(shape, dtype=dtype))
        tensors = [x for x in _nodes_and_tensors(out) if isinstance(x, gg.Tensor)]
        assert {t.dtype for t in tensors} == {np.dtype(dtype)}
        assert {t.grad.dtype for t in tensors if t.grad is not None} == {np.dtype(dtype)}
        grads[dtype] = [x.grad for x in inputs]
    for g32, g64 in zip(grads[np.float32], grads[np.float64]):
        if g64 is None:
            assert g32 is None
        else:
            scale = max(1.0, float(np.abs(g64).max()))  # cancellation leaves float32 residue
            np.testing.assert_allclose(g32, g64, rtol=2e-3, atol=1e-4 * scale)


# -- algebraic properties ------------------------------------------------------------------------
@given(f=st.sampled_from(sorted(SMOOTH_UNARY)), g=st.sampled_from(sorted(SMOOTH_UNARY)),
       shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), seed=SEEDS)
def test_gradient_of_a_sum_is_the_sum_of_gradients(f, g, shape, seed):
    data = np.random.default_rng(seed).standard_normal(shape)
    fn, gn = SMOOTH_UNARY[f], SMOOTH_UNARY[g]

    def gradient(loss):
        x = gg.Tensor(data, requires_grad=True)
        loss(x).backward()
        return x.grad

    both = gradient(lambda x: (fn(x) + gn(x)).sum())
    separate = gradient(lambda x: fn(x).sum()) + gradient(lambda x: gn(x).sum())
    np.testing.assert_allclose(both, separate, rtol=1e-10, atol=1e-12)


@given(f=st.sampled_from(sorted(SMOOTH_UNARY)),
       shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
       a=st.floats(-3, 3), b=st.floats(-3, 3), seed=SEEDS)
def test_vector_jacobian_product_is_linear_in_the_upstream_gradient(f, shape, a, b, seed):
    rng = np.random.default_rng(seed)
    x = gg.Tensor(rng.standard_normal(shape), requires_grad=True)
    u1, u2 = rng.standard_normal(shape), rng.standard_normal(shape)
    y = SMOOTH_UNARY[f](x)
    (g1,) = gg.grad(y, x, grad_outputs=u1, retain_graph=True)
    (g2,) = gg.grad(y, x, grad_outputs=u2, retain_graph=True)
    (g12,) = gg.grad(y, x, grad_outputs=a * u1 + b * u2)
    np.testing.assert_allclose(g12, a * g1 + b * g2, rtol=1e-9, atol=1e-9)


@given(reduce=st.sampled_from([gg.max, gg.min]), shape_axis=shape_and_axis(),
       keepdims=st.booleans(), seed=SEEDS)
def test_max_and_min_gradients_sum_to_the_upstream_gradient_with_ties(reduce, shape_axis,
                                                                      keepdims, seed):
    shape, axis = shape_axis
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 3, shape).astype(np.float64)  # few values: many ties
    x = gg.Tensor(data, requires_grad=True)
    y = reduce(x, axis=axis, keepdims=keepdims)
    upstream = rng.uniform(0.5, 2.0, y.shape)
    y.backward(upstream)
    reduced = tuple(range(len(shape))) if axis is None else axis
    per_slice = x.grad.sum(axis=reduced, keepdims=keepdims)
    np.testing.assert_allclose(per_slice, upstream, rtol=1e-12)
    extreme = np.max if reduce is gg.max else np.min
    at_extreme = data == extreme(data, axis=reduced, keepdims=True)
    assert (x.grad[~at_extreme] == 0).all()
    assert (x.grad[at_extreme] > 0).all()  # tied elements share it, none is left out


@given(fn=st.sampled_from([gg.maximum, gg.minimum]), shape=SHAPES, seed=SEEDS)
def test_maximum_and_minimum_gradients_sum_to_the_upstream_gradient_with_ties(fn, shape, seed):
    rng = np.random.default_rng(seed)
    x = gg.Tensor(rng.integers(0, 2, shape).astype(np.float64), requires_grad=True)
    y = gg.Tensor(rng.integers(0, 2, shape).astype(np.float64), requires_grad=True)
    upstream = rng.standard_normal(shape)
    fn(x, y).backward(upstream)
    np.testing.assert_allclose(x.grad + y.grad, upstream, rtol=1e-12)
    ties = x.data == y.data
    np.testing.assert_allclose(x.grad[ties], upstream[ties] / 2, rtol=1e-12)


@given(n=st.integers(1, 5), index=st.lists(st.integers(0, 4), min_size=1, max_size=8),
       seed=SEEDS)
def test_repeated_indices_accumulate(n, index, seed):
    index = [i % n for i in index]
    rng = np.random.default_rng(seed)
    x = gg.Tensor(rng.standard_normal((n, 2)), requires_grad=True)
    upstream = rng.standard_normal((len(index), 2))
    x[index].backward(upstream)
    expected = np.zeros((n, 2))
    for row, i in enumerate(index):
        expected[i] += upstream[row]
    np.testing.assert_allclose(x.grad, expected, rtol=1e-12)


@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), seed=SEEDS)
def test_boolean_mask_gradient_is_the_upstream_gradient_scattered_back(shape, seed):
    rng = np.random.default_rng(seed)
    data = rng.standard_normal(shape)
    mask = data > 0
    x = gg.Tensor(data, requires_grad=True)
    y = x[mask]
    upstream = rng.standard_normal(y.shape)
    y.backward(upstream)
    expected = np.zeros(shape)
    expected[mask] = upstream
    np.testing.assert_array_equal(x.grad, expected)


@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), seed=SEEDS)
def test_float32_and_float64_gradients_agree(shape, seed):
    data = np.random.default_rng(seed).standard_normal(shape)
    grads = {}
    for dtype in (np.float32, np.float64):
        x = gg.Tensor(data.astype(dtype), requires_grad=True)
        J = (gg.tanh(x) * gg.sigmoid(x * 2.0) + gg.softmax(x, axis=-1) ** 2).sum()
        J.backward()
        assert x.grad.dtype == dtype
        grads[dtype] = x.grad
    np.testing.assert_allclose(grads[np.float32], grads[np.float64], rtol=1e-4, atol=1e-5)
