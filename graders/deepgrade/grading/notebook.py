"""Stage 1: load a submitted notebook into code cells, with a clear reason when it cannot be.

Also the two notebook rewrites the project needs: filling stubs with the reference
(and, in tests, with a catalogued mistake), and stripping outputs for the student copy.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import textwrap
from pathlib import Path

import nbformat

from ..sandbox.channel import json_structure

MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024
# JSON values ('[', '{', ',', ':') and depth a notebook may have, checked before it is
# parsed: 150,000 one-line cells took nbformat 22 s and 339 MB, a cell of 1.5 million
# source lines 234 MB (measured); a long course notebook with its outputs has ~20,000
MAX_NOTEBOOK_VALUES = 200_000
MAX_NOTEBOOK_DEPTH = 100


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
    problem = json_structure(data, MAX_NOTEBOOK_VALUES, MAX_NOTEBOOK_DEPTH)
    if problem == "nested too deeply":
        raise NotebookError("the file's JSON is nested too deeply to be a notebook")
    if problem:
        raise NotebookError(
            f"the file has too many cells or lines to be graded (over {MAX_NOTEBOOK_VALUES:,} JSON values; "
            "clearing the cells' outputs may help)"
        )
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


# Python's parser holds ~600 bytes per character of source and takes ~16 us a line (8 MB
# of "x=1" lines: 4.7 GB and 130 s, measured): the grader parses at most this much of a
# notebook with ast; past it, a line scan finds the top-level defs.
AST_BUDGET = 100_000
_TOP_DEF = re.compile(r"^def[ \t]+([^\W\d]\w*)[ \t]*\(", re.M)


def defined_functions(cells: list[tuple[int, str]]) -> set[str]:
    """Names of top-level functions a notebook defines (cells that do not parse are skipped).

    A cell Python cannot parse in this process is skipped, whatever the reason: a syntax
    error, null bytes (ValueError), 600,000 chained attributes (RecursionError) or 100,000
    unary minus signs (MemoryError in the parser). The sandbox then reports that cell's own
    error, and a question whose function it held says so; the grader never fails on it.
    Cells past ``AST_BUDGET`` characters of the notebook are scanned for lines
    ``def name(`` at column 0 instead (it may name a function a cell fails to define: the
    call then says the function is missing, as the sandbox finds)."""
    names = set()
    budget = AST_BUDGET
    for _, src in cells:
        if len(src) > budget:  # (a magic line never starts with "def")
            names |= set(_TOP_DEF.findall(src))
            continue
        budget -= len(src)
        text = "\n".join(ln for ln in src.splitlines() if not ln.lstrip().startswith(("%", "!")))
        try:
            tree = ast.parse(text)
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
