"""The resume key: everything, besides the notebook, that decides a grade, in two parts.

What runs (a change re-runs the student's code in the sandbox):

    inputs   sha256 of every call the sandbox is sent (plan.build_calls: the cases' inputs as
             encoded, harness programs, time limits): data the fixtures read from elsewhere
             (an instructor's photos or text named by DEEPGRADE_CATS_DOGS, DEEPGRADE_KERAS_TEXT
             or DEEPGRADE_DATA) changes it although no file of the course folder changed
    runner   sha256 of the engine's sandbox-side code (portable/, which the sandbox receives
             whole, and RUN_MODULES: the sandbox, its isolation, the channel, the notebook
             reader), the sandbox's limits and read-only paths, Python's and numpy's versions

What scores (a change re-scores the stored outcomes, no student code runs):

    engine   deepgrade's version and a sha256 of all the engine's own files (*.py)
    files    sha256 of every file in assignments/<name>/ (assignment.toml, fixtures.py,
             mistakes.toml, data files, ...) and of solutions/<name>.py and
             solutions/<name>_mistakes.py, by path relative to the course folder

A stored result is reused only when its whole key equals the current one; ``run_key(key)``
is the part that must hold for its stored outcomes to be re-scored. ``changes(old, new)``
says in words what changed, ``regrade(old, new, ...)`` whether that re-scores or re-runs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from functools import cache
from importlib import metadata
from pathlib import Path

from ..course.assignment import Assignment

ENGINE = Path(__file__).resolve().parents[1]  # graders/deepgrade/
# the engine's modules that decide what runs, beside portable/ (shipped to the sandbox whole)
RUN_MODULES = (
    "sandbox/__init__.py",
    "sandbox/isolation.py",
    "sandbox/identity.py",
    "sandbox/limits.py",
    "sandbox/channel.py",
    "sandbox/filecount.py",
    "grading/notebook.py",
)
_SKIP_PARTS = {"__pycache__", ".ipynb_checkpoints"}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def version() -> str:
    """deepgrade's installed version ("unknown" when run from a bare source tree)."""
    try:
        return metadata.version("deepgrade")
    except metadata.PackageNotFoundError:
        return "unknown"


@cache
def engine_key() -> dict[str, str]:
    """{"version": ..., "source": sha256 over the engine's .py files, names included}."""
    h = hashlib.sha256()
    for p in sorted(ENGINE.rglob("*")):
        if p.is_file() and p.suffix == ".py" and not _SKIP_PARTS & set(p.parts):
            h.update(p.relative_to(ENGINE).as_posix().encode() + b"\0" + _sha256(p).encode() + b"\n")
    return {"version": version(), "source": h.hexdigest()}


def assignment_files(assignment: Assignment, root: Path) -> dict[str, str]:
    """{path relative to the course folder: sha256} for the files that grade this assignment."""
    root = Path(root).resolve()
    folder = assignment.folder.resolve()
    files = [
        p
        for p in folder.rglob("*")
        if p.is_file() and not _SKIP_PARTS & set(p.relative_to(folder).parts) and p.suffix != ".pyc"
    ]
    for name in (f"{assignment.name}.py", f"{assignment.name}_mistakes.py"):
        if (root / "solutions" / name).is_file():
            files.append(root / "solutions" / name)
    out = {}
    for p in sorted(files):
        try:
            rel = p.resolve().relative_to(root).as_posix()
        except ValueError:  # an assignment folder outside the course folder
            rel = p.as_posix()
        out[rel] = _sha256(p)
    return out


def inputs_key(assignment: Assignment) -> str:
    """sha256 over the calls the sandbox is sent for this assignment, in order."""
    from ..grading.plan import build_calls

    h = hashlib.sha256()
    for call in build_calls(assignment):
        h.update(json.dumps(call, sort_keys=True, separators=(",", ":")).encode() + b"\n")
    return h.hexdigest()


@cache
def _runner_code() -> str:
    """sha256 over the engine's sandbox-side files, names included."""
    files = sorted((ENGINE / "portable").glob("*.py")) + [ENGINE / m for m in RUN_MODULES]
    h = hashlib.sha256()
    for p in files:  # a module renamed away counts as changed, never as an error
        digest = _sha256(p) if p.is_file() else "missing"
        h.update(p.relative_to(ENGINE).as_posix().encode() + b"\0" + digest.encode() + b"\n")
    return h.hexdigest()


def runner_key(assignment: Assignment) -> str:
    """sha256 over what runs the calls: the sandbox-side code, the limits, the read-only
    paths the sandbox is given, and the Python and numpy the student's code runs on."""
    import numpy

    from ..grading.pipeline import limits_for

    limits = limits_for(assignment)
    described = {
        "code": _runner_code(),
        "limits": dataclasses.asdict(limits) if dataclasses.is_dataclass(limits) else repr(limits),
        "sandbox_ro": list(assignment.contract.sandbox_ro) if assignment.contract else [],
        "python": sys.version,
        "numpy": numpy.__version__,
    }
    return hashlib.sha256(json.dumps(described, sort_keys=True, default=str).encode()).hexdigest()


def grading_key(assignment: Assignment, root: Path) -> dict:
    """The resume key of a batch (computed once per batch, stored with every result)."""
    return {
        "engine": engine_key(),
        "files": assignment_files(assignment, root),
        "inputs": inputs_key(assignment),
        "runner": runner_key(assignment),
    }


def run_key(key: object) -> dict:
    """The part of a key that decides what runs: equal run keys, equal runs (the notebook
    aside). A key that is not a dict (none stored) gives a run key no current one equals."""
    if not isinstance(key, dict):
        return {"inputs": None, "runner": None}
    return {"inputs": key.get("inputs"), "runner": key.get("runner")}


def changes(old: object, new: dict, assignment_name: str) -> str | None:
    """What differs between a stored key and ``new`` (None when nothing does), e.g.
    "the assignment changed (assignment.toml)" or "deepgrade changed (0.1.0 -> 0.2.0)"."""
    if not isinstance(old, dict) or not isinstance(old.get("files"), dict) or not isinstance(old.get("engine"), dict):
        return "they were graded by a deepgrade that kept no resume key"
    reasons = []
    old_files, new_files = old["files"], new["files"]
    changed = sorted(k for k in old_files.keys() | new_files.keys() if old_files.get(k) != new_files.get(k))
    if changed:
        prefix = f"assignments/{assignment_name}/"
        names = [k[len(prefix) :] if k.startswith(prefix) else k for k in changed]
        shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
        reasons.append(f"the assignment changed ({shown})")
    if old.get("inputs") != new.get("inputs") and not changed:
        reasons.append(
            "the fixtures' inputs changed (data named by DEEPGRADE_CATS_DOGS, DEEPGRADE_KERAS_TEXT or DEEPGRADE_DATA?)"
        )
    runner_changed = old.get("runner") != new.get("runner")
    if old["engine"] != new["engine"]:
        was, now = old["engine"].get("version"), new["engine"].get("version")
        what = "its sandbox-side source" if runner_changed and not changed else "its source"
        reasons.append(f"deepgrade changed ({was} -> {now})" if was != now else f"deepgrade changed ({what})")
    elif runner_changed and not changed:
        reasons.append("the sandbox changed (its limits, or the Python or numpy it runs)")
    return "; ".join(reasons) or None


def regrade(old: object, new: dict, assignment_name: str, outcomes_stored: bool) -> tuple[bool, str] | None:
    """Whether a stored result whose notebook is unchanged is re-scored from its stored
    outcomes (True) or re-run (False), and why in words; None when its key still holds.

    outcomes_stored: the run's outcomes are stored for the current run key."""
    why = changes(old, new, assignment_name)
    if why is None:
        return None
    if run_key(old) == run_key(new):
        if outcomes_stored:
            return True, f"re-scored, no student code runs ({why})"
        return False, f"re-run ({why}; the run's outcomes are not stored)"
    return False, f"re-run ({why})"
