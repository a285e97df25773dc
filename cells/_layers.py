"""What cells.stacked and cells.bidirectional share: the flat parameter layout and its
checks, the hand caches, one layer of cell steps on the tape, and the taped model.

A model's parameters are ONE flat dict: each layer's (or direction's) cell keys with a
prefix ("l1.", "l2.", … or "fw.", "bw."), then one head `Wy`, `by`. Flat, because every
gradient consumer takes a flat dict of arrays (`tinytape.check.compare`,
`numeric_gradient`, `gradcheck`, the optimisers in cells.train) and the "d" + key rule
keeps naming gradients ("dl1.Wf"); the prefix is also the tape scope of the layer's
steps ("l1/lstm/t=3"), so drawings nest clusters; and without the prefix a layer's keys
and shapes are exactly a single cell's, so the cell modules run each layer unchanged.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

import tinytape as tt
from cells import _common

HEAD_KEYS = ("Wy", "by")


# ----------------------------------------------------------------------------------
# Keys.
# ----------------------------------------------------------------------------------
def cell_module(kind, fn):
    """The cell module called `kind`, or a ValueError naming `fn` and the kinds."""
    import cells  # at call time: cells/__init__ may import the modules that import this one

    try:
        return cells.get(kind)
    except ValueError:
        kinds = ", ".join(cells.KINDS)
        raise ValueError(f"{fn}: unknown cell kind {kind!r}; choose one of {kinds}") from None


def cell_keys(module, optional=False) -> list:
    """The module's parameter keys that belong to the cell (its head keys left out)."""
    keys = module.OPTIONAL_PARAMS if optional else module.PARAMS
    return [k for k in keys if k not in HEAD_KEYS]


def head_of(params: dict) -> dict:
    """{"Wy", ["by"]} of a flat dict (or of a cell's own dict)."""
    return {k: params[k] for k in HEAD_KEYS if k in params}


def prefixed(prefix: str, cell_params: dict) -> dict:
    """A cell's own keys with a layer prefix: {"Wf": …} -> {"l1.Wf": …} (head left out)."""
    return {f"{prefix}.{k}": v for k, v in cell_params.items() if k not in HEAD_KEYS}


def unprefixed(params: dict, prefix: str) -> dict:
    """One layer's cell dict back from the flat dict: {"l1.Wf": …} -> {"Wf": …}."""
    return {k[len(prefix) + 1 :]: v for k, v in params.items() if k.startswith(prefix + ".")}


# ----------------------------------------------------------------------------------
# The checked layout.
# ----------------------------------------------------------------------------------
class Model:
    """A flat dict checked against its architecture and split: `cells` (one unprefixed
    cell dict per layer or direction, in order), `head` ({"Wy", ["by"]}), the sizes
    n_x, n_h, n_y and the dtype. `stacked`: layer ℓ ≥ 2 reads the n_h rows of the layer
    below and the head reads n_h rows; otherwise (bidirectional) every cell reads x and
    the head reads the 2n_h rows of [h_fw; h_bw]. `builder` names the init to suggest."""

    def __init__(self, fn, module, params, prefixes, stacked, builder):
        self.module, self.prefixes, self.stacked, self.builder = module, prefixes, stacked, builder
        if not isinstance(params, dict):
            got = type(params).__name__
            raise ValueError(f"{fn}: params must be the dict from {builder}, got {got}")
        if not prefixes:
            raise ValueError(
                f"{fn}: params has keys {list(params)} but no layer keys 'l1.…'; "
                f"build them with {builder}."
            )
        self._check_keys(fn, params)
        self.cells = [unprefixed(params, p) for p in prefixes]
        self.head = head_of(params)
        self.n_x, self.n_h, self.n_y = self._sizes(fn, params)
        self._check_shapes(fn)
        dtypes = {np.asarray(v).dtype for v in params.values()}
        if len(dtypes) != 1 or next(iter(dtypes)).kind != "f":
            raise ValueError(
                f"{fn}: parameters must share one float dtype (float64 or float32), got "
                f"{sorted(str(d) for d in dtypes)}; cast them with v.astype(np.float64)."
            )
        self.dtype = next(iter(dtypes))

    @property
    def name(self) -> str:
        return f"{'stacked' if self.stacked else 'bidirectional'} {self.module.KIND}"

    def _check_keys(self, fn, params):
        module = self.module
        required = [f"{p}.{k}" for p in self.prefixes for k in cell_keys(module)]
        optional = [f"{p}.{k}" for p in self.prefixes for k in cell_keys(module, optional=True)]
        required += [k for k in HEAD_KEYS if k in module.PARAMS]
        optional += [k for k in HEAD_KEYS if k in module.OPTIONAL_PARAMS]
        missing = [k for k in required if k not in params]
        unknown = [k for k in params if k not in required and k not in optional]
        if missing or unknown:
            per = "layer" if self.stacked else "direction"
            keys = cell_keys(module) + [f"[{k}]" for k in cell_keys(module, optional=True)]
            head = [k for k in HEAD_KEYS if k in module.PARAMS]
            head += [f"[{k}]" for k in HEAD_KEYS if k in module.OPTIONAL_PARAMS]
            raise ValueError(
                f"{fn}: params does not fit a {self.name} with {per}s {', '.join(self.prefixes)}: "
                f"each {per} needs its prefix on {keys} ([optional]), plus the head {head}"
                + (f"; missing {missing}" if missing else "")
                + (f"; unexpected {unknown}" if unknown else "")
                + f". Build them with {self.builder}."
            )

    def _sizes(self, fn, params):
        first = self.prefixes[0]
        try:
            # a cell module reads n_y from Wy's rows only; the layer's own keys give n_x, n_h
            n_x, n_h, _ = self.module.sizes({**self.cells[0], "Wy": params["Wy"]})
            n_y = np.shape(params["Wy"])[0]
        except (ValueError, IndexError, TypeError):
            raise ValueError(
                f"{fn}: cannot read the sizes from the '{first}.' parameters: "
                + ", ".join(f"{first}.{k} {np.shape(v)}" for k, v in self.cells[0].items())
                + f". Weights are 2-D; build them with {self.builder}."
            ) from None
        return int(n_x), int(n_h), int(n_y)

    def _check_shapes(self, fn):
        wrong = []
        for i, (prefix, cell) in enumerate(zip(self.prefixes, self.cells)):
            n_in = self.n_h if (self.stacked and i > 0) else self.n_x
            expected = self.module.param_shapes(n_in, self.n_h, self.n_y)
            wrong += [
                f"{prefix}.{k} {np.shape(v)} (expected {expected[k]})"
                for k, v in cell.items()
                if np.shape(v) != expected[k]
            ]
        width = self.n_h if self.stacked else 2 * self.n_h
        expected_head = {"Wy": (self.n_y, width), "by": (self.n_y, 1)}
        wrong += [
            f"{k} {np.shape(v)} (expected {expected_head[k]})"
            for k, v in self.head.items()
            if np.shape(v) != expected_head[k]
        ]
        if wrong:
            if self.stacked:
                reads = (". Layer 1 reads x (n_x rows), every later layer the h of the layer "
                         "below (n_h rows); the head reads the top layer's h")
            else:
                reads = ". Both directions read x (n_x rows); the head reads [h_fw; h_bw]"
            raise ValueError(
                f"{fn}: parameter shapes do not fit n_x={self.n_x}, n_h={self.n_h}, "
                f"n_y={self.n_y}: " + "; ".join(wrong) + reads + "; biases are columns (n, 1)."
            )

    def cell_view(self, i) -> dict:
        """Cell i's dict as `<kind>.forward` accepts it. A layer has no head of its own,
        and `forward` only checks the head's shape (it never multiplies by it), so it
        gets a one-row zero head: n_y is not a layer's business."""
        stub = {"Wy": np.zeros((1, self.n_h), self.dtype), "by": np.zeros((1, 1), self.dtype)}
        return {**self.cells[i], **stub}


def checked_call(fn, model_of, kind, params, X, Y, head, output, cell_kwargs):
    """The checks every entry point shares: (model, X, Y), X and Y in the params' dtype.
    `model_of(fn, kind, params, cell_kwargs)` builds the checked Model; Y may be None."""
    _common.check_choice(fn, "head", head, _common.HEADS)
    _common.check_choice(fn, "output", output, _common.OUTPUTS)
    model = model_of(fn, kind, params, cell_kwargs)
    X = _common.check_x(fn, X, model.n_x, model.dtype)
    if Y is not None:
        _, m, T = X.shape
        Y = _common.check_y(fn, Y, model.n_y, m, T, head, output, X.dtype)
    return model, X, Y


# ----------------------------------------------------------------------------------
# Hand caches.
# ----------------------------------------------------------------------------------
class Caches(NamedTuple):
    """What the hand forwards keep for the backward: which model made them ("stacked
    lstm", "bidirectional rnn"), the batch size m, the length T and `layers`, the cell
    module's per-step caches of each layer (stacked, bottom first) or of each direction
    (fw, bw; bw's in the order it ran, t = T first)."""

    model: str
    m: int
    T: int
    layers: list


def check_backward_args(fn, model: Model, dH, caches, width):
    """caches: what the matching forward returned for this model; dH shaped like its H.
    (A dH of the wrong batch size would broadcast silently inside a cell's backward.)"""
    made_by = caches.model if isinstance(caches, Caches) else type(caches).__name__
    if made_by != model.name or len(caches.layers) != len(model.cells):
        raise ValueError(
            f"{fn}: caches must be the second value the matching forward returned for this "
            f"{model.name} ({len(model.cells)} per-step cache lists), got caches of a {made_by}"
        )
    expected = (width, caches.m, caches.T)
    if np.shape(dH) != expected:
        raise ValueError(
            f"{fn}: dH has shape {np.shape(dH)}; it is dL/dH for the forward's H, so it must "
            f"be {expected} (state rows, batch, time)."
        )


def state_grads(prefix, module, cell_grads) -> dict:
    """The gradients of a cell's zero starting states, keyed "d<prefix>.h0" (".c0")."""
    return {f"d{prefix}.{s}0": cell_grads[f"d{s}0"] for s in module.STATE}


# ----------------------------------------------------------------------------------
# The tape.
# ----------------------------------------------------------------------------------
def taped_inputs(X) -> dict:
    """x⟨t⟩ as named constant Tensors, by input time t = 1 … T."""
    T = X.shape[2]
    return {t: tt.Tensor(X[:, :, t - 1], name=f"x<{t}>") for t in range(1, T + 1)}  # (n_x, m) each


def taped_layer(module, cell, inputs, prefix, reverse, tapes, cell_kwargs) -> dict:
    """Run `module.step` over the inputs {t: Tensor} (t = 1 … T, input time), t going up,
    or down with reverse=True, each step under the scope "<prefix>/<kind>/t=<t>", its
    values named "<prefix>.h<t>", "<prefix>.Γf<t>", … Returns the states h by input time.
    The zero starting states ("<prefix>.h<0>", or "<prefix>.h<T+1>" going down) are
    watched on `tapes`, so that the first step is recorded in full."""
    T = len(inputs)
    times = range(T, 0, -1) if reverse else range(1, T + 1)
    n_h, m = module.sizes({**cell, "Wy": np.zeros((1, 1))})[1], inputs[1].shape[1]
    start = T + 1 if reverse else 0  # h⟨0⟩ = 0 (4-2); the backward direction starts past the end
    state = tuple(
        tt.Tensor(np.zeros((n_h, m), dtype=inputs[1].dtype), name=f"{prefix}.{s}<{start}>")
        for s in module.STATE
    )  # (n_h, m) each
    for tape in tapes:
        tape.watch(*state)
    hs = {}
    with tt.scope(prefix):
        for t in times:
            with tt.scope(f"{module.KIND}/t={t}"):
                *state, parts = module.step(inputs[t], *state, cell, **cell_kwargs)
                for field, label in module.NAMES.items():
                    name(getattr(parts, field), f"{prefix}.{label}<{t}>")
                for s, value in zip(module.STATE, state):
                    name(value, f"{prefix}.{s}<{t}>")
            hs[t] = state[0]
    return hs


def name(value, label: str) -> None:
    if isinstance(value, tt.Tensor):
        value.name = label


def record_model(taped_loss, kind, params, X, Y, head, output, persistent, cell_kwargs):
    """(tape, loss, {key: watched Tensor}): `taped_loss` recorded with the parameters as
    watched Tensors named by their keys."""
    with tt.Tape(persistent=persistent) as tape:
        tensors = {}
        for key, value in params.items():
            tensors[key] = tt.Tensor(value, name=key)
            tape.watch(tensors[key])
        loss = taped_loss(kind, tensors, X, Y, head, output, (tape,), **cell_kwargs)
    return tape, loss, tensors


def tape_loss_and_grads(taped_loss, kind, params, X, Y, head, output, cell_kwargs):
    """(loss, grads keyed "d" + key) by one taped forward and one reverse sweep."""
    tape, loss, tensors = record_model(
        taped_loss, kind, params, X, Y, head, output, False, cell_kwargs
    )
    grads = tape.gradient(loss, tensors)
    return float(np.asarray(loss)), {"d" + k: np.asarray(grads[k]) for k in params}
