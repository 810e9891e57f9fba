"""Export an assignment as a Gradescope autograder, and grade inside one.

    deepgrade export gradescope ASSIGNMENT -o autograder.zip       (instructor, once)
    python -m deepgrade.publish.gradescope run --root SOURCE --assignment NAME \\
        --submission DIR --out results.json                         (run_autograder, per submission)

The zip is self-contained: the engine's source (graders/deepgrade), the assignment's
folder, its reference and mistake catalogue (solutions/NAME.py, solutions/NAME_mistakes.py,
instructor-side on Gradescope, never shown to students), pyproject.toml, and

    setup.sh          apt: bubblewrap, python3-venv; a venv in /autograder/venv with the deps
    run_autograder    grades the notebook in /autograder/submission with the same sandboxed
                      engine, writes /autograder/results/results.json
    requirements.txt  the engine's runtime dependencies and those of the extras the assignment
                      declares (assignment.toml: extras = ["keras"])

results.json is in Gradescope's format. Each question becomes up to two tests: its public
checks ("visible") and its hidden checks ("after_published"), the question's points split
between them by check weight, exactly as the engine scores them. Hidden checks are
described (what was checked, how many cells differ, a diagnosed mistake) but their
expected values never appear: the engine's feedback for hidden fixtures never shows them.

results.json is always the grader's (``run``): the notebook is read into memory before
any student code runs, the file is written once grading is over, through a new file
swapped into place, and a grading failure gives 0 points and the reason. A sandbox that
cannot start (isolation.SetupError) is an autograder failure: no test, score 0, the reason
for the instructor only (``setup_failure``). run_autograder
locks the autograder's files to root for the process fallback (see the README) and
writes a minimal results.json itself if Python did not finish; it always exits 0.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import stat
import sys
import tempfile
import tomllib
import traceback
import zipfile
from pathlib import Path

from .. import settings
from ..course.assignment import Assignment, project_root
from ..course.requirements import requirements
from ..grading.results import SubmissionResult, fmt_points
from ..portable.scoring import split_points
from ..portable.status import RowStatus

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this for each submission (deepgrade {version}, assignment {name}).
# AUTOGRADER_ROOT overrides /autograder (for testing the autograder off Gradescope).
# It always leaves a results.json that the grader wrote, and exits 0.
set -u
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
SOURCE="$ROOT/source"
RESULTS="$ROOT/results"
mkdir -p "$RESULTS"
if [ "$(id -u)" = 0 ]; then
    # Without bubblewrap the student's code runs as an unprivileged user (deepgrade's
    # process fallback): only root may read the reference, the fixtures, the engine's
    # copy, the submission and the results. The venv stays readable: the child runs on it.
    chmod 0711 "$ROOT"
    for d in "$SOURCE" "$RESULTS" "$ROOT/submission"; do
        [ -d "$d" ] && chmod -R go-rwx "$d" && chmod 0700 "$d"
    done
    [ -f "$ROOT/submission_metadata.json" ] && chmod 0600 "$ROOT/submission_metadata.json"
    if [ -d "$ROOT/venv" ] && [ -n "$(find "$ROOT/venv" \( \( -type d ! -perm -o+rx \) -o \( ! -type l ! -perm -o+r \) \) -print -quit 2>/dev/null)" ]; then
        chmod -R o+rX "$ROOT/venv"
    fi
fi
if [ -x "$ROOT/venv/bin/python" ]; then
    PY="$ROOT/venv/bin/python"
else
    PY="$(command -v python3 || command -v python)"
fi
# The bundled engine and course folder, whatever else is installed.
export PYTHONPATH="$SOURCE/graders${{PYTHONPATH:+:$PYTHONPATH}}"
export DEEPGRADE_ROOT="$SOURCE"
rm -rf "$RESULTS/results.json"
STATUS=127
if cd "$SOURCE"; then
    "$PY" -m deepgrade.publish.gradescope run --root "$SOURCE" --assignment {name} \
        --submission "$ROOT/submission" --out "$RESULTS/results.json"
    STATUS=$?
fi
# The grader exits 0 only once it has written results.json itself (atomically, after
# the student's processes are gone). Otherwise: a score of 0 and the reason.
if [ "$STATUS" != 0 ] || [ -L "$RESULTS/results.json" ] || [ ! -f "$RESULTS/results.json" ]; then
    rm -rf "$RESULTS/results.json" "$RESULTS/.results.json.sh"
    printf '%s\n' '{{"score": 0, "output": "The autograder failed before it could grade this submission (exit status '"$STATUS"'). Your instructor can see why in the autograder output; please tell them.", "visibility": "visible", "stdout_visibility": "hidden", "tests": []}}' >"$RESULTS/.results.json.sh"
    mv -f -T "$RESULTS/.results.json.sh" "$RESULTS/results.json"
fi
exit 0
"""

SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once, in /autograder/source, when the autograder image is built.
set -eux
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
SOURCE="$ROOT/source"
export DEBIAN_FRONTEND=noninteractive
apt-get update || true
apt-get install -y bubblewrap python3-venv python3-pip || true
# deepgrade needs Python >= 3.11 (tomllib)
PY=""
for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        PY="$(command -v "$candidate")"
        break
    fi
done
if [ -z "$PY" ]; then
    apt-get install -y python3.11 python3.11-venv
    PY="$(command -v python3.11)"
fi
"$PY" -m venv "$ROOT/venv"
"$ROOT/venv/bin/pip" install --upgrade pip
"$ROOT/venv/bin/pip" install -r "$SOURCE/requirements.txt"
"$ROOT/venv/bin/pip" install --no-deps "$SOURCE"
chmod +x "$SOURCE/run_autograder"
# the student's code runs on this venv as an unprivileged user (see run_autograder)
chmod -R o+rX "$ROOT/venv"
"""


# graders/deepgrade/ of the engine that is running: a checkout or a pip install
ENGINE = Path(__file__).resolve().parents[1]

MINIMAL_PYPROJECT = """[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "deepgrade"
version = "{version}"
readme = "README.md"
requires-python = ">=3.11"

[tool.setuptools.packages.find]
where = ["graders"]
"""


def _own_pyproject(root: Path) -> Path | None:
    """The course folder's pyproject.toml when it is deepgrade's own (a source checkout)."""
    pyproject = root / "pyproject.toml"
    if (
        pyproject.is_file()
        and tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {}).get("name") == "deepgrade"
    ):
        return pyproject
    return None


def _version(root: Path) -> str:
    pyproject = _own_pyproject(root)
    if pyproject is not None:
        return tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"].get("version", "?")
    from importlib import metadata

    try:
        return metadata.version("deepgrade")
    except metadata.PackageNotFoundError:
        return "?"


def _files(root: Path, name: str) -> list[tuple[Path, str]]:
    """(source file, name in the zip) for everything the autograder needs. The engine is
    the running one (from a checkout or a pip install); the course folder gives the rest."""
    out: list[tuple[Path, str]] = []

    def add_tree(folder: Path, base: Path, prefix: str = "") -> None:
        for p in sorted(folder.rglob("*")):
            if (
                p.is_file()
                and "__pycache__" not in p.parts
                and ".ipynb_checkpoints" not in p.parts
                and p.suffix != ".pyc"
            ):
                out.append((p, prefix + p.relative_to(base).as_posix()))

    add_tree(ENGINE, ENGINE, "graders/deepgrade/")
    add_tree(root / "assignments" / name, root)
    for f in (f"solutions/{name}.py", f"solutions/{name}_mistakes.py"):
        if (root / f).is_file():
            out.append((root / f, f))
    if _own_pyproject(root) is not None:
        out.append((root / "pyproject.toml", "pyproject.toml"))
    if (root / "README.md").is_file() and _own_pyproject(root) is not None:
        out.append((root / "README.md", "README.md"))
    return out


def export(assignment: Assignment | str, out_zip: Path | str, root: Path | None = None) -> Path:
    """Write the Gradescope autograder zip for an assignment; returns its path."""
    from ..course import assignment as asg

    root = (root or project_root()).resolve()
    if isinstance(assignment, str):
        assignment = asg.load(assignment, root)
    name = assignment.name
    if assignment.reference is None:
        raise RuntimeError(f"solutions/{name}.py not found under {root}: the autograder needs the reference")
    out_zip = Path(out_zip)
    out_zip.parent.mkdir(parents=True, exist_ok=True)
    version = _version(root)

    def add_text(zf: zipfile.ZipFile, arcname: str, text: str, executable: bool = False) -> None:
        info = zipfile.ZipInfo(arcname, date_time=(2020, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        mode = 0o755 if executable else 0o644
        info.external_attr = (stat.S_IFREG | mode) << 16
        zf.writestr(info, text)

    with zipfile.ZipFile(out_zip, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, arcname in _files(root, name):
            info = zipfile.ZipInfo(arcname, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            zf.writestr(info, path.read_bytes())
        if _own_pyproject(root) is None:  # a course folder of a pip install: setup.sh pip-installs the engine
            add_text(zf, "pyproject.toml", MINIMAL_PYPROJECT.format(version=version))
            add_text(zf, "README.md", "# deepgrade\n\nThe Gradescope autograder of one assignment.\n")
        elif not (root / "README.md").is_file():  # pyproject.toml names it: pip install needs one
            add_text(zf, "README.md", "# deepgrade\n\nThe Gradescope autograder of one assignment.\n")
        add_text(zf, "setup.sh", SETUP_SH.format(), executable=True)
        add_text(zf, "run_autograder", RUN_AUTOGRADER.format(name=name, version=version), executable=True)
        extras = assignment.contract.extras if assignment.contract else []
        add_text(zf, "requirements.txt", "\n".join(requirements(root, assignment.name, extras)) + "\n")
    return out_zip


# --------------------------------------------------------------------------- grading side


def _check_lines(checks) -> str:
    lines = []
    for c in checks:
        lines.append(f"{'ok  ' if c.passed else 'FAIL'}  {c.label}")
        for d in c.details:
            for sub in d.splitlines():
                lines.append(f"        {sub.rstrip()}")
    return "\n".join(lines)


def results_json(result: SubmissionResult) -> dict:
    """A SubmissionResult as Gradescope's results.json.

    Per question: a visible test of its public checks and an after_published test of its
    hidden checks, points split by check weight (a question with checks of one kind only,
    e.g. a function that is missing, is one test).
    """
    tests = []
    for q in result.questions:
        split = split_points(q.checks, q.max_points)
        groups = [
            ("public", "visible", [c for c in q.checks if not c.hidden]),
            ("hidden", "after_published", [c for c in q.checks if c.hidden]),
        ]
        groups = [g for g in groups if g[2]]
        for kind, visibility, checks in groups:
            if len(groups) == 1:
                max_score, score = q.max_points, q.points
            elif kind == "public":
                max_score, score = split.public_max, split.public
            else:
                max_score, score = split.hidden_max, split.hidden
            tests.append(
                {
                    "name": f"{q.name} ({kind} checks)" if len(groups) > 1 else q.name,
                    "score": round(score, 4),
                    "max_score": round(max_score, 4),
                    "output": _check_lines(checks),
                    "visibility": visibility,
                }
            )
    head = [f"{result.assignment}: {fmt_points(result.points)} / {fmt_points(result.max_points)} points"]
    if result.status != RowStatus.GRADED:
        head.append(f"not graded: {result.reason}")
    head += [f"note: {n}" for n in result.notes]
    if result.status in (RowStatus.GRADED, RowStatus.WRONG_ASSIGNMENT):  # its hidden checks ran
        head.append("Hidden checks run on inputs you have not seen; their results are shown once grades are published.")
    return {
        "score": result.points,
        "output": "\n".join(head),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def not_graded(reason: str, assignment: Assignment | None = None, name: str = "") -> dict:
    """results.json for a submission that could not be graded: 0 points and the reason
    (every question of the assignment, when it could be loaded, as a failed test)."""
    return results_json(SubmissionResult.not_graded(assignment, "", RowStatus.ERROR, reason, name=name))


SETUP_FAILURE_OUTPUT = (
    "The autograder could not start its sandbox, so your notebook was not run and has not been graded. "
    "This is the autograder's failure, not yours: your instructor can see why and will regrade it."
)


def setup_failure(reason: str) -> dict:
    """results.json when the sandbox cannot start (isolation.SetupError): an autograder
    failure, not a grade. No test (no question is marked failed), score 0, a sentence for the
    student; the reason for the instructor in the hidden stdout (printed by ``run``) and in
    extra_data. Gradescope's results format has no failure flag: this is its documented
    minimum (a top-level score and output, https://gradescope-autograders.readthedocs.io/en/latest/specs/)."""
    return {
        "score": 0,
        "output": SETUP_FAILURE_OUTPUT,
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": {"deepgrade": {"status": "autograder-failure", "reason": reason}},
        "tests": [],
    }


def find_notebooks(folder: Path) -> list[Path]:
    """Every notebook of a submission folder, regular files only, found without following
    symbolic links (a submission is a student's upload: a link could name any file of the
    autograder)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d != ".ipynb_checkpoints")
        for f in filenames:
            p = Path(dirpath) / f
            if p.suffix == ".ipynb" and stat.S_ISREG(os.lstat(p).st_mode):
                found.append(p)
    return sorted(found)


def find_notebook(folder: Path, expected_name: str) -> tuple[Path | None, list[Path]]:
    """The submitted notebook, by the batch's rule (intake.choose_notebook: not empty, named like
    the assignment's, the newest), and the notebooks not graded."""
    from ..grading.intake import choose_notebook

    return choose_notebook(find_notebooks(folder), expected_name)


def read_regular(path: Path, limit: int) -> bytes:
    """A regular file's bytes (at most limit + 1), opened without following a link and
    without blocking on a FIFO."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path.name} is not a regular file")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def grade_submission(root: Path, name: str, submission: Path) -> dict:
    """Grade the notebook in a submission folder; results.json's content.

    The notebook is read into memory (then a private copy) before any student code runs:
    nothing in the submission folder is opened after that."""
    from ..course import assignment as asg
    from ..grading.notebook import MAX_NOTEBOOK_BYTES
    from ..grading.pipeline import grade_file

    assignment = asg.load(name, root)
    path, others = find_notebook(submission, assignment.notebook.name)
    if path is None:
        return not_graded(
            f"No notebook (.ipynb) was found in your submission. Upload {assignment.notebook.name}.", assignment
        )
    try:
        data = read_regular(path, MAX_NOTEBOOK_BYTES)
    except OSError as exc:
        return not_graded(f"Your notebook {path.name} could not be read ({exc.strerror or exc}).", assignment)
    # 0700, the grader's; named deepgrade-<pid>- so that a run after a killed grader reclaims it
    with tempfile.TemporaryDirectory(prefix=f"deepgrade-{os.getpid()}-gradescope-") as private:
        copy = Path(private) / path.name
        copy.write_bytes(data)
        result = grade_file(assignment, copy)
    result.file = path.name
    if others:
        from ..grading.intake import readable

        rel = [readable(str(p.relative_to(submission))) for p in [path, *others]]
        result.notes.insert(
            0,
            f"graded {rel[0]} (not empty, named like {assignment.notebook.name} first, then the newest); "
            f"not graded: {', '.join(rel[1:])}",
        )
    print(f"sandbox: {result.isolation}", flush=True)  # for the instructor (stdout is hidden)
    return results_json(result)


def write_results(out: Path, data: dict) -> None:
    """Write results.json atomically, replacing whatever is at that path (a planted
    symbolic link is replaced, never followed)."""
    text = json.dumps(data, indent=1, allow_nan=False).encode("utf-8")
    tmp = out.parent / f".results.{secrets.token_hex(8)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if os.path.isdir(out) and not os.path.islink(out):
            shutil.rmtree(out)  # os.replace cannot replace a folder
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def run(root: Path, name: str, submission: Path, out: Path) -> dict:
    """Grade one submission and write results.json, whatever happens: a grading failure
    (the engine's exception, a crash) gives 0 points and the reason."""
    from ..sandbox.isolation import SetupError

    os.environ["DEEPGRADE_ROOT"] = str(root)
    try:
        data = grade_submission(root, name, submission)
        json.dumps(data, allow_nan=False)  # Gradescope reads strict JSON: no NaN score
    except SetupError as exc:  # the autograder's set-up: no grade, never per-test zeros
        print(f"deepgrade: the sandbox cannot run, this submission was not graded: {exc}", flush=True)
        data = setup_failure(str(exc))
    except Exception as exc:
        traceback.print_exc()  # for the instructor (stdout_visibility is hidden)
        assignment = None
        with contextlib.suppress(Exception):
            from ..course import assignment as asg

            assignment = asg.load(name, root)
        data = not_graded(
            f"The autograder could not grade this submission (an internal error, {type(exc).__name__}). "
            "Your instructor can see the details; please tell them.",
            assignment,
            name,
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    write_results(out, data)
    return data


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m deepgrade.publish.gradescope")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="grade a Gradescope submission folder into results.json")
    r.add_argument("--root", default=settings.get("DEEPGRADE_ROOT") or "/autograder/source")
    r.add_argument("--assignment", required=True)
    r.add_argument("--submission", default="/autograder/submission")
    r.add_argument("--out", default="/autograder/results/results.json")
    e = sub.add_parser("export", help="write the autograder zip")
    e.add_argument("assignment")
    e.add_argument("-o", "--out", default="autograder.zip")
    args = p.parse_args(argv)
    if args.command == "run":
        data = run(Path(args.root).resolve(), args.assignment, Path(args.submission), Path(args.out))
        print(f"score {data['score']}; wrote {args.out}")
    else:
        print(f"wrote {export(args.assignment, args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
