"""build_order_classifier: train on good/not/bad sequences; predictions, history, layers."""

from typing import TYPE_CHECKING

import keras
import numpy as np

if TYPE_CHECKING:  # defined by common.py, sent before this file
    from .common import _fit, _history, _layers, _require_compiled


def run(namespace, X, y, Xtest, vocab, seq_len, seed, epochs, batch):
    keras.utils.set_random_seed(int(seed))
    model = namespace["build_order_classifier"](int(vocab), int(seq_len))
    _require_compiled(model, "build_order_classifier")
    h = _fit(model, "build_order_classifier", X, y, epochs=int(epochs), batch_size=int(batch), verbose=0)
    pred = np.asarray(model.predict(Xtest, verbose=0))
    return {"pred": pred, "history": _history(h), "layers": _layers(model)}
