"""Keep freed memory in the process: an opt-in for training loops (glibc only).

A recurrent step allocates and frees several megabytes of small arrays. By default
glibc's malloc hands freed memory at the top of its heap back to the operating system
once more than ~2× the largest recent block is free, so the next step asks for it
again and the kernel zero-fills every page on first touch. Measured on the thesis's
LSTM step (n_h 78, m 64, T 12): ~1,600 page faults per hand-BPTT call and ~2,200 per
taped call, 35–40 % of the wall time (bench/README.md, "page faults").

`keep_freed_memory()` raises the two thresholds, so freed memory stays in the
process for the next step. It changes process-wide allocator settings, which is why a
library call never does it on its own: the `tinytape` command, the lesson notebooks
(`lessons/lab.py`) and the benchmarks call it at start-up; call it yourself in a script
or notebook of your own that trains. The cost
is memory the process keeps after a peak (at most `trim_mb`).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import sys

_M_TRIM_THRESHOLD = -1   # glibc <malloc.h>: free heap top kept before giving it back
_M_MMAP_THRESHOLD = -3   # blocks at least this big get their own mmap (and munmap)


def keep_freed_memory(trim_mb: int = 256, mmap_mb: int = 32) -> bool:
    """Tell glibc's malloc to keep up to `trim_mb` MiB of freed heap and to serve
    blocks below `mmap_mb` MiB from the heap. Returns True when applied, False where
    it does not apply (not Linux, or a C library without `mallopt`, e.g. musl)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    # mallopt returns 1 on success, 0 on error.
    return bool(mallopt(_M_TRIM_THRESHOLD, trim_mb << 20)) and bool(mallopt(_M_MMAP_THRESHOLD, mmap_mb << 20))
