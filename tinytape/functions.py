"""The public functions: `tinytape.tanh(x)`, `tinytape.softmax(x, axis=-1)`, ...

Each is a thin, documented door to an op of `ops.py`. With a Tensor among the
arguments the result is a Tensor (recorded on every tape that tracks an input);
with only arrays it is a plain ndarray, so the same cell code runs both ways.
"""
from __future__ import annotations

import builtins

import numpy as np

from tinytape import ops
from tinytape.tensor import Tensor, apply, apply1, apply2, apply_without_gradient


def _unary(op):
    def function(x):
        return apply1(op, x)
    function.__name__ = op.name
    function.__doc__ = f"Elementwise {op.name}(x); recorded as `{op.name}` ({op.symbol})."
    return function


exp = _unary(ops.exp)
log = _unary(ops.log)
sqrt = _unary(ops.sqrt)
square = _unary(ops.square)
abs = _unary(ops.abs)
sin = _unary(ops.sin)
cos = _unary(ops.cos)
tanh = _unary(ops.tanh)
sigmoid = _unary(ops.sigmoid)
sigmoid.__doc__ = "σ(x) = 1 / (1 + e^−x), stable for large |x| (exp never overflows)."
relu = _unary(ops.relu)
relu.__doc__ = "max(x, 0); its derivative at 0 is taken as 0."
neg = _unary(ops.neg)


def add(a, b): return apply2(ops.add, a, b)
def sub(a, b): return apply2(ops.sub, a, b)
def mul(a, b): return apply2(ops.mul, a, b)
def div(a, b): return apply2(ops.div, a, b)


def pow(x, p):
    """x ** p; p may be a number or a tensor (its gradient is x^p·log x, 0 where x ≤ 0)."""
    return apply2(ops.pow, x, p)


def maximum(a, b):
    """Elementwise max; at ties each side gets half the gradient."""
    return apply2(ops.maximum, a, b)


def minimum(a, b):
    """Elementwise min; at ties each side gets half the gradient."""
    return apply2(ops.minimum, a, b)


def matmul(a, b):
    """a @ b for 1-D, 2-D and batched (..., n, k) @ (..., k, p) operands."""
    return apply2(ops.matmul, a, b)


def dot(a, b):
    """np.dot for 1-D and 2-D operands (recorded as matmul)."""
    if builtins.max(np.ndim(a), np.ndim(b)) > 2:
        raise TypeError("tinytape.dot supports 1-D and 2-D operands (as the lab uses it); for "
                        "stacks of matrices use tinytape.matmul, whose batching rule differs")
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return apply2(ops.mul, a, b)
    return apply2(ops.matmul, a, b)


def transpose(x, axes=None):
    return apply1(ops.transpose, x, {"axes": tuple(axes) if axes is not None else None})


def reshape(x, shape):
    return apply1(ops.reshape, x, {"shape": shape})


def sum(x, axis=None, keepdims=False):
    return apply1(ops.sum, x, {"axis": axis, "keepdims": keepdims})


def mean(x, axis=None, keepdims=False):
    return apply1(ops.mean, x, {"axis": axis, "keepdims": keepdims})


def max(x, axis=None, keepdims=False):
    """Largest entry (along `axis`). Tie rule: the gradient is shared equally by all
    entries equal to the max, so the shares still add up to the incoming gradient."""
    return apply1(ops.max, x, {"axis": axis, "keepdims": keepdims})


def concatenate(xs, axis=0):
    """Join along an existing axis: `concatenate([h, x])` is the lab's [h; x]."""
    return apply(ops.concatenate, tuple(xs), {"axis": axis})


def stack(xs, axis=0):
    return apply(ops.stack, tuple(xs), {"axis": axis})


def split(x, indices_or_sections, axis=0):
    """Like np.split; each piece is recorded as one `getitem` (a slice of x)."""
    n = np.shape(x)[axis]
    if isinstance(indices_or_sections, int):
        if indices_or_sections <= 0 or n % indices_or_sections:
            raise ValueError(f"tinytape.split: {n} entries along axis {axis} cannot be split into "
                             f"{indices_or_sections} equal parts; give the cut indices instead")
        step = n // indices_or_sections
        cuts = list(range(step, n, step))
    else:
        cuts = list(indices_or_sections)
    bounds = [0] + cuts + [n]
    ndim = np.ndim(x)
    pieces = []
    for start, stop in zip(bounds[:-1], bounds[1:]):
        index = [slice(None)] * ndim
        index[axis] = slice(start, stop)
        pieces.append(apply1(ops.getitem, x, {"index": tuple(index)}))
    return pieces


def stop_gradient(x):
    """x, with no gradient flowing back through it (TensorFlow's tf.stop_gradient,
    PyTorch's detach). Unlike Tensor(x.value) it stays on the tape as a record, so a
    replay recomputes it from new inputs; the sweep just never goes back through it."""
    return apply_without_gradient(ops.stop_gradient, x)


def take(x, indices):
    """Rows of x along axis 0 (an embedding lookup); repeated rows add their gradients."""
    return apply1(ops.take, x, {"indices": np.asarray(indices, dtype=np.intp)})


def where(condition, a, b):
    """a where condition holds, else b. The condition is a constant (no gradient)."""
    condition = condition.value if isinstance(condition, Tensor) else np.asarray(condition)
    return apply2(ops.where, a, b, {"condition": condition.astype(bool)})


def clip(x, lo=None, hi=None):
    """Limit x to [lo, hi]; the gradient passes inside and at the bounds, 0 outside.

    The bounds are constants: a Tensor bound is read as its value (no gradient flows to
    it; write tinytape.minimum/maximum for bounds that learn)."""
    lo = lo._value if isinstance(lo, Tensor) else lo
    hi = hi._value if isinstance(hi, Tensor) else hi
    return apply1(ops.clip, x, {"lo": lo, "hi": hi})


def softmax(x, axis=-1):
    """exp(x) / Σ exp(x) along `axis`, computed after subtracting the max (no overflow)."""
    return apply1(ops.softmax, x, {"axis": axis})


def log_softmax(x, axis=-1):
    """log softmax(x), stable: x − max − log Σ exp(x − max)."""
    return apply1(ops.log_softmax, x, {"axis": axis})


def copy(x):
    return apply1(ops.copy, x)
