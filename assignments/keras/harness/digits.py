"""build_digit_cnn: train on the digits; predictions on the test images, history, layers."""

import time

import keras

from .common import describe_layers, fit_model, history_arrays, predict_all, require_compiled


def run(namespace, X, y, Xtest, seed, epochs, batch):
    keras.utils.set_random_seed(int(seed))
    model = namespace["build_digit_cnn"]((8, 8, 1), 10)
    require_compiled(model, "build_digit_cnn")
    start = time.perf_counter()
    h = fit_model(model, "build_digit_cnn", X, y, epochs=int(epochs), batch_size=int(batch), verbose=0)
    pred = predict_all(model, Xtest)
    return {
        "pred": pred,
        "history": history_arrays(h),
        "layers": describe_layers(model),
        "fit_seconds": time.perf_counter() - start,
    }
