"""Stages 4-6 in the grading process: expected values, comparison, diagnosis, points.

Everything here runs in the grader's own process on plain arrays that came back from
the sandbox; the reference and the mistake catalogue's implementations run here too.
The judging and the points come from compare.py (``judge_call``, ``score_question``),
the very code ``grader.check`` runs in the student's copy.
"""

from __future__ import annotations

from ..course.assignment import Assignment, Case, Question
from ..portable.feedback import Check
from ..portable.judge import CaseResult, judge_call
from ..portable.scoring import score_question
from ..sandbox import StepOutcome
from . import dependencies
from .plan import call_id
from .results import QuestionResult


def case_label(case: Case) -> str:
    return ("hidden check: " if case.hidden else "") + case.description


def grade_case(
    assignment: Assignment,
    question: Question,
    case: Case,
    outcome: StepOutcome,
    outcomes: dict[str, StepOutcome] | None = None,
) -> CaseResult:
    """One compared case's outcome, judged (expected and mutant outputs computed here).

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
    # a public case that had to run after hidden calls (it depends on one) could carry what
    # they saw: it is shown as a hidden check
    hidden = case.hidden or outcome.hidden_phase
    return judge_call(
        question.name,
        ("hidden check: " if hidden and not case.hidden else "") + case_label(case),
        hidden,
        case.outputs,
        case.rtol,
        case.atol,
        case.expect_error.__name__ if case.expect_error is not None else None,
        outcome.ok,
        outcome.value,
        outcome.error or {"type": outcome.status, "message": outcome.status, "where": []},
        outcome.mutated,
        assignment.expected(case, question.name) if returned else None,
        assignment.mutant_outputs(case, question.name) if returned else {},
        assignment.explanations,
        assignment.policy,
        alternative,
        cause,
    )


def grade_question(
    assignment: Assignment,
    question: Question,
    outcomes: dict[str, StepOutcome],
    public_only: bool = False,
    others: dict[str, StepOutcome] | None = None,
) -> QuestionResult:
    """The question's checks and points.

    public_only: score only the public cases (no hidden case, no extra check such as a
    consistency check that needs the grader's own calls): what ``grader.check`` reports.
    others: every call of the submission (a part's own outcomes name the cause of a composite's).
    """
    everything = {**(others or {}), **outcomes}
    results = [
        grade_case(assignment, question, case, outcomes[call_id(question.name, case)], everything)
        for case in question.cases
        if case.compare and not (public_only and case.hidden)
    ]
    extra: list[Check] = []
    if question.extra_check is not None and not public_only:
        extra = question.extra_check(assignment, question, outcomes)
        for c in extra:
            c.extra = True
    points, checks = score_question(results, extra, question.points, assignment.policy, assignment.explanations)
    return QuestionResult(question.name, points, question.points, checks)
