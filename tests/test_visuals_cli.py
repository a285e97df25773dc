"""`tinytape draw` end to end, through a subprocess as a user runs it."""
from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from _dot_parse import ParsedDot

REPO = Path(__file__).resolve().parents[1]
HAS_RENDERER = importlib.import_module("visuals.render").find_renderer() is not None
needs_renderer = pytest.mark.skipif(not HAS_RENDERER, reason="no Graphviz renderer (pygraphviz or dot) installed")


def tinytape_draw(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "lessons.cli", "draw", *map(str, args)], cwd=cwd or REPO,
                          capture_output=True, text=True, timeout=120)


@needs_renderer
def test_the_issue_example_writes_a_pdf(tmp_path):
    done = tinytape_draw("lstm", "--steps", 4, "--level", "cell", "-o", tmp_path / "lstm.pdf")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "lstm.pdf").read_bytes().startswith(b"%PDF-")
    assert "wrote" in done.stdout


@needs_renderer
def test_op_level_with_gradients_as_png(tmp_path):
    done = tinytape_draw("gru", "--steps", 2, "--level", "op", "--grads", "--lang", "es", "-o", tmp_path / "g.png")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "g.png").read_bytes().startswith(b"\x89PNG")


def test_dot_format_from_the_flag_and_default_name(tmp_path):
    done = tinytape_draw("rnn", "--steps", 3, "--format", "dot", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    parsed = ParsedDot((tmp_path / "rnn_cell_T3.dot").read_text(encoding="utf-8"))
    assert len(parsed.ids_with("t = ")) == 3


def test_no_renderer_falls_back_to_dot_with_a_message(tmp_path):
    script = (
        "import importlib, sys\n"
        "importlib.import_module('visuals.render').find_renderer = lambda: None\n"
        "from lessons.cli import main\n"
        f"sys.exit(main(['draw', 'lstm', '-o', {str(tmp_path / 'x.svg')!r}]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "pip install pygraphviz" in done.stderr
    assert (tmp_path / "x.dot").read_text(encoding="utf-8").startswith("digraph")


@pytest.mark.parametrize("args, message", [
    (["lsmt"], "invalid choice: 'lsmt'"),
    (["lstm", "--steps", "0"], "--steps must be between 1"),
    (["lstm", "--steps", "four"], "invalid int value"),
    (["lstm", "--level", "ops"], "invalid choice: 'ops'"),
    (["lstm", "-o", "x.jpg"], "cannot tell the format"),
    (["lstm", "-o", "x.svg", "--format", "png"], "contradicts the file name"),
    (["lstm", "--backward"], "needs --grads"),
    (["lstm", "-o", "no/such/folder/x.svg"], "does not exist"),
])
def test_bad_arguments_exit_non_zero_with_a_clear_message(tmp_path, args, message):
    done = tinytape_draw(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_help_lists_the_options():
    done = tinytape_draw("--help")
    assert done.returncode == 0
    for option in ("--steps", "--level", "--grads", "--lang", "--format", "-o"):
        assert option in done.stdout
