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


LECTURE_INPUT = (150, 150, 3)


def _unset_base(application):
    # The base with its weights left unset: creating and randomly filling VGG16's 15 million and
    # ResNet50's 24 million weights took about 0.9 s of CPU here, and these bases are only wrapped
    # and called symbolically (a shape). Keras' own deferred initialisation (a StatelessScope that
    # does not initialise) leaves them unset; they must also leave Keras' list of variables to
    # initialise, or the student's first symbolic call would fill them after all.
    from keras.src.backend.common import global_state

    with keras.StatelessScope(initialize_variables=False):
        base = application(weights=None, include_top=False, input_shape=LECTURE_INPUT)
    ours = {id(w) for w in base.weights}
    pending = global_state.get_global_attribute("uninitialized_variables", [])
    global_state.set_global_attribute("uninitialized_variables", [v for v in pending if id(v) not in ours])
    return base


def _on_lecture_base(namespace, application, seed):
    # (base, the student's model on it with 2 classes, its output shape for one 150 x 150 image).
    # First on an unset base, called on a symbolic image; if anything there fails, as before: a
    # base with its weights and one real call, where the student's own errors are raised.
    try:
        base = _unset_base(application)
        keras.utils.set_random_seed(int(seed))
        model = namespace["build_transfer_model"](base, 2)
        return base, model, tuple(int(d) for d in model(keras.KerasTensor((1, *LECTURE_INPUT))).shape)
    except Exception:
        pass
    base = application(weights=None, include_top=False, input_shape=LECTURE_INPUT)
    keras.utils.set_random_seed(int(seed))
    model = namespace["build_transfer_model"](base, 2)
    return base, model, np.asarray(forward(model, np.zeros((1, *LECTURE_INPUT), "float32"))).shape


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
    # the lecture's VGG16 (exercise 4) and ResNet50 (exercise 5: its BatchNormalization layers
    # must stay frozen too), without downloading ImageNet weights: built, never trained
    vgg, m2, vshape = _on_lecture_base(namespace, keras.applications.VGG16, seed)
    res, m3, rshape = _on_lecture_base(namespace, keras.applications.ResNet50, seed)
    return {
        "pred": pred,
        "history": history_arrays(h),
        "base_change": change,
        "frozen": frozen_before,
        "uses_base": _uses(model, base),
        "vgg_frozen": _frozen(m2, vgg),
        "vgg_used": _uses(m2, vgg),
        "vgg_output_shape": np.array(vshape),
        "resnet_frozen": _frozen(m3, res),
        "resnet_used": _uses(m3, res),
        "resnet_output_shape": np.array(rshape),
    }
