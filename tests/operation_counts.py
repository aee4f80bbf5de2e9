"""Counting the work a call does, to tell linear from quadratic without timing it: the lines
of Python that run in the given source files (and a call's own lines), as ``sys.settrace``
sees them. A count is exact and the same on every machine."""
from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any


def lines_run(call: Callable[[], Any], *modules: Any) -> int:
    """How many lines of ``modules``' source files run while ``call()`` runs."""
    files = {module.__file__ for module in modules}
    count = 0

    def local(frame: Any, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return local

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        return local if frame.f_code.co_filename in files else None

    previous = sys.gettrace()  # a coverage tool's, say: put back after
    sys.settrace(tracer)
    try:
        call()
    finally:
        sys.settrace(previous)
    return count


def growth(count: Callable[[int], int], n: int, factor: int = 4) -> float:
    """``count(factor * n) / count(n)``: about ``factor`` for linear work, its square for
    quadratic."""
    return count(factor * n) / count(n)
