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
