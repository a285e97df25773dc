"""What a drawing is made from: a tape, a tensor on a tape, or a learner-check report.

Everything here reads the tape's public contract (docs/design.md): `records` (index, op,
inputs, input_values, output, value, params, scope), `leaves`, `names`, `value_grads`.
A learner-check report is duck-typed (attributes `tape`, `disagreeing_records`, optional
`target_keys`) so visuals never imports tinytape.check.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from visuals.notation import is_time_indexed


@dataclass
class TapeView:
    """The tape's records plus the lookups every builder needs, computed once."""

    tape: object
    records: list
    leaves: dict
    names: dict
    grads: dict
    producer: dict  # output key -> record
    order: dict  # key -> first-appearance number (stable node ids between runs)
    shapes: dict  # key -> shape
    final_key: int | None  # the last record's output: the loss, by default
    consumers: dict = field(default_factory=dict)  # key -> number of uses
    _norms: dict = field(default_factory=dict)

    def grad_norm(self, key: int) -> float | None:
        """‖∂L/∂value‖ (Frobenius), or None when the tape holds no gradient for that key. Cached."""
        if key in self._norms:
            return self._norms[key]
        grad = self.grads.get(key)
        norm = None
        if grad is not None:
            array = np.asarray(grad, dtype=float)
            with np.errstate(over="ignore", invalid="ignore"):
                norm = math.sqrt(float(np.vdot(array, array)))  # inf/nan kept: they are news
        self._norms[key] = norm
        return norm

    def kind(self, key: int) -> str:
        """`value` (produced by a record), `param` (a watched leaf: a shared parameter) or `input`.

        A watched leaf with a per-step name (`x3`, `h0`, `x<3>`) is an input of its step,
        not a parameter: it is drawn as an input and never listed as shared.
        """
        if key in self.producer:
            return "value"
        if key in self.leaves and not is_time_indexed(self.names.get(key)):
            return "param"
        return "input"


def view_of(tape) -> TapeView:
    records = list(getattr(tape, "records", None) or [])
    leaves = dict(getattr(tape, "leaves", None) or {})
    names = dict(getattr(tape, "names", None) or {})
    grads = dict(getattr(tape, "value_grads", None) or {})
    producer, order, shapes, consumers = {}, {}, {}, {}

    def see(key, value):
        if key not in order:
            order[key] = len(order)
            shapes[key] = tuple(getattr(value, "shape", ()))

    for key, value in leaves.items():
        see(key, value)
    for record in records:
        for key, value in zip(record.inputs, record.input_values):
            if key is not None:
                see(key, value)
                consumers[key] = consumers.get(key, 0) + 1
        see(record.output, record.value)
        producer[record.output] = record
    final_key = records[-1].output if records else None
    return TapeView(tape, records, leaves, names, grads, producer, order, shapes, final_key, consumers)


@dataclass
class Subject:
    """A resolved `draw` argument: the tape and what to highlight."""

    view: TapeView
    highlight_keys: set
    highlight_records: set
    target_keys: set
    from_report: bool = False
    marked_keys: set = field(default_factory=set)  # outlined only (a report's wrong gradients)


def _is_tape(obj) -> bool:
    return hasattr(obj, "records") and hasattr(obj, "leaves")


def resolve(obj, highlight=(), target=None) -> Subject:
    """Turn `draw`'s first argument (tape, tensor with a tape, check report) into a Subject."""
    extra_records: set = set()
    target_keys: set = set()
    report = None
    if _is_tape(obj):
        tape = obj
    elif hasattr(obj, "tape") and hasattr(obj, "disagreeing_records"):
        tape = obj.tape
        report = obj
        extra_records = {int(index) for index in obj.disagreeing_records}
        target_keys = {int(key) for key in (getattr(obj, "target_keys", None) or ())}
    elif hasattr(obj, "key") and _is_tape(getattr(obj, "tape", None)):
        tape = obj.tape
        target_keys = {obj.key}
    elif hasattr(obj, "key") and hasattr(obj, "value"):
        raise TypeError(
            "visuals.draw: a Tensor does not know which tape recorded it; pass the tape instead, "
            "e.g. draw(tape, target=loss) (target= ends highlighted paths at that value)")
    else:
        raise TypeError(
            f"visuals.draw: cannot draw a {type(obj).__name__}; pass a tinytape.Tape (after recording), "
            "a Tensor that knows its tape, or a learner-check report (with .tape and .disagreeing_records)"
        )
    view = view_of(tape)
    if not view.records:
        raise ValueError(
            "visuals.draw: the tape is empty; record operations inside `with Tape() as tape:` first. "
            "(A Tape() frees its records after gradient(): use Tape(persistent=True) to draw after the backward pass.)")
    n_records = len(view.records)
    bad = sorted(i for i in extra_records if not 0 <= i < n_records)
    if bad:
        raise ValueError(f"visuals.draw: disagreeing_records {bad} are not record indices of this tape (0..{n_records - 1})")
    keys, records = _highlight_items(view, highlight)
    if target is not None:
        target_keys = {_key_of(view, target)}
    if not target_keys and view.final_key is not None:
        target_keys = {view.final_key}
    subject = Subject(view, keys, records | extra_records, target_keys)
    if report is not None:
        subject.from_report = True
        subject.marked_keys = {int(k) for k in (getattr(report, "wrong_keys", None) or ()) if int(k) in view.order}
        # The learner's output names (`a`, `y_pred`) label the targets, which the tape left unnamed.
        out_names = list(getattr(report, "output_names", None) or ())
        ordered_targets = [int(k) for k in (getattr(report, "target_keys", None) or ())]
        if len(out_names) == len(ordered_targets):
            for key, name in zip(ordered_targets, out_names):
                view.names.setdefault(key, str(name))
    return subject


def _key_of(view: TapeView, item) -> int:
    if isinstance(item, bool):
        raise TypeError("visuals.draw: highlight items are keys (int), tensors or names (str), not bool")
    if isinstance(item, int):
        if item not in view.order:
            raise ValueError(f"visuals.draw: key {item} is not on this tape")
        return item
    if isinstance(item, str):
        matches = [key for key, name in view.names.items() if name == item and key in view.order]
        if not matches:
            known = ", ".join(sorted({str(n) for n in view.names.values()})[:12])
            raise ValueError(f"visuals.draw: no value named {item!r} on this tape; names include: {known}")
        return max(matches, key=view.order.get)  # the latest version of that name
    key = getattr(item, "key", None)
    if isinstance(key, int) and key in view.order:
        return key
    raise ValueError(f"visuals.draw: cannot highlight {item!r}: it is not a key, name or tensor of this tape")


def _highlight_items(view: TapeView, highlight) -> tuple[set, set]:
    if highlight is None:
        return set(), set()
    if isinstance(highlight, (str, int)) or hasattr(highlight, "key"):
        highlight = (highlight,)
    keys, records = set(), set()
    for item in highlight:
        if hasattr(item, "op") and hasattr(item, "output") and hasattr(item, "index"):
            records.add(item.index)  # a Record
        else:
            keys.add(_key_of(view, item))
    return keys, records


def path_to_targets(view: TapeView, start_keys: set, start_records: set, target_keys: set) -> tuple[set, set]:
    """Values and records on a path from the start nodes to a target (the loss). Two linear sweeps.

    Forward: everything computed from a start. Backward: everything a target depends on.
    The path is their intersection; the starts themselves are always included.
    """
    reach = set(start_keys)
    forward_records = set()
    for record in view.records:
        if record.index in start_records or any(key in reach for key in record.inputs if key is not None):
            reach.add(record.output)
            forward_records.add(record.index)
    needed = set(target_keys)
    backward_records = set()
    for record in reversed(view.records):
        if record.output in needed:
            backward_records.add(record.index)
            needed.update(key for key in record.inputs if key is not None)
    keys = (reach & needed) | set(start_keys)
    keys |= {view.records[i].output for i in start_records}
    return keys, (forward_records & backward_records) | set(start_records)
