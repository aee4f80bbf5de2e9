"""The errors and warnings `viz` raises.

Each error subclasses `graphgrad.GraphgradError` (so one ``except gg.GraphgradError`` catches
everything the framework raises) and the matching built-in (``TypeError``, ``ValueError``,
``RuntimeError``). Depends on graphgrad's errors only.
"""
from __future__ import annotations

from graphgrad.errors import GraphgradError

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


class UnknownOptionError(OptionError, TypeError):
    """A drawing function was given an option it does not take (a TypeError too, as an
    unexpected keyword argument is)."""


class UnknownScopeError(OptionError):
    """``collapse`` named a scope that does not occur in the graph."""


class RenderFormatError(VizError, ValueError):
    """The file extension names no picture format that `viz.render` (or `viz.animate`, which
    writes .gif only) can write."""


class AnimationTooLargeError(VizError, ValueError):
    """An animation's frames would hold more pixels than `viz.animate` was allowed to use."""


class DotNotFoundError(VizError, RuntimeError):
    """Graphviz's ``dot`` program is missing, so no picture file can be made.

    ``source`` holds the DOT text of the picture, which needs no Graphviz to produce.
    """

    def __init__(self, message: str, source: str) -> None:
        super().__init__(message)
        self.source = source


class LargeGraphWarning(UserWarning):
    """The graph has more nodes than a picture stays readable (and quick to lay out) with."""
