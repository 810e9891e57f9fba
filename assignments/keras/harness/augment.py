"""build_augmentation: apply it at inference and in training to 4 images; its layers."""

import keras
import numpy as np

from .common import describe_layers


def run(namespace, images, seed):
    keras.utils.set_random_seed(int(seed))
    aug = namespace["build_augmentation"]()
    x = images.astype("float32")
    inference = np.asarray(aug(x, training=False))
    trained = np.asarray(aug(x, training=True))
    return {
        "layers": describe_layers(aug),
        "is_sequential": isinstance(aug, keras.Sequential),
        "inference": inference,
        "training": trained,
    }
