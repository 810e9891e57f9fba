"""build_stock_lstm: train on GOOG windows; scaled predictions (n_test, 1), history, layers.

stop_rmse: the scaled RMSE on the held-out days at which the verdict is reached (both of the
judge's RMSE checks pass); training stops after the first epoch whose forecast of ytest, read as
the judge reads it, reaches it. None (calibration): the whole budget."""

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


def stop_at_rmse(x, y, needed):
    # both RMSE checks pass once the scaled RMSE on the held-out days is within `needed`
    return stop_at_error(x, y, needed, root=True)


def run(namespace, X, y, Xtest, window, seed, epochs, batch, ytest=None, stop_rmse=None):
    keras.utils.set_random_seed(int(seed))
    model = namespace["build_stock_lstm"](int(window))
    require_compiled(model, "build_stock_lstm")
    stop = [] if stop_rmse is None or ytest is None else [stop_at_rmse(Xtest, ytest, stop_rmse)]
    h = fit_model(model, "build_stock_lstm", X, y, epochs=int(epochs), batch_size=int(batch), verbose=0, callbacks=stop)
    pred = predict_all(model, Xtest)
    return {
        "pred": pred,
        "history": history_arrays(h),
        "layers": describe_layers(model),
        "loss": loss_name(model),
        "epochs_run": epochs_run(h, epochs),
    }
