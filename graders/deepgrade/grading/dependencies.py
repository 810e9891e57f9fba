"""A function judged on what the student's other functions made, in the grader's process.

Own input (``assignment.OwnInput``: rnn_backward reads the student's own forward's cache) and
parts (assignment.toml ``[uses]``: cnn_forward calls the student's conv2d, ...): one rule,
a second expected value the case accepts (``judge.Alternative``); the student copy's side of
both is ``portable/dependencies.py``.


A question's function that calls the student's other functions (assignment.toml ``[uses]``:
``cnn_forward`` calls ``conv2d``, ``relu``, ...) is right when it equals the reference, or when it
equals the reference composition over the student's parts as they are: a right ``cnn_forward``
over a wrong ``conv2d`` keeps its points, and the mistake is charged once, under ``conv2d``.

The sandbox records every call the student's function makes to its parts (``portable/dependencies.py``:
arguments and what came back, as plain values). Here the reference composite is replayed with
its parts answering from those records: a call with the same arguments as a recorded one
returns what the student's part returned; any other call is the reference's own. The reference
never enters the sandbox, and nothing recorded is executed: records are only values.

The student copy has no reference: for its public cases the grader ships, per catalogued
mistake of each part, the trace of that part's calls in the reference composition with the
mistake in place and what the composite then returns (``candidates``), so ``grader.check``
judges a right composite over a catalogued wrong part as the grade does.
"""

from __future__ import annotations

import copy
import inspect
import types
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..course.assignment import Assignment, Case, Question
from ..portable import wire
from ..portable.compare import same_output
from ..portable.dependencies import (
    Record,
    alternative,
    bound_values,
    degenerate,
    exception_name,
    missing_part,
    own_alternative,
    same_value,
    wrong_intermediate,
)
from ..portable.judge import Alternative
from ..portable.status import StepStatus
from .plan import call_id


class PartRaised(Exception):
    """The replay reached a part call whose recorded answer is an exception."""

    def __init__(self, part: str, error: str) -> None:
        super().__init__(part)
        self.part, self.error = part, error


@dataclass
class Replay:
    """The reference composition over the student's recorded parts.

    value: what it returns; wrong: the parts whose recorded answers differ from the reference
    part on the same arguments (in the order met); raised: (part, exception type) where a
    recorded part raised; failed: the reference itself raised on the recorded values."""

    value: Any = None
    wrong: list[str] = field(default_factory=list)
    raised: tuple[str, str] | None = None
    failed: bool = False


def _patched(function: types.FunctionType, scope: dict) -> types.FunctionType:
    """``function`` with ``scope`` as its globals: its calls to other module functions go there."""
    patched = types.FunctionType(
        function.__code__, scope, function.__name__, function.__defaults__, function.__closure__
    )
    patched.__kwdefaults__ = function.__kwdefaults__
    return patched


def _scope(reference: types.ModuleType, parts: list[str], answer) -> dict:
    """A copy of the reference module's namespace in which each part is ``answer(name, original,
    patched)``; the reference's own functions see this namespace too (a part of a part)."""
    scope = dict(vars(reference))
    for name in parts:
        original = getattr(reference, name)
        scope[name] = answer(name, original, _patched(original, scope))
    return scope


def size(value: Any) -> int:
    """Numbers in a value (arrays, tuples, lists, dicts): what the reference's work grows with."""
    if isinstance(value, dict):
        return sum(size(v) for v in value.values())
    if isinstance(value, (tuple, list)):
        return sum(size(v) for v in value)
    return int(np.size(value)) if isinstance(value, (np.ndarray, np.generic, int, float)) else 1


def replay(
    reference: types.ModuleType,
    function: str,
    args: tuple,
    kwargs: dict,
    records: list[Record],
    parts: list[str],
    rtol: float,
    atol: float,
    limit: int | None = None,
) -> Replay:
    """Run the reference ``function`` with each part call answered from ``records`` when one has
    the same arguments (each record used once, in order), and by the reference otherwise.

    limit: the largest record (in numbers) used; a larger one is ignored, so that values the
    student's process sent cannot make the reference's work here grow beyond a few times what
    the case itself costs."""
    used: set[int] = set()
    result = Replay()

    def answer(name, original, patched):
        signature = inspect.signature(original)

        def call(*a, **k):
            values = bound_values(signature, a, k)
            for i, r in enumerate(records):
                if i in used or r.part != name or not same_value(r.args, values, rtol, atol):
                    continue
                if r.error is not None:
                    raise PartRaised(name, r.error)
                if degenerate(r.value) or (limit is not None and size(r.value) > limit):
                    break  # only zeros tell nothing about the composite; too large: not used
                used.add(i)
                with np.errstate(all="ignore"):
                    right = original(*copy.deepcopy(a), **copy.deepcopy(k))
                if not same_value(r.value, right, rtol, atol) and name not in result.wrong:
                    result.wrong.append(name)
                return copy.deepcopy(r.value)
            return patched(*a, **k)

        return call

    scope = _scope(reference, parts, answer)
    composite = _patched(getattr(reference, function), scope)
    try:
        with np.errstate(all="ignore"):
            result.value = composite(*copy.deepcopy(args), **copy.deepcopy(kwargs))
    except PartRaised as exc:
        result.raised = (exc.part, exc.error)
    except Exception:  # the reference cannot run on the student's values (e.g. a wrong shape)
        result.failed = True
    return result


def _judged(assignment: Assignment, question: Question, case: Case) -> list[str]:
    """The parts a case is judged over: its question's ``[uses]``, for a plain compared call."""
    if case.harness is not None or case.expect_error is not None or not case.compare:
        return []
    if (case.function or question.name) != question.name:
        return []
    return list(assignment.uses.get(question.name, []))


def replay_case(
    assignment: Assignment, question: Question, case: Case, records: list[Record], parts: list[str]
) -> Replay:
    """``replay`` on one case: its reference arguments, tolerances and record size limit."""
    return replay(
        assignment.reference,
        question.name,
        assignment._reference_args(case),
        case.kwargs,
        records,
        parts,
        case.rtol,
        case.atol,
        record_limit(assignment, question, case),
    )


def alternative_for(
    assignment: Assignment, question: Question, case: Case, records: list[Record]
) -> Alternative | None:
    """What a composite case also accepts given the student's recorded parts, or None where their
    parts are right here (or the composition over them cannot be judged)."""
    parts = _judged(assignment, question, case)
    if not parts or not records or assignment.reference is None:
        return None
    r = replay_case(assignment, question, case, records, parts)
    if r.raised or r.failed or not r.wrong:
        return None
    return alternative(question.name, r.wrong, r.value)


def record_limit(assignment: Assignment, question: Question, case: Case) -> int:
    """Four times the largest value of the case's own reference run (its inputs, each part's
    value), plus a little: a wrong part's value of another size (a map without its edges) is
    still used, a huge one is not."""

    trace, _ = reference_trace(assignment, question, case)
    largest = max([size(assignment._reference_args(case)), size(case.kwargs)] + [size(v) for _, _, v in trace])
    return 4 * largest + 1000


def reference_trace(assignment: Assignment, question: Question, case: Case) -> tuple[list, Any]:
    """The reference composite's own run on a case: its part calls (part, arguments, value) and
    what it returns. Memoised on the assignment (the fixtures' work, not a submission's)."""
    return assignment._memo(
        "reference_trace",
        case,
        question.name,
        lambda: _traced_run(
            assignment.reference,
            question.name,
            assignment._reference_args(case),
            case.kwargs,
            _judged(assignment, question, case),
            {},
        ),
    )


def cause_for(
    assignment: Assignment,
    question: Question,
    case: Case,
    status: StepStatus,
    error: dict | None,
    records: list[Record],
    others: dict,
) -> str | None:
    """Why a composite call did not return, when a part is the cause: a wrong part whose value a
    right composite cannot use either (it fails too), a part that raised where a right composite
    calls it, a part that is not defined, or a part that itself never finishes on its own checks.
    None: the composite's own failure.

    others: every call's outcome of the submission (call id -> StepOutcome)."""
    parts = (
        _judged(assignment, question, case) if status == StepStatus.ERROR else assignment.uses.get(question.name, [])
    )
    if not parts:
        return None
    name = question.name
    if records and assignment.reference is not None and status == StepStatus.ERROR:
        r = replay_case(assignment, question, case, records, parts)
        wrong = ", ".join(r.wrong)
        see = ", ".join(f"see {p}" for p in r.wrong)
        if r.raised and r.wrong:
            part, kind = r.raised
            return (
                f"your {wrong} differs from the reference here ({see}); with what it returned, your {part} raised "
                f"{exception_name(kind)} when your {name} called it, as it would in a right {name}: fix {wrong} "
                f"first; {name} itself cannot be judged here"
            )
        if r.raised:
            part, kind = r.raised
            return (
                f"your {part} raised {exception_name(kind)} when your {name} called it, as it would in a right "
                f"{name}: fix {part} first (see {part}); {name} itself cannot be judged here"
            )
        if r.failed and r.wrong:
            return (
                f"your {wrong} differs from the reference here ({see}): a right {name} fails with what it "
                f"returned too; fix {wrong} first; {name} itself cannot be judged here"
            )
    cause = missing_part(name, error or {}, parts)
    if cause is None and status == StepStatus.TIMEOUT:
        for part in parts:
            if any(cid.startswith(f"{part}/") and o.status == StepStatus.TIMEOUT for cid, o in others.items()):
                return (
                    f"your {part} did not finish on its own checks either: it is the likely reason your "
                    f"{name} was stopped here; fix {part} first (see {part})"
                )
    return cause


def candidates(assignment: Assignment, question: Question, case: Case) -> dict:
    """For the student copy (a public case of a composite): the reference composition's own trace
    of part calls, and per catalogued mistake of each part, that part's trace and what the
    composite returns with the mistake in place. Memoised on the assignment."""

    def compute() -> dict:
        parts = _judged(assignment, question, case)
        out: dict = {"parts": parts, "reference_trace": [], "candidates": []}
        if not parts or assignment.reference is None:
            return out
        args = assignment._reference_args(case)
        trace, right = reference_trace(assignment, question, case)
        out["reference_trace"] = [[p, wire.encode(a), wire.encode(v)] for p, a, v in trace]
        for mid, mistake in sorted(assignment.mistakes.items()):
            if mistake.function not in parts or mid not in assignment.mutants:
                continue
            trace, value = _traced_run(
                assignment.reference,
                question.name,
                args,
                case.kwargs,
                parts,
                {mistake.function: assignment.mutants[mid]},
            )
            calls = [(p, a, v) for p, a, v in trace if p == mistake.function]
            if value is None or not calls or same_value(value, right, case.rtol, case.atol):
                continue  # raises, or right here (e.g. a stride mistake with stride 1): not a candidate
            out["candidates"].append(
                {
                    "part": mistake.function,
                    "mistake": mid,
                    "trace": [[p, wire.encode(a), wire.encode(v)] for p, a, v in calls],
                    "expected": wire.encode(value),
                }
            )
        return out

    return assignment._memo("part_candidates", case, question.name, compute)


def _traced_run(
    reference: types.ModuleType, function: str, args: tuple, kwargs: dict, parts: list[str], replaced: dict
) -> tuple[list[tuple[str, tuple, Any]], Any]:
    """Run the reference composite with some parts replaced (mistake id's function), logging every
    part call (part, bound arguments, value). value None: the run raised."""
    log: list[tuple[str, tuple, Any]] = []

    def answer(name, original, patched):
        signature = inspect.signature(original)
        impl = replaced.get(name, patched)

        def call(*a, **k):
            values = copy.deepcopy(bound_values(signature, a, k))
            value = impl(*a, **k)
            log.append((name, values, copy.deepcopy(value)))
            return value

        return call

    scope = _scope(reference, parts, answer)
    try:
        with np.errstate(all="ignore"):
            value = _patched(getattr(reference, function), scope)(*copy.deepcopy(args), **copy.deepcopy(kwargs))
    except Exception:
        return log, None
    return log, value


# --------------------------------------------------------------------------- own input
# A case whose function reads an intermediate the student's own earlier call made (rnn_backward
# reads the hidden states of their rnn_forward: assignment.OwnInput).


def producer_case(assignment: Assignment, question: Question, case: Case) -> Case:
    """The earlier case whose output ``case.own_input`` reads."""
    return next(c for c in question.cases if c.name == case.own_input.case)


def own_reference(assignment: Assignment, question: Question, case: Case) -> Any:
    """The reference's intermediate for a case with ``own_input`` (e.g. its hidden states)."""
    value = assignment.expected(producer_case(assignment, question, case), question.name)
    return value if case.own_input.index is None else value[case.own_input.index]


def own_expected(assignment: Assignment, question: Question, case: Case, own: Any) -> Any:
    """What a right function returns on the student's intermediate ``own`` (the reference,
    called here on private copies)."""
    args = case.own_input.reference_args(assignment.reference, copy.deepcopy(own))
    with np.errstate(all="ignore"):
        return getattr(assignment.reference, case.function or question.name)(*args, **copy.deepcopy(case.kwargs))


def own_mutants(assignment: Assignment, question: Question, case: Case, own: Any) -> dict[str, Any]:
    """Each catalogued mistake of the case's function on the student's intermediate ``own``
    (so that its mistake is named next to a wrong producer too); those that raise are left out."""
    fn_name = case.function or question.name
    outs = {}
    for mid, mistake in assignment.mistakes.items():
        if mistake.function != fn_name or mid not in assignment.mutants:
            continue
        try:
            args = case.own_input.reference_args(assignment.reference, copy.deepcopy(own))
            with np.errstate(all="ignore"):
                outs[mid] = assignment.mutants[mid](*args, **copy.deepcopy(case.kwargs))
        except Exception:
            continue
    return outs


def own_candidates(assignment: Assignment, question: Question, case: Case) -> list[tuple[Any, Any, dict[str, Any]]]:
    """(intermediate, what a right function returns on it, each catalogued mistake's output
    on it) for each known wrong producer whose intermediate on this case differs from the
    reference's: what a public case is judged with, by the grader and in the student copy alike."""

    def compute() -> list:
        producer = producer_case(assignment, question, case)
        fn_name = producer.function or question.name
        known = (
            case.own_input.producers(assignment)
            if case.own_input.producers is not None
            else {
                mid: f
                for mid, f in assignment.mutants.items()
                if mid in assignment.mistakes and assignment.mistakes[mid].function == fn_name
            }
        )
        reference = own_reference(assignment, question, case)
        out: list = []
        for _, fn in sorted(known.items()):
            try:
                with np.errstate(all="ignore"):
                    value = fn(*copy.deepcopy(producer.args), **copy.deepcopy(producer.kwargs))
                own = value if case.own_input.index is None else value[case.own_input.index]
                own = np.asarray(own, dtype=np.float64)
            except Exception:
                continue
            if not wrong_intermediate(own, reference, case.rtol, case.atol):
                continue
            if any(same_output(own, c[0], case.rtol, case.atol) for c in out):
                continue  # two mistakes that give the same intermediate: one pair
            try:
                out.append(
                    (own, own_expected(assignment, question, case, own), own_mutants(assignment, question, case, own))
                )
            except Exception:
                continue
        return out

    return assignment._memo("own_candidates", case, question.name, compute)


def own_alternative_for(assignment: Assignment, question: Question, case: Case, outcomes: dict) -> Alternative | None:
    """What a case with ``own_input`` also accepts, from the intermediate the student's own
    earlier call returned. Public cases: the pairs the student copy ships (so grader.check
    judges them exactly so); hidden cases: what the reference returns on the student's own
    intermediate, computed here."""
    spec = case.own_input
    if spec is None:
        return None
    producer = producer_case(assignment, question, case)
    got = outcomes.get(call_id(question.name, producer))
    own = None
    if got is not None and got.ok:
        own = got.value
        if spec.index is not None:
            own = own[spec.index] if isinstance(own, tuple) and len(own) > spec.index else None
    reference = own_reference(assignment, question, case)
    candidates: list = []
    if wrong_intermediate(own, reference, case.rtol, case.atol):
        # public cases: the pairs the student copy ships, so grader.check judges them alike;
        # an intermediate none of them matches (a wrong forward in no catalogue) is judged
        # here with the reference, as hidden cases are: a right function never loses points
        # to a wrong one. grader.check cannot do that: it says so and gives less, never more.
        candidates = list(own_candidates(assignment, question, case)) if not case.hidden else []
        # (a forward that returns zeros ignores its input: it makes no backward right)
        try:
            degenerate = not case.hidden and not np.any(np.asarray(own, dtype=np.float64))
        except (TypeError, ValueError):  # not numbers: nothing to judge a backward on
            degenerate = True
        if not degenerate and not any(same_output(own, c[0], case.rtol, case.atol) for c in candidates):
            try:
                candidates.append(
                    (own, own_expected(assignment, question, case, own), own_mutants(assignment, question, case, own))
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
