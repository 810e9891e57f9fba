"""The keras notebook has a stub and a check cell per question. (That the committed notebook is
exactly what make_notebook.py builds, byte for byte, is tested for every assignment in
test_every_assignment.py.)"""

from __future__ import annotations

import nbformat
import numpy as np

from deepgrade.course import assignment as asg
from helpers import ROOT, keras_module

A = asg.load("keras", ROOT)
FX = keras_module("fixtures")
BUDGETS = keras_module("check.budgets")
DATA = keras_module("check.datasets")


def test_every_question_has_a_stub_and_a_check_cell():
    nb = nbformat.read(A.notebook, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    for q in A.questions:
        assert any(src.startswith(f"def {q.name}(") and "raise NotImplementedError" in src for src in code), q.name
        assert f'grader.check("{q.name}")' in code, q.name


def _cells():
    return nbformat.read(A.notebook, as_version=4).cells


def test_the_title_comes_first():
    first = _cells()[0]
    assert first.cell_type == "markdown" and first.source.startswith("# Keras"), first.source[:60]


def test_one_numbering_in_order():
    """Every section heading is "## N. ...", N = 1, 2, 3, ... in notebook order."""
    import re

    headings = [line for c in _cells() if c.cell_type == "markdown" for line in c.source.splitlines()]
    sections = [h for h in headings if h.startswith("## ")]
    numbers = [int(m.group(1)) for h in sections if (m := re.match(r"## (\d+)\. ", h))]
    assert len(numbers) == len(sections), [h for h in sections if not re.match(r"## \d+\. ", h)]
    assert numbers == list(range(1, len(numbers) + 1)), sections
    # sub-sections belong to the section above them: "### 1a." under "## 1."
    current = 0
    for h in headings:
        if m := re.match(r"## (\d+)\. ", h):
            current = int(m.group(1))
        elif m := re.match(r"### (\d+)[a-z]\. ", h):
            assert int(m.group(1)) == current, h
    # a reference to another section names the right one
    text = "\n".join(c.source for c in _cells() if c.cell_type == "markdown")
    sample = next(n for h, n in zip(sections, numbers) if "Sampling with a temperature" in h)
    assert f"(section {sample}:" in text


def test_the_demos_train_with_the_graders_budget():
    import re

    demos = {"build_stock_lstm": BUDGETS.budgets().stock, "build_digit_cnn": BUDGETS.budgets().digits}
    for name, budget in demos.items():
        (cell,) = [c.source for c in _cells() if c.cell_type == "code" and f"model = {name}(" in c.source]
        assert re.search(rf"epochs={budget['epochs']}\b", cell), (name, cell)
        assert re.search(rf"batch_size={budget['batch']}\b", cell), (name, cell)


def test_stated_compile_requirements_are_checked():
    """The notebook states them; the grader's checks hold them (judged on a harness value as the sandbox sends it)."""
    from types import SimpleNamespace

    text = "\n".join(c.source for c in _cells() if c.cell_type == "markdown")
    assert 'compiled\nlike section 7\'s model: `optimizer="rmsprop", loss="mae"`' in text
    assert 'regression loss: `loss="mse"` (or `"mae"`)' in text
    bidirectional = {
        "layers": ({"type": "Bidirectional", "inner": {"type": "GRU", "units": 32}}, {"type": "Dense", "units": 1}),
        "output_shape": np.array([2, 1]),
    }
    q = A.question("build_bidirectional_gru")
    for loss, optimizer, ok in (
        ("mae", "rmsprop", True),
        ("mse", "adam", False),
        ("mean_absolute_error", "rmsprop", True),
    ):
        value = {**bidirectional, "loss": loss, "optimizer": optimizer}
        o = SimpleNamespace(ok=True, status="ok", error=None, value=value)
        checks = q.extra_check(A, q, {"build_bidirectional_gru/build": o})
        assert all(c.passed for c in checks) is ok, (loss, optimizer, [(c.label, c.passed) for c in checks])
    _, _, Xte, yte = DATA.forecast_data()
    q = A.question("build_forecaster")
    for loss, ok in (("mse", True), ("mae", True), ("binary_crossentropy", False)):
        value = {"pred": yte.copy(), "history": {"loss": np.array([1.0])}, "layers": (), "loss": loss}
        o = SimpleNamespace(ok=True, status="ok", error=None, value=value)
        checks = q.extra_check(A, q, {"build_forecaster/train": o})
        assert all(c.passed for c in checks) is ok, (loss, [(c.label, c.passed) for c in checks])
