"""Grading the CNN assignment end to end: full marks, zero, every catalogued mistake caught
and named, robustness to messy notebooks, and hidden checks that never leak answers."""

from __future__ import annotations

import copy
import dataclasses
import re
import tomllib

import nbformat
import numpy as np
import pytest

from deepgrade import assignment as asg
from deepgrade import pipeline
from helpers import ROOT, diagnoses, filled_notebook, grade_notebook, mutant_notebook, question

NAME = "cnn"
A = asg.load(NAME, ROOT)
MISTAKES = tomllib.loads((ROOT / "assignments" / NAME / "mistakes.toml").read_text())
QUESTIONS = [q.name for q in A.questions]


def failing_details(qresult) -> str:
    return "\n".join(d for c in qresult.checks if not c.passed for d in c.details)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade a notebook once per key and reuse it (each grading takes ~0.3 s)."""
    cache: dict[str, pipeline.SubmissionResult] = {}
    folder = tmp_path_factory.mktemp("cnn_grading")

    def get(key: str, make) -> pipeline.SubmissionResult:
        if key not in cache:
            cache[key] = grade_notebook(NAME, make(), folder, f"{key}.ipynb")
        return cache[key]

    return get


def function_cells(nb) -> list[int]:
    return [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.lstrip().startswith("def ")]


# ---------------------------------------------------------------- full marks and zero


def test_reference_notebook_gets_full_marks(graded):
    r = graded("reference", lambda: filled_notebook(NAME))
    assert r.status == "graded"
    assert r.max_points == 22
    assert r.points == 22, {q.name: failing_details(q) for q in r.questions if q.points < q.max_points}
    assert all(c.passed for q in r.questions for c in q.checks)


def test_untouched_notebook_gets_zero_without_crashing(graded):
    r = graded("untouched", lambda: nbformat.read(A.notebook, as_version=4))
    assert r.status == "graded"
    assert r.points == 0
    assert [q.name for q in r.questions] == QUESTIONS
    for q in r.questions:
        assert q.points == 0
        assert "NotImplementedError" in failing_details(q), q.name


# ---------------------------------------------------------------- the mistake catalogue


def test_catalogue_ids_match_mutants_and_questions():
    assert set(MISTAKES) == set(A.mutants) == set(A.mistakes)
    for mid, m in MISTAKES.items():
        assert m["function"] in QUESTIONS, mid
        assert m["title"].strip() and m["explanation"].strip(), mid


@pytest.mark.parametrize("mistake_id", sorted(MISTAKES))
def test_each_mutant_differs_from_reference_somewhere(mistake_id):
    fn = MISTAKES[mistake_id]["function"]
    mutant = A.mutants[mistake_id]
    differs = []
    for case in A.question(fn).cases:
        expected = A.expected(case, fn)
        with np.errstate(all="ignore"):
            got = mutant(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))
        got = np.asarray(got, dtype=float)
        differs.append(got.shape != np.shape(expected) or not np.allclose(got, expected, equal_nan=False))
    assert any(differs)


@pytest.mark.parametrize("mistake_id", sorted(MISTAKES))
def test_mutant_loses_points_and_is_named(graded, mistake_id):
    fn = MISTAKES[mistake_id]["function"]
    r = graded(f"mutant_{mistake_id}", lambda: mutant_notebook(NAME, mistake_id))
    q = question(r, fn)
    assert q.points < q.max_points
    assert mistake_id in diagnoses(q), (diagnoses(q), failing_details(q))
    # the student reads the catalogue's explanation
    first_line = MISTAKES[mistake_id]["explanation"].strip().splitlines()[0].strip()
    assert first_line in failing_details(q)
    # the other questions the mutant does not touch keep full marks
    for other in r.questions:
        if other.name not in (fn, "cnn_forward", "conv2d"):
            assert other.points == other.max_points, (other.name, failing_details(other))


# ---------------------------------------------------------------- messy notebooks


def test_cells_reordered_added_deleted_still_grade_by_name(graded):
    def make():
        nb = filled_notebook(NAME)
        defs = function_cells(nb)
        assert len(defs) == len(QUESTIONS)
        moved = [nb.cells[i] for i in defs]
        rest = [c for i, c in enumerate(nb.cells) if i not in defs]
        # every definition after all the cells that use them, in reverse order
        cells = rest + moved[::-1]
        # extra cells
        cells.insert(2, nbformat.v4.new_markdown_cell("My notes on convolution"))
        cells.insert(3, nbformat.v4.new_code_cell("x_scratch = np.arange(12).reshape(3, 4)\nprint(x_scratch.sum())"))
        cells.append(nbformat.v4.new_code_cell("def helper(a):\n    return a + 1"))
        # a cell deleted: the first grader.check cell
        first_check = next(i for i, c in enumerate(cells) if c.cell_type == "code" and "grader.check(" in c.source)
        del cells[first_check]
        nb.cells = cells
        return nb

    r = graded("reordered", make)
    assert r.points == 22, {q.name: failing_details(q) for q in r.questions if q.points < q.max_points}


def test_a_cell_that_raises_does_not_stop_later_cells(graded):
    def make():
        nb = filled_notebook(NAME)
        first_def = function_cells(nb)[0]
        nb.cells.insert(first_def, nbformat.v4.new_code_cell("1/0"))
        return nb

    r = graded("raises", make)
    assert r.points == 22
    assert any("ZeroDivisionError" in n for n in r.notes), r.notes


def test_missing_function_gets_zero_on_that_question_only(graded):
    def make():
        nb = filled_notebook(NAME)
        i = next(i for i in function_cells(nb) if "def conv2d_single(" in nb.cells[i].source)
        del nb.cells[i]
        return nb

    r = graded("missing", make)
    q = question(r, "conv2d_single")
    assert q.points == 0
    assert "conv2d_single" in failing_details(q) and "no function named" in failing_details(q)
    for other in r.questions:
        if other.name != "conv2d_single":
            assert other.points == other.max_points, other.name
    assert r.points == 22 - 4


def test_wrong_shape_gets_a_shape_message(graded):
    src = "def conv2d_single(image, kernel):\n    return np.zeros((3, 3))\n"
    r = graded("wrong_shape", lambda: filled_notebook(NAME, {"conv2d_single": src}))
    q = question(r, "conv2d_single")
    assert q.points < 0.5  # only 'does not modify its inputs' passes
    text = failing_details(q)
    assert "expected shape (5, 5), got (3, 3)" in text
    assert "not compared: the shape is wrong" in text
    assert "expected 1" not in text  # a shape, not a wall of numbers


def test_nan_output_says_values_are_nan(graded):
    src = (
        "def conv2d_single(image, kernel):\n"
        "    return np.full((image.shape[0] - kernel.shape[0] + 1, image.shape[1] - kernel.shape[1] + 1), np.nan)\n"
    )
    r = graded("nan", lambda: filled_notebook(NAME, {"conv2d_single": src}))
    q = question(r, "conv2d_single")
    assert 0 < q.points < q.max_points  # the shapes are right
    assert "of 25 values are NaN" in failing_details(q)
    assert all(not c.passed for c in q.checks if c.label.startswith("values on"))


def test_endless_loop_times_out_on_that_question_only(tmp_path):
    fast = dataclasses.replace(
        A,
        questions=[
            dataclasses.replace(q, cases=[dataclasses.replace(c, seconds=1.0) for c in q.cases])
            if q.name == "conv2d_single"
            else q
            for q in A.questions
        ],
    )
    src = "def conv2d_single(image, kernel):\n    while True:\n        pass\n"
    path = tmp_path / "loop.ipynb"
    nbformat.write(filled_notebook(NAME, {"conv2d_single": src}), path)
    r = pipeline.grade_file(fast, path)
    q = question(r, "conv2d_single")
    assert q.points == 0
    text = failing_details(q)
    assert "stopped after 1 s" in text and "endless loop" in text
    for other in r.questions:
        if other.name != "conv2d_single":
            assert other.points == other.max_points, (other.name, failing_details(other))


# ---------------------------------------------------------------- hidden checks


def _formatted(x: float) -> set[str]:
    """Ways a number could be printed; integers and short numbers are left out (they occur
    naturally in counts and sizes)."""
    if not np.isfinite(x) or float(x).is_integer():
        return set()
    out = {f"{x:.6g}", f"{x:.5g}", f"{x:.4g}", f"{x:.6f}", repr(float(x))}
    return {s for s in out if len(s.lstrip("-").replace(".", "").lstrip("0")) >= 4}


def hidden_expected_strings() -> set[str]:
    strings = set()
    for q in A.questions:
        for case in q.cases:
            if case.hidden:
                for x in np.ravel(np.asarray(A.expected(case, q.name), dtype=float)):
                    strings |= _formatted(float(x))
    return strings


HARDCODED = "def conv2d_single(image, kernel):\n    return np.array({}, dtype=float)\n"


def test_hidden_checks_never_show_expected_numbers(graded):
    secrets = hidden_expected_strings()
    assert len(secrets) > 100
    results = [graded(f"mutant_{mid}", lambda mid=mid: mutant_notebook(NAME, mid)) for mid in sorted(MISTAKES)]
    results.append(
        graded(
            "hardcoded",
            lambda: filled_notebook(NAME, {"conv2d_single": HARDCODED.format(A_TRUE_MAP)}),
        )
    )
    failed_hidden = 0
    for r in results:
        for q in r.questions:
            for c in q.checks:
                if not c.hidden:
                    continue
                failed_hidden += not c.passed
                text = c.label + "\n" + "\n".join(c.details)
                leaked = [s for s in secrets if s in text]
                assert not leaked, (q.name, c.label, leaked[:5], text)
                assert not re.search(r"expected:? *[-+]?(\d|nan|inf)", text), text  # no 'expected 1.5, got ...'
    assert failed_hidden > 20  # the check looked at failing hidden checks, not only passing ones


A_TRUE_MAP = tomllib.loads((ROOT / "assignments" / NAME / "lecture.toml").read_text())["feature_map"]["true"]


def test_hardcoding_the_lecture_answer_loses_hidden_checks(graded):
    r = graded("hardcoded", lambda: filled_notebook(NAME, {"conv2d_single": HARDCODED.format(A_TRUE_MAP)}))
    q = question(r, "conv2d_single")
    by_label = {c.label: c for c in q.checks}
    assert by_label["values on the lecture's 7x7 image and 3x3 feature detector"].passed
    hidden = [c for c in q.checks if c.hidden]
    assert hidden and all(not c.passed for c in hidden if c.label.startswith(("shape", "values")))
    assert q.points < q.max_points / 2
