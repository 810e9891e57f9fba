"""Stages 4-6 in the grading process: expected values, comparison, diagnosis, points.

Everything here runs in the grader's own process on plain arrays that came back from
the sandbox; the reference and the mistake catalogue's implementations run here too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .assignment import Assignment, Case, Question
from .compare import VALUES_WEIGHT, Check, error_check, explain_once, judge_case, question_points
from .plan import call_id
from .sandbox import StepOutcome

NO_MUTATION_WEIGHT = 1.0


@dataclass
class QuestionResult:
    name: str
    points: float
    max_points: float
    checks: list[Check] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "points": self.points,
            "max_points": self.max_points,
            "checks": [c.to_dict() for c in self.checks],
        }


def case_label(case: Case) -> str:
    return ("hidden check: " if case.hidden else "") + case.description


def grade_case(assignment: Assignment, question: Question, case: Case, outcome: StepOutcome) -> list[Check]:
    label = case_label(case)
    if case.expect_error is not None:
        raised = outcome.status == "error" and (outcome.error or {}).get("type") == case.expect_error.__name__
        detail = (
            [] if raised else [f"expected {case.expect_error.__name__} to be raised, but {_what_happened(outcome)}"]
        )
        return [
            Check(f"raises {case.expect_error.__name__} on {label}", raised, VALUES_WEIGHT, detail, hidden=case.hidden)
        ]
    if not outcome.ok:
        return [
            error_check(
                label,
                case.hidden,
                outcome.error or {"type": outcome.status, "message": outcome.status},
                _case_weight(case),
            )
        ]
    expected = assignment.expected(case, question.name)
    mutants = assignment.mutant_outputs(case, question.name)
    return judge_case(
        label,
        case.hidden,
        outcome.value,
        expected,
        case.outputs,
        mutants,
        assignment.explanations,
        case.rtol,
        case.atol,
    )


def _what_happened(outcome: StepOutcome) -> str:
    if outcome.ok:
        return "it returned normally"
    err = outcome.error or {}
    return f"it {'raised ' + err.get('type', '') if outcome.status == 'error' else outcome.status}".strip()


def _case_weight(case: Case) -> float:
    """A failed run costs what its checks would have earned: shape plus each part's values."""
    n_parts = 1
    if isinstance(case.outputs, (list, tuple)):
        n_parts = sum(len(p) if isinstance(p, dict) else 1 for p in case.outputs if p is not None)
    elif isinstance(case.outputs, dict):
        n_parts = len(case.outputs)
    return 1.0 + VALUES_WEIGHT * n_parts


def no_mutation_check(question: Question, outcomes: dict[str, StepOutcome]) -> Check | None:
    ran = [(c, outcomes[call_id(question.name, c)]) for c in question.cases if c.compare and c.expect_error is None]
    if not ran:
        return None
    ok_runs = [(c, o) for c, o in ran if o.ok]
    mutated = [(c, o) for c, o in ok_runs if o.mutated]
    if not ok_runs:
        return Check("does not modify its inputs", False, NO_MUTATION_WEIGHT, ["not checked: no call returned"])
    if mutated:
        c, o = mutated[0]
        return Check(
            "does not modify its inputs",
            False,
            NO_MUTATION_WEIGHT,
            [f"argument {o.mutated[0] + 1} was changed in place on {case_label(c)}; work on a copy (x.copy())"],
        )
    return Check("does not modify its inputs", True, NO_MUTATION_WEIGHT)


def grade_question(assignment: Assignment, question: Question, outcomes: dict[str, StepOutcome]) -> QuestionResult:
    checks: list[Check] = []
    for case in question.cases:
        if not case.compare:
            continue
        checks += grade_case(assignment, question, case, outcomes[call_id(question.name, case)])
    if question.extra_check is not None:
        checks += question.extra_check(assignment, question, outcomes)
    nm = no_mutation_check(question, outcomes)
    if nm is not None and nm.passed and not any(c.passed and c.weight >= VALUES_WEIGHT for c in checks):
        # leaving the inputs alone is worth something only next to a right answer
        nm = Check(nm.label, False, nm.weight, ["not credited until at least one output is right"])
    if nm is not None:
        checks.append(nm)
    explain_once(checks, assignment.explanations)
    return QuestionResult(question.name, question_points(checks, question.points), question.points, checks)


def missing_question(question: Question, reason: str) -> QuestionResult:
    return QuestionResult(question.name, 0.0, question.points, [Check("runs", False, 1.0, [reason])])
