"""Lesson 6: the softmax output of a character model, and a bidirectional layer."""
from __future__ import annotations

import numpy as np


def softmax_cross_entropy_forward(z, y):
    """Mean cross-entropy of softmax(z) against one-hot targets y; z, y (n_y, m). Returns (loss, cache).

    Softmax over the rows of each column; subtracting the column max changes nothing
    mathematically and keeps exp from overflowing.
    """
    z_shift = z - np.max(z, axis=0, keepdims=True)           # (n_y, m)
    p = np.exp(z_shift) / np.sum(np.exp(z_shift), axis=0, keepdims=True)   # (n_y, m)
    m = z.shape[1]
    loss = -np.sum(y * np.log(p)) / m                        # scalar
    return loss, (p, y, m)


def softmax_cross_entropy_backward(dloss, cache):
    """∂L/∂z = (softmax(z) − y) / m, times the upstream gradient."""
    p, y, m = cache
    return {"dz": dloss * (p - y) / m}


def birnn_forward(x, h0_fwd, h0_bwd, params_fwd, params_bwd, forward):
    """A bidirectional layer: `forward` (e.g. cells.rnn.forward) run left to right with
    params_fwd and right to left with params_bwd, the states concatenated per step (seed 004):
    h⟨t⟩ = [h→⟨t⟩; h←⟨t⟩], shape (2 n_h, m, T_x).
    """
    H_fwd = forward(x, h0_fwd, params_fwd)[0]                # (n_h, m, T_x)
    H_bwd_reversed = forward(x[:, :, ::-1], h0_bwd, params_bwd)[0]   # step 0 here is the LAST input
    H_bwd = H_bwd_reversed[:, :, ::-1]                       # put it back in input order
    return np.concatenate([H_fwd, H_bwd], axis=0)
