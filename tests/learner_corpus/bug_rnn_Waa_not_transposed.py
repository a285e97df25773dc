"""RNN cell (course style): da_prev computed with Waa instead of Waaᵀ.

a_next = tanh(Waa a_prev + Wax xt + ba), so the gradient reaching a_prev is Waaᵀ dtanh.
Waa is square (n_a, n_a), so np.dot(Waa, dtanh) has the right shape and only the values
are wrong. Breaks da_prev only.
"""
import numpy as np

from learner_corpus.rnn_course import rnn_cell_forward as forward

EXERCISE, STYLE = "rnn_cell", "course"
WRONG = {"da_prev"}
GATE = None
DIAGNOSIS = "weight_not_transposed"


def backward(da_next, cache):
    (a_next, a_prev, xt, parameters) = cache
    Wax = parameters["Wax"]
    Waa = parameters["Waa"]
    dtanh = (1 - a_next ** 2) * da_next
    dxt = np.dot(Wax.T, dtanh)
    dWax = np.dot(dtanh, xt.T)
    da_prev = np.dot(Waa, dtanh)                 # BUG: Waa.T; the square shape hides it
    dWaa = np.dot(dtanh, a_prev.T)
    dba = np.sum(dtanh, axis=1, keepdims=True)
    return {"dxt": dxt, "da_prev": da_prev, "dWax": dWax, "dWaa": dWaa, "dba": dba}
