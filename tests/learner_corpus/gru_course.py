"""GRU cell in the course style: `a_prev`, `yt_pred`, `da_next`, preallocated concat."""
import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def gru_cell_forward(xt, a_prev, parameters):
    Wu, bu = parameters["Wu"], parameters["bu"]
    Wr, br = parameters["Wr"], parameters["br"]
    Wh, bh = parameters["Wh"], parameters["bh"]
    n_x, m = xt.shape
    n_a = a_prev.shape[0]
    concat = np.zeros((n_a + n_x, m))
    concat[:n_a, :] = a_prev
    concat[n_a:, :] = xt
    ut = sigmoid(np.dot(Wu, concat) + bu)
    rt = sigmoid(np.dot(Wr, concat) + br)
    concat_r = np.zeros((n_a + n_x, m))
    concat_r[:n_a, :] = rt * a_prev
    concat_r[n_a:, :] = xt
    cct = np.tanh(np.dot(Wh, concat_r) + bh)
    a_next = ut * cct + (1 - ut) * a_prev
    yt_pred = np.dot(parameters["Wy"], a_next) + parameters["by"]
    cache = (a_next, a_prev, xt, ut, rt, cct, parameters)
    return a_next, yt_pred, cache


def gru_cell_backward(da_next, cache):
    (a_next, a_prev, xt, ut, rt, cct, parameters) = cache
    n_a = a_prev.shape[0]
    dcct = da_next * ut * (1 - cct ** 2)
    dut = da_next * (cct - a_prev) * ut * (1 - ut)
    dconcat_r = np.dot(parameters["Wh"].T, dcct)
    drt = dconcat_r[:n_a] * a_prev * rt * (1 - rt)
    concat = np.concatenate((a_prev, xt), axis=0)
    concat_r = np.concatenate((rt * a_prev, xt), axis=0)
    da_prev = (da_next * (1 - ut) + np.dot(parameters["Wu"][:, :n_a].T, dut)
               + np.dot(parameters["Wr"][:, :n_a].T, drt) + dconcat_r[:n_a] * rt)
    dxt = (np.dot(parameters["Wu"][:, n_a:].T, dut) + np.dot(parameters["Wr"][:, n_a:].T, drt)
           + dconcat_r[n_a:])
    return {"dxt": dxt, "da_prev": da_prev,
            "dWu": np.dot(dut, concat.T), "dbu": np.sum(dut, axis=1, keepdims=True),
            "dWr": np.dot(drt, concat.T), "dbr": np.sum(drt, axis=1, keepdims=True),
            "dWh": np.dot(dcct, concat_r.T), "dbh": np.sum(dcct, axis=1, keepdims=True)}
