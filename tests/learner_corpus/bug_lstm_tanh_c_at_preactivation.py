"""LSTM cell (thesis style): tanh' of c<t> taken as 1 - c², at the pre-activation.

h = Γo * tanh(c), so ∂h/∂c = Γo * (1 - tanh²(c)) (4-32); the learner wrote 1 - c².
Breaks everything that goes through c<t>: dWf, dbf, dWu, dbu, dWc, dbc, dc_prev, dxt,
dh_prev. dWo, dbo (dz_o does not pass through tanh'(c)) are right.
"""
from learner_corpus.lstm_thesis import lstm_cell_forward as forward
import numpy as np

EXERCISE, STYLE = "lstm_cell", "thesis"
WRONG = {"dWf", "dbf", "dWu", "dbu", "dWc", "dbc", "dc_prev", "dxt", "dh_prev"}
GATE = None
DIAGNOSIS = "derivative_point"


def backward(dh_next, dc_next, cache):
    (h_next, c_next, h_prev, c_prev, gf, gu, cc, go, xt, parameters) = cache
    n_h = h_prev.shape[0]
    tanh_c = np.tanh(c_next)
    dc = dc_next + dh_next * go * (1 - c_next ** 2)   # BUG: should be 1 - tanh_c ** 2
    dzo = dh_next * tanh_c * go * (1 - go)
    dzu = dc * cc * gu * (1 - gu)
    dzc = dc * gu * (1 - cc ** 2)
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
