"""tinytape.check.backward: the tape of the learner's own forward referees their backward.

The corpus in tests/learner_corpus holds correct exercise code in both styles (the
thesis's lab and the "RNN step by step" course) and realistic buggy backwards; each
buggy module states (WRONG, GATE) which gradients it breaks and which gate is at fault.
"""
import importlib
import pathlib

import numpy
import numpy as np
import pytest

from lessons.graders import exercise_inputs, reference_forward
from tinytape.check.learner import backward as check_backward
from learner_corpus import (gru_course, gru_thesis, lstm_course, lstm_thesis, rnn_course,
                            rnn_thesis)

CORPUS = pathlib.Path(__file__).parent / "learner_corpus"
BUGS = sorted(p.stem for p in CORPUS.glob("bug_*.py"))

CORRECT = [
    # (forward, backward, kind, style, sequence)
    (lstm_thesis.lstm_cell_forward, lstm_thesis.lstm_cell_backward, "lstm", "thesis", False),
    (lstm_thesis.lstm_forward, lstm_thesis.lstm_backward, "lstm", "thesis", True),
    (lstm_course.lstm_cell_forward, lstm_course.lstm_cell_backward, "lstm", "course", False),
    (lstm_course.lstm_forward, lstm_course.lstm_backward, "lstm", "course", True),
    (rnn_thesis.rnn_cell_forward, rnn_thesis.rnn_cell_backward, "rnn", "thesis", False),
    (rnn_course.rnn_cell_forward, rnn_course.rnn_cell_backward, "rnn", "course", False),
    (rnn_course.rnn_forward, rnn_course.rnn_backward, "rnn", "course", True),
    (gru_thesis.gru_cell_forward, gru_thesis.gru_cell_backward, "gru", "thesis", False),
    (gru_course.gru_cell_forward, gru_course.gru_cell_backward, "gru", "course", False),
]


def _bug(name):
    return importlib.import_module(f"learner_corpus.{name}")


def _inputs(module, seed=3):
    kind = module.EXERCISE.replace("_cell", "")
    return exercise_inputs(kind, module.STYLE, sequence=not module.EXERCISE.endswith("_cell"), seed=seed)


# ------------------------------------------------------------------ correct code passes
@pytest.mark.parametrize("forward, backward, kind, style, sequence", CORRECT,
                         ids=[f"{c[0].__module__.split('.')[-1]}.{c[0].__name__}" for c in CORRECT])
def test_correct_implementations_pass_in_both_styles(forward, backward, kind, style, sequence):
    args = exercise_inputs(kind, style, sequence, seed=5)
    report = check_backward(forward, backward, *args, reference=reference_forward(kind, sequence))
    assert report.error is None, str(report)
    assert report.forward_ok is True
    assert report.ok, str(report)
    assert report.failures == [] and report.missing == [] and report.unexpected == []
    # Wy, by do not reach the graded outputs: they are not demanded.
    names = {r.name for r in report.rows}
    assert not names & {"dWy", "dWya", "dby"}
    assert "agree" in str(report).splitlines()[0]


def test_course_style_gradient_names_and_graded_outputs():
    args = exercise_inputs("lstm", "course", seed=1)
    report = check_backward(lstm_course.lstm_cell_forward, lstm_course.lstm_cell_backward, *args)
    # da_prev (a_prev argument), dWi (course key), yt_pred not graded: 2 outputs from the signature
    assert {"dxt", "da_prev", "dc_prev", "dWi", "dbi"} <= {r.name for r in report.rows}
    assert report.output_names == ["a_next", "c_next"]
    assert len(report.cotangents) == 2 and len(report.target_keys) == 2


def test_the_tape_is_the_referee_against_finite_differences():
    # An independent check of the referee itself: central differences of <outputs, cotangents>.
    args = exercise_inputs("gru", "thesis", seed=7)
    report = check_backward(gru_thesis.gru_cell_forward, gru_thesis.gru_cell_backward, *args)
    xt, h_prev, params = args
    ct = report.cotangents[0]

    def f(h):
        return float(np.sum(gru_thesis.gru_cell_forward(xt, h, params)[0] * ct))
    numeric = np.zeros_like(h_prev)
    for idx in np.ndindex(h_prev.shape):
        e = np.zeros_like(h_prev)
        e[idx] = 1e-6
        numeric[idx] = (f(h_prev + e) - f(h_prev - e)) / 2e-6
    yours = gru_thesis.gru_cell_backward(ct, gru_thesis.gru_cell_forward(xt, h_prev, params)[1])
    np.testing.assert_allclose(yours["dh_prev"], numeric, atol=1e-8)
    assert report.row("dh_prev").ok


# ------------------------------------------------------------------ the buggy corpus
def test_corpus_is_large_and_spans_cells_and_styles():
    modules = [_bug(n) for n in BUGS]
    assert len(modules) >= 15
    assert {m.EXERCISE.split("_")[0] for m in modules} == {"rnn", "lstm", "gru"}
    assert {m.STYLE for m in modules} == {"thesis", "course"}
    for m in modules:
        assert m.__doc__ and "BUG" in pathlib.Path(m.__file__).read_text()


@pytest.mark.parametrize("name", BUGS)
def test_each_bug_is_flagged_with_exactly_the_wrong_gradients(name):
    module = _bug(name)
    report = check_backward(module.forward, module.backward, *_inputs(module))
    assert report.error is None, str(report)
    assert set(report.failures) == module.WRONG, str(report)
    assert not report.ok
    # Every named gradient appears in the printed table as WRONG, and no right one does.
    text = str(report)
    for row in report.rows:
        line = next(line for line in text.splitlines() if line.strip().startswith(row.name + " "))
        assert ("WRONG" in line) == (row.name in module.WRONG), line


@pytest.mark.parametrize("name", [n for n in BUGS if _bug(n).GATE])
def test_single_gate_bugs_are_localized_at_their_gate(name):
    module = _bug(name)
    report = check_backward(module.forward, module.backward, *_inputs(module))
    loc = report.localization
    assert loc.gate == module.GATE, loc.text
    assert loc.records, "the drawing needs records to highlight"
    assert report.disagreeing_records == loc.records
    gate_words = {"forget": "forget gate", "update": "update", "candidate": "candidate",
                  "output": "output gate"}[module.GATE]
    assert gate_words in loc.text


def test_localization_words_name_the_gate_formula_and_its_use():
    args = exercise_inputs("lstm", "thesis", seed=2)

    def only_forget_param_grads_wrong(dh_next, dc_next, cache):
        grads = lstm_thesis.lstm_cell_backward(dh_next, dc_next, cache)
        grads["dWf"] = grads["dWf"] * 1.5
        grads["dbf"] = grads["dbf"] * 1.5
        return grads

    report = check_backward(lstm_thesis.lstm_cell_forward, only_forget_param_grads_wrong, *args)
    assert set(report.failures) == {"dWf", "dbf"}
    text = report.localization.text
    assert text.startswith("dWf and dbf disagree; everything else agrees")
    assert "Γf = σ(Wf[h;x]+bf)" in text and "c = Γf*c_prev + Γu*c̃" in text
    # The highlighted records use the forget gate's parameters.
    tape = report.tape
    wf, bf = (next(k for k, n in tape.names.items() if n == name) for name in ("Wf", "bf"))
    used = {k for i in report.disagreeing_records for k in tape.records[i].inputs}
    assert {wf, bf} <= used


def test_localization_records_lie_on_wrong_paths_only():
    # GRU with the (1-Γu) path missing from dh_prev: dh_prev alone is wrong; the ops named
    # are those the gradients of h_prev flow through, and are on the tape.
    module = _bug("bug_gru_one_minus_u_path_missing")
    report = check_backward(module.forward, module.backward, *_inputs(module))
    records = report.tape.records
    assert report.disagreeing_records
    assert all(0 <= i < len(records) for i in report.disagreeing_records)
    a_prev = next(k for k, n in report.tape.names.items() if n == "a_prev")
    assert all(a_prev in records[i].inputs for i in report.disagreeing_records)


# ------------------------------------------------------------------ sequences
def test_sequence_bug_first_bites_one_step_back_from_the_end():
    module = _bug("bug_lstm_seq_da_not_carried")
    args = _inputs(module)
    report = check_backward(module.forward, module.backward, *args)
    T = args[0].shape[2]
    step = report.first_bad_step
    assert step is not None and step.T == T
    assert step.steps_from_end == module.FIRST_BAD_STEPS_FROM_END
    assert step.t == T - 2 and step.which == ["da_next"]
    assert "t = 2" in str(report)


def test_sequence_with_a_wrong_cell_backward_bites_where_the_carry_first_matters():
    # dc_prev wrong in the cell: the last step gets dc_next = 0 (right), the step before
    # gets the learner's wrong dc_prev.
    cell = _bug("bug_lstm_dc_next_missing")
    args = exercise_inputs("lstm", "course", sequence=True, seed=4)
    saved = lstm_course.lstm_cell_backward
    lstm_course.lstm_cell_backward = cell.backward
    try:
        report = check_backward(lstm_course.lstm_forward, lstm_course.lstm_backward, *args)
    finally:
        lstm_course.lstm_cell_backward = saved
    assert not report.ok
    assert report.first_bad_step.steps_from_end >= 1
    assert "dc_next" in report.first_bad_step.which


def _rnn_forward_inline(x, h0, parameters):
    hs, caches, h = [], [], h0
    for t in range(x.shape[2]):
        h_prev = h
        h = np.tanh(parameters["Wh"] @ h_prev + parameters["Wx"] @ x[:, :, t] + parameters["bh"])
        hs.append(h)
        caches.append((h, h_prev, x[:, :, t]))
    return np.stack(hs, axis=2), (caches, parameters)


def _rnn_backward_inline_no_carry(dh, caches):
    caches, parameters = caches
    grads = {"dWh": 0.0, "dWx": 0.0, "dbh": 0.0}
    dx = []
    for t in reversed(range(dh.shape[2])):
        h, h_prev, xt = caches[t]
        dz = dh[:, :, t] * (1 - h ** 2)          # BUG: + the gradient from step t+1 is missing
        dx.append(parameters["Wx"].T @ dz)
        grads["dWh"] = grads["dWh"] + dz @ h_prev.T
        grads["dWx"] = grads["dWx"] + dz @ xt.T
        grads["dbh"] = grads["dbh"] + dz.sum(axis=1, keepdims=True)
    grads["dx"] = np.stack(dx[::-1], axis=2)
    grads["dh0"] = parameters["Wh"].T @ dz
    return grads


def test_sequence_without_a_cell_function_uses_dx_slices():
    args = exercise_inputs("rnn", "thesis", sequence=True, seed=6)
    report = check_backward(_rnn_forward_inline, _rnn_backward_inline_no_carry, *args)
    T = args[0].shape[2]
    assert {"dx", "dWh"} <= set(report.failures)
    assert report.first_bad_step.t == T - 2 and report.first_bad_step.steps_from_end == 1


def test_preallocating_forward_is_recorded_with_setitem():
    args = exercise_inputs("rnn", "course", sequence=True, seed=2)
    report = check_backward(rnn_course.rnn_forward, rnn_course.rnn_backward, *args)
    assert report.ok, str(report)
    ops = {r.op.name for r in report.tape.records}
    assert "setitem" in ops
    # One scope per time step, for drawings.
    assert {r.scope for r in report.tape.records} >= {"t=0", "t=3"}
    # numpy_shim restored the learner's module afterwards.
    assert rnn_course.np is np


# ------------------------------------------------------------------ forward vs reference
def test_wrong_forward_is_reported_as_a_wrong_forward_not_a_backward_bug():
    def forward_sigmoid_candidate(xt, h_prev, c_prev, parameters):     # c̃ with σ, not tanh
        concat = np.concatenate([h_prev, xt], axis=0)
        p = parameters
        gf = lstm_thesis.sigmoid(p["Wf"] @ concat + p["bf"])
        gu = lstm_thesis.sigmoid(p["Wu"] @ concat + p["bu"])
        cc = lstm_thesis.sigmoid(p["Wc"] @ concat + p["bc"])
        go = lstm_thesis.sigmoid(p["Wo"] @ concat + p["bo"])
        c_next = gf * c_prev + gu * cc
        h_next = go * np.tanh(c_next)
        return h_next, c_next, (h_next, c_next, h_prev, c_prev, gf, gu, cc, go, xt, p)

    def backward_consistent(dh_next, dc_next, cache):    # right for the σ candidate
        grads = lstm_thesis.lstm_cell_backward(dh_next, dc_next, cache)
        (h_next, c_next, h_prev, c_prev, gf, gu, cc, go, xt, p) = cache
        dc = dc_next + dh_next * go * (1 - np.tanh(c_next) ** 2)
        dzc = dc * gu * cc * (1 - cc)
        concat = np.concatenate([h_prev, xt], axis=0)
        old = dc * gu * (1 - cc ** 2)
        grads["dWc"], grads["dbc"] = dzc @ concat.T, dzc.sum(axis=1, keepdims=True)
        dconcat = p["Wc"].T @ (dzc - old)
        grads["dh_prev"] = grads["dh_prev"] + dconcat[:h_prev.shape[0]]
        grads["dxt"] = grads["dxt"] + dconcat[h_prev.shape[0]:]
        return grads

    args = exercise_inputs("lstm", "thesis", seed=8)
    report = check_backward(forward_sigmoid_candidate, backward_consistent, *args,
                            reference=reference_forward("lstm", False))
    assert report.forward_ok is False
    assert {r.name for r in report.forward_rows if not r.ok} == {"h_next", "c_next"}
    assert report.failures == []          # the backward is consistent with this forward
    assert not report.ok
    assert "FORWARD is wrong" in str(report)


# ------------------------------------------------------------------ learner code misbehaving
def _raising_backward(dh_next, cache):
    h_next, z, h_prev, xt, parameters = cache
    dz = dh_next * (1 - h_next ** 2)
    return {"dxt": np.dot(parameters["Wx"], dz)}          # wrong operand order: shapes fail


def test_exception_in_learner_backward_is_two_lines_with_their_line():
    args = exercise_inputs("rnn", "thesis", seed=1)
    report = check_backward(rnn_thesis.rnn_cell_forward, _raising_backward, *args)
    assert not report.ok and report.error is not None
    err = str(report.error)
    assert len(err.splitlines()) == 2
    assert "ValueError" in err and "test_check_backward.py:" in err and "np.dot(parameters" in err
    assert "Traceback" not in str(report)
    assert len(str(report).splitlines()) == 3


def test_not_implemented_learner_code_gets_a_friendly_verdict():
    def stub(dh_next, cache):
        raise NotImplementedError("Exercise 1.2: write rnn_cell_backward")

    report = check_backward(rnn_thesis.rnn_cell_forward, stub, *exercise_inputs("rnn", "thesis"))
    assert report.not_implemented and not report.ok
    assert "not implemented yet" in str(report)

    def returns_none(dh_next, cache):
        pass

    report = check_backward(rnn_thesis.rnn_cell_forward, returns_none, *exercise_inputs("rnn", "thesis"))
    assert report.not_implemented and "not implemented yet" in str(report)


def test_exception_in_learner_forward_is_reported():
    def forward(xt, h_prev, parameters):
        return np.tanh(parameters["W_h"] @ h_prev), None       # KeyError: wrong key

    report = check_backward(forward, rnn_thesis.rnn_cell_backward, *exercise_inputs("rnn", "thesis"))
    assert report.error.phase == "forward" and report.error.kind == "KeyError"
    assert "W_h" in str(report.error)


def test_wrong_shapes_missing_and_unexpected_keys():
    def sloppy(dh_next, cache):
        grads = rnn_thesis.rnn_cell_backward(dh_next, cache)
        grads["dWx"] = grads["dWx"].T                 # wrong shape
        grads["dbh"] = grads["dbh"].ravel()           # wrong shape, right values
        grads["dW_h"] = grads.pop("dWh")              # misspelled key
        return grads

    report = check_backward(rnn_thesis.rnn_cell_forward, sloppy, *exercise_inputs("rnn", "thesis"))
    assert set(report.failures) == {"dWx", "dbh", "dWh"}
    assert report.row("dWx").verdict == "wrong shape"
    assert report.missing == ["dWh"]
    assert report.unexpected == [("dW_h", "dWh")]
    text = str(report)
    assert "missing: dWh" in text and "did you mean dWh?" in text
    assert report.row("dbh").diagnosis_kind == "reshaped"


def test_returning_a_tuple_is_a_clear_verdict():
    def as_tuple(dh_next, cache):
        g = rnn_thesis.rnn_cell_backward(dh_next, cache)
        return g["dxt"], g["dh_prev"]

    report = check_backward(rnn_thesis.rnn_cell_forward, as_tuple, *exercise_inputs("rnn", "thesis"))
    assert report.error.kind == "wrong return" and "dict" in str(report.error)


def test_gradient_of_a_parameter_that_does_not_matter_must_be_zero():
    def with_dwy(da_next, cache):
        grads = rnn_course.rnn_cell_backward(da_next, cache)
        grads["dWya"] = np.ones((2, 5))                # Wya does not affect a_next
        return grads

    report = check_backward(rnn_course.rnn_cell_forward, with_dwy, *exercise_inputs("rnn", "course"))
    assert report.failures == ["dWya"]
    assert "does not affect a_next" in report.row("dWya").note


def test_forward_leaving_the_tape_is_said_clearly():
    def forward_copies(xt, h_prev, parameters):
        z = parameters["Wh"] @ h_prev + parameters["Wx"] @ xt + parameters["bh"]
        z = np.array(z, dtype=float)          # a copy into a plain array: leaves the tape
        h_next = np.tanh(z)
        return h_next, (h_next, z, h_prev, xt, parameters)

    report = check_backward(forward_copies, rnn_thesis.rnn_cell_backward, *exercise_inputs("rnn", "thesis"))
    assert report.error is not None and not report.ok
    assert "tinytape Tensors" in str(report) and "plain NumPy array" in str(report)


def test_outputs_and_names_overrides():
    args = exercise_inputs("rnn", "thesis", seed=9)

    def backward_star(*grads_and_cache):
        return {"grad_x": rnn_thesis.rnn_cell_backward(*grads_and_cache)["dxt"]}

    report = check_backward(rnn_thesis.rnn_cell_forward, backward_star, *args, outputs=1,
                            names={"dxt": "grad_x"})
    assert report.row("grad_x").ok
    assert "dWh" in report.missing


def test_html_report_is_green_or_red():
    args = exercise_inputs("rnn", "thesis", seed=1)
    good = check_backward(rnn_thesis.rnn_cell_forward, rnn_thesis.rnn_cell_backward, *args)
    bad = check_backward(*(lambda m: (m.forward, m.backward))(_bug("bug_rnn_tanh_at_preactivation")), *args)
    assert "#d4f4d4" in good._repr_html_() and "#f8d0d0" not in good._repr_html_()
    html = bad._repr_html_()
    assert "#f8d0d0" in html and "dWh" in html and "<table>" in html


def test_float32_inputs_pass_and_bugs_still_show():
    def f32(args):
        return tuple({k: v.astype(np.float32) for k, v in a.items()} if isinstance(a, dict)
                     else a.astype(np.float32) for a in args)

    args = f32(exercise_inputs("lstm", "thesis", seed=12))
    report = check_backward(lstm_thesis.lstm_cell_forward, lstm_thesis.lstm_cell_backward, *args)
    assert report.ok, str(report)
    assert report.rtol == 1e-4
    bug = _bug("bug_lstm_slip_4_39")
    report = check_backward(bug.forward, bug.backward, *args)
    assert set(report.failures) == bug.WRONG


def test_the_report_carries_what_a_drawing_needs():
    import visuals

    bug = _bug("bug_lstm_forget_tanh_derivative")
    report = check_backward(bug.forward, bug.backward, *_inputs(bug))
    tape = report.tape
    assert len(report.target_keys) == 2          # h_next and c_next got output gradients
    assert all(tape.producer(k) is not None for k in report.target_keys)
    assert set(report.wrong_keys) == {k for k, n in tape.names.items() if "d" + n in bug.WRONG}
    drawing = visuals.draw(report)          # duck-typed: .tape, .disagreeing_records, .target_keys
    assert drawing.n_nodes > 0 and drawing.source.startswith(("digraph", "strict digraph"))


def test_a_forward_that_is_not_repeatable_is_refused():
    rng = np.random.default_rng(0)

    def noisy_forward(xt, h_prev, parameters):          # dropout-like noise on every call
        h_next, cache = rnn_thesis.rnn_cell_forward(xt, h_prev, parameters)
        return h_next * rng.uniform(0.5, 1.5, size=h_next.shape), cache

    report = check_backward(noisy_forward, rnn_thesis.rnn_cell_backward, *exercise_inputs("rnn", "thesis"))
    assert report.error.kind == "not repeatable" and report.failures == []


def _gru_forward_prealloc(x, h0, parameters):
    """Sequence forward preallocating with np.empty and filling slices, course-style."""
    n_h, m = h0.shape
    T = x.shape[2]
    H = np.empty((n_h, m, T))
    caches = []
    h = h0
    for t in range(T):
        h, cache = gru_thesis.gru_cell_forward(x[:, :, t], h, parameters)
        H[:, :, t] = h
        caches.append(cache)
    return H, caches


def _gru_backward(dH, caches):
    n_h, m, T = dH.shape
    grads, dx, dh_prev = {}, [], np.zeros((n_h, m))
    for t in reversed(range(T)):
        step = gru_thesis.gru_cell_backward(dH[:, :, t] + dh_prev, caches[t])
        dh_prev = step["dh_prev"]
        dx.append(step["dxt"])
        for k in ("dWu", "dbu", "dWr", "dbr", "dWh", "dbh"):
            grads[k] = grads.get(k, 0.0) + step[k]
    grads["dx"], grads["dh0"] = np.stack(dx[::-1], axis=2), dh_prev
    return grads


def test_np_empty_preallocation_and_the_shim_is_undone_even_after_an_error():
    args = exercise_inputs("gru", "thesis", sequence=True, seed=13)
    report = check_backward(_gru_forward_prealloc, _gru_backward, *args)
    assert report.ok, str(report)
    assert globals()["np"] is numpy            # the shim swapped this module's np, and put it back

    def broken(x, h0, parameters):
        np.zeros((2, 2))[0, 0] = h0[0, 0]     # an ndarray filled with a Tensor entry
        raise RuntimeError("stop")

    report = check_backward(broken, _gru_backward, *args)
    assert report.error is not None and "stop" in str(report.error)
    assert globals()["np"] is numpy and type(np.zeros(1)) is numpy.ndarray
