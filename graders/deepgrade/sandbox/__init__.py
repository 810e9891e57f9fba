"""Stage 2: run a notebook's cells and the planned calls in an isolated process.

The student's code runs in a child process made by isolation.py (see there what it can
and cannot do). The grader talks to it over two pipes it made: on the input pipe it sends
every module of ``deepgrade.portable`` (``portable.MODULES``), then the work in phases, each only after the
previous one has finished: the cells, then the public calls, then the hidden calls (so no
cell and no public call can see a hidden fixture's inputs, in memory or on disk); the
child reports on the results pipe in the wire format. Nothing is ever read back from a
path the student could write: the student's stdout/stderr go to an unnamed file the
grader holds.

The results channel is decoded by a total, bounded decoder (line length, total bytes,
message count, nesting depth, every field's type): anything malformed or out of turn
costs only the step it arrived in, with a reason; the grader never raises on it.

Nothing the student's process sent is ever quoted in what the grader says (protocol
errors, notes, incidents): those name the kind of violation only, in fixed words
(``channel.KINDS``), since a hidden call's inputs are in that process's memory. What the
student's code itself reports (an exception's type and message, a returned value) is
shown only as feedback.error_check and judge.judge_case allow (nothing of it on a hidden
check); type names of returned objects (``wire.Opaque``) are dropped from hidden calls.

Memory: one submission's channel carries at most ``MAX_CHANNEL_BYTES`` over all its
restarts, one line at most ``MAX_LINE_BYTES`` (a longer one is skipped, costing its
step), and the values kept for comparison at most ``MAX_VALUE_BYTES`` counted as float64
(what the comparison makes of them). The grader's own memory for a submission stays
below about ``GRADER_MEMORY_BYTES`` (measured by tests/security/test_grader_memory.py). Decoding
happens inside the submission's wall-clock budget: the one deadline (budget.py) that the
grader's checks after the run count against too.

A watchdog gives every step (a cell, a call) its own wall-clock budget. A step that
hangs, crashes the interpreter or exhausts memory is recorded and the child is started
again with that step skipped, so one bad cell costs only what depends on it. Cell
outcomes are recorded from the first run only.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from .. import portable, settings
from ..portable import call_runner, wire
from ..portable.dependencies import read_records
from ..portable.status import ErrorKind, Event, StepStatus
from .budget import Deadline
from .channel import KINDS, MAX_CHANNEL_BYTES, MAX_LINE_BYTES, MAX_RESULT_BYTES, ChannelError, decode_message  # noqa: F401
from .disk import MAX_DEPTH, DiskPlan, FolderUse
from .filecount import FileCount
from .isolation import (
    Cgroup,
    Limits,
    SetupError,
    _no_namespaces_filter,
    check_fallback,
    command,
    environment,
    fallback_disk,
    guard_grader,
    isolation_mode,
    kill_uid,
    make_workdir,
    needed_paths,
    preexec,
    private_parent,
    reach_plan,
    reclaim,
    sandbox_uid,
    tmpfs_bytes,
)
from .stored import StoredError, decode_fields, encode_fields

__all__ = ["Limits", "RunResult", "SetupError", "StepOutcome", "isolation_mode", "run"]

PORTABLE = Path(portable.__file__).resolve().parent
MAX_RESTARTS = 12
WATCH_SECONDS = 1.0  # how often a bubblewrap sandbox's file count is read (filecount.py)
# the values one submission's calls return, counted as float64 (the comparison converts them)
MAX_VALUE_BYTES = 4 * MAX_RESULT_BYTES
# a line being decoded (~3.5x its length: the text, its str, base64's bytes, the array),
# the kept values and their float64 copies while comparing, with room to spare
GRADER_MEMORY_BYTES = 256 * 1024**2
# the Protocol error's words per kind (a message too long is most likely a value too large)
_TOO_LONG = f"a message larger than the grader accepts (a value over {MAX_RESULT_BYTES // 2**20} MiB?)"


class StepOutcome(call_runner.StepOutcome):
    """portable.call_runner.StepOutcome (its fields, what run_calls gives in process), with the
    stored form batch.py resumes from."""

    def to_dict(self) -> dict:
        """Every field, by name, in stored.py's lossless form (a field added later is
        stored too). Raises stored.Unstorable for a value of a kind it does not hold."""
        return encode_fields(self)

    @classmethod
    def from_dict(cls, data: object) -> StepOutcome:
        """Back from ``to_dict()``; a field the stored form lacks gets its default.
        Raises stored.StoredError on anything malformed."""
        outcome = decode_fields(cls, data)
        if not isinstance(outcome.status, str):
            raise StoredError("a stored outcome without a status")
        return outcome


@dataclass
class RunResult:
    cells: dict[int, StepOutcome]
    calls: dict[str, StepOutcome]
    notes: list[str]
    isolation: str
    # of the submission's time budget, what was spent when the run ended (budget.py: its
    # outputs' checks get the rest, re-scored or not)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        """JSON-able (cells as [index, outcome] pairs: JSON keys are strings)."""
        return {
            "cells": [[i, o.to_dict()] for i, o in sorted(self.cells.items())],
            "calls": {cid: o.to_dict() for cid, o in self.calls.items()},
            "notes": [str(n) for n in self.notes],
            "isolation": str(self.isolation),
            "seconds": float(self.seconds),
        }

    @classmethod
    def from_dict(cls, data: object) -> RunResult:
        """Back from ``to_dict()``. Raises stored.StoredError on anything malformed."""
        if not isinstance(data, dict):
            raise StoredError("a stored run that is not an object")
        cells, calls, notes = data.get("cells"), data.get("calls"), data.get("notes")
        if not isinstance(cells, list) or not isinstance(calls, dict) or not isinstance(notes, list):
            raise StoredError("a stored run without its cells, calls or notes")
        if not all(isinstance(c, list) and len(c) == 2 and type(c[0]) is int for c in cells):
            raise StoredError("a stored run with a malformed cell")
        if not all(isinstance(n, str) for n in notes) or not isinstance(data.get("isolation"), str):
            raise StoredError("a stored run with malformed notes")
        seconds = data.get("seconds", 0.0)  # a run stored before it was kept: none spent
        if type(seconds) not in (int, float) or not 0 <= seconds < 1e9:
            raise StoredError("a stored run with malformed seconds")
        return cls(
            {i: StepOutcome.from_dict(o) for i, o in cells},
            {str(cid): StepOutcome.from_dict(o) for cid, o in calls.items()},
            list(notes),
            data["isolation"],
            float(seconds),
        )


# what a step did when the sandbox's files were over a cap (filecount.py; disk.FolderUse)
_DISK_WORDS = {
    "files": lambda limits: f"made more than {limits.inodes:,} files and folders",
    "disk": lambda limits: f"wrote more than {tmpfs_bytes(limits) // 2**20:,} MiB into its working folder",
    "uncountable": lambda limits: (
        f"made folders the grader cannot measure (nested over {MAX_DEPTH} deep, or closed to their owner)"
    ),
}


def _describe_stop(kind: str, step: str, seconds: float, limits: Limits) -> tuple[StepStatus, str]:
    what = f"cell {int(step[5:]) + 1}" if step.startswith("cell:") else "this call"
    if kind == "timeout":
        return StepStatus.TIMEOUT, f"{what} was stopped after {seconds:g} s (an endless loop, or far too slow)"
    if kind == "memory":
        return StepStatus.MEMORY, f"{what} used more than the {limits.memory_bytes / 1024**3:g} GB memory limit"
    if kind in _DISK_WORDS:  # each file costs kernel memory: the memory status, with its own reason
        return StepStatus.MEMORY, f"{what} {_DISK_WORDS[kind](limits)} (the sandbox's limit)"
    return StepStatus.CRASHED, f"the Python process ended during {what} (exit, os._exit, a signal or a crash)"


def _grader_error(kind: ErrorKind, message: str) -> dict:
    return {"type": kind, "message": message, "where": []}


def _phases(calls: list[dict]) -> tuple[list[str], list[str]]:
    """Call ids: the public phase, then the hidden one. A public call that depends (Ref) on
    a call of the hidden phase runs in the hidden phase (after it), with hidden treatment."""
    hidden: set[str] = set()
    for c in calls:
        refs = [a["r"][0] for a in [*c.get("args", []), *c.get("kwargs", {}).values()] if _is_ref(a)]
        if c.get("hidden") or any(r in hidden for r in refs):
            hidden.add(c["id"])
    return [c["id"] for c in calls if c["id"] not in hidden], [c["id"] for c in calls if c["id"] in hidden]


def _is_ref(arg) -> bool:
    return isinstance(arg, dict) and "r" in arg and isinstance(arg["r"], list) and len(arg["r"]) == 2


def run(
    cells: list[tuple[int, str]],
    calls: list[dict],
    limits: Limits | None = None,
    extra_ro: list[str] | None = None,
    private: list[str] | None = None,
    deadline: Deadline | None = None,
) -> RunResult:
    """Execute notebook cells then calls in a sandbox; return their outcomes.

    cells: (index, source) in notebook order. calls: plan entries for the worker
    (id, function, args, kwargs as wire values, optional keep / returns / seconds / harness /
    hidden). private: paths the sandbox must not be able to read (checked in process mode).
    deadline: the submission's (budget.py, on the monotonic clock; default: ``limits.total_seconds``
    from now); the result's ``seconds`` is what it had spent when the run ended.

    Raises SetupError when the sandbox cannot be made: no sandbox uid, the fallback's checks
    (isolation.check_fallback), a child that cannot be started (bwrap or Python missing, its
    cgroup or mounts refused), or a first start that never reports ready (its first message,
    sent before any student code runs). That is the grader's failure, never a student's: no
    outcome is recorded. A child that dies later (a crash, os._exit, a signal, out of memory)
    is the student's: recorded, and the child restarted.
    """
    limits = limits or Limits()
    deadline = deadline or Deadline(limits.total_seconds)
    if deadline.clock is not time.monotonic:
        raise ValueError("the sandbox's deadline must be on time.monotonic (its watchdog waits on it)")
    mode = isolation_mode()
    reclaim()
    state = _State(cells, calls, limits, deadline.ends())
    parent = private_parent()
    try:
        try:
            uid = sandbox_uid()
        except (OSError, RuntimeError) as exc:
            raise SetupError(
                f"no sandbox uid could be taken: {exc}",
                "free or remove what the message names (the uid slots' locks live in /run/deepgrade-uids), then run again",
            ) from None
        if mode == "process":
            if uid is None:
                guard_grader()
            check_fallback([str(p) for p in private or []])  # SetupError: nobody is graded
        workdir = make_workdir(parent, uid) if mode == "process" else None
        needed = needed_paths(extra_ro)
        reach = reach_plan(needed) if uid is not None else []
        disk = fallback_disk(limits, parent, workdir, uid, reach, needed) if mode == "process" else None
        spec = _Spec(mode, limits, extra_ro or [], workdir, uid, parent, reach, disk)
        restarts = 0
        while True:
            if _session(spec, state) or state.received > MAX_CHANNEL_BYTES:
                break  # done, or the submission's whole channel budget is spent: no restart
            state.skip_after_hang()
            if state.first_start_failure:
                continue  # a failed start is retried until its patience runs out, not counted
            restarts += 1
            if restarts > MAX_RESTARTS or time.monotonic() >= state.deadline:
                state.notes.append("the time budget for this submission ran out; remaining steps were not run")
                break
        if state.received > MAX_CHANNEL_BYTES:
            result = state.result(mode, "not run: the submission had sent more data than the grader accepts")
        else:
            result = state.result(mode)
        result.seconds = deadline.spent()
        return result
    finally:
        # fd-based: never follows a symlink the student planted; FIFOs are unlinked, not opened
        shutil.rmtree(parent, ignore_errors=True)


@dataclass
class _Spec:
    mode: str
    limits: Limits
    extra_ro: list[str]
    workdir: Path | None
    uid: int | None
    parent: Path
    reach: list
    disk: DiskPlan | None = None  # the fallback's private mounts (disk.py); None: its watchdog


class _State:
    """The outcomes so far, across restarts of the child."""

    def __init__(self, cells: list[tuple[int, str]], calls: list[dict], limits: Limits, deadline: float) -> None:
        self.limits = limits
        self.cells = [(int(i), str(s)) for i, s in cells]
        self.sources = {i: s.splitlines() for i, s in self.cells}
        self.calls = {c["id"]: c for c in calls}
        self.order = [c["id"] for c in calls]
        self.public, self.hidden = _phases(calls)
        self.hidden_set = set(self.hidden)
        self.call_seconds = {c["id"]: float(c.get("seconds") or limits.call_seconds) for c in calls}
        self.results_cells: dict[int, StepOutcome] = {}
        self.results_calls: dict[str, StepOutcome] = {}
        self.stopped_cells: set[int] = set()
        self.first_start_failure = 0.0  # when the current streak of failed starts began
        self.ready = False  # a child has reported (before any student code): the set-up works
        self.notes: list[str] = []
        self.deadline = deadline  # time.monotonic() when the submission's budget ends
        self.received = 0  # bytes on the results channel, over every restart
        self.value_bytes = 0  # returned values kept, as float64 bytes

    def phases(self) -> list[list[tuple[str, dict]]]:
        """The work for a new child: the cells that did not hang or crash (they define the
        functions, so they run again after a restart), then the calls without an outcome."""
        cells = [
            (f"cell:{i}", {"cell": {"index": i, "source": s}}) for i, s in self.cells if i not in self.stopped_cells
        ]
        out = [cells]
        for ids in (self.public, self.hidden):
            out.append([(f"call:{cid}", {"call": self.calls[cid]}) for cid in ids if cid not in self.results_calls])
        return out

    def budget(self, step: str) -> float:
        return self.limits.cell_seconds if step.startswith("cell:") else self.call_seconds[step[5:]]

    def record(self, step: str, outcome: StepOutcome) -> None:
        if step.startswith("cell:"):
            i = int(step[5:])
            if outcome.status.stopped:
                self.stopped_cells.add(i)
            self.results_cells.setdefault(i, outcome)  # the first run's outcome only
        else:
            outcome.hidden_phase = step[5:] in self.hidden_set and not self.calls[step[5:]].get("hidden")
            self.results_calls.setdefault(step[5:], outcome)

    def skip_after_hang(self) -> None:
        """A function that hung or crashed once is not called again: each retry would cost
        its whole budget. Its remaining calls get the same status, with the reason."""
        bad: dict[str, StepOutcome] = {}
        for cid in self.order:
            o = self.results_calls.get(cid)
            fn = self.calls[cid]["function"]
            if o is not None and o.status.stopped and fn not in bad:
                bad[fn] = o
        for cid in self.order:
            fn = self.calls[cid]["function"]
            if cid in self.results_calls or fn not in bad:
                continue
            first = bad[fn]
            message = f"not run again: {fn} was stopped on an earlier check ({first.error['message']})"
            self.results_calls[cid] = StepOutcome(first.status, error=_grader_error(first.status.error_kind, message))

    def result(self, mode: str, why: str = "not run: the submission's time budget was used up") -> RunResult:
        for i, _ in self.cells:
            self.results_cells.setdefault(i, StepOutcome(StepStatus.NOT_RUN))
        for cid in self.order:
            self.results_calls.setdefault(
                cid, StepOutcome(StepStatus.NOT_RUN, error=_grader_error(ErrorKind.NOT_RUN, why))
            )
        return RunResult(self.results_cells, self.results_calls, self.notes, mode)


def _bundle() -> bytes:
    """The whole of deepgrade.portable for the child (isolation.BOOT runs the last of the
    order, worker.py, as __main__): a length line, then {"order": [...], "files": {name: source}}."""
    files = {name: (PORTABLE / name).read_text(encoding="utf-8") for name in portable.MODULES}
    body = json.dumps({"order": list(portable.MODULES), "files": files}).encode()
    return str(len(body)).encode() + b"\n" + body


def _line(item: dict) -> bytes:
    return (json.dumps(item, separators=(",", ":")) + "\n").encode()


def _session(spec: _Spec, state: _State) -> bool:
    """One child process; True when it finished the work, False when it must be restarted."""
    limits = spec.limits
    cmd = command(spec.mode, limits, spec.extra_ro)
    home = "/sandbox" if spec.mode == "bubblewrap" else str(spec.workdir)
    cgroup = Cgroup(limits)
    in_r, in_w = os.pipe()
    ch_r, ch_w = os.pipe()
    # the student's stdout/stderr: an unnamed file only the grader holds (capped by RLIMIT_FSIZE)
    log = tempfile.TemporaryFile(dir=spec.parent)
    try:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            cwd=home if spec.mode == "process" else "/",
            env=environment(home, ch_w, in_r),
            pass_fds=(ch_w, in_r),
            preexec_fn=preexec(
                limits,
                cgroup.procs_files(),
                spec.uid,
                spec.reach,
                _no_namespaces_filter() if spec.mode == "process" else None,
                spec.disk,
            ),
            start_new_session=True,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        for fd in (in_r, in_w, ch_r, ch_w):
            os.close(fd)
        log.close()
        cgroup.close()
        # bwrap or Python missing, a cgroup or mount refused between fork and exec: the
        # grader's set-up, at the first start as at a restart (no student code runs in it)
        raise SetupError(f"the sandbox could not start: {exc}", _setup_fix(spec.mode, cmd[0])) from None
    os.close(ch_w)
    os.close(in_r)
    fcntl.fcntl(in_w, fcntl.F_SETFL, fcntl.fcntl(in_w, fcntl.F_GETFL) | os.O_NONBLOCK)
    watch = FileCount(proc.pid, tmpfs_bytes(limits)) if spec.mode == "bubblewrap" else None
    # the fallback without private mounts: its working folder summed from here (disk.py)
    folder = None
    if spec.mode == "process" and spec.disk is None:
        folder = FolderUse(spec.workdir, tmpfs_bytes(limits), limits.inodes)
    channel = _Channel(state, limits, cgroup, watch, folder)
    try:
        finished = channel.serve(ch_r, in_w)
    except _NeverReady:
        raise SetupError(_never_ready(proc, log), _setup_fix(spec.mode, cmd[0])) from None
    finally:
        _stop(proc, cgroup, spec.uid)
        _keep_log(log)
        os.close(ch_r)
        try:
            os.close(in_w)
        except OSError:
            pass
        log.close()
    return finished


class _NeverReady(Exception):
    """No child of this run ever reported ready (see run)."""


def _never_ready(proc: subprocess.Popen, log) -> str:
    """Why the first start failed: the exit status and the last line the child wrote (no
    student code has run: the text is the system's, bwrap's or Python's)."""
    try:
        code = proc.wait(timeout=2)  # its pipe closed as it ended: reap it
    except subprocess.TimeoutExpired:
        code = None
    if code is None:
        how = "did not report ready in time"
    elif code < 0:
        how = f"was killed by signal {-code}"
    else:
        how = f"exited with status {code}"
    last = ""
    try:
        size = log.seek(0, os.SEEK_END)
        log.seek(max(0, size - 4096))
        lines = [ln.strip() for ln in log.read().decode("utf-8", "replace").splitlines() if ln.strip()]
        last = "".join(ch if ch.isprintable() else "?" for ch in lines[-1][:300]) if lines else ""
    except (OSError, ValueError):
        pass
    return f"the sandbox's Python process {how} before running anything" + (f" ({last})" if last else "")


def _setup_fix(mode: str, exe: str) -> str:
    if mode == "bubblewrap":
        return (
            f"reinstall or repair bubblewrap ({exe}) so that it runs for this user here (Debian package "
            "'bubblewrap'), or set DEEPGRADE_SANDBOX=process (weaker isolation, see the README); "
            "DEEPGRADE_SANDBOX_LOG=FILE keeps the sandbox's own output"
        )
    return (
        "make the Python installation runnable by the sandbox user (README: without bubblewrap); "
        "DEEPGRADE_SANDBOX_LOG=FILE keeps the sandbox's own output"
    )


class _Channel:
    """The grader's side of one child's pipes: feeds the phases, reads and judges the reports."""

    def __init__(
        self,
        state: _State,
        limits: Limits,
        cgroup: Cgroup,
        watch: FileCount | None = None,
        folder: FolderUse | None = None,
    ) -> None:
        self.state = state
        self.watch = watch
        self.folder = folder
        self.folder_watched = time.monotonic()
        self.watched = time.monotonic()
        self.cgroup = cgroup
        self.limits = limits
        self.phases = deque(state.phases())
        self.out = bytearray(_bundle())
        self.expect: deque[str] = deque()
        self.current: str | None = None
        self.started_any = False
        self.end_sent = False
        self.discard = False
        self.clock = time.monotonic()
        self.received = 0
        n_steps = sum(len(p) for p in self.phases)
        self.max_messages = 3 * n_steps + 50
        self.messages = 0
        self.stray: list[str] = []

    def _feed(self) -> None:
        """Send the next phase once every step of the previous one has reported."""
        while self.current is None and not self.expect and not self.end_sent:
            if self.phases:
                for step, item in self.phases.popleft():
                    self.expect.append(step)
                    self.out += _line(item)
            else:
                self.out += _line({"end": True})
                self.end_sent = True

    def serve(self, ch_r: int, in_w: int) -> bool:
        buffer = bytearray()
        skipping = False
        self._feed()
        stop_kind = None
        finished = False
        while not finished:
            now = time.monotonic()
            budget = self.state.budget(self.current) if self.current else self.limits.cell_seconds
            ends = min(self.clock + budget, self.state.deadline)
            timeout = max(0.0, ends - now)
            if self.watch is not None:
                timeout = min(timeout, WATCH_SECONDS)
            if self.folder is not None:
                timeout = min(timeout, self.folder.interval)
            wlist = [in_w] if self.out and in_w is not None else []
            ready, writable, _ = select.select([ch_r], wlist, [], timeout)
            if self.watch is not None and time.monotonic() - self.watched >= WATCH_SECONDS:
                self.watched = time.monotonic()
                used = self.watch.used()
                if used is not None and used > self.limits.inodes:
                    stop_kind = "files"
                    break
            if self.folder is not None and time.monotonic() - self.folder_watched >= self.folder.interval:
                stop_kind = self.folder.over()
                self.folder_watched = time.monotonic()
                if stop_kind is not None:
                    break
            if writable:
                try:
                    n = os.write(in_w, self.out[: 1 << 16])
                    del self.out[:n]
                except BlockingIOError:
                    pass
                except OSError:  # the child closed its end: it is gone or will be
                    self.out.clear()
                    in_w = None
            if not ready:
                if not writable and time.monotonic() >= ends:
                    stop_kind = "timeout"
                    break
                continue
            chunk = os.read(ch_r, 1 << 20)
            if not chunk:
                stop_kind = "eof"
                break
            self.state.received += len(chunk)
            if self.state.received > MAX_CHANNEL_BYTES:
                stop_kind = "flood"
                break
            buffer += chunk
            while not finished:
                nl = buffer.find(b"\n")
                if nl < 0:
                    if len(buffer) > MAX_LINE_BYTES or (skipping and buffer):
                        # never held whole: dropped as it comes, up to its end
                        if not skipping:
                            self._violation("message too long")
                        skipping = True
                        buffer.clear()
                    break
                line = bytes(buffer[:nl])
                del buffer[: nl + 1]
                if skipping:  # the end of a line too long
                    skipping = False
                    continue
                self.messages += 1
                if self.messages > self.max_messages:
                    stop_kind = "flood"
                    break
                finished = self._handle(line)
                del line
            if stop_kind:
                break
            self._feed()
        if finished:
            self._note_stray()
            return True
        return self._stopped(stop_kind)

    def _handle(self, line: bytes) -> bool:
        """One message; True when the child finished its work."""
        try:
            msg = decode_message(line)
            return self._accept(msg)
        except ChannelError as exc:
            self._violation(str(exc))
        except Exception:  # total: nothing the student sends may raise in the grader
            self._violation("not a message of the protocol")
        return False

    def _violation(self, kind: str) -> None:
        kind = kind if kind in KINDS else "not a message of the protocol"  # fixed words only
        if self.current is not None:
            message = (
                _TOO_LONG
                if kind == "message too long"
                else f"the grader's results channel received a malformed or forged message ({kind})"
            )
            self.state.record(
                self.current, StepOutcome(StepStatus.ERROR, error=_grader_error(ErrorKind.PROTOCOL, message))
            )
            self.current = None
            self.clock = time.monotonic()
            self.discard = True  # the step's own report, if it comes, is not believed
        else:
            self.stray.append(kind)

    def _note_stray(self) -> None:
        # no count: how many were sent is the student's number to choose
        if self.stray:
            note = f"malformed or forged messages on the grader's channel were ignored (first: {self.stray[0]})"
            if note not in self.state.notes:
                self.state.notes.append(note)

    def _accept(self, msg: dict) -> bool:
        ev = msg["ev"]
        if ev == Event.START:
            if self.current is None and self.expect and msg["step"] == self.expect[0]:
                self.current = self.expect.popleft()
                self.started_any = True
                self.state.ready = True
                self.state.first_start_failure = 0.0  # a new streak of failed starts starts over
                self.discard = False
                self.clock = time.monotonic()
                return False
            if self.discard:
                return False
            raise ChannelError("a step started out of turn")
        if ev == Event.DONE:
            if self.current is None and not self.expect and self.end_sent:
                return True
            if self.discard:
                return False
            raise ChannelError("'done' before the work was done")
        step = f"cell:{msg['i']}" if ev == Event.CELL else f"call:{msg['id']}"
        if self.current != step:
            if self.discard:
                return False
            raise ChannelError("a result for a step that is not running")
        if ev == Event.CELL:
            status = StepStatus.OK if msg["ok"] else StepStatus.ERROR
            outcome = StepOutcome(status, error=_error(msg["error"], self.state))
        else:
            outcome = _call_outcome(msg, self.state)
        self.state.record(step, outcome)
        self.current = None
        self.clock = time.monotonic()
        return False

    def _stopped(self, stop_kind: str | None) -> bool:
        self._note_stray()
        if stop_kind == "flood":
            note = "the submission sent more data than allowed on the grader's channel; it was stopped"
            if note not in self.state.notes:
                self.state.notes.append(note)
        if stop_kind in ("files", "disk", "uncountable") and self.current is None:
            note = f"the submission {_DISK_WORDS[stop_kind](self.limits)}; it was stopped"
            if note not in self.state.notes:
                self.state.notes.append(note)
        if self.current is None:
            if not self.started_any:
                # a start can fail for a moment (a neighbour's fork bomb holding every process
                # of a shared uid when the grader is not root): try again, then give up
                now = time.monotonic()
                self.state.first_start_failure = self.state.first_start_failure or now
                patience = 2 * self.limits.cell_seconds + 5
                if now - self.state.first_start_failure > patience or now + 1 >= self.state.deadline:
                    if not self.state.ready:
                        raise _NeverReady  # no child ever started: the set-up, not the student
                    self.state.notes.append("the Python process could not start or ended before the first cell")
                    return True
                time.sleep(1.0)
                return False
            # died or stalled between steps (a student thread, an atexit hook): go on from there
            return False
        step = self.current
        kind = "crashed" if stop_kind in ("eof", "flood") else stop_kind
        if stop_kind == "eof" and self.cgroup.hit_memory_limit():
            kind = "memory"
        budget = round(self.state.budget(step), 1)
        status, message = _describe_stop(kind, step, budget, self.limits)
        self.state.record(
            step,
            StepOutcome(status, error=_grader_error(status.error_kind, message), seconds=time.monotonic() - self.clock),
        )
        return False


def _error(error: dict | None, state: _State) -> dict | None:
    """An error report from the sandbox, reduced to short strings and to frames of cells the
    grader sent, with each line's text taken from the grader's copy of the cell."""
    if error is None:
        return None
    where = []
    for w in error.get("where", [])[-4:]:
        cell = w["cell"]
        if isinstance(cell, str):
            if not cell.isdigit():
                continue
            cell = int(cell)
        lines = state.sources.get(cell)
        if lines is None or not 1 <= w["line"] <= len(lines):
            continue
        function = w.get("function", "")
        where.append(
            {
                "cell": cell,
                "line": w["line"],
                "function": function[:60] if function.isidentifier() or function == "<module>" else "?",
                "code": lines[w["line"] - 1].strip()[:200],
            }
        )
    return {"type": error["type"][:100], "message": error.get("message", "")[:500], "where": where, "from": "sandbox"}


def _call_outcome(msg: dict, state: _State) -> StepOutcome:
    seconds = float(msg.get("seconds", 0) or 0)
    hidden = msg["id"] in state.hidden_set
    try:  # the calls it made to its parts: plain values; malformed entries are dropped
        records = read_records(msg.get("parts"))
    except Exception:
        records = []
    records_size = sum(_float64_bytes((r.args, r.value)) for r in records)
    if state.value_bytes + records_size > MAX_VALUE_BYTES:
        records = []  # over the submission's budget: judged without them (no alternative)
    else:
        state.value_bytes += records_size
    if not msg["ok"]:
        error = _error(msg["error"], state)
        if hidden:
            error["hidden"] = True
        return StepOutcome(StepStatus.ERROR, error=error, seconds=seconds, parts=records)
    try:
        value = wire.decode(msg["value"])
    except Exception:  # WireError, RecursionError, MemoryError: its text may quote the value
        return StepOutcome(StepStatus.ERROR, error=_grader_error(ErrorKind.UNREADABLE, UNREADABLE))
    size = _float64_bytes(value)
    if size > MAX_RESULT_BYTES or state.value_bytes + size > MAX_VALUE_BYTES:
        return StepOutcome(StepStatus.ERROR, error=_grader_error(ErrorKind.UNREADABLE, TOO_LARGE))
    state.value_bytes += size
    if hidden:
        value = _blind(value)
    # argument indices the call really has: any other number would be shown to the student
    # ("argument N was changed") as the student's process chose it
    n_args = len(state.calls[msg["id"]].get("args", [])) if msg["id"] in state.calls else 0
    mutated = sorted({i for i in msg.get("mutated", []) if 0 <= i < n_args})
    return StepOutcome(StepStatus.OK, value=value, mutated=mutated, seconds=seconds, parts=records)


UNREADABLE = "the value returned could not be read (not plain numbers, tuples, dicts, None or short strings)"
TOO_LARGE = (
    f"the value returned is too large: the grader accepts up to {MAX_RESULT_BYTES // 2**20} MiB "
    f"per value and {MAX_VALUE_BYTES // 2**20} MiB for all values of a submission (as float64)"
)


def _float64_bytes(value: object) -> int:
    """What a decoded value costs the comparison: 8 bytes per number of its arrays."""
    if isinstance(value, (tuple, list)):
        return sum(_float64_bytes(v) for v in value)
    if isinstance(value, dict):
        return sum(_float64_bytes(v) for v in value.values())
    if hasattr(value, "size") and hasattr(value, "dtype"):
        return 8 * int(value.size)
    return 0


def _blind(value: object) -> object:
    """A hidden call's value without the type names of objects that did not cross the wire
    (a class the student named after the inputs would be described by name)."""
    if isinstance(value, (tuple, list)):
        return type(value)(_blind(v) for v in value)
    if isinstance(value, dict):
        return {k: _blind(v) for k, v in value.items()}
    if isinstance(value, wire.Opaque):
        return wire.Opaque("object")
    return value


def _keep_log(log) -> None:
    """For an instructor debugging a submission: DEEPGRADE_SANDBOX_LOG=FILE appends the last
    64 KiB of the child's stdout/stderr (read from the grader's own unnamed file) to FILE."""
    dest = settings.get("DEEPGRADE_SANDBOX_LOG")
    if not dest:
        return
    try:
        size = log.seek(0, os.SEEK_END)
        log.seek(max(0, size - 65536))
        with open(dest, "ab") as fh:
            fh.write(b"--- deepgrade sandbox session ---\n" + log.read(65536))
    except OSError:
        pass


def _stop(proc: subprocess.Popen, cgroup: Cgroup, uid: int | None) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    cgroup.kill_all()
    if uid is not None:
        kill_uid(uid)  # what left the session and the cgroup (setsid, double fork)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    cgroup.close()
