"""summary.py: statistics of graded submissions only, the other rows counted apart, a row
per submission, incidents that name their submissions, and no need for matplotlib.
Results are built by hand; expected numbers are hand calculations."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from deepgrade.course.contract import Contract
from deepgrade.grading.intake import Submission
from deepgrade.grading.pipeline import SubmissionResult
from deepgrade.grading.score import QuestionResult
from deepgrade.reports import summary

QUESTIONS = [SimpleNamespace(name="relu", points=4.0), SimpleNamespace(name="softmax", points=6.0)]


def assignment(**toml):
    """A stand-in with the assignment's typed contract (``toml``: its keys, e.g. pass_percent)."""
    return SimpleNamespace(
        name="cnn",
        title="CNN",
        max_points=10.0,
        questions=QUESTIONS,
        contract=Contract(Path("assignment.toml"), "cnn", "CNN", "cnn.ipynb", {"relu": 4.0, "softmax": 6.0}, **toml),
        mistakes={},
        notebook=Path("cnn.ipynb"),
    )


def case(name, sid, relu, softmax, status="graded", reason="", incidents=(), layout="moodle", stem=None):
    sub = Submission(sid or name, name, f"export.zip:{name}/cnn.ipynb", Path("x"), stem=stem or name, layout=layout)
    if status in ("duplicate", "skipped"):
        sub.status = status
    qs = [QuestionResult("relu", relu, 4.0), QuestionResult("softmax", softmax, 6.0)]
    r = SubmissionResult(sub.source, "cnn", qs, status=status, reason=reason, incidents=list(incidents))
    return sub, r


def batch():
    cases = [
        case("Ann", "1", 4, 6),  # 100 %
        case("Ben", "2", 4, 1),  # 50 %
        case("Cat", "3", 2, 0, incidents=["timeout"]),  # 20 %
        case("Dan", "4", 0, 3, incidents=["timeout", "memory"]),  # 30 %
        case("Eve", "5", 0, 0, "unreadable", "the file is empty"),
        case("Fay", "6", 0, 0, "wrong-assignment", "defines none of ...", incidents=["crashed"]),
        case("Ann", "1", 0, 0, "duplicate", "another file of the same student was graded: x", stem="Ann-duplicate"),
        case("late/x.py", "", 0, 0, "skipped", "not a notebook (x.py)", layout="path", stem="late_x.py-skipped"),
        case("Gus", "7", 0, 0, "error", "the grader failed: KeyError"),
    ]
    return [c[0] for c in cases], [c[1] for c in cases]


def test_statistics_cover_graded_submissions_only():
    subs, results = batch()
    s = summary.class_summary(assignment(), subs, results)
    assert s["rows"] == 9 and s["graded"] == 4
    assert s["not_graded"] == {"unreadable": 1, "wrong-assignment": 1, "duplicate": 1, "skipped": 1, "error": 1}
    assert s["percents"] == [100.0, 50.0, 20.0, 30.0]
    assert s["mean_percent"] == 50.0  # (100 + 50 + 20 + 30) / 4
    assert s["median_percent"] == 40.0  # (30 + 50) / 2
    assert s["pass_percent"] == 50.0 and s["pass_rate"] == 0.5  # Ann and Ben
    assert s["histogram"] == [0, 0, 1, 1, 0, 1, 0, 0, 0, 1]
    assert s["questions"]["relu"] == {"points": 4.0, "pass_rate": 0.5, "mean": 2.5}  # 4, 4, 2, 0
    assert s["questions"]["softmax"] == {"points": 6.0, "pass_rate": 0.25, "mean": 2.5}  # 6, 1, 0, 3


def test_pass_percent_from_the_assignment():
    subs, results = batch()
    assert summary.class_summary(assignment(pass_percent=25), subs, results)["pass_rate"] == 0.75


def test_incidents_name_their_submissions_and_every_row_is_listed():
    subs, results = batch()
    s = summary.class_summary(assignment(), subs, results)
    assert s["incidents"] == {"timeout": ["Cat (3)", "Dan (4)"], "memory": ["Dan (4)"], "crashed": ["Fay (6)"]}
    table = s["students"]
    assert [(t["name"], t["id"], t["status"], t["points"]) for t in table][:3] == [
        ("Ann", "1", "graded", 10.0),
        ("Ben", "2", "graded", 5.0),
        ("Cat", "3", "graded", 2.0),
    ]
    assert table[7] == {
        "name": "late/x.py",
        "id": "",
        "file": "export.zip:late/x.py/cnn.ipynb",
        "points": 0.0,
        "max_points": 10.0,
        "status": "skipped",
        "reason": "not a notebook (x.py)",
        "incidents": [],
        "feedback": "feedback/late_x.py-skipped.html",
    }


def test_summary_html(tmp_path):
    subs, results = batch()
    summary.write_class_summary(assignment(), subs, results, tmp_path)
    page = (tmp_path / "summary.html").read_text(encoding="utf-8")
    assert "9 row(s): 4 graded; not graded, counted apart: 1 duplicate, 1 error, 1 skipped, 1 unreadable, " in page
    assert "Mean 50%, median 40%, 50% at or above 50%." in page
    assert "<li>timeout (2): Cat (3), Dan (4)</li>" in page
    assert "<td>Fay</td><td>6</td>" in page and "<a href='feedback/Ann-duplicate.html'>" in page
    assert "<svg" in page
    assert json.loads((tmp_path / "summary.json").read_text())["graded"] == 4


def test_summary_without_matplotlib(tmp_path, monkeypatch):
    """matplotlib is optional: the page keeps its SVG histogram and says why there is no PNG."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    (tmp_path / "histogram.png").write_bytes(b"stale")
    subs, results = batch()
    summary.write_class_summary(assignment(), subs, results, tmp_path)
    page = (tmp_path / "summary.html").read_text(encoding="utf-8")
    assert "<svg" in page and "matplotlib is not installed" in page
    assert not (tmp_path / "histogram.png").exists()


def test_with_matplotlib_a_png_too(tmp_path):
    pytest.importorskip("matplotlib")
    subs, results = batch()
    summary.write_class_summary(assignment(), subs, results, tmp_path)
    assert (tmp_path / "histogram.png").read_bytes().startswith(b"\x89PNG")
    assert "matplotlib is not installed" not in (tmp_path / "summary.html").read_text(encoding="utf-8")


def test_no_report_module_imports_matplotlib():
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "import deepgrade.reports.summary, deepgrade.batch.run, deepgrade.reports.exports, deepgrade.reports.report\n"
        "print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "ok", out.stderr


def test_no_graded_submission():
    subs, results = batch()
    s = summary.class_summary(assignment(), subs[4:], results[4:])
    assert s["graded"] == 0 and s["mean_percent"] == 0.0 and s["pass_rate"] == 0.0
    assert s["histogram"] == [0] * 10


def test_common_mistakes_most_students_first_ties_by_id():
    """Counts by hand: b_sign and a_transpose two students each, c_axis one; the tie is
    broken by id, whatever order the diagnoses' sets had in this process."""
    from deepgrade.portable.feedback import Check

    subs, results = batch()
    diagnosed = {"Ann": ["b_sign", "c_axis"], "Ben": ["a_transpose", "b_sign"], "Cat": ["a_transpose"]}
    for sub, r in zip(subs, results):
        for mid in diagnosed.get(sub.name, []) if r.status == "graded" else []:
            r.questions[0].checks.append(Check("relu output", False, 1.0, [], [mid]))
    s = summary.class_summary(assignment(), subs, results)
    assert [(m["id"], m["students"]) for m in s["common_mistakes"]] == [
        ("a_transpose", 2),
        ("b_sign", 2),
        ("c_axis", 1),
    ]
