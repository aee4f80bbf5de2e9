"""Weight initialisers, the course's and the classic ones, on a seedable numpy Generator.

Each initialiser takes a weight shape ``(n_out, n_in)`` = the course's (n[l], n[l-1]) and a
``np.random.Generator`` and returns a new array. `Linear` accepts their names
(``init="he"``). Without an explicit generator, layers draw from a module-level generator
that `seed` resets, so ``nn.init.seed(1)`` before building a model makes it reproducible.
PyTorch's in-place initialisers, `normal_`, `uniform_`, `constant_`, `zeros_` and `ones_`,
fill a tensor that exists (a layer's parameter, in a function given to ``model.apply``) from
the same generator, and so do PyTorch's scaled ones: `xavier_uniform_`, `xavier_normal_`,
`kaiming_uniform_`, `kaiming_normal_` (with `calculate_gain`), `orthogonal_` and
`trunc_normal_`, their fan_in and fan_out read from graphgrad's layouts: Linear's W
(n_out, n_in) as PyTorch's, a convolution's filters (f, f, n_C_prev, n_C) with the units last,
and a weight whose class says ``units_first`` (Bilinear's W (n_out, n1, n2)) as PyTorch's.
Depends on numpy, `errors`, `tensor` and `ops.special` (erfinv).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    GraphgradTypeError,
    ShapeError,
    describe,
    float_dtype,
    real_number,
    seed_value,
    setting_text,
    whole_number,
)
from graphgrad.ops.special import erfinv_values
from graphgrad.tensor import Tensor

Shape = tuple[int, ...]
Initializer = Callable[[Shape, np.random.Generator], np.ndarray]

__all__ = ["calculate_gain", "constant_", "generator", "get", "glorot", "he", "initialize",
           "kaiming_normal_", "kaiming_uniform_", "name_of", "normal_", "ones_", "orthogonal_",
           "seed", "small_random", "trunc_normal_", "uniform_", "xavier", "xavier_normal_",
           "xavier_uniform_", "zeros", "zeros_"]

_default = {"rng": np.random.default_rng(0)}


def seed(value: int) -> None:
    """Reset the generator layers use when they are given none (like np.random.seed) to
    ``np.random.default_rng(value)``: ``value`` a whole number >= 0, a tuple of them
    (``(seed, epoch)``), or None for fresh randomness."""
    _default["rng"] = np.random.default_rng(seed_value(value, "nn.init.seed", "value"))


def generator(rng: np.random.Generator | int | None = None,
              caller: str = "nn.init.generator") -> np.random.Generator:
    """``rng`` as a Generator: an int seeds a new one, None gives the module-level one;
    anything else is an `ArgumentError` naming ``caller``, the layer given it."""
    if rng is None:
        return _default["rng"]
    if isinstance(rng, np.random.Generator):
        return rng
    try:
        return np.random.default_rng(whole_number(rng, "rng", "", least=0))
    except ArgumentError:
        raise ArgumentError(f"{caller}: rng must be None, a seed (a whole number >= 0) or a "
                            f"np.random.Generator, got {rng!r}") from None


def _shape(shape: Any, caller: str) -> Shape:
    """``shape`` as a tuple of whole numbers >= 1, or an `ArgumentError` naming ``caller``:
    numpy would take 5 for (5,), fail on "2" or 2.5 in its own words, and a size of 0 gives
    the fan-in initialisers a division by zero."""
    try:
        sizes = tuple(shape) if not isinstance(shape, (str, bytes)) else None
    except TypeError:
        sizes = None
    if sizes is not None:
        try:
            return tuple(whole_number(n, "", caller) for n in sizes)
        except ArgumentError:
            pass
    raise ArgumentError(f"{caller}: shape must be a tuple of whole numbers >= 1 ((n_out, n_in) "
                        f"for a weight), got {setting_text(shape)}")


def _fans(shape: Shape) -> tuple[int, int]:
    """(n_in, n_out) of a weight of shape (n_out, n_in): n[l-1] and n[l]."""
    if len(shape) < 2:
        raise ArgumentError(f"weight initialisers need a shape (n_out, n_in), got {shape}")
    return int(np.prod(shape[1:])), shape[0]


def zeros(shape: Shape, rng: np.random.Generator | None = None) -> np.ndarray:
    """All zeros of ``shape``: right for biases; for weights it leaves every unit of a layer
    identical (symmetry is never broken), which the course shows as a failure case. ``rng``
    is not used: it is there for the (shape, rng) every initialiser takes."""
    return np.zeros(shape)


def small_random(shape: Shape, rng: np.random.Generator, scale: float = 0.01) -> np.ndarray:
    """The course's first initialisation: np.random.randn(n[l], n[l-1]) * 0.01 (course 1).

    ``init="random"`` is this one. The "random" of course 2's initialisation assignment is
    randn * 10, to show what large weights do: ``init=lambda shape, rng:
    nn.init.small_random(shape, rng, scale=10)``.
    """
    return rng.standard_normal(shape) * scale


def xavier(shape: Shape, rng: np.random.Generator) -> np.ndarray:
    """The course's Xavier initialisation for tanh: randn * sqrt(1 / n[l-1]), of ``shape``
    (n[l], n[l-1]), drawn from the np.random.Generator ``rng``."""
    n_in, _ = _fans(shape)
    return rng.standard_normal(shape) * np.sqrt(1.0 / n_in)


def glorot(shape: Shape, rng: np.random.Generator, window: int = 1) -> np.ndarray:
    """Glorot & Bengio (2010): variance 2 / (n[l-1] + n[l]), drawn from a normal by the
    np.random.Generator ``rng``, of ``shape`` (n[l], n[l-1]).

    A convolution's filters come as the shape (n_C, f * f * n_C_prev) with ``window`` = f * f:
    each input reaches n_C * f * f weights, so that is n[l] here, as in Keras and PyTorch.
    """
    window = whole_number(window, "window (the positions a filter covers, f * f)", "glorot")
    n_in, n_out = _fans(shape)
    return rng.standard_normal(shape) * np.sqrt(2.0 / (n_in + n_out * window))


def he(shape: Shape, rng: np.random.Generator) -> np.ndarray:
    """He et al. (2015), the course's choice for ReLU: randn * sqrt(2 / n[l-1]), of ``shape``
    (n[l], n[l-1]), drawn from the np.random.Generator ``rng``."""
    n_in, _ = _fans(shape)
    return rng.standard_normal(shape) * np.sqrt(2.0 / n_in)


INITIALIZERS: dict[str, Initializer] = {
    "zeros": zeros,
    "small_random": small_random,
    "random": small_random,
    "xavier": xavier,
    "glorot": glorot,
    "he": he,
}


def get(init: str | Initializer) -> Initializer:
    """The initialiser named ``init`` (see `INITIALIZERS`), or ``init`` itself if callable."""
    if callable(init):
        return init
    try:
        return INITIALIZERS[init]
    except (KeyError, TypeError):
        raise ArgumentError(
            f"unknown initialiser {init!r}; use one of {', '.join(map(repr, INITIALIZERS))} "
            "or a function (shape, rng) -> array"
        ) from None


def name_of(init: str | Initializer) -> str:
    """How a layer's repr shows its initialiser ``init``: the name it was given by
    (``"he"``), or the function's name."""
    return init if isinstance(init, str) else getattr(init, "__name__", "?")


def initialize(init: str | Initializer, shape: Shape, rng: Any = None,
               dtype: Any = np.float64, window: int = 1,
               caller: str = "nn.init.initialize") -> np.ndarray:
    """A new weight array of ``shape`` from the initialiser ``init``, in ``dtype``; a shape,
    window or rng refused is an `ArgumentError` naming ``caller``, the layer being built.

    ``window``: the positions a convolution's filter covers (f * f), for the one initialiser
    whose n[l] counts them (`glorot`); the others, and functions given as ``init``, see the
    shape (n_C, f * f * n_C_prev) alone.
    """
    shape = _shape(shape, caller)
    window = whole_number(window, "window (the positions a filter covers, f * f)", caller)
    dtype = float_dtype(dtype, f"a layer's weights of shape {shape}")
    initializer = get(init)
    if initializer is glorot and window != 1:
        array = glorot(shape, generator(rng, caller), window)
    else:
        array = initializer(shape, generator(rng, caller))
    array = np.asarray(array, dtype=dtype)
    if array.shape != shape:
        raise ShapeError(f"initialiser {init!r} returned shape {array.shape}, not {shape}")
    return array


# -- PyTorch's in-place initialisers ------------------------------------------------------------
def _fill(tensor: Any, values: Any) -> Any:
    """``tensor.data`` replaced by a new array of ``values`` in its shape and dtype; the old
    array stays with any graph recorded before, as an optimizer's step leaves it."""
    tensor.data = np.broadcast_to(np.asarray(values, dtype=tensor.data.dtype),
                                  tensor.data.shape).copy()
    return tensor


def _filled(tensor: Any, caller: str) -> Any:
    """``tensor`` itself if it is a Tensor that no op computed, else a `GraphgradTypeError`
    naming ``caller``."""
    if not isinstance(tensor, Tensor):
        raise GraphgradTypeError(f"{caller} fills a Tensor (a parameter: m.W) in place, got "
                                 f"{describe(tensor)}")
    if tensor.creator is not None:
        # PyTorch's init_(W[a:b]) fills part of W, a view; here W[a:b] is a new tensor, and
        # filling it would leave W as it was without a word.
        raise GraphgradTypeError(
            f"{caller} fills a parameter (a tensor no op computed: m.W) in place, got "
            f"{describe(tensor)}, a new tensor: filling it would leave the tensors it was "
            "computed from as they were. Fill the parameter itself, or set part of one through "
            "its array: m.b.data[0:2] = 1.0")
    return tensor


def _finite(value: Any, what: str, caller: str, rule: str = "a number",
            test: Callable[[float], bool] = np.isfinite) -> float:
    """``value`` as a float passing ``test``, else an `ArgumentError` naming ``caller``."""
    return real_number(value, what, caller, lambda v: bool(test(v)), rule)


def normal_(tensor: Any, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> Any:
    """PyTorch's ``nn.init.normal_``: ``tensor``'s values drawn anew from N(mean, std**2)
    (DCGAN's ``normal_(m.W, 0.0, 0.02)``), in its shape and dtype, from ``generator`` (a seed
    or an np.random.Generator; by default the one `seed` resets). Returns ``tensor``."""
    caller = "nn.init.normal_"
    tensor = _filled(tensor, caller)
    mean = _finite(mean, "mean", caller)
    std = _finite(std, "std", caller, "a finite number >= 0", lambda v: np.isfinite(v) and v >= 0)
    rng = _generator(generator, caller)
    return _fill(tensor, rng.normal(mean, std, tensor.data.shape))


def uniform_(tensor: Any, a: float = 0.0, b: float = 1.0, generator: Any = None) -> Any:
    """PyTorch's ``nn.init.uniform_``: ``tensor``'s values drawn anew from U(a, b) (the word
    language model's ``uniform_(self.encoder.E, -0.1, 0.1)``), in its shape and dtype, from
    ``generator`` as for `normal_`. Returns ``tensor``."""
    caller = "nn.init.uniform_"
    tensor = _filled(tensor, caller)
    a, b = _finite(a, "a", caller), _finite(b, "b", caller)
    if a > b:
        raise ArgumentError(f"{caller}: a={a!r} must be at most b={b!r}")
    rng = _generator(generator, caller)
    return _fill(tensor, rng.uniform(a, b, tensor.data.shape))


def constant_(tensor: Any, val: float) -> Any:
    """PyTorch's ``nn.init.constant_``: every value of ``tensor`` set to ``val``, in its
    dtype. Returns ``tensor``."""
    caller = "nn.init.constant_"
    tensor = _filled(tensor, caller)
    return _fill(tensor, _finite(val, "val", caller, test=lambda v: not np.isnan(v)))


def zeros_(tensor: Any) -> Any:
    """PyTorch's ``nn.init.zeros_``: ``tensor``'s values set to 0 (a bias). Returns
    ``tensor``."""
    return _fill(_filled(tensor, "nn.init.zeros_"), 0.0)


def ones_(tensor: Any) -> Any:
    """PyTorch's ``nn.init.ones_``: ``tensor``'s values set to 1 (batch norm's gamma).
    Returns ``tensor``."""
    return _fill(_filled(tensor, "nn.init.ones_"), 1.0)


def _generator(value: Any, caller: str) -> np.random.Generator:
    """`generator`, for the functions whose keyword ``generator`` (PyTorch's) hides it."""
    return generator(value, caller)


# -- PyTorch's scaled initialisers: xavier_, kaiming_, orthogonal_, trunc_normal_ ---------------
_GAINS = {"linear": 1.0, "conv1d": 1.0, "conv2d": 1.0, "conv3d": 1.0,
          "conv_transpose1d": 1.0, "conv_transpose2d": 1.0, "conv_transpose3d": 1.0,
          "sigmoid": 1.0, "tanh": 5.0 / 3.0, "relu": math.sqrt(2.0), "leaky_relu": None,
          "selu": 3.0 / 4.0}


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """PyTorch's ``nn.init.calculate_gain``: the factor that keeps the variance of a layer's
    output through ``nonlinearity``: 1 for linear, the convolutions and sigmoid, 5/3 for tanh,
    sqrt(2) for relu, sqrt(2 / (1 + slope**2)) for leaky_relu of negative slope ``param``
    (0.01 when None), 3/4 for selu."""
    caller = "nn.init.calculate_gain"
    if not isinstance(nonlinearity, str) or nonlinearity not in _GAINS:
        raise ArgumentError(f"{caller}: unsupported nonlinearity {nonlinearity!r}; use one of "
                            f"{', '.join(map(repr, _GAINS))}")
    if nonlinearity != "leaky_relu":
        return _GAINS[nonlinearity]
    slope = 0.01 if param is None else _finite(param, "param (the negative slope)", caller)
    return math.sqrt(2.0 / (1.0 + slope ** 2))


def _units_first(tensor: Any) -> bool:
    """Whether a weight of 3 or more axes has its units on the first axis, as PyTorch's do
    (its class says ``units_first``: `Bilinear`'s W), not on the last as filters have them."""
    return getattr(type(tensor), "units_first", False)


def _fan_in_and_out(tensor: Any, caller: str) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight in graphgrad's layouts: Linear's W (n_out, n_in) as
    PyTorch's, so (n_in, n_out); a convolution's filters (f, f, n_C_prev, n_C) (Conv1d's
    (f, n_C_prev, n_C)), the units on the last axis where PyTorch has them first, so
    (f * f * n_C_prev, f * f * n_C): the inputs and outputs one position of the filter sees;
    a weight with its units first (`Bilinear`'s W (n_out, n1, n2)) as PyTorch reads it,
    (n1 * n2, n_out * n2)."""
    shape = tensor.data.shape
    if len(shape) < 2:
        raise ShapeError(f"{caller}: fan in and fan out need a weight of 2 or more axes ((n_out, "
                         f"n_in), or a convolution's (f, f, n_C_prev, n_C)), got "
                         f"{describe(tensor)}; a bias is filled by zeros_ or uniform_")
    if len(shape) == 2:
        fan_in, fan_out = shape[1], shape[0]
    elif _units_first(tensor):  # PyTorch's rule: the axes after the second are its "window"
        window = int(np.prod(shape[2:]))
        fan_in, fan_out = shape[1] * window, shape[0] * window
    else:
        window = int(np.prod(shape[:-2]))
        fan_in, fan_out = window * shape[-2], window * shape[-1]
    if fan_in == 0 or fan_out == 0:
        raise ShapeError(f"{caller}: fan in and fan out of {describe(tensor)} are {fan_in} and "
                         f"{fan_out}: a weight with no elements has nothing to scale")
    return fan_in, fan_out


def _gain(gain: Any, caller: str) -> float:
    return _finite(gain, "gain", caller, "a finite number >= 0",
                   lambda v: np.isfinite(v) and v >= 0)


def xavier_uniform_(tensor: Any, gain: float = 1.0, generator: Any = None) -> Any:
    """PyTorch's ``nn.init.xavier_uniform_`` (Glorot & Bengio, 2010): ``tensor``'s values
    drawn anew from U(-bound, bound), bound = gain * sqrt(6 / (fan_in + fan_out)), in its shape
    and dtype, fans as `_fan_in_and_out` reads graphgrad's layouts, from ``generator`` as for
    `normal_`. Returns ``tensor``."""
    caller = "nn.init.xavier_uniform_"
    tensor = _filled(tensor, caller)
    gain = _gain(gain, caller)
    fan_in, fan_out = _fan_in_and_out(tensor, caller)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _fill(tensor, _generator(generator, caller).uniform(-bound, bound, tensor.data.shape))


def xavier_normal_(tensor: Any, gain: float = 1.0, generator: Any = None) -> Any:
    """PyTorch's ``nn.init.xavier_normal_``: ``tensor``'s values drawn anew from N(0, std**2),
    std = gain * sqrt(2 / (fan_in + fan_out)), as `xavier_uniform_`, from ``generator`` as for
    `normal_`. Returns ``tensor``."""
    caller = "nn.init.xavier_normal_"
    tensor = _filled(tensor, caller)
    gain = _gain(gain, caller)
    fan_in, fan_out = _fan_in_and_out(tensor, caller)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return _fill(tensor, _generator(generator, caller).normal(0.0, std, tensor.data.shape))


def _kaiming_std(tensor: Any, a: Any, mode: Any, nonlinearity: Any, caller: str) -> float:
    """gain / sqrt(fan), the std of He et al.'s (2015) initialisation."""
    if mode not in ("fan_in", "fan_out"):
        raise ArgumentError(f"{caller}: mode must be 'fan_in' (keeps the forward pass's "
                            f"variance) or 'fan_out' (the backward pass's), got {mode!r}")
    fan_in, fan_out = _fan_in_and_out(tensor, caller)
    gain = calculate_gain(nonlinearity, a)
    return gain / math.sqrt(fan_in if mode == "fan_in" else fan_out)


def kaiming_uniform_(tensor: Any, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator: Any = None) -> Any:
    """PyTorch's ``nn.init.kaiming_uniform_`` (He et al., 2015): ``tensor``'s values drawn
    anew from U(-bound, bound), bound = sqrt(3) * calculate_gain(nonlinearity, a) / sqrt(fan),
    fan the fan_in or fan_out of ``mode`` as `_fan_in_and_out` reads graphgrad's layouts;
    ``a`` is leaky_relu's negative slope. From ``generator`` as for `normal_`. Returns
    ``tensor``."""
    caller = "nn.init.kaiming_uniform_"
    tensor = _filled(tensor, caller)
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity, caller)
    return _fill(tensor, _generator(generator, caller).uniform(-bound, bound, tensor.data.shape))


def kaiming_normal_(tensor: Any, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator: Any = None) -> Any:
    """PyTorch's ``nn.init.kaiming_normal_``: ``tensor``'s values drawn anew from
    N(0, std**2), std = calculate_gain(nonlinearity, a) / sqrt(fan), fan the fan_in or
    fan_out of ``mode``, from ``generator``, as `kaiming_uniform_` (with nonlinearity="relu",
    the course's `he`). Returns ``tensor``."""
    caller = "nn.init.kaiming_normal_"
    tensor = _filled(tensor, caller)
    std = _kaiming_std(tensor, a, mode, nonlinearity, caller)
    return _fill(tensor, _generator(generator, caller).normal(0.0, std, tensor.data.shape))


def orthogonal_(tensor: Any, gain: float = 1.0, generator: Any = None) -> Any:
    """PyTorch's ``nn.init.orthogonal_`` (Saxe et al., 2013): ``tensor``'s values made a
    (semi-)orthogonal matrix times ``gain``, from the QR decomposition of a normal draw, in its
    shape and dtype: W @ W.T = gain**2 I for W (n_out, n_in) with n_out <= n_in, W.T @ W =
    gain**2 I otherwise. A convolution's filters (f, f, n_C_prev, n_C) are the matrix
    (n_C, f * f * n_C_prev) of their units, as the layer initialises them, and `Bilinear`'s W
    (n_out, n1, n2) the matrix (n_out, n1 * n2), as PyTorch's. The normal draw
    comes from ``generator`` as for `normal_`. Returns ``tensor``."""
    caller = "nn.init.orthogonal_"
    tensor = _filled(tensor, caller)
    gain = _gain(gain, caller)
    shape = tensor.data.shape
    _fan_in_and_out(tensor, caller)  # 2 axes or more, none empty
    first = len(shape) == 2 or _units_first(tensor)
    rows = shape[0] if first else shape[-1]
    cols = tensor.data.size // rows
    flat = _generator(generator, caller).normal(0.0, 1.0, (rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))  # makes the decomposition unique, the draw uniform
    if rows < cols:
        q = q.T
    values = q.reshape(shape) if first else q.T.reshape(shape)
    return _fill(tensor, gain * values)


def trunc_normal_(tensor: Any, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator: Any = None) -> Any:
    """PyTorch's ``nn.init.trunc_normal_``: ``tensor``'s values drawn anew from N(mean,
    std**2) truncated to [a, b] (a and b are values, not numbers of std), in its shape and
    dtype, by PyTorch's method: a uniform draw between the normal's CDF at a and at b, mapped
    back through erfinv. From ``generator`` as for `normal_`. Returns ``tensor``."""
    caller = "nn.init.trunc_normal_"
    tensor = _filled(tensor, caller)
    mean = _finite(mean, "mean", caller)
    std = _finite(std, "std", caller, "a finite number > 0", lambda v: np.isfinite(v) and v > 0)
    a, b = _finite(a, "a", caller), _finite(b, "b", caller)
    if a >= b:
        raise ArgumentError(f"{caller}: a={a!r} must be below b={b!r}")
    low, high = (math.erf((x - mean) / (std * math.sqrt(2.0))) for x in (a, b))
    if high - low < 1e-12:
        raise ArgumentError(
            f"{caller}: [a, b] = [{a!r}, {b!r}] holds almost none of N({mean!r}, {std!r}**2) "
            "(mean is many std away from it): bring mean into [a, b] or widen it")
    u = _generator(generator, caller).uniform(low, high, tensor.data.shape)
    values = mean + std * math.sqrt(2.0) * erfinv_values(u)
    return _fill(tensor, np.clip(values, a, b))
