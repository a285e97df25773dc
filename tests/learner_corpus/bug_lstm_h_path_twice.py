"""LSTM cell (thesis style): the h-path counted twice, a literal reading of (4-34) with (4-38).

(4-34) already includes the path through h<t> in ∂L/∂c<t>, and (4-38)-(4-40) add
∂L/∂h * Γo * (1 - tanh²c) again. Breaks dWf, dbf, dWu, dbu, dWc, dbc and, through them,
dxt and dh_prev. dWo, dbo (no c in dz_o) and dc_prev = dc * Γf (uses dc once) are right.
"""
from learner_corpus.lstm_thesis import lstm_cell_forward as forward
import numpy as np

EXERCISE, STYLE = "lstm_cell", "thesis"
WRONG = {"dWf", "dbf", "dWu", "dbu", "dWc", "dbc", "dxt", "dh_prev"}
GATE = None
DIAGNOSIS = "counted_twice"


def backward(dh_next, dc_next, cache):
    (h_next, c_next, h_prev, c_prev, gf, gu, cc, go, xt, parameters) = cache
    n_h = h_prev.shape[0]
    tanh_c = np.tanh(c_next)
    dc = dc_next + dh_next * go * (1 - tanh_c ** 2)                # (4-34)
    dzo = dh_next * tanh_c * go * (1 - go)
    through_h = dh_next * go * (1 - tanh_c ** 2)
    dzu = (dc + through_h) * cc * gu * (1 - gu)                    # BUG: (4-38) adds the h-path again
    dzc = (dc + through_h) * gu * (1 - cc ** 2)                    # BUG: (4-39)
    dzf = (dc + through_h) * c_prev * gf * (1 - gf)                # BUG: (4-40)
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
