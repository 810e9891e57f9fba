"""Execute one planned call of a student's function: the one call runner, used twice.

Inside the sandbox ``worker.py`` imports this file (sent with the rest of ``deepgrade.portable``);
in the student's copy ``_deepgrade_check/student_runner.py`` imports it, so ``grader.check`` calls
the student's functions exactly as grading does. Numpy and the standard library only.

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

import numpy as np

try:  # the deepgrade package, or the student copy's package
    from . import wire
    from .dependencies import Recorder
    from .status import ErrorKind
except ImportError:  # the sandbox: plain modules (isolation.BOOT)
    import wire
    from dependencies import Recorder
    from status import ErrorKind


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
