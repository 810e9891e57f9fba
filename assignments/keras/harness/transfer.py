"""build_transfer_model: a new head on a frozen digits base (trained), on VGG16 and ResNet50 (built only)."""

import keras
import numpy as np
from keras import layers

from .common import fit_model, forward, history_arrays, predict_all, require_compiled


def _base():
    return keras.Sequential(
        [
            keras.Input(shape=(8, 8, 1)),
            layers.Conv2D(16, 3, activation="relu", padding="same"),
            layers.MaxPooling2D(2),
            layers.Conv2D(32, 3, activation="relu", padding="same"),
        ],
        name="digits_base",
    )


def _frozen(model, base):
    base_ids = {id(w) for w in base.weights}
    return not any(id(w) in base_ids for w in model.trainable_weights)


def _uses(model, base):
    stack = list(getattr(model, "layers", []))
    while stack:
        layer = stack.pop()
        if layer is base:
            return True
        stack += list(getattr(layer, "layers", []))
    base_ids = {id(w) for w in base.weights}
    return any(id(w) in base_ids for w in model.weights)


def run(namespace, weights, X, y, Xtest, seed, epochs, batch):
    keras.utils.set_random_seed(int(seed))
    base = _base()
    base.set_weights(list(weights))
    model = namespace["build_transfer_model"](base, 5)
    require_compiled(model, "build_transfer_model")
    frozen_before = _frozen(model, base)
    h = fit_model(model, "build_transfer_model", X, y, epochs=int(epochs), batch_size=int(batch), verbose=0)
    after = base.get_weights()
    change = max(float(np.max(np.abs(a - b))) for a, b in zip(after, weights))
    pred = predict_all(model, Xtest)
    # the lecture's VGG16, without downloading ImageNet weights: built, never trained
    vgg = keras.applications.VGG16(weights=None, include_top=False, input_shape=(150, 150, 3))
    keras.utils.set_random_seed(int(seed))
    m2 = namespace["build_transfer_model"](vgg, 2)
    vout = np.asarray(forward(m2, np.zeros((1, 150, 150, 3), "float32")))
    # exercise 5: the same on ResNet50 (its BatchNormalization layers must stay frozen too)
    res = keras.applications.ResNet50(weights=None, include_top=False, input_shape=(150, 150, 3))
    keras.utils.set_random_seed(int(seed))
    m3 = namespace["build_transfer_model"](res, 2)
    rout = np.asarray(forward(m3, np.zeros((1, 150, 150, 3), "float32")))
    return {
        "pred": pred,
        "history": history_arrays(h),
        "base_change": change,
        "frozen": frozen_before,
        "uses_base": _uses(model, base),
        "vgg_frozen": _frozen(m2, vgg),
        "vgg_used": _uses(m2, vgg),
        "vgg_output_shape": np.array(vout.shape),
        "resnet_frozen": _frozen(m3, res),
        "resnet_used": _uses(m3, res),
        "resnet_output_shape": np.array(rout.shape),
    }
