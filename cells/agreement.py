"""The gradient-agreement matrix: every cell's gradients computed several ways, side by side.

Rows are cell × head (the five cells, then variants: the rnn's relu and bias-free
identity forms, a stacked LSTM and a bidirectional RNN from cells.deep); columns are
method pairs:

    hand vs tape   hand-derived BPTT against the tape's reverse sweep   (≤ 1e-10)
    tape vs FD     the tape against central finite differences          (gradcheck rtol)
    hand vs TF     hand BPTT against TensorFlow's GradientTape          (≤ 1e-9)

Each entry is the largest relative error over every gradient (and the loss value) and
every case the row ran: several shapes (including T = 1 and m = 1) and output
activations. All in float64 on small problems, seeded, so the matrix is reproducible.

Every comparison goes through `tinytape.check.compare`, whose relative error of two
arrays is normwise, max|a − b| / max(max|a|, max|b|): the worst element's error against
the array's own scale. (Element by element relative errors explode on entries that are
zero up to rounding; this measure does not, yet one wrong element of a normal-sized
gradient shows in full.) A failing entry keeps compare's report, printed under the table.
"""
from __future__ import annotations

import importlib
import inspect
import time
from dataclasses import dataclass, field

import numpy as np

from cells import deep
from cells import keras as cells_keras
from tinytape import check

KINDS = ("rnn", "lstm", "gru", "gru_keras", "peephole")          # the five cells
VARIANTS = ("rnn-relu", "rnn-linear", "lstm-stacked", "rnn-bidir")   # options and compositions
ALL = KINDS + VARIANTS
HEADS = ("seq2one", "seq2seq")
PAIRS = ("hand vs tape", "tape vs FD", "hand vs TF")

HAND_TAPE_THRESHOLD = 1e-10
TF_THRESHOLD = 1e-9
# Finite differences are judged as tinytape.check.gradcheck judges them (its default
# rtol and atol): central differences with eps = 1e-6 in float64 are good to ~1e-8 of
# the gradient's scale at best (truncation ~eps², rounding ~1e-16/eps).
FD_EPS = 1e-6
_GRADCHECK_DEFAULTS = inspect.signature(check.gradcheck).parameters
FD_THRESHOLD = _GRADCHECK_DEFAULTS["rtol"].default
FD_ATOL = _GRADCHECK_DEFAULTS["atol"].default

THRESHOLDS = {"hand vs tape": f"{HAND_TAPE_THRESHOLD:.0e}",
              "tape vs FD": f"{FD_THRESHOLD:.0e} (or max abs ≤ {FD_ATOL:.0e})",
              "hand vs TF": f"{TF_THRESHOLD:.0e}"}

# (n_x, n_h, n_y, m, T): a general case, a single step (T = 1), a single sequence (m = 1).
FULL_SHAPES = ((3, 4, 2, 3, 5), (2, 3, 3, 2, 1), (2, 3, 2, 1, 4))
FAST_SHAPES = ((3, 4, 2, 3, 4),)
FULL_OUTPUTS = ("identity", "tanh", "softmax")
FAST_OUTPUTS = ("identity", "tanh")


@dataclass(frozen=True)
class Model:
    """One row family of the matrix: a cell, its options, how cells.deep composes it,
    and the Keras model that computes the same function (None: no partner)."""

    name: str
    kind: str
    description: str
    tf_partner: str | None
    activation: str = "tanh"        # the rnn's a_h
    bias: bool = True               # False: the rnn without bh, by (seed 001 / seed 003)
    wrapper: str | None = None      # None, "stacked" (depth 2) or "bidirectional"

    def cell_options(self) -> dict:
        return {"activation": self.activation} if self.kind == "rnn" else {}

    def init(self, n_x: int, n_h: int, n_y: int, seed: int) -> dict:
        options = {} if self.bias else {"bias": False}
        if self.wrapper == "stacked":
            return deep.stacked_init(self.kind, n_x, n_h, n_y, depth=2, seed=seed, **options)
        if self.wrapper == "bidirectional":
            return deep.bidirectional_init(self.kind, n_x, n_h, n_y, seed=seed, **options)
        return _cell(self.kind).init_params(n_x, n_h, n_y, seed=seed, **options)

    def loss_and_grads(self, params, X, Y, method, head, output):
        options = self.cell_options()
        if self.wrapper == "stacked":
            return deep.stacked_loss_and_grads(self.kind, params, X, Y, method, head, output, **options)
        if self.wrapper == "bidirectional":
            return deep.bidirectional_loss_and_grads(self.kind, params, X, Y, method, head, output, **options)
        # looked up on the module at call time, so a test can plant a bug in it
        return _cell(self.kind).loss_and_grads(params, X, Y, method=method, head=head, output=output, **options)

    def predict(self, params, X, head, output):
        options = self.cell_options()
        if self.wrapper == "stacked":
            return deep.stacked_predict(self.kind, params, X, head, output, **options)
        if self.wrapper == "bidirectional":
            return deep.bidirectional_predict(self.kind, params, X, head, output, **options)
        return _cell(self.kind).predict(params, X, head, output, **options)

    def tf_predict(self, params, X, head, output):
        return cells_keras.tf_predict(self.kind, params, X, head, output,
                                      activation=self.activation, wrapper=self.wrapper)

    def tf_loss_and_grads(self, params, X, Y, head, output):
        return cells_keras.tf_loss_and_grads(self.kind, params, X, Y, head, output,
                                             activation=self.activation, wrapper=self.wrapper)


MODELS = {model.name: model for model in (
    Model("rnn", "rnn", "vanilla RNN, tanh (4-1, 4-2)", "SimpleRNN"),
    Model("lstm", "lstm", "LSTM (4-17 … 4-24)", "LSTM"),
    Model("gru", "gru", "GRU, lab convention (4-45 … 4-50)", "GRU(reset_after=False)"),
    Model("gru_keras", "gru_keras", "GRU, Keras convention", "GRU(reset_after=True)"),
    Model("peephole", "peephole", "peephole LSTM", None),
    Model("rnn-relu", "rnn", "vanilla RNN, relu", "SimpleRNN(relu)", activation="relu"),
    Model("rnn-linear", "rnn", "vanilla RNN, identity, no biases (seed 001/003)",
          "SimpleRNN(linear, use_bias=False)", activation="identity", bias=False),
    Model("lstm-stacked", "lstm", "two stacked LSTM layers (cells.deep)", "LSTM → LSTM", wrapper="stacked"),
    Model("rnn-bidir", "rnn", "bidirectional RNN, states concatenated (cells.deep)",
          "Bidirectional(SimpleRNN)", wrapper="bidirectional"),
)}
TF_PARTNER = {name: model.tf_partner for name, model in MODELS.items() if model.tf_partner}


@dataclass
class Entry:
    """One cell of the matrix: a method pair's worst relative error and its verdict."""

    error: float | None        # max relative error over all gradients and cases; None if not run
    threshold: str | None      # the pass rule, e.g. "1e-10" or "1e-05 (atol 1e-06)"
    status: str                # "pass", "FAIL", "skipped", "n/a", "error"
    note: str = ""             # where the worst error is, or why the entry was not run
    report: object = None      # tinytape.check.compare report of the worst case (for tables)

    @property
    def failed(self) -> bool:
        return self.status in ("FAIL", "error")


@dataclass
class Row:
    kind: str
    head: str
    entries: dict = field(default_factory=dict)   # pair -> Entry
    cases: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not any(entry.failed for entry in self.entries.values())


def _cell(kind: str):
    return importlib.import_module(f"cells.{kind}")


def tensorflow_available() -> bool:
    try:
        importlib.import_module("tensorflow")
    except ImportError:
        return False
    return True


def make_problem(name: str, shape: tuple, head: str, output: str, seed: int):
    """Parameters, inputs and targets for one case of row `name` (float64, seeded)."""
    n_x, n_h, n_y, m, T = shape
    rng = np.random.default_rng(seed)
    params = MODELS[name].init(n_x, n_h, n_y, seed)
    # init_params makes biases zero; random biases exercise every bias gradient path.
    params = {name: value + 0.1 * rng.standard_normal(value.shape) if np.all(value == 0) else value
              for name, value in params.items()}
    X = rng.standard_normal((n_x, m, T))                                  # (n_x, m, T)
    target_shape = (n_y, m) if head == "seq2one" else (n_y, m, T)
    if output == "softmax":
        labels = rng.integers(0, n_y, size=target_shape[1:])
        Y = np.moveaxis(np.eye(n_y)[labels], -1, 0)                        # one-hot (n_y, m[, T])
    else:
        Y = rng.standard_normal(target_shape)
        if output == "tanh":
            Y = np.tanh(Y)
    return params, X, Y


def _with_loss(loss, grads: dict) -> dict:
    # The loss value takes part in every comparison: it pins the loss convention (1/(2m)).
    return {"loss": np.asarray(loss, dtype=np.float64), **grads}


def _numeric_grads(model: Model, params, X, Y, head, output) -> dict:
    def loss_of(p):
        return model.loss_and_grads(p, X, Y, "bptt", head, output)[0]

    numeric = check.numeric_gradient(loss_of, params, eps=FD_EPS)
    return {"d" + name: value for name, value in numeric.items()}


class _Worst:
    """Tracks the worst case of one method pair across the cases of a row."""

    def __init__(self, labels: tuple, rtol: float, atol: float = 0.0):
        self.labels, self.rtol, self.atol = labels, rtol, atol
        self.error = 0.0
        self.note = ""
        self.report = None
        self.failed = False

    def add(self, case: str, grads_a: dict, grads_b: dict) -> None:
        report = check.compare(grads_a, grads_b, labels=self.labels, rtol=self.rtol, atol=self.atol)
        # A missing key, a shape mismatch or a NaN has no max_rel: count it as infinite.
        errors = [row.max_rel if np.isfinite(row.max_rel) else float("inf") for row in report.rows]
        worst = int(np.argmax(errors))
        error = errors[worst]
        failed_now = not report.ok
        # The entry shows the worst error; a failing case outranks a passing one.
        if self.report is None or (failed_now, error) > (self.failed, self.error):
            self.error, self.failed, self.report = error, failed_now, report
            self.note = f"{report.rows[worst].name} at {case}"

    def entry(self, threshold_text: str) -> Entry:
        status = "FAIL" if self.failed else "pass"
        return Entry(self.error, threshold_text, status, self.note,
                     self.report if self.failed else None)


def _run_row(name: str, head: str, shapes, outputs, use_tf: bool, tf_skip: str, seed: int) -> Row:
    start = time.perf_counter()
    model = MODELS[name]
    row = Row(name, head)
    hand_tape = _Worst(("hand BPTT", "tape"), HAND_TAPE_THRESHOLD)
    tape_fd = _Worst(("tape", "finite differences"), FD_THRESHOLD, FD_ATOL)
    hand_tf = _Worst(("hand BPTT", "TensorFlow"), TF_THRESHOLD)
    run_tf = use_tf and model.tf_partner is not None
    try:
        for case_index, shape in enumerate(shapes):
            for output in outputs:
                if output == "softmax" and shape[2] < 2:
                    continue  # a softmax over one class is constant: nothing to check
                params, X, Y = make_problem(name, shape, head, output, seed + case_index)
                case = f"(n_x,n_h,n_y,m,T)={shape} {output}"
                loss_h, grads_h = model.loss_and_grads(params, X, Y, "bptt", head, output)
                loss_t, grads_t = model.loss_and_grads(params, X, Y, "tape", head, output)
                hand_tape.add(case, _with_loss(loss_h, grads_h), _with_loss(loss_t, grads_t))
                tape_fd.add(case, grads_t, _numeric_grads(model, params, X, Y, head, output))
                if run_tf:
                    loss_f, grads_f = model.tf_loss_and_grads(params, X, Y, head, output)
                    hand_tf.add(case, _with_loss(loss_h, grads_h), _with_loss(loss_f, grads_f))
                row.cases += 1
    except Exception as error:  # a crashing cell is a failed row, not a crashed matrix
        message = f"{type(error).__name__}: {error}"
        row.entries = {pair: Entry(None, None, "error", message) for pair in PAIRS}
        row.seconds = time.perf_counter() - start
        return row
    row.entries["hand vs tape"] = hand_tape.entry(THRESHOLDS["hand vs tape"])
    row.entries["tape vs FD"] = tape_fd.entry(THRESHOLDS["tape vs FD"])
    if run_tf:
        row.entries["hand vs TF"] = hand_tf.entry(THRESHOLDS["hand vs TF"])
    elif model.tf_partner is None:
        row.entries["hand vs TF"] = Entry(None, None, "n/a", f"no Keras layer computes the {name} cell")
    else:
        row.entries["hand vs TF"] = Entry(None, None, "skipped", tf_skip)
    row.seconds = time.perf_counter() - start
    return row


def agreement_matrix(kinds=ALL, heads=HEADS, include_tf="auto", fast=False, seed=0) -> list[Row]:
    """Run every method pair for every row (cell or variant) × head; see the module docstring.

    kinds: names from MODELS (default all: the five cells, then VARIANTS).
    include_tf: True (TensorFlow required: ImportError if absent), False (column
    skipped), or "auto" (used when importable, else skipped with the reason).
    fast: one shape and two output activations per row instead of three shapes × three.
    """
    unknown = [kind for kind in kinds if kind not in MODELS]
    if unknown:
        raise ValueError(f"agreement_matrix: unknown cell kinds {unknown}; choose from {', '.join(MODELS)}")
    bad_heads = [head for head in heads if head not in HEADS]
    if bad_heads:
        raise ValueError(f"agreement_matrix: unknown heads {bad_heads}; choose from {', '.join(HEADS)}")
    if include_tf not in (True, False, "auto"):
        raise ValueError(f"agreement_matrix: include_tf must be True, False or 'auto', got {include_tf!r}")
    if include_tf is True and not tensorflow_available():
        raise ImportError("agreement_matrix(include_tf=True) needs TensorFlow: pip install tinytape[tf]")
    use_tf = include_tf is True or (include_tf == "auto" and tensorflow_available())
    tf_skip = ("skipped: TensorFlow not installed (pip install tinytape[tf])"
               if include_tf == "auto" else "skipped: TensorFlow column switched off")
    shapes = FAST_SHAPES if fast else FULL_SHAPES
    outputs = FAST_OUTPUTS if fast else FULL_OUTPUTS
    return [_run_row(kind, head, shapes, outputs, use_tf, tf_skip, seed)
            for kind in kinds for head in heads]


def _cell_text(entry: Entry) -> str:
    if entry.status in ("pass", "FAIL"):
        return f"{entry.error:.1e} {entry.status}"
    return entry.status


def format_matrix(rows: list[Row]) -> str:
    """A plain aligned table (paste-able into a report) with a final verdict line."""
    header = ["cell", "head", "cases"] + [f"{pair} (≤{THRESHOLDS[pair].split()[0]})" for pair in PAIRS]
    lines = [[row.kind, row.head, str(row.cases)] + [_cell_text(row.entries[pair]) for pair in PAIRS]
             for row in rows]
    widths = [max(len(line[i]) for line in [header] + lines) for i in range(len(header))]

    def fmt(cells):
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths)).rstrip()

    out = [fmt(header), fmt(["-" * width for width in widths])] + [fmt(line) for line in lines]
    out += ["", *legend(rows)]
    notes = _notes(rows)
    if notes:
        out += [""] + notes
    out += ["", verdict(rows)]
    return "\n".join(out)


def legend(rows: list[Row]) -> list[str]:
    """What the numbers and the rows mean, so the pasted table stands on its own."""
    kinds = list(dict.fromkeys(row.kind for row in rows))
    width = max(map(len, kinds), default=0)
    description_width = max((len(MODELS[kind].description) for kind in kinds), default=0)
    return [
        "entries: max relative error max|a−b| / max(|a|,|b|) per array (tinytape.check.compare), worst over",
        "every gradient and the loss, across the row's cases (shapes × output activations), float64.",
        f"pass: hand vs tape ≤ {THRESHOLDS['hand vs tape']}; hand vs TF ≤ {THRESHOLDS['hand vs TF']};",
        f"      tape vs FD ≤ {THRESHOLDS['tape vs FD']} (gradcheck's tolerance; central differences, eps {FD_EPS:g}).",
        "rows, and the Keras model each is compared with:",
    ] + [f"  {kind:<{width}}  {MODELS[kind].description:<{description_width}}  "
         f"{MODELS[kind].tf_partner or 'none (n/a)'}" for kind in kinds]


def _notes(rows: list[Row]) -> list[str]:
    """Failures in detail (worst gradient, case, the compare table); skip reasons once."""
    notes, skips = [], set()
    for row in rows:
        for pair in PAIRS:
            entry = row.entries[pair]
            if entry.failed:
                notes.append(f"{row.kind} {row.head}, {pair}: {entry.status}: worst {entry.note}")
                if entry.report is not None:
                    notes.append(str(entry.report))
            elif entry.status == "skipped":
                skips.add(f"{pair}: {entry.note}")
    return notes + sorted(skips)


def verdict(rows: list[Row]) -> str:
    entries = [entry for row in rows for entry in row.entries.values()]
    checked = [entry for entry in entries if entry.status in ("pass", "FAIL", "error")]
    failed = [entry for entry in checked if entry.failed]
    skipped = sum(entry.status == "skipped" for entry in entries)
    tail = f"; {skipped} skipped" if skipped else ""
    if failed:
        return f"verdict: DISAGREEMENT: {len(failed)} of {len(checked)} comparisons fail{tail}"
    return f"verdict: all {len(checked)} comparisons agree{tail}"


def all_pass(rows: list[Row]) -> bool:
    return all(row.ok for row in rows)
