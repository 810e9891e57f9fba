"""Exercise 2: the generated text, compared character for character with the reference's."""

from __future__ import annotations

import numpy as np

from ..generation import GENERATE, _generation_expectations
from .common import failed_check

try:
    from deepgrade.portable.feedback import Check
except ImportError:  # the student's copy: _deepgrade_check/ holds deepgrade.portable's modules
    from ..feedback import Check  # type: ignore[no-redef]


def check_generate(assignment, question, outcomes) -> list[Check]:
    """Exact comparison of the generated text with the reference's, case by case, with diagnoses."""
    want = _generation_expectations(assignment)
    checks = []
    for name, description, _, hidden in GENERATE:
        if name not in want:
            continue  # a hidden case in the student's copy
        label = ("hidden check: " if hidden else "") + f"the generated text on {description}"
        o = outcomes.get(f"generate/{name}")
        if o is None or not o.ok:
            check = failed_check(label, o, 1.0) if o is not None else Check(label, False, 1.0, ["not run"])
            check.hidden = hidden
            checks.append(check)
            continue
        got = o.value.ravel() if isinstance(o.value, np.ndarray) and o.value.dtype.kind in "iu" else None
        exp = want[name]["expected"]
        ok = got is not None and got.shape == exp.shape and bool(np.all(got == exp))
        check = Check(label, ok, 1.0, hidden=hidden)
        if not ok:
            if got is None:
                check.details.append("generate did not return text")
            elif hidden:
                check.details.append(f"your {got.size} characters differ from the expected {exp.size}")
            else:
                text = "".join(
                    chr(int(c)) for c in got[:80] if 0 <= int(c) < 0x110000 and not 0xD800 <= int(c) < 0xE000
                )
                check.details.append(f"yours:    {text!r}")
                check.details.append(f"expected: {''.join(chr(int(c)) for c in exp)!r}")
            for mid, mout in want[name]["mutants"].items():
                if (
                    got is not None
                    and got.shape == mout.shape
                    and np.all(got == mout)
                    and not np.array_equal(mout, exp)
                ):
                    check.diagnosis.append(mid)
        checks.append(check)
    return checks
