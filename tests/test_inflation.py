"""cells.inflation and `tinytape inflation`: the experiment end to end, in miniature.

The 200-epoch run is a benchmark (bench/train_thesis.py), not a test.
"""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cells.data import Series
from cells.inflation import ExperimentConfig, run_experiment

REPO = Path(__file__).resolve().parents[1]
SHARED_CSV = REPO.parent / "shared" / "data" / "colombia_inflation_monthly.csv"


def _synthetic_monthly(n=120, seed=0):
    """A persistent monthly 'inflation' in percent, 2000-01 on."""
    rng = np.random.default_rng(seed)
    values = np.empty(n)
    level = 5.0
    for i in range(n):
        level = 5.0 + 0.95 * (level - 5.0) + 0.3 * rng.standard_normal()
        values[i] = level
    dates = np.datetime64("2000-01", "M") + np.arange(n)
    return Series(dates.astype("datetime64[M]"), values, name="synthetic", units="percent")


def test_run_experiment_small_config_gives_consistent_numbers():
    series = _synthetic_monthly()
    config = ExperimentConfig(n_h=6, epochs=3, seeds=(0, 1), methods=("bptt", "tape"), n_boot=30,
                              forecast_steps=5, progress=False, arima_order=None, ar_orders=(1, 3))
    result = run_experiment(series, config, log=lambda *a: None)
    assert len(result.runs) == 2 * 2 * 2                               # seeds x kinds x methods
    m_test = result.windows.X_test.shape[1]
    for run in result.runs:
        assert run.test_pred.shape == (m_test,) and run.forecast.shape == (5,)
        assert len(run.history["loss"]) == 3
        # test MSE recomputed from the stored predictions, in the series' /100 units
        assert run.test_mse == pytest.approx(np.mean((run.test_pred - result.test_true) ** 2))
        assert (run.intervals is not None) == (run.method == "bptt")
    np.testing.assert_allclose(result.test_true, series.values[-m_test:] / 100, rtol=1e-12)
    # hand and tape agree on every number
    for hand in (r for r in result.runs if r.method == "bptt"):
        tape = next(r for r in result.runs if r.method == "tape" and r.kind == hand.kind and r.seed == hand.seed)
        np.testing.assert_allclose(hand.test_pred, tape.test_pred, rtol=1e-10)
    assert set(result.baselines) == {"naive (last value)", "AR(1) least squares", "AR(3) least squares"}
    naive = result.baselines["naive (last value)"]["test_pred"]
    np.testing.assert_allclose(naive, series.values[-m_test - 1:-1] / 100, rtol=1e-12)
    # tables carry every model and both loss conventions
    assert "LSTM tape" in result.loss_table() and "Keras convention" in result.loss_table("keras")
    assert "median" in result.mse_table()
    assert str(result.forecast_dates[0]) == "2010-01"


def test_run_experiment_in_float32_trains_every_model_in_float32():
    pytest.importorskip("tensorflow", reason="the Keras run needs TensorFlow (tinytape[tf])")
    config = ExperimentConfig(n_h=5, epochs=2, kinds=("lstm",), n_boot=0, forecast_steps=3,
                              progress=False, arima_order=None, ar_orders=(1,), dtype="float32")
    result = run_experiment(_synthetic_monthly(), config, log=lambda *a: None)
    assert [run.method for run in result.runs] == ["bptt", "tape", "keras"]
    for run in result.runs:
        assert {v.dtype for v in run.params.values()} == {np.dtype(np.float32)}, run.label
        assert run.history["config"]["dtype"] == "float32"
        assert np.isfinite(run.test_mse) and run.forecast.shape == (3,)
    hand, tape = result.runs[0], result.runs[1]
    np.testing.assert_allclose(hand.test_pred, tape.test_pred, rtol=1e-5)
    assert result.summary()["config"]["dtype"] == "float32"


def test_unknown_method_is_an_error():
    with pytest.raises(ValueError, match="unknown methods"):
        run_experiment(_synthetic_monthly(), ExperimentConfig(methods=("sgd",), epochs=1), log=lambda *a: None)


def test_inflation_command_three_epoch_smoke_run(tmp_path):
    if SHARED_CSV.exists():
        data = SHARED_CSV
    else:  # the real file is absent: run the same command on a synthetic export
        series = _synthetic_monthly(320)
        data = tmp_path / "synthetic.csv"
        data.write_text("date,inflation_pct\n" + "".join(
            f"{d}-28,{v:.2f}\n" for d, v in zip(series.dates, series.values)))
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "lessons.cli", "inflation", "--epochs", "3", "--no-keras", "--quiet",
         "--boot", "40", "--n-h", "12", "--no-arima", "--data", str(data), "--out", str(out),
         "--dtype", "float32"],
        cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for table in ("Table 6-1", "Table 6-2", "Table 6-3", "1/(2m)", "Keras convention", "LSTM hand",
                  "GRU tape", "naive (last value)"):
        assert table in proc.stdout
    for name in ("tables.txt", "results.json", "losses.png", "predictions_forecast.png",
                 "intervals_lstm.png", "intervals_gru.png"):
        assert (out / name).stat().st_size > 0, name
    summary = json.loads((out / "results.json").read_text())
    assert summary["config"]["epochs"] == 3 and len(summary["runs"]) == 4
    assert summary["config"]["dtype"] == "float32"
    assert str(out.resolve()) in proc.stdout                        # the folder is named at the end
    if data == SHARED_CSV:
        assert summary["series"]["n_train"] == 237 and summary["series"]["n_test"] == 60


def test_inflation_command_explains_a_missing_file(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "lessons.cli", "inflation", "--data", str(tmp_path / "no.csv")],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "--data default" in proc.stderr and "suameca" in proc.stderr
