"""A model's structure, driven by hypothesis's stateful testing: a custom Module holding layers,
parameters, buffers, a Sequential and a ModuleList goes through random assignments,
replacements, deletions (``del model.a``, ``model.a = None``), tied layers, ModuleList
append/insert/extend/setitem/delitem, Sequential replacements, indexing and slicing,
``requires_grad_``, ``train()`` / ``eval()`` on a submodule, state dict round trips (strict and
not) and deep copies.

A plain-Python record of what was assigned where follows every operation. After each one the
model's ``parameters()``, ``named_parameters()``, ``state_dict()`` keys and values, repr counts,
training flags and forward pass must be what that record says.
"""
from __future__ import annotations

import copy
import re

import numpy as np
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

import graphgrad as gg
from graphgrad import nn

D = 2  # every layer is Linear(D, D) and every parameter and buffer has shape (D,)
SLOTS = ["a", "b", "c", "d"]
X = np.array([[0.5, -1.0], [2.0, 0.25], [-0.75, 1.5]])
SEEDS = st.integers(0, 2**16)


class Net(nn.Module):
    """Applies, in the order of ``plan``, each attribute named there: a layer, a Sequential, a
    ModuleList (its layers in turn), or a vector (a parameter or a buffer) added to X."""

    def __init__(self) -> None:
        super().__init__()
        self.plan: list[str] = []

    def forward(self, X):
        for name in self.plan:
            value = getattr(self, name)
            if isinstance(value, nn.ModuleList):
                for layer in value:
                    X = layer(X)
            elif isinstance(value, nn.Module):
                X = value(X)
            elif value is not None:  # a buffer set to None adds nothing
                X = X + value
        return X


def linear(seed: int) -> nn.Linear:
    return nn.Linear(D, D, init="xavier", rng=seed)


class Structure(RuleBasedStateMachine):
    """``self.slots`` is the record: root attribute name -> (kind, value), in assignment order,
    kind one of "layer", "param", "buffer", "seq" (value: a dict name -> layer), "list"
    (value: a list of layers). Buffers' expected values are kept in the record (None for a
    buffer set to None, which state_dict skips)."""

    @initialize(seed=SEEDS)
    def build(self, seed: int) -> None:
        self.net = Net()
        self.net.a = linear(seed)
        self.net.seq = nn.Sequential(linear(seed + 1), linear(seed + 2))
        self.net.ml = nn.ModuleList([linear(seed + 3)])
        self.slots: dict = {
            "a": ("layer", self.net.a),
            "seq": ("seq", {"linear1": self.net.seq.linear1, "linear2": self.net.seq.linear2}),
            "ml": ("list", [self.net.ml[0]]),
        }
        self.training = {m: True for m in self.net.modules()}
        self.seed = seed

    def _sync_plan(self) -> None:
        self.net.plan = list(self.slots)

    def _new_seed(self) -> int:
        self.seed += 7
        return self.seed

    # -- the record's answers ----------------------------------------------------------------
    def _modules(self) -> list[tuple[str, nn.Module]]:
        """(dotted name, module) of every module in the record, shared ones at each name."""
        found = [("", self.net)]
        for name, (kind, value) in self.slots.items():
            if kind == "layer":
                found.append((name, value))
            elif kind == "seq":
                found.append((name, self.net.seq))
                found += [(f"{name}.{k}", layer) for k, layer in value.items()]
            elif kind == "list":
                found.append((name, self.net.ml))
                found += [(f"{name}.{i}", layer) for i, layer in enumerate(value)]
        return found

    def _entries(self) -> list[tuple[str, object]]:
        """(state dict key, parameter Tensor or buffer name) in the order state_dict gives."""
        out: list[tuple[str, object]] = []
        for prefix, module in self._modules():
            if isinstance(module, nn.Linear):
                out += [(f"{prefix}.W", module.W), (f"{prefix}.b", module.b)]
        # the root's own vectors sit among the layers, in assignment order
        ordered: list[tuple[str, object]] = []
        for name, (kind, value) in self.slots.items():
            if kind == "buffer" and value is None:
                continue
            if kind in ("param", "buffer"):
                ordered.append((name, value if kind == "param" else ("buffer", name)))
            else:
                ordered += [e for e in out if e[0].startswith(name + ".")]
        return ordered

    def _expected_parameters(self) -> list[tuple[str, gg.Tensor]]:
        seen: set[int] = set()
        pairs = []
        for key, value in self._entries():
            if isinstance(value, gg.Tensor) and id(value) not in seen:
                seen.add(id(value))
                pairs.append((key, value))
        return pairs

    def _buffer(self, name: str) -> np.ndarray:
        return self.slots[name][1]

    def _expected_forward(self) -> np.ndarray:
        A = X
        for kind, value in self.slots.values():
            if kind == "layer":
                layers = [value]
            elif kind == "seq":
                layers = list(value.values())
            elif kind == "list":
                layers = value
            else:
                if value is not None:
                    A = A + (value.data if kind == "param" else value)
                continue
            for layer in layers:
                A = A @ layer.W.data.T + layer.b.data
        return A

    # -- invariants --------------------------------------------------------------------------
    @invariant()
    def registry_matches_record(self) -> None:
        expected = self._expected_parameters()
        got = self.net.named_parameters()
        assert [k for k, _ in got] == [k for k, _ in expected]
        assert all(a is b for (_, a), (_, b) in zip(got, expected))
        assert [id(p) for p in self.net.parameters()] == [id(p) for _, p in expected]
        state = self.net.state_dict()
        entries = self._entries()
        assert list(state) == [k for k, _ in entries]
        for key, value in entries:
            want = value.data if isinstance(value, gg.Tensor) else self._buffer(value[1])
            np.testing.assert_array_equal(state[key], want, err_msg=key)

    @invariant()
    def repr_counts(self) -> None:
        params = [p for _, p in self._expected_parameters()]
        total = sum(p.data.size for p in params)
        frozen = sum(p.data.size for p in params if not p.requires_grad)
        head = repr(self.net).split("\n")[0]
        match = re.search(r"# ([\d,]+) parameters(?: \(([\d,]+) frozen\))?", head)
        if total == 0:  # a model of no parameters says nothing of them, as ReLU() does not
            assert "parameter" not in head, head
            return
        assert match is not None, head
        assert int(match.group(1).replace(",", "")) == total
        assert int((match.group(2) or "0").replace(",", "")) == frozen
        assert self.net.count_parameters(trainable=True) == total - frozen

    @invariant()
    def training_flags(self) -> None:
        for name, module in self._modules():
            assert module.training == self.training[module], name

    @invariant()
    def forward_uses_current_layers(self) -> None:
        self._sync_plan()
        with gg.no_grad():
            out = self.net(X)
        np.testing.assert_allclose(out.data, self._expected_forward(), rtol=1e-12)

    # -- the root's attributes ---------------------------------------------------------------
    def _existing_layers(self) -> list[nn.Module]:
        return [m for name, m in self._modules() if isinstance(m, nn.Linear)]

    def _incoming(self, data, tie: bool) -> nn.Module:
        """A layer to add: one the model holds already (tied), or a new one."""
        existing = self._existing_layers()
        layer = (data.draw(st.sampled_from(existing)) if tie and existing
                 else linear(self._new_seed()))
        self.training.setdefault(layer, layer.training)
        return layer

    @rule(slot=st.sampled_from(SLOTS), tie=st.booleans(), data=st.data())
    def assign_layer(self, slot: str, tie: bool, data) -> None:
        layer = self._incoming(data, tie)
        setattr(self.net, slot, layer)
        self.slots[slot] = ("layer", layer)

    @rule(slot=st.sampled_from(SLOTS), kind=st.sampled_from(["tensor", "param", "frozen"]),
          seed=SEEDS)
    def assign_parameter(self, slot: str, kind: str, seed: int) -> None:
        values = np.random.default_rng(seed).normal(size=D)
        if kind == "tensor":
            p = gg.Tensor(values, requires_grad=True)
        else:
            p = nn.Parameter(values)
            if kind == "frozen":
                p.requires_grad_(False)
        setattr(self.net, slot, p)
        self.slots[slot] = ("param", p)

    @rule(slot=st.sampled_from(SLOTS), seed=SEEDS, empty=st.booleans())
    def register_buffer(self, slot: str, seed: int, empty: bool) -> None:
        values = None if empty else np.random.default_rng(seed).normal(size=D)
        kind = self.slots.get(slot, (None,))[0]
        if kind in ("layer", "param"):
            with pytest.raises(gg.ArgumentError, match="already"):
                self.net.register_buffer(slot, values)
            return
        self.net.register_buffer(slot, values)
        self.slots[slot] = ("buffer", None if empty else values.copy())

    @rule(slot=st.sampled_from(SLOTS), seed=SEEDS)
    def assign_array(self, slot: str, seed: int) -> None:
        """An array over a buffer sets it; over a parameter or a layer it is refused."""
        kind = self.slots.get(slot, (None,))[0]
        if kind is None:
            return  # a plain attribute, not part of the model
        values = np.random.default_rng(seed).normal(size=D)
        if kind == "buffer":
            setattr(self.net, slot, values)
            self.slots[slot] = ("buffer", values.copy())
        else:
            with pytest.raises(gg.GraphgradTypeError):
                setattr(self.net, slot, values)

    @rule(slot=st.sampled_from(SLOTS), how=st.sampled_from(["del", "none"]))
    def remove(self, slot: str, how: str) -> None:
        kind = self.slots.get(slot, (None,))[0]
        if how == "del":
            if kind is None and slot not in vars(self.net):
                with pytest.raises(AttributeError):
                    delattr(self.net, slot)
                return
            delattr(self.net, slot)
        elif kind == "buffer":  # still a buffer, which state_dict skips
            setattr(self.net, slot, None)
            self.slots[slot] = ("buffer", None)
            self._sync_plan()
            return
        else:
            setattr(self.net, slot, None)
        self.slots.pop(slot, None)
        self._sync_plan()

    # -- Sequential --------------------------------------------------------------------------
    @rule(data=st.data(), tie=st.booleans(), how=st.sampled_from(["replace", "none", "add"]))
    def sequential_change(self, data, tie: bool, how: str) -> None:
        names = self.slots["seq"][1]
        seq = self.net.seq
        if how == "none" and names:
            name = data.draw(st.sampled_from(sorted(names)))
            setattr(seq, name, None)
            del names[name]
            return
        name = (data.draw(st.sampled_from(sorted(names))) if how == "replace" and names
                else f"extra{self._new_seed()}")
        layer = self._incoming(data, tie)
        setattr(seq, name, layer)
        names[name] = layer

    @rule(data=st.data())
    def sequential_indexing(self, data) -> None:
        names = self.slots["seq"][1]
        seq = self.net.seq
        assert len(seq) == len(names)
        assert list(seq) == list(names.values())
        if names:
            i = data.draw(st.integers(-len(names), len(names) - 1))
            assert seq[i] is list(names.values())[i]
        start = data.draw(st.integers(-3, 3))
        stop = data.draw(st.none() | st.integers(-3, 3))
        part = seq[start:stop]
        assert isinstance(part, nn.Sequential)
        assert [(n, id(m)) for n, m in part.named_children()] == [
            (n, id(m)) for n, m in list(names.items())[start:stop]]

    @rule(data=st.data(), tie=st.booleans(),
          how=st.sampled_from(["append", "insert", "extend", "setitem", "delitem"]))
    def sequential_as_list(self, data, tie: bool, how: str) -> None:
        """Sequential's list methods. Every layer here is a Linear: names linear1..linearN,
        the ones Sequential(*layers) gives, are given again after a change; other names are
        kept, and a layer coming in takes linear<k>, k the first count after the Linear layers
        there were that is no name yet."""
        names = self.slots["seq"][1]
        seq = self.net.seq
        pairs = list(names.items())
        automatic = [n for n, _ in pairs] == [f"linear{i + 1}" for i in range(len(pairs))]

        def one():
            return self._incoming(data, tie)

        def free(taken: set) -> str:
            count = 1 + len(pairs)
            while f"linear{count}" in taken:
                count += 1
            taken.add(f"linear{count}")
            return f"linear{count}"

        if how in ("append", "extend"):
            new = [one()] if how == "append" else [one() for _ in range(data.draw(
                st.integers(0, 2)))]
            if how == "append":
                seq.append(new[0])
            else:
                seq.extend(new)
            taken = set(names)
            after = pairs + [(free(taken), layer) for layer in new]
        elif how == "insert":
            i = data.draw(st.integers(-3, 3))
            layer = one()
            seq.insert(i, layer)
            after = list(pairs)
            after.insert(i, (None, layer))
            taken = set(names)
            after = [(n if n is not None else free(taken), m) for n, m in after]
        elif not pairs:
            return
        else:
            i = data.draw(st.integers(-len(pairs), len(pairs) - 1))
            after = list(pairs)
            if how == "setitem":
                layer = one()
                seq[i] = layer
                after[i] = (after[i][0], layer)
            else:
                del seq[i]
                del after[i]
        if automatic and how != "setitem":
            after = [(f"linear{k + 1}", m) for k, (_, m) in enumerate(after)]
        names.clear()
        names.update(after)
        assert [(n, id(m)) for n, m in seq.named_children()] == [(n, id(m)) for n, m in after]

    # -- ModuleList --------------------------------------------------------------------------
    @rule(data=st.data(), tie=st.booleans(),
          how=st.sampled_from(["append", "insert", "extend", "setitem", "delitem"]))
    def modulelist_change(self, data, tie: bool, how: str) -> None:
        layers = self.slots["ml"][1]
        ml = self.net.ml

        def one():
            return self._incoming(data, tie)

        if how == "append":
            layer = one()
            ml.append(layer)
            layers.append(layer)
        elif how == "extend":
            new = [one() for _ in range(data.draw(st.integers(0, 2)))]
            ml.extend(new)
            layers.extend(new)
        elif how == "insert":
            i = data.draw(st.integers(-3, 3))
            layer = one()
            ml.insert(i, layer)
            layers.insert(i, layer)
        elif layers:
            i = data.draw(st.integers(-len(layers), len(layers) - 1))
            if how == "setitem":
                layer = one()
                ml[i] = layer
                layers[i] = layer
            else:
                del ml[i]
                del layers[i]
        assert len(ml) == len(layers)
        assert all(a is b for a, b in zip(ml, layers))

    # -- modes -------------------------------------------------------------------------------
    @rule(data=st.data(), flag=st.booleans())
    def requires_grad(self, data, flag: bool) -> None:
        _, module = data.draw(st.sampled_from(self._modules()))
        module.requires_grad_(flag)
        # what the record expects: every parameter reachable from it
        for p in module.parameters():
            assert p.requires_grad is flag

    @rule(data=st.data(), mode=st.sampled_from(["train", "eval"]))
    def train_or_eval(self, data, mode: str) -> None:
        _, module = data.draw(st.sampled_from(self._modules()))
        module.train() if mode == "train" else module.eval()
        reached = {module}
        changed = True
        while changed:  # the record's modules below it, shared ones included
            changed = False
            for prefix, m in self._modules():
                parent = next((p for n, p in self._modules() if prefix and
                               n == prefix.rpartition(".")[0]), None)
                if parent is not None and parent in reached and m not in reached:
                    reached.add(m)
                    changed = True
        for m in reached:
            self.training[m] = mode == "train"

    # -- state -------------------------------------------------------------------------------
    def _perturbed_state(self, seed: int) -> dict:
        """A state whose every value is new, the same for every key of a shared parameter."""
        rng = np.random.default_rng(seed)
        new: dict[int, np.ndarray] = {}
        state = {}
        shapes = {key: value.shape for key, value in self.net.state_dict().items()}
        for key, value in self._entries():
            ident = id(value) if isinstance(value, gg.Tensor) else key
            if ident not in new:
                new[ident] = rng.normal(size=shapes[key])
            state[key] = new[ident]
        return state

    @rule(seed=SEEDS, strict=st.booleans(), data=st.data())
    def load_state(self, seed: int, strict: bool, data) -> None:
        state = self._perturbed_state(seed)
        if not strict and state:
            dropped = data.draw(st.sets(st.sampled_from(sorted(state))))
            kept = {k: v for k, v in state.items() if k not in dropped}
            if not kept:
                return
            # keys of a shared parameter: drop all or none, so the loaded value is defined
            entries = dict(self._entries())
            ids = {id(entries[k]) for k in dropped if isinstance(entries[k], gg.Tensor)}
            kept = {k: v for k, v in state.items()
                    if not (isinstance(entries[k], gg.Tensor) and id(entries[k]) in ids)
                    and k not in dropped}
            if not kept:
                return
            state = {**kept, "no_such.layer.W": np.zeros(D)}
        before = self.net.state_dict()
        self.net.load_state_dict(state, strict=strict)
        after = self.net.state_dict()
        for key in after:
            want = state.get(key, before[key])
            np.testing.assert_array_equal(after[key], want, err_msg=key)
        for name, (kind, _) in list(self.slots.items()):
            if kind == "buffer" and name in state:
                self.slots[name] = ("buffer", np.array(state[name]))

    @rule()
    def strict_load_of_other_structure_is_refused(self) -> None:
        state = self.net.state_dict()
        state["no_such.W"] = np.zeros(D)
        before = self.net.state_dict()
        with pytest.raises(nn.StateDictError, match="unexpected keys: no_such.W"):
            self.net.load_state_dict(state)
        after = self.net.state_dict()
        assert list(before) == list(after)
        for key in before:
            np.testing.assert_array_equal(before[key], after[key])

    @rule(seed=SEEDS)
    def deep_copy(self, seed: int) -> None:
        twin = copy.deepcopy(self.net)
        ours, theirs = self.net.named_parameters(), twin.named_parameters()
        assert [k for k, _ in ours] == [k for k, _ in theirs]
        for (_, p), (_, q) in zip(ours, theirs):
            assert p is not q and p.requires_grad == q.requires_grad
            np.testing.assert_array_equal(p.data, q.data)
        # tied layers stay tied in the copy, and to nothing of the original
        mine = dict(self.net.named_modules())
        copied = dict(twin.named_modules())
        assert list(mine) == list(copied)
        assert all(mine[k].training == copied[k].training for k in mine)
        with gg.no_grad():
            np.testing.assert_array_equal(twin(X).data, self.net(X).data)
        # changing the copy leaves the original as it was
        before = self.net.state_dict()
        state = twin.state_dict()
        twin.load_state_dict({k: v + 1.0 for k, v in state.items()})
        for p in twin.parameters():
            p.requires_grad_(not p.requires_grad)
        twin.eval() if self.net.training else twin.train()
        twin.ml.append(linear(seed))
        del twin.seq
        after = self.net.state_dict()
        assert list(before) == list(after)
        for key in before:
            np.testing.assert_array_equal(before[key], after[key], err_msg=key)


# The loaded profile's settings (tests/conftest.py), with 25 operations per session.
Structure.TestCase.settings = settings(stateful_step_count=25)
test_structure = Structure.TestCase
