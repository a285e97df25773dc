"""Training the cells: Adam as the thesis writes it, mini-batches, clipping, truncated BPTT.

One entry point for the experiment, the lessons and the benchmarks:

    params, history = fit("lstm", X, Y, n_h=78, method="bptt")   # or method="tape"
    Y_hat = predict("lstm", params, X)

X (n_x, m, T_x) and Y (n_y, m) are the lab's shapes (CONVENTIONS). The gradients come
from the cell module's `loss_and_grads` (hand BPTT or the tape); this file only
orders the mini-batches, clips, and applies Adam. With method="tape" each batch shape
is recorded on the tape once and the recording replayed for the other batches
(cells.record.ReplayedLossAndGrads; with truncate=k, the state entering each window goes
through tinytape.stop_gradient): the same gradients, bit for bit, without re-recording
one Wengert list 800 times in the thesis's run. The LSTM is recorded with
its gates stacked (lstm.step_stacked: one matmul per step for the four gates, as the
hand forward and Keras run it; stacked_gates=False records the per-gate graph that
loss_and_grads and the drawings use). Both graphs are the same function, so the
gradients agree with hand BPTT and with each other to rounding. The same seed gives the
same initial weights and the same batch order, so the two methods follow the same
trajectory and end on the same weights up to float rounding.

Loss conventions (the thesis's Table 6-1 mixes them, see CONVENTIONS):
    history["loss"]       the thesis's (5-1): 1/(2m) * sum over samples and outputs
    history["loss_keras"] Keras's "mse": mean over samples and outputs (= 2*loss/n_y)
Each epoch's entry is the sample-weighted mean of that epoch's mini-batch losses,
taken before each batch's update, which is how Keras reports its epoch loss too.

Truncated BPTT, `truncate=k`: the forward pass runs over all T_x steps, the gradient
flows back at most k steps. Seq-to-one: through the last k steps (the state entering
step T_x - k + 1, h and for the LSTM c, is a constant). Seq-to-seq: in chunks of k
steps from the start, each chunk's starting state a constant (TBPTT(k, k)). With
k >= T_x the result is exactly full BPTT. See `truncated_loss_and_grads`.
"""
from __future__ import annotations

import importlib
import time

import numpy as np

__all__ = ["Adam", "clip_by_value", "clip_by_global_norm", "global_norm", "fit", "fit_epochs", "predict",
           "cell_module", "minibatches", "loss_and_grads", "truncated_loss_and_grads"]


# ----------------------------------------------------------------------------------
# Adam
# ----------------------------------------------------------------------------------

class Adam:
    """Adam exactly as the thesis's (5-2) (Kingma & Ba), for a dict of parameters.

        v_t = b1 v_{t-1} + (1 - b1) g          s_t = b2 s_{t-1} + (1 - b2) g^2
        v^_t = v_t / (1 - b1^t)                s^_t = s_t / (1 - b2^t)
        theta_t = theta_{t-1} - lr * v^_t / (sqrt(s^_t) + eps)            (5-2)

    Keras differs in where eps sits: it folds both corrections into the step size,
    lr_t = lr sqrt(1 - b2^t) / (1 - b1^t), and divides v_t by sqrt(s_t) + eps, which is
    (5-2) with eps replaced by eps * sqrt(1 - b2^t) (a larger effective eps early on:
    at t = 1 about 31.6 times larger). With eps = 0 the two are the same update.
    `epsilon_placement="keras"` reproduces Keras 3's update step for step (tested),
    including a quirk: Keras rounds beta1, beta2 to float32 in the bias corrections
    (not in the moment updates), a 6.5e-9 relative difference on float64 weights.
    Keras's default eps is 1e-7; the thesis's is 1e-8.
    """

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8, epsilon_placement: str = "thesis"):
        if epsilon_placement not in ("thesis", "keras"):
            raise ValueError(f"Adam: epsilon_placement={epsilon_placement!r}; choose 'thesis' "
                             "(eps added to sqrt(s^), as (5-2)) or 'keras'")
        if lr <= 0 or not (0 <= beta1 < 1) or not (0 <= beta2 < 1) or eps < 0:
            raise ValueError(f"Adam: need lr > 0, 0 <= beta1, beta2 < 1, eps >= 0; "
                             f"got lr={lr}, beta1={beta1}, beta2={beta2}, eps={eps}")
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.epsilon_placement = epsilon_placement
        self.t = 0
        self.v: dict = {}  # first moments, keyed like the parameters
        self.s: dict = {}  # second moments

    def step(self, params: dict, grads: dict) -> dict:
        """Return updated parameters (new arrays); `grads` keyed 'd' + parameter name."""
        missing = [name for name in params if "d" + name not in grads]
        if missing:
            raise KeyError(f"Adam.step: no gradient {['d' + name for name in missing]} for the "
                           f"parameters {missing}; grads must be keyed 'd' + name (got {sorted(grads)})")
        self.t += 1
        b1, b2, t = self.beta1, self.beta2, self.t
        new = {}
        for name, theta in params.items():
            g = grads["d" + name]
            if g.shape != theta.shape:
                raise ValueError(f"Adam.step: gradient d{name} has shape {g.shape}, "
                                 f"parameter {name} has {theta.shape}")
            v = b1 * self.v.get(name, 0.0) + (1 - b1) * g          # first moment
            s = b2 * self.s.get(name, 0.0) + (1 - b2) * (g * g)    # second moment
            self.v[name], self.s[name] = v, s
            if self.epsilon_placement == "thesis":
                v_hat = v / (1 - b1 ** t)
                s_hat = s / (1 - b2 ** t)
                new[name] = theta - self.lr * v_hat / (np.sqrt(s_hat) + self.eps)   # (5-2)
            else:  # Keras 3's arithmetic, operation for operation. Its bias corrections
                # use beta1, beta2 rounded to float32 (ops.cast of a Python float goes
                # through a float32 tensor) even for float64 weights: 6.5e-9 relative at t=1.
                b1_32, b2_32 = float(np.float32(b1)), float(np.float32(b2))
                alpha = float(self.lr * np.sqrt(1 - b2_32 ** t) / (1 - b1_32 ** t))  # float: keeps float32
                new[name] = theta - (v * alpha) / (np.sqrt(s) + self.eps)
        return new


# ----------------------------------------------------------------------------------
# Clipping (in the optimiser's path, never inside a gradient function)
# ----------------------------------------------------------------------------------

def clip_by_value(grads: dict, limit: float) -> dict:
    """Each gradient element clipped into [-limit, limit] (Keras's `clipvalue`)."""
    if limit <= 0:
        raise ValueError(f"clip_by_value: limit={limit} must be > 0")
    return {name: np.clip(g, -limit, limit) for name, g in grads.items()}


def global_norm(grads: dict) -> float:
    """sqrt of the sum of squares of every gradient element."""
    return float(np.sqrt(sum(float(np.sum(g * g)) for g in grads.values())))


def clip_by_global_norm(grads: dict, max_norm: float):
    """Scale all gradients by max_norm / ||g|| when the global norm ||g|| exceeds max_norm.

    The direction is kept (unlike clipping by value). Returns (clipped, norm before).
    """
    if max_norm <= 0:
        raise ValueError(f"clip_by_global_norm: max_norm={max_norm} must be > 0")
    norm = global_norm(grads)
    if norm <= max_norm:
        return dict(grads), norm
    scale = max_norm / norm
    return {name: g * scale for name, g in grads.items()}, norm


def _parse_clip(clip):
    if clip is None:
        return None
    if (isinstance(clip, (tuple, list)) and len(clip) == 2 and clip[0] in ("value", "norm")
            and float(clip[1]) > 0):
        return clip[0], float(clip[1])
    raise ValueError(f"fit: clip={clip!r}; pass ('norm', c) to rescale the global gradient norm "
                     "to at most c, ('value', c) to clip each element into [-c, c], or None")


# ----------------------------------------------------------------------------------
# Gradients of one batch
# ----------------------------------------------------------------------------------

def cell_module(kind: str):
    """The cell module for `kind` ('rnn', 'lstm', 'gru', 'gru_keras', ...)."""
    import cells
    getter = getattr(cells, "get", None)
    if getter is not None:
        return getter(kind)
    try:
        return importlib.import_module(f"cells.{kind}")
    except ModuleNotFoundError:
        raise ValueError(f"unknown cell kind {kind!r}") from None


def loss_and_grads(kind: str, params: dict, X, Y, method: str = "bptt", head: str = "seq2one",
                   output: str = "identity", truncate: int | None = None, **cell_kwargs):
    """(loss, grads) of one batch, full or truncated BPTT, by hand or on the tape."""
    if truncate is not None and truncate < X.shape[2]:
        return truncated_loss_and_grads(kind, params, X, Y, truncate, method, head, output, **cell_kwargs)
    return cell_module(kind).loss_and_grads(params, X, Y, method=method, head=head, output=output,
                                            **cell_kwargs)


def truncated_loss_and_grads(kind: str, params: dict, X, Y, k: int, method: str = "bptt",
                             head: str = "seq2one", output: str = "identity", **cell_kwargs):
    """Truncated BPTT: the loss differentiated through windows of k steps only.

    The forward pass runs over all T_x steps, so the loss is exactly the untruncated
    loss. What is cut is the gradient's path back in time:

    - seq2one: through the last k steps only; the state entering step T_x - k + 1 (h,
      and c for the LSTM) is treated as a constant, so every weight gets gradient from
      the last k steps.
    - seq2seq: the sequence is split into chunks of k steps from the start (the last one
      may be shorter), TBPTT(k, k) in Williams and Peng's terms; the state entering each
      chunk is a constant, so each output's loss flows back only to the start of its chunk.

    With k >= T_x this is full BPTT.

    method="bptt": the module's hand `backward` run over each window's caches.
    method="tape": the whole forward recorded on one tape, the state entering each window
    passed through tinytape.stop_gradient (no hand code involved).
    """
    if head not in ("seq2one", "seq2seq"):
        raise ValueError(f"truncated BPTT: head={head!r}; choose 'seq2one' or 'seq2seq'")
    from cells import _common, record
    _common.check_truncate("truncated BPTT", k)
    if method not in ("bptt", "tape"):
        raise ValueError(f"truncated BPTT: method={method!r}; choose 'bptt' or 'tape'")
    mod = cell_module(kind)
    X = np.asarray(X)
    T_x = X.shape[2]
    if k >= T_x:
        return mod.loss_and_grads(params, X, Y, method=method, head=head, output=output, **cell_kwargs)
    if method == "tape":      # the whole forward on the tape, the state cut at each window
        tape, loss, tensors = record.record_module(
            mod, params, X, Y, head, output, persistent=False, trace=False,
            cut_before=record.truncation_cuts(head, T_x, k), **cell_kwargs)
        grads = tape.gradient(loss, tensors)
        return float(np.asarray(loss)), {"d" + name: np.asarray(grads[name]) for name in params}
    windows = _common.truncation_windows(head, T_x, k)
    out = mod.forward(X, None, params, **cell_kwargs)
    states, caches = out[:-1], out[-1]                            # (H, [C]) each (n_h, m, T_x)
    loss, dH, head_grads = _common.head_loss_and_backward(params, states[0], Y, head, output)
    windows_grads = [mod.backward(dH[:, :, start:stop], caches[start:stop]) for start, stop in windows]
    grads = {}
    for name in params:                                           # the head is never cut
        key = "d" + name
        grads[key] = head_grads[key] if key in head_grads else sum(g[key] for g in windows_grads)
    return float(loss), grads


# ----------------------------------------------------------------------------------
# Mini-batches, fit, predict
# ----------------------------------------------------------------------------------

def minibatches(m: int, batch_size: int, rng: np.random.Generator | None):
    """Index arrays covering 0..m-1 in batches; shuffled by `rng` unless it is None.

    The last batch may be smaller (as in Keras): every sample is used once per epoch.
    """
    if batch_size < 1:
        raise ValueError(f"minibatches: batch_size={batch_size} must be >= 1")
    order = rng.permutation(m) if rng is not None else np.arange(m)
    return [order[i: i + batch_size] for i in range(0, m, batch_size)]


def training_dtype(fn: str, dtype, X, params) -> np.dtype:
    """The float type a training runs in (see `fit`'s `dtype`)."""
    if dtype is None:
        if params:
            dtype = np.result_type(*[np.asarray(v).dtype for v in params.values()])
        elif X.dtype in (np.float32, np.float64):
            dtype = X.dtype
        else:
            dtype = np.float64
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        resolved = None
    if resolved not in (np.float32, np.float64):
        raise ValueError(f"{fn}: dtype must be 'float64' (the lab's precision) or 'float32' "
                         f"(Keras's default, faster); got {dtype!r}")
    return resolved


def _check_data(X, Y, head):
    if X.ndim != 3:
        raise ValueError(f"fit: X has shape {X.shape}; expected (n_x, m, T_x), the lab's shape "
                         "(cells.data.to_lab_shapes turns (m, T_x) windows into it)")
    if head == "seq2one" and (Y.ndim != 2 or Y.shape[1] != X.shape[1]):
        raise ValueError(f"fit: Y has shape {Y.shape}; expected (n_y, m) with m = {X.shape[1]} "
                         "for head='seq2one'")
    if head == "seq2seq" and (Y.ndim != 3 or Y.shape[1] != X.shape[1]):
        raise ValueError(f"fit: Y has shape {Y.shape}; expected (n_y, m, T_y) with m = {X.shape[1]} "
                         "for head='seq2seq'")


def fit(kind: str, X, Y, n_h: int, method: str = "bptt", epochs: int = 200, batch_size: int = 64,
        lr: float = 1e-3, seed: int = 0, clip=None, truncate: int | None = None,
        progress: bool = True, head: str = "seq2one", output: str = "identity",
        params: dict | None = None, scheme: str = "glorot_normal", beta1: float = 0.9,
        beta2: float = 0.999, eps: float = 1e-8, epsilon_placement: str = "thesis",
        shuffle: bool = True, validation=None, desc: str | None = None,
        cell_options: dict | None = None, stacked_gates: bool | None = None, dtype=None):
    """Train a cell with Adam (5-2) on mini-batches. Returns (params, history).

    kind: 'rnn', 'lstm', 'gru', 'gru_keras'. method: 'bptt' (hand) or 'tape'.
    seed: seeds both the initial weights (`init_params(seed=seed)`) and the batch order.
    params: start from these weights instead (copied; init is then skipped).
    clip: None, ('norm', c) or ('value', c), applied to each batch's gradients before Adam.
    truncate: None for full BPTT, or k (see `truncated_loss_and_grads`).
    validation: optional (X_val, Y_val); its loss is recorded after each epoch.
    cell_options: the cell's keyword options, e.g. {"activation": "relu"} for the RNN.
    stacked_gates: method="tape" only: record the gates stacked into one matmul per step
    (cells.record.ReplayedLossAndGrads); None does where the cell can (the LSTM), False
    records the per-gate `step`.
    dtype: the float type everything is trained in, "float64" or "float32". None takes
    the dtype of `params` when given, else X's when it is float32 or float64, else
    float64. float64 is the lab's (and the gradient checks') precision; float32 is what
    Keras trains in by default, and halves our time on the thesis's LSTM (bench/README.md).
    history: "loss", "loss_keras" (see the module docstring), "grad_norm" (mean global
    norm before clipping), "val_loss" / "val_loss_keras" if validation is given,
    "seconds" (wall time per epoch), and "config".
    `fit_epochs` takes the same arguments and hands back control after every epoch.
    """
    run = fit_epochs(kind, X, Y, n_h, method=method, epochs=epochs, batch_size=batch_size, lr=lr,
                     seed=seed, clip=clip, truncate=truncate, progress=progress, head=head,
                     output=output, params=params, scheme=scheme, beta1=beta1, beta2=beta2, eps=eps,
                     epsilon_placement=epsilon_placement, shuffle=shuffle, validation=validation,
                     desc=desc, cell_options=cell_options, stacked_gates=stacked_gates, dtype=dtype)
    for _ in run:
        pass
    return run.params, run.history


class fit_epochs:
    """`fit`, one epoch at a time. Iterating runs the next epoch and gives (params,
    history) after it; `.params` and `.history` hold the latest. The arguments are
    `fit`'s, checked when it is made.

        run = fit_epochs("lstm", X, Y, n_h=78)
        for params, history in run:          # e.g. plot history["loss"] as it grows
            ...

    bench/train_thesis.py interleaves contenders with it, a chunk of epochs each.
    """

    def __init__(self, kind: str, X, Y, n_h: int, method: str = "bptt", epochs: int = 200,
                 batch_size: int = 64, lr: float = 1e-3, seed: int = 0, clip=None,
                 truncate: int | None = None, progress: bool = True, head: str = "seq2one",
                 output: str = "identity", params: dict | None = None, scheme: str = "glorot_normal",
                 beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 epsilon_placement: str = "thesis", shuffle: bool = True, validation=None,
                 desc: str | None = None, cell_options: dict | None = None,
                 stacked_gates: bool | None = None, dtype=None):
        if method not in ("bptt", "tape"):
            raise ValueError(f"fit: method={method!r}; choose 'bptt' (hand-derived) or 'tape'")
        if epochs < 0:
            raise ValueError(f"fit: epochs={epochs} must be >= 0")
        X, Y = np.asarray(X), np.asarray(Y)
        _check_data(X, Y, head)
        dtype = training_dtype("fit", dtype, X, params)
        X, Y = X.astype(dtype, copy=False), Y.astype(dtype, copy=False)
        clip_rule = _parse_clip(clip)
        if truncate is not None and (isinstance(truncate, bool) or int(truncate) < 1):
            raise ValueError(f"fit: truncate={truncate!r} must be a positive integer number of steps")
        mod = cell_module(kind)
        options = dict(cell_options or {})
        n_x, n_y = X.shape[0], Y.shape[0]
        if params is None:
            params = mod.init_params(n_x, n_h, n_y, scheme=scheme, seed=seed, dtype=dtype)
        else:
            params = {name: np.array(value, dtype=dtype, copy=True) for name, value in params.items()}
        mse_like = output != "softmax"
        history = {"loss": [], "loss_keras": [] if mse_like else None, "grad_norm": [],
                   "seconds": [], "config": dict(kind=kind, method=method, n_h=n_h, epochs=epochs,
                                                 batch_size=batch_size, lr=lr, seed=seed, clip=clip,
                                                 truncate=truncate, head=head, output=output,
                                                 dtype=dtype.name)}
        if validation is not None:
            history["val_loss"], history["val_loss_keras"] = [], [] if mse_like else None
        if stacked_gates and method != "tape":
            raise ValueError("fit: stacked_gates=True chooses the graph the tape records; with "
                             f"method={method!r} nothing records it (hand BPTT stacks the gates anyway)")
        if method == "tape":
            from cells.record import ReplayedLossAndGrads
            batch_grads = ReplayedLossAndGrads(mod, head, output, stacked_gates=stacked_gates,
                                               truncate=truncate, **options)
        else:
            def batch_grads(params, X, Y):
                return loss_and_grads(kind, params, X, Y, method, head, output, truncate, **options)
        self.params, self.history = params, history
        self._epochs = self._run(X, Y, epochs, batch_size, batch_grads, clip_rule,
                                 Adam(lr, beta1, beta2, eps, epsilon_placement),
                                 np.random.default_rng(seed) if shuffle else None,
                                 validation, dict(head=head, output=output, **options),
                                 _progress_bar(epochs, desc or f"{kind} {method}", progress))

    def __iter__(self):
        return self._epochs

    def _run(self, X, Y, epochs, batch_size, batch_grads, clip_rule, optimiser, rng, validation,
             evaluate_options, bar):
        kind, head = self.history["config"]["kind"], self.history["config"]["head"]
        params, history, m = self.params, self.history, X.shape[1]
        try:
            for _ in range(epochs):
                start = time.perf_counter()
                total, norms = 0.0, []
                for idx in minibatches(m, batch_size, rng):
                    loss, grads = batch_grads(params, X[:, idx], Y[:, idx])
                    total += float(loss) * len(idx)
                    grads = {"d" + name: grads["d" + name] for name in params}
                    norms.append(global_norm(grads))
                    if clip_rule is not None:
                        grads = (clip_by_value(grads, clip_rule[1]) if clip_rule[0] == "value"
                                 else clip_by_global_norm(grads, clip_rule[1])[0])
                    params = optimiser.step(params, grads)
                self.params = params
                epoch_loss = total / m
                history["loss"].append(epoch_loss)
                if history["loss_keras"] is not None:
                    history["loss_keras"].append(_keras_mse(epoch_loss, Y, head))
                history["grad_norm"].append(float(np.mean(norms)))
                if validation is not None:
                    val = evaluate(kind, params, *validation, **evaluate_options)
                    history["val_loss"].append(val)
                    if history["val_loss_keras"] is not None:
                        history["val_loss_keras"].append(_keras_mse(val, validation[1], head))
                history["seconds"].append(time.perf_counter() - start)
                if bar is not None:
                    bar.set_postfix_str(f"loss {epoch_loss:.5f}", refresh=False)
                    bar.update(1)
                yield params, history
        finally:
            if bar is not None:
                bar.close()


def _keras_mse(loss_half: float, Y, head: str) -> float:
    """Convert 1/(2m) sum over outputs (and 1/T_y) into Keras's mean over everything."""
    return 2.0 * loss_half / Y.shape[0]


def _progress_bar(total: int, desc: str, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=total, desc=desc, unit="epoch", leave=True, dynamic_ncols=True)


def predict(kind: str, params: dict, X, head: str = "seq2one", output: str = "identity", **cell_kwargs):
    """The model's outputs: (n_y, m) for seq2one, (n_y, m, T_x) for seq2seq."""
    return cell_module(kind).predict(params, np.asarray(X), head=head, output=output, **cell_kwargs)


def evaluate(kind: str, params: dict, X, Y, head: str = "seq2one", output: str = "identity",
             **cell_kwargs) -> float:
    """The loss (thesis convention: 1/(2m) for MSE) on (X, Y), without gradients."""
    Y_hat = predict(kind, params, X, head=head, output=output, **cell_kwargs)
    Y = np.asarray(Y)
    if output == "softmax":
        eps = np.finfo(Y_hat.dtype).tiny
        per = -np.sum(Y * np.log(Y_hat + eps), axis=0)      # (m,) or (m, T)
        return float(np.mean(per))
    m = Y.shape[1]
    T = Y.shape[2] if Y.ndim == 3 else 1
    return float(np.sum((Y_hat - Y) ** 2) / (2.0 * m * T))


# ----------------------------------------------------------------------------------
# The Keras twin (TensorFlow optional: pip install tinytape[tf])
# ----------------------------------------------------------------------------------

def keras_model(kind: str, params: dict, T_x: int, lr: float = 1e-3, seed: int = 0,
                beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8, head: str = "seq2one",
                output: str = "identity", dtype: str = "float64"):
    """(model, keras): `fit_keras`'s compiled model in `dtype`, starting from the lab
    weights `params`, with Keras's global random seed set to `seed`."""
    from cells import keras as cells_keras
    _, keras = cells_keras._import_tf()
    if output == "softmax":
        raise ValueError("fit_keras: the softmax head is not wired here; use fit(..., method='tape')")
    keras.utils.set_random_seed(seed)
    model = cells_keras.build_model(kind, params, T_x, head=head, output=output, dtype=np.dtype(dtype).name)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=lr, beta_1=beta1, beta_2=beta2,
                                                  epsilon=eps),
                  loss="mse")
    return model, keras


def fit_keras(kind: str, X, Y, params: dict, epochs: int = 200, batch_size: int = 64,
              lr: float = 1e-3, seed: int = 0, beta1: float = 0.9, beta2: float = 0.999,
              eps: float = 1e-8, head: str = "seq2one", output: str = "identity",
              progress: bool = False, shuffle: bool = True, dtype=None):
    """Train the equivalent Keras model with `model.fit`, from the lab weights `params`.

    Same data, loss (Keras's "mse", i.e. 2/n_y times ours: Adam is almost invariant to
    that factor, up to where eps sits), batch size and Adam hyperparameters; Keras
    shuffles with its own generator (seeded by `keras.utils.set_random_seed(seed)`), so
    the batch order differs from `fit`'s. `dtype` as `fit`'s (None: the dtype of
    `params`); Keras's own default is float32. Returns (params in the lab layout, history)
    with the same keys as `fit`'s history ("loss" in the thesis's 1/(2m) convention).
    """
    from cells import keras as cells_keras
    X, Y = np.asarray(X), np.asarray(Y)
    _check_data(X, Y, head)
    dtype = training_dtype("fit_keras", dtype, X, params)
    X, Y = X.astype(dtype, copy=False), Y.astype(dtype, copy=False)
    model, keras = keras_model(kind, params, X.shape[2], lr, seed, beta1, beta2, eps, head, output, dtype)
    epoch_seconds = []

    class _EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            epoch_seconds.append(time.perf_counter() - self.start)

    fitted = model.fit(cells_keras.to_keras_inputs(X), cells_keras.to_keras_targets(Y),
                       batch_size=batch_size, epochs=epochs, shuffle=shuffle,
                       verbose=1 if progress else 0, callbacks=[_EpochTimer()])
    keras_loss = [float(v) for v in fitted.history["loss"]]
    n_y = Y.shape[0]
    history = {"loss": [v * n_y / 2.0 for v in keras_loss], "loss_keras": keras_loss,
               "grad_norm": None, "seconds": epoch_seconds,
               "config": dict(kind=kind, method="keras", n_h=params["Wy"].shape[1], epochs=epochs,
                              batch_size=batch_size, lr=lr, seed=seed, head=head, output=output,
                              dtype=dtype.name)}
    # one recurrent layer + Dense: kernel, recurrent_kernel, bias, head kernel, head bias
    trained = cells_keras.from_keras_weights(kind, model.get_weights())
    return trained, history
