"""CPU and wall seconds of the keras character model's check (build_char_model), in this process,
and how stable its test accuracy is: the budget in force against another, back to back.

    PYTHONPATH=graders:. .venv/bin/python benchmarks/char_model.py [--reps 3] [--budget T,N_TRAIN,BATCH,EPOCHS] ...

Each --budget (default: the one in check/budgets.py) trains the reference model --reps times
through the grader's harness (fixtures.local_outcomes: the same data, seed and budget as the
sandbox), after one warm-up run that pays TensorFlow's one-time costs. CPU seconds are
time.process_time() around the harness call (TensorFlow's threads included): wall seconds on a
shared machine are noisy, CPU seconds much less. Also prints the test accuracy's standard error
over the test sequences (each sequence one sample: neighbouring characters are not independent).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "graders"), str(ROOT), str(ROOT / "tests" / "support")]

import numpy as np  # noqa: E402

import helpers  # noqa: E402


def measure(budget: dict, reps: int) -> None:
    """Train the reference ``reps`` times with ``budget`` (the CHAR dict) and print the numbers."""
    budgets = helpers.keras_module("check.budgets")
    fixtures = helpers.keras_module("fixtures")
    datasets = helpers.keras_module("check.datasets")
    reference = helpers.solutions_module("keras")
    budgets.CHAR = budget  # budgets() reads the module's dict when called
    Xtr, _, Xte, Yte, _, bigram = datasets.char_data()
    namespace = {"build_char_model": reference.build_char_model}
    fixtures.local_outcomes(namespace, ["build_char_model"])  # warm-up
    cpu, wall = [], []
    for _ in range(reps):
        c0, w0 = time.process_time(), time.perf_counter()
        out = fixtures.local_outcomes(namespace, ["build_char_model"])
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    pred = np.asarray(out["build_char_model/train"].value["pred"])
    per_seq = (pred == Yte).mean(axis=1)
    steps = budget["epochs"] * -(-len(Xtr) // budget["batch"])
    print(
        f"{budget}: {steps} steps of {budget['T']} time steps; train {Xtr.shape}, test {Xte.shape}\n"
        f"  cpu s {' '.join(f'{x:.2f}' for x in cpu)} (median {statistics.median(cpu):.2f}), "
        f"wall s {' '.join(f'{x:.2f}' for x in wall)} (median {statistics.median(wall):.2f}), "
        f"load average {os.getloadavg()[0]:.2f}\n"
        f"  accuracy {per_seq.mean():.4f} (standard error {per_seq.std(ddof=1) / np.sqrt(len(per_seq)):.4f}), "
        f"bigram {bigram:.4f}, over bigram {per_seq.mean() - bigram:+.4f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--budget", action="append", default=[], help="T,N_TRAIN,BATCH,EPOCHS")
    args = parser.parse_args()
    current = dict(helpers.keras_module("check.budgets").CHAR)
    budgets = [current]
    for spec in args.budget:
        T, n_train, batch, epochs = (int(x) for x in spec.split(","))
        budgets.append({**current, "T": T, "n_train": n_train, "batch": batch, "epochs": epochs})
    for budget in budgets:
        measure(budget, args.reps)


if __name__ == "__main__":
    main()
