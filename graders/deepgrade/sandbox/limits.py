"""The resource limits of one submission's sandbox: a value shared by isolation.py (which applies
them) and identity.py (which sets the rlimits in the child), kept here so neither imports the other."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Resource limits for one submission's sandbox (the one place for the defaults;
    per assignment: ``[limits]`` in assignment.toml)."""

    cell_seconds: float = 10.0  # wall time per notebook cell
    call_seconds: float = 5.0  # default wall time per call (a call may ask for more)
    total_seconds: float = 120.0  # wall time for the whole submission
    cpu_seconds: int = 300
    memory_bytes: int = 2 * 1024**3
    max_processes: int = 256
    file_bytes: int = 64 * 1024**2
    open_files: int = 256
    disk_bytes: int = 256 * 1024**2  # each writable tmpfs (bubblewrap): /sandbox, /tmp, /dev/shm
    inodes: int = 100_000  # files and folders in them together (bubblewrap; filecount.py), ~1 KiB each
