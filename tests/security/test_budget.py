"""The grader's own checking counts against a submission's time budget.

One deadline (budget.py) runs from the sandbox's start to the last check. The checks look
at it between questions and between cases; once it has passed, what is left fails with the
deadline's message and earns nothing, what was judged keeps its points, and the row says
why. The clock is injected: every outcome here is decided by the test, not by the machine's
speed. The largest values a notebook may return, checked late, are in test_grader_memory.py.
"""

from __future__ import annotations

import dataclasses

import pytest

from deepgrade.course import assignment as asg
from deepgrade.grading import pipeline, score
from deepgrade.sandbox import RunResult, budget
from deepgrade.sandbox.stored import StoredError
from helpers import ROOT, filled_notebook

MESSAGE = "your outputs took too long to check: "


class Clock:
    """A clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def cnn_run(tmp_path_factory):
    """The reference notebook's run in the sandbox, once (the checks below score it again)."""
    import nbformat

    a = asg.load("cnn", ROOT)
    path = tmp_path_factory.mktemp("budget") / "cnn.ipynb"
    nbformat.write(filled_notebook("cnn"), path)
    result, run = pipeline.grade_notebook(a, path)
    assert result.points == result.max_points, [(q.name, q.points) for q in result.questions]
    return a, path, run


def _then_late(real, clock: Clock, seconds: float):
    """``real``, after which the clock jumps well past a budget of ``seconds``: the first call
    is judged in time, every later one is late."""

    def first_then_late(*args, **kwargs):
        result = real(*args, **kwargs)
        clock.now += 10 * seconds
        return result

    return first_then_late


def _details(q) -> list[str]:
    return [d for c in q.checks for d in c.details]


def test_the_sandbox_reports_what_it_spent(cnn_run):
    a, _, run = cnn_run
    assert 0 < run.seconds < a.total_seconds
    again = RunResult.from_dict(run.to_dict())
    assert again.seconds == run.seconds


@pytest.mark.parametrize("seconds", [-1, "1", None, 1e12, True])
def test_a_stored_run_with_malformed_seconds_is_not_trusted(cnn_run, seconds):
    stored = cnn_run[2].to_dict()
    stored["seconds"] = seconds
    with pytest.raises(StoredError):
        RunResult.from_dict(stored)


def test_a_run_stored_without_seconds_has_spent_nothing(cnn_run):
    stored = cnn_run[2].to_dict()
    del stored["seconds"]
    assert RunResult.from_dict(stored).seconds == 0.0


def test_questions_after_the_deadline_get_no_points_and_the_reason(cnn_run, monkeypatch):
    """The clock jumps past the budget while the first question is checked: that question
    keeps its points, every later one gets 0 and the message, and the row says why."""
    a, path, run = cnn_run
    clock = Clock()
    monkeypatch.setattr(pipeline, "grade_question", _then_late(pipeline.grade_question, clock, a.total_seconds))
    result, _ = pipeline.grade_notebook(a, path, run, clock=clock)
    first, *rest = result.questions
    assert first.points == first.max_points > 0
    assert rest
    for q in rest:
        assert q.points == 0, q
        assert any(d.startswith(MESSAGE) and f"of your {a.total_seconds:g} s budget" in d for d in _details(q))
    assert any("ran out while the outputs were checked" in n for n in result.notes), result.notes
    assert "timeout" in result.incidents
    assert result.status == "graded"


def test_cases_after_the_deadline_fail_and_the_cases_before_keep_their_credit(cnn_run, monkeypatch):
    """Within a question: the deadline passes after its first case; that case's checks are
    kept as judged, every later case fails with the message, the points are partial."""
    a, _, run = cnn_run
    q = max(a.questions, key=lambda q: sum(c.compare for c in q.cases))
    compared = [c for c in q.cases if c.compare]
    assert len(compared) >= 2, q.name
    clock = Clock()
    deadline = budget.Deadline(a.total_seconds, clock)
    monkeypatch.setattr(score, "grade_case", _then_late(score.grade_case, clock, a.total_seconds))
    outcomes = {pipeline.call_id(q.name, c): run.calls[pipeline.call_id(q.name, c)] for c in q.cases}
    result = score.grade_question(a, q, outcomes, others=run.calls, deadline=deadline)
    late = [c for c in result.checks if c.label.endswith("not checked in time")]
    assert len(late) == len(compared) - 1
    assert all(not c.passed and c.details[0].startswith(MESSAGE) for c in late)
    # the first case's own checks ("shape on ...", "values on ..."), judged and right
    judged = [c for c in result.checks if c not in late and f"on {compared[0].description}" in c.label]
    assert len(judged) == 2 and all(c.passed for c in judged), [c.label for c in result.checks]
    assert 0 < result.points < result.max_points
    assert deadline.stopped


def test_extra_checks_after_the_deadline_are_not_made():
    """An assignment's own checks (rnn's consistency checks replay the student's functions)
    are not called once the deadline has passed."""
    a = asg.load("rnn", ROOT)
    q = next(q for q in a.questions if q.extra_check is not None)
    called = []
    q = dataclasses.replace(q, extra_check=lambda *args: called.append(1) or [], cases=[])
    clock = Clock()
    deadline = budget.Deadline(1.0, clock)
    clock.now = 2.0
    result = score.grade_question(a, q, {}, deadline=deadline)
    assert not called
    assert [c.extra for c in result.checks] == [True]
    assert result.checks[0].details[0].startswith(MESSAGE) and not result.checks[0].passed


def test_a_run_that_used_its_whole_budget_is_still_checked(cnn_run):
    """Checking gets at least budget.check_floor(budget) after the sandbox, whatever the
    sandbox used: honest outputs of a run that took its whole budget keep their points."""
    a, path, run = cnn_run
    slow = dataclasses.replace(run, seconds=a.total_seconds + 5)
    clock = Clock()
    result, _ = pipeline.grade_notebook(a, path, slow, clock=clock)
    assert result.points == result.max_points
    assert not any("ran out" in n for n in result.notes)
    # but not a moment longer than the floor
    late = budget.Deadline(a.total_seconds, clock, spent=slow.seconds).for_checking()
    floor = budget.check_floor(a.total_seconds)
    assert floor >= budget.CHECK_FLOOR_SECONDS
    clock.now += floor - 0.01
    assert not late.stops()
    clock.now += 0.02
    assert late.stops() and late.stopped


def test_the_floor_is_ten_seconds_or_a_tenth_of_the_budget():
    assert budget.check_floor(30) == 10.0
    assert budget.check_floor(240) == 24.0


def test_the_deadline_message_names_only_the_grader_figures():
    clock = Clock()
    d = budget.Deadline(90, clock, spent=12.5).for_checking(floor=10)
    assert d.seconds == 90 and d.budget == 90
    clock.now = 80
    assert d.expired()
    assert d.message() == (
        "your outputs took too long to check: 92.5 s of your 90 s budget "
        "(running the notebook and checking its outputs) were used before this check; it was not made"
    )


def test_the_sandbox_refuses_a_deadline_it_cannot_wait_on():
    from deepgrade import sandbox

    with pytest.raises(ValueError):
        sandbox.run([(0, "x = 1")], [], deadline=budget.Deadline(10, Clock()))


def test_the_grader_notes_nothing_when_everything_was_checked_in_time(cnn_run):
    a, path, run = cnn_run
    result, _ = pipeline.grade_notebook(a, path, run, clock=Clock())
    assert result.points == result.max_points
    assert "timeout" not in result.incidents
    assert not any("ran out" in n for n in result.notes)
