"""Benchmark: the thesis's full 200-epoch training, our cells against Keras and PyTorch.

    /work/venv/bin/python bench/train_thesis.py [--seeds 0 1 2] [--epochs 200] [--json out.json]

The thesis's setup (CONVENTIONS, "Data"): Colombian inflation from 2000-01, /100, scaled
on the training values, windows 12 -> 1, 80/20 split, n_h = 78, batch 64, Adam(1e-3, 0.9,
0.999, 1e-8), 200 epochs. For LSTM and GRU, per seed, from the same initial weights:

    hand    cells.train.fit(method="bptt")     hand-derived BPTT
    tape    cells.train.fit(method="tape")     the tinytape tape
    keras   cells.train.fit_keras              Keras 3 model.fit, float64
    torch   a plain PyTorch loop (nn.LSTM / nn.GRU + Linear, float64, torch.optim.Adam)

Wall time of the whole training and the test MSE (inflation/100 units) are printed,
with each time's ratio to Keras's time *for the same seed, measured in this run*. On a
shared machine the load changes during a run, so a second, steadier figure is printed
too: the median epoch's time times the number of epochs (it also leaves out Keras's
one-off graph tracing in its first epoch, which the wall time includes).
Everything runs on one thread (BLAS, TensorFlow, PyTorch). Targets (issue 4): hand and
tape each <= 0.4x Keras's wall time, test MSE <= 1.5e-4.

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
    """nn.LSTM / nn.GRU + Linear in float64 carrying our initial weights."""
    from cells import keras as cells_keras
    nn = torch.nn
    n_h = params["Wy"].shape[1]
    if kind == "lstm":
        layer = nn.LSTM(1, n_h, batch_first=True, dtype=torch.float64)
        kernel, recurrent, bias = cells_keras.to_keras_weights("lstm", params)   # blocks i, f, c, o
        # torch's order is i, f, g, o: the same as Keras's
        w_ih, w_hh, b_ih = kernel.T, recurrent.T, bias
        b_hh = np.zeros_like(bias)
    else:  # gru_keras parameters: Keras blocks z, r, h; torch blocks r, z, n
        kernel, recurrent, bias = params["kernel"], params["recurrent_kernel"], params["bias"]
        order = [1, 0, 2]
        blocks = lambda a: np.concatenate([a[..., i * n_h:(i + 1) * n_h] for i in order], axis=-1)  # noqa: E731
        layer = nn.GRU(1, n_h, batch_first=True, dtype=torch.float64)
        w_ih, w_hh = blocks(kernel).T, blocks(recurrent).T
        b_ih, b_hh = blocks(bias[0]), blocks(bias[1])
    head = nn.Linear(n_h, 1, dtype=torch.float64)
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


def fit_torch(kind, windows, params, epochs, batch_size, lr, seed):
    import torch
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    model = torch_model(kind, params, torch)
    X = torch.from_numpy(np.ascontiguousarray(np.transpose(windows.X_train, (1, 2, 0))))  # (m, T, 1)
    Y = torch.from_numpy(windows.Y_train.T.copy())                                       # (m, 1)
    opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8)
    generator = torch.Generator().manual_seed(seed)
    m = X.shape[0]
    start = time.perf_counter()
    epoch_seconds = []
    for _ in range(epochs):
        epoch_start = time.perf_counter()
        order = torch.randperm(m, generator=generator)
        for i in range(0, m, batch_size):
            idx = order[i:i + batch_size]
            opt.zero_grad()
            loss = torch.mean((model(X[idx]) - Y[idx]) ** 2)
            loss.backward()
            opt.step()
        epoch_seconds.append(time.perf_counter() - epoch_start)
    seconds = time.perf_counter() - start
    with torch.no_grad():
        X_test = torch.from_numpy(np.ascontiguousarray(np.transpose(windows.X_test, (1, 2, 0))))
        Y_hat = model(X_test).numpy().T                                                  # (1, m_test)
    return seconds, epoch_seconds, Y_hat


# ------------------------------------------------------------------------- the run

def run_one(kind, method, windows, args, seed):
    module = train.cell_module(kind)
    params = module.init_params(1, args.n_h, 1, seed=seed)
    """(total seconds, per-epoch seconds, test MSE) of one 200-epoch training."""
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
    torch_params = params if kind == "lstm" else train.cell_module("gru_keras").init_params(1, args.n_h, 1, seed=seed)
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
          f"seeds {args.seeds}, one thread; python {platform.python_version()}, numpy {np.__version__}")
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


def summary_table(results, kinds, methods, seeds) -> str:
    """Markdown: median seconds, median ratio to Keras (same seed), test MSE per seed and median."""
    def pick(kind, method, seed):
        return next(r for r in results if r["kind"] == kind and r["method"] == method and r["seed"] == seed)

    def ratio(rows, key):
        if "keras" not in methods:
            return float("nan")
        return np.median([r[key] / pick(r["kind"], "keras", r["seed"])[key] for r in rows])

    lines = ["| cell | method | wall time, s (median over seeds) | ratio to Keras | "
             "median epoch x epochs, s | ratio to Keras | test MSE per seed | median test MSE |",
             "|---|---|---|---|---|---|---|---|"]
    for kind in kinds:
        for method in methods:
            rows = [pick(kind, method, s) for s in seeds]
            per_seed = ", ".join(f"{r['test_mse']:.1e}" for r in rows)
            lines.append(f"| {kind} | {method} | {np.median([r['seconds'] for r in rows]):.1f} | "
                         f"{ratio(rows, 'seconds'):.2f}x | {np.median([r['steady_seconds'] for r in rows]):.1f} | "
                         f"{ratio(rows, 'steady_seconds'):.2f}x | {per_seed} | "
                         f"{np.median([r['test_mse'] for r in rows]):.1e} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
