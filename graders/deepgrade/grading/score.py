"""Stages 4-6 in the grading process: expected values, comparison, diagnosis, points.

Everything here runs in the grader's own process on plain arrays that came back from
the sandbox; the reference and the mistake catalogue's implementations run here too.
The judging and the points come from portable/ (``judge.judge``, ``scoring.score_question``),
the very code ``grader.check`` runs in the student's copy.
"""

from __future__ import annotations

from dataclasses import replace

from ..course.assignment import Assignment, Case, Question
from ..portable.feedback import Check
from ..portable.judge import CaseResult, judge
from ..portable.scoring import score_question
from ..sandbox import StepOutcome
from ..sandbox.budget import Deadline
from . import dependencies
from .plan import call_id, case_spec
from .results import QuestionResult


def grade_case(
    assignment: Assignment,
    question: Question,
    case: Case,
    outcome: StepOutcome,
    outcomes: dict[str, StepOutcome] | None = None,
) -> CaseResult:
    """One compared case's outcome, judged (expected outputs and the mistakes' outputs computed here).

    outcomes: every call's outcome (the intermediate of a case with ``own_input``; a part of a
    composite that never finished on its own checks)."""
    returned = outcome.ok and case.expect_error is None
    if not returned:
        alternative = None
    elif case.own_input is not None:
        alternative = dependencies.own_alternative_for(assignment, question, case, outcomes or {})
    else:
        alternative = dependencies.alternative_for(assignment, question, case, outcome.parts)
    cause = (
        None
        if outcome.ok
        else dependencies.cause_for(
            assignment, question, case, outcome.status, outcome.error, outcome.parts, outcomes or {}
        )
    )
    if not outcome.ok and not outcome.error:
        # a step with no error of its own (not run, timeout): its status says what happened
        outcome = replace(outcome, error={"type": outcome.status, "message": outcome.status, "where": []})
    # a public case that had to run after hidden calls (it depends on one) is shown as a
    # hidden check: judge reads outcome.hidden_phase
    return judge(
        case_spec(assignment, question, case),
        outcome,
        assignment.expected(case, question.name) if returned else None,
        assignment.mutant_outputs(case, question.name) if returned else {},
        explain=assignment.explanations,
        policy=assignment.policy,
        alternative=alternative,
        cause=cause,
    )


def out_of_time_case(
    assignment: Assignment, question: Question, case: Case, outcome: StepOutcome, deadline: Deadline
) -> CaseResult:
    """A case not judged because the submission's time budget had passed: failed, with the
    deadline's message (no expected value computed, no replay, nothing of the outcome shown)."""
    spec = case_spec(assignment, question, case)
    hidden = spec.hidden or outcome.hidden_phase
    label = ("hidden check: " if hidden else "") + spec.description  # as judge() names it
    expect_error = spec.expect_error
    weight = (
        assignment.policy.expected_error if expect_error else assignment.policy.case_weight(question.name, spec.outputs)
    )
    check = Check(f"{label}: not checked in time", False, weight, [deadline.message()], hidden=hidden)
    return CaseResult(label, hidden, [check], expect_error=expect_error)


def grade_question(
    assignment: Assignment,
    question: Question,
    outcomes: dict[str, StepOutcome],
    public_only: bool = False,
    others: dict[str, StepOutcome] | None = None,
    deadline: Deadline | None = None,
) -> QuestionResult:
    """The question's checks and points.

    public_only: score only the public cases (no hidden case, no extra check such as a
    consistency check that needs the grader's own calls): what ``grader.check`` reports.
    others: every call of the submission (a part's own outcomes name the cause of a composite's).
    deadline: the submission's (sandbox/budget.py), looked at before each case and before the extra
    checks; once it has passed, each case left fails with its message (what was judged keeps
    its points).
    """
    everything = {**(others or {}), **outcomes}
    results = []
    for case in question.cases:
        if not case.compare or (public_only and case.hidden):
            continue
        outcome = outcomes[call_id(question.name, case)]
        if deadline is not None and deadline.stops():
            results.append(out_of_time_case(assignment, question, case, outcome, deadline))
        else:
            results.append(grade_case(assignment, question, case, outcome, everything))
    extra: list[Check] = []
    if question.extra_check is not None and not public_only:
        if deadline is not None and deadline.stops():
            label = f"hidden check: {question.name}'s own checks: not made in time"
            extra = [Check(label, False, 1.0, [deadline.message()], hidden=True)]
        else:
            extra = question.extra_check(assignment, question, outcomes)
        for c in extra:
            c.extra = True
    points, checks = score_question(results, extra, question.points, assignment.policy, assignment.explanations)
    return QuestionResult(question.name, points, question.points, checks)
