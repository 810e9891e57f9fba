"""Where a notebook defines each function, read defensively from its text (never executed).

The annotated feedback (annotate.py) puts a question's annotation after the cell that
defines its function; the similarity report (similarity.py) compares the functions'
source. Both read a student's notebook, which is hostile text: a cell may be huge,
nested beyond what the parser or ``ast.unparse`` can recurse through, or not Python at
all. Such a cell is skipped (it defines nothing here), never an exception.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

# a cell longer than this is not parsed: no honest solution cell is near it, and the
# parser's time and memory grow with it
MAX_CELL_CHARS = 200_000
# the parse or unparse of a hostile cell may fail in any of these ways
PARSE_ERRORS = (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError)


@dataclass
class Definition:
    """A top-level ``def name`` in a code cell: cell index among all cells, its source
    (decorators excluded, as written) and its syntax tree."""

    name: str
    cell: int
    source: str
    node: ast.FunctionDef | ast.AsyncFunctionDef


def parse_cell(source: str) -> ast.Module | None:
    """The cell's syntax tree, IPython magics and shell lines blanked (line numbers kept);
    None for a cell too long, not Python, or too deep to parse."""
    if not isinstance(source, str) or len(source) > MAX_CELL_CHARS:
        return None
    text = "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in source.splitlines())
    try:
        return ast.parse(text)
    except PARSE_ERRORS:
        return None


def definitions(cells: list[tuple[int, str]]) -> dict[str, Definition]:
    """Each top-level function's definition that counts: the last one in notebook order, as
    running the notebook top to bottom leaves it.

    cells: (index among all cells, source) of the code cells, in order (notebook.code_cells)."""
    found: dict[str, Definition] = {}
    for index, src in cells:
        tree = parse_cell(src)
        if tree is None:
            continue
        lines = src.splitlines()
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                text = "\n".join(lines[node.lineno - 1 : node.end_lineno])
                found[node.name] = Definition(node.name, index, text, node)
    return found
