"""Pieces every cell shares: activations, initialisation schemes, the output head and
its loss, and the argument checks that turn a wrong shape into a readable error.

Shapes follow ../shared/CONVENTIONS.md: a batch of sequences is (n_x, m, T_x), states
are (n_h, m), biases are columns (n, 1). The head is  ŷ = a_y(Wy h + by)  (4-1, 4-17).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

import tinytape as tt

SCHEMES = ("glorot_normal", "he_normal", "orthogonal")
HEADS = ("seq2one", "seq2seq")
OUTPUTS = ("identity", "tanh", "softmax")
METHODS = ("bptt", "tape")


# ----------------------------------------------------------------------------------
# Activations of the hidden state (vanilla RNN's a_h in (4-2)).
# `forward` is written with tinytape ops, so it runs on arrays and on Tensors;
# `slope_from_output` is the hand derivative a_h'(z) written in terms of a = a_h(z),
# which is all the hand BPTT keeps in its cache.
# ----------------------------------------------------------------------------------
class Activation(NamedTuple):
    forward: Callable
    slope_from_output: Callable


def _identity(z):
    return z


ACTIVATIONS = {
    "tanh": Activation(tt.tanh, lambda a: 1.0 - a * a),  # tanh' = 1 - tanh²  (A-2)
    "relu": Activation(tt.relu, lambda a: (a > 0).astype(a.dtype)),  # 1 where z > 0
    "identity": Activation(_identity, lambda a: 1.0),  # seed 001 / seed 003
}


def activation(name: str, fn: str) -> Activation:
    """The activation called `name`, or a ValueError naming `fn` and the choices."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"{fn}: unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}"
        ) from None


# ----------------------------------------------------------------------------------
# Initialisation (section 5.2.1; named by what they compute, see CONVENTIONS).
# Every scheme draws from np.random.default_rng(seed), in the order the caller asks.
# ----------------------------------------------------------------------------------
class Initializer:
    """Draws weight blocks for one `init_params` call under one scheme.

    `glorot_normal`: N(0, 2/(fan_in+fan_out)), not truncated (Keras truncates).
    `he_normal`: N(0, 2/fan_in) (what section 5.2.1 calls "Xavier normal").
    `orthogonal`: recurrent blocks (n_h, n_h) orthogonal (QR of a Gaussian, signs fixed
    so the draw is uniform), input and output blocks Glorot normal.
    """

    def __init__(self, scheme: str, seed: int, dtype, fn: str):
        if scheme not in SCHEMES:
            raise ValueError(
                f"{fn}: unknown scheme {scheme!r}; choose one of {', '.join(SCHEMES)}"
            )
        self.scheme = scheme
        self.rng = np.random.default_rng(seed)
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise ValueError(f"{fn}: dtype must be a float type (float64, float32), got {self.dtype}")

    def dense(self, n_out: int, n_in: int) -> np.ndarray:
        """A (n_out, n_in) block applied as W @ v with v of n_in rows."""
        if self.scheme == "he_normal":
            std = np.sqrt(2.0 / n_in)
        else:
            std = np.sqrt(2.0 / (n_in + n_out))
        return (self.rng.standard_normal((n_out, n_in)) * std).astype(self.dtype)

    def recurrent(self, n_h: int) -> np.ndarray:
        """A (n_h, n_h) block that multiplies h_{t-1}."""
        if self.scheme != "orthogonal":
            return self.dense(n_h, n_h)
        q, r = np.linalg.qr(self.rng.standard_normal((n_h, n_h)))
        return np.ascontiguousarray(q * np.sign(np.diag(r)), dtype=self.dtype)  # sign fix: Haar-uniform

    def gate(self, n_h: int, n_x: int) -> np.ndarray:
        """A gate's W of shape (n_h, n_h + n_x) acting on [h_{t-1}; x_t] (4-24).

        Glorot and He see the whole concatenation as the fan-in (as the thesis lab
        does); orthogonal initialises the recurrent block apart from the input block.
        """
        if self.scheme != "orthogonal":
            return self.dense(n_h, n_h + n_x)
        return np.concatenate([self.recurrent(n_h), self.dense(n_h, n_x)], axis=1)

    def zeros(self, *shape: int) -> np.ndarray:
        return np.zeros(shape, dtype=self.dtype)


def check_sizes(fn: str, **sizes: int) -> None:
    for name, value in sizes.items():
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{fn}: {name} must be a positive integer, got {value!r}")


def gate_param_shapes(gates, n_x: int, n_h: int, n_y: int) -> dict:
    """Shapes of a gated cell's parameters: W_ℓ (n_h, n_h+n_x) on [h; x] and b_ℓ (n_h, 1)
    for each gate ℓ (LSTM (4-20)–(4-23), GRU (4-47)–(4-49)), then the head Wy, by."""
    shapes = {}
    for g in gates:
        shapes["W" + g], shapes["b" + g] = (n_h, n_h + n_x), (n_h, 1)
    shapes["Wy"], shapes["by"] = (n_y, n_h), (n_y, 1)
    return shapes


# ----------------------------------------------------------------------------------
# The gates' batching (speed only: each module's `step` is the math), for the hand
# forward loops and the LSTM's `step_stacked`.
# ----------------------------------------------------------------------------------
def stacked_gate_weights(params: dict, gates) -> np.ndarray:
    """[W_ℓ  b_ℓ] for each gate ℓ in `gates`, stacked: (len(gates)*n_h, n_h+n_x+1).

    Times the column [h; x; 1] it gives every gate's W_ℓ [h; x] + b_ℓ in one matmul,
    which at the thesis's sizes costs less than one matmul and one bias add per gate.
    On Tensors the stacking is recorded (tinytape's concatenate), so the gradient of
    each block flows back to its W_ℓ and b_ℓ.
    """
    return tt.concatenate(
        [tt.concatenate([params["W" + g], params["b" + g]], axis=1) for g in gates], axis=0
    )


def truncation_windows(head: str, T_x: int, k: int) -> list:
    """Truncated BPTT's windows of steps, [(start, stop)] 0-based, stop exclusive:
    seq2one the last k steps; seq2seq chunks of k from the start (the last may be shorter)."""
    if head == "seq2one":
        return [(T_x - k, T_x)]
    return [(t, min(t + k, T_x)) for t in range(0, T_x, k)]


def inputs_with_ones(x: np.ndarray, n_h: int) -> np.ndarray:
    """(T_x, n_h+n_x+1, m): for each step t the column [h; x_t; 1] of a
    `stacked_gate_weights` matmul, its x_t rows and row of ones filled in, its n_h
    rows of h left for the forward loop to write. Slot t's [h; x_t] rows are the
    step's concat (LSTM (4-24), GRU (4-50)), kept in the caches without a copy."""
    n_x, m, T = x.shape
    hx1 = np.empty((T, n_h + n_x + 1, m), dtype=x.dtype)
    hx1[:, n_h:-1] = x.transpose(2, 0, 1)  # x_t under the h rows
    hx1[:, -1] = 1.0  # the biases' row
    return hx1


# ----------------------------------------------------------------------------------
# Output head and loss by hand (NumPy). The taped version lives in cells/record.py
# and is written independently with tinytape ops, so each checks the other.
# ----------------------------------------------------------------------------------
def log_softmax_columns(z: np.ndarray) -> np.ndarray:
    """log softmax over axis 0 (classes are rows), shifted by the max for stability."""
    shifted = z - z.max(axis=0, keepdims=True)  # (n_y, N)
    return shifted - np.log(np.exp(shifted).sum(axis=0, keepdims=True))  # (n_y, N)


def head_outputs(params: dict, h: np.ndarray, output: str) -> tuple[np.ndarray, np.ndarray]:
    """(ŷ, z_y) for states h of shape (n_h, N): z_y = Wy h + by, ŷ = a_y(z_y)  (4-1)."""
    zy = params["Wy"] @ h  # (n_y, N)
    if "by" in params:
        zy = zy + params["by"]  # (n_y, N)
    if output == "identity":
        return zy, zy
    if output == "tanh":
        return np.tanh(zy), zy  # (4-17)
    return np.exp(log_softmax_columns(zy)), zy  # softmax over classes


def head_loss_and_backward(params: dict, H: np.ndarray, Y: np.ndarray, head: str, output: str):
    """Loss (CONVENTIONS) and its gradients w.r.t. Wy, by and every hidden state.

    Returns (loss, dH, head_grads) with dH shaped like H (n_h, m, T) (zero except at
    the last step for seq-to-one) and head_grads = {"dWy", ["dby"]}.
    """
    n_h, m, T = H.shape
    if head == "seq2one":
        h = H[:, :, -1]  # (n_h, m): only h^(T_x) feeds the output
        y = Y  # (n_y, m)
        count = m
    else:
        h = H.reshape(n_h, m * T)  # (n_h, m*T): every step feeds an output
        y = Y.reshape(Y.shape[0], m * T)  # (n_y, m*T), same column order as h
        count = m * T
    y_hat, zy = head_outputs(params, h, output)  # (n_y, N)
    if output == "softmax":
        # mean cross-entropy; d/dz_y of -Σ y log softmax(z_y) is ŷ - y when Σ y = 1
        loss = -np.sum(y * log_softmax_columns(zy)) / count
        dzy = (y_hat - y) / count  # (n_y, N)
    else:
        # (5-1): 1/(2m) Σ (ŷ - y)², and 1/(2 m T_y) ΣΣ for seq-to-seq
        err = y_hat - y  # (n_y, N)
        loss = 0.5 * np.sum(err * err) / count
        dzy = err / count  # dL/dŷ  (4-4)
        if output == "tanh":
            dzy = dzy * (1.0 - y_hat * y_hat)  # (4-26): tanh' = 1 - ŷ²
    grads = {"dWy": dzy @ h.T}  # (n_y, n_h)  (4-8, 4-27)
    if "by" in params:
        grads["dby"] = dzy.sum(axis=1, keepdims=True)  # (n_y, 1)  (4-15, 4-28)
    # (4-29)/(4-30): dL/dh = Wyᵀ dL/dz_y (the thesis's (4-5) writes Wy for Wyᵀ)
    dh = params["Wy"].T @ dzy  # (n_h, N)
    if head == "seq2one":
        dH = np.zeros_like(H)
        dH[:, :, -1] = dh
    else:
        dH = dh.reshape(n_h, m, T)
    return float(loss), dH, grads


# ----------------------------------------------------------------------------------
# Argument checks shared by predict / loss_and_grads / record.
# ----------------------------------------------------------------------------------
def check_choice(fn: str, what: str, value, choices) -> None:
    if value not in choices:
        raise ValueError(f"{fn}: unknown {what} {value!r}; choose one of {', '.join(map(repr, choices))}")


def check_truncate(fn: str, k) -> None:
    """Truncated BPTT's window length: a positive integer number of steps."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"{fn}: truncate={k!r} must be a positive integer number of steps")


def check_params(fn: str, params: dict, module) -> None:
    """Keys and shapes of `params` against what `module` expects (ValueError if not).

    A wrong shape would often broadcast silently (a bias of shape (n_h,) against a
    batch of n_h columns), so every array is checked, not only the keys.
    """
    if not isinstance(params, dict):
        raise ValueError(
            f"{fn}: params must be the dict of arrays from {module.KIND}.init_params, "
            f"got {type(params).__name__}"
        )
    required, optional = module.PARAMS, module.OPTIONAL_PARAMS
    missing = [k for k in required if k not in params]
    unknown = [k for k in params if k not in required and k not in optional]
    if missing or unknown:
        raise ValueError(
            f"{fn}: params has keys {list(params)}; expected {list(required)}"
            + (f" (optionally {list(optional)})" if optional else "")
            + (f"; missing {missing}" if missing else "")
            + (f"; unexpected {unknown}" if unknown else "")
            + f". Build them with {module.KIND}.init_params."
        )
    try:
        n_x, n_h, n_y = module.sizes(params)
    except (ValueError, IndexError, TypeError):
        raise ValueError(
            f"{fn}: cannot read the sizes from params: "
            + ", ".join(f"{k} {np.shape(v)}" for k, v in params.items())
            + f". Weights are 2-D; build them with {module.KIND}.init_params."
        ) from None
    expected = module.param_shapes(n_x, n_h, n_y)
    wrong = [
        f"{k} {np.shape(v)} (expected {expected[k]})"
        for k, v in params.items()
        if np.shape(v) != expected[k]
    ]
    if wrong:
        raise ValueError(
            f"{fn}: parameter shapes do not fit n_x={n_x}, n_h={n_h}, n_y={n_y}: "
            + "; ".join(wrong)
            + ". Biases are columns (n, 1); see docs/cells.md for every shape."
        )
    dtypes = {np.asarray(v).dtype for v in params.values()}
    if len(dtypes) != 1 or next(iter(dtypes)).kind != "f":
        raise ValueError(
            f"{fn}: parameters must share one float dtype (float64 or float32), got "
            f"{sorted(str(d) for d in dtypes)}; cast them with v.astype(np.float64)."
        )


def check_options(fn: str, kwargs: dict, allowed: tuple = ()) -> None:
    """Reject keyword options a cell does not take (e.g. activation= on an LSTM)."""
    unknown = [k for k in kwargs if k not in allowed]
    if unknown:
        takes = f"it takes {', '.join(allowed)}" if allowed else "it takes none"
        raise ValueError(f"{fn}: unexpected option(s) {unknown}; {takes}.")


def check_call(module, fn: str, params: dict, X, head: str, output: str, cell_kwargs: dict):
    """The checks every sequence-level entry point shares; X in the params' dtype."""
    check_choice(fn, "head", head, HEADS)
    check_choice(fn, "output", output, OUTPUTS)
    check_params(fn, params, module)
    module.check_options(fn, **cell_kwargs)
    return check_x(fn, X, module.sizes(params)[0], params["Wy"].dtype)


def check_x(fn: str, X, n_x: int, dtype) -> np.ndarray:
    """X as an array of the parameters' dtype, after checking it is (n_x, m, T_x)."""
    X = np.asarray(X)
    if X.ndim != 3 or X.shape[0] != n_x or X.shape[1] < 1 or X.shape[2] < 1:
        hint = ""
        if X.ndim == 2:
            hint = (
                f" For one sequence of T_x steps use X.reshape({n_x}, 1, -1);"
                f" for m sequences of one feature use X[None] if X is (m, T_x)."
            )
        elif X.ndim == 3 and X.shape[-1] == n_x:
            hint = " It looks like (m, T_x, n_x) (Keras's layout): use X.transpose(2, 0, 1)."
        raise ValueError(
            f"{fn}: X has shape {X.shape}; expected (n_x, m, T_x) with n_x = {n_x} "
            f"(features, batch, time).{hint}"
        )
    if not np.issubdtype(X.dtype, np.number):
        raise ValueError(f"{fn}: X must hold numbers, got dtype {X.dtype}")
    return X.astype(dtype, copy=False)


def check_step(fn: str, module, params: dict, xt, **states) -> None:
    """Shapes of one step's inputs: xt (n_x, m) and each state (n_h, m), one m for all."""
    n_x, n_h, _ = module.sizes(params)
    xt_shape = np.shape(xt)
    if len(xt_shape) != 2 or xt_shape[0] != n_x:
        hint = " Columns are examples: pass xt.T." if len(xt_shape) == 2 and xt_shape[1] == n_x else ""
        raise ValueError(f"{fn}: xt has shape {xt_shape}; expected (n_x, m) with n_x = {n_x}.{hint}")
    m = xt_shape[1]
    for name, value in states.items():
        if np.shape(value) != (n_h, m):
            raise ValueError(
                f"{fn}: {name} has shape {np.shape(value)}; expected (n_h, m) = ({n_h}, {m}) "
                f"to go with xt {xt_shape} and n_h = {n_h} from the parameters."
            )


def initial_state(fn: str, name: str, value, n_h: int, m: int, dtype) -> np.ndarray:
    """A starting state: zeros for None (h^(0) = 0 in (4-2)), else checked (n_h, m)."""
    if value is None:
        return np.zeros((n_h, m), dtype=dtype)
    value = np.asarray(value)
    if value.shape != (n_h, m):
        raise ValueError(
            f"{fn}: {name} has shape {value.shape}; expected (n_h, m) = ({n_h}, {m}), "
            f"or None for zeros."
        )
    return value.astype(dtype, copy=False)


def check_y(fn: str, Y, n_y: int, m: int, T: int, head: str, output: str, dtype) -> np.ndarray:
    Y = np.asarray(Y)
    expected = (n_y, m) if head == "seq2one" else (n_y, m, T)
    if Y.shape != expected:
        hint = ""
        if head == "seq2one" and Y.shape == (n_y, m, T):
            hint = " That is a seq-to-seq target: pass head='seq2seq', or Y[:, :, -1]."
        elif head == "seq2seq" and Y.shape == (n_y, m):
            hint = " That is a seq-to-one target: pass head='seq2one'."
        elif Y.shape == (m, n_y) or Y.shape == (m,):
            hint = f" Targets are columns, one per sequence: use Y.reshape({n_y}, {m}) or Y.T."
        raise ValueError(
            f"{fn}: Y has shape {Y.shape}; with head={head!r}, n_y = {n_y}, m = {m}, "
            f"T_x = {T} it must be {expected}.{hint}"
        )
    Y = Y.astype(dtype, copy=False)
    if output == "softmax":
        sums = Y.sum(axis=0)
        if np.any(Y < 0) or not np.allclose(sums, 1.0, atol=1e-6):
            raise ValueError(
                f"{fn}: with output='softmax' Y must hold one-hot columns (or "
                f"probabilities summing to 1 over the {n_y} classes, axis 0); "
                f"column sums range over [{sums.min():.3g}, {sums.max():.3g}]."
            )
    return Y
