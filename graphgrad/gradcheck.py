"""Gradient checking: compare an op's backward with centred finite differences.

One pipeline, readable top to bottom: copy the inputs to float64, run the function once to
get analytic vector-Jacobian products for random upstream gradients, estimate the same
quantities by centred differences ``(f(x + eps) - f(x - eps)) / (2 eps)`` element by element,
compare per (output, input), and write a report that says which input and which element
disagree. The outputs are differenced element by element before they are weighted by the
upstream gradients, so a large output element a step leaves alone cannot drown the others in
its rounding error. Where the one-sided slopes differ by more than rounding, halving the step
tells a kink at the point (any subgradient passes, and kinks that bend alike are checked
together too: a tie's gradient must not be counted twice) and one within eps of it (the slope
away from the kink is the numeric derivative) from curvature. Where the function itself jumps,
both one-sided slopes grow like 1/step and double when it is halved: there is no derivative
to check, and the element is reported instead of compared. A jump with its value at the
midpoint (sign(x) at 0) leaves the sides alike, so only an element that fails the comparison
has its eps/2 slopes taken for this: a check that passes costs no extra evaluations.
``fast=True`` compares random projections first and only runs the full, per-element diagnosis
when they disagree. Depends on `tensor`, `engine`, `function`.
"""
from __future__ import annotations

import functools
import math
import numbers
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from graphgrad.engine import grad as _grad
from graphgrad.errors import (
    ArgumentError,
    GraphgradError,
    GraphgradTypeError,
    describe,
    real_number,
)
from graphgrad.function import Function
from graphgrad.modes import enable_grad
from graphgrad.tensor import Tensor, _lift


class GradcheckError(GraphgradError, AssertionError):
    """A gradient check failed; ``.result`` holds the full `GradcheckResult`."""

    def __init__(self, result: GradcheckResult) -> None:
        super().__init__(str(result))
        self.result = result


def reading(difference: float) -> str:
    """The course's reading of ||g - g_num|| / (||g|| + ||g_num||)."""
    if difference <= 1e-7:
        return "great"
    if difference <= 1e-5:
        return "fine, look closer if it should be exact"
    if difference <= 1e-3:
        return "suspicious: look closer"
    return "likely a bug"


@dataclass
class JointKink:
    """Elements at kinks that bend the same way, moved together: their analytic gradients must
    sum to a value between the one-sided slopes along that joint direction."""

    indices: tuple[tuple[int, ...], ...]
    left: float
    right: float
    total: float
    passed: bool

    def __str__(self) -> str:
        elements = ", ".join(map(str, self.indices))
        verdict = "agree" if self.passed else "disagree"
        text = (f"elements {elements} sit at kinks together: their gradients together {verdict} "
                f"with the slope along them (moving them together has one-sided slopes "
                f"{self.left:.4g} and {self.right:.4g}; their analytic gradients sum to "
                f"{self.total:.4g})")
        if not self.passed:
            text += ("; at a tie, the gradient is shared between the tied elements or given to "
                     "one of them, not given in full to each")
        return text


@dataclass
class PairCheck:
    """How d(output)/d(input) compares, for one (output, input) pair."""

    output: int
    input: int
    input_label: str
    passed: bool
    relative_difference: float
    worst_index: tuple[int, ...] | None = None
    analytic: float = 0.0
    numeric: float = 0.0
    abs_error: float = 0.0
    rel_error: float = 0.0
    mismatches: int = 0
    size: int = 0
    kinks: list[tuple[tuple[int, ...], float, float, float]] = field(default_factory=list)
    #: Elements within eps of a kink but not at it: (index, numeric slope used).
    near_kinks: list[tuple[tuple[int, ...], float]] = field(default_factory=list)
    #: Kinks checked together, one group per way of bending (elements alone may each pass).
    joint_kinks: list[JointKink] = field(default_factory=list)
    #: Elements where the function itself jumps, so it has no derivative there: (index, left
    #: slope, right slope, analytic value). Not compared.
    jumps: list[tuple[tuple[int, ...], float, float, float]] = field(default_factory=list)
    projected: bool = False
    nonfinite: int = 0

    def __str__(self) -> str:
        head = f"output {self.output} wrt input {self.input} {self.input_label}:"
        if self.projected:
            return (f"{head} random projection: analytic {self.analytic:.6g} vs numeric "
                    f"{self.numeric:.6g} ({'ok' if self.passed else 'MISMATCH'})")
        text = (f"{head} relative difference {self.relative_difference:.2e} "
                f"({reading(self.relative_difference)})")
        if self.mismatches:
            text += f"; {self.mismatches} of {self.size} elements disagree"
        if self.nonfinite:
            text += (f"; {self.nonfinite} derivative(s) are NaN or Inf (is an input within eps "
                     "of the edge of the function's domain, such as log near 0?)")
        if self.worst_index is not None:
            text += (f"; worst element {self.worst_index}: analytic {self.analytic:.6g} vs "
                     f"numeric {self.numeric:.6g} (abs err {self.abs_error:.2e}, rel err "
                     f"{self.rel_error:.2e})")
        for index, left, right, value in self.kinks[:3]:
            text += (f"\n    element {index} sits at a kink: one-sided slopes {left:.4g} and "
                     f"{right:.4g}; the analytic {value:.4g} is a valid subgradient, not a bug")
        if len(self.kinks) > 3:
            text += f"\n    ... and {len(self.kinks) - 3} more elements at kinks"
        for index, value in self.near_kinks[:3]:
            text += (f"\n    element {index} is near a kink, within eps of it: the centred "
                     f"difference straddles it, so the numeric value {value:.4g} is the slope "
                     "on the side away from the kink")
        if len(self.near_kinks) > 3:
            text += f"\n    ... and {len(self.near_kinks) - 3} more elements near kinks"
        for joint in self.joint_kinks:
            if not joint.passed:
                text += f"\n    {joint}"
        for index, left, right, value in self.jumps[:3]:
            text += (f"\n    element {index} sits at a jump: output {self.output} jumps there "
                     f"(one-sided slopes {left:.4g} and {right:.4g} double when the step is "
                     f"halved), so it has no derivative wrt input {self.input} to check the "
                     f"analytic {value:.4g} against; move the point off the jump to check it")
        if len(self.jumps) > 3:
            text += f"\n    ... and {len(self.jumps) - 3} more elements at jumps"
        return text


@dataclass
class GradcheckResult:
    """Truthy when the check passed; ``str()`` gives the readable report."""

    passed: bool
    pairs: list[PairCheck]
    zero_grad_failures: list[str]
    settings: str
    note: str = ""
    #: Labels of checked inputs that no output's graph contains (their gradient is zero by
    #: construction, so their check proves nothing).
    unreached: list[str] = field(default_factory=list)
    #: gradgradcheck: where a first derivative under ``create_graph=True`` differs from the
    #: plain backward's (a backward body whose Tensor path computes another derivative).
    create_graph_failures: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.passed

    def failures(self) -> list[PairCheck]:
        return [p for p in self.pairs if not p.passed]

    def __str__(self) -> str:
        lines = [f"gradcheck {'passed' if self.passed else 'FAILED'} ({self.settings})"]
        if self.note:
            lines.append(f"  {self.note}")
        lines += [f"  {p}" for p in self.pairs]
        lines += [f"  {_unreached_message(label)}" for label in self.unreached]
        lines += [f"  {failure}" for failure in self.create_graph_failures]
        if self.zero_grad_failures:
            lines += [f"  zero upstream gradient gave a non-zero gradient for {w}"
                      for w in self.zero_grad_failures]
        else:
            lines.append("  a zero upstream gradient gives a zero gradient: yes")
        return "\n".join(lines)


def _outputs_of(value: Any) -> tuple[Tensor, ...]:
    outs = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    for out in outs:
        if not isinstance(out, Tensor):
            raise GraphgradTypeError(f"gradcheck: the function must return Tensors, got "
                                     f"{type(out).__name__}")
    return outs


def _prepare(fn: Any, inputs: Any) -> tuple[Callable, list[Tensor], list[int], list[str]]:
    """The function to call, float64 copies of the inputs, the positions of those to check, and
    a label for each input as the user gave it (a float32 input is not called float64)."""
    if isinstance(fn, type) and issubclass(fn, Function):
        fn = fn.apply
    if isinstance(inputs, (Tensor, np.ndarray, numbers.Number)):  # one input, not a sequence
        inputs = [inputs]
    given = [_as_tensor(x) for x in inputs]
    labels = [describe(t) for t in given]
    copies = []
    for position, tensor in enumerate(given):
        if tensor.dtype.kind != "f":  # a mask or indices: no gradient, passed through as is
            copies.append(Tensor(tensor.data.copy(), name=tensor.name, dtype=tensor.dtype))
            continue
        if tensor.dtype != np.float64 and tensor.requires_grad:
            warnings.warn(
                f"gradcheck: input {position} {labels[position]} is {tensor.dtype}; it is checked "
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
    """Float arrays and numbers require grad; a mask or indices keeps its own dtype."""
    if isinstance(x, Tensor):
        return x
    if np.asarray(x).dtype.kind in "biu":
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


def _require_settings(caller: str, eps: Any, atol: Any, rtol: Any) -> None:
    """A zero step divides by zero; a negative or NaN tolerance fails (or passes) everything."""
    real_number(eps, "eps", caller, lambda x: 0 < x < math.inf, "a finite number > 0")
    for name, value in (("atol", atol), ("rtol", rtol)):
        real_number(value, name, caller, lambda x: 0 <= x < math.inf, "a finite number >= 0")


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
        seed: seeds the random upstream gradients and projections.

    Returns:
        a `GradcheckResult`: truthy when every pair passes; ``print(result)`` shows the report.
        An input that no output's graph contains is named in it, with a warning if the check
        passed: its zero gradient matches anything constant, so passing proves nothing.
        An element within eps of a kink (relu near 0) is compared with the slope on the side
        away from the kink, and one at a kink with the range of valid subgradients; elements at
        kinks that bend alike (a tie of max) are also moved together, and the sum of their
        gradients must lie between the one-sided slopes along them. Where ``fn`` itself jumps
        (both one-sided slopes double when the step is halved, as at 0 for x + sign(x)) it has
        no derivative: the element is named in the report and not compared, unless its
        analytic value is NaN or Inf. Move the point off the jump to check it there.

    Raises:
        ArgumentError: eps, atol or rtol out of range, no input to check, or an input to check
            that holds NaN or Inf.

    The check runs with grad mode on, even inside ``no_grad()``.
    """
    _require_settings("gradcheck", eps, atol, rtol)
    fn, x, checked, labels = _prepare(fn, inputs)
    # Inside the caller's no_grad(), fn would record no graph and every analytic gradient
    # would read as zero.
    with enable_grad():
        return _gradcheck(fn, x, checked, labels, eps, atol, rtol, fast, raise_exception, seed,
                          report_unreached=True)


def _gradcheck(fn: Callable[..., Any], x: list[Tensor], checked: list[int], labels: list[str],
               eps: float, atol: float, rtol: float, fast: bool, raise_exception: bool,
               seed: int, report_unreached: bool) -> GradcheckResult:
    rng = np.random.default_rng(seed)
    outputs = _outputs_of(fn(*x))
    float_outputs = [i for i, out in enumerate(outputs) if out.dtype.kind == "f"]
    # Random upstream gradients: an all-ones seed hides backwards such as a softmax's, whose
    # true vjp with a constant upstream gradient is exactly zero.
    upstream = {i: rng.standard_normal(outputs[i].shape) for i in float_outputs}
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
        if all(p.passed for p in pairs) and not zero_failures:
            _warn_unreached(unreached)
            return GradcheckResult(True, pairs, [], f"fast: random projections, {settings}",
                                   unreached=unreached)
    pairs = _elementwise_pairs(stepper, labels, checked, float_outputs, analytic, eps, atol,
                               rtol)
    passed = all(p.passed for p in pairs) and not zero_failures
    note = _fallback_note(pairs, passed) if fast else ""
    result = GradcheckResult(passed, pairs, zero_failures, f"full: every element, {settings}",
                             note, unreached)
    if not passed and raise_exception:
        raise GradcheckError(result)
    if passed:
        _warn_unreached(unreached)
    return result


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


def _unreached_message(label: str) -> str:
    return (
        f"input {label} is not part of any output's graph, so its analytic gradient is zero "
        "by construction. If fn uses it, it does so off the graph (through .data, detach() or "
        "no_grad), or uses another tensor in its place: gradcheck calls fn with float64 "
        "copies of the inputs, so a function that closes over the originals (a model's own "
        "parameters) checks nothing."
    )


def _warn_unreached(unreached: list[str]) -> None:
    for label in unreached:
        # stacklevel 4: the line that called gradcheck
        warnings.warn(f"gradcheck passed, but {_unreached_message(label)}", stacklevel=4)


def _require_deterministic(evaluate: Callable[[list], list[np.ndarray]], base: list) -> None:
    """Finite differences of a function that changes from call to call measure noise."""
    first, second = evaluate(base), evaluate(base)
    if not all(np.array_equal(a, b, equal_nan=True) for a, b in zip(first, second)):
        raise GraphgradError(
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


#: Units in the last place that rounding in fn may move each output element by.
_ROUNDING_ULPS = 4


class _Stepper:
    """Moves one input away from the base point and measures, for each float output, how
    sum(upstream * output) changes: slopes along a direction, in finite differences."""

    def __init__(self, evaluate: Callable[[list], list[np.ndarray]], base: list[np.ndarray],
                 upstream: list[np.ndarray]) -> None:
        self.evaluate, self.base, self.upstream = evaluate, base, upstream
        self.at_base = evaluate(base)

    def moved(self, j: int, direction: np.ndarray, step: float) -> list[np.ndarray]:
        """The outputs with input j moved by step * direction (copies: fn may write to them)."""
        arrays = [a + step * direction if k == j else a.copy() for k, a in enumerate(self.base)]
        return self.evaluate(arrays)

    def change(self, before: list[np.ndarray], after: list[np.ndarray]) -> np.ndarray:
        """sum(upstream * (after - before)) per output. Differencing element by element first
        lets the elements a step leaves alone cancel exactly: summing first would leave the
        rounding error of a total near 1e9 (about 1e-7) in every slope."""
        return np.array([np.sum(u * (a - b)) for u, b, a in zip(self.upstream, before, after)])

    def rounding(self, before: list[np.ndarray], after: list[np.ndarray]) -> np.ndarray:
        """How far rounding may move `change`: a few ulps of each element the step changed."""
        return np.array([
            np.sum(np.abs(u) * np.where(a != b, np.spacing(np.maximum(np.abs(a), np.abs(b))), 0))
            for u, b, a in zip(self.upstream, before, after)
        ]) * _ROUNDING_ULPS

    def slopes(self, j: int, direction: np.ndarray,
               step: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per output: the left and right slopes along ``direction`` of input j, and the
        rounding noise of their gap."""
        up, down = self.moved(j, direction, step), self.moved(j, direction, -step)
        right = self.change(self.at_base, up) / step
        left = self.change(down, self.at_base) / step
        noise = (self.rounding(self.at_base, up) + self.rounding(down, self.at_base)) / step
        return left, right, noise


def _direction(shape: tuple[int, ...], indices: Sequence[tuple[int, ...]]) -> np.ndarray:
    """The direction that moves the given elements of an input together, by one each."""
    direction = np.zeros(shape)
    for index in indices:
        direction[index] = 1.0
    return direction


@dataclass
class _Slopes:
    """One-sided slopes along single elements of one input, at steps eps and eps/2, the
    rounding noise of the gap between the eps ones, and where the eps/2 ones were measured
    (elsewhere they repeat the eps ones): shaped (outputs, *input shape), or like the input for
    one output."""

    left: np.ndarray
    right: np.ndarray
    half_left: np.ndarray
    half_right: np.ndarray
    noise: np.ndarray
    halved: np.ndarray

    def of_output(self, k: int) -> _Slopes:
        return _Slopes(*(getattr(self, f.name)[k] for f in fields(self)))


def _elementwise_pairs(stepper, labels, checked, float_outputs, analytic, eps, atol, rtol):
    # One-sided slopes at steps eps and eps/2, for every output: the centred difference is
    # their mean; whether the two sides differ, and whether that survives halving the step,
    # tells a kink from curvature (and a jump of the function, where both slopes double).
    slopes = {j: _one_sided_slopes(stepper, j, eps, atol, rtol) for j in checked}
    measured: dict[tuple, tuple] = {}  # outputs that ask for the same steps share them

    def slopes_along(j, k, step, indices):
        """Left and right slopes of output k with those elements of input j moved together by
        step; measured only when a comparison asks for them."""
        if (j, step, indices) not in measured:
            direction = _direction(stepper.base[j].shape, indices)
            measured[j, step, indices] = stepper.slopes(j, direction, step)[:2]
        left, right = measured[j, step, indices]
        return float(left[k]), float(right[k])

    return [_compare(i, j, labels[j], analytic[i][position], slopes[j].of_output(k),
                     functools.partial(slopes_along, j, k, eps),
                     functools.partial(slopes_along, j, k, eps / 2), atol, rtol)
            for k, i in enumerate(float_outputs) for position, j in enumerate(checked)]


def _one_sided_slopes(stepper: _Stepper, j: int, eps: float, atol: float, rtol: float) -> _Slopes:
    """Left and right slopes of every output along each element of input j, at steps eps and
    (only where the two sides differ) eps/2; elsewhere the eps/2 slopes repeat the eps ones,
    which never reads as a kink or a jump, until `_function_jumps` measures them."""
    shape = stepper.base[j].shape
    n_outputs = len(stepper.at_base)

    def slopes_at(step, indices):
        left, right, noise = (np.zeros((n_outputs,) + shape) for _ in range(3))
        for index in indices:
            at = (slice(None),) + index
            left[at], right[at], noise[at] = stepper.slopes(j, _direction(shape, [index]), step)
        return left, right, noise

    left, right, noise = slopes_at(eps, np.ndindex(shape))
    differ = _sides_differ(left, right, noise, atol, rtol).any(axis=0)
    half_left, half_right, _ = slopes_at(eps / 2, map(tuple, np.argwhere(differ)))
    keep = ~differ
    half_left[:, keep], half_right[:, keep] = left[:, keep], right[:, keep]
    halved = np.broadcast_to(differ, left.shape)
    return _Slopes(left, right, half_left, half_right, noise, halved)


def _sides_differ(left, right, noise, atol, rtol) -> np.ndarray:
    """Where the one-sided slopes differ by more than rounding, and by more than curvature
    makes them at a small eps or by enough to fail the comparison: a kink may be within eps."""
    steepest = np.maximum(np.abs(left), np.abs(right))
    threshold = np.minimum(1e-3 * np.maximum(1.0, steepest), atol + rtol * steepest)
    return np.abs(right - left) > threshold + noise


def _compare(i, j, label, a, s: _Slopes, together, halved, atol, rtol) -> PairCheck:
    left, right = s.left, s.right
    gap, half_gap = np.abs(right - left), np.abs(s.half_right - s.half_left)
    sides_differ = _sides_differ(left, right, s.noise, atol, rtol)
    # At a kink (relu at 0, |x| at 0, a tied max) the one-sided slopes differ, and the gap
    # stays when the step is halved (curvature's gap halves with the step). A backward that
    # returns either slope, or anything between them, is a valid subgradient, not a bug.
    gap_stays = sides_differ & (half_gap > 0.75 * gap)
    one_side_crosses, away = _slope_away_from_kink(left, right, s.half_left, s.half_right, gap)
    near = sides_differ & ~gap_stays & one_side_crosses
    n = np.where(near, away, (left + right) / 2)  # elsewhere, the centred difference
    allowed = atol + rtol * np.abs(n)
    error = np.abs(a - n)
    # NaN compares False: a derivative that is not finite is a mismatch unless both agree.
    finite = np.isfinite(a) & np.isfinite(n)
    nonfinite = ~finite & (a != n)
    bad = (error > allowed) | nonfinite
    # Where the function itself jumps there is no derivative to check. A NaN or Inf from the
    # backward is still reported: it is no value at all, not one of many.
    jump = _function_jumps(s, bad & finite, halved) & finite
    between = (a >= np.minimum(left, right) - allowed) & (a <= np.maximum(left, right) + allowed)
    kink = gap_stays & ~jump & between & ~nonfinite
    joints = _kinks_together(a, s, kink, together, atol, rtol)
    wrong_together = np.zeros(a.shape, dtype=bool)
    for joint in joints:
        if not joint.passed:
            wrong_together[tuple(np.transpose(joint.indices))] = True
    kink &= ~wrong_together
    excused = bad & (kink | jump)
    bad = (bad & ~excused) | wrong_together
    mask = ~excused
    if nonfinite.any():
        difference = float("inf")
    else:
        # An excused element's numeric value (about 1/eps at a jump) must not shrink the others'
        # relative difference either.
        norm = np.linalg.norm(a[mask]) + np.linalg.norm(n[mask])
        difference = float(np.linalg.norm((a - n)[mask]) / norm) if norm > 0 else 0.0
    pair = PairCheck(i, j, label, passed=not bad.any(), relative_difference=difference,
                     mismatches=int(bad.sum()), size=a.size, nonfinite=int(nonfinite.sum()),
                     joint_kinks=joints)
    pair.kinks = [(idx, float(left[idx]), float(right[idx]), float(a[idx]) + 0.0)  # no -0
                  for idx in _indices(kink)]
    pair.near_kinks = [(idx, float(n[idx]) + 0.0) for idx in _indices(near)]
    pair.jumps = [(idx, float(left[idx]), float(right[idx]), float(a[idx]) + 0.0)
                  for idx in _indices(jump)]
    if mask.any():  # an element compared, not only excused ones
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(nonfinite, np.inf, np.where(mask, error / allowed, -1.0))
        # Each element of a wrong tie may match the centred difference: rank it as failing.
        ratio[wrong_together] = np.maximum(ratio[wrong_together], 1.0)
        worst = tuple(int(v) for v in np.unravel_index(int(np.argmax(ratio)), a.shape))
        pair.worst_index = worst
        pair.analytic, pair.numeric = float(a[worst]), float(n[worst])
        pair.abs_error = float(error[worst])
        # Relative to a numeric derivative of 0, any error is infinitely large.
        if not error[worst]:
            pair.rel_error = 0.0
        elif n[worst]:
            pair.rel_error = float(error[worst] / abs(n[worst]))
        else:
            pair.rel_error = float("inf")
    return pair


def _indices(mask: np.ndarray) -> list[tuple[int, ...]]:
    """The positions where ``mask`` is true, as tuples of ints."""
    return [tuple(int(v) for v in row) for row in np.argwhere(mask)]


def _function_jumps(s: _Slopes, look: np.ndarray, halved) -> np.ndarray:
    """Where the function itself jumps as one element moves: both one-sided slopes double when
    the step is halved.

    A jump in the function adds (its share of) the jump over step to a one-sided slope, which
    grows as the step shrinks; curvature changes a slope by a term that shrinks with the step,
    and a kink leaves it alone. Where the value at the point is elsewhere in the jump (a tie of
    three shares the gradient 1/3 each: shares 1/3 and 2/3 of the jump), the sides differ and
    the eps/2 slopes are there already. With the value at the midpoint (|x|'s derivative
    sign(x) at 0, a tie of two) both sides are alike, so their eps/2 slopes were not measured:
    they are measured here through ``halved((index,))``, only for the elements in ``look``
    (those that fail the comparison), so a check that passes costs no more evaluations.
    """
    half_left, half_right = np.array(s.half_left), np.array(s.half_right)  # 0-d ones too
    unmeasured = look & ~s.halved
    for index in _indices(unmeasured):
        half_left[index], half_right[index] = halved((index,))
    measured = s.halved | unmeasured
    return measured & _doubles(s.left, half_left, s.noise) & _doubles(s.right, half_right, s.noise)


def _doubles(slope: np.ndarray, half: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Where a slope at step eps/2 is about twice the one at eps: the part growing like
    1 / step (half - slope) is more than rounding and ten times the part that does not
    (2 slope - half). A slope that stays (a linear function, a kink) never doubles."""
    grows = half - slope
    return (np.abs(half - 2 * slope) <= 0.1 * np.abs(grows)) & (np.abs(grows) > 4 * noise)


def _kinks_together(a, s: _Slopes, kink, together, atol, rtol) -> list[JointKink]:
    """Check the kinks of one (output, input) pair moved together, not only one at a time.

    At a tie of max each tied element alone has one-sided slopes 0 and 1, so any gradient in
    [0, 1] passes it; moved together they move the max by the same step, so their gradients
    must sum to 1, and a backward giving 1 to each is wrong. Only kinks that bend the same way
    (right slope above the left, or below) are grouped: for kinks of separate elements (relu
    of each) the slopes of such a group add up, so any valid choice per element passes
    together too, where a kink bending up and one bending down would narrow the range.
    """
    joints = []
    for bends_up in (True, False):
        group = kink & ((s.right > s.left) == bends_up)
        if group.sum() < 2:
            continue
        indices = tuple(_indices(group))
        left, right = together(indices)
        total = float(a[group].sum())
        allowed = atol + rtol * max(abs(left), abs(right))
        passed = min(left, right) - allowed <= total <= max(left, right) + allowed
        joints.append(JointKink(indices, left, right, total, passed))
    return joints


def _slope_away_from_kink(left, right, half_left, half_right, gap):
    """Spot a kink within eps of the point but not at it, and the derivative there.

    The stencil on the kink's side crosses it, so that side's slope changes when the step is
    halved, while the other side's does not (curvature moves both sides alike, each by a
    quarter of the gap). Returns where only one side changes, and the slope of the side that
    stays, extrapolated to step 0: 2 s(eps/2) - s(eps) cancels the slope's error of order eps.
    """
    left_stays = np.abs(half_left - left) <= 0.1 * gap
    right_stays = np.abs(half_right - right) <= 0.1 * gap
    away = np.where(left_stays, 2 * half_left - left, 2 * half_right - right)
    return left_stays != right_stays, away


def _projected_pairs(stepper, labels, checked, float_outputs, analytic, rng, eps, atol, rtol):
    pairs = []
    for position, j in enumerate(checked):
        direction = rng.standard_normal(stepper.base[j].shape)
        left, right, _ = stepper.slopes(j, direction, eps)
        numeric = (left + right) / 2
        for k, i in enumerate(float_outputs):
            a = float(np.sum(analytic[i][position] * direction))
            n = float(numeric[k])
            ok = abs(a - n) <= atol + rtol * abs(n)
            diff = abs(a - n) / (abs(a) + abs(n)) if (a or n) else 0.0
            pairs.append(PairCheck(i, j, labels[j], ok, diff, analytic=a, numeric=n,
                                   abs_error=abs(a - n), projected=True))
    return pairs


def gradgradcheck(
    fn: Callable[..., Any] | type[Function],
    inputs: Sequence[Any] | Tensor | np.ndarray | float,
    grad_outputs: Sequence[Any] | None = None,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    fast: bool = False,
    raise_exception: bool = True,
    seed: int = 0,
) -> GradcheckResult:
    """Check second derivatives: gradcheck the gradient of ``fn`` (computed with
    ``create_graph=True``) with respect to the inputs and the upstream gradients.

    ``grad_outputs``, when given, holds one upstream gradient per float output of ``fn``,
    shaped like it (one array for a single output); left out, they are random. Other
    arguments are as for `gradcheck`; the check runs with grad mode on.

    The first derivatives under ``create_graph=True`` must also equal the plain backward's (a
    backward body may take another path on Tensors); where they differ, the report says which
    input and element. The report's outputs are these gradients, one per checked input, in
    order. A gradient that jumps (|x|'s sign(x) at 0, a tie of max whose gradient is shared
    between the tied elements) has no derivative there: such elements are named in the
    report, not compared.
    """
    _require_settings("gradgradcheck", eps, atol, rtol)
    fn, x, checked, labels = _prepare(fn, inputs)
    with enable_grad():  # see gradcheck
        return _gradgradcheck(fn, x, checked, labels, grad_outputs, eps, atol, rtol, fast,
                              raise_exception, seed)


def _gradgradcheck(fn: Callable[..., Any], x: list[Tensor], checked: list[int],
                   labels: list[str], grad_outputs: Any, eps: float, atol: float, rtol: float,
                   fast: bool, raise_exception: bool, seed: int) -> GradcheckResult:
    outputs = [o for o in _outputs_of(fn(*x)) if o.dtype.kind == "f"]
    rng = np.random.default_rng(seed + 1)
    if grad_outputs is None:
        grad_outputs = [rng.standard_normal(o.shape) for o in outputs]
    elif isinstance(grad_outputs, (Tensor, np.ndarray)):
        grad_outputs = [grad_outputs]
    upstream = [Tensor(np.asarray(getattr(g, "data", g), dtype=np.float64), requires_grad=True)
                for g in grad_outputs]
    _require_one_per_output(upstream, outputs)
    n_inputs = len(x)

    def first_derivatives(*args: Tensor) -> tuple[Tensor, ...]:
        xs, us = args[:n_inputs], args[n_inputs:]
        outs = [o for o in _outputs_of(fn(*xs)) if o.dtype.kind == "f"]
        return _first_derivatives(outs, us, [xs[j] for j in checked], create_graph=True)

    differing = _create_graph_differences(outputs, x, checked, labels, upstream, atol, rtol)
    first, xu, checked_xu, upstream_labels = _prepare(first_derivatives, [*x, *upstream])
    labels = labels + upstream_labels[n_inputs:]  # x as the user gave them, not the copies
    # The first derivatives of a linear function do not depend on its inputs: no report of
    # inputs missing from their graphs.
    result = _gradcheck(first, xu, checked_xu, labels, eps, atol, rtol, fast, False, seed,
                        report_unreached=False)
    if differing:
        result.create_graph_failures = differing
        result.passed = False
    if not result.passed and raise_exception:
        raise GradcheckError(result)
    return result


def _create_graph_differences(outputs, x, checked, labels, upstream, atol, rtol) -> list[str]:
    """Where the first derivatives ``create_graph=True`` gives differ from the plain
    backward's, at the point (both from the graph of ``outputs``, the float outputs of fn
    there). A backward body may take another path on Tensors (to stay differentiable);
    checking the second derivatives against that path alone would pass a wrong first one."""
    wrt = [x[j] for j in checked]
    seeds = [u.data for u in upstream]
    # create_graph first: it keeps the graph for the plain pass, which frees it.
    on_graph = _first_derivatives(outputs, seeds, wrt, create_graph=True)
    plain = _first_derivatives(outputs, seeds, wrt, create_graph=False)
    failures = []
    for j, p, g in zip(checked, plain, on_graph):
        g = g.data
        wrong = ~np.isclose(g, p, rtol=rtol, atol=atol, equal_nan=True)
        if wrong.any():
            index = _indices(wrong)[0]
            failures.append(
                f"the gradient wrt input {j} {labels[j]} under create_graph=True differs from "
                f"the plain backward's at {int(wrong.sum())} of {wrong.size} elements, first "
                f"{index}: {g[index]:.6g} against {p[index]:.6g} (the backward body computes "
                "another derivative on Tensors than on arrays)"
            )
    return failures


def _first_derivatives(outputs: list[Tensor], upstream: list[Any], wrt: list[Tensor],
                       create_graph: bool) -> tuple:
    """d sum(upstream * output) / dt for each t of ``wrt``, summed over the outputs that
    require grad; zeros where they do not depend on t (Tensors under ``create_graph``)."""
    pairs = [(o, u) for o, u in zip(outputs, upstream) if o.requires_grad]
    grads = (_grad([o for o, _ in pairs], wrt, grad_outputs=[u for _, u in pairs],
                   create_graph=create_graph, allow_unused=True)
             if pairs else (None,) * len(wrt))
    zeros = _lift if create_graph else np.asarray
    return tuple(zeros(np.zeros(t.shape)) if g is None else g for g, t in zip(grads, wrt))


def _require_one_per_output(upstream: list[Tensor], outputs: list[Tensor]) -> None:
    """An upstream gradient missing for an output would leave that output unchecked."""
    given, wanted = [u.shape for u in upstream], [o.shape for o in outputs]
    if given != wanted:
        raise ArgumentError(
            f"gradgradcheck: grad_outputs has {len(given)} array(s) of shapes {given}, but fn "
            f"has {len(wanted)} float output(s) of shapes {wanted}; give one upstream gradient "
            "per output, shaped like it, or leave grad_outputs out for random ones"
        )
