"""The project's house rules, checked: layering, stripped notebooks, no data copies."""
import ast
import json
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# package -> the packages of ours it must never import (nothing imports upward).
FORBIDDEN = {
    "tinytape": {"cells", "visuals", "lessons"},
    "cells": {"visuals", "lessons"},
    "visuals": {"lessons"},
}


def imported_top_levels(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module.split(".")[0]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_upward_imports(package):
    offences = [f"{path.relative_to(REPO)}:{line} imports {name}"
                for path in sorted((REPO / package).rglob("*.py"))
                for line, name in imported_top_levels(path) if name in FORBIDDEN[package]]
    assert not offences, "upward imports:\n" + "\n".join(offences)


def tracked_files(pattern):
    try:
        out = subprocess.run(["git", "ls-files", pattern], cwd=REPO, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: the committed-files rules cannot be read")
    return [REPO / p for p in out.stdout.split()]


def test_notebooks_are_committed_without_outputs():
    dirty = []
    for path in tracked_files("*.ipynb"):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb.get("cells", []):
            if cell.get("cell_type") == "code" and (cell.get("outputs") or cell.get("execution_count")):
                dirty.append(path.name)
                break
    assert not dirty, f"notebooks with outputs (strip them): {dirty}"


def test_the_shared_data_set_is_not_copied_in():
    copies = [p.name for p in tracked_files("*") if "inflation" in p.name.lower()
              and p.suffix.lower() in (".csv", ".xlsx")]
    assert not copies, f"read the data from ../shared/data instead of committing {copies}"


def test_the_import_scanner_sees_both_import_forms(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("import numpy as np\nfrom lessons.cli import main\nfrom . import sibling\nimport visuals.dot\n")
    assert [name for _, name in imported_top_levels(source)] == ["numpy", "lessons", "visuals"]
