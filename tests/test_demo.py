"""The demo's pictures say what they should."""
import demo
import viz


def test_the_shallow_network_picture_shows_its_own_pass_gradients(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(demo, "OUTPUT", tmp_path)
    J = demo.shallow_network()
    assert (tmp_path / "shallow_network_graph.png").stat().st_size > 0
    source = viz.to_dot(J)
    # the training's last gradients were reset: each parameter's dvar is this pass's only,
    # what the red edges into it add up to, so no box carries a note
    assert "red edges" not in source and "accumulated" not in source
    assert "<b>J</b>" in source
