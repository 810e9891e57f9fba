"""Fixtures for the `keras` assignment: check models trained by the grader.

Every model question runs a *harness* inside the sandbox: it builds the student's model,
trains it with fixed seeds, epochs and batch size on data sent as plain arrays, and returns
predictions on test inputs (never their labels), the training history and a plain
description of the layers. Accuracy, structure and learning curves are judged in the
grading process (``CHECKS``). Exercise 1's data pipeline is plain numpy, compared with the
reference by the engine.

This module is what the engine loads (``cases()``, ``CHECKS``), what calibration calls
(``local_outcomes``, ``measure``) and what grader.check calls in the student's copy
(``student_check``); the work is done in the folders beside it, one job per module:

    check/budgets.py     budgets (seed, epochs, batch) and thresholds: budgets(), read when called
    check/datasets.py    the data loaders (digits, GOOG, Seattle temperatures, text, images)
    check/generation.py  Exercise 2's fixed character model and expected texts
    check/cases.py       the graded calls
    check/judging/       the check functions (CHECKS), one module per exercise, and the
                         measurements calibration reads
    check/plots.py       learning curves and the price plot, attached to checks as PNG data
    harness/             the programs run in the sandbox, real modules (harness.program)

The folder is imported as a package (deepgrade.course.assignment.import_fixtures; in the student's
copy it is _deepgrade_check/), so its modules import each other relatively. Tests, benchmarks
and the notebook builder import those modules themselves: nothing is re-exported here.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING

from deepgrade.portable import wire
from deepgrade.portable.call_runner import StepOutcome, run_calls

from .check.cases import cases
from .check.judging import CHECKS, measure

if TYPE_CHECKING:
    from deepgrade.portable.feedback import Check

__all__ = ["CHECKS", "cases", "local_outcomes", "measure", "student_check"]


def local_outcomes(
    namespace: dict, questions: list[str] | None = None, seed: int | None = None
) -> dict[str, StepOutcome]:
    """The harness calls run in this process by the engine's call runner (grader.check, tests,
    benchmarks, calibration): the same cases, data, seeds and budgets as the grader's sandbox
    runs. {call id: StepOutcome}; each outcome's ``seconds`` is the call's wall time."""
    calls = [
        {
            "id": f"{qname}/{case.name}",
            "function": qname,
            "args": [wire.encode(a) for a in case.args],
            "harness": case.harness,
        }
        for qname, qcases in cases(seed).items()
        if questions is None or qname in questions
        for case in qcases
        if case.harness is not None  # plain numpy questions: compared by the engine, not trained here
    ]
    return run_calls(calls, dict(namespace))


def student_check(name: str, functions: dict, explanations: dict) -> list[Check]:
    """grader.check for one question in the student's kernel: train and judge as the grader does."""
    graded = cases()
    questions = {q: SimpleNamespace(name=q, cases=c) for q, c in graded.items()}  # the checks read the inputs sent
    assignment = SimpleNamespace(
        mistakes={mid: SimpleNamespace(explanation=e) for mid, e in explanations.items()},
        question=questions.__getitem__,
    )
    outcomes = local_outcomes(dict(functions), [name])
    return CHECKS[name](assignment, questions[name], outcomes)
