"""Instructions per recorded op, counted by valgrind: a noise-free view of the tape's cost.

    python bench/instructions.py [--repeats 3]      # needs valgrind (apt install valgrind)

`tape_overhead.py`'s chain (1000 ops on (8, 8), float64, forward + backward) run under
callgrind, one contender per process, counting only the chains themselves (collection
is switched on inside `eval`, after the imports and two warm-up runs). Instruction
counts do not move with this machine's speed swings, so they show what a change to the
core saves to within 1 %; wall time stays the verdict (`tape_overhead.py`), as CPython's
instructions run at a lower rate than NumPy's loops.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
CONTENDERS = {
    "numpy + hand backward": "tape_overhead.chain_numpy(x0, C, B)",
    "bare-bones tape (the floor)": "tape_floor.chain_bare(x0, C, B)",
    "tinytape (trace off)": "tape_overhead.chain_tape(x0, C, B, False)",
    "tinytape (trace on)": "tape_overhead.chain_tape(x0, C, B, True)",
}
# Run inside the child: torch is kept out (its import is slow under valgrind and unused).
CHILD = """
import sys
sys.modules["torch"] = None
sys.path.insert(0, {here!r})
import numpy as np
import tape_floor, tape_overhead
x0, C, B = tape_overhead.chain_inputs(np.float64)
def run():
    for _ in range({repeats}):
        {call}
{call}
{call}
eval("run()")
"""


def count(call, repeats):
    """Instructions executed by `repeats` runs of `call` (callgrind, inside eval only)."""
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "child.py")
        with open(script, "w") as f:
            f.write(CHILD.format(here=HERE, repeats=repeats, call=call))
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", "--collect-atstart=no", "--toggle-collect=builtin_eval",
             f"--callgrind-out-file={os.path.join(tmp, 'out')}", sys.executable, script],
            capture_output=True, text=True, check=True)
    return int(re.search(r"Collected : (\d+)", done.stderr).group(1))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt install valgrind); tape_overhead.py measures wall time")
        return 1
    from tape_overhead import N_OPS
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        counts = dict(zip(CONTENDERS, pool.map(lambda call: count(call, args.repeats), CONTENDERS.values())))
    base = counts["numpy + hand backward"]
    print(f"chain of {N_OPS + 1} ops on (8, 8), float64, forward + backward; instructions per op "
          f"(callgrind, {args.repeats} chains):")
    for name, n in counts.items():
        print(f"  {name:30s} {n / args.repeats / (N_OPS + 1):8,.0f}   × {n / base:4.2f} numpy")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
