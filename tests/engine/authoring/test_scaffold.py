"""`deepgrade new NAME` writes every file of an exercise, lint clean, named and documented after
NAME, and never overwrites one; `deepgrade new NAME --function F` adds a question to it;
`deepgrade notebook NAME` rebuilds its notebook. That it grades as it is (the notebook filled
with the reference earns full marks, the stub 0, the rebuilt notebook is the written one), with
no test written for it by hand, is checked by test_every_assignment.py, which runs
`deepgrade validate`'s checks of every assignment on it."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from deepgrade.authoring import scaffold
from deepgrade.cli import main
from deepgrade.course import assignment as asg
from deepgrade.portable import wire
from deepgrade.publish.student import make_student_copy
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
        *(f"assignments/{NAME}/{f}" for f in ("assignment.toml", "fixtures.py", "mistakes.toml")),
        f"assignments/{NAME}/{NAME}.ipynb",
    }
    assert {p.relative_to(course).as_posix() for p in course.rglob("*") if p.is_file()} >= want
    a = asg.load(NAME, course)
    assert [q.name for q in a.questions] == [NAME] and a.mistakes == {} and a.mutants == {}
    assert a.max_points == 2
    cases = a.question(NAME).cases
    assert [c.hidden for c in cases] == [False, True]
    # the placeholder reference (x * x) on the public case [[1, -2, 0.5], [0, 3, -1.5]], by hand
    np.testing.assert_array_equal(a.expected(cases[0], NAME), [[1.0, 4.0, 0.25], [0.0, 9.0, 2.25]])
    assert not (course / "assignments" / NAME / "make_notebook.py").exists()  # no builder of its own


def test_the_student_copy_holds_the_public_case_only(course, tmp_path):
    a = asg.load(NAME, course)
    out = make_student_copy(a, tmp_path / NAME)
    data = json.loads((out / "_deepgrade_check" / "public.json").read_text())
    assert [c["name"] for c in data["questions"][NAME]["cases"]] == ["small"]
    body = "return x * x  # a placeholder"  # the reference's code
    assert body in (course / "solutions" / f"{NAME}.py").read_text()
    assert not any(body in p.read_text(errors="replace") for p in out.rglob("*") if p.is_file())
    text = (out / "_deepgrade_check" / "public.json").read_text()
    public, hidden = a.question(NAME).cases
    assert wire.encode(public.args[0])["a"] in text  # as public.json writes an array
    assert not any(wire.encode(arg)["a"] in text for arg in hidden.args)


def _assert_lint_clean(files: list[str]) -> None:
    """ruff check and ruff format --check pass on these files, with the project's settings."""
    if importlib.util.find_spec("ruff") is None:
        pytest.skip("ruff is not installed")
    root = Path(__file__).resolve().parents[3]
    for args in (["check"], ["format", "--check"]):
        proc = subprocess.run(
            [sys.executable, "-m", "ruff", *args, "--config", str(root / "pyproject.toml"), *files],
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_written_files_are_lint_clean(course):
    _assert_lint_clean([str(p) for p in course.rglob("*.py")])


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


def _stubs(notebook: Path) -> list[str]:
    """The names of the functions the notebook's code cells define, in order."""
    import ast

    nb = json.loads(notebook.read_text())
    return [
        n.name
        for c in nb["cells"]
        if c["cell_type"] == "code"
        for n in ast.parse("".join(c["source"])).body
        if isinstance(n, ast.FunctionDef)
    ]


def test_new_names_and_documents_the_function_after_the_exercise(tmp_path, capsys):
    assert main(["--course", str(tmp_path), "new", "sigmoid"]) == 0
    text = (tmp_path / "solutions" / "sigmoid.py").read_text()
    assert "\ndef sigmoid(x):\n" in text  # one argument, whatever the name
    a = asg.load("sigmoid", tmp_path)
    assert a.reference.sigmoid.__doc__.startswith("sigmoid(x): REPLACE")
    assert "dense" not in text.lower() and "relu" not in text.lower()
    assert _stubs(tmp_path / "assignments" / "sigmoid" / "sigmoid.ipynb") == ["sigmoid"]
    assert "deepgrade validate sigmoid" in capsys.readouterr().out


def test_function_adds_a_question_that_grades(tmp_path, capsys):
    assert main(["--course", str(tmp_path), "new", "act"]) == 0
    assert main(["--course", str(tmp_path), "new", "act", "--function", "act_grad"]) == 0
    a = asg.load("act", tmp_path)
    assert [q.name for q in a.questions] == ["act", "act_grad"]
    assert [c.hidden for c in a.question("act_grad").cases] == [False, True]
    assert callable(a.reference.act_grad) and a.reference.act_grad.__doc__.startswith("act_grad(x)")
    notebook = tmp_path / "assignments" / "act" / "act.ipynb"
    assert _stubs(notebook) == ["act", "act_grad"]
    assert 'grader.check(\\"act_grad\\")' in notebook.read_text()
    capsys.readouterr()
    # the whole exercise passes validate, the sandbox checks included
    assert main(["--course", str(tmp_path), "validate", "act"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("act: 2 question(s), 4 case(s), 0 mistake(s): all checks pass")
    # the files it changed are lint clean too
    _assert_lint_clean([str(p) for p in tmp_path.rglob("*.py")])


def test_function_into_a_fixtures_file_of_another_shape(tmp_path):
    """A fixtures.py whose cases() is not one dict literal, without numpy imported: cases() is
    wrapped, and the new cases import what they use."""
    assert main(["--course", str(tmp_path), "new", "odd"]) == 0
    fixtures = tmp_path / "assignments" / "odd" / "fixtures.py"
    fixtures.write_text(
        "from deepgrade.course import assignment\n\n\n"
        "def cases():\n"
        '    out = {"odd": [assignment.Case("one", "one", ([[2.0]],)),\n'
        '                   assignment.Case("h", "h", ([[3.5, 1.25]],), hidden=True)]}\n'
        "    return out\n"
    )
    assert main(["--course", str(tmp_path), "new", "odd", "--function", "even"]) == 0
    a = asg.load("odd", tmp_path)
    assert [q.name for q in a.questions] == ["odd", "even"]
    assert [c.name for c in a.question("odd").cases] == ["one", "h"]
    assert [c.name for c in a.question("even").cases] == ["small", "hidden_4x5"]


def test_function_refuses_what_it_cannot_do_and_changes_nothing(tmp_path, capsys):
    assert main(["--course", str(tmp_path), "new", "act"]) == 0
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    for argv, said in (
        (["new", "nope", "--function", "f"], "no exercise 'nope'"),
        (["new", "act", "--function", "act"], "already a question"),
        (["new", "act", "--function", "Bad-name"], "cannot name a function"),
    ):
        capsys.readouterr()
        assert main(["--course", str(tmp_path), *argv]) == 2
        err = capsys.readouterr().err
        assert said in err and err.count("\n") == 1, err
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_function_in_an_exercise_with_its_own_builder_says_what_to_add(tmp_path, capsys):
    assert main(["--course", str(tmp_path), "new", "act"]) == 0
    script = tmp_path / "assignments" / "act" / "make_notebook.py"
    script.write_text(
        "from deepgrade.authoring.authoring import check_cell, code, new_notebook, stub\n"
        "from solutions import act\n\n\n"
        "def build():\n"
        '    return new_notebook([code(stub(act.act)), check_cell("act")], "act")\n'
    )
    assert main(["--course", str(tmp_path), "notebook", "act"]) == 0
    assert "built by" in capsys.readouterr().out
    notebook = tmp_path / "assignments" / "act" / "act.ipynb"
    assert len(json.loads(notebook.read_text())["cells"]) == 2  # the builder's, not the generic one
    assert main(["--course", str(tmp_path), "new", "act", "--function", "act2"]) == 0
    out = capsys.readouterr().out
    assert f"add the cells of act2 to {script}" in out
    assert _stubs(notebook) == ["act"]  # its builder is the author's: not rebuilt behind their back


def test_notebook_rebuilds_what_was_edited_and_validate_says_so_before(tmp_path, capsys):
    assert main(["--course", str(tmp_path), "new", "act"]) == 0
    notebook = tmp_path / "assignments" / "act" / "act.ipynb"
    built = notebook.read_bytes()
    notebook.write_text(notebook.read_text().replace("YOUR CODE HERE", "your code here"))
    capsys.readouterr()
    assert main(["--course", str(tmp_path), "validate", "act"]) == 1
    out = capsys.readouterr().out
    assert out == (
        "assignments/act/act.ipynb: (cells): differs from what its builder writes: deepgrade notebook act "
        "rebuilds it (edit the reference's docstrings or the builder, not the notebook)\n"
    )
    assert main(["--course", str(tmp_path), "notebook", "act"]) == 0
    assert notebook.read_bytes() == built
    assert main(["--course", str(tmp_path), "notebook", "nope"]) == 2


def test_the_readme_walks_a_new_exercise_to_validate(tmp_path, monkeypatch, capsys):
    """Every `deepgrade` command of README "Add an exercise", run as written in an empty folder
    outside the repository: each succeeds, and the path ends with deepgrade validate passing."""
    import shlex

    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    section = readme[readme.index("### Add an exercise") :]
    block = section[section.index("```bash") + len("```bash") : section.index("```\n", section.index("```bash") + 7)]
    commands = [ln.split("#")[0].strip() for ln in block.splitlines() if ln.startswith("deepgrade ")]
    assert any(c.startswith("deepgrade validate") for c in commands)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DEEPGRADE_ROOT", raising=False)
    for command in commands:
        capsys.readouterr()
        assert main(shlex.split(command)[1:]) == 0, (command, capsys.readouterr())
        if command.startswith("deepgrade validate"):
            assert "all checks pass" in capsys.readouterr().out
    assert (tmp_path / "dist" / "activations" / "activations.ipynb").is_file()


def test_function_with_questions_written_another_way(tmp_path, capsys):
    """[ questions ] with a comment is found; an inline table is refused with a clear line and
    nothing changed."""
    assert main(["--course", str(tmp_path), "new", "act"]) == 0
    toml = tmp_path / "assignments" / "act" / "assignment.toml"
    toml.write_text(toml.read_text().replace("[questions]\n", "[ questions ]  # points\n"))
    assert main(["--course", str(tmp_path), "new", "act", "--function", "act2"]) == 0
    assert asg.read_contract("act", tmp_path)[0].questions == {"act": 2, "act2": 2}

    assert main(["--course", str(tmp_path), "new", "inline"]) == 0
    toml = tmp_path / "assignments" / "inline" / "assignment.toml"
    text = toml.read_text().replace("[questions]\ninline = 2\n", "")
    toml.write_text("questions = { inline = 2 }\n" + text)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    capsys.readouterr()
    assert main(["--course", str(tmp_path), "new", "inline", "--function", "f"]) == 2
    err = capsys.readouterr().err
    assert "no [questions] table to add f to" in err and err.count("\n") == 1
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before
