"""LSTM cell (thesis style): the thesis's (4-39) slip, the factor dh_next dropped.

The last line of (4-39) reads (∂L/∂c + Γo*(1 - tanh²c)) * Γu * (1 - c̃²): the h-path
term lost its factor ∂L/∂h. Breaks dWc, dbc (from dz_c) and dxt, dh_prev (which use
Wcᵀ dz_c); the other gates and dc_prev are right.
"""
from learner_corpus.lstm_thesis import lstm_cell_forward as forward
import numpy as np

EXERCISE, STYLE = "lstm_cell", "thesis"
WRONG = {"dWc", "dbc", "dxt", "dh_prev"}
GATE = "candidate"
DIAGNOSIS = "dropped_upstream"


def backward(dh_next, dc_next, cache):
    (h_next, c_next, h_prev, c_prev, gf, gu, cc, go, xt, parameters) = cache
    n_h = h_prev.shape[0]
    tanh_c = np.tanh(c_next)
    dc = dc_next + dh_next * go * (1 - tanh_c ** 2)
    dzo = dh_next * tanh_c * go * (1 - go)
    dzu = dc * cc * gu * (1 - gu)
    dzc = (dc_next + go * (1 - tanh_c ** 2)) * gu * (1 - cc ** 2)   # BUG: (4-39) as printed
    dzf = dc * c_prev * gf * (1 - gf)
    concat = np.concatenate([h_prev, xt], axis=0)
    grads = {}
    for gate, dz in (("f", dzf), ("u", dzu), ("c", dzc), ("o", dzo)):
        grads["dW" + gate] = dz @ concat.T
        grads["db" + gate] = dz.sum(axis=1, keepdims=True)
    dconcat = (parameters["Wf"].T @ dzf + parameters["Wu"].T @ dzu
               + parameters["Wc"].T @ dzc + parameters["Wo"].T @ dzo)
    grads["dh_prev"], grads["dxt"] = dconcat[:n_h], dconcat[n_h:]
    grads["dc_prev"] = dc * gf
    return grads
