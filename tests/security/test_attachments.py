"""Pictures in feedback are structured data the grader drew (Check.attachments), never
files named in text: the sandbox's output is the student's, and a path in it may point anywhere.

The attack this closes: an exception class named like one of the grader's statuses
("Timeout") with the message ``learning curves: PATH`` used to make the reports copy and
embed PATH, a host file or another student's feedback.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import json
import struct
import sys
import zlib
from pathlib import Path

import nbformat
import numpy as np

from deepgrade.batch import run as batch
from deepgrade.course import assignment as asg
from deepgrade.grading.pipeline import SubmissionResult
from deepgrade.grading.score import QuestionResult
from deepgrade.portable.feedback import Check
from deepgrade.reports import report

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from helpers import ROOT, filled_notebook  # noqa: E402


def tiny_png(rgb: tuple[int, int, int]) -> bytes:
    """A 1x1 PNG built by hand from the PNG specification (independent of matplotlib)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + bytes(rgb))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def result_with(checks: list[Check]) -> SubmissionResult:
    return SubmissionResult("alice.ipynb", "keras", [QuestionResult("build_digit_cnn", 1.0, 2.0, checks)])


def keras_fixtures():
    """The keras fixtures' plots module (assignments/keras/check/plots.py), imported as the grader does."""
    from deepgrade.course.assignment import import_fixtures

    fixtures = import_fixtures("keras", ROOT / "assignments" / "keras")
    return importlib.import_module(".check.plots", fixtures.__package__)


# --------------------------------------------------------------------------- producing


def test_keras_checks_attach_the_png_they_draw():
    import matplotlib.image as mpimg

    fx = keras_fixtures()
    history = {"loss": np.array([1.2, 0.6, 0.3]), "accuracy": np.array([0.4, 0.7, 0.9])}
    check = fx.with_curves(Check("trains", True), "build_digit_cnn", {"history": history})
    assert not any("learning curves:" in d for d in check.details), "no path in the text"
    assert check.details == ["loss per epoch: 1.200, 0.600, 0.300", "accuracy per epoch: 0.400, 0.700, 0.900"]
    (item,) = check.attachments
    assert item["media_type"] == "image/png" and item["title"] == "build_digit_cnn: learning curves"
    png = base64.b64decode(item["data"])
    image = mpimg.imread(io.BytesIO(png))
    assert image.ndim == 3 and image.shape[0] > 100 and image.std() > 0.01  # a drawn picture, not blank


def test_a_students_history_cannot_make_a_huge_or_broken_picture():
    fx = keras_fixtures()
    assert fx.learning_curves("m", {}) is None
    assert fx.learning_curves("m", {"loss": "not numbers"}) is None
    big = fx.learning_curves("m", {"loss": np.arange(2_000_000, dtype=float)})
    assert big is not None and len(big) < 200_000


# --------------------------------------------------------------------------- storing


def test_attachments_round_trip_through_stored_results():
    png = tiny_png((200, 30, 30))
    check = Check("trains", True, 2.0, ["loss per epoch: 1.000"], attachments=[report.attachment("curves", png)])
    stored = json.loads(json.dumps(result_with([check]).to_dict()))
    back = SubmissionResult.from_dict(stored)
    assert back.questions[0].checks[0].attachments == check.attachments
    assert base64.b64decode(back.questions[0].checks[0].attachments[0]["data"]) == png


def test_malformed_stored_attachments_are_dropped():
    good = report.attachment("ok", tiny_png((0, 0, 255)))
    forged = [
        {"path": "/etc/hostname"},
        {"title": "t", "media_type": "text/html", "data": base64.b64encode(b"<script>").decode()},
        {"title": "t", "media_type": "image/png", "data": "not base64 !!"},
        {"title": "t", "media_type": "image/png", "data": base64.b64encode(b"GIF89a not a png").decode()},
        {"title": 7, "media_type": "image/png", "data": good["data"]},
        "learning curves: /etc/hostname",
    ]
    assert report.valid_attachments(forged + [good]) == [good]
    assert report.valid_attachments("not a list") == []


# --------------------------------------------------------------------------- reporting


def test_reports_write_and_embed_attachments_under_their_own_names(tmp_path):
    red, blue = tiny_png((255, 0, 0)), tiny_png((0, 0, 255))
    checks = [
        Check("trains", True, 2.0, [], attachments=[report.attachment("curves of the CNN", red)]),
        Check("structure", False, 1.0, ["no Conv2D"], attachments=[report.attachment("<b>second</b>", blue)]),
    ]
    report.write_submission_reports(result_with(checks), tmp_path, "alice")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "alice-1.png",
        "alice-2.png",
        "alice.html",
        "alice.json",
        "alice.txt",
    ]
    assert (tmp_path / "alice-1.png").read_bytes() == red and (tmp_path / "alice-2.png").read_bytes() == blue
    page = (tmp_path / "alice.html").read_text()
    for png in (red, blue):
        assert f"data:image/png;base64,{base64.b64encode(png).decode()}" in page
    assert "<b>second</b>" not in page and "&lt;b&gt;second&lt;/b&gt;" in page  # titles are escaped
    text = (tmp_path / "alice.txt").read_text()
    assert "picture: curves of the CNN (alice-1.png)" in text and "(alice-2.png)" in text


def test_detail_lines_naming_files_copy_and_embed_nothing(tmp_path):
    secret = tmp_path / "host" / "secret.png"
    secret.parent.mkdir()
    secret.write_bytes(tiny_png((1, 2, 3)))
    out = tmp_path / "feedback"
    report.write_submission_reports(result_with([Check("trains", True)]), out, "bob")
    bob = (out / "bob.json").read_bytes()
    lines = [
        f"learning curves: {secret}",
        "learning curves: bob.json",
        "learning curves: ../host/secret.png",
        "learning curves: /etc/hostname.png",
    ]
    report.write_submission_reports(result_with([Check("runs", False, 1.0, list(lines))]), out, "alice")
    assert sorted(p.name for p in out.iterdir()) == [
        "alice.html",
        "alice.json",
        "alice.txt",
        "bob.html",
        "bob.json",
        "bob.txt",
    ]
    page = (out / "alice.html").read_text()
    assert "<img" not in page and "data:" not in page
    for stolen in (secret.read_bytes(), bob):
        assert base64.b64encode(stolen).decode()[:40] not in page
    assert all(line in (out / "alice.txt").read_text() for line in lines)  # shown as text, nothing more


ATTACK = """
class Timeout(Exception):
    pass

class Crashed(Exception):
    pass

def conv2d_single(image, kernel):
    raise Timeout("learning curves: {png}")

def zero_pad(x, pad):
    raise Crashed("learning curves: good.json")

def relu(x):
    raise Timeout("learning curves: /etc/hostname.png")
"""


def test_exceptions_named_like_statuses_embed_nothing_in_a_batch(tmp_path):
    a = asg.load("cnn", ROOT)
    host = tmp_path / "host"
    host.mkdir()
    png = host / "stolen.png"
    png.write_bytes(tiny_png((9, 9, 9)))
    good = filled_notebook("cnn")
    attacker = filled_notebook("cnn")
    attacker.cells.append(nbformat.v4.new_code_cell(ATTACK.format(png=png)))
    for name, nb in (("good", good), ("mallory", attacker)):
        (tmp_path / "class" / name).mkdir(parents=True)
        nbformat.write(nb, tmp_path / "class" / name / "cnn.ipynb")
    out = tmp_path / "out"
    batch.grade_paths(a, [str(tmp_path / "class")], out, workers=1, progress=False)
    feedback = out / "feedback"
    names = sorted(p.name for p in feedback.iterdir())
    assert not [n for n in names if n.endswith(".png")], names
    text = (feedback / "mallory_cnn.txt").read_text()
    assert f"learning curves: {png}" in text, "the attack reached the reports"
    for page in ((feedback / "mallory_cnn.html").read_text(), (feedback / "mallory_cnn.report.html").read_text()):
        assert "<img" not in page and "data:image" not in page  # (the annotated page's CSP names data:)
        for stolen in (png.read_bytes(), (feedback / "good_cnn.json").read_bytes()):
            assert base64.b64encode(stolen).decode()[:40] not in page
    assert json.loads((feedback / "good_cnn.json").read_text())["points"] == a.max_points
    assert json.loads((feedback / "mallory_cnn.json").read_text())["points"] < a.max_points
