"""`Tensor` (a value the tape can follow) and `apply` (run an op, record it).

`apply` and its one- and two-input forms `apply1` and `apply2` are the hot path of the
whole engine: every op of every forward goes through them, so they are written
plainly and without indirection.
"""
from __future__ import annotations

import sys

import numpy as np

from tinytape import _state
from tinytape.errors import ShapeError, format_site

_FLOATS = (np.dtype(np.float64), np.dtype(np.float32))
_active_tapes = _state.active_tapes
_scope_stack = _state.scope_stack
_next_key = _state.next_key


def _as_float_array(value, dtype=None):
    """A private, read-only float copy of `value` (ints and bools become float64)."""
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype not in _FLOATS:
            raise TypeError(f"Tensor: dtype {dtype} is not supported; use float64 (default) or float32")
        arr = np.array(value, dtype=dtype)
    else:
        arr = np.array(value)
        if arr.dtype not in _FLOATS:
            if arr.dtype.kind in "biuf":       # bool, int, float16: float64, no surprise
                arr = arr.astype(np.float64)
            else:
                raise TypeError(f"Tensor: cannot hold values of dtype {arr.dtype}; "
                                "give numbers (float64 by default, or float32)")
    arr.flags.writeable = False
    return arr


class Tensor:
    """A NumPy array the tape can follow.

    `value` is a read-only ndarray (float64 by default; float32 is kept). `key`
    identifies this version of the value on tapes; item assignment (`t[i] = v`) is a
    functional update that gives `t` a new key. `requires_grad=True` makes every
    active tape track the tensor (as `tape.watch` does for one tape).
    """

    # Op results set only _value and key (the hot path); `_name` and `requires_grad`
    # fall back to the class defaults below, and the instance __dict__ is created only
    # for the few tensors that set them (parameters, named values).
    __slots__ = ("_value", "key", "__dict__")
    _name = None
    requires_grad = False
    # Higher than ndarray's, so `ndarray + Tensor` defers to the Tensor.
    __array_priority__ = 1000.0

    def __init__(self, value, requires_grad=False, name=None, dtype=None):
        if isinstance(value, Tensor):
            value = value._value
        self._value = _as_float_array(value, dtype)
        self.key = _next_key()
        self._name = name
        self.requires_grad = bool(requires_grad)

    @property
    def value(self):
        """The value, as a read-only view: the tape keeps this array for the backward
        sweep, so editing it in place would silently change gradients."""
        view = self._value.view()
        view.flags.writeable = False
        return view

    @property
    def name(self):
        return self._name

    @name.setter
    def name(self, name):
        # Tapes keep names by key, so a drawing or a printed tape can use them.
        self._name = name
        for tape in _active_tapes:
            if self.key in tape._tracked:
                tape.names[self.key] = name

    # -- properties ---------------------------------------------------------------
    shape = property(lambda self: self._value.shape)
    dtype = property(lambda self: self._value.dtype)
    ndim = property(lambda self: self._value.ndim)
    size = property(lambda self: self._value.size)

    @property
    def T(self):
        return apply1(ops.transpose, self)

    def __len__(self):
        return len(self._value)

    def __iter__(self):
        for i in range(len(self._value)):
            yield self[i]

    def __repr__(self):
        body = np.array2string(self._value, prefix="Tensor(")
        name = f", name={self.name!r}" if self.name else ""
        return f"Tensor({body}{name})"

    def __float__(self):
        return float(self._value)

    def item(self):
        return self._value.item()

    def numpy(self):
        """A writable copy of the value (off the tape)."""
        return np.array(self._value)

    def __array__(self, dtype=None, copy=None):
        if _state.strict_conversion and _is_tracked(self):
            raise TypeError(_conversion_message(self))
        if dtype is not None and dtype != self._value.dtype:
            return self._value.astype(dtype)
        return np.array(self._value) if copy else self.value

    # -- methods ------------------------------------------------------------------
    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return apply1(ops.reshape, self, {"shape": shape})

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return apply1(ops.transpose, self, {"axes": axes or None})

    def sum(self, axis=None, keepdims=False):
        return apply1(ops.sum, self, {"axis": axis, "keepdims": keepdims})

    def mean(self, axis=None, keepdims=False):
        return apply1(ops.mean, self, {"axis": axis, "keepdims": keepdims})

    def max(self, axis=None, keepdims=False):
        return apply1(ops.max, self, {"axis": axis, "keepdims": keepdims})

    def __getitem__(self, index):
        return apply1(ops.getitem, self, {"index": _plain_index(index)})

    def __setitem__(self, index, v):
        # A functional update: the old version stays on the tape under its old key;
        # this tensor now names the new version.
        new = apply2(ops.setitem, self, v, {"index": _plain_index(index)})
        self._value, self.key = new._value, new.key
        if self._name:
            self.name = self._name

    # -- operators (explicit, so they can be found by reading) ---------------------
    def __add__(self, other): return apply2(ops.add, self, other)
    def __radd__(self, other): return apply2(ops.add, other, self)
    def __sub__(self, other): return apply2(ops.sub, self, other)
    def __rsub__(self, other): return apply2(ops.sub, other, self)
    def __mul__(self, other): return apply2(ops.mul, self, other)
    def __rmul__(self, other): return apply2(ops.mul, other, self)
    def __truediv__(self, other): return apply2(ops.div, self, other)
    def __rtruediv__(self, other): return apply2(ops.div, other, self)
    def __pow__(self, other): return apply2(ops.pow, self, other)
    def __rpow__(self, other): return apply2(ops.pow, other, self)
    def __matmul__(self, other): return apply2(ops.matmul, self, other)
    def __rmatmul__(self, other): return apply2(ops.matmul, other, self)
    def __neg__(self): return apply1(ops.neg, self)
    def __pos__(self): return self
    def __abs__(self): return apply1(ops.abs, self)

    # Comparisons are not differentiable: they give plain boolean arrays.
    def __lt__(self, other): return self._value < _value(other)
    def __le__(self, other): return self._value <= _value(other)
    def __gt__(self, other): return self._value > _value(other)
    def __ge__(self, other): return self._value >= _value(other)
    def __eq__(self, other): return self._value == _value(other)
    def __ne__(self, other): return self._value != _value(other)
    __hash__ = object.__hash__

    def __bool__(self):
        return bool(self._value)

    # NumPy protocol (np.tanh(t), np.dot(W, t), ...): see numpy_protocol.py.
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return numpy_protocol.array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return numpy_protocol.array_function(func, args, kwargs)


def _value(x):
    return x._value if isinstance(x, Tensor) else x


def _plain_index(index):
    """Indices are constants: a Tensor used as an index is read as its value."""
    if isinstance(index, tuple):
        return tuple(_index_part(p) for p in index)
    return _index_part(index)


def _index_part(p):
    if isinstance(p, Tensor):
        p = p._value
    if isinstance(p, np.ndarray) and p.dtype.kind == "f":
        if not np.all(p == np.round(p)):
            raise IndexError("tinytape: an index array must hold whole numbers")
        p = p.astype(np.intp)
    return p


def _is_tracked(t):
    for tape in _active_tapes:
        if t.key in tape._tracked:
            return True
    return False


def _conversion_message(t):
    label = f" {t.name!r}" if t.name else ""
    return (f"a tracked value{label} of shape {t.shape} was turned into a plain NumPy array "
            "(np.asarray, np.array, or assignment into an array made with np.zeros/np.empty): "
            "it would leave the tape and its gradient would be lost. Build the result from "
            "the tensor itself (e.g. np.zeros_like(x), np.stack, np.concatenate) instead.")


def user_site():
    """(filename, lineno) of the first frame outside tinytape's own files, for an error
    message raised inside an op (its callers sit two frames or more inside tinytape)."""
    return site_of(_raw_user_site())


def site_of(raw):
    """(filename, lineno) from a raw (code, offset) site."""
    if raw is None:
        return None
    code, offset = raw
    for start, end, line in code.co_lines():
        if start <= offset < end:
            return (code.co_filename, line)
    return (code.co_filename, code.co_firstlineno)


def apply(op, args, params):
    """Run `op` on `args`; wrap the result and record it on every tape that tracks an input.

    With no Tensor among the arguments it returns the plain ndarray and records
    nothing: the same cell code runs on NumPy arrays and on Tensors. One- and two-input
    ops go to `apply1` / `apply2` (the operators and tinytape.<op> call those directly).
    """
    if len(args) == 1:
        return apply1(op, args[0], params)
    if len(args) == 2:
        return apply2(op, args[0], args[1], params)
    values = tuple([a._value if type(a) is Tensor else a for a in args])
    keys = tuple([a.key if type(a) is Tensor else None for a in args])
    out = _forward(op, values, params)
    if not any(k is not None for k in keys):
        return out
    if type(out) is not _ndarray:
        out = np.asarray(out)
    result = _new_tensor(Tensor)
    result._value = out
    result.key = key = _next_key()
    site = _UNSET
    for tape in _active_tapes:
        grad_inputs = tape._inputs_to_track(args, keys)
        if not grad_inputs:
            continue
        record_site = None
        if tape.check_finite:
            tape._check_finite(op, values, out)
        if tape.trace:
            if site is _UNSET:              # found once per op, shared by every tape
                site = _raw_user_site()
            record_site = site
        tape._records.append((op, keys, values, key, out, params, _scope_stack[-1], record_site,
                              grad_inputs))
        tape._tracked.add(key)
    return result


# apply1 and apply2 are the hot path of the whole engine: every op of every forward
# goes through one of them, so they are written out per arity, plainly and without
# loops or calls that the common case does not need (a Python call costs more than the
# lines it runs). A record is a plain tuple in Record's field order minus the index (its
# position): see `Tape.records` for the readable view.

def apply1(op, x, params=None):
    """`apply` for a one-input op: tanh, σ, sum, a slice, a reshape, ..."""
    if type(x) is not Tensor:
        return _forward(op, (x,), params)
    value = x._value
    try:
        out = op.forward(value, **params) if params else op.forward(value)
    except (ValueError, IndexError, TypeError) as exc:
        raise ShapeError(_op_error_message(op, (value,), params, exc)) from None
    if type(out) is not _ndarray:           # a reduction's NumPy scalar
        out = np.asarray(out)
    result = _new_tensor(Tensor)
    result._value = out
    result.key = key = _next_key()
    in_key = x.key
    site = _UNSET
    for tape in _active_tapes:
        # An untracked input may be a requires_grad leaf to adopt: the slow path decides.
        if in_key not in tape._tracked and not tape._inputs_to_track((x,), (in_key,)):
            continue
        record_site = None
        if tape.check_finite:
            tape._check_finite(op, (value,), out)
        if tape.trace:
            if site is _UNSET:              # found once per op, shared by every tape
                site = _raw_user_site()
            record_site = site
        tape._records.append((op, (in_key,), (value,), key, out, params, _scope_stack[-1], record_site,
                              _FIRST))
        tape._tracked.add(key)
    return result


def apply2(op, a, b, params=None):
    """`apply` for a two-input op: the arithmetic operators, matmul, maximum, ..."""
    if type(a) is Tensor:
        va, ka = a._value, a.key
        if type(b) is Tensor:
            vb, kb = b._value, b.key
        else:
            vb, kb = b, None
    elif type(b) is Tensor:
        va, ka, vb, kb = a, None, b._value, b.key
    else:
        return _forward(op, (a, b), params)
    try:
        out = op.forward(va, vb, **params) if params else op.forward(va, vb)
    except (ValueError, IndexError, TypeError) as exc:
        raise ShapeError(_op_error_message(op, (va, vb), params, exc)) from None
    if type(out) is not _ndarray:
        out = np.asarray(out)
    result = _new_tensor(Tensor)
    result._value = out
    result.key = key = _next_key()
    site = _UNSET
    for tape in _active_tapes:
        # Which inputs does this tape differentiate? Each is tracked or a constant;
        # anything else (an untracked Tensor: a requires_grad leaf to adopt, or a named
        # constant to label) takes the slow path.
        tracked = tape._tracked
        if kb is None:
            grad_inputs = _FIRST if ka in tracked else tape._inputs_to_track((a, b), (ka, kb))
        elif ka is None:
            grad_inputs = _SECOND if kb in tracked else tape._inputs_to_track((a, b), (ka, kb))
        elif ka in tracked and kb in tracked:
            grad_inputs = _BOTH
        else:
            grad_inputs = tape._inputs_to_track((a, b), (ka, kb))
        if not grad_inputs:
            continue
        record_site = None
        if tape.check_finite:
            tape._check_finite(op, (va, vb), out)
        if tape.trace:
            if site is _UNSET:              # found once per op, shared by every tape
                site = _raw_user_site()
            record_site = site
        tape._records.append((op, (ka, kb), (va, vb), key, out, params, _scope_stack[-1], record_site,
                              grad_inputs))
        tracked.add(key)
    return result


def _forward(op, values, params):
    """The op's value, with the op, the shapes and the fix named if NumPy refuses."""
    try:
        out = op.forward(*values, **params) if params else op.forward(*values)
    except (ValueError, IndexError, TypeError) as exc:
        raise ShapeError(_op_error_message(op, values, params, exc)) from None
    return out


def _raw_user_site():
    """The user's (code, instruction offset) for a record. Reading `f_lineno` costs about
    a microsecond in CPython 3.11 (it decodes the line table), so records keep the raw
    position and `site_of` decodes it when read. Depth 3 is the user's frame for
    operators and tinytape.<op> calls (user -> __mul__ -> apply2 -> here); deeper callers
    inside tinytape are walked past."""
    frame = _getframe(3)
    while frame is not None and frame.f_code.co_filename in _own_files:
        frame = frame.f_back
    return None if frame is None else (frame.f_code, frame.f_lasti)


def apply_without_gradient(op, x):
    """Run the one-input `op` on x and record it with no gradient path (its record's
    grad_inputs is empty): the output is tracked, so later ops are recorded and a
    replay recomputes it, but no gradient flows back to x (stop_gradient)."""
    if type(x) is not Tensor:
        return op.forward(x)
    out = op.forward(x._value)
    result = _new_tensor(Tensor)
    result._value = out
    result.key = key = _next_key()
    for tape in _active_tapes:
        if x.key not in tape._tracked and not tape._inputs_to_track((x,), (x.key,)):
            continue                        # nothing of x's on this tape: a constant
        site = None
        if tape.trace:
            frame = _getframe(1)
            while frame is not None and frame.f_code.co_filename in _own_files:
                frame = frame.f_back
            site = None if frame is None else (frame.f_code, frame.f_lasti)
        tape._records.append((op, (x.key,), (x._value,), key, out, None, _scope_stack[-1], site, ()))
        tape._tracked.add(key)
    return result


_UNSET = object()
_getframe = sys._getframe
_own_files = _state.OWN_FILES
_FIRST, _SECOND, _BOTH = (0,), (1,), (0, 1)
_new_tensor = object.__new__
_ndarray = np.ndarray


def _shape_text(v):
    if isinstance(v, np.ndarray):
        return f"{v.shape} {v.dtype}" if v.dtype not in _FLOATS else str(v.shape)
    if isinstance(v, (list, tuple)):
        return f"{type(v).__name__} of {len(v)}"
    return f"scalar {v!r}" if isinstance(v, (int, float)) else type(v).__name__


def _op_error_message(op, values, params, exc):
    shapes = ", ".join(_shape_text(v) for v in values)
    extra = ""
    if params:
        shown = {k: v for k, v in params.items() if k not in ("condition",)}
        extra = " with " + ", ".join(f"{k}={v!r}" for k, v in shown.items()) if shown else ""
    site = user_site()
    where = f" (at {format_site(site)})" if site else ""
    hint = f"\n  fix: {op.hint}" if op.hint else ""
    return f"tinytape.{op.name}: inputs of shapes {shapes}{extra}: {exc}{where}{hint}"


from tinytape import ops, numpy_protocol  # noqa: E402  (they import apply/Tensor from here)
