"""RNN sequence (course style): parameter gradients assigned, not accumulated, across time.

Breaks dWax, dWaa, dba: `dWax = gradients["dWax"]` keeps only the contribution of the
last step the backward loop visits (t = 0); the loop must add (`+=`) every step's part.
dx and da0 are right (they do not depend on the parameter sums).
"""
import numpy as np

from learner_corpus.rnn_course import rnn_cell_backward, rnn_forward as forward

EXERCISE, STYLE = "rnn", "course"
WRONG = {"dWax", "dWaa", "dba"}
GATE = None
DIAGNOSIS = "one_step_only"


def backward(da, caches):
    (caches, x) = caches
    (a1, a0, x1, parameters) = caches[0]
    n_a, m, T_x = da.shape
    n_x, m = x1.shape
    dx = np.zeros((n_x, m, T_x))
    da_prevt = np.zeros((n_a, m))
    for t in reversed(range(T_x)):
        gradients = rnn_cell_backward(da[:, :, t] + da_prevt, caches[t])
        dxt, da_prevt = gradients["dxt"], gradients["da_prev"]
        dx[:, :, t] = dxt
        dWax = gradients["dWax"]                 # BUG: assignment; should accumulate with +=
        dWaa = gradients["dWaa"]
        dba = gradients["dba"]
    return {"dx": dx, "da0": da_prevt, "dWax": dWax, "dWaa": dWaa, "dba": dba}
