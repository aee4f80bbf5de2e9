"""LBFGS: the two-loop recursion against the BFGS update written with dense matrices; the
minima it reaches (Rosenbrock's, a quadratic's, logistic regression's) and how many
evaluations it takes; its state dict through gg.save and gg.load; its errors. PyTorch's LBFGS
step by step is in test_against_torch."""
import numpy as np
import pytest

import graphgrad as gg
from graphgrad import optim
from graphgrad.optim.lbfgs import _cubic_minimum, strong_wolfe, two_loop_direction

# Tight tolerances: the defaults (PyTorch's) stop a step once the cost changes by less than
# 1e-9, before the parameters are within 1e-6 of Rosenbrock's minimum.
TIGHT = {"tolerance_grad": 1e-12, "tolerance_change": 1e-20}


def rosenbrock(x):
    """sum_i 100 (x[i+1] - x[i]**2)**2 + (1 - x[i])**2, least (0) at x = (1, ..., 1)."""
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def closure_of(optimizer, cost, *params):
    def closure():
        optimizer.zero_grad()
        J = cost(*params)
        J.backward()
        return J
    return closure


def steps_to(optimizer, closure, done, most):
    """The steps taken until ``done()``, at most ``most`` (then None)."""
    for step in range(1, most + 1):
        optimizer.step(closure)
        if done():
            return step
    return None


# -- the direction -----------------------------------------------------------------------------
def _dense_bfgs_direction(g, s, y):
    """-H g with H from H_0 = (s.y / y.y of the newest pair) I by the BFGS update
    H <- (I - rho s y^T) H (I - rho y s^T) + rho s s^T of each pair, oldest first."""
    n = g.size
    H = (s[-1] @ y[-1]) / (y[-1] @ y[-1]) * np.eye(n)
    for s_i, y_i in zip(s, y):
        rho = 1.0 / (y_i @ s_i)
        V = np.eye(n) - rho * np.outer(y_i, s_i)
        H = V.T @ H @ V + rho * np.outer(s_i, s_i)
    return -H @ g


@pytest.mark.parametrize("k", [1, 3, 6])
def test_the_two_loop_recursion_is_minus_h_g_with_h_from_the_bfgs_updates(k):
    rng = np.random.default_rng(k)
    n = 6
    M = rng.standard_normal((n, n))
    hessian = M @ M.T + n * np.eye(n)  # y = B s for an SPD B: y.s > 0, as L-BFGS keeps
    s = [rng.standard_normal(n) for _ in range(k)]
    y = [hessian @ s_i for s_i in s]
    g = rng.standard_normal(n)
    rho = [1.0 / (y_i @ s_i) for s_i, y_i in zip(s, y)]
    H_diag = (s[-1] @ y[-1]) / (y[-1] @ y[-1])
    d = two_loop_direction(g, s, y, rho, H_diag)
    np.testing.assert_allclose(d, _dense_bfgs_direction(g, s, y), rtol=1e-10, atol=1e-12)
    assert d @ g < 0  # a descent direction: H is positive definite


def test_with_n_conjugate_steps_of_a_quadratic_the_direction_is_newtons_step():
    """BFGS keeps H y = s for every pair when the steps are conjugate (s_i^T B s_j = 0), as
    exact line searches on a quadratic make them: after n of them, H is B's inverse."""
    rng = np.random.default_rng(7)
    n = 4
    M = rng.standard_normal((n, n))
    hessian = M @ M.T + np.eye(n)
    # B's eigenvectors, of random lengths, are conjugate
    s = list(np.linalg.eigh(hessian)[1].T * rng.uniform(0.5, 2.0, (n, 1)))
    y = [hessian @ s_i for s_i in s]
    g = rng.standard_normal(n)
    d = two_loop_direction(g, s, y, [1 / (y_i @ s_i) for s_i, y_i in zip(s, y)],
                           (s[-1] @ y[-1]) / (y[-1] @ y[-1]))
    np.testing.assert_allclose(d, -np.linalg.solve(hessian, g), rtol=1e-9)


def test_the_line_search_finds_a_strong_wolfe_point_of_a_parabola():
    """f(t) = (t - 3)**2 along d = 1 from t = 0: with c2 = 0.5, a step of 1 is too short (its
    slope -4 is steeper than 0.5 times -6), so the search lengthens it, and the cubic through
    the two points, this parabola, has its minimum at t = 3."""
    d = np.array([1.0])

    def evaluate(t):
        return (t - 3.0) ** 2, np.array([2 * (t - 3.0)])

    f, g, t, evals = strong_wolfe(evaluate, 1.0, d, 9.0, np.array([-6.0]), -6.0, c2=0.5)
    assert t == pytest.approx(3.0)
    assert f == pytest.approx(0.0) and evals == 2
    assert f <= 9.0 + 1e-4 * t * -6.0 and abs(g @ d) <= 0.5 * 6.0
    # with PyTorch's c2 = 0.9, t = 1 is flat enough already: one evaluation
    assert strong_wolfe(evaluate, 1.0, d, 9.0, np.array([-6.0]), -6.0)[2:] == (1.0, 1)



def test_the_line_search_along_a_straight_line_lengthens_the_step_tenfold():
    """f(t) = -t, its slope -1 everywhere: the cubic through two points of a line is that
    line, lowest at the longest step allowed, 10 times the last (as PyTorch's division by 0
    gives: at = +inf, then bounded); it divided by zero (g2 - g1 + 2 d2 = 0). After max_ls = 3
    longer steps, the longest is the lowest point."""
    d = np.array([1.0])

    def evaluate(t):
        return -t, np.array([-1.0])

    f, g, t, evals = strong_wolfe(evaluate, 1.0, d, 0.0, np.array([-1.0]), -1.0, max_ls=3)
    assert (f, t, evals) == (-1000.0, 1000.0, 4)
    assert _cubic_minimum(0.0, 0.0, -1.0, 1.0, -1.0, -1.0) == 1.0  # within [x1, x2]
    assert _cubic_minimum(1.0, -1.0, -1.0, 0.0, 0.0, -1.0) == 1.0  # x1 > x2 alike
    assert _cubic_minimum(0.0, 0.0, 1.0, 1.0, 1.0, 1.0, bounds=(-2.0, 5.0)) == -2.0  # uphill
    # one point twice: no interval to fit, the middle of the bounds
    assert _cubic_minimum(1.0, 0.0, -1.0, 1.0, 0.0, -1.0, bounds=(1.0, 3.0)) == 2.0


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
def test_a_step_of_length_0_leaves_the_parameters(line_search):
    """lr = 0, as a warm-up may set it: the step is 0 long, the parameters stay and the step
    ends (max |t d| = 0), after one evaluation more with the fixed step (PyTorch's count);
    the line search divided by zero (a cubic through t = 0 twice)."""
    x = gg.Tensor(np.array([3.0, -1.0]), requires_grad=True)
    opt = optim.LBFGS([x], line_search_fn=line_search)
    opt.lr = 0.0
    closure = closure_of(opt, lambda x: ((x - 1.0) ** 2).sum(), x)
    assert opt.step(closure).item() == 8.0
    np.testing.assert_array_equal(x.data, [3.0, -1.0])
    assert opt.memory.func_evals == (2 if line_search is None else 1)


# -- minima --------------------------------------------------------------------------------------
# (dimension, line search, the most steps of 20 iterations to be within 1e-6 of (1, ..., 1)).
# Measured: with the fixed step, 4 steps in 2-D (64 iterations, 64 evaluations) and 6 in 10-D
# (120, 120); with strong Wolfe, 2 steps in 2-D (39 iterations, 48 evaluations) and 4 in 10-D
# (76, 95).
@pytest.mark.parametrize("n, line_search, most", [
    (2, None, 4), (10, None, 8), (2, "strong_wolfe", 2), (10, "strong_wolfe", 4)])
def test_rosenbrock_reaches_its_minimum(n, line_search, most):
    x0 = np.tile([-1.2, 1.0], n // 2)  # the classic start
    x = gg.Tensor(x0, requires_grad=True)
    opt = optim.LBFGS([x], line_search_fn=line_search, **TIGHT)
    steps = steps_to(opt, closure_of(opt, rosenbrock, x),
                     lambda: np.abs(x.data - 1).max() < 1e-6, most)
    assert steps is not None, f"not within 1e-6 after {most} steps: {x.data}"
    assert rosenbrock(x).item() < 1e-12
    # the line search's first trial, t = lr = 1, is the quasi-Newton step, seldom refused
    assert opt.memory.func_evals <= (1.25 if line_search else 1.1) * opt.memory.n_iter + most


def _quadratic(n=5, seed=0):
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((n, n))
    return M @ M.T + n * np.eye(n), rng.standard_normal(n)


@pytest.mark.parametrize("line_search, iterations", [(None, 40), ("strong_wolfe", 20)])
def test_a_convex_quadratic_is_solved(line_search, iterations):
    """1/2 x^T A x - b^T x, A SPD (n = 5): least at A x = b. With the whole history (5 pairs)
    and strong Wolfe, 15 iterations (18 evaluations) to 1e-9 from x = 0; 29 with the fixed
    step (the first is 1 / sum |g| long, before any curvature is known)."""
    A, b = _quadratic()
    x = gg.Tensor(np.zeros(5), requires_grad=True)
    opt = optim.LBFGS([x], max_iter=100, history_size=5, line_search_fn=line_search, **TIGHT)
    opt.step(closure_of(opt, lambda x: 0.5 * (x @ (A @ x)) - b @ x, x))
    np.testing.assert_allclose(x.data, np.linalg.solve(A, b), rtol=1e-8, atol=1e-9)
    assert opt.memory.n_iter <= iterations
    assert len(opt.memory.s) == 5  # the memory is full: at most history_size pairs


def _blobs(m, rng):
    """The course's tutorial 2 data: X (2, m), Y (1, m), two clouds around +-(1.5, 1)."""
    Y = rng.integers(0, 2, size=(1, m)).astype(np.float64)
    centers = np.where(Y == 1, 1.0, -1.0) * np.array([[1.5], [1.0]])
    return centers + rng.standard_normal((2, m)), Y


X_BLOBS, Y_BLOBS = _blobs(300, np.random.default_rng(1))


def logistic_cost(w, b):
    """J = -mean(Y log A + (1 - Y) log(1 - A)), A = sigmoid(w.T X + b)."""
    A = gg.sigmoid(w.T @ X_BLOBS + b)
    return -(Y_BLOBS * gg.log(A) + (1 - Y_BLOBS) * gg.log(1 - A)).mean()


def _logistic_params():
    return (gg.Tensor(np.zeros((2, 1)), requires_grad=True, name="w"),
            gg.Tensor(0.0, requires_grad=True, name="b"))


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
def test_logistic_regression_reaches_gradient_descents_cost_in_far_fewer_evaluations(
        line_search):
    """Tutorial 2's 2000 iterations of gradient descent (alpha = 0.5) reach J = 0.0573586;
    one LBFGS step reaches 0.0573538, the minimum, in 14 evaluations, with either step."""
    w, b = _logistic_params()
    sgd = optim.SGD([w, b], lr=0.5)
    for _ in range(2000):
        sgd.step(closure_of(sgd, logistic_cost, w, b))
    descended = logistic_cost(w, b).item()
    w, b = _logistic_params()
    opt = optim.LBFGS([w, b], line_search_fn=line_search)
    first = opt.step(closure_of(opt, logistic_cost, w, b))
    assert first.item() == pytest.approx(np.log(2))  # step returns the cost before it
    assert logistic_cost(w, b).item() < descended
    assert opt.memory.func_evals <= 20
    # the minimum: the gradient is 0 there
    J = logistic_cost(w, b)
    J.backward()
    assert np.abs(w.grad).max() < 1e-5 and abs(b.grad) < 1e-5


def test_the_docstrings_loop_trains_a_linear_layer_to_the_same_minimum():
    """nn.Linear(2, 1) with binary_cross_entropy_with_logits is the same logistic regression,
    batch first: 0.0573538 after one step (14 evaluations), as w and b above."""
    from graphgrad import nn
    model = nn.Linear(2, 1, rng=0)
    X, Y = X_BLOBS.T, Y_BLOBS.T  # (m, n_x), (m, 1)
    optimizer = optim.LBFGS(model.parameters(), line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        J = nn.binary_cross_entropy_with_logits(model(X), Y)
        J.backward()
        return J
    for _ in range(2):
        optimizer.step(closure)
    w, b = _logistic_params()
    fitted = optim.LBFGS([w, b])
    fitted.step(closure_of(fitted, logistic_cost, w, b))
    assert closure().item() == pytest.approx(logistic_cost(w, b).item(), rel=1e-9)
    np.testing.assert_allclose(model.W.data, w.data.T, rtol=1e-5)


# -- the state dict --------------------------------------------------------------------------------
def _rosenbrock_run(steps, line_search, state=None, start=(-1.2, 1.0, -1.2, 1.0)):
    x = gg.Tensor(np.array(start), requires_grad=True)
    opt = optim.LBFGS([x], max_iter=4, history_size=3, line_search_fn=line_search)
    if state is not None:
        opt.load_state_dict(state)
    closure = closure_of(opt, rosenbrock, x)
    losses = [opt.step(closure).item() for _ in range(steps)]
    return x.data.copy(), losses, opt


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
def test_a_run_resumed_from_a_saved_state_takes_the_same_steps(line_search, tmp_path):
    """history_size 3 < the iterations before the save (12): the memory has forgotten pairs."""
    whole, losses, unbroken = _rosenbrock_run(6, line_search)
    x, first_losses, first = _rosenbrock_run(3, line_search)
    state = first.state_dict()
    assert state["memory.s"].shape == state["memory.y"].shape == (3, 4)
    assert state["memory.n_iter"] == first.memory.n_iter > 3
    gg.save(state, tmp_path / "lbfgs.npz")
    resumed, later_losses, second = _rosenbrock_run(3, line_search, gg.load(tmp_path / "lbfgs.npz"),
                                                    start=x)
    np.testing.assert_array_equal(resumed, whole)
    assert first_losses + later_losses == losses
    assert second.memory.func_evals == unbroken.memory.func_evals
    assert second.line_search_fn == line_search and second.t == 6


def test_a_state_saved_before_the_first_iteration_loads():
    """An LBFGS that has not stepped has no direction yet: its state has the counts only."""
    x = gg.Tensor(np.zeros(3), requires_grad=True)
    state = optim.LBFGS([x]).state_dict()
    assert sorted(k for k in state if k.startswith("memory.")) == ["memory.func_evals",
                                                                   "memory.n_iter"]
    other = optim.LBFGS([gg.Tensor(np.ones(3), requires_grad=True)], lr=0.5)
    other.load_state_dict(state)
    assert other.lr == 1.0 and other.memory.d is None


def test_a_state_that_does_not_fit_is_refused_and_changes_nothing(tmp_path):
    _, _, opt = _rosenbrock_run(2, "strong_wolfe")
    state = opt.state_dict()
    x = gg.Tensor(np.zeros(4), requires_grad=True)
    fresh = optim.LBFGS([x], lr=0.5)
    cut = {k: v for k, v in state.items() if k != "memory.rho"}
    with pytest.raises(gg.ArgumentError, match="missing keys: memory.rho"):
        fresh.load_state_dict(cut)
    short = {**state, "memory.d": state["memory.d"][:3]}
    with pytest.raises(gg.ArgumentError, match=r"memory.d: shape \(3,\).*need \(4,\)"):
        fresh.load_state_dict(short)
    with pytest.raises(gg.ArgumentError, match="unexpected keys: memory.al"):
        fresh.load_state_dict({**state, "memory.al": np.zeros(3)})
    assert fresh.lr == 0.5 and fresh.memory.d is None  # nothing was loaded
    with pytest.raises(gg.ArgumentError, match=r"parameter 0 was \(4,\), here it is"):
        optim.LBFGS([gg.Tensor(np.zeros(5), requires_grad=True)]).load_state_dict(state)
    with pytest.raises(gg.ArgumentError, match="is from Adam"):
        fresh.load_state_dict(optim.Adam([x]).state_dict())


# -- settings, groups, errors -----------------------------------------------------------------
def test_settings_are_pytorchs_and_checked():
    x = gg.Tensor(np.zeros(3), requires_grad=True)
    opt = optim.LBFGS([x], max_iter=8)
    assert (opt.lr, opt.max_iter, opt.max_eval, opt.history_size, opt.line_search_fn) == (
        1.0, 8, 10, 100, None)  # max_eval: max_iter * 5 // 4
    assert repr(opt) == ("LBFGS(1 parameter, lr=1, max_iter=8, max_eval=10, tolerance_grad=1e-07, "
                         "tolerance_change=1e-09, history_size=100)")
    opt.param_groups[0]["line_search_fn"] = "strong_wolfe"
    assert repr(opt).endswith("line_search_fn='strong_wolfe')")
    with pytest.raises(gg.ArgumentError, match="line_search_fn must be None .* or 'strong_wolfe'"):
        optim.LBFGS([x], line_search_fn="armijo")
    with pytest.raises(gg.ArgumentError, match="max_iter must be a whole number of at least 1"):
        optim.LBFGS([x], max_iter=2.5)
    with pytest.raises(gg.ArgumentError, match="history_size must be a whole number"):
        opt.history_size = 0
    with pytest.raises(gg.ArgumentError, match=r"tolerance_grad must be >= 0"):
        optim.LBFGS([x], tolerance_grad=-1.0)
    with pytest.raises(AttributeError, match="LBFGS has no setting weight_decay"):
        _ = opt.weight_decay
    with pytest.raises(gg.ArgumentError, match="unknown setting 'weight_decay'"):
        optim.LBFGS([{"params": [x], "weight_decay": 0.1}])


def test_one_group_only():
    x, y = (gg.Tensor(np.zeros(2), requires_grad=True) for _ in range(2))
    with pytest.raises(gg.ArgumentError, match="LBFGS takes one parameter group, got 2"):
        optim.LBFGS([{"params": [x]}, {"params": [y], "lr": 0.1}])
    opt = optim.LBFGS([{"params": [x], "lr": 0.5}])  # one group with its own lr: as PyTorch
    assert opt.param_groups[0]["lr"] == 0.5
    with pytest.raises(gg.ArgumentError, match="LBFGS takes one parameter group, got 2"):
        opt.add_param_group({"params": [y]})
    assert len(opt.param_groups) == 1


def test_a_missing_or_wrong_closure_is_explained():
    x = gg.Tensor(np.array([3.0, -1.0]), requires_grad=True, name="x")
    opt = optim.LBFGS([x])
    with pytest.raises(gg.GraphgradTypeError, match=r"LBFGS.step needs a closure.*J.backward"):
        opt.step()
    with pytest.raises(gg.GraphgradTypeError, match="closure must be a function"):
        opt.step(5)

    def no_return():
        opt.zero_grad()
        (x * x).sum().backward()
    with pytest.raises(gg.GraphgradTypeError, match="closure returned None, not the cost"):
        opt.step(no_return)

    def not_a_scalar():
        opt.zero_grad()
        J = x * x
        J.sum().backward()
        return J
    with pytest.raises(gg.ArgumentError, match=r"returned .*\(2,\).*not one number"):
        opt.step(not_a_scalar)

    def without_grad():
        opt.zero_grad()
        (x * x).sum().backward()
        with gg.no_grad():
            return (x * x).sum()
    with pytest.raises(gg.ArgumentError, match="does not require grad"):
        opt.step(without_grad)

    def no_backward():
        opt.zero_grad()
        return (x * x).sum()
    with pytest.raises(gg.ArgumentError, match="no parameter has a gradient: call J.backward"):
        opt.step(no_backward)
    np.testing.assert_array_equal(x.data, [3.0, -1.0])
    assert isinstance(gg.ArgumentError("x"), gg.GraphgradError)


def test_the_closure_runs_with_grad_enabled_and_may_return_a_number():
    x = gg.Tensor(np.array([3.0, -1.0]), requires_grad=True)
    opt = optim.LBFGS([x], line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        J = ((x - 1.0) ** 2).sum()
        J.backward()
        return J.item()
    with gg.no_grad():
        assert opt.step(closure) == 8.0
    np.testing.assert_allclose(x.data, [1.0, 1.0], atol=1e-8)


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
def test_a_nan_cost_is_refused_and_the_parameters_go_back(line_search):
    """sqrt(x) is NaN for x < 0: from x = 4, g = 4.25, the first step, lr / sum |g| long with
    lr = 10, lands at x = -6. With a smaller lr the next step goes on from x = 4."""
    x = gg.Tensor(np.array([4.0]), requires_grad=True)
    opt = optim.LBFGS([x], lr=10.0, line_search_fn=line_search)
    closure = closure_of(opt, lambda x: (gg.sqrt(x) + (x - 2.0) ** 2).sum(), x)
    with np.errstate(invalid="ignore"), pytest.raises(
            gg.AnomalyError, match=r"LBFGS.step: the cost is nan at step length t = 2.35294 along"):
        opt.step(closure)
    np.testing.assert_array_equal(x.data, [4.0])
    opt.lr = 0.1
    opt.step(closure)
    assert 1.8 < x.data[0] < 4.0  # on the way to the minimum, x = 1.83


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
def test_a_refused_first_iteration_leaves_the_next_step_the_first(line_search):
    """From x = 4, g = 12.25: the first step, lr / sum |g| long, goes to 4 - lr, NaN for
    lr = 10. The iteration refused, the memory is as before it: the next step, with lr = 1 as
    the message says, is again lr / sum |g| long, to x = 3, as a new optimizer's first step.
    It was taken as a later iteration's, lr long (to 4 - 12.25), and NaN again."""
    def cost(x):
        return (gg.sqrt(x) + 3 * (x - 2.0) ** 2).sum()
    x = gg.Tensor(np.array([4.0]), requires_grad=True)
    opt = optim.LBFGS([x], lr=10.0, max_iter=2, line_search_fn=line_search)
    closure = closure_of(opt, cost, x)
    with np.errstate(invalid="ignore"), pytest.raises(gg.AnomalyError, match="the cost is nan"):
        opt.step(closure)
    assert (opt.memory.n_iter, opt.memory.d, opt.memory.s) == (0, None, [])
    opt.lr = 1.0
    opt.step(closure)
    fresh = gg.Tensor(np.array([4.0]), requires_grad=True)
    opt_fresh = optim.LBFGS([fresh], lr=1.0, max_iter=2, line_search_fn=line_search)
    opt_fresh.step(closure_of(opt_fresh, cost, fresh))
    np.testing.assert_array_equal(x.data, fresh.data)
    assert opt.memory.n_iter == opt_fresh.memory.n_iter


def test_a_step_that_fails_goes_on_as_if_it_had_not_been_taken():
    """A closure that fails in the second step's first iteration (an error of the user's):
    the parameters are back where it began and the memory as the first step left it, and
    the next steps are the ones a run without the failed step takes, their iterations counted
    alike."""
    def run(fail_at):
        x = gg.Tensor(np.array([-1.2, 1.0, 0.5]), requires_grad=True)
        opt = optim.LBFGS([x], max_iter=2, history_size=3)
        evaluate = closure_of(opt, rosenbrock, x)
        calls = []

        def closure():
            calls.append(1)
            if len(calls) == fail_at:
                raise RuntimeError("the data went away")
            return evaluate()
        return x, opt, closure
    x, opt, closure = run(fail_at=None)
    x_failed, opt_failed, closure_failed = run(fail_at=4)  # 2 evaluations per step
    opt.step(closure)
    opt_failed.step(closure_failed)
    with pytest.raises(RuntimeError, match="went away"):
        opt_failed.step(closure_failed)
    assert opt_failed.t == 2  # its first evaluation was made
    for _ in range(3):
        opt.step(closure)
        opt_failed.step(closure_failed)
        np.testing.assert_array_equal(x_failed.data, x.data)
        assert opt_failed.memory.n_iter == opt.memory.n_iter


def test_a_closure_that_fails_at_once_counts_no_step():
    """As SGD's step(closure): t counts the steps that began, whose first evaluation was made."""
    x = gg.Tensor(np.array([3.0, -1.0]), requires_grad=True)
    opt = optim.LBFGS([x])

    def closure():
        raise RuntimeError("the data went away")
    with pytest.raises(RuntimeError, match="went away"):
        opt.step(closure)
    assert (opt.t, opt.memory.func_evals) == (0, 0)
    np.testing.assert_array_equal(x.data, [3.0, -1.0])


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
def test_a_closure_without_zero_grad_gets_each_points_own_gradient(line_search):
    """The gradients are forgotten before each call of the closure: one that does not call
    optimizer.zero_grad() takes the same steps as one that does. They were added up over the
    step's evaluations (PyTorch's too), a gradient of the points tried so far: the fixed
    step went to x = (450, -170, 15702), the line search to another point."""
    def run(zero):
        x = gg.Tensor(np.array([-1.2, 1.0, 0.5]), requires_grad=True)
        opt = optim.LBFGS([x], line_search_fn=line_search, max_iter=5)

        def closure():
            if zero:
                opt.zero_grad()
            J = rosenbrock(x)
            J.backward()
            return J
        for _ in range(3):
            opt.step(closure)
        return x.data
    np.testing.assert_array_equal(run(zero=False), run(zero=True))


def test_a_closure_without_backward_is_refused_though_gradients_were_there():
    """Gradients left by a backward before the step are not the closure's: a closure that
    does not call J.backward() is refused, where the step used them at every point tried."""
    x = gg.Tensor(np.array([3.0, -1.0]), requires_grad=True)
    opt = optim.LBFGS([x])
    ((x - 1.0) ** 2).sum().backward()

    def no_backward():
        return ((x - 1.0) ** 2).sum()
    with pytest.raises(gg.ArgumentError, match="no parameter has a gradient: call J.backward"):
        opt.step(no_backward)
    np.testing.assert_array_equal(x.data, [3.0, -1.0])


def test_at_a_float32_minimum_the_line_search_takes_its_first_step():
    """float32 parameters at the minimum of (x - 0.5)**2 + x**4 after a step: the cost no
    longer changes in float32, and the Armijo test, in float32 as PyTorch's, lets the first
    trial pass: one evaluation per step's iteration, as PyTorch (8, 9, ..., 12 evaluations for
    7, 8, ..., 11 iterations). In float64 it asked for a decrease of 1e-12 on a cost of 0.21,
    which float32 cannot show, and each step took 10 evaluations to end at t = 0."""
    rng = np.random.default_rng(0)
    x = gg.Tensor(rng.standard_normal((2, 3)).astype(np.float32), requires_grad=True)
    opt = optim.LBFGS([x], line_search_fn="strong_wolfe")
    closure = closure_of(opt, lambda x: (((x - 0.5) ** 2) + x ** 4).sum(), x)
    opt.step(closure)
    first = (opt.memory.func_evals, opt.memory.n_iter)
    for _ in range(4):
        opt.step(closure)
    assert opt.memory.func_evals - first[0] == opt.memory.n_iter - first[1] == 4
    assert x.dtype == np.float32


def test_fit_refuses_lbfgs_before_training_begins_and_shows_the_loop(capsys):
    """fit steps without a closure: given LBFGS, it is refused before the progress bar starts
    or the model runs, with the loop to write instead. It failed at the first step, with the
    bar drawn and a forward pass made."""
    model = gg.nn.Linear(2, 1, rng=0)
    calls = []
    model.register_forward_hook(lambda module, inputs, output: calls.append(1))
    opt = optim.LBFGS(model.parameters())
    X = np.random.default_rng(0).standard_normal((10, 2))
    with pytest.raises(gg.GraphgradTypeError, match=r"(?s)fit: LBFGS needs step\(closure\).*"
                       r"def closure\(\):.*optimizer.step\(closure\)"):
        gg.fit(model, gg.nn.mse, opt, (X, X.sum(axis=1, keepdims=True)), epochs=2)
    assert calls == [] and opt.t == 0
    assert "fit:" not in capsys.readouterr().err  # no progress bar was drawn


def test_a_nan_where_the_fixed_steps_last_iteration_went_says_to_put_the_parameters_back():
    """With the fixed step, a step's last iteration moves the parameters without evaluating
    the cost there (the next step does, as PyTorch's): from x = 4 (g = 12.25), lr = 10 moves
    to x = -6, where sqrt is NaN, found by the next step's first evaluation. The parameters
    stay there, so the message's "lower lr" could not help: it says what happened and to put
    them back from a state saved before the step, which, with a lower lr, goes on."""
    def cost(x):
        return (gg.sqrt(x) + 3 * (x - 2.0) ** 2).sum()
    x = gg.Tensor(np.array([4.0]), requires_grad=True)
    opt = optim.LBFGS([x], lr=10.0, max_iter=1)
    closure = closure_of(opt, cost, x)
    saved = {"x": x.data.copy()}, opt.state_dict()
    opt.step(closure)
    np.testing.assert_allclose(x.data, [-6.0], rtol=1e-14)
    with np.errstate(invalid="ignore"), pytest.raises(gg.AnomalyError) as refused:
        opt.step(closure)
    message = str(refused.value)
    assert "the cost is nan at the parameters the step started from" in message
    assert "the last iteration of the step before moved them" in message
    assert "load_state_dict" in message and "strong_wolfe" in message
    np.testing.assert_allclose(x.data, [-6.0], rtol=1e-14)  # a lower lr alone starts there
    x.data[...] = saved[0]["x"]
    opt.load_state_dict(saved[1])
    opt.lr = 1.0
    opt.step(closure)
    np.testing.assert_allclose(x.data, [3.0], rtol=1e-14)  # the first step, lr / sum |g| long


def test_a_nan_at_the_first_evaluation_ever_does_not_advise_a_lower_lr():
    """The parameters the first step starts from give NaN: no step was tried, so the message
    says to give them a finite cost, not to lower lr."""
    x = gg.Tensor(np.array([-1.0]), requires_grad=True)
    opt = optim.LBFGS([x])
    with np.errstate(invalid="ignore"), pytest.raises(gg.AnomalyError) as refused:
        opt.step(closure_of(opt, lambda x: gg.sqrt(x).sum(), x))
    message = str(refused.value)
    assert "at the parameters the step started from" in message
    assert "Lower lr" not in message and "before any step was tried" in message
