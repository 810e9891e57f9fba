"""Any notebook shape gets a row with a reason, never "the grader failed".

JSON nested 100,000 deep made the JSON decoder raise RecursionError; a cell of 600,000
chained attributes (RecursionError) or 100,000 unary minus signs (MemoryError) made the
grader's own ``ast.parse`` raise; 8 MB of one-line statements took it 4.7 GB and 130 s,
150,000 cells took nbformat 339 MB. The file is now "unreadable" with its reason, or
such a cell fails on its own in the sandbox while the rest of the notebook is graded.
"""

from __future__ import annotations

import json

import nbformat

import helpers
from deepgrade.grading import notebook

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


def _code_notebook(cells: list) -> str:
    return json.dumps(
        {
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": {},
            "cells": [
                {
                    "cell_type": "code",
                    "id": f"c{i}",
                    "metadata": {},
                    "execution_count": None,
                    "outputs": [],
                    "source": c,
                }
                for i, c in enumerate(cells)
            ],
        }
    )


def test_too_many_cells_or_lines_is_unreadable_with_its_reason(tmp_path):
    for name, cells in {
        "cells": ["x = 1"] * 40_000,
        "lines": [["x = 1\n"] * 300_000],
    }.items():
        path = tmp_path / f"{name}.ipynb"
        path.write_text(_code_notebook(cells))
        try:
            notebook.read(path)
        except notebook.NotebookError as exc:
            assert "too many cells or lines" in str(exc) and "outputs" in str(exc)
        else:
            raise AssertionError(f"a notebook of {name} was read")
    # a real notebook is far from the bound
    path = tmp_path / "fine.ipynb"
    path.write_text(_code_notebook(["def f(x):\n    return x"] * 2000))
    assert len(notebook.load(path)) == 2000


def test_huge_cells_are_scanned_not_parsed():
    """Past notebook.AST_BUDGET characters a cell's top-level defs are found by a line scan
    (the parser would hold ~600 bytes per character): the same names, nested defs and
    methods left out."""
    big = "x = 1\n" * (notebook.AST_BUDGET // 3) + "def late(y):\n    def inner():\n        pass\n    return y\n"
    big += "class K:\n    def method(self):\n        pass\nasync def coroutine():\n    pass\n"
    small = "def early(x):\n    return x\n"
    assert len(big) > notebook.AST_BUDGET
    assert notebook.defined_functions([(0, small), (1, big)]) == {"early", "late"}
    assert notebook.defined_functions([(0, big[-200:])]) == {"late"}  # ast gives the same
