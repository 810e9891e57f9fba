"""Exercise 1's stock LSTM stops training once both RMSE checks pass (harness/stock.py
``stop_rmse``), the forecaster once its MSE check passes (harness/forecast.py ``stop_mse``).

Nothing trains here: the stop rules are checked against the judges on forecasts written by hand,
the cases' arguments against the calibrated thresholds, and the feedback's wording. The verdicts
under the rules were measured on the panels and the controls, every epoch of the budget
(``benchmarks/series_budgets.py stock|forecast --per-epoch``, README "Exercise 1", "The forecaster").
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from helpers import keras_module

FX = keras_module("fixtures")
BUDGETS = keras_module("check.budgets")
DATA = keras_module("check.datasets")
JUDGE = keras_module("check.judging.stock")
HARNESS = keras_module("harness.stock")
SEQ = keras_module("check.judging.sequences")
FORECAST = keras_module("harness.forecast")


class _Model:
    """What the callback reads of a Keras model: a call on inputs (the row numbers here) and stop_training."""

    def __init__(self, pred) -> None:
        self.pred, self.stop_training = np.asarray(pred, dtype=np.float32), False

    def __call__(self, x, training=False):
        return self.pred[np.asarray(x)[:, 0, 0].astype(int)]


def _judged(pred) -> bool:
    """Both RMSE checks of the judge (track: vs the mean; close: vs persistence) pass on ``pred``."""
    g = DATA.goog_data()
    value = {"pred": np.asarray(pred)[:, None], "layers": (), "loss": "mse", "history": {}}
    outcome = SimpleNamespace(ok=True, status="ok", error=None, value=value)
    checks = JUDGE.check_stock(None, SimpleNamespace(name="build_stock_lstm"), {"build_stock_lstm/train": outcome})
    assert len(checks) == 3 and len(pred) == len(g["y_test"])
    return checks[0].passed and checks[1].passed


def _forecast(rmse: float) -> np.ndarray:
    """A forecast of the held-out days off by +-rmse on alternate days (scaled units): RMSE exactly rmse."""
    y = np.asarray(DATA.goog_data()["y_test"], np.float64)
    return (y + rmse * np.where(np.arange(len(y)) % 2, 1.0, -1.0)).astype(np.float32)


def _stops(pred, needed) -> bool:
    g = DATA.goog_data()
    rows = np.arange(len(g["y_test"]), dtype=np.float32)[:, None, None]  # the fake model's inputs
    cb = HARNESS.stop_at_rmse(rows, g["y_test"], needed)
    cb.set_model(_Model(pred))
    cb.on_epoch_end(4)
    return cb.model.stop_training


@pytest.mark.parametrize("factor", [0.5, 0.98, 0.995, 1.005, 1.02, 2.0])
def test_training_stops_exactly_when_the_judge_passes_both_rmse_checks(factor):
    b = BUDGETS.budgets()
    needed = JUDGE.stock_stop_rmse(b)
    pred = _forecast(needed * factor)  # float32, as the model's forecast comes back
    assert _stops(pred, needed) is _judged(pred) is (factor < 1)


def test_the_needed_rmse_is_the_stricter_of_the_two_thresholds_computed_from_the_prices():
    """Persistence and the training mean in dollars straight from the prices, then scaled."""
    g, b = DATA.goog_data(), BUDGETS.budgets()
    p, n = np.asarray(g["prices"], float), int(g["n_test"])
    persistence = np.sqrt(np.mean((p[-n:] - p[-n - 1 : -1]) ** 2))
    mean = np.sqrt(np.mean((p[-n:] - p[int(g["window"]) : len(p) - n].mean()) ** 2))
    want = min(b.stock_max_vs_persistence * persistence, b.stock_max_vs_mean * mean) / (g["data_max"] - g["data_min"])
    assert JUDGE.stock_stop_rmse(b) == pytest.approx(want, rel=1e-6)
    assert JUDGE.stock_stop_rmse(b) < want  # a hair stricter than the judge, never looser


def test_forecasts_of_another_shape_or_not_finite_never_stop_training():
    g = DATA.goog_data()
    n = len(g["y_test"])
    rows = np.arange(n, dtype=np.float32)[:, None, None]
    for pred in (np.zeros((n, 2)), np.full(n, np.nan)):
        cb = HARNESS.stop_at_rmse(rows, g["y_test"], 10.0)
        cb.set_model(_Model(pred))
        cb.on_epoch_end(0)
        assert cb.model.stop_training is False


def test_grading_stops_at_the_verdict_and_calibration_trains_the_budget():
    b = BUDGETS.budgets()
    graded = FX.cases()["build_stock_lstm"][0].args
    assert np.array_equal(graded[7], DATA.goog_data()["y_test"]) and graded[8] == JUDGE.stock_stop_rmse(b)
    calibrated = FX.cases(seed=1)["build_stock_lstm"][0].args
    assert calibrated[8] is None and calibrated[4] == 1


@pytest.mark.parametrize(
    ("ran", "says"),
    [
        (3, "3 of 20 epochs (training stops once both RMSE checks pass)"),
        (20, "20 epochs"),
        (float("nan"), "20 epochs"),
        (2.5, "20 epochs"),
        (None, "20 epochs"),
    ],
)
def test_the_feedback_says_how_much_of_the_budget_ran(ran, says):
    b = BUDGETS.budgets()
    assert b.stock["epochs"] == 20
    assert JUDGE._epochs_text(b, {"epochs_run": ran}) == says


# ------------------------------------------------------------------ the forecaster


def _forecaster_judged(pred) -> bool:
    value = {"pred": np.asarray(pred)[:, None], "layers": (), "loss": "mse", "history": {}}
    outcome = SimpleNamespace(ok=True, status="ok", error=None, value=value)
    checks = SEQ.check_forecaster(None, SimpleNamespace(name="build_forecaster"), {"build_forecaster/train": outcome})
    return checks[0].passed


def _forecaster_stops(pred, needed) -> bool:
    _, _, _, yte = DATA.forecast_data()
    rows = np.arange(len(yte), dtype=np.float32)[:, None, None]
    cb = FORECAST.stop_at_mse(rows, yte, needed)
    cb.set_model(_Model(pred))
    cb.on_epoch_end(1)
    return cb.model.stop_training


@pytest.mark.parametrize("factor", [0.5, 0.98, 0.995, 1.005, 1.02, 2.0])
def test_the_forecaster_stops_exactly_when_the_judge_passes_it(factor):
    needed = SEQ.forecast_stop_mse(BUDGETS.budgets())
    _, _, _, yte = DATA.forecast_data()
    off = np.sqrt(needed * factor)  # +-off on alternate windows: MSE exactly needed * factor
    pred = (yte + off * np.where(np.arange(len(yte)) % 2, 1.0, -1.0)).astype(np.float32)
    assert _forecaster_stops(pred, needed) is _forecaster_judged(pred) is (factor < 1)


def test_the_forecasters_needed_mse_is_the_threshold_times_persistence_computed_from_the_series():
    """Persistence 6 hours ahead straight from the temperatures: the reading `horizon` readings later."""
    b = BUDGETS.budgets()
    f = b.forecast
    s = DATA.seattle_series()[:: f["every"]]
    cut = int(len(s) * 0.7)
    z = (s - s[:cut].mean()) / s[:cut].std()
    last = np.arange(len(z) - f["horizon"])  # the window's last reading ...
    target = last + f["horizon"]  # ... and the one it forecasts
    test = (target >= cut) & (last >= f["window"] - 1)
    want = b.forecast_max_ratio * np.mean((z[target[test]] - z[last[test]]) ** 2)
    assert SEQ.forecast_stop_mse(b) == pytest.approx(want, rel=1e-5)
    assert f["horizon"] * f["every"] == 6


def test_the_forecasters_case_stops_when_grading_and_trains_the_budget_when_calibrating():
    b = BUDGETS.budgets()
    graded = FX.cases()["build_forecaster"][0].args
    assert np.array_equal(graded[7], DATA.forecast_data()[3]) and graded[8] == SEQ.forecast_stop_mse(b)
    assert FX.cases(seed=2)["build_forecaster"][0].args[8] is None


def test_the_forecasters_feedback_says_how_much_of_the_budget_ran():
    b = BUDGETS.budgets()
    n = b.forecast["epochs"]
    assert SEQ._forecast_epochs(b, {"epochs_run": 2}) == f"2 of {n} epochs (training stops once the check passes)"
    assert SEQ._forecast_epochs(b, {"epochs_run": n}) == SEQ._forecast_epochs(b, {}) == f"{n} epochs"
