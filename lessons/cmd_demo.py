"""`tinytape demo`: the README's main job, on embedded data, no download, about a minute.

1. the gradient-agreement summary of every cell (hand BPTT vs tape vs finite
   differences; TensorFlow left out for speed: `tinytape agree` runs it);
2. a small LSTM and GRU trained on the embedded series (US quarterly CPI inflation,
   1959-2009, statsmodels' `macrodata.infl`, public domain), each by hand BPTT and on
   the tape from the same seed, with a progress bar; test MSE beside the naive and
   AR baselines, a two-year forecast with bootstrap intervals;
3. figures (loss curves, predictions + forecast, intervals), the drawings (the
   unrolled LSTM at cell level and one step at op level with its gradients) and a
   text summary, written into an output folder named at the end.
"""
from __future__ import annotations

import os

# One BLAS thread: the matrices here are small (78 x 79 by 79 x 64), and a multi-threaded
# OpenBLAS on a busy 2-core machine ran the 200-epoch LSTM 11x slower (318 s vs 28 s,
# measured). Only effective before NumPy is first imported, which the `tinytape`
# command does after importing this module. Set the variables yourself to override.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import json  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

HELP = "the main job: agreement summary, a small LSTM and GRU trained, figures written"


def add_arguments(parser) -> None:
    parser.add_argument("--out", default="tinytape-out-demo", help="output folder (created if needed)")
    parser.add_argument("--quick", action="store_true",
                        help="a few epochs and fewer bootstrap paths: a smoke run in seconds")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def demo_config(quick: bool):
    from cells.inflation import ExperimentConfig
    n_in = 8  # two years of quarters predict the next quarter
    return ExperimentConfig(
        start=None, divide_by=100.0, n_in=n_in, train_fraction=0.8, scale_fit="train",
        kinds=("lstm", "gru"), methods=("bptt", "tape"), n_h=16,
        epochs=4 if quick else 100, batch_size=32, lr=3e-3, seeds=(0,),
        forecast_steps=8, n_boot=50 if quick else 400, level=0.9, ar_orders=(1, n_in),
        arima_order=None)


def run(args) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    summary = ["tinytape demo", "=" * 13, ""]

    # 1. gradient agreement ------------------------------------------------------
    from cells import agreement
    print("1/3  gradient agreement: hand BPTT vs tape vs central finite differences (float64)")
    rows = agreement.agreement_matrix(include_tf=False, fast=True)
    matrix, verdict = agreement.format_matrix(rows), agreement.verdict(rows)
    print(matrix)
    print("(TensorFlow column: `tinytape agree` runs it when TensorFlow is installed)\n")
    summary += ["Gradient agreement (fast, no TensorFlow)", matrix, ""]

    # 2. training ----------------------------------------------------------------
    from cells.data import load_default
    from cells.inflation import run_experiment
    series = load_default()
    config = demo_config(args.quick)
    config.progress = not args.quiet
    print(f"2/3  training on {series.name} ({series.dates[0]}..{series.dates[-1]}, "
          f"{len(series)} quarters, embedded: {series.source})")
    print(f"     windows of {config.n_in} quarters -> the next, first 80% for training, n_h={config.n_h}, "
          f"{config.epochs} epochs, batch {config.batch_size}, Adam lr {config.lr}")
    result = run_experiment(series, config)
    from lessons.cmd_inflation import tables_text, write_figures
    tables = tables_text(result)
    print(tables)
    hand_tape = _hand_tape_gap(result)
    print(f"\nhand BPTT and tape, same seed: largest weight difference after training {hand_tape:.1e}")
    summary += [f"Data: {series.name}, {series.source}", "", tables, "",
                f"Hand BPTT vs tape after training, same seed: max |weight difference| = {hand_tape:.1e}", ""]

    # 3. figures and drawings ----------------------------------------------------
    print("\n3/3  figures and drawings")
    written = write_figures(result, out)
    written += _drawings(out / "drawings")
    (out / "results.json").write_text(json.dumps(result.summary(), indent=2) + "\n", encoding="utf-8")
    written.append(out / "results.json")
    seconds = time.perf_counter() - started
    summary += [f"Gradient agreement {verdict}", f"Total time: {seconds:.0f} s", "",
                "Files:"] + [f"  {p.relative_to(out)}" for p in written]
    (out / "summary.txt").write_text("\n".join(summary) + "\n", encoding="utf-8")
    written.append(out / "summary.txt")
    print(f"\n{verdict}")
    print(f"done in {seconds:.0f} s; wrote {len(written)} files to {out.resolve()}/")
    for path in written:
        print(f"  {path.relative_to(out)}")
    return 0


def _hand_tape_gap(result) -> float:
    import numpy as np
    gap = 0.0
    for run in result.runs:
        if run.method != "bptt":
            continue
        twin = next((r for r in result.runs if r.kind == run.kind and r.method == "tape" and r.seed == run.seed), None)
        if twin is not None:
            gap = max(gap, max(float(np.max(np.abs(run.params[k] - twin.params[k]))) for k in run.params))
    return gap


def _drawings(folder: Path) -> list:
    """The unrolled LSTM (cell level) and one LSTM step (op level, with gradients)."""
    import visuals
    return list(visuals.write_demo_drawings(folder))
