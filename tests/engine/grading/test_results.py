"""results.py: every result type round-trips through its dict, and a submission that was not
graded looks the same wherever it was refused (the pipeline, the batch, a grader failure,
Gradescope): 0 points, every question failed with the reason."""

from __future__ import annotations

import json

from deepgrade.batch.executors import grade_one
from deepgrade.course import assignment as asg
from deepgrade.grading.pipeline import grade_file
from deepgrade.grading.results import QuestionResult, SubmissionResult, attachment, check_from_dict
from deepgrade.portable.feedback import Check
from deepgrade.publish import gradescope
from helpers import ROOT

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16  # the signature is what is checked


def _result() -> SubmissionResult:
    checks = [
        Check("public: 3x3 input", True, 2.0, ["ok"], [], False, [attachment("curves", PNG)]),
        Check("hidden check: 5x5 input", False, 1.5, ["2 of 25 values differ"], ["flipped_kernel"], True),
    ]
    return SubmissionResult(
        "alice.ipynb",
        "cnn",
        [QuestionResult("conv2d", 3.5, 5.0, checks), QuestionResult("relu", 1.0, 1.0)],
        status="graded",
        notes=["cell 3: NameError"],
        isolation="bubblewrap",
        sha256="ab" * 32,
        student="alice",
        incidents=["timeout"],
    )


def test_every_result_type_round_trips_through_json():
    r = _result()
    back = SubmissionResult.from_dict(json.loads(json.dumps(r.to_dict())))
    assert back == r
    assert (back.points, back.max_points) == (4.5, 6.0)  # 3.5 + 1 of 5 + 1
    q = r.questions[0]
    assert QuestionResult.from_dict(json.loads(json.dumps(q.to_dict()))) == q
    assert check_from_dict(q.checks[1].to_dict()) == q.checks[1]


def test_a_stored_check_keeps_only_well_formed_attachments():
    d = _result().questions[0].checks[0].to_dict()
    d["attachments"].append({"title": "x", "media_type": "text/html", "data": "PHNjcmlwdD4="})
    assert check_from_dict(d).attachments == [attachment("curves", PNG)]


def _not_graded_shape(r: SubmissionResult, a: asg.Assignment, reason: str) -> None:
    assert r.points == 0 and r.max_points == a.max_points and r.reason == reason
    assert [q.name for q in r.questions] == [q.name for q in a.questions]
    for q in r.questions:
        assert [(c.label, c.passed, c.details) for c in q.checks] == [("runs", False, [f"not graded: {reason}"])]


def test_not_graded_is_one_shape_in_the_pipeline_the_batch_and_gradescope(tmp_path):
    a = asg.load("cnn", ROOT)
    empty = tmp_path / "empty.ipynb"
    empty.write_bytes(b"")
    unreadable = grade_file(a, empty)
    assert unreadable.status == "unreadable"
    _not_graded_shape(unreadable, a, unreadable.reason)

    made = SubmissionResult.not_graded(a, "x.ipynb", "duplicate", "another file of the same student")
    _not_graded_shape(made, a, "another file of the same student")
    assert SubmissionResult.from_dict(made.to_dict()) == made

    # Gradescope: the same result, as results.json (one failed test per question)
    data = gradescope.not_graded("No notebook was found.", a)
    assert data["score"] == 0 and "No notebook was found." in data["output"]
    assert [(t["name"], t["score"], t["max_score"]) for t in data["tests"]] == [
        (q.name, 0.0, q.points) for q in a.questions
    ]
    assert data == gradescope.results_json(SubmissionResult.not_graded(a, "", "error", "No notebook was found."))


def test_a_grader_failure_is_a_not_graded_row_without_questions(tmp_path):
    data = grade_one("no-such-assignment", str(ROOT), str(tmp_path / "x.ipynb"), "bob")
    r = SubmissionResult.from_dict(data)
    assert (r.status, r.assignment, r.student, r.questions) == ("error", "no-such-assignment", "bob", [])
    assert r.reason.startswith("the grader failed: KeyError")
