"""Peephole LSTM (Gers & Schmidhuber 2000), the extension the thesis proposes (ch. 7):
the gates also look at the cell state through diagonal "peephole" weights.

    Γf = σ(Wf [h_{t-1}; x_t] + pf * c_{t-1} + bf)     cf. (4-23)
    Γu = σ(Wu [h_{t-1}; x_t] + pu * c_{t-1} + bu)     cf. (4-22)
    c̃  = tanh(Wc [h_{t-1}; x_t] + bc)                 (4-20)
    c_t = Γf * c_{t-1} + Γu * c̃                       (4-19)
    Γo = σ(Wo [h_{t-1}; x_t] + po * c_t + bo)         cf. (4-21): the *new* cell state
    h_t = Γo * tanh(c_t)                               (4-18)

Keys: the LSTM's `Wf bf Wu bu Wc bc Wo bo Wy by` plus `pf pu po` of shape (n_h, 1),
multiplied elementwise (a diagonal matrix acting on c), as in Gers et al. and in
TensorFlow's LSTMCell(use_peepholes=True). With pf = pu = po = 0 this is the LSTM.

Backward, extending (4-34) … (4-44) (with the LSTM's corrections, see cells.lstm):
    dzo = dh * tanh(c_t) * Γo(1-Γo)
    dc  = dc_next + dh * Γo * (1 - tanh²c_t) + po * dzo          (c_t also feeds Γo)
    dzu, dzc, dzf as in the LSTM from dc
    dc_prev = dc * Γf + pf * dzf + pu * dzu                      (c_{t-1} feeds Γf, Γu)
    dpf = Σ_batch dzf * c_{t-1},  dpu = Σ_batch dzu * c_{t-1},  dpo = Σ_batch dzo * c_t
"""

from __future__ import annotations

import sys
from typing import NamedTuple

import numpy as np

import tinytape as tt
from cells import _common, _sequence, lstm

KIND = "peephole"
STATE = ("h", "c")
GATES = lstm.GATES
PEEPHOLES = ("pf", "pu", "po")
PARAMS = ("Wf", "bf", "pf", "Wu", "bu", "pu", "Wc", "bc", "Wo", "bo", "po", "Wy", "by")
OPTIONAL_PARAMS = ()
NAMES = lstm.NAMES
_SELF = sys.modules[__name__]
sizes = lstm.sizes
check_options = lstm.check_options


def param_shapes(n_x: int, n_h: int, n_y: int) -> dict:
    shapes = lstm.param_shapes(n_x, n_h, n_y)
    shapes.update({p: (n_h, 1) for p in PEEPHOLES})
    return {k: shapes[k] for k in PARAMS}


def init_params(n_x, n_h, n_y, scheme="glorot_normal", seed=0, dtype=np.float64) -> dict:
    """The LSTM's initialisation, then the peepholes drawn as (n_h, 1) columns with
    the scheme's variance for fan-in = fan-out = n_h (Glorot: 1/n_h; He: 2/n_h;
    orthogonal: Glorot), so that the peephole paths are live from the start."""
    _common.check_sizes("peephole.init_params", n_x=n_x, n_h=n_h, n_y=n_y)
    params = lstm.init_params(n_x, n_h, n_y, scheme, seed, dtype)
    init = _common.Initializer(scheme, seed + 1, dtype, "peephole.init_params")
    std = np.sqrt((2.0 if scheme == "he_normal" else 1.0) / n_h)
    for p in PEEPHOLES:
        params[p] = (init.rng.standard_normal((n_h, 1)) * std).astype(init.dtype)
    return {k: params[k] for k in PARAMS}


# ----------------------------------------------------------------------------------
# One step.
# ----------------------------------------------------------------------------------
Parts = lstm.Parts


def step(xt, h_prev, c_prev, params):
    """(h_t, c_t, parts) from x_t, h_{t-1}, c_{t-1}. Runs on ndarrays and on Tensors."""
    concat = tt.concatenate([h_prev, xt], axis=0)  # (n_h+n_x, m)  (4-24)
    gf = tt.sigmoid(params["Wf"] @ concat + params["pf"] * c_prev + params["bf"])  # (n_h, m)
    gu = tt.sigmoid(params["Wu"] @ concat + params["pu"] * c_prev + params["bu"])  # (n_h, m)
    cc = tt.tanh(params["Wc"] @ concat + params["bc"])  # (n_h, m)  (4-20)
    c = gf * c_prev + gu * cc  # (n_h, m)  (4-19)
    go = tt.sigmoid(params["Wo"] @ concat + params["po"] * c + params["bo"])  # (n_h, m)
    tanh_c = tt.tanh(c)  # (n_h, m)
    h = go * tanh_c  # (n_h, m)  (4-18)
    return h, c, Parts(concat, gf, gu, cc, go, tanh_c)


class Cache(NamedTuple):
    c_prev: np.ndarray  # (n_h, m)
    c: np.ndarray  # (n_h, m): Γo's peephole reads c_t
    parts: Parts
    params: dict


def cell_forward(xt, h_prev, c_prev, params):
    """(h_next, c_next, cache) for one step on NumPy arrays: xt (n_x, m), h_prev and
    c_prev (n_h, m)."""
    fn = "peephole.cell_forward"
    _common.check_params(fn, params, _SELF)
    _common.check_step(fn, _SELF, params, xt, h_prev=h_prev, c_prev=c_prev)
    return _cell_forward(xt, h_prev, c_prev, params)


def _cell_forward(xt, h_prev, c_prev, params):
    """cell_forward without the checks (forward checks once for the whole sequence)."""
    h_next, c_next, parts = step(xt, h_prev, c_prev, params)
    return h_next, c_next, Cache(c_prev, c_next, parts, params)


def _gate_grads(dh, dc_next, cache: Cache):
    """(dzf, dzu, dzc, dzo, dc_prev): the LSTM's, plus the peephole paths."""
    _, gf, gu, cc, go, tanh_c = cache.parts
    p = cache.params
    dzo = dh * tanh_c * go * (1.0 - go)  # (n_h, m)  (4-37)
    # gradient reaching c_t: from t+1, through h_t (4-32), and through Γo's peephole
    dc = dc_next + dh * go * (1.0 - tanh_c * tanh_c) + p["po"] * dzo  # (n_h, m)
    dzu = dc * cc * gu * (1.0 - gu)  # (n_h, m)  (4-38), dc counted once
    dzc = dc * gu * (1.0 - cc * cc)  # (n_h, m)  (4-39)
    dzf = dc * cache.c_prev * gf * (1.0 - gf)  # (n_h, m)  (4-40)
    # c_{t-1} feeds c_t through Γf (4-33), and Γf, Γu through their peepholes
    dc_prev = dc * gf + p["pf"] * dzf + p["pu"] * dzu  # (n_h, m)
    return dzf, dzu, dzc, dzo, dc_prev


def _peephole_grads(dzs, c_prev, c) -> dict:
    """dp = Σ over the batch (and steps, if side by side) of dz * the cell state it saw."""
    dzf, dzu, _, dzo = dzs
    return {
        "dpf": (dzf * c_prev).sum(axis=1, keepdims=True),  # (n_h, 1)
        "dpu": (dzu * c_prev).sum(axis=1, keepdims=True),  # (n_h, 1)
        "dpo": (dzo * c).sum(axis=1, keepdims=True),  # (n_h, 1)
    }


def cell_backward(dh_next, dc_next, cache: Cache) -> dict:
    """One step backward, as lstm.cell_backward, plus dpf, dpu, dpo."""
    *dzs, dc_prev = _gate_grads(dh_next, dc_next, cache)
    dconcat = lstm._concat_grad(dzs, cache.params)  # (n_h+n_x, m)  (4-41)-(4-44)
    n_h = dh_next.shape[0]
    grads = {"dxt": dconcat[n_h:], "dh_prev": dconcat[:n_h], "dc_prev": dc_prev}
    grads.update(lstm._param_grads(dzs, cache.parts.concat))
    grads.update(_peephole_grads(dzs, cache.c_prev, cache.c))
    return grads


# ----------------------------------------------------------------------------------
# The sequence.
# ----------------------------------------------------------------------------------
def forward(x, h0, params):
    """(H, C, caches) for x (n_x, m, T_x); h0 (n_h, m) or None for zeros; c_0 = 0."""
    fn = "peephole.forward"
    _common.check_params(fn, params, _SELF)
    n_x, n_h, _ = sizes(params)
    x = _common.check_x(fn, x, n_x, params["Wf"].dtype)
    _, m, T = x.shape
    h = _common.initial_state(fn, "h0", h0, n_h, m, x.dtype)
    c = np.zeros((n_h, m), dtype=x.dtype)
    H = np.empty((n_h, m, T), dtype=x.dtype)
    C = np.empty((n_h, m, T), dtype=x.dtype)
    caches = []
    for t in range(T):
        h, c, cache = _cell_forward(x[:, :, t], h, c, params)
        H[:, :, t], C[:, :, t] = h, c
        caches.append(cache)
    return H, C, caches


def backward(dH, caches) -> dict:
    """BPTT over the sequence, as lstm.backward, plus dpf, dpu, dpo."""
    grads, dzs = lstm._sequence_backward(_gate_grads, dH, caches)
    grads.update(
        _peephole_grads(
            dzs,  # each gate's dL/dz, all steps side by side (n_h, m*T)
            np.concatenate([c.c_prev for c in caches], axis=1),  # (n_h, m*T)
            np.concatenate([c.c for c in caches], axis=1),  # (n_h, m*T)
        )
    )
    return grads


def predict(params, X, head="seq2one", output="identity"):
    """ŷ: (n_y, m) for seq-to-one, (n_y, m, T_x) for seq-to-seq."""
    return _sequence.predict(_SELF, params, X, head, output)


def loss_and_grads(params, X, Y, method="bptt", head="seq2one", output="identity"):
    """(loss, grads) by hand BPTT (method="bptt") or by the tape (method="tape")."""
    return _sequence.loss_and_grads(_SELF, params, X, Y, method, head, output)
