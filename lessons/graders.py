"""Graders for the cell exercises: the tape of the learner's own forward is the referee.

One `check_<exercise>(fn)` per exercise: rnn/lstm/gru `_cell_forward`, `_cell_backward`,
and rnn/lstm `_forward`, `_backward` (the GRU sequence graders live in graders_extra).
A forward is compared with the `cells` implementation; a backward is checked with
`tinytape.check.backward` on the learner's own forward (found beside it, or passed as
`forward=`), with the `cells` forward as the reference for the forward's outputs.
Each prints a green pass or a short explanation and returns the report.

Both exercise styles are accepted: the thesis's lab (`h_prev`, `Wu`, `Wh Wx bh`) and
the "RNN step by step" course (`a_prev`, `yt_pred`, `Wi`, `Waa Wax ba Wya`); the style is
read from the names of the forward's arguments.
"""
from __future__ import annotations

import inspect

import numpy as np

from tinytape.check.learner import backward as check_backward
from tinytape.check.learner_report import BackwardReport, LearnerError
from tinytape.check.learner import compare_gradient, learner_error

GREEN, RED, RESET = "\033[32m", "\033[31m", "\033[0m"

# The course's parameter names, mapped to the lab's (cells use the lab's).
COURSE_TO_LAB = {"Wi": "Wu", "bi": "bu", "Waa": "Wh", "Wax": "Wx", "ba": "bh", "Wya": "Wy"}


# --------------------------------------------------------------------------- inputs
def exercise_inputs(kind, style="thesis", sequence=False, seed=0, n_x=3, n_h=5, n_y=2, m=4, T=4):
    """Random inputs for an exercise: (xt, h_prev[, c_prev], parameters) or (x, h0, parameters).

    Sizes differ (n_x ≠ n_h ≠ m ≠ T) so that a transposed or swapped array cannot pass.
    """
    rng = np.random.default_rng(seed)
    if kind == "rnn":
        shapes = {"Wh": (n_h, n_h), "Wx": (n_h, n_x), "bh": (n_h, 1)}
    else:
        gates = "fuco" if kind == "lstm" else "urh"
        shapes = {}
        for g in gates:
            shapes["W" + g] = (n_h, n_h + n_x)
            shapes["b" + g] = (n_h, 1)
    shapes.update({"Wy": (n_y, n_h), "by": (n_y, 1)})
    params = {k: rng.standard_normal(s) * 0.5 for k, s in shapes.items()}
    if style == "course":
        lab_to_course = {"rnn": {"Wh": "Waa", "Wx": "Wax", "bh": "ba", "Wy": "Wya"},
                         "lstm": {"Wu": "Wi", "bu": "bi"}, "gru": {}}[kind]
        params = {lab_to_course.get(k, k): v for k, v in params.items()}
    if sequence:
        return rng.standard_normal((n_x, m, T)), rng.standard_normal((n_h, m)) * 0.5, params
    xt, h_prev = rng.standard_normal((n_x, m)), rng.standard_normal((n_h, m)) * 0.5
    if kind == "lstm":
        return xt, h_prev, rng.standard_normal((n_h, m)) * 0.5, params
    return xt, h_prev, params


def exercise_style(fn):
    """'course' if the function's arguments are named like the course (a_prev, a0), else 'thesis'."""
    try:
        names = set(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return "thesis"
    return "course" if names & {"a_prev", "a0", "da_next", "da"} else "thesis"


def _cells_module(kind):
    from cells import gru, lstm, rnn
    return {"rnn": rnn, "lstm": lstm, "gru": gru}[kind]


def reference_forward(kind, sequence):
    """The `cells` forward, accepting the course's parameter names too."""
    module = _cells_module(kind)
    fn = module.forward if sequence else module.cell_forward

    def reference(*args):
        args = list(args)
        params = {COURSE_TO_LAB.get(k, k): v for k, v in args[-1].items()}
        return fn(*args[:-1], params)
    reference.__name__ = f"cells.{kind}.{fn.__name__}"
    return reference


# Which of the learner's outputs are states, per exercise and style, and where the
# reference has them: {learner output index: reference output index}.
def _state_outputs(kind, sequence, style):
    if style == "course" and kind == "lstm" and sequence:
        return {0: 0, 2: 1}           # (a, y, c, caches) vs (H, C, caches)
    if kind == "lstm":
        return {0: 0, 1: 1}
    return {0: 0}


# --------------------------------------------------------------------------- output
def _show(report, name):
    if report.ok:
        print(f"{GREEN}✔ {name}: passed. {_pass_detail(report)}{RESET}")
        return
    if report.not_implemented:
        print(f"✋ {name}: not implemented yet. Fill in the function, run its cell, then this one.")
        return
    print(f"{RED}✘ {name}{RESET}")
    try:
        from IPython import get_ipython
        from IPython.display import display
        if get_ipython() is not None and getattr(get_ipython(), "kernel", None) is not None:
            display(report)
            _maybe_draw(report)
            return
    except ImportError:
        pass
    print(report)


def _pass_detail(report):
    if report.rows:
        return f"All {len(report.rows)} gradients agree with the tape on your own forward."
    return "Your outputs agree with cells' implementation."


def _maybe_draw(report):
    # The drawing of the learner's forward with the disagreeing part outlined: only in a
    # notebook, only when rendering works (visuals needs pygraphviz or dot).
    if report.tape is None or not report.disagreeing_records:
        return
    try:
        from IPython.display import SVG, display

        import visuals
        display(SVG(visuals.render(visuals.draw(report), "svg")))
    except Exception as exc:       # a drawing is a bonus: say why it is missing, never crash
        print(f"(no drawing: {type(exc).__name__}: {exc})")


# --------------------------------------------------------------------------- graders
def _grade_forward(fn, kind, sequence, quiet=False):
    name = fn.__name__ if hasattr(fn, "__name__") else f"{kind}_forward"
    style = exercise_style(fn)
    args = exercise_inputs(kind, style, sequence, seed=1)
    report = BackwardReport(name, "-")
    try:
        result = fn(*[a.copy() if isinstance(a, np.ndarray) else dict(a) for a in args])
    except Exception as exc:
        report.error = learner_error(fn, "forward", exc, False)
        report.not_implemented = isinstance(exc, NotImplementedError)
        if not quiet:
            _show(report, name)
        return report
    if not isinstance(result, tuple) or len(result) < 2:
        report.error = LearnerError(name, "forward", "wrong return",
                                    "return the outputs and then the cache, e.g. "
                                    "`return h_next, cache`", None, "")
    else:
        ref = reference_forward(kind, sequence)(*args)
        report.forward_ok = True
        labels = ["h", "c"] if kind == "lstm" else ["h"]
        for (mine, theirs), label in zip(_state_outputs(kind, sequence, style).items(), labels):
            label = label.upper() if sequence else label + "_next"
            if mine >= len(result) - 1:
                report.error = LearnerError(name, "forward", "wrong return",
                                            f"it returns {len(result) - 1} output(s) before the cache; "
                                            f"the {label} output is missing", None, "")
                break
            row = compare_gradient(label, result[mine], ref[theirs], 1e-10, 1e-8)
            report.forward_rows.append(row)
            report.forward_ok = report.forward_ok and row.ok
    if not quiet:
        _show(report, name)
    return report


def _grade_backward(fn, forward, kind, sequence, quiet=False):
    name = getattr(fn, "__name__", "backward")
    forward_name = f"{kind}_{'' if sequence else 'cell_'}forward"
    if forward is None:
        forward = getattr(fn, "__globals__", {}).get(forward_name)
    if forward is None:
        raise TypeError(f"check_{name}: pass your forward too: check_{name}({name}, {forward_name})")
    style = exercise_style(forward)
    args = exercise_inputs(kind, style, sequence, seed=2)
    report = check_backward(forward, fn, *args, reference=reference_forward(kind, sequence))
    if not quiet:
        _show(report, name)
    return report


def check_rnn_cell_forward(fn, quiet=False):
    """rnn_cell_forward(xt, h_prev, parameters) -> (h_next, cache), against cells.rnn."""
    return _grade_forward(fn, "rnn", False, quiet)


def check_rnn_cell_backward(fn, forward=None, quiet=False):
    """rnn_cell_backward(dh_next, cache) -> dict, refereed by the tape of your rnn_cell_forward."""
    return _grade_backward(fn, forward, "rnn", False, quiet)


def check_rnn_forward(fn, quiet=False):
    """rnn_forward(x, h0, parameters) -> (H, caches), against cells.rnn.forward."""
    return _grade_forward(fn, "rnn", True, quiet)


def check_rnn_backward(fn, forward=None, quiet=False):
    """rnn_backward(dH, caches) -> dict, refereed by the tape of your rnn_forward."""
    return _grade_backward(fn, forward, "rnn", True, quiet)


def check_lstm_cell_forward(fn, quiet=False):
    """lstm_cell_forward(xt, h_prev, c_prev, parameters) -> (h_next, c_next, cache)."""
    return _grade_forward(fn, "lstm", False, quiet)


def check_lstm_cell_backward(fn, forward=None, quiet=False):
    """lstm_cell_backward(dh_next, dc_next, cache) -> dict, refereed by the tape."""
    return _grade_backward(fn, forward, "lstm", False, quiet)


def check_lstm_forward(fn, quiet=False):
    """lstm_forward(x, h0, parameters) -> (H, C, caches), against cells.lstm.forward."""
    return _grade_forward(fn, "lstm", True, quiet)


def check_lstm_backward(fn, forward=None, quiet=False):
    """lstm_backward(dH, caches) -> dict, refereed by the tape of your lstm_forward."""
    return _grade_backward(fn, forward, "lstm", True, quiet)


def check_gru_cell_forward(fn, quiet=False):
    """gru_cell_forward(xt, h_prev, parameters) -> (h_next, cache), lab convention (4-46)."""
    return _grade_forward(fn, "gru", False, quiet)


def check_gru_cell_backward(fn, forward=None, quiet=False):
    """gru_cell_backward(dh_next, cache) -> dict, refereed by the tape of your gru_cell_forward."""
    return _grade_backward(fn, forward, "gru", False, quiet)
