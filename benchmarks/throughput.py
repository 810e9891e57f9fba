"""Throughput on the CNN assignment, measured side by side in one run on this machine.

    .venv/bin/python benchmarks/throughput.py [--n 16] [--otter-n 4]

The class: N notebooks, reference-filled copies and a few catalogued mistakes (mutants).
    (a) ``otter run`` once per submission (no container: Otter's only mode without Docker),
        with an Otter autograder zip built here: one exception-based test per question, on
        the first public fixture (expected values embedded). Run on a subset (--otter-n),
        sequentially; its rate is per submission.
    (b) nbclient executing each notebook in a fresh kernel, sequentially (execution only:
        no checking at all), like ``jupyter nbconvert --execute``.
    (c) ``deepgrade grade cnn CLASS --workers 2``: the whole CLI (Python start, intake,
        sandbox per submission, every public and hidden check, diagnosis, all reports).
Prints submissions/second for each and the ratios (c)/(a) and (c)/(b).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import nbformat
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "support"))
from deepgrade.course import assignment as asg  # noqa: E402
from deepgrade.course.assignment import Ref  # noqa: E402
from helpers import filled_notebook, mutant_notebook  # noqa: E402

VENV = Path(sys.executable).parent


def make_class(folder: Path, n: int) -> list[Path]:
    a = asg.load("cnn", ROOT)
    mutants = list(a.mistakes)[:4]
    paths = []
    for i in range(n):
        nb = mutant_notebook("cnn", mutants[i % len(mutants)]) if i % 4 == 3 else filled_notebook("cnn")
        p = folder / f"student{i:02d}" / "cnn.ipynb"
        p.parent.mkdir(parents=True)
        nbformat.write(nb, p)
        paths.append(p)
    return paths


def _lit(v):
    if isinstance(v, np.ndarray):
        return f"np.array({v.tolist()!r}, dtype=float)"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k!r}: {_lit(x)}" for k, x in v.items()) + "}"
    if isinstance(v, (tuple, list)):
        return "(" + "".join(_lit(x) + ", " for x in v) + ")"
    return repr(v)


def otter_autograder(dest: Path) -> Path:
    """An Otter autograder zip: one exception-based test per question (first public case)."""
    a = asg.load("cnn", ROOT)
    ag = dest / "ag"
    (ag / "tests").mkdir(parents=True)
    for q in a.questions:
        case = next(
            c
            for c in q.cases
            if not c.hidden and c.compare and c.expect_error is None and not any(isinstance(x, Ref) for x in c.args)
        )
        expected = a.expected(case, q.name)
        (ag / "tests" / f"{q.name}.py").write_text(
            "from otter.test_files import test_case\nimport numpy as np\n\nOK_FORMAT = False\n"
            f"name = {q.name!r}\npoints = {q.points}\n\n"
            f"@test_case(points={q.points}, hidden=False)\n"
            f"def test_{q.name}({q.name}):\n"
            f"    got = {q.name}(*{_lit(tuple(case.args))}, **{_lit(case.kwargs) if case.kwargs else '{}'})\n"
            f"    assert np.allclose(np.asarray(got), {_lit(np.asarray(expected))}, rtol=1e-6, atol=1e-8)\n"
        )
    (ag / "otter_config.json").write_text(json.dumps({"lang": "python"}))
    zpath = dest / "autograder.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for f in ag.rglob("*"):
            zf.write(f, f.relative_to(ag))
    return zpath


def time_otter(paths: list[Path], work: Path) -> tuple[float, list[float]]:
    zpath = otter_autograder(work)
    scores = []
    start = time.perf_counter()
    for i, p in enumerate(paths):
        out = work / f"otter-out-{i}"
        out.mkdir()
        subprocess.run(
            [str(VENV / "otter"), "run", "-a", str(zpath), "-o", str(out), "--no-logo", str(p)],
            check=True,
            capture_output=True,
            cwd=work,
        )
        res = json.loads((out / "results.json").read_text())
        scores.append(sum(t.get("score", 0) or 0 for t in res["tests"]))
    return time.perf_counter() - start, scores


def time_nbclient(paths: list[Path]) -> float:
    from nbclient import NotebookClient

    start = time.perf_counter()
    for p in paths:
        nb = nbformat.read(p, as_version=4)
        NotebookClient(
            nb, timeout=60, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(p.parent)}}
        ).execute()
    return time.perf_counter() - start


def time_deepgrade(folder: Path, out: Path, workers: int) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(
        [
            str(VENV / "deepgrade"),
            "grade",
            "cnn",
            str(folder),
            "--out",
            str(out),
            "--workers",
            str(workers),
            "--quiet",
            "--force",
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return time.perf_counter() - start, proc.stderr


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=16, help="notebooks in the class")
    ap.add_argument("--otter-n", type=int, default=4, help="how many of them otter run grades (it is slow)")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="deepgrade-bench-"))
    try:
        paths = make_class(work / "class", args.n)
        t_dg, _ = time_deepgrade(work / "class", work / "dg-out", args.workers)
        t_nb = time_nbclient(paths)
        t_ot, scores = time_otter(paths[: args.otter_n], work)
        dg_rows = (work / "dg-out" / "final_grades.csv").read_text().splitlines()[2:]
        rate_dg, rate_nb, rate_ot = args.n / t_dg, args.n / t_nb, args.otter_n / t_ot
        print(f"class: {args.n} CNN notebooks ({sum(',100.0,' in r for r in dg_rows)} full marks by deepgrade)")
        print(
            f"(a) otter run, one per submission, sequential ({args.otter_n} of them): {t_ot:7.2f} s  {rate_ot:6.2f} submissions/s  scores {scores}"
        )
        print(
            f"(b) nbclient, fresh kernel each, sequential, execution only:   {t_nb:7.2f} s  {rate_nb:6.2f} submissions/s"
        )
        print(
            f"(c) deepgrade grade --workers {args.workers} (whole CLI, all checks):      {t_dg:7.2f} s  {rate_dg:6.2f} submissions/s"
        )
        print(f"ratio deepgrade / otter run: {rate_dg / rate_ot:5.1f}x   (goal >= 8x)")
        print(f"ratio deepgrade / nbclient:  {rate_dg / rate_nb:5.1f}x   (goal >= 2x)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
