"""A tensor argument that holds no numbers is refused in the words of the function called.

Every public function of ``gg.__all__`` and ``gg.linalg`` that takes tensors (and nn's
losses, ``nn.linear`` and ``nn.scaled_dot_product_attention``) is called below with one tensor
argument replaced by a value that holds no numbers (a string, None, a list holding None, an
array of Python objects), the other arguments valid. Each must raise a `gg.GraphgradError`
whose message begins with the name of the function the user called (``kron: ...``,
``gg.kron ...``, ``linalg.inv ...``) and says the value needs numbers, not with the name of
an op inside it (``Reshape: input 0 ...``). Functions made of several ops check their
tensors up front with `graphgrad.errors.array_of_numbers`, naming themselves and the
argument.

The rule for a function that is one op: the op's class name is accepted when it is the
function's name spelled as a class (``exp`` -> ``Exp``, ``log_softmax`` -> ``LogSoftmax``,
``matmul`` -> ``MatMul``: the same letters, case and underscores aside), and for numpy's
short aliases (``acos``) the name of the function they alias (``arccos`` -> ``Arccos``).
Any other name, an inner op's, fails.
"""
import re

import numpy as np
import pytest

import graphgrad as gg
from graphgrad import nn

X = np.ones((2, 3))
SQ = np.ones((3, 3))
SPD = SQ + 2 * np.eye(3)  # invertible, positive definite
V = np.ones(3)
IMG, W2 = np.ones((1, 4, 4, 1)), np.ones((2, 2, 1, 1))  # channels last
SEQ, W1 = np.ones((1, 4, 1)), np.ones((2, 1, 1))
BIAS = np.ones(1)
W3 = np.ones((2, 3, 3))  # a bilinear layer's W (n_out, n1, n2)
VARIABLES = np.array([[0.0, 1.0, 3.0], [2.0, 1.0, 1.5]])  # 2 of 3 unequal observations
NO_NUMBERS = {"str": "abc", "None": None, "list-None": [1.0, None],
              "object-array": np.array([[1.0, None]], dtype=object)}

# numpy's short spellings: the op is named for the function they alias
ALIASES = {"acos": "arccos", "acosh": "arccosh", "asin": "arcsin", "asinh": "arcsinh",
           "atan": "arctan", "atan2": "arctan2", "atanh": "arctanh"}
ALIASES.update({"radians": "deg2rad", "degrees": "rad2deg"})

ONE_TENSOR = [
    "abs", "acos", "acosh", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctanh",
    "asin", "asinh", "atan", "atanh", "cbrt", "copy", "cos", "cosh", "cumsum", "diag",
    "diagonal", "diff", "elu", "erf", "erfc", "erfinv", "exp", "exp2", "expm1", "flip", "fliplr",
    "flipud", "gelu", "leaky_relu", "log", "log10", "log1p", "log2", "log_sigmoid",
    "log_softmax", "logsumexp",
    "max", "mean", "median", "min", "neg", "norm", "prod", "reciprocal", "relu", "rot90",
    "sigmoid", "silu", "sin", "sinh", "softmax", "softplus", "sort", "sqrt", "squeeze", "std",
    "sum", "tan", "tanh", "trace", "transpose", "tril", "triu", "var",
    "atleast_1d", "atleast_2d", "atleast_3d",
    "corrcoef", "cov", "cumprod", "deg2rad", "degrees", "nan_to_num", "nanmean", "nansum", "ptp",
    "rad2deg", "radians", "sinc",
    "nanmax", "nanmin", "nanprod", "nanvar", "nanstd", "nancumsum", "nancumprod", "nanmedian",
    "cumulative_sum", "cumulative_prod", "matrix_transpose", "unstack", "block",
    "broadcast_arrays", "meshgrid", "trapezoid", "ediff1d", "gradient",
    "celu", "glu", "hardshrink", "hardsigmoid", "hardswish", "mish", "selu", "softmin",
    "softshrink", "softsign", "tanhshrink",
]
TWO_TENSORS = [
    "add", "arctan2", "atan2", "cross", "div", "fmax", "fmin", "hypot", "inner", "kron",
    "logaddexp", "matmul", "maximum", "minimum", "mul", "outer", "pow", "sub", "tensordot",
    "vdot",
]
# (function, which argument is replaced, the call given that argument)
def _cost(x):
    return (x**3).sum()


CALLS = (
    [(name, "x", lambda b, name=name: getattr(gg, name)(b)) for name in ONE_TENSOR]
    + [(name, arg, call) for name in TWO_TENSORS for arg, call in [
        ("first", lambda b, name=name: getattr(gg, name)(b, SQ)),
        ("second", lambda b, name=name: getattr(gg, name)(SQ, b))]]
    + [
        ("clip", "x", lambda b: gg.clip(b, 0.0, 1.0)),
        ("where", "condition", lambda b: gg.where(b, X, X)),
        ("where", "x", lambda b: gg.where(X > 0, b, X)),
        ("where", "y", lambda b: gg.where(X > 0, X, b)),
        ("astype", "x", lambda b: gg.astype(b, np.float32)),
        ("broadcast_to", "x", lambda b: gg.broadcast_to(b, (2, 3))),
        ("concatenate", "input 1", lambda b: gg.concatenate([X, b])),
        ("stack", "input 1", lambda b: gg.stack([X, b])),
        ("hstack", "input 1", lambda b: gg.hstack([X, b])),
        ("vstack", "input 1", lambda b: gg.vstack([X, b])),
        ("column_stack", "input 1", lambda b: gg.column_stack([X, b])),
        ("dstack", "input 1", lambda b: gg.dstack([X, b])),
        ("expand_dims", "x", lambda b: gg.expand_dims(b, 0)),
        ("pad", "x", lambda b: gg.pad(b, 1)),
        ("reshape", "x", lambda b: gg.reshape(b, (-1,))),
        ("split", "x", lambda b: gg.split(b, 1)),
        ("swapaxes", "x", lambda b: gg.swapaxes(b, 0, 1)),
        ("moveaxis", "x", lambda b: gg.moveaxis(b, 0, -1)),
        ("repeat", "x", lambda b: gg.repeat(b, 2)),
        ("roll", "x", lambda b: gg.roll(b, 1)),
        ("tile", "x", lambda b: gg.tile(b, 2)),
        ("einsum", "operand 0", lambda b: gg.einsum("ij,jk->ik", b, SQ)),
        ("einsum", "operand 1", lambda b: gg.einsum("ij,jk->ik", SQ, b)),
        ("take_along_axis", "x",
         lambda b: gg.take_along_axis(b, np.zeros((2, 1), dtype=int), axis=-1)),
        ("percentile", "x", lambda b: gg.percentile(b, 50)),
        ("quantile", "x", lambda b: gg.quantile(b, 0.5)),
        ("average", "x", lambda b: gg.average(b)),
        ("average", "weights", lambda b: gg.average(V, weights=b)),  # None: no weights
        ("avg_pool2d", "A", lambda b: gg.avg_pool2d(b, 2)),
        ("max_pool2d", "A", lambda b: gg.max_pool2d(b, 2)),
        ("avg_pool1d", "A", lambda b: gg.avg_pool1d(b, 2)),
        ("max_pool1d", "A", lambda b: gg.max_pool1d(b, 2)),
        ("max_unpool2d", "A", lambda b: gg.max_unpool2d(b, np.zeros((1, 1, 1, 1), int), 2)),
        ("max_unpool2d", "indices", lambda b: gg.max_unpool2d(np.ones((1, 1, 1, 1)), b, 2)),
        ("max_unpool1d", "A", lambda b: gg.max_unpool1d(b, np.zeros((1, 1, 1), int), 2)),
        ("max_unpool1d", "indices", lambda b: gg.max_unpool1d(np.ones((1, 1, 1)), b, 2)),
        ("unfold", "A", lambda b: gg.unfold(b, 2)),
        ("fold", "Y", lambda b: gg.fold(b, (4, 4), 2)),
        ("pixel_shuffle", "A", lambda b: gg.pixel_shuffle(b, 2)),
        ("pixel_unshuffle", "A", lambda b: gg.pixel_unshuffle(b, 2)),
        ("conv1d", "A", lambda b: gg.conv1d(b, W1)),
        ("conv1d", "W", lambda b: gg.conv1d(SEQ, b)),
        ("conv1d", "b", lambda b: gg.conv1d(SEQ, W1, b)),  # None: no bias
        ("conv2d", "A", lambda b: gg.conv2d(b, W2)),
        ("conv2d", "W", lambda b: gg.conv2d(IMG, b)),
        ("conv2d", "b", lambda b: gg.conv2d(IMG, W2, b)),
        ("conv_transpose2d", "A", lambda b: gg.conv_transpose2d(b, W2)),
        ("conv_transpose2d", "W", lambda b: gg.conv_transpose2d(IMG, b)),
        ("conv_transpose2d", "b", lambda b: gg.conv_transpose2d(IMG, W2, b)),
        ("cov", "y", lambda b: gg.cov(X, b)),  # None: no y
        ("corrcoef", "y", lambda b: gg.corrcoef(VARIABLES, b)),
        ("nanquantile", "x", lambda b: gg.nanquantile(b, 0.5)),
        ("nanpercentile", "x", lambda b: gg.nanpercentile(b, 50)),
        ("broadcast_arrays", "input 1", lambda b: gg.broadcast_arrays(X, b)),
        ("meshgrid", "input 1", lambda b: gg.meshgrid(V, b)),
        ("trapezoid", "x", lambda b: gg.trapezoid(SQ, b)),  # None: spaced dx apart
        ("ediff1d", "to_begin", lambda b: gg.ediff1d(V, to_begin=b)),  # None: nothing joined
    ]
    + [(f"linalg.{name}", "a", lambda b, name=name: getattr(gg.linalg, name)(b))
       for name in ("inv", "det", "slogdet", "cholesky", "eigh", "eigvalsh", "svd", "svdvals",
                    "qr", "pinv")]
    + [(f"linalg.{name}", "x", lambda b, name=name: getattr(gg.linalg, name)(b))
       for name in ("vector_norm", "matrix_norm", "matrix_transpose", "diagonal", "trace")]
    + [(f"linalg.{name}", arg, lambda b, name=name, i=i: getattr(gg.linalg, name)(
        *[b if j == i else V for j in range(2)]))
       for name in ("outer", "vecdot", "cross") for i, arg in enumerate(("x1", "x2"))]
    + [(f"linalg.{name}", arg, lambda b, name=name, i=i: getattr(gg.linalg, name)(
        *[b if j == i else SQ for j in range(2)]))
       for name in ("tensordot", "matmul") for i, arg in enumerate(("x1", "x2"))]
    + [
        ("linalg.solve", "a", lambda b: gg.linalg.solve(b, V)),
        ("linalg.solve", "b", lambda b: gg.linalg.solve(SPD, b)),
        ("linalg.lstsq", "a", lambda b: gg.linalg.lstsq(b, V)[0]),
        ("linalg.lstsq", "b", lambda b: gg.linalg.lstsq(SPD, b)[0]),
        ("linalg.multi_dot", "arrays[1]", lambda b: gg.linalg.multi_dot([SQ, b])),
        ("linalg.matrix_power", "a", lambda b: gg.linalg.matrix_power(b, 3)),
        ("linalg.cond", "x", lambda b: gg.linalg.cond(b)),
        ("linalg.matrix_rank", "A", lambda b: gg.linalg.matrix_rank(b)),
        ("linalg.tensorinv", "a", lambda b: gg.linalg.tensorinv(b, ind=1)),
        ("linalg.tensorsolve", "a", lambda b: gg.linalg.tensorsolve(b, V)),
        ("linalg.tensorsolve", "b", lambda b: gg.linalg.tensorsolve(SPD, b)),
    ]
    # derivatives of a function (gg.functional): its inputs, and v (None: v = 1, refused for
    # more than one element)
    + [("threshold", "x", lambda b: gg.threshold(b, 0.5, -1.0)),
       ("jacobian", "inputs", lambda b: gg.jacobian(gg.sin, b)),
       ("hessian", "inputs", lambda b: gg.hessian(_cost, b))]
    + [(name, "inputs", lambda b, name=name: getattr(gg, name)(gg.sin, b, SQ))
       for name in ("vjp", "jvp")]
    + [(name, "inputs", lambda b, name=name: getattr(gg, name)(_cost, b, SQ))
       for name in ("vhp", "hvp")]
    + [("vjp", "v", lambda b: gg.vjp(gg.sin, SQ, b))]
    + [(name, "v", lambda b, name=name: getattr(gg, name)(gg.sin if name == "jvp" else _cost,
                                                         SQ, b))
       for name in ("jvp", "vhp", "hvp")]
)
# nn's functions of tensors (the others take token ids, sizes, parameters or callables)
Y = np.array([0, 2])
NN_CALLS = [
    ("cross_entropy", "logits", lambda b: nn.cross_entropy(b, Y)),
    ("cross_entropy", "labels", lambda b: nn.cross_entropy(X, b)),
    ("cross_entropy", "one-hot labels", lambda b: nn.cross_entropy(X[:1, :2], b)),
    ("cross_entropy", "multi-labels",
     lambda b: nn.cross_entropy(X[:1, :2], b, multi_label=True)),
    ("binary_cross_entropy_with_logits", "logits",
     lambda b: nn.binary_cross_entropy_with_logits(b, X)),
    ("binary_cross_entropy_with_logits", "labels",
     lambda b: nn.binary_cross_entropy_with_logits(X[:1, :2], b)),
    ("binary_cross_entropy", "probs", lambda b: nn.binary_cross_entropy(b, X)),
    ("binary_cross_entropy", "labels", lambda b: nn.binary_cross_entropy(X[:1, :2] / 2, b)),
    ("mse", "predictions", lambda b: nn.mse(b, X)),
    ("mse", "targets", lambda b: nn.mse(X[:1, :2], b)),
    ("linear", "X", lambda b: nn.linear(b, SQ)),
    ("linear", "W", lambda b: nn.linear(X, b)),
    ("linear", "b", lambda b: nn.linear(X, SQ, b)),  # None: no bias
    ("bilinear", "X1", lambda b: nn.bilinear(b, X, W3)),
    ("bilinear", "X2", lambda b: nn.bilinear(X, b, W3)),
    ("bilinear", "W", lambda b: nn.bilinear(X, X, b)),
    ("bilinear", "b", lambda b: nn.bilinear(X, X, W3, b)),  # None: no bias
    ("scaled_dot_product_attention", "Q", lambda b: nn.scaled_dot_product_attention(b, X, X)),
    ("scaled_dot_product_attention", "K", lambda b: nn.scaled_dot_product_attention(X, b, X)),
    ("scaled_dot_product_attention", "V", lambda b: nn.scaled_dot_product_attention(X, X, b)),
    ("cosine_embedding_loss", "x1", lambda b: nn.cosine_embedding_loss(b, X, [1.0, -1.0])),
    ("cosine_embedding_loss", "x2", lambda b: nn.cosine_embedding_loss(X, b, [1.0, -1.0])),
    ("cosine_embedding_loss", "target", lambda b: nn.cosine_embedding_loss(X, X, b)),
    ("soft_margin_loss", "predictions", lambda b: nn.soft_margin_loss(b, -X)),
    ("soft_margin_loss", "targets", lambda b: nn.soft_margin_loss(X, b)),
    ("multi_margin_loss", "predictions", lambda b: nn.multi_margin_loss(b, Y)),
    ("multi_margin_loss", "labels", lambda b: nn.multi_margin_loss(X, b)),
    ("multilabel_soft_margin_loss", "predictions",
     lambda b: nn.multilabel_soft_margin_loss(b, X)),
    ("multilabel_soft_margin_loss", "labels", lambda b: nn.multilabel_soft_margin_loss(X, b)),
    ("multilabel_margin_loss", "predictions",
     lambda b: nn.multilabel_margin_loss(b, [[0, -1, 1], [2, 1, -1]])),
    ("multilabel_margin_loss", "labels", lambda b: nn.multilabel_margin_loss(X, b)),
    ("poisson_nll_loss", "predictions", lambda b: nn.poisson_nll_loss(b, X)),
    ("poisson_nll_loss", "targets", lambda b: nn.poisson_nll_loss(X, b)),
    ("gaussian_nll_loss", "predictions", lambda b: nn.gaussian_nll_loss(b, X, X)),
    ("gaussian_nll_loss", "targets", lambda b: nn.gaussian_nll_loss(X, b, X)),
    ("gaussian_nll_loss", "var", lambda b: nn.gaussian_nll_loss(X, X, b)),
]
# a value of numbers each call works with in place of the one holding none (SQ if not here):
# the other arguments of the tables are valid, so the error can only be about that one
ONE_HOT = np.array([[0.0, 1.0]])
GOOD = {
    **{(name, arg): X for name, arg, _ in CALLS + NN_CALLS if name in (
        "clip", "astype", "broadcast_to", "concatenate", "stack", "hstack", "vstack",
        "column_stack", "dstack", "expand_dims", "pad", "reshape", "split", "swapaxes",
        "moveaxis", "repeat", "roll", "tile", "take_along_axis", "percentile", "quantile",
        "average", "scaled_dot_product_attention")},
    ("where", "condition"): X > 0, ("where", "x"): X, ("where", "y"): X,
    ("average", "weights"): V, ("avg_pool2d", "A"): IMG, ("max_pool2d", "A"): IMG,
    ("avg_pool1d", "A"): SEQ, ("max_pool1d", "A"): SEQ, ("unfold", "A"): IMG,
    ("max_unpool2d", "A"): np.ones((1, 1, 1, 1)),
    ("max_unpool2d", "indices"): np.zeros((1, 1, 1, 1), int),
    ("max_unpool1d", "A"): np.ones((1, 1, 1)),
    ("max_unpool1d", "indices"): np.zeros((1, 1, 1), int),
    ("fold", "Y"): np.ones((1, 9, 4)), ("pixel_shuffle", "A"): np.ones((1, 2, 2, 4)),
    ("pixel_unshuffle", "A"): IMG,
    ("bilinear", "X1"): X, ("bilinear", "X2"): X, ("bilinear", "W"): W3,
    ("bilinear", "b"): np.ones(2),
    ("conv1d", "A"): SEQ, ("conv1d", "W"): W1, ("conv1d", "b"): BIAS,
    ("conv2d", "A"): IMG, ("conv2d", "W"): W2, ("conv2d", "b"): BIAS,
    ("conv_transpose2d", "A"): IMG, ("conv_transpose2d", "W"): W2,
    ("conv_transpose2d", "b"): BIAS,
    ("cross_entropy", "logits"): X, ("cross_entropy", "labels"): Y,
    ("cross_entropy", "one-hot labels"): ONE_HOT, ("cross_entropy", "multi-labels"): ONE_HOT,
    ("binary_cross_entropy_with_logits", "logits"): X,
    ("binary_cross_entropy_with_logits", "labels"): ONE_HOT,
    ("binary_cross_entropy", "probs"): X / 2, ("binary_cross_entropy", "labels"): ONE_HOT,
    ("mse", "predictions"): X, ("mse", "targets"): ONE_HOT,
    ("linear", "X"): X, ("linear", "b"): V,
    ("arctanh", "x"): SQ / 2, ("atanh", "x"): SQ / 2,  # finite inside (-1, 1)
    ("erfinv", "x"): SQ / 2,
    # variables of unequal values, whose correlations are finite
    ("cov", "y"): X, ("corrcoef", "x"): VARIABLES, ("corrcoef", "y"): VARIABLES[:1],
    **{(name, "a"): SPD for name, _, _ in CALLS if name.startswith("linalg.")},
    ("linalg.solve", "b"): V, ("linalg.lstsq", "b"): V,
    ("linalg.cond", "x"): SPD, ("linalg.tensorsolve", "b"): V,  # invertible; a vector
    **{(f"linalg.{name}", arg): V for name in ("outer", "vecdot", "cross") for arg in ("x1", "x2")},
    # numpy 2's running ops take axis=None of a vector only; coordinates along an axis
    ("cumulative_sum", "x"): V, ("cumulative_prod", "x"): V, ("trapezoid", "x"): V,
    ("ediff1d", "to_begin"): V, ("broadcast_arrays", "input 1"): X,
    ("glu", "x"): np.ones((2, 4)),  # an even last axis, halved
    ("cosine_embedding_loss", "x1"): X, ("cosine_embedding_loss", "x2"): X,
    ("cosine_embedding_loss", "target"): np.array([1.0, -1.0]),
    ("soft_margin_loss", "predictions"): X, ("soft_margin_loss", "targets"): -X,
    ("multi_margin_loss", "predictions"): X, ("multi_margin_loss", "labels"): Y,
    ("multilabel_soft_margin_loss", "predictions"): X,
    ("multilabel_soft_margin_loss", "labels"): X,
    ("multilabel_margin_loss", "predictions"): X,
    ("multilabel_margin_loss", "labels"): np.array([[0, -1, 1], [2, 1, -1]]),
    ("poisson_nll_loss", "predictions"): X, ("poisson_nll_loss", "targets"): X,
    ("gaussian_nll_loss", "predictions"): X, ("gaussian_nll_loss", "targets"): X,
    ("gaussian_nll_loss", "var"): X,
}
# None is a valid value of these arguments (no weights, no bias)
NONE_MEANS_ABSENT = {("average", "weights"), ("conv1d", "b"), ("conv2d", "b"),
                     ("conv_transpose2d", "b"), ("linear", "b"), ("bilinear", "b")}
NONE_MEANS_ABSENT |= {("cov", "y"), ("corrcoef", "y")}
NONE_MEANS_ABSENT |= {("trapezoid", "x"), ("ediff1d", "to_begin")}
NONE_MEANS_ABSENT |= {(name, "v") for name in ("vjp", "jvp", "vhp", "hvp")}  # v = 1
# public names that take no tensor to check here: classes, modes, checkers, the toolkit
NOT_TENSOR_FUNCTIONS = {
    "enable_grad", "grad", "is_grad_enabled", "name_scope", "no_grad", "detect_anomaly",
    "gradcheck", "gradgradcheck", "strict_shapes", "fit", "load", "save", "checkpoint",
}


def spelled_as_a_class(name: str) -> str:
    return name.replace("_", "").lower()


def names_the_function(first_word: str, function: str) -> bool:
    """Whether an error of ``gg.function`` that begins with ``first_word`` names it: its own
    name, or its op's (see the module's docstring)."""
    op = spelled_as_a_class(ALIASES.get(function, function))
    return first_word == function or spelled_as_a_class(first_word) == op


def test_the_table_covers_every_public_function_that_takes_tensors():
    functions = {name for name in gg.__all__ if callable(getattr(gg, name))
                 and not isinstance(getattr(gg, name), type)}
    functions |= {f"linalg.{name}" for name in gg.linalg.__all__
                  if not isinstance(getattr(gg.linalg, name), type)}
    assert functions - NOT_TENSOR_FUNCTIONS == {name for name, _, _ in CALLS}


@pytest.mark.parametrize("function, argument, call", CALLS + NN_CALLS,
                         ids=[f"{name}-{arg}" for name, arg, _ in CALLS + NN_CALLS])
def test_each_call_of_the_table_works_given_numbers(function, argument, call):
    """So that the refusals below are of the value holding no numbers, not of another."""
    result = call(GOOD.get((function, argument), SQ))
    for out in result if isinstance(result, (tuple, list)) else [result]:
        assert np.all(np.isfinite(out.data)), (function, argument)


# Each call with each value holding no numbers, but None where None means "not given".
REFUSALS = [(function, argument, call, bad, f"{function}-{argument}-{kind}")
            for function, argument, call in CALLS + NN_CALLS
            for kind, bad in NO_NUMBERS.items()
            if not (bad is None and (function, argument) in NONE_MEANS_ABSENT)]


@pytest.mark.parametrize("function, argument, call, bad", [case[:4] for case in REFUSALS],
                         ids=[case[4] for case in REFUSALS])
def test_an_argument_holding_no_numbers_is_refused_naming_the_function(
        function, argument, call, bad):
    with pytest.raises(gg.GraphgradError) as info:
        call(bad)
    message = str(info.value)
    first = re.match(r"(?:gg\.)?((?:linalg\.)?\w+)", message).group(1)  # gg.linalg's too
    assert names_the_function(first, function), message
    assert "numbers" in message, message
