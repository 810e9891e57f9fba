"""Grade one question in this process, without a sandbox: for measuring the fixtures.

``outcomes(assignment, question, functions)`` makes the calls the sandbox would make
(plan.build_calls: every case of the question, in order, Ref arguments resolved from kept
values, inputs checked for changes) with the engine's one in-process runner,
``portable.call_runner.run_calls``, and returns the StepOutcome values it gives. ``share``
scores them with the grader's own ``score.grade_question``, so a measurement made here is the grade's.

Trusted code only (the reference, the catalogue, the test corpus): nothing is isolated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from deepgrade.course.assignment import Assignment, Question
from deepgrade.grading.plan import build_calls
from deepgrade.grading.score import QuestionResult, grade_question
from deepgrade.portable.call_runner import run_calls
from deepgrade.sandbox import StepOutcome


def outcomes(assignment: Assignment, question: Question, functions: dict[str, Callable]) -> dict[str, StepOutcome]:
    """One StepOutcome per case of ``question``; ``functions``: name -> the callable to use
    (the reference's function for any name not given)."""
    reference = {k: v for k, v in vars(assignment.reference).items() if callable(v)} if assignment.reference else {}
    with np.errstate(all="ignore"):
        return run_calls(build_calls(assignment, [question.name]), {**reference, **functions}, kind=StepOutcome)


def grade(assignment: Assignment, question: Question, functions: dict[str, Callable]) -> QuestionResult:
    return grade_question(assignment, question, outcomes(assignment, question, functions))


def share(assignment: Assignment, question: Question, functions: dict[str, Callable]) -> float:
    """The fraction of the question's points these functions earn."""
    return grade(assignment, question, functions).points / question.points


def _zeros_like(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return np.zeros(value.shape)
    if isinstance(value, dict):
        return {k: _zeros_like(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return tuple(_zeros_like(v) for v in value)
    if isinstance(value, (float, int, np.generic)):
        return 0.0
    return value


def shape_only_outcomes(assignment: Assignment, question: Question) -> dict[str, StepOutcome]:
    """Every call returns zeros of the reference's shapes (a case that must raise returns too)."""
    out = {}
    for cid, o in outcomes(assignment, question, {}).items():
        value = np.zeros(1) if not o.ok else _zeros_like(o.value)
        out[cid] = StepOutcome("ok", value=value)
    return out


def shape_only_share(assignment: Assignment, question: Question) -> float:
    return grade_question(assignment, question, shape_only_outcomes(assignment, question)).points / question.points
