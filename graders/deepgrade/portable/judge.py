"""Judging one call: its outcome against the expected value, part by part, with diagnoses.

The same code judges in the grader and in ``grader.check``: a shape check, then a values check
per output part; a part whose values differ is matched against the catalogue of known mistakes;
an ``Alternative`` is a second expected value a case accepts (a function judged on the
student's own intermediate or parts: see dependencies.py). ``judge(spec, outcome, ...)`` is
the one entry point: the grader (``score.grade_case``) and grader.check
(``student_runner.run_question``) both call it with the case's ``spec.CaseSpec``.
Shipped (see __init__.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

try:  # the deepgrade package, or the student copy's package
    from .compare import as_array, close, same_output, value_details
    from .feedback import Check, error_check
    from .outputs import _Missing, describe_type, parts, structure_problem
    from .policy import VALUES_WEIGHT, Policy
    from .spec import CaseSpec
    from .status import NOT_FINISHED
except ImportError:  # the sandbox: plain modules (isolation.BOOT)
    from compare import as_array, close, same_output, value_details
    from feedback import Check, error_check
    from outputs import _Missing, describe_type, parts, structure_problem
    from policy import VALUES_WEIGHT, Policy
    from spec import CaseSpec
    from status import NOT_FINISHED


FLOAT32_HINT = (
    "your result is {dtype}: compute in float64 (x.astype(np.float64)); "
    "differences of ~1e-7 relative are float32 rounding"
)


@dataclass
class Alternative:
    """A second expected value a case accepts, part by part.

    A case whose function reads an intermediate the student's own earlier call produced
    (rnn_backward reads the hidden states in the cache of their rnn_forward) cannot match
    the reference where that intermediate is wrong: it is then judged against what a right
    function returns on the student's intermediate too. ``expected``: that value (a return
    value split by the case's ``outputs``), or None where it is not known (the feedback
    still names the wrong function). ``note``: said on a part that passes through it;
    ``wrong``: on a part that matches neither; ``unknown``: on a part that fails where the
    alternative cannot judge it. ``mistakes``: each catalogued mistake's output on the
    student's intermediate (mistake id -> output), to name a mistake there too.
    """

    expected: Any
    note: str
    wrong: str
    unknown: str
    mistakes: dict[str, Any] = field(default_factory=dict)


def _alternative_part(alternative: Alternative | None, alt_parts: dict, label: str, ea: np.ndarray, atol: float):
    """The alternative's array for one part, or None. An alternative that is all zeros where
    the reference is not gives no credit: a producer that ignores its inputs (returns zeros)
    must not make a function that returns zeros right."""
    if alternative is None or alternative.expected is None:
        return None
    aa = as_array(alt_parts.get(label))
    if aa is None or aa.shape != ea.shape or not np.all(np.isfinite(aa)):
        return None
    if ea.size and float(np.max(np.abs(aa))) <= atol < float(np.max(np.abs(ea))):
        return None
    return aa


def judge_case(
    case_label: str,
    hidden: bool,
    got: Any,
    expected: Any,
    outputs: Any,
    mistake_outputs: dict[str, Any],
    explain: dict[str, str],
    rtol: float,
    atol: float,
    shape_weight: float = 1.0,
    value_weights: dict[str, float] | None = None,
    alternative: Alternative | None = None,
) -> list[Check]:
    """Shape check, then a values check per output part, with diagnoses.

    mistake_outputs: mistake id -> that mistake's output on the same inputs.
    explain: mistake id -> the explanation students read.
    shape_weight, value_weights (label -> weight): from ``Policy.case_weights``.
    alternative: a part also passes when it matches this (see ``Alternative``).
    """
    exp_parts = parts(expected, outputs)
    alt_parts = parts(alternative.expected, outputs) if alternative and alternative.expected is not None else {}
    got_parts = parts(got, outputs)
    mistake_parts = {mid: parts(out, outputs) for mid, out in mistake_outputs.items()}
    alt_mistake_parts = {mid: parts(out, outputs) for mid, out in (alternative.mistakes if alt_parts else {}).items()}
    weights = {lbl: (value_weights or {}).get(lbl, VALUES_WEIGHT) for lbl in exp_parts}
    checks: list[Check] = []

    structure = structure_problem(got, outputs, hidden)
    if structure and all(isinstance(got_parts[lbl], _Missing) for lbl in exp_parts):
        # nothing to compare: one line for the whole case (and the same line on every case)
        return [
            Check(
                f"what is returned on {case_label}",
                False,
                shape_weight + sum(weights.values()),
                [structure],
                hidden=hidden,
            )
        ]

    shape_lines = [structure] if structure else []
    shapes_ok = structure is None
    for label, e in exp_parts.items():
        ea, ga = as_array(e), as_array(got_parts[label])
        name = "" if label == "output" else f"{label}: "
        if isinstance(got_parts[label], _Missing):
            shapes_ok = False  # said once, by the structure line
        elif ga is None:
            shapes_ok = False
            shape_lines.append(
                f"{name}expected an array of shape {ea.shape}, got {describe_type(got_parts[label], hidden)}"
            )
        elif ga.shape != ea.shape:
            shapes_ok = False
            shape_lines.append(f"{name}expected shape {ea.shape}, got {ga.shape}")
    shape_desc = ", ".join(f"{'' if lbl == 'output' else lbl + ' '}{as_array(e).shape}" for lbl, e in exp_parts.items())
    shape_check = Check(
        f"shape on {case_label}" + (f": {shape_desc}" if shapes_ok else ""),
        shapes_ok,
        shape_weight,
        shape_lines,
        hidden=hidden,
    )
    checks.append(shape_check)

    for label, e in exp_parts.items():
        ea, ga = as_array(e), as_array(got_parts[label])
        part = "values" if label == "output" else label
        check = Check(f"{part} on {case_label}", False, weights[label], hidden=hidden)
        checks.append(check)
        if isinstance(got_parts[label], _Missing):
            check.details.append(f"not compared: {got_parts[label].what} is missing")
        elif ga is None or ga.shape != ea.shape:
            check.details.append("not compared: the shape is wrong")
        else:
            ok = bool(np.all(close(ea, ga, rtol, atol)))
            aa = None if ok else _alternative_part(alternative, alt_parts, label, ea, atol)
            if aa is not None and bool(np.all(close(aa, ga, rtol, atol))):
                ok = True  # right for the student's own intermediate: it counts as passed
                check.details.append(alternative.note)
            check.passed = ok
            if not ok:
                if alternative is not None:
                    check.details.append(alternative.wrong if aa is not None else alternative.unknown)
                raw = got_parts[label]
                if isinstance(raw, (np.ndarray, np.generic)) and raw.dtype.kind == "f" and raw.dtype.itemsize < 8:
                    check.details.append(FLOAT32_HINT.format(dtype=raw.dtype.name))
                check.details += value_details(ea if aa is None else aa, ga, rtol, atol, hidden)
        if not check.passed:
            for mid, mp in mistake_parts.items():
                mo = mp.get(label)
                if mo is not None and not same_output(mo, e, rtol, atol) and same_output(ga, mo, rtol, atol):
                    check.diagnosis.append(mid)
                    check.details.append(explain.get(mid, mid))
            if ga is not None and label in alt_parts:
                # a known mistake, made on the student's own intermediate
                for mid, mp in alt_mistake_parts.items():
                    mo = mp.get(label)
                    if (
                        mid not in check.diagnosis
                        and mo is not None
                        and not same_output(mo, alt_parts[label], rtol, atol)
                        and same_output(ga, mo, rtol, atol)
                    ):
                        check.diagnosis.append(mid)
                        check.details.append(explain.get(mid, mid))
        if not check.passed and not check.diagnosis and len(shape_check.details) and not shapes_ok:
            # a wrong shape that a known mistake produces: say which
            for mid, mp in mistake_parts.items():
                mo = as_array(mp.get(label))
                if (
                    mo is not None
                    and ga is not None
                    and mo.shape == ga.shape != ea.shape
                    and mid not in shape_check.diagnosis
                ):
                    shape_check.diagnosis.append(mid)
                    shape_check.details.append(explain.get(mid, mid))
    return checks


@dataclass
class CaseResult:
    """One judged call, before the question's rules (gates, no-mutation) are applied.

    right: at least one values check passed. returned: the call returned normally (its
    inputs are checked for changes). raised: for a case that must raise, whether it did.
    """

    label: str
    hidden: bool
    checks: list[Check]
    right: bool = False
    returned: bool = False
    mutated: list[int] = field(default_factory=list)
    expect_error: str | None = None
    raised: bool = False


def _what_happened(ok: bool, error: dict | None) -> str:
    if ok:
        return "it returned normally"
    err = error or {}
    kind = str(err.get("type", "Error"))
    if kind in NOT_FINISHED:
        return f"it did not run to the end ({err.get('message', kind)})"
    return f"it raised {kind}"


class Outcome(Protocol):
    """What ``judge`` reads of a call's outcome: ``call_runner.StepOutcome`` (the one outcome
    type: the student copy's, and the grader's ``sandbox.StepOutcome``) has it. ``error``: {"type", "message", "where"} or None;
    ``mutated``: the indices of the arguments the call changed."""

    ok: bool
    value: Any
    error: dict | None
    mutated: list


def judge(
    spec: CaseSpec,
    outcome: Outcome,
    expected: Any,
    mistakes: dict[str, Any],
    *,
    explain: dict[str, str],
    policy: Policy,
    alternative: Alternative | None = None,
    cause: str | None = None,
) -> CaseResult:
    """Judge one call's outcome (a returned value, or an error) the same way everywhere.

    spec: the case. expected: the reference's output (None where the call did not return or
    must raise). mistakes: mistake id -> that mistake's output on the same inputs. explain:
    mistake id -> the explanation students read. policy: how the case's points split.
    alternative: what the case also accepts (``own_alternative``, or the reference composition
    over the student's own parts), or None. cause: for a call that did not return, the line that
    names the student's other function that made it fail (parts.raised_part), or None.
    A call that ran with the hidden calls (``outcome.hidden_phase``) is shown as a hidden check:
    what it returned or said may carry what they saw."""
    hidden = spec.hidden or bool(getattr(outcome, "hidden_phase", False))
    label = ("hidden check: " if hidden else "") + spec.description
    ok, error = outcome.ok, outcome.error
    expect_error = spec.expect_error
    if expect_error is not None:
        raised = not ok and (error or {}).get("type") == expect_error
        detail = [] if raised else [f"expected {expect_error} to be raised, but {_what_happened(ok, error)}"]
        check = Check(f"raises {expect_error} on {label}", raised, policy.expected_error, detail, hidden=hidden)
        return CaseResult(label, hidden, [check], expect_error=expect_error, raised=raised)
    if not ok:
        weight = policy.case_weight(spec.question, spec.outputs)
        err = error or {"type": "Error", "message": "failed", "where": []}
        return CaseResult(label, hidden, [error_check(label, hidden, err, weight, cause)])
    shape_weight, value_weights = policy.case_weights(spec.question, spec.outputs)
    checks = judge_case(
        label,
        hidden,
        outcome.value,
        expected,
        spec.outputs,
        mistakes,
        explain,
        spec.rtol,
        spec.atol,
        shape_weight,
        value_weights,
        alternative,
    )
    right = any(c.passed for c in checks[1:])  # checks[0] is the shape check
    return CaseResult(label, hidden, checks, right=right, returned=True, mutated=list(outcome.mutated))
