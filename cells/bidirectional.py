"""Bidirectional recurrent networks of any cell kind, by hand BPTT and on the tape.

Seed 004 §3.4 (Schuster & Paliwal 1997): a forward-direction cell reads x⟨1⟩ … x⟨T⟩, a
backward-direction cell reads x⟨T⟩ … x⟨1⟩, and each step's state is the concatenation

    h⟨t⟩ = [h_fw⟨t⟩; h_bw⟨t⟩]   (2n_h, m),   h_bw⟨t⟩ having read x⟨t⟩ … x⟨T⟩.

- seq2seq: ŷ⟨t⟩ = a_y(Wy h⟨t⟩ + by) at every t.
- seq2one: ŷ = a_y(Wy [h_fw⟨T⟩; h_bw⟨1⟩] + by), each direction's last state, the one
  that has read the whole sequence. That is what keras.layers.Bidirectional with
  return_sequences=False concatenates (tests/test_cells_deep_tf.py checks it).

Backward: the two directions share no parameter and no state, so dL/dh⟨t⟩ splits by
rows into two independent BPTT sweeps, and x⟨t⟩ feeding both gives dx = dx_fw + dx_bw.
The hand version is the cell module's `forward` run on x and on x reversed in time
(x[:, :, ::-1]), the second's states reversed back into input order, and its `backward`
run on each half of dH (the backward direction's on dH reversed, so its sweep goes from
t = 1 up to T in input time). The taped version runs the cell's `step` on Tensors, the
backward direction's steps recorded from t = T down to 1 but labelled by input time:
scopes "fw/<kind>/t=3", "bw/<kind>/t=3", so the two clusters of step t line up.

Parameters: `{"fw.Wh", …, "bw.Wh", …, "Wy" (n_y, 2n_h), "by"}` (see cells._layers).
Gradients: "d" + key. Tape names: "x<t>", "fw.h<t>", "bw.h<t>" (zero starts "fw.h<0>"
and "bw.h<T+1>"), gate values "fw.Γf<t>", …, the seq2seq states "h<t>", and "y_hat",
"loss" under the scope "head".
"""

from __future__ import annotations

import numpy as np

import tinytape as tt
from cells import _common, _layers, record as _record

DIRECTIONS = ("fw", "bw")


def bidirectional_init(
    kind, n_x, n_h, n_y, scheme="glorot_normal", seed=0, dtype=np.float64, **init_options
):
    """Forward- and backward-direction cell parameters ("fw." drawn with `seed`, "bw."
    with seed + 1, each as `<kind>.init_params` draws them) and a head Wy (n_y, 2n_h) on
    [h_fw; h_bw], drawn by `scheme` (fan-in 2n_h) with seed + 2; by zero.
    `init_options` go to the cell's init (the RNN's bias=False)."""
    fn = "bidirectional_init"
    module = _layers.cell_module(kind, fn)
    _common.check_sizes(fn, n_x=n_x, n_h=n_h, n_y=n_y)
    params = {}
    for i, direction in enumerate(DIRECTIONS):
        drawn = module.init_params(
            n_x, n_h, n_y, scheme=scheme, seed=seed + i, dtype=dtype, **init_options
        )
        params.update(_layers.prefixed(direction, drawn))
    init = _common.Initializer(scheme, seed + 2, dtype, fn)
    params["Wy"] = init.dense(n_y, 2 * n_h)  # (n_y, 2n_h)
    if "by" in drawn:
        params["by"] = init.zeros(n_y, 1)  # (n_y, 1)
    return params


def _model(fn, kind, params, cell_kwargs) -> _layers.Model:
    module = _layers.cell_module(kind, fn)
    module.check_options(fn, **cell_kwargs)
    builder = "bidirectional_init"
    return _layers.Model(fn, module, params, list(DIRECTIONS), stacked=False, builder=builder)


# ----------------------------------------------------------------------------------
# Hand BPTT: the cell module's forward and backward, once each way in time.
# ----------------------------------------------------------------------------------
def _forward(model, X, cell_kwargs):
    """([H_fw; H_bw] (2n_h, m, T_x) in input order, Caches)."""
    out_fw = model.module.forward(X, None, model.cell_view(0), **cell_kwargs)
    out_bw = model.module.forward(X[:, :, ::-1], None, model.cell_view(1), **cell_kwargs)
    H_bw = out_bw[0][:, :, ::-1]  # (n_h, m, T_x): back in input order, h_bw⟨t⟩ read x⟨t⟩…x⟨T⟩
    H = np.concatenate([out_fw[0], H_bw], axis=0)  # (2n_h, m, T_x)
    return H, _layers.Caches(model.name, X.shape[1], X.shape[2], [out_fw[-1], out_bw[-1]])


def _backward(model, dH, caches) -> dict:
    n_h = model.n_h
    fw = model.module.backward(dH[:n_h], caches.layers[0])  # the forward sweep's BPTT
    # the backward direction ran on x reversed: its BPTT runs over dH reversed
    bw = model.module.backward(np.ascontiguousarray(dH[n_h:, :, ::-1]), caches.layers[1])
    grads = {}
    for prefix, cell_grads, cell in zip(DIRECTIONS, (fw, bw), model.cells):
        grads.update({f"d{prefix}.{k}": cell_grads["d" + k] for k in cell})
    grads["dx"] = fw["dx"] + bw["dx"][:, :, ::-1]  # (n_x, m, T_x): x⟨t⟩ feeds both directions
    for prefix, cell_grads in zip(DIRECTIONS, (fw, bw)):
        grads.update(_layers.state_grads(prefix, model.module, cell_grads))
    return grads


def _head_states(model, H, head):
    """What the head reads, shaped (2n_h, m, T') for cells._common's head: H itself for
    seq2seq; for seq2one the single step [h_fw⟨T⟩; h_bw⟨1⟩] (2n_h, m, 1)."""
    if head == "seq2seq":
        return H
    n_h = model.n_h
    return np.concatenate([H[:n_h, :, -1:], H[n_h:, :, :1]], axis=0)  # (2n_h, m, 1)


def _dH_from_head(model, H, d_states, head):
    """dL/dH (shaped like H) from dL/d(_head_states): seq2one puts it back at h_fw⟨T⟩
    and h_bw⟨1⟩, the two states the head read."""
    if head == "seq2seq":
        return d_states
    n_h = model.n_h
    dH = np.zeros_like(H)  # (2n_h, m, T_x)
    dH[:n_h, :, -1] = d_states[:n_h, :, 0]  # ∂L/∂h_fw⟨T⟩
    dH[n_h:, :, 0] = d_states[n_h:, :, 0]  # ∂L/∂h_bw⟨1⟩
    return dH


def bidirectional_forward(kind, x, params, **cell_kwargs):
    """(H, caches) on NumPy: H = [H_fw; H_bw] (2n_h, m, T_x) in input order (rows n_h:
    of step t are h_bw⟨t⟩, which has read x⟨t⟩ … x⟨T⟩), caches a cells._layers.Caches."""
    fn = "bidirectional_forward"
    model = _model(fn, kind, params, cell_kwargs)
    return _forward(model, _common.check_x(fn, x, model.n_x, model.dtype), cell_kwargs)


def bidirectional_backward(kind, dH, caches, params) -> dict:
    """Hand BPTT of both directions: dH (2n_h, m, T_x) = dL/d[H_fw; H_bw] in input order.
    Returns "d" + every cell key ("dfw.Wh", "dbw.Wh", …), "dx", "dfw.h0" and "dbw.h0"
    (the backward direction's start, at t = T+1)."""
    fn = "bidirectional_backward"
    model = _model(fn, kind, params, {})
    _layers.check_backward_args(fn, model, dH, caches, 2 * model.n_h)
    return _backward(model, np.asarray(dH), caches)


# ----------------------------------------------------------------------------------
# The tape.
# ----------------------------------------------------------------------------------
def bidirectional_taped_loss(
    kind, params, X, Y, head="seq2one", output="identity", tapes=(), **cell_kwargs
):
    """The loss Tensor of the bidirectional model, recorded on the active tape(s).
    `params` is a dict of Tensors (or arrays: then nothing is recorded) keyed as
    `bidirectional_init` makes them; X, Y arrays, unchecked (`bidirectional_record`
    checks them)."""
    module = _layers.cell_module(kind, "bidirectional_taped_loss")
    X = np.asarray(X)
    T = X.shape[2]
    inputs = _layers.taped_inputs(X)  # shared by both directions
    fw, bw = (_layers.unprefixed(params, d) for d in DIRECTIONS)
    h_fw = _layers.taped_layer(module, fw, inputs, "fw", False, tapes, cell_kwargs)
    h_bw = _layers.taped_layer(module, bw, inputs, "bw", True, tapes, cell_kwargs)  # t = T … 1
    with tt.scope("head"):
        if head == "seq2one":
            states = [tt.concatenate([h_fw[T], h_bw[1]], axis=0)]  # (2n_h, m): [h_fw⟨T⟩; h_bw⟨1⟩]
        else:
            # h⟨t⟩ = [h_fw⟨t⟩; h_bw⟨t⟩], (2n_h, m) each
            states = [tt.concatenate([h_fw[t], h_bw[t]], axis=0) for t in range(1, T + 1)]
            for t, h in enumerate(states, start=1):
                _layers.name(h, f"h<{t}>")
        return _record.head_loss(_layers.head_of(params), states, Y, head, output)


def bidirectional_record(
    kind, params, X, Y, head="seq2one", output="identity", persistent=True, **cell_kwargs
):
    """(tape, loss Tensor, {key: watched parameter Tensor}) for the bidirectional
    forward + loss; steps scoped "fw/rnn/t=3" and "bw/rnn/t=3", the head "head"."""
    fn = "bidirectional_record"
    _, X, Y = _layers.checked_call(fn, _model, kind, params, X, Y, head, output, cell_kwargs)
    return _layers.record_model(
        bidirectional_taped_loss, kind, params, X, Y, head, output, persistent, cell_kwargs
    )


# ----------------------------------------------------------------------------------
# Loss and gradients, predictions.
# ----------------------------------------------------------------------------------
def bidirectional_loss_and_grads(
    kind, params, X, Y, method="bptt", head="seq2one", output="identity", **cell_kwargs
):
    """(loss, grads) of the bidirectional model, grads keyed "d" + every key of params
    ("dfw.Wh", "dbw.Wh", …, "dWy", "dby"), by hand BPTT (two sweeps, method="bptt") or
    by the tape (method="tape"). `cell_kwargs`: the cell's options (the RNN's activation)."""
    fn = "bidirectional_loss_and_grads"
    _common.check_choice(fn, "method", method, _common.METHODS)
    model, X, Y = _layers.checked_call(fn, _model, kind, params, X, Y, head, output, cell_kwargs)
    if method == "tape":
        return _layers.tape_loss_and_grads(
            bidirectional_taped_loss, kind, params, X, Y, head, output, cell_kwargs
        )
    H, caches = _forward(model, X, cell_kwargs)  # (2n_h, m, T_x)
    states = _head_states(model, H, head)
    loss, d_states, head_grads = _common.head_loss_and_backward(model.head, states, Y, head, output)
    grads = {**_backward(model, _dH_from_head(model, H, d_states, head), caches), **head_grads}
    return loss, {"d" + k: grads["d" + k] for k in params}


def bidirectional_predict(kind, params, X, head="seq2one", output="identity", **cell_kwargs):
    """ŷ: (n_y, m) for seq-to-one (from [h_fw⟨T⟩; h_bw⟨1⟩]), (n_y, m, T_x) for seq-to-seq."""
    fn = "bidirectional_predict"
    model, X, _ = _layers.checked_call(fn, _model, kind, params, X, None, head, output, cell_kwargs)
    states = _head_states(model, _forward(model, X, cell_kwargs)[0], head)  # (2n_h, m, T')
    width, m, T = states.shape
    if head == "seq2one":
        return _common.head_outputs(model.head, states[:, :, -1], output)[0]  # (n_y, m)
    y_hat = _common.head_outputs(model.head, states.reshape(width, m * T), output)[0]  # (n_y, m*T)
    return y_hat.reshape(-1, m, T)  # (n_y, m, T_x)
