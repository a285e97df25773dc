"""Our cells beside Keras's: weight conversion, the equivalent Keras model, TF gradients.

Four pairs agree with TensorFlow to the last digits in float64:

    rnn        <-> keras.layers.SimpleRNN (tanh, with biases)
    lstm       <-> keras.layers.LSTM      (gate blocks i, f, c, o)
    gru        <-> keras.layers.GRU(reset_after=False)   the lab's GRU (4-45 ... 4-50)
    gru_keras  <-> keras.layers.GRU(reset_after=True)    TensorFlow 2's default

and so do the rnn's other forms (activation relu or identity: SimpleRNN(activation=...);
`init_params(..., bias=False)`: use_bias=False layers) and cells.deep's compositions
(`wrapper="stacked"`: one Keras layer per "lℓ." layer; `wrapper="bidirectional"`:
keras.layers.Bidirectional with merge_mode="concat").

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

# The head's a_y (our `output=`) as Keras's Dense names it.
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
        # h_t = a_h(Wh h + Wx x + bh) (4-1)  <->  a_h(x K + h R + b). Without bh
        # (init_params(..., bias=False)) the layer is SimpleRNN(use_bias=False): two arrays.
        _require(params, ("Wh", "Wx"), kind, "to_keras_weights")
        weights = [params["Wx"].T.copy(), params["Wh"].T.copy()]
        return weights + ([params["bh"][:, 0].copy()] if "bh" in params else [])
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
    """The head ŷ = a_y(Wy h + by) as Keras Dense weights `[kernel (n_h, n_y), bias (n_y,)]`
    (just `[kernel]` when params has no `by`: Dense(use_bias=False))."""
    _require(params, ("Wy",), "head", "dense_weights")
    return [params["Wy"].T.copy()] + ([params["by"][:, 0].copy()] if "by" in params else [])


def from_keras_weights(kind: str, weights: list, Wy=None, by=None) -> dict:
    """Lab parameters from Keras weights (the inverse of `to_keras_weights`).

    `weights` is the recurrent layer's `[kernel, recurrent_kernel, bias]` (for a bias-free
    SimpleRNN just `[kernel, recurrent_kernel]`), or a whole single-layer model's five
    arrays (recurrent layer, then the Dense head's kernel and bias), in which case the
    head becomes `Wy`, `by`. `Wy` (n_y, n_h) and `by` (n_y, 1) may also be
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
    if kind == "rnn" and len(weights) == 2:
        kernel, recurrent = weights  # SimpleRNN(use_bias=False): the bias-free RNN
        params = {"Wh": recurrent.T.copy(), "Wx": kernel.T.copy()}
        params.update({name: np.asarray(value).copy() for name, value in (("Wy", Wy), ("by", by))
                       if value is not None})
        return params
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
        if bias.shape != (n_h,):
            raise ValueError(f"from_keras_weights: rnn (SimpleRNN) needs bias ({n_h},), got {bias.shape}")
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

# The vanilla RNN's a_h (cells.rnn's `activation=`) as Keras names it.
RNN_ACTIVATIONS = {"tanh": "tanh", "relu": "relu", "identity": "linear"}
# How cells.deep composes cells: one layer, a stack ("l1.", "l2.", ...) or two
# directions ("fw.", "bw.") concatenated, always with one head Wy, by.
WRAPPERS = (None, "stacked", "bidirectional")


def _check_head(head: str, output: str, function: str) -> None:
    if head not in _HEADS:
        raise ValueError(f"{function}: head must be one of {_HEADS}, got {head!r}")
    if output not in _KERAS_ACTIVATION:
        raise ValueError(f"{function}: output must be one of {tuple(_KERAS_ACTIVATION)}, got {output!r}")


def _check_model_options(kind: str, activation: str, wrapper, function: str) -> None:
    _check_kind(kind, function)
    if wrapper not in WRAPPERS:
        raise ValueError(f"{function}: wrapper must be one of {WRAPPERS}, got {wrapper!r}")
    if activation != "tanh" and kind != "rnn":
        raise ValueError(f"{function}: activation={activation!r} is an option of the rnn cell only")
    if activation not in RNN_ACTIVATIONS:
        raise ValueError(f"{function}: activation must be one of {tuple(RNN_ACTIVATIONS)}, got {activation!r}")


def _recurrent_parts(params: dict, wrapper, function: str) -> list[tuple[str, dict]]:
    """[(prefix, that layer's unprefixed cell params)] in input-to-output order."""
    cell_only = {name: value for name, value in params.items() if name not in ("Wy", "by")}
    if wrapper is None:
        return [("", cell_only)]
    if wrapper == "stacked":
        prefixes = sorted({name.split(".")[0] for name in cell_only if "." in name},
                          key=lambda prefix: int(prefix[1:]) if prefix[1:].isdigit() else -1)
        if not prefixes or any(not (p.startswith("l") and p[1:].isdigit()) for p in prefixes):
            raise ValueError(f"{function}: a stacked model's keys are 'l1.<name>', 'l2.<name>', ... "
                             f"(cells.deep.stacked_init); got {sorted(params)}")
    else:
        prefixes = ["fw", "bw"]
    parts = []
    for prefix in prefixes:
        sub = {name[len(prefix) + 1:]: value for name, value in cell_only.items() if name.startswith(prefix + ".")}
        if not sub:
            raise ValueError(f"{function}: no '{prefix}.' parameters in {sorted(params)}")
        parts.append((prefix + ".", sub))
    return parts


def _recurrent_layer(keras, kind: str, n_h: int, return_sequences: bool, dtype: str,
                     activation: str, use_bias: bool, name: str):
    common = dict(units=n_h, activation=RNN_ACTIVATIONS[activation], use_bias=use_bias,
                  return_sequences=return_sequences, dtype=dtype, name=name)
    if kind == "rnn":
        return keras.layers.SimpleRNN(**common)
    if kind == "lstm":
        return keras.layers.LSTM(recurrent_activation="sigmoid", **common)
    return keras.layers.GRU(recurrent_activation="sigmoid", reset_after=(kind == "gru_keras"), **common)


class KerasTwin:
    """A Keras model computing what one of our models computes, and the map between them.

    `model` is the keras.Model; `recurrent` lists (prefix, Keras recurrent layer) in the
    order of `_recurrent_parts`; `head` is the Dense layer. `set_params` loads lab
    parameters; `variables` and `grads_to_lab` take TF gradients back to our keys.
    """

    def __init__(self, kind, params, T_x, head, output, dtype, activation, wrapper):
        _, keras = _import_tf()
        self.kind, self.wrapper = kind, wrapper
        parts = _recurrent_parts(params, wrapper, "build_model")
        first = to_keras_weights(kind, parts[0][1])
        n_x, n_h = first[0].shape[0], first[1].shape[0]
        use_bias = len(first) == 3
        n_y = params["Wy"].shape[0]
        seq2seq = head == "seq2seq"

        def layer(name, return_sequences):
            return _recurrent_layer(keras, kind, n_h, return_sequences, dtype, activation, use_bias, name)

        inputs = keras.Input(shape=(T_x, n_x), dtype=dtype)
        if wrapper == "bidirectional":
            both = keras.layers.Bidirectional(layer("recurrent", seq2seq), merge_mode="concat", dtype=dtype)
            states = both(inputs)  # [h_fw; h_bw], the backward direction put back in input order
            self.recurrent = [("fw.", both.forward_layer), ("bw.", both.backward_layer)]
        else:
            states, self.recurrent = inputs, []
            for index, (prefix, _) in enumerate(parts):
                last = index == len(parts) - 1
                recurrent = layer(f"recurrent{index + 1}", seq2seq or not last)
                states = recurrent(states)
                self.recurrent.append((prefix, recurrent))
        self.head = keras.layers.Dense(n_y, activation=_KERAS_ACTIVATION[output], use_bias="by" in params,
                                       dtype=dtype, name="head")
        self.model = keras.Model(inputs, self.head(states), name=f"tinytape_{kind}_{head}_{output}")
        self.set_params(params)

    def set_params(self, params: dict) -> None:
        parts = dict(_recurrent_parts(params, self.wrapper, "build_model"))
        for prefix, layer in self.recurrent:
            layer.set_weights(to_keras_weights(self.kind, parts[prefix]))
        self.head.set_weights(dense_weights(params))

    def variables(self) -> list:
        out = []
        for _, layer in self.recurrent:
            cell = layer.cell
            out += [cell.kernel, cell.recurrent_kernel] + ([cell.bias] if cell.use_bias else [])
        return out + [self.head.kernel] + ([self.head.bias] if self.head.use_bias else [])

    def grads_to_lab(self, grads: list) -> dict:
        """TF gradients (in `variables()` order) -> {"d<name>": array} in our layout."""
        grads = [np.asarray(g) for g in grads]
        lab, position = {}, 0
        for prefix, layer in self.recurrent:
            count = 3 if layer.cell.use_bias else 2
            for name, value in from_keras_weights(self.kind, grads[position:position + count]).items():
                lab["d" + prefix + name] = value
            position += count
        lab["dWy"] = grads[position].T.copy()
        if self.head.use_bias:
            lab["dby"] = grads[position + 1][:, None].copy()
        return lab


def build_model(kind: str, params: dict, T_x: int | None, head: str = "seq2one",
                output: str = "identity", dtype: str = "float64", activation: str = "tanh",
                wrapper: str | None = None):
    """A Keras model computing what our model computes: recurrent layer(s) + Dense head.

    Input (batch, T_x, n_x); output (batch, n_y) for seq2one, (batch, T_x, n_y) for
    seq2seq. `T_x=None` accepts any sequence length. Initial states are zero, as in our
    `loss_and_grads`. Weights come from `params` (lab layout). `activation` is the rnn's
    a_h; `wrapper="stacked"` / `"bidirectional"` takes cells.deep's flat dicts
    ("l1.Wf", ... / "fw.Wh", "bw.Wh", ...) and builds stacked layers / a Bidirectional
    layer with merge_mode="concat" (seq2one reads [h_fw⟨T⟩; h_bw⟨1⟩], as cells.deep does).
    """
    _check_model_options(kind, activation, wrapper, "build_model")
    _check_head(head, output, "build_model")
    return KerasTwin(kind, params, T_x, head, output, dtype, activation, wrapper).model


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
# (shape, T, m) combinations, so twins are reused per structure (T_x=None accepts any T).
# The cache is per process and holds a few dozen small models at most.
_TWINS: dict = {}


def _twin(kind, params, head, output, activation, wrapper) -> KerasTwin:
    shapes = tuple(sorted((name, np.shape(value)) for name, value in params.items()))
    key = (kind, head, output, activation, wrapper, shapes)
    twin = _TWINS.get(key)
    if twin is None:
        twin = _TWINS[key] = KerasTwin(kind, params, None, head, output, "float64", activation, wrapper)
    else:
        twin.set_params(params)
    return twin


def tf_predict(kind: str, params: dict, X: np.ndarray, head: str = "seq2one",
               output: str = "identity", activation: str = "tanh", wrapper: str | None = None) -> np.ndarray:
    """The Keras model's output for our X (n_x, m, T_x), in our layout, float64."""
    _check_model_options(kind, activation, wrapper, "tf_predict")
    _check_head(head, output, "tf_predict")
    twin = _twin(kind, params, head, output, activation, wrapper)
    return from_keras_outputs(twin.model(to_keras_inputs(np.asarray(X, dtype=np.float64))).numpy())


def tf_loss_and_grads(kind: str, params: dict, X: np.ndarray, Y: np.ndarray,
                      head: str = "seq2one", output: str = "identity", activation: str = "tanh",
                      wrapper: str | None = None) -> tuple[float, dict]:
    """Our loss and its gradients computed by TensorFlow (tf.GradientTape, float64).

    X (n_x, m, T_x), Y (n_y, m) for seq2one or (n_y, m, T_x) for seq2seq (one-hot for
    softmax). Returns `(loss, grads)` with grads keyed `d<name>` in the lab's layout,
    exactly like our `loss_and_grads` (and cells.deep's for a wrapper), so the two can be
    compared key by key.
    """
    _check_model_options(kind, activation, wrapper, "tf_loss_and_grads")
    _check_head(head, output, "tf_loss_and_grads")
    tf, _ = _import_tf()
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    if X.ndim != 3:
        raise ValueError(f"tf_loss_and_grads: X must be (n_x, m, T_x), got shape {X.shape}")
    n_x, m, T_x = X.shape
    expected_y = {"seq2one": 2, "seq2seq": 3}[head]
    if Y.ndim != expected_y or Y.shape[1] != m or (head == "seq2seq" and Y.shape[2] != T_x):
        raise ValueError(
            f"tf_loss_and_grads: for head={head!r} with X of shape {X.shape} (n_x, m, T_x), Y must be "
            + ("(n_y, m)" if head == "seq2one" else "(n_y, m, T_x)") + f"; got {Y.shape}"
        )
    twin = _twin(kind, params, head, output, activation, wrapper)
    variables = twin.variables()
    inputs = tf.constant(to_keras_inputs(X))
    targets = tf.constant(to_keras_targets(Y))
    n_terms = m * (T_x if head == "seq2seq" else 1)  # batch (and time) the loss averages over
    with tf.GradientTape() as tape:
        y_hat = twin.model(inputs)                                # (m, n_y) or (m, T, n_y)
        if output == "softmax":
            # mean cross-entropy over batch (and time)
            loss = -tf.reduce_sum(targets * tf.math.log(y_hat)) / n_terms
        else:
            # (5-1): 1/(2m) Σ (ŷ - y)², and 1/(2mT) for seq2seq
            loss = tf.reduce_sum(tf.square(y_hat - targets)) / (2 * n_terms)
    grads = tape.gradient(loss, variables)
    return float(loss.numpy()), twin.grads_to_lab([g.numpy() for g in grads])
