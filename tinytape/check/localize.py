"""Where on the learner's graph a wrong gradient comes from, and how to say it.

Everything here reads the recorded tape of the learner's forward: records are in
topological order, so every walk is one loop forward or backward (no recursion).

- `path_records(records, leaf, targets)`: the ops on the paths from a leaf to the outputs.
- `sweep(...)`: a reverse sweep with optional edits (cut or scale an edge, replace an
  op's local derivative, change the output gradients). The tape's own `gradient` is the
  referee; this sweep answers "what would the gradients be if ...", for the diagnoses.
- `localize(...)`: the ops on the paths of every wrong gradient and on none of the
  right ones, and the words: which gate, its formula and where it is used.

The gate knowledge is data keyed by parameter names (`GATES`), not code.
"""
from __future__ import annotations

import linecache
import os
import types
from dataclasses import dataclass, field

import numpy as np

from tinytape.tape import unbroadcast

# ----------------------------------------------------------------------------- data
# cell kind -> parameter name -> (gate key, gate name, formula, where it is used, equations)
_LSTM_F = ("forget", "the forget gate", "Γf = σ(Wf[h;x]+bf)", "c = Γf*c_prev + Γu*c̃", "(4-23), (4-40)")
_LSTM_U = ("update", "the update (input) gate", "Γu = σ(Wu[h;x]+bu)", "c = Γf*c_prev + Γu*c̃",
           "(4-22), (4-38)")
_LSTM_C = ("candidate", "the candidate cell", "c̃ = tanh(Wc[h;x]+bc)", "c = Γf*c_prev + Γu*c̃",
           "(4-20), (4-39)")
_LSTM_O = ("output", "the output gate", "Γo = σ(Wo[h;x]+bo)", "h = Γo*tanh(c)", "(4-21), (4-37)")
_GRU_U = ("update", "the update gate", "Γu = σ(Wu[h;x]+bu)", "h = Γu*h̃ + (1−Γu)*h_prev",
          "(4-48), (4-55)")
_GRU_R = ("reset", "the reset gate", "Γr = σ(Wr[h;x]+br)", "h̃ = tanh(Wh[Γr*h_prev; x]+bh)",
          "(4-49), (4-58)")
_GRU_H = ("candidate", "the candidate state", "h̃ = tanh(Wh[Γr*h_prev; x]+bh)",
          "h = Γu*h̃ + (1−Γu)*h_prev", "(4-47), (4-54)")
_RNN_H = ("hidden", "the hidden-state update", "h = tanh(Wh h_prev + Wx x + bh)",
          "the next step and the output", "(4-2), (4-9)...(4-14)")

GATES = {
    "lstm": {"Wf": _LSTM_F, "bf": _LSTM_F, "Wu": _LSTM_U, "bu": _LSTM_U, "Wi": _LSTM_U,
             "bi": _LSTM_U, "Wc": _LSTM_C, "bc": _LSTM_C, "Wo": _LSTM_O, "bo": _LSTM_O},
    "gru": {"Wu": _GRU_U, "bu": _GRU_U, "Wr": _GRU_R, "br": _GRU_R, "Wh": _GRU_H, "bh": _GRU_H},
    "rnn": {"Wh": _RNN_H, "Wx": _RNN_H, "bh": _RNN_H, "Waa": _RNN_H, "Wax": _RNN_H, "ba": _RNN_H},
}

# What a wrong gradient of a state or an input points at, per cell kind.
STATE_HINTS = {
    "lstm": {
        "c_prev": "dc_prev = dc * Γf (4-33), where dc is everything reaching c<t>: dc_next plus "
                  "the path through h<t> = Γo*tanh(c<t>) (4-31), (4-34)",
        "h_prev": "dh_prev = Σ_ℓ W_ℓ[:, :n_h]ᵀ dz_ℓ over the four gates (4-43)",
        "x": "dx = Σ_ℓ W_ℓ[:, n_h:]ᵀ dz_ℓ over the four gates (4-44)",
    },
    "gru": {
        "h_prev": "dh_prev = dh*(1−Γu) + Wu,1ᵀdz_u + Wr,1ᵀdz_r + (Wh,1ᵀdz_h)*Γr (4-63)",
        "x": "dx = Wu,xᵀdz_u + Wr,xᵀdz_r + Wh,xᵀdz_h (4-64)",
    },
    "rnn": {
        "h_prev": "dh_prev = Whᵀ dz, with dz = dh * (1 − h²) (4-5), (4-6)",
        "x": "dx = Wxᵀ dz",
    },
}

# When several gates are wrong together, what they share.
SHARED_HINTS = {
    ("lstm", frozenset({"forget", "update", "candidate"})):
        "the forget, update and candidate gradients all use dc, the gradient reaching c<t>; "
        "the output gate does not: look at dc = dc_next + dh*Γo*(1 − tanh²(c)) (4-31), (4-34)",
}


def cell_kind(param_names):
    """'lstm', 'gru' or 'rnn' from the parameter names (None if unknown)."""
    names = set(param_names)
    if "Wf" in names:
        return "lstm"
    if "Wr" in names:
        return "gru"
    if names & {"Wax", "Waa"} or {"Wh", "Wx"} <= names:
        return "rnn"
    return None


def state_role(arg_name):
    """'h_prev', 'c_prev' or 'x' for an argument name (a_prev, h0, xt, x...), else None."""
    bare = arg_name[1:] if arg_name.startswith("d") and arg_name[1:2] in ("a", "h", "c", "x") \
        else arg_name
    if bare in ("x", "xt", "x_t"):
        return "x"
    if bare.startswith("c"):
        return "c_prev"
    if bare.startswith(("h", "a")):
        return "h_prev"
    return None


# ------------------------------------------------------------------------ the graph
def ancestors(records, keys):
    """Record indices that some of `keys` depend on (walking backward once)."""
    wanted, found = set(keys), set()
    for rec in reversed(records):
        if rec.output in wanted:
            found.add(rec.index)
            wanted.update(k for k in rec.inputs if k is not None)
    return found


def descendants(records, key):
    """Record indices that depend on `key` (walking forward once)."""
    reach, found = {key}, set()
    for rec in records:
        if any(k in reach for k in rec.inputs):
            reach.add(rec.output)
            found.add(rec.index)
    return found


def path_records(records, leaf_key, target_keys):
    """Indices of the records on some path from `leaf_key` to one of `target_keys`."""
    upstream = ancestors(records, target_keys)
    return descendants(records, leaf_key) & upstream


# ------------------------------------------------------------------------ the sweep
@dataclass
class Edit:
    """A counterfactual: what the sweep does differently. Empty = the true gradient."""

    cut: dict = field(default_factory=dict)        # (record index, input i) -> scale factor
    local: dict = field(default_factory=dict)      # record index -> fn(g, rec) -> [(key, grad)]
    seeds: dict | None = None                      # replaces the output gradients


def sweep(records, seeds, edit=None):
    """Reverse-mode sweep over `records` from `seeds` ({key: gradient}); returns {key: grad}.

    With an `Edit`, an edge's gradient can be scaled (0: the branch is missing, 2: counted
    twice), or a record's whole local derivative replaced (derivative at the wrong point).
    """
    edit = edit or Edit()
    grads = {k: np.asarray(v) for k, v in (edit.seeds if edit.seeds is not None else seeds).items()}
    out = {}
    for rec in reversed(records):
        g = grads.pop(rec.output, None)
        if g is None:
            continue
        out[rec.output] = g
        local = edit.local.get(rec.index)
        if local is not None:
            contributions = local(g, rec)
        else:
            contributions = []
            for i, k in enumerate(rec.inputs):
                if k is None:
                    continue
                gi = rec.op.vjp(i, g, rec.value, rec.input_values, rec.params)
                scale = edit.cut.get((rec.index, i))
                if scale is not None:
                    gi = gi * scale
                contributions.append((k, unbroadcast(np.asarray(gi), np.shape(rec.input_values[i]))))
        for k, gi in contributions:
            prev = grads.get(k)
            grads[k] = gi if prev is None else prev + gi
    out.update(grads)
    return out


def edge_contributions(records, grads, key, after=-1):
    """The gradient `key` receives from the consumer records (among `records`) with index > `after`.

    `grads` holds every value's gradient from a plain `sweep`. Used for the gradient a
    cell's output gets from *outside* that cell (its consumers after the cell's call), and
    for one time step's part of a parameter's gradient.
    """
    total = None
    for rec in records:
        if rec.index <= after or key not in rec.inputs:
            continue
        g = grads.get(rec.output)
        if g is None:
            continue
        for i, k in enumerate(rec.inputs):
            if k == key:
                gi = unbroadcast(np.asarray(rec.op.vjp(i, g, rec.value, rec.input_values, rec.params)),
                                 np.shape(rec.input_values[i]))
                total = gi if total is None else total + gi
    return total


# --------------------------------------------------------------------------- words
def record_site(site):
    """A record's site as (filename, lineno), whichever form the tape kept it in.

    The tape may keep a raw (code object, instruction offset) pair, cheap to take on
    every op, and decode it only when read; both forms are accepted here.
    """
    if not site:
        return None
    first, second = site
    if isinstance(first, types.CodeType):
        for start, end, line in first.co_lines():
            if start <= second < end and line is not None:
                return (first.co_filename, line)
        return (first.co_filename, first.co_firstlineno)
    return site


def site_text(site, with_code=True):
    """'lstm.py:23 `c_next = ft * c_prev + it * cct`' for a record's (file, line)."""
    site = record_site(site)
    if not site:
        return "?"
    filename, lineno = site
    where = f"{os.path.basename(filename)}:{lineno}"
    if not with_code:
        return where
    code = linecache.getline(filename, lineno).split("  #")[0].strip()
    return f"{where} `{code}`" if code else where


def join_names(names):
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


@dataclass
class Localization:
    """Which ops to look at (`records`), which gate (`gate`), and the sentence (`text`)."""

    records: list
    gate: str | None
    text: str


def localize(records, leaf_keys, target_keys, wrong, right, param_of=None, role_of=None,
             kind=None):
    """Name the ops on the paths of every wrong gradient and on none of the right ones.

    leaf_keys: {gradient name: leaf key}; wrong/right: gradient names; param_of: gradient
    name -> dict key ('dWf' -> 'Wf'); role_of: gradient name -> argument name.
    """
    param_of, role_of = param_of or {}, role_of or {}
    paths = {name: path_records(records, leaf_keys[name], target_keys)
             for name in list(wrong) + list(right) if name in leaf_keys}
    wrong_paths = [paths[n] for n in wrong if n in paths]
    common = set.intersection(*wrong_paths) if wrong_paths else set()
    for n in right:
        common -= paths.get(n, set())
    chosen = sorted(common)
    if not chosen:
        # Every op is also on a right gradient's path (dxt reaches almost everything):
        # point at the wrong leaves' first uses, where their gradients are formed.
        wrong_leaves = {leaf_keys[n] for n in wrong if n in leaf_keys}
        on_path = set().union(*wrong_paths) if wrong_paths else set()
        chosen = sorted(r.index for r in records
                        if r.index in on_path and any(k in wrong_leaves for k in r.inputs))
    gates = {}
    for n in wrong:
        key = param_of.get(n)
        gate = GATES.get(kind, {}).get(key) if key else None
        if gate:
            gates[gate[0]] = gate
    right_names = [n for n in right]
    head = (f"{join_names(sorted(wrong))} disagree{'s' if len(wrong) == 1 else ''}; "
            + ("everything else agrees" if right_names else "no gradient agrees"))
    parts = [head]
    gate_key = None
    if len(gates) == 1:
        gate_key, name, formula, use, eqs = next(iter(gates.values()))
        parts.append(f"look at {name}, {formula}, and its use in {use} {eqs}")
        inputs_wrong = sorted(n for n in wrong if n not in param_of)
        if inputs_wrong:
            parts.append(f"{join_names(inputs_wrong)} {'is' if len(inputs_wrong) == 1 else 'are'} "
                         f"wrong too because {'it is' if len(inputs_wrong) == 1 else 'they are'} "
                         "built from the same gate gradient")
    elif len(gates) > 1:
        shared = SHARED_HINTS.get((kind, frozenset(gates)))
        parts.append(shared or "look at what " + join_names(g[1] for g in gates.values())
                     + " have in common")
    else:
        hints = [STATE_HINTS.get(kind, {}).get(state_role(role_of.get(n, n))) for n in sorted(wrong)]
        hints = [h for h in hints if h]
        if hints:
            parts.append("look at " + "; and ".join(dict.fromkeys(hints)))
    at_site = {}                    # (file, line) -> the op symbols recorded there
    for i in chosen:
        rec = records[i]
        symbols = at_site.setdefault(record_site(rec.site), [])
        if rec.op.symbol not in symbols:
            symbols.append(rec.op.symbol)
    if at_site:
        shown = [f"{' '.join(symbols)} at {site_text(site, with_code=False)}"
                 for site, symbols in list(at_site.items())[:4]]
        parts.append("the ops in your forward: " + ", ".join(shown))
    return Localization(chosen, gate_key, ": ".join(parts[:2]) + ("; " + "; ".join(parts[2:])
                                                               if len(parts) > 2 else ""))
