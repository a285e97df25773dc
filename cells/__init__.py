"""cells: vanilla RNN, LSTM, peephole LSTM and GRU, each by hand-derived BPTT and on
the tape. Every module has the same API (see docs/cells.md):

    init_params, step, cell_forward, cell_backward, forward, backward,
    predict, loss_and_grads          and cells.record.record(kind, ...)
"""

from cells import gru, gru_keras, lstm, peephole, record, rnn

KINDS = {"rnn": rnn, "lstm": lstm, "peephole": peephole, "gru": gru, "gru_keras": gru_keras}


def get(kind):
    """The cell module called `kind` (e.g. "lstm"), or a ValueError listing the kinds."""
    if isinstance(kind, str) and kind in KINDS:
        return KINDS[kind]
    raise ValueError(f"cells.get: unknown cell kind {kind!r}; choose one of {', '.join(KINDS)}")


__all__ = ["KINDS", "get", "gru", "gru_keras", "lstm", "peephole", "record", "rnn"]
