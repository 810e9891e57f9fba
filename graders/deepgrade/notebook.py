"""Stage 1: load a submitted notebook into code cells, with a clear reason when it cannot be.

Also the two notebook rewrites the project needs: filling stubs with the reference
(and, in tests, with a catalogued mistake), and stripping outputs for the student copy.
"""

from __future__ import annotations

import ast
import inspect
import json
import textwrap
from pathlib import Path

import nbformat

MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024


class NotebookError(Exception):
    """A submission that cannot be read as a notebook; the message is for the instructor."""


def read(path: Path) -> nbformat.NotebookNode:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise NotebookError(f"cannot read the file: {exc.strerror}") from None
    if not data.strip():
        raise NotebookError("the file is empty")
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"the file is larger than {MAX_NOTEBOOK_BYTES // 2**20} MB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise NotebookError("the file is not text (binary data, not a .ipynb notebook)") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(f"the file is not valid notebook JSON (line {exc.lineno}: {exc.msg})") from None
    except (RecursionError, MemoryError):  # [[[[... 100,000 deep: the decoder recurses per level
        raise NotebookError("the file's JSON is nested too deeply to be a notebook") from None
    if not isinstance(raw, dict) or "cells" not in raw and "worksheets" not in raw:
        raise NotebookError("the file is JSON but not a Jupyter notebook (no cells)")
    try:
        nb = nbformat.reads(text, as_version=4)  # converts nbformat 3 notebooks
    except Exception as exc:
        raise NotebookError(f"the notebook could not be read ({type(exc).__name__}: {str(exc)[:200]})") from None
    return nb


def code_cells(nb: nbformat.NotebookNode) -> list[tuple[int, str]]:
    """(index among all cells, source) of every code cell, in order."""
    return [
        (i, c.source if isinstance(c.source, str) else "".join(c.source))
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code"
    ]


def load(path: Path) -> list[tuple[int, str]]:
    return code_cells(read(path))


def defined_functions(cells: list[tuple[int, str]]) -> set[str]:
    """Names of top-level functions a notebook defines (cells that do not parse are skipped).

    A cell Python cannot parse in this process is skipped, whatever the reason: a syntax
    error, null bytes (ValueError), 600,000 chained attributes (RecursionError) or 100,000
    unary minus signs (MemoryError in the parser). The sandbox then reports that cell's own
    error, and a question whose function it held says so; the grader never fails on it."""
    names = set()
    for _, src in cells:
        try:
            tree = ast.parse("\n".join(ln for ln in src.splitlines() if not ln.lstrip().startswith(("%", "!"))))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        names |= {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    return names


def function_source(fn, rename: str | None = None) -> str:
    """The source of a function, without decorators, its def renamed (comments kept)."""
    src = textwrap.dedent(inspect.getsource(fn))
    node = ast.parse(src).body[0]
    lines = src.splitlines()[node.lineno - 1 :]
    if rename:
        lines[0] = lines[0].replace(f"def {node.name}(", f"def {rename}(", 1)
    return "\n".join(lines).rstrip()


def replace_function(nb: nbformat.NotebookNode, name: str, new_source: str) -> bool:
    """Replace the top-level definition of ``name`` in whichever cell holds it."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name == name:
                lines = cell.source.splitlines()
                start = (node.decorator_list[0].lineno if node.decorator_list else node.lineno) - 1
                end = node.end_lineno
                cell.source = "\n".join(lines[:start] + new_source.rstrip().splitlines() + lines[end:])
                return True
    return False


def fill(nb: nbformat.NotebookNode, functions: dict[str, object]) -> nbformat.NotebookNode:
    """A copy of the notebook with each named stub replaced by the given function's source."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    for name, fn in functions.items():
        src = fn if isinstance(fn, str) else function_source(fn, rename=name)
        if not replace_function(nb, name, src):
            raise KeyError(f"the notebook has no stub for {name}")
    return nb


def strip_outputs(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb
