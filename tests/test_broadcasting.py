"""numpy broadcasting in forward, undone in backward: every broadcasting op of the table over
the broadcasting pairs of issue 2 (both orders, scalars with arrays), Python numbers and numpy
arrays on either side of an operator, and the one `unbroadcast` helper."""
import operator

import numpy as np
import pytest
from op_table import BROADCAST_PAIRS, OPS, draw, leaves

import graphgrad as gg
from graphgrad.ops.broadcasting import broadcast_gradient, unbroadcast

BROADCASTING = [op for op in OPS if op.broadcasting]
CASES = [(op, pair) for op in BROADCASTING for pair in BROADCAST_PAIRS]


def _id(case):
    op, (s1, s2) = case
    return f"{op.name}-{s1}-{s2}".replace(" ", "")


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_broadcasting_pair_forward_and_gradcheck(case):
    op, shapes = case
    arrays = draw(op, np.random.default_rng(0), shapes)
    x, y = leaves(arrays)
    out = op.fn(x, y)
    np.testing.assert_allclose(out.data, op.ref(*arrays), rtol=1e-12)
    assert out.shape == np.broadcast_shapes(*shapes)
    assert gg.gradcheck(op.fn, [x, y])


@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
def test_add_gradient_sums_over_the_broadcast_axes(shapes):
    """d(x + y)/dx with upstream G is G summed over the axes x was stretched along."""
    rng = np.random.default_rng(1)
    x = gg.Tensor(rng.standard_normal(shapes[0]), requires_grad=True)
    y = gg.Tensor(rng.standard_normal(shapes[1]), requires_grad=True)
    out = x * 2.0 + y
    upstream = rng.standard_normal(out.shape)
    out.backward(upstream)
    for t, factor in ((x, 2.0), (y, 1.0)):
        assert t.grad.shape == t.shape
        extra = upstream.ndim - t.ndim
        summed = upstream.sum(axis=tuple(range(extra)))
        stretched = tuple(i for i, n in enumerate(t.shape) if n == 1 and summed.shape[i] != 1)
        expected = factor * summed.sum(axis=stretched, keepdims=True)
        np.testing.assert_allclose(t.grad, expected, rtol=1e-12)


# (name, operator, d/dx of x OP c, d/dx of c OP x) for a Python number c.
OPERATORS = [
    ("add", operator.add, lambda x, c: 1.0, lambda x, c: 1.0),
    ("sub", operator.sub, lambda x, c: 1.0, lambda x, c: -1.0),
    ("mul", operator.mul, lambda x, c: c, lambda x, c: c),
    ("truediv", operator.truediv, lambda x, c: 1 / c, lambda x, c: -c / x**2),
    ("pow", operator.pow, lambda x, c: c * x ** (c - 1), lambda x, c: c**x * np.log(c)),
]


@pytest.mark.parametrize("name, op, d_left, d_right", OPERATORS, ids=[o[0] for o in OPERATORS])
@pytest.mark.parametrize("constant", [2.5, 3, np.float64(1.5)], ids=["float", "int", "npfloat"])
def test_python_numbers_on_either_side(name, op, d_left, d_right, constant):
    data = np.array([[0.5, 1.5, 2.0], [1.2, 0.7, 3.0]])
    for left in (True, False):
        x = gg.Tensor(data, requires_grad=True)
        out = op(x, constant) if left else op(constant, x)
        expected = op(data, constant) if left else op(constant, data)
        assert isinstance(out, gg.Tensor)
        assert out.dtype == np.float64
        np.testing.assert_allclose(out.data, expected, rtol=1e-12)
        out.sum().backward()
        derivative = d_left if left else d_right
        np.testing.assert_allclose(x.grad, derivative(data, float(constant)) + 0 * data,
                                   rtol=1e-12)


ARRAY_OPERATORS = [(o[0], o[1]) for o in OPERATORS] + [("matmul", operator.matmul)]


@pytest.mark.parametrize("name, op", ARRAY_OPERATORS, ids=[o[0] for o in ARRAY_OPERATORS])
def test_numpy_arrays_on_either_side_give_tensors(name, op):
    rng = np.random.default_rng(2)
    array = rng.uniform(0.5, 2.0, (3, 3))
    data = rng.uniform(0.5, 2.0, (3, 3))
    for left in (True, False):
        x = gg.Tensor(data, requires_grad=True)
        out = op(x, array) if left else op(array, x)
        assert type(out) is gg.Tensor, f"{name} with the array on the {'right' if left else 'left'}"
        np.testing.assert_allclose(out.data, op(data, array) if left else op(array, data),
                                   rtol=1e-12)
        assert out.requires_grad
        fn = (lambda t: op(t, array)) if left else (lambda t: op(array, t))
        assert gg.gradcheck(fn, [x])


def test_integer_arrays_meeting_a_tensor_become_its_float_dtype():
    x = gg.Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    out = x + np.arange(3)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.data, [1, 2, 3])


@pytest.mark.parametrize("grad_shape, shape, expected", [
    ((3, 4), (3, 4), np.ones((3, 4))),
    ((3, 4), (1, 4), np.full((1, 4), 3.0)),
    ((3, 4), (3, 1), np.full((3, 1), 4.0)),
    ((3, 4), (4,), np.full((4,), 3.0)),
    ((3, 4), (), np.array(12.0)),
    ((2, 3, 4), (3, 1), np.full((3, 1), 8.0)),
    ((2, 3, 4), (1, 1, 1), np.full((1, 1, 1), 24.0)),
])
def test_unbroadcast_sums_ones_into_the_counts(grad_shape, shape, expected):
    got = unbroadcast(np.ones(grad_shape), shape)
    assert got.shape == shape
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("grad, shape", [
    (np.array(2.5), (3, 4)),
    (np.array(2.5), ()),
    (np.array(2.5), (0, 3)),
    (np.float32(-1.5), (2, 2)),  # numpy's scalar result of a 0-d product
    (np.full((1, 1), 7.0), (2, 3, 4)),
    (np.arange(10.0)[3:4], (5,)),  # one element of a larger array
    (np.arange(3.0).reshape(3, 1), (3, 4)),  # more than one number: numpy's own
])
def test_broadcast_gradient_is_numpys_broadcast_read_only(grad, shape):
    got = broadcast_gradient(grad, shape)
    expected = np.broadcast_to(grad, shape)
    assert got.shape == shape and got.dtype == np.asarray(grad).dtype
    np.testing.assert_array_equal(got, expected)
    assert not got.flags.writeable
    if got.size:
        with pytest.raises(ValueError):
            got[(0,) * len(shape)] = 0.0


def test_broadcast_gradient_refuses_what_numpy_refuses():
    with pytest.raises(ValueError):
        broadcast_gradient(np.ones((2, 1)), (3,))
    with pytest.raises(ValueError):
        broadcast_gradient(np.ones((1, 1)), (3,))  # one number, but more axes than the shape


def test_a_sums_and_a_means_gradient_fill_every_element():
    x = gg.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    (x.sum() * 3.0 + x.mean(axis=(0, 1), keepdims=True).sum() * 6.0).backward()
    np.testing.assert_array_equal(x.grad, np.full((2, 3), 4.0))
