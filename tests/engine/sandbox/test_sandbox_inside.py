"""The sandbox from inside, in both modes: never root, no capability, nothing to remount.

A notebook cell tries what a student out to escape would try (mount, remount the Python
installation read-write, unshare, ptrace, setuid binaries, writes to /usr, the venv and the
grader's package, a .pth file in site-packages) and a call reports what worked as numbers.
Run as root and as an unprivileged user (tests/engine/sandbox/test_sandbox_unprivileged.py).
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

from deepgrade import sandbox
from deepgrade.sandbox import isolation

PACKAGE = str(Path(isolation.__file__).resolve().parents[1])  # graders/deepgrade/
SITE = next(p for p in sys.path if p.endswith("site-packages") and p.startswith(sys.prefix))

PROBE = f"""
import ctypes, os, subprocess, sys

def _try(fn):
    try:
        fn()
        return 1
    except Exception:
        return 0

def _run(*cmd):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout
    except Exception:
        return -1, ""

def _write(path):
    with open(path, "w") as fh:
        fh.write("import os; os.system('touch /tmp/deepgrade-pth-ran')\\n")

def _ptrace(pid):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.ptrace(16, pid, None, None) != 0:  # PTRACE_ATTACH
        raise OSError(ctypes.get_errno(), "ptrace")
    os.waitpid(pid, getattr(os, "__WALL", 0x40000000))  # the tracee stops; then let it go
    libc.ptrace(17, pid, None, None)  # PTRACE_DETACH

def probe():
    status = dict(line.split(":\\t", 1) for line in open("/proc/self/status").read().splitlines() if ":\\t" in line)
    su_rc, su_out = _run("su", "root", "-c", "id -u")
    return {{
        "uid": os.getuid(),
        "euid": os.geteuid(),
        "cap_eff": int(status["CapEff"].strip(), 16),
        "cap_prm": int(status["CapPrm"].strip(), 16),
        "no_new_privs": int(status["NoNewPrivs"].strip()),
        "mount_tmpfs": int(_run("mount", "-t", "tmpfs", "none", os.getcwd())[0] == 0),
        "remount_prefix": int(_run("mount", "-o", "remount,rw,bind", {sys.prefix!r})[0] == 0),
        "remount_usr": int(_run("mount", "-o", "remount,rw,bind", "/usr")[0] == 0),
        "unshare_user": int(_run("unshare", "-U", "true")[0] == 0),
        "unshare_mount": int(_run("unshare", "-m", "true")[0] == 0),
        "unshare_root": int(_run("unshare", "-Ur", "id", "-u")[0] == 0),
        "su_root": int(su_out.strip() == "0"),
        "ptrace_parent": _try(lambda: _ptrace(os.getppid())),
        "write_usr": _try(lambda: _write("/usr/deepgrade-pwned")),
        "write_prefix": _try(lambda: _write({sys.prefix + "/deepgrade-pwned"!r})),
        "write_pth": _try(lambda: _write({SITE + "/deepgrade-pwned.pth"!r})),
        "write_package": _try(lambda: _write({PACKAGE + "/deepgrade_pwned.py"!r})),
        "kill_grader": _try(lambda: os.kill({os.getpid()}, 0)),
        "cwd_empty": int(os.listdir(".") == []),
    }}
"""

MUST_FAIL = [
    "mount_tmpfs",
    "remount_prefix",
    "remount_usr",
    "unshare_user",
    "unshare_mount",
    "unshare_root",
    "su_root",
    "write_usr",
    "write_prefix",
    "write_pth",
    "write_package",
    "kill_grader",
]


def probe(mode: str) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # process mode says it is weaker: tested elsewhere
        run = sandbox.run([(0, PROBE)], [{"id": "p", "function": "probe", "args": [], "kwargs": {}, "seconds": 60}])
    assert run.isolation == mode
    outcome = run.calls["p"]
    assert outcome.ok, (outcome.error, run.notes, run.cells[0].error)
    return {k: int(v) for k, v in outcome.value.items()}


def test_never_root_never_a_capability(mode):
    seen = probe(mode)
    assert seen["uid"] != 0 and seen["euid"] != 0, seen
    assert seen["cap_eff"] == 0 and seen["cap_prm"] == 0, seen
    assert seen["no_new_privs"] == 1, seen
    if mode == "bubblewrap":
        assert seen["uid"] == isolation.SANDBOX_UID
    elif os.geteuid() == 0:
        assert isolation.SANDBOX_UID_BASE <= seen["uid"] < isolation.SANDBOX_UID_BASE + isolation.UID_SLOTS
    else:
        assert seen["uid"] == os.getuid()  # the documented weakness: the grader's own user
    worked = [k for k in MUST_FAIL if seen[k]]
    if mode == "process" and os.geteuid() != 0:
        # the child is the grader's user: it may signal it (documented, with a warning)
        worked = [k for k in worked if k != "kill_grader"]
    assert not worked, f"inside the {mode} sandbox these worked: {worked}"
    assert seen["cwd_empty"] == 1, "the working folder holds something (the engine's files?)"
    for p in (
        "/usr/deepgrade-pwned",
        f"{sys.prefix}/deepgrade-pwned",
        f"{SITE}/deepgrade-pwned.pth",
        f"{PACKAGE}/deepgrade_pwned.py",
    ):
        assert not os.path.exists(p), p


def test_no_ptrace_of_the_grader(monkeypatch):
    """As root the child is another uid; as a normal user the grader makes itself not dumpable."""
    monkeypatch.setenv("DEEPGRADE_SANDBOX", "process")
    monkeypatch.setenv(isolation.ALLOW_READABLE_ENV, "1")  # the fallback on this readable course
    monkeypatch.setattr(isolation, "_CHECKED", {})
    seen = probe("process")
    assert seen["ptrace_parent"] == 0
