# %% [markdown]
# # Lesson 5 — The inflation case study
#
# *About 60 minutes (plus training time: a few minutes at full size). Prerequisites: Lessons 3 and 4.*
#
# The thesis's experiment (chapters 5–6): Colombia's monthly 12-month CPI inflation from
# 2000-01, divided by 100, standard-scaled, windows of 12 months predicting the 13th, the
# first 80 % of the windows for training; an LSTM and a GRU with $n_h = 78$, Adam
# (lr $10^{-3}$), batches of 64, 200 epochs — each trained **by hand-derived BPTT**, **through
# the tape**, and **in Keras** from the same initial weights; then test predictions, a
# 24-month forecast past the data, bootstrap intervals, and the baselines a forecaster would
# compare against. Then an honest look at what the numbers do and do not show.
#
# `TINYTAPE_FAST=1` shrinks everything (3 epochs, 8 hidden units) so the notebook runs in CI;
# the pictures are then meaningless — run it without that variable to see the real thing.

# %%
import matplotlib.pyplot as plt
import numpy as np

from cells import data as cdata
from cells import inflation
from lessons import lab
from visuals import experiment

print(lab.banner())

# %% [markdown]
# ## 1. The data
#
# The Banco de la República's export is read from `../shared/data/colombia_inflation_monthly.csv`
# beside the repository (or from the path in `$TINYTAPE_DATA`). Without it, the lesson falls
# back to the **embedded default**: US quarterly CPI inflation 1959–2009 (statsmodels'
# `macrodata`, public domain), so everything below still runs — on a different series.

# %%
path = lab.inflation_csv()
if path.exists():
    series = cdata.load_series(path)
    start = "2000-01"
    print(f"loaded {path}: {len(series)} months, {series.dates[0]} to {series.dates[-1]}")
else:
    series = cdata.load_default()
    start = None
    print(f"No data file at {path}.\nUsing the embedded default instead: {series.name} "
          f"({series.source}), {len(series)} quarters. The discussion at the end is about the "
          "Colombian series; the numbers here are for the US one.")

used = series.since(start) if start else series
fig, ax = plt.subplots(figsize=(11, 3.5))
ax.plot(series.dates.astype("datetime64[D]"), series.values, color="#999999", label="whole series")
ax.plot(used.dates.astype("datetime64[D]"), used.values, color="#1f77b4", label="used by the experiment")
ax.set_ylabel(series.units or "value")
ax.legend()
plt.show()

# %% [markdown]
# ## 2. Windows — the lab's first two exercises
#
# ### Exercise 5.1 — `create_sequences`
#
# Cut a series into windows: `X[i] = series[i : i + n_in]` and
# `Y[i] = series[i + n_in : i + n_in + n_out]`. Return `X (samples, n_in)`, `Y (samples, n_out)`
# with `samples = len(series) − n_in − n_out + 1`. The grader includes the lab's own check:
# 20 random values (seed 42), windows of 5 predicting 2.

# %%
@lab.exercise
def create_sequences(series, n_in, n_out):
    """Sliding windows of n_in inputs and the n_out values that follow."""
    # YOUR CODE HERE
    raise NotImplementedError("Exercise 5.1: write create_sequences")


# %%
lab.check("create_sequences", create_sequences)

# %% [markdown]
# ### Exercise 5.2 — `reshape_data`
#
# The networks want the lab's shapes: `x (n_x, m, T_x)` with one feature per step
# ($n_x = 1$), the $m$ windows along the batch axis and the window along time; and targets
# `y (n_y, m)`.

# %%
@lab.exercise
def reshape_data(X, Y):
    """(samples, n_in), (samples, n_out) -> x (1, m, T_x), y (n_y, m)."""
    # YOUR CODE HERE
    raise NotImplementedError("Exercise 5.2: write reshape_data")


# %%
lab.check("reshape_data", reshape_data)

# %% [markdown]
# ## 3. Scaling, and a leak
#
# The thesis standard-scales the series with the mean and standard deviation of **all** of it
# (section 5.1.1) before splitting. That lets the test period — including the 2022–23 peak —
# shape the numbers the model trains on: a mild look-ahead. The honest version fits the
# scaler on the values the training windows touch. `cells.data.prepare_windows` does either;
# the default is the honest one.

# %%
fraction = used.scaled(1 / 100, "fraction")
honest = cdata.prepare_windows(fraction, n_in=12, n_out=1, train_fraction=0.8, scale_fit="train")
thesis = cdata.prepare_windows(fraction, n_in=12, n_out=1, train_fraction=0.8, scale_fit="all")
print(f"{honest.X_train.shape[1]} training windows, {honest.X_test.shape[1]} test windows "
      f"(first test target {honest.target_dates_test[0]})")
for label, w in (("fit on the training part", honest), ("fit on everything (thesis)", thesis)):
    print(f"scaler {label:28s}: mean {w.scaler.mean_:.4f}, std {w.scaler.std_:.4f}")

# %% [markdown]
# ## 4. Training: hand, tape and Keras
#
# `cells.inflation.run_experiment` runs the whole protocol with the pieces you built in
# Lessons 3–4 (`cells.train.fit` is the loop of Lesson 3's section 6): for each cell, the hand
# BPTT and tape models start from the same weights and batch order — they end on the same
# weights up to rounding — and Keras's `model.fit` starts from those weights too. Keras is
# skipped, with a message, when TensorFlow is not installed.

# %%
methods = ("bptt", "tape", "keras")
config = inflation.ExperimentConfig(
    start=start, n_h=lab.fast(78, 8), epochs=lab.fast(200, 3), n_boot=lab.fast(500, 40),
    methods=methods, progress=not lab.FAST, arima_order=lab.fast((1, 1, 1), None))
result = inflation.run_experiment(series, config, log=lambda *a, **k: None)
for reason in result.skipped:
    print("skipped:", reason)
print(result.loss_table("thesis"))
print()
print(result.loss_table("keras"))

# %% [markdown]
# The thesis's Table 6-1 puts its hand models (1/(2m) convention) beside Keras's `fit`
# output (1/m): the Keras column is about twice the hand columns **by definition**. Read in
# one convention, the models end up in the same place.

# %%
runs = result.runs_for()
experiment.loss_figure(result)
plt.show()

# %% [markdown]
# ## 5. Test predictions, baselines, and the forecast
#
# Test MSE in the thesis's units (inflation / 100) — beside the **naive** forecast (next
# month = this month) and autoregressions fitted by least squares. A network that does not
# beat the naive forecast has learned nothing useful about the next month.

# %%
print(result.prediction_table())
print()
print(result.mse_table())

# %%
experiment.forecast_figure(result)
plt.show()

# %% [markdown]
# ## 6. Bootstrap intervals (the lab's optional section)
#
# `cells.forecast.bootstrap_prediction_intervals` simulates many future paths: from the last
# observed window, each step adds a one-step residual of the model, drawn with replacement,
# and feeds the result back in. The band holds the middle 95 % of the paths at each horizon.
# It carries the noise of the series through the model's recursion — **not** the uncertainty
# of the fitted weights, and it is built from training residuals, which an overfitted network
# makes too small. Treat it as optimistic.

# %%
print(result.forecast_table())
experiment.interval_figures(result)
plt.show()

# %% [markdown]
# ## 7. An honest discussion
#
# **What the test MSE says.** The thesis reports test MSEs of about $1.7\times10^{-4}$ (hand LSTM)
# and $5\times10^{-5}$ (Keras LSTM) in fraction units (Table 6-3). Look at the baselines in the
# table above: on the Colombian series the **naive forecast** — next month's inflation is this
# month's — scores about $2\times10^{-5}$ on the same test windows, and the autoregressions do as
# well or better. One month ahead, 12-month inflation is mostly last month's 12-month inflation (the
# windows share 11 of their 12 months), so "predicts the test set closely" is a low bar: a
# network has to beat the naive forecast before its predictions say anything. The networks'
# test MSE also moves by a factor of up to ~3.6 from one seed to another (measured on this
# setup over three seeds): one training run is one draw — compare several seeds before ranking LSTM,
# GRU and Keras.
#
# **The 2022–23 peak.** Inflation reached about 13 % in early 2023, outside anything in the
# training years (2000–2020). No model catches it: they trail it by a few months, because they
# can only extrapolate patterns they have seen, and a standard-scaled input far outside the
# training range sends tanh units into saturation. The thesis says this too (section 6.2).
# A univariate model of inflation has no access to what caused the peak (the pandemic's
# supply shocks, the exchange rate, food and energy prices).
#
# **Leakage.** Scaling on the whole series (the thesis's choice, `scale_fit="all"`) lets the
# test period's mean and spread into training. Here the effect is small, but it is the kind of
# look-ahead that grows with more aggressive preprocessing (fitting a trend, choosing
# hyperparameters on the test set). This lesson fits the scaler on the training part.
#
# **The 24-month forecast.** Fed its own predictions, a one-step model drifts towards the
# behaviour it learned on average; the intervals widen, and they still understate the
# uncertainty (they ignore the weights' own uncertainty and regime changes). A forecast of
# inflation two years out from a 12-month window is an exercise, not advice.
#
# **Hand vs tape vs Keras.** Hand BPTT and the tape compute the same gradient (to ~1e-15), so
# from the same start they train to the same weights. Keras differs in where Adam's ε sits,
# in its shuffling, in its default initialisers when you don't give it weights, and — for the
# GRU — in the cell itself (Lesson 4). Differences between those columns are not evidence
# that one implementation is "better".
#
# Next: **Lesson 6**, beyond the lab.
