"""The text inside a picture: numbers, array summaries, op attributes, and escaping.

Scalars are shown in full (``a = 5``, ``da = 3``), small arrays element by element, larger
ones as ``min / mean / max``, empty ones as ``empty (0, 3)``; NaN and Inf are counted so they
cannot hide in a summary. Labels
are Graphviz HTML-like labels: every piece of user text (names, scopes, attribute values) goes
through `escape`, so any name renders. Depends on numpy only.
"""
from __future__ import annotations

import html
import math
import re
import textwrap
from typing import Any

import numpy as np

# Characters a label cannot hold: control characters, and what XML forbids (lone surrogates,
# which cannot even be written as UTF-8, and the non-characters U+FFFE, U+FFFF).
_UNWRITABLE_CHARACTERS = r"\x00-\x1f\x7f\ud800-\udfff\ufffe\uffff"
_UNWRITABLE = re.compile(f"[{_UNWRITABLE_CHARACTERS}]")
# What `escape` changes: those, backslashes, and markup. Most text (a = 5) has none of them.
_ESCAPED = re.compile(f"[{_UNWRITABLE_CHARACTERS}" r"""\\&<>"']""")
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def escape(text: str) -> str:
    """Text made safe inside an HTML-like label: markup escaped, unwritable characters shown
    as their Python escapes (``\\n``, ``\\ud800``), backslashes shown as written."""
    if not _ESCAPED.search(text):
        return text
    text = _UNWRITABLE.sub(lambda m: repr(m.group())[1:-1], text)
    # Graphviz expands \N, \G, \E, \T, \H in labels (node name, graph name, ...); a doubled
    # backslash is drawn as one, so ``\Gamma`` stays ``\Gamma``.
    text = text.replace("\\", "\\\\")
    return html.escape(text, quote=True)


def shorten(text: str, limit: int) -> str:
    """At most ``limit`` characters, an ellipsis marking what was cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 1)] + "…"


def wrap(text: str, limit: int, max_rows: int = 3) -> list[str]:
    """``text`` in lines of at most ``limit`` characters, the last cut with ``…`` if needed."""
    rows = textwrap.wrap(text, limit, break_on_hyphens=False) or [""]
    if len(rows) > max_rows:
        rows = rows[:max_rows]
        rows[-1] = shorten(rows[-1] + " …", limit)
    return rows


def number(value: Any, precision: int) -> str:
    """One number, as short as it reads: ``5``, ``0.25``, ``-1.5e-07``, ``nan``."""
    if type(value) is not float:  # most are: an array's tolist() gives Python floats
        if isinstance(value, (bool, np.bool_)):
            return str(bool(value))
        if isinstance(value, (int, np.integer)):
            return str(int(value))
        value = float(value)
    if value == 0:
        return "0"  # -0.0 too
    if 1 <= abs(value) < 1e6:  # whole digits are never cut into an exponent: 1234, not 1.23e+03
        precision = max(precision, int(math.log10(abs(value))) + 1)
    return f"{value:.{precision}g}"


def nonfinite(array: np.ndarray) -> tuple[int, int]:
    """How many NaN and how many ±Inf entries ``array`` has."""
    if array.dtype.kind not in "fc":
        return 0, 0
    # isfinite, not a sum that NaN and Inf would spread to: a sum of large finite values may
    # overflow, and silencing that with np.errstate cost twice the test on the small arrays
    # of a big graph, thousands of them a picture.
    finite = np.isfinite(array)
    if finite.all():
        return 0, 0
    nans = int(np.isnan(array).sum())
    return nans, int(array.size - finite.sum()) - nans


def values(array: np.ndarray, precision: int, max_elements: int) -> str:
    """The contents of an array in one line: all elements when small, else a summary (an
    empty array's too: ``[]`` would not say which of its dimensions is 0)."""
    array = np.asarray(array)
    if array.size == 1 and array.ndim == 0:
        return number(array.item(), precision)
    if 0 < array.size <= max_elements:
        return _nested(array.tolist(), precision)
    return summary(array, precision)


def _nested(items: Any, precision: int) -> str:
    # np.array2string does this too, but at ~50 us a call it was most of the time a
    # 5,000-node picture took; a nested list of a few numbers needs none of its options.
    if isinstance(items, list):
        return "[" + ", ".join([_nested(item, precision) for item in items]) + "]"
    return number(items, precision)


def summary(array: np.ndarray, precision: int) -> str:
    """``min -1.2  mean 0.03  max 2.1`` (bools: ``3 of 8 true``), with NaN/Inf counted;
    ``empty (0, 3)`` for an array with no elements."""
    if array.size == 0:
        return f"empty {tuple(array.shape)}"
    if array.dtype.kind == "b":
        return f"{int(array.sum())} of {array.size} true"
    nans, infs = nonfinite(array)
    finite = array[np.isfinite(array)] if nans or infs else array
    parts = []
    if finite.size:
        # Summed in float64 at least: float32 values near 3e38 would add up to inf.
        mean = finite.mean(dtype=np.result_type(finite.dtype, np.float64))
        parts.append(
            f"min {number(finite.min(), precision)}  mean {number(mean, precision)}  "
            f"max {number(finite.max(), precision)}"
        )
    if nans:
        parts.append(f"{nans} NaN")
    if infs:
        parts.append(f"{infs} Inf")
    return "  ".join(parts)


# The fewest characters `fit` cuts a name to: a few letters still tell names apart.
NAME_ROOM = 4


def fit(before: str, name: str, after: str, limit: int) -> str:
    """``before + name + after`` in at most ``limit`` characters, cutting the name first: a
    long name must not push a value (``after``: `` = 5``) out of its line."""
    room = max(limit - len(before) - len(after), NAME_ROOM)
    return shorten(before + shorten(name, room) + after, limit)


def fits(before: str, name: str, after: str, limit: int) -> bool:
    """Whether `fit` keeps every character of ``after``, cutting the name only."""
    return len(before) + min(len(name), NAME_ROOM) + len(after) <= limit


def assignment(name: str, array: np.ndarray, precision: int, max_elements: int) -> str:
    """A tensor's value as the course writes it: ``a = 5``, ``b = [1, 2]``, ``W: min ...``,
    ``x: empty (0, 3)``."""
    array = np.asarray(array)
    if array.ndim == 0 or 0 < array.size <= max_elements:  # a scalar is always shown in full
        return f"{name} = {values(array, precision, max_elements)}"
    return f"{name}: {summary(array, precision)}"


def flowing(
    dvar: str, array: np.ndarray, precision: int, max_elements: int, accumulates: bool
) -> str:
    """A gradient on an edge: ``dv = 3`` (``dv += 3`` when several edges add into v), or a
    short range for a larger array: ``dW ∈ [-0.5, 0.7]`` (``dW += min -0.5  max 0.7``), and
    ``dx: empty (0, 3)`` for an empty one."""
    array = np.asarray(array)
    empty = array.size == 0
    if not empty and (array.ndim == 0 or array.size <= max_elements
                      or array.dtype.kind not in "fc"):
        sign = "+=" if accumulates else "="
        return f"{dvar} {sign} {values(array, precision, max_elements)}"
    nans, infs = (0, 0) if empty else nonfinite(array)
    if empty or nans or infs:
        separator = " +=" if accumulates else ":"
        return f"{dvar}{separator} {summary(array, precision)}"
    low, high = number(array.min(), precision), number(array.max(), precision)
    if accumulates:  # "dW += [-0.5, 0.7]" would read as a two-element array
        return f"{dvar} += min {low}  max {high}"
    return f"{dvar} ∈ [{low}, {high}]"


def shape(array: np.ndarray) -> str:
    """``scalar float64`` or ``(3, 4) float32``."""
    dims = "scalar" if array.ndim == 0 else str(tuple(array.shape))
    return f"{dims} {array.dtype}"


def attribute(value: Any, precision: int) -> str:
    """An op's keyword argument as text: arrays and indices summarized, numbers short."""
    if isinstance(value, np.ndarray):
        if value.size <= 4:
            return values(value, precision, 4)
        return f"<{value.dtype} array {tuple(value.shape)}>"
    if isinstance(value, slice):
        parts = ["" if p is None else str(p) for p in (value.start, value.stop, value.step)]
        return ":".join(parts[:2] if value.step is None else parts)
    if isinstance(value, tuple):
        inner = ", ".join(attribute(v, precision) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(attribute(v, precision) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{attribute(k, precision)}: {attribute(v, precision)}"
                               for k, v in value.items()) + "}"
    if isinstance(value, (set, frozenset)):
        # Sorted: a set of str iterates in an order that changes with PYTHONHASHSEED, and
        # the picture of one graph would change with it from run to run.
        try:
            members = sorted(value)
        except TypeError:  # members that do not compare (1 and "a"): by their text
            members = sorted(value, key=lambda v: attribute(v, precision))
        inner = ", ".join(attribute(v, precision) for v in members)
        if type(value) is set:
            return "{" + inner + "}" if value else "set()"
        return f"{type(value).__name__}({{{inner}}})" if value else f"{type(value).__name__}()"
    if isinstance(value, (float, np.floating, np.integer, np.bool_)):
        return number(value, precision)
    if isinstance(value, np.dtype) or value is Ellipsis:
        return "..." if value is Ellipsis else str(value)
    if isinstance(value, (type, np.ufunc)):  # numpy before 2.2 gives ufuncs no __qualname__
        return value.__name__
    if callable(value) and hasattr(value, "__qualname__"):  # a function: its name, not address
        return value.__qualname__
    # A default repr holds the object's memory address, which would change the picture
    # from run to run.
    return _ADDRESS.sub("", repr(value))


def table(rows: list[str], cell: str = "") -> str:
    """An HTML-like label: one row per (already escaped) line; ``cell`` holds attributes of
    every row's cell (`fixed_cell`)."""
    cells = "".join(f"<tr><td{cell}>{row}</td></tr>" for row in rows)
    return f'<<table border="0" cellborder="0" cellspacing="0" cellpadding="1">{cells}</table>>'


# Characters much narrower or wider than most, for `text_width`.
_NARROW = frozenset("'ijl /\\|IJ,.:;-f!()[]tr_`")
_WIDE = frozenset("mwMW@%&")


def text_width(text: str, points: float) -> float:
    """At least how many points wide ``text`` is in a bold sans-serif font of ``points`` size.

    Graphviz measures text with whatever font it finds, which viz cannot know, so this bounds
    each character by its width in DejaVu Sans Bold, the widest of the sans-serif fonts it
    falls back to (Liberation Sans and Helvetica are narrower); a character outside ASCII
    counts as the widest.
    """
    ems = sum(0.5 if c in _NARROW else 1.11 if c in _WIDE or not c.isascii()
              else 0.72 if c.islower() or c.isdigit() else 0.86 for c in text)
    return ems * points


def fixed_cell(texts: list[str], points: float) -> str:
    """The attributes of a table cell one line high and as wide as the widest of ``texts``
    (by `text_width`), whatever it holds: text of any width in it leaves the layout as it is.
    """
    width = max((text_width(text, points) for text in texts), default=0) + 4
    height = points * 1.25 + 2
    return f' fixedsize="true" width="{math.ceil(width)}" height="{math.ceil(height)}"'


def bold(text: str) -> str:
    """Escaped-already ``text`` in bold.

    Graphviz rejects an empty element (``<b></b>`` is a syntax error that fails the whole
    picture), so empty text stays bare.
    """
    return f"<b>{text}</b>" if text else text


def font(text: str, color: str | None = None, size: int | None = None) -> str:
    """Escaped-already ``text`` in a colour and/or point size (empty text stays bare, as in
    `bold`)."""
    attrs = ""
    if color:
        attrs += f' color="{color}"'
    if size:
        attrs += f' point-size="{size}"'
    return f"<font{attrs}>{text}</font>" if attrs and text else text
