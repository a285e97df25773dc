"""visuals: Graphviz drawings of tapes and matplotlib plots.

    >>> from visuals import draw, draw_cell
    >>> drawing = draw(tape, level="op", grads=True)    # a recorded tinytape.Tape
    >>> drawing.source                                  # DOT text, always
    >>> drawing.save("graph.svg")                       # .svg .png .pdf (needs pygraphviz or dot), .dot
    >>> draw_cell("lstm", steps=4, level="cell").save("lstm.pdf")

`render(source_or_drawing, format)` gives the rendered bytes. The plots are in
`visuals.plots` (imported on demand: it needs matplotlib).

Note: `visuals.render` (this package's attribute) is the function; the module that
holds it is `importlib.import_module("visuals.render")`.
"""
from visuals.draw import draw
from visuals.drawing import Drawing
from visuals.problems import draw_cell, small_problem, write_demo_drawings
from visuals.render import RenderError, RendererUnavailable, RenderTimeout, render

__all__ = ["draw", "draw_cell", "render", "Drawing", "small_problem", "write_demo_drawings",
           "RenderError", "RendererUnavailable", "RenderTimeout"]
