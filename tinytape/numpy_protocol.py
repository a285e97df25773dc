"""Plain NumPy code on Tensors: `np.tanh(h)`, `np.dot(W, x)`, `np.concatenate((h, x))`.

`Tensor.__array_ufunc__` and `__array_function__` land here. A supported call is
recorded as the matching op; an unsupported one raises a TypeError naming it, so a
value never drops off the tape silently. This is what lets the tape differentiate a
learner's own NumPy forward function.
"""
from __future__ import annotations

import numpy as np

from tinytape import functions as F
from tinytape import ops
from tinytape.tensor import Tensor, apply

# ufunc -> op (called as ufunc(*inputs)).
_UFUNC_OPS = {
    np.add: ops.add, np.subtract: ops.sub, np.multiply: ops.mul, np.true_divide: ops.div,
    np.negative: ops.neg, np.power: ops.pow, np.float_power: ops.pow, np.exp: ops.exp,
    np.log: ops.log, np.sqrt: ops.sqrt, np.square: ops.square, np.absolute: ops.abs,
    np.sin: ops.sin, np.cos: ops.cos, np.tanh: ops.tanh, np.maximum: ops.maximum,
    np.minimum: ops.minimum, np.matmul: ops.matmul,
}

# Piecewise-constant ufuncs: their gradient is zero, so they give plain arrays.
_VALUE_UFUNCS = {
    np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal,
    np.isfinite, np.isnan, np.isinf, np.sign, np.floor, np.ceil, np.rint, np.logical_and,
    np.logical_or, np.logical_not,
}

# Reductions through ufunc.reduce (np.add.reduce is what np.sum uses on some paths).
_REDUCE_OPS = {np.add: ops.sum, np.maximum: ops.max}


def _value(x):
    return x._value if isinstance(x, Tensor) else x


def array_ufunc(ufunc, method, inputs, kwargs):
    if kwargs.get("out") is not None:
        raise TypeError(f"np.{ufunc.__name__}(..., out=...) writes in place and cannot be recorded "
                        f"on the tape; write the result to a new name: y = np.{ufunc.__name__}(...)")
    if method == "__call__":
        if ufunc is np.positive:
            return inputs[0]
        if ufunc in _VALUE_UFUNCS:
            return ufunc(*(_value(x) for x in inputs), **kwargs)
        op = _UFUNC_OPS.get(ufunc)
        if op is not None and not kwargs:
            return apply(op, inputs, None)
        if ufunc is np.reciprocal and not kwargs:
            return apply(ops.div, (1.0, inputs[0]), None)
    elif method == "reduce" and ufunc in _REDUCE_OPS:
        axis = kwargs.get("axis", 0)
        return apply(_REDUCE_OPS[ufunc], (inputs[0],),
                     {"axis": axis, "keepdims": kwargs.get("keepdims", False)})
    detail = "" if method == "__call__" else f".{method}"
    raise TypeError(f"np.{ufunc.__name__}{detail} is not supported by tinytape on Tensors"
                    f"{' with ' + ', '.join(kwargs) if kwargs else ''}; supported ufuncs: "
                    f"{', '.join(sorted(u.__name__ for u in _UFUNC_OPS))}")


def _sum(a, axis=None, keepdims=False, **unsupported):
    _refuse(unsupported, "sum")
    return F.sum(a, axis=axis, keepdims=keepdims)


def _mean(a, axis=None, keepdims=False, **unsupported):
    _refuse(unsupported, "mean")
    return F.mean(a, axis=axis, keepdims=keepdims)


def _max(a, axis=None, keepdims=False, **unsupported):
    _refuse(unsupported, "max")
    return F.max(a, axis=axis, keepdims=keepdims)


def _refuse(unsupported, name):
    if any(v is not None for v in unsupported.values()):
        raise TypeError(f"np.{name} on a Tensor: the argument(s) {', '.join(unsupported)} "
                        "are not supported by tinytape")


def _concatenate(arrays, axis=0, **unsupported):
    _refuse(unsupported, "concatenate")
    return F.concatenate(arrays, axis=axis)


def _stack(arrays, axis=0, **unsupported):
    _refuse(unsupported, "stack")
    return F.stack(arrays, axis=axis)


def _like(fill):
    def like(a, dtype=None, shape=None, **unsupported):
        # A constant Tensor (untracked): item assignment into it is then recorded
        # as a functional update, so the preallocate-and-fill pattern stays on the tape.
        value = _value(a)
        return Tensor(np.full(value.shape if shape is None else shape, fill,
                              dtype=dtype or value.dtype))
    return like


def _full_like(a, fill_value, dtype=None, shape=None, **unsupported):
    return _like(_value(fill_value))(a, dtype=dtype, shape=shape)


def _outer(a, b, out=None):
    return F.matmul(F.reshape(a, (-1, 1)), F.reshape(b, (1, -1)))


def _expand_dims(a, axis):
    return F.reshape(a, np.expand_dims(_value(a), axis).shape)


def _squeeze(a, axis=None):
    return F.reshape(a, np.squeeze(_value(a), axis).shape)


def _swapaxes(a, axis1, axis2):
    axes = list(range(np.ndim(_value(a))))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return F.transpose(a, axes)


def _value_only(func):
    # Functions whose result carries no gradient (shapes, comparisons, argmax...).
    def call(*args, **kwargs):
        return func(*(_value(a) for a in args), **{k: _value(v) for k, v in kwargs.items()})
    return call


_FUNCTIONS = {
    np.dot: F.dot, np.matmul: F.matmul, np.concatenate: _concatenate, np.stack: _stack,
    np.split: F.split, np.sum: _sum, np.mean: _mean, np.max: _max, np.amax: _max,
    np.transpose: F.transpose, np.reshape: F.reshape, np.where: F.where, np.clip: F.clip,
    np.zeros_like: _like(0.0), np.ones_like: _like(1.0), np.empty_like: _like(0.0),
    np.full_like: _full_like, np.copy: F.copy, np.outer: _outer, np.expand_dims: _expand_dims,
    np.squeeze: _squeeze, np.swapaxes: _swapaxes, np.take: None,
    np.hstack: lambda tup: F.concatenate(tup, axis=1 if np.ndim(_value(tup[0])) > 1 else 0),
    np.vstack: lambda tup: F.concatenate(tup, axis=0),
}
for _f in (np.shape, np.ndim, np.size, np.allclose, np.isclose, np.array_equal, np.argmax,
           np.argmin, np.round, np.around, np.any, np.all, np.count_nonzero, np.isfinite,
           np.isnan, np.sign, np.argsort):
    _FUNCTIONS[_f] = _value_only(_f)


def _take(a, indices, axis=None, **unsupported):
    if axis != 0:
        raise TypeError("np.take on a Tensor is supported along axis=0 only (an embedding lookup)")
    return F.take(a, indices)


_FUNCTIONS[np.take] = _take


def array_function(func, args, kwargs):
    handler = _FUNCTIONS.get(func)
    if handler is None:
        raise TypeError(f"np.{func.__name__} is not supported by tinytape on Tensors: it would "
                        "drop the value off the tape. Supported: "
                        f"{', '.join(sorted({f.__name__ for f in _FUNCTIONS}))}")
    return handler(*args, **kwargs)
