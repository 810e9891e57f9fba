"""``deepgrade new NAME``: a new exercise that already grades, in the course folder; and
``deepgrade new NAME --function F``: one more function (question) in an existing exercise.

``new NAME`` writes (and refuses to overwrite any of them):

    solutions/NAME.py                  the reference: one function, NAME(x), a placeholder
    solutions/NAME_mistakes.py         the mistake catalogue's implementations (none yet)
    assignments/NAME/assignment.toml   the contract (contract.py): title, points, limits
    assignments/NAME/fixtures.py       a public and a hidden case per function (inputs only)
    assignments/NAME/mistakes.toml     the catalogue's explanations (none yet)
    assignments/NAME/NAME.ipynb        built from the reference (authoring.built_text)

``new NAME --function F`` adds F to solutions/NAME.py, ``F_cases()`` to fixtures.py (and to
``cases()``), ``F = 2`` to [questions], and rebuilds the notebook (the assignment's own
make_notebook.py, if it has one, must be given F's cells by hand: it is its author's).

The exercise passes ``deepgrade validate NAME`` as written (tests/engine/authoring/test_scaffold.py); the
README's "Add an exercise" says how to grow it into a real one.
"""

from __future__ import annotations

import ast
import keyword
import os
import re
import tomllib
from pathlib import Path

from .. import settings

NAME_RULE = "a lowercase Python name: a letter, then letters, digits or _ (e.g. attention)"


class ScaffoldError(Exception):
    """The exercise cannot be written; the message says why (nothing was written)."""


REFERENCE = '''"""The reference solution of the {name} assignment. Never given to students.

Every function here is one question (assignment.toml [questions]); the notebook's stubs
are built from their signatures and docstrings (deepgrade notebook {name}). Check each one
against an independent implementation (a library, a hand calculation, a numerical gradient).
"""

from __future__ import annotations
'''

FUNCTION = '''

def {function}(x):
    """{function}(x): REPLACE this docstring and the body with what {function} computes.
    Students read this docstring above their stub: say what to compute and the shapes.

    x: an array, shape (n, d).
    Returns an array of shape (n, d).
    """
    return x * x  # a placeholder computation: replace it
'''

MISTAKES = '''"""The {name} assignment's catalogue of realistic wrong implementations.

Each function is one mistake: its name is the mistake's id in assignments/{name}/mistakes.toml,
its signature that of the function it replaces. The grader runs every mistake on every
fixture; when a student's output equals a mistake's, the feedback names it. Example:

    def {name}_cubed(x):
        return x * x * x

    MUTANTS = {{"{name}_cubed": {name}_cubed}}
"""

from __future__ import annotations

MUTANTS: dict = {{}}
'''

TOML = """# The {name} assignment (the keys: graders/deepgrade/course/contract.py; README "Add an exercise").
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
ones (hidden=True) only in the grade, drawn from a fixed seed, on other shapes."""

from __future__ import annotations

import numpy as np

from deepgrade.course.assignment import Case, seeded


def cases() -> dict[str, list[Case]]:
    """Every question's cases, by function name."""
    return {{
        "{name}": {name}_cases(),
    }}
'''

CASES = '''

def {function}_cases() -> {returns}:
    """{function}: a public case (grader.check shows it) and a hidden one on another shape."""
{imports}    rng = seeded({seed})
    return [
        Case("small", "2 x 3 values", (np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.5]]),)),
        Case("hidden_4x5", "4 x 5 random values", (rng.normal(size=(4, 5)),), hidden=True),
    ]
'''

# inside F_cases when the fixtures file does not bind these names itself
CASES_IMPORTS = """    import numpy as np

    from deepgrade.course.assignment import Case, seeded

"""

MISTAKES_TOML = '''# The {name} assignment's mistake catalogue: what students read when their output equals
# what that mistake produces. Implementations: solutions/{name}_mistakes.py (same ids).
# A mistake wrong only on unusual inputs may keep more than half of its question if its
# entry says why (keeps_more_than_half = "..."). Example:
#
# [{name}_cubed]
# function = "{name}"
# title = "cubed instead of squared"
# explanation = """
# Your output is x * x * x: square x instead."""
'''


def course_for_new(course: Path | str | None = None) -> Path:
    """Where ``deepgrade new`` writes: --course DIR, else DEEPGRADE_ROOT, else the nearest
    course folder from the working directory, else the working directory itself (a new
    course). Never the source checkout deepgrade runs from."""
    from ..course.assignment import is_course

    given = course or settings.get("DEEPGRADE_ROOT")
    if given:
        return Path(given).expanduser().resolve()
    here = Path.cwd().resolve()
    return next((p for p in (here, *here.parents) if is_course(p)), here)


def _seed(name: str) -> int:
    return 20260000 + sum(map(ord, name)) % 10000  # fixed per name: the same fixtures every run


def _check_name(name: str, what: str = "an exercise") -> None:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name) or keyword.iskeyword(name):
        raise ScaffoldError(f"{name!r} cannot name {what}: use {NAME_RULE}")


def files(name: str) -> dict[str, str]:
    """Relative path -> text of every file of a new exercise (the notebook is built after)."""
    fill = {"name": name, "function": name, "seed": _seed(name), "imports": "", "returns": "list[Case]"}
    return {
        f"solutions/{name}.py": REFERENCE.format(**fill) + FUNCTION.format(**fill),
        f"solutions/{name}_mistakes.py": MISTAKES.format(**fill),
        f"assignments/{name}/assignment.toml": TOML.format(**fill),
        f"assignments/{name}/fixtures.py": FIXTURES.format(**fill) + CASES.format(**fill),
        f"assignments/{name}/mistakes.toml": MISTAKES_TOML.format(**fill),
    }


def _build(name: str, course: Path) -> Path:
    from .authoring import BuildError, write_notebook

    try:
        return write_notebook(name, course)
    except BuildError as exc:
        raise ScaffoldError(str(exc)) from None


def new_exercise(name: str, course: Path) -> list[Path]:
    """Write a new exercise into ``course`` and build its notebook; returns the files written.
    Raises ScaffoldError (nothing written) for a bad name or a file that exists."""
    _check_name(name)
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
    return [*written, _build(name, course)]


def _top_level_names(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def _add_to_cases(text: str, function: str, path: Path) -> str:
    """fixtures.py with ``"function": function_cases(),`` added to the dict cases() returns
    (as deepgrade new writes it), else with cases() wrapped to add it."""
    tree = ast.parse(text)
    fn = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "cases"), None)
    if fn is None:
        raise ScaffoldError(f"{path}: no function cases() to add {function}'s cases to")
    last = fn.body[-1]
    lines = text.splitlines(keepends=True)
    if isinstance(last, ast.Return) and isinstance(last.value, ast.Dict) and last.value.end_lineno > last.lineno:
        # the closing brace is on a line of its own: the new entry goes just above it
        close = last.value.end_lineno - 1
        indent = " " * (len(lines[close - 1]) - len(lines[close - 1].lstrip())) if close > last.lineno else "        "
        if last.value.keys and not lines[close - 1].rstrip().endswith((",", "{")):
            lines[close - 1] = lines[close - 1].rstrip("\n").rstrip() + ",\n"
        lines.insert(close, f'{indent}"{function}": {function}_cases(),\n')
        return "".join(lines)
    return text + (
        f"\n\n_cases_before_{function} = cases\n\n\n"
        "def cases() -> dict:\n"
        f'    """The cases above, and {function}\'s."""\n'
        f'    return {{**_cases_before_{function}(), "{function}": {function}_cases()}}\n'
    )


def _add_question(text: str, function: str, path: Path) -> str:
    """assignment.toml with ``function = 2`` as the last entry of [questions]."""
    lines = text.splitlines(keepends=True)
    start = next(
        (i for i, ln in enumerate(lines) if re.fullmatch(r"\s*\[\s*questions\s*\]\s*(#.*)?", ln.rstrip("\n"))), None
    )
    if start is None:
        raise ScaffoldError(f"{path}: no [questions] table to add {function} to")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
    last = max(i for i in range(start, end) if lines[i].strip() and not lines[i].lstrip().startswith("#"))
    if not lines[last].endswith("\n"):
        lines[last] += "\n"
    lines.insert(last + 1, f"{function} = 2\n")
    return "".join(lines)


def add_function(name: str, function: str, course: Path) -> list[Path]:
    """Add the question ``function`` to the exercise ``name`` of ``course``: its reference
    (placeholder), its cases, its [questions] entry, its notebook cell. Returns the files
    changed. Raises ScaffoldError, having changed nothing, when it cannot."""
    from ..course.assignment import available

    _check_name(function, "a function")
    course = Path(course)
    if name not in available(course):
        raise ScaffoldError(f"no exercise {name!r} in {course / 'assignments'} (deepgrade new {name} makes one)")
    reference = course / "solutions" / f"{name}.py"
    fixtures = course / "assignments" / name / "fixtures.py"
    toml = course / "assignments" / name / "assignment.toml"
    for path in (reference, fixtures):
        if not path.is_file():
            raise ScaffoldError(f"{path}: no such file")
    questions = tomllib.loads(toml.read_text(encoding="utf-8")).get("questions", {})
    ref_text, fix_text = reference.read_text(encoding="utf-8"), fixtures.read_text(encoding="utf-8")
    try:
        ref_tree, fix_tree = ast.parse(ref_text), ast.parse(fix_text)
    except SyntaxError as exc:
        raise ScaffoldError(f"{exc.filename or 'a file'}: line {exc.lineno}: {exc.msg}") from None
    if function in questions or function in _top_level_names(ref_tree):
        raise ScaffoldError(f"{function} is already a question of {name} or a function of {reference}")
    if f"{function}_cases" in _top_level_names(fix_tree):
        raise ScaffoldError(f"{fixtures} already defines {function}_cases")
    fill = {
        "function": function,
        "seed": _seed(function),
    }
    if {"np", "Case", "seeded"} <= _top_level_names(fix_tree):
        fill |= {"imports": "", "returns": "list[Case]"}
    else:  # no annotation naming Case: without `from __future__ import annotations` it is evaluated
        fill |= {"imports": CASES_IMPORTS, "returns": "list"}
    new_texts = {
        reference: ref_text.rstrip("\n") + "\n" + FUNCTION.format(**fill),
        fixtures: _add_to_cases(fix_text, function, fixtures).rstrip("\n") + "\n" + CASES.format(**fill),
        toml: _add_question(toml.read_text(encoding="utf-8"), function, toml),
    }
    if function not in tomllib.loads(new_texts[toml]).get("questions", {}):  # a layout the text edit missed
        raise ScaffoldError(f"{toml}: could not add {function} = 2 to [questions]; nothing was changed")
    for path, text in new_texts.items():
        path.write_text(text, encoding="utf-8")
    from .authoring import builder

    if builder(name, course) is not None:
        return list(new_texts)  # its own make_notebook.py: the caller says what to add there
    return [*new_texts, _build(name, course)]
