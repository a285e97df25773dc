"""LSTM cell (thesis style): the branch from h<t> into c<t> is missing, dc = dc_next only.

(4-31): ∂L/∂c<t> = ∂L/∂h * Γo * (1 - tanh²c) + (gradient from step t+1). Dropping the
first term breaks everything that goes through c<t>: dWf, dbf, dWu, dbu, dWc, dbc,
dc_prev, dxt, dh_prev. dWo, dbo are right.
"""
from learner_corpus.lstm_thesis import lstm_cell_forward as forward
import numpy as np

EXERCISE, STYLE = "lstm_cell", "thesis"
WRONG = {"dWf", "dbf", "dWu", "dbu", "dWc", "dbc", "dc_prev", "dxt", "dh_prev"}
GATE = None
DIAGNOSIS = "missing_branch"


def backward(dh_next, dc_next, cache):
    (h_next, c_next, h_prev, c_prev, gf, gu, cc, go, xt, parameters) = cache
    n_h = h_prev.shape[0]
    tanh_c = np.tanh(c_next)
    dc = dc_next                                  # BUG: the path through h<t> = Γo*tanh(c<t>) is missing
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
