"""The `tinytape` command line.

Each subcommand lives in its own module (`lessons/cmd_<name>.py`) exposing
`HELP` (one line), `add_arguments(parser)` and `run(args) -> int`. Modules are
imported only when their subcommand runs, so `tinytape --help` stays fast and a
missing optional dependency of one command does not break the others.
"""
from __future__ import annotations

import argparse
import importlib
import sys

# name -> (module, one-line help). Kept here so `--help` needs no imports.
SUBCOMMANDS = {
    "demo": ("lessons.cmd_demo", "the main job: agreement summary, a small LSTM and GRU trained, figures written"),
    "agree": ("lessons.cmd_agree", "print the gradient-agreement matrix (hand BPTT / tape / finite differences / TensorFlow)"),
    "draw": ("lessons.cmd_draw", "draw an unrolled cell as SVG, PNG, PDF or DOT"),
    "inflation": ("lessons.cmd_inflation", "run the thesis's inflation experiment end to end"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tinytape",
        description="tinytape: a reverse-mode autodiff tape for learning backpropagation through time.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    if not argv or argv[0] in ("-h", "--help"):
        parser.print_help()
        return 0 if argv else 2
    name = argv[0]
    if name not in SUBCOMMANDS:
        parser.print_usage(sys.stderr)
        print(f"tinytape: unknown command {name!r}; choose from {', '.join(SUBCOMMANDS)}", file=sys.stderr)
        return 2
    module_name, help_text = SUBCOMMANDS[name]
    module = importlib.import_module(module_name)
    sub_parser = argparse.ArgumentParser(prog=f"tinytape {name}", description=help_text)
    module.add_arguments(sub_parser)
    args = sub_parser.parse_args(argv[1:])
    # Training steps free and re-allocate megabytes; without this, glibc gives the
    # memory back and re-faults it every step (35-40 % of a step; see tinytape/memory.py).
    from tinytape.memory import keep_freed_memory
    keep_freed_memory()
    return int(module.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
