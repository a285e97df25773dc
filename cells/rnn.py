"""Vanilla RNN, thesis section 4.1: the forward (4-1, 4-2) and BPTT (4-4 … 4-15).

    h_t = a_h(Wh h_{t-1} + Wx x_t + bh)        (4-2), h_0 = 0
    ŷ_t = a_y(Wy h_t + by)                      (4-1)

Keys `Wh (n_h,n_h)`, `Wx (n_h,n_x)`, `bh (n_h,1)`, `Wy (n_y,n_h)`, `by (n_y,1)`.
`a_h` is chosen with the keyword `activation="tanh" | "relu" | "identity"`, threaded
through `cell_forward`, `forward`, `predict`, `loss_and_grads` and `cells.record`
(the parameter dict holds arrays only, so every dict of gradients mirrors it).
`init_params(..., bias=False)` leaves `bh` and `by` out of the dict: the no-bias
linear network of seed 001 (d2l's BPTT section) and seed 003's worked example.

`step` is the one definition of the cell's math, written with tinytape ops: on
arrays it is the hand forward (`cell_forward`), on Tensors it is recorded on the tape
(`cells.record`). `cell_backward` / `backward` are the hand-derived BPTT.
"""

from __future__ import annotations

import sys
from typing import NamedTuple

import numpy as np

from cells import _common, _sequence

KIND = "rnn"
STATE = ("h",)  # the recurrent state carried from step to step
PARAMS = ("Wh", "Wx", "Wy")
OPTIONAL_PARAMS = ("bh", "by")  # absent with init_params(..., bias=False)
NAMES = {"z": "z"}  # intermediate values named on the tape as <name><t>
_SELF = sys.modules[__name__]  # handed to the shared drivers in cells._sequence


def sizes(params: dict) -> tuple[int, int, int]:
    """(n_x, n_h, n_y) read from the weight shapes."""
    n_h, n_x = np.shape(params["Wx"])
    n_y = np.shape(params["Wy"])[0]
    return n_x, n_h, n_y


def param_shapes(n_x: int, n_h: int, n_y: int) -> dict:
    return {"Wh": (n_h, n_h), "Wx": (n_h, n_x), "bh": (n_h, 1), "Wy": (n_y, n_h), "by": (n_y, 1)}


def check_options(fn: str, activation: str = "tanh", **others) -> None:
    _common.check_options(fn, others)
    _common.activation(activation, fn)


def init_params(n_x, n_h, n_y, scheme="glorot_normal", seed=0, dtype=np.float64, bias=True) -> dict:
    """Weights drawn by `scheme` (orthogonal: Wh orthogonal, Wx and Wy Glorot); biases
    zero, or left out with `bias=False`."""
    _common.check_sizes("rnn.init_params", n_x=n_x, n_h=n_h, n_y=n_y)
    init = _common.Initializer(scheme, seed, dtype, "rnn.init_params")
    params = {"Wh": init.recurrent(n_h), "Wx": init.dense(n_h, n_x)}
    if bias:
        params["bh"] = init.zeros(n_h, 1)
    params["Wy"] = init.dense(n_y, n_h)
    if bias:
        params["by"] = init.zeros(n_y, 1)
    return params


# ----------------------------------------------------------------------------------
# One step: the math once (arrays or Tensors), then the hand forward / backward.
# ----------------------------------------------------------------------------------
class Parts(NamedTuple):
    z: object  # pre-activation (n_h, m)


def step(xt, h_prev, params, activation="tanh"):
    """h_t from x_t and h_{t-1}  (4-2). Runs on ndarrays and on tinytape Tensors."""
    z = params["Wh"] @ h_prev + params["Wx"] @ xt  # (n_h, m)  (4-2)
    if "bh" in params:
        z = z + params["bh"]  # (n_h, m)
    h = _common.ACTIVATIONS[activation].forward(z)  # (n_h, m)  (4-2)
    return h, Parts(z)


class Cache(NamedTuple):
    xt: np.ndarray  # (n_x, m)
    h_prev: np.ndarray  # (n_h, m)
    h_next: np.ndarray  # (n_h, m), a_h(z): all the slope of a_h needs
    params: dict
    activation: str


def cell_forward(xt, h_prev, params, activation="tanh"):
    """(h_next, cache) for one step on NumPy arrays: xt (n_x, m), h_prev (n_h, m)."""
    fn = "rnn.cell_forward"
    _common.check_params(fn, params, _SELF)
    _common.activation(activation, fn)
    _common.check_step(fn, _SELF, params, xt, h_prev=h_prev)
    return _cell_forward(xt, h_prev, params, activation)


def _cell_forward(xt, h_prev, params, activation):
    """cell_forward without the checks (forward checks once for the whole sequence)."""
    h_next, _ = step(xt, h_prev, params, activation)
    return h_next, Cache(xt, h_prev, h_next, params, activation)


def _dz(dh_next, cache: Cache):
    """dL/dz_t = dL/dh_t * a_h'(z_t): the factor ∂a_h(z)/∂z of (4-10), (4-12), (4-14)."""
    slope = _common.ACTIVATIONS[cache.activation].slope_from_output(cache.h_next)
    return dh_next * slope  # (n_h, m)


def _param_grads(dz, h_prev, xt, params) -> dict:
    """Weight gradients from dL/dz. Columns may be one step's batch or every step's
    batches side by side (n_h, m*T): the matmul then does the sum over t of (4-9)."""
    grads = {
        "dWh": dz @ h_prev.T,  # (n_h, n_h)  (4-9), (4-10)
        "dWx": dz @ xt.T,  # (n_h, n_x)  (4-11), (4-12)
    }
    if "bh" in params:
        grads["dbh"] = dz.sum(axis=1, keepdims=True)  # (n_h, 1)  (4-13), (4-14)
    return grads


def cell_backward(dh_next, cache: Cache) -> dict:
    """Gradients of one step given dL/dh_t (from the output and from step t+1).

    Keys dxt, dh_prev, dWh, dWx and (with a bias) dbh. The thesis's (4-6) writes
    ∂h^(t+1)/∂h^(t) = a_h' W_h; on column vectors the backward product is
    W_hᵀ (dL/dh ⊙ a_h'), the transpose (4-5) also leaves out for W_y.
    """
    dz = _dz(dh_next, cache)  # (n_h, m)
    grads = {
        "dxt": cache.params["Wx"].T @ dz,  # (n_x, m)
        "dh_prev": cache.params["Wh"].T @ dz,  # (n_h, m)  (4-6)
    }
    grads.update(_param_grads(dz, cache.h_prev, cache.xt, cache.params))
    return grads


# ----------------------------------------------------------------------------------
# The sequence.
# ----------------------------------------------------------------------------------
def forward(x, h0, params, activation="tanh"):
    """(H, caches) for x of shape (n_x, m, T_x); h0 (n_h, m) or None for zeros (4-2)."""
    fn = "rnn.forward"
    _common.check_params(fn, params, _SELF)
    check_options(fn, activation)
    n_x, n_h, _ = sizes(params)
    x = _common.check_x(fn, x, n_x, params["Wx"].dtype)
    _, m, T = x.shape
    h = _common.initial_state(fn, "h0", h0, n_h, m, x.dtype)
    H = np.empty((n_h, m, T), dtype=x.dtype)
    caches = []
    for t in range(T):
        h, cache = _cell_forward(x[:, :, t], h, params, activation)
        H[:, :, t] = h
        caches.append(cache)
    return H, caches


def backward(dH, caches) -> dict:
    """BPTT over the whole sequence: dH (n_h, m, T_x) is dL/dh_t from the outputs only;
    the recurrent part dL/dh_{t+1} ∂h_{t+1}/∂h_t of (4-5) is added here, going back.

    Returns dx (n_x, m, T_x), dh0 (n_h, m) and dWh, dWx, [dbh] summed over t.
    """
    params = caches[0].params
    n_x, m = caches[0].xt.shape
    T = len(caches)
    dx = np.empty((n_x, m, T), dtype=dH.dtype)
    dzs = [None] * T
    dh_prev = np.zeros_like(dH[:, :, 0])  # nothing flows back into h_{T_x} from T_x+1
    WhT, WxT = params["Wh"].T, params["Wx"].T
    for t in reversed(range(T)):
        dz = _dz(dH[:, :, t] + dh_prev, caches[t])  # (n_h, m)  (4-5), (4-10)
        dh_prev = WhT @ dz  # (n_h, m)  (4-6)
        dx[:, :, t] = WxT @ dz  # (n_x, m)
        dzs[t] = dz
    # every step's columns side by side: one matmul per weight sums over t
    grads = _param_grads(
        np.concatenate(dzs, axis=1),  # (n_h, m*T)
        np.concatenate([c.h_prev for c in caches], axis=1),  # (n_h, m*T)
        np.concatenate([c.xt for c in caches], axis=1),  # (n_x, m*T)
        params,
    )
    grads["dx"] = dx
    grads["dh0"] = dh_prev
    return grads


def predict(params, X, head="seq2one", output="identity", activation="tanh"):
    """ŷ: (n_y, m) for seq-to-one, (n_y, m, T_x) for seq-to-seq."""
    return _sequence.predict(_SELF, params, X, head, output, activation=activation)


def loss_and_grads(params, X, Y, method="bptt", head="seq2one", output="identity", activation="tanh"):
    """(loss, grads) by hand BPTT (method="bptt") or by the tape (method="tape")."""
    return _sequence.loss_and_grads(_SELF, params, X, Y, method, head, output, activation=activation)

