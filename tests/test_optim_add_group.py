"""`Optimizer.add_param_group`: a group added during training steps as a new optimizer started
then would (Adam's bias correction counted from the group's own first step), leaves the other
groups' steps as they were, takes the missing settings from the current keyword ones, is
checked as the constructor's groups are, and is saved and restored by the state dict."""
import copy
import pickle

import numpy as np
import pytest

import graphgrad as gg
from graphgrad import nn, optim

RNG = np.random.default_rng(23)
A0 = RNG.standard_normal((3, 2))
B0 = RNG.standard_normal((2, 2))
c0 = RNG.standard_normal(2)
STEPS = 6  # steps in all
ADDED_AT = 2  # B and c join after this many steps
GRADS = [(RNG.standard_normal((3, 2)), RNG.standard_normal((2, 2)), RNG.standard_normal(2))
         for _ in range(STEPS)]


def _leaf(array, name=None):
    return gg.Tensor(np.array(array, dtype=float), requires_grad=True, name=name)


# The optimizer's keywords (A's group) and the added group's own settings (B and c).
KINDS = pytest.mark.parametrize("kind, keywords, added", [
    (optim.SGD, {"lr": 0.1, "momentum": 0.9}, {"lr": 0.05, "momentum": 0.5}),
    (optim.RMSprop, {"lr": 0.01}, {"lr": 0.03, "beta": 0.5, "eps": 1e-4}),
    (optim.Adam, {"lr": 0.01, "weight_decay": 0.1}, {"lr": 0.003, "beta1": 0.8}),
    (optim.AdamW, {"lr": 0.01, "weight_decay": 0.1}, {"lr": 0.02, "weight_decay": 0.3}),
], ids=["SGD", "RMSprop", "Adam", "AdamW"])


def _train(kind, keywords, added, start=(A0, B0, c0), steps=range(STEPS), opt=None):
    """Steps ``steps`` of GRADS on A, adding {"params": [B, c], **added} after ADDED_AT steps;
    returns the tensors and the optimizer."""
    A, B, c = (_leaf(x, name) for x, name in zip(start, "ABc"))
    opt = opt(A, B, c) if opt else kind([A], **keywords)
    for step in steps:
        if step == ADDED_AT:
            opt.add_param_group({"params": [B, c], **added})
        A.grad, B.grad, c.grad = GRADS[step]
        opt.step()
    return (A, B, c), opt


@KINDS
def test_an_added_group_steps_as_a_new_optimizer_started_then(kind, keywords, added):
    (A, B, c), opt = _train(kind, keywords, added)
    # A's group steps as if nothing had been added.
    A_alone = _leaf(A0)
    only_A = kind([A_alone], **keywords)
    for gA, _, _ in GRADS:
        A_alone.grad = gA
        only_A.step()
    np.testing.assert_array_equal(A.data, A_alone.data)
    np.testing.assert_array_equal(opt.state[0][kind.state_names[0]],
                                  only_A.state[0][kind.state_names[0]])
    # B and c step as they would with a new optimizer of theirs, made when they were added.
    B_new, c_new = _leaf(B0), _leaf(c0)
    new = kind([B_new, c_new], **{**keywords, **added})
    for _, gB, gc in GRADS[ADDED_AT:]:
        B_new.grad, c_new.grad = gB, gc
        new.step()
    np.testing.assert_array_equal(B.data, B_new.data)
    np.testing.assert_array_equal(c.data, c_new.data)
    for key in kind.state_names:
        np.testing.assert_array_equal(opt.state[1][key], new.state[0][key])
        np.testing.assert_array_equal(opt.state[2][key], new.state[1][key])
    assert opt.params == [A, B, c] and [g["params"] for g in opt.param_groups] == [(A,), (B, c)]
    assert opt.t == STEPS and opt.group_steps == [STEPS, STEPS - ADDED_AT]
    assert new.t == STEPS - ADDED_AT


def test_adam_corrects_an_added_group_from_its_own_first_step():
    """After 10 steps, B's first update is the course's at t = 1 (about alpha per weight), not
    the one of t = 11 (0.48 alpha)."""
    lr, eps = 0.01, 1e-8
    A, B = _leaf(A0), _leaf(B0)
    opt = optim.Adam([A], lr=0.1)
    for _ in range(10):
        A.grad = GRADS[0][0]
        opt.step()
    opt.add_param_group({"params": [B], "lr": lr})
    B.grad = gB = GRADS[0][1]
    opt.step()
    v_corrected = 0.1 * gB / (1 - 0.9)  # t = 1
    s_corrected = 0.001 * gB ** 2 / (1 - 0.999)
    np.testing.assert_allclose(B.data, B0 - lr * v_corrected / (np.sqrt(s_corrected) + eps),
                               rtol=1e-12)
    np.testing.assert_allclose(np.abs(B.data - B0), lr, rtol=1e-6)
    B.grad = gB2 = GRADS[1][1]
    opt.step()
    v = 0.9 * 0.1 * gB + 0.1 * gB2
    s = 0.999 * 0.001 * gB ** 2 + 0.001 * gB2 ** 2
    step1 = lr * v_corrected / (np.sqrt(s_corrected) + eps)
    step2 = lr * (v / (1 - 0.9 ** 2)) / (np.sqrt(s / (1 - 0.999 ** 2)) + eps)
    np.testing.assert_allclose(B.data, B0 - step1 - step2, rtol=1e-12)
    assert opt.t == 12 and opt.group_steps == [12, 2]


def test_missing_settings_come_from_the_current_keyword_settings():
    A, B, c = _leaf(A0), _leaf(B0), _leaf(c0)
    opt = optim.SGD([A], lr=0.1, momentum=0.9, weight_decay=0.01)
    opt.lr = 0.05  # as a schedule would
    opt.momentum = 0.5
    opt.add_param_group({"params": [B], "weight_decay": 0.0})
    opt.add_param_group({"params": c})  # one Tensor, as in a constructor's group
    assert opt.param_groups[1] == {"params": (B,), "lr": 0.05, "weight_decay": 0.0,
                                   "momentum": 0.5, "dampening": 0.0, "nesterov": False,
                                   "maximize": False}
    assert opt.param_groups[2] == {"params": (c,), "lr": 0.05, "weight_decay": 0.01,
                                   "momentum": 0.5, "dampening": 0.0, "nesterov": False,
                                   "maximize": False}
    np.testing.assert_array_equal(opt.state[1]["v"], np.zeros_like(B0))  # fresh v_dW
    (gA, gB, gc), _ = GRADS[:2]
    A.grad, B.grad, c.grad = gA, gB, gc
    opt.step()
    np.testing.assert_allclose(B.data, B0 - 0.05 * 0.5 * gB, rtol=1e-12)
    np.testing.assert_allclose(c.data, c0 - 0.05 * 0.5 * (gc + 0.01 * c0), rtol=1e-12)
    # Settings the group did not give follow the keyword settings afterwards too.
    opt.momentum = 0.8
    assert [g["momentum"] for g in opt.param_groups] == [0.8, 0.8, 0.8]

    # Adam: the betas and eps not given are the optimizer's.
    opt = optim.Adam([_leaf(A0)], lr=0.01, beta2=0.99, eps=1e-6)
    opt.add_param_group({"params": [_leaf(B0)], "beta1": 0.5})
    group = opt.param_groups[1]
    assert (group["lr"], group["beta1"], group["beta2"], group["eps"]) == (0.01, 0.5, 0.99, 1e-6)
    assert opt.beta1 == 0.9  # still the keyword's: group 0 did not give its own


def test_setting_optimizer_lr_scales_an_added_group_by_its_ratio_then():
    A, B, c = _leaf(A0), _leaf(B0), _leaf(c0)
    opt = optim.SGD([A], lr=0.1)
    opt.lr = 0.05
    opt.add_param_group({"params": [B], "lr": 0.01})  # a fifth of the keyword's lr now
    opt.add_param_group({"params": [c]})  # the keyword's lr, whatever it becomes
    opt.lr = 0.025
    assert opt.lr == 0.025
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.025, 0.005, 0.025],
                                                                rel=1e-12)
    A.grad, B.grad, c.grad = GRADS[0]
    opt.step()
    np.testing.assert_allclose(A.data, A0 - 0.025 * GRADS[0][0], rtol=1e-12)
    np.testing.assert_allclose(B.data, B0 - 0.005 * GRADS[0][1], rtol=1e-12)
    np.testing.assert_allclose(c.data, c0 - 0.025 * GRADS[0][2], rtol=1e-12)


def test_transfer_learning_unfreezes_a_layer_with_a_smaller_lr():
    """The docstring's example: train linear3 on frozen linear1 and linear2, then linear2 too,
    at a tenth of the lr, as `fit` with a schedule decays both."""
    X = RNG.standard_normal((16, 2))
    Y = RNG.standard_normal((16, 1))
    model = nn.Sequential(nn.Linear(2, 3, rng=0), nn.Tanh(), nn.Linear(3, 3, rng=1), nn.Tanh(),
                          nn.Linear(3, 1, rng=2))
    model.linear1.requires_grad_(False)
    model.linear2.requires_grad_(False)
    optimizer = optim.Adam(model.linear3.parameters(), lr=1e-2)
    gg.fit(model, nn.mse, optimizer, (X, Y), epochs=2, batch_size=16, progress=False)
    before = {name: p.data.copy() for name, p in model.named_parameters()}
    model.linear2.requires_grad_(True)
    optimizer.add_param_group({"params": model.linear2.parameters(), "lr": 1e-3})
    schedule = optim.InverseTimeDecay(1e-2, decay_rate=1.0)
    gg.fit(model, nn.mse, optimizer, (X, Y), epochs=3, batch_size=16, progress=False,
           schedule=schedule)
    after = dict(model.named_parameters())
    for name in ("linear1.W", "linear1.b"):
        np.testing.assert_array_equal(after[name].data, before[name])
    for name in ("linear2.W", "linear3.W"):
        assert not np.array_equal(after[name].data, before[name]), name
    assert [g["lr"] for g in optimizer.param_groups] == pytest.approx(
        [schedule(2), schedule(2) / 10], rel=1e-12)
    assert optimizer.t == 5 and optimizer.group_steps == [5, 3]


def test_refused_groups_are_explained_and_change_nothing():
    A, B = _leaf(A0, "A"), _leaf(B0, "B")
    frozen = gg.Tensor(c0, name="c")
    opt = optim.SGD([A], lr=0.1, momentum=0.9)
    cases = [
        ({"params": [B], "momentun": 0.9}, r"SGD: parameter group 1: unknown setting "
         "'momentun'; the settings of SGD are lr, weight_decay, momentum"),
        ({"lr": 0.1}, r"SGD: parameter group 1 has no 'params': write \{'params': tensors"),
        ({"params": []}, "SGD: parameter group 1 has no parameters; give it some"),
        ({"params": [frozen]}, r"SGD: parameter group 1 \(1 tensors, the first 'c' \(2,\) "
         r"float64\) is frozen or made without requires_grad=True, so nothing would learn"),
        ({"params": [B * 2.0]}, r"SGD: parameter group 1, parameter 0 .* is not a leaf Tensor; "),
        ({"params": [B, A]}, r"SGD: parameter group 1, parameter 1 \('A' \(3, 2\) float64\) is "
         "in parameter group 0 too; give each parameter to one group"),
        ({"params": [B, B]}, r"SGD: parameter group 1, parameter 1 \('B' \(2, 2\) float64\) is "
         "given twice"),
        ({"params": [B], "lr": 0}, "SGD: parameter group 1: lr must be positive and finite, got 0"),
        ({"params": [B], "momentum": 1.0}, r"SGD: parameter group 1: momentum must be in "
         r"\[0, 1\), got 1.0"),
        ([B], r"SGD\.add_param_group takes a dict \{'params': tensors, 'lr': \.\.\.\}, got a "
         "list"),
    ]
    for group, message in cases:
        with pytest.raises(gg.ArgumentError, match=message):
            opt.add_param_group(group)
        assert len(opt.param_groups) == 1 and opt.params == [A] and len(opt.state) == 1
        assert len(opt._groups) == len(opt._own) == len(opt._lr_ratios) == len(opt._added_at) == 1
    opt.add_param_group({"params": [B]})
    with pytest.raises(gg.ArgumentError, match=r"SGD: parameter group 2, parameter 0 \('B' "
                       r"\(2, 2\) float64\) is in parameter group 1 too"):
        opt.add_param_group({"params": [B]})
    with pytest.raises(gg.ArgumentError, match="AdamW: parameter group 1: unknown setting "
                       "'momentum'; the settings of AdamW are lr, weight_decay, beta1, beta2, "
                       "eps"):
        optim.AdamW([A]).add_param_group({"params": [B], "momentum": 0.9})


def test_zero_grad_and_repr_include_an_added_group():
    A, B, c = _leaf(A0), _leaf(B0), _leaf(c0)
    opt = optim.SGD([A], lr=0.1, momentum=0.9)
    assert repr(opt) == "SGD(1 parameter, lr=0.1, momentum=0.9)"
    opt.add_param_group({"params": [B, c], "lr": 0.05})
    A.grad, B.grad, c.grad = GRADS[0]
    opt.zero_grad()
    assert (A.grad, B.grad, c.grad) == (None, None, None)
    assert repr(opt) == ("SGD(3 parameters, lr=0.1, momentum=0.9;\n"
                         "  group 0: 1 parameter\n"
                         "  group 1: 2 parameters, lr=0.05)")


# -- state dicts ----------------------------------------------------------------------------------
@KINDS
def test_state_dict_after_add_param_group_resumes_exactly(kind, keywords, added, tmp_path):
    (A_full, B_full, c_full), _ = _train(kind, keywords, added)
    half = ADDED_AT + 2
    (A, B, c), first = _train(kind, keywords, added, steps=range(half))
    state = first.state_dict()
    assert int(state["t"]) == half and int(state["group.1.t"]) == half - ADDED_AT
    assert "group.0.t" not in state  # group 0's count is t
    np.testing.assert_array_equal(state["group.1.params"], [1, 2])
    gg.save(state, tmp_path / "opt.npz")

    def resumed(A, B, c):  # the same groups, another lr: the settings come from the file
        opt = kind([A], **{**keywords, "lr": 0.5})
        opt.add_param_group({"params": [B, c], "lr": 0.7})
        opt.load_state_dict(gg.load(tmp_path / "opt.npz"))
        assert opt.t == half and opt.group_steps == [half, half - ADDED_AT]
        return opt

    start = (A.data, B.data, c.data)
    (A2, B2, c2), second = _train(kind, keywords, added, start, range(half, STEPS), resumed)
    np.testing.assert_array_equal(A2.data, A_full.data)
    np.testing.assert_array_equal(B2.data, B_full.data)
    np.testing.assert_array_equal(c2.data, c_full.data)
    assert second.lr == keywords["lr"] and second.param_groups[1]["lr"] == added["lr"]
    second.lr = keywords["lr"] / 2  # the ratio is the file's
    assert second.param_groups[1]["lr"] == pytest.approx(added["lr"] / 2, rel=1e-12)


def test_a_state_with_other_groups_or_counts_is_refused():
    (_, _, _), opt = _train(optim.Adam, {"lr": 0.01}, {}, steps=range(ADDED_AT + 1))
    state = opt.state_dict()
    A, B, c = _leaf(A0), _leaf(B0), _leaf(c0)
    with pytest.raises(gg.ArgumentError, match=r"Adam\.load_state_dict: the state has 2 "
                       "parameter groups, this optimizer 1; make it with the groups"):
        optim.Adam([A]).load_state_dict(state)
    split = optim.Adam([A])
    split.add_param_group({"params": [B]})
    split.add_param_group({"params": [c]})
    with pytest.raises(gg.ArgumentError, match="the state has 2 parameter groups, this "
                                               "optimizer 3"):
        split.load_state_dict(state)
    other = optim.Adam([A, B])
    other.add_param_group({"params": [c]})
    with pytest.raises(gg.ArgumentError, match=r"the state has parameters \[0\] in group 0, "
                                               r"this optimizer \[0, 1\]"):
        other.load_state_dict(state)
    same = optim.Adam([A])
    same.add_param_group({"params": [B, c]})
    state["group.1.t"] = np.asarray(ADDED_AT + 2)
    with pytest.raises(gg.ArgumentError, match=r"does not fit:\n  group\.1\.t: 4 steps, not "
                                               "from 0 to t = 3"):
        same.load_state_dict(state)
    assert same.t == 0 and same.group_steps == [0, 0]


def test_states_without_group_counts_load_as_before():
    """One group: the keys are those of states saved before groups could be added. Several
    groups, all from the constructor: no group.i.t; a state without it counts every group from
    t, as before."""
    A, B, c = _leaf(A0), _leaf(B0), _leaf(c0)
    single = optim.Adam([A, B], lr=0.01)
    A.grad, B.grad, _ = GRADS[0]
    single.step()
    assert sorted(single.state_dict()) == sorted([
        "optimizer", "lr", "t", "weight_decay", "beta1", "beta2", "eps", "amsgrad", "maximize",
        "param.0.shape", "state.0.v", "state.0.s", "param.1.shape", "state.1.v", "state.1.s"])
    grouped = optim.Adam([{"params": [A]}, {"params": [B, c], "lr": 0.003}], lr=0.01)
    grouped.step()
    state = grouped.state_dict()
    assert not [key for key in state if key.endswith(".t") and key != "t"]

    (_, _, _), added = _train(optim.Adam, {"lr": 0.01}, {}, steps=range(ADDED_AT + 2))
    state = added.state_dict()
    del state["group.1.t"]  # as saved before counts per group
    again = optim.Adam([_leaf(A0)])
    again.add_param_group({"params": [_leaf(B0), _leaf(c0)]})
    again.load_state_dict(state)
    assert again.t == ADDED_AT + 2 and again.group_steps == [ADDED_AT + 2, ADDED_AT + 2]


def test_one_group_with_its_own_lr_resumes_with_its_ratio_to_the_keyword_lr(tmp_path):
    """optim.SGD([{"params": P, "lr": 0.01}], lr=0.1): a schedule setting optimizer.lr = 0.05
    gives the group 0.005, after saving and loading too; and a group's lr set by hand
    (param_groups[0]["lr"]) is saved as the group's."""
    def make():
        return optim.SGD([{"params": [_leaf(A0)], "lr": 0.01}], lr=0.1)
    first = make()
    gg.save(first.state_dict(), tmp_path / "opt.npz")
    resumed = make()
    resumed.load_state_dict(gg.load(tmp_path / "opt.npz"))
    for optimizer in (first, resumed):
        assert (optimizer.lr, optimizer.param_groups[0]["lr"]) == (0.1, 0.01)
        optimizer.lr = 0.05
        assert optimizer.param_groups[0]["lr"] == pytest.approx(0.005, rel=1e-15)
    by_hand = optim.SGD([_leaf(A0)], lr=0.1)
    by_hand.param_groups[0]["lr"] = 0.02
    loaded = optim.SGD([_leaf(A0)], lr=0.1)
    loaded.load_state_dict(by_hand.state_dict())
    assert loaded.param_groups[0]["lr"] == 0.02


@pytest.mark.parametrize("by_hand", [0.0, 0.05])
def test_a_group_lr_set_by_hand_keeps_its_ratio_through_saving_and_loading(tmp_path, by_hand):
    """param_groups[1]["lr"] set by hand (0: the group paused) leaves the ratio optimizer.lr =
    alpha keeps, the group's lr at construction over the keyword's (0.02 / 0.1), and so does a
    state saved then and loaded: the next epoch's schedule gives the group 0.2 alpha in both."""
    def make():
        return optim.SGD([{"params": [_leaf(A0)]}, {"params": [_leaf(B0)], "lr": 0.02}], lr=0.1)

    first = make()
    first.param_groups[1]["lr"] = by_hand
    gg.save(first.state_dict(), tmp_path / "opt.npz")
    resumed = make()
    resumed.load_state_dict(gg.load(tmp_path / "opt.npz"))
    for optimizer in (first, resumed):
        assert [g["lr"] for g in optimizer.param_groups] == [0.1, by_hand]
        optimizer.lr = 0.05
        assert optimizer.param_groups[1]["lr"] == pytest.approx(0.01, rel=1e-15)


@pytest.mark.parametrize("ratio, shown", [(np.array(-0.5), "-0.5"), (np.nan, "nan"),
                                          ("0.2", "'0.2'"), (np.array([0.2]),
                                                             "<float64 array (1,)>")])
def test_a_saved_lr_ratio_that_is_no_positive_number_is_refused_changing_nothing(ratio, shown):
    """As a saved lr is checked (a 0-d array, as gg.load gives, read as its number): a ratio
    of -0.5 would turn optimizer.lr = alpha into a step uphill for the group."""
    def make():
        return optim.SGD([{"params": [_leaf(A0)]}, {"params": [_leaf(B0)], "lr": 0.02}], lr=0.1)

    state = make().state_dict()
    assert state["group.1.lr_ratio"] == pytest.approx(0.2, rel=1e-15)
    state["group.1.lr"] = 0.04
    state["group.1.lr_ratio"] = ratio
    optimizer = make()
    with pytest.raises(gg.ArgumentError) as info:
        optimizer.load_state_dict(state)
    assert str(info.value) == ("SGD.load_state_dict: the state: group.1.lr_ratio must be "
                               f"positive and finite, got {shown}")
    assert [g["lr"] for g in optimizer.param_groups] == [0.1, 0.02]
    optimizer.lr = 0.05
    assert optimizer.param_groups[1]["lr"] == pytest.approx(0.01, rel=1e-15)


def test_a_group_added_while_a_warm_up_holds_the_lr_at_zero():
    """optimizer.lr = 0 (a warm-up's first epoch) leaves no lr to take a ratio to: the added
    group's lr is then a ratio to the keyword's lr at construction, and a state saved at lr 0
    loads."""
    A, B = _leaf(A0, "A"), _leaf(B0, "B")
    opt = optim.Adam([A], lr=0.01)
    opt.lr = 0.0
    opt.add_param_group({"params": [B], "lr": 0.002})
    assert [g["lr"] for g in opt.param_groups] == [0.0, 0.002]
    opt.lr = 0.005  # warmed up halfway: every group at half its lr
    assert [g["lr"] for g in opt.param_groups] == [0.005, 0.001]
    opt.lr = 0.0
    again = optim.Adam([_leaf(A0)], lr=0.01)
    again.add_param_group({"params": [_leaf(B0)], "lr": 0.002})
    again.load_state_dict(opt.state_dict())
    assert again.lr == 0.0 and [g["lr"] for g in again.param_groups] == [0.0, 0.0]
    again.lr = 0.01  # the ratios kept: 0 / 0 in the saved state says nothing new
    assert [g["lr"] for g in again.param_groups] == [0.01, 0.002]


def test_param_groups_hold_their_tensors_in_tuples_that_cannot_drift_from_the_steps():
    a, b = _leaf([1.0, 2.0], "a"), _leaf([3.0, 4.0], "b")
    opt = optim.SGD([a, b], lr=0.1)
    with pytest.raises(TypeError):
        del opt.param_groups[0]["params"][1]
    with pytest.raises(gg.ArgumentError, match=r"'b' \(2,\) float64\) is in parameter group 0 "
                                               r"too"):
        opt.add_param_group({"params": [b], "lr": 0.01})
    a.grad = b.grad = np.ones(2)
    opt.step()
    np.testing.assert_allclose(b.data, [2.9, 3.9])  # one step, at the group's lr


def test_adding_a_frozen_layer_says_to_unfreeze_it():
    model = nn.Sequential(nn.Linear(2, 3, rng=0), nn.Linear(3, 1, rng=1))
    model.linear1.requires_grad_(False)
    opt = optim.SGD(model.linear2.parameters(), lr=0.1)
    with pytest.raises(gg.ArgumentError, match=r"parameter group 1 \(2 tensors, .* unfreeze a "
                                               r"layer first \(layer.requires_grad_\(True\)\)"):
        opt.add_param_group({"params": model.linear1.parameters()})
    model.linear1.requires_grad_(True)
    opt.add_param_group({"params": model.linear1.parameters(), "lr": 0.01})
    assert len(opt.params) == 4 and opt.param_groups[1]["lr"] == 0.01


@pytest.mark.parametrize("change", [
    lambda group, tensors: group.__setitem__("params", tensors),
    lambda group, tensors: group.update(params=tensors),
    lambda group, tensors: group.update({"params": tensors, "lr": 0.5}),
], ids=["assigned", "update", "update dict"])
def test_assigning_a_groups_params_is_refused_with_what_to_do_instead(change):
    """Assigned, the list was ignored by step (b kept being updated, c never was) and by the
    state dict, which numbered the state after it."""
    a, b, c = _leaf([1.0, 2.0], "a"), _leaf([3.0, 4.0], "b"), _leaf([5.0], "c")
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.2}], lr=0.1, momentum=0.5)
    group = opt.param_groups[1]
    with pytest.raises(gg.ArgumentError, match=r"SGD: param_groups\[1\]\['params'\] cannot be "
                                               r"replaced.*add_param_group.*new optimizer"):
        change(group, [b, c])
    assert group["params"] == (b,) and group["lr"] == 0.2
    a.grad, b.grad, c.grad = np.ones(2), np.ones(2), np.ones(1)
    opt.step()
    np.testing.assert_allclose(a.data, [0.95, 1.95])  # lr 0.1 (1 - momentum) dW
    np.testing.assert_allclose(b.data, [2.9, 3.9])
    np.testing.assert_array_equal(c.data, [5.0])
    opt.add_param_group({"params": [c]})  # what the message says to do
    opt.step()
    np.testing.assert_allclose(c.data, [4.95])


def test_a_setting_given_to_a_groups_update_is_checked_as_one_assigned():
    a = _leaf([1.0, 2.0], "a")
    opt = optim.SGD([a], lr=0.1)
    with pytest.raises(gg.ArgumentError, match=r"SGD: param_groups\[0\]\['lr'\] must be"):
        opt.param_groups[0].update(lr="0.5")
    with pytest.raises(gg.ArgumentError, match=r"param_groups\[0\]\['momentum'\] must be"):
        opt.param_groups[0].update({"lr": 0.5}, momentum=1.0)
    assert opt.param_groups[0]["lr"] == 0.1  # nothing changed: every value checked first
    opt.param_groups[0].update({"lr": np.float64(0.5)}, note="head")
    assert type(opt.param_groups[0]["lr"]) is float and opt.param_groups[0]["note"] == "head"
    a.grad = np.ones(2)
    opt.step()
    np.testing.assert_allclose(a.data, [0.5, 1.5])


@pytest.mark.parametrize("change, message", [
    (lambda group: group.__delitem__("lr"), r"del param_groups\[1\]\['lr'\] would remove"),
    (lambda group: group.pop("lr"), r"param_groups\[1\]\.pop\('lr'\) would remove"),
    (lambda group: group.pop("lr", 0.5), r"param_groups\[1\]\.pop\('lr'\) would remove"),
    (lambda group: group.popitem(), r"param_groups\[1\]\.popitem\(\) would remove "
                                    r"param_groups\[1\]\['maximize'\]"),
    (lambda group: group.clear(), r"param_groups\[1\]\.clear\(\) would remove "
                                  r"param_groups\[1\]\['params'\].*add_param_group"),
    (lambda group: group.__delitem__("params"), r"del param_groups\[1\]\['params'\] would "
                                                 r"remove .*add_param_group"),
    (lambda group: group.__ior__({"lr": -1.0}), r"param_groups\[1\]\['lr'\] must be"),
    (lambda group: group.__ior__({"lr": 0.5, "params": []}),
     r"param_groups\[1\]\['params'\] cannot be replaced"),
], ids=["del", "pop", "pop default", "popitem", "clear", "del params", "|= lr", "|= params"])
def test_a_groups_settings_and_params_cannot_be_removed_or_set_unchecked(change, message):
    """Removed, a setting failed the next step with a KeyError at that group, after the groups
    before it were updated; |= set a value unchecked or replaced the params."""
    a, b = _leaf([1.0, 2.0], "a"), _leaf([3.0, 4.0], "b")
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.2}], lr=0.1, momentum=0.5)
    group = opt.param_groups[1]
    with pytest.raises(gg.ArgumentError, match=rf"SGD: {message}"):
        change(group)
    assert group == {"params": (b,), "lr": 0.2, "weight_decay": 0.0, "momentum": 0.5,
                     "dampening": 0.0, "nesterov": False, "maximize": False}
    a.grad, b.grad = np.ones(2), np.ones(2)
    opt.step()
    np.testing.assert_allclose(a.data, [0.95, 1.95])  # lr 0.1 (1 - momentum) dW
    np.testing.assert_allclose(b.data, [2.9, 3.9])  # lr 0.2


def test_a_group_takes_other_keys_and_settings_by_or_and_setdefault_checked():
    a = _leaf([1.0, 2.0], "a")
    opt = optim.SGD([a], lr=0.1)
    group = opt.param_groups[0]
    group |= {"lr": np.float64(0.5), "note": "head"}
    assert group is opt.param_groups[0] and type(group["lr"]) is float
    assert group.setdefault("lr", -1.0) == 0.5 and group.setdefault("tag", 3) == 3
    assert group.pop("note") == "head" and group.pop("missing", None) is None
    assert group.popitem() == ("tag", 3)
    a.grad = np.ones(2)
    opt.step()
    np.testing.assert_allclose(a.data, [0.5, 1.5])


@pytest.mark.parametrize("change, how", [
    (lambda groups, new: groups.append(new), r"param_groups\.append\(\.\.\.\)"),
    (lambda groups, new: groups.extend([new]), r"param_groups\.extend\(\.\.\.\)"),
    (lambda groups, new: groups.insert(0, new), r"param_groups\.insert\(\.\.\.\)"),
    (lambda groups, new: groups.__iadd__([new]), r"param_groups \+= \.\.\."),
    (lambda groups, new: groups.__setitem__(0, new), r"param_groups\[0\] = \.\.\."),
    (lambda groups, new: groups.__setitem__(slice(1), [new]), r"param_groups\[:1\] = \.\.\."),
    (lambda groups, new: groups.__delitem__(0), r"del param_groups\[0\]"),
    (lambda groups, new: groups.pop(), r"param_groups\.pop\(\)"),
    (lambda groups, new: groups.remove(groups[0]), r"param_groups\.remove\(\.\.\.\)"),
    (lambda groups, new: groups.clear(), r"param_groups\.clear\(\)"),
    (lambda groups, new: groups.reverse(), r"param_groups\.reverse\(\)"),
    (lambda groups, new: groups.__imul__(2), r"param_groups \*= \.\.\."),
    (lambda groups, new: groups.sort(key=lambda g: -g["lr"]), r"param_groups\.sort\(\.\.\.\)"),
], ids=["append", "extend", "insert", "+=", "set", "set slice", "del", "pop", "remove", "clear",
        "reverse", "*=", "sort"])
def test_param_groups_refuse_changes_in_place_and_point_to_add_param_group(change, how):
    """Appended, a group was ignored by step and the state dict: c was never updated."""
    a, b, c = _leaf([1.0, 2.0], "a"), _leaf([3.0, 4.0], "b"), _leaf([5.0], "c")
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.2}], lr=0.1)
    groups = list(opt.param_groups)
    with pytest.raises(gg.ArgumentError, match=rf"SGD\.param_groups cannot be changed in place "
                                               rf"\({how}\): .*optimizer\.add_param_group\("):
        change(opt.param_groups, {"params": [c], "lr": 0.3})
    assert opt.param_groups == groups and len(opt.param_groups) == 2
    a.grad, b.grad, c.grad = np.ones(2), np.ones(2), np.ones(1)
    opt.add_param_group({"params": [c], "lr": 0.3})  # what the message says to do
    for twin in (opt, copy.deepcopy(opt), pickle.loads(pickle.dumps(opt))):
        assert [g["lr"] for g in twin.param_groups] == [0.1, 0.2, 0.3]
        twin.step()
        x, y, z = twin.params
        np.testing.assert_allclose(x.data, [0.9, 1.9])
        np.testing.assert_allclose(y.data, [2.8, 3.8])
        np.testing.assert_allclose(z.data, [4.7])
        with pytest.raises(gg.ArgumentError, match=r"optimizer\.add_param_group"):
            twin.param_groups.append({"params": [c]})


def test_an_optimizer_copied_or_pickled_steps_as_the_original():
    """copy.deepcopy and pickle set a group's items one by one: they must not meet the refusal
    of a new "params" (pickle failed before it, on the group's attributes not set yet)."""
    a = _leaf([1.0, 2.0], "a")
    opt = optim.SGD([{"params": [a], "lr": 0.2}], lr=0.1, momentum=0.5)
    for twin in (copy.deepcopy(opt), pickle.loads(pickle.dumps(opt))):
        b = twin.params[0]
        assert b is not a and twin.param_groups[0]["params"] == (b,)
        with pytest.raises(gg.ArgumentError, match=r"param_groups\[0\]\['lr'\] must be"):
            twin.param_groups[0]["lr"] = -1.0
        b.grad = np.ones(2)
        twin.step()
        np.testing.assert_allclose(b.data, [0.9, 1.9])  # lr 0.2 (1 - momentum) dW
    np.testing.assert_array_equal(a.data, [1.0, 2.0])
