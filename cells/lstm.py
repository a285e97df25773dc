"""LSTM, thesis section 4.2: the forward (4-17 … 4-24) and BPTT (4-25 … 4-44).

    Γf = σ(Wf [h_{t-1}; x_t] + bf)         (4-23)
    Γu = σ(Wu [h_{t-1}; x_t] + bu)         (4-22)
    c̃  = tanh(Wc [h_{t-1}; x_t] + bc)      (4-20)
    Γo = σ(Wo [h_{t-1}; x_t] + bo)         (4-21)
    c_t = Γf * c_{t-1} + Γu * c̃            (4-19)
    h_t = Γo * tanh(c_t)                    (4-18), h_0 = c_0 = 0

Keys `Wf bf Wu bu Wc bc Wo bo` (W* (n_h, n_h+n_x) on [h; x], hidden rows first;
b* (n_h, 1)) and the head `Wy (n_y, n_h)`, `by (n_y, 1)`.

Where the hand backward departs from the thesis's text (see ../shared/CONVENTIONS.md):
- (4-34) defines ∂L/∂c_t already including the path through h_t, and (4-38)–(4-40)
  then add that path a second time. Here, as in the exercise-style
  `lstm_cell_backward(dh_next, dc_next, cache)`, `dc_next` is only the gradient that
  arrives from step t+1 through c_t; the h_t path is added once, in `dc`.
- (4-39)'s last line drops the factor ∂L/∂h_t in front of Γo * (1 - tanh²(c_t)).
- (4-29)/(4-30) use W_yᵀ correctly, (4-5) does not; (4-44) writes one W_x for all
  four gates, where each gate has its own input block W_{ℓ,x} (the x columns of W_ℓ).
"""

from __future__ import annotations

import sys
from typing import NamedTuple

import numpy as np

import tinytape as tt
from cells import _common, _sequence

KIND = "lstm"
STATE = ("h", "c")
GATES = ("f", "u", "c", "o")
PARAMS = ("Wf", "bf", "Wu", "bu", "Wc", "bc", "Wo", "bo", "Wy", "by")
OPTIONAL_PARAMS = ()
NAMES = {"gf": "Γf", "gu": "Γu", "cc": "c̃", "go": "Γo"}  # named <symbol><t> on the tape
_SELF = sys.modules[__name__]


def sizes(params: dict) -> tuple[int, int, int]:
    """(n_x, n_h, n_y) read from the weight shapes."""
    n_h, n_hx = np.shape(params["Wf"])
    return n_hx - n_h, n_h, np.shape(params["Wy"])[0]


def param_shapes(n_x: int, n_h: int, n_y: int) -> dict:
    return _common.gate_param_shapes(GATES, n_x, n_h, n_y)


def check_options(fn: str, **options) -> None:
    _common.check_options(fn, options)


def init_params(n_x, n_h, n_y, scheme="glorot_normal", seed=0, dtype=np.float64) -> dict:
    """Gate weights drawn by `scheme` (orthogonal: recurrent block orthogonal, input
    block Glorot), biases zero. Drawn in the order f, u, c, o, y."""
    _common.check_sizes("lstm.init_params", n_x=n_x, n_h=n_h, n_y=n_y)
    init = _common.Initializer(scheme, seed, dtype, "lstm.init_params")
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
    gf: object  # Γf  (n_h, m)
    gu: object  # Γu
    cc: object  # c̃
    go: object  # Γo
    tanh_c: object  # tanh(c_t)


def step(xt, h_prev, c_prev, params):
    """(h_t, c_t, parts) from x_t, h_{t-1}, c_{t-1}. Runs on ndarrays and on Tensors."""
    concat = tt.concatenate([h_prev, xt], axis=0)  # (n_h+n_x, m)  (4-24)
    gf = tt.sigmoid(params["Wf"] @ concat + params["bf"])  # (n_h, m)  (4-23)
    gu = tt.sigmoid(params["Wu"] @ concat + params["bu"])  # (n_h, m)  (4-22)
    cc = tt.tanh(params["Wc"] @ concat + params["bc"])  # (n_h, m)  (4-20)
    go = tt.sigmoid(params["Wo"] @ concat + params["bo"])  # (n_h, m)  (4-21)
    c = gf * c_prev + gu * cc  # (n_h, m)  (4-19)
    tanh_c = tt.tanh(c)  # (n_h, m)
    h = go * tanh_c  # (n_h, m)  (4-18)
    return h, c, Parts(concat, gf, gu, cc, go, tanh_c)


STACKED_GATES = ("f", "u", "o", "c")  # the three sigmoid gates first, then c̃


def weights_stacked(params):
    """[W_ℓ  b_ℓ] for ℓ = f, u, o, c, stacked: (4n_h, n_h+n_x+1), for `step_stacked`.
    On Tensors the stacking is recorded, so its gradient flows back to each W_ℓ, b_ℓ."""
    return _common.stacked_gate_weights(params, STACKED_GATES)


def step_stacked(xt, h_prev, c_prev, W_b):
    """`step` with the gates stacked, as Keras stores them and the hand forward runs them:
    (h_t, c_t, parts) from x_t, h_{t-1}, c_{t-1} and W_b = weights_stacked(params).
    The same equations, one matmul for the four pre-activations and one sigmoid for the
    three gates; each gate is then a slice. Runs on ndarrays and on Tensors: the tape
    differentiates it like `step` (fewer, larger records; fit's tape path uses it).
    parts.concat is the column [h_{t-1}; x_t; 1] (the 1 multiplies the biases)."""
    n_h, m = h_prev.shape
    ones = np.ones((1, m), dtype=np.result_type(h_prev.dtype, xt.dtype))
    hx1 = tt.concatenate([h_prev, xt, ones], axis=0)  # (n_h+n_x+1, m)  (4-24) and a 1
    z = W_b @ hx1  # (4n_h, m): W_ℓ [h; x] + b_ℓ for ℓ = f, u, o, c
    sig = tt.sigmoid(z[: 3 * n_h])  # (3n_h, m)  (4-23), (4-22), (4-21)
    gf, gu, go = sig[:n_h], sig[n_h : 2 * n_h], sig[2 * n_h :]
    cc = tt.tanh(z[3 * n_h :])  # (n_h, m)  (4-20)
    c = gf * c_prev + gu * cc  # (n_h, m)  (4-19)
    tanh_c = tt.tanh(c)  # (n_h, m)
    h = go * tanh_c  # (n_h, m)  (4-18)
    return h, c, Parts(hx1, gf, gu, cc, go, tanh_c)


class Cache(NamedTuple):
    c_prev: np.ndarray  # (n_h, m)
    parts: Parts
    params: dict


def cell_forward(xt, h_prev, c_prev, params):
    """(h_next, c_next, cache) for one step on NumPy arrays: xt (n_x, m), h_prev and
    c_prev (n_h, m)."""
    fn = "lstm.cell_forward"
    _common.check_params(fn, params, _SELF)
    _common.check_step(fn, _SELF, params, xt, h_prev=h_prev, c_prev=c_prev)
    return _cell_forward(xt, h_prev, c_prev, params)


def _cell_forward(xt, h_prev, c_prev, params):
    """cell_forward without the checks (forward checks once for the whole sequence)."""
    h_next, c_next, parts = step(xt, h_prev, c_prev, params)
    return h_next, c_next, Cache(c_prev, parts, params)


def _gate_grads(dh, dc_next, cache: Cache):
    """dL/dz for the four gates and dL/dc_{t-1}, given dL/dh_t (all paths) and
    dc_next = dL/dc_t through step t+1 only.  Returns (dzf, dzu, dzc, dzo, dc_prev)."""
    _, gf, gu, cc, go, tanh_c = cache.parts
    # (4-34) corrected: the gradient reaching c_t = from step t+1 + through h_t (4-32)
    dc = dc_next + dh * go * (1.0 - tanh_c * tanh_c)  # (n_h, m)
    dzo = dh * tanh_c * go * (1.0 - go)  # (n_h, m)  (4-35)-(4-37)
    # (4-38)-(4-40) with dc counted once (the thesis adds the h_t path again)
    dzu = dc * cc * gu * (1.0 - gu)  # (n_h, m)  (4-38)
    dzc = dc * gu * (1.0 - cc * cc)  # (n_h, m)  (4-39), with its missing ∂L/∂h_t inside dc
    dzf = dc * cache.c_prev * gf * (1.0 - gf)  # (n_h, m)  (4-40)
    dc_prev = dc * gf  # (n_h, m)  (4-33): ∂c_t/∂c_{t-1} = Γf^(t)
    return dzf, dzu, dzc, dzo, dc_prev


def _concat_grad(dzs, params):
    """dL/d[h_{t-1}; x_t] = Σ_ℓ W_ℓᵀ dz_ℓ; its top n_h rows are (4-43), the rest (4-44)."""
    dzf, dzu, dzc, dzo = dzs
    return (
        params["Wf"].T @ dzf + params["Wu"].T @ dzu + params["Wc"].T @ dzc + params["Wo"].T @ dzo
    )  # (n_h+n_x, m)  (4-41), (4-42)


def _param_grads(dzs, concat) -> dict:
    """dW_ℓ = dz_ℓ [h; x]ᵀ and db_ℓ = Σ dz_ℓ (the table after (4-44)). Columns may be
    one step's batch or every step's batches side by side (the sum over t)."""
    grads = {}
    for g, dz in zip(GATES, dzs):
        grads["dW" + g] = dz @ concat.T  # (n_h, n_h+n_x)
        grads["db" + g] = dz.sum(axis=1, keepdims=True)  # (n_h, 1)
    return grads


def cell_backward(dh_next, dc_next, cache: Cache) -> dict:
    """One step backward. dh_next = dL/dh_t from the output and from step t+1;
    dc_next = dL/dc_t from step t+1 only. Keys dxt, dh_prev, dc_prev, dWf … dbo."""
    *dzs, dc_prev = _gate_grads(dh_next, dc_next, cache)
    dconcat = _concat_grad(dzs, cache.params)  # (n_h+n_x, m)
    n_h = dh_next.shape[0]
    grads = {"dxt": dconcat[n_h:], "dh_prev": dconcat[:n_h], "dc_prev": dc_prev}
    grads.update(_param_grads(dzs, cache.parts.concat))
    return grads


# ----------------------------------------------------------------------------------
# The sequence.
# ----------------------------------------------------------------------------------
def forward(x, h0, params):
    """(H, C, caches) for x (n_x, m, T_x); h0 (n_h, m) or None for zeros; c_0 = 0.

    `step_stacked` per step: `step`'s equations with the gates batched, for speed (the
    four gates' weights and biases stacked make every pre-activation one matmul per
    step, the three sigmoid gates one call). The caches are cell_forward's, so
    cell_backward reads them too. H and C are (n_h, m, T_x) views of step-major
    arrays: one step's states are contiguous, cheap to write and to read."""
    fn = "lstm.forward"
    _common.check_params(fn, params, _SELF)
    n_x, n_h, _ = sizes(params)
    x = _common.check_x(fn, x, n_x, params["Wf"].dtype)
    _, m, T = x.shape
    h = _common.initial_state(fn, "h0", h0, n_h, m, x.dtype)
    c = np.zeros((n_h, m), dtype=x.dtype)
    W_b = weights_stacked(params)  # (4n_h, n_h+n_x+1)
    xs = np.ascontiguousarray(x.transpose(2, 0, 1))  # (T_x, n_x, m): x_t contiguous
    H = np.empty((T, n_h, m), dtype=x.dtype)  # step-major; returned as (n_h, m, T_x)
    C = np.empty((T, n_h, m), dtype=x.dtype)
    caches = []
    for t in range(T):
        c_prev = c
        h, c, parts = step_stacked(xs[t], h, c_prev, W_b)
        H[t], C[t] = h, c
        # cell_backward's cache holds [h_{t-1}; x_t] without the row of ones
        caches.append(Cache(c_prev, parts._replace(concat=parts.concat[:-1]), params))
    return H.transpose(1, 2, 0), C.transpose(1, 2, 0), caches  # (n_h, m, T_x) each


def backward(dH, caches) -> dict:
    """BPTT over the sequence. dH (n_h, m, T_x) is dL/dh_t from the outputs only; the
    recurrent paths through h and c are added here going back (4-29, 4-34).
    Returns dx (n_x, m, T_x), dh0, dc0 and dWf … dbo summed over t."""
    return _sequence_backward(_gate_grads, dH, caches)[0]


def _sequence_backward(gate_grads, dH, caches):
    """(grads, dzs): the LSTM's loop over t, shared with the peephole LSTM, which
    brings its own `gate_grads` and computes its peephole gradients from dzs (each
    gate's dL/dz, all steps side by side). Same formulas as cell_backward,
    batched for speed: the four W_ℓᵀ stacked side by side make (4-41)-(4-44) one
    matmul per step, and the weight gradients are one matmul over all steps."""
    params = caches[0].params
    n_h, m, T = dH.shape
    n_x = caches[0].parts.concat.shape[0] - n_h
    W_T = np.concatenate([params["W" + g] for g in GATES], axis=0).T  # (n_h+n_x, 4n_h)
    dx = np.empty((n_x, m, T), dtype=dH.dtype)
    dh_prev = np.zeros((n_h, m), dtype=dH.dtype)  # nothing flows in from step T_x+1
    dc_prev = np.zeros((n_h, m), dtype=dH.dtype)
    dZ = np.empty((4 * n_h, m * T), dtype=dH.dtype)  # every step's gate gradients, side by side
    for t in reversed(range(T)):
        *dzs, dc_prev = gate_grads(dH[:, :, t] + dh_prev, dc_prev, caches[t])  # (4-29)
        dz = dZ[:, t * m : (t + 1) * m]  # (4n_h, m) view: gates f, u, c, o stacked
        for i, dz_gate in enumerate(dzs):
            dz[i * n_h : (i + 1) * n_h] = dz_gate
        dconcat = W_T @ dz  # (n_h+n_x, m) = Σ_ℓ W_ℓᵀ dz_ℓ  (4-41), (4-42)
        dh_prev, dx[:, :, t] = dconcat[:n_h], dconcat[n_h:]  # (4-43), (4-44)
    # the weight gradients: one matmul sums over t for all four gates (_param_grads's
    # formulas with the gates stacked)
    dzs_all = [dZ[i * n_h : (i + 1) * n_h] for i in range(4)]  # (n_h, m*T) per gate
    concat_all = np.concatenate([c.parts.concat for c in caches], axis=1)  # (n_h+n_x, m*T)
    dW = dZ @ concat_all.T  # (4n_h, n_h+n_x): dW_ℓ = Σ_t dz_ℓ [h; x]ᵀ, gates f, u, c, o
    db = dZ.sum(axis=1, keepdims=True)  # (4n_h, 1)
    grads = {}
    for i, g in enumerate(GATES):
        grads["dW" + g], grads["db" + g] = dW[i * n_h : (i + 1) * n_h], db[i * n_h : (i + 1) * n_h]
    grads.update(dx=dx, dh0=dh_prev, dc0=dc_prev)
    return grads, dzs_all


def predict(params, X, head="seq2one", output="identity"):
    """ŷ: (n_y, m) for seq-to-one, (n_y, m, T_x) for seq-to-seq."""
    return _sequence.predict(_SELF, params, X, head, output)


def loss_and_grads(params, X, Y, method="bptt", head="seq2one", output="identity"):
    """(loss, grads) by hand BPTT (method="bptt") or by the tape (method="tape")."""
    return _sequence.loss_and_grads(_SELF, params, X, Y, method, head, output)
