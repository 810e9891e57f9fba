"""Pictures for the feedback, drawn in the grading process (or grader.check's kernel) from
numbers the harness returned, and attached to a check as data (Check.attachments: title,
media type, base64 PNG); report.py names and writes the files. The per-epoch numbers are
written into the text in every case; matplotlib (in the ``keras`` extra) draws the pictures.
"""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from deepgrade.portable.feedback import Check

_MARGINS = {"left": 0.09, "right": 0.98, "bottom": 0.16, "top": 0.86, "wspace": 0.22}
MAX_CURVE_POINTS = 1000  # a history is the student's numbers: plot a bounded number of them


def _pyplot():
    """matplotlib.pyplot on a file-only backend, or None when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def _png(fig, plt) -> bytes:
    """The figure as PNG bytes (no timestamped metadata: the same numbers give the same bytes).
    Margins are fixed (``_MARGINS``): tight_layout measured every label first and cost about
    half of each picture's time, once per check model per submission."""
    fig.subplots_adjust(**_MARGINS)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def learning_curves(name: str, history: dict) -> bytes | None:
    """A PNG of loss (and accuracy) per epoch, drawn in this (the grading) process; its
    bytes, or None when there is nothing to draw."""
    if not isinstance(history, dict) or not history:
        return None
    plt = _pyplot()
    if plt is None:
        return None
    series = {
        str(k): np.asarray(v, dtype=float).ravel()[:MAX_CURVE_POINTS]
        for k, v in list(history.items())[:8]
        if isinstance(v, np.ndarray) and v.dtype.kind in "biuf"
    }
    keys = [k for k in series if "loss" in k], [k for k in series if "loss" not in k]
    panels = [k for k in keys if k]
    if not panels:
        return None
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.2), squeeze=False)
    for ax, ks in zip(axes[0], panels):
        for k in ks:
            ax.plot(np.arange(1, len(series[k]) + 1), series[k], marker="o", label=k[:40])
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))  # epochs are whole numbers
        ax.legend()
    fig.suptitle(f"{name}: learning curves")
    return _png(fig, plt)


def price_plot(name: str, days: np.ndarray, real: np.ndarray, pred: np.ndarray) -> bytes | None:
    """A PNG of the predicted against the real price (the exercise's classic plot), drawn in
    memory; None without matplotlib. days, real, pred: (n_test,), numbers only."""
    plt = _pyplot()
    if plt is None:
        return None
    days, real, pred = (np.asarray(v, np.float64).ravel()[:2000] for v in (days, real, pred))
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.plot(days, real, label="real GOOG close", color="tab:red")
    ax.plot(days[: len(pred)], pred[: len(days)], label="predicted", color="tab:blue")
    ax.set_xlabel("trading day")
    ax.set_ylabel("dollars")
    ax.legend()
    ax.set_title(f"{name}: the held-out last {len(days)} days")
    return _png(fig, plt)


def png_attachment(title: str, png: bytes) -> dict:
    """A picture as Check.attachments holds it."""
    return {"title": title, "media_type": "image/png", "data": base64.b64encode(png).decode()}


MAX_TEXT_EPOCHS = 100  # the per-epoch numbers written into the feedback text, at most


def per_epoch_lines(history: dict) -> list[str]:
    """ "loss per epoch: 1.200, 0.600, ..." (and accuracy, and their validation twins) from a
    harness's history {metric: (epochs,)}; the student's numbers, so anything that is not a
    finite-size numeric array is left out, and at most MAX_TEXT_EPOCHS values are written."""
    if not isinstance(history, dict):
        return []
    lines = []
    for k in ("loss", "accuracy", "val_loss", "val_accuracy"):
        v = history.get(k)
        if not isinstance(v, np.ndarray) or v.dtype.kind not in "biuf" or v.size == 0:
            continue
        values = np.asarray(v, dtype=np.float64).ravel()
        shown = ", ".join(f"{x:.3f}" for x in values[:MAX_TEXT_EPOCHS])
        more = f", ... ({values.size} epochs)" if values.size > MAX_TEXT_EPOCHS else ""
        lines.append(f"{k} per epoch: {shown}{more}")
    return lines


def with_curves(check: Check, name: str, value: dict) -> Check:
    """Write the loss and accuracy per epoch of a harness's ``value["history"]`` ({metric:
    (epochs,)}) into ``check``'s details, and attach the learning curves' picture when
    matplotlib can draw it: the numbers are there with or without the picture."""
    history = value.get("history") if isinstance(value, dict) else None
    lines = per_epoch_lines(history)
    check.details.extend(lines)
    png = learning_curves(name, history)
    if png:
        check.attachments.append(png_attachment(f"{name}: learning curves", png))
    elif lines and _pyplot() is None:
        check.details.append("(no picture of the learning curves: matplotlib is not installed where this was graded)")
    return check


def with_price_plot(check: Check, name: str, days, real, pred) -> Check:
    """Attach the predicted-against-real picture (days, real, pred: (n_test,)) to ``check``."""
    png = price_plot(name, days, real, pred)
    if png:
        check.attachments.append(png_attachment(f"{name}: predicted and real GOOG price", png))
    return check
