"""What `check.backward` returns: a verdict per gradient, readable as text and in Jupyter.

It also carries what a drawing needs: `tape` (the learner's recorded forward),
`disagreeing_records` (record indices to highlight), `target_keys` (the outputs that got
gradients) and `wrong_keys` (the inputs whose gradients are wrong); `visuals.draw(report)`
reads them by duck typing.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field

from tinytape.errors import format_site


@dataclass
class GradientCheck:
    """One gradient: present? right shape? max abs / normwise rel error, verdict."""

    name: str
    verdict: str                 # ok | wrong | missing | wrong shape | not finite | not an array
    expected_shape: tuple | None
    shape: tuple | None
    max_abs: float = float("nan")
    max_rel: float = float("nan")
    worst: list = field(default_factory=list)    # [(index, yours, tape)], worst first
    diagnosis: str = ""          # in words, when a known mistake explains it
    diagnosis_kind: str = ""     # sign | factor_m | transposed | missing_branch | ...
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.verdict == "ok"


@dataclass
class LearnerError:
    """An exception (or a wrong return) in learner code, said in two lines."""

    function: str
    phase: str                   # forward | backward
    kind: str                    # exception type, or 'not implemented yet', 'wrong return'...
    message: str
    site: tuple | None           # (file, line) in the learner's code
    code: str                    # that line's source

    def __str__(self):
        first = f"{self.function} {'raised ' + self.kind if self._is_exception else self.kind}"
        first += f": {self.message}" if self.message else ""
        if not self.site:
            return first
        return first + f"\n  at {format_site(self.site)}" + (f": {self.code}" if self.code else "")

    @property
    def _is_exception(self):
        return self.kind[:1].isupper() and self.kind not in ("NotImplementedError",)


@dataclass
class FirstBadStep:
    """Where, counting back from the last time step, the carried gradient goes wrong."""

    t: int | None
    steps_from_end: int | None
    T: int
    which: list
    text: str


@dataclass
class BackwardReport:
    forward_name: str
    backward_name: str
    atol: float = 0.0
    rtol: float = 0.0
    seed: int = 0
    rows: list = field(default_factory=list)
    missing: list = field(default_factory=list)
    unexpected: list = field(default_factory=list)   # [(key, closest expected name or None)]
    forward_ok: bool | None = None                   # None: no reference given
    forward_rows: list = field(default_factory=list)
    error: LearnerError | None = None
    not_implemented: bool = False
    output_names: list = field(default_factory=list)
    leaf_names: dict = field(default_factory=dict)
    cotangents: list = field(default_factory=list)
    tape: object = None
    target_keys: list = field(default_factory=list)
    wrong_keys: list = field(default_factory=list)
    disagreeing_records: list = field(default_factory=list)
    localization: object = None
    first_bad_step: FirstBadStep | None = None
    notes: list = field(default_factory=list)

    # -- verdicts ------------------------------------------------------------------
    @property
    def failures(self) -> list:
        """Names of the gradients that are wrong, missing or mis-shaped."""
        return [r.name for r in self.rows if not r.ok]

    @property
    def ok(self) -> bool:
        return self.error is None and not self.failures and self.forward_ok is not False

    def __bool__(self):
        return self.ok

    def row(self, name):
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(name)

    @property
    def diagnoses(self) -> dict:
        return {r.name: r.diagnosis for r in self.rows if r.diagnosis}

    # -- text ----------------------------------------------------------------------
    def headline(self):
        what = f"check.backward({self.forward_name}, {self.backward_name})"
        if self.backward_name == "-":           # a forward-only check (the lesson graders)
            what = f"check of {self.forward_name}"
            if self.error is None and self.forward_ok:
                return f"{what}: its outputs agree with the reference"
        if self.error is not None:
            return f"{what}: {'not implemented yet' if self.not_implemented else 'could not check'}"
        if self.forward_ok is False:
            bad = [r.name for r in self.forward_rows if not r.ok]
            return f"{what}: the FORWARD is wrong ({', '.join(bad)} differ from the reference)"
        if self.ok:
            return f"{what}: all {len(self.rows)} gradients agree with the tape"
        return f"{what}: {len(self.failures)} of {len(self.rows)} gradients disagree with the tape"

    def _table(self):
        head = ("gradient", "shape", "max abs err", "max rel err", "verdict")
        body = []
        for r in self.rows:
            shape = str(r.expected_shape) if r.shape in (None, r.expected_shape) else \
                f"{r.shape} (want {r.expected_shape})"
            verdict = "ok" if r.ok else r.verdict.upper()
            if r.diagnosis_kind:
                verdict += f" ({r.diagnosis_kind.replace('_', ' ')})"
            body.append((r.name, shape, _num(r.max_abs), _num(r.max_rel), verdict))
        return head, body

    def _error_lines(self):
        return ["  " + line for line in str(self.error).splitlines()]

    def _forward_lines(self):
        out = []
        for r in self.forward_rows:
            if not r.ok:
                shape = "" if r.shape == r.expected_shape else \
                    f" (shape {r.shape}, want {r.expected_shape})"
                out.append(f"  forward output {r.name}: max abs err {_num(r.max_abs)} vs the "
                           f"reference{shape}")
        if self.forward_ok is False:
            out.append("  fix the forward first; the gradients are checked against YOUR forward")
        return out

    def _detail_lines(self):
        out = []
        for name in self.missing:
            out.append(f"  missing: {name} (your dict has no such key)")
        for key, close in self.unexpected:
            out.append(f"  unexpected key: {key}" + (f" (did you mean {close}?)" if close else ""))
        worst = [f"{r.name}{list(r.worst[0][0])}: yours {r.worst[0][1]:.6g}, tape {r.worst[0][2]:.6g}"
                 for r in self.rows if r.worst]
        if worst:
            out.append("  worst entries: " + "; ".join(worst[:4]))
        grouped = {}
        for r in self.rows:
            if r.diagnosis:
                grouped.setdefault(r.diagnosis, []).append(r.name)
        for text, names in grouped.items():
            out.append(f"  {', '.join(names)}: {text}")
        for r in self.rows:
            if r.note and not r.ok:
                out.append(f"  {r.name}: {r.note}")
        if self.localization is not None and self.failures:
            out.append(f"  where: {self.localization.text}")
        if self.first_bad_step is not None:
            out.append(f"  in time: {self.first_bad_step.text}")
        out += [f"  note: {n}" for n in self.notes]
        return out

    def lines(self):
        out = [self.headline()]
        if self.error is not None:
            return out + self._error_lines()
        out += self._forward_lines()
        if self.rows:
            head, body = self._table()
            widths = [max(len(str(x[i])) for x in [head] + body) for i in range(len(head))]
            for row in [head] + body:
                out.append("  " + "  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())
        return out + self._detail_lines()

    def __str__(self):
        return "\n".join(self.lines())

    __repr__ = __str__

    def _repr_html_(self):
        ok_colour, bad_colour = "#d4f4d4", "#f8d0d0"
        colour = ok_colour if self.ok else bad_colour
        parts = [f'<p style="background:{colour};padding:4px"><b>{html.escape(self.headline())}</b></p>']
        if self.error is not None:
            extra = self._error_lines()
        else:
            extra = self._forward_lines()
            if self.rows:
                head, body = self._table()
                cells = "".join(f"<th>{html.escape(h)}</th>" for h in head)
                rows = []
                for r, row in zip(self.rows, body):
                    tds = "".join(f"<td>{html.escape(str(c))}</td>" for c in row)
                    rows.append(f'<tr style="background:{ok_colour if r.ok else bad_colour}">{tds}</tr>')
                parts.append(f"<table><tr>{cells}</tr>{''.join(rows)}</table>")
            extra = extra + self._detail_lines()
        parts += [f"<p>{html.escape(line.strip())}</p>" for line in extra]
        return "".join(parts)


def _num(x):
    if x is None or x != x:
        return "-"
    return f"{x:.2e}"
