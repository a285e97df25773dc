"""`tinytape demo --quick`: the README's main job runs, prints its parts and writes its files."""
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_demo_quick_writes_everything_and_names_the_folder(tmp_path):
    out = tmp_path / "demo"
    proc = subprocess.run([sys.executable, "-m", "lessons.cli", "demo", "--quick", "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    stdout = proc.stdout
    assert "gradient agreement" in stdout and "hand vs tape" in stdout
    assert "US quarterly CPI inflation" in stdout                   # the embedded series, said by name
    assert "LSTM hand" in stdout and "GRU tape" in stdout and "Table 6-3" in stdout
    assert "epoch" in proc.stderr                                   # the tqdm progress bars
    for name in ("losses.png", "predictions_forecast.png", "intervals_lstm.png", "summary.txt",
                 "results.json"):
        assert (out / name).stat().st_size > 0, name
    drawings = sorted(p.name for p in (out / "drawings").iterdir())
    assert any(n.startswith("lstm_unrolled_cells") for n in drawings)
    assert any(n.startswith("lstm_one_step_ops") for n in drawings)
    done = [line for line in stdout.splitlines() if line.startswith("done in")]
    assert done and done[-1].endswith(f"{out.resolve()}/")          # the folder is named at the end
    summary = (out / "summary.txt").read_text()
    assert "Gradient agreement" in summary and "Hand BPTT vs tape" in summary
