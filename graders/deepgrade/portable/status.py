"""The engine's fixed words, typed: what happened to a step, what kind of error, what a row is.

Each is a ``StrEnum``: a member is the very string it stands for (``StepStatus.OK == "ok"``,
``json.dumps`` writes ``"ok"``), so stored outcomes, results.json and the gradebook hold the
same text as before these types existed, and a value read back from JSON compares equal to
its member. Shipped (see __init__.py): standard library only.

    StepStatus  what happened to one cell or call in the sandbox (``sandbox.StepOutcome.status``)
    ErrorKind   the ``type`` of an error the grader or the call runner reports itself (a student's
                own exception keeps its class name, e.g. "ValueError")
    Event       the ``ev`` of a message on the sandbox's results channel (``worker.py``)
    RowStatus   what a gradebook row is (``results.SubmissionResult.status``; intake's rows)
"""

from __future__ import annotations

try:
    from enum import StrEnum
except ImportError:  # pragma: no cover - a student's kernel on Python < 3.11 (the copy ships this file)
    from enum import Enum

    class StrEnum(str, Enum):  # type: ignore[no-redef]  # noqa: UP042
        """What 3.11's StrEnum does for these types: str() and format() give the value."""

        __str__ = str.__str__
        __format__ = str.__format__


class StepStatus(StrEnum):
    """What happened to one cell or call of a submission in the sandbox."""

    OK = "ok"
    ERROR = "error"  # it raised (the student's exception, or a grader-side error: ErrorKind)
    TIMEOUT = "timeout"  # stopped at its time limit
    CRASHED = "crashed"  # the process ended during it
    MEMORY = "memory"  # over the memory or file-count limit
    NOT_RUN = "not run"  # an earlier step stopped the sandbox, or its function was stopped before

    @property
    def stopped(self) -> bool:
        """The sandbox stopped the process during the step (its limits, or the process ended)."""
        return self in (StepStatus.TIMEOUT, StepStatus.CRASHED, StepStatus.MEMORY)

    @property
    def error_kind(self) -> ErrorKind:
        """The error type a stopped step reports ("timeout" -> "Timeout")."""
        return ErrorKind(self.value.title().replace(" ", ""))


class ErrorKind(StrEnum):
    """An error the engine reports itself, in an error's ``type`` (next to students' class names)."""

    TIMEOUT = "Timeout"
    CRASHED = "Crashed"
    MEMORY = "Memory"
    NOT_RUN = "NotRun"  # never started: the sandbox stopped before it
    SKIPPED = "Skipped"  # an argument is the value of a call that did not return
    MISSING = "Missing"  # no function of that name
    NOT_CALLABLE = "NotCallable"  # the name is not a function
    UNREADABLE = "Unreadable"  # the returned value cannot cross back (or is too large)
    PROTOCOL = "Protocol"  # a malformed or forged message on the results channel

    @property
    def did_not_finish(self) -> bool:
        """The call did not run to its end (as opposed to raising an exception)."""
        return self is not ErrorKind.PROTOCOL


# a string read back from JSON or a student's message compares equal to these, so membership
# tests take the plain text too
NOT_FINISHED = frozenset(k for k in ErrorKind if k.did_not_finish)


class Event(StrEnum):
    """The ``ev`` of a message on the sandbox's results channel."""

    START = "start"  # a step begins (for the watchdog)
    CELL = "cell"  # a cell's report
    CALL = "call"  # a call's report
    DONE = "done"  # every step was run


class RowStatus(StrEnum):
    """What a submission's gradebook row is. Rows other than GRADED have 0 points and a reason."""

    TO_GRADE = ""  # intake's row of a submission still to grade (falsy); never a result's status
    GRADED = "graded"
    UNREADABLE = "unreadable"  # not a notebook, or no readable notebook in it
    WRONG_ASSIGNMENT = "wrong-assignment"  # a notebook of another assignment
    DUPLICATE = "duplicate"  # another submission of the same student was graded
    SKIPPED = "skipped"  # intake set it aside (the reason says why)
    ERROR = "error"  # the grader failed (a lost worker): a re-run grades it
