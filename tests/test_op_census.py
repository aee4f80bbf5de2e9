"""The census of ops: every differentiable op graphgrad defines (every subclass of `gg.Function`
in any module of the package, the internal ones that backward bodies use included) is

1. gradient-checked in float64 by a row of a gradient-check table (the op table of test_ops,
   the broadcasting pairs of test_broadcasting, the layers and losses of test_nn_layers and
   test_nn_losses), and, where it broadcasts, by a broadcasting case;
2. checked against finite differences over random shapes by a hypothesis-driven table (the op
   table's random shapes in test_properties, the losses of test_nn_losses) or property test.

Coverage is found, not declared: each table row's function is run at its inputs and the graph
it builds walked from its outputs (``tensor.creator``, ``node.inputs``); for the rows the
tests check in second order, the graph of the gradient under ``create_graph=True`` is walked
too, which is where the internal ops (Conv2dInputGrad, AvgPool2dGrad, PadGrad, IndexAdd) are
recorded. Property tests that are no table are run once at fixed arguments with `gg.gradcheck`
and `gg.gradgradcheck` recording the graphs they are given. An op with no row fails the census
by name; adding its row (one line of tests/op_table.py, with ``random=`` for the hypothesis
side) makes it pass.
"""
from __future__ import annotations

import gc
import importlib
import pkgutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from unittest import mock

import numpy as np
import pytest
import test_broadcasting
import test_nn_layers
import test_nn_losses
import test_nn_properties
import test_ops
import test_properties
from op_table import OPS, draw

import graphgrad as gg
from graphgrad import nn


# -- what graphgrad defines ----------------------------------------------------------------------
def defined_functions() -> set[type[gg.Function]]:
    """Every subclass of gg.Function defined in graphgrad (all its submodules imported), but
    the abstract bases: a private class that only its subclasses put in graphs (_Extreme)."""
    for module in pkgutil.walk_packages(gg.__path__, "graphgrad."):
        importlib.import_module(module.name)
    found, stack = set(), [gg.Function]
    while stack:
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            if sub.__module__.split(".")[0] == "graphgrad" and not (
                    sub.__name__.startswith("_") and sub.__subclasses__()):
                found.add(sub)
    return found


# -- recording the graphs the checks go through ----------------------------------------------------
@dataclass
class Seen:
    """The op types met in checked graphs, and those met with an input broadcast (an input of
    another shape than the output, stretched to it)."""

    ops: set[type] = field(default_factory=set)
    broadcasting: set[type] = field(default_factory=set)

    def walk(self, roots: Iterable[gg.Tensor]) -> None:
        stack, done = [t for t in roots if t.creator is not None], set()
        while stack:
            t = stack.pop()
            if id(t) in done:
                continue
            done.add(id(t))
            node = t.creator
            self.ops.add(type(node))
            for x in node.inputs:
                if x.requires_grad and x.shape != t.shape and _stretches(x.shape, t.shape):
                    self.broadcasting.add(type(node))
                if x.creator is not None:
                    stack.append(x)

    def record(self, fn: Callable, inputs: Sequence[Any], second_order: bool) -> None:
        """Run ``fn`` as gradcheck does (float inputs become leaves requiring grad) and walk the
        graph of its outputs; with ``second_order``, also the graph of their gradient."""
        xs = [_leaf(x) for x in inputs]
        outputs = [o for o in _outputs(fn(*xs)) if o.requires_grad and o.dtype.kind == "f"]
        self.walk(outputs)
        if second_order and outputs:
            rng = np.random.default_rng(0)
            upstream = [gg.Tensor(rng.standard_normal(o.shape), requires_grad=True)
                        for o in outputs]
            wrt = [x for x in xs if isinstance(x, gg.Tensor) and x.requires_grad]
            grads = gg.grad(outputs, wrt, grad_outputs=upstream, create_graph=True,
                            allow_unused=True)
            self.walk(g for g in grads if g is not None)


def _stretches(shape: tuple, out: tuple) -> bool:
    try:
        return np.broadcast_shapes(shape, out) == out
    except ValueError:
        return False


def _leaf(x: Any) -> Any:
    if isinstance(x, gg.Tensor):
        return gg.Tensor(x.data.astype(np.float64), requires_grad=x.requires_grad)
    array = np.asarray(x)
    if array.dtype.kind != "f":
        return x
    return gg.Tensor(array.astype(np.float64), requires_grad=True)


def _outputs(value: Any) -> list:
    return list(value) if isinstance(value, (tuple, list)) else [value]


@contextmanager
def recording_checks(seen: Seen) -> Iterator[None]:
    """`gg.gradcheck` and `gg.gradgradcheck` record the graphs they are given, then check."""
    gradcheck, gradgradcheck = gg.gradcheck, gg.gradgradcheck

    def check(real: Callable, second_order: bool) -> Callable:
        def recorded(fn: Any, inputs: Any, *args: Any, **kwargs: Any) -> Any:
            call = fn.apply if isinstance(fn, type) else fn
            given = [inputs] if isinstance(inputs, (gg.Tensor, np.ndarray, float)) else inputs
            seen.record(call, list(given), second_order)
            return real(fn, inputs, *args, **kwargs)
        return recorded

    with mock.patch.object(gg, "gradcheck", check(gradcheck, False)), \
            mock.patch.object(gg, "gradgradcheck", check(gradgradcheck, True)):
        yield


def _parametrized(test: Callable, name: str) -> list:
    """The values ``test`` is parametrized with for ``name``: the rows it really runs."""
    for mark in getattr(test, "pytestmark", []):
        if mark.name == "parametrize" and mark.args[0] == name:
            return list(mark.args[1])
    raise AssertionError(f"{test.__name__} is not parametrized by {name}")


# -- the gradient-check tables -------------------------------------------------------------------
def _gradcheck_rows() -> Iterator[tuple[Callable, list, bool]]:
    """(function, inputs, checked in second order) of every row of the gradient-check tables,
    at the inputs those tests give it."""
    second = {op.name for op in _parametrized(test_ops.test_gradgradcheck, "op")}
    for op in _parametrized(test_ops.test_gradcheck, "op"):
        yield op.fn, draw(op, np.random.default_rng(1)), op.name in second
    for op, shapes in _parametrized(
            test_broadcasting.test_broadcasting_pair_forward_and_gradcheck, "case"):
        yield op.fn, draw(op, np.random.default_rng(0), shapes), False
    for name in _parametrized(test_nn_layers.test_every_layer_passes_gradcheck_in_float64,
                              "name"):
        fn, shapes = test_nn_layers.LAYERS[name]
        rng = np.random.default_rng(0)
        yield fn, [rng.uniform(0.2, 1.0, s) * rng.choice([-1.0, 1.0], s) for s in shapes], False
    for shapes in _parametrized(test_nn_layers.test_affine_second_derivatives, "shapes"):
        rng = np.random.default_rng(0)
        yield nn.layers.Affine.apply, [rng.standard_normal(s) for s in shapes], True
    for kind, shapes in _parametrized(test_nn_layers.test_normalisation_ops_second_derivatives,
                                      "kind, shapes"):
        rng = np.random.default_rng(0)
        yield (test_nn_layers._norm_op_fn(kind, len(shapes[0])),
               [rng.uniform(0.5, 2.0, s) for s in shapes], True)
    second = set(_parametrized(test_nn_losses.test_every_loss_has_right_second_derivatives,
                               "name"))
    for name in _parametrized(test_nn_losses.test_every_loss_passes_gradcheck, "name"):
        fn, inputs = test_nn_losses.LOSSES[name]
        yield fn, [a.copy() for a in inputs], name in second


# -- the hypothesis-driven tables and property tests ----------------------------------------------
def _property_rows() -> Iterator[tuple[Callable, list, bool]]:
    """(function, inputs, checked in second order) of every row of the hypothesis-driven
    tables, at its basic shapes (the property tests draw others, for the same function)."""
    rng = np.random.default_rng(0)
    for op in [*test_properties.UNARY, *test_properties.BINARY]:
        yield op.fn, draw(op, rng), False
    for op in _parametrized(test_properties.test_the_other_ops_over_random_shapes, "op"):
        yield op.fn, draw(op, rng), op.second_order
    data = rng.permutation(24).reshape(2, 3, 4) / 4.0  # distinct: no ties for max and min
    for reduce, _ in test_properties.REDUCTIONS.values():
        yield lambda x, reduce=reduce: reduce(x, axis=1, keepdims=False), [data], False
    for build in test_nn_losses.LOSS_CASES.values():
        fn, inputs = build((3, 4), np.random.default_rng(0))
        yield fn, inputs, True


def _property_runs() -> Iterator[tuple[Callable, dict]]:
    """Property tests that are no table, each with arguments their strategies draw."""
    yield (test_nn_layers.test_dropout_over_random_shapes_passes_gradcheck_and_gradgradcheck,
           {"shape": (3, 2), "keep_prob": 0.7, "seed": 0})
    normalisation = test_nn_layers.test_normalisation_over_random_shapes_passes_gradchecks
    for kind in test_nn_layers.NORM_KINDS:
        yield normalisation, {"kind": kind, "lead": [2, 1, 2], "n": 3, "seed": 0}
    yield (test_nn_properties.test_random_models_pass_gradcheck,
           {"model_and_n_x": (nn.Sequential(nn.Linear(2, 3, rng=0), nn.BatchNorm1d(3)), 2),
            "m": 3, "loss": "binary_cross_entropy", "lambd": 0.7, "seed": 0})


@cache
def gradient_checked() -> Seen:
    seen = Seen()
    for fn, inputs, second_order in _gradcheck_rows():
        seen.record(fn, inputs, second_order)
    return seen


@cache
def property_checked() -> Seen:
    seen = Seen()
    for fn, inputs, second_order in _property_rows():
        seen.record(fn, inputs, second_order)
    with recording_checks(seen):
        for test, kwargs in _property_runs():
            test.hypothesis.inner_test(**kwargs)
    return seen


def census(ops: Iterable[type], checked: Seen, random: Seen) -> list[str]:
    """What is missing, one line per op: an empty list when every op is covered."""
    problems = []
    for op in sorted(ops, key=lambda c: (c.__module__, c.__name__)):
        where = f"{op.__name__} ({op.__module__})"
        if op not in checked.ops:
            problems.append(f"{where}: no row of a gradient-check table makes it")
        if op not in random.ops:
            problems.append(f"{where}: no hypothesis table or property test over random "
                            "shapes checks it")
        if op in random.broadcasting and op not in checked.broadcasting:
            problems.append(f"{where}: broadcasts, but no gradient-check row has it broadcast")
    return problems


HINT = ("\nAdd a row for each: an Op of tests/op_table.py (with random= for the hypothesis "
        "side; second_order for an op a backward body uses), a layer of test_nn_layers.LAYERS "
        "or a loss of test_nn_losses.LOSSES and LOSS_CASES.")


def test_every_op_is_gradient_checked_and_property_tested():
    problems = census(defined_functions(), gradient_checked(), property_checked())
    if problems:
        pytest.fail("\n".join(problems) + HINT, pytrace=False)


def test_every_broadcasting_row_is_gradient_checked_broadcast():
    """The ops of the rows marked broadcasting are checked over the broadcasting pairs."""
    seen = Seen()
    for op in OPS:
        if op.broadcasting:
            seen.record(op.fn, draw(op, np.random.default_rng(0)), False)
    assert seen.ops and seen.ops <= gradient_checked().broadcasting


def test_the_census_finds_the_internal_ops_only_second_order_reaches():
    first_order_only = Seen()
    for fn, inputs, _ in _gradcheck_rows():
        first_order_only.record(fn, inputs, False)
    internal = gradient_checked().ops - first_order_only.ops
    names = {op.__name__ for op in internal}
    assert {"Conv2dInputGrad", "AvgPool2dGrad", "PadGrad", "IndexAdd"} <= names


class _Cube(gg.Function):
    """y = x**3;  dy/dx = 3 x**2"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad * 3 * x**2


def _census_of_a_new_op() -> None:
    cube = type("Cube", (_Cube,), {"__module__": "graphgrad.ops.elementwise"})
    assert cube in defined_functions()
    with pytest.raises(pytest.fail.Exception) as info:
        test_every_op_is_gradient_checked_and_property_tested()
    assert str(info.value) == (
        "Cube (graphgrad.ops.elementwise): no row of a gradient-check table makes it\n"
        "Cube (graphgrad.ops.elementwise): no hypothesis table or property test over random "
        "shapes checks it" + HINT)
    # a row on each side, and the census passes
    checked, random = Seen(), Seen()
    checked.record(cube.apply, [np.array([0.5, -2.0])], True)
    random.record(cube.apply, [np.array([[1.5]])], False)
    assert census([cube], checked, random) == []


def test_a_new_op_without_a_row_fails_the_census_by_name():
    """An op added to graphgrad is found (in whatever module) and named until it has rows."""
    _census_of_a_new_op()
    gc.collect()  # the class, gone: the other tests do not meet it
    assert not any(op.__name__ == "Cube" for op in defined_functions())
