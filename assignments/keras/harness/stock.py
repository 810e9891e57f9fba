"""build_stock_lstm: train on GOOG windows; scaled predictions (n_test, 1), history, layers."""

from typing import TYPE_CHECKING

import keras
import numpy as np

if TYPE_CHECKING:  # defined by common.py, sent before this file
    from .common import _fit, _history, _layers, _loss_name, _require_compiled


def run(namespace, X, y, Xtest, window, seed, epochs, batch):
    keras.utils.set_random_seed(int(seed))
    model = namespace["build_stock_lstm"](int(window))
    _require_compiled(model, "build_stock_lstm")
    h = _fit(model, "build_stock_lstm", X, y, epochs=int(epochs), batch_size=int(batch), verbose=0)
    pred = np.asarray(model.predict(Xtest, verbose=0))
    return {"pred": pred, "history": _history(h), "layers": _layers(model), "loss": _loss_name(model)}
