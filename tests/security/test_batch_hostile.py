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
import tempfile
import time
from pathlib import Path

import pytest

from deepgrade.batch import run as batch
from deepgrade.course import assignment as asg
from deepgrade.sandbox import isolation

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from hostile.build import ALL, build_corpus  # noqa: E402

from helpers import ROOT  # noqa: E402


@pytest.fixture(params=["bubblewrap", "process"])
def mode(request, monkeypatch):
    """The batch with bubblewrap, and in the fallback (a root grader: the child gets a uid
    of its own; as a normal user the fallback is the grader's own user, nothing to assert)."""
    monkeypatch.setattr(isolation, "_BWRAP", None)
    monkeypatch.setattr(isolation, "_CHECKED", {})
    if request.param == "process":
        if os.geteuid() != 0:
            pytest.skip("the fallback run by a normal user runs student code as that user (documented)")
        monkeypatch.setenv("DEEPGRADE_SANDBOX", "process")
        # the fallback's behaviour on this repository's course (others may read it where the
        # clone lies): accepted, as --allow-readable-course; test_failclosed.py tests the refusal
        monkeypatch.setenv(isolation.ALLOW_READABLE_ENV, "1")
    else:
        monkeypatch.delenv("DEEPGRADE_SANDBOX", raising=False)
        if not isolation.bwrap_available():
            pytest.skip("needs bubblewrap")
    return request.param


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


@pytest.mark.slow  # a whole hostile class through the batch (20 s per mode): CI runs it after the fast subset
def test_hostile_class(tmp_path, mode, request):
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
    # a world-writable host file where the sandbox could name it: planted links point at it
    shared = Path(tempfile.mkdtemp(prefix="deepgrade-test-precious-"))
    request.addfinalizer(lambda: shutil.rmtree(shared, ignore_errors=True))
    os.chmod(shared, 0o755)
    precious = shared / "precious.txt"
    precious.write_text("precious")
    os.chmod(precious, 0o666)
    # the fallback can read what others can: this repository's solutions/ is world-readable
    # (the grader warns about it); the private course copy is not
    expect = build_corpus(corpus, port, markers, root, precious, repo_readers=mode == "bubblewrap")
    probe = isolation.Cgroup(isolation.Limits())
    probe.close()
    if probe.kind == "none":
        # no cgroup (a normal user): memory is capped by RLIMIT_AS, a MemoryError in the cell
        for stem in ("memory_cell", "memory_function"):
            expect[stem]["incident"] = None
    import sysconfig

    planted = [
        Path(sysconfig.get_paths()["purelib"]) / "deepgrade_pwned.pth",
        ROOT / "graders" / "deepgrade" / "deepgrade_pwned.pth",
        Path(sys.prefix) / "deepgrade_pwned.pth",
    ]
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
        if r.status == "graded" and r.isolation != mode:
            problems.append(f"{stem}: isolation {r.isolation!r}")
        for x in r.questions:
            for c in x.checks:
                # the student's own line may be shown (from the grader's copy); the runtime
                # message ("LEAK [<the hidden input>]") never
                if c.hidden and "LEAK [" in " ".join(c.details):
                    problems.append(f"{stem}: a hidden check shows the student's text: {c.details}")
        # nothing the student's process sent is quoted in the grader's own words
        if any("LEAK" in n for n in r.notes):
            problems.append(f"{stem}: a note quotes the student's text: {r.notes}")
    assert not problems, "\n".join(problems)
    assert rows["honest"].points == assignment.max_points
    assert rows["stub"].points == 0

    # nothing escaped
    for p in host_pwned:
        assert not p.exists(), f"{p} was written by a submission"
    assert not list(markers.iterdir()), "a submission wrote into the host's /tmp or ran a pickle payload"
    if mode == "bubblewrap":  # the fallback has the network (documented)
        with pytest.raises(BlockingIOError):
            listener.accept()
    listener.close()
    assert precious.read_text() == "precious"
    for p in planted:
        assert not p.exists(), f"{p} was planted"
    assert sorted(os.listdir(ROOT)) == before
    assert os.getpid() and Path(f"/proc/{os.getpid()}").exists()
    # every row in the gradebook and the exports, with its reason
    lines = (out / "final_grades.csv").read_text().splitlines()
    assert len(lines) == 2 + len(expect)
    assert sum("failed: the file is empty" in ln for ln in lines) == 1
    assert (out / "summary.html").exists() and (out / "histogram.png").stat().st_size > 1000
    assert len(list((out / "results").glob("*.json"))) == len(expect)
    print(f"the hostile batch ({mode}) took {elapsed:.0f} s")  # speed is shown, not asserted
    # forged messages quoting the hidden inputs: refused in the grader's words
    forged = rows["forged_text"]
    relu = next(q for q in forged.questions if q.name == "relu")
    assert not any("LEAK" in " ".join(c.details) for c in relu.checks if c.hidden)
    assert any("forged messages on the grader's channel were ignored" in n for n in forged.notes), forged.notes
    # the honest one's public feedback keeps the student's messages; no hidden one does
    leak = rows["hidden_leak"]
    softmax = next(q for q in leak.questions if q.name == "softmax")
    assert any("LEAK [" in " ".join(c.details) for c in softmax.checks if not c.hidden)
    assert any("class defined in the notebook" in " ".join(c.details) for c in softmax.checks if c.hidden)
