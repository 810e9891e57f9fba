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


# ------------------------------------------------------------------ exercise 1: the data pipeline


def scaler_fit_on_all(series, n_train):
    import numpy as np

    s = np.asarray(series, dtype=np.float64)
    lo, hi = float(s.min()), float(s.max())  # looks at the test period: leaks the future
    return (s - lo) / (hi - lo), lo, hi


def scaler_divides_by_max(series, n_train):
    import numpy as np

    s = np.asarray(series, dtype=np.float64)
    lo, hi = float(s[:n_train].min()), float(s[:n_train].max())
    return s / hi, lo, hi


def windows_off_by_one(series, window):
    import numpy as np

    s = np.asarray(series, dtype=np.float64)
    n = len(s) - window
    X = np.stack([s[i : i + window] for i in range(n)])[..., None]
    y = s[window - 1 : -1].copy()  # the last day of the window, not the day after it
    return X, y


def windows_no_feature_axis(series, window):
    import numpy as np

    s = np.asarray(series, dtype=np.float64)
    n = len(s) - window
    X = np.stack([s[i : i + window] for i in range(n)])  # (samples, window): no feature axis
    return X, s[window:].copy()


def split_shuffled(X, y, n_test):
    import numpy as np

    order = np.random.default_rng(0).permutation(len(X))  # shuffles the days before splitting
    X, y = X[order], y[order]
    k = len(X) - n_test
    return X[:k], y[:k], X[k:], y[k:]


def split_test_first(X, y, n_test):
    return X[n_test:].copy(), y[n_test:].copy(), X[:n_test].copy(), y[:n_test].copy()


def inverse_forgets_min(scaled, data_min, data_max):
    import numpy as np

    return np.asarray(scaled, dtype=np.float64) * (data_max - data_min)


def inverse_times_max(scaled, data_min, data_max):
    import numpy as np

    return np.asarray(scaled, dtype=np.float64) * data_max


def stock_no_return_sequences(window):
    import keras
    from keras import layers

    model = keras.Sequential(
        [
            keras.Input(shape=(window, 1)),
            layers.LSTM(64),
            layers.Dropout(0.2),
            layers.LSTM(64),
            layers.Dropout(0.2),
            layers.Dense(1),
        ]
    )
    model.compile(optimizer="adam", loss="mse")
    return model


def stock_sequences_to_dense(window):
    import keras
    from keras import layers

    model = keras.Sequential(
        [
            keras.Input(shape=(window, 1)),
            layers.LSTM(64, return_sequences=True),
            layers.Dropout(0.2),
            layers.LSTM(64, return_sequences=True),
            layers.Dropout(0.2),
            layers.Dense(1),
        ]
    )
    model.compile(optimizer="adam", loss="mse")
    return model


def stock_sigmoid_output(window):
    import keras
    from keras import layers

    model = keras.Sequential(
        [
            keras.Input(shape=(window, 1)),
            layers.LSTM(64, return_sequences=True),
            layers.Dropout(0.2),
            layers.LSTM(64),
            layers.Dropout(0.2),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="mse")
    return model


# ------------------------------------------------------------------ exercise 2: the generation loop


def generate_no_temperature(model, seed_text, n_chars, temperature, rng, char_to_index, index_to_char):
    import numpy as np

    window, out = list(seed_text), []
    for _ in range(n_chars):
        ids = np.array([[char_to_index[c] for c in window]])
        p = np.asarray(model.predict(ids, verbose=0), dtype=np.float64)[0, -1]
        nxt = index_to_char[int(rng.choice(len(p), p=p / p.sum()))]
        out.append(nxt)
        window = window[1:] + [nxt]
    return "".join(out)


def generate_temperature_on_probs(model, seed_text, n_chars, temperature, rng, char_to_index, index_to_char):
    import numpy as np

    window, out = list(seed_text), []
    for _ in range(n_chars):
        ids = np.array([[char_to_index[c] for c in window]])
        p = np.asarray(model.predict(ids, verbose=0), dtype=np.float64)[0, -1]
        w = np.exp(p / temperature)  # the probabilities treated as logits: softmax(p / T)
        w = w / w.sum()
        nxt = index_to_char[int(rng.choice(len(w), p=w))]
        out.append(nxt)
        window = window[1:] + [nxt]
    return "".join(out)


def generate_argmax(model, seed_text, n_chars, temperature, rng, char_to_index, index_to_char):
    import numpy as np

    window, out = list(seed_text), []
    for _ in range(n_chars):
        ids = np.array([[char_to_index[c] for c in window]])
        p = np.asarray(model.predict(ids, verbose=0), dtype=np.float64)[0, -1]
        nxt = index_to_char[int(np.argmax(p))]  # greedy: no sampling, no temperature
        out.append(nxt)
        window = window[1:] + [nxt]
    return "".join(out)


def generate_seed_not_slid(model, seed_text, n_chars, temperature, rng, char_to_index, index_to_char):
    import numpy as np

    ids = np.array([[char_to_index[c] for c in seed_text]])
    out = []
    for _ in range(n_chars):
        p = np.asarray(model.predict(ids, verbose=0), dtype=np.float64)[0, -1]  # always the seed
        w = p ** (1.0 / temperature)
        w = w / w.sum()
        out.append(index_to_char[int(rng.choice(len(w), p=w))])
    return "".join(out)


def generate_returns_seed(model, seed_text, n_chars, temperature, rng, char_to_index, index_to_char):
    import numpy as np

    text = seed_text
    for _ in range(n_chars):
        ids = np.array([[char_to_index[c] for c in text[-len(seed_text) :]]])
        p = np.asarray(model.predict(ids, verbose=0), dtype=np.float64)[0, -1]
        w = p ** (1.0 / temperature)
        w = w / w.sum()
        text += index_to_char[int(rng.choice(len(w), p=w))]
    return text  # the seed and the new characters


# ------------------------------------------------------------------ losses


def digits_categorical_crossentropy(input_shape=(8, 8, 1), num_classes=10):
    import keras
    from keras import layers

    model = keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(32, 3, activation="relu", padding="same"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(num_classes, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def char_categorical_crossentropy(vocab_size):
    import keras
    from keras import layers

    model = keras.Sequential(
        [
            keras.Input(shape=(None,), dtype="int32"),
            layers.Embedding(vocab_size, 32),
            layers.GRU(128, return_sequences=True),
            layers.Dense(vocab_size, activation="softmax"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="categorical_crossentropy", metrics=["accuracy"])
    return model


# ------------------------------------------------------------------ augmentation


def augment_shear_as_fraction():
    import keras
    from keras import layers

    return keras.Sequential(
        [
            layers.Rescaling(1.0 / 255),
            layers.RandomRotation(40 / 360, fill_mode="nearest"),
            layers.RandomTranslation(0.2, 0.2, fill_mode="nearest"),
            layers.RandomShear(x_factor=0.2, y_factor=0.2, fill_mode="nearest"),  # 20% of the image, both axes
            layers.RandomZoom(height_factor=0.2, width_factor=0.2, fill_mode="nearest"),
            layers.RandomFlip("horizontal"),
        ]
    )


def augment_zoom_keeps_aspect():
    import math

    import keras
    from keras import layers

    return keras.Sequential(
        [
            layers.Rescaling(1.0 / 255),
            layers.RandomRotation(40 / 360, fill_mode="nearest"),
            layers.RandomTranslation(0.2, 0.2, fill_mode="nearest"),
            layers.RandomShear(x_factor=math.tan(math.radians(0.2)), y_factor=0.0, fill_mode="nearest"),
            layers.RandomZoom(0.2, fill_mode="nearest"),  # one factor for both axes: the aspect ratio is kept
            layers.RandomFlip("horizontal"),
        ]
    )


def cats_no_augmentation():
    """Only the rescaling of ImageDataGenerator(rescale=1./255, ...): the training images are never moved."""
    import keras
    from keras import layers

    return keras.Sequential([layers.Rescaling(1.0 / 255)])


def cats_augment_no_flip():
    """The lecture's augmentation without horizontal_flip=True."""
    import math

    import keras
    from keras import layers

    return keras.Sequential(
        [
            layers.Rescaling(1.0 / 255),
            layers.RandomRotation(40 / 360, fill_mode="nearest"),
            layers.RandomTranslation(0.2, 0.2, fill_mode="nearest"),
            layers.RandomShear(x_factor=math.tan(math.radians(0.2)), y_factor=0.0, fill_mode="nearest"),
            layers.RandomZoom(height_factor=0.2, width_factor=0.2, fill_mode="nearest"),
        ]
    )


def cats_no_relu(input_shape=(150, 150, 3)):
    """Conv2D without an activation: the convolutions are linear (step 1 is convolution + ReLU)."""
    import keras
    from keras import layers

    model = keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(16, 3),
            layers.MaxPooling2D(2),
            layers.Conv2D(32, 3),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def cats_no_pooling(input_shape=(150, 150, 3)):
    """No MaxPooling2D: the feature maps are flattened at full size."""
    import keras
    from keras import layers

    model = keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(16, 3, activation="relu"),
            layers.Conv2D(32, 3, activation="relu"),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def cats_no_convolution(input_shape=(150, 150, 3)):
    """Flatten then Dense only: no convolution at all."""
    import keras
    from keras import layers

    model = keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def cats_softmax_one_unit(input_shape=(150, 150, 3)):
    """Dense(1, activation="softmax"): a softmax over one unit is always 1."""
    import keras
    from keras import layers

    model = keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(16, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
            layers.Dense(1, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def cats_loss_mismatch(input_shape=(150, 150, 3)):
    """One sigmoid output compiled with categorical_crossentropy (a loss for one-hot softmax outputs)."""
    import keras
    from keras import layers

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
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


# ------------------------------------------------------------------ submissions that were once not named


def inverse_swaps_min_max(scaled, data_min, data_max):
    """The inverse with min and max swapped: scaled * (data_min - data_max) + data_max."""
    import numpy as np

    return np.asarray(scaled, dtype=np.float64) * (data_min - data_max) + data_max


def stock_dense_only(window):
    """A stock model of Dense layers only: the window flattened, no recurrent layer."""
    import keras
    from keras import layers

    model = keras.Sequential(
        [
            keras.Input(shape=(window, 1)),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(64, activation="relu"),
            layers.Dense(1),
        ]
    )
    model.compile(optimizer="adam", loss="mse")
    return model


def generate_last_char_only(model, seed_text, n_chars, temperature, rng, char_to_index, index_to_char):
    """Feeds the model only the last character, not the window."""
    import numpy as np

    last, out = seed_text[-1], []
    for _ in range(n_chars):
        ids = np.array([[char_to_index[last]]])
        p = np.asarray(model.predict(ids, verbose=0), dtype=np.float64)[0, -1]
        w = p ** (1.0 / temperature)
        w = w / w.sum()
        last = index_to_char[int(rng.choice(len(w), p=w))]
        out.append(last)
    return "".join(out)


def cats_no_sigmoid(input_shape=(150, 150, 3)):
    """The reference CNN with a linear output, compiled with binary_crossentropy (which expects probabilities)."""
    import keras
    from keras import layers

    model = keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(16, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
            layers.Dense(1),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def augment_vertical_flip():
    """The lecture's augmentation with RandomFlip("vertical") instead of horizontal_flip=True."""
    import math

    import keras
    from keras import layers

    return keras.Sequential(
        [
            layers.Rescaling(1.0 / 255),
            layers.RandomRotation(40 / 360, fill_mode="nearest"),
            layers.RandomTranslation(0.2, 0.2, fill_mode="nearest"),
            layers.RandomShear(x_factor=math.tan(math.radians(0.2)), y_factor=0.0, fill_mode="nearest"),
            layers.RandomZoom(height_factor=0.2, width_factor=0.2, fill_mode="nearest"),
            layers.RandomFlip("vertical"),
        ]
    )


def augment_no_rescaling():
    """The lecture's augmentation without rescale=1./255: pixels stay in [0, 255]."""
    import math

    import keras
    from keras import layers

    return keras.Sequential(
        [
            layers.RandomRotation(40 / 360, fill_mode="nearest"),
            layers.RandomTranslation(0.2, 0.2, fill_mode="nearest"),
            layers.RandomShear(x_factor=math.tan(math.radians(0.2)), y_factor=0.0, fill_mode="nearest"),
            layers.RandomZoom(height_factor=0.2, width_factor=0.2, fill_mode="nearest"),
            layers.RandomFlip("horizontal"),
        ]
    )


def char_no_context(vocab_size):
    """Embedding then Dense: each position sees only its own character (at best a bigram model)."""
    import keras
    from keras import layers

    model = keras.Sequential(
        [
            keras.Input(shape=(None,), dtype="int32"),
            layers.Embedding(vocab_size, 32),
            layers.Dense(128, activation="relu"),
            layers.Dense(vocab_size, activation="softmax"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def transfer_base_dropped(base, num_classes):
    """A new model that never uses the base it was given (only the new head, on the raw pixels)."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=base.input_shape[1:])
    x = layers.Flatten()(inputs)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


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
    "scaler_fit_on_all": scaler_fit_on_all,
    "scaler_divides_by_max": scaler_divides_by_max,
    "windows_off_by_one": windows_off_by_one,
    "windows_no_feature_axis": windows_no_feature_axis,
    "split_shuffled": split_shuffled,
    "split_test_first": split_test_first,
    "inverse_forgets_min": inverse_forgets_min,
    "inverse_times_max": inverse_times_max,
    "stock_no_return_sequences": stock_no_return_sequences,
    "stock_sequences_to_dense": stock_sequences_to_dense,
    "stock_sigmoid_output": stock_sigmoid_output,
    "generate_no_temperature": generate_no_temperature,
    "generate_temperature_on_probs": generate_temperature_on_probs,
    "generate_argmax": generate_argmax,
    "generate_seed_not_slid": generate_seed_not_slid,
    "generate_returns_seed": generate_returns_seed,
    "digits_categorical_crossentropy": digits_categorical_crossentropy,
    "char_categorical_crossentropy": char_categorical_crossentropy,
    "augment_shear_as_fraction": augment_shear_as_fraction,
    "augment_zoom_keeps_aspect": augment_zoom_keeps_aspect,
    "cats_no_augmentation": cats_no_augmentation,
    "cats_augment_no_flip": cats_augment_no_flip,
    "cats_no_relu": cats_no_relu,
    "cats_no_pooling": cats_no_pooling,
    "cats_no_convolution": cats_no_convolution,
    "cats_softmax_one_unit": cats_softmax_one_unit,
    "cats_loss_mismatch": cats_loss_mismatch,
    "inverse_swaps_min_max": inverse_swaps_min_max,
    "stock_dense_only": stock_dense_only,
    "generate_last_char_only": generate_last_char_only,
    "cats_no_sigmoid": cats_no_sigmoid,
    "augment_vertical_flip": augment_vertical_flip,
    "augment_no_rescaling": augment_no_rescaling,
    "char_no_context": char_no_context,
    "transfer_base_dropped": transfer_base_dropped,
}
