"""intake.py: the identity rules of the README ("Grading a class"), zips read safely, one
notebook chosen per student by the documented rule, nbformat 3 notebooks accepted.

Both identity attacks (a class folder's subfolders taken as students; an upload posing as
other students) are reproduced here at the intake stage (which file is graded
under whose name) and in tests/security/test_intake_attacks.py through real grading."""

from __future__ import annotations

import os
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import pytest

from deepgrade.course import assignment as asg
from deepgrade.grading import intake, pipeline

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "support"))
from helpers import ROOT, filled_notebook  # noqa: E402


def nb(tag: str = "") -> bytes:
    """A tiny notebook whose content is unique per tag (so rows can be told apart by sha256)."""
    return b'{"cells": [], "metadata": {"tag": "%s"}, "nbformat": 4, "nbformat_minor": 5}' % tag.encode()


def write(path: Path, data: bytes | None = None, age: float = 0.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(nb(str(path)) if data is None else data)
    if age:
        t = time.time() - age
        os.utime(path, (t, t))
    return path


def make_zip(path: Path, members: dict[str, bytes], dates: dict[str, tuple] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(dates or {}).get(name, (2024, 5, 1, 12, 0, 0)))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return path


def graded(subs) -> dict[str, intake.Submission]:
    """The row graded for each student."""
    out = {}
    for s in subs:
        if not s.status:
            assert s.student not in out, f"two graded rows for {s.student}"
            out[s.student] = s
    return out


def _within(path: Path, folder: Path) -> bool:
    """path lies in folder once links are resolved."""
    return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(folder))


def sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- LMS layouts


def test_canvas_files_in_a_folder(tmp_path):
    d = tmp_path / "canvas"
    write(d / "doe_jane_12345_67890_cnn.ipynb")
    write(d / "roe_rick_LATE_222_333_cnn.ipynb")
    subs = intake.expand([d], tmp_path / "work")
    assert [(s.student, s.name, s.layout, s.status) for s in subs] == [
        ("12345", "doe_jane", "canvas", ""),
        ("222", "roe_rick", "canvas", ""),
    ]
    assert [(s.student_id, s.student_name, s.stem) for s in subs] == [
        ("12345", "doe_jane", "doe_jane_12345"),
        ("222", "roe_rick", "roe_rick_222"),
    ]
    assert all(s.sha256 and s.path.exists() for s in subs)


def test_moodle_folders(tmp_path):
    d = tmp_path / "moodle"
    write(d / "Jane Doe_123456_assignsubmission_file_" / "cnn.ipynb")
    write(d / "Rick Roe_654321_assignsubmission_file_" / "work" / "cnn.ipynb")
    subs = intake.expand([d], tmp_path / "work")
    assert [(s.student, s.name, s.layout, s.stem) for s in subs] == [
        ("123456", "Jane Doe", "moodle", "Jane_Doe_123456"),
        ("654321", "Rick Roe", "moodle", "Rick_Roe_654321"),
    ]


def test_moodle_flat_names_and_zip(tmp_path):
    z = make_zip(
        tmp_path / "export.zip",
        {"doe_jane_LATE_12345_67890_cnn.ipynb": nb("jane"), "Rick Roe_654321_assignsubmission_file_cnn.ipynb": nb("r")},
    )
    subs = intake.expand([z], tmp_path / "work")
    assert [(s.student, s.name) for s in subs] == [("12345", "doe_jane"), ("654321", "Rick Roe")]
    assert subs[0].source == f"{z}:doe_jane_LATE_12345_67890_cnn.ipynb"
    assert subs[0].path.read_bytes() == nb("jane") and _within(subs[0].path, tmp_path / "work")
    assert subs[0].mtime == pytest.approx(time.mktime((2024, 5, 1, 12, 0, 0, 0, 0, -1)))


def test_a_student_folder_or_upload_named_by_itself(tmp_path):
    """`deepgrade grade cnn export/*`: each Moodle folder and Canvas upload named one by one."""
    a = write(tmp_path / "export" / "Jane Doe_1_assignsubmission_file_" / "cnn.ipynb").parent
    b = write(tmp_path / "export" / "Rick Roe_2_assignsubmission_file_" / "cnn.ipynb").parent
    c = make_zip(tmp_path / "export" / "doe_carl_3_4_upload.zip", {"cnn.ipynb": nb("carl")})
    subs = intake.expand([a, b, c], tmp_path / "work")
    assert [(s.student, s.name, s.status) for s in subs] == [
        ("1", "Jane Doe", ""),
        ("2", "Rick Roe", ""),
        ("3", "doe_carl", ""),
    ]


def test_a_zipped_export_folder(tmp_path):
    """Everything in one folder of the zip (a zipped folder): the layout is inside it."""
    z = make_zip(
        tmp_path / "export.zip",
        {
            "export/Jane Doe_1_assignsubmission_file_/cnn.ipynb": nb("j"),
            "export/Rick Roe_2_assignsubmission_file_/cnn.ipynb": nb("r"),
            "export/__MACOSX/._cnn.ipynb": b"junk",
        },
    )
    subs = intake.expand([z], tmp_path / "work")
    assert [(s.student, s.layout) for s in subs] == [("1", "moodle"), ("2", "moodle")]


def test_lms_names_below_the_top_level_are_plain_paths(tmp_path):
    """A file named like a Canvas entry inside a plain folder is a plain submission."""
    d = tmp_path / "class"
    write(d / "late" / "doe_jane_12345_67890_cnn.ipynb")
    write(d / "late" / "Jane Doe_9_assignsubmission_file_" / "cnn.ipynb")
    subs = intake.expand([d], tmp_path / "work")
    assert [(s.student, s.layout) for s in subs] == [
        ("late/Jane Doe_9_assignsubmission_file_/cnn.ipynb", "path"),
        ("late/doe_jane_12345_67890_cnn.ipynb", "path"),
    ]
    assert all(s.student_id == "" and s.student_name == "" for s in subs)


# --------------------------------------------------------------------------- plain folders


def test_plain_folder_subfolders_are_not_students(tmp_path):
    """The subfolder attack: class/ontime/ and class/late/ took the folder name as the student:
    two students in late/ collided and one perfect notebook got 0."""
    d = tmp_path / "class"
    files = {
        "ontime/alice.ipynb": write(d / "ontime" / "alice.ipynb"),
        "late/alice.ipynb": write(d / "late" / "alice.ipynb"),
        "late/bob.ipynb": write(d / "late" / "bob.ipynb"),
    }
    subs = intake.expand([d], tmp_path / "work")
    assert not any(s.status for s in subs)
    rows = graded(subs)
    assert set(rows) == set(files)
    for ident, path in files.items():
        assert rows[ident].path == path and rows[ident].name == ident and rows[ident].layout == "path"
        assert rows[ident].sha256 == sha(path.read_bytes())
    assert sorted(s.stem for s in subs) == ["late_alice", "late_bob", "ontime_alice"]
    assert "late" not in {s.student for s in subs} and "late" not in {s.name for s in subs}


def test_plain_folders_same_notebook_name(tmp_path):
    d = tmp_path / "class"
    for who in ["alice", "bob", "carol"]:
        write(d / who / "cnn.ipynb")
    subs = intake.expand([d], tmp_path / "work")
    assert [(s.student, s.stem, s.status) for s in subs] == [
        ("alice/cnn.ipynb", "alice_cnn", ""),
        ("bob/cnn.ipynb", "bob_cnn", ""),
        ("carol/cnn.ipynb", "carol_cnn", ""),
    ]


def test_a_plain_student_folder_with_two_notebooks_gives_two_rows(tmp_path):
    d = tmp_path / "class"
    write(d / "alice" / "draft.ipynb", age=3600)
    write(d / "alice" / "final.ipynb")
    subs = intake.expand([d], tmp_path / "work")
    assert [(s.student, s.status) for s in subs] == [("alice/draft.ipynb", ""), ("alice/final.ipynb", "")]


def test_notebooks_named_one_by_one_are_identified_by_the_path_given(tmp_path, monkeypatch):
    """subs/*/cnn.ipynb expanded by the shell: each file by its path as given."""
    monkeypatch.chdir(tmp_path)
    for who in ["alice", "bob"]:
        write(tmp_path / "subs" / who / "cnn.ipynb")
    subs = intake.expand(["subs/alice/cnn.ipynb", "./subs/bob/cnn.ipynb"], tmp_path / "work")
    assert [(s.student, s.stem, s.status) for s in subs] == [
        ("subs/alice/cnn.ipynb", "subs_alice_cnn", ""),
        ("subs/bob/cnn.ipynb", "subs_bob_cnn", ""),
    ]


def test_missing_argument_is_a_usage_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        intake.expand([tmp_path / "nope"], tmp_path / "work")


def test_other_files_beside_notebooks_are_ignored_in_plain_folders(tmp_path):
    d = tmp_path / "class"
    write(d / "alice" / "cnn.ipynb")
    write(d / "alice" / "notes.txt", b"hello")
    write(d / "alice" / ".ipynb_checkpoints" / "cnn-checkpoint.ipynb")
    write(d / ".git" / "objects" / "ab" / "cdef", b"x")
    write(d / "carol" / ".DS_Store", b"x")
    write(d / "bob" / "cnn.py", b"def relu(x): pass")
    subs = intake.expand([d], tmp_path / "work")
    assert [(s.student, s.status, s.reason) for s in subs] == [
        ("alice/cnn.ipynb", "", ""),
        ("bob/cnn.py", "skipped", "not a notebook (cnn.py)"),
    ]


def test_the_same_path_in_two_folders_named_is_one_student(tmp_path):
    """Documented: identity is the path relative to the folder named, so alice.ipynb in
    ontime/ and late/ named separately is one student; the last named is graded."""
    write(tmp_path / "ontime" / "alice.ipynb")
    late = write(tmp_path / "late" / "alice.ipynb")
    subs = intake.expand([tmp_path / "ontime", tmp_path / "late"], tmp_path / "work")
    assert graded(subs)["alice.ipynb"].path == late
    dup = next(s for s in subs if s.status)
    assert dup.status == "duplicate" and dup.reason == f"another file of the same student was graded: {late}"


# --------------------------------------------------------------------------- one student's files


def test_the_assignments_notebook_name_wins(tmp_path):
    d = tmp_path / "moodle" / "Jane Doe_1_assignsubmission_file_"
    keep = write(d / "cnn.ipynb", age=3600)
    write(d / "scratch.ipynb")  # newer
    subs = intake.expand([tmp_path / "moodle"], tmp_path / "work", notebook="cnn.ipynb")
    assert graded(subs)["1"].path == keep
    (dup,) = [s for s in subs if s.status]
    assert dup.status == "duplicate" and dup.reason == f"another file of the same student was graded: {keep}"
    assert dup.stem == "Jane_Doe_1-duplicate"
    assert intake.describe(subs) == "1 submission(s) to grade, 1 duplicate(s), 0 file(s) not graded"


def test_then_the_newest_by_the_lms_date(tmp_path):
    """Canvas resubmissions cnn.ipynb, cnn-1.ipynb: both named like the notebook, the newer wins."""
    z = make_zip(
        tmp_path / "export.zip",
        {"doe_1_10_cnn-1.ipynb": nb("new"), "doe_1_9_cnn.ipynb": nb("old")},
        dates={"doe_1_10_cnn-1.ipynb": (2024, 5, 2, 9, 0, 0), "doe_1_9_cnn.ipynb": (2024, 5, 1, 9, 0, 0)},
    )
    subs = intake.expand([z], tmp_path / "work", notebook="cnn.ipynb")
    assert graded(subs)["1"].path.read_bytes() == nb("new")


def test_then_the_last_by_name(tmp_path):
    same = (2024, 5, 1, 9, 0, 0)
    names = ["doe_1_1_cnn-9.ipynb", "doe_1_2_cnn-10.ipynb", "doe_1_3_cnn-2.ipynb"]
    z = make_zip(tmp_path / "export.zip", {n: nb(n) for n in names}, dates=dict.fromkeys(names, same))
    subs = intake.expand([z], tmp_path / "work", notebook="cnn.ipynb")
    assert graded(subs)["1"].path.read_bytes() == nb("doe_1_2_cnn-10.ipynb")  # natural order: 10 > 9


def test_an_empty_file_is_never_preferred(tmp_path):
    d = tmp_path / "moodle" / "Jane Doe_1_assignsubmission_file_"
    write(d / "cnn.ipynb", b"")
    keep = write(d / "other.ipynb", age=3600)
    subs = intake.expand([tmp_path / "moodle"], tmp_path / "work", notebook="cnn.ipynb")
    assert graded(subs)["1"].path == keep


def test_identical_content_twice_same_student(tmp_path):
    d = tmp_path / "moodle" / "Jane Doe_1_assignsubmission_file_"
    write(d / "a.ipynb", nb("same"), age=60)
    write(d / "b.ipynb", nb("same"))
    subs = intake.expand([tmp_path / "moodle"], tmp_path / "work")
    dup = next(s for s in subs if s.status == "duplicate")
    assert dup.reason.endswith("(identical content)")
    keep = next(s for s in subs if not s.status)
    assert not any("identical file content" in n for n in keep.notes)  # not flagged against itself


def test_identical_content_under_two_students_is_noted(tmp_path):
    d = tmp_path / "class"
    write(d / "alice" / "cnn.ipynb", nb("x"))
    write(d / "bob" / "cnn.ipynb", nb("x"))
    subs = intake.expand([d], tmp_path / "work")
    rows = graded(subs)
    assert rows["alice/cnn.ipynb"].notes == ["identical file content to the submission of bob/cnn.ipynb"]
    assert rows["bob/cnn.ipynb"].notes == ["identical file content to the submission of alice/cnn.ipynb"]


def test_other_files_of_an_lms_student_are_notes_or_rows(tmp_path):
    """A non-notebook file is a note on the student's graded row, or a row of its own when
    the student has no notebook."""
    z = make_zip(
        tmp_path / "export.zip",
        {
            "Jane Doe_1_assignsubmission_file_/cnn.ipynb": nb("j"),
            "Jane Doe_1_assignsubmission_file_/README.md": b"hi",
            "Rick Roe_2_assignsubmission_file_/cnn.py": b"def relu(x): pass",
        },
    )
    subs = intake.expand([z], tmp_path / "work")
    assert [(s.student, s.status, s.reason, s.stem) for s in subs] == [
        ("1", "", "", "Jane_Doe_1"),
        ("2", "skipped", "not a notebook (cnn.py)", "Rick_Roe_2-skipped"),
    ]
    assert subs[0].notes == [
        f"also in the submission and not graded: {z}:Jane Doe_1_assignsubmission_file_/README.md "
        "(not a notebook (README.md))"
    ]
    assert not list((tmp_path / "work").rglob("*.py")) and not list((tmp_path / "work").rglob("*.md"))


# --------------------------------------------------------------------------- attack 2


MOODLE_CLASS = {"Alice": "101", "Bob": "102", "Carol": "103"}


def moodle_attack(root: Path) -> dict[str, bytes]:
    """The impersonation attack: Mallory's upload poses as three other students, with a file
    named like a Canvas entry and a zip whose entries are named after the other students'
    folders and dated 2099. Returns each student's own notebook content."""
    own = {}
    for name, sid in MOODLE_CLASS.items():
        own[sid] = nb(f"real {name}")
        write(root / f"{name}_{sid}_assignsubmission_file_" / "cnn.ipynb", own[sid], age=7200)
    m = root / "Mallory_666_assignsubmission_file_"
    own["666"] = nb("mallory")
    write(m / "cnn.ipynb", own["666"], age=7200)
    write(m / "notes_111_1_cnn.ipynb", nb("stub posing as a Canvas entry"))
    future = (2099, 1, 1, 0, 0, 0)
    members = {f"{n}_{sid}_assignsubmission_file_/cnn.ipynb": nb(f"stub for {n}") for n, sid in MOODLE_CLASS.items()}
    make_zip(m / "extra.zip", members, dates=dict.fromkeys(members, future))
    return own


@pytest.mark.parametrize("as_zip", [False, True], ids=["folder", "zip"])
def test_a_students_upload_cannot_pose_as_other_students(tmp_path, as_zip):
    export = tmp_path / "export"
    own = moodle_attack(export)
    arg = export
    if as_zip:
        arg = tmp_path / "export.zip"
        with zipfile.ZipFile(arg, "w") as zf:
            for p in sorted(export.rglob("*")):
                if p.is_file():
                    zf.write(p, p.relative_to(export).as_posix())
    subs = intake.expand([arg], tmp_path / "work", notebook="cnn.ipynb")
    rows = graded(subs)
    assert set(rows) == set(own)  # no student called 111, none set aside
    for sid, data in own.items():
        if sid != "666":
            assert rows[sid].sha256 == sha(data), sid
    # Mallory's newest file named like the notebook is graded: one from the zip (its members
    # have the zip's own date, not 2099), still as Mallory
    assert "Mallory_666_assignsubmission_file_/extra.zip" in rows["666"].source.replace(os.sep, "/")
    for s in subs:
        if s.status:  # everything Mallory sent is Mallory's
            assert s.student == "666" and s.status == "duplicate", (s.source, s.reason)
            assert s.reason.startswith("another file of the same student was graded: ")
    assert sum(1 for s in subs if s.status) == 4


def test_dates_inside_a_students_zip_are_not_believed(tmp_path):
    """A member of a student's own zip has the zip's date (the LMS's), not its own 2099."""
    d = tmp_path / "moodle" / "Jane Doe_1_assignsubmission_file_"
    keep = write(d / "cnn.ipynb")
    z = make_zip(d / "upload.zip", {"cnn.ipynb": nb("old")}, dates={"cnn.ipynb": (2099, 1, 1, 0, 0, 0)})
    t = time.time() - 3600
    os.utime(z, (t, t))
    subs = intake.expand([tmp_path / "moodle"], tmp_path / "work", notebook="cnn.ipynb")
    assert graded(subs)["1"].path == keep
    (dup,) = [s for s in subs if s.status]
    assert dup.source == f"{z}:cnn.ipynb" and dup.mtime == pytest.approx(t)


def test_a_zip_in_a_students_zip_is_not_opened(tmp_path):
    inner = make_zip(tmp_path / "inner.zip", {"cnn.ipynb": nb("deep")})
    upload = make_zip(tmp_path / "upload.zip", {"cnn.ipynb": nb("mine"), "more.zip": inner.read_bytes()})
    z = make_zip(tmp_path / "export.zip", {"doe_1_2_upload.zip": upload.read_bytes()})
    subs = intake.expand([z], tmp_path / "work")
    assert [(s.student, s.status, s.reason) for s in subs] == [
        ("1", "", ""),
        ("1", "skipped", "a zip inside a zip: not opened"),
    ]
    assert subs[0].path.read_bytes() == nb("mine")
    assert subs[0].source == f"{z}:doe_1_2_upload.zip:cnn.ipynb"


def test_a_zip_in_a_plain_folder_is_read_in_its_place(tmp_path):
    d = tmp_path / "class"
    make_zip(d / "late" / "alice.zip", {"cnn.ipynb": nb("a"), "doe_1_2_cnn.ipynb": nb("pose")})
    subs = intake.expand([d], tmp_path / "work")
    assert [(s.student, s.layout, s.status) for s in subs] == [
        ("late/alice.zip/cnn.ipynb", "path", ""),
        ("late/alice.zip/doe_1_2_cnn.ipynb", "path", ""),
    ]


# --------------------------------------------------------------------------- safe zips


@pytest.mark.parametrize(
    "evil", ["../evil.ipynb", "../../evil.ipynb", "a/../../evil.ipynb", "/tmp/evil-abs.ipynb", "..\\evil.ipynb"]
)
def test_zip_slip_is_refused(tmp_path, evil):
    work = tmp_path / "a" / "b" / "work"
    z = make_zip(tmp_path / "export.zip", {evil: nb("evil"), "alice/cnn.ipynb": nb("a")})
    before = {p for p in tmp_path.rglob("*") if p.is_file()}
    subs = intake.expand([z], work)
    created = {p for p in tmp_path.rglob("*") if p.is_file()} - before
    assert created and all(_within(p, work) for p in created), created
    assert not (tmp_path / "evil.ipynb").exists() and not (tmp_path / "a" / "evil.ipynb").exists()
    assert not Path("/tmp/evil-abs.ipynb").exists()
    bad = [s for s in subs if s.status == "skipped"]
    assert len(bad) == 1 and "unsafe file name" in bad[0].reason and bad[0].path is None
    assert [s.student for s in subs if not s.status] == ["alice/cnn.ipynb"]


def test_zip_bomb_is_refused(tmp_path):
    bomb = b"{" + b" " * (intake.MAX_MEMBER_BYTES + 1024) + b"}"
    z = make_zip(tmp_path / "export.zip", {"mallory/cnn.ipynb": bomb, "alice/cnn.ipynb": nb("a")})
    work = tmp_path / "work"
    subs = intake.expand([z], work)
    rows = {s.student: s for s in subs}
    assert rows["mallory/cnn.ipynb"].status == "skipped" and rows["mallory/cnn.ipynb"].path is None
    assert "zip bomb" in rows["mallory/cnn.ipynb"].reason
    assert not rows["alice/cnn.ipynb"].status
    assert sum(p.stat().st_size for p in work.rglob("*") if p.is_file()) < 1000


def test_zip_bomb_with_lying_header_is_capped(tmp_path, monkeypatch):
    """The sizes in a zip's header may lie: extraction stops at the cap whatever they say."""
    monkeypatch.setattr(intake, "MAX_MEMBER_BYTES", 3 << 20)
    monkeypatch.setattr(intake, "MAX_RATIO", 10**9)  # the header check lets it through
    big = b"x" * (5 << 20)
    z = make_zip(tmp_path / "export.zip", {"mallory/cnn.ipynb": big})
    with zipfile.ZipFile(z) as zf:
        assert zf.infolist()[0].file_size == len(big)
    # rewrite the central directory's file_size to a small lie
    data = bytearray(z.read_bytes())
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 24 : cd + 28] = (100).to_bytes(4, "little")
    z.write_bytes(bytes(data))
    subs = intake.expand([z], tmp_path / "work")
    assert [(s.student, s.status) for s in subs] == [("mallory/cnn.ipynb", "skipped")]
    assert "larger than allowed" in subs[0].reason or "could not be extracted" in subs[0].reason
    assert not [p for p in (tmp_path / "work").rglob("*") if p.is_file()]


def test_an_empty_zip_named_gets_a_row(tmp_path):
    z = make_zip(tmp_path / "export.zip", {})
    subs = intake.expand([z], tmp_path / "work")
    assert [(s.student, s.status, s.reason) for s in subs] == [("export.zip", "skipped", "an empty zip")]


def test_a_students_zip_has_a_smaller_budget(tmp_path, monkeypatch):
    """Extraction from a student's own zip stops at MAX_NESTED_ZIP_BYTES in all."""
    monkeypatch.setattr(intake, "MAX_NESTED_ZIP_BYTES", 3000)
    big = b" " * 2000
    upload = make_zip(tmp_path / "up.zip", {"a.ipynb": nb("a") + big, "b.ipynb": nb("b") + big})
    z = make_zip(tmp_path / "export.zip", {"doe_1_2_up.zip": upload.read_bytes()})
    subs = intake.expand([z], tmp_path / "work")
    assert [(s.student, s.status, s.reason) for s in subs] == [
        ("1", "", ""),
        ("1", "skipped", "the file is larger than allowed once uncompressed (a zip bomb?)"),
    ]


def test_not_a_zip(tmp_path):
    z = write(tmp_path / "export.zip", b"not a zip")
    subs = intake.expand([z], tmp_path / "work")
    assert [(s.student, s.status) for s in subs] == [("export.zip", "skipped")]
    assert "not a readable zip" in subs[0].reason


# --------------------------------------------------------------------------- nbformat 3


def test_nbformat3_is_graded(tmp_path):
    nb3 = nbformat.convert(filled_notebook("cnn"), 3)
    path = tmp_path / "v3" / "alice" / "cnn.ipynb"
    path.parent.mkdir(parents=True)
    path.write_text(nbformat.writes(nb3, version=3))
    assert '"worksheets"' in path.read_text() and '"nbformat": 3' in path.read_text()
    subs = intake.expand([tmp_path / "v3"], tmp_path / "work")
    assert [(s.student, s.status) for s in subs] == [("alice/cnn.ipynb", "")]
    r = pipeline.grade_file(asg.load("cnn", ROOT), subs[0].path)
    assert r.status == "graded", r.reason
    assert r.points > 0
    assert r.points == r.max_points, r.notes
