"""Pictures for the feedback, drawn in the grading process (or grader.check's kernel) from
numbers the harness returned, and attached to a check as data (Check.attachments: title,
media type, base64 PNG); report.py names and writes the files. Without matplotlib there is no
picture, and the feedback says the same in numbers.
"""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from deepgrade.portable.feedback import Check

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
    """The figure as PNG bytes (no timestamped metadata: the same numbers give the same bytes)."""
    fig.tight_layout()
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


def with_curves(check: Check, name: str, value: dict) -> Check:
    """Attach the learning curves of a harness's ``value["history"]`` ({metric: (epochs,)}) to
    ``check``, with the loss and accuracy per epoch in its details."""
    png = learning_curves(name, value.get("history"))
    if png:
        hist = value["history"]
        for k in ("loss", "accuracy"):
            if k in hist:
                check.details.append(f"{k} per epoch: " + ", ".join(f"{v:.3f}" for v in np.asarray(hist[k]).ravel()))
        check.attachments.append(png_attachment(f"{name}: learning curves", png))
    return check


def with_price_plot(check: Check, name: str, days, real, pred) -> Check:
    """Attach the predicted-against-real picture (days, real, pred: (n_test,)) to ``check``."""
    png = price_plot(name, days, real, pred)
    if png:
        check.attachments.append(png_attachment(f"{name}: predicted and real GOOG price", png))
    return check
