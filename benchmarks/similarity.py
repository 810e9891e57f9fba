"""Print how well the similarity report (similarity.py) finds disguised copies.

    .venv/bin/python benchmarks/similarity.py [cnn rnn gated] [--seeds 0,1,2] [--scale N]

Per assignment and seed, a synthetic class (tests/support/similarity_class.py: 36 honest students
with independent implementations, 8 copied pairs disguised by renaming, reordering,
comments and spacing, or one function copied out of several) is compared; printed: the
class size, the pairs of students ranked, the recall of the copied pairs in the top C and
2C of the ranking (C = 8), the copied pairs' ranks, how many honest pairs rank above the
lowest copy, and the time to compare. --scale N also times a class of N students (the same
class repeated, each copy renamed and given no-op statements) to show how the pairwise comparison grows.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "support"), str(ROOT / "graders"), str(ROOT)]

from similarity_class import build_class, evaluate, rename_variables  # noqa: E402

from deepgrade.course import assignment as asg  # noqa: E402
from deepgrade.grading import notebook  # noqa: E402
from deepgrade.reports import similarity  # noqa: E402


def _noise(source: str, rng: random.Random) -> str:
    lines = source.splitlines()
    for _ in range(rng.randint(1, 6)):
        at = rng.randint(1, len(lines) - 1)
        indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())] or "    "
        lines.insert(at, indent + rng.choice(["pass", "assert True", "del_ = None", "_ = len([])"]))
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("names", nargs="*", default=["cnn", "rnn", "gated"])
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--scale", type=int, default=0)
    args = p.parse_args()
    similarity._copydetect()  # its import (matplotlib) is timed apart
    totals = {"copied": 0, "top_c": 0, "top_2c": 0}
    print("assignment seed students pairs recall@C recall@2C honest-above-lowest-copy ranks seconds")
    for name in args.names:
        a = asg.load(name, ROOT)
        for seed in (int(s) for s in args.seeds.split(",")):
            students, copied = build_class(name, seed)
            t = time.perf_counter()
            report = similarity.compare(a, [(w, w, nb) for w, nb in students])
            seconds = time.perf_counter() - t
            n = evaluate(report, copied)
            c = n["copied_pairs"]
            totals["copied"] += c
            totals["top_c"] += round(n["recall_top_c"] * c)
            totals["top_2c"] += round(n["recall_top_2c"] * c)
            print(
                f"{name:10} {seed:4} {len(students):8} {n['student_pairs_ranked']:5} {n['recall_top_c']:8.2f} "
                f"{n['recall_top_2c']:9.2f} {n['honest_above_lowest_copy']!s:>24} {n['ranks']} {seconds:.2f}"
            )
    print(
        f"all: {totals['copied']} copied pairs, {totals['top_c']} in the top C, {totals['top_2c']} in the top 2C "
        f"({100 * totals['top_2c'] / max(1, totals['copied']):.0f}%)"
    )
    if args.scale:
        name = args.names[0]
        a = asg.load(name, ROOT)
        students, _ = build_class(name, 0)
        rng = random.Random(0)
        big = []
        while len(big) < args.scale:
            for who, nb in students:
                if len(big) == args.scale:
                    break
                code, _ = similarity.function_code(nb, [q.name for q in a.questions])
                # renamed, and a few no-op statements added so that every copy's tokens differ
                # (identical code is fingerprinted and compared once: that would time nothing)
                disguised = {f: _noise(rename_variables(src, rng), rng) for f, (src, _) in code.items()}
                big.append((f"{who}-{len(big)}", f"x{len(big)}", notebook.fill(nb, disguised)))
        t = time.perf_counter()
        report = similarity.compare(a, big)
        print(f"{name}: {len(big)} students compared in {time.perf_counter() - t:.1f} s")


if __name__ == "__main__":
    main()
