"""Set-up failures are the grader's, never a student's.

1. A sandbox that cannot start (bubblewrap gone at launch, a namespace refused, Python
   unreadable to the sandbox uid) records no grade: `deepgrade check` and `deepgrade grade`
   exit 2 with one line, the cause and the fix; the batch stores no result for anyone it
   reached, and the same command after the fix grades everyone. Under Gradescope the
   results.json is an autograder failure (no test), never per-test zeros. A notebook that
   kills its own interpreter is the student's: graded.
2. The sandbox runs the very bubblewrap its probe tested, by absolute path (a bwrap in a
   folder outside the launch's fixed PATH).
3. In the fallback, a course or output folder the sandbox uid can read stops grading unless
   --allow-readable-course accepts it.

Each test makes its own premise (copies with the modes it needs in folders it makes), so
that nothing depends on where the clone lies. test_sandbox_unprivileged.py reruns this file
as a normal user.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

import helpers
from deepgrade import cli, sandbox
from deepgrade.portable import wire
from deepgrade.publish import gradescope
from deepgrade.sandbox import isolation

IS_ROOT = os.geteuid() == 0
REAL_BWRAP = shutil.which("bwrap")


@pytest.fixture(autouse=True)
def fresh_isolation(monkeypatch):
    """isolation.py's module caches reset (and restored afterwards); no option accepted."""
    monkeypatch.setattr(isolation, "_BWRAP", None)
    monkeypatch.setattr(isolation, "_BWRAP_EXE", None)
    monkeypatch.setattr(isolation, "_WARNED_FORCED", False)
    monkeypatch.setattr(isolation, "_CHECKED", {})
    monkeypatch.delenv(isolation.ALLOW_READABLE_ENV, raising=False)
    monkeypatch.delenv("DEEPGRADE_SANDBOX", raising=False)
    monkeypatch.setenv("DEEPGRADE_ROOT", os.environ.get("DEEPGRADE_ROOT", ""))  # gradescope.run sets it
    if not os.environ["DEEPGRADE_ROOT"]:
        monkeypatch.delenv("DEEPGRADE_ROOT")


def shared_folder(request, mode: int = 0o755) -> Path:
    """A folder every user may pass (pytest's tmp_path is 0700: an unprivileged sandbox uid
    could not even run a bwrap kept there)."""
    folder = Path(tempfile.mkdtemp(prefix="deepgrade-test-failclosed-"))
    os.chmod(folder, mode)
    request.addfinalizer(lambda: shutil.rmtree(folder, ignore_errors=True))
    return folder


def fake_bwrap(folder: Path, body: str) -> Path:
    """folder/bin/bwrap, a shell script (the real bubblewrap is REAL_BWRAP)."""
    (folder / "bin").mkdir(mode=0o755, exist_ok=True)
    exe = folder / "bin" / "bwrap"
    exe.write_text("#!/bin/sh\n" + body.replace("REAL", os.path.realpath(REAL_BWRAP or "/nonexistent")))
    exe.chmod(0o755)
    return exe


def needs_bubblewrap() -> None:
    if not REAL_BWRAP or not isolation.bwrap_available():
        pytest.skip("bubblewrap does not work here")
    isolation._BWRAP_EXE = None  # the probe above is not the one under test


def course(base: Path, readable: bool) -> Path:
    """A copy of the cnn assignment (short limits) under base: every folder 0755 and file
    0644 when readable, else the copy's top folder 0700."""
    root = base / "course"
    (root / "assignments").mkdir(parents=True)
    shutil.copytree(helpers.ROOT / "assignments" / "cnn", root / "assignments" / "cnn")
    (root / "solutions").mkdir()
    for f in ("cnn.py", "cnn_mistakes.py"):
        shutil.copy(helpers.ROOT / "solutions" / f, root / "solutions" / f)
    (root / "solutions" / "__init__.py").write_text("")
    toml = root / "assignments" / "cnn" / "assignment.toml"
    text = toml.read_text()
    toml.write_text(text[: text.index("[limits]")] + "[limits]\ncell_seconds = 2\ntotal_seconds = 60\n")
    for dirpath, _, filenames in os.walk(root):
        os.chmod(dirpath, 0o755)
        for f in filenames:
            os.chmod(os.path.join(dirpath, f), 0o644)
    os.chmod(root, 0o755 if readable else 0o700)
    return root


def notebook_file(folder: Path, name: str = "alice.ipynb") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    nbformat.write(helpers.filled_notebook("cnn"), path)
    return path


def one_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.startswith("deepgrade: error:")]
    assert len(lines) == 1, err
    return lines[0]


# --------------------------------------------------------------------------- 2. probe = launch


def test_the_sandbox_runs_the_bwrap_its_probe_tested(request, monkeypatch):
    """bubblewrap only in a folder outside the launch's fixed PATH (/usr/local/bin:/usr/bin:/bin):
    the probe finds it on PATH, and every sandbox runs that file by its absolute path. The
    wrapper counts its runs: the probe, then the sandbox (another bwrap would not count)."""
    needs_bubblewrap()
    folder = shared_folder(request)
    log = folder / "runs.log"
    log.write_text("")
    log.chmod(0o666)  # the root grader runs bwrap as the sandbox uid
    exe = fake_bwrap(folder, f'echo run >> "{log}"\nexec REAL "$@"\n')
    monkeypatch.setenv("PATH", str(exe.parent))
    assert isolation.isolation_mode() == "bubblewrap"
    assert log.read_text().split() == ["run"]  # the probe
    assert isolation.command("bubblewrap", isolation.Limits(), [])[0] == str(exe)
    run = sandbox.run(
        [(0, "def f(x):\n    return x + 1")],
        [{"id": "c", "function": "f", "args": [wire.encode(1.0)], "kwargs": {}}],
    )
    assert run.isolation == "bubblewrap"
    assert run.cells[0].ok and run.calls["c"].ok, (run.cells, run.calls, run.notes)
    assert run.calls["c"].value == 2
    assert log.read_text().split() == ["run", "run"]  # the sandbox ran the probed file


# --------------------------------------------------------------------------- 1. fail closed


def test_bwrap_gone_at_launch_stops_check_and_the_batch_then_a_resume_grades_everyone(
    request, monkeypatch, tmp_path, capsys
):
    """The probe passed; then bubblewrap disappeared (once: 324 zeros). check: exit 2,
    one line. grade: exit 2, one line, no result stored and no gradebook. Once bubblewrap is
    back, the same command grades both students in full."""
    needs_bubblewrap()
    folder = shared_folder(request)
    exe = fake_bwrap(folder, 'exec REAL "$@"\n')
    monkeypatch.setenv("PATH", f"{exe.parent}{os.pathsep}{os.environ['PATH']}")
    assert isolation.isolation_mode() == "bubblewrap"
    body = exe.read_text()
    exe.unlink()

    root = course(tmp_path, readable=False)
    subs = tmp_path / "class"
    alice, bob = notebook_file(subs, "alice.ipynb"), notebook_file(subs, "bob.ipynb")
    assert cli.main(["--course", str(root), "check", "cnn", str(alice)]) == 2
    out = capsys.readouterr()
    line = one_line(out.err)
    assert "could not start" in line and str(exe) in line and "fix:" in line, line
    assert "points" not in out.out

    grades = tmp_path / "grades"
    argv = ["--course", str(root), "grade", "cnn", str(subs), "--out", str(grades), "--executor", "serial"]
    assert cli.main([*argv, "--quiet"]) == 2
    line = one_line(capsys.readouterr().err)
    assert "could not start" in line and "fix:" in line, line
    assert not list((grades / "results").glob("*.json")), "a set-up failure was stored as a result"
    assert not (grades / "final_grades.csv").exists()

    exe.write_text(body)  # bubblewrap is back
    exe.chmod(0o755)
    assert cli.main([*argv, "--quiet"]) == 0, capsys.readouterr().err
    stored = [json.loads(p.read_text()) for p in sorted((grades / "results").glob("*.json"))]
    assert len(stored) == 2
    for s in stored:
        assert s["result"]["isolation"] == "bubblewrap"
        assert s["result"]["status"] == "graded"
        assert sum(q["points"] for q in s["result"]["questions"]) == 22
    assert bob.name in (grades / "final_grades.csv").read_text()


def test_a_first_start_that_never_reports_ready_is_a_setup_failure(request, monkeypatch):
    """bwrap passes the probe but cannot make its namespaces when the sandbox starts: the
    child never reports ready, so no student code ran: SetupError with bwrap's own words,
    not a row of steps "not run"."""
    needs_bubblewrap()
    folder = shared_folder(request)
    exe = fake_bwrap(
        folder,
        'case "$*" in *"import numpy"*) exec REAL "$@";; esac\n'
        "echo 'bwrap: Creating new namespace failed: Operation not permitted' >&2\nexit 1\n",
    )
    monkeypatch.setenv("PATH", f"{exe.parent}{os.pathsep}{os.environ['PATH']}")
    assert isolation.isolation_mode() == "bubblewrap"
    with pytest.raises(isolation.SetupError) as caught:
        sandbox.run([(0, "x = 1")], [], sandbox.Limits(cell_seconds=1, total_seconds=60))
    message = str(caught.value)
    assert "exited with status 1" in message and "Creating new namespace failed" in message, message
    assert str(exe) in message and "fix:" in message


@pytest.mark.parametrize("at", ["first start", "restart"])
def test_a_cgroup_the_child_cannot_join_is_a_setup_failure(mode, monkeypatch, at):
    """The child's set-up between fork and exec fails (here: joining its cgroup, a file that is
    not there), at the first start or when the child is restarted after the student's cell
    ended it: no student code runs in that set-up, so SetupError, in both modes."""
    starts = []

    def procs_files(self):
        starts.append(1)
        return ["/nonexistent/deepgrade/cgroup.procs"] if at == "first start" or len(starts) > 1 else []

    monkeypatch.setattr(sandbox.Cgroup, "procs_files", procs_files)
    with pytest.raises(isolation.SetupError, match="the sandbox could not start.*fix:"):
        sandbox.run([(0, "import os\nos._exit(3)"), (1, "x = 1")], [])
    assert len(starts) == (1 if at == "first start" else 2)


@pytest.mark.parametrize("how", ["import os\nos._exit(3)", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"])
def test_a_notebook_that_ends_its_interpreter_is_graded_not_a_setup_failure(mode, how):
    """The first start reached ready before the student's first cell ran: the crash is the
    student's, recorded for that cell, and the rest of the notebook still runs."""
    run = sandbox.run(
        [(0, how), (1, "def f():\n    return 7")], [{"id": "c", "function": "f", "args": [], "kwargs": {}}]
    )
    assert run.cells[0].status == "crashed", run.cells[0]
    assert run.cells[1].ok and run.calls["c"].ok and run.calls["c"].value == 7, run.notes


@pytest.mark.skipif(not IS_ROOT, reason="the fallback's child has a uid of its own only when the grader is root")
def test_python_unreadable_to_the_sandbox_uid_stops_check_and_gradescope(request, monkeypatch, tmp_path, capsys):
    """The interpreter the fallback starts lies in a folder the sandbox uid cannot enter
    (here a link in a 0700 folder; on the machine it was reported on, a venv under /root): check exits 2
    naming the Python installation; Gradescope's results.json is an autograder failure."""
    hidden = tmp_path / "python-0700"
    hidden.mkdir(mode=0o700)
    (hidden / "python3").symlink_to(os.path.realpath(sys.executable))
    monkeypatch.setattr(sys, "executable", str(hidden / "python3"))
    monkeypatch.setenv("DEEPGRADE_SANDBOX", "process")
    root = course(tmp_path, readable=False)
    alice = notebook_file(tmp_path / "class")
    with pytest.warns(RuntimeWarning, match="bubblewrap"):
        assert cli.main(["--course", str(root), "check", "cnn", str(alice)]) == 2
    line = one_line(capsys.readouterr().err)
    assert "cannot run the Python installation" in line and "fix:" in line, line

    results = tmp_path / "results" / "results.json"
    sub = tmp_path / "submission"
    notebook_file(sub, "cnn.ipynb")
    data = gradescope.run(root, "cnn", sub, results)
    assert json.loads(results.read_text()) == data
    assert_autograder_failure(data, "cannot run the Python installation")
    assert "cannot run the Python installation" in capsys.readouterr().out  # the instructor's log


def assert_autograder_failure(data: dict, reason: str) -> None:
    """No graded test (no question marked 0), the student told it is not their fault, the
    reason where the instructor sees it."""
    assert data["tests"] == [], data["tests"]
    assert data["score"] == 0
    assert data["output"] == gradescope.SETUP_FAILURE_OUTPUT
    assert data["stdout_visibility"] == "hidden"
    assert reason in data["extra_data"]["deepgrade"]["reason"]


def test_gradescope_namespace_refused_at_launch_is_an_autograder_failure(request, tmp_path):
    """run_autograder as Gradescope runs it, with a bwrap that passes the probe and fails at
    launch: results.json has no test (not 0 / 22 as graded tests), and the reason is in the
    instructor's log."""
    from test_gradescope_hostile import environment

    needs_bubblewrap()
    zip_path = tmp_path / "autograder.zip"
    assert cli.main(["--course", str(helpers.ROOT), "export", "gradescope", "cnn", "-o", str(zip_path)]) == 0
    base = shared_folder(request)
    root = helpers.unpack_autograder(zip_path, base)
    for d in (root, root / "source", root / "submission"):
        os.chmod(d, 0o755)
    toml = root / "source" / "assignments" / "cnn" / "assignment.toml"
    text = toml.read_text()
    toml.write_text(text[: text.index("[limits]")] + "[limits]\ncell_seconds = 1\n")
    nbformat.write(helpers.filled_notebook("cnn"), root / "submission" / "cnn.ipynb")
    env = environment(root, "bubblewrap", tmp_path)
    exe = fake_bwrap(
        base,
        'case "$*" in *"import numpy"*) exec REAL "$@";; esac\n'
        "echo 'bwrap: No permissions to create new namespace' >&2\nexit 1\n",
    )
    env["PATH"] = f"{exe.parent}{os.pathsep}{env['PATH']}"
    proc = subprocess.run([str(root / "run_autograder")], env=env, capture_output=True, text=True, timeout=300)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log
    data = json.loads((root / "results" / "results.json").read_text())
    assert_autograder_failure(data, "No permissions to create new namespace")
    assert "No permissions to create new namespace" in log and "not graded" in log, log[-2000:]


# --------------------------------------------------------------------------- 3. readable course


def test_the_fallback_refuses_a_readable_course_unless_accepted(request, monkeypatch, capsys):
    """Course folder readable by others (and, for a grader that is not root, by the grader's
    own user, which the child is): check exits 2 naming the reference and the option; with
    --allow-readable-course it grades, with a warning naming them."""
    monkeypatch.setenv("DEEPGRADE_SANDBOX", "process")
    base = shared_folder(request)
    root = course(base, readable=True)
    alice = notebook_file(base / "class")
    with pytest.warns(RuntimeWarning, match="bubblewrap"):
        assert cli.main(["--course", str(root), "check", "cnn", str(alice)]) == 2
    out = capsys.readouterr()
    line = one_line(out.err)
    assert f"could read {root / 'assignments'}, {root / 'solutions'}" in line, line  # a folder stands for all in it
    assert "--allow-readable-course" in line and "fix:" in line, line
    assert "points" not in out.out

    with pytest.warns(RuntimeWarning, match=r"(can read .*/course/solutions)|(runs as YOUR user)"):
        assert cli.main(["--course", str(root), "check", "cnn", str(alice), "--allow-readable-course"]) == 0
    assert "22 / 22 points" in capsys.readouterr().out


def test_the_batch_refuses_a_readable_output_folder(request, monkeypatch, tmp_path, capsys):
    """A private course, but the gradebook in a folder others can read: refused before anyone
    is graded, naming it. In a private folder too: graded (root); a grader that is not root
    still refuses (its child is its own user and reads everything it writes)."""
    monkeypatch.setenv("DEEPGRADE_SANDBOX", "process")
    root = course(tmp_path, readable=False)
    subs = tmp_path / "class"
    notebook_file(subs)
    public = shared_folder(request) / "grades"
    argv = ["--course", str(root), "grade", "cnn", str(subs), "--executor", "serial", "--quiet"]
    with pytest.warns(RuntimeWarning, match="bubblewrap"):
        assert cli.main([*argv, "--out", str(public)]) == 2
    line = one_line(capsys.readouterr().err)
    assert str(public) in line and "--allow-readable-course" in line, line
    assert not list(public.glob("results/*.json")) and not (public / "final_grades.csv").exists()

    private = tmp_path / "grades"
    expected = 0 if IS_ROOT else 2
    assert cli.main([*argv, "--out", str(private)]) == expected, capsys.readouterr().err
    assert (private / "final_grades.csv").exists() == IS_ROOT


@pytest.mark.skipif(not IS_ROOT, reason="the fallback's child has a uid of its own only when the grader is root")
def test_a_file_readable_by_name_in_an_unlistable_folder_is_found(request):
    """assignments/cnn at 0711 cannot be listed, but fixtures.py (0644) can be read by its
    known name: the check names the file."""
    root = course(shared_folder(request), readable=True)
    os.chmod(root / "solutions", 0o700)
    os.chmod(root / "assignments" / "cnn", 0o711)
    for f in (root / "assignments" / "cnn").iterdir():
        if f.name != "fixtures.py":
            os.chmod(f, 0o600)
    private = [str(root / "assignments" / "cnn"), str(root / "solutions" / "cnn.py")]
    with pytest.raises(isolation.SetupError) as caught:
        isolation.check_fallback(private)
    cause = str(caught.value).split("; fix:")[0]
    assert cause.endswith(
        f"could read {root / 'assignments' / 'cnn' / 'fixtures.py'}: student code could read "
        "reference solutions, fixtures or results"
    ), cause


@pytest.mark.skipif(not IS_ROOT, reason="the fallback's child has a uid of its own only when the grader is root")
def test_any_readable_solution_or_fixture_of_the_course_refuses(request):
    """Grading cnn with cnn's own files private, but another assignment's reference and
    fixtures readable by name: still refused, naming those (they are as secret)."""
    from deepgrade.course import assignment as asg
    from deepgrade.grading import pipeline

    root = course(shared_folder(request), readable=True)
    other = root / "assignments" / "rnn"
    other.mkdir(mode=0o711)
    (other / "fixtures.py").write_text("HIDDEN = 1\n")
    (root / "solutions" / "rnn.py").write_text("def rnn(): ...\n")
    for f in (other / "fixtures.py", root / "solutions" / "rnn.py"):
        os.chmod(f, 0o644)
    for d in (root / "assignments", root / "assignments" / "cnn", root / "solutions"):
        os.chmod(d, 0o711)
    os.chmod(root / "solutions" / "__init__.py", 0o600)
    for f in (
        *(root / "assignments" / "cnn").iterdir(),
        root / "solutions" / "cnn.py",
        root / "solutions" / "cnn_mistakes.py",
    ):
        os.chmod(f, 0o600)
    private = pipeline.private_paths(asg.load("cnn", root))
    with pytest.raises(isolation.SetupError) as caught:
        isolation.check_fallback(private)
    cause = str(caught.value).split("; fix:")[0]
    assert f"could read {other / 'fixtures.py'}, {root / 'solutions' / 'rnn.py'}:" in cause, cause
    assert "cnn" not in cause.split("could read")[1], cause


def test_gradescope_with_a_readable_course_in_the_fallback_is_an_autograder_failure(request, monkeypatch, tmp_path):
    """The Gradescope layout without run_autograder's locking (an autograder run by hand):
    the fallback refuses, results.json is an autograder failure naming the reference for the
    instructor; DEEPGRADE_ALLOW_READABLE_COURSE=1 grades it."""
    monkeypatch.setenv("DEEPGRADE_SANDBOX", "process")
    zip_path = tmp_path / "autograder.zip"
    assert cli.main(["--course", str(helpers.ROOT), "export", "gradescope", "cnn", "-o", str(zip_path)]) == 0
    base = shared_folder(request)
    root = helpers.unpack_autograder(zip_path, base)
    for d in (root, root / "source", root / "submission"):
        os.chmod(d, 0o755)
    notebook_file(root / "submission", "cnn.ipynb")
    out = tmp_path / "results.json"
    with pytest.warns(RuntimeWarning):
        data = gradescope.run(root / "source", "cnn", root / "submission", out)
    assert_autograder_failure(data, f"could read {root / 'source' / 'assignments'}, {root / 'source' / 'solutions'}")

    monkeypatch.setenv(isolation.ALLOW_READABLE_ENV, "1")
    with pytest.warns(RuntimeWarning):
        data = gradescope.run(root / "source", "cnn", root / "submission", out)
    assert data["score"] == 22 and data["tests"], data["output"]
