"""Rendering: each format through the available renderer, the DOT-only path without one,
the timeout, the Drawing object (save, Jupyter's SVG, graphviz.Digraph), demo drawings."""
from __future__ import annotations

import importlib
import warnings

import pytest

from _dot_parse import ParsedDot
from visuals import Drawing, draw_cell, write_demo_drawings
from visuals.render import RendererUnavailable, RenderError, RenderTimeout

render_module = importlib.import_module("visuals.render")  # `visuals.render` itself is the function

MAGIC = {"svg": b"<svg", "png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-"}


@pytest.fixture(scope="module")
def lstm_drawing() -> Drawing:
    return draw_cell("lstm", steps=2, level="op", grads=True)


@pytest.fixture
def renderer():
    name = render_module.find_renderer()
    if name is None:
        pytest.skip("no Graphviz renderer here (neither pygraphviz nor `dot`): the DOT-only tests cover this case")
    return name


@pytest.mark.parametrize("fmt", ["svg", "png", "pdf"])
def test_each_format_renders_to_its_file_type(lstm_drawing, renderer, tmp_path, fmt):
    path = lstm_drawing.save(tmp_path / f"graph.{fmt}")
    data = path.read_bytes()
    if fmt == "svg":
        assert data.lstrip().startswith(b"<?xml") and MAGIC["svg"] in data[:2000]
        assert "h⟨1⟩" in data.decode("utf-8")  # labels survive into the picture
    else:
        assert data.startswith(MAGIC[fmt])


def test_pygraphviz_renders_without_dot_on_path(lstm_drawing, monkeypatch):
    pytest.importorskip("pygraphviz", reason="pygraphviz is the pip-only renderer")
    monkeypatch.setenv("PATH", "")  # no `dot` program anywhere
    assert render_module.find_renderer() == "pygraphviz"
    assert lstm_drawing.pipe("png").startswith(MAGIC["png"])


def test_dot_only_path_without_a_renderer(lstm_drawing, monkeypatch, tmp_path):
    monkeypatch.setattr(render_module, "find_renderer", lambda: None)
    with pytest.raises(RendererUnavailable, match="pip install pygraphviz"):
        lstm_drawing.save(tmp_path / "graph.svg")
    assert not (tmp_path / "graph.svg").exists()
    dot_path = lstm_drawing.save(tmp_path / "graph.dot")
    assert dot_path.read_text(encoding="utf-8") == lstm_drawing.source
    fresh = Drawing(lstm_drawing.source)
    with pytest.warns(UserWarning, match="No Graphviz renderer"):
        assert fresh._repr_svg_() is None  # Jupyter then shows the text repr
    assert "nodes" in repr(fresh)


def test_a_slow_layout_times_out_with_advice(renderer):
    big = draw_cell("lstm", steps=3, level="op")
    with pytest.raises(RenderTimeout, match="level='cell'") as caught:
        big.pipe("svg", timeout=0.001)  # the child process cannot even start in 1 ms
    assert "nodes" in str(caught.value)


def test_graphviz_errors_are_reported(renderer):
    with pytest.raises(RenderError, match="failed to render"):
        render_module.render("digraph { a -> }", "svg")


def test_bad_formats_are_named(lstm_drawing, tmp_path):
    with pytest.raises(ValueError, match="cannot tell the format"):
        lstm_drawing.save(tmp_path / "graph.jpg")
    with pytest.raises(ValueError, match="'gif' is not supported"):
        lstm_drawing.pipe("gif")


def test_repr_svg_for_jupyter(lstm_drawing, renderer):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        svg = Drawing(lstm_drawing.source)._repr_svg_()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg


def test_to_graphviz_gives_a_digraph_with_the_same_graph(lstm_drawing):
    graphviz = pytest.importorskip("graphviz", reason="the graphviz package is an optional view")
    digraph = lstm_drawing.to_graphviz()
    assert isinstance(digraph, graphviz.Digraph)
    mine, theirs = ParsedDot(lstm_drawing.source), ParsedDot(digraph.source)
    assert mine.nodes == theirs.nodes and mine.edges == theirs.edges and mine.clusters == theirs.clusters


def test_demo_drawings_are_written(tmp_path):
    paths = write_demo_drawings(tmp_path)
    assert [p.stem for p in paths] == ["lstm_unrolled_cells", "lstm_one_step_ops"]
    suffix = ".svg" if render_module.find_renderer() else ".dot"
    assert all(p.suffix == suffix and p.stat().st_size > 1000 for p in paths)


def test_demo_drawings_fall_back_to_dot(tmp_path, monkeypatch):
    monkeypatch.setattr(render_module, "find_renderer", lambda: None)
    paths = write_demo_drawings(tmp_path)
    assert [p.suffix for p in paths] == [".dot", ".dot"]
    assert paths[0].read_text(encoding="utf-8").startswith("digraph")
