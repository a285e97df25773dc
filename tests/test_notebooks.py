"""The lesson notebooks run top to bottom, headless.

- every notebook with TINYTAPE_SOLUTIONS=1 TINYTAPE_FAST=1: the graded path, all graders green;
- one notebook without TINYTAPE_SOLUTIONS: the learner's unfinished exercises give the
  friendly "not implemented yet" and the notebook still finishes, no error;
- the committed notebooks are exactly what `lessons/_sources/build.py` makes from their
  sources: no outputs, no execution counts, nothing stale.
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="the notebook tests need nbformat (pip install 'tinytape[notebooks]')")
nbclient = pytest.importorskip("nbclient", reason="the notebook tests need nbclient (pip install 'tinytape[notebooks]')")
pytest.importorskip("ipykernel", reason="the notebook tests need ipykernel (pip install 'tinytape[notebooks]')")
pytest.importorskip("ipywidgets", reason="lesson 2's sliders need ipywidgets (pip install 'tinytape[notebooks]')")

REPO = Path(__file__).resolve().parents[1]
LESSONS = REPO / "lessons"
NOTEBOOKS = sorted(LESSONS.glob("[0-9][0-9]_*.ipynb"))
TIMEOUT = 300  # seconds per cell: a stuck cell fails the test instead of hanging CI
# After a cell's reply, nbclient waits this long for its output (4 s by default) and then,
# unless told to raise, drops what has not arrived, with only a log warning. The wait
# ends at the kernel's idle message, so a long bound costs nothing on a loaded CI machine;
# a loss beyond it is an error, never a silent gap in the text the tests read.
IOPUB_TIMEOUT = 120

pytestmark = pytest.mark.slow


def _load_builder():
    spec = importlib.util.spec_from_file_location("lessons_build", LESSONS / "_sources" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def execute(path: Path, env: dict) -> nbformat.NotebookNode:
    """Run a notebook in a fresh kernel with `env` added to the environment; return it executed."""
    nb = nbformat.read(path, as_version=4)
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)             # the kernel inherits the test process's environment
    os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        client = nbclient.NotebookClient(nb, timeout=TIMEOUT, kernel_name="python3",
                                         iopub_timeout=IOPUB_TIMEOUT, raise_on_iopub_timeout=True,
                                         resources={"metadata": {"path": str(LESSONS)}})
        client.execute()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return nb


def outputs_text(nb) -> str:
    """The text a reader would see: streams, plain-text results, errors (not the HTML twins)."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                parts.append(out.text)
            elif out.output_type in ("execute_result", "display_data"):
                data = out.get("data", {})
                parts.append(data.get("text/plain", ""))
            elif out.output_type == "error":
                parts.append(f"{out.ename}: {out.evalue}")
    return "\n".join(parts)


def test_there_are_seven_lessons():
    assert [p.name[:2] for p in NOTEBOOKS] == ["00", "01", "02", "03", "04", "05", "06"], NOTEBOOKS


def test_notebooks_are_built_from_sources_without_outputs():
    builder = _load_builder()
    for source in builder.sources():
        target = builder.target(source)
        assert target.exists(), f"{target.name} missing: run python lessons/_sources/build.py"
        assert target.read_text(encoding="utf-8") == builder.render(source), (
            f"{target.name} differs from lessons/_sources/{source.name}: run python lessons/_sources/build.py")
        nb = nbformat.read(target, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, f"{target.name} has outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_with_solutions(path):
    nb = execute(path, {"TINYTAPE_SOLUTIONS": "1", "TINYTAPE_FAST": "1"})
    text = outputs_text(nb)
    n_checks = sum(c.source.count("lab.check(") for c in nb.cells if c.cell_type == "code")
    # every grader prints one verdict line: ✔ passed, ✘ failed, ✋ not implemented yet
    assert "✘" not in text, f"{path.name}: a grader failed:\n{_around(text, '✘')}"
    assert "✋" not in text and "not implemented yet" not in text, f"{path.name}: an exercise was not replaced"
    assert text.count("✔") == n_checks, f"{path.name}: {n_checks} graders ran, {text.count('✔')} passed"
    assert "Traceback" not in text


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_unsolved_notebook_says_not_implemented_and_finishes(path):
    """Without TINYTAPE_SOLUTIONS the exercise stubs stay; graders say so, the notebook runs on."""
    env = {"TINYTAPE_SOLUTIONS": "", "TINYTAPE_FAST": "1"}
    nb = execute(path, env)                        # raises CellExecutionError on any error
    text = outputs_text(nb)
    n_checks = sum(c.source.count("lab.check(") for c in nb.cells if c.cell_type == "code")
    assert text.count("✋") == n_checks and text.count("not implemented yet") >= n_checks, text[-3000:]
    assert "✔" not in text and "✘" not in text, "an unfinished exercise was graded as if written"
    assert "Traceback" not in text
    if path.name == "03_lstm_lab.ipynb":           # its training and prediction use the learner's pieces
        assert "so the rest of the notebook runs" in text


def test_keras_parts_skip_with_a_message_without_tensorflow(tmp_path):
    """Lessons 4 and 5 run without TensorFlow: a stand-in package that fails to import hides it."""
    fake = tmp_path / "tensorflow"
    fake.mkdir()
    (fake / "__init__.py").write_text('raise ImportError("TensorFlow hidden by the test")\n')
    path_var = os.pathsep.join([str(tmp_path)] + [p for p in [os.environ.get("PYTHONPATH")] if p])
    env = {"TINYTAPE_SOLUTIONS": "1", "TINYTAPE_FAST": "1", "PYTHONPATH": path_var}
    hidden = subprocess.run([sys.executable, "-c", "import tensorflow"], cwd=LESSONS, capture_output=True,
                            text=True, env={**os.environ, **env})
    assert "hidden by the test" in hidden.stderr, f"the stand-in does not hide TensorFlow:\n{hidden.stderr}"
    gru_text = outputs_text(execute(LESSONS / "04_gru.ipynb", env))
    assert "skipping the comparison with Keras" in gru_text
    case_nb = execute(LESSONS / "05_inflation_case_study.ipynb", env)
    case_text = outputs_text(case_nb)
    training = [c for c in case_nb.cells if c.cell_type == "code" and "run_experiment(" in c.source]
    assert "skipped: Keras runs skipped: TensorFlow is not installed" in case_text, \
        f"the training cell printed:\n{outputs_text(nbformat.v4.new_notebook(cells=training))[:2000]}"
    assert "Keras" not in case_text.split("Table 6-3")[1].split("naive")[0]   # no Keras rows
    for text in (gru_text, case_text):
        assert "✘" not in text and "Traceback" not in text


def _around(text: str, needle: str, width: int = 1500) -> str:
    i = text.find(needle)
    return text[max(0, i - width // 3): i + width]


if __name__ == "__main__":  # run one notebook by hand: python tests/test_notebooks.py lessons/03_lstm_lab.ipynb [--unsolved]
    solved = "--unsolved" not in sys.argv
    nb = execute(Path(sys.argv[1]), {"TINYTAPE_SOLUTIONS": "1" if solved else "", "TINYTAPE_FAST": "1"})
    print(outputs_text(nb))
