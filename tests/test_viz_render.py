"""Pictures as files: PNG and SVG made by Graphviz, DOT text without it, and the errors."""
import copy
import io
import pickle
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import graphviz
import numpy as np
import pytest
from PIL import Image
from viz_helpers import course_graph, node_ids, two_layer_net

import graphgrad as gg
import viz
from viz import styles
from viz.render import PICTURE_FORMATS, _undated


def pickle_and_back(obj):
    return pickle.loads(pickle.dumps(obj))


SVG = "{http://www.w3.org/2000/svg}"


def colour_pixels(path, rgb: str, tolerance: int = 40) -> int:
    """How many pixels of the image are within ``tolerance`` of the colour ``#rrggbb``."""
    target = np.array([int(rgb[i:i + 2], 16) for i in (1, 3, 5)])
    pixels = np.asarray(Image.open(path).convert("RGB")).astype(int)
    return int((np.abs(pixels - target).max(axis=-1) <= tolerance).sum())


def test_png_has_blue_forward_and_red_backward_edges(tmp_path):
    J = course_graph()["J"]
    path = viz.render(J, tmp_path / "graph.png", legend=False)
    with Image.open(path) as image:
        assert image.format == "PNG" and image.width > 400 and image.height > 150
    assert colour_pixels(path, styles.FORWARD) > 200
    assert colour_pixels(path, styles.BACKWARD) > 200

    before = viz.render(course_graph(backward=False)["J"], tmp_path / "before.png", legend=False)
    assert colour_pixels(before, styles.FORWARD) > 200
    assert colour_pixels(before, styles.BACKWARD) == 0


def test_svg_parses_and_its_edges_have_the_course_colours(tmp_path):
    J = course_graph()["J"]
    path = viz.render(J, tmp_path / "graph.svg")
    root = ET.parse(path).getroot()
    assert root.tag == SVG + "svg"
    groups = root.iter(SVG + "g")
    colour_of = {}
    texts = []
    for group in groups:
        title = group.find(SVG + "title")
        if group.get("class") == "edge":
            colour_of.setdefault(title.text, set()).add(group.find(SVG + "path").get("stroke"))
        texts += [t.text for t in group.iter(SVG + "text")]
    ids = node_ids(viz.to_dot(J))
    # forward v -> Mul (op3) -> J in blue; backward J -> op3 -> v in red
    assert colour_of[f"{ids['v']}->op3"] == {styles.FORWARD}
    assert colour_of[f"op3->{ids['J']}"] == {styles.FORWARD}
    assert colour_of[f"{ids['J']}->op3"] == {styles.BACKWARD}
    assert colour_of[f"op3->{ids['v']}"] == {styles.BACKWARD}
    assert sum(colours == {styles.BACKWARD} for colours in colour_of.values()) == 8
    for text in ("a = 5", "da = 3", "J = 33", "dJ = 1", "1: dv = 3", "5: dc = 9"):
        assert text in texts


def test_dot_files_need_no_graphviz_program(tmp_path, monkeypatch):
    J = course_graph()["J"]
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` anywhere
    for name in ("graph.dot", "graph.gv"):
        path = viz.render(J, tmp_path / name, rankdir="TB")
        assert path.read_text(encoding="utf-8") == viz.to_dot(J, rankdir="TB")


def test_without_dot_the_error_says_how_to_install_it(tmp_path, monkeypatch):
    J = course_graph()["J"]
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(viz.DotNotFoundError) as caught:
        viz.render(J, tmp_path / "graph.png")
    message = str(caught.value)
    assert "`dot` program" in message
    assert "sudo apt-get install graphviz" in message
    assert "brew install graphviz" in message
    assert "conda install -c conda-forge graphviz" in message
    assert "viz.to_dot(J)" in message
    assert caught.value.source == viz.to_dot(J)
    assert isinstance(caught.value, gg.GraphgradError)
    assert not (tmp_path / "graph.png").exists()
    with pytest.raises(viz.DotNotFoundError):
        viz.animate(J, tmp_path / "backprop.gif")


@pytest.mark.parametrize("copier", [copy.copy, copy.deepcopy, pickle_and_back])
def test_dot_not_found_copies_and_pickles_with_its_source(copier):
    error = viz.DotNotFoundError("no `dot` program", "digraph { J }")
    twin = copier(error)
    assert type(twin) is viz.DotNotFoundError and str(twin) == "no `dot` program"
    assert twin.source == "digraph { J }"


def test_render_takes_a_drawn_digraph_and_refuses_unknown_formats(tmp_path):
    J = course_graph()["J"]
    picture = viz.render(viz.draw_graph(J, collapse=False), tmp_path / "graph.pdf")
    assert picture.read_bytes().startswith(b"%PDF")
    with pytest.raises(viz.RenderFormatError, match=r"\.png, \.svg"):
        viz.render(J, tmp_path / "graph.bmp")
    with pytest.raises(viz.OptionError, match="draw_graph"):
        viz.render(viz.draw_graph(J), tmp_path / "graph.png", rankdir="TB")


def test_render_takes_dot_text_read_back_as_a_graphviz_source(tmp_path):
    """A picture saved as .dot and read back (graphviz.Source.from_file) renders as the
    Digraph it came from, where it was refused as no graphgrad Tensor."""
    J = course_graph()["J"]
    dot = viz.render(J, tmp_path / "graph.dot")
    source = graphviz.Source.from_file(dot)
    again = viz.render(source, tmp_path / "again.dot")
    assert again.read_text(encoding="utf-8") == viz.to_dot(J)
    svg = viz.render(source, tmp_path / "graph.svg").read_bytes()
    assert svg == viz.render(viz.draw_graph(J), tmp_path / "digraph.svg").read_bytes()
    assert ET.fromstring(svg).tag == f"{SVG}svg"
    with pytest.raises(viz.OptionError, match=r"^viz.render takes drawing options with a "
                                              r"tensor, not with an already drawn Source"):
        viz.render(source, tmp_path / "graph.png", rankdir="TB")


def test_png_bytes_are_the_same_for_the_same_graph(tmp_path):
    first = viz.render(course_graph()["J"], tmp_path / "first.png").read_bytes()
    second = viz.render(course_graph()["J"], tmp_path / "second.png").read_bytes()
    assert Image.open(io.BytesIO(first)).size == Image.open(io.BytesIO(second)).size
    assert first == second


def test_every_format_gives_the_same_bytes_when_drawn_again_a_second_later(tmp_path):
    """A file written again (a notebook rerun, a figure in version control) changes only when
    the graph does: a .pdf holds no date of its writing, which differed between seconds."""
    formats = [*PICTURE_FORMATS, "dot"]
    assert {"png", "svg", "pdf", "jpg", "gif"} <= set(formats)

    def draw_all(folder: str) -> dict[str, bytes]:
        J = course_graph()["J"]
        drawn = {f: viz.render(J, tmp_path / folder / f"graph.{f}").read_bytes()
                 for f in formats}
        drawn["animation"] = viz.animate(J, tmp_path / folder / "backprop.gif").read_bytes()
        return drawn

    first = draw_all("first")
    time.sleep(1.01 - time.time() % 1)  # the next second: a date written would change
    second = draw_all("second")
    differ = [f for f in first if first[f] != second[f]]
    assert first["pdf"].startswith(b"%PDF")
    if b"/ObjStm" in first["pdf"]:
        # cairo 1.18 and later compress the PDF's information, its date with it, into an
        # object stream, which _undated leaves as it is (render's docstring says so)
        differ = [f for f in differ if f != "pdf"]
    else:
        assert b"CreationDate" not in first["pdf"] and b"ModDate" not in first["pdf"]
    assert differ == []
    # Both dates go, each as many spaces (every offset after it holds), the rest stays.
    pdf = (b"%PDF-1.5\n1 0 obj\n<< /Title (a \\) b) /CreationDate (D:20250102030405Z)\n"
           b"   /ModDate (D:20250102030405+01'00') >>\nendobj\n"
           b"trailer\n<< /Info 1 0 R >>\n%%EOF\n")
    undated = _undated(pdf)
    assert undated == pdf.replace(b"/CreationDate (D:20250102030405Z)", b" " * 33).replace(
        b"/ModDate (D:20250102030405+01'00')", b" " * 34)
    assert len(undated) == len(pdf) and b"/Title (a \\) b)" in undated
    assert _undated(b"%PDF-1.5 without a trailer") == b"%PDF-1.5 without a trailer"


def test_any_name_and_scope_renders(tmp_path):
    names = ['W<1> & "b"', "x\\n{y}|z", "ünïcode λ → ∂", "tab\tnew\nline", "]]>--"]
    tensors = [gg.Tensor(float(i), requires_grad=True, name=n) for i, n in enumerate(names)]
    with gg.name_scope('scope <"&">'):
        total = tensors[0]
        for t in tensors[1:]:
            total = total + t
    total.name = "</table>"
    total.backward()
    root = ET.parse(viz.render(total, tmp_path / "names.svg")).getroot()
    texts = [t.text for t in root.iter(SVG + "text")]
    for name in names[:3] + ["tab\\tnew\\nline", "]]>--", "</table>", 'scope <"&">']:
        assert name in texts
    assert f"d{names[2]} = 1" in texts


class _Unnamed(gg.Function):
    """y = 2x, an op whose name is empty."""

    name = ""

    @staticmethod
    def forward(ctx, x):
        return 2 * x

    @staticmethod
    def backward(ctx, grad):
        return 2 * grad


def test_empty_names_render_with_generated_names(tmp_path):
    leaf = gg.Tensor(2.0, requires_grad=True, name="")
    middle = _Unnamed.apply(leaf * 3)
    middle.name = ""
    J = middle + 1
    J.name = ""
    J.backward()
    svg = viz.render(J, tmp_path / "empty.svg", title="")
    texts = [t.text for t in ET.parse(svg).getroot().iter(SVG + "text")]
    for row in ["t1", "t1 = 2", "dt1 = 6", "t2 = 6", "dt2 = 2", "t3 = 12", "dt3 = 1",
                "t4", "t4 = 13", "dt4 = 1", "3: dt1 = 6"]:
        assert row in texts
    assert not [text for text in texts if text and text.startswith((" =", "d ="))]
    with Image.open(viz.render(J, tmp_path / "empty.png")) as image:
        assert image.format == "PNG" and image.width > 100


def test_backslash_sequences_and_unwritable_characters_are_drawn_as_written(tmp_path):
    # Graphviz would draw \G, \N, \E as the graph, node, edge names and \T, \H (edge labels)
    # as the tail and head; U+FFFE, U+FFFF and lone surrogates cannot be in its input at all.
    names = [r"\Gamma", r"\N", r"\Eta", r"\Theta", r"\Hat", "bad\ufffe", "bad\uffff",
             "bad\ud800"]
    tensors = [gg.Tensor(float(i), requires_grad=True, name=n) for i, n in enumerate(names)]
    with gg.name_scope(r"scope\G"):
        total = tensors[0]
        for t in tensors[1:]:
            total = total + t
    total.name = "J"
    total.backward()
    root = ET.parse(viz.render(total, tmp_path / "names.svg", title=r"\G title")).getroot()
    texts = [t.text for t in root.iter(SVG + "text")]
    drawn = names[:5] + [r"bad\ufffe", r"bad\uffff", r"bad\ud800"]
    for name in drawn:
        assert name in texts  # the bold name row of its box
        assert any(text.endswith(f": d{name} = 1") for text in texts if text)  # its red edge
    assert r"scope\G" in texts and r"\G title" in texts


def test_render_makes_missing_folders(tmp_path):
    J = course_graph()["J"]
    picture = viz.render(J, tmp_path / "new" / "deeper" / "graph.svg")
    assert ET.parse(picture).getroot().tag == SVG + "svg"
    text = viz.render(J, tmp_path / "other" / "graph.dot")
    assert text.read_text(encoding="utf-8") == viz.to_dot(J)


def test_a_render_interrupted_as_it_writes_leaves_the_picture_drawn_before(tmp_path,
                                                                          monkeypatch):
    J = course_graph()["J"]
    path = viz.render(J, tmp_path / "graph.svg")
    before = path.read_bytes()
    write_bytes = Path.write_bytes

    def write_half_then_interrupt(file, data):
        write_bytes(file, data[: len(data) // 2])
        raise KeyboardInterrupt

    monkeypatch.setattr(Path, "write_bytes", write_half_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        viz.render(J, path, show_values=False)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["graph.svg"]


def test_errors_name_the_function_that_was_called(tmp_path):
    leaf = gg.Tensor(1.0, requires_grad=True, name="w")
    with pytest.raises(viz.NoGraphError, match="^viz.render: "):
        viz.render(leaf, tmp_path / "graph.png")
    with pytest.raises(viz.NoGraphError, match="^viz.to_dot: "):
        viz.to_dot(leaf)
    with pytest.raises(viz.NotATensorError, match="^viz.to_dot draws graphgrad Tensors"):
        viz.to_dot(np.ones(3))
    with pytest.raises(viz.NoGraphError, match="^viz.draw_graph: "):
        viz.draw_graph(leaf)
    assert not list(tmp_path.iterdir())


def test_render_refuses_a_path_that_is_a_folder_and_unknown_options(tmp_path):
    J = course_graph()["J"]
    (tmp_path / "graph.png").mkdir()
    with pytest.raises(viz.OptionError, match=r"graph\.png' is a folder, not a file"):
        viz.render(J, tmp_path / "graph.png")
    with pytest.raises(viz.UnknownOptionError, match="viz.render has no option 'foo'"):
        viz.render(J, tmp_path / "graph.svg", foo=1)
    assert not (tmp_path / "graph.svg").exists()


def test_a_chain_of_ops_is_drawn_on_one_line_with_its_constants_beside_it(tmp_path):
    # Each step h * 1.1 + 0.01 takes a constant beside the chain: with every edge pulling
    # alike, each op sat between its two inputs and the chain slid down at every step.
    h = gg.Tensor(np.array([0.5, -0.3]), requires_grad=True, name="x")
    for _ in range(5):
        h = gg.tanh(h * 1.1 + 0.01)
    J = h.sum()
    J.backward()
    root = ET.parse(viz.render(J, tmp_path / "chain.svg", legend=False)).getroot()
    heights = [float(group.find(SVG + "ellipse").get("cy")) for group in root.iter(SVG + "g")
               if group.get("class") == "node" and group.find(SVG + "ellipse") is not None]
    assert len(heights) == 16  # Mul, Add, Tanh five times, and Sum
    assert max(heights) - min(heights) < 1


def test_a_collapsed_box_keeps_its_title_clear_of_its_top_face(tmp_path):
    root = ET.parse(viz.render(two_layer_net(), tmp_path / "boxes.svg", collapse=True,
                               legend=False)).getroot()
    boxes = [group for group in root.iter(SVG + "g") if group.get("class") == "node"
             and group.find(SVG + "title").text.startswith("box")]
    assert len(boxes) == 3  # model/layer1, model/layer2, cost
    for box in boxes:
        # the front face's top edge: the first line drawn over the box's outline
        (_, top), _ = ([float(v) for v in point.split(",")]
                       for point in box.find(SVG + "polyline").get("points").split())
        title = box.find(SVG + "text")
        assert title.get("font-weight") == "bold"
        # capitals and ascenders rise about 0.8 of the font's size above the baseline
        assert float(title.get("y")) - 0.8 * float(title.get("font-size")) >= top + 2


class BytesPath:
    """An os.PathLike whose path is bytes, as os.fspath allows."""

    def __init__(self, path):
        self.path = bytes(path)

    def __fspath__(self):
        return self.path


def test_render_takes_bytes_paths_and_refuses_what_is_no_file_name(tmp_path):
    J = course_graph()["J"]
    written = viz.render(J, bytes(tmp_path / "graph.dot"))
    assert written == tmp_path / "graph.dot"
    assert written.read_text(encoding="utf-8") == viz.to_dot(J)
    assert viz.render(J, BytesPath(tmp_path / "other.gv")) == tmp_path / "other.gv"
    assert (tmp_path / "other.gv").read_text(encoding="utf-8") == viz.to_dot(J)
    for path in (None, 5, ["graph.png"]):
        with pytest.raises(viz.OptionTypeError, match="^viz.render: path must be a file name"):
            viz.render(J, path)
        with pytest.raises(TypeError):
            viz.render(J, path)
    with pytest.raises(viz.OptionError, match=r"^viz.render: path is empty; give a file name"):
        viz.render(J, "")
    with pytest.raises(viz.OptionError, match=r"new/' is a folder, not a file; .*new/graph"):
        viz.render(J, f"{tmp_path}/new/")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.dot", "other.gv"]
