"""tinytape.check: numeric gradients, gradcheck and compare — including that the
checker itself fails when fed a wrong gradient."""
import numpy as np
import pytest

import tinytape as tt
from tinytape import ops
from tinytape.check import compare, gradcheck, numeric_gradient


def test_numeric_gradient_of_a_known_function():
    x = np.array([0.1, -0.4, 2.0])
    g = numeric_gradient(lambda v: np.sum(np.sin(v)), x)
    np.testing.assert_allclose(g, np.cos(x), rtol=1e-8)


def test_numeric_gradient_of_non_contiguous_inputs():
    a = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    np.testing.assert_allclose(numeric_gradient(lambda v: float(np.sum(v * v)), a), 2 * a, rtol=1e-8)
    np.testing.assert_allclose(numeric_gradient(lambda v: float(np.sum(v * v)), a.T), 2 * a.T, rtol=1e-8)


def test_numeric_gradient_mirrors_dict_arguments():
    p = {"a": np.array([1.0, 2.0]), "b": np.array(3.0)}
    ga, gp = numeric_gradient(lambda x, q: np.sum(x * q["a"]) * q["b"], np.ones(2), p)
    np.testing.assert_allclose(ga, [3.0, 6.0], rtol=1e-8)
    np.testing.assert_allclose(gp["b"], 3.0, rtol=1e-8)


@pytest.mark.parametrize("mode", ["full", "random"])
def test_gradcheck_passes_a_correct_op(mode):
    rng = np.random.default_rng(0)
    report = gradcheck(lambda w, x: tt.tanh(w @ x), rng.standard_normal((3, 2)), rng.standard_normal((2, 4)),
                       mode=mode)
    assert report.ok, str(report)
    assert "all agree" in str(report)


@pytest.mark.parametrize("mode", ["full", "random"])
def test_gradcheck_catches_a_wrong_vjp(monkeypatch, mode):
    # Break tanh's derivative (1 − y² → 1 − y): the checker must say so.
    monkeypatch.setattr(ops.tanh, "vjps", (lambda g, ans, x: g * (1.0 - ans),))
    report = gradcheck(lambda x: tt.tanh(x), np.array([0.3, -1.2, 0.8]), mode=mode)
    assert not report.ok
    assert "DISAGREE" in str(report)


def test_gradcheck_float32_is_promoted_and_noted():
    report = gradcheck(lambda x: tt.sum(x * x), np.float32([1.0, 2.0]), rtol=1e-3, atol=1e-4)
    assert report.ok and any("float32" in n for n in report.notes)


def test_gradcheck_report_names_the_worst_entry():
    def f(x):
        return tt.sum(x * x)
    tape_ok = gradcheck(f, np.array([1.0, 2.0]))
    row = tape_ok.rows[0]
    assert row.worst_index is not None and row.max_abs < 1e-6


def test_compare_reports_missing_keys_shapes_and_values():
    a = {"dW": np.ones((2, 2)), "db": np.zeros((2, 1)), "dx": np.ones(3)}
    b = {"dW": np.ones((2, 2)) * (1 + 1e-12), "db": np.zeros((1, 2)), "dh": np.ones(3)}
    report = compare(a, b, labels=("hand", "tape"))
    verdicts = {r.name: r.ok for r in report.rows}
    assert verdicts == {"dW": True, "db": False, "dx": False, "dh": False}
    text = str(report)
    assert "missing in tape" in text and "missing in hand" in text and "shape (2, 1) vs (1, 2)" in text
    assert report.failures == ["db", "dx", "dh"]
    assert "<table>" in report._repr_html_()


def test_compare_flags_a_wrong_value_at_its_index():
    a = {"dW": np.array([[1.0, 2.0], [3.0, 4.0]])}
    b = {"dW": np.array([[1.0, 2.0], [3.0, 4.5]])}
    row = compare(a, b).rows[0]
    assert not row.ok and row.worst_index == (1, 1) and row.a_value == 4.0 and row.b_value == 4.5
