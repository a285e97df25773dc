"""Lesson 2: exploding gradients tamed by clipping, and truncated BPTT by hand."""
from __future__ import annotations

import numpy as np

from lessons.solutions.rnn import rnn_cell_backward


def clip_by_global_norm(grads, max_norm):
    """Rescale every gradient by max_norm / ‖g‖ when the global norm ‖g‖ exceeds max_norm.

    ‖g‖ = sqrt(Σ over all gradients of the sum of their squared elements). The direction of
    the whole update is kept. Returns (clipped grads, ‖g‖ before clipping).
    """
    norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))
    if norm <= max_norm:
        return dict(grads), norm
    scale = max_norm / norm
    return {name: g * scale for name, g in grads.items()}, norm


def rnn_backward_truncated(dH, caches, k):
    """rnn_backward, but the gradient flows back through the last k steps only.

    Steps T_x − k … T_x − 1 (0-based) are differentiated; the state entering them is
    treated as a constant. Returns dWh, dWx, dbh (what training needs).
    """
    n_h, m, T_x = dH.shape
    grads = {"dWh": 0.0, "dWx": 0.0, "dbh": 0.0}
    dh_prev = np.zeros((n_h, m))
    for t in reversed(range(max(T_x - k, 0), T_x)):
        step = rnn_cell_backward(dH[:, :, t] + dh_prev, caches[t])
        for name in grads:
            grads[name] = grads[name] + step[name]
        dh_prev = step["dh_prev"]
    return grads
