"""Export an assignment as a Gradescope autograder, and grade inside one.

    deepgrade export gradescope ASSIGNMENT -o autograder.zip       (instructor, once)
    python -m deepgrade.gradescope run --root SOURCE --assignment NAME \\
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
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
import tomllib
import zipfile
from pathlib import Path

from .assignment import Assignment, project_root

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this for each submission (deepgrade {version}, assignment {name}).
# AUTOGRADER_ROOT overrides /autograder (for testing the autograder off Gradescope).
set -u
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
SOURCE="$ROOT/source"
mkdir -p "$ROOT/results"
if [ -x "$ROOT/venv/bin/python" ]; then
    PY="$ROOT/venv/bin/python"
else
    PY="$(command -v python3 || command -v python)"
fi
# The bundled engine and course folder, whatever else is installed.
export PYTHONPATH="$SOURCE/graders${{PYTHONPATH:+:$PYTHONPATH}}"
export DEEPGRADE_ROOT="$SOURCE"
cd "$SOURCE"
exec "$PY" -m deepgrade.gradescope run --root "$SOURCE" --assignment {name} \
    --submission "$ROOT/submission" --out "$ROOT/results/results.json"
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
"""


def _project_requirements(root: Path) -> tuple[list[str], dict[str, list[str]]]:
    """(dependencies, {extra: requirements}) from the course's pyproject.toml when it is
    deepgrade's own (a source checkout), else from the installed package's metadata."""
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        if project.get("name") == "deepgrade":
            return list(project.get("dependencies", [])), dict(project.get("optional-dependencies", {}))
    from importlib import metadata

    base: list[str] = []
    extras: dict[str, list[str]] = {}
    for line in metadata.requires("deepgrade") or []:  # 'tensorflow-cpu==2.21.0; extra == "keras"'
        req, _, marker = (part.strip() for part in line.partition(";"))
        if 'extra == "' in marker:
            extras.setdefault(marker.split('extra == "', 1)[1].split('"', 1)[0], []).append(req)
        else:
            base.append(req)
    return base, extras


def _requirements(root: Path, assignment: Assignment) -> list[str]:
    """deepgrade's dependencies plus those of the extras the assignment declares
    (``extras = ["keras"]`` in its assignment.toml); an extra may name another
    (``tf = ["deepgrade[keras]"]``)."""
    reqs, extras = _project_requirements(root)
    wanted = assignment.meta.get("extras", [])
    if isinstance(wanted, str):
        wanted = [wanted]
    seen: set[str] = set()
    while wanted:
        extra = wanted.pop(0)
        if extra in seen:
            continue
        seen.add(extra)
        if extra not in extras:
            raise ValueError(
                f"assignments/{assignment.name}/assignment.toml: extras: no extra named {extra!r} "
                f"(deepgrade has: {', '.join(sorted(extras))})"
            )
        for req in extras[extra]:
            if req.replace(" ", "").startswith("deepgrade["):
                wanted += [e.strip() for e in req.split("[", 1)[1].split("]", 1)[0].split(",")]
            elif req not in reqs:
                reqs.append(req)
    return reqs


def _files(root: Path, name: str) -> list[tuple[Path, str]]:
    """(source file, name in the zip) for everything the autograder needs."""
    out: list[tuple[Path, str]] = []

    def add_tree(folder: Path) -> None:
        for p in sorted(folder.rglob("*")):
            if (
                p.is_file()
                and "__pycache__" not in p.parts
                and ".ipynb_checkpoints" not in p.parts
                and p.suffix != ".pyc"
            ):
                out.append((p, p.relative_to(root).as_posix()))

    add_tree(root / "graders" / "deepgrade")
    add_tree(root / "assignments" / name)
    for f in (f"solutions/{name}.py", f"solutions/{name}_mistakes.py", "pyproject.toml", "README.md"):
        if (root / f).is_file():
            out.append((root / f, f))
    return out


def export(assignment: Assignment | str, out_zip: Path | str, root: Path | None = None) -> Path:
    """Write the Gradescope autograder zip for an assignment; returns its path."""
    from . import assignment as asg

    root = (root or project_root()).resolve()
    if isinstance(assignment, str):
        assignment = asg.load(assignment, root)
    name = assignment.name
    if assignment.reference is None:
        raise RuntimeError(f"solutions/{name}.py not found under {root}: the autograder needs the reference")
    out_zip = Path(out_zip)
    out_zip.parent.mkdir(parents=True, exist_ok=True)
    version = tomllib.loads((root / "pyproject.toml").read_text())["project"].get("version", "?")

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
        if not (root / "README.md").is_file():  # pyproject.toml names it: pip install needs one
            add_text(zf, "README.md", "# deepgrade\n\nThe Gradescope autograder of one assignment.\n")
        add_text(zf, "setup.sh", SETUP_SH.format(), executable=True)
        add_text(zf, "run_autograder", RUN_AUTOGRADER.format(name=name, version=version), executable=True)
        add_text(zf, "requirements.txt", "\n".join(_requirements(root, assignment)) + "\n")
    return out_zip


# --------------------------------------------------------------------------- grading side


def _fmt(x: float) -> str:
    return f"{x:g}"


def _check_lines(checks) -> str:
    lines = []
    for c in checks:
        lines.append(f"{'ok  ' if c.passed else 'FAIL'}  {c.label}")
        for d in c.details:
            for sub in d.splitlines():
                lines.append(f"        {sub.rstrip()}")
    return "\n".join(lines)


def results_json(result) -> dict:
    """A SubmissionResult as Gradescope's results.json.

    Per question: a visible test of its public checks and an after_published test of its
    hidden checks, points split by check weight (a question with checks of one kind only,
    e.g. a function that is missing, is one test).
    """
    tests = []
    for q in result.questions:
        total = sum(c.weight for c in q.checks) or 1.0
        groups = [
            ("public", "visible", [c for c in q.checks if not c.hidden]),
            ("hidden", "after_published", [c for c in q.checks if c.hidden]),
        ]
        groups = [g for g in groups if g[2]]
        for kind, visibility, checks in groups:
            if len(groups) == 1:
                max_score, score = q.max_points, q.points
            else:
                max_score = q.max_points * sum(c.weight for c in checks) / total
                score = q.max_points * sum(c.weight for c in checks if c.passed) / total
            tests.append(
                {
                    "name": f"{q.name} ({kind} checks)" if len(groups) > 1 else q.name,
                    "score": round(score, 4),
                    "max_score": round(max_score, 4),
                    "output": _check_lines(checks),
                    "visibility": visibility,
                }
            )
    head = [f"{result.assignment}: {_fmt(result.points)} / {_fmt(result.max_points)} points"]
    if result.status != "graded":
        head.append(f"not graded: {result.reason}")
    head += [f"note: {n}" for n in result.notes]
    head.append("Hidden checks run on inputs you have not seen; their results are shown once grades are published.")
    return {
        "score": result.points,
        "output": "\n".join(head),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def find_notebook(folder: Path, expected_name: str) -> Path | None:
    """The submitted notebook: the one named like the assignment's, else the only/first .ipynb."""
    found = sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    for p in found:
        if p.name == expected_name:
            return p
    return found[0] if found else None


def run(root: Path, name: str, submission: Path, out: Path) -> dict:
    os.environ["DEEPGRADE_ROOT"] = str(root)
    from . import assignment as asg
    from .pipeline import grade_file

    assignment = asg.load(name, root)
    out.parent.mkdir(parents=True, exist_ok=True)
    path = find_notebook(submission, assignment.notebook.name)
    if path is None:
        data = {
            "score": 0.0,
            "output": f"No notebook (.ipynb) was found in your submission. Upload {assignment.notebook.name}.",
            "visibility": "visible",
            "stdout_visibility": "hidden",
            "tests": [
                {
                    "name": q.name,
                    "score": 0.0,
                    "max_score": q.points,
                    "output": "not graded: no notebook submitted",
                    "visibility": "visible",
                }
                for q in assignment.questions
            ],
        }
    else:
        data = results_json(grade_file(assignment, path))
    out.write_text(json.dumps(data, indent=1, default=str))
    return data


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m deepgrade.gradescope")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="grade a Gradescope submission folder into results.json")
    r.add_argument("--root", default=os.environ.get("DEEPGRADE_ROOT", "/autograder/source"))
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
