"""viz: pictures of graphgrad's computation graphs, drawn the way the course draws them.

``viz.render(J, "graph.png")`` draws the graph behind J: forward computation in blue, left to
right; after ``J.backward()``, the derivatives flowing back in red, each edge labelled with
its gradient and numbered in backprop order, every node with its value and its dvar.
``viz.backprop_frames`` / ``viz.animate`` show backprop one step at a time; ``viz.plot_costs``
and ``viz.plot_decision_boundary`` are the course's training plots.

Reading order: `walk` (the graph, read through graphgrad's public attributes) -> `scopes`
(clusters and collapsed boxes) -> `labels` and `styles` (what a node says and looks like) ->
`dot` (the picture) -> `render` (files) -> `animate` -> `plots`. viz depends on graphgrad;
graphgrad never imports viz.
"""
from viz.errors import (
    AnimationTooLargeError,
    DotNotFoundError,
    LargeGraphWarning,
    MissingPackageError,
    NoBackwardError,
    NoGraphError,
    NotATensorError,
    OptionError,
    OptionTypeError,
    RenderFormatError,
    UnknownOptionError,
    UnknownScopeError,
    VizError,
    check_packages,
)

try:
    from viz.animate import animate, backprop_frames
    from viz.dot import DrawOptions, draw_graph, to_dot
    from viz.plots import plot_costs, plot_decision_boundary
    from viz.render import render
except ModuleNotFoundError:  # graphviz, matplotlib or Pillow, after pip install --no-deps?
    check_packages()  # names each one missing and the pip command; any other: its own error
    raise

__all__ = [
    "AnimationTooLargeError", "DotNotFoundError", "DrawOptions", "LargeGraphWarning",
    "MissingPackageError", "NoBackwardError", "NoGraphError", "NotATensorError", "OptionError",
    "OptionTypeError", "RenderFormatError", "UnknownOptionError", "UnknownScopeError",
    "VizError", "animate", "backprop_frames", "draw_graph", "plot_costs",
    "plot_decision_boundary", "render", "to_dot",
]
