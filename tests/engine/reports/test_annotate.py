"""Feedback inside the student's notebook (annotate.py): each note after the cell that defines
its function, whatever the student did to the cells; hostile notebook text shown as text,
never run (a real browser loads the pages); built from the file as submitted, also on --resume."""

from __future__ import annotations

import base64
import html.parser
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from deepgrade.batch import run as batch
from deepgrade.course import assignment as asg
from deepgrade.grading.results import QuestionResult, SubmissionResult, attachment
from deepgrade.portable.feedback import Check, format_question
from deepgrade.reports import annotate

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "support"))
from helpers import ROOT, filled_notebook, mutant_notebook  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC")

# Student text that would run or inject markup if it were not escaped. The markers are built
# by the scripts (PW + NED), so they appear in the page only if a script ran.
SCRIPT = "<script>document.body.setAttribute('data-x', 'PW' + 'NED')</script>"
IMG = "<img src=x onerror=\"document.body.setAttribute('data-y', 'ON' + 'ERROR')\">"
LINK = "[click](javascript:document.body.setAttribute('data-z','CL'+'ICK'))"


def _notes(nb) -> list[tuple[int, str]]:
    return [
        (i, c.metadata[annotate.MARK]["annotation"])
        for i, c in enumerate(nb.cells)
        if annotate.MARK in c.get("metadata", {})
    ]


def _result(names: list[str]) -> SubmissionResult:
    qs = []
    for n in names:
        checks = [Check(f"shape on case {k}", True, 1.0) for k in range(5)] + [
            Check("values on case 1", False, 2.0, ["at row 0: expected 1, got 2", "Your kernel is flipped."], ["flip"])
        ]
        qs.append(QuestionResult(n, 1.0, 3.0, checks))
    return SubmissionResult("alice.ipynb", "cnn", qs)


def test_notes_follow_the_defining_cell_whatever_the_student_did():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# my notebook"),
        nbformat.v4.new_code_cell("def g(x):\n    return 1\n\ndef f(x):\n    return 2"),  # two in one cell, reordered
        nbformat.v4.new_code_cell("%matplotlib inline\ndef h(x):\n    return 0"),  # a magic before it
        nbformat.v4.new_code_cell("def h(x):\n    return 3"),  # redefined: the last definition counts
        nbformat.v4.new_code_cell("x = " + "(" * 5000 + ")" * 5000),  # too deep for the parser
        nbformat.v4.new_code_cell("def k(:\n"),  # not Python
        nbformat.v4.new_code_cell("y = 1\n" * 40_000),  # huge
    ]
    result = _result(["f", "g", "h", "missing"])
    out = annotate.annotated_notebook(result, nb, {"flip": ("kernel flipped", "You flipped it.")}, "a.report.html")
    notes = _notes(out)
    assert notes[0] == (0, "summary")
    # the student's cells in their order, each note right after its defining cell
    sources = [c.source for c in out.cells if annotate.MARK not in c.metadata]
    assert sources[: len(nb.cells)] == [c.source for c in nb.cells]
    index = {key: i for i, key in notes}
    two_in_one = next(i for i, c in enumerate(out.cells) if c.source.startswith("def g"))
    assert index["f"] == two_in_one + 1 and index["g"] == two_in_one + 2  # question order within a cell
    redefined = next(i for i, c in enumerate(out.cells) if c.source == "def h(x):\n    return 3")
    assert index["h"] == redefined + 1
    assert index["missing"] > index["h"] and out.cells[index["missing"] - 1].source == "## Functions no cell defines"
    # what the note says: points, the failing check in the flat report's words, passes in one line
    note = out.cells[index["f"]].source
    assert "`f` &mdash; 1 / 3 points" in note
    for line in format_question("f", 1.0, 3.0, [result.questions[0].checks[-1]])[1:]:
        assert line.strip() in note
    assert "5 of 6 checks passed" in note and "shape on case 0" not in note
    assert "Likely mistake: kernel flipped" in note and "You flipped it." in note
    assert "Fix first:** `f`" in out.cells[0].source
    assert "`missing`: no cell defines it" not in out.cells[0].source  # f comes first


def test_student_metadata_outputs_and_forged_notes_are_dropped():
    nb = filled_notebook("cnn")
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.outputs = [nbformat.v4.new_output("display_data", {"text/html": SCRIPT})]
    code.metadata = {"tags": ['"><script>x</script>'], annotate.MARK: {"annotation": "summary"}}
    a = asg.load("cnn", ROOT)
    result = SubmissionResult("x.ipynb", "cnn", [QuestionResult(q.name, 0.0, q.points, []) for q in a.questions])
    out = annotate.annotated_notebook(result, nb, {}, "x.report.html")
    assert [key for _, key in _notes(out)] == ["summary", *[q.name for q in a.questions]]  # the forged one is gone
    assert all(c.get("outputs", []) == [] and c.get("execution_count") is None for c in out.cells)
    assert SCRIPT not in json.dumps(out)


def test_pictures_are_cell_attachments_and_reach_the_page():
    checks = [Check("trains", True, 1.0, attachments=[attachment("curves <b>x</b>", PNG)])]
    result = SubmissionResult("x.ipynb", "keras", [QuestionResult("fit", 1.0, 1.0, checks)])
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("def fit():\n    pass")]
    out = annotate.annotated_notebook(result, nb, {}, "x.report.html")
    note = out.cells[2]
    assert note.attachments == {"fit-1.png": {"image/png": base64.b64encode(PNG).decode()}}
    page = annotate.render_html(out, set(), "t")
    assert f"data:image/png;base64,{base64.b64encode(PNG).decode()}" in page
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page


def test_a_huge_cell_is_shown_cut_and_quickly():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("def f(x):\n    return 2\n" + "y = [1, 2, 3]  # <b>\n" * 200_000)]
    out = annotate.annotated_notebook(_result(["f"]), nb, {}, "a.report.html")
    assert out.cells[1].source == nb.cells[0].source  # the notebook keeps it whole
    page = annotate.render_html(out, set(), "t")  # pygments on 4 MB would take minutes
    assert "a cell of 4,200,023 characters; the first 20,000 are shown" in page
    assert len(page) < 200_000 and "# <b>" not in page and "# &lt;b&gt;" in page


# --------------------------------------------------------------------------- a batch, in a browser


def _hostile_notebook() -> nbformat.NotebookNode:
    nb = mutant_notebook("cnn", "flipped_kernel")
    nb.cells.insert(1, nbformat.v4.new_markdown_cell(f"My notes {SCRIPT} {IMG}\n\n{LINK}\n\n<b>bold</b> a < b & c"))
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.outputs = [
        nbformat.v4.new_output("display_data", {"text/html": SCRIPT, "application/javascript": "alert(1)"}),
        nbformat.v4.new_output("stream", name="stdout", text=IMG),
    ]
    code.metadata["tags"] = ['"><script>alert(1)</script>']
    nb.cells.append(nbformat.v4.new_raw_cell(SCRIPT))
    # the student moved conv2d's cell to the end and deleted relu's
    i = next(i for i, c in enumerate(nb.cells) if c.source.startswith("def conv2d("))
    nb.cells.append(nb.cells.pop(i))
    nb.cells = [c for c in nb.cells if not c.source.startswith("def relu(")]
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("annotate")
    a = asg.load("cnn", ROOT)
    for name, nb in (("good", filled_notebook("cnn")), ("mallory", _hostile_notebook())):
        (tmp / "class" / name).mkdir(parents=True)
        nbformat.write(nb, tmp / "class" / name / "cnn.ipynb")
    subs, results = batch.grade_paths(a, [str(tmp / "class")], tmp / "out", workers=2, progress=False)
    return a, tmp, {s.stem: r for s, r in zip(subs, results)}


def test_batch_writes_the_annotated_notebook_and_keeps_the_flat_report(graded):
    a, tmp, results = graded
    fb = tmp / "out" / "feedback"
    for stem in ("good_cnn", "mallory_cnn"):
        for suffix in (".ipynb", ".html", ".report.html", ".txt", ".json"):
            assert (fb / f"{stem}{suffix}").is_file(), stem + suffix
        nb = nbformat.read(fb / f"{stem}.ipynb", as_version=4)
        assert [k for _, k in _notes(nb)][0] == "summary"
        assert sorted(k for _, k in _notes(nb)) == sorted(["summary", *(q.name for q in a.questions)])
    nb = nbformat.read(fb / "mallory_cnn.ipynb", as_version=4)
    notes = dict((k, i) for i, k in _notes(nb))
    assert nb.cells[notes["conv2d"] - 1].source.startswith("def conv2d(")  # moved cell: note follows it
    assert nb.cells[notes["relu"] - 1].source == "## Functions no cell defines"  # deleted: at the end
    assert "Likely mistake: kernel flipped" in nb.cells[notes["conv2d_single"]].source
    flat = (fb / "mallory_cnn.report.html").read_text()
    assert "values on" in flat and "dg-annotation" not in flat


def _dom(page: Path, profile: Path) -> str:
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
         "--disable-background-networking", "--disable-component-update", f"--user-data-dir={profile}",
         "--virtual-time-budget=3000", "--dump-dom", page.as_uri()],
        check=True, capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    return proc.stdout


class _Elements(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_annotated_page_in_a_browser_has_every_note_runs_nothing_and_escapes_student_text(graded, tmp_path):
    a, tmp, results = graded
    dom = _dom(tmp / "out" / "feedback" / "mallory_cnn.html", tmp_path / "profile")
    assert "PWNED" not in dom and "ONERROR" not in dom and "CLICK" not in dom  # no script ran
    parsed = _Elements()
    parsed.feed(dom)
    text = "".join(parsed.text)
    assert not [t for t, _ in parsed.tags if t in ("script", "iframe", "object", "embed")]
    assert not [(t, k) for t, attrs in parsed.tags for k in attrs if k.startswith("on")]
    assert not [attrs for t, attrs in parsed.tags if t == "a" and "javascript" in attrs.get("href", "")]
    assert not [attrs for t, attrs in parsed.tags if t == "img" and not attrs.get("src", "").startswith("data:")]
    # the student's text is there, as text
    assert SCRIPT in text and IMG in text and "<b>bold</b> a < b & c" in text
    # every note, with the points the grade gave
    r = results["mallory_cnn"]
    notes = [attrs for t, attrs in parsed.tags if "dg-annotation" in attrs.get("class", "")]
    assert len(notes) == len(a.questions) + 1
    for q in r.questions:
        assert f"deepgrade: {q.name} — {q.points:g} / {q.max_points:g} points" in text, q.name
    assert f"deepgrade feedback: {r.points:g} / {r.max_points:g} points" in text
    # the failing checks in the flat report's words (hidden ones as the grade policy shows them)
    assert any(c.hidden and not c.passed for q in r.questions for c in q.checks)
    for q in r.questions:
        for line in format_question(q.name, q.points, q.max_points, [c for c in q.checks if not c.passed])[1:]:
            assert line.strip() in text, line


def test_resume_rebuilds_the_annotated_notebooks_from_the_submissions(graded):
    a, tmp, _ = graded
    fb = tmp / "out" / "feedback"
    before = {p.name: p.read_bytes() for p in fb.glob("*.ipynb")}
    for p in fb.glob("*.ipynb"):
        p.unlink()
    (fb / "good_cnn.html").unlink()
    subs, results = batch.grade_paths(a, [str(tmp / "class")], tmp / "out", workers=1, progress=False)
    assert {p.name: p.read_bytes() for p in fb.glob("*.ipynb")} == before  # same notes, nothing regraded
    assert "dg-annotation" in (fb / "good_cnn.html").read_text()
