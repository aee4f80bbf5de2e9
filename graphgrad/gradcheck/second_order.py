"""`gradgradcheck`: second derivatives, checked as the first derivatives' gradients, and the
first derivatives under ``create_graph=True`` compared with the plain backward's. Depends on
`check`.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from graphgrad.engine import grad as _grad
from graphgrad.errors import ArgumentError
from graphgrad.function import Function
from graphgrad.gradcheck.check import (
    _gradcheck,
    _outputs_of,
    _prepare,
    _require_flags,
    _require_settings,
)
from graphgrad.gradcheck.compare import _indices
from graphgrad.gradcheck.report import GradcheckError, GradcheckResult
from graphgrad.modes import enable_grad
from graphgrad.tensor import Tensor, _lift


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
    arguments (``eps``, ``atol``, ``rtol``, ``fast``, ``raise_exception``, ``seed``) are as for
    `gradcheck`; the check runs with grad mode on.

    The first derivatives under ``create_graph=True`` must also equal the plain backward's (a
    backward body may take another path on Tensors); where they differ, the report says which
    input and element. The report, headed "gradgradcheck", has these gradients as its outputs,
    one per checked input, in order, and as its inputs fn's followed by the upstream gradients,
    named v0, v1, ... A gradient that jumps (|x|'s sign(x) at 0, a tie of max whose gradient
    is shared between the tied elements) has no derivative there: such elements are named in
    the report, not compared.
    """
    eps, atol, rtol, seed = _require_settings("gradgradcheck", eps, atol, rtol, seed)
    fast, raise_exception = _require_flags("gradgradcheck", fast, raise_exception)
    fn, x, checked, labels = _prepare(fn, inputs, "gradgradcheck")
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
    upstream = [Tensor(np.asarray(getattr(g, "data", g), dtype=np.float64), requires_grad=True,
                       name=f"v{i}") for i, g in enumerate(grad_outputs)]
    _require_one_per_output(upstream, outputs)
    n_inputs = len(x)

    def first_derivatives(*args: Tensor) -> tuple[Tensor, ...]:
        xs, us = args[:n_inputs], args[n_inputs:]
        outs = [o for o in _outputs_of(fn(*xs)) if o.dtype.kind == "f"]
        return _first_derivatives(outs, us, [xs[j] for j in checked], create_graph=True)

    differing = _create_graph_differences(outputs, x, checked, labels, upstream, atol, rtol)
    first, xu, checked_xu, upstream_labels = _prepare(first_derivatives, [*x, *upstream],
                                                        "gradgradcheck")
    labels = labels + upstream_labels[n_inputs:]  # x as the user gave them, not the copies
    # The first derivatives of a linear function do not depend on its inputs: no report of
    # inputs missing from their graphs.
    result = _gradcheck(first, xu, checked_xu, labels, eps, atol, rtol, fast, False, seed,
                        report_unreached=False)
    result.checker = "gradgradcheck"
    result.note = "\n  ".join(filter(None, [
        "outputs: the first derivatives dJ/dx of J = sum(v * fn(x)), one per checked input x; "
        "inputs: fn's, then the upstream gradients v0, v1, ... (one per output of fn)",
        result.note]))
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


def _first_derivatives(outputs: list[Tensor], upstream: Sequence[Any], wrt: list[Tensor],
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
