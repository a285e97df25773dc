"""Every cell × head × output × size: hand BPTT vs the tape (≤ 1e-10, float64), and
both against central finite differences. Failures print tinytape.check's table."""

import numpy as np
import pytest

import cells
import tinytape as tt
from cells import record

KINDS = list(cells.KINDS)
HEADS = ["seq2one", "seq2seq"]
OUTPUTS = ["identity", "tanh", "softmax"]
# (n_x, n_h, m, T): T = 1 and m = 1 included
SIZES = [(1, 3, 1, 1), (2, 4, 3, 5), (3, 2, 4, 1), (1, 5, 1, 6)]


def make_problem(kind, n_x, n_h, m, T, head, output, seed=0, dtype=np.float64):
    """Parameters with non-zero biases (so every bias path is exercised), X and Y."""
    rng = np.random.default_rng(seed)
    n_y = 3 if output == "softmax" else 2
    params = cells.get(kind).init_params(n_x, n_h, n_y, seed=seed, dtype=dtype)
    for key, value in params.items():
        if key.startswith("b") or key == "bias":
            params[key] = (value + 0.3 * rng.standard_normal(value.shape)).astype(dtype)
    X = rng.standard_normal((n_x, m, T)).astype(dtype)
    target_shape = (m,) if head == "seq2one" else (m, T)
    if output == "softmax":
        labels = rng.integers(0, n_y, size=target_shape)
        Y = np.moveaxis(np.eye(n_y)[labels], -1, 0)  # one-hot, classes first
    else:
        Y = rng.uniform(-0.9, 0.9, size=(n_y,) + target_shape)
    return params, X, Y.astype(dtype)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: "nx{}-nh{}-m{}-T{}".format(*s))
@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("kind", KINDS)
def test_hand_bptt_agrees_with_tape(kind, head, output, size):
    params, X, Y = make_problem(kind, *size, head, output)
    module = cells.get(kind)
    loss_hand, hand = module.loss_and_grads(params, X, Y, method="bptt", head=head, output=output)
    loss_tape, tape = module.loss_and_grads(params, X, Y, method="tape", head=head, output=output)
    assert list(hand) == ["d" + k for k in params]
    assert abs(loss_hand - loss_tape) <= 1e-12 * max(1.0, abs(loss_tape))
    report = tt.check.compare(hand, tape, labels=("hand BPTT", "tape"), rtol=1e-10)
    assert report.ok, f"{kind} {head} {output} {size}\n{report}"


@pytest.mark.parametrize("size", [(2, 3, 2, 3), (1, 2, 1, 1)], ids=["m2-T3", "m1-T1"])
@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("kind", KINDS)
def test_hand_bptt_agrees_with_finite_differences(kind, head, output, size):
    """Every entry of every gradient, by central differences of the hand forward's loss
    (a route that shares no backward code with either BPTT or the tape)."""
    params, X, Y = make_problem(kind, *size, head, output, seed=1)
    module = cells.get(kind)
    _, hand = module.loss_and_grads(params, X, Y, head=head, output=output)

    def loss(p):
        return module.loss_and_grads(p, X, Y, head=head, output=output)[0]

    numeric = {"d" + k: g for k, g in tt.check.numeric_gradient(loss, params).items()}
    report = tt.check.compare(hand, numeric, labels=("hand BPTT", "finite differences"), rtol=1e-6, atol=1e-9)
    assert report.ok, f"{kind} {head} {output} {size}\n{report}"


@pytest.mark.parametrize("kind", KINDS)
def test_tape_gradcheck(kind):
    """The taped loss (record.taped_loss, Tensor parameters) through tinytape.check.gradcheck."""
    params, X, Y = make_problem(kind, 2, 3, 2, 4, "seq2seq", "tanh", seed=2)
    module = cells.get(kind)
    report = tt.check.gradcheck(
        lambda p: record.taped_loss(module, p, X, Y, head="seq2seq", output="tanh"), params
    )
    assert report.ok, str(report)


@pytest.mark.parametrize("kind", KINDS)
def test_tape_gradcheck_random_directions_bigger(kind):
    """A bigger case by directional derivatives (cost independent of the parameter count)."""
    params, X, Y = make_problem(kind, 3, 12, 5, 8, "seq2one", "softmax", seed=3)
    module = cells.get(kind)
    report = tt.check.gradcheck(
        lambda p: record.taped_loss(module, p, X, Y, head="seq2one", output="softmax"),
        params,
        mode="random",
        n_directions=3,
    )
    assert report.ok, str(report)


@pytest.mark.parametrize("kind", KINDS)
def test_sequence_backward_dx_dh0_against_finite_differences(kind):
    """backward's dx, dh0 (and dc0) with a random upstream dH: ⟨H, U⟩ as the loss."""
    n_x, n_h, m, T = 2, 3, 2, 4
    params, X, _ = make_problem(kind, n_x, n_h, m, T, "seq2seq", "identity", seed=4)
    module = cells.get(kind)
    rng = np.random.default_rng(5)
    U = rng.standard_normal((n_h, m, T))
    h0 = rng.standard_normal((n_h, m))
    out = module.forward(X, h0, params)
    grads = module.backward(U, out[-1])

    def inner(x, h):
        return float(np.sum(module.forward(x, h, params)[0] * U))

    dx, dh0 = tt.check.numeric_gradient(inner, X, h0)
    report = tt.check.compare(
        {"dx": grads["dx"], "dh0": grads["dh0"]}, {"dx": dx, "dh0": dh0},
        labels=("hand BPTT", "finite differences"), rtol=1e-7,
    )
    assert report.ok, str(report)
    numeric_params = tt.check.numeric_gradient(lambda p: float(np.sum(module.forward(X, h0, p)[0] * U)), params)
    gate = {"d" + k: v for k, v in numeric_params.items() if k not in ("Wy", "by")}
    report = tt.check.compare({k: grads[k] for k in gate}, gate, labels=("hand BPTT", "finite differences"), rtol=1e-7)
    assert report.ok, str(report)


def test_lstm_dc0_against_finite_differences():
    """dc0: the gradient reaching the initial cell state (the thesis's c^(0) = 0)."""
    n_x, n_h, m, T = 2, 3, 2, 3
    for module in (cells.lstm, cells.peephole):
        params, X, _ = make_problem(module.KIND, n_x, n_h, m, T, "seq2seq", "identity", seed=6)
        U = np.random.default_rng(7).standard_normal((n_h, m, T))
        caches = module.forward(X, None, params)[-1]
        dc0 = module.backward(U, caches)["dc0"]

        def inner(c0):
            h, c = np.zeros((n_h, m)), c0
            total = 0.0
            for t in range(T):
                h, c, _ = module.cell_forward(X[:, :, t], h, c, params)
                total += float(np.sum(h * U[:, :, t]))
            return total

        numeric = tt.check.numeric_gradient(inner, np.zeros((n_h, m)))
        report = tt.check.compare({"dc0": dc0}, {"dc0": numeric}, labels=("hand", "finite differences"), rtol=1e-7)
        assert report.ok, str(report)


@pytest.mark.parametrize("kind", KINDS)
def test_tape_input_gradients_match_hand_dx(kind):
    """taped_forward with the inputs as our own Tensors: dL/dx<t> from the tape equals
    the hand backward's dx[:, :, t-1]."""
    from cells import _common

    params, X, Y = make_problem(kind, 2, 3, 2, 4, "seq2seq", "tanh", seed=8)
    module = cells.get(kind)
    xs = [tt.Tensor(X[:, :, t]) for t in range(4)]
    with tt.Tape() as tape:
        tape.watch(*xs)
        tensors = {k: tt.Tensor(v) for k, v in params.items()}
        tape.watch(*tensors.values())
        hs = record.taped_forward(module, tensors, xs)
        loss = record.head_loss(tensors, hs, Y, "seq2seq", "tanh")
    taped = np.stack(tape.gradient(loss, xs), axis=2)
    assert [x.name for x in xs] == ["x<1>", "x<2>", "x<3>", "x<4>"]
    out = module.forward(X, None, params)
    _, dH, _ = _common.head_loss_and_backward(params, out[0], Y, "seq2seq", "tanh")
    hand = module.backward(dH, out[-1])
    report = tt.check.compare({"dx": hand["dx"]}, {"dx": taped}, labels=("hand BPTT", "tape"), rtol=1e-10)
    assert report.ok, str(report)


@pytest.mark.parametrize("kind, T", [("rnn", 10_000), ("lstm", 1_000), ("gru", 1_000)])
def test_long_sequences_hand_and_tape(kind, T):
    """Nothing recurses: long unrolled sequences run on the tape and by hand, and agree."""
    params, X, Y = make_problem(kind, 1, 2, 1, T, "seq2one", "identity", seed=9)
    module = cells.get(kind)
    _, hand = module.loss_and_grads(params, X, Y)
    _, tape = module.loss_and_grads(params, X, Y, method="tape")
    report = tt.check.compare(hand, tape, labels=("hand BPTT", "tape"), rtol=1e-10)
    assert report.ok, str(report)
