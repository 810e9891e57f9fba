"""Both identity attacks (a class folder's subfolders taken as students; an upload posing
as other students), graded for real (sandbox): every student keeps their
own grade. Expected points are independent of deepgrade's bookkeeping: a notebook filled
from the reference earns every point, the untouched student notebook none."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import nbformat

from deepgrade.batch import run as batch
from deepgrade.course import assignment as asg
from helpers import ROOT, filled_notebook


def notebook(full: bool, tag: str) -> bytes:
    """The reference-filled notebook (full marks) or the untouched stub (zero), made unique by
    a harmless markdown cell."""
    nb = filled_notebook("cnn") if full else nbformat.read(ROOT / "assignments" / "cnn" / "cnn.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell(f"submitted by {tag}"))
    return nbformat.writes(nb).encode()


def rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_subfolders_of_a_class_folder_are_not_students(tmp_path):
    """class/ontime/alice.ipynb, class/late/alice.ipynb, class/late/bob.ipynb: the folder
    name "late" was taken as a student, two students collided and a perfect notebook got 0."""
    a = asg.load("cnn", ROOT)
    d = tmp_path / "class"
    for rel, full in [("ontime/alice.ipynb", True), ("late/alice.ipynb", False), ("late/bob.ipynb", True)]:
        (d / rel).parent.mkdir(parents=True, exist_ok=True)
        (d / rel).write_bytes(notebook(full, rel))
    batch.grade_paths(a, [str(d)], tmp_path / "out", workers=2, progress=False)
    got = {Path(r["file"]).relative_to(d).as_posix(): r for r in rows(tmp_path / "out" / "final_grades.csv")[1:]}
    assert {k: (v["total_points_earned"], v["grading_status"]) for k, v in got.items()} == {
        "ontime/alice.ipynb": ("22", "completed"),
        "late/alice.ipynb": ("0", "completed"),
        "late/bob.ipynb": ("22", "completed"),
    }
    canvas = rows(tmp_path / "out" / "canvas.csv")
    assert sorted(r["Student"] for r in canvas[1:]) == ["late/alice.ipynb", "late/bob.ipynb", "ontime/alice.ipynb"]


def test_a_moodle_upload_cannot_pose_as_other_students(tmp_path):
    """Mallory's folder holds a file named like a Canvas entry and a zip whose entries are
    named after Alice's, Bob's and Carol's folders, dated 2099: their real notebooks were set
    aside as duplicates and stubs graded in their place."""
    a = asg.load("cnn", ROOT)
    others = {"Alice Ames": "101", "Bob Brown": "102", "Carol Cruz": "103"}
    export = tmp_path / "moodle.zip"
    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as zf:
        for name, sid in others.items():
            info = zipfile.ZipInfo(f"{name}_{sid}_assignsubmission_file_/cnn.ipynb", date_time=(2099, 1, 1, 0, 0, 0))
            zf.writestr(info, notebook(False, f"Mallory as {name}"))
    when = (2024, 5, 1, 12, 0, 0)
    with zipfile.ZipFile(export, "w") as zf:
        for name, sid in others.items():
            info = zipfile.ZipInfo(f"{name}_{sid}_assignsubmission_file_/cnn.ipynb", date_time=when)
            zf.writestr(info, notebook(True, name))
        m = "Mallory Moss_666_assignsubmission_file_/"
        zf.writestr(zipfile.ZipInfo(m + "cnn.ipynb", date_time=when), notebook(False, "Mallory"))
        zf.writestr(zipfile.ZipInfo(m + "notes_111_1_cnn.ipynb", date_time=when), notebook(False, "as Canvas 111"))
        zf.writestr(zipfile.ZipInfo(m + "extra.zip", date_time=when), evil.getvalue())
    subs, results = batch.grade_paths(a, [str(export)], tmp_path / "out", workers=2, progress=False)

    book = rows(tmp_path / "out" / "final_grades.csv")[1:]
    graded = {r["student_id"]: r for r in book if r["grading_status"] == "completed"}
    assert {sid: (r["student_name"], r["total_points_earned"]) for sid, r in graded.items()} == {
        "101": ("Alice Ames", "22"),
        "102": ("Bob Brown", "22"),
        "103": ("Carol Cruz", "22"),
        "666": ("Mallory Moss", "0"),
    }
    for sid, r in graded.items():
        assert r["feedback"].startswith("feedback/") and (tmp_path / "out" / r["feedback"]).is_file()
        if sid != "666":
            assert r["file"] == f"{export}:{r['student_name']}_{sid}_assignsubmission_file_/cnn.ipynb"
    set_aside = [r for r in book if r["grading_status"] != "completed"]
    assert len(set_aside) == 4 and {r["student_id"] for r in set_aside} == {"666"}
    assert all("another file of the same student was graded" in r["grading_status"] for r in set_aside)
    moodle = {r["Identifier"]: r["Grade"] for r in rows(tmp_path / "out" / "moodle.csv")}
    assert moodle == {"Participant 101": "22", "Participant 102": "22", "Participant 103": "22", "Participant 666": "0"}
