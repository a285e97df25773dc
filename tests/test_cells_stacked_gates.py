"""The LSTM with its gates stacked (lstm.step_stacked): one matmul per step for the four
pre-activations, as Keras stores them and as the hand forward runs them, and the program
fit(method="tape") records. It must be the same function as the per-gate `step`, and
the tape must differentiate it as well as it does the per-gate graph."""
import numpy as np
import pytest

import cells
import tinytape as tt
from cells import lstm, record
from cells.record import ReplayedLossAndGrads
from test_cells_agreement import make_problem

RNG = np.random.default_rng(11)


@pytest.mark.parametrize("n_x,n_h,m", [(1, 3, 1), (3, 5, 4), (2, 78, 7)])
def test_step_stacked_is_step(n_x, n_h, m):
    params, _, _ = make_problem("lstm", n_x, n_h, m, 1, "seq2one", "identity", seed=n_h)
    xt, h, c = RNG.standard_normal((n_x, m)), RNG.standard_normal((n_h, m)), RNG.standard_normal((n_h, m))
    h1, c1, parts1 = lstm.step(xt, h, c, params)
    h2, c2, parts2 = lstm.step_stacked(xt, h, c, lstm.weights_stacked(params))
    np.testing.assert_allclose(h2, h1, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(c2, c1, rtol=1e-13, atol=1e-15)
    for field in ("gf", "gu", "cc", "go", "tanh_c"):
        np.testing.assert_allclose(getattr(parts2, field), getattr(parts1, field), rtol=1e-13,
                                   atol=1e-15, err_msg=field)
    np.testing.assert_array_equal(parts2.concat, np.vstack([h, xt, np.ones((1, m))]))


@pytest.mark.parametrize("output", ["identity", "tanh", "softmax"])
@pytest.mark.parametrize("head", ["seq2one", "seq2seq"])
def test_stacked_tape_agrees_with_hand_bptt_and_the_per_gate_tape(head, output):
    params, X, Y = make_problem("lstm", 2, 4, 3, 5, head, output, seed=5)
    _, hand = lstm.loss_and_grads(params, X, Y, head=head, output=output)
    _, per_gate = lstm.loss_and_grads(params, X, Y, method="tape", head=head, output=output)
    tape, loss, tensors = record.record("lstm", params, X, Y, head, output, stacked_gates=True)
    stacked = tape.gradient(loss, tensors)
    for k in params:
        np.testing.assert_allclose(stacked[k], hand["d" + k], rtol=1e-10, atol=1e-13, err_msg=k)
        np.testing.assert_allclose(stacked[k], per_gate["d" + k], rtol=1e-10, atol=1e-13, err_msg=k)


def test_stacked_tape_gradcheck():
    """Against central differences, independent of both hand BPTT and the per-gate graph."""
    params, X, Y = make_problem("lstm", 2, 3, 2, 4, "seq2seq", "tanh", seed=2)
    report = tt.check.gradcheck(
        lambda p: record.taped_loss(lstm, p, X, Y, head="seq2seq", output="tanh", stacked_gates=True),
        params)
    assert report.ok, str(report)


def test_the_stacked_tape_names_the_gates_and_is_shorter_per_step():
    params, X, Y = make_problem("lstm", 1, 3, 2, 3, "seq2one", "identity")
    per_gate, _, _ = record.record("lstm", params, X, Y)
    stacked, _, _ = record.record("lstm", params, X, Y, stacked_gates=True)

    def per_step(tape):
        return sum(rec.scope == "lstm/t=2" for rec in tape.records)

    assert (per_step(per_gate), per_step(stacked)) == (18, 14)
    # the weights are stacked once, before the steps, under their own scope
    weights = [rec for rec in stacked.records if rec.scope == "lstm/weights"]
    assert [rec.op.name for rec in weights] == ["concatenate"] * 5
    assert stacked.label(weights[-1].output) == "W_stacked"
    labels = {stacked.label(rec.output) for rec in stacked.records}
    assert {"Γf<2>", "Γu<2>", "c̃<2>", "Γo<2>", "h<3>", "c<3>", "loss"} <= labels


def test_stacked_gates_for_a_cell_without_them_is_a_clear_error():
    params, X, Y = make_problem("gru", 1, 3, 2, 3, "seq2one", "identity")
    with pytest.raises(ValueError, match=r"the gru cell has no step_stacked.*stacked_gates=False"):
        record.record("gru", params, X, Y, stacked_gates=True)
    with pytest.raises(ValueError, match=r"the gru cell has no step_stacked.*stacked_gates=False"):
        ReplayedLossAndGrads(cells.get("gru"), stacked_gates=True)


def test_the_stacked_tape_draws_clustered_by_step():
    from visuals import draw

    params, X, Y = make_problem("lstm", 1, 2, 1, 2, "seq2one", "identity")
    tape, _, _ = record.record("lstm", params, X, Y, stacked_gates=True)
    source = draw(tape, level="op").source
    for cluster in ("weights", "step 1", "step 2"):
        assert f'label="{cluster}"' in source, cluster
    assert "W_stacked" in source
    # cell level: one box per step, and one for the stacking, named by what it makes
    cell = draw(tape, level="cell").source
    assert "label=<weights: W_stacked>" in cell
    assert cell.count("<B>LSTM</B><BR/>t = ") == 2
