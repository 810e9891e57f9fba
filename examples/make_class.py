"""Write a small example class of CNN submissions, as an LMS export would name them.

    python examples/make_class.py examples/class

The submissions are made from the student notebook: stubs filled from the reference,
some with a mistake from the catalogue, one untouched, one that loops forever, one
that is not a notebook. They are generated, not committed, so the repository holds
no filled-in notebook that could leak to students.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "graders"), str(ROOT / "tests" / "support")]

from deepgrade.course import assignment  # noqa: E402
from helpers import filled_notebook, mutant_notebook  # noqa: E402

LOOPING = """def max_pool2d(x, pool_size=2, stride=2, padding="same"):
    i = 0
    while i < x.shape[0]:  # forgot to move the window: i never grows
        pass
"""


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    a = assignment.load("cnn", ROOT)
    subs = {
        "ada_lovelace_1001_cnn.ipynb": filled_notebook("cnn"),
        "alan_turing_1002_cnn.ipynb": mutant_notebook("cnn", "flipped_kernel"),
        "grace_hopper_1003_cnn.ipynb": filled_notebook(
            "cnn", {"max_pool2d": a.mutants["average_pooling"], "flatten": a.mutants["column_major_flatten"]}
        ),
        "john_nash_1004_cnn.ipynb": nbformat.read(a.notebook, as_version=4),
        "emmy_noether_1005_cnn.ipynb": filled_notebook(
            "cnn", {"max_pool2d": LOOPING, "softmax": a.mutants["softmax_overflow"]}
        ),
        "kurt_goedel_1006_cnn.ipynb": mutant_notebook("cnn", "bias_per_input_channel"),
    }
    for name, nb in subs.items():
        nbformat.write(nb, out / name)
    (out / "broken_file_1007_cnn.ipynb").write_text('{"cells": [ this is not json')
    print(f"wrote {len(subs) + 1} submissions to {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "examples" / "class"))
