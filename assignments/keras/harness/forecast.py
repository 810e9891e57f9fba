"""build_forecaster: train on temperature windows; predictions, history, layers.

stop_mse: the test MSE at which the verdict is reached (the judge's threshold times the
persistence forecast's MSE); training stops after the first epoch whose forecast of ytest, read
as the judge reads it, reaches it. None (calibration): the whole budget."""

import keras

from .common import (
    describe_layers,
    epochs_run,
    fit_model,
    history_arrays,
    loss_name,
    predict_all,
    require_compiled,
    stop_at_error,
)


def stop_at_mse(x, y, needed):
    # the check passes once the test MSE is within `needed`
    return stop_at_error(x, y, needed, root=False)


def run(namespace, X, y, Xtest, window, seed, epochs, batch, ytest=None, stop_mse=None):
    keras.utils.set_random_seed(int(seed))
    model = namespace["build_forecaster"](int(window), 1)
    require_compiled(model, "build_forecaster")
    stop = [] if stop_mse is None or ytest is None else [stop_at_mse(Xtest, ytest, stop_mse)]
    h = fit_model(model, "build_forecaster", X, y, epochs=int(epochs), batch_size=int(batch), verbose=0, callbacks=stop)
    pred = predict_all(model, Xtest)
    return {
        "pred": pred,
        "history": history_arrays(h),
        "layers": describe_layers(model),
        "loss": loss_name(model),
        "epochs_run": epochs_run(h, epochs),
    }
