"""The public checks as a student runs them in the notebook, via Otter's ``grader.check``.

Shipped in the student's copy as ``_deepgrade_check/runner.py`` next to ``compare.py``
and ``wire.py`` (the grader's own files) and ``public.json`` (public fixture inputs, their
expected outputs and the catalogued mistakes' outputs on them; nothing hidden). The
student's functions run here, in their own kernel: this is a self-check, not the grade.
"""

from __future__ import annotations

import copy
import json
import traceback
from pathlib import Path

try:  # inside the student copy, a package next to the notebook
    from . import wire
    from .compare import Check, error_check, explain_once, format_question, judge_case, question_points
except ImportError:  # pragma: no cover - imported as deepgrade.student_runner in tests
    from deepgrade import wire
    from deepgrade.compare import Check, error_check, explain_once, format_question, judge_case, question_points

DATA = Path(__file__).with_name("public.json")
_NOT_SENT = "the hidden checks, and any check that needs the grader, run when your notebook is graded"


def _load(data_file: Path | None = None) -> dict:
    return json.loads((data_file or DATA).read_text())


def _student_error(exc: BaseException) -> dict:
    here = str(Path(__file__).parent)
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith(here)]
    where = [{"cell": "?", "line": f.lineno, "function": f.name, "code": (f.line or "")[:200]} for f in frames[-2:]]
    return {"type": type(exc).__name__, "message": str(exc)[:500], "where": where}


def _resolve(arg: dict, kept: dict):
    """A wire value, or {"r": [case, index]}: the output of an earlier case (e.g. a cache)."""
    if "r" not in arg:
        return wire.decode(arg)
    case, index = arg["r"]
    return kept[case] if index is None else kept[case][index]


def _select(value, returns):
    if returns is not None and isinstance(value, (tuple, list)):
        return tuple(v if i in returns else None for i, v in enumerate(value))
    return value


TRAINED_NOTE = "trained in your kernel with the grader's data, seeds, epochs and batch sizes; the grade comes from the grader's own run"


def _trained_checks(name: str, functions: dict, explain: dict, data_file: Path | None) -> list[Check]:
    """A question whose models the grader trains: the assignment's fixtures train them here."""
    try:
        from . import fixtures
    except ImportError:  # pragma: no cover - tests: the fixtures file next to the data file
        import importlib.util

        path = Path(data_file or DATA).with_name("fixtures.py")
        spec = importlib.util.spec_from_file_location("_deepgrade_check_fixtures", path)
        fixtures = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(fixtures)
    return fixtures.student_check(name, functions, explain)


def run_question(name: str, functions: dict, data_file: Path | None = None) -> tuple[float, float, list[Check]]:
    """Run one question's public cases with the student's functions; return (points, max, checks)."""
    data = _load(data_file)
    q = data["questions"][name]
    explain = data["explanations"]
    if q.get("trained"):
        checks = _trained_checks(name, functions, explain, data_file)
        return question_points(checks, q["points"]), q["points"], checks
    checks: list[Check] = []
    kept: dict = {}
    for case in q["cases"]:
        fn = functions.get(case["function"])
        label = case["description"]
        if fn is None or not callable(fn):
            checks.append(
                error_check(
                    label,
                    False,
                    {"type": "Missing", "message": f"no function named {case['function']} is defined", "where": []},
                    1.0,
                )
            )
            continue
        try:
            args = [_resolve(a, kept) for a in case["args"]]
            kwargs = {k: _resolve(v, kept) for k, v in case["kwargs"].items()}
        except KeyError:
            checks.append(
                error_check(
                    label,
                    False,
                    {"type": "Skipped", "message": "depends on an earlier call that failed", "where": []},
                    1.0,
                )
            )
            continue
        before = copy.deepcopy(args)
        try:
            value = fn(*args, **kwargs)
        except Exception as exc:
            if case.get("expect_error") == type(exc).__name__:
                checks.append(Check(f"raises {type(exc).__name__} on {label}", True, 2.0))
            else:
                checks.append(error_check(label, False, _student_error(exc), case["weight"]))
            continue
        if case.get("keep"):
            kept[case["name"]] = value
        if not case["compare"]:
            continue
        if case.get("expect_error"):
            checks.append(
                Check(
                    f"raises {case['expect_error']} on {label}",
                    False,
                    2.0,
                    [f"expected {case['expect_error']} to be raised, but it returned normally"],
                )
            )
            continue
        plain = wire.decode(wire.encode(_select(value, case.get("returns"))))
        expected = wire.decode(case["expected"])
        mutants = {mid: wire.decode(v) for mid, v in case["mutants"].items()}
        checks += judge_case(
            label, False, plain, expected, case["outputs"], mutants, explain, case["rtol"], case["atol"]
        )
        changed = [
            i
            for i, (a, b) in enumerate(zip(before, args))
            if isinstance(a, type(b)) and hasattr(a, "shape") and (a.shape != b.shape or (a != b).any())
        ]
        if changed:
            checks.append(
                Check(
                    "does not modify its inputs",
                    False,
                    1.0,
                    [f"argument {changed[0] + 1} was changed in place on {label}; work on a copy (x.copy())"],
                )
            )
    explain_once(checks, explain)
    return question_points(checks, q["points"]), q["points"], checks


def check(name: str, functions: dict, data_file: Path | None = None) -> str:
    """Print the feedback; raise AssertionError (Otter shows it as a failed test) if a check fails."""
    points, max_points, checks = run_question(name, functions, data_file)
    trained = _load(data_file)["questions"][name].get("trained")
    text = (
        "\n".join(format_question(name, points, max_points, checks)) + f"\n  ({TRAINED_NOTE if trained else _NOT_SENT})"
    )
    if not all(c.passed for c in checks):
        raise AssertionError("\n" + text)
    print(text)
    return text
