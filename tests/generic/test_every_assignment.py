"""The checks every numpy assignment passes, written once, in `deepgrade validate`
(graders/deepgrade/authoring/validate.py), and asserted here check by check.

Parametrised over every assignment found under assignments/ that is graded by calling its
functions (helpers.numpy_assignments: not one whose cases train models in a harness; those
are graded by their own tests), and over an exercise `deepgrade new` has just written into
an empty course folder, with no test written for it by hand:

- every question has a reference and cases, and the reference takes every case;
- the notebook filled with the reference earns full marks and the untouched one (the stubs)
  zero without crashing, both through the sandbox (the real path);
- the catalogue (mistakes.toml), the mutants (solutions/<name>_mistakes.py) and the questions
  agree; every mutant differs from the reference on a public case; every mistake loses points
  in the graded notebook, is named there with its explanation, and leaves the questions that
  do not use the mutated function whole (its share of its question: test_catalogue.py);
- no hidden check shows an expected value;
- the committed notebook is what its builder (make_notebook.py, else the reference) writes,
  with stable cell ids.

That each check finds what it looks for is proven on broken course folders in
test_validate.py. What is particular to one assignment (the lecture's numbers, rnn's
consistency credit, gated's gate-by-gate feedback, ...) stays in test_<name>_grading.py.
"""

from __future__ import annotations

import tomllib

import nbformat
import pytest
from inprocess import share

from deepgrade.authoring.authoring import built_text
from deepgrade.authoring.validate import validate
from deepgrade.cli import main
from deepgrade.course import assignment as asg
from helpers import NEW_EXERCISE, ROOT, numpy_assignments

NEW = NEW_EXERCISE  # the exercise `deepgrade new` writes (conftest.new_course)
NUMPY = numpy_assignments(ROOT)
EVERY = [*NUMPY, NEW]


def _load_here(name: str) -> asg.Assignment:
    return asg.load(name, ROOT)


MISTAKES = [(name, mid) for name in NUMPY for mid in sorted(_load_here(name).mistakes)]


def _lines(problems) -> list[str]:
    return [str(p) for p in problems]


@pytest.mark.parametrize("name", EVERY)
def test_validate_passes_with_its_summary_line(name, validated):
    """`deepgrade validate NAME` finds nothing (each check is asserted alone below)."""
    report = validated(name)
    assert report.ok, _lines(report.problems)
    assert report.summary.startswith(f"{name}: ") and ": all checks pass (" in report.summary
    assert not report.notes  # nothing skipped: a numpy assignment runs every check


@pytest.mark.parametrize("name", EVERY)
def test_every_question_has_a_reference_that_takes_every_case(name, validated):
    report = validated(name)
    assert not _lines(report.of("load") + report.of("references") + report.of("fixtures"))
    assert report.context.assignment.questions


@pytest.mark.parametrize("name", EVERY)
def test_reference_notebook_gets_full_marks_and_the_stubs_zero(name, validated):
    report = validated(name)
    assert not _lines(report.of("sandbox"))
    ctx = report.context
    ref, stub = ctx.reference_result(), ctx.stub_result()  # graded by the check, kept
    a = ctx.assignment
    assert ref.points == ref.max_points == a.max_points > 0
    assert stub.points == 0 and stub.status == "graded"


@pytest.mark.parametrize("name", EVERY)
def test_reference_keeps_everything_in_process(name, validated):
    """The in-process scorer (tests/support/inprocess.py, which the catalogue tests use) agrees."""
    a = validated(name).context.assignment
    for q in a.questions:
        assert share(a, q, {}) == 1.0, q.name


@pytest.mark.parametrize("name", EVERY)
def test_catalogue_ids_match_mutants_and_questions(name, validated):
    report = validated(name)
    assert not _lines(report.of("catalogue"))
    a = report.context.assignment
    assert set(a.mistakes) == set(a.mutants)


@pytest.mark.parametrize(("name", "mid"), MISTAKES)
def test_each_mutant_differs_from_reference_on_a_public_case(name, mid, validated):
    assert not [p for p in _lines(validated(name).of("mistakes_show")) if f"[{mid}]" in p]


@pytest.mark.parametrize(("name", "mid"), MISTAKES)
def test_each_mistake_loses_points_and_is_named_in_the_graded_notebook(name, mid, validated):
    report = validated(name)
    assert not [p for p in _lines(report.of("mistakes_graded")) if f"[{mid}]" in p]
    assert report.context.stats["shares"][mid] < 1.0


@pytest.mark.parametrize("name", EVERY)
def test_hidden_checks_never_show_expected_values(name, validated):
    report = validated(name)
    assert not _lines(report.of("hidden"))
    stats = report.context.stats
    assert stats["hidden_secrets"] > 0  # there were expected values to look for
    # the scan looked at failing hidden checks, not only passing ones: the stub fails them all
    assert stats["hidden_failed"] >= stats["hidden_stub_checks"] > 0


@pytest.mark.parametrize("name", EVERY)
def test_committed_notebook_is_what_its_builder_writes(name, validated, new_course):
    """The notebook says what its builder says (rebuild it after changing either), byte for byte,
    through authoring.new_notebook: stable cell ids, not nbformat's random ones."""
    assert not _lines(validated(name).of("notebook"))
    root = new_course if name == NEW else ROOT
    ids = [c.id for c in nbformat.reads(built_text(name, root), as_version=4).cells]
    assert ids == [f"{name}-{i:02d}" for i in range(len(ids))]
    if name == NEW:  # a scratch course: rebuild it as the instructor does, with the verb
        folder = new_course / "assignments" / name
        committed = folder / tomllib.loads((folder / "assignment.toml").read_text()).get("notebook", f"{name}.ipynb")
        written = committed.read_bytes()
        assert main(["--course", str(new_course), "notebook", name]) == 0
        assert committed.read_bytes() == written


def test_keras_notebook_is_what_make_notebook_builds():
    """The trained assignment's notebook too (validate's notebook check alone: no training)."""
    report = validate("keras", ROOT, only={"notebook"})
    assert report.context.assignment is not None and not _lines(report.problems)


def test_the_discovery_finds_the_numpy_assignments_and_leaves_out_trained_ones():
    assert {"cnn", "rnn", "gated"} <= set(NUMPY)
    for name in asg.available(ROOT):
        if name not in NUMPY:
            a = _load_here(name)
            assert any(c.harness for q in a.questions for c in q.cases), name
