"""Every place a sandbox can write is capped, and the caps fit the memory limit.

Under bubblewrap the new root ``/`` and ``/dev`` are tmpfs bubblewrap makes with no size: a
notebook wrote 384 MiB into ``/`` (2,304 MiB as a normal user, with no cgroup to charge
it to). A cell now tries to create a file in every folder of its filesystem: only the
three capped tmpfs (the working folder, /tmp, /dev/shm) take it, and their sizes together
stay within the memory limit (``isolation.tmpfs_bytes``). Run as root and, through
test_sandbox_unprivileged.py, as a normal user.
"""

from __future__ import annotations

import warnings

import pytest

from deepgrade import sandbox
from deepgrade.sandbox import isolation

PROBE = r"""
import os
writable, sizes = [], {}
for top, dirs, files in os.walk("/"):
    if top.startswith(("/proc", "/sys")):
        dirs[:] = []
        continue
    if top.count("/") > 6:
        dirs[:] = []
    try:
        with open(os.path.join(top, ".deepgrade-probe"), "wb") as fh:
            fh.write(b"x")
        os.remove(os.path.join(top, ".deepgrade-probe"))
        writable.append(top)
    except OSError:
        pass
for d in ("/sandbox", "/tmp", "/dev/shm", "/"):
    st = os.statvfs(d)
    sizes[d] = st.f_blocks * st.f_frsize
raise RuntimeError(repr({"writable": writable, "sizes": sizes}))
"""


def _bubblewrap(monkeypatch):
    monkeypatch.setattr(isolation, "_BWRAP", None)
    monkeypatch.delenv("DEEPGRADE_SANDBOX", raising=False)
    if not isolation.bwrap_available():
        pytest.skip("needs bubblewrap (the fallback's disk is documented as unprotected: isolation.py)")


def _probe(limits: sandbox.Limits) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        run = sandbox.run([(0, PROBE)], [], limits)
    error = run.cells[0].error
    assert error and error["type"] == "RuntimeError", error
    import ast

    return ast.literal_eval(error["message"])


def test_only_the_capped_tmpfs_are_writable(monkeypatch):
    _bubblewrap(monkeypatch)
    limits = sandbox.Limits(cell_seconds=60, total_seconds=90, disk_bytes=16 * 1024**2)
    seen = _probe(limits)
    places = ("/sandbox", "/tmp", "/dev/shm")
    outside = [d for d in seen["writable"] if not any(d == p or d.startswith(p + "/") for p in places)]
    assert not outside, seen["writable"]
    assert {"/sandbox", "/tmp", "/dev/shm"} <= set(seen["writable"])  # the probe can tell
    for place in places:
        assert seen["sizes"][place] == 16 * 1024**2, seen["sizes"]


def test_the_tmpfs_together_fit_the_memory_limit(monkeypatch):
    _bubblewrap(monkeypatch)
    # each may take disk_bytes (1 GiB), but three of them would be 3 GiB against 1.5 GiB of memory
    limits = sandbox.Limits(cell_seconds=60, total_seconds=90, disk_bytes=1024**3, memory_bytes=1536 * 1024**2)
    seen = _probe(limits)
    sizes = [seen["sizes"][p] for p in ("/sandbox", "/tmp", "/dev/shm")]
    assert sum(sizes) <= limits.memory_bytes, sizes
    assert min(sizes) == isolation.tmpfs_bytes(limits) == 512 * 1024**2


def test_writing_into_the_root_fails():
    """The command line itself: the root and /dev are remounted read-only after every mount."""
    cmd = isolation.command("bubblewrap", isolation.Limits(), [])
    chdir = cmd.index("--chdir")
    assert cmd[chdir - 4 : chdir] == ["--remount-ro", "/dev", "--remount-ro", "/"]
    last_mount = max(i for i, a in enumerate(cmd[:chdir]) if a in ("--tmpfs", "--ro-bind", "--dev", "--proc"))
    assert last_mount < chdir - 4


def test_files_past_the_inode_limit_stop_the_cell(monkeypatch):
    """bubblewrap cannot cap a tmpfs's inodes: the grader counts them from outside
    (filecount.py) and stops the step that made too many; the cells after it run."""
    _bubblewrap(monkeypatch)
    limits = sandbox.Limits(cell_seconds=60, total_seconds=120, inodes=5000)
    spam = "import os\nfor i in range(10**7):\n    open(f'/tmp/f{i}', 'w').close()"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        run = sandbox.run([(0, "x = 1"), (1, spam), (2, "few = [open(f'f{i}', 'w') for i in range(100)]")], [], limits)
    assert run.cells[0].ok and run.cells[2].ok, run.cells
    assert run.cells[1].status == "memory", run.cells[1]
    assert "more than 5,000 files and folders" in run.cells[1].error["message"]
    assert run.cells[1].seconds < 30  # stopped by the count, not by the cell's time limit
