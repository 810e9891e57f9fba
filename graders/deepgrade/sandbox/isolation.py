"""How a sandbox is made: bubblewrap, cgroups, rlimits, and the fallback without bubblewrap.

The student's code runs in a child process that is never root and never holds a
capability, whoever runs the grader. It gets the engine's code and its work over pipes
the grader made (never as files in a folder it can write), and a private working folder.

**bubblewrap** (``bwrap``, where it works with the flags below; the probe runs the same
command line, environment and user, so a machine where they fail falls back, and every
sandbox then runs the executable the probe tested, by its absolute path): its own user
namespace mapped to uid/gid 65534 with every capability dropped (``--cap-drop ALL``),
``--disable-userns``, no_new_privs, ``--new-session``, ``--die-with-parent``, no network,
its own PID, IPC and UTS namespaces, the system and the Python installation bound
read-only, and the new root and /dev read-only. When the grader is root, bwrap itself is started as an unprivileged uid of the
grading process's own (see below): run as root, the user namespace maps 65534 to host uid
0, and the child, though without capabilities, passed owner checks on root's files (it
read /etc/shadow, measured). Writable: the working folder ``/sandbox`` (also HOME),
``/tmp`` and ``/dev/shm``, each a tmpfs capped at ``Limits.disk_bytes`` and the three
together at most ``Limits.memory_bytes`` (``tmpfs_bytes``; nothing lands on the host disk;
all is gone when the child exits). tmpfs inodes are not capped by
bubblewrap 0.8 (no ``nr_inodes`` option): every inode costs about 1 KiB of kernel memory,
which the memory cgroup charges to the sandbox (a million empty files: 0.96 GB in 24 s,
measured) where there is one; the grader also counts them from outside
(``filecount.py``, every second) and stops the sandbox past ``Limits.inodes``. cgroups (v1 or v2), where
writable, cap memory and process count; rlimits cap CPU time, file size and open files
everywhere.

**Fallback** (no working bubblewrap, or ``DEEPGRADE_SANDBOX=process``; a RuntimeWarning
says so). When the grader runs as root the child runs as an unprivileged uid of its own
(``SANDBOX_UID_BASE`` + a slot held with a lock for the grading process's lifetime, so
concurrent sandboxes have distinct uids and cannot signal or read each other), no
supplementary groups, no capabilities, no_new_privs, PR_SET_PDEATHSIG, a seccomp filter
refusing new user namespaces (x86-64), in its own session, with the rlimits (and cgroup,
where writable) above, in a private empty working folder it owns (0700) inside a
grader-made folder it cannot list, with HOME and TMPDIR there. If the Python installation
lies below a folder others cannot pass (a venv whose Python is under /root, 0700), the
child gets a private mount namespace in which an empty tmpfs covers that folder with only
the Python installation bound back (``reach_plan``); where the kernel refuses, grading
stops saying the Python installation is unreadable (SetupError). What the fallback protects and what it does not:

* by permissions only: it can read whatever "others" can read on the machine. The grader
  checks, before the first run, whether the sandbox uid can read anything in the course's
  assignments/ and solutions/ (the batch adds the output folder), and if it can, refuses
  to grade (``SetupError``: the paths and the fix, ``chmod 700`` the course folder) unless
  the instructor accepts it (``--allow-readable-course``, DEEPGRADE_ALLOW_READABLE_COURSE=1;
  then a warning names them). It cannot signal or ptrace the grader or other sandboxes,
  and cannot write the grader's files or the Python installation.
* not protected: the network, the machine's shared ``/tmp`` and ``/dev/shm`` (it can write
  there, as its own uid), the disk (only a per-file cap, ``Limits.file_bytes``; the working
  folder is deleted after each submission), the inode count, and whatever "others" may
  read (world-readable files, ``/proc``).
* when the grader is not root: the child runs as the grader's user: it can read and write
  whatever that user can, reference solutions included (so refused unless accepted as
  above; then a loud warning), and signal the grader (the grader makes itself
  non-dumpable, so at least no ptrace). Processes it detaches from its session are not
  killed. Use bubblewrap, or run the grader as root, for untrusted classes.

**Set-up failures** (``SetupError``): no sandbox uid, the fallback's checks above, bwrap
or Python failing when a sandbox starts. They are the grader's, never a student's: the
caller grades nobody (sandbox.run says when a start counts as the set-up's).

Leftovers: cgroups are named ``deepgrade-<grader pid>-<random>`` and temporary folders
``deepgrade-<grader pid>-*``; ``reclaim()`` (run once per grading process) removes those
whose grader is dead, kills the processes in them, and kills the processes of sandbox uids
whose slot no live grader holds.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from pathlib import Path

from .. import settings
from .identity import (  # noqa: F401  (re-exported: the sandbox and tests use them from here)
    SANDBOX_UID_BASE,
    UID_SLOTS,
    _no_namespaces_filter,
    _python_roots,
    _reclaim_uids,
    guard_grader,
    kill_uid,
    needed_paths,
    preexec,
    reach_plan,
    sandbox_uid,
)
from .limits import Limits  # noqa: F401  (re-exported: callers name it isolation.Limits)

# --- bubblewrap -------------------------------------------------------------------------

SANDBOX_UID = 65534  # inside bubblewrap's user namespace
BWRAP_IDENTITY = [
    "--unshare-user",
    "--uid",
    str(SANDBOX_UID),
    "--gid",
    str(SANDBOX_UID),
    "--cap-drop",
    "ALL",
    "--disable-userns",
    "--new-session",
    "--die-with-parent",
    "--unshare-pid",
    "--unshare-net",
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup-try",
]


class SetupError(RuntimeError):
    """The sandbox could not be made: the grader's failure, never a student's. Nobody is
    graded while it lasts (the batch stops, ``check`` exits 2, Gradescope reports an
    autograder failure); the message is one line, the cause then the fix."""

    def __init__(self, cause: str, fix: str | None = None) -> None:
        super().__init__(cause if fix is None else f"{cause}; fix: {fix}")


def bwrap_available() -> bool:
    """bubblewrap runs here with exactly the identity flags, binds, environment and user the
    sandbox uses (as the sandbox uid when the grader is root), and the Python installation
    works inside. The executable found on PATH is resolved to an absolute path, and that
    path, once it passed, is what every sandbox runs (``command``): the launch's fixed PATH
    never looks bwrap up again."""
    global _BWRAP_EXE
    found = shutil.which("bwrap")
    if not found:
        _BWRAP_EXE = None
        return False
    exe = os.path.realpath(found)
    cmd = command("bubblewrap", Limits(disk_bytes=1024**2), [], bwrap=exe)
    cmd = cmd[: cmd.index("-c") + 1] + ["import site; site.main(); import numpy"]
    env = {k: v for k, v in environment("/sandbox", 0, 0).items() if not k.startswith("DEEPGRADE_")}
    try:
        probe = subprocess.run(
            cmd,
            capture_output=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
            cwd="/",
            env=env,
            preexec_fn=preexec(Limits(), [], sandbox_uid(), reach_plan(needed_paths())),
        )
    except (OSError, subprocess.SubprocessError, RuntimeError):
        _BWRAP_EXE = None
        return False
    _BWRAP_EXE = exe if probe.returncode == 0 else None
    return _BWRAP_EXE is not None


def bwrap_executable() -> str:
    """The absolute path of the bubblewrap the probe tested (probing now if it has not run)."""
    if _BWRAP_EXE is None and not bwrap_available():
        raise SetupError(
            "bubblewrap was chosen but no working bwrap is found on PATH any more",
            "reinstall bubblewrap (Debian package 'bubblewrap') or set DEEPGRADE_SANDBOX=process",
        )
    assert _BWRAP_EXE is not None
    return _BWRAP_EXE


_BWRAP: bool | None = None
_BWRAP_EXE: str | None = None  # the absolute path the probe tested
_WARNED_FORCED = False


def fallback_reason() -> str:
    """Why student code runs in the process fallback, for the warnings: chosen by the variable,
    or bubblewrap does not work here (never "not available" when it was only not chosen)."""
    if settings.get("DEEPGRADE_SANDBOX") == "process":
        return "the process sandbox was chosen by DEEPGRADE_SANDBOX=process (bubblewrap is not used)"
    return "bubblewrap is not available or cannot make a user namespace here"


def isolation_mode() -> str:
    global _BWRAP, _WARNED_FORCED
    if settings.get("DEEPGRADE_SANDBOX") == "process":
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
                "bubblewrap (bwrap) is not available or cannot make a user namespace here: student code "
                "runs as a plain process with resource limits only (no network or filesystem isolation). "
                "Install the Debian package 'bubblewrap'.",
                RuntimeWarning,
                stacklevel=2,
            )
    return "bubblewrap" if _BWRAP else "process"


def command(mode: str, limits: Limits, extra_ro: list[str], bwrap: str | None = None) -> list[str]:
    """The child's command line: the bare interpreter in process mode, bwrap around it otherwise
    (``bwrap``: the executable to run; by default the one the probe tested, by absolute path)."""
    python = sys.executable
    # -u: the student's print() reaches the log unbuffered (the child is killed, never flushed;
    # -I ignores PYTHONUNBUFFERED, so it is the flag, not the environment)
    boot = [python, "-I", "-S", "-u", "-c", BOOT]
    if mode != "bubblewrap":
        return boot
    size = str(tmpfs_bytes(limits))
    cmd = [bwrap or bwrap_executable(), *BWRAP_IDENTITY, "--proc", "/proc", "--dev", "/dev"]
    cmd += ["--size", size, "--tmpfs", "/tmp", "--size", size, "--tmpfs", "/dev/shm"]
    for d in ("/usr", "/lib", "/lib64", "/bin", "/etc"):
        if os.path.exists(d):
            cmd += ["--ro-bind", d, d]
    for root in _python_roots():
        cmd += ["--ro-bind", root, root]
    if sys.prefix != os.path.realpath(sys.prefix):
        cmd += ["--ro-bind", sys.prefix, sys.prefix]
    for path in extra_ro:
        cmd += ["--ro-bind", path, path]
    cmd += ["--size", size, "--tmpfs", "/sandbox"]
    # bwrap's new root and its /dev are tmpfs of no size (a notebook wrote 384 MiB into /):
    # read-only once every mount is made; the capped tmpfs mounted on them stay writable
    cmd += ["--remount-ro", "/dev", "--remount-ro", "/"]
    cmd += ["--chdir", "/sandbox", *boot]
    return cmd


WRITABLE_TMPFS = 3  # /sandbox, /tmp, /dev/shm: the only writable places under bubblewrap


def tmpfs_bytes(limits: Limits) -> int:
    """Each writable tmpfs's size: ``Limits.disk_bytes``, but never so much that the three
    together exceed the memory limit (tmpfs pages are memory: a cgroup charges them to the
    sandbox; without a cgroup, as a normal user, only these sizes bound them)."""
    return max(1024**2, min(limits.disk_bytes, limits.memory_bytes // WRITABLE_TMPFS))


# The child's first step: read deepgrade.portable from the grader's pipe (a length line,
# then a JSON object {"order": [...], "files": {name: source}}) and run the last module
# (worker.py) as __main__; the others become importable by their plain names and run when
# first imported (what worker.py does not import is never executed). Nothing is read from a
# folder the student can write. -I keeps the working folder and PYTHON* variables out of
# sys.path; -S then site.main() adds only the interpreter's own site-packages (numpy, tensorflow).
# DEEPGRADE_IN (the input pipe) is read in the child itself: listed in deepgrade.settings' table.
BOOT = (
    "import os, sys, site, json, types, importlib.machinery\n"
    "site.main()\n"
    "fd = int(os.environ['DEEPGRADE_IN'])\n"
    "def _read(n):\n"
    "    b = b''\n"
    "    while len(b) < n:\n"
    "        c = os.read(fd, n - len(b))\n"
    "        if not c: raise SystemExit(70)\n"
    "        b += c\n"
    "    return b\n"
    "h = b''\n"
    "while not h.endswith(b'\\n'): h += _read(1)\n"
    "bundle = json.loads(_read(int(h)))\n"
    "files, main = bundle['files'], bundle['order'][-1]\n"
    "class Shipped:\n"
    "    @classmethod\n"
    "    def find_spec(cls, name, path=None, target=None):\n"
    "        if path is None and name + '.py' in files and name + '.py' != main:\n"
    "            return importlib.machinery.ModuleSpec(name, cls)\n"
    "    @staticmethod\n"
    "    def create_module(spec): return None\n"
    "    @staticmethod\n"
    "    def exec_module(mod):\n"
    "        mod.__file__ = '<deepgrade ' + mod.__name__ + '.py>'\n"
    "        exec(compile(files[mod.__name__ + '.py'], mod.__file__, 'exec'), mod.__dict__)\n"
    "sys.meta_path.insert(0, Shipped)\n"
    "mod = types.ModuleType('__main__')\n"
    "mod.__file__ = '<deepgrade ' + main + '>'\n"
    "exec(compile(files[main], mod.__file__, 'exec'), mod.__dict__)\n"
)


def environment(home: str, channel_fd: int, input_fd: int) -> dict[str, str]:
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": home if home != "/sandbox" else "/tmp",
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
        "DEEPGRADE_IN": str(input_fd),
    }
    for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env


# --- cgroups ------------------------------------------------------------------------------

CGROUP_ROOT = Path("/sys/fs/cgroup")
_NAME = re.compile(r"^deepgrade-(\d+)-[0-9a-z]+$")


def _cgroup_parents() -> list[Path]:
    if (CGROUP_ROOT / "cgroup.controllers").exists():
        return [CGROUP_ROOT]
    return [CGROUP_ROOT / c for c in ("memory", "pids")]


class Cgroup:
    """A throw-away cgroup capping memory and process count, where the machine lets us make one."""

    def __init__(self, limits: Limits) -> None:
        self.paths: list[Path] = []
        name = f"deepgrade-{os.getpid()}-{uuid.uuid4().hex[:10]}"
        try:
            if (CGROUP_ROOT / "cgroup.controllers").exists():
                p = CGROUP_ROOT / name
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
                    p = CGROUP_ROOT / ctrl / name
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
                try:
                    text = f.read_text()
                except OSError:
                    continue
                if name == "memory.failcnt" and text.strip() not in ("", "0"):
                    return True
                if name == "memory.events":
                    for line in text.splitlines():
                        key, _, val = line.partition(" ")
                        if key in ("max", "oom_kill") and val.strip() != "0":
                            return True
        return False

    def kill_all(self) -> None:
        for p in self.paths:
            _kill_cgroup(p)

    def close(self) -> None:
        for p in self.paths:
            _remove_cgroup(p)


def _kill_cgroup(path: Path) -> None:
    try:
        pids = (path / "cgroup.procs").read_text().split()
    except OSError:
        return
    for pid in pids:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (OSError, ValueError):
            pass


def _remove_cgroup(path: Path, tries: int = 100) -> bool:
    for _ in range(tries):
        _kill_cgroup(path)
        try:
            path.rmdir()
            return True
        except FileNotFoundError:
            return True
        except OSError:
            time.sleep(0.02)
    return False


# --- leftovers of a dead grader --------------------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_RECLAIMED = False


def reclaim(force: bool = False) -> list[str]:
    """Remove the cgroups and temporary folders of graders that are dead (once per process)."""
    global _RECLAIMED
    if _RECLAIMED and not force:
        return []
    _RECLAIMED = True
    done = []
    for parent in _cgroup_parents():
        try:
            entries = list(parent.iterdir())
        except OSError:
            continue
        for p in entries:
            m = _NAME.match(p.name)
            if m and not _alive(int(m.group(1))) and _remove_cgroup(p, tries=20):
                done.append(str(p))
    tmp = Path(tempfile.gettempdir())
    try:
        entries = list(tmp.iterdir())
    except OSError:
        entries = []
    for p in entries:
        m = re.match(r"^deepgrade-(\d+)-", p.name)
        # only folders this grader's user made (never follow a planted symlink)
        if m and not _alive(int(m.group(1))):
            try:
                st = p.lstat()
            except OSError:
                continue
            if p.is_symlink() or not os.path.isdir(p) or st.st_uid != os.geteuid():
                continue
            shutil.rmtree(p, ignore_errors=True)
            done.append(str(p))
    if os.geteuid() == 0:
        done += [f"uid {u}" for u in _reclaim_uids()]
    return done


# --- the fallback's working folder and its checks ------------------------------------------------


def private_parent() -> Path:
    """A grader-made folder for one submission: others may pass through it (0711) but not
    list it; the child's working folder inside gets an unguessable name."""
    parent = Path(tempfile.mkdtemp(prefix=f"deepgrade-{os.getpid()}-"))
    os.chmod(parent, 0o711)
    return parent


def make_workdir(parent: Path, uid: int | None) -> Path:
    work = parent / f"w{uuid.uuid4().hex}"
    work.mkdir(mode=0o700)
    if uid is not None:
        os.chown(work, uid, uid)
    return work


_PROBE = (
    "import json, os, sys\n"
    "out = {}\n"
    "for p in json.loads(sys.stdin.read()):\n"
    "    try:\n"
    "        if os.path.isdir(p): os.listdir(p)\n"
    "        else: os.close(os.open(p, os.O_RDONLY | os.O_NONBLOCK))\n"
    "        out[p] = True\n"
    "    except OSError:\n"
    "        out[p] = False\n"
    "print(json.dumps(out))\n"
)

ALLOW_READABLE_ENV = "DEEPGRADE_ALLOW_READABLE_COURSE"
MAX_PROBED = 20_000  # paths tried as the sandbox uid (a course and a class's results fit)

_CHECKED: dict[tuple, SetupError | None] = {}


def allow_readable_course() -> bool:
    """The instructor accepts that the fallback's child may read what ``check_fallback``
    names (``--allow-readable-course``, or DEEPGRADE_ALLOW_READABLE_COURSE=1)."""
    return (settings.get(ALLOW_READABLE_ENV) or "").strip().lower() in ("1", "yes", "true")


def private_tree(paths: list[str]) -> list[str]:
    """Each path, and for a folder every folder and file below it (without following links),
    each once: a folder that others cannot list may still hold a file they can read by its
    name."""
    out: dict[str, None] = {}
    for p in paths:
        if not os.path.lexists(p):
            continue
        out[p] = None
        if os.path.isdir(p) and not os.path.islink(p):
            for dirpath, dirnames, filenames in os.walk(p):
                dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
                out.update(dict.fromkeys(os.path.join(dirpath, n) for n in (*dirnames, *sorted(filenames))))
                if len(out) > MAX_PROBED:
                    return list(out)[:MAX_PROBED]
    return list(out)


def _shown(paths: list[str], limit: int = 6) -> str:
    """The readable paths in one line, top-most only (a readable folder stands for what is
    below it; ancestors looked up in a set: a class's thousands of results cost one pass)."""
    readable = set(paths)

    def covered(p: str) -> bool:
        parent = os.path.dirname(p)
        while parent and parent != p:
            if parent in readable:
                return True
            p, parent = parent, os.path.dirname(parent)
        return False

    top = [p for p in paths if not covered(p)]
    more = f" (and {len(top) - limit} more)" if len(top) > limit else ""
    return ", ".join(top[:limit]) + more


def check_fallback(private: list[str], allow_readable: bool | None = None) -> None:
    """Before the fallback's first run: as the sandbox uid, try the Python installation and
    every private path (the reference solutions, the fixtures, the batch's output folder).

    Raises SetupError when the Python installation is unreadable to that uid, or when it can
    read a private path and the instructor has not accepted that (``allow_readable``,
    default: ``allow_readable_course()``); then it warns instead, naming them. When the
    grader is not root the child is the grader's own user: what it may read is what the
    grader may (os.access), refused likewise unless accepted. Checked once per uid, set of
    paths and choice."""
    allow = allow_readable_course() if allow_readable is None else allow_readable
    uid = sandbox_uid()
    key = (uid, tuple(sorted(private)), allow)
    if key not in _CHECKED:
        _CHECKED[key] = _check_fallback(uid, private, allow)
    failure = _CHECKED[key]
    if failure is not None:
        raise SetupError(str(failure))


_ACCEPT = (
    "or, to grade anyway and accept that student code can read them, pass --allow-readable-course "
    f"({ALLOW_READABLE_ENV}=1)"
)


def _check_fallback(uid: int | None, private: list[str], allow: bool) -> SetupError | None:
    if uid is None:  # the child is this very user: it reads what we read
        readable = [p for p in private_tree(private) if os.access(p, os.R_OK)]
        if readable and not allow:
            return SetupError(
                f"without bubblewrap and with a grader that is not root, student code runs as your own user "
                f"and could read {_shown(readable)} (reference solutions, fixtures or results)",
                f"install bubblewrap (Debian package 'bubblewrap') or run the grader as root, {_ACCEPT}",
            )
        warnings.warn(
            "process-mode sandbox and the grader is not root: student code runs as YOUR user and can read "
            "and write whatever you can (reference solutions included) and signal the grader. Use "
            "bubblewrap, or run the grader as root, for a real class.",
            RuntimeWarning,
            stacklevel=4,
        )
        return None
    paths = private_tree(private)
    try:
        probe = subprocess.run(
            [sys.executable, "-I", "-c", "import numpy\n" + _PROBE],
            input=json.dumps(paths),
            preexec_fn=preexec(Limits(), [], uid, reach_plan(needed_paths()), _no_namespaces_filter()),
            capture_output=True,
            text=True,
            timeout=60,
            cwd="/",
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
        )
        readable = [p for p, ok in json.loads(probe.stdout).items() if ok] if probe.returncode == 0 else None
    except (OSError, subprocess.SubprocessError, ValueError):
        readable = None
    if readable is None:
        return SetupError(
            f"the sandbox user (uid {uid}) cannot run the Python installation at {sys.prefix}",
            "make it readable to others (chmod o+rx on it and its parents; a virtual environment under /root "
            "or a folder of mode 0700 is not) or move it, or install bubblewrap",
        )
    if readable and not allow:
        return SetupError(
            f"without bubblewrap the sandbox (uid {uid}) could read {_shown(readable)}: student code could "
            "read reference solutions, fixtures or results",
            f"chmod 700 the course folder and the output folder (or a parent of each), install bubblewrap, {_ACCEPT}",
        )
    if readable:
        warnings.warn(
            f"the process-mode sandbox (uid {uid}) can read {_shown(readable)}: student code could read "
            "reference solutions, fixtures or results (accepted with --allow-readable-course). Fix: chmod 700 "
            "the course folder and the output folder (or their parents).",
            RuntimeWarning,
            stacklevel=4,
        )
    return None
