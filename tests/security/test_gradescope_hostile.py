"""The Gradescope autograder against a student who is trying: on Gradescope the
student's code runs in the grader's own container, so every attack must still leave the
grade the grader wrote.

The exported zip is unpacked into a Gradescope-like root (source, submission, results)
that other users can traverse, as /autograder is, and run_autograder runs with
AUTOGRADER_ROOT pointing there, in three modes: bubblewrap (where it works), the process
fallback forced by DEEPGRADE_SANDBOX=process, and the fallback because a failing `bwrap`
is first on PATH (Gradescope's container often cannot create namespaces).

Every attack must leave a results.json the grader wrote, run_autograder must exit 0, and
the honest notebook keeps full marks in every mode.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import numpy as np
import pytest

import helpers
from deepgrade import cli
from deepgrade.course import assignment as asg
from deepgrade.publish import gradescope
from deepgrade.sandbox import isolation

A = asg.load("cnn", helpers.ROOT)
MODES = ["bubblewrap", "process", "broken-bwrap"]
IS_ROOT = os.geteuid() == 0


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export") / "autograder.zip"
    assert cli.main(["export", "gradescope", "cnn", "-o", str(out)]) == 0
    return out


@pytest.fixture
def root(autograder_zip, tmp_path):
    """A fresh /autograder in a folder every user can traverse (pytest's tmp_path is 0700,
    which alone would keep an unprivileged child out and prove nothing)."""
    base = Path(tempfile.mkdtemp(prefix="deepgrade-gs-test-"))
    os.chmod(base, 0o755)
    r = helpers.unpack_autograder(autograder_zip, base)
    for d in (base, r, r / "source", r / "submission"):
        os.chmod(d, 0o755)
    yield r
    shutil.rmtree(base, ignore_errors=True)
    isolation.reclaim(force=True)  # what a grader killed by a test left (its private copy): nothing stays


def environment(root: Path, mode: str, tmp_path: Path) -> dict[str, str]:
    drop = ("DEEPGRADE_ROOT", "PYTHONPATH", "DEEPGRADE_SANDBOX", isolation.ALLOW_READABLE_ENV)
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["AUTOGRADER_ROOT"] = str(root)
    path = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    if mode == "process":
        env["DEEPGRADE_SANDBOX"] = "process"
    elif mode == "broken-bwrap":
        # where the sandbox uid can reach it too: the probe runs bwrap as that uid, and execvp
        # skips a PATH entry it may not enter (pytest's tmp_path is 0700) for the real bwrap
        fake = root.parent / "fakebin"
        fake.mkdir(mode=0o755, exist_ok=True)
        (fake / "bwrap").write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
        (fake / "bwrap").chmod(0o755)
        path = f"{fake}{os.pathsep}{path}"
    env["PATH"] = path
    if mode != "bubblewrap" and not IS_ROOT:
        # a fallback run by a normal user runs student code as that user, who reads the course:
        # refused unless accepted (test_failclosed.py); accepted here, these tests are about the rest
        env[isolation.ALLOW_READABLE_ENV] = "1"
    return env


def run_autograder(root: Path, mode: str, tmp_path: Path, nb=None, filename: str = "cnn.ipynb") -> tuple[dict, str]:
    """Run run_autograder as Gradescope does; (results.json, stdout + stderr)."""
    if mode == "bubblewrap" and not isolation.bwrap_available():
        pytest.skip("bubblewrap does not work on this machine")
    if nb is not None:
        nbformat.write(nb, root / "submission" / filename)
    proc = subprocess.run(
        [str(root / "run_autograder")],
        env=environment(root, mode, tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
        cwd=root,
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log
    results = root / "results" / "results.json"
    assert results.is_file() and not results.is_symlink(), log
    return json.loads(results.read_text()), log


def stub_notebook(*cells: str) -> nbformat.NotebookNode:
    """The untouched student notebook (every function raises NotImplementedError), plus cells."""
    nb = nbformat.read(A.notebook, as_version=4)
    nb.cells += [nbformat.v4.new_code_cell(c) for c in cells]
    return nb


def assert_isolation(log: str, mode: str) -> None:
    """The mode asked for is the mode that ran (run autograder's log says which)."""
    assert f"sandbox: {'bubblewrap' if mode == 'bubblewrap' else 'process'}" in log, log[-2000:]


# --------------------------------------------------------------------------- honest


@pytest.mark.parametrize("mode", MODES)
def test_honest_notebook_keeps_full_marks(root, tmp_path, mode):
    data, log = run_autograder(root, mode, tmp_path, helpers.filled_notebook("cnn"))
    assert data["score"] == A.max_points, data["output"]
    assert sum(t["score"] for t in data["tests"]) == pytest.approx(A.max_points)
    assert_isolation(log, mode)


# --------------------------------------------------------------------------- forged results


FORGED = {"score": 22.0, "output": "FORGED full marks", "tests": []}

# results.json becomes a link to a file elsewhere that claims full marks: if the grader
# left it there the forged score counts; if it wrote through it the file changes.
FORGE = """
import os, pathlib
R = pathlib.Path({results!r})
for step in (
    lambda: R.mkdir(parents=True, exist_ok=True),
    lambda: os.remove(R / "results.json"),
    lambda: os.symlink({victim!r}, R / "results.json"),
    lambda: (R / "marker").write_text("written by the student"),
):
    try:
        step()
    except OSError:
        pass
"""


@pytest.mark.parametrize("mode", MODES)
def test_forged_results_json_is_replaced_by_the_graders(root, tmp_path, mode):
    folder = Path(tempfile.mkdtemp(prefix="deepgrade-gs-victim-"))
    os.chmod(folder, 0o755)
    victim = folder / "forged.json"
    victim.write_text(json.dumps(FORGED))
    os.chmod(victim, 0o444)
    try:
        nb = stub_notebook(FORGE.format(results=str(root / "results"), victim=str(victim)))
        data, log = run_autograder(root, mode, tmp_path, nb)
        assert data["score"] == 0, data
        assert "FORGED" not in json.dumps(data)
        assert {t["name"].split(" ")[0] for t in data["tests"]} == {q.name for q in A.questions}
        assert json.loads(victim.read_text()) == FORGED
        if IS_ROOT:  # the student's uid cannot even create a file in the results folder
            assert not (root / "results" / "marker").exists()
        assert_isolation(log, mode)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_write_results_replaces_a_planted_link_or_folder(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("untouched")
    out = tmp_path / "results" / "results.json"
    out.parent.mkdir()
    out.symlink_to(victim)
    gradescope.write_results(out, {"score": 1.5})
    assert victim.read_text() == "untouched"
    assert not out.is_symlink() and json.loads(out.read_text()) == {"score": 1.5}
    out.unlink()
    (out / "inside").mkdir(parents=True)
    gradescope.write_results(out, {"score": 2.0})
    assert json.loads(out.read_text()) == {"score": 2.0}
    assert sorted(p.name for p in out.parent.iterdir()) == ["results.json"]  # no temp file left


# --------------------------------------------------------------------------- grading fails


FORGED_CHANNEL = """
import json, os
fd = int(os.environ.get("DEEPGRADE_FD", "-1"))
plan = json.load(open("plan.json"))
def conv2d_single(image, kernel):
    # forged results for whichever call is running: a malformed `where`, deep nesting
    for call in plan["calls"]:
        cid = json.dumps(call["id"])
        for line in (
            '{"ev": "call", "id": ' + cid + ', "ok": true, "value": ' + "[" * 100000 + "]" * 100000 + "}",
            '{"ev": "call", "id": ' + cid + ', "ok": false, '
            '"error": {"type": "ValueError", "message": "forged", "where": [{"bogus": 1}]}}',
        ):
            try:
                os.write(fd, (line + "\\n").encode())
            except OSError:
                pass
    raise ValueError("not forged")
"""


@pytest.mark.parametrize("mode", ["bubblewrap", "process"])
def test_forged_channel_messages_still_give_a_results_json(root, tmp_path, mode):
    data, log = run_autograder(root, mode, tmp_path, stub_notebook(FORGED_CHANNEL))
    # the grader either dropped the forged lines or failed on them: either way its own
    # results.json, 0 points (every function is a stub), a test per question
    assert data["score"] == 0, data
    assert {t["name"].split(" ")[0] for t in data["tests"]} == {q.name for q in A.questions}
    assert all(t["score"] == 0 for t in data["tests"])
    assert "forged" not in json.dumps(data).replace("not forged", "")


def _break_engine(root: Path, code: str) -> None:
    """Make the bundled engine's grade_file fail (a bug in the engine, a crash)."""
    path = root / "source" / "graders" / "deepgrade" / "grading" / "pipeline.py"
    text = path.read_text()
    head = "def grade_file(assignment: Assignment | str, path: Path | str) -> SubmissionResult:\n"
    assert head in text
    path.write_text(text.replace(head, head + f"    {code}\n", 1))


def test_an_exception_in_the_engine_gives_zero_and_the_reason(root, tmp_path):
    _break_engine(root, "raise RuntimeError('engine bug, hidden input 0.123456')")
    data, log = run_autograder(root, "process", tmp_path, helpers.filled_notebook("cnn"))
    assert data["score"] == 0
    assert "could not grade this submission" in data["output"] and "RuntimeError" in data["output"]
    assert "0.123456" not in json.dumps(data), "the engine's message may hold hidden values: only the log has it"
    assert "0.123456" in log
    assert {t["name"] for t in data["tests"]} == {q.name for q in A.questions}
    assert all(t["score"] == 0 and t["visibility"] == "visible" for t in data["tests"])


@pytest.mark.parametrize("how", ["os.kill(os.getpid(), 9)", "os._exit(3)"])
def test_a_crashing_grader_still_leaves_a_results_json(root, tmp_path, how):
    _break_engine(root, f"import os; {how}")
    (root / "results").mkdir()
    (root / "results" / "results.json").write_text(json.dumps({"score": 22.0, "output": "stale"}))
    data, _ = run_autograder(root, "process", tmp_path, helpers.filled_notebook("cnn"))
    assert data["score"] == 0 and data["tests"] == []
    assert "failed before it could grade" in data["output"]


def test_missing_notebook_and_planted_files(root, tmp_path):
    """Links and FIFOs in the submission are not followed, opened or waited on."""
    elsewhere = tmp_path / "elsewhere.ipynb"
    nbformat.write(helpers.filled_notebook("cnn"), elsewhere)
    (root / "submission" / "cnn.ipynb").symlink_to(elsewhere)
    os.mkfifo(root / "submission" / "other.ipynb")
    data, _ = run_autograder(root, "process", tmp_path)
    assert data["score"] == 0 and "No notebook" in data["output"]
    assert {t["name"] for t in data["tests"]} == {q.name for q in A.questions}


# --------------------------------------------------------------------------- the fallback's files


def as_nobody():
    def drop() -> None:
        os.setgroups([])
        os.setresgid(65534, 65534, 65534)
        os.setresuid(65534, 65534, 65534)

    return drop


@pytest.mark.skipif(not IS_ROOT, reason="the permissions matter when the grader is root, as on Gradescope")
def test_run_autograder_locks_what_an_unprivileged_user_could_read(root, tmp_path):
    """After run_autograder, a plain unprivileged uid (what the fallback's child is) reads
    none of source, submission, results, but can still use the venv."""
    venv = root / "venv" / "lib"
    venv.mkdir(parents=True)
    (venv / "module.py").write_text("x = 1\n")
    os.chmod(venv / "module.py", 0o600)
    os.chmod(venv, 0o700)
    (root / "submission_metadata.json").write_text('{"users": [{"email": "alice@example.org"}]}')
    os.chmod(root / "submission_metadata.json", 0o644)
    run_autograder(root, "process", tmp_path, helpers.filled_notebook("cnn"))
    secret = [
        root / "source" / "solutions" / "cnn.py",
        root / "source" / "assignments" / "cnn" / "fixtures.py",
        root / "source" / "graders" / "deepgrade" / "grading" / "pipeline.py",
        root / "results" / "results.json",
        root / "submission" / "cnn.ipynb",
        root / "submission_metadata.json",
    ]
    for path in secret:
        assert path.is_file()
        proc = subprocess.run(["/bin/cat", str(path)], preexec_fn=as_nobody(), capture_output=True)
        assert proc.returncode != 0 and b"Permission denied" in proc.stderr, path
    for folder in (root / "source", root / "submission", root / "results"):
        proc = subprocess.run(["/bin/ls", str(folder)], preexec_fn=as_nobody(), capture_output=True)
        assert proc.returncode != 0, folder
    proc = subprocess.run(["/bin/cat", str(venv / "module.py")], preexec_fn=as_nobody(), capture_output=True)
    assert proc.returncode == 0 and proc.stdout == b"x = 1\n", proc.stderr


STEAL = {
    "reference": """
try:
    exec(open({src!r} + "/solutions/cnn.py").read())
except Exception:
    pass
""",
    "fixtures": """
try:
    text = open({src!r} + "/assignments/cnn/fixtures.py").read()
except Exception:
    text = None
if text is not None:
    raise RuntimeError("LEAK fixtures " + text[:80])
""",
    "results": """
import os
try:
    found = os.listdir({root!r} + "/results")
except Exception:
    found = None
if found is not None:
    raise RuntimeError("LEAK results " + repr(found))
""",
    "submission": """
import os
try:
    found = os.listdir({root!r} + "/submission")
except Exception:
    found = None
if found is not None:
    raise RuntimeError("LEAK submission " + repr(found))
""",
}


@pytest.mark.parametrize(
    "mode",
    [
        "bubblewrap",
        "process",
        "broken-bwrap",
    ],
)
@pytest.mark.skipif(not IS_ROOT, reason="a grader that is not root shares its files with the child")
def test_the_student_reads_nothing_of_the_autograder(root, tmp_path, mode):
    cells = [c.format(src=str(root / "source"), root=str(root)) for c in STEAL.values()]
    data, log = run_autograder(root, mode, tmp_path, stub_notebook(*cells))
    text = json.dumps(data)
    assert "LEAK" not in text, [line for line in data["output"].splitlines() if "LEAK" in line]
    assert data["score"] == 0, "the reference solution was read and run"
    assert_isolation(log, mode)


def test_sigkill_exit_status_is_reported(root, tmp_path):
    """The minimal results.json says how the grader ended (for the instructor's log)."""
    _break_engine(root, f"import os; os.kill(os.getpid(), {int(signal.SIGKILL)})")
    data, _ = run_autograder(root, "process", tmp_path, helpers.filled_notebook("cnn"))
    assert "exit status 137" in data["output"]


def test_a_grader_that_cannot_start_still_leaves_a_results_json(root, tmp_path):
    (root / "source" / "graders" / "deepgrade" / "publish" / "gradescope.py").write_text("this is not Python\n")
    data, _ = run_autograder(root, "process", tmp_path, helpers.filled_notebook("cnn"))
    assert data["score"] == 0 and "exit status 1" in data["output"]


# --------------------------------------------------------------------------- hidden inputs in forged messages


@pytest.mark.parametrize("mode", MODES)
def test_forged_messages_never_show_hidden_inputs_in_results_json(root, tmp_path, mode):
    """test_grader_leaks.py's notebook (every function writes its inputs into
    forged channel messages) under Gradescope: results.json, as written before the scores are
    published (hidden tests included, as the instructor sees them), holds no hidden input."""
    import test_grader_leaks as leaks

    nb = helpers.filled_notebook("cnn", leaks.FORGERS)
    nb.cells.insert(0, nbformat.v4.new_code_cell(leaks.PRELUDE))
    data, log = run_autograder(root, mode, tmp_path, nb)
    text = json.dumps(data)
    shown = sorted(s for s in leaks._input_strings(True, leaks.FORGERS) if s in text)
    assert not shown, shown[:10]
    # the same numbers are found where they are the student's own (public checks)
    flatten = next(q for q in A.questions if q.name == "flatten")
    public = [repr([np.asarray(c.args[0]).ravel().tolist()]) for c in flatten.cases if not c.hidden]
    assert any(json.dumps(t)[1:-1] in text for t in public), text[:2000]
    assert_isolation(log, mode)


def test_a_notebook_python_cannot_read_gets_its_reason(root, tmp_path):
    """JSON nested 100,000 deep is "unreadable" with its reason, and a cell
    of 600,000 chained attributes costs that cell only: never "the grader failed"."""
    (root / "submission" / "cnn.ipynb").write_bytes(
        b'{"cells": [], "nbformat": 4, "nbformat_minor": 5, "metadata": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    )
    data, log = run_autograder(root, "process", tmp_path)
    assert data["score"] == 0 and "nested too deeply" in data["output"], data
    assert "grader failed" not in json.dumps(data)
    nb = helpers.filled_notebook("cnn")
    nb.cells.append(nbformat.v4.new_code_cell("x" + ".a" * 600_000))
    data, log = run_autograder(root, "process", tmp_path, nb)
    assert data["score"] == A.max_points, data["output"]
