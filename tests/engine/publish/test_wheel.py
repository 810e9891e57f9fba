"""Installing deepgrade as an instructor does it: build the wheel, install it into a fresh
venv (numpy and nbformat only: no matplotlib, no TensorFlow) and grade from a folder outside
the repository, the course folder given by --course, DEEPGRADE_ROOT or found by walking up;
and the README's install commands, read from its marked blocks and run as written (so this
fails when they drift)."""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from helpers import ROOT, filled_notebook

pytestmark = pytest.mark.slow  # builds a wheel and a venv: about 30 s


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "DEEPGRADE_"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Built from a clean copy of the sources, so that no stale build/ of the tree leaks in."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(ROOT / "graders", src / "graders", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"))
    for f in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / f, src / f)
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp), str(src)],
        capture_output=True,
        text=True,
        timeout=300,
        env=_env(),
    )
    assert proc.returncode == 0, proc.stderr
    (whl,) = tmp.glob("deepgrade-*.whl")
    return whl


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh venv with the wheel and its dependencies only."""
    folder = tmp_path_factory.mktemp("venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, timeout=300)
    proc = subprocess.run(
        [str(folder / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
        env=_env(),
    )
    assert proc.returncode == 0, proc.stderr
    return folder


def test_the_wheel_holds_the_engine_only(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "deepgrade/portable/worker.py" in names and "deepgrade/cli.py" in names
    assert all(n.startswith(("deepgrade/", "deepgrade-")) for n in names), names
    # no reference, no mistake catalogue, no fixtures (hidden inputs, expected values), no tests
    leaked = [
        n
        for n in names
        if n.startswith(("solutions/", "assignments/", "tests/"))
        or "_mistakes" in n
        or "fixtures" in n
        or n.endswith((".ipynb", ".npz", ".keras", ".toml"))
    ]
    assert leaked == []
    solutions = [p.read_text() for p in (ROOT / "solutions").glob("*.py")]
    with zipfile.ZipFile(wheel) as zf:
        for n in names:
            if n.endswith(".py"):
                text = zf.read(n).decode()
                assert not [s for s in solutions if s.strip() and s.strip() in text], n


def _run(venv: Path, args: list[str], cwd: Path, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(venv / "bin" / "deepgrade"), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        env={**_env(), **env},
    )


def test_installed_wheel_grades_from_outside_the_repository(venv, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    nbformat.write(filled_notebook("cnn"), outside / "ada.ipynb")
    proc = _run(venv, ["--course", str(ROOT), "grade", "cnn", "ada.ipynb", "--out", "grades", "--quiet"], outside)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    with open(outside / "grades" / "final_grades.csv", newline="", encoding="utf-8") as fh:
        rows = {r["file"]: r for r in csv.DictReader(fh)}
    # full marks, the total summed by hand from assignments/cnn/assignment.toml
    assert rows["points-per-question"]["total_points_earned"] == "22"
    assert rows["ada.ipynb"]["total_points_earned"] == "22"
    assert rows["ada.ipynb"]["grading_status"] == "completed"
    # no matplotlib in this venv: the summary is written, without its histogram, and says why
    summary = (outside / "grades" / "summary.html").read_text(encoding="utf-8")
    assert "matplotlib is not installed" in summary
    assert not (outside / "grades" / "histogram.png").exists()
    # the annotated notebook (nbconvert and the template ship with the wheel); no copydetect:
    # the summary says how to get the similarity report
    assert "dg-annotation" in (outside / "grades" / "feedback" / "ada.html").read_text(encoding="utf-8")
    assert nbformat.read(outside / "grades" / "feedback" / "ada.ipynb", as_version=4).cells[0].metadata["deepgrade"]
    assert "pip install &#x27;deepgrade[reports]&#x27;" in summary


@pytest.fixture(scope="module")
def venv_reports(wheel, tmp_path_factory) -> Path:
    """A fresh venv with the wheel and its reports extra (matplotlib, copydetect)."""
    folder = tmp_path_factory.mktemp("venv_reports") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, timeout=300)
    proc = subprocess.run(
        [str(folder / "bin" / "python"), "-m", "pip", "install", "-q", f"{wheel}[reports]"],
        capture_output=True,
        text=True,
        timeout=900,
        env=_env(),
    )
    assert proc.returncode == 0, proc.stderr
    return folder


def test_installed_wheel_with_reports_annotates_compares_and_resumes(venv_reports, tmp_path):
    """grade, then grade again (--resume): the annotated notebooks and the similarity report
    are the same, made from the submitted files; `deepgrade similarity` on the grades folder."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    for name in ("ada", "bob"):
        nbformat.write(filled_notebook("cnn"), outside / f"{name}.ipynb")
    grade = ["--course", str(ROOT), "grade", "cnn", "ada.ipynb", "bob.ipynb", "--out", "grades", "--quiet"]
    first = _run(venv_reports, grade, outside)
    assert first.returncode == 0, first.stderr
    fb = outside / "grades" / "feedback"
    pages = {p.name: p.read_bytes() for p in fb.glob("*.ipynb")}
    assert sorted(pages) == ["ada.ipynb", "bob.ipynb"]
    assert "Most alike code" in (outside / "grades" / "summary.html").read_text(encoding="utf-8")
    for p in fb.glob("*.ipynb"):
        p.unlink()
    again = _run(venv_reports, grade, outside)
    assert again.returncode == 0 and "resuming: 2 submission(s)" in again.stderr, again.stderr
    assert {p.name: p.read_bytes() for p in fb.glob("*.ipynb")} == pages
    sim = _run(venv_reports, ["--course", str(ROOT), "similarity", "cnn", "grades", "--out", "sim"], outside)
    assert sim.returncode == 0 and "Traceback" not in sim.stderr, sim.stderr
    # the same reference code in both: every compared function wholly alike
    assert sim.stdout.splitlines()[0].startswith("1.00 ") and "ada.ipynb" in sim.stdout and "bob.ipynb" in sim.stdout


def test_installed_wheel_finds_the_course_or_says_what_to_do(venv, tmp_path):
    lost = _run(venv, ["list"], tmp_path)
    assert lost.returncode == 2 and "Traceback" not in lost.stderr
    assert lost.stderr.startswith("deepgrade: error: no course folder found")
    assert "--course DIR" in lost.stderr and "DEEPGRADE_ROOT" in lost.stderr

    by_env = _run(venv, ["list"], tmp_path, DEEPGRADE_ROOT=str(ROOT))
    assert by_env.returncode == 0 and by_env.stdout.startswith("cnn ")

    walked = _run(venv, ["list"], ROOT / "assignments" / "cnn")  # a parent of the working directory
    assert walked.returncode == 0 and walked.stdout == by_env.stdout

    version = _run(venv, ["--version"], tmp_path)
    assert version.returncode == 0 and version.stdout.strip().startswith("deepgrade 0.")


def test_installed_metadata_gives_the_gradescope_requirements(venv, tmp_path):
    """An instructor's course folder has no pyproject.toml: the extras come from the metadata."""
    code = (
        "from pathlib import Path\n"
        "from deepgrade.course.requirements import requirements\n"
        "print('\\n'.join(requirements(Path('.'), 'keras', ['tf'])))\n"
    )
    proc = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, cwd=tmp_path, env=_env()
    )
    assert proc.returncode == 0, proc.stderr
    reqs = proc.stdout.split()
    assert reqs[:2] == ["numpy>=2.0", "nbformat>=5.9"]
    assert "tensorflow-cpu==2.21.0" in reqs and any(r.startswith("scikit-learn") for r in reqs)


def test_installed_wheel_exports_a_gradescope_autograder(venv, tmp_path):
    """An instructor's course folder (assignments/ and solutions/ only) and a pip-installed
    engine: the zip carries the running engine and a pyproject.toml that builds it."""
    course = tmp_path / "course"
    shutil.copytree(ROOT / "assignments" / "cnn", course / "assignments" / "cnn")
    (course / "solutions").mkdir()
    for f in ("cnn.py", "cnn_mistakes.py"):
        shutil.copy(ROOT / "solutions" / f, course / "solutions" / f)
    proc = _run(venv, ["--course", str(course), "export", "gradescope", "cnn", "-o", "ag.zip"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    with zipfile.ZipFile(tmp_path / "ag.zip") as zf:
        names = set(zf.namelist())
        zf.extractall(tmp_path / "source")
    for needed in (
        "graders/deepgrade/grading/pipeline.py",
        "graders/deepgrade/portable/worker.py",
        "solutions/cnn.py",
        "assignments/cnn/assignment.toml",
        "pyproject.toml",
        "README.md",
        "run_autograder",
        "setup.sh",
    ):
        assert needed in names, needed
    # setup.sh runs `pip install --no-deps $SOURCE`: the generated pyproject.toml must build the engine
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "w"),
            str(tmp_path / "source"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=_env(),
    )
    assert built.returncode == 0, built.stderr
    (whl,) = (tmp_path / "w").glob("deepgrade-*.whl")
    assert "deepgrade/grading/pipeline.py" in zipfile.ZipFile(whl).namelist()


# --------------------------------------------------------------------------- the README's commands


def readme_commands(tag: str) -> list[str]:
    """The shell lines of README.md's ```bash block between <!-- TAG:start ...--> and
    <!-- TAG:end -->, comments and blank lines dropped."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(rf"<!-- {tag}:start[^>]*-->\s*```bash\n(.*?)```\s*<!-- {tag}:end -->", text, re.S)
    assert m, f"README.md has no ```bash block between <!-- {tag}:start --> and <!-- {tag}:end -->"
    return [line.split("  #", 1)[0].strip() for line in m.group(1).splitlines() if line.split("  #", 1)[0].strip()]


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """A home folder holding `deepgrade/`, what a clone gives pip: the sources, pyproject.toml,
    README.md (copied clean: no build/ or egg-info of the tree)."""
    home = tmp_path_factory.mktemp("home")
    src = home / "deepgrade"
    shutil.copytree(ROOT / "graders", src / "graders", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"))
    for f in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / f, src / f)
    return home


def _shell(line: str, home: Path) -> subprocess.CompletedProcess:
    """One README line in bash, in the folder holding deepgrade/, with ~ that folder."""
    return subprocess.run(
        ["bash", "-c", line], capture_output=True, text=True, cwd=home, timeout=900, env={**_env(), "HOME": str(home)}
    )


def test_the_readme_says_deepgrade_is_not_on_pypi():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "not on PyPI" in readme
    for line in readme_commands("install") + readme_commands("wheel"):
        assert not re.search(r"pip install '?deepgrade", line), line  # PyPI has no such package


def test_readme_install_commands_work_as_written(clone):
    """Every line of the README's install block, as written; only the [keras] line gets --dry-run
    (TensorFlow and its data sets are resolved, not downloaded: about 600 MB)."""
    lines = readme_commands("install")
    assert lines[0] == "python3 -m venv ~/dg"
    assert "~/dg/bin/pip install ./deepgrade" in lines and "~/dg/bin/pip install './deepgrade[keras]'" in lines
    for line in lines:
        run = line.replace(" install ", " install --dry-run ", 1) if "[keras]" in line else line
        proc = _shell(run, clone)
        assert proc.returncode == 0, (line, proc.stdout[-2000:], proc.stderr[-2000:])
        if "[keras]" in line:  # what it would install: TensorFlow among it
            assert re.search(r"Would install .*tensorflow[-_]cpu-2\.21\.0", proc.stdout), proc.stdout[-2000:]
        if line.endswith("--version"):
            assert proc.stdout.startswith("deepgrade 0."), proc.stdout
    dg = clone / "dg" / "bin"
    # the [reports] line installed matplotlib; the plain install grades from outside the clone
    assert subprocess.run([str(dg / "python"), "-c", "import matplotlib"], env=_env()).returncode == 0
    listed = subprocess.run(
        [str(dg / "deepgrade"), "list", "--course", str(ROOT)], capture_output=True, text=True, env=_env()
    )
    assert listed.returncode == 0 and listed.stdout.startswith("cnn "), listed.stderr


def test_readme_wheel_commands_work_as_written(clone):
    """The README's wheel block, after its install block made ~/dg (the pip that builds it)."""
    if not (clone / "dg" / "bin" / "pip").exists():
        assert _shell("python3 -m venv ~/dg", clone).returncode == 0
    for line in readme_commands("wheel"):
        proc = _shell(line, clone)
        assert proc.returncode == 0, (line, proc.stdout[-2000:], proc.stderr[-2000:])
        if line.endswith("--version"):
            assert proc.stdout.startswith("deepgrade 0."), proc.stdout
    (whl,) = (clone / "dist").glob("deepgrade-*.whl")
    assert whl.name.startswith("deepgrade-") and (clone / "dg2" / "bin" / "deepgrade").exists()


def test_installed_wheel_writes_and_validates_exercises_outside_the_repository(venv, tmp_path):
    """The course author's path with the installed CLI: new, --function, notebook, validate, in a
    folder of its own; and validate on a copy of cnn, whose make_notebook.py the verb runs."""
    course = tmp_path / "course"
    course.mkdir()
    for args in (["new", "act"], ["new", "act", "--function", "act_grad"], ["notebook", "act"]):
        proc = _run(venv, args, course)
        assert proc.returncode == 0, (args, proc.stderr)
    shutil.copytree(ROOT / "assignments" / "cnn", course / "assignments" / "cnn")
    for f in ("cnn.py", "cnn_mistakes.py"):
        shutil.copy(ROOT / "solutions" / f, course / "solutions" / f)
    proc = _run(venv, ["validate"], course)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert [ln.split(":")[0] for ln in lines] == ["act", "cnn"]
    assert all(": all checks pass (" in ln for ln in lines), lines
    # a question without its reference: one line, exit 1
    toml = course / "assignments" / "act" / "assignment.toml"
    toml.write_text(toml.read_text().replace("act_grad = 2\n", "act_grad = 2\nact_hess = 1\n"))
    proc = _run(venv, ["validate", "act"], course)
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        "solutions/act.py: act_hess: no function act_hess, which assignments/act/assignment.toml "
        "[questions] grades (every student would lose its points)",
        'assignments/act/fixtures.py: cases()["act_hess"]: no case: nothing grades this question',
    ]
