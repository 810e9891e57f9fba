"""The process fallback's disk: where its child may write, and the caps.

Measured before this module (tests/engine/sandbox/test_sandbox_writable.py's probe, fallback): as root, the
child (its own unprivileged uid) could write its working folder and every folder others may
write, ``/tmp``, ``/var/tmp``, ``/dev/shm``, ``/run/lock``, all on the host's disk or memory
with only a per-file cap (``RLIMIT_FSIZE``); run by a normal user, the same plus everything
that user may write (the home folder, the grader's own temporary folders).

Two bounds, whichever the machine allows:

* **Private mounts** (the grader is root and the kernel lets it make a mount namespace, as
  ``identity.reach_plan`` does): between fork and exec, still root, the child gets its own
  mount namespace in which every mount is read-only, and then three tmpfs of its own, each
  ``isolation.tmpfs_bytes(limits)`` bytes and ``Limits.inodes // 3`` files and folders, as
  under bubblewrap: ``/tmp``, ``/dev/shm`` and the grader-made folder holding its working
  folder (HOME, TMPDIR). The kernel enforces the caps (a write past them fails with "No
  space left on device"); nothing lands on the host; all is gone when the child exits.
  ``isolation.private_mounts_work`` tries it once per grading process with exactly those mounts.
* **Otherwise** (a normal user's grader; root where mount namespaces are refused, e.g. in a
  container without CAP_SYS_ADMIN): ``FolderUse``, a watchdog in the grader, sums the bytes
  (allocated blocks) and inodes of the child's working folder every ``WATCH_SECONDS`` and the
  sandbox stops the step over the cap. A notebook may overshoot by what it writes in one
  interval (its write rate times ``FolderUse.interval``, ``WATCH_SECONDS`` unless a sum takes
  longer; benchmarks/fallback_disk.py measures it, the README states the figure).
  What else the child may write (/tmp, /var/tmp, /dev/shm; as a normal user, your files) is
  not bounded: said once (isolation.fallback_disk, isolation.uncapped_warning).
"""

from __future__ import annotations

import errno
import os
import re
import stat
import time
from dataclasses import dataclass
from pathlib import Path

# how often the watchdog sums the working folder (the overshoot's interval): every
# WATCH_SECONDS, but never more than a fifth of the time (a folder of many files takes longer)
WATCH_SECONDS = 0.25
WATCH_SHARE = 0.2
MAX_DEPTH = 128  # folders nested deeper cannot be summed by the watchdog (one open folder per level)
SHARED = ("/tmp", "/dev/shm")  # the shared places the child gets a capped tmpfs of its own on


@dataclass(frozen=True)
class DiskPlan:
    """What the child's private mounts are: ``folder`` (the grader-made folder holding the
    working folder ``workdir``), the sandbox ``uid``, each tmpfs's ``size`` in bytes and
    ``inodes`` (files and folders), and ``keep``: what the child must still read that lies in
    a place its own tmpfs covers (a Python installation or a ``sandbox_ro`` path in /tmp),
    bound back read-only."""

    folder: str
    workdir: str
    uid: int
    size: int
    inodes: int
    keep: tuple[str, ...] = ()


def plan_for(folder: Path, workdir: Path, uid: int, size: int, inodes: int, needed: list[str]) -> DiskPlan:
    """needed: what the child reads (identity.needed_paths); those under SHARED are kept."""
    under = sorted({os.path.realpath(p) for p in needed if _under_shared(os.path.realpath(p))})
    return DiskPlan(str(folder), str(workdir), uid, size, max(1000, inodes // 3), tuple(under))


def _under_shared(path: str) -> bool:
    return any(path == place or path.startswith(place + "/") for place in SHARED) and os.path.exists(path)


def _mountinfo_targets() -> list[tuple[str, set[str]]]:
    """Every mount point of this namespace with its per-mount options, in mount order."""
    out = []
    with open("/proc/self/mountinfo", "rb") as fh:
        for line in fh.read().splitlines():
            fields = line.split(b" ")
            if len(fields) < 6:
                continue
            # the path is octal-escaped (\040 for a space, \134 for a backslash), any bytes else
            raw = re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), fields[4])
            out.append((os.fsdecode(raw), set(fields[5].decode("ascii", "replace").split(","))))
    return out


def make_private(plan: DiskPlan, mount, flags: dict[str, int]) -> None:
    """In the child (root, already in its own mount namespace with private propagation):
    every mount read-only, then the capped tmpfs on /tmp, /dev/shm and ``plan.folder``, the
    working folder made inside (0700, the sandbox uid's), and the child moved into it.

    mount: identity._mount; flags: its MS_* constants. Raises OSError where the kernel
    refuses (the probe then says these mounts do not work here)."""
    ro = flags["MS_BIND"] | flags["MS_REMOUNT"] | flags["MS_RDONLY"]
    keep = {"nosuid": flags["MS_NOSUID"], "nodev": flags["MS_NODEV"], "noexec": flags["MS_NOEXEC"]}
    seen = set()
    for target, options in reversed(_mountinfo_targets()):  # the top-most mount at a path first
        if target in seen or "ro" in options:
            continue
        seen.add(target)
        extra = 0
        for name, bit in keep.items():
            if name in options:
                extra |= bit
        try:
            mount(None, target, None, ro | extra, None)
        except OSError:
            if os.path.lexists(target):  # else hidden by a mount above it: nothing reaches it
                raise
    data = f"size={plan.size},nr_inodes={plan.inodes}"
    kept = [(p, os.open(p, os.O_PATH)) for p in plan.keep]  # before the tmpfs cover them
    for place in SHARED:
        if os.path.isdir(place):
            mount("tmpfs", place, "tmpfs", flags["MS_NOSUID"] | flags["MS_NODEV"], f"mode=1777,{data}")
    for path, fd in kept:  # read-only, and outside the caps (they are the grader's, not written)
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            os.makedirs(path, mode=0o755, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o644))
        mount(f"/proc/self/fd/{fd}", path, None, flags["MS_BIND"] | flags["MS_REC"], None)
        mount(None, path, None, ro, None)
        os.close(fd)
    os.makedirs(plan.folder, mode=0o711, exist_ok=True)  # in the new /tmp when it lies there
    mount("tmpfs", plan.folder, "tmpfs", flags["MS_NOSUID"] | flags["MS_NODEV"], f"mode=0711,{data}")
    os.mkdir(plan.workdir, 0o700)
    os.chown(plan.workdir, plan.uid, plan.uid)
    os.chdir(plan.workdir)  # the working folder the child was started in is now covered


class FolderUse:
    """Bytes and inodes under one folder the child writes, summed from the grader.

    Walked by file descriptors (``O_NOFOLLOW``, ``dir_fd``): a symbolic link the child
    planted, or a folder it swaps for one while the walk runs, is never followed. Only the
    folders on the current path are open (at most ``MAX_DEPTH``: deeper nesting, or a folder
    closed to the grader, is refused, as it could not be summed). The walk stops as soon as a cap is passed, so it costs at
    most ``max_files`` entries."""

    def __init__(self, folder: Path, max_bytes: int, max_files: int) -> None:
        self.folder = str(folder)
        self.max_bytes = max_bytes
        self.max_files = max_files
        self.interval = WATCH_SECONDS  # until the next sum: longer when a sum takes long

    def over(self) -> str | None:
        start = time.monotonic()
        try:
            return self._sum()
        finally:
            self.interval = max(WATCH_SECONDS, (time.monotonic() - start) / WATCH_SHARE)

    def _sum(self) -> str | None:
        """ "disk" past the byte cap, "files" past the inode cap, "uncountable" for a folder it
        cannot sum (nested past ``MAX_DEPTH``, or closed to its owner when the grader is the
        child's own user), else None."""
        flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
        try:
            top = os.open(self.folder, flags)
        except FileNotFoundError:
            return None
        except OSError:  # the child closed its own folder to its owner (a grader of its uid)
            return "uncountable"
        used, files, seen = 0, 0, set()
        stack: list[tuple[int, list[str]]] = []
        try:
            fd: int | None = top
            while fd is not None or stack:
                if fd is not None:
                    subfolders: list[str] = []
                    stack.append((fd, subfolders))  # closed by the walk, or at the end
                    if len(stack) > MAX_DEPTH:
                        return "uncountable"
                    try:
                        with os.scandir(fd) as entries:
                            for entry in entries:
                                try:
                                    st = entry.stat(follow_symlinks=False)
                                except OSError:
                                    continue
                                files += 1
                                if st.st_ino not in seen:  # hard links take their blocks once
                                    seen.add(st.st_ino)
                                    used += st.st_blocks * 512
                                if files > self.max_files:
                                    return "files"
                                if used > self.max_bytes:
                                    return "disk"
                                if stat.S_ISDIR(st.st_mode):
                                    subfolders.append(entry.name)
                    except OSError:  # closed to its owner: what it holds cannot be summed
                        return "uncountable"
                    fd = None
                parent, pending = stack[-1]
                if not pending:
                    os.close(parent)
                    stack.pop()
                    continue
                try:
                    fd = os.open(pending.pop(), flags, dir_fd=parent)
                except (FileNotFoundError, NotADirectoryError):  # gone, or swapped for a file
                    fd = None
                except OSError as exc:
                    if exc.errno == errno.ELOOP:  # swapped for a link: never followed
                        fd = None
                    else:  # closed to its owner
                        return "uncountable"
        finally:
            for open_fd, _ in stack:
                os.close(open_fd)
        return None
