"""Dtypes: Python numbers, bools and integer arrays become float64; float32 stays float32
end to end (every op of the table, forward and backward, and numbers on either side of an
operator); comparisons give boolean tensors that need no grad."""
import operator

import numpy as np
import pytest
from op_table import OPS, draw

import graphgrad as gg

# gg.checkpoint refuses create_graph=True, which the test below takes through every op:
# test_checkpoint checks that it keeps float32.
F32_OPS = [op for op in OPS if not op.name.startswith(("astype", "checkpoint"))]


@pytest.mark.parametrize("data", [3, 2.5, [1, 2], [[1.0, 2.0]], np.arange(3),
                                  np.arange(3, dtype=np.uint8)],
                         ids=["int", "float", "int-list", "float-list", "int-array",
                              "uint8-array"])
def test_numbers_and_integer_arrays_become_float64(data):
    t = gg.Tensor(data)
    assert t.dtype == np.float64
    np.testing.assert_array_equal(t.data, np.asarray(data, dtype=np.float64))


@pytest.mark.parametrize("data", [True, [True, False, True], np.array([True, False, True])])
def test_bools_stay_bool_so_a_mask_tensor_selects(data):
    """As comparisons give, and as in PyTorch: read as float 0s and 1s, a mask would index
    elements 0 and 1 instead of selecting."""
    mask = gg.Tensor(data)
    assert mask.dtype == np.bool_ and not mask.requires_grad
    if mask.ndim:
        x = gg.Tensor([10.0, 20.0, 30.0], requires_grad=True)
        np.testing.assert_array_equal(x[mask].data, [10.0, 30.0])
        x[mask].sum().backward()
        np.testing.assert_array_equal(x.grad, [1.0, 0.0, 1.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_float_arrays_keep_their_dtype_and_share_memory(dtype):
    array = np.ones(3, dtype=dtype)
    t = gg.Tensor(array, requires_grad=True)
    assert t.dtype == dtype and t.data is array


def test_dtype_argument_converts():
    t = gg.Tensor([1, 2, 3], dtype=np.float32)
    assert t.dtype == np.float32
    assert gg.Tensor(np.ones(2, dtype=np.float32), dtype=np.float64).dtype == np.float64


def test_array_like_attributes():
    t = gg.Tensor(np.arange(6.0).reshape(2, 3), name="t")
    assert (t.shape, t.ndim, t.size, t.name, t.dtype) == ((2, 3), 2, 6, "t", np.float64)
    assert t.numpy() is t.data
    assert np.asarray(t) is t.data
    assert np.asarray(t, dtype=np.float32).dtype == np.float32
    assert np.array(t, copy=False) is t.data
    assert np.array(t, copy=True) is not t.data
    with pytest.raises(ValueError, match="float32 without a copy"):
        np.array(t, dtype=np.float32, copy=False)  # numpy's own arrays refuse it too
    assert gg.Tensor(4.5).item() == 4.5 and isinstance(gg.Tensor(4.5).item(), float)
    assert float(gg.Tensor([[2.0]])) == 2.0
    assert len(t) == 2
    np.testing.assert_array_equal([row.data for row in t], t.data)


@pytest.mark.parametrize("op", F32_OPS, ids=str)
def test_float32_stays_float32_through_every_op_and_its_backward(op):
    arrays = [a.astype(np.float32) for a in draw(op, np.random.default_rng(0))]
    xs = [gg.Tensor(a, requires_grad=True) for a in arrays]
    outs = op.fn(*xs)
    outs = outs if isinstance(outs, tuple) else (outs,)
    assert [o.dtype for o in outs] == [np.float32] * len(outs)
    J = sum((o * o).sum() * 0.5 for o in outs)
    assert J.dtype == np.float32
    grads = gg.grad(J, xs, create_graph=True)
    assert [g.dtype for g in grads] == [np.float32] * len(xs)
    J.backward()
    assert [x.grad.dtype for x in xs] == [np.float32] * len(xs)
    # ... and the float32 result is the float64 result, rounded.
    want = op.ref(*[a.astype(np.float64) for a in arrays])
    want = want if isinstance(want, tuple) else (want,)
    for o, w in zip(outs, want):
        np.testing.assert_allclose(o.data, w, rtol=1e-5, atol=1e-6)


NUMBERS = [2.0, 2, True, np.float64(2.0), np.float32(2.0), np.int64(2), np.longdouble(2.0),
           np.array(2.0), [2.0, 0.5, 2.0], [[2.0], [0.5]], (2, 1, 2)]
NUMBER_IDS = ["float", "int", "bool", "np.float64", "np.float32", "np.int64", "np.longdouble",
              "0-d array", "list of floats", "nested list", "tuple of ints"]
OPERATORS = [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow]


@pytest.mark.parametrize("number", NUMBERS, ids=NUMBER_IDS)
@pytest.mark.parametrize("op", OPERATORS, ids=lambda o: o.__name__)
def test_a_number_on_either_side_does_not_upcast_float32(op, number):
    x32 = gg.Tensor(np.array([0.5, 1.5, 2.5], dtype=np.float32), requires_grad=True)
    for out in (op(x32, number), op(number, x32)):
        assert type(out) is gg.Tensor
        assert out.dtype == np.float32, f"{op.__name__} with {type(number).__name__}"
        out.sum().backward()
        assert x32.grad.dtype == np.float32
        x32.grad = None


def test_a_long_double_number_is_a_number_too():
    """np.longdouble's item() is a long double, not a Python float: lifting it recursed
    until Python's recursion limit."""
    x = gg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x * np.longdouble(3.0) + np.array(0.5, dtype=np.longdouble)
    assert y.dtype == np.float64
    y.sum().backward()
    np.testing.assert_array_equal(y.data, [3.5, 6.5])
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


@pytest.mark.parametrize("value", [np.float32(0.5), np.array(0.5, dtype=np.float32),
                                   np.float16(0.5), np.array(0.5, dtype=np.float16)],
                         ids=["np.float32", "0-d float32 array", "np.float16",
                              "0-d float16 array"])
@pytest.mark.parametrize("fn", [gg.relu, gg.exp, gg.tanh, gg.sigmoid, gg.selu, gg.softsign,
                                lambda v: gg.maximum(v, v)],
                         ids=["relu", "exp", "tanh", "sigmoid", "selu", "softsign", "maximum"])
def test_a_float32_or_float16_number_alone_keeps_its_dtype(fn, value):
    """With no tensor to take a dtype from, a numpy number of a narrow float type is lifted
    in its own, as gg.Tensor(value) keeps it: it came out float64."""
    out = fn(value)
    assert out.dtype == value.dtype
    np.testing.assert_allclose(out.data, fn(gg.Tensor(value)).data, rtol=0)


@pytest.mark.parametrize("fn", [gg.maximum, gg.minimum, lambda x, c: gg.where(x > 1, x, c),
                                lambda x, c: gg.clip(x, c, 2.0)],
                         ids=["maximum", "minimum", "where", "clip"])
def test_a_number_in_a_function_does_not_upcast_float32(fn):
    x32 = gg.Tensor(np.array([0.5, 1.5, 2.5], dtype=np.float32), requires_grad=True)
    out = fn(x32, 1.0)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x32.grad.dtype == np.float32


INTEGER_TENSORS = [
    lambda x: (x > 0).sum(),  # a count: int64
    lambda x: gg.astype(x, np.int32),
    lambda x: gg.astype(gg.Tensor([1.0, 2.0, 3.0]), np.int64),
    lambda x: x > 1,  # a mask: bool
]


@pytest.mark.parametrize("make_int", INTEGER_TENSORS, ids=["count", "int32", "int64", "mask"])
@pytest.mark.parametrize("fn", [*OPERATORS, gg.maximum, gg.minimum,
                                lambda x, c: gg.where(x > 1, x, c)],
                         ids=[*(o.__name__ for o in OPERATORS), "maximum", "minimum", "where"])
def test_an_integer_tensor_on_either_side_does_not_upcast_float32(fn, make_int):
    """As in PyTorch: numpy would make float32 with int64 or int32 into float64."""
    x32 = gg.Tensor(np.array([1.5, 2.5, 3.5], dtype=np.float32), requires_grad=True)
    n = make_int(x32)
    assert n.dtype.kind in "biu"
    x64, n64 = x32.data.astype(np.float64), n.data.astype(np.float64)
    for out, expected in ((fn(x32, n), fn(x64, n64)), (fn(n, x32), fn(n64, x64))):
        assert out.dtype == np.float32
        np.testing.assert_allclose(out.data, np.asarray(expected, dtype=np.float64), rtol=1e-6)
        out.sum().backward()
        assert x32.grad.dtype == np.float32
        x32.grad = None
    M = gg.Tensor(np.ones((3, 2), dtype=np.float32), requires_grad=True)
    assert (gg.astype(x32, np.int64) @ M).dtype == np.float32


def test_python_numbers_meeting_python_numbers_are_float64():
    t = gg.Tensor(2) * 3
    assert t.dtype == np.float64 and float(t) == 6.0


def test_float32_training_step_stays_float32():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 8)).astype(np.float32)
    Y = (rng.random((1, 8)) > 0.5).astype(np.float32)
    W = gg.Tensor(rng.standard_normal((1, 3)).astype(np.float32), requires_grad=True)
    b = gg.Tensor(np.zeros((1, 1), dtype=np.float32), requires_grad=True)
    A = gg.sigmoid(W @ X + b)
    J = -(Y * gg.log(A) + (1 - Y) * gg.log(1 - A)).mean()
    assert (A.dtype, J.dtype) == (np.float32, np.float32)
    J.backward()
    assert (W.grad.dtype, b.grad.dtype, A.grad.dtype) == (np.float32,) * 3
    W.data -= 0.1 * W.grad
    assert W.dtype == np.float32


def test_astype_converts_forward_and_converts_the_gradient_back():
    x = gg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x.astype(np.float32)
    assert y.dtype == np.float32
    (y * 3.0).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


COMPARISONS = [operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne]


@pytest.mark.parametrize("op", COMPARISONS, ids=lambda o: o.__name__)
def test_comparisons_give_boolean_tensors_that_need_no_grad(op):
    data = np.array([1.0, 2.0, 3.0])
    x = gg.Tensor(data, requires_grad=True)
    for other in (2.0, np.array([3.0, 2.0, 1.0]), gg.Tensor([3.0, 2.0, 1.0])):
        out = op(x, other)
        assert type(out) is gg.Tensor
        assert out.dtype == np.bool_
        assert not out.requires_grad and out.creator is None
        np.testing.assert_array_equal(out.data, op(data, np.asarray(other)))


def test_requires_grad_needs_a_float_dtype():
    with pytest.raises(gg.GraphgradTypeError, match="float"):
        gg.Tensor(np.arange(3), requires_grad=True, dtype=np.int64)


@pytest.mark.parametrize("op", [gg.exp, gg.sqrt, gg.tanh, gg.sin, gg.cos],
                         ids=lambda f: f.__name__)
def test_float_math_on_a_mask_gives_float64_not_numpys_float16(op):
    mask = gg.Tensor([1.0, -2.0, 3.0]) > 0
    out = op(mask)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out.data, op(gg.Tensor([1.0, 0.0, 1.0])).data)
    half = gg.Tensor(np.array([1.0, 4.0], dtype=np.float16))
    assert gg.sqrt(half).dtype == np.float16  # a float16 tensor's own results stay float16
    assert gg.Tensor([1.0, 2.0]).astype(np.float16).dtype == np.float16
    assert mask.astype(np.float16).dtype == np.float16  # asked for


def test_second_derivatives_of_a_float32_scalar_stay_float32():
    seen = []

    class Double(gg.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            seen.append(grad.dtype)
            return grad * 2

    z = gg.Tensor(np.float32(1.5), requires_grad=True)
    (g,) = gg.grad(Double.apply(z) ** 2, z, create_graph=True)  # 8 z
    assert seen == [np.float32] and g.dtype == np.float32
    assert g.item() == 12.0
    (h,) = gg.grad(g, z)
    assert h.dtype == np.float32 and h.item() == 8.0
    J = (z * 3.0) ** 2
    (same,) = gg.grad(J, J, create_graph=True)
    assert same.dtype == np.float32 and same.item() == 1.0
