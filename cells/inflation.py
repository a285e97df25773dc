"""The thesis's experiment (chapters 5-6) as a function that returns numbers and tables.

    result = run_experiment(load_series(path), ExperimentConfig())
    print(result.loss_table()); print(result.mse_table()); print(result.prediction_table())

Setup (CONVENTIONS, "Data"): rows from 2000-01, divided by 100, standard-scaled,
windows of 12 months predicting the 13th, first 80 % of the windows for training,
n_h = 78, batch 64, Adam(1e-3, 0.9, 0.999, 1e-8), 200 epochs, LSTM and GRU, each
trained by hand BPTT, on the tape and (when TensorFlow is installed) by Keras's
`model.fit` from the same initial weights, all in `config.dtype` (float64, the lab's
precision, by default; float32 is Keras's default and about halves our training time).
Then test predictions, a 24-month recursive forecast past the data, bootstrap intervals
on the hand models' forecasts (cells.forecast) and the baselines (cells.baselines).

Units: losses are in scaled units (what the networks see); test MSE, predictions and
forecasts are in the thesis's units (inflation / 100, "fraction").

No plotting here (cells never import visuals): `lessons/cmd_inflation.py` draws.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np

from cells import baselines, forecast, train
from cells.keras import KERAS_LAYERS
from cells.data import Series, Windows, prepare_windows

__all__ = ["ExperimentConfig", "ModelRun", "ExperimentResult", "run_experiment", "keras_available"]

METHOD_LABELS = {"bptt": "hand", "tape": "tape", "keras": "Keras"}


@dataclass
class ExperimentConfig:
    start: str | None = "2000-01"       # first month used (None: the whole series)
    divide_by: float = 100.0            # percent -> fraction, as the thesis
    n_in: int = 12
    train_fraction: float = 0.8
    scale_fit: str = "train"            # "all" reproduces the thesis's scaling (see prepare_windows)
    kinds: tuple = ("lstm", "gru")
    methods: tuple = ("bptt", "tape", "keras")
    n_h: int = 78
    epochs: int = 200
    batch_size: int = 64
    lr: float = 1e-3
    seeds: tuple = (0,)
    forecast_steps: int | None = None   # default: two years of periods
    n_boot: int = 500
    level: float = 0.95
    ar_orders: tuple = (1, 12)
    arima_order: tuple | None = (1, 1, 1)
    progress: bool = True
    dtype: str = "float64"              # "float32": Keras's default precision, about twice as fast


@dataclass
class ModelRun:
    """One trained model: its history, test predictions, test MSE and forecast."""

    kind: str
    method: str
    seed: int
    history: dict
    seconds: float
    test_pred: np.ndarray               # (m_test,) fraction units
    test_mse: float                     # fraction units squared
    forecast: np.ndarray                # (steps,) fraction units
    intervals: forecast.PredictionIntervals | None = None
    params: dict | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return f"{self.kind.upper()} {METHOD_LABELS.get(self.method, self.method)}"


@dataclass
class ExperimentResult:
    config: ExperimentConfig
    windows: Windows
    runs: list                          # [ModelRun]
    baselines: dict                     # name -> {"test_pred": array, "test_mse": float}
    forecast_dates: np.ndarray
    test_true: np.ndarray               # (m_test,) fraction units
    skipped: list                       # human-readable reasons (e.g. no TensorFlow)

    # ------------------------------------------------------------------ lookups
    def runs_for(self, seed: int | None = None) -> list:
        seed = self.config.seeds[0] if seed is None else seed
        return [run for run in self.runs if run.seed == seed]

    def median_mse(self) -> dict:
        """label -> median test MSE over seeds."""
        out: dict = {}
        for run in self.runs:
            out.setdefault(run.label, []).append(run.test_mse)
        return {label: float(np.median(values)) for label, values in out.items()}

    # ------------------------------------------------------------------ tables
    def loss_table(self, convention: str = "thesis", seed: int | None = None) -> str:
        """Table 6-1's shape: training loss every epochs/10 epochs, one column per model.

        convention "thesis": 1/(2m) sum (5-1); "keras": 1/m sum (Keras's reported "mse").
        """
        key = {"thesis": "loss", "keras": "loss_keras"}[convention]
        runs = self.runs_for(seed)
        epochs = self.config.epochs
        step = max(1, epochs // 10)
        title = ("training loss, thesis convention 1/(2m)·Σ(ŷ−y)²  (5-1)" if convention == "thesis"
                 else "training loss, Keras convention 1/m·Σ(ŷ−y)²  (Keras's 'mse')")
        header = ["epoch"] + [run.label for run in runs]
        rows = [[str(e)] + [f"{run.history[key][e - 1]:.4f}" for run in runs]
                for e in range(step, epochs + 1, step)]
        return _table(f"Table 6-1 ({title}, scaled units, seed {runs[0].seed if runs else '-'})",
                      header, rows)

    def mse_table(self) -> str:
        """Table 6-3's shape: test MSE in fraction units, per seed and the median, plus baselines."""
        seeds = list(self.config.seeds)
        labels = list(dict.fromkeys(run.label for run in self.runs))
        header = ["model"] + [f"seed {s}" for s in seeds] + (["median"] if len(seeds) > 1 else [])
        rows = []
        for label in labels:
            values = [next((r.test_mse for r in self.runs if r.label == label and r.seed == s), np.nan)
                      for s in seeds]
            row = [label] + [f"{v:.2e}" for v in values]
            if len(seeds) > 1:
                row.append(f"{np.nanmedian(values):.2e}")
            rows.append(row)
        for name, base in self.baselines.items():
            rows.append([name] + [f"{base['test_mse']:.2e}"] + [""] * (len(header) - 2))
        return _table("Table 6-3 (test MSE, inflation/100 units)", header, rows)

    def prediction_table(self, seed: int | None = None) -> str:
        """Table 6-2's shape: test predictions every six months, fraction units."""
        dates = self.windows.target_dates_test
        ppy = self.windows.series.periods_per_year
        # every six months (the thesis's choice), thinned to at most 10 columns
        every = max(1, ppy // 2, -(-len(dates) // 10))
        picks = list(range(0, len(dates), every))
        runs = self.runs_for(seed)
        header = ["model"] + [_month_label(dates[i]) for i in picks]
        rows = [["data"] + [f"{self.test_true[i]:.4f}" for i in picks]]
        rows += [[run.label] + [f"{run.test_pred[i]:.4f}" for i in picks] for run in runs]
        months = every * 12 // ppy
        return _table(f"Table 6-2 (test predictions every {months} months, inflation/100 units)", header, rows)

    def forecast_table(self, seed: int | None = None) -> str:
        runs = self.runs_for(seed)
        every = max(1, self.windows.series.periods_per_year // 4)
        picks = list(range(every - 1, len(self.forecast_dates), every))
        header = ["model"] + [_month_label(self.forecast_dates[i]) for i in picks]
        rows = []
        for run in runs:
            rows.append([run.label] + [f"{run.forecast[i]:.4f}" for i in picks])
            if run.intervals is not None:
                lo, hi = run.intervals.lower, run.intervals.upper
                rows.append([f"  {int(100 * run.intervals.level)}% interval"]
                            + [f"{lo[i]:.3f}–{hi[i]:.3f}" for i in picks])
        return _table("Forecast past the data (recursive; residual-bootstrap intervals on hand models)",
                      header, rows)

    def summary(self) -> dict:
        """Plain numbers for JSON: config, per-run MSE/time/final losses, baselines."""
        return {
            "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self.config).items()},
            "series": {"name": self.windows.series.name, "source": self.windows.series.source,
                       "first": str(self.windows.series.dates[0]), "last": str(self.windows.series.dates[-1]),
                       "n_train": int(self.windows.X_train.shape[1]), "n_test": int(self.windows.X_test.shape[1])},
            "runs": [{"label": r.label, "kind": r.kind, "method": r.method, "seed": r.seed,
                      "seconds": r.seconds, "test_mse": r.test_mse,
                      "final_loss": r.history["loss"][-1] if r.history["loss"] else None,
                      "final_loss_keras": r.history["loss_keras"][-1] if r.history.get("loss_keras") else None}
                     for r in self.runs],
            "baselines": {name: b["test_mse"] for name, b in self.baselines.items()},
            "skipped": list(self.skipped),
        }


def _month_label(month) -> str:
    text = str(month)                   # "2020-10"
    return f"{text[5:7]}/{text[2:4]}"   # "10/20", the thesis's style


def _table(title: str, header: list, rows: list) -> str:
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    line = lambda cells: "  ".join(str(c).rjust(w) if i else str(c).ljust(w)   # noqa: E731
                                   for i, (c, w) in enumerate(zip(cells, widths)))
    rule = "-" * len(line(header))
    return "\n".join([title, rule, line(header), rule] + [line(r) for r in rows] + [rule])


def keras_available() -> tuple[bool, str]:
    try:
        import tensorflow  # noqa: F401
    except ImportError as exc:
        return False, f"Keras runs skipped: TensorFlow is not installed ({exc}); pip install 'tinytape[tf]'"
    return True, ""


def run_experiment(series: Series, config: ExperimentConfig | None = None, log=print) -> ExperimentResult:
    """Run the whole experiment on `series` (percent units). See the module docstring."""
    config = config or ExperimentConfig()
    unknown = set(config.methods) - set(METHOD_LABELS)
    if unknown:
        raise ValueError(f"run_experiment: unknown methods {sorted(unknown)}; choose from {list(METHOD_LABELS)}")
    if config.start is not None:
        series = series.since(config.start)
    if config.divide_by != 1.0:
        series = series.scaled(1.0 / config.divide_by, "fraction")
    windows = prepare_windows(series, n_in=config.n_in, n_out=1, train_fraction=config.train_fraction,
                              scale_fit=config.scale_fit)
    to_units = windows.scaler.inverse_transform
    test_true = to_units(windows.Y_test[0])
    steps = config.forecast_steps or 2 * series.periods_per_year
    last_window = windows.scaled[-config.n_in:]
    months_per_period = 12 // series.periods_per_year
    forecast_dates = series.dates[-1] + months_per_period * np.arange(1, steps + 1)

    methods, skipped = list(config.methods), []
    if "keras" in methods:
        ok, reason = keras_available()
        if not ok:
            methods.remove("keras")
            skipped.append(reason)
            log(reason)

    runs = []
    for seed in config.seeds:
        for kind in config.kinds:
            n_x, n_y = 1, 1
            init = train.cell_module(kind).init_params(n_x, config.n_h, n_y, seed=seed, dtype=config.dtype)
            for method in methods:
                if method == "keras" and kind not in KERAS_LAYERS:
                    reason = f"{kind}: no Keras counterpart, Keras run skipped"
                    if reason not in skipped:
                        skipped.append(reason)
                        log(reason)
                    continue
                start = time.perf_counter()
                if method == "keras":
                    params, history = train.fit_keras(kind, windows.X_train, windows.Y_train, init,
                                                      epochs=config.epochs, batch_size=config.batch_size,
                                                      lr=config.lr, seed=seed, dtype=config.dtype)
                else:
                    params, history = train.fit(kind, windows.X_train, windows.Y_train, config.n_h,
                                                method=method, epochs=config.epochs,
                                                batch_size=config.batch_size, lr=config.lr, seed=seed,
                                                params=init, progress=config.progress, dtype=config.dtype,
                                                desc=f"{kind} {METHOD_LABELS[method]} seed {seed}")
                seconds = time.perf_counter() - start
                predict_fn = _predictor(kind, params)
                test_pred = to_units(predict_fn(windows.X_test)[0])
                intervals = None
                if method == "bptt" and config.n_boot:
                    residuals = forecast.one_step_residuals(predict_fn, windows.X_train, windows.Y_train)
                    intervals = forecast.bootstrap_prediction_intervals(
                        predict_fn, last_window, steps, residuals, n_boot=config.n_boot,
                        level=config.level, seed=seed).map(to_units)
                    point = intervals.point
                else:
                    point = to_units(forecast.recursive_forecast(predict_fn, last_window, steps))
                runs.append(ModelRun(kind, method, seed, history, seconds, test_pred,
                                     float(np.mean((test_pred - test_true) ** 2)), point, intervals, params))
                log(f"  {runs[-1].label:<10} seed {seed}: final loss {history['loss'][-1]:.5f} "
                    f"(1/(2m)), test MSE {runs[-1].test_mse:.2e}, {seconds:.1f} s"
                    if history["loss"] else f"  {runs[-1].label}: 0 epochs")

    return ExperimentResult(config, windows, runs, _baselines(windows, config, to_units, test_true),
                            forecast_dates, test_true, skipped)


def _predictor(kind: str, params: dict):
    return lambda X: train.predict(kind, params, X)


def _baselines(windows: Windows, config: ExperimentConfig, to_units, test_true) -> dict:
    out = {}

    def add(name, pred_scaled):
        pred = to_units(np.asarray(pred_scaled))
        out[name] = {"test_pred": pred, "test_mse": float(np.mean((pred - test_true) ** 2))}

    add("naive (last value)", baselines.Naive().predict(windows.X_test)[0])
    for p in config.ar_orders:
        if p <= config.n_in:
            model = baselines.AutoRegressive(p).fit(windows.X_train, windows.Y_train)
            add(f"AR({p}) least squares", model.predict(windows.X_test)[0])
    if config.arima_order is not None and baselines.have_statsmodels():
        n_train_values = windows.X_train.shape[1] + windows.n_in   # values up to the last training target
        pred = baselines.arima_one_step(windows.scaled, n_train_values, order=tuple(config.arima_order))
        add(f"ARIMA{tuple(config.arima_order)} (statsmodels)", pred)
    return out
