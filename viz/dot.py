"""`draw_graph` and `to_dot`: a computation graph as a Graphviz picture, drawn as the course does.

Forward edges are blue and run left to right, input -> op -> output. Once backward has run,
red edges run right to left along the gradient: from each output into the op that used its
gradient, and from the op to each input, labelled with the gradient sent along that edge and
numbered in the order backprop produced them (``node.backward_order``, ``node.input_grads``);
in a picture of many long edges (a weight that every step of an unrolled RNN uses) the labels
sit beside the red edges, which Graphviz lays out many times faster. Tensor boxes show name,
shape, dtype, value and dvar (the .grad a drawn pass wrote, with a note when it is not what the
red edges into it add up to); a picture of several passes (costs backpropagated one after the
other) says in its caption which red edges each pass sent. Scopes become clusters or,
collapsed, single boxes. The DOT text needs no Graphviz installation; `viz.render` turns it
into files.
Depends on `walk`, `scopes`, `labels`, `styles`, and the ``graphviz`` package.
"""
from __future__ import annotations

import difflib
import functools
import inspect
import numbers
import os
import sys
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import InitVar, dataclass, field, fields
from typing import Any

import graphviz
import numpy as np
from graphviz.quoting import quote

from graphgrad import Tensor
from graphgrad.errors import setting_text
from graphgrad.hooks import tensor_hooks
from viz import labels, styles
from viz.errors import LargeGraphWarning, OptionError, OptionTypeError, UnknownOptionError
from viz.scopes import Box, Cluster, Layout, lay_out, scopes_of
from viz.walk import CONSTANT, PARAMETER, OpInfo, Snapshot, TensorInfo, as_roots, snapshot

RANKDIRS = ("LR", "RL", "TB", "BT")


@dataclass(frozen=True)
class DrawOptions:
    """What a picture shows: the options of `draw_graph`, which documents each, with its
    defaults: show_values, show_grads, show_backward, rankdir, precision, max_elements,
    max_label_chars, clusters, collapse, legend, exploding_grad, max_nodes, backward_steps and
    title. An option refused is an `OptionError` (an `OptionTypeError` for one of the wrong
    kind, a title that is no string) naming ``caller``, the function given it."""

    show_values: bool = True
    show_grads: bool = True
    show_backward: bool = True
    rankdir: str = "LR"
    precision: int = 3
    max_elements: int = 4
    max_label_chars: int = 48
    clusters: bool = True
    collapse: bool | str | Sequence[str] = False
    legend: bool = True
    exploding_grad: float = 1e3
    max_nodes: int | None = 500
    backward_steps: int | None = None
    title: str | None = None
    caller: InitVar[str] = "viz.DrawOptions"  # not an option: no field, so not in OPTIONS

    def __new__(cls, *args: Any, **options: Any) -> DrawOptions:
        # Before the generated __init__, whose TypeError for an unknown keyword names none of
        # the options there are.
        caller = options.pop("caller", "viz.DrawOptions")
        check_option_names(options, caller if isinstance(caller, str) else "viz.DrawOptions")
        return super().__new__(cls)

    def __post_init__(self, caller: str) -> None:
        try:
            self._check()
        except OptionError as error:
            raise type(error)(f"{caller}: {error}") from None

    def _check(self) -> None:
        # Python reads "no", None or NaN as a side of an on/off option: only bools are taken.
        for option in ("show_values", "show_grads", "show_backward", "clusters", "legend"):
            value = getattr(self, option)
            if not isinstance(value, (bool, np.bool_)):
                raise OptionError(f"{option} must be True or False, got {setting_text(value)}")
            object.__setattr__(self, option, bool(value))
        if not isinstance(self.rankdir, str) or self.rankdir not in RANKDIRS:
            kind = OptionError if isinstance(self.rankdir, str) else OptionTypeError
            raise kind(f"rankdir must be one of {', '.join(RANKDIRS)}, "
                       f"got {setting_text(self.rankdir)}")
        for option in ("precision", "max_label_chars"):
            _check_whole(option, getattr(self, option), 1)
        _check_whole("max_elements", self.max_elements, 0)
        if self.backward_steps is not None:
            _check_whole("backward_steps", self.backward_steps, 0)
        if self.max_nodes is not None:
            _check_whole("max_nodes", self.max_nodes, 0)
        object.__setattr__(self, "collapse", _collapse_setting(self.collapse))
        bound = self.exploding_grad
        number = isinstance(bound, numbers.Real) and not isinstance(bound, (bool, np.bool_))
        if not number or not bound >= 0:
            kind = OptionError if number else OptionTypeError
            raise kind(f"exploding_grad must be a number >= 0 (the largest |gradient| "
                       f"not highlighted; inf for none), got {setting_text(bound)}")
        if self.title is not None and not isinstance(self.title, str):
            raise OptionTypeError(f"title must be a string or None, got "
                                  f"{setting_text(self.title)}")


OPTIONS = tuple(option.name for option in fields(DrawOptions))
# help() and inspect.signature show the options that __init__ takes, not the (*args, **options)
# of __new__, which only checks their names first.
_INIT = inspect.signature(DrawOptions.__init__)
DrawOptions.__signature__ = _INIT.replace(
    parameters=list(_INIT.parameters.values())[1:], return_annotation=inspect.Signature.empty)


def _collapse_setting(collapse: Any) -> bool | str | tuple[str, ...] | None:
    """``collapse`` as `lay_out` takes it: True, False (or None), a scope name, or a tuple of
    names; anything else (a number, a list holding one) is an `OptionTypeError`."""
    if collapse is None or isinstance(collapse, (bool, np.bool_, str)):
        return collapse if collapse is None or isinstance(collapse, str) else bool(collapse)
    try:
        names = tuple(collapse)
    except TypeError:
        names = None
    if isinstance(collapse, Mapping) or names is None or not all(
            isinstance(name, str) for name in names):
        raise OptionTypeError(f"collapse must be True, False, a scope's name or a list of "
                              f"names, got {setting_text(collapse)}")
    return names


def _check_whole(option: str, value: Any, least: int) -> None:
    """Refuse ``value`` unless it is a whole number of at least ``least`` (a count: 2.5
    elements or -1 steps mean nothing)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise OptionError(f"{option} must be a whole number, got {value!r}")
    if value < least:
        more = "at least 1" if least == 1 else f"{least} or more"
        raise OptionError(f"{option} must be {more}, got {value}")


def check_option_names(
    options: Mapping[str, Any],
    caller: str,
    own: Sequence[str] = (),
    drawing: Sequence[str] = OPTIONS,
) -> None:
    """Refuse options other than the ``drawing`` options ``caller`` passes on to
    `draw_graph`, listing those and ``own``, the options it takes besides."""
    unknown = [name for name in options if name not in drawing]
    if not unknown:
        return
    names = ", ".join(f"{name!r}{_close_option(name, [*own, *drawing])}" for name in unknown)
    valid = f"{', '.join(own)}, and the drawing options: " if own else "the drawing options: "
    raise UnknownOptionError(
        f"{caller} has no option {names}. It takes {valid}{', '.join(drawing)}.")


def _close_option(name: Any, valid: Sequence[str]) -> str:
    """`` (did you mean 'show_values'?)`` for a misspelt option, or nothing."""
    close = difflib.get_close_matches(name, valid, n=1) if isinstance(name, str) else []
    return f" (did you mean {close[0]!r}?)" if close else ""


def draw_graph(
    roots: Tensor | Sequence[Tensor],
    *,
    show_values: bool = True,
    show_grads: bool = True,
    show_backward: bool = True,
    rankdir: str = "LR",
    precision: int = 3,
    max_elements: int = 4,
    max_label_chars: int = 48,
    clusters: bool = True,
    collapse: bool | str | Sequence[str] = False,
    legend: bool = True,
    exploding_grad: float = 1e3,
    max_nodes: int | None = 500,
    backward_steps: int | None = None,
    title: str | None = None,
    **unknown: Any,
) -> graphviz.Digraph:
    """The computation graph behind ``roots`` (usually the cost J) as a `graphviz.Digraph`.

    In Jupyter the result shows inline; ``viz.render`` writes it to a file; ``.source`` is its
    DOT text. Reads the graph only (``creator``, ``inputs``, ``attrs``, ``scope``,
    ``backward_order``, ``input_grads``) and changes nothing.

    Args:
        roots: a Tensor made by graphgrad ops, or a sequence of them.
        show_values: write each tensor's value (``a = 5``) in its box.
        show_grads: write each tensor's dvar (``da = 3``) in its box and on the red edges.
        show_backward: draw the red backward edges (drawn only once backward has run).
        rankdir: the direction of the forward pass: ``"LR"`` (left to right, as the course
            draws it), ``"TB"`` (top to bottom), ``"RL"`` or ``"BT"``.
        precision: significant digits of the numbers shown.
        max_elements: arrays with at most this many elements are shown whole; bigger ones
            as ``min / mean / max`` (scalars are always shown whole).
        max_label_chars: longest line in a label (scope frames' too); longer lines are cut
            with ``…``.
        clusters: frame the ops of each ``gg.name_scope`` together.
        collapse: draw scopes as single boxes: True for every innermost scope, or a scope
            name (``"layer1"``, ``"model/layer1"``) or a list of names. Ops of one scope
            that no tensor inside it joins (a layer called twice, with an op of another
            scope between the calls) are separate boxes, ``Linear`` and ``Linear (2)``.
        legend: add a small legend of the styles.
        exploding_grad: gradients with an element larger than this (in absolute value) are
            highlighted as exploding; NaN and Inf are always highlighted.
        max_nodes: warn (`LargeGraphWarning`) when the picture has more nodes than this,
            or edges so long that Graphviz would take seconds to lay it out; None never warns.
        backward_steps: show the backward pass as it stands after this many steps (the
            frames of `backprop_frames`); None shows all of it.
        title: a caption above the picture.

    Raises:
        NotATensorError: ``roots`` is not a graphgrad Tensor.
        NoGraphError: a root was not made by a recorded op (a leaf, or made in no_grad).
        UnknownOptionError: an option that is none of these (``unknown``, the keywords left
            over), named with the one meant when it is close to one (``show_value``).
        OptionError: an option has a value it cannot take, before anything is drawn: an on/off
            option that is not True or False, a count that is no whole number, a rankdir
            that is none of those, an exploding_grad below 0 (an `OptionTypeError` for a
            rankdir, collapse, exploding_grad or title of the wrong kind) and, once the graph
            is read, an `UnknownScopeError` for a collapse naming no scope of it.
    """
    check_option_names(unknown, "viz.draw_graph")
    options = draw_options(
        "viz.draw_graph", show_values=show_values, show_grads=show_grads,
        show_backward=show_backward, rankdir=rankdir, precision=precision,
        max_elements=max_elements, max_label_chars=max_label_chars, clusters=clusters,
        collapse=collapse, legend=legend, exploding_grad=exploding_grad, max_nodes=max_nodes,
        backward_steps=backward_steps, title=title,
    )
    return draw(as_roots(roots, "viz.draw_graph"), options, caller="viz.draw_graph")


def draw_options(caller: str, **options: Any) -> DrawOptions:
    """``DrawOptions(**options)`` (names checked by `check_option_names`), an option it
    refuses named with ``caller``, the function that was given it."""
    return DrawOptions(**options, caller=caller)


def to_dot(roots: Tensor | Sequence[Tensor], **options: Any) -> str:
    """The DOT text of `draw_graph` on ``roots`` (a Tensor made by graphgrad ops, or a
    sequence of them) with the same ``options``; needs no Graphviz installation."""
    check_option_names(options, "viz.to_dot")
    options = draw_options("viz.to_dot", **options)
    return draw(as_roots(roots, "viz.to_dot"), options, caller="viz.to_dot").source


def draw(
    roots: Sequence[Tensor], options: DrawOptions, captions: Sequence[str] = (), *, caller: str
) -> graphviz.Digraph:
    """`draw_graph` on checked roots with its options gathered.

    ``captions``: the titles of every frame this picture is one of; its own caption takes
    the room of the widest, so that a longer caption in one frame moves no node.
    ``caller``: the function drawing, which an `UnknownScopeError` names.
    """
    graph = snapshot(roots)
    layout = lay_out(graph, options.clusters, options.collapse, caller)
    _warn_if_large(graph, layout, options)
    backward = _backward_edges(graph, layout, options)
    return _Drawing(graph, layout, backward, options, captions).digraph()


@dataclass(eq=False)
class BackwardEdge:
    """A red edge: a gradient flowing from ``tail`` to ``head`` at a backward step."""

    tail: str
    head: str
    step: int
    backward_pass: int  # the pass that sent it (``node.backward_pass``)
    target: TensorInfo | None = None  # the input the gradient is for; None: output -> op
    grads: list[np.ndarray] = field(default_factory=list)
    number: int = 0  # its place in backprop order (1, 2, ...), for edges into inputs


def _backward_edges(graph: Snapshot, layout: Layout, options: DrawOptions) -> list[BackwardEdge]:
    """The red edges in the order backprop produced them, pass by pass."""
    if not options.show_backward:
        return []
    edges: list[BackwardEdge] = []
    by_ends: dict[tuple[str, str, int], BackwardEdge] = {}  # merges a collapsed box's edges
    hidden = layout.hidden
    for op in graph.steps:
        step, backward_pass = op.step, op.node.backward_pass
        end = layout.endpoint(op)
        for info in op.outputs:
            if info.tensor.grad is not None and info not in hidden:
                edge = BackwardEdge(info.id, end, step, backward_pass)
                _merge(edges, by_ends, edge, end != op.id)
        input_grads = op.node.input_grads or ()
        for info, grad in zip(op.inputs, input_grads):
            if (grad is None or not info.tensor.requires_grad or info in hidden
                    or layout.within_box(info, op)):  # a gradient that never leaves its box
                continue
            grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad)
            edge = BackwardEdge(end, info.id, step, backward_pass, info, [grad])
            _merge(edges, by_ends, edge, end != op.id)
    edges.sort(key=lambda edge: edge.step)  # stable: within a step, in input order
    number = 0
    for edge in edges:
        if edge.target is not None:
            number += 1
            edge.number = number
    return edges


def _merge(
    edges: list[BackwardEdge],
    by_ends: dict[tuple[str, str, int], BackwardEdge],
    edge: BackwardEdge,
    from_box: bool,
) -> None:
    """Add ``edge``; a box sends one edge per input and pass, carrying the sum, at its last
    step in that pass."""
    if from_box or edge.target is None:
        ends = (edge.tail, edge.head, edge.backward_pass)
        same = by_ends.get(ends)
        if same is not None:
            same.step = max(same.step, edge.step)
            same.grads.extend(edge.grads)
            return
        by_ends[ends] = edge
    edges.append(edge)


class _Drawing:
    """Builds one Digraph: nodes per cluster, then the blue edges, then the red ones."""

    def __init__(
        self,
        graph: Snapshot,
        layout: Layout,
        backward: list[BackwardEdge],
        options: DrawOptions,
        captions: Sequence[str] = (),
    ) -> None:
        self.graph = graph
        self.layout = layout
        self.backward = backward
        self.options = options
        self.captions = list(captions)
        self.frame = options.backward_steps  # None: the whole backward pass is shown
        # How many red edges of one pass bring a gradient into each tensor (two or more: they
        # add up; separate passes each start again), and the step after which its dvar is
        # complete.
        self.arrivals: dict[tuple[TensorInfo, int], int] = {}
        self.ready: dict[TensorInfo, int] = {}
        for edge in backward:
            if edge.target is not None:
                key = (edge.target, edge.backward_pass)
                self.arrivals[key] = self.arrivals.get(key, 0) + 1
                self.ready[edge.target] = max(self.ready.get(edge.target, -1), edge.step)
        # A gradient sent inside a collapsed box has no edge, but the dvar is complete only
        # once it has arrived too.
        for op in layout.box_of:
            if op.step is None:
                continue
            for info, grad in zip(op.inputs, op.node.input_grads or ()):
                if grad is not None and info in self.ready and layout.within_box(info, op):
                    self.ready[info] = max(self.ready[info], op.step)
        # A root's dvar (dJ = 1) is where its backward pass starts, with the step of the op
        # that made it (step 0 for the first pass drawn); a root that other drawn ops send
        # gradients into (h in [J, h]) waits for them like any tensor.
        for root in graph.roots:
            maker = root.creator
            start = maker.step if maker is not None and maker.step is not None else 0
            self.ready.setdefault(root, start)
        self.last_step = max((edge.step for edge in backward), default=-1)
        self.passes = {op.node.backward_pass for op in graph.steps}
        self.inflows = _inflows(graph)
        self.shape_texts: dict[tuple[tuple[int, ...], np.dtype], str] = {}

    # -- the picture ------------------------------------------------------------------------
    def digraph(self) -> graphviz.Digraph:
        o = self.options
        graph_attrs = dict(styles.GRAPH, rankdir=o.rankdir)
        caption = labels.escape(o.title) if o.title else None
        notes = [labels.font(labels.escape(row), styles.BACKWARD) for row in self._pass_notes()]
        points = styles.LEGEND_POINTS if o.legend else styles.CAPTION_POINTS
        # Frames' captions all take one size: the picture's width stays that of every frame.
        cell = labels.fixed_cell(self.captions, points) if self.captions else ""
        if o.legend:  # the legend is the caption, below the graph
            graph_attrs.update(label=styles.legend(bool(self.backward), caption, cell, notes),
                               labelloc="b", fontsize=str(points))
        elif caption or notes:
            rows = [labels.bold(caption)] if caption else []
            graph_attrs.update(label=labels.table(rows + notes, cell), labelloc="b")
        dot = graphviz.Digraph(graph_attr=graph_attrs, node_attr=styles.NODE,
                               edge_attr=styles.EDGE)
        self.clusters_drawn = 0
        self._fill(dot, self.layout.top, 0)
        self._forward_edges(dot)
        self.length = _length(self.blue, self.backward)
        _warn_if_long(self.graph, self.layout, o, self.length)
        self._backward_edges(dot)
        return dot

    def _fill(self, dot: graphviz.Digraph, cluster: Cluster, depth: int) -> None:
        """The members of ``cluster`` as nodes, then each nested scope as a subgraph."""
        for member in cluster.members:
            if isinstance(member, TensorInfo):
                self._tensor_node(dot, member)
            elif isinstance(member, OpInfo):
                self._op_node(dot, member)
            else:
                self._box_node(dot, member)
        for child in cluster.children.values():
            self.clusters_drawn += 1
            fill = styles.CLUSTER_FILLS[min(depth, len(styles.CLUSTER_FILLS) - 1)]
            with dot.subgraph(name=f"cluster_{self.clusters_drawn}") as sub:
                label = labels.shorten(child.label, self.options.max_label_chars)
                sub.attr(label=labels.table([labels.escape(label)]), fillcolor=fill,
                         **styles.CLUSTER)
                self._fill(sub, child, depth + 1)

    # -- nodes --------------------------------------------------------------------------------
    def _tensor_node(self, dot: graphviz.Digraph, info: TensorInfo) -> None:
        o = self.options
        tensor = info.tensor
        data = tensor.data
        style = dict(styles.TENSOR[info.kind])
        limit = o.max_label_chars
        bad_value = labels.nonfinite(data) != (0, 0)

        if info.kind == CONSTANT and not info.name:  # a number or array used once
            rows = [] if data.ndim == 0 else [labels.font(self._shape_text(data), size=8)]
            rows.append(labels.escape(labels.shorten(
                labels.values(data, o.precision, o.max_elements), limit)))
            style.update(styles.SMALL_CONSTANT)
            if bad_value:
                style.update(styles.NONFINITE)
            _node(dot, info.id, labels.table(rows), style)
            return

        rows = [labels.bold(labels.escape(labels.shorten(info.name, limit))),
                labels.font(self._shape_text(data), styles.MUTED, 9)]
        if o.show_values:  # "a = 5": a long name is cut, never the value
            value = self._assignment("", info.name, data, limit)
            row = labels.escape(labels.fit("", info.name, value, limit))
            rows.append(labels.font(row, styles.NONFINITE_TEXT) if bad_value else row)
        grad = self._dvar(info)
        grad_trouble = None
        if o.show_grads and grad is not None:
            color, mark = styles.BACKWARD, ""
            if labels.nonfinite(grad) != (0, 0):
                color, grad_trouble = styles.NONFINITE_TEXT, styles.NONFINITE
            elif self._explodes(grad):
                color, grad_trouble = styles.EXPLODING_TEXT, styles.EXPLODING
                mark = " (exploding)"
            value = self._assignment("d", info.name, grad, limit - len(mark))
            text = labels.fit("d", info.name, value, limit - len(mark)) + mark
            shown = self._grad_shown(info)
            if not shown:
                color, grad_trouble = styles.HIDDEN, None
            rows.append(labels.font(labels.escape(labels.shorten(text, limit)), color))
            note = self._dvar_note(info, grad)
            for row in labels.wrap(note, limit, max_rows=2) if note else ():
                rows.append(labels.font(labels.escape(row),
                                        styles.BACKWARD if shown else styles.HIDDEN, 9))
        if grad_trouble is not None:
            style.update(grad_trouble)
        if bad_value:  # a NaN/Inf value is the bigger problem: its style wins
            style.update(styles.NONFINITE)
        _node(dot, info.id, labels.table(rows), style)

    def _op_node(self, dot: graphviz.Digraph, op: OpInfo) -> None:
        o = self.options
        node = op.node
        rows = [labels.bold(labels.escape(labels.shorten(node.name, o.max_label_chars)))]
        for key, value in node.attrs.items():
            text = f"{key}={labels.attribute(value, o.precision)}"
            rows.append(labels.font(labels.escape(labels.shorten(text, o.max_label_chars)),
                                    styles.MUTED, 9))
        style = styles.OP
        if self.frame is not None and op.step is not None and op.step == self.frame - 1:
            style = dict(style, color=styles.BACKWARD, penwidth="2.5")
        _node(dot, op.id, labels.table(rows), style)

    def _box_node(self, dot: graphviz.Digraph, box: Box) -> None:
        o = self.options
        limit = o.max_label_chars
        names = list(dict.fromkeys(op.node.name for op in box.ops))
        count = len(box.ops)
        rows = [labels.bold(labels.escape(labels.shorten(box.label, limit)))]
        plural = "s" if count != 1 else ""
        for row in labels.wrap(f"{count} op{plural}: {', '.join(names)}", limit):
            rows.append(labels.escape(row))
        for kind, heading in ((PARAMETER, "parameters"), (CONSTANT, "data")):
            inside = [_name_and_shape(info) for info in box.hidden
                      if info.kind == kind and info.name]
            if inside:
                for row in labels.wrap(f"{heading}: {', '.join(inside)}", limit):
                    rows.append(labels.font(labels.escape(row), styles.MUTED, 9))
        style = styles.BOX
        steps = [op.step for op in box.ops if op.step is not None]
        if self.frame is not None and steps and self.frame - 1 in steps:
            style = dict(style, color=styles.BACKWARD, penwidth="2.5")
        _node(dot, box.id, labels.table(rows), style)

    # -- edges --------------------------------------------------------------------------------
    def _forward_edges(self, dot: graphviz.Digraph) -> None:
        hidden = self.layout.hidden
        seen: set[tuple[str, str]] = set()  # a box takes each tensor once
        self.blue: list[tuple[str, str]] = []  # (tail, head) of each, to judge their lengths
        for op in self.graph.ops:
            end = self.layout.endpoint(op)
            merged = end != op.id
            for info in op.inputs:
                if info in hidden or self.layout.within_box(info, op):  # no edge to itself
                    continue
                if not (merged and (info.id, end) in seen):
                    seen.add((info.id, end))
                    self.blue.append((info.id, end))
                    _edge(dot, info.id, end, styles.LEAF_EDGE if info.creator is None else {})
            for info in op.outputs:
                if info not in hidden:
                    self.blue.append((end, info.id))
                    _edge(dot, end, info.id, {})

    def _backward_edges(self, dot: graphviz.Digraph) -> None:
        if not self.backward:
            return
        with dot.subgraph(name="backward") as back:  # a plain subgraph: only edge defaults
            back.attr("edge", **styles.BACKWARD_EDGE)
            self._red_edges(back)

    def _red_edges(self, dot: graphviz.Digraph) -> None:
        o = self.options
        # Beside its edge (Graphviz's xlabel) rather than on it once the edges are long: see
        # LONG_EDGES.
        key = "xlabel" if self.length > LONG_EDGES else "label"
        for edge in self.backward:
            label, attrs = None, {}
            if edge.target is not None:
                text = str(edge.number)
                grad = sum(edge.grads[1:], edge.grads[0])  # a box's edge carries the sum
                if o.show_grads:
                    accumulates = self.arrivals[(edge.target, edge.backward_pass)] > 1
                    before, name = f"{text}: d", edge.target.name
                    flowed = labels.flowing("", grad, o.precision, o.max_elements, accumulates)
                    if not labels.fits(before, name, flowed, o.max_label_chars):
                        # the range, rather than an array cut off in the middle of a number
                        flowed = labels.flowing("", grad, o.precision, 0, accumulates)
                    text = labels.fit(before, name, flowed, o.max_label_chars)
                if labels.nonfinite(grad) != (0, 0) or self._explodes(grad):
                    attrs.update(styles.TROUBLE_EDGE)
                label = f"<{labels.escape(labels.shorten(text, o.max_label_chars))}>"
            if self.frame is not None:
                if edge.step >= self.frame:
                    attrs.update(styles.HIDDEN_EDGE)
                elif edge.step == self.frame - 1:
                    attrs.update(styles.CURRENT_STEP)
            _edge(dot, edge.tail, edge.head, attrs, label, key)

    def _pass_notes(self) -> list[str]:
        """What a picture of several backward passes says of them (unescaped rows, one a
        pass): the red edges each sent, and whose .grad a dvar is. A frame of
        `backprop_frames` says none of it: its caption names the pass of its step."""
        o = self.options
        if self.frame is not None or len(self.passes) < 2:
            return []
        numbers: dict[int, list[int]] = {}
        for edge in self.backward:
            if edge.number:
                numbers.setdefault(edge.backward_pass, []).append(edge.number)
        rows = []
        for shown, backward_pass in enumerate(sorted(self.passes), start=1):
            through = ", ".join(root.name for root in self.graph.roots
                                if root.creator.node.backward_pass == backward_pass)
            row = f"backward pass {shown} of {len(self.passes)} (through {through})"
            if o.show_backward:
                sent = numbers.get(backward_pass, [])
                if not sent:
                    row += ": no red edge"
                elif len(sent) == 1:
                    row += f": red edge {sent[0]}"
                else:
                    row += f": red edges {sent[0]}–{sent[-1]}"
            rows.append(labels.shorten(row, 2 * o.max_label_chars))
        if o.show_grads:
            rows.append("each dvar is the .grad of the last pass through it (of a leaf: "
                        "summed over passes)")
        return rows

    # -- helpers -----------------------------------------------------------------------------
    def _shape_text(self, data: np.ndarray) -> str:
        """``(3, 4) float64``, escaped and cut to fit: made once per shape and dtype, which
        most tensors of a big graph share (and str() of a dtype takes microseconds)."""
        key = (data.shape, data.dtype)
        text = self.shape_texts.get(key)
        if text is None:
            text = labels.escape(labels.shorten(labels.shape(data), self.options.max_label_chars))
            self.shape_texts[key] = text
        return text

    def _assignment(self, before: str, name: str, array: np.ndarray, limit: int) -> str:
        """`` = [1, 2]`` for a box's row, or the summary ``: min 1  mean 1.5  max 2`` when the
        elements do not fit in ``limit`` with ``before + name``: an array cut off in the
        middle of a number (``8.75e-0…``) reads as another value."""
        o = self.options
        value = labels.assignment("", array, o.precision, o.max_elements)
        if labels.fits(before, name, value, limit):
            return value
        return labels.assignment("", array, o.precision, 0)

    def _dvar(self, info: TensorInfo) -> np.ndarray | None:
        """The dvar a box shows: the tensor's .grad, when the passes drawn wrote it.

        An op's output gets its .grad from the pass that ran its op, so it is shown when that
        pass is drawn. A leaf's .grad adds up every pass that reached it, so it is shown
        when a drawn pass sent it a gradient: a graph never backpropagated shows no .grad
        left by an older graph.
        """
        grad = info.tensor.grad
        if grad is None:
            return None
        if info.creator is not None:
            drawn = info.creator.node.backward_pass in self.passes
        else:
            drawn = info in self.inflows
        return np.asarray(grad) if drawn else None

    def _dvar_note(self, info: TensorInfo, grad: np.ndarray) -> str:
        """What the box says when its dvar is not what the drawn red edges add up to: a
        leaf's .grad accumulated over other passes too or changed since (clipped, divided in
        place: a leaf's .grad is the user's; or by its hooks), an op's output whose hooks
        changed its gradient (the red edges carry what flowed into it, .grad what the hooks
        made of that; said while it holds hooks), an op's output reached by several passes,
        or a gradient from a part of the graph not drawn. "" when they agree."""
        inflow = self.inflows.get(info)
        if inflow is None or inflow.agrees_with(grad):
            return ""
        o = self.options
        flowed = labels.values(inflow.total, o.precision, o.max_elements)
        if info.creator is None:  # a leaf's hooks are one more way to change its .grad
            reason = "accumulated or changed .grad; "
        else:
            reason = ".grad of its last pass; " if len(inflow.passes) > 1 else ""
            if tensor_hooks(info.tensor):
                reason += "after its hooks; "
        return f"({reason}red edges: {flowed})"

    def _explodes(self, grad: np.ndarray) -> bool:
        if grad.dtype.kind not in "fc" or grad.size == 0:
            return False
        return bool(np.abs(grad).max() > self.options.exploding_grad)

    def _grad_shown(self, info: TensorInfo) -> bool:
        """In a frame, a dvar appears once every gradient flowing into it has arrived."""
        if self.frame is None:
            return True
        return self.ready.get(info, self.last_step) < self.frame


# -- DOT lines -------------------------------------------------------------------------------
# Digraph.node and Digraph.edge quote every id and attribute on every call (a regular
# expression each, behind a wrapper checking for deprecated arguments): a quarter of the time a
# 5,000-node picture took. Here ids (tensor1, op2, box3) and HTML-like labels (<...>) never need
# quoting, and the few styles are quoted once each, by graphviz, so the lines appended to the
# Digraph's body are those its methods would write.

def _node(dot: graphviz.Digraph, node_id: str, label: str, style: Mapping[str, str]) -> None:
    """``dot.node(node_id, label=label, **style)`` for an HTML-like ``label``."""
    dot.body.append(f"\t{node_id}{_attributes(label, style)}\n")


def _edge(
    dot: graphviz.Digraph,
    tail: str,
    head: str,
    style: Mapping[str, str],
    label: str | None = None,
    key: str = "label",
) -> None:
    """``dot.edge(tail, head, label=label, **style)`` for an HTML-like ``label`` (or None),
    given as ``key`` (``label``, or ``xlabel`` to place it beside the edge)."""
    dot.body.append(f"\t{tail} -> {head}{_attributes(label, style, key)}\n")


def _attributes(label: str | None, style: Mapping[str, str], key: str = "label") -> str:
    """`` [label=<...> color="#d62728" ...]``, or "" when there is nothing to say."""
    parts = [] if label is None else [f"{key}={label}"]
    if style:
        parts.append(_quoted(tuple(sorted(style.items()))))  # sorted, as graphviz sorts a dict
    return f" [{' '.join(parts)}]" if parts else ""


# Graphviz lays an edge that spans k ranks out through k - 1 points of its own, and one with
# a label on it through twice as many: with many long edges (a parameter that every step of an
# unrolled RNN uses, from the left end of the picture) dot took 4 s for 10 steps and 20 s for
# 15. Above this many such points the red edges' labels go beside them (xlabel), which it
# places after the layout: 0.2 s and 2.6 s.
LONG_EDGES = 1000
# Even so, above this many it takes seconds (a leaf used by 40 ops in a chain: 9 s; an RNN of
# 20 steps by hand 19 s, 25 steps minutes): a `LargeGraphWarning` says so.
SLOW_LAYOUT = 6000


def _length(blue: Sequence[tuple[str, str]], red: Sequence[BackwardEdge]) -> int:
    """How many points Graphviz adds to lay out the edges, counted with the ranks that the
    longest chain of blue edges into each node gives it (0 for a node that none enters)."""
    into: dict[str, list[str]] = {}
    waiting: dict[str, int] = {}
    for tail, head in blue:
        into.setdefault(tail, []).append(head)
        waiting[head] = waiting.get(head, 0) + 1
        waiting.setdefault(tail, 0)
    rank = dict.fromkeys(waiting, 0)
    ready = [node for node, count in waiting.items() if count == 0]
    while ready:  # Kahn's order; nodes on a cycle (boxes of a scope entered twice) stay at 0
        tail = ready.pop()
        for head in into.get(tail, ()):
            rank[head] = max(rank[head], rank[tail] + 1)
            waiting[head] -= 1
            if waiting[head] == 0:
                ready.append(head)
    pairs = [*blue, *((edge.tail, edge.head) for edge in red)]
    return sum(max(abs(rank.get(head, 0) - rank.get(tail, 0)) - 1, 0) for tail, head in pairs)


@functools.cache
def _quoted(style: tuple[tuple[str, str], ...]) -> str:
    """``color="#d62728" constraint=false``: a style's attributes quoted as graphviz does."""
    return " ".join(f"{quote(key)}={quote(value)}" for key, value in style)


@dataclass(eq=False)
class _Inflow:
    """The gradients the drawn backward steps sent into one tensor."""

    total: np.ndarray
    passes: set[int]
    # The sum of their absolute values, the scale of rounding errors; None while there is one
    # gradient (most tensors): computed only if needed.
    magnitude: np.ndarray | None = None

    def add(self, grad: np.ndarray, backward_pass: int) -> None:
        if self.magnitude is None:
            self.magnitude = np.abs(self.total)
        self.total = self.total + grad
        self.magnitude = self.magnitude + np.abs(grad)
        self.passes.add(backward_pass)

    def agrees_with(self, grad: np.ndarray) -> bool:
        """``grad`` is their sum, up to the rounding of adding them in another order."""
        if grad is self.total:  # one gradient, stored as the tensor's .grad
            return True
        if grad.shape != self.total.shape:
            return False
        magnitude = np.abs(self.total) if self.magnitude is None else self.magnitude
        with np.errstate(invalid="ignore"):  # inf - inf: the test of equality below decides
            close = np.abs(grad - self.total) <= 1e-5 * magnitude
        same = (grad == self.total) | (np.isnan(grad) & np.isnan(self.total))
        return bool(np.all(close | same))


def _inflows(graph: Snapshot) -> dict[TensorInfo, _Inflow]:
    """What the drawn backward steps sent into each tensor (one entry per tensor reached)."""
    inflows: dict[TensorInfo, _Inflow] = {}
    for op in graph.steps:
        for info, grad in zip(op.inputs, op.node.input_grads or ()):
            if grad is None or not info.tensor.requires_grad:
                continue
            grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad)
            inflow = inflows.get(info)
            if inflow is None:
                inflows[info] = _Inflow(grad, {op.node.backward_pass})
            else:
                inflow.add(grad, op.node.backward_pass)
    return inflows


def _name_and_shape(info: TensorInfo) -> str:
    shape = info.tensor.shape
    return f"{info.name} {shape}" if shape else info.name


def _node_count(graph: Snapshot, layout: Layout) -> int:
    shown_tensors = len(graph.tensors) - len(layout.hidden)
    shown_ops = len(graph.ops) - len(layout.box_of)
    return shown_tensors + shown_ops + len(layout.boxes)


def _warn_if_long(graph: Snapshot, layout: Layout, options: DrawOptions, length: int) -> None:
    """Warn of a picture whose edges are so long (see `_length`) that Graphviz takes many
    seconds to lay it out, labels beside the edges or not, unless `_warn_if_large` did."""
    if options.max_nodes is None or length <= SLOW_LAYOUT:
        return
    if _node_count(graph, layout) > options.max_nodes:
        return
    warnings.warn(
        f"this picture's edges are long: Graphviz lays them out through {length} points of "
        "their own (a tensor that many far-apart ops use, as a weight shared by every step of "
        f"an unrolled RNN), which can take it from seconds to minutes. "
        f"{fewer_nodes_advice(graph, layout)}, draw fewer steps, or pass max_nodes=None to "
        "draw it all anyway.",
        LargeGraphWarning,
        stacklevel=_caller_level(),
    )


def _warn_if_large(graph: Snapshot, layout: Layout, options: DrawOptions) -> None:
    if options.max_nodes is None:
        return
    count = _node_count(graph, layout)
    if count <= options.max_nodes:
        return
    warnings.warn(
        f"this picture has {count} nodes (more than max_nodes={options.max_nodes}): Graphviz "
        f"is slow to lay it out and it is hard to read. {fewer_nodes_advice(graph, layout)}, "
        "draw a smaller part of the graph, or pass max_nodes=None to draw it all anyway.",
        LargeGraphWarning,
        stacklevel=_caller_level(),
    )


def fewer_nodes_advice(graph: Snapshot, layout: Layout) -> str:
    """How to draw fewer nodes, naming only scopes that are in the graph (a sentence without
    its full stop, to be followed by other ways)."""
    scopes = scopes_of(graph)
    if not scopes:
        return ("Wrap layers in `with gg.name_scope(\"layer1\"):` and pass collapse=True "
                "to draw each as one box")
    open_scopes = layout.open_scopes(graph)
    enclosing = {scope.rsplit("/", 1)[0] for scope in scopes if "/" in scope}
    innermost = [scope for scope in open_scopes if scope not in enclosing]
    if not layout.boxes:
        return (f"Pass collapse=True to draw each gg.name_scope as one box (or "
                f"collapse={innermost[0]!r} for one scope)")
    if innermost:
        return "Pass collapse=True to draw every innermost gg.name_scope as one box"
    if open_scopes:  # enclosing scopes drawn as frames around boxes: collapse the outermost
        return (f"Collapse an enclosing scope too (collapse={open_scopes[0]!r} draws it, "
                "with everything in it, as one box)")
    return ("Every scope is one box already: nest them in an enclosing "
            "`with gg.name_scope(\"model\"):` and collapse that")


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _caller_level() -> int:
    """The stacklevel that points a warning at the first caller outside `viz`."""
    level, frame = 1, sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        level += 1
        frame = frame.f_back
    return level
