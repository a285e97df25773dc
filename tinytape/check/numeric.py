"""Finite differences (float64) and checks of the tape against them."""
from __future__ import annotations

import numpy as np

from tinytape.check.report import GradientReport, Row, compare_arrays
from tinytape.tape import Tape
from tinytape.tensor import Tensor


def _to_float64(arg):
    # order="C": the perturbation loop writes through reshape(-1), which is a view only
    # for C-contiguous arrays (a transposed input would otherwise never be perturbed).
    if isinstance(arg, dict):
        return {k: np.array(np.asarray(v), dtype=np.float64, order="C") for k, v in arg.items()}
    return np.array(np.asarray(arg), dtype=np.float64, order="C")


def _scalar(out):
    value = np.asarray(out.value if isinstance(out, Tensor) else out, dtype=np.float64)
    if value.size != 1:
        raise ValueError(f"the function must return a scalar, got shape {value.shape}; "
                         "reduce it (e.g. (out * u).sum() for a random u)")
    return float(value.reshape(()))


def _entries(args):
    """(arg index, dict key or None, array) for every array among the arguments."""
    for i, arg in enumerate(args):
        if isinstance(arg, dict):
            for k, v in arg.items():
                yield i, k, v
        else:
            yield i, None, arg


def numeric_gradient(f, *args, eps=1e-6):
    """Central differences (f(x+ε) − f(x−ε)) / 2ε of a scalar f, entry by entry, in float64.

    Arguments may be arrays or dicts of arrays; the result mirrors them (one array,
    a tuple of arrays, dicts for dict arguments). Cost: 2 calls of f per entry.
    """
    args = [_to_float64(a) for a in args]
    grads = [({k: np.zeros_like(v) for k, v in a.items()} if isinstance(a, dict) else np.zeros_like(a))
             for a in args]
    for i, k, arr in _entries(args):
        g = grads[i][k] if k is not None else grads[i]
        flat, gflat = arr.reshape(-1), g.reshape(-1)
        assert np.shares_memory(flat, arr) and np.shares_memory(gflat, g)
        for j in range(flat.size):
            keep = flat[j]
            flat[j] = keep + eps
            up = _scalar(f(*args))
            flat[j] = keep - eps
            down = _scalar(f(*args))
            flat[j] = keep
            gflat[j] = (up - down) / (2 * eps)
    return grads[0] if len(grads) == 1 else tuple(grads)


def tape_gradient(f, *args):
    """(value, gradients) of f by the tape; gradients mirror the arguments' structure."""
    wrapped = []
    with Tape() as tape:
        for a in args:
            if isinstance(a, dict):
                w = {k: Tensor(v, name=str(k)) for k, v in a.items()}
                tape.watch(*w.values())
            else:
                w = Tensor(a)
                tape.watch(w)
            wrapped.append(w)
        out = f(*wrapped)
    if not isinstance(out, Tensor):
        raise TypeError("gradcheck: f returned a plain value, not a Tensor: it does not use its "
                        "arguments through tinytape ops (or converted them with np.asarray)")
    flat = [t for w in wrapped for t in (w.values() if isinstance(w, dict) else (w,))]
    g = iter(tape.gradient(out, flat, output_gradient=np.ones(out.shape, out.dtype)
                           if out.size == 1 else None))
    grads = [({k: next(g) for k in w} if isinstance(w, dict) else next(g)) for w in wrapped]
    return out, grads


def _scalarize(f, out_shape, seed):
    """A scalar version of a non-scalar f: ⟨f(x), u⟩ for a fixed random u."""
    if out_shape == () or int(np.prod(out_shape)) == 1:
        return f
    u = np.random.default_rng(seed).standard_normal(out_shape)
    return lambda *a: (f(*a) * u).sum()


def gradcheck(f, *args, atol=1e-6, rtol=1e-5, eps=1e-6, mode="full", n_directions=4, seed=0):
    """The tape's gradient of f against central differences in float64.

    mode="full" compares every entry (2 calls of f per entry); mode="random" compares
    directional derivatives ⟨∇f, v⟩ along `n_directions` random directions, so its cost
    does not grow with the number of parameters. A non-scalar f is checked through
    ⟨f(x), u⟩ for a random u, so every output counts. float32 inputs are promoted to
    float64 on the numeric side (a float32 central difference is ~1% off); the report
    says so.
    """
    if mode not in ("full", "random"):
        raise ValueError(f"gradcheck: mode must be 'full' or 'random', not {mode!r}")
    notes = []
    if any(np.asarray(v).dtype == np.float32 for _, _, v in _entries(args)):
        notes.append("float32 inputs: the tape ran in float32, the differences in float64")
    probe = f(*[_to_float64(a) for a in args])
    g = _scalarize(f, np.shape(np.asarray(probe.value if isinstance(probe, Tensor) else probe)), seed)
    _, tape_grads = tape_gradient(g, *args)
    report = GradientReport(labels=("tape", "finite differences"), notes=notes, rtol=rtol, atol=atol)
    names = _names(args)
    if mode == "full":
        numeric = numeric_gradient(g, *args, eps=eps)
        numeric = [numeric] if len(args) == 1 else list(numeric)
        for (i, k, _), name in zip(_entries(args), names):
            t = tape_grads[i][k] if k is not None else tape_grads[i]
            n = numeric[i][k] if k is not None else numeric[i]
            report.rows.append(compare_arrays(name, t, n, rtol, atol))
        return report
    rng = np.random.default_rng(seed + 1)
    base = [_to_float64(a) for a in args]
    entries = list(_entries(base))
    for d in range(n_directions):
        direction = [rng.standard_normal(np.shape(v)) for _, _, v in entries]
        plus, minus = _shifted(base, entries, direction, eps), _shifted(base, entries, direction, -eps)
        numeric = (_scalar(g(*plus)) - _scalar(g(*minus))) / (2 * eps)
        analytic = 0.0
        for (i, k, _), v in zip(entries, direction):
            t = tape_grads[i][k] if k is not None else tape_grads[i]
            analytic += float(np.sum(np.asarray(t, dtype=np.float64) * v))
        row = compare_arrays(f"direction {d}", np.array([analytic]), np.array([numeric]), rtol, atol,
                             note="⟨∇f, v⟩ for a random v")
        report.rows.append(row)
    return report


def _shifted(base, entries, direction, step):
    out = [({k: v.copy() for k, v in a.items()} if isinstance(a, dict) else a.copy()) for a in base]
    for (i, k, _), v in zip(entries, direction):
        if k is None:
            out[i] = out[i] + step * v
        else:
            out[i][k] = out[i][k] + step * v
    return out


def _names(args):
    names = []
    for i, k, _ in _entries(args):
        names.append(f"d{k}" if k is not None else f"arg {i}")
    return names


def compare(grads_a, grads_b, labels=("a", "b"), rtol=1e-7, atol=0.0):
    """Compare two dicts of gradients key by key (e.g. hand BPTT vs tape vs TensorFlow).

    A key missing on either side is a failing row. Relative error is normwise per
    gradient: max|a−b| / max(max|a|, max|b|).
    """
    report = GradientReport(labels=tuple(labels), rtol=rtol, atol=atol)
    for name in list(grads_a) + [k for k in grads_b if k not in grads_a]:
        if name not in grads_b:
            report.rows.append(Row(name, False, note=f"missing in {labels[1]}"))
        elif name not in grads_a:
            report.rows.append(Row(name, False, note=f"missing in {labels[0]}"))
        else:
            report.rows.append(compare_arrays(name, grads_a[name], grads_b[name], rtol, atol))
    return report
