"""Print, per numpy assignment, what answers that are not right keep, to see
how well the fixtures discriminate.

    .venv/bin/python benchmarks/fixture_shares.py [cnn rnn gated]

shape-only: every call returns zeros of the right shapes; then every catalogued mistake's
share of its own question, largest first. Graded in-process with score.grade_question
(tests/support/inprocess.py), so the numbers are the grade's.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "support"), str(ROOT)]

from inprocess import shape_only_share, share  # noqa: E402

from deepgrade.course import assignment as asg  # noqa: E402


def main(names: list[str]) -> None:
    for name in names:
        a = asg.load(name, ROOT)
        shape = sum(shape_only_share(a, q) * q.points for q in a.questions)
        kept = sorted(
            (
                (share(a, a.question(m.function), {m.function: a.mutants[mid]}), mid, m.function)
                for mid, m in a.mistakes.items()
            ),
            reverse=True,
        )
        print(
            f"{name}: shape-only {shape:.2f}/{a.max_points:g} ({shape / a.max_points:.1%}); largest kept {kept[0][0]:.1%} ({kept[0][1]})"
        )
        for s, mid, fn in kept:
            print(f"  {s:6.1%}  {fn:22s} {mid}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["cnn", "rnn", "gated"])
