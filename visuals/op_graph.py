"""The op-level drawing: one node per value, one per recorded operation, edges in data-flow order.

Node ids are stable between runs: `v<n>` where n numbers values by first appearance on the
tape, `op<i>` for record i. Parameters (watched leaves) are drawn once, outside every
cluster, with an edge to each use; `repeat_params=True` draws a copy in each scope instead.
Constant (non-tensor) arguments are not nodes: a scalar shows inside its op's label
(`1 − ·`), an array as `const(shape)`, so `1 − Γu` reads as written.
"""
from __future__ import annotations

import numpy as np

from visuals import style
from visuals.dot import GraphModel
from visuals.notation import scope_title, step_of

_MAX_INDEX_TEXT = 16


def scope_path(record) -> tuple[str, ...]:
    return tuple(part for part in (record.scope or "").split("/") if part)


def cluster_attrs(component: str) -> dict:
    return dict(style.STEP_CLUSTER if step_of(component) is not None else style.OTHER_CLUSTER)


def _index_text(index) -> str:
    parts = index if isinstance(index, tuple) else (index,)
    out = []
    for part in parts:
        if isinstance(part, slice):
            text = ":" if part == slice(None) else f"{'' if part.start is None else part.start}:{'' if part.stop is None else part.stop}"
            out.append(text + ("" if part.step is None else f":{part.step}"))
        elif part is Ellipsis:
            out.append("…")
        elif isinstance(part, (int, np.integer)):
            out.append(str(int(part)))
        else:
            out.append("·")
    text = "[" + ", ".join(out) + "]"
    return text if len(text) <= _MAX_INDEX_TEXT else text[: _MAX_INDEX_TEXT - 2] + "…]"


def op_text(record) -> str:
    """The op's symbol, with its scalar constants in place (`1 − ·`) and a few parameters."""
    op = record.op
    symbol = getattr(op, "symbol", None) or getattr(op, "name", "?")
    name = getattr(op, "name", symbol)
    if name in ("getitem", "take") and "index" in (record.params or {}):
        return _index_text(record.params["index"])
    constants = [key is None for key in record.inputs]
    if any(constants):
        parts = []
        for is_constant, value in zip(constants, record.input_values):
            if not is_constant:
                parts.append("·")
            elif np.size(value) == 1:
                parts.append(f"{float(np.asarray(value).reshape(-1)[0]):g}")
            else:
                parts.append(f"const{style.shape_text(np.shape(value))}")
        if len(parts) == 2:
            return f"{parts[0]} {symbol} {parts[1]}"
        return f"{symbol}({', '.join(parts)})"
    axis = (record.params or {}).get("axis")
    if axis is not None and name in ("sum", "mean", "max", "softmax", "log_softmax", "concatenate", "stack"):
        return f"{symbol} ax{axis}"
    return symbol


def op_node(record) -> dict:
    text = op_text(record)
    attrs = dict(style.OP_ROUND if len(text) <= 2 else style.OP_BOX)
    attrs["label"] = text
    attrs["tooltip"] = f"record {record.index}: {getattr(record.op, 'name', text)}"
    return attrs


class Painter:
    """Colours shared by both levels: gradient fills, highlight borders."""

    def __init__(self, view, grads: bool, scale, path_keys: set, path_records: set, start_keys: set, values: bool):
        self.view, self.grads, self.scale = view, grads, scale
        self.path_keys, self.path_records, self.start_keys = path_keys, path_records, start_keys
        self.values = values

    def value_attrs(self, key: int) -> dict:
        view = self.view
        kind = view.kind(key)
        base = style.PARAM if kind == "param" else style.INPUT if kind == "input" else style.VALUE
        if key == view.final_key and kind == "value":
            base = style.TARGET
        attrs = dict(base)
        norm = style.grad_norm(view.grads, key) if self.grads else None
        font_color = None
        if norm is not None:
            attrs["fillcolor"] = self.scale.fill(norm)
            font_color = self.scale.font_color(norm)
        value = None
        if self.values:
            record = view.producer.get(key)
            value = record.value if record is not None else view.leaves.get(key)
        attrs["label"] = style.value_label(view.names.get(key), view.shapes.get(key, ()), norm, value, font_color)
        if key in self.path_keys:
            attrs["color"] = style.HIGHLIGHT
            attrs["penwidth"] = 3.5 if key in self.start_keys else 2.5
        return attrs

    def backward_edge(self, key: int) -> dict:
        """A dashed edge against the data flow, coloured by the gradient it carries."""
        norm = style.grad_norm(self.view.grads, key)
        color = self.scale.fill(norm) if norm is not None else "#bbbbbb"
        return {"style": "dashed", "color": color, "constraint": False, "arrowhead": "vee", "penwidth": 1.5}


def outer_prefixes(view) -> set:
    """Scope prefixes that contain a time step below them (drawn as a dashed frame, not filled)."""
    prefixes = set()
    for record in view.records:
        path = scope_path(record)
        for depth, component in enumerate(path):
            if step_of(component) is not None:
                prefixes.update(path[:i] for i in range(1, depth + 1))
                break
    return prefixes


def home_paths(view) -> dict:
    """Where a parameter or outside input sits: the longest scope prefix shared by all its uses."""
    homes: dict = {}
    for record in view.records:
        path = scope_path(record)
        for key in record.inputs:
            if key is None or key in view.producer:
                continue
            home = homes.get(key)
            if home is None:
                homes[key] = path
            elif home != path[: len(home)]:
                common = 0
                while common < min(len(home), len(path)) and home[common] == path[common]:
                    common += 1
                homes[key] = home[:common]
    return homes


def add_scope_cluster(model: GraphModel, path: tuple, outer: set, lang: str):
    """The cluster for a scope path (nested, created in first-appearance = time order)."""
    if not path:
        return model.root
    cluster = model.cluster_for(path, lambda component: scope_title(component, lang))
    if not cluster.attrs:
        cluster.attrs = dict(style.OUTER_CLUSTER) if path in outer else cluster_attrs(path[-1])
    return cluster


def build_op_graph(view, painter: Painter, repeat_params: bool, backward: bool, lang: str) -> GraphModel:
    model = GraphModel()
    path_keys, path_records = painter.path_keys, painter.path_records
    outer = outer_prefixes(view)
    homes = home_paths(view)

    def value_id(key):
        return f"v{view.order[key]}"

    for record in view.records:
        cluster = add_scope_cluster(model, scope_path(record), outer, lang)
        op_id = f"op{record.index}"
        attrs = op_node(record)
        on_path = record.index in path_records
        if on_path:
            attrs["color"] = style.HIGHLIGHT
            attrs["penwidth"] = 2.5
        for key in record.inputs:
            if key is None:
                continue
            if key in view.producer:
                source = value_id(key)
            elif repeat_params and view.kind(key) == "param":
                source = f"{value_id(key)}_{cluster.ident}"
                if source not in model.nodes:
                    model.add_node(source, painter.value_attrs(key), cluster)
            else:
                source = value_id(key)
                if source not in model.nodes:
                    model.add_node(source, painter.value_attrs(key), add_scope_cluster(model, homes[key], outer, lang))
            edge = {"color": style.HIGHLIGHT, "penwidth": 2.0} if on_path and key in path_keys else {}
            model.add_edge(source, op_id, edge)
            if backward:
                model.add_edge(op_id, source, painter.backward_edge(key))
        model.add_node(op_id, attrs, cluster)
        model.add_node(value_id(record.output), painter.value_attrs(record.output), cluster)
        edge = {"color": style.HIGHLIGHT, "penwidth": 2.0} if on_path else {}
        model.add_edge(op_id, value_id(record.output), edge)
    return model
