"""The vanilla RNN's options (tanh / relu / identity, with and without biases), seed
003's worked example checked by an independent hand computation, and seed 001's
closed-form BPTT (d2l (9.7.15)-(9.7.16)) for the linear, bias-free network."""

import numpy as np
import pytest

import tinytape as tt
from cells import rnn


def problem(activation, bias, head, seed=0):
    rng = np.random.default_rng(seed)
    params = rnn.init_params(2, 4, 3, seed=seed, bias=bias)
    if bias:
        params["bh"] = 0.2 * rng.standard_normal((4, 1))
        params["by"] = 0.2 * rng.standard_normal((3, 1))
    X = rng.standard_normal((2, 3, 5))
    Y = rng.standard_normal((3, 3) if head == "seq2one" else (3, 3, 5))
    return params, X, Y


@pytest.mark.parametrize("head", ["seq2one", "seq2seq"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("activation", ["tanh", "relu", "identity"])
def test_activation_and_bias_options_agree_three_ways(activation, bias, head):
    params, X, Y = problem(activation, bias, head)
    assert ("bh" in params) == bias and ("by" in params) == bias
    kw = dict(head=head, activation=activation)
    loss, hand = rnn.loss_and_grads(params, X, Y, **kw)
    loss_t, tape = rnn.loss_and_grads(params, X, Y, method="tape", **kw)
    assert list(hand) == ["d" + k for k in params]
    assert abs(loss - loss_t) <= 1e-12 * abs(loss)
    report = tt.check.compare(hand, tape, labels=("hand BPTT", "tape"), rtol=1e-10)
    assert report.ok, str(report)
    numeric = tt.check.numeric_gradient(lambda p: rnn.loss_and_grads(p, X, Y, **kw)[0], params)
    report = tt.check.compare(hand, {"d" + k: v for k, v in numeric.items()},
                              labels=("hand BPTT", "finite differences"), rtol=1e-6, atol=1e-10)
    assert report.ok, str(report)


def test_activations_differ_where_they_should():
    """relu zeroes negative pre-activations; identity is linear in x (no bias)."""
    params, X, _ = problem("relu", False, "seq2one")
    H_relu, _ = rnn.forward(X, None, params, activation="relu")
    H_lin, _ = rnn.forward(X, None, params, activation="identity")
    assert H_relu.min() == 0.0 and H_lin.min() < 0
    np.testing.assert_allclose(rnn.forward(2 * X, None, params, activation="identity")[0], 2 * H_lin, rtol=1e-13)


# ------------------------------------------------------------------------------------
# Seed 003 (Calderón, "Redes recurrentes", 2019): D = 1 input, M = 3 linear hidden
# units, K = 1 linear output, no biases, U = W = V = 0.5 everywhere,
# x = (0.3, 0.35, 0.4), y = (0.8, 0.81, 0.62), L = Σ_t ½ (ŷ_t − y_t)².
#
# Worked here by hand. Every hidden unit holds the same value s_t:
#   s_t = 3 · 0.5 · s_{t−1} + 0.5 x_t:  s = 0.15, 0.4, 0.8;  ŷ_t = 3 · 0.5 · s_t = 0.225, 0.6, 1.2
#   e = ŷ − y = −0.575, −0.21, 0.58;  L = ½ (0.330625 + 0.0441 + 0.3364) = 0.3555625
#   backward, per unit: g_t = ∂L/∂h_t = 0.5 e_t + 1.5 g_{t+1}:  g = 0.2075, 0.33, 0.29
#   ∂L/∂U_m   = Σ_t g_t x_t           = 0.06225 + 0.1155 + 0.116   = 0.29375
#   ∂L/∂W_ij  = Σ_t g_t s_{t−1}       = 0 + 0.33·0.15 + 0.29·0.4     = 0.1655
#   ∂L/∂V_m   = Σ_t e_t s_t           = −0.08625 − 0.084 + 0.464    = 0.29375
# Our seq-to-seq loss is 1/(2 m T_y) ΣΣ (m = 1, T_y = 3): the seed's L divided by 3.
# ------------------------------------------------------------------------------------
SEED3_X = np.array([0.3, 0.35, 0.4]).reshape(1, 1, 3)
SEED3_Y = np.array([0.8, 0.81, 0.62]).reshape(1, 1, 3)


def seed3_params(W=None):
    return {
        "Wh": np.full((3, 3), 0.5) if W is None else W,
        "Wx": np.full((3, 1), 0.5),
        "Wy": np.full((1, 3), 0.5),
    }


@pytest.mark.parametrize("method", ["bptt", "tape"])
def test_seed_003_worked_example(method):
    params = seed3_params()
    y_hat = rnn.predict(params, SEED3_X, head="seq2seq", activation="identity")
    np.testing.assert_allclose(y_hat.ravel(), [0.225, 0.6, 1.2], rtol=1e-14)
    loss, grads = rnn.loss_and_grads(params, SEED3_X, SEED3_Y, method=method, head="seq2seq", activation="identity")
    T = 3
    assert loss * T == pytest.approx(0.3555625, rel=1e-13)
    np.testing.assert_allclose(grads["dWx"] * T, np.full((3, 1), 0.29375), rtol=1e-13)
    np.testing.assert_allclose(grads["dWh"] * T, np.full((3, 3), 0.1655), rtol=1e-13)
    np.testing.assert_allclose(grads["dWy"] * T, np.full((1, 3), 0.29375), rtol=1e-13)
    assert set(grads) == {"dWh", "dWx", "dWy"}  # no biases in this network


def test_seed_003_per_unit_formula_holds_only_for_a_diagonal_W():
    """Seed 003 writes ∂L^(t)/∂U_m = e_t V_m Σ_τ (W_mm)^(t−τ) x_τ: it follows only the
    unit's own path h_m → h_m (∂p_m/∂h_m = W_mm). Exact for a diagonal W, not for
    W = 0.5 everywhere, where the cross-unit paths W_mk (k ≠ m) carry gradient too."""
    x, y = SEED3_X.ravel(), SEED3_Y.ravel()

    def seed_formula(w_mm, y_hat):
        e = y_hat - y
        return sum(e[t] * 0.5 * sum(w_mm ** (t - k) * x[k] for k in range(t + 1)) for t in range(3))

    diagonal = seed3_params(W=0.5 * np.eye(3))
    y_hat = rnn.predict(diagonal, SEED3_X, head="seq2seq", activation="identity").ravel()
    _, grads = rnn.loss_and_grads(diagonal, SEED3_X, SEED3_Y, head="seq2seq", activation="identity")
    assert grads["dWx"][0, 0] * 3 == pytest.approx(seed_formula(0.5, y_hat), rel=1e-13)

    full = seed3_params()
    y_hat = rnn.predict(full, SEED3_X, head="seq2seq", activation="identity").ravel()
    _, grads = rnn.loss_and_grads(full, SEED3_X, SEED3_Y, head="seq2seq", activation="identity")
    assert abs(grads["dWx"][0, 0] * 3 - seed_formula(0.5, y_hat)) > 0.05


def test_seed_001_closed_form_bptt():
    """d2l (9.7.13)-(9.7.16) for h_t = W_hx x_t + W_hh h_{t−1}, o_t = W_qh h_t,
    L = 1/T Σ_t l(o_t, y_t) with l = ½‖o − y‖²: ∂L/∂h_t = Σ_{i=t}^{T} (W_hhᵀ)^{T−i} W_qhᵀ ∂L/∂o_{T+t−i}."""
    rng = np.random.default_rng(11)
    n_x, n_h, n_q, T = 2, 4, 3, 6
    W_hx, W_hh, W_qh = (0.4 * rng.standard_normal(s) for s in [(n_h, n_x), (n_h, n_h), (n_q, n_h)])
    xs, ys = rng.standard_normal((T, n_x)), rng.standard_normal((T, n_q))
    hs = [np.zeros(n_h)]
    for t in range(T):
        hs.append(W_hx @ xs[t] + W_hh @ hs[-1])
    dL_do = [(W_qh @ hs[t + 1] - ys[t]) / T for t in range(T)]  # (9.7.12) with l = ½‖·‖²
    # (9.7.15) indexes o_{T+t−i} for i = t … T, i.e. o_T … o_t; rewrite it with j = T+t−i
    dL_dh = [sum(np.linalg.matrix_power(W_hh.T, j - t) @ W_qh.T @ dL_do[j - 1] for j in range(t, T + 1)) for t in range(1, T + 1)]
    expected = {
        "dWh": sum(np.outer(dL_dh[t], hs[t]) for t in range(T)),  # (9.7.16)
        "dWx": sum(np.outer(dL_dh[t], xs[t]) for t in range(T)),  # (9.7.16)
        "dWy": sum(np.outer(dL_do[t], hs[t + 1]) for t in range(T)),  # (9.7.11)
    }
    params = {"Wh": W_hh, "Wx": W_hx, "Wy": W_qh}
    X, Y = xs.T[:, None, :], ys.T[:, None, :]  # (n_x, 1, T), (n_q, 1, T)
    _, grads = rnn.loss_and_grads(params, X, Y, head="seq2seq", activation="identity")
    report = tt.check.compare(grads, expected, labels=("rnn BPTT", "d2l closed form"), rtol=1e-12)
    assert report.ok, str(report)


def test_relu_activation_on_the_tape_is_named_and_scoped():
    params, X, Y = problem("relu", True, "seq2one")
    from cells import record

    tape, loss, _ = record.record("rnn", params, X, Y, activation="relu")
    ops_in_steps = {r.op.name for r in tape.records if r.scope.startswith("rnn/t=")}
    assert "relu" in ops_in_steps and "tanh" not in ops_in_steps
