"""`deepgrade new NAME` writes every file of an exercise, lint clean, and never overwrites one.
That it grades as it is (the notebook filled with the reference earns full marks, the stub 0,
the rebuilt notebook is the written one), with no test written for it by hand, is checked by
test_every_assignment.py, which runs the checks of every assignment on it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from deepgrade import assignment as asg
from deepgrade import scaffold
from deepgrade.cli import main
from deepgrade.portable import wire
from deepgrade.student import make_student_copy
from helpers import NEW_EXERCISE

NAME = NEW_EXERCISE


@pytest.fixture(scope="module")
def course(new_course) -> Path:
    """The course `deepgrade new dense_relu` wrote (conftest.py): test_every_assignment.py
    grades it like every assignment, reference notebook and stubs through the sandbox."""
    return new_course


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
    assert a.max_points == 2
    cases = a.question(NAME).cases
    assert [c.hidden for c in cases] == [False, True]
    # the reference on the public case, by hand: x @ w + b = [[1.5, 2], [0, -4.5]], then ReLU
    np.testing.assert_array_equal(a.expected(cases[0], NAME), [[1.5, 2.0], [0.0, 0.0]])


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
