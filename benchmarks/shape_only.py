"""The share of each assignment that shape-only answers earn: every function returns zeros of
the right shapes (each question on its own, the other functions right), scored by the grader.

    python benchmarks/shape_only.py [assignment ...]

Runs in-process (no sandbox): the outcomes are made here, then ``score.grade_question``
scores them exactly as it scores a sandbox's. README "Points" quotes its numbers.
"""

from __future__ import annotations

import copy
import sys

import numpy as np

from deepgrade.course import assignment as asg
from deepgrade.grading.plan import _returns, call_id
from deepgrade.grading.score import grade_question
from deepgrade.sandbox import StepOutcome


def _zeros(v):
    if isinstance(v, (np.ndarray, np.generic, float, int)):
        return np.zeros_like(np.asarray(v), dtype=np.float64)
    if isinstance(v, dict):
        return {k: _zeros(x) for k, x in v.items()}
    if isinstance(v, (tuple, list)):
        return tuple(_zeros(x) for x in v)
    return v


def _select(value, returns):
    if returns is not None and isinstance(value, (tuple, list)):
        return tuple(v if i in returns else None for i, v in enumerate(value))
    return value


def shape_only_outcomes(a, q) -> dict:
    outcomes, kept = {}, {}
    for case in q.cases:
        fn = case.function or q.name
        value = None  # a case that must raise: zeros return instead
        if case.expect_error is None:
            args = [kept[x.case][x.index] if isinstance(x, asg.Ref) else x for x in copy.deepcopy(case.args)]
            kept[case.name] = getattr(a.reference, fn)(*args, **copy.deepcopy(case.kwargs))
            value = _select(kept[case.name], _returns(case))
            if fn == q.name:
                value = _zeros(value)
        outcomes[call_id(q.name, case)] = StepOutcome("ok", value=value)
    return outcomes


def main(names: list[str]) -> None:
    for name in names:
        a = asg.load(name)
        earned = {q.name: grade_question(a, q, shape_only_outcomes(a, q)).points for q in a.questions}
        worst = max(earned, key=lambda k: earned[k] / a.question(k).points)
        print(
            f"{name}: shape-only answers earn {sum(earned.values()):g} of {a.max_points:g} "
            f"({100 * sum(earned.values()) / a.max_points:.1f}%); most in one question: {worst} "
            f"{earned[worst]:g} / {a.question(worst).points:g}"
        )


if __name__ == "__main__":
    main(sys.argv[1:] or ["cnn", "rnn", "gated"])
