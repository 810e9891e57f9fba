"""Odd inputs a class hands in (unreadable, duplicated, misnamed): each gets a row with its reason, the batch completes, and every
other student's row is intact (final_grades.csv, canvas.csv, moodle.csv, feedback and the
summary all written).

The sandbox is not the subject here: ``ContentGrader`` stands in for it, scoring a
notebook by the fraction written in its metadata, so a row's points show which file was
graded under it (files that cannot be read go through the real notebook.read).
Real grading of the identity attacks is in tests/security/test_intake_attacks.py."""

from __future__ import annotations

import csv
import json
import os
import unicodedata
import zipfile
from pathlib import Path

import pytest

from deepgrade.batch import run as batch
from deepgrade.course import assignment as asg
from deepgrade.grading import intake, notebook
from helpers import ROOT


@pytest.fixture(scope="module")
def cnn():
    return asg.load("cnn", ROOT)


def nb(score: float, tag: str = "") -> bytes:
    meta = json.dumps({"score": score, "tag": tag})
    return b'{"cells": [], "metadata": %s, "nbformat": 4, "nbformat_minor": 5}' % meta.encode()


class ContentGrader:
    """An executor that grades by the score in a notebook's metadata (no sandbox)."""

    def __init__(self, assignment, notes: list[str] | None = None) -> None:
        self.assignment, self.notes, self.seen = assignment, notes or [], []

    def map_unordered(self, fn, items):
        for _, _, path, student, *_with_run in items:  # (the batch asks for the run too: none here)
            self.seen.append(path)
            qs = self.assignment.questions
            try:
                score = float(notebook.read(Path(path)).metadata.get("score", 0))
            except notebook.NotebookError as exc:
                yield {"file": path, "student": student, "assignment": "cnn", "status": "unreadable",
                       "reason": str(exc), "questions": []}  # fmt: skip
                continue
            yield {
                "file": path,
                "student": student,
                "assignment": "cnn",
                "status": "graded",
                "notes": list(self.notes),
                "questions": [{"name": q.name, "points": q.points * score, "max_points": q.points} for q in qs],
            }


def grade(assignment, args, tmp_path, out="out", **kw):
    """intake + grade_batch as `deepgrade grade` runs them; the rows of every report."""
    subs = intake.expand(args, tmp_path / "work", notebook="cnn.ipynb")
    grader = ContentGrader(assignment, **kw)
    results = batch.grade_batch(assignment, subs, tmp_path / out, executor=grader, progress=False, root=ROOT)
    o = tmp_path / out
    with open(o / "final_grades.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))[1:]
    assert len(rows) == len(subs) == len(results)
    for name in ("canvas.csv", "moodle.csv", "summary.html", "summary.json"):
        (o / name).read_bytes().decode("utf-8")  # written, valid UTF-8
    for r in rows:  # every row's feedback is there
        assert (o / r["feedback"]).is_file(), r["feedback"]
        assert (o / r["feedback"]).with_suffix(".txt").read_bytes().decode("utf-8")
    pages = [p for p in (o / "feedback").glob("*.html") if not p.name.endswith(".report.html")]
    assert len(pages) == len(rows)  # unique feedback files
    return subs, rows


def honest(folder: Path) -> None:
    """Two students whose rows must stay intact: alice 50 %, bob 25 %."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "alice.ipynb").write_bytes(nb(0.5, "alice"))
    (folder / "bob.ipynb").write_bytes(nb(0.25, "bob"))


def honest_members() -> dict[str, bytes]:
    return {"alice.ipynb": nb(0.5, "alice"), "bob.ipynb": nb(0.25, "bob")}


def row(rows, suffix: str) -> dict:
    (found,) = [r for r in rows if r["file"].endswith(suffix)]
    return found


def assert_intact(rows) -> None:
    a, b = row(rows, "alice.ipynb"), row(rows, "bob.ipynb")
    assert (a["total_points_earned"], a["grading_status"]) == ("11", "completed")
    assert (b["total_points_earned"], b["grading_status"]) == ("5.5", "completed")


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


# --------------------------------------------------------------------------- zips


def test_zip_names_longer_than_the_file_system_allows(cnn, tmp_path):
    long_file = "x" * 300 + ".ipynb"
    long_path = "d" * 250 + "/" + "e" * 250 + "/cnn.ipynb"
    z = make_zip(tmp_path / "class.zip", {**honest_members(), long_file: nb(1.0), long_path: nb(0.75)})
    subs, rows = grade(cnn, [z], tmp_path)
    assert row(rows, long_file)["total_points_earned"] == "22"
    assert row(rows, long_path)["total_points_earned"] == "16.5"
    assert all(len(s.stem.encode()) <= intake.MAX_STEM_BYTES for s in subs)
    assert_intact(rows)


def test_a_corrupt_deflate_stream(cnn, tmp_path):
    z = make_zip(tmp_path / "class.zip", {**honest_members(), "carol.ipynb": nb(1.0, "c" * 200)})
    with zipfile.ZipFile(z) as zf:
        info = zf.getinfo("carol.ipynb")
    data = bytearray(z.read_bytes())
    start = info.header_offset + 30 + len("carol.ipynb")
    data[start] = 0xFF  # deflate block type 3: reserved, an error
    z.write_bytes(bytes(data))
    subs, rows = grade(cnn, [z], tmp_path)
    carol = row(rows, "carol.ipynb")
    assert carol["total_points_earned"] == "0"
    assert carol["grading_status"].startswith("failed: could not be extracted from the zip (error:")
    assert_intact(rows)


def test_an_invalid_name_flagged_as_utf8(cnn, tmp_path):
    z = make_zip(tmp_path / "class.zip", {**honest_members(), "Jos\u00e9.ipynb": nb(1.0)})
    data = z.read_bytes()
    assert data.count("Jos\u00e9".encode()) == 2  # local header and central directory, flagged UTF-8
    z.write_bytes(data.replace("Jos\u00e9".encode(), b"Jos\xe9!"))
    with pytest.raises(UnicodeDecodeError):
        zipfile.ZipFile(z)  # what crashed the batch
    subs, rows = grade(cnn, [z], tmp_path)
    jose = row(rows, "Jos\\xe9!.ipynb")
    assert jose["total_points_earned"] == "22" and jose["grading_status"] == "completed"
    (sub,) = [s for s in subs if s.source.endswith("Jos\\xe9!.ipynb")]
    assert sub.notes == ["its name in the zip is not valid UTF-8 (shown with escapes)"]
    assert_intact(rows)


def test_a_zip_with_a_file_and_a_folder_of_the_same_name(cnn, tmp_path):
    z = make_zip(tmp_path / "class.zip", {**honest_members(), "x.ipynb": nb(1.0), "x.ipynb/y.ipynb": nb(0.75)})
    subs, rows = grade(cnn, [z], tmp_path)
    assert row(rows, ":x.ipynb")["total_points_earned"] == "22"
    assert row(rows, ":x.ipynb/y.ipynb")["total_points_earned"] == "16.5"
    assert_intact(rows)


def test_nested_zips_inside_a_students_folder(cnn, tmp_path):
    d = tmp_path / "moodle"
    honest(d)  # (top-level plain files beside the Moodle folders)
    jane = d / "Jane Doe_1_assignsubmission_file_"
    jane.mkdir()
    inner = make_zip(tmp_path / "inner.zip", {"cnn.ipynb": nb(0.1)})
    make_zip(jane / "upload.zip", {"cnn.ipynb": nb(1.0), "deeper.zip": inner.read_bytes()})
    subs, rows = grade(cnn, [d], tmp_path)
    graded = row(rows, "upload.zip:cnn.ipynb")
    assert (graded["student_id"], graded["student_name"], graded["total_points_earned"]) == ("1", "Jane Doe", "22")
    deeper = row(rows, "upload.zip:deeper.zip")
    assert deeper["grading_status"] == "failed: a zip inside a zip: not opened" and deeper["student_id"] == "1"
    assert_intact(rows)


def test_an_empty_zip_and_a_broken_zip(cnn, tmp_path):
    d = tmp_path / "class"
    honest(d)
    make_zip(d / "empty.zip", {})
    (d / "broken.zip").write_bytes(b"PK\x03\x04 not really")
    subs, rows = grade(cnn, [d], tmp_path)
    assert row(rows, "empty.zip")["grading_status"] == "failed: an empty zip"
    assert row(rows, "broken.zip")["grading_status"].startswith("failed: not a readable zip file")
    assert_intact(rows)


# --------------------------------------------------------------------------- names on disk


def test_a_name_that_is_not_utf8_on_disk_and_resuming(cnn, tmp_path):
    """As unzip makes from a Windows zip: the crash came at the report stage and left a
    header-only final_grades.csv, and resuming failed the same way."""
    d = tmp_path / "class"
    honest(d)
    raw = os.path.join(os.fsencode(d), b"Jos\xe9.ipynb")
    with open(raw, "wb") as fh:
        fh.write(nb(1.0))
    for attempt in ("first", "resumed"):
        subs, rows = grade(cnn, [d], tmp_path)
        jose = row(rows, "Jos\\xe9.ipynb")
        assert jose["total_points_earned"] == "22" and jose["grading_status"] == "completed", attempt
        assert_intact(rows)
    assert [s.stem for s in subs if "Jos" in s.name] == ["Jos_xe9"]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert "Jos\\xe9.ipynb" in [st["name"] for st in summary["students"]]


def test_names_that_collide_after_normalisation(cnn, tmp_path):
    """Case, Unicode NFC/NFD and sanitised characters: distinct students, distinct feedback."""
    d = tmp_path / "class"
    honest(d)
    names = [
        "Carol.ipynb",
        "carol.ipynb",
        unicodedata.normalize("NFC", "Jos\u00e9.ipynb"),
        unicodedata.normalize("NFD", "Jos\u00e9.ipynb"),
        "a b.ipynb",
        "a_b.ipynb",
        "a?b.ipynb",
    ]
    for i, n in enumerate(names):
        (d / n).write_bytes(nb(round(0.1 * (i + 1), 2), n))
    assert len(os.listdir(d)) == 2 + len(names)
    subs, rows = grade(cnn, [d], tmp_path)
    assert len(rows) == 2 + len(names)
    stems = [s.stem.casefold() for s in subs]
    assert len(set(stems)) == len(stems)
    for i, n in enumerate(names):
        (sub,) = [s for s in subs if s.student == n]
        r = next(r for r in rows if r["file"] == str(d / n))
        assert r["grading_status"] == "completed" and float(r["total_points_earned"]) == pytest.approx(
            22 * round(0.1 * (i + 1), 2)
        )
        assert any("looks the same" in note for note in sub.notes), n
    assert_intact(rows)


def test_empty_files(cnn, tmp_path):
    d = tmp_path / "class"
    honest(d)
    (d / "carol.ipynb").write_bytes(b"")
    subs, rows = grade(cnn, [d], tmp_path)
    carol = row(rows, "carol.ipynb")
    assert carol["grading_status"] == "failed: the file is empty" and carol["total_points_earned"] == "0"
    assert_intact(rows)


# --------------------------------------------------------------------------- symbolic links


def test_symlinks_are_never_followed(cnn, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.ipynb").write_bytes(nb(1.0, "secret"))
    d = tmp_path / "class"
    honest(d)
    (d / "link.ipynb").symlink_to(outside / "secret.ipynb")
    (d / "linkdir").symlink_to(outside)
    (d / "dangling.ipynb").symlink_to(tmp_path / "nowhere")
    z = tmp_path / "links.zip"
    with zipfile.ZipFile(z, "w") as zf:
        info = zipfile.ZipInfo("zlink.ipynb")
        info.external_attr = (0o120777 << 16) | 0x20  # a symbolic link member
        zf.writestr(info, str(outside / "secret.ipynb"))
    subs, rows = grade(cnn, [d, z], tmp_path)
    for name, reason in [
        ("/link.ipynb", "a symbolic link: not followed"),
        ("/linkdir", "a symbolic link: not followed"),
        ("dangling.ipynb", "a symbolic link: not followed"),
        ("zlink.ipynb", "a symbolic link in the zip: not followed"),
    ]:
        r = row(rows, name)
        assert (r["grading_status"], r["total_points_earned"]) == (f"failed: {reason}", "0"), name
    assert not any("secret" in r["file"] for r in rows)
    assert len(rows) == 6
    assert_intact(rows)


# --------------------------------------------------------------------------- messages


def test_a_message_with_lone_surrogates_cannot_stop_the_reports(cnn, tmp_path):
    """Student code can raise with any text; it comes back through JSON as lone surrogates."""
    d = tmp_path / "class"
    honest(d)
    subs, rows = grade(cnn, [d], tmp_path, notes=[json.loads('"cell 2: ValueError: \\udce9\\ud800"')])
    text = (tmp_path / "out" / "feedback" / "alice.txt").read_text(encoding="utf-8")
    assert "note: cell 2: ValueError: \\udce9\\ud800" in text
    assert_intact(rows)
