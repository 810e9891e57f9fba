"""Judging the keras check models: ``CHECKS``, one check function per model question.

A check function ``(assignment, question, outcomes) -> list[Check]`` reads the outcome of the
question's harness call (``outcomes["<question>/<case>"]``: ``ok``, ``value``, ``error``) and
judges accuracy, structure and learning curves here, in the grading process (or grader.check's
kernel, fixtures.student_check), against the budgets and thresholds of budgets.budgets(). A value is what the
student's process sent back: only its numbers are read, and every shape is checked first.
``measure`` gives the raw numbers the thresholds apply to (``deepgrade calibrate``).

    common.py     reading an outcome; the check for a call that raised
    stock.py      exercise 1 (the split's order, the GOOG LSTM)
    generate.py   exercise 2 (the generated text)
    cnn.py        the digits CNN, augmentation, image datasets, transfer learning
    cats_dogs.py  exercise 3 (the cats-vs-dogs CNN)
    sequences.py  the GRUs, order classifier, forecaster, character model, sampling
"""

from __future__ import annotations

import functools

import numpy as np

from deepgrade.portable.feedback import explain_diagnoses

from ..datasets import char_data, digits_split, forecast_data, goog_data, order_data
from .cats_dogs import cats_dogs_scores, check_cats_dogs
from .cnn import check_augmentation, check_datasets, check_digits, check_transfer
from .generate import check_generate
from .sequences import (
    check_bidirectional,
    check_char,
    check_forecaster,
    check_order,
    check_sample,
    check_stacked,
)
from .stock import check_split_order, check_stock, stock_errors

__all__ = ["CHECKS", "measure"]


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


def _explained(fn):
    """Add the catalogue's explanation under each check that names a mistake (feedback.explain_diagnoses)."""

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
