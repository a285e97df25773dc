"""How fast drawings are built and rendered, against issue 5's budgets.

    python bench/draw_speed.py            # prints a table; --repeat N for more runs

Budgets: DOT text for an LSTM unrolled 50 steps at op level < 50 ms; rendering an LSTM
of 4 steps at op level with gradients < 2 s, 12 steps < 10 s, 50 steps at cell level < 5 s.
Each row also shows a ratio to a baseline measured in the same run, so numbers from
different machines compare: building is compared with one pass that only reads every
record's fields; rendering with the renderer's fixed cost (a two-node graph).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from visuals import draw, render, small_problem  # noqa: E402
from visuals.render import find_renderer  # noqa: E402


def best_of(repeat: int, fn, clock=time.perf_counter) -> float:
    times = []
    for _ in range(repeat):
        start = clock()
        fn()
        times.append(clock() - start)
    return min(times)


def read_every_record(tape) -> None:
    """The baseline for building: touch each field a drawing reads, build nothing."""
    count = 0
    for record in tape.records:
        count += len(record.inputs) + len(record.scope) + record.value.ndim
        _ = (record.op.symbol, tape.names.get(record.output))
    return count


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    rows = []
    tape50, _, _ = small_problem("lstm", 50)
    # CPU time of this process for the build: the machine is shared, and wall time then
    # measures the neighbours. Rendering runs in a child process, so it is timed by the wall clock.
    cpu = time.process_time
    base = best_of(args.repeat * 5, lambda: read_every_record(tape50), cpu)
    build = best_of(args.repeat * 5, lambda: draw(tape50, level="op", grads=True), cpu)
    rows.append(("build DOT, LSTM 50 steps, op level, grads (CPU)", build, 0.050, build / base,
                 "× reading the records"))

    renderer = find_renderer()
    if renderer is None:
        print("no renderer (pygraphviz or dot): only the build row")
    else:
        overhead = best_of(args.repeat, lambda: render("digraph { a -> b }", "svg"))
        cases = [
            ("render SVG, LSTM 4 steps, op level, grads", dict(steps=4, level="op", grads=True), 2.0),
            ("render SVG, LSTM 12 steps, op level, grads", dict(steps=12, level="op", grads=True), 10.0),
            ("render SVG, LSTM 50 steps, cell level, grads", dict(steps=50, level="cell", grads=True), 5.0),
        ]
        for label, options, budget in cases:
            tape, _, _ = small_problem("lstm", options["steps"])
            drawing = draw(tape, level=options["level"], grads=options["grads"])
            seconds = best_of(args.repeat, lambda: drawing.pipe("svg"))
            rows.append((f"{label} ({drawing.n_nodes} nodes)", seconds, budget, seconds / overhead,
                         "× a 2-node render"))
    print(f"renderer: {renderer}")
    print(f"{'case':<66} {'seconds':>9} {'budget':>7} {'ok':>3}  ratio to baseline")
    for label, seconds, budget, ratio, what in rows:
        print(f"{label:<66} {seconds:9.4f} {budget:7.3f} {'yes' if seconds < budget else 'NO':>3}  {ratio:8.1f} {what}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
