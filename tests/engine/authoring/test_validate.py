"""`deepgrade validate` finds what is wrong in a course folder outside the repository, one line
per problem naming the file and the key, with exit status 1; and passes what is right (the
repository's assignments pass: test_every_assignment.py and test_catalogue.py assert its
checks one by one; a fresh `deepgrade new` exercise: test_scaffold.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from deepgrade.authoring.validate import CHECKS, validate
from deepgrade.cli import main
from deepgrade.course import assignment as asg


def _course(tmp_path: Path, name: str = "ex") -> Path:
    course = tmp_path / "course"
    assert main(["--course", str(course), "new", name]) == 0
    return course


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


def _run(course: Path, capsys, *names: str) -> tuple[int, list[str]]:
    capsys.readouterr()
    status = main(["--course", str(course), "validate", *names])
    return status, capsys.readouterr().out.splitlines()


def test_each_static_defect_is_one_line_naming_file_and_key(tmp_path, capsys):
    course = _course(tmp_path)
    folder = course / "assignments" / "ex"
    # a question with no reference (its cases exist: only the reference is missing)
    toml = folder / "assignment.toml"
    toml.write_text(toml.read_text().replace("ex = 2\n", "ex = 2\nsoftplus = 1\n"))
    # a fixture the reference cannot take (two arguments to ex(x))
    fixtures = folder / "fixtures.py"
    fixtures.write_text(
        fixtures.read_text().replace(
            '        "ex": ex_cases(),\n',
            '        "ex": ex_cases() + [Case("pair", "two arguments", (np.ones(2), np.ones(2)))],\n'
            '        "softplus": ex_cases(),\n',
        )
    )
    # mistakes: one without an implementation, one naming no function, one equal to the reference
    _append(
        folder / "mistakes.toml",
        '\n[ex_missing]\nfunction = "ex"\ntitle = "t"\nexplanation = "e"\n'
        '\n[ex_ghost]\nfunction = "exx"\ntitle = "t"\nexplanation = "e"\n'
        '\n[ex_same]\nfunction = "ex"\ntitle = "t"\nexplanation = "e"\n',
    )
    mistakes = course / "solutions" / "ex_mistakes.py"
    mistakes.write_text(
        mistakes.read_text().replace(
            "MUTANTS: dict = {}",
            "def ex_ghost(x):\n    return x\n\n\ndef ex_same(x):\n    return x**2\n\n\n"
            'MUTANTS: dict = {"ex_ghost": ex_ghost, "ex_same": ex_same}',
        )
    )
    status, lines = _run(course, capsys, "ex")
    assert status == 1
    assert sorted(lines) == sorted(
        [
            "solutions/ex.py: softplus: no function softplus, which assignments/ex/assignment.toml "
            "[questions] grades (every student would lose its points)",
            'assignments/ex/fixtures.py: cases()["ex"] "pair": the reference ex raised TypeError: '
            "ex() takes 1 positional argument but 2 were given",
            "assignments/ex/mistakes.toml: [ex_missing]: no implementation: solutions/ex_mistakes.py "
            'MUTANTS has no "ex_missing"',
            "assignments/ex/mistakes.toml: [ex_ghost] function: 'exx' is no question of "
            "assignments/ex/assignment.toml (ex, softplus)",
            "assignments/ex/mistakes.toml: [ex_same]: gives the reference's output on every case of ex: "
            "add a case that shows it",
        ]
    )


def test_a_broken_catalogue_entry_is_named_before_anything_is_loaded(tmp_path, capsys):
    course = _course(tmp_path)
    _append(course / "assignments" / "ex" / "mistakes.toml", '\n[ex_half]\ntitle = "t"\nexplanation = "e"\n')
    status, lines = _run(course, capsys)
    assert status == 1
    assert lines == ["assignments/ex/mistakes.toml: [ex_half] function: missing or empty (a string)"]


def _add_mistake(course: Path, source: str, entry: str = "") -> None:
    _append(
        course / "assignments" / "ex" / "mistakes.toml",
        f'\n[ex_plus]\nfunction = "ex"\ntitle = "one too many"\nexplanation = "Your output is one too large."\n{entry}',
    )
    mistakes = course / "solutions" / "ex_mistakes.py"
    mistakes.write_text(
        mistakes.read_text().replace("MUTANTS: dict = {}", f'{source}\n\n\nMUTANTS: dict = {{"ex_plus": ex_plus}}')
    )


# right on the hidden 4 x 5 case, wrong on the public 2 x 3 one: keeps more than half of ex
HALF_RIGHT = "def ex_plus(x):\n    return x * x + (1.0 if x.shape[0] == 2 else 0.0)"


def test_a_mistake_that_keeps_more_than_half_is_named_unless_it_says_why(tmp_path, capsys):
    course = _course(tmp_path)
    _add_mistake(course, HALF_RIGHT)
    status, lines = _run(course, capsys)
    assert status == 1
    assert len(lines) == 1 and lines[0].startswith("assignments/ex/mistakes.toml: [ex_plus]: keeps ")
    assert "of ex (at most 50%)" in lines[0] and 'keeps_more_than_half = "why"' in lines[0]
    share = validate("ex", course).context.stats["shares"]["ex_plus"]
    assert 0.5 < share < 1.0
    # the same mistake with its reason passes: the exception is data, read by validate
    course2 = _course(tmp_path / "2")
    _add_mistake(course2, HALF_RIGHT, 'keeps_more_than_half = "wrong only for two rows, which is rare"\n')
    status, lines = _run(course2, capsys)
    assert status == 0 and lines[0].startswith("ex: 1 question(s), 2 case(s), 1 mistake(s): all checks pass")


def test_a_mistake_the_feedback_does_not_name_is_found(tmp_path, capsys):
    """A mistake that raises on the public case is caught (it loses points) but can never be
    named: its output matches no student's."""
    course = _course(tmp_path)
    _add_mistake(
        course, "def ex_plus(x):\n    if x.shape[0] == 2:\n        raise ValueError('two')\n    return x + 1.0"
    )
    status, lines = _run(course, capsys)
    assert status == 1
    assert lines == [
        'solutions/ex_mistakes.py: MUTANTS["ex_plus"]: raised on case "small" of ex: ValueError: two: '
        "it must return (to be matched to a student's output)"
    ]


def test_a_stub_that_earns_points_is_found(tmp_path, capsys):
    course = _course(tmp_path)
    notebook = course / "assignments" / "ex" / "ex.ipynb"
    # the notebook's stub returns the answer (its author pasted the reference): the builder
    # check says the notebook was edited, and the sandbox check that the stub earns points
    notebook.write_text(notebook.read_text().replace("raise NotImplementedError", "return x * x"))
    status, lines = _run(course, capsys)
    assert status == 1
    assert lines[0].startswith("assignments/ex/ex.ipynb: ex: the untouched stub earns 2 (must be 0")
    assert lines[1].startswith("assignments/ex/ex.ipynb: (cells): differs from what its builder writes")
    assert len(lines) == 2


def test_validate_names_every_check_and_leaves_a_place_for_more():
    names = [name for name, _, _ in CHECKS]
    assert names == [
        "references",
        "fixtures",
        "catalogue",
        "mistakes_show",
        "uses",
        "sandbox",
        "mistakes_graded",
        "dependencies",
        "hidden",
        "notebook",
    ]


def test_an_unknown_assignment_is_a_usage_error(tmp_path, capsys):
    course = _course(tmp_path)
    assert main(["--course", str(course), "validate", "nope"]) == 2
    err = capsys.readouterr().err
    assert "no assignment named 'nope'" in err and err.count("\n") == 1


@pytest.mark.parametrize("train", [False])
def test_a_trained_assignment_says_what_it_skipped(train):
    """keras without --train: the static checks run, the sandbox checks say they were skipped."""
    from helpers import ROOT

    report = validate("keras", ROOT, train=train, only={"references", "sandbox"})
    assert report.ok, [str(p) for p in report.problems]
    assert "the sandbox checks skipped (its check models train: --train runs them)" in report.summary


def test_an_assignment_that_does_not_load_and_one_without_a_reference(tmp_path, capsys):
    course = _course(tmp_path)
    assert main(["--course", str(course), "new", "ex2"]) == 0
    (course / "solutions" / "ex.py").unlink()
    _append(course / "assignments" / "ex2" / "fixtures.py", "raise ValueError('bad')\n")
    status, lines = _run(course, capsys)
    assert status == 1
    assert lines == [
        "solutions/ex.py: ex: no such file: the reference of [questions] ex",
        "assignments/ex2/fixtures.py: (load): the fixtures failed (fixtures.py, line 26): ValueError: bad",
    ]


def test_one_worker_or_several_find_the_same(tmp_path):
    """The sandbox checks' notebooks graded one at a time (lazily) or by a pool of workers:
    the same problems, the same shares."""
    course = _course(tmp_path)
    _add_mistake(course, HALF_RIGHT)
    one, two = validate("ex", course, workers=1), validate("ex", course, workers=2)
    assert [str(p) for p in one.problems] == [str(p) for p in two.problems] and len(one.problems) == 1
    assert one.context.stats["shares"] == two.context.stats["shares"]


def test_an_exception_that_is_not_needed_is_named(tmp_path, capsys):
    """keeps_more_than_half on a mistake that keeps at most half: stale, it would hide a regression."""
    course = _course(tmp_path)
    _add_mistake(course, "def ex_plus(x):\n    return x * x + 1.0", 'keeps_more_than_half = "it was, once"\n')
    status, lines = _run(course, capsys)
    assert status == 1 and len(lines) == 1
    assert lines[0].startswith("assignments/ex/mistakes.toml: [ex_plus] keeps_more_than_half: not needed: it keeps ")


def test_uses_must_be_what_the_reference_calls(tmp_path, capsys):
    """[uses] declares what the reference's function calls, no more and no less: a part it never
    calls, and a question's function it calls undeclared, are one line each naming the toml."""
    course = _course(tmp_path)
    assert main(["--course", str(course), "new", "ex", "--function", "twice"]) == 0
    toml = course / "assignments" / "ex" / "assignment.toml"
    _append(toml, '\n[uses]\nex = ["twice"]\n')
    status, lines = _run(course, capsys, "ex")
    assert status == 1
    assert any("assignment.toml: [uses] ex: the reference's ex never calls twice" in line for line in lines), lines
    reference = course / "solutions" / "ex.py"
    reference.write_text(reference.read_text().replace("return x * x", "return twice(x) * 0 + x * x", 1))
    toml.write_text(toml.read_text().replace('\n[uses]\nex = ["twice"]\n', ""))
    asg._CACHE.clear()  # the reference changed on disk (one process per command outside tests)
    status, lines = _run(course, capsys, "ex")
    assert status == 1
    assert any("[uses] ex: the reference's ex calls twice: declare it" in line for line in lines), lines
