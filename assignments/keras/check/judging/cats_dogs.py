"""Exercise 3: the cats-vs-dogs CNN, against the threshold and the grader's no-convolution control."""

from __future__ import annotations

import numpy as np

from deepgrade.portable.feedback import Check

from ..budgets import budgets
from ..datasets import cats_dogs_data, photo_folder
from ..plots import with_curves
from .common import epochs_text, failed_check, last_number, layer_types, outcome_value

CATS_STOP_WHY = "training stops once the accuracy both checks need is reached"


def _binary_pred(pred: np.ndarray, n: int, cut: float = 0.5) -> np.ndarray | None:
    """Class 1 ("dogs") decisions from (n,) or (n, 1) sigmoid outputs (``cut`` 0 for logits) or
    (n, 2) softmax ones; None if neither."""
    pred = np.asarray(pred, dtype=np.float64)
    if pred.shape in ((n,), (n, 1)):
        return pred.reshape(n) > cut
    if pred.shape == (n, 2):
        return pred.argmax(1) == 1
    return None


def cats_dogs_scores(v: dict) -> dict[str, float] | None:
    """Held-out accuracy of the student's model and of the grader's no-convolution control: the
    control trained in this run when the harness trained it, else its calibrated accuracy."""
    b = budgets()  # the budgets and thresholds in force now
    d = cats_dogs_data()
    y = np.sort(d["val_labels"])  # image_dataset_from_directory(shuffle=False) reads cats/ then dogs/
    cut = 0.0 if bool(last_number(v.get("from_logits"), 0)) else 0.5  # a loss with from_logits=True: logits
    mine = _binary_pred(v.get("pred"), len(y), cut)
    if v.get("control_pred") is not None:
        control = _binary_pred(v.get("control_pred"), len(y))
        cacc = None if control is None else float((control == (y == 1)).mean())
    else:
        cacc = b.control_accuracy(b.cats_dogs["seed"])
    if mine is None or cacc is None:
        return None
    acc = float((mine == (y == 1)).mean())
    return {"accuracy": acc, "control_accuracy": cacc, "over_control": acc - cacc}


_POOLING = ("MaxPooling2D", "AveragePooling2D")


def _cats_dogs_structure(v: dict) -> Check:
    layers_ = [layer for layer in v.get("layers") or () if isinstance(layer, dict)]
    types = layer_types(layers_)
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
    elif units == 1 and act in (None, "linear"):
        logits = bool(last_number(v.get("from_logits"), 0))
        problems.append(
            "the output is Dense(1) without an activation"
            + (
                " (with from_logits=True the loss is right, but the lecture's output is a probability)"
                if logits
                else ": binary_crossentropy reads it as a probability"
            )
            + ": use Dense(1, activation='sigmoid')"
        )
        if not logits:
            diagnosis.append("cats_no_sigmoid")
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
    b = budgets()  # the budgets and thresholds in force now
    o, v = outcome_value(outcomes, question)
    c = b.cats_dogs
    budget = f"{c['epochs']} epochs, batch {c['batch']}, seed {c['seed']}"
    if v is None:
        return [
            failed_check(f"trains on the cats-vs-dogs folders ({budget})", o, 2.0),
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
    # without a sigmoid (and without from_logits=True) the outputs are not probabilities: an
    # accuracy read at 0.5 is not the model's, and the mistake keeps at most a quarter of the question
    not_probabilities = "cats_no_sigmoid" in structure.diagnosis
    acc_check = Check(
        f"accuracy on {len(d['val'])} held-out images after {epochs_text(v, c['epochs'], CATS_STOP_WHY, budget)}: {acc:.1%} "
        f"(needs {b.cats_dogs_min_accuracy:.1%})",
        acc >= b.cats_dogs_min_accuracy and not not_probabilities,
        2.0,
        [
            f"data: {d['source']}, read from class folders (train/cats, train/dogs, validation/...) at "
            f"{c['size']} x {c['size']}",
            f"augmentation of the training images: {str(v.get('augmentation'))[:300]}"
            + ("" if v.get("augmentation_moves", True) else ", which leaves them unchanged (it only rescales)")
            + "; the validation images are only rescaled",
        ],
    )
    if not_probabilities:
        acc_check.details.insert(
            0,
            "not counted: your outputs are not probabilities (no sigmoid on the last layer), so the accuracy read "
            "at 0.5 is not your model's",
        )
    ok = scores["over_control"] >= b.cats_dogs_min_over_control
    control = Check(
        "beats a dense network without convolution ("
        + (
            "trained by the grader on the same data and budget"
            if v.get("control_pred") is not None
            else "trained by the grader on the same data and budget when the thresholds were calibrated"
        )
        + f": {cacc:.1%}) "
        f"by at least {100 * b.cats_dogs_min_over_control:.1f} points",
        ok,
        1.0,
        [] if ok else [f"yours {acc:.1%}, the no-convolution model {cacc:.1%}"],
        diagnosis=[m for m in structure.diagnosis if m == "cats_no_convolution"] if not ok else [],
    )
    if not acc_check.passed:
        acc_check.diagnosis += [
            m for m in structure.diagnosis if m in ("cats_softmax_one_unit", "cats_loss_mismatch", "cats_no_sigmoid")
        ]
        acc_check.diagnosis += _augmentation_diagnosis(v)
    return [with_curves(acc_check, "build_cats_dogs_cnn", v), control, structure]


def _augmentation_diagnosis(v: dict) -> list[str]:
    """On the generated images (validation animals mirrored), a failed accuracy with the student's
    augmentation that changes nothing, or that never flips, is that augmentation's fault."""
    if photo_folder() is not None or not str(v.get("augmentation", "")).startswith("yours"):
        return []
    if not bool(v.get("augmentation_moves", True)):  # the wire may bring numpy's bool
        return ["cats_no_augmentation"]
    layers_ = [str(t) for t in v.get("augmentation_layers") or ()]
    if layers_ and "RandomFlip" not in layers_:
        return ["cats_augment_no_flip"]
    return []
