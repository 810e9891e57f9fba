"""The assignment contract: every key ``assignment.toml`` may hold, its type and its default.

One schema, checked when an assignment is read (``assignment.read_contract``, ``assignment.load``),
so that a typo or a wrong type is one clear error naming the file, the key and what is
allowed, instead of a key silently ignored. The defaults here are the only ones: the
assignment, the pipeline and the reports read them from this module.

    title = "..."                      shown in reports (default: the folder's name)
    notebook = "NAME.ipynb"            the student notebook in the folder (default: NAME.ipynb)
    extras = ["keras"]                 pip extras grading needs (Gradescope requirements.txt)
    sandbox_ro = ["/opt/data"]         extra absolute paths the sandbox sees read-only
    canvas_assignment_id = 12345       the Canvas assignment the gradebook column updates
    pass_percent = 50                  the class summary's pass mark, in % of the points
    student_files = ["fixtures.py"]    files of the folder shipped in the student's copy, for
                                       questions trained in the student's kernel (harness calls);
                                       a glob ("harness/*.py") must match at least one file
    student_files_optional = [...]     the same, shipped only when present (e.g. thresholds.toml)
    student_check = "fixtures.student_check"   module.function in those files that runs
                                       grader.check for such a question
    [questions]    function = points (>= 0), one per student function, in notebook order
    [limits]       cell_seconds, call_seconds (per call, when a case sets none),
                   total_seconds, memory_gb; disk_mb, inodes (whole numbers)
    [points]       the points policy (portable/policy.Policy: shape, no_mutation, expected_error,
                   [points.outputs.<question>] output weights)
    [tolerances.<question>]  rtol, atol for every case of that question
    [uses]         question = ["part", ...]: the student's other functions that question's
                   function calls (cnn_forward = ["conv2d", "relu", ...]); it is judged on the
                   student's own parts too, so a part's mistake costs points only under the part
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ..portable.policy import Policy

# The limits' defaults (assignment.toml [limits]); Case.seconds None means call_seconds.
LIMIT_DEFAULTS: dict[str, float] = {
    "cell_seconds": 10.0,  # wall time per notebook cell
    "call_seconds": 5.0,  # wall time per call of a student function (a case may set its own)
    "total_seconds": 120.0,  # wall time for the whole submission
    "memory_gb": 2.0,  # memory of the sandbox
}
LIMIT_INTEGERS = ("disk_mb", "inodes")  # the sandbox's disk quota (bubblewrap; the fallback caps each file)
DEFAULT_PASS_PERCENT = 50.0

TOP_KEYS = {
    "title": "a string",
    "notebook": "a file name ending in .ipynb",
    "extras": "a list of pip extra names",
    "sandbox_ro": "a list of absolute paths",
    "canvas_assignment_id": "a whole number or a string",
    "pass_percent": "a number from 0 to 100",
    "student_files": "a list of paths relative to the assignment's folder",
    "student_files_optional": "a list of paths relative to the assignment's folder",
    "student_check": 'a "module.function" name in the student files',
    "questions": "a table: function name = points",
    "limits": "a table",
    "points": "a table (the points policy)",
    "tolerances": "a table of tables: [tolerances.<question>] rtol, atol",
    "uses": 'a table: question = ["the questions its function calls", ...]',
}
_DOTTED = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+")


class AssignmentError(ValueError):
    """An assignment.toml that cannot be used (invalid TOML, or breaks the contract); the message
    names the file and the key and says what is allowed."""


@dataclass(frozen=True)
class Limits:
    """Resource limits for one submission's sandbox: the only limits type (``isolation.Limits``
    and ``sandbox.Limits`` are this class). ``[limits]`` in assignment.toml sets the first six
    (in the toml: memory_gb, disk_mb); the other defaults are the engine's."""

    cell_seconds: float = LIMIT_DEFAULTS["cell_seconds"]  # wall time per notebook cell
    call_seconds: float = LIMIT_DEFAULTS["call_seconds"]  # default wall time per call (a case may set its own)
    total_seconds: float = LIMIT_DEFAULTS["total_seconds"]  # wall time for the whole submission
    cpu_seconds: int = 300
    memory_bytes: int = int(LIMIT_DEFAULTS["memory_gb"] * 1024**3)
    max_processes: int = 256
    file_bytes: int = 64 * 1024**2
    open_files: int = 256
    disk_bytes: int = 256 * 1024**2  # each writable tmpfs (bubblewrap): /sandbox, /tmp, /dev/shm
    inodes: int = 100_000  # files and folders in them together (bubblewrap; filecount.py), ~1 KiB each

    @property
    def memory_gb(self) -> float:
        """``memory_bytes`` as assignment.toml writes it."""
        return self.memory_bytes / 1024**3


@dataclass(frozen=True)
class Contract:
    """An assignment.toml, checked, with its defaults."""

    file: Path
    name: str
    title: str
    notebook: str
    questions: dict[str, float]
    limits: Limits = field(default_factory=Limits)
    extras: list[str] = field(default_factory=list)
    sandbox_ro: list[str] = field(default_factory=list)
    canvas_assignment_id: str = ""
    pass_percent: float = DEFAULT_PASS_PERCENT
    student_files: list[str] = field(default_factory=list)
    student_files_optional: list[str] = field(default_factory=list)
    student_check: str | None = None
    policy: Policy = field(default_factory=Policy)
    tolerances: dict[str, dict[str, float]] = field(default_factory=dict)
    uses: dict[str, list[str]] = field(default_factory=dict)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v for v in value)


def check(raw: dict, file: Path, name: str) -> Contract:
    """Check an assignment.toml's table against the contract; raises AssignmentError.

    file: the toml (named in every message); name: the assignment (its folder's name)."""

    def fail(key: str, problem: str) -> AssignmentError:
        return AssignmentError(f"{file}: {key}: {problem}")

    unknown = sorted(set(raw) - set(TOP_KEYS))
    if unknown:
        raise fail(unknown[0], f"unknown key; allowed: {', '.join(TOP_KEYS)}")

    questions = raw.get("questions")
    if not isinstance(questions, dict) or not questions:
        raise AssignmentError(f"{file}: no [questions] table (function name = points)")
    for q, points in questions.items():
        if not _number(points) or points < 0:
            raise AssignmentError(f"{file}: [questions] {q} = {points!r}: points must be a number >= 0")

    title = raw.get("title", name)
    if not isinstance(title, str):
        raise fail("title", f"{TOP_KEYS['title']}, not {title!r}")
    notebook = raw.get("notebook", f"{name}.ipynb")
    if not isinstance(notebook, str) or not notebook.endswith(".ipynb") or "/" in notebook or "\\" in notebook:
        raise fail("notebook", f"{TOP_KEYS['notebook']} (no folder), not {notebook!r}")

    extras = raw.get("extras", [])
    if isinstance(extras, str):
        extras = [extras]
    if not _strings(extras):
        raise AssignmentError(f'{file}: extras must be a list of names, e.g. extras = ["keras"]')

    sandbox_ro = raw.get("sandbox_ro", [])
    if not _strings(sandbox_ro) or not all(p.startswith("/") for p in sandbox_ro):
        raise fail("sandbox_ro", f'{TOP_KEYS["sandbox_ro"]}, e.g. sandbox_ro = ["/opt/data"], not {sandbox_ro!r}')

    cid = raw.get("canvas_assignment_id", "")
    if isinstance(cid, bool) or not isinstance(cid, int | str):
        raise fail("canvas_assignment_id", f"{TOP_KEYS['canvas_assignment_id']}, not {cid!r}")

    pass_percent = raw.get("pass_percent", DEFAULT_PASS_PERCENT)
    if not _number(pass_percent) or not 0 <= pass_percent <= 100:
        raise fail("pass_percent", f"{TOP_KEYS['pass_percent']}, not {pass_percent!r}")

    student_files = raw.get("student_files", [])
    optional = raw.get("student_files_optional", [])
    for key, files in (("student_files", student_files), ("student_files_optional", optional)):
        if not _strings(files) or any(
            PurePosixPath(f).is_absolute() or ".." in PurePosixPath(f).parts or "\\" in f for f in files
        ):
            raise fail(key, f"{TOP_KEYS[key]} (no .., not absolute), not {files!r}")
    student_check = raw.get("student_check")
    if student_check is not None:
        if not isinstance(student_check, str) or not _DOTTED.fullmatch(student_check):
            raise fail("student_check", f"{TOP_KEYS['student_check']}, not {student_check!r}")
        module = student_check.rpartition(".")[0].replace(".", "/") + ".py"
        if module not in student_files:
            raise fail("student_check", f"its module {module} must be one of student_files {student_files}")

    return Contract(
        file=file,
        name=name,
        title=title,
        notebook=notebook,
        questions={q: float(p) for q, p in questions.items()},
        limits=_limits(raw.get("limits", {}), fail),
        extras=list(extras),
        sandbox_ro=list(sandbox_ro),
        canvas_assignment_id=str(cid).strip(),
        pass_percent=float(pass_percent),
        student_files=list(student_files),
        student_files_optional=list(optional),
        student_check=student_check,
        policy=_policy(raw.get("points"), fail),
        tolerances=_tolerances(raw.get("tolerances", {}), questions, fail),
        uses=_uses(raw.get("uses", {}), questions, fail),
    )


def _uses(table: Any, questions: dict, fail) -> dict[str, list[str]]:
    """``[uses]``: each question's parts are other questions, with no cycle (a part of a part is
    listed too when the question's function reaches it: bidirectional_forward -> lstm_step)."""
    if not isinstance(table, dict):
        raise fail("uses", TOP_KEYS["uses"])
    out: dict[str, list[str]] = {}
    for q, parts in table.items():
        key = f"[uses] {q}"
        if q not in questions:
            raise fail(key, f"names no question; the questions are {', '.join(questions)}")
        if not _strings(parts):
            raise fail(key, f'a list of question names, e.g. {q} = ["{next(iter(questions))}"], not {parts!r}')
        unknown = [p for p in parts if p not in questions or p == q]
        if unknown:
            raise fail(key, f"{unknown[0]!r} is not another question of this assignment")
        out[q] = list(dict.fromkeys(parts))

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(p == goal or (p not in seen and reaches(p, goal, seen | {p})) for p in out.get(start, []))

    for q in out:
        if reaches(q, q, {q}):
            raise fail(f"[uses] {q}", "a cycle: a question cannot use itself through its parts")
    return out


def _limits(table: Any, fail) -> Limits:
    if not isinstance(table, dict):
        raise fail("limits", "a table: [limits]")
    allowed = [*LIMIT_DEFAULTS, *LIMIT_INTEGERS]
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in allowed:
            raise fail(f"[limits] {key}", f"unknown key; allowed: {', '.join(allowed)}")
        if key in LIMIT_INTEGERS:
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise fail(f"[limits] {key}", f"a whole number >= 1, not {value!r}")
        elif not _number(value) or value <= 0:
            raise fail(f"[limits] {key}", f"a number > 0, not {value!r}")
        # the toml's units (GB, MB) become the sandbox's bytes
        if key == "memory_gb":
            values["memory_bytes"] = int(value * 1024**3)
        elif key == "disk_mb":
            values["disk_bytes"] = value * 1024**2
        else:
            values[key] = value if key in LIMIT_INTEGERS else float(value)
    return Limits(**values)


def _policy(table: Any, fail) -> Policy:
    if table is not None and not isinstance(table, dict):
        raise fail("points", "a table: [points]")
    try:
        return Policy.from_dict(table)
    except (TypeError, ValueError, AttributeError) as exc:
        raise fail("[points]", str(exc)) from None


def _tolerances(table: Any, questions: dict, fail) -> dict[str, dict[str, float]]:
    if not isinstance(table, dict):
        raise fail("tolerances", TOP_KEYS["tolerances"])
    out = {}
    for q, tol in table.items():
        key = f"[tolerances.{q}]"
        if q not in questions:
            raise fail(key, f"names no question; the questions are {', '.join(questions)}")
        if not isinstance(tol, dict) or not tol or not set(tol) <= {"rtol", "atol"}:
            raise fail(key, f"a table with rtol and/or atol, not {tol!r}")
        if not all(_number(v) and v >= 0 for v in tol.values()):
            raise fail(key, f"rtol and atol must be numbers >= 0, not {tol!r}")
        out[q] = {k: float(v) for k, v in tol.items()}
    return out
