"""Exercise 2: the generated text, compared character for character with the reference's."""

from __future__ import annotations

import numpy as np

from deepgrade.portable.feedback import Check

from ..generation import GENERATE, _generation_expectations
from .common import failed_check


def _codes(x) -> np.ndarray | None:
    """Character codes as the harness sends them (int (n,)); None for anything else."""
    return x.ravel() if isinstance(x, np.ndarray) and x.dtype.kind in "iu" else None


def _same(got: np.ndarray | None, want: np.ndarray | None) -> bool:
    return got is not None and want is not None and got.shape == want.shape and bool(np.all(got == want))


def check_generate(assignment, question, outcomes) -> list[Check]:
    """Exact comparison of the generated text with the reference's, case by case, with diagnoses.

    Judged on its own: a text that differs only because of the student's sample_with_temperature
    passes when generate, run with the stand-in sampler (harness/generate.py), writes exactly
    what the reference's generate writes with it."""
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
        value = o.value if isinstance(o.value, dict) else {"text": o.value}
        got, error = _codes(value.get("text")), value.get("error")
        error = str(error)[:250] if isinstance(error, str) else None
        exp = want[name]["expected"]
        if _same(got, exp):
            checks.append(Check(label, True, 1.0, hidden=hidden))
            continue
        if _same(_codes(value.get("stand_in")), want[name].get("stand_in")):
            if error:
                note = (
                    "right on its own: with a stand-in sampler in place of your sample_with_temperature, your "
                    f"generate writes exactly what a right generate writes; with yours it raised {error} "
                    "(see sample_with_temperature)"
                )
            else:
                note = (
                    "right given your sample_with_temperature: with a stand-in sampler in its place, your generate "
                    "writes exactly what a right generate writes; your sample_with_temperature differs from the "
                    "reference (see sample_with_temperature)"
                )
            checks.append(
                Check(
                    label,
                    True,
                    1.0,
                    [note],
                    hidden=hidden,
                )
            )
            continue
        check = Check(label, False, 1.0, hidden=hidden)
        if error is not None:
            check.details.append(f"generate raised {error}")
        elif got is None:
            check.details.append("generate did not return text")
        elif hidden:
            check.details.append(f"your {got.size} characters differ from the expected {exp.size}")
        else:
            text = "".join(chr(int(c)) for c in got[:80] if 0 <= int(c) < 0x110000 and not 0xD800 <= int(c) < 0xE000)
            check.details.append(f"yours:    {text!r}")
            check.details.append(f"expected: {''.join(chr(int(c)) for c in exp)!r}")
        for mid, mout in want[name]["mutants"].items():
            if _same(got, mout) and not np.array_equal(mout, exp):
                check.diagnosis.append(mid)
        checks.append(check)
    return checks
