"""The table of ops that drives the op tests: one row per op (or per variant of an op).

A row says how to call the op on Tensors (`fn`), what numpy computes for the same inputs
(`ref`), the shapes of its inputs, where the inputs may be drawn from (`domain`: positive for
log and sqrt, away from the kinks of relu, abs and clip, no ties for max/min), whether the
broadcasting shape pairs apply, whether second derivatives are meaningful, and (`random`) the
input shapes hypothesis may draw for it. Adding an op means adding a row; `test_ops`,
`test_broadcasting` and `test_properties` pick it up.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sequence_and_grid_references import (
    ctc_batch_by_paths,
    grid_sample_by_pixels,
)

import graphgrad as gg
from graphgrad.nn.ctc import CTCGrad
from graphgrad.nn.embedding import PaddedLookup, ScaledLookup
from graphgrad.nn.normalization import GroupNormalize
from graphgrad.ops.sampling import GridSampleGrad

Shape = tuple[int, ...]
Domain = Callable[[np.random.Generator, Sequence[Shape]], list[np.ndarray]]


# -- input domains ------------------------------------------------------------------------------
def _real(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    return rng.standard_normal(shape)


def _positive(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    return rng.uniform(0.5, 2.0, shape)


def _nonzero(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """Away from 0, the kink of relu, abs, leaky_relu (and the pole of 1/x)."""
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.3, 2.0, shape)


def _above_minus_one(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """Inside log1p's domain, x > -1, and away from its pole."""
    return rng.uniform(-0.7, 2.0, shape)


def zeros_per_row(rng: np.random.Generator, shapes: Sequence[Shape]) -> list[np.ndarray]:
    """Row i (along the first axis) holds i % 4 exact zeros, at random places: the slices
    of a product along the last axis with none, one, two and three zeros."""
    (shape,) = shapes
    x = rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 1.5, shape)
    rows = x.reshape(shape[0], -1)
    for i, row in enumerate(rows):
        row[rng.permutation(row.size)[:i % 4]] = 0.0
    return [x]


def _away_from_clip_bounds(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """Inside, below and above [-0.5, 0.5], never within 0.1 of a bound."""
    return rng.choice([-1.5, 0.0, 1.5], shape) + rng.uniform(-0.35, 0.35, shape)


def each(*kinds: Callable[[np.random.Generator, Shape], np.ndarray]) -> Domain:
    """Draw every input independently; one kind for all inputs, or one kind per input."""

    def draw(rng: np.random.Generator, shapes: Sequence[Shape]) -> list[np.ndarray]:
        chosen = kinds * len(shapes) if len(kinds) == 1 else kinds
        return [kind(rng, shape) for kind, shape in zip(chosen, shapes)]

    return draw


def distinct(rng: np.random.Generator, shapes: Sequence[Shape]) -> list[np.ndarray]:
    """All elements of all inputs distinct and at least 0.1 apart: no ties for max, min,
    maximum and minimum, so their gradients are smooth at the drawn point."""
    sizes = [int(np.prod(s)) for s in shapes]
    values = rng.permutation(np.arange(sum(sizes))) * 0.1 - 0.05 * sum(sizes)
    values = values + rng.uniform(-0.02, 0.02, values.shape)
    arrays, start = [], 0
    for shape, size in zip(shapes, sizes):
        arrays.append(values[start:start + size].reshape(shape))
        start += size
    return arrays


REAL = each(_real)
POSITIVE = each(_positive)
NONZERO = each(_nonzero)


# -- random shapes for the property tests -------------------------------------------------------
SIDES = st.integers(1, 4)


def shapes_of(min_dims: int = 0, max_dims: int = 3) -> st.SearchStrategy[Shape]:
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=4)


def one(shapes: st.SearchStrategy[Shape]) -> st.SearchStrategy[tuple[Shape]]:
    """Shapes for an op of one input."""
    return shapes.map(lambda shape: (shape,))


def with_side(axis: int, size: int | st.SearchStrategy[int], min_dims: int = 1
              ) -> st.SearchStrategy[tuple[Shape]]:
    """One input whose ``axis`` has ``size`` (an int or a strategy of them)."""
    sizes = size if isinstance(size, st.SearchStrategy) else st.just(size)

    @st.composite
    def draw_(d):
        shape = list(d(shapes_of(max(min_dims, axis + 1 if axis >= 0 else -axis))))
        shape[axis] = d(sizes)
        return (tuple(shape),)

    return draw_()


def joined(count: int, axis: int, ndim: int, new_axis: bool = False
           ) -> st.SearchStrategy[tuple[Shape, ...]]:
    """``count`` shapes of ``ndim`` dimensions that agree but along ``axis`` (or entirely, for
    a join along a new axis: stack)."""

    @st.composite
    def draw_(d):
        base = list(d(hnp.array_shapes(min_dims=ndim, max_dims=ndim, min_side=1, max_side=3)))
        if new_axis:
            return (tuple(base),) * count
        shapes = []
        for _ in range(count):
            base[axis] = d(SIDES)
            shapes.append(tuple(base))
        return tuple(shapes)

    return draw_()


def matmul_shapes(x_dims: int, y_dims: int) -> st.SearchStrategy[tuple[Shape, Shape]]:
    """Shapes of x and y that @ multiplies: (..., n, k) @ (..., k, p), 1-D operands as numpy
    takes them, the batch axes broadcast (some stretched from 1)."""

    @st.composite
    def draw_(d):
        n, k, p = d(SIDES), d(SIDES), d(SIDES)
        batch = d(hnp.array_shapes(min_dims=max(x_dims, y_dims, 2) - 2,
                                   max_dims=max(x_dims, y_dims, 2) - 2, min_side=1, max_side=3))

        def stretched(dims):
            own = batch[len(batch) - dims:] if dims else ()
            return tuple(1 if d(st.booleans()) else side for side in own)

        x = (k,) if x_dims == 1 else stretched(x_dims - 2) + (n, k)
        y = (k,) if y_dims == 1 else stretched(y_dims - 2) + (k, p)
        return x, y

    return draw_()


def conv_shapes(f_h: int, f_w: int, stride: int = 1, pad: int = 0, groups: int = 1,
                bias: Shape | None = (), per_group: int | None = None
                ) -> st.SearchStrategy[tuple[Shape, ...]]:
    """Shapes of A (m, n_H, n_W, groups * c), W (f_h, f_w, c, groups * k) and b (the bias's
    shape with the filters last, or none) for a convolution whose window fits the padded
    image; ``per_group`` fixes c (1: depthwise)."""

    @st.composite
    def draw_(d):
        m = d(st.integers(1, 2))
        n_h = d(st.integers(max(1, f_h - 2 * pad), f_h + 2 * stride))
        n_w = d(st.integers(max(1, f_w - 2 * pad), f_w + 2 * stride))
        c = per_group or d(st.integers(1, 2))
        n_c = groups * d(st.integers(1, 2))
        shapes = ((m, n_h, n_w, groups * c), (f_h, f_w, c, n_c))
        return shapes if bias is None else (*shapes, (*bias, n_c))

    return draw_()


def conv1d_shapes(f: int, stride: int = 1, pad: int = 0, groups: int = 1
                  ) -> st.SearchStrategy[tuple[Shape, ...]]:
    """`conv_shapes` for sequences: A (m, n_L, groups * c), W (f, c, groups * k), b."""
    return conv_shapes(1, f, stride, pad, groups).map(
        lambda s: ((s[0][0], s[0][2], s[0][3]), s[1][1:], s[2]))


def conv_transpose_shapes(f_h: int, f_w: int, bias: bool = True
                          ) -> st.SearchStrategy[tuple[Shape, ...]]:
    """Shapes of A (m, n_H, n_W, c_in), W (f_h, f_w, n_C, c_in) and b (n_C,) of a transposed
    convolution (every input size gives an output)."""

    @st.composite
    def draw_(d):
        m, n_h, n_w = d(st.integers(1, 2)), d(SIDES), d(SIDES)
        c_in, n_c = d(st.integers(1, 3)), d(st.integers(1, 3))
        shapes = ((m, n_h, n_w, c_in), (f_h, f_w, n_c, c_in))
        return (*shapes, (n_c,)) if bias else shapes

    return draw_()


def images(f: int, pad: int = 0) -> st.SearchStrategy[tuple[Shape]]:
    """One batch of images (m, n_H, n_W, n_C) that an f x f window fits, once padded."""
    low = max(1, f - 2 * pad)
    return st.tuples(st.integers(1, 2), st.integers(low, f + 3), st.integers(low, f + 3),
                     st.integers(1, 2)).map(lambda shape: (shape,))


# -- the rows -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Op:
    """One row of the table.

    name: the test id. fn: the op on Tensors. ref: the same computation in numpy.
    shapes: the input shapes of the basic case. domain: draws inputs for given shapes.
    broadcasting: a binary op that follows numpy broadcasting (the broadcasting pairs apply).
    elementwise: any input shape works (unary elementwise ops, and broadcasting binary ops).
    smooth: differentiable everywhere in its domain, so random compositions can use it.
    second_order: second derivatives are meaningful (gradgradcheck applies).
    check: extra keyword arguments for gradcheck (a coarser eps for float32 casts).
    random: a hypothesis strategy of input shapes (one tuple of shapes per draw) for which fn
        works, for the ops that are not elementwise (those take any shape already).
    """

    name: str
    fn: Callable[..., Any]
    ref: Callable[..., Any]
    shapes: tuple[Shape, ...]
    domain: Domain = REAL
    broadcasting: bool = False
    elementwise: bool = False
    smooth: bool = False
    second_order: bool = True
    check: dict = field(default_factory=dict)
    random: Any = None

    def __str__(self) -> str:
        return self.name


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def _elu(x: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _selu(x: np.ndarray) -> np.ndarray:
    """SELU with the constants of its paper (PyTorch's)."""
    return SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0)))


def _celu(x: np.ndarray, alpha: float) -> np.ndarray:
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0) / alpha))


def _mish(x: np.ndarray) -> np.ndarray:
    return x * np.tanh(_softplus(x))


def _hardsigmoid(x: np.ndarray) -> np.ndarray:
    return np.clip(x / 6 + 0.5, 0, 1)


def _glu(x: np.ndarray, axis: int) -> np.ndarray:
    a, b = np.split(x, 2, axis=axis)
    return a * _sigmoid(b)


def _away_from_three(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """Below -3, inside (-3, 3) and above 3, never within 0.2 of the kinks at +-3 (of
    hardsigmoid and hardswish)."""
    return rng.choice([-4.2, -1.6, 0.0, 1.6, 4.2]) + rng.uniform(-1.0, 1.0, shape)


def gelu_tanh(x: np.ndarray) -> np.ndarray:
    """GELU's tanh form as PyTorch writes it (approximate="tanh")."""
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


erf_by_math = np.vectorize(math.erf, otypes=[np.float64])
erfc_by_math = np.vectorize(math.erfc, otypes=[np.float64])


@np.vectorize
def erfinv_by_math(x: float) -> float:
    """y with math.erf(y) = x, by bisection to the last bit (math.erfc's beyond 0.5, where
    1 - x is exact)."""
    if abs(x) >= 1.0:
        return math.copysign(math.inf, x) if abs(x) == 1.0 else math.nan
    a, low, high = abs(x), 0.0, 6.0
    while True:
        mid = 0.5 * (low + high)
        if mid in (low, high):
            return math.copysign(mid, x)
        below = math.erfc(mid) > 1.0 - a if a > 0.5 else math.erf(mid) < a
        low, high = (mid, high) if below else (low, mid)


def gelu_exact(x: np.ndarray) -> np.ndarray:
    """GELU as PyTorch's default (approximate="none"): x Phi(x), by the standard library's
    erfc."""
    return 0.5 * x * erfc_by_math(-x / math.sqrt(2))


def _wide(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """Over erf's four intervals of |x| (0.84375, 1.25 and 2.86 apart), both signs."""
    return rng.uniform(-5.0, 5.0, shape)


def _inside_one(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """Inside erfinv's domain (-1, 1), away from its poles."""
    return rng.uniform(-0.95, 0.95, shape)


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _logsumexp(x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))


def _checkerboard(shape: Shape) -> np.ndarray:
    return (np.indices(shape).sum(axis=0) % 2 == 0) if shape else np.array(True)


def _where(x: Any, y: Any) -> Any:
    """where(checkerboard of the broadcast shape, x, y), in graphgrad or numpy."""
    shape = np.broadcast_shapes(np.shape(x), np.shape(y))
    if isinstance(x, gg.Tensor):
        return gg.where(_checkerboard(shape), x, y)
    return np.where(_checkerboard(shape), x, y)


def _pad_modes() -> list[Op]:
    """pad's modes, given by position: uneven widths, widths beyond the axis's length (numpy
    copies on: reflects again, wraps around again), an axis of length 1, three axes."""
    cases = [
        ("constant", ((0, 2), (3, 1)), (3, 4)),
        ("edge", ((2, 1), (0, 3)), (3, 4)),
        ("edge_every_axis", 2, (2, 3)),
        ("edge_beyond", ((5, 0), (1, 6)), (2, 3)),
        ("reflect", ((1, 2), (3, 0)), (3, 4)),
        ("reflect_beyond", ((5, 4), (0, 7)), (3, 3)),
        ("reflect_length_1", ((2, 1), (1, 1)), (1, 3)),
        ("symmetric", ((2, 0), (1, 3)), (3, 4)),
        ("symmetric_beyond", ((4, 7), (2, 5)), (3, 2)),
        ("wrap", ((1, 2), (2, 1)), (3, 4)),
        ("wrap_beyond", ((7, 2), (0, 5)), (2, 3)),
        ("wrap_3d", ((0, 0), (1, 2), (2, 1)), (2, 3, 2)),
    ]
    rows = []
    for label, widths, shape in cases:
        mode = label.split("_")[0]
        rows.append(Op(f"pad_{label}", lambda x, w=widths, m=mode: gg.pad(x, w, m),
                       lambda x, w=widths, m=mode: np.pad(x, w, m), (shape,),
                       random=one(shapes_of(len(shape), len(shape)))))
    return rows


MASK = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, True]])
REPEATED = np.array([0, 2, 2, 1, 0, 2])
WORDS = np.array([[1, 3, 4], [4, 1, 1]])  # word indices of a vocabulary of 5 or more
SLOPES = np.array([0.01, 0.2, -0.5, 2.0])  # leaky_relu's alpha, one per channel

BINARY = [
    Op("add", lambda x, y: x + y, np.add, ((3, 4), (3, 4)),
       broadcasting=True, elementwise=True, smooth=True),
    Op("sub", lambda x, y: x - y, np.subtract, ((3, 4), (3, 4)),
       broadcasting=True, elementwise=True, smooth=True),
    Op("mul", lambda x, y: x * y, np.multiply, ((3, 4), (3, 4)),
       broadcasting=True, elementwise=True, smooth=True),
    Op("div", lambda x, y: x / y, np.divide, ((3, 4), (3, 4)), each(_real, _nonzero),
       broadcasting=True, elementwise=True),
    Op("pow", lambda x, y: x**y, np.power, ((3, 4), (3, 4)), each(_positive, _real),
       broadcasting=True, elementwise=True),
    Op("maximum", gg.maximum, np.maximum, ((3, 4), (3, 4)), distinct,
       broadcasting=True, elementwise=True),
    Op("minimum", gg.minimum, np.minimum, ((3, 4), (3, 4)), distinct,
       broadcasting=True, elementwise=True),
    Op("where", _where, _where, ((3, 4), (3, 4)), broadcasting=True, elementwise=True),
    Op("where_condition_broadcasts", lambda x, y: gg.where(MASK, x, y),
       lambda x, y: np.where(MASK, x, y), ((4,), (3, 1))),
    Op("add_fn", gg.add, np.add, ((3, 4), (3, 4))),
    Op("sub_fn", gg.sub, np.subtract, ((3, 4), (3, 4))),
    Op("mul_fn", gg.mul, np.multiply, ((3, 4), (3, 4))),
    Op("div_fn", gg.div, np.divide, ((3, 4), (3, 4)), each(_real, _nonzero)),
    Op("pow_fn", gg.pow, np.power, ((3, 4), (3, 4)), each(_positive, _real)),
]

POWERS = [
    Op("square", lambda x: x**2, lambda x: x**2, ((3, 4),), elementwise=True, smooth=True),
    Op("cube", lambda x: x**3, lambda x: x**3, ((3, 4),), elementwise=True, smooth=True),
    Op("pow_half", lambda x: x**0.5, np.sqrt, ((3, 4),), POSITIVE, elementwise=True),
    Op("pow_negative", lambda x: x**-1.5, lambda x: x**-1.5, ((3, 4),), POSITIVE,
       elementwise=True),
    Op("rpow", lambda x: 2.0**x, lambda x: 2.0**x, ((3, 4),), elementwise=True, smooth=True),
    Op("rsub", lambda x: 1.0 - x, lambda x: 1.0 - x, ((3, 4),), elementwise=True, smooth=True),
    Op("rdiv", lambda x: 1.0 / x, lambda x: 1.0 / x, ((3, 4),), NONZERO, elementwise=True),
]

UNARY = [
    Op("neg", lambda x: -x, np.negative, ((3, 4),), elementwise=True, smooth=True),
    Op("neg_fn", gg.neg, np.negative, ((3, 4),), elementwise=True),
    Op("exp", gg.exp, np.exp, ((3, 4),), elementwise=True),
    Op("log", gg.log, np.log, ((3, 4),), POSITIVE, elementwise=True),
    Op("sqrt", gg.sqrt, np.sqrt, ((3, 4),), POSITIVE, elementwise=True),
    Op("abs", gg.abs, np.abs, ((3, 4),), NONZERO, elementwise=True),
    Op("abs_operator", abs, np.abs, ((3, 4),), NONZERO, elementwise=True),
    Op("sin", gg.sin, np.sin, ((3, 4),), elementwise=True, smooth=True),
    Op("cos", gg.cos, np.cos, ((3, 4),), elementwise=True, smooth=True),
    Op("tanh", gg.tanh, np.tanh, ((3, 4),), elementwise=True, smooth=True),
    Op("sigmoid", gg.sigmoid, _sigmoid, ((3, 4),), elementwise=True, smooth=True),
    Op("relu", gg.relu, lambda x: np.maximum(x, 0), ((3, 4),), NONZERO, elementwise=True),
    Op("leaky_relu", gg.leaky_relu, lambda x: np.where(x > 0, x, 0.01 * x), ((3, 4),),
       NONZERO, elementwise=True),
    Op("leaky_relu_alpha", lambda x: gg.leaky_relu(x, alpha=0.2),
       lambda x: np.where(x > 0, x, 0.2 * x), ((3, 4),), NONZERO, elementwise=True),
    Op("leaky_relu_alpha_per_channel", lambda x: gg.leaky_relu(x, alpha=SLOPES),
       lambda x: np.where(x > 0, x, SLOPES * x), ((3, 4),), NONZERO),
    Op("clip", lambda x: gg.clip(x, -0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5), ((3, 4),),
       each(_away_from_clip_bounds), elementwise=True),
    Op("clip_low_only", lambda x: gg.clip(x, low=-0.5), lambda x: np.maximum(x, -0.5),
       ((3, 4),), each(_away_from_clip_bounds), elementwise=True),
    Op("clip_method", lambda x: x.clip(None, 0.5), lambda x: np.minimum(x, 0.5), ((3, 4),),
       each(_away_from_clip_bounds), elementwise=True),
    Op("exp_method", lambda x: x.exp(), np.exp, ((3, 4),)),
    Op("log_method", lambda x: x.log(), np.log, ((3, 4),), POSITIVE),
    Op("sqrt_method", lambda x: x.sqrt(), np.sqrt, ((3, 4),), POSITIVE),
    Op("tanh_method", lambda x: x.tanh(), np.tanh, ((3, 4),)),
    Op("sigmoid_method", lambda x: x.sigmoid(), _sigmoid, ((3, 4),)),
    Op("relu_method", lambda x: x.relu(), lambda x: np.maximum(x, 0), ((3, 4),), NONZERO),
    Op("abs_method", lambda x: x.abs(), np.abs, ((3, 4),), NONZERO),
    Op("sin_method", lambda x: x.sin(), np.sin, ((3, 4),)),
    Op("cos_method", lambda x: x.cos(), np.cos, ((3, 4),)),
    Op("leaky_relu_method", lambda x: x.leaky_relu(), lambda x: np.where(x > 0, x, 0.01 * x),
       ((3, 4),), NONZERO),
    Op("leaky_relu_method_alpha", lambda x: x.leaky_relu(0.2),
       lambda x: np.where(x > 0, x, 0.2 * x), ((3, 4),), NONZERO),
    Op("log1p", gg.log1p, np.log1p, ((3, 4),), each(_above_minus_one), elementwise=True),
    Op("log1p_method", lambda x: x.log1p(), np.log1p, ((3, 4),), each(_above_minus_one)),
    Op("log1p_numpy", lambda x: np.log1p(x), np.log1p, ((3, 4),), each(_above_minus_one)),
    Op("expm1", gg.expm1, np.expm1, ((3, 4),), elementwise=True),
    Op("expm1_method", lambda x: x.expm1(), np.expm1, ((3, 4),)),
    Op("expm1_numpy", lambda x: np.expm1(x), np.expm1, ((3, 4),)),
    Op("softplus", gg.softplus, _softplus, ((3, 4),), elementwise=True, smooth=True),
    Op("softplus_method", lambda x: x.softplus(), _softplus, ((3, 4),)),
    Op("log_sigmoid", gg.log_sigmoid, lambda x: -_softplus(-x), ((3, 4),), elementwise=True,
       smooth=True),
    Op("log_sigmoid_method", lambda x: x.log_sigmoid(), lambda x: -_softplus(-x), ((3, 4),)),
    Op("elu", gg.elu, _elu, ((3, 4),), NONZERO, elementwise=True),
    Op("elu_alpha", lambda x: gg.elu(x, alpha=0.5), lambda x: _elu(x, 0.5), ((3, 4),),
       NONZERO, elementwise=True),
    Op("elu_method_alpha", lambda x: x.elu(2.0), lambda x: _elu(x, 2.0), ((3, 4),), NONZERO),
    Op("silu", gg.silu, lambda x: x * _sigmoid(x), ((3, 4),), elementwise=True, smooth=True),
    Op("silu_method", lambda x: x.silu(), lambda x: x * _sigmoid(x), ((3, 4),)),
    Op("gelu", gg.gelu, gelu_exact, ((3, 4),), elementwise=True, smooth=True),
    Op("gelu_method", lambda x: x.gelu(), gelu_exact, ((3, 4),)),
    Op("gelu_wide", gg.gelu, gelu_exact, ((3, 4),), each(_wide)),
    Op("gelu_tanh", lambda x: gg.gelu(x, approximate="tanh"), gelu_tanh, ((3, 4),),
       elementwise=True, smooth=True),
    Op("gelu_tanh_method", lambda x: x.gelu(approximate="tanh"), gelu_tanh, ((3, 4),)),
    # beyond the clip that keeps the cubic finite, +-30: 1 for x > 0, 0 for x < 0
    Op("gelu_tanh_far", lambda x: gg.gelu(x, approximate="tanh"), gelu_tanh, ((3, 4),),
       each(lambda rng, shape: _nonzero(rng, shape) * 25.0)),
    Op("selu", gg.selu, _selu, ((3, 4),), NONZERO, elementwise=True),
    Op("selu_far", gg.selu, _selu, ((3, 4),), each(lambda rng, shape: _nonzero(rng, shape) * 20)),
    Op("celu", lambda x: gg.celu(x, 0.5), lambda x: _celu(x, 0.5), ((3, 4),), NONZERO,
       elementwise=True),
    Op("celu_negative_alpha", lambda x: gg.celu(x, -2.0), lambda x: _celu(x, -2.0), ((3, 4),),
       NONZERO),
    Op("mish", gg.mish, _mish, ((3, 4),), elementwise=True, smooth=True),
    Op("mish_far", gg.mish, _mish, ((3, 4),), each(lambda rng, shape: _nonzero(rng, shape) * 15)),
    Op("softsign", gg.softsign, lambda x: x / (1 + np.abs(x)), ((3, 4),), NONZERO,
       elementwise=True),
    Op("tanhshrink", gg.tanhshrink, lambda x: x - np.tanh(x), ((3, 4),), elementwise=True,
       smooth=True),
    Op("hardsigmoid", gg.hardsigmoid, _hardsigmoid, ((3, 4),), each(_away_from_three),
       elementwise=True),
    Op("hardswish", gg.hardswish, lambda x: x * _hardsigmoid(x), ((3, 4),),
       each(_away_from_three), elementwise=True),
    Op("hardshrink", gg.hardshrink, lambda x: np.where(np.abs(x) > 0.5, x, 0.0), ((3, 4),),
       each(_away_from_clip_bounds), elementwise=True),
    Op("softshrink", gg.softshrink, lambda x: np.sign(x) * np.maximum(np.abs(x) - 0.5, 0.0),
       ((3, 4),), each(_away_from_clip_bounds), elementwise=True),
    Op("threshold", lambda x: gg.threshold(x, 0.5, -2.0), lambda x: np.where(x > 0.5, x, -2.0),
       ((3, 4),), each(_away_from_clip_bounds), elementwise=True),
    Op("glu", gg.glu, lambda x: _glu(x, -1), ((3, 4),),
       random=with_side(-1, st.sampled_from([2, 4, 6]))),
    Op("glu_axis0", lambda x: gg.glu(x, axis=0), lambda x: _glu(x, 0), ((4, 3),),
       random=with_side(0, st.sampled_from([2, 4]))),
    Op("erf", gg.erf, erf_by_math, ((3, 4),), elementwise=True, smooth=True),
    Op("erf_method", lambda x: x.erf(), erf_by_math, ((3, 4),)),
    Op("erf_wide", gg.erf, erf_by_math, ((3, 4),), each(_wide), elementwise=True),
    Op("erfc", gg.erfc, erfc_by_math, ((3, 4),), elementwise=True, smooth=True),
    Op("erfc_method", lambda x: x.erfc(), erfc_by_math, ((3, 4),)),
    Op("erfc_wide", gg.erfc, erfc_by_math, ((3, 4),), each(_wide), elementwise=True),
    Op("erfinv", gg.erfinv, erfinv_by_math, ((3, 4),), each(_inside_one), elementwise=True),
    Op("erfinv_method", lambda x: x.erfinv(), erfinv_by_math, ((3, 4),), each(_inside_one)),
    # near +-1, where the slope sqrt(pi)/2 e**(y**2) is large
    Op("erfinv_near_one", gg.erfinv, erfinv_by_math, ((3, 4),),
       each(lambda rng, shape: rng.choice([-1.0, 1.0], shape) * rng.uniform(0.99, 0.9995, shape))),
]

def _uniform(low: float, high: float) -> Domain:
    """Every input drawn from [low, high]: inside a function's domain, away from its poles
    and branch points (tan's pi/2, arcsin's +-1, arccosh's 1)."""
    return each(lambda rng, shape: rng.uniform(low, high, shape))


def _three_ways(name: str, ref: Callable, domain: Domain = REAL, smooth: bool = False
                ) -> list[Op]:
    """gg.name(x) over random shapes, x.name() and np.name(x) (numpy's dispatch) at (3, 4)."""
    fn = getattr(gg, name)
    return [
        Op(name, fn, ref, ((3, 4),), domain, elementwise=True, smooth=smooth),
        Op(f"{name}_method", lambda x: getattr(x, name)(), ref, ((3, 4),), domain),
        Op(f"{name}_numpy", lambda x: ref(x), ref, ((3, 4),), domain),
    ]


NUMPY_MATH = [
    *_three_ways("tan", np.tan, _uniform(-1.2, 1.2)),
    *_three_ways("arcsin", np.arcsin, _uniform(-0.8, 0.8)),
    *_three_ways("arccos", np.arccos, _uniform(-0.8, 0.8)),
    *_three_ways("arctan", np.arctan, smooth=True),
    *_three_ways("sinh", np.sinh),
    *_three_ways("cosh", np.cosh),
    *_three_ways("arcsinh", np.arcsinh, smooth=True),
    *_three_ways("arccosh", np.arccosh, _uniform(1.2, 3.0)),
    *_three_ways("arctanh", np.arctanh, _uniform(-0.8, 0.8)),
    *_three_ways("exp2", np.exp2),
    *_three_ways("log2", np.log2, POSITIVE),
    *_three_ways("log10", np.log10, POSITIVE),
    *_three_ways("reciprocal", np.reciprocal, NONZERO),
    *_three_ways("cbrt", np.cbrt, NONZERO),
    Op("asin", gg.asin, np.arcsin, ((3, 4),), _uniform(-0.8, 0.8)),
    Op("atanh_method", lambda x: x.atanh(), np.arctanh, ((3, 4),), _uniform(-0.8, 0.8)),
    # y away from 0: arctan2 jumps from pi to -pi across the negative x axis
    Op("arctan2", gg.arctan2, np.arctan2, ((3, 4), (3, 4)), each(_nonzero, _real),
       broadcasting=True, elementwise=True),
    Op("arctan2_numpy", lambda y, x: np.arctan2(y, x), np.arctan2, ((3, 4), (3, 4)),
       each(_nonzero, _real)),
    Op("atan2", gg.atan2, np.arctan2, ((3, 4), (3, 4)), each(_nonzero, _real)),
    # x away from 0: hypot's kink is the origin
    Op("hypot", gg.hypot, np.hypot, ((3, 4), (3, 4)), each(_nonzero, _real),
       broadcasting=True, elementwise=True),
    Op("hypot_numpy", lambda x, y: np.hypot(x, y), np.hypot, ((3, 4), (3, 4)),
       each(_nonzero, _real)),
    Op("logaddexp", gg.logaddexp, np.logaddexp, ((3, 4), (3, 4)), broadcasting=True,
       elementwise=True, smooth=True),
    Op("logaddexp_numpy", lambda x, y: np.logaddexp(x, y), np.logaddexp, ((3, 4), (3, 4))),
    Op("logaddexp_far", gg.logaddexp, np.logaddexp, ((3, 4), (3, 4)),
       lambda rng, shapes: [a + 1000.0 for a in REAL(rng, shapes)]),
    Op("fmax", gg.fmax, np.fmax, ((3, 4), (3, 4)), distinct, broadcasting=True,
       elementwise=True),
    Op("fmin", gg.fmin, np.fmin, ((3, 4), (3, 4)), distinct, broadcasting=True,
       elementwise=True),
    Op("fmax_numpy", lambda x, y: np.fmax(x, y), np.fmax, ((3, 4), (3, 4)), distinct),
    Op("fmin_numpy", lambda x, y: np.fmin(x, y), np.fmin, ((3, 4), (3, 4)), distinct),
]

MATMUL = [
    Op("matmul", lambda x, y: x @ y, np.matmul, ((3, 4), (4, 2)), random=matmul_shapes(2, 2)),
    Op("matmul_fn", gg.matmul, np.matmul, ((3, 4), (4, 2))),
    Op("matmul_vector_matrix", lambda x, y: x @ y, np.matmul, ((4,), (4, 2)),
       random=matmul_shapes(1, 2)),
    Op("matmul_matrix_vector", lambda x, y: x @ y, np.matmul, ((3, 4), (4,)),
       random=matmul_shapes(2, 1)),
    Op("matmul_dot", lambda x, y: x @ y, np.matmul, ((4,), (4,)), random=matmul_shapes(1, 1)),
    Op("matmul_batched", lambda x, y: x @ y, np.matmul, ((2, 3, 4), (2, 4, 5)),
       random=matmul_shapes(3, 3)),
    Op("matmul_batch_broadcast", lambda x, y: x @ y, np.matmul, ((2, 1, 3, 4), (3, 4, 2)),
       random=matmul_shapes(4, 3)),
    Op("matmul_batches_broadcast_both", lambda x, y: x @ y, np.matmul,
       ((2, 1, 3, 4), (1, 3, 4, 2)), random=matmul_shapes(4, 4)),
    Op("matmul_batch_matrix", lambda x, y: x @ y, np.matmul, ((2, 3, 4), (4, 5)),
       random=matmul_shapes(3, 2)),
    Op("matmul_batch_vector", lambda x, y: x @ y, np.matmul, ((2, 3, 4), (4,)),
       random=matmul_shapes(3, 1)),
    Op("matmul_vector_batch", lambda x, y: x @ y, np.matmul, ((3,), (2, 3, 4)),
       random=matmul_shapes(1, 3)),
    Op("matmul_same_tensor", lambda x: x @ x, lambda x: x @ x, ((3, 3),),
       random=one(SIDES.map(lambda n: (n, n)))),
]


def _reductions(name: str, op: Callable, ref: Callable, domain: Domain) -> list[Op]:
    variants = [
        ("all", {}),
        ("axis0", {"axis": 0}),
        ("axis1", {"axis": 1}),
        ("axis_neg", {"axis": -1}),
        ("axes02", {"axis": (0, 2)}),
        ("axis1_keepdims", {"axis": 1, "keepdims": True}),
        ("all_keepdims", {"keepdims": True}),
    ]
    rows = [
        Op(f"{name}_{label}", lambda x, kw=kw: op(x, **kw), lambda x, kw=kw: ref(x, **kw),
           ((2, 3, 4),), domain)
        for label, kw in variants
    ]
    method = getattr(gg.Tensor, name)
    rows.append(Op(f"{name}_method", lambda x: method(x, axis=0), lambda x: ref(x, axis=0),
                   ((3, 4),), domain))
    return rows


REDUCTIONS = [
    *_reductions("sum", gg.sum, np.sum, REAL),
    *_reductions("mean", gg.mean, np.mean, REAL),
    *_reductions("max", gg.max, np.max, distinct),
    *_reductions("min", gg.min, np.min, distinct),
    Op("sum_vector", gg.sum, np.sum, ((5,),)),
    Op("sum_scalar", gg.sum, np.sum, ((),)),
    Op("max_vector", gg.max, np.max, ((5,),), distinct),
    *_reductions("var", gg.var, np.var, REAL),
    *_reductions("std", gg.std, np.std, REAL),
    *_reductions("norm", gg.norm, np.linalg.norm, REAL),
    # PyTorch's unbiased default, ddof=1, along an axis of 2 or more numbers (n - 1 > 0)
    Op("var_ddof1", lambda x: gg.var(x, axis=1, ddof=1), lambda x: np.var(x, axis=1, ddof=1),
       ((3, 4),), random=with_side(1, st.integers(2, 4), min_dims=2)),
    Op("std_ddof1_keepdims", lambda x: gg.std(x, axis=0, keepdims=True, ddof=1),
       lambda x: np.std(x, axis=0, keepdims=True, ddof=1), ((4, 3),),
       random=with_side(0, st.integers(2, 4))),
    Op("var_ddof_fraction_method", lambda x: x.var(ddof=0.5), lambda x: np.var(x, ddof=0.5),
       ((2, 3),)),
    Op("std_method_ddof1", lambda x: x.std(axis=-1, ddof=1),
       lambda x: np.std(x, axis=-1, ddof=1), ((2, 3),)),
    *_reductions("prod", gg.prod, np.prod, REAL),
    Op("prod_zeros_per_row", lambda x: gg.prod(x, axis=1), lambda x: np.prod(x, axis=1),
       ((8, 5),), zeros_per_row),
    Op("prod_zeros_per_row_3d_keepdims", lambda x: gg.prod(x, axis=(1, 2), keepdims=True),
       lambda x: np.prod(x, axis=(1, 2), keepdims=True), ((4, 2, 3),), zeros_per_row),
    Op("prod_one_zero_in_all", gg.prod, np.prod, ((2, 3),),
       lambda rng, shapes: [x * (np.arange(x.size) != 4).reshape(x.shape)
                            for x in REAL(rng, shapes)]),
    Op("prod_numpy", lambda x: np.prod(x, axis=0, keepdims=True),
       lambda x: np.prod(x, axis=0, keepdims=True), ((3, 4),),
       random=one(shapes_of(1))),
    Op("norm_vector", gg.norm, np.linalg.norm, ((5,),)),
    Op("norm_scalar", gg.norm, np.linalg.norm, ((),), NONZERO),  # |x|, away from its kink
    Op("norm_axes_np", lambda x: np.linalg.norm(x, axis=(1, 2), keepdims=True),
       lambda x: np.linalg.norm(x, axis=(1, 2), keepdims=True), ((2, 3, 4),),
       random=one(shapes_of(3, 3))),
    # the course's cosine similarity of word vectors, u . v / (||u|| ||v||)
    Op("cosine_similarity", lambda u, v: (u * v).sum() / (gg.norm(u) * gg.norm(v)),
       lambda u, v: u @ v / (np.linalg.norm(u) * np.linalg.norm(v)), ((6,), (6,))),
]

CUMULATIVE = [
    Op("cumsum", gg.cumsum, np.cumsum, ((3, 4),), random=one(shapes_of())),
    Op("cumsum_axis0", lambda x: gg.cumsum(x, axis=0), lambda x: np.cumsum(x, axis=0),
       ((3, 4),), random=one(shapes_of(1))),
    Op("cumsum_negative_axis", lambda x: gg.cumsum(x, axis=-2),
       lambda x: np.cumsum(x, axis=-2), ((2, 3, 4),), random=one(shapes_of(2))),
    Op("cumsum_scalar_axis0", lambda x: gg.cumsum(x, axis=0), lambda x: np.cumsum(x, axis=0),
       ((),)),
    Op("cumsum_method", lambda x: x.cumsum(1), lambda x: np.cumsum(x, 1), ((2, 3, 4),),
       random=one(shapes_of(2))),
    Op("cumsum_numpy", lambda x: np.cumsum(x, axis=-1), lambda x: np.cumsum(x, axis=-1),
       ((3, 4),), random=one(shapes_of(1))),
]

SOFTMAX = [
    Op("softmax", gg.softmax, lambda x: _softmax(x, -1), ((3, 4),)),
    Op("softmax_axis0", lambda x: gg.softmax(x, axis=0), lambda x: _softmax(x, 0), ((3, 4),)),
    Op("softmax_3d_axis1", lambda x: gg.softmax(x, axis=1), lambda x: _softmax(x, 1),
       ((2, 3, 4),)),
    Op("softmax_method", lambda x: x.softmax(0), lambda x: _softmax(x, 0), ((4, 3),)),
    Op("softmax_vector", gg.softmax, lambda x: _softmax(x, -1), ((5,),)),
    Op("log_softmax", gg.log_softmax, lambda x: np.log(_softmax(x, -1)), ((3, 4),)),
    Op("log_softmax_axis0", lambda x: gg.log_softmax(x, axis=0),
       lambda x: np.log(_softmax(x, 0)), ((3, 4),)),
    Op("log_softmax_method", lambda x: x.log_softmax(1), lambda x: np.log(_softmax(x, 1)),
       ((2, 3, 4),)),
    Op("log_softmax_negative_axis", lambda x: gg.log_softmax(x, axis=-2),
       lambda x: np.log(_softmax(x, -2)), ((2, 3, 4),), random=one(shapes_of(2))),
    Op("softmax_negative_axis", lambda x: gg.softmax(x, axis=-2), lambda x: _softmax(x, -2),
       ((2, 3, 4),), random=one(shapes_of(2))),
    Op("softmin", gg.softmin, lambda x: _softmax(-x, -1), ((3, 4),), random=one(shapes_of(1))),
    Op("softmin_axis0", lambda x: gg.softmin(x, axis=0), lambda x: _softmax(-x, 0), ((3, 4),)),
    Op("logsumexp", gg.logsumexp, _logsumexp, ((3, 4),)),
    Op("logsumexp_axis1", lambda x: gg.logsumexp(x, axis=1),
       lambda x: _logsumexp(x, axis=1), ((3, 4),)),
    Op("logsumexp_axes_keepdims", lambda x: gg.logsumexp(x, axis=(0, 2), keepdims=True),
       lambda x: _logsumexp(x, axis=(0, 2), keepdims=True), ((2, 3, 4),)),
    Op("logsumexp_method", lambda x: x.logsumexp(axis=0), lambda x: _logsumexp(x, axis=0),
       ((3, 4),)),
]

SHAPE = [
    Op("reshape", lambda x: gg.reshape(x, (4, 3)), lambda x: x.reshape(4, 3), ((3, 4),)),
    Op("reshape_infer", lambda x: gg.reshape(x, (2, -1)), lambda x: x.reshape(2, -1),
       ((3, 4),), random=with_side(0, 2)),
    Op("reshape_method", lambda x: x.reshape(2, 6), lambda x: x.reshape(2, 6), ((3, 4),)),
    Op("reshape_method_tuple", lambda x: x.reshape((12,)), lambda x: x.reshape(12), ((3, 4),)),
    Op("flatten", lambda x: x.flatten(), lambda x: x.reshape(-1), ((2, 3, 4),),
       random=one(shapes_of())),
    Op("transpose", gg.transpose, np.transpose, ((2, 3, 4),), random=one(shapes_of())),
    Op("transpose_axes", lambda x: gg.transpose(x, (1, 2, 0)),
       lambda x: np.transpose(x, (1, 2, 0)), ((2, 3, 4),), random=one(shapes_of(3))),
    Op("transpose_method_axes", lambda x: x.transpose(2, 0, 1),
       lambda x: x.transpose(2, 0, 1), ((2, 3, 4),)),
    Op("transpose_method_none", lambda x: x.transpose(None), lambda x: x.transpose(None),
       ((2, 3, 4),)),
    Op("transpose_negative_axes", lambda x: gg.transpose(x, (-1, 0, 1)),
       lambda x: np.transpose(x, (-1, 0, 1)), ((2, 3, 4),), random=one(shapes_of(3))),
    Op("transpose_negative_axes_cube", lambda x: x.transpose(-1, 0, -2),
       lambda x: x.transpose(-1, 0, -2), ((3, 3, 3),)),
    Op("T", lambda x: x.T, lambda x: x.T, ((3, 4),), random=one(shapes_of())),
    Op("T_3d", lambda x: x.T, lambda x: x.T, ((2, 3, 4),)),
    Op("swapaxes", lambda x: gg.swapaxes(x, 0, 2), lambda x: np.swapaxes(x, 0, 2),
       ((2, 3, 4),), random=one(shapes_of(3))),
    Op("swapaxes_method", lambda x: x.swapaxes(-1, 1), lambda x: x.swapaxes(-1, 1),
       ((2, 3, 4),), random=one(shapes_of(2))),
    Op("expand_dims", lambda x: gg.expand_dims(x, 1), lambda x: np.expand_dims(x, 1), ((3, 4),),
       random=one(shapes_of(1))),
    Op("expand_dims_axes", lambda x: gg.expand_dims(x, (0, -1)),
       lambda x: np.expand_dims(x, (0, -1)), ((3, 4),), random=one(shapes_of())),
    Op("expand_dims_method", lambda x: x.expand_dims(-1), lambda x: np.expand_dims(x, -1),
       ((3, 4),), random=one(shapes_of())),
    Op("squeeze", gg.squeeze, np.squeeze, ((3, 1, 4, 1),),
       random=one(hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=2))),
    Op("squeeze_axis", lambda x: gg.squeeze(x, 1), lambda x: np.squeeze(x, 1), ((3, 1, 4, 1),),
       random=with_side(1, 1)),
    Op("squeeze_axes", lambda x: gg.squeeze(x, (1, -1)), lambda x: np.squeeze(x, (1, -1)),
       ((3, 1, 4, 1),)),
    Op("squeeze_method", lambda x: x.squeeze(-1), lambda x: x.squeeze(-1), ((3, 1, 4, 1),),
       random=with_side(-1, 1)),
    Op("broadcast_to", lambda x: gg.broadcast_to(x, (2, 3, 4)),
       lambda x: np.broadcast_to(x, (2, 3, 4)), ((3, 1),),
       random=one(hnp.broadcastable_shapes((2, 3, 4), max_dims=3, min_side=1))),
    Op("broadcast_to_scalar", lambda x: gg.broadcast_to(x, (2, 3)),
       lambda x: np.broadcast_to(x, (2, 3)), ((),)),
    Op("concatenate", lambda x, y, z: gg.concatenate([x, y, z], axis=1),
       lambda x, y, z: np.concatenate([x, y, z], axis=1), ((3, 1), (3, 4), (3, 2)),
       random=joined(3, 1, 2)),
    Op("concatenate_axis0", lambda x, y: gg.concatenate([x, y]),
       lambda x, y: np.concatenate([x, y]), ((2, 3), (1, 3))),
    Op("concatenate_negative_axis", lambda x, y: gg.concatenate([x, y], axis=-1),
       lambda x, y: np.concatenate([x, y], axis=-1), ((2, 2, 3), (2, 2, 1)),
       random=joined(2, -1, 3)),
    Op("concatenate_one_tensor_twice", lambda x: gg.concatenate([x, x * 2.0, x], axis=0),
       lambda x: np.concatenate([x, x * 2.0, x], axis=0), ((2, 3),), random=joined(1, 0, 2)),
    Op("concatenate_flattened", lambda x, y: gg.concatenate([x, y], axis=None),
       lambda x, y: np.concatenate([x, y], axis=None), ((2, 3), (4,)),
       random=st.tuples(shapes_of(), shapes_of())),
    Op("stack", lambda x, y, z: gg.stack([x, y, z], axis=1),
       lambda x, y, z: np.stack([x, y, z], axis=1), ((3, 4), (3, 4), (3, 4)),
       random=joined(3, 1, 2, new_axis=True)),
    Op("stack_last_axis", lambda x, y: gg.stack([x, y], axis=-1),
       lambda x, y: np.stack([x, y], axis=-1), ((3, 4), (3, 4)),
       random=st.integers(0, 3).flatmap(lambda n: joined(2, -1, n, new_axis=True))),
    Op("split_sections", lambda x: gg.split(x, 3, axis=1),
       lambda x: tuple(np.split(x, 3, axis=1)), ((2, 6),),
       random=with_side(1, st.sampled_from([3, 6]), min_dims=2)),
    Op("split_indices", lambda x: gg.split(x, [1, 3]), lambda x: tuple(np.split(x, [1, 3])),
       ((5, 2),), random=with_side(0, st.integers(3, 5))),
    Op("split_negative_axis", lambda x: gg.split(x, 2, axis=-1),
       lambda x: tuple(np.split(x, 2, axis=-1)), ((3, 2, 4),),
       random=with_side(-1, st.sampled_from([2, 4]))),
    Op("pad", lambda x: gg.pad(x, ((1, 2), (0, 1))), lambda x: np.pad(x, ((1, 2), (0, 1))),
       ((3, 4),), random=one(shapes_of(2, 2))),
    Op("pad_every_axis", lambda x: gg.pad(x, 1, constant_values=-1.0),
       lambda x: np.pad(x, 1, constant_values=-1.0), ((3, 4),), random=one(shapes_of())),
    Op("pad_pair", lambda x: gg.pad(x, (2, 1)), lambda x: np.pad(x, (2, 1)), ((2, 3),)),
    *_pad_modes(),
    Op("astype_float64", lambda x: gg.astype(x, np.float64), lambda x: x, ((3, 4),),
       random=one(shapes_of())),
    # Finite differences through float32 need a coarse step.
    Op("astype_float32_and_back",
       lambda x: x.astype(np.float32).astype(np.float64) * 1.0,
       lambda x: x.astype(np.float32).astype(np.float64), ((3, 4),),
       check={"eps": 1e-2, "atol": 1e-4}),
]


def labelled(*terms: str) -> st.SearchStrategy[tuple[Shape, ...]]:
    """Shapes of einsum operands whose axes ``terms`` label ("ij", "jk"): one size drawn per
    letter, shared by every axis it labels."""

    @st.composite
    def draw_(d):
        sizes = {c: d(SIDES) for c in sorted(set("".join(terms)))}
        return tuple(tuple(sizes[c] for c in term) for term in terms)

    return draw_()


@st.composite
def _row_and_rows(d) -> tuple[Shape, Shape]:
    """(k, n) and (n,): a matrix and a row vstack puts under it."""
    k, n = d(SIDES), d(SIDES)
    return (k, n), (n,)


def _einsum(subscripts: str, name: str | None = None) -> Op:
    """A row of gg.einsum(subscripts) against np.einsum, its shapes from the letters."""
    terms = subscripts.split("->")[0].split(",")
    shapes = tuple(tuple({"i": 3, "j": 4, "k": 2, "b": 2, "l": 3}[c] for c in t) for t in terms)
    return Op(name or "einsum_" + subscripts.replace(",", "_").replace("->", "_to_"),
              lambda *xs, s=subscripts: gg.einsum(s, *xs),
              lambda *xs, s=subscripts: np.einsum(s, *xs), shapes, random=labelled(*terms))


REARRANGE = [
    Op("flip", gg.flip, np.flip, ((2, 3, 4),), random=one(shapes_of())),
    Op("flip_axis", lambda x: gg.flip(x, 1), lambda x: np.flip(x, 1), ((3, 4),),
       random=one(shapes_of(2))),
    Op("flip_axes_method", lambda x: x.flip((0, -1)), lambda x: np.flip(x, (0, -1)),
       ((2, 3, 4),), random=one(shapes_of(2))),
    Op("flip_numpy", lambda x: np.flip(x, axis=0), lambda x: np.flip(x, axis=0), ((3, 2),)),
    Op("roll_flattened", lambda x: gg.roll(x, 2), lambda x: np.roll(x, 2), ((3, 4),),
       random=one(shapes_of())),
    Op("roll_axis_negative_shift", lambda x: gg.roll(x, -1, axis=1),
       lambda x: np.roll(x, -1, axis=1), ((3, 4),), random=one(shapes_of(2))),
    Op("roll_axes_method", lambda x: x.roll((1, -5), (0, 2)),
       lambda x: np.roll(x, (1, -5), (0, 2)), ((2, 3, 4),), random=one(shapes_of(3))),
    Op("roll_numpy", lambda x: np.roll(x, 3, 0), lambda x: np.roll(x, 3, 0), ((4, 2),)),
    Op("moveaxis", lambda x: gg.moveaxis(x, 0, -1), lambda x: np.moveaxis(x, 0, -1),
       ((2, 3, 4),), random=one(shapes_of(1))),
    Op("moveaxis_several_method", lambda x: x.moveaxis([0, 1], [-1, 0]),
       lambda x: np.moveaxis(x, [0, 1], [-1, 0]), ((2, 3, 4),), random=one(shapes_of(3))),
    Op("moveaxis_numpy", lambda x: np.moveaxis(x, -1, 1), lambda x: np.moveaxis(x, -1, 1),
       ((2, 3, 4),)),
    Op("repeat_axis", lambda x: gg.repeat(x, 2, axis=1), lambda x: np.repeat(x, 2, axis=1),
       ((3, 4),), random=one(shapes_of(2))),
    Op("repeat_flattened", lambda x: gg.repeat(x, 3), lambda x: np.repeat(x, 3), ((2, 3),),
       random=one(shapes_of())),
    Op("repeat_per_element", lambda x: gg.repeat(x, [2, 0, 3], axis=0),
       lambda x: np.repeat(x, [2, 0, 3], axis=0), ((3, 2),), random=with_side(0, 3)),
    Op("repeat_method_per_element_flattened", lambda x: x.repeat([1, 2, 0, 3]),
       lambda x: np.repeat(x, [1, 2, 0, 3]), ((2, 2),),
       random=st.sampled_from([((4,),), ((2, 2),), ((1, 4, 1),)])),
    Op("repeat_numpy_negative_axis", lambda x: np.repeat(x, [1, 3], axis=-1),
       lambda x: np.repeat(x, [1, 3], axis=-1), ((3, 2),), random=with_side(-1, 2)),
    Op("tile", lambda x: gg.tile(x, (2, 3)), lambda x: np.tile(x, (2, 3)), ((3, 4),),
       random=one(shapes_of())),
    Op("tile_more_reps_than_axes", lambda x: gg.tile(x, (2, 1, 3)),
       lambda x: np.tile(x, (2, 1, 3)), ((4,),), random=one(shapes_of(0, 3))),
    Op("tile_method_one_rep", lambda x: x.tile(2), lambda x: np.tile(x, 2), ((2, 3, 4),),
       random=one(shapes_of())),
    Op("tile_numpy", lambda x: np.tile(x, (3, 1)), lambda x: np.tile(x, (3, 1)), ((2,),)),
    Op("vstack_rows", lambda x, y, z: gg.vstack([x, y, z]),
       lambda x, y, z: np.vstack([x, y, z]), ((4,), (4,), (4,)),
       random=joined(3, 0, 1, new_axis=True)),
    Op("vstack_matrix_and_row", lambda x, y: gg.vstack([x, y]),
       lambda x, y: np.vstack([x, y]), ((2, 4), (4,)), random=_row_and_rows()),
    Op("vstack_numpy", lambda x, y: np.vstack([x, y]), lambda x, y: np.vstack([x, y]),
       ((2, 3), (1, 3)), random=joined(2, 0, 2)),
    Op("hstack_vectors", lambda x, y: gg.hstack([x, y]), lambda x, y: np.hstack([x, y]),
       ((3,), (2,)), random=joined(2, 0, 1)),
    Op("hstack_columns_numpy", lambda x, y: np.hstack((x, y)), lambda x, y: np.hstack((x, y)),
       ((3, 2), (3, 1)), random=joined(2, 1, 2)),
    Op("hstack_number_and_vector", lambda x, y: gg.hstack([x, y]),
       lambda x, y: np.hstack([x, y]), ((), (3,))),
]

CONTRACTION = [
    Op("outer", gg.outer, np.outer, ((3,), (4,)), random=st.tuples(shapes_of(), shapes_of())),
    Op("outer_numpy_flattens", lambda x, y: np.outer(x, y), np.outer, ((2, 2), (3,))),
    _einsum("ij,jk->ik"),
    _einsum("ij,jk", "einsum_matmul_implicit"),
    _einsum("bij,bjk->bik"),
    _einsum("ii->", "einsum_trace"),
    _einsum("ii", "einsum_trace_implicit"),
    _einsum("ii->i", "einsum_diagonal"),
    _einsum("i,j->ij", "einsum_outer"),
    _einsum("ij->ji", "einsum_transpose"),
    _einsum("i,ij,j->", "einsum_bilinear"),
    _einsum("ij,jk,kl->il", "einsum_chain_of_three"),
    _einsum("ij->", "einsum_sum"),
    _einsum("ij,j->j", "einsum_summed_in_one_operand"),
    _einsum("iij,j->i", "einsum_diagonal_times_vector"),
    _einsum("jii->ji", "einsum_batch_diagonal"),
    Op("einsum_ellipsis_broadcast", lambda x, y: gg.einsum("...ij,...jk->...ik", x, y),
       np.matmul, ((2, 1, 3, 4), (3, 4, 2)), random=matmul_shapes(4, 3)),
    Op("einsum_ellipsis_implicit", lambda x, y: gg.einsum("...j,j", x, y),
       lambda x, y: np.einsum("...j,j", x, y), ((2, 3, 4), (4,)),
       random=st.tuples(shapes_of(0, 2), SIDES).map(lambda s: (s[0] + (s[1],), (s[1],)))),
    Op("einsum_numpy_row_dots", lambda x, y: np.einsum("ij,ij->i", x, y),
       lambda x, y: np.einsum("ij,ij->i", x, y), ((3, 4), (3, 4)),
       random=joined(2, 0, 2, new_axis=True)),
    Op("einsum_same_tensor", lambda x: gg.einsum("ij,jk->ik", x, x), lambda x: x @ x,
       ((3, 3),), random=one(SIDES.map(lambda n: (n, n)))),
]

def sides_from_zero(min_dims: int = 0, max_dims: int = 3) -> st.SearchStrategy[Shape]:
    """Shapes whose axes may be empty (size 0), for the ops numpy takes them in."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=0, max_side=4)


def picks(shape: Shape, axis: int | None, k: int | None = None, alongside: int | None = None
          ) -> np.ndarray:
    """Indices into x (``shape``) along ``axis`` for take_along_axis: ``k`` of them (one more
    than the axis holds by default, so some repeat; none for an empty axis) per place along
    the other axes, negative ones too, size 1 along axis ``alongside`` (broadcast); 1-D for
    axis None."""
    if axis is None:
        n = int(np.prod(shape))
        out = [0 if not n else n + 1 if k is None else k]
    else:
        n, out = shape[axis], list(shape)
        out[axis] = 0 if not n else n + 1 if k is None else k  # none to take from an empty axis
        if alongside is not None:
            out[alongside] = 1
    count = int(np.prod(out))
    return ((np.arange(count) * 5 + 3) % (2 * n) - n).reshape(out) if n else np.zeros(out, int)


GATHER = [
    # a DQN's Q-values of the actions taken: q (m, n_a), actions (m, 1), q.gather(1, actions)
    Op("take_along_axis", lambda q: gg.take_along_axis(q, picks(q.shape, 1, 1), 1),
       lambda q: np.take_along_axis(q, picks(q.shape, 1, 1), 1), ((5, 3),),
       random=one(sides_from_zero(2, 2))),
    Op("take_along_axis_repeats_negative_axis",
       lambda x: gg.take_along_axis(x, picks(x.shape, -1), axis=-1),
       lambda x: np.take_along_axis(x, picks(x.shape, -1), axis=-1), ((2, 3, 4),),
       random=one(sides_from_zero(1))),
    Op("take_along_axis_broadcast_indices",
       lambda x: gg.take_along_axis(x, picks(x.shape, 0, 5, alongside=1), 0),
       lambda x: np.take_along_axis(x, picks(x.shape, 0, 5, alongside=1), 0), ((3, 4),),
       random=one(shapes_of(2, 3))),
    Op("take_along_axis_flattened", lambda x: gg.take_along_axis(x, picks(x.shape, None), None),
       lambda x: np.take_along_axis(x, picks(x.shape, None), None), ((2, 3),),
       random=one(sides_from_zero(0))),
    Op("take_along_axis_numpy", lambda x: np.take_along_axis(x, picks(x.shape, 0), axis=0),
       lambda x: np.take_along_axis(x, picks(x.shape, 0), axis=0), ((3, 2),)),
    Op("sort", gg.sort, np.sort, ((3, 4),), distinct, random=one(sides_from_zero(1))),
    Op("sort_axis0", lambda x: gg.sort(x, 0), lambda x: np.sort(x, 0), ((4, 3),), distinct,
       random=one(sides_from_zero(1))),
    Op("sort_flattened", lambda x: gg.sort(x, axis=None), lambda x: np.sort(x, axis=None),
       ((2, 3),), distinct, random=one(sides_from_zero())),
    Op("sort_numpy", lambda x: np.sort(x, axis=-2, kind="stable"),
       lambda x: np.sort(x, axis=-2), ((3, 2, 2),), distinct),
]

@st.composite
def _columns(d) -> tuple[Shape, ...]:
    """(n,), (n, k) and (n,): a vector, a matrix and a vector column_stack joins."""
    n, k = d(st.integers(0, 3)), d(SIDES)
    return (n,), (n, k), (n,)


COMPOSITIONS = [
    Op("copy", gg.copy, np.copy, ((3, 4),), random=one(sides_from_zero())),
    Op("copy_method_numpy", lambda x: np.copy(x.copy()), lambda x: x.copy(), ((2, 3),)),
    Op("atleast_1d", gg.atleast_1d, np.atleast_1d, ((),), random=one(shapes_of())),
    Op("atleast_2d_numpy", lambda x: np.atleast_2d(x), np.atleast_2d, ((3,),),
       random=one(sides_from_zero())),
    Op("atleast_3d_two", lambda x, y: gg.atleast_3d(x, y),
       lambda x, y: tuple(np.atleast_3d(x, y)), ((2, 3), (4,)),
       random=st.tuples(sides_from_zero(), sides_from_zero())),
    Op("column_stack", lambda x, y, z: gg.column_stack([x, y, z]),
       lambda x, y, z: np.column_stack([x, y, z]), ((3,), (3, 2), (3,)), random=_columns()),
    Op("column_stack_numpy", lambda x, y: np.column_stack((x, y)),
       lambda x, y: np.column_stack((x, y)), ((4, 1), (4,))),
    Op("dstack", lambda x, y: gg.dstack([x, y]), lambda x, y: np.dstack([x, y]),
       ((2, 3), (2, 3, 2)), random=joined(2, 2, 3).map(lambda s: (s[0][:2], s[1]))),
    Op("dstack_numpy_vectors", lambda x, y: np.dstack((x, y)),
       lambda x, y: np.dstack((x, y)), ((3,), (3,)), random=joined(2, 0, 1, new_axis=True)),
    Op("fliplr", gg.fliplr, np.fliplr, ((3, 4),), random=one(sides_from_zero(2))),
    Op("flipud_numpy", lambda x: np.flipud(x), np.flipud, ((3, 4),),
       random=one(sides_from_zero(1))),
    Op("rot90", gg.rot90, np.rot90, ((3, 4),), random=one(sides_from_zero(2))),
    Op("rot90_back_axes", lambda x: gg.rot90(x, -1, axes=(2, 0)),
       lambda x: np.rot90(x, -1, axes=(2, 0)), ((2, 3, 4),), random=one(sides_from_zero(3))),
    Op("rot90_twice_numpy", lambda x: np.rot90(x, 2, (-1, 0)),
       lambda x: np.rot90(x, 2, (-1, 0)), ((3, 4),), random=one(sides_from_zero(2))),
    Op("rot90_four_times", lambda x: gg.rot90(x, 4), lambda x: np.rot90(x, 4), ((2, 3),)),
]

def _last_shared(d_x: int, d_y: int) -> st.SearchStrategy[tuple[Shape, Shape]]:
    """Shapes of d_x and d_y axes (at least 1 each) whose last axes have one size (inner)."""

    @st.composite
    def draw_(d):
        k = d(st.integers(0, 3))
        return (d(shapes_of(d_x - 1, d_x - 1)) + (k,), d(shapes_of(d_y - 1, d_y - 1)) + (k,))

    return draw_()


def _positive_weights(rng: np.random.Generator, shapes: Sequence[Shape]) -> list[np.ndarray]:
    """x real, its weights positive: an average's sum of weights away from 0."""
    return [_real(rng, shapes[0]), *(_positive(rng, s) for s in shapes[1:])]


PRODUCTS = [
    Op("tensordot", gg.tensordot, np.tensordot, ((2, 3, 4), (3, 4, 2)),
       random=labelled("ijk", "jkl")),
    Op("tensordot_pairs", lambda x, y: gg.tensordot(x, y, axes=([0, 2], [2, 1])),
       lambda x, y: np.tensordot(x, y, axes=([0, 2], [2, 1])), ((2, 3, 4), (3, 4, 2)),
       random=labelled("ijk", "lki")),
    Op("tensordot_outer_numpy", lambda x, y: np.tensordot(x, y, 0),
       lambda x, y: np.tensordot(x, y, 0), ((2, 3), (3,))),
    Op("inner", gg.inner, np.inner, ((3, 4), (2, 4)), random=_last_shared(2, 2)),
    Op("inner_numpy_vector_batch", lambda x, y: np.inner(x, y), np.inner, ((4,), (2, 3, 4)),
       random=_last_shared(1, 3)),
    Op("inner_scalar", gg.inner, np.inner, ((), (2, 3))),
    Op("kron", gg.kron, np.kron, ((2, 3), (3, 2)),
       random=st.tuples(sides_from_zero(0, 2), sides_from_zero(0, 2))),
    Op("kron_numpy_vector_matrix", lambda x, y: np.kron(x, y), np.kron, ((3,), (2, 2)),
       random=st.tuples(shapes_of(1, 1), shapes_of(2, 3))),
    Op("cross", gg.cross, np.cross, ((4, 3), (3,)),
       random=st.tuples(shapes_of(0, 2), st.integers(0, 2)).map(  # b's batch: a's, or its end
           lambda s: (s[0] + (3,), s[0][s[1]:] + (3,)))),
    Op("cross_axes_numpy", lambda x, y: np.cross(x, y, axisa=0, axisb=1, axisc=0),
       lambda x, y: np.cross(x, y, axisa=0, axisb=1, axisc=0), ((3, 2), (2, 3)),
       random=st.integers(1, 4).map(lambda n: ((3, n), (n, 3)))),
    Op("diff", gg.diff, np.diff, ((3, 5),), random=one(sides_from_zero(1))),
    Op("diff_twice_axis0_ends", lambda x: gg.diff(x, 2, axis=0, prepend=0.5, append=x[:1] * 2),
       lambda x: np.diff(x, 2, axis=0, prepend=0.5, append=x[:1] * 2), ((4, 3),),
       random=one(shapes_of(1))),
    Op("diff_numpy", lambda x: np.diff(x, n=3), lambda x: np.diff(x, n=3), ((2, 5),),
       random=one(shapes_of(1))),
    Op("average", gg.average, np.average, ((3, 4),), random=one(shapes_of())),
    Op("average_weights", lambda x, w: gg.average(x, axis=(0, -1), weights=w, keepdims=True),
       lambda x, w: np.average(x, axis=(0, -1), weights=w, keepdims=True), ((2, 3, 4),) * 2,
       _positive_weights, random=joined(2, 0, 3, new_axis=True)),
    Op("average_weights_along_axis_numpy", lambda x, w: np.average(x, 1, w, True),
       lambda x, w: tuple(np.average(x, 1, w, True)), ((3, 4), (4,)), _positive_weights,
       random=labelled("ij", "j")),
]

QUANTILES = [
    Op("median", gg.median, np.median, ((3, 4),), distinct, random=one(shapes_of())),
    Op("median_even_axis_keepdims", lambda x: gg.median(x, axis=-1, keepdims=True),
       lambda x: np.median(x, axis=-1, keepdims=True), ((3, 4),), distinct,
       random=one(shapes_of(1))),
    Op("quantile_several_axes", lambda x: gg.quantile(x, [0.1, 0.5, 1.0], axis=(0, 2)),
       lambda x: np.quantile(x, [0.1, 0.5, 1.0], axis=(0, 2)), ((2, 3, 4),), distinct,
       random=one(shapes_of(3))),
    Op("percentile_numpy", lambda x: np.percentile(x, [[25.0], [90.0]], axis=0),
       lambda x: np.percentile(x, [[25.0], [90.0]], axis=0), ((5, 2),), distinct,
       random=one(shapes_of(1))),
    Op("median_numpy", lambda x: np.median(x, 1), lambda x: np.median(x, 1), ((2, 5),),
       distinct),
]

DIAGONALS = [
    Op("diagonal", gg.diagonal, np.diagonal, ((3, 4),), random=one(sides_from_zero(2))),
    Op("diagonal_offset_axes_method", lambda x: x.diagonal(1, -1, 0),
       lambda x: x.diagonal(1, -1, 0), ((3, 2, 4),), random=one(sides_from_zero(2))),
    Op("diagonal_below_numpy", lambda x: np.diagonal(x, offset=-2, axis1=1, axis2=2),
       lambda x: np.diagonal(x, offset=-2, axis1=1, axis2=2), ((2, 4, 3),),
       random=one(sides_from_zero(3))),
    Op("diag_of_a_vector", gg.diag, np.diag, ((4,),), random=one(sides_from_zero(1, 1))),
    Op("diag_of_a_vector_above", lambda v: gg.diag(v, 2), lambda v: np.diag(v, 2), ((3,),),
       random=one(sides_from_zero(1, 1))),
    Op("diag_of_a_matrix_below_numpy", lambda x: np.diag(x, k=-1), lambda x: np.diag(x, k=-1),
       ((4, 3),), random=one(sides_from_zero(2, 2))),
    Op("trace", gg.trace, np.trace, ((4, 4),), random=one(sides_from_zero(2))),
    Op("trace_of_a_stack_method", lambda x: x.trace(-1, axis1=1, axis2=2),
       lambda x: np.trace(x, -1, axis1=1, axis2=2), ((2, 3, 4),),
       random=one(sides_from_zero(3))),
    Op("trace_numpy", lambda x: np.trace(x, 1), lambda x: np.trace(x, 1), ((3, 3),)),
    Op("triu", gg.triu, np.triu, ((3, 4),), random=one(sides_from_zero(1))),
    Op("triu_above_stack", lambda x: gg.triu(x, 1), lambda x: np.triu(x, 1), ((2, 4, 3),),
       random=one(sides_from_zero(1))),
    Op("tril", gg.tril, np.tril, ((4, 3),), random=one(sides_from_zero(1))),
    Op("tril_below_numpy", lambda x: np.tril(x, k=-1), lambda x: np.tril(x, k=-1), ((4, 4),),
       random=one(sides_from_zero(1))),
]

def square_stacks(max_batch: int = 2) -> st.SearchStrategy[tuple[Shape]]:
    """One matrix (n, n) or stack of them (..., n, n), n from 0 (numpy's empty matrix)."""
    return st.tuples(hnp.array_shapes(min_dims=0, max_dims=max_batch, min_side=1, max_side=3),
                     st.integers(0, 4)).map(lambda s: (s[0] + (s[1], s[1]),))


def solve_shapes(vector: bool = False) -> st.SearchStrategy[tuple[Shape, Shape]]:
    """Shapes of A (..., n, n) and b: a vector (n,), or matrices (..., n, k) whose stack
    broadcasts with A's."""

    @st.composite
    def draw_(d):
        n = d(st.integers(1, 4))
        batches = d(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2,
                                                      max_side=3)).input_shapes
        b = (n,) if vector else batches[1] + (n, d(st.integers(1, 3)))
        return batches[0] + (n, n), b

    return draw_()


def _invertible(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """Matrices (..., n, n) far from singular, of either sign of determinant: (n + 1) I plus
    noise, the first row negated in some."""
    n = shape[-1]
    a = 0.5 * rng.standard_normal(shape) + (n + 1) * np.eye(n)
    a[..., :1, :] *= rng.choice([-1.0, 1.0], shape[:-2] + (1, 1))
    return a


def _positive_definite(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """Symmetric positive-definite matrices (..., n, n): M M^T + n I."""
    m = rng.standard_normal(shape)
    return m @ np.swapaxes(m, -1, -2) + shape[-1] * np.eye(shape[-1])


def _positive_definite_below(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """`_positive_definite` below its diagonal, noise above it: cholesky reads the lower
    triangle only, as numpy's."""
    return _positive_definite(rng, shape) + np.triu(rng.standard_normal(shape), 1)


def matrix_stacks(max_batch: int = 2, min_side: int = 0) -> st.SearchStrategy[tuple[Shape]]:
    """One matrix (m, n) or stack of them (..., m, n), m and n from ``min_side``."""
    return st.tuples(hnp.array_shapes(min_dims=0, max_dims=max_batch, min_side=1, max_side=3),
                     st.integers(min_side, 4), st.integers(min_side, 4)
                     ).map(lambda s: (s[0] + (s[1], s[2]),))


def _orthonormal(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """Matrices (..., m, k) of orthonormal columns, k <= m."""
    return np.linalg.qr(rng.standard_normal(shape))[0]


def _symmetric_distinct(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """Symmetric matrices (..., n, n) of eigenvalues at least 0.6 apart, of both signs: the
    eigenvectors' gradient needs distinct eigenvalues."""
    n = shape[-1]
    w = np.arange(n) - n / 2 + rng.uniform(-0.2, 0.2, shape[:-1])
    v = _orthonormal(rng, shape)
    return (v * w[..., None, :]) @ np.swapaxes(v, -1, -2)


def _symmetric_distinct_below(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """`_symmetric_distinct` below its diagonal, noise above it: eigh reads the lower
    triangle only, as numpy's."""
    return _symmetric_distinct(rng, shape) + np.triu(rng.standard_normal(shape), 1)


def _distinct_singular(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """Matrices (..., m, n) of singular values k, k - 1, ..., 1 (k = min(m, n)) plus a
    little noise: distinct and nonzero, as the singular vectors' gradient needs."""
    m, n = shape[-2:]
    k = min(m, n)
    s = np.arange(k, 0, -1) + rng.uniform(-0.2, 0.2, shape[:-2] + (k,))
    u = _orthonormal(rng, shape[:-2] + (m, k))
    v = _orthonormal(rng, shape[:-2] + (n, k))
    return (u * s[..., None, :]) @ np.swapaxes(v, -1, -2)


def _signless(*vectors: Any) -> tuple:
    """Eigenvectors (singular vectors) in columns, each times its first element: the same
    whichever sign LAPACK gives a vector, and as smooth."""
    return tuple(v * v[..., :1, :] for v in vectors)


def _eigh(lib: Any, uplo: str = "L") -> Callable:
    return lambda a: (lambda w, v: (w, *_signless(v)))(*lib.eigh(a, uplo))


def _svd(lib: Any, full_matrices: bool = False) -> Callable:
    def svd(a):
        u, s, vh = lib.svd(a, full_matrices=full_matrices)
        return (*_signless(u, np.swapaxes(vh, -1, -2)), s)

    return svd


def _invertible_as(rows: int) -> Callable[[np.random.Generator, Shape], np.ndarray]:
    """Tensors of any shape holding an `_invertible` matrix (rows, rows) in row-major order:
    tensorinv's and tensorsolve's a, reshaped to it."""
    return lambda rng, shape: _invertible(rng, (rows, rows)).reshape(shape)


INVERTIBLE = each(_invertible)
SOLVABLE = each(_invertible, _real)  # A, then b
POSITIVE_DEFINITE = each(_positive_definite)
SYMMETRIC = each(_symmetric_distinct)
DISTINCT_SINGULAR = each(_distinct_singular)

LINALG = [
    Op("linalg_inv", gg.linalg.inv, np.linalg.inv, ((3, 3),), INVERTIBLE,
       random=square_stacks()),
    Op("linalg_inv_stack_numpy", lambda a: np.linalg.inv(a), np.linalg.inv, ((2, 3, 3),),
       INVERTIBLE),
    Op("linalg_solve", gg.linalg.solve, np.linalg.solve, ((3, 3), (3, 2)), SOLVABLE,
       random=solve_shapes()),
    Op("linalg_solve_vector_stack", gg.linalg.solve, np.linalg.solve, ((2, 3, 3), (3,)),
       SOLVABLE, random=solve_shapes(vector=True)),
    Op("linalg_solve_stacks_broadcast_numpy", lambda a, b: np.linalg.solve(a, b),
       np.linalg.solve, ((2, 1, 3, 3), (4, 3, 2)), SOLVABLE),
    Op("linalg_det", gg.linalg.det, np.linalg.det, ((3, 3),), INVERTIBLE,
       random=square_stacks()),
    Op("linalg_det_stack_numpy", lambda a: np.linalg.det(a), np.linalg.det, ((4, 4, 4),),
       INVERTIBLE),
    Op("linalg_slogdet", lambda a: gg.linalg.slogdet(a).logabsdet,
       lambda a: np.linalg.slogdet(a).logabsdet, ((3, 3),), INVERTIBLE,
       random=square_stacks()),
    Op("linalg_slogdet_stack_numpy", lambda a: np.linalg.slogdet(a)[1],
       lambda a: np.linalg.slogdet(a)[1], ((4, 3, 3),), INVERTIBLE),
    Op("linalg_cholesky", gg.linalg.cholesky, np.linalg.cholesky, ((4, 4),), POSITIVE_DEFINITE,
       random=square_stacks()),
    Op("linalg_cholesky_reads_the_lower_triangle", gg.linalg.cholesky, np.linalg.cholesky,
       ((2, 3, 3),), each(_positive_definite_below)),
    Op("linalg_cholesky_upper_numpy", lambda a: np.linalg.cholesky(a, upper=True),
       lambda a: np.linalg.cholesky(a, upper=True), ((3, 3),),
       each(lambda rng, shape: np.swapaxes(_positive_definite_below(rng, shape), -1, -2)),
       random=square_stacks()),
    Op("linalg_eigh", _eigh(gg.linalg), _eigh(np.linalg), ((3, 3),), SYMMETRIC,
       random=square_stacks()),
    Op("linalg_eigh_reads_the_lower_triangle", _eigh(gg.linalg), _eigh(np.linalg),
       ((2, 3, 3),), each(_symmetric_distinct_below)),
    Op("linalg_eigh_upper_numpy", lambda a: _eigh(np.linalg, "U")(a), _eigh(np.linalg, "U"),
       ((4, 4),), each(lambda rng, shape: np.swapaxes(_symmetric_distinct_below(rng, shape),
                                                      -1, -2))),
    Op("linalg_eigvalsh", gg.linalg.eigvalsh, np.linalg.eigvalsh, ((2, 3, 3),), SYMMETRIC,
       random=square_stacks()),
    Op("linalg_svd", _svd(gg.linalg), _svd(np.linalg), ((4, 3),), DISTINCT_SINGULAR,
       random=matrix_stacks()),
    Op("linalg_svd_wide_stack_numpy", lambda a: _svd(np.linalg)(a), _svd(np.linalg),
       ((2, 2, 4),), DISTINCT_SINGULAR),
    Op("linalg_svd_full_matrices_square", _svd(gg.linalg, True), _svd(np.linalg, True),
       ((3, 3),), DISTINCT_SINGULAR),
    Op("linalg_svdvals", gg.linalg.svdvals, np.linalg.svdvals, ((2, 3, 4),), DISTINCT_SINGULAR,
       random=matrix_stacks()),
    Op("linalg_svd_values_only_numpy", lambda a: np.linalg.svd(a, compute_uv=False),
       lambda a: np.linalg.svd(a, compute_uv=False), ((4, 2),), DISTINCT_SINGULAR),
    Op("linalg_qr", lambda a: tuple(gg.linalg.qr(a)), lambda a: tuple(np.linalg.qr(a)),
       ((4, 3),), DISTINCT_SINGULAR, random=matrix_stacks(min_side=1)),
    Op("linalg_qr_wide_stack_numpy", lambda a: tuple(np.linalg.qr(a)),
       lambda a: tuple(np.linalg.qr(a)), ((2, 3, 5),), DISTINCT_SINGULAR),
    Op("linalg_qr_r", lambda a: gg.linalg.qr(a, "r"), lambda a: np.linalg.qr(a, "r"),
       ((5, 3),), DISTINCT_SINGULAR),
    Op("linalg_pinv", gg.linalg.pinv, np.linalg.pinv, ((4, 3),), DISTINCT_SINGULAR,
       random=matrix_stacks()),
    Op("linalg_pinv_wide_stack_numpy", lambda a: np.linalg.pinv(a), np.linalg.pinv,
       ((2, 2, 4),), DISTINCT_SINGULAR),
    Op("linalg_lstsq", lambda a, b: (lambda x, r, _, s: (x, r, s))(*gg.linalg.lstsq(a, b)),
       lambda a, b: (lambda x, r, _, s: (x, r, s))(*np.linalg.lstsq(a, b)), ((5, 3), (5, 2)),
       each(_distinct_singular, _real)),
    Op("linalg_lstsq_vector_numpy", lambda a, b: np.linalg.lstsq(a, b)[0],
       lambda a, b: np.linalg.lstsq(a, b)[0], ((3, 4), (3,)), each(_distinct_singular, _real)),
    Op("linalg_vector_norm", lambda x: gg.linalg.vector_norm(x, axis=1, keepdims=True),
       lambda x: np.linalg.vector_norm(x, axis=1, keepdims=True), ((2, 3, 4),)),
    Op("linalg_vector_norm_1_numpy", lambda x: np.linalg.vector_norm(x, axis=(0, 2), ord=1),
       lambda x: np.linalg.vector_norm(x, axis=(0, 2), ord=1), ((2, 3, 4),), NONZERO),
    Op("linalg_vector_norm_inf", lambda x: gg.linalg.vector_norm(x, ord=-np.inf),
       lambda x: np.linalg.vector_norm(x, ord=-np.inf), ((3, 4),), NONZERO),
    Op("linalg_matrix_norm", gg.linalg.matrix_norm, np.linalg.matrix_norm, ((2, 3, 4),)),
    Op("linalg_matrix_norm_nuc_numpy", lambda x: np.linalg.matrix_norm(x, ord="nuc"),
       lambda x: np.linalg.matrix_norm(x, ord="nuc"), ((2, 4, 3),), DISTINCT_SINGULAR),
    Op("linalg_matrix_norm_2", lambda x: gg.linalg.matrix_norm(x, ord=-2, keepdims=True),
       lambda x: np.linalg.matrix_norm(x, ord=-2, keepdims=True), ((2, 3, 3),),
       DISTINCT_SINGULAR),
    Op("linalg_matrix_norm_inf", lambda x: gg.linalg.matrix_norm(x, ord=np.inf),
       lambda x: np.linalg.matrix_norm(x, ord=np.inf), ((2, 3, 4),), NONZERO),
    Op("linalg_matrix_norm_1", lambda x: gg.linalg.matrix_norm(x, ord=-1),
       lambda x: np.linalg.matrix_norm(x, ord=-1), ((3, 4),), NONZERO),
    Op("linalg_multi_dot", lambda *xs: gg.linalg.multi_dot(xs),
       lambda *xs: np.linalg.multi_dot(xs), ((3,), (3, 5), (5, 2), (2, 4), (4,))),
    Op("linalg_multi_dot_numpy", lambda *xs: np.linalg.multi_dot(xs),
       lambda *xs: np.linalg.multi_dot(xs), ((6, 3), (3, 5), (5, 2))),
    Op("linalg_matrix_transpose_numpy", lambda x: np.linalg.matrix_transpose(x),
       np.linalg.matrix_transpose, ((2, 3, 4),)),
    Op("linalg_diagonal_numpy", lambda x: np.linalg.diagonal(x, offset=1),
       lambda x: np.linalg.diagonal(x, offset=1), ((2, 3, 4),)),
    Op("linalg_trace", lambda x: gg.linalg.trace(x, offset=-1),
       lambda x: np.linalg.trace(x, offset=-1), ((2, 4, 3),)),
    Op("linalg_outer_numpy", lambda a, b: np.linalg.outer(a, b), np.linalg.outer, ((3,), (4,))),
    Op("linalg_vecdot_numpy", lambda a, b: np.linalg.vecdot(a, b, axis=0),
       lambda a, b: np.linalg.vecdot(a, b, axis=0), ((3, 1), (3, 4))),
    Op("linalg_cross", lambda a, b: gg.linalg.cross(a, b, axis=0),
       lambda a, b: np.linalg.cross(a, b, axis=0), ((3, 2), (3, 1))),
    Op("linalg_tensordot_numpy", lambda a, b: np.linalg.tensordot(a, b, axes=1),
       lambda a, b: np.linalg.tensordot(a, b, axes=1), ((2, 3), (3, 4))),
    Op("linalg_matmul_numpy", lambda a, b: np.linalg.matmul(a, b), np.linalg.matmul,
       ((2, 2, 3), (3, 4))),
    Op("linalg_matrix_power", lambda a: gg.linalg.matrix_power(a, 5),
       lambda a: np.linalg.matrix_power(a, 5), ((3, 3),), INVERTIBLE, random=square_stacks()),
    Op("linalg_matrix_power_3_numpy", lambda a: np.linalg.matrix_power(a, 3),
       lambda a: np.linalg.matrix_power(a, 3), ((2, 3, 3),), INVERTIBLE),
    Op("linalg_matrix_power_negative_numpy", lambda a: np.linalg.matrix_power(a, -2),
       lambda a: np.linalg.matrix_power(a, -2), ((2, 3, 3),), INVERTIBLE),
    Op("linalg_cond", gg.linalg.cond, np.linalg.cond, ((2, 4, 3),), DISTINCT_SINGULAR,
       random=matrix_stacks(min_side=1)),
    Op("linalg_cond_minus_2_numpy", lambda a: np.linalg.cond(a, -2),
       lambda a: np.linalg.cond(a, -2), ((3, 4),), DISTINCT_SINGULAR),
    Op("linalg_cond_1_numpy", lambda a: np.linalg.cond(a, 1), lambda a: np.linalg.cond(a, 1),
       ((2, 3, 3),), INVERTIBLE),
    Op("linalg_cond_inf", lambda a: gg.linalg.cond(a, -np.inf),
       lambda a: np.linalg.cond(a, -np.inf), ((3, 3),), INVERTIBLE),
    Op("linalg_cond_fro_numpy", lambda a: np.linalg.cond(a, "fro"),
       lambda a: np.linalg.cond(a, "fro"), ((2, 3, 3),), INVERTIBLE),
    Op("linalg_cond_nuc", lambda a: gg.linalg.cond(a, "nuc"), lambda a: np.linalg.cond(a, "nuc"),
       ((3, 3),), DISTINCT_SINGULAR),
    Op("linalg_tensorinv", lambda a: gg.linalg.tensorinv(a, ind=1),
       lambda a: np.linalg.tensorinv(a, ind=1), ((6, 2, 3),), each(_invertible_as(6))),
    Op("linalg_tensorinv_numpy", lambda a: np.linalg.tensorinv(a),
       lambda a: np.linalg.tensorinv(a), ((2, 2, 4),), each(_invertible_as(4))),
    Op("linalg_tensorsolve", gg.linalg.tensorsolve, np.linalg.tensorsolve, ((2, 3, 6), (2, 3)),
       each(_invertible_as(6), _real)),
    Op("linalg_tensorsolve_axes_numpy", lambda a, b: np.linalg.tensorsolve(a, b, axes=(0, 2)),
       lambda a, b: np.linalg.tensorsolve(a, b, axes=(0, 2)), ((3, 6, 2), (6,)),
       each(_invertible_as(6), _real)),
]

INDEXING = [
    Op("index_int", lambda x: x[1], lambda x: x[1], ((3, 4),)),
    Op("index_negative_int", lambda x: x[-1, 2], lambda x: x[-1, 2], ((3, 4),)),
    Op("index_slice", lambda x: x[1:3], lambda x: x[1:3], ((4, 3),), random=one(shapes_of(1))),
    Op("index_strided", lambda x: x[:, ::2], lambda x: x[:, ::2], ((3, 5),),
       random=one(shapes_of(2))),
    Op("index_reversed", lambda x: x[::-1, 1:], lambda x: x[::-1, 1:], ((3, 4),)),
    Op("index_ellipsis_newaxis", lambda x: x[..., None, 1], lambda x: x[..., None, 1],
       ((2, 3, 4),)),
    Op("index_mask", lambda x: x[MASK], lambda x: x[MASK], ((3, 4),)),
    Op("index_mask_rows", lambda x: x[np.array([True, False, True])],
       lambda x: x[np.array([True, False, True])], ((3, 4),), random=with_side(0, 3)),
    Op("index_int_array_repeats", lambda x: x[REPEATED], lambda x: x[REPEATED], ((3, 4),),
       random=with_side(0, st.integers(3, 5))),
    Op("index_list_repeats", lambda x: x[[1, 1, 0]], lambda x: x[[1, 1, 0]], ((3, 4),)),
    # An embedding's rows with a padding token, 0, that these words do not use (its row's
    # gradient is 0 by design, not the derivative: tests/test_nn_embedding.py checks it).
    Op("embedding_padding_idx", lambda E: PaddedLookup.apply(E, index=WORDS, padding_idx=0),
       lambda E: E[WORDS], ((5, 3),), random=with_side(0, st.integers(5, 7), min_dims=2)),
    # Words each seen once, where the gradient scaled by their counts is the derivative
    # (repeated words: tests/test_nn_embedding.py).
    Op("embedding_scale_grad_by_freq",
       lambda E: ScaledLookup.apply(E, index=np.array([3, 0, 2]), padding_idx=4),
       lambda E: E[[3, 0, 2]], ((5, 3),), random=with_side(0, st.integers(5, 7), min_dims=2)),
    Op("index_int_arrays_pairs", lambda x: x[[0, 2, 0], [1, 3, 1]],
       lambda x: x[[0, 2, 0], [1, 3, 1]], ((3, 4),)),
    Op("index_int_array_2d", lambda x: x[:, np.array([[0, 1], [1, 3]])],
       lambda x: x[:, np.array([[0, 1], [1, 3]])], ((3, 4),)),
    Op("index_tensor", lambda x: x[gg.Tensor([2, 0, 2])], lambda x: x[[2, 0, 2]], ((3, 4),)),
    Op("index_negative_int_array", lambda x: x[np.array([-1, -1, 0])],
       lambda x: x[np.array([-1, -1, 0])], ((3, 4),)),
    Op("index_0d_int_array", lambda x: x[np.array(2)], lambda x: x[np.array(2)], ((3, 4),)),
    Op("index_arrays_around_a_slice", lambda x: x[:, [0, 0, 1], 1:, [1, 0, 1]],
       lambda x: x[:, [0, 0, 1], 1:, [1, 0, 1]], ((2, 3, 4, 2),)),
    Op("index_arrays_broadcast", lambda x: x[np.array([[0], [2]]), np.array([1, 1, 3])],
       lambda x: x[np.array([[0], [2]]), np.array([1, 1, 3])], ((3, 4),)),
    Op("index_mask_and_int", lambda x: x[np.array([True, False, True]), 1],
       lambda x: x[np.array([True, False, True]), 1], ((3, 4),)),
    Op("index_slice_and_mask", lambda x: x[1:, MASK[0]], lambda x: x[1:, MASK[0]], ((3, 4),)),
    Op("index_mask_tensor", lambda x: x[gg.Tensor(MASK)], lambda x: x[MASK], ((3, 4),)),
    Op("index_none_and_ellipsis_first", lambda x: x[None, ..., ::-1],
       lambda x: x[None, ..., ::-1], ((3, 4),)),
]



# -- numpy's running products, NaN functions, statistics, angles, sinc and vdot -------------------
def holes(x: Any) -> np.ndarray:
    """0 of x's shape and dtype with NaN at index 1 of the last axis: x + holes(x) has one
    NaN in each slice along the last axis that is 2 long or more, and no slice along it of
    NaNs only."""
    h = np.zeros(x.shape, x.dtype)
    if x.ndim and x.shape[-1] > 1:
        h[..., 1] = np.nan
    return h


def specials(x: Any) -> np.ndarray:
    """0 of x's shape and dtype with NaN, inf and -inf at index 1, 2 and 3 of the last axis
    (as far as it goes)."""
    h = np.zeros(x.shape, x.dtype)
    for i, value in enumerate((np.nan, np.inf, -np.inf), 1):
        if x.ndim and x.shape[-1] > i:
            h[..., i] = value
    return h


def near_zero(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """0 itself and numbers on both sides of where sinc's gradient changes formula (|x| =
    0.1 / pi = 0.032)."""
    return rng.choice([0.0, 1e-9, -1e-4, 0.01, -0.03, 0.0335, -0.05, 0.2], shape)


def same_sizes(rng_shapes: st.SearchStrategy[Shape] | None = None
               ) -> st.SearchStrategy[tuple[Shape, Shape]]:
    """Two shapes with one number of elements (vdot's a and b): a shape and one of its
    rearrangements (flattened, reversed)."""
    return shapes_of(1).flatmap(lambda shape: st.sampled_from(
        [(shape, (int(np.prod(shape)),)), (shape, shape[::-1]), (shape, shape)]))


def variables(min_n: int = 2, rows: tuple[int, int] = (1, 3), extra: bool = False,
              columns: bool = False) -> st.SearchStrategy[tuple[Shape, ...]]:
    """Shapes of cov's m (k, n), k variables of n >= min_n observations (n, k with
    ``columns``), and with ``extra`` of y, more variables of as many observations."""

    @st.composite
    def draw_(d):
        n = d(st.integers(min_n, 5))
        shapes = [(d(st.integers(*rows)), n) for _ in range(2 if extra else 1)]
        return tuple(shape[::-1] if columns else shape for shape in shapes)

    return draw_()


def _cov(*args: Any, **kwargs: Any) -> Any:
    """gg.cov on Tensors, np.cov on arrays."""
    return (gg.cov if isinstance(args[0], gg.Tensor) else np.cov)(*args, **kwargs)


def _corrcoef(*args: Any, **kwargs: Any) -> Any:
    return (gg.corrcoef if isinstance(args[0], gg.Tensor) else np.corrcoef)(*args, **kwargs)


NUMPY_FUNCTIONS = [
    Op("cumprod", gg.cumprod, np.cumprod, ((3, 4),), random=one(shapes_of())),
    Op("cumprod_axis0", lambda x: gg.cumprod(x, axis=0), lambda x: np.cumprod(x, axis=0),
       ((3, 4),), random=one(shapes_of(1))),
    Op("cumprod_negative_axis", lambda x: gg.cumprod(x, axis=-2),
       lambda x: np.cumprod(x, axis=-2), ((2, 3, 4),), random=one(shapes_of(2))),
    Op("cumprod_scalar_axis0", lambda x: gg.cumprod(x, axis=0),
       lambda x: np.cumprod(x, axis=0), ((),)),
    Op("cumprod_method", lambda x: x.cumprod(1), lambda x: np.cumprod(x, 1), ((2, 3, 4),),
       random=one(shapes_of(2))),
    Op("cumprod_numpy", lambda x: np.cumprod(x, axis=-1), lambda x: np.cumprod(x, axis=-1),
       ((3, 4),), random=one(shapes_of(1))),
    # rows of 0, 1, 2 and 3 zeros at random places, the ends too
    Op("cumprod_zeros_per_row", lambda x: gg.cumprod(x, axis=1),
       lambda x: np.cumprod(x, axis=1), ((8, 5),), zeros_per_row),
    Op("cumprod_zeros_per_row_flat", gg.cumprod, np.cumprod, ((4, 2, 3),), zeros_per_row),
    Op("nansum", lambda x: gg.nansum(x + holes(x)), lambda x: np.nansum(x + holes(x)),
       ((3, 4),), random=one(shapes_of())),
    Op("nansum_axis0_keepdims", lambda x: gg.nansum(x + holes(x), axis=0, keepdims=True),
       lambda x: np.nansum(x + holes(x), axis=0, keepdims=True), ((3, 4),),
       random=one(shapes_of(1))),
    Op("nansum_numpy_axes", lambda x: np.nansum(x + holes(x), axis=(0, 2)),
       lambda x: np.nansum(x + holes(x), axis=(0, 2)), ((2, 3, 4),),
       random=one(shapes_of(3, 3))),
    Op("nansum_without_nans", lambda x: gg.nansum(x, axis=1), lambda x: np.nansum(x, axis=1),
       ((3, 4),)),
    Op("nanmean", lambda x: gg.nanmean(x + holes(x)),
       lambda x: np.nanmean(x + holes(x)), ((3, 4),), random=one(shapes_of())),
    Op("nanmean_last_axis", lambda x: gg.nanmean(x + holes(x), axis=-1),
       lambda x: np.nanmean(x + holes(x), axis=-1), ((2, 3, 4),),
       random=one(shapes_of(1))),
    Op("nanmean_numpy_keepdims", lambda x: np.nanmean(x + holes(x), -1, keepdims=True),
       lambda x: np.nanmean(x + holes(x), -1, keepdims=True), ((3, 4),),
       random=one(shapes_of(1))),
    Op("nanmean_without_nans", lambda x: gg.nanmean(x, axis=0), lambda x: np.nanmean(x, axis=0),
       ((3, 4),)),
    # numpy's default posinf, 1.8e308, is left to tests/test_numpy_functions.py: gradcheck's
    # differences of outputs so large overflow
    Op("nan_to_num", lambda x: gg.nan_to_num(x + holes(x)),
       lambda x: np.nan_to_num(x + holes(x)), ((3, 5),), elementwise=True),
    Op("nan_to_num_numpy_settings",
       lambda x: np.nan_to_num(x + specials(x), nan=-1.5, posinf=9.0, neginf=-9.0),
       lambda x: np.nan_to_num(x + specials(x), nan=-1.5, posinf=9.0, neginf=-9.0),
       ((2, 4),), random=one(shapes_of())),
    Op("ptp", gg.ptp, np.ptp, ((3, 4),), distinct, random=one(shapes_of())),
    Op("ptp_axis1_keepdims", lambda x: gg.ptp(x, axis=1, keepdims=True),
       lambda x: np.ptp(x, axis=1, keepdims=True), ((3, 4),), distinct,
       random=one(shapes_of(2))),
    Op("ptp_method", lambda x: x.ptp(0), lambda x: np.ptp(x, 0), ((3, 4),), distinct),
    Op("ptp_numpy_axes", lambda x: np.ptp(x, axis=(0, -1)), lambda x: np.ptp(x, axis=(0, -1)),
       ((2, 3, 4),), distinct),
    Op("deg2rad", gg.deg2rad, np.deg2rad, ((3, 4),), elementwise=True, smooth=True),
    Op("rad2deg", gg.rad2deg, np.rad2deg, ((3, 4),), elementwise=True, smooth=True),
    Op("radians", gg.radians, np.radians, ((3, 4),)),
    Op("degrees", gg.degrees, np.degrees, ((3, 4),)),
    Op("deg2rad_numpy", lambda x: np.deg2rad(x), np.deg2rad, ((3, 4),)),
    Op("rad2deg_numpy", lambda x: np.rad2deg(x), np.rad2deg, ((3, 4),)),
    Op("radians_numpy", lambda x: np.radians(x), np.radians, ((3, 4),)),
    Op("degrees_numpy", lambda x: np.degrees(x), np.degrees, ((3, 4),)),
    Op("sinc", gg.sinc, np.sinc, ((3, 4),), elementwise=True, smooth=True),
    Op("sinc_near_zero", gg.sinc, np.sinc, ((4, 4),), each(near_zero),
       random=one(shapes_of())),
    Op("sinc_numpy", lambda x: np.sinc(x), np.sinc, ((3, 4),)),
    Op("vdot", gg.vdot, np.vdot, ((3, 4), (2, 6)), random=same_sizes()),
    Op("vdot_vectors_numpy", lambda x, y: np.vdot(x, y), np.vdot, ((5,), (5,))),
    Op("vdot_same_tensor", lambda x: gg.vdot(x, x), lambda x: np.vdot(x, x), ((2, 3),)),
    Op("cov", _cov, _cov, ((3, 5),), random=variables()),
    Op("cov_columns_bias", lambda x: _cov(x, rowvar=False, bias=True),
       lambda x: _cov(x, rowvar=False, bias=True), ((5, 3),),
       random=variables(1, columns=True)),
    Op("cov_ddof2", lambda x: _cov(x, ddof=2), lambda x: _cov(x, ddof=2), ((2, 6),),
       random=variables(3)),
    Op("cov_and_y", _cov, _cov, ((2, 4), (1, 4)), random=variables(extra=True)),
    Op("cov_and_y_columns", lambda x, y: _cov(x, y, False), lambda x, y: _cov(x, y, False),
       ((4, 2), (4, 3)), random=variables(extra=True, columns=True)),
    Op("cov_one_variable", _cov, _cov, ((6,),)),
    Op("cov_numpy", lambda x: np.cov(x), np.cov, ((3, 4),)),
    Op("corrcoef", _corrcoef, _corrcoef, ((3, 5),), random=variables(rows=(2, 3))),
    Op("corrcoef_columns", lambda x: _corrcoef(x, rowvar=False),
       lambda x: _corrcoef(x, rowvar=False), ((6, 3),),
       random=variables(rows=(2, 3), columns=True)),
    Op("corrcoef_and_y", _corrcoef, _corrcoef, ((2, 4), (1, 4)),
       random=variables(extra=True)),
    Op("corrcoef_numpy", lambda x: np.corrcoef(x), np.corrcoef, ((4, 5),)),
    Op("corrcoef_one_variable", _corrcoef, _corrcoef, ((5,),)),
]


# -- the other NaN functions, numpy 2's running ops and rearrangements, differences, grids ------
def sides_at_least(least: int, min_dims: int = 1, max_dims: int = 3
                   ) -> st.SearchStrategy[tuple[Shape]]:
    """One input whose every axis has ``least`` elements or more (np.gradient's)."""
    return one(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=least,
                                max_side=4))


def _numpy_or_gg(name: str) -> Callable[..., Any]:
    """gg's function ``name`` on Tensors, numpy's on arrays."""
    return lambda *args, **kwargs: getattr(gg if isinstance(args[0], gg.Tensor) else np, name)(
        *args, **kwargs)


nanmax_, nanmin_, nanvar_, nanstd_ = map(_numpy_or_gg, ("nanmax", "nanmin", "nanvar", "nanstd"))
nanquantile_, nanmedian_ = _numpy_or_gg("nanquantile"), _numpy_or_gg("nanmedian")
cumulative_sum_, cumulative_prod_ = _numpy_or_gg("cumulative_sum"), _numpy_or_gg("cumulative_prod")
trapezoid_, gradient_, meshgrid_ = map(_numpy_or_gg, ("trapezoid", "gradient", "meshgrid"))


def _block(*args: Any) -> Any:
    """np.block or gg.block of [[x, y], [z]]: x (2, 3) and y (2, 1) side by side, z (1, 4)
    under them."""
    x, y, z = args
    return (gg.block if isinstance(x, gg.Tensor) else np.block)([[x, y], [z]])


NUMPY_FUNCTIONS_MORE = [
    Op("nanmax", lambda x: nanmax_(x + holes(x)), lambda x: nanmax_(x + holes(x)), ((3, 4),),
       distinct, random=one(shapes_of())),
    Op("nanmax_axis1_keepdims", lambda x: nanmax_(x + holes(x), axis=1, keepdims=True),
       lambda x: nanmax_(x + holes(x), axis=1, keepdims=True), ((3, 4),), distinct,
       random=one(shapes_of(2, 2))),
    Op("nanmin_numpy_axes", lambda x: np.nanmin(x + holes(x), axis=(0, 2)),
       lambda x: np.nanmin(x + holes(x), axis=(0, 2)), ((2, 3, 4),), distinct,
       random=one(shapes_of(3, 3))),
    Op("nanmin", lambda x: nanmin_(x + holes(x), axis=-1), lambda x: nanmin_(x + holes(x), -1),
       ((3, 4),), distinct, random=one(shapes_of(1))),
    Op("nanprod", lambda x: gg.nanprod(x + holes(x), axis=1), lambda x: np.nanprod(
        x + holes(x), axis=1), ((3, 4),), random=one(shapes_of(2))),
    Op("nanprod_numpy_zeros", lambda x: np.nanprod(x + holes(x), axis=1),
       lambda x: np.nanprod(x + holes(x), axis=1), ((8, 5),), zeros_per_row),
    Op("nanvar", lambda x: nanvar_(x + holes(x)), lambda x: nanvar_(x + holes(x)), ((3, 4),),
       random=one(shapes_of())),
    Op("nanvar_last_axis_ddof1", lambda x: nanvar_(x + holes(x), axis=-1, ddof=1),
       lambda x: nanvar_(x + holes(x), axis=-1, ddof=1), ((3, 5),),
       random=with_side(-1, st.integers(3, 4), 2)),
    Op("nanvar_numpy_correction", lambda x: np.nanvar(x + holes(x), 1, correction=1),
       lambda x: np.nanvar(x + holes(x), 1, correction=1), ((3, 4),)),
    Op("nanstd", lambda x: nanstd_(x + holes(x), axis=-1, keepdims=True),
       lambda x: nanstd_(x + holes(x), axis=-1, keepdims=True), ((2, 3, 4),),
       random=with_side(-1, st.integers(3, 4))),
    Op("nanstd_numpy_ddof", lambda x: np.nanstd(x + holes(x), axis=(0, 1), ddof=1),
       lambda x: np.nanstd(x + holes(x), axis=(0, 1), ddof=1), ((3, 4),)),
    Op("nancumsum", lambda x: gg.nancumsum(x + holes(x)), lambda x: np.nancumsum(x + holes(x)),
       ((3, 4),), random=one(shapes_of())),
    Op("nancumsum_numpy_axis", lambda x: np.nancumsum(x + holes(x), axis=-1),
       lambda x: np.nancumsum(x + holes(x), axis=-1), ((3, 4),), random=one(shapes_of(1))),
    Op("nancumprod", lambda x: gg.nancumprod(x + holes(x), axis=1),
       lambda x: np.nancumprod(x + holes(x), axis=1), ((3, 4),), random=one(shapes_of(2))),
    Op("nancumprod_numpy", lambda x: np.nancumprod(x + holes(x)),
       lambda x: np.nancumprod(x + holes(x)), ((2, 3),)),
    Op("nanmedian", lambda x: nanmedian_(x + holes(x), axis=-1),
       lambda x: nanmedian_(x + holes(x), axis=-1), ((3, 5),), distinct,
       random=one(shapes_of(1))),
    Op("nanmedian_all_numpy", lambda x: np.nanmedian(x + holes(x)),
       lambda x: np.nanmedian(x + holes(x)), ((3, 4),), distinct, random=one(shapes_of())),
    Op("nanquantile", lambda x: nanquantile_(x + holes(x), [0.1, 0.5, 1.0], axis=1),
       lambda x: nanquantile_(x + holes(x), [0.1, 0.5, 1.0], axis=1), ((3, 5),), distinct,
       random=one(shapes_of(2, 2))),
    Op("nanquantile_keepdims", lambda x: nanquantile_(x + holes(x), 0.3, axis=(0, 2),
                                                      keepdims=True),
       lambda x: nanquantile_(x + holes(x), 0.3, axis=(0, 2), keepdims=True), ((2, 3, 4),),
       distinct, random=one(shapes_of(3))),
    Op("nanpercentile_numpy", lambda x: np.nanpercentile(x + holes(x), [[25.0], [90.0]], axis=1),
       lambda x: np.nanpercentile(x + holes(x), [[25.0], [90.0]], axis=1), ((2, 5),), distinct,
       random=one(shapes_of(2, 2))),
    Op("fabs_numpy", lambda x: np.fabs(x), np.fabs, ((3, 4),), NONZERO),
    Op("cumulative_sum", lambda x: cumulative_sum_(x), lambda x: cumulative_sum_(x), ((5,),),
       random=one(shapes_of(0, 1))),
    Op("cumulative_sum_initial", lambda x: cumulative_sum_(x, axis=1, include_initial=True),
       lambda x: cumulative_sum_(x, axis=1, include_initial=True), ((3, 4),),
       random=one(shapes_of(2))),
    Op("cumulative_sum_numpy", lambda x: np.cumulative_sum(x, axis=-2),
       lambda x: np.cumulative_sum(x, axis=-2), ((2, 3, 4),)),
    Op("cumulative_prod_initial", lambda x: cumulative_prod_(x, axis=0, include_initial=True),
       lambda x: cumulative_prod_(x, axis=0, include_initial=True), ((3, 4),),
       random=one(shapes_of(1))),
    Op("cumulative_prod_numpy", lambda x: np.cumulative_prod(x, include_initial=True),
       lambda x: np.cumulative_prod(x, include_initial=True), ((4,),)),
    Op("matrix_transpose", gg.matrix_transpose, np.matrix_transpose, ((2, 3, 4),),
       random=one(shapes_of(2))),
    Op("matrix_transpose_numpy", lambda x: np.matrix_transpose(x), np.matrix_transpose,
       ((3, 4),)),
    Op("unstack", gg.unstack, np.unstack, ((3, 4),), random=one(shapes_of(1))),
    Op("unstack_numpy_axis", lambda x: np.unstack(x, axis=-1),
       lambda x: np.unstack(x, axis=-1), ((2, 3, 4),), random=one(shapes_of(1))),
    Op("block", _block, _block, ((2, 3), (2, 1), (1, 4))),
    Op("block_numpy_vectors", lambda x, y: np.block([x, y, x]), lambda x, y: np.block([x, y, x]),
       ((3,), (2,))),
    Op("block_numpy_new_axes", lambda x, y: np.block([[x], [y]]),
       lambda x, y: np.block([[x], [y]]), ((3,), (2, 3))),
    Op("broadcast_arrays", lambda x, y: gg.broadcast_arrays(x, y),
       lambda x, y: np.broadcast_arrays(x, y), ((3, 1), (4,)),
       random=st.tuples(shapes_of(2, 2), shapes_of(0, 1)).map(
           lambda s: (s[0], s[1][:0] + ((s[0][1],) if s[1] else ())))),
    Op("broadcast_arrays_numpy", lambda x, y, z: np.broadcast_arrays(x, y, z),
       lambda x, y, z: np.broadcast_arrays(x, y, z), ((2, 1, 3), (4, 1), ())),
    Op("meshgrid", meshgrid_, meshgrid_, ((3,), (4,))),
    Op("meshgrid_ij_three", lambda x, y, z: meshgrid_(x, y, z, indexing="ij"),
       lambda x, y, z: meshgrid_(x, y, z, indexing="ij"), ((2,), (3,), (4,))),
    Op("meshgrid_numpy_sparse", lambda x, y: np.meshgrid(x, y, sparse=True),
       lambda x, y: np.meshgrid(x, y, sparse=True), ((3,), (2, 2))),
    Op("trapezoid", trapezoid_, trapezoid_, ((3, 4),), random=one(shapes_of(1))),
    Op("trapezoid_dx_axis0", lambda y: trapezoid_(y, dx=0.5, axis=0),
       lambda y: trapezoid_(y, dx=0.5, axis=0), ((3, 4),), random=one(shapes_of(1))),
    Op("trapezoid_coordinates", lambda y, x: trapezoid_(y, x), lambda y, x: trapezoid_(y, x),
       ((3, 4), (4,))),
    Op("trapezoid_numpy_coordinates_alike", lambda y, x: np.trapezoid(y, x, axis=0),
       lambda y, x: np.trapezoid(y, x, axis=0), ((3, 4), (3, 4))),
    Op("ediff1d", gg.ediff1d, np.ediff1d, ((3, 4),), random=one(shapes_of())),
    Op("ediff1d_numpy_ends", lambda x, b: np.ediff1d(x, to_end=2.5, to_begin=b),
       lambda x, b: np.ediff1d(x, to_end=2.5, to_begin=b), ((5,), (2,))),
    Op("gradient", gradient_, gradient_, ((3, 4),), random=sides_at_least(2)),
    Op("gradient_spacing_axis", lambda f: gradient_(f, 0.5, axis=1),
       lambda f: gradient_(f, 0.5, axis=1), ((2, 5),), random=with_side(1, st.integers(2, 4), 2)),
    Op("gradient_coordinates", lambda f: gradient_(f, 2.0, np.array([0.0, 0.5, 2.0, 2.25])),
       lambda f: gradient_(f, 2.0, np.array([0.0, 0.5, 2.0, 2.25])), ((3, 4),)),
    Op("gradient_edge_order2_numpy", lambda f: np.gradient(f, axis=-1, edge_order=2),
       lambda f: np.gradient(f, axis=-1, edge_order=2), ((2, 5),),
       random=with_side(-1, st.integers(3, 4))),
    Op("gradient_coordinates_edge_order2_numpy",
       lambda f: np.gradient(f, [0.0, 1.0, 1.5, 3.0, 3.25], edge_order=2),
       lambda f: np.gradient(f, [0.0, 1.0, 1.5, 3.0, 3.25], edge_order=2), ((5,),)),
    Op("real_conj_numpy", lambda x: np.real(np.conj(np.conjugate(x))),
       lambda x: np.real(np.conj(x)), ((3, 4),)),
]


def conv_reference(a: np.ndarray, w: np.ndarray, b: Any = None, stride: int = 1,
                   pad: int = 0, groups: int = 1) -> np.ndarray:
    """The course's conv_forward: a loop over output positions, each the course's
    conv_single_step (window * W summed) for every example and filter at once; with groups,
    group k's filters on group k's channels of the window."""
    a = np.pad(a, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    f_h, f_w, per_group, n_c = w.shape
    filters = n_c // groups
    n_h = (a.shape[1] - f_h) // stride + 1
    n_w = (a.shape[2] - f_w) // stride + 1
    z = np.zeros((a.shape[0], n_h, n_w, n_c))
    for h in range(n_h):
        for v in range(n_w):
            window = a[:, h * stride:h * stride + f_h, v * stride:v * stride + f_w, :]
            for k in range(groups):
                channels = slice(k * per_group, (k + 1) * per_group)
                outputs = slice(k * filters, (k + 1) * filters)
                z[:, h, v, outputs] = np.tensordot(window[..., channels], w[..., outputs],
                                                   axes=3)
    return z if b is None else z + np.reshape(b, n_c)


def conv1d_reference(a: np.ndarray, w: np.ndarray, b: Any = None, stride: int = 1,
                     pad: int = 0, groups: int = 1) -> np.ndarray:
    """`conv_reference` on sequences (m, n_L, n_C): images one pixel high, padded along the
    length only."""
    a = np.pad(a, ((0, 0), (pad, pad), (0, 0)))
    return conv_reference(a[:, None], w[None], b, stride, 0, groups)[:, 0]


def conv_transpose_reference(a: np.ndarray, w: np.ndarray, b: Any = None, stride: int = 1,
                             pad: int = 0, output_padding: int = 0) -> np.ndarray:
    """The transposed convolution as a loop: each pixel of A adds A[i, h, v] W^T into its
    f x f window of the output, windows ``stride`` apart; then ``pad`` rows and columns are
    cropped from each side, output_padding rows and columns kept at the bottom and right."""
    f_h, f_w, n_c, _ = w.shape
    m, n_h, n_w, _ = a.shape
    full = np.zeros((m, (n_h - 1) * stride + f_h + output_padding,
                     (n_w - 1) * stride + f_w + output_padding, n_c))
    for h in range(n_h):
        for v in range(n_w):
            full[:, h * stride:h * stride + f_h, v * stride:v * stride + f_w, :] += np.einsum(
                "mc,ijoc->mijo", a[:, h, v, :], w)
    height = (n_h - 1) * stride - 2 * pad + f_h + output_padding
    width = (n_w - 1) * stride - 2 * pad + f_w + output_padding
    z = full[:, pad:pad + height, pad:pad + width, :]
    return z if b is None else z + np.reshape(b, n_c)


def padded_pool_reference(a: np.ndarray, f: int, stride: int, pad: int, kind: str
                          ) -> np.ndarray:
    """`pool_reference` with ``pad`` cells around each image: -inf for "max", zeros that count
    for "avg", zeros that do not (each window divided by its real pixels) for "avg_real"."""
    widths = ((0, 0), (pad, pad), (pad, pad), (0, 0))
    if kind == "max":
        return pool_reference(np.pad(a, widths, constant_values=-np.inf), f, stride, np.max)
    if kind == "avg":
        return pool_reference(np.pad(a, widths), f, stride, np.mean)
    real = pool_reference(np.pad(np.ones_like(a), widths), f, stride, np.sum)
    return pool_reference(np.pad(a, widths), f, stride, np.sum) / real


def pool_reference(a: np.ndarray, f: int, stride: int, reduce: Callable) -> np.ndarray:
    """The course's pool_forward: ``reduce`` (np.max, np.mean) over each f x f window."""
    n_h = (a.shape[1] - f) // stride + 1
    n_w = (a.shape[2] - f) // stride + 1
    out = np.zeros((a.shape[0], n_h, n_w, a.shape[3]))
    for h in range(n_h):
        for v in range(n_w):
            window = a[:, h * stride:h * stride + f, v * stride:v * stride + f, :]
            out[:, h, v, :] = reduce(window, axis=(1, 2))
    return out


def _two(value: Any) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def conv_pairs_reference(a: np.ndarray, w: np.ndarray, b: Any = None, stride: Any = 1,
                         pads: Any = ((0, 0), (0, 0)), dilation: Any = 1) -> np.ndarray:
    """A convolution by f_h x f_w filters as a loop over output positions, with a stride
    (s_h, s_w), padding ((top, bottom), (left, right)) and dilation (d_h, d_w) of their own
    along each axis: each output the window's taps, d apart, times W, summed."""
    (s_h, s_w), (d_h, d_w) = _two(stride), _two(dilation)
    a = np.pad(a, ((0, 0), tuple(pads[0]), tuple(pads[1]), (0, 0)))
    f_h, f_w, _, n_c = w.shape
    n_h = (a.shape[1] - d_h * (f_h - 1) - 1) // s_h + 1
    n_w = (a.shape[2] - d_w * (f_w - 1) - 1) // s_w + 1
    z = np.zeros((a.shape[0], n_h, n_w, n_c))
    for h in range(n_h):
        for v in range(n_w):
            window = a[:, h * s_h:h * s_h + d_h * (f_h - 1) + 1:d_h,
                       v * s_w:v * s_w + d_w * (f_w - 1) + 1:d_w, :]
            z[:, h, v, :] = np.tensordot(window, w, axes=3)
    return z if b is None else z + np.reshape(b, n_c)


def conv_transpose_pairs_reference(a: np.ndarray, w: np.ndarray, b: Any = None,
                                   stride: Any = 1, pad: Any = 0, output_padding: Any = 0,
                                   dilation: Any = 1) -> np.ndarray:
    """The transposed convolution as a loop, each setting a pair: each pixel of A adds
    A[i, h, v] W^T at its window's taps (d apart) of the output, windows s apart; then p rows
    and columns are cropped from each side, output_padding kept at the bottom and right."""
    (s_h, s_w), (p_h, p_w) = _two(stride), _two(pad)
    (e_h, e_w), (d_h, d_w) = _two(output_padding), _two(dilation)
    f_h, f_w, n_c, _ = w.shape
    m, n_h, n_w, _ = a.shape
    full = np.zeros((m, (n_h - 1) * s_h + d_h * (f_h - 1) + 1 + e_h,
                     (n_w - 1) * s_w + d_w * (f_w - 1) + 1 + e_w, n_c))
    for h in range(n_h):
        for v in range(n_w):
            full[:, h * s_h:h * s_h + d_h * (f_h - 1) + 1:d_h,
                 v * s_w:v * s_w + d_w * (f_w - 1) + 1:d_w, :] += np.einsum(
                "mc,ijoc->mijo", a[:, h, v, :], w)
    z = full[:, p_h:full.shape[1] - p_h, p_w:full.shape[2] - p_w, :]
    return z if b is None else z + np.reshape(b, n_c)


def _pool_out(size: int, f: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's pooling_output_shape."""
    span = d * (f - 1) + 1
    n = (size + 2 * p - span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (n - 1) * s >= size + p:
        n -= 1
    return n


def torch_rule_pool_reference(a: np.ndarray, f: Any, stride: Any = None, pad: Any = 0,
                              dilation: Any = 1, ceil_mode: bool = False, kind: str = "max",
                              count_include_pad: bool = True) -> np.ndarray:
    """Max or average pooling of images (m, H, W, C) as PyTorch's CPU loops compute it, each
    setting a pair: window (oh, ow) starts at (oh s_h - p_h, ow s_w - p_w); max takes its taps
    inside the image; average sums the image's pixels of rows [start, min(start + f, H + p))
    and divides by that span (count_include_pad) or by the image's pixels in it."""
    (f_h, f_w) = _two(f)
    (s_h, s_w) = _two(f if stride is None else stride)
    (p_h, p_w), (d_h, d_w) = _two(pad), _two(dilation)
    m, height, width, channels = a.shape
    n_h = _pool_out(height, f_h, s_h, p_h, d_h, ceil_mode)
    n_w = _pool_out(width, f_w, s_w, p_w, d_w, ceil_mode)
    out = np.zeros((m, n_h, n_w, channels))
    for oh in range(n_h):
        for ow in range(n_w):
            top, left = oh * s_h - p_h, ow * s_w - p_w
            if kind == "max":
                rows = [r for r in range(top, top + d_h * (f_h - 1) + 1, d_h) if 0 <= r < height]
                cols = [c for c in range(left, left + d_w * (f_w - 1) + 1, d_w)
                        if 0 <= c < width]
                out[:, oh, ow] = a[:, rows][:, :, cols].max(axis=(1, 2))
                continue
            bottom, right = min(top + f_h, height + p_h), min(left + f_w, width + p_w)
            size = (bottom - top) * (right - left)
            top, left = max(top, 0), max(left, 0)
            bottom, right = min(bottom, height), min(right, width)
            total = a[:, top:bottom, left:right].sum(axis=(1, 2))
            out[:, oh, ow] = total / (size if count_include_pad
                                      else (bottom - top) * (right - left))
    return out


def torch_rule_pool1d_reference(a: np.ndarray, f: int, stride: Any = None, pad: int = 0,
                                dilation: int = 1, ceil_mode: bool = False, kind: str = "max",
                                count_include_pad: bool = True) -> np.ndarray:
    """`torch_rule_pool_reference` of sequences (m, n_L, n_C), as images one pixel high."""
    return torch_rule_pool_reference(a[:, None], (1, f), (1, f if stride is None else stride),
                                     (0, pad), (1, dilation), ceil_mode, kind,
                                     count_include_pad)[:, 0]


def _unpool_places(shape: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of a 2 x 2 unpooling's output where pooled pixel (h, w) goes: one
    place in its window, chequered (2h + w % 2, 2w + h % 2)."""
    h, w = np.meshgrid(np.arange(shape[1]), np.arange(shape[2]), indexing="ij")
    return 2 * h + w % 2, 2 * w + h % 2


def unpool_chequered(p: Any) -> Any:
    """gg.max_unpool2d by 2 of p with the indices of `_unpool_places`."""
    rows, cols = _unpool_places(p.shape)
    indices = np.broadcast_to((rows * 2 * p.shape[2] + cols)[None, :, :, None], p.shape)
    return gg.max_unpool2d(p, indices, 2)


def unpool_chequered_reference(p: np.ndarray) -> np.ndarray:
    m, n_h, n_w, channels = p.shape
    out = np.zeros((m, 2 * n_h, 2 * n_w, channels))
    rows, cols = _unpool_places(p.shape)
    for h in range(n_h):
        for w in range(n_w):
            out[:, rows[h, w], cols[h, w]] = p[:, h, w]
    return out


CONVOLUTION = [
    Op("conv2d", gg.conv2d, conv_reference, ((2, 5, 5, 3), (3, 3, 3, 4), (4,)),
       random=conv_shapes(3, 3)),
    Op("conv2d_same_no_bias", lambda a, w: gg.conv2d(a, w, padding=1),
       lambda a, w: conv_reference(a, w, pad=1), ((2, 4, 5, 2), (3, 3, 2, 3)),
       random=conv_shapes(3, 3, pad=1, bias=None)),
    Op("conv2d_stride_pad", lambda a, w, b: gg.conv2d(a, w, b, stride=2, padding=1),
       lambda a, w, b: conv_reference(a, w, b, stride=2, pad=1),
       ((1, 6, 5, 2), (3, 3, 2, 2), (2,)), random=conv_shapes(3, 3, stride=2, pad=1)),
    Op("conv2d_rectangular_filter", lambda a, w, b: gg.conv2d(a, w, b, stride=2),
       lambda a, w, b: conv_reference(a, w, b, stride=2), ((2, 5, 6, 2), (2, 3, 2, 3), (3,)),
       random=conv_shapes(2, 3, stride=2)),
    Op("conv2d_course_bias", lambda a, w, b: gg.conv2d(a, w, b, stride=2, padding=2),
       lambda a, w, b: conv_reference(a, w, b, stride=2, pad=2),
       ((2, 4, 4, 3), (2, 2, 3, 8), (1, 1, 1, 8)),
       random=conv_shapes(2, 2, stride=2, pad=2, bias=(1, 1, 1))),
    Op("conv2d_groups", lambda a, w, b: gg.conv2d(a, w, b, padding=1, groups=2),
       lambda a, w, b: conv_reference(a, w, b, pad=1, groups=2),
       ((2, 4, 5, 4), (3, 3, 2, 6), (6,)), random=conv_shapes(3, 3, pad=1, groups=2)),
    Op("conv2d_depthwise", lambda a, w, b: gg.conv2d(a, w, b, stride=2, padding=1, groups=3),
       lambda a, w, b: conv_reference(a, w, b, stride=2, pad=1, groups=3),
       ((2, 5, 5, 3), (3, 3, 1, 3), (3,)),
       random=conv_shapes(3, 3, stride=2, pad=1, groups=3, per_group=1)),
    Op("conv2d_depthwise_multiplier", lambda a, w: gg.conv2d(a, w, groups=2),
       lambda a, w: conv_reference(a, w, groups=2), ((1, 4, 5, 2), (2, 3, 1, 6)),
       random=conv_shapes(2, 3, groups=2, bias=None, per_group=1)),
    Op("conv1d", gg.conv1d, conv1d_reference, ((2, 5, 3), (3, 3, 4), (4,)),
       random=conv1d_shapes(3)),
    Op("conv1d_stride_pad_groups",
       lambda a, w, b: gg.conv1d(a, w, b, stride=2, padding=1, groups=2),
       lambda a, w, b: conv1d_reference(a, w, b, stride=2, pad=1, groups=2),
       ((2, 7, 4), (3, 2, 6), (6,)), random=conv1d_shapes(3, stride=2, pad=1, groups=2)),
    Op("conv_transpose2d", gg.conv_transpose2d, conv_transpose_reference,
       ((2, 3, 2, 3), (2, 2, 4, 3), (4,)), random=conv_transpose_shapes(2, 2)),
    Op("conv_transpose2d_stride_pad_output_padding",
       lambda a, w: gg.conv_transpose2d(a, w, stride=3, padding=1, output_padding=2),
       lambda a, w: conv_transpose_reference(a, w, stride=3, pad=1, output_padding=2),
       ((1, 3, 2, 2), (3, 2, 3, 2)), random=conv_transpose_shapes(3, 2, bias=False)),
    Op("max_pool2d", lambda a: gg.max_pool2d(a, 2), lambda a: pool_reference(a, 2, 2, np.max),
       ((2, 4, 6, 3),), domain=distinct, random=images(2)),
    Op("max_pool2d_overlapping", lambda a: gg.max_pool2d(a, 3, stride=1),
       lambda a: pool_reference(a, 3, 1, np.max), ((1, 4, 5, 2),), domain=distinct,
       random=images(3)),
    Op("max_pool2d_uneven", lambda a: gg.max_pool2d(a, 2, stride=2),
       lambda a: pool_reference(a, 2, 2, np.max), ((2, 5, 5, 1),), domain=distinct),
    Op("avg_pool2d", lambda a: gg.avg_pool2d(a, 2), lambda a: pool_reference(a, 2, 2, np.mean),
       ((2, 4, 6, 3),), random=images(2)),
    Op("avg_pool2d_overlapping", lambda a: gg.avg_pool2d(a, 3, stride=2),
       lambda a: pool_reference(a, 3, 2, np.mean), ((1, 7, 5, 2),), random=images(3)),
    Op("max_pool2d_same", lambda a: gg.max_pool2d(a, 3, stride=1, padding="same"),
       lambda a: padded_pool_reference(a, 3, 1, 1, "max"), ((1, 4, 5, 2),), domain=distinct,
       random=images(3, pad=1)),
    Op("max_pool2d_padded", lambda a: gg.max_pool2d(a, 4, stride=3, padding=2),
       lambda a: padded_pool_reference(a, 4, 3, 2, "max"), ((2, 6, 7, 1),), domain=distinct,
       random=images(4, pad=2)),
    Op("avg_pool2d_padded", lambda a: gg.avg_pool2d(a, 4, stride=3, padding=2),
       lambda a: padded_pool_reference(a, 4, 3, 2, "avg"), ((2, 6, 7, 1),),
       random=images(4, pad=2)),
    Op("avg_pool2d_same_real_pixels",
       lambda a: gg.avg_pool2d(a, 3, stride=1, padding="same", count_include_pad=False),
       lambda a: padded_pool_reference(a, 3, 1, 1, "avg_real"), ((1, 4, 5, 2),),
       random=images(3, pad=1)),
    # PyTorch's pair settings, padding="same" of even filters, ceil_mode
    Op("conv2d_pairs",
       lambda a, w, b: gg.conv2d(a, w, b, stride=(2, 1), padding=(0, 1), dilation=(1, 2)),
       lambda a, w, b: conv_pairs_reference(a, w, b, (2, 1), ((0, 0), (1, 1)), (1, 2)),
       ((2, 5, 6, 2), (1, 3, 2, 3), (3,))),
    Op("conv2d_same_even",
       lambda a, w: gg.conv2d(a, w, padding="same", dilation=(1, 3)),
       lambda a, w: conv_pairs_reference(a, w, None, 1, ((0, 1), (1, 2)), (1, 3)),
       ((1, 4, 5, 2), (2, 2, 2, 2))),
    Op("conv1d_same_even", lambda a, w, b: gg.conv1d(a, w, b, padding="same"),
       lambda a, w, b: conv_pairs_reference(a[:, None], w[None], b, 1, ((0, 0), (1, 2)))[:, 0],
       ((2, 5, 2), (4, 2, 3), (3,))),
    Op("conv_transpose2d_pairs_dilated",
       lambda a, w, b: gg.conv_transpose2d(a, w, b, stride=(2, 1), padding=(1, 0),
                                           output_padding=(1, 1), dilation=(1, 2)),
       lambda a, w, b: conv_transpose_pairs_reference(a, w, b, (2, 1), (1, 0), (1, 1), (1, 2)),
       ((1, 3, 2, 2), (3, 2, 3, 2), (3,))),
    Op("max_pool2d_pairs", lambda a: gg.max_pool2d(a, (2, 3), (1, 2), (1, 1), (2, 1)),
       lambda a: torch_rule_pool_reference(a, (2, 3), (1, 2), (1, 1), (2, 1)),
       ((2, 5, 6, 2),), domain=distinct),
    Op("max_pool2d_ceil_mode", lambda a: gg.max_pool2d(a, 3, 2, 1, ceil_mode=True),
       lambda a: torch_rule_pool_reference(a, 3, 2, 1, ceil_mode=True),
       ((1, 6, 5, 2),), domain=distinct),
    Op("avg_pool2d_pairs_ceil_mode", lambda a: gg.avg_pool2d(a, (3, 2), (2, 2), (1, 0), True),
       lambda a: torch_rule_pool_reference(a, (3, 2), (2, 2), (1, 0), ceil_mode=True,
                                           kind="avg"),
       ((2, 6, 5, 2),)),
    Op("avg_pool2d_ceil_mode_real_pixels",
       lambda a: gg.avg_pool2d(a, 3, 2, 1, True, count_include_pad=False),
       lambda a: torch_rule_pool_reference(a, 3, 2, 1, ceil_mode=True, kind="avg",
                                           count_include_pad=False), ((1, 6, 7, 2),)),
    Op("max_pool1d_ceil_mode", lambda a: gg.max_pool1d(a, 2, 2, ceil_mode=True),
       lambda a: torch_rule_pool1d_reference(a, 2, 2, ceil_mode=True), ((2, 7, 3),),
       domain=distinct),
    Op("max_pool2d_return_indices",
       lambda a: gg.max_pool2d(a, 3, 2, 1, ceil_mode=True, return_indices=True)[0],
       lambda a: torch_rule_pool_reference(a, 3, 2, 1, ceil_mode=True), ((1, 6, 5, 2),),
       domain=distinct, random=images(3, pad=1)),
    Op("max_unpool2d", unpool_chequered, unpool_chequered_reference, ((2, 2, 3, 2),),
       random=images(1)),
    # divisor_override (PyTorch's): every window's sum over 5, padding or not
    Op("avg_pool2d_divisor_override", lambda a: gg.avg_pool2d(a, 3, 2, 1, False, True, 5),
       lambda a: torch_rule_pool_reference(a, 3, 2, 1, kind="avg") * 9 / 5, ((2, 5, 6, 2),),
       random=images(3, pad=1)),
    Op("avg_pool1d_ceil_mode", lambda a: gg.avg_pool1d(a, 4, 3, 2, True),
       lambda a: torch_rule_pool1d_reference(a, 4, 3, 2, ceil_mode=True, kind="avg"),
       ((2, 7, 3),)),
]

def adaptive_pool_reference(a: np.ndarray, n_h: int, n_w: int, reduce: Callable) -> np.ndarray:
    """PyTorch's adaptive pooling as a loop: bin (i, j) spans rows floor(i H / n_h) to
    ceil((i + 1) H / n_h) and the columns likewise; ``reduce`` (np.max, np.mean) over each."""
    m, height, width, channels = a.shape
    out = np.zeros((m, n_h, n_w, channels))
    for i in range(n_h):
        rows = slice(math.floor(i * height / n_h), math.ceil((i + 1) * height / n_h))
        for j in range(n_w):
            cols = slice(math.floor(j * width / n_w), math.ceil((j + 1) * width / n_w))
            out[:, i, j] = reduce(a[:, rows, cols], axis=(1, 2))
    return out


def bilinear_reference(a: np.ndarray, n_h: int, n_w: int, scale: float | None = None,
                       align_corners: bool = False) -> np.ndarray:
    """PyTorch's bilinear upsampling as a loop over the output pixels: source row
    (dst + 0.5) / scale - 0.5 clamped at 0 (scale the factor, or n_h / H), or dst (H - 1) /
    (n_h - 1) with align_corners, or dst itself when n_h = H; the two rows around it weighted
    by their distance, and the same for the columns."""
    height, width = a.shape[1:3]

    def source(dst: int, n_in: int, n_out: int) -> tuple[int, int, float]:
        if n_out == n_in:  # PyTorch copies an axis that keeps its size, whatever the scale
            return dst, dst, 0.0
        if align_corners:
            src = dst * (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        else:
            src = max((dst + 0.5) / (scale if scale else n_out / n_in) - 0.5, 0.0)
        low = min(int(src), n_in - 1)
        return low, min(low + 1, n_in - 1), src - low

    out = np.zeros((a.shape[0], n_h, n_w, a.shape[3]))
    for i in range(n_h):
        r0, r1, u = source(i, height, n_h)
        for j in range(n_w):
            c0, c1, v = source(j, width, n_w)
            out[:, i, j] = ((1 - u) * ((1 - v) * a[:, r0, c0] + v * a[:, r0, c1])
                            + u * ((1 - v) * a[:, r1, c0] + v * a[:, r1, c1]))
    return out


def bicubic_reference(a: np.ndarray, n_h: int, n_w: int, scale: float | None = None,
                      align_corners: bool = False) -> np.ndarray:
    """PyTorch's bicubic upsampling as a loop over the output pixels: source row
    (dst + 0.5) / scale - 0.5 (scale the factor, or n_h / H), or dst (H - 1) / (n_h - 1)
    with align_corners; the four rows around it, clamped into the image, weighed by Keys'
    kernel with A = -0.75 at their distance t + 1, t, 1 - t, 2 - t; the same for columns."""
    height, width = a.shape[1:3]
    A = -0.75

    def kernel(x: float) -> float:
        x = abs(x)
        if x <= 1:
            return (A + 2) * x**3 - (A + 3) * x**2 + 1
        return A * x**3 - 5 * A * x**2 + 8 * A * x - 4 * A

    def taps(dst: int, n_in: int, n_out: int) -> list[tuple[int, float]]:
        if align_corners:
            src = dst * (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        else:
            src = (dst + 0.5) / (scale if scale else n_out / n_in) - 0.5
        low = math.floor(src)
        return [(min(max(low + k, 0), n_in - 1), kernel(src - low - k)) for k in range(-1, 3)]

    out = np.zeros((a.shape[0], n_h, n_w, a.shape[3]))
    for i in range(n_h):
        for r, w_r in taps(i, height, n_h):
            for j in range(n_w):
                for c, w_c in taps(j, width, n_w):
                    out[:, i, j] += w_r * w_c * a[:, r, c]
    return out


def group_norm_reference(x: np.ndarray, gamma: Any = None, beta: Any = None, groups: int = 1,
                         eps: float = 1e-5) -> np.ndarray:
    """Group normalisation by hand: each example's group of n_C / G consecutive channels
    normalised over those channels and every position, then gamma x_norm + beta."""
    out = np.empty(x.shape)
    size = x.shape[-1] // groups
    for i in range(x.shape[0]):
        for g in range(groups):
            part = x[i, ..., g * size:(g + 1) * size]
            out[i, ..., g * size:(g + 1) * size] = ((part - part.mean())
                                                    / np.sqrt(part.var() + eps))
    return out if gamma is None else out * gamma + beta


def group_norm_shapes(groups: int, ndim: int = 4) -> st.SearchStrategy[tuple[Shape, ...]]:
    """Shapes of x (m, ..., groups * k) with two values a group at least, and of gamma and
    beta (n_C,)."""

    @st.composite
    def draw_(d):
        per_group = d(st.integers(1, 3))
        positions = tuple(d(st.integers(1, 3)) for _ in range(ndim - 2))
        if per_group * math.prod(positions) < 2:  # one value a group is always 0: refused
            per_group = 2
        n_c = groups * per_group
        x = (d(st.integers(1, 2)), *positions, n_c)
        return x, (n_c,), (n_c,)

    return draw_()


def _upsample(a: Any, **settings: Any) -> Any:
    return gg.nn.Upsample(**settings)(a)


def _group_norm(groups: int) -> Callable:
    def fn(x: Any, gamma: Any = None, beta: Any = None) -> Any:
        if gamma is None:
            return GroupNormalize.apply(x, groups=groups, eps=1e-5)
        return GroupNormalize.apply(x, gamma, beta, groups=groups, eps=1e-5)
    return fn


def _scaled(a: np.ndarray, factor: float) -> tuple[int, int]:
    """The size of images a scaled by ``factor``, as PyTorch's: floor(n factor)."""
    return math.floor(a.shape[1] * factor), math.floor(a.shape[2] * factor)


def _instance_norm(x: Any) -> Any:
    return GroupNormalize.apply(x, groups=x.shape[-1], eps=1e-5)


# The fused ops of the resampling and group-normalisation layers (their composed cases, made
# of the engine's ops, are tested in test_nn_layers).
RESAMPLING = [
    Op("adaptive_max_pool2d", lambda a: gg.nn.AdaptiveMaxPool2d((2, 3))(a),
       lambda a: adaptive_pool_reference(a, 2, 3, np.max), ((2, 5, 7, 2),), domain=distinct,
       random=images(1)),
    Op("adaptive_max_pool2d_return_indices",
       lambda a: gg.nn.AdaptiveMaxPool2d((2, 3), return_indices=True)(a)[0],
       lambda a: adaptive_pool_reference(a, 2, 3, np.max), ((2, 5, 7, 2),), domain=distinct,
       random=images(1)),
    Op("adaptive_max_pool2d_global", lambda a: gg.nn.AdaptiveMaxPool2d(1)(a),
       lambda a: adaptive_pool_reference(a, 1, 1, np.max), ((2, 3, 4, 3),), domain=distinct,
       random=images(1)),
    Op("adaptive_max_pool2d_larger", lambda a: gg.nn.AdaptiveMaxPool2d((4, 5))(a),
       lambda a: adaptive_pool_reference(a, 4, 5, np.max), ((1, 3, 2, 2),), domain=distinct,
       random=images(1)),
    Op("upsample_bilinear_scale2", lambda a: _upsample(a, scale_factor=2, mode="bilinear"),
       lambda a: bilinear_reference(a, *_scaled(a, 2), scale=2.0), ((2, 3, 4, 2),),
       random=images(1)),
    Op("upsample_bilinear_scale3", lambda a: _upsample(a, scale_factor=3, mode="bilinear"),
       lambda a: bilinear_reference(a, *_scaled(a, 3), scale=3.0), ((1, 3, 2, 2),),
       random=images(1)),
    Op("upsample_bilinear_align_corners",
       lambda a: _upsample(a, scale_factor=2, mode="bilinear", align_corners=True),
       lambda a: bilinear_reference(a, *_scaled(a, 2), align_corners=True),
       ((2, 3, 4, 2),), random=images(1)),
    Op("upsample_bilinear_to_a_smaller_size",
       lambda a: _upsample(a, size=(3, 2), mode="bilinear"),
       lambda a: bilinear_reference(a, 3, 2), ((2, 7, 5, 2),), random=images(1)),
    Op("upsample_bicubic_scale2", lambda a: _upsample(a, scale_factor=2, mode="bicubic"),
       lambda a: bicubic_reference(a, *_scaled(a, 2), scale=2.0), ((2, 3, 4, 2),),
       random=images(1)),
    Op("upsample_bicubic_align_corners",
       lambda a: _upsample(a, scale_factor=2, mode="bicubic", align_corners=True),
       lambda a: bicubic_reference(a, *_scaled(a, 2), align_corners=True),
       ((1, 3, 5, 2),), random=images(1)),
    Op("upsample_bicubic_to_a_smaller_size",
       lambda a: _upsample(a, size=(3, 2), mode="bicubic"),
       lambda a: bicubic_reference(a, 3, 2), ((2, 7, 5, 2),), random=images(1)),
    Op("group_norm", _group_norm(2), lambda x, g, b: group_norm_reference(x, g, b, 2),
       ((2, 3, 2, 4), (4,), (4,)), random=group_norm_shapes(2)),
    Op("group_norm_sequences", _group_norm(3), lambda x, g, b: group_norm_reference(x, g, b, 3),
       ((2, 4, 6), (6,), (6,)), random=group_norm_shapes(3, ndim=3)),
    Op("instance_norm", _instance_norm,
       lambda x: group_norm_reference(x, groups=x.shape[-1]), ((2, 3, 2, 3),),
       random=images(2)),
]


def _gate_input(m: int, n_x: int, dtype: Any) -> np.ndarray:
    """A constant x<t> (m, n_x), data that needs no gradient, as a first layer's input (in
    the cell's dtype, as the cells convert it)."""
    return np.linspace(-1.0, 1.0, m * n_x, dtype=dtype).reshape(m, n_x)


def _gate(a: Any, x: Any, w: Any, b: Any) -> Any:
    """A recurrent cell's gate [a, x] @ W.T + b, in graphgrad or numpy."""
    if any(isinstance(t, gg.Tensor) for t in (a, x, w, b)):
        return gg.nn.layers.ConcatAffine.apply(a, x, w, b)
    return np.concatenate([a, x], axis=1) @ w.T + b


def gate_shapes(data_input: bool = False) -> st.SearchStrategy[tuple[Shape, ...]]:
    """Shapes of A (m, n_a), X (m, n_x), W (n_out, n_a + n_x) and b (n_out,), X left out when
    the row makes it itself (``data_input``)."""

    @st.composite
    def draw_(d):
        m, n_a, n_x, n_out = d(SIDES), d(SIDES), d(SIDES), d(SIDES)
        shapes = ((m, n_a), (m, n_x), (n_out, n_a + n_x), (n_out,))
        return shapes[:1] + shapes[2:] if data_input else shapes

    return draw_()


def _gate_on_data(a: Any, w: Any, b: Any) -> Any:
    return _gate(a, _gate_input(a.shape[0], w.shape[1] - a.shape[1], a.dtype), w, b)


def _gate_from_data(x: Any, w: Any, b: Any) -> Any:
    return _gate(_gate_input(x.shape[0], w.shape[1] - x.shape[1], x.dtype), x, w, b)


# The gate of the LSTM and GRU cells: both inputs needing a gradient (a deep RNN's upper
# layer), the input x<t> as data (the first layer), and a constant state (the first step).
RECURRENT = [
    Op("concat_affine", _gate, _gate, ((3, 2), (3, 4), (5, 6), (5,)), random=gate_shapes()),
    Op("concat_affine_data_input", _gate_on_data, _gate_on_data, ((3, 2), (5, 6), (5,)),
       random=gate_shapes(data_input=True)),
    Op("concat_affine_constant_state", _gate_from_data, _gate_from_data,
       ((3, 4), (5, 6), (5,)), random=gate_shapes(data_input=True)),
]

def _checkpointed_block(x: Any, y: Any) -> Any:
    return gg.tanh(x * y) + x.sum() * y


def _two_outputs(x: Any) -> Any:
    return gg.tanh(x), x * x.mean()


# gg.checkpoint: the block run without its graph, and again in backward; its gradient is the
# block's. A second derivative through it is refused (see test_checkpoint).
CHECKPOINTS = [
    Op("checkpoint", lambda x, y: gg.checkpoint(_checkpointed_block, x, y),
       lambda x, y: np.tanh(x * y) + x.sum() * y, ((3, 4), (3, 4)), second_order=False,
       random=shapes_of().map(lambda shape: (shape, shape))),
    Op("checkpoint_two_outputs", lambda x: gg.checkpoint(_two_outputs, x),
       lambda x: (np.tanh(x), x * x.mean()), ((2, 3),), second_order=False,
       random=one(shapes_of())),
]



class _HookedBlock(gg.nn.Module):
    """A block with backward hooks that hand back what they are given, as new tuples: the
    gradient through its BackwardHook nodes is the block's."""

    def __init__(self, two_outputs: bool = False) -> None:
        super().__init__()
        self.two_outputs = two_outputs
        self.register_full_backward_pre_hook(lambda m, grad_output: tuple(grad_output))
        self.register_full_backward_hook(lambda m, grad_input, grad_output: tuple(grad_input))

    def forward(self, x: Any, y: Any = None) -> Any:
        if self.two_outputs:
            return _two_outputs(x)
        return _checkpointed_block(x, y)


_HOOKED_BLOCK, _HOOKED_TWO_OUTPUTS = _HookedBlock(), _HookedBlock(two_outputs=True)

# A module's backward hooks: identity nodes around its call, through which the gradient, and
# its own gradient, go as without them.
BACKWARD_HOOKS = [
    Op("module_backward_hooks", lambda x, y: _HOOKED_BLOCK(x, y),
       lambda x, y: np.tanh(x * y) + x.sum() * y, ((3, 4), (3, 4)),
       random=shapes_of().map(lambda shape: (shape, shape))),
    Op("module_backward_hooks_two_outputs", lambda x: _HOOKED_TWO_OUTPUTS(x),
       lambda x: (np.tanh(x), x * x.mean()), ((2, 3),), random=one(shapes_of())),
]

def sequences(f: int, pad: int = 0) -> st.SearchStrategy[tuple[Shape]]:
    """One batch of sequences (m, n_L, n_C) that a window of f steps fits, once padded."""
    return st.tuples(st.integers(1, 2), st.integers(max(1, f - 2 * pad), f + 5),
                     st.integers(1, 3)).map(lambda shape: (shape,))


def pool1d_reference(a: np.ndarray, f: int, stride: int, pad: int, kind: str) -> np.ndarray:
    """1-D pooling as a loop over the windows of f steps of the padded sequences: "max" pads
    with -inf, "avg" with zeros that count, "avg_real" with zeros that do not."""
    fill = -np.inf if kind == "max" else 0.0
    padded = np.pad(a, ((0, 0), (pad, pad), (0, 0)), constant_values=fill)
    real = np.pad(np.ones(a.shape[1]), pad)
    n_l = (a.shape[1] + 2 * pad - f) // stride + 1
    out = np.zeros((a.shape[0], n_l, a.shape[2]))
    for step in range(n_l):
        window = padded[:, step * stride:step * stride + f]
        if kind == "max":
            out[:, step] = window.max(axis=1)
        else:
            count = f if kind == "avg" else real[step * stride:step * stride + f].sum()
            out[:, step] = window.sum(axis=1) / count
    return out


SEQUENCE_POOLING = [
    Op("max_pool1d", lambda a: gg.max_pool1d(a, 2), lambda a: pool1d_reference(a, 2, 2, 0, "max"),
       ((2, 7, 3),), domain=distinct, random=sequences(2)),
    Op("max_pool1d_overlapping_padded", lambda a: gg.max_pool1d(a, 3, stride=2, padding=1),
       lambda a: pool1d_reference(a, 3, 2, 1, "max"), ((2, 6, 2),), domain=distinct,
       random=sequences(3, pad=1)),
    Op("avg_pool1d", lambda a: gg.avg_pool1d(a, 3, stride=1),
       lambda a: pool1d_reference(a, 3, 1, 0, "avg"), ((2, 5, 3),), random=sequences(3)),
    Op("avg_pool1d_padded", lambda a: gg.avg_pool1d(a, 3, stride=2, padding=1),
       lambda a: pool1d_reference(a, 3, 2, 1, "avg"), ((1, 6, 2),), random=sequences(3, 1)),
    Op("avg_pool1d_padded_real_steps",
       lambda a: gg.avg_pool1d(a, 4, stride=3, padding=2, count_include_pad=False),
       lambda a: pool1d_reference(a, 4, 3, 2, "avg_real"), ((2, 7, 1),),
       random=sequences(4, 2)),
    Op("max_pool1d_return_indices",
       lambda a: gg.max_pool1d(a, 3, 2, 1, return_indices=True)[0],
       lambda a: pool1d_reference(a, 3, 2, 1, "max"), ((2, 6, 2),), domain=distinct,
       random=sequences(3, pad=1)),
    Op("max_unpool1d", lambda p: gg.max_unpool1d(p, _unpool1d_steps(p.shape), 2),
       lambda p: unpool1d_reference(p), ((2, 3, 2),), random=sequences(1)),
]


def _unpool1d_steps(shape: tuple) -> np.ndarray:
    """Where a 2-step unpooling puts pooled step l of channel c: 2l + (l + c) % 2, one step
    of its window, alternating along the sequence and across the channels."""
    steps, channels = np.arange(shape[1])[:, None], np.arange(shape[2])
    return np.broadcast_to(2 * steps + (steps + channels) % 2, shape)


def unpool1d_reference(p: np.ndarray) -> np.ndarray:
    m, n_l, channels = p.shape
    out = np.zeros((m, 2 * n_l, channels))
    steps = _unpool1d_steps(p.shape)
    for l in range(n_l):
        for c in range(channels):
            out[:, steps[0, l, c], c] = p[:, l, c]
    return out

def unfold_reference(a: np.ndarray, kernel_size: Shape, stride: Shape = (1, 1),
                     pad: Shape = (0, 0), dilation: Shape = (1, 1)) -> np.ndarray:
    """im2col as a loop: row h n_W + w holds window (h, w) of the padded a, its pixel (i, j)
    at a[h s_h + i d_h, w s_w + j d_w], each pixel's channels together."""
    (f_h, f_w), (s_h, s_w), (p_h, p_w), (d_h, d_w) = kernel_size, stride, pad, dilation
    padded = np.pad(a, ((0, 0), (p_h, p_h), (p_w, p_w), (0, 0)))
    n_h = (padded.shape[1] - d_h * (f_h - 1) - 1) // s_h + 1
    n_w = (padded.shape[2] - d_w * (f_w - 1) - 1) // s_w + 1
    rows = []
    for h in range(n_h):
        for w in range(n_w):
            pixels = [padded[:, h * s_h + i * d_h, w * s_w + j * d_w]
                      for i in range(f_h) for j in range(f_w)]
            rows.append(np.concatenate(pixels, axis=-1))
    return np.stack(rows, axis=1)


def fold_reference(y: np.ndarray, output_size: Shape, kernel_size: Shape,
                   stride: Shape = (1, 1), pad: Shape = (0, 0),
                   dilation: Shape = (1, 1)) -> np.ndarray:
    """col2im as a loop: each row's pixels added back where `unfold_reference` read them."""
    (f_h, f_w), (s_h, s_w), (p_h, p_w), (d_h, d_w) = kernel_size, stride, pad, dilation
    m, _, width = y.shape
    channels = width // (f_h * f_w)
    out = np.zeros((m, output_size[0] + 2 * p_h, output_size[1] + 2 * p_w, channels))
    n_h = (out.shape[1] - d_h * (f_h - 1) - 1) // s_h + 1
    n_w = (out.shape[2] - d_w * (f_w - 1) - 1) // s_w + 1
    for h in range(n_h):
        for w in range(n_w):
            for i in range(f_h):
                for j in range(f_w):
                    k = (i * f_w + j) * channels
                    out[:, h * s_h + i * d_h, w * s_w + j * d_w] += (
                        y[:, h * n_w + w, k:k + channels])
    return out[:, p_h:out.shape[1] - p_h, p_w:out.shape[2] - p_w]


def pixel_shuffle_reference(a: np.ndarray, r: int) -> np.ndarray:
    """out[i, h r + a, w r + b, c] = A[i, h, w, c r^2 + a r + b], pixel by pixel."""
    m, n_h, n_w, channels = a.shape
    out = np.zeros((m, n_h * r, n_w * r, channels // (r * r)))
    for h in range(n_h * r):
        for w in range(n_w * r):
            for c in range(channels // (r * r)):
                out[:, h, w, c] = a[:, h // r, w // r, c * r * r + (h % r) * r + w % r]
    return out


def pixel_unshuffle_reference(a: np.ndarray, r: int) -> np.ndarray:
    """out[i, h, w, c r^2 + a r + b] = A[i, h r + a, w r + b, c], pixel by pixel."""
    m, height, width, channels = a.shape
    out = np.zeros((m, height // r, width // r, channels * r * r))
    for h in range(height):
        for w in range(width):
            for c in range(channels):
                out[:, h // r, w // r, c * r * r + (h % r) * r + w % r] = a[:, h, w, c]
    return out


def windowed_images(span_h: int, span_w: int, pad: Shape = (0, 0)
                    ) -> st.SearchStrategy[tuple[Shape]]:
    """One batch of images (m, n_H, n_W, n_C) that a window spanning span_h x span_w pixels
    fits, once padded."""
    return st.tuples(st.integers(1, 2), st.integers(max(1, span_h - 2 * pad[0]), span_h + 3),
                     st.integers(max(1, span_w - 2 * pad[1]), span_w + 3),
                     st.integers(1, 3)).map(lambda shape: (shape,))


def columns(blocks: int, positions: int) -> st.SearchStrategy[tuple[Shape]]:
    """Columns (m, L, f_h f_w n_C) of ``blocks`` windows of ``positions`` pixels each."""
    return st.tuples(st.integers(1, 2), st.integers(1, 3)).map(
        lambda s: ((s[0], blocks, positions * s[1]),))


def shuffled_images(r: int, unshuffle: bool = False) -> st.SearchStrategy[tuple[Shape]]:
    """Images pixel_shuffle by r takes (n_C r^2 channels), or pixel_unshuffle (sides r n)."""
    sizes = st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 3), st.integers(1, 2))
    if unshuffle:
        return sizes.map(lambda s: ((s[0], s[1] * r, s[2] * r, s[3]),))
    return sizes.map(lambda s: ((s[0], s[1], s[2], s[3] * r * r),))


PATCHES = [
    Op("unfold", lambda a: gg.unfold(a, 2), lambda a: unfold_reference(a, (2, 2)),
       ((2, 4, 5, 3),), random=windowed_images(2, 2)),
    Op("unfold_stride_padding_dilation",
       lambda a: gg.unfold(a, (2, 3), stride=(2, 1), padding=(1, 0), dilation=(1, 2)),
       lambda a: unfold_reference(a, (2, 3), (2, 1), (1, 0), (1, 2)), ((1, 5, 6, 2),),
       random=windowed_images(2, 5, (1, 0))),
    Op("fold", lambda y: gg.fold(y, (4, 5), 2), lambda y: fold_reference(y, (4, 5), (2, 2)),
       ((2, 12, 12),), random=columns(12, 4)),
    Op("fold_stride_padding_dilation",
       lambda y: gg.fold(y, (5, 6), (2, 3), stride=(2, 1), padding=(1, 0), dilation=(1, 2)),
       lambda y: fold_reference(y, (5, 6), (2, 3), (2, 1), (1, 0), (1, 2)), ((1, 6, 12),),
       random=columns(6, 6)),
    Op("pixel_shuffle", lambda a: gg.pixel_shuffle(a, 2),
       lambda a: pixel_shuffle_reference(a, 2), ((2, 3, 2, 8),), random=shuffled_images(2)),
    Op("pixel_unshuffle", lambda a: gg.pixel_unshuffle(a, 3),
       lambda a: pixel_unshuffle_reference(a, 3), ((2, 3, 6, 2),),
       random=shuffled_images(3, unshuffle=True)),
]

def dilated(w: np.ndarray, d: int, axes: int = 2) -> np.ndarray:
    """Filters w (f_h, f_w, ...) (or (f, ...) with axes=1) with d - 1 zeros between their
    weights: the dense filters a convolution dilated by d is the convolution by."""
    shape = tuple(d * (n - 1) + 1 for n in w.shape[:axes]) + w.shape[axes:]
    out = np.zeros(shape)
    out[(slice(None, None, d),) * axes] = w
    return out


def dilated_conv_shapes(f: int, d: int, stride: int = 1, pad: int = 0, groups: int = 1,
                        bias: Shape | None = (), per_group: int | None = None
                        ) -> st.SearchStrategy[tuple[Shape, ...]]:
    """`conv_shapes` for f x f filters dilated by d: images that their span fits."""
    span = d * (f - 1) + 1
    return conv_shapes(span, span, stride, pad, groups, bias, per_group).map(
        lambda s: (s[0], (f, f, *s[1][2:]), *s[2:]))


def dilated_max_pool_reference(a: np.ndarray, f: int, stride: int, pad: int, d: int
                               ) -> np.ndarray:
    """Max pooling of images (m, H, W, C), or sequences (m, L, C), padded with -inf, each
    window's f pixels along each axis d apart, as a loop over windows."""
    sequences = a.ndim == 3
    if sequences:
        a = a[:, None]
    pads = ((0, 0), (0 if sequences else pad,) * 2, (pad, pad), (0, 0))
    padded = np.pad(a, pads, constant_values=-np.inf)
    f_h = 1 if sequences else f
    n_h = (padded.shape[1] - d * (f_h - 1) - 1) // stride + 1
    n_w = (padded.shape[2] - d * (f - 1) - 1) // stride + 1
    out = np.zeros((a.shape[0], n_h, n_w, a.shape[3]))
    for h in range(n_h):
        for w in range(n_w):
            window = padded[:, h * stride:h * stride + d * (f_h - 1) + 1:d,
                            w * stride:w * stride + d * (f - 1) + 1:d]
            out[:, h, w] = window.max(axis=(1, 2))
    return out[:, 0] if sequences else out


DILATED = [
    Op("max_pool2d_dilated", lambda a: gg.max_pool2d(a, 3, stride=1, padding=1, dilation=2),
       lambda a: dilated_max_pool_reference(a, 3, 1, 1, 2), ((2, 6, 5, 2),), domain=distinct,
       random=images(5, pad=1)),
    Op("max_pool2d_dilated_unpadded", lambda a: gg.max_pool2d(a, 2, stride=2, dilation=3),
       lambda a: dilated_max_pool_reference(a, 2, 2, 0, 3), ((1, 7, 6, 3),), domain=distinct,
       random=images(4)),
    Op("max_pool1d_dilated", lambda a: gg.max_pool1d(a, 3, stride=2, padding=1, dilation=2),
       lambda a: dilated_max_pool_reference(a, 3, 2, 1, 2), ((2, 8, 2),), domain=distinct,
       random=sequences(5, pad=1)),
    Op("conv2d_dilated", lambda a, w, b: gg.conv2d(a, w, b, stride=2, padding=1, dilation=2),
       lambda a, w, b: conv_reference(a, dilated(w, 2), b, stride=2, pad=1),
       ((2, 7, 6, 2), (3, 3, 2, 3), (3,)), random=dilated_conv_shapes(3, 2, stride=2, pad=1)),
    Op("conv2d_dilated_same_groups",
       lambda a, w: gg.conv2d(a, w, padding="same", groups=2, dilation=3),
       lambda a, w: conv_reference(a, dilated(w, 3), pad=3, groups=2),
       ((1, 5, 6, 4), (3, 3, 2, 4)),
       random=dilated_conv_shapes(3, 3, pad=3, groups=2, bias=None)),
    Op("conv2d_dilated_depthwise",
       lambda a, w, b: gg.conv2d(a, w, b, padding=2, groups=3, dilation=2),
       lambda a, w, b: conv_reference(a, dilated(w, 2), b, pad=2, groups=3),
       ((2, 5, 5, 3), (3, 3, 1, 3), (3,)),
       random=dilated_conv_shapes(3, 2, pad=2, groups=3, per_group=1)),
    Op("conv1d_dilated", lambda a, w, b: gg.conv1d(a, w, b, padding=2, dilation=2),
       lambda a, w, b: conv1d_reference(a, dilated(w, 2, axes=1), b, pad=2),
       ((2, 6, 3), (3, 3, 4), (4,)),
       random=dilated_conv_shapes(3, 2, pad=2).map(
           lambda s: ((s[0][0], s[0][2], s[0][3]), s[1][1:], s[2]))),
]


# -- ctc_loss and grid_sample, against sums by brute force and loops over pixels -----------------
def ctc_labels(shape: Shape) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(targets, input_lengths, target_lengths) for log_probs of ``shape`` (m, T, C): labels
    in pairs (1, 1, 2, 2, ...: repeats, which need a blank between them), odd examples a frame
    and a label shorter, every alignment possible (2 S - 1 <= T_i frames)."""
    m, n_frames, n_classes = shape
    width = (n_frames + 1) // 2
    targets = 1 + (np.arange(m)[:, None] + np.arange(width) // 2) % (n_classes - 1)
    input_lengths = np.maximum(n_frames - np.arange(m) % 2, min(n_frames, 1))
    target_lengths = np.maximum((input_lengths + 1) // 2 - np.arange(m) % 2, 0)
    return targets, input_lengths, target_lengths


def _ctc_grad_case(m: int) -> tuple[gg.Tensor, dict, np.ndarray]:
    """(log_probs (m, 4, 3), CTCGrad's settings, the losses' gradients by brute force)."""
    log_probs = np.random.default_rng(m).standard_normal((m, 4, 3))
    labels = ctc_labels(log_probs.shape)
    node = gg.nn.ctc_loss(gg.Tensor(log_probs, requires_grad=True), *labels,
                          reduction="none").creator
    attrs = {k: v for k, v in node.attrs.items() if k != "reduction"}
    return gg.Tensor(log_probs), attrs, ctc_batch_by_paths(log_probs, *labels)[1]


def _ctc_grad(w: Any) -> Any:
    log_probs, attrs, _ = _ctc_grad_case(w.shape[0])
    return CTCGrad.apply(log_probs.astype(w.dtype), w, **attrs)  # a float32 loss's, in float32


def _ctc_grad_reference(w: np.ndarray) -> np.ndarray:
    return _ctc_grad_case(len(w))[2] * w[:, None, None]


def ctc_shapes() -> st.SearchStrategy[tuple[Shape]]:
    """log_probs (m, T, C) small enough for brute force: C**T paths."""
    return st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(2, 3)).map(
        lambda shape: (shape,))


def _sampled_case(shape: Shape) -> tuple[gg.Tensor, gg.Tensor]:
    """Constant images (m, 3, 4, C) and a grid (m, H_out, W_out, 2) reaching past their
    edges, for GridSampleGrad's upstream gradient of ``shape`` (m, H_out, W_out, C)."""
    m, h_out, w_out, channels = shape
    rng = np.random.default_rng(h_out * 7 + w_out)
    return (gg.Tensor(rng.standard_normal((m, 3, 4, channels))),
            gg.Tensor(rng.uniform(-1.4, 1.4, (m, h_out, w_out, 2))))


def _grid_sample_grad(mode: str, padding: str) -> tuple[Callable, Callable]:
    def fn(g: Any) -> Any:
        a, grid = (x.astype(g.dtype) for x in _sampled_case(g.shape))  # float32 with float32
        return GridSampleGrad.apply(a, grid, g, mode=mode, padding_mode=padding)

    def ref(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, grid = _sampled_case(g.shape)
        return grid_sample_by_pixels(a.data, grid.data, mode, padding, upstream=g)[1:]

    return fn, ref


def sampling_shapes() -> st.SearchStrategy[tuple[Shape, Shape]]:
    """Images (m, H, W, C) and a grid (m, H_out, W_out, 2) for them."""
    return st.tuples(st.integers(1, 2), st.integers(1, 4), st.integers(1, 4), st.integers(1, 2),
                     st.integers(1, 3), st.integers(1, 3)).map(
        lambda s: ((s[0], s[1], s[2], s[3]), (s[0], s[4], s[5], 2)))


def _grid_sample(mode: str, padding: str, align_corners: bool) -> Op:
    return Op(f"grid_sample_{mode}_{padding}" + ("_align_corners" if align_corners else ""),
              lambda a, g: gg.nn.functional.grid_sample(a, g, mode, padding, align_corners),
              lambda a, g: grid_sample_by_pixels(a, g, mode, padding, align_corners),
              ((2, 3, 4, 2), (2, 2, 5, 2)), second_order=False, random=sampling_shapes())


CTC_AND_SAMPLING = [
    Op("ctc_loss", lambda x: gg.nn.ctc_loss(x, *ctc_labels(x.shape), reduction="none"),
       lambda x: ctc_batch_by_paths(x, *ctc_labels(x.shape))[0], ((3, 4, 3),),
       second_order=False, random=ctc_shapes()),
    Op("ctc_loss_gradient", _ctc_grad, _ctc_grad_reference, ((3,),), second_order=False,
       random=st.integers(1, 3).map(lambda m: ((m,),))),
    *[_grid_sample(mode, padding, align_corners) for mode in ("bilinear", "nearest")
      for padding in ("zeros", "border", "reflection") for align_corners in (False, True)],
    *[Op(f"grid_sample_gradient_{mode}_{padding}", *_grid_sample_grad(mode, padding),
         ((2, 2, 3, 2),), second_order=False,
         random=st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 3),
                          st.integers(1, 2)).map(lambda s: (s,)))
      for mode in ("bilinear", "nearest") for padding in ("zeros", "reflection")],
]

OPS: list[Op] = [*BINARY, *POWERS, *UNARY, *MATMUL, *REDUCTIONS, *CUMULATIVE, *SOFTMAX, *SHAPE,
                 *REARRANGE, *CONTRACTION, *INDEXING, *CONVOLUTION, *RECURRENT,
                 *GATHER, *DIAGONALS, *QUANTILES, *COMPOSITIONS, *PRODUCTS, *LINALG,
                 *CHECKPOINTS, *BACKWARD_HOOKS, *RESAMPLING,
                 *SEQUENCE_POOLING, *PATCHES, *DILATED]
OPS += NUMPY_MATH
OPS += NUMPY_FUNCTIONS
OPS += NUMPY_FUNCTIONS_MORE
OPS += CTC_AND_SAMPLING

# The broadcasting pairs of issue 2, in both orders, and a scalar with arrays.
BROADCAST_PAIRS: list[tuple[Shape, Shape]] = [
    ((3, 1), (1, 4)),
    ((1, 4), (3, 1)),
    ((5,), (2, 5)),
    ((2, 5), (5,)),
    ((), (2, 3)),
    ((2, 3), ()),
    ((2, 1, 3), (4, 1)),
    ((), ()),
]


def draw(op: Op, rng: np.random.Generator, shapes: Sequence[Shape] | None = None) -> list:
    """Inputs for ``op`` (at its basic shapes unless given), as float64 arrays."""
    return [np.asarray(a, dtype=np.float64) for a in op.domain(rng, shapes or op.shapes)]


def leaves(arrays: Sequence[np.ndarray]) -> list[gg.Tensor]:
    """Tensors requiring grad, named x0, x1, ... so reports can name them."""
    return [gg.Tensor(a, requires_grad=True, name=f"x{i}") for i, a in enumerate(arrays)]


def by_name(*names: str) -> list[Op]:
    table = {op.name: op for op in OPS}
    return [table[n] for n in names]
