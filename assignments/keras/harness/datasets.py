"""make_datasets: write two class folders, read them with the student's function, and
report the batches (shapes, pixel range, labels, per-image sums on two passes).

make_datasets is judged on its own: it runs with the grader's augmentation as the
build_augmentation it calls, so that a mistake in the student's build_augmentation is charged
once, under build_augmentation."""

import os
import shutil
import tempfile

import keras
import numpy as np

from .common import grader_augmentation, with_name, write_images


def _sums(ds):
    sums, labels, shapes = [], [], set()
    for xb, yb in ds:
        xb, yb = np.asarray(xb), np.asarray(yb)
        shapes.add(xb.shape[1:])
        sums += list(xb.reshape(len(xb), -1).sum(axis=1))
        labels += list(yb.reshape(len(yb), -1)[:, 0])
    return np.array(sums), np.array(labels), shapes


def run(namespace, train_images, train_labels, val_images, val_labels, seed):
    root = tempfile.mkdtemp(prefix="keras_images_")
    write_images(os.path.join(root, "train"), train_images, train_labels)
    write_images(os.path.join(root, "validation"), val_images, val_labels)
    keras.utils.set_random_seed(int(seed))
    (train_ds, val_ds), calls = with_name(
        namespace["make_datasets"],
        "build_augmentation",
        grader_augmentation,
        os.path.join(root, "train"),
        os.path.join(root, "validation"),
    )
    xb, yb = next(iter(train_ds))
    xb, yb = np.asarray(xb), np.asarray(yb)
    t1, tl1, tshapes = _sums(train_ds)
    t2, tl2, _ = _sums(train_ds)
    v1, vl1, vshapes = _sums(val_ds)
    v2, vl2, _ = _sums(val_ds)
    vb = np.asarray(next(iter(val_ds))[0])
    shutil.rmtree(root, ignore_errors=True)
    return {
        "batch_shape": np.array(xb.shape),
        "label_shape": np.array(yb.shape),
        "labels": yb.astype("float64"),
        "min": float(xb.min()),
        "max": float(xb.max()),
        "val_min": float(vb.min()),
        "val_max": float(vb.max()),
        "train_sums": (t1, t2),
        "train_labels": tl1,
        "val_sums": (v1, v2),
        "val_labels": (vl1, vl2),
        "shapes": str(sorted(tshapes | vshapes)),
        "augmentation_calls": calls,
    }
