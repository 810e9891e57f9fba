"""A lossless JSON form of the values a run's outcomes hold, read back as data.

The batch stores every StepOutcome of a run (``results/outcomes/<stem>.json``) so that a
change to points or policy re-scores without running student code again. The values are
what came back over the wire (numeric arrays, tuples, dicts, None, short strings, the type
names of values that did not cross) plus the grader's own plain fields (status, seconds,
error dicts, lists of argument indices). ``wire.encode`` alone would not give those back as
they were (a float becomes a 0-d array, a list a tuple, an ``Opaque`` its class name), so
each kind has its own tag here, and arrays are wire's: base64 ``.npy``, decoded with
``allow_pickle=False``:

    {"n": null}   None                {"l": [v, ...]}   a list
    {"b": true}   a bool              {"t": [v, ...]}   a tuple
    {"i": 3}      an int              {"d": {k: v}}     a dict with string keys
    {"f": 0.5}    a float             {"a": "<npy>"}    a numeric ndarray (wire.py)
    {"s": "x"}    a str (a StrEnum too: its text) {"g": "<npy>"} a numpy scalar (kept a scalar)
    {"x": "T"}    an Opaque (a value that crossed as its type name only)
    {"c": ["Record", {field: v}]}    an instance of a dataclass named in CLASSES, field
                  by field (portable.dependencies.Record: a part call the sandbox recorded)

``encode_value`` raises ``Unstorable`` on anything else (the batch then stores no outcomes
and a later change re-runs); ``decode_value`` raises ``StoredError`` on anything malformed
and never executes or unpickles what it reads: a class is only ever one of CLASSES, built
from its fields. ``encode_fields`` / ``decode_fields`` do a whole dataclass (StepOutcome).
"""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any

import numpy as np

from ..portable import wire
from ..portable.dependencies import Record

MAX_DEPTH = 40
# the dataclasses an outcome's fields may hold, by name: the only classes decode_value builds
CLASSES: dict[str, type] = {"Record": Record}


class Unstorable(TypeError):
    """A value of a kind this format does not hold."""


class StoredError(ValueError):
    """A stored value that is malformed (the file was damaged or written by something else)."""


def encode_value(value: Any, _depth: int = 0) -> dict:
    """JSON-able form of ``value`` (see the module docstring for the kinds)."""
    if _depth > MAX_DEPTH:
        raise Unstorable("nested too deeply")
    if value is None:
        return {"n": None}
    if isinstance(value, bool):  # before int: bool is an int
        return {"b": value}
    if type(value) is int:
        return {"i": value}
    if type(value) is float:
        return {"f": value}
    if type(value) is str:
        return {"s": value}
    if isinstance(value, str) and isinstance(value, Enum):  # a typed status: stored as its text
        return {"s": str(value.value)}
    if type(value) is list:
        return {"l": [encode_value(v, _depth + 1) for v in value]}
    if type(value) is tuple:
        return {"t": [encode_value(v, _depth + 1) for v in value]}
    if type(value) is dict:
        if not all(type(k) is str for k in value):
            raise Unstorable("a dict with keys that are not strings")
        return {"d": {k: encode_value(v, _depth + 1) for k, v in value.items()}}
    if type(value) is wire.Opaque:
        return {"x": value.type_name}
    if CLASSES.get(type(value).__name__) is type(value):
        return {"c": [type(value).__name__, encode_fields(value, _depth + 1)]}
    if isinstance(value, (np.ndarray, np.generic)):
        encoded = wire.encode(value)
        body = encoded.get("a", encoded.get("g"))  # wire's base64 .npy, whichever tag it gives
        if not isinstance(body, str):  # an object or string array: not a value the wire gives back
            raise Unstorable(f"array of dtype {np.asarray(value).dtype}")
        return {"g" if isinstance(value, np.generic) else "a": body}
    raise Unstorable(f"a value of type {type(value).__name__}")


def decode_value(data: Any, _depth: int = 0) -> Any:
    """The value ``encode_value`` was given. Raises StoredError on anything malformed."""
    if _depth > MAX_DEPTH or not isinstance(data, dict) or len(data) != 1:
        raise StoredError("malformed value")
    ((tag, body),) = data.items()
    kinds = {"n": type(None), "b": bool, "i": int, "f": float, "s": str, "x": str}
    if tag in kinds:
        if tag == "f" and type(body) is int:  # JSON writes 1.0 as 1.0, but be lenient
            body = float(body)
        if type(body) is not kinds[tag]:
            raise StoredError(f"malformed {tag!r} value")
        return wire.Opaque(body) if tag == "x" else body
    if tag in ("l", "t"):
        if type(body) is not list:
            raise StoredError("malformed sequence")
        items = [decode_value(v, _depth + 1) for v in body]
        return items if tag == "l" else tuple(items)
    if tag == "d":
        if type(body) is not dict:
            raise StoredError("malformed dict")
        return {str(k): decode_value(v, _depth + 1) for k, v in body.items()}
    if tag in ("a", "g"):
        try:
            arr = wire.decode({"a": body})
        except wire.WireError as exc:
            raise StoredError(str(exc)) from None
        if tag == "g":
            if arr.ndim != 0:
                raise StoredError("a stored scalar that is not 0-d")
            return arr[()]
        return arr
    if tag == "c":
        if type(body) is not list or len(body) != 2 or body[0] not in CLASSES:
            raise StoredError("malformed or unknown stored class")
        return decode_fields(CLASSES[body[0]], body[1], _depth + 1)
    raise StoredError(f"unknown tag {tag!r}")


def encode_fields(obj: Any, _depth: int = 0) -> dict:
    """{field name: encoded value} for every field of the dataclass instance ``obj`` (a field
    added to its class later is stored too, with no change here)."""
    return {f.name: encode_value(getattr(obj, f.name), _depth + 1) for f in dataclasses.fields(obj)}


def decode_fields(cls: type, data: Any, _depth: int = 0) -> Any:
    """``cls`` built from ``encode_fields``' form; a field the stored form lacks gets its
    default (it was stored before the field existed), a stored field the class lacks is
    ignored. Raises StoredError on anything malformed or a required field missing."""
    if type(data) is not dict:
        raise StoredError(f"a stored {cls.__name__} that is not an object")
    values = {}
    for f in dataclasses.fields(cls):
        if f.name in data:
            values[f.name] = decode_value(data[f.name], _depth + 1)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise StoredError(f"a stored {cls.__name__} without {f.name!r}")
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise StoredError(f"a stored {cls.__name__} that cannot be rebuilt ({type(exc).__name__})") from None
