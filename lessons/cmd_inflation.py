"""`tinytape inflation`: the thesis's experiment (chapters 5-6) end to end, one command.

Runs `cells.inflation.run_experiment` on the Banco de la República series, prints the
tables in the shape of the thesis's Tables 6-1 (both loss conventions), 6-2 and 6-3,
the forecast with its intervals and the baselines, and writes the figures, the
tables and a JSON summary into an output folder.
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
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

HELP = "run the thesis's inflation experiment end to end"
METHODS = ("bptt", "tape", "keras")


def add_arguments(parser) -> None:
    parser.add_argument("--data", default=None, metavar="PATH",
                        help="the bank's export (.csv 'date,inflation_pct' or .xlsx); default: "
                             "../shared/data/colombia_inflation_monthly.csv next to the checkout; "
                             "'default' runs on the embedded US quarterly series instead")
    parser.add_argument("--epochs", type=int, default=200, help="training epochs (thesis: 200)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], metavar="SEED",
                        help="one or more seeds (initial weights and batch order); test MSE varies "
                             "a lot between seeds, so report several (e.g. --seeds 0 1 2)")
    parser.add_argument("--methods", default="bptt,tape,keras",
                        help="comma-separated subset of bptt (hand), tape, keras")
    parser.add_argument("--no-keras", action="store_true", help="skip the Keras models")
    parser.add_argument("--kinds", default="lstm,gru", help="comma-separated cells (thesis: lstm,gru)")
    parser.add_argument("--n-h", type=int, default=78, help="hidden units (thesis: 78)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--scale-fit", choices=("train", "all"), default="train",
                        help="fit the scaler on the training values (default) or on the whole "
                             "series, as the thesis does (a mild look-ahead)")
    parser.add_argument("--no-arima", action="store_true",
                        help="skip the statsmodels ARIMA(1,1,1) baseline (it is skipped anyway without statsmodels)")
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                        help="precision of every model, Keras's included: float64 (the lab's, default) "
                             "or float32 (Keras's own default; about halves the hand and tape time)")
    parser.add_argument("--boot", type=int, default=500, help="bootstrap paths for the intervals (0: none)")
    parser.add_argument("--out", default="tinytape-out-inflation", help="output folder")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def _methods(args) -> tuple:
    methods = tuple(m.strip() for m in args.methods.split(",") if m.strip())
    bad = [m for m in methods if m not in METHODS]
    if bad:
        raise SystemExit(f"tinytape inflation: unknown method(s) {bad}; choose from {', '.join(METHODS)}")
    if args.no_keras:
        methods = tuple(m for m in methods if m != "keras")
    return methods


def load(data_arg):
    """The series named by --data, with a readable message when it cannot be had."""
    from cells import data
    if data_arg == "default":
        return data.load_default()
    path = Path(data_arg) if data_arg else data.default_data_path()
    if not path.exists():
        raise SystemExit(
            f"tinytape inflation: no data file at {path}.\n"
            "  Download Colombia's monthly 12-month inflation from the Banco de la República "
            "(https://suameca.banrep.gov.co/buscador-de-series/) and pass --data PATH (.csv or .xlsx),\n"
            "  or run on the embedded US quarterly CPI inflation with --data default.")
    try:
        return data.load_series(path)
    except data.DataFormatError as exc:
        raise SystemExit(f"tinytape inflation: {exc}") from None


def run(args) -> int:
    # TensorFlow's C++ start-up chatter would bury the tables; errors still show.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import cells
    from cells.inflation import ExperimentConfig, run_experiment
    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    unknown = [k for k in kinds if k not in cells.KINDS]
    if unknown or not kinds:
        raise SystemExit(f"tinytape inflation: unknown cell kind(s) {unknown}; choose from {', '.join(cells.KINDS)}")
    series = load(args.data)
    monthly = series.periods_per_year == 12
    config = ExperimentConfig(
        start="2000-01" if monthly else None, divide_by=100.0,
        n_in=12 if monthly else 8, kinds=kinds,
        methods=_methods(args), n_h=args.n_h, epochs=args.epochs, batch_size=args.batch_size,
        lr=args.lr, seeds=tuple(args.seeds), n_boot=args.boot, scale_fit=args.scale_fit,
        arima_order=None if args.no_arima else (1, 1, 1), progress=not args.quiet, dtype=args.dtype)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"tinytape inflation: {series.name}, {series.source}")
    result = run_experiment(series, config)
    text = tables_text(result)
    print(text)
    (out / "tables.txt").write_text(text + "\n", encoding="utf-8")
    (out / "results.json").write_text(json.dumps(result.summary(), indent=2) + "\n", encoding="utf-8")
    figures = write_figures(result, out)
    print(f"\nwrote {len(figures) + 2} files to {out.resolve()}/:")
    for name in ["tables.txt", "results.json"] + [p.name for p in figures]:
        print(f"  {name}")
    return 0


def tables_text(result) -> str:
    parts = [result.loss_table("thesis"), result.loss_table("keras"), result.mse_table(),
             result.prediction_table(), result.forecast_table()]
    if result.skipped:
        parts.append("\n".join(result.skipped))
    return "\n\n".join(parts)


def write_figures(result, out: Path) -> list:
    """Loss curves, test predictions + forecast per model, and the intervals (Figs 6-1..6-3)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from visuals import experiment

    written = [_save(experiment.loss_figure(result), out / "losses.png", plt),
               _save(experiment.forecast_figure(result), out / "predictions_forecast.png", plt)]
    for kind, fig in experiment.interval_figures(result).items():
        written.append(_save(fig, out / f"intervals_{kind}.png", plt))
    return written


def _save(fig, path: Path, plt) -> Path:
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


if __name__ == "__main__":  # pragma: no cover
    import argparse
    parser = argparse.ArgumentParser(prog="tinytape inflation", description=HELP)
    add_arguments(parser)
    sys.exit(run(parser.parse_args()))
