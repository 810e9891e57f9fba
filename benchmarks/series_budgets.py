"""CPU and wall seconds, and the panel's verdicts, of the two series check models (the GOOG
stock LSTM and the temperature forecaster) under candidate budgets, in this process.

    PYTHONPATH=graders:. .venv/bin/python benchmarks/series_budgets.py stock --window 10 --batch 16 --epochs 20
    PYTHONPATH=graders:. .venv/bin/python benchmarks/series_budgets.py forecast --window 12 --step 2 --batch 32 --epochs 10
    PYTHONPATH=graders:. .venv/bin/python benchmarks/series_budgets.py graded   # as the grader calls them

Trains every panel model and control of ``assignments/keras/instructor/panel.py`` for the
question with the candidate budget (data made as the instructor's tools make it, with the
candidate window; nothing is written) over ``--seeds`` (default 0,1,2), and prints per model and
seed the metric the judge reads (RMSE or MSE over persistence; stock also over the training
mean) with ``time.process_time()`` (every TensorFlow thread) and wall seconds around the
harness call, then the threshold calibration would derive (worst x margin) and each control's
margin to it. Used to choose the budgets in check/budgets.py; ``deepgrade calibrate keras
--question Q`` then measures the chosen one for thresholds.toml.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "graders"), str(ROOT), str(ROOT / "tests" / "support")]

import helpers  # noqa: E402


def stock_data(window: int, n_test: int) -> dict:
    make_goog = _load_instructor("make_goog")
    return make_goog.prepare(make_goog.goog_prices(), window, n_test)


def _load_instructor(name: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "assignments" / "keras" / "instructor" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def forecast_windows(window: int, horizon: int, step: int):
    """check/datasets.forecast_data's windows with another budget: a reading every ``step`` hours,
    ``horizon`` readings ahead."""
    return helpers.keras_module("check.datasets")._forecast_data(step, window, horizon)


def timed(fn, *args):
    c, w = time.process_time(), time.perf_counter()
    out = fn(*args)
    return out, time.process_time() - c, time.perf_counter() - w


def graded() -> None:
    """The two check models as the grader calls them (budget, stop rule) with the reference, in this process."""
    import solutions.keras as ref

    fx = helpers.keras_module("fixtures")
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    for question in ("build_stock_lstm", "build_forecaster"):
        outcomes, cpu, wall = timed(fx.local_outcomes, dict(vars(ref)), [question])
        ran = outcomes[f"{question}/train"].value.get("epochs_run", "all")
        print(f"  {question:18s} cpu {cpu:5.2f} wall {wall:5.2f}  epochs run: {ran}  {fx.measure(question, outcomes)}")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("question", choices=("stock", "forecast", "graded"))
    p.add_argument("--window", type=int)
    p.add_argument("--batch", type=int)
    p.add_argument("--epochs", type=int)
    p.add_argument("--step", type=int, help="forecast: hours between readings (default: the budget's)")
    p.add_argument("--horizon", type=int, help="forecast: readings ahead (default: the budget's hours ahead)")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--only", default="", help="labels containing this text")
    p.add_argument(
        "--mistakes",
        default="",
        help="also these catalogued wrong models (solutions/keras_mistakes.py), comma-separated",
    )
    p.add_argument(
        "--per-epoch",
        action="store_true",
        help="the metrics after every epoch (whole budget), the first epoch that reaches the "
        "thresholds in force (where grading stops) and each control's best epoch",
    )
    a = p.parse_args()
    seeds = [int(s) for s in a.seeds.split(",")]
    if a.question == "graded":
        graded()
        return
    budgets = helpers.keras_module("check.budgets")
    panel = _load_instructor("panel")
    question = "build_stock_lstm" if a.question == "stock" else "build_forecaster"
    if a.question == "stock":
        b = budgets.STOCK
        window = a.window or 20
        g = stock_data(window, 200)
        X, y, Xt = g["X_train"], g["y_train"], g["X_test"]
        span = float(g["data_max"] - g["data_min"])
        yt = np.asarray(g["y_test"], float)
        pers = np.sqrt(np.mean((Xt[:, -1, 0] - yt) ** 2)) * span
        mean = np.sqrt(np.mean((float(np.mean(g["y_train"])) - yt) ** 2)) * span

        def metric(pred):
            rmse = np.sqrt(np.mean((pred - yt) ** 2)) * span
            return {"vs_persistence": rmse / pers, "vs_mean": rmse / mean}

        rules = {"vs_persistence": 1.25, "vs_mean": 1.25}
    else:
        b = budgets.FORECAST
        window = a.window or b["window"]
        step = a.step or b.get("every", 1)
        horizon = a.horizon or b["horizon"] * b.get("every", 1) // step  # the same hours ahead
        X, y, Xt, yt = forecast_windows(window, horizon, step)

        def metric(pred):
            return {"mse_ratio": float(np.mean((pred - yt) ** 2) / np.mean((Xt[:, -1, 0] - yt) ** 2))}

        rules = {"mse_ratio": 1.25}
    batch, epochs = a.batch or b["batch"], a.epochs or b["epochs"]
    harness = helpers.keras_module(f"harness.{a.question}")
    print(
        f"{question}: window {window}, {len(X)} training windows, {len(Xt)} test, batch {batch}, epochs {epochs}, "
        f"step {a.step or ''}; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}",
        flush=True,
    )
    models = [(label, fn, False) for label, fn in panel.PANELS[question]]
    models += [(c[0], c[1], True) for c in panel.CONTROLS[question]]
    if a.mistakes:
        import solutions.keras_mistakes as wrong

        models += [(f"mistake {name}", getattr(wrong, name), True) for name in a.mistakes.split(",")]
    worst: dict[str, float] = {}
    controls = []
    per_epoch: list[dict] = []
    if a.per_epoch:
        stop_class = "StopAtRmse" if a.question == "stock" else "StopAtMse"

        class Record(getattr(harness, stop_class)):  # never stops: records the judge's ratios after every epoch
            def on_epoch_end(self, epoch, logs=None):
                per_epoch.append(metric(np.asarray(harness.predict_all(self.model, self.x), float).reshape(-1)))

        setattr(harness, stop_class, Record)
        b_now = budgets.budgets()
        needed = (
            {"vs_persistence": b_now.stock_max_vs_persistence, "vs_mean": b_now.stock_max_vs_mean}
            if a.question == "stock"
            else {"mse_ratio": b_now.forecast_max_ratio}
        )
    for label, fn, control in models:
        if a.only and a.only not in label:
            continue
        for seed in seeds:
            extra = (yt, 0.0) if a.per_epoch else ()
            per_epoch.clear()
            out, cpu, wall = timed(harness.run, {question: fn}, X, y, Xt, window, seed, epochs, batch, *extra)
            m = metric(np.asarray(out["pred"], float).reshape(-1))
            if a.per_epoch:
                reached = [i + 1 for i, e in enumerate(per_epoch) if all(e[k] <= needed[k] for k in needed)]
                best = min(per_epoch, key=lambda e: max(e[k] / needed[k] for k in needed))
                print(
                    f"  {'control' if control else 'panel':7s} {label[:52]:52s} seed {seed}: verdict reached after "
                    f"epoch {reached[0] if reached else 'never'}; best epoch "
                    + " ".join(f"{k} {best[k]:.3f} ({best[k] / needed[k]:.2f} x threshold)" for k in needed),
                    flush=True,
                )
            shown = " ".join(f"{k} {v:.3f}" for k, v in m.items())
            print(
                f"  {'control' if control else 'panel':7s} {label[:52]:52s} seed {seed}: {shown}  cpu {cpu:5.2f} wall {wall:5.2f}",
                flush=True,
            )
            if control:
                controls.append((label, seed, m))
            else:
                for k, v in m.items():
                    worst[k] = max(worst.get(k, 0.0), v)
    thresholds = {k: worst[k] * rules[k] for k in worst}
    print("thresholds (worst x margin):", " ".join(f"{k} {v:.3f}" for k, v in thresholds.items()))
    for label, seed, m in controls:
        over = " ".join(f"{k} {m[k] / thresholds[k]:.2f} x threshold" for k in m if k in thresholds)
        print(f"  control {label[:40]} seed {seed}: {over}")
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
