"""`draw`: a tape (or a tensor on it, or a learner-check report) as a Graphviz drawing."""
from __future__ import annotations

from visuals import style
from visuals.cell_graph import build_cell_graph, plan_cells
from visuals.colors import GradientScale
from visuals.dot import Html, html_escape, write_dot
from visuals.drawing import Drawing
from visuals.notation import caption, check_lang, name_html
from visuals.op_graph import build_op_graph
from visuals.painter import Painter
from visuals.source import path_to_targets, resolve

LEVELS = ("op", "cell")
RANKDIRS = ("LR", "TB", "RL", "BT")


def draw(obj, level: str = "op", grads: bool = False, highlight=(), lang: str = "en", rankdir: str = "LR",
         values: bool = False, repeat_params: bool = False, params: bool = False, backward: bool = False,
         compact: bool = True, title: str | None = None, target=None, name: str = "tinytape") -> Drawing:
    """Draw a tape; returns a `Drawing` (DOT text in `.source`; `.save("x.svg")`, inline SVG in
    Jupyter, `.to_graphviz()` for a `graphviz.Digraph` — see visuals/drawing.py for why it is
    not a Digraph itself).

    obj: a `tinytape.Tape` after recording (persistent, to draw after the backward pass), or a
        learner-check report (`.tape`, `.disagreeing_records`, optional `.target_keys`,
        `.wrong_keys`, `.output_names`): its disagreeing records are highlighted with their
        path to the outputs. A Tensor alone does not know its tape: `draw(tape, target=loss)`.
    level: "op" (a node per value and per operation, a cluster per scope) or "cell" (each
        time-step scope collapsed to one box, values only where they cross between boxes).
    grads: colour values by log ‖∂L/∂value‖ and print the norm (needs
        `tape.gradient(..., retain_all=True)` first); backward=True adds dashed backward edges.
    highlight: keys, tensors, names (`"h<3>"`) or records; they and their path to the loss
        (or to `target`) are outlined in red.
    lang: "en" or "es" for captions. values: add a value summary to each value node.
    repeat_params: op level, draw a parameter once per scope instead of once overall.
    params: cell level, draw the shared parameters as nodes (otherwise listed in the caption).
    compact: op level, draw unnamed intermediate values as small dots coloured by their
        gradient (shape and norm in the SVG tooltip); compact=False labels every value.
    title: a title above the drawing. target: the value highlighted paths end at (default: the
        last value recorded, the loss). name: the DOT graph's name.
    """
    if level not in LEVELS:
        raise ValueError(f"visuals.draw: level={level!r}; use 'op' (every operation) or 'cell' (one box per time step)")
    if rankdir not in RANKDIRS:
        raise ValueError(f"visuals.draw: rankdir={rankdir!r}; use one of {', '.join(RANKDIRS)}")
    check_lang(lang)
    subject = resolve(obj, highlight, target)
    view = subject.view
    if grads and not view.grads:
        raise ValueError(
            "visuals.draw(grads=True): this tape holds no value gradients; run "
            "`tape.gradient(loss, params, retain_all=True)` on a persistent tape first")
    start_keys, start_records = subject.highlight_keys, subject.highlight_records
    if start_keys or start_records:
        path_keys, path_records = path_to_targets(view, start_keys, start_records, subject.target_keys)
    else:
        path_keys, path_records = set(), set()
    if subject.marked_keys:  # a report's inputs with wrong gradients: outlined, no path of their own
        path_keys = path_keys | subject.marked_keys

    plan = plan_cells(view) if level == "cell" else None
    shown = plan.shown_keys + (plan.param_keys if params else []) if plan else list(view.order)
    scale = GradientScale([n for n in (view.grad_norm(k) for k in shown) if n is not None]) if grads else None
    painter = Painter(view, grads, scale, path_keys, path_records, start_keys, values, compact, start_records)
    if plan is None:
        model = build_op_graph(view, painter, repeat_params, backward and grads, lang)
    else:
        model = build_cell_graph(view, plan, painter, params, backward, lang)

    model.graph_attrs = {**style.GRAPH, "rankdir": rankdir}
    highlight_note = ("highlight_report" if subject.from_report else "highlight") if (path_keys or path_records) else None
    label = _graph_label(title, scale, highlight_note, plan, params, view, lang)
    if label:
        model.graph_attrs["label"] = label
    model.node_defaults = dict(style.NODE)
    model.edge_defaults = dict(style.EDGE)
    return Drawing(write_dot(model, name), name=name, n_nodes=len(model.nodes), n_edges=len(model.edges),
                   n_clusters=model.cluster_count)


def _graph_label(title, scale, highlight_note, plan, params, view, lang) -> Html | None:
    """Title, gradient legend, highlight note and shared-parameter list, as rows of one HTML table."""
    rows = []
    if title:
        rows.append(f'<FONT POINT-SIZE="16"><B>{html_escape(title)}</B></FONT>')
    if plan is not None and plan.param_keys and not params:
        names = ", ".join(name_html(view.names.get(k, f"#{k}")) for k in plan.param_keys)
        rows.append(f'<FONT POINT-SIZE="11">{html_escape(caption("shared", lang))}: {names}</FONT>')
    if scale is not None:
        rows.append(scale.legend_html(lang, face=style.FONT))
    if highlight_note:
        rows.append(f'<FONT POINT-SIZE="11" COLOR="{style.HIGHLIGHT}">{html_escape(caption(highlight_note, lang))}</FONT>')
    if not rows:
        return None
    body = "".join(f"<TR><TD>{row}</TD></TR>" for row in rows)
    return Html(f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2">{body}</TABLE>')
