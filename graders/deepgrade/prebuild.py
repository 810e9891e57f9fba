"""Feedback that needs no grading result made while grading runs: the annotated notebooks
(annotate.py) of results as they arrive, and the similarity fingerprints (similarity.py)
of every submission, in one background thread of the grading process.

Why: the sandboxes keep the cores busy only part of the time (process starts, pipes), and
the reports were written one after another once grading ended: nbconvert's import, one
page per student, copydetect and the fingerprints came on top of the grading time. The
thread runs at a lower priority (Linux: its own nice value) so that grading goes first.
Nothing here writes a file or changes a grade: write_reports writes what was built, and
builds itself whatever is missing (a failure here only costs that time).
"""

from __future__ import annotations

import os
import queue
import threading
from pathlib import Path

from .results import SubmissionResult

NICE = 10  # the thread's nice value above the process's


class Prebuilder:
    """prebuilder.start(subs); prebuilder.add(sub, result) per result; prebuilder.finish()."""

    def __init__(self, assignment, fix=None) -> None:
        """fix(result): make a result's text writable (batch._readable_result), applied
        before its page is built, as write_reports does before writing."""
        self.assignment = assignment
        self.fix = fix
        self.pages: dict[str, tuple[SubmissionResult, object]] = {}  # stem -> (result, annotate.build's answer)
        self.prepared = None  # similarity.Prepared of every readable submission, or why not (str)
        self.read: dict[str, tuple] = {}  # stem -> (notebook without outputs, annotate.defining_cells)
        self._todo: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._closed = False

    def start(self, submissions) -> None:
        self._thread = threading.Thread(target=self._run, args=(list(submissions),), daemon=True)
        self._thread.start()

    def add(self, sub, result: SubmissionResult) -> None:
        if self._thread is not None and sub.path is not None and result.status == "graded":
            self._todo.put((sub, result))

    def finish(self) -> None:
        if self._thread is not None:
            self._todo.put(None)
            self._thread.join()
            self._thread = None

    def built(self, stem: str, result: SubmissionResult):
        """annotate.build's answer for exactly this result object, or None."""
        made = self.pages.get(stem)
        return made[1] if made is not None and made[0] is result else None

    # ------------------------------------------------------------------ the thread

    def _run(self, submissions) -> None:
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), os.getpriority(os.PRIO_PROCESS, 0) + NICE)
        except (AttributeError, OSError):
            pass
        from . import annotate, functions, similarity
        from . import notebook as nbio
        from .summary import who

        try:
            annotate.prewarm()
        except Exception:  # write_reports will try again and fall back to the flat report
            pass
        try:
            subs = []
            for sub in submissions:
                if sub.status or sub.path is None:
                    continue
                try:
                    nb = nbio.read(Path(sub.path))
                except nbio.NotebookError:
                    continue
                for cell in nb.cells:  # only the sources are used: outputs may be megabytes
                    cell.pop("outputs", None)
                    cell.pop("attachments", None)
                found = functions.definitions(nbio.code_cells(nb))
                self.read[sub.stem] = (nb, {name: d.cell for name, d in found.items()})
                subs.append((who(sub), sub.stem, nb, found))
                self._pages(annotate, block=False)
            self.prepared = similarity.prepare(self.assignment, subs)
        except similarity.Unavailable as exc:
            self.prepared = str(exc)
        except Exception as exc:  # flags only: the summary says it failed
            self.prepared = f"the similarity report failed ({type(exc).__name__})"
        self._pages(annotate, block=True)

    def _pages(self, annotate, block: bool) -> None:
        """Build the pages of the results queued so far (until finish's None when block)."""
        while not self._closed:
            try:
                item = self._todo.get(block=block)
            except queue.Empty:
                return
            if item is None:
                self._closed = True
                return
            sub, result = item
            try:
                if self.fix is not None:
                    self.fix(result)
                read = self.read.pop(sub.stem, None)  # (read first for the fingerprints, usually)
                made = annotate.build(self.assignment, result, Path(sub.path), sub.stem, read)
                self.pages[sub.stem] = (result, made)
            except Exception:  # write_reports builds it again, or writes the flat report
                continue
