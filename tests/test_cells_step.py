"""One step at a time: cell_forward against the equations written out independently
here, cell_backward against central differences with a random upstream gradient, and
the thesis's literal (4-34)+(4-38) shown to be wrong by the same check."""

import numpy as np
import pytest

import cells
import tinytape as tt

N_X, N_H, M = 3, 4, 5


def sigma(z):
    return 1.0 / (1.0 + np.exp(-z))


def random_params(kind, seed=0):
    rng = np.random.default_rng(seed)
    params = cells.get(kind).init_params(N_X, N_H, 2, seed=seed)
    return {k: v + 0.3 * rng.standard_normal(v.shape) for k, v in params.items()}


def reference_step(kind, x, h, c, p):
    """The cell equations, written from CONVENTIONS.md without the package's code."""
    hx = np.vstack([h, x])
    if kind == "rnn":
        return np.tanh(p["Wh"] @ h + p["Wx"] @ x + p["bh"]), None
    if kind in ("lstm", "peephole"):
        peep = kind == "peephole"
        f = sigma(p["Wf"] @ hx + p["bf"] + (p["pf"] * c if peep else 0))
        i = sigma(p["Wu"] @ hx + p["bu"] + (p["pu"] * c if peep else 0))
        g = np.tanh(p["Wc"] @ hx + p["bc"])
        c_new = f * c + i * g
        o = sigma(p["Wo"] @ hx + p["bo"] + (p["po"] * c_new if peep else 0))
        return o * np.tanh(c_new), c_new
    if kind == "gru":
        u = sigma(p["Wu"] @ hx + p["bu"])
        r = sigma(p["Wr"] @ hx + p["br"])
        cand = np.tanh(p["Wh"] @ np.vstack([r * h, x]) + p["bh"])
        return u * cand + (1 - u) * h, None
    # Keras reset_after=True, in Keras's row layout (batch, features), then back to columns
    xr, hr = x.T, h.T
    mx = xr @ p["kernel"] + p["bias"][0]
    mh = hr @ p["recurrent_kernel"] + p["bias"][1]
    z = sigma(mx[:, :N_H] + mh[:, :N_H])
    r = sigma(mx[:, N_H : 2 * N_H] + mh[:, N_H : 2 * N_H])
    hh = np.tanh(mx[:, 2 * N_H :] + r * mh[:, 2 * N_H :])
    return (z * hr + (1 - z) * hh).T, None


def has_cell_state(kind):
    return cells.get(kind).STATE == ("h", "c")


@pytest.mark.parametrize("kind", list(cells.KINDS))
def test_cell_forward_matches_the_equations(kind):
    rng = np.random.default_rng(1)
    p = random_params(kind)
    x, h, c = rng.standard_normal((N_X, M)), rng.standard_normal((N_H, M)), rng.standard_normal((N_H, M))
    module = cells.get(kind)
    out = module.cell_forward(x, h, c, p) if has_cell_state(kind) else module.cell_forward(x, h, p)
    h_ref, c_ref = reference_step(kind, x, h, c, p)
    np.testing.assert_allclose(out[0], h_ref, rtol=1e-13, atol=1e-14)
    if c_ref is not None:
        np.testing.assert_allclose(out[1], c_ref, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("kind", list(cells.KINDS))
def test_cell_backward_against_finite_differences(kind):
    """cell_backward(dh, [dc,] cache) vs central differences of ⟨h_next, U⟩ + ⟨c_next, V⟩."""
    rng = np.random.default_rng(2)
    module = cells.get(kind)
    p = random_params(kind, seed=3)
    x, h, c = rng.standard_normal((N_X, M)), rng.standard_normal((N_H, M)), rng.standard_normal((N_H, M))
    U, V = rng.standard_normal((N_H, M)), rng.standard_normal((N_H, M))
    gate_params = {k: v for k, v in p.items() if k not in ("Wy", "by")}

    if has_cell_state(kind):
        def scalar(x, h, c, gp):
            h_next, c_next, _ = module.cell_forward(x, h, c, {**p, **gp})
            return float(np.sum(h_next * U) + np.sum(c_next * V))

        _, _, cache = module.cell_forward(x, h, c, p)
        hand = module.cell_backward(U, V, cache)
        dx, dh, dc, dp = tt.check.numeric_gradient(scalar, x, h, c, gate_params)
        numeric = {"dxt": dx, "dh_prev": dh, "dc_prev": dc}
    else:
        def scalar(x, h, gp):
            return float(np.sum(module.cell_forward(x, h, {**p, **gp})[0] * U))

        _, cache = module.cell_forward(x, h, p)
        hand = module.cell_backward(U, cache)
        dx, dh, dp = tt.check.numeric_gradient(scalar, x, h, gate_params)
        numeric = {"dxt": dx, "dh_prev": dh}
    numeric.update({"d" + k: v for k, v in dp.items()})
    assert set(hand) == set(numeric), "cell_backward must return exactly dxt, dh_prev, [dc_prev] and d<gate param>"
    report = tt.check.compare(hand, numeric, labels=("cell_backward", "finite differences"), rtol=1e-7)
    assert report.ok, str(report)


@pytest.mark.parametrize("kind", ["rnn", "gru", "gru_keras"])
def test_cell_backward_of_a_sequence_equals_backward(kind):
    """Chaining cell_backward by hand over the steps gives what backward gives."""
    rng = np.random.default_rng(4)
    module = cells.get(kind)
    p = random_params(kind, seed=5)
    T = 4
    X = rng.standard_normal((N_X, M, T))
    dH = rng.standard_normal((N_H, M, T))
    _, caches = module.forward(X, None, p)
    whole = module.backward(dH, caches)
    dh = np.zeros((N_H, M))
    total = {}
    for t in reversed(range(T)):
        g = module.cell_backward(dH[:, :, t] + dh, caches[t])
        dh = g.pop("dh_prev")
        np.testing.assert_allclose(whole["dx"][:, :, t], g.pop("dxt"), rtol=1e-12, atol=1e-14)
        for k, v in g.items():
            total[k] = total.get(k, 0) + v
    np.testing.assert_allclose(whole["dh0"], dh, rtol=1e-12, atol=1e-14)
    report = tt.check.compare({k: whole[k] for k in total}, total, labels=("backward", "Σ cell_backward"), rtol=1e-12)
    assert report.ok, str(report)


def test_lstm_cell_backward_chain_equals_backward():
    rng = np.random.default_rng(6)
    p = random_params("lstm", seed=7)
    T = 3
    X = rng.standard_normal((N_X, M, T))
    dH = rng.standard_normal((N_H, M, T))
    _, _, caches = cells.lstm.forward(X, None, p)
    whole = cells.lstm.backward(dH, caches)
    dh, dc, total = np.zeros((N_H, M)), np.zeros((N_H, M)), {}
    for t in reversed(range(T)):
        g = cells.lstm.cell_backward(dH[:, :, t] + dh, dc, caches[t])
        dh, dc = g.pop("dh_prev"), g.pop("dc_prev")
        g.pop("dxt")
        for k, v in g.items():
            total[k] = total.get(k, 0) + v
    np.testing.assert_allclose(whole["dh0"], dh, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(whole["dc0"], dc, rtol=1e-12, atol=1e-14)
    assert tt.check.compare({k: whole[k] for k in total}, total, rtol=1e-12).ok


def test_thesis_literal_4_38_double_counts_and_the_check_catches_it():
    """Read literally, (4-34) puts the h_t path into ∂L/∂c_t and (4-38) adds it again.
    That version must disagree with finite differences; ours (in cell_backward) agrees."""
    rng = np.random.default_rng(8)
    p = random_params("lstm", seed=9)
    x, h, c = rng.standard_normal((N_X, M)), rng.standard_normal((N_H, M)), rng.standard_normal((N_H, M))
    U = rng.standard_normal((N_H, M))  # loss = ⟨h_t, U⟩: dL/dh_t = U, nothing from t+1
    _, _, cache = cells.lstm.cell_forward(x, h, c, p)
    _, gf, gu, cc, go, tanh_c = cache.parts
    dL_dc_4_34 = U * go * (1 - tanh_c**2)  # (4-34) at t = T_x: already holds the h path
    dzu_literal = (dL_dc_4_34 + U * go * (1 - tanh_c**2)) * cc * gu * (1 - gu)  # (4-38) as printed
    dWu_literal = dzu_literal @ np.vstack([h, x]).T
    numeric = tt.check.numeric_gradient(
        lambda Wu: float(np.sum(cells.lstm.cell_forward(x, h, c, {**p, "Wu": Wu})[0] * U)), p["Wu"]
    )
    literal = tt.check.compare({"dWu": dWu_literal}, {"dWu": numeric}, rtol=1e-6)
    ours = tt.check.compare({"dWu": cells.lstm.cell_backward(U, np.zeros_like(U), cache)["dWu"]}, {"dWu": numeric}, rtol=1e-7)
    assert not literal.ok and literal.max_rel > 0.3  # twice the true gradient: off by 100%
    assert ours.ok, str(ours)
