"""Print what the annotated notebooks and the similarity report cost per submission.

    .venv/bin/python benchmarks/feedback_cost.py [N]

On the synthetic cnn class of tests/support/similarity_class.py (42 students; N > 42 repeats it),
with made-up results (every question half marks, one failing check with a detail): the
one-time imports (nbconvert and the exporter; copydetect), then milliseconds per
submission to read and parse the notebook, build its annotated .ipynb and .html
(annotate.build), and fingerprint its functions (similarity.prepare), and the pairing
(similarity.rank) for the class. The batch does all but the pairing in a background
thread while grading runs (prebuild.py); compare with `deepgrade grade`'s time per
submission (benchmarks/sizing.py).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "support"), str(ROOT / "graders"), str(ROOT)]


def main(n: int) -> None:
    t = time.perf_counter()
    from deepgrade.reports import annotate, similarity

    annotate.prewarm()
    similarity._copydetect()
    imports = time.perf_counter() - t

    import nbformat
    from similarity_class import build_class

    from deepgrade.course import assignment as asg
    from deepgrade.grading import notebook as nbio
    from deepgrade.grading.results import QuestionResult, SubmissionResult
    from deepgrade.portable.feedback import Check
    from deepgrade.reports import functions

    a = asg.load("cnn", ROOT)
    students, _ = build_class("cnn", 0)
    students = [(f"{who}-{i}", nb) for i in range(n // len(students) + 1) for who, nb in students][:n]
    folder = Path(__import__("tempfile").mkdtemp())
    paths = []
    for who, nb in students:
        paths.append(folder / f"{who}.ipynb")
        nbformat.write(nb, paths[-1])
    result = SubmissionResult(
        "x.ipynb",
        "cnn",
        [
            QuestionResult(q.name, q.points / 2, q.points, [Check("values on case 1", False, 1.0, ["at row 0"])])
            for q in a.questions
        ],
    )
    t = time.perf_counter()
    read = []
    for p in paths:
        nb = nbio.read(p)
        read.append((nb, functions.definitions(nbio.code_cells(nb))))
    t_read = time.perf_counter() - t
    t = time.perf_counter()
    for (who, _), p, (nb, found) in zip(students, paths, read):
        annotate.build(a, result, p, who, (nb, {k: d.cell for k, d in found.items()}))
    t_pages = time.perf_counter() - t
    t = time.perf_counter()
    prepared = similarity.prepare(a, [(who, who, nb, found) for (who, _), (nb, found) in zip(students, read)])
    t_prep = time.perf_counter() - t
    t = time.perf_counter()
    similarity.rank(prepared)
    t_rank = time.perf_counter() - t
    per = 1000 / len(paths)
    print(f"{len(paths)} submissions; imports {imports:.2f} s once")
    print(
        f"read + parse {t_read * per:.1f} ms, annotated page {t_pages * per:.1f} ms, fingerprints {t_prep * per:.1f} ms"
    )
    print(f"per submission; pairing the class {t_rank:.2f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 42)
