"""GRU cell (thesis style): backward derived for the other convention, h = (1-Γu)*h̃ + Γu*h_prev.

The forward is the lab's (4-46), h = Γu*h̃ + (1-Γu)*h_prev, but the backward swaps the
roles of Γu and 1-Γu (Keras's z plays the lab's 1-Γu). Every gradient is wrong:
dWu, dbu, dWr, dbr, dWh, dbh, dxt, dh_prev.
"""
import numpy as np

from learner_corpus.gru_thesis import gru_cell_forward as forward

EXERCISE, STYLE = "gru_cell", "thesis"
WRONG = {"dWu", "dbu", "dWr", "dbr", "dWh", "dbh", "dxt", "dh_prev"}
GATE = None
DIAGNOSIS = "gru_convention"


def backward(dh_next, cache):
    h_prev, xt, gu, gr, hh, concat, concat_r, parameters = cache
    n_h = h_prev.shape[0]
    dzh = dh_next * (1 - gu) * (1 - hh ** 2)                # BUG: the lab's h̃ is weighted by Γu
    dzu = dh_next * (h_prev - hh) * gu * (1 - gu)           # BUG: d/dΓu of (1-Γu)*h̃ + Γu*h_prev
    dconcat_r = parameters["Wh"].T @ dzh
    dzr = dconcat_r[:n_h] * h_prev * gr * (1 - gr)
    dconcat = parameters["Wu"].T @ dzu + parameters["Wr"].T @ dzr
    dh_prev = dh_next * gu + dconcat[:n_h] + dconcat_r[:n_h] * gr    # BUG: (1 - Γu) in the lab's form
    dxt = dconcat[n_h:] + dconcat_r[n_h:]
    return {"dxt": dxt, "dh_prev": dh_prev,
            "dWu": dzu @ concat.T, "dbu": dzu.sum(axis=1, keepdims=True),
            "dWr": dzr @ concat.T, "dbr": dzr.sum(axis=1, keepdims=True),
            "dWh": dzh @ concat_r.T, "dbh": dzh.sum(axis=1, keepdims=True)}
