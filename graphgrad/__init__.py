"""graphgrad: a small autodiff framework you can see through.

Define models imperatively with `Tensor`; every op records a node of a dynamic computation
graph; ``J.backward()`` runs reverse-mode backpropagation and fills ``.grad`` (the course's
``dvar``: ``dW``, ``dz``, ``da``) for every node. Reading order for newcomers:
`tensor` -> `function` (the op base class) -> `engine` (the graph walk) -> `ops/` ->
`gradcheck`; then `nn/` and `optim`.
"""
__version__ = "0.1.0"

from graphgrad.tensor import Tensor
from graphgrad.function import Function
from graphgrad.engine import grad
from graphgrad.modes import enable_grad, is_grad_enabled, name_scope, no_grad
from graphgrad.debug import detect_anomaly, strict_shapes
from graphgrad.errors import (
    AnomalyError, ArgumentError, BackwardError, ConventionWarning, GraphgradError,
    GraphgradTypeError, InplaceError, LinAlgError, OpError, ShapeError,
)
from graphgrad.ops.arithmetic import add, div, matmul, mul, neg, pow, sub
from graphgrad.ops.elementwise import (
    abs, clip, cos, exp, expm1, leaky_relu, log, log1p, maximum, minimum, relu, sigmoid, sin,
    sqrt, tanh, where,
)
from graphgrad.ops.elementwise import fmax, fmin
from graphgrad.ops.trigonometric import (
    acos, acosh, arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, asin, asinh, atan,
    atan2, atanh, cosh, hypot, sinh, tan,
)
from graphgrad.ops.powers import cbrt, exp2, log2, log10, logaddexp, reciprocal
from graphgrad.ops.special import erf, erfc, erfinv
from graphgrad.ops.activations import (
    celu, elu, gelu, glu, log_sigmoid, mish, selu, silu, softplus, softsign, tanhshrink,
)
from graphgrad.ops.piecewise import hardshrink, hardsigmoid, hardswish, softshrink, threshold
from graphgrad.ops.reductions import average, max, mean, min, norm, prod, std, sum, var
from graphgrad.ops.cumulative import cumsum, diff
from graphgrad.ops.cumulative import cumprod
from graphgrad.ops.statistics import corrcoef, cov, nan_to_num, nanmean, nansum, ptp
from graphgrad.ops.trigonometric import deg2rad, degrees, rad2deg, radians, sinc
from graphgrad.ops.contraction import vdot
from graphgrad.ops.statistics import (
    nancumprod, nancumsum, nanmax, nanmin, nanprod, nanstd, nanvar,
)
from graphgrad.ops.quantiles import nanmedian, nanpercentile, nanquantile
from graphgrad.ops.cumulative import cumulative_prod, cumulative_sum
from graphgrad.ops.differences import ediff1d, gradient, trapezoid
from graphgrad.ops.compositions import (
    block, broadcast_arrays, matrix_transpose, meshgrid, unstack,
)
from graphgrad.ops.softmax import log_softmax, logsumexp, softmax, softmin
from graphgrad.ops.convolution import conv1d, conv2d, conv_transpose2d
from graphgrad.ops.pooling import (
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
    max_unpool1d,
    max_unpool2d,
)
from graphgrad.ops.patches import fold, pixel_shuffle, pixel_unshuffle, unfold
from graphgrad.ops.shape import (
    astype, broadcast_to, concatenate, expand_dims, pad, reshape, split, squeeze, stack,
    swapaxes, transpose,
)
from graphgrad.ops.rearrange import flip, hstack, moveaxis, repeat, roll, tile, vstack
from graphgrad.ops.contraction import cross, einsum, inner, kron, outer, tensordot
from graphgrad.ops.gather import sort, take_along_axis
from graphgrad.ops.diagonals import diag, diagonal, trace, tril, triu
from graphgrad.ops.quantiles import median, percentile, quantile
from graphgrad import linalg  # gg.linalg.inv, solve, det, ...: a namespace, as np.linalg
from graphgrad.ops.compositions import (
    atleast_1d, atleast_2d, atleast_3d, column_stack, copy, dstack, fliplr, flipud, rot90,
)
from graphgrad.gradcheck import GradcheckError, GradcheckResult, gradcheck, gradgradcheck
from graphgrad.functional import hessian, hvp, jacobian, jvp, vhp, vjp
# The toolkit is built on everything above: imported last.
from graphgrad import data, nn, optim
from graphgrad.io import load, save
from graphgrad.train import fit
from graphgrad.checkpointing import checkpoint

__all__ = [
    # tensors, ops, graphs and modes
    "Function", "Tensor", "checkpoint", "enable_grad", "grad", "is_grad_enabled",
    "name_scope", "no_grad",
    "hessian", "hvp", "jacobian", "jvp", "vhp", "vjp",
    "add", "div", "matmul", "mul", "neg", "pow", "sub",
    "abs", "clip", "cos", "exp", "expm1", "leaky_relu", "log", "log1p", "maximum", "minimum",
    "relu", "sigmoid", "sin", "sqrt", "tanh", "where",
    "fmax", "fmin",
    "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "cosh", "hypot",
    "sinh", "tan", "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh",
    "cbrt", "exp2", "log10", "log2", "logaddexp", "reciprocal",
    "erf", "erfc", "erfinv",
    "celu", "elu", "gelu", "glu", "hardshrink", "hardsigmoid", "hardswish", "log_sigmoid",
    "mish", "selu", "silu", "softplus", "softshrink", "softsign", "tanhshrink", "threshold",
    "cumsum", "max", "mean", "min", "norm", "prod", "std", "sum", "var",
    "log_softmax", "logsumexp", "softmax", "softmin",
    "astype", "broadcast_to", "concatenate", "expand_dims", "pad", "reshape", "split",
    "squeeze", "stack", "swapaxes", "transpose",
    "flip", "hstack", "moveaxis", "repeat", "roll", "tile", "vstack", "einsum", "outer",
    "sort", "take_along_axis", "diag", "diagonal", "trace", "tril", "triu",
    "median", "percentile", "quantile",
    "atleast_1d", "atleast_2d", "atleast_3d", "column_stack", "copy", "dstack", "fliplr",
    "flipud", "rot90", "average", "diff", "inner", "kron", "tensordot",
    "cross", "linalg",
    "corrcoef", "cov", "cumprod", "deg2rad", "degrees", "nan_to_num", "nanmean", "nansum", "ptp",
    "rad2deg", "radians", "sinc", "vdot",
    "nancumprod", "nancumsum", "nanmax", "nanmedian", "nanmin", "nanpercentile", "nanprod",
    "nanquantile", "nanstd", "nanvar", "cumulative_prod", "cumulative_sum", "ediff1d",
    "gradient", "trapezoid", "block", "broadcast_arrays", "matrix_transpose", "meshgrid",
    "unstack",
    "avg_pool1d", "avg_pool2d", "conv1d", "conv2d", "conv_transpose2d", "max_pool1d",
    "max_pool2d", "max_unpool1d", "max_unpool2d", "fold", "pixel_shuffle", "pixel_unshuffle",
    "unfold",
    # checking and debugging
    "GradcheckResult", "detect_anomaly", "gradcheck", "gradgradcheck", "strict_shapes",
    # errors
    "AnomalyError", "ArgumentError", "BackwardError", "ConventionWarning", "GradcheckError",
    "GraphgradError", "GraphgradTypeError", "InplaceError", "LinAlgError", "OpError",
    "ShapeError",
    # the toolkit
    "data", "fit", "io", "load", "nn", "optim", "save", "train",
]
