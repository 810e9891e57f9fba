"""A class of hostile submissions graded in one batch with honest ones.

Every row is checked: honest notebooks get full marks, hostile ones a clear status or
reason and only the points their honest outputs earn; nothing outside the sandbox is
touched (no file written on the host, no connection to a listener the test holds on
loopback, the grading process alive, no pickle payload run).
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import time
from pathlib import Path

import pytest

from deepgrade import assignment as asg
from deepgrade import batch, sandbox

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hostile.build import ALL, build_corpus  # noqa: E402

from helpers import ROOT  # noqa: E402

pytestmark = pytest.mark.skipif(sandbox.isolation_mode() != "bubblewrap", reason="needs bubblewrap")


def private_assignment(root: Path) -> None:
    """A copy of the CNN assignment with short limits (the corpus has many runaway cells)."""
    (root / "assignments").mkdir(parents=True)
    shutil.copytree(ROOT / "assignments" / "cnn", root / "assignments" / "cnn")
    (root / "solutions").mkdir()
    for f in ("cnn.py", "cnn_mistakes.py"):
        shutil.copy(ROOT / "solutions" / f, root / "solutions" / f)
    (root / "solutions" / "__init__.py").write_text("")
    toml = root / "assignments" / "cnn" / "assignment.toml"
    text = toml.read_text()
    start = text.index("[limits]")
    toml.write_text(text[:start] + "[limits]\ncell_seconds = 8\ntotal_seconds = 25\nmemory_gb = 1\n")


def test_hostile_class(tmp_path):
    root = tmp_path / "course"
    private_assignment(root)
    markers = tmp_path / "markers"
    markers.mkdir()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    corpus = tmp_path / "class"
    expect = build_corpus(corpus, port, markers, root)
    host_pwned = [ROOT / "PWNED", Path.home() / "deepgrade-PWNED"]
    for p in host_pwned:
        assert not p.exists()
    before = sorted(os.listdir(ROOT))

    assignment = asg.load("cnn", root)
    out = tmp_path / "out"
    start = time.monotonic()
    subs, results = batch.grade_paths(assignment, [str(corpus)], out, workers=2, progress=False, root=root)
    elapsed = time.monotonic() - start

    rows = {s.stem.removesuffix("_cnn"): r for s, r in zip(subs, results)}  # <folder>/cnn.ipynb
    assert set(rows) == set(expect), set(rows) ^ set(expect)
    problems = []
    for stem, e in expect.items():
        r = rows[stem]
        points = {q.name: q.points for q in r.questions}
        full = {q.name: q.max_points for q in r.questions}
        if r.status != e["status"]:
            problems.append(f"{stem}: status {r.status!r} != {e['status']!r} ({r.reason})")
        if e["reason"] and e["reason"] not in r.reason:
            problems.append(f"{stem}: reason {r.reason!r} lacks {e['reason']!r}")
        for q in e["zero"]:
            if points[q] != 0:
                problems.append(f"{stem}: {q} got {points[q]} (must be 0)")
        if e["full"]:
            for q in ALL:
                if q not in e["zero"] and points[q] != full[q]:
                    problems.append(f"{stem}: {q} got {points[q]} of {full[q]} (honest: full) notes={r.notes[:3]}")
        for q, base in e["at_most"].items():
            honest = next(x.points for x in rows[base].questions if x.name == q)
            if points[q] > honest:
                problems.append(f"{stem}: {q} got {points[q]}, more than its honest equivalent {base} ({honest})")
            if base != "honest":
                lied = [
                    c.label
                    for x in r.questions
                    if x.name == q
                    for c in x.checks
                    if c.passed and not c.label.startswith(("shape", "does not modify"))
                ]
                if lied:
                    problems.append(f"{stem}: {q} passed value checks {lied}")
        if e["incident"] and not set(e["incident"].split("|")) & set(r.incidents):
            problems.append(f"{stem}: incidents {r.incidents} lack {e['incident']!r}; notes={r.notes[:3]}")
        if r.status == "graded" and r.isolation != "bubblewrap":
            problems.append(f"{stem}: isolation {r.isolation!r}")
    assert not problems, "\n".join(problems)
    assert rows["honest"].points == assignment.max_points
    assert rows["stub"].points == 0

    # nothing escaped
    for p in host_pwned:
        assert not p.exists(), f"{p} was written by a submission"
    assert not list(markers.iterdir()), "a submission wrote into the host's /tmp or ran a pickle payload"
    with pytest.raises(BlockingIOError):
        listener.accept()
    listener.close()
    assert sorted(os.listdir(ROOT)) == before
    assert os.getpid() and Path(f"/proc/{os.getpid()}").exists()
    # every row in the gradebook and the exports, with its reason
    lines = (out / "final_grades.csv").read_text().splitlines()
    assert len(lines) == 2 + len(expect)
    assert sum("failed: the file is empty" in ln for ln in lines) == 1
    assert (out / "summary.html").exists() and (out / "histogram.png").stat().st_size > 1000
    assert len(list((out / "results").glob("*.json"))) == len(expect)
    assert elapsed < 60, f"the hostile batch took {elapsed:.0f} s"
