"""The `deepgrade` command.

deepgrade [--course DIR] grade ASSIGNMENT SUBMISSION... [--out DIR]   batch-grade into a gradebook
deepgrade [--course DIR] check ASSIGNMENT NOTEBOOK        grade one notebook, print the feedback
deepgrade [--course DIR] similarity ASSIGNMENT GRADES_OR_SUBMISSIONS... [--out DIR]   most alike code
deepgrade [--course DIR] student ASSIGNMENT [--out DIR]   the student's copy (no solutions)
deepgrade [--course DIR] export gradescope ASSIGNMENT -o FILE   a Gradescope autograder zip
deepgrade [--course DIR] list                             the assignments there are
deepgrade [--course DIR] calibrate ASSIGNMENT [--data DIR] [--seeds S]   thresholds of trained check models
deepgrade [--course DIR] new NAME [--function F]          a new exercise that grades, or F added to it (scaffold.py)
deepgrade [--course DIR] notebook NAME                    rebuild the student notebook (authoring.py)
deepgrade [--course DIR] validate [NAME...] [--train] [--workers N]   prove the assignments grade as they should (validate.py)
deepgrade gradescope try ZIP NOTEBOOK                     run an autograder zip locally (gradescope_try.py)
deepgrade --version

--course DIR may also follow the verb (deepgrade list --course DIR).

The course folder (assignments/ + solutions/) is --course DIR, else DEEPGRADE_ROOT, else the
working directory or its nearest parent holding assignments/ (assignment.project_root).
Every bad argument ends in one line, ``deepgrade: error: ...``, and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import settings
from .course import assignment as asg
from .portable.feedback import fmt_points
from .sandbox.isolation import SetupError

# Imports of the grading machinery (sandbox, nbformat, reports) are inside the commands:
# `deepgrade list` and `--version` must stay fast.


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as one line (no usage block) and exit status 2."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"deepgrade: error: {message} (see {self.prog} --help)\n")


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {n}")
    return n


def _out_folder(path: str, option: str = "--out") -> Path:
    """An output folder that exists or can be made: not a file, nor below one."""
    out = Path(path)
    for p in (out, *out.parents):
        if p.exists() and not p.is_dir():
            raise UsageError(f"{option} {path}: {p} is a file, not a folder")
        if p.exists():
            break
    return out


def _version() -> str:
    from .batch.fingerprint import version

    return version()


def cmd_grade(args: argparse.Namespace) -> int:
    """Batch grading (batch.py): parallel sandboxes, results kept per submission, resumable."""
    from .batch import run as batch
    from .batch.executors import make_executor

    if not args.submissions:
        raise UsageError(_second_missing(args, "SUBMISSION...", "submissions"))
    assignment = _load(args)
    out = _out_folder(args.out)
    _allow_readable(args)
    for s in args.submissions:
        if not os.path.lexists(s):
            raise UsageError(f"no such file or folder: {s}")
    executor, options = None, {}
    if args.executor == "dask":
        scheduler = args.scheduler or settings.get("DEEPGRADE_SCHEDULER")
        if not scheduler:
            raise UsageError("--executor dask needs --scheduler tcp://HOST:8786 (or DEEPGRADE_SCHEDULER)")
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise UsageError("--executor dask needs Dask: pip install 'deepgrade[cluster]'") from None
        options["scheduler"] = scheduler
    elif args.scheduler:
        raise UsageError("--scheduler is only for --executor dask")
    if args.executor != "local":
        executor = make_executor(args.executor, args.workers or 0, assignment.name, args.root, **options)
    try:
        subs, results = batch.grade_paths(
            assignment,
            args.submissions,
            out,
            workers=args.workers,
            force=args.force,
            executor=executor,
            progress=not args.quiet,
        )
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from None
    if not subs:
        raise UsageError("no notebooks found in " + " ".join(args.submissions))
    if not args.quiet:
        print((out / "final_grades.csv").read_text(encoding="utf-8"), end="")
    print(
        f"wrote {out / 'final_grades.csv'}, canvas.csv, moodle.csv, summary.html and feedback for "
        f"{len(results)} submission(s) in {out / 'feedback'}",
        file=sys.stderr,
    )
    return 0


def cmd_similarity(args: argparse.Namespace) -> int:
    """Pairs of submissions whose code is most alike, per function (similarity.py): flags only."""
    import shutil
    import tempfile

    from .reports import similarity

    assignment = _load(args)
    out = _out_folder(args.out)
    for s in args.inputs:
        if not os.path.lexists(s):
            raise UsageError(f"no such file or folder: {s}")
    grades = [s for s in args.inputs if similarity.is_grades_folder(Path(s))]
    if grades and len(args.inputs) > 1:
        raise UsageError(f"{grades[0]} is a grades folder: name it alone, or name submissions only")
    work = Path(tempfile.mkdtemp(prefix="deepgrade-similarity-"))
    try:
        if grades:
            subs, problems = similarity.from_grades(Path(grades[0]))
        else:
            subs, problems = similarity.from_paths(assignment, args.inputs, work)
        report = similarity.compare(assignment, subs)
    except similarity.Unavailable as exc:
        raise UsageError(str(exc)) from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report.skipped = problems + report.skipped
    similarity.write(report, out, assignment.name)
    for a, b, score, function in report.student_pairs()[:10]:
        print(f"{score:.2f}  {function}  {a}  {b}")
    print(f"compared {len(subs)} submission(s); wrote {out / 'similarity.html'} and similarity.json", file=sys.stderr)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from .grading.pipeline import grade_file
    from .reports import report

    if args.notebook is None:
        raise UsageError(_second_missing(args, "NOTEBOOK", "notebook"))
    path = Path(args.notebook)
    if not path.exists():
        raise UsageError(f"no such file: {path}")
    if path.is_dir():
        raise UsageError(
            f"{path} is a folder: check grades one notebook file "
            f"(deepgrade grade {args.assignment} {path} grades a folder)"
        )
    assignment = _load(args)
    _allow_readable(args)
    print(report.feedback_text(grade_file(assignment, path)), end="")
    return 0


def _allow_readable(args: argparse.Namespace) -> None:
    """--allow-readable-course, by the environment so that the grading processes see it too
    (isolation.check_fallback)."""
    if args.allow_readable_course:
        from .sandbox.isolation import ALLOW_READABLE_ENV

        os.environ[ALLOW_READABLE_ENV] = "1"


def cmd_student(args: argparse.Namespace) -> int:
    from .publish.student import StudentCopyError, make_student_copy

    assignment = _load(args)
    target = _out_folder(args.out) / assignment.name
    _out_folder(str(target))
    try:
        out = make_student_copy(assignment, target, force=args.force)
    except StudentCopyError as exc:
        raise UsageError(str(exc)) from None
    print(f"wrote the student copy of {assignment.name} to {out}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from .publish.gradescope import export

    target = Path(args.out)
    if target.is_dir():
        raise UsageError(f"-o {args.out} is a folder; give the zip file to write, e.g. {target / 'autograder.zip'}")
    _out_folder(str(target.parent), "-o")
    try:
        out = export(_load(args), target, root=args.root)
    except (ValueError, RuntimeError) as exc:  # an unknown extra, no reference solution
        raise UsageError(str(exc)) from None
    print(f"wrote the Gradescope autograder for {args.assignment} to {out}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    """Reads only the assignment.toml files: no fixtures, no reference, no TensorFlow."""
    names = asg.available(args.root)
    if not names:
        raise UsageError(f"no assignments in {args.root / 'assignments'}")
    for name in names:
        try:
            checked, _ = asg.read_contract(name, args.root)
        except asg.AssignmentError as exc:
            print(f"{name:10s} unusable: {exc}")
            continue
        points = sum(checked.questions.values())
        print(f"{name:10s} {fmt_points(points)} points  {checked.title}")
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    import os

    from .authoring.calibrate import CalibrationError, calibrate

    if args.data:
        data = Path(args.data)
        if not data.is_dir():
            raise UsageError(f"no such folder: {data}")
        os.environ["DEEPGRADE_DATA"] = str(data.resolve())  # read by the fixtures before any data is made
    try:
        seeds = [int(x) for x in args.seeds.split(",") if x.strip()]
    except ValueError:
        raise UsageError(f"--seeds takes whole numbers separated by commas, not {args.seeds!r}") from None
    assignment = _load(args)
    previous = provenance = None
    if args.from_thresholds:
        import tomllib

        from .authoring.calibrate import measured_from_record, recorded_stamps

        record_file = Path(args.from_thresholds)
        if not record_file.is_file():
            raise UsageError(f"no such file: {record_file}")
        try:
            record = tomllib.loads(record_file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise UsageError(f"{record_file} is not a thresholds.toml ({exc})") from None
        previous, provenance = measured_from_record(record), recorded_stamps(record_file)
    try:
        calibrate(
            assignment,
            seeds,
            args.question or None,
            args.data,
            write=not args.dry_run,
            previous=previous,
            previous_provenance=provenance,
            previous_source=args.from_thresholds or "",
        )
    except CalibrationError as exc:
        raise UsageError(str(exc)) from None
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    """A new exercise in the course folder, or a function added to one (scaffold.py); never
    overwrites a file."""
    from .authoring.authoring import builder
    from .authoring.scaffold import ScaffoldError, add_function, course_for_new, new_exercise

    course = course_for_new(args.course)
    try:
        if args.function:
            written = add_function(args.name, args.function, course)
        else:
            written = new_exercise(args.name, course)
    except ScaffoldError as exc:
        raise UsageError(str(exc)) from None
    for path in written:
        print(f"wrote {path}")
    if args.function and builder(args.name, course) is not None:
        print(
            f"next: add the cells of {args.function} to {builder(args.name, course)} "
            f'(code(stub(reference.{args.function})), check_cell("{args.function}")), then deepgrade notebook {args.name}'
        )
    print(
        f"next: edit solutions/{args.name}.py and assignments/{args.name}/fixtures.py, rebuild the notebook "
        f"(deepgrade notebook {args.name}), then deepgrade validate {args.name} "
        '(README: "Add an exercise")'
    )
    return 0


def _second_missing(args: argparse.Namespace, usage: str, what: str) -> str:
    """`deepgrade grade FOLDER`: one argument where two are needed. Most often the assignment
    was forgotten, so say that and list the assignments, unless the one given is an assignment."""
    names = asg.available(args.root)
    if args.assignment in names:
        return f"no {what} given: deepgrade {args.command} {args.assignment} {usage}"
    return (
        f"the assignment name is missing: deepgrade {args.command} ASSIGNMENT {usage} "
        f"({args.assignment!r} is not an assignment; the assignments: {', '.join(names) or 'none'})"
    )


def cmd_gradescope(args: argparse.Namespace) -> int:
    """`deepgrade gradescope try ZIP NOTEBOOK`: the zip's run_autograder, run here (gradescope_try.py)."""
    from .publish.gradescope_try import TryError, summary, try_zip

    keep = _out_folder(args.keep, "--keep") if args.keep else None
    try:
        data = try_zip(Path(args.zip), Path(args.notebook), keep=keep)
    except TryError as exc:
        raise UsageError(str(exc)) from None
    print(summary(data))
    if keep is not None:
        print(f"kept the Gradescope layout in {keep} (results/results.json)", file=sys.stderr)
    return 0


def cmd_notebook(args: argparse.Namespace) -> int:
    """Rebuild an assignment's student notebook from its reference (authoring.py)."""
    from .authoring.authoring import BuildError, builder, write_notebook

    if args.assignment not in asg.available(args.root):
        raise UsageError(f"no assignment named {args.assignment!r}; available: {', '.join(asg.available(args.root))}")
    try:
        out = write_notebook(args.assignment, args.root)
    except BuildError as exc:
        raise UsageError(str(exc)) from None
    except asg.AssignmentError as exc:
        raise UsageError(str(exc)) from None
    script = builder(args.assignment, args.root)
    print(f"wrote {out} ({'built by ' + str(script) if script else 'from the reference'})")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Every check of validate.py on the named assignments (default: all); one line per problem."""
    from .authoring.validate import validate

    names = args.assignments or asg.available(args.root)
    unknown = [n for n in names if n not in asg.available(args.root)]
    if unknown:
        raise UsageError(f"no assignment named {unknown[0]!r}; available: {', '.join(asg.available(args.root))}")
    failed = 0
    for name in names:
        report = validate(name, args.root, train=args.train, workers=args.workers)
        for problem in report.problems:
            print(problem)
        print(report.summary or f"{name}: not checked further", file=sys.stderr if report.problems else sys.stdout)
        failed += not report.ok
    return 1 if failed else 0


def _load(args: argparse.Namespace) -> asg.Assignment:
    """The assignment named on the command line; unknown names and bad files become usage errors."""
    try:
        checked, _ = asg.read_contract(args.assignment, args.root)  # cheap checks first, before fixtures are imported
        from .course.requirements import needs_tensorflow
        from .quiet import import_tensorflow

        if needs_tensorflow(args.root, args.assignment, checked.extras):
            import_tensorflow()  # now, without its start-up log lines (the fixtures import it)
        return asg.load(args.assignment, args.root)
    except KeyError as exc:
        raise UsageError(exc.args[0]) from None
    except asg.AssignmentError as exc:
        raise UsageError(str(exc)) from None


ALLOW_HELP = (
    "without bubblewrap, grade even though student code could read the reference solutions, fixtures "
    "or results (default: refuse and name them)"
)


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="deepgrade", description="Grade deep-learning notebooks, safely and with diagnostic feedback.")
    p.add_argument("--version", action="version", version=f"deepgrade {_version()}")
    p.add_argument(
        "--course",
        metavar="DIR",
        default=None,
        help="the course folder holding assignments/ and solutions/ "
        "(default: $DEEPGRADE_ROOT, else the working directory or its nearest parent holding assignments/)",
    )
    sub = p.add_subparsers(dest="command", required=True)
    g = sub.add_parser("grade", help="grade notebooks (files or folders) into a gradebook")
    g.add_argument("assignment")
    g.add_argument(
        "submissions", nargs="*", metavar="SUBMISSION", help="notebooks, folders of notebooks, LMS zip exports"
    )
    g.add_argument("--out", default="grades", help="output folder (default: grades)")
    g.add_argument(
        "--workers", type=_positive_int, default=None, help="parallel graders, >= 1 (default: the number of cores)"
    )
    g.add_argument(
        "--force",
        action="store_true",
        help="run every submission again (default: resume; a change to points only re-scores stored outcomes)",
    )
    g.add_argument(
        "--executor",
        default="local",
        choices=["local", "serial", "dask"],
        help="where to grade: local (process pool), serial, dask",
    )
    g.add_argument(
        "--scheduler",
        default=None,
        help="the Dask scheduler for --executor dask (tcp://HOST:8786; pip install deepgrade[cluster])",
    )
    g.add_argument("--quiet", action="store_true", help="no progress bar, no gradebook on stdout")
    g.add_argument("--allow-readable-course", action="store_true", help=ALLOW_HELP)
    g.set_defaults(func=cmd_grade)
    sim = sub.add_parser("similarity", help="pairs of submissions whose code is most alike, per function (flags only)")
    sim.add_argument("assignment")
    sim.add_argument("inputs", nargs="+", help="a grades folder (deepgrade grade --out), or notebooks, folders, zips")
    sim.add_argument("--out", default="similarity", help="output folder (default: similarity)")
    sim.set_defaults(func=cmd_similarity)
    c = sub.add_parser("check", help="grade one notebook and print the feedback")
    c.add_argument("assignment")
    c.add_argument("notebook", nargs="?", metavar="NOTEBOOK")
    c.add_argument("--allow-readable-course", action="store_true", help=ALLOW_HELP)
    c.set_defaults(func=cmd_check)
    s = sub.add_parser("student", help="write the student's copy of an assignment (notebook + public checks)")
    s.add_argument("assignment")
    s.add_argument("--out", default="dist", help="the copy goes to OUT/ASSIGNMENT (default: dist)")
    s.add_argument(
        "--force", action="store_true", help="replace OUT/ASSIGNMENT if it is a student copy deepgrade wrote"
    )
    s.set_defaults(func=cmd_student)
    ex = sub.add_parser("export", help="export an assignment for another platform")
    ex_sub = ex.add_subparsers(dest="target", required=True)
    gs = ex_sub.add_parser("gradescope", help="write a Gradescope autograder zip")
    gs.add_argument("assignment", help="the assignment to export (deepgrade list)")
    gs.add_argument(
        "-o",
        "--out",
        default="autograder.zip",
        help="the zip to write (default: autograder.zip); upload it to Gradescope",
    )
    gs.set_defaults(func=cmd_export)
    cal = sub.add_parser("calibrate", help="set trained check models' thresholds from a panel of reasonable models")
    cal.add_argument("assignment")
    cal.add_argument(
        "--data", default=None, help="a folder of the instructor's data (keras: corpus.txt, cats_and_dogs/)"
    )
    cal.add_argument("--seeds", default="0,1,2", help="training seeds (default: 0,1,2)")
    cal.add_argument("--question", action="append", default=[], help="only this check model (repeatable)")
    cal.add_argument("--dry-run", action="store_true", help="measure and print, do not write thresholds.toml")
    cal.add_argument(
        "--from-thresholds",
        default=None,
        metavar="FILE",
        help="re-derive thresholds from the measurements a thresholds.toml records (no training)",
    )
    cal.set_defaults(func=cmd_calibrate)
    ls = sub.add_parser("list", help="list the assignments")
    ls.set_defaults(func=cmd_list)
    nw = sub.add_parser("new", help="write a new exercise that grades: reference, fixtures, toml, notebook")
    nw.add_argument("name", help="the exercise's name, also its function's (lowercase letters, digits, _)")
    nw.add_argument("--function", default=None, help="add this function (a question) to the existing exercise NAME")
    nw.set_defaults(func=cmd_new)
    gsc = sub.add_parser("gradescope", help="try a Gradescope autograder zip locally")
    gsc_sub = gsc.add_subparsers(dest="action", required=True)
    tr = gsc_sub.add_parser(
        "try", help="run the zip's run_autograder on one notebook in a temporary Gradescope layout, print the score"
    )
    tr.add_argument("zip", help="the autograder zip (deepgrade export gradescope)")
    tr.add_argument("notebook", help="a notebook as a student would submit it")
    tr.add_argument("--keep", default=None, metavar="DIR", help="copy the layout (source/, results/) to DIR")
    tr.set_defaults(func=cmd_gradescope)
    nb = sub.add_parser("notebook", help="rebuild an assignment's student notebook from its reference")
    nb.add_argument("assignment")
    nb.set_defaults(func=cmd_notebook)
    va = sub.add_parser("validate", help="prove that assignments grade as they should (one line per problem)")
    va.add_argument("assignments", nargs="*", metavar="NAME", help="the assignments (default: all)")
    va.add_argument("--train", action="store_true", help="also the checks that train models (keras: long)")
    va.add_argument(
        "--workers",
        type=_positive_int,
        default=None,
        help="notebooks graded at once, >= 1 (default: the number of cores)",
    )
    va.set_defaults(func=cmd_validate)
    _accept_global_options(p)
    return p


def _accept_global_options(p: argparse.ArgumentParser) -> None:
    """--course after the verb too (deepgrade list --course DIR), on every verb and sub-verb.
    SUPPRESS: a verb's parser sets args.course only when given there, so that the value given
    before the verb is not reset to None."""
    for action in p._actions:  # argparse keeps its subparsers here; there is no public accessor
        if isinstance(action, argparse._SubParsersAction):
            for verb in dict.fromkeys(action.choices.values()):  # aliases map to the same parser
                if "--course" not in verb._option_string_actions:  # unless the verb defines it itself
                    verb.add_argument(
                        "--course",
                        metavar="DIR",
                        default=argparse.SUPPRESS,
                        help="the course folder (as before the verb)",
                    )
                _accept_global_options(verb)


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # students' names on a terminal that is not UTF-8
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    args = parser().parse_args(argv)
    try:
        args.root = None if args.command in ("new", "gradescope") else asg.project_root(args.course)
        return args.func(args)
    except (UsageError, asg.CourseNotFound) as exc:
        print(f"deepgrade: error: {exc}", file=sys.stderr)
        return 2
    except SetupError as exc:  # the sandbox cannot start: nobody was graded by it
        print(
            f"deepgrade: error: the grader's sandbox cannot run, so no grade was recorded "
            f"(the grader's failure, not a student's): {exc}",
            file=sys.stderr,
        )
        return 2
    except OSError as exc:  # a folder that cannot be written, a file that cannot be read
        print(f"deepgrade: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
