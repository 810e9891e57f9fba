"""How far a notebook gets past the fallback's disk cap where only its watchdog bounds it.

    .venv/bin/python benchmarks/fallback_disk.py [--cap-mb 64] [--runs 3]

Without private mounts (a normal user's grader, or root where mount namespaces are
refused; disk.py) the working folder is summed every ``disk.WATCH_SECONDS`` and the step
stopped over the cap: the overshoot is what the notebook writes between two sums. This
runs the process fallback with the watchdog forced, a cell writing 8 MiB files into its
working folder as fast as it can, and prints, per run, the most the folder held at any sum
(the largest is the overshoot's worst case here) and the machine's load.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "graders"))

from deepgrade import sandbox  # noqa: E402
from deepgrade.sandbox import disk, isolation  # noqa: E402

FILL = (
    "chunk = b'x' * (8 << 20)\nfor i in range(10**6):\n    with open(f'fill{i}', 'wb') as fh:\n        fh.write(chunk)"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cap-mb", type=int, default=64)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    os.environ["DEEPGRADE_SANDBOX"] = "process"
    os.environ[isolation.ALLOW_READABLE_ENV] = "1"
    isolation.private_mounts_work = lambda *a: False  # the watchdog, as without mount namespaces
    isolation._WARNED_DISK = True
    seen: list[int] = []
    real = disk.FolderUse.over

    def measured(self) -> str | None:
        seen.append(_bytes(Path(self.folder)))
        return real(self)

    disk.FolderUse.over = measured
    cap = args.cap_mb * 2**20
    limits = sandbox.Limits(cell_seconds=60, total_seconds=120, disk_bytes=cap, file_bytes=2**30)
    for k in range(args.runs):
        seen.clear()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            run = sandbox.run([(0, FILL)], [], limits)
        cell = run.cells[0]
        most = max(seen, default=0)
        print(
            f"run {k + 1}: stopped as {cell.status!r} after {cell.seconds:.1f} s; the folder held at most "
            f"{most / 2**20:.0f} MiB at a sum (cap {args.cap_mb} MiB, sums every {disk.WATCH_SECONDS:g} s: "
            f"overshoot {max(0, most - cap) / 2**20:.0f} MiB)"
        )
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")


def _bytes(folder: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(folder):
        for f in files:
            try:
                total += os.lstat(os.path.join(dirpath, f)).st_blocks * 512
            except OSError:
                pass
    return total


if __name__ == "__main__":
    main()
