"""The public checks as a student runs them in the notebook, via Otter's ``grader.check``.

Shipped in the student's copy as ``_deepgrade_check/deepgrade/portable/student_runner.py``, with
the rest of ``deepgrade.portable`` (the grader's own files: the same call runner, the same judging and
the same scorer) and ``public.json`` (public fixture inputs, their expected
outputs, the catalogued mistakes' outputs on them and the points policy; nothing hidden).
The student's functions run here, in their own kernel: the points are what the same
public checks earn at grading; the hidden checks are not included.
"""

from __future__ import annotations

import json
import traceback
from pathlib import Path

try:  # inside the student copy, a package next to the notebook
    from . import call_runner, dependencies, wire
    from .dependencies import own_alternative, wrong_intermediate
    from .feedback import Check, fmt_points, format_question
    from .judge import judge
    from .policy import Policy
    from .scoring import question_points, score_question, split_points
    from .spec import CaseSpec
except ImportError:  # pragma: no cover - the sandbox: plain modules (isolation.BOOT)
    import call_runner
    import dependencies
    import wire
    from dependencies import own_alternative, wrong_intermediate
    from feedback import Check, fmt_points, format_question
    from judge import judge
    from policy import Policy
    from scoring import question_points, score_question, split_points
    from spec import CaseSpec

# the copy's public.json: _deepgrade_check/public.json, beside deepgrade/portable/ (this folder)
DATA = Path(__file__).resolve().parent.parent.parent / "public.json"
_NOT_SENT = (
    "public checks only: {public} of the {public_max} points they are worth in your grade, as "
    "grading counts them; the hidden checks (other shapes and settings, and any check that needs the "
    "grader) hold the other {hidden_max} of the question's {points} points"
)


def _load(data_file: Path | None = None) -> dict:
    return json.loads((data_file or DATA).read_text())


def _student_error(exc: BaseException) -> dict:
    if isinstance(exc, KeyboardInterrupt):
        raise exc  # the student stopped the check: not a failure of their function
    here = str(DATA.parent)  # the student copy's folder: its files are not the student's
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith(here)]
    where = [{"cell": "?", "line": f.lineno, "function": f.name, "code": (f.line or "")[:200]} for f in frames[-2:]]
    return {"type": type(exc).__name__, "message": str(exc)[:500], "where": where}


TRAINED_NOTE = "trained in your kernel with the grader's data, seeds, epochs and batch sizes; the grade comes from the grader's own run"


def _trained_checks(name: str, functions: dict, explain: dict, data_file: Path | None) -> list[Check]:
    """A question whose models the grader trains: the assignment's student files train them
    here, with the function public.json names (assignment.toml ``student_check``)."""
    module, _, function = _load(data_file).get("student_check", "fixtures.student_check").rpartition(".")
    # the copy's folder (public.json's) imported as a package, so that its modules import their
    # siblings relatively; deepgrade.portable is importable beside it under its own name
    import importlib
    import importlib.util
    import sys

    folder, package = Path(data_file or DATA).parent, "_deepgrade_check_copy"
    for key in [k for k in sys.modules if k == package or k.startswith(package + ".")]:
        del sys.modules[key]
    spec = importlib.util.spec_from_file_location(
        package, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    sys.modules[package] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sys.modules[package])
    shipped = importlib.import_module(f"{package}.{module}")
    return getattr(shipped, function)(name, functions, explain)


def run_question(name: str, functions: dict, data_file: Path | None = None) -> tuple[float, float, list[Check]]:
    """Run one question's public cases with the student's functions; return (points, max, checks):
    what the public checks earn in the grade, of what they are worth there (``split_points``).
    A question trained in the student's kernel: its own checks, of the question's points."""
    data = _load(data_file)
    q = data["questions"][name]
    explain = data["explanations"]
    if q.get("trained"):
        checks = _trained_checks(name, functions, explain, data_file)
        return question_points(checks, q["points"]), q["points"], checks
    policy = Policy.from_dict(data.get("policy"))
    kept: dict = {}
    returned_values: dict = {}  # what each call sent back (an intermediate a later case reads)
    results = []
    for entry in q["cases"]:
        spec = CaseSpec.from_dict(entry)
        out = call_runner.run_call(spec.call(), functions, kept, _student_error)
        outcome = call_runner.outcome(out)  # its value decoded, its part calls read
        if outcome.ok:
            returned_values[spec.id] = outcome.value
        if not spec.compare or spec.hidden:
            continue
        returned = outcome.ok and not spec.expect_error
        composite = entry.get("composite") or {}
        records = outcome.parts
        alternative = None
        if returned:
            alternative = _alternative(spec, entry, returned_values) or _part_alternative(spec, composite, records)
        cause = None if outcome.ok else _part_cause(spec.question, composite, records, outcome.error)
        results.append(
            judge(
                spec,
                outcome,
                wire.decode(entry["expected"]) if returned else None,
                {mid: wire.decode(v) for mid, v in entry["mistakes"].items()} if returned else {},
                explain=explain,
                policy=policy,
                alternative=alternative,
                cause=cause,
            )
        )
    _, checks = score_question(results, [], q["points"], policy, explain)
    split = split_points(checks, q["points"], q.get("hidden_weight", 0.0))
    return round(split.public, 2), round(split.public_max, 2), checks


def _alternative(spec: CaseSpec, entry: dict, returned_values: dict):
    """The grader's rule for a public case with an own_input (dependencies.own_alternative_for),
    from the pairs public.json ships. returned_values: case id -> what that call returned."""
    own_input = entry.get("own_input")
    if not own_input:
        return None
    own = returned_values.get(own_input["case"])
    if own_input["index"] is not None:
        index = own_input["index"]
        own = own[index] if isinstance(own, tuple) and len(own) > index else None
    reference = wire.decode(own_input["reference"])
    candidates = []
    if wrong_intermediate(own, reference, spec.rtol, spec.atol):
        candidates = [
            (wire.decode(i), wire.decode(e), {mid: wire.decode(v) for mid, v in m.items()})
            for i, e, m in own_input["candidates"]
        ]
    return own_alternative(
        spec.function,
        own_input["function"],
        own_input["what"],
        own,
        reference,
        candidates,
        spec.rtol,
        spec.atol,
        own_input.get("see"),
    )


def _part_alternative(spec: CaseSpec, composite: dict, records: list):
    """The grader's rule for a composite (dependencies.alternative_for), from what public.json ships:
    a catalogued mistake of a part whose trace the student's part calls match gives what a right
    composite returns over it. A wrong part outside the catalogue: this check cannot judge the
    composite there (the grade can); it says so and gives less, never more."""
    if not composite or not records:
        return None
    name, rtol, atol = spec.question, spec.rtol, spec.atol
    for candidate in composite.get("candidates", []):
        trace = [(p, wire.decode(a), wire.decode(v)) for p, a, v in candidate["trace"]]
        if dependencies.trace_matches(trace, records, rtol, atol):
            return dependencies.alternative(name, [candidate["part"]], wire.decode(candidate["expected"]))
    wrong = []
    for p, a, v in composite.get("reference_trace", []):
        args, value = wire.decode(a), wire.decode(v)
        for r in records:
            if r.part == p and r.error is None and dependencies.same_value(r.args, args, rtol, atol):
                if not dependencies.same_value(r.value, value, rtol, atol) and p not in wrong:
                    wrong.append(p)
                break
    if not wrong:
        return None
    return dependencies.alternative(name, wrong, None)


def _part_cause(name: str, composite: dict, records: list, error) -> str | None:
    """Why a composite call did not return, when one of its parts is the cause (see dependencies.py)."""
    names = composite.get("parts", [])
    if not names:
        return None
    return dependencies.raised_part(name, records) or dependencies.missing_part(name, error or {}, names)


def check(name: str, functions: dict, data_file: Path | None = None) -> str:
    """Print the feedback; raise AssertionError (Otter shows it as a failed test) if a check fails."""
    points, max_points, checks = run_question(name, functions, data_file)
    q = _load(data_file)["questions"][name]
    note = TRAINED_NOTE
    if not q.get("trained"):
        hidden_max = fmt_points(round(q["points"] - max_points, 2))
        note = _NOT_SENT.format(
            public=fmt_points(points),
            public_max=fmt_points(max_points),
            hidden_max=hidden_max,
            points=fmt_points(q["points"]),
        )
    text = "\n".join(format_question(name, points, max_points, checks)) + f"\n  ({note})"
    _show_pictures(checks)
    if not all(c.passed for c in checks):
        raise AssertionError("\n" + text)
    print(text)
    return text


def _show_pictures(checks: list) -> None:
    """Learning curves and other pictures a check drew, shown in the notebook (where IPython
    is there to show them; the text feedback says the same in numbers)."""
    pictures = [a for c in checks for a in getattr(c, "attachments", []) if a.get("media_type") == "image/png"]
    if not pictures:
        return
    import base64
    import sys

    ipython = sys.modules.get("IPython.display")  # loaded in a notebook's kernel; never imported here
    if ipython is None:
        return
    for a in pictures:
        ipython.display(ipython.Image(data=base64.b64decode(a["data"])))
