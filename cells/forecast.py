"""Multi-step forecasts and bootstrap prediction intervals (the thesis's section 6, optional).

Every function here takes a `predict_fn(X) -> Y_hat` working on the lab's shapes,
X (1, m, n_in) -> Y_hat (1, m), so the same code serves a network
(`lambda X: cells.train.predict("lstm", params, X)`), an AR(p) baseline or the naive
forecast, and it forecasts many paths at once (the batch axis m carries them).

The bootstrap scheme (`bootstrap_prediction_intervals`) is the residual bootstrap of
simulated future paths (Hyndman & Athanasopoulos, *Forecasting: Principles and
Practice*, 3rd ed., section 5.5):

1. one-step residuals e_i = y_i - f(window_i) on the training windows;
2. for each of B paths, starting from the last observed window, repeat for
   h = 1..H: y*_h = f(current window) + e*, with e* drawn with replacement from the
   residuals (independently per path and step), then slide the window to end in y*_h;
3. the interval at horizon h is the empirical (alpha/2, 1 - alpha/2) quantile pair of
   the B values y*_h; the point forecast is the noise-free recursive forecast.

The intervals carry the noise of the series (as the model's own residuals measure
it) propagated through the model's recursion; they do not carry the uncertainty of
the fitted weights (that would need refitting on resampled data, B times 200 epochs).
Training residuals of a flexible network are smaller than its out-of-sample errors,
so the intervals are optimistic for an overfitted model; `residuals=` lets the caller
pass held-out residuals instead.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["recursive_forecast", "one_step_residuals", "PredictionIntervals",
           "bootstrap_prediction_intervals"]


def _windows(last_window, n_paths: int) -> np.ndarray:
    window = np.asarray(last_window, dtype=np.float64)
    if window.ndim != 1:
        raise ValueError(f"forecast: last_window must be 1-D (the last n_in values), got {window.shape}")
    return np.tile(window, (n_paths, 1))                            # (paths, n_in)


def _step(predict_fn, windows: np.ndarray) -> np.ndarray:
    """One prediction per row of `windows` (paths, n_in) -> (paths,)."""
    Y_hat = np.asarray(predict_fn(windows[None, :, :]))             # (1, paths, n_in) -> (n_y, paths)
    if Y_hat.ndim != 2 or Y_hat.shape[1] != windows.shape[0]:
        raise ValueError(f"forecast: predict_fn returned shape {Y_hat.shape} for {windows.shape[0]} "
                         "windows; it must map X (1, m, n_in) to Y_hat (n_y, m)")
    return Y_hat[0]                                                  # first output = next value


def recursive_forecast(predict_fn, last_window, steps: int) -> np.ndarray:
    """Forecast `steps` values past the data by feeding each prediction back as input.

    last_window: the last n_in observed values (in the model's scaled units).
    Returns an array of `steps` point forecasts.
    """
    if steps < 1:
        raise ValueError(f"recursive_forecast: steps={steps} must be >= 1")
    windows = _windows(last_window, 1)                               # (1, n_in)
    out = np.empty(steps)
    for h in range(steps):
        out[h] = _step(predict_fn, windows)[0]
        windows = np.concatenate([windows[:, 1:], out[h:h + 1][None, :]], axis=1)
    return out


def one_step_residuals(predict_fn, X, Y) -> np.ndarray:
    """y - f(window) for each window of X (1, m, n_in), Y (n_y, m): returns (m,)."""
    return np.asarray(Y)[0] - np.asarray(predict_fn(X))[0]


@dataclass
class PredictionIntervals:
    """Point forecast and bootstrap bounds, each of length `steps`, in the model's units."""

    point: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    level: float
    paths: np.ndarray       # (n_boot, steps), the simulated futures

    def map(self, fn) -> "PredictionIntervals":
        """Apply a monotone increasing map (e.g. a scaler's inverse) to every number."""
        return PredictionIntervals(fn(self.point), fn(self.lower), fn(self.upper), self.level,
                                   fn(self.paths))


def bootstrap_prediction_intervals(predict_fn, last_window, steps: int, residuals,
                                   n_boot: int = 500, level: float = 0.95,
                                   seed: int = 0) -> PredictionIntervals:
    """Residual-bootstrap prediction intervals for a recursive forecast (module docstring).

    residuals: one-step errors to resample, e.g. `one_step_residuals(predict_fn, X_train, Y_train)`.
    level: nominal coverage of each pointwise interval (0.95 gives 2.5 % and 97.5 % quantiles).
    All B paths are forecast together, one `predict_fn` call per horizon step.
    """
    residuals = np.asarray(residuals, dtype=np.float64).ravel()
    if residuals.size < 2 or not np.all(np.isfinite(residuals)):
        raise ValueError(f"bootstrap_prediction_intervals: need >= 2 finite residuals, got {residuals.size}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"bootstrap_prediction_intervals: level={level} must be in (0, 1)")
    if n_boot < 2 or steps < 1:
        raise ValueError(f"bootstrap_prediction_intervals: need n_boot >= 2 and steps >= 1, "
                         f"got n_boot={n_boot}, steps={steps}")
    rng = np.random.default_rng(seed)
    draws = rng.choice(residuals, size=(n_boot, steps), replace=True)   # (B, H)
    windows = _windows(last_window, n_boot)                             # (B, n_in)
    paths = np.empty((n_boot, steps))
    for h in range(steps):
        paths[:, h] = _step(predict_fn, windows) + draws[:, h]          # (B,)
        windows = np.concatenate([windows[:, 1:], paths[:, h:h + 1]], axis=1)
    alpha = 1.0 - level
    lower, upper = np.quantile(paths, [alpha / 2, 1 - alpha / 2], axis=0)  # (H,), (H,)
    point = recursive_forecast(predict_fn, last_window, steps)
    return PredictionIntervals(point, lower, upper, level, paths)
