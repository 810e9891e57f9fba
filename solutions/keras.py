"""Reference solutions for the `keras` assignment (Keras 3).

This module is imported as ``solutions.keras``; ``import keras`` below still gets the
real Keras because only the project root (not ``solutions/``) is on ``sys.path``.
"""

from __future__ import annotations

import math

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
            # shear_range is an angle in degrees, along x only: RandomShear's factor is the shear
            # itself (x moves by factor * y), i.e. tan(angle)
            layers.RandomShear(x_factor=math.tan(math.radians(0.2)), y_factor=0.0, fill_mode="nearest"),
            # zoom_range draws the two axes independently: a width_factor of its own
            layers.RandomZoom(height_factor=0.2, width_factor=0.2, fill_mode="nearest"),
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


def build_cats_dogs_cnn(input_shape=(150, 150, 3)):
    """The lecture's cats-vs-dogs CNN, smaller: two blocks of Conv2D + ReLU and MaxPooling2D,
    Flatten, Dense + ReLU, one sigmoid output; binary_crossentropy on 0/1 labels. Input pixels in [0, 1]."""
    model = keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(16, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


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


# ------------------------------------------------------------------ exercise 1: Google stock prices
# The data pipeline in numpy (float64). A series is a 1-D array of daily closing prices.


def fit_minmax_scaler(series, n_train):
    """Min-max scale a series with the minimum and maximum of its training period only.

    series (n,), n_train int (the first n_train values are the training period).
    Returns (scaled (n,), data_min, data_max): scaled = (series - data_min) / (data_max - data_min)
    with data_min, data_max = min and max of series[:n_train]. Later values may leave [0, 1]:
    the test period is not looked at.
    """
    s = np.asarray(series, dtype=np.float64)
    lo, hi = float(s[:n_train].min()), float(s[:n_train].max())
    return (s - lo) / (hi - lo), lo, hi


def make_windows(series, window):
    """Supervised samples from a series: `window` past values -> the next value.

    series (n,), window int. Returns X (n - window, window, 1) with X[i, :, 0] = series[i:i + window]
    and y (n - window,) with y[i] = series[i + window] (the day after the window).
    """
    s = np.asarray(series, dtype=np.float64)
    n = len(s) - window
    X = np.stack([s[i : i + window] for i in range(n)])[..., None]
    y = s[window:].copy()
    return X, y


def split_chronological(X, y, n_test):
    """Train on the past, test on the future: no shuffling.

    X (N, ...), y (N,), n_test int. Returns (X_train, y_train, X_test, y_test): the first
    N - n_test samples train, the last n_test test, in their original order.
    """
    k = len(X) - n_test
    return X[:k].copy(), y[:k].copy(), X[k:].copy(), y[k:].copy()


def inverse_minmax(scaled, data_min, data_max):
    """Back to dollars: scaled * (data_max - data_min) + data_min, any shape."""
    return np.asarray(scaled, dtype=np.float64) * (data_max - data_min) + data_min


def build_stock_lstm(window):
    """The lecture's stacked recurrent model with dropout, for one feature.

    Input (window, 1), output (1,): LSTM(64, return_sequences=True) -> Dropout(0.2) -> LSTM(64)
    -> Dropout(0.2) -> Dense(1), compiled with Adam (learning rate 3e-3) and the mean squared error.
    """
    model = keras.Sequential(
        [
            keras.Input(shape=(window, 1)),
            layers.LSTM(64, return_sequences=True),
            layers.Dropout(0.2),
            layers.LSTM(64),
            layers.Dropout(0.2),
            layers.Dense(1),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse")
    return model


# ------------------------------------------------------------------ exercise 2: text generation


def generate(model, seed_text, n_chars, temperature, rng, char_to_index, index_to_char):
    """Generate n_chars characters after seed_text, one at a time, with a character model.

    model: like build_char_model's: model.predict(ids, verbose=0) with ids (1, T) integers gives
    (1, T, V) probabilities of the next character at every position. The model reads a window
    of len(seed_text) characters: at first the seed, then the window slides one character per
    step (the oldest dropped, the new one appended). Each step samples the next character from
    the last position's probabilities with sample_with_temperature(probs, temperature, rng)
    (one draw of rng per character). Returns the n_chars new characters as a str (no seed).
    """
    window = list(seed_text)
    out = []
    for _ in range(n_chars):
        ids = np.array([[char_to_index[c] for c in window]])
        probs = np.asarray(model.predict(ids, verbose=0), dtype=np.float64)[0, -1]
        nxt = index_to_char[sample_with_temperature(probs, temperature, rng)]
        out.append(nxt)
        window = window[1:] + [nxt]
    return "".join(out)


_ = tf  # tf.data is what make_datasets returns
