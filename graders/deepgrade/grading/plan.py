"""Turn an assignment's cases into case specifications and the calls the sandbox makes.

``case_spec`` is the one place a ``Case`` becomes a ``portable.spec.CaseSpec``: the sandbox plan
(``build_calls``: each spec's ``call()``, inputs only, never answers) and the student copy
(``student.public_data``: each public spec's ``to_dict()``) both use it.
"""

from __future__ import annotations

from ..course.assignment import Assignment, Case, Question, Ref
from ..portable.spec import CaseSpec, case_id
from ..portable.wire import encode


def call_id(question: str, case: Case) -> str:
    return case_id(question, case.name)


def _arg(value, question: str):
    if isinstance(value, Ref):
        return {"r": [case_id(question, value.case), value.index]}
    return encode(value)


def case_spec(assignment: Assignment, question: Question, case: Case) -> CaseSpec:
    """The case's specification: its inputs (Ref arguments as refs to a kept value) and how it is
    judged. Memoised on the assignment (grading judges every case of every submission)."""
    return assignment._memo("case_spec", case, question.name, lambda: _spec(assignment, question, case))


def _spec(assignment: Assignment, question: Question, case: Case) -> CaseSpec:
    function = case.function or question.name
    parts = assignment.uses.get(question.name) or []
    return CaseSpec(
        question=question.name,
        name=case.name,
        function=function,
        description=case.description,
        args=[_arg(a, question.name) for a in case.args],
        kwargs={k: _arg(v, question.name) for k, v in case.kwargs.items()},
        seconds=assignment.call_seconds if case.seconds is None else case.seconds,
        keep=case.keep,
        hidden=case.hidden,
        compare=case.compare,
        outputs=case.outputs,
        returns=_returns(case),
        rtol=case.rtol,
        atol=case.atol,
        expect_error=case.expect_error.__name__ if case.expect_error is not None else None,
        harness=case.harness,
        # a plain call of the question's own function: its calls to the student's other functions are recorded
        parts=list(parts) if case.harness is None and function == question.name else [],
    )


def build_calls(assignment: Assignment, questions: list[str] | None = None) -> list[dict]:
    """One call per case, in question order; Ref arguments stay inside the sandbox. Made afresh
    (not the memoised spec): the batch's fingerprint hashes it and sees a fixture changed in place."""
    return [
        _spec(assignment, q, case).call()
        for q in assignment.questions
        if questions is None or q.name in questions
        for case in q.cases
    ]


def _returns(case: Case) -> list[int] | None:
    """Only the compared parts of a tuple cross back (a cache stays in the sandbox)."""
    if isinstance(case.outputs, (list, tuple)):
        return [i for i, label in enumerate(case.outputs) if label is not None]
    return None
