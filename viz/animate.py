"""Backprop in motion: one picture per backward step, and an animated GIF of them.

Frame 0 is the forward pass alone; frame k adds the red edges of the k-th op backprop ran
(bold, the op outlined in red) and the dvars that are complete by then. Every frame lays out
the same graph (edges and dvars not reached yet are drawn transparent), so nodes stay put
while the red arrows appear. Depends on `walk`, `dot`, `render`, and Pillow.
"""
from __future__ import annotations

import io
import os
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import graphviz
from PIL import Image

from graphgrad import Tensor
from viz.dot import DrawOptions, draw
from viz.errors import NoBackwardError, OptionError
from viz.render import picture
from viz.walk import as_roots, snapshot


def backprop_frames(roots: Tensor | Sequence[Tensor], **options: Any) -> Iterator[graphviz.Digraph]:
    """The graph once per backward step: the forward pass, then each step's red edges added.

    Yields ``1 + (number of backward steps)`` Digraphs, captioned with the step they show.
    ``options`` are those of `viz.draw_graph`.

    Raises:
        NoBackwardError: no backward pass was recorded on this graph (call ``J.backward()``
            first, keeping intermediate gradients, the default).
    """
    roots = as_roots(roots, "viz.backprop_frames")
    steps = snapshot(roots).steps
    if not steps:
        raise NoBackwardError(
            "viz.backprop_frames: this graph has no recorded backward pass. Call J.backward() "
            "first (with keep_intermediate_grads=True, the default); gg.grad records none."
        )
    if "backward_steps" in options or "title" in options:
        raise OptionError("viz.backprop_frames sets backward_steps and title for each frame")
    base = DrawOptions(**options)
    if not base.show_backward:
        raise OptionError("viz.backprop_frames draws the backward edges: drop show_backward")
    total = len(steps)
    for shown in range(total + 1):
        if shown == 0:
            title = f"forward pass: {total} backward steps to go"
        else:
            title = f"backward step {shown} of {total}: {steps[shown - 1].node.name}"
        yield draw(roots, replace(base, backward_steps=shown, title=title))


def animate(
    roots: Tensor | Sequence[Tensor],
    path: str | os.PathLike,
    *,
    seconds_per_step: float = 1.2,
    hold_last: float = 3.0,
    **options: Any,
) -> Path:
    """Write `backprop_frames` as an animated GIF that loops; returns the path written.

    Args:
        seconds_per_step: how long each frame shows.
        hold_last: how long the finished backward pass shows before the loop restarts.
        options: those of `viz.draw_graph`.

    Raises:
        DotNotFoundError: Graphviz's ``dot`` program is not installed.
    """
    frames = [Image.open(io.BytesIO(picture(frame, "png"))).convert("RGB")
              for frame in backprop_frames(roots, **options)]
    # Same layout in every frame, but the caption's width varies: pad to a common size.
    width = max(frame.width for frame in frames)
    height = max(frame.height for frame in frames)
    canvas = []
    for frame in frames:
        padded = Image.new("RGB", (width, height), "white")
        padded.paste(frame, (0, 0))
        canvas.append(padded)
    durations = [round(seconds_per_step * 1000)] * (len(canvas) - 1) + [round(hold_last * 1000)]
    path = Path(path)
    canvas[0].save(path, format="GIF", save_all=True, append_images=canvas[1:],
                   duration=durations, loop=0)
    return path
