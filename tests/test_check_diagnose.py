"""Each diagnosis of tinytape.check is tested with a crafted bug (and the corpus's real ones).

A diagnosis must name the mistake when a wrong gradient equals the tape's up to it, and
must never be attached to a right gradient.
"""
import functools
import importlib
import pathlib

import numpy as np
import pytest

from lessons.graders import exercise_inputs
from tinytape.check import localize
from tinytape.check.learner import backward as check_backward
from learner_corpus import gru_thesis, lstm_thesis, rnn_thesis

M = 4   # the batch size exercise_inputs uses


def _crafted(correct, name, change):
    """A backward that is `correct` except for one gradient, changed by `change`."""
    @functools.wraps(correct)       # keeps the signature: it says how many output gradients
    def backward(*args):
        grads = correct(*args)
        grads[name] = change(grads[name])
        return grads
    return backward


def _check(forward, backward, kind, sequence=False, seed=11):
    return check_backward(forward, backward, *exercise_inputs(kind, "thesis", sequence, seed=seed))


@pytest.mark.parametrize("change, kind, words", [
    (lambda g: -g, "sign", "sign flipped"),
    (lambda g: g / M, "factor_m", "batch size m = 4"),
    (lambda g: g * M, "factor_m", "batch size m = 4"),
    (lambda g: 3.0 * g, "factor", "3"),
    (lambda g: 2.0 * g, "factor", "counted twice"),
    (lambda g: g.T, "transposed", "transpose"),
    (lambda g: np.zeros_like(g), "zero", "zeros"),
])
def test_value_transformations_of_one_gradient(change, kind, words):
    report = _check(rnn_thesis.rnn_cell_forward,
                    _crafted(rnn_thesis.rnn_cell_backward, "dWx", change), "rnn")
    assert report.failures == ["dWx"]
    row = report.row("dWx")
    assert row.diagnosis_kind == kind, row.diagnosis
    assert words in row.diagnosis
    assert all(not r.diagnosis for r in report.rows if r.ok)


def test_bias_not_summed_over_the_batch():
    def backward(dh_next, cache):
        grads = rnn_thesis.rnn_cell_backward(dh_next, cache)
        h_next = cache[0]
        grads["dbh"] = dh_next * (1 - h_next ** 2)          # (n_h, m): one column per example
        return grads

    report = _check(rnn_thesis.rnn_cell_forward, backward, "rnn")
    assert report.failures == ["dbh"]
    assert report.row("dbh").diagnosis_kind == "batch_not_summed"
    assert "axis=1" in report.row("dbh").diagnosis


def test_h_and_x_slices_of_a_gate_matrix_swapped():
    def swap(g):
        n_h = g.shape[0]
        return np.concatenate([g[:, n_h:], g[:, :n_h]], axis=1)

    report = _check(lstm_thesis.lstm_cell_forward,
                    _crafted(lstm_thesis.lstm_cell_backward, "dWo", swap), "lstm")
    assert report.failures == ["dWo"]
    assert report.row("dWo").diagnosis_kind == "slices_swapped"
    assert "[h_prev; x]" in report.row("dWo").diagnosis


def _rnn_backward_assigning(dh, caches):
    """rnn_backward that assigns the per-step parameter gradients (the last visited: t=0)."""
    caches, x = caches
    n_h, m, T = dh.shape
    dx, dh_prev = np.zeros(x.shape), np.zeros((n_h, m))
    for t in reversed(range(T)):
        g = rnn_thesis.rnn_cell_backward(dh[:, :, t] + dh_prev, caches[t])
        dx[:, :, t], dh_prev = g["dxt"], g["dh_prev"]
        dWh, dWx, dbh = g["dWh"], g["dWx"], g["dbh"]         # BUG: = instead of +=
    return {"dx": dx, "dh0": dh_prev, "dWh": dWh, "dWx": dWx, "dbh": dbh}


def _rnn_forward(x, h0, parameters):
    caches, hs, h = [], [], h0
    for t in range(x.shape[2]):
        h, cache = rnn_thesis.rnn_cell_forward(x[:, :, t], h, parameters)
        hs.append(h)
        caches.append(cache)
    return np.stack(hs, axis=2), (caches, x)


def test_only_one_time_steps_contribution():
    report = _check(_rnn_forward, _rnn_backward_assigning, "rnn", sequence=True)
    assert set(report.failures) == {"dWh", "dWx", "dbh"}
    for name in ("dWh", "dWx", "dbh"):
        row = report.row(name)
        assert row.diagnosis_kind == "one_step_only", row.diagnosis
        assert "t = 0" in row.diagnosis and "+=" in row.diagnosis


def test_tanh_derivative_at_the_pre_activation():
    def backward(dh_next, cache):
        h_next, z, h_prev, xt, parameters = cache
        dz = dh_next * (1 - z ** 2)
        return {"dxt": parameters["Wx"].T @ dz, "dh_prev": parameters["Wh"].T @ dz,
                "dWx": dz @ xt.T, "dWh": dz @ h_prev.T, "dbh": dz.sum(axis=1, keepdims=True)}

    report = _check(rnn_thesis.rnn_cell_forward, backward, "rnn")
    assert set(report.failures) == {"dxt", "dh_prev", "dWx", "dWh", "dbh"}
    assert {r.diagnosis_kind for r in report.rows if not r.ok} == {"derivative_point"}
    assert "pre-activation" in report.row("dWh").diagnosis
    assert "rnn_thesis.py:7" in report.row("dWh").diagnosis     # the tanh's line


def test_sigmoid_derivative_at_the_pre_activation_in_a_learner_helper():
    # The forward's sigmoid is a helper, 1/(1+np.exp(-z)): recognised as one σ node, and
    # the words point at the caller's line (the gate), not at the helper.
    def backward(dh_next, dc_next, cache):
        grads = lstm_thesis.lstm_cell_backward(dh_next, dc_next, cache)
        (h_next, c_next, h_prev, c_prev, gf, gu, cc, go, xt, p) = cache
        concat = np.concatenate([h_prev, xt], axis=0)
        zo = p["Wo"] @ concat + p["bo"]
        dzo_wrong = dh_next * np.tanh(c_next) * zo * (1 - zo)
        grads["dWo"] = dzo_wrong @ concat.T
        grads["dbo"] = dzo_wrong.sum(axis=1, keepdims=True)
        return grads

    report = _check(lstm_thesis.lstm_cell_forward, backward, "lstm")
    assert set(report.failures) == {"dWo", "dbo"}
    assert report.row("dWo").diagnosis_kind == "derivative_point"
    assert "lstm_thesis.py:21" in report.row("dWo").diagnosis      # go = sigmoid(Wo @ ...)
    assert report.localization.gate == "output"


def _corpus(name):
    module = importlib.import_module(f"learner_corpus.{name}")
    kind = module.EXERCISE.replace("_cell", "")
    args = exercise_inputs(kind, module.STYLE, sequence=not module.EXERCISE.endswith("_cell"), seed=3)
    return module, check_backward(module.forward, module.backward, *args)


CORPUS = pathlib.Path(__file__).parent / "learner_corpus"
DIAGNOSED = sorted(p.stem for p in CORPUS.glob("bug_*.py")
                   if importlib.import_module(f"learner_corpus.{p.stem}").DIAGNOSIS)


@pytest.mark.parametrize("name", DIAGNOSED)
def test_corpus_bugs_get_their_diagnosis(name):
    module, report = _corpus(name)
    kinds = {r.diagnosis_kind for r in report.rows if not r.ok}
    assert module.DIAGNOSIS in kinds, str(report)
    assert all(not r.diagnosis for r in report.rows if r.ok)


def test_missing_branch_through_c():
    module, report = _corpus("bug_lstm_c_ignores_h_path")
    text = report.row("dc_prev").diagnosis
    assert report.row("dc_prev").diagnosis_kind == "missing_branch"
    assert "tanh" in text and "h_next = go * np.tanh(c_next)" in text


def test_missing_dc_next_term():
    module, report = _corpus("bug_lstm_dc_next_missing")
    assert report.row("dc_prev").diagnosis_kind == "missing_branch"
    assert "dc_next" in report.row("dc_prev").diagnosis


def test_missing_one_minus_update_path_of_the_gru():
    module, report = _corpus("bug_gru_one_minus_u_path_missing")
    text = report.row("da_prev").diagnosis
    assert "a_prev" in text and "(1 - ut) * a_prev" in text


def test_reset_gate_factor_dropped_from_dh_prev():
    module, report = _corpus("bug_gru_reset_missing_in_dh_prev")
    text = report.row("dh_prev").diagnosis
    assert report.row("dh_prev").diagnosis_kind == "dropped_factor"
    assert "gr * h_prev" in text and "h_prev" in text


def test_the_other_gru_convention_explains_every_gradient():
    module, report = _corpus("bug_gru_convention_swapped")
    assert {r.diagnosis_kind for r in report.rows} == {"gru_convention"}
    assert "(1−Γu)*h̃ + Γu*h_prev" in report.row("dWh").diagnosis


def test_thesis_slip_4_39_and_the_double_count():
    _, report = _corpus("bug_lstm_slip_4_39")
    assert report.row("dWc").diagnosis_kind == "dropped_upstream"
    assert "(4-39)" in report.row("dWc").diagnosis and "dh_next" in report.row("dWc").diagnosis
    _, report = _corpus("bug_lstm_h_path_twice")
    assert {r.diagnosis_kind for r in report.rows if not r.ok} == {"counted_twice"}


def test_no_diagnosis_for_an_unrecognisable_mistake():
    rng = np.random.default_rng(0)
    report = _check(gru_thesis.gru_cell_forward,
                    _crafted(gru_thesis.gru_cell_backward, "dWr",
                             lambda g: g + rng.standard_normal(g.shape)), "gru")
    assert report.failures == ["dWr"]
    assert report.row("dWr").diagnosis == ""
    assert report.localization.gate == "reset"


def test_sweep_without_edits_equals_the_hand_derived_gradients():
    # The counterfactual sweep with no edit must be the plain VJP: compare it with the
    # correct hand-derived GRU backward (an independent method) on the same cotangent.
    args = exercise_inputs("gru", "thesis", seed=11)
    report = check_backward(gru_thesis.gru_cell_forward, gru_thesis.gru_cell_backward, *args)
    seeds = dict(zip(report.target_keys, report.cotangents))
    grads = localize.sweep(report.tape.records, seeds)
    hand = gru_thesis.gru_cell_backward(report.cotangents[0], gru_thesis.gru_cell_forward(*args)[1])
    names = {"d" + n: k for k, n in report.tape.names.items()}
    for name in ("dxt", "dh_prev", "dWu", "dbu", "dWr", "dbr", "dWh", "dbh"):
        np.testing.assert_allclose(grads[names[name]], hand[name], atol=1e-12)
