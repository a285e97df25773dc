"""Baselines the networks must beat: the naive forecast and an AR(p) model.

Each baseline is an object with `predict(X) -> Y_hat` on the lab's shapes,
X (1, m, n_in) -> (1, m), so it plugs into `cells.forecast` like a network does.

- `Naive`: tomorrow equals today (the random-walk forecast; hard to beat on inflation).
- `AutoRegressive(p)`: y_t = c + a_1 y_{t-1} + ... + a_p y_{t-p}, fit by ordinary
  least squares on the training windows (numpy only).
- `arima_one_step(...)`: statsmodels' ARIMA(p, d, q) fit by maximum likelihood on the
  training part, then one-step predictions over the test part with those parameters;
  only when statsmodels is installed (`pip install tinytape[data]`).
"""
from __future__ import annotations

import numpy as np

__all__ = ["Naive", "AutoRegressive", "arima_one_step", "have_statsmodels"]


def _check_X(X, name):
    X = np.asarray(X)
    if X.ndim != 3 or X.shape[0] != 1:
        raise ValueError(f"{name}: X has shape {X.shape}; expected (1, m, n_in), the lab's shape")
    return X


class Naive:
    """The last value of each window: y_hat_t = y_{t-1}."""

    def predict(self, X):
        X = _check_X(X, "Naive.predict")
        return X[:, :, -1].copy()                                     # (1, m)


class AutoRegressive:
    """AR(p) with intercept, least squares on the last p values of each training window."""

    def __init__(self, p: int):
        if p < 1:
            raise ValueError(f"AutoRegressive: p={p} must be >= 1")
        self.p = p
        self.coef_ = None    # (p + 1,): intercept, then a_1 (lag 1) ... a_p (lag p)

    def _design(self, X, name):
        X = _check_X(X, name)
        if X.shape[2] < self.p:
            raise ValueError(f"{name}: windows of {X.shape[2]} values hold no AR({self.p}) lags")
        lags = X[0, :, ::-1][:, : self.p]                              # (m, p): lag 1 first
        return np.hstack([np.ones((lags.shape[0], 1)), lags])         # (m, p + 1)

    def fit(self, X, Y) -> "AutoRegressive":
        A = self._design(X, "AutoRegressive.fit")
        y = np.asarray(Y)[0]                                          # (m,)
        if A.shape[0] <= A.shape[1]:
            raise ValueError(f"AutoRegressive.fit: {A.shape[0]} windows cannot fit {A.shape[1]} coefficients")
        self.coef_, *_ = np.linalg.lstsq(A, y, rcond=None)
        return self

    def predict(self, X):
        if self.coef_ is None:
            raise RuntimeError("AutoRegressive.predict: call fit(X_train, Y_train) first")
        return (self._design(X, "AutoRegressive.predict") @ self.coef_)[None, :]   # (1, m)


def have_statsmodels() -> bool:
    try:
        import statsmodels  # noqa: F401
    except ImportError:
        return False
    return True


def arima_one_step(series, n_train_values: int, order=(2, 0, 0)):
    """One-step-ahead ARIMA predictions for series[n_train_values:].

    The model is fit on series[:n_train_values] only; the test predictions reuse
    those parameters and condition on the observed past (no refitting, no look-ahead).
    Returns an array of len(series) - n_train_values predictions.
    """
    try:
        from statsmodels.tsa.arima.model import ARIMA
    except ImportError as exc:
        raise ImportError("arima_one_step needs statsmodels: pip install 'tinytape[data]'") from exc
    series = np.asarray(series, dtype=np.float64)
    if not 0 < n_train_values < len(series):
        raise ValueError(f"arima_one_step: n_train_values={n_train_values} must be in (0, {len(series)})")
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter on short series
        fitted = ARIMA(series[:n_train_values], order=order).fit()
        full = fitted.apply(series)                                  # same parameters, whole series
        pred = full.get_prediction(start=n_train_values, end=len(series) - 1).predicted_mean
    return np.asarray(pred, dtype=np.float64)
