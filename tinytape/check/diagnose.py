"""Diagnoses in plain words: a wrong gradient that equals the tape's up to a known mistake.

Two kinds of evidence, both exact (random data make accidental matches vanishingly rare):

1. Value transformations of the tape's gradient T: yours = -T (sign), = k·T (the batch
   size m: sum vs mean; 2: counted twice; any constant), = Tᵀ (transposed), = T with the
   h- and x-column blocks swapped, = T not summed over the batch, = one time step's part.
2. Counterfactual sweeps over the learner's own graph ("what would the gradients be if
   ..."): a tanh′/σ′ taken at the wrong point or with the other function's formula; a
   branch missing, counted twice or sign-flipped; a product's other factor dropped; a
   square weight not transposed on the way back; the
   output gradient dropped or replaced by ones (the thesis's (4-39) slip); the other GRU
   convention. A counterfactual explains a gradient when yours equals it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tinytape.check import localize as _localize

# Counterfactual sweeps cost one pass over the graph each; past this size (long
# sequences) only the value transformations run.
MAX_RECORDS_FOR_COUNTERFACTUALS = 400


@dataclass
class Diagnosis:
    kind: str
    text: str


@dataclass
class Context:
    records: list
    seeds: dict                  # output key -> output gradient (the cotangents)
    leaf_keys: dict              # gradient name -> leaf key
    yours: dict                  # gradient name -> the learner's array (or None)
    tape: dict                   # gradient name -> the tape's gradient
    wrong: list
    right: list
    batch: int | None
    atol: float
    rtol: float
    steps: list = field(default_factory=list)          # [(first record, end record)] per step
    output_names: dict = field(default_factory=dict)   # output key -> name ('c_next')
    params: dict = field(default_factory=dict)         # gradient name -> dict key
    plain_grads: dict | None = None                    # every value's gradient, once computed


def _close(a, b, ctx):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        return False
    scale = max(float(np.max(np.abs(b), initial=0.0)), 1e-300)
    return bool(np.all(np.abs(a - b) <= max(ctx.atol, 1e-12) + max(ctx.rtol, 1e-6) * scale))


def diagnose(ctx):
    """{gradient name: Diagnosis} for the wrong gradients that a known mistake explains.

    A value transformation explains one gradient at a time; a counterfactual that
    explains every wrong gradient at once is the better story and wins for all of them.
    """
    found = {}
    for name in ctx.wrong:
        y = ctx.yours.get(name)
        if y is None:
            continue
        try:
            y = np.asarray(y, dtype=float)
        except (TypeError, ValueError):
            continue
        d = _value_transform(name, y, np.asarray(ctx.tape[name], dtype=float), ctx)
        if d is not None:
            found[name] = d
    usable = [n for n in ctx.wrong if _usable(ctx.yours.get(n), ctx.tape[n])]
    remaining = [n for n in usable if n not in found]
    # Counterfactual sweeps for single cells; a sequence's graph is T times bigger, and
    # its story is told by the first bad time step instead.
    if remaining and not ctx.steps and len(ctx.records) <= MAX_RECORDS_FOR_COUNTERFACTUALS:
        explained = _counterfactuals(usable, ctx)
        whole = {d.text for d in explained.values()}
        if len(whole) == 1 and set(explained) == set(usable):
            found.update(explained)
        else:
            found.update({n: d for n, d in explained.items() if n in remaining})
    return found


def _usable(y, t):
    try:
        return y is not None and np.shape(np.asarray(y, dtype=float)) == np.shape(t)
    except (TypeError, ValueError):
        return False


# ------------------------------------------------------------- value transformations
def _value_transform(name, y, t, ctx):
    m = ctx.batch
    if y.shape != t.shape:
        if y.T.shape == t.shape and _close(y.T, t, ctx):
            return Diagnosis("transposed", f"transposed: yours has shape {y.shape}, the transpose of "
                             f"the right {t.shape}, and the same values; e.g. dW = dz · inputᵀ, "
                             "not input · dzᵀ")
        if t.ndim == 2 and t.shape[1] == 1 and y.ndim == 2 and y.shape[0] == t.shape[0]:
            if _close(y.sum(axis=1, keepdims=True), t, ctx):
                return Diagnosis("batch_not_summed", f"not summed over the batch: yours has one column "
                                 f"per example {y.shape}; the bias is broadcast over the m examples, "
                                 "so its gradient is the sum: np.sum(dz, axis=1, keepdims=True)")
        if y.size == t.size and _close(y.reshape(t.shape), t, ctx):
            return Diagnosis("reshaped", f"right values, wrong shape {y.shape}: keep {t.shape} "
                             "(keepdims=True keeps a bias gradient a column)")
        return None
    tt = float(np.sum(t * t))
    if tt == 0.0:
        return None
    if _close(y, np.zeros_like(t), ctx):
        return Diagnosis("zero", "all zeros: this gradient is not computed (or never accumulated)")
    if _close(y, -t, ctx):
        return Diagnosis("sign", "sign flipped: yours is exactly minus the tape's; look for a "
                         "derivative taken the wrong way round, e.g. (a − b) where (b − a) is meant")
    k = float(np.sum(y * t)) / tt
    if _close(y, k * t, ctx):
        if m and abs(k - 1.0 / m) < 1e-6 * max(1.0, 1.0 / m):
            return Diagnosis("factor_m", f"divided by the batch size m = {m}: a mean where the sum "
                             "over the batch is meant (np.mean → np.sum)")
        if m and abs(k - m) < 1e-6 * m:
            return Diagnosis("factor_m", f"times the batch size m = {m}: a sum where the loss "
                             "averages over the batch (or the 1/m was dropped)")
        if abs(k - 2.0) < 1e-6:
            return Diagnosis("factor", "twice the tape's: a term counted twice")
        return Diagnosis("factor", f"a constant factor {k:.4g} times the tape's")
    if t.ndim == 2 and t.shape[1] > t.shape[0]:
        n_h = t.shape[0]
        swapped = np.concatenate([t[:, n_h:], t[:, :n_h]], axis=1)
        if _close(y, swapped, ctx):
            return Diagnosis("slices_swapped", "the h- and x-column blocks are swapped: the forward "
                             "stacks [h_prev; x] (hidden rows first), so dW = dz · [h_prev; x]ᵀ")
    if name in ctx.params:
        per_step = _per_step_parts(name, ctx)
        for t_index, part in enumerate(per_step):
            if part is not None and _close(y, part, ctx):
                last_visited = " (the last step a backward loop visits)" if t_index == 0 else ""
                return Diagnosis("one_step_only", f"only time step t = {t_index}'s contribution"
                                 f"{last_visited}, of {len(per_step)}: assignment instead of "
                                 "accumulation across time (dW = ... where dW += ... is meant)")
    return None


def _per_step_parts(name, ctx):
    """The part of a parameter's gradient from each time step.

    With the steps known (a traced cell function) a step is its record range; otherwise
    each use of the parameter counts as one step (a cell uses each weight once per step).
    """
    grads = _plain_grads(ctx)
    key = ctx.leaf_keys[name]
    if ctx.steps:
        ranges = [ctx.records[start:end] for start, end in ctx.steps]
    else:
        ranges = [[rec] for rec in ctx.records if key in rec.inputs]
    if len(ranges) < 2:
        return []
    return [_localize.edge_contributions(records, grads, key) for records in ranges]


def _plain_grads(ctx):
    if ctx.plain_grads is None:
        ctx.plain_grads = _localize.sweep(ctx.records, ctx.seeds)
    return ctx.plain_grads


# ------------------------------------------------------------------ counterfactuals
def _counterfactuals(remaining, ctx):
    records = ctx.records
    upstream = sorted(_localize.ancestors(records, list(ctx.seeds)))
    graph = [records[i] for i in upstream]
    producers = {rec.output: rec for rec in records}
    on_wrong = set()
    for n in remaining:
        on_wrong |= _localize.descendants(graph, ctx.leaf_keys[n])
    labels = {key: name[1:] if name.startswith("d") else name for name, key in ctx.leaf_keys.items()}
    for act in _activations(graph, producers):
        labels[records[act.index].output] = \
            f"the {act.name} at {_localize.site_text(act.site, with_code=False)}"
    candidates = list(_catalogue(graph, producers, on_wrong, ctx, labels))
    results = []
    for order, (kind, text, edit) in enumerate(candidates):
        grads = _localize.sweep(graph, ctx.seeds, edit)
        explained = set()
        for n in remaining:
            g = grads.get(ctx.leaf_keys[n])
            if g is not None and _close(ctx.yours[n], g, ctx):
                explained.add(n)
        if not explained:
            continue
        broken = 0
        for n in ctx.right:
            g = grads.get(ctx.leaf_keys[n], np.zeros_like(ctx.tape[n]))
            broken += not _close(g, ctx.tape[n], ctx)
        results.append((-len(explained), broken, order, explained, kind, text))
    found = {}
    todo = set(remaining)
    for _, _, _, explained, kind, text in sorted(results, key=lambda r: r[:3]):
        hit = explained & todo
        if not hit:
            continue
        for n in hit:
            found[n] = Diagnosis(kind, text)
        todo -= hit
        if not todo:
            break
    return found


def _catalogue(graph, producers, on_wrong, ctx, labels):
    """(kind, words, Edit) for every counterfactual worth one sweep, likeliest first."""
    yield from _gru_convention(graph, producers)
    for act in _activations(graph, producers):
        yield from _derivative_variants(act)
    for key, seed in ctx.seeds.items():
        out = ctx.output_names.get(key, "the output")
        yield ("missing_branch",
               f"missing branch: yours equals the tape's without the gradient arriving directly on "
               f"{out} (d{out}): its term is missing",
               _localize.Edit(seeds={k: (np.zeros_like(v) if k == key else v)
                                     for k, v in ctx.seeds.items()}))
        slip = " (the thesis's (4-39) drops ∂L/∂h in its last line)" if out[:1] in "ha" else ""
        yield ("dropped_upstream",
               f"the factor d{out} is missing: yours equals the tape's with d{out} replaced by "
               f"ones{slip}",
               _localize.Edit(seeds={k: (np.ones_like(v) if k == key else v)
                                     for k, v in ctx.seeds.items()}))
    for rec in reversed(graph):
        if rec.index not in on_wrong:
            continue
        if rec.op.name == "mul":
            for i in (0, 1):
                if rec.inputs[i] is not None:
                    yield ("dropped_factor",
                           f"a factor dropped: yours equals the tape's if, going back through the "
                           f"product at {_localize.site_text(rec.site)}, the gradient to "
                           f"{_label(rec.inputs[i], producers, labels)} is not multiplied by the other "
                           f"factor ({_label(rec.inputs[1 - i], producers, labels)})",
                           _localize.Edit(local={rec.index: _drop_factor(i)}))
    for rec in reversed(graph):
        weight = rec.input_values[0] if rec.op.name == "matmul" else None
        if weight is not None and rec.index in on_wrong and rec.inputs[1] is not None \
                and np.ndim(weight) == 2 and weight.shape[0] == weight.shape[1]:
            yield ("weight_not_transposed",
                   f"the weight not transposed: yours equals the tape's if the gradient going back "
                   f"through {_localize.site_text(rec.site)} is W · g instead of Wᵀ · g (a square W "
                   f"hides the mistake from the shapes)",
                   _localize.Edit(local={rec.index: _untransposed_weight}))
    for scale, kind, words in ((0.0, "missing_branch", "missing branch: yours equals the tape's "
                                "without the path"),
                               (2.0, "counted_twice", "a branch counted twice: yours equals the "
                                "tape's with the path"),
                               (-1.0, "sign", "a sign flipped on one branch: yours equals the "
                                "tape's with the sign of the path")):
        for rec in reversed(graph):
            if rec.index not in on_wrong:
                continue
            for i, k in enumerate(rec.inputs):
                if k is None:
                    continue
                tail = {0.0: "left out", 2.0: "counted twice", -1.0: "flipped"}[scale]
                yield (kind, f"{words} from {_label(k, producers, labels)} into the {rec.op.name} at "
                       f"{_localize.site_text(rec.site)} {tail}",
                       _localize.Edit(cut={(rec.index, i): scale}))


def _label(key, producers, labels):
    """'h_prev', 'the sigmoid at lstm.py:18' or 'the tanh at lstm.py:25' for a value."""
    if key in labels:
        return labels[key]
    rec = producers.get(key)
    if rec is None:
        return f"an input (v{key})"
    return f"the {rec.op.name} at {_localize.site_text(rec.site, with_code=False)}"


def _untransposed_weight(g, rec):
    """matmul W @ v differentiated with W instead of Wᵀ for v (W square)."""
    (wk, vk), (w, v) = rec.inputs, rec.input_values
    out = [(vk, w @ g)]
    if wk is not None:
        out.append((wk, _localize.unbroadcast(g @ np.swapaxes(v, -1, -2), np.shape(w))))
    return out


def _drop_factor(i):
    def local(g, rec):
        out = []
        for j, k in enumerate(rec.inputs):
            if k is None:
                continue
            gj = g if j == i else rec.op.vjp(j, g, rec.value, rec.input_values, rec.params)
            out.append((k, _localize.unbroadcast(np.asarray(gj) * np.ones_like(rec.value),
                                                 np.shape(rec.input_values[j]))))
        return out
    return local


# -- activations: tanh records, and sigmoid (the op, or a learner's 1/(1+np.exp(-z)))
@dataclass
class _Activation:
    name: str          # 'tanh' | 'sigmoid'
    index: int         # the record whose output is the activation's value
    z_key: int
    z: np.ndarray
    y: np.ndarray
    site: tuple | None


def _const(rec, i, value):
    return rec.inputs[i] is None and np.all(np.asarray(rec.input_values[i]) == value)


def _activations(graph, producers):
    for rec in graph:
        if rec.op.name in ("tanh", "sigmoid") and rec.inputs[0] is not None:
            yield _Activation(rec.op.name, rec.index, rec.inputs[0], rec.input_values[0], rec.value,
                              _caller_site(rec, producers.get(rec.inputs[0])))
        elif rec.op.name == "div" and _const(rec, 0, 1.0) and rec.inputs[1] is not None:
            add = producers.get(rec.inputs[1])      # 1 / (1 + exp(-z))
            if add is None or add.op.name != "add":
                continue
            j = 1 if _const(add, 0, 1.0) else 0 if _const(add, 1, 1.0) else None
            exp = producers.get(add.inputs[j]) if j is not None else None
            if exp is None or exp.op.name != "exp":
                continue
            neg = producers.get(exp.inputs[0])
            if neg is None or neg.op.name != "neg" or neg.inputs[0] is None:
                continue
            yield _Activation("sigmoid", rec.index, neg.inputs[0], neg.input_values[0], rec.value,
                              _caller_site(rec, producers.get(neg.inputs[0])))


def _caller_site(rec, z_producer):
    # A learner's `sigmoid` helper records its ops at the helper's line; the line that
    # made the pre-activation (`gf = sigmoid(Wf @ concat + bf)`) says which gate it is.
    own = _localize.record_site(rec.site)
    made = _localize.record_site(z_producer.site) if z_producer is not None else None
    if made and own and (made[0] != own[0] or made[1] > own[1]):
        return made
    return own


def _sig(v):
    return 1.0 / (1.0 + np.exp(-v))


def _derivative_variants(act):
    z, y = act.z, act.y
    where = _localize.site_text(act.site)
    if act.name == "tanh":
        variants = (("derivative_point", 1.0 - z * z,
                     "tanh′ taken at the pre-activation, 1 − z², instead of at the output, 1 − tanh(z)²"),
                    ("derivative_point", 1.0 - np.tanh(y) ** 2,
                     "tanh′ taken as 1 − tanh(a)² of the output a = tanh(z): tanh applied twice; "
                     "use 1 − a²"),
                    ("derivative_formula", y * (1.0 - y),
                     "the sigmoid's derivative a(1 − a) used for a tanh; tanh′ is 1 − a²"))
    else:
        variants = (("derivative_point", z * (1.0 - z),
                     "σ′ taken at the pre-activation, z(1 − z), instead of at the output, σ(z)(1 − σ(z))"),
                    ("derivative_point", _sig(y) * (1.0 - _sig(y)),
                     "σ′ taken as σ(s)(1 − σ(s)) of the output s = σ(z): σ applied twice; use s(1 − s)"),
                    ("derivative_formula", 1.0 - y * y,
                     "tanh's derivative 1 − s² used for a sigmoid; σ′ is s(1 − s)"))
    for kind, local_derivative, words in variants:
        def local(g, rec, d=local_derivative, key=act.z_key, shape=np.shape(z)):
            return [(key, _localize.unbroadcast(np.asarray(g * d), shape))]
        yield kind, f"{words} (the {act.name} at {where})", _localize.Edit(local={act.index: local})


# -- the other GRU convention: h = (1−Γu)*h̃ + Γu*h_prev instead of Γu*h̃ + (1−Γu)*h_prev
def _gru_convention(graph, producers):
    for sub in graph:
        if sub.op.name != "sub" or not _const(sub, 0, 1.0) or sub.inputs[1] is None:
            continue
        u_key, one_minus_u = sub.inputs[1], sub.output
        gated = [r for r in graph if r.op.name == "mul" and u_key in r.inputs]
        other = [r for r in graph if r.op.name == "mul" and one_minus_u in r.inputs]
        for a in gated:
            for b in other:
                if not any(set(r.inputs) >= {a.output, b.output} for r in graph):
                    continue
                yield ("gru_convention",
                       "the other GRU convention: yours are the gradients of h = (1−Γu)*h̃ + Γu*h_prev "
                       "(Keras's z is the lab's 1−Γu), but the forward is the lab's (4-46), "
                       "h = Γu*h̃ + (1−Γu)*h_prev: swap Γu and 1−Γu in your backward",
                       _localize.Edit(local={a.index: _swap_gate(u_key, flip=True),
                                             b.index: _swap_gate(one_minus_u, flip=True)}))


def _swap_gate(gate_key, flip):
    """A product gate*v differentiated as if the gate were (1 − gate)."""
    def local(g, rec):
        i = rec.inputs.index(gate_key)
        j = 1 - i
        gate, v = rec.input_values[i], rec.input_values[j]
        out = [(gate_key, _localize.unbroadcast(np.asarray(-g * v if flip else g * v), np.shape(gate)))]
        if rec.inputs[j] is not None:
            out.append((rec.inputs[j], _localize.unbroadcast(np.asarray(g * (1.0 - gate)), np.shape(v))))
        return out
    return local
