"""How many files a bubblewrap sandbox holds, read from outside it.

bubblewrap 0.8 cannot cap a tmpfs's inodes (it has ``--size`` only), and every file or
folder costs about 1 KiB of kernel memory; with a cgroup that is charged to the sandbox,
but a grader run by a normal user has none. So the grader reads the sandbox's three
writable tmpfs (``/sandbox``, ``/tmp``, ``/dev/shm``) through ``/proc/<pid>/root`` of a
process inside it (``statvfs``: counts only, nothing the student wrote is read) and stops
the sandbox past ``Limits.inodes``. The student cannot move those mount points: the
sandbox's root and ``/dev`` are read-only (isolation.command). A count is believed only
from a filesystem of exactly the tmpfs's size, so a process that is not the sandbox's
(a pid reused) is never measured.
"""

from __future__ import annotations

import os

WRITABLE = ("sandbox", "tmp", "dev/shm")


def descendants(pid: int) -> list[int]:
    """Every process below ``pid``, nearest first (from /proc/*/stat)."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 1 and fields[1].isdigit():
            children.setdefault(int(fields[1]), []).append(int(name))
    out, queue = [], [pid]
    while queue:
        p = queue.pop(0)
        for c in children.get(p, []):
            out.append(c)
            queue.append(c)
    return out


class FileCount:
    """Files and folders in one bubblewrap sandbox's writable tmpfs, by its bwrap process's id."""

    def __init__(self, bwrap_pid: int, tmpfs_bytes: int) -> None:
        self.bwrap_pid = bwrap_pid
        self.tmpfs_bytes = tmpfs_bytes
        self.inside: int | None = None  # a process seen inside the sandbox

    def _count(self, pid: int) -> int | None:
        total = 0
        for d in WRITABLE:
            try:
                st = os.statvfs(f"/proc/{pid}/root/{d}")
            except OSError:
                return None
            if st.f_blocks * st.f_frsize != self.tmpfs_bytes:
                return None
            total += st.f_files - st.f_ffree
        return total

    def used(self) -> int | None:
        """Inodes in use in the three tmpfs together; None while no process inside is found."""
        if self.inside is not None:
            n = self._count(self.inside)
            if n is not None:
                return n
        for pid in reversed(descendants(self.bwrap_pid)):  # the deepest: the worker or its children
            n = self._count(pid)
            if n is not None:
                self.inside = pid
                return n
        return None
