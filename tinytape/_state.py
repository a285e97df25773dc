"""Process-wide recording state: the active tapes, the scope stack, and value keys.

Kept in one tiny module so that `tensor.py`, `tape.py` and `ops.py` can share it
without importing each other in a circle.
"""
from __future__ import annotations

import itertools
import os

# Tapes currently inside their `with` block, outermost first. Every op that involves a
# tensor a tape tracks is recorded on that tape (nested tapes are independent).
active_tapes: list = []

# The scope stack: full labels ("lstm", "lstm/t=3"); the top labels new records.
scope_stack: list[str] = [""]

# Every value version gets a fresh integer key (tensors and functional updates).
next_key = itertools.count().__next__

# Frames from files in this folder are tinytape's own; a record's `site` is the first
# frame outside it (the user's line). Sub-packages (tinytape/check) count as the
# user's side, so a learner-check's frames do not hide the learner's own code.
PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
OWN_FILES = {os.path.join(PACKAGE_DIR, name) for name in os.listdir(PACKAGE_DIR) if name.endswith(".py")}
OWN_FILES |= {os.path.realpath(f) for f in OWN_FILES}

# When True, turning a tracked Tensor into a plain array (np.asarray, assignment into an
# ndarray) raises instead of silently leaving the tape. The learner checks switch it on.
strict_conversion = False
