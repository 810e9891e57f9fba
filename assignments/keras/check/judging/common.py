"""What every check function shares: reading a harness's outcome, and the check for a call
that raised, hung or crashed."""

from __future__ import annotations

import numpy as np

from deepgrade.portable.feedback import Check, error_check

from ...harness.common import ONE_HOT as ONE_HOT_MARKER  # the harnesses' message (fit_model)


def failed_check(label: str, outcome, weight: float, one_hot_mistake: str | None = None) -> Check:
    """A harness call that raised, hung or crashed: the engine's error check (the student's own
    line, cells counted from 1), under this check's label."""
    err = outcome.error or {"type": outcome.status, "message": outcome.status}
    check = error_check(label, False, err, weight)
    check.label = label
    if one_hot_mistake and ONE_HOT_MARKER in str(err.get("message", "")):
        check.diagnosis.append(one_hot_mistake)
    return check


def case_inputs(question, case: str) -> tuple:
    """The inputs the grader sent with the question's case (its ``Case.args``): a check judges
    against these, never against a copy it regenerates."""
    return next(c for c in question.cases if c.name == case).args


def outcome_value(outcomes, question, case="train"):
    o = outcomes[f"{question.name}/{case}"]
    return o, (o.value if o.ok and isinstance(o.value, dict) else None)


def layer_types(layers) -> list[str]:
    return [str(layer.get("type")) for layer in layers or () if isinstance(layer, dict)]


def last_number(x, default=None):
    try:
        return float(np.asarray(x).ravel()[-1])
    except (TypeError, ValueError, IndexError):
        return default


def epochs_text(v: dict, planned: int, why: str, budget: str | None = None) -> str:
    """The budget (``budget``, else "N epochs"), or how much of it ran when the harness stopped
    training at the verdict: "4 of <budget> (<why>)". ``v["epochs_run"]`` comes from the sandbox:
    anything but a whole number of epochs within the budget shows the budget."""
    shown = budget if budget is not None else f"{planned} epochs"
    ran = last_number(v.get("epochs_run"), 0.0)
    if np.isfinite(ran) and ran == int(ran) and 0 < ran < planned:
        return f"{int(ran)} of {shown} ({why})"
    return shown


# Keras' names for the regression losses (lower case, without "_"): what "a regression loss" accepts
REGRESSION_LOSSES = frozenset(
    {"mse", "meansquarederror", "mae", "meanabsoluteerror", "huber", "logcosh", "msle", "meansquaredlogarithmicerror"}
)


def loss_key(loss) -> str:
    """A compiled loss's name as compared: lower case, no underscores ("mean_squared_error" -> "meansquarederror")."""
    return str(loss or "").lower().replace("_", "")
