"""Benchmark: the thesis's full 200-epoch training, our cells against Keras and PyTorch.

    /work/venv/bin/python bench/train_thesis.py [--seeds 0 1 2] [--epochs 200] [--dtype float32]

The thesis's setup (CONVENTIONS, "Data"): Colombian inflation from 2000-01, /100, scaled
on the training values, windows 12 -> 1, 80/20 split, n_h = 78, batch 64, Adam(1e-3, 0.9,
0.999, 1e-8), 200 epochs. For LSTM and GRU, per seed, from the same initial weights:

    hand    cells.train.fit(method="bptt")     hand-derived BPTT
    tape    cells.train.fit(method="tape")     the tinytape tape
    keras   cells.train.fit_keras              Keras 3 model.fit
    torch   a plain PyTorch loop (nn.LSTM / nn.GRU + Linear, torch.optim.Adam)

every one of them in `--dtype`: float64 (the default, the lab's precision) or float32
(Keras's own default precision, which the thesis's Keras models ran in).

Wall time of the whole training and the test MSE (inflation/100 units) are printed,
with each time's ratio to Keras's time *for the same seed, measured in this run*. On a
shared machine the load changes during a run, so a second, steadier figure is printed
too: the median epoch's time times the number of epochs (it also leaves out Keras's
one-off graph tracing in its first epoch, which the wall time includes).
Everything runs on one thread (BLAS, TensorFlow, PyTorch). Targets (issue 4): hand and
tape each <= 0.4x Keras's wall time, test MSE <= 1.5e-4.

Two modes. `--mode paired` (the default) trains the contenders side by side: for each
seed and cell, rounds of `--chunk` epochs (10), each round running the next chunk of
every contender in a shuffled order (cells.train.fit_epochs; Keras's model.fit resumed
with initial_epoch; the PyTorch loop). Each contender's 200 epochs are timed epoch by
epoch (wall and process CPU; Keras's by a callback, so its fit() set-up per chunk is
left out, in its favour), and each round's ratio to Keras pairs times taken seconds
apart: a swing in the machine's speed (2.5x within minutes here) cancels in it. It
prints the 200-epoch totals, their ratio to Keras, and the median of the per-round
ratios with its 95 % confidence interval, which the verdict reads. `--mode whole` runs
each contender's whole training alone, one after the other (wall time of the fit call).

PyTorch's GRU applies the reset gate after the recurrent matmul (Keras's reset_after=True,
our `gru_keras`), so its GRU starts from `gru_keras` weights of the same seed rather than the
lab GRU's: same size and initialisation scheme, a slightly different cell.
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
             "NUMEXPR_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import tinytape  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cells import train  # noqa: E402
from cells.data import default_data_path, load_series, prepare_windows  # noqa: E402


def thesis_windows(path):
    series = load_series(path).since("2000-01").scaled(0.01, "fraction")
    return prepare_windows(series, n_in=12, n_out=1, train_fraction=0.8, scale_fit="train")


def test_mse(windows, Y_hat_scaled) -> float:
    to_units = windows.scaler.inverse_transform
    return float(np.mean((to_units(Y_hat_scaled[0]) - to_units(windows.Y_test[0])) ** 2))


# ------------------------------------------------------------------------- PyTorch

def torch_model(kind, params, torch):
    """nn.LSTM / nn.GRU + Linear in the params' dtype, carrying our initial weights."""
    from cells import keras as cells_keras
    nn = torch.nn
    dtype = {"float64": torch.float64, "float32": torch.float32}[params["Wy"].dtype.name]
    n_h = params["Wy"].shape[1]
    if kind == "lstm":
        layer = nn.LSTM(1, n_h, batch_first=True, dtype=dtype)
        kernel, recurrent, bias = cells_keras.to_keras_weights("lstm", params)   # blocks i, f, c, o
        # torch's order is i, f, g, o: the same as Keras's
        w_ih, w_hh, b_ih = kernel.T, recurrent.T, bias
        b_hh = np.zeros_like(bias)
    else:  # gru_keras parameters: Keras blocks z, r, h; torch blocks r, z, n
        kernel, recurrent, bias = params["kernel"], params["recurrent_kernel"], params["bias"]
        order = [1, 0, 2]
        blocks = lambda a: np.concatenate([a[..., i * n_h:(i + 1) * n_h] for i in order], axis=-1)  # noqa: E731
        layer = nn.GRU(1, n_h, batch_first=True, dtype=dtype)
        w_ih, w_hh = blocks(kernel).T, blocks(recurrent).T
        b_ih, b_hh = blocks(bias[0]), blocks(bias[1])
    head = nn.Linear(n_h, 1, dtype=dtype)
    with torch.no_grad():
        layer.weight_ih_l0.copy_(torch.from_numpy(np.ascontiguousarray(w_ih)))
        layer.weight_hh_l0.copy_(torch.from_numpy(np.ascontiguousarray(w_hh)))
        layer.bias_ih_l0.copy_(torch.from_numpy(np.ascontiguousarray(b_ih)))
        layer.bias_hh_l0.copy_(torch.from_numpy(np.ascontiguousarray(b_hh)))
        head.weight.copy_(torch.from_numpy(params["Wy"].copy()))
        head.bias.copy_(torch.from_numpy(params["by"][:, 0].copy()))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn, self.head = layer, head

        def forward(self, x):                       # x (m, T, 1)
            out, _ = self.rnn(x)
            return self.head(out[:, -1, :])         # (m, 1)

    return Net()


class TorchTraining:
    """The PyTorch contender: our initial weights, torch.optim.Adam, batches by torch.randperm."""

    def __init__(self, kind, windows, params, batch_size, lr, seed):
        import torch
        torch.set_num_threads(1)
        torch.manual_seed(seed)
        self.torch, self.batch_size = torch, batch_size
        self.model, self.dtype = torch_model(kind, params, torch), params["Wy"].dtype
        self.X = torch.from_numpy(self._to_torch(windows.X_train))                                 # (m, T, 1)
        self.Y = torch.from_numpy(windows.Y_train.T.astype(self.dtype))                           # (m, 1)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8)
        self.generator = torch.Generator().manual_seed(seed)

    def epoch(self) -> float:
        """One epoch; its wall seconds."""
        start = time.perf_counter()
        X, Y, m = self.X, self.Y, self.X.shape[0]
        order = self.torch.randperm(m, generator=self.generator)
        for i in range(0, m, self.batch_size):
            idx = order[i:i + self.batch_size]
            self.opt.zero_grad()
            loss = self.torch.mean((self.model(X[idx]) - Y[idx]) ** 2)
            loss.backward()
            self.opt.step()
        return time.perf_counter() - start

    def _to_torch(self, X_lab):
        return np.ascontiguousarray(np.transpose(X_lab, (1, 2, 0)), dtype=self.dtype)

    def predict(self, X_lab):
        with self.torch.no_grad():
            return self.model(self.torch.from_numpy(self._to_torch(X_lab))).numpy().T   # (1, m)


def fit_torch(kind, windows, params, epochs, batch_size, lr, seed):
    run = TorchTraining(kind, windows, params, batch_size, lr, seed)
    start = time.perf_counter()
    epoch_seconds = [run.epoch() for _ in range(epochs)]
    return time.perf_counter() - start, epoch_seconds, run.predict(windows.X_test)


# ------------------------------------------------------------------ side by side

class Contender:
    """One contender's training, advanced `chunk` epochs at a time; times per epoch."""

    def __init__(self, kind, method, windows, args, seed):
        self.kind, self.method, self.windows = kind, method, windows
        params = train.cell_module(kind).init_params(1, args.n_h, 1, seed=seed, dtype=args.dtype)
        self.wall, self.cpu = [], []
        if method in ("bptt", "tape"):
            self.run = train.fit_epochs(kind, windows.X_train, windows.Y_train, args.n_h, method=method,
                                        epochs=args.epochs, batch_size=64, lr=1e-3, seed=seed,
                                        params=params, progress=False)
            self.epochs = iter(self.run)
            self.advance = self._ours
        elif method == "keras":
            self._keras_setup(params, seed)
            self.advance = self._keras
        else:
            torch_params = params if kind == "lstm" else train.cell_module("gru_keras").init_params(
                1, args.n_h, 1, seed=seed, dtype=args.dtype)
            self.torch = TorchTraining(kind, windows, torch_params, 64, 1e-3, seed)
            self.advance = self._torch

    def _ours(self, chunk):
        for _ in range(chunk):
            start_cpu = time.process_time()
            next(self.epochs)
            self.cpu.append(time.process_time() - start_cpu)
            self.wall.append(self.run.history["seconds"][-1])

    def _keras_setup(self, params, seed):
        from cells import keras as cells_keras
        import tensorflow as tf
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        dtype = params["Wy"].dtype
        X, Y = self.windows.X_train.astype(dtype), self.windows.Y_train.astype(dtype)
        self.model, keras = train.keras_model(self.kind, params, X.shape[2], lr=1e-3, seed=seed, dtype=dtype)
        self.inputs = cells_keras.to_keras_inputs(X), cells_keras.to_keras_targets(Y)
        wall, cpu = self.wall, self.cpu

        class EpochTimer(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self.start = time.perf_counter(), time.process_time()

            def on_epoch_end(self, epoch, logs=None):
                wall.append(time.perf_counter() - self.start[0])
                cpu.append(time.process_time() - self.start[1])

        self.timer = EpochTimer()

    def _keras(self, chunk):
        done = len(self.wall)
        self.model.fit(*self.inputs, batch_size=64, epochs=done + chunk, initial_epoch=done, shuffle=True,
                       verbose=0, callbacks=[self.timer])

    def _torch(self, chunk):
        for _ in range(chunk):
            start_cpu = time.process_time()
            self.wall.append(self.torch.epoch())
            self.cpu.append(time.process_time() - start_cpu)

    def test_mse(self):
        if self.method in ("bptt", "tape"):
            return test_mse(self.windows, train.predict(self.kind, self.run.params, self.windows.X_test))
        if self.method == "keras":
            from cells import keras as cells_keras
            trained = cells_keras.from_keras_weights(self.kind, self.model.get_weights())
            return test_mse(self.windows, train.predict(self.kind, trained, self.windows.X_test))
        return test_mse(self.windows, self.torch.predict(self.windows.X_test))


def run_paired(kind, methods, windows, args, seed):
    """{method: Contender} after args.epochs epochs each, trained in interleaved rounds."""
    contenders = {method: Contender(kind, method, windows, args, seed) for method in methods}
    order, shuffler = list(methods), random.Random(seed)
    for _ in range(args.epochs // args.chunk):
        shuffler.shuffle(order)
        for method in order:
            contenders[method].advance(args.chunk)
    return contenders


# ------------------------------------------------------------------------- the run

def run_one(kind, method, windows, args, seed):
    """(total seconds, per-epoch seconds, test MSE) of one 200-epoch training."""
    module = train.cell_module(kind)
    params = module.init_params(1, args.n_h, 1, seed=seed, dtype=args.dtype)
    if method in ("bptt", "tape"):
        start = time.perf_counter()
        trained, history = train.fit(kind, windows.X_train, windows.Y_train, args.n_h, method=method,
                                     epochs=args.epochs, batch_size=64, lr=1e-3, seed=seed,
                                     params=params, progress=False)
        seconds = time.perf_counter() - start
        return seconds, history["seconds"], test_mse(windows, train.predict(kind, trained, windows.X_test))
    if method == "keras":
        import tensorflow as tf
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        start = time.perf_counter()
        trained, history = train.fit_keras(kind, windows.X_train, windows.Y_train, params,
                                           epochs=args.epochs, batch_size=64, lr=1e-3, seed=seed)
        seconds = time.perf_counter() - start
        return seconds, history["seconds"], test_mse(windows, train.predict(kind, trained, windows.X_test))
    torch_params = params if kind == "lstm" else train.cell_module("gru_keras").init_params(
        1, args.n_h, 1, seed=seed, dtype=args.dtype)
    seconds, epoch_seconds, Y_hat = fit_torch(kind, windows, torch_params, args.epochs, 64, 1e-3, seed)
    return seconds, epoch_seconds, test_mse(windows, Y_hat)


def available(method) -> bool:
    name = {"keras": "tensorflow", "torch": "torch"}.get(method)
    if name is None:
        return True
    try:
        __import__(name)
    except ImportError:
        print(f"({method} skipped: {name} is not installed)")
        return False
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(default_data_path()))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--n-h", type=int, default=78)
    parser.add_argument("--kinds", default="lstm,gru")
    parser.add_argument("--methods", default="bptt,tape,keras,torch")
    parser.add_argument("--mode", choices=("paired", "whole"), default="paired",
                        help="paired: contenders interleaved in rounds of --chunk epochs (default); "
                             "whole: each training run alone, one after the other")
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                        help="precision of every contender (float32 is Keras's default)")
    parser.add_argument("--chunk", type=int, default=10, help="epochs per contender per round (paired)")
    parser.add_argument("--json", default=None, help="also write the raw numbers here")
    parser.add_argument("--keep-freed-memory", action="store_true",
                        help="call tinytape.keep_freed_memory() first, for every contender alike (default: "
                             "glibc's own thresholds, as a plain script gets)")
    args = parser.parse_args(argv)
    if args.keep_freed_memory:
        print(f"glibc keeps freed memory for every contender: {tinytape.keep_freed_memory()}")
    if not Path(args.data).exists():
        print(f"bench/train_thesis.py: no data at {args.data}; pass --data PATH")
        return 2
    windows = thesis_windows(args.data)
    methods = [m for m in args.methods.split(",") if available(m)]
    kinds = args.kinds.split(",")
    print(f"train_thesis: {args.epochs} epochs, n_h={args.n_h}, m_train={windows.X_train.shape[1]}, "
          f"seeds {args.seeds}, {args.dtype}, one thread, mode {args.mode}; python {platform.python_version()}, "
          f"numpy {np.__version__}, load average {os.getloadavg()[0]:.1f}")
    if args.mode == "paired":
        return main_paired(windows, kinds, methods, args)
    results = []
    for seed in args.seeds:
        for kind in kinds:
            for method in methods:
                seconds, epoch_seconds, mse = run_one(kind, method, windows, args, seed)
                steady = float(np.median(epoch_seconds)) * args.epochs
                results.append(dict(kind=kind, method=method, seed=seed, seconds=seconds,
                                    steady_seconds=steady, test_mse=mse))
                print(f"  seed {seed} {kind:<4} {method:<5} {seconds:7.2f} s  (median epoch x {args.epochs}: "
                      f"{steady:6.2f} s)   test MSE {mse:.2e}", flush=True)
    print()
    print(summary_table(results, kinds, methods, args.seeds))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


def main_paired(windows, kinds, methods, args) -> int:
    if args.epochs % args.chunk:
        print(f"bench/train_thesis.py: --epochs {args.epochs} is not a multiple of --chunk {args.chunk}")
        return 2
    rows, rounds = [], {}            # rounds[(kind, method)]: [(wall, cpu, keras wall, keras cpu)]
    for seed in args.seeds:
        for kind in kinds:
            contenders = run_paired(kind, methods, windows, args, seed)
            for method, c in contenders.items():
                rows.append(dict(kind=kind, method=method, seed=seed, seconds=sum(c.wall),
                                 cpu_seconds=sum(c.cpu), test_mse=c.test_mse(), epoch_wall=c.wall,
                                 epoch_cpu=c.cpu))
                line = (f"  seed {seed} {kind:<4} {method:<5} {sum(c.wall):7.2f} s wall, {sum(c.cpu):7.2f} s CPU"
                        f"   test MSE {rows[-1]['test_mse']:.2e}")
                if "keras" in contenders and method != "keras":
                    k = contenders["keras"]
                    line += f"   ÷ Keras: wall {sum(c.wall) / sum(k.wall):.3f}, CPU {sum(c.cpu) / sum(k.cpu):.3f}"
                    per_round = [(sum(c.wall[i:i + args.chunk]), sum(c.cpu[i:i + args.chunk]),
                                  sum(k.wall[i:i + args.chunk]), sum(k.cpu[i:i + args.chunk]))
                                 for i in range(0, args.epochs, args.chunk)]
                    rounds.setdefault((kind, method), []).extend(per_round)
                print(line, flush=True)
    print()
    print(paired_table(rows, rounds, kinds, methods, args.seeds))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


def paired_table(rows, rounds, kinds, methods, seeds) -> str:
    """Markdown: per cell and method, the 200-epoch totals and their ratio to Keras (median
    over seeds, and per seed), the median per-round ratio with its 95 % CI, and the verdict
    on issue 4's target (<= 0.4x Keras) read from that interval."""
    from cells_step import paired_ratios

    lines = ["| cell | method | wall s (median over seeds) | ÷ Keras, 200 epochs (per seed) | "
             "per-round wall ÷ Keras, median [95% CI] | per-round CPU ÷ Keras | target ≤ 0.4 | test MSE per seed |",
             "|---|---|---:|---|---|---|---|---|"]
    for kind, method, mine, per_seed in contenders_rows(rows, kinds, methods, seeds):
        wall = np.median([r["seconds"] for r in mine])
        if method == "keras" or (kind, method) not in rounds:
            lines.append(f"| {kind} | {method} | {wall:.1f} | | | | | {per_seed} |")
            continue
        ratios = [r["seconds"] / pick(rows, kind, "keras", r["seed"])["seconds"] for r in mine]
        paired = rounds[(kind, method)]
        table = {"w": [p[0] for p in paired], "c": [p[1] for p in paired],
                 "kw": [p[2] for p in paired], "kc": [p[3] for p in paired]}
        w_med, w_lo, w_hi = paired_ratios(table, "w", "kw")
        c_med, c_lo, c_hi = paired_ratios(table, "c", "kc")
        verdict = "meets" if w_hi <= 0.4 else ("MISSES" if w_lo > 0.4 else "borderline")
        lines.append(f"| {kind} | {method} | {wall:.1f} | {np.median(ratios):.3f} "
                     f"({', '.join(f'{x:.3f}' for x in ratios)}) | {w_med:.3f} [{w_lo:.3f}–{w_hi:.3f}] | "
                     f"{c_med:.3f} [{c_lo:.3f}–{c_hi:.3f}] | {verdict} | {per_seed} |")
    return "\n".join(lines)


def pick(rows, kind, method, seed):
    """The row of one contender's run."""
    return next(r for r in rows if r["kind"] == kind and r["method"] == method and r["seed"] == seed)


def contenders_rows(rows, kinds, methods, seeds):
    """(kind, method, its rows over the seeds, their test MSE as text), table line by line."""
    for kind in kinds:
        for method in methods:
            mine = [pick(rows, kind, method, s) for s in seeds]
            yield kind, method, mine, ", ".join(f"{r['test_mse']:.1e}" for r in mine)


def summary_table(results, kinds, methods, seeds) -> str:
    """Markdown: median seconds, median ratio to Keras (same seed), test MSE per seed and median."""
    def ratio(rows, key):
        if "keras" not in methods:
            return float("nan")
        return np.median([r[key] / pick(results, r["kind"], "keras", r["seed"])[key] for r in rows])

    lines = ["| cell | method | wall time, s (median over seeds) | ratio to Keras | "
             "median epoch x epochs, s | ratio to Keras | test MSE per seed | median test MSE |",
             "|---|---|---|---|---|---|---|---|"]
    for kind, method, rows, per_seed in contenders_rows(results, kinds, methods, seeds):
        lines.append(f"| {kind} | {method} | {np.median([r['seconds'] for r in rows]):.1f} | "
                     f"{ratio(rows, 'seconds'):.2f}x | {np.median([r['steady_seconds'] for r in rows]):.1f} | "
                     f"{ratio(rows, 'steady_seconds'):.2f}x | {per_seed} | "
                     f"{np.median([r['test_mse'] for r in rows]):.1e} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
