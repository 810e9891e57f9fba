"""Re-scoring against re-running: what a points change costs a graded class.

    .venv/bin/python benchmarks/rescore.py [--copies 1] [--workers 2]

Makes the example cnn class (examples/make_class.py: 7 submissions, one looping forever
until its time limit, one not a notebook; --copies K makes K of each) and a private copy
of the course folder, grades the class with `deepgrade grade`, then sets relu's points
from 1 to 3 in the copy's assignment.toml and times, each as a fresh `deepgrade grade`:

    re-score   the same command again: the stored outcomes are re-scored, no sandbox
    re-run     the same command with --force: every submission runs in the sandbox again

and checks that both give the same gradebook (csv). Prints wall seconds (the whole command:
Python's start, intake and reports included) and the machine's load.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "graders"), str(ROOT), str(ROOT / "examples")]

import make_class  # noqa: E402


def grade(course: Path, class_dir: Path, out: Path, workers: int, *extra: str) -> tuple[float, str]:
    """Wall seconds of one `deepgrade grade` and its stderr."""
    cmd = [sys.executable, "-m", "deepgrade.cli", "--course", str(course), "grade", "cnn", str(class_dir)]
    cmd += ["--out", str(out), "--workers", str(workers), "--quiet", *extra]
    env = dict(os.environ, PYTHONPATH=str(ROOT / "graders"))
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=3600)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"deepgrade grade failed:\n{proc.stderr[-3000:]}")
    return seconds, proc.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=1, help="copies of the example class (7 submissions each)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="deepgrade-rescore-") as tmp:
        work = Path(tmp)
        os.chmod(work, 0o700)  # the process-mode sandbox must not read the course copy
        course = work / "course"
        shutil.copytree(ROOT / "assignments" / "cnn", course / "assignments" / "cnn")
        (course / "solutions").mkdir()
        for f in ("cnn.py", "cnn_mistakes.py"):
            shutil.copy(ROOT / "solutions" / f, course / "solutions" / f)
        class_dir = work / "class"
        for k in range(args.copies):
            make_class.main(class_dir / f"copy{k}")
        n = sum(1 for _ in class_dir.rglob("*.ipynb"))

        first, _ = grade(course, class_dir, work / "grades", args.workers)
        toml = course / "assignments" / "cnn" / "assignment.toml"
        toml.write_text(toml.read_text().replace("relu = 1\n", "relu = 3\n"))
        rescored, err = grade(course, class_dir, work / "grades", args.workers)
        if "0 to run in the sandbox" not in err:
            raise SystemExit(f"expected a re-score only:\n{err}")
        rescored_book = (work / "grades" / "final_grades.csv").read_text()
        rerun, _ = grade(course, class_dir, work / "grades", args.workers, "--force")
        same = (work / "grades" / "final_grades.csv").read_text() == rescored_book

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"cnn class of {n} submissions, {args.workers} workers, load average {load}")
    print(f"  first grading           {first:6.2f} s")
    print(f"  points change, re-score {rescored:6.2f} s   (no sandbox)")
    print(f"  points change, re-run   {rerun:6.2f} s   (--force)")
    print(f"  same gradebook: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
