"""Shared test helpers: notebooks filled from the reference or from a catalogued mistake."""

from __future__ import annotations

import importlib
import os
import shutil
import zipfile
from pathlib import Path

import nbformat

from deepgrade.authoring.validate import _formatted, _numbers, hidden_expected_strings, hidden_leaks  # noqa: F401 - written once, in validate
from deepgrade.course import assignment as asg
from deepgrade.grading import notebook, pipeline

ROOT = Path(__file__).resolve().parents[2]
NEW_EXERCISE = "dense_relu"  # the exercise `deepgrade new` writes for the tests (conftest.new_course)


def reference_functions(name: str) -> dict:
    """Every question's function from solutions/<name>.py, by name."""
    a = asg.load(name, ROOT)
    return {q.name: getattr(a.reference, q.name) for q in a.questions}


def filled_notebook(name: str, overrides: dict | None = None) -> nbformat.NotebookNode:
    """The student notebook with every stub filled from the reference, then ``overrides``
    (function name -> function or source) applied on top."""
    a = asg.load(name, ROOT)
    nb = nbformat.read(a.notebook, as_version=4)
    nb = notebook.fill(nb, reference_functions(name))
    if overrides:
        nb = notebook.fill(nb, overrides)
    return nb


def mutant_notebook(name: str, mistake_id: str) -> nbformat.NotebookNode:
    a = asg.load(name, ROOT)
    m = a.mistakes[mistake_id]
    return filled_notebook(name, {m.function: a.mutants[mistake_id]})


def grade_notebook(
    name: str, nb: nbformat.NotebookNode, tmp_path: Path, filename: str = "submission.ipynb"
) -> pipeline.SubmissionResult:
    path = Path(tmp_path) / filename
    nbformat.write(nb, path)
    return pipeline.grade_file(asg.load(name, ROOT), path)


def question(result: pipeline.SubmissionResult, name: str):
    return next(q for q in result.questions if q.name == name)


def diagnoses(qresult) -> set[str]:
    return {d for c in qresult.checks for d in c.diagnosis}


def keras_module(name: str, root: Path = ROOT):
    """A module of the keras folder as the grader imports it (``"check.budgets"``, ``"fixtures"``,
    ``"harness.common"``): the real module, never a re-export."""
    return importlib.import_module(f"{asg.load('keras', root).fixtures.__package__}.{name}")


def solutions_module(name: str):
    return importlib.import_module(f"solutions.{name}")


def unpack_autograder(zip_path: Path, folder: Path) -> Path:
    """A Gradescope autograder zip laid out as Gradescope lays it out: folder/autograder with
    source/ (the zip, modes restored), submission/ and run_autograder beside source/."""
    root = folder / "autograder"
    (root / "source").mkdir(parents=True)
    (root / "submission").mkdir()
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(root / "source")
        for info in zf.infolist():  # zipfile does not restore modes
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(root / "source" / info.filename, mode)
    # Gradescope copies run_autograder to /autograder/run_autograder
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    return root


def numpy_assignments(root: Path = ROOT) -> list[str]:
    """Every assignment under root/assignments graded by calling its functions: not one whose
    cases run a harness (build and train the student's model), graded by its own tests."""
    out = []
    for name in asg.available(root):
        a = asg.load(name, root)
        if not any(c.harness for q in a.questions for c in q.cases):
            out.append(name)
    return out


def readable_copy(dest: Path, parts: list[str], root: Path = ROOT) -> Path:
    """Copy ``parts`` (paths relative to root) into dest with folders 0755 and files 0644
    (0755 when executable): a course any user can read, wherever this clone lies (a clone
    in a folder of mode 0700 is readable by nobody else). Caches and virtual environments
    are left out. Returns dest."""
    skip = shutil.ignore_patterns(".venv", ".git", "__pycache__", ".ruff_cache", "*.egg-info", "build")
    for part in parts:
        src, to = root / part, dest / part
        to.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, to, ignore=skip)
        else:
            shutil.copy2(src, to)
    for folder, _dirs, files in os.walk(dest):
        os.chmod(folder, 0o755)
        for f in files:
            p = os.path.join(folder, f)
            os.chmod(p, 0o755 if os.stat(p).st_mode & 0o100 else 0o644)
    return dest


# The start of a program run as `python - COPY_PARENT ...`: the student's kernel, where deepgrade
# is not installed and the only `deepgrade` is the copy's own `_deepgrade_check/deepgrade/portable/`
# (any other deepgrade import fails), with the copy's parent first on sys.path.
ONLY_THE_COPY = r"""
import importlib.machinery
import sys

COPY = sys.argv[1] + "/_deepgrade_check"


class OnlyTheCopy:
    def find_spec(self, name, path=None, target=None):
        if name != "deepgrade" and not name.startswith("deepgrade."):
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, [COPY] if name == "deepgrade" else path)
        if spec is None or not (spec.origin or "").startswith(COPY):
            raise ModuleNotFoundError(name)
        return spec


sys.meta_path.insert(0, OnlyTheCopy())
sys.path.insert(0, sys.argv[1])
"""
