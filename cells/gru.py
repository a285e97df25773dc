"""GRU in the thesis lab's convention, section 4.3: forward (4-45 … 4-50) and BPTT
(4-51 … 4-64). Cho et al. 2014: the reset gate acts on h_{t-1} *before* the matmul
(Keras's GRU(reset_after=False); Keras's default is cells.gru_keras).

    Γu = σ(Wu [h_{t-1}; x_t] + bu)           (4-48)
    Γr = σ(Wr [h_{t-1}; x_t] + br)           (4-49)
    h̃  = tanh(Wh [Γr * h_{t-1}; x_t] + bh)   (4-47)
    h_t = Γu * h̃ + (1 - Γu) * h_{t-1}        (4-46), h_0 = 0

Keys `Wu bu Wr br Wh bh` (W* (n_h, n_h+n_x), b* (n_h, 1)), `Wy (n_y,n_h)`, `by (n_y,1)`.

Where the hand backward departs from the thesis's text:
- (4-61) differentiates W_h [Γr, h^(t-1)]; the candidate's input is [Γr * h^(t-1); x_t]
  (4-47), which is what its result (W_{h,1}ᵀ dz_h) * Γr does use.
- The parameter table after (4-64) gives dW_h = Σ dz_h [h^(t-1), x^(t)]ᵀ; the candidate
  sees the reset state, so dW_h = Σ dz_h [Γr * h^(t-1); x_t]ᵀ.
- (4-64) writes one W_x for the three gates; each has its own input block (the x
  columns of W_u, W_r, W_h).
"""

from __future__ import annotations

import sys
from typing import NamedTuple

import numpy as np

import tinytape as tt
from cells import _common, _sequence

KIND = "gru"
STATE = ("h",)
GATES = ("u", "r", "h")
PARAMS = ("Wu", "bu", "Wr", "br", "Wh", "bh", "Wy", "by")
OPTIONAL_PARAMS = ()
NAMES = {"gu": "Γu", "gr": "Γr", "hc": "h̃"}  # named <symbol><t> on the tape
_SELF = sys.modules[__name__]


def sizes(params: dict) -> tuple[int, int, int]:
    """(n_x, n_h, n_y) read from the weight shapes."""
    n_h, n_hx = np.shape(params["Wu"])
    return n_hx - n_h, n_h, np.shape(params["Wy"])[0]


def param_shapes(n_x: int, n_h: int, n_y: int) -> dict:
    return _common.gate_param_shapes(GATES, n_x, n_h, n_y)


def check_options(fn: str, **options) -> None:
    _common.check_options(fn, options)


def init_params(n_x, n_h, n_y, scheme="glorot_normal", seed=0, dtype=np.float64) -> dict:
    """Gate weights drawn by `scheme` (orthogonal: recurrent block orthogonal, input
    block Glorot), biases zero. Drawn in the order u, r, h, y."""
    _common.check_sizes("gru.init_params", n_x=n_x, n_h=n_h, n_y=n_y)
    init = _common.Initializer(scheme, seed, dtype, "gru.init_params")
    params = {}
    for g in GATES:
        params["W" + g] = init.gate(n_h, n_x)
        params["b" + g] = init.zeros(n_h, 1)
    params["Wy"] = init.dense(n_y, n_h)
    params["by"] = init.zeros(n_y, 1)
    return params


# ----------------------------------------------------------------------------------
# One step: the math once (arrays or Tensors), then the hand forward / backward.
# ----------------------------------------------------------------------------------
class Parts(NamedTuple):
    concat: object  # [h_{t-1}; x_t]  (n_h+n_x, m)
    gu: object  # Γu  (n_h, m)
    gr: object  # Γr
    reset_concat: object  # [Γr * h_{t-1}; x_t]  (n_h+n_x, m)
    hc: object  # h̃


def step(xt, h_prev, params):
    """(h_t, parts) from x_t and h_{t-1}. Runs on ndarrays and on Tensors."""
    concat = tt.concatenate([h_prev, xt], axis=0)  # (n_h+n_x, m)  (4-50)
    gu = tt.sigmoid(params["Wu"] @ concat + params["bu"])  # (n_h, m)  (4-48)
    gr = tt.sigmoid(params["Wr"] @ concat + params["br"])  # (n_h, m)  (4-49)
    reset_concat = tt.concatenate([gr * h_prev, xt], axis=0)  # (n_h+n_x, m)  (4-47)
    hc = tt.tanh(params["Wh"] @ reset_concat + params["bh"])  # (n_h, m)  (4-47)
    h = gu * hc + (1.0 - gu) * h_prev  # (n_h, m)  (4-46)
    return h, Parts(concat, gu, gr, reset_concat, hc)


class Cache(NamedTuple):
    h_prev: np.ndarray  # (n_h, m)
    parts: Parts
    params: dict


def cell_forward(xt, h_prev, params):
    """(h_next, cache) for one step on NumPy arrays: xt (n_x, m), h_prev (n_h, m)."""
    fn = "gru.cell_forward"
    _common.check_params(fn, params, _SELF)
    _common.check_step(fn, _SELF, params, xt, h_prev=h_prev)
    return _cell_forward(xt, h_prev, params)


def _cell_forward(xt, h_prev, params):
    """cell_forward without the checks (forward checks once for the whole sequence)."""
    h_next, parts = step(xt, h_prev, params)
    return h_next, Cache(h_prev, parts, params)


def _step_grads(dh, cache: Cache):
    """(dzu, dzr, dzh, dconcat) for one step given dL/dh_t (all paths);
    dconcat = dL/d[h_{t-1}; x_t] with every path of (4-59) summed in."""
    _, gu, gr, _, hc = cache.parts
    h_prev, p = cache.h_prev, cache.params
    n_h = h_prev.shape[0]
    dzh = dh * gu * (1.0 - hc * hc)  # (n_h, m)  (4-54)
    dzu = dh * (hc - h_prev) * gu * (1.0 - gu)  # (n_h, m)  (4-55)
    d_reset_concat = p["Wh"].T @ dzh  # (n_h+n_x, m): back through W_h
    d_reset_h = d_reset_concat[:n_h]  # dL/d(Γr * h_{t-1})  (n_h, m)  (4-57)
    dzr = d_reset_h * h_prev * gr * (1.0 - gr)  # (n_h, m)  (4-58)
    dconcat = p["Wu"].T @ dzu + p["Wr"].T @ dzr  # (n_h+n_x, m)  (4-62)
    dconcat[:n_h] += dh * (1.0 - gu) + d_reset_h * gr  # (4-60), (4-61) corrected
    dconcat[n_h:] += d_reset_concat[n_h:]  # x_t also feeds h̃ directly  (4-64)
    return dzu, dzr, dzh, dconcat


def _param_grads(dzs, concat, reset_concat) -> dict:
    """The table after (4-64); W_h sees [Γr * h; x], not [h; x]. Columns may be one
    step's batch or every step's batches side by side (the sum over t)."""
    dzu, dzr, dzh = dzs
    return {
        "dWu": dzu @ concat.T,  # (n_h, n_h+n_x)
        "dbu": dzu.sum(axis=1, keepdims=True),  # (n_h, 1)
        "dWr": dzr @ concat.T,  # (n_h, n_h+n_x)
        "dbr": dzr.sum(axis=1, keepdims=True),  # (n_h, 1)
        "dWh": dzh @ reset_concat.T,  # (n_h, n_h+n_x)  (the thesis writes [h; x])
        "dbh": dzh.sum(axis=1, keepdims=True),  # (n_h, 1)
    }


def cell_backward(dh_next, cache: Cache) -> dict:
    """One step backward given dL/dh_t (from the output and from step t+1).
    Keys dxt, dh_prev, dWu, dbu, dWr, dbr, dWh, dbh."""
    *dzs, dconcat = _step_grads(dh_next, cache)
    n_h = dh_next.shape[0]
    grads = {"dxt": dconcat[n_h:], "dh_prev": dconcat[:n_h]}  # (4-64), (4-63)
    grads.update(_param_grads(dzs, cache.parts.concat, cache.parts.reset_concat))
    return grads


# ----------------------------------------------------------------------------------
# The sequence.
# ----------------------------------------------------------------------------------
def forward(x, h0, params):
    """(H, caches) for x (n_x, m, T_x); h0 (n_h, m) or None for zeros (4-46).

    `step`'s equations with the gates batched, for speed: Γu and Γr's weights and
    biases stacked make both pre-activations one matmul per step (the biases through
    a row of ones under [h; x]) and both sigmoids one call; h̃'s bias rides the same
    way on [Γr * h; x; 1]. The caches are cell_forward's, so cell_backward reads them.
    H is a (n_h, m, T_x) view of a step-major array: one step's state is contiguous,
    cheap to write and to read."""
    fn = "gru.forward"
    _common.check_params(fn, params, _SELF)
    n_x, n_h, _ = sizes(params)
    x = _common.check_x(fn, x, n_x, params["Wu"].dtype)
    _, m, T = x.shape
    h = _common.initial_state(fn, "h0", h0, n_h, m, x.dtype)
    W_ur = _common.stacked_gate_weights(params, ("u", "r"))  # (2n_h, n_h+n_x+1)
    W_h = _common.stacked_gate_weights(params, ("h",))  # (n_h, n_h+n_x+1)
    hx1 = _common.inputs_with_ones(x, n_h)  # (T_x, n_h+n_x+1, m): [·; x_t; 1]
    rx1 = _common.inputs_with_ones(x, n_h)  # (T_x, n_h+n_x+1, m): [·; x_t; 1]
    H = np.empty((T, n_h, m), dtype=x.dtype)  # step-major; returned as (n_h, m, T_x)
    caches = []
    for t in range(T):
        hx1[t, :n_h] = h  # [h_{t-1}; x_t; 1]  (4-50)
        gu, gr = tt.sigmoid((W_ur @ hx1[t]).reshape(2, n_h, m))  # (n_h, m) each  (4-48), (4-49)
        rx1[t, :n_h] = gr * h  # [Γr * h_{t-1}; x_t; 1]  (4-47)
        hc = tt.tanh(W_h @ rx1[t])  # (n_h, m)  (4-47)
        h_prev, h = h, gu * hc + (1.0 - gu) * h  # (n_h, m)  (4-46)
        H[t] = h
        caches.append(Cache(h_prev, Parts(hx1[t, :-1], gu, gr, rx1[t, :-1], hc), params))
    return H.transpose(1, 2, 0), caches  # (n_h, m, T_x)


def backward(dH, caches) -> dict:
    """BPTT over the sequence. dH (n_h, m, T_x) is dL/dh_t from the outputs only.
    Returns dx (n_x, m, T_x), dh0 and dWu … dbh summed over t."""
    n_h, m, T = dH.shape
    n_x = caches[0].parts.concat.shape[0] - n_h
    dx = np.empty((n_x, m, T), dtype=dH.dtype)
    dh_prev = np.zeros((n_h, m), dtype=dH.dtype)  # nothing flows in from step T_x+1
    dZ = np.empty((3, n_h, m * T), dtype=dH.dtype)  # dz of u, r, h: every step side by side
    for t in reversed(range(T)):
        *dzs, dconcat = _step_grads(dH[:, :, t] + dh_prev, caches[t])  # (4-29)
        dh_prev, dx[:, :, t] = dconcat[:n_h], dconcat[n_h:]  # (4-63), (4-64)
        for dZ_gate, dz in zip(dZ, dzs):
            dZ_gate[:, t * m : (t + 1) * m] = dz
    # the weight gradients (_param_grads's table): one matmul sums over t, Γu and Γr
    # stacked in one as they share the input [h; x]
    concat_all = np.concatenate([c.parts.concat for c in caches], axis=1)  # (n_h+n_x, m*T)
    reset_all = np.concatenate([c.parts.reset_concat for c in caches], axis=1)  # (n_h+n_x, m*T)
    dW_ur = dZ[:2].reshape(2 * n_h, m * T) @ concat_all.T  # (2n_h, n_h+n_x)
    db = dZ.sum(axis=2)[:, :, None]  # (3, n_h, 1)
    return {
        "dWu": dW_ur[:n_h], "dbu": db[0], "dWr": dW_ur[n_h:], "dbr": db[1],
        "dWh": dZ[2] @ reset_all.T, "dbh": db[2],  # W_h sees [Γr * h; x]
        "dx": dx, "dh0": dh_prev,
    }


def predict(params, X, head="seq2one", output="identity"):
    """ŷ: (n_y, m) for seq-to-one, (n_y, m, T_x) for seq-to-seq."""
    return _sequence.predict(_SELF, params, X, head, output)


def loss_and_grads(params, X, Y, method="bptt", head="seq2one", output="identity"):
    """(loss, grads) by hand BPTT (method="bptt") or by the tape (method="tape")."""
    return _sequence.loss_and_grads(_SELF, params, X, Y, method, head, output)
