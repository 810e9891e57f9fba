"""The similarity report (similarity.py): disguised copies rank above honest pairs on a
synthetic class of independent implementations (tests/support/similarity_class.py); starter code and
hostile cells are no evidence and no crash; the command works on submissions and on a
grades folder alike; grades never change."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import nbformat
import pytest

from deepgrade import cli
from deepgrade.batch import run as batch
from deepgrade.course import assignment as asg
from deepgrade.reports import similarity

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "support"))
from similarity_class import build_class, evaluate, rename_variables, restyle  # noqa: E402

from helpers import ROOT, filled_notebook  # noqa: E402

pytest.importorskip("copydetect")


@pytest.mark.parametrize("name", ["cnn", "rnn", "gated"])
def test_every_disguised_copy_ranks_in_the_top_twice_the_number_of_copies(name):
    students, copied = build_class(name, seed=0)
    assert len(students) >= 40 and len(copied) == 8
    report = similarity.compare(asg.load(name, ROOT), [(who, who, nb) for who, nb in students])
    numbers = evaluate(report, copied)
    assert numbers["recall_top_2c"] == 1.0, numbers
    assert numbers["recall_top_c"] >= 0.75, numbers
    assert numbers["student_pairs_ranked"] > 4 * len(copied)  # honest pairs were ranked too


def test_the_disguises_change_the_text_but_not_the_score():
    a = asg.load("cnn", ROOT)
    import random

    src = filled_notebook("cnn")
    copy = filled_notebook("cnn")
    code = similarity.function_code(src, ["conv2d"])[0]["conv2d"][0]
    disguised = restyle(rename_variables(code, random.Random(1)), random.Random(2))
    assert disguised != code and "window" not in disguised  # renamed, restyled
    nbformat.validate(copy)
    from deepgrade.grading import notebook

    notebook.replace_function(copy, "conv2d", disguised)
    report = similarity.compare(a, [("ann", "ann", src), ("bob", "bob", copy)])
    (pair,) = report.functions["conv2d"]
    assert pair.score == 1.0


def test_starter_code_and_hostile_cells_are_no_evidence_and_no_crash():
    a = asg.load("cnn", ROOT)
    stub = nbformat.read(a.notebook, as_version=4)
    hostile = nbformat.read(a.notebook, as_version=4)
    hostile.cells += [
        nbformat.v4.new_code_cell("def conv2d(x):\n    return " + "(" * 3000 + "1" + ")" * 3000),  # parser refuses
        nbformat.v4.new_code_cell("def relu(x):\n    return " + " + ".join(["x"] * 1000)),  # parses, too deep to print
        nbformat.v4.new_code_cell("def dense(x):\n    return x\n" + "#" * 300_000),  # too long to parse
        nbformat.v4.new_code_cell("def softmax(:"),
        nbformat.v4.new_code_cell("\n".join("    " * i + f"if x{i}:" for i in range(120)) + "\n" + "    " * 120 + "y"),
    ]
    subs = [("stub1", "stub1", stub), ("stub2", "stub2", nbformat.read(a.notebook, as_version=4))]
    report = similarity.compare(a, subs + [("mal", "mal", hostile)])
    assert report.ranked() == []  # two untouched stubs are not "alike": nobody wrote anything
    assert report.skipped == ["mal: relu: too deeply nested to compare"]
    assert all(n == 0 for n in report.compared.values())  # the stubs and the refused cells: no code


def test_student_text_in_the_report_is_escaped(tmp_path):
    a = asg.load("cnn", ROOT)
    evil = '"""</pre><script>alert(1)</script>"""'
    nbs = []
    for who in ("ann", "bob"):
        nb = filled_notebook("cnn")
        cell = next(c for c in nb.cells if c.source.startswith("def conv2d("))
        cell.source = cell.source.replace("    xp = zero_pad", f"    {evil}\n    xp = zero_pad", 1)
        cell.source = cell.source.replace('"""Multi', '# </pre><img src=x onerror=alert(1)>\n    """Multi', 1)
        nbs.append((who, f"{who}<b>", nb))
    report = similarity.compare(a, nbs)
    similarity.write(report, tmp_path, "cnn")
    page = (tmp_path / "similarity.html").read_text()
    assert "<script" not in page and "<img" not in page and "<b>" not in page
    assert "&lt;/pre&gt;&lt;script&gt;" in page  # shown, as text, in the code as written
    data = json.loads((tmp_path / "similarity.json").read_text())
    assert data["functions"]["conv2d"]["pairs"][0]["score"] == 1.0


def _class(folder: Path) -> None:
    """Four students: bob copied ann's conv2d (renamed), cat and dan wrote their own."""
    import random

    from similarity_class import conv2d_im2col, conv2d_loops

    from deepgrade.grading import notebook

    ann = filled_notebook("cnn")
    code = similarity.function_code(ann, ["conv2d"])[0]["conv2d"][0]
    bob = filled_notebook("cnn", {"conv2d": rename_variables(code, random.Random(0), keep_args=True)})
    cat = filled_notebook("cnn", {"conv2d": notebook.function_source(conv2d_loops, rename="conv2d")})
    dan = filled_notebook("cnn", {"conv2d": notebook.function_source(conv2d_im2col, rename="conv2d")})
    for who, nb in (("ann", ann), ("bob", bob), ("cat", cat), ("dan", dan)):
        (folder / who).mkdir(parents=True)
        nbformat.write(nb, folder / who / "cnn.ipynb")


def test_command_on_submissions_and_on_the_grades_folder_agree_and_grades_do_not_change(tmp_path, capsys):
    _class(tmp_path / "class")
    a = asg.load("cnn", ROOT)
    subs, results = batch.grade_paths(a, [str(tmp_path / "class")], tmp_path / "grades", workers=2, progress=False)
    points = {s.stem: r.points for s, r in zip(subs, results)}
    assert points["ann_cnn"] == points["bob_cnn"] == a.max_points  # a copy keeps its grade
    summary_page = (tmp_path / "grades" / "summary.html").read_text()
    assert "Most alike code" in summary_page and "similarity.html#" in summary_page
    # every pair the summary links to is shown in similarity.html (everyone shares the
    # reference's other functions: many pairs of 1.0, more than the ten shown per function)
    links = re.findall(r"similarity\.html#([\w-]+)", summary_page)
    ids = set(re.findall(r"<details id='([\w-]+)'>", (tmp_path / "grades" / "similarity.html").read_text()))
    assert len(links) == 6 and set(links) <= ids, (links, ids)

    root = ["--course", str(ROOT)]
    assert cli.main([*root, "similarity", "cnn", str(tmp_path / "class"), "--out", str(tmp_path / "s1")]) == 0
    first = capsys.readouterr().out.splitlines()
    assert cli.main([*root, "similarity", "cnn", str(tmp_path / "grades"), "--out", str(tmp_path / "s2")]) == 0
    second = capsys.readouterr().out.splitlines()
    assert first and [ln.split()[:2] for ln in first] == [ln.split()[:2] for ln in second]  # same scores, functions
    for out in ("s1", "s2", "grades"):
        conv = json.loads((tmp_path / out / "similarity.json").read_text())["functions"]["conv2d"]
        # everyone filled the other functions from the same reference; conv2d: only ann and bob alike
        assert conv["compared"] == 4
        top = conv["pairs"][0]
        assert top["score"] == 1.0 and {top["a"], top["b"]} == {"ann/cnn.ipynb", "bob/cnn.ipynb"}, out
        assert all(p["score"] < 0.9 for p in conv["pairs"][1:]), conv["pairs"]
    assert (tmp_path / "grades" / "similarity.html").is_file()


def test_command_errors_are_one_line(tmp_path, capsys):
    root = ["--course", str(ROOT)]
    assert cli.main([*root, "similarity", "cnn", str(tmp_path / "nope")]) == 2
    assert capsys.readouterr().err.startswith("deepgrade: error: no such file or folder")
    grades = tmp_path / "g"
    (grades / "results").mkdir(parents=True)
    (grades / "feedback").mkdir()
    (grades / "results" / "x.json").write_text("{not json")
    assert cli.main([*root, "similarity", "cnn", str(grades), str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "grades folder" in capsys.readouterr().err
    assert cli.main([*root, "similarity", "cnn", str(grades), "--out", str(tmp_path / "o")]) == 0
    assert "x.json: not a stored result" in (tmp_path / "o" / "similarity.html").read_text()
