"""Regularisation, the course's two kinds: inverted dropout and the L2 penalty.

`Dropout` keeps each unit with probability keep_prob during training and scales the kept
ones by 1/keep_prob, so the expected activation is unchanged and nothing needs rescaling at
test time; in eval mode it passes its input through. `l2_penalty` is the course's
lambda/(2m) * sum_l ||W[l]||_F^2, added to the cost. Depends on `function`, `nn.module`,
`nn.init`.
"""
from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Iterable, Mapping, ValuesView
from typing import Any

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    ConventionWarning,
    GraphgradTypeError,
    ShapeError,
    array_of_numbers,
    describe,
    flag,
    listed,
    pytorch_order_error,
    real_number,
    refuse_inplace,
    seed_value,
    setting_text,
    whole_number,
)
from graphgrad.function import Function
from graphgrad.nn import init as initializers
from graphgrad.nn.module import Module, numbers_of
from graphgrad.tensor import Tensor


class InvertedDropout(Function):
    """A = X * D / keep_prob;  dX = dA * D / keep_prob  (D, the 0/1 mask, gets no gradient)"""

    @staticmethod
    def forward(ctx, x, d, keep_prob):
        scaled = d * (1.0 / keep_prob)
        ctx.save_for_backward(scaled)
        return x * scaled

    @staticmethod
    def backward(ctx, grad):
        (scaled,) = ctx.saved
        return grad * scaled, None


def keep_probability(keep_prob: Any, caller: str, units: str, call: str,
                     stacklevel: int = 3) -> float:
    """keep_prob checked to be in (0, 1], or an `ArgumentError` naming ``caller``; below 0.5
    (more dropped than kept) a `gg.ConventionWarning` says it reads as PyTorch's p, ``call``
    being how the call opens ("Dropout(", "dropout(x, ") and ``units`` what one draw keeps."""
    k = real_number(keep_prob, "keep_prob, the probability of keeping a unit,", caller,
                    lambda p: 0.0 < p <= 1.0, "in (0, 1]")
    if k < 0.5:
        warnings.warn(
            f"{call}keep_prob={k:g}) keeps {k:.0%} of the {units} and drops {1 - k:.0%}: "
            "keep_prob is the course's probability of keeping a unit, and PyTorch's "
            f"{call}p={k:g}) is {call}keep_prob={1 - k:g}) here.",
            ConventionWarning, stacklevel=stacklevel)
    return k


def refuses_p(call: str | None) -> Callable[[Callable], Callable]:
    """Refuse PyTorch's keyword ``p`` (the probability of dropping) of a dropout layer or
    function with a `GraphgradTypeError`, a ``TypeError`` as Python's own for an unknown
    keyword, that gives the keep_prob to write: ``call`` is how the call opens ("dropout(x, "),
    None for a layer's ``__init__`` (its class's name, "Dropout2d("). The signature (help,
    inspect) is the function's own."""
    def decorate(func: Callable) -> Callable:
        @functools.wraps(func)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if "p" in kwargs:
                p = kwargs["p"]
                opening = call or f"{type(args[0]).__name__}("
                number = isinstance(p, (int, float, np.number)) and not isinstance(p, bool)
                if number and 0.0 <= p < 1.0:
                    shown = f"{opening}p={p:g}) is {opening}keep_prob={1 - p:g}) here"
                else:
                    shown = f"{opening}p=1 - keep_prob) is {opening}keep_prob=...) here"
                raise GraphgradTypeError(
                    f"{opening.split('(')[0]}: keep_prob, the probability of keeping a unit, is "
                    f"not PyTorch's p, of dropping it: got p={setting_text(p)}; PyTorch's "
                    f"{shown}")
            return func(*args, **kwargs)
        return checked
    return decorate


def drop(A: Any, keep_prob: float, rng: np.random.Generator,
         mask_shape: tuple[int, ...]) -> tuple[Tensor, Tensor]:
    """(A * D / keep_prob, D), with D = rand(mask_shape) < keep_prob a new 0/1 mask (a
    Tensor named "D" of A's dtype) that broadcasts against A: the one computation of the
    `Dropout` layers and of `nn.functional.dropout`. A: float numbers (a Tensor or an array)."""
    D = Tensor((rng.random(mask_shape) < keep_prob).astype(A.dtype), name="D")
    return InvertedDropout.apply(A, D, keep_prob=keep_prob), D


def _float_numbers(x: Any, caller: str) -> Any:
    """A Tensor as it is; other data as an array of floats (numbers and bools become
    float64), or an error naming ``caller``."""
    if isinstance(x, Tensor):
        return x
    array = array_of_numbers(x, "x", caller)
    return array if array.dtype.kind == "f" else array.astype(np.float64)


@refuses_p("dropout(x, ")
def dropout(x: Any, keep_prob: float = 0.5, training: bool = True, rng: Any = None, *,
            inplace: bool = False) -> Any:
    """Inverted dropout, the function of `Dropout` (PyTorch's F.dropout(x, p) is
    dropout(x, keep_prob=1 - p)): x * D / keep_prob with a new mask D = rand < keep_prob
    when ``training``; x itself when not, or with keep_prob 1.

    Args:
        x: any shape; kept.
        keep_prob: the probability of keeping a unit, in (0, 1] (below 0.5 a
            `gg.ConventionWarning` says it reads as PyTorch's p).
        training: False returns x (``dropout(x, 0.8, training=self.training)`` in a forward).
        rng: a seed or np.random.Generator for the mask (default: the generator `nn.init.seed`
            resets). A seed draws the same mask on every call.
        inplace: PyTorch's flag: False is taken, True refused, as graphgrad's tensors never
            change in place (x would keep its values): write ``x = dropout(x, ...)``.
    """
    refuse_inplace(inplace, "dropout")
    keep_prob = keep_probability(keep_prob, "dropout", "units", "dropout(x, ")
    if not flag(training, "training", "dropout") or keep_prob == 1.0:
        return x
    x = _float_numbers(x, "dropout")
    return drop(x, keep_prob, initializers.generator(rng, "dropout"), x.shape)[0]


@refuses_p("dropout2d(x, ")
def dropout2d(x: Any, keep_prob: float = 0.5, training: bool = True, rng: Any = None, *,
              inplace: bool = False) -> Any:
    """Inverted dropout of whole channels, the function of `Dropout2d`: images x (m, n_H, n_W,
    n_C), channels last, times D / keep_prob with D = rand(m, 1, 1, n_C) < keep_prob, each
    channel of each image kept or zeroed everywhere at once; x itself when not ``training``.
    PyTorch's F.dropout2d(x, p) is dropout2d(x, keep_prob=1 - p) on x moved to channels last.
    x (m, n_H, n_W, n_C) -> the same shape; keep_prob, training, rng and inplace as for
    `dropout`."""
    refuse_inplace(inplace, "dropout2d")
    keep_prob = keep_probability(keep_prob, "dropout2d", "channels", "dropout2d(x, ")
    if not flag(training, "training", "dropout2d") or keep_prob == 1.0:
        return x
    x = _float_numbers(x, "dropout2d")
    if x.ndim != 4:
        tip = " (one image? add the batch axis: x[None])" if x.ndim == 3 else ""
        raise ShapeError(f"dropout2d drops channels of images x of shape (m, n_H, n_W, n_C), "
                         f"channels last, got {describe(x)}{tip}; dropout drops single units "
                         "of any shape")
    generator = initializers.generator(rng, "dropout2d")
    return drop(x, keep_prob, generator, (x.shape[0], 1, 1, x.shape[3]))[0]


class Dropout(Module):
    """The course's inverted dropout: D = rand < keep_prob;  A = A * D / keep_prob.

    Args:
        keep_prob: the probability of keeping a unit (the course's keep_prob; PyTorch's p is
            1 - keep_prob). 1 turns dropout off. Below 0.5 (more dropped than kept), it reads
            as PyTorch's p: a `gg.ConventionWarning` says so.
        rng: a seed or np.random.Generator for the masks (default: the generator
            `nn.init.seed` resets). `fit(seed=...)` reseeds it before every epoch, from the
            seed and the epoch's number, for reproducible runs.
        inplace: keyword; PyTorch's flag, kept and shown, changing nothing: graphgrad never
            writes in place, so the output is a new tensor with the same values and gradients.

    The generator's state is not part of ``state_dict()`` (a file holds numbers, not a
    generator), so a model saved and loaded draws other masks than it would have drawn.
    `fit` with a seed needs no saved state to resume exactly (see its ``initial_epoch``); in
    a loop of your own, reseed at the start of each epoch, ``dropout.reseed((seed, epoch))``
    (and ``loader.reseed((seed, epoch))``), and a run resumed at any epoch draws the masks
    of the run not stopped.

    Only in training mode; ``model.eval()`` turns it into the identity. Shapes unchanged.
    The mask of the last call is kept as ``self.D`` (a Tensor named "D"), as in the course.
    """

    single_node = True
    units = "units"  # what one draw keeps or drops, in messages

    @refuses_p(None)
    def __init__(self, keep_prob: float = 0.5, rng: Any = None, *,
                 inplace: bool = False) -> None:
        super().__init__()
        name = type(self).__name__
        if isinstance(rng, (bool, np.bool_)):  # PyTorch's inplace, given second
            number = isinstance(keep_prob, (int, float, np.number)) and not isinstance(
                keep_prob, bool) and 0 <= keep_prob < 1
            raise pytorch_order_error(
                name, f"rng must be None, a seed (a whole number >= 0) or a "
                f"np.random.Generator, got {rng}", "p, inplace", "keep_prob, rng",
                f"{name}({1 - keep_prob:g})" if number else f"{name}(keep_prob=1 - p)",
                note="keep_prob is 1 - p; graphgrad never writes in place")
        self.keep_prob = keep_probability(keep_prob, name, self.units, f"{name}(")
        # PyTorch's flag, kept and shown: the output is a new tensor all the same
        self.inplace = flag(inplace, "inplace", name)
        self.rng = None if rng is None else initializers.generator(rng, type(self).__name__)
        self.D: Tensor | None = None

    def reseed(self, seed: Any) -> None:
        """Draw the masks from a new generator seeded with ``seed`` (a number, or numbers such
        as ``(seed, epoch)``)."""
        self.rng = np.random.default_rng(seed_value(seed, f"{type(self).__name__}.reseed"))

    def forward(self, A: Any) -> Any:
        """A * D / keep_prob with a new mask D (kept as ``self.D``) in training; A itself after
        ``eval()`` or with keep_prob 1.  A (m, n) -> (m, n); any shape is kept."""
        if not self.training or self.keep_prob == 1.0:
            return A
        if not isinstance(A, Tensor):
            A = numbers_of(A, self)  # before drawing: a refused input changes no state
            if A.dtype.kind != "f":  # numbers (bools too) become float64; floats keep theirs
                A = A.astype(np.float64)
        rng = self.rng if self.rng is not None else initializers.generator()
        out, self.D = drop(A, self.keep_prob, rng, self._mask_shape(A.shape))
        return out

    def _mask_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """The shape of the mask D for an input of ``shape``: one draw per unit."""
        return shape

    def extra_repr(self) -> str:
        """``keep_prob=0.8``, for the repr."""
        shown = f"keep_prob={self.keep_prob:g}"
        return f"{shown}, inplace=True" if self.inplace else shown


class Dropout2d(Dropout):
    """Inverted dropout of whole channels (PyTorch's nn.Dropout2d, Keras's SpatialDropout2D),
    for images A (m, n_H, n_W, n_C), channels last: D = rand(m, 1, 1, n_C) < keep_prob;
    A = A * D / keep_prob, so each channel of each image is kept or zeroed everywhere at once
    (neighbouring pixels of a feature map are so alike that dropping them one by one barely
    regularises).

    Args:
        keep_prob: the probability of keeping a channel, as `Dropout`'s (the course's
            keep_prob; PyTorch's Dropout2d(p) is Dropout2d(keep_prob=1 - p) here, and below
            0.5 a `gg.ConventionWarning` says so).
        rng: a seed or np.random.Generator for the masks, as for `Dropout` (``reseed``,
            and `fit(seed=...)` reseeds it each epoch).
        inplace: keyword; PyTorch's flag, as `Dropout`'s: kept and shown, changing nothing.

    Only in training mode; ``model.eval()`` turns it into the identity. The mask of the last
    call is ``self.D``, of shape (m, 1, 1, n_C). Shapes: A (m, n_H, n_W, n_C) -> the same.
    """

    units = "channels"

    def forward(self, A: Any) -> Any:
        """A * D / keep_prob with a new mask D (m, 1, 1, n_C) in training; A itself after
        ``eval()`` or with keep_prob 1.  A (m, n_H, n_W, n_C) -> (m, n_H, n_W, n_C)."""
        try:
            shape = np.shape(A.data if isinstance(A, Tensor) else A)
        except ValueError:  # a ragged list, which Dropout refuses naming the layer
            shape = (0, 0, 0, 0)
        if len(shape) != 4:
            tip = " (one image? add the batch axis: A[None])" if len(shape) == 3 else ""
            raise ShapeError(f"{self._label()} drops channels of images A of shape "
                             f"(m, n_H, n_W, n_C), channels last, got shape {shape}{tip}; "
                             "Dropout drops single units of any shape")
        return super().forward(A)

    def _mask_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        return (shape[0], 1, 1, shape[3])


def _refuse_values_with_biases(values: ValuesView) -> None:
    """Refuse the values of the course's parameters dict (W1, b1, W2, ...): its biases would
    be penalised too, which the course's cost leaves out."""
    mapping = getattr(values, "mapping", None)  # dict views show their dict (Python 3.10+)
    if mapping is None:
        return
    biases = [k for k in mapping if isinstance(k, str) and k[:1] == "b"]
    if not (biases and _weight_keys(mapping)):
        return
    raise GraphgradTypeError(
        f"l2_penalty: got the values of a dict whose {', '.join(map(repr, biases[:3]))}"
        f"{', ...' if len(biases) > 3 else ''} are biases; pass a list of its weights "
        f"alone, {_weights_list(mapping)}: the course penalises each W[l], not the biases "
        "b[l]")


def _weight_keys(parameters: Mapping) -> list[str]:
    """The keys of the course's weights W1, W2, ... in its parameters dict."""
    return [k for k in parameters if isinstance(k, str) and k[:1] == "W"]


def _weights_list(parameters: Mapping) -> str:
    """The list of the course's weights to give `l2_penalty`, as code: [parameters['W1'],
    parameters['W2'], ...] (the first three)."""
    named = _weight_keys(parameters)
    shown = ", ".join(f"parameters[{k!r}]" for k in named[:3]) or "parameters['W1'], ..."
    return f"[{shown}{', ...' if len(named) > 3 else ''}]"


def l2_penalty(params: Module | Iterable[Tensor], lambd: float, m: int) -> Tensor:
    """The course's L2 regularisation cost: lambd / (2 m) * sum_l ||W[l]||_F^2.

    Args:
        params: a model (its weights are used: parameters with 2 or more dimensions, not
            the biases, as in the course) or a list of the tensors to penalise (from the
            course's parameters dict, its weights: ``[parameters["W1"], parameters["W2"]]``).
        lambd: the regularisation strength lambda.
        m: the number of examples the cost averages over (the batch size).

    Its gradient adds (lambd / m) * W[l] to each dW[l]: weight decay of lambd / m.
    """
    if isinstance(params, Module):
        weights = [p for p in params.parameters() if p.data.ndim >= 2]
    elif isinstance(params, Mapping):  # the course's parameters dict: its keys are no weights
        raise GraphgradTypeError(
            f"l2_penalty: got a dict of {len(params)} entries; pass a list of its weights "
            f"alone, {_weights_list(params)}: the course penalises each W[l], not the biases "
            "b[l], as l2_penalty(model, ...) does")
    else:
        if isinstance(params, ValuesView):  # the dict's values(): its biases too, unless none
            _refuse_values_with_biases(params)
        weights = listed(params, "l2_penalty", "a model or a list of its weight tensors")
        for i, W in enumerate(weights):
            if not isinstance(W, Tensor):  # an array's penalty would add no gradient
                raise GraphgradTypeError(
                    f"l2_penalty: weight {i} is {setting_text(W)}, not a Tensor; pass the model, "
                    "or its weight tensors ([model.W1, model.W2])")
    if not weights:
        raise ArgumentError("l2_penalty: there are no weights to penalise")
    m = whole_number(m, "m (the number of examples the cost averages over)", "l2_penalty")
    lambd = real_number(lambd, "lambd", "l2_penalty", lambda x: 0.0 <= x < math.inf,
                        ">= 0 and finite")
    total = (weights[0] * weights[0]).sum()
    for W in weights[1:]:
        total = total + (W * W).sum()
    return total * (lambd / (2.0 * m))
