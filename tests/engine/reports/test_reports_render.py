"""The feedback and class-summary HTML display in headless Chromium, and no report
(HTML or JSON) contains a hidden fixture's expected value."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from deepgrade.batch import run as batch
from deepgrade.course import assignment as asg

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "support"))
from helpers import ROOT, filled_notebook, mutant_notebook  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("render")
    a = asg.load("cnn", ROOT)
    nbs = {"good": filled_notebook("cnn"), "stub": nbformat.read(a.notebook, as_version=4)}
    for mid in list(a.mistakes)[:3]:
        nbs[mid] = mutant_notebook("cnn", mid)
    for name, nb in nbs.items():
        (tmp / "class" / name).mkdir(parents=True)
        nbformat.write(nb, tmp / "class" / name / "cnn.ipynb")
    batch.grade_paths(a, [str(tmp / "class")], tmp / "out", workers=2, progress=False)
    return a, tmp / "out"


def screenshot(page: Path, png: Path, profile: Path) -> None:
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", f"--screenshot={png}", "--window-size=1200,1600", page.as_uri()],
        check=True, capture_output=True, timeout=90,
    )  # fmt: skip


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_reports_display(graded, tmp_path):
    import matplotlib.image as mpimg

    _, out = graded
    pages = [out / "summary.html", out / "feedback" / "stub_cnn.html", out / "feedback" / "good_cnn.html"]
    for i, page in enumerate(pages):
        png = tmp_path / f"shot{i}.png"
        screenshot(page, png, tmp_path / f"profile{i}")
        assert png.exists() and png.stat().st_size > 5000
        img = mpimg.imread(png)
        assert img.std() > 0.02, f"{page.name} rendered blank"
    # the summary's histogram picture is there, and shows bars
    hist = mpimg.imread(out / "histogram.png")
    assert hist.std() > 0.05


def _numbers(value) -> list[float]:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _numbers(v)]
    if isinstance(value, (tuple, list)):
        return [x for v in value for x in _numbers(v)]
    if isinstance(value, (np.ndarray, np.generic, float)):
        return [float(x) for x in np.ravel(value) if np.isfinite(x)]
    return []


def test_no_hidden_expected_value_in_reports(graded):
    a, out = graded
    hidden = set()
    for q in a.questions:
        for c in q.cases:
            if c.hidden and c.expect_error is None and c.compare:
                # distinctive numbers only (not 0, 1, small integers a report may show anyway)
                hidden |= {x for x in _numbers(a.expected(c, q.name)) if abs(x - round(x)) > 1e-6}
    assert len(hidden) > 20
    texts = [p.read_text() for p in (out / "feedback").glob("*") if p.suffix in (".html", ".json", ".txt")]
    texts += [(out / "summary.html").read_text(), (out / "summary.json").read_text()]
    texts += [p.read_text() for p in (out / "results").glob("*.json")]
    # the checks' weights are the policy's numbers (a shape check weighs 0.2222...), not values
    texts = [re.sub(r'"weight": ?[-0-9.e]+', '"weight": w', t) for t in texts]
    found = []
    for x in hidden:
        for fmt in (f"{x:.4g}", f"{x:.6g}", repr(x), f"{x:.3f}"):
            if len(fmt.lstrip("-").replace(".", "")) >= 4 and any(fmt in t for t in texts):
                found.append(fmt)
    assert not found, f"hidden expected values in reports: {found[:10]}"
    # hidden checks are described, and say they are hidden
    report = json.loads((out / "feedback" / "stub_cnn.json").read_text())
    assert any(c["hidden"] and "hidden check" in c["label"] for q in report["questions"] for c in q["checks"])


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_attached_picture_displays(tmp_path):
    """A check's attachment (a picture the grader drew) shows in the feedback page."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.image as mpimg
    import matplotlib.pyplot as plt

    from deepgrade.grading.pipeline import SubmissionResult
    from deepgrade.grading.score import QuestionResult
    from deepgrade.portable.feedback import Check
    from deepgrade.reports import report

    fig = plt.figure(figsize=(4, 3), dpi=100)
    fig.patch.set_facecolor((1.0, 0.0, 0.0))  # pure red: nothing else on the page is
    buf = io.BytesIO()
    fig.savefig(buf, format="png", facecolor=fig.get_facecolor())
    plt.close(fig)
    check = Check(
        "trains", True, 1.0, ["loss per epoch: 1.0, 0.5"], attachments=[report.attachment("red", buf.getvalue())]
    )
    result = SubmissionResult("alice.ipynb", "keras", [QuestionResult("build_digit_cnn", 1.0, 1.0, [check])])
    report.write_submission_reports(result, tmp_path / "feedback", "alice")
    shot = tmp_path / "shot.png"
    screenshot(tmp_path / "feedback" / "alice.html", shot, tmp_path / "profile")
    img = mpimg.imread(shot)[..., :3]
    red = (img[..., 0] > 0.9) & (img[..., 1] < 0.1) & (img[..., 2] < 0.1)
    assert red.sum() > 200 * 150, f"{int(red.sum())} red pixels: the picture is not displayed"
