"""Gradient checking: compare an op's backward with centred finite differences.

One pipeline, readable top to bottom in `check`: copy the inputs to float64, run the function
once to get analytic vector-Jacobian products for random upstream gradients (1 for a cost, an
output of one element: its dJ/dx is checked as it is), estimate the same quantities by centred
differences ``(f(x + eps) - f(x - eps)) / (2 eps)`` element by element (`differences`),
compare per (output, input) (`compare`), and write a report that says which input and which
element disagree (`report`). The outputs are differenced element by element
before they are weighted by the upstream gradients, so a large output element a step leaves
alone cannot drown the others in its rounding error. Where the one-sided slopes differ by more
than rounding, halving the step tells a kink at the point (any subgradient passes, and kinks
that bend alike are checked together too: a tie's gradient must not be counted twice) and one
within eps of it (the slope away from the kink is the numeric derivative) from curvature.
Where the function itself jumps, both one-sided slopes grow like 1/step and double when it is
halved: there is no derivative to check, and the element is reported instead of compared. A
jump with its value at the midpoint (sign(x) at 0) leaves the sides alike, so only an element
that fails the comparison has its eps/2 slopes taken for this: a check that passes costs no
extra evaluations. ``fast=True`` compares random projections first and only runs the full,
per-element diagnosis when they disagree. `second_order` checks second derivatives
(`gradgradcheck`). Depends on `tensor`, `engine`, `function`.
"""
from graphgrad.gradcheck.check import gradcheck
from graphgrad.gradcheck.report import (
    GradcheckError,
    GradcheckResult,
    JointKink,
    PairCheck,
    reading,
)
from graphgrad.gradcheck.second_order import gradgradcheck

__all__ = ["GradcheckError", "GradcheckResult", "JointKink", "PairCheck", "gradcheck",
           "gradgradcheck", "reading"]
