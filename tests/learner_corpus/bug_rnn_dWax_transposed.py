"""RNN cell (course style): dWax computed as xt · dtanhᵀ, the transpose of the right answer.

Breaks dWax only (shape (n_x, n_a) instead of (n_a, n_x)); everything else is right.
"""
import numpy as np

from learner_corpus.rnn_course import rnn_cell_forward as forward

EXERCISE, STYLE = "rnn_cell", "course"
WRONG = {"dWax"}
GATE = None
DIAGNOSIS = "transposed"


def backward(da_next, cache):
    (a_next, a_prev, xt, parameters) = cache
    dtanh = (1 - a_next ** 2) * da_next
    return {"dxt": np.dot(parameters["Wax"].T, dtanh), "da_prev": np.dot(parameters["Waa"].T, dtanh),
            "dWax": np.dot(xt, dtanh.T),         # BUG: should be np.dot(dtanh, xt.T)
            "dWaa": np.dot(dtanh, a_prev.T), "dba": np.sum(dtanh, axis=1, keepdims=True)}
