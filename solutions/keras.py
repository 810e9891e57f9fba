"""Reference solutions for the `keras` assignment (Keras 3).

This module is imported as ``solutions.keras``; ``import keras`` below still gets the
real Keras because only the project root (not ``solutions/``) is on ``sys.path``.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import layers


def build_digit_cnn(input_shape=(8, 8, 1), num_classes=10):
    """The lecture's four steps: Conv2D + ReLU, MaxPooling2D, Flatten, Dense (softmax)."""
    model = keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(32, 3, activation="relu", padding="same"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
            layers.Dense(num_classes, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def build_augmentation():
    """ImageDataGenerator(rescale=1./255, rotation_range=40, width/height_shift_range=0.2,
    shear_range=0.2, zoom_range=0.2, horizontal_flip=True) as Keras 3 preprocessing layers."""
    return keras.Sequential(
        [
            layers.Rescaling(1.0 / 255),
            layers.RandomRotation(40 / 360, fill_mode="nearest"),
            layers.RandomTranslation(0.2, 0.2, fill_mode="nearest"),
            layers.RandomShear(x_factor=0.2, y_factor=0.2, fill_mode="nearest"),
            layers.RandomZoom(0.2, fill_mode="nearest"),
            layers.RandomFlip("horizontal"),
        ],
        name="augmentation",
    )


def make_datasets(train_dir, validation_dir):
    """flow_from_directory(target_size=(150, 150), batch_size=32, class_mode='binary'), Keras 3 style."""
    train = keras.utils.image_dataset_from_directory(
        train_dir, image_size=(150, 150), batch_size=32, label_mode="binary", shuffle=True, seed=0
    )
    val = keras.utils.image_dataset_from_directory(
        validation_dir, image_size=(150, 150), batch_size=32, label_mode="binary", shuffle=False
    )
    augment = build_augmentation()
    rescale = layers.Rescaling(1.0 / 255)
    train = train.map(lambda x, y: (augment(x, training=True), y))
    val = val.map(lambda x, y: (rescale(x), y))
    return train, val


def build_transfer_model(base, num_classes):
    """Freeze the convolutional base, put a new classifier on top."""
    base.trainable = False
    inputs = keras.Input(shape=base.input_shape[1:])
    x = base(inputs, training=False)
    x = layers.Flatten()(x)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def build_stacked_gru(n_features):
    model = keras.Sequential(
        [
            keras.Input(shape=(None, n_features)),
            layers.GRU(32, dropout=0.1, recurrent_dropout=0.5, return_sequences=True),
            layers.GRU(64, activation="relu", dropout=0.1, recurrent_dropout=0.5),
            layers.Dense(1),
        ]
    )
    model.compile(optimizer="rmsprop", loss="mae")
    return model


def build_bidirectional_gru(n_features):
    model = keras.Sequential(
        [
            keras.Input(shape=(None, n_features)),
            layers.Bidirectional(layers.GRU(32)),
            layers.Dense(1),
        ]
    )
    model.compile(optimizer="rmsprop", loss="mae")
    return model


def build_order_classifier(vocab_size, seq_len):
    model = keras.Sequential(
        [
            keras.Input(shape=(seq_len,), dtype="int32"),
            layers.Embedding(vocab_size, 16),
            layers.GRU(16),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def build_forecaster(window, n_features=1):
    model = keras.Sequential(
        [
            keras.Input(shape=(window, n_features)),
            layers.GRU(16),
            layers.Dense(1),
        ]
    )
    model.compile(optimizer="adam", loss="mse")
    return model


def build_char_model(vocab_size):
    model = keras.Sequential(
        [
            keras.Input(shape=(None,), dtype="int32"),
            layers.Embedding(vocab_size, 32),
            layers.GRU(128, return_sequences=True),
            layers.Dense(vocab_size, activation="softmax"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def sample_with_temperature(probs, temperature, rng):
    """Draw an index from probs reweighted as p ** (1 / temperature), renormalised."""
    if temperature <= 0:
        raise ValueError("temperature must be > 0")
    p = np.asarray(probs, dtype=np.float64)
    w = p ** (1.0 / temperature)
    w = w / w.sum()
    return int(rng.choice(len(w), p=w))


_ = tf  # tf.data is what make_datasets returns
