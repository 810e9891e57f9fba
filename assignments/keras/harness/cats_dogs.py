"""build_cats_dogs_cnn: train on class folders with augmentation, and a no-convolution control
(only when the grader has no calibrated accuracy for it: train_control).

stop_at: the held-out accuracy at which the verdict is reached (the threshold, and the calibrated
control's accuracy plus the margin); training stops after the first epoch whose validation
accuracy, read as the judge reads it, reaches it. None (calibration, or a control trained in this
run): the whole budget."""

import os
import shutil
import tempfile
import time

import keras
import numpy as np
from keras import layers

from .common import (
    describe_layers,
    fit_model,
    forward,
    grader_augmentation,
    history_arrays,
    loss_name,
    predict_all,
    require_compiled,
    write_images,
)


def _augmentation(namespace, images):
    # the student's build_augmentation if it rescales and keeps the shape, else the grader's own
    reason = "build_augmentation is not defined"
    fn = namespace.get("build_augmentation")
    if callable(fn):
        try:
            aug = fn()
            x = images[:16].astype("float32")
            same = np.asarray(aug(x, training=False))
            moved = np.asarray(aug(x, training=True))
            if same.shape != x.shape or moved.shape != x.shape:
                reason = f"build_augmentation changes the shape {x.shape} to {same.shape}"
            elif not np.allclose(same, x / 255.0, atol=1e-3):
                reason = "build_augmentation(x, training=False) is not x / 255"
            else:
                # does training=True change the images at all (16 of them: a flip alone misses all with p = 2**-16)?
                moves = not np.allclose(moved, same, atol=1e-3)
                return (
                    aug,
                    "yours (build_augmentation)",
                    moves,
                    [type(layer).__name__ for layer in getattr(aug, "layers", [])],
                )
        except Exception as exc:
            reason = f"build_augmentation raised {type(exc).__name__}: {str(exc)[:150]}"
    return grader_augmentation(), "the grader's (flip, rotation, translation), because " + reason, True, []


def _control(shape):
    # the same task without convolution: a dense network on the flattened pixels
    model = keras.Sequential(
        [
            keras.Input(shape=shape),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    # (the grader's own model, not the reference: tests/engine/publish/test_student_copy.py compares statements)
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def decisions(pred, from_logits):
    # class 1 decisions as judging/cats_dogs.py reads them: (n,) or (n, 1) probabilities cut at 0.5
    # (logits at 0), (n, 2) by argmax; None for any other shape (the judge then fails the model)
    pred = np.asarray(pred, dtype=np.float64)
    n = len(pred)
    if pred.shape in ((n,), (n, 1)):
        return pred.reshape(n) > (0.0 if from_logits else 0.5)
    if pred.shape == (n, 2):
        return pred.argmax(1) == 1
    return None


class StopAtThreshold(keras.callbacks.Callback):
    # ends training after the first epoch whose validation accuracy reaches `needed`: the
    # verdict is reached, more epochs only cost time (epochs_run says how many ran). The
    # predictions are an eager call (predict_all: no predict function traced), and the last
    # epoch's are the model's final ones (`pred`), so they are not made twice.
    def __init__(self, val_x, val_y, needed, from_logits):
        super().__init__()
        self.val_x, self.val_y, self.needed, self.from_logits = val_x, val_y, float(needed), from_logits
        self.epochs_run = 0
        self.pred = None

    def on_epoch_end(self, epoch, logs=None):
        self.epochs_run = epoch + 1
        self.pred = predict_all(self.model, self.val_x)
        got = decisions(self.pred, self.from_logits)
        if got is not None and float((got == (self.val_y == 1)).mean()) >= self.needed:
            self.model.stop_training = True


def run(
    namespace,
    train_images,
    train_labels,
    val_images,
    val_labels,
    seed,
    epochs,
    batch,
    train_control=True,
    stop_at=None,
):
    size = int(train_images.shape[1])
    root = tempfile.mkdtemp(prefix="keras_cats_dogs_")
    try:
        write_images(os.path.join(root, "train"), train_images, train_labels, "bmp")
        write_images(os.path.join(root, "validation"), val_images, val_labels, "bmp")
        keras.utils.set_random_seed(int(seed))
        aug, used, moves, aug_layers = _augmentation(namespace, train_images)
        read = dict(image_size=(size, size), batch_size=int(batch), label_mode="binary", verbose=False)
        train_ds = keras.utils.image_dataset_from_directory(
            os.path.join(root, "train"), shuffle=True, seed=int(seed), **read
        )
        val_ds = keras.utils.image_dataset_from_directory(os.path.join(root, "validation"), shuffle=False, **read)
        train_ds = train_ds.cache().map(lambda x, y: (aug(x, training=True), y))  # a new draw every epoch
        val_x = np.concatenate([np.asarray(x) for x, _ in val_ds]) / 255.0  # validation: rescaled only
        val_y = np.concatenate([np.asarray(y) for _, y in val_ds]).reshape(-1)  # cats/ then dogs/
        keras.utils.set_random_seed(int(seed))
        model = namespace["build_cats_dogs_cnn"]((size, size, 3))
        require_compiled(model, "build_cats_dogs_cnn")
        start = time.perf_counter()
        from_logits = bool(getattr(getattr(model, "loss", None), "from_logits", False))
        stop = [] if stop_at is None else [StopAtThreshold(val_x, val_y, stop_at, from_logits)]
        h = fit_model(model, "build_cats_dogs_cnn", train_ds, None, epochs=int(epochs), verbose=0, callbacks=stop)
        pred = stop[0].pred if stop and stop[0].pred is not None else predict_all(model, val_x)
        fit_seconds = time.perf_counter() - start
        control_pred = None  # the grader has the control's calibrated accuracy: not trained again
        if train_control:
            keras.utils.set_random_seed(int(seed))
            control = _control((size, size, 3))
            control.fit(train_ds, epochs=int(epochs), verbose=0)
            control_pred = np.asarray(control.predict(val_x, verbose=0))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    # the lecture's input size: built and run once on a blank image (not trained)
    keras.utils.set_random_seed(int(seed))
    big = namespace["build_cats_dogs_cnn"]((150, 150, 3))
    out150 = np.asarray(forward(big, np.zeros((1, 150, 150, 3), "float32")))
    return {
        "pred": pred,
        "control_pred": control_pred,
        "history": history_arrays(h),
        "layers": describe_layers(model),
        "loss": loss_name(model),
        "from_logits": from_logits,
        "augmentation": used,
        "augmentation_moves": bool(moves),
        "augmentation_layers": tuple(str(t)[:40] for t in aug_layers[:20]),
        "output_shape_150": np.array(out150.shape),
        "fit_seconds": fit_seconds,
        "epochs_run": len(next(iter(h.history.values()), [])) if h.history else int(epochs),
    }
