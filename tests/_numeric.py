"""An independent central-difference helper for the core's own tests.

Deliberately not tinytape.check: the op tests must not trust the module they help test.
"""
import numpy as np


def central_difference(f, x, eps=1e-6):
    """d f / d x for a scalar function f of one float64 array, entry by entry."""
    x = np.array(x, dtype=np.float64, order="C")      # reshape(-1) must be a view
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        keep = flat[i]
        flat[i] = keep + eps
        up = f(x.copy())
        flat[i] = keep - eps
        down = f(x.copy())
        flat[i] = keep
        gflat[i] = (up - down) / (2 * eps)
    return grad
