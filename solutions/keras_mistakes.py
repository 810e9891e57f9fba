"""Wrong builders for the `keras` assignment: the negative controls and realistic mistakes.

MUTANTS maps a mistake id of assignments/keras/mistakes.toml to a function with the
student's signature. Each one is self-contained (its imports inside) so that its source
can be pasted into a notebook cell.
"""

from __future__ import annotations


def digits_no_convolution(input_shape=(8, 8, 1), num_classes=10):
    import keras
    from keras import layers

    model = keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
            layers.Dense(num_classes, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def transfer_unfrozen(base, num_classes):
    import keras
    from keras import layers

    inputs = keras.Input(shape=base.input_shape[1:])
    x = layers.Flatten()(base(inputs))
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def stacked_wrong_dropout(n_features):
    import keras
    from keras import layers

    model = keras.Sequential(
        [
            keras.Input(shape=(None, n_features)),
            layers.GRU(32, dropout=0.5, recurrent_dropout=0.1, return_sequences=True),
            layers.GRU(64, activation="relu", dropout=0.5, recurrent_dropout=0.1),
            layers.Dense(1),
        ]
    )
    model.compile(optimizer="rmsprop", loss="mae")
    return model


def stacked_no_return_sequences(n_features):
    import keras
    from keras import layers

    model = keras.Sequential(
        [
            keras.Input(shape=(None, n_features)),
            layers.GRU(32, dropout=0.1, recurrent_dropout=0.5),
            layers.GRU(64, activation="relu", dropout=0.1, recurrent_dropout=0.5),
            layers.Dense(1),
        ]
    )
    model.compile(optimizer="rmsprop", loss="mae")
    return model


def order_bag_of_words(vocab_size, seq_len):
    import keras
    from keras import layers

    model = keras.Sequential(
        [
            keras.Input(shape=(seq_len,), dtype="int32"),
            layers.Embedding(vocab_size, 16),
            layers.GlobalAveragePooling1D(),
            layers.Dense(16, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def forecaster_mean(window, n_features=1):
    import keras
    from keras import layers

    inputs = keras.Input(shape=(window, n_features))
    zero = layers.Lambda(lambda x: x[:, 0, :1] * 0.0)(inputs)
    outputs = layers.Dense(1)(zero)  # only a bias: it learns the mean
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    return model


def temperature_power(probs, temperature, rng):
    import numpy as np

    w = np.asarray(probs, dtype=np.float64) ** temperature
    w = w / w.sum()
    return int(rng.choice(len(w), p=w))


def temperature_ignored(probs, temperature, rng):
    import numpy as np

    p = np.asarray(probs, dtype=np.float64)
    return int(rng.choice(len(p), p=p / p.sum()))


def datasets_augment_validation(train_dir, validation_dir):
    import keras

    augment = build_augmentation()  # noqa: F821 - the notebook's own function
    train = keras.utils.image_dataset_from_directory(
        train_dir, image_size=(150, 150), batch_size=32, label_mode="binary", seed=0
    )
    val = keras.utils.image_dataset_from_directory(
        validation_dir, image_size=(150, 150), batch_size=32, label_mode="binary", shuffle=False
    )
    train = train.map(lambda x, y: (augment(x, training=True), y))
    val = val.map(lambda x, y: (augment(x, training=True), y))
    return train, val


MUTANTS = {
    "digits_no_convolution": digits_no_convolution,
    "transfer_unfrozen": transfer_unfrozen,
    "stacked_wrong_dropout": stacked_wrong_dropout,
    "stacked_no_return_sequences": stacked_no_return_sequences,
    "order_bag_of_words": order_bag_of_words,
    "forecaster_mean": forecaster_mean,
    "temperature_power": temperature_power,
    "temperature_ignored": temperature_ignored,
    "datasets_augment_validation": datasets_augment_validation,
}
