"""Exercise 3 stops training once its verdict is reached (harness/cats_dogs.py ``stop_at``).

Nothing trains here: the stop rule is checked on predictions written by hand, the case's
arguments against the calibrated thresholds, and the feedback's wording. The verdicts at the
new rule were measured on the panel (README "How long grading takes").
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from deepgrade.course import assignment as asg
from helpers import ROOT, keras_module

A = asg.load("keras", ROOT)
FX = keras_module("fixtures")
BUDGETS = keras_module("check.budgets")
DATA = keras_module("check.datasets")
JUDGE = keras_module("check.judging.cats_dogs")


@pytest.fixture(scope="module")
def harness() -> dict:
    """The names harness/cats_dogs.py defines (the module the sandbox imports)."""
    return vars(keras_module("harness.cats_dogs"))


class _Model:
    """What the callback reads of a Keras model: predict() and stop_training."""

    def __init__(self, pred) -> None:
        self.pred, self.stop_training = np.asarray(pred, dtype=np.float64), False

    def predict(self, x, verbose=0):
        return self.pred


# four validation images, cats/ then dogs/ as image_dataset_from_directory reads them
Y = np.array([0.0, 0.0, 1.0, 1.0])


@pytest.mark.parametrize(
    ("pred", "from_logits", "right"),
    [
        ([0.2, 0.7, 0.8, 0.9], False, 3),  # probabilities cut at 0.5: the second cat is called a dog
        ([[0.2], [0.4], [0.6], [0.4]], False, 3),  # (n, 1): the second dog is called a cat
        ([-1.0, -0.5, 0.2, 3.0], True, 4),  # logits cut at 0
        ([-1.0, -0.5, 0.2, 3.0], False, 3),  # the same numbers read as probabilities: only 3.0 > 0.5
        ([[0.9, 0.1], [0.3, 0.7], [0.2, 0.8], [0.6, 0.4]], False, 2),  # (n, 2) softmax: argmax
    ],
)
def test_the_stop_rule_reads_predictions_as_the_judge_does(harness, pred, from_logits, right):
    ours = harness["decisions"](np.array(pred), from_logits)
    theirs = JUDGE._binary_pred(np.array(pred), 4, 0.0 if from_logits else 0.5)
    assert int((ours == (Y == 1)).sum()) == right == int((theirs == (Y == 1)).sum())


@pytest.mark.parametrize(("needed", "stops"), [(0.75, True), (0.7501, False), (0.5, True), (1.0, False)])
def test_training_stops_after_the_first_epoch_that_reaches_the_verdict(harness, needed, stops):
    cb = harness["StopAtThreshold"](np.zeros((4, 2, 2, 3)), Y, needed, False)
    cb.set_model(_Model([0.2, 0.7, 0.8, 0.9]))  # 3 of 4 right: 75%
    cb.on_epoch_end(6)
    assert cb.model.stop_training is stops
    assert cb.epochs_run == 7


def test_predictions_of_another_shape_never_stop_training(harness):
    cb = harness["StopAtThreshold"](np.zeros((4, 2, 2, 3)), Y, 0.0, False)
    cb.set_model(_Model(np.zeros((4, 3))))  # three outputs: the judge reads no decision, so neither do we
    cb.on_epoch_end(0)
    assert cb.model.stop_training is False


def test_grading_stops_at_the_accuracy_both_checks_need_and_calibration_trains_the_budget():
    b = BUDGETS.budgets()
    control = b.control_accuracy(b.cats_dogs["seed"])
    if control is None:
        pytest.skip("no calibrated control accuracy (instructor's photos or another size): no stop rule")
    graded = FX.cases()["build_cats_dogs_cnn"][0].args
    stop_at = graded[-1]
    # both checks pass at stop_at: the threshold, and the control's accuracy plus the margin
    assert stop_at >= b.cats_dogs_min_accuracy
    assert stop_at - control >= b.cats_dogs_min_over_control
    # and no more than that is asked (a hair for floating point)
    assert stop_at <= max(b.cats_dogs_min_accuracy, control + b.cats_dogs_min_over_control) + 1e-6
    assert graded[-2] is False  # the control is not trained per submission
    calibrating = FX.cases(seed=0)["build_cats_dogs_cnn"][0].args
    assert calibrating[-1] is None and calibrating[-2] is True


def _value(epochs_run) -> dict:
    n = len(DATA.cats_dogs_data()["val_labels"])
    y = np.sort(DATA.cats_dogs_data()["val_labels"]).astype(float)
    return {
        "pred": (y * 0.8 + 0.1).reshape(n, 1),  # every image right
        "control_pred": None,
        "history": {"loss": np.array([0.7, 0.5])},
        "layers": (
            {"type": "Conv2D", "filters": 16, "activation": "relu"},
            {"type": "MaxPooling2D"},
            {"type": "Flatten"},
            {"type": "Dense", "units": 1, "activation": "sigmoid"},
        ),
        "loss": "binary_crossentropy",
        "from_logits": False,
        "augmentation": "yours (build_augmentation)",
        "augmentation_moves": True,
        "augmentation_layers": ("Rescaling", "RandomFlip"),
        "output_shape_150": np.array([1, 1]),
        "fit_seconds": 1.0,
        "epochs_run": epochs_run,
    }


EPOCHS = BUDGETS.budgets().cats_dogs["epochs"]  # the budget in force (8 since 2026-12-05)


@pytest.mark.parametrize(
    ("epochs_run", "says"),
    [
        (3, f"after 3 of {EPOCHS} epochs"),
        (EPOCHS, f"after {EPOCHS} epochs"),
        (float("nan"), f"after {EPOCHS} epochs"),
        ("x", f"after {EPOCHS} epochs"),
    ],
)
def test_the_feedback_says_how_many_epochs_ran(epochs_run, says):
    q = A.question("build_cats_dogs_cnn")
    o = SimpleNamespace(ok=True, status="ok", error=None, value=_value(epochs_run))
    checks = q.extra_check(A, q, {"build_cats_dogs_cnn/train": o})
    assert says in checks[0].label, checks[0].label
    assert checks[0].passed
