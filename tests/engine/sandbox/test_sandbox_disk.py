"""The process fallback's disk is capped (sandbox/disk.py).

Before: as root the fallback's child could write its working folder, /tmp, /var/tmp, /dev/shm
and /run/lock on the host with only a per-file cap; as a normal user, also everything that
user may write. Now, as root where the kernel allows a mount namespace, every mount is
read-only for the child and its only writable places are three capped tmpfs (its working
folder, /tmp, /dev/shm), as under bubblewrap; elsewhere (a normal user's grader, root without
mount namespaces) a watchdog sums its working folder and stops the step over the cap.
Run as root and, through test_sandbox_unprivileged.py, as a normal user.
"""

from __future__ import annotations

import ast
import os
import warnings
from pathlib import Path

import pytest
from test_sandbox_writable import PROBE

from deepgrade import sandbox
from deepgrade.sandbox import disk, isolation

MiB = 1024**2
# the working folder's own path replaces bubblewrap's /sandbox in the probe's sizes
FALLBACK_PROBE = PROBE.replace('for d in ("/sandbox", ', "for d in (os.getcwd(), ")
# writes 8 MiB files into the working folder until stopped (each file under RLIMIT_FSIZE)
FILL = "chunk = b'x' * (8 << 20)\nfor i in range(200):\n    with open(f'fill{i}', 'wb') as fh:\n        fh.write(chunk)"


@pytest.fixture
def fallback(monkeypatch):
    monkeypatch.setenv("DEEPGRADE_SANDBOX", "process")
    monkeypatch.setenv(isolation.ALLOW_READABLE_ENV, "1")
    monkeypatch.setattr(isolation, "_CHECKED", {})


@pytest.fixture
def watched(fallback, monkeypatch):
    """The fallback as where no private mounts can be made: its working folder is watched."""
    monkeypatch.setattr(isolation, "private_mounts_work", lambda *args: False)
    monkeypatch.setattr(isolation, "_WARNED_DISK", True)


def _run(cells, limits):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return sandbox.run(cells, [], limits)


def _private_mounts() -> bool:
    if os.geteuid() != 0:
        return False
    uid = isolation.sandbox_uid()
    return isolation.private_mounts_work(uid, isolation.Limits(), isolation.reach_plan(isolation.needed_paths()))


def test_as_root_the_fallback_writes_only_its_capped_tmpfs(fallback):
    if not _private_mounts():
        pytest.skip("needs root and a mount namespace (else the working folder is watched: tests below)")
    limits = sandbox.Limits(cell_seconds=60, total_seconds=90, disk_bytes=16 * MiB)
    run = _run([(0, FALLBACK_PROBE)], limits)
    error = run.cells[0].error
    assert error and error["type"] == "RuntimeError", run.cells[0]
    seen = ast.literal_eval(error["message"])
    # the probe cannot list the grader's 0711 folder, so its working folder is not in "writable"
    assert sorted(seen["writable"]) == ["/dev/shm", "/tmp"], seen["writable"]
    work = next(d for d in seen["sizes"] if d not in ("/tmp", "/dev/shm", "/"))
    for place in ("/tmp", "/dev/shm", work):
        assert seen["sizes"][place] == 16 * MiB, seen["sizes"]


def test_as_root_a_disk_fill_stops_at_the_cap_and_lands_nowhere(fallback):
    if not _private_mounts():
        pytest.skip("needs root and a mount namespace")
    limits = sandbox.Limits(cell_seconds=60, total_seconds=90, disk_bytes=16 * MiB)
    before = {p: os.statvfs(p).f_bfree for p in ("/tmp",)}
    run = _run([(0, FILL), (1, "import os\nopen('/var/tmp/x', 'w')")], limits)
    assert run.cells[0].status == "error" and run.cells[0].error["type"] == "OSError", run.cells[0]
    assert "No space left on device" in run.cells[0].error["message"]
    assert run.cells[1].error["type"] in ("OSError", "PermissionError"), run.cells[1]  # read-only for it
    assert "Read-only file system" in run.cells[1].error["message"]
    # the host's /tmp did not take the 16 MiB (other jobs share it: a generous margin)
    assert os.statvfs("/tmp").f_bfree >= before["/tmp"] - 8 * MiB // os.statvfs("/tmp").f_frsize


def test_as_root_what_the_child_reads_in_tmp_is_bound_back_read_only(fallback, request):
    """A read-only extra (``sandbox_ro``; a Python installation alike) that lies in /tmp, which
    the child's own tmpfs covers: bound back, readable, not writable."""
    if not _private_mounts():
        pytest.skip("needs root and a mount namespace")
    import shutil
    import tempfile

    shared = Path(tempfile.mkdtemp(prefix="deepgrade-test-ro-", dir="/tmp"))
    request.addfinalizer(lambda: shutil.rmtree(shared, ignore_errors=True))
    os.chmod(shared, 0o755)
    (shared / "data.txt").write_text("data")
    os.chmod(shared / "data.txt", 0o644)
    cells = [(0, f"x = open({str(shared / 'data.txt')!r}).read()"), (1, f"open({str(shared / 'new')!r}, 'w')")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        run = sandbox.run(cells, [], sandbox.Limits(cell_seconds=60, total_seconds=90), extra_ro=[str(shared)])
    assert run.cells[0].ok, run.cells[0]
    assert run.cells[1].status == "error", run.cells[1]
    assert not (shared / "new").exists()


def test_the_watched_working_folder_stops_the_step_over_the_cap(watched):
    limits = sandbox.Limits(cell_seconds=60, total_seconds=120, disk_bytes=16 * MiB)
    run = _run([(0, "x = 1"), (1, FILL), (2, "y = 2")], limits)
    assert run.cells[0].ok and run.cells[2].ok, run.cells
    assert run.cells[1].status == "memory", run.cells[1]
    assert "wrote more than 16 MiB into its working folder" in run.cells[1].error["message"]
    assert run.cells[1].seconds < 30  # stopped by the watchdog, not by the cell's time limit


def test_the_watched_working_folder_counts_files(watched):
    limits = sandbox.Limits(cell_seconds=60, total_seconds=120, inodes=2000)
    spam = "import os\nos.mkdir('d')\nfor i in range(10**7):\n    open(f'd/f{i}', 'w').close()"
    run = _run([(0, spam)], limits)
    assert run.cells[0].status == "memory", run.cells[0]
    assert "more than 2,000 files and folders" in run.cells[0].error["message"]


def test_a_normal_user_grader_is_told_what_is_not_capped(fallback, monkeypatch):
    """Run by a normal user the child is that user: its working folder is watched, but it can
    write whatever that user can. Accepting a readable course accepts that too: the warning says so."""
    if os.geteuid() == 0:
        monkeypatch.setattr(isolation, "sandbox_uid", lambda: None)
    with pytest.warns(RuntimeWarning, match="fill your disk outside its working folder"):
        isolation.check_fallback([], allow_readable=True)


# --- the watchdog itself -------------------------------------------------------------------


def _write(path: Path, n: int) -> None:
    path.write_bytes(os.urandom(n))  # random: no file system stores it sparse


def test_folder_use_sums_bytes_and_files(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    _write(tmp_path / "a" / "b" / "big", 2 * MiB)
    assert disk.FolderUse(tmp_path, 4 * MiB, 100).over() is None
    assert disk.FolderUse(tmp_path, 1 * MiB, 100).over() == "disk"
    assert disk.FolderUse(tmp_path, 4 * MiB, 2).over() == "files"  # a, b, big


def test_folder_use_never_follows_a_link(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    _write(outside / "big", 2 * MiB)
    work = tmp_path / "work"
    work.mkdir()
    (work / "link").symlink_to(outside)
    (work / "filelink").symlink_to(outside / "big")
    assert disk.FolderUse(work, 1 * MiB, 100).over() is None


def test_folder_use_counts_hard_links_once(tmp_path):
    _write(tmp_path / "big", 2 * MiB)
    for i in range(5):
        os.link(tmp_path / "big", tmp_path / f"link{i}")
    assert disk.FolderUse(tmp_path, 3 * MiB, 100).over() is None


def test_folder_use_refuses_what_it_cannot_sum(tmp_path):
    deep = tmp_path
    for _ in range(disk.MAX_DEPTH + 2):
        deep = deep / "d"
    deep.mkdir(parents=True)
    assert disk.FolderUse(tmp_path, 1 * MiB, 10_000).over() == "uncountable"
    if os.geteuid() != 0:  # root reads a folder of mode 000 all the same
        closed = tmp_path / "other" / "closed"
        closed.mkdir(parents=True)
        closed.chmod(0)
        try:
            assert disk.FolderUse(closed.parent, 1 * MiB, 10_000).over() == "uncountable"
        finally:
            closed.chmod(0o700)


def test_folder_use_of_a_folder_gone_is_nothing(tmp_path):
    assert disk.FolderUse(tmp_path / "gone", 1, 1).over() is None


def test_root_without_mount_namespaces_is_told_once_what_is_not_capped(monkeypatch, tmp_path):
    monkeypatch.setattr(isolation, "private_mounts_work", lambda *args: False)
    monkeypatch.setattr(isolation, "_WARNED_DISK", False)
    limits = isolation.Limits()
    with pytest.warns(RuntimeWarning, match="only the student's working folder is capped"):
        assert isolation.fallback_disk(limits, tmp_path, tmp_path / "w", 1_900_000_000, [], []) is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the second time: silent
        assert isolation.fallback_disk(limits, tmp_path, tmp_path / "w", 1_900_000_000, [], []) is None


@pytest.mark.parametrize("root_without_mounts", [True, False])
def test_the_batch_says_once_what_the_fallback_leaves_uncapped(
    watched, tmp_path, capsys, monkeypatch, root_without_mounts
):
    """Before anyone is graded, one line on stderr: as root where private mounts fail, or run
    by a normal user (the child is that user)."""
    import nbformat

    from deepgrade.cli import main
    from helpers import ROOT, filled_notebook

    if not root_without_mounts:
        monkeypatch.setattr(isolation, "sandbox_uid", lambda: None)
    elif os.geteuid() != 0:
        pytest.skip("the sandbox has a uid of its own only when the grader is root")
    path = tmp_path / "cnn.ipynb"
    nbformat.write(filled_notebook("cnn"), path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        code = main(
            ["--course", str(ROOT), "grade", "cnn", str(path), "--out", str(tmp_path / "out"), "--workers", "1"]
        )
    err = capsys.readouterr().err
    assert code == 0, err
    words = "only the student's working folder is capped" if root_without_mounts else "fill your disk"
    assert err.count(words) == 1, err
