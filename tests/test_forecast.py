"""cells.forecast and cells.baselines: recursive forecasts, bootstrap intervals, AR and naive."""
import numpy as np
import pytest

from cells.baselines import AutoRegressive, Naive, arima_one_step
from cells.data import create_sequences, to_lab_shapes
from cells.forecast import bootstrap_prediction_intervals, one_step_residuals, recursive_forecast


def _ar1(n, phi, sigma, rng, start=0.0):
    y = np.empty(n)
    prev = start
    for t in range(n):
        prev = phi * prev + sigma * rng.standard_normal()
        y[t] = prev
    return y


def test_recursive_forecast_feeds_predictions_back():
    # f(window) = 0.5 * last value + 0.25 * first value: computed by hand below
    def predict_fn(X):
        return 0.5 * X[:, :, -1] + 0.25 * X[:, :, 0]
    out = recursive_forecast(predict_fn, [4.0, 0.0, 8.0], steps=3)
    # window [4, 0, 8] -> 0.5*8 + 0.25*4 = 5; [0, 8, 5] -> 2.5; [8, 5, 2.5] -> 1.25 + 2 = 3.25
    np.testing.assert_allclose(out, [5.0, 2.5, 3.25])


def test_recursive_forecast_rejects_a_wrong_predict_fn():
    with pytest.raises(ValueError, match="predict_fn returned shape"):
        recursive_forecast(lambda X: X[0], [1.0, 2.0], steps=2)


def test_bootstrap_with_constant_residual_shifts_every_path_identically():
    # residuals all equal c: every path is the deterministic recursion of f(w) + c
    def predict_fn(X):
        return 0.5 * X[:, :, -1]
    pi = bootstrap_prediction_intervals(predict_fn, [2.0], steps=3, residuals=[0.1, 0.1],
                                        n_boot=20, level=0.9)
    expected = [1.1, 0.65, 0.425]            # 0.5*2+0.1, 0.5*1.1+0.1, 0.5*0.65+0.1
    np.testing.assert_allclose(pi.lower, expected)
    np.testing.assert_allclose(pi.upper, expected)
    np.testing.assert_allclose(pi.point, [1.0, 0.5, 0.25])


def test_bootstrap_intervals_cover_an_ar1_truth_at_their_nominal_rate():
    rng = np.random.default_rng(7)
    phi, sigma, n_in = 0.8, 1.0, 3
    history = _ar1(3000, phi, sigma, rng)
    X, Y = to_lab_shapes(*create_sequences(history, n_in, 1))
    model = AutoRegressive(1).fit(X, Y)
    np.testing.assert_allclose(model.coef_[1], phi, atol=0.03)        # least squares recovers phi
    residuals = one_step_residuals(model.predict, X, Y)
    level, steps = 0.9, 6
    pi = bootstrap_prediction_intervals(model.predict, history[-n_in:], steps, residuals,
                                        n_boot=4000, level=level, seed=1)
    # 4000 futures drawn from the true AR(1), all starting at the last observed value
    futures = np.empty((4000, steps))
    prev = np.full(4000, history[-1])
    for h in range(steps):
        prev = phi * prev + sigma * rng.standard_normal(4000)
        futures[:, h] = prev
    coverage = np.mean((futures >= pi.lower) & (futures <= pi.upper), axis=0)
    # binomial sd of a coverage estimate from 4000 draws is 0.005; allow estimation error too
    assert np.all(np.abs(coverage - level) < 0.03), coverage
    # intervals widen with the horizon as the AR(1) variance accumulates
    widths = pi.upper - pi.lower
    assert widths[-1] > 1.4 * widths[0]
    # and an interval at the wrong level would fail: 50 % intervals cover about half
    narrow = bootstrap_prediction_intervals(model.predict, history[-n_in:], steps, residuals,
                                            n_boot=4000, level=0.5, seed=1)
    assert np.mean((futures[:, 0] >= narrow.lower[0]) & (futures[:, 0] <= narrow.upper[0])) < 0.6


def test_bootstrap_rejects_bad_arguments():
    f = Naive().predict
    with pytest.raises(ValueError, match="residuals"):
        bootstrap_prediction_intervals(f, [1.0], 2, residuals=[0.1])
    with pytest.raises(ValueError, match="level"):
        bootstrap_prediction_intervals(f, [1.0], 2, residuals=[0.1, 0.2], level=95)


def test_naive_predicts_the_last_value():
    X, Y = to_lab_shapes(*create_sequences(np.arange(8.0), 3, 1))
    np.testing.assert_array_equal(Naive().predict(X), Y - 1)


def test_autoregressive_least_squares_recovers_ar2():
    rng = np.random.default_rng(3)
    y = np.zeros(5000)
    for t in range(2, 5000):
        y[t] = 0.3 + 0.6 * y[t - 1] - 0.2 * y[t - 2] + 0.1 * rng.standard_normal()
    X, Y = to_lab_shapes(*create_sequences(y, 5, 1))
    model = AutoRegressive(2).fit(X, Y)
    np.testing.assert_allclose(model.coef_, [0.3, 0.6, -0.2], atol=0.03)
    with pytest.raises(RuntimeError, match="fit"):
        AutoRegressive(2).predict(X)
    with pytest.raises(ValueError, match="lags"):
        AutoRegressive(9).fit(X, Y)


def test_arima_one_step_agrees_with_least_squares_ar():
    pytest.importorskip("statsmodels", reason="statsmodels (tinytape[data]) provides ARIMA")
    rng = np.random.default_rng(5)
    y = _ar1(600, 0.7, 1.0, rng)
    n_train = 500
    arima = arima_one_step(y, n_train, order=(1, 0, 0))
    X, Y = to_lab_shapes(*create_sequences(y, 1, 1))
    ls = AutoRegressive(1).fit(X[:, : n_train - 1], Y[:, : n_train - 1])
    ls_test = ls.predict(X[:, n_train - 1:])[0]          # predictions of y[n_train:]
    assert arima.shape == (100,)
    # maximum likelihood and least squares estimates differ slightly; the forecasts barely
    assert np.max(np.abs(arima - ls_test)) < 0.05
