"""kill -9 a batch midway, run it again: graded submissions are skipped, the rest graded,
and the gradebook equals a --force run's."""

from __future__ import annotations

import os
import re
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
