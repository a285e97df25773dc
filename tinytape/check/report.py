"""Gradient comparison reports: one row per gradient, readable as text and in Jupyter."""
from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Row:
    """How one gradient compares. `max_rel` is normwise: max|a−b| / max(max|a|, max|b|)."""

    name: str
    ok: bool
    max_abs: float = float("nan")
    max_rel: float = float("nan")
    worst_index: tuple | None = None
    a_value: float | None = None
    b_value: float | None = None
    note: str = ""


@dataclass
class GradientReport:
    """The result of `compare` or `gradcheck`: `ok`, `rows`, `failures`, `str(report)`."""

    labels: tuple = ("a", "b")
    rows: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    rtol: float = 0.0
    atol: float = 0.0

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    @property
    def failures(self) -> list:
        return [r.name for r in self.rows if not r.ok]

    @property
    def max_rel(self) -> float:
        finite = [r.max_rel for r in self.rows if np.isfinite(r.max_rel)]
        return max(finite) if finite else float("nan")

    def __bool__(self):
        return self.ok

    def _table(self):
        a, b = self.labels
        head = ("gradient", "verdict", "max |a-b|", "max rel", "worst at", a, b, "note")
        body = []
        for r in self.rows:
            body.append((r.name, "ok" if r.ok else "WRONG", _num(r.max_abs), _num(r.max_rel),
                         "-" if r.worst_index is None else str(tuple(int(i) for i in r.worst_index)),
                         _num(r.a_value), _num(r.b_value), r.note))
        return head, body

    def __str__(self):
        head, body = self._table()
        widths = [max(len(str(x[i])) for x in [head] + body) for i in range(len(head))]
        lines = [f"{self.labels[0]} vs {self.labels[1]}: "
                 f"{'all agree' if self.ok else 'DISAGREE: ' + ', '.join(self.failures)}"
                 f" (rtol {self.rtol:g}, atol {self.atol:g})"]
        for row in [head] + body:
            lines.append("  " + "  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self):
        head, body = self._table()
        cells = "".join(f"<th>{html.escape(h)}</th>" for h in head)
        rows = []
        for r, row in zip(self.rows, body):
            colour = "#d4f4d4" if r.ok else "#f8d0d0"
            tds = "".join(f"<td>{html.escape(str(c))}</td>" for c in row)
            rows.append(f'<tr style="background:{colour}">{tds}</tr>')
        title = html.escape(str(self).splitlines()[0])
        notes = "".join(f"<p>{html.escape(n)}</p>" for n in self.notes)
        return f"<p><b>{title}</b></p><table><tr>{cells}</tr>{''.join(rows)}</table>{notes}"


def _num(x):
    if x is None:
        return "-"
    if isinstance(x, float) and np.isnan(x):
        return "-"
    return f"{x:.3g}"


def compare_arrays(name, a, b, rtol, atol, note=""):
    """One Row for two arrays: shapes, max abs/rel error, the worst entry."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return Row(name, False, note=f"shape {a.shape} vs {b.shape}")
    if a.size == 0:
        return Row(name, True, 0.0, 0.0, note=note or "empty")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return Row(name, False, note="NaN or Inf present")
    diff = np.abs(a - b)
    worst = np.unravel_index(int(np.argmax(diff)), diff.shape)
    max_abs = float(diff[worst])
    scale = max(float(np.max(np.abs(a))), float(np.max(np.abs(b))))
    max_rel = max_abs / scale if scale > 0 else 0.0
    ok = max_abs <= atol or max_rel <= rtol
    return Row(name, ok, max_abs, max_rel, worst, float(a[worst]), float(b[worst]), note)
