"""A question's points from its checks: the groups' rules, then partial credit.

``score_question`` applies the rules within the public and the hidden group (so the public
checks earn the same whether the hidden ones are there or not), ``split_points`` says what the
public checks are worth in the grade. The one scorer of the grader and ``grader.check``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

try:  # the deepgrade package, or the student copy's package
    from .feedback import Check, explain_once
    from .judge import CaseResult
    from .policy import Policy
except ImportError:  # the sandbox: plain modules (isolation.BOOT)
    from feedback import Check, explain_once
    from judge import CaseResult
    from policy import Policy


NOT_YET = "not credited yet: no output is right so far"


def _group_checks(group: list[CaseResult], hidden: bool, policy: Policy) -> tuple[list[Check], list[Check]]:
    """One group's checks (public or hidden) with the question's rules applied: the cases'
    checks, and its "does not modify its inputs" check (if any case was compared)."""
    prefix = "hidden check: " if hidden else ""
    valued = [r for r in group if r.expect_error is None]
    right = any(r.right for r in valued) or not valued  # nothing to gate against: no gate
    checks: list[Check] = []
    for r in group:
        for c in r.checks:
            if r.expect_error is not None and c.passed and not right:
                # a function that raises everywhere must not earn the points for raising here
                c = replace(
                    c,
                    label=f"raises {r.expect_error} on {r.label}, but {NOT_YET}",
                    passed=False,
                    details=[
                        f"it raises {r.expect_error} as it should here; that is credited once "
                        "at least one of its outputs is right (a function that always raises earns nothing)"
                    ],
                )
            checks.append(c)
    if not valued:
        return checks, []
    returned = [r for r in valued if r.returned]
    mutated = [r for r in returned if r.mutated]
    label = f"{prefix}does not modify its inputs"
    if mutated:
        r = mutated[0]
        nm = Check(
            label,
            False,
            policy.no_mutation,
            [f"argument {r.mutated[0] + 1} was changed in place on {r.label}; work on a copy (x.copy())"],
            hidden=hidden,
        )
    elif not returned:
        nm = Check(
            f"{prefix}inputs: not checked for changes, no call returned",
            False,
            policy.no_mutation,
            hidden=hidden,
        )
    elif not right:
        nm = Check(
            f"{prefix}inputs left unchanged, but {NOT_YET}",
            False,
            policy.no_mutation,
            ["your function leaves its inputs alone; that is credited once at least one of its outputs is right"],
            hidden=hidden,
        )
    else:
        nm = Check(label, True, policy.no_mutation, hidden=hidden)
    return checks, [nm]


def score_question(
    results: list[CaseResult],
    extra: list[Check],
    points: float,
    policy: Policy,
    explain: dict[str, str],
) -> tuple[float, list[Check]]:
    """The question's checks and points: public group, hidden group, then extra checks.

    The rules apply within each group, so the public checks earn the same whether the
    hidden ones are there (grading) or not (``grader.check``).
    """
    checks: list[Check] = []
    after: list[Check] = []  # after every case, so that one failure on every case reads as one block
    for hidden in (False, True):
        group = [r for r in results if r.hidden is hidden]
        if group:
            case_checks, nm = _group_checks(group, hidden, policy)
            checks += case_checks
            after += nm
    checks += after + extra
    explain_once(checks, explain)
    return question_points(checks, points), checks


def question_points(checks: list[Check], points: float) -> float:
    """Partial credit: the question's points times the weight of the checks passed (the public
    checks' share fixed by the cases' weights: ``split_points``)."""
    if not any(c.extra for c in checks):
        total = sum(c.weight for c in checks) or 1.0
        return round(points * sum(c.weight for c in checks if c.passed) / total, 2)
    return round(split_points(checks, points).total, 2)


@dataclass
class PointsSplit:
    """A question's points between its public checks (what ``grader.check`` runs) and the rest."""

    public: float
    public_max: float
    hidden: float
    hidden_max: float

    @property
    def total(self) -> float:
        return self.public + self.hidden


def split_points(checks: list[Check], points: float, hidden_weight: float | None = None) -> PointsSplit:
    """The public checks are worth the question's points times their weight over the weight of
    every case's checks (public and hidden: fixed by the fixtures and the policy, whatever the
    student wrote); the hidden checks, with an assignment's own checks (``extra``), share the rest.
    With no extra check this is exactly points x (weight passed / weight of all).

    hidden_weight: the hidden cases' weight when the hidden checks are not in ``checks`` (the
    student copy's ``grader.check``, which runs only the public checks)."""
    public = [c for c in checks if not c.hidden]
    hidden = [c for c in checks if c.hidden]
    w_public = sum(c.weight for c in public)
    w_hidden = sum(c.weight for c in hidden)
    w_cases = hidden_weight if hidden_weight is not None else sum(c.weight for c in hidden if not c.extra)
    whole = w_public + (w_cases if w_cases > 0 else w_hidden)
    public_max = points * w_public / whole if whole > 0 else 0.0
    earned = public_max * sum(c.weight for c in public if c.passed) / w_public if w_public > 0 else 0.0
    hidden_max = points - public_max if whole > 0 else points
    got = hidden_max * sum(c.weight for c in hidden if c.passed) / w_hidden if w_hidden > 0 else 0.0
    return PointsSplit(earned, public_max, got, hidden_max)


def group_weight(policy: Policy, question: str, cases: list[tuple[Any, bool]]) -> float:
    """The weight of a group of cases' checks, known before any call: each case (outputs, expects
    an error) is worth its shape and values (or ``expected_error``), plus one "does not modify
    its inputs" check when a case returns values. What ``judge`` and ``score_question`` give."""
    total = sum(policy.expected_error if raises else policy.case_weight(question, outputs) for outputs, raises in cases)
    if any(not raises for _, raises in cases):
        total += policy.no_mutation
    return total
