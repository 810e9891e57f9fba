"""build_stacked_gru / build_bidirectional_gru: built and run on a blank batch (2, 7, n_features); layers, loss, optimizer."""

import keras
import numpy as np

from .common import describe_layers, forward, loss_name, optimizer_name


def run(namespace, function, n_features):
    keras.utils.set_random_seed(0)
    model = namespace[function](int(n_features))
    out = np.asarray(forward(model, np.zeros((2, 7, int(n_features)), "float32")))
    return {
        "layers": describe_layers(model),
        "output_shape": np.array(out.shape),
        "loss": loss_name(model),
        "optimizer": optimizer_name(model),
    }
