"""The committed keras notebook is exactly what make_notebook.py builds (one source of truth:
the budgets and thresholds it states come from the fixtures and thresholds.toml)."""

from __future__ import annotations

import importlib.util

import nbformat

from deepgrade import assignment as asg
from helpers import ROOT

A = asg.load("keras", ROOT)


def test_committed_notebook_equals_the_build():
    spec = importlib.util.spec_from_file_location("keras_make_notebook", A.folder / "make_notebook.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    built = module.build()
    committed = nbformat.read(A.notebook, as_version=4)
    assert [(c.cell_type, c.source) for c in committed.cells] == [(c.cell_type, c.source) for c in built.cells]


def test_every_question_has_a_stub_and_a_check_cell():
    nb = nbformat.read(A.notebook, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    for q in A.questions:
        assert any(src.startswith(f"def {q.name}(") and "raise NotImplementedError" in src for src in code), q.name
        assert f'grader.check("{q.name}")' in code, q.name
