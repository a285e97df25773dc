"""Lesson 5: the thesis lab's first two exercises, windows and the lab's shapes."""
from __future__ import annotations

import numpy as np


def create_sequences(series, n_in, n_out):
    """Sliding windows: X[i] = series[i : i+n_in], Y[i] = series[i+n_in : i+n_in+n_out].

    Returns X (samples, n_in) and Y (samples, n_out), samples = len(series) − n_in − n_out + 1.
    """
    series = np.asarray(series, dtype=float)
    n_samples = len(series) - n_in - n_out + 1
    X = np.array([series[i:i + n_in] for i in range(n_samples)]).reshape(n_samples, n_in)
    Y = np.array([series[i + n_in:i + n_in + n_out] for i in range(n_samples)]).reshape(n_samples, n_out)
    return X, Y


def reshape_data(X, Y):
    """(samples, n_in), (samples, n_out) -> the lab's x (n_x = 1, m, T_x) and y (n_y, m)."""
    x = X[np.newaxis, :, :]                         # (1, m, T_x): one feature, m sequences, T_x steps
    y = Y.T                                         # (n_y, m)
    return x, y
