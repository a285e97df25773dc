"""The tape as a readable table: the Wengert list a learner can follow line by line."""
from __future__ import annotations

from tinytape.errors import format_site


def _shape(v):
    shape = getattr(v, "shape", ())
    return "()" if shape == () else "(" + ", ".join(str(n) for n in shape) + ")"


def format_tape(tape, limit=None):
    """One row per record: index, output = op(inputs), output shape, scope, site."""
    records = tape.records
    lines = [f"Tape: {len(records)} records, {len(tape.leaves)} watched"]
    if tape.leaves:
        watched = ", ".join(f"{tape.label(k)} {_shape(v)}" for k, v in tape.leaves.items())
        lines.append(f"  watched: {watched}")
    rows = [("#", "value", "=", "op", "inputs", "shape", "scope", "site")]
    shown = records if limit is None or len(records) <= limit else records[:limit]
    for rec in shown:
        inputs = ", ".join(
            tape.label(k) if k is not None else _constant(v)
            for k, v in zip(rec.inputs, rec.input_values))
        rows.append((str(rec.index), tape.label(rec.output), "=", rec.op.name, inputs,
                     _shape(rec.value), rec.scope or "-",
                     format_site(rec.site) if rec.site else "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    if len(shown) < len(records):
        lines.append(f"  ... {len(records) - len(shown)} more records")
    return "\n".join(lines)


def _constant(v):
    shape = getattr(v, "shape", None)
    if shape is None or shape == ():
        return repr(float(v)) if isinstance(v, (int, float)) or shape == () else "const"
    return f"const{_shape(v)}"
