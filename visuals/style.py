"""The look of a drawing: fonts, shapes and colours shared by the op and cell levels, and node labels."""
from __future__ import annotations

import numpy as np

from visuals.dot import Html, html_escape
from visuals.notation import format_norm, name_html

FONT = "Helvetica"  # Graphviz maps it per platform (Arial, Liberation Sans, ...); a list breaks HTML labels
HIGHLIGHT = "#d62728"
MUTED = "#666666"

GRAPH = {"fontname": FONT, "fontsize": 12, "nodesep": 0.22, "ranksep": 0.32, "labelloc": "t"}
NODE = {"fontname": FONT, "fontsize": 12, "height": 0.3, "margin": "0.06,0.03"}
EDGE = {"arrowsize": 0.6, "color": "#444444"}

# Clusters: time steps in pale blue, other scopes (the head, the loss) in pale sand.
STEP_CLUSTER = {"style": "rounded,filled", "fillcolor": "#f4f7fb", "color": "#9fb3c8", "fontsize": 13}
OTHER_CLUSTER = {"style": "rounded,filled", "fillcolor": "#fbf7ef", "color": "#d4c4a0", "fontsize": 13}
OUTER_CLUSTER = {"style": "rounded,dashed", "color": "#9fb3c8", "fontsize": 14}

PARAM = {"shape": "box", "style": "filled,bold", "fillcolor": "#dbe8f6", "color": "#2b6cb0"}
INPUT = {"shape": "box", "style": "rounded,filled", "fillcolor": "#e6f4ea", "color": "#3c8d50"}
VALUE = {"shape": "ellipse", "style": "filled", "fillcolor": "white", "color": "#444444"}
TARGET = {"shape": "doublecircle", "style": "filled", "fillcolor": "white", "color": "#444444"}
OP_ROUND = {"shape": "circle", "style": "filled", "fillcolor": "#eeeeee", "color": "#888888", "fixedsize": True,
            "width": 0.38, "fontsize": 14}
OP_BOX = {"shape": "box", "style": "rounded,filled", "fillcolor": "#eeeeee", "color": "#888888", "fontsize": 11}
CELL = {"shape": "box", "style": "rounded,filled,bold", "fillcolor": "#dbe8f6", "color": "#2b6cb0",
        "margin": "0.25,0.12", "fontsize": 14}
SEGMENT = {"shape": "box", "style": "rounded,filled", "fillcolor": "#f3ead7", "color": "#a08a5a", "fontsize": 12}


DOT = {"shape": "point", "width": 0.11, "style": "filled", "fillcolor": "#888888", "color": "#555555"}


def small(text: str, color: str = MUTED) -> str:
    return f'<FONT POINT-SIZE="9" COLOR="{color}">{text}</FONT>'


def shape_text(shape: tuple) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ")" if shape else "scalar"


def value_summary(value) -> str:
    """A one-line summary of an array: the number itself when scalar, else mean and range."""
    array = np.asarray(value, dtype=float)
    if array.size == 1:
        return f"{array.item():.3g}"
    if array.size == 0:
        return "empty"
    return f"μ {array.mean():.2g} [{array.min():.2g}, {array.max():.2g}]"


def value_label(name: str | None, shape: tuple, norm: float | None = None, value=None,
                font_color: str | None = None) -> Html:
    """Name (in notation), shape, and optionally the gradient norm and a value summary."""
    lines = []
    color = font_color or MUTED
    if name:
        lines.append(f"<B>{name_html(name)}</B>" if font_color is None else
                     f'<FONT COLOR="{font_color}"><B>{name_html(name)}</B></FONT>')
    if shape or not name:  # a named scalar (the loss) needs no "()"
        lines.append(small(shape_text(shape), color))
    if value is not None:
        lines.append(small(html_escape(value_summary(value)), color))
    if norm is not None:
        lines.append(small("‖g‖ " + html_escape(format_norm(norm)), color))
    return Html("<BR/>".join(lines))
