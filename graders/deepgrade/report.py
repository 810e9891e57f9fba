"""Stage 7: reports for one submission: feedback text for a person, JSON and HTML.
(Gradebooks for the whole class are in exports.py, the class summary in summary.py.)"""

from __future__ import annotations

import base64
import html
import json
import shutil
from pathlib import Path

from .compare import format_question
from .pipeline import SubmissionResult

WIDTH = 78


def _fmt_points(x: float) -> str:
    return f"{x:g}"


def feedback_text(result: SubmissionResult) -> str:
    """The feedback a student reads, in the layout of shared/spec/feedback.md."""
    lines = []
    head = f"{result.assignment}: {Path(result.file).name}"
    lines.append(f"{head:<{WIDTH - 16}}{_fmt_points(result.points):>8} / {_fmt_points(result.max_points)} points")
    if result.status != "graded":
        lines.append(f"  not graded: {result.reason}")
    for note in result.notes:
        lines.append(f"  note: {note}")
    for q in result.questions:
        lines.append("")
        lines += format_question(q.name, q.points, q.max_points, q.checks, WIDTH)
    return "\n".join(lines) + "\n"


def write_json(result: SubmissionResult, path: Path) -> None:
    path.write_text(json.dumps(result.to_dict(), indent=1, default=str), encoding="utf-8")


def feedback_html(result: SubmissionResult, pictures: Path | None = None) -> str:
    """A self-contained HTML page of the same feedback (no scripts, no external assets).

    pictures: the folder holding the PNGs that details name ("learning curves: file.png");
    they are embedded in the page as data URIs."""
    esc = html.escape
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{esc(result.assignment)}: {esc(Path(result.file).name)}</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}"
        "h1{font-size:1.4rem}h2{font-size:1.1rem;display:flex;justify-content:space-between;border-bottom:1px solid #ccc}"
        ".ok{color:#17692f}.fail{color:#b00020}.check{margin:.3rem 0}.details{margin:.2rem 0 .6rem 2.5rem;"
        "font-family:ui-monospace,monospace;font-size:.9rem;white-space:pre-wrap}.hidden{color:#666;font-style:italic}"
        ".note{background:#fff4d6;padding:.4rem .6rem;border-radius:4px}</style></head><body>",
        f"<h1>{esc(result.assignment)} &mdash; {esc(Path(result.file).name)}: "
        f"{_fmt_points(result.points)} / {_fmt_points(result.max_points)} points</h1>",
    ]
    if result.status != "graded":
        parts.append(f"<p class='note'>Not graded: {esc(result.reason)}</p>")
    for note in result.notes:
        parts.append(f"<p class='note'>{esc(note)}</p>")
    for q in result.questions:
        parts.append(
            f"<h2><span>{esc(q.name)}</span><span>{_fmt_points(q.points)} / {_fmt_points(q.max_points)}</span></h2>"
        )
        for c in q.checks:
            cls = "ok" if c.passed else "fail"
            parts.append(
                f"<div class='check'><span class='{cls}'>{'ok' if c.passed else 'FAIL'}</span> {esc(c.label)}</div>"
            )
            if c.details:
                parts.append("<div class='details'>" + esc("\n".join(c.details)) + "</div>")
            for line in c.details if pictures is not None else ():
                png = pictures / line[len(PICTURE_PREFIX) :] if line.startswith(PICTURE_PREFIX) else None
                if png is not None and png.parent == pictures and png.is_file():
                    data = base64.b64encode(png.read_bytes()).decode("ascii")
                    parts.append(f"<img class='details' alt='{esc(line)}' src='data:image/png;base64,{data}'>")
    parts.append("</body></html>")
    return "\n".join(parts)


PICTURE_PREFIX = "learning curves: "


def _attach_pictures(result: SubmissionResult, folder: Path, stem: str) -> None:
    """Copy pictures a check names (a detail "learning curves: /abs/file.png", written by an
    assignment's checks in the grading process) next to the reports; the detail then names
    the copy, relative to the reports."""
    for q in result.questions:
        for c in q.checks:
            for i, line in enumerate(c.details):
                if not line.startswith(PICTURE_PREFIX):
                    continue
                src = Path(line[len(PICTURE_PREFIX) :])
                if not src.is_absolute() or not src.is_file() or src.suffix != ".png":
                    continue
                dest = folder / f"{stem}-{src.name}"
                shutil.copyfile(src, dest)
                c.details[i] = PICTURE_PREFIX + dest.name


def write_submission_reports(result: SubmissionResult, folder: Path, stem: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    _attach_pictures(result, folder, stem)
    write_json(result, folder / f"{stem}.json")
    (folder / f"{stem}.txt").write_text(feedback_text(result), encoding="utf-8")
    (folder / f"{stem}.html").write_text(feedback_html(result, folder), encoding="utf-8")
