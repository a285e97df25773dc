"""The floor of any pure-Python tape: a bare-bones tape against tinytape and NumPy.

    python bench/tape_floor.py [--repeats 30]

`tape_overhead.py`'s chain (tanh, × a constant, + a constant, on (8, 8), 999 ops),
recorded by the smallest tape that still does the job: a tensor with a value and a
key, one `apply` per arity, records as tuples in a list, a reverse sweep calling one
VJP per input. No scopes, sites, names, nesting, checks, broadcasting or error
messages. What it costs above NumPy with a hand backward is what CPython charges for
the Python calls any recorded op needs; tinytape cannot be cheaper than this, whatever
it drops. Issue 2's "within 1.7× of NumPy" target is at this floor or below it on
CPython 3.10, 3.11, 3.12 and 3.13 alike (bench/README.md, session 9).
"""
from __future__ import annotations

import argparse
import itertools
import os
import platform

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import tinytape as tt  # noqa: E402
from tape_overhead import N_OPS, best_times, chain_inputs, chain_numpy, chain_tape  # noqa: E402

_next_key = itertools.count().__next__
_new = object.__new__


class BareTensor:
    __slots__ = ("value", "key")


class BareTape:
    def __init__(self):
        self.records, self.tracked = [], set()


BARE_ACTIVE: list = []
TANH = (np.tanh, (lambda g, ans, x: g * (1.0 - ans * ans),))
MUL = (np.multiply, (lambda g, ans, a, b: g * b,))
ADD = (np.add, (lambda g, ans, a, b: g,))


def bare_apply(op, a, *constants):
    """Forward, wrap, record on every active tape that tracks `a` (input 0)."""
    values = (a.value, *constants)
    out = op[0](*values)
    result = _new(BareTensor)
    result.value, result.key = out, _next_key()
    for tape in BARE_ACTIVE:
        if a.key in tape.tracked:
            tape.records.append((op, a.key, values, result.key, out))
            tape.tracked.add(result.key)
    return result


def bare_sweep(tape, target_key, seed):
    grads = {target_key: seed}
    for op, in_key, values, out_key, out in reversed(tape.records):
        g = grads.pop(out_key, None)
        if g is None:
            continue
        gi = op[1][0](g, out, *values)
        prev = grads.get(in_key)
        grads[in_key] = gi if prev is None else prev + gi
    return grads


def chain_bare(x0, C, B):
    x = _new(BareTensor)
    x.value, x.key = x0, _next_key()
    tape = BareTape()
    tape.tracked.add(x.key)
    BARE_ACTIVE.append(tape)
    h = x
    for _ in range(N_OPS // 3):
        h = bare_apply(TANH, h)
        h = bare_apply(MUL, h, C)
        h = bare_apply(ADD, h, B)
    BARE_ACTIVE.pop()
    return bare_sweep(tape, h.key, np.ones_like(x0))[x.key]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args(argv)
    tt.keep_freed_memory()
    x0, C, B = chain_inputs(np.float64)
    # The three must compute the same gradient (the chain's sum seeds ones everywhere).
    reference = chain_numpy(x0, C, B)
    np.testing.assert_allclose(chain_bare(x0, C, B), reference, rtol=1e-12)
    np.testing.assert_allclose(chain_tape(x0, C, B, trace=False), reference, rtol=1e-12)
    contenders = {
        "numpy + hand backward": lambda: chain_numpy(x0, C, B),
        "bare-bones tape (the floor)": lambda: chain_bare(x0, C, B),
        "tinytape (trace off)": lambda: chain_tape(x0, C, B, trace=False),
        "tinytape (trace on)": lambda: chain_tape(x0, C, B, trace=True),
    }
    best = best_times(contenders, args.repeats)
    base = best["numpy + hand backward"]
    print(f"chain of {N_OPS + 1} ops on (8, 8), float64, forward + backward (minimum of {args.repeats}; "
          f"python {platform.python_version()}, numpy {np.__version__}):")
    for name, seconds in best.items():
        print(f"  {name:30s} {seconds / (N_OPS + 1) * 1e6:6.2f} µs/op   × {seconds / base:4.2f} numpy")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
