"""GRU cell (course style): d a_next / dΓu written as (a_prev - c̃), the sign flipped.

a_next = Γu*c̃ + (1-Γu)*a_prev, so ∂a_next/∂Γu = c̃ - a_prev (4-55). Breaks dWu, dbu
(exactly negated) and, through Wuᵀ dut, dxt and da_prev.
"""
import numpy as np

from learner_corpus.gru_course import gru_cell_forward as forward

EXERCISE, STYLE = "gru_cell", "course"
WRONG = {'dWu', 'da_prev', 'dbu', 'dxt'}
GATE = 'update'
DIAGNOSIS = 'sign'


def backward(da_next, cache):
    (a_next, a_prev, xt, ut, rt, cct, parameters) = cache
    n_a = a_prev.shape[0]
    dcct = da_next * ut * (1 - cct ** 2)
    dut = da_next * (a_prev - cct) * ut * (1 - ut)   # BUG: should be (cct - a_prev)
    dconcat_r = np.dot(parameters["Wh"].T, dcct)
    drt = dconcat_r[:n_a] * a_prev * rt * (1 - rt)
    concat = np.concatenate((a_prev, xt), axis=0)
    concat_r = np.concatenate((rt * a_prev, xt), axis=0)
    da_prev = (da_next * (1 - ut) + np.dot(parameters["Wu"][:, :n_a].T, dut)
               + np.dot(parameters["Wr"][:, :n_a].T, drt) + dconcat_r[:n_a] * rt)
    dxt = (np.dot(parameters["Wu"][:, n_a:].T, dut) + np.dot(parameters["Wr"][:, n_a:].T, drt)
           + dconcat_r[n_a:])
    return {"dxt": dxt, "da_prev": da_prev,
            "dWu": np.dot(dut, concat.T), "dbu": np.sum(dut, axis=1, keepdims=True),
            "dWr": np.dot(drt, concat.T), "dbr": np.sum(drt, axis=1, keepdims=True),
            "dWh": np.dot(dcct, concat_r.T), "dbh": np.sum(dcct, axis=1, keepdims=True)}
