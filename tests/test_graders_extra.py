"""Each lesson grader in lessons/graders_extra.py passes the worked solution and fails
realistic wrong answers (with the right gradient named), and an unfinished or crashing
exercise gets a short verdict instead of a traceback."""
from __future__ import annotations

import numpy as np
import pytest

from lessons import graders_extra as g
from lessons.solutions import beyond, data, gradients, gru, lstm, rnn, tape_basics


def grade(check, *args):
    return check(*args, quiet=True)


def wrong_key(fn, key, transform):
    """A copy of a gradient-returning solution with one entry transformed (a crafted bug)."""
    def buggy(*args):
        out = fn(*args)
        if isinstance(out, tuple):                       # (loss, grads)
            loss, grads = out
            return loss, {**grads, key: transform(grads[key])}
        return {**out, key: transform(out[key])}
    buggy.__name__ = fn.__name__
    return buggy


# ------------------------------------------------------------------ lesson 0
def test_dL_dw5_and_dw1_pass_the_solutions_and_match_mazur():
    assert grade(g.check_dL_dw5, tape_basics.dL_dw5).ok
    assert grade(g.check_dL_dw1, tape_basics.dL_dw1).ok
    # an independent published figure, not the tape: Mazur's worked example
    assert tape_basics.dL_dw5(g.MAZUR) == pytest.approx(0.082167041, abs=1e-9)
    assert tape_basics.dL_dw1(g.MAZUR) == pytest.approx(0.000438568, abs=1e-9)


def test_dL_dw1_with_one_path_forgotten_fails():
    def one_path(v):  # the classic slip: only the path through out_o1
        out_h1 = 1 / (1 + np.exp(-(v["w1"] * v["i1"] + v["w2"] * v["i2"] + v["b1"])))
        out_h2 = 1 / (1 + np.exp(-(v["w3"] * v["i1"] + v["w4"] * v["i2"] + v["b1"])))
        out_o1 = 1 / (1 + np.exp(-(v["w5"] * out_h1 + v["w6"] * out_h2 + v["b2"])))
        return (out_o1 - v["t1"]) * out_o1 * (1 - out_o1) * v["w5"] * out_h1 * (1 - out_h1) * v["i1"]
    verdict = grade(g.check_dL_dw1, one_path)
    assert not verdict.ok and "disagree" in verdict.summary


def test_hard_coded_number_fails_on_random_networks():
    verdict = grade(g.check_dL_dw5, lambda v: 0.082167041)
    assert not verdict.ok and "random values" in verdict.summary


# ------------------------------------------------------------------ lesson 1
def test_linear_rnn_bptt():
    assert grade(g.check_linear_rnn_bptt, rnn.linear_rnn_bptt).ok
    bad = wrong_key(rnn.linear_rnn_bptt, "dW", lambda a: a.T)          # transposed
    verdict = grade(g.check_linear_rnn_bptt, bad)
    assert not verdict.ok
    assert "dW (random)" in verdict.summary and "dU" not in verdict.summary


def test_dL_dh_expansion():
    assert grade(g.check_dL_dh_expansion, rnn.dL_dh_expansion).ok

    def without_transpose(W, V, dL_do, t):  # (W)^(T-i) instead of (Wᵀ)^(T-i)
        return rnn.dL_dh_expansion(W.T, V, dL_do, t)
    verdict = grade(g.check_dL_dh_expansion, without_transpose)
    assert not verdict.ok and "random" in verdict.summary


# ------------------------------------------------------------------ lesson 2
def test_clip_by_global_norm():
    assert grade(g.check_clip_by_global_norm, gradients.clip_by_global_norm).ok

    def clips_each_separately(grads, max_norm):  # per-gradient norm: changes the direction
        out = {k: v * min(1.0, max_norm / np.linalg.norm(v)) for k, v in grads.items()}
        return out, gradients.clip_by_global_norm(grads, max_norm)[1]
    assert not grade(g.check_clip_by_global_norm, clips_each_separately).ok


def test_rnn_backward_truncated():
    assert grade(g.check_rnn_backward_truncated, gradients.rnn_backward_truncated).ok

    def off_by_one(dH, caches, k):  # one step too many
        return gradients.rnn_backward_truncated(dH, caches, k + 1)
    verdict = grade(g.check_rnn_backward_truncated, off_by_one)
    assert not verdict.ok and "(k=1)" in verdict.summary and "(k=7)" not in verdict.summary


# ------------------------------------------------------------------ lesson 3
def test_initialize_lstm_parameters():
    assert grade(g.check_initialize_lstm_parameters, lstm.initialize_lstm_parameters).ok

    def he_normal(n_x, n_h, n_y, seed=0):  # the thesis's sqrt(2/N): He, not Glorot
        p = lstm.initialize_lstm_parameters(n_x, n_h, n_y, seed)
        scale = np.sqrt(2.0 / (n_h + n_x)) / np.sqrt(2.0 / (2 * n_h + n_x))
        return {k: (v * scale if k.startswith("W") and k != "Wy" else v) for k, v in p.items()}
    verdict = grade(g.check_initialize_lstm_parameters, he_normal)
    assert not verdict.ok and "standard deviation" in verdict.summary

    def unseeded(n_x, n_h, n_y, seed=0):
        return lstm.initialize_lstm_parameters(n_x, n_h, n_y, seed=np.random.randint(1 << 30))
    assert not grade(g.check_initialize_lstm_parameters, unseeded).ok


def test_lstm_loss_and_grads():
    assert grade(g.check_lstm_loss_and_grads, lstm.lstm_loss_and_grads).ok
    sum_not_mean = wrong_key(lstm.lstm_loss_and_grads, "dWy", lambda a: a * 4)   # m = 4: forgot the 1/m
    verdict = grade(g.check_lstm_loss_and_grads, sum_not_mean)
    assert not verdict.ok and verdict.summary.startswith("dWy disagree")


def test_adam_update():
    assert grade(g.check_adam_update, lstm.adam_update).ok

    def no_bias_correction(parameters, grads, v, s, t, learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8):
        new_p, new_v, new_s = {}, {}, {}
        for k in parameters:
            new_v["d" + k] = beta1 * v.get("d" + k, 0.0) + (1 - beta1) * grads["d" + k]
            new_s["d" + k] = beta2 * s.get("d" + k, 0.0) + (1 - beta2) * grads["d" + k] ** 2
            new_p[k] = parameters[k] - learning_rate * new_v["d" + k] / (np.sqrt(new_s["d" + k]) + epsilon)
        return new_p, new_v, new_s
    assert not grade(g.check_adam_update, no_bias_correction).ok


def test_predict_lstm():
    assert grade(g.check_predict_lstm, lstm.predict_lstm).ok

    def first_step_state(X, parameters):  # uses h⟨1⟩ instead of h⟨T⟩
        H, _, _ = lstm.lstm_forward(X, np.zeros((parameters["Wf"].shape[0], X.shape[1])), parameters)
        return parameters["Wy"] @ H[:, :, 0] + parameters["by"]
    assert not grade(g.check_predict_lstm, first_step_state).ok


def test_thesis_literal_slip_is_recognised_and_the_correct_backward_is_not_a_slip():
    verdict = grade(g.check_lstm_cell_backward_thesis_literal, lstm.lstm_cell_backward_thesis_literal,
                    lstm.lstm_cell_forward)
    assert verdict.ok, str(verdict)
    correct = grade(g.check_lstm_cell_backward_thesis_literal, lstm.lstm_cell_backward, lstm.lstm_cell_forward)
    assert not correct.ok and "agrees with the tape" in correct.summary


# ------------------------------------------------------------------ lesson 4
def test_gru_forward():
    assert grade(g.check_gru_forward, gru.gru_forward).ok

    def swapped_gate(x, h0, parameters):  # Γu and 1 − Γu swapped
        swapped = {**parameters, "Wu": -parameters["Wu"], "bu": -parameters["bu"]}
        return gru.gru_forward(x, h0, swapped)
    assert not grade(g.check_gru_forward, swapped_gate).ok


def test_gru_backward():
    assert grade(g.check_gru_backward, gru.gru_backward, gru.gru_forward).ok

    def last_step_only(dH, caches):  # assignment instead of accumulation over time
        grads = gru.gru_backward(dH, caches)
        step = gru.gru_cell_backward(dH[:, :, -1], caches[-1])
        return {**grads, "dWh": step["dWh"]}
    verdict = grade(g.check_gru_backward, last_step_only, gru.gru_forward)
    assert not verdict.ok
    assert "dWh" in verdict.details[0].failures and "dWu" not in verdict.details[0].failures


def test_gru_keras_cell_forward():
    assert grade(g.check_gru_keras_cell_forward, gru.gru_keras_cell_forward).ok

    def reset_before(xt, h_prev, parameters):  # the lab's reset placement in Keras's cell
        n_h = h_prev.shape[0]
        K, R, b = parameters["kernel"], parameters["recurrent_kernel"], parameters["bias"]
        xp, hp = K.T @ xt + b[0][:, None], R.T @ h_prev + b[1][:, None]
        z = 1 / (1 + np.exp(-(xp[:n_h] + hp[:n_h])))
        r = 1 / (1 + np.exp(-(xp[n_h:2 * n_h] + hp[n_h:2 * n_h])))
        hh = np.tanh(xp[2 * n_h:] + R[:, 2 * n_h:].T @ (r * h_prev) + b[1][2 * n_h:, None])
        return z * h_prev + (1 - z) * hh, None
    assert not grade(g.check_gru_keras_cell_forward, reset_before).ok


# ------------------------------------------------------------------ lesson 5
def test_create_sequences_and_reshape():
    assert grade(g.check_create_sequences, data.create_sequences).ok
    assert grade(g.check_reshape_data, data.reshape_data).ok

    def one_short(series, n_in, n_out):  # range(len - n_in - n_out): drops the last window
        X, Y = data.create_sequences(series, n_in, n_out)
        return X[:-1], Y[:-1]
    assert not grade(g.check_create_sequences, one_short).ok
    assert not grade(g.check_reshape_data, lambda X, Y: (X.T[None], Y.T)).ok   # time and batch swapped


# ------------------------------------------------------------------ lesson 6
def test_softmax_cross_entropy_backward():
    assert grade(g.check_softmax_cross_entropy_backward, beyond.softmax_cross_entropy_backward,
                 beyond.softmax_cross_entropy_forward).ok

    def forgot_m(dloss, cache):
        p, y, m = cache
        return {"dz": dloss * (p - y)}
    verdict = grade(g.check_softmax_cross_entropy_backward, forgot_m, beyond.softmax_cross_entropy_forward)
    assert not verdict.ok and verdict.summary.startswith("dz disagree")


def test_birnn_forward():
    assert grade(g.check_birnn_forward, beyond.birnn_forward).ok

    def not_reversed_back(x, h0_fwd, h0_bwd, params_fwd, params_bwd, forward):
        H_f = forward(x, h0_fwd, params_fwd)[0]
        H_b = forward(x[:, :, ::-1], h0_bwd, params_bwd)[0]          # left in reversed order
        return np.concatenate([H_f, H_b], axis=0)
    assert not grade(g.check_birnn_forward, not_reversed_back).ok


# ------------------------------------------------------------------ learner code that is unfinished or crashes
def test_unfinished_exercise_says_not_implemented_yet():
    def stub(*args):
        raise NotImplementedError("Exercise 3.6: write lstm_loss_and_grads")
    verdict = grade(g.check_lstm_loss_and_grads, stub)
    assert not verdict.ok and verdict.not_done and "not implemented yet" in str(verdict)
    def backward_stub(dh_next, dc_next, cache):
        raise NotImplementedError("Exercise 3.9")
    slip = grade(g.check_lstm_cell_backward_thesis_literal, backward_stub, lstm.lstm_cell_forward)
    assert not slip.ok and slip.not_done


def test_crashing_exercise_gets_two_lines_naming_its_line():
    def crashes(U, W, V, x, y):
        return {"dU": U @ W}          # (3,1) @ (3,3): a shape error in the learner's code
    text = str(grade(g.check_linear_rnn_bptt, crashes))
    assert "ValueError" in text and "test_graders_extra.py" in text and "U @ W" in text
    assert "Traceback" not in text and len(text.splitlines()) <= 3


def test_wrong_return_type_is_explained():
    verdict = grade(g.check_lstm_loss_and_grads, lambda p, X, Y: 0.5)
    assert not verdict.ok and "pair" in verdict.summary


# ------------------------------------------------------------------ the notebooks' plumbing (lessons/lab.py)
def test_exercise_swaps_in_the_worked_solution_only_when_asked(monkeypatch):
    from lessons import lab

    def lstm_cell_forward(xt, h_prev, c_prev, parameters):
        raise NotImplementedError
    monkeypatch.setattr(lab, "SOLUTIONS", False)
    assert lab.exercise(lstm_cell_forward) is lstm_cell_forward
    monkeypatch.setattr(lab, "SOLUTIONS", True)
    assert lab.exercise(lstm_cell_forward) is lstm.lstm_cell_forward
    with pytest.raises(LookupError, match="no worked solution named 'nonexistent'"):
        lab.solution("nonexistent")


def test_check_and_mine_or_turn_an_unfinished_exercise_into_a_note(capsys):
    from lessons import lab

    def predict_lstm(X, parameters):
        raise NotImplementedError("Exercise 3.8")
    assert lab.check("predict_lstm", predict_lstm) is None
    assert "✋ predict_lstm: not implemented yet" in capsys.readouterr().out

    calls = []
    fallback = lab.mine_or(predict_lstm, lambda X, p: calls.append(1) or "library", "cells.lstm.predict")
    assert fallback(None, None) == "library" and fallback(None, None) == "library" and len(calls) == 2
    out = capsys.readouterr().out
    assert out.count("using cells.lstm.predict so the rest of the notebook runs") == 1   # said once


def test_check_lets_a_real_bug_in_a_grader_through():
    from lessons import lab
    with pytest.raises(LookupError, match="no grader named check_no_such_exercise"):
        lab.check("no_such_exercise", lambda: None)
