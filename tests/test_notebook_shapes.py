"""Any notebook shape gets a row with a reason, never "the grader failed" (issue 19, item 7).

JSON nested 100,000 deep made the JSON decoder raise RecursionError; a cell of 600,000
chained attributes (RecursionError) or 100,000 unary minus signs (MemoryError) made the
grader's own ``ast.parse`` raise. The file is now "unreadable" with its reason, and such a
cell fails on its own in the sandbox while the rest of the notebook is graded.
"""

from __future__ import annotations

import json

import nbformat

import helpers
from deepgrade import notebook

BOMBS = {
    "attributes": "x" + ".a" * 600_000,
    "unary minus": "-" * 100_000 + "1",
    "parentheses": "(" * 100_000 + ")" * 100_000,
    "null byte": "x = 1\x00",
}


def test_deep_json_is_unreadable_with_its_reason(tmp_path):
    path = tmp_path / "deep.ipynb"
    path.write_text(
        '{"cells": [], "nbformat": 4, "nbformat_minor": 5, "metadata": ' + "[" * 100_000 + "]" * 100_000 + "}"
    )
    try:
        notebook.read(path)
    except notebook.NotebookError as exc:
        assert "nested too deeply" in str(exc)
    else:
        raise AssertionError("a notebook nested 100,000 deep was read")


def test_defined_functions_skips_cells_python_cannot_parse():
    cells = [(i, src) for i, src in enumerate(BOMBS.values())] + [(9, "def relu(x):\n    return x")]
    assert notebook.defined_functions(cells) == {"relu"}


def test_a_bomb_cell_costs_only_itself(tmp_path):
    nb = helpers.filled_notebook("cnn")
    for src in BOMBS.values():
        nb.cells.append(nbformat.v4.new_code_cell(src))
    result = helpers.grade_notebook("cnn", nb, tmp_path)
    assert result.status == "graded", result.reason
    assert result.points == result.max_points
    # each bomb cell is named in a note with its own error (Python's, in the sandbox)
    bombs = [n for n in result.notes if n.startswith("cell ") and "of the notebook" in n]
    assert len(bombs) == len(BOMBS), result.notes
    assert json.dumps(result.to_dict())  # the row is plain data
