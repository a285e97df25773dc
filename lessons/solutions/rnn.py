"""Lesson 1: backpropagation through time for a vanilla RNN.

Two parts:
- seed 003's worked example: a linear RNN with no biases, h_t = W h_{t-1} + U x_t,
  o_t = V h_t, L = Σ_t ½ (o_t − y_t)², with d2l's recursion (9.7.13)-(9.7.16) of seed 001;
- the lab-notation tanh cell of the thesis, (4-1) and (4-2):
  h_t = tanh(Wh h_{t-1} + Wx x_t + bh), in the exercise style (forward returns a cache,
  backward takes it).
"""
from __future__ import annotations

import numpy as np


# ---------------------------------------------------------------- seed 003's linear RNN
def linear_rnn_bptt(U, W, V, x, y):
    """Gradients of L = Σ_t ½ (V h_t − y_t)² for h_t = W h_{t-1} + U x_t, h_0 = 0.

    U (M, D), W (M, M), V (K, M); x a list of T input columns (D, 1); y a list of T
    target columns (K, 1). Returns {"dU", "dW", "dV"}.
    """
    T = len(x)
    h = [np.zeros((W.shape[0], 1))]                    # h[0] = h_0 = 0
    for t in range(T):
        h.append(W @ h[-1] + U @ x[t])                  # (M, 1)
    do = [V @ h[t + 1] - y[t] for t in range(T)]        # ∂L/∂o_t  (K, 1)

    dU, dW, dV = np.zeros_like(U), np.zeros_like(W), np.zeros_like(V)
    dh_next = np.zeros((W.shape[0], 1))                 # ∂L/∂h_{T+1} = 0
    for t in reversed(range(T)):
        dh = W.T @ dh_next + V.T @ do[t]                # (9.7.14); at t = T it is (9.7.13)
        dV += do[t] @ h[t + 1].T                        # Σ_t ∂L/∂o_t h_tᵀ
        dW += dh @ h[t].T                               # (9.7.16): Σ_t ∂L/∂h_t h_{t-1}ᵀ
        dU += dh @ x[t].T                               # (9.7.16): Σ_t ∂L/∂h_t x_tᵀ
        dh_next = dh
    return {"dU": dU, "dW": dW, "dV": dV}


def dL_dh_expansion(W, V, dL_do, t):
    """Seed 001's (9.7.15): ∂L/∂h_t = Σ_{i=t}^{T} (Wᵀ)^{T−i} Vᵀ ∂L/∂o_{T+t−i}.

    `dL_do[s - 1]` is ∂L/∂o_s (K, 1) for s = 1 … T; `t` counts from 1. Returns (M, 1).
    """
    T = len(dL_do)
    total = np.zeros((W.shape[0], 1))
    for i in range(t, T + 1):
        power = np.linalg.matrix_power(W.T, T - i)      # (M, M)
        total = total + power @ V.T @ dL_do[T + t - i - 1]
    return total


# ---------------------------------------------------------------- the lab's tanh cell
def rnn_cell_forward(xt, h_prev, parameters):
    """One step of (4-2) with a_h = tanh. xt (n_x, m), h_prev (n_h, m) -> (h_next, cache)."""
    Wh, Wx, bh = parameters["Wh"], parameters["Wx"], parameters["bh"]
    h_next = np.tanh(Wh @ h_prev + Wx @ xt + bh)         # (n_h, m)  (4-2)
    cache = (h_next, h_prev, xt, parameters)
    return h_next, cache


def rnn_cell_backward(dh_next, cache):
    """Gradients of one step: ∂L/∂z = ∂L/∂h ⊙ (1 − h²), then (4-10), (4-12), (4-14)."""
    h_next, h_prev, xt, parameters = cache
    dz = dh_next * (1.0 - h_next ** 2)                   # (n_h, m): tanh' at the output, 1 − tanh²
    return {
        "dxt": parameters["Wx"].T @ dz,                  # (n_x, m)
        "dh_prev": parameters["Wh"].T @ dz,              # (n_h, m)  the recurrent path (4-6)
        "dWx": dz @ xt.T,                                # (n_h, n_x)  (4-12)
        "dWh": dz @ h_prev.T,                            # (n_h, n_h)  (4-10)
        "dbh": dz.sum(axis=1, keepdims=True),            # (n_h, 1)  (4-14), summed over the batch
    }


def rnn_forward(x, h0, parameters):
    """All steps. x (n_x, m, T_x), h0 (n_h, m) -> (H (n_h, m, T_x), caches)."""
    n_x, m, T_x = x.shape
    n_h = parameters["Wh"].shape[0]
    H = np.zeros((n_h, m, T_x))
    caches = []
    h = h0
    for t in range(T_x):
        h, cache = rnn_cell_forward(x[:, :, t], h, parameters)
        H[:, :, t] = h
        caches.append(cache)
    return H, caches


def rnn_backward(dH, caches):
    """dH (n_h, m, T_x): ∂L/∂h⟨t⟩ from the outputs at every step. Returns dx, dh0, dWh, dWx, dbh."""
    n_h, m, T_x = dH.shape
    parameters = caches[0][3]
    n_x = parameters["Wx"].shape[1]
    grads = {"dx": np.zeros((n_x, m, T_x)), "dWh": 0.0, "dWx": 0.0, "dbh": 0.0}
    dh_prev = np.zeros((n_h, m))
    for t in reversed(range(T_x)):
        # (4-5): the gradient at h⟨t⟩ is what the output sends plus what step t+1 sends back
        step = rnn_cell_backward(dH[:, :, t] + dh_prev, caches[t])
        grads["dx"][:, :, t] = step["dxt"]
        for name in ("dWh", "dWx", "dbh"):
            grads[name] = grads[name] + step[name]      # shared weights: accumulate over time
        dh_prev = step["dh_prev"]
    grads["dh0"] = dh_prev
    return grads
