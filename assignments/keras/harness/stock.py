"""build_stock_lstm: train on GOOG windows; scaled predictions (n_test, 1), history, layers."""

import keras

from .common import describe_layers, fit_model, history_arrays, loss_name, predict_all, require_compiled


def run(namespace, X, y, Xtest, window, seed, epochs, batch):
    keras.utils.set_random_seed(int(seed))
    model = namespace["build_stock_lstm"](int(window))
    require_compiled(model, "build_stock_lstm")
    h = fit_model(model, "build_stock_lstm", X, y, epochs=int(epochs), batch_size=int(batch), verbose=0)
    pred = predict_all(model, Xtest)
    return {"pred": pred, "history": history_arrays(h), "layers": describe_layers(model), "loss": loss_name(model)}
