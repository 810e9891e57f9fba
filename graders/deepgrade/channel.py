"""The grader's decoder for the sandbox's results channel: total and bounded.

Every line the child writes is checked before it is believed: its length, its nesting
depth (counted before json recurses: deep nesting raised RecursionError), that it is one
of the protocol's messages, and every field's type (a forged ``where`` raised KeyError).
Anything else is a ChannelError, which costs only the step it arrived in (sandbox.py).
"""

from __future__ import annotations

import json
import re

from .portable import wire

MAX_CHANNEL_BYTES = 256 * 1024 * 1024
MAX_LINE_BYTES = wire.MAX_ARRAY_BYTES * 4 // 3 + (1 << 20)  # one array of the largest size, base64
MAX_BRACKETS = 1_000_000  # '[' and '{' in one message (a list of 10,000 numbers has 20,000)
MAX_PART_RECORDS = 512  # portable.parts.MAX_RECORDS
MAX_DEPTH = 64  # a message around a wire value nested 20 deep needs about 45


class ChannelError(ValueError):
    """A message on the results channel that is malformed, too large or forged."""


_EVENTS = ("start", "cell", "call", "done")


def _depth_ok(line: bytes) -> None:
    """Bound the nesting depth before json recurses (deep nesting raised RecursionError)."""
    # strings may hold brackets: drop them first (wire arrays are long base64 strings)
    no_strings = _STRINGS.sub(b"", line)
    brackets = no_strings.translate(None, _NOT_BRACKETS)
    if len(brackets) > MAX_BRACKETS:
        raise ChannelError("too many nested values")
    depth = 0
    for b in brackets:
        depth += 1 if b in (0x5B, 0x7B) else -1
        if depth > MAX_DEPTH:
            raise ChannelError("nested too deeply")


_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


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
    ev = msg["ev"]
    if ev == "start":
        if not isinstance(msg.get("step"), str) or len(msg["step"]) > 1000:
            raise ChannelError("malformed 'start'")
    elif ev == "cell":
        if not _is_int(msg.get("i")) or not isinstance(msg.get("ok"), bool):
            raise ChannelError("malformed cell report")
        if msg.get("error") is not None:
            _check_error(msg["error"])
    elif ev == "call":
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
    """The calls a function made to the student's other functions (portable/parts.py)."""
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
