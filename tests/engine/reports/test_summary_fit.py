"""summary.html fits the window at common widths (1200, 1366, 1920 px) in headless Chromium,
with long names, paths and reasons and the similarity section, and links each graded
student's annotated notebook (and the flat list beside it)."""

from __future__ import annotations

import html.parser
import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from deepgrade.grading.intake import Submission
from deepgrade.grading.results import QuestionResult, SubmissionResult
from deepgrade.reports import summary
from deepgrade.reports.similarity import Entry, Pair, Report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
LONG = "Maximiliana_Wolfeschlegelsteinhausenbergerdorff_" * 3
QUESTIONS = [SimpleNamespace(name=f"a_rather_long_function_name_{i}", points=2.0) for i in range(6)]


def _page(tmp_path: Path) -> Path:
    a = SimpleNamespace(
        name="cnn", title="CNN", max_points=12.0, questions=QUESTIONS, contract=None, mistakes={}, notebook=Path("x")
    )
    subs, results = [], []
    (tmp_path / "feedback").mkdir()
    for i in range(12):
        stem = f"{LONG}{i}"
        sub = Submission(
            str(10**12 + i), f"{LONG} {i}", f"export.zip:{LONG}{i}/deeply/nested/folder/{LONG}.ipynb", Path("x"),
            stem=stem, layout="moodle",
        )  # fmt: skip
        graded = i % 3 != 2
        r = SubmissionResult(
            sub.source, "cnn", [QuestionResult(q.name, 1.0, 2.0) for q in QUESTIONS],
            status="graded" if graded else "unreadable",
            reason="" if graded else "the file is not valid notebook JSON (line 1: " + "x" * 150 + ")",
            incidents=["timeout", "memory"] if i % 4 == 0 else [],
        )  # fmt: skip
        if graded:  # what write_submission_reports leaves for a graded row
            (tmp_path / "feedback" / f"{stem}.report.html").write_text("flat")
        subs.append(sub)
        results.append(r)
    entries = [Entry(summary.who(s), s.stem, "def f(): pass", "def f():\n    " + "x = 0\n    " * 40) for s in subs]
    similar = Report(
        functions={QUESTIONS[0].name: [Pair(QUESTIONS[0].name, entries[0], entries[1], 0.97, (0.97, 1.0), 300)]},
        compared={QUESTIONS[0].name: 12},
    )
    summary.write_class_summary(a, subs, results, tmp_path, similar)
    return tmp_path / "summary.html"


MEASURE = (
    "<script>addEventListener('load', () => {document.body.setAttribute('data-overflow', "
    "String(document.documentElement.scrollWidth - document.documentElement.clientWidth));});</script>"
)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
@pytest.mark.parametrize("width", [1200, 1366, 1920])
def test_summary_fits_common_widths(tmp_path, width):
    page = _page(tmp_path)
    probe = tmp_path / "probe.html"  # a copy with a measuring script: the real page has none
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    dom = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
         "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}", f"--window-size={width},900",
         "--virtual-time-budget=3000", "--dump-dom", probe.as_uri()],
        check=True, capture_output=True, text=True, timeout=90,
    ).stdout  # fmt: skip
    found = re.search(r'data-overflow="(-?\d+)"', dom)
    assert found, "the page did not load"
    assert int(found.group(1)) <= 0, f"{found.group(1)} px wider than a {width} px window"


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.links.append(dict(attrs).get("href", ""))


def test_summary_links_annotated_notebooks_and_the_similar_pairs(tmp_path):
    text = _page(tmp_path).read_text(encoding="utf-8")
    parsed = _Links()
    parsed.feed(text)
    for i in range(12):
        assert f"feedback/{LONG}{i}.html" in parsed.links  # the notebook (annotated) or the flat report
        assert (f"feedback/{LONG}{i}.report.html" in parsed.links) == (i % 3 != 2)  # the list, when graded
    assert f"similarity.html#{QUESTIONS[0].name}-1" in parsed.links and "similarity.html" in parsed.links
    assert "Most alike code" in text and "never changed" in text
