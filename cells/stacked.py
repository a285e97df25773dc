"""Stacked (deep) recurrent networks of any cell kind, by hand BPTT and on the tape.

Depth L (seed 001 "Redes recurrentes profundas", seed 003 §2 Fig. 17; Graves, Mohamed
& Hinton 2013, "Speech recognition with deep recurrent neural networks"):

    h^[0]⟨t⟩ = x⟨t⟩,   h^[ℓ]⟨t⟩ = cell_ℓ(h^[ℓ-1]⟨t⟩, h^[ℓ]⟨t-1⟩),   ŷ⟨t⟩ = a_y(Wy h^[L]⟨t⟩ + by)

Every layer starts from zero states. Only the top layer feeds the head.

Backward, with no derivation beyond the single cell's: layer ℓ's states reach the loss
only as layer ℓ+1's inputs, so the gradient arriving at h^[ℓ]⟨t⟩ from above is layer
ℓ+1's dx⟨t⟩ (for the LSTM, the x rows of dL/d[h; x], (4-44)); inside a layer the
recurrent paths are the cell's own BPTT (4-29, 4-34). The top layer's dH comes from the
head, as for a single cell. So the hand version is the cell module's `forward` run
bottom-up and its `backward` run top-down, one layer's `dx` handed down as the next
layer's `dH`. The taped version runs the cell's `step` on Tensors, each step under the
scope "l<ℓ>/<kind>/t=<t>".

Parameters: `{"l1.Wf", …, "l2.Wf", …, "Wy", "by"}` (see cells._layers); layer ℓ ≥ 2 has
n_x = n_h. Gradients: "d" + key. Tape names: "x<t>", "l1.h<t>", "l1.c<t>", "l1.Γf<t>",
the zero starts "l1.h<0>", and "y_hat", "loss" under the scope "head".
"""

from __future__ import annotations

import re

import numpy as np

import tinytape as tt
from cells import _common, _layers, record as _record

_LAYER_KEY = re.compile(r"^l(\d+)\.")


def stacked_init(
    kind, n_x, n_h, n_y, depth=2, scheme="glorot_normal", seed=0, dtype=np.float64, **init_options
):
    """Parameters of `depth` stacked `kind` layers of n_h units and one head (n_y, n_h).

    Layer ℓ is drawn by `<kind>.init_params(n_in, n_h, n_y, scheme, seed + ℓ - 1, dtype)`
    with n_in = n_x for ℓ = 1 and n_h above, and keeps its cell keys prefixed "lℓ."; the
    head Wy, by is the top layer's draw. So depth=1 gives exactly `<kind>.init_params`
    with "l1." prefixes. `init_options` go to the cell's init (the RNN's bias=False).
    """
    fn = "stacked_init"
    module = _layers.cell_module(kind, fn)
    _common.check_sizes(fn, n_x=n_x, n_h=n_h, n_y=n_y, depth=depth)
    params = {}
    for layer in range(1, depth + 1):
        n_in = n_x if layer == 1 else n_h
        drawn = module.init_params(
            n_in, n_h, n_y, scheme=scheme, seed=seed + layer - 1, dtype=dtype, **init_options
        )
        params.update(_layers.prefixed(f"l{layer}", drawn))
    params.update(_layers.head_of(drawn))  # the top layer's Wy (n_y, n_h), by (n_y, 1)
    return params


def stacked_depth(params) -> int:
    """The number of layers of a stacked dict: the largest ℓ among its "lℓ." keys."""
    if not isinstance(params, dict):
        return 0
    return max((int(m.group(1)) for m in map(_LAYER_KEY.match, params) if m), default=0)


def _model(fn, kind, params, cell_kwargs) -> _layers.Model:
    module = _layers.cell_module(kind, fn)
    module.check_options(fn, **cell_kwargs)
    prefixes = [f"l{i}" for i in range(1, stacked_depth(params) + 1)]
    return _layers.Model(fn, module, params, prefixes, stacked=True, builder="stacked_init")


# ----------------------------------------------------------------------------------
# Hand BPTT: the cell module's forward bottom-up, its backward top-down.
# ----------------------------------------------------------------------------------
def _forward(model, X, cell_kwargs):
    """(H of the top layer (n_h, m, T_x), Caches)."""
    caches, inputs = [], X
    for i in range(len(model.cells)):
        out = model.module.forward(inputs, None, model.cell_view(i), **cell_kwargs)
        inputs = out[0]  # (n_h, m, T_x): layer ℓ's H is layer ℓ+1's x
        caches.append(out[-1])
    return inputs, _layers.Caches(model.name, X.shape[1], X.shape[2], caches)


def _backward(model, dH, caches) -> dict:
    per_layer = [None] * len(caches.layers)
    for i in reversed(range(len(caches.layers))):  # top layer first: its dH comes from the head
        per_layer[i] = model.module.backward(dH, caches.layers[i])
        dH = per_layer[i]["dx"]  # (n_in, m, T_x): dL/dh^[ℓ-1]⟨t⟩ = layer ℓ's dx⟨t⟩ (4-44)
    grads = {}
    for prefix, cell, cell_grads in zip(model.prefixes, model.cells, per_layer):
        grads.update({f"d{prefix}.{k}": cell_grads["d" + k] for k in cell})
    grads["dx"] = dH  # (n_x, m, T_x)
    for prefix, cell_grads in zip(model.prefixes, per_layer):
        grads.update(_layers.state_grads(prefix, model.module, cell_grads))
    return grads


def stacked_forward(kind, x, params, **cell_kwargs):
    """(H, caches) on NumPy: H the top layer's states (n_h, m, T_x), caches a
    cells._layers.Caches (what `stacked_backward` takes)."""
    fn = "stacked_forward"
    model = _model(fn, kind, params, cell_kwargs)
    return _forward(model, _common.check_x(fn, x, model.n_x, model.dtype), cell_kwargs)


def stacked_backward(kind, dH, caches, params) -> dict:
    """Hand BPTT through the stack: dH (n_h, m, T_x) is dL/d(top layer's states) from the
    head. Returns "d" + every cell key ("dl1.Wf", …), "dx" (n_x, m, T_x) and each layer's
    "dlℓ.h0" (and "dlℓ.c0")."""
    fn = "stacked_backward"
    model = _model(fn, kind, params, {})
    _layers.check_backward_args(fn, model, dH, caches, model.n_h)
    return _backward(model, np.asarray(dH), caches)


# ----------------------------------------------------------------------------------
# The tape.
# ----------------------------------------------------------------------------------
def stacked_taped_loss(
    kind, params, X, Y, head="seq2one", output="identity", tapes=(), **cell_kwargs
):
    """The loss Tensor of the stack, recorded on the active tape(s). `params` is a dict
    of Tensors (or arrays: then nothing is recorded) keyed as `stacked_init` makes them;
    X (n_x, m, T_x) and Y arrays, unchecked (`stacked_record` checks them)."""
    module = _layers.cell_module(kind, "stacked_taped_loss")
    X = np.asarray(X)
    T = X.shape[2]
    inputs = _layers.taped_inputs(X)
    for layer in range(1, stacked_depth(params) + 1):
        prefix = f"l{layer}"
        cell = _layers.unprefixed(params, prefix)
        inputs = _layers.taped_layer(module, cell, inputs, prefix, False, tapes, cell_kwargs)
    with tt.scope("head"):
        states = [inputs[t] for t in range(1, T + 1)]  # the top layer's h⟨1⟩ … h⟨T⟩
        return _record.head_loss(_layers.head_of(params), states, Y, head, output)


def stacked_record(
    kind, params, X, Y, head="seq2one", output="identity", persistent=True, **cell_kwargs
):
    """(tape, loss Tensor, {key: watched parameter Tensor}) for the stack's forward + loss;
    steps scoped "l1/lstm/t=3", the head "head". Sweep with tape.gradient(loss, tensors)."""
    fn = "stacked_record"
    _, X, Y = _layers.checked_call(fn, _model, kind, params, X, Y, head, output, cell_kwargs)
    return _layers.record_model(
        stacked_taped_loss, kind, params, X, Y, head, output, persistent, cell_kwargs
    )


# ----------------------------------------------------------------------------------
# Loss and gradients, predictions.
# ----------------------------------------------------------------------------------
def stacked_loss_and_grads(
    kind, params, X, Y, method="bptt", head="seq2one", output="identity", **cell_kwargs
):
    """(loss, grads) of the stack, grads keyed "d" + every key of params ("dl1.Wf", …,
    "dWy", "dby"): by the cells' hand BPTT composed layer by layer (method="bptt") or by
    the tape (method="tape"). `cell_kwargs`: the cell's options (the RNN's activation)."""
    fn = "stacked_loss_and_grads"
    _common.check_choice(fn, "method", method, _common.METHODS)
    model, X, Y = _layers.checked_call(fn, _model, kind, params, X, Y, head, output, cell_kwargs)
    if method == "tape":
        return _layers.tape_loss_and_grads(
            stacked_taped_loss, kind, params, X, Y, head, output, cell_kwargs
        )
    H, caches = _forward(model, X, cell_kwargs)  # (n_h, m, T_x)
    loss, dH, head_grads = _common.head_loss_and_backward(model.head, H, Y, head, output)
    grads = {**_backward(model, dH, caches), **head_grads}
    return loss, {"d" + k: grads["d" + k] for k in params}


def stacked_predict(kind, params, X, head="seq2one", output="identity", **cell_kwargs):
    """ŷ of the stack: (n_y, m) for seq-to-one (from the top layer's h⟨T⟩), (n_y, m, T_x)
    for seq-to-seq."""
    fn = "stacked_predict"
    model, X, _ = _layers.checked_call(fn, _model, kind, params, X, None, head, output, cell_kwargs)
    H = _forward(model, X, cell_kwargs)[0]  # (n_h, m, T_x)
    n_h, m, T = H.shape
    if head == "seq2one":
        return _common.head_outputs(model.head, H[:, :, -1], output)[0]  # (n_y, m)
    y_hat = _common.head_outputs(model.head, H.reshape(n_h, m * T), output)[0]  # (n_y, m*T)
    return y_hat.reshape(-1, m, T)  # (n_y, m, T_x)
