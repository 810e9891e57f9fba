"""Re-scoring against re-running: what a points change costs a graded class.

    .venv/bin/python benchmarks/rescore.py [--assignment cnn] [--copies 1] [--workers 2] [--skip-rerun]

Makes a class in a private temporary folder, with a private copy of the course folder:
for cnn the example class (examples/make_class.py: 7 submissions, one looping forever until
its time limit, one not a notebook; --copies K makes K of each), for any other assignment
K notebooks filled from the reference. Grades it with `deepgrade grade`, raises the first
question's points by 2 in the copy's assignment.toml, and times, each a fresh command:

    re-score   the same command again: the stored outcomes are re-scored, no sandbox
    re-run     the same command with --force: every submission runs in the sandbox again
               (--skip-rerun leaves it out: for keras it costs what the first grading did)

and checks that both give the same gradebook (csv). Prints wall seconds (the whole
command: Python's start, loading the assignment, intake and reports included), the size
of the stored outcomes and the machine's load.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "graders"), str(ROOT), str(ROOT / "examples"), str(ROOT / "tests" / "support")]

import make_class  # noqa: E402
import nbformat  # noqa: E402

from deepgrade.course import assignment as asg  # noqa: E402


def grade(name: str, course: Path, class_dir: Path, out: Path, workers: int, *extra: str) -> tuple[float, str]:
    """Wall seconds of one `deepgrade grade` and its stderr."""
    cmd = [sys.executable, "-m", "deepgrade.cli", "--course", str(course), "grade", name, str(class_dir)]
    cmd += ["--out", str(out), "--workers", str(workers), "--quiet", *extra]
    env = dict(os.environ, PYTHONPATH=str(ROOT / "graders"))
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=7200)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"deepgrade grade failed:\n{proc.stderr[-3000:]}")
    return seconds, proc.stderr


def make_submissions(name: str, class_dir: Path, copies: int) -> int:
    if name == "cnn":
        for k in range(copies):
            make_class.main(class_dir / f"copy{k}")
    else:
        from helpers import filled_notebook

        class_dir.mkdir(parents=True)
        nb = filled_notebook(name)
        for k in range(copies):
            nb.cells.insert(0, nbformat.v4.new_code_cell(f"student = {k}"))  # distinct files
            nbformat.write(nb, class_dir / f"student{k}.ipynb")
            nb.cells.pop(0)
    return sum(1 for _ in class_dir.rglob("*.ipynb"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="cnn")
    parser.add_argument("--copies", type=int, default=1, help="cnn: copies of the example class of 7; else notebooks")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-rerun", action="store_true", help="do not time --force")
    args = parser.parse_args()
    name = args.assignment

    with tempfile.TemporaryDirectory(prefix="deepgrade-rescore-") as tmp:
        work = Path(tmp)
        os.chmod(work, 0o700)  # the process-mode sandbox must not read the course copy
        course = work / "course"
        shutil.copytree(ROOT / "assignments" / name, course / "assignments" / name)
        (course / "solutions").mkdir()
        for f in (f"{name}.py", f"{name}_mistakes.py"):
            if (ROOT / "solutions" / f).is_file():
                shutil.copy(ROOT / "solutions" / f, course / "solutions" / f)
        n = make_submissions(name, work / "class", args.copies)
        out = work / "grades"

        first, _ = grade(name, course, work / "class", out, args.workers)
        question = asg.load(name, ROOT).questions[0]
        toml = course / "assignments" / name / "assignment.toml"
        line = re.compile(rf"^{question.name} = \S+$", re.M)
        toml.write_text(line.sub(f"{question.name} = {question.points + 2:g}", toml.read_text(), count=1))
        rescored, err = grade(name, course, work / "class", out, args.workers)
        if "0 to run in the sandbox" not in err:
            raise SystemExit(f"expected a re-score only:\n{err}")
        stored = sum(p.stat().st_size for p in (out / "results" / "outcomes").glob("*.json"))
        rescored_book = (out / "final_grades.csv").read_text()
        rerun = None
        if not args.skip_rerun:
            rerun, _ = grade(name, course, work / "class", out, args.workers, "--force")
            same = (out / "final_grades.csv").read_text() == rescored_book

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{name}: a class of {n} submission(s), {args.workers} worker(s), load average {load}")
    print(f"  first grading            {first:7.2f} s")
    print(f"  {question.name} +2 points: re-score {rescored:7.2f} s   (no sandbox)")
    if rerun is not None:
        print(f"  {question.name} +2 points: re-run   {rerun:7.2f} s   (--force)")
        print(f"  same gradebook: {'yes' if same else 'NO'}")
    print(f"  stored outcomes: {stored / 1024:.0f} KiB ({stored / 1024 / max(n, 1):.0f} KiB per submission)")


if __name__ == "__main__":
    main()
