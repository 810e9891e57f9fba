"""The LMS exports (canvas.csv, moodle.csv) and final_grades.csv, exactly, for a tiny
batch of results built by hand (no grading); formula injection neutralised as OWASP's
CSV-injection guidance says; names that are not UTF-8 readable."""

from __future__ import annotations

import csv
import os
import time
from pathlib import Path
from types import SimpleNamespace

from deepgrade.course.contract import Contract
from deepgrade.grading.intake import Submission
from deepgrade.grading.pipeline import SubmissionResult
from deepgrade.grading.score import QuestionResult
from deepgrade.reports import exports

QUESTIONS = [SimpleNamespace(name="relu", points=4.0), SimpleNamespace(name="softmax", points=6.0)]


def assignment(**toml):
    """A stand-in with the assignment's typed contract (``toml``: its keys, e.g. canvas_assignment_id)."""
    checked = Contract(
        Path("assignment.toml"), "cnn", "CNN, part 1", "cnn.ipynb", {"relu": 4.0, "softmax": 6.0}, **toml
    )
    return SimpleNamespace(name="cnn", title="CNN, part 1", max_points=10.0, questions=QUESTIONS, contract=checked)


def result(sub: Submission, relu: float, softmax: float, status: str = "graded", reason: str = "") -> SubmissionResult:
    qs = [QuestionResult("relu", relu, 4.0), QuestionResult("softmax", softmax, 6.0)]
    return SubmissionResult(sub.source, "cnn", qs, status=status, reason=reason, student=sub.student)


def batch_rows():
    subs = [
        Submission(
            "12345",
            'Doe, Jane "JD"',
            "export.zip:doe_jane_12345_1_cnn.ipynb",
            Path("a.ipynb"),
            stem="Doe_Jane_JD_12345",
            layout="canvas",
        ),
        Submission("alice/cnn.ipynb", "alice/cnn.ipynb", "class/alice/cnn.ipynb", Path("b.ipynb"), stem="alice_cnn"),
        Submission(
            "123456",
            "Rick Roe",
            "export.zip:Rick Roe_123456_assignsubmission_file_/cnn.py",
            None,
            stem="Rick_Roe_123456-skipped",
            status="skipped",
            layout="moodle",
            reason="not a notebook (cnn.py)",
        ),
        Submission(
            "12345",
            'Doe, Jane "JD"',
            "export.zip:doe_jane_LATE_12345_2_cnn.ipynb",
            Path("c.ipynb"),
            stem="Doe_Jane_JD_12345-duplicate",
            status="duplicate",
            layout="canvas",
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
        "alice/cnn.ipynb,,,,,10",
        "Rick Roe,123456,,,,0",
    ]
    rows = list(csv.reader(path.open(newline="", encoding="utf-8")))
    assert rows[2][0] == 'Doe, Jane "JD"' and len({len(r) for r in rows}) == 1


def test_canvas_csv_updates_an_existing_assignment(tmp_path):
    subs, results = batch_rows()
    path = tmp_path / "canvas.csv"
    exports.write_canvas_csv(assignment(canvas_assignment_id="98765"), subs, results, path)
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
        f"alice/cnn.ipynb,alice/cnn.ipynb,10,10,{stamp},10 / 10 points",
        f"Participant 123456,Rick Roe,0,10,{stamp},0 / 10 points; not graded: not a notebook (cnn.py)",
    ]


def test_final_grades_csv(tmp_path):
    subs, results = batch_rows()
    path = tmp_path / "final_grades.csv"
    exports.write_gradebook(assignment(), results, path, subs)
    assert lines(path) == [
        "file,relu,softmax,total_points_earned,percent_correct,grading_status,student_id,student_name,feedback",
        "points-per-question,4,6,10,,,,,",
        'export.zip:doe_jane_12345_1_cnn.ipynb,4,3.5,7.5,75.0,completed,12345,"Doe, Jane ""JD""",'
        "feedback/Doe_Jane_JD_12345.html",
        "class/alice/cnn.ipynb,4,6,10,100.0,completed,,,feedback/alice_cnn.html",
        "export.zip:Rick Roe_123456_assignsubmission_file_/cnn.py,0,0,0,0.0,failed: not a notebook (cnn.py),"
        "123456,Rick Roe,feedback/Rick_Roe_123456-skipped.html",
        "export.zip:doe_jane_LATE_12345_2_cnn.ipynb,0,0,0,0.0,failed: another submission of 12345 was graded instead,"
        '12345,"Doe, Jane ""JD""",feedback/Doe_Jane_JD_12345-duplicate.html',
    ]


def test_final_grades_csv_without_submissions_keeps_otters_columns_first(tmp_path):
    subs, results = batch_rows()
    path = tmp_path / "final_grades.csv"
    exports.write_gradebook(assignment(), results[:1], path)
    header, per_q, row = list(csv.reader(path.open(newline="", encoding="utf-8")))
    assert header[:6] == ["file", "relu", "softmax", "total_points_earned", "percent_correct", "grading_status"]
    assert row[-3:] == ["", "", ""]


# --------------------------------------------------------------------------- formula injection

EVIL = ['=HYPERLINK("http://x")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def evil_batch():
    subs, results = [], []
    for i, name in enumerate(EVIL):
        sid = "" if i % 2 else str(1000 + i)
        layout = "path" if i % 2 else "moodle"
        sub = Submission(sid or name, name, f"{name}.ipynb", Path("x"), stem=f"s{i}", layout=layout)
        subs.append(sub)
        results.append(result(sub, 4, 1.5, "graded" if i % 3 else "unreadable", "" if i % 3 else name))
    return subs, results


def test_every_export_neutralises_formulas(tmp_path):
    """OWASP CSV injection: a cell beginning with = + - @ tab or CR gets a leading quote, in
    every export; numbers stay numbers."""
    subs, results = evil_batch()
    exports.write_gradebook(assignment(), results, tmp_path / "final_grades.csv", subs)
    exports.write_canvas_csv(assignment(), subs, results, tmp_path / "canvas.csv")
    exports.write_moodle_csv(assignment(), subs, results, tmp_path / "moodle.csv", now=0)
    seen = 0
    for name in ("final_grades.csv", "canvas.csv", "moodle.csv"):
        rows = list(csv.reader((tmp_path / name).open(newline="", encoding="utf-8")))
        for row in rows:
            for value in row:
                assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), (name, value)
        text = (tmp_path / name).read_text(encoding="utf-8")
        seen += sum(text.count("'" + e) for e in EVIL[:4])
    assert seen >= 4 * 3  # each formula name, quoted, in each file
    grades = list(csv.reader((tmp_path / "final_grades.csv").open(newline="", encoding="utf-8")))
    assert grades[2][0] == '\'=HYPERLINK("http://x").ipynb'
    assert grades[2][1:5] == ["4", "1.5", "5.5", "55.0"]  # numbers untouched
    assert grades[4][0] == "'-2+3.ipynb"
    assert grades[6][0] == "\\x09x.ipynb"  # a tab is shown as an escape, not a cell start
    moodle = list(csv.reader((tmp_path / "moodle.csv").open(newline="", encoding="utf-8")))
    assert moodle[1][:3] == ["Participant 1000", '\'=HYPERLINK("http://x")', "5.5"]


def test_cell_keeps_numbers_and_plain_text():
    assert exports.cell(-1.5) == -1.5 and exports.cell(3) == 3
    assert exports.cell("-1.5") == "-1.5" and exports.cell("+2") == "+2" and exports.cell("1e-3") == "1e-3"
    assert exports.cell("-1.5+A1") == "'-1.5+A1"
    assert exports.cell("Jane Doe") == "Jane Doe"
    assert exports.cell("=1") == "'=1"


def test_names_that_are_not_utf8_are_readable(tmp_path):
    """A name from a Windows zip unpacked by unzip: os.fsdecode gives lone surrogates."""
    name = os.fsdecode(b"Jos\xe9.ipynb")
    sub = Submission(name, name, f"class/{name}", Path("x"), stem="Jos_")
    exports.write_gradebook(assignment(), [result(sub, 4, 6)], tmp_path / "final_grades.csv", [sub])
    exports.write_canvas_csv(assignment(), [sub], [result(sub, 4, 6)], tmp_path / "canvas.csv")
    exports.write_moodle_csv(assignment(), [sub], [result(sub, 4, 6)], tmp_path / "moodle.csv")
    for f in ("final_grades.csv", "canvas.csv", "moodle.csv"):
        text = (tmp_path / f).read_bytes().decode("utf-8")  # strict: valid UTF-8
        assert "Jos\\xe9.ipynb" in text, f
