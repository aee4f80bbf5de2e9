"""Optimizers against the course's update formulas computed by hand over several steps (AdamW
against PyTorch's); their state dicts; robustness to read-only parameters; learning-rate
schedules."""
import copy
import math
import os

import numpy as np
import optim_runs
import pytest

import graphgrad as gg
from graphgrad import nn, optim
from graphgrad.optim import clipping

RNG = np.random.default_rng(11)
W0 = RNG.standard_normal((3, 2))
b0 = RNG.standard_normal(3)
GRADS = [(RNG.standard_normal((3, 2)), RNG.standard_normal(3)) for _ in range(4)]


def _run(make, steps=GRADS):
    """Apply ``steps`` of given gradients (dW, db) with the optimizer ``make(params)``."""
    return optim_runs.run(make, (W0, b0), steps)


def test_gradient_descent():
    lr = 0.1
    W, b, _ = _run(lambda p: optim.SGD(p, lr=lr))
    np.testing.assert_allclose(W, W0 - lr * sum(g for g, _ in GRADS), rtol=1e-12)
    np.testing.assert_allclose(b, b0 - lr * sum(g for _, g in GRADS), rtol=1e-12)


def test_momentum_is_the_course_exponentially_weighted_average():
    lr, beta = 0.1, 0.9
    W_got, b_got, opt = _run(lambda p: optim.SGD(p, lr=lr, momentum=beta))
    W, b = W0.copy(), b0.copy()
    v_dW, v_db = np.zeros_like(W), np.zeros_like(b)  # the course's initialize_velocity
    for dW, db in GRADS:  # the course's update_parameters_with_momentum
        v_dW = beta * v_dW + (1 - beta) * dW
        v_db = beta * v_db + (1 - beta) * db
        W = W - lr * v_dW
        b = b - lr * v_db
    np.testing.assert_allclose(W_got, W, rtol=1e-12)
    np.testing.assert_allclose(b_got, b, rtol=1e-12)
    np.testing.assert_allclose(opt.state[0]["v"], v_dW, rtol=1e-12)


def test_momentum_equals_pytorch_form_with_scaled_learning_rate():
    """PyTorch: v = mu v + g, W -= lr v. The same path as the course's with lr = alpha (1-beta)."""
    alpha, beta = 0.5, 0.9
    W_got, _, _ = _run(lambda p: optim.SGD(p, lr=alpha, momentum=beta))
    W, v = W0.copy(), np.zeros_like(W0)
    for dW, _ in GRADS:
        v = beta * v + dW
        W = W - alpha * (1 - beta) * v
    np.testing.assert_allclose(W_got, W, rtol=1e-12)


def test_rmsprop():
    lr, beta, eps = 0.01, 0.9, 1e-8
    W_got, _, _ = _run(lambda p: optim.RMSprop(p, lr=lr, beta=beta, eps=eps))
    W, s = W0.copy(), np.zeros_like(W0)
    for dW, _ in GRADS:
        s = beta * s + (1 - beta) * dW ** 2
        W = W - lr * dW / (np.sqrt(s) + eps)
    np.testing.assert_allclose(W_got, W, rtol=1e-12)


def test_adam_is_the_course_update_with_bias_correction():
    lr, beta1, beta2, eps = 0.01, 0.9, 0.999, 1e-8
    W_got, b_got, opt = _run(lambda p: optim.Adam(p, lr=lr))
    assert (opt.beta1, opt.beta2, opt.eps) == (beta1, beta2, eps)
    W, b = W0.copy(), b0.copy()
    v = {"dW": np.zeros_like(W), "db": np.zeros_like(b)}
    s = {"dW": np.zeros_like(W), "db": np.zeros_like(b)}
    for t, (dW, db) in enumerate(GRADS, start=1):  # the course's update_parameters_with_adam
        params = {"dW": W, "db": b}
        grads = {"dW": dW, "db": db}
        for key in ("dW", "db"):
            v[key] = beta1 * v[key] + (1 - beta1) * grads[key]
            s[key] = beta2 * s[key] + (1 - beta2) * grads[key] ** 2
            v_corrected = v[key] / (1 - beta1 ** t)
            s_corrected = s[key] / (1 - beta2 ** t)
            params[key] = params[key] - lr * v_corrected / (np.sqrt(s_corrected) + eps)
        W, b = params["dW"], params["db"]
    np.testing.assert_allclose(W_got, W, rtol=1e-12)
    np.testing.assert_allclose(b_got, b, rtol=1e-12)
    assert opt.t == len(GRADS)


def test_weight_decay_equals_the_l2_penalty_gradient():
    """weight_decay = lambda / m gives the step of the course's L2-regularised cost."""
    lambd, m, lr = 0.7, 10, 0.1
    X = RNG.standard_normal((m, 2))
    a, b = nn.Linear(2, 3, rng=0), nn.Linear(2, 3, rng=0)
    (a(X) ** 2).mean().backward()
    optim.SGD([a.W], lr=lr, weight_decay=lambd / m).step()
    J = (b(X) ** 2).mean() + nn.l2_penalty([b.W], lambd, m)
    J.backward()
    optim.SGD([b.W], lr=lr).step()
    np.testing.assert_allclose(a.W.data, b.W.data, rtol=1e-12)


def test_gradients_are_never_modified_and_missing_ones_are_skipped():
    W = gg.Tensor(W0.copy(), requires_grad=True)
    unused = gg.Tensor(b0.copy(), requires_grad=True)
    opt = optim.Adam([W, unused], lr=0.1, weight_decay=0.1)
    (W * 2.0).sum().backward()
    grad = W.grad.copy()
    opt.step()
    np.testing.assert_array_equal(W.grad, grad)
    np.testing.assert_array_equal(unused.data, b0)


STEPPERS = {
    "SGD": lambda p: optim.SGD(p, lr=0.1), "momentum": lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
    "decay": lambda p: optim.SGD(p, lr=0.1, weight_decay=0.1),
    "RMSprop": lambda p: optim.RMSprop(p, lr=0.1), "Adam": lambda p: optim.Adam(p, lr=0.1),
    "AdamW": lambda p: optim.AdamW(p, lr=0.1),
    "Adamax": lambda p: optim.Adamax(p, lr=0.1), "NAdam": lambda p: optim.NAdam(p, lr=0.1),
    "RAdam": lambda p: optim.RAdam(p, lr=0.1), "Adadelta": lambda p: optim.Adadelta(p),
    "Rprop": lambda p: optim.Rprop(p, lr=0.1), "ASGD": lambda p: optim.ASGD(p, lr=0.1),
}


@pytest.mark.parametrize("bad, error", [
    (np.ones((3, 3)), gg.ShapeError),  # numpy raised, after W was updated
    (np.ones((3, 1)), gg.ShapeError),  # broadcast into b's step without a word
    (np.float64(2.0), gg.ShapeError),  # moved every element of b by it
    (np.ones(3, dtype=complex), gg.GraphgradTypeError),
    ("0.5", gg.GraphgradTypeError),
    (gg.Tensor(np.ones(3)), gg.GraphgradTypeError),
], ids=["3x3", "3x1", "scalar", "complex", "str", "Tensor"])
@pytest.mark.parametrize("name", STEPPERS)
def test_a_step_refusing_a_bad_gradient_changes_nothing_and_a_retry_is_exact(name, bad, error):
    make = STEPPERS[name]
    expected_W, expected_b, expected_opt = _run(make, GRADS[:2])
    W, b = gg.Tensor(W0.copy(), requires_grad=True), gg.Tensor(b0.copy(), requires_grad=True)
    opt = make([W, b])
    W.grad, b.grad = GRADS[0]
    opt.step()
    W_before, state_before = W.data.copy(), opt.state_dict()
    W.grad, b.grad = GRADS[1][0], bad  # W comes first: it was updated before b's step failed
    message = rf"{type(opt).__name__}\.step: .*\(3,\).*[Nn]othing was updated"
    with pytest.raises(error, match=message):
        opt.step()
    np.testing.assert_array_equal(W.data, W_before)
    assert opt.t == 1
    for key, value in opt.state_dict().items():
        np.testing.assert_array_equal(value, state_before[key], err_msg=key)
    b.grad = GRADS[1][1]
    opt.step()
    np.testing.assert_array_equal(W.data, expected_W)
    np.testing.assert_array_equal(b.data, expected_b)
    for key, value in opt.state_dict().items():
        np.testing.assert_array_equal(value, expected_opt.state_dict()[key], err_msg=key)


@pytest.mark.parametrize("key, bad", [("lr", "0.05"), ("lr", -0.1), ("lr", math.nan),
                                      ("momentum", 1.0), ("weight_decay", np.ones(2))])
def test_a_setting_assigned_in_param_groups_is_checked_there_and_a_step_after_is_exact(key, bad):
    """Unchecked, a string lr failed in step after group 0 was updated, and a negative one
    climbed the cost."""
    W, b = gg.Tensor(W0.copy(), requires_grad=True), gg.Tensor(b0.copy(), requires_grad=True)
    opt = optim.SGD([{"params": [W]}, {"params": [b]}], lr=0.1, momentum=0.5)
    with pytest.raises(gg.ArgumentError, match=rf"SGD: param_groups\[1\]\['{key}'\] must be"):
        opt.param_groups[1][key] = bad
    assert opt.param_groups[1][key] == {"lr": 0.1, "momentum": 0.5, "weight_decay": 0.0}[key]
    opt.param_groups[1]["lr"] = np.float64(0.05)  # a number numpy gives is a float there
    assert type(opt.param_groups[1]["lr"]) is float
    opt.param_groups[1]["note"] = "head"  # keys that are no setting are the user's own
    W.grad, b.grad = GRADS[0]
    opt.step()
    np.testing.assert_allclose(W.data, W0 - 0.1 * 0.5 * GRADS[0][0], rtol=1e-15)
    np.testing.assert_allclose(b.data, b0 - 0.05 * 0.5 * GRADS[0][1], rtol=1e-15)


def test_a_step_refuses_a_parameter_whose_shape_changed_and_accepts_lists_and_float32():
    W, b = gg.Tensor(W0.copy(), requires_grad=True), gg.Tensor(b0.copy(), requires_grad=True)
    opt = optim.Adam([W, b], lr=0.1)
    b.data = np.zeros(4)  # a wider layer: Adam's v and s for b have 3 elements
    W.grad, b.grad = GRADS[0][0], np.ones(4)
    with pytest.raises(gg.ShapeError, match=r"had shape \(3,\) when it was given.*new optimizer"):
        opt.step()
    np.testing.assert_array_equal(W.data, W0)
    assert opt.t == 0
    # Numbers of the right shape in another form are still a gradient.
    expected_W, expected_b, _ = _run(lambda p: optim.SGD(p, lr=0.1), GRADS[:1])
    W, b = gg.Tensor(W0.copy(), requires_grad=True), gg.Tensor(b0.copy(), requires_grad=True)
    opt = optim.SGD([W, b], lr=0.1)
    W.grad, b.grad = GRADS[0][0].tolist(), GRADS[0][1].astype(np.float32)
    opt.step()
    np.testing.assert_array_equal(W.data, expected_W)
    np.testing.assert_allclose(b.data, expected_b, rtol=1e-6)


@pytest.mark.parametrize("name", STEPPERS)
@pytest.mark.parametrize("to", [np.float64, np.float32], ids=["double()", "float()"])
def test_an_optimizer_made_before_the_model_is_converted_steps_as_one_made_after(name, to):
    """model.double() after the optimizer was made: its steps were computed in float32, the
    dtype of its state and scratch arrays, and rounded into the float64 parameters."""
    def two_steps(before: bool) -> list[np.ndarray]:
        model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.Tanh(), nn.Linear(4, 1, rng=1))
        model.astype(np.float32 if to is np.float64 else np.float64)
        opt = STEPPERS[name](model.parameters()) if before else None
        model.astype(to)
        opt = opt or STEPPERS[name](model.parameters())
        X = np.random.default_rng(2).standard_normal((5, 3)).astype(to)
        for _ in range(2):
            opt.zero_grad()
            (model(X) ** 2).mean().backward()
            opt.step()
        assert all(np.asarray(v).dtype == to for state in opt.state for v in state.values())
        return [p.data for p in model.parameters()]

    for made_before, made_after in zip(two_steps(True), two_steps(False)):
        assert made_before.dtype == made_after.dtype == to
        np.testing.assert_array_equal(made_before, made_after)


@pytest.mark.parametrize("new_data, error, message", [
    # numpy failed after b's step, or broadcast a read-only W into a new (3, 2) array
    (np.zeros((1, 2)), gg.ShapeError, r"'W' \(1, 2\) float64 had shape \(3, 2\) when it was "
                                      r"given.*new optimizer"),
    (np.zeros((3, 2, 1)), gg.ShapeError, r"'W' \(3, 2, 1\) float64 had shape \(3, 2\)"),
    # numpy refused to cast the step into the integers after b's step
    (np.zeros((3, 2), dtype=np.int64), gg.GraphgradTypeError,
     r"'W' \(3, 2\) int64 holds int64 values.*W\.data = W\.data\.astype\(np\.float64\)"),
    (np.zeros((3, 2), dtype=complex), gg.GraphgradTypeError, r"'W' .* holds complex128 values"),
    ([[0.0] * 2] * 3, gg.GraphgradTypeError, r"'W' .*: its \.data is a list.*np\.asarray"),
], ids=["narrower", "more axes", "int", "complex", "list"])
@pytest.mark.parametrize("name", STEPPERS)
@pytest.mark.parametrize("pinned", [False, True], ids=["writeable", "read-only"])
def test_a_step_refuses_data_replaced_by_another_shape_or_dtype_before_any_update(
        name, new_data, error, message, pinned):
    """.grad still has the parameter's shape, as backward left it; only .data was replaced
    (by hand, or by a load of another layer's array). A read-only array (a graph still holds
    it) broadcast into a new array of the grad's shape without a word."""
    b, W = gg.Tensor(b0.copy(), requires_grad=True), gg.Tensor(W0.copy(), requires_grad=True,
                                                                name="W")
    opt = STEPPERS[name]([b, W])  # b first: it was updated before W's step failed
    b.grad, W.grad = GRADS[0][1], GRADS[0][0]
    state_before = opt.state_dict()
    if pinned and isinstance(new_data, np.ndarray):
        new_data.flags.writeable = False
    W.data = new_data
    with pytest.raises(error, match=rf"{type(opt).__name__}\.step: {message}"):
        opt.step()
    with pytest.raises(error, match=r"[Nn]othing was updated"):
        opt.step()
    np.testing.assert_array_equal(b.data, b0)
    assert W.data is new_data
    assert opt.t == 0
    for key, value in opt.state_dict().items():
        np.testing.assert_array_equal(value, state_before[key], err_msg=key)
    W.data = W0.copy()  # the array put back: the step is the first step of a fresh optimizer
    opt.step()
    expected_W, expected_b, _ = _run(STEPPERS[name], GRADS[:1])
    np.testing.assert_array_equal(W.data, expected_W)
    np.testing.assert_array_equal(b.data, expected_b)


def test_a_parameter_without_a_gradient_may_hold_any_array():
    """Only the parameters a step updates are checked: a frozen one's data is its own."""
    W, b = gg.Tensor(W0.copy(), requires_grad=True), gg.Tensor(b0.copy(), requires_grad=True)
    opt = optim.SGD([W, b], lr=0.1)
    b.data = np.arange(4)
    W.grad = GRADS[0][0]
    opt.step()
    np.testing.assert_array_equal(W.data, W0 - 0.1 * GRADS[0][0])
    np.testing.assert_array_equal(b.data, np.arange(4))


@pytest.mark.parametrize("make", [
    lambda p: optim.SGD(p, lr=0.1), lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
    lambda p: optim.RMSprop(p, lr=0.1), lambda p: optim.Adam(p, lr=0.1),
], ids=["SGD", "momentum", "RMSprop", "Adam"])
def test_step_works_while_another_graph_still_needs_the_old_values(make):
    layer = nn.Linear(2, 2, rng=0)
    opt = make(layer.parameters())
    layer(np.ones((1, 2))).sum().backward()
    X = gg.Tensor(np.ones((1, 2)), requires_grad=True)
    pending = layer(X).sum()  # an evaluation forward, outside gg.no_grad()
    assert not layer.W.data.flags.writeable  # pinned by the pending graph
    W_before = layer.W.data.copy()
    opt.step()
    assert not np.array_equal(layer.W.data, W_before)
    pending.backward()  # still backpropagates through the values it saw: dX = dZ @ W_before
    np.testing.assert_array_equal(X.grad, np.ones((1, 2)) @ W_before)


def test_zero_grad_and_bad_arguments():
    layer = nn.Linear(2, 2)
    opt = optim.SGD(layer.parameters(), lr=0.1)
    layer(np.ones((1, 2))).sum().backward()
    opt.zero_grad()
    assert layer.W.grad is None
    with pytest.raises(gg.GraphgradError, match="no parameters"):
        optim.SGD([], lr=0.1)
    with pytest.raises(gg.GraphgradError, match="given twice"):
        optim.SGD([layer.W, layer.W], lr=0.1)
    with pytest.raises(gg.GraphgradError, match=r"Adam: every parameter \(1 tensors, the first "
                       r"unnamed tensor \(\) float64\) is frozen or made without "
                       r"requires_grad=True, so nothing would learn"):
        optim.Adam([gg.Tensor(1.0)])
    frozen = nn.Linear(2, 3, rng=0).requires_grad_(False)
    with pytest.raises(gg.GraphgradError, match=r"SGD: every parameter \(2 tensors, the first "
                       r"'W' \(3, 2\) float64\) is frozen.*layer.requires_grad_\(True\)"):
        optim.SGD(frozen.parameters(), lr=0.1)
    with pytest.raises(gg.GraphgradError, match=r"SGD: parameter 1 \(output of Mul \(\) float64\) "
                       r"is not a leaf Tensor; .*not results computed from them"):
        x = gg.Tensor(1.0, requires_grad=True)
        optim.SGD([x, x * 2], lr=0.1)
    with pytest.raises(gg.GraphgradError, match="momentum"):
        optim.SGD(layer.parameters(), lr=0.1, momentum=1.0)


@pytest.mark.parametrize("kind", [optim.SGD, optim.RMSprop, optim.Adam, optim.AdamW])
@pytest.mark.parametrize("bad, shown", [
    (5, "5"), (None, "None"), (np.ones(2), r"<float64 array \(2,\)>"),
], ids=["int", "None", "array"])
def test_an_element_that_is_no_tensor_is_a_type_error_as_in_clipping(kind, bad, shown):
    """It was an ArgumentError (a ValueError) calling 5 'not a leaf Tensor'."""
    W = gg.Tensor(np.ones(2), requires_grad=True, name="W")
    name = kind.__name__
    with pytest.raises(gg.GraphgradTypeError, match=rf"^{name}: parameter 1 is {shown}, not a "
                                                    r"Tensor; pass model.parameters\(\)$"):
        kind([W, bad], lr=0.1)
    with pytest.raises(TypeError, match=rf"^{name}: parameter group 1, parameter 0 is {shown}, "
                                        r"not a Tensor"):
        kind([{"params": [W]}, {"params": [bad]}], lr=0.1)
    opt = kind([W], lr=0.1)
    with pytest.raises(gg.GraphgradTypeError, match=rf"^{name}: parameter group 1, parameter 1 "
                                                    rf"is {shown}, not a Tensor"):
        opt.add_param_group({"params": [gg.Tensor(1.0, requires_grad=True), bad]})
    assert len(opt.param_groups) == 1 and opt.params == [W]
    with pytest.raises(gg.GraphgradTypeError, match=rf"clip_grad_value: parameter 1 is {shown}, "
                                                    r"not a Tensor; pass model.parameters\(\)"):
        optim.clip_grad_value([W, bad], 1.0)


# -- step(closure) ---------------------------------------------------------------------------------
def _closure(optimizer, W):
    """A closure as PyTorch's docs write it, for J = sum(W**3)."""
    def closure():
        optimizer.zero_grad()
        J = (W * W * W).sum()
        J.backward()
        return J
    return closure


@pytest.mark.parametrize("make", [lambda p: optim.SGD(p, lr=0.1),
                                  lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
                                  lambda p: optim.Adam(p, lr=0.1)],
                         ids=["SGD", "momentum", "Adam"])
def test_step_with_a_closure_returns_its_loss_and_updates_as_without(make):
    start = np.array([[1.0, -2.0], [0.5, 3.0]])
    W, V = (gg.Tensor(start.copy(), requires_grad=True) for _ in range(2))
    with_closure, without = make([W]), make([V])
    for _ in range(3):
        closure = _closure(with_closure, W)
        with gg.no_grad():  # the closure records its graph all the same
            loss = with_closure.step(closure)
        without.zero_grad()
        J = (V * V * V).sum()
        J.backward()
        assert without.step() is None
        assert loss.item() == J.item()
        np.testing.assert_array_equal(W.data, V.data)
    with pytest.raises(gg.GraphgradTypeError, match=r"\.step: closure must be a function"):
        with_closure.step("loss")


# -- state dicts ----------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda p: optim.SGD(p, lr=0.1, momentum=0.9), lambda p: optim.RMSprop(p, lr=0.01),
    lambda p: optim.Adam(p, lr=0.01),
], ids=["momentum", "RMSprop", "Adam"])
def test_optimizer_state_dict_resumes_exactly(make, tmp_path):
    W_full, _, _ = _run(make)
    W, _, _ = optim_runs.resumed(make, (W0, b0), GRADS, 2, tmp_path / "opt.npz")
    np.testing.assert_array_equal(W, W_full)


@pytest.mark.parametrize("made_with", [0.0, 0.9])
@pytest.mark.parametrize("first, then", [(0.9, 0.0), (0.0, 0.9)],
                         ids=["momentum turned off", "momentum turned on"])
def test_a_state_saved_after_momentum_was_changed_by_hand_resumes_exactly(first, then,
                                                                          made_with, tmp_path):
    """Loaded into an SGD made with either momentum, it was refused: 'has momentum=0, this
    optimizer 0.9', or 'unexpected keys: state.0.v', or 'missing keys: state.1.v'."""
    rng = np.random.default_rng(3)
    grads = [rng.standard_normal((2, 3)) for _ in range(6)]

    def run(optimizer, W, steps):
        for dW in steps:
            W.grad = dW
            optimizer.step()

    W = gg.Tensor(np.ones((2, 3)), requires_grad=True)
    b = gg.Tensor(np.zeros(3), requires_grad=True)  # no gradient: it never gets a v_dW
    opt = optim.SGD([W, b], lr=0.1, momentum=first)
    run(opt, W, grads[:2])
    opt.momentum = then
    run(opt, W, grads[2:3])
    gg.save(opt.state_dict(), tmp_path / "sgd.npz")
    W2 = gg.Tensor(W.data.copy(), requires_grad=True)
    b2 = gg.Tensor(b.data.copy(), requires_grad=True)
    again = optim.SGD([W2, b2], lr=0.1, momentum=made_with)
    again.load_state_dict(gg.load(tmp_path / "sgd.npz"))
    assert again.momentum == then
    run(opt, W, grads[3:4])
    run(again, W2, grads[3:4])
    opt.momentum = again.momentum = 0.5  # a v_dW kept while momentum was off goes on from there
    run(opt, W, grads[4:])
    run(again, W2, grads[4:])
    np.testing.assert_array_equal(W2.data, W.data)
    assert sorted(again.state_dict()) == sorted(opt.state_dict())


def test_an_sgd_state_refused_leaves_the_optimizers_slots_as_they_were():
    W = gg.Tensor(np.ones(3), requires_grad=True)
    opt = optim.SGD([W], lr=0.1, momentum=0.9)
    W.grad = np.ones(3)
    opt.step()
    state = opt.state_dict()
    bad = {**state, "state.0.v": np.ones(4)}
    plain = optim.SGD([gg.Tensor(np.ones(3), requires_grad=True)], lr=0.1)
    with pytest.raises(gg.ArgumentError, match=r"state\.0\.v: shape \(4,\)"):
        plain.load_state_dict(bad)
    assert plain.state == [{}] and plain.momentum == 0
    plain.load_state_dict(state)
    np.testing.assert_array_equal(plain.state[0]["v"], (1 - 0.9) * np.ones(3))


def test_optimizer_state_dict_mismatches_are_explained():
    _, _, adam = _run(lambda p: optim.Adam(p, lr=0.01))
    state = adam.state_dict()
    with pytest.raises(gg.GraphgradError, match="is from Adam"):
        optim.RMSprop([gg.Tensor(W0, requires_grad=True)]).load_state_dict(state)
    with pytest.raises(gg.GraphgradError, match=r"saved for 2 parameters \(\(3, 2\), \(3,\)\), "
                       r"this optimizer has 1 parameter \(\(3, 2\)\)\. Nothing was loaded"):
        optim.Adam([gg.Tensor(W0, requires_grad=True)]).load_state_dict(state)
    other = optim.Adam([gg.Tensor(W0.T, requires_grad=True), gg.Tensor(b0, requires_grad=True)])
    with pytest.raises(gg.GraphgradError, match=r"saved for other parameters, parameter 0 was "
                                                r"\(3, 2\), here it is unnamed tensor \(2, 3\)"):
        other.load_state_dict(state)
    # A state saved before the shapes were: its arrays tell what they can.
    old = {key: value for key, value in state.items() if not key.startswith("param.")}
    with pytest.raises(gg.GraphgradError, match=r"unexpected keys: state\.1\.v"):
        optim.Adam([gg.Tensor(W0, requires_grad=True)]).load_state_dict(old)
    with pytest.raises(gg.GraphgradError, match=r"state\.0\.v: shape \(3, 2\)"):
        other.load_state_dict(old)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_a_state_saved_for_other_parameters_or_another_order_is_refused(momentum):
    """Plain SGD keeps no array per parameter, so only the shapes saved with the state show
    that the optimizer was made over other parameters than the saved one."""
    model = nn.Sequential(nn.Linear(3, 5, rng=1), nn.ReLU(), nn.Linear(5, 1, rng=2))
    saved = optim.SGD(model.parameters(), lr=0.1, momentum=momentum)
    for p in model.parameters():
        p.grad = np.ones_like(p.data)
    saved.step()
    state = saved.state_dict()
    assert [state[f"param.{i}.shape"].tolist() for i in range(4)] == [[5, 3], [5], [1, 5], [1]]
    cases = [
        (model.linear2.parameters(), r"saved for 4 parameters \(\(5, 3\), \(5,\), \(1, 5\), "
         r"\(1,\)\), this optimizer has 2 parameters \(\(1, 5\), \(1,\)\)\. Nothing was "
         r"loaded: make the optimizer with the parameters it was saved with, in the same "
         r"order: SGD\(model\.parameters"),
        ([*model.parameters(), gg.Tensor(np.zeros(2), requires_grad=True)],
         r"saved for 4 parameters .* this optimizer has 5 parameters"),
        (model.parameters()[::-1], r"saved for other parameters, the same shapes in another "
         r"order: parameter 0 was \(5, 3\), here it is 'b' \(1,\) float64; parameter 1 was "
         r"\(5,\), here it is 'W' \(1, 5\)"),
    ]
    for params, message in cases:
        other = optim.SGD(params, lr=0.5, momentum=momentum)
        with pytest.raises(gg.ArgumentError, match=message):
            other.load_state_dict(state)
        assert other.t == 0 and other.lr == 0.5  # nothing was loaded
    again = optim.SGD(model.parameters(), lr=0.5, momentum=momentum)
    again.load_state_dict(state)
    assert again.t == 1 and again.lr == 0.1



class _CountedKey(str):
    """A state dict key that counts the comparisons made with it."""

    compared = 0
    __hash__ = str.__hash__

    def __eq__(self, other):
        _CountedKey.compared += 1
        return str.__eq__(self, other)


def test_loading_the_state_of_many_parameters_compares_each_key_a_few_times():
    params = [gg.Tensor(np.full(2, float(i)), requires_grad=True) for i in range(300)]
    adam = optim.Adam(params, lr=0.01)
    for p in params:
        p.grad = np.ones(2)
    adam.step()
    state = {_CountedKey(key): value for key, value in adam.state_dict().items()}
    fresh = optim.Adam([gg.Tensor(np.zeros(2), requires_grad=True) for _ in params], lr=0.5)
    _CountedKey.compared = 0
    fresh.load_state_dict(state)
    # Each key had been looked for in a list of all of them: 600 keys, about 180,000
    # comparisons.
    assert _CountedKey.compared < 10 * len(state)
    assert fresh.t == 1 and fresh.lr == 0.01
    for ours, theirs in zip(fresh.state, adam.state):
        np.testing.assert_array_equal(ours["v"], theirs["v"])
        np.testing.assert_array_equal(ours["s"], theirs["s"])


def _adam_snapshot(adam):
    return adam.t, adam.lr, [{k: a.copy() for k, a in slots.items()} for slots in adam.state]


@pytest.mark.parametrize("change, message", [
    ({"state.1.s": np.full(3, "x")}, r"state\.1\.s: the state holds <U1 values, not numbers"),
    ({"t": -1}, "t: a step count must be a whole number of at least 0, got -1"),
    ({"t": 2.5}, "t: a step count must be a whole number of at least 0, got 2.5"),
    ({"t": "many"}, "t: a step count must be a whole number"),
], ids=["text state", "negative t", "fractional t", "text t"])
def test_optimizer_state_that_does_not_fit_changes_nothing(change, message):
    _, _, adam = _run(lambda p: optim.Adam(p, lr=0.01))
    before = _adam_snapshot(adam)
    state = adam.state_dict()
    # Good values before the bad one: a refused state must not be applied half-way.
    state.update({"lr": 0.5, "state.0.v": np.full((3, 2), 7.0)}, **change)
    with pytest.raises(gg.ArgumentError, match=message):
        adam.load_state_dict(state)
    t, lr, slots = _adam_snapshot(adam)
    assert (t, lr) == before[:2] == (len(GRADS), 0.01)
    for ours, theirs in zip(slots, before[2]):
        for key in ours:
            np.testing.assert_array_equal(ours[key], theirs[key])


@pytest.mark.parametrize("given, advice", [
    ("adam.npz", r"gg.load\(path\)"),
    (optim.SGD([gg.Tensor(W0, requires_grad=True)], lr=0.1), r"other_optimizer.state_dict\(\)"),
    ([("t", 3)], "a dict of arrays"),
])
@pytest.mark.parametrize("kind", [optim.Adam, optim.SGD, optim.RMSprop, optim.AdamW])
def test_optimizer_load_state_dict_of_something_else_says_what_to_pass(given, advice, kind):
    """SGD's own load_state_dict read the state first: 'str' object has no attribute 'get'."""
    optimizer = kind([gg.Tensor(W0, requires_grad=True)], lr=0.1)
    with pytest.raises(gg.GraphgradTypeError, match=rf"^{kind.__name__}\.load_state_dict takes a "
                       rf"dict of arrays by name, got \w+: .*{advice}"):
        optimizer.load_state_dict(given)

# -- AdamW: Adam with decoupled weight decay ------------------------------------------------------
def _adamw_by_hand(lr, weight_decay, beta1=0.9, beta2=0.999, eps=1e-8, steps=GRADS):
    """torch.optim.AdamW's update: W *= 1 - lr * weight_decay, then Adam's step from dW alone."""
    params = [W0.copy(), b0.copy()]
    v = [np.zeros_like(p) for p in params]
    s = [np.zeros_like(p) for p in params]
    for t, grads in enumerate(steps, start=1):
        for k, g in enumerate(grads):
            params[k] = params[k] * (1 - lr * weight_decay)
            v[k] = beta1 * v[k] + (1 - beta1) * g
            s[k] = beta2 * s[k] + (1 - beta2) * g ** 2
            v_corrected = v[k] / (1 - beta1 ** t)
            s_corrected = s[k] / (1 - beta2 ** t)
            params[k] = params[k] - lr * v_corrected / (np.sqrt(s_corrected) + eps)
    return params, v, s


def test_adamw_is_adam_with_decoupled_weight_decay():
    lr, decay = 0.05, 0.3
    W_got, b_got, opt = _run(lambda p: optim.AdamW(p, lr=lr, weight_decay=decay))
    assert (opt.beta1, opt.beta2, opt.eps) == (0.9, 0.999, 1e-8)
    (W, b), v, s = _adamw_by_hand(lr, decay)
    np.testing.assert_allclose(W_got, W, rtol=1e-12)
    np.testing.assert_allclose(b_got, b, rtol=1e-12)
    # v and s average the gradients alone: the decay never enters them.
    np.testing.assert_allclose(opt.state[0]["v"], v[0], rtol=1e-12)
    np.testing.assert_allclose(opt.state[0]["s"], s[0], rtol=1e-12)
    assert opt.t == len(GRADS)

    W_got, _, opt = _run(lambda p: optim.AdamW(p, lr=0.02, beta1=0.8, beta2=0.99, eps=1e-6))
    assert opt.weight_decay == 0.01  # PyTorch's default
    (W, _), _, _ = _adamw_by_hand(0.02, 0.01, beta1=0.8, beta2=0.99, eps=1e-6)
    np.testing.assert_allclose(W_got, W, rtol=1e-12)


def test_adamw_without_weight_decay_is_adam_exactly():
    W_adamw, b_adamw, adamw = _run(lambda p: optim.AdamW(p, lr=0.01, weight_decay=0.0))
    W_adam, b_adam, adam = _run(lambda p: optim.Adam(p, lr=0.01))
    np.testing.assert_array_equal(W_adamw, W_adam)
    np.testing.assert_array_equal(b_adamw, b_adam)
    adam_state, adamw_state = adam.state_dict(), adamw.state_dict()
    assert list(adamw_state) == list(adam_state)  # the same keys, in the same order
    assert adamw_state.pop("optimizer") == "AdamW" and adam_state.pop("optimizer") == "Adam"
    for key, value in adam_state.items():
        np.testing.assert_array_equal(adamw_state[key], value)


def test_adamw_differs_from_adam_with_l2_weight_decay():
    """With dW = 0, Adam(weight_decay) normalises the decay gradient lambda W by its own size,
    so every weight moves by about alpha whatever lambda; AdamW scales W by 1 - alpha lambda."""
    lr = 0.01
    zeros = [(np.zeros_like(W0), np.zeros_like(b0))]
    for decay in (0.1, 1.0):
        W_adamw, _, _ = _run(lambda p, d=decay: optim.AdamW(p, lr=lr, weight_decay=d), zeros)
        np.testing.assert_allclose(W_adamw, W0 * (1 - lr * decay), rtol=1e-12)
        W_adam, _, _ = _run(lambda p, d=decay: optim.Adam(p, lr=lr, weight_decay=d), zeros)
        g = decay * W0  # the L2 term is dW; at t = 1, v_corrected = g, s_corrected = g**2
        np.testing.assert_allclose(W_adam, W0 - lr * g / (np.abs(g) + 1e-8), rtol=1e-12)
        np.testing.assert_allclose(np.abs(W_adam - W0), lr, rtol=1e-4)  # about alpha

    # With real gradients too, Adam's L2 path is the by-hand formula with dW + lambda W.
    lr, decay = 0.05, 0.3
    W_adamw, _, _ = _run(lambda p: optim.AdamW(p, lr=lr, weight_decay=decay))
    W_adam, _, _ = _run(lambda p: optim.Adam(p, lr=lr, weight_decay=decay))
    W, v, s = W0.copy(), np.zeros_like(W0), np.zeros_like(W0)
    for t, (dW, _) in enumerate(GRADS, start=1):
        g = dW + decay * W
        v = 0.9 * v + 0.1 * g
        s = 0.999 * s + 0.001 * g ** 2
        W = W - lr * (v / (1 - 0.9 ** t)) / (np.sqrt(s / (1 - 0.999 ** t)) + 1e-8)
    np.testing.assert_allclose(W_adam, W, rtol=1e-12)
    assert np.abs(W_adamw - W_adam).max() > 1e-3


def test_adamw_state_dict_resumes_exactly_and_refuses_an_adam_state(tmp_path):
    def make(p):
        return optim.AdamW(p, lr=0.05, weight_decay=0.2)

    W_full, b_full, _ = _run(make)
    W_half, b_half, first = _run(make, GRADS[:2])
    state = first.state_dict()
    assert str(state["optimizer"]) == "AdamW" and state["weight_decay"] == 0.2
    gg.save(state, tmp_path / "adamw.npz")
    W, b = gg.Tensor(W_half.copy(), requires_grad=True), gg.Tensor(b_half.copy(),
                                                                   requires_grad=True)
    second = optim.AdamW([W, b], lr=0.001, weight_decay=0.0)  # the settings come from the file
    second.load_state_dict(gg.load(tmp_path / "adamw.npz"))
    assert (second.lr, second.weight_decay, second.t) == (0.05, 0.2, 2)
    for dW, db in GRADS[2:]:
        W.grad, b.grad = dW, db
        second.step()
    np.testing.assert_array_equal(W.data, W_full)
    np.testing.assert_array_equal(b.data, b_full)

    _, _, adam = _run(lambda p: optim.Adam(p, lr=0.05, weight_decay=0.2))
    with pytest.raises(gg.GraphgradError, match="AdamW.load_state_dict.*is from Adam"):
        make([gg.Tensor(W0, requires_grad=True), gg.Tensor(b0, requires_grad=True)]
             ).load_state_dict(adam.state_dict())


def test_adamw_works_on_pinned_float32_parameters_and_names_itself():
    layer = nn.Linear(2, 2, rng=0, dtype=np.float32)
    opt = optim.AdamW(layer.parameters(), lr=0.1, weight_decay=0.5)
    layer(np.ones((1, 2))).sum().backward()
    X = gg.Tensor(np.ones((1, 2), dtype=np.float32), requires_grad=True)
    pending = layer(X).sum()  # pins W until its backward
    W_before = layer.W.data.copy()
    opt.step()
    assert layer.W.dtype == np.float32 and opt.state[0]["v"].dtype == np.float32
    assert not np.array_equal(layer.W.data, W_before)
    pending.backward()  # the graph kept the values it saw
    np.testing.assert_array_equal(X.grad, np.ones((1, 2), np.float32) @ W_before)
    assert repr(opt) == ("AdamW(2 parameters, lr=0.1, beta1=0.9, beta2=0.999, eps=1e-08, "
                         "weight_decay=0.5)")
    with pytest.raises(gg.ArgumentError, match=r"AdamW: beta2 must be in \[0, 1\)"):
        optim.AdamW(layer.parameters(), beta2=1.0)


# -- parameter groups -----------------------------------------------------------------------------
def _groups(first, second):
    """Make an optimizer's params from W's group settings and b's: ``[{"params": [W]}, ...]``."""
    return lambda p: [{"params": [p[0]], **first}, {"params": [p[1]], **second}]


def test_each_group_steps_by_the_course_formulas_with_its_own_settings():
    """W: lr 0.1, momentum 0.9, L2 decay 0.05 (the keywords); b: lr 0.03, no momentum, no decay."""
    groups = _groups({}, {"lr": 0.03, "momentum": 0.0, "weight_decay": 0.0})
    W_got, b_got, opt = _run(lambda p: optim.SGD(groups(p), lr=0.1, momentum=0.9,
                                                 weight_decay=0.05))
    W, b, v_dW = W0.copy(), b0.copy(), np.zeros_like(W0)
    for dW, db in GRADS:
        v_dW = 0.9 * v_dW + 0.1 * (dW + 0.05 * W)
        W = W - 0.1 * v_dW
        b = b - 0.03 * db
    np.testing.assert_allclose(W_got, W, rtol=1e-12)
    np.testing.assert_allclose(b_got, b, rtol=1e-12)
    # v_dW is kept where the group has momentum only
    np.testing.assert_allclose(opt.state[0]["v"], v_dW, rtol=1e-12)
    assert opt.state[1] == {}
    assert [g["momentum"] for g in opt.param_groups] == [0.9, 0.0]
    assert opt.param_groups[1] == {"params": (opt.params[1],), "lr": 0.03, "weight_decay": 0.0,
                                   "momentum": 0.0, "dampening": 0.0, "nesterov": False,
                                   "maximize": False}


def test_adam_groups_share_t_and_have_their_own_betas():
    groups = _groups({}, {"lr": 0.002, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6})
    W_got, b_got, opt = _run(lambda p: optim.Adam(groups(p), lr=0.01))
    params = [W0.copy(), b0.copy()]
    settings = [(0.01, 0.9, 0.999, 1e-8), (0.002, 0.8, 0.99, 1e-6)]
    v = [np.zeros_like(p) for p in params]
    s = [np.zeros_like(p) for p in params]
    for t, grads in enumerate(GRADS, start=1):  # the course's update_parameters_with_adam
        for k, (g, (lr, beta1, beta2, eps)) in enumerate(zip(grads, settings)):
            v[k] = beta1 * v[k] + (1 - beta1) * g
            s[k] = beta2 * s[k] + (1 - beta2) * g ** 2
            v_corrected, s_corrected = v[k] / (1 - beta1 ** t), s[k] / (1 - beta2 ** t)
            params[k] = params[k] - lr * v_corrected / (np.sqrt(s_corrected) + eps)
    np.testing.assert_allclose(W_got, params[0], rtol=1e-12)
    np.testing.assert_allclose(b_got, params[1], rtol=1e-12)
    assert opt.t == len(GRADS)


@pytest.mark.parametrize("kind, first, second", [
    (optim.SGD, {"lr": 0.1, "momentum": 0.9}, {"lr": 0.05, "weight_decay": 0.2}),
    (optim.RMSprop, {"lr": 0.01, "beta": 0.9}, {"lr": 0.03, "beta": 0.5, "eps": 1e-4}),
    (optim.Adam, {"lr": 0.01, "weight_decay": 0.1}, {"lr": 0.03, "beta1": 0.5}),
    (optim.AdamW, {"lr": 0.01}, {"lr": 0.03, "weight_decay": 0.0, "beta2": 0.9}),
], ids=["SGD", "RMSprop", "Adam", "AdamW"])
def test_two_groups_step_as_two_optimizers_would(kind, first, second):
    W_got, b_got, _ = _run(lambda p: kind(_groups(first, second)(p), lr=0.5))
    W, _, _ = _run(lambda p: kind([p[0]], **first))
    _, b, _ = _run(lambda p: kind([p[1]], **second))
    np.testing.assert_array_equal(W_got, W)
    np.testing.assert_array_equal(b_got, b)


def test_adamw_leaves_a_bias_group_undecayed():
    lr, decay = 0.05, 0.3
    zeros = [(np.zeros_like(W0), np.zeros_like(b0))]
    groups = _groups({}, {"weight_decay": 0.0})
    W, b, _ = _run(lambda p: optim.AdamW(groups(p), lr=lr, weight_decay=decay), zeros)
    np.testing.assert_allclose(W, W0 * (1 - lr * decay), rtol=1e-12)
    np.testing.assert_array_equal(b, b0)  # dW = 0 and no decay: b does not move

    W, b, _ = _run(lambda p: optim.AdamW(groups(p), lr=lr, weight_decay=decay))
    np.testing.assert_allclose(W, _adamw_by_hand(lr, decay)[0][0], rtol=1e-12)
    np.testing.assert_allclose(b, _adamw_by_hand(lr, 0.0)[0][1], rtol=1e-12)

    # The docstring's split: W decayed; b, gamma and beta (one axis) not.
    model = nn.Sequential(nn.Linear(2, 3, rng=0), nn.BatchNorm1d(3), nn.Linear(3, 1, rng=1))
    params = model.parameters()
    opt = optim.AdamW([{"params": [p for p in params if p.ndim > 1]},
                       {"params": [p for p in params if p.ndim <= 1], "weight_decay": 0.0}],
                      lr=lr, weight_decay=decay)
    before = {name: p.data.copy() for name, p in model.named_parameters()}
    for p in params:
        p.grad = np.zeros_like(p.data)
    opt.step()
    for name, p in model.named_parameters():
        factor = 1 - lr * decay if name.endswith(".W") else 1.0
        np.testing.assert_allclose(p.data, before[name] * factor, rtol=1e-12, err_msg=name)


def test_changing_a_group_setting_mid_training_changes_its_next_steps():
    W_t, b_t = gg.Tensor(W0.copy(), requires_grad=True), gg.Tensor(b0.copy(), requires_grad=True)
    opt = optim.SGD([{"params": [W_t]}, {"params": [b_t], "lr": 0.02}], lr=0.1)
    for step, (dW, db) in enumerate(GRADS):
        if step == 2:
            opt.param_groups[1]["lr"] = 0.5
            opt.param_groups[0]["momentum"] = 0.9  # v_dW starts at 0 from here
        W_t.grad, b_t.grad = dW, db
        opt.step()
    (dW1, db1), (dW2, db2), (dW3, db3), (dW4, db4) = GRADS
    v3 = 0.1 * dW3
    v4 = 0.9 * v3 + 0.1 * dW4
    np.testing.assert_allclose(W_t.data, W0 - 0.1 * (dW1 + dW2 + v3 + v4), rtol=1e-12)
    np.testing.assert_allclose(b_t.data, b0 - 0.02 * (db1 + db2) - 0.5 * (db3 + db4),
                               rtol=1e-12)
    np.testing.assert_allclose(opt.state[0]["v"], v4, rtol=1e-12)


def test_setting_optimizer_lr_keeps_each_group_ratio_to_the_keyword_lr():
    W, b = gg.Tensor(W0.copy(), requires_grad=True), gg.Tensor(b0.copy(), requires_grad=True)
    opt = optim.SGD([{"params": [W]}, {"params": [b], "lr": 0.02, "momentum": 0.5}], lr=0.1)
    assert opt.lr == 0.1 and opt.defaults["lr"] == 0.1
    opt.lr = 0.05
    assert opt.lr == 0.05
    assert opt.param_groups[0]["lr"] == 0.05  # the group without its own lr gets it exactly
    assert opt.param_groups[1]["lr"] == pytest.approx(0.01, rel=1e-12)  # 0.02 / 0.1 of it
    W.grad, b.grad = GRADS[0]
    opt.step()
    np.testing.assert_allclose(W.data, W0 - 0.05 * GRADS[0][0], rtol=1e-12)
    np.testing.assert_allclose(b.data, b0 - 0.01 * 0.5 * GRADS[0][1], rtol=1e-12)
    # Other settings go to the groups that did not give their own.
    opt.momentum = 0.9
    assert [g["momentum"] for g in opt.param_groups] == [0.9, 0.5] and opt.momentum == 0.9

    # Every group with its own lr: both scale, and reading gives the last value set.
    opt = optim.SGD([{"params": [W], "lr": 0.3}, {"params": [b], "lr": 0.03}], lr=0.1)
    assert opt.lr == 0.1
    opt.lr = 0.2
    assert opt.lr == 0.2
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.6, 0.06], rel=1e-12)

    # One group given as tensors: optimizer.lr and param_groups[0]["lr"] are one value.
    opt = optim.SGD([W, b], lr=0.1)
    opt.param_groups[0]["lr"] = 0.7
    assert opt.lr == 0.7
    opt.lr = 0.3
    assert opt.param_groups[0]["lr"] == 0.3


def test_fit_with_a_schedule_decays_every_group_alike():
    X = RNG.standard_normal((20, 2))
    Y = RNG.standard_normal((20, 1))

    def model():
        return nn.Sequential(nn.Linear(2, 3, rng=0), nn.Tanh(), nn.Linear(3, 1, rng=1))

    fitted = model()
    opt = optim.SGD([{"params": fitted.linear1.parameters()},
                     {"params": fitted.linear2.parameters(), "lr": 0.05}], lr=0.5)
    schedule = optim.InverseTimeDecay(0.5, decay_rate=1.0)
    history = gg.fit(fitted, nn.mse, opt, (X, Y), epochs=3, batch_size=20, shuffle=False,
                     schedule=schedule, progress=False)
    assert history["lr"] == [0.5, 0.25, 0.5 / 3]
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.5 / 3, 0.05 / 3], rel=1e-12)

    by_hand = model()  # full-batch gradient descent, alpha(epoch) and alpha(epoch) / 10
    for epoch in range(3):
        alpha = schedule(epoch)
        for p in by_hand.parameters():
            p.grad = None
        nn.mse(by_hand(X), Y).backward()
        for layer, lr in ((by_hand.linear1, alpha), (by_hand.linear2, alpha * 0.1)):
            for p in layer.parameters():
                p.data = p.data - lr * p.grad
    for (name, got), want in zip(fitted.named_parameters(), by_hand.parameters()):
        np.testing.assert_allclose(got.data, want.data, rtol=1e-12, err_msg=name)


def _adam_groups(p):
    return optim.Adam([{"params": [p[0]]}, {"params": [p[1]], "lr": 0.002, "beta1": 0.8}],
                      lr=0.01)


def test_state_dict_with_groups_resumes_exactly(tmp_path):
    W_full, b_full, _ = _run(_adam_groups)
    W_half, b_half, first = _run(_adam_groups, GRADS[:2])
    state = first.state_dict()
    assert state["lr"] == 0.01 and state["beta1"] == 0.9  # the keywords'
    assert state["group.1.lr"] == 0.002 and state["group.1.beta1"] == 0.8
    assert state["group.0.lr"] == 0.01 and state["group.1.beta2"] == 0.999
    np.testing.assert_array_equal(state["group.1.params"], [1])
    gg.save(state, tmp_path / "adam.npz")
    W, b = gg.Tensor(W_half.copy(), requires_grad=True), gg.Tensor(b_half.copy(),
                                                                   requires_grad=True)
    # The same groups with other settings: the settings come from the file.
    second = optim.Adam([{"params": [W]}, {"params": [b], "lr": 0.5}], lr=0.1, beta1=0.5)
    second.load_state_dict(gg.load(tmp_path / "adam.npz"))
    assert [(g["lr"], g["beta1"]) for g in second.param_groups] == [(0.01, 0.9), (0.002, 0.8)]
    assert (second.lr, second.t) == (0.01, 2)
    for dW, db in GRADS[2:]:
        W.grad, b.grad = dW, db
        second.step()
    np.testing.assert_array_equal(W.data, W_full)
    np.testing.assert_array_equal(b.data, b_full)
    second.lr = 0.02  # the ratio is the file's (0.002 / 0.01), not the constructor's
    assert second.param_groups[1]["lr"] == pytest.approx(0.004, rel=1e-12)


def test_a_state_with_other_groups_is_refused():
    W, b = gg.Tensor(W0, requires_grad=True), gg.Tensor(b0, requires_grad=True)
    _, _, grouped = _run(_adam_groups, GRADS[:1])
    _, _, single = _run(lambda p: optim.Adam(p, lr=0.01), GRADS[:1])
    with pytest.raises(gg.ArgumentError, match=r"Adam\.load_state_dict: the state has 2 "
                       r"parameter groups, this optimizer 1; make it with the groups"):
        optim.Adam([W, b]).load_state_dict(grouped.state_dict())
    with pytest.raises(gg.ArgumentError, match="the state has 1 parameter group, this "
                                               "optimizer 2"):
        _adam_groups([W, b]).load_state_dict(single.state_dict())
    swapped = optim.Adam([{"params": [W, b]}, {"params": [gg.Tensor(b0, requires_grad=True)]}])
    with pytest.raises(gg.ArgumentError, match=r"the state has parameters \[0\] in group 0, "
                                               r"this optimizer \[0, 1\]"):
        swapped.load_state_dict(grouped.state_dict())
    # SGD's momentum, as its other settings, comes from the state, with v_dW where it was kept
    _, _, sgd = _run(lambda p: optim.SGD([{"params": [p[0]]}, {"params": [p[1]]}], lr=0.1))
    loaded = optim.SGD([{"params": [W]}, {"params": [b], "momentum": 0.9}], lr=0.1)
    loaded.load_state_dict(sgd.state_dict())
    assert loaded.param_groups[1]["momentum"] == 0 and loaded.state == [{}, {}]
    state = grouped.state_dict()
    del state["group.1.beta2"]
    with pytest.raises(gg.ArgumentError, match="missing keys: group.1.beta2"):
        _adam_groups([W, b]).load_state_dict(state)


def test_group_mistakes_are_explained():
    W, b = gg.Tensor(W0, requires_grad=True, name="W"), gg.Tensor(b0, requires_grad=True)
    cases = [
        ([{"lr": 0.1}], r"SGD: parameter group 0 has no 'params': write \{'params': tensors"),
        ([{"params": [W]}, {"params": [b], "momentun": 0.9}],
         r"SGD: parameter group 1: unknown setting 'momentun'; the settings of SGD are lr, "
         "weight_decay, momentum"),
        ([{"params": [W]}, {"params": [b, W]}],
         r"SGD: parameter group 1, parameter 1 \('W' \(3, 2\) float64\) is in parameter "
         "group 0 too; give each parameter to one group"),
        ([{"params": [W]}, {"params": []}],
         "SGD: parameter group 1 has no parameters; give it some, or leave it out"),
        ([{"params": [W]}, {"params": [b], "momentum": 1.0}],
         r"SGD: parameter group 1: momentum must be in \[0, 1\), got 1.0"),
        ([{"params": [W]}, {"params": [b], "lr": 0}],
         "SGD: parameter group 1: lr must be positive and finite, got 0"),
        ([{"params": [W]}, {"params": [b], "weight_decay": -0.1}],
         "SGD: parameter group 1: weight_decay must be >= 0 and finite, got -0.1"),
        ([{"params": [W]}, {"params": [b], "lr": "fast"}],
         "SGD: parameter group 1: lr must be positive and finite, got 'fast'"),
        ([{"params": [W]}, b], "SGD: parameter group 1 is a Tensor; give either tensors or dicts"),
        ([{"params": [W, W]}], r"SGD: parameter 1 \('W' \(3, 2\) float64\) is given twice"),
    ]
    for params, message in cases:
        with pytest.raises(gg.ArgumentError, match=message):
            optim.SGD(params, lr=0.1)
    with pytest.raises(gg.ArgumentError, match=r"AdamW: parameter group 1: beta1 must be in "
                                               r"\[0, 1\), got 1.5"):
        optim.AdamW([{"params": [W]}, {"params": [b], "beta1": 1.5}])
    with pytest.raises(gg.ArgumentError, match=r"RMSprop: parameter group 0: unknown setting "
                                               "'nesterov'; the settings of RMSprop are lr, "
                                               "weight_decay, beta, eps, momentum, centered, "
                                               "maximize"):
        optim.RMSprop([{"params": W, "nesterov": True}])
    with pytest.raises(gg.ArgumentError, match="SGD: lr must be positive and finite, got -1"):
        optim.SGD([W], lr=-1)


def test_repr_shows_the_groups_that_differ():
    W, b = gg.Tensor(W0, requires_grad=True), gg.Tensor(b0, requires_grad=True)
    opt = optim.AdamW([{"params": W}, {"params": [b], "lr": 0.01, "weight_decay": 0.0}],
                      lr=0.001)
    assert repr(opt) == ("AdamW(2 parameters, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-08, "
                         "weight_decay=0.01;\n"
                         "  group 0: 1 parameter\n"
                         "  group 1: 1 parameter, lr=0.01, weight_decay=0)")
    single = optim.SGD([W, b], lr=0.1, momentum=0.9)
    assert repr(single) == "SGD(2 parameters, lr=0.1, momentum=0.9)"


# -- schedules ------------------------------------------------------------------------------------
def test_course_decay_and_its_staircase_version():
    decay = optim.InverseTimeDecay(0.5, decay_rate=1.0)
    assert [decay(e) for e in range(4)] == [0.5, 0.25, 0.5 / 3, 0.125]
    staircase = optim.InverseTimeDecay(0.5, decay_rate=0.3, time_interval=1000)
    assert staircase(999) == 0.5 and staircase(1000) == pytest.approx(0.5 / 1.3)
    assert staircase(2500) == pytest.approx(0.5 / 1.6)


def test_exponential_step_and_inverse_sqrt_decay():
    assert optim.ExponentialDecay(0.2)(10) == pytest.approx(0.2 * 0.95 ** 10)
    step = optim.StepDecay(0.1, factor=0.5, every=10)
    assert [step(e) for e in (0, 9, 10, 25)] == [0.1, 0.1, 0.05, 0.025]
    assert optim.InverseSqrtDecay(0.1, k=2.0)(3) == pytest.approx(2.0 / math.sqrt(4) * 0.1)
    assert repr(step) == "StepDecay(alpha0=0.1, factor=0.5, every=10)"


def test_cosine_decay_warms_up_linearly_then_follows_half_a_cosine_to_alpha_min():
    decay = optim.CosineDecay(0.4, total=6, warmup=2, alpha_min=0.1)
    # warm-up 0, 0.2; then p = 0, 1/4, 1/2, 3/4, 1: 0.1 + 0.3 (1 + cos(pi p)) / 2
    expected = [0.0, 0.2, 0.4, 0.1 + 0.15 * (1 + math.sqrt(0.5)), 0.25,
                0.1 + 0.15 * (1 - math.sqrt(0.5)), 0.1, 0.1, 0.1]
    assert [decay(e) for e in range(9)] == pytest.approx(expected, rel=1e-15, abs=1e-15)
    assert [optim.CosineDecay(1.0, total=2)(e) for e in range(3)] == [1.0, 0.5, 0.0]
    assert repr(decay) == "CosineDecay(alpha0=0.4, total=6, warmup=2, alpha_min=0.1)"
    with pytest.raises(gg.ArgumentError, match=r"warmup \(3\) must be fewer epochs than "
                                               r"total \(3\)"):
        optim.CosineDecay(0.1, total=3, warmup=3)
    with pytest.raises(gg.ArgumentError, match=r"alpha_min must be in \[0, alpha0 = 0.1\]"):
        optim.CosineDecay(0.1, total=3, alpha_min=0.2)


def test_cosine_decay_with_warm_up_in_fit_trains_its_first_epoch_with_lr_0():
    X = np.linspace(-1, 1, 8).reshape(8, 1)
    model = nn.Linear(1, 1, init="zeros")
    sgd = optim.SGD(model.parameters(), lr=0.5)
    decay = optim.CosineDecay(0.5, total=3, warmup=1)
    history = gg.fit(model, nn.mse, sgd, (X, 2 * X), epochs=3, batch_size=8, schedule=decay,
                     progress=False)
    assert history["lr"] == [0.0, 0.5, 0.25]
    # epoch 0 left W at 0; epoch 1: dW = 2/m sum (W x - 2x) x = -4 mean(x**2), W = 0.5 * that
    W1 = 0.5 * 4 * np.mean(X ** 2)
    W2 = W1 - 0.25 * 2 * (W1 - 2) * np.mean(X ** 2)
    np.testing.assert_allclose(model.W.data, [[W2]], rtol=1e-12)


def test_a_schedule_of_ones_own_shows_settings_that_are_not_numbers_in_its_repr():
    class MultiStepDecay(optim.Schedule):  # PyTorch's MultiStepLR
        def __init__(self, alpha0, milestones, gamma=0.1, verbose=False):
            super().__init__(alpha0)
            self.milestones, self.gamma, self.verbose = list(milestones), gamma, verbose

        def _rate(self, epoch):
            return self.alpha0 * self.gamma ** sum(epoch >= m for m in self.milestones)

    decay = MultiStepDecay(0.1, [2, 4], gamma=0.5)
    assert [decay(e) for e in range(5)] == [0.1, 0.1, 0.05, 0.05, 0.025]
    assert repr(decay) == ("MultiStepDecay(alpha0=0.1, milestones=[2, 4], gamma=0.5, "
                           "verbose=False)")


# -- gradient clipping ----------------------------------------------------------------------------
def _params_with_grads(*grads):
    params = [gg.Tensor(np.zeros_like(np.asarray(g, dtype=float)), requires_grad=True,
                        name=f"W{i}") for i, g in enumerate(grads, start=1)]
    for p, g in zip(params, grads):
        p.grad = np.asarray(g, dtype=float)
        p.grad.setflags(write=False)  # as backward leaves them: read-only
    return params


def test_clip_grad_value_is_the_course_clip_and_leaves_missing_grads_alone():
    W1, W2 = _params_with_grads([[-7.0, 2.0], [5.5, -0.1]], [10.0])
    free = gg.Tensor(np.ones(2), requires_grad=True)
    optim.clip_grad_value([W1, W2, free], 5)
    np.testing.assert_array_equal(W1.grad, [[-5.0, 2.0], [5.0, -0.1]])
    np.testing.assert_array_equal(W2.grad, [5.0])
    assert free.grad is None


def test_clip_grad_norm_scales_every_gradient_by_one_factor_and_returns_the_norm():
    W1, W2 = _params_with_grads([3.0, 0.0], [[4.0]])  # joint norm 5
    assert optim.clip_grad_norm([W1, W2], 1.0) == pytest.approx(5.0)
    np.testing.assert_allclose(W1.grad, [0.6, 0.0])
    np.testing.assert_allclose(W2.grad, [[0.8]])
    assert optim.clip_grad_norm([W1, W2], 2.0) == pytest.approx(1.0)  # under: unchanged
    np.testing.assert_allclose(W1.grad, [0.6, 0.0])


@pytest.mark.parametrize("clip", ["clip_grad_value", "clip_grad_norm"])
def test_clipping_names_a_parameter_only_when_it_refuses_its_gradient(clip, monkeypatch):
    """Every parameter's description, made for a message no valid gradient needs, took half
    of clip_grad_norm's time on a small MLP: gradients of real numbers are clipped without
    it, and a refused one is still named."""
    W1, W2 = _params_with_grads([3.0, 0.0], [[4.0]])  # joint norm 5
    monkeypatch.setattr(clipping, "describe", lambda t: pytest.fail("described a tensor"))
    if clip == "clip_grad_norm":
        assert optim.clip_grad_norm([W1, W2], 1.0) == 5.0
        np.testing.assert_allclose(W1.grad, [0.6, 0.0], rtol=1e-15)
        np.testing.assert_allclose(W2.grad, [[0.8]], rtol=1e-15)
    else:
        optim.clip_grad_value([W1, W2], 3.5)
        np.testing.assert_array_equal(W2.grad, [[3.5]])
    monkeypatch.undo()
    W2.grad = np.array([["4"]])
    with pytest.raises(gg.GraphgradTypeError, match=rf"^{clip}: 'W2' \(1, 1\) float64 has a "):
        getattr(optim, clip)([W1, W2], 1.0)


@pytest.mark.parametrize("dtype, big", [(np.float32, 3e19), (np.float64, 3e200)])
def test_clip_grad_norm_clips_an_exploding_gradient_whose_squares_overflow(dtype, big):
    """Exploding gradients are what clipping is for: a finite 3e19 in float32 (squared, 9e38,
    is past float32's 3.4e38) must be clipped, not reported as NaN or Inf."""
    W = gg.Tensor(np.zeros(4, dtype=dtype), requires_grad=True, name="W")
    W.grad = np.array([big, -big, big, big], dtype=dtype)
    b = gg.Tensor(np.zeros(1, dtype=dtype), requires_grad=True)
    b.grad = np.array([big], dtype=dtype)
    norm = optim.clip_grad_norm([W, b], 5.0)
    assert norm == pytest.approx(big * np.sqrt(5), rel=1e-6)
    np.testing.assert_allclose(W.grad, np.array([1.0, -1.0, 1.0, 1.0]) * 5 / np.sqrt(5),
                               rtol=1e-6)
    assert W.grad.dtype == dtype and np.isfinite(b.grad).all()


def test_clipping_keeps_float32_and_refuses_a_nan_gradient_and_bad_limits():
    W = gg.Tensor(np.zeros(2, dtype=np.float32), requires_grad=True, name="W")
    W.grad = np.array([30.0, 40.0], dtype=np.float32)
    optim.clip_grad_norm([W], 5.0)
    assert W.grad.dtype == np.float32
    np.testing.assert_allclose(W.grad, [3.0, 4.0], rtol=1e-6)
    (bad,) = _params_with_grads([1.0, np.nan])
    with pytest.raises(gg.AnomalyError, match=r"clip_grad_norm: the gradient of 'W1' \(2,\)"):
        optim.clip_grad_norm([bad], 1.0)
    for call in (lambda: optim.clip_grad_value([W], 0), lambda: optim.clip_grad_norm([W], -1),
                 lambda: optim.clip_grad_norm([W], np.inf)):
        with pytest.raises(gg.ArgumentError, match="must be a positive number"):
            call()


@pytest.mark.parametrize("clip", [optim.clip_grad_norm, optim.clip_grad_value])
def test_clipping_given_its_arguments_swapped_says_the_tensors_go_first(clip):
    """The refusal printed the whole list of tensors, their values and gradients, in the place
    of max_norm."""
    params = _params_with_grads([3.0, 4.0], [1.0])
    name = clip.__name__
    what = "max_norm" if clip is optim.clip_grad_norm else "clip_value"
    with pytest.raises(gg.ArgumentError, match=(
            rf"^{name}: {what} must be a positive number, got a list \(the tensors go first: "
            rf"{name}\(model\.parameters\(\), 1\.0\)\)$")):
        clip(1.0, params)
    np.testing.assert_array_equal(params[0].grad, [3.0, 4.0])


@pytest.mark.parametrize("bad, held", [
    (np.array(["a", "b"]), r"has a \.grad of <U1 values"),
    ("x", r"has a \.grad of a str \(<U1\)"),
    (np.array([1 + 1j, 2.0]), r"has a \.grad of complex128 values"),  # clipped by a complex order
    (np.array([True, False]), r"has a \.grad of bool values"),
    (gg.Tensor(np.ones(2)), r"holds a Tensor in \.grad \(unnamed tensor \(2,\) float64\)"),
], ids=["strings", "str", "complex", "bool", "Tensor"])
@pytest.mark.parametrize("clip", ["clip_grad_value", "clip_grad_norm"])
def test_clipping_refuses_a_gradient_of_non_numbers_before_clipping_any(clip, bad, held):
    """clip_grad_value clipped W1's gradient, then failed in numpy at W2's; clip_grad_norm
    failed in numpy (a Tensor, a str), or took the real part of complex numbers."""
    W1, W2 = _params_with_grads([-7.0, 2.0], [1.0, 1.0])
    W2.grad = bad
    with pytest.raises(gg.GraphgradTypeError,
                       match=rf"{clip}: 'W2' \(2,\) float64 {held}.*No gradient was clipped"):
        getattr(optim, clip)([W1, W2], 5)
    np.testing.assert_array_equal(W1.grad, [-7.0, 2.0])
    assert W2.grad is bad


def test_clipping_takes_a_gradient_of_numbers_in_a_list_or_of_integers():
    """As optimizer.step does; clip_grad_norm failed on a list, and rounded an integer
    gradient's scaled values back to integers (to 0 here)."""
    W1, W2 = _params_with_grads([3.0, 0.0], [0.0])
    W1.grad, W2.grad = [3.0, 0.0], np.array([4])  # joint norm 5
    assert optim.clip_grad_norm([W1, W2], 1.0) == pytest.approx(5.0)
    np.testing.assert_allclose(W1.grad, [0.6, 0.0], rtol=1e-15)
    np.testing.assert_allclose(W2.grad, [0.8], rtol=1e-15)
    W1.grad, W2.grad = [-7.0, 2.0], np.array([9])
    optim.clip_grad_value([W1, W2], 5)
    np.testing.assert_array_equal(W1.grad, [-5.0, 2.0])
    np.testing.assert_array_equal(W2.grad, [5])


def test_clip_grad_norm_sums_the_squares_in_float64_whatever_the_gradients_dtype():
    """The norm of a float32 gradient is its float64 norm, not the float32 sum of its squares
    (off in the 8th digit over 100,000 elements), and an integer gradient's squares do not
    wrap around: 4e9**2 + 3e9**2 is more than an int64 holds."""
    g = np.random.default_rng(3).standard_normal(100_000).astype(np.float32)
    W1, W2 = _params_with_grads([0.0], [0.0])
    W1.grad, W2.grad = g, np.array([0])
    wide = g.astype(np.float64)
    assert optim.clip_grad_norm([W1, W2], 1e9) == pytest.approx(
        math.sqrt(wide @ wide), rel=1e-12, abs=0)
    W1.grad, W2.grad = np.array([4_000_000_000, 3_000_000_000]), np.array([0])
    assert optim.clip_grad_norm([W1, W2], 1.0) == pytest.approx(5e9, rel=1e-15)
    np.testing.assert_allclose(W1.grad, [0.8, 0.6], rtol=1e-15)



@pytest.mark.parametrize("clip", [lambda p: optim.clip_grad_value(p, 5),
                                  lambda p: optim.clip_grad_norm(p, 5)], ids=["value", "norm"])
def test_clipping_given_a_tensor_or_a_model_says_what_to_pass(clip):
    """Iterated, a tensor gives its rows, which have no .grad: its gradient stayed unclipped
    (and clip_grad_norm returned 0)."""
    layer = nn.Linear(3, 2)
    gg.sum(layer(np.full((1, 3), 100.0))).backward()
    with pytest.raises(gg.GraphgradTypeError, match=r"takes a list of tensors, got one: 'W' "
                                                     r"\(2, 3\) float64; pass \[W\]"):
        clip(layer.W)
    with pytest.raises(gg.GraphgradTypeError, match=r"got a Linear: pass model.parameters\(\)"):
        clip(layer)
    assert np.abs(layer.W.grad).max() == 100.0
    clip(layer.parameters())
    assert np.abs(layer.W.grad).max() < 5.0 + 1e-12

@pytest.mark.parametrize("params, message", [
    (lambda L: L.W, r"SGD takes a list of tensors, got one: 'W' \(2, 3\) float64; pass \[W\]"),
    (lambda L: L, r"SGD takes the tensors to optimize, got a Linear: pass model.parameters\(\)"),
    (lambda L: None, r"SGD takes a list of tensors \(model.parameters\(\)\) or of groups"),
], ids=["a tensor", "a model", "None"])
def test_an_optimizer_given_a_tensor_or_a_model_says_what_to_pass(params, message):
    """Iterated, a tensor gives its rows: the error would blame a 'GetItem' that is no leaf."""
    with pytest.raises(gg.GraphgradTypeError, match=message):
        optim.SGD(params(nn.Linear(3, 2)), lr=0.1)


@pytest.mark.parametrize("setting, value, rule", [
    ("lr", math.nan, ">= 0 and finite"), ("lr", -0.1, ">= 0 and finite"),
    ("lr", math.inf, ">= 0 and finite"), ("lr", "0.1", ">= 0 and finite"),
    ("momentum", 1.5, r"in \[0, 1\)"), ("weight_decay", math.inf, ">= 0 and finite"),
])
def test_a_setting_changed_after_construction_is_checked_as_the_keyword_is(setting, value, rule):
    """optimizer.lr = nan made every parameter NaN at the next step; -0.1 climbed the cost."""
    W = gg.Tensor(W0, requires_grad=True)
    sgd = optim.SGD([W], lr=0.1, momentum=0.5)
    with pytest.raises(gg.ArgumentError, match=f"SGD: {setting} must be {rule}, got"):
        setattr(sgd, setting, value)
    assert (sgd.lr, sgd.momentum, sgd.weight_decay) == (0.1, 0.5, 0.0)
    sgd.lr = 0  # a warm-up's first epoch
    assert sgd.param_groups[0]["lr"] == 0.0
    for keyword in ({"lr": math.inf}, {"lr": True}, {"eps": math.inf}):
        with pytest.raises(gg.ArgumentError, match="must be"):
            optim.RMSprop([W], **{"lr": 0.1, **keyword})


@pytest.mark.parametrize("make", [optim.Adam, optim.RMSprop])
def test_eps_0_is_refused_as_it_makes_nan_of_a_weight_whose_gradient_is_0(make):
    """eps=0 divided 0 by sqrt(s_dW) = 0 for a weight whose gradients had all been 0 (a dead
    ReLU's, an unused word's): the weight became NaN at the first step."""
    rule = (r"eps must be positive and finite \(the step divides by sqrt\(s_dW\) \+ eps, and "
            r"s_dW is 0 while a weight's gradients have been 0; the course's eps is 1e-8\)")
    W = gg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    with pytest.raises(gg.ArgumentError, match=rf"^{make.__name__}: {rule}, got 0$"):
        make([W], lr=0.1, eps=0)
    with pytest.raises(gg.ArgumentError, match=rf"parameter group 0: {rule}, got 0\.0$"):
        make([{"params": [W], "eps": 0.0}], lr=0.1)
    optimizer = make([W], lr=0.1, eps=1e-8)
    with pytest.raises(gg.ArgumentError, match=rf"^{make.__name__}: {rule}, got 0$"):
        optimizer.eps = 0
    W.grad = np.array([0.0, 0.5])
    optimizer.step()  # the first step: -alpha sign(dW), up to eps, where dW is not 0
    np.testing.assert_allclose(W.data, [1.0, 2.0 - 0.1 * (1.0 if make is optim.Adam else
                                                           1 / math.sqrt(0.1))], rtol=1e-6)


def test_clip_grad_norm_counts_a_tensor_given_twice_once():
    """A W tied between two layers is in both their lists: its gradient counted twice made the
    norm sqrt(2) times too large (7.07 for 5) and clipped it to 0.71 of max_norm."""
    tied = nn.Linear(2, 2, rng=0)
    model = nn.Sequential(tied, nn.Tanh(), tied)
    W, b = _params_with_grads([[3.0, 0.0], [0.0, 0.0]], [0.0, 4.0])  # joint norm 5
    tied.W, tied.b = W, b
    given = model.linear1.parameters() + model.linear2.parameters()
    assert len(given) == 4
    assert optim.clip_grad_norm(given, 1.0) == pytest.approx(5.0)
    np.testing.assert_allclose(W.grad, [[0.6, 0.0], [0.0, 0.0]])
    np.testing.assert_allclose(b.grad, [0.0, 0.8])
    assert optim.clip_grad_norm(given, 2.0) == pytest.approx(1.0)  # under: unchanged
    np.testing.assert_allclose(b.grad, [0.0, 0.8])


@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1),
    lambda ps: optim.RMSprop(ps, lr=0.01, weight_decay=0.1),
    lambda ps: optim.Adam(ps, lr=0.01, weight_decay=0.1),
    lambda ps: optim.AdamW(ps, lr=0.01, weight_decay=0.1),
], ids=["SGD momentum", "RMSprop", "Adam", "AdamW"])
def test_a_layer_frozen_in_the_middle_of_training_stays_as_it_is(make):
    """Neither its velocity nor weight decay moves it, as in torch.optim: a parameter without
    a gradient is skipped. A gradient it held when frozen is applied by the next step, as in
    torch.optim, which is why training resets them before each backward."""
    X = np.random.default_rng(0).standard_normal((8, 3))
    Y = np.random.default_rng(1).standard_normal((8, 2))
    model = nn.Sequential(nn.Linear(3, 4, rng=1), nn.Tanh(), nn.Linear(4, 2, rng=2))
    opt = make(model.parameters())
    for _ in range(3):
        opt.zero_grad()
        nn.mse(model(X), Y).backward()
        opt.step()
    model.linear1.requires_grad_(False)
    W, v = model.linear1.W.data.copy(), [a.copy() for a in opt.state[0].values()]
    for _ in range(3):
        opt.zero_grad()
        nn.mse(model(X), Y).backward()
        opt.step()
    np.testing.assert_array_equal(model.linear1.W.data, W)
    for a, b in zip(opt.state[0].values(), v):
        np.testing.assert_array_equal(a, b)
    held = model.linear2.W
    held.requires_grad_(False)  # after backward: its gradient is still there
    opt.zero_grad()
    held.grad = np.ones(held.shape)
    before = held.data.copy()
    opt.step()
    assert not np.array_equal(held.data, before)


@pytest.mark.parametrize("keep", [True, False])
def test_micro_batches_backpropagated_in_turn_give_the_whole_batchs_gradient(keep):
    """Gradient accumulation: four micro-batches of 2, each mean cost weighted by 2/8, give
    the gradient of the batch of 8; clipped after the last backward, the step is the whole
    batch's clipped step."""
    X = np.random.default_rng(0).standard_normal((8, 3))
    Y = np.random.default_rng(1).standard_normal((8, 2))
    model = nn.Sequential(nn.Linear(3, 4, rng=1), nn.Tanh(), nn.Linear(4, 2, rng=2))
    whole = copy.deepcopy(model)
    nn.mse(whole(X), Y).backward(keep_intermediate_grads=keep)
    norm = optim.clip_grad_norm(whole.parameters(), 0.1)
    for i in range(0, 8, 2):
        (nn.mse(model(X[i:i + 2]), Y[i:i + 2]) * (2 / 8)).backward(keep_intermediate_grads=keep)
    assert optim.clip_grad_norm(model.parameters(), 0.1) == pytest.approx(norm, rel=1e-12)
    assert norm > 0.1
    for p, q in zip(model.parameters(), whole.parameters()):
        np.testing.assert_allclose(p.grad, q.grad, rtol=1e-12, atol=1e-15)
    opt, reference = optim.Adam(model.parameters()), optim.Adam(whole.parameters())
    opt.step()
    reference.step()
    for p, q in zip(model.parameters(), whole.parameters()):
        np.testing.assert_allclose(p.data, q.data, rtol=1e-12)


@pytest.mark.parametrize("make", [optim.Adam, optim.AdamW])
def test_adam_steps_float32_parameters_in_float32_arithmetic(make):
    """The bias corrections are Python numbers, so a float32 step is float32 arithmetic (as
    in PyTorch): a numpy float64 scalar there made numpy run those passes in float64, five
    times slower, each element rounded from a float64 result."""
    rng = np.random.default_rng(3)
    W = gg.Tensor(rng.standard_normal(4000).astype(np.float32), requires_grad=True)
    W.grad = rng.standard_normal(4000).astype(np.float32)
    W_before, g = W.data.copy(), W.grad
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    make([W], lr=lr, beta1=b1, beta2=b2, eps=eps, weight_decay=0.0).step()
    # The course's update at t = 1, in the order of Adam's docstring, each operation in float32
    root = math.sqrt(1.0 - b2)
    v = g * np.float32(1.0 - b1)
    s = g * g * np.float32(1.0 - b2)
    step = v / (np.sqrt(s) + np.float32(eps * root)) * np.float32(lr * root / (1.0 - b1))
    assert W.data.dtype == np.float32
    np.testing.assert_array_equal(W.data, W_before - step)


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads Linux's /proc")
def test_the_state_of_a_frozen_parameter_takes_no_memory_until_it_learns():
    def resident_mb():
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6

    model = nn.Sequential(nn.Embedding.from_pretrained(np.ones((100_000, 100))),  # 80 MB
                          nn.Linear(100, 2))
    before = resident_mb()
    optimizer = optim.Adam(model.parameters(), lr=0.1)  # v and s: 160 MB if written
    J = (model(np.array([[1, 2]])) ** 2).mean()
    J.backward()
    optimizer.step()
    assert resident_mb() - before < 40
    E = model[0].E
    assert E.grad is None and np.all(E.data == 1.0)
    v, s = (optimizer.state[0][key] for key in ("v", "s"))
    assert v.shape == s.shape == (100_000, 100) and not v.any() and not s.any()
