"""Graders for the lesson exercises that `lessons.graders` does not cover.

Each `check_<exercise>(fn, ...)` runs the learner's function on fixed and random
inputs, compares it with an independent referee — the tape's gradient of the same
computation wherever a gradient is involved, otherwise the library function of the
same name — prints one green line or a short explanation with the comparison table,
and returns a `Verdict` (`.ok`, `str()`). Learner code that raises gets two lines
naming the exception and the learner's own line, not a traceback; an unfinished
exercise (NotImplementedError) gets "not implemented yet".
"""
from __future__ import annotations

import math
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import tinytape as tt

NOT_DONE = "not implemented yet"
_HERE = Path(__file__).resolve().parent
_LIBRARY_DIRS = (Path(tt.__file__).resolve().parent, _HERE.parent / "cells", _HERE.parent / "visuals")


@dataclass
class Verdict:
    """The outcome of one grader: `ok`, a one-line `summary`, optional `details` (a report or text)."""

    name: str
    ok: bool
    summary: str
    details: list = field(default_factory=list)
    not_done: bool = False

    def __bool__(self):
        return self.ok

    def __str__(self):
        mark = "✔" if self.ok else ("✋" if self.not_done else "✘")
        lines = [f"{mark} {self.name}: {self.summary}"]
        lines += [str(d) for d in self.details]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self):
        import html
        colour = "#1a7f37" if self.ok else ("#9a6700" if self.not_done else "#cf222e")
        mark = "✔" if self.ok else ("✋" if self.not_done else "✘")
        parts = [f'<p style="color:{colour}"><b>{mark} {html.escape(self.name)}</b>: {html.escape(self.summary)}</p>']
        for d in self.details:
            rich = getattr(d, "_repr_html_", None)
            parts.append(rich() if rich else f"<pre>{html.escape(str(d))}</pre>")
        return "".join(parts)


class _LearnerError(Exception):
    """Raised inside a grader when the learner's code failed; carries the ready verdict."""

    def __init__(self, verdict: Verdict):
        super().__init__(verdict.summary)
        self.verdict = verdict


def _learner_site(tb) -> str:
    """file:line of the deepest frame outside tinytape/cells/visuals/this grader: the learner's line."""
    site = ""
    for frame in traceback.extract_tb(tb):
        path = Path(frame.filename).resolve() if not frame.filename.startswith("<") else None
        if path is not None and (path == Path(__file__).resolve()
                                 or any(d in path.parents for d in _LIBRARY_DIRS)):
            continue
        site = f"{frame.filename}:{frame.lineno}"
        if frame.line:
            site += f"  ({frame.line.strip()})"
    return site


def _call(name: str, fn, *args, **kwargs):
    """Call the learner's fn; turn any exception into a two-line verdict."""
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise _LearnerError(Verdict(name, False, f"{NOT_DONE}. Fill in the function, run its cell, then this one.",
                                    not_done=True)) from None
    except Exception as exc:  # the learner's bug, reported in two lines
        site = _learner_site(sys.exc_info()[2])
        msg = f"your code raised {type(exc).__name__}: {exc}"
        raise _LearnerError(Verdict(name, False, msg, [f"   at {site}" if site else ""])) from None


def _grader(fn):
    """Decorator: print and return the verdict; learner exceptions become verdicts too."""
    import functools

    @functools.wraps(fn)
    def run(*args, quiet: bool = False, **kwargs):
        try:
            verdict = fn(*args, **kwargs)
        except _LearnerError as err:
            verdict = err.verdict
        if not quiet:
            _show(verdict)
        return verdict

    return run


def _show(verdict: Verdict) -> None:
    try:  # rich display in Jupyter, plain text elsewhere
        from IPython import get_ipython
        from IPython.display import display
        if get_ipython() is not None:
            display(verdict)
            return
    except ImportError:
        pass
    print(verdict)


def check_backward(forward, backward, *args, **kwargs):
    """`tinytape.check.backward`: the tape as referee of a learner's hand-derived backward."""
    fn = getattr(tt.check, "backward", None)
    if fn is None:  # older core: the function lives in its module only
        from tinytape.check.learner import backward as fn
    return fn(forward, backward, *args, **kwargs)


def _learner_report_verdict(name: str, report):
    """A verdict when tinytape.check.backward could not grade (learner code raised), else None."""
    if getattr(report, "not_implemented", False):
        return Verdict(name, False, f"{NOT_DONE}. Fill in the function(s), run the cell(s), then this one.",
                       not_done=True)
    error = getattr(report, "error", None)
    if error is not None:
        return Verdict(name, False, "your code could not be checked:", [error])
    return None


def _from_report(name: str, report, what: str) -> Verdict:
    """A verdict from a tinytape GradientReport."""
    if report.ok:
        return Verdict(name, True, f"passed: agrees with {what} (max relative error {report.max_rel:.1e}).")
    return Verdict(name, False, f"{', '.join(report.failures)} disagree with {what}.", [report])


def _as_dict(value, name: str, expected_keys) -> dict:
    if not isinstance(value, dict):
        raise _LearnerError(Verdict(name, False, f"should return a dict with keys {sorted(expected_keys)}, "
                                                 f"got {type(value).__name__}."))
    return value


# ============================================================ lesson 0: the w1 … w8 network
# Mazur's values, the classic example of seed 001 (i1, i2 inputs; t1, t2 targets).
MAZUR = dict(i1=0.05, i2=0.10, w1=0.15, w2=0.20, w3=0.25, w4=0.30, b1=0.35,
             w5=0.40, w6=0.45, w7=0.50, w8=0.55, b2=0.60, t1=0.01, t2=0.99)
WEIGHTS = ("w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8", "b1", "b2")


def two_layer_loss_on_tape(values: dict):
    """Record seed 001's network on a tape; returns (tape, loss, tensors by name)."""
    t = {k: tt.Tensor(v, name=k) for k, v in values.items()}
    with tt.Tape() as tape:
        for k in WEIGHTS:
            tape.watch(t[k])
        out_h1 = tt.sigmoid(t["w1"] * t["i1"] + t["w2"] * t["i2"] + t["b1"])
        out_h2 = tt.sigmoid(t["w3"] * t["i1"] + t["w4"] * t["i2"] + t["b1"])
        out_o1 = tt.sigmoid(t["w5"] * out_h1 + t["w6"] * out_h2 + t["b2"])
        out_o2 = tt.sigmoid(t["w7"] * out_h1 + t["w8"] * out_h2 + t["b2"])
        loss = 0.5 * (t["t1"] - out_o1) ** 2 + 0.5 * (t["t2"] - out_o2) ** 2
    return tape, loss, t


def _random_network_values(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    values = {k: float(rng.uniform(-1, 1)) for k in MAZUR}
    values.update(t1=float(rng.uniform(0, 1)), t2=float(rng.uniform(0, 1)))
    return values


def _check_scalar_partial(name: str, fn, weight: str) -> Verdict:
    mine, tapes = {}, {}
    for label, values in [("Mazur's values", MAZUR)] + [(f"random values #{s}", _random_network_values(s)) for s in (1, 2)]:
        got = _call(name, fn, dict(values))
        tape, loss, t = two_layer_loss_on_tape(values)
        mine[label] = np.asarray(float(got))
        tapes[label] = np.asarray(tape.gradient(loss, t[weight]))
    report = tt.check.compare(mine, tapes, labels=("yours", "tape"), rtol=1e-9, atol=1e-12)
    return _from_report(name, report, f"the tape's ∂L/∂{weight}")


@_grader
def check_dL_dw5(fn) -> Verdict:
    """fn(values) -> ∂L/∂w5 as a float, for Mazur's values and two random networks."""
    return _check_scalar_partial("dL_dw5", fn, "w5")


@_grader
def check_dL_dw1(fn) -> Verdict:
    """fn(values) -> ∂L/∂w1 as a float, for Mazur's values and two random networks."""
    return _check_scalar_partial("dL_dw1", fn, "w1")


# ============================================================ lesson 1: BPTT for a linear RNN (seed 003)
def seed003_example():
    """Seed 003's worked example: M = 3 hidden units, U = W = V = 0.5, x and y as printed."""
    U = np.full((3, 1), 0.5)
    W = np.full((3, 3), 0.5)
    V = np.full((1, 3), 0.5)
    x = [np.array([[0.3]]), np.array([[0.35]]), np.array([[0.4]])]
    y = [np.array([[0.8]]), np.array([[0.81]]), np.array([[0.62]])]
    return U, W, V, x, y


def linear_rnn_on_tape(U, W, V, x, y):
    """h_t = W h_{t-1} + U x_t, o_t = V h_t, L = Σ_t ½ (o_t − y_t)², recorded with one scope per step.

    Returns (tape, loss, {"U", "W", "V"} tensors, [h_1 … h_T] tensors, [o_1 … o_T] tensors).
    """
    P = {"U": tt.Tensor(U, name="U"), "W": tt.Tensor(W, name="W"), "V": tt.Tensor(V, name="V")}
    hs, os = [], []
    with tt.Tape(persistent=True) as tape:
        for p in P.values():
            tape.watch(p)
        h = tt.Tensor(np.zeros((W.shape[0], 1)), name="h<0>")
        terms = []
        for t, (xt, yt) in enumerate(zip(x, y), start=1):
            with tt.scope(f"t={t}"):
                h = P["W"] @ h + P["U"] @ tt.Tensor(xt, name=f"x<{t}>")   # (M, 1)
                h.name = f"h<{t}>"
                o = P["V"] @ h                                          # (K, 1)
                o.name = f"o<{t}>"
                terms.append(0.5 * ((o - yt) ** 2).sum())               # L⟨t⟩
            hs.append(h)
            os.append(o)
        loss = terms[0]
        for term in terms[1:]:
            loss = loss + term                                          # L = Σ_t L⟨t⟩
        loss.name = "loss"
    return tape, loss, P, hs, os


def _random_linear_rnn(seed: int, M=4, D=2, K=2, T=5):
    rng = np.random.default_rng(seed)
    U, W, V = rng.normal(size=(M, D)) * 0.5, rng.normal(size=(M, M)) * 0.4, rng.normal(size=(K, M)) * 0.5
    x = [rng.normal(size=(D, 1)) for _ in range(T)]
    y = [rng.normal(size=(K, 1)) for _ in range(T)]
    return U, W, V, x, y


@_grader
def check_linear_rnn_bptt(fn) -> Verdict:
    """fn(U, W, V, x, y) -> {"dU", "dW", "dV"}: seed 003's example and a random bigger one."""
    name = "linear_rnn_bptt"
    mine, tape_grads = {}, {}
    for label, case in (("seed 003", seed003_example()), ("random", _random_linear_rnn(7))):
        U, W, V, x, y = case
        got = _as_dict(_call(name, fn, U.copy(), W.copy(), V.copy(), [a.copy() for a in x], [a.copy() for a in y]),
                       name, ("dU", "dW", "dV"))
        tape, loss, P, _, _ = linear_rnn_on_tape(*case)
        ref = tape.gradient(loss, P)
        for k in ("U", "W", "V"):
            mine[f"d{k} ({label})"] = got.get(f"d{k}", np.full(1, np.nan))
            tape_grads[f"d{k} ({label})"] = ref[k]
    report = tt.check.compare(mine, tape_grads, labels=("yours", "tape"), rtol=1e-9, atol=1e-12)
    return _from_report(name, report, "the tape")


@_grader
def check_dL_dh_expansion(fn) -> Verdict:
    """fn(W, V, dL_do, t) -> ∂L/∂h_t by seed 001's (9.7.15), against the tape's ∂L/∂h_t for every t."""
    name = "dL_dh_expansion"
    mine, tape_grads = {}, {}
    for label, case in (("seed 003", seed003_example()), ("random", _random_linear_rnn(3))):
        U, W, V, x, y = case
        tape, loss, P, hs, os = linear_rnn_on_tape(*case)
        dL_do = tape.gradient(loss, os)
        dL_dh = tape.gradient(loss, hs)
        for t in range(1, len(x) + 1):
            got = _call(name, fn, W.copy(), V.copy(), [np.copy(g) for g in dL_do], t)
            mine[f"dL/dh_{t} ({label})"] = np.asarray(got)
            tape_grads[f"dL/dh_{t} ({label})"] = dL_dh[t - 1]
    report = tt.check.compare(mine, tape_grads, labels=("yours", "tape"), rtol=1e-9, atol=1e-12)
    return _from_report(name, report, "the tape's ∂L/∂h_t")


# ============================================================ lesson 2: clipping and truncation
@_grader
def check_clip_by_global_norm(fn) -> Verdict:
    """fn(grads, max_norm) -> (clipped, norm): compared with cells.train.clip_by_global_norm."""
    from cells.train import clip_by_global_norm

    name = "clip_by_global_norm"
    rng = np.random.default_rng(0)
    grads = {"dWh": rng.normal(size=(3, 3)) * 4, "dWx": rng.normal(size=(3, 2)), "dbh": rng.normal(size=(3, 1))}
    mine, ref = {}, {}
    for max_norm in (1.0, 5.0, 1e6):  # clipped hard, clipped a little, untouched
        got = _call(name, fn, {k: v.copy() for k, v in grads.items()}, max_norm)
        if not (isinstance(got, tuple) and len(got) == 2):
            return Verdict(name, False, "should return a pair (clipped grads, norm before clipping).")
        expected, norm = clip_by_global_norm(grads, max_norm)
        mine[f"norm (max_norm={max_norm:g})"] = np.asarray(float(got[1]))
        ref[f"norm (max_norm={max_norm:g})"] = np.asarray(norm)
        clipped = _as_dict(got[0], name, grads)
        for k in grads:
            mine[f"{k} (max_norm={max_norm:g})"] = clipped.get(k, np.full(1, np.nan))
            ref[f"{k} (max_norm={max_norm:g})"] = expected[k]
    report = tt.check.compare(mine, ref, labels=("yours", "cells.train"), rtol=1e-12, atol=1e-14)
    return _from_report(name, report, "cells.train.clip_by_global_norm")


def _rnn_case(seed: int, n_x=2, n_h=4, n_y=1, m=3, T=7):
    rng = np.random.default_rng(seed)
    params = {"Wh": rng.normal(size=(n_h, n_h)) * 0.6, "Wx": rng.normal(size=(n_h, n_x)),
              "bh": rng.normal(size=(n_h, 1)) * 0.1, "Wy": rng.normal(size=(n_y, n_h)),
              "by": rng.normal(size=(n_y, 1)) * 0.1}
    X = rng.normal(size=(n_x, m, T))
    Y = rng.normal(size=(n_y, m))
    return params, X, Y


@_grader
def check_rnn_backward_truncated(fn, forward=None) -> Verdict:
    """fn(dH, caches, k) -> {"dWh", "dWx", "dbh"} against the tape's truncated BPTT (cells.train).

    `forward(x, h0, parameters) -> (H, caches)` produces the caches your backward reads
    (default: the lesson's worked rnn_forward, whose caches are (h_next, h_prev, xt, parameters)).
    """
    from cells.train import truncated_loss_and_grads

    if forward is None:
        from lessons.solutions.rnn import rnn_forward as forward
    name = "rnn_backward_truncated"
    params, X, Y = _rnn_case(11)
    n_h, m, T = params["Wh"].shape[0], X.shape[1], X.shape[2]
    mine, ref = {}, {}
    for k in (1, 3, T):
        H, caches = forward(X, np.zeros((n_h, m)), {n: v.copy() for n, v in params.items()})
        dy = (params["Wy"] @ H[:, :, -1] + params["by"] - Y) / m          # seq-to-one, L = 1/(2m) Σ (ŷ − y)²
        dH = np.zeros_like(H)
        dH[:, :, -1] = params["Wy"].T @ dy
        got = _as_dict(_call(name, fn, dH, caches, k), name, ("dWh", "dWx", "dbh"))
        _, tape_grads = truncated_loss_and_grads("rnn", params, X, Y, k, method="tape")
        for g in ("dWh", "dWx", "dbh"):
            mine[f"{g} (k={k})"] = got.get(g, np.full(1, np.nan))
            ref[f"{g} (k={k})"] = tape_grads[g]
    report = tt.check.compare(mine, ref, labels=("yours", "tape, truncated"), rtol=1e-9, atol=1e-12)
    return _from_report(name, report, "the tape's truncated BPTT")


# ============================================================ lesson 3: the LSTM lab
LSTM_KEYS = ("Wf", "bf", "Wu", "bu", "Wc", "bc", "Wo", "bo", "Wy", "by")


def _lstm_case(seed: int, n_x=2, n_h=5, n_y=1, m=4, T=6):
    rng = np.random.default_rng(seed)
    params = {}
    for gate in "fuco":
        params["W" + gate] = rng.normal(size=(n_h, n_h + n_x)) * 0.5
        params["b" + gate] = rng.normal(size=(n_h, 1)) * 0.1
    params["Wy"] = rng.normal(size=(n_y, n_h))
    params["by"] = rng.normal(size=(n_y, 1)) * 0.1
    return params, rng.normal(size=(n_x, m, T)), rng.normal(size=(n_y, m))


@_grader
def check_initialize_lstm_parameters(fn) -> Verdict:
    """fn(n_x, n_h, n_y, seed) -> dict: keys and shapes, zero biases, Glorot-normal spread, seeding.

    Initialisation has no gradient to check: this grader checks the distribution
    (σ = sqrt(2 / (fan_in + fan_out)), fan_in = n_h + n_x, fan_out = n_h) on a large draw.
    """
    name = "initialize_lstm_parameters"
    n_x, n_h, n_y = 30, 120, 2
    p = _as_dict(_call(name, fn, n_x, n_h, n_y, 0), name, LSTM_KEYS)
    problems = []
    shapes = {**{f"W{g}": (n_h, n_h + n_x) for g in "fuco"}, **{f"b{g}": (n_h, 1) for g in "fuco"},
              "Wy": (n_y, n_h), "by": (n_y, 1)}
    for key, shape in shapes.items():
        if key not in p:
            problems.append(f"missing {key}")
        elif np.shape(p[key]) != shape:
            problems.append(f"{key} has shape {np.shape(p[key])}, expected {shape}")
    if not problems:
        for g in "fuco":
            if np.any(np.asarray(p["b" + g]) != 0):
                problems.append(f"b{g} should start at zero")
            std = float(np.std(p["W" + g]))
            target = math.sqrt(2.0 / ((n_h + n_x) + n_h))
            if not 0.9 * target < std < 1.1 * target:
                problems.append(f"W{g} has standard deviation {std:.4f}; Glorot normal gives "
                                f"sqrt(2/(fan_in+fan_out)) = {target:.4f} (fan_in = n_h+n_x = {n_h + n_x}, "
                                f"fan_out = n_h = {n_h})")
            if abs(float(np.mean(p["W" + g]))) > 0.1 * target:
                problems.append(f"W{g} should have mean 0 (has {float(np.mean(p['W' + g])):.4f})")
        if np.allclose(p["Wf"], p["Wu"]):
            problems.append("all gates got the same matrix: draw each gate separately")
        again = _call(name, fn, n_x, n_h, n_y, 0)
        other = _call(name, fn, n_x, n_h, n_y, 1)
        if not np.array_equal(np.asarray(again["Wf"]), np.asarray(p["Wf"])):
            problems.append("the same seed should give the same weights")
        if np.array_equal(np.asarray(other["Wf"]), np.asarray(p["Wf"])):
            problems.append("a different seed should give different weights")
    if problems:
        return Verdict(name, False, problems[0], problems[1:])
    return Verdict(name, True, "passed: shapes, zero biases, Glorot-normal spread and seeding are right.")


@_grader
def check_lstm_loss_and_grads(fn) -> Verdict:
    """fn(parameters, X, Y) -> (loss, grads) against cells.lstm.loss_and_grads(method="tape")."""
    from cells import lstm

    name = "lstm_loss_and_grads"
    params, X, Y = _lstm_case(5)
    got = _call(name, fn, {k: v.copy() for k, v in params.items()}, X.copy(), Y.copy())
    if not (isinstance(got, tuple) and len(got) == 2):
        return Verdict(name, False, "should return a pair (loss, grads).")
    loss, grads = got[0], _as_dict(got[1], name, ["d" + k for k in LSTM_KEYS])
    ref_loss, ref_grads = lstm.loss_and_grads(params, X, Y, method="tape", head="seq2one", output="identity")
    mine = {"loss": np.asarray(float(loss))}
    ref = {"loss": np.asarray(float(ref_loss))}
    for k in LSTM_KEYS:
        mine["d" + k] = grads.get("d" + k, np.full(1, np.nan))
        ref["d" + k] = ref_grads["d" + k]
    report = tt.check.compare(mine, ref, labels=("yours", "tape"), rtol=1e-9, atol=1e-12)
    return _from_report(name, report, "the tape (loss 1/(2m) Σ (ŷ − y)², (5-1))")


@_grader
def check_adam_update(fn) -> Verdict:
    """fn(parameters, grads, v, s, t, learning_rate, beta1, beta2, epsilon) over three steps vs cells.train.Adam."""
    from cells.train import Adam

    name = "adam_update"
    rng = np.random.default_rng(2)
    params = {"W": rng.normal(size=(3, 4)), "b": rng.normal(size=(3, 1))}
    ref_opt = Adam(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8)
    mine_p, ref_p, v, s = dict(params), dict(params), {}, {}
    mine, ref = {}, {}
    for t in (1, 2, 3):
        grads = {"dW": rng.normal(size=(3, 4)), "db": rng.normal(size=(3, 1))}
        got = _call(name, fn, mine_p, grads, v, s, t, 0.01, 0.9, 0.999, 1e-8)
        if not (isinstance(got, tuple) and len(got) == 3):
            return Verdict(name, False, "should return (parameters, v, s).")
        mine_p, v, s = got
        ref_p = ref_opt.step(ref_p, grads)
        for k in params:
            mine[f"{k} after step {t}"] = np.asarray(mine_p[k])
            ref[f"{k} after step {t}"] = ref_p[k]
    report = tt.check.compare(mine, ref, labels=("yours", "Adam (5-2)"), rtol=1e-10, atol=1e-13)
    return _from_report(name, report, "cells.train.Adam, the thesis's (5-2)")


@_grader
def check_predict_lstm(fn) -> Verdict:
    """fn(X, parameters) -> ŷ (n_y, m) against cells.lstm.predict (seq-to-one, identity output)."""
    from cells import lstm

    name = "predict_lstm"
    params, X, _ = _lstm_case(9)
    got = np.asarray(_call(name, fn, X.copy(), {k: v.copy() for k, v in params.items()}))
    ref = lstm.predict(params, X, head="seq2one", output="identity")
    report = tt.check.compare({"y_hat": got}, {"y_hat": ref}, labels=("yours", "cells.lstm"), rtol=1e-10, atol=1e-13)
    return _from_report(name, report, "cells.lstm.predict")


SLIP_WRONG = {"dWf", "dbf", "dWu", "dbu", "dWc", "dbc", "dxt", "dh_prev"}
SLIP_RIGHT = {"dWo", "dbo", "dc_prev"}


@_grader
def check_lstm_cell_backward_thesis_literal(fn, forward) -> Verdict:
    """Passes when fn reproduces the thesis's double count: (4-34) with (4-38)-(4-40) read literally.

    The tape should find exactly the forget-gate, update-gate and candidate gradients (and
    dxt, dh_prev, which collect them) wrong, and dWo, dbo, dc_prev right.
    """
    name = "lstm_cell_backward_thesis_literal"
    params, X, _ = _lstm_case(4)
    rng = np.random.default_rng(4)
    n_h, m = params["Wf"].shape[0], X.shape[1]
    gate_params = {k: v for k, v in params.items() if k not in ("Wy", "by")}
    report = check_backward(forward, fn, X[:, :, 0], rng.normal(size=(n_h, m)), rng.normal(size=(n_h, m)),
                            gate_params, outputs=2)     # gradients arrive at h_next and c_next
    unchecked = _learner_report_verdict(name, report)
    if unchecked is not None:
        return unchecked
    wrong = set(report.failures)
    if wrong == SLIP_WRONG:
        return Verdict(name, True, "reproduced: the tape finds exactly the gradients the double count breaks "
                                   f"({', '.join(sorted(SLIP_WRONG))}); {', '.join(sorted(SLIP_RIGHT))} stay right.")
    if not wrong:
        return Verdict(name, False, "this backward agrees with the tape: it is the correct one, not the thesis's "
                                    "literal reading. Add the h-path term to ∂L/∂c⟨t⟩ in (4-38)-(4-40) as printed.")
    return Verdict(name, False, f"the tape flags {', '.join(sorted(wrong))}; the literal reading should break exactly "
                                f"{', '.join(sorted(SLIP_WRONG))}.", [report])


# ============================================================ lesson 4: the GRU
GRU_KEYS = ("Wu", "bu", "Wr", "br", "Wh", "bh")


def _gru_case(seed: int, n_x=2, n_h=4, m=3, T=5):
    rng = np.random.default_rng(seed)
    params = {}
    for gate in "urh":
        params["W" + gate] = rng.normal(size=(n_h, n_h + n_x)) * 0.5
        params["b" + gate] = rng.normal(size=(n_h, 1)) * 0.1
    params["Wy"], params["by"] = rng.normal(size=(1, n_h)), np.zeros((1, 1))   # the head: cells.gru wants it
    return params, rng.normal(size=(n_x, m, T)), rng.normal(size=(n_h, m)) * 0.5


@_grader
def check_gru_forward(fn) -> Verdict:
    """fn(x, h0, parameters) -> (H, caches) against cells.gru.forward."""
    from cells import gru

    name = "gru_forward"
    params, X, h0 = _gru_case(1)
    got = _call(name, fn, X.copy(), h0.copy(), {k: v.copy() for k, v in params.items()})
    if not (isinstance(got, tuple) and len(got) == 2):
        return Verdict(name, False, "should return (H, caches).")
    ref_H = gru.forward(X, h0, params)[0]
    report = tt.check.compare({"H": np.asarray(got[0])}, {"H": ref_H}, labels=("yours", "cells.gru"),
                              rtol=1e-10, atol=1e-13)
    return _from_report(name, report, "cells.gru.forward")


@_grader
def check_gru_backward(fn, forward) -> Verdict:
    """fn(dH, caches) with your `forward` -> gradients, refereed by the tape on your own forward."""
    from cells import gru

    name = "gru_backward"
    params, X, h0 = _gru_case(2)
    report = check_backward(forward, fn, X, h0, params, reference=gru.forward)
    unchecked = _learner_report_verdict(name, report)
    if unchecked is not None:
        return unchecked
    if report.ok:
        return Verdict(name, True, "passed: every gradient agrees with the tape on your forward.", [])
    return Verdict(name, False, "some gradients disagree with the tape (table below).", [report])


@_grader
def check_gru_keras_cell_forward(fn) -> Verdict:
    """fn(xt, h_prev, parameters) in Keras's convention against cells.gru_keras.cell_forward."""
    from cells import gru_keras

    name = "gru_keras_cell_forward"
    params = gru_keras.init_params(2, 4, 1, seed=3)
    rng = np.random.default_rng(3)
    params["bias"] = rng.normal(size=params["bias"].shape) * 0.3   # non-zero biases, so their placement matters
    xt, h_prev = rng.normal(size=(2, 3)), rng.normal(size=(4, 3)) * 0.5
    got = _call(name, fn, xt.copy(), h_prev.copy(), {k: v.copy() for k, v in params.items()})
    got_h = np.asarray(got[0] if isinstance(got, tuple) else got)
    ref_h = gru_keras.cell_forward(xt, h_prev, params)[0]
    report = tt.check.compare({"h_next": got_h}, {"h_next": ref_h}, labels=("yours", "cells.gru_keras"),
                              rtol=1e-10, atol=1e-13)
    return _from_report(name, report, "cells.gru_keras.cell_forward")


# ============================================================ lesson 5: windows and shapes
@_grader
def check_create_sequences(fn) -> Verdict:
    """fn(series, n_in, n_out) -> (X, Y): the thesis's own check (20 values, 5 in, 2 out) and more."""
    from cells.data import create_sequences

    name = "create_sequences"
    rng = np.random.RandomState(42)
    data = rng.rand(20)                               # the lab's "Datos aleatorios generados"
    mine, ref = {}, {}
    for n_in, n_out in ((5, 2), (12, 1), (3, 3)):
        got = _call(name, fn, data.copy(), n_in, n_out)
        if not (isinstance(got, tuple) and len(got) == 2):
            return Verdict(name, False, "should return (X, Y).")
        X_ref, Y_ref = create_sequences(data, n_in, n_out)
        mine[f"X ({n_in}→{n_out})"], ref[f"X ({n_in}→{n_out})"] = np.asarray(got[0]), np.asarray(X_ref)
        mine[f"Y ({n_in}→{n_out})"], ref[f"Y ({n_in}→{n_out})"] = np.asarray(got[1]), np.asarray(Y_ref)
    report = tt.check.compare(mine, ref, labels=("yours", "cells.data"), rtol=0, atol=0)
    return _from_report(name, report, "cells.data.create_sequences (the thesis's own example among them)")


@_grader
def check_reshape_data(fn) -> Verdict:
    """fn(X, Y) -> the lab's x (1, m, T_x) and y (n_y, m), against cells.data.to_lab_shapes."""
    from cells.data import create_sequences, to_lab_shapes

    name = "reshape_data"
    X, Y = create_sequences(np.arange(30.0), 6, 2)
    got = _call(name, fn, X.copy(), Y.copy())
    if not (isinstance(got, tuple) and len(got) == 2):
        return Verdict(name, False, "should return (x, y).")
    x_ref, y_ref = to_lab_shapes(X, Y)
    report = tt.check.compare({"x": np.asarray(got[0]), "y": np.asarray(got[1])}, {"x": x_ref, "y": y_ref},
                              labels=("yours", "cells.data"), rtol=0, atol=0)
    return _from_report(name, report, "cells.data.to_lab_shapes")


# ============================================================ lesson 6: beyond the lab
@_grader
def check_softmax_cross_entropy_backward(fn, forward) -> Verdict:
    """fn(dloss, cache) -> {"dz"} with your forward(z, y) -> (loss, cache), refereed by the tape."""
    name = "softmax_cross_entropy_backward"
    rng = np.random.default_rng(6)
    n_y, m = 5, 4
    z = rng.normal(size=(n_y, m)) * 2
    y = np.eye(n_y)[:, rng.integers(0, n_y, size=m)]          # one-hot columns (n_y, m)
    loss_of_z = _call(name, forward, z.copy(), y)
    z_t = tt.Tensor(z)
    with tt.Tape() as tape:
        tape.watch(z_t)
        p = tt.softmax(z_t, axis=0)
        ref_loss = -(y * tt.log(p)).sum() / m
    ref_dz = tape.gradient(ref_loss, z_t)
    got = _as_dict(_call(name, fn, 1.0, loss_of_z[1]), name, ("dz",))
    report = tt.check.compare({"loss": np.asarray(float(loss_of_z[0])), "dz": got.get("dz", np.full(1, np.nan))},
                              {"loss": np.asarray(float(ref_loss.value)), "dz": ref_dz},
                              labels=("yours", "tape"), rtol=1e-9, atol=1e-12)
    return _from_report(name, report, "the tape")


@_grader
def check_birnn_forward(fn) -> Verdict:
    """fn(x, h0_fwd, h0_bwd, params_fwd, params_bwd, forward) -> (2 n_h, m, T_x), with forward = cells.rnn.forward.

    The referee runs cells.rnn.forward on x and on x reversed in time, step by step in its
    own loop, and concatenates [h→⟨t⟩; h←⟨t⟩] (seed 004, section 3.4).
    """
    from cells import rnn

    name = "birnn_forward"
    rng = np.random.default_rng(8)
    n_x, n_h, m, T = 2, 3, 4, 5
    p_f, p_b = rnn.init_params(n_x, n_h, 1, seed=1), rnn.init_params(n_x, n_h, 1, seed=2)
    x = rng.normal(size=(n_x, m, T))
    h0_f, h0_b = rng.normal(size=(n_h, m)) * 0.5, rng.normal(size=(n_h, m)) * 0.5
    got = np.asarray(_call(name, fn, x.copy(), h0_f.copy(), h0_b.copy(), p_f, p_b, rnn.forward))
    expected = np.zeros((2 * n_h, m, T))
    h = h0_f
    for t in range(T):                                  # left to right
        h = rnn.cell_forward(x[:, :, t], h, p_f)[0]
        expected[:n_h, :, t] = h
    h = h0_b
    for t in reversed(range(T)):                        # right to left
        h = rnn.cell_forward(x[:, :, t], h, p_b)[0]
        expected[n_h:, :, t] = h
    report = tt.check.compare({"H": got}, {"H": expected}, labels=("yours", "two RNN sweeps"), rtol=1e-10, atol=1e-13)
    return _from_report(name, report, "a forward sweep and a backward sweep concatenated")
