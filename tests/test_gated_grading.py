"""Grading the `gated` assignment end to end: reference, untouched notebook, every catalogued mistake."""

from __future__ import annotations

import copy
import csv
import inspect
import tomllib

import nbformat
import numpy as np
import pytest

from deepgrade import assignment as asg
from deepgrade.portable import compare
from helpers import ROOT, diagnoses, filled_notebook, grade_notebook, mutant_notebook, question

MISTAKES = tomllib.loads((ROOT / "assignments" / "gated" / "mistakes.toml").read_text())


@pytest.fixture(scope="module")
def gated():
    return asg.load("gated", ROOT)


def test_reference_gets_full_marks(tmp_path, gated):
    result = grade_notebook("gated", filled_notebook("gated"), tmp_path)
    assert result.points == result.max_points == gated.max_points
    for q in result.questions:
        assert all(c.passed for c in q.checks if c.weight > 0), q.name


def test_untouched_notebook_gets_zero(tmp_path, gated):
    nb = nbformat.read(gated.notebook, as_version=4)
    result = grade_notebook("gated", nb, tmp_path)
    assert result.status == "graded"
    assert result.points == 0
    lstm = question(result, "lstm_step")
    assert any("NotImplementedError" in " ".join(c.details) for c in lstm.checks)


def test_catalogue_and_mutants_agree(gated):
    from solutions import gated_mistakes

    assert set(gated_mistakes.MUTANTS) == set(MISTAKES)
    questions = {q.name for q in gated.questions}
    for mid, m in MISTAKES.items():
        assert m["function"] in questions, mid
        assert m["title"] and m["explanation"].strip(), mid
        ref_fn = getattr(gated.reference, m["function"])
        mut_fn = gated_mistakes.MUTANTS[mid]
        assert list(inspect.signature(mut_fn).parameters) == list(inspect.signature(ref_fn).parameters), mid


def _differs(gated, mid, public_only=False) -> bool:
    fn = MISTAKES[mid]["function"]
    mutant = gated.mutants[mid]
    differs = False
    for case in gated.question(fn).cases:
        if public_only and case.hidden:
            continue
        try:
            expected = gated.expected(case, fn)
        except Exception as exc:
            # the reference raises (out-of-range ids): the mutant must not raise the same
            if case.expect_error and isinstance(exc, case.expect_error):
                try:
                    mutant(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))
                    differs = True
                except case.expect_error:
                    pass
            continue
        got = mutant(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))
        e, g = compare.parts(expected, case.outputs), compare.parts(got, case.outputs)
        if any(not compare.same_output(g[k], e[k], case.rtol, case.atol) for k in e):
            differs = True
    return differs


@pytest.mark.parametrize("mid", sorted(MISTAKES))
def test_mutant_differs_from_reference_on_some_case(gated, mid):
    assert _differs(gated, mid)


@pytest.mark.parametrize("mid", sorted(MISTAKES))
def test_public_checks_catch_every_mistake(gated, mid):
    """grader.check in the notebook runs public cases only: each mistake shows there too."""
    assert _differs(gated, mid, public_only=True)


@pytest.mark.parametrize("mid", sorted(MISTAKES))
def test_each_mistake_loses_points_with_its_diagnosis(tmp_path, gated, mid):
    fn = MISTAKES[mid]["function"]
    result = grade_notebook("gated", mutant_notebook("gated", mid), tmp_path)
    q = question(result, fn)
    assert q.points < q.max_points, f"{mid} earns full marks on {fn}"
    assert mid in diagnoses(q), f"{mid} not diagnosed on {fn}: {diagnoses(q)}"
    # and no other mistake is named: the evidence matches this one only
    assert diagnoses(q) == {mid}
    # the explanation students read is shown on a failed check
    text = " ".join(d for c in q.checks if not c.passed for d in c.details)
    assert MISTAKES[mid]["explanation"].strip()[:40] in text
    # the other questions are untouched, except those that call the mutated function
    callers = {"lstm_step": {"lstm_forward", "bidirectional_forward"}, "lstm_forward": {"bidirectional_forward"}}
    callers |= {"gru_forward": {"bidirectional_forward"}}
    for other in result.questions:
        if other.name != fn and other.name not in callers.get(fn, set()):
            assert other.points == other.max_points, (mid, other.name)


def _failed_labels(q):
    return [c.label for c in q.checks if not c.passed and c.weight > 0]


def test_gate_by_gate_feedback_names_the_wrong_gate(tmp_path):
    # forget and input gates swapped: only f and i fail; the candidate and output gate pass
    result = grade_notebook("gated", mutant_notebook("gated", "lstm_forget_input_swapped"), tmp_path)
    failed = _failed_labels(question(result, "lstm_step"))
    assert any(label.startswith("forget gate f on ") for label in failed)
    assert any(label.startswith("input gate i on ") for label in failed)
    assert not any(label.startswith(("candidate c_tilde", "output gate o")) for label in failed)


def test_gate_by_gate_feedback_gru_reset_after(tmp_path):
    # reset after the product: z and r are right, only the candidate (and so h_t) is wrong
    result = grade_notebook("gated", mutant_notebook("gated", "gru_reset_after"), tmp_path)
    q = question(result, "gru_step")
    failed = _failed_labels(q)
    assert any(label.startswith("candidate h_tilde on ") for label in failed)
    assert not any(label.startswith(("update gate z", "reset gate r")) for label in failed)
    cand = next(c for c in q.checks if c.label.startswith("candidate h_tilde on ") and not c.passed)
    assert "gru_reset_after" in cand.diagnosis


def test_keras_update_convention_diagnosed_on_h_t_only(tmp_path):
    result = grade_notebook("gated", mutant_notebook("gated", "gru_keras_update"), tmp_path)
    q = question(result, "gru_step")
    failed = _failed_labels(q)
    assert failed and all(label.startswith("h_t on ") for label in failed)


def test_hidden_checks_show_no_expected_values(tmp_path):
    result = grade_notebook("gated", mutant_notebook("gated", "lstm_no_tanh_on_output"), tmp_path)
    q = question(result, "lstm_step")
    for c in q.checks:
        if c.hidden and not c.passed:
            assert not any("expected" in d and "got" in d for d in c.details)


def test_wrong_gates_dict_reported_as_missing_not_crash(tmp_path):
    src = inspect.getsource(asg.load("gated", ROOT).reference.lstm_step)
    src = src.replace('return h_t, c_t, {"f": f, "i": i, "c_tilde": c_tilde, "o": o}', "return h_t, c_t, {}")
    result = grade_notebook("gated", filled_notebook("gated", {"lstm_step": src}), tmp_path)
    q = question(result, "lstm_step")
    assert 0 < q.points < q.max_points
    assert any("key 'f' is missing" in " ".join(c.details) for c in q.checks)


def test_parts_flattens_a_dict_inside_a_tuple():
    value = (np.zeros(2), {"f": np.ones(2), "i": np.ones(2)})
    out = compare.parts(value, ["h", {"f": "forget gate f", "i": "input gate i"}])
    assert list(out) == ["h", "forget gate f", "input gate i"]
    missing = compare.parts(np.zeros(2), ["h", {"f": "forget gate f"}])
    assert isinstance(missing["forget gate f"], compare._Missing)


def test_cli_grade_writes_gradebook(tmp_path, monkeypatch):
    from deepgrade import cli

    monkeypatch.chdir(ROOT)
    subs = tmp_path / "subs"
    subs.mkdir()
    nbformat.write(filled_notebook("gated"), subs / "ref.ipynb")
    nbformat.write(mutant_notebook("gated", "gru_keras_update"), subs / "keras_z.ipynb")
    out = tmp_path / "out"
    assert cli.main(["grade", "gated", str(subs), "--out", str(out)]) == 0
    with open(out / "final_grades.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[:7] == ["file", "lstm_step", "lstm_forward", "gru_step", "gru_forward",
                                 "bidirectional_forward", "embedding_lookup"]  # fmt: skip
    by_file = {r["file"].rsplit("/", 1)[-1]: r for r in rows[1:]}
    assert by_file["ref.ipynb"]["total_points_earned"] == "18"  # the points in assignments/gated/assignment.toml
    assert float(by_file["keras_z.ipynb"]["gru_step"]) < 4
