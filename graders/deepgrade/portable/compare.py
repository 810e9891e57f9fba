"""Stages 4 and 5: compare a student's output with the reference, then diagnose it.

Pure numpy and standard library: the student's copy of an assignment ships this very
file, so ``grader.check(...)`` in a notebook says exactly what the grader says.

A case's output is split into named parts (one array, a tuple's elements, a dict's
keys). Each case gives one shape check (all parts at once) and one values check per
part; a part whose values differ is matched against the catalogue of known mistakes.

It is also the one scorer (``judge_call`` for a call's outcome, ``score_question`` for
the question's points, under a ``Policy``): the grader and ``grader.check`` both use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

VALUES_WEIGHT = 2.0  # one output part's values, before output weights: the unit of all weights
MAX_SHOWN_DIFFS = 3
FLOAT32_HINT = (
    "your result is {dtype}: compute in float64 (x.astype(np.float64)); "
    "differences of ~1e-7 relative are float32 rounding"
)
NOT_YET = "not credited yet: no output is right so far"


@dataclass
class Policy:
    """How a question's points are split (assignment.toml ``[points]``; defaults here only).

    shape: the shape check's share of a case (a gate: values are compared only when it
        passes); the rest of the case is its outputs' values.
    no_mutation: weight of "does not modify its inputs" (one per group: public, hidden).
    expected_error: weight of a check that the function raises where it must.
    outputs: question -> output label -> relative weight (default 1 each); the case's
        values total (VALUES_WEIGHT per output) is shared out in these proportions.
    The expected-error and no-mutation checks are credited only once at least one values
    check of the same group (public or hidden) passed: raising, or doing nothing, earns nothing.
    """

    shape: float = 0.1
    no_mutation: float = 1.0
    expected_error: float = VALUES_WEIGHT
    outputs: dict[str, dict[str, float]] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, table: dict | None) -> Policy:
        table = dict(table or {})
        unknown = set(table) - {"shape", "no_mutation", "expected_error", "outputs"}
        if unknown:
            raise ValueError(f"[points] has unknown keys {sorted(unknown)}")
        policy = cls(
            shape=float(table.get("shape", cls.shape)),
            no_mutation=float(table.get("no_mutation", cls.no_mutation)),
            expected_error=float(table.get("expected_error", cls.expected_error)),
            outputs={q: {str(k): float(v) for k, v in w.items()} for q, w in table.get("outputs", {}).items()},
        )
        if not 0 <= policy.shape < 1:
            raise ValueError(f"[points] shape must be a share in [0, 1), not {policy.shape}")
        if (
            min([policy.no_mutation, policy.expected_error] + [v for w in policy.outputs.values() for v in w.values()])
            < 0
        ):
            raise ValueError("[points] weights must not be negative")
        return policy

    def to_dict(self) -> dict:
        return {
            "shape": self.shape,
            "no_mutation": self.no_mutation,
            "expected_error": self.expected_error,
            "outputs": self.outputs,
        }

    def case_weights(self, question: str, outputs: Any) -> tuple[float, dict[str, float]]:
        """(shape weight, values weight per output label) of one case of ``question``."""
        names = labels(outputs)
        relative = {lbl: self.outputs.get(question, {}).get(lbl, 1.0) for lbl in names}
        total = VALUES_WEIGHT * len(names)
        norm = sum(relative.values()) or 1.0
        values = {lbl: total * w / norm for lbl, w in relative.items()}
        return total * self.shape / (1.0 - self.shape), values

    def case_weight(self, question: str, outputs: Any) -> float:
        """What a case is worth in all: what a call that raises or hangs forfeits."""
        shape, values = self.case_weights(question, outputs)
        return shape + sum(values.values())


def labels(outputs: Any) -> list[str]:
    """The compared parts' labels of an ``outputs`` spec, in order."""
    if outputs is None:
        return ["output"]
    if isinstance(outputs, dict):
        return [str(v) for v in outputs.values()]
    out: list[str] = []
    for label in outputs:
        if isinstance(label, dict):
            out += [str(v) for v in label.values()]
        elif label is not None:
            out.append(str(label))
    return out


@dataclass
class Check:
    """One line of feedback: a label, pass or fail, its weight in the question, details."""

    label: str
    passed: bool
    weight: float = 1.0
    details: list[str] = field(default_factory=list)
    diagnosis: list[str] = field(default_factory=list)  # ids of matched mistakes
    hidden: bool = False
    # pictures the grader drew for this check (never paths, never parsed from details):
    # {"title": str, "media_type": "image/png", "data": base64 str}
    attachments: list[dict] = field(default_factory=list)
    # an assignment's own check (fixtures CHECKS), not one of its cases: it is scored with the
    # hidden checks and does not change what the public checks are worth (split_points)
    extra: bool = False

    def to_dict(self) -> dict:
        return {
            "label": self.label,
            "passed": self.passed,
            "weight": self.weight,
            "details": self.details,
            "diagnosis": self.diagnosis,
            "hidden": self.hidden,
            "attachments": self.attachments,
            "extra": self.extra,
        }


def parts(value: Any, outputs: Any) -> dict[str, Any]:
    """Split a return value into named parts according to a case's ``outputs``."""
    if outputs is None:
        return {"output": value}
    if isinstance(outputs, (list, tuple)):
        seq = value if isinstance(value, (tuple, list)) else None
        out = {}
        for i, label in enumerate(outputs):
            if label is None:
                continue
            element = seq[i] if seq is not None and i < len(seq) else _Missing(f"element {i} of a tuple")
            if isinstance(label, dict):
                # a dict inside the tuple (e.g. an LSTM step's gates): one part per key
                out.update(
                    parts(element, label)
                    if not isinstance(element, _Missing)
                    else {lbl: element for lbl in label.values()}
                )
            else:
                out[label] = element
        return out
    if isinstance(outputs, dict):
        out = {}
        for key, label in outputs.items():
            out[label] = (
                value.get(key, _Missing(f"key {key!r}")) if isinstance(value, dict) else _Missing(f"key {key!r}")
            )
        return out
    raise TypeError(f"bad outputs spec {outputs!r}")


class _Missing:
    def __init__(self, what: str) -> None:
        self.what = what


def describe_type(value: Any) -> str:
    if isinstance(value, _Missing):
        return f"nothing ({value.what} is missing)"
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, tuple):
        return f"a tuple of {len(value)}"
    if isinstance(value, dict):
        return f"a dict with keys {sorted(value)[:8]}"
    return type(value).__name__ if not hasattr(value, "type_name") else f"a {value.type_name}"


def as_array(value: Any) -> np.ndarray | None:
    """A plain float array, or None when the value is not numeric data."""
    if isinstance(value, np.ndarray) and type(value) is np.ndarray and value.dtype.kind in "biuf":
        return value.astype(np.float64)
    if isinstance(value, (bool, int, float, np.generic)) and not isinstance(value, (str, bytes)):
        try:
            return np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            return None
    return None


def _fmt(x: float) -> str:
    if np.isnan(x):
        return "nan"
    return f"{x:.6g}"


def _index(idx: tuple[int, ...]) -> str:
    if len(idx) == 0:
        return "the value"
    if len(idx) == 1:
        return f"index {idx[0]}"
    if len(idx) == 2:
        return f"row {idx[0]}, column {idx[1]}"
    return "index [" + ", ".join(str(i) for i in idx) + "]"


def close(expected: np.ndarray, got: np.ndarray, rtol: float, atol: float) -> np.ndarray:
    return np.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=False)


def same_output(a: Any, b: Any, rtol: float = 1e-7, atol: float = 1e-9) -> bool:
    """True when two outputs agree in shape and value (used to match mutants)."""
    x, y = as_array(a), as_array(b)
    if x is None or y is None or x.shape != y.shape:
        return False
    return bool(np.all(np.isclose(x, y, rtol=rtol, atol=atol, equal_nan=True)))


def value_details(expected: np.ndarray, got: np.ndarray, rtol: float, atol: float, hidden: bool) -> list[str]:
    """A few differing cells and counts; hidden fixtures never show expected numbers.

    NaN and infinite values are reported as such (how many, and where on a public check); the
    largest difference is taken over the cells finite in both, and says so when that is not all."""
    lines = []
    for what, mask in (("NaN", np.isnan(got)), ("infinite", np.isinf(got))):
        if mask.any():
            first = tuple(int(i) for i in np.argwhere(mask)[0])
            lines.append(f"{int(mask.sum())} of {got.size} values are {what}; the first at {_index(first)}")
    bad = ~close(expected, got, rtol, atol)
    where = np.argwhere(bad)
    if not hidden:
        for idx in where[:MAX_SHOWN_DIFFS]:
            t = tuple(int(i) for i in idx)
            e, g = _fmt(expected[t]), _fmt(got[t])
            if e == g:  # equal to 6 digits: show where they differ
                e, g = f"{expected[t]:.17g}", f"{got[t]:.17g}"
            lines.append(f"at {_index(t)}: expected {e}, got {g}")
        if len(where) > 1:
            lines.append(f"({len(where)} of {got.size} cells differ)")
    else:
        first = tuple(int(i) for i in where[0]) if len(where) else ()
        lines.append(f"{len(where)} of {got.size} cells differ; the first at {_index(first)}")
    finite = np.isfinite(got) & np.isfinite(expected)
    if finite.any() and expected.size:
        err = float(np.max(np.abs(got[finite] - expected[finite])))
        scale = float(np.max(np.abs(expected[np.isfinite(expected)]))) or 1.0
        over = "" if finite.all() else f" over the {int(finite.sum())} cells that are finite"
        if hidden:
            # the absolute difference would give the expected values away where got is 0
            # (and err / relative would give max |expected|): a relative size only
            lines.append(f"largest difference{over} {err / scale:.2g} relative to the expected values' size")
        else:
            lines.append(f"largest difference{over} {err:.3g} (relative {err / scale:.2g})")
    elif expected.size:
        lines.append("no cell is a finite number: nothing to measure a difference on")
    return lines


def structure_problem(got: Any, outputs: Any) -> str | None:
    """One line when the returned value is not built as asked (a tuple too short, a dict
    without the expected keys): said once instead of once per missing part."""
    if isinstance(outputs, dict):
        expected = [str(k) for k in outputs]
        if not isinstance(got, dict):
            return f"expected a dict with the keys {expected}, got {describe_type(got)}"
        missing = [k for k in expected if k not in got]
        if missing:
            found = sorted(str(k) for k in got)
            return f"the dict returned has the keys {found[:12]}; expected the keys {expected} (missing: {missing})"
        return None
    if isinstance(outputs, (list, tuple)):
        if not isinstance(got, (tuple, list)):
            return f"expected a tuple of {len(outputs)} values, got {describe_type(got)}"
        if len(got) < len(outputs):
            return f"expected a tuple of {len(outputs)} values, got a tuple of {len(got)}"
        for element, spec in zip(got, outputs):
            if isinstance(spec, dict):
                problem = structure_problem(element, spec)
                if problem:
                    return problem
    return None


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
    alternative cannot judge it. ``mutants``: each catalogued mistake's output on the
    student's intermediate (mistake id -> output), to name a mistake there too.
    """

    expected: Any
    note: str
    wrong: str
    unknown: str
    mutants: dict[str, Any] = field(default_factory=dict)


def wrong_intermediate(own: Any, reference: Any, rtol: float, atol: float) -> bool:
    """Is the student's intermediate usable (finite numbers of the reference's shape) and
    other than the reference's? Only then does a case accept an alternative."""
    a, r = as_array(own), as_array(reference)
    if a is None or r is None or a.shape != r.shape or not np.all(np.isfinite(a)):
        return False
    return not same_output(a, r, rtol, atol)


def own_alternative(
    question: str,
    producer: str,
    what: str,
    own: Any,
    reference: Any,
    candidates: list[tuple[Any, Any, dict[str, Any]]],
    rtol: float,
    atol: float,
    see: str | None = None,
) -> Alternative | None:
    """The alternative of a case whose ``question`` function reads ``what`` (e.g. "hidden
    states") from what the student's ``producer`` returned (``own``; ``reference``: the
    reference's). None where the intermediate is right (or unusable): the reference alone
    judges. ``candidates``: (intermediate, what a right function returns on it, each
    catalogued mistake's output on it); the one whose intermediate is the student's gives the
    expected value and the mistakes' outputs. The grader computes
    the student's own pair on hidden cases; public cases use the pairs shipped with the
    student copy (the catalogue's wrong producers), so grader.check judges them the same.
    see: where the feedback sends the student (default: the producer).
    """
    if not wrong_intermediate(own, reference, rtol, atol):
        return None
    expected, mutants = next(
        ((alt, muts) for inter, alt, muts in candidates if same_output(own, inter, rtol, atol)), (None, {})
    )
    see = see or f"see {producer}"
    wrong = f"your {producer} is wrong here: its {what} differ from the reference's ({see})"
    return Alternative(
        expected,
        f"right for the {what} your {producer} produced: your {question} is right, your {producer} is wrong ({see})",
        f"{wrong}; your {question} does not return what a right {question} returns on them either "
        "(the differences below are from that)",
        f"{wrong}, and {question} reads them from your cache: fix {producer} first "
        f"(this check cannot tell here whether {question} is right)",
        dict(mutants),
    )


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
    mutant_outputs: dict[str, Any],
    explain: dict[str, str],
    rtol: float,
    atol: float,
    shape_weight: float = 1.0,
    value_weights: dict[str, float] | None = None,
    alternative: Alternative | None = None,
) -> list[Check]:
    """Shape check, then a values check per output part, with diagnoses.

    mutant_outputs: mistake id -> that mistake's output on the same inputs.
    explain: mistake id -> the explanation students read.
    shape_weight, value_weights (label -> weight): from ``Policy.case_weights``.
    alternative: a part also passes when it matches this (see ``Alternative``).
    """
    exp_parts = parts(expected, outputs)
    alt_parts = parts(alternative.expected, outputs) if alternative and alternative.expected is not None else {}
    got_parts = parts(got, outputs)
    mut_parts = {mid: parts(out, outputs) for mid, out in mutant_outputs.items()}
    alt_mut_parts = {mid: parts(out, outputs) for mid, out in (alternative.mutants if alt_parts else {}).items()}
    weights = {lbl: (value_weights or {}).get(lbl, VALUES_WEIGHT) for lbl in exp_parts}
    checks: list[Check] = []

    structure = structure_problem(got, outputs)
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
            shape_lines.append(f"{name}expected an array of shape {ea.shape}, got {describe_type(got_parts[label])}")
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
            for mid, mp in mut_parts.items():
                mo = mp.get(label)
                if mo is not None and not same_output(mo, e, rtol, atol) and same_output(ga, mo, rtol, atol):
                    check.diagnosis.append(mid)
                    check.details.append(explain.get(mid, mid))
            if ga is not None and label in alt_parts:
                # a known mistake, made on the student's own intermediate
                for mid, mp in alt_mut_parts.items():
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
            for mid, mp in mut_parts.items():
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
    if kind in ("Timeout", "Crashed", "Memory", "NotRun", "Skipped", "Missing", "NotCallable", "Unreadable"):
        return f"it did not run to the end ({err.get('message', kind)})"
    return f"it raised {kind}"


def judge_call(
    question: str,
    label: str,
    hidden: bool,
    outputs: Any,
    rtol: float,
    atol: float,
    expect_error: str | None,
    ok: bool,
    value: Any,
    error: dict | None,
    mutated: list[int],
    expected: Any,
    mutants: dict[str, Any],
    explain: dict[str, str],
    policy: Policy,
    alternative: Alternative | None = None,
    cause: str | None = None,
) -> CaseResult:
    """Judge one call's outcome (a returned value, or an error) the same way everywhere.

    alternative: what the case also accepts (``own_alternative``, or the reference composition
    over the student's own parts), or None. cause: for a call that did not return, the line that
    names the student's other function that made it fail (parts.raised_part), or None."""
    if expect_error is not None:
        raised = not ok and (error or {}).get("type") == expect_error
        detail = [] if raised else [f"expected {expect_error} to be raised, but {_what_happened(ok, error)}"]
        check = Check(f"raises {expect_error} on {label}", raised, policy.expected_error, detail, hidden=hidden)
        return CaseResult(label, hidden, [check], expect_error=expect_error, raised=raised)
    if not ok:
        weight = policy.case_weight(question, outputs)
        err = error or {"type": "Error", "message": "failed", "where": []}
        return CaseResult(label, hidden, [error_check(label, hidden, err, weight, cause)])
    shape_weight, value_weights = policy.case_weights(question, outputs)
    checks = judge_case(
        label, hidden, value, expected, outputs, mutants, explain, rtol, atol, shape_weight, value_weights, alternative
    )
    right = any(c.passed for c in checks[1:])  # checks[0] is the shape check
    return CaseResult(label, hidden, checks, right=right, returned=True, mutated=list(mutated))


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


def _builtin_exceptions() -> frozenset[str]:
    import builtins

    names = {n for n, v in vars(builtins).items() if isinstance(v, type) and issubclass(v, BaseException)}
    for module in (getattr(np, "exceptions", None), np.linalg):
        names |= {n for n, v in vars(module or {}).items() if isinstance(v, type) and issubclass(v, BaseException)}
    return frozenset(names)


BUILTIN_EXCEPTIONS = _builtin_exceptions()
# what the sandbox's worker says itself (the grader's phrase replaces its text on hidden checks)
WORKER_STATUSES = {
    "Missing": "the function is not defined in the notebook",
    "NotCallable": "the name is defined, but not as a function",
    "Skipped": "not run: it depends on an earlier check that did not return",
    "Unreadable": "the value returned could not be read",
}
GRADER_STATUSES = ("Timeout", "Crashed", "Memory", "NotRun", "Protocol")
STUB_MESSAGES = ("", "YOUR CODE HERE", "# YOUR CODE HERE")
_NUMPY2_REMOVED = {
    "int": "int",
    "float": "float",
    "bool": "bool",
    "complex": "complex",
    "object": "object",
    "str": "str",
    "long": "int",
    "unicode": "str",
    "float_": "np.float64",
    "complex_": "np.complex128",
    "string_": "np.bytes_",
    "unicode_": "np.str_",
    "NaN": "np.nan",
    "NAN": "np.nan",
    "Inf": "np.inf",
    "Infinity": "np.inf",
    "infty": "np.inf",
    "PINF": "np.inf",
    "NINF": "-np.inf",
    "product": "np.prod",
    "cumproduct": "np.cumprod",
    "alltrue": "np.all",
    "sometrue": "np.any",
    "round_": "np.round",
    "trapz": "np.trapezoid",
    "in1d": "np.isin",
    "row_stack": "np.vstack",
    "asfarray": "np.asarray(x, dtype=float)",
}


def _numpy2_hint(kind: str, message: str) -> str | None:
    """A hint for a numpy alias removed in numpy 2 (``np.int`` and friends)."""
    import re

    m = re.match(r"module 'numpy' has no attribute '(\w+)'|`np\.(\w+)` was removed in the NumPy 2", message)
    name = m and (m.group(1) or m.group(2))
    if kind != "AttributeError" or name not in _NUMPY2_REMOVED:
        return None
    return f"np.{name} was removed in numpy 2: use {_NUMPY2_REMOVED[name]} instead"


def error_check(case_label: str, hidden: bool, error: dict, weight: float, cause: str | None = None) -> Check:
    """A call that raised, hung or crashed: the student's own line, not our internals.

    cause: a line naming another of the student's functions as the reason (a part it calls that
    raised, is missing or never finishes); it replaces what the error itself would say (a stub
    part's NotImplementedError must not call this function unimplemented).

    error: {"type", "message", "where": [{"cell", "line", "function", "code"}]}. Errors
    reported by the sandbox carry "from": "sandbox" (their frames' code is the grader's copy
    of the notebook, see sandbox._error). On a hidden check, or a call the sandbox ran with
    the hidden ones ("hidden": True), nothing the student's process wrote is shown: only the
    exception's type (a Python or numpy builtin name; any other class name could carry data)
    and the student's own line.
    """
    error = error if isinstance(error, dict) else {}
    kind = str(error.get("type", "Error"))[:100]
    message = str(error.get("message", ""))[:500]
    untrusted = error.get("from") == "sandbox"
    quiet = hidden or bool(error.get("hidden"))
    if untrusted and quiet:
        hint = _numpy2_hint(kind, message)
        if kind in WORKER_STATUSES:
            text = [WORKER_STATUSES[kind]]
        elif kind == "NotImplementedError":
            text = ["raised NotImplementedError (not implemented yet?)"]
        elif kind in BUILTIN_EXCEPTIONS and kind not in GRADER_STATUSES:
            text = [f"raised {kind}" + (f" ({hint})" if hint else "")]
        else:
            text = ["raised an exception of a class defined in the notebook"]
    elif kind == "Missing":
        text = [message + " (define it in a code cell, with exactly this name)"]
    elif (kind in GRADER_STATUSES and not untrusted) or kind in WORKER_STATUSES:
        # a class the student named "Timeout" is not the grader's status: shown as raised below
        text = [message or kind]
    elif kind == "NotImplementedError":
        if message.strip() in STUB_MESSAGES:
            text = [
                "not implemented yet (it still raises NotImplementedError): "
                "write the function where it says # YOUR CODE HERE"
            ]
        else:
            text = [f"raised NotImplementedError: {message}"]
    else:
        hint = _numpy2_hint(kind, message)
        text = [f"raised {kind}: {message}" if message else f"raised {kind}"]
        if hint:
            text.append(hint)
    if cause:
        text = [cause]
    where = error.get("where") if isinstance(error.get("where"), list) else []
    for frame in where[-2:]:
        if not isinstance(frame, dict):
            continue
        cell = frame.get("cell")
        place = f"cell {int(cell) + 1} of the notebook, " if str(cell).isdigit() else ""  # 1-based, as people count
        function = "" if quiet else f", in {str(frame.get('function', ''))[:60]}"
        text.append(f"  in {place}line {frame.get('line', '?')}{function}: {str(frame.get('code', ''))[:200]}")
    return Check(f"runs on {case_label}", False, weight, text, hidden=hidden)


def explain_diagnoses(checks: list[Check], explain: dict[str, str]) -> list[Check]:
    """Add, under each check, the explanation of every catalogued mistake it diagnosed (once per
    check; an id the catalogue does not know adds nothing), and drop empty details: what an
    assignment's own checks (``CHECKS``) need, as the engine's judging does for compared calls."""
    for c in checks:
        for mid in c.diagnosis:
            text = explain.get(mid)
            if text is not None and text not in c.details:
                c.details.append(text)
        c.details = [d for d in c.details if d]
    return checks


def explain_once(checks: list[Check], explain: dict[str, str]) -> list[Check]:
    """A mistake's explanation is shown where it is first recognised; later checks refer back
    to it by the mistake's id and the check that explained it (never to "the one above")."""
    first: dict[str, str] = {}
    for c in checks:
        for mid in c.diagnosis:
            text = explain.get(mid, mid)
            if mid in first and text in c.details:
                c.details[c.details.index(text)] = f"the same mistake ({mid}) as explained under: {first[mid]}"
            first.setdefault(mid, c.label)
    return checks


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
    its inputs" check when a case returns values. What ``judge_call`` and ``score_question`` give."""
    total = sum(policy.expected_error if raises else policy.case_weight(question, outputs) for outputs, raises in cases)
    if any(not raises for _, raises in cases):
        total += policy.no_mutation
    return total


def fmt_points(x: float) -> str:
    """Points as every report shows them: 7.5, 10, 0.33 (the one formatter)."""
    return f"{x:g}"


def format_question(name: str, points: float, max_points: float, checks: list[Check], width: int = 78) -> list[str]:
    """One question's feedback block, as students read it (grader report and notebook alike)."""
    pts = f"{fmt_points(points)} / {fmt_points(max_points)} points"
    lines = [f"{name:<{width - len(pts)}}{pts}"]
    i = 0
    while i < len(checks):
        c = checks[i]
        # the same failure on several fixtures is said once, with a count
        same = 1
        while (
            i + same < len(checks)
            and not c.passed
            and not checks[i + same].passed
            and c.details
            and checks[i + same].details == c.details
            and checks[i + same].diagnosis == c.diagnosis
        ):
            same += 1
        i += same
        more = f" (and {same - 1} more with the same result)" if same > 1 else ""
        lines.append(f"  {'ok  ' if c.passed else 'FAIL'}  {c.label}{more}")
        for d in c.details:
            for sub in d.splitlines():
                lines.append(f"          {sub.strip() if not sub.startswith('  ') else sub}")
    return lines
