"""The course's training plots: cost curves and decision boundaries (matplotlib, Agg)."""
import io
import shutil

import matplotlib

matplotlib.use("Agg")  # no display in tests

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from PIL import Image  # noqa: E402

import graphgrad as gg  # noqa: E402
import viz  # noqa: E402


def test_plot_costs_draws_cost_against_iterations_and_saves(tmp_path):
    costs = [0.69, 0.41, 0.30, 0.25]
    path = tmp_path / "costs.png"
    figure = viz.plot_costs(costs, every=100, path=path)
    assert isinstance(figure, Figure)
    (ax,) = figure.axes
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_xdata(), [0, 100, 200, 300])
    np.testing.assert_array_equal(line.get_ydata(), costs)
    assert ax.get_xlabel() == "iterations (one point every 100)"
    assert ax.get_ylabel() == "cost"
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size == (600, 450)


def test_plot_costs_takes_costs_recorded_more_often_than_once_a_unit():
    ax = viz.plot_costs([0.7, 0.6, 0.5], every=0.5, unit="epochs").axes[0]
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), [0.0, 0.5, 1.0])
    assert ax.get_xlabel() == "epochs (one point every 0.5)"


@pytest.mark.parametrize("every", [0, -100, float("nan"), float("inf"), True, "100", None])
def test_plot_costs_refuses_a_spacing_that_is_no_positive_number(every):
    with pytest.raises(viz.OptionError,
                       match=r"every must be the positive number of epochs") as info:
        viz.plot_costs([0.7, 0.5], every=every, unit="epochs")
    # a setting of the wrong kind is a TypeError too, as the docstring says
    assert isinstance(info.value, TypeError) == (every in (True, "100", None))


@pytest.mark.parametrize("history", [
    {"cost": [0.7, 0.5], "accuracy": [0.6, 0.8]},
    {"cost": [0.7, 0.5], "dev_cost": [0.8, 0.6], "dev_accuracy": [0.5, 0.7]},
    {"cost": [0.7, 0.5], "lr": [0.1, 0.05]},
], ids=["accuracy", "dev", "lr"])
def test_a_history_of_fits_kind_draws_only_its_costs(history):
    lines = viz.plot_costs(history, unit="epochs").axes[0].get_lines()
    assert [line.get_label() for line in lines] == (
        ["training set", "dev set"] if "dev_cost" in history else ["training set"])
    np.testing.assert_array_equal(lines[0].get_ydata(), [0.7, 0.5])


def test_plot_costs_compares_runs_by_label_and_takes_tensors():
    runs = {"learning rate 0.1": [gg.Tensor(1.0), gg.Tensor(0.5)], "learning rate 0.01": [1.0, 0.9]}
    figure = viz.plot_costs(runs, log_scale=True)
    ax = figure.axes[0]
    assert [line.get_label() for line in ax.get_lines()] == list(runs)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(runs)
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), [1.0, 0.5])
    assert ax.get_yscale() == "log"
    assert ax.get_xlabel() == "iterations"
    assert viz.plot_costs([0.7, 0.5], unit="epochs").axes[0].get_xlabel() == "epochs"
    with pytest.raises(viz.OptionError):
        viz.plot_costs([])


def blobs(m: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two classes in the course's layout: X (2, m), y (1, m); class 1 where x1 > 0."""
    rng = np.random.default_rng(seed)
    y = (np.arange(m) % 2).reshape(1, m)
    X = rng.standard_normal((2, m)) * 0.5
    X[0] += np.where(y[0] == 1, 2.0, -2.0)
    return X, y


def test_decision_boundary_regions_follow_the_classifier(tmp_path):
    X, y = blobs()
    seen_shapes = []

    def predict(points):  # logistic regression with w = (4, 0), b = 0: probability of 1
        seen_shapes.append(points.shape)
        return gg.sigmoid(gg.Tensor(np.array([[4.0, 0.0]])) @ points)

    figure = viz.plot_decision_boundary(predict, X, y, resolution=50, path=tmp_path / "b.png")
    assert seen_shapes == [(2, 2500)]  # one example per column, as X
    ax = figure.axes[0]
    filled, boundary = ax.collections[0], ax.collections[1]
    assert filled.get_array() is not None
    # the 0.5 contour of sigmoid(4 x1) is the line x1 = 0
    (segment,) = [s for s in boundary.allsegs[0]]
    np.testing.assert_allclose(segment[:, 0], 0.0, atol=0.05)
    points = ax.collections[-1]
    np.testing.assert_array_equal(points.get_offsets(), X.T)
    np.testing.assert_array_equal(points.get_array(), y.ravel())
    assert (tmp_path / "b.png").stat().st_size > 1000


def test_decision_boundary_takes_rows_and_class_labels():
    X, y = blobs()
    calls = []

    def predict(rows):  # sklearn's layout: one example per row, labels 0/1
        calls.append(rows.shape)
        return (rows[:, 0] > 0).astype(int)

    figure = viz.plot_decision_boundary(predict, X.T, y.ravel(), resolution=20)
    assert calls == [(400, 2)]
    assert len(figure.axes[0].collections) == 2  # filled regions, points: no 0.5 contour
    with pytest.raises(viz.OptionError, match="one per point"):
        viz.plot_decision_boundary(lambda p: np.zeros(3), X, y, resolution=20)
    # rows are taken too, so the refusal names both layouts, not the course's alone
    with pytest.raises(viz.OptionError, match=r"^viz\.plot_decision_boundary draws 2-D data, "
                       r"two features per example: X must be \(2, m\), as in the course, or "
                       r"\(m, 2\), got \(3, 5\)$"):
        viz.plot_decision_boundary(predict, np.ones((3, 5)), np.ones(5))


def test_plots_show_inline_in_jupyter_without_the_matplotlib_magic():
    formatters = pytest.importorskip("IPython.core.formatters")
    X, y = blobs()
    for figure in (viz.plot_costs([0.7, 0.5]), viz.plot_decision_boundary(
            lambda p: p[0] > 0, X, y, resolution=20)):
        png = formatters.PNGFormatter()(figure)
        assert png is not None and png.startswith(b"\x89PNG")
        with Image.open(io.BytesIO(png)) as image:
            assert image.size == (600, 450)


def test_plot_costs_given_a_fit_history_draws_its_training_and_dev_costs():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((32, 2))
    Y = (X[:, :1] > 0).astype(float)
    model = gg.nn.Linear(2, 1)
    history = gg.fit(model, gg.nn.binary_cross_entropy_with_logits,
                     gg.optim.SGD(model.parameters(), lr=0.5), (X, Y), epochs=3,
                     dev_data=(X, Y), progress=False)
    assert {"accuracy", "lr", "dev_accuracy"} <= set(history)
    ax = viz.plot_costs(history, unit="epochs").axes[0]
    train, dev = ax.get_lines()
    assert (train.get_label(), dev.get_label()) == ("training set", "dev set")
    np.testing.assert_array_equal(train.get_ydata(), history["cost"])
    np.testing.assert_array_equal(dev.get_ydata(), history["dev_cost"])

    without_dev = {"cost": [0.7, 0.5], "accuracy": [0.5, 0.8], "lr": [0.1, 0.1]}
    (line,) = viz.plot_costs(without_dev).axes[0].get_lines()
    np.testing.assert_array_equal(line.get_ydata(), [0.7, 0.5])


def test_plot_costs_takes_one_element_arrays_and_tensors():
    costs = [np.array([[0.69]]), gg.Tensor([[0.41]]), np.float32(0.3), np.array([0.25])]
    (line,) = viz.plot_costs(costs).axes[0].get_lines()
    np.testing.assert_allclose(line.get_ydata(), [0.69, 0.41, 0.3, 0.25])
    (column,) = viz.plot_costs(np.array([[0.69], [0.41]])).axes[0].get_lines()
    np.testing.assert_array_equal(column.get_ydata(), [0.69, 0.41])
    with pytest.raises(viz.OptionError, match=r"cost 1 of 'run' has shape \(2,\)"):
        viz.plot_costs({"run": [0.7, np.array([0.5, 0.4])]})


def test_plots_make_missing_folders(tmp_path):
    costs_path = tmp_path / "new" / "dir" / "costs.png"
    viz.plot_costs([1.0, 0.5], path=costs_path)
    with Image.open(costs_path) as image:
        assert image.format == "PNG" and image.size == (600, 450)
    X, y = blobs()
    boundary_path = tmp_path / "other" / "deeper" / "boundary.svg"
    viz.plot_decision_boundary(lambda p: p[0] > 0, X, y, resolution=20, path=str(boundary_path))
    assert boundary_path.read_text(encoding="utf-8").lstrip().startswith("<?xml")


def test_a_figure_saved_twice_gives_the_same_file(tmp_path):
    X, y = blobs()
    for extension in ("svg", "pdf"):
        first, second = tmp_path / f"first.{extension}", tmp_path / f"second.{extension}"
        for path in (first, second):  # the svg's ids were random, the dates the time
            viz.plot_costs([1.0, 0.5, 0.25], path=path)
        assert first.read_bytes() == second.read_bytes()
        assert b"CreationDate" not in first.read_bytes() and b"<dc:date>" not in (
            first.read_bytes())
    first, second = tmp_path / "first.svg", tmp_path / "second.svg"
    for path in (first, second):
        viz.plot_decision_boundary(lambda p: p[0] > 0, X, y, resolution=20, path=path)
    assert first.read_bytes() == second.read_bytes()
    viz.plot_costs([1.0, 0.5], path=tmp_path / "costs.eps")
    eps = (tmp_path / "costs.eps").read_bytes()
    assert eps.startswith(b"%!PS-Adobe") and b".graphgrad-" not in eps  # the temporary's name
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "costs.eps", "first.pdf", "first.svg", "second.pdf", "second.svg"]


def test_a_salt_the_user_set_for_svg_ids_is_kept(tmp_path):
    with matplotlib.rc_context({"svg.hashsalt": "mine"}):
        viz.plot_costs([1.0, 0.5], path=tmp_path / "mine.svg")
    viz.plot_costs([1.0, 0.5], path=tmp_path / "ours.svg")
    assert (tmp_path / "mine.svg").read_bytes() != (tmp_path / "ours.svg").read_bytes()


def test_plots_into_axes_of_a_subfigure_return_and_save_the_whole_figure(tmp_path):
    whole = Figure(figsize=(8, 3))
    left, right = whole.subfigures(1, 2)
    cost_ax, boundary_ax = left.subplots(), right.subplots()
    figure = viz.plot_costs([1.0, 0.5, 0.25], ax=cost_ax, path=tmp_path / "costs.png")
    assert figure is whole
    assert list(cost_ax.lines[0].get_ydata()) == [1.0, 0.5, 0.25]
    with Image.open(tmp_path / "costs.png") as image:
        assert image.size == (800, 300)  # both subfigures, at 100 dpi
    X, y = blobs()
    figure = viz.plot_decision_boundary(lambda p: p[0] > 0, X, y, resolution=20,
                                        ax=boundary_ax, path=tmp_path / "boundary.png")
    assert figure is whole
    with Image.open(tmp_path / "boundary.png") as image:
        assert image.size == (800, 300)


def test_a_plot_saved_without_an_extension_gets_the_default_format(tmp_path):
    viz.plot_costs([1.0, 0.5], path=tmp_path / "costs")
    assert [p.name for p in tmp_path.iterdir()] == ["costs.png"]  # as matplotlib names it
    with Image.open(tmp_path / "costs.png") as image:
        assert image.format == "PNG"


def test_a_plot_that_fails_to_save_leaves_the_one_saved_before(tmp_path, monkeypatch):
    path = tmp_path / "costs.png"
    viz.plot_costs([1.0, 0.5], path=path)
    before = path.read_bytes()
    savefig = Figure.savefig

    def save_then_interrupt(figure, target, *args, **kwargs):
        savefig(figure, target, *args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(Figure, "savefig", save_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        viz.plot_costs([3.0, 2.0, 1.0], path=path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["costs.png"]


def test_plot_costs_takes_costs_that_still_hold_their_graph():
    w = gg.Tensor(np.array([1.0, 2.0]), requires_grad=True, name="w")
    costs = []
    for step in range(3):
        J = (w * w).sum() * (1.0 / (step + 1))
        J.backward()
        costs.append(J)  # the tensor itself, not J.item()
    (line,) = viz.plot_costs(costs).axes[0].get_lines()
    np.testing.assert_allclose(line.get_ydata(), [5.0, 2.5, 5.0 / 3])
    (line,) = viz.plot_costs({"run": costs}).axes[0].get_lines()
    np.testing.assert_allclose(line.get_ydata(), [5.0, 2.5, 5.0 / 3])
    (line,) = viz.plot_costs(gg.Tensor([0.7, 0.5], requires_grad=True)).axes[0].get_lines()
    np.testing.assert_allclose(line.get_ydata(), [0.7, 0.5])


def test_plot_costs_labels_a_single_named_run_and_refuses_an_empty_mapping():
    ax = viz.plot_costs({"learning rate 0.01": [0.7, 0.5]}).axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["learning rate 0.01"]
    assert viz.plot_costs([0.7, 0.5]).axes[0].get_legend() is None
    with pytest.raises(viz.OptionError, match="empty mapping"):
        viz.plot_costs({})


def region_and_point_colours(figure: Figure, y: np.ndarray) -> dict[int, tuple]:
    """For each class in y: the RGB of its region (the filled band holding the class) and of
    its points, as matplotlib draws them."""
    figure.savefig(io.BytesIO(), format="png")  # colours points by their class
    ax = figure.axes[0]
    regions, points = ax.collections[0], ax.collections[-1]
    colours = {}
    for label in np.unique(y):
        band = np.searchsorted(regions.levels, label) - 1  # between levels band, band + 1
        region = tuple(np.round(regions.get_facecolor()[band][:3], 4))
        point = tuple(np.round(points.get_facecolors()[np.flatnonzero(y == label)[0]][:3], 4))
        colours[int(label)] = (region, point)
    return colours


def test_decision_boundary_gives_each_class_one_colour_in_regions_and_points():
    X, y = blobs()
    y = y.ravel()
    untrained = viz.plot_decision_boundary(lambda p: np.zeros(p.shape[1]), X, y, resolution=20)
    for region, point in region_and_point_colours(untrained, y).values():
        assert region == point
    three = np.where(X[1] > 0.5, 2, y)  # a third class the classifier never predicts
    figure = viz.plot_decision_boundary(lambda p: (p[0] > 0).astype(float), X, three,
                                        resolution=20)
    colours = region_and_point_colours(figure, three)
    assert all(region == point for region, point in colours.values())
    assert len({point for _, point in colours.values()}) == 3
    np.testing.assert_array_equal(figure.axes[0].collections[-1].get_array(), three)


def test_decision_boundary_has_a_key_giving_each_class_its_colour():
    X, y = blobs()
    y = np.where(X[1] > 0.5, 5, y.ravel())  # classes 0, 1 and 5, which is never predicted
    figure = viz.plot_decision_boundary(lambda p: (p[0] > 0).astype(float), X, y,
                                        resolution=20)
    colours = region_and_point_colours(figure, y)
    key = figure.axes[0].get_legend()
    assert [text.get_text() for text in key.get_texts()] == ["class 0", "class 1", "class 5"]
    for label, handle in zip((0, 1, 5), key.legend_handles):
        assert tuple(np.round(to_rgb(handle.get_markerfacecolor()), 4)) == colours[label][1]
    # probabilities: the black 0.5 line is in the key too
    probability = viz.plot_decision_boundary(lambda p: 1 / (1 + np.exp(-p[0])), X, y > 0,
                                             resolution=20)
    texts = [text.get_text() for text in probability.axes[0].get_legend().get_texts()]
    assert texts == ["class 0", "class 1", "$\\hat{y}$ = 0.5"]


def test_decision_boundary_refuses_predictions_that_are_no_class_and_no_probability():
    X, y = blobs()
    with pytest.raises(viz.OptionError, match=r"returned -?\d.*neither a class label"):
        viz.plot_decision_boundary(lambda p: 3 * p[0] + 0.1, X, y, resolution=20)


def test_plots_refuse_a_grid_of_fewer_than_two_points_and_a_folder_as_path(tmp_path):
    X, y = blobs()
    for resolution in (1, 0, 2.5, True):
        with pytest.raises(viz.OptionError, match="resolution is the number of grid points"):
            viz.plot_decision_boundary(lambda p: p[0] > 0, X, y, resolution=resolution)
    assert viz.plot_decision_boundary(lambda p: p[0] > 0, X, y, resolution=2)
    (tmp_path / "costs.png").mkdir()
    with pytest.raises(viz.OptionError, match="viz.plot_costs: .*costs.png' is a folder"):
        viz.plot_costs([0.7, 0.5], path=tmp_path / "costs.png")


def test_plots_take_bytes_paths_and_refuse_what_is_no_file_name(tmp_path):
    X, y = blobs()
    viz.plot_costs([1.0, 0.5], path=bytes(tmp_path / "costs.png"))
    viz.plot_decision_boundary(lambda p: p[0] > 0, X, y, resolution=20,
                               path=bytes(tmp_path / "boundary.png"))
    for name in ("costs.png", "boundary.png"):
        with Image.open(tmp_path / name) as image:
            assert image.format == "PNG" and image.size == (600, 450)
    for path in (5, ["costs.png"]):
        with pytest.raises(viz.OptionTypeError, match="^viz.plot_costs: path must be a file"):
            viz.plot_costs([1.0, 0.5], path=path)
        with pytest.raises(viz.OptionTypeError,
                           match="^viz.plot_decision_boundary: path must be a file name"):
            viz.plot_decision_boundary(lambda p: p[0] > 0, X, y, resolution=20, path=path)
    with pytest.raises(viz.OptionError, match=r"^viz.plot_costs: path is empty"):
        viz.plot_costs([1.0, 0.5], path="")
    # A name ending in a slash is a folder: it was saved beside it as results.png.
    with pytest.raises(viz.OptionError, match=r"results/' is a folder, not a file"):
        viz.plot_costs([1.0, 0.5], path=f"{tmp_path}/results/")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["boundary.png", "costs.png"]


def test_plots_refuse_an_extension_matplotlib_cannot_write_before_drawing(tmp_path):
    X, y = blobs()
    whole = Figure()
    ax = whole.add_subplot()
    with pytest.raises(viz.RenderFormatError, match=(
            r"^viz.plot_costs cannot save a figure as 'costs.xyz': matplotlib writes no "
            r"\.xyz files. End the file name with one of .*\.pdf, .*\.png, .*\.svg")):
        viz.plot_costs([1.0, 0.5], ax=ax, path=tmp_path / "costs.xyz")
    with pytest.raises(ValueError, match="^viz.plot_decision_boundary cannot save a figure"):
        viz.plot_decision_boundary(lambda p: p[0] > 0, X, y, resolution=20, ax=ax,
                                   path=tmp_path / "boundary.xyz")
    assert not ax.lines and not ax.collections and not ax.get_title()  # nothing drawn
    assert not list(tmp_path.iterdir())
    viz.plot_costs([1.0, 0.5], path=tmp_path / "costs.PDF")  # any case, as matplotlib takes it
    assert (tmp_path / "costs.PDF").read_bytes().startswith(b"%PDF")


def test_plots_refuse_a_pgf_file_without_its_tex_system_before_drawing(tmp_path, monkeypatch):
    """matplotlib failed in its own words ('xelatex' not found) once the plot was drawn."""
    monkeypatch.setattr(shutil, "which", lambda name: None)  # as where no TeX is installed
    ax = Figure().add_subplot()
    with matplotlib.rc_context({"pgf.texsystem": "lualatex"}):
        with pytest.raises(viz.RenderFormatError) as info:
            viz.plot_costs([1.0, 0.5], ax=ax, path=tmp_path / "costs.pgf")
    assert str(info.value) == (
        "viz.plot_costs cannot save a figure as 'costs.pgf': a .pgf file's text is laid out "
        "by lualatex (rcParams['pgf.texsystem']), which is not installed. Save it as "
        ".pdf or .svg, or install a TeX system.")
    assert not ax.lines and not list(tmp_path.iterdir())


@pytest.mark.parametrize(("arguments", "error", "message"), [
    ({"history": None}, viz.OptionTypeError, r"^viz.plot_costs takes the costs recorded during "
     r"training, a list of numbers, or several runs' lists by label .*, got None$"),
    ({"history": 5}, viz.OptionTypeError, r"takes the costs recorded .*, got 5$"),
    ({"history": "0.7"}, viz.OptionTypeError, r"takes the costs recorded .*, got '0.7'$"),
    ({"history": {"run": 5}}, viz.OptionTypeError,
     r"^viz.plot_costs: the costs of 'run' must be a list of numbers, .* got 5$"),
    ({"history": {"good": [0.7, 0.5], "bad": [0.7, "0.5"]}}, viz.OptionTypeError,
     r"^viz.plot_costs: cost 1 of 'bad' is '0.5', not a real number. Record J.item\(\)"),
    ({"history": [0.7, None]}, viz.OptionTypeError, r"cost 1 is None, not a real number"),
    ({"history": [0.7, 0.5 + 1j]}, viz.OptionTypeError, r"cost 1 is \(0.5\+1j\), not a real"),
    ({"history": [np.array([0.5j])]}, viz.OptionTypeError, r"cost 0 is .*, not a real number"),
    ({"history": [True, False]}, viz.OptionTypeError, r"cost 0 is True, not a real number"),
    ({"history": {"run": []}}, viz.OptionError, r"needs a non-empty list of costs of 'run'"),
    ({"title": 5}, viz.OptionTypeError, r"^viz.plot_costs: title must be a string or None, got 5"),
    ({"unit": None}, viz.OptionTypeError, r"^viz.plot_costs: unit must be a string, got None"),
    ({"log_scale": "yes"}, viz.OptionError,
     r"^viz.plot_costs: log_scale must be True or False, got 'yes'"),
    ({"log_scale": 1}, viz.OptionError, r"log_scale must be True or False, got 1$"),
    ({"log_scale": None}, viz.OptionError, r"log_scale must be True or False, got None$"),
])
def test_plot_costs_refuses_arguments_it_cannot_draw_before_drawing_any(tmp_path, arguments,
                                                                        error, message):
    whole = Figure()
    ax = whole.add_subplot()
    arguments = {"history": [0.7, 0.5], **arguments}
    with pytest.raises(error, match=message):
        viz.plot_costs(arguments.pop("history"), ax=ax, path=tmp_path / "costs.png",
                       **arguments)
    assert not ax.lines and not ax.get_title() and ax.get_yscale() == "linear"
    assert not list(tmp_path.iterdir()) and plt.get_fignums() == []


def test_plot_costs_names_what_ax_must_be():
    for ax in (5, np.array([Figure().add_subplot(), Figure().add_subplot()], dtype=object)):
        with pytest.raises(viz.OptionTypeError,
                           match=r"^viz.plot_costs: ax must be matplotlib Axes to draw into"):
            viz.plot_costs([0.7, 0.5], ax=ax)
    with pytest.raises(TypeError, match=r"array of Axes: pass one of them, axes\[0\]"):
        viz.plot_costs([0.7, 0.5], ax=np.array([Figure().add_subplot()] * 2, dtype=object))
    ax = viz.plot_costs([0.7, 0.5], title=None, log_scale=np.True_).axes[0]
    assert ax.get_title() == "" and ax.get_yscale() == "log"


def boundary_arguments(**changed):
    X, y = blobs()
    return {"predict": lambda p: p[0] > 0, "X": X, "y": y, "resolution": 20, **changed}


@pytest.mark.parametrize(("changed", "error", "message"), [
    ({"predict": 5}, viz.OptionTypeError,
     r"^viz.plot_decision_boundary: predict must be a function of the points, .* got 5$"),
    ({"predict": np.zeros(40)}, viz.OptionTypeError, r"got <float64 array \(40,\)> \(not its "
     r"predictions: the function is called on a grid of points\)$"),
    ({"padding": "1"}, viz.OptionError, r"^viz.plot_decision_boundary: padding must be a "
     r"number >= 0, the margin around the data in its units, got '1'$"),
    ({"padding": None}, viz.OptionError, r"padding must be a number >= 0, .* got None$"),
    ({"padding": -5}, viz.OptionError, r"padding must be a number >= 0, .* got -5$"),
    ({"padding": float("nan")}, viz.OptionError, r"padding must be a number >= 0, .* got nan$"),
    ({"padding": 1j}, viz.OptionError, r"padding must be a number >= 0, .* got 1j$"),
    ({"title": 5}, viz.OptionTypeError, r"^viz.plot_decision_boundary: title must be a string"),
    ({"X": np.array([["a", "b"], ["c", "d"]])}, viz.OptionTypeError,
     r"^viz.plot_decision_boundary: X \(the 2-D inputs\) must hold real numbers, got <<U1"),
    ({"X": blobs()[0] + 1j}, viz.OptionTypeError, r"X .* must hold real numbers, got <complex"),
    ({"X": np.zeros((2, 0)), "y": np.zeros(0)}, viz.OptionError, r"X holds no examples"),
    ({"X": np.where(np.arange(40) == 3, np.nan, blobs()[0])}, viz.OptionError,
     r"^viz.plot_decision_boundary: example 3 of X is \[nan nan\]; the plot spans the data"),
    ({"y": np.array(["0", "1"] * 20)}, viz.OptionTypeError, r"y \(class labels\) must hold "),
    ({"y": np.arange(40) / 2}, viz.OptionError, r"y holds class labels, whole numbers .* 0.5$"),
    ({"predict": lambda p: None}, viz.OptionTypeError,
     r"^viz.plot_decision_boundary: predict returned None; it must give a class label or a "
     r"probability per point$"),
    ({"predict": lambda p: np.full(p.shape[1], "1")}, viz.OptionTypeError,
     r"predict returned <<U1 array \(400,\)>"),
    ({"predict": lambda p: p[0] + 1j}, viz.OptionTypeError, r"predict returned <complex128"),
])
def test_decision_boundary_refuses_arguments_it_cannot_draw_before_drawing(tmp_path, changed,
                                                                          error, message):
    ax = Figure().add_subplot()
    with pytest.raises(error, match=message):
        viz.plot_decision_boundary(**boundary_arguments(**changed), ax=ax,
                                   path=tmp_path / "boundary.png")
    assert not ax.collections and not ax.get_title() and ax.get_legend() is None
    assert not list(tmp_path.iterdir()) and plt.get_fignums() == []


def test_decision_boundary_names_what_ax_must_be_and_takes_a_margin_of_zero():
    with pytest.raises(viz.OptionTypeError,
                       match=r"^viz.plot_decision_boundary: ax must be matplotlib Axes"):
        viz.plot_decision_boundary(**boundary_arguments(), ax=5)
    X, y = blobs()
    ax = viz.plot_decision_boundary(**boundary_arguments(padding=np.float64(0.0)),
                                    title=None).axes[0]
    # the grid spans the data exactly
    np.testing.assert_allclose(ax.get_xlim(), [X[0].min(), X[0].max()])
    assert ax.get_title() == ""


def test_plot_costs_advises_a_record_of_the_cost_that_works_while_it_requires_grad():
    """The message also advised float(J), which is refused for a training cost (it requires
    grad while ops are recorded): J.item() alone takes its value."""
    w = gg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    J = (w * w).sum()
    with pytest.raises(viz.OptionError, match=r"cost 0 has shape \(2,\)\. Record J\.item\(\) "
                       r"for each iteration\.$"):
        viz.plot_costs([w * w])
    with pytest.raises(gg.GraphgradTypeError, match=r"^float\(\) of .* requires grad"):
        float(J)
    (line,) = viz.plot_costs([J.item()]).axes[0].get_lines()
    np.testing.assert_allclose(line.get_ydata(), [5.0])
