"""The sequence-level entry points every cell module shares: predict and loss_and_grads.

Each cell module (rnn, lstm, peephole, gru, gru_keras) exposes thin wrappers with its
own signature; the work happens here so the five stay identical in behaviour.
"""

from __future__ import annotations

import numpy as np

from cells import _common, record as _record


def predict(module, params: dict, X, head: str, output: str, **cell_kwargs) -> np.ndarray:
    """ŷ of shape (n_y, m) (seq-to-one, from h^(T_x)) or (n_y, m, T_x) (seq-to-seq)."""
    fn = f"{module.KIND}.predict"
    X = _common.check_call(module, fn, params, X, head, output, cell_kwargs)
    H = module.forward(X, None, params, **cell_kwargs)[0]  # (n_h, m, T_x)
    n_h, m, T = H.shape
    if head == "seq2one":
        return _common.head_outputs(params, H[:, :, -1], output)[0]  # (n_y, m)
    y_hat = _common.head_outputs(params, H.reshape(n_h, m * T), output)[0]  # (n_y, m*T)
    return y_hat.reshape(-1, m, T)  # (n_y, m, T_x)


def loss_and_grads(module, params: dict, X, Y, method: str, head: str, output: str, **cell_kwargs):
    """(loss, grads) with grads keyed "d" + every parameter name, in params' order.

    method="bptt": the cell module's hand-derived forward/backward and the hand head.
    method="tape": record the forward + loss on a tinytape.Tape (cells.record) and
    sweep it backward. Both see the same checks and return the same keys.
    """
    fn = f"{module.KIND}.loss_and_grads"
    _common.check_choice(fn, "method", method, _common.METHODS)
    X = _common.check_call(module, fn, params, X, head, output, cell_kwargs)
    n_y = module.sizes(params)[2]
    _, m, T = X.shape
    Y = _common.check_y(fn, Y, n_y, m, T, head, output, X.dtype)

    if method == "tape":
        tape, loss, tensors = _record.record_module(
            module, params, X, Y, head=head, output=output, persistent=False, trace=False, **cell_kwargs
        )
        grads = tape.gradient(loss, tensors)
        return float(np.asarray(loss)), {"d" + k: np.asarray(grads[k]) for k in params}

    out = module.forward(X, None, params, **cell_kwargs)
    H, caches = out[0], out[-1]  # (n_h, m, T_x), one cache per step
    loss, dH, head_grads = _common.head_loss_and_backward(params, H, Y, head, output)
    cell_grads = module.backward(dH, caches)
    grads = {}
    for key in params:
        grads["d" + key] = head_grads["d" + key] if "d" + key in head_grads else cell_grads["d" + key]
    return loss, grads
