"""Comparing numbers: an output part against the expected one, within tolerance.

``close``/``same_output`` decide, ``value_details`` says what differs (a few cells and counts;
hidden cases never show expected numbers). Numpy and the standard library only (shipped).
"""

from __future__ import annotations

from typing import Any

import numpy as np

MAX_SHOWN_DIFFS = 3


def as_array(value: Any) -> np.ndarray | None:
    """A plain float array, or None when the value is not numeric data."""
    if isinstance(value, np.ndarray) and type(value) is np.ndarray and value.dtype.kind in "biuf":
        return value.astype(np.float64)
    if isinstance(value, (bool, int, float, np.generic)) and not isinstance(value, (str, bytes)):
        try:
            return np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            return None
    return None


def _fmt(x: float) -> str:
    if np.isnan(x):
        return "nan"
    return f"{x:.6g}"


def _index(idx: tuple[int, ...]) -> str:
    if len(idx) == 0:
        return "the value"
    if len(idx) == 1:
        return f"index {idx[0]}"
    if len(idx) == 2:
        return f"row {idx[0]}, column {idx[1]}"
    return "index [" + ", ".join(str(i) for i in idx) + "]"


def close(expected: np.ndarray, got: np.ndarray, rtol: float, atol: float) -> np.ndarray:
    return np.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=False)


def same_output(a: Any, b: Any, rtol: float = 1e-7, atol: float = 1e-9) -> bool:
    """True when two outputs agree in shape and value (used to match a catalogued mistake)."""
    x, y = as_array(a), as_array(b)
    if x is None or y is None or x.shape != y.shape:
        return False
    return bool(np.all(np.isclose(x, y, rtol=rtol, atol=atol, equal_nan=True)))


def value_details(expected: np.ndarray, got: np.ndarray, rtol: float, atol: float, hidden: bool) -> list[str]:
    """A few differing cells and counts; hidden fixtures never show expected numbers.

    NaN and infinite values are reported as such (how many, and where on a public check); the
    largest difference is taken over the cells finite in both, and says so when that is not all."""
    lines = []
    for what, mask in (("NaN", np.isnan(got)), ("infinite", np.isinf(got))):
        if mask.any():
            first = tuple(int(i) for i in np.argwhere(mask)[0])
            lines.append(f"{int(mask.sum())} of {got.size} values are {what}; the first at {_index(first)}")
    bad = ~close(expected, got, rtol, atol)
    where = np.argwhere(bad)
    if not hidden:
        for idx in where[:MAX_SHOWN_DIFFS]:
            t = tuple(int(i) for i in idx)
            e, g = _fmt(expected[t]), _fmt(got[t])
            if e == g:  # equal to 6 digits: show where they differ
                e, g = f"{expected[t]:.17g}", f"{got[t]:.17g}"
            lines.append(f"at {_index(t)}: expected {e}, got {g}")
        if len(where) > 1:
            lines.append(f"({len(where)} of {got.size} cells differ)")
    else:
        first = tuple(int(i) for i in where[0]) if len(where) else ()
        lines.append(f"{len(where)} of {got.size} cells differ; the first at {_index(first)}")
    finite = np.isfinite(got) & np.isfinite(expected)
    if finite.any() and expected.size:
        err = float(np.max(np.abs(got[finite] - expected[finite])))
        scale = float(np.max(np.abs(expected[np.isfinite(expected)]))) or 1.0
        over = "" if finite.all() else f" over the {int(finite.sum())} cells that are finite"
        if hidden:
            # the absolute difference would give the expected values away where got is 0
            # (and err / relative would give max |expected|): a relative size only
            lines.append(f"largest difference{over} {err / scale:.2g} relative to the expected values' size")
        else:
            lines.append(f"largest difference{over} {err:.3g} (relative {err / scale:.2g})")
    elif expected.size:
        lines.append("no cell is a finite number: nothing to measure a difference on")
    return lines
