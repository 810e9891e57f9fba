"""``deepgrade new NAME``: a new exercise that already grades, in the course folder.

Writes (and refuses to overwrite any of them):

    solutions/NAME.py                  the reference: one function, NAME(x, w, b)
    solutions/NAME_mistakes.py         the mistake catalogue's implementations (none yet)
    assignments/NAME/assignment.toml   the contract (contract.py): title, points, limits
    assignments/NAME/fixtures.py       a public and a hidden case (inputs only)
    assignments/NAME/mistakes.toml     the catalogue's explanations (none yet)
    assignments/NAME/make_notebook.py  builds the notebook from the reference (authoring.py)
    assignments/NAME/NAME.ipynb        built by running make_notebook.py

The reference-filled notebook earns full marks and the stub 0 (tests/test_scaffold.py);
the README's "Add an exercise" says how to grow it into a real one.
"""

from __future__ import annotations

import keyword
import os
import re
import subprocess
import sys
from pathlib import Path

from . import settings

NAME_RULE = "a lowercase Python name: a letter, then letters, digits or _ (e.g. attention)"


class ScaffoldError(Exception):
    """The exercise cannot be written; the message says why (nothing was written)."""


REFERENCE = '''"""The reference solution of the {name} assignment. Never given to students.

Every function here is one question (assignment.toml [questions]); the notebook's stubs
are built from their signatures and docstrings (make_notebook.py). Check each one against
an independent implementation (a library, a hand calculation, a numerical gradient).
"""

from __future__ import annotations

import numpy as np


def {name}(x, w, b):
    """A dense layer followed by ReLU: max(0, x @ w + b).

    x: inputs, shape (n, d); w: weights, shape (d, k); b: biases, shape (k,).
    Returns an array of shape (n, k).
    """
    return np.maximum(0.0, x @ w + b)
'''

MISTAKES = '''"""The {name} assignment's catalogue of realistic wrong implementations.

Each function is one mistake: its name is the mistake's id in assignments/{name}/mistakes.toml,
its signature that of the function it replaces. The grader runs every mistake on every
fixture; when a student's output equals a mistake's, the feedback names it. Example:

    def {name}_no_relu(x, w, b):
        return x @ w + b

    MUTANTS = {{"{name}_no_relu": {name}_no_relu}}
"""

from __future__ import annotations

MUTANTS: dict = {{}}
'''

TOML = """# The {name} assignment (the keys: graders/deepgrade/contract.py; README "Add an exercise").
title = "{name}"
notebook = "{name}.ipynb"

# points per question: one question per function of solutions/{name}.py, in notebook order
[questions]
{name} = 2

# time per notebook cell, per call of a student function, for the whole submission; memory
[limits]
cell_seconds = 20
call_seconds = 5
total_seconds = 120
memory_gb = 2
"""

FIXTURES = '''"""Fixtures of the {name} assignment: inputs only (the grader computes every expected
value from the reference). Public cases are shown to students in grader.check; hidden
ones (hidden=True) only in the grade, drawn from a fixed seed."""

from __future__ import annotations

import numpy as np

from deepgrade.assignment import Case, seeded


def cases() -> dict[str, list[Case]]:
    rng = seeded({seed})
    x = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])
    w = np.array([[1.0, 0.0], [0.5, -1.0], [2.0, 1.0]])
    b = np.array([0.5, -0.5])
    return {{
        "{name}": [
            Case("small", "2 samples, 3 inputs, 2 units", (x, w, b)),
            Case(
                "hidden_5x4x3",
                "5 samples, 4 inputs, 3 units",
                (rng.normal(size=(5, 4)), rng.normal(size=(4, 3)), rng.normal(size=3)),
                hidden=True,
            ),
        ]
    }}
'''

MISTAKES_TOML = """# The {name} assignment's mistake catalogue: what students read when their output equals
# what that mistake produces. Implementations: solutions/{name}_mistakes.py (same ids).
# Example:
#
# [{name}_no_relu]
# function = "{name}"
# title = "ReLU left out"
# explanation = \"\"\"
# Your output has negative values: apply ReLU, max(0, z), to x @ w + b.\"\"\"
"""

MAKE_NOTEBOOK = '''"""Build assignments/{name}/{name}.ipynb: the stubs come from the reference's signatures
and docstrings, so the notebook cannot drift from the student API.

    python assignments/{name}/make_notebook.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "graders")]

from deepgrade.authoring import check_cell, code, markdown, new_notebook, stub  # noqa: E402
from solutions import {name} as reference  # noqa: E402


def build() -> nbformat.NotebookNode:
    cells = [
        markdown(
            """
            # Assignment: {name}

            Implement each function where it says `# YOUR CODE HERE`, then run the
            `grader.check(...)` cell under it: it runs the public checks. Your grade also
            uses hidden checks on other inputs, so make your functions general.
            """
        ),
        code(
            """
            import numpy as np
            import otter

            grader = otter.Notebook()
            """
        ),
        markdown("## {name}"),
        code(stub(reference.{name})),
        check_cell("{name}"),
        markdown("## Check everything\\n\\nRun every public check once more before you submit."),
        code("grader.check_all()"),
    ]
    return new_notebook(cells, "{name}")


if __name__ == "__main__":
    out = Path(__file__).with_name("{name}.ipynb")
    nbformat.write(build(), out)
    print(f"wrote {{out}}")
'''


def course_for_new(course: Path | str | None = None) -> Path:
    """Where ``deepgrade new`` writes: --course DIR, else DEEPGRADE_ROOT, else the nearest
    course folder from the working directory, else the working directory itself (a new
    course). Never the source checkout deepgrade runs from."""
    from .assignment import is_course

    given = course or settings.get("DEEPGRADE_ROOT")
    if given:
        return Path(given).expanduser().resolve()
    here = Path.cwd().resolve()
    return next((p for p in (here, *here.parents) if is_course(p)), here)


def files(name: str) -> dict[str, str]:
    """Relative path -> text of every file of a new exercise (the notebook is built after)."""
    seed = 20260000 + sum(map(ord, name)) % 10000  # fixed per name: the same fixtures every run
    fill = {"name": name, "seed": seed}
    return {
        f"solutions/{name}.py": REFERENCE.format(**fill),
        f"solutions/{name}_mistakes.py": MISTAKES.format(**fill),
        f"assignments/{name}/assignment.toml": TOML.format(**fill),
        f"assignments/{name}/fixtures.py": FIXTURES.format(**fill),
        f"assignments/{name}/mistakes.toml": MISTAKES_TOML.format(**fill),
        f"assignments/{name}/make_notebook.py": MAKE_NOTEBOOK.format(**fill),
    }


def new_exercise(name: str, course: Path) -> list[Path]:
    """Write a new exercise into ``course`` and build its notebook; returns the files written.
    Raises ScaffoldError (nothing written) for a bad name or a file that exists."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name) or keyword.iskeyword(name):
        raise ScaffoldError(f"{name!r} cannot name an exercise: use {NAME_RULE}")
    course = Path(course)
    texts = files(name)
    targets = [course / rel for rel in texts] + [course / "assignments" / name]
    existing = [str(p) for p in targets if os.path.lexists(p)]
    if existing:
        raise ScaffoldError(f"{existing[0]} already exists; nothing was written (choose another name)")
    written = []
    for rel, text in texts.items():
        path = course / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    make = course / "assignments" / name / "make_notebook.py"
    proc = subprocess.run([sys.executable, str(make)], capture_output=True, text=True, cwd=course, timeout=300)
    notebook = course / "assignments" / name / f"{name}.ipynb"
    if proc.returncode != 0 or not notebook.is_file():
        raise ScaffoldError(f"{make} failed: {proc.stderr.strip().splitlines()[-1:] or proc.returncode}")
    return [*written, notebook]
