"""Record a cell's whole forward and loss on a tinytape.Tape.

    tape, loss, params_t = cells.record.record("lstm", params, X, Y)
    grads = tape.gradient(loss, params_t)          # {"Wf": ..., ...}

The recorded graph is what the drawings (visuals), the agreement matrix and the
lessons read, so its layout is part of the contract:

- every time step runs under the scope "<kind>/t=<t>", t counted from 1 as in the
  thesis; the output head and the loss under the scope "head";
- tensors are named in the lab's notation, t written out: parameters by their key
  ("Wf"), inputs "x<1>", "x<2>", …, states "h<t>", "c<t>" (with "h<0>", "c<0>" the
  zero starting states), gate values by the thesis's symbols ("Γf<t>", "Γu<t>",
  "c̃<t>", "Γo<t>"; GRU "Γu<t>", "Γr<t>", "h̃<t>"; Keras GRU "z<t>", "r<t>", "h̃<t>";
  RNN "z<t>"), the prediction "y_hat" and the loss "loss";
- the watched leaves are the parameters, the starting states and the inputs x<t>;
  `param_tensors` says which are the parameters.

The cell's math is the module's own `step`, the same function the hand-BPTT forward
runs on arrays. The head and loss are written here with tinytape ops, apart from the
NumPy head in cells._common, so that the two check each other.
"""

from __future__ import annotations

import numpy as np

import tinytape as tt
from cells import _common


def record(kind, params, X, Y, head="seq2one", output="identity", persistent=True,
           stacked_gates=False, cut_before=(), **cell_kwargs):
    """Run the taped forward + loss of cell `kind` ("rnn", "lstm", "peephole", "gru",
    "gru_keras") and return (tape, loss_tensor, param_tensors).

    `param_tensors` maps each key of `params` to its watched Tensor; `cell_kwargs`
    are the cell's options (the RNN's activation="relu"). With persistent=True the
    tape can be swept more than once (drawings, several gradients). stacked_gates=True
    records the cell's `step_stacked` (the LSTM's gates stacked into one matmul, as
    Keras stores them) instead of the per-gate `step`; see `taped_forward`. cut_before:
    the steps whose entering state goes through tinytape.stop_gradient (truncated BPTT;
    `truncation_cuts(head, T_x, k)` gives them).
    """
    import cells  # resolved at call time: cells/__init__ imports the cell modules

    return record_module(cells.get(kind), params, X, Y, head, output, persistent,
                         stacked_gates=stacked_gates, cut_before=cut_before, **cell_kwargs)


def record_module(module, params, X, Y, head="seq2one", output="identity", persistent=True,
                  trace=True, stacked_gates=False, cut_before=(), **cell_kwargs):
    """`record` for a cell module object rather than its name. trace=False skips the
    file:line of each record (loss_and_grads does: nothing will draw that tape).
    cut_before: see `taped_forward` (truncated BPTT)."""
    fn = f"cells.record({module.KIND!r})"
    X = _common.check_call(module, fn, params, X, head, output, cell_kwargs)
    n_y = module.sizes(params)[2]
    _, m, T = X.shape
    Y = _common.check_y(fn, Y, n_y, m, T, head, output, X.dtype)
    with tt.Tape(persistent=persistent, trace=trace) as tape:
        tensors = _watched_params(tape, params)
        loss = taped_loss(module, tensors, X, Y, head, output, stacked_gates=stacked_gates,
                          cut_before=cut_before, **cell_kwargs)
    return tape, loss, tensors


def _watched_params(tape, params) -> dict:
    """Each parameter as a Tensor named by its key and watched by `tape`."""
    tensors = {key: tt.Tensor(value, name=key) for key, value in params.items()}
    tape.watch(*tensors.values())
    return tensors


class ReplayedLossAndGrads:
    """`loss_and_grads(method="tape")` for many batches: each batch shape recorded once,
    then replayed (tinytape's `Tape.replayer`) on the new parameters, inputs and targets.

        step = ReplayedLossAndGrads(cells.lstm)
        loss, grads = step(params, X, Y)        # grads keyed "dWf", ... as loss_and_grads

    The recorded program is `record_module`'s (the same head and loss), with x<t> and
    the targets Y as replayable inputs, so every call returns bit for bit what a fresh
    recording would (tests/test_replay.py). The first call for a shape records and
    sweeps as loss_and_grads does; the later ones skip the recording. The training loop
    (cells.train.fit, method="tape") uses it.

    stacked_gates: record the cell's `step_stacked` (the LSTM's four gates as one matmul per
    step, as the hand forward and Keras run them) rather than the per-gate `step` that
    loss_and_grads and the drawings record. None (the default) stacks where the cell
    has a `step_stacked` (the LSTM). The two programs are the same function; their
    gradients agree to rounding (tests/test_cells_stacked_gates.py), and the stacked one
    sweeps 14 records per step instead of 18, in larger NumPy calls.

    truncate=k: truncated BPTT (cells.train.truncated_loss_and_grads): the state entering
    each window of k steps passes through tinytape.stop_gradient, so the same recorded
    forward differentiates only back to the window's start.
    """

    def __init__(self, module, head="seq2one", output="identity", stacked_gates=None, truncate=None,
                 **cell_kwargs):
        if stacked_gates is None:
            stacked_gates = hasattr(module, "step_stacked")
        elif stacked_gates and not hasattr(module, "step_stacked"):
            raise ValueError(f"ReplayedLossAndGrads: the {module.KIND} cell has no step_stacked; "
                             "use stacked_gates=False (or None)")
        if truncate is not None:
            _common.check_truncate("ReplayedLossAndGrads", truncate)
        self.stacked_gates, self.truncate = stacked_gates, truncate
        self.module, self.head, self.output, self.cell_kwargs = module, head, output, cell_kwargs
        self._replays = {}          # (X shape, Y shape, dtype, param shapes) -> (replay, params, xs, y)

    def __call__(self, params, X, Y):
        module = self.module
        fn = f"{module.KIND}.loss_and_grads"
        X = _common.check_call(module, fn, params, X, self.head, self.output, self.cell_kwargs)
        n_y = module.sizes(params)[2]
        _, m, T = X.shape
        Y = _common.check_y(fn, Y, n_y, m, T, self.head, self.output, X.dtype)
        shapes = (X.shape, Y.shape, X.dtype, tuple((k, np.shape(v)) for k, v in params.items()))
        entry = self._replays.get(shapes)
        if entry is None:
            return self._record(shapes, params, X, Y)
        replay, tensors, xs, y = entry
        new = {tensors[k]: v for k, v in params.items()}
        # x<t> = X[:, :, t], each made C-contiguous as Tensor() makes it when recording
        new.update(zip(xs, np.ascontiguousarray(np.moveaxis(X, 2, 0))))
        new[y] = Y
        loss, grads = replay(new)
        return float(loss), {"d" + k: grads[k] for k in params}

    def _record(self, shapes, params, X, Y):
        with tt.Tape(persistent=True, trace=False) as tape:
            tensors = _watched_params(tape, params)
            xs = [tt.Tensor(X[:, :, t], requires_grad=True) for t in range(X.shape[2])]
            # an input of the replay, so a leaf (every op reading it recorded), not a source
            y = tt.Tensor(Y, name="y", requires_grad=True)
            loss = taped_loss(self.module, tensors, xs, y, self.head, self.output,
                              stacked_gates=self.stacked_gates,
                              cut_before=truncation_cuts(self.head, X.shape[2], self.truncate),
                              **self.cell_kwargs)
        grads = tape.gradient(loss, tensors)
        self._replays[shapes] = (tape.replayer(loss, tensors, inputs=xs + [y]), tensors, xs, y)
        return float(np.asarray(loss)), {"d" + k: np.asarray(grads[k]) for k in params}


def truncation_cuts(head, T_x, k) -> tuple:
    """The steps (1-based) whose entering state truncated BPTT with windows of k steps
    treats as a constant (see cells.train.truncated_loss_and_grads); () for full BPTT."""
    if k is None or k >= T_x:
        return ()
    return tuple(start + 1 for start, _ in _common.truncation_windows(head, T_x, k) if start > 0)


def taped_forward(module, params, X, stacked_gates=False, cut_before=(), **cell_kwargs) -> list:
    """The states h_1 … h_T as Tensors, one `module.step` per time step, each under
    the scope "<kind>/t=<t>" and with its values named (see the module docstring).

    `params` is a dict of Tensors. X is an array (n_x, m, T_x), or a list of the
    T_x inputs (n_x, m) as Tensors of your own (to ask the tape for dL/dx<t>). The
    zero initial states, and inputs made here, are created with requires_grad=True:
    every active tape tracks them.

    stacked_gates=True runs `module.step_stacked` instead (cells that have one: the LSTM).
    Its weights are stacked once, under the scope "<kind>/weights" and named
    "W_stacked"; each step is then one matmul, a sigmoid for three gates and slices.
    cut_before: steps t (1-based) whose entering state goes through tinytape.stop_gradient
    (truncated BPTT: no gradient flows back past it).
    """
    if stacked_gates:
        if not hasattr(module, "step_stacked"):
            raise ValueError(f"taped_forward: the {module.KIND} cell has no step_stacked; "
                             "record it with stacked_gates=False")
        with tt.scope(f"{module.KIND}/weights"):
            W_b = module.weights_stacked(params)
            _name(W_b, "W_stacked")

        def step(xt, *state):
            return module.step_stacked(xt, *state, W_b)
    else:
        def step(xt, *state):
            return module.step(xt, *state, params, **cell_kwargs)

    n_x, n_h, _ = module.sizes(params)
    if isinstance(X, (list, tuple)):
        xs = list(X)
    else:
        xs = [tt.Tensor(X[:, :, t], requires_grad=True) for t in range(X.shape[2])]
    m = xs[0].shape[1]
    # h^(0) = 0 (4-2, 4-18), and the LSTM's c^(0) = 0. Tracked like the inputs x<t>,
    # so step 1 is recorded in full (its [h<0>; x<1>] included) and the drawings show
    # them as labelled inputs.
    state = tuple(
        tt.Tensor(np.zeros((n_h, m), dtype=xs[0].dtype), requires_grad=True, name=f"{s}<0>")
        for s in module.STATE
    )
    hs = []
    for t, xt in enumerate(xs, start=1):
        with tt.scope(f"{module.KIND}/t={t}"):
            if isinstance(xt, tt.Tensor) and xt.name is None:
                xt.name = f"x<{t}>"  # (n_x, m)
            if t in cut_before:
                state = tuple(tt.stop_gradient(value) for value in state)
            *state, parts = step(xt, *state)
            for field, label in module.NAMES.items():
                _name(getattr(parts, field), f"{label}<{t}>")
            for s, value in zip(module.STATE, state):
                _name(value, f"{s}<{t}>")
        hs.append(state[0])
    return hs


def taped_loss(module, params, X, Y, head="seq2one", output="identity", stacked_gates=False,
               cut_before=(), **cell_kwargs):
    """The loss Tensor of the whole sequence, recorded on the active tape(s)."""
    hs = taped_forward(module, params, X, stacked_gates=stacked_gates, cut_before=cut_before,
                       **cell_kwargs)
    with tt.scope("head"):
        return head_loss(params, hs, Y, head, output)


def head_loss(params, hs, Y, head="seq2one", output="identity"):
    """The loss Tensor from the states `hs` (a list of (n_h, m) Tensors, h_1 … h_T):
    ŷ = a_y(Wy h + by) (4-1) and the loss of CONVENTIONS, with tinytape ops.
    Seq-to-one reads only hs[-1]. Names "y_hat" and "loss" on the tape."""

    def pre_activation(h):
        zy = params["Wy"] @ h  # (n_y, m)
        return zy + params["by"] if "by" in params else zy

    m = Y.shape[1]
    if head == "seq2one":
        zy = pre_activation(hs[-1])  # (n_y, m): only h^(T_x) feeds the output
        count = m
    else:
        zy = tt.stack([pre_activation(h) for h in hs], axis=2)  # (n_y, m, T_x)
        count = m * len(hs)
    if output == "softmax":
        y_hat = tt.softmax(zy, axis=0)  # classes are rows
        loss = -tt.sum(Y * tt.log_softmax(zy, axis=0)) / count  # mean cross-entropy
    else:
        y_hat = tt.tanh(zy) if output == "tanh" else zy  # (4-17) uses tanh
        err = y_hat - Y
        loss = tt.sum(err * err) / (2 * count)  # (5-1): 1/(2m) Σ (ŷ - y)²
    _name(y_hat, "y_hat")
    _name(loss, "loss")
    return loss




def _name(value, name: str) -> None:
    if isinstance(value, tt.Tensor):
        value.name = name
