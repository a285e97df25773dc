"""Lesson 4: the GRU, in the lab's convention (4-45 … 4-50) and in Keras's.

Lab (Cho et al. 2014, reset applied before the matmul):
    Γu = σ(Wu[h;x] + bu)    Γr = σ(Wr[h;x] + br)
    h̃ = tanh(Wh[Γr ⊙ h; x] + bh)    h⟨t⟩ = Γu ⊙ h̃ + (1 − Γu) ⊙ h⟨t−1⟩
Keras (`reset_after=True`, TensorFlow 2's default): gates z, r, h from Keras's own arrays
kernel (n_x, 3n_h), recurrent_kernel (n_h, 3n_h), bias (2, 3n_h):
    h̃ = tanh(K_hᵀx + b_in + r ⊙ (R_hᵀh + b_rec))    h⟨t⟩ = z ⊙ h⟨t−1⟩ + (1 − z) ⊙ h̃
"""
from __future__ import annotations

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def gru_cell_forward(xt, h_prev, parameters):
    """xt (n_x, m), h_prev (n_h, m) -> (h_next, cache)."""
    p = parameters
    concat = np.concatenate([h_prev, xt], axis=0)            # (n_h + n_x, m)
    gu = sigmoid(p["Wu"] @ concat + p["bu"])                 # (n_h, m)  (4-48)
    gr = sigmoid(p["Wr"] @ concat + p["br"])                 # (n_h, m)  (4-49)
    concat_r = np.concatenate([gr * h_prev, xt], axis=0)     # (n_h + n_x, m)  [Γr ⊙ h; x]
    hh = np.tanh(p["Wh"] @ concat_r + p["bh"])               # (n_h, m)  (4-47)
    h_next = gu * hh + (1 - gu) * h_prev                     # (n_h, m)  (4-46)
    cache = (h_next, h_prev, xt, gu, gr, hh, concat, concat_r, parameters)
    return h_next, cache


def gru_cell_backward(dh_next, cache):
    """Gradients of one GRU step in the lab's convention."""
    h_next, h_prev, xt, gu, gr, hh, concat, concat_r, p = cache
    n_h = h_prev.shape[0]
    dzh = dh_next * gu * (1 - hh ** 2)                       # (n_h, m)  through h̃ = tanh(z_h)
    dzu = dh_next * (hh - h_prev) * gu * (1 - gu)            # (n_h, m)  h depends on Γu twice: Γu h̃ and (1−Γu) h
    dconcat_r = p["Wh"].T @ dzh                              # (n_h + n_x, m)
    d_rh = dconcat_r[:n_h]                                   # (n_h, m)  ∂L/∂(Γr ⊙ h⟨t−1⟩)
    dzr = d_rh * h_prev * gr * (1 - gr)                      # (n_h, m)
    dconcat = p["Wu"].T @ dzu + p["Wr"].T @ dzr              # (n_h + n_x, m)
    return {
        # four paths reach h⟨t−1⟩: the (1 − Γu) shortcut, through Γr ⊙ h, and through the two gates
        "dh_prev": dh_next * (1 - gu) + d_rh * gr + dconcat[:n_h],
        "dxt": dconcat_r[n_h:] + dconcat[n_h:],              # (n_x, m)
        "dWu": dzu @ concat.T, "dbu": dzu.sum(axis=1, keepdims=True),
        "dWr": dzr @ concat.T, "dbr": dzr.sum(axis=1, keepdims=True),
        "dWh": dzh @ concat_r.T, "dbh": dzh.sum(axis=1, keepdims=True),
    }


GATE_PARAMS = ("Wu", "bu", "Wr", "br", "Wh", "bh")


def gru_forward(x, h0, parameters):
    """x (n_x, m, T_x), h0 (n_h, m) -> (H (n_h, m, T_x), caches)."""
    n_x, m, T_x = x.shape
    n_h = parameters["Wu"].shape[0]
    H = np.zeros((n_h, m, T_x))
    h = h0
    caches = []
    for t in range(T_x):
        h, cache = gru_cell_forward(x[:, :, t], h, parameters)
        H[:, :, t] = h
        caches.append(cache)
    return H, caches


def gru_backward(dH, caches):
    """dH (n_h, m, T_x) -> dx, dh0 and every gate gradient summed over time."""
    n_h, m, T_x = dH.shape
    n_x = caches[0][2].shape[0]
    grads = {"d" + name: 0.0 for name in GATE_PARAMS}
    dx = np.zeros((n_x, m, T_x))
    dh_prev = np.zeros((n_h, m))
    for t in reversed(range(T_x)):
        step = gru_cell_backward(dH[:, :, t] + dh_prev, caches[t])
        dx[:, :, t] = step["dxt"]
        for name in GATE_PARAMS:
            grads["d" + name] = grads["d" + name] + step["d" + name]
        dh_prev = step["dh_prev"]
    grads["dx"] = dx
    grads["dh0"] = dh_prev
    return grads


def gru_keras_cell_forward(xt, h_prev, parameters):
    """One step of Keras's GRU (reset_after=True) on the lab's column shapes -> (h_next, cache)."""
    p = parameters
    n_h = h_prev.shape[0]
    K, R, b = p["kernel"], p["recurrent_kernel"], p["bias"]
    x_part = K.T @ xt + b[0].reshape(-1, 1)                  # (3n_h, m)  blocks z, r, h
    h_part = R.T @ h_prev + b[1].reshape(-1, 1)              # (3n_h, m)
    z = sigmoid(x_part[:n_h] + h_part[:n_h])                 # (n_h, m)  Keras's z plays the lab's 1 − Γu
    r = sigmoid(x_part[n_h:2 * n_h] + h_part[n_h:2 * n_h])   # (n_h, m)
    hh = np.tanh(x_part[2 * n_h:] + r * h_part[2 * n_h:])    # (n_h, m)  reset AFTER the matmul
    h_next = z * h_prev + (1 - z) * hh                       # (n_h, m)
    cache = (h_next, h_prev, xt, z, r, hh, h_part, parameters)
    return h_next, cache
