"""`tinytape draw`: draw a cell unrolled over T steps, for slides and handouts.

    tinytape draw lstm --steps 4 --level cell -o lstm.pdf
    tinytape draw lstm --steps 2 --level op --grads -o lstm_ops.svg
    tinytape draw gru --steps 3 --lang es -o gru.png
"""
from __future__ import annotations

import sys
from pathlib import Path

KINDS = ("rnn", "lstm", "peephole", "gru", "gru_keras")
FORMATS = ("svg", "png", "pdf", "dot")
# Past these sizes Graphviz's layout gets slow (../shared/notes/dependencies.md); we warn, not refuse.
OP_LEVEL_COMFORTABLE_STEPS = 12
MAX_STEPS = 10_000

HELP = "draw an unrolled cell as SVG, PNG, PDF or DOT"


def add_arguments(parser) -> None:
    parser.add_argument("kind", choices=KINDS, help="the cell to draw")
    parser.add_argument("--steps", "-T", type=int, default=4, metavar="T", help="time steps to unroll (default 4)")
    parser.add_argument("--level", choices=("op", "cell"), default="cell",
                        help="cell: one box per time step (default); op: every operation")
    parser.add_argument("--grads", action="store_true",
                        help="colour values by the size of their gradient ‖∂L/∂v‖ (log scale)")
    parser.add_argument("--backward", action="store_true", help="with --grads: add dashed backward edges")
    parser.add_argument("--lang", choices=("en", "es"), default="en", help="caption language (default en)")
    parser.add_argument("--format", choices=FORMATS, default=None,
                        help="output format (default: from -o's suffix, else svg)")
    parser.add_argument("--rankdir", choices=("LR", "TB"), default="LR", help="time runs left-right (LR) or top-bottom")
    parser.add_argument("--hidden", type=int, default=3, metavar="N_H", help="hidden units n_h (default 3)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random weights and data")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds before giving up on the layout (default 60)")
    parser.add_argument("-o", "--output", default=None, metavar="FILE",
                        help="output file (default: <kind>_<level>_T<steps>.<format>)")


def _fail(message: str) -> int:
    print(f"tinytape draw: error: {message}", file=sys.stderr)
    return 2


def resolve_output(output: str | None, fmt: str | None, kind: str, level: str, steps: int) -> tuple[Path, str]:
    """(path, format). The format comes from --format, else -o's suffix, else svg; a clash is an error."""
    if output is None:
        fmt = fmt or "svg"
        return Path(f"{kind}_{level}_T{steps}.{fmt}"), fmt
    path = Path(output)
    suffix = path.suffix.lower().lstrip(".")
    if suffix == "gv":
        suffix = "dot"
    if fmt is None:
        if suffix not in FORMATS:
            raise ValueError(f"cannot tell the format from {output!r}; name the file .svg, .png, .pdf or .dot, "
                             "or pass --format")
        return path, suffix
    if suffix in FORMATS and suffix != fmt:
        raise ValueError(f"--format {fmt} contradicts the file name {output!r}; drop --format or rename the file")
    if suffix not in FORMATS:
        path = path.with_name(path.name + "." + fmt)
    return path, fmt


def run(args) -> int:
    if not 1 <= args.steps <= MAX_STEPS:
        return _fail(f"--steps must be between 1 and {MAX_STEPS}, got {args.steps}")
    if args.hidden < 1:
        return _fail(f"--hidden must be at least 1, got {args.hidden}")
    if args.timeout <= 0:
        return _fail(f"--timeout must be positive, got {args.timeout}")
    if args.backward and not args.grads:
        return _fail("--backward draws the gradient flowing back, so it needs --grads too")
    try:
        path, fmt = resolve_output(args.output, args.format, args.kind, args.level, args.steps)
    except ValueError as error:
        return _fail(str(error))
    if not path.parent.exists():
        return _fail(f"the folder {str(path.parent)!r} does not exist")

    from visuals import draw_cell
    from visuals.render import RenderError, RendererUnavailable, RenderTimeout

    if args.level == "op" and args.steps > OP_LEVEL_COMFORTABLE_STEPS and fmt != "dot":
        print(f"tinytape draw: note: {args.steps} steps at op level is a big drawing; Graphviz may take long "
              f"(use --level cell, or fewer steps). Giving up after {args.timeout:g} s.", file=sys.stderr)
    drawing = draw_cell(args.kind, steps=args.steps, level=args.level, grads=args.grads, lang=args.lang,
                        n_h=args.hidden, seed=args.seed, rankdir=args.rankdir, backward=args.backward)
    try:
        drawing.save(path, format=fmt, timeout=args.timeout)
    except RendererUnavailable as error:
        dot_path = path.with_suffix(".dot")
        drawing.save(dot_path)
        print(f"tinytape draw: {error}\nWrote the DOT text to {dot_path}", file=sys.stderr)
        return 1
    except RenderTimeout as error:
        dot_path = path.with_suffix(".dot")
        drawing.save(dot_path)
        print(f"tinytape draw: {error}\nWrote the DOT text to {dot_path}", file=sys.stderr)
        return 1
    except RenderError as error:
        print(f"tinytape draw: {error}", file=sys.stderr)
        return 1
    print(f"wrote {path} ({drawing.n_nodes} nodes, {drawing.n_edges} edges)")
    return 0
