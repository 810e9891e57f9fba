"""The `deepgrade` command.

deepgrade grade ASSIGNMENT SUBMISSION... [--out DIR]   batch-grade notebooks into a gradebook
deepgrade check ASSIGNMENT NOTEBOOK                     grade one notebook, print the feedback
deepgrade student ASSIGNMENT [--out DIR]                the student's copy (no solutions)
deepgrade export gradescope ASSIGNMENT -o FILE          a Gradescope autograder zip
deepgrade list                                          the assignments there are
deepgrade calibrate ASSIGNMENT [--data DIR] [--seeds S] thresholds of trained check models from a panel
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import assignment as asg
from . import report
from .pipeline import grade_file


class UsageError(Exception):
    pass


def cmd_grade(args: argparse.Namespace) -> int:
    """Batch grading (batch.py): parallel sandboxes, results kept per submission, resumable."""
    from . import batch
    from .executors import make_executor

    assignment = _load(args.assignment)
    out = Path(args.out)
    if args.scheduler:  # read by the dask executor (executors_dask.py)
        os.environ["DEEPGRADE_SCHEDULER"] = args.scheduler
    try:
        subs, results = batch.grade_paths(
            assignment,
            args.submissions,
            out,
            workers=args.workers,
            force=args.force,
            executor=make_executor(args.executor, args.workers or 0, assignment.name, assignment.folder.parent.parent)
            if args.executor != "local"
            else None,
            progress=not args.quiet,
        )
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from None
    except KeyError as exc:
        raise UsageError(exc.args[0]) from None
    if not subs:
        raise UsageError("no notebooks found in " + " ".join(args.submissions))
    if not args.quiet:
        print((out / "final_grades.csv").read_text(), end="")
    print(
        f"wrote {out / 'final_grades.csv'}, canvas.csv, moodle.csv, summary.html and feedback for "
        f"{len(results)} submission(s) in {out / 'feedback'}",
        file=sys.stderr,
    )
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    assignment = _load(args.assignment)
    path = Path(args.notebook)
    if not path.exists():
        raise UsageError(f"no such file: {path}")
    print(report.feedback_text(grade_file(assignment, path)), end="")
    return 0


def cmd_student(args: argparse.Namespace) -> int:
    from .student import make_student_copy

    assignment = _load(args.assignment)
    out = make_student_copy(assignment, Path(args.out) / assignment.name)
    print(f"wrote the student copy of {assignment.name} to {out}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from .gradescope import export

    out = export(_load(args.assignment), args.out)
    print(f"wrote the Gradescope autograder for {args.assignment} to {out}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    for name in asg.available():
        a = asg.load(name)
        print(f"{name:10s} {a.max_points:g} points  {a.title}")
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    import os

    from .calibrate import CalibrationError, calibrate

    if args.data:
        data = Path(args.data)
        if not data.is_dir():
            raise UsageError(f"no such folder: {data}")
        os.environ["DEEPGRADE_DATA"] = str(data.resolve())  # read by the fixtures before any data is made
    try:
        seeds = [int(x) for x in args.seeds.split(",") if x.strip()]
    except ValueError:
        raise UsageError(f"--seeds takes whole numbers separated by commas, not {args.seeds!r}") from None
    assignment = _load(args.assignment)
    previous = None
    if args.from_log:
        from .calibrate import measured_from_log

        log_file = Path(args.from_log)
        if not log_file.is_file():
            raise UsageError(f"no such file: {log_file}")
        previous = measured_from_log(log_file.read_text())
    try:
        calibrate(assignment, seeds, args.question or None, args.data, write=not args.dry_run, previous=previous)
    except CalibrationError as exc:
        raise UsageError(str(exc)) from None
    return 0


def _load(name: str) -> asg.Assignment:
    try:
        return asg.load(name)
    except KeyError as exc:
        raise UsageError(exc.args[0]) from None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="deepgrade", description="Grade deep-learning notebooks, safely and with diagnostic feedback."
    )
    sub = p.add_subparsers(dest="command", required=True)
    g = sub.add_parser("grade", help="grade notebooks (files or folders) into a gradebook")
    g.add_argument("assignment")
    g.add_argument("submissions", nargs="+", help="notebooks, folders of notebooks, LMS zip exports")
    g.add_argument("--out", default="grades", help="output folder (default: grades)")
    g.add_argument("--workers", type=int, default=None, help="parallel graders (default: the number of cores)")
    g.add_argument("--force", action="store_true", help="regrade submissions already graded (default: resume)")
    g.add_argument("--executor", default="local", help="where to grade: local (process pool), serial, dask")
    g.add_argument(
        "--scheduler",
        default=None,
        help="the Dask scheduler for --executor dask (tcp://HOST:8786; pip install deepgrade[cluster])",
    )
    g.add_argument("--quiet", action="store_true", help="no progress bar, no gradebook on stdout")
    g.set_defaults(func=cmd_grade)
    c = sub.add_parser("check", help="grade one notebook and print the feedback")
    c.add_argument("assignment")
    c.add_argument("notebook")
    c.set_defaults(func=cmd_check)
    s = sub.add_parser("student", help="write the student's copy of an assignment (notebook + public checks)")
    s.add_argument("assignment")
    s.add_argument("--out", default="dist")
    s.set_defaults(func=cmd_student)
    ex = sub.add_parser("export", help="export an assignment for another platform")
    ex_sub = ex.add_subparsers(dest="target", required=True)
    gs = ex_sub.add_parser("gradescope", help="write a Gradescope autograder zip")
    gs.add_argument("assignment")
    gs.add_argument("-o", "--out", default="autograder.zip")
    gs.set_defaults(func=cmd_export)
    cal = sub.add_parser("calibrate", help="set trained check models' thresholds from a panel of reasonable models")
    cal.add_argument("assignment")
    cal.add_argument("--data", default=None, help="a folder of the instructor's data (keras: corpus.txt)")
    cal.add_argument("--seeds", default="0,1,2", help="training seeds (default: 0,1,2)")
    cal.add_argument("--question", action="append", default=[], help="only this check model (repeatable)")
    cal.add_argument("--dry-run", action="store_true", help="measure and print, do not write thresholds.toml")
    cal.add_argument("--from-log", default=None, help="re-derive thresholds from an earlier run's printed measurements")
    cal.set_defaults(func=cmd_calibrate)
    ls = sub.add_parser("list", help="list the assignments")
    ls.set_defaults(func=cmd_list)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"deepgrade: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
