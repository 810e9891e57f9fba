"""Who the sandbox's child is: its uid, capabilities, namespaces and limits, set between fork and exec.

When the grader is root, each grading process holds a uid slot (``SANDBOX_UID_BASE`` +
slot, a flock on a grader-only file for the process's lifetime): its sandboxes run as that
uid, so concurrent sandboxes cannot signal or read each other, and ``kill_uid`` reaches
exactly their processes. ``preexec`` makes the child: cgroup, rlimits, then (root) the
private mount namespace that makes the Python installation reachable (``reach_plan``), an
empty bounding set, the uid, no_new_privs, PR_SET_PDEATHSIG, and (fallback) a seccomp filter
refusing new user namespaces. See isolation.py for what each mode protects.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import resource
import signal
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .limits import Limits


def _python_roots() -> list[str]:
    roots = {sys.prefix, sys.base_prefix, str(Path(sys.executable).resolve().parent.parent)}
    return sorted(os.path.realpath(r) for r in roots)


SANDBOX_UID_BASE = 1_900_000_000  # far above any real account; no passwd entry needed
UID_SLOTS = 4096
_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38


def _prctl(option: int, arg: int) -> None:
    if _libc.prctl(option, arg, 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl({option}): {os.strerror(err)}")


def slot_folder() -> Path:
    """Where the uid slots' lock files live: /run (root's alone) where it exists, so that no
    other user can make the folder first; else the temporary folder (checked to be root's)."""
    run = Path("/run")
    if run.is_dir() and os.access(run, os.W_OK):
        return run / "deepgrade-uids"
    return Path(tempfile.gettempdir()) / "deepgrade-uids"


class _Slot:
    """A sandbox uid held for this process's lifetime (a flock on a grader-only file)."""

    def __init__(self) -> None:
        self.uid: int | None = None
        self._fd: int | None = None
        self._pid = 0

    def take(self) -> int:
        # a forked grading worker must not share its parent's uid (nor its lock)
        if self.uid is not None and self._pid == os.getpid():
            return self.uid
        folder = slot_folder()
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            pass
        st = folder.lstat()
        if not os.path.isdir(folder) or folder.is_symlink() or st.st_uid != 0:
            raise RuntimeError(f"{folder} is not a folder owned by root: remove it")
        start = os.getpid() % UID_SLOTS
        for k in range(UID_SLOTS):
            slot = (start + k) % UID_SLOTS
            fd = os.open(folder / str(slot), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            self._fd, self.uid, self._pid = fd, SANDBOX_UID_BASE + slot, os.getpid()
            kill_uid(self.uid)  # what a dead grader's sandbox left with this uid
            return self.uid
        raise RuntimeError("no free sandbox uid slot")


_SLOT = _Slot()


def kill_uid(uid: int) -> None:
    """SIGKILL every process of this uid: a child that becomes it and kills -1 (which
    reaches exactly the processes it may signal, i.e. its own uid's, and not itself)."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            for _ in range(3):
                try:
                    os.kill(-1, signal.SIGKILL)
                except OSError:
                    break
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def guard_grader() -> None:
    """When the child shares the grader's uid (fallback, grader not root): make the grader
    not dumpable, so that the child cannot ptrace it (read its memory, stop it) nor open its
    /proc files. It can still signal it (documented)."""
    _libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE


def sandbox_uid() -> int | None:
    """The process-mode child's uid when the grader is root, else None (it keeps ours)."""
    return _SLOT.take() if os.geteuid() == 0 else None


CLONE_NEWNS = 0x00020000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    args = [x.encode() if x is not None else None for x in (source, target, fstype)]
    if _libc.mount(*args, ctypes.c_ulong(flags), data.encode() if data else None) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {target}: {os.strerror(err)}")


def reach_plan(paths: list[str]) -> list[tuple[str, list[str]]]:
    """Folders the sandbox uid cannot pass through (no x for others, e.g. /root 0700) that
    lie above a path the child needs (the Python installation): [(folder, [paths below])]."""
    plan: dict[str, list[str]] = {}
    for p in sorted({os.path.realpath(x) for x in paths}):
        parts = Path(p).parts
        for k in range(2, len(parts)):
            anc = str(Path(*parts[:k]))
            try:
                if not os.stat(anc).st_mode & 0o001:
                    plan.setdefault(anc, []).append(p)
                    break
            except OSError:
                break
    return sorted(plan.items())


def _reach(plan: list[tuple[str, list[str]]]) -> None:
    """In a private mount namespace of the child (still root): an empty tmpfs over each such
    folder, with only the needed paths bound back, so the sandbox uid can reach them and
    nothing else that was there. Raises where the kernel refuses (then Python is unreadable)."""
    if _libc.unshare(CLONE_NEWNS) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"unshare(CLONE_NEWNS): {os.strerror(err)}")
    _mount(None, "/", None, MS_REC | MS_PRIVATE, None)
    for folder, inside in plan:
        fds = [os.open(p, os.O_PATH | os.O_DIRECTORY) for p in inside]
        _mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=65536")
        for p, fd in zip(inside, fds):
            os.makedirs(p, mode=0o755, exist_ok=True)
            _mount(f"/proc/self/fd/{fd}", p, None, MS_BIND | MS_REC, None)
            _mount(None, p, None, MS_BIND | MS_REMOUNT | MS_RDONLY, None)
            os.close(fd)


def needed_paths(extra_ro: list[str] | None = None) -> list[str]:
    """What the child must reach: the Python installation (and read-only extras)."""
    return [*_python_roots(), sys.prefix, *(extra_ro or [])]


def _no_namespaces_filter():
    """A seccomp filter refusing new user namespaces (unshare/clone with CLONE_NEWUSER,
    clone3, setns) and foreign syscall ABIs: the fallback's --disable-userns. x86-64 only
    (None elsewhere). Built before the fork; installed after no_new_privs."""
    import platform

    if platform.machine() != "x86_64":
        return None

    class Insn(ctypes.Structure):
        _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]

    class Prog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(Insn))]

    ld, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    allow, eperm, enosys = 0x7FFF0000, 0x00050000 | 1, 0x00050000 | 38
    code = [
        (ld, 0, 0, 4),  # 0 arch
        (jeq, 1, 0, 0xC000003E),  # 1 x86-64?
        (ret, 0, 0, eperm),  # 2 i386 / other ABIs
        (ld, 0, 0, 0),  # 3 syscall number
        (jge, 0, 1, 0x40000000),  # 4 x32 ABI
        (ret, 0, 0, eperm),  # 5
        (jeq, 4, 0, 272),  # 6 unshare -> 11
        (jeq, 3, 0, 56),  # 7 clone -> 11
        (jeq, 4, 0, 435),  # 8 clone3 -> 13 (ENOSYS: the C library falls back on clone)
        (jeq, 4, 0, 308),  # 9 setns -> 14
        (ret, 0, 0, allow),  # 10
        (ld, 0, 0, 16),  # 11 flags (args[0], low word)
        (jset, 1, 2, 0x10000000),  # 12 CLONE_NEWUSER -> 14, else 15
        (ret, 0, 0, enosys),  # 13
        (ret, 0, 0, eperm),  # 14
        (ret, 0, 0, allow),  # 15
    ]
    insns = (Insn * len(code))(*[Insn(*c) for c in code])
    prog = Prog(len(code), insns)
    keep = (insns, prog)

    def install() -> None:
        if _libc.prctl(22, 2, ctypes.byref(keep[1]), 0, 0) != 0:  # PR_SET_SECCOMP, FILTER
            err = ctypes.get_errno()
            raise OSError(err, f"seccomp: {os.strerror(err)}")

    return install


def preexec(limits: Limits, procs_files: list[str], uid: int | None, reach: list | None = None, seccomp=None):
    """The child's set-up between fork and exec (system calls only). seccomp: from
    _no_namespaces_filter(), for the fallback (bubblewrap makes namespaces itself)."""

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
        if uid is not None and reach:
            _reach(reach)
        if uid is not None:
            for cap in range(64):  # empty the bounding set too (needs CAP_SETPCAP: still root)
                if _libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP; EINVAL past the last
                    break
            # last: the cgroup and rlimits above need root. Without PR_SET_KEEPCAPS, leaving
            # uid 0 for a non-zero uid clears every capability set.
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
        _prctl(PR_SET_NO_NEW_PRIVS, 1)
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # after setresuid, which clears it
        if seccomp is not None:
            seccomp()

    return setup


def _reclaim_uids() -> list[int]:
    """Kill the processes of sandbox uids whose slot no grader holds (a grader that died)."""
    uids = set()
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                uid = d.stat().st_uid
            except OSError:
                continue
            if SANDBOX_UID_BASE <= uid < SANDBOX_UID_BASE + UID_SLOTS:
                uids.add(uid)
    killed = []
    folder = slot_folder()
    for uid in sorted(uids):
        try:
            fd = os.open(folder / str(uid - SANDBOX_UID_BASE), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue  # a live grader holds it
        try:
            kill_uid(uid)
            killed.append(uid)
        finally:
            os.close(fd)
    return killed
