"""Gradebook files for learning-management systems: Otter's final_grades.csv, Canvas, Moodle.

Every text cell goes through ``cell``: names made readable (bytes that were not UTF-8 and
control characters as escapes) and, following OWASP's CSV-injection guidance, a cell that
begins with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a leading single quote
so that a spreadsheet shows it as text instead of running it as a formula. Numbers (and
text that is exactly a number) stay numbers.
"""

from __future__ import annotations

import csv
import re
import time
from pathlib import Path

from ..course.assignment import Assignment
from ..grading.intake import Submission, readable
from ..grading.results import SubmissionResult, fmt_points
from ..portable.status import RowStatus

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
# final_grades.csv: Otter-Grader's columns first (readers go by column name), then ours
EXTRA_COLUMNS = ["student_id", "student_name", "feedback"]


def cell(value: object) -> object:
    """One CSV cell, safe to open in a spreadsheet (OWASP CSV injection)."""
    if isinstance(value, (int, float)):
        return value
    text = str(value)
    if NUMBER.fullmatch(text):
        return text
    text = readable(text)
    return "'" + text if text.startswith(FORMULA_START) else text


def _write_csv(path: Path, rows: list[list]) -> None:
    with open(path, "w", newline="", encoding="utf-8", errors="backslashreplace") as fh:
        csv.writer(fh).writerows([[cell(v) for v in row] for row in rows])


def gradebook_rows(
    assignment: Assignment, results: list[SubmissionResult], submissions: list[Submission] | None = None
) -> list[list]:
    """Rows of Otter's final_grades.csv: header, points-per-question, then one per file;
    after Otter's columns the student's LMS id and name (where known) and the feedback file."""
    names = [q.name for q in assignment.questions]
    rows = [["file", *names, "total_points_earned", "percent_correct", "grading_status", *EXTRA_COLUMNS]]
    rows.append(
        [
            "points-per-question",
            *[fmt_points(q.points) for q in assignment.questions],
            fmt_points(assignment.max_points),
            "",
            "",
            *[""] * len(EXTRA_COLUMNS),
        ]
    )
    for i, r in enumerate(results):
        by_name = {q.name: q.points for q in r.questions}
        pct = round(100 * r.points / assignment.max_points, 2) if assignment.max_points else 0
        status = "completed" if r.status == RowStatus.GRADED else f"failed: {r.reason}"
        sub = submissions[i] if submissions is not None else None
        who = [sub.student_id, sub.student_name, f"feedback/{sub.stem}.html"] if sub else ["", "", ""]
        rows.append([r.file, *[fmt_points(by_name.get(n, 0)) for n in names], fmt_points(r.points), pct, status, *who])
    return rows


def write_gradebook(
    assignment: Assignment, results: list[SubmissionResult], path: Path, submissions: list[Submission] | None = None
) -> None:
    _write_csv(path, gradebook_rows(assignment, results, submissions))


def _best_rows(submissions: list[Submission], results: list[SubmissionResult]):
    """One row per student for LMS imports: duplicates and extra files left out."""
    seen: dict[str, tuple[Submission, SubmissionResult]] = {}
    for sub, r in zip(submissions, results):
        if sub.status == RowStatus.DUPLICATE:
            continue
        if sub.student not in seen or (seen[sub.student][0].status and not sub.status):
            seen[sub.student] = (sub, r)
    return list(seen.values())


def write_canvas_csv(assignment: Assignment, submissions, results, path: Path) -> None:
    """Canvas 'Import' of a gradebook CSV: ID is the Canvas user id (from Canvas file names;
    empty for a plain folder's submissions, which Canvas cannot match to a student).

    Canvas reads the layout of its own gradebook export: Student, ID, SIS User ID, SIS
    Login ID, Section, then one column per assignment named 'Name (assignment id)', and
    a 'Points Possible' row under the header. With ``canvas_assignment_id`` in
    assignment.toml the column is '<title> (<id>)' and updates that assignment; without
    it the column is named by the assignment's title and Canvas creates a new assignment.
    """
    cid = str(assignment.contract.canvas_assignment_id if assignment.contract else "").strip()
    col = f"{assignment.title} ({cid})" if cid else f"{assignment.name}: {assignment.title}"[:80]
    rows = [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", col],
        ["    Points Possible", "", "", "", "", fmt_points(assignment.max_points)],
    ]
    for sub, r in _best_rows(submissions, results):
        rows.append([sub.name, sub.student_id, "", "", "", fmt_points(r.points)])
    _write_csv(path, rows)


def write_moodle_csv(assignment: Assignment, submissions, results, path: Path, now: float | None = None) -> None:
    """Moodle assignment 'Upload grading worksheet' layout; Identifier is 'Participant <id>'
    (the number in Moodle's ``Name_<id>_assignsubmission_file_`` folder names).

    Moodle's importer (mod/assign/feedback/offline) refuses a worksheet without the
    columns "Identifier", "Grade" and "Last modified (grade)"; it skips a row whose grade
    was changed in Moodle after that time (unless told to ignore it). The time written is
    the export's, in Moodle's own date format (read back with PHP's strtotime).
    """
    stamp = time.strftime("%A, %d %B %Y, %I:%M %p", time.localtime(time.time() if now is None else now))
    rows = [["Identifier", "Full name", "Grade", "Maximum Grade", "Last modified (grade)", "Feedback comments"]]
    for sub, r in _best_rows(submissions, results):
        ident = f"Participant {sub.student_id}" if sub.student_id else sub.name
        comment = f"{fmt_points(r.points)} / {fmt_points(r.max_points)} points" + (
            f"; not graded: {r.reason}" if r.status != RowStatus.GRADED else ""
        )
        rows.append([ident, sub.name, fmt_points(r.points), fmt_points(assignment.max_points), stamp, comment])
    _write_csv(path, rows)
