"""Grading the keras assignment end to end in the sandbox: full marks twice with the same
score, zero for the untouched notebook, and every negative control losing its points with
a reason (mistakes of different functions share one notebook to save sandbox runs)."""

from __future__ import annotations

import base64
import re

import nbformat
import pytest

from deepgrade.course import assignment as asg
from deepgrade.grading import notebook, pipeline
from helpers import ONLY_THE_COPY, ROOT, filled_notebook, grade_notebook, keras_module, question

NAME = "keras"
A = asg.load(NAME, ROOT)

# each round: at most one mistake per function, graded together in one sandbox run
ROUNDS = [
    [
        "digits_no_convolution",
        "transfer_unfrozen",
        "stacked_wrong_dropout",
        "order_bag_of_words",
        "forecaster_mean",
        "temperature_power",
        "datasets_augment_validation",
        "stock_no_return_sequences",
        "generate_argmax",
        "cats_softmax_one_unit",
    ],
    [
        "stacked_no_return_sequences",
        "temperature_ignored",
        "stock_sigmoid_output",
        "generate_seed_not_slid",
        "cats_no_convolution",
    ],
    [  # wrong submissions once graded without a name
        "inverse_swaps_min_max",
        "stock_dense_only",
        "generate_last_char_only",
        "augment_vertical_flip",
        "char_no_context",
        "transfer_base_dropped",
        "cats_no_sigmoid",
    ],
]


def failing(q) -> list:
    return [(c.label, c.details) for c in q.checks if not c.passed]


@pytest.fixture(scope="module")
def reference_results(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keras_grading")
    nb = filled_notebook(NAME)
    return [grade_notebook(NAME, nb, folder, f"reference{i}.ipynb") for i in range(2)]


@pytest.mark.slow
def test_reference_notebook_gets_full_marks(reference_results):
    r = reference_results[0]
    assert r.status == "graded" and r.max_points == sum(q.points for q in A.questions) == 32
    assert r.points == r.max_points, {q.name: failing(q) for q in r.questions if q.points < q.max_points}


@pytest.mark.slow
def test_reference_is_graded_identically_twice(reference_results):
    a, b = (r.to_dict() for r in reference_results)
    assert a["points"] == b["points"]
    assert a["questions"] == b["questions"]


@pytest.mark.slow
def test_feedback_has_learning_curves(reference_results):
    r = reference_results[0]
    for name in (
        "build_stock_lstm",
        "build_digit_cnn",
        "build_transfer_model",
        "build_order_classifier",
        "build_forecaster",
        "build_char_model",
        "build_cats_dogs_cnn",
    ):
        pictures = [a for c in question(r, name).checks for a in c.attachments]
        assert pictures, name
        assert pictures[0]["media_type"] == "image/png" and name in pictures[0]["title"]
        assert base64.b64decode(pictures[0]["data"])[:8] == b"\x89PNG\r\n\x1a\n"


def test_untouched_notebook_gets_zero(tmp_path):
    r = grade_notebook(NAME, nbformat.read(A.notebook, as_version=4), tmp_path)
    assert r.status == "graded"
    assert r.points == 0
    for q in r.questions:
        assert q.checks and any(
            "NotImplementedError" in " ".join(c.details) or "no function" in " ".join(c.details) for c in q.checks
        ), q.name


@pytest.mark.slow
@pytest.mark.parametrize("mistakes", ROUNDS, ids=["round1", "round2", "round3"])
def test_negative_controls_lose_their_points_with_a_reason(mistakes):
    functions = {A.mistakes[m].function: A.mutants[m] for m in mistakes}
    assert len(functions) == len(mistakes)
    nb = filled_notebook(NAME, functions)
    results, _ = pipeline.grade_cells(A, notebook.code_cells(nb), questions=list(functions))
    by_name = {q.name: q for q in results}
    for mid in mistakes:
        q = by_name[A.mistakes[mid].function]
        assert q.points < q.max_points, (mid, q.points)
        bad = [c for c in q.checks if not c.passed]
        assert any(mid in c.diagnosis for c in bad), (mid, failing(q))
        explanation = A.mistakes[mid].explanation
        assert any(explanation in c.details for c in bad), (mid, failing(q))


def test_thresholds_are_stated_in_the_notebook():
    nb = nbformat.read(A.notebook, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    b = keras_module("check.budgets").budgets()
    assert f"{b.digits['epochs']} epochs" in text and f">= {b.digits_min_accuracy:.1%}" in text
    assert f">= {b.transfer_min_accuracy:.1%}" in text and f">= {b.order_min_accuracy:.1%}" in text
    assert f"MSE <= {b.forecast_max_ratio} x" in text
    assert f"{b.stock['epochs']} epochs (batch {b.stock['batch']}" in text
    assert f"at most {b.stock_max_vs_mean} x" in text and f"at most {b.stock_max_vs_persistence} x" in text
    assert re.search(r"image_dataset_from_directory", text) and "VGG16(weights=None" in text
    assert f"{b.cats_dogs['epochs']} epochs" in text and f">= {b.cats_dogs_min_accuracy:.1%}" in text


@pytest.mark.slow
def test_learning_curves_are_written_next_to_the_reports(reference_results, tmp_path):
    import copy

    from deepgrade.reports import report

    r = copy.deepcopy(reference_results[0])
    report.write_submission_reports(r, tmp_path, "alice")
    pngs = sorted(p.name for p in tmp_path.glob("alice-*.png"))
    # learning curves of 7 trained models, and GOOG's predicted price
    assert pngs == [f"alice-{i}.png" for i in range(1, 9)], pngs
    text = (tmp_path / "alice.txt").read_text()
    assert all(f"({name})" in text for name in pngs)
    assert (tmp_path / "alice.html").read_text().count("data:image/png;base64,") == 8


STUDENT_SCRIPT = (
    ONLY_THE_COPY
    + r"""
sys.path.append(sys.argv[2])
import solutions.keras as ref
import solutions.keras_mistakes as bad
from _deepgrade_check import check
from deepgrade.portable.student_runner import run_question as run_public


def run_question(name, functions):
    return run_public(name, functions, __import__("pathlib").Path(COPY) / "public.json")


points, most, checks = run_question("build_order_classifier", {"build_order_classifier": ref.build_order_classifier})
assert points == most, [(c.label, c.details) for c in checks]
points, most, checks = run_question("build_order_classifier", {"build_order_classifier": bad.order_bag_of_words})
assert points < most and any("order_bag_of_words" in c.diagnosis for c in checks), [(c.label, c.details) for c in checks]
try:
    check("build_order_classifier", {"build_order_classifier": bad.order_bag_of_words})
except AssertionError as exc:
    assert "Both classes contain exactly the same words" in str(exc) and "trained in your kernel" in str(exc), str(exc)
else:
    raise SystemExit("the bag-of-words model passed grader.check")
# exercise 3 with no build_augmentation given: the grader's own augmentation, said in the feedback
points, most, checks = run_question("build_cats_dogs_cnn", {"build_cats_dogs_cnn": ref.build_cats_dogs_cnn})
assert points == most, [(c.label, c.details) for c in checks]
assert any("the grader's (flip, rotation, translation)" in d for c in checks for d in c.details)
points, most, checks = run_question("build_cats_dogs_cnn", {"build_cats_dogs_cnn": bad.cats_no_convolution})
assert points < most and any("cats_no_convolution" in c.diagnosis for c in checks), [(c.label, c.details) for c in checks]
points, most, checks = run_question("build_stock_lstm", {"build_stock_lstm": ref.build_stock_lstm})
assert points == most, [(c.label, c.details) for c in checks]
assert any(a["media_type"] == "image/png" for c in checks for a in c.attachments)  # the price plot
for name in ("generate", "make_windows", "split_chronological"):
    points, most, checks = run_question(name, {name: getattr(ref, name)})
    assert points == most, (name, [(c.label, c.details) for c in checks])
points, most, checks = run_question("generate", {"generate": bad.generate_argmax})
assert points == 0 and all("generate_argmax" in c.diagnosis for c in checks), [(c.label, c.diagnosis) for c in checks]
print("STUDENT CHECK OK")
"""
)


@pytest.mark.slow
def test_grader_check_trains_in_the_student_copy(tmp_path):
    import subprocess
    import sys

    from deepgrade.publish.student import make_student_copy

    out = make_student_copy(A, tmp_path / NAME)
    assert (out / "_deepgrade_check" / "fixtures.py").is_file()
    assert (out / "_deepgrade_check" / "data" / "digits_base.npz").is_file()
    assert (out / "_deepgrade_check" / "data" / "goog.npz").is_file()
    assert (out / "_deepgrade_check" / "data" / "generate_public.json").is_file()
    assert not list(out.rglob("keras.py")) and not list(out.rglob("*mistakes.py"))
    proc = subprocess.run(
        [sys.executable, "-c", STUDENT_SCRIPT, str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=out,
    )
    assert "STUDENT CHECK OK" in proc.stdout, proc.stdout[-2000:] + proc.stderr[-3000:]
