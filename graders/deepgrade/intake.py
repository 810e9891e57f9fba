"""Batch intake: turn what an instructor has (notebooks, folders, LMS zip exports) into
one Submission record per student.

Accepted on the command line:
    a notebook             alice.ipynb (any other file named is taken as a notebook too,
                           so a broken one gets a row with its reason)
    a folder               every .ipynb and .zip below it
    a zip file             an LMS export, extracted safely into a private folder

Students are identified from names, in this order:
    Canvas                 ``name_12345_67890_file.ipynb`` (also ``name_LATE_12345_...``; the
                           name may hold underscores: ``doe_jane_12345_...``):
                           id 12345 (Canvas user id), name "name"
    Moodle                 ``First Last_123456_assignsubmission_file_/file.ipynb`` (one
                           folder per student) or the same prefix on a flat file name:
                           id 123456 (participant id), name "First Last"
    one folder per student ``alice/cnn.ipynb`` below a named folder or zip: "alice"
    otherwise              the file's stem: ``alice.ipynb`` -> "alice"

Zip files are read member by member with caps on the number of members, each member's
size and the total (a zip bomb), and on names (absolute paths and ``..`` are refused:
zip-slip). Members that are not notebooks give a row with a reason when the student
has no notebook; a student who submitted twice keeps the newest (then the last named)
and the other becomes a "duplicate" row. Identical content under two students is noted
on both rows.
"""

from __future__ import annotations

import hashlib
import os
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

MAX_MEMBER_BYTES = 20 * 1024 * 1024  # as notebook.MAX_NOTEBOOK_BYTES
MAX_ZIP_TOTAL_BYTES = 2 * 1024**3
MAX_ZIP_MEMBERS = 20000
MAX_RATIO = 200  # compressed -> uncompressed; JSON compresses about 10x

# the name part may hold underscores (doe_jane_12345_67890_cnn.ipynb) and non-ASCII letters
CANVAS = re.compile(r"^(?P<name>[^\W\d][\w-]*?)(?:_LATE)?_(?P<id>\d+)_(?P<sub>\d+)_(?P<file>.+)$")
MOODLE = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_(?:file|onlinetext)_(?P<file>.*)$")


@dataclass
class Submission:
    """One row of the gradebook-to-be. path is None for rows that are not graded (status)."""

    student: str  # identifier (LMS id when known, else a name)
    name: str  # display name
    source: str  # where it came from, for people: "export.zip:alice_1_2_cnn.ipynb"
    path: Path | None
    stem: str = ""  # unique, filesystem-safe name of its result files
    status: str = ""  # "" (to grade), "duplicate", "skipped"
    reason: str = ""
    notes: list[str] = field(default_factory=list)
    sha256: str = ""
    mtime: float = 0.0
    order: int = 0

    @classmethod
    def skipped(cls, student: str, name: str, source: str, reason: str) -> Submission:
        """A row that is not graded, with the reason the instructor reads."""
        return cls(_safe_name(student), name, source, None, status="skipped", reason=reason)


def identify(rel: PurePosixPath, nested: bool) -> tuple[str, str]:
    """(student id, display name) from a path relative to what was named on the command line."""
    m = CANVAS.match(rel.name)
    if m:
        return m["id"], m["name"]
    for part in reversed(rel.parts[:-1]):
        m = MOODLE.match(part)
        if m:
            return m["id"], m["name"]
    m = MOODLE.match(rel.name)
    if m:
        return m["id"], m["name"]
    if nested and len(rel.parts) > 1:
        return rel.parts[0], rel.parts[0]
    stem = rel.name.rsplit(".", 1)[0] if "." in rel.name else rel.name
    return stem, stem


def _sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._")[:80] or "submission"


def _is_notebook_name(name: str) -> bool:
    return name.lower().endswith(".ipynb")


def _skip_member(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return any(p in ("__MACOSX", ".ipynb_checkpoints") or p.startswith("._") for p in parts)


def _extract_zip(zpath: Path, dest: Path, label: str, out: list[Submission]) -> None:
    """Extract the notebooks of one zip safely; every member becomes a Submission (or a row)."""
    try:
        zf = zipfile.ZipFile(zpath)
    except (zipfile.BadZipFile, OSError) as exc:
        out.append(Submission.skipped(zpath.stem, zpath.stem, label, f"not a readable zip file ({exc})"))
        return
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir() and not _skip_member(i.filename)]
        if len(infos) > MAX_ZIP_MEMBERS:
            out.append(
                Submission.skipped(zpath.stem, zpath.stem, label, f"the zip has more than {MAX_ZIP_MEMBERS} files")
            )
            return
        total = 0
        names = [PurePosixPath(i.filename.replace("\\", "/")).parts for i in infos]
        # one wrapping folder around the student folders (export/alice/cnn.ipynb): look inside it
        wrapped = bool(names) and all(len(p) >= 3 for p in names) and len({p[0] for p in names}) == 1
        for info in infos:
            name = info.filename.replace("\\", "/")
            rel = PurePosixPath(name)
            where = f"{label}:{name}"
            student, display = identify(PurePosixPath(*rel.parts[1:]) if wrapped else rel, nested=True)
            if rel.is_absolute() or ".." in rel.parts or not rel.parts:
                out.append(
                    Submission.skipped(
                        student, display, where, "unsafe file name in the zip (absolute or '..'): not extracted"
                    )
                )
                continue
            if not _is_notebook_name(rel.name):
                out.append(Submission.skipped(student, display, where, f"not a notebook ({rel.name})"))
                continue
            if info.file_size > MAX_MEMBER_BYTES or (
                info.compress_size and info.file_size / max(info.compress_size, 1) > MAX_RATIO
            ):
                out.append(
                    Submission.skipped(
                        student,
                        display,
                        where,
                        f"the file is larger than {MAX_MEMBER_BYTES // 2**20} MB or compressed suspiciously well (a zip bomb?)",
                    )
                )
                continue
            target = dest / Path(*rel.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            # stream with a hard cap: the sizes in the zip's header may lie
            written = 0
            too_big = False
            try:
                with zf.open(info) as src, open(target, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        if written > MAX_MEMBER_BYTES or total + written > MAX_ZIP_TOTAL_BYTES:
                            too_big = True
                            break
                        dst.write(chunk)
            except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError) as exc:
                target.unlink(missing_ok=True)
                out.append(
                    Submission.skipped(
                        student, display, where, f"could not be extracted from the zip ({type(exc).__name__})"
                    )
                )
                continue
            if too_big:
                target.unlink(missing_ok=True)
                out.append(
                    Submission.skipped(
                        student, display, where, "the file is larger than allowed once uncompressed (a zip bomb?)"
                    )
                )
                continue
            total += written
            try:
                mtime = datetime(*info.date_time).timestamp()
            except (ValueError, OverflowError):
                mtime = 0.0
            out.append(Submission(_safe_name(student), display, where, target, mtime=mtime))


def expand(args: list[str | Path], workdir: Path) -> list[Submission]:
    """Every submission named by ``args`` (files, folders, zips), identified and deduplicated.

    Zip members are extracted below ``workdir``. Raises FileNotFoundError for an argument
    that does not exist (a typo on the command line is not a student's problem).
    """
    workdir = Path(workdir)
    found: list[Submission] = []
    explicit: list[Submission] = []
    for n, arg in enumerate(map(Path, args)):
        if not arg.exists():
            raise FileNotFoundError(f"no such file or folder: {arg}")
        if arg.is_dir():
            for p in sorted(arg.rglob("*")):
                if not p.is_file() or ".ipynb_checkpoints" in p.parts:
                    continue
                rel = PurePosixPath(p.relative_to(arg).as_posix())
                if p.suffix.lower() == ".zip":
                    _extract_zip(p, workdir / f"{n}-{_safe_name(str(rel))}", f"{p}", found)
                elif _is_notebook_name(p.name):
                    student, display = identify(rel, nested=True)
                    found.append(Submission(_safe_name(student), display, str(p), p, mtime=p.stat().st_mtime))
        elif arg.suffix.lower() == ".zip":
            _extract_zip(arg, workdir / f"{n}-{_safe_name(arg.name)}", str(arg), found)
        else:
            rel = PurePosixPath(arg.parent.name, arg.name) if arg.parent.name else PurePosixPath(arg.name)
            student, display = identify(rel, nested=False)
            s = Submission(_safe_name(student), display, str(arg), arg, mtime=arg.stat().st_mtime)
            explicit.append(s)
            found.append(s)
    # the same notebook name in many folders (subs/*/cnn.ipynb): name them by their folder
    by_stem: dict[str, list[Submission]] = {}
    for s in explicit:
        by_stem.setdefault(s.student, []).append(s)
    for group in by_stem.values():
        if len({s.path.resolve().parent for s in group}) > 1 and len({s.path.parent.name for s in group}) == len(group):
            for s in group:
                if s.path.parent.name and not CANVAS.match(s.path.name):
                    s.student = s.name = _safe_name(s.path.parent.name)
    for i, s in enumerate(found):
        s.order = i
        if s.path is not None:
            try:
                s.sha256 = _sha(s.path)
            except OSError as exc:
                s.status, s.reason, s.path = "skipped", f"cannot read the file: {exc.strerror}", None
    return _deduplicate(found)


def _deduplicate(subs: list[Submission]) -> list[Submission]:
    by_student: dict[str, list[Submission]] = {}
    for s in subs:
        by_student.setdefault(s.student, []).append(s)
    rows: list[Submission] = []
    for student, group in by_student.items():
        notebooks = [s for s in group if s.path is not None]
        others = [s for s in group if s.path is None]
        if notebooks:
            keep = max(notebooks, key=lambda s: (s.mtime, s.order))
            for s in others:
                keep.notes.append(f"also in the submission and not graded: {s.source} ({s.reason})")
            for s in notebooks:
                if s is keep:
                    continue
                s.status = "duplicate"
                s.reason = f"another submission of {student} was graded instead: {keep.source}"
                if s.sha256 == keep.sha256:
                    s.reason += " (identical content)"
                rows.append(s)
            rows.append(keep)
        else:
            rows.extend(others)
    rows.sort(key=lambda s: s.order)
    # identical content under different students: worth a look, not a penalty
    by_sha: dict[str, list[Submission]] = {}
    for s in rows:
        if s.path is not None and not s.status:
            by_sha.setdefault(s.sha256, []).append(s)
    for same in by_sha.values():
        if len(same) > 1:
            for s in same:
                others = ", ".join(o.student for o in same if o is not s)
                s.notes.append(f"identical file content to the submission of {others}")
    seen: dict[str, int] = {}
    for s in rows:
        base = (
            _safe_name(s.student)
            + ("-duplicate" if s.status == "duplicate" else "")
            + ("-skipped" if s.status == "skipped" else "")
        )
        k = seen.get(base, 0)
        seen[base] = k + 1
        s.stem = base if k == 0 else f"{base}-{k + 1}"
    return rows


def describe(subs: list[Submission]) -> str:
    to_grade = sum(1 for s in subs if not s.status)
    dup = sum(1 for s in subs if s.status == "duplicate")
    skipped = sum(1 for s in subs if s.status == "skipped")
    return f"{to_grade} submission(s) to grade, {dup} duplicate(s), {skipped} file(s) not graded"


def is_within(path: Path, folder: Path) -> bool:
    try:
        return os.path.commonpath([os.path.realpath(path), os.path.realpath(folder)]) == os.path.realpath(folder)
    except ValueError:
        return False
