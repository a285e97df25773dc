"""`Drawing`: the DOT source of a tape drawing, and ways to render, save and display it.

Why not return a `graphviz.Digraph` directly: Digraph renders by running a `dot` program
on PATH, which a pip-only install does not have (the pygraphviz wheel carries Graphviz as
a library, not a command). A Drawing renders through visuals.render (dot, else pygraphviz,
with a timeout) and still gives a Digraph when wanted: `drawing.to_graphviz()`.
"""
from __future__ import annotations

import warnings
from pathlib import Path

from visuals.render import DEFAULT_TIMEOUT, RenderError, check_format, render

SAVE_FORMATS = ("svg", "png", "pdf", "dot", "gv")


class Drawing:
    """DOT text plus counts; `.save(path)`, `.pipe(format)`, inline SVG in Jupyter."""

    def __init__(self, source: str, *, name: str = "tinytape", n_nodes: int = 0, n_edges: int = 0,
                 n_clusters: int = 0):
        self.source = source
        self.name = name
        self.n_nodes, self.n_edges, self.n_clusters = n_nodes, n_edges, n_clusters
        self._svg_cache: str | None = None

    def __str__(self) -> str:
        return self.source

    def __repr__(self) -> str:
        return (f"<Drawing {self.name!r}: {self.n_nodes} nodes, {self.n_edges} edges, "
                f"{self.n_clusters} clusters; .source is the DOT text, .save('x.svg') renders>")

    @property
    def size_hint(self) -> str:
        return f"{self.n_nodes} nodes, {self.n_edges} edges, {self.n_clusters} clusters"

    def pipe(self, format: str = "svg", timeout: float | None = DEFAULT_TIMEOUT) -> bytes:
        """The rendered bytes (raises visuals.render's errors: unavailable, timeout, Graphviz failure)."""
        return render(self.source, format, timeout=timeout, size_hint=self.size_hint)

    def save(self, path, format: str | None = None, timeout: float | None = DEFAULT_TIMEOUT) -> Path:
        """Write the drawing; the format comes from the suffix unless given (`.dot`/`.gv` = DOT text)."""
        path = Path(path)
        fmt = (format or path.suffix.lstrip(".")).lower()
        if fmt not in SAVE_FORMATS:
            raise ValueError(
                f"Drawing.save: cannot tell the format of {str(path)!r}; give a file name ending in "
                f"{', '.join('.' + f for f in SAVE_FORMATS[:4])} or pass format=")
        if fmt in ("dot", "gv"):
            path.write_text(self.source, encoding="utf-8")
        else:
            path.write_bytes(self.pipe(check_format(fmt), timeout=timeout))
        return path

    def _repr_svg_(self) -> str | None:
        """Jupyter's inline display. Without a renderer, returns None (Jupyter shows the repr) and warns once."""
        if self._svg_cache is None:
            try:
                self._svg_cache = self.pipe("svg").decode("utf-8")
            except RenderError as error:
                warnings.warn(str(error), stacklevel=2)
                return None
        return self._svg_cache

    def to_graphviz(self):
        """A `graphviz.Digraph` with the same source (its own rendering needs `dot` on PATH)."""
        import graphviz

        lines = self.source.rstrip("\n").splitlines()
        return graphviz.Digraph(name=self.name, body=[line + "\n" for line in lines[1:-1]])
