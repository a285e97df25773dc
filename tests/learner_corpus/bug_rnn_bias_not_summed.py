"""RNN cell (course style): the bias gradient is not summed over the batch.

Breaks dba only: dba = dtanh has shape (n_a, m) instead of (n_a, 1); the bias is
broadcast over the m examples, so its gradient is the sum over axis 1.
"""
import numpy as np

from learner_corpus.rnn_course import rnn_cell_forward as forward

EXERCISE, STYLE = "rnn_cell", "course"
WRONG = {"dba"}
GATE = None
DIAGNOSIS = "batch_not_summed"


def backward(da_next, cache):
    (a_next, a_prev, xt, parameters) = cache
    dtanh = (1 - a_next ** 2) * da_next
    return {"dxt": np.dot(parameters["Wax"].T, dtanh), "da_prev": np.dot(parameters["Waa"].T, dtanh),
            "dWax": np.dot(dtanh, xt.T), "dWaa": np.dot(dtanh, a_prev.T),
            "dba": dtanh}                        # BUG: should be np.sum(dtanh, axis=1, keepdims=True)
