"""Execute one planned call of a student's function: the one call runner.

Inside the sandbox ``worker.py`` imports this file (sent with the rest of ``deepgrade.portable``);
in the student's copy ``student_runner.py`` imports it (``_deepgrade_check/deepgrade/portable/``), so ``grader.check`` calls
the student's functions exactly as grading does. ``run_calls`` runs a list of calls in this
process and gives each one's ``StepOutcome``: what the tests, benchmarks and calibration use, and
the keras check models in grader.check (trusted code, or the student's own kernel: no isolation).
Numpy and the standard library only.

A call is a dict: ``id``, ``function``, ``args`` and ``kwargs`` (wire values, or
``{"r": [call id, index]}``: an element of what an earlier call with ``keep`` returned),
optional ``keep``, ``returns`` (the tuple elements that are compared; the others, e.g. a
cache, never leave), ``harness`` (source defining ``run(namespace, *args, **kwargs)``) and
``parts`` (the student's other functions this one calls, assignment.toml ``[uses]``: each call
to them is recorded, parts.Recorder, and sent back as ``"parts"``).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

try:  # the deepgrade package, or the student copy's package
    from . import wire
    from .dependencies import Recorder, read_records
    from .status import ErrorKind, StepStatus
except ImportError:  # the sandbox: plain modules (isolation.BOOT)
    import wire
    from dependencies import Recorder, read_records
    from status import ErrorKind, StepStatus


@dataclass
class StepOutcome:
    """What happened to one cell or call. status: a StepStatus (ok, error, timeout, crashed,
    memory, not run; status.py), stored as its text.

    error: {"type", "message", "where": [{"cell", "line", "function", "code"}]}; for an error
    reported by the sandbox, "from": "sandbox" and each frame's "code" is the grader's own
    copy of that line of the notebook (never text from the channel). The one outcome type:
    ``run_calls`` gives it, and ``sandbox.StepOutcome`` is it with its stored form."""

    status: StepStatus
    value: object = None
    error: dict | None = None
    mutated: list = field(default_factory=list)
    seconds: float = 0.0
    # ran with the hidden calls (a public case that depends on a hidden one): whatever it
    # returned or said may carry hidden inputs, so it must be shown as a hidden check
    hidden_phase: bool = False
    # the calls it made to the student's other functions ([uses]): portable.dependencies.Record list
    parts: list = field(default_factory=list)

    def __post_init__(self) -> None:
        # typed, whatever gave it (a status read back from a stored run is its plain text)
        self.status = StepStatus(self.status)

    @property
    def ok(self) -> bool:
        return self.status == StepStatus.OK


def resolve(arg, kept: dict):
    """A wire value, or {"r": [call_id, index]}: a value an earlier call kept."""
    if isinstance(arg, dict) and "r" in arg:
        call_id, index = arg["r"]
        if call_id not in kept:
            raise LookupError(f"depends on call {call_id}, which did not return")
        value = kept[call_id]
        return value if index is None else value[index]
    return wire.decode(arg)


def same(a, b) -> bool:
    """Did an argument survive the call unchanged? (arrays and dicts of arrays compared)"""
    try:
        if isinstance(a, np.ndarray):
            return isinstance(b, np.ndarray) and a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))
        if isinstance(a, dict):
            return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
        if isinstance(a, (list, tuple)):
            return isinstance(b, (list, tuple)) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
        return True
    except Exception:
        return False


def select(value, returns):
    """Only the compared elements of a tuple cross back; the others keep their place as None."""
    if returns is None:
        return value
    if isinstance(value, (tuple, list)):
        return tuple(v if i in returns else None for i, v in enumerate(value))
    return value


def run_call(call: dict, namespace: dict, kept: dict, describe_error: Callable[[BaseException], dict]) -> dict:
    """Call the student's function on one planned call.

    Returns {"ok": True, "value": <wire>, "mutated": [argument indices], "seconds": s}
    or {"ok": False, "error": {"type", "message", "where"}}; ``describe_error`` turns an
    exception into the student's own frames (each side knows which frames are theirs).
    """
    name = call["function"]
    harness = call.get("harness")
    target = None
    if harness is None:
        target = namespace.get(name)
        if target is None:
            return {
                "ok": False,
                "error": {"type": ErrorKind.MISSING, "message": f"no function named {name} is defined", "where": []},
            }
        if not callable(target):
            return {
                "ok": False,
                "error": {
                    "type": ErrorKind.NOT_CALLABLE,
                    "message": f"{name} is a {type(target).__name__}, not a function",
                    "where": [],
                },
            }
    try:
        args = [resolve(a, kept) for a in call.get("args", [])]
        kwargs = {k: resolve(v, kept) for k, v in call.get("kwargs", {}).items()}
    except LookupError as exc:
        return {"ok": False, "error": {"type": ErrorKind.SKIPPED, "message": str(exc), "where": []}}
    before = [copy.deepcopy(a) for a in args]
    recorder = Recorder((call.get("parts") or []) if harness is None else [])
    records = {"parts": recorder.records} if recorder.names else {}
    start = time.perf_counter()
    try:
        if harness is not None:
            harness_ns: dict = {}
            exec(compile(harness, "<deepgrade harness>", "exec"), harness_ns)
            value = harness_ns["run"](namespace, *args, **kwargs)
        else:
            with recorder.around(target):
                value = target(*args, **kwargs)
    except BaseException as exc:  # SystemExit too: it is the student's failure, not ours
        return {"ok": False, "error": describe_error(exc), "seconds": time.perf_counter() - start, **records}
    seconds = time.perf_counter() - start
    if call.get("keep"):
        kept[call["id"]] = value
    mutated = [i for i, (a, b) in enumerate(zip(before, args)) if not same(a, b)]
    try:
        encoded = wire.encode(select(value, call.get("returns")))
    except BaseException as exc:
        return {
            "ok": False,
            "error": {
                "type": ErrorKind.UNREADABLE,
                "message": f"the value returned could not be read: {type(exc).__name__}",
                "where": [],
            },
        }
    return {"ok": True, "value": encoded, "mutated": mutated, "seconds": seconds, **records}


def plain_error(exc: BaseException) -> dict:
    """An exception as run_call reports it when no frame is worth showing: its type and message."""
    return {"type": type(exc).__name__, "message": str(exc)[:500], "where": []}


def outcome(result: dict, kind: type[StepOutcome] = StepOutcome) -> StepOutcome:
    """run_call's result as a StepOutcome (or ``kind``, a subclass: the grader's sandbox.StepOutcome,
    which can be stored), its value decoded (in this process: the values never crossed a channel;
    the sandbox's host side reads its own with its limits)."""
    parts = read_records(result.get("parts"))
    if result["ok"]:
        value = wire.decode(result["value"])
        return kind(StepStatus.OK, value=value, mutated=list(result["mutated"]), seconds=result["seconds"], parts=parts)
    return kind(StepStatus.ERROR, error=result["error"], seconds=result.get("seconds", 0.0), parts=parts)


def run_calls(
    calls: list[dict],
    namespace: dict,
    describe_error: Callable[[BaseException], dict] = plain_error,
    kind: type[StepOutcome] = StepOutcome,
) -> dict[str, StepOutcome]:
    """Run planned calls (plan.build_calls' form) in order in this process: {call id: outcome}
    (``kind``: StepOutcome or a subclass). Values a call keeps are passed to later calls, as in
    the sandbox; nothing is isolated."""
    kept: dict = {}
    return {call["id"]: outcome(run_call(call, namespace, kept, describe_error), kind) for call in calls}
