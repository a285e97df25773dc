"""GRU cell (course style): the direct (1-Γu) path from a_next to a_prev is missing.

a_next = Γu*c̃ + (1-Γu)*a_prev, so a_prev gets da_next*(1-Γu) directly, besides the
paths through the gates and c̃ (4-60), (4-63). Breaks da_prev only.
"""
import numpy as np

from learner_corpus.gru_course import gru_cell_forward as forward

EXERCISE, STYLE = "gru_cell", "course"
WRONG = {'da_prev'}
GATE = None
DIAGNOSIS = 'missing_branch'


def backward(da_next, cache):
    (a_next, a_prev, xt, ut, rt, cct, parameters) = cache
    n_a = a_prev.shape[0]
    dcct = da_next * ut * (1 - cct ** 2)
    dut = da_next * (cct - a_prev) * ut * (1 - ut)
    dconcat_r = np.dot(parameters["Wh"].T, dcct)
    drt = dconcat_r[:n_a] * a_prev * rt * (1 - rt)
    concat = np.concatenate((a_prev, xt), axis=0)
    concat_r = np.concatenate((rt * a_prev, xt), axis=0)
    # BUG: da_next * (1 - ut), the direct path, is missing from da_prev
    da_prev = (np.dot(parameters["Wu"][:, :n_a].T, dut)
               + np.dot(parameters["Wr"][:, :n_a].T, drt) + dconcat_r[:n_a] * rt)
    dxt = (np.dot(parameters["Wu"][:, n_a:].T, dut) + np.dot(parameters["Wr"][:, n_a:].T, drt)
           + dconcat_r[n_a:])
    return {"dxt": dxt, "da_prev": da_prev,
            "dWu": np.dot(dut, concat.T), "dbu": np.sum(dut, axis=1, keepdims=True),
            "dWr": np.dot(drt, concat.T), "dbr": np.sum(drt, axis=1, keepdims=True),
            "dWh": np.dot(dcct, concat_r.T), "dbh": np.sum(dcct, axis=1, keepdims=True)}
