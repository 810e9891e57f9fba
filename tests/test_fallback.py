"""The process-mode sandbox (no bubblewrap): DEEPGRADE_SANDBOX=process.

Honest code gets full marks, an endless loop costs only its own question, a cell that
kills its parent does not take the grader down, and a RuntimeWarning says the
isolation is weaker.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from deepgrade import isolation, sandbox

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hostile.build import ALL, _with_cell  # noqa: E402

from helpers import ROOT, filled_notebook, grade_notebook, question  # noqa: E402


@pytest.fixture
def process_mode(monkeypatch):
    """Process mode with isolation.py's module-level caches reset (and restored afterwards)."""
    monkeypatch.setenv("DEEPGRADE_SANDBOX", "process")
    monkeypatch.setattr(isolation, "_BWRAP", None)
    monkeypatch.setattr(isolation, "_WARNED_FORCED", False)
    monkeypatch.setattr(isolation, "_DROP_OK", None)


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
from deepgrade import assignment as asg, pipeline
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
    env = {**os.environ, "DEEPGRADE_SANDBOX": "process"}
    code = KILLER.format(tests=str(Path(__file__).parent), root=str(ROOT), path=str(path))
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"the grader died (rc {proc.returncode}): {proc.stderr[-2000:]}"
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["isolation"] == "process"
    assert out["points"] == out["max"], out["notes"]
    assert any("PermissionError" in n for n in out["notes"]), out["notes"]
    assert "RuntimeWarning" in proc.stderr and "bubblewrap" in proc.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
def test_child_cannot_write_the_graders_files(process_mode, tmp_path):
    target = tmp_path / "owned-by-root.txt"
    target.write_text("grader's")
    os.chmod(tmp_path, 0o755)
    cells = [(0, f"open({str(target)!r}, 'w').write('pwned')"), (1, f"x = open({str(target)!r}).read()")]
    with pytest.warns(RuntimeWarning):
        run = sandbox.run(cells, [])
    assert run.cells[0].status == "error" and "Permission" in run.cells[0].error["type"]
    assert run.cells[1].status == "ok"  # reading is allowed: no filesystem isolation
    assert target.read_text() == "grader's"
