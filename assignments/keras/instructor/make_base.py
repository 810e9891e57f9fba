"""Train the small convolutional base used by the transfer-learning check, once, deterministically.

The base is trained on sklearn's digits 0-4 (a Conv-Pool-Conv stack plus a throw-away
classifier); the grader trains the student's new head on digits 5-9 with the base frozen.

    PYTHONPATH=graders:. .venv/bin/python assignments/keras/instructor/make_base.py

writes ``digits_base.keras`` (the model) and ``digits_base.npz`` (its weights as plain arrays,
which is what the grader sends into the sandbox: no Keras file is ever read there).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data"
SEED = 0
EPOCHS = 8


def build_base():
    import keras
    from keras import layers

    return keras.Sequential(
        [
            keras.Input(shape=(8, 8, 1)),
            layers.Conv2D(16, 3, activation="relu", padding="same"),
            layers.MaxPooling2D(2),
            layers.Conv2D(32, 3, activation="relu", padding="same"),
        ],
        name="digits_base",
    )


def main() -> None:
    import keras
    from sklearn.datasets import load_digits

    d = load_digits()
    keep = d.target < 5
    X = (d.images[keep] / 16.0).astype("float32")[..., None]
    y = d.target[keep]
    keras.utils.set_random_seed(SEED)
    base = build_base()
    clf = keras.Sequential([base, keras.layers.Flatten(), keras.layers.Dense(5, activation="softmax")])
    clf.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    h = clf.fit(X, y, epochs=EPOCHS, batch_size=32, verbose=0)
    print(f"base trained on digits 0-4: training accuracy {h.history['accuracy'][-1]:.3f}")
    base.save(DATA / "digits_base.keras")
    np.savez(DATA / "digits_base.npz", *[np.asarray(w) for w in base.get_weights()])
    print("wrote", DATA / "digits_base.keras", DATA / "digits_base.npz")


if __name__ == "__main__":
    main()
