"""intake.py: students identified from LMS names and folders, zips read safely,
duplicates resolved, nbformat 3 notebooks accepted."""

from __future__ import annotations

import os
import sys
import time
import zipfile
from pathlib import Path, PurePosixPath

import nbformat
import pytest

from deepgrade import assignment as asg
from deepgrade import intake, pipeline

sys.path.insert(0, str(Path(__file__).resolve().parent))
from helpers import ROOT, filled_notebook  # noqa: E402

NB = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'


def write(path: Path, data: bytes = NB, age: float = 0.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if age:
        t = time.time() - age
        os.utime(path, (t, t))
    return path


def make_zip(path: Path, members: dict[str, bytes], dates: dict[str, tuple] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(dates or {}).get(name, (2024, 5, 1, 12, 0, 0)))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return path


def by_student(subs):
    out = {}
    for s in subs:
        out.setdefault(s.student, []).append(s)
    return out


# --------------------------------------------------------------------------- identify


@pytest.mark.parametrize(
    "rel, nested, expect",
    [
        ("doe_jane_12345_67890_cnn.ipynb", False, ("12345", "doe_jane")),
        ("doe_jane_LATE_12345_67890_cnn.ipynb", False, ("12345", "doe_jane")),
        ("doejane_12345_67890_cnn-1.ipynb", False, ("12345", "doejane")),
        ("Jane Doe_123456_assignsubmission_file_/cnn.ipynb", True, ("123456", "Jane Doe")),
        ("Jane Doe_123456_assignsubmission_file_cnn.ipynb", False, ("123456", "Jane Doe")),
        ("alice/cnn.ipynb", True, ("alice", "alice")),
        ("alice/work/cnn.ipynb", True, ("alice", "alice")),
        ("alice.ipynb", True, ("alice", "alice")),
        ("alice/cnn.ipynb", False, ("cnn", "cnn")),
    ],
)
def test_identify(rel, nested, expect):
    assert intake.identify(PurePosixPath(rel), nested) == expect


# --------------------------------------------------------------------------- files and folders


def test_canvas_files_in_a_folder(tmp_path):
    d = tmp_path / "canvas"
    write(d / "doe_jane_12345_67890_cnn.ipynb")
    write(d / "roe_rick_LATE_222_333_cnn.ipynb", b'{"cells": [1], "nbformat": 4, "nbformat_minor": 5}')
    subs = intake.expand([d], tmp_path / "work")
    assert [(s.student, s.name, s.status) for s in subs] == [("12345", "doe_jane", ""), ("222", "roe_rick", "")]
    assert [s.stem for s in subs] == ["12345", "222"]
    assert all(s.sha256 and s.path.exists() for s in subs)


def test_moodle_folders(tmp_path):
    d = tmp_path / "moodle"
    write(d / "Jane Doe_123456_assignsubmission_file_" / "cnn.ipynb")
    write(d / "Rick Roe_654321_assignsubmission_file_" / "cnn.ipynb", NB + b" ")
    subs = intake.expand([d], tmp_path / "work")
    assert sorted((s.student, s.name) for s in subs) == [("123456", "Jane Doe"), ("654321", "Rick Roe")]
    assert not any(s.status for s in subs)


def test_plain_folders_same_notebook_name(tmp_path):
    d = tmp_path / "class"
    for i, who in enumerate(["alice", "bob", "carol"]):
        write(d / who / "cnn.ipynb", NB + b" " * i)
    subs = intake.expand([d], tmp_path / "work")
    assert [(s.student, s.stem, s.status) for s in subs] == [
        ("alice", "alice", ""),
        ("bob", "bob", ""),
        ("carol", "carol", ""),
    ]


def test_same_notebook_name_named_one_by_one(tmp_path):
    """subs/*/cnn.ipynb expanded by the shell: each file is named by its folder."""
    paths = [write(tmp_path / who / "cnn.ipynb", NB + b" " * i) for i, who in enumerate(["alice", "bob"])]
    subs = intake.expand(paths, tmp_path / "work")
    assert [(s.student, s.status) for s in subs] == [("alice", ""), ("bob", "")]


def test_missing_argument_is_a_usage_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        intake.expand([tmp_path / "nope"], tmp_path / "work")


def test_non_notebooks_in_a_folder_are_ignored(tmp_path):
    d = tmp_path / "class"
    write(d / "alice" / "cnn.ipynb")
    write(d / "alice" / "notes.txt", b"hello")
    write(d / "alice" / ".ipynb_checkpoints" / "cnn-checkpoint.ipynb")
    subs = intake.expand([d], tmp_path / "work")
    assert [(s.student, s.source) for s in subs] == [("alice", str(d / "alice" / "cnn.ipynb"))]


# --------------------------------------------------------------------------- duplicates


def test_duplicate_keeps_the_newest(tmp_path):
    d = tmp_path / "class"
    write(d / "alice" / "draft.ipynb", NB + b"  ", age=3600)
    write(d / "alice" / "final.ipynb", NB + b" ")
    subs = intake.expand([d], tmp_path / "work")
    rows = {s.stem: s for s in subs}
    assert set(rows) == {"alice", "alice-duplicate"}
    assert rows["alice"].path.name == "final.ipynb" and rows["alice"].status == ""
    dup = rows["alice-duplicate"]
    assert dup.status == "duplicate" and "final.ipynb" in dup.reason and "identical" not in dup.reason
    assert intake.describe(subs) == "1 submission(s) to grade, 1 duplicate(s), 0 file(s) not graded"


def test_duplicate_same_time_keeps_the_last_named(tmp_path):
    d = tmp_path / "class"
    a = write(d / "alice" / "a.ipynb", NB + b" ")
    b = write(d / "alice" / "b.ipynb", NB + b"  ")
    t = time.time() - 100
    for p in (a, b):
        os.utime(p, (t, t))
    subs = intake.expand([d], tmp_path / "work")
    keep = next(s for s in subs if not s.status)
    assert keep.path.name == "b.ipynb"
    assert [s.path.name for s in subs if s.status == "duplicate"] == ["a.ipynb"]


def test_identical_content_twice_same_student(tmp_path):
    d = tmp_path / "class"
    write(d / "alice" / "a.ipynb", age=60)
    write(d / "alice" / "b.ipynb")
    subs = intake.expand([d], tmp_path / "work")
    dup = next(s for s in subs if s.status == "duplicate")
    assert dup.reason.endswith("(identical content)")
    keep = next(s for s in subs if not s.status)
    assert not any("identical file content" in n for n in keep.notes)  # not flagged against itself


def test_identical_content_under_two_students_is_noted(tmp_path):
    d = tmp_path / "class"
    write(d / "alice" / "cnn.ipynb")
    write(d / "bob" / "cnn.ipynb")
    subs = intake.expand([d], tmp_path / "work")
    rows = {s.student: s for s in subs}
    assert not rows["alice"].status and not rows["bob"].status
    assert rows["alice"].notes == ["identical file content to the submission of bob"]
    assert rows["bob"].notes == ["identical file content to the submission of alice"]


# --------------------------------------------------------------------------- zips


def test_zip_nested_folders(tmp_path):
    z = make_zip(
        tmp_path / "export.zip",
        {
            "export/alice/cnn.ipynb": NB,
            "export/bob/sub/cnn.ipynb": NB + b" ",
            "export/__MACOSX/._cnn.ipynb": b"junk",
        },
    )
    work = tmp_path / "work"
    subs = intake.expand([z], work)
    assert [(s.student, s.status) for s in subs] == [("alice", ""), ("bob", "")]
    for s in subs:
        assert intake.is_within(s.path, work) and s.path.read_bytes().startswith(b'{"cells"')
        assert s.source.startswith(f"{z}:export/")
        assert s.mtime == pytest.approx(time.mktime((2024, 5, 1, 12, 0, 0, 0, 0, -1)))


def test_zip_canvas_and_moodle_members(tmp_path):
    z = make_zip(
        tmp_path / "export.zip",
        {
            "doe_jane_LATE_12345_67890_cnn.ipynb": NB,
            "Rick Roe_654321_assignsubmission_file_/cnn.ipynb": NB + b" ",
        },
    )
    subs = intake.expand([z], tmp_path / "work")
    assert sorted((s.student, s.name) for s in subs) == [("12345", "doe_jane"), ("654321", "Rick Roe")]


def test_zip_in_a_folder(tmp_path):
    d = tmp_path / "downloads"
    make_zip(write(d / "x").parent / "export.zip", {"alice/cnn.ipynb": NB})
    subs = intake.expand([d], tmp_path / "work")
    assert [(s.student, s.status) for s in subs] == [("alice", "")]


@pytest.mark.parametrize(
    "evil", ["../evil.ipynb", "../../evil.ipynb", "a/../../evil.ipynb", "/tmp/evil-abs.ipynb", "..\\evil.ipynb"]
)
def test_zip_slip_is_refused(tmp_path, evil):
    work = tmp_path / "a" / "b" / "work"
    z = make_zip(tmp_path / "export.zip", {evil: NB, "alice/cnn.ipynb": NB + b" "})
    before = {p for p in tmp_path.rglob("*") if p.is_file()}
    subs = intake.expand([z], work)
    created = {p for p in tmp_path.rglob("*") if p.is_file()} - before
    assert created and all(intake.is_within(p, work) for p in created), created
    assert not (tmp_path / "evil.ipynb").exists() and not (tmp_path / "a" / "evil.ipynb").exists()
    assert not Path("/tmp/evil-abs.ipynb").exists()
    bad = [s for s in subs if s.status == "skipped"]
    assert len(bad) == 1 and "unsafe file name" in bad[0].reason and bad[0].path is None
    assert [s.student for s in subs if not s.status] == ["alice"]


def test_zip_bomb_is_refused(tmp_path):
    bomb = b"{" + b" " * (intake.MAX_MEMBER_BYTES + 1024) + b"}"
    z = make_zip(tmp_path / "export.zip", {"mallory/cnn.ipynb": bomb, "alice/cnn.ipynb": NB})
    work = tmp_path / "work"
    subs = intake.expand([z], work)
    rows = {s.student: s for s in subs}
    assert rows["mallory"].status == "skipped" and rows["mallory"].path is None
    assert "zip bomb" in rows["mallory"].reason
    assert not rows["alice"].status
    assert not (work / "0-export.zip" / "mallory").exists() or not any((work / "0-export.zip" / "mallory").iterdir())


def test_zip_bomb_with_lying_header_is_capped(tmp_path, monkeypatch):
    """The sizes in a zip's header may lie: extraction stops at the cap whatever they say."""
    monkeypatch.setattr(intake, "MAX_MEMBER_BYTES", 3 << 20)
    monkeypatch.setattr(intake, "MAX_RATIO", 10**9)  # the header check lets it through
    big = b"x" * (5 << 20)
    z = make_zip(tmp_path / "export.zip", {"mallory/cnn.ipynb": big})
    zf = zipfile.ZipFile(z)
    info = zf.infolist()[0]
    zf.close()
    # rewrite the central directory's file_size to a small lie
    data = bytearray(z.read_bytes())
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 24 : cd + 28] = (100).to_bytes(4, "little")
    z.write_bytes(bytes(data))
    assert info.file_size == len(big)
    subs = intake.expand([z], tmp_path / "work")
    assert [(s.student, s.status) for s in subs] == [("mallory", "skipped")]
    assert "larger than allowed" in subs[0].reason or "could not be extracted" in subs[0].reason
    assert not list((tmp_path / "work").rglob("*.ipynb"))


def test_non_notebook_members(tmp_path):
    """Documented: a non-notebook member is a 'skipped' row when its student has no
    notebook, and a note on the graded row when they have one."""
    z = make_zip(
        tmp_path / "export.zip",
        {
            "alice/cnn.ipynb": NB,
            "alice/README.md": b"hi",
            "bob/cnn.py": b"def relu(x): pass",
        },
    )
    subs = intake.expand([z], tmp_path / "work")
    rows = {s.student: s for s in subs}
    assert set(rows) == {"alice", "bob"}
    assert not rows["alice"].status and rows["alice"].notes == [
        f"also in the submission and not graded: {z}:alice/README.md (not a notebook (README.md))"
    ]
    assert rows["bob"].status == "skipped" and rows["bob"].reason == "not a notebook (cnn.py)"
    assert rows["bob"].stem == "bob-skipped"
    assert not list((tmp_path / "work").rglob("*.py")) and not list((tmp_path / "work").rglob("*.md"))


def test_duplicate_in_a_zip_keeps_the_newest(tmp_path):
    z = make_zip(
        tmp_path / "export.zip",
        {"alice/final.ipynb": NB + b" ", "alice/draft.ipynb": NB},
        dates={"alice/final.ipynb": (2024, 5, 2, 9, 0, 0), "alice/draft.ipynb": (2024, 5, 1, 9, 0, 0)},
    )
    subs = intake.expand([z], tmp_path / "work")
    assert [(s.stem, s.path.name, s.status) for s in subs] == [
        ("alice", "final.ipynb", ""),
        ("alice-duplicate", "draft.ipynb", "duplicate"),
    ]


def test_not_a_zip(tmp_path):
    z = write(tmp_path / "export.zip", b"not a zip")
    subs = intake.expand([z], tmp_path / "work")
    assert [(s.student, s.status) for s in subs] == [("export", "skipped")]
    assert "not a readable zip" in subs[0].reason


# --------------------------------------------------------------------------- nbformat 3


def test_nbformat3_is_graded(tmp_path):
    nb3 = nbformat.convert(filled_notebook("cnn"), 3)
    path = tmp_path / "v3" / "alice" / "cnn.ipynb"
    path.parent.mkdir(parents=True)
    path.write_text(nbformat.writes(nb3, version=3))
    assert '"worksheets"' in path.read_text() and '"nbformat": 3' in path.read_text()
    subs = intake.expand([tmp_path / "v3"], tmp_path / "work")
    assert [(s.student, s.status) for s in subs] == [("alice", "")]
    r = pipeline.grade_file(asg.load("cnn", ROOT), subs[0].path)
    assert r.status == "graded", r.reason
    assert r.points > 0
    assert r.points == r.max_points, r.notes
