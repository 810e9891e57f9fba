"""The fixtures discriminate: every catalogued mistake of every numpy assignment
keeps at most half of its question, graded through the sandbox by `deepgrade validate`
(validate.check_mistakes_graded; the few exceptions, wrong only on unusual inputs, say why in
their mistakes.toml entry: keeps_more_than_half = "..."), and the in-process scorer that
benchmarks use measures the same share. The independently written wrong implementations of
tests/support/wrong_implementations.py are graded in this process with the grader's own scorer
(score.grade_question) and must keep at most half of their question and be named by their
catalogue entry. (That each mistake is named, loses points and shows on a public case:
test_every_assignment.py, through the same validate.)"""

from __future__ import annotations

import pytest
from inprocess import grade, share
from wrong_implementations import CORPUS, MUTATES_INPUTS

from deepgrade.authoring.validate import LIMIT, exceptions
from deepgrade.course import assignment as asg
from helpers import ROOT, numpy_assignments

NUMPY = numpy_assignments(ROOT)  # every assignment graded by calling its functions
A = {name: asg.load(name, ROOT) for name in NUMPY}
MISTAKES = [(name, mid) for name in NUMPY for mid in sorted(A[name].mistakes)]


def _exceptions(name: str) -> dict[str, str]:
    """Mistake id -> why it may keep more than half (mistakes.toml, as validate reads it)."""
    from deepgrade.authoring.validate import Context, read_catalogue

    ctx = Context(name, ROOT)
    assert not read_catalogue(ctx)
    return exceptions(ctx)


EXCEPTIONS = {(name, mid) for name in NUMPY for mid in _exceptions(name)}


def test_exceptions_are_real_mistakes_with_a_reason():
    assert EXCEPTIONS  # cnn's softmax_overflow, rnn's backward_no_dx, ...: read from the data
    for name, mid in EXCEPTIONS:
        assert mid in A[name].mistakes, (name, mid)
        assert len(_exceptions(name)[mid].split()) >= 5, (name, mid)  # a reason, not a word


@pytest.mark.parametrize(("name", "mid"), MISTAKES)
def test_mistake_keeps_at_most_half_of_its_question(name, mid, validated):
    report = validated(name)
    assert not [str(p) for p in report.of("mistakes_share") if f"[{mid}]" in p.key]
    kept = report.context.stats["shares"][mid]
    assert kept < 1.0
    if (name, mid) not in EXCEPTIONS:
        assert kept <= LIMIT, f"{mid} keeps {kept:.1%} of its question"


@pytest.mark.parametrize(("name", "mid"), MISTAKES)
def test_the_sandbox_and_the_in_process_scorer_agree(name, mid, validated):
    """The share validate measured through the sandbox is the in-process scorer's (which
    benchmarks/fixture_shares.py and the corpus tests below use)."""
    a = A[name]
    m = a.mistakes[mid]
    kept = share(a, a.question(m.function), {m.function: a.mutants[mid]})
    assert kept == pytest.approx(validated(name).context.stats["shares"][mid], abs=1e-9)


@pytest.mark.parametrize(("name", "function", "mid", "impl"), CORPUS, ids=[c[3].__name__ for c in CORPUS])
def test_independent_wrong_implementation_is_named_and_keeps_at_most_half(name, function, mid, impl):
    a = A[name]
    q = a.question(function)
    result = grade(a, q, {function: impl})
    assert mid in {d for c in result.checks for d in c.diagnosis}, impl.__name__
    assert result.points / q.points <= LIMIT, f"{impl.__name__} keeps {result.points / q.points:.1%}"


@pytest.mark.parametrize(("name", "function", "impl"), MUTATES_INPUTS, ids=[c[2].__name__ for c in MUTATES_INPUTS])
def test_modifying_the_inputs_is_caught(name, function, impl):
    a = A[name]
    q = a.question(function)
    result = grade(a, q, {function: impl})
    failed = [c for c in result.checks if not c.passed]
    assert failed and all(c.label.endswith("does not modify its inputs") for c in failed)
    assert "changed in place" in failed[0].details[0]
    assert result.points < q.points


# The reference keeping every point, in this process and through the sandbox, and the notebook
# rebuilt by its builder: test_every_assignment.py.
