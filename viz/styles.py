"""How things look: the colours and shapes of each kind of node and edge, and the legend.

The course's convention is kept: forward computation in blue, derivatives in red. Tensors
are coloured by what they are (parameters green, constants grey, the output gold), ops are
grey ellipses, and trouble (NaN/Inf, exploding gradients) is marked so it is seen first.
Depends on `labels` (for the legend's text) and `walk` (the kinds of tensor).
"""
from __future__ import annotations

from viz import labels
from viz.walk import CONSTANT, INTERMEDIATE, OUTPUT, PARAMETER

FONT = "Helvetica,Arial,sans-serif"
FORWARD = "#1f63c6"
BACKWARD = "#d62728"
MUTED = "#666666"
HIDDEN = "transparent"  # still laid out, so every frame of an animation has the same layout

GRAPH = {
    "fontname": FONT,
    "nodesep": "0.3",
    "ranksep": "0.45",
    "newrank": "true",  # ranks across clusters, so a layer's cluster doesn't skew the layout
}
# The defaults are an intermediate tensor and a forward edge, the most common of each: what
# differs is all a node or edge spells out, which keeps big graphs' DOT text small and fast.
NODE = {"fontname": FONT, "fontsize": "12", "shape": "box", "style": "rounded,filled",
        "fillcolor": "#ffffff", "color": "#555555"}
EDGE = {"fontname": FONT, "fontsize": "10", "arrowsize": "0.7", "color": FORWARD,
        "weight": "2"}
# An edge from a leaf (a parameter, data or a constant) pulls less than the edges along the
# computation, so Graphviz keeps a chain of ops on one line and moves the leaves beside it:
# with equal weights each op sits between its two inputs, and a chain of h * 1.1 + 0.01
# steps slid down by half a box at every op, a staircase as tall as it was long.
LEAF_EDGE = {"weight": "1"}

TENSOR = {
    PARAMETER: {"fillcolor": "#d9f2d9", "color": "#2e7d32"},
    CONSTANT: {"fillcolor": "#eeeeee", "color": "#9e9e9e"},
    INTERMEDIATE: {},
    OUTPUT: {"fillcolor": "#ffe9a8", "color": "#b8860b", "penwidth": "2"},
}
SMALL_CONSTANT = {"fontsize": "10", "margin": "0.05,0.02", "height": "0.3"}
OP = {"shape": "ellipse", "fillcolor": "#f2f2f2"}
# A box3d's top and side faces take 4 points of its margin: a larger one keeps the scope's
# name from touching the top face.
BOX = {"shape": "box3d", "style": "filled", "fillcolor": "#e8e0f5", "color": "#6a51a3",
       "margin": "0.15,0.1"}
CLUSTER = {"style": "rounded,filled", "color": "#9e9e9e", "fontcolor": "#555555",
           "fontsize": "11", "labeljust": "l"}
CLUSTER_FILLS = ("#f7f9fc", "#eef2f8", "#e5ebf4")  # deeper scopes a shade darker

# Backward edges follow the gradient, right to left; constraint=false leaves the layout to
# the forward edges, so the red arrows run alongside the blue ones.
BACKWARD_EDGE = {"color": BACKWARD, "fontcolor": BACKWARD, "constraint": "false"}
CURRENT_STEP = {"penwidth": "2.5"}
HIDDEN_EDGE = {"color": HIDDEN, "fontcolor": HIDDEN}

NONFINITE = {"fillcolor": "#ff9b9b", "color": "#b00000", "penwidth": "3"}
EXPLODING = {"color": "#ff7f0e", "penwidth": "3"}
TROUBLE_EDGE = {"penwidth": "3"}
NONFINITE_TEXT = "#b00000"
EXPLODING_TEXT = "#d35400"

# A red edge's label is its place in backprop order and the gradient that flowed along it.
BACKWARD_KEY = "← backward: gradients in backprop order (2: da = 3)"
LEGEND_POINTS = 9  # the font size of the legend and of a caption drawn with it
CAPTION_POINTS = 14  # a caption without the legend: Graphviz's default size


def legend(
    show_backward: bool, caption: str | None = None, cell: str = "", notes: list[str] = ()
) -> str:
    """A one-row HTML-like label naming every style (for the graph's caption, at the bottom).

    ``caption`` (already escaped) is written above it, in a cell with the attributes
    ``cell`` (`labels.fixed_cell`), and ``notes`` (HTML-like text) between the two, a row
    each.
    """
    def swatch(style: dict, text: str) -> str:
        fill = style.get("fillcolor", NODE["fillcolor"])
        border = style.get("color", NODE["color"])
        return f'<td bgcolor="{fill}" border="1" color="{border}" style="rounded">{text}</td>'

    cells = [
        swatch(TENSOR[PARAMETER], "parameter"),
        swatch(TENSOR[CONSTANT], "constant / data"),
        swatch(TENSOR[INTERMEDIATE], "intermediate"),
        swatch(TENSOR[OUTPUT], "output"),
        swatch(OP, "op"),
        f'<td><font color="{FORWARD}">→ forward: values</font></td>',
    ]
    if show_backward:  # what a red edge's label says, with the course graph's example
        cells.append(f'<td><font color="{BACKWARD}">{BACKWARD_KEY}</font></td>')
    cells.append(swatch(NONFINITE, labels.escape("NaN / Inf")))
    cells.append(swatch(EXPLODING, "exploding gradient"))
    rows = "".join(f'<tr><td colspan="{len(cells)}">{note}</td></tr>' for note in notes)
    rows += f"<tr>{''.join(cells)}</tr>"
    if caption:
        rows = f'<tr><td colspan="{len(cells)}"{cell}>{labels.bold(caption)}</td></tr>' + rows
    return ('<<table border="0" cellborder="0" cellspacing="3" cellpadding="2">'
            + rows + "</table>>")
