"""Beyond one recurrent layer: stacked and bidirectional networks, in one namespace.

    from cells import deep
    params = deep.stacked_init("lstm", n_x=1, n_h=8, n_y=1, depth=2)
    loss, grads = deep.stacked_loss_and_grads("lstm", params, X, Y)            # hand BPTT
    loss, grads = deep.stacked_loss_and_grads("lstm", params, X, Y, method="tape")
    bi = deep.bidirectional_init("rnn", n_x=1, n_h=4, n_y=1)
    tape, loss, tensors = deep.bidirectional_record("rnn", bi, X, Y, head="seq2seq")

Both work for every cell kind of `cells.KINDS` ("rnn", "lstm", "peephole", "gru",
"gru_keras"), by hand-derived BPTT and on the tape, because both are compositions of
the cell modules' own `forward`, `backward` and `step`: no new cell math. The code
lives in cells.stacked (h^[ℓ]⟨t⟩ = cell(h^[ℓ-1]⟨t⟩, h^[ℓ]⟨t-1⟩)), cells.bidirectional
(h⟨t⟩ = [h_fw⟨t⟩; h_bw⟨t⟩], seed 004 §3.4) and cells._layers (the shared parameter
layout: one flat dict, keys "l1.Wf" / "fw.Wh" and one head "Wy", "by").

Each family has the same entry points as a cell module, with the cell kind first:
`*_init`, `*_forward` / `*_backward` (hand, NumPy), `*_taped_loss` / `*_record` (tape),
`*_loss_and_grads(kind, params, X, Y, method="bptt" | "tape", head, output)`,
`*_predict`.
"""

from cells.bidirectional import (
    bidirectional_backward,
    bidirectional_forward,
    bidirectional_init,
    bidirectional_loss_and_grads,
    bidirectional_predict,
    bidirectional_record,
    bidirectional_taped_loss,
)
from cells.stacked import (
    stacked_backward,
    stacked_depth,
    stacked_forward,
    stacked_init,
    stacked_loss_and_grads,
    stacked_predict,
    stacked_record,
    stacked_taped_loss,
)

# The names lessons/_sources/06_beyond_the_lab.py uses.
init_stacked, record_stacked = stacked_init, stacked_record
init_bidirectional, record_bidirectional = bidirectional_init, bidirectional_record

__all__ = [
    "stacked_init", "stacked_depth", "stacked_forward", "stacked_backward", "stacked_taped_loss",
    "stacked_record", "stacked_loss_and_grads", "stacked_predict",
    "bidirectional_init", "bidirectional_forward", "bidirectional_backward",
    "bidirectional_taped_loss", "bidirectional_record", "bidirectional_loss_and_grads",
    "bidirectional_predict",
    "init_stacked", "record_stacked", "init_bidirectional", "record_bidirectional",
]
