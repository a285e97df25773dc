"""Build the lesson notebooks (lessons/NN_*.ipynb) from their sources here, without outputs.

The sources are Jupytext "percent" files (`# %%` starts a code cell, `# %% [markdown]`
a markdown cell whose lines start with `# `), so they diff well and open in VS Code or
Jupytext directly. Run after editing a source:

    python lessons/_sources/build.py          # rewrite the notebooks
    python lessons/_sources/build.py --check  # exit 1 if a notebook is out of date

The notebooks are committed as built: no outputs, no execution counts.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

SOURCES = Path(__file__).resolve().parent
LESSONS = SOURCES.parent
KERNEL = {"display_name": "Python 3", "language": "python", "name": "python3"}


def parse_percent(text: str) -> list[tuple[str, str]]:
    """Split a percent-format source into (kind, source) cells, kind "code" or "markdown"."""
    cells: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("# %%"):
            kind = "markdown" if "[markdown]" in line else "code"
            cells.append((kind, []))
            continue
        if not cells:  # a module docstring or comments before the first cell are not part of the notebook
            continue
        kind, lines = cells[-1]
        if kind == "markdown":
            if line.startswith("# "):
                line = line[2:]
            elif line.startswith("#"):
                line = line[1:]
        lines.append(line)
    return [(kind, "\n".join(lines).strip("\n")) for kind, lines in cells]


def build_notebook(source: Path) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = KERNEL
    nb.metadata["language_info"] = {"name": "python"}
    for index, (kind, text) in enumerate(parse_percent(source.read_text(encoding="utf-8"))):
        cell = nbformat.v4.new_markdown_cell(text) if kind == "markdown" else nbformat.v4.new_code_cell(text)
        cell["id"] = f"{source.stem[:2]}-{index:03d}"  # stable ids: rebuilding gives identical files
        nb.cells.append(cell)
    return nb


def sources() -> list[Path]:
    return sorted(p for p in SOURCES.glob("[0-9][0-9]_*.py"))


def target(source: Path) -> Path:
    return LESSONS / f"{source.stem}.ipynb"


def render(source: Path) -> str:
    return nbformat.writes(build_notebook(source)) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report notebooks that differ from their sources")
    args = parser.parse_args(argv)
    stale = []
    for source in sources():
        text = render(source)
        out = target(source)
        if args.check:
            if not out.exists() or out.read_text(encoding="utf-8") != text:
                stale.append(out.name)
        else:
            out.write_text(text, encoding="utf-8")
            print(f"wrote {out.relative_to(LESSONS.parent)}")
    if stale:
        print("out of date (run python lessons/_sources/build.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
