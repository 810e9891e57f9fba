"""build_stacked_gru / build_bidirectional_gru: built and run on a blank batch (2, 7, n_features); layers, loss, optimizer."""

from typing import TYPE_CHECKING

import keras
import numpy as np

if TYPE_CHECKING:  # defined by common.py, sent before this file
    from .common import _forward, _layers, _loss_name, _optimizer_name


def run(namespace, function, n_features):
    keras.utils.set_random_seed(0)
    model = namespace[function](int(n_features))
    out = np.asarray(_forward(model, np.zeros((2, 7, int(n_features)), "float32")))
    return {
        "layers": _layers(model),
        "output_shape": np.array(out.shape),
        "loss": _loss_name(model),
        "optimizer": _optimizer_name(model),
    }
