"""The gradient-agreement matrix and the `tinytape agree` command (TensorFlow not needed).

The TensorFlow column is exercised in tests/test_cells_tf.py.
"""
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cells import agreement

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def fast_rows():
    return agreement.agreement_matrix(include_tf=False, fast=True)


def test_matrix_all_pass_without_tensorflow(fast_rows):
    table = agreement.format_matrix(fast_rows)
    assert agreement.all_pass(fast_rows), table
    assert [(row.kind, row.head) for row in fast_rows] == [
        (kind, head) for kind in agreement.ALL for head in agreement.HEADS]
    for row in fast_rows:
        assert row.cases == len(agreement.FAST_SHAPES) * len(agreement.FAST_OUTPUTS)
        assert row.entries["hand vs tape"].status == "pass"
        assert row.entries["hand vs tape"].error <= agreement.HAND_TAPE_THRESHOLD
        assert row.entries["tape vs FD"].status == "pass"
        # Finite differences are never exact: an error of exactly 0 would mean the
        # numeric side was not computed independently.
        assert 0 < row.entries["tape vs FD"].error <= agreement.FD_THRESHOLD
        assert row.entries["hand vs TF"].status == ("n/a" if row.kind == "peephole" else "skipped")
    with_partner = sum(row.kind != "peephole" for row in fast_rows)
    assert table.splitlines()[-1] == (
        f"verdict: all {2 * len(fast_rows)} comparisons agree; {with_partner} skipped")


def _scale_one_gradient(monkeypatch, kind: str, name: str, factor: float) -> None:
    """Make the cell's hand BPTT return `name` scaled by `factor` (a planted bug)."""
    module = importlib.import_module(f"cells.{kind}")
    original = module.backward

    def wrong_backward(*args, **kwargs):
        grads = original(*args, **kwargs)
        grads = dict(grads)
        grads[name] = grads[name] * factor
        return grads

    monkeypatch.setattr(module, "backward", wrong_backward)


def test_checker_fails_on_a_wrong_hand_gradient(monkeypatch):
    # 1 + 1e-8: far below what a plot would show, far above the 1e-10 threshold.
    _scale_one_gradient(monkeypatch, "lstm", "dWf", 1 + 1e-8)
    rows = agreement.agreement_matrix(kinds=("lstm",), heads=("seq2one",), include_tf=False, fast=True)
    (row,) = rows
    entry = row.entries["hand vs tape"]
    assert entry.status == "FAIL"
    assert entry.note.startswith("dWf")
    assert 1e-9 < entry.error < 1e-7
    assert row.entries["tape vs FD"].status == "pass"   # the tape itself is still right
    assert not agreement.all_pass(rows)
    table = agreement.format_matrix(rows)
    assert "FAIL" in table and "dWf" in table
    assert table.splitlines()[-1].startswith("verdict: DISAGREEMENT: 1 of 2 comparisons fail")


def test_finite_differences_catch_a_wrong_tape_gradient(monkeypatch):
    # A bug on the tape's side: hand vs tape fails, and so does tape vs FD (the column
    # that would catch a tape bug even if hand BPTT shared it).
    module = importlib.import_module("cells.gru")
    original = module.loss_and_grads

    def wrong_tape(params, X, Y, method="bptt", **kwargs):
        loss, grads = original(params, X, Y, method=method, **kwargs)
        if method == "tape":
            grads = dict(grads, dbr=grads["dbr"] * 1.001)
        return loss, grads

    monkeypatch.setattr(module, "loss_and_grads", wrong_tape)
    (row,) = agreement.agreement_matrix(kinds=("gru",), heads=("seq2seq",), include_tf=False, fast=True)
    assert row.entries["hand vs tape"].status == "FAIL"
    assert row.entries["tape vs FD"].status == "FAIL"
    assert row.entries["tape vs FD"].note.startswith("dbr")
    assert row.entries["tape vs FD"].error == pytest.approx(1e-3, rel=0.01)


def test_checker_reports_a_crashing_cell_as_an_error(monkeypatch):
    module = importlib.import_module("cells.rnn")

    def broken(*args, **kwargs):
        raise FloatingPointError("planted")

    monkeypatch.setattr(module, "loss_and_grads", broken)
    rows = agreement.agreement_matrix(kinds=("rnn",), heads=("seq2seq",), include_tf=False, fast=True)
    assert rows[0].entries["hand vs tape"].status == "error"
    assert "FloatingPointError: planted" in agreement.format_matrix(rows)
    assert not agreement.all_pass(rows)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="unknown cell kinds"):
        agreement.agreement_matrix(kinds=("lstmm",))
    with pytest.raises(ValueError, match="heads"):
        agreement.agreement_matrix(heads=("one2one",))
    with pytest.raises(ValueError, match="include_tf"):
        agreement.agreement_matrix(include_tf="yes")


def test_keras_module_says_how_to_install_tensorflow(monkeypatch):
    from cells import keras as cells_keras

    # A None entry in sys.modules makes `import tensorflow` raise ImportError.
    monkeypatch.setitem(sys.modules, "tensorflow", None)
    monkeypatch.setitem(sys.modules, "keras", None)
    params, X, Y = agreement.make_problem("rnn", (2, 3, 1, 2, 2), "seq2one", "identity", seed=0)
    with pytest.raises(ImportError, match=r"pip install tinytape\[tf\]"):
        cells_keras.tf_loss_and_grads("rnn", params, X, Y)
    assert not agreement.tensorflow_available()
    rows = agreement.agreement_matrix(kinds=("rnn",), heads=("seq2one",), include_tf="auto", fast=True)
    assert "TensorFlow not installed" in rows[0].entries["hand vs TF"].note
    with pytest.raises(ImportError, match=r"pip install tinytape\[tf\]"):
        agreement.agreement_matrix(kinds=("rnn",), include_tf=True)


def _table_rows(stdout: str) -> list[list[str]]:
    """The matrix's body rows (between the dashed rule and the first blank line), split."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("---")) + 1
    end = lines.index("", start)
    return [line.split() for line in lines[start:end]]


def _run_cli(*args):
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "lessons.cli", "agree", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


def test_agree_command_prints_an_all_pass_matrix():
    # --fast keeps this under a few seconds; the full matrix is the same code with more cases.
    result = _run_cli("--no-tf", "--fast")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    header = next(line for line in lines if line.startswith("cell"))
    assert "hand vs tape" in header and "tape vs FD" in header and "hand vs TF" in header
    rows = _table_rows(result.stdout)
    assert [row[:2] for row in rows] == [[kind, head] for kind in agreement.ALL for head in agreement.HEADS]
    assert all(row[4] == "pass" and row[6] == "pass" for row in rows), result.stdout
    assert any(line.startswith(f"verdict: all {4 * len(agreement.ALL)} comparisons agree") for line in lines), \
        result.stdout


def test_agree_command_runs_a_subset_and_seed():
    result = _run_cli("--no-tf", "--fast", "--cells", "gru,peephole", "--heads", "seq2seq", "--seed", "3")
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [row[:2] for row in _table_rows(result.stdout)]
    assert rows == [["gru", "seq2seq"], ["peephole", "seq2seq"]]
    assert "seed 3" in result.stdout


def test_agree_command_rejects_unknown_cells():
    result = _run_cli("--no-tf", "--cells", "rnn,lstmm")
    assert result.returncode == 2
    assert "lstmm" in result.stderr and "peephole" in result.stderr
