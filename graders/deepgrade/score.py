"""Stages 4-6 in the grading process: expected values, comparison, diagnosis, points.

Everything here runs in the grader's own process on plain arrays that came back from
the sandbox; the reference and the mistake catalogue's implementations run here too.
The judging and the points come from compare.py (``judge_call``, ``score_question``),
the very code ``grader.check`` runs in the student's copy.
"""

from __future__ import annotations

import numpy as np

from . import composite
from .assignment import Assignment, Case, Question
from .plan import call_id
from .portable.compare import (
    Alternative,
    CaseResult,
    Check,
    judge_call,
    own_alternative,
    same_output,
    score_question,
    wrong_intermediate,
)
from .results import QuestionResult
from .sandbox import StepOutcome


def case_label(case: Case) -> str:
    return ("hidden check: " if case.hidden else "") + case.description


def own_alternative_for(
    assignment: Assignment, question: Question, case: Case, outcomes: dict[str, StepOutcome]
) -> Alternative | None:
    """What a case with ``own_input`` also accepts, from the intermediate the student's own
    earlier call returned. Public cases: the pairs the student copy ships (so grader.check
    judges them exactly so); hidden cases: what the reference returns on the student's own
    intermediate, computed here."""
    spec = case.own_input
    if spec is None:
        return None
    producer = assignment.producer(question, case)
    got = outcomes.get(call_id(question.name, producer))
    own = None
    if got is not None and got.ok:
        own = got.value
        if spec.index is not None:
            own = own[spec.index] if isinstance(own, tuple) and len(own) > spec.index else None
    reference = assignment.own_reference(question, case)
    candidates: list = []
    if wrong_intermediate(own, reference, case.rtol, case.atol):
        # public cases: the pairs the student copy ships, so grader.check judges them alike;
        # an intermediate none of them matches (a wrong forward in no catalogue) is judged
        # here with the reference, as hidden cases are: a right function never loses points
        # to a wrong one. grader.check cannot do that: it says so and gives less, never more.
        candidates = list(assignment.own_candidates(question, case)) if not case.hidden else []
        # (a forward that returns zeros ignores its input: it makes no backward right)
        try:
            degenerate = not case.hidden and not np.any(np.asarray(own, dtype=np.float64))
        except (TypeError, ValueError):  # not numbers: nothing to judge a backward on
            degenerate = True
        if not degenerate and not any(same_output(own, c[0], case.rtol, case.atol) for c in candidates):
            try:
                candidates.append(
                    (own, assignment.own_expected(question, case, own), assignment.own_mutants(question, case, own))
                )
            except Exception:  # the reference cannot run on it (e.g. it overflows): no alternative
                pass
    return own_alternative(
        case.function or question.name,
        producer.function or question.name,
        spec.what,
        own,
        reference,
        candidates,
        case.rtol,
        case.atol,
        spec.see,
    )


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
        alternative = own_alternative_for(assignment, question, case, outcomes or {})
    else:
        alternative = composite.alternative_for(assignment, question, case, outcome.parts)
    cause = (
        None
        if outcome.ok
        else composite.cause_for(
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
