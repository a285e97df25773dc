"""The cell-level drawing: each time step collapsed to one box, the classic unrolled picture
(the thesis's Figure 4-1): x⟨t⟩, h⟨t−1⟩, c⟨t−1⟩ in, h⟨t⟩, c⟨t⟩ (and ŷ⟨t⟩) out.

A *group* is what becomes one box:
- every record under a time-step scope (a component `t=N`, and anything nested in it)
  belongs to that step's cell;
- outside time steps, the records between two named values form one box (so the head
  reads h⟨T⟩ → [output layer] → ŷ → [loss] → L).
Values are drawn only where they cross from one box to another, plus named outputs
nobody consumes (c⟨T⟩) and the loss. Parameters are listed in the caption (they are
shared by every step); `params=True` draws them as nodes with an edge to each box.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from visuals import style
from visuals.dot import GraphModel, Html, html_escape
from visuals.notation import KIND_NAMES, caption, is_state_name, layer_mark, split_name, step_of
from visuals.op_graph import scope_path

_OUTPUT_NAMES = {"ŷ": "output", "L": "loss"}


@dataclass
class Group:
    ident: str
    step: int | None
    kind: str  # the scope component above the step (`lstm`), or the scope of a segment
    parent: tuple = ()  # a cell's scope path above its step (`("l2", "lstm")`): one sequence
    records: list = field(default_factory=list)


@dataclass
class CellPlan:
    groups: dict  # group key -> Group, in first-appearance order
    group_of_record: dict  # record index -> group key
    shown_keys: list  # values drawn, in first-appearance order
    edges: list  # (source, target) where each is ("g", group key) or ("v", value key)
    param_keys: list  # parameters used (listed in the caption or drawn with params=True)


def _group_key(record, counters: dict) -> tuple:
    path = scope_path(record)
    for depth, component in enumerate(path):
        if step_of(component) is not None:
            return ("cell", path[: depth + 1])
    return ("segment", path, counters.get(path, 0))


def plan_cells(view) -> CellPlan:
    groups: dict = {}
    group_of_record: dict = {}
    produced_in: dict = {}
    counters: dict = {}
    for record in view.records:
        key = _group_key(record, counters)
        group = groups.get(key)
        if group is None:
            if key[0] == "cell":
                path = key[1]
                kind = path[-2] if len(path) >= 2 else ""
                group = Group(f"g{len(groups)}", step_of(path[-1]), kind, path[:-1])
            else:
                group = Group(f"g{len(groups)}", None, "/".join(key[1]))
            groups[key] = group
        group.records.append(record)
        group_of_record[record.index] = key
        produced_in[record.output] = key
        if key[0] == "segment" and record.output in view.names:
            counters[key[1]] = key[2] + 1  # a named value closes the segment

    shown: dict = {}
    edges: dict = {}
    params: dict = {}
    for record in view.records:
        target = ("g", group_of_record[record.index])
        for key in record.inputs:
            if key is None:
                continue
            source_group = produced_in.get(key)
            if source_group is None:
                if view.kind(key) == "param":
                    params[key] = None
                    continue
                shown[key] = None
                edges[(("v", key), target)] = None
            elif source_group != target[1]:
                shown[key] = None
                edges[(("g", source_group), ("v", key))] = None
                edges[(("v", key), target)] = None
    for key, group_key in produced_in.items():
        unused = view.consumers.get(key, 0) == 0
        state = group_key[0] == "cell" and is_state_name(view.names.get(key))
        if key == view.final_key or state or (unused and key in view.names):
            shown[key] = None
            edges[(("g", group_key), ("v", key))] = None
    for key, group_key in produced_in.items():
        if key in shown:
            edges[(("g", group_key), ("v", key))] = None
    param_keys = [key for key in view.leaves if key in params]
    shown_keys = sorted(shown, key=view.order.get)
    return CellPlan(groups, group_of_record, shown_keys, list(edges), param_keys)


def group_label(group: Group, view, lang: str) -> Html:
    if group.step is not None:
        kind = html_escape(KIND_NAMES.get(group.kind, group.kind))
        mark = layer_mark(group.parent[-2]) if len(group.parent) >= 2 else ""  # LSTM^[2], RNN^←
        if mark:
            kind += f"<SUP>{html_escape(mark)}</SUP>"
        head = f"<B>{kind}</B><BR/>" if kind else ""
        return Html(f"{head}t = {group.step}")
    last = group.records[-1]
    name = view.names.get(last.output)
    if name is not None:
        symbol = split_name(name)[0]
        if symbol in _OUTPUT_NAMES:
            return Html(html_escape(caption(_OUTPUT_NAMES[symbol], lang)))
        # a named value made outside the steps, e.g. the LSTM's stacked weights
        # (scope "lstm/weights", value "W_stacked"): say what the group makes
        scope = group.kind.rsplit("/", 1)[-1]
        return Html(html_escape(f"{scope}: {name}" if scope else name))
    symbols = [getattr(r.op, "symbol", None) or r.op.name for r in group.records]
    text = " ".join(symbols[:4]) + (" …" if len(symbols) > 4 else "")
    return Html(html_escape(text))


def build_cell_graph(view, plan: CellPlan, painter, draw_params: bool, backward: bool, lang: str) -> GraphModel:
    model = GraphModel()
    path_keys, path_records = painter.path_keys, painter.path_records
    on_path_groups = {plan.group_of_record[i] for i in path_records}
    # Where the highlight starts (a disagreeing record, a highlighted value): the thickest outline.
    start_groups = {plan.group_of_record[i] for i in painter.start_records}
    start_groups |= {plan.group_of_record[view.producer[k].index] for k in painter.start_keys if k in view.producer}

    def node_id(end):
        return plan.groups[end[1]].ident if end[0] == "g" else f"v{view.order[end[1]]}"

    # Nodes in first-appearance order so Graphviz keeps time order left to right.
    pending = {key: None for key in plan.shown_keys}
    for group_key, group in plan.groups.items():
        for record in group.records:
            for key in record.inputs:
                if key in pending:
                    model.add_node(f"v{view.order[key]}", painter.value_attrs(key))
                    del pending[key]
        attrs = dict(style.CELL if group.step is not None else style.SEGMENT)
        attrs["label"] = group_label(group, view, lang)
        if group_key in on_path_groups:
            attrs["color"] = style.HIGHLIGHT
            attrs["penwidth"] = 5.0 if group_key in start_groups else 3.0
        model.add_node(group.ident, attrs)
    for key in pending:
        model.add_node(f"v{view.order[key]}", painter.value_attrs(key))

    steps = _time_positions(view, plan)
    against_time = _values_flowing_back(view, plan, steps)
    for source, target in plan.edges:
        attrs = {}
        value_end = source if source[0] == "v" else target
        group_end = target if source[0] == "v" else source
        if value_end[1] in path_keys and group_end[1] in on_path_groups:
            attrs = {"color": style.HIGHLIGHT, "penwidth": 2.0}
        if is_state_name(view.names.get(value_end[1])) or value_end[1] == view.final_key:
            attrs["weight"] = 8  # keep the h⟨t⟩ (and c⟨t⟩) chain straight: the classic unrolled row
        src, dst = node_id(source), node_id(target)
        if value_end[1] in against_time and _backwards(source, target, steps):
            # A backward-running sequence (the `bw` half of a bidirectional net): declare the edge
            # the other way round, drawn with its arrow as before, so t still grows to the right.
            src, dst = dst, src
            attrs["dir"] = "back"
        model.add_edge(src, dst, attrs)
        if backward and painter.grads:
            model.add_edge(node_id(target), node_id(source), painter.backward_edge(value_end[1]))

    # Each sequence's cells on one straight line, in time order (invisible, heavy edges), and
    # the cells of one time step of different sequences (layers, directions) in one column.
    sequences: dict = {}
    for group in plan.groups.values():
        if group.step is not None:
            sequences.setdefault(group.parent, []).append(group)
    for cells in sequences.values():
        cells.sort(key=lambda g: g.step)
        for before, after in zip(cells, cells[1:]):
            model.add_hidden_edge(before.ident, after.ident, {"weight": 20, "minlen": 2})
    if len(sequences) > 1:
        columns: dict = {}
        for cells in sequences.values():
            for group in cells:
                columns.setdefault(group.step, []).append(group.ident)
        # A value handed up to the next layer at the same step (h^[1]⟨t⟩ into LSTM^[2] at t) sits
        # in that column, between the two cells.
        made_by = {record.output: group.parent for group in plan.groups.values() for record in group.records}
        for source, target in plan.edges:
            if source[0] == "v" and target[0] == "g" and steps.get(source) == steps.get(target) is not None:
                if plan.groups[target[1]].parent != made_by.get(source[1]):
                    columns[steps[source]].append(node_id(source))
        model.same_rank.extend(list(dict.fromkeys(column)) for column in columns.values() if len(column) > 1)

    if draw_params:
        for key in plan.param_keys:
            model.add_node(f"v{view.order[key]}", painter.value_attrs(key))
        for group_key, group in plan.groups.items():
            used = dict.fromkeys(k for r in group.records for k in r.inputs if k in view.leaves)
            for key in used:
                model.add_edge(f"v{view.order[key]}", group.ident, {"style": "dotted", "color": "#7a9cc6"})
    return model


def _time_positions(view, plan) -> dict:
    """The time step of each drawn end: a cell's step; a value's producing cell's step, or for an
    outside input the time in its name (`h<4>`, the backward half's start); None otherwise."""
    steps = {}
    producer_step = {}
    for group_key, group in plan.groups.items():
        steps[("g", group_key)] = group.step
        for record in group.records:
            producer_step[record.output] = group.step
    for key in plan.shown_keys:
        if key in producer_step:
            steps[("v", key)] = producer_step[key]
        else:
            time = split_name(view.names.get(key, ""))[2]
            steps[("v", key)] = int(time) if time.isdigit() else None
    return steps


def _values_flowing_back(view, plan, steps) -> set:
    """Values read by a cell of an earlier step than the one that made them (or than their name says)."""
    back = set()
    for source, target in plan.edges:
        if source[0] == "v" and target[0] == "g":
            made, read = steps.get(source), steps.get(target)
            if made is not None and read is not None and read < made:
                back.add(source[1])
    return back


def _backwards(source, target, steps) -> bool:
    """True when the edge, drawn as given, would run against time (value-at-t into cell t' < t,
    or cell t' out to a value another cell reads earlier)."""
    a, b = steps.get(source), steps.get(target)
    if source[0] == "v":
        return a is not None and b is not None and b < a
    return True  # the producer edge of a value that flows back: turn it round too
