"""How long ``deepgrade validate`` takes per assignment, one notebook at a time and with a pool.

    python benchmarks/validate_time.py [assignment ...] [--workers 1,2]

Prints, per assignment and worker count, the seconds the whole validation took and how many
notebooks it graded through the sandbox (the reference's, the stubs', one per mistake). The
course folder is found as the CLI finds it (--course is not taken: set DEEPGRADE_ROOT).
"""

from __future__ import annotations

import argparse
import time
import warnings

from deepgrade.authoring.validate import validate
from deepgrade.course import assignment as asg


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("assignments", nargs="*")
    p.add_argument("--workers", default="1,2", help="worker counts to time, comma-separated")
    args = p.parse_args()
    root = asg.project_root()
    names = args.assignments or [n for n in asg.available(root) if n != "keras"]
    warnings.simplefilter("ignore")  # the process-mode sandbox warns once per notebook
    print(f"{'assignment':12s} {'workers':>7s} {'notebooks':>9s} {'seconds':>8s}  result")
    for name in names:
        for workers in (int(w) for w in args.workers.split(",")):
            asg._CACHE.clear()  # each run loads the assignment afresh, as the CLI does
            started = time.monotonic()
            report = validate(name, root, workers=workers)
            seconds = time.monotonic() - started
            graded = len(report.context._graded)
            result = "pass" if report.ok else f"{len(report.problems)} problem(s)"
            print(f"{name:12s} {workers:7d} {graded:9d} {seconds:8.1f}  {result}")


if __name__ == "__main__":
    main()
