"""Colours and outlines shared by both drawing levels: gradient fills (log-norm scale),
highlight outlines, and the labels of value nodes."""
from __future__ import annotations

from visuals import style
from visuals.notation import format_norm


class Painter:
    """Colours shared by both levels: gradient fills, highlight borders."""

    def __init__(self, view, grads: bool, scale, path_keys: set, path_records: set, start_keys: set, values: bool,
                 compact: bool = True, start_records: frozenset = frozenset()):
        self.view, self.grads, self.scale, self.compact = view, grads, scale, compact
        self.path_keys, self.path_records, self.start_keys = path_keys, path_records, start_keys
        self.start_records = start_records
        self.values = values

    def value_attrs(self, key: int) -> dict:
        view = self.view
        kind = view.kind(key)
        base = style.PARAM if kind == "param" else style.INPUT if kind == "input" else style.VALUE
        if key == view.final_key and kind == "value":
            base = style.TARGET
        norm = view.grad_norm(key) if self.grads else None
        name = view.names.get(key)
        if self.compact and kind == "value" and name is None and key != view.final_key and not self.values:
            return self._dot_attrs(key, norm)
        attrs = dict(base)
        font_color = None
        if norm is not None:
            attrs["fillcolor"] = self.scale.fill(norm)
            font_color = self.scale.font_color(norm)
        value = None
        if self.values:
            record = view.producer.get(key)
            value = record.value if record is not None else view.leaves.get(key)
        attrs["label"] = style.value_label(name, view.shapes.get(key, ()), norm, value, font_color)
        self._mark_path(key, attrs)
        return attrs

    def _dot_attrs(self, key: int, norm: float | None) -> dict:
        """An unnamed intermediate value as a small dot (its shape and norm in the SVG tooltip)."""
        attrs = dict(style.DOT)
        tooltip = style.shape_text(self.view.shapes.get(key, ()))
        if norm is not None:
            attrs["fillcolor"] = self.scale.fill(norm)
            tooltip += f"  ‖g‖ {format_norm(norm)}"
        attrs["tooltip"] = tooltip
        attrs["label"] = ""
        self._mark_path(key, attrs)
        if key in self.path_keys:
            attrs["width"] = 0.16
        return attrs

    def _mark_path(self, key: int, attrs: dict) -> None:
        if key in self.path_keys:
            attrs["color"] = style.HIGHLIGHT
            attrs["penwidth"] = 3.5 if key in self.start_keys else 2.5

    def backward_edge(self, key: int) -> dict:
        """A dashed edge against the data flow, coloured by the gradient it carries."""
        norm = self.view.grad_norm(key)
        color = self.scale.fill(norm) if norm is not None else "#bbbbbb"
        return {"style": "dashed", "color": color, "constraint": False, "arrowhead": "vee", "penwidth": 1.5}
