"""The course's training plots: cost against iterations, and a 2-D decision boundary.

Both build a matplotlib `Figure` directly (no pyplot, so no window opens and no global state
changes), return it, and save it when given a path. In Jupyter a returned figure shows inline,
with or without ``%matplotlib inline``. Depends on matplotlib, numpy, graphgrad's `Tensor`,
`viz.errors` and `viz.render` (which paths it can write).
"""
from __future__ import annotations

import io
import math
import numbers
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import colormaps, rc_context, rcParams
from matplotlib.axes import Axes
from matplotlib.backend_bases import FigureCanvasBase, get_registered_canvas_class
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from graphgrad import Tensor
from graphgrad.errors import flag, real_number, setting_text
from graphgrad.io import write_whole
from viz.errors import OptionError, OptionTypeError, RenderFormatError, checked
from viz.render import file_path


def plot_costs(
    history: Sequence[float] | Mapping[str, Sequence[float]],
    *,
    every: float = 1,
    unit: str = "iterations",
    title: str = "Cost during training",
    log_scale: bool = False,
    ax: Axes | None = None,
    path: str | bytes | os.PathLike | None = None,
) -> Figure:
    """Cost against iterations, as in the course's assignments.

    Args:
        history: the costs recorded during training (numbers, or one-element arrays or
            Tensors), or several runs by label (``{"learning rate 0.01": costs,
            "learning rate 0.001": other_costs}``). The history `gg.fit` returns (a mapping
            with "cost" and "lr", "accuracy" or "dev_accuracy") draws its training cost, and
            its dev cost when it has one; its accuracies and learning rates are not costs and
            are left out.
        every: iterations between two recorded costs (100 if you recorded every hundredth;
            with ``unit="epochs"``, 0.5 for a cost every half epoch).
        unit: what one step of ``every`` counts, for the axis label: "iterations", or
            "epochs" for the history `gg.fit` returns (one cost per epoch).
        title: the plot's title (None or "" for none).
        log_scale: a logarithmic cost axis (long runs, costs over orders of magnitude).
        ax: draw into these matplotlib Axes instead of a new figure (the figure returned
            and saved is the whole one they belong to, also when they sit in a subfigure).
        path: also save the figure there (the format from the extension; missing
            folders are created).

    Returns:
        the figure drawn into.

    Raises:
        OptionError: an argument has a value it cannot take, checked before anything is
            drawn or saved (an `OptionTypeError` when it is of the wrong kind: costs that
            are no numbers, ``ax`` that is no Axes, a title that is no string, ...).
        RenderFormatError: matplotlib cannot write the format ``path``'s extension names
            (``.xyz``), before anything is drawn or saved.
    """
    caller = "viz.plot_costs"
    _check_text(unit, "unit", caller)
    is_number = isinstance(every, numbers.Real) and not isinstance(every, (bool, np.bool_))
    if not is_number or not 0 < every < np.inf:
        error = OptionError if is_number else OptionTypeError  # its docstring's promise
        raise error(f"{caller}: every must be the positive number of {unit} between two "
                    "recorded costs (100 for every hundredth, 0.5 for two an epoch), got "
                    f"{every!r}")
    _check_text(title, "title", caller, none_too=True)
    log_scale = checked(flag, log_scale, "log_scale", caller)
    _check_axes(ax, caller)
    target = _save_path(path, ax, caller, "costs.png")
    runs = {label: _numbers(costs, label) for label, costs in _runs(history).items()}
    figure, ax = _figure_and_axes(ax)
    for label, costs in runs.items():
        iterations = np.arange(costs.size) * every
        ax.plot(iterations, costs, label=label or None)
    ax.set_xlabel(unit if every == 1 else f"{unit} (one point every {every:g})")
    ax.set_ylabel("cost")
    ax.set_title(title)
    if log_scale:
        ax.set_yscale("log")
    if any(runs):  # labelled runs, even a single one, say what they are
        ax.legend()
    ax.grid(True, alpha=0.3)
    return _saved(figure, target)


# Keys of a history that `gg.fit` returns (or one built like it) that hold no costs.
_NOT_COSTS = {"lr", "accuracy", "dev_accuracy"}


def _runs(
    history: Sequence[float] | Mapping[str, Sequence[float]]
) -> dict[str, Sequence[float]]:
    """The curves to draw, by label ("" for a single unlabelled one)."""
    if not isinstance(history, Mapping):
        if isinstance(history, (str, bytes)) or not _iterable(history):
            raise OptionTypeError(
                "viz.plot_costs takes the costs recorded during training, a list of numbers, "
                "or several runs' lists by label ({\"learning rate 0.01\": costs}), got "
                f"{setting_text(history)}")
        return {"": history}
    if not history:
        raise OptionError("viz.plot_costs got an empty mapping: give it the costs of at least "
                          "one run ({\"label\": costs}), or a list of costs")
    if "cost" in history and history.keys() & _NOT_COSTS:  # its costs only
        runs = {"training set": history["cost"]}
        if "dev_cost" in history:
            runs["dev set"] = history["dev_cost"]
        return runs
    return dict(history)


def _iterable(value: Any) -> bool:
    try:
        iter(value)
    except TypeError:
        return False
    return True


def _numbers(costs: Sequence[Any] | Tensor, label: str) -> np.ndarray:
    """The costs of one run as floats, or an `OptionError` naming the first that is not a
    real number: each may be a number, a one-element array or a Tensor (its values are read
    through ``.data``: numpy may not read a tensor that requires grad). Text, None, bools and
    complex numbers are refused, where float() would fail on them or read True as 1."""
    run = f" of {label!r}" if label else ""
    data = costs.data if isinstance(costs, Tensor) else costs
    if isinstance(data, (str, bytes, Mapping)) or not _iterable(data):
        raise OptionTypeError(f"viz.plot_costs: the costs{run} must be a list of numbers, one "
                              f"per recorded iteration, got {setting_text(costs)}")
    values = []
    for index, cost in enumerate(data):
        try:
            value = np.asarray(cost.data if isinstance(cost, Tensor) else cost)
        except (TypeError, ValueError):  # a ragged list
            value = None
        if value is None or value.dtype.kind not in "iuf" and not (
                isinstance(cost, numbers.Real) and not isinstance(cost, (bool, np.bool_))):
            raise OptionTypeError(
                f"viz.plot_costs: cost {index}{run} is {setting_text(cost)}, not a real number. "
                "Record J.item() for each iteration.")
        if value.size != 1:
            raise OptionError(
                f"viz.plot_costs draws one number per cost, but cost {index}{run} has shape "
                f"{value.shape}. Record J.item() for each iteration."
            )
        values.append(float(value.item()))
    if not values:
        raise OptionError(f"viz.plot_costs needs a non-empty list of costs{run}, got 0")
    return np.asarray(values, dtype=float)


def plot_decision_boundary(
    predict: Callable[[np.ndarray], Any],
    X: np.ndarray,
    y: np.ndarray,
    *,
    resolution: int = 200,
    padding: float = 1.0,
    title: str = "Decision boundary",
    ax: Axes | None = None,
    path: str | bytes | os.PathLike | None = None,
) -> Figure:
    """The regions a classifier assigns to each class, with the data on top.

    Each class has one colour, in its region and in its points, whichever classes the
    classifier predicts (an untrained one may predict a single class everywhere); a key
    beside the axes says which colour is which class.

    Args:
        predict: takes points laid out like ``X`` and returns one prediction per point: a
            class label (a whole number), or a probability of class 1 (thresholded at 0.5).
            Tensors are fine.
        X: the 2-D inputs, ``(2, m)`` as in the course (one example per column); ``(m, 2)``
            is accepted too, and ``predict`` then gets rows.
        y: the labels, ``(1, m)`` or ``(m,)``.
        resolution: grid points per axis (at least 2).
        padding: margin around the data, in the data's units.
        title: the plot's title.
        ax: draw into these axes instead of a new figure (the figure returned and saved is
            the whole one they belong to, also when they sit in a subfigure).
        path: also save the figure there (missing folders are created).

    Returns:
        the figure drawn into.

    Raises:
        OptionError: X is not 2-D data of finite numbers, y does not have a class label (a
            whole number) per example, predict returns other than one class label or
            probability per point, or another argument has a value it cannot take, checked
            before anything is drawn or saved (an `OptionTypeError` when it is of the wrong
            kind: a predict that cannot be called, X of strings, ``ax`` that is no Axes, ...).
        RenderFormatError: matplotlib cannot write the format ``path``'s extension names
            (``.xyz``), before anything is drawn or saved.
    """
    caller = "viz.plot_decision_boundary"
    if not callable(predict):
        instead = (" (not its predictions: the function is called on a grid of points)"
                   if _iterable(predict) else "")
        raise OptionTypeError(f"{caller}: predict must be a function of the points, such as "
                              "lambda X: model(X) or a trained model, got "
                              f"{setting_text(predict)}{instead}")
    if isinstance(resolution, bool) or not isinstance(resolution, numbers.Integral) or (
            resolution < 2):
        raise OptionError(f"{caller}: resolution is the number of grid points per axis, a "
                          f"whole number of at least 2, got {resolution!r}")
    padding = checked(real_number, padding, "padding", caller, lambda p: 0 <= p < math.inf,
                      "a number >= 0, the margin around the data in its units")
    _check_text(title, "title", caller, none_too=True)
    _check_axes(ax, caller)
    target = _save_path(path, ax, caller, "boundary.png")
    X = _real_array(X, "X", "the 2-D inputs", caller, "biuf").astype(float)
    y = _real_array(y, "y", "class labels", caller, "biuf").ravel()
    if X.ndim != 2 or 2 not in X.shape:
        raise OptionError(f"{caller} draws 2-D data, two features per example: X must be "
                          f"(2, m), as in the course, or (m, 2), got {X.shape}")
    columns = X.shape[0] == 2  # the course's layout: one example per column
    points = X if columns else X.T
    if points.shape[1] == 0:
        raise OptionError(f"{caller}: X holds no examples, got {X.shape}; the plot spans them")
    if not np.isfinite(points).all():
        example = np.flatnonzero(~np.isfinite(points).all(axis=0))[0]
        raise OptionError(f"{caller}: example {example} of X is {points[:, example]}; the plot "
                          "spans the data, so every point must be finite (drop it)")
    if y.size != points.shape[1]:
        raise OptionError(f"{caller}: y has {y.size} labels for {points.shape[1]} examples "
                          "in X")
    if not (np.isfinite(y) & (y == np.round(y))).all():
        raise OptionError(f"{caller}: y holds class labels, whole numbers (0 and 1 for two "
                          f"classes), got {y[~(np.isfinite(y) & (y == np.round(y)))][0]}")

    (x_min, y_min), (x_max, y_max) = points.min(axis=1) - padding, points.max(axis=1) + padding
    xx, yy = np.meshgrid(np.linspace(x_min, x_max, resolution),
                         np.linspace(y_min, y_max, resolution))
    grid = np.stack([xx.ravel(), yy.ravel()])
    predictions = predict(grid if columns else grid.T)
    Z = _real_array(predictions, "predict", "a class label or a probability per point",
                    caller, "biuf", returned=True).astype(float).ravel()
    if Z.size != grid.shape[1]:
        raise OptionError(f"{caller}: predict returned {Z.size} predictions for "
                          f"{grid.shape[1]} points; it must return one per point")
    Z = np.where(np.isfinite(Z), Z, np.nan)  # no class: a blank region
    known = Z[~np.isnan(Z)]
    fractional = bool(np.any(known != np.round(known)))
    is_probability = fractional and known.min() >= 0 and known.max() <= 1
    if fractional and not is_probability:
        raise OptionError(
            f"{caller}: predict returned {_first_fraction(known)}, which is neither a class "
            "label (a whole number) nor a probability of class 1 (from 0 to 1): return the "
            "class, or sigmoid of the score"
        )
    classes = np.where(np.isnan(Z), np.nan, Z > 0.5) if is_probability else Z
    classes = classes.reshape(xx.shape)
    # Every class of the labels and of the predictions, so each keeps one colour.
    found = np.concatenate([np.asarray(y, dtype=float), classes.ravel()])
    every_class = np.unique(found[np.isfinite(found)])
    cmap, norm = _class_colours(every_class)

    figure, ax = _figure_and_axes(ax)
    ax.contourf(xx, yy, classes, levels=norm.boundaries, cmap=cmap, norm=norm, alpha=0.35)
    if is_probability:
        ax.contour(xx, yy, Z.reshape(xx.shape), levels=[0.5], colors="black", linewidths=1)
    ax.scatter(points[0], points[1], c=y, cmap=cmap, norm=norm, edgecolors="black", s=25)
    _class_key(ax, every_class, cmap, norm, is_probability)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title)
    return _saved(figure, target)


def _class_key(
    ax: Axes, classes: np.ndarray, cmap: ListedColormap, norm: BoundaryNorm, boundary: bool
) -> None:
    """A legend beside the axes: each class's colour (its points, and its region in a paler
    tint), and the black line of probability 0.5 when there is one."""
    handles = [Line2D([], [], linestyle="", marker="o", markersize=6, markeredgecolor="black",
                      markerfacecolor=cmap(norm(value)), label=f"class {value:g}")
               for value in classes]
    if boundary:
        handles.append(Line2D([], [], color="black", linewidth=1, label="$\\hat{y}$ = 0.5"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1), borderaxespad=0,
              fontsize="small")


def _first_fraction(values: np.ndarray) -> str:
    return f"{values[values != np.round(values)][0]:.4g}"


def _class_colours(classes: np.ndarray) -> tuple[ListedColormap, BoundaryNorm]:
    """One colour per class, the same for its region and its points.

    ``classes``: every class in the labels or the predictions, sorted. Spectral's colours are
    spread over them, and each class gets a bin of its own, with edges halfway to its
    neighbours: a class the classifier never predicts still has its colour, and the regions'
    colours do not depend on which classes it predicts.
    """
    colours = colormaps["Spectral"](np.linspace(0, 1, len(classes)))
    halfway = (classes[1:] + classes[:-1]) / 2
    edges = np.concatenate([[classes[0] - 0.5], halfway, [classes[-1] + 0.5]])
    return ListedColormap(colours), BoundaryNorm(edges, len(classes))


class InlineFigure(Figure):
    """A Figure that Jupyter shows as a picture even when no pyplot backend is active.

    Without pyplot, IPython knows no way to draw a bare `Figure` until ``%matplotlib inline``
    has run, and shows ``<Figure size 600x450 with 1 Axes>`` instead.
    """

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()


def _real_array(value: Any, what: str, holds: str, caller: str, kinds: str,
                returned: bool = False) -> np.ndarray:
    """``value`` (an array, nested lists or a Tensor) as an array of real numbers (dtype kinds
    ``kinds``), or an `OptionTypeError` naming ``what``, where numpy's float() would fail on
    text or None, or drop the imaginary part of complex numbers. ``returned``: ``what`` is a
    function, ``value`` what it returned."""
    data = value.data if isinstance(value, Tensor) else value
    try:
        array = np.asarray(data)
    except (TypeError, ValueError):  # a ragged list
        array = None
    if array is not None and array.dtype.kind in kinds:
        return array
    given = f"returned {setting_text(value)}" if returned else (
        f"must hold real numbers, got {setting_text(value)}")
    raise OptionTypeError(f"{caller}: {what} {given}; it must give {holds}" if returned
                          else f"{caller}: {what} ({holds}) {given}")


def _check_text(value: Any, what: str, caller: str, none_too: bool = False) -> None:
    """Refuse a label or title that is no string (None too, unless ``none_too``), which
    matplotlib would write as its repr."""
    if isinstance(value, str) or none_too and value is None:
        return
    kind = "a string or None" if none_too else "a string"
    raise OptionTypeError(f"{caller}: {what} must be {kind}, got {setting_text(value)}")


def _check_axes(ax: Any, caller: str) -> None:
    """Refuse ``ax`` unless it is None or matplotlib Axes (an array of them, as
    ``plt.subplots(1, 2)`` returns, is named as such)."""
    if ax is None or isinstance(ax, Axes):
        return
    several = (" (plt.subplots(1, 2) returns an array of Axes: pass one of them, axes[0])"
               if isinstance(ax, np.ndarray) else "")
    raise OptionTypeError(f"{caller}: ax must be matplotlib Axes to draw into (fig.add_subplot()"
                          f", plt.gca()) or None for a new figure, got {setting_text(ax)}"
                          f"{several}")


def _figure_and_axes(ax: Axes | None) -> tuple[Figure, Axes]:
    if ax is not None:
        # Axes in a subfigure have it as .figure, which cannot be saved; its .figure is the
        # whole figure (a Figure's .figure is itself).
        return ax.figure.figure, ax
    figure = InlineFigure(figsize=(6, 4.5), layout="constrained")
    return figure, figure.add_subplot()


def _save_path(path: Any, ax: Axes | None, caller: str, example: str) -> Path | None:
    """Where to save the figure (None: nowhere), checked before anything is drawn: a name
    without an extension gets the default format's, as matplotlib names it, and one whose
    extension matplotlib cannot write is a `RenderFormatError` listing those it can."""
    if path is None:
        return None
    path = file_path(path, caller, example)
    if not path.suffix:
        path = path.with_name(f"{path.name}.{rcParams['savefig.format']}")
    # savefig writes a format with the figure's own canvas or the one registered for it.
    canvas = FigureCanvasBase if ax is None else ax.figure.figure.canvas
    file_format = path.suffix[1:].lower()
    if not hasattr(canvas, f"print_{file_format}") and (
            get_registered_canvas_class(file_format) is None):
        known = sorted({*FigureCanvasBase.get_supported_filetypes(),
                        *canvas.get_supported_filetypes()})
        raise RenderFormatError(
            f"{caller} cannot save a figure as {path.name!r}: matplotlib writes no "
            f".{file_format} files. End the file name with one of "
            f"{', '.join('.' + known_format for known_format in known)}.")
    if file_format == "pgf" and shutil.which(rcParams["pgf.texsystem"]) is None:
        # matplotlib lays out a .pgf's text with TeX, and failed only once it was drawn
        raise RenderFormatError(
            f"{caller} cannot save a figure as {path.name!r}: a .pgf file's text is laid out "
            f"by {rcParams['pgf.texsystem']} (rcParams['pgf.texsystem']), which is not "
            "installed. Save it as .pdf or .svg, or install a TeX system.")
    return path


# What matplotlib writes into a file that would change from one save of a figure to the
# next: the date (the formats it can leave out of) and the random ids of an svg's elements,
# which a fixed salt makes the same each time.
_NO_DATE = {"pdf": {"CreationDate": None}, "svg": {"Date": None}, "svgz": {"Date": None}}
_SVG_SALT = "graphgrad"


def _saved(figure: Figure, path: Path | None) -> Figure:
    """``figure``, saved to ``path`` first when there is one (missing folders created).

    A figure saved twice gives the same file (an .svg or .pdf to the byte): it holds no date
    and no name of the temporary file it is written to before replacing ``path`` (which a
    .ps or .eps took as its title)."""
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)  # as viz.render does
        file_format = path.suffix[1:].lower()
        buffer = io.BytesIO()
        options = {"metadata": _NO_DATE[file_format]} if file_format in _NO_DATE else {}
        salt = rcParams["svg.hashsalt"] or _SVG_SALT  # one the user set is kept
        with rc_context({"svg.hashsalt": salt}):
            figure.savefig(buffer, dpi=100, format=file_format, **options)
        write_whole(path, lambda temporary: Path(temporary).write_bytes(buffer.getvalue()))
    return figure
