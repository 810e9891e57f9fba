"""Stage 2: run a notebook's cells and the planned calls in an isolated process.

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

A watchdog gives every step (a cell, a call) its own wall-clock budget. A step that
hangs, crashes the interpreter or exhausts memory is recorded and the child is started
again with that step skipped, so one bad cell costs only what depends on it.
"""

from __future__ import annotations

import json
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from . import wire

HERE = Path(__file__).resolve().parent
MAX_RESTARTS = 12
MAX_CHANNEL_BYTES = 256 * 1024 * 1024


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


@dataclass
class StepOutcome:
    """What happened to one cell or call. status: ok, error, timeout, crashed, memory, not run."""

    status: str
    value: object = None
    error: dict | None = None
    mutated: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class RunResult:
    cells: dict[int, StepOutcome]
    calls: dict[str, StepOutcome]
    notes: list[str]
    isolation: str


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


class _Cgroup:
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


def _drop_for_child():
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


def _preexec(limits: Limits, procs_files: list[str], drop=None):
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


def _command(workdir: Path, mode: str, extra_ro: list[str]) -> tuple[list[str], str]:
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


def _environment(home: str, channel_fd: int) -> dict[str, str]:
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


def _describe_stop(kind: str, step: str, seconds: float, limits: Limits) -> tuple[str, str]:
    what = f"cell {step[5:]}" if step.startswith("cell:") else "this call"
    if kind == "timeout":
        return "timeout", f"{what} was stopped after {seconds:g} s (an endless loop, or far too slow)"
    if kind == "memory":
        return "memory", f"{what} used more than the {limits.memory_bytes / 1024**3:g} GB memory limit"
    return "crashed", f"the Python process ended during {what} (exit, os._exit, a signal or a crash)"


def run(
    cells: list[tuple[int, str]],
    calls: list[dict],
    limits: Limits = Limits(),
    extra_ro: list[str] | None = None,
    input_files: dict[str, bytes] | None = None,
) -> RunResult:
    """Execute notebook cells then calls in a sandbox; return their outcomes.

    cells: (index, source) in notebook order. calls: plan entries for the worker
    (id, function, args, kwargs as wire values, optional keep / returns / seconds / harness).
    """
    mode = isolation_mode()
    results_cells: dict[int, StepOutcome] = {}
    results_calls: dict[str, StepOutcome] = {}
    notes: list[str] = []
    call_seconds = {c["id"]: float(c.get("seconds", limits.call_seconds)) for c in calls}
    deadline = time.monotonic() + limits.total_seconds
    workdir = Path(tempfile.mkdtemp(prefix="deepgrade-"))
    try:
        shutil.copy(HERE / "worker.py", workdir / "worker.py")
        shutil.copy(HERE / "wire.py", workdir / "wire.py")
        for name, data in (input_files or {}).items():
            (workdir / name).write_bytes(data)
        os.chmod(workdir, 0o777)
        plan = {"cells": [{"index": i, "source": s} for i, s in cells], "calls": calls}
        restarts = 0
        while True:
            plan["skip_calls"] = sorted(results_calls)
            # cells that already ran must run again after a restart: functions live in memory
            plan["skip_cells"] = sorted(
                i for i, o in results_cells.items() if o.status in ("timeout", "crashed", "memory")
            )
            (workdir / "plan.json").write_text(json.dumps(plan))
            finished = _run_once(
                workdir, mode, limits, extra_ro or [], call_seconds, deadline, results_cells, results_calls, notes
            )
            if finished:
                break
            _skip_after_hang(calls, results_calls)
            restarts += 1
            if restarts > MAX_RESTARTS or time.monotonic() >= deadline:
                notes.append("the time budget for this submission ran out; remaining steps were not run")
                break
        for i, _ in cells:
            results_cells.setdefault(i, StepOutcome("not run"))
        for c in calls:
            results_calls.setdefault(
                c["id"],
                StepOutcome(
                    "not run",
                    error={
                        "type": "NotRun",
                        "message": "not run: the submission's time budget was used up",
                        "where": [],
                    },
                ),
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return RunResult(results_cells, results_calls, notes, mode)


def _run_once(workdir, mode, limits, extra_ro, call_seconds, deadline, results_cells, results_calls, notes) -> bool:
    """One child process; True when it reported 'done', False when a step had to be stopped."""
    cmd, home = _command(workdir, mode, extra_ro)
    cgroup = _Cgroup(limits)
    read_fd, write_fd = os.pipe()
    log = open(workdir / "output.log", "wb")
    try:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            cwd=str(workdir),
            env=_environment(home, write_fd),
            pass_fds=(write_fd,),
            preexec_fn=_preexec(limits, cgroup.procs_files(), _drop_for_child() if mode == "process" else None),
            start_new_session=True,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        os.close(read_fd)
        os.close(write_fd)
        log.close()
        cgroup.close()
        notes.append(f"the sandbox could not start: {exc}")
        return True
    os.close(write_fd)
    step = "start"
    step_started = time.monotonic()
    budget = limits.cell_seconds
    buffer = b""
    received = 0
    finished = False
    stop_kind = None
    try:
        while True:
            now = time.monotonic()
            step_deadline = min(step_started + budget, deadline)
            timeout = max(0.0, step_deadline - now)
            ready, _, _ = select.select([read_fd], [], [], timeout)
            if not ready:
                stop_kind = "timeout"
                break
            chunk = os.read(read_fd, 1 << 20)
            if not chunk:
                stop_kind = "memory" if cgroup.hit_memory_limit() else "crashed"
                break
            received += len(chunk)
            if received > MAX_CHANNEL_BYTES:
                notes.append("the submission sent more data than allowed; it was stopped")
                stop_kind = "crashed"
                break
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                try:
                    msg = wire.loads(line.decode("utf-8"))
                except (ValueError, UnicodeDecodeError):
                    continue  # not ours: the student wrote to the channel
                # Student code shares the worker's process and can write to this channel
                # (fd DEEPGRADE_FD, a forked child): accept a message only where the
                # protocol expects it, i.e. a result only for the step now running and
                # once, a new step or "done" only between steps. Anything else is dropped.
                ev = msg.get("ev")
                if ev == "start":
                    new = str(msg.get("step"))
                    if step not in ("start", "between") or not _known_step(
                        new, call_seconds, results_cells, results_calls
                    ):
                        continue
                    step = new
                    step_started = time.monotonic()
                    budget = (
                        limits.cell_seconds
                        if step.startswith("cell:")
                        else call_seconds.get(step[5:], limits.call_seconds)
                    )
                elif ev == "cell":
                    if step != f"cell:{msg.get('i')}":
                        continue
                    results_cells[int(step[5:])] = StepOutcome(
                        "ok" if msg.get("ok") is True else "error", error=_error(msg.get("error"))
                    )
                    step = "between"
                elif ev == "call":
                    if step != f"call:{msg.get('id')}":
                        continue
                    results_calls[step[5:]] = _call_outcome(msg)
                    step = "between"
                elif ev == "done" and step in ("start", "between"):
                    finished = True
            if finished:
                break
    finally:
        _stop(proc, cgroup)
        os.close(read_fd)
        log.close()
    if finished:
        return True
    if step == "start":
        notes.append("the Python process could not start or ended before the first cell")
        return True
    if step == "between":
        # died between steps (a student thread, an atexit hook): go on from where it was
        return False
    status, message = _describe_stop(stop_kind or "crashed", step, round(budget, 1), limits)
    outcome = StepOutcome(
        status,
        error={"type": status.capitalize(), "message": message, "where": []},
        seconds=time.monotonic() - step_started,
    )
    if step.startswith("cell:"):
        results_cells[int(step[5:])] = outcome
    elif step.startswith("call:"):
        results_calls[step[5:]] = outcome
    return False


def _skip_after_hang(calls: list[dict], results_calls: dict[str, StepOutcome]) -> None:
    """A function that hung or crashed once is not called again: each retry would cost
    its whole budget. Its remaining calls get the same status, with the reason."""
    bad = {}
    for c in calls:
        o = results_calls.get(c["id"])
        if o is not None and o.status in ("timeout", "crashed", "memory") and c["function"] not in bad:
            bad[c["function"]] = o
    for c in calls:
        if c["id"] in results_calls or c["function"] not in bad:
            continue
        first = bad[c["function"]]
        message = f"not run again: {c['function']} was stopped on an earlier check ({first.error['message']})"
        results_calls[c["id"]] = StepOutcome(
            first.status, error={"type": first.status.capitalize(), "message": message, "where": []}
        )


def _known_step(step: str, call_seconds: dict, results_cells: dict, results_calls: dict) -> bool:
    """A step of this plan that has no outcome yet."""
    if step.startswith("call:"):
        return step[5:] in call_seconds and step[5:] not in results_calls
    if step.startswith("cell:") and step[5:].isdigit():
        return int(step[5:]) not in results_cells
    return False


def _seconds(value) -> float:
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


def _error(error) -> dict | None:
    """An error report from the sandbox, reduced to plain short strings (it is untrusted)."""
    if error is None:
        return None
    if not isinstance(error, dict):
        return {"type": "Error", "message": "failed", "where": []}
    where = error.get("where") if isinstance(error.get("where"), list) else []
    return {
        "type": str(error.get("type", "Error"))[:100],
        "message": str(error.get("message", ""))[:500],
        "where": [w for w in where[:4] if isinstance(w, dict)],
    }


def _call_outcome(msg: dict) -> StepOutcome:
    if msg.get("ok") is not True:
        error = _error(msg.get("error")) or {"type": "Error", "message": "failed", "where": []}
        return StepOutcome("error", error=error, seconds=_seconds(msg.get("seconds")))
    try:
        value = wire.decode(msg.get("value"))
    except wire.WireError as exc:
        return StepOutcome(
            "error",
            error={"type": "Unreadable", "message": f"the value returned could not be read: {exc}", "where": []},
        )
    mutated = msg.get("mutated") if isinstance(msg.get("mutated"), list) else []
    mutated = [int(i) for i in mutated if isinstance(i, int)]
    return StepOutcome("ok", value=value, mutated=mutated, seconds=_seconds(msg.get("seconds")))


def _stop(proc: subprocess.Popen, cgroup: _Cgroup) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    cgroup.kill_all()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    cgroup.close()
