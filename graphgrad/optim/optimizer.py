"""`Optimizer`: what every optimizer shares. The parameters in groups with their settings
(``param_groups``, as in ``torch.optim``), the settings as attributes (``optimizer.lr``, which
`fit` and the schedules set), groups added later (``add_param_group``), the step count t and
each group's own, the state kept per parameter, one step as a loop over the groups, and saving
and restoring it all (``state_dict``). The update rules themselves are in `optim.optimizers`.
Depends on `tensor`, `errors`.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from graphgrad.engine import zero_grads
from graphgrad.errors import (
    ArgumentError,
    GraphgradTypeError,
    ShapeError,
    describe,
    flag,
    listed,
    not_a_state_error,
    real_number,
    setting_text,
    whole_number,
)
from graphgrad.modes import enable_grad
from graphgrad.tensor import Tensor

_IN_0_1 = (lambda x: 0.0 <= x < 1.0, "in [0, 1)")
_AT_LEAST_0 = (lambda x: 0.0 <= x < math.inf, ">= 0 and finite")
# An on/off setting (SGD's nesterov, Adam's amsgrad): True or False, read by `flag`, not as a
# number (1 and 0 are refused, as PyTorch refuses them). A state saved before the setting
# existed has no key for it and loads as False, what the optimizer did then.
_FLAG = (lambda x: False, "True or False")
# A count (LBFGS's max_iter, history_size): a whole number of at least 1, read by
# `whole_number`, kept an int.
_COUNT = (lambda x: False, "a whole number of at least 1")
# LBFGS's line_search_fn: None (a fixed step) or "strong_wolfe". A file holds no None: the
# state dict leaves a None setting out, and a state without it loads as None.
_LINE_SEARCH = (lambda x: False, "None (a fixed step of lr) or 'strong_wolfe'")
# What a setting a saved state has no key for is: an on/off one saved before it existed was
# off; a line search left out was None.
_ABSENT: dict[tuple, Any] = {_FLAG: False, _LINE_SEARCH: None}
# What each setting must be, checked alike for the keyword arguments and every group's.
_RULES: dict[str, tuple[Callable[[float], bool], str]] = {
    "lr": (lambda x: 0.0 < x < math.inf, "positive and finite"),
    "weight_decay": _AT_LEAST_0,
    # 0 made 0 / 0 = NaN of every weight whose gradient had been 0 (a dead ReLU's, an unused
    # word's embedding), as in PyTorch.
    "eps": (lambda x: 0.0 < x < math.inf,
            "positive and finite (the step divides by sqrt(s_dW) + eps, and s_dW is 0 while "
            "a weight's gradients have been 0; the course's eps is 1e-8)"),
    "momentum": _IN_0_1, "beta": _IN_0_1, "beta1": _IN_0_1, "beta2": _IN_0_1,
    "initial_accumulator_value": _AT_LEAST_0, "lr_decay": _AT_LEAST_0,
    "momentum_decay": _AT_LEAST_0,
    "dampening": (lambda x: 0.0 <= x <= 1.0, "in [0, 1]"),
    "nesterov": _FLAG, "amsgrad": _FLAG, "maximize": _FLAG, "centered": _FLAG,
    "max_iter": _COUNT, "max_eval": _COUNT, "history_size": _COUNT,
    "tolerance_grad": _AT_LEAST_0, "tolerance_change": _AT_LEAST_0,
    "line_search_fn": _LINE_SEARCH,
    "decoupled_weight_decay": _FLAG,
    # Rprop's: the step size shrinks on a sign flip and grows while the sign holds.
    "eta_minus": (lambda x: 0.0 < x < 1.0, "in (0, 1)"),
    "eta_plus": (lambda x: 1.0 < x < math.inf, "above 1 and finite"),
    "step_size_min": _AT_LEAST_0,
    "step_size_max": (lambda x: 0.0 < x < math.inf, "positive and finite"),
    # ASGD's.
    "lambd": _AT_LEAST_0, "alpha": _AT_LEAST_0, "t0": _AT_LEAST_0,
}
_FINITE = (math.isfinite, "a finite number")  # a subclass's own setting
# An lr set later, or saved, may be 0: a schedule (a warm-up) may set it so.
_LATER_LR = _AT_LEAST_0


def _number(value: Any, key: str, where: str, rule: tuple[Callable[[float], bool], str]
            ) -> float | bool | int | str | None:
    """A setting, given or saved, as a float that passes ``rule`` (its test and its words),
    a bool for an on/off one (``rule`` is `_FLAG`), an int for a count (`_COUNT`), or
    LBFGS's line search (`_LINE_SEARCH`): None or "strong_wolfe"."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()  # as gg.load gives a saved number (or string)
    if rule is _FLAG:
        return flag(value, key, where)
    if rule is _COUNT:
        return whole_number(value, key, where)
    if rule is _LINE_SEARCH:
        if value is None or value == "strong_wolfe":
            return value
        raise ArgumentError(f"{where}: {key} must be {rule[1]}, got {setting_text(value)}")
    return real_number(value, key, where, *rule)


def _shown(value: float | bool | int | str | None) -> str:
    """A setting in a repr: a number as %g, a flag as True or False, a name quoted."""
    return repr(value) if isinstance(value, (bool, str)) or value is None else f"{value:g}"


def _rule(key: str, later: bool) -> tuple[Callable[[float], bool], str]:
    """What setting ``key`` must be: at construction, or ``later`` (set, or loaded)."""
    return _LATER_LR if later and key == "lr" else _RULES.get(key, _FINITE)


class _Setting:
    """A keyword setting as an optimizer attribute (``optimizer.lr``, ``optimizer.momentum``);
    `Optimizer` says what reading and setting it do with several groups."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, opt: Optimizer | None, owner: type | None = None) -> Any:
        if opt is None:
            return self
        if self.name not in opt.defaults:  # weight_decay, of an optimizer without it (LBFGS)
            raise AttributeError(f"{type(opt).__name__} has no setting {self.name}")
        for group, own in zip(opt.param_groups, opt._own):
            if self.name not in own:
                return group[self.name]
        return opt.defaults[self.name]

    def __set__(self, opt: Optimizer, value: float) -> None:
        if self.name not in opt.defaults:
            raise AttributeError(f"{type(opt).__name__} has no setting {self.name}")
        value = _number(value, self.name, type(opt).__name__, _rule(self.name, later=True))
        opt.defaults[self.name] = value
        for group, own, ratio in zip(opt.param_groups, opt._own, opt._lr_ratios):
            if self.name == "lr":
                group["lr"] = value * ratio  # exactly value in the groups without their own
            elif self.name not in own:
                group[self.name] = value


class _Group(dict):
    """A parameter group, as ``optimizer.param_groups`` lists it: a dict whose settings, when
    one is assigned (``param_groups[1]["lr"] = 0.005``, or by ``update``), are checked as
    ``optimizer.lr = ...`` checks them. A value step could not use is refused there, not by a
    step that would have updated the groups before this one first. Its ``"params"`` cannot be
    replaced: the optimizer keeps each parameter's state, numbered group after group, so a new
    list would be ignored by step; `add_param_group` adds parameters, a new optimizer changes
    them. Neither can a setting or ``"params"`` be removed (``del``, ``pop``, ``popitem``,
    ``clear``), and ``|=`` and ``setdefault`` set values as assigning does; other keys (a
    note of the user's) are the user's to set and remove."""

    __slots__ = ("_owner", "_where", "_settings")

    def __init__(self, owner: str, where: str, settings: Iterable[str],
                 items: Mapping[str, Any]) -> None:
        super().__init__(items)
        self._owner, self._where, self._settings = owner, where, frozenset(settings)

    def _checked(self, key: str, value: Any) -> Any:
        if key == "params":
            raise ArgumentError(
                f"{self._owner}: {self._where}['params'] cannot be replaced: the optimizer "
                "keeps the state of each of its parameters (v_dW, s_dW) and would go on "
                "stepping the old ones. To optimize more tensors, add a group: "
                "optimizer.add_param_group({'params': tensors}); to optimize other ones, make "
                f"a new optimizer: {self._owner}(tensors, ...).")
        if key in self._settings:
            value = _number(value, f"{self._where}[{key!r}]", self._owner,
                            _rule(key, later=True))
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, self._checked(key, value))

    def update(self, *args: Any, **kwargs: Any) -> None:
        # Every value checked before any is set: a refused one changes nothing.
        items = dict(*args, **kwargs)
        super().update({key: self._checked(key, value) for key, value in items.items()})

    def __ior__(self, other: Any) -> _Group:  # dict's |= would not call update
        self.update(other)
        return self

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def _kept(self, key: Any, how: str) -> None:
        """Refuse ``how`` (``"del param_groups[1]['lr']"``) removing ``"params"`` or a
        setting, which step reads for every parameter of the group: a group without its lr
        failed the next step there, after the groups before it were updated."""
        if key != "params" and key not in self._settings:
            return
        if key == "params":
            instead = ("the parameters change by optimizer.add_param_group({'params': "
                       f"tensors}}) or a new optimizer: {self._owner}(tensors, ...)")
        else:
            instead = f"a setting can be changed ({self._where}[{key!r}] = value), not removed"
        raise ArgumentError(f"{self._owner}: {how} would remove {self._where}[{key!r}], which "
                            f"step reads for every parameter of the group; {instead}")

    def __delitem__(self, key: str) -> None:
        self._kept(key, f"del {self._where}[{key!r}]")
        super().__delitem__(key)

    def pop(self, key: str, *default: Any) -> Any:
        self._kept(key, f"{self._where}.pop({key!r})")
        return super().pop(key, *default)

    def popitem(self) -> tuple[str, Any]:
        if self:
            self._kept(next(reversed(self)), f"{self._where}.popitem()")
        return super().popitem()

    def clear(self) -> None:
        for key in self:
            self._kept(key, f"{self._where}.clear()")
        super().clear()

    def __reduce__(self) -> tuple:
        # copy.deepcopy and pickle rebuild the group through __init__, not by assigning its
        # items one by one, which refuses "params" (and ran before the slots were set).
        return type(self), (self._owner, self._where, self._settings, dict(self))


class _ParamGroups(list):
    """``optimizer.param_groups``: a list of the groups that refuses changes in place
    (``append``, ``extend``, ``insert``, ``+=``, assigning or deleting an item, ...). Step,
    the state and the state dict follow the groups the optimizer made, so a group appended
    here would be ignored by every step: `add_param_group` adds one, checked."""

    __slots__ = ("_owner",)

    def __init__(self, owner: str, groups: Iterable[_Group] = ()) -> None:
        super().__init__(groups)
        self._owner = owner

    def _refuse(self, how: str, *args: Any) -> Any:
        raise ArgumentError(
            f"{self._owner}.param_groups cannot be changed in place ({how}): step and the state "
            "dict follow the groups the optimizer made and would ignore it. Add a group with "
            "optimizer.add_param_group({'params': tensors, 'lr': ...}); change a group's "
            "settings in it (param_groups[1]['lr'] = 0.005); for other parameters, make a new "
            f"optimizer: {self._owner}(tensors, ...)")

    def _index(self, index: Any) -> str:
        if isinstance(index, slice):
            return ":".join("" if i is None else str(i)
                            for i in (index.start, index.stop, index.step)[:2 + bool(index.step)])
        return repr(index)

    def __setitem__(self, index: Any, value: Any) -> None:
        self._refuse(f"param_groups[{self._index(index)}] = ...")

    def __delitem__(self, index: Any) -> None:
        self._refuse(f"del param_groups[{self._index(index)}]")

    def __iadd__(self, other: Any) -> Any:
        return self._refuse("param_groups += ...")

    def __imul__(self, other: Any) -> Any:
        return self._refuse("param_groups *= ...")

    def append(self, group: Any) -> None:
        self._refuse("param_groups.append(...)")

    def extend(self, groups: Any) -> None:
        self._refuse("param_groups.extend(...)")

    def insert(self, index: Any, group: Any) -> None:
        self._refuse("param_groups.insert(...)")

    def pop(self, index: Any = -1) -> Any:
        return self._refuse("param_groups.pop()")

    def remove(self, group: Any) -> None:
        self._refuse("param_groups.remove(...)")

    def clear(self) -> None:
        self._refuse("param_groups.clear()")

    def reverse(self) -> None:
        self._refuse("param_groups.reverse()")

    def sort(self, *args: Any, **kwargs: Any) -> None:
        self._refuse("param_groups.sort(...)")

    def __reduce__(self) -> tuple:
        # copy.deepcopy and pickle would otherwise rebuild the list by extend, refused here.
        return type(self), (self._owner, list(self))


class Optimizer:
    """Base class: the parameters in groups with their settings, groups added later
    (``add_param_group``), the step count ``t``, per-parameter state, ``zero_grad``,
    ``state_dict`` / ``load_state_dict``.

    ``params`` is tensors (one group, with the keyword arguments' settings) or dicts, one per
    group, ``{"params": tensors, **settings}``: each setting (``lr``, ``weight_decay``, and the
    optimizer's own, such as SGD's ``momentum``) replaces the keyword's value in that group::

        optim.SGD([{"params": pretrained, "lr": 0.001}, {"params": head}], lr=0.01)

    ``optimizer.param_groups`` lists the groups as PyTorch does (a list that refuses
    ``append`` and the other changes in place, which step would ignore: ``add_param_group``
    adds a group): dicts with ``"params"`` (a tuple, which cannot be replaced either: which
    parameters are optimized changes by ``add_param_group`` or a new optimizer)
    and every setting, read at each step (``param_groups[1]["lr"] = 0.005`` changes group 1's
    next step; a value assigned there is checked as ``optimizer.lr = ...`` checks it).
    ``optimizer.params`` lists every parameter, group after group, and
    ``optimizer.defaults`` the keyword arguments' settings. ``add_param_group({"params": tensors,
    **settings})`` adds a group during training (a layer unfrozen later), checked as the groups
    given here; the settings it does not give are the keyword arguments' (``defaults``), as they
    are then.

    The settings as attributes (``optimizer.lr``, ``optimizer.momentum``) stand for the keyword
    arguments. Reading one gives the value in the first group that did not give its own (the
    last value set, at first the keyword's, when every group did); setting one sets it in every
    group that did not give its own. ``optimizer.lr = alpha`` (what `fit` does with a schedule)
    also sets the groups that gave their own lr, each to alpha times its ratio to the keyword's
    lr at construction (group lr = alpha * its lr / the keyword's lr; for a group added
    later, its lr over the keyword's lr then, or at construction if that was 0): a schedule
    whose alpha0 is the keyword's lr decays every group alike, each from its own lr. With the
    tensors given directly (one group), the attributes are that group's settings.

    ``t`` counts the calls to ``step()``. Each group also counts its own steps, from its first
    one (``group_steps``): ``t`` for the groups given here, fewer for a group added later, whose
    Adam bias correction then starts afresh as a new optimizer's would.

    ``state_dict`` holds the settings, ``t`` and the state arrays, numbered over
    ``optimizer.params`` (``"state.0.v"``), with each parameter's shape (``"param.0.shape"``:
    a state is refused by an optimizer made over other parameters, or in another order).
    With several groups, or one with settings of its own, it also holds each group's settings
    (``"group.1.lr"``), the numbers of its parameters (``"group.1.params"``), the ratio of its
    lr to the keyword's that ``optimizer.lr = alpha`` keeps (``"group.1.lr_ratio"``, which
    setting the group's lr by hand leaves as it was) and its step count when it is not ``t``
    (``"group.1.t"``, a group added later), and ``load_state_dict`` refuses a state whose
    groups are not this optimizer's: to resume after ``add_param_group``, make the optimizer
    and add the same groups first.

    Subclasses set ``state_names`` (the arrays kept per parameter, e.g. ``("v", "s")``),
    ``hyper_names`` (their settings, keyword arguments passed on to ``__init__`` as
    ``hypers``, each checked as a number, or as True or False for an on/off one (`_FLAG` in
    `_RULES`; `_COUNT` and `_LINE_SEARCH` for LBFGS's), and also declared as
    ``name = _Setting()``; ``weight_decay=None`` for an optimizer without it) and implement
    ``_update(p, g, group, state, scratch)``:
    ``g`` is dW (-dW in the groups with ``maximize``, a setting of the subclasses that name it;
    weight decay included, unless ``decay_in_gradient`` is False), ``group`` the
    parameter's group (``group["lr"]``), ``state`` the parameter's dict of arrays, ``scratch``
    an array of p's shape free to overwrite; apply the step with `_write(p, np.subtract, step)`.
    The groups whose on/off setting ``variant_flag`` (SGD's ``"nesterov"``) is on step by
    ``_variant_update`` instead, with the same arguments: chosen once per group (by
    ``_update_of(group)``, which a subclass with several such settings overrides), so that
    ``_update`` tests no setting for every parameter. A setting added after states were
    first saved is in ``added_settings`` with the value that does what the optimizer did
    before it (an on/off one is False without being listed): a state without it loads so.
    A subclass takes ``**options`` (PyTorch's keywords for how a step is computed, passed on as
    ``options``: `check_torch_options`), sets ``torch_options`` to those PyTorch's optimizer of
    its name takes and ``torch_names`` to PyTorch's names of its settings named otherwise.
    Those that need the group's step count override ``_step_group(group, slots, t)``; one that
    overrides ``step`` itself calls ``self._check_grads()`` first, so that a bad gradient
    changes nothing.
    """

    state_names: tuple[str, ...] = ()
    hyper_names: tuple[str, ...] = ()
    # True: weight_decay is added to dW (L2 regularisation). False: the subclass applies it to
    # W itself in _update (AdamW's decoupled decay).
    decay_in_gradient: bool = True
    # An on/off setting (SGD's "nesterov", Adam's "amsgrad") whose groups step by
    # _variant_update instead of _update, chosen once per group and step.
    variant_flag: str = ""
    # The state arrays kept only for the parameters of some groups (SGD's v_dW, for the groups
    # with momentum): `load_state_dict` takes them as the state has them.
    optional_state: tuple[str, ...] = ()
    # The numeric settings a state saved before they existed lacks (Adagrad's lr_decay), with
    # the value that does what the optimizer did then; shown in the repr when not that value.
    added_settings: Mapping[str, float] = {}
    # PyTorch's keywords choosing how its step is computed that its optimizer of this name
    # takes (`check_torch_options`), and its names of settings named otherwise here, with
    # what to write instead.
    torch_options: tuple[str, ...] = ("foreach", "capturable", "differentiable")
    torch_names: Mapping[str, str] = {}
    lr = _Setting()
    weight_decay = _Setting()

    def __init__(self, params: Iterable[Tensor] | Iterable[Mapping[str, Any]], lr: float,
                 weight_decay: float | None = 0.0, *, options: Mapping[str, Any] | None = None,
                 **hypers: Any) -> None:
        name = type(self).__name__
        check_torch_options(self, options or {})
        given = _listed(params, name)
        if not given:
            raise ArgumentError(f"{name}: got no parameters to optimize; pass "
                                "model.parameters() (a generator already used up gives none)")
        # weight_decay None: the optimizer has no such setting (LBFGS, as PyTorch's).
        decay = {} if weight_decay is None else {"weight_decay": weight_decay}
        self.defaults = self._checked({"lr": lr, **decay, **hypers}, name)
        self._base_lr = self.defaults["lr"]  # the keyword's lr, never 0
        self.t = 0  # the calls to step()
        # Parallel lists, one entry per group, filled by _add_groups (add_param_group too).
        self.param_groups: list[dict[str, Any]] = _ParamGroups(name)
        self._own: list[frozenset[str]] = []  # the settings each group gave
        self._lr_ratios: list[float] = []  # what optimizer.lr = alpha keeps
        self._added_at: list[int] = []  # t when each group was added: its steps are t - this
        self._groups: list[tuple[dict[str, Any], list]] = []  # each group's (p, state, scratch)
        # Parallel lists, one entry per parameter, group after group: one dict of arrays per
        # parameter, plus a scratch array for the step itself.
        self.params: list[Tensor] = []
        self.state: list[dict[str, np.ndarray]] = []
        self._scratch: list[np.ndarray] = []
        # For step's check: each parameter, its shape and dtype, and the array of its .data
        # that passed the check last (a replaced one is checked again).
        self._expected: list[list] = []
        if isinstance(given[0], Mapping):
            self._add_groups([self._read_group(i, spec) for i, spec in enumerate(given)])
        else:
            self._add_groups([({}, given)])

    def add_param_group(self, group: Mapping[str, Any]) -> None:
        """Add a group of parameters, ``{"params": tensors, **settings}``, as in ``torch.optim``:
        checked as a group given to the constructor, its settings the ones it gives and, for
        the others, the keyword arguments' as they are now (``optimizer.defaults``, which
        ``optimizer.lr = alpha`` sets). Its parameters start with zero state (v_dW, s_dW) and
        its steps are counted from its first one, so Adam corrects their bias as a new
        optimizer would. ``optimizer.lr = alpha`` then keeps its lr's ratio to the keyword's
        lr now.

        Transfer learning: train a new last layer on pretrained, frozen ones, then unfreeze
        the layer below it and fine-tune it too, with a smaller learning rate::

            model.linear1.requires_grad_(False)  # linear1 and linear2: pretrained
            model.linear2.requires_grad_(False)
            optimizer = optim.Adam(model.linear3.parameters(), lr=1e-3)
            gg.fit(model, nn.mse, optimizer, (X, Y), epochs=5)
            model.linear2.requires_grad_(True)
            optimizer.add_param_group({"params": model.linear2.parameters(), "lr": 1e-4})
            gg.fit(model, nn.mse, optimizer, (X, Y), epochs=5)
        """
        if not isinstance(group, Mapping):
            raise ArgumentError(
                f"{type(self).__name__}.add_param_group takes a dict {{'params': tensors, "
                f"'lr': ...}}, got a {type(group).__name__}")
        self._add_groups([self._read_group(len(self.param_groups), group)])

    def _add_groups(self, groups: list[tuple[dict[str, float], list[Any]]]) -> None:
        """Check the groups read by `_read_group` and append them, with their state; nothing
        changes when a check fails."""
        self._check_params([tensors for _, tensors in groups])
        # The lr a group's own lr is a ratio to: the keyword's now, or at construction when
        # it is 0 now (a warm-up's first epoch), so that a ratio always exists.
        alpha = self.defaults["lr"] or self._base_lr
        for own, tensors in groups:
            # A tuple: editing it in place would leave the steps, state and state dict
            # numbering behind; add_param_group adds, a new optimizer removes.
            group = _Group(type(self).__name__, f"param_groups[{len(self.param_groups)}]",
                           self.defaults, {"params": tuple(tensors), **self.defaults, **own})
            slots = [(p, self._new_state(p, group), np.empty_like(p.data)) for p in tensors]
            list.append(self.param_groups, group)  # which refuses append
            self._own.append(frozenset(own))
            self._lr_ratios.append(own.get("lr", alpha) / alpha)
            self._added_at.append(self.t)
            self._groups.append((group, slots))
            for p, state, scratch in slots:
                self.params.append(p)
                self.state.append(state)
                self._scratch.append(scratch)
                self._expected.append([p, scratch.shape, scratch.dtype, p.data])

    def _checked(self, settings: Mapping[str, Any], where: str,
                 saved: bool = False) -> dict[str, float]:
        """The settings as floats, each checked against its rule (`_rule`): a ``saved``
        state's lr may be 0."""
        return {key: _number(value, key, where, _rule(key, later=saved))
                for key, value in settings.items()}

    def _read_group(self, i: int, spec: Any) -> tuple[dict[str, float], list[Any]]:
        """One group given as ``{"params": tensors, **settings}``: its settings and tensors."""
        name = type(self).__name__
        where = f"{name}: parameter group {i}"
        if not isinstance(spec, Mapping):
            raise ArgumentError(f"{where} is a {type(spec).__name__}; give either tensors or "
                                "dicts {'params': tensors, 'lr': ...}, not both")
        tensors = spec.get("params")
        if tensors is None or not isinstance(tensors, (Tensor, Iterable)):
            raise ArgumentError(f"{where} has no 'params': write {{'params': tensors, ...}}, "
                                "the tensors being a list such as model.linear1.parameters()")
        unknown = [repr(key) for key in spec if key != "params" and key not in self.defaults]
        if unknown:
            raise ArgumentError(f"{where}: unknown setting {', '.join(unknown)}; the settings of "
                                f"{name} are {', '.join(self.defaults)}")
        tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
        if not tensors:
            raise ArgumentError(f"{where} has no parameters; give it some, or leave it out")
        return self._checked({k: v for k, v in spec.items() if k != "params"}, where), tensors

    def _check_params(self, groups: list[list[Any]]) -> None:
        """New groups' tensors, numbered after the groups already here: leaf tensors, each in
        one group (an element that is no Tensor is a `GraphgradTypeError`). A frozen one
        (requires_grad False) gets no gradient, so step leaves it as it is until it is
        unfrozen, as in torch.optim; a group of frozen ones only is refused, since nothing in
        it would learn."""
        name, several = type(self).__name__, len(self.param_groups) + len(groups) > 1
        group_of = {id(p): i for i, (_, slots) in enumerate(self._groups)  # id(p) -> its group
                    for p, _, _ in slots}
        for i, tensors in enumerate(groups, start=len(self.param_groups)):
            for j, p in enumerate(tensors):
                which = f"parameter group {i}, parameter {j}" if several else f"parameter {j}"
                if not isinstance(p, Tensor):
                    raise not_a_tensor(name, which, p)
                if p.creator is not None:
                    raise ArgumentError(
                        f"{name}: {which} ({describe(p)}) is not a leaf Tensor; pass "
                        "model.parameters() or tensors made with requires_grad=True, not "
                        "results computed from them"
                    )
                if group_of.get(id(p), i) != i:
                    raise ArgumentError(
                        f"{name}: {which} ({describe(p)}) is in parameter group "
                        f"{group_of[id(p)]} too; give each parameter to one group")
                if id(p) in group_of:
                    raise ArgumentError(f"{name}: {which} ({describe(p)}) is given twice")
                group_of[id(p)] = i
            if not any(p.requires_grad for p in tensors):
                where = f"parameter group {i}" if several else "every parameter"
                raise ArgumentError(
                    f"{name}: {where} ({len(tensors)} tensors, the first "
                    f"{describe(tensors[0])}) is frozen or made without requires_grad=True, so "
                    "nothing would learn: unfreeze a layer first (layer.requires_grad_(True)) "
                    "or make the tensors with requires_grad=True"
                )

    def _new_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, np.ndarray]:
        return {key: zeros_of(p) for key in self.state_names}

    @property
    def _absent(self) -> dict[str, Any]:
        """The settings a saved state may have no key for, with the value it loads with
        (`_ABSENT`): the on/off ones (`_FLAG`), False, which a state saved before them lacks;
        LBFGS's line search, None, which a file cannot hold; and ``added_settings``."""
        return {**{key: _ABSENT[_RULES[key]] for key in self.hyper_names
                   if _RULES.get(key) in _ABSENT},
                **self.added_settings}

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients (``p.grad = None``): the next backward starts from zero. With
        ``set_to_none=False`` each .grad is filled with zeros in place instead, as in PyTorch
        (`engine.zero_grads` says when a new array of zeros is given instead); a parameter
        without a gradient keeps None, and step leaves a zero gradient's parameter as it is
        only without momentum or weight decay, as PyTorch does too."""
        zero_grads(self.params, flag(set_to_none, "set_to_none", f"{type(self).__name__}"
                                                                 ".zero_grad"))

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient, from its ``.grad``, with its group's
        settings. A gradient the step cannot apply (set by hand with another shape, or not
        numbers), or a parameter whose .data was replaced by an array it cannot update (of
        another shape, or integers), is refused before anything changes: fix it and call step
        again.

        ``closure``, as in ``torch.optim``: a function that computes the gradients and returns
        the loss (``optimizer.zero_grad(); J = cost(model(X), Y); J.backward(); return J``),
        called once before the update, with the graph recorded even inside `gg.no_grad`; step
        then returns what it returned (None without a closure). `LBFGS` needs one."""
        loss = None if closure is None else call_closure(closure, type(self).__name__)
        self._check_grads()
        self.t += 1
        t = self.t
        for (group, slots), added_at in zip(self._groups, self._added_at):
            self._step_group(group, slots, t - added_at)
        return loss

    def _check_grads(self) -> None:
        """Refuse, before the step changes a parameter or the state, a gradient it cannot
        apply, or a parameter whose ``.data`` was replaced by an array the step cannot update
        (another shape, integers): numpy would broadcast it into the step (a .grad set by hand
        to a number moved every weight by it), or fail at that parameter, after the ones
        before it were updated and t counted."""
        ndarray = np.ndarray
        # One cheap test per parameter with a gradient: of the gradient against the array's
        # shape and dtype when it was given (dtypes are singletons: `is`), and of .data by
        # identity with the array that passed last time, a quarter of the cost of reading its
        # shape and dtype at every step. The reason is looked for only when one fails; a
        # parameter without a gradient is not updated, so its data may be anything.
        converted = []
        for expected in self._expected:
            p, shape, dtype, checked = expected
            g = p.grad
            if g is not None and (type(g) is not ndarray or g.shape != shape
                                  or g.dtype is not dtype or p.data is not checked):
                self._check_one(p, g, shape)
                expected[3] = p.data
                if p.data.dtype != dtype:
                    converted.append(expected)
        if converted:  # once every parameter passed: a refused step changes nothing
            self._follow_dtypes(converted)

    def _follow_dtypes(self, converted: list[list]) -> None:
        """Convert the state and scratch arrays of the parameters of ``converted`` (entries of
        ``_expected``), whose .data changed dtype since they were given (``model.double()``
        after the optimizer was made), to their new dtype, as an optimizer made after would
        have them: else the steps were computed in the old dtype and rounded into the
        parameters (float32 steps in a float64 model), each through the check's slow path."""
        ids = {id(expected) for expected in converted}
        for i in [i for i, expected in enumerate(self._expected) if id(expected) in ids]:
            p, state, old = self.params[i], self.state[i], self._scratch[i]
            dtype = p.data.dtype
            for key, value in state.items():
                state[key] = value.astype(dtype)
            self._scratch[i] = scratch = np.empty_like(p.data)
            for _, slots in self._groups:
                for k, (q, group_state, held) in enumerate(slots):
                    if held is old:
                        slots[k] = (q, group_state, scratch)
            self._expected[i][2] = dtype

    def _check_one(self, p: Tensor, g: Any, shape: tuple[int, ...]) -> None:
        """Raise why ``step`` cannot apply ``g`` to ``p``, which had ``shape`` when it was
        given to the optimizer; nothing when it can (a list of numbers of p's shape, another
        float dtype)."""
        where = f"{type(self).__name__}.step: {describe(p)}"
        label = p.name or "p"
        data = p.data
        if not isinstance(data, np.ndarray):
            raise GraphgradTypeError(
                f"{where}: its .data is a {type(data).__name__}, not an array; nothing was "
                f"updated. Assign an array: {label}.data = np.asarray(values, dtype=np.float64).")
        if data.dtype.kind != "f":
            raise GraphgradTypeError(
                f"{where} holds {data.dtype} values, which a step cannot update: its .data was "
                f"replaced after it was given to the optimizer; nothing was updated. Give it a "
                f"float array again: {label}.data = {label}.data.astype(np.float64).")
        if data.shape != shape:
            raise ShapeError(
                f"{where} had shape {shape} when it was given to the optimizer, whose state "
                "for it has that shape; nothing was updated. Make a new optimizer after "
                "changing a parameter's shape (or put back an array of that shape).")
        array = real_gradient(p, g, where, "Nothing was updated")
        if array.shape != shape:
            raise ShapeError(
                f"{where} has a .grad of shape {array.shape}, not the parameter's; numpy "
                "would broadcast it into a step of another size. Nothing was updated: set the "
                f".grad to an array of shape {shape} (or None), or zero_grad() and backward().")

    @property
    def group_steps(self) -> list[int]:
        """Each group's step count, the t of its Adam bias correction: ``t`` for the groups
        given to the constructor, the steps since it was added for a group added later."""
        return [self.t - added_at for added_at in self._added_at]

    def _step_group(self, group: dict[str, Any], slots: list, t: int) -> None:
        """One step of a group's parameters, ``slots`` their (p, state, scratch); ``t`` is the
        group's step count, from 1."""
        decay = group["weight_decay"] if self.decay_in_gradient else 0.0
        # Ascend: the step of -J's gradient, as PyTorch's maximize negates dW before the
        # weight decay is added (which still shrinks W). A new array: .grad is left as it is.
        maximize = group.get("maximize", False)
        # Chosen once per group, so that no setting is tested per parameter.
        update = self._update_of(group)
        for p, state, scratch in slots:
            g = p.grad
            if g is None:
                continue
            if maximize:
                g = np.negative(g)
            if decay:  # L2 regularisation's dW += lambda/m * W, applied here
                g = g + decay * p.data
            update(p, g, group, state, scratch)

    def _update_of(self, group: dict[str, Any]) -> Callable[..., None]:
        """The update of ``group``'s parameters at this step: `_variant_update` when its
        ``variant_flag`` is on, `_update` otherwise."""
        variant = self.variant_flag
        return self._variant_update if variant and group[variant] else self._update

    def _update(self, p: Tensor, g: np.ndarray, group: dict[str, Any], state: dict,
                scratch: np.ndarray) -> None:
        raise NotImplementedError

    def _variant_update(self, p: Tensor, g: np.ndarray, group: dict[str, Any], state: dict,
                        scratch: np.ndarray) -> None:
        """`_update` for the groups whose ``variant_flag`` is on."""
        raise NotImplementedError

    # -- saving and restoring ----------------------------------------------------------------
    def _indices(self) -> list[np.ndarray]:
        """Each group's parameters, as their numbers in ``self.params``."""
        sizes = [len(group["params"]) for group in self.param_groups]
        return [np.arange(stop - size, stop) for size, stop in zip(sizes, np.cumsum(sizes))]

    def state_dict(self) -> dict[str, Any]:
        """The settings, the step count and copies of the state arrays, flat by name
        (``"state.0.v"``). The settings are the keyword arguments' (``"lr"``), and, unless the
        only group has just those, each group's (``"group.1.lr"``) with the numbers of its
        parameters (``"group.1.params"``), its lr's ratio to the keyword's that
        ``optimizer.lr = alpha`` keeps (``"group.1.lr_ratio"``), ``"group.1.t"`` for a group
        added after the first step; and each parameter's shape (``"param.0.shape"``), which
        `load_state_dict` compares with its own parameters'. Ready for `gg.save`."""
        defaults, groups = self.defaults, self.param_groups
        out: dict[str, Any] = {"optimizer": type(self).__name__, "lr": defaults["lr"],
                               "t": self.t}
        for name in ("weight_decay", *self.hyper_names):
            if defaults.get(name) is not None:  # a file holds no None: loaded as None (_ABSENT)
                out[name] = defaults[name]
        if len(groups) == 1 and not self._own[0] and all(
                groups[0][key] == value for key, value in defaults.items()):
            groups = []  # the keyword arguments' settings say it all
        for i, (group, indices) in enumerate(zip(groups, self._indices())):
            out[f"group.{i}.params"] = indices
            if self._added_at[i]:
                out[f"group.{i}.t"] = self.t - self._added_at[i]
            # What optimizer.lr = alpha keeps: the group's lr may have been set by hand since.
            out[f"group.{i}.lr_ratio"] = self._lr_ratios[i]
            for key in defaults:
                if group[key] is not None:
                    out[f"group.{i}.{key}"] = group[key]
        for i, (scratch, state) in enumerate(zip(self._scratch, self.state)):
            # Which parameter each number stood for, so that loading into an optimizer made
            # over other parameters, or the same in another order, is refused: SGD without
            # momentum keeps no array that would show it. The shape it was given with (its
            # scratch array's), which a .data replaced since does not change.
            out[f"param.{i}.shape"] = np.array(scratch.shape, dtype=np.int64)
            for key, array in state.items():
                out[f"state.{i}.{key}"] = array.copy()
        return out

    def _where(self, state: Mapping[str, Any]) -> str:
        source = getattr(state, "source", None)  # the file, when gg.load read it
        origin = f" in {source}" if source else ""
        return f"{type(self).__name__}.load_state_dict: the state{origin}"

    def _saved_groups(self, state: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Each group's settings in a saved state (those it has), once the state is known to be
        from this kind of optimizer, with the same groups."""
        name, where = type(self).__name__, self._where(state)
        if "param_groups" in state and "state" in state and "optimizer" not in state:
            raise ArgumentError(
                f"{where} is PyTorch's (its keys 'state' and 'param_groups', with tensors "
                "by parameter number): graphgrad keeps its optimizers' states in its own "
                "form, flat by name ('state.0.v', 'lr', 't'), and loads only those. Load "
                f"one saved by {name}.state_dict(), or start afresh (a new {name})")
        saved_kind = str(np.asarray(state.get("optimizer", name)))
        if saved_kind != name:
            raise ArgumentError(f"{where} is from {saved_kind}")
        saved = [k for k in state if k.startswith("group.") and k.endswith(".params")]
        n_saved, n = len(saved) or 1, len(self.param_groups)
        if n_saved != n:
            raise ArgumentError(
                f"{where} has {n_saved} parameter group{'s' * (n_saved > 1)}, this optimizer "
                f"{n}; make it with the groups that were saved")
        absent = self._absent
        if n == 1 and "group.0.params" not in state:  # saved when one group kept no own
            return [{key: _saved(state, key, key, absent) for key in self.defaults
                     if key in state or key in absent}]
        groups = []
        for i, ours in enumerate(self._indices()):
            theirs = np.asarray(state.get(f"group.{i}.params", [])).tolist()
            if theirs != ours.tolist():
                raise ArgumentError(
                    f"{where} has parameters {theirs} in group {i}, this optimizer "
                    f"{ours.tolist()}; make it with the groups that were saved")
            groups.append({key: _saved(state, f"group.{i}.{key}", key, absent)
                           for key in self.defaults
                           if f"group.{i}.{key}" in state or key in absent})
        return groups

    def _check_saved_params(self, state: Mapping[str, Any], where: str) -> list[str]:
        """Refuse a state saved for other parameters than this optimizer's: another number
        of them, or shapes that differ (the same ones in another order). Its keys
        ``"param.i.shape"``, which states saved before they existed do not have."""
        keys = [key for key in state if key.startswith("param.") and key.endswith(".shape")]
        if not keys:
            return keys
        saved = {}
        for key in keys:
            number = key[len("param."):-len(".shape")]
            shape = np.asarray(state[key])
            if not number.isdigit() or shape.ndim != 1 or shape.dtype.kind not in "iu":
                raise ArgumentError(f"{where} has {key!r} = {shape!r}, not a parameter's shape "
                                    "(parameter numbers from 0, a list of whole numbers)")
            saved[int(number)] = tuple(int(n) for n in shape)
        ours = [scratch.shape for scratch in self._scratch]
        theirs = [saved.get(i) for i in range(max(len(saved), max(saved) + 1))]
        make = (f"make the optimizer with the parameters it was saved with, in the same "
                f"order: {type(self).__name__}(model.parameters(), ...) of a model built as the "
                "saved one")
        if len(theirs) != len(ours):
            raise ArgumentError(
                f"{where} was saved for {_count(theirs)} ({_shapes(theirs)}), this optimizer "
                f"has {_count(ours)} ({_shapes(ours)}). Nothing was loaded: {make}")
        wrong = [i for i, (a, b) in enumerate(zip(theirs, ours)) if a != b]
        if wrong:
            order = ("the same shapes in another order: " if sorted(map(str, theirs))
                     == sorted(map(str, ours)) else "")
            listed = "; ".join(f"parameter {i} was {theirs[i]}, here it is "
                               f"{describe(self.params[i])}" for i in wrong[:4])
            more = f"; and {len(wrong) - 4} more" if len(wrong) > 4 else ""
            raise ArgumentError(f"{where} was saved for other parameters, {order}{listed}"
                                f"{more}. Nothing was loaded: {make}")
        return keys

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue from a saved `state_dict` (same optimizer, same groups, the same
        parameters in the same order: another number of them, or another shape at a place,
        is refused; two of one shape swapped cannot be told apart). The settings, per group
        too, come from the state, and so do the ratios that ``optimizer.lr = alpha`` keeps and
        the step counts. A state saved after `add_param_group` needs the same groups added
        first. The arrays kept for some groups only (``optional_state``: SGD's v_dW, with
        momentum; Adam's s_max, with amsgrad) are taken as saved, whatever this optimizer was
        made with, as the settings that decide them are: a state saved after
        ``optimizer.momentum`` was changed by hand loads too. An on/off setting the state has
        no key for (saved before it existed) is False."""
        if not isinstance(state, Mapping):
            raise not_a_state_error(f"{type(self).__name__}.load_state_dict", state, "optimizer")
        if not self.optional_state:
            self._load_state(state)
            return
        # The slots made the same as the state's, so that the keys are checked alike; as they
        # were if the state is refused, which changes nothing.
        kept = [dict(slots) for slots in self.state]
        for i, slots in enumerate(self.state):
            for key in self.optional_state:
                if f"state.{i}.{key}" in state:
                    slots.setdefault(key, zeros_of(self.params[i]))
                else:
                    slots.pop(key, None)
        try:
            self._load_state(state)
        except BaseException:
            for slots, before in zip(self.state, kept):
                slots.clear()
                slots.update(before)
            raise

    def _own_keys(self, state: Mapping[str, Any]) -> list[str]:
        """The keys of ``state`` a subclass reads itself (LBFGS's memory), which
        `_load_state` leaves to it."""
        return []

    def _load_state(self, state: Mapping[str, Any]) -> None:
        """`load_state_dict` once the optional arrays' slots are the state's."""
        saved_groups = self._saved_groups(state)
        where = self._where(state)
        shape_keys = self._check_saved_params(state, where)
        absent = self._absent  # the settings a state saved before them lacks
        expected = ["lr", "t", *(k for k in self.defaults if k != "lr" and k not in absent)]
        n = len(self.param_groups)
        # Each group's step count, saved when it is not t (a group added later): t otherwise,
        # and in the states saved before groups could be added.
        counts = [f"group.{i}.t" for i in range(n)]
        # Each group's lr over the keyword's lr, which optimizer.lr = alpha keeps: as saved; a
        # state saved before it was has none, and a group with an lr of its own then takes the
        # ratio of the loaded lrs.
        ratio_keys = [f"group.{i}.lr_ratio" for i in range(n)]
        if n > 1 or "group.0.params" in state:
            expected += [f"group.{i}.{key}" for i in range(n) for key in ("params", *self.defaults)
                         if key not in absent]
        expected += [f"state.{i}.{key}" for i, slots in enumerate(self.state) for key in slots]
        missing = [k for k in expected if k not in state]
        # a set: a model may have many parameters
        known = {*expected, *counts, *ratio_keys, *shape_keys, "optimizer", *absent,
                 *(f"group.{i}.{key}" for i in range(n) for key in absent),
                 *self._own_keys(state)}
        unexpected = [k for k in state if k not in known]
        problems = []
        if missing:
            problems.append(f"missing keys: {', '.join(missing)}")
        if unexpected:
            problems.append(f"unexpected keys: {', '.join(unexpected)} (a different number of "
                            "parameters?)")
        t = _step_count(state.get("t", 0), "t", problems)
        group_t = [_step_count(state.get(key, t), key, problems) for key in counts] or [t]
        if t is not None:
            problems += [f"{key}: {count} steps, not from 0 to t = {t}"
                         for key, count in zip(counts, group_t)
                         if count is not None and not 0 <= count <= t]
        # Every value is converted before any is set: a state that does not fit changes nothing.
        arrays = []
        for i, slots in enumerate(self.state):
            for key, array in slots.items():
                given = state.get(f"state.{i}.{key}")
                if given is None:
                    continue
                given = np.asarray(given)
                if given.shape != array.shape:
                    problems.append(f"state.{i}.{key}: shape {given.shape}, the parameter "
                                    f"{describe(self.params[i])} needs {array.shape}")
                elif given.dtype.kind not in "biuf":
                    problems.append(f"state.{i}.{key}: the state holds {given.dtype} values, "
                                    "not numbers")
                else:
                    arrays.append((slots, key, np.array(given, dtype=self.params[i].dtype)))
        if problems:
            raise ArgumentError(f"{where} does not fit:\n  " + "\n  ".join(problems))
        defaults = self._checked({key: _saved(state, key, key, absent) for key in self.defaults},
                                 where, saved=True)
        settings = [self._checked(saved, f"{where}, parameter group {i}", saved=True)
                    for i, saved in enumerate(saved_groups)]
        ratios = [_number(state[key], key, where, _RULES["lr"]) if key in state else None
                  for key in ratio_keys]
        self.defaults = defaults
        self.t = t
        self._added_at[:] = [t - count for count in group_t]
        for i, (group, saved, ratio) in enumerate(zip(self.param_groups, settings, ratios)):
            group.update(saved)
            if ratio is not None:
                self._lr_ratios[i] = ratio
            elif "lr" in self._own[i] and self.defaults["lr"]:
                self._lr_ratios[i] = group["lr"] / self.defaults["lr"]
        for slots, key, array in arrays:
            slots[key] = array

    def __repr__(self) -> str:
        names = ("lr", *self.hyper_names)
        # An on/off setting shown when on, as weight_decay when it is not 0, and a setting added
        # later when not at the value that does what the optimizer did before it.
        absent = self._absent
        settings = ", ".join(f"{k}={_shown(getattr(self, k))}" for k in names
                             if k not in absent or getattr(self, k) != absent[k])
        if self.defaults.get("weight_decay"):
            settings += f", weight_decay={self.weight_decay:g}"
        head = f"{type(self).__name__}({_count(self.params)}, {settings}"
        if len(self.param_groups) == 1:
            return head + ")"
        lines = [head + ";"]
        for i, group in enumerate(self.param_groups):
            changed = "".join(f", {k}={_shown(group[k])}" for k in (*names, "weight_decay")
                              if k in self.defaults and group[k] != getattr(self, k))
            lines.append(f"  group {i}: {_count(group['params'])}{changed}")
        return "\n".join(lines) + ")"


def check_torch_options(optimizer: Optimizer, options: Mapping[str, Any]) -> None:
    """Check the keywords an optimizer was given besides its own: PyTorch's that choose how
    torch.optim computes a step, those its optimizer of that name takes (``torch_options``),
    change nothing here, as numpy steps each parameter in place with whole-array operations,
    one parameter after another: ``foreach`` and ``fused`` (True, False or None: the same
    values, up to rounding, as PyTorch's every way of computing them) and ``capturable``
    (for CUDA graphs). ``differentiable=True``, a step that autograd can differentiate
    through, is refused: the step updates ``.data`` outside any graph. A setting PyTorch names
    otherwise (``betas``, ``torch_names``) is refused saying how to write it; any other
    keyword as Python refuses one."""
    name = type(optimizer).__name__
    for key, value in options.items():
        if key in optimizer.torch_names:
            raise GraphgradTypeError(f"{name}: {key}= is PyTorch's keyword; here "
                                     f"{optimizer.torch_names[key]}")
        if key not in optimizer.torch_options:
            takes = (f" (of PyTorch's keywords for how its step is computed, {name} takes "
                     f"{', '.join(optimizer.torch_options)})" if optimizer.torch_options else "")
            raise GraphgradTypeError(
                f"{name}.__init__() got an unexpected keyword argument {key!r}{takes}")
        if value is None:
            continue
        on = flag(value, key, name)
        if key == "differentiable" and on:
            raise ArgumentError(
                f"{name}: differentiable=True makes PyTorch's step a differentiable operation "
                "(to learn through an optimizer's updates); graphgrad's step updates .data in "
                "place, outside any graph: leave differentiable out (False)")


def call_closure(closure: Any, caller: str) -> Any:
    """What ``closure()`` returns (the loss), called with the graph recorded even inside
    `gg.no_grad`, as ``torch.optim`` calls it: its backward needs the graph. ``caller``
    (``"SGD"``) names the optimizer in the error for a closure that is not a function."""
    if not callable(closure):
        raise GraphgradTypeError(
            f"{caller}.step: closure must be a function that computes the loss and its "
            f"gradients, got {setting_text(closure)}; write def closure(): "
            "optimizer.zero_grad(); J = cost(model(X), Y); J.backward(); return J, then "
            "optimizer.step(closure)")
    with enable_grad():
        return closure()


def zeros_of(p: Tensor) -> np.ndarray:
    """A state array for ``p`` (v_dW, s_dW): zeros of its shape and dtype, from np.zeros,
    whose memory the system hands out only where it is written. So the state of a parameter
    that stays frozen (a pretrained embedding given to Adam with the rest of the model, as
    PyTorch's model.parameters() gives it) costs no memory."""
    return np.zeros(p.data.shape, p.data.dtype)


def average_into(average: np.ndarray, x: np.ndarray, beta: float,
                 scratch: np.ndarray) -> None:
    """average = beta average + (1 - beta) x, in place: the course's exponentially weighted
    average (v_dW of dW). ``scratch``, of their shape, is overwritten."""
    average *= beta
    np.multiply(x, 1.0 - beta, out=scratch)
    average += scratch


def average_square_into(average: np.ndarray, x: np.ndarray, beta: float,
                        scratch: np.ndarray) -> None:
    """average = beta average + (1 - beta) x**2, in place: the average of the squares (s_dW of
    dW). ``scratch``, of their shape, is overwritten."""
    average *= beta
    np.multiply(x, x, out=scratch)
    scratch *= 1.0 - beta
    average += scratch


def refuse_one_tensor_or_model(params: Any, name: str, purpose: str) -> None:
    """Refuse a tensor alone (iterated, it gives its rows, which have no .grad) or a model
    where a list of tensors belongs, saying what to pass instead. ``purpose``: what the
    tensors are for ("to optimize")."""
    if isinstance(params, Tensor):
        raise GraphgradTypeError(
            f"{name} takes a list of tensors, got one: {describe(params)}; pass "
            f"[{params.name or 'W'}] (iterated, a tensor gives its rows)")
    if callable(getattr(params, "parameters", None)):
        raise GraphgradTypeError(f"{name} takes the tensors {purpose}, got a "
                                 f"{type(params).__name__}: pass model.parameters()")


def not_a_tensor(caller: str, which: str, value: Any) -> GraphgradTypeError:
    """The error for ``value``, given among the parameters (``which``: ``"parameter 1"``) to
    an optimizer or a clipping function, when it is no Tensor (an array, None)."""
    return GraphgradTypeError(f"{caller}: {which} is {setting_text(value)}, not a Tensor; pass "
                              "model.parameters()")


def real_gradient(p: Tensor, g: Any, where: str, unchanged: str) -> np.ndarray:
    """``g``, the ``.grad`` of ``p``, as an array of real numbers (a list of numbers, integers
    too), or a `GraphgradTypeError`: ``where`` begins its message (``"SGD.step: 'W' (3, 2)
    float64"``) and ``unchanged`` says what was left as it was (``"Nothing was updated"``)."""
    if isinstance(g, Tensor):
        raise GraphgradTypeError(
            f"{where} holds a Tensor in .grad ({describe(g)}); a gradient is an array: "
            f"set {p.name or 'p'}.grad = dW.data. {unchanged}.")
    try:
        array = np.asarray(g)
    except Exception:  # a ragged list, an object numpy cannot read
        array = np.asarray(None)
    if array.dtype.kind not in "fiu":
        held = (f"{array.dtype} values" if isinstance(g, np.ndarray)
                else f"a {type(g).__name__} ({array.dtype})")
        raise GraphgradTypeError(
            f"{where} has a .grad of {held}, not real numbers. {unchanged}: give it a float "
            "array of its shape, or None to leave the parameter as it is in the step.")
    return array


def _listed(params: Any, name: str) -> list:
    """The parameters (or groups) given to an optimizer, as a list; a tensor or a model
    alone is refused with what to pass instead."""
    refuse_one_tensor_or_model(params, name, "to optimize")
    return listed(params, name, "a list of tensors (model.parameters()) or of groups "
                                "{'params': tensors, ...}")


def _saved(state: Mapping[str, Any], key: str, name: str, absent: Mapping[str, Any]) -> Any:
    """``state[key]``, the saved value of the setting ``name``; ``absent[name]`` when the state
    has no key for it (False for an on/off setting saved before it existed, None for LBFGS's
    line search: see `Optimizer._absent`)."""
    return state[key] if key in state or name not in absent else absent[name]


def _step_count(value: Any, key: str, problems: list[str]) -> int | None:
    """A saved step count as an int, or None with the reason added to ``problems``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = None
    if number is None or not number.is_integer() or number < 0:
        problems.append(f"{key}: a step count must be a whole number of at least 0, got {value!r}")
        return None
    return int(number)


def _shapes(shapes: list) -> str:
    """Shapes for a message, the first few of many."""
    shown = ", ".join(str(shape) for shape in shapes[:6])
    return shown + (f", ... {len(shapes) - 6} more" if len(shapes) > 6 else "")


def _count(params: list) -> str:
    return f"{len(params)} parameter{'s' * (len(params) != 1)}"


def _write(p: Tensor, ufunc: np.ufunc, operand: Any) -> None:
    """W = ufunc(W, operand) (``np.subtract`` for W -= step), in place unless a live graph
    still needs W's current values."""
    data = p.data
    if data.flags.writeable:
        ufunc(data, operand, out=data)
    else:
        p.data = ufunc(data, operand)
