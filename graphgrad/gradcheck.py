"""Gradient checking: compare an op's backward with centred finite differences.

One pipeline, readable top to bottom: copy the inputs to float64, run the function once to
get analytic vector-Jacobian products for random upstream gradients, estimate the same
quantities by centred differences ``(f(x + eps) - f(x - eps)) / (2 eps)`` element by element,
compare per (output, input), and write a report that says which input and which element
disagree. Where the one-sided slopes differ, halving the step tells a kink at the point (any
subgradient passes) and one within eps of it (the slope away from the kink is the numeric
derivative) from curvature. ``fast=True`` compares random projections first and only runs
the full, per-element diagnosis when they disagree. Depends on `tensor`, `engine`, `function`.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graphgrad.engine import grad as _grad
from graphgrad.errors import ArgumentError, GraphgradError, describe
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
            raise GraphgradError(f"gradcheck: the function must return Tensors, got "
                                 f"{type(out).__name__}")
    return outs


def _prepare(fn: Any, inputs: Sequence[Any]) -> tuple[Callable, list[Tensor], list[int]]:
    if isinstance(fn, type) and issubclass(fn, Function):
        fn = fn.apply
    if isinstance(inputs, (Tensor, np.ndarray)):  # one input, not a sequence of rows
        inputs = [inputs]
    copies = []
    for position, x in enumerate(inputs):
        if isinstance(x, Tensor):
            tensor = x
        elif np.asarray(x).dtype.kind in "biu":  # a mask or indices, kept in their dtype
            tensor = Tensor(x, dtype=np.asarray(x).dtype)
        else:
            tensor = Tensor(x, requires_grad=True)
        if tensor.dtype.kind != "f":  # a mask or indices: no gradient, passed through as is
            copies.append(Tensor(tensor.data.copy(), name=tensor.name, dtype=tensor.dtype))
            continue
        if tensor.dtype != np.float64 and tensor.requires_grad:
            warnings.warn(
                f"gradcheck: input {position} {describe(tensor)} is {tensor.dtype}; it is checked "
                "in float64, since finite differences in low precision are too coarse.",
                stacklevel=3,
            )
        copies.append(Tensor(tensor.data.astype(np.float64, copy=True),
                             requires_grad=tensor.requires_grad, name=tensor.name))
    checked = [j for j, t in enumerate(copies) if t.requires_grad]
    if not checked:
        raise GraphgradError("gradcheck: no input requires grad, so there is nothing to check")
    return fn, copies, checked


def gradcheck(
    fn: Callable[..., Any] | type[Function],
    inputs: Sequence[Any],
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
        inputs: Tensors or arrays, or just one. Float arrays and numbers become Tensors
            requiring grad; bool and integer arrays (a mask, indices) become constant Tensors
            of their own dtype. Every input with ``requires_grad`` is checked, element by
            element; the others are passed to ``fn`` unchanged.
        eps: the finite-difference step.
        atol, rtol: an element passes when |analytic - numeric| <= atol + rtol * |numeric|.
        fast: compare one random projection per (output, input) first; fall back to the full
            element-by-element diagnosis only if one disagrees.
        raise_exception: raise `GradcheckError` on failure (otherwise return the result).
        seed: seeds the random upstream gradients and projections.

    Returns:
        a `GradcheckResult`: truthy when every pair passes; ``print(result)`` shows the report.
        An input that no output's graph contains is named in it, with a warning if the check
        passed: its zero gradient matches anything constant, so passing proves nothing.
        An element within eps of a kink (relu near 0) is compared with the slope on the side
        away from the kink, and one at a kink with the range of valid subgradients.

    The check runs with grad mode on, even inside ``no_grad()``.
    """
    fn, x, checked = _prepare(fn, inputs)
    # Inside the caller's no_grad(), fn would record no graph and every analytic gradient
    # would read as zero.
    with enable_grad():
        return _gradcheck(fn, x, checked, eps, atol, rtol, fast, raise_exception, seed,
                          report_unreached=True)


def _gradcheck(fn: Callable[..., Any], x: list[Tensor], checked: list[int], eps: float,
               atol: float, rtol: float, fast: bool, raise_exception: bool, seed: int,
               report_unreached: bool) -> GradcheckResult:
    rng = np.random.default_rng(seed)
    outputs = _outputs_of(fn(*x))
    float_outputs = [i for i, out in enumerate(outputs) if out.dtype.kind == "f"]
    # Random upstream gradients: an all-ones seed hides backwards such as a softmax's, whose
    # true vjp with a constant upstream gradient is exactly zero.
    upstream = {i: rng.standard_normal(outputs[i].shape) for i in float_outputs}
    analytic = {i: _vjp(outputs[i], x, checked, upstream[i]) for i in float_outputs}
    zero_failures = _zero_upstream_failures(outputs, x, checked, float_outputs)
    unreached = _unreached(outputs, x, checked) if report_unreached else []
    settings = f"eps={eps:g}, atol={atol:g}, rtol={rtol:g}"

    def losses(arrays: list[np.ndarray]) -> np.ndarray:
        """sum(upstream_i * output_i) for each float output, at the given input values."""
        tensors = [Tensor(a, requires_grad=t.requires_grad, dtype=a.dtype)
                   for a, t in zip(arrays, x)]
        outs = _outputs_of(fn(*tensors))
        return np.array([np.sum(upstream[i] * outs[i].data.astype(np.float64))
                         for i in float_outputs])

    base = [t.data.copy() for t in x]
    _require_deterministic(losses, base)
    if fast:
        pairs = _projected_pairs(losses, base, x, checked, float_outputs, analytic, rng,
                                 eps, atol, rtol)
        if all(p.passed for p in pairs) and not zero_failures:
            _warn_unreached(unreached)
            return GradcheckResult(True, pairs, [], f"fast: random projections, {settings}",
                                   unreached=unreached)
        note = "the fast check (random projections) failed; full element-by-element diagnosis:"
    else:
        note = ""
    pairs = _elementwise_pairs(losses, base, x, checked, float_outputs, analytic, eps, atol, rtol)
    passed = all(p.passed for p in pairs) and not zero_failures
    result = GradcheckResult(passed, pairs, zero_failures, f"full: every element, {settings}",
                             note, unreached)
    if not passed and raise_exception:
        raise GradcheckError(result)
    if passed:
        _warn_unreached(unreached)
    return result


def _unreached(outputs: Sequence[Tensor], x: list[Tensor], checked: list[int]) -> list[str]:
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
    return [f"{j} {describe(x[j])}" for j in checked if j not in found]


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


def _require_deterministic(losses: Callable[[list], np.ndarray], base: list) -> None:
    """Finite differences of a function that changes from call to call measure noise."""
    first, second = losses(base), losses(base)
    if not np.array_equal(first, second, equal_nan=True):
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


def _zero_upstream_failures(outputs, x, checked, float_outputs) -> list[str]:
    failures = []
    for i in float_outputs:
        if not outputs[i].requires_grad:
            continue
        grads = _vjp(outputs[i], x, checked, np.zeros(outputs[i].shape))
        for j, g in zip(checked, grads):
            if np.any(g != 0):
                failures.append(f"output {i} wrt input {j} {describe(x[j])}")
    return failures


def _elementwise_pairs(losses, base, x, checked, float_outputs, analytic, eps, atol, rtol):
    at_base = losses(base)
    pairs = []
    slopes = {}
    for j in checked:
        # One-sided slopes at steps eps and eps/2, for every output: the centred difference is
        # their mean; whether the two sides differ, and whether that survives halving the
        # step, tells a kink from curvature.
        slopes[j] = _one_sided_slopes(losses, base, j, at_base, eps, len(float_outputs),
                                      atol, rtol)
    for k, i in enumerate(float_outputs):
        for position, j in enumerate(checked):
            left, right, half_left, half_right = (s[k] for s in slopes[j])
            pairs.append(_compare(i, j, x[j], analytic[i][position], left, right,
                                  half_left, half_right, atol, rtol))
    return pairs


def _one_sided_slopes(losses, base, j, at_base, eps, n_outputs, atol, rtol):
    """Left and right slopes of every output's loss along each element of input j, at steps
    eps and (only where the two sides differ) eps/2; elsewhere the eps/2 slopes repeat the
    eps ones, which never reads as a kink."""
    shape = base[j].shape

    def slopes_at(step, indices):
        left, right = np.zeros((n_outputs,) + shape), np.zeros((n_outputs,) + shape)
        for index in indices:
            moved = [a.copy() for a in base]
            moved[j][index] += step
            up = losses(moved)
            moved[j][index] -= 2 * step
            down = losses(moved)
            right[(slice(None),) + index] = (up - at_base) / step
            left[(slice(None),) + index] = (at_base - down) / step
        return left, right

    left, right = slopes_at(eps, np.ndindex(shape))
    differ = _sides_differ(left, right, atol, rtol).any(axis=0)
    half_left, half_right = slopes_at(eps / 2, map(tuple, np.argwhere(differ)))
    keep = ~differ
    half_left[:, keep], half_right[:, keep] = left[:, keep], right[:, keep]
    return left, right, half_left, half_right


def _sides_differ(left, right, atol, rtol) -> np.ndarray:
    """Where the one-sided slopes differ by more than curvature makes them at a small eps, or
    by enough to fail the comparison: a kink may be within eps."""
    steepest = np.maximum(np.abs(left), np.abs(right))
    threshold = np.minimum(1e-3 * np.maximum(1.0, steepest), atol + rtol * steepest)
    return np.abs(right - left) > threshold


def _compare(i, j, tensor, a, left, right, half_left, half_right, atol, rtol) -> PairCheck:
    gap, half_gap = np.abs(right - left), np.abs(half_right - half_left)
    sides_differ = _sides_differ(left, right, atol, rtol)
    # At a kink (relu at 0, |x| at 0, a tied max) the one-sided slopes differ, and the gap
    # stays when the step is halved (curvature's gap halves with the step). A backward that
    # returns either slope, or anything between them, is a valid subgradient, not a bug.
    jump = sides_differ & (half_gap > 0.75 * gap)
    one_side_crosses, away = _slope_away_from_kink(left, right, half_left, half_right, gap)
    near = sides_differ & ~jump & one_side_crosses
    n = np.where(near, away, (left + right) / 2)  # elsewhere, the centred difference
    allowed = atol + rtol * np.abs(n)
    error = np.abs(a - n)
    # NaN compares False: a derivative that is not finite is a mismatch unless both agree.
    nonfinite = ~(np.isfinite(a) & np.isfinite(n)) & (a != n)
    bad = (error > allowed) | nonfinite
    between = (a >= np.minimum(left, right) - allowed) & (a <= np.maximum(left, right) + allowed)
    kink = jump & between & ~nonfinite
    excused = bad & kink
    bad &= ~kink
    mask = ~excused
    if nonfinite.any():
        difference = float("inf")
    else:
        norm = np.linalg.norm(a) + np.linalg.norm(n)
        difference = float(np.linalg.norm((a - n)[mask]) / norm) if norm > 0 else 0.0
    pair = PairCheck(i, j, describe(tensor), passed=not bad.any(),
                     relative_difference=difference, mismatches=int(bad.sum()), size=a.size,
                     nonfinite=int(nonfinite.sum()))
    pair.kinks = [(idx, float(left[idx]), float(right[idx]), float(a[idx]) + 0.0)  # no -0
                  for idx in (tuple(int(v) for v in row) for row in np.argwhere(kink))]
    pair.near_kinks = [(idx, float(n[idx]) + 0.0)
                       for idx in (tuple(int(v) for v in row) for row in np.argwhere(near))]
    if a.size:
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(nonfinite, np.inf, np.where(mask, error / allowed, -1.0))
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


def _projected_pairs(losses, base, x, checked, float_outputs, analytic, rng, eps, atol, rtol):
    pairs = []
    for position, j in enumerate(checked):
        direction = rng.standard_normal(base[j].shape)
        plus = [a.copy() for a in base]
        minus = [a.copy() for a in base]
        plus[j] += eps * direction
        minus[j] -= eps * direction
        numeric = (losses(plus) - losses(minus)) / (2 * eps)
        for k, i in enumerate(float_outputs):
            a = float(np.sum(analytic[i][position] * direction))
            n = float(numeric[k])
            ok = abs(a - n) <= atol + rtol * abs(n)
            diff = abs(a - n) / (abs(a) + abs(n)) if (a or n) else 0.0
            pairs.append(PairCheck(i, j, describe(x[j]), ok, diff, analytic=a, numeric=n,
                                   abs_error=abs(a - n), projected=True))
    return pairs


def gradgradcheck(
    fn: Callable[..., Any] | type[Function],
    inputs: Sequence[Any],
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
    """
    fn, x, checked = _prepare(fn, inputs)
    with enable_grad():  # see gradcheck
        return _gradgradcheck(fn, x, checked, grad_outputs, eps, atol, rtol, fast,
                              raise_exception, seed)


def _gradgradcheck(fn: Callable[..., Any], x: list[Tensor], checked: list[int],
                   grad_outputs: Any, eps: float, atol: float, rtol: float, fast: bool,
                   raise_exception: bool, seed: int) -> GradcheckResult:
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
        pairs = [(o, u) for o, u in zip(outs, us) if o.requires_grad]
        wrt = [xs[j] for j in checked]
        if not pairs:
            return tuple(_lift(np.zeros(t.shape)) for t in wrt)
        grads = _grad([o for o, _ in pairs], wrt, grad_outputs=[u for _, u in pairs],
                      create_graph=True, allow_unused=True)
        return tuple(_lift(np.zeros(t.shape)) if g is None else g for g, t in zip(grads, wrt))

    # The first derivatives of a linear function do not depend on its inputs: no report of
    # inputs missing from their graphs.
    return _gradcheck(*_prepare(first_derivatives, [*x, *upstream]), eps, atol, rtol, fast,
                      raise_exception, seed, report_unreached=False)


def _require_one_per_output(upstream: list[Tensor], outputs: list[Tensor]) -> None:
    """An upstream gradient missing for an output would leave that output unchecked."""
    given, wanted = [u.shape for u in upstream], [o.shape for o in outputs]
    if given != wanted:
        raise ArgumentError(
            f"gradgradcheck: grad_outputs has {len(given)} array(s) of shapes {given}, but fn "
            f"has {len(wanted)} float output(s) of shapes {wanted}; give one upstream gradient "
            "per output, shaped like it, or leave grad_outputs out for random ones"
        )
