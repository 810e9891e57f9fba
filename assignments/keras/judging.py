"""Judging the keras check models: ``CHECKS``, one check function per model question.

A check function ``(assignment, question, outcomes) -> list[Check]`` reads the outcome of the
question's harness call (``outcomes["<question>/<case>"]``: ``ok``, ``value``, ``error``) and
judges accuracy, structure and learning curves here, in the grading process (or grader.check's
kernel, local.py), against the budgets and thresholds of budgets.py. A value is what the
student's process sent back: only its numbers are read, and every shape is checked first.
``measure`` gives the raw numbers the thresholds apply to (``deepgrade calibrate``).
"""

from __future__ import annotations

import functools

import numpy as np

from .budgets import (
    CATS_DOGS,
    CATS_DOGS_MIN_ACCURACY,
    CATS_DOGS_MIN_OVER_CONTROL,
    CHAR,
    CHAR_MARGIN,
    DIGITS,
    DIGITS_MIN_ACCURACY,
    FORECAST,
    FORECAST_MAX_RATIO,
    ORDER,
    ORDER_MIN_ACCURACY,
    SAMPLE,
    SAMPLE_TOLERANCE,
    STOCK,
    STOCK_MAX_VS_MEAN,
    STOCK_MAX_VS_PERSISTENCE,
    TRANSFER,
    TRANSFER_MIN_ACCURACY,
)
from .datasets import cats_dogs_data, char_data, digits_split, forecast_data, goog_data, image_folder_data, order_data
from .generation import GENERATE, _generation_expectations
from .plots import with_curves, with_price_plot

try:
    from deepgrade.portable.compare import Check, error_check, explain_diagnoses
except ImportError:  # the student's copy: _deepgrade_check/ holds deepgrade.portable's modules
    from .compare import Check, error_check, explain_diagnoses  # type: ignore[no-redef]


def check_split_order(assignment, question, outcomes) -> list[Check]:
    """A diagnosis only (weight 0, so the points equal grader.check's): rows that are all there
    but out of time order were shuffled before the split."""
    for case in question.cases:
        o = outcomes.get(f"{question.name}/{case.name}")
        if o is None or not o.ok or not isinstance(o.value, tuple) or len(o.value) != 4:
            continue
        X, y, _ = case.args
        try:
            got = np.concatenate([np.asarray(o.value[1], float).ravel(), np.asarray(o.value[3], float).ravel()])
        except (TypeError, ValueError):
            continue
        want = np.asarray(y, float)
        if got.shape == want.shape and not np.array_equal(got, want) and np.array_equal(np.sort(got), np.sort(want)):
            return [
                Check(
                    f"keeps the time order on {case.description}",
                    False,
                    0.0,
                    ["your training and test targets hold the right samples, but in another order"],
                    diagnosis=["split_shuffled"],
                )
            ]
    return []


def check_generate(assignment, question, outcomes) -> list[Check]:
    """Exact comparison of the generated text with the reference's, case by case, with diagnoses."""
    want = _generation_expectations(assignment)
    checks = []
    for name, description, _, hidden in GENERATE:
        if name not in want:
            continue  # a hidden case in the student's copy
        label = ("hidden check: " if hidden else "") + f"the generated text on {description}"
        o = outcomes.get(f"generate/{name}")
        if o is None or not o.ok:
            check = _failed(label, o, 1.0) if o is not None else Check(label, False, 1.0, ["not run"])
            check.hidden = hidden
            checks.append(check)
            continue
        got = o.value.ravel() if isinstance(o.value, np.ndarray) and o.value.dtype.kind in "iu" else None
        exp = want[name]["expected"]
        ok = got is not None and got.shape == exp.shape and bool(np.all(got == exp))
        check = Check(label, ok, 1.0, hidden=hidden)
        if not ok:
            if got is None:
                check.details.append("generate did not return text")
            elif hidden:
                check.details.append(f"your {got.size} characters differ from the expected {exp.size}")
            else:
                text = "".join(
                    chr(int(c)) for c in got[:80] if 0 <= int(c) < 0x110000 and not 0xD800 <= int(c) < 0xE000
                )
                check.details.append(f"yours:    {text!r}")
                check.details.append(f"expected: {''.join(chr(int(c)) for c in exp)!r}")
            for mid, mout in want[name]["mutants"].items():
                if (
                    got is not None
                    and got.shape == mout.shape
                    and np.all(got == mout)
                    and not np.array_equal(mout, exp)
                ):
                    check.diagnosis.append(mid)
        checks.append(check)
    return checks


ONE_HOT_MARKER = "which expects one-hot labels"  # the harnesses' message (COMMON's _fit)


def _failed(label: str, outcome, weight: float, one_hot_mistake: str | None = None) -> Check:
    """A harness call that raised, hung or crashed: the engine's error check (the student's own
    line, cells counted from 1), under this check's label."""
    err = outcome.error or {"type": outcome.status, "message": outcome.status}
    check = error_check(label, False, err, weight)
    check.label = label
    if one_hot_mistake and ONE_HOT_MARKER in str(err.get("message", "")):
        check.diagnosis.append(one_hot_mistake)
    return check


def _sequence_output_check(v: dict) -> Check:
    """The recurrent regressors map a batch of 2 sequences of 7 steps to (2, 1)."""
    shape = tuple(int(x) for x in np.asarray(v["output_shape"]).ravel())
    ok = shape == (2, 1)
    return Check("output shape (2, 1) for a batch of 2 sequences of 7 steps", ok, 1.0, [] if ok else [f"got {shape}"])


def _value(outcomes, question, case="train"):
    o = outcomes[f"{question.name}/{case}"]
    return o, (o.value if o.ok and isinstance(o.value, dict) else None)


def _types(layers) -> list[str]:
    return [str(layer.get("type")) for layer in layers or () if isinstance(layer, dict)]


def _num(x, default=None):
    try:
        return float(np.asarray(x).ravel()[-1])
    except (TypeError, ValueError, IndexError):
        return default


def check_digits(assignment, question, outcomes) -> list[Check]:
    o, v = _value(outcomes, question)
    budget = f"{DIGITS['epochs']} epochs, batch {DIGITS['batch']}, seed {DIGITS['seed']}"
    if v is None:
        return [
            _failed(f"trains on the digits ({budget})", o, 2.0, "digits_categorical_crossentropy"),
            Check("the lecture's four steps", False, 1.0, ["not checked: the model did not train"]),
        ]
    types = _types(v.get("layers"))
    steps = [
        ("Conv2D", "a Conv2D layer (step 1, convolution + ReLU)"),
        ("MaxPooling2D", "a MaxPooling2D layer (step 2, pooling)"),
        ("Flatten", "a Flatten layer (step 3, flattening)"),
        ("Dense", "a Dense layer (step 4, fully connected)"),
    ]
    missing = [desc for t, desc in steps if t not in types]
    details = [f"your layers: {', '.join(types)}"]
    if missing:
        details.append("missing: " + "; ".join(missing))
    else:
        pos = [types.index(t) for t, _ in steps]
        if pos != sorted(pos):
            missing.append("order")
            details.append("the steps are out of order: convolution, then pooling, then flatten, then dense")
        conv = next(layer for layer in v["layers"] if layer.get("type") == "Conv2D")
        if conv.get("activation") != "relu":
            missing.append("relu")
            details.append(
                f"the Conv2D activation is {conv.get('activation')!r}; the lecture's step 1 is convolution + ReLU"
            )
        last = v["layers"][-1]
        if last.get("activation") != "softmax":
            missing.append("softmax")
            details.append(
                f"the last layer's activation is {last.get('activation')!r}; a 10-class output needs softmax"
            )
    structure = Check(
        "the lecture's four steps (Conv2D + ReLU, MaxPooling2D, Flatten, Dense softmax)",
        not missing,
        1.0,
        details if missing else [],
    )
    if "Conv2D" not in types:
        structure.diagnosis.append("digits_no_convolution")
    pred = np.asarray(v.get("pred"))
    _, _, _, yte = digits_split()
    if pred.shape != (len(yte), 10):
        acc_check = Check(
            f"accuracy on held-out digits ({budget})",
            False,
            2.0,
            [f"predictions of shape {pred.shape}; expected ({len(yte)}, 10): one probability per class"],
        )
    else:
        acc = float((pred.argmax(1) == yte).mean())
        acc_check = Check(
            f"accuracy on {len(yte)} held-out digits after {budget}: {acc:.1%} (needs {DIGITS_MIN_ACCURACY:.1%})",
            acc >= DIGITS_MIN_ACCURACY,
            2.0,
        )
    return [with_curves(acc_check, "build_digit_cnn", v), structure]


def _factor(x):
    """The largest magnitude of a layer's factor (a number or a range); nan when there is none."""
    if x is None or isinstance(x, str):
        return float("nan")
    a = np.abs(np.asarray(x, dtype=float).ravel())
    return float(np.nanmax(a)) if a.size and not np.all(np.isnan(a)) else float("nan")


SHEAR_FACTOR = float(np.tan(np.radians(0.2)))  # ImageDataGenerator(shear_range=0.2): 0.2 degrees


def check_augmentation(assignment, question, outcomes) -> list[Check]:
    o, v = _value(outcomes, question, "apply")
    if v is None:
        return [_failed("builds and applies the augmentation", o, 3.0)]
    layers = [layer for layer in v.get("layers") or () if isinstance(layer, dict)]
    by_type = {layer["type"]: layer for layer in layers}
    checks = []
    wanted = [
        ("Rescaling", "rescale=1./255", lambda L: abs(_num(L.get("scale"), 0) - 1 / 255) < 1e-6),
        (
            "RandomRotation",
            "rotation_range=40 (degrees: factor 40/360 of a full turn)",
            lambda L: abs(_factor(L.get("factor")) - 40 / 360) < 0.01,
        ),
        (
            "RandomTranslation",
            "width_shift_range=0.2, height_shift_range=0.2",
            lambda L: (
                abs(_factor(L.get("height_factor")) - 0.2) < 1e-6 and abs(_factor(L.get("width_factor")) - 0.2) < 1e-6
            ),
        ),
        (
            "RandomShear",
            "shear_range=0.2 (degrees, along x: x_factor=tan(0.2 deg) = 0.00349, y_factor=0)",
            lambda L: (
                abs(_factor(L.get("x_factor")) - SHEAR_FACTOR) < 0.05 * SHEAR_FACTOR
                and (_factor(L.get("y_factor")) or 0.0) < 1e-9
            ),
        ),
        (
            "RandomZoom",
            "zoom_range=0.2 (each axis drawn independently from [0.8, 1.2])",
            lambda L: (
                abs(_factor(L.get("height_factor")) - 0.2) < 1e-6 and abs(_factor(L.get("width_factor")) - 0.2) < 1e-6
            ),
        ),
        ("RandomFlip", "horizontal_flip=True", lambda L: L.get("mode") == "horizontal"),
    ]
    for t, what, ok in wanted:
        layer = by_type.get(t)
        if layer is None:
            checks.append(
                Check(
                    f"{what}: a {t} layer", False, 0.5, [f"no {t} layer; your layers: {', '.join(by_type) or 'none'}"]
                )
            )
        else:
            good = bool(ok(layer))
            shown = {
                k: (np.round(np.asarray(val, float), 4).tolist() if isinstance(val, np.ndarray) else val)
                for k, val in layer.items()
                if k != "type"
            }
            check = Check(f"{what}: a {t} layer", good, 0.5, [] if good else [f"your {t}: {shown}"])
            if not good and t == "RandomShear" and abs(_factor(layer.get("x_factor")) - 0.2) < 1e-6:
                check.diagnosis.append("augment_shear_as_fraction")
            if not good and t == "RandomZoom" and layer.get("width_factor") is None:
                check.diagnosis.append("augment_zoom_keeps_aspect")
            checks.append(check)
    geometric = [
        by_type[t] for t in ("RandomRotation", "RandomTranslation", "RandomShear", "RandomZoom") if t in by_type
    ]
    not_nearest = [L["type"] for L in geometric if L.get("fill_mode") != "nearest"]
    checks.append(
        Check(
            "fill_mode='nearest' (ImageDataGenerator's default) on the rotation, translation, shear and zoom",
            bool(geometric) and not not_nearest,
            0.5,
            [f"fill_mode is not 'nearest' on: {', '.join(not_nearest)}"]
            if not_nearest
            else ([] if geometric else ["no geometric layers"]),
        )
    )
    images = np.random.default_rng(3000).integers(0, 256, size=(4, 32, 32, 3)).astype(np.float64)
    inf, trn = np.asarray(v.get("inference"), float), np.asarray(v.get("training"), float)
    ok_inf = inf.shape == images.shape and np.allclose(inf, images / 255, atol=1e-5)
    checks.append(
        Check(
            "at inference (training=False) it only rescales to [0, 1]",
            bool(ok_inf),
            1.0,
            [] if ok_inf else ["expected image / 255 when training=False: random layers must be identity at inference"],
        )
    )
    ok_tr = (
        trn.shape == images.shape
        and not np.allclose(trn, images / 255, atol=1e-3)
        and trn.min() >= -1e-4
        and trn.max() <= 1 + 1e-4
    )
    checks.append(
        Check(
            "in training it changes the images and keeps pixels in [0, 1]",
            bool(ok_tr),
            1.0,
            []
            if ok_tr
            else [f"output shape {trn.shape}, range [{trn.min():.3g}, {trn.max():.3g}]" if trn.size else "no output"],
        )
    )
    return checks


def check_datasets(assignment, question, outcomes) -> list[Check]:
    o, v = _value(outcomes, question, "folders")
    if v is None:
        return [_failed("reads the generated image folders", o, 4.0)]
    tr, ytr, va, yva = image_folder_data()
    checks = []
    shape = tuple(int(x) for x in np.asarray(v["batch_shape"]).ravel())
    ok = shape == (32, 150, 150, 3)
    checks.append(
        Check(
            "training batches of 32 images of 150 x 150 x 3",
            ok,
            1.0,
            [] if ok else [f"your first batch has shape {shape}"],
        )
    )
    lo, hi = _num(v["min"]), _num(v["max"])
    vlo, vhi = _num(v["val_min"]), _num(v["val_max"])
    ok = lo >= -1e-4 and hi <= 1 + 1e-4 and vlo >= -1e-4 and vhi <= 1 + 1e-4 and vhi > 0.2
    checks.append(
        Check(
            "pixels rescaled to [0, 1] (training and validation)",
            ok,
            1.0,
            []
            if ok
            else [f"training pixels in [{lo:.3g}, {hi:.3g}], validation in [{vlo:.3g}, {vhi:.3g}]: rescale by 1/255"],
        )
    )
    labels = np.asarray(v["labels"], float)
    ok = labels.size == shape[0] and set(np.unique(labels)) <= {0.0, 1.0}
    checks.append(
        Check(
            "binary labels (0 = cats, 1 = dogs)",
            bool(ok),
            1.0,
            []
            if ok
            else [
                f"labels of shape {tuple(np.asarray(v['label_shape']).ravel())} with values {np.unique(labels)[:5]}: use label_mode='binary'"
            ],
        )
    )
    expected = np.sort(va.reshape(len(va), -1).astype(float).sum(axis=1) / 255)
    v1, v2 = (np.sort(np.asarray(x, float)) for x in v["val_sums"])
    val_ok = v1.shape == expected.shape and np.allclose(v1, expected, rtol=1e-4) and np.allclose(v1, v2, rtol=1e-6)
    t1, t2 = (np.sort(np.asarray(x, float)) for x in v["train_sums"])
    tr_aug = t1.shape == t2.shape == (len(tr),) and not np.allclose(t1, t2, rtol=1e-4)
    details = []
    if not val_ok:
        details.append(
            "the validation images are not the original pictures / 255 (the same on every pass): validation data must not be augmented"
        )
    if not tr_aug:
        details.append(
            "the training images are the same on every pass: apply build_augmentation() to the training dataset"
        )
    checks.append(
        Check(
            "augmentation on the training data only",
            bool(val_ok and tr_aug),
            1.0,
            details,
            diagnosis=["datasets_augment_validation"]
            if tr_aug and not val_ok and not np.allclose(v1, v2, rtol=1e-6)
            else [],
        )
    )
    return checks


def _binary_pred(pred: np.ndarray, n: int) -> np.ndarray | None:
    """Class 1 ("dogs") decisions from (n,) or (n, 1) sigmoid outputs or (n, 2) softmax ones; None if neither."""
    pred = np.asarray(pred, dtype=np.float64)
    if pred.shape in ((n,), (n, 1)):
        return pred.reshape(n) > 0.5
    if pred.shape == (n, 2):
        return pred.argmax(1) == 1
    return None


def cats_dogs_scores(v: dict) -> dict[str, float] | None:
    """Held-out accuracy of the student's model and of the grader's no-convolution control."""
    d = cats_dogs_data()
    y = np.sort(d["val_labels"])  # image_dataset_from_directory(shuffle=False) reads cats/ then dogs/
    mine, control = _binary_pred(v.get("pred"), len(y)), _binary_pred(v.get("control_pred"), len(y))
    if mine is None or control is None:
        return None
    acc, cacc = float((mine == (y == 1)).mean()), float((control == (y == 1)).mean())
    return {"accuracy": acc, "control_accuracy": cacc, "over_control": acc - cacc}


_POOLING = ("MaxPooling2D", "AveragePooling2D")


def _cats_dogs_structure(v: dict) -> Check:
    layers_ = [layer for layer in v.get("layers") or () if isinstance(layer, dict)]
    types = _types(layers_)
    problems, diagnosis = [], []
    steps = [
        ("Conv2D", "a Conv2D layer (step 1, convolution + ReLU)"),
        ("MaxPooling2D", "a MaxPooling2D layer (step 2, pooling)"),
        ("Flatten", "a Flatten layer (step 3, flattening)"),
        ("Dense", "a Dense layer (step 4, fully connected)"),
    ]
    for t, desc in steps:
        if t not in types and not (t == "MaxPooling2D" and "AveragePooling2D" in types):
            problems.append("missing " + desc)
    if "Conv2D" not in types:
        diagnosis.append("cats_no_convolution")
    elif not any(t in types for t in _POOLING):
        diagnosis.append("cats_no_pooling")
    convs = [layer for layer in layers_ if layer.get("type") == "Conv2D"]
    linear = [c for c in convs if c.get("activation") in (None, "linear")]
    if linear:
        problems.append(
            f"{len(linear)} of your {len(convs)} Conv2D layers have no activation; step 1 is convolution + ReLU"
        )
        diagnosis.append("cats_no_relu")
    last = layers_[-1] if layers_ else {}
    units, act, loss = last.get("units"), last.get("activation"), str(v.get("loss", "")).lower().replace("_", "")
    if units == 1 and act == "softmax":
        problems.append("the output is Dense(1, activation='softmax'): a softmax over one unit is always 1")
        diagnosis.append("cats_softmax_one_unit")
    elif units == 1 and act == "sigmoid" and loss != "binarycrossentropy":
        problems.append(f"one sigmoid output needs loss='binary_crossentropy', not {v.get('loss')!r}")
        diagnosis.append("cats_loss_mismatch")
    elif units == 2 and act == "softmax" and loss not in ("sparsecategoricalcrossentropy",):
        problems.append(
            f"two softmax outputs with binary labels need loss='sparse_categorical_crossentropy', not {v.get('loss')!r}"
        )
        diagnosis.append("cats_loss_mismatch")
    elif not (units in (1, 2) and act in ("sigmoid", "softmax")):
        problems.append(
            f"the last layer is {last.get('type')} with {units} units and activation {act!r}: use Dense(1, activation='sigmoid')"
        )
    shape = tuple(int(x) for x in np.asarray(v.get("output_shape_150", ())).ravel())
    if shape not in ((1, 1), (1, 2)):
        problems.append(f"built for 150 x 150 x 3 (the lecture's size), one image gives an output of shape {shape}")
    details = [f"your layers: {', '.join(types)}; loss {v.get('loss')!r}"] + problems if problems else []
    return Check(
        "the lecture's four steps (Conv2D + ReLU, MaxPooling2D, Flatten, Dense), a sigmoid output, binary_crossentropy",
        not problems,
        1.0,
        details,
        diagnosis=diagnosis,
    )


def check_cats_dogs(assignment, question, outcomes) -> list[Check]:
    o, v = _value(outcomes, question)
    c = CATS_DOGS
    budget = f"{c['epochs']} epochs, batch {c['batch']}, seed {c['seed']}"
    if v is None:
        return [
            _failed(f"trains on the cats-vs-dogs folders ({budget})", o, 2.0),
            Check("beats the same task without convolution", False, 1.0, ["not checked: the model did not train"]),
            Check("the lecture's four steps", False, 1.0, ["not checked: the model did not train"]),
        ]
    d = cats_dogs_data()
    scores = cats_dogs_scores(v)
    structure = _cats_dogs_structure(v)
    if scores is None:
        shape = tuple(np.asarray(v.get("pred")).shape)
        acc_check = Check(
            f"accuracy on {len(d['val'])} held-out images ({budget})",
            False,
            2.0,
            [f"predictions of shape {shape}: expected one sigmoid probability per image"],
        )
        control = Check("beats the same task without convolution", False, 1.0, ["not checked: no usable predictions"])
        return [acc_check, control, structure]
    acc, cacc = scores["accuracy"], scores["control_accuracy"]
    acc_check = Check(
        f"accuracy on {len(d['val'])} held-out images after {budget}: {acc:.1%} (needs {CATS_DOGS_MIN_ACCURACY:.1%})",
        acc >= CATS_DOGS_MIN_ACCURACY,
        2.0,
        [
            f"data: {d['source']}, read from class folders (train/cats, train/dogs, validation/...) at "
            f"{c['size']} x {c['size']}",
            f"augmentation of the training images: {str(v.get('augmentation'))[:300]}; "
            "the validation images are only rescaled",
        ],
    )
    ok = scores["over_control"] >= CATS_DOGS_MIN_OVER_CONTROL
    control = Check(
        f"beats a dense network without convolution (trained by the grader on the same data and budget: {cacc:.1%}) "
        f"by at least {100 * CATS_DOGS_MIN_OVER_CONTROL:.0f} points",
        ok,
        1.0,
        [] if ok else [f"yours {acc:.1%}, the no-convolution model {cacc:.1%}"],
        diagnosis=[m for m in structure.diagnosis if m == "cats_no_convolution"] if not ok else [],
    )
    if not acc_check.passed:
        acc_check.diagnosis += [m for m in structure.diagnosis if m in ("cats_softmax_one_unit", "cats_loss_mismatch")]
    return [with_curves(acc_check, "build_cats_dogs_cnn", v), control, structure]


def check_transfer(assignment, question, outcomes) -> list[Check]:
    o, v = _value(outcomes, question)
    budget = f"{TRANSFER['epochs']} epochs, batch {TRANSFER['batch']}, seed {TRANSFER['seed']}"
    if v is None:
        return [_failed(f"trains a new head on a frozen base ({budget})", o, 5.0)]
    checks = []
    _, _, _, yte = digits_split(5, 9)
    pred = np.asarray(v["pred"])
    if pred.shape != (len(yte), 5):
        checks.append(
            Check(
                "accuracy of the new head on digits 5-9",
                False,
                2.0,
                [f"predictions of shape {pred.shape}; expected ({len(yte)}, 5)"],
            )
        )
    else:
        acc = float((pred.argmax(1) == yte).mean())
        checks.append(
            with_curves(
                Check(
                    f"accuracy of the new head on {len(yte)} held-out digits 5-9 after {budget}: {acc:.1%} (needs {TRANSFER_MIN_ACCURACY:.1%})",
                    acc >= TRANSFER_MIN_ACCURACY,
                    2.0,
                ),
                "build_transfer_model",
                v,
            )
        )
    frozen = bool(_num(v["frozen"], 0)) and _num(v["base_change"], 1) == 0.0 and bool(_num(v["uses_base"], 0))
    details = []
    if not bool(_num(v["uses_base"], 0)):
        details.append("your model does not contain the base it was given")
    if not bool(_num(v["frozen"], 0)):
        details.append("the base's weights are trainable in your model: set base.trainable = False before compiling")
    if _num(v["base_change"], 1) != 0.0:
        details.append(f"training changed the base's weights (largest change {_num(v['base_change']):.3g})")
    checks.append(
        Check(
            "the convolutional base is frozen: its weights are unchanged after training",
            frozen,
            2.0,
            details,
            diagnosis=[] if frozen else ["transfer_unfrozen"],
        )
    )
    shape = tuple(int(x) for x in np.asarray(v["vgg_output_shape"]).ravel())
    ok = bool(_num(v["vgg_frozen"], 0)) and bool(_num(v["vgg_used"], 0)) and shape in ((1, 2), (1, 1))
    det = []
    if not bool(_num(v["vgg_used"], 0)):
        det.append("the model does not contain the VGG16 base")
    if not bool(_num(v["vgg_frozen"], 0)):
        det.append("some VGG16 weights are trainable")
    if shape not in ((1, 2), (1, 1)):
        det.append(f"output shape {shape} for one 150 x 150 image and 2 classes")
    checks.append(
        Check("accepts VGG16(weights=None, include_top=False, input_shape=(150, 150, 3)), frozen", ok, 1.0, det)
    )
    checks.append(_pretrained_check(v, "resnet", "ResNet50"))
    return checks


def _pretrained_check(v: dict, key: str, name: str) -> Check:
    """A lecture base (built offline with weights=None) wrapped frozen, with a 2-class output."""
    if f"{key}_used" not in v:
        return Check(f"accepts {name}, frozen", False, 1.0, ["not measured"])
    shape = tuple(int(x) for x in np.asarray(v[f"{key}_output_shape"]).ravel())
    used, frozen = bool(_num(v[f"{key}_used"], 0)), bool(_num(v[f"{key}_frozen"], 0))
    det = []
    if not used:
        det.append(f"the model does not contain the {name} base")
    if not frozen:
        det.append(f"some {name} weights are trainable")
    if shape not in ((1, 2), (1, 1)):
        det.append(f"output shape {shape} for one 150 x 150 image and 2 classes")
    return Check(
        f"accepts {name}(weights=None, include_top=False, input_shape=(150, 150, 3)), frozen",
        used and frozen and not det,
        1.0,
        det,
        diagnosis=[] if frozen else ["transfer_unfrozen"],
    )


def _gru_diff(got: dict, want: dict, where: str) -> list[str]:
    out = []
    for k, w in want.items():
        g = got.get(k)
        g = bool(_num(g)) if isinstance(w, bool) else (_num(g) if isinstance(w, (int, float)) else g)
        if g != w:
            out.append(f"{where}: {k} is {g!r}, the lecture uses {w!r}")
    return out


def check_stacked(assignment, question, outcomes) -> list[Check]:
    o, v = _value(outcomes, question, "build")
    if v is None:
        check = _failed("builds the stacked GRU", o, 5.0)
        if "ndim=3" in str((o.error or {}).get("message", "")):
            check.diagnosis.append("stacked_no_return_sequences")
        return [check]
    layers = [layer for layer in v["layers"] if isinstance(layer, dict)]
    types = [layer["type"] for layer in layers]
    checks = []
    ok = types == ["GRU", "GRU", "Dense"]
    checks.append(Check("layers GRU, GRU, Dense", ok, 1.0, [] if ok else [f"your layers: {', '.join(types)}"]))
    grus = [layer for layer in layers if layer["type"] == "GRU"]
    first = (
        _gru_diff(grus[0], {"units": 32, "dropout": 0.1, "recurrent_dropout": 0.5}, "first GRU")
        if grus
        else ["no GRU layer"]
    )
    second = (
        _gru_diff(grus[1], {"units": 64, "activation": "relu", "dropout": 0.1, "recurrent_dropout": 0.5}, "second GRU")
        if len(grus) > 1
        else ["no second GRU layer"]
    )
    drop = [d for d in first + second if "dropout" in d]
    other = [d for d in first + second if "dropout" not in d]
    checks.append(Check("units and activations: GRU(32), GRU(64, activation='relu')", not other, 1.0, other))
    checks.append(
        Check(
            "dropout=0.1 and recurrent_dropout=0.5 on both GRUs",
            not drop,
            1.0,
            drop,
            diagnosis=["stacked_wrong_dropout"] if drop else [],
        )
    )
    rs = bool(_num(grus[0].get("return_sequences"), 0)) if grus else False
    rs2 = bool(_num(grus[1].get("return_sequences"), 0)) if len(grus) > 1 else False
    ok = rs and not rs2
    det = []
    if not rs:
        det.append(
            "the first GRU must pass its whole sequence on (return_sequences=True): a stacked GRU reads a 3D tensor"
        )
    if rs2:
        det.append(
            "the second GRU returns sequences: the Dense layer then predicts one value per time step, not one per sequence"
        )
    checks.append(
        Check(
            "return_sequences=True on the first GRU only",
            ok,
            1.0,
            det,
            diagnosis=[] if rs else ["stacked_no_return_sequences"],
        )
    )
    checks.append(_sequence_output_check(v))
    return checks


def check_bidirectional(assignment, question, outcomes) -> list[Check]:
    o, v = _value(outcomes, question, "build")
    if v is None:
        return [_failed("builds the bidirectional GRU", o, 3.0)]
    layers = [layer for layer in v["layers"] if isinstance(layer, dict)]
    types = [layer["type"] for layer in layers]
    inner = layers[0].get("inner", {}) if layers else {}
    ok = types == ["Bidirectional", "Dense"] and inner.get("type") == "GRU" and _num(inner.get("units")) == 32
    det = (
        []
        if ok
        else [
            f"your layers: {', '.join(types)}"
            + (f" (wrapping {inner.get('type')} with {int(_num(inner.get('units'), 0))} units)" if inner else "")
        ]
    )
    checks = [Check("Bidirectional(GRU(32)) then Dense(1)", ok, 2.0, det)]
    checks.append(_sequence_output_check(v))
    return checks


def check_order(assignment, question, outcomes) -> list[Check]:
    o, v = _value(outcomes, question)
    budget = f"{ORDER['epochs']} epochs, batch {ORDER['batch']}, seed {ORDER['seed']}"
    if v is None:
        return [_failed(f"trains on the order task ({budget})", o, 2.0)]
    _, _, _, yte = order_data()
    pred = np.asarray(v["pred"], float).reshape(-1)
    if pred.shape != yte.shape:
        return [
            Check(
                "accuracy on the order task",
                False,
                2.0,
                [f"{pred.size} predictions for {len(yte)} sequences: output one sigmoid per sequence"],
            )
        ]
    acc = float(((pred > 0.5) == (yte > 0.5)).mean())
    ok = acc >= ORDER_MIN_ACCURACY
    check = Check(
        f"tells 'good ... not ... bad' from 'bad ... not ... good' on {len(yte)} new sequences after {budget}: {acc:.1%} (needs {ORDER_MIN_ACCURACY:.1%})",
        ok,
        2.0,
    )
    if not ok and acc < 0.65:
        types = _types(v.get("layers"))
        check.details.append(
            "both kinds of sequence hold the same words, only their order differs: a model that ignores order "
            f"(a bag of words, pooling over embeddings) stays near 50%. Your layers: {', '.join(types)}"
        )
        if not any(t in ("GRU", "LSTM", "SimpleRNN", "Bidirectional", "Conv1D") for t in types):
            check.diagnosis.append("order_bag_of_words")
    return [with_curves(check, "build_order_classifier", v)]


def check_forecaster(assignment, question, outcomes) -> list[Check]:
    o, v = _value(outcomes, question)
    budget = f"{FORECAST['epochs']} epochs, batch {FORECAST['batch']}, seed {FORECAST['seed']}"
    if v is None:
        return [_failed(f"trains on hourly temperatures ({budget})", o, 3.0)]
    _, _, Xte, yte = forecast_data()
    pred = np.asarray(v["pred"], float).reshape(-1)
    if pred.shape != yte.shape:
        return [
            Check(
                "forecasts the next hour",
                False,
                3.0,
                [f"{pred.size} predictions for {len(yte)} windows: output one value per window"],
            )
        ]
    mse = float(np.mean((pred - yte) ** 2))
    persistence = float(np.mean((Xte[:, -1, 0] - yte) ** 2))
    ratio = mse / persistence
    ok = ratio <= FORECAST_MAX_RATIO
    check = Check(
        f"beats naive persistence (the last hour's temperature, {FORECAST['horizon']} hours ahead) on the test period after {budget}: "
        f"MSE {ratio:.2f} x persistence (needs <= {FORECAST_MAX_RATIO})",
        ok,
        3.0,
    )
    if not ok and np.std(pred) < 0.05 * np.std(yte):
        check.details.append(
            "your predictions are almost constant: the model predicts the mean instead of following the series"
        )
        check.diagnosis.append("forecaster_mean")
    return [with_curves(check, "build_forecaster", v)]


def stock_errors(pred: np.ndarray) -> dict:
    """RMSE in dollars of a scaled forecast of the test days, and of the two naive forecasts.

    pred (n_test,) in the scaler's units. An error in scaled units times the scaler's range
    is the error in dollars (the scaler is affine).
    """
    g = goog_data()
    span = float(g["data_max"] - g["data_min"])
    y = np.asarray(g["y_test"], float)
    persistence = np.asarray(g["X_test"][:, -1, 0], float)
    mean = float(np.mean(g["y_train"]))
    return {
        "model": float(np.sqrt(np.mean((pred - y) ** 2)) * span),
        "persistence": float(np.sqrt(np.mean((persistence - y) ** 2)) * span),
        "mean": float(np.sqrt(np.mean((mean - y) ** 2)) * span),
    }


def check_stock(assignment, question, outcomes) -> list[Check]:
    o, v = _value(outcomes, question)
    budget = f"{STOCK['epochs']} epochs, batch {STOCK['batch']}, seed {STOCK['seed']}"
    g = goog_data()
    n_test, window = len(g["y_test"]), int(g["window"])
    if v is None:
        check = _failed(f"trains on GOOG ({budget})", o, 4.0)
        if "ndim" in str((o.error or {}).get("message", "")):
            check.diagnosis.append("stock_no_return_sequences")
        return [check]
    layers = [layer for layer in v.get("layers") or () if isinstance(layer, dict)]
    types = _types(layers)
    recurrent = [layer for layer in layers if layer["type"] in ("LSTM", "GRU", "SimpleRNN")]
    det = []
    if len(recurrent) < 2:
        det.append(f"{len(recurrent)} recurrent layer(s): stack at least two (LSTM or GRU)")
    rs = [bool(_num(layer.get("return_sequences"), 0)) for layer in recurrent]
    if recurrent and (not all(rs[:-1]) or rs[-1]):
        det.append(
            "return_sequences=True on every recurrent layer but the last: yours are " + ", ".join(str(x) for x in rs)
        )
    dropout = any(t == "Dropout" for t in types) or any(
        (_num(layer.get("dropout"), 0) or 0) > 0 or (_num(layer.get("recurrent_dropout"), 0) or 0) > 0
        for layer in recurrent
    )
    if not dropout:
        det.append("no dropout: add Dropout layers or dropout= / recurrent_dropout= on the recurrent layers")
    last = layers[-1] if layers else {}
    if last.get("type") != "Dense" or _num(last.get("units")) != 1:
        det.append("the last layer should be Dense(1): one price per window")
    elif last.get("activation") not in (None, "linear"):
        det.append(f"the output layer has activation {last.get('activation')!r}: a price needs a linear output")
    structure = Check(
        "a stacked recurrent model with dropout (return_sequences on all but the last recurrent layer), Dense(1) out",
        not det,
        1.0,
        det + ([f"your layers: {', '.join(types)}"] if det else []),
    )
    if recurrent and rs[-1]:
        structure.diagnosis.append("stock_sequences_to_dense")
    if last.get("activation") in ("sigmoid", "tanh"):
        structure.diagnosis.append("stock_sigmoid_output")
    try:
        pred = np.asarray(v.get("pred"), float)
    except (TypeError, ValueError):  # not numbers: whatever came back, it is no forecast
        pred = np.zeros(0)
    if pred.size != n_test or not np.all(np.isfinite(pred)):
        fail = Check(
            f"forecasts the {n_test} held-out days",
            False,
            3.0,
            [
                f"predictions of shape {pred.shape}; expected ({n_test}, 1): one price per window"
                if pred.size != n_test
                else "your forecast holds NaN or infinite values: the training diverged"
            ],
        )
        if pred.shape == (n_test, window, 1):
            fail.diagnosis.append("stock_sequences_to_dense")
        return [fail, structure]
    pred = pred.reshape(-1)
    err = stock_errors(pred)
    vs_p, vs_m = err["model"] / err["persistence"], err["model"] / err["mean"]
    track = Check(
        f"tracks the price on the held-out last {n_test} days after {budget}: RMSE ${err['model']:.2f} = "
        f"{vs_m:.3f} x a training-mean forecast's ${err['mean']:.2f} (needs <= {STOCK_MAX_VS_MEAN})",
        vs_m <= STOCK_MAX_VS_MEAN,
        1.0,
    )
    close = Check(
        f"close to the persistence forecast (tomorrow = today, RMSE ${err['persistence']:.2f}): "
        f"{vs_p:.2f} x (needs <= {STOCK_MAX_VS_PERSISTENCE})",
        vs_p <= STOCK_MAX_VS_PERSISTENCE,
        2.0,
    )
    y = np.asarray(g["y_test"], float)
    if last.get("activation") in ("sigmoid", "tanh") and not close.passed and pred.max() <= 1.0 + 1e-6 < y.max():
        close.diagnosis.append("stock_sigmoid_output")
        close.details.append(
            f"your forecast never goes above {pred.max():.3f} (scaled), the real price reaches {y.max():.3f}"
        )
    span = float(g["data_max"] - g["data_min"])
    real = np.asarray(g["prices"], float)[-n_test:]
    days = np.arange(len(g["prices"]) - n_test, len(g["prices"]))
    with_price_plot(track, "build_stock_lstm", days, real, real + (pred - y) * span)
    return [with_curves(track, "build_stock_lstm", v), close, structure]


def measure(name: str, outcomes: dict) -> dict[str, float] | None:
    """The raw numbers a check model's thresholds apply to (calibration); None if it did not run.

    build_stock_lstm: {"vs_persistence", "vs_mean", "rmse"} (RMSE ratios, dollars);
    build_char_model: {"accuracy", "bigram", "over_bigram"} (fractions).
    """
    o = outcomes.get(f"{name}/train")
    if o is None or not o.ok or not isinstance(o.value, dict):
        return None
    v = o.value
    if name == "build_stock_lstm":
        pred = np.asarray(v.get("pred"), float)
        if pred.size != len(goog_data()["y_test"]):
            return None
        err = stock_errors(pred.reshape(-1))
        return {
            "rmse": err["model"],
            "vs_persistence": err["model"] / err["persistence"],
            "vs_mean": err["model"] / err["mean"],
        }
    if name == "build_char_model":
        _, _, Xte, Yte, V, bigram = char_data()
        pred = np.asarray(v.get("pred"))
        if pred.shape != Yte.shape:
            return None
        acc = float((pred == Yte).mean())
        return {"accuracy": acc, "bigram": bigram, "over_bigram": acc - bigram}
    if name in ("build_digit_cnn", "build_transfer_model"):
        _, _, _, yte = digits_split() if name == "build_digit_cnn" else digits_split(5, 9)
        pred = np.asarray(v.get("pred"))
        if pred.ndim != 2 or len(pred) != len(yte):
            return None
        return {"accuracy": float((pred.argmax(1) == yte).mean())}
    if name == "build_cats_dogs_cnn":
        return cats_dogs_scores(v)
    if name == "build_order_classifier":
        _, _, _, yte = order_data()
        pred = np.asarray(v.get("pred"), float).reshape(-1)
        return {"accuracy": float(((pred > 0.5) == (yte > 0.5)).mean())} if pred.shape == yte.shape else None
    if name == "build_forecaster":
        _, _, Xte, yte = forecast_data()
        pred = np.asarray(v.get("pred"), float).reshape(-1)
        if pred.shape != yte.shape:
            return None
        return {"mse_ratio": float(np.mean((pred - yte) ** 2) / np.mean((Xte[:, -1, 0] - yte) ** 2))}
    raise KeyError(f"no measurement for {name}")


def check_char(assignment, question, outcomes) -> list[Check]:
    o, v = _value(outcomes, question)
    budget = f"{CHAR['epochs']} epochs, batch {CHAR['batch']}, seed {CHAR['seed']}"
    if v is None:
        return [_failed(f"trains on Shakespeare ({budget})", o, 3.0, "char_categorical_crossentropy")]
    _, _, Xte, Yte, V, bigram = char_data()
    shape = tuple(int(x) for x in np.asarray(v["pred_shape"]).ravel())
    checks = [
        Check(
            f"output shape (batch, T, vocab_size) = {Xte.shape + (V,)}",
            shape == Xte.shape + (V,),
            1.0,
            []
            if shape == Xte.shape + (V,)
            else [f"got {shape}: return_sequences=True and a softmax over the vocabulary"],
        )
    ]
    if shape != Xte.shape + (V,):
        checks.append(Check("next-character accuracy", False, 2.0, ["not measured: the output shape is wrong"]))
        return checks
    acc = float((np.asarray(v["pred"]) == Yte).mean())
    need = bigram + CHAR_MARGIN
    checks.append(
        with_curves(
            Check(
                f"next-character accuracy after {budget}: {acc:.1%} (needs {need:.1%}: the bigram baseline {bigram:.1%} + {CHAR_MARGIN:.0%})",
                acc >= need,
                2.0,
            ),
            "build_char_model",
            v,
        )
    )
    return checks


def _tempered(p, t):
    w = np.asarray(p, float) ** (1 / t)
    return w / w.sum()


def check_sample(assignment, question, outcomes) -> list[Check]:
    o, v = _value(outcomes, question, "draws")
    if not o.ok:
        return [_failed("draws indices", o, 2.0)]
    counts = np.asarray(o.value, float)
    probs, temps, n = SAMPLE["probs"], SAMPLE["temperatures"], SAMPLE["n"]
    checks = []
    for i, t in enumerate(temps):
        want = _tempered(probs, t)
        if counts.shape != (len(temps), len(probs)):
            checks.append(
                Check(f"frequencies at temperature {t}", False, 1.0, ["indices outside 0..3 or not integers"])
            )
            continue
        freq = counts[i] / n
        gap = float(np.max(np.abs(freq - want)))
        ok = gap <= SAMPLE_TOLERANCE
        check = Check(f"frequencies of {n} draws at temperature {t} follow p ** (1 / {t}), renormalised", ok, 1.0)
        if not ok:
            check.details.append(
                "your frequencies: "
                + ", ".join(f"{x:.3f}" for x in freq)
                + "; expected about "
                + ", ".join(f"{x:.3f}" for x in want)
            )
            if np.max(np.abs(freq - _tempered(probs, 1 / t))) <= SAMPLE_TOLERANCE:
                check.diagnosis.append("temperature_power")
            elif np.max(np.abs(freq - np.asarray(probs))) <= SAMPLE_TOLERANCE:
                check.diagnosis.append("temperature_ignored")
        checks.append(check)
    return checks


def _explained(fn):
    """Add the catalogue's explanation under each check that names a mistake (compare.explain_diagnoses)."""

    @functools.wraps(fn)
    def wrapper(assignment, question, outcomes):
        explain = {mid: m.explanation for mid, m in assignment.mistakes.items()}
        return explain_diagnoses(fn(assignment, question, outcomes), explain)

    return wrapper


CHECKS = {
    "generate": check_generate,
    "split_chronological": check_split_order,
    "build_stock_lstm": check_stock,
    "build_digit_cnn": check_digits,
    "build_augmentation": check_augmentation,
    "make_datasets": check_datasets,
    "build_transfer_model": check_transfer,
    "build_cats_dogs_cnn": check_cats_dogs,
    "build_stacked_gru": check_stacked,
    "build_bidirectional_gru": check_bidirectional,
    "build_order_classifier": check_order,
    "build_forecaster": check_forecaster,
    "build_char_model": check_char,
    "sample_with_temperature": check_sample,
}
CHECKS = {name: _explained(fn) for name, fn in CHECKS.items()}
