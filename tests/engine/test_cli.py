"""The command line as an instructor meets it: the README's demo, usage errors (one line,
exit 2, no traceback), --version, a fast `list`, and `student --out` that never deletes
what it did not write. The wheel is tested in test_wheel.py."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from deepgrade.cli import main
from helpers import ROOT

DEEPGRADE = [sys.executable, "-m", "deepgrade.cli"]


def _rows(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return {Path(r["file"]).name: r for r in csv.DictReader(fh)}


@pytest.mark.slow  # the README's demo class graded end to end: CI runs it after the fast subset
def test_demo_class_grades_as_the_readme_says(tmp_path):
    """examples/demo.sh without the install step: make the class, grade it, read the gradebook."""
    subprocess.run([sys.executable, str(ROOT / "examples" / "make_class.py"), str(tmp_path / "class")], check=True)
    out = tmp_path / "grades"
    proc = subprocess.run(
        [*DEEPGRADE, "grade", "cnn", str(tmp_path / "class"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "points-per-question" in proc.stdout  # the gradebook is printed
    rows = _rows(out / "final_grades.csv")
    assert rows["points-per-question"]["total_points_earned"] == "22"
    assert rows["ada_lovelace_1001_cnn.ipynb"]["total_points_earned"] == "22"  # the reference
    assert rows["john_nash_1004_cnn.ipynb"]["total_points_earned"] == "0"  # untouched
    assert float(rows["alan_turing_1002_cnn.ipynb"]["conv2d_single"]) < 4  # flipped kernel
    assert rows["alan_turing_1002_cnn.ipynb"]["conv2d"] == "5"
    assert rows["emmy_noether_1005_cnn.ipynb"]["max_pool2d"] == "0"  # endless loop: that question only
    assert rows["emmy_noether_1005_cnn.ipynb"]["conv2d"] == "5"
    assert rows["broken_file_1007_cnn.ipynb"]["total_points_earned"] == "0"
    assert "not valid notebook JSON" in rows["broken_file_1007_cnn.ipynb"]["grading_status"]
    feedback = (out / "feedback").glob("*alan_turing*.txt")
    assert "true convolution" in next(feedback).read_text()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["grade", "nope", "x.ipynb"], "no assignment named 'nope'"),
        (["check", "cnn", "does/not/exist.ipynb"], "no such file"),
        (["grade", "cnn", "does/not/exist"], "does/not/exist"),
    ],
)
def test_unusable_arguments_exit_non_zero_with_a_clear_message(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    code = main([*argv, "--out", str(tmp_path)] if argv[0] == "grade" else argv)
    assert code != 0
    assert message in capsys.readouterr().err


def test_check_prints_feedback_and_exits_zero_whatever_the_score(capsys):
    assert main(["check", "cnn", str(ROOT / "assignments" / "cnn" / "cnn.ipynb")]) == 0
    out = capsys.readouterr().out
    assert "0 / 22 points" in out and "not implemented yet" in out


# --------------------------------------------------------------------------- usage errors


def _cli(args: list[str], cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([*DEEPGRADE, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def _one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("deepgrade: error: "), proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture
def a_file(tmp_path):
    f = tmp_path / "a_file.txt"
    f.write_text("not a folder\n")
    return f


@pytest.mark.parametrize(
    "make_args, needles",
    [
        (lambda f, nb: ["grade", "cnn", nb, "--out", f], ["--out", "is a file, not a folder"]),
        (lambda f, nb: ["student", "cnn", "--out", f], ["--out", "is a file, not a folder"]),
        (lambda f, nb: ["student", "cnn", "--out", f"{f}/sub"], ["is a file, not a folder"]),
        (lambda f, nb: ["grade", "cnn", nb, "--out", f"{f}.d", "--executor", "dask"], ["--scheduler"]),
        (lambda f, nb: ["grade", "cnn", nb, "--executor", "nope"], ["--executor", "invalid choice"]),
        (lambda f, nb: ["grade", "nope", nb], ["no assignment named 'nope'", "available: cnn"]),
        (lambda f, nb: ["grade", "cnn", "does/not/exist.ipynb"], ["no such file or folder: does/not/exist.ipynb"]),
        (lambda f, nb: ["check", "cnn", "does/not/exist.ipynb"], ["no such file"]),
        (lambda f, nb: ["check", "cnn", str(Path(nb).parent)], ["is a folder", "deepgrade grade cnn"]),
        (lambda f, nb: ["grade", "cnn", nb, "--workers", "0"], ["--workers", "at least 1"]),
        (lambda f, nb: ["grade", "cnn", nb, "--workers", "-1"], ["--workers", "at least 1"]),
        (lambda f, nb: ["grade", "cnn", nb, "--workers", "two"], ["--workers", "whole number"]),
        (lambda f, nb: ["--course", str(Path(f).parent), "list"], ["--course", "not a course folder"]),
        (lambda f, nb: ["export", "gradescope", "nope"], ["no assignment named 'nope'"]),
        (lambda f, nb: ["frobnicate"], ["invalid choice"]),
    ],
    ids=[
        "grade-out-file",
        "student-out-file",
        "student-out-below-file",
        "dask-without-scheduler",
        "unknown-executor",
        "unknown-assignment",
        "missing-submission",
        "check-missing",
        "check-folder",
        "workers-0",
        "workers-negative",
        "workers-not-a-number",
        "course-not-a-course",
        "export-unknown",
        "unknown-command",
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(make_args, needles, a_file, tmp_path):
    nb = tmp_path / "nb" / "cnn.ipynb"
    nb.parent.mkdir()
    shutil.copy(ROOT / "assignments" / "cnn" / "cnn.ipynb", nb)
    proc = _cli([str(a) for a in make_args(str(a_file), str(nb))], cwd=tmp_path)
    _one_line_error(proc, *needles)
    assert a_file.read_text() == "not a folder\n"  # untouched


def test_check_of_a_folder_no_longer_prints_ten_messages(tmp_path):
    proc = _cli(["check", "cnn", str(ROOT / "assignments" / "cnn")])
    _one_line_error(proc, "is a folder")
    assert proc.stdout == ""


def test_version_comes_from_the_package_metadata():
    from importlib.metadata import version

    proc = _cli(["--version"])
    assert proc.returncode == 0 and proc.stdout.strip() == f"deepgrade {version('deepgrade')}"


def test_list_reads_only_the_toml_files():
    """No fixtures, no reference, no TensorFlow imported; nothing on stderr."""
    code = (
        "import sys\n"
        "from deepgrade.cli import main\n"
        "code = main(['list'])\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('tensorflow', 'keras', 'solutions', 'nbformat') or m.startswith(('deepgrade_fixtures', 'deepgrade_assignment')))\n"
        "print('LOADED', loaded, code)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "LOADED [] 0" in proc.stdout
    lines = {ln.split()[0]: ln for ln in proc.stdout.splitlines() if not ln.startswith("LOADED")}
    assert set(lines) == {"cnn", "gated", "keras", "rnn"}
    # points read from assignment.toml, summed by hand: cnn 4+1+5+1+4+1+1+2+3
    assert " 22 points " in lines["cnn"]


# --------------------------------------------------------------------------- student --out


def _course_copy(tmp_path: Path) -> Path:
    """assignments/cnn and solutions/cnn*.py in a folder of their own."""
    course = tmp_path / "course"
    shutil.copytree(ROOT / "assignments" / "cnn", course / "assignments" / "cnn")
    (course / "solutions").mkdir()
    for f in ("cnn.py", "cnn_mistakes.py"):
        shutil.copy(ROOT / "solutions" / f, course / "solutions" / f)
    return course


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_student_out_dot_inside_assignments_deletes_nothing(tmp_path):
    """The reported case: `deepgrade student cnn --out .` run inside assignments/ deleted assignments/cnn."""
    course = _course_copy(tmp_path)
    before = _tree(course)
    for extra in ([], ["--force"]):
        proc = _cli(["student", "cnn", "--out", ".", *extra], cwd=course / "assignments")
        _one_line_error(proc, "not a student copy", "nothing was deleted")
        assert _tree(course) == before


def test_student_out_refuses_a_folder_it_did_not_write(tmp_path):
    target = tmp_path / "dist" / "cnn"
    (target / "solutions").mkdir(parents=True)
    (target / "solutions" / "cnn.py").write_text("# the instructor's own\n")
    (target / "assignment.toml").write_text("title = 'mine'\n")
    before = _tree(target)
    for extra in ([], ["--force"]):
        proc = _cli(["student", "cnn", "--out", str(tmp_path / "dist"), *extra])
        _one_line_error(proc, "not a student copy")
        assert _tree(target) == before


def test_student_out_replaces_its_own_copy_only_with_force(tmp_path):
    dist = tmp_path / "dist"
    (dist / "cnn").mkdir(parents=True)  # an empty folder is fine
    first = _cli(["student", "cnn", "--out", str(dist)])
    assert first.returncode == 0, first.stderr
    assert (dist / "cnn" / "cnn.ipynb").is_file()
    listed = json.loads((dist / "cnn" / ".deepgrade-student-copy").read_text())
    assert "_deepgrade_check/public.json" in listed and "cnn.ipynb" in listed

    again = _cli(["student", "cnn", "--out", str(dist)])
    _one_line_error(again, "already holds a student copy", "--force")

    (dist / "cnn" / "cnn.ipynb").write_text("stale")
    forced = _cli(["student", "cnn", "--out", str(dist), "--force"])
    assert forced.returncode == 0, forced.stderr
    assert (dist / "cnn" / "cnn.ipynb").read_text() != "stale"

    # a file the instructor added makes it no longer only ours: kept, refused
    (dist / "cnn" / "my_notes.md").write_text("keep me")
    kept = _cli(["student", "cnn", "--out", str(dist), "--force"])
    _one_line_error(kept, "not a student copy")
    assert (dist / "cnn" / "my_notes.md").read_text() == "keep me"


def test_a_copy_from_before_the_manifest_is_recognised_by_its_layout(tmp_path):
    from deepgrade.course import assignment as asg
    from deepgrade.publish.student import MANIFEST, StudentCopyError, make_student_copy

    a = asg.load("cnn", ROOT)
    out = make_student_copy(a, tmp_path / "cnn")
    (out / MANIFEST).unlink()  # as an older deepgrade wrote it
    assert make_student_copy(a, out, force=True) == out
    (out / MANIFEST).unlink()
    (out / "grades.csv").write_text("the instructor's")
    with pytest.raises(StudentCopyError, match="not a student copy"):
        make_student_copy(a, out, force=True)
    assert (out / "grades.csv").read_text() == "the instructor's"
