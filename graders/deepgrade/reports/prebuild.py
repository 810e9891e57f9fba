"""Feedback made while grading runs: the annotated notebook (annotate.py) and the
similarity fingerprints (similarity.py) of each result as it arrives.

Why: the grading process only waits while its worker processes grade, and the reports were
written one after another once grading ended: nbconvert's import, one page per student,
copydetect and the fingerprints came on top of the grading time. Here they are made in the
grading process, in its own thread, between two results (a page takes about 20 ms, the
workers go on grading meanwhile). Not in a background thread: the process pool forks its
workers, and a fork while another thread holds a lock (an import's) leaves the worker
stuck on it; a thread of lower priority was also starved on a busy machine while the batch
waited for it.

Resumed results are made a few at a time after each graded result, the rest by finish().
Nothing here writes a file or changes a grade: write_reports writes what was built, and
builds itself whatever is missing (a failure here only costs that time).
"""

from __future__ import annotations

from collections import deque
from pathlib import Path

from ..grading.results import SubmissionResult
from ..portable.status import RowStatus

BACKLOG_PER_RESULT = 2  # resumed results made after each graded one


class Prebuilder:
    """prebuilder.add(sub, result) per result (resumed ones too); prebuilder.finish() at the end."""

    def __init__(self, assignment, fix=None) -> None:
        """fix(result): make a result's text writable (batch._readable_result), applied
        before its page is built, as write_reports does before writing."""
        self.assignment = assignment
        self.fix = fix
        self.pages: dict[str, tuple[SubmissionResult, object]] = {}  # stem -> (result, annotate.build's answer)
        self.prepared = None  # similarity.Prepared of the graded submissions, or why not (str)
        self._fingerprints = None
        self._backlog: deque = deque()
        self._started = False

    def add(self, sub, result: SubmissionResult, later: bool = False) -> None:
        """Make this result's page and fingerprints now (later: after a graded result)."""
        if sub.path is None or result.status != RowStatus.GRADED:
            return
        if later:
            self._backlog.append((sub, result))
            return
        self._make(sub, result)
        for _ in range(min(BACKLOG_PER_RESULT, len(self._backlog))):
            self._make(*self._backlog.popleft())

    def finish(self) -> None:
        while self._backlog:
            self._make(*self._backlog.popleft())
        if self._fingerprints is not None:
            self.prepared = self._fingerprints.prepared

    def built(self, stem: str, result: SubmissionResult):
        """annotate.build's answer for exactly this result object, or None."""
        made = self.pages.get(stem)
        return made[1] if made is not None and made[0] is result else None

    def _start(self) -> None:
        from . import annotate, similarity

        self._started = True
        try:
            annotate.prewarm()
        except Exception:  # write_reports will try again and fall back to the flat report
            pass
        try:
            self._fingerprints = similarity.Fingerprinter(self.assignment)
        except similarity.Unavailable as exc:
            self.prepared = str(exc)
        except Exception as exc:  # flags only: the summary says it failed
            self.prepared = f"the similarity report failed ({type(exc).__name__})"

    def _make(self, sub, result: SubmissionResult) -> None:
        from ..grading import notebook as nbio
        from . import annotate, functions
        from .summary import who

        if not self._started:
            self._start()
        try:
            nb = nbio.read(Path(sub.path))
        except nbio.NotebookError:
            return
        except Exception:  # write_reports reads it again and says why
            return
        try:
            found = functions.definitions(nbio.code_cells(nb))
            cells = {name: d.cell for name, d in found.items()}
            if self.fix is not None:
                self.fix(result)
            made = annotate.build(self.assignment, result, Path(sub.path), sub.stem, (nb, cells))
            self.pages[sub.stem] = (result, made)
        except Exception:  # write_reports builds it again, or writes the flat report
            pass
        if self._fingerprints is not None:
            try:
                self._fingerprints.add(who(sub), sub.stem, nb, found)
            except Exception as exc:
                self._fingerprints = None
                self.prepared = f"the similarity report failed ({type(exc).__name__})"
