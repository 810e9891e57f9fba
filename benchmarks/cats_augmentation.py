"""Does augmentation matter on exercise 3's images? The reference CNN with and without the
lecture's augmentation, and the grader's no-convolution control, over seeds.

    .venv/bin/python benchmarks/cats_augmentation.py [--seeds 0,1,2] [--size 64]

Trains as the grader does (the fixtures' harness/cats_dogs.py, in this process): "with" uses the
reference build_augmentation (the lecture's ImageDataGenerator call as Keras 3 layers),
"without" a build_augmentation that only rescales, "noflip" (--variants noflip) the lecture's
augmentation without its horizontal flip. Prints the held-out accuracy of each run,
of the control trained alongside it, and the seconds per run. --size trains at another image
size (e.g. 150, the lecture's) instead of the graded size (DEEPGRADE_CATS_DOGS_SIZE, set for this run).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "graders"), str(ROOT)]

from deepgrade.course import assignment as asg  # noqa: E402

# the catalogue's own wrong augmentations (one source: solutions/keras_mistakes.py)
from solutions.keras_mistakes import cats_augment_no_flip as no_flip  # noqa: E402
from solutions.keras_mistakes import cats_no_augmentation as rescale_only  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--size", type=int, default=0)
    p.add_argument("--variants", default="with,without")
    p.add_argument("--lecture", action="store_true", help="the lecture's four-block CNN instead of the reference")
    args = p.parse_args(argv)
    if args.size:  # read by budgets() when called: the data, the cases and the checks see it
        os.environ["DEEPGRADE_CATS_DOGS_SIZE"] = str(args.size)
    a = asg.load("keras", ROOT)
    fx = a.fixtures
    datasets = importlib.import_module(f"{fx.__package__}.check.datasets")
    budget = importlib.import_module(f"{fx.__package__}.check.budgets").budgets().cats_dogs
    q = "build_cats_dogs_cnn"
    if args.lecture:  # Conv 32-64-128-128, Dense 512, RMSprop 1e-3 (assignments/keras/instructor/panel.py)
        spec = importlib.util.spec_from_file_location(
            "keras_panel", ROOT / "assignments" / "keras" / "instructor" / "panel.py"
        )
        panel = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(panel)
        lecture = next(fn for label, fn in panel.PANELS[q] if "lecture" in label)
    variants = {"with": {}, "without": {"build_augmentation": rescale_only}, "noflip": {"build_augmentation": no_flip}}
    print(f"data: {datasets.cats_dogs_data()['source']}; budget {budget}")
    for name in args.variants.split(","):
        accs, controls = [], []
        for seed in (int(s) for s in args.seeds.split(",")):
            t = time.perf_counter()
            names = {**vars(a.reference), **variants[name], **({q: lecture} if args.lecture else {})}
            out = fx.local_outcomes(names, [q], seed=seed)
            wall = time.perf_counter() - t
            s = fx.measure(q, out)
            if s is None:
                print(f"{name:8s} seed {seed}: did not run: {out}")
                continue
            accs.append(s["accuracy"])
            controls.append(s["control_accuracy"])
            fit = out[f"{q}/train"].value.get("fit_seconds", float("nan"))
            print(
                f"{name:8s} seed {seed}: accuracy {s['accuracy']:.3f}, no-convolution control "
                f"{s['control_accuracy']:.3f}, {wall:.0f} s (the model's fit {fit:.0f} s, then the control)",
                flush=True,
            )
        if accs:
            print(f"{name:8s} mean accuracy {sum(accs) / len(accs):.3f}, control {sum(controls) / len(controls):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
