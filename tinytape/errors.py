"""Errors that speak the learner's language: the op, the shapes, the fix, their line."""
from __future__ import annotations

import os


class ShapeError(ValueError):
    """An op got inputs it cannot combine; the message names the op, shapes and line."""


class TapeError(RuntimeError):
    """The tape was used in a way it cannot answer (second gradient call, bad target...)."""


def format_site(site):
    """`(filename, lineno)` -> 'file.py:12' (relative to the working directory if shorter)."""
    if not site:
        return "?"
    filename, lineno = site
    try:
        rel = os.path.relpath(filename)
        if len(rel) < len(filename):
            filename = rel
    except ValueError:          # another drive on Windows
        pass
    return f"{filename}:{lineno}"
