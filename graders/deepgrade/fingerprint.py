"""The resume key: everything, besides the notebook, that decides a grade.

A stored result is reused only when its key equals the current one:

    engine   deepgrade's version and a sha256 of the engine's own files (*.py)
    files    sha256 of every file in assignments/<name>/ (assignment.toml, fixtures.py,
             mistakes.toml, data files, ...) and of solutions/<name>.py and
             solutions/<name>_mistakes.py, by path relative to the course folder
    inputs   sha256 of every call the sandbox is sent (plan.build_calls: the cases' inputs as
             encoded, harness programs, time limits): data the fixtures read from elsewhere
             (an instructor's photos or text named by DEEPGRADE_CATS_DOGS, DEEPGRADE_KERAS_TEXT
             or DEEPGRADE_DATA) changes it although no file of the course folder changed

``changes(old, new)`` says in words why a stored key no longer holds.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import metadata
from pathlib import Path

from .assignment import Assignment

ENGINE = Path(__file__).resolve().parent
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
    from .plan import build_calls

    h = hashlib.sha256()
    for call in build_calls(assignment):
        h.update(json.dumps(call, sort_keys=True, separators=(",", ":")).encode() + b"\n")
    return h.hexdigest()


def grading_key(assignment: Assignment, root: Path) -> dict:
    """The resume key of a batch (computed once per batch, stored with every result)."""
    return {"engine": engine_key(), "files": assignment_files(assignment, root), "inputs": inputs_key(assignment)}


def changes(old: object, new: dict, assignment_name: str) -> str | None:
    """Why a stored key differs from ``new`` (None when it does not), e.g.
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
    if old["engine"] != new["engine"]:
        was, now = old["engine"].get("version"), new["engine"].get("version")
        reasons.append(f"deepgrade changed ({was} -> {now})" if was != now else "deepgrade changed (its source)")
    return "; ".join(reasons) or None
