"""Replay: a recorded tape run again, forward and backward, on new input values.

A Wengert list is a straight-line program: the same ops, in the same order, on
whatever numbers come in. `Tape.replayer` turns a recorded tape into that program,

    with tt.Tape() as tape:
        tape.watch(W)
        loss = tt.sum(tt.tanh(W @ x) ** 2)
    step = tape.replayer(loss, W, inputs=[x])
    value, dW = step({W: W_new, x: x_new})     # no recording: the list is re-run

and gives, bit for bit, the value and gradients that recording the same code on the
new values would give (same NumPy calls, same order, same accumulation order; the
tests check it). It skips what recording costs: a Tensor per value, the checks
deciding what to track, scopes and names. A training loop that calls the same cell
on batches of one shape pays for the recording once.

What a replay freezes, like any trace (tf.function, jax.jit):
- Python control flow: the ops recorded are the ops replayed.
- Everything not declared replayable: plain arrays and numbers passed to ops, and
  tensors that are neither `sources` nor `inputs`, keep their recorded values. So do
  values computed outside the tape (`Tensor(x.value * 2)`, `np.asarray(x)`). Inputs
  must be leaves of the tape (watched, or requires_grad=True), so that every op that
  reads them was recorded.
- Shapes and dtypes: a new value must have its input's recorded shape and dtype.
Ops whose parameters hold arrays (`where`'s condition, an integer-array index, `take`'s
indices) are refused when the replay is built: those arrays were computed from the
recorded data, and reusing them with new inputs would give silently wrong gradients.
A replay does not check for NaN or Inf (record with Tape(check_finite=True) for that).
"""
from __future__ import annotations

import numpy as np

from tinytape.errors import TapeError, format_site
from tinytape.tensor import Tensor, site_of


class Replay:
    """A tape's records up to `target`, ready to run again. Built by `Tape.replayer`.

    `replay(new_values)` takes {tensor: array} for any of the replayable tensors
    (`sources` and `inputs`; the others keep their recorded values) and returns
    (target value, gradients), the gradients shaped like `sources` in `gradient`.
    """

    def __init__(self, tape, target, sources, inputs=()):
        from tinytape.tape import _flatten_sources    # tape.py imports this module

        if not tape._records and tape._used:
            raise TapeError("Tape.replayer: this tape's records were freed by its gradient() call; "
                            "record with Tape(persistent=True) to replay it")
        flat, self._rebuild = _flatten_sources(sources)
        if not isinstance(target, Tensor):
            raise TypeError(f"Tape.replayer: the target must be a tinytape.Tensor, got {type(target).__name__}")
        end = tape._producer_index(target.key)
        if end is None:
            raise TapeError("Tape.replayer: the target was not computed on this tape (it is a leaf, a "
                            "constant or another tape's value); there is nothing to replay")
        if target.size != 1:
            raise ValueError(f"Tape.replayer: the target has shape {target.shape}, not a scalar; reduce it "
                             "first (e.g. loss.sum())")
        records = tape._records[: end + 1]
        for s in flat:
            if s.key not in tape.leaves:
                raise TapeError(f"Tape.replayer: source {_label(tape, s)} is not a leaf of this tape "
                                "(watched, or created with requires_grad=True); a replay differentiates "
                                "with respect to leaves only")
        for index, rec in enumerate(records):
            _refuse_array_params(tape, index, rec)

        # Every value gets a slot: the replayable tensors, the frozen constants, the outputs.
        slots = {}
        values = []
        self._inputs = {}                       # key -> (slot, recorded shape, dtype, label)
        for t in list(flat) + list(inputs):
            if not isinstance(t, Tensor):
                raise TypeError(f"Tape.replayer: inputs must be tinytape.Tensors, got {type(t).__name__}")
            if tape._producer_index(t.key) is not None:
                raise TapeError(f"Tape.replayer: input {_label(tape, t)} was computed on this tape; "
                                "only its leaves can be replaced")
            if t.key not in tape.leaves:
                # Ops on an untracked tensor alone are not recorded: their results sit on the
                # tape as constants, which a replay could not recompute from a new value.
                raise TapeError(f"Tape.replayer: input {_label(tape, t)} is not a leaf of this tape, so "
                                "ops that read only it were not recorded and would stay frozen; watch it "
                                "(tape.watch) or create it with requires_grad=True before recording")
            if t.key not in slots:
                slots[t.key] = len(values)
                values.append(t._value)
                self._inputs[t.key] = (slots[t.key], t.shape, t.dtype, _label(tape, t))
        forward = []
        for op, keys, args, out_key, out, params, *_ in records:
            arg_slots = []
            for k, v in zip(keys, args):
                if k is None:                       # a plain array or number: a constant
                    arg_slots.append(len(values))
                    values.append(v)
                    continue
                if k not in slots:                  # a tensor neither source nor input: frozen
                    slots[k] = len(values)
                    values.append(v)
                arg_slots.append(slots[k])
            slots[out_key] = len(values)
            values.append(None)
            forward.append((op.forward, tuple(arg_slots), params or None, slots[out_key]))
        self._template = values
        self._forward = forward
        self._backward = self._plan_backward(records, flat, slots)
        self._target_slot = slots[target.key]
        self._target_dtype = target.dtype
        self._sources = [(slots[s.key], s.shape, s.dtype) for s in flat]

    @staticmethod
    def _plan_backward(records, flat, slots):
        """The sweep's work, decided once: per record (reversed), the VJPs to run."""
        wanted = {s.key for s in flat}
        reach = set(wanted)                      # values that depend on a source
        for rec in records:
            if any(k in reach for k in rec[1]):
                reach.add(rec[3])
        plan = []
        for index in reversed(range(len(records))):
            op, keys, args, out_key, _, params, _, _, grad_inputs = records[index]
            if out_key not in reach:
                continue
            steps = []
            for i in grad_inputs:
                if keys[i] not in reach:
                    continue
                fixed = op.vjps[i] if params is None and op.vjps is not None else None
                shape = None if op.shaped else np.shape(args[i])
                steps.append((i, fixed, slots[keys[i]], shape))
            if steps:
                plan.append((slots[out_key], op, params, index, tuple(steps)))
        return plan

    def __repr__(self):
        return (f"<Replay: {len(self._forward)} ops forward, {len(self._backward)} records swept back; "
                f"replayable: {', '.join(self.replayable())}>")

    def replayable(self):
        """The labels of the tensors whose values `replay` can replace."""
        return [label for _, _, _, label in self._inputs.values()]

    def __call__(self, new_values=None):
        return self.replay(new_values)

    def replay(self, new_values=None):
        """(target value, gradients) with `new_values` ({tensor: array}) put in place
        of the recorded values; the rest as recorded."""
        vals = list(self._template)
        for t, v in (new_values or {}).items():
            slot, value = self._checked(t, v)
            vals[slot] = value
        # One and two inputs are most ops: read their slots without building a list.
        # Each record's arguments are kept for its VJPs in the sweep.
        record_args = []
        for fn, arg_slots, params, out in self._forward:
            n = len(arg_slots)
            if n == 2:
                args = (vals[arg_slots[0]], vals[arg_slots[1]])
            elif n == 1:
                args = (vals[arg_slots[0]],)
            else:
                args = [vals[i] for i in arg_slots]
            record_args.append(args)
            value = fn(*args, **params) if params else fn(*args)
            # a reduction's NumPy scalar becomes a 0-d array, as `apply` makes it when recording
            vals[out] = value if type(value) is np.ndarray else np.asarray(value)
        grads = self._sweep(vals, record_args)
        out = []
        for slot, shape, dtype in self._sources:
            g = grads[slot]
            if g is None:
                g = np.zeros(shape, dtype=dtype)
            elif not g.flags.writeable or g.dtype != dtype:
                g = np.array(g, dtype=dtype)
            out.append(g)
        return np.asarray(vals[self._target_slot]), self._rebuild(out)

    def _sweep(self, vals, record_args):
        # Tape._sweep's loop over slots instead of keys: the same VJPs in the same order.
        from tinytape.tape import passes_gradient, scatter_buffer, unbroadcast

        grads = [None] * len(vals)
        owned = set()        # slots whose gradient so far is a buffer this sweep made
        target = vals[self._target_slot]
        grads[self._target_slot] = np.ones(np.shape(target), dtype=self._target_dtype)
        for out, op, params, index, steps in self._backward:
            g = grads[out]
            if g is None:
                continue
            grads[out] = None
            ans, args = vals[out], record_args[index]
            if op.accumulate is not None:    # a slice: added in place, as Tape._sweep does
                slot = steps[0][2]
                buf = scatter_buffer(grads[slot], slot in owned, args[0].shape, g)
                op.accumulate(buf, g, *args, **params)
                grads[slot] = buf
                owned.add(slot)
                continue
            for i, fixed, slot, shape in steps:
                if fixed is None:
                    gi = op.vjp(i, g, ans, args, params)
                elif fixed is passes_gradient:   # as in Tape._sweep: g itself, no call
                    gi = g
                elif len(args) == 2:
                    gi = fixed(g, ans, args[0], args[1])
                elif len(args) == 1:
                    gi = fixed(g, ans, args[0])
                else:
                    gi = fixed(g, ans, *args)
                if shape is not None and gi.shape != shape:
                    gi = unbroadcast(gi, shape)
                prev = grads[slot]
                grads[slot] = gi if prev is None else prev + gi
        return grads

    def _checked(self, t, v):
        """(slot, value): `v` as the array the replay runs on, after checking it fits."""
        if not isinstance(t, Tensor) or t.key not in self._inputs:
            label = t.name if isinstance(t, Tensor) and t.name else type(t).__name__
            raise KeyError(f"Replay: {label!r} is not replayable here; pass the Tensors given to "
                           f"replayer() as sources or inputs: {', '.join(self.replayable())}")
        slot, shape, dtype, label = self._inputs[t.key]
        v = np.asarray(v)
        if v.shape != shape:
            raise ValueError(f"Replay: input {label} has shape {v.shape} but was recorded with shape "
                             f"{shape}; a replay runs the recorded ops on values of the recorded shapes, "
                             "so record a new tape for this shape")
        if v.dtype.kind == "f" and v.dtype != dtype:
            raise ValueError(f"Replay: input {label} is {v.dtype} but was recorded as {dtype}; convert it "
                             f"(np.asarray(v, dtype=np.{dtype})) or record a new tape")
        if v.dtype.kind not in "biuf":
            raise TypeError(f"Replay: input {label} holds {v.dtype} values; give numbers")
        # C order, as Tensor() stores a recorded value: BLAS then sees the same layout
        return slot, np.asarray(v, dtype=dtype, order="C")


def _label(tape, t):
    return repr(t.name) if t.name else repr(tape.label(t.key))


def _refuse_array_params(tape, index, rec):
    op, params, site = rec[0], rec[5], rec[7]
    for name, value in (params or {}).items():
        parts = value if isinstance(value, tuple) else (value,)
        if any(isinstance(p, (np.ndarray, list)) for p in parts):
            where = f" (recorded at {format_site(site_of(site))})" if site is not None else ""
            raise TapeError(
                f"Tape.replayer: record {index}, tinytape.{op.name}{where}, has the array parameter "
                f"{name!r}, computed from the recorded data; a replay would reuse it with new inputs "
                "and give wrong gradients. Replays take ops whose parameters are axes, shapes, slices "
                "and numbers; record a new tape for each input instead")
