"""What recording costs: the tape against plain NumPy and PyTorch eager, in one run.

    python bench/tape_overhead.py [--repeats 30] [--dtype float64|float32|both]

1. A chain of 1000 ops (tanh, multiply by a constant array, add a constant array,
   repeated) on an (8, 8) array, forward and backward: µs per recorded op, the ratio
   to plain NumPy with a hand-written backward, and to PyTorch eager when importable.
2. A tanh RNN unrolled 1,000 steps (n_h 32, batch 1) written with tinytape ops, forward
   and backward, beside the same loop in PyTorch eager, and the peak memory of the
   taped run (tracemalloc: NumPy arrays report their buffers to it).

Each also shows "tinytape replayed": the same tape recorded once and its Wengert list
re-run (`Tape.replayer`), forward and backward, the way cells.train.fit re-runs a
batch. It is context, not a recording cost: issue 2's targets are about recording.

Every figure is the minimum over interleaved repeats, so a noisy neighbour slows all
contenders alike; the ratios are the result, the absolute times are context.
"""
from __future__ import annotations

import argparse
import os
import time
import tracemalloc

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import tinytape as tt  # noqa: E402

N_OPS = 999            # 333 × (tanh, ×C, +B); the final sum makes 1000
RNN_STEPS, N_H = 1000, 32

try:
    import torch
    torch.set_num_threads(1)
except ImportError:    # the comparison is optional; say so in the output
    torch = None


def chain_inputs(dtype):
    rng = np.random.default_rng(0)
    return (rng.standard_normal((8, 8)).astype(dtype), (rng.standard_normal((8, 8)) * 0.5).astype(dtype),
            (rng.standard_normal((8, 8)) * 0.1).astype(dtype))


def chain(h, C, B):
    """The benchmark's 1000 ops, on whatever tape is recording."""
    for _ in range(N_OPS // 3):
        h = tt.tanh(h)
        h = h * C
        h = h + B
    return h.sum()


def chain_tape(x0, C, B, trace):
    x = tt.Tensor(x0)
    with tt.Tape(trace=trace) as tape:
        tape.watch(x)
        loss = chain(x, C, B)
    return tape.gradient(loss, x)


def chain_replay(x0, C, B):
    """The chain recorded once; the returned function replays it on x0."""
    x = tt.Tensor(x0)
    with tt.Tape(persistent=True, trace=False) as tape:
        tape.watch(x)
        loss = chain(x, C, B)
    replay = tape.replayer(loss, x)
    return lambda: replay({x: x0})[1]


def chain_numpy(x0, C, B):
    """The same chain with a hand-written backward: the floor any tape must pay."""
    saved, h = [], x0
    for _ in range(N_OPS // 3):
        t = np.tanh(h)
        saved.append(t)
        h = t * C + B
    g = np.ones_like(x0)
    for t in reversed(saved):
        g = g * C
        g = g * (1 - t * t)
    return g


def chain_torch(x0, C, B):
    x = torch.from_numpy(x0).requires_grad_()
    Ct, Bt = torch.from_numpy(C), torch.from_numpy(B)
    h = x
    for _ in range(N_OPS // 3):
        h = torch.tanh(h)
        h = h * Ct
        h = h + Bt
    h.sum().backward()
    return x.grad.numpy()


def rnn_inputs(dtype):
    rng = np.random.default_rng(1)
    W = (rng.standard_normal((N_H, N_H)) / np.sqrt(N_H)).astype(dtype)
    U = (rng.standard_normal((N_H, 1)) * 0.5).astype(dtype)
    b = np.zeros((N_H, 1), dtype)
    xs = rng.standard_normal((RNN_STEPS, 1, 1)).astype(dtype)
    return W, U, b, xs


def rnn_loss(W, U, b, xs):
    """The tanh RNN over every step, then sum(h²), on whatever tape is recording."""
    h = np.zeros((N_H, 1), W.dtype)
    for t in range(RNN_STEPS):
        h = tt.tanh(W @ h + U @ xs[t] + b)
    return (h * h).sum()


def rnn_tape(W0, U0, b0, xs, trace=False):
    W, U, b = tt.Tensor(W0), tt.Tensor(U0), tt.Tensor(b0)
    with tt.Tape(trace=trace) as tape:
        tape.watch(W, U, b)
        loss = rnn_loss(W, U, b, xs)
    return tape.gradient(loss, [W, U, b])


def rnn_replay(W0, U0, b0, xs):
    """The RNN recorded once; the returned function replays it on the same weights."""
    W, U, b = tt.Tensor(W0), tt.Tensor(U0), tt.Tensor(b0)
    with tt.Tape(persistent=True, trace=False) as tape:
        tape.watch(W, U, b)
        loss = rnn_loss(W, U, b, xs)
    replay = tape.replayer(loss, [W, U, b])
    return lambda: replay({W: W0, U: U0, b: b0})[1]


def rnn_torch(W0, U0, b0, xs):
    W, U, b = (torch.from_numpy(a).requires_grad_() for a in (W0, U0, b0))
    xt = torch.from_numpy(xs)
    h = torch.zeros((N_H, 1), dtype=W.dtype)
    for t in range(RNN_STEPS):
        h = torch.tanh(W @ h + U @ xt[t] + b)
    (h * h).sum().backward()
    return [W.grad.numpy(), U.grad.numpy(), b.grad.numpy()]


def best_times(contenders, repeats):
    """Interleave the contenders, keep each one's fastest run."""
    best = {name: float("inf") for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def peak_memory_mb(fn):
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def run(dtype, repeats):
    print(f"\n== {np.dtype(dtype).name} ==")
    x0, C, B = chain_inputs(dtype)
    reference = chain_numpy(x0, C, B)
    assert np.allclose(chain_tape(x0, C, B, True), reference, rtol=1e-4), "tape and hand disagree"
    assert np.array_equal(chain_replay(x0, C, B)(), chain_tape(x0, C, B, False)), "replay and tape differ"
    contenders = {
        "numpy + hand backward": lambda: chain_numpy(x0, C, B),
        "tinytape (trace on)": lambda: chain_tape(x0, C, B, True),
        "tinytape (trace off)": lambda: chain_tape(x0, C, B, False),
        "tinytape replayed": chain_replay(x0, C, B),
    }
    if torch is not None:
        contenders["pytorch eager"] = lambda: chain_torch(x0, C, B)
    best = best_times(contenders, repeats)
    base = best["numpy + hand backward"]
    print(f"chain of {N_OPS + 1} ops on (8, 8), forward + backward:")
    for name, seconds in best.items():
        line = f"  {name:24s} {seconds * 1e6 / (N_OPS + 1):6.2f} µs/op   ×{seconds / base:5.2f} numpy"
        if torch is not None:
            line += f"   ×{seconds / best['pytorch eager']:5.2f} pytorch"
        print(line)

    W, U, b, xs = rnn_inputs(dtype)
    rnn = {"tinytape (trace off)": lambda: rnn_tape(W, U, b, xs, False),
           "tinytape (trace on)": lambda: rnn_tape(W, U, b, xs, True),
           "tinytape replayed": rnn_replay(W, U, b, xs)}
    if torch is not None:
        rnn["pytorch eager"] = lambda: rnn_torch(W, U, b, xs)
        ours, theirs = rnn_tape(W, U, b, xs), rnn_torch(W, U, b, xs)
        assert all(np.allclose(a, c, rtol=1e-3, atol=1e-5) for a, c in zip(ours, theirs)), "tape vs torch"
    assert all(np.array_equal(a, c) for a, c in zip(rnn_replay(W, U, b, xs)(), rnn_tape(W, U, b, xs))), \
        "replay and tape differ"
    best = best_times(rnn, repeats)
    print(f"tanh RNN unrolled {RNN_STEPS} steps (n_h {N_H}, batch 1), forward + backward:")
    for name, seconds in best.items():
        line = f"  {name:24s} {seconds * 1e3:7.1f} ms"
        if torch is not None:
            line += f"   ×{seconds / best['pytorch eager']:5.2f} pytorch"
        print(line)
    print(f"  peak memory of the taped run (tracemalloc): {peak_memory_mb(lambda: rnn_tape(W, U, b, xs)):.1f} MiB")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--dtype", choices=["float64", "float32", "both"], default="both")
    args = parser.parse_args()
    print(f"numpy {np.__version__}; torch {'not installed' if torch is None else torch.__version__}")
    for dtype in (["float64", "float32"] if args.dtype == "both" else [args.dtype]):
        run(np.dtype(dtype), args.repeats)


if __name__ == "__main__":
    main()
