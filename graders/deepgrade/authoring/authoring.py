"""Helpers for writing assignment notebooks from the reference: stubs keep its signature
and docstring (one source of truth), never its body; and the builder ``deepgrade notebook
NAME`` runs (``built_text``): the assignment's own make_notebook.py build() if it has one,
else the generic notebook made from the reference and assignment.toml's [questions]."""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import inspect
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import nbformat


def stub(fn) -> str:
    """`def name(args):` + the reference's docstring + `raise NotImplementedError`."""
    src = textwrap.dedent(inspect.getsource(fn))
    node = ast.parse(src).body[0]
    header = src.splitlines()[node.lineno - 1 : node.body[0].lineno - 1]
    doc = ast.get_docstring(node)
    body = []
    if doc:
        body.append('    """' + doc.replace("\n", "\n    ") + '\n    """')
    body.append("    # YOUR CODE HERE")
    body.append("    raise NotImplementedError")
    return "\n".join(header + body)


def markdown(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_markdown_cell(textwrap.dedent(text).strip())


def code(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(textwrap.dedent(text).strip())


def check_cell(name: str) -> nbformat.NotebookNode:
    return code(f'grader.check("{name}")')


def new_notebook(cells: list, name: str) -> nbformat.NotebookNode:
    """The notebook of assignment ``name``; cell ids ``<name>-00``, ``<name>-01``, ... (not
    nbformat's random ones), so that rebuilding it gives the committed file byte for byte."""
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    for i, cell in enumerate(nb.cells):
        cell.id = f"{name}-{i:02d}"
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


# ---------------------------------------------------------------- building an assignment's notebook

INTRO = """
# {title}

Implement each function where it says `# YOUR CODE HERE`, then run the
`grader.check(...)` cell under it: it runs the public checks. Your grade also
uses hidden checks on other inputs, so make your functions general.
"""

SETUP = """
import numpy as np
import otter

grader = otter.Notebook()
"""

# Runs an assignment's own builder (make_notebook.py's build()) in a process of its own, with
# the course folder first on the path: it imports that course's solutions/, never another's.
_RUN_BUILDER = (
    "import runpy, sys, nbformat; sys.path.insert(0, sys.argv[1]); "
    "sys.stdout.write(nbformat.writes(runpy.run_path(sys.argv[2])['build']()))"
)


class BuildError(Exception):
    """The notebook cannot be built; the message names the file and says why."""


def generic_notebook(name: str, title: str, reference: ModuleType, questions: list[str]) -> nbformat.NotebookNode:
    """The notebook of an assignment without a builder of its own: an introduction, the setup
    cell, then per question (in [questions] order) a heading, the stub (the reference's
    signature and docstring) and its grader.check cell, and grader.check_all() at the end."""
    cells = [markdown(INTRO.format(title=title)), code(SETUP)]
    for q in questions:
        cells += [markdown(f"## {q}"), code(stub(getattr(reference, q))), check_cell(q)]
    cells += [
        markdown("## Check everything\n\nRun every public check once more before you submit."),
        code("grader.check_all()"),
    ]
    return new_notebook(cells, name)


def _import_reference(name: str, path: Path) -> ModuleType:
    """solutions/<name>.py imported under a private module name (another course's may be loaded)."""
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:10]
    spec = importlib.util.spec_from_file_location(f"_deepgrade_reference_{name}_{digest}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and inspect look modules up by name
    spec.loader.exec_module(module)
    return module


def builder(name: str, root: Path) -> Path | None:
    """The assignment's own builder, if it has one: assignments/<name>/instructor/make_notebook.py
    (a folder that separates instructor-only files, like keras), else assignments/<name>/make_notebook.py."""
    folder = Path(root) / "assignments" / name
    return next(
        (s for s in (folder / "instructor" / "make_notebook.py", folder / "make_notebook.py") if s.is_file()), None
    )


def built_text(name: str, root: Path) -> str:
    """The notebook of assignment ``name`` of the course ``root`` as its builder writes it (the
    text of the .ipynb file): make_notebook.py's build() if the folder has one, else
    generic_notebook from solutions/<name>.py and assignment.toml."""
    from ..course.assignment import AssignmentError, read_contract

    root = Path(root).resolve()
    script = builder(name, root)
    if script is not None:
        env = dict(os.environ)
        engine = str(Path(__file__).resolve().parents[2])  # this deepgrade, wherever it is installed
        env["PYTHONPATH"] = os.pathsep.join(p for p in (engine, env.get("PYTHONPATH", "")) if p)
        proc = subprocess.run(
            [sys.executable, "-c", _RUN_BUILDER, str(root), str(script)],
            capture_output=True,
            text=True,
            cwd=root,
            env=env,
            timeout=600,
        )
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
            raise BuildError(f"{script}: build() failed: {last}")
        text = proc.stdout
    else:
        try:
            checked, _ = read_contract(name, root)
        except (KeyError, AssignmentError) as exc:
            raise BuildError(str(exc.args[0] if isinstance(exc, KeyError) else exc)) from None
        path = root / "solutions" / f"{name}.py"
        if not path.is_file():
            raise BuildError(f"{path}: no such file (the reference, whose functions the stubs copy)")
        try:
            reference = _import_reference(name, path)
        except Exception as exc:  # noqa: BLE001 - the author's file
            raise BuildError(f"{path}: cannot be imported: {type(exc).__name__}: {exc}") from None
        missing = [q for q in checked.questions if not callable(getattr(reference, q, None))]
        if missing:
            raise BuildError(f"{path}: no function {', '.join(missing)} ([questions] of {checked.file})")
        text = nbformat.writes(generic_notebook(name, checked.title, reference, list(checked.questions)))
    return text if text.endswith("\n") else text + "\n"


def write_notebook(name: str, root: Path) -> Path:
    """Rebuild assignments/<name>/<notebook> (assignment.toml's ``notebook``); returns its path."""
    from ..course.assignment import read_contract

    text = built_text(name, root)
    checked, _ = read_contract(name, root)
    out = Path(root) / "assignments" / name / checked.notebook
    out.write_text(text, encoding="utf-8")
    return out
