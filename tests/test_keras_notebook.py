"""The keras notebook has a stub and a check cell per question. (That the committed notebook is
exactly what make_notebook.py builds, byte for byte, is tested for every assignment in
test_every_assignment.py.)"""

from __future__ import annotations

import nbformat

from deepgrade import assignment as asg
from helpers import ROOT

A = asg.load("keras", ROOT)


def test_every_question_has_a_stub_and_a_check_cell():
    nb = nbformat.read(A.notebook, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    for q in A.questions:
        assert any(src.startswith(f"def {q.name}(") and "raise NotImplementedError" in src for src in code), q.name
        assert f'grader.check("{q.name}")' in code, q.name
