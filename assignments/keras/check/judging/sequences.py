"""The recurrent models and sampling: the stacked and bidirectional GRUs, the order classifier,
the temperature forecaster, the character model and sample_with_temperature."""

from __future__ import annotations

import numpy as np

from deepgrade.portable.feedback import Check

from ..budgets import budgets
from ..datasets import char_data, forecast_data, order_data
from ..plots import with_curves
from .common import REGRESSION_LOSSES, epochs_text, failed_check, last_number, layer_types, loss_key, outcome_value


def _sequence_output_check(v: dict) -> Check:
    """The recurrent regressors map a batch of 2 sequences of 7 steps to (2, 1)."""
    shape = tuple(int(x) for x in np.asarray(v["output_shape"]).ravel())
    ok = shape == (2, 1)
    return Check("output shape (2, 1) for a batch of 2 sequences of 7 steps", ok, 1.0, [] if ok else [f"got {shape}"])


def _compile_check(v: dict) -> Check:
    """The lecture compiles its GRU regressors with optimizer="rmsprop", loss="mae" (the notebook says so)."""
    loss, optimizer = v.get("loss"), str(v.get("optimizer", ""))
    ok = loss_key(loss) in ("mae", "meanabsoluteerror") and optimizer == "rmsprop"
    return Check(
        "compiled with optimizer='rmsprop', loss='mae'",
        ok,
        1.0,
        [] if ok else [f"your model is compiled with optimizer {optimizer or 'none'!r} and loss {loss!r}"],
    )


def _gru_diff(got: dict, want: dict, where: str) -> list[str]:
    out = []
    for k, w in want.items():
        g = got.get(k)
        g = bool(last_number(g)) if isinstance(w, bool) else (last_number(g) if isinstance(w, (int, float)) else g)
        if g != w:
            out.append(f"{where}: {k} is {g!r}, the lecture uses {w!r}")
    return out


def check_stacked(assignment, question, outcomes) -> list[Check]:
    o, v = outcome_value(outcomes, question, "build")
    if v is None:
        check = failed_check("builds the stacked GRU", o, 5.0)
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
    rs = bool(last_number(grus[0].get("return_sequences"), 0)) if grus else False
    rs2 = bool(last_number(grus[1].get("return_sequences"), 0)) if len(grus) > 1 else False
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
    checks.append(_compile_check(v))
    return checks


def check_bidirectional(assignment, question, outcomes) -> list[Check]:
    o, v = outcome_value(outcomes, question, "build")
    if v is None:
        return [failed_check("builds the bidirectional GRU", o, 3.0)]
    layers = [layer for layer in v["layers"] if isinstance(layer, dict)]
    types = [layer["type"] for layer in layers]
    inner = layers[0].get("inner", {}) if layers else {}
    ok = types == ["Bidirectional", "Dense"] and inner.get("type") == "GRU" and last_number(inner.get("units")) == 32
    det = (
        []
        if ok
        else [
            f"your layers: {', '.join(types)}"
            + (f" (wrapping {inner.get('type')} with {int(last_number(inner.get('units'), 0))} units)" if inner else "")
        ]
    )
    checks = [Check("Bidirectional(GRU(32)) then Dense(1)", ok, 2.0, det)]
    checks.append(_sequence_output_check(v))
    checks.append(_compile_check(v))
    return checks


def check_order(assignment, question, outcomes) -> list[Check]:
    b = budgets()  # the budgets and thresholds in force now
    o, v = outcome_value(outcomes, question)
    budget = f"{b.order['epochs']} epochs, batch {b.order['batch']}, seed {b.order['seed']}"
    if v is None:
        return [failed_check(f"trains on the order task ({budget})", o, 2.0)]
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
    ok = acc >= b.order_min_accuracy
    check = Check(
        f"tells 'good ... not ... bad' from 'bad ... not ... good' on {len(yte)} new sequences after {budget}: {acc:.1%} (needs {b.order_min_accuracy:.1%})",
        ok,
        2.0,
    )
    if not ok and acc < 0.65:
        types = layer_types(v.get("layers"))
        check.details.append(
            "both kinds of sequence hold the same words, only their order differs: a model that ignores order "
            f"(a bag of words, pooling over embeddings) stays near 50%. Your layers: {', '.join(types)}"
        )
        if not any(t in ("GRU", "LSTM", "SimpleRNN", "Bidirectional", "Conv1D") for t in types):
            check.diagnosis.append("order_bag_of_words")
    return [with_curves(check, "build_order_classifier", v)]


def forecast_stop_mse(b) -> float:
    """The test MSE at which the forecaster's check passes with the budgets ``b`` (the harness
    stops training after the first epoch that reaches it): the threshold times persistence's MSE."""
    _, _, Xte, yte = forecast_data()
    persistence = float(np.mean((Xte[:, -1, 0] - yte) ** 2))
    return b.forecast_max_ratio * persistence * (1 - 1e-9)  # the judge divides: a hair less, never more


def _forecast_epochs(b, v: dict) -> str:
    """The budget, or how much of it ran when training stopped at the verdict (harness stop_mse)."""
    return epochs_text(v, b.forecast["epochs"], "training stops once the check passes")


def check_forecaster(assignment, question, outcomes) -> list[Check]:
    b = budgets()  # the budgets and thresholds in force now
    o, v = outcome_value(outcomes, question)
    budget = f"{b.forecast['epochs']} epochs, batch {b.forecast['batch']}, seed {b.forecast['seed']}"
    if v is None:
        return [failed_check(f"trains on Seattle temperatures ({budget})", o, 3.0)]
    _, _, Xte, yte = forecast_data()
    pred = np.asarray(v["pred"], float).reshape(-1)
    if pred.shape != yte.shape:
        return [
            Check(
                "forecasts every test window",
                False,
                3.0,
                [f"{pred.size} predictions for {len(yte)} windows: output one value per window"],
            )
        ]
    budget = f"{_forecast_epochs(b, v)}, batch {b.forecast['batch']}, seed {b.forecast['seed']}"
    mse = float(np.mean((pred - yte) ** 2))
    persistence = float(np.mean((Xte[:, -1, 0] - yte) ** 2))
    ratio = mse / persistence
    ok = ratio <= b.forecast_max_ratio
    check = Check(
        f"beats naive persistence (the window's last temperature, {b.forecast['horizon'] * b.forecast['every']} hours ahead) "
        f"on the test period after {budget}: "
        f"MSE {ratio:.2f} x persistence (needs <= {b.forecast_max_ratio})",
        ok,
        3.0,
    )
    if not ok and np.std(pred) < 0.05 * np.std(yte):
        check.details.append(
            "your predictions are almost constant: the model predicts the mean instead of following the series"
        )
        check.diagnosis.append("forecaster_mean")
    loss = v.get("loss")
    regression = loss is None or loss_key(loss) in REGRESSION_LOSSES  # None: an outcome stored before the loss was sent
    loss_check = Check(
        "compiled with a regression loss ('mse' or 'mae')",
        regression,
        0.5,
        [] if regression else [f"your loss is {loss!r}: a temperature is a number, not a class"],
    )
    return [with_curves(check, "build_forecaster", v), loss_check]


_CONTEXT_LAYERS = ("GRU", "LSTM", "SimpleRNN", "Bidirectional", "RNN", "MultiHeadAttention", "Attention")


def check_char(assignment, question, outcomes) -> list[Check]:
    b = budgets()  # the budgets and thresholds in force now
    o, v = outcome_value(outcomes, question)
    budget = f"{b.char['epochs']} epochs, batch {b.char['batch']}, seed {b.char['seed']}"
    if v is None:
        return [failed_check(f"trains on Shakespeare ({budget})", o, 3.0, "char_categorical_crossentropy")]
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
    need = bigram + b.char_margin
    checks.append(
        with_curves(
            Check(
                f"next-character accuracy after {budget}: {acc:.1%} (needs {need:.1%}: the bigram baseline "
                f"{bigram:.1%} + {100 * b.char_margin:.1f} points)",
                acc >= need,
                2.0,
            ),
            "build_char_model",
            v,
        )
    )
    types = layer_types(v.get("layers"))
    if acc < need and not any(t in _CONTEXT_LAYERS or t.startswith("Conv") for t in types):
        checks[-1].details.append(f"your layers: {', '.join(types)}: no layer reads the characters before")
        checks[-1].diagnosis.append("char_no_context")
    return checks


def _tempered(p, t):
    w = np.asarray(p, float) ** (1 / t)
    return w / w.sum()


def check_sample(assignment, question, outcomes) -> list[Check]:
    b = budgets()  # the budgets and thresholds in force now
    o, v = outcome_value(outcomes, question, "draws")
    if not o.ok:
        return [failed_check("draws indices", o, 2.0)]
    value = o.value if isinstance(o.value, dict) else {"counts": o.value}
    try:
        counts = np.asarray(value.get("counts"), float)
    except (TypeError, ValueError):
        counts = np.zeros(0)
    probs, temps, n = b.sample["probs"], b.sample["temperatures"], b.sample["n"]
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
        ok = gap <= b.sample_tolerance
        check = Check(f"frequencies of {n} draws at temperature {t} follow p ** (1 / {t}), renormalised", ok, 1.0)
        if not ok:
            check.details.append(
                "your frequencies: "
                + ", ".join(f"{x:.3f}" for x in freq)
                + "; expected about "
                + ", ".join(f"{x:.3f}" for x in want)
            )
            if np.max(np.abs(freq - _tempered(probs, 1 / t))) <= b.sample_tolerance:
                check.diagnosis.append("temperature_power")
            elif np.max(np.abs(freq - np.asarray(probs))) <= b.sample_tolerance:
                check.diagnosis.append("temperature_ignored")
        checks.append(check)
    if "rejects" in value:  # an outcome stored before this check has none
        rejects = np.asarray(value["rejects"]).ravel()
        ok = rejects.shape == (2,) and bool(np.all(rejects == 1))
        checks.append(
            Check(
                "raises ValueError for a temperature <= 0 (0 and -1)",
                ok,
                0.5,
                []
                if ok
                else ["with temperature 0 or -1 your function returned or raised another exception: raise ValueError"],
            )
        )
    return checks
