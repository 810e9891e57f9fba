"""Turn an assignment's cases into the calls the sandbox makes: inputs only, never answers."""

from __future__ import annotations

from ..course.assignment import Assignment, Case, Ref
from ..portable.wire import encode


def call_id(question: str, case: Case) -> str:
    return f"{question}/{case.name}"


def _arg(value, question: str):
    if isinstance(value, Ref):
        return {"r": [f"{question}/{value.case}", value.index]}
    return encode(value)


def build_calls(assignment: Assignment, questions: list[str] | None = None) -> list[dict]:
    """One call per case, in question order; Ref arguments stay inside the sandbox."""
    calls = []
    for q in assignment.questions:
        if questions is not None and q.name not in questions:
            continue
        for case in q.cases:
            call = {
                "id": call_id(q.name, case),
                "function": case.function or q.name,
                "args": [_arg(a, q.name) for a in case.args],
                "kwargs": {k: _arg(v, q.name) for k, v in case.kwargs.items()},
                "seconds": assignment.call_seconds if case.seconds is None else case.seconds,
            }
            if case.harness is not None:
                call["harness"] = case.harness
            if case.keep:
                call["keep"] = True
            if case.hidden:
                call["hidden"] = True  # the sandbox runs hidden calls after every public one
            returns = _returns(case)
            if returns is not None:
                call["returns"] = returns
            parts = assignment.uses.get(q.name)
            if parts and case.harness is None and (case.function or q.name) == q.name:
                call["parts"] = parts  # its calls to the student's other functions are recorded
            calls.append(call)
    return calls


def _returns(case: Case):
    """Only the compared parts of a tuple cross back (a cache stays in the sandbox)."""
    if isinstance(case.outputs, (list, tuple)):
        return [i for i, label in enumerate(case.outputs) if label is not None]
    return None
