"""How long grading takes: seconds per submission per core, for each assignment.

    .venv/bin/python benchmarks/sizing.py [--reps 5] [--cores 0] [ASSIGNMENT ...]

Grades a notebook filled from the reference (every check runs: the slowest honest
submission) in one process, one at a time: a warm-up run, then --reps timed runs. Prints
the median wall seconds (one core busy: the grader waits while the sandbox runs; CPU time
is not reported because the sandbox's processes, under bubblewrap, are not children this
process can account), the machine's load average before and after (other jobs slow the wall
time: a load above the core count means the run shared its cores), then the sizing formula:

    time for a class of N on C cores  ~  N x s / C      (s = seconds per submission per core)

``--cores 0`` pins the run (and the sandbox and TensorFlow threads it starts) to one core: its
wall time is then "seconds of one core", however many threads TensorFlow would have used.

A batch pays one extra warm-up per worker process (imports, the assignment's fixtures).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "graders"), str(ROOT)]

import nbformat  # noqa: E402

from deepgrade import sandbox  # noqa: E402
from deepgrade.course import assignment as asg  # noqa: E402
from deepgrade.grading import notebook, pipeline  # noqa: E402


def filled(a: asg.Assignment) -> nbformat.NotebookNode:
    nb = nbformat.read(a.notebook, as_version=4)
    return notebook.fill(
        nb, {q.name: getattr(a.reference, q.name) for q in a.questions if hasattr(a.reference, q.name)}
    )


def measure(name: str, reps: int) -> dict:
    a = asg.load(name, ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{name}.ipynb"
        nbformat.write(filled(a), path)
        first = pipeline.grade_file(a, path)  # warm-up: imports, caches
        walls = []
        for _ in range(reps):
            t = time.perf_counter()
            r = pipeline.grade_file(a, path)
            walls.append(time.perf_counter() - t)
    return {
        "assignment": name,
        "points": f"{r.points:g}/{r.max_points:g}",
        "full_marks": first.points == first.max_points == r.points,
        "wall": statistics.median(walls),
        "min": min(walls),
        "max": max(walls),
    }


def _load() -> str:
    """The 1, 5 and 15 minute load averages (runnable processes; above the core count, cores were shared)."""
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("assignments", nargs="*", help="default: every assignment that exists")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument(
        "--cores",
        help="run on these cores only, e.g. 0 (comma-separated): every process of the run (grader, "
        "sandbox, TensorFlow's threads) inherits it, so with one core the wall time is the time of one core",
    )
    args = p.parse_args(argv)
    names = args.assignments or asg.available(ROOT)
    if args.cores:
        os.sched_setaffinity(0, {int(c) for c in args.cores.split(",")})
        print(f"pinned to core(s) {args.cores}: every process of the run shares them")
    print(f"isolation: {sandbox.isolation_mode()}; {args.reps} timed runs each after a warm-up; one worker")
    print(f"load average before: {_load()} on {os.cpu_count()} cores")
    print(f"{'assignment':12s} {'points':>8s} {'s/submission/core':>18s} {'min..max wall':>15s}")
    rows = []
    for name in names:
        try:
            m = measure(name, args.reps)
        except Exception as exc:  # e.g. the keras assignment without TensorFlow
            print(f"{name:12s} skipped: {type(exc).__name__}: {str(exc)[:100]}")
            continue
        rows.append(m)
        flag = "" if m["full_marks"] else "  (reference not at full marks!)"
        print(f"{name:12s} {m['points']:>8s} {m['wall']:>18.2f} {m['min']:>7.2f}..{m['max']:<7.2f}{flag}")
    print(f"load average after: {_load()}")
    if rows:
        print("\ntime for a class of N on C cores ~ N x s / C, e.g. for N = 300:")
        for m in rows:
            print(
                f"  {m['assignment']:10s} "
                + ", ".join(f"C={c}: {300 * m['wall'] / c / 60:.1f} min" for c in (1, 2, 8, 32))
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
