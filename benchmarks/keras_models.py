"""Seconds per check model of the `keras` assignment, graded in the sandbox like a submission,
and the panel measurement that sets the thresholds.

    PYTHONPATH=graders:. .venv/bin/python benchmarks/keras_models.py [--local]
    PYTHONPATH=graders:. .venv/bin/python benchmarks/keras_models.py --panel [QUESTION ...] [--seeds 0,1,2]

Grades the reference-filled notebook once and prints the wall time of every notebook
cell group and every check model (build + fit + predict inside the sandbox), then the
whole submission. ``--local`` also times each harness in this process (no sandbox).

``--panel`` trains every model of tests/keras_panel.py (reasonable correct models and
negative controls) with the grader's data and budget over the seeds, in this process,
and prints each one's measured number per seed, pass or fail against today's threshold:
the record behind assignments/keras/panel.toml.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "graders"), str(ROOT), str(ROOT / "tests")]

from deepgrade import assignment as asg  # noqa: E402
from deepgrade import notebook, pipeline  # noqa: E402


def metric(label: str) -> float:
    """The measured number in a check's label: an accuracy in %, or an RMSE ratio."""
    m = (
        re.search(r": ([0-9.]+)%", label)
        or re.search(r"= ([0-9.]+) x", label)
        or re.search(r": ([0-9.]+) x \(needs", label)
        or re.search(r"MSE ([0-9.]+) x", label)
    )
    return float(m.group(1)) if m else float("nan")


def panel(questions: list[str], seeds: list[int]) -> None:
    import keras_panel

    a = asg.load("keras", ROOT)
    fx = sys.modules["deepgrade_fixtures_keras"]
    ref = dict(vars(a.reference))
    for q in questions:
        rows = [("panel", lab, fn) for lab, fn in keras_panel.PANELS.get(q, [])]
        rows += [("control", lab, fn) for lab, fn in keras_panel.CONTROLS.get(q, [])]
        print(f"== {q}")
        for kind, label, fn in rows:
            found = []
            for seed in seeds:
                start = time.perf_counter()
                out = fx.local_outcomes({**ref, q: fn}, [q], seed=seed)
                qq = a.question(q)
                checks = qq.extra_check(a, qq, out)
                main = [c for c in checks if "(needs" in c.label]
                nums = [metric(c.label) for c in main]
                passed = all(c.passed for c in main) and bool(main)
                found.append((seed, nums, passed, time.perf_counter() - start))
            text = "; ".join(
                f"seed {s}: {', '.join(f'{n:.3f}' for n in nums)} {'pass' if p else 'FAIL'} ({t:.0f}s)"
                for s, nums, p, t in found
            )
            print(f"{kind:8s} {label:60s} {text}", flush=True)


def main() -> None:
    if "--panel" in sys.argv:
        args = [x for x in sys.argv[sys.argv.index("--panel") + 1 :] if not x.startswith("--")]
        seeds = [0, 1, 2]
        if "--seeds" in sys.argv:
            seeds = [int(x) for x in sys.argv[sys.argv.index("--seeds") + 1].split(",")]
            args = [x for x in args if x != sys.argv[sys.argv.index("--seeds") + 1]]
        panel(args or ["build_stock_lstm", "build_char_model"], seeds)
        return
    import helpers

    a = asg.load("keras", ROOT)
    nb = helpers.filled_notebook("keras")
    cells = notebook.code_cells(nb)
    start = time.perf_counter()
    results, run = pipeline.grade_cells(a, cells)
    total = time.perf_counter() - start
    print(f"isolation: {run.isolation}")
    print(f"{'check model':45s} {'seconds':>8s}  status")
    for call_id, outcome in run.calls.items():
        print(f"{call_id:45s} {outcome.seconds:8.2f}  {outcome.status}")
    in_calls = sum(o.seconds for o in run.calls.values())
    print(f"{'all check models':45s} {in_calls:8.2f}")
    print(f"{'whole submission (cells, imports, calls, scoring)':45s} {total:8.2f}  budget 90")
    print(f"points: {sum(r.points for r in results)} / {a.max_points}")
    if "--local" in sys.argv:
        import solutions.keras as ref

        fx = sys.modules["deepgrade_fixtures_keras"]
        for call_id, outcome in fx.local_outcomes(dict(vars(ref))).items():
            print(f"local {call_id:39s} {outcome.seconds:8.2f}  {outcome.status}")


if __name__ == "__main__":
    main()
