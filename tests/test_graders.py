"""lessons.graders: one check_<exercise>(fn) per cell exercise, green pass or a short explanation."""
import importlib

import numpy as np
import pytest

from lessons import graders
from lessons.solutions import gru as gru_solution
from lessons.solutions import lstm as lstm_solution
from lessons.solutions import rnn as rnn_solution
from learner_corpus import gru_thesis, lstm_course, lstm_thesis, rnn_course, rnn_thesis

PASSING = [
    (graders.check_rnn_cell_forward, (rnn_solution.rnn_cell_forward,)),
    (graders.check_rnn_cell_backward, (rnn_solution.rnn_cell_backward, rnn_solution.rnn_cell_forward)),
    (graders.check_rnn_forward, (rnn_solution.rnn_forward,)),
    (graders.check_rnn_backward, (rnn_solution.rnn_backward, rnn_solution.rnn_forward)),
    (graders.check_lstm_cell_forward, (lstm_solution.lstm_cell_forward,)),
    (graders.check_lstm_cell_backward, (lstm_solution.lstm_cell_backward, lstm_solution.lstm_cell_forward)),
    (graders.check_lstm_forward, (lstm_solution.lstm_forward,)),
    (graders.check_lstm_backward, (lstm_solution.lstm_backward, lstm_solution.lstm_forward)),
    (graders.check_gru_cell_forward, (gru_solution.gru_cell_forward,)),
    (graders.check_gru_cell_backward, (gru_solution.gru_cell_backward, gru_solution.gru_cell_forward)),
    # the course style, found by the argument names (a_prev, a0) and keys (Wi, Waa, Wax)
    (graders.check_rnn_cell_forward, (rnn_course.rnn_cell_forward,)),
    (graders.check_rnn_backward, (rnn_course.rnn_backward, rnn_course.rnn_forward)),
    (graders.check_lstm_cell_backward, (lstm_course.lstm_cell_backward, lstm_course.lstm_cell_forward)),
    (graders.check_lstm_forward, (lstm_course.lstm_forward,)),
    (graders.check_lstm_backward, (lstm_course.lstm_backward, lstm_course.lstm_forward)),
]


@pytest.mark.parametrize("grader, args", PASSING,
                         ids=[f"{g.__name__}:{a[0].__module__.split('.')[-1]}" for g, a in PASSING])
def test_solutions_pass_with_a_green_line(grader, args, capsys):
    report = grader(*args)
    out = capsys.readouterr().out
    assert report.ok, str(report)
    assert "passed" in out and "\033[32m" in out
    assert len(out.strip().splitlines()) == 1


def test_backward_grader_finds_the_forward_beside_it(capsys):
    report = graders.check_lstm_cell_backward(lstm_thesis.lstm_cell_backward)
    assert report.ok and report.forward_name == "lstm_cell_forward"


def test_backward_grader_without_a_forward_says_how_to_call_it():
    def lstm_cell_backward(dh_next, dc_next, cache):
        return {}
    with pytest.raises(TypeError, match="pass your forward too"):
        graders.check_lstm_cell_backward(lstm_cell_backward)


@pytest.mark.parametrize("bug, grader", [
    ("bug_lstm_forget_tanh_derivative", graders.check_lstm_cell_backward),
    ("bug_gru_reset_missing_in_dh_prev", graders.check_gru_cell_backward),
    ("bug_rnn_dWax_transposed", graders.check_rnn_cell_backward),
    ("bug_rnn_seq_assign", graders.check_rnn_backward),
])
def test_a_wrong_backward_gets_a_short_explanation(bug, grader, capsys):
    module = importlib.import_module(f"learner_corpus.{bug}")
    report = grader(module.backward, module.forward)
    out = capsys.readouterr().out
    assert not report.ok and set(report.failures) == module.WRONG
    assert "✘" in out and "Traceback" not in out
    for name in module.WRONG:
        assert name in out
    assert "where:" in out


def test_thesis_literal_double_count_is_caught_by_the_grader(capsys):
    report = graders.check_lstm_cell_backward(lstm_solution.lstm_cell_backward_thesis_literal,
                                              lstm_solution.lstm_cell_forward)
    assert set(report.failures) == {"dWf", "dbf", "dWu", "dbu", "dWc", "dbc", "dxt", "dh_prev"}
    assert "counted twice" in capsys.readouterr().out


def test_not_implemented_exercises_get_a_friendly_verdict(capsys):
    def lstm_cell_forward(xt, h_prev, c_prev, parameters):
        raise NotImplementedError("Exercise 3.1: write lstm_cell_forward")

    def lstm_cell_backward(dh_next, dc_next, cache):
        raise NotImplementedError("Exercise 3.3: write lstm_cell_backward")

    for report in (graders.check_lstm_cell_forward(lstm_cell_forward),
                   graders.check_lstm_cell_backward(lstm_cell_backward, lstm_thesis.lstm_cell_forward),
                   graders.check_lstm_cell_backward(lstm_cell_backward, lstm_cell_forward)):
        assert report.not_implemented and not report.ok
    out = capsys.readouterr().out
    assert out.count("not implemented yet") == 3 and "Traceback" not in out


def test_a_wrong_forward_names_the_wrong_output(capsys):
    def gru_cell_forward(xt, h_prev, parameters):          # the other convention
        h_next, cache = gru_thesis.gru_cell_forward(xt, h_prev, parameters)
        gu, hh = cache[2], cache[4]
        return (1 - gu) * hh + gu * h_prev, cache

    report = graders.check_gru_cell_forward(gru_cell_forward)
    assert report.forward_ok is False and not report.ok
    assert [r.name for r in report.forward_rows if not r.ok] == ["h_next"]
    assert "h_next" in capsys.readouterr().out


def test_a_forward_returning_too_little_is_told_so(capsys):
    def lstm_forward(x, h0, parameters):
        H, C, caches = lstm_thesis.lstm_forward(x, h0, parameters)
        return H, caches                                      # C missing

    report = graders.check_lstm_forward(lstm_forward)
    assert report.error is not None and "missing" in str(report.error)


def test_a_forward_that_raises_is_two_lines(capsys):
    def rnn_cell_forward(xt, h_prev, parameters):
        return np.tanh(parameters["Wx"] @ h_prev), None       # shapes do not fit

    report = graders.check_rnn_cell_forward(rnn_cell_forward)
    out = capsys.readouterr().out
    assert report.error.site is not None and "test_graders.py" in str(report.error)
    assert "Traceback" not in out


def test_exercise_inputs_use_distinct_sizes_and_both_key_styles():
    xt, h, c, p = graders.exercise_inputs("lstm", "course")
    assert len({xt.shape[0], h.shape[0], xt.shape[1]}) == 3
    assert {"Wi", "bi"} <= set(p) and "Wu" not in p
    x, h0, p = graders.exercise_inputs("rnn", "course", sequence=True)
    assert {"Waa", "Wax", "ba", "Wya"} <= set(p) and x.ndim == 3
    assert graders.exercise_style(rnn_course.rnn_cell_forward) == "course"
    assert graders.exercise_style(rnn_thesis.rnn_cell_forward) == "thesis"
