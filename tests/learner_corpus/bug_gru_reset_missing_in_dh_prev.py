"""GRU cell (thesis style): the reset gate missing from dh_prev's path through h̃.

h̃ = tanh(Wh[Γr*h_prev; x] + bh), so the h̃ path reaches h_prev as (Wh,1ᵀ dz_h) * Γr
(4-61). Dropping "* gr" breaks dh_prev only; every other gradient is right.
"""
from learner_corpus.gru_thesis import gru_cell_forward as forward

EXERCISE, STYLE = "gru_cell", "thesis"
WRONG = {"dh_prev"}
GATE = None
DIAGNOSIS = "dropped_factor"


def backward(dh_next, cache):
    h_prev, xt, gu, gr, hh, concat, concat_r, parameters = cache
    n_h = h_prev.shape[0]
    dzh = dh_next * gu * (1 - hh ** 2)
    dzu = dh_next * (hh - h_prev) * gu * (1 - gu)
    dconcat_r = parameters["Wh"].T @ dzh
    dzr = dconcat_r[:n_h] * h_prev * gr * (1 - gr)
    dconcat = parameters["Wu"].T @ dzu + parameters["Wr"].T @ dzr
    dh_prev = dh_next * (1 - gu) + dconcat[:n_h] + dconcat_r[:n_h]   # BUG: "* gr" missing (4-61)
    dxt = dconcat[n_h:] + dconcat_r[n_h:]
    return {"dxt": dxt, "dh_prev": dh_prev,
            "dWu": dzu @ concat.T, "dbu": dzu.sum(axis=1, keepdims=True),
            "dWr": dzr @ concat.T, "dbr": dzr.sum(axis=1, keepdims=True),
            "dWh": dzh @ concat_r.T, "dbh": dzh.sum(axis=1, keepdims=True)}
