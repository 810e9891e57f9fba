"""The harnesses run in this process, without a sandbox: grader.check in the student's kernel
(``student_check``, in the student's copy), and the tests, benchmarks and calibration
(``local_outcomes``). The same cases, data, seeds and budgets as the grader's sandbox runs,
judged by the same ``CHECKS``.
"""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import TYPE_CHECKING

from deepgrade.portable import wire

from .cases import cases
from .judging import CHECKS

if TYPE_CHECKING:
    from deepgrade.portable.feedback import Check


class Outcome:
    """What one harness call gave, with the attributes the checks read (like sandbox.StepOutcome)."""

    def __init__(self, status: str, value=None, error: dict | None = None, seconds: float = 0.0) -> None:
        self.status, self.value, self.error, self.seconds = status, value, error, seconds

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def local_outcomes(namespace: dict, questions: list[str] | None = None, seed: int | None = None) -> dict:
    """Run the harnesses in this process against ``namespace`` (tests, benchmarks, grader.check).

    Returns {call id: Outcome} with values passed through the wire format (each
    outcome's ``seconds`` is the call's wall time).
    """
    out = {}
    for qname, qcases in cases(seed).items():
        if questions is not None and qname not in questions:
            continue
        for case in qcases:
            if case.harness is None:
                continue  # plain numpy questions: compared by the engine, not trained here
            ns: dict = {}
            exec(compile(case.harness, "<deepgrade harness>", "exec"), ns)
            start = time.perf_counter()
            try:
                value = ns["run"](namespace, *case.args)
                outcome = Outcome("ok", value=wire.decode(wire.encode(value)))
            except Exception as exc:  # noqa: BLE001 - a failing model is an outcome
                outcome = Outcome("error", error={"type": type(exc).__name__, "message": str(exc)[:500], "where": []})
            outcome.seconds = time.perf_counter() - start
            out[f"{qname}/{case.name}"] = outcome
    return out


def student_check(name: str, functions: dict, explanations: dict) -> list[Check]:
    """grader.check for one question in the student's kernel: train and judge as the grader does."""
    assignment = SimpleNamespace(mistakes={mid: SimpleNamespace(explanation=e) for mid, e in explanations.items()})
    outcomes = local_outcomes(dict(functions), [name])
    return CHECKS[name](assignment, SimpleNamespace(name=name), outcomes)
