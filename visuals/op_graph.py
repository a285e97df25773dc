"""The op-level drawing: one node per value, one per recorded operation, edges in data-flow order.

Node ids are stable between runs: `v<n>` where n numbers values by first appearance on the
tape, `op<i>` for record i. A parameter (watched leaf) is drawn once, in the innermost
scope shared by all its uses (`lstm`, outside the time steps), with an edge to each use;
`repeat_params=True` draws a copy in each scope instead. Unnamed intermediate values are
small dots coloured by their gradient (`compact=False` labels them too).
Constant (non-tensor) arguments are not nodes: a scalar shows inside its op's label
(`1 − ·`), an array as `const(shape)`, so `1 − Γu` reads as written.
"""
from __future__ import annotations

import functools

import numpy as np

from visuals import style
from visuals.dot import GraphModel
from visuals.notation import scope_title, step_of

_MAX_INDEX_TEXT = 16


def scope_path(record) -> tuple[str, ...]:
    return _split_scope(record.scope or "")


@functools.lru_cache(maxsize=4096)
def _split_scope(scope: str) -> tuple[str, ...]:
    return tuple(part for part in scope.split("/") if part)


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
                parts.append(f"{float(np.asarray(value).reshape(-1)[0]):.3g}".replace("-", "−"))
            else:
                parts.append(f"const{style.shape_text(np.shape(value))}")
        if len(parts) == 2:
            return f"{parts[0]} {symbol} {parts[1]}"
        return f"{symbol}({', '.join(parts)})"
    axis = (record.params or {}).get("axis")
    if name in ("concatenate", "stack") and axis in (0, None):
        return symbol  # rows: [h; x], the lab's convention
    if axis is not None and name in ("sum", "mean", "max", "softmax", "log_softmax", "concatenate", "stack"):
        return f"{symbol} ax{axis}"
    return symbol


def op_node(record) -> dict:
    text = op_text(record)
    attrs = dict(style.OP_ROUND if len(text) <= 2 else style.OP_BOX)
    attrs["label"] = text
    attrs["tooltip"] = f"record {record.index}: {getattr(record.op, 'name', text)}{_site_text(record)}"
    return attrs


def _site_text(record) -> str:
    """` at lstm.py:89` for the SVG tooltip: where in the user's code the op was recorded."""
    site = getattr(record, "site", None)
    if isinstance(site, tuple) and len(site) == 2 and isinstance(site[0], str) and isinstance(site[1], int):
        return f" at {'/'.join(site[0].replace(chr(92), '/').split('/')[-2:])}:{site[1]}"
    return ""


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
    if not cluster.attrs:  # first use: style it and every enclosing scope
        node = model.root
        for depth in range(1, len(path) + 1):
            node = node.children[path[depth - 1]]
            if not node.attrs:
                prefix = path[:depth]
                node.attrs = dict(style.OUTER_CLUSTER) if prefix in outer else cluster_attrs(prefix[-1])
    return cluster


def build_op_graph(view, painter: Painter, repeat_params: bool, backward: bool, lang: str) -> GraphModel:
    model = GraphModel()
    path_keys, path_records = painter.path_keys, painter.path_records
    outer = outer_prefixes(view)
    homes = home_paths(view)

    def value_id(key):
        return f"v{view.order[key]}"

    # Keep time steps side by side: a node with no inputs inside step t (x⟨t⟩, a repeated
    # parameter) would otherwise be ranked before step t-1 ends, and Graphviz then stacks
    # the two clusters instead of placing them in time order. Invisible edges from step
    # t-1's last value to those sources prevent it.
    last_value: dict = {}  # step path -> id of its last value so far
    previous_step: dict = {}  # step path -> the step path before it under the same parent
    last_step_of_parent: dict = {}

    def place_source(node_id, path):
        before = previous_step.get(path)
        if before is not None:
            model.add_hidden_edge(last_value[before], node_id, {"minlen": 2})  # a rank of air between clusters

    for record in view.records:
        path = scope_path(record)
        cluster = add_scope_cluster(model, path, outer, lang)
        step_path = _step_prefix(path)
        if step_path is not None and step_path not in previous_step:
            parent = step_path[:-1]
            previous_step[step_path] = last_step_of_parent.get(parent)
            last_step_of_parent[parent] = step_path
        op_id = f"op{record.index}"
        attrs = op_node(record)
        on_path = record.index in path_records
        if on_path:
            attrs["color"] = style.HIGHLIGHT
            attrs["penwidth"] = 4.0 if record.index in painter.start_records else 2.5
        for key in record.inputs:
            if key is None:
                continue
            if key in view.producer:
                source = value_id(key)
            elif repeat_params and view.kind(key) == "param":
                source = f"{value_id(key)}_{cluster.ident}"
                if source not in model.nodes:
                    model.add_node(source, painter.value_attrs(key), cluster)
                    if step_path is not None:
                        place_source(source, step_path)
            else:
                source = value_id(key)
                if source not in model.nodes:
                    model.add_node(source, painter.value_attrs(key), add_scope_cluster(model, homes[key], outer, lang))
                    home_step = _step_prefix(homes[key])
                    if home_step is not None:
                        place_source(source, home_step)
            edge = {"color": style.HIGHLIGHT, "penwidth": 2.0} if on_path and key in path_keys else {}
            model.add_edge(source, op_id, edge)
            if backward:
                model.add_edge(op_id, source, painter.backward_edge(key))
        model.add_node(op_id, attrs, cluster)
        model.add_node(value_id(record.output), painter.value_attrs(record.output), cluster)
        edge = {"color": style.HIGHLIGHT, "penwidth": 2.0} if on_path else {}
        model.add_edge(op_id, value_id(record.output), edge)
        if step_path is not None:
            last_value[step_path] = value_id(record.output)
    return model


def _step_prefix(path: tuple) -> tuple | None:
    """The scope path up to and including its time-step component (`lstm/t=3`), or None."""
    for depth, component in enumerate(path):
        if step_of(component) is not None:
            return path[: depth + 1]
    return None
