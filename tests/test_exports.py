"""The LMS exports (canvas.csv, moodle.csv) and final_grades.csv, exactly, for a tiny
batch of results built by hand (no grading)."""

from __future__ import annotations

import csv
import time
from pathlib import Path
from types import SimpleNamespace

from deepgrade import exports
from deepgrade.intake import Submission
from deepgrade.pipeline import SubmissionResult
from deepgrade.score import QuestionResult

QUESTIONS = [SimpleNamespace(name="relu", points=4.0), SimpleNamespace(name="softmax", points=6.0)]


def assignment(**meta):
    return SimpleNamespace(name="cnn", title="CNN, part 1", max_points=10.0, questions=QUESTIONS, meta=meta)


def result(sub: Submission, relu: float, softmax: float, status: str = "graded", reason: str = "") -> SubmissionResult:
    qs = [QuestionResult("relu", relu, 4.0), QuestionResult("softmax", softmax, 6.0)]
    return SubmissionResult(sub.source, "cnn", qs, status=status, reason=reason, student=sub.student)


def batch_rows():
    subs = [
        Submission("12345", 'Doe, Jane "JD"', "export.zip:doe_jane_12345_1_cnn.ipynb", Path("a.ipynb"), stem="12345"),
        Submission("alice", "alice", "class/alice/cnn.ipynb", Path("b.ipynb"), stem="alice"),
        Submission(
            "123456",
            "Rick Roe",
            "export.zip:Rick Roe_123456_assignsubmission_file_/cnn.py",
            None,
            stem="123456-skipped",
            status="skipped",
            reason="not a notebook (cnn.py)",
        ),
        Submission(
            "12345",
            'Doe, Jane "JD"',
            "export.zip:doe_jane_LATE_12345_2_cnn.ipynb",
            Path("c.ipynb"),
            stem="12345-duplicate",
            status="duplicate",
            reason="another submission of 12345 was graded instead",
        ),
    ]
    results = [
        result(subs[0], 4, 3.5),
        result(subs[1], 4, 6),
        result(subs[2], 0, 0, "skipped", "not a notebook (cnn.py)"),
        result(subs[3], 0, 0, "duplicate", "another submission of 12345 was graded instead"),
    ]
    return subs, results


def lines(path: Path) -> list[str]:
    text = path.read_bytes().decode("utf-8")
    assert text.endswith("\r\n")
    return text[:-2].split("\r\n")


def test_canvas_csv(tmp_path):
    subs, results = batch_rows()
    path = tmp_path / "canvas.csv"
    exports.write_canvas_csv(assignment(), subs, results, path)
    assert lines(path) == [
        'Student,ID,SIS User ID,SIS Login ID,Section,"cnn: CNN, part 1"',
        "    Points Possible,,,,,10",
        '"Doe, Jane ""JD""",12345,,,,7.5',
        "alice,,,alice,,10",
        "Rick Roe,123456,,,,0",
    ]
    rows = list(csv.reader(path.open(newline="", encoding="utf-8")))
    assert rows[2][0] == 'Doe, Jane "JD"' and len({len(r) for r in rows}) == 1


def test_canvas_csv_updates_an_existing_assignment(tmp_path):
    subs, results = batch_rows()
    path = tmp_path / "canvas.csv"
    exports.write_canvas_csv(assignment(canvas_assignment_id=98765), subs, results, path)
    assert lines(path)[0] == 'Student,ID,SIS User ID,SIS Login ID,Section,"CNN, part 1 (98765)"'


def test_moodle_csv(tmp_path):
    subs, results = batch_rows()
    path = tmp_path / "moodle.csv"
    now = time.mktime((2024, 5, 7, 14, 30, 0, 0, 0, -1))
    exports.write_moodle_csv(assignment(), subs, results, path, now=now)
    stamp = '"Tuesday, 07 May 2024, 02:30 PM"'
    assert lines(path) == [
        "Identifier,Full name,Grade,Maximum Grade,Last modified (grade),Feedback comments",
        f'Participant 12345,"Doe, Jane ""JD""",7.5,10,{stamp},7.5 / 10 points',
        f"alice,alice,10,10,{stamp},10 / 10 points",
        f"Participant 123456,Rick Roe,0,10,{stamp},0 / 10 points; not graded: not a notebook (cnn.py)",
    ]


def test_final_grades_csv(tmp_path):
    subs, results = batch_rows()
    path = tmp_path / "final_grades.csv"
    exports.write_gradebook(assignment(), results, path)
    assert lines(path) == [
        "file,relu,softmax,total_points_earned,percent_correct,grading_status",
        "points-per-question,4,6,10,,",
        "export.zip:doe_jane_12345_1_cnn.ipynb,4,3.5,7.5,75.0,completed",
        "class/alice/cnn.ipynb,4,6,10,100.0,completed",
        "export.zip:Rick Roe_123456_assignsubmission_file_/cnn.py,0,0,0,0.0,failed: not a notebook (cnn.py)",
        "export.zip:doe_jane_LATE_12345_2_cnn.ipynb,0,0,0,0.0,failed: another submission of 12345 was graded instead",
    ]
