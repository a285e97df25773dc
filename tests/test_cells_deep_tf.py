"""cells.deep against TensorFlow: stacked Keras layers and keras.layers.Bidirectional
(merge_mode="concat") compute the same outputs and gradients as our hand BPTT, to
relative error ≤ 1e-9 in float64. This also pins the bidirectional seq2one convention:
Keras's Bidirectional(return_sequences=False) concatenates [h_fw⟨T⟩; h_bw⟨1⟩]."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow", reason="TensorFlow is the optional .[tf] extra; CI installs it")
keras = pytest.importorskip("keras", reason="Keras 3 comes with TensorFlow (.[tf] extra)")

import tinytape as tt  # noqa: E402
from cells import deep  # noqa: E402
from cells import keras as lab_keras  # noqa: E402

pytestmark = pytest.mark.tf
_ACTIVATION = {"identity": "linear", "tanh": "tanh", "softmax": "softmax"}


def _layer(kind, n_h, return_sequences, go_backwards=False):
    """A Keras recurrent layer computing our `kind` cell (cells.keras's conventions)."""
    common = dict(units=n_h, activation="tanh", return_sequences=return_sequences,
                  go_backwards=go_backwards, dtype="float64")
    if kind == "rnn":
        return keras.layers.SimpleRNN(**common)
    if kind == "lstm":
        return keras.layers.LSTM(recurrent_activation="sigmoid", **common)
    return keras.layers.GRU(recurrent_activation="sigmoid", reset_after=(kind == "gru_keras"), **common)


def _unprefix(params, prefix):
    return {k[len(prefix) + 1:]: v for k, v in params.items() if k.startswith(prefix + ".")}


def _keras_stacked(kind, params, n_x, head, output):
    """Sequential stack: every layer but the top returns sequences (seed 004 §5)."""
    depth = deep.stacked_depth(params)
    n_h, n_y = params["Wy"].shape[1], params["Wy"].shape[0]
    inputs = keras.Input(shape=(None, n_x), dtype="float64")
    h, recurrent = inputs, []
    for layer in range(1, depth + 1):
        rnn = _layer(kind, n_h, return_sequences=(layer < depth or head == "seq2seq"))
        h = rnn(h)
        recurrent.append((rnn, f"l{layer}"))
    dense = keras.layers.Dense(n_y, activation=_ACTIVATION[output], dtype="float64")
    model = keras.Model(inputs, dense(h))
    for rnn, prefix in recurrent:
        rnn.set_weights(lab_keras.to_keras_weights(kind, _unprefix(params, prefix)))
    dense.set_weights(lab_keras.dense_weights(params))
    return model, recurrent, dense


def _keras_bidirectional(kind, params, n_x, head, output):
    n_h, n_y = params["Wy"].shape[1] // 2, params["Wy"].shape[0]
    inputs = keras.Input(shape=(None, n_x), dtype="float64")
    seq = head == "seq2seq"
    bi = keras.layers.Bidirectional(
        _layer(kind, n_h, seq),
        backward_layer=_layer(kind, n_h, seq, go_backwards=True),
        merge_mode="concat",  # [h_fw; h_bw], as seed 004 §3.4
        dtype="float64",  # the wrapper casts its inputs to its own dtype (float32 by default)
    )
    dense = keras.layers.Dense(n_y, activation=_ACTIVATION[output], dtype="float64")
    model = keras.Model(inputs, dense(bi(inputs)))
    recurrent = [(bi.forward_layer, "fw"), (bi.backward_layer, "bw")]
    for rnn, prefix in recurrent:
        rnn.set_weights(lab_keras.to_keras_weights(kind, _unprefix(params, prefix)))
    dense.set_weights(lab_keras.dense_weights(params))
    return model, recurrent, dense


def _tf_loss_and_grads(kind, build, params, X, Y, head, output):
    """Our loss (CONVENTIONS) on the Keras model's output, and its gradients converted
    back to the lab's layout with cells.keras.from_keras_weights."""
    model, recurrent, dense = build(kind, params, X.shape[0], head, output)
    variables = [[r.cell.kernel, r.cell.recurrent_kernel, r.cell.bias] for r, _ in recurrent]
    count = X.shape[1] * (X.shape[2] if head == "seq2seq" else 1)
    with tf.GradientTape() as tape:
        y_hat = model(tf.constant(lab_keras.to_keras_inputs(X)))
        targets = tf.constant(lab_keras.to_keras_targets(Y))
        if output == "softmax":
            loss = -tf.reduce_sum(targets * tf.math.log(y_hat)) / count
        else:
            loss = tf.reduce_sum(tf.square(y_hat - targets)) / (2 * count)
    flat = [v for vs in variables for v in vs] + [dense.kernel, dense.bias]
    g = [x.numpy() for x in tape.gradient(loss, flat)]
    grads = {}
    for i, (_, prefix) in enumerate(recurrent):
        lab = lab_keras.from_keras_weights(kind, g[3 * i: 3 * i + 3])
        grads.update({f"d{prefix}.{k}": v for k, v in lab.items() if k not in ("Wy", "by")})
    grads["dWy"], grads["dby"] = g[-2].T, g[-1][:, None]
    return float(loss.numpy()), lab_keras.from_keras_outputs(y_hat.numpy()), grads


def _problem(params, n_x, m, T, head, output, seed):
    rng = np.random.default_rng(seed)
    params = {k: v + (0.3 * rng.standard_normal(v.shape) if k.rsplit(".", 1)[-1][0] == "b" else 0)
              for k, v in params.items()}
    X = rng.standard_normal((n_x, m, T))
    n_y = params["Wy"].shape[0]
    shape = (m,) if head == "seq2one" else (m, T)
    if output == "softmax":
        Y = np.moveaxis(np.eye(n_y)[rng.integers(0, n_y, size=shape)], -1, 0)
    else:
        Y = rng.uniform(-0.9, 0.9, size=(n_y,) + shape)
    return params, X, Y


@pytest.mark.parametrize("head, output", [("seq2one", "identity"), ("seq2seq", "softmax")])
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_stacked_agrees_with_keras(kind, head, output):
    n_y = 3 if output == "softmax" else 2
    params = deep.stacked_init(kind, 2, 3, n_y, depth=3, seed=1)
    params, X, Y = _problem(params, 2, 4, 5, head, output, seed=2)
    loss, grads = deep.stacked_loss_and_grads(kind, params, X, Y, "bptt", head, output)
    tf_loss, tf_y, tf_grads = _tf_loss_and_grads(kind, _keras_stacked, params, X, Y, head, output)
    np.testing.assert_allclose(deep.stacked_predict(kind, params, X, head, output), tf_y, rtol=1e-10)
    assert loss == pytest.approx(tf_loss, rel=1e-10)
    report = tt.check.compare(grads, tf_grads, labels=("hand BPTT", "TensorFlow"), rtol=1e-9)
    assert report.ok, str(report)


@pytest.mark.parametrize("head, output", [("seq2one", "tanh"), ("seq2seq", "identity")])
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru_keras"])
def test_bidirectional_agrees_with_keras(kind, head, output):
    params = deep.bidirectional_init(kind, 2, 3, 2, seed=3)
    params, X, Y = _problem(params, 2, 3, 4, head, output, seed=4)
    loss, grads = deep.bidirectional_loss_and_grads(kind, params, X, Y, "bptt", head, output)
    tf_loss, tf_y, tf_grads = _tf_loss_and_grads(kind, _keras_bidirectional, params, X, Y, head, output)
    np.testing.assert_allclose(deep.bidirectional_predict(kind, params, X, head, output), tf_y, rtol=1e-10)
    assert loss == pytest.approx(tf_loss, rel=1e-10)
    report = tt.check.compare(grads, tf_grads, labels=("hand BPTT", "TensorFlow"), rtol=1e-9)
    assert report.ok, str(report)
