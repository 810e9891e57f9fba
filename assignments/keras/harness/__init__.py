"""The programs the keras questions run in the sandbox (and in grader.check's kernel).

Each file is a harness: Python source defining ``run(namespace, *args)``, which builds the
student's model from ``namespace`` (the notebook's names), trains it with the grader's data,
seeds and budget, and returns plain values (arrays, numbers, strings, dicts of them).
The harnesses are never imported: ``program(...)`` reads files as text, joined in order, and a
case sends that text to the sandbox, where it runs as one program: ``common.py`` (the helpers
every harness shares: _fit, _layers, _history, _write, ...) and then the harness. A harness
names those helpers under ``if TYPE_CHECKING:`` so that ruff checks it as a real file while
nothing is imported at run time.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent


def text(name: str) -> str:
    """The source of harness/<name>.py."""
    return (HERE / f"{name}.py").read_text(encoding="utf-8")


def program(*names: str) -> str:
    """The program a case sends: the files ``names`` (e.g. "common", "digits"), in order."""
    return "\n\n".join(text(name) for name in names)
