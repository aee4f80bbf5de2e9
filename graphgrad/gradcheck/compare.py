"""Analytic gradients against the finite differences, per (output, input): element by
element, telling kinks, elements near kinks and jumps of the function from bugs, or along
random projections (``fast=True``). Depends on `differences` and `report`.
"""
from __future__ import annotations

import functools

import numpy as np

from graphgrad.gradcheck.differences import (
    _direction,
    _one_sided_slopes,
    _sides_differ,
    _Slopes,
)
from graphgrad.gradcheck.report import JointKink, PairCheck


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
    # Two gradients of about 0 (std of equal values: analytic 0, numeric 6e-12) have a
    # relative difference near 1 that says nothing: every element is within atol of 0.
    about_zero = bool(mask.any()) and not nonfinite.any() and bool(
        (np.abs(a[mask]) <= atol).all() and (np.abs(n[mask]) <= atol).all())
    pair = PairCheck(i, j, label, passed=not bad.any(), relative_difference=difference,
                     mismatches=int(bad.sum()), size=a.size, nonfinite=int(nonfinite.sum()),
                     joint_kinks=joints,
                     about_zero=about_zero and difference > 1e-7 and not bad.any())
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
