"""One training step (forward + backward) of the thesis's seq-to-one LSTM and GRU.

    python bench/cells_step.py [--repeats 30] [--dtypes float64,float32] [--profile]

The thesis's setup: n_x = 1, n_h = 78, T = 12, batch m = 64, a Dense head, MSE loss.
Methods, all measured in this one run, one thread each (BLAS, PyTorch and TensorFlow
pinned to 1 thread before they start):

    hand BPTT        cells.<kind>.loss_and_grads(method="bptt")
    tape             cells.<kind>.loss_and_grads(method="tape"): recorded every call
    tape replayed    cells.record.ReplayedLossAndGrads(stacked_gates=False): the same
                     per-gate graph recorded once, then its Wengert list replayed
    tape replay stacked  (LSTM) the same with the gates stacked (lstm.step_stacked: one
                     matmul per step, as the hand forward and Keras run it), replayed:
                     what cells.train.fit does with method="tape"
    TF eager         keras model + tf.GradientTape, eager
    tf.function      the same step compiled with tf.function
    torch layer      torch.nn.LSTM / torch.nn.GRU + Linear, autograd
    torch loop       the cell written step by step with torch ops, autograd

Timings interleave the methods round by round, in a shuffled order (the machine is
shared), and report the median µs per step and its ratio to hand BPTT, the median CPU
time of the process (steadier than wall time when other processes compete for the
cores), and the paired ratio to the torch loop: each round's CPU time ÷ the torch
loop's in the same round, its median over the rounds and that median's 95 % confidence
interval (a drift in the machine's speed cancels in each pair). The verdicts read
them: "meets" when the whole interval is under the target, "MISSES" when it is all
over, "borderline" when it straddles the target. Issue 3's targets, float64: tape
≤ 0.9 × torch loop, hand BPTT ≤ 0.75 × torch loop. The GRU is the lab's (reset before
the matmul, Keras reset_after=False); torch.nn.GRU computes the reset_after=True
variant, same cost class. `--profile` adds cProfile's top functions for hand BPTT and
tape.
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
import math  # noqa: E402
import platform  # noqa: E402
import pstats  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import tinytape  # noqa: E402

N_X, N_H, N_Y, T, M = 1, 78, 1, 12, 64
KINDS = ("lstm", "gru")
STACKED = "tape replay stacked"


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


def ours_replayed(kind: str, dtype, stacked_gates=False):
    """The tape recorded on the first call, replayed on every later one."""
    from cells.record import ReplayedLossAndGrads

    cell, params, X, Y = problem(kind, dtype)
    replayed = ReplayedLossAndGrads(cell, head="seq2one", output="identity", stacked_gates=stacked_gates)
    replayed(params, X, Y)                       # the recording; timed calls replay

    def step():
        return replayed(params, X, Y)
    return step


def print_replay_check(kind, steps) -> None:
    """The replay must give what recording gives, bit for bit; the stacked graph what
    hand BPTT gives, to rounding."""
    (loss_a, a), (loss_b, b) = steps["tape"](), steps["tape replayed"]()
    same = loss_a == loss_b and all(np.array_equal(a[k], b[k]) for k in a)
    print(f"  check: tape replayed vs tape ({kind}): {'bit-identical' if same else 'DIFFERENT'}")
    if STACKED in steps:
        (_, hand), (_, c) = steps["hand BPTT"](), steps[STACKED]()
        worst = max(np.max(np.abs(c[k] - hand[k])) / max(np.max(np.abs(hand[k])), 1e-300) for k in hand)
        print(f"  check: {STACKED} vs hand BPTT ({kind}): max relative error {worst:.1e}")


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
    """{name: step} for PyTorch autograd on our parameters, or {} without torch.

    torch layer       torch.nn.LSTM / nn.GRU (+ Linear): PyTorch's own fused layer.
    torch loop        the lab's cell step by step, op for op as cells/<kind>.py writes it
                      (one matmul per gate on [h; x]): the same math our tape records.
    torch loop fused  the gates stacked into one matmul per step (LSTM: f, u, c̃, o;
                      GRU: u, r), how one would write it for speed.
    Both loops compute our exact function (check_torch_loops verifies their gradients).
    """
    try:
        import torch
    except ImportError:
        return {}
    torch_dtype = {np.float64: torch.float64, np.float32: torch.float32}[dtype]
    _, params, X, Y = problem(kind, dtype)
    x_cols = torch.from_numpy(X)                  # (n_x, m, T)
    y_cols = torch.from_numpy(Y)                  # (n_y, m)
    gates = ("f", "u", "c", "o") if kind == "lstm" else ("u", "r")
    lab = {name: torch.from_numpy(value.copy()).requires_grad_() for name, value in params.items()}
    fused_W = torch.cat([lab["W" + g] for g in gates]).detach().requires_grad_()   # (k n_h, n_h+n_x)
    fused_b = torch.cat([lab["b" + g] for g in gates]).detach().requires_grad_()   # (k n_h, 1)

    def loss_of(h):
        return ((lab["Wy"] @ h + lab["by"] - y_cols) ** 2).sum() / (2 * M)  # (5-1)

    def loop_lab():
        h = torch.zeros(N_H, M, dtype=torch_dtype)
        c = torch.zeros(N_H, M, dtype=torch_dtype)
        for t in range(T):
            x = x_cols[:, :, t]                                              # (n_x, m)
            concat = torch.cat([h, x])                                       # (n_h+n_x, m)
            if kind == "lstm":
                gf = torch.sigmoid(lab["Wf"] @ concat + lab["bf"])           # (n_h, m)
                gu = torch.sigmoid(lab["Wu"] @ concat + lab["bu"])
                cc = torch.tanh(lab["Wc"] @ concat + lab["bc"])
                go = torch.sigmoid(lab["Wo"] @ concat + lab["bo"])
                c = gf * c + gu * cc
                h = go * torch.tanh(c)
            else:
                gu = torch.sigmoid(lab["Wu"] @ concat + lab["bu"])           # (n_h, m)
                gr = torch.sigmoid(lab["Wr"] @ concat + lab["br"])
                hc = torch.tanh(lab["Wh"] @ torch.cat([gr * h, x]) + lab["bh"])
                h = gu * hc + (1 - gu) * h
        loss = loss_of(h)
        loss.backward()
        return loss

    def loop_fused():
        h = torch.zeros(N_H, M, dtype=torch_dtype)
        c = torch.zeros(N_H, M, dtype=torch_dtype)
        for t in range(T):
            x = x_cols[:, :, t]                                              # (n_x, m)
            z = fused_W @ torch.cat([h, x]) + fused_b                        # (k n_h, m)
            if kind == "lstm":
                zf, zu, zc, zo = z.split(N_H)
                c = torch.sigmoid(zf) * c + torch.sigmoid(zu) * torch.tanh(zc)
                h = torch.sigmoid(zo) * torch.tanh(c)
            else:
                gu, gr = torch.sigmoid(z).split(N_H)
                hc = torch.tanh(lab["Wh"] @ torch.cat([gr * h, x]) + lab["bh"])
                h = gu * hc + (1 - gu) * h
        loss = loss_of(h)
        loss.backward()
        return loss

    layer_class = torch.nn.LSTM if kind == "lstm" else torch.nn.GRU
    layer = layer_class(N_X, N_H).to(torch_dtype)
    head = torch.nn.Linear(N_H, N_Y).to(torch_dtype)
    x_seq = torch.from_numpy(np.ascontiguousarray(np.transpose(X, (2, 1, 0))))  # (T, m, n_x)
    y_rows = torch.from_numpy(Y.T.copy())                                          # (m, n_y)

    def layer_step():
        out, _ = layer(x_seq)                                                # (T, m, n_h)
        loss = ((head(out[-1]) - y_rows) ** 2).sum() / (2 * M)
        loss.backward()
        return loss

    def zero_grads(step, tensors):
        def run():
            for tensor in tensors:
                tensor.grad = None
            return step()
        return run

    steps = {"torch layer": zero_grads(layer_step, list(layer.parameters()) + list(head.parameters())),
             "torch loop": zero_grads(loop_lab, list(lab.values())),
             "torch loop fused": zero_grads(loop_fused, list(lab.values()) + [fused_W, fused_b])}
    steps["_check"] = lambda: _torch_loop_grads(kind, lab, fused_W, fused_b, gates, steps)
    return steps


def _torch_loop_grads(kind, lab, fused_W, fused_b, gates, steps):
    """Gradients of both torch loops in our keys, to check they compute our function."""
    steps["torch loop"]()
    lab_grads = {"d" + name: tensor.grad.numpy().copy() for name, tensor in lab.items()}
    steps["torch loop fused"]()
    fused = {"d" + name: tensor.grad.numpy().copy() for name, tensor in lab.items() if tensor.grad is not None}
    n_h = N_H
    for index, gate in enumerate(gates):
        fused["dW" + gate] = fused_W.grad.numpy()[index * n_h:(index + 1) * n_h].copy()
        fused["db" + gate] = fused_b.grad.numpy()[index * n_h:(index + 1) * n_h].copy()
    return lab_grads, fused


# ---------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------

def measure(steps: dict, repeats: int, per_round: int = 3, seed: int = 0) -> tuple[dict, dict]:
    """({name: [wall s per call, one per round]}, {name: [CPU s ...]}), methods interleaved.

    Every round runs each method `per_round` times, in an order shuffled afresh each
    round (a fixed order would always run the same method right after the same
    neighbour, with that neighbour's data in the caches). Wall time is what a user
    waits; the process's CPU time leaves out the time the process sat preempted, so
    on a shared, busy machine it is the steadier measure of the work each method does
    (every library is pinned to one thread, so on an idle machine the two agree).
    """
    for step in steps.values():   # warm-up (tf.function traces here)
        for _ in range(3):
            step()
    wall = {name: [] for name in steps}
    cpu = {name: [] for name in steps}
    order = list(steps)
    shuffler = random.Random(seed)
    for _ in range(repeats):
        shuffler.shuffle(order)
        for name in order:
            step = steps[name]
            start_wall, start_cpu = time.perf_counter(), time.process_time()
            for _ in range(per_round):
                step()
            cpu[name].append((time.process_time() - start_cpu) / per_round)
            wall[name].append((time.perf_counter() - start_wall) / per_round)
    return wall, cpu


def paired_ratios(cpu: dict, name: str, baseline: str) -> tuple[float, float, float]:
    """(median, low, high): name's CPU time ÷ baseline's, round by round; the median over
    the rounds and its 95 % confidence interval.

    Both were timed in the same round, seconds apart, so a change in the machine's
    speed over the run cancels in each round's ratio (this machine's speed swung by
    2.5× within minutes). The interval is the distribution-free one for a median: the order
    statistics n/2 ∓ 0.98·√n, between which the true median lies with ≥ 95 % chance."""
    ratios = sorted(a / b for a, b in zip(cpu[name], cpu[baseline]))
    n = len(ratios)
    half_width = 0.98 * math.sqrt(n)
    low = max(0, math.floor(n / 2 - half_width) - 1)      # 0-based order statistics
    high = min(n - 1, math.ceil(n / 2 + 1 + half_width) - 1)
    return statistics.median(ratios), ratios[low], ratios[high]


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


def print_table(wall: dict, cpu: dict, dtype_name: str) -> None:
    """Median wall µs and its ratios; median CPU µs; the paired CPU ratio to the torch loop."""
    median_wall = {name: statistics.median(times) for name, times in wall.items()}
    median_cpu = {name: statistics.median(times) for name, times in cpu.items()}
    loop = "torch loop" if "torch loop" in wall else None
    print(f"  {'method':<19} {'median µs':>10} {'÷ hand':>7} {'÷ torch loop':>13} {'CPU µs':>9} "
          f"{'paired CPU ÷ torch loop [95% CI]':>33}")
    for name in wall:
        vs_loop = f"{median_wall[name] / median_wall[loop]:.2f}" if loop else "-"
        paired = "-"
        if loop and name != loop:
            median, low, high = paired_ratios(cpu, name, loop)
            paired = f"{median:.3f} [{low:.3f}–{high:.3f}]"
        print(f"  {name:<19} {median_wall[name] * 1e6:>10.0f} {median_wall[name] / median_wall['hand BPTT']:>7.2f} "
              f"{vs_loop:>13} {median_cpu[name] * 1e6:>9.0f} {paired:>33}")
    if loop and dtype_name == "float64":
        for name, target in (("tape", 0.9), ("tape replayed", 0.9), (STACKED, 0.9), ("hand BPTT", 0.75)):
            if name not in cpu:
                continue
            for loop_name in ("torch loop", "torch loop fused"):
                median, low, high = paired_ratios(cpu, name, loop_name)
                verdict = "meets" if high <= target else ("MISSES" if low > target else "borderline")
                print(f"  target {name} ≤ {target} × {loop_name}: paired CPU ratio {median:.3f} "
                      f"[95% CI {low:.3f}–{high:.3f}], ratio of wall medians "
                      f"{median_wall[name] / median_wall[loop_name]:.3f} ({verdict})")


def print_loop_check(kind, dtype, hand_step, check_torch) -> None:
    """Both torch loops must compute our function: compare their gradients with ours."""
    _, hand = hand_step()
    for name, grads in zip(("torch loop", "torch loop fused"), check_torch()):
        worst = max(np.max(np.abs(grads[k] - hand[k])) / max(np.max(np.abs(hand[k])), 1e-300) for k in hand)
        print(f"  check: {name} gradients vs hand BPTT ({kind}, {np.dtype(dtype).name}): "
              f"max relative error {worst:.1e}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30, help="timing rounds (default 30)")
    parser.add_argument("--dtypes", default="float64,float32")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--profile", action="store_true", help="print cProfile tables for hand BPTT and tape")
    parser.add_argument("--no-tf", action="store_true")
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--keep-freed-memory", action="store_true",
                        help="call tinytape.keep_freed_memory() first, for every contender alike (default: "
                             "glibc's own thresholds, as a plain script gets)")
    args = parser.parse_args(argv)
    if args.keep_freed_memory:
        print(f"glibc keeps freed memory for every contender: {tinytape.keep_freed_memory()}")

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
          f"tensorflow {tf_version}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    for dtype_name in args.dtypes.split(","):
        dtype = np.dtype(dtype_name).type
        for kind in args.kinds.split(","):
            print(f"\n{kind} {dtype_name}")
            steps = {"hand BPTT": ours(kind, dtype, "bptt"), "tape": ours(kind, dtype, "tape"),
                     "tape replayed": ours_replayed(kind, dtype)}
            if kind == "lstm":
                steps[STACKED] = ours_replayed(kind, dtype, stacked_gates=True)
            print_replay_check(kind, steps)
            tf_pair = None if args.no_tf else tensorflow_steps(kind, dtype)
            if tf_pair:
                steps["TF eager"], steps["tf.function"] = tf_pair
            torch_extra = {} if args.no_torch else torch_steps(kind, dtype)
            check_torch = torch_extra.pop("_check", None)
            steps.update(torch_extra)
            if check_torch is not None:
                print_loop_check(kind, dtype, steps["hand BPTT"], check_torch)
            print_table(*measure(steps, args.repeats), dtype_name)
            if args.profile and dtype_name == "float64":
                print(profile(steps["hand BPTT"], f"{kind} hand BPTT"))
                print(profile(steps["tape"], f"{kind} tape"))
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end (a busy machine inflates every µs; "
          "ratios within a block were measured interleaved)")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    sys.exit(main())
