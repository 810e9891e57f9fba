"""kill -9 a batch midway, run it again: graded submissions are skipped, the rest graded,
and the gradebook equals a --force run's. A stored result is reused only while its resume
key holds: a change to the assignment, its reference or catalogue, or the engine regrades."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from helpers import ROOT, filled_notebook  # noqa: E402

DEEPGRADE = [sys.executable, "-m", "deepgrade.cli"]


def make_class(folder: Path, n: int = 8) -> None:
    ref = filled_notebook("cnn")
    for i in range(n):
        nb = nbformat.from_dict(ref)
        # a second per notebook, so that a kill lands mid-batch
        nb.cells.insert(1, nbformat.v4.new_code_cell(f"import time\ntime.sleep(1.0)\nstudent = {i}"))
        (folder / f"student{i:02d}").mkdir(parents=True)
        nbformat.write(nb, folder / f"student{i:02d}" / "cnn.ipynb")


def run(args, **kw):
    return subprocess.run(DEEPGRADE + args, capture_output=True, text=True, cwd=ROOT, timeout=120, **kw)


def test_kill_and_resume(tmp_path):
    make_class(tmp_path / "class")
    out = tmp_path / "out"
    results = out / "results"
    cmd = DEEPGRADE + ["grade", "cnn", str(tmp_path / "class"), "--out", str(out), "--workers", "2", "--quiet"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(results.glob("*.json"))) < 2:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the batch and its workers, as a power cut would
    proc.wait()
    done = sorted(results.glob("*.json"))
    assert 2 <= len(done) < 8, f"{len(done)} results when killed"
    assert not (out / "final_grades.csv").exists()
    mtimes = {p.name: p.stat().st_mtime_ns for p in done}

    again = run(["grade", "cnn", str(tmp_path / "class"), "--out", str(out), "--workers", "2", "--quiet"])
    assert again.returncode == 0, again.stderr
    m = re.search(r"resuming: (\d+) submission", again.stderr)
    assert m and int(m.group(1)) == len(done), again.stderr
    assert {p.name: p.stat().st_mtime_ns for p in done} == mtimes  # not regraded
    resumed = (out / "final_grades.csv").read_text()

    forced = run(
        [
            "grade",
            "cnn",
            str(tmp_path / "class"),
            "--out",
            str(tmp_path / "forced"),
            "--workers",
            "2",
            "--force",
            "--quiet",
        ]
    )
    assert forced.returncode == 0, forced.stderr
    assert resumed == (tmp_path / "forced" / "final_grades.csv").read_text()
    rows = resumed.splitlines()[2:]
    assert len(rows) == 8 and all(",22,100.0,completed" in r for r in rows)

    # a changed file is regraded, the others skipped
    nb = tmp_path / "class" / "student03" / "cnn.ipynb"
    nb.write_text(nb.read_text().replace("student = 3", "student = 33"))
    third = run(["grade", "cnn", str(tmp_path / "class"), "--out", str(out), "--quiet"])
    assert "resuming: 7 submission(s)" in third.stderr and "1 to grade" in third.stderr


# --------------------------------------------------------------------------- the resume key


def _course_copy(tmp_path: Path) -> Path:
    """assignments/cnn and solutions/cnn*.py in a course folder of their own, to be edited."""
    course = tmp_path / "course"
    shutil.copytree(ROOT / "assignments" / "cnn", course / "assignments" / "cnn")
    (course / "solutions").mkdir()
    for f in ("cnn.py", "cnn_mistakes.py"):
        shutil.copy(ROOT / "solutions" / f, course / "solutions" / f)
    return course


def _gradebook(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return {Path(r["file"]).name: r for r in csv.DictReader(fh)}


def test_a_changed_assignment_is_regraded_and_says_why(tmp_path):
    """The issue's case: relu 1 -> 3 points in assignment.toml; the stored rows kept the old
    points. Now every stored result is regraded, with one line saying why."""
    course = _course_copy(tmp_path)
    (tmp_path / "class").mkdir()
    for name in ("ada", "alan"):
        nbformat.write(filled_notebook("cnn"), tmp_path / "class" / f"{name}.ipynb")
    out = tmp_path / "grades"

    def grade() -> subprocess.CompletedProcess:
        proc = run(["--course", str(course), "grade", "cnn", str(tmp_path / "class"), "--out", str(out), "--quiet"])
        assert proc.returncode == 0, proc.stderr
        return proc

    grade()
    book = _gradebook(out / "final_grades.csv")
    assert book["points-per-question"]["relu"] == "1"
    assert book["ada.ipynb"]["total_points_earned"] == "22"

    unchanged = grade()
    assert "resuming: 2 submission(s)" in unchanged.stderr and "regrading" not in unchanged.stderr

    toml = course / "assignments" / "cnn" / "assignment.toml"
    toml.write_text(toml.read_text().replace("relu = 1\n", "relu = 3\n"))
    changed = grade()
    assert "regrading 2 submission(s): the assignment changed (assignment.toml)" in changed.stderr
    book = _gradebook(out / "final_grades.csv")
    assert book["points-per-question"]["relu"] == "3"
    for name in ("ada.ipynb", "alan.ipynb"):  # a perfect notebook: 22 - 1 + 3
        assert book[name]["relu"] == "3" and book[name]["total_points_earned"] == "24"

    # the mistake catalogue's implementations are part of the key too
    mistakes = course / "solutions" / "cnn_mistakes.py"
    mistakes.write_text(mistakes.read_text() + "\n# edited\n")
    assert "regrading 2 submission(s): the assignment changed (solutions/cnn_mistakes.py)" in grade().stderr

    # and the engine: a result stored by another deepgrade version is regraded
    stored = out / "results" / next(p.name for p in (out / "results").glob("*.json"))
    data = json.loads(stored.read_text())
    data["key"]["engine"]["version"] = "0.0.1"
    stored.write_text(json.dumps(data))
    again = grade()
    assert "regrading 1 submission(s): deepgrade changed (0.0.1 -> " in again.stderr
    assert "resuming: 1 submission(s)" in again.stderr


def test_the_key_names_every_file_that_decides_a_grade():
    from deepgrade import assignment as asg
    from deepgrade import fingerprint

    a = asg.load("cnn", ROOT)
    key = fingerprint.grading_key(a, ROOT)
    for f in ("assignment.toml", "fixtures.py", "mistakes.toml"):
        assert f"assignments/cnn/{f}" in key["files"]
    assert {"solutions/cnn.py", "solutions/cnn_mistakes.py"} <= set(key["files"])
    assert not [f for f in key["files"] if f.startswith("solutions/") and "cnn" not in f]
    assert key["engine"]["version"] and len(key["engine"]["source"]) == 64
    assert fingerprint.changes(key, key, "cnn") is None


def test_the_key_covers_the_inputs_and_says_so_when_only_they_change():
    """Inputs the fixtures build from outside the course folder (an instructor's photos or text)
    are in the key through the calls the sandbox is sent: a changed input regrades."""
    from deepgrade import assignment as asg
    from deepgrade import fingerprint

    a = asg.load("cnn", ROOT)
    key = fingerprint.grading_key(a, ROOT)
    assert len(key["inputs"]) == 64
    case = a.questions[0].cases[0]
    old_args = case.args
    try:
        case.args = tuple(x + 1 if hasattr(x, "shape") else x for x in case.args)
        moved = fingerprint.grading_key(a, ROOT)
    finally:
        case.args = old_args
    assert moved["inputs"] != key["inputs"] and moved["files"] == key["files"]
    assert "the fixtures' inputs changed" in fingerprint.changes(key, moved, "cnn")
    assert fingerprint.changes(key, fingerprint.grading_key(a, ROOT), "cnn") is None


_KERAS_INPUTS = (
    "import sys; from pathlib import Path; from deepgrade import assignment as asg, fingerprint as fp; "
    "print(fp.inputs_key(asg.load('keras', Path(sys.argv[1]))))"
)


def test_an_instructors_text_changes_the_keras_key(tmp_path):
    """DEEPGRADE_KERAS_TEXT names a file outside the course folder: the files' key cannot see it,
    the inputs' key does (each in its own process, as two batch runs would be)."""
    text = tmp_path / "moby.txt"
    text.write_text("Call me Ishmael. Some years ago, never mind how long precisely. " * 2000)
    keys = []
    for extra in ({}, {"DEEPGRADE_KERAS_TEXT": str(text)}):
        env = {k: v for k, v in os.environ.items() if not k.startswith("DEEPGRADE_")} | extra
        proc = subprocess.run(
            [sys.executable, "-c", _KERAS_INPUTS, str(ROOT)], capture_output=True, text=True, env=env, timeout=300
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        keys.append(proc.stdout.split()[-1])
    assert len(keys[0]) == 64 and keys[0] != keys[1]
