"""`render`: a picture of the graph written to a file, its format picked from the extension.

``.dot``/``.gv`` files are the DOT text itself and need nothing else; every other format is
laid out by Graphviz's ``dot`` program. When ``dot`` is missing, the error says how to install
it and carries the DOT text. A graph rendered again gives the same bytes (a .pdf is written
without its date). Depends on `walk`, `dot`, `viz.errors` and the ``graphviz`` package.
"""
from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import graphviz

from graphgrad import Tensor
from graphgrad.io import file_name, write_whole
from viz.dot import check_option_names, draw, draw_options
from viz.errors import (
    INSTALL_DOT,
    DotNotFoundError,
    OptionError,
    OptionTypeError,
    RenderFormatError,
)
from viz.walk import as_roots

TEXT_FORMATS = ("dot", "gv")
PICTURE_FORMATS = ("png", "svg", "pdf", "jpg", "jpeg", "gif")


def render(
    graph: Tensor | Sequence[Tensor] | graphviz.Digraph | graphviz.Source,
    path: str | bytes | os.PathLike,
    **options: Any,
) -> Path:
    """Draw the graph behind a tensor (or an already drawn Digraph, or DOT text read back as a
    ``graphviz.Source``) into ``path``.

    The format comes from the extension: ``.png``, ``.svg``, ``.pdf``, ``.jpg``, ``.gif``,
    or ``.dot`` / ``.gv`` for the DOT text (no Graphviz program needed). ``options`` are those
    of `viz.draw_graph` (``show_values``, ``collapse``, ``rankdir``, ...). Missing folders
    of ``path`` are created. The same graph gives the same bytes in every format, rendered
    again at any time (a .pdf holds no date).

    Returns:
        the path written.

    Raises:
        DotNotFoundError: Graphviz's ``dot`` program is not installed (the error's
            ``source`` holds the DOT text).
        RenderFormatError: the extension names no format listed above.
        OptionError: ``path`` is empty or a folder, or an option is not one of
            `viz.draw_graph`'s (an `OptionTypeError` when ``path`` is no file name at all).
    """
    path = file_path(path, "viz.render", "graph.png")
    file_format = path.suffix.lower().lstrip(".")
    if file_format not in TEXT_FORMATS + PICTURE_FORMATS:
        raise RenderFormatError(
            f"viz.render cannot tell what to write from {path.name!r}: end the file name "
            f"with one of {', '.join('.' + f for f in PICTURE_FORMATS + TEXT_FORMATS)}."
        )
    check_option_names(options, "viz.render")
    if isinstance(graph, (graphviz.Digraph, graphviz.Source)):  # both have .source and .pipe
        if options:
            raise OptionError(f"viz.render takes drawing options with a tensor, not with an "
                              f"already drawn {type(graph).__name__}: pass them to "
                              "viz.draw_graph")
        digraph = graph
    else:
        digraph = draw(as_roots(graph, "viz.render"), draw_options("viz.render", **options),
                       caller="viz.render")
    drawn = None if file_format in TEXT_FORMATS else picture(digraph, file_format)
    path.parent.mkdir(parents=True, exist_ok=True)  # as graphviz's own Digraph.render does
    if drawn is None:
        write_whole(path, lambda temporary: Path(temporary).write_text(digraph.source,
                                                                       encoding="utf-8"))
    else:
        write_whole(path, lambda temporary: Path(temporary).write_bytes(drawn))
    return path


def file_path(path: Any, caller: str, example: str) -> Path:
    """``path`` (a str, bytes or an os.PathLike such as pathlib.Path) as a Path, checked
    before anything is drawn (`graphgrad.io.file_name`): an `OptionTypeError` naming
    ``caller`` for no file name at all (None, 5), an `OptionError` for an empty path or a
    folder, rather than fail writing to it."""
    return Path(file_name(path, caller, example, OptionTypeError, OptionError))


def picture(digraph: graphviz.Digraph | graphviz.Source, file_format: str) -> bytes:
    """The picture's bytes in ``file_format`` (``"png"``, ``"svg"``...), laid out by ``dot``:
    the same bytes for the same graph, every time (a .pdf without the date `_undated` takes
    out; but cairo 1.18 and later compress a PDF's information, date and all, into an object
    stream, which is left as it is: such a .pdf differs from second to second)."""
    try:
        drawn = digraph.pipe(format=file_format)
    except graphviz.ExecutableNotFound as missing:
        raise DotNotFoundError(
            f"drawing a .{file_format} needs Graphviz's `dot` program, which is not installed "
            f"(or not on PATH). {INSTALL_DOT}\n"
            "The DOT text needs no Graphviz: viz.to_dot(J), viz.render(J, \"graph.dot\"), or "
            "this error's .source.",
            digraph.source,
        ) from missing
    return _undated(drawn) if file_format == "pdf" else drawn


# The document information of a PDF, which its (last) trailer names, and the dates it may hold.
_INFO = re.compile(rb"/Info\s+(\d+)\s+0\s+R")
_DATE = re.compile(rb"/(?:CreationDate|ModDate)\s*\((?:[^()\\]|\\.)*\)")


def _undated(pdf: bytes) -> bytes:
    """``pdf`` without the date it was written (``/CreationDate (D:20250102...)``), which
    cairo, the library Graphviz draws PDFs with, writes into every PDF (cairo 1.16 whatever
    SOURCE_DATE_EPOCH says), and which made two renders of one graph differ.

    The entry is overwritten with as many spaces, which PDF reads as nothing: every byte
    after it stays where the file's table of object offsets says it is. A PDF laid out
    otherwise than cairo 1.16's (no trailer naming its information, as in cairo 1.18's, whose
    information sits in a compressed object stream) is left as it is.
    """
    trailer = pdf.rfind(b"trailer")
    info = _INFO.search(pdf, trailer) if trailer >= 0 else None
    if info is None:
        return pdf
    header = re.compile(rb"(?m)^" + info.group(1) + rb"\s+0\s+obj\b")
    # The last: an update's, if any.
    start = max(header.finditer(pdf, 0, trailer), key=lambda found: found.start(), default=None)
    end = -1 if start is None else pdf.find(b"endobj", start.end(), trailer)
    if end < 0:
        return pdf
    entries = _DATE.sub(lambda date: b" " * len(date.group()), pdf[start.end():end])
    return pdf[:start.end()] + entries + pdf[end:]
