"""The grader's decoder for the sandbox's results channel: total and bounded.

Every line the child writes is checked before it is believed: its length, its nesting
depth and number of JSON values (counted before json recurses or builds objects: deep
nesting raised RecursionError), that it is one of the protocol's messages, and every
field's type (a forged ``where`` raised KeyError). Anything else is a ChannelError, which
costs only the step it arrived in (sandbox.py).

Memory: decoding one line costs at most a small constant times its length. The structure
check is one linear pass with no backtracking (a regular expression that backtracked over
the whole line held about 120 bytes per character of it); json then builds at most
``MAX_VALUES`` values (~200 bytes each, measured) and strings of at most 4 bytes per
character of the line. A ChannelError's text is one of ``KINDS``: fixed words naming the
kind of violation, never anything the line held (the student's process wrote it).
"""

from __future__ import annotations

import json
import re

from ..portable.status import Event

# The largest value one call may return, counted as float64 (what the comparison makes of
# it): the largest legitimate output of any assignment is under 1 MiB (keras predictions).
# The grader's inputs to the sandbox may be larger (keras's images: wire.MAX_ARRAY_BYTES).
MAX_RESULT_BYTES = 16 * 1024**2
# One submission (all its restarts together) may send this much on the channel: four values
# of the largest size (sandbox.MAX_VALUE_BYTES), base64, and the messages around them.
MAX_CHANNEL_BYTES = 6 * MAX_RESULT_BYTES
MAX_LINE_BYTES = MAX_RESULT_BYTES * 4 // 3 + (1 << 20)  # one value of the largest size, base64
MAX_VALUES = 200_000  # '[', '{', ',' and ':' in one message (a list of 10,000 numbers has ~10,000)
MAX_PART_RECORDS = 512  # portable.dependencies.MAX_RECORDS
MAX_DEPTH = 64  # a message around a wire value nested 20 deep needs about 45

# what a ChannelError may say (sandbox.py shows it to the student, so it is never built from the line)
KINDS = (
    "message too long",
    "too many values in one message",
    "nested too deeply",
    "not a JSON message",
    "not a message of the protocol",
    "malformed 'start'",
    "malformed cell report",
    "malformed call report",
    "a call report without its value",
    "malformed 'mutated'",
    "malformed 'seconds'",
    "malformed error report",
    "malformed error type or message",
    "malformed 'where'",
    "a step started out of turn",
    "'done' before the work was done",
    "a result for a step that is not running",
)


class ChannelError(ValueError):
    """A message on the results channel that is malformed, too large or forged.

    Its text is always one of ``KINDS``; anything else becomes the generic kind."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind if kind in KINDS else "not a message of the protocol")


_EVENTS = tuple(Event)  # a tuple: a forged "ev" may be unhashable (a list)
# after escapes are dropped, a JSON string is '"' then no '"' then '"': one character class,
# which the regular expression engine scans without keeping anything per character
_STRINGS = re.compile(rb'"[^"]*"')
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b"[]{},:")


def json_structure(data: bytes, max_values: int, max_depth: int) -> str | None:
    """What is wrong with JSON text's shape, checked before json recurses (deep nesting
    raised RecursionError) or builds anything: "too many values" past ``max_values``
    '[', '{', ',' and ':', "nested too deeply" past ``max_depth``; None when neither.
    Linear in time and memory (notebook.read uses it too).

    Escapes first: escaped backslashes (in pairs, left to right, as JSON reads them), then
    escaped quotes; what is left between two quotes is a string, dropped (wire arrays are
    long base64 strings and may hold brackets). Each step makes one copy of at most the
    text's length. Where the text is not JSON, json stops at the first byte this reading
    and json's disagree on, having built only what the check counted."""
    no_escapes = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    structure = _STRINGS.sub(b"", no_escapes).translate(None, _NOT_STRUCTURE)
    del no_escapes
    depth = 0
    for b in structure[: max_values + 1].translate(None, b",:"):  # at most max_values steps
        depth += 1 if b in (0x5B, 0x7B) else -1
        if depth > max_depth:
            return "nested too deeply"
    return "too many values" if len(structure) > max_values else None


def _depth_ok(line: bytes) -> None:
    """Bound a message's values and depth (json_structure), or ChannelError."""
    problem = json_structure(line, MAX_VALUES, MAX_DEPTH)
    if problem == "too many values":
        raise ChannelError("too many values in one message")
    if problem:
        raise ChannelError("nested too deeply")


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def decode_message(line: bytes) -> dict:
    """One line of the results channel as a checked message, or ChannelError."""
    if len(line) > MAX_LINE_BYTES:
        raise ChannelError("message too long")
    _depth_ok(line)
    try:
        msg = json.loads(line.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ChannelError("not a JSON message") from None
    if not isinstance(msg, dict) or msg.get("ev") not in _EVENTS:
        raise ChannelError("not a message of the protocol")
    ev = msg["ev"] = Event(msg["ev"])
    if ev == Event.START:
        if not isinstance(msg.get("step"), str) or len(msg["step"]) > 1000:
            raise ChannelError("malformed 'start'")
    elif ev == Event.CELL:
        if not _is_int(msg.get("i")) or not isinstance(msg.get("ok"), bool):
            raise ChannelError("malformed cell report")
        if msg.get("error") is not None:
            _check_error(msg["error"])
    elif ev == Event.CALL:
        if not isinstance(msg.get("id"), str) or not isinstance(msg.get("ok"), bool):
            raise ChannelError("malformed call report")
        if msg["ok"]:
            if "value" not in msg:
                raise ChannelError("a call report without its value")
            m = msg.get("mutated", [])
            if not isinstance(m, list) or len(m) > 1000 or not all(_is_int(i) for i in m):
                raise ChannelError("malformed 'mutated'")
        else:
            _check_error(msg.get("error"))
        s = msg.get("seconds", 0)
        if not isinstance(s, (int, float)) or isinstance(s, bool):
            raise ChannelError("malformed 'seconds'")
        _check_parts(msg.get("parts", []))
    return msg


def _check_parts(records) -> None:
    """The calls a function made to the student's other functions (portable/dependencies.py)."""
    if not isinstance(records, list) or len(records) > MAX_PART_RECORDS:
        raise ChannelError("malformed 'parts'")
    for r in records:
        if (
            not isinstance(r, dict)
            or not isinstance(r.get("part"), str)
            or not isinstance(r.get("args"), dict)
            or not (isinstance(r.get("value"), dict) or isinstance(r.get("error"), str))
        ):
            raise ChannelError("malformed 'parts'")


def _check_error(error) -> None:
    if not isinstance(error, dict):
        raise ChannelError("malformed error report")
    if not isinstance(error.get("type"), str) or not isinstance(error.get("message", ""), str):
        raise ChannelError("malformed error type or message")
    where = error.get("where", [])
    if not isinstance(where, list) or len(where) > 10:
        raise ChannelError("malformed 'where'")
    for w in where:
        if (
            not isinstance(w, dict)
            or not isinstance(w.get("cell"), (str, int))
            or not _is_int(w.get("line"))
            or not isinstance(w.get("function", ""), str)
            or not isinstance(w.get("code", ""), str)
        ):
            raise ChannelError("malformed 'where'")
