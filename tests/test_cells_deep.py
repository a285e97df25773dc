"""cells.deep: stacked and bidirectional networks of every cell kind.

Hand BPTT (the cells' forward/backward composed) vs the tape (≤ 1e-10, float64), the
tape and the hand path vs central finite differences, and checks that share no code
with cells.deep: per-step loops over `cell_forward`, the single cell at depth 1, the
time-reversal symmetry of a bidirectional model. Failures print tinytape.check's table.
"""

import numpy as np
import pytest

import cells
import tinytape as tt
from cells import deep

KINDS = list(cells.KINDS)
HEADS = ["seq2one", "seq2seq"]
# (depth, n_x, n_h, m, T, output): depth 2 and 3, T = 1 and m = 1, every output
STACKED_CASES = [
    (2, 2, 3, 2, 4, "identity"),
    (3, 1, 2, 1, 1, "tanh"),
    (2, 3, 2, 1, 5, "softmax"),
    (3, 2, 3, 3, 1, "identity"),
]
# (n_x, n_h, m, T, output)
BIDIRECTIONAL_CASES = [
    (2, 3, 2, 4, "identity"),
    (1, 2, 1, 1, "tanh"),
    (3, 2, 1, 5, "softmax"),
    (2, 3, 3, 1, "tanh"),
]


def _targets(rng, n_y, m, T, head, output, dtype):
    shape = (m,) if head == "seq2one" else (m, T)
    if output == "softmax":
        labels = rng.integers(0, n_y, size=shape)
        return np.moveaxis(np.eye(n_y)[labels], -1, 0).astype(dtype)  # one-hot, classes first
    return rng.uniform(-0.9, 0.9, size=(n_y,) + shape).astype(dtype)


def _with_random_biases(params, rng, dtype):
    """Non-zero biases, so that every bias path carries a gradient worth checking."""
    out = {}
    for key, value in params.items():
        name = key.rsplit(".", 1)[-1]
        if name.startswith("b") or name == "bias":
            value = (value + 0.3 * rng.standard_normal(value.shape)).astype(dtype)
        out[key] = value
    return out


def stacked_problem(kind, depth, n_x, n_h, m, T, head, output, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    n_y = 3 if output == "softmax" else 2
    params = deep.stacked_init(kind, n_x, n_h, n_y, depth=depth, seed=seed, dtype=dtype)
    params = _with_random_biases(params, rng, dtype)
    X = rng.standard_normal((n_x, m, T)).astype(dtype)
    return params, X, _targets(rng, n_y, m, T, head, output, dtype)


def bidirectional_problem(kind, n_x, n_h, m, T, head, output, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    n_y = 3 if output == "softmax" else 2
    params = deep.bidirectional_init(kind, n_x, n_h, n_y, seed=seed, dtype=dtype)
    params = _with_random_biases(params, rng, dtype)
    X = rng.standard_normal((n_x, m, T)).astype(dtype)
    return params, X, _targets(rng, n_y, m, T, head, output, dtype)


def _case_id(case):
    return "-".join(str(c) for c in case)


# ----------------------------------------------------------------------------------
# Hand BPTT vs the tape.
# ----------------------------------------------------------------------------------
@pytest.mark.parametrize("case", STACKED_CASES, ids=_case_id)
@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("kind", KINDS)
def test_stacked_hand_bptt_agrees_with_tape(kind, head, case):
    depth, *size, output = case
    params, X, Y = stacked_problem(kind, depth, *size, head, output)
    loss_hand, hand = deep.stacked_loss_and_grads(kind, params, X, Y, "bptt", head, output)
    loss_tape, tape = deep.stacked_loss_and_grads(kind, params, X, Y, "tape", head, output)
    assert list(hand) == list(tape) == ["d" + k for k in params]
    assert abs(loss_hand - loss_tape) <= 1e-12 * max(1.0, abs(loss_tape))
    report = tt.check.compare(hand, tape, labels=("hand BPTT", "tape"), rtol=1e-10)
    assert report.ok, f"stacked {kind} {head} {case}\n{report}"


@pytest.mark.parametrize("case", BIDIRECTIONAL_CASES, ids=_case_id)
@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("kind", KINDS)
def test_bidirectional_hand_bptt_agrees_with_tape(kind, head, case):
    *size, output = case
    params, X, Y = bidirectional_problem(kind, *size, head, output)
    loss_hand, hand = deep.bidirectional_loss_and_grads(kind, params, X, Y, "bptt", head, output)
    loss_tape, tape = deep.bidirectional_loss_and_grads(kind, params, X, Y, "tape", head, output)
    assert list(hand) == list(tape) == ["d" + k for k in params]
    assert abs(loss_hand - loss_tape) <= 1e-12 * max(1.0, abs(loss_tape))
    report = tt.check.compare(hand, tape, labels=("hand BPTT", "tape"), rtol=1e-10)
    assert report.ok, f"bidirectional {kind} {head} {case}\n{report}"


def test_rnn_options_reach_every_layer():
    """activation="relu" and bias=False (seed 001's linear case uses no biases) flow
    through both builders and both methods."""
    rng = np.random.default_rng(11)
    X, Y = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 4))
    for params in (
        deep.stacked_init("rnn", 2, 3, 2, depth=3, seed=1, bias=False),
        deep.bidirectional_init("rnn", 2, 3, 2, seed=1, bias=False),
    ):
        assert not any(k.endswith("bh") or k == "by" for k in params)
        f = deep.stacked_loss_and_grads if "l1.Wh" in params else deep.bidirectional_loss_and_grads
        hand = f("rnn", params, X, Y, "bptt", "seq2seq", activation="relu")
        tape = f("rnn", params, X, Y, "tape", "seq2seq", activation="relu")
        report = tt.check.compare(hand[1], tape[1], labels=("hand BPTT", "tape"), rtol=1e-10)
        assert report.ok, str(report)
        tanh_loss = f("rnn", params, X, Y, "bptt", "seq2seq")[0]
        assert hand[0] != pytest.approx(tanh_loss)  # the option did change the model


# ----------------------------------------------------------------------------------
# Against central finite differences (float64).
# ----------------------------------------------------------------------------------
@pytest.mark.parametrize("depth", [2, 3])
@pytest.mark.parametrize("kind", KINDS)
def test_stacked_tape_gradcheck(kind, depth):
    head = "seq2seq" if depth == 2 else "seq2one"
    params, X, Y = stacked_problem(kind, depth, 2, 2, 2, 3, head, "tanh", seed=2)
    report = tt.check.gradcheck(
        lambda p: deep.stacked_taped_loss(kind, p, X, Y, head=head, output="tanh"), params
    )
    assert report.ok, str(report)


@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("kind", KINDS)
def test_bidirectional_tape_gradcheck(kind, head):
    params, X, Y = bidirectional_problem(kind, 2, 2, 2, 3, head, "softmax", seed=3)
    report = tt.check.gradcheck(
        lambda p: deep.bidirectional_taped_loss(kind, p, X, Y, head=head, output="softmax"), params
    )
    assert report.ok, str(report)


@pytest.mark.parametrize(
    "arch, kind, head",
    [("stacked", "lstm", "seq2one"), ("stacked", "lstm", "seq2seq"),
     ("bidirectional", "rnn", "seq2one"), ("bidirectional", "rnn", "seq2seq")],
)
def test_hand_bptt_agrees_with_finite_differences(arch, kind, head):
    """The issue's two hand versions, entry by entry, against differences of the loss
    alone (no backward code shared with the hand path or the tape)."""
    if arch == "stacked":
        params, X, Y = stacked_problem(kind, 3, 2, 3, 2, 3, head, "identity", seed=4)
        f = deep.stacked_loss_and_grads
    else:
        params, X, Y = bidirectional_problem(kind, 2, 3, 2, 3, head, "identity", seed=4)
        f = deep.bidirectional_loss_and_grads
    _, hand = f(kind, params, X, Y, "bptt", head)
    numeric = tt.check.numeric_gradient(lambda p: f(kind, p, X, Y, "bptt", head)[0], params)
    numeric = {"d" + k: g for k, g in numeric.items()}
    labels = ("hand BPTT", "finite differences")
    report = tt.check.compare(hand, numeric, labels=labels, rtol=1e-6, atol=1e-9)
    assert report.ok, f"{arch} {kind} {head}\n{report}"


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_stacked_backward_dx_and_initial_states(kind):
    """stacked_backward with a random upstream dH: dx, and every layer's weights, by
    differences of ⟨H_top, U⟩."""
    params, X, _ = stacked_problem(kind, 2, 2, 3, 2, 3, "seq2seq", "identity", seed=5)
    U = np.random.default_rng(6).standard_normal((3, 2, 3))
    H, caches = deep.stacked_forward(kind, X, params)
    grads = deep.stacked_backward(kind, U, caches, params)
    expected_states = [f"dl{i}.{s}0" for i in (1, 2) for s in cells.get(kind).STATE]
    assert all(k in grads and grads[k].shape == (3, 2) for k in expected_states)

    def inner(x, p):
        return float(np.sum(deep.stacked_forward(kind, x, p)[0] * U))

    dx, dparams = tt.check.numeric_gradient(inner, X, params)
    numeric = {"dx": dx, **{"d" + k: v for k, v in dparams.items() if k not in ("Wy", "by")}}
    hand = {k: grads[k] for k in numeric}
    report = tt.check.compare(hand, numeric, labels=("hand", "finite differences"), rtol=1e-7)
    assert report.ok, str(report)


def test_bidirectional_backward_dx():
    """x⟨t⟩ feeds both directions: dx = dx_fw + dx_bw, by differences of ⟨H, U⟩."""
    params, X, _ = bidirectional_problem("lstm", 2, 3, 2, 4, "seq2seq", "identity", seed=7)
    U = np.random.default_rng(8).standard_normal((6, 2, 4))
    _, caches = deep.bidirectional_forward("lstm", X, params)
    grads = deep.bidirectional_backward("lstm", U, caches, params)
    def inner(x):
        return float(np.sum(deep.bidirectional_forward("lstm", x, params)[0] * U))

    dx = tt.check.numeric_gradient(inner, X)
    labels = ("hand", "finite differences")
    report = tt.check.compare({"dx": grads["dx"]}, {"dx": dx}, labels=labels, rtol=1e-7)
    assert report.ok, str(report)


# ----------------------------------------------------------------------------------
# Meaning: checks written without cells.deep's own composition code.
# ----------------------------------------------------------------------------------
def _per_step_states(module, params, X, times, n_h):
    """h⟨t⟩ by a plain loop over `cell_forward`, visiting `times` (0-based) in order.
    `params` is one layer's cell dict; cell_forward wants a whole cell's, head included
    (a one-row head it never uses)."""
    params = {**params, "Wy": np.zeros((1, n_h)), "by": np.zeros((1, 1))}
    state = tuple(np.zeros((n_h, X.shape[1])) for _ in module.STATE)
    H = np.zeros((n_h, X.shape[1], X.shape[2]))
    for t in times:
        *state, _ = module.cell_forward(X[:, :, t], *state, params)
        H[:, :, t] = state[0]
    return H


def _unprefix(params, prefix):
    return {k[len(prefix) + 1 :]: v for k, v in params.items() if k.startswith(prefix + ".")}


@pytest.mark.parametrize("kind", KINDS)
def test_depth_one_is_the_single_cell(kind):
    """stacked_init(depth=1) is the cell's own init with "l1." prefixes, and its loss and
    gradients are the single cell's (checked by cells' own agreement suite)."""
    module = cells.get(kind)
    params = deep.stacked_init(kind, 2, 3, 2, depth=1, seed=9)
    single = module.init_params(2, 3, 2, seed=9)
    prefixed = {(k if k in ("Wy", "by") else "l1." + k): v for k, v in single.items()}
    assert list(params) == list(prefixed)
    assert all(np.array_equal(params[k], v) for k, v in prefixed.items())
    rng = np.random.default_rng(10)
    X, Y = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 4))
    loss, grads = deep.stacked_loss_and_grads(kind, params, X, Y, "bptt", "seq2seq", "tanh")
    loss_1, grads_1 = module.loss_and_grads(single, X, Y, "tape", "seq2seq", "tanh")
    assert loss == pytest.approx(loss_1, rel=1e-13)
    renamed = {("dl1." + k[1:] if k not in ("dWy", "dby") else k): v for k, v in grads_1.items()}
    report = tt.check.compare(grads, renamed, labels=("deep, depth 1", f"{kind} tape"), rtol=1e-12)
    assert report.ok, str(report)


@pytest.mark.parametrize("kind", ["lstm", "gru_keras"])
def test_stacked_forward_is_the_composition_of_layers(kind):
    """Layer ℓ's states, by per-step loops, feed layer ℓ+1; predict reads the top."""
    module = cells.get(kind)
    params, X, _ = stacked_problem(kind, 3, 2, 3, 2, 4, "seq2seq", "identity", seed=12)
    inputs = X
    for layer in (1, 2, 3):
        inputs = _per_step_states(module, _unprefix(params, f"l{layer}"), inputs, range(4), 3)
    H, _ = deep.stacked_forward(kind, X, params)
    np.testing.assert_allclose(H, inputs, rtol=1e-13, atol=1e-15)
    y_hat = deep.stacked_predict(kind, params, X, head="seq2one")
    np.testing.assert_allclose(y_hat, params["Wy"] @ inputs[:, :, -1] + params["by"], rtol=1e-13)


@pytest.mark.parametrize("kind", ["rnn", "gru"])
def test_bidirectional_states_and_heads(kind):
    """h⟨t⟩ = [h_fw⟨t⟩; h_bw⟨t⟩], h_bw by a loop from t = T down to 1; seq2one reads
    [h_fw⟨T⟩; h_bw⟨1⟩], seq2seq reads h⟨t⟩ at every t."""
    module = cells.get(kind)
    params, X, _ = bidirectional_problem(kind, 2, 3, 2, 5, "seq2seq", "identity", seed=13)
    H_fw = _per_step_states(module, _unprefix(params, "fw"), X, range(5), 3)
    H_bw = _per_step_states(module, _unprefix(params, "bw"), X, reversed(range(5)), 3)
    H, _ = deep.bidirectional_forward(kind, X, params)
    np.testing.assert_allclose(H, np.concatenate([H_fw, H_bw], axis=0), rtol=1e-13, atol=1e-15)
    last = np.concatenate([H_fw[:, :, -1], H_bw[:, :, 0]], axis=0)  # (2n_h, m)
    one = deep.bidirectional_predict(kind, params, X, "seq2one", "tanh")
    np.testing.assert_allclose(one, np.tanh(params["Wy"] @ last + params["by"]), rtol=1e-13)
    H_both = np.concatenate([H_fw, H_bw], axis=0)  # (2n_h, m, T)
    every = np.einsum("yh,hmt->ymt", params["Wy"], H_both) + params["by"][:, :, None]
    np.testing.assert_allclose(deep.bidirectional_predict(kind, params, X, "seq2seq"), every, rtol=1e-13)


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_bidirectional_time_reversal_symmetry(kind):
    """Swapping the directions (fw ↔ bw and the two column blocks of Wy) and reversing
    x and y in time gives the same seq2seq model: same loss, gradients swapped."""
    params, X, Y = bidirectional_problem(kind, 2, 3, 2, 4, "seq2seq", "tanh", seed=14)
    n_h = 3
    swapped = {}
    for key, value in params.items():
        if key.startswith(("fw.", "bw.")):
            other = ("bw." if key.startswith("fw.") else "fw.") + key[3:]
            swapped[other] = value
    swapped["Wy"] = np.concatenate([params["Wy"][:, n_h:], params["Wy"][:, :n_h]], axis=1)
    swapped["by"] = params["by"]
    loss, grads = deep.bidirectional_loss_and_grads(kind, params, X, Y, "bptt", "seq2seq", "tanh")
    loss_r, grads_r = deep.bidirectional_loss_and_grads(
        kind, swapped, X[:, :, ::-1], Y[:, :, ::-1], "bptt", "seq2seq", "tanh"
    )
    assert loss_r == pytest.approx(loss, rel=1e-12)
    mirror = {"dfw": "dbw", "dbw": "dfw"}
    back = {mirror[k[:3]] + k[3:]: v for k, v in grads_r.items() if k[:3] in mirror}
    back["dWy"] = np.concatenate([grads_r["dWy"][:, n_h:], grads_r["dWy"][:, :n_h]], axis=1)
    back["dby"] = grads_r["dby"]
    report = tt.check.compare(grads, back, labels=("model", "mirrored model"), rtol=1e-10)
    assert report.ok, str(report)


def test_bidirectional_with_a_blind_backward_half_is_the_forward_rnn():
    """With the bw columns of Wy at zero, the model is the forward RNN with Wy[:, :n_h]:
    same loss and gradients, and no gradient reaches the backward direction."""
    params, X, Y = bidirectional_problem("rnn", 2, 3, 2, 4, "seq2seq", "identity", seed=15)
    params["Wy"][:, 3:] = 0.0
    single = {**_unprefix(params, "fw"), "Wy": params["Wy"][:, :3], "by": params["by"]}
    loss, grads = deep.bidirectional_loss_and_grads("rnn", params, X, Y, "bptt", "seq2seq")
    loss_1, grads_1 = cells.rnn.loss_and_grads(single, X, Y, "bptt", "seq2seq")
    assert loss == pytest.approx(loss_1, rel=1e-13)
    for key in ("Wh", "Wx", "bh"):
        np.testing.assert_allclose(grads["dfw." + key], grads_1["d" + key], rtol=1e-12)
        assert not np.any(grads["dbw." + key])
    np.testing.assert_allclose(grads["dWy"][:, :3], grads_1["dWy"], rtol=1e-12)


def _adam_losses(loss_and_grads, params, steps):
    """Losses along `steps` steps of cells.train.Adam on the flat dict (keys as they come)."""
    from cells import train

    optimiser, losses = train.Adam(lr=0.02), []
    for _ in range(steps):
        loss, grads = loss_and_grads(params)
        losses.append(loss)
        params = optimiser.step(params, grads)
    return losses


def test_a_bidirectional_rnn_can_use_the_future_and_a_forward_one_cannot():
    """Target y⟨t⟩ = x⟨t+1⟩ (white noise): unpredictable from x⟨1⟩ … x⟨t⟩, read off
    h_bw⟨t⟩ by a bidirectional RNN. Trained with the same Adam, the forward RNN stays
    near the noise's variance; the bidirectional one fits it."""
    rng = np.random.default_rng(17)
    X = rng.standard_normal((1, 32, 6))
    Y = np.concatenate([X[:, :, 1:], np.zeros((1, 32, 1))], axis=2)  # y⟨t⟩ = x⟨t+1⟩, y⟨T⟩ = 0
    bi = deep.bidirectional_init("rnn", 1, 6, 1, seed=1)
    bi_losses = _adam_losses(
        lambda p: deep.bidirectional_loss_and_grads("rnn", p, X, Y, head="seq2seq"), bi, 300
    )
    fw = cells.rnn.init_params(1, 6, 1, seed=1)
    fw_losses = _adam_losses(lambda p: cells.rnn.loss_and_grads(p, X, Y, head="seq2seq"), fw, 300)
    assert bi_losses[-1] < 0.01 < 0.1 < fw_losses[-1], (bi_losses[-1], fw_losses[-1])


def test_a_stacked_lstm_trains_with_the_cells_optimiser():
    rng = np.random.default_rng(18)
    X = rng.standard_normal((1, 32, 6))
    Y = X.mean(axis=2)  # (1, 32): the mean of each sequence
    params = deep.stacked_init("lstm", 1, 6, 1, depth=2, seed=1)
    losses = _adam_losses(lambda p: deep.stacked_loss_and_grads("lstm", p, X, Y), params, 200)
    assert losses[-1] < 0.01 * losses[0], (losses[0], losses[-1])


# ----------------------------------------------------------------------------------
# The recorded graph (what drawings read) and float32.
# ----------------------------------------------------------------------------------
def test_stacked_record_scopes_and_names():
    params, X, Y = stacked_problem("lstm", 2, 2, 3, 1, 3, "seq2one", "identity")
    tape, loss, tensors = deep.stacked_record("lstm", params, X, Y)
    scopes = [r.scope for r in tape.records]
    steps = [s for s in dict.fromkeys(scopes) if s != "head"]
    assert steps == [f"l{layer}/lstm/t={t}" for layer in (1, 2) for t in (1, 2, 3)]
    assert scopes[-1] == "head" and set(scopes[scopes.index("head"):]) == {"head"}
    names = set(tape.names.values())
    assert {"l1.h<0>", "l1.c<0>", "l2.h<3>", "l2.c<3>", "l2.Γf<2>", "x<1>", "y_hat", "loss"} <= names
    assert set(tensors) == set(params)
    grads = tape.gradient(loss, tensors)
    assert all(np.any(g) for k, g in grads.items() if not k.endswith(".bf"))  # every weight is on a path


def test_bidirectional_record_runs_the_backward_direction_from_the_end():
    params, X, Y = bidirectional_problem("gru", 2, 3, 1, 3, "seq2seq", "identity")
    tape, _, _ = deep.bidirectional_record("gru", params, X, Y, head="seq2seq")
    steps = [s for s in dict.fromkeys(r.scope for r in tape.records) if s != "head"]
    assert steps == ["fw/gru/t=1", "fw/gru/t=2", "fw/gru/t=3", "bw/gru/t=3", "bw/gru/t=2", "bw/gru/t=1"]
    names = set(tape.names.values())
    assert {"fw.h<0>", "bw.h<4>", "bw.h<1>", "h<1>", "h<3>"} <= names


def test_long_sequences_iterate_and_agree():
    """Nothing recurses over time or layers: 3,000 steps, two layers, by hand and taped."""
    params, X, Y = stacked_problem("rnn", 2, 1, 2, 1, 3000, "seq2one", "identity", seed=19)
    hand = deep.stacked_loss_and_grads("rnn", params, X, Y, "bptt")[1]
    tape = deep.stacked_loss_and_grads("rnn", params, X, Y, "tape")[1]
    report = tt.check.compare(hand, tape, labels=("hand BPTT", "tape"), rtol=1e-10)
    assert report.ok, str(report)


def test_float32_runs_in_float32_and_stays_close():
    params, X, Y = stacked_problem("lstm", 2, 2, 4, 3, 5, "seq2seq", "tanh", seed=16)
    _, grads64 = deep.stacked_loss_and_grads("lstm", params, X, Y, "bptt", "seq2seq", "tanh")
    params32 = {k: v.astype(np.float32) for k, v in params.items()}
    for method in ("bptt", "tape"):
        _, grads32 = deep.stacked_loss_and_grads("lstm", params32, X, Y, method, "seq2seq", "tanh")
        assert {g.dtype for g in grads32.values()} == {np.dtype(np.float32)}
        report = tt.check.compare(grads32, grads64, labels=(f"float32 {method}", "float64"), rtol=1e-4)
        assert report.ok, str(report)


# ----------------------------------------------------------------------------------
# Bad input: a readable ValueError naming the function, the problem and the fix.
# ----------------------------------------------------------------------------------
FUNCTIONS = [name for name in deep.__all__ if not name.endswith(("_stacked", "_bidirectional"))]


def _bad_calls():
    X, Y = np.zeros((2, 3, 4)), np.zeros((2, 3))
    st = deep.stacked_init("lstm", 2, 3, 2, depth=2)
    bi = deep.bidirectional_init("rnn", 2, 3, 2)
    missing = {k: v for k, v in st.items() if k != "l2.bf"}
    gap = {k: v for k, v in deep.stacked_init("rnn", 2, 3, 2, depth=3).items() if not k.startswith("l2.")}
    wrong_layer2 = {**st, "l2.Wf": np.zeros((3, 5))}  # n_h + n_x columns where n_h + n_h belong
    narrow_head = {**bi, "Wy": np.zeros((2, 3))}  # n_h columns where [h_fw; h_bw] has 2n_h
    mixed = {**bi, "Wy": bi["Wy"].astype(np.float32)}
    sl, bl = deep.stacked_loss_and_grads, deep.bidirectional_loss_and_grads
    # (label, call, phrases the message must hold)
    return [
        ("unknown kind", lambda: sl("lsmt", st, X, Y), ["stacked_loss_and_grads", "'lsmt'", "lstm"]),
        ("missing key", lambda: sl("lstm", missing, X, Y), ["missing ['l2.bf']", "stacked_init"]),
        ("missing layer", lambda: sl("rnn", gap, X, Y), ["missing ['l2.Wh', 'l2.Wx']"]),
        ("layer-2 shape", lambda: sl("lstm", wrong_layer2, X, Y),
         ["l2.Wf (3, 5) (expected (3, 6))", "layer below"]),
        ("single cell", lambda: sl("lstm", cells.lstm.init_params(2, 3, 2), X, Y),
         ["no layer keys", "stacked_init"]),
        ("head width", lambda: bl("rnn", narrow_head, X, Y), ["Wy (2, 3) (expected (2, 6))", "[h_fw; h_bw]"]),
        ("stacked as bi", lambda: bl("rnn", st, X, Y), ["bidirectional rnn", "fw.Wh", "bidirectional_init"]),
        ("mixed dtypes", lambda: bl("rnn", mixed, X, Y), ["float32", "float64"]),
        ("keras layout", lambda: sl("lstm", st, X.transpose(1, 2, 0), Y),
         ["(3, 4, 2)", "transpose(2, 0, 1)"]),
        ("target", lambda: bl("rnn", bi, X, np.zeros((2, 3, 4))), ["head='seq2seq'"]),
        ("method", lambda: sl("lstm", st, X, Y, method="autograd"), ["unknown method 'autograd'"]),
        ("option", lambda: sl("lstm", st, X, Y, activation="relu"), ["unexpected option(s) ['activation']"]),
        ("depth", lambda: deep.stacked_init("lstm", 2, 3, 2, depth=0), ["stacked_init", "depth"]),
        ("not a dict", lambda: deep.stacked_predict("lstm", [1, 2], X), ["stacked_predict", "list"]),
    ]


@pytest.mark.parametrize("label, call, phrases", _bad_calls(), ids=[c[0] for c in _bad_calls()])
def test_bad_input_gets_a_clear_error(label, call, phrases):
    with pytest.raises(ValueError) as info:
        call()
    message = str(info.value)
    assert message.split(":")[0] in FUNCTIONS, message  # names the function called
    for phrase in phrases:
        assert phrase in message, f"{label}: {phrase!r} not in {message!r}"


def test_backward_checks_its_upstream_gradient_and_caches():
    """A dH of the wrong batch size would broadcast silently inside a cell's backward."""
    params, X, _ = stacked_problem("rnn", 2, 2, 3, 4, 5, "seq2seq", "identity")
    _, caches = deep.stacked_forward("rnn", X, params)
    with pytest.raises(ValueError, match=r"stacked_backward: dH has shape \(3, 1, 5\).*\(3, 4, 5\)"):
        deep.stacked_backward("rnn", np.ones((3, 1, 5)), caches, params)
    bi = deep.bidirectional_init("rnn", 2, 3, 2)
    with pytest.raises(ValueError, match="bidirectional_backward: caches must be"):
        deep.bidirectional_backward("rnn", np.ones((6, 4, 5)), caches, bi)
