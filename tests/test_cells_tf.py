"""Our cells against TensorFlow/Keras in float64: weights, outputs, every gradient.

rnn <-> SimpleRNN, lstm <-> LSTM, gru <-> GRU(reset_after=False),
gru_keras <-> GRU(reset_after=True); and the variants of the agreement matrix: the rnn
with relu and the bias-free identity rnn, a stacked LSTM, a bidirectional RNN
(cells.deep). Keras models are cached per structure inside cells.keras, so the many
(shape, m, T) cases below build few models.
"""
import importlib

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow", reason="TensorFlow not installed: pip install tinytape[tf]")
pytestmark = pytest.mark.tf

from cells import agreement  # noqa: E402
from cells import keras as cells_keras  # noqa: E402
from tinytape import check  # noqa: E402

KINDS = ("rnn", "lstm", "gru", "gru_keras")
WITH_PARTNER = tuple(name for name in agreement.ALL if agreement.MODELS[name].tf_partner)
HEADS = ("seq2one", "seq2seq")
OUTPUTS = ("identity", "tanh", "softmax")
# (n_x, n_h, n_y, m, T): general, a single step, a single sequence, and n_x = n_y = 1
# (the thesis's shape class) where softmax is meaningless and skipped.
SHAPES = ((3, 4, 2, 3, 5), (3, 4, 2, 2, 1), (3, 4, 2, 1, 4), (1, 5, 1, 4, 3))

OUTPUT_TOLERANCE = 1e-12
GRADIENT_TOLERANCE = 1e-9


def assert_agree(a: dict, b: dict, labels: tuple, tolerance: float, case: str) -> None:
    """Every array's normwise relative error ≤ tolerance, else compare's table."""
    report = check.compare(a, b, labels=labels, rtol=tolerance, atol=0.0)
    assert report.ok, f"{case}:\n{report}"


def cell(kind):
    return importlib.import_module(f"cells.{kind}")


@pytest.mark.parametrize("kind", KINDS)
def test_weights_round_trip_and_match_keras_layer_shapes(kind):
    params, _, _ = agreement.make_problem(kind, (3, 4, 2, 2, 3), "seq2one", "identity", seed=1)
    weights = cells_keras.to_keras_weights(kind, params)
    back = cells_keras.from_keras_weights(kind, weights, Wy=params["Wy"], by=params["by"])
    assert sorted(back) == sorted(params)
    for name in params:
        np.testing.assert_array_equal(back[name], params[name], err_msg=f"{kind} {name}")
    # The layout is Keras's own: a model built from our weights hands back the same arrays,
    # and its five arrays (layer + Dense head) convert back to our parameters.
    model = cells_keras.build_model(kind, params, T_x=3)
    keras_weights = model.get_weights()
    assert [w.shape for w in keras_weights[:3]] == [w.shape for w in weights]
    back_from_model = cells_keras.from_keras_weights(kind, keras_weights)
    for name in params:
        np.testing.assert_array_equal(back_from_model[name], params[name], err_msg=f"{kind} {name}")


def test_bias_free_rnn_round_trips_through_two_arrays():
    params, _, _ = agreement.make_problem("rnn-linear", (3, 4, 2, 2, 3), "seq2one", "identity", seed=1)
    assert "bh" not in params and "by" not in params
    weights = cells_keras.to_keras_weights("rnn", params)
    assert len(weights) == 2
    back = cells_keras.from_keras_weights("rnn", weights, Wy=params["Wy"])
    assert sorted(back) == sorted(params)
    for name in params:
        np.testing.assert_array_equal(back[name], params[name])


@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("name", WITH_PARTNER)
def test_outputs_and_every_gradient_agree_with_tensorflow(name, head):
    model = agreement.MODELS[name]
    for index, shape in enumerate(SHAPES):
        for output in OUTPUTS:
            if output == "softmax" and shape[2] < 2:
                continue
            case = f"{name} {head} {output} (n_x,n_h,n_y,m,T)={shape}"
            params, X, Y = agreement.make_problem(name, shape, head, output, seed=10 + index)
            ours = model.predict(params, X, head, output)
            theirs = model.tf_predict(params, X, head, output)
            assert theirs.shape == ours.shape, case
            assert_agree({"y_hat": ours}, {"y_hat": theirs}, ("ours", "Keras"), OUTPUT_TOLERANCE, case)
            loss_hand, grads_hand = model.loss_and_grads(params, X, Y, "bptt", head, output)
            loss_tf, grads_tf = model.tf_loss_and_grads(params, X, Y, head, output)
            assert sorted(grads_tf) == sorted("d" + key for key in params), case
            assert_agree({"loss": np.asarray(loss_hand), **grads_hand}, {"loss": np.asarray(loss_tf), **grads_tf},
                         ("hand BPTT", "TensorFlow"), GRADIENT_TOLERANCE, case)


@pytest.mark.parametrize("name", ("lstm", "gru"))
def test_thesis_sized_model_agrees_with_tensorflow(name):
    # The thesis's model (n_x 1, n_h 78, T 12, batch 64, tanh output): sums over 64 × 12
    # terms per weight gradient still agree to 1e-9.
    model = agreement.MODELS[name]
    params, X, Y = agreement.make_problem(name, (1, 78, 1, 64, 12), "seq2one", "tanh", seed=5)
    loss_hand, grads_hand = model.loss_and_grads(params, X, Y, "bptt", "seq2one", "tanh")
    loss_tf, grads_tf = model.tf_loss_and_grads(params, X, Y, "seq2one", "tanh")
    assert_agree({"loss": np.asarray(loss_hand), **grads_hand}, {"loss": np.asarray(loss_tf), **grads_tf},
                 ("hand BPTT", "TensorFlow"), GRADIENT_TOLERANCE, f"{name} thesis size")


def test_model_cache_uses_the_new_weights():
    # Two parameter sets with one structure share a cached model: the second call must
    # see its own weights, not the first's.
    p1, X, Y = agreement.make_problem("lstm", (2, 3, 1, 2, 3), "seq2one", "identity", seed=1)
    p2, _, _ = agreement.make_problem("lstm", (2, 3, 1, 2, 3), "seq2one", "identity", seed=2)
    loss1, _ = cells_keras.tf_loss_and_grads("lstm", p1, X, Y)
    loss2, _ = cells_keras.tf_loss_and_grads("lstm", p2, X, Y)
    assert loss1 != loss2
    assert loss2 == pytest.approx(cell("lstm").loss_and_grads(p2, X, Y)[0], rel=1e-12)


def test_gru_conventions_are_different_models():
    # The lab GRU and the Keras GRU are not the same function: feeding the lab's
    # parameters through the reset_after=True layout must not reproduce the lab output.
    params, X, _ = agreement.make_problem("gru", (2, 3, 1, 2, 4), "seq2one", "identity", seed=3)
    lab = cell("gru").predict(params, X, "seq2one", "identity")
    weights = cells_keras.to_keras_weights("gru", params)
    as_keras = {"kernel": weights[0], "recurrent_kernel": weights[1],
                "bias": np.stack([weights[2], np.zeros_like(weights[2])]), "Wy": params["Wy"], "by": params["by"]}
    other = cells_keras.tf_predict("gru_keras", as_keras, X)
    assert np.max(np.abs(lab - other)) > 1e-6


def test_float32_model_runs():
    params, X, _ = agreement.make_problem("lstm", (2, 3, 1, 2, 4), "seq2one", "identity", seed=4)
    model = cells_keras.build_model("lstm", params, T_x=4, dtype="float32")
    y32 = model(cells_keras.to_keras_inputs(X.astype(np.float32))).numpy()
    assert y32.dtype == np.float32
    np.testing.assert_allclose(cells_keras.from_keras_outputs(y32), cell("lstm").predict(params, X), rtol=1e-5,
                               atol=1e-6)


def test_bad_inputs_name_the_problem():
    params, X, Y = agreement.make_problem("gru", (2, 3, 1, 2, 4), "seq2one", "identity", seed=0)
    with pytest.raises(ValueError, match="peephole"):
        cells_keras.to_keras_weights("peephole", {})
    with pytest.raises(KeyError, match="Wf"):
        cells_keras.to_keras_weights("lstm", params)
    with pytest.raises(ValueError, match="gru_keras"):
        cells_keras.from_keras_weights("gru", [np.zeros((2, 9)), np.zeros((3, 9)), np.zeros((2, 9))])
    with pytest.raises(ValueError, match=r"\(n_y, m\)"):
        cells_keras.tf_loss_and_grads("gru", params, X, Y[:, :1])
    with pytest.raises(ValueError, match="head"):
        cells_keras.build_model("gru", params, 4, head="seq2many")
    with pytest.raises(ValueError, match="rnn cell only"):
        cells_keras.build_model("gru", params, 4, activation="relu")
    with pytest.raises(ValueError, match="l1"):
        cells_keras.build_model("gru", params, 4, wrapper="stacked")


def test_tensorflow_column_catches_a_wrong_hand_gradient(monkeypatch):
    module = importlib.import_module("cells.lstm")
    original = module.backward

    def wrong_backward(*args, **kwargs):
        grads = dict(original(*args, **kwargs))
        grads["dbo"] = grads["dbo"] * (1 + 1e-7)
        return grads

    monkeypatch.setattr(module, "backward", wrong_backward)
    (row,) = agreement.agreement_matrix(kinds=("lstm",), heads=("seq2one",), include_tf=True, fast=True)
    assert row.entries["hand vs TF"].status == "FAIL"
    assert row.entries["hand vs TF"].note.startswith("dbo")


def test_agreement_matrix_with_tensorflow_passes():
    rows = agreement.agreement_matrix(kinds=("rnn", "gru_keras", "peephole", "rnn-bidir"),
                                      include_tf=True, fast=True)
    table = agreement.format_matrix(rows)
    assert agreement.all_pass(rows), table
    for row in rows:
        expected = "n/a" if row.kind == "peephole" else "pass"
        assert row.entries["hand vs TF"].status == expected, table
