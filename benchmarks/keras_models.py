"""Seconds per check model of the `keras` assignment, graded in the sandbox like a submission,
and the panel measurement that sets the thresholds.

    PYTHONPATH=graders:. .venv/bin/python benchmarks/keras_models.py [--local]
    PYTHONPATH=graders:. .venv/bin/python benchmarks/keras_models.py --panel [QUESTION ...] [--seeds 0,1,2]

Grades the reference-filled notebook once and prints the wall time of every notebook
cell group and every check model (build + fit + predict inside the sandbox), then the
whole submission. ``--local`` also times each harness in this process (no sandbox).

``--panel`` trains every model of assignments/keras/instructor/panel.py (reasonable correct models and
negative controls) with the grader's data and budget over the seeds, in this process, and
prints each one's numbers per seed and the thresholds they give (``deepgrade calibrate keras
--dry-run``; without --dry-run the command writes assignments/keras/thresholds.toml).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "graders"), str(ROOT), str(ROOT / "tests" / "support")]

from deepgrade.course import assignment as asg  # noqa: E402
from deepgrade.grading import notebook, pipeline  # noqa: E402


def panel(questions: list[str], seeds: list[int]) -> None:
    """Every panel model and control with the grader's data and budget, per seed (no file written)."""
    from deepgrade.authoring.calibrate import calibrate

    calibrate(asg.load("keras", ROOT), seeds, questions or None, write=False)


def main() -> None:
    if "--panel" in sys.argv:
        args = [x for x in sys.argv[sys.argv.index("--panel") + 1 :] if not x.startswith("--")]
        seeds = [0, 1, 2]
        if "--seeds" in sys.argv:
            seeds = [int(x) for x in sys.argv[sys.argv.index("--seeds") + 1].split(",")]
            args = [x for x in args if x != sys.argv[sys.argv.index("--seeds") + 1]]
        panel(args, seeds)
        return
    import helpers

    a = asg.load("keras", ROOT)
    nb = helpers.filled_notebook("keras")
    cells = notebook.code_cells(nb)
    start = time.perf_counter()
    results, run = pipeline.grade_cells(a, cells)
    total = time.perf_counter() - start
    print(f"isolation: {run.isolation}; load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"{'check model':45s} {'seconds':>8s}  status")
    for call_id, outcome in run.calls.items():
        print(f"{call_id:45s} {outcome.seconds:8.2f}  {outcome.status}")
    in_calls = sum(o.seconds for o in run.calls.values())
    print(f"{'all check models':45s} {in_calls:8.2f}")
    print(f"{'whole submission (cells, imports, calls, scoring)':45s} {total:8.2f}  budget 90")
    print(f"points: {sum(r.points for r in results)} / {a.max_points}")
    if "--local" in sys.argv:
        import solutions.keras as ref

        for call_id, outcome in a.fixtures.local_outcomes(dict(vars(ref))).items():
            print(f"local {call_id:39s} {outcome.seconds:8.2f}  {outcome.status}")


if __name__ == "__main__":
    main()
