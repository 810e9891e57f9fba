"""Stage 2: run a notebook's cells and the planned calls in an isolated process.

The student's code runs in a child process made by isolation.py (bubblewrap where the
machine has it: no network, own PID namespace, read-only system; cgroup and rlimit
caps everywhere). It sees only its own temporary folder, the Python installation and
the fixture inputs it is sent, and it reports on a pipe in the wire format.

A watchdog gives every step (a cell, a call) its own wall-clock budget. A step that
hangs, crashes the interpreter or exhausts memory is recorded and the child is started
again with that step skipped, so one bad cell costs only what depends on it.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import wire
from .isolation import Cgroup, Limits, command, drop_for_child, environment, isolation_mode, preexec

HERE = Path(__file__).resolve().parent
MAX_RESTARTS = 12
MAX_CHANNEL_BYTES = 256 * 1024 * 1024


@dataclass
class StepOutcome:
    """What happened to one cell or call. status: ok, error, timeout, crashed, memory, not run."""

    status: str
    value: object = None
    error: dict | None = None
    mutated: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class RunResult:
    cells: dict[int, StepOutcome]
    calls: dict[str, StepOutcome]
    notes: list[str]
    isolation: str


def _describe_stop(kind: str, step: str, seconds: float, limits: Limits) -> tuple[str, str]:
    what = f"cell {step[5:]}" if step.startswith("cell:") else "this call"
    if kind == "timeout":
        return "timeout", f"{what} was stopped after {seconds:g} s (an endless loop, or far too slow)"
    if kind == "memory":
        return "memory", f"{what} used more than the {limits.memory_bytes / 1024**3:g} GB memory limit"
    return "crashed", f"the Python process ended during {what} (exit, os._exit, a signal or a crash)"


def run(
    cells: list[tuple[int, str]],
    calls: list[dict],
    limits: Limits | None = None,
    extra_ro: list[str] | None = None,
    input_files: dict[str, bytes] | None = None,
) -> RunResult:
    """Execute notebook cells then calls in a sandbox; return their outcomes.

    cells: (index, source) in notebook order. calls: plan entries for the worker
    (id, function, args, kwargs as wire values, optional keep / returns / seconds / harness).
    """
    limits = limits or Limits()
    mode = isolation_mode()
    results_cells: dict[int, StepOutcome] = {}
    results_calls: dict[str, StepOutcome] = {}
    notes: list[str] = []
    call_seconds = {c["id"]: float(c.get("seconds", limits.call_seconds)) for c in calls}
    deadline = time.monotonic() + limits.total_seconds
    workdir = Path(tempfile.mkdtemp(prefix="deepgrade-"))
    try:
        shutil.copy(HERE / "worker.py", workdir / "worker.py")
        shutil.copy(HERE / "wire.py", workdir / "wire.py")
        shutil.copy(HERE / "call_runner.py", workdir / "call_runner.py")
        for name, data in (input_files or {}).items():
            (workdir / name).write_bytes(data)
        os.chmod(workdir, 0o777)
        plan = {"cells": [{"index": i, "source": s} for i, s in cells], "calls": calls}
        restarts = 0
        while True:
            plan["skip_calls"] = sorted(results_calls)
            # cells that already ran must run again after a restart: functions live in memory
            plan["skip_cells"] = sorted(
                i for i, o in results_cells.items() if o.status in ("timeout", "crashed", "memory")
            )
            (workdir / "plan.json").write_text(json.dumps(plan))
            finished = _run_once(
                workdir, mode, limits, extra_ro or [], call_seconds, deadline, results_cells, results_calls, notes
            )
            if finished:
                break
            _skip_after_hang(calls, results_calls)
            restarts += 1
            if restarts > MAX_RESTARTS or time.monotonic() >= deadline:
                notes.append("the time budget for this submission ran out; remaining steps were not run")
                break
        for i, _ in cells:
            results_cells.setdefault(i, StepOutcome("not run"))
        for c in calls:
            results_calls.setdefault(
                c["id"],
                StepOutcome(
                    "not run",
                    error={
                        "type": "NotRun",
                        "message": "not run: the submission's time budget was used up",
                        "where": [],
                    },
                ),
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return RunResult(results_cells, results_calls, notes, mode)


def _run_once(workdir, mode, limits, extra_ro, call_seconds, deadline, results_cells, results_calls, notes) -> bool:
    """One child process; True when it reported 'done', False when a step had to be stopped."""
    cmd, home = command(workdir, mode, extra_ro)
    cgroup = Cgroup(limits)
    read_fd, write_fd = os.pipe()
    log = open(workdir / "output.log", "wb")
    try:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            cwd=str(workdir),
            env=environment(home, write_fd),
            pass_fds=(write_fd,),
            preexec_fn=preexec(limits, cgroup.procs_files(), drop_for_child() if mode == "process" else None),
            start_new_session=True,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        os.close(read_fd)
        os.close(write_fd)
        log.close()
        cgroup.close()
        notes.append(f"the sandbox could not start: {exc}")
        return True
    os.close(write_fd)
    step = "start"
    step_started = time.monotonic()
    budget = limits.cell_seconds
    buffer = b""
    received = 0
    finished = False
    stop_kind = None
    try:
        while True:
            now = time.monotonic()
            step_deadline = min(step_started + budget, deadline)
            timeout = max(0.0, step_deadline - now)
            ready, _, _ = select.select([read_fd], [], [], timeout)
            if not ready:
                stop_kind = "timeout"
                break
            chunk = os.read(read_fd, 1 << 20)
            if not chunk:
                stop_kind = "memory" if cgroup.hit_memory_limit() else "crashed"
                break
            received += len(chunk)
            if received > MAX_CHANNEL_BYTES:
                notes.append("the submission sent more data than allowed; it was stopped")
                stop_kind = "crashed"
                break
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                try:
                    msg = wire.loads(line.decode("utf-8"))
                except (ValueError, UnicodeDecodeError):
                    continue  # not ours: the student wrote to the channel
                # Student code shares the worker's process and can write to this channel
                # (fd DEEPGRADE_FD, a forked child): accept a message only where the
                # protocol expects it, i.e. a result only for the step now running and
                # once, a new step or "done" only between steps. Anything else is dropped.
                ev = msg.get("ev")
                if ev == "start":
                    new = str(msg.get("step"))
                    if step not in ("start", "between") or not _known_step(
                        new, call_seconds, results_cells, results_calls
                    ):
                        continue
                    step = new
                    step_started = time.monotonic()
                    budget = (
                        limits.cell_seconds
                        if step.startswith("cell:")
                        else call_seconds.get(step[5:], limits.call_seconds)
                    )
                elif ev == "cell":
                    if step != f"cell:{msg.get('i')}":
                        continue
                    results_cells[int(step[5:])] = StepOutcome(
                        "ok" if msg.get("ok") is True else "error", error=_error(msg.get("error"))
                    )
                    step = "between"
                elif ev == "call":
                    if step != f"call:{msg.get('id')}":
                        continue
                    results_calls[step[5:]] = _call_outcome(msg)
                    step = "between"
                elif ev == "done" and step in ("start", "between"):
                    finished = True
            if finished:
                break
    finally:
        _stop(proc, cgroup)
        os.close(read_fd)
        log.close()
    if finished:
        return True
    if step == "start":
        notes.append("the Python process could not start or ended before the first cell")
        return True
    if step == "between":
        # died between steps (a student thread, an atexit hook): go on from where it was
        return False
    status, message = _describe_stop(stop_kind or "crashed", step, round(budget, 1), limits)
    outcome = StepOutcome(
        status,
        error={"type": status.capitalize(), "message": message, "where": []},
        seconds=time.monotonic() - step_started,
    )
    if step.startswith("cell:"):
        results_cells[int(step[5:])] = outcome
    elif step.startswith("call:"):
        results_calls[step[5:]] = outcome
    return False


def _skip_after_hang(calls: list[dict], results_calls: dict[str, StepOutcome]) -> None:
    """A function that hung or crashed once is not called again: each retry would cost
    its whole budget. Its remaining calls get the same status, with the reason."""
    bad = {}
    for c in calls:
        o = results_calls.get(c["id"])
        if o is not None and o.status in ("timeout", "crashed", "memory") and c["function"] not in bad:
            bad[c["function"]] = o
    for c in calls:
        if c["id"] in results_calls or c["function"] not in bad:
            continue
        first = bad[c["function"]]
        message = f"not run again: {c['function']} was stopped on an earlier check ({first.error['message']})"
        results_calls[c["id"]] = StepOutcome(
            first.status, error={"type": first.status.capitalize(), "message": message, "where": []}
        )


def _known_step(step: str, call_seconds: dict, results_cells: dict, results_calls: dict) -> bool:
    """A step of this plan that has no outcome yet."""
    if step.startswith("call:"):
        return step[5:] in call_seconds and step[5:] not in results_calls
    if step.startswith("cell:") and step[5:].isdigit():
        return int(step[5:]) not in results_cells
    return False


def _seconds(value) -> float:
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


def _error(error) -> dict | None:
    """An error report from the sandbox, reduced to plain short strings (it is untrusted)."""
    if error is None:
        return None
    if not isinstance(error, dict):
        return {"type": "Error", "message": "failed", "where": []}
    where = error.get("where") if isinstance(error.get("where"), list) else []
    return {
        "type": str(error.get("type", "Error"))[:100],
        "message": str(error.get("message", ""))[:500],
        "where": [w for w in where[:4] if isinstance(w, dict)],
    }


def _call_outcome(msg: dict) -> StepOutcome:
    if msg.get("ok") is not True:
        error = _error(msg.get("error")) or {"type": "Error", "message": "failed", "where": []}
        return StepOutcome("error", error=error, seconds=_seconds(msg.get("seconds")))
    try:
        value = wire.decode(msg.get("value"))
    except wire.WireError as exc:
        return StepOutcome(
            "error",
            error={"type": "Unreadable", "message": f"the value returned could not be read: {exc}", "where": []},
        )
    mutated = msg.get("mutated") if isinstance(msg.get("mutated"), list) else []
    mutated = [int(i) for i in mutated if isinstance(i, int)]
    return StepOutcome("ok", value=value, mutated=mutated, seconds=_seconds(msg.get("seconds")))


def _stop(proc: subprocess.Popen, cgroup: Cgroup) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    cgroup.kill_all()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    cgroup.close()
