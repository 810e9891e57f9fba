"""What grading produces, as plain data: a check, a question's result, a submission's result.

Each type turns into a JSON-able dict (``to_dict``) and back (``from_dict``): the batch
stores results that way, executors send them between processes, reports read them.
``SubmissionResult.not_graded`` is the one way to make the row of a submission that was
not graded (unreadable, a duplicate, a grader failure, no notebook on Gradescope): 0 points,
every question failed with the reason. ``Check`` is defined in compare.py, which ships to
students and must stand alone; its stored form is read back here.

A check may carry attachments, pictures the grader drew (never paths, never parsed from
details): ``{"title": str, "media_type": "image/png", "data": base64 str}``. Stored ones
are read back only when well-formed (a known media type, its signature, a size cap).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from ..portable.feedback import Check, fmt_points
from ..portable.status import RowStatus

__all__ = [
    "Check",
    "QuestionResult",
    "SubmissionResult",
    "attachment",
    "attachment_bytes",
    "check_from_dict",
    "fmt_points",
    "missing_question",
    "valid_attachments",
]

# What a check may carry as an attachment: pictures the grader drew, as bytes in the result.
MEDIA_TYPES = {"image/png": (b"\x89PNG\r\n\x1a\n", ".png")}
MAX_ATTACHMENT_BYTES = 4 * 1024**2
MAX_TITLE = 200


def attachment(title: str, data: bytes, media_type: str = "image/png") -> dict:
    """A check's attachment (Check.attachments) from bytes the grading process produced."""
    return {"title": str(title)[:MAX_TITLE], "media_type": media_type, "data": base64.b64encode(data).decode("ascii")}


def attachment_bytes(item) -> tuple[str, str, bytes] | None:
    """(title, media type, bytes) of a well-formed attachment, else None: a known media
    type whose bytes start with that type's signature, within the size cap."""
    if not isinstance(item, dict):
        return None
    title, media_type, data = item.get("title"), item.get("media_type"), item.get("data")
    if not isinstance(title, str) or media_type not in MEDIA_TYPES or not isinstance(data, str):
        return None
    if len(data) > MAX_ATTACHMENT_BYTES * 4 // 3 + 4:
        return None
    try:
        raw = base64.b64decode(data.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None
    if not raw.startswith(MEDIA_TYPES[media_type][0]):
        return None
    return title[:MAX_TITLE], media_type, raw


def valid_attachments(items) -> list[dict]:
    """The well-formed attachments of a stored check, re-encoded."""
    out = []
    for item in items if isinstance(items, list) else ():
        parsed = attachment_bytes(item)
        if parsed is not None:
            title, media_type, raw = parsed
            out.append(attachment(title, raw, media_type))
    return out


def check_from_dict(d: dict) -> Check:
    """A Check from its ``to_dict()`` form (defaults for keys an older result lacks)."""
    return Check(
        d["label"],
        bool(d["passed"]),
        float(d.get("weight", 1.0)),
        list(d.get("details", [])),
        list(d.get("diagnosis", [])),
        bool(d.get("hidden", False)),
        valid_attachments(d.get("attachments", [])),
        bool(d.get("extra", False)),
    )


@dataclass
class QuestionResult:
    """One question's points (of max_points) and the checks that earned them."""

    name: str
    points: float
    max_points: float
    checks: list[Check] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "points": self.points,
            "max_points": self.max_points,
            "checks": [c.to_dict() for c in self.checks],
        }

    @classmethod
    def from_dict(cls, d: dict) -> QuestionResult:
        return cls(
            d["name"], float(d["points"]), float(d["max_points"]), [check_from_dict(c) for c in d.get("checks", [])]
        )


def missing_question(question: Any, reason: str) -> QuestionResult:
    """0 points for a question (anything with ``name`` and ``points``), and why."""
    return QuestionResult(question.name, 0.0, question.points, [Check("runs", False, 1.0, [reason])])


@dataclass
class SubmissionResult:
    """Everything the reports need about one graded submission (plain data, JSON-able)."""

    file: str
    assignment: str
    questions: list[QuestionResult]
    status: RowStatus = RowStatus.GRADED  # graded, unreadable, wrong-assignment (batch: duplicate, skipped, error)
    reason: str = ""
    notes: list[str] = field(default_factory=list)
    isolation: str = ""
    sha256: str = ""
    student: str = ""
    incidents: list[str] = field(default_factory=list)  # sandbox stops: timeout, memory, crashed

    @property
    def points(self) -> float:
        return round(sum(q.points for q in self.questions), 2)

    @property
    def max_points(self) -> float:
        return sum(q.max_points for q in self.questions)

    def to_dict(self) -> dict:
        return {
            "file": self.file,
            "student": self.student,
            "assignment": self.assignment,
            "status": self.status,
            "reason": self.reason,
            "points": self.points,
            "max_points": self.max_points,
            "questions": [q.to_dict() for q in self.questions],
            "notes": self.notes,
            "isolation": self.isolation,
            "sha256": self.sha256,
            "incidents": self.incidents,
        }

    @classmethod
    def from_dict(cls, d: dict) -> SubmissionResult:
        """Back from ``to_dict()`` (points are recomputed from the questions)."""
        return cls(
            file=d.get("file", ""),
            assignment=d.get("assignment", ""),
            questions=[QuestionResult.from_dict(q) for q in d.get("questions", [])],
            status=RowStatus(d.get("status", RowStatus.GRADED)),  # ValueError: not a row's status
            reason=d.get("reason", ""),
            notes=list(d.get("notes", [])),
            isolation=d.get("isolation", ""),
            sha256=d.get("sha256", ""),
            student=d.get("student", ""),
            incidents=list(d.get("incidents", [])),
        )

    @classmethod
    def not_graded(
        cls,
        assignment: Any,
        file: str,
        status: RowStatus,
        reason: str,
        *,
        name: str = "",
        notes: list[str] | tuple = (),
        sha256: str = "",
        student: str = "",
    ) -> SubmissionResult:
        """A submission that was not graded: every question 0 points, "not graded: <reason>".

        assignment: the Assignment (its questions are listed), or None when it could not
        be loaded (no questions; ``name`` names it)."""
        questions = (
            [missing_question(q, f"not graded: {reason}") for q in assignment.questions]
            if assignment is not None
            else []
        )
        return cls(
            file,
            assignment.name if assignment is not None else name,
            questions,
            status=status,
            reason=reason,
            notes=list(notes),
            sha256=sha256,
            student=student,
        )
