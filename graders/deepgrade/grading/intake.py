"""Batch intake: turn what an instructor names on the command line (notebooks, folders,
LMS zip exports) into one Submission record per gradebook row.

Identity rules (README, "Grading a class"; tests/engine/grading/test_intake*.py):

1. An LMS layout is recognised only at the top level of what was named (a folder or a
   zip; inside a zip's only folder when everything is in it, as a zipped folder is):
       Canvas   a file ``name_12345_67890_file.ipynb`` (also ``name_LATE_...``; the name
                may hold underscores): student id 12345, name "name"
       Moodle   a folder ``First Last_123456_assignsubmission_file_/`` (or the same
                prefix on a flat file name): student id 123456, name "First Last"
   A folder or zip named on the command line whose own name is such an entry is that
   student's.
2. Everything inside a student's entry (their Moodle folder, their uploaded zip, a zip in
   their folder) is theirs, whatever it is named or dated: it never identifies, replaces
   or sets aside another student's submission.
3. Everything else is a plain layout: each notebook is a submission identified by its
   path relative to the folder or zip named (``class/late/alice.ipynb`` is
   "late/alice.ipynb"); a notebook named on the command line by the path as given.
4. One student's several notebooks: one is graded, chosen by, in order: not empty; named
   like the assignment's notebook (``cnn.ipynb``, also Canvas's resubmission names
   ``cnn-1.ipynb``); newest by the LMS's timestamp (the date of the entry in the LMS's zip,
   or on disk the file's time, which unzip sets from it; a file inside a student's own
   zip has the date of that zip, never its own); last by name (natural order), then last
   on the command line. The others get rows "another file of the same student was
   graded: X".

Zips are read member by member into private files named by number (never by the
member's name), with caps on the number of members, each member's size and the total
(zip bombs); absolute and ``..`` names and symbolic links are refused. A zip inside a
named folder or zip is read in its place (zips inside those are not opened). Symbolic
links on disk are never followed. Every file that cannot be graded (a broken zip member,
a link, a file that is not a notebook where no notebook is) gets a row with its reason,
or a note on the row of its student's graded notebook. Names are shown readable: bytes
that are not UTF-8 and control characters as escapes (``Jos\\xe9.ipynb``).
"""

from __future__ import annotations

import hashlib
import mmap
import os
import re
import shutil
import stat
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..portable.status import RowStatus

MAX_MEMBER_BYTES = 20 * 1024 * 1024  # as notebook.MAX_NOTEBOOK_BYTES
MAX_NESTED_ZIP_BYTES = 200 * 1024 * 1024  # a student's own zip inside an export
MAX_ZIP_TOTAL_BYTES = 2 * 1024**3  # extracted from one export zip (a student's zip: MAX_NESTED_ZIP_BYTES)
MAX_EXTRACTED_BYTES = 8 * 1024**3  # extracted in all, by one run
MAX_ZIP_MEMBERS = 20000
MAX_RATIO = 200  # compressed -> uncompressed; JSON compresses about 10x
MAX_STEM_BYTES = 100  # feedback file names: room for suffixes under the usual 255-byte limit

# the name part may hold underscores (doe_jane_12345_67890_cnn.ipynb) and non-ASCII letters
CANVAS = re.compile(r"^(?P<name>[^\W\d][\w-]*?)(?:_LATE)?_(?P<id>\d+)_(?P<sub>\d+)_(?P<file>.+)$")
MOODLE = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_(?:file|onlinetext)_(?P<file>.*)$")
LMS_LAYOUTS = ("canvas", "moodle")
JUNK = {"__MACOSX", ".ipynb_checkpoints", ".DS_Store", "Thumbs.db", "desktop.ini"}
WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}
BIDI = set("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@dataclass
class Submission:
    """One row of the gradebook-to-be. path is None for rows that are not graded (status)."""

    student: str  # identifier: the LMS id, or the notebook's path relative to what was named
    name: str  # display name: the LMS's name for the student, or that path
    source: str  # where it came from, for people: "export.zip:alice_1_2_cnn.ipynb"
    path: Path | None
    stem: str = ""  # unique, filesystem-safe name of its result and feedback files
    status: RowStatus = RowStatus.TO_GRADE  # falsy; or DUPLICATE, SKIPPED: not graded (reason)
    reason: str = ""
    notes: list[str] = field(default_factory=list)
    sha256: str = ""
    mtime: float = 0.0  # the LMS's timestamp used to choose among a student's files (0: none)
    order: int = 0
    layout: str = "path"  # "canvas", "moodle" or "path" (a plain folder)

    @property
    def student_id(self) -> str:
        """The LMS's id of the student ("" for a plain folder, where there is none)."""
        return self.student if self.layout in LMS_LAYOUTS else ""

    @property
    def student_name(self) -> str:
        """The LMS's name of the student ("" for a plain folder)."""
        return self.name if self.layout in LMS_LAYOUTS else ""

    @classmethod
    def skipped(cls, student: str, name: str, source: str, reason: str, layout: str = "path") -> Submission:
        """A row that is not graded, with the reason the instructor reads."""
        return cls(student, name, source, None, status=RowStatus.SKIPPED, reason=reason, layout=layout)


@dataclass
class _Entry:
    """One file found below what was named (on disk, or a zip member)."""

    rel: tuple[str, ...]  # path parts below the root of what was named (may hold surrogates)
    source: str  # readable, for people
    path: Path | None = None  # a regular file to read (on disk, or extracted privately)
    problem: str = ""  # why it cannot be graded (path is None then)
    time: float | None = None  # the timestamp used to choose among one student's files
    depth: int = 0  # zips this entry was read from, below what was named
    ident: str = ""  # identity when named on the command line (the path as given)
    notes: list[str] = field(default_factory=list)
    top: int = 0  # index in rel of the part that decides the layout (1 inside a zipped folder)
    size: int = -1

    @property
    def is_zip(self) -> bool:
        return self.path is not None and self.rel[-1].lower().endswith(".zip")

    @property
    def notebook_like(self) -> bool:
        """A notebook, or something that could have been one (a link, a broken zip member)."""
        return self.rel[-1].lower().endswith((".ipynb", ".zip")) or bool(self.problem and not self.other)

    @property
    def other(self) -> bool:
        return self.problem.startswith("not a notebook")


# --------------------------------------------------------------------------- names


def readable(text: str, controls: bool = True) -> str:
    """A name as people can read it, valid UTF-8: bytes that were not UTF-8 (surrogates from
    os.fsdecode) as \\xNN; with controls, control and bidirectional-override characters
    escaped too (a name cannot break a line or reverse the text around it)."""
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "backslashreplace")
    text = raw.decode("utf-8", "backslashreplace")
    if not controls:
        return text
    return "".join(
        c
        if c not in BIDI and unicodedata.category(c) not in ("Cc", "Cs", "Co")
        else (f"\\x{ord(c):02x}" if ord(c) < 256 else f"\\u{ord(c):04x}")
        for c in text
    )


def safe_stem(text: str) -> str:
    """A file name for feedback: letters (any script, NFC), digits, '_', '-', '.' only."""
    text = unicodedata.normalize("NFC", readable(text))
    text = re.sub(r"[^\w.-]+", "_", text).strip("._-") or "submission"
    while len(text.encode("utf-8")) > MAX_STEM_BYTES:
        text = text[:-1]
    if text.split(".")[0].upper() in WINDOWS_RESERVED:
        text = "_" + text
    return text


def _natural(text: str) -> list:
    """Sort key: cnn-2 before cnn-10."""
    return [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", text) if t]


def _owner(part: str) -> tuple[str, str, str, str] | None:
    """(layout, student id, name, file name) of a top-level entry named like an LMS's."""
    m = MOODLE.match(part)
    if m:
        return "moodle", m["id"], m["name"], m["file"]
    m = CANVAS.match(part)
    if m:
        return "canvas", m["id"], m["name"], m["file"]
    return None


def _is_notebook_name(name: str) -> bool:
    return name.lower().endswith(".ipynb")


def _junk(part: str, folder: bool) -> bool:
    """Files no student means to submit: OS and editor litter, hidden folders (.git), hidden
    files that are not notebooks."""
    hidden = part.startswith(".") and part != ".."  # ".." is refused as unsafe, not ignored
    return part in JUNK or part.startswith("._") or (hidden and (folder or not _is_notebook_name(part)))


def _sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------- folders


def _walk(folder: Path, prefix: tuple[str, ...]) -> list[_Entry]:
    """Every file below folder, sorted by name; links and special files become problems."""
    out: list[_Entry] = []
    stack = [(folder, prefix)]
    while stack:
        d, rel = stack.pop()
        try:
            items = sorted(os.scandir(d), key=lambda e: e.name)
        except OSError as exc:
            out.append(_Entry(rel or (d.name,), readable(str(d)), problem=f"cannot list the folder: {exc.strerror}"))
            continue
        subdirs = []
        for e in items:
            if _junk(e.name, e.is_dir(follow_symlinks=False)):
                continue
            r, src = (*rel, e.name), readable(e.path)
            try:
                if e.is_symlink():
                    out.append(_Entry(r, src, problem="a symbolic link: not followed"))
                elif e.is_dir(follow_symlinks=False):
                    subdirs.append((Path(e.path), r))
                elif not e.is_file(follow_symlinks=False):
                    out.append(_Entry(r, src, problem="not a regular file"))
                elif not (e.name.lower().endswith((".ipynb", ".zip"))):
                    out.append(_Entry(r, src, problem=f"not a notebook ({readable(e.name)})"))
                else:
                    st = e.stat(follow_symlinks=False)
                    out.append(_Entry(r, src, path=Path(e.path), time=st.st_mtime, size=st.st_size))
            except OSError as exc:
                out.append(_Entry(r, src, problem=f"cannot read the file: {exc.strerror}"))
        stack.extend(reversed(subdirs))
    out.sort(key=lambda e: e.rel)
    return out


# --------------------------------------------------------------------------- zips


def _fix_utf8_flags(zpath: Path, copy: Path) -> set[int]:
    """A copy of the zip where entries flagged as UTF-8 with names that are not UTF-8 lose
    the flag (zipfile refuses the whole archive otherwise); returns their header offsets."""
    shutil.copyfile(zpath, copy)
    fixed: set[int] = set()
    with open(copy, "r+b") as fh, mmap.mmap(fh.fileno(), 0) as m:
        end = m.rfind(b"PK\x05\x06", max(0, len(m) - 65557))
        if end < 0:
            return fixed
        pos = int.from_bytes(m[end + 16 : end + 20], "little")
        count = int.from_bytes(m[end + 10 : end + 12], "little")
        for _ in range(count):
            if m[pos : pos + 4] != b"PK\x01\x02":
                break
            flags = int.from_bytes(m[pos + 8 : pos + 10], "little")
            n, x, c = (int.from_bytes(m[pos + k : pos + k + 2], "little") for k in (28, 30, 32))
            local = int.from_bytes(m[pos + 42 : pos + 46], "little")
            name = bytes(m[pos + 46 : pos + 46 + n])
            if flags & 0x800:
                try:
                    name.decode("utf-8")
                except UnicodeDecodeError:
                    m[pos + 8 : pos + 10] = (flags & ~0x800).to_bytes(2, "little")
                    if m[local : local + 4] == b"PK\x03\x04":
                        lf = int.from_bytes(m[local + 6 : local + 8], "little")
                        m[local + 6 : local + 8] = (lf & ~0x800).to_bytes(2, "little")
                    fixed.add(local)
            pos += 46 + n + x + c
    return fixed


class _Zips:
    """Reads zips into private numbered files below one work folder."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.count = 0
        self.left = MAX_EXTRACTED_BYTES

    def folder(self) -> Path:
        self.count += 1
        d = self.work / f"z{self.count}"
        d.mkdir(parents=True, exist_ok=True)
        return d

    def read(self, zpath: Path, prefix: tuple[str, ...], label: str, time: float | None, depth: int) -> list[_Entry]:
        """The members of a zip as entries below prefix; time: the date every member gets
        (a student's zip inside an export: the export's date for it), None: their own."""
        dest = self.folder()
        whole = prefix or (zpath.name,)
        fixed: set[int] = set()
        try:
            try:
                zf = zipfile.ZipFile(zpath)
            except UnicodeDecodeError:
                fixed = _fix_utf8_flags(zpath, dest / "names-fixed.zip")
                zf = zipfile.ZipFile(dest / "names-fixed.zip")
        except (zipfile.BadZipFile, OSError, UnicodeDecodeError, ValueError, EOFError) as exc:
            return [_Entry(whole, label, problem=f"not a readable zip file ({readable(str(exc))[:200]})")]
        with zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            if len(infos) > MAX_ZIP_MEMBERS:
                return [_Entry(whole, label, problem=f"the zip has more than {MAX_ZIP_MEMBERS} files: not opened")]
            out: list[_Entry] = []
            total = 0
            budget = MAX_ZIP_TOTAL_BYTES if depth == 0 else MAX_NESTED_ZIP_BYTES
            for k, info in enumerate(infos):
                name = info.filename
                notes = []
                if info.header_offset in fixed:
                    name = name.encode("cp437").decode("utf-8", "surrogateescape")
                    notes.append("its name in the zip is not valid UTF-8 (shown with escapes)")
                norm = name.replace("\\", "/")
                parts = tuple(p for p in norm.split("/") if p not in ("", "."))
                if not parts or any(_junk(p, i < len(parts) - 1) for i, p in enumerate(parts)):
                    continue
                where = f"{label}:{readable(norm)}"
                unsafe = norm.startswith("/") or ".." in parts or re.match(r"^[A-Za-z]:", norm)
                e = _Entry((*prefix, *parts) if not unsafe else (*prefix, norm), where, depth=depth, notes=notes)
                try:
                    e.time = time if time is not None else datetime(*info.date_time).timestamp()
                except (ValueError, OverflowError):
                    e.time = 0.0
                is_zip = parts[-1].lower().endswith(".zip")
                cap = MAX_NESTED_ZIP_BYTES if is_zip else MAX_MEMBER_BYTES
                if unsafe:
                    e.problem = "unsafe file name in the zip (absolute or '..'): not extracted"
                elif stat.S_ISLNK(info.external_attr >> 16):
                    e.problem = "a symbolic link in the zip: not followed"
                elif is_zip and depth >= 1:
                    e.problem = "a zip inside a zip: not opened"
                elif not (_is_notebook_name(parts[-1]) or is_zip):
                    e.problem = f"not a notebook ({readable(parts[-1])})"
                elif info.file_size > cap or (
                    not is_zip and info.compress_size and info.file_size / max(info.compress_size, 1) > MAX_RATIO
                ):
                    e.problem = (
                        f"the file is larger than {cap // 2**20} MB or compressed suspiciously well (a zip bomb?)"
                    )
                else:
                    target = dest / f"{k}{'.zip' if is_zip else '.ipynb'}"
                    e.problem, written = self._extract(zf, info, target, cap, min(budget - total, self.left))
                    total += written
                    self.left -= written
                    if not e.problem:
                        e.path, e.size = target, written
                out.append(e)
        return out

    @staticmethod
    def _extract(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, cap: int, room: int) -> tuple[str, int]:
        """Stream one member with a hard cap (the sizes in a zip's header may lie)."""
        written = 0
        try:
            with zf.open(info) as src, open(target, "wb") as dst:
                while chunk := src.read(1 << 20):
                    written += len(chunk)
                    if written > cap or written > room:
                        target.unlink(missing_ok=True)
                        return "the file is larger than allowed once uncompressed (a zip bomb?)", 0
                    dst.write(chunk)
        except Exception as exc:  # zlib.error, BadZipFile (CRC), NotImplementedError, RuntimeError, ...
            target.unlink(missing_ok=True)
            return f"could not be extracted from the zip ({type(exc).__name__}: {readable(str(exc))[:120]})", 0
        return "", written

    def open_nested(self, entries: list[_Entry]) -> list[_Entry]:
        """Zips among entries read in their place (one level: zips inside those are not opened)."""
        out: list[_Entry] = []
        for e in entries:
            if not e.is_zip or e.problem:
                out.append(e)
            elif e.depth >= 1:
                e.path, e.problem = None, "a zip inside a zip: not opened"
                out.append(e)
            else:
                members = self.read(e.path, e.rel, e.source, e.time, e.depth + 1)
                for m in members:
                    m.top = e.top
                out.extend(members or [_Entry(e.rel, e.source, problem="an empty zip", top=e.top)])
        return out


# --------------------------------------------------------------------------- what was named


def _named(arg: Path, zips: _Zips) -> list[_Entry]:
    """The entries of one command-line argument, relative to it."""
    try:
        st = arg.stat()
    except OSError as exc:
        return [_Entry((arg.name,), readable(str(arg)), problem=f"cannot read: {exc.strerror}")]
    if arg.is_dir():
        if _owner(arg.name):  # a student's Moodle folder named by itself
            return zips.open_nested(_walk(arg, (arg.name,)))
        return zips.open_nested(_walk(arg, ()))
    if arg.suffix.lower() == ".zip":
        if _owner(arg.name):  # a student's upload named by itself
            return zips.open_nested([_Entry((arg.name,), readable(str(arg)), path=arg, time=st.st_mtime)])
        entries = zips.read(arg, (), readable(str(arg)), None, 0)
        if not entries:
            return [_Entry((arg.name,), readable(str(arg)), problem="an empty zip")]
        tops = {e.rel[0] for e in entries}
        if len(tops) == 1 and all(len(e.rel) >= 2 for e in entries) and not _owner(entries[0].rel[0]):
            for e in entries:  # a zipped folder: the layout is inside its folder
                e.top = 1
        return zips.open_nested(entries)
    # a file named by itself is taken as a notebook, so a broken one gets a row with its reason
    return [
        _Entry(
            (arg.name,),
            readable(str(arg)),
            path=arg,
            time=st.st_mtime,
            ident=os.path.normpath(str(arg)),
            size=st.st_size,
        )
    ]


def expand(args: list[str | Path], workdir: Path, notebook: str = "") -> list[Submission]:
    """Every gradebook row for what ``args`` name (files, folders, zips), by the identity
    rules above. notebook: the assignment's notebook file name (e.g. "cnn.ipynb"), which
    wins among one student's files.

    Zip members are extracted below ``workdir``. Raises FileNotFoundError for an argument
    that does not exist (a typo on the command line is not a student's problem).
    """
    workdir = Path(workdir)
    for arg in map(Path, args):
        if not os.path.lexists(arg):
            raise FileNotFoundError(f"no such file or folder: {arg}")
    zips = _Zips(workdir)
    entries = [e for arg in map(Path, args) for e in _named(arg, zips)]
    rows = _assign(entries, notebook)
    _name_files(rows)
    return rows


# --------------------------------------------------------------------------- students


def _rank(e: _Entry, file_name: str, notebook: str, order: int) -> tuple:
    stem = notebook[: -len(".ipynb")] if notebook.lower().endswith(".ipynb") else notebook
    named = bool(notebook) and re.fullmatch(re.escape(stem) + r"(-\d+)?\.ipynb", file_name, re.I) is not None
    return (e.size != 0, named, e.time or 0.0, _natural(file_name), _natural("/".join(e.rel)), order)


def choose_notebook(paths: list[Path], notebook: str) -> tuple[Path | None, list[Path]]:
    """Among one student's notebook files, the one graded by the batch's rule (``_rank``: not
    empty, named like the assignment's notebook, the newest, then by name) and the others.
    Gradescope uses it too, so a submission with several notebooks is graded alike."""
    ranked = []
    for order, path in enumerate(paths):
        st = os.lstat(path)
        entry = _Entry((path.name,), str(path), path, time=st.st_mtime, size=st.st_size)
        ranked.append((_rank(entry, path.name, notebook, order), path))
    if not ranked:
        return None, []
    ranked.sort(key=lambda r: r[0], reverse=True)
    return ranked[0][1], [p for _, p in ranked[1:]]


def _assign(entries: list[_Entry], notebook: str) -> list[Submission]:
    """Group entries by student (identity rules 1-3), choose one notebook each (rule 4)."""
    students: dict[tuple, list[tuple[int, _Entry, tuple]]] = {}
    plain_dirs_with_notebooks = {
        (e.ident, e.rel[:-1]) for e in entries if e.notebook_like and _owner_of(e) is None and not e.ident
    }
    for order, e in enumerate(entries):
        own = _owner_of(e)
        if own is not None:
            layout, sid, name, _ = own
            key = ("lms", layout, sid)  # Canvas and Moodle ids are different numberings
            who = (layout, sid, readable(name))
        else:
            if not e.notebook_like and (e.ident, e.rel[:-1]) in plain_dirs_with_notebooks:
                continue  # a plain folder's other files beside its notebooks: not submissions
            ident = e.ident or "/".join(e.rel)
            key = ("path", ident)
            who = ("path", readable(ident), readable(ident))
        students.setdefault(key, []).append((order, e, who))

    rows = [row for group in students.values() for row in _student_rows(group, notebook)]
    rows.sort(key=lambda s: s.order)
    # identical content under different students: worth a look, not a penalty
    by_sha: dict[str, list[Submission]] = {}
    for s in rows:
        if s.path is not None and not s.status:
            by_sha.setdefault(s.sha256, []).append(s)
    for same in by_sha.values():
        for s in same if len(same) > 1 else ():
            others = ", ".join(o.name if o.layout == "path" else f"{o.name} ({o.student})" for o in same if o is not s)
            s.notes.append(f"identical file content to the submission of {others}")
    return rows


def _student_rows(group: list[tuple[int, _Entry, tuple]], notebook: str) -> list[Submission]:
    """The rows of one student: the notebook chosen by rule 4, the others not graded."""
    layout, sid, name = group[0][2]

    def row(order: int, e: _Entry, **kw) -> Submission:
        s = Submission(sid, name, e.source, e.path, layout=layout, order=order, mtime=e.time or 0.0, **kw)
        s.notes.extend(e.notes)
        return s

    candidates = []
    for order, e, _ in group:
        if e.path is not None and not e.problem:
            try:
                candidates.append((order, e, _sha(e.path)))
            except OSError as exc:
                e.path, e.problem = None, f"cannot read the file: {exc.strerror}"
    problems = [(o, e) for o, e, _ in group if e.problem]
    if not candidates:
        return [row(o, e, status=RowStatus.SKIPPED, reason=e.problem) for o, e in problems]
    order, keep, sha = max(candidates, key=lambda c: _rank(c[1], _file_name(c[1]), notebook, c[0]))
    kept = row(order, keep, sha256=sha)
    rows = [kept]
    for o, e in problems:
        if e.notebook_like:
            rows.append(row(o, e, status=RowStatus.SKIPPED, reason=e.problem))
        else:
            kept.notes.append(f"also in the submission and not graded: {e.source} ({e.problem})")
    for o, e, h in candidates:
        if e is not keep:
            reason = f"another file of the same student was graded: {keep.source}"
            dup = row(o, e, status=RowStatus.DUPLICATE, reason=reason + (" (identical content)" if h == sha else ""))
            dup.sha256 = h
            rows.append(dup)
    return rows


def _owner_of(e: _Entry) -> tuple[str, str, str, str] | None:
    """The LMS student an entry belongs to, from the part of its path at the top level."""
    if e.ident:  # a file named on the command line
        return _owner(e.rel[0])
    return _owner(e.rel[e.top]) if len(e.rel) > e.top else None


def _file_name(e: _Entry) -> str:
    """The student's own name for the file (Canvas's prefix removed)."""
    own = _owner(e.rel[-1]) if len(e.rel) == e.top + 1 else None
    return own[3] if own else e.rel[-1]


def _name_files(rows: list[Submission]) -> None:
    """Unique, filesystem-safe stems (<name>_<id> for LMS students), unique also where file
    systems ignore case or Unicode normalisation; names that look the same get a note."""
    bases = {}
    for s in rows:
        bases[id(s)] = safe_stem(
            f"{s.name}_{s.student}" if s.layout in LMS_LAYOUTS else re.sub(r"\.ipynb$", "", s.name, flags=re.I)
        )
    taken: set[str] = set()
    for s in rows:
        stem = bases[id(s)] + {RowStatus.DUPLICATE: "-duplicate", RowStatus.SKIPPED: "-skipped"}.get(s.status, "")
        k = 1
        while (stem if k == 1 else f"{stem}-{k}").casefold() in taken:
            k += 1
        s.stem = stem if k == 1 else f"{stem}-{k}"
        taken.add(s.stem.casefold())
    alike: dict[str, list[Submission]] = {}
    for s in rows:
        alike.setdefault(bases[id(s)].casefold(), []).append(s)
    for same in alike.values():
        if len({s.student for s in same}) > 1:
            for s in same:
                others = "; ".join(o.source for o in same if o.student != s.student)
                s.notes.append(
                    f"another submission's name looks the same as a file name ({others}); "
                    f"the feedback files of this one are named {s.stem}"
                )


def describe(subs: list[Submission]) -> str:
    to_grade = sum(1 for s in subs if not s.status)
    dup = sum(1 for s in subs if s.status == RowStatus.DUPLICATE)
    skipped = sum(1 for s in subs if s.status == RowStatus.SKIPPED)
    return f"{to_grade} submission(s) to grade, {dup} duplicate(s), {skipped} file(s) not graded"
