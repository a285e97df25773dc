"""The tape as referee of a learner's own hand-derived backward.

    report = check.backward(lstm_cell_forward, lstm_cell_backward, xt, h_prev, c_prev, parameters)
    print(report)

1. The learner's forward runs on NumPy arrays: its outputs and its cache.
2. It runs again on Tensors, through the NumPy protocol, so the tape records it
   (`np.zeros` + item assignment included: see numpy_shim.py).
3. Random output gradients (cotangents) are drawn; the tape's vector-Jacobian product
   is the referee. The learner's backward gets the same cotangents and the cache.
4. Every gradient is compared; the wrong ones are located on the graph (localize.py)
   and, when they equal the tape's up to a recognisable mistake, diagnosed (diagnose.py).

The referee is the tape of the learner's OWN forward, so a backward that is consistent
with a wrong forward is right here; `reference=` catches the wrong forward separately.
"""
from __future__ import annotations

import difflib
import inspect
import os
import traceback
from dataclasses import dataclass

import numpy as np

from tinytape.check import diagnose as _diagnose
from tinytape.check import localize as _localize
from tinytape.check import numpy_shim
from tinytape.check.learner_report import BackwardReport, GradientCheck, LearnerError
from tinytape.check.sequence import CellTrace
from tinytape.tape import Tape
from tinytape.tensor import Tensor

__all__ = ["backward", "compare_gradient", "learner_error", "BackwardReport", "GradientCheck",
           "LearnerError"]


@dataclass
class _Leaf:
    """One differentiable input: `xt`, or one entry `Wf` of the parameters dict."""

    grad_name: str          # the name the learner's dict should use: dxt, dWf
    arg_name: str           # the forward's parameter it comes from: xt, parameters
    key_in_dict: str | None  # 'Wf' for a dict entry, None for an array argument
    value: np.ndarray
    tensor: Tensor = None
    demanded: bool = True
    tape_grad: np.ndarray = None


def backward(forward, backward, *args, seed=0, atol=None, rtol=None, reference=None,
             outputs=None, names=None):
    """Check `backward` (the learner's hand-derived one) against the tape of `forward`.

    forward(*args) returns its outputs followed by a cache; backward(*output_grads, cache)
    returns a dict of gradients. How many outputs get gradients comes from backward's
    signature (its parameters minus the cache); `outputs=` overrides it (a count, or the
    indices of the outputs). Gradient names: 'd' + the forward's parameter name for an
    array argument (dxt, da_prev), 'd' + key for a dict argument (dWf); `names=` maps a
    default name (or the argument/key) to the learner's name. Returns a BackwardReport.

    A gradient agrees when every |yours − tape| ≤ atol + rtol·max|tape|; the defaults
    (atol 1e-8, rtol 1e-6 in float64; 1e-5 and 1e-4 when an input is float32) sit far
    below the errors real mistakes make and far above rounding.
    """
    arg_names = _arg_names(forward, len(args))
    leaves = _leaves(args, arg_names, names or {})
    single = any(leaf.value.dtype == np.float32 for leaf in leaves)
    atol = (1e-5 if single else 1e-8) if atol is None else atol
    rtol = (1e-4 if single else 1e-6) if rtol is None else rtol
    report = BackwardReport(_name(forward), _name(backward), atol=atol, rtol=rtol, seed=seed)
    report.leaf_names = {leaf.grad_name: leaf.key_in_dict or leaf.arg_name for leaf in leaves}

    # 1. The learner's forward on NumPy arrays (its cache feeds its backward).
    trace = CellTrace(forward, backward)
    with trace.numpy_run():
        result = _call(report, forward, "forward", _copied(args))
    if report.error:
        return report
    outs, cache = _split_result(report, result)
    if report.error:
        return report
    graded = _graded_outputs(report, backward, outputs, len(outs))
    if report.error:
        return report
    out_names = _output_names(backward, graded)
    report.output_names = out_names

    if reference is not None:
        _check_reference(report, reference, args, outs, graded, out_names)

    # 2. The same forward on Tensors, recorded on a tape.
    tape = Tape(persistent=True)
    tensor_args = _tensor_args(args, arg_names, leaves)
    with tape, numpy_shim.tensor_numpy(forward), trace.tape_run(tape):
        t_result = _call(report, forward, "forward", tensor_args, on_tape=True)
    if report.error:
        return report
    report.tape = tape
    t_outs = t_result[:-1]
    targets = []
    for i, name in zip(graded, out_names):
        out = t_outs[i]
        if not isinstance(out, Tensor) or tape.producer(out.key) is None:
            report.error = LearnerError(
                report.forward_name, "forward", "not on the tape",
                f"the output {name!r} did not stay on the tape when the forward ran on tinytape "
                f"Tensors, so the tape cannot referee its gradients; build it from the inputs with "
                f"NumPy operations (np.dot, np.tanh, *, +, np.concatenate, slicing)", None, "")
            return report
        if out.shape != np.shape(outs[i]) or not np.allclose(out.value, outs[i], rtol=1e-9, atol=1e-12):
            report.error = LearnerError(
                report.forward_name, "forward", "not repeatable",
                f"the output {name!r} came out different on a second run with the same inputs "
                f"(random numbers, or the inputs changed in place?), so its gradients cannot be "
                f"compared; make the forward a function of its inputs only", None, "")
            return report
        targets.append(out)
    report.target_keys = [t.key for t in targets]

    # 3. The referee: the tape's VJP with random output gradients.
    rng = np.random.default_rng(seed)
    cotangents = [rng.standard_normal(np.shape(outs[i])).astype(np.result_type(outs[i], np.float32))
                  for i in graded]
    report.cotangents = cotangents
    records = tape.records
    upstream = _localize.ancestors(records, report.target_keys)
    used = {k for i in upstream for k in records[i].inputs} | set(report.target_keys)
    sources = [leaf.tensor for leaf in leaves]
    totals = [np.zeros(leaf.value.shape) for leaf in leaves]
    for target, ct in zip(targets, cotangents):
        for j, g in enumerate(tape.gradient(target, sources, output_gradient=ct)):
            totals[j] = totals[j] + g
    for leaf, g in zip(leaves, totals):
        leaf.tape_grad = g
        leaf.demanded = leaf.tensor.key in used
    _check_lost_inputs(report, forward, args, arg_names, leaves, outs, graded)
    if report.error:
        return report

    # 4. The learner's backward, with the same output gradients and its own cache.
    with trace.backward_run(backward):
        grads = _call(report, backward, "backward", [ct.copy() for ct in cotangents] + [cache])
    if report.error:
        return report
    if grads is None:
        report.error = LearnerError(report.backward_name, "backward", "not implemented yet",
                                    "it returned None: finish it so that it returns the dict of "
                                    "gradients", None, "")
        report.not_implemented = True
        return report
    if not isinstance(grads, dict):
        report.error = LearnerError(
            report.backward_name, "backward", "wrong return",
            f"it returned a {type(grads).__name__}; return a dict of gradients keyed like "
            f"{', '.join(repr(leaf.grad_name) for leaf in leaves if leaf.demanded)}", None, "")
        return report

    # 5. Compare every gradient; say where and, when it is recognisable, what.
    _compare_all(report, leaves, grads)
    if report.failures:
        try:
            _explain(report, leaves, grads, records, targets, cotangents, outs, graded, trace)
        except Exception as exc:     # the verdict stands even if an explanation fails: say so
            report.notes.append(f"tinytape could not finish explaining the failures "
                                f"({type(exc).__name__}: {exc}); please report it")
    return report


def _explain(report, leaves, grads, records, targets, cotangents, outs, graded, trace):
    """Localisation (which ops), diagnoses (which mistake), first bad time step."""
    seeds = {}
    for t, ct in zip(targets, cotangents):
        seeds[t.key] = seeds[t.key] + ct if t.key in seeds else ct
    leaf_keys = {leaf.grad_name: leaf.tensor.key for leaf in leaves}
    wrong = [r.name for r in report.rows if not r.ok and r.name in leaf_keys]
    right = [r.name for r in report.rows if r.ok and r.name in leaf_keys]
    params = {leaf.grad_name: leaf.key_in_dict for leaf in leaves if leaf.key_in_dict}
    roles = {leaf.grad_name: leaf.arg_name for leaf in leaves if not leaf.key_in_dict}
    if wrong:
        loc = _localize.localize(records, leaf_keys, report.target_keys, wrong, right,
                                 param_of=params, role_of=roles,
                                 kind=_localize.cell_kind(params.values()))
        report.localization = loc
        report.disagreeing_records = loc.records
        report.wrong_keys = [leaf_keys[n] for n in wrong]
    context = _diagnose.Context(
        records=records, seeds=seeds, leaf_keys=leaf_keys,
        yours={r.name: grads.get(r.name) for r in report.rows},
        tape={leaf.grad_name: leaf.tape_grad for leaf in leaves},
        wrong=wrong, right=right, batch=_batch_size(outs, graded), atol=report.atol,
        rtol=report.rtol, steps=trace.step_ranges(),
        output_names=dict(zip(report.target_keys, report.output_names)), params=params)
    for name, found in _diagnose.diagnose(context).items():
        report.row(name).diagnosis = found.text
        report.row(name).diagnosis_kind = found.kind
    report.first_bad_step = trace.first_bad_step(records, seeds, report.atol, report.rtol, report,
                                                  context.yours, context.tape)


# ----------------------------------------------------------------------- helpers
def _name(fn):
    return getattr(fn, "__name__", type(fn).__name__)


def _arg_names(forward, n):
    try:
        params = list(inspect.signature(forward).parameters.values())
    except (TypeError, ValueError):
        params = []
    names = []
    for i in range(n):
        if i < len(params) and params[i].kind in (params[i].POSITIONAL_ONLY,
                                                  params[i].POSITIONAL_OR_KEYWORD):
            names.append(params[i].name)
        else:
            names.append(f"arg{i}")
    return names


def _is_float_array(v):
    return isinstance(v, np.ndarray) and v.dtype.kind == "f"


def _leaves(args, arg_names, names):
    leaves = []
    for arg, arg_name in zip(args, arg_names):
        if _is_float_array(arg):
            default = "d" + arg_name
            grad = names.get(default) or names.get(arg_name) or default
            leaves.append(_Leaf(grad, arg_name, None, arg))
        elif isinstance(arg, dict):
            for key, value in arg.items():
                if _is_float_array(value):
                    default = "d" + key
                    grad = names.get(default) or names.get(key) or default
                    leaves.append(_Leaf(grad, arg_name, key, value))
    return leaves


def _copied(args):
    out = []
    for a in args:
        if isinstance(a, np.ndarray):
            out.append(a.copy())
        elif isinstance(a, dict):
            out.append({k: v.copy() if isinstance(v, np.ndarray) else v for k, v in a.items()})
        else:
            out.append(a)
    return out


def _tensor_args(args, arg_names, leaves):
    by_place = {(leaf.arg_name, leaf.key_in_dict): leaf for leaf in leaves}
    out = []
    for arg, arg_name in zip(args, arg_names):
        if isinstance(arg, dict):
            d = {}
            for key, value in arg.items():
                leaf = by_place.get((arg_name, key))
                d[key] = _watched(leaf, key) if leaf else value
            out.append(d)
        else:
            leaf = by_place.get((arg_name, None))
            out.append(_watched(leaf, arg_name) if leaf else arg)
    return out


def _watched(leaf, name):
    leaf.tensor = Tensor(leaf.value.copy(), requires_grad=True, name=name)
    return leaf.tensor


def _call(report, fn, phase, args, on_tape=False):
    """Call learner code; an exception becomes a two-line LearnerError on the report."""
    try:
        return fn(*args)
    except Exception as exc:     # the learner's code may raise anything: report it, briefly
        report.error = learner_error(fn, phase, exc, on_tape)
        report.not_implemented = isinstance(exc, NotImplementedError)
        return None


# Frames in these folders are not the learner's: tinytape (this check included) and NumPy.
_OWN_DIRS = (os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep,
             os.path.dirname(os.path.abspath(np.__file__)) + os.sep)


def learner_error(fn, phase, exc, on_tape=False):
    """An exception raised in learner code, as a two-line LearnerError naming their line."""
    site, code = None, ""
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        filename = frame.f_code.co_filename
        if os.path.abspath(filename).startswith(_OWN_DIRS):
            continue
        site = (filename, lineno)
    if site:
        code = _localize.site_text(site).partition(" ")[2].strip("`")
    if isinstance(exc, NotImplementedError):
        kind, message = "not implemented yet", str(exc) or "it raises NotImplementedError"
    else:
        kind, message = type(exc).__name__, str(exc).splitlines()[0] if str(exc) else ""
        if on_tape:
            message = ("it runs on NumPy arrays but not on tinytape Tensors: " + message)
    return LearnerError(_name(fn), phase, kind, message, site, code)


def _split_result(report, result):
    if not isinstance(result, tuple) or len(result) < 2:
        got = type(result).__name__ if not isinstance(result, tuple) else f"a tuple of {len(result)}"
        report.error = LearnerError(report.forward_name, "forward", "wrong return",
                                    f"it returned {got}; a forward returns its outputs and then a "
                                    "cache, e.g. `return h_next, c_next, cache`", None, "")
        return None, None
    return result[:-1], result[-1]


def _graded_outputs(report, backward, outputs, n_outs):
    if outputs is not None:
        graded = list(range(outputs)) if isinstance(outputs, int) else list(outputs)
    else:
        try:
            params = list(inspect.signature(backward).parameters.values())
        except (TypeError, ValueError):
            params = []
        if any(p.kind == p.VAR_POSITIONAL for p in params) or not params:
            report.error = LearnerError(report.backward_name, "backward", "signature",
                                        "cannot tell how many output gradients it takes; pass "
                                        "outputs=<count>", None, "")
            return None
        graded = list(range(len(params) - 1))
    if not graded or max(graded) >= n_outs:
        report.error = LearnerError(
            report.backward_name, "backward", "signature",
            f"it takes {len(graded)} output gradient(s) (plus the cache) but the forward returns "
            f"{n_outs} output(s) before its cache; pass outputs= to say which get gradients",
            None, "")
        return None
    return graded


def _output_names(backward, graded):
    try:
        params = [p.name for p in inspect.signature(backward).parameters.values()]
    except (TypeError, ValueError):
        params = []
    names = []
    for j, i in enumerate(graded):
        p = params[j] if j < len(params) - 1 else f"output{i}"
        names.append(p[1:] if p.startswith("d") and len(p) > 1 else p)
    return names


def _check_reference(report, reference, args, outs, graded, out_names):
    try:
        ref = reference(*_copied(args))
    except Exception as exc:
        report.notes.append(f"the reference forward {_name(reference)} could not run on these "
                            f"inputs ({type(exc).__name__}: {exc}); forward not compared")
        return
    ref_outs = ref[:-1] if isinstance(ref, tuple) else (ref,)
    report.forward_ok = True
    for i, name in zip(graded, out_names):
        if i >= len(ref_outs):
            continue
        row = compare_gradient(name, outs[i], np.asarray(ref_outs[i]), report.atol, report.rtol)
        report.forward_rows.append(row)
        report.forward_ok = report.forward_ok and row.ok


def _check_lost_inputs(report, forward, args, arg_names, leaves, outs, graded):
    """An input the tape says does not matter, but that changes the outputs, was lost.

    That happens when the forward takes a value off the tape in a way the core cannot
    see; the check then cannot referee it and says so instead of blaming the learner.
    """
    for leaf in leaves:
        if leaf.demanded:
            continue
        bumped = _copied(args)
        i = arg_names.index(leaf.arg_name)
        target = bumped[i] if leaf.key_in_dict is None else bumped[i][leaf.key_in_dict]
        target += 1e-3 * (1.0 + np.abs(target))
        try:
            new = forward(*bumped)[:-1]
        except Exception:
            continue
        if any(not np.allclose(np.asarray(new[j]), np.asarray(outs[j])) for j in graded):
            report.error = LearnerError(
                report.forward_name, "forward", "left the tape",
                f"the outputs depend on {leaf.key_in_dict or leaf.arg_name}, but the tape did not "
                f"see it: the forward takes it off the tape somewhere (a copy into a plain "
                f"array, float(), .item()...), so its gradient cannot be refereed", None, "")
            return


def compare_gradient(name, yours, tape, atol, rtol):
    """One GradientCheck: shape, max abs and normwise rel error, the worst entries.

    Agreement: every |yours − tape| ≤ atol + rtol·max|tape| (normwise, so tiny entries of
    a large gradient do not fail on rounding).
    """
    expected = tuple(np.shape(tape))
    try:
        y = np.asarray(yours, dtype=np.float64)
    except (TypeError, ValueError):
        return GradientCheck(name, "not an array", expected, None)
    if y.shape != expected:
        return GradientCheck(name, "wrong shape", expected, y.shape)
    if not np.all(np.isfinite(y)):
        return GradientCheck(name, "not finite", expected, y.shape)
    t = np.asarray(tape, dtype=np.float64)
    if y.size == 0:
        return GradientCheck(name, "ok", expected, y.shape, 0.0, 0.0)
    diff = np.abs(y - t)
    scale = max(float(np.max(np.abs(t))), float(np.max(np.abs(y))))
    max_abs = float(diff.max())
    max_rel = max_abs / scale if scale > 0 else 0.0
    ok = bool(np.all(diff <= atol + rtol * float(np.max(np.abs(t)))))
    worst = []
    if not ok:
        for flat in np.argsort(diff, axis=None)[::-1][:3]:
            idx = tuple(int(i) for i in np.unravel_index(int(flat), diff.shape))
            worst.append((idx, float(y[idx]), float(t[idx])))
    return GradientCheck(name, "ok" if ok else "wrong", expected, y.shape, max_abs, max_rel, worst)


def _compare_all(report, leaves, grads):
    by_name = {leaf.grad_name: leaf for leaf in leaves}
    for leaf in leaves:
        if leaf.grad_name not in grads:
            if leaf.demanded:
                report.rows.append(GradientCheck(leaf.grad_name, "missing", leaf.value.shape, None))
                report.missing.append(leaf.grad_name)
            continue
        row = compare_gradient(leaf.grad_name, grads[leaf.grad_name], leaf.tape_grad,
                              report.atol, report.rtol)
        if not leaf.demanded:
            row.note = (f"{leaf.key_in_dict or leaf.arg_name} does not affect "
                        f"{_localize.join_names(report.output_names)}: its gradient here is 0")
        report.rows.append(row)
    for key in grads:
        if key not in by_name:
            close = difflib.get_close_matches(key, list(by_name), n=1)
            report.unexpected.append((key, close[0] if close else None))


def _batch_size(outs, graded):
    shape = np.shape(outs[graded[0]])
    return shape[1] if len(shape) >= 2 else None

