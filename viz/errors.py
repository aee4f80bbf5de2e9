"""The errors and warnings `viz` raises, and the check, when importing viz fails, of the Python
packages it draws with.

Each error subclasses `graphgrad.GraphgradError` (so one ``except gg.GraphgradError`` catches
everything the framework raises) and the matching built-in (``TypeError``, ``ValueError``,
``RuntimeError``, ``ModuleNotFoundError``). Depends on graphgrad's errors only.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from graphgrad.errors import ArgumentError, GraphgradError

# The packages viz imports, as setup.cfg requires them: (module, what to call it, pip name).
# Pillow before matplotlib, which imports it: without Pillow, matplotlib is not missing.
PACKAGES = (("graphviz", "graphviz", "graphviz"), ("PIL", "Pillow (imported as PIL)", "pillow"),
            ("matplotlib", "matplotlib", "matplotlib"))

INSTALL_DOT = (
    "Install Graphviz, which provides it:\n"
    "  Debian/Ubuntu:  sudo apt-get install graphviz\n"
    "  macOS:          brew install graphviz\n"
    "  conda:          conda install -c conda-forge graphviz"
)


class VizError(GraphgradError):
    """Base class of the errors raised while drawing a graph or a plot."""


class NotATensorError(VizError, TypeError):
    """Something other than a graphgrad Tensor was given to draw."""


class NoGraphError(VizError, ValueError):
    """The tensor to draw was not made by any recorded op, so it has no graph."""


class NoBackwardError(VizError, ValueError):
    """A picture of backprop was asked for, but no backward pass was recorded on the graph."""


class OptionError(VizError, ValueError):
    """An option of a drawing function has a value it cannot take."""


class OptionTypeError(OptionError, TypeError):
    """An argument of a drawing or plotting function is of a kind it cannot take (a path that
    is no file name, axes that are no matplotlib Axes): an `OptionError` and a TypeError."""


class UnknownOptionError(OptionTypeError):
    """A drawing function was given an option it does not take (a TypeError too, as an
    unexpected keyword argument is)."""


def checked(check: Callable[..., Any], value: Any, what: str, caller: str, *rule: Any) -> Any:
    """``check(value, what, caller, *rule)``, one of graphgrad's setting checks (`flag`,
    `real_number`, ...), with its refusal raised as viz's `OptionError`, in its words."""
    try:
        return check(value, what, caller, *rule)
    except ArgumentError as error:
        raise OptionError(str(error)) from None


class UnknownScopeError(OptionError):
    """``collapse`` named a scope that does not occur in the graph."""


class RenderFormatError(VizError, ValueError):
    """The file extension names no picture format that `viz.render` (or `viz.animate`, which
    writes .gif only, or the plots, which matplotlib saves) can write."""


class AnimationTooLargeError(VizError, ValueError):
    """An animation's frames would hold more pixels than `viz.animate` was allowed to use."""


class DotNotFoundError(VizError, RuntimeError):
    """Graphviz's ``dot`` program is missing, so no picture file can be made.

    ``viz.render`` makes it with the ``message`` to show (the format asked for, how to install
    Graphviz, how to get the DOT text) and ``source``, the DOT text of the picture, which
    needs no Graphviz to produce.
    """

    def __init__(self, message: str, source: str) -> None:
        super().__init__(message)
        self.source = source

    def __reduce__(self) -> tuple:
        # Exception's passes the message alone: copy and pickle need the source too.
        return type(self), (*self.args[:1], self.source), self.__dict__


class MissingPackageError(VizError, ModuleNotFoundError):
    """A Python package viz draws with (graphviz, matplotlib, Pillow) is not installed, as
    after ``pip install --no-deps``; ``name`` is the first one missing."""


def check_packages() -> None:
    """Import the packages viz draws with, or raise a `MissingPackageError` naming every one
    that is missing and the pip command that installs them. A package that is there but fails
    to import (one of its own dependencies missing) raises its own error."""
    modules = {module for module, _, _ in PACKAGES}
    missing = set()
    for module, _, _ in PACKAGES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as error:
            name = (error.name or "").partition(".")[0]
            if name not in modules:
                raise
            missing.add(name)
    if not missing:
        return
    named = [(called, pip) for module, called, pip in PACKAGES if module in missing]
    several = len(named) > 1
    listed = ", ".join(called for called, _ in named[:-1]) + " and " * several + named[-1][0]
    raise MissingPackageError(
        f"viz needs the Python package{'s' * several} {listed}, which "
        f"{'are' if several else 'is'} not installed (pip install --no-deps leaves out the "
        "packages graphgrad requires; graphgrad itself needs numpy only). Install "
        f"{'them' if several else 'it'}: pip install {' '.join(pip for _, pip in named)}",
        name=next(module for module, _, _ in PACKAGES if module in missing)) from None


class LargeGraphWarning(UserWarning):
    """The graph has more nodes than a picture stays readable (and quick to lay out) with."""
