"""Runs inside the sandbox: executes a student's notebook cells, then calls their functions.

This file and the rest of ``deepgrade.portable`` (``call_runner.py``, the call runner the
student's copy uses too, and ``wire.py``) reach the sandbox over a pipe, never as files;
this one comes last and runs as ``__main__``. Its work arrives on the pipe named by
``DEEPGRADE_IN``, one JSON object a line: ``{"cell": {"index", "source"}}``,
``{"call": {...}}``, then ``{"end": true}``. Results go to the descriptor named by
``DEEPGRADE_FD``. It imports nothing of deepgrade but its siblings ``call_runner`` and
``wire``, so the sandbox needs no view of the grader, the reference functions or any
expected value.

Protocol (one JSON object per line on the results channel):
    {"ev": "start", "step": "cell:3"}                      before each step (for the watchdog)
    {"ev": "cell", "i": 3, "ok": true, "error": null}
    {"ev": "call", "id": "c1", "ok": true, "value": <wire>, "mutated": [...], "seconds": 0.01}
    {"ev": "done"}

Each cell runs on its own, so a cell that raises does not stop later cells.
"""

from __future__ import annotations

import json
import linecache
import os
import signal
import sys
import traceback
import types

try:  # the deepgrade package
    from . import call_runner, wire
    from .status import Event
except ImportError:  # the sandbox: plain modules (isolation.BOOT)
    import call_runner
    import wire
    from status import Event

CELL_PREFIX = "<cell "


def _channel():
    # read here, not through deepgrade.settings (not importable in the sandbox); listed in its table
    fd = int(os.environ["DEEPGRADE_FD"])
    return os.fdopen(fd, "w", buffering=1, encoding="utf-8")


def _student_traceback(exc: BaseException) -> dict:
    """The student's own frames only: the grader's machinery is not theirs to read."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(CELL_PREFIX)]
    where = [
        {"cell": f.filename[len(CELL_PREFIX) : -1], "line": f.lineno, "function": f.name, "code": (f.line or "")[:200]}
        for f in frames[-4:]
    ]
    message = str(exc)
    return {"type": type(exc).__name__, "message": message[:500], "where": where}


class _OtterStub(types.ModuleType):
    """`import otter; grader = otter.Notebook()` works in grading; its checks do nothing."""

    class Notebook:
        def __init__(self, *args, **kwargs):
            pass

        def check(self, *args, **kwargs):
            return None

        def check_all(self, *args, **kwargs):
            return None

        def __getattr__(self, name):
            return lambda *a, **k: None


def _install_stubs() -> None:
    sys.modules["otter"] = _OtterStub("otter")


def _strip_magics(source: str) -> str:
    # IPython syntax is not Python: drop line magics and shell escapes, keep the rest
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            lines.append("")
        else:
            lines.append(line)
    return "\n".join(lines)


def run_cell(index: int, source: str, namespace: dict) -> dict | None:
    filename = f"{CELL_PREFIX}{index}>"
    source = _strip_magics(source)
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    try:
        code = compile(source, filename, "exec")
        exec(code, namespace)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt too: later cells still run
        return _student_traceback(exc)
    return None


def run_call(call: dict, namespace: dict, kept: dict) -> dict:
    """One planned call, by the runner the student's copy uses too (call_runner.py)."""
    return call_runner.run_call(call, namespace, kept, _student_traceback)


def _items():
    """The grader's work, one JSON object a line on the input pipe, read only as needed:
    the cells, then (once they have run) the public calls, then the hidden calls."""
    fd = int(os.environ["DEEPGRADE_IN"])  # listed in deepgrade.settings' table, read here (sandbox)
    os.set_inheritable(fd, False)  # not handed on to the student's subprocesses
    with os.fdopen(fd, "rb") as inp:
        for line in inp:
            yield json.loads(line)


def main() -> None:
    out = _channel()
    os.set_inheritable(out.fileno(), False)
    # Writing past the file-size limit must fail the student's print, not kill us.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    _install_stubs()

    def send(msg: dict) -> None:
        out.write(wire.dumps(msg) + "\n")
        out.flush()

    namespace: dict = {"__name__": "__main__"}
    kept: dict = {}
    me = os.getpid()

    def only_me() -> None:
        # a process the student forked (os.fork in a cell) returns here too: it must not
        # act as the worker (read the grader's work, report twice)
        if os.getpid() != me:
            os._exit(0)

    for item in _items():
        if "cell" in item:
            cell = item["cell"]
            send({"ev": Event.START, "step": f"cell:{cell['index']}"})
            error = run_cell(cell["index"], cell["source"], namespace)
            only_me()
            send({"ev": Event.CELL, "i": cell["index"], "ok": error is None, "error": error})
        elif "call" in item:
            call = item["call"]
            send({"ev": Event.START, "step": f"call:{call['id']}"})
            result = run_call(call, namespace, kept)
            only_me()
            result.update(ev=Event.CALL, id=call["id"])
            send(result)
        else:
            break
    send({"ev": Event.DONE})
    out.close()
    # Student threads or atexit hooks must not keep the sandbox alive.
    os._exit(0)


if __name__ == "__main__":
    main()
