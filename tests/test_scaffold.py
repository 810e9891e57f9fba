"""`deepgrade new NAME` writes an exercise that grades as it is: the notebook filled with the
reference earns full marks, the stub 0, through the same engine as every assignment, with
no test written for it by hand. It never overwrites a file."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from deepgrade import assignment as asg
from deepgrade import notebook, scaffold
from deepgrade.cli import main
from deepgrade.pipeline import grade_file
from deepgrade.portable import wire
from deepgrade.student import make_student_copy

NAME = "dense_relu"


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("course")
    assert main(["--course", str(folder), "new", NAME]) == 0
    return folder


def test_the_scaffold_writes_every_file_of_an_exercise(course):
    want = {
        f"solutions/{NAME}.py",
        f"solutions/{NAME}_mistakes.py",
        *(f"assignments/{NAME}/{f}" for f in ("assignment.toml", "fixtures.py", "mistakes.toml", "make_notebook.py")),
        f"assignments/{NAME}/{NAME}.ipynb",
    }
    assert {p.relative_to(course).as_posix() for p in course.rglob("*") if p.is_file()} >= want
    a = asg.load(NAME, course)
    assert [q.name for q in a.questions] == [NAME] and a.mistakes == {} and a.mutants == {}
    cases = a.question(NAME).cases
    assert [c.hidden for c in cases] == [False, True]
    # the reference on the public case, by hand: x @ w + b = [[1.5, 2], [0, -4.5]], then ReLU
    np.testing.assert_array_equal(a.expected(cases[0], NAME), [[1.5, 2.0], [0.0, 0.0]])


def test_the_reference_filled_notebook_earns_full_marks_and_the_stub_none(course, tmp_path):
    a = asg.load(NAME, course)
    stub = nbformat.read(a.notebook, as_version=4)
    filled = notebook.fill(stub, {q.name: getattr(a.reference, q.name) for q in a.questions})
    nbformat.write(filled, tmp_path / "filled.ipynb")
    good = grade_file(a, tmp_path / "filled.ipynb")
    assert good.status == "graded" and good.points == good.max_points == 2, [
        (c.label, c.details) for q in good.questions for c in q.checks if not c.passed
    ]
    assert any(c.hidden for q in good.questions for c in q.checks)  # the hidden case was graded
    bad = grade_file(a, a.notebook)
    assert bad.status == "graded" and bad.points == 0


def test_the_student_copy_holds_the_public_case_only(course, tmp_path):
    a = asg.load(NAME, course)
    out = make_student_copy(a, tmp_path / NAME)
    data = json.loads((out / "_deepgrade_check" / "public.json").read_text())
    assert [c["name"] for c in data["questions"][NAME]["cases"]] == ["small"]
    body = "np.maximum(0.0, x @ w + b)"  # the reference's code
    assert body in (course / "solutions" / f"{NAME}.py").read_text()
    assert not any(body in p.read_text(errors="replace") for p in out.rglob("*") if p.is_file())
    text = (out / "_deepgrade_check" / "public.json").read_text()
    public, hidden = a.question(NAME).cases
    assert wire.encode(public.args[0])["a"] in text  # as public.json writes an array
    assert not any(wire.encode(arg)["a"] in text for arg in hidden.args)


def test_the_written_files_are_lint_clean(course):
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed")
    root = Path(__file__).resolve().parents[1]
    files = [str(p) for p in course.rglob("*.py")]
    for args in (["check"], ["format", "--check"]):
        proc = subprocess.run(
            [ruff, *args, "--config", str(root / "pyproject.toml"), *files], capture_output=True, text=True
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_new_never_overwrites_and_checks_the_name(tmp_path, capsys):
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / f"{NAME}.py").write_text("# the instructor's\n")
    assert main(["--course", str(tmp_path), "new", NAME]) == 2
    err = capsys.readouterr().err
    assert "already exists; nothing was written" in err and err.count("\n") == 1
    assert (tmp_path / "solutions" / f"{NAME}.py").read_text() == "# the instructor's\n"
    assert not (tmp_path / "assignments").exists()
    for bad in ("Dense", "1layer", "class", "a-b", "../x"):
        with pytest.raises(scaffold.ScaffoldError, match="cannot name an exercise"):
            scaffold.new_exercise(bad, tmp_path)
