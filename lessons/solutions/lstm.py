"""Lesson 3: the thesis's LSTM lab, section by section (equations (4-17) … (4-44)).

Lab notation: every gate reads the concatenation [h⟨t−1⟩; x⟨t⟩] (hidden rows first),
W* (n_h, n_h + n_x), b* (n_h, 1); u is the update (input) gate.
"""
from __future__ import annotations

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# ---------------------------------------------------------------- a) one cell, forward
def lstm_cell_forward(xt, h_prev, c_prev, parameters):
    """xt (n_x, m), h_prev and c_prev (n_h, m) -> (h_next, c_next, cache)."""
    p = parameters
    concat = np.concatenate([h_prev, xt], axis=0)            # (n_h + n_x, m)
    gf = sigmoid(p["Wf"] @ concat + p["bf"])                 # (n_h, m)  forget gate Γf
    gu = sigmoid(p["Wu"] @ concat + p["bu"])                 # (n_h, m)  update gate Γu
    cct = np.tanh(p["Wc"] @ concat + p["bc"])                # (n_h, m)  candidate c̃
    c_next = gf * c_prev + gu * cct                          # (n_h, m)  new memory
    go = sigmoid(p["Wo"] @ concat + p["bo"])                 # (n_h, m)  output gate Γo
    h_next = go * np.tanh(c_next)                            # (n_h, m)
    cache = (h_next, c_next, h_prev, c_prev, gf, gu, cct, go, xt, concat, parameters)
    return h_next, c_next, cache


# ---------------------------------------------------------------- b) the whole sequence, forward
def lstm_forward(x, h0, parameters):
    """x (n_x, m, T_x), h0 (n_h, m) -> (H, C, caches); H and C (n_h, m, T_x); c⟨0⟩ = 0."""
    n_x, m, T_x = x.shape
    n_h = parameters["Wf"].shape[0]
    H = np.zeros((n_h, m, T_x))
    C = np.zeros((n_h, m, T_x))
    h, c = h0, np.zeros((n_h, m))
    caches = []
    for t in range(T_x):
        h, c, cache = lstm_cell_forward(x[:, :, t], h, c, parameters)
        H[:, :, t] = h
        C[:, :, t] = c
        caches.append(cache)
    return H, C, caches


# ---------------------------------------------------------------- c) one cell, backward
def lstm_cell_backward(dh_next, dc_next, cache):
    """dh_next: ∂L/∂h⟨t⟩; dc_next: the gradient reaching c⟨t⟩ from step t+1 (∂L/∂c⟨t+1⟩ ⊙ Γf⟨t+1⟩).

    Keeping these two apart is what the thesis's (4-34) + (4-38) mix up: the path
    through h⟨t⟩ enters ∂L/∂c⟨t⟩ exactly once, here.
    """
    h_next, c_next, h_prev, c_prev, gf, gu, cct, go, xt, concat, p = cache
    n_h = h_prev.shape[0]
    tanh_c = np.tanh(c_next)                                 # (n_h, m)
    dzo = dh_next * tanh_c * go * (1 - go)                   # (4-37)
    dc = dc_next + dh_next * go * (1 - tanh_c ** 2)          # (4-34): both paths into c⟨t⟩, once each
    dzu = dc * cct * gu * (1 - gu)                           # (4-38), using ∂L/∂c⟨t⟩ alone
    dzc = dc * gu * (1 - cct ** 2)                           # (4-39), with ∂L/∂c⟨t⟩ kept
    dzf = dc * c_prev * gf * (1 - gf)                        # (4-40)
    dconcat = (p["Wf"].T @ dzf + p["Wu"].T @ dzu             # (n_h + n_x, m)  (4-41)-(4-44)
               + p["Wc"].T @ dzc + p["Wo"].T @ dzo)
    return {
        "dxt": dconcat[n_h:],                                # (n_x, m)  (4-44)
        "dh_prev": dconcat[:n_h],                            # (n_h, m)  (4-43)
        "dc_prev": dc * gf,                                  # (n_h, m)  (4-33)
        "dWf": dzf @ concat.T, "dbf": dzf.sum(axis=1, keepdims=True),
        "dWu": dzu @ concat.T, "dbu": dzu.sum(axis=1, keepdims=True),
        "dWc": dzc @ concat.T, "dbc": dzc.sum(axis=1, keepdims=True),
        "dWo": dzo @ concat.T, "dbo": dzo.sum(axis=1, keepdims=True),
    }


# ---------------------------------------------------------------- d) the whole sequence, backward
GATE_PARAMS = ("Wf", "bf", "Wu", "bu", "Wc", "bc", "Wo", "bo")


def lstm_backward(dH, caches):
    """dH (n_h, m, T_x): ∂L/∂h⟨t⟩ from the outputs. Returns dx, dh0 and every gate gradient, summed over time."""
    n_h, m, T_x = dH.shape
    n_x = caches[0][8].shape[0]
    grads = {"d" + name: 0.0 for name in GATE_PARAMS}
    dx = np.zeros((n_x, m, T_x))
    dh_prev = np.zeros((n_h, m))
    dc_prev = np.zeros((n_h, m))
    for t in reversed(range(T_x)):
        step = lstm_cell_backward(dH[:, :, t] + dh_prev, dc_prev, caches[t])
        dx[:, :, t] = step["dxt"]
        for name in GATE_PARAMS:
            grads["d" + name] = grads["d" + name] + step["d" + name]   # shared weights: accumulate
        dh_prev, dc_prev = step["dh_prev"], step["dc_prev"]
    grads["dx"] = dx
    grads["dh0"] = dh_prev
    return grads


# ---------------------------------------------------------------- e) initialisation
def initialize_lstm_parameters(n_x, n_h, n_y, seed=0):
    """Glorot normal: W ~ N(0, σ²) with σ = sqrt(2 / (fan_in + fan_out)); biases zero.

    For a gate matrix fan_in = n_h + n_x (it reads [h; x]) and fan_out = n_h.
    (Section 5.2.1 of the thesis writes σ = sqrt(2/N): that is He initialisation.)
    """
    rng = np.random.default_rng(seed)
    fan_in, fan_out = n_h + n_x, n_h
    gate_std = np.sqrt(2.0 / (fan_in + fan_out))
    parameters = {}
    for gate in ("f", "u", "c", "o"):
        parameters["W" + gate] = rng.normal(0.0, gate_std, size=(n_h, n_h + n_x))
        parameters["b" + gate] = np.zeros((n_h, 1))
    parameters["Wy"] = rng.normal(0.0, np.sqrt(2.0 / (n_h + n_y)), size=(n_y, n_h))
    parameters["by"] = np.zeros((n_y, 1))
    return parameters


# ---------------------------------------------------------------- f) training: loss, gradients, Adam
def lstm_loss_and_grads(parameters, X, Y):
    """Seq-to-one regression: ŷ = Wy h⟨T⟩ + by, L = 1/(2m) Σ (ŷ − y)² (5-1). Returns (loss, grads)."""
    n_x, m, T_x = X.shape
    n_h = parameters["Wf"].shape[0]
    H, C, caches = lstm_forward(X, np.zeros((n_h, m)), parameters)
    h_last = H[:, :, -1]                                     # (n_h, m)
    y_hat = parameters["Wy"] @ h_last + parameters["by"]     # (n_y, m)
    loss = float(np.sum((y_hat - Y) ** 2) / (2 * m))         # (5-1)
    dy_hat = (y_hat - Y) / m                                 # (n_y, m): the 2 of the square meets the ½
    dH = np.zeros_like(H)
    dH[:, :, -1] = parameters["Wy"].T @ dy_hat               # only the last step has an output
    grads = lstm_backward(dH, caches)
    grads["dWy"] = dy_hat @ h_last.T
    grads["dby"] = dy_hat.sum(axis=1, keepdims=True)
    del grads["dx"], grads["dh0"]                            # not parameters
    return loss, grads


def adam_update(parameters, grads, v, s, t, learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8):
    """One Adam step, the thesis's (5-2). v, s keyed like grads ("dWf"); t counts steps from 1.

    Returns new (parameters, v, s); nothing is modified in place.
    """
    new_params, new_v, new_s = dict(parameters), {}, {}
    for name in parameters:
        g = grads["d" + name]
        new_v["d" + name] = beta1 * v.get("d" + name, 0.0) + (1 - beta1) * g          # first moment
        new_s["d" + name] = beta2 * s.get("d" + name, 0.0) + (1 - beta2) * g ** 2     # second moment
        v_hat = new_v["d" + name] / (1 - beta1 ** t)                                    # bias corrections
        s_hat = new_s["d" + name] / (1 - beta2 ** t)
        new_params[name] = parameters[name] - learning_rate * v_hat / (np.sqrt(s_hat) + epsilon)
    return new_params, new_v, new_s


# ---------------------------------------------------------------- g) prediction
def predict_lstm(X, parameters):
    """ŷ = Wy h⟨T_x⟩ + by for each sequence of X (n_x, m, T_x); returns (n_y, m)."""
    n_h = parameters["Wf"].shape[0]
    H, _, _ = lstm_forward(X, np.zeros((n_h, X.shape[1])), parameters)
    return parameters["Wy"] @ H[:, :, -1] + parameters["by"]


# ---------------------------------------------------------------- "find the slip": the thesis read literally
def lstm_cell_backward_thesis_literal(dh_next, dc_next, cache):
    """(4-34) and then (4-38)-(4-40) exactly as printed: NOT a correct backward, on purpose.

    (4-34) already puts the path through h⟨t⟩ into ∂L/∂c⟨t⟩; (4-38)-(4-40) add
    ∂L/∂h⟨t⟩ ⊙ Γo ⊙ (1 − tanh²c⟨t⟩) to it once more, so that path is counted twice for
    the forget gate, the update gate and the candidate. The tape's check shows which
    gradients this breaks (and which it leaves right).
    """
    h_next, c_next, h_prev, c_prev, gf, gu, cct, go, xt, concat, p = cache
    n_h = h_prev.shape[0]
    tanh_c = np.tanh(c_next)
    dzo = dh_next * tanh_c * go * (1 - go)                   # (4-37): fine
    dc = dh_next * go * (1 - tanh_c ** 2) + dc_next          # (4-34)
    via_h = dh_next * go * (1 - tanh_c ** 2)                 # the term (4-38)-(4-40) add again
    dzu = (dc + via_h) * cct * gu * (1 - gu)                 # (4-38) as printed
    dzc = (dc + via_h) * gu * (1 - cct ** 2)                 # (4-39), first line as printed
    dzf = (dc + via_h) * c_prev * gf * (1 - gf)              # (4-40) as printed
    dconcat = p["Wf"].T @ dzf + p["Wu"].T @ dzu + p["Wc"].T @ dzc + p["Wo"].T @ dzo
    return {
        "dxt": dconcat[n_h:], "dh_prev": dconcat[:n_h], "dc_prev": dc * gf,
        "dWf": dzf @ concat.T, "dbf": dzf.sum(axis=1, keepdims=True),
        "dWu": dzu @ concat.T, "dbu": dzu.sum(axis=1, keepdims=True),
        "dWc": dzc @ concat.T, "dbc": dzc.sum(axis=1, keepdims=True),
        "dWo": dzo @ concat.T, "dbo": dzo.sum(axis=1, keepdims=True),
    }
