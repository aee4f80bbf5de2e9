"""Thread-local modes: grad recording (`no_grad`, `enable_grad`) and name scopes.

The op hot path reads one attribute, ``_state.mode``, to decide what to do:
``OFF`` records nothing, ``FAST`` records the graph, ``CHECKED`` records it and also runs the
debugging hooks (`detect_anomaly`, `strict_shapes`) and tags nodes with their name scope. With
grad off the mode is ``OFF``, and ``_state.checks`` says whether the hooks still run.
Depends on `errors` only.
"""
from __future__ import annotations

import contextlib
import functools
import inspect
import threading
from collections.abc import Callable, Generator, Iterator
from typing import Any

from graphgrad.errors import ArgumentError

OFF, FAST, CHECKED = 0, 1, 2


class _State(threading.local):
    grad_enabled = True
    anomaly = False
    strict_shapes = False
    scope: str | None = None
    mode = FAST
    # Whether the debugging hooks run: read by ops that record nothing, whose mode is OFF.
    checks = False

    def refresh(self) -> None:
        # `_setting` does the same inline (see there why).
        self.checks = checks = self.anomaly or self.strict_shapes or self.scope is not None
        self.mode = OFF if not self.grad_enabled else CHECKED if checks else FAST


_state = _State()


class _setting(contextlib.ContextDecorator):
    """Set one attribute of this thread's state for the length of a block (or of a decorated
    function, or of each step of a decorated generator function). One object can be entered
    again, nested, and on several threads: each entry keeps the value it replaced, on its own
    thread."""

    def __init__(self, attribute: str, value: object) -> None:
        self.attribute, self.value = attribute, value
        self._replaced = threading.local()

    # Python delivers an interrupt (Ctrl-C) as a call returns. So from the first change of
    # the state on, __enter__ and __exit__ call nothing (not even `refresh`, inlined): an
    # interrupt there would leave the state half changed, or changed with no __exit__ to
    # undo it, for the rest of the thread's life (grad recording off for good).
    def __enter__(self) -> None:
        stack = self._replaced.__dict__.setdefault("stack", [])
        state = _state
        replaced = getattr(state, self.attribute)
        stack += (replaced,)
        state.__dict__[self.attribute] = self.value
        state.checks = checks = (state.anomaly or state.strict_shapes
                                 or state.scope is not None)
        state.mode = OFF if not state.grad_enabled else CHECKED if checks else FAST

    def __exit__(self, *exc_info: object) -> None:
        stack = self._replaced.stack
        state = _state
        state.__dict__[self.attribute] = stack[-1]
        state.checks = checks = (state.anomaly or state.strict_shapes
                                 or state.scope is not None)
        state.mode = OFF if not state.grad_enabled else CHECKED if checks else FAST
        del stack[-1]

    def __call__(self, func: Callable) -> Callable:
        # A generator function's body runs at each next(), after the call has returned: the
        # setting must be in force for each of its steps (and only those, not the caller's
        # code between them), as PyTorch's decorators do.
        if inspect.isgeneratorfunction(func):
            return _each_step_within(self, func)
        return super().__call__(func)


def _each_step_within(block: _setting, func: Callable) -> Callable[..., Generator]:
    """``func``, a generator function, with every step of its generators run inside ``block``."""
    @functools.wraps(func)
    def generator(*args: Any, **kwargs: Any) -> Generator:
        steps = func(*args, **kwargs)
        resume, value = steps.send, None
        while True:
            try:
                with block:
                    item = resume(value)
            except StopIteration as stop:
                return stop.value
            try:
                value = yield item
                resume = steps.send
            except GeneratorExit:
                with block:
                    steps.close()
                raise
            except BaseException as exc:  # thrown in by the caller: passed on to func's body
                resume, value = steps.throw, exc

    return generator


def no_grad(func: Callable | None = None) -> Any:
    """Run ops without recording a graph (evaluation, parameter updates). Thread-local.

    >>> with gg.no_grad():
    ...     y = W @ x          # y.requires_grad is False, no graph is kept

    As a decorator, ``@gg.no_grad()`` or ``@gg.no_grad`` (which passes the function as
    ``func``), it holds for each call.
    """
    return _setting_or_decorated(_setting("grad_enabled", False), func, "no_grad")


def enable_grad(func: Callable | None = None) -> Any:
    """Record the graph again inside a `no_grad` block. Thread-local. As a decorator,
    ``@gg.enable_grad()`` or ``@gg.enable_grad`` (which passes the function as ``func``)."""
    return _setting_or_decorated(_setting("grad_enabled", True), func, "enable_grad")


def _setting_or_decorated(setting: _setting, func: Callable | None, name: str) -> Any:
    """The context manager, or ``func`` decorated with it when given (``@gg.no_grad``
    without parentheses, as PyTorch allows)."""
    if func is None:
        return setting
    if not callable(func):
        raise ArgumentError(f"{name}() takes no arguments, or decorates a function; got "
                            f"{func!r}")
    return setting(func)


def is_grad_enabled() -> bool:
    """Whether ops on this thread record a graph right now."""
    return _state.grad_enabled


@contextlib.contextmanager
def name_scope(name: str) -> Iterator[str]:
    """Tag every op made inside with ``name`` (nested scopes join with ``/``).

    Pictures group the ops of a scope in one cluster (``layer1/Linear``...).
    """
    if not isinstance(name, str) or not name or "/" in name:
        raise ArgumentError(f"name_scope needs a non-empty name without '/', got {name!r}")
    full = name if _state.scope is None else f"{_state.scope}/{name}"
    with _setting("scope", full):
        yield full


def current_scope() -> str | None:
    """The name scope ops are tagged with right now (``None`` outside any scope)."""
    return _state.scope
