"""deepgrade.portable runs outside the grader (the sandbox, the student's copy): it may
import only numpy, the standard library and its own siblings, and it is shipped whole.

Read from the source with ``ast`` (nothing is imported), so an import hidden in a
function or behind ``try`` counts too."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from deepgrade import portable, sandbox
from deepgrade.sandbox import isolation

PACKAGE = Path(portable.__file__).resolve().parent
FILES = sorted(p.name for p in PACKAGE.glob("*.py"))
SIBLINGS = {Path(name).stem for name in portable.MODULES}


def _imports(path: Path) -> list[tuple[int, int, str]]:
    """(line, relative level, top-level name) of every import in the file; a relative
    ``from . import a, b`` gives one row per name."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, 0, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level and not node.module:
                found += [(node.lineno, node.level, alias.name) for alias in node.names]
            else:
                found.append((node.lineno, node.level, (node.module or "").split(".")[0]))
    return found


def test_modules_lists_every_file_of_the_package():
    assert set(FILES) == {"__init__.py", *portable.MODULES}
    assert len(set(portable.MODULES)) == len(portable.MODULES)
    assert portable.MODULES[-1] == "worker.py"  # the sandbox runs the last one as __main__


@pytest.mark.parametrize("name", FILES)
def test_imports_only_numpy_the_standard_library_and_siblings(name):
    allowed = set(sys.stdlib_module_names) | {"numpy"}
    bad = []
    for line, level, top in _imports(PACKAGE / name):
        if level > 1 or (level == 1 and top not in SIBLINGS):
            bad.append(f"{name}:{line}: relative import {'.' * level}{top}")
        elif level == 0 and top not in allowed | SIBLINGS:
            bad.append(f"{name}:{line}: imports {top}")
    assert not bad, bad


PROBE = """
import sys
SHIPPED = ("wire", "call_runner", "compare", "student_runner")
print(sorted(m for m in SHIPPED if m in sys.modules))
import student_runner  # the sandbox's shape: no package, its siblings by their plain names
print(sorted(m for m in SHIPPED if m in sys.modules), student_runner.call_runner.wire is sys.modules["wire"])
"""


def test_the_child_imports_the_shipped_modules_by_their_plain_names():
    # isolation.BOOT with the sandbox's bundle, its __main__ (worker.py) replaced by a probe:
    # nothing runs before it is imported, and every module imports its siblings without
    # a package (the plain-import fallback)
    body = json.loads(sandbox._bundle().partition(b"\n")[2])
    body["order"][-1] = "probe.py"
    body["files"]["probe.py"] = PROBE
    del body["files"]["worker.py"]
    data = json.dumps(body).encode()
    r, w = os.pipe()
    os.write(w, str(len(data)).encode() + b"\n")
    with os.fdopen(w, "wb") as fh:  # no deadlock: the pipe is read while it is written
        proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", isolation.BOOT],
            env={"DEEPGRADE_IN": str(r), "PATH": "/usr/bin:/bin"},
            pass_fds=(r,),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        os.close(r)
        fh.write(data)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert out.splitlines() == ["[]", "['call_runner', 'compare', 'student_runner', 'wire'] True"]


def test_the_rule_catches_a_forbidden_import(tmp_path):
    # the checker itself can fail: an engine import, a third-party one, a parent-relative one
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import numpy\nfrom deepgrade import sandbox\nimport scipy\nfrom .. import cli\nfrom . import wire\n"
    )
    rows = _imports(bad)
    assert (2, 0, "deepgrade") in rows and (3, 0, "scipy") in rows and (4, 2, "cli") in rows and (5, 1, "wire") in rows


def test_the_sandbox_gets_the_whole_package_in_order():
    bundle = sandbox._bundle()
    length, _, body = bundle.partition(b"\n")
    assert int(length) == len(body)
    sent = json.loads(body)
    assert sent["order"] == list(portable.MODULES)
    assert set(sent["files"]) == set(FILES) - {"__init__.py"}
    for name, source in sent["files"].items():
        assert source == (PACKAGE / name).read_text(encoding="utf-8")


def test_the_student_copy_gets_the_whole_package(tmp_path):
    from deepgrade.course import assignment as asg
    from deepgrade.publish.student import make_student_copy
    from helpers import ROOT

    out = make_student_copy(asg.load("cnn", ROOT), tmp_path / "cnn") / "_deepgrade_check"
    assert sorted(p.name for p in out.iterdir()) == ["__init__.py", "deepgrade", "public.json"]
    # under the name it has in the grader: deepgrade/portable/, every module, byte for byte
    assert sorted(p.name for p in (out / "deepgrade").iterdir()) == ["__init__.py", "portable"]
    assert sorted(p.name for p in (out / "deepgrade" / "portable").iterdir()) == sorted(FILES)
    for name in FILES:
        assert (out / "deepgrade" / "portable" / name).read_bytes() == (PACKAGE / name).read_bytes()
