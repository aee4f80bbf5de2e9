"""Weight initialisers, the course's and the classic ones, on a seedable numpy Generator.

Each initialiser takes a weight shape ``(n_out, n_in)`` = the course's (n[l], n[l-1]) and a
``np.random.Generator`` and returns a new array. `Linear` accepts their names
(``init="he"``). Without an explicit generator, layers draw from a module-level generator
that `seed` resets, so ``nn.init.seed(1)`` before building a model makes it reproducible.
PyTorch's in-place initialisers, `normal_`, `uniform_`, `constant_`, `zeros_` and `ones_`,
fill a tensor that exists (a layer's parameter, in a function given to ``model.apply``) from
the same generator. Depends on numpy, `errors` and `tensor`.
"""
from __future__ import annotations

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
from graphgrad.tensor import Tensor

Shape = tuple[int, ...]
Initializer = Callable[[Shape, np.random.Generator], np.ndarray]

__all__ = ["constant_", "generator", "get", "glorot", "he", "initialize", "name_of", "normal_",
           "ones_", "seed", "small_random", "uniform_", "xavier", "zeros", "zeros_"]

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
