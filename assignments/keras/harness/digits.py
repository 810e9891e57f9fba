"""build_digit_cnn: train on the digits; predictions on the test images, history, layers."""

import time
from typing import TYPE_CHECKING

import keras
import numpy as np

if TYPE_CHECKING:  # defined by common.py, sent before this file
    from .common import _fit, _history, _layers, _require_compiled


def run(namespace, X, y, Xtest, seed, epochs, batch):
    keras.utils.set_random_seed(int(seed))
    model = namespace["build_digit_cnn"]((8, 8, 1), 10)
    _require_compiled(model, "build_digit_cnn")
    start = time.perf_counter()
    h = _fit(model, "build_digit_cnn", X, y, epochs=int(epochs), batch_size=int(batch), verbose=0)
    pred = np.asarray(model.predict(Xtest, verbose=0))
    return {"pred": pred, "history": _history(h), "layers": _layers(model), "fit_seconds": time.perf_counter() - start}
