"""LSTM cell in the thesis's lab style (4-17 ... 4-44): `h_prev`, returns (h_next, c_next, cache).

Written the way a learner writes it: plain NumPy, a hand-derived backward.
"""
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def lstm_cell_forward(xt, h_prev, c_prev, parameters):
    Wf, bf = parameters["Wf"], parameters["bf"]
    Wu, bu = parameters["Wu"], parameters["bu"]
    Wc, bc = parameters["Wc"], parameters["bc"]
    Wo, bo = parameters["Wo"], parameters["bo"]
    concat = np.concatenate([h_prev, xt], axis=0)  # (n_h+n_x, m)  (4-24)
    gf = sigmoid(Wf @ concat + bf)                 # (n_h, m)  (4-23)
    gu = sigmoid(Wu @ concat + bu)                 # (n_h, m)  (4-22)
    cc = np.tanh(Wc @ concat + bc)                 # (n_h, m)  (4-20)
    go = sigmoid(Wo @ concat + bo)                 # (n_h, m)  (4-21)
    c_next = gf * c_prev + gu * cc                 # (n_h, m)  (4-19)
    h_next = go * np.tanh(c_next)                  # (n_h, m)  (4-18)
    cache = (h_next, c_next, h_prev, c_prev, gf, gu, cc, go, xt, parameters)
    return h_next, c_next, cache


def lstm_cell_backward(dh_next, dc_next, cache):
    (h_next, c_next, h_prev, c_prev, gf, gu, cc, go, xt, parameters) = cache
    n_h = h_prev.shape[0]
    tanh_c = np.tanh(c_next)
    # Gradient reaching c<t>: from step t+1 (dc_next) and through h<t> (4-31, 4-32).
    dc = dc_next + dh_next * go * (1 - tanh_c ** 2)       # (n_h, m)
    dzo = dh_next * tanh_c * go * (1 - go)                # (n_h, m)  (4-37)
    dzu = dc * cc * gu * (1 - gu)                         # (n_h, m)  (4-38)
    dzc = dc * gu * (1 - cc ** 2)                         # (n_h, m)  (4-39)
    dzf = dc * c_prev * gf * (1 - gf)                     # (n_h, m)  (4-40)
    concat = np.concatenate([h_prev, xt], axis=0)         # (n_h+n_x, m)
    grads = {}
    for gate, dz in (("f", dzf), ("u", dzu), ("c", dzc), ("o", dzo)):
        grads["dW" + gate] = dz @ concat.T                # (n_h, n_h+n_x)
        grads["db" + gate] = dz.sum(axis=1, keepdims=True)  # (n_h, 1)
    dconcat = (parameters["Wf"].T @ dzf + parameters["Wu"].T @ dzu
               + parameters["Wc"].T @ dzc + parameters["Wo"].T @ dzo)  # (4-43), (4-44)
    grads["dh_prev"] = dconcat[:n_h]                      # (n_h, m)
    grads["dxt"] = dconcat[n_h:]                          # (n_x, m)
    grads["dc_prev"] = dc * gf                            # (n_h, m)  (4-33)
    return grads


def lstm_forward(x, h0, parameters):
    """Thesis-style sequence: lists of steps, stacked on the time axis at the end."""
    n_h = h0.shape[0]
    h_next, c_next = h0, np.zeros_like(h0)
    hs, cs, caches = [], [], []
    for t in range(x.shape[2]):
        h_next, c_next, cache = lstm_cell_forward(x[:, :, t], h_next, c_next, parameters)
        hs.append(h_next)
        cs.append(c_next)
        caches.append(cache)
    assert hs[0].shape[0] == n_h
    return np.stack(hs, axis=2), np.stack(cs, axis=2), (caches, x)


def lstm_backward(dh, caches):
    caches, x = caches
    n_h, m, T_x = dh.shape
    grads = {k: np.zeros_like(v) for k, v in caches[0][9].items() if k[0] in "Wb" and k[1] != "y"}
    grads = {"d" + k: v for k, v in grads.items()}
    dx = []
    dh_prev, dc_prev = np.zeros((n_h, m)), np.zeros((n_h, m))
    for t in reversed(range(T_x)):
        step = lstm_cell_backward(dh[:, :, t] + dh_prev, dc_prev, caches[t])
        dh_prev, dc_prev = step["dh_prev"], step["dc_prev"]
        dx.append(step["dxt"])
        for k in grads:
            grads[k] = grads[k] + step[k]
    grads["dx"] = np.stack(dx[::-1], axis=2)
    grads["dh0"] = dh_prev
    return grads
