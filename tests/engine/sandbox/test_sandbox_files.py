"""Nothing the student can touch is opened by path; planted files change nothing; disk is capped.

In both modes a notebook plants symlinks (to a host file, to the grader's temporary
folder, to /), FIFOs under every name the grader once used (output.log, plan.json), a
hard link and a device node in its working folder, then kills its own process so the
grader restarts it: the grader finishes, the host file is unchanged, nothing is left.
Hidden fixtures' inputs never reach text the student sees: calls arrive only after the
cells have run, hidden calls after every public one, and a cell's outcome is the first
run's (a re-run after a restart cannot carry what a hidden call saw into a cell note).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest

from deepgrade import sandbox
from deepgrade.portable import wire
from deepgrade.sandbox import isolation


def _run(cells, calls=(), limits=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return sandbox.run(cells, list(calls), limits)


@pytest.fixture
def host_file(request):
    """A host file the sandbox could name (in a folder others may pass through)."""
    folder = Path(tempfile.mkdtemp(prefix="deepgrade-test-host-"))
    request.addfinalizer(lambda: shutil.rmtree(folder, ignore_errors=True))
    os.chmod(folder, 0o755)
    target = folder / "precious.txt"
    target.write_text("precious")
    os.chmod(target, 0o666)  # even a world-writable file: the grader must not write it
    return target


def _ours() -> set[str]:
    tmp = Path(tempfile.gettempdir())
    return {p.name for p in tmp.iterdir() if p.name.startswith(f"deepgrade-{os.getpid()}-")}


def test_planted_files_change_nothing(mode, host_file):
    before = _ours()
    plant = (
        "import os, tempfile\n"
        "def plant(name, make):\n"
        "    try:\n"
        "        make(name)\n"
        "    except OSError as e:\n"
        "        print(name, e)\n"
        f"plant('output.log', lambda n: os.symlink({str(host_file)!r}, n))\n"
        "plant('plan.json', lambda n: os.mkfifo(n))\n"
        "plant('worker.py', lambda n: os.mkfifo(n))\n"
        "plant('wire.py', lambda n: os.symlink('/', n))\n"
        "plant('parent', lambda n: os.symlink('..', n))\n"
        f"plant('hard', lambda n: os.link({str(host_file)!r}, n))\n"
        "plant('null', lambda n: os.mknod(n, 0o666 | 0o020000, os.makedev(1, 3)))\n"
        "plant(os.path.join(tempfile.gettempdir(), 'plan.json'), lambda n: os.mkfifo(n))\n"
        "for d in ('..', '/tmp'):\n"
        "    try:\n"
        "        os.symlink('/', os.path.join(d, 'planted-root'))\n"
        "    except OSError as e:\n"
        "        print(e)\n"
    )
    cells = [
        (0, "def f(x):\n    return x + 1\n"),
        (1, plant),
        (2, "import os\nif not os.path.exists('second-run'):\n    open('second-run', 'w').close()\n    os._exit(0)"),
        (3, "def g(x):\n    return x * 3\n"),
    ]
    calls = [
        {"id": "f/a", "function": "f", "args": [wire.encode(np.arange(3.0))], "kwargs": {}},
        {"id": "g/a", "function": "g", "args": [wire.encode(np.arange(3.0))], "kwargs": {}, "hidden": True},
    ]
    run = _run(cells, calls, sandbox.Limits(cell_seconds=20, total_seconds=60))
    assert run.cells[1].ok, run.cells[1].error
    assert run.cells[2].status == "crashed"
    assert run.cells[3].ok
    assert np.array_equal(run.calls["f/a"].value, [1.0, 2.0, 3.0]), run.calls["f/a"]
    assert np.array_equal(run.calls["g/a"].value, [0.0, 3.0, 6.0]), run.calls["g/a"]
    assert host_file.read_text() == "precious" and host_file.exists()
    assert os.path.isdir("/usr/bin") and os.path.isfile("/usr/bin/env")  # rmtree followed nothing
    assert _ours() == before, "a temporary folder of the grader was left"


def test_disk_is_capped(mode):
    """Up to 1.5 GiB written into the working folder, /tmp and /dev/shm: bubblewrap's tmpfs, and
    the fallback's own as root (disk.py's private mounts), stop it at the cap (nothing lands on
    the host disk); without them the fallback's working folder is watched (test_sandbox_disk.py).
    (The hostile batch does the same next to honest notebooks, which keep full marks.)"""
    fill = (
        "import os\n"
        "written = 0\n"
        "errors = []\n"
        "chunk = b'x' * (8 * 1024 * 1024)\n"
        "for folder in ('.', '/tmp', '/dev/shm'):\n"
        "    try:\n"
        "        for k in range(64):\n"
        "            with open(os.path.join(folder, f'fill{k}'), 'wb') as fh:\n"
        "                for _ in range(4):\n"
        "                    fh.write(chunk)\n"
        "                    written += len(chunk)\n"
        "                    if written >= 1536 * 1024 * 1024:\n"
        "                        raise StopIteration\n"
        "    except (OSError, StopIteration) as e:\n"
        "        errors.append(type(e).__name__)\n"
        "    for k in range(64):\n"
        "        try:\n"
        "            os.remove(os.path.join(folder, f'fill{k}'))\n"
        "        except OSError:\n"
        "            pass\n"
        "def report():\n"
        "    sizes = [os.statvfs(d).f_blocks * os.statvfs(d).f_frsize for d in ('.', '/tmp', '/dev/shm')]\n"
        "    return {'written': written, 'full': errors.count('OSError'), 'biggest': max(sizes)}\n"
    )
    limits = sandbox.Limits(cell_seconds=60, total_seconds=120, disk_bytes=64 * 1024**2, file_bytes=16 * 1024**2)
    if mode == "process" and not _private_mounts():
        pytest.skip(
            "the fallback without private mounts caps its working folder only: tests/engine/sandbox/test_sandbox_disk.py"
        )
    run = _run([(0, fill)], [{"id": "r", "function": "report", "args": [], "kwargs": {}, "seconds": 20}], limits)
    assert run.cells[0].ok, run.cells[0].error
    seen = {k: int(v) for k, v in run.calls["r"].value.items()}
    assert seen["full"] == 3, seen  # each of the three folders filled up
    assert seen["written"] <= 3 * 64 * 1024**2, seen
    assert seen["biggest"] == 64 * 1024**2, seen  # each writable place is the capped tmpfs, not a host disk


def _private_mounts() -> bool:
    """The fallback's private mounts (disk.py): root, where the kernel allows them."""
    if os.geteuid() != 0:
        return False
    return isolation.private_mounts_work(
        isolation.sandbox_uid(), isolation.Limits(), isolation.reach_plan(isolation.needed_paths())
    )


def test_disk_cap_from_assignment_toml(tmp_path):
    from deepgrade.course import contract
    from deepgrade.course.assignment import Assignment
    from deepgrade.grading import pipeline

    a = Assignment("x", "x", tmp_path, tmp_path / "x.ipynb", [], {}, None, {})
    a.contract = contract.check({"questions": {"f": 1}, "limits": {"disk_mb": 32}}, "assignment.toml", "x")
    assert pipeline.limits_for(a).disk_bytes == 32 * 1024**2
    a.contract = contract.check({"questions": {"f": 1}}, "assignment.toml", "x")
    assert pipeline.limits_for(a).disk_bytes == isolation.Limits().disk_bytes


def test_hidden_inputs_never_reach_cells_or_public_calls(mode):
    """A hidden call writes its input where a re-run cell and a public call would look, then
    crashes the process: the cell's outcome stays the first run's, and the public call ran
    before any hidden input existed in the sandbox."""
    leak = f"deepgrade-leak-{os.getpid()}"  # the fallback's /tmp is shared with other graders
    spots = f"[os.path.join(os.environ['HOME'], 'leak'), '/tmp/{leak}', '/dev/shm/{leak}']"
    cells = [
        (0, "import os, numpy as np\n"),
        (
            1,
            f"for p in {spots}:\n    if os.path.exists(p):\n        raise ValueError('LEAKED ' + open(p).read())\n",
        ),
        (
            2,
            "def peek(x):\n"
            f"    for p in {spots}:\n"
            "        if os.path.exists(p):\n"
            "            return np.array([1.0])\n"
            "    return np.array([0.0])\n"
            "def hidden_target(x):\n"
            f"    for p in {spots}:\n"
            "        try:\n"
            "            open(p, 'w').write(repr(x.tolist()))\n"
            "        except OSError:\n"
            "            pass\n"
            "    os._exit(0)\n",
        ),
    ]
    secret = np.array([4242.5, 1717.25])
    calls = [
        {"id": "h/1", "function": "hidden_target", "args": [wire.encode(secret)], "kwargs": {}, "hidden": True},
        {"id": "p/1", "function": "peek", "args": [wire.encode(np.zeros(1))], "kwargs": {}},
        {"id": "p/2", "function": "peek", "args": [wire.encode(np.zeros(1))], "kwargs": {}},
    ]
    try:
        run = _run(cells, calls, sandbox.Limits(cell_seconds=20, total_seconds=60))
    finally:
        for p in (f"/tmp/{leak}", f"/dev/shm/{leak}"):
            if os.path.exists(p):
                os.remove(p)
    assert run.cells[1].ok, run.cells[1].error  # the first run's outcome, not the re-run's
    assert run.calls["p/1"].value.tolist() == [0.0] and run.calls["p/2"].value.tolist() == [0.0]
    assert run.calls["h/1"].status == "crashed"
    assert "4242" not in repr(run.notes) and "LEAKED" not in repr(run.notes)


def test_public_calls_run_before_hidden_ones_and_refs_stay_satisfied():
    """A public case that depends (Ref) on a hidden one moves after it, with hidden treatment."""
    calls = [
        {"id": "a", "function": "f", "args": [], "kwargs": {}},
        {"id": "h", "function": "f", "args": [], "kwargs": {}, "hidden": True, "keep": True},
        {"id": "p", "function": "f", "args": [{"r": ["h", 0]}], "kwargs": {}},
        {"id": "q", "function": "f", "args": [{"r": ["a", None]}], "kwargs": {}},
        {"id": "r", "function": "f", "args": [], "kwargs": {"x": {"r": ["p", None]}}},
    ]
    assert sandbox._phases(calls) == (["a", "q"], ["h", "p", "r"])
