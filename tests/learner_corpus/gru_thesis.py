"""GRU cell in the thesis's lab convention (4-45 ... 4-64): reset applied before the matmul."""
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def gru_cell_forward(xt, h_prev, parameters):
    concat = np.concatenate([h_prev, xt], axis=0)                       # (n_h+n_x, m)
    gu = sigmoid(parameters["Wu"] @ concat + parameters["bu"])          # (n_h, m)  (4-48)
    gr = sigmoid(parameters["Wr"] @ concat + parameters["br"])          # (n_h, m)  (4-49)
    concat_r = np.concatenate([gr * h_prev, xt], axis=0)                # (n_h+n_x, m)
    hh = np.tanh(parameters["Wh"] @ concat_r + parameters["bh"])        # (n_h, m)  (4-47)
    h_next = gu * hh + (1 - gu) * h_prev                                # (n_h, m)  (4-46)
    return h_next, (h_prev, xt, gu, gr, hh, concat, concat_r, parameters)


def gru_cell_backward(dh_next, cache):
    h_prev, xt, gu, gr, hh, concat, concat_r, parameters = cache
    n_h = h_prev.shape[0]
    dzh = dh_next * gu * (1 - hh ** 2)                      # (n_h, m)  (4-54)
    dzu = dh_next * (hh - h_prev) * gu * (1 - gu)           # (n_h, m)  (4-55)
    dconcat_r = parameters["Wh"].T @ dzh                    # (n_h+n_x, m)
    dzr = dconcat_r[:n_h] * h_prev * gr * (1 - gr)          # (n_h, m)  (4-58)
    dconcat = parameters["Wu"].T @ dzu + parameters["Wr"].T @ dzr
    dh_prev = dh_next * (1 - gu) + dconcat[:n_h] + dconcat_r[:n_h] * gr   # (4-63)
    dxt = dconcat[n_h:] + dconcat_r[n_h:]                   # (4-64)
    return {"dxt": dxt, "dh_prev": dh_prev,
            "dWu": dzu @ concat.T, "dbu": dzu.sum(axis=1, keepdims=True),
            "dWr": dzr @ concat.T, "dbr": dzr.sum(axis=1, keepdims=True),
            "dWh": dzh @ concat_r.T, "dbh": dzh.sum(axis=1, keepdims=True)}
