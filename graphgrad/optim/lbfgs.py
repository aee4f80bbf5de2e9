"""`LBFGS`: limited-memory BFGS, a quasi-Newton method, as ``torch.optim.LBFGS`` computes it
(which follows minFunc), with its strong Wolfe line search.

Gradient descent steps along -dW with one learning rate for every direction. Newton's method
steps along -H g, H the inverse of the Hessian (the matrix of second derivatives), which
takes long steps where the cost is flat and short ones where it curves: a quadratic bowl is
solved in one step. BFGS builds an approximation of H from the gradients alone, and L-BFGS
keeps only the last few steps s_i and gradient changes y_i, so it costs O(k n) per
direction for n parameters and k remembered pairs, never an (n, n) matrix.

It needs the cost itself, not only a gradient: each ``step(closure)`` calls the closure several
times (up to ``max_eval``) to try points along the direction, so it suits full-batch problems
(logistic regression, a small network on all its data, fitting a function), not mini-batches,
whose noise breaks its model of the cost. Depends on `optim.optimizer`, `tensor`, `errors`.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graphgrad.engine import zero_grads
from graphgrad.errors import (
    AnomalyError,
    ArgumentError,
    GraphgradTypeError,
    describe,
    not_a_state_error,
    setting_text,
    whole_number,
)
from graphgrad.optim.optimizer import (
    Optimizer,
    _count,
    _Setting,
    _step_count,
    _write,
    call_closure,
)
from graphgrad.tensor import Tensor

__all__ = ["LBFGS", "Memory", "strong_wolfe", "two_loop_direction"]

# What a line search needs from the model: the cost and its flat gradient at step length t.
Evaluate = Callable[[float], tuple[float, np.ndarray]]


def two_loop_direction(g: np.ndarray, s: list[np.ndarray], y: list[np.ndarray],
                       rho: list[float], H_diag: float) -> np.ndarray:
    """The L-BFGS direction d = -H g, by the two-loop recursion (Nocedal and Wright, Algorithm
    7.4), without forming H.

    g: (n,) the gradient; s[i] = x[i+1] - x[i] and y[i] = g[i+1] - g[i]: (n,) each, the k
    remembered steps and changes of the gradient, oldest first; rho[i] = 1 / (y[i] . s[i]).
    H is what the BFGS update makes of H_0 = H_diag * I (H_diag = s.y / y.y of the newest
    pair, the curvature along it) applied for each pair in turn::

        H <- (I - rho s y^T) H (I - rho y s^T) + rho s s^T

    so that H y[i] = s[i] for the newest pair (the secant condition: H acts as the inverse
    Hessian along the steps taken). Expanding the k updates on g gives the two loops: the
    first, newest pair first, takes each pair's share alpha[i] out of q; the second, oldest
    first, puts it back through s[i], scaled by H_0. 4 k n multiplications in all."""
    q = -g  # a new array: g is left as it is
    alpha = [0.0] * len(s)
    for i in reversed(range(len(s))):
        alpha[i] = float(s[i] @ q) * rho[i]
        q -= alpha[i] * y[i]
    r = q * H_diag
    for i in range(len(s)):
        beta = float(y[i] @ r) * rho[i]
        r += (alpha[i] - beta) * s[i]
    return r


def _cubic_minimum(x1: float, f1: float, g1: float, x2: float, f2: float, g2: float,
                   bounds: tuple[float, float] | None = None) -> float:
    """Where the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2 has its minimum,
    kept within ``bounds`` (the interval between x1 and x2 by default); the middle of the
    bounds when the cubic has none (d2**2 < 0 below), or when x1 = x2."""
    low, high = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    if x1 == x2:  # one point twice (a step of length 0): nothing to fit
        return (low + high) / 2.0
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square < 0:
        return (low + high) / 2.0
    d2 = math.sqrt(d2_square)
    if x1 <= x2:
        far, near, numerator, denominator = x2, x1, g2 + d2 - d1, g2 - g1 + 2 * d2
    else:
        far, near, numerator, denominator = x1, x2, g1 + d2 - d1, g1 - g2 + 2 * d2
    if denominator == 0:
        # The same slope at both ends and d2 = 0: a straight line, lowest at the bound it
        # goes down towards (PyTorch's division by 0 gives +-inf, then bounded, alike).
        return (low + high) / 2.0 if numerator == 0 else high if numerator < 0 else low
    at = far - (far - near) * (numerator / denominator)
    return min(max(at, low), high)


@dataclass
class _Point:
    """A point of the line search: step length t, cost f, flat gradient g, slope gtd = g . d."""

    t: float
    f: float
    g: np.ndarray
    gtd: float


class _Search:
    """What the line search's two phases share: the function, the direction d, the point
    t = 0, the Wolfe constants, and the evaluations made (at most ``max_ls`` past the first)."""

    def __init__(self, evaluate: Evaluate, d: np.ndarray, start: _Point, c1: float, c2: float,
                 max_ls: int) -> None:
        self.evaluate, self.d, self.start = evaluate, d, start
        self.c1, self.c2, self.max_ls = c1, c2, max_ls
        self.evals = 0
        # The Armijo test in the gradient's dtype, as PyTorch computes it: for float32
        # parameters, f(0) + c1 t f'(0) rounds to f(0) once the decrease asked for is below
        # float32's resolution of f, and a step that leaves the cost as it was passes. In
        # float64 the test asked for a decrease the float32 cost cannot show, and at a float32
        # minimum each iteration shortened its step max_ls times down to t = 0.
        dtype = start.g.dtype
        self.real = dtype.type if dtype.kind == "f" else float

    def point(self, t: float) -> _Point:
        f, g = self.evaluate(t)
        self.evals += 1
        return _Point(t, f, g, float(g @ self.d))

    def armijo_fails(self, new: _Point) -> bool:
        """Whether the cost at ``new`` has not gone down enough: f(t) > f(0) + c1 t f'(0)."""
        real = self.real
        return new.f > real(self.start.f) + real(self.c1 * new.t * self.start.gtd)

    def flat_enough(self, new: _Point) -> bool:
        """Whether the slope at ``new`` has flattened enough: |f'(t)| <= c2 |f'(0)|."""
        return abs(new.gtd) <= -self.c2 * self.start.gtd


def strong_wolfe(evaluate: Evaluate, t: float, d: np.ndarray, f: float, g: np.ndarray,
                 gtd: float, c1: float = 1e-4, c2: float = 0.9,
                 tolerance_change: float = 1e-9, max_ls: int = 25
                 ) -> tuple[float, np.ndarray, float, int]:
    """A step length along d that satisfies the strong Wolfe conditions (Nocedal and Wright,
    Algorithms 3.5 and 3.6, as PyTorch and minFunc write them)::

        f(t) <= f(0) + c1 t f'(0)      (the cost goes down enough: Armijo)
        |f'(t)| <= c2 |f'(0)|          (the slope has flattened: not too short a step)

    f'(t) = g(t) . d, the slope along d: (n,) vectors. ``evaluate(t)`` gives the cost and
    flat gradient at x + t d; f, g, gtd are those at t = 0, and t the first step to try. First
    the steps grow (up to 10 times, by cubic interpolation) until an interval holds a good
    point, then the interval shrinks around it by cubic interpolation (the zoom). At most
    ``max_ls`` evaluations past the first.

    Returns the cost and gradient at the step found, the step length and the evaluations made.
    """
    search = _Search(evaluate, d, _Point(0.0, f, g, gtd), c1, c2, max_ls)
    bracket, done = _bracket(search, t)
    low = _zoom(search, bracket, done, float(np.abs(d).max()), tolerance_change)
    return low.f, low.g, low.t, search.evals


def _bracket(search: _Search, t: float) -> tuple[list[_Point], bool]:
    """The line search's first phase: longer steps until [previous, new] holds a point that
    satisfies the conditions (the cost went up, or the slope turned positive), or the new
    point itself does (done). Returns the bracket, and whether done."""
    prev, new = search.start, search.point(t)
    for ls_iter in range(search.max_ls):
        if search.armijo_fails(new) or (ls_iter > 1 and new.f >= prev.f):
            return [prev, new], False
        if search.flat_enough(new):
            return [new], True
        if new.gtd >= 0:
            return [prev, new], False
        # Still going down: a longer step, from the cubic through the last two points, at
        # least 1% further and at most 10 times as far.
        t = _cubic_minimum(prev.t, prev.f, prev.gtd, new.t, new.f, new.gtd,
                           bounds=(new.t + 0.01 * (new.t - prev.t), new.t * 10))
        prev, new = new, search.point(t)
    # max_ls evaluations past the first without an interval: between 0 and the last, unzoomed
    return [search.start, new], False


def _zoom(search: _Search, bracket: list[_Point], done: bool, d_norm: float,
          tolerance_change: float) -> _Point:
    """The line search's second phase: shrink the bracket around a point satisfying the
    strong Wolfe conditions. Returns the bracket's lower point."""
    low, high = (0, 1) if bracket[0].f <= bracket[-1].f else (1, 0)
    insufficient_progress = False
    # search.evals - 1: PyTorch's count, the evaluations past the first
    while not done and search.evals - 1 < search.max_ls:
        if abs(bracket[1].t - bracket[0].t) * d_norm < tolerance_change:
            break  # the interval is too small to tell its points apart
        a, b = bracket
        t = _cubic_minimum(a.t, a.f, a.gtd, b.t, b.f, b.gtd)
        t, insufficient_progress = _away_from_ends(t, a.t, b.t, insufficient_progress)
        new = search.point(t)
        if search.armijo_fails(new) or new.f >= bracket[low].f:
            # Not low enough: the new point ends the interval on the high side.
            bracket[high] = new
            low, high = (0, 1) if bracket[0].f <= bracket[1].f else (1, 0)
            continue
        if search.flat_enough(new):
            done = True
        elif new.gtd * (bracket[high].t - bracket[low].t) >= 0:
            bracket[high] = bracket[low]  # the minimum lies between the new point and low
        bracket[low] = new
    return bracket[low]


def _away_from_ends(t: float, a: float, b: float, insufficient: bool) -> tuple[float, bool]:
    """A trial step t of the zoom, moved to 10% of the interval [a, b] from its nearer end
    when it is closer than that and the last trial was too (or t is at an end): else the
    interval could shrink by almost nothing at each trial. Also whether this trial is one."""
    lo, hi = min(a, b), max(a, b)
    eps = 0.1 * (hi - lo)
    if min(hi - t, t - lo) >= eps:
        return t, False
    if not (insufficient or t >= hi or t <= lo):
        return t, True
    return (hi - eps if abs(t - hi) < abs(t - lo) else lo + eps), False


@dataclass
class Memory:
    """What `LBFGS` keeps between steps (PyTorch's names in brackets), for n parameters in
    all and k <= history_size remembered pairs:

    func_evals, n_iter: the closure's calls and the iterations, over every step so far;
    s, y: the last k steps x[i+1] - x[i] and gradient changes g[i+1] - g[i], (n,) each,
    oldest first (old_stps, old_dirs); rho: 1 / (y[i] . s[i]) (ro); H_diag: s . y / y . y of
    the newest pair, the scale of the starting inverse Hessian; d, t: the last direction (n,)
    and step length; g_prev, loss_prev: the gradient (n,) and cost where the last direction
    was computed (prev_flat_grad, prev_loss). d is None before the first iteration."""

    func_evals: int = 0
    n_iter: int = 0
    s: list[np.ndarray] = field(default_factory=list)
    y: list[np.ndarray] = field(default_factory=list)
    rho: list[float] = field(default_factory=list)
    H_diag: float = 1.0
    d: np.ndarray | None = None
    t: float | None = None
    g_prev: np.ndarray | None = None
    loss_prev: float | None = None

    def remember(self, s: np.ndarray, y: np.ndarray, history_size: int) -> None:
        """Add the pair (s, y) when the cost curves up along s (y . s > 1e-10, which keeps H
        positive definite), the oldest forgotten past ``history_size``."""
        ys = float(y @ s)
        if ys <= 1e-10:
            return
        while len(self.y) >= history_size:
            del self.s[0], self.y[0], self.rho[0]
        self.s.append(s)
        self.y.append(y)
        self.rho.append(1.0 / ys)
        self.H_diag = ys / float(y @ y)

    def copy(self) -> Memory:
        """A copy with lists of its own (`remember` changes them in place); the arrays, which
        are replaced, never changed, are shared."""
        return dataclasses.replace(self, s=list(self.s), y=list(self.y), rho=list(self.rho))


# The keys of the memory in a state dict, "memory." then these; the arrays' after the first
# iteration only (d is None before).
_COUNTS = ("func_evals", "n_iter")
_NUMBERS = ("t", "H_diag", "loss_prev")
_VECTORS = ("d", "g_prev")
_HISTORY = ("s", "y")


class LBFGS(Optimizer):
    """L-BFGS, as ``torch.optim.LBFGS``: each ``step(closure)`` runs up to ``max_iter``
    iterations, each a direction d = -H g from the remembered pairs (`two_loop_direction`) and
    a step along it, fixed (t = lr; the very first one min(1, 1 / sum |g|) lr, as the scale of
    H is not known yet) or found by the strong Wolfe line search (`strong_wolfe`). The
    iterations stop early when the gradient is small (max |g| <= tolerance_grad), the step or
    the cost change is small (<= tolerance_change), or ``max_eval`` evaluations were made::

        optimizer = optim.LBFGS(model.parameters(), line_search_fn="strong_wolfe")

        def closure():
            optimizer.zero_grad()
            J = nn.binary_cross_entropy_with_logits(model(X), Y)
            J.backward()
            return J

        for _ in range(10):
            J = optimizer.step(closure)  # the cost before the step's iterations

    The closure is called with the graph recorded (inside `gg.no_grad` too) and must return
    the cost, a scalar Tensor computed from the parameters (or its value as a number), after
    backward. Each step returns what the first call returned. The gradients are set to None
    before each call, so that each is the point's own even if the closure does not zero them
    (PyTorch's LBFGS adds them up then, over the step's evaluations).

    One parameter group only (the memory and the line search span every parameter at once);
    no weight decay (put ``nn.l2_penalty`` in the cost). The memory is kept in
    ``optimizer.memory`` (see `Memory`), and saved with the settings by ``state_dict``
    (``"memory.s"``: (k, n), ...), so that a run resumed from a file takes the same steps.

    Args:
        params: model.parameters() (or one group, ``[{"params": tensors, "lr": ...}]``).
        lr: the step length of the fixed step, the first trial of the line search (1: the
            Newton step, when H is right).
        max_iter: iterations per step.
        max_eval: closure calls per step (max_iter * 5 // 4 by default).
        tolerance_grad: stop when max |g| is at most this.
        tolerance_change: stop when the step (max |t d|) or the cost change is below this.
        history_size: the pairs (s, y) remembered, k.
        line_search_fn: None (the fixed step) or "strong_wolfe".
    """

    torch_options = ()  # PyTorch's LBFGS takes none of them
    hyper_names = ("max_iter", "max_eval", "tolerance_grad", "tolerance_change",
                   "history_size", "line_search_fn")
    max_iter = _Setting()
    max_eval = _Setting()
    tolerance_grad = _Setting()
    tolerance_change = _Setting()
    history_size = _Setting()
    line_search_fn = _Setting()

    def __init__(self, params: Iterable[Tensor] | Iterable[Mapping[str, Any]], lr: float = 1.0,
                 max_iter: int = 20, max_eval: int | None = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        if max_eval is None:
            max_eval = whole_number(max_iter, "max_iter", "LBFGS") * 5 // 4
        super().__init__(params, lr, None, max_iter=max_iter, max_eval=max_eval,
                         tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                         history_size=history_size, line_search_fn=line_search_fn)
        self.memory = Memory()
        # True when the last step's last iteration moved the parameters without evaluating
        # the cost there (the fixed step's, as PyTorch's): the next step's first evaluation
        # is that point's, and a NaN there needs other advice than a lower lr.
        self._moved_unevaluated = False

    def _add_groups(self, groups: list[tuple[dict[str, Any], list[Any]]]) -> None:
        n = len(self.param_groups) + len(groups)
        if n > 1:
            raise ArgumentError(
                f"LBFGS takes one parameter group, got {n}: its memory (the steps s and "
                "gradient changes y) and its line search span every parameter at once, with "
                "one lr. Give the tensors, LBFGS(model.parameters(), ...), or one group")
        super()._add_groups(groups)

    # -- the parameters and gradients as one vector ----------------------------------------
    def _dtype(self) -> np.dtype:
        return np.result_type(*(p.data.dtype for p in self.params))

    def _flat_params(self) -> np.ndarray:
        """Every parameter's values in one vector x: (n,), a copy."""
        return np.concatenate([p.data.ravel() for p in self.params])

    def _flat_grad(self) -> np.ndarray:
        """Every gradient in one vector g: (n,), zeros for a parameter without one."""
        dtype = self._dtype()
        return np.concatenate([np.zeros(p.data.size, dtype) if p.grad is None
                               else np.asarray(p.grad, dtype).ravel() for p in self.params])

    def _pieces(self, vector: np.ndarray) -> Iterable[tuple[Tensor, np.ndarray]]:
        """Each parameter with its part of ``vector``, in its shape."""
        offset = 0
        for p in self.params:
            size = p.data.size
            yield p, vector[offset:offset + size].reshape(p.data.shape)
            offset += size

    def _move(self, t: float, d: np.ndarray) -> None:
        """x = x + t d, in place unless a live graph still needs the old values."""
        for p, piece in self._pieces(d):
            _write(p, np.add, t * piece)

    def _set_params(self, x: np.ndarray) -> None:
        for p, piece in self._pieces(x):
            if p.data.flags.writeable:
                p.data[...] = piece
            else:
                p.data = piece.astype(p.data.dtype)

    # -- evaluating the closure --------------------------------------------------------------
    def _evaluate(self, closure: Callable[[], Any], where: str,
                  advice: str | None = None) -> tuple[Any, float, np.ndarray]:
        """Call the closure: what it returned, the cost as a float and the flat gradient.
        ``where`` says at which point, for the error of a cost or gradient of NaN or Inf, and
        ``advice`` what to do then (by default, for a point tried along the direction, to
        lower lr). The gradients are forgotten first, so that they are this point's even when
        the closure does not zero them (PyTorch's add up over the step's evaluations), and
        gradients left from before the step are not taken for the closure's."""
        zero_grads(self.params, set_to_none=True)
        returned = call_closure(closure, "LBFGS")
        loss = self._loss_value(returned)
        self._check_grads()
        if all(p.grad is None for p in self.params):
            raise ArgumentError(
                "LBFGS.step: after the closure no parameter has a gradient: call J.backward() "
                "in the closure (after optimizer.zero_grad()) before returning J")
        g = self._flat_grad()
        if not (math.isfinite(loss) and np.isfinite(g).all()):
            what = (f"the cost is {loss}" if not math.isfinite(loss)
                    else "the gradient holds NaN or Inf")
            if advice is None:
                advice = ("Lower lr (the step tried first is lr long along the direction, the "
                          "very first one lr / sum |g|), or keep the cost finite wherever the "
                          "parameters may go")
            raise AnomalyError(f"LBFGS.step: {what} {where}, which no step can go on from. "
                               f"{advice}; gg.detect_anomaly() shows the op that made it")
        return returned, loss, g

    @staticmethod
    def _loss_value(returned: Any) -> float:
        """The cost the closure returned, as a float, or an error saying what to return."""
        if isinstance(returned, Tensor):
            if returned.data.size != 1:
                raise ArgumentError(
                    f"LBFGS.step: the closure returned {describe(returned)}, not one number: "
                    "return the cost, a scalar (J = cost(...).mean(), or .sum()), whose "
                    "backward gives the gradients")
            if not returned.requires_grad:
                raise ArgumentError(
                    f"LBFGS.step: the closure returned {describe(returned)}, which does not "
                    "require grad, so its backward gives the parameters no gradient: compute it "
                    "from the parameters (outside a gg.no_grad block, not from .data), call "
                    "J.backward() and return J")
            return float(returned.data.item())
        if isinstance(returned, (int, float, np.floating, np.integer)) and not isinstance(
                returned, (bool, np.bool_)):
            return float(returned)
        if (isinstance(returned, np.ndarray) and returned.size == 1
                and returned.dtype.kind in "fiu"):
            return float(returned.item())
        raise GraphgradTypeError(
            f"LBFGS.step: the closure returned {setting_text(returned)}, not the cost: end it "
            "with J.backward(); return J")

    def _evaluate_at(self, closure: Callable[[], Any], x: np.ndarray, t: float, d: np.ndarray,
                     keep: bool) -> tuple[float, np.ndarray]:
        """The cost and flat gradient at x + t d, the parameters being at x: left at x + t d
        when ``keep`` (the fixed step), else put back at x (a trial of the line search), and
        put back at x when the evaluation fails."""
        self._move(t, d)
        try:
            _, loss, g = self._evaluate(closure, f"at step length t = {t:g} along the "
                                        "direction (the parameters are back where this "
                                        "iteration started)")
        except BaseException:
            self._set_params(x)
            raise
        if not keep:
            self._set_params(x)
        return loss, g

    # -- one step --------------------------------------------------------------------------
    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # type: ignore[override]
        """Up to ``max_iter`` iterations of L-BFGS, calling ``closure`` (which zeroes the
        gradients, computes the cost J, calls J.backward() and returns J) to evaluate the
        model; returns what its first call returned, the cost before the step. A call that
        fails (an error in the closure, a cost of NaN) leaves the parameters and the memory as
        the iteration found them, and a failed first call counts no step (t)."""
        if closure is None:
            raise GraphgradTypeError(
                "LBFGS.step needs a closure, a function that zeroes the gradients, computes the "
                "cost J, calls J.backward() and returns J: LBFGS evaluates the model several "
                "times per step. def closure(): optimizer.zero_grad(); J = cost(model(X), Y); "
                "J.backward(); return J; then optimizer.step(closure). (gg.fit calls step() "
                "without one: write the loop.)")
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        memory = self.memory
        returned, loss, g = self._evaluate(closure, "at the parameters the step started from",
                                           self._first_advice())
        self._moved_unevaluated = False
        self.t += 1  # a closure that fails at once counts no step, as in Optimizer.step
        evals = 1
        memory.func_evals += 1
        if np.abs(g).max() <= tolerance_grad:
            return returned  # already at a minimum (a stationary point)

        for n_iter in range(1, max_iter + 1):
            # The memory as this iteration found it: an evaluation that fails puts the
            # parameters back where the iteration began, and this back too, so that the next
            # step goes on as if it had not begun (after a failed first iteration ever, the
            # next is the first again, lr / sum |g| long, not lr).
            kept = memory.copy()
            memory.n_iter += 1
            d = self._direction(g, group["history_size"])
            memory.g_prev, memory.loss_prev = g, loss
            # The first step ever has no curvature to scale it: at most lr / sum |g| long.
            t = min(1.0, 1.0 / float(np.abs(g).sum())) * lr if memory.n_iter == 1 else lr
            memory.d, memory.t = d, t
            gtd = float(g @ d)  # the slope along d
            if gtd > -tolerance_change:
                break  # d does not go down (enough)
            try:
                loss, g, t, used = self._line_step(closure, d, t, loss, g, gtd, evals,
                                                   last=n_iter == max_iter)
            except BaseException:
                self.memory = kept
                raise
            memory.t = t
            evals += used
            memory.func_evals += used
            if (n_iter == max_iter or evals >= max_eval
                    or (used and np.abs(g).max() <= tolerance_grad)
                    or np.abs(d * t).max() <= tolerance_change
                    or abs(loss - memory.loss_prev) < tolerance_change):
                break
        return returned

    def _first_advice(self) -> str:
        """What to do when the cost is not finite at the first evaluation of a step: where the
        parameters are, before any point of this step was tried, so a lower lr cannot help."""
        if self._moved_unevaluated:
            return (
                "There the last iteration of the step before moved them, lr along its direction, "
                "without evaluating the cost (the fixed step leaves that to the next step, as "
                "PyTorch's), and they are still there, so a lower lr alone cannot help: put "
                "them back as they were before that step (model.load_state_dict and "
                "optimizer.load_state_dict of states saved before it: saved = "
                "model.state_dict(), optimizer.state_dict() before each step), set a lower lr "
                "(optimizer.lr = ...) and step again; or use line_search_fn='strong_wolfe', "
                "which evaluates every point it moves to")
        return ("The closure gave it before any step was tried, so a lower lr cannot help: "
                "give the parameters values where the cost is finite (the model's "
                "initialisation, a state loaded), and check the data the closure uses")

    def _direction(self, g: np.ndarray, history_size: int) -> np.ndarray:
        """This iteration's direction d: -g at the first iteration ever (memory emptied), else
        -H g from the memory, once the pair of the last step (s = t d, y = g - g_prev) is added
        to it."""
        memory = self.memory
        if memory.n_iter == 1:
            memory.s, memory.y, memory.rho, memory.H_diag = [], [], [], 1.0
            return -g
        memory.remember(memory.d * memory.t, g - memory.g_prev, history_size)
        return two_loop_direction(g, memory.s, memory.y, memory.rho, memory.H_diag)

    def _line_step(self, closure: Callable[[], Any], d: np.ndarray, t: float, loss: float,
                   g: np.ndarray, gtd: float, evals: int, last: bool
                   ) -> tuple[float, np.ndarray, float, int]:
        """Move the parameters along d: by the line search, or by t. Returns the cost and
        gradient there (as before for the fixed step's ``last`` iteration, whose evaluation
        the next step makes), the step length and the evaluations made."""
        line_search = self.param_groups[0]["line_search_fn"] == "strong_wolfe"
        if t == 0 and line_search:  # lr = 0 (a warm-up's): no step to search along
            return loss, g, t, 0
        if last and not line_search:  # the next step evaluates it: no call here, as in PyTorch
            self._move(t, d)
            self._moved_unevaluated = True
            return loss, g, t, 0
        x = self._flat_params()  # where a trial, or a failed evaluation, puts them back
        if not line_search:
            loss, g = self._evaluate_at(closure, x, t, d, keep=True)
            return loss, g, t, 1

        def evaluate(t: float) -> tuple[float, np.ndarray]:
            return self._evaluate_at(closure, x, t, d, keep=False)
        # PyTorch's line search keeps its own tolerance_change, 1e-9, whatever the group's.
        loss, g, t, used = strong_wolfe(evaluate, t, d, loss, g, gtd,
                                        max_ls=self.param_groups[0]["max_eval"] - evals)
        self._move(t, d)
        return loss, g, t, used

    # -- saving and restoring ----------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """`Optimizer.state_dict` (the settings, t, the parameters' shapes) and the memory
        (`Memory`): ``"memory.func_evals"``, ``"memory.n_iter"`` and, after the first
        iteration, ``"memory.s"`` and ``"memory.y"`` (k, n), ``"memory.rho"`` (k,),
        ``"memory.d"`` and ``"memory.g_prev"`` (n,), ``"memory.t"``, ``"memory.H_diag"``,
        ``"memory.loss_prev"``: arrays and numbers, ready for `gg.save`."""
        out = super().state_dict()
        memory = self.memory
        for key in _COUNTS:
            out[f"memory.{key}"] = getattr(memory, key)
        if memory.d is None:
            return out
        n = memory.d.size
        for key in _HISTORY:
            rows = getattr(memory, key)
            out[f"memory.{key}"] = np.array(rows) if rows else np.zeros((0, n), memory.d.dtype)
        out["memory.rho"] = np.array(memory.rho, dtype=np.float64)
        for key in (*_VECTORS, *_NUMBERS):
            value = getattr(memory, key)
            out[f"memory.{key}"] = value.copy() if isinstance(value, np.ndarray) else value
        return out

    def _own_keys(self, state: Mapping[str, Any]) -> list[str]:
        return [key for key in state if isinstance(key, str) and key.startswith("memory.")]

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue from ``state``, a saved `state_dict` (as `gg.load` reads it): the settings
        and the memory, checked (the parameters' shapes, the memory's sizes) before anything
        changes, so that the next steps are the ones the saved run would have taken."""
        if not isinstance(state, Mapping):
            raise not_a_state_error("LBFGS.load_state_dict", state, "optimizer")
        where = self._where(state)
        self._saved_groups(state)  # another optimizer's state is named as such first
        self._check_saved_params(state, where)
        memory = self._read_memory(state, where)
        super().load_state_dict(state)
        self.memory = memory

    def _read_memory(self, state: Mapping[str, Any], where: str) -> Memory:
        """The `Memory` a state dict holds, or an `ArgumentError` listing what does not fit."""
        problems: list[str] = []
        n = sum(scratch.size for scratch in self._scratch)
        arrays = [f"memory.{key}" for key in (*_HISTORY, "rho", *_VECTORS, *_NUMBERS)]
        given = [key for key in arrays if key in state]
        missing = [f"memory.{key}" for key in _COUNTS if f"memory.{key}" not in state]
        if given and len(given) < len(arrays):
            missing += [key for key in arrays if key not in state]
        if missing:
            problems.append(f"missing keys: {', '.join(missing)}")
        known = {*arrays, *(f"memory.{key}" for key in _COUNTS)}
        unexpected = [key for key in self._own_keys(state) if key not in known]
        if unexpected:
            problems.append(f"unexpected keys: {', '.join(unexpected)}")
        memory = Memory(*(_step_count(state.get(f"memory.{key}", 0), f"memory.{key}",
                                      problems) for key in _COUNTS))
        if given and not missing:
            self._read_arrays(state, memory, n, problems)
        if problems:
            raise ArgumentError(f"{where} does not fit:\n  " + "\n  ".join(problems))
        return memory

    def _read_arrays(self, state: Mapping[str, Any], memory: Memory, n: int,
                     problems: list[str]) -> None:
        """Fill ``memory`` with the state's vectors, history and numbers, each checked (a
        problem added to ``problems`` instead)."""
        dtype = self._dtype()
        values = {}
        for key in (*_HISTORY, "rho", *_VECTORS, *_NUMBERS):
            array = np.asarray(state[f"memory.{key}"])
            if array.dtype.kind not in "iuf":
                problems.append(f"memory.{key}: the state holds {array.dtype} values, not "
                                "numbers")
            values[key] = array
        if problems:
            return
        k = len(values["rho"]) if values["rho"].ndim == 1 else -1
        shapes = {"s": (k, n), "y": (k, n), "rho": (k,), "d": (n,), "g_prev": (n,),
                  "t": (), "H_diag": (), "loss_prev": ()}
        for key, shape in shapes.items():
            if values[key].shape != shape:
                problems.append(f"memory.{key}: shape {values[key].shape}, {_count(self.params)} "
                                f"of {n} values and {max(k, 0)} pairs need {shape}")
        if problems:
            return
        memory.s = [row.astype(dtype) for row in values["s"]]
        memory.y = [row.astype(dtype) for row in values["y"]]
        memory.rho = [float(r) for r in values["rho"]]
        memory.d = values["d"].astype(dtype)
        memory.g_prev = values["g_prev"].astype(dtype)
        memory.t, memory.H_diag, memory.loss_prev = (float(values[key]) for key in _NUMBERS)
