"""Grading the CNN assignment end to end: robustness to messy notebooks, the messages of
wrong shapes, NaN and endless loops, and the lecture's answer hard-coded (what every numpy
assignment shares, full marks, zero and the catalogue, is in test_every_assignment.py)."""

from __future__ import annotations

import dataclasses
import tomllib

import nbformat
import pytest

from deepgrade.course import assignment as asg
from deepgrade.grading import pipeline
from helpers import ROOT, filled_notebook, grade_notebook, hidden_expected_strings, hidden_leaks, question

NAME = "cnn"
A = asg.load(NAME, ROOT)
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


# The reference notebook's full marks, the untouched notebook's zero, the catalogue, every
# mistake's feedback and the hidden checks of every mutant: tests/generic/test_every_assignment.py.


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


HARDCODED = "def conv2d_single(image, kernel):\n    return np.array({}, dtype=float)\n"
A_TRUE_MAP = tomllib.loads((ROOT / "assignments" / NAME / "lecture.toml").read_text())["feature_map"]["true"]


def test_hardcoding_the_lecture_answer_loses_hidden_checks(graded):
    r = graded("hardcoded", lambda: filled_notebook(NAME, {"conv2d_single": HARDCODED.format(A_TRUE_MAP)}))
    q = question(r, "conv2d_single")
    by_label = {c.label: c for c in q.checks}
    assert by_label["values on the lecture's 7x7 image and 3x3 feature detector"].passed
    hidden = [c for c in q.checks if c.hidden]
    assert hidden and all(not c.passed for c in hidden if c.label.startswith(("shape", "values")))
    assert q.points < q.max_points / 2
    # and its failed hidden checks show none of the expected values (the generic scan covers
    # the stub and every mutant: test_every_assignment.py)
    secrets = hidden_expected_strings(A)
    assert len(secrets) > 100
    leaks, failed = hidden_leaks([r], secrets)
    assert not leaks and failed > 0, leaks[:3]
