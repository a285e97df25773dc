"""Run a learner's own NumPy forward on Tensors, even when it preallocates with np.zeros.

Course-style code builds arrays like this:

    concat = np.zeros((n_a + n_x, m))
    concat[:n_a, :] = a_prev          # a_prev is a Tensor when the tape runs the forward

`np.zeros` never sees a Tensor, so it makes a plain ndarray, and assigning a Tensor into
an ndarray would drop the value off the tape. While the check records the learner's
forward, the name `np` (or `numpy`) in the learner's module is swapped for
`TensorNumpy`: the same NumPy, except that the array *makers* (`zeros`, `empty`, `ones`,
`full` and their `_like` forms) return constant Tensors. Item assignment into a Tensor
is a functional update recorded as `setitem`, so the pattern stays on the tape.

Other ways off the tape (`np.array(t)`, `from numpy import zeros`) still raise the core's
conversion TypeError, which the check reports in one line with the learner's file:line.
"""
from __future__ import annotations

import contextlib
import types

import numpy as np

from tinytape import _state
from tinytape.tensor import Tensor

_MAKERS = ("zeros", "empty", "ones", "full", "zeros_like", "empty_like", "ones_like",
           "full_like")


def _value(x):
    return x.value if isinstance(x, Tensor) else x


class TensorNumpy(types.SimpleNamespace):
    """`numpy`, except that the array makers return constant (untracked) Tensors."""

    def __getattr__(self, name):          # only called for names not set below
        return getattr(np, name)

    @staticmethod
    def zeros(shape, dtype=float, order="C"):
        return Tensor(np.zeros(shape, dtype=dtype))

    @staticmethod
    def empty(shape, dtype=float, order="C"):
        # Zeros, not garbage: a learner reading an unfilled entry gets 0 on both runs.
        return Tensor(np.zeros(shape, dtype=dtype))

    @staticmethod
    def ones(shape, dtype=float, order="C"):
        return Tensor(np.ones(shape, dtype=dtype))

    @staticmethod
    def full(shape, fill_value, dtype=None, order="C"):
        return Tensor(np.full(shape, _value(fill_value), dtype=dtype))

    @staticmethod
    def zeros_like(a, dtype=None, shape=None):
        return Tensor(np.zeros_like(_value(a), dtype=dtype, shape=shape))

    @staticmethod
    def empty_like(a, dtype=None, shape=None):
        return Tensor(np.zeros_like(_value(a), dtype=dtype, shape=shape))

    @staticmethod
    def ones_like(a, dtype=None, shape=None):
        return Tensor(np.ones_like(_value(a), dtype=dtype, shape=shape))

    @staticmethod
    def full_like(a, fill_value, dtype=None, shape=None):
        return Tensor(np.full_like(_value(a), _value(fill_value), dtype=dtype, shape=shape))


TENSOR_NUMPY = TensorNumpy()


def _related_globals(functions):
    """The global namespaces of `functions` and of the Python functions they name.

    Iterative (a worklist, no recursion): lstm_forward -> lstm_cell_forward -> sigmoid.
    """
    seen_functions, namespaces = set(), {}
    todo = [f for f in functions if isinstance(f, types.FunctionType)]
    while todo:
        fn = todo.pop()
        if id(fn) in seen_functions:
            continue
        seen_functions.add(id(fn))
        namespaces[id(fn.__globals__)] = fn.__globals__
        code_objects = [fn.__code__]
        while code_objects:                 # nested functions and comprehensions too
            code = code_objects.pop()
            for name in code.co_names:
                target = fn.__globals__.get(name)
                if isinstance(target, types.FunctionType) and id(target) not in seen_functions:
                    todo.append(target)
            code_objects.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
    return list(namespaces.values())


@contextlib.contextmanager
def tensor_numpy(*functions):
    """While active, `np`/`numpy` in the functions' modules is `TENSOR_NUMPY`.

    Also switches on the core's strict conversion, so a Tensor silently turned into an
    ndarray raises (with the fix) instead of losing its gradient. Restores everything.
    """
    patched = []
    for namespace in _related_globals(functions):
        for name, value in list(namespace.items()):
            if value is np:
                patched.append((namespace, name))
                namespace[name] = TENSOR_NUMPY
    strict_before = _state.strict_conversion
    _state.strict_conversion = True
    try:
        yield
    finally:
        _state.strict_conversion = strict_before
        for namespace, name in patched:
            namespace[name] = np


@contextlib.contextmanager
def replaced_globals(function, replacements):
    """Temporarily rebind names in `function`'s module (used to trace a cell's calls)."""
    namespace = function.__globals__
    saved = {name: namespace[name] for name in replacements if name in namespace}
    namespace.update(replacements)
    try:
        yield
    finally:
        for name in replacements:
            if name in saved:
                namespace[name] = saved[name]
            else:
                namespace.pop(name, None)
