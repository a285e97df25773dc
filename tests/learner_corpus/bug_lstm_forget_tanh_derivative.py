"""LSTM cell (thesis style): the forget gate's sigmoid derivative written as tanh's, 1 - Γf².

Breaks dWf, dbf (built from dz_f) and dxt, dh_prev (which sum Wfᵀ dz_f with the other
gates, (4-43), (4-44)). dc_prev = dc * Γf does not use σ', so it stays right, as do the
other gates' gradients. Correct (4-40): Γf * (1 - Γf).
"""
from learner_corpus.lstm_thesis import lstm_cell_forward as forward
import numpy as np

EXERCISE, STYLE = "lstm_cell", "thesis"
WRONG = {"dWf", "dbf", "dxt", "dh_prev"}
GATE = "forget"
DIAGNOSIS = "derivative_formula"


def backward(dh_next, dc_next, cache):
    (h_next, c_next, h_prev, c_prev, gf, gu, cc, go, xt, parameters) = cache
    n_h = h_prev.shape[0]
    tanh_c = np.tanh(c_next)
    dc = dc_next + dh_next * go * (1 - tanh_c ** 2)
    dzo = dh_next * tanh_c * go * (1 - go)
    dzu = dc * cc * gu * (1 - gu)
    dzc = dc * gu * (1 - cc ** 2)
    dzf = dc * c_prev * (1 - gf ** 2)            # BUG: sigma' is gf * (1 - gf)
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
