"""What every lesson notebook imports first: the run flags and the exercise plumbing.

- ``FAST`` (environment ``TINYTAPE_FAST=1``): every training tiny, for CI.
- ``SOLUTIONS`` (environment ``TINYTAPE_SOLUTIONS=1``): each exercise cell's function is
  replaced by the worked solution in ``lessons/solutions/``, so the graded path runs
  end to end in the tests. Without it the exercise cells are the learner's to fill.
- ``exercise``: the decorator on every exercise cell.
- ``check``: runs the grader for an exercise; an unfinished exercise gets a one-line
  "not implemented yet" instead of a traceback.
- ``mine_or``: later cells use the learner's function when it is done, else the
  library's, with a note, so the notebook keeps running top to bottom.
"""
from __future__ import annotations

import functools
import importlib
import importlib.util
import os
from pathlib import Path

# TensorFlow (imported by the Keras parts of lessons 4-5) prints start-up chatter to stderr
# that would drown the lesson's output; keep its warnings and errors only.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tinytape  # noqa: E402

# A lesson's kernel is a process that trains: keep freed memory in it rather than
# re-faulting it every step (35-40 % of an LSTM step otherwise; see tinytape/memory.py).
tinytape.keep_freed_memory()

FAST = os.environ.get("TINYTAPE_FAST", "") not in ("", "0")
SOLUTIONS = os.environ.get("TINYTAPE_SOLUTIONS", "") not in ("", "0")

# Modules holding the worked solutions, searched in this order by function name.
_SOLUTION_MODULES = (
    "lessons.solutions.tape_basics",
    "lessons.solutions.rnn",
    "lessons.solutions.gradients",
    "lessons.solutions.lstm",
    "lessons.solutions.gru",
    "lessons.solutions.data",
    "lessons.solutions.beyond",
)

NOT_DONE = "not implemented yet"


def fast(full, tiny):
    """`tiny` in fast mode (CI), `full` otherwise: `epochs = lab.fast(200, 3)`."""
    return tiny if FAST else full


def solution(name: str):
    """The worked solution called `name` (raises a clear error if there is none)."""
    for module_name in _SOLUTION_MODULES:
        module = importlib.import_module(module_name)
        if hasattr(module, name):
            return getattr(module, name)
    raise LookupError(f"lessons.lab.solution: no worked solution named {name!r} in {', '.join(_SOLUTION_MODULES)}")


def exercise(fn):
    """Mark a notebook cell's function as an exercise.

    With TINYTAPE_SOLUTIONS=1 the worked solution of the same name is returned
    instead (and says so); otherwise the learner's own function is returned unchanged.
    """
    if SOLUTIONS:
        worked = solution(fn.__name__)
        print(f"[TINYTAPE_SOLUTIONS=1] using the worked solution for {fn.__name__}")
        return worked
    return fn


def _is_not_done(exc: BaseException) -> bool:
    return isinstance(exc, NotImplementedError) or NOT_DONE in str(exc)


def check(name: str, fn, *args, **kwargs):
    """Grade exercise `name` with `lessons.graders.check_<name>` or `lessons.graders_extra.check_<name>`.

    The grader prints its verdict; nothing is returned (so the notebook does not show it
    twice). When `fn` is not written yet (it raised NotImplementedError) and the grader
    let that through, a one-line reminder is printed instead of a traceback.
    """
    checker = _find_checker(name)
    try:
        checker(fn, *args, **kwargs)  # graders print their own verdict (green line or report)
    except Exception as exc:  # the learner's stub raising, seen through any grader
        if _is_not_done(exc):
            print(f"✋ {name}: {NOT_DONE}. Fill in the function above, run its cell, then this one.")
            return None
        raise
    return None


def _find_checker(name: str):
    for module_name in ("lessons.graders", "lessons.graders_extra"):
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            if module_name == "lessons.graders_extra":
                raise
            print(f"(lessons.graders could not be imported: {exc})")
            continue
        checker = getattr(module, f"check_{name}", None)
        if checker is not None:
            return checker
    raise LookupError(f"lessons.lab.check: no grader named check_{name} in lessons.graders or lessons.graders_extra")


def mine_or(fn, reference, label: str | None = None):
    """Use the learner's `fn`; while it still raises NotImplementedError, use `reference`.

    Later cells (training, plots) call this so that an unfinished exercise does not
    stop the rest of the notebook. The fallback is announced once.
    """
    announced = []

    @functools.wraps(fn)
    def call(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except NotImplementedError:
            if not announced:
                ref_name = label or f"{reference.__module__}.{reference.__name__}"
                print(f"({fn.__name__} is {NOT_DONE}: using {ref_name} so the rest of the notebook runs.)")
                announced.append(True)
            return reference(*args, **kwargs)

    return call


def repo_root() -> Path:
    """The repository root (the folder holding `lessons/`)."""
    return Path(__file__).resolve().parents[1]


def inflation_csv() -> Path:
    """Where the case study looks for the bank's series: $TINYTAPE_DATA, else ../shared/data/ beside the repo."""
    override = os.environ.get("TINYTAPE_DATA")
    if override:
        return Path(override)
    return repo_root().parent / "shared" / "data" / "colombia_inflation_monthly.csv"


def have(module_name: str) -> bool:
    """Whether an optional dependency (e.g. "tensorflow") imports; the Keras cells skip, with a message, when not."""
    if importlib.util.find_spec(module_name) is None:
        return False
    try:
        importlib.import_module(module_name)
    except ImportError:
        return False
    return True


def banner() -> str:
    """One line saying how this notebook is running."""
    mode = "FAST (tiny trainings)" if FAST else "full"
    sols = "worked solutions ON" if SOLUTIONS else "your own code"
    return f"tinytape lessons: {mode} mode, {sols}."
