"""build_forecaster: train on temperature windows; predictions, history, layers.

stop_mse: the test MSE at which the verdict is reached (the judge's threshold times the
persistence forecast's MSE); training stops after the first epoch whose forecast of ytest, read
as the judge reads it, reaches it. None (calibration): the whole budget."""

import keras
import numpy as np

from .common import describe_layers, fit_model, history_arrays, loss_name, predict_all, require_compiled


class StopAtMse(keras.callbacks.Callback):
    # ends training after the first epoch whose test forecast is within `needed` (MSE): the check
    # passes, more epochs only cost time. (harness/stock.py has its RMSE twin; a case installs
    # only common.py and its own file.)
    def __init__(self, x, y, needed):
        super().__init__()
        self.x, self.y, self.needed = x, np.asarray(y, np.float64).reshape(-1), float(needed)

    def on_epoch_end(self, epoch, logs=None):
        pred = np.asarray(predict_all(self.model, self.x), np.float64)
        if pred.size != self.y.size:  # not one value per window: the judge fails it, train on
            return
        mse = float(np.mean((pred.reshape(-1) - self.y) ** 2))
        if np.isfinite(mse) and mse <= self.needed:
            self.model.stop_training = True


def run(namespace, X, y, Xtest, window, seed, epochs, batch, ytest=None, stop_mse=None):
    keras.utils.set_random_seed(int(seed))
    model = namespace["build_forecaster"](int(window), 1)
    require_compiled(model, "build_forecaster")
    stop = [] if stop_mse is None or ytest is None else [StopAtMse(Xtest, ytest, stop_mse)]
    h = fit_model(model, "build_forecaster", X, y, epochs=int(epochs), batch_size=int(batch), verbose=0, callbacks=stop)
    pred = predict_all(model, Xtest)
    return {
        "pred": pred,
        "history": history_arrays(h),
        "layers": describe_layers(model),
        "loss": loss_name(model),
        "epochs_run": len(next(iter(h.history.values()), [])) if h.history else int(epochs),
    }
