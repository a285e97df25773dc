"""GRU cell (thesis style): dWh built from [h_prev; x] instead of [Γr*h_prev; x].

The thesis's parameter list writes ∂L/∂W_h = Σ dz_h [h, x]ᵀ, but h̃ multiplies Wh by
[Γr*h_prev; x] (4-47), so that is the matrix to use. Breaks dWh only.
"""
from learner_corpus.gru_thesis import gru_cell_forward as forward

EXERCISE, STYLE = "gru_cell", "thesis"
WRONG = {"dWh"}
GATE = "candidate"
DIAGNOSIS = None


def backward(dh_next, cache):
    h_prev, xt, gu, gr, hh, concat, concat_r, parameters = cache
    n_h = h_prev.shape[0]
    dzh = dh_next * gu * (1 - hh ** 2)
    dzu = dh_next * (hh - h_prev) * gu * (1 - gu)
    dconcat_r = parameters["Wh"].T @ dzh
    dzr = dconcat_r[:n_h] * h_prev * gr * (1 - gr)
    dconcat = parameters["Wu"].T @ dzu + parameters["Wr"].T @ dzr
    dh_prev = dh_next * (1 - gu) + dconcat[:n_h] + dconcat_r[:n_h] * gr
    dxt = dconcat[n_h:] + dconcat_r[n_h:]
    return {"dxt": dxt, "dh_prev": dh_prev,
            "dWu": dzu @ concat.T, "dbu": dzu.sum(axis=1, keepdims=True),
            "dWr": dzr @ concat.T, "dbr": dzr.sum(axis=1, keepdims=True),
            "dWh": dzh @ concat.T,               # BUG: h̃ sees concat_r = [gr * h_prev; xt]
            "dbh": dzh.sum(axis=1, keepdims=True)}
