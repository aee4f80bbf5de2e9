"""Backprop in motion: one frame per backward step, and the animated GIF."""
import importlib
import io
import json
import re

import pytest
from PIL import Image
from viz_helpers import course_graph, edges, node_ids, node_label, two_layer_net

import graphgrad as gg
import viz
from viz import styles
from viz.render import picture
from viz.walk import snapshot

animate_module = importlib.import_module("viz.animate")  # viz.animate is the function


def visible_red_edges(source: str) -> list[tuple[str, str, str]]:
    """The backward edges a frame shows (the others are drawn transparent)."""
    lines = source[source.index("subgraph backward"):].splitlines()
    shown = []
    for (tail, head, label) in edges(source)[1]:
        line = next(x for x in lines if re.match(rf"\s*{tail} -> {head}\b", x)
                    and (not label or label in x))
        if "transparent" not in line:
            shown.append((tail, head, label))
    return shown


def test_one_frame_per_backward_step_after_the_forward_pass():
    parts = course_graph()
    frames = [frame.source for frame in viz.backprop_frames(parts["J"])]
    assert len(frames) == 1 + 3  # the forward pass, then Mul(3, v), Add, Mul(b, c)
    ids = node_ids(frames[0])
    J, v, a, u, b, c = (ids[n] for n in "Jvaubc")

    assert visible_red_edges(frames[0]) == []
    assert visible_red_edges(frames[1]) == [(J, "op3", ""), ("op3", v, "1: dv = 3")]
    assert visible_red_edges(frames[2])[2:] == [
        (v, "op2", ""), ("op2", a, "2: da = 3"), ("op2", u, "3: du = 3")]
    assert visible_red_edges(frames[3]) == edges(frames[3])[1]

    # Every frame lays out the same nodes and edges; only colours change.
    def structure(source):
        return [re.sub(r"\[.*", "", line).rstrip() for line in source.splitlines()]

    for frame in frames[1:]:
        assert structure(frame) == structure(frames[0])

    # A dvar appears once every gradient flowing into it has arrived.
    hidden = f'<font color="{styles.HIDDEN}">'
    assert hidden + "dJ = 1" in frames[0] and hidden + "dv = 3" in frames[0]
    assert hidden + "dv = 3" not in frames[1] and hidden + "da = 3" in frames[1]
    assert hidden not in re.sub(r"subgraph backward.*", "", frames[3], flags=re.S)
    assert node_label(frames[3], a).endswith("da = 3")

    # The step being taken is drawn bold, its op outlined in red, and the caption says so.
    assert re.search(r'op2 -> \w+ \[label=<2: da = 3> penwidth=2.5\]', frames[2])
    assert re.search(r'op2 \[label=.*color="#d62728".*penwidth=2.5', frames[2])
    assert "backward step 2 of 3: Add" in frames[2]
    assert "forward pass: 3 backward steps to go" in frames[0]
    y = gg.Tensor(2.0, requires_grad=True) * 3
    y.backward()
    assert "forward pass: 1 backward step to go" in next(viz.backprop_frames(y)).source


def laid_out(frame) -> tuple[str, dict[str, str]]:
    """Where Graphviz puts a frame: its bounding box and each node's position."""
    layout = json.loads(frame.pipe(format="json"))
    return layout["bb"], {node["name"]: node["pos"] for node in layout["objects"]
                          if "pos" in node}


@pytest.mark.parametrize("legend", [False, True])
def test_every_frame_puts_every_node_in_the_same_place(legend):
    a = gg.Tensor(5.0, requires_grad=True, name="a")
    b = gg.Tensor(3.0, requires_grad=True, name="b")
    J = a * b  # narrower than its captions: the caption's width decides the picture's
    J.backward()
    frames = list(viz.backprop_frames(J, legend=legend, rankdir="TB"))
    first = laid_out(frames[0])
    assert len(first[1]) == 4  # a, b, Mul, J
    assert [laid_out(frame) for frame in frames[1:]] == [first] * (len(frames) - 1)


def test_frames_count_the_backward_steps_of_a_network():
    J = two_layer_net()
    steps = len(snapshot([J]).steps)
    assert steps == 14  # 3 ops per layer, 8 in the cost: backward ran each once
    assert sum(1 for _ in viz.backprop_frames(J, collapse=True)) == 1 + steps


def test_animate_writes_a_looping_gif_with_a_frame_per_step(tmp_path):
    J = course_graph()["J"]
    path = viz.animate(J, tmp_path / "backprop.gif", seconds_per_step=0.5, hold_last=2)
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.is_animated
        assert gif.n_frames == 4
        durations = []
        for index in range(gif.n_frames):
            gif.seek(index)
            durations.append(gif.info["duration"])
        assert durations == [500, 500, 500, 2000]
        assert gif.info.get("loop") == 0


def test_an_interrupted_animation_leaves_the_one_written_before(tmp_path, monkeypatch):
    J = course_graph()["J"]
    path = viz.animate(J, tmp_path / "backprop.gif")
    before = path.read_bytes()
    save = Image.Image.save

    def save_then_interrupt(image, target, *args, **kwargs):
        save(image, target, *args, **kwargs)  # the frames reach the disk, then Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr(Image.Image, "save", save_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        viz.animate(J, path, seconds_per_step=2.0)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["backprop.gif"]  # no half-written file


def test_frames_need_a_recorded_backward_pass():
    with pytest.raises(viz.NoBackwardError, match=r"J.backward\(\)"):
        next(viz.backprop_frames(course_graph(backward=False)["J"]))
    x = gg.Tensor(2.0, requires_grad=True)
    y = x * x
    gg.grad(y, x)
    with pytest.raises(viz.NoBackwardError):
        next(viz.backprop_frames(y))
    with pytest.raises(viz.OptionError, match="backward_steps"):
        next(viz.backprop_frames(course_graph()["J"], backward_steps=1))


def test_part_of_a_graph_counts_its_own_steps_from_the_first():
    parts = course_graph()
    v = parts["v"]
    source = viz.to_dot(v)
    assert [label for *_, label in edges(source)[1] if label] == [
        "1: da = 3", "2: du = 3", "3: db = 6", "4: dc = 9"]
    frames = [frame.source for frame in viz.backprop_frames(v)]
    assert len(frames) == 1 + 2
    ids = node_ids(frames[1])
    assert visible_red_edges(frames[1]) == [
        (ids["v"], "op2", ""), ("op2", ids["a"], "1: da = 3"), ("op2", ids["u"], "2: du = 3")]


def test_animate_scales_frames_down_to_the_largest_side_keeping_their_shape(
    tmp_path, monkeypatch
):
    J = course_graph()["J"]
    first_frame = next(viz.backprop_frames(J))
    with Image.open(io.BytesIO(picture(first_frame, "png"))) as whole:
        natural = whole.size
    assert natural[0] > 2 * natural[1] > 400
    monkeypatch.setattr(animate_module, "MAX_FRAME_SIDE", 400)  # small frames, quick to test
    with Image.open(viz.animate(J, tmp_path / "small.gif")) as gif:
        assert gif.n_frames == 4
        assert gif.width == 400
        assert gif.height == pytest.approx(natural[1] * 400 / natural[0], abs=2)
    monkeypatch.setattr(animate_module, "MAX_FRAME_SIDE", 2 * natural[0])
    with Image.open(viz.animate(J, tmp_path / "natural.gif")) as gif:
        assert gif.size == natural  # a picture that fits is drawn as it is


def test_animate_hands_pillow_the_frames_one_at_a_time(tmp_path, monkeypatch):
    saved = {}
    save = Image.Image.save

    def spy(image, path, *args, append_images=(), **kwargs):
        saved["first"] = image.mode
        saved["lazy"] = iter(append_images) is append_images  # an iterator, not a list
        saved["rest"] = []

        def watched():
            for frame in append_images:
                saved["rest"].append((frame.mode, frame.size))
                yield frame

        save(image, path, *args, append_images=watched(), **kwargs)

    monkeypatch.setattr(Image.Image, "save", spy)
    path = viz.animate(course_graph()["J"], tmp_path / "backprop.gif")
    with Image.open(path) as gif:
        size = gif.size
        assert gif.n_frames == 4
    assert saved["lazy"] and saved["first"] == "P"
    assert saved["rest"] == [("P", size)] * 3  # padded to one size, 256 colours already


def test_animate_refuses_frames_over_its_pixel_budget_before_drawing_them(
    tmp_path, monkeypatch
):
    J = course_graph()["J"]
    drawn = []
    monkeypatch.setattr(animate_module, "picture",
                        lambda frame, fmt: drawn.append(fmt) or picture(frame, fmt))
    target = tmp_path / "new" / "backprop.gif"
    with pytest.raises(viz.AnimationTooLargeError) as refused:
        viz.animate(J, target, max_pixels=1000)
    message = str(refused.value)
    width, height = (int(n) for n in re.search(r"4 frames of (\d+) x (\d+) pixels",
                                                message).groups())
    assert width > 100 and height > 50
    assert f"hold {4 * width * height / 1e6:.0f} million pixels" in message
    assert "max_pixels=1_000" in message and "max_pixels=None" in message
    assert "collapse=True" in message and "intermediate tensor" in message
    assert drawn == ["png"]  # the first frame only
    assert not tmp_path.joinpath("new").exists()
    assert isinstance(refused.value, viz.VizError) and isinstance(refused.value, ValueError)

    drawn.clear()
    viz.animate(J, target, max_pixels=4 * width * height)  # just fits
    assert drawn == ["png"] * 4
    viz.animate(J, target, max_pixels=None)


def test_animate_names_the_scopes_to_collapse_when_frames_are_too_big(tmp_path):
    with pytest.raises(viz.AnimationTooLargeError, match="collapse='model/layer1'"):
        viz.animate(two_layer_net(), tmp_path / "net.gif", max_pixels=1000)


def test_animate_makes_missing_folders_and_writes_gif_files_only(tmp_path):
    J = course_graph()["J"]
    path = viz.animate(J, tmp_path / "new" / "dir" / "backprop.gif")
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.n_frames == 4
    with Image.open(viz.animate(J, tmp_path / "upper.GIF")) as gif:
        assert gif.format == "GIF"
    for name in ["anim.png", "anim", "anim.gif.svg"]:
        with pytest.raises(viz.RenderFormatError, match=r"must end with \.gif"):
            viz.animate(J, tmp_path / "other" / name)
    assert not tmp_path.joinpath("other").exists()


def test_a_root_that_gradients_flow_into_shows_its_dvar_once_they_have_arrived():
    a = gg.Tensor(2.0, requires_grad=True, name="a")
    h = a * 3
    h.name = "h"
    k = h * 4
    k.name = "k"
    J = k * 5
    J.name = "J"
    J.backward()
    frames = [frame.source for frame in viz.backprop_frames([J, h])]
    shown = '<font color="#d62728">dh = 20</font>'
    assert [shown in frame for frame in frames] == [False, False, True, True]
    into_h = [[label for _, head, label in visible_red_edges(frame)
               if head == node_ids(frame)["h"]] for frame in frames]
    assert into_h == [[], [], ["2: dh = 20"], ["2: dh = 20"]]
    assert ['<font color="#d62728">dJ = 1</font>' in frame for frame in frames] == [
        False, True, True, True]


def test_animate_names_its_options_when_given_an_unknown_one(tmp_path):
    J = course_graph()["J"]
    with pytest.raises(viz.UnknownOptionError) as refused:
        viz.animate(J, tmp_path / "a.gif", foo=1)
    message = str(refused.value)
    assert message.startswith("viz.animate has no option 'foo'. It takes seconds_per_step, "
                              "hold_last, max_pixels, and the drawing options: show_values,")
    assert "backward_steps" not in message and "title" not in message  # set for each frame
    with pytest.raises(viz.UnknownOptionError, match="backprop_frames has no option 'foo'"):
        next(viz.backprop_frames(J, foo=1))
    assert not tmp_path.joinpath("a.gif").exists()


@pytest.mark.parametrize("seconds", [0, -1, float("nan"), float("inf"), "1"])
def test_animate_refuses_a_time_per_step_that_is_no_positive_number(tmp_path, seconds):
    J = course_graph()["J"]
    with pytest.raises(viz.OptionError, match="seconds_per_step"):
        viz.animate(J, tmp_path / "a.gif", seconds_per_step=seconds)
    with pytest.raises(viz.OptionError, match="hold_last must be 0 or more seconds"):
        viz.animate(J, tmp_path / "a.gif", hold_last=-1)
    assert not tmp_path.joinpath("a.gif").exists()


def test_animate_refuses_a_path_that_is_a_folder(tmp_path):
    (tmp_path / "backprop.gif").mkdir()
    with pytest.raises(viz.OptionError, match="is a folder"):
        viz.animate(course_graph()["J"], tmp_path / "backprop.gif")


def test_animate_takes_a_bytes_path_and_refuses_what_is_no_file_name(tmp_path):
    J = course_graph()["J"]
    written = viz.animate(J, bytes(tmp_path / "backprop.gif"))
    assert written == tmp_path / "backprop.gif"
    with Image.open(written) as gif:
        assert gif.format == "GIF" and gif.n_frames == 4
    for path in (None, 5):
        with pytest.raises(viz.OptionTypeError, match="^viz.animate: path must be a file name"):
            viz.animate(J, path)
    with pytest.raises(viz.OptionError, match=r"^viz.animate: path is empty"):
        viz.animate(J, "")
    assert [p.name for p in tmp_path.iterdir()] == ["backprop.gif"]


@pytest.mark.parametrize("max_pixels", [-5, 0, 2.5, True, "1e6", float("inf"), 1e9])
def test_animate_refuses_a_pixel_budget_that_is_no_whole_number_of_pixels(tmp_path, max_pixels,
                                                                          monkeypatch):
    drawn = []
    monkeypatch.setattr(animate_module, "_png", lambda frame: drawn.append(frame))
    with pytest.raises(viz.OptionError, match=(
            r"^viz.animate: max_pixels must be a whole number of pixels of at least 1, or None "
            rf"never to refuse, got {re.escape(repr(max_pixels))}")):
        viz.animate(course_graph()["J"], tmp_path / "a.gif", max_pixels=max_pixels)
    assert not drawn and not list(tmp_path.iterdir())


def test_animate_says_how_to_write_a_pixel_budget_given_as_a_float(tmp_path):
    with pytest.raises(ValueError, match=r"got 1000000000.0 \(write 1_000_000_000, an int\)$"):
        viz.animate(course_graph()["J"], tmp_path / "a.gif", max_pixels=1e9)


def test_backprop_frames_refuses_what_it_cannot_draw_when_called():
    J = course_graph()["J"]
    with pytest.raises(viz.NotATensorError, match="^viz.backprop_frames draws graphgrad"):
        viz.backprop_frames(5)
    with pytest.raises(viz.OptionError, match="^viz.backprop_frames: rankdir must be one of"):
        viz.backprop_frames(J, rankdir=5)
    with pytest.raises(viz.NoBackwardError, match=r"J.backward\(\)"):
        viz.backprop_frames(course_graph(backward=False)["J"])
    assert len(list(viz.backprop_frames(J))) == 4  # the forward pass and 3 backward steps
