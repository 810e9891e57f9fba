"""Stage 7: reports for one submission: feedback text for a person, JSON and HTML.
(Gradebooks for the whole class are in exports.py, the class summary in summary.py.)"""

from __future__ import annotations

import base64
import html
import json
import os
import secrets
from pathlib import Path

from ..grading.results import (  # noqa: F401 - attachment, valid_attachments: the reports' API too
    MEDIA_TYPES,
    SubmissionResult,
    attachment,
    attachment_bytes,
    valid_attachments,
)
from ..portable.feedback import Check, fmt_points, format_question
from ..portable.status import RowStatus

WIDTH = 78


def attachment_files(result: SubmissionResult, stem: str) -> list[tuple[Check, str, str, bytes]]:
    """(check, title, file name, bytes) of every attachment, in report order; the names are
    chosen here (stem-1.png, stem-2.png, ...), never taken from the result."""
    out = []
    for q in result.questions:
        for c in q.checks:
            for item in c.attachments:
                parsed = attachment_bytes(item)
                if parsed is not None:
                    title, media_type, raw = parsed
                    out.append((c, title, f"{stem}-{len(out) + 1}{MEDIA_TYPES[media_type][1]}", raw))
    return out


def feedback_text(result: SubmissionResult, stem: str | None = None) -> str:
    """The feedback a student reads, in the layout of shared/spec/feedback.md.

    stem: the reports' stem, to name the attachment files written beside them."""
    files = attachment_files(result, stem) if stem else []
    lines = []
    head = f"{result.assignment}: {Path(result.file).name}"
    lines.append(f"{head:<{WIDTH - 16}}{fmt_points(result.points):>8} / {fmt_points(result.max_points)} points")
    if result.status != RowStatus.GRADED:
        lines.append(f"  not graded: {result.reason}")
    for note in result.notes:
        lines.append(f"  note: {note}")
    for q in result.questions:
        lines.append("")
        lines += format_question(q.name, q.points, q.max_points, q.checks, WIDTH)
        ids = {id(c) for c in q.checks}
        lines += [f"  picture: {title} ({name})" for c, title, name, _ in files if id(c) in ids]
    return "\n".join(lines) + "\n"


def write_json(result: SubmissionResult, path: Path) -> None:
    _write(path, json.dumps(result.to_dict(), indent=1, default=str).encode("utf-8"))


def feedback_html(result: SubmissionResult) -> str:
    """A self-contained HTML page of the same feedback (no scripts, no external assets).

    Pictures are the checks' attachments (bytes the grader produced), embedded as data
    URIs; nothing named in a detail line is ever read."""
    esc = html.escape
    pictures: dict[int, list[tuple[str, str, bytes]]] = {}
    for q in result.questions:
        for c in q.checks:
            for item in c.attachments:
                parsed = attachment_bytes(item)
                if parsed is not None:
                    pictures.setdefault(id(c), []).append(parsed)
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{esc(result.assignment)}: {esc(Path(result.file).name)}</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}"
        "h1{font-size:1.4rem}h2{font-size:1.1rem;display:flex;justify-content:space-between;border-bottom:1px solid #ccc}"
        ".ok{color:#17692f}.fail{color:#b00020}.check{margin:.3rem 0}.details{margin:.2rem 0 .6rem 2.5rem;"
        "font-family:ui-monospace,monospace;font-size:.9rem;white-space:pre-wrap}.hidden{color:#666;font-style:italic}"
        "figure{margin:.2rem 0 .6rem 2.5rem}figure img{max-width:100%}"
        ".note{background:#fff4d6;padding:.4rem .6rem;border-radius:4px}</style></head><body>",
        f"<h1>{esc(result.assignment)} &mdash; {esc(Path(result.file).name)}: "
        f"{fmt_points(result.points)} / {fmt_points(result.max_points)} points</h1>",
    ]
    if result.status != RowStatus.GRADED:
        parts.append(f"<p class='note'>Not graded: {esc(result.reason)}</p>")
    for note in result.notes:
        parts.append(f"<p class='note'>{esc(note)}</p>")
    for q in result.questions:
        parts.append(
            f"<h2><span>{esc(q.name)}</span><span>{fmt_points(q.points)} / {fmt_points(q.max_points)}</span></h2>"
        )
        for c in q.checks:
            cls = "ok" if c.passed else "fail"
            parts.append(
                f"<div class='check'><span class='{cls}'>{'ok' if c.passed else 'FAIL'}</span> {esc(c.label)}</div>"
            )
            if c.details:
                parts.append("<div class='details'>" + esc("\n".join(c.details)) + "</div>")
            for title, media_type, raw in pictures.get(id(c), ()):
                data = base64.b64encode(raw).decode("ascii")
                parts.append(
                    f"<figure><img alt='{esc(title, quote=True)}' src='data:{media_type};base64,{data}'>"
                    f"<figcaption>{esc(title)}</figcaption></figure>"
                )
    parts.append("</body></html>")
    return "\n".join(parts)


def _write(path: Path, data: bytes) -> None:
    """Write a report file the grader names, replacing (never following) whatever is there."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
    except BaseException:
        os.unlink(tmp)
        raise
    os.replace(tmp, path)


def write_submission_reports(
    result: SubmissionResult, folder: Path, stem: str, assignment=None, notebook: Path | None = None, built=None
) -> None:
    """stem.json, stem.txt, stem.html, and stem-N.png for each attachment, in folder.

    With the assignment and the notebook file as submitted (the batch), stem.html is the
    student's notebook annotated (annotate.py; stem.ipynb beside it) and the flat list is
    stem.report.html; without them, or for a row not graded, stem.html is the flat list.
    built: annotate.build's answer for this result, made while grading ran (prebuild.py)."""
    folder.mkdir(parents=True, exist_ok=True)
    for _, _, name, raw in attachment_files(result, stem):
        _write(folder / name, raw)
    write_json(result, folder / f"{stem}.json")
    _write(folder / f"{stem}.txt", feedback_text(result, stem).encode("utf-8"))
    flat = feedback_html(result).encode("utf-8")
    why = "no notebook"
    if assignment is not None and notebook is not None:
        from . import annotate

        try:
            why = annotate.write_annotated(assignment, result, Path(notebook), folder, stem, _write, built)
        except Exception as exc:  # a report must never stop the batch: the flat list stands in
            why = f"the annotated notebook failed ({type(exc).__name__})"
    if why is None:
        _write(folder / f"{stem}.report.html", flat)
    else:
        _write(folder / f"{stem}.html", flat)
        for stale in (f"{stem}.ipynb", f"{stem}.report.html"):  # from an earlier run, when it was graded
            (folder / stale).unlink(missing_ok=True)
