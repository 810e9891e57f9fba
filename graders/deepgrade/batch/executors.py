"""Where submissions are graded: the unit of work and the executors that run it.

An executor is any object with

    map_unordered(fn, items) -> Iterator[dict]

that calls ``fn(*item)`` for every item (a tuple of plain, picklable values) somewhere
and yields the returned dicts in any order, as they finish. ``fn`` is ``grade_one``, a
module-level function taking only strings and returning plain JSON-able data, so an
executor may run it in another process or on another machine (which needs the same
project root and deepgrade installed). An executor may yield fewer results than items
(a lost worker): the batch records those as "error" rows and a re-run grades them.
Executors may also have ``close()``. ``EXECUTORS`` names their factories; the Dask one
(executors_dask.py, which imports nothing from here) is imported only when asked for.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from ..course.assignment import load
from ..grading.results import SubmissionResult
from ..portable.status import RowStatus


def grade_one(assignment_name: str, root: str, path: str, student: str, with_run: bool = False) -> dict:
    """Grade one notebook file; plain data out (``SubmissionResult.to_dict()``). Never raises.

    A sandbox that cannot start is no row: ``{"file": path, "setup_failure": message}``,
    on which the batch stops (isolation.SetupError).

    with_run: add under "run" the run's outcomes (``RunResult.to_dict()``) for the batch to
    store; None when nothing ran or an outcome is of a kind stored.py does not hold."""
    from ..grading.pipeline import grade_notebook
    from ..sandbox.isolation import SetupError
    from ..sandbox.stored import Unstorable

    try:
        assignment = load(assignment_name, Path(root))
        result, run = grade_notebook(assignment, path)
        result.student = student
        if not with_run:
            return result.to_dict()
        try:
            stored_run = run.to_dict() if run is not None else None
        except Unstorable:  # a later change re-runs it instead of re-scoring
            stored_run = None
        return {**result.to_dict(), "run": stored_run}
    except SetupError as exc:  # the grader's set-up, not this student: nobody is graded
        return {"file": path, "setup_failure": str(exc)}
    except Exception as exc:  # a grader bug must cost one row, not the batch
        reason = f"the grader failed: {type(exc).__name__}: {str(exc)[:300]}"
        return SubmissionResult.not_graded(
            None, path, RowStatus.ERROR, reason, name=assignment_name, student=student
        ).to_dict()


def init_worker(assignment_name: str, root: str) -> None:
    """Runs once per worker process: imports and the assignment (reference, fixtures) loaded once."""
    import numpy  # noqa: F401

    from .. import sandbox

    load(assignment_name, Path(root))
    sandbox.isolation_mode()


class SerialExecutor:
    """Grades in this process, one at a time (debugging, or a single core)."""

    def map_unordered(self, fn: Callable[..., dict], items: Iterable[tuple]) -> Iterator[dict]:
        for item in items:
            yield fn(*item)

    def close(self) -> None:
        pass


class LocalExecutor:
    """A local process pool; each worker loads the assignment once (initializer).

    A worker that dies (it should not: student code runs in its own sandbox) breaks the
    pool; the pool is started again and the items not finished are retried once.
    """

    def __init__(self, workers: int | None = None, initializer: Callable | None = None, initargs: tuple = ()) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.initializer = initializer
        self.initargs = initargs

    def map_unordered(self, fn: Callable[..., dict], items: Iterable[tuple]) -> Iterator[dict]:
        pending = list(items)
        attempts: Counter = Counter()
        while pending:
            pool = ProcessPoolExecutor(self.workers, initializer=self.initializer, initargs=self.initargs)
            futures = {}
            queue = list(pending)
            broken = False
            try:
                # keep only a few items queued per worker so a broken pool loses little
                while queue or futures:
                    while queue and len(futures) < 2 * self.workers:
                        item = queue.pop(0)
                        futures[pool.submit(fn, *item)] = item
                    done, _ = wait(futures, return_when=FIRST_COMPLETED)
                    for fut in done:
                        item = futures.pop(fut)
                        try:
                            result = fut.result()
                        except BrokenProcessPool:
                            broken = True
                            continue
                        pending.remove(item)
                        yield result
                    if broken:
                        break
            finally:
                pool.shutdown(wait=not broken, cancel_futures=True)
            if broken:
                for item in list(pending):
                    attempts[item] += 1
                    if attempts[item] > 2:
                        pending.remove(item)  # not yielded: recorded as an error row

    def close(self) -> None:
        pass


def _dask(**options):
    from .executors_dask import make  # only with --executor dask: needs the cluster extra

    return make(**options)


EXECUTORS: dict[str, Callable[..., object]] = {
    "local": LocalExecutor,
    "serial": lambda **kw: SerialExecutor(),
    "dask": _dask,
}


def make_executor(name: str, workers: int, assignment_name: str, root: Path, **options):
    """The executor ``name`` (a key of EXECUTORS); options go to its factory (dask: scheduler)."""
    if name not in EXECUTORS:
        raise KeyError(f"unknown executor {name!r}; available: {', '.join(sorted(EXECUTORS))}")
    return EXECUTORS[name](workers=workers, initializer=init_worker, initargs=(assignment_name, str(root)), **options)
