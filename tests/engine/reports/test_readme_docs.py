"""README statements held against the code: every graded keras question is
in the keras section, the gradebook imports behave as "Gradebook imports" says without an LMS
id, and the local Gradescope trial the README gives is a command that exists."""

from __future__ import annotations

import csv
import re
import tomllib

from test_exports import assignment, batch_rows

from deepgrade import cli
from deepgrade.reports import exports
from helpers import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = README.index(title)
    end = README.find("\n### ", start + len(title))
    return README[start : end if end > 0 else None]


def test_every_graded_keras_question_is_in_the_keras_section():
    questions = tomllib.loads((ROOT / "assignments" / "keras" / "assignment.toml").read_text())["questions"]
    section = _section("### The keras assignment")
    missing = [q for q in questions if f"`{q}`" not in section]
    assert missing == []
    # and the points it gives are the toml's (a row may group questions worth the same)
    for row in re.findall(r"^\s*\| (`[^|]+) \| ([^|]+) \|", section, re.M):
        names = re.findall(r"`(\w+)`", row[0])
        points = float(row[1].split()[0])
        assert all(questions[n] == points for n in names), row


def test_canvas_without_an_assignment_id_is_a_new_column_as_the_readme_says(tmp_path):
    subs, results = batch_rows()
    path = tmp_path / "canvas.csv"
    exports.write_canvas_csv(assignment(), subs, results, path)
    header = next(csv.reader(path.open(newline="", encoding="utf-8")))
    assert header[-1] == "cnn: CNN, part 1"  # `<name>: <title>` of the test's assignment
    assert "**without it** the column is `<name>: <title>`" in " ".join(README.split())
    exports.write_canvas_csv(assignment(canvas_assignment_id=123), subs, results, path)
    assert next(csv.reader(path.open(newline="", encoding="utf-8")))[-1] == "CNN, part 1 (123)"
    assert "the grade column is `<title> (123)`" in " ".join(README.split())


def test_rows_without_an_lms_id_are_as_the_readme_says(tmp_path):
    subs, results = batch_rows()
    canvas, moodle = tmp_path / "canvas.csv", tmp_path / "moodle.csv"
    exports.write_canvas_csv(assignment(), subs, results, canvas)
    exports.write_moodle_csv(assignment(), subs, results, moodle, now=0)
    plain = subs[1]  # a plain folder's notebook: no LMS id
    canvas_rows = {r["Student"]: r for r in csv.DictReader(canvas.open(newline="", encoding="utf-8"))}
    assert canvas_rows[plain.name]["ID"] == ""
    moodle_rows = list(csv.DictReader(moodle.open(newline="", encoding="utf-8")))
    assert [r["Identifier"] for r in moodle_rows if r["Full name"] == plain.name] == [plain.name]
    assert "(empty `ID`, their path as `Identifier`)" in " ".join(README.split())


def test_the_readmes_gradescope_trial_is_a_command():
    assert "deepgrade gradescope try autograder.zip" in " ".join(README.split())
    args = cli.parser().parse_args(["gradescope", "try", "a.zip", "nb.ipynb", "--keep", "d"])
    assert (args.zip, args.notebook, args.keep) == ("a.zip", "nb.ipynb", "d")
