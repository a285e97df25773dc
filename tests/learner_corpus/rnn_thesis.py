"""Vanilla RNN cell in the thesis's lab style (4-1): `Wh Wx bh`, `h_prev`, returns (h_next, cache)."""
import numpy as np


def rnn_cell_forward(xt, h_prev, parameters):
    z = parameters["Wh"] @ h_prev + parameters["Wx"] @ xt + parameters["bh"]  # (n_h, m)  (4-1)
    h_next = np.tanh(z)                                                          # (n_h, m)
    return h_next, (h_next, z, h_prev, xt, parameters)


def rnn_cell_backward(dh_next, cache):
    h_next, z, h_prev, xt, parameters = cache
    dz = dh_next * (1 - h_next ** 2)                     # (n_h, m)  tanh' at the output
    return {"dxt": parameters["Wx"].T @ dz, "dh_prev": parameters["Wh"].T @ dz,
            "dWx": dz @ xt.T, "dWh": dz @ h_prev.T, "dbh": dz.sum(axis=1, keepdims=True)}
