"""The case study's figures (thesis Figs 6-1 … 6-3) from a `cells.inflation` result.

One place for them, so `tinytape inflation`, `tinytape demo` and lesson 5 draw the
same pictures. Each function returns a matplotlib Figure; saving or showing it is the
caller's business (no plt.show here).
"""
from __future__ import annotations

import numpy as np

from visuals import plots


def years(dates) -> np.ndarray:
    """datetime64 months -> fractional years (2020-10 -> 2020.75), the plots' time axis."""
    months = np.asarray(dates, dtype="datetime64[M]").astype(int)   # months since 1970-01
    return 1970 + months / 12.0


def _series(result):
    windows = result.windows
    to_units = windows.scaler.inverse_transform
    return (years(windows.target_dates_train), to_units(windows.Y_train[0]),
            years(windows.target_dates_test), years(result.forecast_dates))


def loss_figure(result):
    """Fig 6-1: training loss of every model, in both conventions side by side."""
    import matplotlib.pyplot as plt
    runs = result.runs_for()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    plots.plot_losses({r.label: r.history["loss"] for r in runs}, ax=axes[0])
    axes[0].set_title("training loss, thesis 1/(2m)·Σ(ŷ−y)² (5-1)")
    keras_like = {r.label: r.history["loss_keras"] for r in runs if r.history.get("loss_keras")}
    if keras_like:
        plots.plot_losses(keras_like, ax=axes[1])
    axes[1].set_title("training loss, Keras 1/m·Σ(ŷ−y)²")
    fig.tight_layout()
    return fig


def forecast_figure(result):
    """Fig 6-2: test predictions and the forecast past the data, one panel per model."""
    import matplotlib.pyplot as plt
    runs = result.runs_for()
    t_train, y_train, t_test, t_future = _series(result)
    cols = min(3, len(runs)) or 1
    rows = -(-len(runs) // cols) or 1
    fig, axes = plt.subplots(rows, cols, figsize=(5.5 * cols, 4 * rows), squeeze=False)
    for ax, run in zip(axes.ravel(), runs):
        plots.plot_forecast(t_train, y_train, t_test, result.test_true, run.test_pred,
                            t_future=t_future, forecast=run.forecast, ax=ax)
        ax.set_title(f"{run.label}: test MSE {run.test_mse:.2e}")
    for ax in axes.ravel()[len(runs):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def interval_figures(result) -> dict:
    """Fig 6-3 per cell kind: the hand model's bootstrap interval, with the other
    methods' forecasts over it. {kind: Figure}, for the kinds that have intervals."""
    import matplotlib.pyplot as plt
    runs = result.runs_for()
    t_train, y_train, t_test, t_future = _series(result)
    figures = {}
    for kind in dict.fromkeys(r.kind for r in runs):
        hand = next((r for r in runs if r.kind == kind and r.intervals is not None), None)
        if hand is None:
            continue
        fig, ax = plt.subplots(figsize=(9, 4.5))
        plots.plot_forecast(t_train, y_train, t_test, result.test_true, hand.test_pred,
                            t_future=t_future, forecast=hand.forecast,
                            lower=hand.intervals.lower, upper=hand.intervals.upper, ax=ax)
        for other in runs:
            if other.kind == kind and other is not hand:
                ax.plot(t_future, other.forecast, linewidth=1.2, label=f"{other.label} forecast")
        ax.set_xlim(t_test[0] - 1, t_future[-1] + 0.25)
        ax.legend(fontsize=8)
        ax.set_title(f"{hand.label}: {int(100 * hand.intervals.level)}% residual-bootstrap interval")
        fig.tight_layout()
        figures[kind] = fig
    return figures
