"""The process-mode sandbox (no bubblewrap, or a bubblewrap that fails): DEEPGRADE_SANDBOX=process.

Honest code gets full marks, an endless loop costs only its own question, a cell that
kills its parent does not take the grader down, the child cannot read a private course
folder or write the grader's files, and a RuntimeWarning says the isolation is weaker
(and names what the child could read).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import nbformat
import pytest

from deepgrade import sandbox
from deepgrade.sandbox import isolation

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from hostile.build import ALL, _with_cell  # noqa: E402

from helpers import ROOT, filled_notebook, grade_notebook, question  # noqa: E402


@pytest.fixture
def process_mode(monkeypatch):
    """Process mode with isolation.py's module-level caches reset (and restored afterwards).
    These tests grade this repository's course, which may be readable by others wherever the
    clone lies: accepted here (the refusal is test_failclosed.py's)."""
    monkeypatch.setenv("DEEPGRADE_SANDBOX", "process")
    monkeypatch.setenv(isolation.ALLOW_READABLE_ENV, "1")
    monkeypatch.setattr(isolation, "_BWRAP", None)
    monkeypatch.setattr(isolation, "_WARNED_FORCED", False)
    monkeypatch.setattr(isolation, "_CHECKED", {})


def test_missing_bubblewrap_warns(monkeypatch):
    monkeypatch.delenv("DEEPGRADE_SANDBOX", raising=False)
    monkeypatch.setattr(isolation, "_BWRAP", None)
    monkeypatch.setattr(isolation, "bwrap_available", lambda: False)
    with pytest.warns(RuntimeWarning, match="bubblewrap"):
        assert isolation.isolation_mode() == "process"


def test_forced_process_mode_warns_once(process_mode):
    with pytest.warns(RuntimeWarning, match="bubblewrap"):
        assert isolation.isolation_mode() == "process"
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert isolation.isolation_mode() == "process"  # once is enough


def test_reference_full_marks(process_mode, tmp_path):
    with pytest.warns(RuntimeWarning, match="bubblewrap"):
        r = grade_notebook("cnn", filled_notebook("cnn"), tmp_path)
    assert r.isolation == "process"
    assert r.status == "graded", r.reason
    assert r.points == r.max_points, r.notes
    assert r.incidents == []


def test_endless_loop_costs_its_question_only(process_mode, tmp_path):
    nb = filled_notebook("cnn", {"conv2d_single": "def conv2d_single(image, kernel):\n    while True:\n        pass"})
    with pytest.warns(RuntimeWarning, match="bubblewrap"):
        r = grade_notebook("cnn", nb, tmp_path)
    assert r.isolation == "process"
    assert r.incidents == ["timeout"]
    q = question(r, "conv2d_single")
    assert q.points == 0
    assert any("stopped after" in d for c in q.checks for d in c.details), [c.details for c in q.checks]
    for name in ALL:
        if name != "conv2d_single":
            assert question(r, name).points == question(r, name).max_points, name


KILLER = """
import json, os, sys
sys.path.insert(0, {tests!r})
import nbformat
from pathlib import Path
from deepgrade.course import assignment as asg
from deepgrade.grading import pipeline
r = pipeline.grade_file(asg.load("cnn", Path({root!r})), {path!r})
print(json.dumps({{"points": r.points, "max": r.max_points, "notes": r.notes, "isolation": r.isolation}}))
"""


@pytest.mark.skipif(
    os.geteuid() != 0, reason="the child runs as nobody only when the grader is root (see isolation.py)"
)
def test_child_cannot_kill_the_grader(tmp_path):
    """The grader runs in its own process here so that, were the bug back, only it dies."""
    nb = _with_cell(
        filled_notebook("cnn"), "import os\nos.kill(os.getppid(), 9)\nos.killpg(os.getpgid(os.getppid()), 9)", where=2
    )
    path = tmp_path / "killer.ipynb"
    nbformat.write(nb, path)
    env = {**os.environ, "DEEPGRADE_SANDBOX": "process", isolation.ALLOW_READABLE_ENV: "1"}
    code = KILLER.format(tests=str(Path(__file__).resolve().parents[1] / "support"), root=str(ROOT), path=str(path))
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"the grader died (rc {proc.returncode}): {proc.stderr[-2000:]}"
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["isolation"] == "process"
    assert out["points"] == out["max"], out["notes"]
    assert any("PermissionError" in n for n in out["notes"]), out["notes"]
    assert "RuntimeWarning" in proc.stderr and "bubblewrap" in proc.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
def test_child_cannot_write_or_read_the_graders_files(process_mode, tmp_path, request):
    """The child is an unprivileged uid with no capabilities: a world-readable file of the
    grader's can be read (permissions are all there is), not written; a file in a 0700
    folder (pytest's tmp_path, as the course folder should be) cannot even be read."""
    shared = Path(tempfile.mkdtemp(prefix="deepgrade-test-shared-"))  # pytest's tmp is 0700: not "others"
    request.addfinalizer(lambda: shutil.rmtree(shared, ignore_errors=True))
    os.chmod(shared, 0o755)
    target = shared / "owned-by-root.txt"
    target.write_text("grader's")
    os.chmod(target, 0o644)
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    (private / "secret.txt").write_text("secret")
    cells = [
        (0, f"open({str(target)!r}, 'w').write('pwned')"),
        (1, f"x = open({str(target)!r}).read()"),
        (2, f"y = open({str(private / 'secret.txt')!r}).read()"),
    ]
    with pytest.warns(RuntimeWarning):
        run = sandbox.run(cells, [])
    assert run.cells[0].status == "error" and "Permission" in run.cells[0].error["type"]
    assert run.cells[1].status == "ok"
    assert run.cells[2].status == "error" and "Permission" in run.cells[2].error["type"]
    assert target.read_text() == "grader's"


def test_failing_bwrap_falls_back(monkeypatch, tmp_path, request):
    """A bwrap that cannot make the sandbox (here a fake one first on PATH) means the
    fallback, with a warning, and honest code keeps full marks."""
    # where the sandbox uid can reach it (pytest's tmp is 0700: exec would skip it)
    fake = Path(tempfile.mkdtemp(prefix="deepgrade-test-bin-"))
    request.addfinalizer(lambda: shutil.rmtree(fake, ignore_errors=True))
    os.chmod(fake, 0o755)
    (fake / "bwrap").write_text("#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n")
    os.chmod(fake / "bwrap", 0o755)
    monkeypatch.setenv("PATH", f"{fake}:{os.environ['PATH']}")
    monkeypatch.delenv("DEEPGRADE_SANDBOX", raising=False)
    monkeypatch.setenv(isolation.ALLOW_READABLE_ENV, "1")  # this repository's course, wherever it lies
    monkeypatch.setattr(isolation, "_BWRAP", None)
    monkeypatch.setattr(isolation, "_CHECKED", {})
    with pytest.warns(RuntimeWarning, match="bubblewrap"):
        r = grade_notebook("cnn", filled_notebook("cnn"), tmp_path)
    assert r.isolation == "process"
    assert r.points == r.max_points, r.notes


@pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox has a uid of its own only when the grader is root")
def test_fallback_cannot_read_a_private_course(process_mode, tmp_path):
    """The attack that scored 22/22: exec the reference from the course folder. With the
    course folder private (0700, as the warning says), the child cannot read it."""
    from test_batch_hostile import private_assignment

    from deepgrade.course import assignment as asg
    from deepgrade.grading import pipeline

    root = tmp_path / "course"
    private_assignment(root)
    os.chmod(tmp_path, 0o700)
    stub = nbformat.read(ROOT / "assignments" / "cnn" / "cnn.ipynb", as_version=4)
    target = root / "solutions" / "cnn.py"
    nb = _with_cell(
        stub,
        f"try:\n    exec(open({str(target)!r}).read())\nexcept Exception as e:\n    print(e)\n"
        f"import os\nsecret = open({str(root / 'assignments' / 'cnn' / 'fixtures.py')!r}).read()",
    )
    path = tmp_path / "attack.ipynb"
    nbformat.write(nb, path)
    a = asg.load("cnn", root)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = pipeline.grade_file(a, path)
    assert r.isolation == "process"
    assert r.points == 0, [(q.name, q.points) for q in r.questions]
    assert any("PermissionError" in n for n in r.notes), r.notes
    assert not [w for w in caught if "can read" in str(w.message)], [str(w.message) for w in caught]


@pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox has a uid of its own only when the grader is root")
def test_fallback_refuses_a_readable_course_and_warns_once_accepted(process_mode, monkeypatch, request):
    """A course copy others can read (made so here, wherever the clone lies): refused, naming
    it; accepted by the option, a warning names it."""
    from test_batch_hostile import private_assignment

    from deepgrade.course import assignment as asg
    from deepgrade.grading import pipeline

    base = Path(tempfile.mkdtemp(prefix="deepgrade-test-readable-"))
    request.addfinalizer(lambda: shutil.rmtree(base, ignore_errors=True))
    private_assignment(base / "course")
    for dirpath, _, filenames in os.walk(base):
        os.chmod(dirpath, 0o755)
        for f in filenames:
            os.chmod(os.path.join(dirpath, f), 0o644)
    private = pipeline.private_paths(asg.load("cnn", base / "course"))
    monkeypatch.delenv(isolation.ALLOW_READABLE_ENV)
    with pytest.raises(
        isolation.SetupError, match="could read .*/course/solutions.*chmod 700.*--allow-readable-course"
    ):
        isolation.check_fallback(private)
    with pytest.warns(RuntimeWarning, match="can read .*/course/solutions.*chmod 700"):
        isolation.check_fallback(private, allow_readable=True)
