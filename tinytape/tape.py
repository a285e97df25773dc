"""The tape: a Wengert list of the ops applied to tracked tensors, swept backward.

Recording order is already a topological order, so the backward sweep is one loop
over the records in reverse: no graph search and no recursion, whatever the depth.
"""
from __future__ import annotations

import contextlib
from typing import NamedTuple

import numpy as np

from tinytape import _state
from tinytape.errors import TapeError, format_site
from tinytape.tensor import Tensor, site_of, user_site
from tinytape.ops import passes_gradient  # after tensor: ops imports from it


_scope_stack = _state.scope_stack


class Record(NamedTuple):
    """One line of the Wengert list: `value = op(inputs)`."""

    index: int                 # position on the tape
    op: object                 # the Op (record.op.name, record.op.symbol)
    inputs: tuple              # input keys; None for a constant (non-Tensor) argument
    input_values: tuple        # the input arrays (constants included)
    output: int                # the output key
    value: np.ndarray          # the output array
    params: dict | None        # op parameters (axis, keepdims, index, ...)
    scope: str                 # e.g. "lstm/t=3"; "" at top level
    site: tuple | None         # (filename, lineno) of the user code that recorded it
    grad_inputs: tuple = ()    # positions of the inputs this tape tracks (gradients flow there)


@contextlib.contextmanager
def scope(name: str):
    """Label the records made inside the block, on every active tape: `lstm/t=3`.

    Scopes nest (`with scope("lstm"): with scope("t=3"): ...` labels `lstm/t=3`);
    drawings cluster by these labels.
    """
    stack = _state.scope_stack
    parent = stack[-1]
    stack.append(f"{parent}/{name}" if parent else str(name))
    try:
        yield stack[-1]
    finally:
        stack.pop()


def unbroadcast(g, shape):
    """Sum `g` over the dimensions NumPy broadcast, so it gets the input's `shape`."""
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if stretched:
        g = g.sum(axis=stretched, keepdims=True)
    if g.shape != shape:   # a VJP bug, never the user's: say so loudly
        raise AssertionError(f"tinytape internal error: gradient of shape {g.shape} for an input of shape {shape}")
    return g


def scatter_buffer(prev, owned, shape, g):
    """The array an `accumulate` op (a slice, rows) adds its gradient `g` into, in place:
    the gradient summed so far when this sweep made it (`owned`: nobody else holds it),
    otherwise a fresh one (zeros, or a copy of `prev`, which may be shared or read-only)."""
    if prev is None:
        return np.zeros(shape, dtype=g.dtype)
    dtype = prev.dtype if prev.dtype == g.dtype else np.result_type(prev.dtype, g.dtype)
    if owned and type(prev) is np.ndarray and prev.dtype == dtype:
        return prev
    return np.array(prev, dtype=dtype)


class Tape:
    """Records ops on tracked tensors; `gradient` sweeps the records backward.

    What is tracked: tensors given to `watch`, tensors created with
    `requires_grad=True` (tracked by every active tape when first used), and every
    value computed from a tracked tensor while the tape is active.

    persistent=False (the default) allows one `gradient` call and then frees the
    records; persistent=True allows many. check_finite=True stops at the first op
    that produces NaN or Inf. trace=False skips the file:line of each record (faster).
    """

    def __init__(self, persistent=False, check_finite=False, trace=True):
        self.persistent = persistent
        self.check_finite = check_finite
        self.trace = trace
        self._records: list[tuple] = []        # raw tuples in Record's field order
        self._record_views: list[Record] = []
        self._producer: dict[int, int] = {}     # output key -> record index
        self._tracked: set[int] = set()
        self.leaves: dict[int, np.ndarray] = {}
        self.names: dict[int, str] = {}
        self.value_grads: dict[int, np.ndarray] = {}
        self._recording = False
        self._used = False

    # -- recording ----------------------------------------------------------------
    def __enter__(self):
        if self._recording:
            raise TapeError("this tape is already recording; use a new Tape() for a nested one")
        self._recording = True
        _state.active_tapes.append(self)
        return self

    def __exit__(self, *exc):
        self._recording = False
        _state.active_tapes.remove(self)
        return False

    def watch(self, *tensors, name=None):
        """Track these tensors: gradients can be asked with respect to them."""
        for t in tensors:
            if not isinstance(t, Tensor):
                raise TypeError(f"Tape.watch: expected a tinytape.Tensor, got {type(t).__name__}; "
                                "wrap arrays first: x = tinytape.Tensor(x)")
            self._add_leaf(t)
            if name is not None:
                t.name = name
                self.names[t.key] = name

    def _add_leaf(self, t):
        self._tracked.add(t.key)
        if self._producer_index(t.key) is None:
            self.leaves[t.key] = t._value
        if t.name:
            self.names[t.key] = t.name

    scope = staticmethod(scope)

    def _inputs_to_track(self, args, keys):
        """Positions of the inputs to differentiate; adopts requires_grad tensors as leaves
        and keeps the names of untracked ones (a drawing labels them)."""
        tracked = self._tracked
        positions = []
        for i, (a, k) in enumerate(zip(args, keys)):
            if k is None:
                continue
            if k in tracked:
                positions.append(i)
            elif a.requires_grad:              # first use on this tape: it becomes a leaf
                self._add_leaf(a)
                positions.append(i)
            elif a._name:                      # an untracked, named input (e.g. x<3>)
                self.names[k] = a._name
        return tuple(positions)

    def _check_finite(self, op, values, out):
        if not np.all(np.isfinite(out)):
            self._raise_not_finite(op, values, user_site())

    def _raise_not_finite(self, op, values, site):
        scope_label = _state.scope_stack[-1]
        inputs = "; ".join(
            f"input {i}: shape {np.shape(v)}, {'finite' if np.all(np.isfinite(v)) else 'has NaN/Inf'}"
            for i, v in enumerate(values))
        raise FloatingPointError(
            f"tinytape.{op.name} produced NaN or Inf at {format_site(site)}"
            f"{' in scope ' + scope_label if scope_label else ''} (tape record {len(self._records)}); {inputs}")

    # -- reading ------------------------------------------------------------------
    @property
    def records(self) -> list[Record]:
        """The Wengert list as Records (each built once, when first read)."""
        views = self._record_views
        for index in range(len(views), len(self._records)):
            op, keys, values, out_key, out, params, scope_label, site, grad_inputs = self._records[index]
            views.append(Record(index, op, keys, values, out_key, out, params, scope_label,
                                site_of(site), grad_inputs))
        return list(views)

    def __len__(self):
        return len(self._records)

    def producer(self, key):
        """The record that produced `key`, or None for a leaf or a constant."""
        index = self._producer_index(key)
        return None if index is None else self.records[index]

    def _producer_index(self, key):
        # Built when first asked, not per op: recording stays one append.
        producer = self._producer
        for index in range(len(producer), len(self._records)):
            producer[self._records[index][3]] = index
        return producer.get(key)

    def label(self, key):
        """A short readable name for a value: its name, or v<key>."""
        if key is None:
            return "const"
        return self.names.get(key) or f"v{key}"

    def __str__(self):
        from tinytape.printing import format_tape
        return format_tape(self)

    def __repr__(self):
        return f"<Tape: {len(self._records)} records, {len(self.leaves)} watched>"

    # -- the backward sweep -------------------------------------------------------
    def gradient(self, target, sources, output_gradient=None, retain_all=False):
        """d target / d sources, as NumPy arrays shaped like each source.

        `sources` may be a Tensor (one array back), a list/tuple (a list back) or a
        dict of Tensors (a dict back). A source the target does not depend on gets
        zeros. A non-scalar target needs `output_gradient` (the vector of the VJP).
        retain_all=True keeps every value's gradient in `self.value_grads`.
        """
        if self._used and not self.persistent:
            raise TapeError("a non-persistent tape can compute one gradient only, and it already "
                            "has; create the tape with Tape(persistent=True) to ask several times")
        if self._recording and not self.persistent:
            raise TapeError("gradient() was called inside the tape's `with` block; call it after "
                            "the block ends (or use Tape(persistent=True))")
        flat, rebuild = _flatten_sources(sources)
        seed = self._seed(target, output_gradient)
        grads = self._sweep(target, [s.key for s in flat], seed, retain_all)
        self._used = True
        if not self.persistent:
            self._records, self._record_views, self._producer = [], [], {}
        out = []
        for s in flat:
            g = grads.get(s.key)
            if g is None:
                g = np.zeros(s.shape, dtype=s.dtype)
            elif not g.flags.writeable or g.dtype != s.dtype:
                g = np.array(g, dtype=s.dtype)
            out.append(g)
        return rebuild(out)

    def replayer(self, target, sources, inputs=()):
        """A `Replay` of this tape: its records up to `target` as a program to run again
        on new values of `sources` and `inputs` (tensors), forward and backward, without
        recording. See tinytape/replay.py for what a replay freezes."""
        from tinytape.replay import Replay
        return Replay(self, target, sources, inputs)

    def _seed(self, target, output_gradient):
        if not isinstance(target, Tensor):
            raise TypeError(f"Tape.gradient: the target must be a tinytape.Tensor, got "
                            f"{type(target).__name__}; was it computed from a watched tensor?")
        if output_gradient is None:
            if target.size != 1:
                raise ValueError(
                    f"Tape.gradient: the target has shape {target.shape}, not a scalar; reduce it "
                    "first (e.g. loss.sum()), or pass output_gradient= of that shape to get the "
                    "vector-Jacobian product")
            return np.ones(target.shape, dtype=target.dtype)
        seed = np.asarray(output_gradient, dtype=target.dtype)
        if seed.shape != target.shape:
            raise ValueError(f"Tape.gradient: output_gradient has shape {seed.shape} but the target "
                             f"has shape {target.shape}; they must match")
        return seed

    def _sweep(self, target, source_keys, seed, retain_all):
        records = self._records
        if records and records[-1][3] == target.key:     # the usual case: the last record
            end = len(records) - 1
        else:
            end = self._producer_index(target.key)
        wanted = set(source_keys)
        if end is None:                      # the target is a leaf (or untracked)
            return {target.key: seed} if target.key in wanted else {}
        records = records[: end + 1]
        reach = self._reachable(records, wanted)
        grads = {target.key: seed}
        kept = {}
        retained = self.value_grads if retain_all else None
        if retain_all:
            retained.clear()
        # Most sweeps want leaves only and keep nothing else: the loop then skips the
        # per-record bookkeeping (one flag test instead of two lookups).
        bookkeeping = retain_all or not wanted.issubset(self.leaves)
        every_tracked_value = reach is self._tracked
        pop = grads.pop
        owned = set()        # keys whose gradient so far is a buffer this sweep made
        for op, inputs, values, out_key, ans, params, _, _, grad_inputs in reversed(records):
            g = pop(out_key, None)
            if g is None:
                continue
            if bookkeeping:
                if out_key in wanted:
                    kept[out_key] = g
                if retained is not None:
                    retained[out_key] = g
            if op.accumulate is not None:    # a slice or rows of its one input
                k = inputs[0]
                if every_tracked_value or k in reach:
                    buf = scatter_buffer(grads.get(k), k in owned, values[0].shape, g)
                    op.accumulate(buf, g, *values, **params)
                    grads[k] = buf
                    owned.add(k)
                continue
            vjps, shaped = op.vjps, op.shaped
            for i in grad_inputs:
                k = inputs[i]
                if not every_tracked_value and k not in reach:
                    continue
                if params is not None or vjps is None:
                    gi = op.vjp(i, g, ans, values, params)
                elif vjps[i] is passes_gradient:     # slope 1: g as it is, without a call
                    gi = g
                elif len(values) == 2:               # arguments passed one by one: cheaper
                    gi = vjps[i](g, ans, values[0], values[1])    # than unpacking *values
                elif len(values) == 1:
                    gi = vjps[0](g, ans, values[0])
                else:
                    gi = vjps[i](g, ans, *values)
                if not shaped and gi.shape != values[i].shape:
                    gi = unbroadcast(gi, values[i].shape)
                prev = grads.get(k)
                grads[k] = gi if prev is None else prev + gi   # a new array: never in place
                # (an owned buffer may become `prev + gi`: a new array, so still owned)
        # What is left in `grads` are the leaves' gradients.
        for k, g in grads.items():
            if retained is not None:
                retained[k] = g
            if k in wanted:
                kept[k] = g
        return kept

    def _reachable(self, records, wanted):
        """The keys that depend on a source: only they get gradients."""
        if wanted.issuperset(self.leaves):
            return self._tracked             # every tracked value hangs off some source
        reach = set(wanted)
        for rec in records:
            for k in rec[1]:
                if k in reach:
                    reach.add(rec[3])
                    break
        return reach


def _flatten_sources(sources):
    if isinstance(sources, Tensor):
        return [sources], lambda out: out[0]
    if isinstance(sources, dict):
        keys = list(sources)
        _check_sources(sources.values())
        return [sources[k] for k in keys], lambda out: dict(zip(keys, out))
    if isinstance(sources, (list, tuple)):
        _check_sources(sources)
        return list(sources), list
    raise TypeError(f"Tape.gradient: sources must be a Tensor, a list/tuple or a dict of "
                    f"Tensors, got {type(sources).__name__}")


def _check_sources(sources):
    for s in sources:
        if not isinstance(s, Tensor):
            raise TypeError(f"Tape.gradient: every source must be a tinytape.Tensor, got "
                            f"{type(s).__name__}; wrap it (tinytape.Tensor(x)) and watch it")
