"""The keras feedback: learning curves always in numbers (with or without matplotlib), and
what keras grading installs draws the pictures."""

from __future__ import annotations

import importlib

import numpy as np

from deepgrade.course.requirements import requirements
from deepgrade.portable.feedback import Check
from helpers import ROOT


def keras_module(name: str):
    """A sibling module of the keras fixtures (plots, judging, ...), imported as the grader does."""
    from deepgrade.course.assignment import import_fixtures

    fixtures = import_fixtures("keras", ROOT / "assignments" / "keras")
    return importlib.import_module(f".{name}", fixtures.__package__)


HISTORY = {"loss": np.array([1.2, 0.6, 0.3]), "accuracy": np.array([0.4, 0.7, 0.9])}


def test_per_epoch_numbers_are_written_without_matplotlib(monkeypatch):
    plots = keras_module("check.plots")
    monkeypatch.setattr(plots, "_pyplot", lambda: None)  # as if matplotlib were not installed
    check = plots.with_curves(Check("trains", True), "build_digit_cnn", {"history": HISTORY})
    assert check.attachments == []
    assert check.details[:2] == ["loss per epoch: 1.200, 0.600, 0.300", "accuracy per epoch: 0.400, 0.700, 0.900"]
    assert "matplotlib is not installed" in check.details[2]


def test_per_epoch_numbers_are_bounded_and_only_numbers():
    plots = keras_module("check.plots")
    lines = plots.per_epoch_lines({"loss": np.arange(500.0), "accuracy": np.array(["a", "b"]), "x": np.ones(3)})
    assert len(lines) == 1 and lines[0].endswith("... (500 epochs)")
    assert lines[0].count(",") == plots.MAX_TEXT_EPOCHS  # 100 values, then the count
    assert plots.per_epoch_lines("not a dict") == []


def test_keras_grading_installs_matplotlib():
    """The keras extra, and so the Gradescope requirements built from it, hold matplotlib."""
    reqs = requirements(ROOT, "keras", ["keras"])
    assert any(r.replace(" ", "").lower().startswith("matplotlib") for r in reqs), reqs
