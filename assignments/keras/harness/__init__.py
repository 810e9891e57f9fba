"""The programs the keras questions run in the sandbox (and in grader.check's kernel).

Each file is a real module: a harness defines ``run(namespace, *args)``, which builds the
student's model from ``namespace`` (the notebook's names), trains it with the grader's data,
seeds and budget, and returns plain values (arrays, numbers, strings, dicts of them); it imports
what it shares with the others from ``common.py`` (``from .common import fit_model, ...``) and
``generate.py`` its fixed model from ``generate_model.py``.

A case sends ``program(...)``: a short program that installs the files it names as the modules
of a package ``deepgrade_harness`` (in the sandbox there is no folder to import from: the call
runner receives text) and defines ``run`` as the last one's. So the harness imports its helpers
as modules, in the sandbox and in grader.check alike; nothing is joined as text.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE = "deepgrade_harness"  # the package the harness modules are installed as where they run

BOOT = """import sys as _sys
import types as _types

_package = _types.ModuleType({package!r})
_package.__path__ = []  # a package: its modules are installed below, not searched for
_sys.modules[{package!r}] = _package
for _name, _source in {sources!r}:
    _module = _types.ModuleType({package!r} + "." + _name)
    _module.__package__ = {package!r}
    _sys.modules[_module.__name__] = _module
    setattr(_package, _name, _module)
    exec(compile(_source, "<deepgrade harness/" + _name + ".py>", "exec"), _module.__dict__)
run = _module.run
"""


def text(name: str) -> str:
    """The source of harness/<name>.py."""
    return (HERE / f"{name}.py").read_text(encoding="utf-8")


def program(*names: str) -> str:
    """The program a case sends: it installs harness/<name>.py for each of ``names`` (the modules
    a harness imports first, e.g. "common", "digits") and runs as the last one's ``run``."""
    return BOOT.format(package=PACKAGE, sources=[(name, text(name)) for name in names])
