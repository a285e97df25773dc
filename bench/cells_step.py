"""One training step (forward + backward) of the thesis's seq-to-one LSTM and GRU.

    python bench/cells_step.py [--repeats 30] [--dtypes float64,float32] [--profile]

The thesis's setup: n_x = 1, n_h = 78, T = 12, batch m = 64, a Dense head, MSE loss.
Methods, all measured in this one run, one thread each (BLAS, PyTorch and TensorFlow
pinned to 1 thread before they start):

    hand BPTT        cells.<kind>.loss_and_grads(method="bptt")
    tape             cells.<kind>.loss_and_grads(method="tape")
    TF eager         keras model + tf.GradientTape, eager
    tf.function      the same step compiled with tf.function
    torch layer      torch.nn.LSTM / torch.nn.GRU + Linear, autograd
    torch loop       the cell written step by step with torch ops, autograd

Timings interleave the methods round by round (the machine is shared), and report the
median µs per step and its ratio to hand BPTT. Issue 3's targets, float64: tape ≤ 0.9 ×
torch loop, hand BPTT ≤ 0.75 × torch loop. The GRU is the lab's (reset before the
matmul, Keras reset_after=False); torch.nn.GRU computes the reset_after=True variant,
same cost class. `--profile` adds cProfile's top functions for hand BPTT and tape.
"""
from __future__ import annotations

import os

# One thread everywhere, set before NumPy / torch / TensorFlow load their runtimes.
for _variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
                  "TF_NUM_INTEROP_THREADS"):
    os.environ[_variable] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse  # noqa: E402
import cProfile  # noqa: E402
import importlib  # noqa: E402
import io  # noqa: E402
import platform  # noqa: E402
import pstats  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

N_X, N_H, N_Y, T, M = 1, 78, 1, 12, 64
KINDS = ("lstm", "gru")


def problem(kind: str, dtype):
    cell = importlib.import_module(f"cells.{kind}")
    params = cell.init_params(N_X, N_H, N_Y, seed=0, dtype=dtype)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N_X, M, T)).astype(dtype)   # (n_x, m, T)
    Y = rng.standard_normal((N_Y, M)).astype(dtype)      # (n_y, m)
    return cell, params, X, Y


# ---------------------------------------------------------------------------------
# Our two methods
# ---------------------------------------------------------------------------------

def ours(kind: str, dtype, method: str):
    cell, params, X, Y = problem(kind, dtype)

    def step():
        return cell.loss_and_grads(params, X, Y, method=method, head="seq2one", output="identity")
    return step


# ---------------------------------------------------------------------------------
# TensorFlow
# ---------------------------------------------------------------------------------

def tensorflow_steps(kind: str, dtype):
    """(eager step, tf.function step) on the equivalent Keras model, or None."""
    try:
        import tensorflow as tf
    except ImportError:
        return None
    from cells import keras as cells_keras

    _, params, X, Y = problem(kind, dtype)
    dtype_name = np.dtype(dtype).name
    model = cells_keras.build_model(kind, params, T, head="seq2one", output="identity", dtype=dtype_name)
    inputs = tf.constant(cells_keras.to_keras_inputs(X))
    targets = tf.constant(cells_keras.to_keras_targets(Y))
    variables = model.trainable_variables

    def eager():
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(model(inputs) - targets)) / (2 * M)  # (5-1)
        return loss, tape.gradient(loss, variables)

    compiled = tf.function(eager)
    return eager, compiled


# ---------------------------------------------------------------------------------
# PyTorch
# ---------------------------------------------------------------------------------

def torch_steps(kind: str, dtype):
    """(layer step, per-step loop step) with torch autograd, or None."""
    try:
        import torch
    except ImportError:
        return None
    torch_dtype = {np.float64: torch.float64, np.float32: torch.float32}[dtype]
    _, params, X, Y = problem(kind, dtype)
    generator = torch.Generator().manual_seed(0)
    x_seq = torch.from_numpy(np.ascontiguousarray(np.transpose(X, (2, 1, 0))))  # (T, m, n_x)
    y = torch.from_numpy(Y.T.copy())                                               # (m, n_y)

    layer_class = torch.nn.LSTM if kind == "lstm" else torch.nn.GRU
    layer = layer_class(N_X, N_H).to(torch_dtype)
    head = torch.nn.Linear(N_H, N_Y).to(torch_dtype)

    def layer_step():
        out, _ = layer(x_seq)                       # (T, m, n_h)
        loss = ((head(out[-1]) - y) ** 2).sum() / (2 * M)
        loss.backward()
        return loss

    # The per-step loop in the lab's layout: the gates from one matmul on [h; x]
    # (LSTM: f, u, c̃, o stacked; GRU: u, r stacked, the candidate on [r*h; x]).
    n_gates = 4 if kind == "lstm" else 2

    def weight(rows, cols):
        return (0.1 * torch.randn(rows, cols, generator=generator, dtype=torch_dtype)).requires_grad_()

    W = weight(n_gates * N_H, N_H + N_X)
    b = torch.zeros(n_gates * N_H, 1, dtype=torch_dtype, requires_grad=True)
    Wh = weight(N_H, N_H + N_X)                   # GRU candidate weights
    bh = torch.zeros(N_H, 1, dtype=torch_dtype, requires_grad=True)
    Wy = weight(N_Y, N_H)
    by = torch.zeros(N_Y, 1, dtype=torch_dtype, requires_grad=True)
    x_cols = torch.from_numpy(X)                  # (n_x, m, T)
    y_cols = torch.from_numpy(Y)                  # (n_y, m)

    def loop_step():
        h = torch.zeros(N_H, M, dtype=torch_dtype)
        c = torch.zeros(N_H, M, dtype=torch_dtype)
        for t in range(T):
            x = x_cols[:, :, t]                                      # (n_x, m)
            gates = W @ torch.cat([h, x]) + b                        # (n_gates n_h, m)
            if kind == "lstm":
                f, u, c_tilde, o = gates.split(N_H)
                c = torch.sigmoid(f) * c + torch.sigmoid(u) * torch.tanh(c_tilde)
                h = torch.sigmoid(o) * torch.tanh(c)                  # (n_h, m)
            else:
                u, r = torch.sigmoid(gates).split(N_H)
                h_tilde = torch.tanh(Wh @ torch.cat([r * h, x]) + bh)
                h = u * h_tilde + (1 - u) * h                         # (n_h, m)
        loss = ((Wy @ h + by - y_cols) ** 2).sum() / (2 * M)
        loss.backward()
        return loss

    return layer_step, loop_step


# ---------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------

def measure(steps: dict, repeats: int, per_round: int = 3) -> dict:
    """Median seconds per call; methods interleaved round by round."""
    for step in steps.values():   # warm-up (tf.function traces here)
        for _ in range(3):
            step()
    samples = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            start = time.perf_counter()
            for _ in range(per_round):
                step()
            samples[name].append((time.perf_counter() - start) / per_round)
    return {name: statistics.median(values) for name, values in samples.items()}


def profile(step, label: str, calls: int = 20, top: int = 18) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        step()
    profiler.disable()
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream).strip_dirs().sort_stats("tottime")
    stats.print_stats(top)
    return f"--- cProfile: {label}, {calls} steps, sorted by own time ---\n{stream.getvalue()}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30, help="timing rounds (default 30)")
    parser.add_argument("--dtypes", default="float64,float32")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--profile", action="store_true", help="print cProfile tables for hand BPTT and tape")
    parser.add_argument("--no-tf", action="store_true")
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args(argv)

    try:
        import torch
        torch.set_num_threads(1)
        torch.set_num_interop_threads(1)
        torch_version = torch.__version__
    except ImportError:
        torch_version = "not installed"
    try:
        import tensorflow as tf
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        tf_version = tf.__version__
    except ImportError:
        tf_version = "not installed"

    print(f"cells_step: n_x={N_X} n_h={N_H} T={T} m={M} n_y={N_Y}, seq2one, MSE; one thread; "
          f"median of {args.repeats} rounds")
    print(f"python {platform.python_version()}, numpy {np.__version__}, torch {torch_version}, "
          f"tensorflow {tf_version}, {platform.processor() or platform.machine()}")
    results = []
    for dtype_name in args.dtypes.split(","):
        dtype = np.dtype(dtype_name).type
        for kind in args.kinds.split(","):
            steps = {"hand BPTT": ours(kind, dtype, "bptt"), "tape": ours(kind, dtype, "tape")}
            tf_pair = None if args.no_tf else tensorflow_steps(kind, dtype)
            if tf_pair:
                steps["TF eager"], steps["tf.function"] = tf_pair
            torch_pair = None if args.no_torch else torch_steps(kind, dtype)
            if torch_pair:
                steps["torch layer"], steps["torch loop"] = torch_pair
            medians = measure(steps, args.repeats)
            base = medians["hand BPTT"]
            print(f"\n{kind} {dtype_name}")
            print(f"  {'method':<12} {'median µs':>10} {'÷ hand':>8} {'÷ torch loop':>13}")
            for name, seconds in medians.items():
                vs_loop = f"{seconds / medians['torch loop']:.2f}" if "torch loop" in medians else "-"
                print(f"  {name:<12} {seconds * 1e6:>10.0f} {seconds / base:>8.2f} {vs_loop:>13}")
            if "torch loop" in medians and dtype_name == "float64":
                loop = medians["torch loop"]
                for name, target in (("tape", 0.9), ("hand BPTT", 0.75)):
                    ratio = medians[name] / loop
                    verdict = "meets" if ratio <= target else "MISSES"
                    print(f"  target: {name} ≤ {target} × torch loop: {ratio:.2f} ({verdict})")
            results.append((kind, dtype_name, medians))
            if args.profile and dtype_name == "float64":
                print(profile(steps["hand BPTT"], f"{kind} hand BPTT"))
                print(profile(steps["tape"], f"{kind} tape"))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    sys.exit(main())
