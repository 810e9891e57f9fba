"""The wire format between the sandbox and the grader: JSON with plain numeric arrays.

Values keep their Python types across the wire: a fixture's ``3`` reaches the student's
function as the int 3 (a library that validates its arguments, such as scikit-learn's
``train_test_split(..., test_size=3)``, rejects a 0-d array), a list stays a list, and only
arrays are numpy arrays.

Both sides import this file (the worker gets a copy inside its sandbox), so it uses
only the standard library and numpy. Arrays travel as base64 of the ``.npy`` format
and are read back with ``allow_pickle=False``: an object array or a pickle payload
cannot be decoded, so nothing the student's process sends is ever executed.

A value on the wire is one of:
    {"a": "<base64 npy>"}            a numeric array
    {"g": "<base64 npy>"}            a numpy scalar (np.float64(2.0), np.int64(3)): 0-d npy
    {"i": 3} / {"f": 0.5} / {"b": true}   a Python int (within int64), float or bool
    {"t": [v, ...]}                  a tuple
    {"l": [v, ...]}                  a list
    {"d": {"key": v, ...}}           a dict with string keys
    {"n": null}                      None
    {"s": "text"}                    a short string (e.g. a merge mode)
    {"x": "TypeName"}                anything else: only its type name crosses
"""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import numpy as np

MAX_ARRAY_BYTES = 64 * 1024 * 1024
ALLOWED_KINDS = "biuf"  # bool, signed, unsigned, float: no objects, strings, complex


class WireError(ValueError):
    """A message that is not a valid plain value (too large, wrong dtype, malformed)."""


def encode(value: Any, _depth: int = 0) -> dict:
    """Turn a Python value into a JSON-able wire value (worker side and grader side)."""
    if _depth > 20:
        return {"x": "nested too deeply"}
    if value is None:
        return {"n": None}
    if isinstance(value, str):
        return {"s": value[:200]}
    if isinstance(value, tuple):
        return {"t": [encode(v, _depth + 1) for v in value]}
    if isinstance(value, list):
        return {"l": [encode(v, _depth + 1) for v in value]}
    if isinstance(value, dict):
        return {"d": {str(k): encode(v, _depth + 1) for k, v in value.items()}}
    if type(value) is bool:
        return {"b": value}
    if type(value) is int and -(2**63) <= value < 2**63:
        return {"i": value}
    if type(value) is float:
        return {"f": value}
    if isinstance(value, (bool, int, float, np.generic, np.ndarray)):
        tag = "g" if isinstance(value, np.generic) else "a"
        arr = np.asarray(value)
        if type(arr) is not np.ndarray:
            # ndarray subclasses may lie in comparisons: keep only their numbers
            arr = np.array(arr, copy=True, subok=False)
        if arr.dtype.kind not in ALLOWED_KINDS:
            return {"x": f"array of dtype {arr.dtype}"}
        buf = io.BytesIO()
        np.save(buf, np.array(arr, order="C", copy=True), allow_pickle=False)
        return {tag: base64.b64encode(buf.getvalue()).decode("ascii")}
    return {"x": type(value).__name__[:100]}


class Opaque:
    """A value that did not cross the wire (its type name only)."""

    def __init__(self, type_name: str) -> None:
        self.type_name = str(type_name)[:100]

    def __repr__(self) -> str:
        return f"<{self.type_name}>"


def decode(wire: Any, _depth: int = 0) -> Any:
    """Read a wire value back into plain Python: ndarray, numpy scalar, int, float, bool,
    tuple, list, dict, None, str, Opaque.

    Raises WireError on anything malformed; never unpickles.
    """
    if _depth > 20 or not isinstance(wire, dict) or len(wire) != 1:
        raise WireError("malformed value")
    ((tag, body),) = wire.items()
    if tag == "n":
        return None
    if tag == "s":
        return str(body)
    if tag == "x":
        return Opaque(body)
    if tag == "b":
        if type(body) is not bool:
            raise WireError("malformed bool")
        return body
    if tag == "i":
        if type(body) is not int or not -(2**63) <= body < 2**63:
            raise WireError("malformed int")
        return body
    if tag == "f":
        if type(body) not in (int, float):
            raise WireError("malformed float")
        return float(body)
    if tag in ("t", "l"):
        if not isinstance(body, list):
            raise WireError("malformed sequence")
        items = [decode(v, _depth + 1) for v in body]
        return tuple(items) if tag == "t" else items
    if tag == "d":
        if not isinstance(body, dict):
            raise WireError("malformed dict")
        return {str(k): decode(v, _depth + 1) for k, v in body.items()}
    if tag in ("a", "g"):
        if not isinstance(body, str) or len(body) > MAX_ARRAY_BYTES * 4 // 3 + 8:
            raise WireError("array too large")
        try:
            raw = base64.b64decode(body.encode("ascii"), validate=True)
            arr = np.load(io.BytesIO(raw), allow_pickle=False)
        except Exception as exc:  # any malformed npy is the sender's problem
            raise WireError(f"unreadable array ({type(exc).__name__})") from None
        if type(arr) is not np.ndarray or arr.dtype.kind not in ALLOWED_KINDS:
            raise WireError("array of a non-numeric dtype")
        if tag == "g":
            if arr.ndim != 0:
                raise WireError("malformed scalar")
            return arr[()]
        return arr
    raise WireError(f"unknown tag {tag!r}")


def dumps(message: dict) -> str:
    return json.dumps(message, allow_nan=True, separators=(",", ":"))


def loads(line: str) -> dict:
    msg = json.loads(line)
    if not isinstance(msg, dict):
        raise WireError("message is not an object")
    return msg
