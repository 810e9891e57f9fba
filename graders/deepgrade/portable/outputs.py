"""A case's output named part by part: one array, a tuple's elements, a dict's keys.

A case's ``outputs`` spec says which parts of the returned value are compared and how the
feedback names them; ``parts`` splits a value by it, ``structure_problem`` says once when the
value is not built as asked. Numpy and the standard library only (shipped, see __init__.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def labels(outputs: Any) -> list[str]:
    """The compared parts' labels of an ``outputs`` spec, in order."""
    if outputs is None:
        return ["output"]
    if isinstance(outputs, dict):
        return [str(v) for v in outputs.values()]
    out: list[str] = []
    for label in outputs:
        if isinstance(label, dict):
            out += [str(v) for v in label.values()]
        elif label is not None:
            out.append(str(label))
    return out


def parts(value: Any, outputs: Any) -> dict[str, Any]:
    """Split a return value into named parts according to a case's ``outputs``."""
    if outputs is None:
        return {"output": value}
    if isinstance(outputs, (list, tuple)):
        seq = value if isinstance(value, (tuple, list)) else None
        out = {}
        for i, label in enumerate(outputs):
            if label is None:
                continue
            element = seq[i] if seq is not None and i < len(seq) else _Missing(f"element {i} of a tuple")
            if isinstance(label, dict):
                # a dict inside the tuple (e.g. an LSTM step's gates): one part per key
                out.update(
                    parts(element, label)
                    if not isinstance(element, _Missing)
                    else {lbl: element for lbl in label.values()}
                )
            else:
                out[label] = element
        return out
    if isinstance(outputs, dict):
        out = {}
        for key, label in outputs.items():
            out[label] = (
                value.get(key, _Missing(f"key {key!r}")) if isinstance(value, dict) else _Missing(f"key {key!r}")
            )
        return out
    raise TypeError(f"bad outputs spec {outputs!r}")


class _Missing:
    def __init__(self, what: str) -> None:
        self.what = what


def describe_type(value: Any, hidden: bool = False) -> str:
    """What a value is, in a few words. hidden: a hidden check's value, whose keys (text the
    student's process chose on hidden inputs) are not repeated."""
    if isinstance(value, _Missing):
        return f"nothing ({value.what} is missing)"
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, tuple):
        return f"a tuple of {len(value)}"
    if isinstance(value, dict):
        return f"a dict of {len(value)} keys" if hidden else f"a dict with keys {sorted(value)[:8]}"
    return type(value).__name__ if not hasattr(value, "type_name") else f"a {value.type_name}"


def structure_problem(got: Any, outputs: Any, hidden: bool = False) -> str | None:
    """One line when the returned value is not built as asked (a tuple too short, a dict
    without the expected keys): said once instead of once per missing part. hidden: the keys
    the student's dict has are not repeated (only the expected ones, which are ours)."""
    if isinstance(outputs, dict):
        expected = [str(k) for k in outputs]
        if not isinstance(got, dict):
            return f"expected a dict with the keys {expected}, got {describe_type(got, hidden)}"
        missing = [k for k in expected if k not in got]
        if missing:
            if hidden:
                return f"the dict returned lacks the keys {missing}"
            found = sorted(str(k) for k in got)
            return f"the dict returned has the keys {found[:12]}; expected the keys {expected} (missing: {missing})"
        return None
    if isinstance(outputs, (list, tuple)):
        if not isinstance(got, (tuple, list)):
            return f"expected a tuple of {len(outputs)} values, got {describe_type(got, hidden)}"
        if len(got) < len(outputs):
            return f"expected a tuple of {len(outputs)} values, got a tuple of {len(got)}"
        for element, spec in zip(got, outputs):
            if isinstance(spec, dict):
                problem = structure_problem(element, spec, hidden)
                if problem:
                    return problem
    return None
