"""Rendering DOT text to SVG, PNG or PDF, with whatever Graphviz is available.

Order of preference (../shared/notes/dependencies.md):
1. a `dot` program on PATH (a system Graphviz);
2. pygraphviz, whose PyPI wheel carries Graphviz itself (no `dot` command needed);
3. none: the DOT text is still there, and `RendererUnavailable` says how to get pictures.

Either way the layout runs in a child process with a timeout: Graphviz's layout time grows
fast with clusters, and a C library running in-process cannot be interrupted.
"""
from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys

FORMATS = ("svg", "png", "pdf")
DEFAULT_TIMEOUT = 60.0
PNG_DPI = 150  # slide-ready without being huge

INSTALL_HINT = (
    "No Graphviz renderer found, so only the DOT text was produced. To get SVG/PNG/PDF, either "
    "`pip install pygraphviz` (its wheel includes Graphviz) or install Graphviz itself so that `dot` "
    "is on PATH (apt install graphviz / brew install graphviz / conda install graphviz). Meanwhile "
    "save the .dot file (drawing.save('graph.dot')) and run `dot -Tsvg graph.dot -o graph.svg` "
    "anywhere Graphviz exists, or paste it into an online Graphviz viewer."
)

# Runs in the child process: DOT on stdin, the rendered bytes on stdout.
_PYGRAPHVIZ_SCRIPT = (
    "import sys, pygraphviz\n"
    "graph = pygraphviz.AGraph(string=sys.stdin.buffer.read().decode('utf-8'))\n"
    "sys.stdout.buffer.write(graph.draw(format=sys.argv[1], prog='dot', args=sys.argv[2]))\n"
)


class RenderError(RuntimeError):
    """Graphviz failed on this DOT text."""


class RendererUnavailable(RenderError):
    """Neither `dot` nor pygraphviz is installed."""


class RenderTimeout(RenderError):
    """The layout took longer than the timeout."""


def find_renderer() -> str | None:
    """`"dot"`, `"pygraphviz"`, or None. Tests monkeypatch this to exercise the DOT-only path."""
    if shutil.which("dot"):
        return "dot"
    if importlib.util.find_spec("pygraphviz") is not None:
        return "pygraphviz"
    return None


def check_format(format: str) -> str:
    fmt = str(format).lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(f"visuals.render: format {format!r} is not supported; use one of {', '.join(FORMATS)} (or save as .dot)")
    return fmt


def render(source, format: str = "svg", timeout: float | None = DEFAULT_TIMEOUT, renderer: str | None = None,
           size_hint: str = "") -> bytes:
    """Lay out and render DOT text (or anything with a `.source`, e.g. a Drawing); returns the bytes.

    Raises RendererUnavailable (with install instructions), RenderTimeout (suggesting a smaller
    drawing) or RenderError (Graphviz's own message).
    """
    source = getattr(source, "source", source)
    fmt = check_format(format)
    renderer = renderer or find_renderer()
    extra = f"-Gdpi={PNG_DPI}" if fmt == "png" else ""
    if renderer == "dot":
        command = ["dot", f"-T{fmt}"] + ([extra] if extra else [])
    elif renderer == "pygraphviz":
        command = [sys.executable, "-c", _PYGRAPHVIZ_SCRIPT, fmt, extra]
    else:
        raise RendererUnavailable(INSTALL_HINT)
    try:
        done = subprocess.run(command, input=source.encode("utf-8"), capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        what = f" ({size_hint})" if size_hint else ""
        raise RenderTimeout(
            f"Graphviz did not finish laying out this drawing{what} within {timeout:g} s. "
            "Draw it at level='cell' (one box per time step) or with fewer time steps; "
            "the DOT text is still available (drawing.source, or save it as .dot)."
        ) from None
    stderr = done.stderr.decode("utf-8", "replace")
    stderr = "\n".join(line for line in stderr.splitlines() if "Fontconfig" not in line).strip()
    if done.returncode != 0 or not done.stdout:
        raise RenderError(f"Graphviz ({renderer}) failed to render {fmt}: {stderr or 'no output'}")
    return done.stdout
