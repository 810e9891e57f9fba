"""build_char_model: train next-character prediction; argmax predictions (n, T), history, layers."""

from typing import TYPE_CHECKING

import keras
import numpy as np

if TYPE_CHECKING:  # defined by common.py, sent before this file
    from .common import _fit, _history, _layers, _require_compiled


def run(namespace, X, Y, Xtest, vocab, seed, epochs, batch):
    keras.utils.set_random_seed(int(seed))
    model = namespace["build_char_model"](int(vocab))
    _require_compiled(model, "build_char_model")
    h = _fit(model, "build_char_model", X, Y, epochs=int(epochs), batch_size=int(batch), verbose=0)
    probs = np.asarray(model.predict(Xtest, verbose=0))
    return {
        "pred": probs.argmax(axis=-1).astype("int16"),
        "pred_shape": np.array(probs.shape),
        "history": _history(h),
        "layers": _layers(model),
    }
