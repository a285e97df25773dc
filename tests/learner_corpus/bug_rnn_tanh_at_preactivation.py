"""RNN cell (thesis style): tanh' evaluated at the pre-activation z instead of at h = tanh(z).

Breaks every gradient (dxt, dh_prev, dWx, dWh, dbh): all of them flow through dz, and
dz = dh_next * (1 - z**2) uses the wrong point. Correct: (1 - h_next**2) = 1 - tanh(z)**2.
"""
from learner_corpus.rnn_thesis import rnn_cell_forward as forward

EXERCISE, STYLE = "rnn_cell", "thesis"
WRONG = {"dxt", "dh_prev", "dWx", "dWh", "dbh"}
GATE = None
DIAGNOSIS = "derivative_point"


def backward(dh_next, cache):
    h_next, z, h_prev, xt, parameters = cache
    dz = dh_next * (1 - z ** 2)                  # BUG: tanh'(z) is 1 - tanh(z)**2, not 1 - z**2
    return {"dxt": parameters["Wx"].T @ dz, "dh_prev": parameters["Wh"].T @ dz,
            "dWx": dz @ xt.T, "dWh": dz @ h_prev.T, "dbh": dz.sum(axis=1, keepdims=True)}
