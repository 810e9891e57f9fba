"""What every harness shares: a plain description of a model's layers, its training
history as arrays, and model.fit with a clear message for one mistake Keras reports badly.

A module: each harness imports its helpers from here (``from .common import fit_model, ...``);
harness.program installs it beside the harness where the harness runs.
"""

import os

import numpy as np

CONFIG_KEYS = (
    "units",
    "activation",
    "dropout",
    "recurrent_dropout",
    "return_sequences",
    "filters",
    "kernel_size",
    "pool_size",
    "rate",
    "factor",
    "height_factor",
    "width_factor",
    "mode",
    "scale",
    "x_factor",
    "y_factor",
    "merge_mode",
    "fill_mode",
)


def plain_value(v):
    if isinstance(v, (bool, int, float, str)) or v is None:
        return v
    if isinstance(v, (tuple, list)) and all(isinstance(x, (int, float)) for x in v):
        return np.asarray(v, dtype=np.float64)
    return str(v)[:100]


def describe_layer(layer):
    out = {"type": type(layer).__name__}
    try:
        cfg = layer.get_config()
    except Exception:
        cfg = {}
    for k in CONFIG_KEYS:
        if k in cfg:
            out[k] = plain_value(cfg[k])
    inner = getattr(layer, "forward_layer", None)
    if inner is not None:
        out["inner"] = describe_layer(inner)
    return out


def describe_layers(model):
    found = []
    for layer in getattr(model, "layers", []):
        if type(layer).__name__ == "InputLayer":
            continue
        found.append(describe_layer(layer))
    return tuple(found[:40])


def history_arrays(h):
    return {k: np.asarray(v, dtype=np.float64) for k, v in h.history.items()}


ONE_HOT = "which expects one-hot labels"


class _Spec:
    """What Keras reads of one batch to build a model symbolically: a shape and a dtype."""

    def __init__(self, shape, dtype):
        self.shape, self.dtype = tuple(shape), dtype


def batch_spec(X, y):
    # a tf.data.Dataset says its batches' shapes in element_spec; arrays: any batch size
    spec = getattr(X, "element_spec", None)
    if spec is not None:
        return spec
    X, y = np.asarray(X), np.asarray(y)
    return (_Spec((None, *X.shape[1:]), X.dtype), _Spec((None, *y.shape[1:]), y.dtype))


def build_for_training(model, X, y=None):
    # Without a distribution strategy, Keras creates the optimizer's and the compiled metrics'
    # variables while TensorFlow traces the training step, and TensorFlow then traces the step
    # a second time: about 0.6 s per model. Keras' own symbolic build, done here first, creates
    # the same variables (zeros; the layers' weights are drawn in the same order), so training
    # is bit-identical (tests/assignments/keras/test_keras_harness_speed.py) and traced once.
    try:
        model._symbolic_build(data_batch=batch_spec(X, y))
    except Exception:
        pass  # fit() builds it as before, and reports any real problem in its own words


def fit_model(model, name, X, y, **kwargs):
    # Keras' own error for categorical_crossentropy on integer labels is a bare rank mismatch
    build_for_training(model, X, y)
    try:
        return model.fit(X, y, **kwargs)
    except Exception as exc:
        loss = getattr(model, "loss", None)
        loss = loss if isinstance(loss, str) else getattr(loss, "name", type(loss).__name__)
        if str(loss).lower().replace("_", "") == "categoricalcrossentropy" and np.issubdtype(
            np.asarray(y).dtype, np.integer
        ):
            raise ValueError(
                name + " is compiled with loss='categorical_crossentropy', " + ONE_HOT + " (one column per "
                "class); the labels here are integer class ids: use loss='sparse_categorical_crossentropy'. "
                "Keras said: " + str(exc).strip().splitlines()[0][:200]
            ) from None
        raise


def predict_all(model, x, chunk=512):
    # The check models' predictions on their test inputs, called eagerly in chunks: predict()
    # traces a function first (about 0.3 s per model) for one pass over a few hundred samples.
    # predict() if the model cannot be called so (e.g. a subclassed model without a training arg).
    try:
        parts = [np.asarray(model(x[i : i + chunk], training=False)) for i in range(0, len(x), chunk)]
        return np.concatenate(parts, axis=0)
    except Exception:
        return np.asarray(model.predict(x, verbose=0))


def forward(model, x):
    # a model built only to read its output shape: one call, without tracing a predict function
    # (about 0.3 s of CPU per model, 1 s for ResNet50); predict() if the model cannot be called so
    try:
        return np.asarray(model(x, training=False))
    except Exception:
        return np.asarray(model.predict(x, verbose=0))


def loss_name(model):
    # the compiled loss as a short name: "mse", "binary_crossentropy", a loss object's name
    loss = getattr(model, "loss", None)
    return str(loss if isinstance(loss, str) else getattr(loss, "name", type(loss).__name__))[:60]


def optimizer_name(model):
    # the compiled optimizer's class, lower case: "rmsprop", "adam"; "" before compile
    optimizer = getattr(model, "optimizer", None)
    return type(optimizer).__name__.lower()[:40] if optimizer is not None else ""


def require_compiled(model, name):
    if getattr(model, "optimizer", None) is None or not getattr(model, "compiled", True):
        raise RuntimeError(name + " must return a compiled model (call model.compile(...) before returning it)")


def write_images(folder, images, labels, ext="png"):
    # images uint8 (n, H, W, 3), labels (n,) 0/1 -> folder/cats/0000.png, folder/dogs/0001.png, ...
    # ext "bmp": the same pixels read back (lossless both), written about 4x faster (600 images of
    # 48 x 48: 0.05 s of CPU instead of 0.2) and decoded faster by image_dataset_from_directory;
    # PNG where the student's own code reads the folders
    from PIL import Image

    for i, (img, lab) in enumerate(zip(images, labels)):
        sub = os.path.join(folder, "cats" if lab == 0 else "dogs")
        os.makedirs(sub, exist_ok=True)
        Image.fromarray(img).save(os.path.join(sub, f"{i:04d}.{ext}"))


def grader_augmentation():
    # the grader's own augmentation (not the reference's): rescaling, flip, rotation, translation
    import keras
    from keras import layers

    return keras.Sequential(
        [
            layers.Rescaling(1.0 / 255),
            layers.RandomFlip("horizontal"),
            layers.RandomRotation(40 / 360, fill_mode="nearest"),
            layers.RandomTranslation(0.2, 0.2, fill_mode="nearest"),
        ]
    )


def with_name(fn, name, value, *args):
    # fn(*args) with `value` as the `name` fn finds in its globals (the notebook's names), put back
    # afterwards; (result, calls): how many times fn called it. A function that is not plain
    # Python (no __globals__) runs as it is.
    calls = [0]

    def counted(*a, **k):
        calls[0] += 1
        return value(*a, **k)

    names = getattr(fn, "__globals__", None)
    if not isinstance(names, dict):
        return fn(*args), 0
    missing = object()
    old = names.get(name, missing)
    names[name] = counted
    try:
        return fn(*args), calls[0]
    finally:
        if old is missing:
            names.pop(name, None)
        else:
            names[name] = old


def stop_at_error(x, y, needed, *, root):
    """A Keras callback that ends training after the first epoch whose forecast of ``x`` is
    within ``needed`` of ``y`` (n,): mean squared error, or its root with ``root``. The check
    passes there and more epochs only cost time; a forecast that is not one value per row is
    failed by the judge, so training goes on. Keras is imported here, not at the top: the
    numpy-only harnesses import this module too."""
    import keras

    y = np.asarray(y, np.float64).reshape(-1)

    class StopAtError(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            pred = np.asarray(predict_all(self.model, x), np.float64)
            if pred.size != y.size:
                return
            err = float(np.mean((pred.reshape(-1) - y) ** 2))
            err = float(np.sqrt(err)) if root else err
            if np.isfinite(err) and err <= float(needed):
                self.model.stop_training = True

    return StopAtError()


def epochs_run(history, epochs):
    """How many epochs fit() ran (fewer than ``epochs`` when a callback stopped it)."""
    return len(next(iter(history.history.values()), [])) if history.history else int(epochs)
