"""Sequence-level checks: at which time step, counting back from the end, a bug first bites.

A sequence exercise (`lstm_forward(x, a0, parameters)` / `lstm_backward(da, caches)`)
loops over a cell function: `lstm_cell_forward` forward, `lstm_cell_backward` backward.
While the check runs them, those names in the learner's module are wrapped:

- in the NumPy run, each cell call's cache is remembered (its position = the time step);
- in the tape run, each cell call gets a scope `t=<step>` (drawings cluster by it) and
  its record range and output keys are kept;
- in the learner's backward, each cell-backward call's incoming gradients (da_next,
  dc_next) are captured, and its cache tells which step it is.

The tape gives the gradient each cell output receives from outside its cell (from the
later steps and the sequence outputs): exactly what the learner should pass in. The
first step, from the end, where they differ is where the bug first bites.
"""
from __future__ import annotations

import contextlib
import types

import numpy as np

from tinytape.check import localize as _localize
from tinytape.check.learner_report import FirstBadStep
from tinytape.check.numpy_shim import replaced_globals
from tinytape.tape import scope


def _find_function(fn, suffix):
    """The name of a function called by `fn` whose name ends with `suffix`, or None."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return None
    for name in code.co_names:
        target = fn.__globals__.get(name)
        if isinstance(target, types.FunctionType) and name.endswith(suffix):
            return name
    return None


class CellTrace:
    """Watches a sequence exercise's cell calls during the three runs (see the module doc).

    With no `*cell_forward` / `*cell_backward` function to watch (a cell exercise, or a
    sequence written inline) every method is a no-op and the dx slices are used instead.
    """

    def __init__(self, forward, backward):
        self.forward, self.backward = forward, backward
        self.forward_cell = _find_function(forward, "cell_forward")
        self.backward_cell = _find_function(backward, "cell_backward")
        self.caches = []         # NumPy run: each call's cache (kept alive, matched by identity)
        self.calls = []          # tape run: (first record, end record, output keys)
        self.incoming = []       # learner backward: (step, [incoming gradient arrays])

    # -- the three runs --------------------------------------------------------------
    @contextlib.contextmanager
    def numpy_run(self):
        if not self.forward_cell:
            yield
            return
        original = self.forward.__globals__[self.forward_cell]

        def traced(*args, **kwargs):
            result = original(*args, **kwargs)
            if isinstance(result, tuple) and result:
                self.caches.append(result[-1])
            return result

        with replaced_globals(self.forward, {self.forward_cell: traced}):
            yield

    @contextlib.contextmanager
    def tape_run(self, tape):
        if not self.forward_cell:
            yield
            return
        original = self.forward.__globals__[self.forward_cell]

        def traced(*args, **kwargs):
            start = len(tape)
            with scope(f"t={len(self.calls)}"):
                result = original(*args, **kwargs)
            keys = [getattr(out, "key", None) for out in (result[:-1] if isinstance(result, tuple) else ())]
            self.calls.append((start, len(tape), keys))
            return result

        with replaced_globals(self.forward, {self.forward_cell: traced}):
            yield

    @contextlib.contextmanager
    def backward_run(self, backward):
        if not (self.forward_cell and self.backward_cell):
            yield
            return
        original = backward.__globals__[self.backward_cell]
        by_id = {id(c): t for t, c in enumerate(self.caches)}

        def traced(*args, **kwargs):
            step = by_id.get(id(args[-1])) if args else None
            if step is None:       # a rebuilt cache: assume the usual reversed loop
                step = len(self.caches) - 1 - len(self.incoming)
            self.incoming.append((step, [np.array(a, dtype=float) for a in args[:-1]]))
            return original(*args, **kwargs)

        with replaced_globals(backward, {self.backward_cell: traced}):
            yield

    def step_ranges(self):
        """[(first record, end record)] per time step (empty if not a sequence: < 2 calls)."""
        if len(self.calls) < 2:
            return []
        return [(start, end) for start, end, _ in self.calls]

    # -- the verdict -----------------------------------------------------------------
    def first_bad_step(self, records, seeds, atol, rtol, report, yours, tape):
        """Compare what the learner passes into each step with the tape; from the end."""
        T = len(self.calls)
        if not report.failures:
            return None
        if T < 2 or not self.incoming:
            return _from_dx_slices(report, yours, tape)
        grads = _localize.sweep(records, seeds)
        uses = {}                       # key -> the records that read it (one pass, not T)
        for rec in records:
            for k in set(rec.inputs):
                if k is not None:
                    uses.setdefault(k, []).append(rec)
        names = _incoming_names(self.backward.__globals__[self.backward_cell])
        incoming = {}
        for step, arrays in self.incoming:
            incoming.setdefault(step, arrays)
        for t in sorted(incoming, reverse=True):
            start, end, keys = self.calls[t]
            bad = []
            for j, yours in enumerate(incoming[t]):
                if j >= len(keys) or keys[j] is None:
                    continue
                outside = _localize.edge_contributions(uses.get(keys[j], []), grads, keys[j],
                                                       after=end - 1)
                if keys[j] in seeds:
                    outside = seeds[keys[j]] if outside is None else outside + seeds[keys[j]]
                if outside is None:
                    outside = np.zeros_like(yours)
                if yours.shape != outside.shape or np.any(
                        np.abs(yours - outside) > atol + rtol * np.max(np.abs(outside), initial=0.0)):
                    bad.append(names[j] if j < len(names) else f"gradient {j}")
            if bad:
                back = T - 1 - t
                where = "at the last step" if back == 0 else \
                    f"{back} step{'s' if back > 1 else ''} back from the last step"
                text = (f"counting back from the end, the first disagreement is at t = {t} ({where}, "
                        f"T = {T}): the {_localize.join_names(bad)} your {self.backward.__name__} "
                        f"passes to {self.backward_cell} there differ{'s' if len(bad) == 1 else ''} "
                        f"from the tape's gradient arriving at that step")
                if back > 0:
                    text += ("; the steps after it were right, so look at what is carried back "
                             "from step t+1 (the previous-state gradients and how you add them)")
                return FirstBadStep(t, back, T, bad, text)
        if report.failures:
            text = (f"the gradients your {self.backward.__name__} passes into {self.backward_cell} "
                    f"agree with the tape at all {T} steps: the mistake is in {self.backward_cell} "
                    f"itself or in how you add the per-step gradients together")
            return FirstBadStep(None, None, T, [], text)
        return None


def _incoming_names(cell_backward):
    try:
        code = cell_backward.__code__
        return list(code.co_varnames[: code.co_argcount - 1])
    except AttributeError:
        return []


def _from_dx_slices(report, yours, tape):
    """Without a cell function to watch: compare dx[..., t] from the last step back."""
    for name in ("dx", "dX"):
        y, t = yours.get(name), tape.get(name)
        if y is None or t is None or np.shape(y) != np.shape(t) or np.ndim(t) != 3:
            continue
        y, t = np.asarray(y, dtype=float), np.asarray(t, dtype=float)
        T = t.shape[2]
        limit = report.atol + report.rtol * np.max(np.abs(t), initial=0.0)
        for step in reversed(range(T)):
            if np.any(np.abs(y[:, :, step] - t[:, :, step]) > limit):
                back = T - 1 - step
                text = (f"counting back from the end, {name}[:, :, t] first disagrees at t = {step} "
                        f"({back} step{'s' if back != 1 else ''} back from the last step, T = {T})")
                return FirstBadStep(step, back, T, [name], text)
    return None
