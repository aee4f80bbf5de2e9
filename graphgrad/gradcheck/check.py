"""`gradcheck`, the pipeline top to bottom: float64 copies of the inputs, analytic
vector-Jacobian products for random upstream gradients (1 for a cost), finite differences of
the same, the comparison per (output, input), and the report. Depends on `tensor`, `engine`,
`function` and the other modules of this package.
"""
from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from graphgrad.engine import grad as _grad
from graphgrad.errors import (
    ArgumentError,
    GraphgradTypeError,
    describe,
    flag,
    real_number,
    setting_text,
    whole_number,
)
from graphgrad.function import Function
from graphgrad.gradcheck.compare import _elementwise_pairs, _indices, _projected_pairs
from graphgrad.gradcheck.differences import _Stepper
from graphgrad.gradcheck.report import (
    GradcheckError,
    GradcheckResult,
    PairCheck,
    _unreached_message,
)
from graphgrad.modes import enable_grad
from graphgrad.tensor import Tensor


def gradcheck(
    fn: Callable[..., Any] | type[Function],
    inputs: Sequence[Any] | Tensor | np.ndarray | float,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    fast: bool = False,
    raise_exception: bool = True,
    seed: int = 0,
) -> GradcheckResult:
    """Check the backward of ``fn`` against centred finite differences, in float64.

    Args:
        fn: a function of Tensors returning a Tensor or a tuple of Tensors, or a `Function`
            subclass (its ``apply`` is used). It must be deterministic.
        inputs: a sequence (a list or tuple) of Tensors, arrays or numbers, one per argument of
            ``fn``; or just one Tensor, array or number. Float arrays and numbers become Tensors
            requiring grad; bool and integer arrays (a mask, indices) become constant Tensors
            of their own dtype. Every input with ``requires_grad`` is checked, element by
            element, and must be finite; the others are passed to ``fn`` unchanged.
        eps: the finite-difference step, > 0.
        atol, rtol: an element passes when |analytic - numeric| <= atol + rtol * |numeric|;
            both >= 0.
        fast: compare one random projection per (output, input) first; fall back to the full
            element-by-element diagnosis only if one disagrees.
        raise_exception: raise `GradcheckError` on failure (otherwise return the result).
        seed: seeds the random upstream gradients and projections. An output of one element
            (a cost J) gets the upstream gradient 1: its dJ/dx is what is compared and shown.

    Returns:
        a `GradcheckResult`: truthy when every pair passes; ``print(result)`` shows the report.
        An input that no output's graph contains is named in it, with a warning if the check
        passed: its zero gradient matches anything constant, so passing proves nothing.
        A pair whose input or output holds no elements (an empty batch) passes, and the
        report says there was nothing to check.
        An element within eps of a kink (relu near 0) is compared with the slope on the side
        away from the kink, and one at a kink with the range of valid subgradients; elements at
        kinks that bend alike (a tie of max) are also moved together, and the sum of their
        gradients must lie between the one-sided slopes along them. Where ``fn`` itself jumps
        (both one-sided slopes double when the step is halved, as at 0 for x + sign(x)) it has
        no derivative: the element is named in the report and not compared, unless its
        analytic value is NaN or Inf. Move the point off the jump to check it there.

    Raises:
        ArgumentError: eps, atol or rtol out of range, a seed that is no whole number >= 0,
            fast or raise_exception other than True or False, no input to check, or an input
            to check that holds NaN or Inf.
        GraphgradTypeError: ``fn`` cannot be called, or ``inputs`` is no tensor, array, number
            or sequence of them (a string, None).

    The check runs with grad mode on, even inside ``no_grad()``.
    """
    eps, atol, rtol, seed = _require_settings("gradcheck", eps, atol, rtol, seed)
    fast, raise_exception = _require_flags("gradcheck", fast, raise_exception)
    fn, x, checked, labels = _prepare(fn, inputs, "gradcheck")
    # Inside the caller's no_grad(), fn would record no graph and every analytic gradient
    # would read as zero.
    with enable_grad():
        return _gradcheck(fn, x, checked, labels, eps, atol, rtol, fast, raise_exception, seed,
                          report_unreached=True)


def _prepare(fn: Any, inputs: Any,
             caller: str) -> tuple[Callable, list[Tensor], list[int], list[str]]:
    """The function to call, float64 copies of the inputs, the positions of those to check, and
    a label for each input as the user gave it (a float32 input is not called float64)."""
    if isinstance(fn, type) and issubclass(fn, Function):
        fn = fn.apply
    if not callable(fn):
        raise GraphgradTypeError(
            f"{caller} takes the function to check first, then its inputs: {caller}(gg.tanh, "
            f"[x]); got fn={setting_text(fn)}")
    if isinstance(inputs, (Tensor, np.ndarray, numbers.Number)):  # one input, not a sequence
        inputs = [inputs]
    elif not isinstance(inputs, Iterable) or isinstance(inputs, (str, bytes)):
        raise GraphgradTypeError(
            f"{caller}: inputs must be a tensor, an array, a number or a list of them, got "
            f"{setting_text(inputs)}")
    given = [_as_tensor(x) for x in inputs]
    labels = [describe(t) for t in given]
    copies = []
    for position, tensor in enumerate(given):
        if tensor.dtype.kind != "f":  # a mask or indices: no gradient, passed through as is
            copies.append(Tensor(tensor.data.copy(), name=tensor.name, dtype=tensor.dtype))
            continue
        if tensor.dtype != np.float64 and tensor.requires_grad:
            warnings.warn(
                f"{caller}: input {position} {labels[position]} is {tensor.dtype}; it is checked "
                "in float64, since finite differences in low precision are too coarse.",
                stacklevel=3,
            )
        copies.append(Tensor(tensor.data.astype(np.float64, copy=True),
                             requires_grad=tensor.requires_grad, name=tensor.name))
    checked = [j for j, t in enumerate(copies) if t.requires_grad]
    if not checked:
        raise ArgumentError(_nothing_to_check(given, labels))
    for j in checked:
        _require_finite(copies[j].data, j, labels[j])
    return fn, copies, checked, labels


def _as_tensor(x: Any) -> Tensor:
    """Float arrays and numbers require grad; a mask or indices keeps its own dtype. A Python
    int is a number, float64 as gg.Tensor makes it (the course's theta = 4), not an index."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, bool) or (not isinstance(x, int) and np.asarray(x).dtype.kind in "biu"):
        return Tensor(x, dtype=np.asarray(x).dtype)
    return Tensor(x, requires_grad=True)


def _nothing_to_check(given: list[Tensor], labels: list[str]) -> str:
    reasons = [
        f"input {j} {label} does not require grad (set requires_grad=True to check it)"
        if t.dtype.kind == "f" else
        f"input {j} {label} is {t.dtype}, so it is treated as indices or a mask; pass floats "
        "(x.astype(float)) to check it"
        for j, (t, label) in enumerate(zip(given, labels))
    ]
    return "gradcheck: no input requires grad, so there is nothing to check: " + "; ".join(reasons)


def _require_finite(data: np.ndarray, position: int, label: str) -> None:
    """A step from NaN or Inf measures nothing, and the report would blame the backward."""
    bad = _indices(~np.isfinite(data))
    if bad:
        index = bad[0]
        raise ArgumentError(
            f"gradcheck: input {position} {label} holds {data[index]} at element {index} "
            f"({len(bad)} non-finite element(s) in all); finite differences need a point where "
            "every input is finite"
        )


def _require_settings(caller: str, eps: Any, atol: Any, rtol: Any,
                      seed: Any) -> tuple[float, float, float, int]:
    """eps, atol, rtol as floats and seed as an int, checked: a zero step divides by zero; a
    negative or NaN tolerance fails (or passes) everything; a Decimal or a Fraction would
    fail in the arithmetic, and a seed numpy refuses deep inside."""
    eps = real_number(eps, "eps", caller, lambda x: 0 < x < math.inf, "a finite number > 0")
    atol, rtol = (real_number(value, name, caller, lambda x: 0 <= x < math.inf,
                              "a finite number >= 0")
                  for name, value in (("atol", atol), ("rtol", rtol)))
    return eps, atol, rtol, whole_number(seed, "seed", caller, least=0)


def _require_flags(caller: str, fast: Any, raise_exception: Any) -> tuple[bool, bool]:
    return (flag(fast, "fast", caller), flag(raise_exception, "raise_exception", caller))


def _gradcheck(fn: Callable[..., Any], x: list[Tensor], checked: list[int], labels: list[str],
               eps: float, atol: float, rtol: float, fast: bool, raise_exception: bool,
               seed: int, report_unreached: bool) -> GradcheckResult:
    rng = np.random.default_rng(seed)
    outputs = _outputs_of(fn(*x))
    float_outputs = [i for i, out in enumerate(outputs) if out.dtype.kind == "f"]
    # Random upstream gradients: an all-ones seed hides backwards such as a softmax's, whose
    # true vjp with a constant upstream gradient is exactly zero.
    upstream = {i: rng.standard_normal(outputs[i].shape) for i in float_outputs}
    # A cost (one element) is checked as it is, dJ/dx: a random scale would show dJ/dx times
    # it in the report and scale atol by its inverse (by 8 at seed 0), passing a dW 2% off.
    # A backward that ignores its upstream gradient is still caught, by the zero-upstream check.
    for i in float_outputs:
        if outputs[i].size == 1:
            upstream[i] = np.ones(outputs[i].shape)
    analytic = {i: _vjp(outputs[i], x, checked, upstream[i]) for i in float_outputs}
    zero_failures = _zero_upstream_failures(outputs, x, checked, labels, float_outputs)
    unreached = _unreached(outputs, x, checked, labels) if report_unreached else []
    settings = f"eps={eps:g}, atol={atol:g}, rtol={rtol:g}"

    def evaluate(arrays: list[np.ndarray]) -> list[np.ndarray]:
        """Each float output, in float64, at the given input values."""
        tensors = [Tensor(a, requires_grad=t.requires_grad, dtype=a.dtype)
                   for a, t in zip(arrays, x)]
        outs = _outputs_of(fn(*tensors))
        return [outs[i].data.astype(np.float64) for i in float_outputs]

    base = [t.data.copy() for t in x]
    _require_deterministic(evaluate, base)
    stepper = _Stepper(evaluate, base, [upstream[i] for i in float_outputs])
    if fast:
        pairs = _projected_pairs(stepper, labels, checked, float_outputs, analytic, rng,
                                 eps, atol, rtol)
        _mark_empty(pairs, outputs, x)
        if all(p.passed for p in pairs) and not zero_failures:
            _warn_unreached(unreached)
            return GradcheckResult(True, pairs, [], f"fast: random projections, {settings}",
                                   unreached=unreached)
    pairs = _elementwise_pairs(stepper, labels, checked, float_outputs, analytic, eps, atol,
                               rtol)
    _mark_empty(pairs, outputs, x)
    passed = all(p.passed for p in pairs) and not zero_failures
    note = _fallback_note(pairs, passed) if fast else ""
    result = GradcheckResult(passed, pairs, zero_failures, f"full: every element, {settings}",
                             note, unreached)
    if not passed and raise_exception:
        raise GradcheckError(result)
    if passed:
        _warn_unreached(unreached)
    return result


def _mark_empty(pairs: list[PairCheck], outputs: tuple[Tensor, ...], x: list[Tensor]) -> None:
    """Say so where an output or an input holds no elements: its Jacobian has no entries, so
    the pair passes with nothing checked (its relative difference of 0 measures nothing)."""
    for pair in pairs:
        out = outputs[pair.output]
        if not x[pair.input].size:
            pair.empty = "the input holds no elements"
        elif not out.size:
            pair.empty = f"output {pair.output} {out.shape} holds no elements"


def _outputs_of(value: Any) -> tuple[Tensor, ...]:
    outs = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    for out in outs:
        if not isinstance(out, Tensor):
            raise GraphgradTypeError(f"gradcheck: the function must return Tensors, got "
                                     f"{type(out).__name__}")
    return outs


def _fallback_note(pairs: list[PairCheck], passed: bool) -> str:
    """Why the full diagnosis follows a fast check, and why it may pass where the fast failed."""
    if not passed:
        return "the fast check (random projections) failed; full element-by-element diagnosis:"
    note = ("the fast check (random projections) disagreed, but every element passes the full "
            "element-by-element diagnosis below")
    if any(p.kinks or p.near_kinks for p in pairs):
        note += (": the projections cross the kinks it lists, where a centred difference "
                 "averages two slopes")
    elif any(p.jumps for p in pairs):
        note += ": the projections cross the jumps it lists, where there is no derivative"
    return note


def _unreached(outputs: Sequence[Tensor], x: list[Tensor], checked: list[int],
               labels: list[str]) -> list[str]:
    """Labels of the checked inputs that the graphs behind ``outputs`` do not contain."""
    position = {id(x[j]): j for j in checked}
    found: set[int] = set()
    seen: set[Function] = set()
    stack = list(outputs)
    while stack:
        tensor = stack.pop()
        j = position.get(id(tensor))
        if j is not None and tensor is x[j]:
            found.add(j)
        node = tensor.creator
        if node is not None and node not in seen:
            seen.add(node)
            stack.extend(node.inputs)
    return [f"{j} {labels[j]}" for j in checked if j not in found]


def _warn_unreached(unreached: list[str]) -> None:
    for label in unreached:
        # stacklevel 4: the line that called gradcheck
        warnings.warn(f"gradcheck passed, but {_unreached_message(label)}", stacklevel=4)


def _require_deterministic(evaluate: Callable[[list], list[np.ndarray]], base: list) -> None:
    """Finite differences of a function that changes from call to call measure noise."""
    first, second = evaluate(base), evaluate(base)
    if not all(np.array_equal(a, b, equal_nan=True) for a, b in zip(first, second)):
        raise ArgumentError(
            "gradcheck: the function gave different results for the same inputs (is dropout "
            "or another random op on? call model.eval(), or fix its random seed), so finite "
            "differences would measure noise, not the gradient."
        )


def _vjp(out: Tensor, x: list[Tensor], checked: list[int], upstream: np.ndarray) -> list:
    if not out.requires_grad:
        return [np.zeros(x[j].shape) for j in checked]
    grads = _grad(out, [x[j] for j in checked], grad_outputs=upstream, retain_graph=True,
                  allow_unused=True)
    return [np.zeros(x[j].shape) if g is None else np.asarray(getattr(g, "data", g), np.float64)
            for j, g in zip(checked, grads)]


def _zero_upstream_failures(outputs, x, checked, labels, float_outputs) -> list[str]:
    failures = []
    for i in float_outputs:
        if not outputs[i].requires_grad:
            continue
        grads = _vjp(outputs[i], x, checked, np.zeros(outputs[i].shape))
        for j, g in zip(checked, grads):
            if np.any(g != 0):
                failures.append(f"output {i} wrt input {j} {labels[j]}")
    return failures
