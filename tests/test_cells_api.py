"""The shared API of the cell modules: initialisation, shapes, float32, the tape's
names and scopes, and the error messages for wrong input."""

import numpy as np
import pytest

import cells
from cells import record

KINDS = list(cells.KINDS)
EXPECTED_KEYS = {
    "rnn": ["Wh", "Wx", "bh", "Wy", "by"],
    "lstm": ["Wf", "bf", "Wu", "bu", "Wc", "bc", "Wo", "bo", "Wy", "by"],
    "peephole": ["Wf", "bf", "pf", "Wu", "bu", "pu", "Wc", "bc", "Wo", "bo", "po", "Wy", "by"],
    "gru": ["Wu", "bu", "Wr", "br", "Wh", "bh", "Wy", "by"],
    "gru_keras": ["kernel", "recurrent_kernel", "bias", "Wy", "by"],
}


def test_kinds_and_get():
    assert set(cells.KINDS) == set(EXPECTED_KEYS)
    assert cells.get("lstm") is cells.lstm
    with pytest.raises(ValueError, match="rnn, lstm, peephole, gru, gru_keras"):
        cells.get("transformer")


@pytest.mark.parametrize("kind", KINDS)
def test_init_params_keys_shapes_and_determinism(kind):
    module = cells.get(kind)
    n_x, n_h, n_y = 3, 5, 2
    params = module.init_params(n_x, n_h, n_y, seed=7)
    assert list(params) == EXPECTED_KEYS[kind]
    shapes = module.param_shapes(n_x, n_h, n_y)
    assert {k: v.shape for k, v in params.items()} == {k: shapes[k] for k in params}
    assert all(v.dtype == np.float64 and v.flags.c_contiguous for v in params.values())
    for key, value in params.items():
        if key.startswith("b") or key == "bias":
            assert not value.any(), f"{key}: biases start at zero"
    again = module.init_params(n_x, n_h, n_y, seed=7)
    other = module.init_params(n_x, n_h, n_y, seed=8)
    assert all(np.array_equal(params[k], again[k]) for k in params)
    assert not np.array_equal(params["Wy"], other["Wy"])
    assert module.sizes(params) == (n_x, n_h, n_y)


def recurrent_blocks(kind, params, n_h):
    if kind == "rnn":
        return [params["Wh"]]
    if kind == "gru_keras":
        R = params["recurrent_kernel"]
        return [R[:, i * n_h : (i + 1) * n_h] for i in range(3)]
    return [params["W" + g][:, :n_h] for g in cells.get(kind).GATES]


@pytest.mark.parametrize("kind", KINDS)
def test_orthogonal_scheme_makes_recurrent_blocks_orthogonal(kind):
    n_h = 6
    params = cells.get(kind).init_params(2, n_h, 1, scheme="orthogonal", seed=1)
    for block in recurrent_blocks(kind, params, n_h):
        np.testing.assert_allclose(block.T @ block, np.eye(n_h), atol=1e-12)
    glorot = cells.get(kind).init_params(2, n_h, 1, scheme="glorot_normal", seed=1)
    block = recurrent_blocks(kind, glorot, n_h)[0]
    assert not np.allclose(block.T @ block, np.eye(n_h), atol=1e-2)


def test_glorot_and_he_variances():
    """Large draws: the sample std is the scheme's formula to a few percent."""
    n_x, n_h = 40, 300
    W_glorot = cells.lstm.init_params(n_x, n_h, 1, scheme="glorot_normal")["Wf"]
    W_he = cells.lstm.init_params(n_x, n_h, 1, scheme="he_normal")["Wf"]
    fan_in, fan_out = n_h + n_x, n_h
    assert W_glorot.std() == pytest.approx(np.sqrt(2 / (fan_in + fan_out)), rel=0.03)
    assert W_he.std() == pytest.approx(np.sqrt(2 / fan_in), rel=0.03)


@pytest.mark.parametrize("kind", KINDS)
def test_unknown_scheme_lists_the_choices(kind):
    with pytest.raises(ValueError, match="glorot_normal, he_normal, orthogonal"):
        cells.get(kind).init_params(1, 2, 1, scheme="xavier")


@pytest.mark.parametrize("kind", KINDS)
def test_forward_and_predict_shapes(kind):
    module = cells.get(kind)
    n_x, n_h, n_y, m, T = 2, 3, 4, 5, 6
    params = module.init_params(n_x, n_h, n_y)
    X = np.random.default_rng(0).standard_normal((n_x, m, T))
    out = module.forward(X, None, params)
    assert out[0].shape == (n_h, m, T)
    assert len(out[-1]) == T
    if module.STATE == ("h", "c"):
        assert out[1].shape == (n_h, m, T)
    assert module.predict(params, X).shape == (n_y, m)
    assert module.predict(params, X, head="seq2seq").shape == (n_y, m, T)
    probs = module.predict(params, X, head="seq2seq", output="softmax")
    np.testing.assert_allclose(probs.sum(axis=0), 1.0, rtol=1e-12)
    grads = module.backward(np.ones((n_h, m, T)), out[-1])
    assert grads["dx"].shape == (n_x, m, T) and grads["dh0"].shape == (n_h, m)


@pytest.mark.parametrize("method", ["bptt", "tape"])
@pytest.mark.parametrize("kind", KINDS)
def test_float32_runs_in_float32_and_tracks_float64(kind, method):
    module = cells.get(kind)
    rng = np.random.default_rng(1)
    p64 = module.init_params(2, 6, 1, seed=2)
    p32 = module.init_params(2, 6, 1, seed=2, dtype=np.float32)
    assert all(v.dtype == np.float32 for v in p32.values())
    X = rng.standard_normal((2, 4, 7))
    Y = rng.standard_normal((1, 4, 7))
    loss64, g64 = module.loss_and_grads(p64, X, Y, method=method, head="seq2seq", output="tanh")
    loss32, g32 = module.loss_and_grads(p32, X, Y, method=method, head="seq2seq", output="tanh")
    assert all(g.dtype == np.float32 for g in g32.values())
    assert loss32 == pytest.approx(loss64, rel=1e-5)
    for key in g64:
        scale = np.abs(g64[key]).max()
        assert np.abs(g32[key] - g64[key]).max() <= 1e-4 * scale + 1e-7, key


@pytest.mark.parametrize("kind", KINDS)
def test_record_names_scopes_and_loss(kind):
    module = cells.get(kind)
    params = module.init_params(2, 3, 1, seed=0)
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((2, 4, 3)), rng.standard_normal((1, 4))
    tape, loss, tensors = record.record(kind, params, X, Y)
    assert set(tensors) == set(params)
    assert all(tensors[k].name == k for k in params)
    names = set(tape.names.values())
    expected = {"x<1>", "x<2>", "x<3>", "h<0>", "h<1>", "h<2>", "h<3>", "y_hat", "loss"} | set(params)
    if module.STATE == ("h", "c"):
        expected |= {"c<0>", "c<1>", "c<2>", "c<3>"}
    assert expected <= names, expected - names
    scopes = [r.scope for r in tape.records]
    in_order = list(dict.fromkeys(scopes))  # distinct scopes by first appearance
    assert in_order == [f"{kind}/t=1", f"{kind}/t=2", f"{kind}/t=3", "head"]
    assert scopes == sorted(scopes, key=in_order.index)  # each scope one contiguous block
    hand_loss, _ = module.loss_and_grads(params, X, Y)
    assert float(np.asarray(loss)) == pytest.approx(hand_loss, rel=1e-13)
    g1 = tape.gradient(loss, tensors)
    g2 = tape.gradient(loss, tensors)  # persistent by default
    assert all(np.array_equal(g1[k], g2[k]) for k in params)


def test_record_lstm_gate_names():
    params = cells.lstm.init_params(1, 2, 1)
    tape, _, _ = record.record("lstm", params, np.ones((1, 1, 2)), np.ones((1, 1)))
    assert {"Γf<1>", "Γu<1>", "c̃<1>", "Γo<1>", "Γf<2>", "h<0>", "c<0>"} <= set(tape.names.values())
    first_step = [r for r in tape.records if r.scope == "lstm/t=1"]
    assert first_step[0].op.name == "concatenate"  # [h<0>; x<1>] is on the tape too


# ------------------------------------------------------------------------------ errors
@pytest.fixture
def lstm_problem():
    params = cells.lstm.init_params(2, 3, 1)
    rng = np.random.default_rng(0)
    return params, rng.standard_normal((2, 4, 5)), rng.standard_normal((1, 4))


def message(excinfo):
    return str(excinfo.value)


def test_error_x_wrong_features(lstm_problem):
    params, X, Y = lstm_problem
    with pytest.raises(ValueError) as e:
        cells.lstm.loss_and_grads(params, X[:1], Y)
    assert "lstm.loss_and_grads" in message(e) and "(1, 4, 5)" in message(e) and "n_x = 2" in message(e)


def test_error_x_in_keras_layout(lstm_problem):
    params, X, Y = lstm_problem
    with pytest.raises(ValueError, match=r"transpose\(2, 0, 1\)"):
        cells.lstm.predict(params, X.transpose(1, 2, 0))


def test_error_x_two_dimensional(lstm_problem):
    params, X, _ = lstm_problem
    with pytest.raises(ValueError, match=r"lstm.forward: X has shape \(2, 4\)"):
        cells.lstm.forward(X[:, :, 0], None, params)


def test_error_y_shape_and_head_hint(lstm_problem):
    params, X, _ = lstm_problem
    with pytest.raises(ValueError) as e:
        cells.lstm.loss_and_grads(params, X, np.zeros((1, 4, 5)))
    assert "head='seq2seq'" in message(e) and "(1, 4)" in message(e)
    with pytest.raises(ValueError, match="head='seq2one'"):
        cells.lstm.loss_and_grads(params, X, np.zeros((1, 4)), head="seq2seq")
    with pytest.raises(ValueError, match=r"Y.T"):
        cells.lstm.loss_and_grads(params, X, np.zeros((4, 1)))


def test_error_unknown_method_head_output(lstm_problem):
    params, X, Y = lstm_problem
    with pytest.raises(ValueError, match="'bptt', 'tape'"):
        cells.lstm.loss_and_grads(params, X, Y, method="autograd")
    with pytest.raises(ValueError, match="'seq2one', 'seq2seq'"):
        cells.lstm.loss_and_grads(params, X, Y, head="many2many")
    with pytest.raises(ValueError, match="'identity', 'tanh', 'softmax'"):
        cells.lstm.predict(params, X, output="sigmoid")


def test_error_softmax_needs_distributions(lstm_problem):
    params = cells.lstm.init_params(2, 3, 3)
    X = lstm_problem[1]
    with pytest.raises(ValueError, match="one-hot"):
        cells.lstm.loss_and_grads(params, X, np.full((3, 4), 0.5), output="softmax")


def test_error_parameter_shape_that_would_broadcast(lstm_problem):
    params, X, Y = lstm_problem
    bad = dict(params, bf=params["bf"].ravel())  # (3,) instead of (3, 1)
    with pytest.raises(ValueError) as e:
        cells.lstm.loss_and_grads(bad, X, Y)
    assert "bf (3,) (expected (3, 1))" in message(e)
    with pytest.raises(ValueError, match="missing \\['bo'\\]"):
        cells.lstm.forward(X, None, {k: v for k, v in params.items() if k != "bo"})


def test_error_options(lstm_problem):
    params, X, Y = lstm_problem
    with pytest.raises(ValueError, match="unexpected option"):
        record.record("lstm", params, X, Y, activation="relu")
    rnn_params = cells.rnn.init_params(2, 3, 1)
    with pytest.raises(ValueError, match="tanh, relu, identity"):
        cells.rnn.loss_and_grads(rnn_params, X, Y, activation="sigmoid")


def test_error_h0_shape(lstm_problem):
    params, X, _ = lstm_problem
    with pytest.raises(ValueError, match=r"h0 has shape \(3, 5\); expected \(n_h, m\) = \(3, 4\)"):
        cells.lstm.forward(X, np.zeros((3, 5)), params)


def test_error_sizes():
    with pytest.raises(ValueError, match="n_h must be a positive integer"):
        cells.gru.init_params(1, 0, 1)


def test_error_cell_forward_shapes():
    params = cells.lstm.init_params(2, 3, 1)
    xt, h, c = np.zeros((2, 4)), np.zeros((3, 4)), np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"lstm.cell_forward: xt has shape \(4, 2\).*pass xt.T"):
        cells.lstm.cell_forward(xt.T, h, c, params)
    with pytest.raises(ValueError, match=r"c_prev has shape \(3, 5\); expected \(n_h, m\) = \(3, 4\)"):
        cells.lstm.cell_forward(xt, h, np.zeros((3, 5)), params)
    with pytest.raises(ValueError, match=r"gru.cell_forward: h_prev has shape \(4, 4\)"):
        cells.gru.cell_forward(xt, np.zeros((4, 4)), cells.gru.init_params(2, 3, 1))
