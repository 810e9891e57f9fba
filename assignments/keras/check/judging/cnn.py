"""The image models: the digits CNN, the augmentation layers, the image-folder datasets and
the transfer model on a frozen base."""

from __future__ import annotations

import numpy as np

from deepgrade.portable.feedback import Check

from ..budgets import budgets
from ..datasets import digits_split
from ..plots import with_curves
from .common import case_inputs, failed_check, last_number, layer_types, outcome_value


def check_digits(assignment, question, outcomes) -> list[Check]:
    b = budgets()  # the budgets and thresholds in force now
    o, v = outcome_value(outcomes, question)
    budget = f"{b.digits['epochs']} epochs, batch {b.digits['batch']}, seed {b.digits['seed']}"
    if v is None:
        return [
            failed_check(f"trains on the digits ({budget})", o, 2.0, "digits_categorical_crossentropy"),
            Check("the lecture's four steps", False, 1.0, ["not checked: the model did not train"]),
        ]
    types = layer_types(v.get("layers"))
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
            f"accuracy on {len(yte)} held-out digits after {budget}: {acc:.1%} (needs {b.digits_min_accuracy:.1%})",
            acc >= b.digits_min_accuracy,
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
    o, v = outcome_value(outcomes, question, "apply")
    if v is None:
        return [failed_check("builds and applies the augmentation", o, 3.0)]
    layers = [layer for layer in v.get("layers") or () if isinstance(layer, dict)]
    by_type = {layer["type"]: layer for layer in layers}
    checks = []
    wanted = [
        ("Rescaling", "rescale=1./255", lambda L: abs(last_number(L.get("scale"), 0) - 1 / 255) < 1e-6),
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
                    f"{what}: a {t} layer",
                    False,
                    0.5,
                    [f"no {t} layer; your layers: {', '.join(by_type) or 'none'}"],
                    diagnosis=["augment_no_rescaling"] if t == "Rescaling" else [],
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
            if not good and t == "RandomFlip" and "vertical" in str(layer.get("mode")):
                check.diagnosis.append("augment_vertical_flip")
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
    images = np.asarray(case_inputs(question, "apply")[0], dtype=np.float64)  # the images it was applied to
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
    # only a rescaling: training=True gives the same images as training=False
    unmoved = trn.shape == inf.shape == images.shape and np.allclose(trn, inf, atol=1e-3)
    checks.append(
        Check(
            "in training it changes the images and keeps pixels in [0, 1]",
            bool(ok_tr),
            1.0,
            []
            if ok_tr
            else [f"output shape {trn.shape}, range [{trn.min():.3g}, {trn.max():.3g}]" if trn.size else "no output"]
            + (["training=True leaves the images as training=False does: nothing moves them"] if unmoved else []),
            diagnosis=["cats_no_augmentation"] if unmoved else [],
        )
    )
    return checks


def _augmentation_fails(assignment, outcomes) -> bool:
    """Whether the student's build_augmentation fails its own checks (False when it was not graded here)."""
    if (outcomes or {}).get("build_augmentation/apply") is None:
        return False
    own = check_augmentation(assignment, assignment.question("build_augmentation"), outcomes)
    return not all(c.passed for c in own)


def check_datasets(assignment, question, outcomes) -> list[Check]:
    """make_datasets judged on its own (harness/datasets.py runs it with the grader's augmentation).

    Weights: reading the folders (batch shape, labels, rescaling) 0.5 each; the training data
    augmented 1; the validation data only rescaled 3, the exercise's point ("validation data
    shouldn't be augmented"): augmenting it keeps 2.5 of 5.5."""
    o, v = outcome_value(outcomes, question, "folders")
    if v is None:
        return [failed_check("reads the generated image folders", o, 5.5)]
    tr, ytr, va, yva = case_inputs(question, "folders")[:4]  # the folders' images and labels the harness wrote
    checks = []
    shape = tuple(int(x) for x in np.asarray(v["batch_shape"]).ravel())
    ok = shape == (32, 150, 150, 3)
    checks.append(
        Check(
            "training batches of 32 images of 150 x 150 x 3",
            ok,
            0.5,
            [] if ok else [f"your first batch has shape {shape}"],
        )
    )
    lo, hi = last_number(v["min"]), last_number(v["max"])
    vlo, vhi = last_number(v["val_min"]), last_number(v["val_max"])
    ok = lo >= -1e-4 and hi <= 1 + 1e-4 and vlo >= -1e-4 and vhi <= 1 + 1e-4 and vhi > 0.2
    checks.append(
        Check(
            "pixels rescaled to [0, 1] (training and validation)",
            ok,
            0.5,
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
            0.5,
            []
            if ok
            else [
                f"labels of shape {tuple(np.asarray(v['label_shape']).ravel())} with values {np.unique(labels)[:5]}: use label_mode='binary'"
            ],
        )
    )
    t1, t2 = (np.sort(np.asarray(x, float)) for x in v["train_sums"])
    tr_aug = t1.shape == t2.shape == (len(tr),) and not np.allclose(t1, t2, rtol=1e-4)
    calls = int(last_number(v.get("augmentation_calls"), 0) or 0)
    checks.append(
        Check(
            "the training data is augmented (new images on every pass)",
            bool(tr_aug),
            1.0,
            []
            if tr_aug
            else ["the training images are the same on every pass: apply build_augmentation() to the training dataset"],
        )
    )
    expected = np.sort(va.reshape(len(va), -1).astype(float).sum(axis=1) / 255)
    v1, v2 = (np.sort(np.asarray(x, float)) for x in v["val_sums"])
    same = v1.shape == v2.shape and np.allclose(v1, v2, rtol=1e-6)
    val_ok = v1.shape == expected.shape and np.allclose(v1, expected, rtol=1e-4) and same
    checks.append(
        Check(
            "the validation data is only rescaled (the pictures / 255, the same on every pass)",
            bool(val_ok),
            3.0,
            []
            if val_ok
            else [
                "the validation images are not the original pictures / 255 (the same on every pass): validation data must not be augmented"
            ],
            diagnosis=["datasets_augment_validation"] if not same else [],
        )
    )
    if calls > 0:  # where the augmentation came from, under the check it serves
        used = (
            "judged with the grader's augmentation (Rescaling, RandomFlip, RandomRotation, RandomTranslation) as the "
            f"build_augmentation() your make_datasets calls ({calls} call(s)): a mistake in build_augmentation is "
            "charged once, under build_augmentation"
        )
        if all(c.passed for c in checks) and _augmentation_fails(assignment, outcomes):
            used = (
                f"right given your build_augmentation: {used}; your build_augmentation differs from the reference "
                "(see build_augmentation)"
            )
        checks[3].details.append(used)
    return checks


def check_transfer(assignment, question, outcomes) -> list[Check]:
    b = budgets()  # the budgets and thresholds in force now
    o, v = outcome_value(outcomes, question)
    budget = f"{b.transfer['epochs']} epochs, batch {b.transfer['batch']}, seed {b.transfer['seed']}"
    if v is None:
        return [failed_check(f"trains a new head on a frozen base ({budget})", o, 5.0)]
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
                    f"accuracy of the new head on {len(yte)} held-out digits 5-9 after {budget}: {acc:.1%} (needs {b.transfer_min_accuracy:.1%})",
                    acc >= b.transfer_min_accuracy,
                    2.0,
                ),
                "build_transfer_model",
                v,
            )
        )
    frozen = (
        bool(last_number(v["frozen"], 0))
        and last_number(v["base_change"], 1) == 0.0
        and bool(last_number(v["uses_base"], 0))
    )
    details = []
    if not bool(last_number(v["uses_base"], 0)):
        details.append("your model does not contain the base it was given")
    if not bool(last_number(v["frozen"], 0)):
        details.append("the base's weights are trainable in your model: set base.trainable = False before compiling")
    if last_number(v["base_change"], 1) != 0.0:
        details.append(f"training changed the base's weights (largest change {last_number(v['base_change']):.3g})")
    uses = bool(last_number(v["uses_base"], 0))
    if not uses:  # a model without the base has nothing to freeze: say that, not "set base.trainable"
        details = ["your model does not contain the base it was given: the new head must sit on the base's output"]
    checks.append(
        Check(
            "the convolutional base is frozen: its weights are unchanged after training",
            frozen,
            2.0,
            details,
            diagnosis=[] if frozen else (["transfer_unfrozen"] if uses else ["transfer_base_dropped"]),
        )
    )
    shape = tuple(int(x) for x in np.asarray(v["vgg_output_shape"]).ravel())
    ok = bool(last_number(v["vgg_frozen"], 0)) and bool(last_number(v["vgg_used"], 0)) and shape in ((1, 2), (1, 1))
    det = []
    if not bool(last_number(v["vgg_used"], 0)):
        det.append("the model does not contain the VGG16 base")
    if not bool(last_number(v["vgg_frozen"], 0)):
        det.append("some VGG16 weights are trainable")
    if shape not in ((1, 2), (1, 1)):
        det.append(f"output shape {shape} for one 150 x 150 image and 2 classes")
    checks.append(
        Check(
            "accepts VGG16(weights=None, include_top=False, input_shape=(150, 150, 3)), frozen",
            ok,
            1.0,
            det,
            diagnosis=[] if bool(last_number(v["vgg_used"], 0)) else ["transfer_base_dropped"],
        )
    )
    checks.append(_pretrained_check(v, "resnet", "ResNet50"))
    return checks


def _pretrained_check(v: dict, key: str, name: str) -> Check:
    """A lecture base (built offline with weights=None) wrapped frozen, with a 2-class output."""
    if f"{key}_used" not in v:
        return Check(f"accepts {name}, frozen", False, 1.0, ["not measured"])
    shape = tuple(int(x) for x in np.asarray(v[f"{key}_output_shape"]).ravel())
    used, frozen = bool(last_number(v[f"{key}_used"], 0)), bool(last_number(v[f"{key}_frozen"], 0))
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
        diagnosis=["transfer_base_dropped"] if not used else ([] if frozen else ["transfer_unfrozen"]),
    )
