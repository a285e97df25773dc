"""Replays: a recorded tape re-run on new values gives what recording them would give."""
import numpy as np
import pytest

import cells
import tinytape as tt
from cells.record import ReplayedLossAndGrads, record_module
from _numeric import central_difference

RNG = np.random.default_rng(7)


def model(W, b, x, y):
    """Broadcasting, fan-out, a shape op, an axis op and a slice: most of the sweep's paths."""
    z = tt.tanh(W @ x + b)                                    # (3, 5), b broadcast over columns
    s = tt.concatenate([z, tt.sigmoid(z) * x[:3]], axis=0)    # z used twice; basic slicing
    p = tt.softmax(s.T, axis=1)                               # (5, 6)
    return tt.sum((p - y) ** 2) / 2.0 + tt.mean(z * z)


def fresh_values():
    return (RNG.standard_normal((3, 4)), RNG.standard_normal((3, 1)),
            RNG.standard_normal((4, 5)), RNG.random((5, 6)))


def recorded(W0, b0, x0, y0):
    W, b = tt.Tensor(W0, name="W"), tt.Tensor(b0, name="b")
    # inputs of a replay are leaves (requires_grad), so the ops that read only them are recorded
    x, y = tt.Tensor(x0, name="x", requires_grad=True), tt.Tensor(y0, name="y", requires_grad=True)
    with tt.Tape(persistent=True) as tape:
        tape.watch(W, b)
        loss = model(W, b, x, y)
    return tape, loss, (W, b, x, y)


def test_replay_on_new_values_is_bit_identical_to_recording_them():
    tape, loss, (W, b, x, y) = recorded(*fresh_values())
    step = tape.replayer(loss, {"W": W, "b": b}, inputs=[x, y])
    for _ in range(3):
        W1, b1, x1, y1 = fresh_values()
        value, grads = step({W: W1, b: b1, x: x1, y: y1})
        tape1, loss1, (Wt, bt, _, _) = recorded(W1, b1, x1, y1)
        expected = tape1.gradient(loss1, {"W": Wt, "b": bt})
        assert value == loss1.value                      # exactly: the same NumPy calls in order
        for k in ("W", "b"):
            assert np.array_equal(grads[k], expected[k]), k


def test_replayed_gradients_match_central_differences():
    tape, loss, (W, b, x, y) = recorded(*fresh_values())
    step = tape.replayer(loss, [W, b], inputs=[x, y])
    W1, b1, x1, y1 = fresh_values()
    _, (dW, db) = step({W: W1, b: b1, x: x1, y: y1})

    def f_of_W(w):
        return float(model(tt.Tensor(w), tt.Tensor(b1), tt.Tensor(x1), tt.Tensor(y1)).value)

    def f_of_b(v):
        return float(model(tt.Tensor(W1), tt.Tensor(v), tt.Tensor(x1), tt.Tensor(y1)).value)

    np.testing.assert_allclose(dW, central_difference(f_of_W, W1), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(db, central_difference(f_of_b, b1), rtol=1e-7, atol=1e-9)


def test_what_is_not_replaced_keeps_its_recorded_value():
    W0, b0, x0, y0 = fresh_values()
    tape, loss, (W, b, x, y) = recorded(W0, b0, x0, y0)
    step = tape.replayer(loss, {"W": W}, inputs=[x])
    value, grads = step()                                  # nothing replaced: the recording itself
    assert value == loss.value
    assert np.array_equal(grads["W"], tape.gradient(loss, {"W": W})["W"])
    value, _ = step({x: x0 * 2})                            # b and y stay as recorded
    expected = model(tt.Tensor(W0), tt.Tensor(b0), tt.Tensor(x0 * 2), tt.Tensor(y0)).value
    assert value == expected


def test_a_source_the_target_does_not_reach_gets_zeros_and_int_inputs_are_converted():
    a, unused = tt.Tensor(np.ones(3)), tt.Tensor(np.ones((2, 2)))
    with tt.Tape(persistent=True) as tape:
        tape.watch(a, unused)
        loss = tt.sum(a * a)
    value, (da, du) = tape.replayer(loss, [a, unused])({a: np.array([1, 2, 3])})
    assert value == 14.0 and np.array_equal(da, [2.0, 4.0, 6.0])
    assert np.array_equal(du, np.zeros((2, 2)))


def test_a_ten_thousand_step_chain_replays_without_recursion():
    x = tt.Tensor(np.full((2, 2), 0.5))
    with tt.Tape(persistent=True) as tape:
        tape.watch(x)
        h = x
        for _ in range(10_000):
            h = tt.tanh(h) * 1.0001
        loss = tt.sum(h)
    value, dx = tape.replayer(loss, x)({x: np.full((2, 2), 0.25)})
    assert np.isfinite(value) and dx.shape == (2, 2) and np.all(dx > 0)


# ----------------------------------------------------------------------- errors
def test_a_new_value_of_another_shape_is_a_clear_error():
    tape, loss, (W, b, x, y) = recorded(*fresh_values())
    step = tape.replayer(loss, [W, b], inputs=[x])
    with pytest.raises(ValueError, match=r"input 'x' has shape \(4, 7\) but was recorded with shape \(4, 5\).*record a new tape"):
        step({x: np.zeros((4, 7))})
    with pytest.raises(ValueError, match=r"input 'W' is float32 but was recorded as float64"):
        step({W: np.zeros((3, 4), np.float32)})


def test_a_tensor_that_is_not_replayable_is_named_with_the_ones_that_are():
    tape, loss, (W, b, x, y) = recorded(*fresh_values())
    step = tape.replayer(loss, [W], inputs=[x])
    assert repr(step).startswith(f"<Replay: {len(tape)} ops forward,") and repr(step).endswith("replayable: 'W', 'x'>")
    with pytest.raises(KeyError, match=r"'b' is not replayable here.*'W', 'x'"):
        step({b: np.zeros((3, 1))})


@pytest.mark.parametrize("build", [
    lambda x: tt.sum(tt.where(x.value > 0, x, 0.0 * x)),       # a condition read from the data
    lambda x: tt.sum(x[np.array([0, 0, 1])]),                   # an integer-array index
    lambda x: tt.sum(tt.take(x, np.array([1, 0]))),
])
def test_ops_with_array_parameters_are_refused(build):
    x = tt.Tensor(np.array([0.5, -1.0, 2.0]), name="x")
    with tt.Tape(persistent=True) as tape:
        tape.watch(x)
        loss = build(x)
    with pytest.raises(tt.TapeError, match=r"record \d+, tinytape\.\w+ \(recorded at .*test_replay\.py:\d+\), "
                                           r"has the array parameter .*wrong gradients"):
        tape.replayer(loss, x)


def test_replayer_errors_name_the_problem():
    x = tt.Tensor(np.ones(3), name="x")
    with tt.Tape() as tape:
        tape.watch(x)
        mid = tt.tanh(x)
        vector = mid * 2.0
        loss = tt.sum(vector)
    with pytest.raises(tt.TapeError, match="not computed on this tape"):
        tape.replayer(x, x)
    with pytest.raises(ValueError, match=r"shape \(3,\), not a scalar"):
        tape.replayer(vector, x)
    with pytest.raises(tt.TapeError, match="source 'v\\d+' is not a leaf"):
        tape.replayer(loss, mid)
    with pytest.raises(tt.TapeError, match="was computed on this tape"):
        tape.replayer(loss, x, inputs=[mid])
    untracked = tt.Tensor(np.ones(3), name="u")
    with tt.Tape(persistent=True) as tape2:
        tape2.watch(x)
        loss2 = tt.sum(x * tt.exp(untracked))          # exp(u) is not recorded: u is untracked
    with pytest.raises(tt.TapeError, match=r"input 'u' is not a leaf of this tape.*requires_grad=True"):
        tape2.replayer(loss2, x, inputs=[untracked])
    tape.gradient(loss, x)                                   # a non-persistent tape frees its records
    with pytest.raises(tt.TapeError, match=r"freed by its gradient\(\) call.*persistent=True"):
        tape.replayer(loss, x)


# ----------------------------------------------------------------------- the cells
CASES = [("lstm", {}, "seq2one", "identity"), ("gru", {}, "seq2seq", "tanh"),
         ("rnn", {"activation": "relu"}, "seq2seq", "softmax"), ("peephole", {}, "seq2one", "identity"),
         ("gru_keras", {}, "seq2seq", "identity"), ("rnn", {}, "seq2one", "tanh")]


def batch(n_x, n_y, m, T, head, output):
    X = RNG.standard_normal((n_x, m, T))
    if output == "softmax":
        Y = np.eye(n_y)[:, RNG.integers(0, n_y, (m, T))]
    else:
        Y = RNG.standard_normal((n_y, m) if head == "seq2one" else (n_y, m, T))
    return X, Y


def fresh_recording(module, params, X, Y, head, output, stacked_gates, options):
    """(loss, grads) of one new recording of the program a ReplayedLossAndGrads replays."""
    tape, loss, tensors = record_module(module, params, X, Y, head, output, persistent=False,
                                        trace=False, stacked_gates=stacked_gates, **options)
    grads = tape.gradient(loss, tensors)
    return float(np.asarray(loss)), {"d" + k: grads[k] for k in params}


@pytest.mark.parametrize("stacked_gates", [None, False])
@pytest.mark.parametrize("kind,options,head,output", CASES)
def test_replayed_cell_steps_equal_recording_every_batch_and_hand_bptt(kind, options, head, output,
                                                                       stacked_gates):
    module = cells.get(kind)
    params = module.init_params(2, 5, 3, seed=1)
    step = ReplayedLossAndGrads(module, head, output, stacked_gates=stacked_gates, **options)
    # None stacks the gates where the cell can (the LSTM); False records the per-gate step
    assert step.stacked_gates == (stacked_gates is None and kind == "lstm")
    for m in (4, 4, 3, 4):                     # a second batch shape gets its own recording
        params = {k: v + 0.05 * RNG.standard_normal(v.shape) for k, v in params.items()}
        X, Y = batch(2, 3, m, 6, head, output)
        loss, grads = step(params, X, Y)
        loss_rec, rec = fresh_recording(module, params, X, Y, head, output, step.stacked_gates, options)
        loss_tape, tape = module.loss_and_grads(params, X, Y, method="tape", head=head, output=output, **options)
        loss_hand, hand = module.loss_and_grads(params, X, Y, method="bptt", head=head, output=output, **options)
        assert list(grads) == list(tape) and loss == loss_rec
        for k in tape:
            assert np.array_equal(grads[k], rec[k]), k          # bit for bit: the same program
            np.testing.assert_allclose(grads[k], tape[k], rtol=1e-10, atol=1e-13, err_msg=k)
            np.testing.assert_allclose(grads[k], hand[k], rtol=1e-10, atol=1e-13, err_msg=k)
        assert loss == pytest.approx(loss_hand, rel=1e-12)
    assert len(step._replays) == 2


def test_fit_with_the_tape_replays_and_ends_where_recording_every_batch_ends(monkeypatch):
    import cells.record
    from cells.train import fit

    X, Y = batch(1, 1, 50, 5, "seq2one", "identity")        # batches of 16, 16, 16 and 2
    replayed, _ = fit("lstm", X, Y, n_h=4, method="tape", epochs=3, batch_size=16, progress=False)

    class RecordEveryBatch:
        calls = 0

        def __init__(self, module, head, output, stacked_gates=None, truncate=None, **options):
            assert stacked_gates is None and truncate is None     # fit's defaults
            self.module, self.head, self.output, self.options = module, head, output, options

        def __call__(self, params, X, Y):
            RecordEveryBatch.calls += 1
            # fit's tape records the LSTM with its gates stacked (step_stacked)
            return fresh_recording(self.module, params, X, Y, self.head, self.output, True, self.options)

    monkeypatch.setattr(cells.record, "ReplayedLossAndGrads", RecordEveryBatch)
    recorded, _ = fit("lstm", X, Y, n_h=4, method="tape", epochs=3, batch_size=16, progress=False)
    assert RecordEveryBatch.calls == 12                      # the patch was the one used
    for k in recorded:
        assert np.array_equal(replayed[k], recorded[k]), k


TRUNCATED = [("lstm", {}, "seq2one", "identity", None), ("lstm", {}, "seq2seq", "tanh", False),
             ("gru", {}, "seq2one", "identity", None), ("rnn", {"activation": "relu"}, "seq2seq", "softmax", None),
             ("peephole", {}, "seq2one", "identity", None)]


@pytest.mark.parametrize("kind,options,head,output,stacked_gates", TRUNCATED)
def test_truncated_replays_equal_their_recording_and_truncated_bptt(kind, options, head, output, stacked_gates):
    from cells import train

    module = cells.get(kind)
    params = module.init_params(2, 5, 3, seed=2)
    step = ReplayedLossAndGrads(module, head, output, stacked_gates=stacked_gates, truncate=2, **options)
    for m in (4, 4, 3, 4):
        params = {k: v + 0.05 * RNG.standard_normal(v.shape) for k, v in params.items()}
        X, Y = batch(2, 3, m, 5, head, output)                 # windows: 4-5 (seq2one); 1-2, 3-4, 5
        loss, grads = step(params, X, Y)
        fresh = ReplayedLossAndGrads(module, head, output, stacked_gates=stacked_gates, truncate=2, **options)
        loss_rec, rec = fresh(params, X, Y)                     # its first call records and sweeps
        kw = dict(head=head, output=output, **options)
        loss_hand, hand = train.truncated_loss_and_grads(kind, params, X, Y, 2, method="bptt", **kw)
        _, tape = train.truncated_loss_and_grads(kind, params, X, Y, 2, method="tape", **kw)
        _, full = module.loss_and_grads(params, X, Y, method="bptt", **kw)
        assert loss == loss_rec and loss == pytest.approx(loss_hand, rel=1e-12)
        for k in hand:
            assert np.array_equal(grads[k], rec[k]), k
            np.testing.assert_allclose(grads[k], hand[k], rtol=1e-10, atol=1e-13, err_msg=k)
            np.testing.assert_allclose(grads[k], tape[k], rtol=1e-10, atol=1e-13, err_msg=k)
        # the truncation is real: some weight's gradient differs from full BPTT's
        assert any(not np.allclose(grads[k], full[k], rtol=1e-6) for k in hand)
    assert len(step._replays) == 2


def test_truncation_at_least_the_sequence_length_replays_full_bptt():
    module = cells.get("lstm")
    params = module.init_params(2, 5, 3, seed=3)
    X, Y = batch(2, 3, 4, 5, "seq2one", "identity")
    long, full = ReplayedLossAndGrads(module, truncate=5), ReplayedLossAndGrads(module)
    for _ in range(2):
        (a, ga), (b, gb) = long(params, X, Y), full(params, X, Y)
        assert a == b and all(np.array_equal(ga[k], gb[k]) for k in ga)
    with pytest.raises(ValueError, match=r"truncate=0 must be a positive integer"):
        ReplayedLossAndGrads(module, truncate=0)
