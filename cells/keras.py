"""Our cells beside Keras's: weight conversion, the equivalent Keras model, TF gradients.

Four pairs agree with TensorFlow to the last digits in float64:

    rnn        <-> keras.layers.SimpleRNN (tanh, with biases)
    lstm       <-> keras.layers.LSTM      (gate blocks i, f, c, o)
    gru        <-> keras.layers.GRU(reset_after=False)   the lab's GRU (4-45 ... 4-50)
    gru_keras  <-> keras.layers.GRU(reset_after=True)    TensorFlow 2's default

Shapes differ: we keep column vectors and x of shape (n_x, m, T_x); Keras keeps rows and
(batch, time, features). A lab matrix W acting on a column h is the transpose of the
Keras matrix acting on a row, so every conversion below is a transpose, a slice, a
concatenation or (for the GRU's update gate) a sign flip. Each of those is an
orthogonal map of the parameter vector, so its adjoint is its inverse: a Keras
*gradient* converts back to the lab's layout with the same `from_keras_weights`.

TensorFlow is optional (`pip install tinytape[tf]`) and imported only inside the
functions that need it.
"""
from __future__ import annotations

import numpy as np

# Which Keras layer each of our cells corresponds to (peephole LSTM has no Keras twin).
KERAS_LAYERS = {
    "rnn": "SimpleRNN",
    "lstm": "LSTM",
    "gru": "GRU(reset_after=False)",
    "gru_keras": "GRU(reset_after=True)",
}

# Loss on the model's output, as in CONVENTIONS: MSE 1/(2m) (seq2one), 1/(2mT)
# (seq2seq); mean cross-entropy over batch (and time) for softmax.
_KERAS_ACTIVATION = {"identity": "linear", "tanh": "tanh", "softmax": "softmax"}
_HEADS = ("seq2one", "seq2seq")


def _import_tf():
    """Import TensorFlow and Keras, or say how to install them."""
    try:
        import tensorflow as tf
        import keras
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "cells.keras needs TensorFlow (Keras 3) to build Keras models and take TF "
            f"gradients, and importing it failed ({error}). "
            "Install the extra: pip install tinytape[tf]"
        ) from error
    return tf, keras


def _check_kind(kind: str, function: str) -> None:
    if kind not in KERAS_LAYERS:
        raise ValueError(
            f"{function}: no Keras counterpart for cell kind {kind!r}; "
            f"choose one of {', '.join(KERAS_LAYERS)} (the peephole LSTM has none)"
        )


def _require(params: dict, keys: tuple[str, ...], kind: str, function: str) -> None:
    missing = [key for key in keys if key not in params]
    if missing:
        raise KeyError(
            f"{function}: {kind} parameters lack {missing}; expected keys {list(keys)} "
            "(see CONVENTIONS.md, 'Parameters')"
        )


def _n_h(kind: str, params: dict) -> int:
    if kind == "rnn":
        return params["Wh"].shape[0]
    if kind == "lstm":
        return params["Wf"].shape[0]
    if kind == "gru":
        return params["Wu"].shape[0]
    return params["recurrent_kernel"].shape[0]


# ---------------------------------------------------------------------------------
# Weight conversion
# ---------------------------------------------------------------------------------

_LSTM_KERAS_ORDER = ("u", "f", "c", "o")  # Keras blocks i, f, c, o; lab u == Keras i
_GRU_KERAS_ORDER = ("u", "r", "h")        # Keras blocks z, r, h


def _split_hx(W: np.ndarray, n_h: int) -> tuple[np.ndarray, np.ndarray]:
    """Lab W (n_h, n_h+n_x) on [h; x] -> Keras (recurrent block, kernel block)."""
    return W[:, :n_h].T, W[:, n_h:].T  # (n_h, n_h), (n_x, n_h)


def _join_hx(recurrent_block: np.ndarray, kernel_block: np.ndarray) -> np.ndarray:
    """Keras (recurrent block, kernel block) -> lab W = [R.T | K.T], (n_h, n_h+n_x)."""
    return np.concatenate([recurrent_block.T, kernel_block.T], axis=1)


def to_keras_weights(kind: str, params: dict) -> list[np.ndarray]:
    """The recurrent layer's weights `[kernel, recurrent_kernel, bias]` for `layer.set_weights`.

    Only the recurrent part: the head (`Wy`, `by`) is a Dense layer, see `dense_weights`.
    """
    _check_kind(kind, "to_keras_weights")
    if kind == "rnn":
        # h_t = tanh(Wh h + Wx x + bh) (4-1)  <->  tanh(x K + h R + b)
        _require(params, ("Wh", "Wx", "bh"), kind, "to_keras_weights")
        return [params["Wx"].T.copy(), params["Wh"].T.copy(), params["bh"][:, 0].copy()]
    if kind == "lstm":
        _require(params, ("Wf", "bf", "Wu", "bu", "Wc", "bc", "Wo", "bo"), kind, "to_keras_weights")
        n_h = _n_h(kind, params)
        blocks = [_split_hx(params["W" + g], n_h) for g in _LSTM_KERAS_ORDER]
        kernel = np.concatenate([k for _, k in blocks], axis=1)            # (n_x, 4n_h)
        recurrent = np.concatenate([r for r, _ in blocks], axis=1)         # (n_h, 4n_h)
        bias = np.concatenate([params["b" + g][:, 0] for g in _LSTM_KERAS_ORDER])  # (4n_h,)
        return [kernel, recurrent, bias]
    if kind == "gru":
        # The lab's update gate Γu weights the *new* candidate (4-50); Keras's z weights the
        # old state. z = 1 - Γu = σ(-(Wu[h;x] + bu)), so the z block is -Wu, -bu.
        _require(params, ("Wu", "bu", "Wr", "br", "Wh", "bh"), kind, "to_keras_weights")
        n_h = _n_h(kind, params)
        sign = {"u": -1.0, "r": 1.0, "h": 1.0}
        blocks = [_split_hx(sign[g] * params["W" + g], n_h) for g in _GRU_KERAS_ORDER]
        kernel = np.concatenate([k for _, k in blocks], axis=1)            # (n_x, 3n_h)
        recurrent = np.concatenate([r for r, _ in blocks], axis=1)         # (n_h, 3n_h)
        bias = np.concatenate([sign[g] * params["b" + g][:, 0] for g in _GRU_KERAS_ORDER])  # (3n_h,)
        return [kernel, recurrent, bias]
    # gru_keras keeps Keras's own arrays as its parameters.
    _require(params, ("kernel", "recurrent_kernel", "bias"), kind, "to_keras_weights")
    return [params["kernel"].copy(), params["recurrent_kernel"].copy(), params["bias"].copy()]


def dense_weights(params: dict) -> list[np.ndarray]:
    """The head ŷ = a_y(Wy h + by) as Keras Dense weights `[kernel (n_h, n_y), bias (n_y,)]`."""
    _require(params, ("Wy", "by"), "head", "dense_weights")
    return [params["Wy"].T.copy(), params["by"][:, 0].copy()]


def from_keras_weights(kind: str, weights: list, Wy=None, by=None) -> dict:
    """Lab parameters from Keras weights (the inverse of `to_keras_weights`).

    `weights` is the recurrent layer's `[kernel, recurrent_kernel, bias]`, or a whole
    model's five arrays (recurrent layer, then the Dense head's kernel and bias), in
    which case the head becomes `Wy`, `by`. `Wy` (n_y, n_h) and `by` (n_y, 1) may also be
    passed directly. Because every conversion is a signed permutation, this also maps
    Keras *gradients* to the lab's gradients.
    """
    _check_kind(kind, "from_keras_weights")
    weights = [np.asarray(w) for w in weights]
    if len(weights) == 5:
        if Wy is not None or by is not None:
            raise ValueError("from_keras_weights: got five weights (with a Dense head) and Wy/by too; pass one or the other")
        Wy, by = weights[3].T.copy(), weights[4][:, None].copy()
        weights = weights[:3]
    if len(weights) != 3:
        raise ValueError(
            f"from_keras_weights: expected [kernel, recurrent_kernel, bias] (3 arrays) or a "
            f"model's 5 arrays, got {len(weights)} arrays with shapes {[w.shape for w in weights]}"
        )
    kernel, recurrent, bias = weights
    n_h = recurrent.shape[0]
    n_blocks = {"rnn": 1, "lstm": 4, "gru": 3, "gru_keras": 3}[kind]
    if recurrent.shape[1] != n_blocks * n_h or kernel.shape[1] != n_blocks * n_h:
        raise ValueError(
            f"from_keras_weights: {kind} ({KERAS_LAYERS[kind]}) needs kernel (n_x, {n_blocks}n_h) and "
            f"recurrent_kernel (n_h, {n_blocks}n_h); got {kernel.shape} and {recurrent.shape}"
        )
    params: dict = {}
    if kind == "rnn":
        params.update(Wh=recurrent.T.copy(), Wx=kernel.T.copy(), bh=bias[:, None].copy())
    elif kind in ("lstm", "gru"):
        order = _LSTM_KERAS_ORDER if kind == "lstm" else _GRU_KERAS_ORDER
        if bias.shape != (n_blocks * n_h,):
            raise ValueError(
                f"from_keras_weights: {kind} ({KERAS_LAYERS[kind]}) needs bias ({n_blocks * n_h},), got "
                f"{bias.shape}" + (" (a (2, 3n_h) bias belongs to reset_after=True: use kind 'gru_keras')" if kind == "gru" else "")
            )
        sign = {"u": -1.0} if kind == "gru" else {}
        for index, gate in enumerate(order):
            block = slice(index * n_h, (index + 1) * n_h)
            s = sign.get(gate, 1.0)
            params["W" + gate] = s * _join_hx(recurrent[:, block], kernel[:, block])  # (n_h, n_h+n_x)
            params["b" + gate] = s * bias[block][:, None]                            # (n_h, 1)
    else:
        if bias.shape != (2, 3 * n_h):
            raise ValueError(
                f"from_keras_weights: gru_keras (GRU reset_after=True) needs bias (2, {3 * n_h}), got {bias.shape}"
            )
        params.update(kernel=kernel.copy(), recurrent_kernel=recurrent.copy(), bias=bias.copy())
    if Wy is not None:
        params["Wy"] = np.asarray(Wy).copy()
    if by is not None:
        params["by"] = np.asarray(by).copy()
    return params


# ---------------------------------------------------------------------------------
# The equivalent Keras model
# ---------------------------------------------------------------------------------

def _recurrent_layer(keras, kind: str, n_h: int, return_sequences: bool, dtype: str):
    common = dict(units=n_h, activation="tanh", use_bias=True,
                  return_sequences=return_sequences, dtype=dtype, name="recurrent")
    if kind == "rnn":
        return keras.layers.SimpleRNN(**common)
    if kind == "lstm":
        return keras.layers.LSTM(recurrent_activation="sigmoid", **common)
    return keras.layers.GRU(recurrent_activation="sigmoid", reset_after=(kind == "gru_keras"), **common)


def _check_head(head: str, output: str, function: str) -> None:
    if head not in _HEADS:
        raise ValueError(f"{function}: head must be one of {_HEADS}, got {head!r}")
    if output not in _KERAS_ACTIVATION:
        raise ValueError(f"{function}: output must be one of {tuple(_KERAS_ACTIVATION)}, got {output!r}")


def build_model(kind: str, params: dict, T_x: int | None, head: str = "seq2one",
                output: str = "identity", dtype: str = "float64"):
    """A Keras model computing what our cell computes: recurrent layer + Dense head.

    Input (batch, T_x, n_x); output (batch, n_y) for seq2one, (batch, T_x, n_y) for
    seq2seq. `T_x=None` accepts any sequence length. The initial state is zero, as in
    our `loss_and_grads`. Weights come from `params` (lab layout).
    """
    _check_kind(kind, "build_model")
    _check_head(head, output, "build_model")
    _, keras = _import_tf()
    recurrent_weights = to_keras_weights(kind, params)
    head_weights = dense_weights(params)
    n_x = recurrent_weights[0].shape[0]
    n_h = recurrent_weights[1].shape[0]
    n_y = head_weights[0].shape[1]
    inputs = keras.Input(shape=(T_x, n_x), dtype=dtype)
    recurrent = _recurrent_layer(keras, kind, n_h, head == "seq2seq", dtype)
    dense = keras.layers.Dense(n_y, activation=_KERAS_ACTIVATION[output], dtype=dtype, name="head")
    model = keras.Model(inputs, dense(recurrent(inputs)), name=f"tinytape_{kind}_{head}_{output}")
    recurrent.set_weights(recurrent_weights)
    dense.set_weights(head_weights)
    return model


def to_keras_inputs(X: np.ndarray) -> np.ndarray:
    """Our x (n_x, m, T_x) -> Keras's (m, T_x, n_x)."""
    return np.ascontiguousarray(np.transpose(X, (1, 2, 0)))


def from_keras_outputs(Y_keras: np.ndarray) -> np.ndarray:
    """Keras (m, n_y) -> our (n_y, m); Keras (m, T, n_y) -> our (n_y, m, T)."""
    Y_keras = np.asarray(Y_keras)
    if Y_keras.ndim == 2:
        return Y_keras.T.copy()
    return np.ascontiguousarray(np.transpose(Y_keras, (2, 0, 1)))


def to_keras_targets(Y: np.ndarray) -> np.ndarray:
    """Our targets (n_y, m) or (n_y, m, T) -> Keras's (m, n_y) or (m, T, n_y)."""
    if Y.ndim == 2:
        return Y.T.copy()
    return np.ascontiguousarray(np.transpose(Y, (1, 2, 0)))


# Building a Keras model costs ~0.1 s; the gradient checks call tf_loss_and_grads for many
# (shape, T, m) combinations, so models are reused per structure (T_x=None accepts any T).
_MODEL_CACHE: dict = {}


def _cached_model(kind: str, params: dict, head: str, output: str, dtype: str):
    recurrent_weights = to_keras_weights(kind, params)
    head_weights = dense_weights(params)
    key = (kind, head, output, dtype, recurrent_weights[0].shape, recurrent_weights[1].shape,
           recurrent_weights[2].shape, head_weights[0].shape)
    model = _MODEL_CACHE.get(key)
    if model is None:
        model = build_model(kind, params, None, head=head, output=output, dtype=dtype)
        _MODEL_CACHE[key] = model
    else:
        model.get_layer("recurrent").set_weights(recurrent_weights)
        model.get_layer("head").set_weights(head_weights)
    return model


def tf_predict(kind: str, params: dict, X: np.ndarray, head: str = "seq2one",
               output: str = "identity") -> np.ndarray:
    """The Keras model's output for our X (n_x, m, T_x), in our layout, float64."""
    _check_kind(kind, "tf_predict")
    _check_head(head, output, "tf_predict")
    model = _cached_model(kind, params, head, output, "float64")
    return from_keras_outputs(model(to_keras_inputs(np.asarray(X, dtype=np.float64))).numpy())


def tf_loss_and_grads(kind: str, params: dict, X: np.ndarray, Y: np.ndarray,
                      head: str = "seq2one", output: str = "identity") -> tuple[float, dict]:
    """Our loss and its gradients computed by TensorFlow (tf.GradientTape, float64).

    X (n_x, m, T_x), Y (n_y, m) for seq2one or (n_y, m, T_x) for seq2seq (one-hot for
    softmax). Returns `(loss, grads)` with grads keyed `d<name>` in the lab's layout,
    exactly like our `loss_and_grads`, so the two can be compared key by key.
    """
    _check_kind(kind, "tf_loss_and_grads")
    _check_head(head, output, "tf_loss_and_grads")
    tf, _ = _import_tf()
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    n_x, m, T_x = X.shape
    expected_y = {"seq2one": 2, "seq2seq": 3}[head]
    if Y.ndim != expected_y or Y.shape[1] != m or (head == "seq2seq" and Y.shape[2] != T_x):
        raise ValueError(
            f"tf_loss_and_grads: for head={head!r} with X of shape {X.shape} (n_x, m, T_x), Y must be "
            + ("(n_y, m)" if head == "seq2one" else "(n_y, m, T_x)") + f"; got {Y.shape}"
        )
    model = _cached_model(kind, params, head, output, "float64")
    recurrent, dense = model.get_layer("recurrent"), model.get_layer("head")
    variables = [recurrent.cell.kernel, recurrent.cell.recurrent_kernel, recurrent.cell.bias,
                 dense.kernel, dense.bias]
    inputs = tf.constant(to_keras_inputs(X))
    targets = tf.constant(to_keras_targets(Y))
    n_terms = m * (T_x if head == "seq2seq" else 1)  # batch (and time) the loss averages over
    with tf.GradientTape() as tape:
        y_hat = model(inputs)                                     # (m, n_y) or (m, T, n_y)
        if output == "softmax":
            # mean cross-entropy over batch (and time)
            loss = -tf.reduce_sum(targets * tf.math.log(y_hat)) / n_terms
        else:
            # (5-1): 1/(2m) Σ (ŷ - y)², and 1/(2mT) for seq2seq
            loss = tf.reduce_sum(tf.square(y_hat - targets)) / (2 * n_terms)
    keras_grads = [g.numpy() for g in tape.gradient(loss, variables)]
    lab = from_keras_weights(kind, keras_grads)
    return float(loss.numpy()), {"d" + name: value for name, value in lab.items()}
