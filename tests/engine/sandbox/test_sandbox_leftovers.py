"""Nothing left behind: cgroups, temporary folders and sandbox processes.

A grader killed with SIGKILL while a sandbox runs (and its student has a process of its
own that left the session) leaves a cgroup, a temporary folder and that process; the next
grader's reclaim() removes them all. And after this test session's own runs, nothing of
this process is left.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from deepgrade import sandbox
from deepgrade.sandbox import isolation

GRADER = """
import sys, warnings
warnings.simplefilter("ignore")
from deepgrade import sandbox
print("running", flush=True)
sandbox.run([(0, {cell!r})], [], sandbox.Limits(cell_seconds=300, total_seconds=300))
"""

CELL = (
    "import os, time\n"
    "if os.fork() == 0:\n"
    "    os.setsid()\n"
    "    if os.fork() == 0:\n"
    "        time.sleep(600)\n"
    "    os._exit(0)\n"
    "time.sleep(600)\n"
)


def _cgroups(pid: int) -> list[Path]:
    found = []
    for parent in isolation._cgroup_parents():
        if parent.is_dir():
            found += [p for p in parent.iterdir() if p.name.startswith(f"deepgrade-{pid}-")]
    return found


def _folders(pid: int) -> list[Path]:
    return [p for p in Path(tempfile.gettempdir()).iterdir() if p.name.startswith(f"deepgrade-{pid}-")]


def _below(pid: int) -> set[int]:
    """The pids of pid's descendants."""
    parent = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                parent[int(d.name)] = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, todo = set(), [pid]
    while todo:
        p = todo.pop()
        kids = {c for c, pp in parent.items() if pp == p} - found
        found |= kids
        todo += kids
    return found


def _uid_processes() -> dict[int, int]:
    """pid -> uid of live processes running as a sandbox uid (zombies are dead: a killed
    sandbox's processes wait there until the machine's init reaps them)."""
    out = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                uid = d.stat().st_uid
                if "\nState:\tZ" in (d / "status").read_text():
                    continue
            except OSError:
                continue
            if isolation.SANDBOX_UID_BASE <= uid < isolation.SANDBOX_UID_BASE + isolation.UID_SLOTS:
                out[int(d.name)] = uid
    return out


@pytest.mark.parametrize("mode", ["process", "bubblewrap"])
def test_a_killed_graders_leftovers_are_reclaimed(mode, monkeypatch):
    env = dict(os.environ)
    if mode == "process":
        env["DEEPGRADE_SANDBOX"] = "process"
    else:
        env.pop("DEEPGRADE_SANDBOX", None)
        monkeypatch.setattr(isolation, "_BWRAP", None)
        if not isolation.bwrap_available():
            pytest.skip("bubblewrap does not work here")
    before = set(_uid_processes())
    grader = subprocess.Popen(
        [sys.executable, "-c", GRADER.format(cell=CELL)], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert grader.stdout.readline().strip() == "running"
        time.sleep(4)  # the sandbox starts and the cell forks
        # this grader's sandbox uids: other graders (other tests, other users) run sandboxes too
        ours = {u for p, u in _uid_processes().items() if p in _below(grader.pid)}
        os.kill(grader.pid, signal.SIGKILL)
        grader.wait(timeout=30)
        time.sleep(0.5)
        left_folders = _folders(grader.pid)
        assert left_folders, "expected the killed grader's temporary folder"
        if Path("/sys/fs/cgroup/pids").is_dir() and os.access("/sys/fs/cgroup/pids", os.W_OK):
            assert _cgroups(grader.pid), "expected the killed grader's cgroup"
        strays = {p for p, u in _uid_processes().items() if u in ours} - before
        if os.geteuid() == 0 and mode == "process":
            assert strays, "expected the student's detached process to survive its grader"
        isolation.reclaim(force=True)
        deadline = time.monotonic() + 10
        while (strays & set(_uid_processes())) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _folders(grader.pid)
        assert not _cgroups(grader.pid)
        assert not (strays & set(_uid_processes())), "sandbox processes survived the reclaim"
    finally:
        if grader.poll() is None:
            grader.kill()


def test_this_session_leaves_nothing():
    with _quiet():
        run = sandbox.run([(0, "import os\nif os.fork() == 0:\n    os.setsid()\n    import time; time.sleep(600)")], [])
    assert run.cells[0].ok
    assert not _cgroups(os.getpid())
    assert not _folders(os.getpid())
    if os.geteuid() == 0:
        uid = isolation.sandbox_uid()
        assert uid not in _uid_processes().values(), "a process of this grader's sandbox uid is left"


class _quiet:
    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._w.__exit__(*exc)
