"""What students read: a check, an error in the student's own words, a question's block.

``Check`` is one line of feedback with its weight; ``error_check`` turns a call that raised,
hung or crashed into the student's own line (never the grader's internals, never text the
student's process wrote on a hidden check); ``format_question`` is the one layout of a
question, in the grader's reports and in ``grader.check`` alike. Shipped (see __init__.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

try:  # the deepgrade package, or the student copy's package
    from .status import ErrorKind
except ImportError:  # the sandbox: plain modules (isolation.BOOT)
    from status import ErrorKind


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


def _builtin_exceptions() -> frozenset[str]:
    import builtins

    names = {n for n, v in vars(builtins).items() if isinstance(v, type) and issubclass(v, BaseException)}
    for module in (getattr(np, "exceptions", None), np.linalg):
        names |= {n for n, v in vars(module or {}).items() if isinstance(v, type) and issubclass(v, BaseException)}
    return frozenset(names)


BUILTIN_EXCEPTIONS = _builtin_exceptions()


# what the sandbox's worker says itself (the grader's phrase replaces its text on hidden checks)
WORKER_ERRORS = {
    ErrorKind.MISSING: "the function is not defined in the notebook",
    ErrorKind.NOT_CALLABLE: "the name is defined, but not as a function",
    ErrorKind.SKIPPED: "not run: it depends on an earlier check that did not return",
    ErrorKind.UNREADABLE: "the value returned could not be read",
}


GRADER_ERRORS = (ErrorKind.TIMEOUT, ErrorKind.CRASHED, ErrorKind.MEMORY, ErrorKind.NOT_RUN, ErrorKind.PROTOCOL)


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
        if kind in WORKER_ERRORS:
            text = [WORKER_ERRORS[kind]]
        elif kind == "NotImplementedError":
            text = ["raised NotImplementedError (not implemented yet?)"]
        elif kind in BUILTIN_EXCEPTIONS and kind not in GRADER_ERRORS:
            text = [f"raised {kind}" + (f" ({hint})" if hint else "")]
        else:
            text = ["raised an exception of a class defined in the notebook"]
    elif kind == ErrorKind.MISSING:
        text = [message + " (define it in a code cell, with exactly this name)"]
    elif (kind in GRADER_ERRORS and not untrusted) or kind in WORKER_ERRORS:
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
