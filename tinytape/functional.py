"""autograd/JAX-style functions: grad, value_and_grad and vjp over plain arrays."""
from __future__ import annotations

import numpy as np

from tinytape.tape import Tape
from tinytape.tensor import Tensor


def _wrap(arg):
    """Arrays become Tensors; a dict of arrays becomes a dict of Tensors (named by key)."""
    if isinstance(arg, dict):
        return {k: (v if isinstance(v, Tensor) else Tensor(v, name=str(k))) for k, v in arg.items()}
    return arg if isinstance(arg, Tensor) else Tensor(arg)


def _watch(tape, wrapped):
    for t in (wrapped.values() if isinstance(wrapped, dict) else (wrapped,)):
        tape.watch(t)


def _normalize_argnums(argnums, nargs):
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)
    for i in nums:
        if not -nargs <= i < nargs:
            raise ValueError(f"argnums {argnums!r} out of range for a function called with {nargs} arguments")
    return single, tuple(i % nargs for i in nums)


def value_and_grad(f, argnums=0):
    """f -> g with g(*args) = (f(*args), df/d args[argnums]); f must return a scalar."""
    def wrapped(*args, **kwargs):
        single, nums = _normalize_argnums(argnums, len(args))
        args = list(args)
        with Tape() as tape:
            for i in nums:
                args[i] = _wrap(args[i])
                _watch(tape, args[i])
            out = f(*args, **kwargs)
        if not isinstance(out, Tensor):           # f ignored its argument: zero gradient
            out = Tensor(out)
        grads = _gradients(tape, out, [args[i] for i in nums])
        value = out.value.item() if out.size == 1 else np.array(out.value)
        return value, (grads[0] if single else tuple(grads))
    wrapped.__name__ = f"value_and_grad({getattr(f, '__name__', 'f')})"
    return wrapped


def _gradients(tape, out, wrapped_args, output_gradient=None):
    flat, spans = [], []
    for w in wrapped_args:
        if isinstance(w, dict):
            spans.append(list(w))
            flat.extend(w.values())
        else:
            spans.append(None)
            flat.append(w)
    g = tape.gradient(out, flat, output_gradient=output_gradient)
    result, pos = [], 0
    for span in spans:
        if span is None:
            result.append(g[pos]); pos += 1
        else:
            result.append(dict(zip(span, g[pos:pos + len(span)]))); pos += len(span)
    return result


def grad(f, argnums=0):
    """f -> df/d args[argnums] (an int or a tuple of ints), for a scalar-valued f."""
    vg = value_and_grad(f, argnums)

    def wrapped(*args, **kwargs):
        return vg(*args, **kwargs)[1]
    wrapped.__name__ = f"grad({getattr(f, '__name__', 'f')})"
    return wrapped


def vjp(f, *args):
    """(f(*args), vjp_fn) where vjp_fn(g) gives the gradients for every argument."""
    wrapped = [_wrap(a) for a in args]
    tape = Tape(persistent=True)
    with tape:
        for w in wrapped:
            _watch(tape, w)
        out = f(*wrapped)
    if not isinstance(out, Tensor):
        out = Tensor(out)

    def vjp_fn(g):
        return tuple(_gradients(tape, out, wrapped, output_gradient=g))
    return np.array(out.value), vjp_fn
