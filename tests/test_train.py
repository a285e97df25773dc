"""cells.train: Adam (5-2), clipping, truncated BPTT, fit and predict.

Adam against Keras's own optimiser lives in tests/test_train_tf.py (TensorFlow optional).
"""
import numpy as np
import pytest

from cells import train
from cells.data import create_sequences, to_lab_shapes
from cells.train import Adam, clip_by_global_norm, clip_by_value, fit, global_norm


def _sine_problem(m=40, T=6, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(m + T + 1) * 0.4
    series = np.sin(t) + 0.05 * rng.standard_normal(t.size)
    return to_lab_shapes(*create_sequences(series, T, 1))   # X (1, m', T), Y (1, m')


# ---------------------------------------------------------------- Adam

def test_adam_first_step_is_lr_times_sign_of_the_gradient():
    # t = 1: v^ = g, s^ = g², so (5-2) moves each weight by lr * g / (|g| + eps)
    g = np.array([[3.0, -0.5], [1e-3, 0.0]])
    theta = np.ones((2, 2))
    new = Adam(lr=0.01, eps=1e-8).step({"W": theta}, {"dW": g})["W"]
    np.testing.assert_allclose(new, theta - 0.01 * g / (np.abs(g) + 1e-8), rtol=0, atol=1e-16)


def test_adam_second_step_by_hand():
    b1, b2, lr, eps = 0.9, 0.999, 0.1, 1e-8
    g1, g2 = 2.0, -1.0
    v = (1 - b1) * g2 + b1 * (1 - b1) * g1
    s = (1 - b2) * g2 ** 2 + b2 * (1 - b2) * g1 ** 2
    expected = 1.0 - lr * g1 / (abs(g1) + eps)
    expected -= lr * (v / (1 - b1 ** 2)) / (np.sqrt(s / (1 - b2 ** 2)) + eps)
    opt = Adam(lr, b1, b2, eps)
    p = {"w": np.array([1.0])}
    p = opt.step(p, {"dw": np.array([g1])})
    p = opt.step(p, {"dw": np.array([g2])})
    np.testing.assert_allclose(p["w"], [expected], rtol=1e-15)


def test_adam_keras_placement_equals_thesis_when_eps_is_zero_and_differs_otherwise():
    rng = np.random.default_rng(0)
    grads = [{"dW": rng.standard_normal((3, 2)) * 1e-4} for _ in range(5)]
    results = {}
    for placement, eps in [("thesis", 0.0), ("keras", 0.0), ("thesis", 1e-5), ("keras", 1e-5)]:
        # betas exact in float32: Keras's placement also rounds them to float32 (cells.train.Adam)
        opt = Adam(1e-3, beta1=0.875, beta2=1 - 2.0 ** -10, eps=eps, epsilon_placement=placement)
        p = {"W": np.zeros((3, 2))}
        for g in grads:
            p = opt.step(p, g)
        results[placement, eps] = p["W"]
    np.testing.assert_allclose(results["thesis", 0.0], results["keras", 0.0], rtol=1e-13)
    assert np.max(np.abs(results["thesis", 1e-5] - results["keras", 1e-5])) > 1e-6


def test_adam_rejects_missing_or_misshapen_gradients():
    with pytest.raises(KeyError, match="dW"):
        Adam().step({"W": np.zeros(2)}, {"W": np.zeros(2)})
    with pytest.raises(ValueError, match="shape"):
        Adam().step({"W": np.zeros(2)}, {"dW": np.zeros(3)})


# ---------------------------------------------------------------- clipping

def test_clip_by_value_and_global_norm():
    grads = {"dA": np.array([3.0, -4.0]), "dB": np.array([[12.0]])}      # norm 13
    assert global_norm(grads) == pytest.approx(13.0)
    by_value = clip_by_value(grads, 5.0)
    np.testing.assert_array_equal(by_value["dA"], [3.0, -4.0])
    np.testing.assert_array_equal(by_value["dB"], [[5.0]])
    clipped, before = clip_by_global_norm(grads, 6.5)
    assert before == pytest.approx(13.0) and global_norm(clipped) == pytest.approx(6.5)
    np.testing.assert_allclose(clipped["dA"], [1.5, -2.0])                # same direction, half length
    untouched, _ = clip_by_global_norm(grads, 20.0)
    np.testing.assert_array_equal(untouched["dB"], grads["dB"])


@pytest.mark.parametrize("rule", [("norm", 0.05), ("value", 0.01)])
def test_fit_clips_what_reaches_the_optimiser(monkeypatch, rule):
    X, Y = _sine_problem(m=20)
    seen = []
    original = Adam.step

    def spy(self, params, grads):
        seen.append({k: g.copy() for k, g in grads.items()})
        return original(self, params, grads)

    monkeypatch.setattr(Adam, "step", spy)
    _, history = fit("rnn", X, Y, n_h=5, epochs=2, batch_size=8, clip=rule, progress=False)
    assert len(seen) == 2 * 3
    assert max(history["grad_norm"]) > rule[1]                    # clipping had work to do
    for grads in seen:
        if rule[0] == "norm":
            assert global_norm(grads) <= rule[1] * (1 + 1e-12)
        else:
            assert max(np.max(np.abs(g)) for g in grads.values()) <= rule[1]


def test_fit_rejects_an_ambiguous_clip():
    X, Y = _sine_problem(m=10)
    with pytest.raises(ValueError, match="'norm', c"):
        fit("rnn", X, Y, n_h=3, epochs=1, clip=1.0, progress=False)


# ---------------------------------------------------------------- truncated BPTT

def test_truncated_bptt_matches_the_closed_form_of_a_linear_rnn():
    # h_t = Wh h_{t-1} + Wx x_t (identity, no biases), y = Wy h_T, L = 1/(2m) Σ (y - Y)².
    # dL/dh_T = Wyᵀ e / m with e = y - Y; dL/dh_{T-j} = (Whᵀ)^j dL/dh_T. Truncation at k keeps
    # j = 0..k-1: dWx = Σ_j (Whᵀ)^j g x_{T-j}ᵀ, dWh = Σ_j (Whᵀ)^j g h_{T-j-1}ᵀ.
    from cells import rnn
    rng = np.random.default_rng(1)
    n_x, n_h, m, T, k = 2, 3, 4, 7, 3
    params = rnn.init_params(n_x, n_h, 1, seed=2, bias=False)
    X = rng.standard_normal((n_x, m, T))
    Y = rng.standard_normal((1, m))
    hs = [np.zeros((n_h, m))]
    for t in range(T):
        hs.append(params["Wh"] @ hs[-1] + params["Wx"] @ X[:, :, t])
    e = params["Wy"] @ hs[-1] - Y                                    # (1, m)
    g = params["Wy"].T @ e / m                                       # dL/dh_T
    dWx, dWh = np.zeros_like(params["Wx"]), np.zeros_like(params["Wh"])
    for j in range(k):
        dWx += g @ X[:, :, T - 1 - j].T
        dWh += g @ hs[T - 1 - j].T
        g = params["Wh"].T @ g
    for method in ("bptt", "tape"):
        loss, grads = train.truncated_loss_and_grads("rnn", params, X, Y, k, method=method,
                                                     activation="identity")
        assert loss == pytest.approx(0.5 * np.sum(e ** 2) / m, rel=1e-14)   # the full loss
        np.testing.assert_allclose(grads["dWx"], dWx, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(grads["dWh"], dWh, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(grads["dWy"], e @ hs[-1].T / m, rtol=1e-12)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_truncated_hand_and_tape_agree_and_full_length_is_full_bptt(kind):
    pytest.importorskip(f"cells.{kind}", reason=f"cells.{kind} is not written yet")
    rng = np.random.default_rng(3)
    module = train.cell_module(kind)
    params = module.init_params(2, 4, 1, seed=0)
    X, Y = rng.standard_normal((2, 5, 6)), rng.standard_normal((1, 5))
    _, hand = train.truncated_loss_and_grads(kind, params, X, Y, 2, method="bptt")
    _, tape = train.truncated_loss_and_grads(kind, params, X, Y, 2, method="tape")
    _, full = module.loss_and_grads(params, X, Y, method="bptt")
    for key in full:
        np.testing.assert_allclose(hand[key], tape[key], rtol=1e-10, atol=1e-14)
    assert any(np.max(np.abs(hand[k] - full[k])) > 1e-6 for k in full if k not in ("dWy", "dby"))
    np.testing.assert_allclose(hand["dWy"], full["dWy"], rtol=1e-13)       # the head is never cut
    _, same = train.truncated_loss_and_grads(kind, params, X, Y, 6, method="bptt")
    for key in full:
        np.testing.assert_array_equal(same[key], full[key])


def test_truncated_seq2seq_matches_the_closed_form_of_a_linear_rnn_in_chunks():
    # Seq-to-seq, L = 1/(2 m T) Σ_t Σ (Wy h_t - Y_t)². Chunks [0, 3), [3, 6), [6, 7): inside a
    # chunk g_t = Wyᵀ e_t / (m T) + Whᵀ g_{t+1}; the state entering a chunk is a constant,
    # so g does not cross a chunk's start. dWx = Σ_t g_t x_tᵀ, dWh = Σ_t g_t h_{t-1}ᵀ.
    from cells import rnn
    rng = np.random.default_rng(4)
    n_x, n_h, m, T, k = 2, 3, 4, 7, 3
    params = rnn.init_params(n_x, n_h, 1, seed=5, bias=False)
    X, Y = rng.standard_normal((n_x, m, T)), rng.standard_normal((1, m, T))
    hs = [np.zeros((n_h, m))]
    for t in range(T):
        hs.append(params["Wh"] @ hs[-1] + params["Wx"] @ X[:, :, t])
    errors = [params["Wy"] @ hs[t + 1] - Y[:, :, t] for t in range(T)]       # e_t, (1, m)
    dWx, dWh = np.zeros_like(params["Wx"]), np.zeros_like(params["Wh"])
    for start in range(0, T, k):
        g = np.zeros((n_h, m))
        for t in reversed(range(start, min(start + k, T))):
            g = params["Wy"].T @ errors[t] / (m * T) + params["Wh"].T @ g
            dWx += g @ X[:, :, t].T
            dWh += g @ hs[t].T                                              # hs[t] = h_{t-1}
    full_loss = 0.5 * sum(np.sum(e ** 2) for e in errors) / (m * T)
    for method in ("bptt", "tape"):
        loss, grads = train.truncated_loss_and_grads("rnn", params, X, Y, k, method=method,
                                                     head="seq2seq", activation="identity")
        assert loss == pytest.approx(full_loss, rel=1e-14)
        np.testing.assert_allclose(grads["dWx"], dWx, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(grads["dWh"], dWh, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "peephole", "gru", "gru_keras"])
@pytest.mark.parametrize("output", ["identity", "softmax"])
def test_truncated_seq2seq_hand_and_tape_agree_and_full_length_is_full_bptt(kind, output):
    rng = np.random.default_rng(6)
    module = train.cell_module(kind)
    n_y = 3 if output == "softmax" else 1
    params = module.init_params(2, 4, n_y, seed=1)
    X = rng.standard_normal((2, 5, 7))
    Y = (np.eye(n_y)[rng.integers(0, n_y, (5, 7))].transpose(2, 0, 1) if output == "softmax"
         else rng.standard_normal((1, 5, 7)))
    _, hand = train.truncated_loss_and_grads(kind, params, X, Y, 3, method="bptt", head="seq2seq", output=output)
    _, tape = train.truncated_loss_and_grads(kind, params, X, Y, 3, method="tape", head="seq2seq", output=output)
    _, full = module.loss_and_grads(params, X, Y, method="bptt", head="seq2seq", output=output)
    assert set(hand) == set(tape) == set(full)
    for key in full:
        np.testing.assert_allclose(hand[key], tape[key], rtol=1e-10, atol=1e-14, err_msg=key)
    assert any(np.max(np.abs(hand[k] - full[k])) > 1e-8 for k in full if k not in ("dWy", "dby"))
    np.testing.assert_allclose(hand["dWy"], full["dWy"], rtol=1e-13)       # the head is never cut
    _, same = train.truncated_loss_and_grads(kind, params, X, Y, 7, method="bptt", head="seq2seq", output=output)
    for key in full:
        np.testing.assert_array_equal(same[key], full[key])


def test_truncation_option_reaches_fit_and_is_validated():
    X, Y = _sine_problem(m=16)
    p_full, _ = fit("rnn", X, Y, n_h=4, epochs=1, batch_size=16, progress=False)
    p_cut, _ = fit("rnn", X, Y, n_h=4, epochs=1, batch_size=16, truncate=2, progress=False)
    assert np.max(np.abs(p_full["Wh"] - p_cut["Wh"])) > 0          # a different gradient was used
    with pytest.raises(ValueError, match="truncate"):
        fit("rnn", X, Y, n_h=4, epochs=1, truncate=0, progress=False)
    # seq-to-seq takes it too (chunks of k steps)
    Y_seq = np.repeat(Y[:, :, None], X.shape[2], axis=2)
    p_seq, history = fit("rnn", X, Y_seq, n_h=4, epochs=2, batch_size=16, truncate=2, head="seq2seq",
                         progress=False)
    assert np.all(np.isfinite(history["loss"])) and np.all(np.isfinite(p_seq["Wh"]))


# ---------------------------------------------------------------- fit and predict

@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_loss_decreases_on_a_tiny_problem(kind):
    pytest.importorskip(f"cells.{kind}", reason=f"cells.{kind} is not written yet")
    X, Y = _sine_problem(m=48)
    params, history = fit(kind, X, Y, n_h=8, epochs=40, batch_size=16, lr=1e-2, progress=False)
    assert len(history["loss"]) == 40
    assert history["loss"][-1] < 0.2 * history["loss"][0]
    np.testing.assert_allclose(history["loss_keras"], 2 * np.array(history["loss"]))
    final = train.evaluate(kind, params, X, Y)
    assert final < 0.2 * history["loss"][0]
    assert train.predict(kind, params, X).shape == Y.shape


@pytest.mark.parametrize("kind,stacked_gates", [("lstm", None), ("lstm", False), ("gru", None)])
def test_hand_and_tape_training_end_on_the_same_weights(kind, stacked_gates):
    # the LSTM's tape records its gates stacked by default, per gate with stacked_gates=False
    X, Y = _sine_problem(m=30)
    hand, h_hist = fit(kind, X, Y, n_h=6, method="bptt", epochs=3, batch_size=8, seed=4, progress=False)
    tape, t_hist = fit(kind, X, Y, n_h=6, method="tape", epochs=3, batch_size=8, seed=4, progress=False,
                       stacked_gates=stacked_gates)
    init = train.cell_module(kind).init_params(1, 6, 1, seed=4)
    assert max(np.max(np.abs(hand[k] - init[k])) for k in init) > 1e-3     # training moved them
    for key in hand:
        np.testing.assert_allclose(hand[key], tape[key], rtol=0, atol=1e-12)
    np.testing.assert_allclose(h_hist["loss"], t_hist["loss"], rtol=1e-12)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_truncated_training_on_the_tape_replays_and_ends_where_hand_truncated_training_ends(kind):
    X, Y = _sine_problem(m=30)
    kw = dict(n_h=5, epochs=3, batch_size=8, seed=2, progress=False, truncate=3)
    hand, h_hist = fit(kind, X, Y, method="bptt", **kw)
    tape, t_hist = fit(kind, X, Y, method="tape", **kw)
    full, _ = fit(kind, X, Y, method="bptt", **{**kw, "truncate": None})
    for key in hand:
        np.testing.assert_allclose(hand[key], tape[key], rtol=0, atol=1e-12)
    assert max(np.max(np.abs(hand[k] - full[k])) for k in hand) > 1e-6       # truncation changed it
    np.testing.assert_allclose(h_hist["loss"], t_hist["loss"], rtol=1e-12)


def test_stacked_gates_where_nothing_records_them_is_a_clear_error():
    X, Y = _sine_problem(m=10)
    with pytest.raises(ValueError, match=r"stacked_gates=True chooses the graph the tape records"):
        fit("lstm", X, Y, n_h=3, epochs=1, progress=False, stacked_gates=True, method="bptt")
    with pytest.raises(ValueError, match=r"the gru cell has no step_stacked"):
        fit("gru", X, Y, n_h=3, epochs=1, method="tape", progress=False, stacked_gates=True)


def test_fit_epochs_runs_fit_one_epoch_at_a_time():
    X, Y = _sine_problem(m=20)
    whole, whole_hist = fit("lstm", X, Y, n_h=3, epochs=4, batch_size=8, seed=3, progress=False,
                            method="tape")
    run = train.fit_epochs("lstm", X, Y, n_h=3, epochs=4, batch_size=8, seed=3, progress=False,
                           method="tape")
    seen = []
    for params, history in run:
        seen.append(len(history["loss"]))
        assert params is run.params and history is run.history
    assert seen == [1, 2, 3, 4]
    for k in whole:
        np.testing.assert_array_equal(run.params[k], whole[k])
    assert run.history["loss"] == whole_hist["loss"]
    with pytest.raises(ValueError, match=r"method='sgd'"):     # checked when made, not when run
        train.fit_epochs("lstm", X, Y, n_h=3, method="sgd")


def test_same_seed_same_run_other_seed_other_batches():
    X, Y = _sine_problem(m=20)
    a, _ = fit("rnn", X, Y, n_h=3, epochs=2, batch_size=5, seed=1, progress=False)
    b, _ = fit("rnn", X, Y, n_h=3, epochs=2, batch_size=5, seed=1, progress=False)
    c, _ = fit("rnn", X, Y, n_h=3, epochs=2, batch_size=5, seed=2, progress=False)
    np.testing.assert_array_equal(a["Wh"], b["Wh"])
    assert not np.array_equal(a["Wh"], c["Wh"])


def test_minibatches_cover_every_sample_once():
    batches = train.minibatches(10, 4, np.random.default_rng(0))
    assert [len(b) for b in batches] == [4, 4, 2]
    assert sorted(np.concatenate(batches)) == list(range(10))


def test_fit_explains_wrong_shapes_and_method():
    X, Y = _sine_problem(m=10)
    with pytest.raises(ValueError, match=r"\(n_x, m, T_x\)"):
        fit("rnn", X[0], Y, n_h=3, epochs=1, progress=False)
    with pytest.raises(ValueError, match=r"\(n_y, m\)"):
        fit("rnn", X, Y.T, n_h=3, epochs=1, progress=False)
    with pytest.raises(ValueError, match="bptt"):
        fit("rnn", X, Y, n_h=3, method="adam", epochs=1, progress=False)


def test_progress_bar_shows_running_loss(capsys):
    X, Y = _sine_problem(m=10)
    fit("rnn", X, Y, n_h=3, epochs=2, progress=True, desc="tiny")
    err = capsys.readouterr().err
    assert "tiny" in err and "loss" in err


def test_float32_training_stays_float32_and_validation_is_recorded():
    X, Y = _sine_problem(m=20)
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    params, history = fit("gru", X32, Y32, n_h=4, epochs=2, progress=False, validation=(X32, Y32))
    assert all(v.dtype == np.float32 for v in params.values())
    assert len(history["val_loss"]) == 2
    # the validation loss after epoch 1 is the loss of the weights epoch 2 starts from
    assert history["val_loss"][0] == pytest.approx(history["loss"][1], rel=1e-5)


def test_dtype_option_chooses_the_precision_and_explains_a_bad_one():
    X, Y = _sine_problem(m=12)
    kw = dict(n_h=3, epochs=1, progress=False)
    params, history = fit("lstm", X, Y, dtype="float32", **kw)              # float64 data, cast
    assert {v.dtype for v in params.values()} == {np.dtype(np.float32)}
    assert history["config"]["dtype"] == "float32"
    params, _ = fit("lstm", X.astype(np.float32), Y, **kw)                 # None: X's float dtype
    assert {v.dtype for v in params.values()} == {np.dtype(np.float32)}
    init = train.cell_module("lstm").init_params(1, 3, 1, seed=0)          # float64 weights given
    params, history = fit("lstm", X.astype(np.float32), Y, params=init, **kw)
    assert {v.dtype for v in params.values()} == {np.dtype(np.float64)}   # None: the params' dtype
    params, _ = fit("lstm", X, Y, params=init, dtype=np.float32, **kw)     # explicit: cast a copy
    assert {v.dtype for v in params.values()} == {np.dtype(np.float32)} and init["Wf"].dtype == np.float64
    params, _ = fit("rnn", np.round(X * 10).astype(int), Y, **kw)          # integer data: float64
    assert params["Wh"].dtype == np.float64
    for bad in ("float16", "int32", "double precision"):
        with pytest.raises(ValueError, match=r"fit: dtype must be 'float64' .* or 'float32'"):
            fit("lstm", X, Y, dtype=bad, **kw)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("placement", ["thesis", "keras"])
def test_float32_training_follows_the_float64_trajectory(kind, placement):
    # The same run in both precisions: float32 must track float64 to float32's rounding
    # (an upcast or a wrong cast would show as float64 weights or a far-off trajectory),
    # and hand and tape must agree in float32 as they do in float64.
    X, Y = _sine_problem(m=40)
    kw = dict(n_h=6, epochs=4, batch_size=8, seed=1, progress=False, epsilon_placement=placement)
    ref, ref_hist = fit(kind, X, Y, method="bptt", **kw)
    init = train.cell_module(kind).init_params(1, 6, 1, seed=1)
    assert max(np.max(np.abs(ref[k] - init[k])) for k in init) > 1e-2      # it trained
    for method in ("bptt", "tape"):
        run, hist = fit(kind, X, Y, method=method, dtype="float32", **kw)
        for key in ref:
            assert run[key].dtype == np.float32, (method, key)
            np.testing.assert_allclose(run[key], ref[key], rtol=0, atol=2e-4, err_msg=f"{method} {key}")
        np.testing.assert_allclose(hist["loss"], ref_hist["loss"], rtol=1e-4)


def test_seq2seq_softmax_training_hand_equals_tape_and_evaluate_matches_the_loss():
    # a character-model shape: one-hot inputs, next-symbol targets at every step
    rng = np.random.default_rng(5)
    symbols = rng.integers(0, 3, size=(6, 5))                       # (m, T + 1)
    eye = np.eye(3)
    X = np.transpose(eye[symbols[:, :4]], (2, 0, 1))                 # (3, m, T)
    Y = np.transpose(eye[symbols[:, 1:]], (2, 0, 1))                 # (3, m, T)
    kw = dict(n_h=4, epochs=3, batch_size=6, head="seq2seq", output="softmax", progress=False)
    hand, history = fit("rnn", X, Y, method="bptt", **kw)
    tape, _ = fit("rnn", X, Y, method="tape", **kw)
    for key in hand:
        np.testing.assert_allclose(hand[key], tape[key], rtol=0, atol=1e-12)
    assert history["loss_keras"] is None                              # no MSE convention here
    loss, _ = train.cell_module("rnn").loss_and_grads(hand, X, Y, head="seq2seq", output="softmax")
    assert train.evaluate("rnn", hand, X, Y, head="seq2seq", output="softmax") == pytest.approx(loss, rel=1e-12)
