"""build_forecaster: train on temperature windows; predictions, history, layers."""

import keras

from .common import describe_layers, fit_model, history_arrays, loss_name, predict_all, require_compiled


def run(namespace, X, y, Xtest, window, seed, epochs, batch):
    keras.utils.set_random_seed(int(seed))
    model = namespace["build_forecaster"](int(window), 1)
    require_compiled(model, "build_forecaster")
    h = fit_model(model, "build_forecaster", X, y, epochs=int(epochs), batch_size=int(batch), verbose=0)
    pred = predict_all(model, Xtest)
    return {"pred": pred, "history": history_arrays(h), "layers": describe_layers(model), "loss": loss_name(model)}
