"""CI runs as root: re-run the sandbox and hostile tests as an unprivileged user too.

The grader as uid 65534 (nobody) must give the same results: bubblewrap works unprivileged
here, and the fallback runs as the grader's own user (with its loud warning). The Python
installation may sit under a folder nobody cannot pass (/root/.pyenv under /root, 0700):
the run then gets the same private view the sandbox uses (isolation.reach_plan: an empty
tmpfs over that folder with only the Python installation bound back). The run reads a copy
of the repository made readable to others, so it passes wherever the clone lies.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from deepgrade.sandbox import isolation
from helpers import readable_copy

TESTS = [  # under tests/
    "engine/sandbox/test_sandbox_inside.py",
    "engine/sandbox/test_sandbox_files.py",
    "engine/sandbox/test_sandbox_channel.py",
    "engine/sandbox/test_sandbox_leftovers.py",
    "security/test_batch_hostile.py",
    "security/test_failclosed.py",
    "engine/sandbox/test_sandbox_writable.py",
    "security/test_grader_leaks.py",
    "security/test_grader_memory.py",
    "security/test_notebook_shapes.py",
]
NOBODY = 65534


@pytest.mark.slow  # the suite's sandbox tests run again as uid 65534 (77 s): CI runs it after the fast subset
@pytest.mark.skipif(os.geteuid() != 0, reason="already unprivileged: the other tests are the unprivileged run")
@pytest.mark.skipif(os.environ.get("DEEPGRADE_UNPRIVILEGED_RUN") == "1", reason="inside the unprivileged run")
def test_sandbox_tests_pass_as_an_unprivileged_user():
    tmp = Path(tempfile.mkdtemp(prefix="deepgrade-test-nobody-"))
    try:
        os.chmod(tmp, 0o700)
        os.chown(tmp, NOBODY, NOBODY)
        # the run reads a copy (root's, readable by others) in a folder nobody can enter: this
        # clone may lie where nobody cannot (a folder of mode 0700 above it)
        root = readable_copy(tmp / "deepgrade", ["pyproject.toml", "graders", "tests", "assignments", "solutions"])
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(tmp),
            "TMPDIR": str(tmp),
            "LANG": "C.UTF-8",
            "DEEPGRADE_UNPRIVILEGED_RUN": "1",
            # the copy's engine, for the run and the graders it starts (the installed one may
            # lie in this clone, out of nobody's reach)
            "PYTHONPATH": str(root / "graders"),
        }
        # limits far above what the run needs (the sandboxes it makes set their own, lower)
        limits = isolation.Limits(
            cpu_seconds=3600,
            memory_bytes=2**60,
            max_processes=resource.getrlimit(resource.RLIMIT_NPROC)[1],
            open_files=resource.getrlimit(resource.RLIMIT_NOFILE)[1],
            file_bytes=2**50,
        )
        unprivileged = isolation.preexec(limits, [], NOBODY, isolation.reach_plan(isolation.needed_paths()))

        # one process (-n 0): the outer run already keeps the cores busy
        cmd = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "-n", "0"]
        cmd += [f"--basetemp={tmp / 'pytest'}"]
        cmd += [str(root / "tests" / t) for t in TESTS]
        proc = subprocess.run(
            cmd, cwd=str(root), env=env, preexec_fn=unprivileged, capture_output=True, text=True, timeout=400
        )
        tail = (proc.stdout + proc.stderr)[-4000:]
        assert proc.returncode == 0, tail
        assert " passed" in proc.stdout, tail
        # bubblewrap works unprivileged here: nothing may have been skipped for want of it
        assert "needs bubblewrap" not in proc.stdout and "bubblewrap does not work" not in proc.stdout, tail
        print(proc.stdout[-1500:])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
