"""Knock-on losses: points a RIGHT function loses because another function is wrong.

For every numpy assignment, each notebook has exactly one wrong function (each catalogued
mistake, and each independently written wrong implementation of tests/support/wrong_implementations.py)
and the reference everywhere else; it is graded through the sandbox, and every point lost on a
question other than the wrong one is a knock-on loss. Prints one line per notebook with a loss
and a total per assignment.

    python benchmarks/knock_on.py [ASSIGNMENT ...]
"""

from __future__ import annotations

import inspect
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "support"), str(ROOT / "graders"), str(ROOT)]


import wrong_implementations  # noqa: E402
from wrong_implementations import CORPUS  # noqa: E402

from deepgrade.course import assignment as asg  # noqa: E402
from deepgrade.grading.notebook import function_source  # noqa: E402
from helpers import filled_notebook, grade_notebook, numpy_assignments  # noqa: E402

# the corpus' own helpers, pasted above each implementation as a student would have them
HELPERS = inspect.getsource(wrong_implementations._sig)


def notebooks(name: str):
    """(label, wrong function, notebook): each catalogued mistake, then the corpus."""
    a = asg.load(name, ROOT)
    for mid, m in sorted(a.mistakes.items()):
        if mid in a.mutants:
            yield f"catalogue {mid}", m.function, filled_notebook(name, {m.function: a.mutants[mid]})
    for assignment_name, function, _mid, fn in CORPUS:
        if assignment_name == name:
            source = HELPERS + "\n\n" + function_source(fn, rename=function)
            yield f"corpus {fn.__name__}", function, filled_notebook(name, {function: source})


def main(names: list[str]) -> None:
    for name in names or numpy_assignments(ROOT):
        start = time.perf_counter()
        lost_total, hit, count = 0.0, 0, 0
        with tempfile.TemporaryDirectory() as tmp:
            for label, wrong, nb in notebooks(name):
                count += 1
                result = grade_notebook(name, nb, Path(tmp))
                lost = {q.name: round(q.max_points - q.points, 2) for q in result.questions if q.name != wrong}
                lost = {k: v for k, v in lost.items() if v > 0}
                if lost:
                    hit += 1
                    lost_total += sum(lost.values())
                    print(f"  {name} {label} (wrong: {wrong}): " + ", ".join(f"{k} -{v:g}" for k, v in lost.items()))
        print(
            f"{name}: {hit} of {count} one-mistake notebooks lose points on a right function, "
            f"{lost_total:.2f} points in all ({time.perf_counter() - start:.0f} s)"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
