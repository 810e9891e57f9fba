"""build_char_model: train next-character prediction; argmax predictions (n, T), history, layers."""

import keras
import numpy as np

from .common import describe_layers, fit_model, history_arrays, predict_all, require_compiled


def run(namespace, X, Y, Xtest, vocab, seed, epochs, batch):
    keras.utils.set_random_seed(int(seed))
    model = namespace["build_char_model"](int(vocab))
    require_compiled(model, "build_char_model")
    h = fit_model(model, "build_char_model", X, Y, epochs=int(epochs), batch_size=int(batch), verbose=0)
    # one eager call for the whole test set (n_test characters, 20,000: about 5 MB of
    # probabilities): each call costs a loop over T time steps, and 3 chunks cost 0.24 s of CPU
    # against 0.15 s for one, with the same predictions (measured 2026-12-05, the reference)
    probs = predict_all(model, Xtest, chunk=max(1, len(Xtest)))
    return {
        "pred": probs.argmax(axis=-1).astype("int16"),
        "pred_shape": np.array(probs.shape),
        "history": history_arrays(h),
        "layers": describe_layers(model),
    }
