"""The graded calls of the keras assignment: ``cases()`` (every question) and
``pipeline_cases()`` (Exercise 1's numpy data pipeline, compared with the reference by the engine).

A model question has one case whose ``harness`` (harness.program: harness/*.py) builds, trains and
runs the student's model in the sandbox on the data of datasets.py with the budgets of
budgets.py; its outcome is judged by judging.py, not compared.
"""

from __future__ import annotations

import numpy as np

from deepgrade.portable.case import Case

from .. import harness
from .budgets import budgets
from .datasets import (
    _walk,
    base_weights,
    cats_dogs_data,
    char_data,
    digits_split,
    forecast_data,
    goog_data,
    image_folder_data,
    order_data,
)
from .generation import GENERATE, GENERATE_ALPHABET
from .judging.sequences import forecast_stop_mse
from .judging.stock import stock_stop_rmse


def _harness(name: str) -> str:
    """The program a model case sends to the sandbox: harness/common.py, then harness/<name>.py."""
    return harness.program("common", name)


def pipeline_cases() -> dict[str, list[Case]]:
    """Exercise 1's data pipeline: public cases worked by hand, hidden ones on random walks and GOOG."""
    goog = goog_data()["prices"]
    rising = _walk(11, 60) + np.linspace(0, 40, 60)  # the test period leaves the training range upwards
    falling = _walk(12, 45) - np.linspace(0, 30, 45)  # ... and downwards
    prices6 = np.array([10.0, 20.0, 15.0, 30.0, 40.0, 25.0])
    X10 = np.arange(30, dtype=np.float64).reshape(10, 3, 1)
    y10 = np.arange(10, dtype=np.float64) * 10 + 3
    rng = np.random.default_rng(14)
    Xr, yr = rng.normal(size=(25, 4, 1)), rng.normal(size=25)
    scaler = ["scaled", "data_min", "data_max"]
    split = ["X_train", "y_train", "X_test", "y_test"]
    return {
        "fit_minmax_scaler": [
            Case(
                "six",
                "prices [10, 20, 15, 30, 40, 25], training period the first 4 days "
                "(by hand: min 10, max 30, scaled [0, 0.5, 0.25, 1, 1.5, 0.75])",
                (prices6, 4),
                outputs=scaler,
            ),
            Case(
                "goog", "the first 40 GOOG closes, training period the first 30", (goog[:40].copy(), 30), outputs=scaler
            ),
            Case(
                "rising",
                "a rising random walk of 60 days, training period 45",
                (rising, 45),
                outputs=scaler,
                hidden=True,
            ),
            Case(
                "falling",
                "a falling random walk of 45 days, training period 30",
                (falling, 30),
                outputs=scaler,
                hidden=True,
            ),
            Case(
                "all_goog",
                "the 1,000 GOOG closes, training period 800",
                (goog.copy(), 800),
                outputs=scaler,
                hidden=True,
            ),
        ],
        "make_windows": [
            Case(
                "six",
                "series [1, 2, 3, 4, 5, 6], window 3 (by hand: X[:, :, 0] = [[1, 2, 3], [2, 3, 4], [3, 4, 5]], y = [4, 5, 6])",
                (np.arange(1.0, 7.0), 3),
                outputs=["X", "y"],
            ),
            Case("goog", "the first 30 GOOG closes, window 5", (goog[:30].copy(), 5), outputs=["X", "y"]),
            Case("walk", "a random walk of 50 days, window 7", (_walk(13, 50), 7), outputs=["X", "y"], hidden=True),
            Case("one", "a random walk of 10 days, window 1", (_walk(15, 10), 1), outputs=["X", "y"], hidden=True),
        ],
        "split_chronological": [
            Case("ten", "10 windows (10, 3, 1) and targets 3, 13, ..., 93, n_test 3", (X10, y10, 3), outputs=split),
            Case("random", "25 random windows (25, 4, 1), n_test 5", (Xr, yr, 5), outputs=split, hidden=True),
            Case("one", "25 random windows, n_test 1", (Xr, yr, 1), outputs=split, hidden=True),
        ],
        "inverse_minmax": [
            Case(
                "four",
                "scaled [0, 0.5, 1, 1.5] with min 10, max 30 (by hand: [10, 20, 30, 40])",
                (np.array([0.0, 0.5, 1.0, 1.5]), 10.0, 30.0),
            ),
            Case(
                "column",
                "predictions of shape (3, 1): [[0.2], [0.9], [1.1]] with min 380.48, max 776.6",
                (np.array([[0.2], [0.9], [1.1]]), 380.48, 776.6),
            ),
            Case(
                "random",
                "200 random scaled values with min 80, max 120",
                (rng.uniform(-0.2, 1.3, 200), 80.0, 120.0),
                hidden=True,
            ),
        ],
    }


def cases(seed: int | None = None) -> dict[str, list[Case]]:
    """The graded calls; ``seed`` overrides every training seed (tests: the same models over several seeds)."""
    Xd, yd, Xdt, _ = digits_split()
    Xt, yt, Xtt, _ = digits_split(5, 9)
    Xo, yo, Xot, _ = order_data()
    Xf, yf, Xft, yft = forecast_data()
    Xc, Yc, Xct, _, V, _ = char_data()
    g = goog_data()
    tr, ytr, va, yva = image_folder_data()
    aug_images = np.random.default_rng(3000).integers(0, 256, size=(4, 32, 32, 3)).astype(np.uint8)
    b = budgets() if seed is None else budgets().with_seed(seed)
    d, t, o, f, c, s, k, w = b.digits, b.transfer, b.order, b.forecast, b.char, b.sample, b.stock, b.cats_dogs
    return {
        **pipeline_cases(),
        "generate": [
            Case(
                name,
                description,
                (GENERATE_ALPHABET, *args),
                harness=harness.program("common", "generate_model", "generate"),
                compare=False,
                seconds=20,
                hidden=hidden,
            )
            for name, description, args, hidden in GENERATE
        ],
        "build_stock_lstm": [
            Case(
                "train",
                f"GOOG daily closes, windows of {int(g['window'])} days, the last {int(g['n_test'])} days held out",
                (
                    g["X_train"],
                    g["y_train"],
                    g["X_test"],
                    int(g["window"]),
                    k["seed"],
                    k["epochs"],
                    k["batch"],
                    g["y_test"],
                    # grading stops training once both RMSE checks pass; calibration trains the whole budget
                    None if seed is not None else stock_stop_rmse(b),
                ),
                harness=_harness("stock"),
                compare=False,
                seconds=60,
            ),
        ],
        "build_digit_cnn": [
            Case(
                "train",
                "the digits CNN trained by the grader",
                (Xd, yd, Xdt, d["seed"], d["epochs"], d["batch"]),
                harness=_harness("digits"),
                compare=False,
                seconds=40,
            ),
        ],
        "build_augmentation": [
            Case(
                "apply",
                "4 random 32x32 images",
                (aug_images, 0),
                harness=_harness("augment"),
                compare=False,
                seconds=20,
            ),
        ],
        "make_datasets": [
            Case(
                "folders",
                "a generated two-class image folder (40 training, 16 validation images)",
                (tr, ytr, va, yva, 0),
                harness=_harness("datasets"),
                compare=False,
                seconds=30,
            ),
        ],
        "build_transfer_model": [
            Case(
                "train",
                "a frozen base trained on digits 0-4, new head on digits 5-9",
                (base_weights(), Xt, yt, Xtt, t["seed"], t["epochs"], t["batch"]),
                harness=_harness("transfer"),
                compare=False,
                seconds=40,
            ),
        ],
        "build_cats_dogs_cnn": [
            Case(
                "train",
                "the cats-vs-dogs CNN trained by the grader on class folders, with a no-convolution control",
                (
                    *(cats_dogs_data()[key] for key in ("train", "train_labels", "val", "val_labels")),
                    w["seed"],
                    w["epochs"],
                    w["batch"],
                    # the no-convolution control is trained per submission only when there is no
                    # calibrated accuracy for it; a seed given here (tests, calibration) measures it anew
                    seed is not None or b.control_accuracy(w["seed"]) is None,
                    # grading stops training once the verdict is reached; calibration trains the whole budget
                    None if seed is not None else b.cats_dogs_stop_at(),
                ),
                harness=_harness("cats_dogs"),
                compare=False,
                # 3-6 s on 2 cores for the 400 generated images at 48 x 48 (8 epochs at most); more
                # images or more pixels (an instructor's photos, DEEPGRADE_CATS_DOGS_SIZE) take longer
                seconds=90 * max(1.0, len(cats_dogs_data()["train"]) / w["n_train"]) * max(1.0, (w["size"] / 64) ** 2),
            ),
        ],
        "build_stacked_gru": [
            Case("build", "14 features", ("build_stacked_gru", 14), harness=_harness("gru"), compare=False, seconds=20),
        ],
        "build_bidirectional_gru": [
            Case(
                "build",
                "14 features",
                ("build_bidirectional_gru", 14),
                harness=_harness("gru"),
                compare=False,
                seconds=20,
            ),
        ],
        "build_order_classifier": [
            Case(
                "train",
                "good/not/bad sequences",
                (Xo, yo, Xot, o["vocab"], o["seq_len"], o["seed"], o["epochs"], o["batch"]),
                harness=_harness("order"),
                compare=False,
                seconds=40,
            ),
        ],
        "build_forecaster": [
            Case(
                "train",
                f"Seattle temperatures every {f['every']} hours, windows of {f['window']} readings "
                f"({f['window'] * f['every']} hours), {f['horizon'] * f['every']} hours ahead",
                (
                    Xf,
                    yf,
                    Xft,
                    f["window"],
                    f["seed"],
                    f["epochs"],
                    f["batch"],
                    yft,
                    # grading stops training once the check passes; calibration trains the whole budget
                    None if seed is not None else forecast_stop_mse(b),
                ),
                harness=_harness("forecast"),
                compare=False,
                seconds=50,
            ),
        ],
        "build_char_model": [
            Case(
                "train",
                "next-character prediction on Shakespeare",
                (Xc, Yc, Xct, V, c["seed"], c["epochs"], c["batch"]),
                harness=_harness("char"),
                compare=False,
                seconds=60,
            ),
        ],
        "sample_with_temperature": [
            Case(
                "draws",
                "probs [0.5, 0.25, 0.15, 0.1], temperatures 0.5 and 2",
                (np.array(s["probs"]), np.array(s["temperatures"]), s["n"], s["seed"]),
                harness=_harness("sample"),
                compare=False,
                seconds=20,
            ),
        ],
    }
