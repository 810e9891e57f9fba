"""The keras assignment's reference models and thresholds, justified by data.

The reference check models pass with margin over three seeds; the negative controls fail;
make_datasets reads a generated folder as the lecture's flow_from_directory did; the
lecture's VGG16 base is accepted frozen; temperature sampling follows the formula.
Harnesses run in this process here (the grading tests run them in the sandbox).
"""

from __future__ import annotations

import numpy as np
import pytest

from deepgrade.course import assignment as asg
from deepgrade.grading import notebook
from helpers import ROOT, keras_module

A = asg.load("keras", ROOT)
FX = keras_module("fixtures")
BUDGETS = keras_module("check.budgets")
CNN_JUDGING = keras_module("check.judging.cnn")
DATA = keras_module("check.datasets")
SEQ_JUDGING = keras_module("check.judging.sequences")
REF = A.reference
TRAINED = [
    "build_digit_cnn",
    "build_transfer_model",
    "build_order_classifier",
    "build_forecaster",
    "build_char_model",
    "build_cats_dogs_cnn",
]
SEEDS = [0, 1, 2]


def judge(outcomes: dict, name: str):
    q = A.question(name)
    return q.extra_check(A, q, {k: v for k, v in outcomes.items() if k.startswith(name + "/")})


def namespace(**overrides) -> dict:
    """The reference's names, with mutants pasted in as a notebook cell would define them."""
    ns = dict(vars(REF))
    for name, mid in overrides.items():
        exec(compile(notebook.function_source(A.mutants[mid], rename=name), f"<mutant {mid}>", "exec"), ns)
    return ns


def metric(label: str) -> float:
    """The measured number in a check's label (accuracy in %, or the MSE ratio)."""
    import re

    m = re.search(r": ([0-9.]+)%", label) or re.search(r"MSE ([0-9.]+) x", label)
    return float(m.group(1))


@pytest.fixture(scope="module")
def reference_runs():
    return {seed: FX.local_outcomes(namespace(), TRAINED, seed=seed) for seed in SEEDS}


@pytest.mark.slow
@pytest.mark.parametrize("name", TRAINED)
def test_reference_passes_with_margin_over_three_seeds(reference_runs, name):
    margins = {
        "build_digit_cnn": ("accuracy", BUDGETS.budgets().digits_min_accuracy * 100 + 3),
        "build_transfer_model": ("accuracy", BUDGETS.budgets().transfer_min_accuracy * 100 + 5),
        "build_order_classifier": ("accuracy", BUDGETS.budgets().order_min_accuracy * 100 + 5),
        "build_forecaster": ("ratio", BUDGETS.budgets().forecast_max_ratio * 0.8),
        "build_char_model": ("accuracy", (DATA.char_data()[5] + BUDGETS.budgets().char_margin) * 100 + 3),
        "build_cats_dogs_cnn": ("accuracy", BUDGETS.budgets().cats_dogs_min_accuracy * 100 + 3),
    }
    kind, bound = margins[name]
    measured = []
    for seed in SEEDS:
        checks = judge(reference_runs[seed], name)
        assert all(c.passed for c in checks), (seed, [(c.label, c.details) for c in checks if not c.passed])
        main = next(c for c in checks if "(needs" in c.label)
        measured.append(metric(main.label))
    print(name, kind, measured)
    if kind == "accuracy":
        assert min(measured) >= bound, measured
    else:
        assert max(measured) <= bound, measured


def test_reference_untrained_questions_pass():
    out = FX.local_outcomes(
        namespace(),
        [
            "build_augmentation",
            "make_datasets",
            "build_stacked_gru",
            "build_bidirectional_gru",
            "sample_with_temperature",
        ],
    )
    for name in [
        "build_augmentation",
        "make_datasets",
        "build_stacked_gru",
        "build_bidirectional_gru",
        "sample_with_temperature",
    ]:
        checks = judge(out, name)
        assert checks and all(c.passed for c in checks), [(c.label, c.details) for c in checks if not c.passed]


# ------------------------------------------------------------------ negative controls


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_bag_of_words_fails_the_order_task(seed):
    out = FX.local_outcomes(
        namespace(build_order_classifier="order_bag_of_words"), ["build_order_classifier"], seed=seed
    )
    (check,) = judge(out, "build_order_classifier")
    assert not check.passed and metric(check.label) < 65, check.label
    assert "order_bag_of_words" in check.diagnosis


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_mean_predictor_fails_the_forecaster(seed):
    out = FX.local_outcomes(namespace(build_forecaster="forecaster_mean"), ["build_forecaster"], seed=seed)
    check = judge(out, "build_forecaster")[0]  # (the second check: a regression loss was compiled)
    assert not check.passed and metric(check.label) > 1.0, check.label
    assert "forecaster_mean" in check.diagnosis


def test_persistence_is_a_fair_baseline():
    """Persistence is far better than the mean 6 hours ahead, and the reference beats it (above)."""
    _, _, Xte, yte = DATA.forecast_data()
    persistence = np.mean((Xte[:, -1, 0] - yte) ** 2)
    assert persistence < np.var(yte)


@pytest.mark.slow
def test_unfrozen_base_loses_the_frozen_checks():
    out = FX.local_outcomes(namespace(build_transfer_model="transfer_unfrozen"), ["build_transfer_model"])
    checks = {c.label.split(":")[0]: c for c in judge(out, "build_transfer_model")}
    frozen = checks["the convolutional base is frozen"]
    assert not frozen.passed and "transfer_unfrozen" in frozen.diagnosis
    assert any("trainable" in d for d in frozen.details)
    vgg = next(c for k, c in checks.items() if k.startswith("accepts VGG16"))
    assert not vgg.passed
    resnet = next(c for k, c in checks.items() if k.startswith("accepts ResNet50"))
    assert not resnet.passed and "transfer_unfrozen" in resnet.diagnosis


@pytest.mark.slow
def test_dense_only_digits_model_loses_the_structure_check():
    out = FX.local_outcomes(namespace(build_digit_cnn="digits_no_convolution"), ["build_digit_cnn"])
    checks = judge(out, "build_digit_cnn")
    structure = next(c for c in checks if c.label.startswith("the lecture's four steps"))
    assert not structure.passed and "digits_no_convolution" in structure.diagnosis
    assert any("Conv2D" in d for d in structure.details)


@pytest.mark.parametrize("mid", ["stacked_wrong_dropout", "stacked_no_return_sequences"])
def test_stacked_gru_mistakes_are_named(mid):
    out = FX.local_outcomes(namespace(build_stacked_gru=mid), ["build_stacked_gru"])
    checks = judge(out, "build_stacked_gru")
    assert not all(c.passed for c in checks)
    assert any(mid in c.diagnosis for c in checks), [(c.label, c.details) for c in checks]


@pytest.mark.parametrize("mid", ["temperature_power", "temperature_ignored"])
def test_temperature_mistakes_are_named(mid):
    out = FX.local_outcomes(namespace(sample_with_temperature=mid), ["sample_with_temperature"])
    checks = judge(out, "sample_with_temperature")
    assert not any(c.passed for c in checks)
    assert all(mid in c.diagnosis for c in checks if c.label.startswith("frequencies"))


def test_augmented_validation_is_caught():
    out = FX.local_outcomes(namespace(make_datasets="datasets_augment_validation"), ["make_datasets"])
    checks = judge(out, "make_datasets")
    check = next(c for c in checks if c.label.startswith("the validation data is only rescaled"))
    assert not check.passed and "datasets_augment_validation" in check.diagnosis
    # the exercise's point: augmenting the validation data keeps at most half of the question
    from deepgrade.portable.scoring import question_points

    assert question_points(checks, 2.0) <= 1.0


WRONG_AUGMENTATIONS = {
    "stub": "def build_augmentation():\n    raise NotImplementedError\n",
    "vertical_no_rescale": (
        "def build_augmentation():\n"
        "    return keras.Sequential([layers.RandomFlip('vertical'), layers.RandomRotation(0.1)])\n"
    ),
    "only_rescales": "def build_augmentation():\n    return keras.Sequential([layers.Rescaling(1.0 / 255)])\n",
}


@pytest.mark.parametrize("aug", sorted(WRONG_AUGMENTATIONS))
def test_a_right_make_datasets_keeps_its_points_over_a_wrong_augmentation(aug):
    """make_datasets is judged on its own: the reference's make_datasets pasted in
    as a cell, beside a wrong build_augmentation, keeps every point, and says where the mistake is."""
    ns: dict = {}
    cells = ["import keras\nfrom keras import layers\n", notebook.function_source(REF.make_datasets)]
    for cell in cells + [WRONG_AUGMENTATIONS[aug]]:
        exec(compile(cell, "<cell>", "exec"), ns)
    out = FX.local_outcomes(ns, ["make_datasets", "build_augmentation"])
    q = A.question("make_datasets")
    checks = q.extra_check(A, q, out)
    assert all(c.passed for c in checks), [(c.label, c.details) for c in checks if not c.passed]
    notes = [d for c in checks for d in c.details]
    assert len(notes) == 1 and notes[0].startswith("right given your build_augmentation"), notes
    assert "(see build_augmentation)" in notes[0]
    # the mistake is charged once: on build_augmentation itself
    own = A.question("build_augmentation")
    assert not all(c.passed for c in own.extra_check(A, own, out))


# ------------------------------------------------------------------ every wrong submission named


@pytest.mark.parametrize(
    "mid,check_label",
    [
        ("augment_vertical_flip", "horizontal_flip=True"),
        ("augment_no_rescaling", "rescale=1./255"),
        ("cats_no_augmentation", "in training it changes the images"),
    ],
)
def test_augmentation_mistakes_are_named_under_build_augmentation(mid, check_label):
    out = FX.local_outcomes(namespace(build_augmentation=mid), ["build_augmentation"])
    checks = judge(out, "build_augmentation")
    check = next(c for c in checks if c.label.startswith(check_label))
    assert not check.passed and mid in check.diagnosis, [(c.label, c.diagnosis) for c in checks]
    assert A.mistakes[mid].explanation in check.details


def test_a_dropped_base_is_named_dropped_not_unfrozen():
    out = FX.local_outcomes(namespace(build_transfer_model="transfer_base_dropped"), ["build_transfer_model"])
    checks = judge(out, "build_transfer_model")
    named = {m for c in checks if not c.passed for m in c.diagnosis}
    assert named == {"transfer_base_dropped"}, [(c.label, c.diagnosis, c.details) for c in checks]
    assert not any("trainable = False before compiling" in d for c in checks for d in c.details)
    from deepgrade.portable.scoring import question_points

    assert question_points(checks, 3.0) <= 1.5


def test_a_dense_only_stock_model_is_named():
    out = FX.local_outcomes(namespace(build_stock_lstm="stock_dense_only"), ["build_stock_lstm"])
    checks = judge(out, "build_stock_lstm")
    structure = next(c for c in checks if c.label.startswith("a stacked recurrent model"))
    assert not structure.passed and "stock_dense_only" in structure.diagnosis


@pytest.mark.slow
def test_a_character_model_without_context_is_named():
    out = FX.local_outcomes(namespace(build_char_model="char_no_context"), ["build_char_model"])
    checks = judge(out, "build_char_model")
    acc = checks[-1]
    assert not acc.passed and "char_no_context" in acc.diagnosis, (acc.label, acc.details)
    assert "+ 0%" not in acc.label and " points)" in acc.label  # the margin as computed, in points


def _cats_value(last: dict, loss: str = "binary_crossentropy", from_logits: bool = False, correct: float = 1.0):
    """A cats-vs-dogs harness value as the sandbox sends it: the reference's layers with ``last``
    as the output layer, and predictions that are right on a share ``correct`` of the images."""
    n = len(DATA.cats_dogs_data()["val_labels"])
    y = np.sort(DATA.cats_dogs_data()["val_labels"]).astype(float)
    said = np.where(np.arange(n) < correct * n, y, 1 - y)
    # a sigmoid's probabilities, or a linear output's logits (+2 for dogs, -2 for cats)
    pred = said * 0.8 + 0.1 if last.get("activation") == "sigmoid" else said * 4.0 - 2.0
    layers_ = (
        {"type": "Conv2D", "filters": 16, "activation": "relu"},
        {"type": "MaxPooling2D"},
        {"type": "Conv2D", "filters": 32, "activation": "relu"},
        {"type": "MaxPooling2D"},
        {"type": "Flatten"},
        {"type": "Dense", "units": 64, "activation": "relu"},
        last,
    )
    return {
        "pred": pred.reshape(n, 1),
        "control_pred": np.full((n, 1), 0.4),
        "history": {"loss": np.array([0.7, 0.5])},
        "layers": layers_,
        "loss": loss,
        "from_logits": from_logits,
        "augmentation": "yours (build_augmentation)",
        "augmentation_moves": True,
        "augmentation_layers": ("Rescaling", "RandomFlip"),
        "output_shape_150": np.array([1, 1]),
        "fit_seconds": 1.0,
    }


def test_a_cats_cnn_without_sigmoid_is_named_and_keeps_at_most_a_quarter():
    from types import SimpleNamespace

    from deepgrade.portable.scoring import question_points

    q = A.question("build_cats_dogs_cnn")
    linear = {"type": "Dense", "units": 1, "activation": "linear"}
    for from_logits, most in ((False, 0.75), (True, 2.25)):
        o = SimpleNamespace(ok=True, status="ok", error=None, value=_cats_value(linear, from_logits=from_logits))
        checks = q.extra_check(A, q, {"build_cats_dogs_cnn/train": o})
        assert question_points(checks, 3.0) == most, [(c.label, c.passed) for c in checks]
        named = any("cats_no_sigmoid" in c.diagnosis for c in checks)
        assert named is not from_logits  # from_logits=True is right Keras: only the lecture's structure is missed
    sigmoid = {"type": "Dense", "units": 1, "activation": "sigmoid"}
    o = SimpleNamespace(ok=True, status="ok", error=None, value=_cats_value(sigmoid))
    assert question_points(q.extra_check(A, q, {"build_cats_dogs_cnn/train": o}), 3.0) == 3.0


# ------------------------------------------------------------------ data pipeline, VGG16, sampling


@pytest.fixture(scope="module")
def image_dirs(tmp_path_factory):
    from PIL import Image

    root = tmp_path_factory.mktemp("cats_and_dogs")
    tr, ytr, va, yva = DATA.image_folder_data()
    for split, imgs, labels in (("train", tr, ytr), ("validation", va, yva)):
        for i, (img, lab) in enumerate(zip(imgs, labels)):
            d = root / split / ("cats" if lab == 0 else "dogs")
            d.mkdir(parents=True, exist_ok=True)
            Image.fromarray(img).save(d / f"{i:03d}.png")
    return root / "train", root / "validation", va


def test_make_datasets_reads_a_generated_folder(image_dirs):
    train_dir, val_dir, val_images = image_dirs
    train_ds, val_ds = REF.make_datasets(str(train_dir), str(val_dir))
    x, y = next(iter(train_ds))
    x, y = np.asarray(x), np.asarray(y).ravel()
    assert x.shape == (32, 150, 150, 3)
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert set(np.unique(y)) <= {0.0, 1.0} and y.shape == (32,)
    # validation: exactly the pictures / 255, the same on every pass (no augmentation)
    v1 = np.concatenate([np.asarray(b) for b, _ in val_ds])
    v2 = np.concatenate([np.asarray(b) for b, _ in val_ds])
    np.testing.assert_array_equal(v1, v2)
    np.testing.assert_allclose(
        np.sort(v1.reshape(len(v1), -1).sum(1)),
        np.sort(val_images.reshape(len(val_images), -1).sum(1) / 255),
        rtol=1e-5,
    )
    # training: augmented, so two passes differ
    t1 = np.sort(np.concatenate([np.asarray(b) for b, _ in train_ds]).reshape(40, -1).sum(1))
    t2 = np.sort(np.concatenate([np.asarray(b) for b, _ in train_ds]).reshape(40, -1).sum(1))
    assert not np.allclose(t1, t2)


def test_vgg16_base_is_accepted_frozen():
    import keras

    vgg = keras.applications.VGG16(weights=None, include_top=False, input_shape=(150, 150, 3))
    model = REF.build_transfer_model(vgg, 2)
    assert model.output_shape == (None, 2)
    vgg_ids = {id(w) for w in vgg.weights}
    assert not any(id(w) in vgg_ids for w in model.trainable_weights)
    assert len(model.trainable_weights) > 0
    assert any(layer is vgg for layer in model.layers)


def test_resnet50_base_is_accepted_frozen():
    import keras

    res = keras.applications.ResNet50(weights=None, include_top=False, input_shape=(150, 150, 3))
    model = REF.build_transfer_model(res, 2)
    assert model.output_shape == (None, 2)
    res_ids = {id(w) for w in res.weights}
    assert not any(id(w) in res_ids for w in model.trainable_weights)
    assert any(layer is res for layer in model.layers)


@pytest.mark.parametrize("temperature", [0.25, 0.5, 1.0, 2.0, 5.0])
def test_sample_with_temperature_follows_the_formula(temperature):
    probs = np.array([0.5, 0.25, 0.15, 0.07, 0.03])
    rng = np.random.default_rng(7)
    n = 20000
    counts = np.bincount([REF.sample_with_temperature(probs, temperature, rng) for _ in range(n)], minlength=5)
    want = probs ** (1 / temperature)
    want /= want.sum()
    # within 5 standard errors of each expected frequency
    se = np.sqrt(want * (1 - want) / n)
    assert np.all(np.abs(counts / n - want) <= 5 * se + 1e-9), (counts / n, want)


def test_a_sampler_that_accepts_temperature_zero_loses_that_check_only():
    """The notebook asks for ValueError when temperature <= 0, and the grader checks it."""
    src = """
def sample_with_temperature(probs, temperature, rng):
    import numpy as np

    w = np.asarray(probs, dtype=np.float64) ** (1.0 / max(temperature, 1e-3))
    return int(rng.choice(len(w), p=w / w.sum()))
"""
    ns: dict = {}
    exec(compile(src, "<cell>", "exec"), ns)
    checks = judge(FX.local_outcomes(ns, ["sample_with_temperature"]), "sample_with_temperature")
    assert [c.passed for c in checks] == [True, True, False], [(c.label, c.details) for c in checks]
    assert checks[-1].label.startswith("raises ValueError")
    ref = judge(FX.local_outcomes(namespace(), ["sample_with_temperature"]), "sample_with_temperature")
    assert len(ref) == 3 and all(c.passed for c in ref)


def test_sample_with_temperature_rejects_non_positive():
    with pytest.raises(ValueError):
        REF.sample_with_temperature(np.array([0.5, 0.5]), 0.0, np.random.default_rng(0))


def test_grading_tolerance_separates_the_formula_from_the_mistakes():
    """The grader's tolerance is > 5 standard errors for the right formula and well below the gap to each mistake."""
    probs, n, tol = (
        np.array(BUDGETS.budgets().sample["probs"]),
        BUDGETS.budgets().sample["n"],
        BUDGETS.budgets().sample_tolerance,
    )
    for t in BUDGETS.budgets().sample["temperatures"]:
        want = SEQ_JUDGING._tempered(probs, t)
        assert tol >= 4 * np.max(np.sqrt(want * (1 - want) / n))
        for wrong in (SEQ_JUDGING._tempered(probs, 1 / t), probs):
            assert np.max(np.abs(wrong - want)) > 2 * tol


def test_transfer_base_file_matches_its_weights():
    import keras

    base = keras.saving.load_model(DATA.DATA / "digits_base.keras")
    for a, b in zip(base.get_weights(), DATA.base_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "name,mid",
    [("build_digit_cnn", "digits_categorical_crossentropy"), ("build_char_model", "char_categorical_crossentropy")],
)
def test_categorical_crossentropy_on_integer_labels_is_diagnosed(name, mid):
    out = FX.local_outcomes(namespace(**{name: mid}), [name])
    checks = judge(out, name)
    failed = next(c for c in checks if c.label.startswith("trains on"))
    assert not failed.passed and mid in failed.diagnosis
    text = " ".join(failed.details)
    assert "sparse_categorical_crossentropy" in text and "Keras said: " in text  # ours, then Keras' own words


@pytest.mark.parametrize("mid", ["augment_shear_as_fraction", "augment_zoom_keeps_aspect"])
def test_augmentation_mistakes_are_named(mid):
    out = FX.local_outcomes(namespace(build_augmentation=mid), ["build_augmentation"])
    checks = judge(out, "build_augmentation")
    bad = [c for c in checks if not c.passed]
    assert len(bad) == 1 and bad[0].diagnosis == [mid], [(c.label, c.details) for c in bad]


def test_shear_factor_is_imagedatagenerators_angle():
    """RandomShear(x_factor=tan(0.2 deg)) moves a point by the same amount as a 0.2-degree shear:
    Keras 3 maps x -> x - factor * y (the layer's source), ImageDataGenerator builds
    [[1, -sin(s), 0], [0, cos(s), 0]] with s in radians (keras-preprocessing's apply_affine_transform)."""
    s = np.radians(0.2)
    y = 150.0
    assert abs(CNN_JUDGING.SHEAR_FACTOR * y - np.sin(s) * y) < 1e-4  # the same x offset to 1e-4 pixel at 150 rows
    assert 0.0034 < CNN_JUDGING.SHEAR_FACTOR < 0.0035


@pytest.mark.parametrize("pred", ["not numbers", np.full((200, 1), np.nan), np.zeros((200, 20, 1))])
def test_stock_check_judges_bad_forecasts_cleanly(pred):
    from types import SimpleNamespace

    value = {"pred": pred, "history": {}, "layers": ({"type": "LSTM", "return_sequences": True},)}
    outcomes = {"build_stock_lstm/train": SimpleNamespace(ok=True, value=value, status="ok", error=None)}
    checks = judge(outcomes, "build_stock_lstm")
    assert checks and not any(c.passed for c in checks)


def test_stock_mistakes_are_named_without_training():
    """The structure check names the sigmoid output and the last LSTM returning sequences."""
    from types import SimpleNamespace

    for mid, layers in (
        ("stock_sigmoid_output", [("LSTM", True), ("LSTM", False), ("Dense", "sigmoid")]),
        ("stock_sequences_to_dense", [("LSTM", True), ("LSTM", True), ("Dense", "linear")]),
    ):
        desc = tuple(
            {"type": t, "return_sequences": x} if t == "LSTM" else {"type": t, "units": 1.0, "activation": x}
            for t, x in layers
        )
        value = {"pred": np.zeros((200, 1)), "history": {}, "layers": desc}
        outcomes = {"build_stock_lstm/train": SimpleNamespace(ok=True, value=value, status="ok", error=None)}
        checks = judge(outcomes, "build_stock_lstm")
        assert any(mid in c.diagnosis and not c.passed for c in checks), (mid, [(c.label, c.diagnosis) for c in checks])


# ------------------------------------------------------------------ exercise 3: cats and dogs


@pytest.mark.parametrize("view", ["train", "mirrored"])
def test_generated_cats_and_dogs_are_deterministic_balanced_and_alike_in_colour(view):
    a, ya = DATA.texture_images(60, 64, 7, view)
    b, yb = DATA.texture_images(60, 64, 7, view)
    assert a.dtype == np.uint8 and a.shape == (60, 64, 64, 3) and np.array_equal(a, b) and np.array_equal(ya, yb)
    assert np.bincount(ya).tolist() == [30, 30]
    # the textures cover the same share of their region: the mean colour does not tell the classes apart
    means = a.reshape(60, -1).mean(axis=1)
    gap = abs(means[ya == 0].mean() - means[ya == 1].mean())
    assert gap < 0.5 * means.std(), (gap, means.std())


def _bright_columns(images: np.ndarray) -> np.ndarray:
    """Per image, the mean column (0..1 of the width) of its texture's pixels: every channel of
    the texture's colour is >= 180, the background's <= 60 plus noise of sd 4."""
    bright = images.min(axis=3) >= 150
    cols = np.arange(images.shape[2]) + 0.5
    return np.array([(b.sum(0) * cols).sum() / b.sum() for b in bright]) / images.shape[2]


def _stripe_normal_sign(images: np.ndarray) -> np.ndarray:
    """Per image, the sign of cos(angle) * sin(angle) of the texture's edge normals (the structure
    tensor's off-diagonal, x = column, y = row): + for a normal at 0-90 degrees, - at 90-180."""
    out = []
    for b in (images.min(axis=3) >= 150).astype(float):
        gy, gx = np.gradient(b)
        out.append(np.sign((gx * gy).sum()))
    return np.array(out)


def test_training_animals_stand_on_the_left_and_validation_animals_are_mirrored():
    """The set that makes augmentation matter (assignments/keras/check/cats_images.py): every training
    animal on the left, stripes one way; every validation animal on the right, stripes the other way."""
    tr, ytr = DATA.texture_images(200, 64, 4000)
    va, yva = DATA.texture_images(200, 64, 4001, "mirrored")
    x_tr, x_va = _bright_columns(tr), _bright_columns(va)
    assert x_tr.max() < 0.45 and x_va.min() > 0.55, (x_tr.max(), x_va.min())
    # the stripes' normal is at 35-55 degrees in training, 125-145 mirrored (the dogs: spots are round)
    s_tr, s_va = _stripe_normal_sign(tr[ytr == 1]), _stripe_normal_sign(va[yva == 1])
    assert (s_tr > 0).mean() > 0.9 and (s_va < 0).mean() > 0.9, ((s_tr > 0).mean(), (s_va < 0).mean())
    assert DATA.cats_dogs_data()["val"].shape[0] == BUDGETS.budgets().cats_dogs["n_val"]


def _stripe_normal_degrees(images: np.ndarray) -> np.ndarray:
    """Per image, the direction (0-180 degrees, x = column, y = row) of its texture's edge normals:
    the structure tensor's main axis, 0.5 * atan2(2 sum gx gy, sum gx^2 - gy^2)."""
    out = []
    for b in (images.min(axis=3) >= 150).astype(float):
        gy, gx = np.gradient(b)
        out.append(np.degrees(0.5 * np.arctan2(2 * (gx * gy).sum(), (gx * gx - gy * gy).sum())) % 180)
    return np.array(out)


def test_no_training_stripes_lean_within_70_degrees_of_a_validation_stripe():
    """At the graded size, the stripes' angles of the training and the mirrored validation dogs are
    far apart (35-55 against 125-145 degrees drawn): the lecture's 40-degree rotation cannot turn
    one into the other, only the flip can (cats_images.py)."""
    size = BUDGETS.budgets().cats_dogs["size"]
    tr, ytr = DATA.texture_images(200, size, 4000)
    va, yva = DATA.texture_images(200, size, 4001, "mirrored")
    a, b = _stripe_normal_degrees(tr[ytr == 1]), _stripe_normal_degrees(va[yva == 1])
    assert a.min() > 30 and a.max() < 60 and b.min() > 120 and b.max() < 150, (a.min(), a.max(), b.min(), b.max())
    assert b.min() - a.max() >= 70, (a.max(), b.min())


def test_instructors_photo_folder_is_read(tmp_path, monkeypatch):
    from PIL import Image

    rng = np.random.default_rng(0)
    for split, n in (("train", 3), ("validation", 2)):
        for cls in ("cats", "dogs"):
            (tmp_path / split / cls).mkdir(parents=True)
            for i in range(n):
                img = rng.integers(0, 256, (90, 120, 3)).astype(np.uint8)  # photos come in any size
                Image.fromarray(img).save(tmp_path / split / cls / f"{cls}.{i}.jpg")
    monkeypatch.setenv("DEEPGRADE_CATS_DOGS", str(tmp_path))
    DATA._cats_dogs_data.cache_clear()
    try:
        d = DATA.cats_dogs_data()
        s = BUDGETS.budgets().cats_dogs["size"]
        assert d["train"].shape == (6, s, s, 3) and d["val"].shape == (4, s, s, 3)
        assert d["train_labels"].tolist() == [0, 0, 0, 1, 1, 1] and d["val_labels"].tolist() == [0, 0, 1, 1]
        assert "photos" in d["source"]
        (tmp_path / "validation" / "dogs" / "dogs.0.jpg").unlink()
        (tmp_path / "validation" / "dogs" / "dogs.1.jpg").unlink()
        DATA._cats_dogs_data.cache_clear()
        with pytest.raises(ValueError, match="no .jpg or .png"):
            DATA.cats_dogs_data()
    finally:
        DATA._cats_dogs_data.cache_clear()


CATS_MISTAKES = [
    "cats_no_augmentation",  # build_augmentation: caught by the CNN's accuracy on the mirrored validation animals
    "cats_augment_no_flip",
    "cats_no_relu",
    "cats_no_pooling",
    "cats_no_convolution",
    "cats_softmax_one_unit",
    "cats_loss_mismatch",
]


@pytest.mark.slow
@pytest.mark.parametrize("mid", CATS_MISTAKES)
def test_cats_and_dogs_mistakes_are_caught_and_explained(mid):
    out = FX.local_outcomes(namespace(**{A.mistakes[mid].function: mid}), ["build_cats_dogs_cnn"])
    checks = judge(out, "build_cats_dogs_cnn")
    bad = [c for c in checks if not c.passed]
    assert any(mid in c.diagnosis for c in bad), [(c.label, c.diagnosis, c.details) for c in checks]
    assert any(A.mistakes[mid].explanation in c.details for c in bad)
