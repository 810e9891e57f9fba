"""Grade one question in this process, without a sandbox: for measuring the fixtures.

``outcomes(assignment, question, functions)`` makes the calls the sandbox would make
(every case of the question, in order, Ref arguments resolved from kept values, inputs
copied and checked for changes) with plain Python functions, and returns the
StepOutcome values the sandbox would have sent back. ``share`` scores them with the
grader's own ``score.grade_question``, so a measurement made here is the grade's.

Trusted code only (the reference, the catalogue, the test corpus): nothing is isolated.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

from deepgrade.course.assignment import Assignment, Question, Ref
from deepgrade.grading.plan import call_id
from deepgrade.grading.score import QuestionResult, grade_question
from deepgrade.portable import wire
from deepgrade.sandbox import StepOutcome


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return True


def _returned(value: Any, outputs: Any) -> Any:
    """What crosses the wire: only a tuple's compared elements (as plan._returns says)."""
    if isinstance(outputs, (list, tuple)) and isinstance(value, (tuple, list)):
        value = tuple(v if i < len(outputs) and outputs[i] is not None else None for i, v in enumerate(value))
    return wire.decode(wire.encode(value))


def _writable(value: Any) -> Any:
    """A deep copy whose arrays can be written (the fixtures' arrays may be frozen)."""
    if isinstance(value, np.ndarray):
        return np.array(value, copy=True)
    if isinstance(value, dict):
        return {k: _writable(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_writable(v) for v in value)
    if isinstance(value, list):
        return [_writable(v) for v in value]
    return copy.deepcopy(value)


def _resolve(ref: Ref, kept: dict, question: str) -> Any:
    value = kept[f"{question}/{ref.case}"]
    return value if ref.index is None else value[ref.index]


def outcomes(assignment: Assignment, question: Question, functions: dict[str, Callable]) -> dict[str, StepOutcome]:
    """One StepOutcome per case of ``question``; ``functions``: name -> the callable to use
    (the reference's function for any name not given)."""
    kept: dict[str, Any] = {}
    out: dict[str, StepOutcome] = {}
    for case in question.cases:
        cid = call_id(question.name, case)
        name = case.function or question.name
        fn = functions.get(name) or getattr(assignment.reference, name)
        try:
            args = [_resolve(a, kept, question.name) if isinstance(a, Ref) else _writable(a) for a in case.args]
        except KeyError:
            out[cid] = StepOutcome("error", error={"type": "Skipped", "message": "an earlier call failed"})
            continue
        kwargs = {k: _writable(v) for k, v in case.kwargs.items()}
        before = [_writable(a) for a in args]
        try:
            with np.errstate(all="ignore"):
                value = fn(*args, **kwargs)
        except Exception as exc:  # the student's error, reported like the sandbox does
            out[cid] = StepOutcome("error", error={"type": type(exc).__name__, "message": str(exc)[:200]})
            continue
        if case.keep:
            kept[cid] = value
        mutated = [i for i, (a, b) in enumerate(zip(before, args)) if not _same(a, b)]
        out[cid] = StepOutcome("ok", value=_returned(value, case.outputs), mutated=mutated)
    return out


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
