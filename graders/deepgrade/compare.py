"""Stages 4 and 5: compare a student's output with the reference, then diagnose it.

Pure numpy and standard library: the student's copy of an assignment ships this very
file, so ``grader.check(...)`` in a notebook says exactly what the grader says.

A case's output is split into named parts (one array, a tuple's elements, a dict's
keys). Each case gives one shape check (all parts at once) and one values check per
part; a part whose values differ is matched against the catalogue of known mistakes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

SHAPE_WEIGHT = 1.0
VALUES_WEIGHT = 2.0
MAX_SHOWN_DIFFS = 3


@dataclass
class Check:
    """One line of feedback: a label, pass or fail, its weight in the question, details."""

    label: str
    passed: bool
    weight: float = 1.0
    details: list[str] = field(default_factory=list)
    diagnosis: list[str] = field(default_factory=list)  # ids of matched mistakes
    hidden: bool = False

    def to_dict(self) -> dict:
        return {
            "label": self.label,
            "passed": self.passed,
            "weight": self.weight,
            "details": self.details,
            "diagnosis": self.diagnosis,
            "hidden": self.hidden,
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
    """A few differing cells and counts; hidden fixtures never show expected numbers."""
    lines = []
    nan = np.isnan(got)
    if nan.any():
        lines.append(f"{int(nan.sum())} of {got.size} values are NaN")
    if np.isinf(got).any():
        lines.append(f"{int(np.isinf(got).sum())} of {got.size} values are infinite")
    bad = ~close(expected, got, rtol, atol)
    where = np.argwhere(bad)
    if not hidden:
        for idx in where[:MAX_SHOWN_DIFFS]:
            t = tuple(int(i) for i in idx)
            lines.append(f"at {_index(t)}: expected {_fmt(expected[t])}, got {_fmt(got[t])}")
        if len(where) > MAX_SHOWN_DIFFS:
            lines.append(f"({len(where)} of {got.size} cells differ)")
        elif len(where) > 1:
            lines.append(f"({len(where)} of {got.size} cells differ)")
    else:
        first = tuple(int(i) for i in where[0]) if len(where) else ()
        lines.append(f"{len(where)} of {got.size} cells differ; the first at {_index(first)}")
    finite = np.isfinite(got)
    if finite.any() and expected.size:
        err = float(np.max(np.abs(got[finite] - expected[finite]))) if finite.any() else float("nan")
        scale = float(np.max(np.abs(expected))) or 1.0
        if hidden:
            # the absolute difference would give the expected values away where got is 0
            # (and err / relative would give max |expected|): a relative size only
            lines.append(f"largest difference {err / scale:.2g} relative to the expected values' size")
        else:
            lines.append(f"largest difference {err:.3g} (relative {err / scale:.2g})")
    return lines


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
) -> list[Check]:
    """Shape check, then a values check per output part, with diagnoses.

    mutant_outputs: mistake id -> that mistake's output on the same inputs.
    explain: mistake id -> the explanation students read.
    """
    exp_parts = parts(expected, outputs)
    got_parts = parts(got, outputs)
    mut_parts = {mid: parts(out, outputs) for mid, out in mutant_outputs.items()}
    checks: list[Check] = []

    shape_lines = []
    shapes_ok = True
    for label, e in exp_parts.items():
        ea, ga = as_array(e), as_array(got_parts[label])
        name = "" if label == "output" else f"{label}: "
        if ga is None:
            shapes_ok = False
            shape_lines.append(f"{name}expected an array of shape {ea.shape}, got {describe_type(got_parts[label])}")
        elif ga.shape != ea.shape:
            shapes_ok = False
            shape_lines.append(f"{name}expected shape {ea.shape}, got {ga.shape}")
    shape_desc = ", ".join(f"{'' if lbl == 'output' else lbl + ' '}{as_array(e).shape}" for lbl, e in exp_parts.items())
    shape_check = Check(
        f"shape on {case_label}" + (f": {shape_desc}" if shapes_ok else ""),
        shapes_ok,
        SHAPE_WEIGHT,
        shape_lines,
        hidden=hidden,
    )
    checks.append(shape_check)

    for label, e in exp_parts.items():
        ea, ga = as_array(e), as_array(got_parts[label])
        part = "values" if label == "output" else label
        check = Check(f"{part} on {case_label}", False, VALUES_WEIGHT, hidden=hidden)
        checks.append(check)
        if ga is None or ga.shape != ea.shape:
            check.details.append("not compared: the shape is wrong")
        else:
            ok = bool(np.all(close(ea, ga, rtol, atol)))
            check.passed = ok
            if not ok:
                check.details += value_details(ea, ga, rtol, atol, hidden)
        if not check.passed:
            for mid, mp in mut_parts.items():
                mo = mp.get(label)
                if mo is not None and not same_output(mo, e, rtol, atol) and same_output(ga, mo, rtol, atol):
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


def error_check(case_label: str, hidden: bool, error: dict, weight: float) -> Check:
    """A call that raised, hung or crashed: the student's own line, not our internals.

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
    where = error.get("where") if isinstance(error.get("where"), list) else []
    for frame in where[-2:]:
        if not isinstance(frame, dict):
            continue
        cell = frame.get("cell")
        place = f"cell {int(cell) + 1} of the notebook, " if str(cell).isdigit() else ""  # 1-based, as people count
        function = "" if quiet else f", in {str(frame.get('function', ''))[:60]}"
        text.append(f"  in {place}line {frame.get('line', '?')}{function}: {str(frame.get('code', ''))[:200]}")
    return Check(f"runs on {case_label}", False, weight, text, hidden=hidden)


def explain_once(checks: list[Check], explain: dict[str, str]) -> list[Check]:
    """A mistake's explanation is shown where it is first recognised; later checks refer back."""
    seen: set[str] = set()
    for c in checks:
        for mid in c.diagnosis:
            text = explain.get(mid)
            if mid in seen and text in c.details:
                c.details[c.details.index(text)] = "the same mistake as above"
            seen.add(mid)
    return checks


def question_points(checks: list[Check], points: float) -> float:
    """Partial credit: the question's points times the weight of the checks passed."""
    total = sum(c.weight for c in checks) or 1.0
    return round(points * sum(c.weight for c in checks if c.passed) / total, 2)


def format_question(name: str, points: float, max_points: float, checks: list[Check], width: int = 78) -> list[str]:
    """One question's feedback block, as students read it (grader report and notebook alike)."""
    pts = f"{points:g} / {max_points:g} points"
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
            and checks[i + same].details == c.details
        ):
            same += 1
        i += same
        more = f" (and {same - 1} more with the same result)" if same > 1 else ""
        lines.append(f"  {'ok  ' if c.passed else 'FAIL'}  {c.label}{more}")
        for d in c.details:
            for sub in d.splitlines():
                lines.append(f"          {sub.strip() if not sub.startswith('  ') else sub}")
    return lines
