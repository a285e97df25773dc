"""`tinytape agree`: print the gradient-agreement matrix; exit 0 when everything agrees."""
from __future__ import annotations

import argparse
import os
import time

from cells import agreement

HELP = "print the gradient-agreement matrix (hand BPTT / tape / finite differences / TensorFlow)"


def _cell_list(text: str) -> tuple[str, ...]:
    kinds = tuple(kind.strip() for kind in text.split(",") if kind.strip())
    unknown = [kind for kind in kinds if kind not in agreement.MODELS]
    if not kinds or unknown:
        raise argparse.ArgumentTypeError(
            f"unknown cell(s) {unknown or [text]}; choose a comma-separated list from {','.join(agreement.MODELS)}"
        )
    return kinds


def _head_list(text: str) -> tuple[str, ...]:
    heads = tuple(head.strip() for head in text.split(",") if head.strip())
    unknown = [head for head in heads if head not in agreement.HEADS]
    if not heads or unknown:
        raise argparse.ArgumentTypeError(
            f"unknown head(s) {unknown or [text]}; choose from {','.join(agreement.HEADS)}"
        )
    return heads


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-tf", action="store_true",
                        help="leave out the TensorFlow column (it is used automatically when installed)")
    parser.add_argument("--cells", type=_cell_list, default=agreement.ALL, metavar="LIST",
                        help=f"comma-separated rows (default, all: {','.join(agreement.ALL)})")
    parser.add_argument("--heads", type=_head_list, default=agreement.HEADS, metavar="LIST",
                        help=f"comma-separated heads (default: {','.join(agreement.HEADS)})")
    parser.add_argument("--seed", type=int, default=0, help="seed for parameters and data (default 0)")
    parser.add_argument("--fast", action="store_true",
                        help="one shape and two output activations per row instead of three × three")


def run(args: argparse.Namespace) -> int:
    include_tf = False if args.no_tf else "auto"
    # TensorFlow's C++ start-up chatter (CPU features, oneDNN) would bury the table.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    start = time.perf_counter()
    rows = agreement.agreement_matrix(kinds=args.cells, heads=args.heads, include_tf=include_tf,
                                      fast=args.fast, seed=args.seed)
    shapes = agreement.FAST_SHAPES if args.fast else agreement.FULL_SHAPES
    outputs = agreement.FAST_OUTPUTS if args.fast else agreement.FULL_OUTPUTS
    print("Gradient agreement: hand-derived BPTT, the tape, finite differences and TensorFlow")
    print(f"cases per row: (n_x, n_h, n_y, m, T) in {', '.join(map(str, shapes))}")
    softmax_note = " (softmax only where n_y ≥ 2)" if "softmax" in outputs else ""
    print(f"  × output in {', '.join(outputs)}{softmax_note}; seed {args.seed}")
    print()
    print(agreement.format_matrix(rows))
    print(f"({time.perf_counter() - start:.1f} s)")
    return 0 if agreement.all_pass(rows) else 1
