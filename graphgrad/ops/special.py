"""The error function, its complement and its inverse, elementwise: erf(x) = 2/sqrt(pi)
int_0^x e**-t**2 dt, erfc(x) = 1 - erf(x) and erfinv, as PyTorch's torch.erf, torch.erfc and
torch.erfinv. numpy has none of them; GELU's exact form, x Phi(x) with Phi(x) =
erfc(-x / sqrt(2)) / 2 (in `activations`), is built on `erfc_values`.

The values are those of Sun's fdlibm (s_erf.c, 1993, public domain, the erf of most C
libraries): rational approximations on four intervals of |x|, [0, 0.84375), [0.84375, 1.25),
[1.25, 1/0.35) and beyond, each evaluated on the elements in it (np.flatnonzero and take),
within a few units of the last place of float64 over the whole real line (a large array by
blocks, whose temporaries are then a block's worth); erfc keeps its
relative precision in the tail (erfc(26) is 5.7e-296), where 1 - erf(x) is 0 from x = 6.
erfinv starts from Giles' single-precision approximation and refines it by Halley's steps on
these erf and erfc. float32 and float16 are computed in float64 and rounded once.

Backward bodies are numpy expressions of the saved input (of the output, for erfinv), so
that under ``create_graph`` they record their own graph (second derivatives).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from graphgrad.function import Function
from graphgrad.ops.elementwise import Clip
from graphgrad.tensor import Tensor, float_type_of

_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)  # erf's slope at 0

# fdlibm's coefficients, lowest power first. erf(x) = x + x P/Q(x**2) on [0, 0.84375);
# erf(x) = _ERX + P/Q(|x| - 1) on [0.84375, 1.25), _ERX being erf(1) rounded to float32;
# beyond, erfc(x) = exp(-x**2 - 0.5625 + P/Q(1/x**2)) / x, with one pair of polynomials
# up to 1/0.35 and another past it.
_ERX = 8.45062911510467529297e-01
_SMALL = (
    (1.28379167095512558561e-01, -3.25042107247001499370e-01, -2.84817495755985104766e-02,
     -5.77027029648944159157e-03, -2.37630166566501626084e-05),
    (1.0, 3.97917223959155352819e-01, 6.50222499887672944485e-02, 5.08130628187576562776e-03,
     1.32494738004321644526e-04, -3.96022827877536812320e-06),
)
_NEAR_ONE = (
    (-2.36211856075265944077e-03, 4.14856118683748331666e-01, -3.72207876035701323847e-01,
     3.18346619901161753674e-01, -1.10894694282396677476e-01, 3.54783043256182359371e-02,
     -2.16637559486879084300e-03),
    (1.0, 1.06420880400844228286e-01, 5.40397917702171048937e-01, 7.18286544141962662868e-02,
     1.26171219808761642112e-01, 1.36370839120290507362e-02, 1.19844998467991074170e-02),
)
_TAIL = (
    (-9.86494403484714822705e-03, -6.93858572707181764372e-01, -1.05586262253232909814e+01,
     -6.23753324503260060396e+01, -1.62396669462573470355e+02, -1.84605092906711035994e+02,
     -8.12874355063065934246e+01, -9.81432934416914548592e+00),
    (1.0, 1.96512716674392571292e+01, 1.37657754143519042600e+02, 4.34565877475229228821e+02,
     6.45387271733267880336e+02, 4.29008140027567833386e+02, 1.08635005541779435134e+02,
     6.57024977031928170135e+00, -6.04244152148580987438e-02),
)
_FAR_TAIL = (
    (-9.86494292470009928597e-03, -7.99283237680523006574e-01, -1.77579549177547519889e+01,
     -1.60636384855821916062e+02, -6.37566443368389627722e+02, -1.02509513161107724954e+03,
     -4.83519191608651397019e+02),
    (1.0, 3.03380607434824582924e+01, 3.25792512996573918826e+02, 1.53672958608443695994e+03,
     3.19985821950859553908e+03, 2.55305040643316442583e+03, 4.74528541206955367215e+02,
     -2.24409524465858183362e+01),
)
# erfc(28) is 0 in float64 (it underflows from 27.3): |x| is taken no further, where x*x
# would overflow and inf - inf give NaN
_EDGE = 28.0
_HIGH_WORD = np.uint64(0xFFFFFFFF00000000)


def _horner(t: np.ndarray, coefficients: tuple[float, ...]) -> np.ndarray:
    """c[0] t**n + c[1] t**(n-1) + ... + c[n], by Horner's rule, highest power first, in
    place on a new array (n >= 1)."""
    p = t * coefficients[0]
    for c in coefficients[1:-1]:
        p += c
        p *= t
    p += coefficients[-1]
    return p


def _ratio(t: np.ndarray, pair: tuple[tuple[float, ...], tuple[float, ...]]) -> np.ndarray:
    """P(t) / Q(t) by Horner's rule (as fdlibm), their coefficients lowest power first."""
    p = _horner(t, pair[0][::-1])
    p /= _horner(t, pair[1][::-1])
    return p


def _small(x: np.ndarray, complement: bool) -> np.ndarray:
    """|x| < 0.84375: erf = x + x R(x**2); erfc = 1 - erf, or 0.5 - (x R + (x - 0.5)) from
    x = 1/4, which keeps the digits 1 - erf would cancel."""
    xr = _ratio(x * x, _SMALL)
    xr *= x
    if not complement:
        xr += x
        return xr
    below = x < 0.25
    if below.all():
        xr += x
        return np.subtract(1.0, xr, out=xr)
    low = 1.0 - (x + xr)
    xr += x - 0.5
    return np.where(below, low, np.subtract(0.5, xr, out=xr))


def _near_one(x: np.ndarray, complement: bool) -> np.ndarray:
    """0.84375 <= |x| < 1.25: erf = sign(x) (_ERX + R(|x| - 1)); erfc = (1 - _ERX) - R for
    x > 0, 1 + (_ERX + R) for x < 0."""
    s = np.abs(x)
    s -= 1.0
    r = _ratio(s, _NEAR_ONE)
    if not complement:
        r += _ERX
        return np.copysign(r, x, out=r)
    return np.where(x > 0, (1.0 - _ERX) - r, 1.0 + (_ERX + r))


def _tail(x: np.ndarray, complement: bool, pair: Any) -> np.ndarray:
    """|x| >= 1.25: q = erfc(|x|) = exp(-z**2 - 0.5625) exp((z - |x|)(z + |x|) + R(1/x**2))
    / |x|, z = |x| with the low 32 bits of its mantissa cleared, so that z**2 is exact and
    the large part of -x**2 is not rounded before exp (whose error it would multiply)."""
    a = np.minimum(np.abs(x), _EDGE)
    t = a * a
    np.divide(1.0, t, out=t)
    e = _ratio(t, pair)
    z = (a.view(np.uint64) & _HIGH_WORD).view(np.float64)
    e += (z - a) * (z + a)
    np.exp(e, out=e)
    z *= z
    z += 0.5625
    np.negative(z, out=z)
    e *= np.exp(z, out=z)
    e /= a
    if complement:  # erfc(x) = 2 - erfc(|x|) for x < 0
        return np.where(x > 0, e, 2.0 - e)
    np.subtract(1.0, e, out=e)
    return np.copysign(e, x, out=e)


def _far_tail(x: np.ndarray, complement: bool) -> np.ndarray:
    return _tail(x, complement, _FAR_TAIL)


def _near_tail(x: np.ndarray, complement: bool) -> np.ndarray:
    return _tail(x, complement, _TAIL)


def _erf64(x: np.ndarray, complement: bool) -> np.ndarray:
    """erf(x), or erfc(x) with ``complement``, of an array, in float64 (a new array): each
    interval's formula on the elements in it. NaN falls in none and stays NaN."""
    # flat, so that every operation gives an array to write into (on a 0-d array numpy
    # gives scalars)
    flat = np.asarray(x, dtype=np.float64).reshape(-1)
    a = np.abs(flat)
    small = a < 0.84375
    if small.all():  # no element elsewhere: nothing to gather
        return _small(flat, complement).reshape(np.shape(x))
    near_one = a < 1.25
    near_tail = a < 1 / 0.35
    far_tail = a >= 1 / 0.35
    near_tail ^= near_one
    near_one ^= small
    out = flat.copy()
    for where, part in ((small, _small), (near_one, _near_one), (near_tail, _near_tail),
                        (far_tail, _far_tail)):
        index = np.flatnonzero(where)
        if index.size:
            out[index] = part(flat.take(index), complement)
    return out.reshape(np.shape(x))


# A large array is taken by blocks of this many elements: each interval's index array,
# gathered elements and polynomials' temporaries, in float64, are then a block's worth (1 MB
# at most), where of the whole array they were 7 times its size (float32's, 17 times).
BLOCK = 1 << 14


def _by_blocks(function: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    """``function`` (computing in float64) of x, in x's float type (rounded once), block by
    block into the result."""
    dtype = float_type_of(x)
    if x.size <= BLOCK:
        return function(x).astype(dtype, copy=False)
    flat = x.reshape(-1)
    out = np.empty(flat.shape, dtype)
    for start in range(0, flat.size, BLOCK):
        out[start:start + BLOCK] = function(flat[start:start + BLOCK])
    return out.reshape(x.shape)


def erf_values(x: np.ndarray) -> np.ndarray:
    """erf(x) of an array, recording nothing: a new array of x's float type."""
    return _by_blocks(partial(_erf64, complement=False), x)


def erfc_values(x: np.ndarray) -> np.ndarray:
    """erfc(x) = 1 - erf(x) of an array, recording nothing, to full relative precision
    where it is tiny (x > 6): a new array of x's float type."""
    return _by_blocks(partial(_erf64, complement=True), x)


def _slope(x: Any) -> Any:
    """2/sqrt(pi) e**-x**2, erf's derivative, of x clipped to +-_EDGE, where it is 0
    already (x*x would overflow beyond 1.3e154, float32's beyond 1.8e19): of an array, or
    recorded on a Tensor, float16 in float32 either way (its x**2 would take 3 digits into
    the exponential)."""
    wide = x.astype(np.float32) if x.dtype == np.float16 else x
    if type(x) is not np.ndarray:
        inside = Clip.call(wide, low=-_EDGE, high=_EDGE)
        e = _TWO_OVER_SQRT_PI * np.exp(-(inside * inside))
        return e if wide is x else e.astype(x.dtype)
    e = np.clip(wide, -_EDGE, _EDGE, out=np.empty(x.shape, float_type_of(wide)))
    e *= e
    np.negative(e, out=e)
    np.exp(e, out=e)
    e *= _TWO_OVER_SQRT_PI
    return e if wide is x else e.astype(x.dtype)


class Erf(Function):
    """y = erf(x);  dy/dx = 2/sqrt(pi) e**-x**2"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return erf_values(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad * _slope(x)


class Erfc(Function):
    """y = erfc(x) = 1 - erf(x);  dy/dx = -2/sqrt(pi) e**-x**2"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return erfc_values(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return -grad * _slope(x)


# erfinv's first guess, Giles' single-precision approximation ("Approximating the erfinv
# function", GPU Computing Gems, 2010): erfinv(x) ~ x P(w), w = -log((1 - x)(1 + x)), with
# P a polynomial of w - 2.5 for w < 5 (|x| < 0.9966) and of sqrt(w) - 3 beyond; highest
# power first. Within about 1e-7 relatively in float32's range, and close enough to float64's
# last x below 1 for the refinement below.
_GILES_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
                  0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_GILES_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844,
               0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)
_SQRT_PI_OVER_2 = math.sqrt(math.pi) / 2  # erfinv's slope at 0
# Halley's steps at most. Two from Giles' 1e-7 (the second to see the first was enough);
# beyond float32's range (1 - |x| < 6e-8) his guess is up to 12% low, which a step makes up by
# about 1 / (2 y) (0.09) while far, then cubic convergence: 5 or 6 at 1 - 2**-53.
_HALLEY_STEPS = 10


def _giles(a: np.ndarray) -> np.ndarray:
    """Giles' approximation of erfinv(a), 0 <= a < 1 (a new array)."""
    w = np.log((1.0 - a) * (1.0 + a))
    np.negative(w, out=w)
    y = np.empty_like(a)
    central = w < 5.0
    y[central] = _horner(w[central] - 2.5, _GILES_CENTRAL)
    y[~central] = _horner(np.sqrt(w[~central]) - 3.0, _GILES_TAIL)
    y *= a
    return y


def _halley(y: np.ndarray, target: np.ndarray, complement: bool) -> np.ndarray:
    """y refined in place so that erf(y) = target (erfc(y) = target with ``complement``), by
    Halley's steps: u = f / f', then y - u / (1 + y u), f'' / f' being -2y for both f =
    erf(y) - target and f = erfc(y) - target (whose f' is -erf'(y), so u is -f / erf'(y)),
    until every step is a relative 1e-8 or less: Halley's error is then of the order of its
    cube, below the rounding (see `_HALLEY_STEPS`)."""
    for _ in range(_HALLEY_STEPS):
        u = _erf64(y, complement)
        if complement:
            np.subtract(target, u, out=u)
        else:
            u -= target
        u *= _SQRT_PI_OVER_2
        u *= np.exp(y * y)
        step = u / (1.0 + y * u)
        y -= step
        if not (np.abs(step) > 1e-8 * np.abs(y) + 1e-300).any():  # (1e-300: a subnormal y)
            break
    return y


def _erfinv_inside(a: np.ndarray) -> np.ndarray:
    """erfinv(a) for 0 <= a < 1, in float64: Giles' guess, then Halley's steps on erf(y) = a,
    or on erfc(y) = 1 - a from a = 0.5, where 1 - a is exact and erfc keeps its relative
    precision: erf(y) - a would lose it as y grows, the residual's rounding divided by a slope
    of e**-y**2 (2e-8 relatively at a = 1 - 1e-10)."""
    y = _giles(a)
    tail = np.flatnonzero(a > 0.5)
    if tail.size == 0:
        return _halley(y, a, False)
    central = np.flatnonzero(a <= 0.5)
    y[central] = _halley(y.take(central), a.take(central), False)
    y[tail] = _halley(y.take(tail), 1.0 - a.take(tail), True)
    return y


def _erfinv64(x: np.ndarray) -> np.ndarray:
    """erfinv(x) of an array, in float64 (a new array): +-inf at +-1, NaN beyond and at NaN."""
    flat = np.asarray(x, dtype=np.float64).reshape(-1)
    a = np.abs(flat)
    inside = np.flatnonzero(a < 1.0)
    out = np.where(a == 1.0, math.inf, math.nan)
    out[inside] = _erfinv_inside(a.take(inside))
    return np.copysign(out, flat, out=out).reshape(np.shape(x))


def erfinv_values(x: np.ndarray) -> np.ndarray:
    """erfinv(x) of an array, recording nothing: a new array of x's float type (computed in
    float64, rounded once), by blocks as erf (see `BLOCK`)."""
    return _by_blocks(_erfinv64, x)


class Erfinv(Function):
    """y = erfinv(x), erf's inverse on (-1, 1);  dy/dx = sqrt(pi)/2 e**(y**2)"""

    @staticmethod
    def forward(ctx, x):
        y = erfinv_values(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        # float16's y**2 in float32, as erf's slope (see _slope); inf at x = +-1, as PyTorch's
        wide = y.astype(np.float32) if y.dtype == np.float16 else y
        slope = _SQRT_PI_OVER_2 * np.exp(wide * wide)
        return grad * (slope if wide is y else slope.astype(y.dtype))


def erf(x: Any) -> Tensor:
    """The error function 2/sqrt(pi) int_0^x e**-t**2 dt, elementwise, as torch.erf: odd,
    from -1 to 1, within a few units of the last place of float64 everywhere."""
    return Erf.apply(x)


def erfc(x: Any) -> Tensor:
    """1 - erf(x), elementwise, as torch.erfc, computed without the subtraction: erfc(10) is
    2.1e-45, where 1 - erf(10) is 0."""
    return Erfc.apply(x)


def erfinv(x: Any) -> Tensor:
    """The inverse of erf, elementwise, as torch.erfinv and scipy.special.erfinv: y with
    erf(y) = x for x in (-1, 1), +-inf at +-1, NaN beyond; within a few units of the last
    place of float64 (erf(erfinv(x)) gives x back to its rounding). For a normal variate:
    Phi^-1(p) = sqrt(2) erfinv(2p - 1)."""
    return Erfinv.apply(x)
