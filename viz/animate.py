"""Backprop in motion: one picture per backward step, and an animated GIF of them.

Frame 0 is the forward pass alone; frame k adds the red edges of the k-th op backprop ran
(bold, the op outlined in red) and the dvars that are complete by then. Every frame lays out
the same graph (edges and dvars not reached yet are drawn transparent) with a caption as wide
as the longest, so nodes stay put while the red arrows appear. Depends on `walk`, `dot`,
`scopes`, `render`, `viz.errors`, and Pillow.

A GIF of a big graph is big: frames are scaled down to at most `MAX_FRAME_SIDE` pixels a side,
decoded one at a time as the GIF is written, and an animation that would still hold more than
``max_pixels`` pixels is refused after drawing its first frame only.
"""
from __future__ import annotations

import io
import math
import numbers
import os
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import graphviz
from PIL import Image

from graphgrad import Tensor
from graphgrad.errors import ArgumentError, setting_text, whole_number
from graphgrad.io import write_whole
from viz.dot import (
    OPTIONS,
    DrawOptions,
    check_option_names,
    draw,
    draw_options,
    fewer_nodes_advice,
)
from viz.errors import AnimationTooLargeError, NoBackwardError, OptionError, RenderFormatError
from viz.render import file_path, picture
from viz.scopes import lay_out
from viz.walk import as_roots, snapshot

MAX_FRAME_SIDE = 4000  # pixels; a wider or taller picture is scaled down, keeping its shape
DPI = 96  # Graphviz's own for PNG, written out so that MAX_FRAME_SIDE holds
# Pillow holds every frame (a byte a pixel, twice for a frame stored as a change from the
# previous one) until the whole GIF is written: 500 million pixels is at most about 1 GB.
MAX_PIXELS = 500_000_000


def backprop_frames(roots: Tensor | Sequence[Tensor], **options: Any) -> Iterator[graphviz.Digraph]:
    """The graph once per backward step: the forward pass, then each step's red edges added.

    Returns an iterator of ``1 + (number of backward steps)`` Digraphs, captioned with the
    step they show (and, when the roots were backpropagated one after the other, which
    pass it is of: ``(pass 2 of 2)``), each drawn when it is asked for. ``options`` are
    those of `viz.draw_graph`.

    Raises (when called, before the first frame is asked for):
        NoBackwardError: no backward pass was recorded on this graph (call ``J.backward()``
            first, keeping intermediate gradients, the default).
        NotATensorError, NoGraphError, OptionError: as `viz.draw_graph` raises them.
    """
    roots = as_roots(roots, "viz.backprop_frames")
    frames = _frame_options(roots, options, "viz.backprop_frames")
    captions = [frame.title for frame in frames]
    return (draw(roots, frame, captions, caller="viz.backprop_frames") for frame in frames)


def _frame_options(
    roots: Sequence[Tensor], options: dict[str, Any], caller: str, own: Sequence[str] = ()
) -> list[DrawOptions]:
    """The drawing options of each frame, checked: the forward pass, then one per step
    (``own``: the options ``caller`` takes besides, for the error naming them all)."""
    if "backward_steps" in options or "title" in options:
        raise OptionError(f"{caller} sets backward_steps and title for each frame")
    drawing = [name for name in OPTIONS if name not in ("backward_steps", "title")]
    check_option_names(options, caller, own, drawing)
    steps = snapshot(roots).steps
    if not steps:
        raise NoBackwardError(
            f"{caller}: this graph has no recorded backward pass. Call J.backward() "
            "first (with keep_intermediate_grads=True, the default); gg.grad records none."
        )
    base = draw_options(caller, **options)
    if not base.show_backward:
        raise OptionError(f"{caller} draws the backward edges: drop show_backward")
    total = len(steps)
    plural = "" if total == 1 else "s"
    frames = [replace(base, backward_steps=0,
                      title=f"forward pass: {total} backward step{plural} to go")]
    # Several costs' passes are shown one after the other: each step says whose it is.
    passes = list(dict.fromkeys(op.node.backward_pass for op in steps))
    for shown, op in enumerate(steps, start=1):
        title = f"backward step {shown} of {total}: {op.node.name}"
        if len(passes) > 1:
            title += f" (pass {passes.index(op.node.backward_pass) + 1} of {len(passes)})"
        frames.append(replace(base, backward_steps=shown, title=title))
    return frames


def animate(
    roots: Tensor | Sequence[Tensor],
    path: str | bytes | os.PathLike,
    *,
    seconds_per_step: float = 1.2,
    hold_last: float = 3.0,
    max_pixels: int | None = MAX_PIXELS,
    **options: Any,
) -> Path:
    """Write `backprop_frames` as an animated GIF that loops; returns the path written.

    Frames wider or taller than `MAX_FRAME_SIDE` (4000) pixels are scaled down to fit,
    keeping their shape. Missing folders of ``path`` are created.

    Args:
        roots: the cost J (a Tensor made by graphgrad ops), or a sequence of them, after
            ``J.backward()`` has run, keeping intermediate gradients (the default).
        path: where to write the GIF; its name must end with ``.gif``.
        seconds_per_step: how long each frame shows.
        hold_last: how long the finished backward pass shows before the loop restarts.
        max_pixels: refuse an animation whose frames hold more pixels than this in all
            (frames x width x height; writing it takes about 2 bytes a pixel); None never
            refuses.
        options: those of `viz.draw_graph`.

    Raises:
        RenderFormatError: ``path`` does not end with ``.gif``.
        AnimationTooLargeError: the frames would hold more than ``max_pixels`` pixels.
        NoBackwardError: no backward pass was recorded on this graph.
        OptionError: a time is not a positive number of seconds (``hold_last`` may be 0),
            ``max_pixels`` is neither None nor a whole number >= 1, an option is not one of
            those above, or ``path`` is empty or a folder (an
            `OptionTypeError` when it is no file name at all).
        DotNotFoundError: Graphviz's ``dot`` program is not installed.
    """
    path = file_path(path, "viz.animate", "backprop.gif")
    if path.suffix.lower() != ".gif":
        raise RenderFormatError(
            f"viz.animate writes animated GIFs only, so {path.name!r} must end with .gif "
            "(viz.render writes a single picture as .png, .svg, ...)."
        )
    _check_seconds("seconds_per_step", seconds_per_step, zero_too=False)
    _check_seconds("hold_last", hold_last, zero_too=True)
    if max_pixels is not None:
        max_pixels = _pixel_budget(max_pixels)
    roots = as_roots(roots, "viz.animate")
    frames = _frame_options(roots, options, "viz.animate",
                            own=("seconds_per_step", "hold_last", "max_pixels"))
    captions = [frame.title for frame in frames]
    pngs = [_png(draw(roots, frames[0], captions, caller="viz.animate"))]
    if max_pixels is not None:
        _check_size(roots, frames, pngs[0], max_pixels)
    pngs += [_png(draw(roots, frame, captions, caller="viz.animate")) for frame in frames[1:]]

    # Every frame is laid out alike; should one still come out larger, pad them all to its
    # size rather than fail. A PNG's header gives its size without decoding it.
    sizes = [_opened(png).size for png in pngs]
    size = (max(width for width, _ in sizes), max(height for _, height in sizes))
    gif_frames = (_palette_frame(png, size) for png in pngs)
    durations = [round(seconds_per_step * 1000)] * (len(pngs) - 1) + [round(hold_last * 1000)]
    path.parent.mkdir(parents=True, exist_ok=True)  # as viz.render does
    # Pillow takes the frames after the first as an iterator: each is decoded when written.
    # Writing takes seconds: through a file beside the path, so that an interrupt leaves the
    # animation that was there before, not a truncated one.
    write_whole(path, lambda temporary: next(gif_frames).save(
        temporary, format="GIF", save_all=True, append_images=gif_frames,
        duration=durations, loop=0))
    return path


def _check_seconds(option: str, seconds: Any, zero_too: bool) -> None:
    """A frame's time must be a finite number of seconds above 0 (or 0, if ``zero_too``)."""
    if isinstance(seconds, bool) or not isinstance(seconds, numbers.Real):
        raise OptionError(f"viz.animate: {option} is a number of seconds, got {seconds!r}")
    if not math.isfinite(seconds) or seconds < 0 or (seconds == 0 and not zero_too):
        least = "0 or more" if zero_too else "more than 0"
        raise OptionError(f"viz.animate: {option} must be {least} seconds, got {seconds}")


def _pixel_budget(max_pixels: Any) -> int:
    """``max_pixels`` as an int, or an `OptionError`: a count of pixels is a whole number of
    at least 1 (2.5, -5, True and "1e6" are refused, where -5 or True refused every animation
    as too large and "1e6" failed comparing a number with a string)."""
    try:
        return whole_number(max_pixels, "max_pixels", "viz.animate")
    except ArgumentError:
        written = (f" (write {int(max_pixels):_}, an int)"
                   if isinstance(max_pixels, float) and max_pixels.is_integer()
                   and max_pixels >= 1 else "")
        raise OptionError(f"viz.animate: max_pixels must be a whole number of pixels of at "
                          f"least 1, or None never to refuse, got {setting_text(max_pixels)}"
                          f"{written}") from None


def _png(frame: graphviz.Digraph) -> bytes:
    """The frame as a PNG, scaled down to at most `MAX_FRAME_SIDE` pixels a side."""
    inches = MAX_FRAME_SIDE / DPI
    frame.graph_attr.update(size=f"{inches:.4g},{inches:.4g}", dpi=str(DPI))
    return picture(frame, "png")


def _opened(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png))


def _palette_frame(png: bytes, size: tuple[int, int]) -> Image.Image:
    """One frame as a GIF holds it (256 colours, a byte a pixel), padded to ``size``."""
    with _opened(png) as image:
        padded = Image.new("RGB", size, "white")
        padded.paste(image.convert("RGB"), (0, 0))
    return padded.convert("P", palette=Image.Palette.ADAPTIVE)


def _check_size(
    roots: Sequence[Tensor], frames: list[DrawOptions], first_png: bytes, max_pixels: int
) -> None:
    """Refuse before drawing the other frames when they would hold too many pixels."""
    width, height = _opened(first_png).size
    total = len(frames) * width * height
    if total <= max_pixels:
        return
    graph = snapshot(roots)
    layout = lay_out(graph, frames[0].clusters, frames[0].collapse, "viz.animate")
    raise AnimationTooLargeError(
        f"viz.animate: {len(frames)} frames of {width} x {height} pixels hold "
        f"{total / 1e6:.0f} million pixels, more than max_pixels={max_pixels:_} (writing the "
        f"GIF would take about {2 * total / 1e9:.1f} GB of memory). Animate a part of the graph "
        "(an intermediate tensor instead of J), or draw fewer nodes: "
        f"{fewer_nodes_advice(graph, layout)}. Or pass max_pixels=None to write it anyway."
    )
