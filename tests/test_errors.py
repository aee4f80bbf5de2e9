"""Errors: every one subclasses gg.GraphgradError (and ValueError/TypeError where fitting),
names the op and the operands (name, shape) and says what to do."""
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import graphgrad as gg
import viz
from graphgrad import nn, optim


@pytest.mark.parametrize("error, builtin", [
    (gg.OpError, ValueError),
    (gg.ShapeError, ValueError),
    (gg.GraphgradTypeError, TypeError),
    (gg.BackwardError, RuntimeError),
    (gg.AnomalyError, FloatingPointError),
    (gg.InplaceError, RuntimeError),
    (gg.GradcheckError, AssertionError),
])
def test_every_error_subclasses_graphgrad_error_and_a_builtin(error, builtin):
    assert issubclass(error, gg.GraphgradError)
    assert issubclass(error, builtin)


def test_no_code_raises_a_bare_graphgrad_error():
    """A bare GraphgradError is caught by no except ValueError / TypeError / RuntimeError:
    every raise picks the subclass that says which kind of mistake it is."""
    bare = re.compile(r"raise (?:errors\.)?GraphgradError\(")
    sources = [p for package in (gg, viz) for p in Path(package.__file__).parent.rglob("*.py")]
    assert len(sources) > 40
    found = [f"{path.name}:{number}" for path in sources
             for number, line in enumerate(path.read_text().splitlines(), 1)
             if bare.search(line)]
    assert not found


@pytest.mark.parametrize("call, builtin, message", [
    (lambda: gg.nn.Sequential(lambda x: x), TypeError, "function1 is a function, not a Module"),
    (lambda: gg.gradcheck(lambda x: x.data * 2, [np.ones(2)]), TypeError,
     "gradcheck: the function must return Tensors, got ndarray"),
    (lambda: gg.grad(3, []), TypeError, "gg.grad takes Tensors, got int"),
    (lambda: gg.engine.backward(3), TypeError,
     "backward needs a Tensor, got int"),
    (lambda: gg.grad([gg.Tensor(1.0, requires_grad=True) * 2], [], grad_outputs=[None, None]),
     ValueError, "gg.grad got 2 grad_outputs for 1 outputs: give one per output"),
])
def test_a_wrong_kind_of_argument_is_a_type_error_and_a_wrong_count_a_value_error(
        call, builtin, message):
    with pytest.raises(builtin, match=message) as info:
        call()
    assert isinstance(info.value, gg.GraphgradError)


def test_shape_error_is_an_op_error():
    assert issubclass(gg.ShapeError, gg.OpError)


def test_matmul_mismatch_names_the_op_operands_shapes_and_the_fix():
    W = gg.Tensor(np.ones((3, 4)), name="W1", requires_grad=True)
    A = gg.Tensor(np.ones((3, 5)), name="A0")
    with pytest.raises(gg.OpError) as info:
        W @ A
    message = str(info.value)
    for part in ("MatMul", "'W1' (3, 4)", "'A0' (3, 5)", "W1.T @ A0"):
        assert part in message, f"{part!r} missing from: {message}"
    assert isinstance(info.value, ValueError)


def test_matmul_mismatch_suggests_transposing_the_second_operand():
    with pytest.raises(gg.OpError, match=r"x @ y\.T"):
        gg.Tensor(np.ones((2, 3)), name="x") @ gg.Tensor(np.ones((4, 3)), name="y")


def test_matmul_of_a_scalar_says_to_use_star():
    with pytest.raises(gg.OpError, match=r"use \*"):
        gg.Tensor(2.0) @ gg.Tensor(np.ones((2, 2)))


@pytest.mark.parametrize("op_name, op", [("Add", lambda x, y: x + y),
                                         ("Mul", lambda x, y: x * y),
                                         ("Sub", lambda x, y: x - y),
                                         ("Div", lambda x, y: x / y),
                                         ("Maximum", gg.maximum)])
def test_broadcasting_failure_names_op_operands_and_gives_the_rule(op_name, op):
    x = gg.Tensor(np.ones((3, 4)), name="Z")
    y = gg.Tensor(np.ones((2, 4)), name="b")
    with pytest.raises(gg.OpError) as info:
        op(x, y)
    message = str(info.value)
    for part in (op_name, "'Z' (3, 4)", "'b' (2, 4)", "do not broadcast",
                 "each pair of dimensions must be equal or 1"):
        assert part in message, f"{part!r} missing from: {message}"


def test_unnamed_operands_are_described_by_the_op_that_made_them():
    x = gg.Tensor(np.ones((3, 4)), requires_grad=True) * 2
    with pytest.raises(gg.OpError, match=r"output of Mul \(3, 4\) float64"):
        x + np.ones((2, 4))


def test_non_float_tensor_cannot_require_grad():
    with pytest.raises(gg.GraphgradTypeError, match=r"only float tensors.*int64.*dtype=np\."):
        gg.Tensor(np.arange(3), requires_grad=True, dtype=np.int64)


@pytest.mark.parametrize("bad", ["abc", {"a": 1}, None, object(), [1, "a"]],
                         ids=["str", "dict", "None", "object", "mixed-list"])
def test_bad_data_for_a_tensor(bad):
    with pytest.raises(gg.GraphgradTypeError, match="Tensor needs numbers"):
        gg.Tensor(bad)


@pytest.mark.parametrize("data, dtype, message", [
    ([[1, 2], [3]], None, r"Tensor cannot make an array of the list given: .*inhomogeneous.*same "
                          r"length at each level"),
    ([1.0], "nope", r"^Tensor: dtype must be a number type \(np\.float64, np\.float32, int or "
                    r"bool\), got 'nope'$"),
    (["1.5x"], np.float32, r"could not convert string"),
    ([1.0, 2.0], str, r"^Tensor: dtype must be a number type .*, got str$"),
    ([1.0, 2.0], complex, r"^Tensor: dtype must be a number type .*, got complex$"),
    ([1, 2 ** 70], None, r"dtype object \(an integer too large for int64: give it as a float"),
], ids=["ragged", "unknown dtype", "text with a dtype", "a text dtype", "a complex dtype",
        "a huge integer"])
def test_data_numpy_cannot_read_gets_a_graphgrad_error(data, dtype, message):
    with pytest.raises(gg.GraphgradTypeError, match=message):
        gg.Tensor(data, dtype=dtype)


def test_a_list_holding_a_tensor_that_requires_grad_says_to_stack_it():
    """The refusal is numpy's call for the tensor's values; the advice for a list of numbers
    (same length at each level) had been added to it, though the list was not ragged."""
    w = gg.Tensor(1.0, requires_grad=True, name="w")
    with pytest.raises(gg.GraphgradTypeError, match=r"^numpy asked for the values of 'w' .*"
                       r"gg\.stack.*under gg\.no_grad\(\)\.$"):
        gg.Tensor([w, 2.0])
    with pytest.raises(gg.GraphgradTypeError, match=r"^numpy asked for the values of 'w' "):
        gg.Tensor([1.0, 2.0]) * [w, 2.0]
    with gg.no_grad():  # taking the values on purpose
        np.testing.assert_array_equal(gg.Tensor([w, 2.0]).data, [1.0, 2.0])


@pytest.mark.parametrize("bad", ["abc", None, object()], ids=["str", "None", "object"])
def test_bad_operand_for_an_operator(bad):
    W = gg.Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(gg.GraphgradTypeError, match="cannot use a"):
        W + bad
    with pytest.raises(gg.GraphgradError, match=r"Exp: input 0"):
        gg.exp(bad)


def test_reshaping_an_empty_batch_with_minus_one_says_to_write_the_size_out():
    """The course flattens images with X.reshape(X.shape[0], -1): for m = 0 numpy cannot
    solve -1 (any size fits), and the hint said 0 elements cannot take shape (0, -1)."""
    X = gg.Tensor(np.zeros((0, 4, 4, 3)), name="X")
    with pytest.raises(gg.OpError) as info:
        X.reshape(X.shape[0], -1)
    assert str(info.value).splitlines()[1] == (
        "  with 0 elements, the -1 in shape (0, -1) could be any size: write the size out "
        "(x.reshape(0, 48) for the rows of x flattened)")
    with pytest.raises(gg.OpError, match=r"the -1 in shape \(0, -1, 2\) could be any size: "
                                         r"write the size out$"):
        X.reshape(0, -1, 2)
    assert X.reshape(0, 48).shape == X.reshape(-1, 48).shape == (0, 48)


def test_failing_op_names_its_settings():
    W = gg.Tensor(np.ones((3, 4)), name="W")
    with pytest.raises(gg.OpError, match=r"(?s)Reshape\('W' \(3, 4\).*shape=\(5, 5\).*12 elements"):
        W.reshape(5, 5)
    with pytest.raises(gg.OpError, match=r"Sum\('W'.*axis=3.*out of range"):
        W.sum(axis=3)
    with pytest.raises(gg.OpError, match=r"Concatenate\('W' \(3, 4\).*\(3, 5\)"):
        gg.concatenate([W, np.ones((3, 5))])


@pytest.mark.parametrize("call, message", [
    (lambda x, s: gg.clip(x, s), r"clip: low is 's' \(\) float64, which requires grad, but low "
                                 r"is a setting.*gg\.minimum\(gg\.maximum\(x, low\), high\)"),
    (lambda x, s: x.clip(None, s), r"clip: high is 's'"),
    (lambda x, s: gg.leaky_relu(x, s), r"leaky_relu: alpha is 's'.*gg\.where\(x > 0"),
    (lambda x, s: gg.pad(x, (1, 1), constant_values=s), r"pad: constant_values is 's'"),
], ids=["clip low", "clip high", "leaky_relu", "pad"])
def test_a_setting_that_requires_grad_is_refused_not_cut_from_the_graph(call, message):
    """Its gradient would be lost without a word; one that needs no grad is used as a value."""
    x = gg.Tensor(np.array([-1.0, 0.5, 2.0]), requires_grad=True)
    with pytest.raises(gg.GraphgradTypeError, match=message):
        call(x, gg.Tensor(0.25, requires_grad=True, name="s"))
    np.testing.assert_array_equal(call(x, gg.Tensor(0.25)).data,
                                  call(x, 0.25).data)


class ForwardFails(gg.Function):
    @staticmethod
    def forward(ctx, x):
        raise ValueError("no negative inputs, please")

    @staticmethod
    def backward(ctx, grad):
        return grad


class ReturnsTensor(gg.Function):
    @staticmethod
    def forward(ctx, x):
        return gg.Tensor(x)

    @staticmethod
    def backward(ctx, grad):
        return grad


def test_custom_forward_failure_names_the_op_and_its_inputs():
    with pytest.raises(gg.OpError, match=r"ForwardFails\('x' \(2,\).*no negative inputs"):
        ForwardFails.apply(gg.Tensor(np.ones(2), name="x"))


def test_custom_forward_returning_a_tensor_is_explained():
    with pytest.raises(gg.OpError, match=r"ReturnsTensor\.forward returned a Tensor"):
        ReturnsTensor.apply(gg.Tensor(np.ones(2)))


class BackwardReturnsText(gg.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return "two"


class BackwardReturnsTensor(gg.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return gg.Tensor(grad)


@pytest.mark.parametrize("op, message", [
    (BackwardReturnsText, r"BackwardReturnsText\.backward returned str.*'x'.*float array"),
    (BackwardReturnsTensor, r"BackwardReturnsTensor\.backward returned a Tensor"),
])
def test_custom_backward_returning_the_wrong_type(op, message):
    y = op.apply(gg.Tensor(np.ones(2), requires_grad=True, name="x"))
    with pytest.raises(gg.BackwardError, match=message):
        y.sum().backward()


class ForwardReturnsList(gg.Function):
    @staticmethod
    def forward(ctx, x):
        return [x * 2, x * 3]

    @staticmethod
    def backward(ctx, grad_2x, grad_3x):
        return grad_2x * 2 + grad_3x * 3


class BackwardReturnsList(gg.Function):
    @staticmethod
    def forward(ctx, x, y):
        return x * y

    @staticmethod
    def backward(ctx, grad):
        return [grad, grad]


class SecondGradientMisShaped(gg.Function):
    @staticmethod
    def forward(ctx, x, y):
        return x * y

    @staticmethod
    def backward(ctx, grad):
        return grad, grad.sum(keepdims=True)[None]


def test_lists_from_forward_and_backward_are_refused_with_the_tuple_to_return():
    """numpy would stack a forward's list of outputs into one array without a word."""
    x = gg.Tensor(np.ones(2), requires_grad=True, name="x")
    with pytest.raises(gg.OpError, match=r"ForwardReturnsList\.forward returned a list; return "
                       r"several outputs as a tuple"):
        ForwardReturnsList.apply(x)
    y = BackwardReturnsList.apply(x, gg.Tensor(np.ones(2), requires_grad=True))
    with pytest.raises(gg.BackwardError, match=r"BackwardReturnsList\.backward returned a list; "
                       r"return the gradients of its 2 inputs as a tuple"):
        y.sum().backward()


def test_a_misshaped_gradient_names_its_input_when_one_tensor_fills_two():
    x = gg.Tensor(np.ones(3), requires_grad=True, name="x")
    with pytest.raises(gg.ShapeError, match=r"shape \(1, 1\) for input 1, 'x' \(3,\)"):
        SecondGradientMisShaped.apply(x, x).sum().backward()


def test_numpy_function_without_a_graphgrad_op_names_the_function():
    W = gg.Tensor(np.eye(2), requires_grad=True)
    with pytest.raises(gg.GraphgradTypeError, match=r"numpy\.linalg\.eigvals.*\.data"):
        np.linalg.eigvals(W)
    with pytest.raises(gg.GraphgradTypeError, match=r"numpy\.logaddexp2"):
        np.logaddexp2(W, 1.0)


def test_item_of_a_tensor_with_several_elements():
    with pytest.raises(gg.GraphgradError, match=r"one-element.*'W' \(3, 4\)") as info:
        gg.Tensor(np.ones((3, 4)), name="W").item()
    assert isinstance(info.value, ValueError)


def test_truth_value_of_a_tensor_with_several_elements():
    t = gg.Tensor([1.0, 2.0], name="t")
    with pytest.raises(gg.ShapeError, match=r"ambiguous.*any\(\).*all\(\)") as info:
        bool(t > 0)
    assert isinstance(info.value, ValueError)
    assert bool(gg.Tensor([3.0]) > 2) and not bool(gg.Tensor(1.0) > 2)


def test_len_of_a_0d_tensor():
    with pytest.raises(gg.GraphgradTypeError, match="0-d"):
        len(gg.Tensor(1.0))


def test_grad_of_things_that_are_not_tensors():
    W = gg.Tensor(np.ones(2), requires_grad=True)
    J = (W * W).sum()
    for outputs, inputs in [(3.0, W), (J, 3.0), ([J, 3.0], W), (J, [W, "W"])]:
        with pytest.raises(gg.GraphgradTypeError, match="gg.grad takes Tensors"):
            gg.grad(outputs, inputs, retain_graph=True)


def test_where_refuses_a_condition_of_numbers_other_than_0_and_1():
    """Read as nonzero, the probabilities 0.2 and 0.7 would both be true: every output x."""
    A = gg.Tensor([0.2, 0.7, 0.01], name="A")
    with pytest.raises(gg.GraphgradTypeError, match=r"where: the condition must be booleans.*"
                                                    r"'A' \(3,\) float64 holding 0\.2.*A > 0\.5"):
        gg.where(A, 1.0, 0.0)
    x = gg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    chosen = gg.where([1, 0, 1], x, 0.0)  # 0/1 numbers are a mask
    chosen.sum().backward()
    np.testing.assert_array_equal(chosen.data, [1.0, 0.0, 3.0])
    np.testing.assert_array_equal(x.grad, [1.0, 0.0, 1.0])


@pytest.mark.parametrize("condition, held", [
    (None, "object values holding None too"),
    (np.array(["yes", 1], dtype=object), "object values holding 'yes' too"),
    (np.array([], dtype=object), "object values. Write"),
    (np.array(["a"]), "<U1 values holding 'a' too"),
])
def test_where_names_a_condition_that_holds_no_numbers(condition, held):
    with pytest.raises(gg.GraphgradTypeError, match=r"where: the condition must be booleans, "
                                                    rf"or numbers .*; got {re.escape(held)}"):
        gg.where(condition, 1.0, 0.0)


def test_a_ragged_list_as_an_operand_is_a_graphgrad_error():
    W = gg.Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(gg.GraphgradTypeError, match=r"cannot use a list as a tensor .*"
                                                    "inhomogeneous.*same length at each level"):
        W + [[1.0, 2.0], [3.0]]


@pytest.mark.parametrize("call, error, message", [
    (lambda: nn.Softmax(axis="x"), gg.ArgumentError, r"Softmax: axis must be a whole number"),
    (lambda: nn.Softmax(axis=1.5), gg.ArgumentError, r"Softmax: axis must be a whole number"),
    (lambda: nn.LeakyReLU("a"), gg.ArgumentError, "LeakyReLU: alpha must be a finite number"),
    (lambda: nn.LeakyReLU(np.nan), gg.ArgumentError, "LeakyReLU: alpha must be a finite"),
    (lambda: gg.leaky_relu(gg.Tensor([1.0]), "a"), gg.ArgumentError,
     "leaky_relu: alpha must be a finite number, got 'a'"),
    (lambda: nn.l2_penalty(nn.Linear(2, 2), -1.0, 4), gg.ArgumentError,
     "l2_penalty: lambd must be >= 0 and finite, got -1"),
    (lambda: nn.l2_penalty(nn.Linear(2, 2), 0.1, 2.5), gg.ArgumentError,
     r"l2_penalty: m \(the number of examples.*\) must be a whole number"),
    (lambda: optim.InverseTimeDecay(0.1, 1.0)(-1), gg.ArgumentError,
     r"InverseTimeDecay: the epoch \(counted from 0\) must be a whole number of at least 0"),
    (lambda: gg.sum(gg.Tensor(np.ones((2, 3))), axis=1.0), gg.OpError,
     r"Sum\(.*axis=1.0.*\) failed: axis must be an int or a tuple of ints, got 1.0"),
    (lambda: gg.split(gg.Tensor(np.ones(4)), 0), gg.ArgumentError,
     "split: the number of equal sections must be at least 1, got 0"),
    (lambda: gg.sigmoid(gg.Tensor([1.0, -1.0]) > 0), gg.OpError,
     r"Sigmoid\(.* bool\) failed: .*\n  a mask \(bool\) takes part as numbers once converted: "
     r"mask.astype\(np.float64\)"),
    (lambda: gg.expand_dims(gg.Tensor(np.ones((2, 3))), True), gg.OpError,
     r"ExpandDims\(.*axis=True\) failed: axis must be an int or a tuple of ints, got True"),
    (lambda: gg.Tensor(np.ones((2, 3))).expand_dims((0, np.True_)), gg.OpError,
     r"ExpandDims\(.*\) failed: axis must be an int or a tuple of ints, got np.True_"),
    (lambda: gg.swapaxes(gg.Tensor(np.ones((2, 3))), 0, True), gg.OpError,
     r"SwapAxes\(.*axis2=True\) failed: axis must be an int or a tuple of ints, got True"),
    (lambda: gg.stack([gg.Tensor(np.ones(2))] * 2, axis=True), gg.OpError,
     r"Stack\(.*axis=True\) failed: axis must be an int or a tuple of ints, got True"),
    (lambda: gg.split(gg.Tensor(np.ones((2, 4))), 2, axis=True), gg.OpError,
     r"Split\(.*axis=True\) failed: axis must be an int or a tuple of ints, got True"),
    (lambda: gg.reshape(gg.Tensor(np.ones(4)), 4.0), gg.ArgumentError,
     "^reshape: shape must be an int or a sequence of ints, got 4.0$"),
    (lambda: gg.broadcast_to(gg.Tensor(np.ones(4)), None), gg.ArgumentError,
     "^broadcast_to: shape must be an int or a sequence of ints, got None$"),
    (lambda: gg.transpose(gg.Tensor(np.ones((2, 2))), np.float64(1.0)), gg.ArgumentError,
     r"^transpose: axes must be an int or a sequence of ints, got np.float64\(1.0\)$"),
    (lambda: optim.clip_grad_norm(None, 1.0), gg.GraphgradTypeError,
     r"^clip_grad_norm takes a list of tensors \(model.parameters\(\)\), got None$"),
    (lambda: optim.clip_grad_value(0.5, 1.0), gg.GraphgradTypeError,
     r"^clip_grad_value takes a list of tensors \(model.parameters\(\)\), got 0.5$"),
    (lambda: optim.clip_grad_norm([nn.Parameter(np.ones(2)), np.ones((2, 2))], 1.0),
     gg.GraphgradTypeError, r"^clip_grad_norm: parameter 1 is <float64 array \(2, 2\)>, not a "
                            r"Tensor; pass model.parameters\(\)$"),
    (lambda: optim.clip_grad_value([None], 1.0), gg.GraphgradTypeError,
     r"^clip_grad_value: parameter 0 is None, not a Tensor; pass model.parameters\(\)$"),
    (lambda: nn.l2_penalty(None, 0.1, 4), gg.GraphgradTypeError,
     "^l2_penalty takes a model or a list of its weight tensors, got None$"),
    (lambda: nn.l2_penalty([nn.Parameter(np.ones((2, 2))), np.ones((2, 2))], 0.1, 4),
     gg.GraphgradTypeError, r"^l2_penalty: weight 1 is <float64 array \(2, 2\)>, not a Tensor; "
                            r"pass the model, or its weight tensors"),
    (lambda: gg.astype(gg.Tensor([1.0]), complex), gg.GraphgradTypeError,
     "^astype: tensors hold bools, integers or floats, got dtype complex128; give a numpy"),
    (lambda: gg.Tensor([1.0]).astype(str), gg.GraphgradTypeError,
     "^astype: tensors hold bools, integers or floats, got dtype <U0"),
    (lambda: gg.astype(gg.Tensor([1.0]), []), gg.GraphgradTypeError,
     r"^astype: tensors hold bools, integers or floats, got dtype \[\]"),
], ids=["Softmax axis text", "Softmax axis 1.5", "LeakyReLU alpha text", "LeakyReLU alpha nan",
        "leaky_relu alpha text", "l2 lambd", "l2 m", "schedule epoch", "sum axis 1.0",
        "split 0", "sigmoid of a mask", "expand_dims axis True", "expand_dims axis np.True_",
        "swapaxes axis True", "stack axis True", "split axis True", "reshape 4.0",
        "broadcast_to None", "transpose float axes", "clip_grad_norm None",
        "clip_grad_value number", "clip_grad_norm of an array", "clip_grad_value of None",
        "l2_penalty None", "l2_penalty of an array",
        "astype complex", "astype str", "astype void"])
def test_settings_numpy_or_python_would_misread_get_graphgrad_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("axes", [(0, 1), (-2, -1), (0, -1), (-2, 1)])
def test_transpose_of_a_matrix_by_its_axes_in_order_is_refused_as_pytorch_reads_it_otherwise(
        axes):
    """W.transpose(0, 1) left W as it was (numpy's order of the axes), where PyTorch's
    exchanges them: a ported W.transpose(0, 1) computed with W untransposed, silently when W
    is square."""
    W = gg.Tensor(np.arange(4.0).reshape(2, 2), requires_grad=True, name="W")
    with pytest.raises(gg.ArgumentError, match=(
            rf"^transpose\({axes[0]}, {axes[1]}\) of the matrix 'W' \(2, 2\) float64 is "
            r"ambiguous: numpy reads the numbers as the new order of the axes and leaves it as "
            r"it is, PyTorch's transpose exchanges the two. To exchange them write .T \(or "
            r".swapaxes\(0, 1\)\); the matrix unchanged is the tensor itself.$")):
        W.transpose(*axes)
    # what numpy and PyTorch agree on goes through
    np.testing.assert_array_equal(W.transpose(1, 0).data, [[0.0, 2.0], [1.0, 3.0]])
    np.testing.assert_array_equal(W.transpose((0, 1)).data, W.data)  # a tuple: numpy's order
    np.testing.assert_array_equal(gg.transpose(W, (0, 1)).data, W.data)
    x = gg.Tensor(np.ones((2, 3, 4)))
    assert x.transpose(0, 2, 1).shape == (2, 4, 3)


_X5 = np.arange(10.0).reshape(5, 2)
_Y5 = np.arange(5.0).reshape(5, 1)


@pytest.mark.parametrize("call, caller, what", [
    (lambda v: gg.Tensor([1.0], requires_grad=v), "Tensor", "requires_grad"),
    (lambda v: gg.Tensor([1.0]).requires_grad_(v), r"requires_grad_ of .*", "requires_grad"),
    (lambda v: nn.Linear(2, 3).requires_grad_(v), r"Linear\.requires_grad_", "requires_grad"),
    (lambda v: nn.Sequential().requires_grad_(v), r"Sequential\.requires_grad_",
     "requires_grad"),
    (lambda v: nn.Dropout(0.8).train(v), r"Dropout\.train", "mode"),
    (lambda v: nn.Linear(2, 3, bias=v), "Linear", "bias"),
    (lambda v: nn.Conv2d(1, 2, 3, bias=v), "Conv2d", "bias"),
    (lambda v: nn.Conv1d(1, 2, 3, bias=v), "Conv1d", "bias"),
    (lambda v: nn.ConvTranspose2d(1, 2, 3, bias=v), "ConvTranspose2d", "bias"),
    (lambda v: nn.MultiHeadAttention(4, 2, bias=v), "MultiHeadAttention", "bias"),
    (lambda v: gg.data.minibatches(_X5, _Y5, 2, shuffle=v), "minibatches", "shuffle"),
    (lambda v: gg.data.minibatches(_X5, _Y5, 2, drop_last=v), "minibatches", "drop_last"),
    (lambda v: gg.data.DataLoader(_X5, _Y5, 2, shuffle=v), "DataLoader", "shuffle"),
    (lambda v: gg.data.DataLoader(_X5, _Y5, 2, drop_last=v), "DataLoader", "drop_last"),
    (lambda v: gg.data.train_dev_test_split(_X5, _Y5, 1, 1, shuffle=v),
     "train_dev_test_split", "shuffle"),
    (lambda v: gg.fit(nn.Linear(2, 1, rng=0), nn.mse,
                      optim.SGD(nn.Linear(2, 1, rng=0).parameters(), 0.1), (_X5, _Y5), 1,
                      shuffle=v, progress=False), "fit", "shuffle"),
    (lambda v: gg.fit(nn.Linear(2, 1, rng=0), nn.mse,
                      optim.SGD(nn.Linear(2, 1, rng=0).parameters(), 0.1), (_X5, _Y5), 1,
                      drop_last=v, progress=False), "fit", "drop_last"),
    (lambda v: gg.gradcheck(gg.tanh, [np.ones(2)], fast=v), "gradcheck", "fast"),
    (lambda v: gg.gradcheck(gg.tanh, [np.ones(2)], raise_exception=v), "gradcheck",
     "raise_exception"),
    (lambda v: gg.gradgradcheck(gg.tanh, [np.ones(2)], fast=v), "gradgradcheck", "fast"),
    (lambda v: gg.gradgradcheck(gg.tanh, [np.ones(2)], raise_exception=v), "gradgradcheck",
     "raise_exception"),
    *[(lambda v, f=f: f(gg.Tensor(_X5), axis=0, keepdims=v), f.__name__, "keepdims")
      for f in (gg.sum, gg.mean, gg.max, gg.min, gg.logsumexp)],
    (lambda v: gg.Tensor(_X5).max(keepdims=v), "max", "keepdims"),
])
@pytest.mark.parametrize("value", ["3", "False", float("nan"), None, 1, 0, np.array([1, 0])])
def test_an_on_off_setting_takes_only_true_or_false(call, caller, what, value):
    """Python reads "False", NaN and 1 as True and None and 0 as False: a flag given one of
    them (a seed in shuffle's place, or a string) silently chose a side, and an array failed
    on numpy's "truth value is ambiguous"."""
    if value is None and (caller, what) == ("DataLoader", "shuffle"):
        assert call(value).shuffle is True  # PyTorch's default, None: shuffled by default here
        return
    with pytest.raises(gg.ArgumentError, match=rf"^{caller}: {what} must be True or False, got "):
        call(value)


def test_numpy_bools_count_as_flags():
    x = gg.Tensor([[1.0, 2.0], [3.0, 4.0]])
    for reduce, expected in ((gg.sum, [[4.0, 6.0]]), (gg.mean, [[2.0, 3.0]]),
                             (gg.max, [[3.0, 4.0]]), (gg.min, [[1.0, 2.0]])):
        np.testing.assert_array_equal(reduce(x, axis=0, keepdims=np.True_).data, expected)
    assert nn.Linear(2, 3, bias=np.False_).b is None
    assert gg.Tensor([1.0], requires_grad=np.True_).requires_grad is True


def test_a_refused_flag_changes_nothing():
    generator = np.random.default_rng(0)
    with pytest.raises(gg.ArgumentError):
        nn.Linear(2, 3, bias="no", rng=generator)
    assert generator.random() == np.random.default_rng(0).random()  # nothing was drawn
    W = gg.Tensor([1.0], requires_grad=True)
    with pytest.raises(gg.ArgumentError):
        W.requires_grad_(0)
    assert W.requires_grad is True


@pytest.mark.parametrize("other, error, message", [
    (np.ones(4), gg.ShapeError, r"^'A' \(2, 3\) float64 < ndarray \(4,\) float64: the shapes do "
     r"not broadcast: aligned from the right, each pair of dimensions must be equal or 1\. Check "
     r"which axis holds the examples \(m\); a \.T or \.reshape\(\.\.\.\) usually fixes it\.$"),
    (gg.Tensor(np.ones((3, 2)), name="Y"), gg.ShapeError,
     r"^'A' \(2, 3\) float64 < 'Y' \(3, 2\) float64: the shapes do not broadcast"),
    ("0.5", gg.GraphgradTypeError, r"^'A' \(2, 3\) float64 < '0\.5': a tensor compares with "
     r"numbers, or arrays or tensors of numbers$"),
    (None, gg.GraphgradTypeError, r"^'A' \(2, 3\) float64 < None: a tensor compares"),
], ids=["shapes", "tensor shapes", "text", "None"])
def test_a_comparison_numpy_refuses_names_both_operands(other, error, message):
    """numpy's own error (a ValueError of shapes, a UFuncTypeError) came out of A < other."""
    A = gg.Tensor(np.ones((2, 3)), name="A")
    with pytest.raises(error, match=message):
        A < other  # noqa: B015
    with pytest.raises(error, match=message.replace("<", ">=", 1)):
        A >= other  # noqa: B015


def test_an_update_in_place_of_another_shape_says_the_gradient_has_its_parameters_shape():
    W1 = gg.Tensor(np.ones((2, 3)), name="W1", requires_grad=True)
    dW1 = gg.Tensor(np.ones((3, 2)), name="dW1")
    with gg.no_grad(), pytest.raises(gg.ShapeError, match=(
            r"^'W1' \(2, 3\) float64 -= 'dW1' \(3, 2\) float64: an update in place keeps W1's "
            r"shape \(2, 3\), so what it is updated with must have that shape \(or broadcast to "
            r"it\)\. A gradient has its parameter's shape: check how it was computed \(a \.T or "
            r"\.reshape\(\.\.\.\) usually fixes it\)\.$")):
        W1 -= dW1
    np.testing.assert_array_equal(W1.data, np.ones((2, 3)))
    with gg.no_grad(), pytest.raises(gg.GraphgradTypeError, match=(
            r"^'W1' \(2, 3\) float64 \+= '0\.1': the update must be real numbers, which float64 "
            r"holds \(a float array or tensor, as lr \* dW is\)$")):
        W1 += "0.1"


def test_len_of_a_0d_tensor_says_to_take_its_item():
    J = gg.Tensor(0.25, name="J")
    message = (r"^'J' \(\) float64 is 0-d, one number with no axes, so it has no length and "
               r"cannot be iterated over; take its value with t\.item\(\)$")
    with pytest.raises(gg.GraphgradTypeError, match=message):
        len(J)
    with pytest.raises(gg.GraphgradTypeError, match=message):
        list(J)


def test_a_setting_given_a_list_of_tensors_shows_the_list_by_its_type():
    """A number setting given the parameters (the arguments swapped, or lr=model.parameters())
    printed every tensor's values in the refusal."""
    params = list(gg.nn.Linear(30, 20, rng=0).parameters())
    with pytest.raises(gg.ArgumentError, match=r"^SGD: lr must be positive and finite, got a "
                       r"list$"):
        gg.optim.SGD(params, lr=params)
    with pytest.raises(gg.ArgumentError, match=r"^DataLoader: batch_size must be a whole number "
                       r"of at least 1, got a list$"):
        gg.data.DataLoader(np.ones((4, 2)), np.ones((4, 1)), batch_size=params)


@pytest.mark.parametrize("call, hint", [
    (lambda A: gg.split(A, 2, axis=1),
     r"\n  axis 1 of A \(2, 3, 1\) has 3 elements, which 2 equal sections cannot share: give a "
     r"number of sections that divides it, or a list of the indices to cut at \(pieces of "
     r"different sizes\)$"),
    (lambda A: gg.squeeze(A, 0),
     r"\n  squeeze removes axes of size 1, and axis 0 of A \(2, 3, 1\) has size 2; its axes of "
     r"size 1 are \[2\]$"),
    (lambda A: gg.broadcast_to(A, (3, 3)),
     r"\n  broadcast_to repeats A \(2, 3, 1\) along axes of size 1, and adds axes in front: "
     r"aligned from the right, each of its dimensions must equal the target's or be 1, and the "
     r"target \(3, 3\) needs at least its 3 dimensions$"),
    (lambda A: A.transpose(1, 2),
     r"\n  transpose takes the new order of every axis of A \(2, 3, 1\), each once, as numpy's "
     r"does \(x.transpose\(0, 2, 1\) exchanges the last two\); PyTorch's x.transpose\(1, 2\) "
     r"exchanges two axes, which is x.swapaxes\(1, 2\) here$"),
    (lambda A: gg.transpose(A, (0, 1, 3)),
     r"\n  transpose takes the new order of every axis of A \(2, 3, 1\), each once, as numpy's "
     r"does \(x.transpose\(0, 2, 1\) exchanges the last two\)$"),
], ids=["split", "squeeze", "broadcast_to", "transpose of two axes", "transpose out of range"])
def test_shape_ops_numpy_refuses_say_why_in_the_courses_words(call, hint):
    """numpy's words alone came out: 'array split does not result in an equal division',
    'cannot select an axis to squeeze out which has size not equal to one', 'input operand has
    more dimensions than allowed by the axis remapping', and for PyTorch's q.transpose(1, 2) of
    the heads, 'axes don't match array'."""
    A = gg.Tensor(np.ones((2, 3, 1)), name="A")
    with pytest.raises(gg.OpError, match=hint):
        call(A)


@pytest.mark.parametrize("other, tip", [
    ((4, 1, 8), r"repeat input 1 first, as Keras's RepeatVector does, with "
                r"gg\.broadcast_to\(x, \(4, 12, 8\)\)$"),
    ((4, 8), r"repeat input 1 first, as Keras's RepeatVector does, with "
             r"gg\.broadcast_to\(gg\.expand_dims\(x, 1\), \(4, 12, 8\)\)$"),
    ((4, 3, 8), r"got shapes \(4, 12, 16\), \(4, 3, 8\)$"),  # a real mismatch: no tip
    ((8,), r"got shapes \(4, 12, 16\), \(8,\)$"),
], ids=["size-1 axis", "missing axis", "mismatch", "two axes short"])
def test_concatenate_of_shapes_that_would_broadcast_says_how_to_repeat(other, tip):
    """The attention model joins s<t-1> (m, n_s) to a (m, T_x, 2 n_a) after Keras's
    RepeatVector; concatenate said only that the dimensions must match exactly."""
    a = gg.Tensor(np.ones((4, 12, 16)), name="a")
    s = gg.Tensor(np.ones(other), name="s")
    with pytest.raises(gg.OpError, match=r"\n  concatenate joins along an existing axis: "
                       r"every other dimension must be equal, .*" + tip):
        gg.concatenate([a, s], axis=-1)
    if len(other) == 2:  # the tip's repeat fits
        x = s
        joined = gg.concatenate([a, gg.broadcast_to(gg.expand_dims(x, 1), (4, 12, 8))], axis=-1)
        assert joined.shape == (4, 12, 24)


def test_pytorchs_flat_pad_tuple_is_translated_in_pads_error():
    """F.pad(x, (left, right, top, bottom)) is PyTorch's, last axes first; numpy's pad_width
    is pairs in axis order. The error gives the pairs for the same axes, and for images
    ported from NCHW, whose H and W are axes 1 and 2 here."""
    x = gg.Tensor(np.ones((1, 3, 2, 1)), name="A")
    with pytest.raises(gg.OpError) as caught:
        gg.nn.functional.pad(x, (1, 1, 2, 3))
    message = str(caught.value)
    assert "PyTorch's F.pad(x, (1, 1, 2, 3))" in message
    assert "pad_width=((0, 0), (0, 0), (2, 3), (1, 1))" in message
    assert "((0, 0), (2, 3), (1, 1), (0, 0))" in message
    assert "nn.ZeroPad2d((1, 1, 2, 3))" in message
    # the pairs it gives are the padding asked for
    padded = gg.pad(x, ((0, 0), (2, 3), (1, 1), (0, 0)))
    assert padded.shape == (1, 8, 4, 1)
    with pytest.raises(gg.OpError) as caught:
        gg.pad(x, (1, 2, 3))  # not pairs: no PyTorch reading offered
    assert "PyTorch" not in str(caught.value)
@pytest.mark.parametrize("call, message", [
    (lambda: nn.BatchNorm2d(64, 1e-5, 0.1, False),
     "BatchNorm2d: dtype must be np.float64 or np.float32, got False, a flag: PyTorch's order "
     "is BatchNorm2d(num_features, eps, momentum, affine, track_running_stats), the course's "
     "BatchNorm2d(n, momentum, eps, dtype); write BatchNorm2d(64, momentum=0.9, eps=1e-05, "
     "affine=False) (momentum is the weight of the old statistics: PyTorch's 0.1 is 0.9)"),
    (lambda: nn.Embedding(10, 4, 0),
     "Embedding: init must be an initialiser, got 0: PyTorch's order is Embedding("
     "num_embeddings, embedding_dim, padding_idx, max_norm, norm_type, scale_grad_by_freq), "
     "the course's Embedding(n_vocab, n_e, init, rng, dtype); write Embedding(10, 4, "
     "padding_idx=0) (PyTorch's options are keywords here)"),
    (lambda: nn.Conv1d(4, 8, 3, 1, 1, 2),
     "Conv1d: init must be an initialiser, got 2: PyTorch's order is Conv1d(in_channels, "
     "out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode), the "
     "course's Conv1d(n_C_prev, n_C, f, stride, padding, init, bias, rng, dtype); give "
     "PyTorch's options by name: Conv1d(4, 8, 3, 1, 1, dilation=2)"),
    (lambda: nn.InstanceNorm2d(3, 1e-5, True),
     "InstanceNorm2d: momentum must be a number in [0, 1), got True: PyTorch's order is "
     "InstanceNorm2d(num_features, eps, momentum, affine, track_running_stats); write "
     "InstanceNorm2d(3, affine=True)"),
], ids=["batchnorm", "embedding", "conv1d", "instancenorm"])
def test_a_call_in_pytorchs_positional_order_is_refused_in_one_wording(call, message):
    """Every layer whose positional order differs from PyTorch's words the refusal alike
    (`gg.errors.pytorch_order_error`): what landed where, both orders, the call to write."""
    with pytest.raises(gg.ArgumentError) as caught:
        call()
    assert str(caught.value) == message


@pytest.mark.parametrize("call, message", [
    (lambda: nn.Linear(4, 8, False),
     "Linear: init must be an initialiser, got False: PyTorch's order is Linear(in_features, "
     "out_features, bias), the course's Linear(n_in, n_out, init, bias, rng, dtype); write "
     "Linear(4, 8, bias=False)"),
    (lambda: nn.Linear(4, 8, True), ("Linear: init must be an initialiser, got True: ",
                                     "; write Linear(4, 8)")),
    (lambda: nn.LSTMCell(4, 8, False),
     "LSTMCell: init must be an initialiser, got False: PyTorch's order is LSTMCell("
     "input_size, hidden_size, bias), the course's LSTMCell(n_x, n_a, init, rng, dtype, bias, "
     "proj_size); write LSTMCell(4, 8, bias=False)"),
    (lambda: nn.GRUCell(4, 8, False), (
        "GRUCell: init must be an initialiser, got False: PyTorch's order is GRUCell("
        "input_size, hidden_size, bias), ", "; write GRUCell(4, 8, bias=False, "
        "reset_after=True) (reset_after=True is PyTorch's candidate")),
    (lambda: nn.RNNCell(4, 8, True, "relu"),
     "RNNCell: init must be an initialiser, got True: PyTorch's order is RNNCell(input_size, "
     "hidden_size, bias, nonlinearity), the course's RNNCell(n_x, n_a, init, rng, dtype, "
     "nonlinearity, bias); write RNNCell(4, 8, nonlinearity='relu')"),
    (lambda: nn.RNN(4, 8, 2, "relu"),
     "RNN: cell must be 'rnn', 'lstm' or 'gru', got 2: PyTorch's order is RNN(input_size, "
     "hidden_size, num_layers, nonlinearity, bias, batch_first, dropout, bidirectional), the "
     "course's RNN(n_x, n_a, cell, num_layers, bidirectional, init, rng, dtype, nonlinearity, "
     "dropout, reset_after, bias, proj_size); write RNN(4, 8, num_layers=2, "
     "nonlinearity='relu') (X of shape (m, T_x, n_x), PyTorch's batch_first=True layout)"),
    (lambda: nn.RNN(4, 8, 1, "tanh", False, True, 0.5, True), (
        "; write RNN(4, 8, bidirectional=True, dropout=0.5, bias=False) (X of shape",)),
    (lambda: nn.Dropout(0.2, True),
     "Dropout: rng must be None, a seed (a whole number >= 0) or a np.random.Generator, "
     "got True: PyTorch's order "
     "is Dropout(p, inplace), the course's Dropout(keep_prob, rng); write Dropout(0.8) "
     "(keep_prob is 1 - p; graphgrad never writes in place)"),
    (lambda: nn.Dropout2d(0.5, False), (
        "Dropout2d: rng must be None, a seed (a whole number >= 0) or a np.random.Generator, "
        "got False: PyTorch's "
        "order is Dropout2d(p, inplace), ", "; write Dropout2d(0.5) (")),
    (lambda: nn.Upsample(None, 2, "bilinear"),
     "Upsample: scale_factor must not be None when size follows by position, got None, 2: "
     "PyTorch's order is Upsample(size, scale_factor, mode, align_corners), the course's "
     "Upsample(scale_factor, size, mode, align_corners); write Upsample(scale_factor=2, "
     "mode='bilinear') (or Upsample(size=2, mode='bilinear') for an output of that size)"),
], ids=["Linear", "Linear bias=True", "LSTMCell", "GRUCell", "RNNCell", "RNN", "RNN all",
        "Dropout", "Dropout2d", "Upsample"])
def test_pytorchs_positional_calls_that_land_elsewhere_are_refused(call, message):
    """PyTorch's Linear(4, 8, False) puts its bias in the course's init, LSTMCell's too,
    RNN's num_layers in cell, Dropout's inplace in rng, Upsample(None, 2)'s scale factor in
    size: each is refused with the two orders and the call that does what was meant."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the refusal comes alone, with no warning before it
        with pytest.raises(gg.ArgumentError) as caught:
            call()
    if isinstance(message, tuple):  # fragments, the first at the start
        assert str(caught.value).startswith(message[0]) or len(message) == 1, caught.value
        assert all(part in str(caught.value) for part in message), caught.value
    else:
        assert str(caught.value) == message


@pytest.mark.parametrize("call, wanted", [
    (lambda: nn.Upsample(2, None, "bilinear"), "Upsample(scale_factor=2, mode='bilinear')"),
    (lambda: nn.Upsample(size=2), "Upsample(size=2, mode='nearest')"),
    (lambda: nn.Upsample(None, size=3), "Upsample(size=3, mode='nearest')"),
])
def test_upsample_in_the_courses_order_or_by_name_is_taken(call, wanted):
    assert repr(call()) == wanted
