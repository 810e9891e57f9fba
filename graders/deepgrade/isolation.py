"""How a sandbox is made: bubblewrap, cgroups, rlimits, and the fallback without bubblewrap.

The student's code runs in a child process that sees only its own temporary folder,
the Python installation and the fixture inputs it is sent. Where the machine has
bubblewrap (`bwrap`) the child gets no network, its own PID namespace and a read-only
view of the system; cgroups (v1 or v2), where writable, cap its memory and process
count; rlimits cap CPU time, file size and open files everywhere.

Without bubblewrap (or with ``DEEPGRADE_SANDBOX=process``) a RuntimeWarning says so and
the child runs as a plain process in its own session, with the rlimits (and cgroup, where
writable) above. What this fallback guarantees, and what it does not:

* when the grader runs as root, the child runs as ``nobody`` (uid/gid 65534, no
  supplementary groups, no_new_privs) keeping one capability, CAP_DAC_READ_SEARCH, so it
  can read the Python installation wherever it lives (a venv under /root, mode 0700).
  It can therefore *read* any file on the machine (reference solutions included), but
  it cannot write the grader's files, nor signal the grader or any other process not
  running as nobody: ``os.kill(os.getppid(), 9)`` fails with PermissionError. It can
  signal other sandboxes running as nobody at the same moment. Where the kernel refuses
  the capability (a container without it) the child runs as root, with a warning.
* when the grader is not root, the child runs as the grader's user: it can signal the
  grader and write whatever that user can. Use bubblewrap for untrusted classes.
* in either case: no network or filesystem isolation, and no PID namespace.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import time
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Limits:
    """Resource limits for one submission's sandbox."""

    cell_seconds: float = 10.0  # wall time per notebook cell
    call_seconds: float = 5.0  # default wall time per call (a call may ask for more)
    total_seconds: float = 120.0  # wall time for the whole submission
    cpu_seconds: int = 300
    memory_bytes: int = 2 * 1024**3
    max_processes: int = 256
    file_bytes: int = 64 * 1024**2
    open_files: int = 256


def bwrap_available() -> bool:
    exe = shutil.which("bwrap")
    if not exe:
        return False
    try:
        probe = subprocess.run(
            [exe, "--ro-bind", "/", "/", "--unshare-net", "--unshare-pid", "--proc", "/proc", "--dev", "/dev", "true"],
            capture_output=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0


_BWRAP: bool | None = None


_WARNED_FORCED = False


def isolation_mode() -> str:
    global _BWRAP, _WARNED_FORCED
    if os.environ.get("DEEPGRADE_SANDBOX") == "process":
        if not _WARNED_FORCED:
            _WARNED_FORCED = True
            warnings.warn(
                "DEEPGRADE_SANDBOX=process: bubblewrap (bwrap) is not used: student code runs as a plain "
                "process with resource limits only (no network or filesystem isolation).",
                RuntimeWarning,
                stacklevel=2,
            )
        return "process"
    if _BWRAP is None:
        _BWRAP = bwrap_available()
        if not _BWRAP:
            warnings.warn(
                "bubblewrap (bwrap) is not available: student code runs as a plain process with "
                "resource limits only (no network or filesystem isolation). Install the Debian "
                "package 'bubblewrap'.",
                RuntimeWarning,
                stacklevel=2,
            )
    return "bubblewrap" if _BWRAP else "process"


class Cgroup:
    """A throw-away cgroup capping memory and process count, where the machine lets us make one."""

    def __init__(self, limits: Limits) -> None:
        self.paths: list[Path] = []
        name = f"deepgrade-{uuid.uuid4().hex[:12]}"
        v2 = Path("/sys/fs/cgroup/cgroup.controllers")
        try:
            if v2.exists():
                p = Path("/sys/fs/cgroup") / name
                p.mkdir()
                self.paths.append(p)
                (p / "memory.max").write_text(str(limits.memory_bytes))
                (p / "pids.max").write_text(str(limits.max_processes))
                self.kind = "v2"
            else:
                for ctrl, setting, value in (
                    ("memory", "memory.limit_in_bytes", limits.memory_bytes),
                    ("pids", "pids.max", limits.max_processes),
                ):
                    p = Path("/sys/fs/cgroup") / ctrl / name
                    p.mkdir()
                    self.paths.append(p)
                    (p / setting).write_text(str(value))
                self.kind = "v1"
        except OSError:
            self.close()
            self.paths = []
            self.kind = "none"

    def procs_files(self) -> list[str]:
        return [str(p / "cgroup.procs") for p in self.paths]

    def hit_memory_limit(self) -> bool:
        for p in self.paths:
            for name in ("memory.failcnt", "memory.events"):
                f = p / name
                if f.exists():
                    text = f.read_text()
                    if name == "memory.failcnt" and text.strip() not in ("", "0"):
                        return True
                    if name == "memory.events":
                        for line in text.splitlines():
                            key, _, val = line.partition(" ")
                            if key in ("max", "oom_kill") and val.strip() != "0":
                                return True
        return False

    def kill_all(self) -> None:
        for f in self.procs_files():
            try:
                for pid in Path(f).read_text().split():
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except OSError:
                        pass
            except OSError:
                pass

    def close(self) -> None:
        self.kill_all()
        for p in self.paths:
            for _ in range(50):
                try:
                    p.rmdir()
                    break
                except OSError:
                    time.sleep(0.02)


NOBODY = 65534
_CAP_DAC_READ_SEARCH = 2
_DROP_OK: bool | None = None


def _privilege_drop():
    """A preexec step making a root child 'nobody' that keeps CAP_DAC_READ_SEARCH (see the
    module docstring), or None when the grader is not root. Built before the fork: the
    forked child only makes system calls."""
    if os.geteuid() != 0:
        return None
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    bit = 1 << _CAP_DAC_READ_SEARCH
    header = Header(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (Data * 2)(Data(bit, bit, bit), Data(0, 0, 0))

    def check(rc: int, what: str) -> None:
        if rc != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"{what}: {os.strerror(err)}")

    def drop() -> None:
        check(libc.prctl(8, 1, 0, 0, 0), "PR_SET_KEEPCAPS")
        os.setgroups([])
        os.setresgid(NOBODY, NOBODY, NOBODY)
        os.setresuid(NOBODY, NOBODY, NOBODY)
        check(libc.capset(ctypes.byref(header), data), "capset")
        check(libc.prctl(47, 2, _CAP_DAC_READ_SEARCH, 0, 0), "PR_CAP_AMBIENT_RAISE")
        check(libc.prctl(38, 1, 0, 0, 0), "PR_SET_NO_NEW_PRIVS")

    return drop


def drop_for_child():
    """The privilege drop for process mode, once probed to work on this machine (cached)."""
    global _DROP_OK
    drop = _privilege_drop()
    if drop is None:
        return None
    if _DROP_OK is None:
        try:
            probe = subprocess.run(
                [sys.executable, "-I", "-S", "-c", f"import os, sys; sys.exit(os.getuid() != {NOBODY})"],
                preexec_fn=drop,
                capture_output=True,
                timeout=30,
                cwd="/",
            )
            _DROP_OK = probe.returncode == 0
        except (OSError, subprocess.SubprocessError):
            _DROP_OK = False
        if not _DROP_OK:
            warnings.warn(
                "the sandbox cannot run student code as 'nobody' here (no ambient capabilities?): "
                "in process mode it runs as root and can signal the grader",
                RuntimeWarning,
                stacklevel=2,
            )
    return drop if _DROP_OK else None


def preexec(limits: Limits, procs_files: list[str], drop=None):
    def setup() -> None:
        for f in procs_files:
            with open(f, "w") as fh:
                fh.write(str(os.getpid()))
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if not procs_files:
            # no cgroup: fall back on address-space and process-count rlimits
            resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
            resource.setrlimit(resource.RLIMIT_NPROC, (limits.max_processes, limits.max_processes))
        if drop is not None:
            drop()  # last: the cgroup and the rlimits above need root

    return setup


def _python_roots() -> list[str]:
    roots = {sys.prefix, sys.base_prefix, str(Path(sys.executable).resolve().parent.parent)}
    return sorted(os.path.realpath(r) for r in roots)


def command(workdir: Path, mode: str, extra_ro: list[str]) -> tuple[list[str], str]:
    python = sys.executable
    if mode != "bubblewrap":
        return [python, "-I", "-S", "-c", _BOOT, str(workdir / "plan.json")], str(workdir)
    cmd = [
        "bwrap",
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--tmpfs",
        "/tmp",
    ]
    for d in ("/usr", "/lib", "/lib64", "/bin", "/etc"):
        if os.path.exists(d):
            cmd += ["--ro-bind", d, d]
    for root in _python_roots():
        cmd += ["--ro-bind", root, root]
    if sys.prefix != os.path.realpath(sys.prefix):
        cmd += ["--ro-bind", sys.prefix, sys.prefix]
    for path in extra_ro:
        cmd += ["--ro-bind", path, path]
    cmd += ["--bind", str(workdir), "/sandbox", "--chdir", "/sandbox"]
    cmd += [python, "-I", "-S", "-c", _BOOT, "/sandbox/plan.json"]
    return cmd, "/sandbox"


# -I keeps the student's folder and PYTHON* variables out of sys.path; -S skips site so
# that only the interpreter's own site-packages (numpy, tensorflow) are added, here.
_BOOT = (
    "import sys, site, os; site.main(); sys.path.insert(0, os.getcwd()); "
    "import runpy; runpy.run_path('worker.py', run_name='__main__')"
)


def environment(home: str, channel_fd: int) -> dict[str, str]:
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "KERAS_HOME": f"{home}/.keras",
        "MPLCONFIGDIR": f"{home}/.mpl",
        "MPLBACKEND": "Agg",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "LANG": "C.UTF-8",
        "DEEPGRADE_FD": str(channel_fd),
    }
    for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env
