"""build_stock_lstm: train on GOOG windows; scaled predictions (n_test, 1), history, layers.

stop_rmse: the scaled RMSE on the held-out days at which the verdict is reached (both of the
judge's RMSE checks pass); training stops after the first epoch whose forecast of ytest, read as
the judge reads it, reaches it. None (calibration): the whole budget."""

import keras
import numpy as np

from .common import describe_layers, fit_model, history_arrays, loss_name, predict_all, require_compiled


class StopAtRmse(keras.callbacks.Callback):
    # ends training after the first epoch whose forecast of the held-out days is within `needed`
    # (scaled RMSE): both RMSE checks pass, more epochs only cost time
    def __init__(self, x, y, needed):
        super().__init__()
        self.x, self.y, self.needed = x, np.asarray(y, np.float64).reshape(-1), float(needed)

    def on_epoch_end(self, epoch, logs=None):
        pred = np.asarray(predict_all(self.model, self.x), np.float64)
        if pred.size != self.y.size:  # not one price per window: the judge fails it, train on
            return
        rmse = float(np.sqrt(np.mean((pred.reshape(-1) - self.y) ** 2)))
        if np.isfinite(rmse) and rmse <= self.needed:
            self.model.stop_training = True


def run(namespace, X, y, Xtest, window, seed, epochs, batch, ytest=None, stop_rmse=None):
    keras.utils.set_random_seed(int(seed))
    model = namespace["build_stock_lstm"](int(window))
    require_compiled(model, "build_stock_lstm")
    stop = [] if stop_rmse is None or ytest is None else [StopAtRmse(Xtest, ytest, stop_rmse)]
    h = fit_model(model, "build_stock_lstm", X, y, epochs=int(epochs), batch_size=int(batch), verbose=0, callbacks=stop)
    pred = predict_all(model, Xtest)
    return {
        "pred": pred,
        "history": history_arrays(h),
        "layers": describe_layers(model),
        "loss": loss_name(model),
        "epochs_run": len(next(iter(h.history.values()), [])) if h.history else int(epochs),
    }
