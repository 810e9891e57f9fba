"""A batch executor that sends submissions to a Dask distributed cluster.

    pip install deepgrade[cluster]
    dask scheduler                                   # on one machine
    dask worker tcp://SCHEDULER:8786 --nthreads 1    # on each grading machine (bwrap installed)
    deepgrade grade cnn submissions/ --executor dask --scheduler tcp://SCHEDULER:8786
    (or DEEPGRADE_SCHEDULER=tcp://SCHEDULER:8786 deepgrade grade cnn submissions/ --executor dask)

Each worker runs the function it is sent (``executors.grade_one``) with the same sandbox as
a local run and returns only plain data (a result dict), never student objects. Every
worker needs deepgrade installed and the course folder (assignments/, solutions/) at the
path passed as the task's ``root`` argument (a shared or identical checkout). Submission
files need not be shared: a file argument that a worker cannot see is sent with the task
and graded from a temporary copy (its result still names the original path).

A worker that dies mid-submission loses nothing: the scheduler gives its unfinished
tasks to another worker; a task that raises is retried (``retries``) before it fails.
One thread per worker process is the right setting: the sandbox is a process of its own
and grading is CPU-bound, so run as many worker processes as the machine has cores.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from .. import settings

SCHEDULER_ENV = "DEEPGRADE_SCHEDULER"
MAX_SHIPPED_BYTES = 64 * 1024**2


def _files_of(item: tuple) -> dict[int, tuple[str, bytes]]:
    """The arguments of an item that are files here: index -> (sha256, content)."""
    shipped = {}
    for i, arg in enumerate(item):
        if isinstance(arg, str) and arg and os.path.isfile(arg) and os.path.getsize(arg) <= MAX_SHIPPED_BYTES:
            data = Path(arg).read_bytes()
            shipped[i] = (hashlib.sha256(data).hexdigest(), data)
    return shipped


def _apply(fn: Callable, item: Any, files: dict[int, tuple[str, bytes]] | None = None) -> Any:
    """Runs on a worker: fn(*item) for a tuple or list of arguments, fn(**item) for a dict,
    else fn(item). A file argument the worker cannot see (or sees with other content) is
    written to a temporary copy first; the result's "file" names the original again."""
    if isinstance(item, dict):
        return fn(**item)
    if not isinstance(item, (tuple, list)):
        return fn(item)
    args = list(item)
    tmp = None
    moved: dict[str, str] = {}
    try:
        for i, (digest, data) in (files or {}).items():
            original = args[i]
            if os.path.isfile(original) and hashlib.sha256(Path(original).read_bytes()).hexdigest() == digest:
                continue
            tmp = tmp or tempfile.mkdtemp(prefix="deepgrade-shipped-")
            copy = os.path.join(tmp, f"{i}-{os.path.basename(original)}")
            Path(copy).write_bytes(data)
            args[i] = copy
            moved[copy] = original
        result = fn(*args)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    if moved and isinstance(result, dict) and result.get("file") in moved:
        result["file"] = moved[result["file"]]
    return result


class DaskExecutor:
    """``map_unordered(fn, items)`` on a Dask cluster: results as they finish.

    scheduler_address: e.g. ``tcp://10.0.0.5:8786``; or pass a connected ``client``.
    retries: how often a task that raised is run again (a killed worker's tasks are
    rescheduled by the scheduler whatever this says).
    """

    def __init__(
        self, scheduler_address: str | None = None, *, client=None, retries: int = 2, timeout: float = 60
    ) -> None:
        scheduler_address = scheduler_address or settings.get(SCHEDULER_ENV)
        if client is None and not scheduler_address:
            raise ValueError(
                f"the dask executor needs a scheduler address: --scheduler tcp://HOST:8786 or {SCHEDULER_ENV}"
            )
        self.scheduler_address = scheduler_address
        self.retries = retries
        self.timeout = timeout
        self._client = client
        self._own_client = client is None

    @property
    def client(self):
        if self._client is None:
            try:
                from distributed import Client
            except ImportError as exc:  # pragma: no cover - depends on the install
                raise RuntimeError(
                    "the dask executor needs the cluster extra: pip install 'deepgrade[cluster]'"
                ) from exc
            self._client = Client(self.scheduler_address, timeout=self.timeout, set_as_default=False)
        return self._client

    def map_unordered(self, fn: Callable, items: Iterable[Any]) -> Iterator[Any]:
        from distributed import as_completed

        client = self.client
        futures = [
            client.submit(
                _apply,
                fn,
                item,
                _files_of(item) if isinstance(item, (tuple, list)) else None,
                pure=False,
                retries=self.retries,
            )
            for item in items
        ]
        try:
            for future in as_completed(futures, loop=client.loop):
                result = future.result()
                future.release()
                yield result
        finally:
            for future in futures:  # a consumer that stops early cancels what is left
                if not future.done():
                    future.cancel()

    def close(self) -> None:
        if self._client is not None and self._own_client:
            self._client.close()
        self._client = None

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def make(
    workers: int | None = None,
    initializer: Callable | None = None,
    initargs: tuple = (),
    scheduler: str | None = None,
) -> DaskExecutor:
    """The factory executors.make_executor calls for ``--executor dask``.

    scheduler: the scheduler's address (None: DEEPGRADE_SCHEDULER). workers and
    initializer are the local pool's: a cluster's size is its workers', and each worker
    loads the assignment once by itself (assignment.load caches it).
    """
    return DaskExecutor(scheduler)
