"""The students' install line (README "For students") is complete: "Restart & Run All" of every
numpy student copy runs to the end in a venv holding exactly that list (plus ipykernel, the part
of Jupyter that runs a notebook, which the README says students bring), executed with nbclient,
both as handed out (stubs) and with the reference functions filled in. The keras list is checked
statically: every module the keras notebook and its shipped check code import is provided by a
package of the list or their dependencies (a venv with TensorFlow is ~600 MB)."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import nbformat
import pytest

from deepgrade import cli
from helpers import ROOT, filled_notebook, numpy_assignments

pytestmark = pytest.mark.slow  # builds a venv from PyPI and runs six notebooks: a few minutes


def student_lists() -> dict[str, list[str]]:
    """{"cnn, rnn, gated": [...], "keras": [...]}: the README block's `pip install` lines by
    their comment (the assignments they are for)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(r"<!-- student-install:start[^>]*-->\s*```bash\n(.*?)```\s*<!-- student-install:end -->", text, re.S)
    assert m, "README.md has no student-install block"
    out = {}
    for line in m.group(1).splitlines():
        command, _, comment = line.partition("#")
        words = command.split()
        assert words[:2] == ["pip", "install"], line
        out[comment.strip()] = words[2:]
    return out


def _list_for(name: str) -> list[str]:
    (packages,) = [p for who, p in student_lists().items() if name in [w.strip() for w in who.split(",")]]
    return packages


def test_the_readme_has_a_list_for_every_assignment():
    named = [w.strip() for who in student_lists() for w in who.split(",")]
    assignments = sorted(p.parent.name for p in (ROOT / "assignments").glob("*/assignment.toml"))
    assert sorted(named) == assignments


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "DEEPGRADE_", "JUPYTER"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


@pytest.fixture(scope="module")
def numpy_venv(tmp_path_factory) -> Path:
    """A fresh venv with the numpy assignments' list and ipykernel, nothing else."""
    folder = tmp_path_factory.mktemp("student") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, timeout=300)
    packages = {tuple(_list_for(n)) for n in numpy_assignments()}
    assert len(packages) == 1, packages  # one line for all numpy assignments
    proc = subprocess.run(
        [str(folder / "bin" / "python"), "-m", "pip", "install", "-q", *packages.pop(), "ipykernel"],
        capture_output=True,
        text=True,
        timeout=1200,
        env=_env(),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    # exactly that list: not deepgrade, not TensorFlow
    for absent in ("deepgrade", "tensorflow", "keras"):
        probe = subprocess.run(
            [str(folder / "bin" / "python"), "-c", f"import {absent}"], capture_output=True, env=_env()
        )
        assert probe.returncode != 0, absent
    return folder


RUN_ALL = """
import sys
import nbformat
from nbclient import NotebookClient

nb = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": sys.argv[2]}}).execute()
nbformat.write(nb, sys.argv[1])
"""


@pytest.mark.parametrize("filled", [False, True], ids=["handed-out", "filled"])
@pytest.mark.parametrize("name", numpy_assignments())
def test_restart_and_run_all_with_exactly_the_readme_list(numpy_venv, name, filled, tmp_path):
    out = tmp_path / "dist"
    assert cli.main(["--course", str(ROOT), "student", name, "--out", str(out)]) == 0
    copy = out / name
    meta = tomllib.loads((ROOT / "assignments" / name / "assignment.toml").read_text())
    notebook = copy / meta.get("notebook", f"{name}.ipynb")
    if filled:
        nbformat.write(filled_notebook(name), notebook)
    env = {**_env(), "HOME": str(tmp_path), "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [str(numpy_venv / "bin" / "python"), "-c", RUN_ALL, str(notebook), str(copy)],
        capture_output=True,
        text=True,
        cwd=copy,
        timeout=1800,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]  # nbclient raises on the first cell that fails
    nb = json.loads(notebook.read_text())
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join("".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert "No module named" not in text
    last = [c for c in nb["cells"] if c["cell_type"] == "code"][-1]
    assert "grader.check_all()" in "".join(last["source"]) and last["outputs"], "the last cell ran"


# --------------------------------------------------------------------------- keras, statically


def _imports(source: str) -> set[str]:
    """Top-level modules a piece of Python needs: absolute imports, not those in a try whose
    except catches ImportError (the shipped check code falls back to its siblings there) nor
    under `if TYPE_CHECKING:`."""
    tree = ast.parse(source)
    guarded = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try):
            caught = {ast.unparse(h.type) for h in node.handlers if h.type is not None}
            if caught & {"ImportError", "ModuleNotFoundError", "(ImportError, ModuleNotFoundError)"}:
                guarded |= {id(sub) for stmt in node.body for sub in ast.walk(stmt)}
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            guarded |= {id(sub) for stmt in node.body for sub in ast.walk(stmt)}  # never run
    found = set()
    for node in ast.walk(tree):
        if id(node) in guarded:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def _provided(packages: list[str]) -> set[str]:
    """Import names of the packages and everything they require (this environment's metadata)."""
    from packaging.requirements import Requirement

    def norm(n: str) -> str:
        return re.sub(r"[-_.]+", "-", n).lower()

    seen: set[str] = set()
    todo = [norm(p) for p in packages]
    while todo:
        dist = todo.pop()
        if dist in seen:
            continue
        seen.add(dist)
        for line in metadata.requires(dist) or []:
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(norm(req.name))
    modules = {m for m, dists in metadata.packages_distributions().items() if {norm(d) for d in dists} & seen}
    return modules


def test_keras_notebook_imports_only_what_its_list_installs():
    pytest.importorskip("tensorflow")  # the list's metadata is read from this environment
    folder = ROOT / "assignments" / "keras"
    meta = tomllib.loads((folder / "assignment.toml").read_text())
    nb = json.loads((folder / meta["notebook"]).read_text())
    needed = set()
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            source = "".join(cell["source"])
            source = "\n".join(ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!")))
            needed |= _imports(source)
    shipped = [p for pattern in meta["student_files"] for p in folder.glob(pattern) if p.suffix == ".py"]
    assert len(shipped) > 5  # the check code grader.check runs in the student's kernel
    for path in shipped:
        needed |= _imports(path.read_text())
    local = {p.stem for p in shipped} | {p.parent.name for p in shipped if p.parent != folder}  # the copy's own
    local.add("deepgrade")  # the copy ships deepgrade.portable under that name (tests/engine/portable/test_portable.py)
    needed -= set(sys.stdlib_module_names) | local
    assert {"tensorflow", "keras", "otter", "numpy"} <= needed  # what the notebook is known to import
    missing = needed - _provided(_list_for("keras"))
    assert missing == set(), f"the keras notebook imports {missing}, which the README's keras list does not install"
