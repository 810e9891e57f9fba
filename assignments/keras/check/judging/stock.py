"""Exercise 1 (GOOG): the chronological split's order, and the stacked LSTM's forecast of the
held-out days (RMSE in dollars against persistence and the training mean)."""

from __future__ import annotations

import numpy as np

from deepgrade.portable.feedback import Check

from ..budgets import budgets
from ..datasets import goog_data
from ..plots import with_curves, with_price_plot
from .common import REGRESSION_LOSSES, epochs_text, failed_check, last_number, layer_types, loss_key, outcome_value


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


def stock_stop_rmse(b) -> float:
    """The scaled RMSE on the held-out days at which both RMSE checks pass with the budgets ``b``
    (the harness stops training after the first epoch that reaches it). The judge's ratios are
    in dollars, a scaled RMSE times the scaler's range: the range cancels."""
    g = goog_data()
    span = float(g["data_max"] - g["data_min"])
    err = stock_errors(np.asarray(g["y_test"], float))
    needed = min(b.stock_max_vs_persistence * err["persistence"], b.stock_max_vs_mean * err["mean"]) / span
    return needed * (1 - 1e-9)  # the judge divides in floating point: ask for a hair less, never more


def _epochs_text(b, v: dict) -> str:
    """The budget, or how much of it ran when training stopped at the verdict (harness stop_rmse)."""
    return epochs_text(v, b.stock["epochs"], "training stops once both RMSE checks pass")


def check_stock(assignment, question, outcomes) -> list[Check]:
    b = budgets()  # the budgets and thresholds in force now
    o, v = outcome_value(outcomes, question)
    budget = f"{b.stock['epochs']} epochs, batch {b.stock['batch']}, seed {b.stock['seed']}"
    g = goog_data()
    n_test, window = len(g["y_test"]), int(g["window"])
    if v is None:
        check = failed_check(f"trains on GOOG ({budget})", o, 4.0)
        if "ndim" in str((o.error or {}).get("message", "")):
            check.diagnosis.append("stock_no_return_sequences")
        return [check]
    layers = [layer for layer in v.get("layers") or () if isinstance(layer, dict)]
    types = layer_types(layers)
    recurrent = [layer for layer in layers if layer["type"] in ("LSTM", "GRU", "SimpleRNN")]
    det = []
    if len(recurrent) < 2:
        det.append(f"{len(recurrent)} recurrent layer(s): stack at least two (LSTM or GRU)")
    rs = [bool(last_number(layer.get("return_sequences"), 0)) for layer in recurrent]
    if recurrent and (not all(rs[:-1]) or rs[-1]):
        det.append(
            "return_sequences=True on every recurrent layer but the last: yours are " + ", ".join(str(x) for x in rs)
        )
    dropout = any(t == "Dropout" for t in types) or any(
        (last_number(layer.get("dropout"), 0) or 0) > 0 or (last_number(layer.get("recurrent_dropout"), 0) or 0) > 0
        for layer in recurrent
    )
    if not dropout:
        det.append("no dropout: add Dropout layers or dropout= / recurrent_dropout= on the recurrent layers")
    last = layers[-1] if layers else {}
    if last.get("type") != "Dense" or last_number(last.get("units")) != 1:
        det.append("the last layer should be Dense(1): one price per window")
    elif last.get("activation") not in (None, "linear"):
        det.append(f"the output layer has activation {last.get('activation')!r}: a price needs a linear output")
    if v.get("loss") is not None and loss_key(v.get("loss")) not in REGRESSION_LOSSES:
        det.append(f"the loss is {v.get('loss')!r}: a price is a number, compile with a regression loss ('mse')")
    structure = Check(
        "a stacked recurrent model with dropout (return_sequences on all but the last recurrent layer), Dense(1) out",
        not det,
        1.0,
        det + ([f"your layers: {', '.join(types)}"] if det else []),
    )
    if recurrent and rs[-1]:
        structure.diagnosis.append("stock_sequences_to_dense")
    if not recurrent and "Dense" in types and not any(t.startswith("Conv") for t in types):
        structure.diagnosis.append("stock_dense_only")
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
    budget = f"{_epochs_text(b, v)}, batch {b.stock['batch']}, seed {b.stock['seed']}"
    err = stock_errors(pred)
    vs_p, vs_m = err["model"] / err["persistence"], err["model"] / err["mean"]
    track = Check(
        f"tracks the price on the held-out last {n_test} days after {budget}: RMSE ${err['model']:.2f} = "
        f"{vs_m:.3f} x a training-mean forecast's ${err['mean']:.2f} (needs <= {b.stock_max_vs_mean})",
        vs_m <= b.stock_max_vs_mean,
        1.0,
    )
    close = Check(
        f"close to the persistence forecast (tomorrow = today, RMSE ${err['persistence']:.2f}): "
        f"{vs_p:.2f} x (needs <= {b.stock_max_vs_persistence})",
        vs_p <= b.stock_max_vs_persistence,
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
