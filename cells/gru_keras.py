"""GRU in Keras's convention (TensorFlow 2's default GRU(reset_after=True)), kept in
Keras's own arrays so that it agrees with TensorFlow to the last digit.

On our column shapes, with K_g, R_g the (n_x, n_h) and (n_h, n_h) blocks g = z, r, h
of `kernel` and `recurrent_kernel`, and b_in, b_rec the two rows of `bias`:

    z  = σ(K_zᵀ x_t + b_in_z + R_zᵀ h_{t-1} + b_rec_z)
    r  = σ(K_rᵀ x_t + b_in_r + R_rᵀ h_{t-1} + b_rec_r)
    h̃  = tanh(K_hᵀ x_t + b_in_h + r * (R_hᵀ h_{t-1} + b_rec_h))   reset *after* the matmul
    h_t = z * h_{t-1} + (1 - z) * h̃                                z plays the lab's 1 - Γu

Compare the lab's GRU (cells.gru, (4-46)-(4-49)): there the reset multiplies h_{t-1}
before W_h, and Γu weights the candidate. Keys `kernel (n_x, 3n_h)`,
`recurrent_kernel (n_h, 3n_h)`, `bias (2, 3n_h)` (blocks z, r, h), `Wy`, `by`.
"""

from __future__ import annotations

import sys
from typing import NamedTuple

import numpy as np

import tinytape as tt
from cells import _common, _sequence

KIND = "gru_keras"
STATE = ("h",)
PARAMS = ("kernel", "recurrent_kernel", "bias", "Wy", "by")
OPTIONAL_PARAMS = ()
NAMES = {"z": "z", "r": "r", "hc": "h̃"}  # named <symbol><t> on the tape (Keras's letters)
_SELF = sys.modules[__name__]


def sizes(params: dict) -> tuple[int, int, int]:
    """(n_x, n_h, n_y) read from the weight shapes."""
    n_x, n_3h = np.shape(params["kernel"])
    return n_x, n_3h // 3, np.shape(params["Wy"])[0]


def param_shapes(n_x: int, n_h: int, n_y: int) -> dict:
    return {
        "kernel": (n_x, 3 * n_h),
        "recurrent_kernel": (n_h, 3 * n_h),
        "bias": (2, 3 * n_h),
        "Wy": (n_y, n_h),
        "by": (n_y, 1),
    }


def check_options(fn: str, **options) -> None:
    _common.check_options(fn, options)


def init_params(n_x, n_h, n_y, scheme="glorot_normal", seed=0, dtype=np.float64) -> dict:
    """Each gate block drawn by `scheme` as the lab's cells are (a K_g block has
    fan-in n_x, an R_g block n_h; orthogonal makes each R_g orthogonal), biases zero."""
    _common.check_sizes("gru_keras.init_params", n_x=n_x, n_h=n_h, n_y=n_y)
    init = _common.Initializer(scheme, seed, dtype, "gru_keras.init_params")
    # Keras's kernel multiplies x from the right (x · K): block g is K_gᵀ on columns
    kernel = np.concatenate([init.dense(n_h, n_x).T for _ in range(3)], axis=1)
    recurrent = np.concatenate([init.recurrent(n_h).T for _ in range(3)], axis=1)
    return {
        "kernel": np.ascontiguousarray(kernel),  # (n_x, 3n_h)
        "recurrent_kernel": np.ascontiguousarray(recurrent),  # (n_h, 3n_h)
        "bias": init.zeros(2, 3 * n_h),  # row 0 input bias, row 1 recurrent bias
        "Wy": init.dense(n_y, n_h),
        "by": init.zeros(n_y, 1),
    }


# ----------------------------------------------------------------------------------
# One step: the math once (arrays or Tensors), then the hand forward / backward.
# ----------------------------------------------------------------------------------
class Parts(NamedTuple):
    z: object  # update gate (n_h, m)
    r: object  # reset gate
    rec_h: object  # R_hᵀ h_{t-1} + b_rec_h, the part the reset gate scales
    hc: object  # h̃


def step(xt, h_prev, params):
    """(h_t, parts) from x_t and h_{t-1}. Runs on ndarrays and on Tensors."""
    n_h = h_prev.shape[0]
    bias = params["bias"]
    zx = params["kernel"].T @ xt + bias[0:1].T  # (3n_h, m): input side, blocks z, r, h
    zh = params["recurrent_kernel"].T @ h_prev + bias[1:2].T  # (3n_h, m): recurrent side
    z = tt.sigmoid(zx[:n_h] + zh[:n_h])  # (n_h, m)
    r = tt.sigmoid(zx[n_h : 2 * n_h] + zh[n_h : 2 * n_h])  # (n_h, m)
    rec_h = zh[2 * n_h :]  # (n_h, m)
    hc = tt.tanh(zx[2 * n_h :] + r * rec_h)  # (n_h, m): reset applied after the matmul
    h = z * h_prev + (1.0 - z) * hc  # (n_h, m)
    return h, Parts(z, r, rec_h, hc)


class Cache(NamedTuple):
    xt: np.ndarray  # (n_x, m)
    h_prev: np.ndarray  # (n_h, m)
    parts: Parts
    params: dict


def cell_forward(xt, h_prev, params):
    """(h_next, cache) for one step on NumPy arrays: xt (n_x, m), h_prev (n_h, m)."""
    fn = "gru_keras.cell_forward"
    _common.check_params(fn, params, _SELF)
    _common.check_step(fn, _SELF, params, xt, h_prev=h_prev)
    return _cell_forward(xt, h_prev, params)


def _cell_forward(xt, h_prev, params):
    """cell_forward without the checks (forward checks once for the whole sequence)."""
    h_next, parts = step(xt, h_prev, params)
    return h_next, Cache(xt, h_prev, parts, params)


def _step_grads(dh, cache: Cache):
    """(dzx, dzh, dh_prev, dxt): gradients of the stacked input-side and recurrent-side
    pre-activations (3n_h, m) (blocks z, r, h), of h_{t-1} and of x_t."""
    z, r, rec_h, hc = cache.parts
    h_prev, p = cache.h_prev, cache.params
    da = dh * (1.0 - z) * (1.0 - hc * hc)  # (n_h, m): dL/d(pre-activation of h̃)
    dz = dh * (h_prev - hc) * z * (1.0 - z)  # (n_h, m): dL/d(pre-activation of z)
    dr = da * rec_h * r * (1.0 - r)  # (n_h, m): dL/d(pre-activation of r)
    dzx = np.concatenate([dz, dr, da], axis=0)  # (3n_h, m): input side
    dzh = np.concatenate([dz, dr, da * r], axis=0)  # (3n_h, m): recurrent side, h block scaled by r
    dh_prev = dh * z + p["recurrent_kernel"] @ dzh  # (n_h, m)
    dxt = p["kernel"] @ dzx  # (n_x, m)
    return dzx, dzh, dh_prev, dxt


def _param_grads(dzx, dzh, xt, h_prev) -> dict:
    """Keras's own gradient arrays. Columns may be one step's batch or every step's
    batches side by side (the sum over t)."""
    return {
        "dkernel": xt @ dzx.T,  # (n_x, 3n_h)
        "drecurrent_kernel": h_prev @ dzh.T,  # (n_h, 3n_h)
        "dbias": np.stack([dzx.sum(axis=1), dzh.sum(axis=1)]),  # (2, 3n_h)
    }


def cell_backward(dh_next, cache: Cache) -> dict:
    """One step backward given dL/dh_t. Keys dxt, dh_prev, dkernel,
    drecurrent_kernel, dbias."""
    dzx, dzh, dh_prev, dxt = _step_grads(dh_next, cache)
    grads = {"dxt": dxt, "dh_prev": dh_prev}
    grads.update(_param_grads(dzx, dzh, cache.xt, cache.h_prev))
    return grads


# ----------------------------------------------------------------------------------
# The sequence.
# ----------------------------------------------------------------------------------
def forward(x, h0, params):
    """(H, caches) for x (n_x, m, T_x); h0 (n_h, m) or None for zeros."""
    fn = "gru_keras.forward"
    _common.check_params(fn, params, _SELF)
    n_x, n_h, _ = sizes(params)
    x = _common.check_x(fn, x, n_x, params["kernel"].dtype)
    _, m, T = x.shape
    h = _common.initial_state(fn, "h0", h0, n_h, m, x.dtype)
    H = np.empty((n_h, m, T), dtype=x.dtype)
    caches = []
    for t in range(T):
        h, cache = _cell_forward(x[:, :, t], h, params)
        H[:, :, t] = h
        caches.append(cache)
    return H, caches


def backward(dH, caches) -> dict:
    """BPTT over the sequence. dH (n_h, m, T_x) is dL/dh_t from the outputs only.
    Returns dx (n_x, m, T_x), dh0, dkernel, drecurrent_kernel, dbias summed over t."""
    n_h, m, T = dH.shape
    n_x = caches[0].xt.shape[0]
    dx = np.empty((n_x, m, T), dtype=dH.dtype)
    dh_prev = np.zeros((n_h, m), dtype=dH.dtype)
    dzxs, dzhs = [None] * T, [None] * T
    for t in reversed(range(T)):
        dzxs[t], dzhs[t], dh_prev, dx[:, :, t] = _step_grads(dH[:, :, t] + dh_prev, caches[t])
    # every step's columns side by side: one matmul per weight sums over t
    grads = _param_grads(
        np.concatenate(dzxs, axis=1),  # (3n_h, m*T)
        np.concatenate(dzhs, axis=1),  # (3n_h, m*T)
        np.concatenate([c.xt for c in caches], axis=1),  # (n_x, m*T)
        np.concatenate([c.h_prev for c in caches], axis=1),  # (n_h, m*T)
    )
    grads.update(dx=dx, dh0=dh_prev)
    return grads


def predict(params, X, head="seq2one", output="identity"):
    """ŷ: (n_y, m) for seq-to-one, (n_y, m, T_x) for seq-to-seq."""
    return _sequence.predict(_SELF, params, X, head, output)


def loss_and_grads(params, X, Y, method="bptt", head="seq2one", output="identity"):
    """(loss, grads) by hand BPTT (method="bptt") or by the tape (method="tape")."""
    return _sequence.loss_and_grads(_SELF, params, X, Y, method, head, output)
