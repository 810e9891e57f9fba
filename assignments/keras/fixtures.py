"""Fixtures for the `keras` assignment: check models trained by the grader.

Every model question runs a *harness* inside the sandbox: it builds the student's model,
trains it with fixed seeds, epochs and batch size on data sent as plain arrays, and returns
predictions on test inputs (never their labels), the training history and a plain
description of the layers. Accuracy, structure and learning curves are judged in the
grading process (``CHECKS``). Exercise 1's data pipeline is plain numpy, compared with the
reference by the engine.

This module is what the engine loads (``cases()``, ``CHECKS``) and what grader.check calls in
the student's copy (``student_check``); the work is done by its siblings, one job each:

    budgets.py     budgets (seed, epochs, batch) and thresholds (thresholds.toml overrides)
    datasets.py    the data loaders (digits, GOOG, Seattle temperatures, text, images)
    generation.py  Exercise 2's fixed character model and expected texts
    harness/       the programs run in the sandbox, real files read as text
    cases.py       the graded calls
    judging/       the check functions (CHECKS), one module per exercise, and the
                   measurements calibration reads
    plots.py       learning curves and the price plot, attached to checks as PNG data
    local.py       the harnesses run in this process (grader.check, tests, calibration)

The folder is imported as a package (deepgrade.course.assignment.import_fixtures; in the student's
copy it is _deepgrade_check/), so siblings are imported relatively. The names below are
re-exported for the tests, the notebook builder and calibration.
"""

from __future__ import annotations

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
    THRESHOLDS_FILE,
    TRANSFER,
    TRANSFER_MIN_ACCURACY,
    panel_note,
)
from .cases import Case, cases, pipeline_cases
from .datasets import (
    DATA,
    base_weights,
    cats_dogs_data,
    char_data,
    digits_split,
    forecast_data,
    goog_data,
    image_folder_data,
    order_data,
    seattle_series,
    text_corpus,
    texture_images,
)
from .generation import GENERATE, GENERATE_ALPHABET, GENERATE_PUBLIC, _generation_namespace, public_generation
from .judging import CHECKS, SHEAR_FACTOR, _tempered, cats_dogs_scores, measure, stock_errors
from .local import Outcome, local_outcomes, student_check
from .plots import learning_curves, price_plot

__all__ = [
    "CATS_DOGS",
    "CATS_DOGS_MIN_ACCURACY",
    "CATS_DOGS_MIN_OVER_CONTROL",
    "CHAR",
    "CHAR_MARGIN",
    "CHECKS",
    "DATA",
    "DIGITS",
    "DIGITS_MIN_ACCURACY",
    "FORECAST",
    "FORECAST_MAX_RATIO",
    "GENERATE",
    "GENERATE_ALPHABET",
    "GENERATE_PUBLIC",
    "ORDER",
    "ORDER_MIN_ACCURACY",
    "SAMPLE",
    "SAMPLE_TOLERANCE",
    "SHEAR_FACTOR",
    "STOCK",
    "STOCK_MAX_VS_MEAN",
    "STOCK_MAX_VS_PERSISTENCE",
    "THRESHOLDS_FILE",
    "TRANSFER",
    "TRANSFER_MIN_ACCURACY",
    "Case",
    "Outcome",
    "_generation_namespace",
    "_tempered",
    "base_weights",
    "cases",
    "cats_dogs_data",
    "cats_dogs_scores",
    "char_data",
    "digits_split",
    "forecast_data",
    "goog_data",
    "image_folder_data",
    "learning_curves",
    "local_outcomes",
    "measure",
    "order_data",
    "panel_note",
    "pipeline_cases",
    "price_plot",
    "public_generation",
    "seattle_series",
    "stock_errors",
    "student_check",
    "text_corpus",
    "texture_images",
]
