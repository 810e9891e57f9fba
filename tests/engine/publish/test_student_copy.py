"""The student's copy: notebook and public checks only, and the checks work through Otter."""

from __future__ import annotations

import ast
import json
import shutil
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from deepgrade.cli import main
from deepgrade.course import assignment as asg
from deepgrade.grading import notebook
from deepgrade.portable import wire
from deepgrade.portable.scoring import split_points
from deepgrade.publish.student import make_student_copy
from helpers import ROOT, filled_notebook

ASSIGNMENTS = asg.available(ROOT)


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def copy_dir(request, tmp_path_factory):
    a = asg.load(request.param, ROOT)
    return a, make_student_copy(a, tmp_path_factory.mktemp("dist") / a.name)


def _hidden_expected_numbers(a: asg.Assignment) -> list[float]:
    """Distinctive numbers of every hidden fixture's expected output (not round, not tiny)."""
    values = []
    for q in a.questions:
        for case in q.cases:
            if not case.hidden or case.harness is not None or case.expect_error is not None or not case.compare:
                continue
            out = a.expected(case, q.name)
            stack = [out]
            while stack:
                v = stack.pop()
                if isinstance(v, dict):
                    stack += list(v.values())
                elif isinstance(v, (tuple, list)):
                    stack += list(v)
                elif isinstance(v, np.ndarray) and v.dtype.kind == "f":
                    values += [float(x) for x in v.ravel()[:20] if abs(x) > 1e-3 and abs(x - round(x)) > 1e-3]
    return values


def _statements(src: str) -> set[str]:
    """Every statement of the code, normalised by ast.unparse, docstrings left out."""
    out = set()
    for node in ast.walk(ast.parse(src)):
        body = getattr(node, "body", None)
        if not isinstance(body, list):
            continue
        for i, st in enumerate(body):
            if i == 0 and isinstance(st, ast.Expr) and isinstance(getattr(st, "value", None), ast.Constant):
                continue
            if isinstance(st, (ast.FunctionDef, ast.ClassDef, ast.For, ast.While, ast.If, ast.With, ast.Try)):
                continue
            out.add(ast.unparse(st))
    return out


def test_no_solution_source_in_student_copy(copy_dir):
    a, out = copy_dir
    files = [p for p in out.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert f"{a.name}.py" not in names and f"{a.name}_mistakes.py" not in names
    shipped: set[str] = set()
    for p in files:
        if p.suffix == ".py":
            shipped |= _statements(p.read_text())
            assert "solutions" not in p.read_text(), p
        elif p.suffix == ".ipynb":
            nb = nbformat.read(p, as_version=4)
            for _, src in notebook.code_cells(nb):
                clean = "\n".join(ln for ln in src.splitlines() if not ln.lstrip().startswith(("%", "!")))
                shipped |= _statements(clean)
    for q in a.questions:
        ref = _statements(notebook.function_source(getattr(a.reference, q.name)))
        distinctive = {st for st in ref if len(st) > 20 and not st.startswith(("raise", "return x", "import"))}
        leaked = distinctive & shipped
        assert not leaked, f"{q.name}: reference statements in the student copy: {leaked}"


def test_no_hidden_expected_values_in_student_copy(copy_dir):
    a, out = copy_dir
    data = json.loads((out / "_deepgrade_check" / "public.json").read_text())
    shipped = []
    for q in data["questions"].values():
        for case in q["cases"]:
            for blob in [case["expected"], *case["mistakes"].values()]:
                if blob is None:
                    continue
                stack = [wire.decode(blob)]
                while stack:
                    v = stack.pop()
                    if isinstance(v, dict):
                        stack += list(v.values())
                    elif isinstance(v, tuple):
                        stack += list(v)
                    elif isinstance(v, np.ndarray):
                        shipped += [float(x) for x in v.ravel()]
    shipped_arr = np.array(shipped) if shipped else np.zeros(0)
    for x in _hidden_expected_numbers(a):
        assert not np.any(np.isclose(shipped_arr, x, rtol=1e-12, atol=0)), f"hidden expected value {x} shipped"
    hidden_names = {c.name for q in a.questions for c in q.cases if c.hidden}
    shipped_compared = {c["name"] for q in data["questions"].values() for c in q["cases"] if c["compare"]}
    assert not hidden_names & shipped_compared


def test_cli_student_command(tmp_path):
    assert main(["student", "cnn", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "cnn" / "cnn.ipynb").exists()
    assert sorted(p.stem for p in (tmp_path / "cnn" / "tests").glob("*.py")) == sorted(
        q.name for q in asg.load("cnn", ROOT).questions
    )


def _run_in_student_copy(tmp_path: Path, nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    from nbclient import NotebookClient

    a = asg.load("cnn", ROOT)
    out = make_student_copy(a, tmp_path / "cnn")
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(out)}}, allow_errors=True
    ).execute()
    return nb


def _check_output(nb, question: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.strip() == f'grader.check("{question}")':
            return "\n".join(
                str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", "")) + "".join(o.get("traceback", []))
                for o in cell.outputs
            )
    raise KeyError(question)


@pytest.mark.skipif(
    shutil.which("jupyter") is None and not (Path(sys.executable).parent / "jupyter").exists(),
    reason="needs a Jupyter kernel",
)
def test_grader_check_in_notebook_diagnoses_like_the_grader(tmp_path):
    a = asg.load("cnn", ROOT)
    nb = filled_notebook("cnn", {"conv2d_single": a.mutants["flipped_kernel"]})
    nb = _run_in_student_copy(tmp_path, nb)
    wrong = _check_output(nb, "conv2d_single")
    assert "Test case failed" in wrong or "failed" in wrong.lower()
    assert "true convolution" in wrong  # the catalogue's explanation of flipped_kernel
    assert "hidden check:" not in wrong  # the student copy has no hidden fixture
    right = _check_output(nb, "max_pool2d")
    # the public checks' points in the grade, of what they are worth there; the rest is hidden:
    # max_pool2d's public cases weigh what the toml's policy gives them among all its cases
    pool = a.question("max_pool2d")
    weight = {c.hidden: 0.0 for c in pool.cases}
    for c in pool.cases:
        weight[c.hidden] += a.policy.case_weight("max_pool2d", c.outputs)
    public_max = round(
        4 * (weight[False] + a.policy.no_mutation) / (sum(weight.values()) + 2 * a.policy.no_mutation), 2
    )
    assert f"{public_max:g} / {public_max:g} points" in right and "FAIL" not in right
    assert f"hold the other {round(4 - public_max, 2):g} of the question's 4 points" in right
    # the points shown are those the same public checks earn at grading (tests/generic/test_one_grade.py)
    from deepgrade.grading import pipeline
    from deepgrade.grading.plan import call_id
    from deepgrade.grading.score import grade_question

    _, run = pipeline.grade_cells(a, notebook.code_cells(nb), questions=["conv2d_single"])
    q = a.question("conv2d_single")
    graded = grade_question(a, q, {call_id(q.name, c): run.calls[call_id(q.name, c)] for c in q.cases})
    split = split_points(graded.checks, q.points)
    assert f"{round(split.public, 2):g} / {round(split.public_max, 2):g} points" in wrong
